/* leave.c — `tribune leave`: asks the agent to leave the cluster gracefully and shut down
 * (PUT /v1/agent/leave). */
#include "cli/cli.h"

#include "cli/remote.h"

static const char usage[] =
    "Usage: tribune leave [options]\n\n"
    "  Causes the agent to gracefully leave the cluster and shutdown.\n\n"
    "Options:\n\n" CLI_REMOTE_ADDR_USAGE;

static const struct flags_spec specs[] = {CLI_REMOTE_ADDR_FLAG};
#define NSPECS (sizeof specs / sizeof specs[0])

int cli_leave(int argc, char **argv)
{
    struct flags_value fv[NSPECS];
    int rest = 0;
    int rc = cli_remote_flags(usage, specs, NSPECS, argc, argv, fv, &rest, 0);
    if (rc >= 0) {
        flags_free(fv, NSPECS);
        return rc;
    }
    struct http_client_resp resp;
    char text[512];
    rc = cli_remote_do(cli_remote_addr(fv[0].last), "PUT", "/v1/agent/leave", &resp, text,
                       sizeof text);
    http_client_resp_free(&resp);
    flags_free(fv, NSPECS);
    if (rc == CLI_REMOTE_UNREACH)
        return 1;
    if (rc == CLI_REMOTE_STATUS) {
        fprintf(stderr, "Error leaving: %s\n", text);
        return 1;
    }
    puts("Graceful leave complete");
    return 0;
}
