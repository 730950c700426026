/* reload.c — `tribune reload`: makes the agent reload its configuration, as SIGHUP does
 * (PUT /v1/agent/reload). */
#include "cli/cli.h"

#include "cli/remote.h"

static const char usage[] =
    "Usage: tribune reload [options]\n\n"
    "  Causes the agent to reload configurations. This can be used instead\n"
    "  of sending the SIGHUP signal to the agent.\n\n"
    "Options:\n\n" CLI_REMOTE_ADDR_USAGE;

static const struct flags_spec specs[] = {CLI_REMOTE_ADDR_FLAG};
#define NSPECS (sizeof specs / sizeof specs[0])

int cli_reload(int argc, char **argv)
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
    rc = cli_remote_do(cli_remote_addr(fv[0].last), "PUT", "/v1/agent/reload", &resp, text,
                       sizeof text);
    http_client_resp_free(&resp);
    flags_free(fv, NSPECS);
    if (rc == CLI_REMOTE_UNREACH)
        return 1;
    if (rc == CLI_REMOTE_STATUS) {
        fprintf(stderr, "Error reloading: %s\n", text);
        return 1;
    }
    puts("Configuration reload triggered");
    return 0;
}
