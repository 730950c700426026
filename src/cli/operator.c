/* operator.c — `tribune operator raft list-peers|remove-peer`: the Raft configuration as a table
 * (GET /v1/operator/raft/configuration) and removal of a server (DELETE /v1/operator/raft/peer). */
#include "cli/operator.h"

#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "cli/cli.h"
#include "cli/remote.h"
#include "cli/render.h"

#define PEER_COLS 5
#define CELL_MAX 1024 /* a hostile answer cannot blow a column up without bound */

static const char usage_operator[] =
    "Usage: tribune operator <subcommand> [options]\n\n"
    "  Provides cluster-level tools for Tribune operators, such as interacting with\n"
    "  the Raft subsystem. NOTE: Use this command with extreme caution, as improper\n"
    "  use could lead to a Tribune outage and even loss of data.\n\n"
    "  Any agent takes the request: clients forward it to a server, followers to\n"
    "  the leader.\n\n"
    "Subcommands:\n\n"
    "    raft    Provides cluster-level tools for Tribune operators\n";

static const char usage_raft[] =
    "Usage: tribune operator raft <subcommand> [options]\n\n"
    "  The Raft operator command is used to interact with Tribune's Raft subsystem.\n"
    "  The command can be used to verify Raft peers or in rare cases to recover\n"
    "  quorum by removing invalid peers.\n\n"
    "Subcommands:\n\n"
    "    list-peers     Display the current Raft peer configuration\n"
    "    remove-peer    Remove a Tribune server from the Raft configuration\n";

static const char usage_list[] =
    "Usage: tribune operator raft list-peers [options]\n\n"
    "  Displays the current Raft peer configuration.\n\n"
    "Options:\n\n" CLI_REMOTE_ADDR_USAGE
    "  -stale                     Read the configuration from the agent's server even if it\n"
    "                             knows no leader (the answer may be out of date)\n";

static const char usage_remove[] =
    "Usage: tribune operator raft remove-peer -address=IP:PORT [options]\n\n"
    "  Remove the Tribune server with the given address from the Raft configuration.\n\n"
    "  There are rare cases where a peer may be left behind in the Raft quorum even\n"
    "  though the server is no longer present and known to the cluster. This command\n"
    "  can be used to remove the failed server so that it no longer affects the\n"
    "  Raft quorum. If the server still shows in the output of the \"tribune members\"\n"
    "  command, it is preferable to clean up by simply running \"tribune force-leave\"\n"
    "  instead of this command.\n\n"
    "  The request must reach the leader's agent.\n\n"
    "Options:\n\n"
    "  -address=IP:PORT           The Raft address of the server to remove, as shown by\n"
    "                             list-peers\n" CLI_REMOTE_ADDR_USAGE;

static char *cell_dup(const char *s, size_t n)
{
    char tmp[CELL_MAX];
    cli_remote_sanitize(s, n, tmp, sizeof tmp);
    return strdup(tmp);
}

/* A string member as its text ("" when absent); -1 when present with another type. */
static int str_field(const struct json_value *o, const char *key, const char **s, size_t *n)
{
    const struct json_value *v = json_get(o, key);
    *s = "";
    *n = 0;
    if (v == NULL)
        return 0;
    if (v->type != JSON_STRING)
        return -1;
    *s = v->str;
    *n = v->len;
    return 0;
}

static int bool_field(const struct json_value *o, const char *key, bool *b)
{
    const struct json_value *v = json_get(o, key);
    *b = false;
    if (v == NULL)
        return 0;
    if (v->type != JSON_BOOL)
        return -1;
    *b = v->boolean;
    return 0;
}

static void free_rows(struct cli_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < PEER_COLS; c++)
            free(rows[i].cell[c]);
    free(rows);
}

/* Fills r from one server object: 0, -1 malformed, -2 out of memory. */
static int fill_row(const struct json_value *s, struct cli_row *r)
{
    static const char *const keys[] = {"Node", "ID", "Address"};
    bool leader, voter;
    if (s->type != JSON_OBJECT || bool_field(s, "Leader", &leader) != 0 ||
        bool_field(s, "Voter", &voter) != 0)
        return -1;
    for (int c = 0; c < 3; c++) {
        const char *t;
        size_t n;
        if (str_field(s, keys[c], &t, &n) != 0)
            return -1;
        if ((r->cell[c] = cell_dup(t, n)) == NULL)
            return -2;
    }
    r->cell[3] = strdup(leader ? "leader" : "follower");
    r->cell[4] = strdup(voter ? "true" : "false");
    return r->cell[3] && r->cell[4] ? 0 : -2;
}

int cli_operator_peers_render(const char *body, size_t len, struct buf *out, char *err,
                              size_t errlen)
{
    static const char *const head[PEER_COLS] = {"Node", "ID", "Address", "State", "Voter"};
    struct json_value doc;
    struct json_error jerr;
    if (json_parse(body, len, NULL, &doc, &jerr) != 0) {
        snprintf(err, errlen, "Error getting peers: malformed answer: %s at line %u col %u",
                 jerr.msg, (unsigned)jerr.line, (unsigned)jerr.col);
        return 1;
    }
    int ret = 1;
    const struct json_value *servers = doc.type == JSON_OBJECT ? json_get(&doc, "Servers") : NULL;
    if (servers == NULL || servers->type != JSON_ARRAY) {
        snprintf(err, errlen, "Error getting peers: malformed answer: no Servers array");
        json_free(&doc);
        return 1;
    }
    size_t n = 0;
    struct cli_row *rows = calloc(servers->count + 1, sizeof *rows);
    if (rows == NULL) {
        snprintf(err, errlen, "Error getting peers: out of memory");
        goto out;
    }
    for (int c = 0; c < PEER_COLS; c++)
        if ((rows[0].cell[c] = strdup(head[c])) == NULL) {
            n = 1;
            snprintf(err, errlen, "Error getting peers: out of memory");
            goto out;
        }
    n = 1;
    for (size_t i = 0; i < servers->count; i++) {
        int rc = fill_row(&servers->items[i], &rows[n++]);
        if (rc == -1) {
            snprintf(err, errlen, "Error getting peers: malformed answer: server %zu", i);
            goto out;
        }
        if (rc == -2) {
            snprintf(err, errlen, "Error getting peers: out of memory");
            goto out;
        }
    }
    cli_columnize(rows, n, PEER_COLS, out);
    ret = 0;
out:
    if (rows != NULL)
        free_rows(rows, n);
    json_free(&doc);
    return ret;
}

