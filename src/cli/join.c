/* join.c — `tribune join [-wan] ADDR...`: asks the agent to join the cluster through each
 * address (PUT /v1/agent/join/<addr>, one per address); success when any of them answered. */
#include "cli/cli.h"

#include <string.h>

#include "cli/remote.h"

static const char usage[] =
    "Usage: tribune join [options] address ...\n\n"
    "  Tells a running Tribune agent (with \"tribune agent\") to join the cluster\n"
    "  by specifying at least one existing member.\n\n"
    "Options:\n\n" CLI_REMOTE_ADDR_USAGE
    "  -wan                       Joins a server to another server in the WAN pool.\n";

enum { F_ADDR, F_WAN };
static const struct flags_spec specs[] = {
    [F_ADDR] = CLI_REMOTE_ADDR_FLAG,
    [F_WAN] = {"wan", FLAGS_BOOL, NULL, "join the WAN pool", NULL},
};
#define NSPECS (sizeof specs / sizeof specs[0])

/* Adds one failure's text to the combined message, keeping it to one bounded line. */
static void add_error(char *all, size_t allsz, const char *text)
{
    size_t n = strlen(all);
    if (n + 3 >= allsz)
        return;
    snprintf(all + n, allsz - n, "%s%s", n ? "; " : "", text);
}

int cli_join(int argc, char **argv)
{
    struct flags_value fv[NSPECS];
    int rest = 0;
    int rc = cli_remote_flags(usage, specs, NSPECS, argc, argv, fv, &rest, 1 << 20);
    if (rc >= 0) {
        flags_free(fv, NSPECS);
        return rc;
    }
    bool wan = false;
    if (fv[F_WAN].last != NULL)
        flags_parse_bool(fv[F_WAN].last, &wan);
    const char *addr = cli_remote_addr(fv[F_ADDR].last);
    flags_free(fv, NSPECS); /* the values point into argv, not into fv */
    if (rest >= argc) {
        fprintf(stderr, "At least one address to join must be specified.\n\n%s", usage);
        return 1;
    }
    int joined = 0;
    char errors[1024] = "";
    for (int i = rest; i < argc; i++) {
        char target[1024] = "/v1/agent/join/";
        size_t pre = strlen(target);
        char text[512];
        if (argv[i][0] == '\0' ||
            cli_remote_escape(argv[i], target + pre, sizeof target - pre - 8) != 0) {
            snprintf(text, sizeof text, "invalid address: \"%.64s\"", argv[i]);
            add_error(errors, sizeof errors, text);
            continue;
        }
        if (wan)
            strcat(target, "?wan=1");
        struct http_client_resp resp;
        rc = cli_remote_do(addr, "PUT", target, &resp, text, sizeof text);
        http_client_resp_free(&resp);
        if (rc == CLI_REMOTE_UNREACH)
            return 1;
        if (rc == CLI_REMOTE_OK)
            joined++;
        else
            add_error(errors, sizeof errors, text);
    }
    if (joined == 0) {
        fprintf(stderr, "Error joining the cluster: %s\n", errors);
        return 1;
    }
    printf("Successfully joined cluster by contacting %d nodes.\n", joined);
    return 0;
}
