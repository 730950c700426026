/* agent.c — the agent lifecycle: data dir and pid file, banner, signal handling through the
 * reactor, graceful or abrupt exit with Consul's exit codes, configuration reload on SIGHUP. */
#include "agent/agent.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/datadir.h"
#include "loop/loop.h"

struct agent {
    const struct agent_config *cfg;
    struct logger *lg;
    struct loop *loop;
    int exit_code;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("==> ", stdout);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout); /* log lines go straight to fd 1: keep the order they were produced in */
}

static void shout(const char *msg)
{
    fprintf(stderr, "==> %s\n", msg);
}

static void banner(const struct agent_config *c)
{
    printf("==> Tribune agent running!\n"
           "       Node name: '%s'\n"
           "      Datacenter: '%s'\n"
           "          Server: %s (bootstrap: %s)\n"
           "     Client Addr: %s (HTTP: %d, DNS: %d)\n"
           "    Cluster Addr: %s (LAN: %d, Server: %d)\n"
           "\n"
           "==> Log data will now stream in as it occurs:\n\n",
           c->node_name, c->datacenter, c->server ? "true" : "false",
           c->bootstrap ? "true" : "false", c->client_addr, c->ports.http, c->ports.dns,
           c->advertise_addr, c->ports.serf_lan, c->ports.server);
    fflush(stdout);
}

/* Consul re-reads its configuration on SIGHUP; what this stage can apply live is the log level.
 * A configuration that no longer validates is reported and the running one kept. */
static void reload(struct agent *a)
{
    say("Reloading configuration...");
    struct agent_host host;
    char err[512];
    if (agent_host_probe(&host, err, sizeof err) != 0) {
        log_printf(a->lg, LOG_ERR, "agent", "reload failed: %s", err);
        return;
    }
    struct agent_config fresh;
    int rc = agent_config_load((int)a->cfg->argv.n, a->cfg->argv.v, &host, &fresh, err, sizeof err);
    if (rc == AGENT_CONFIG_OK) {
        a->lg->level = fresh.log_level;
        log_printf(a->lg, LOG_INFO, "agent", "log level is now %s", log_level_name(fresh.log_level));
    } else {
        char msg[600];
        snprintf(msg, sizeof msg, "Failed to reload configs: %s", err);
        shout(msg);
    }
    agent_config_free(&fresh);
    agent_host_free(&host);
}

static void on_signal(struct loop *l, int signo, void *ctx)
{
    struct agent *a = ctx;
    const char *name = signo == SIGINT ? "interrupt" : signo == SIGTERM ? "terminated" : "hangup";
    say("Caught signal: %s", name);
    if (signo == SIGHUP) {
        reload(a);
        return;
    }
    bool graceful = (signo == SIGINT && !a->cfg->skip_leave_on_interrupt) ||
                    (signo == SIGTERM && a->cfg->leave_on_terminate);
    if (graceful) {
        /* Nothing to leave yet: the gossip and Raft leave steps hook in here. */
        say("Gracefully shutting down agent...");
        a->exit_code = 0;
    } else {
        a->exit_code = 1;
    }
    log_printf(a->lg, LOG_INFO, "agent", "requesting shutdown");
    loop_stop(l);
}

static int serve(struct agent *a)
{
    char err[256];
    a->loop = loop_create(a->lg, err, sizeof err);
    if (a->loop == NULL) {
        char msg[320];
        snprintf(msg, sizeof msg, "Error starting agent: %s", err);
        shout(msg);
        return 1;
    }
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        if (loop_signal_on(a->loop, sigs[i], on_signal, a, err, sizeof err) != 0) {
            char msg[320];
            snprintf(msg, sizeof msg, "Error starting agent: %s", err);
            shout(msg);
            loop_destroy(a->loop);
            return 1;
        }
    }
    banner(a->cfg);
    a->exit_code = 1; /* a loop that ends without a signal is a failure */
    if (loop_run(a->loop) != 0)
        a->exit_code = 1;
    loop_destroy(a->loop);
    log_printf(a->lg, LOG_INFO, "agent", "shutdown complete");
    return a->exit_code;
}

int agent_run(const struct agent_config *cfg, struct logger *lg)
{
    struct agent a = {.cfg = cfg, .lg = lg};
    char err[AGENT_PATH_MAX + 128];
    struct agent_datadir dd;
    if (agent_datadir_open(&dd, cfg->data_dir, err, sizeof err) != 0) {
        char msg[sizeof err + 32];
        snprintf(msg, sizeof msg, "Error starting agent: %s", err);
        shout(msg);
        return 1;
    }
    if (dd.temporary)
        log_printf(lg, LOG_INFO, "agent", "dev mode: using temporary data directory %s", dd.path);
    if (cfg->pid_file[0] != '\0' && agent_pidfile_write(cfg->pid_file, err, sizeof err) != 0) {
        shout(err);
        agent_datadir_close(&dd);
        return 1;
    }
    int rc = serve(&a);
    if (cfg->pid_file[0] != '\0')
        unlink(cfg->pid_file);
    agent_datadir_close(&dd);
    return rc;
}