static int list_peers(int argc, char **argv)
{
    enum { F_ADDR, F_STALE };
    static const struct flags_spec specs[] = {
        [F_ADDR] = CLI_REMOTE_ADDR_FLAG,
        [F_STALE] = {"stale", FLAGS_BOOL, NULL, "allow a stale answer", NULL},
    };
    enum { NS = sizeof specs / sizeof specs[0] };
    struct flags_value fv[NS];
    int rest = 0;
    int rc = cli_remote_flags(usage_list, specs, NS, argc, argv, fv, &rest, 0);
    if (rc >= 0) {
        flags_free(fv, NS);
        return rc;
    }
    /* -stale=false is given but not stale: the last value decides. */
    bool stale = fv[F_STALE].last != NULL && strcmp(fv[F_STALE].last, "false") != 0;
    const char *target =
        stale ? "/v1/operator/raft/configuration?stale" : "/v1/operator/raft/configuration";
    struct http_client_resp resp;
    char text[512];
    rc = cli_remote_do(cli_remote_addr(fv[F_ADDR].last), "GET", target, &resp, text, sizeof text);
    flags_free(fv, NS);
    if (rc != CLI_REMOTE_OK) {
        if (rc == CLI_REMOTE_STATUS)
            fprintf(stderr, "Error getting peers: %s\n", text);
        http_client_resp_free(&resp);
        return 1;
    }
    struct buf out;
    buf_init(&out, 1u << 20);
    rc = cli_operator_peers_render(resp.body ? resp.body : "", resp.body ? resp.body_len : 0,
                                   &out, text, sizeof text);
    http_client_resp_free(&resp);
    if (rc == 0)
        fwrite(out.data, 1, out.len, stdout);
    else
        fprintf(stderr, "%s\n", text);
    buf_free(&out);
    return rc;
}

static int remove_peer(int argc, char **argv)
{
    enum { F_ADDR, F_PEER };
    static const struct flags_spec specs[] = {
        [F_ADDR] = CLI_REMOTE_ADDR_FLAG,
        [F_PEER] = {"address", FLAGS_VALUE, "<IP:PORT>", "the server to remove", NULL},
    };
    enum { NS = sizeof specs / sizeof specs[0] };
    struct flags_value fv[NS];
    int rest = 0;
    int rc = cli_remote_flags(usage_remove, specs, NS, argc, argv, fv, &rest, 0);
    if (rc >= 0) {
        flags_free(fv, NS);
        return rc;
    }
    const char *peer = fv[F_PEER].last;
    if (peer == NULL || peer[0] == '\0') {
        fprintf(stderr, "Missing peer address\n\n%s", usage_remove);
        flags_free(fv, NS);
        return 1;
    }
    char target[1024] = "/v1/operator/raft/peer?address=";
    size_t pre = strlen(target);
    if (cli_remote_escape(peer, target + pre, sizeof target - pre) != 0) {
        fprintf(stderr, "Error removing peer: address too long\n");
        flags_free(fv, NS);
        return 1;
    }
    struct http_client_resp resp;
    char text[512];
    rc = cli_remote_do(cli_remote_addr(fv[F_ADDR].last), "DELETE", target, &resp, text,
                       sizeof text);
    http_client_resp_free(&resp);
    if (rc == CLI_REMOTE_STATUS)
        fprintf(stderr, "Error removing peer: %s\n", text);
    if (rc == CLI_REMOTE_OK) {
        char shown[512];
        cli_remote_sanitize(peer, strlen(peer), shown, sizeof shown);
        printf("Removed peer with address \"%s\"\n", shown);
    }
    flags_free(fv, NS);
    return rc == CLI_REMOTE_OK ? 0 : 1;
}

static bool is_help(const char *s)
{
    return strcmp(s, "-h") == 0 || strcmp(s, "-help") == 0 || strcmp(s, "--help") == 0;
}

/* Like Consul's cli: a missing subcommand prints the help on stderr and exits 1, -h prints it
 * on stdout and exits 0, an unknown one is named before the help. */
static int dispatch_usage(const char *usage, int argc, char **argv)
{
    if (argc >= 1 && is_help(argv[0])) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc >= 1)
        fprintf(stderr, "unknown subcommand: %s\n\n", argv[0]);
    fputs(usage, stderr);
    return 1;
}

static int cli_operator_raft(int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "list-peers") == 0)
        return list_peers(argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "remove-peer") == 0)
        return remove_peer(argc - 1, argv + 1);
    return dispatch_usage(usage_raft, argc, argv);
}

int cli_operator(int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "raft") == 0)
        return cli_operator_raft(argc - 1, argv + 1);
    return dispatch_usage(usage_operator, argc, argv);
}
