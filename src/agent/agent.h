/* agent.h — the agent's lifecycle: take the data directory, print the banner, run the reactor
 * until a signal, shut down as Consul does. Later issues grow the servers it starts. */
#ifndef TRIBUNE_AGENT_AGENT_H
#define TRIBUNE_AGENT_AGENT_H

#include "agent/config.h"
#include "base/log.h"

/* Runs until SIGINT or SIGTERM. Output (banner, "==> ..." notices, log lines) goes to stdout,
 * errors as "==> <message>" to stderr. SIGHUP re-resolves the configuration from cfg->argv and
 * applies the new log level to lg. Returns the process exit code: 0 after a graceful leave
 * (SIGINT, or SIGTERM with leave_on_terminate), 1 otherwise or on a startup error. */
int agent_run(const struct agent_config *cfg, struct logger *lg);

#endif
