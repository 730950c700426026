/* reload.c — `tribune reload`: makes the agent reload its configuration, as SIGHUP does
 * (PUT /v1/agent/reload). */
#include "cli/cli.h"

#include "cli/remote.h"

static const char usage[] =
    "Usage: tribune reload [options]\n\n"
    "  Causes the agent to reload configurations. This can be used instead\n"
    "  of sending the SIGHUP signal to the agent.\n\n"
    "Options:\n\n" CLI_REMOTE_ADDR_USAGE;

int cli_reload(int argc, char **argv)
{
    return cli_remote_put_simple(usage, argc, argv, "/v1/agent/reload", "Error reloading",
                                 "Configuration reload triggered");
}
