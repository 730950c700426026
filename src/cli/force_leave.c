/* force_leave.c — `tribune force-leave NODE`: tells the agent to mark a failed member as left
 * (PUT /v1/agent/force-leave/<node>), so it is reaped instead of waiting to be reaped. */
#include "cli/cli.h"

#include <string.h>

#include "cli/remote.h"

static const char usage[] =
    "Usage: tribune force-leave [options] name\n\n"
    "  Forces a member of a Tribune cluster to enter the \"left\" state. Note\n"
    "  that if the member is still actually alive, it will eventually rejoin\n"
    "  the cluster. This command is most useful for cleaning out \"failed\" nodes\n"
    "  that are never coming back. If you do not force leave a failed node,\n"
    "  Tribune will attempt to reconnect to those failed nodes for some period of\n"
    "  time before eventually reaping them.\n\n"
    "Options:\n\n" CLI_REMOTE_ADDR_USAGE;

static const struct flags_spec specs[] = {CLI_REMOTE_ADDR_FLAG};
#define NSPECS (sizeof specs / sizeof specs[0])

int cli_force_leave(int argc, char **argv)
{
    struct flags_value fv[NSPECS];
    int rest = 0;
    int rc = cli_remote_flags(usage, specs, NSPECS, argc, argv, fv, &rest, 1);
    if (rc >= 0) {
        flags_free(fv, NSPECS);
        return rc;
    }
    if (rest >= argc || argv[rest][0] == '\0') {
        fprintf(stderr, "A node name must be specified to force leave.\n\n%s", usage);
        flags_free(fv, NSPECS);
        return 1;
    }
    char target[1024] = "/v1/agent/force-leave/";
    size_t pre = strlen(target);
    if (cli_remote_escape(argv[rest], target + pre, sizeof target - pre) != 0) {
        fprintf(stderr, "Error force leaving: node name too long\n");
        flags_free(fv, NSPECS);
        return 1;
    }
    struct http_client_resp resp;
    char text[512];
    rc = cli_remote_do(cli_remote_addr(fv[0].last), "PUT", target, &resp, text, sizeof text);
    http_client_resp_free(&resp);
    flags_free(fv, NSPECS);
    if (rc == CLI_REMOTE_UNREACH)
        return 1;
    if (rc == CLI_REMOTE_STATUS) {
        fprintf(stderr, "Error force leaving: %s\n", text);
        return 1;
    }
    return 0;
}
