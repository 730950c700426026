/* leave.c — `tribune leave`: asks the agent to leave the cluster gracefully and shut down
 * (PUT /v1/agent/leave). */
#include "cli/cli.h"

#include "cli/remote.h"

static const char usage[] =
    "Usage: tribune leave [options]\n\n"
    "  Causes the agent to gracefully leave the cluster and shutdown.\n\n"
    "Options:\n\n" CLI_REMOTE_ADDR_USAGE;

int cli_leave(int argc, char **argv)
{
    return cli_remote_put_simple(usage, argc, argv, "/v1/agent/leave", "Error leaving",
                                 "Graceful leave complete");
}
