/* agent.c (cli) — `tribune agent`: resolves the configuration from flags, files and the host,
 * reports Consul's errors and warnings as "==> ..." lines, then hands over to agent_run. */
#include "cli/cli.h"

#include <unistd.h>

#include "agent/agent.h"
#include "agent/config.h"

int cli_agent(int argc, char **argv)
{
    struct agent_host host;
    char err[1024];
    if (agent_host_probe(&host, err, sizeof err) != 0) {
        fprintf(stderr, "==> %s\n", err);
        return 1;
    }
    struct agent_config cfg;
    int rc = agent_config_load(argc, argv, &host, &cfg, err, sizeof err);
    agent_host_free(&host);
    switch (rc) {
    case AGENT_CONFIG_HELP:
        agent_config_usage(stdout);
        agent_config_free(&cfg);
        return 0;
    case AGENT_CONFIG_USAGE:
        fprintf(stderr, "%s\n\n", err);
        agent_config_usage(stderr);
        agent_config_free(&cfg);
        return 1;
    case AGENT_CONFIG_ERR:
        fprintf(stderr, "==> %s\n", err);
        agent_config_free(&cfg);
        return 1;
    default:
        break;
    }
    printf("==> Starting tribune agent...\n");
    fflush(stdout);
    for (size_t i = 0; i < cfg.warnings.n; i++)
        fprintf(stderr, "==> %s\n", cfg.warnings.v[i]);
    struct logger lg;
    log_init(&lg, STDOUT_FILENO, cfg.log_level);
    rc = agent_run(&cfg, &lg);
    agent_config_free(&cfg);
    return rc;
}
