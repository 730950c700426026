/* members.c — `tribune members`: the agent's view of the cluster (GET /v1/agent/members) as
 * Consul's columnized table, filtered by a regex on the status; exit 2 when nothing matches. */
#include "cli/cli.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "cli/remote.h"
#include "cli/render.h"

static const char usage[] =
    "Usage: tribune members [options]\n\n"
    "  Outputs the members of a running Tribune agent.\n\n"
    "Options:\n\n"
    "  -detailed                  Provides detailed information about nodes\n" CLI_REMOTE_ADDR_USAGE
    "  -status=<regexp>           If provided, output is filtered to only nodes matching\n"
    "                             the regular expression for status\n"
    "  -wan                       If the agent is in server mode, this can be used to return\n"
    "                             the other peers in the WAN pool\n";

enum { F_ADDR, F_DETAILED, F_STATUS, F_WAN };
static const struct flags_spec specs[] = {
    [F_ADDR] = CLI_REMOTE_ADDR_FLAG,
    [F_DETAILED] = {"detailed", FLAGS_BOOL, NULL, "detailed information about nodes", NULL},
    [F_STATUS] = {"status", FLAGS_VALUE, "<regexp>", "filter on the status", NULL},
    [F_WAN] = {"wan", FLAGS_BOOL, NULL, "the WAN pool", NULL},
};
#define NSPECS (sizeof specs / sizeof specs[0])

#define MAX_COLS CLI_ROW_COLS
#define CELL_MAX 1024 /* a hostile tag cannot blow a column up without bound */

const char *cli_member_status_name(int64_t status)
{
    static const char *const names[] = {"none", "alive", "leaving", "left", "failed"};
    return status >= 0 && status <= 4 ? names[status] : "unknown";
}

static char *cell_dup(const char *s, size_t n)
{
    char tmp[CELL_MAX];
    cli_remote_sanitize(s, n, tmp, sizeof tmp);
    return strdup(tmp);
}

static const char *str_of(const struct json_value *obj, const char *key, size_t *len)
{
    const struct json_value *v = json_get(obj, key);
    if (v == NULL || v->type != JSON_STRING) {
        *len = 0;
        return "";
    }
    *len = v->len;
    return v->str;
}

static int cmp_member(const void *a, const void *b)
{
    const struct json_member *x = a, *y = b;
    return strcmp(x->key, y->key);
}

/* "k=v,k=v" with the keys sorted; tags whose value is not a string are not tags. */
static char *tags_text(const struct json_value *tags)
{
    struct buf b;
    buf_init(&b, CELL_MAX);
    if (tags != NULL && tags->type == JSON_OBJECT && tags->count > 0) {
        struct json_member *m = malloc(tags->count * sizeof *m);
        if (m == NULL)
            return NULL;
        memcpy(m, tags->members, tags->count * sizeof *m);
        qsort(m, tags->count, sizeof *m, cmp_member);
        bool first = true;
        for (size_t i = 0; i < tags->count; i++) {
            if (m[i].value.type != JSON_STRING)
                continue;
            if (!first)
                buf_append(&b, ",", 1);
            first = false;
            buf_append(&b, m[i].key, m[i].key_len);
            buf_append(&b, "=", 1);
            buf_append(&b, m[i].value.str, m[i].value.len);
        }
        free(m);
    }
    char *s = cell_dup(b.len ? (const char *)b.data : "", b.len);
    buf_free(&b);
    return s;
}

static const char *status_text(const struct json_value *m)
{
    const struct json_value *st = json_get(m, "Status");
    if (st != NULL && st->type == JSON_NUMBER && st->is_int)
        return cli_member_status_name(st->integer);
    return "unknown";
}

/* Fills r from one member object; 0, or -1 when memory ran out. */
static int fill_row(const struct json_value *m, bool detailed, struct cli_row *r)
{
    size_t nl, al, tl;
    const char *name = str_of(m, "Name", &nl);
    const char *ip = str_of(m, "Addr", &al);
    const struct json_value *port = json_get(m, "Port");
    char addr[CELL_MAX];
    char ipc[CELL_MAX / 2];
    cli_remote_sanitize(ip, al, ipc, sizeof ipc);
    if (port != NULL && port->type == JSON_NUMBER && port->is_int)
        snprintf(addr, sizeof addr, strchr(ipc, ':') ? "[%s]:%lld" : "%s:%lld", ipc,
                 (long long)port->integer);
    else
        snprintf(addr, sizeof addr, "%s", ipc);
    r->cell[0] = cell_dup(name, nl);
    r->cell[1] = strdup(addr);
    r->cell[2] = strdup(status_text(m));
    const struct json_value *tags = json_get(m, "Tags");
    if (detailed) {
        r->cell[3] = tags_text(tags);
    } else {
        const char *role = str_of(tags, "role", &tl);
        const char *type = strcmp(role, "consul") == 0 ? "server"
                           : strcmp(role, "node") == 0 ? "client"
                                                       : "unknown";
        size_t bl, vl, dl;
        const char *build = str_of(tags, "build", &bl);
        const char *colon = memchr(build, ':', bl);
        if (colon != NULL)
            bl = (size_t)(colon - build);
        r->cell[3] = strdup(type);
        r->cell[4] = bl ? cell_dup(build, bl) : strdup("< 0.3");
        const char *vsn = str_of(tags, "vsn", &vl);
        r->cell[5] = cell_dup(vsn, vl);
        const char *dc = str_of(tags, "dc", &dl);
        r->cell[6] = cell_dup(dc, dl);
    }
    for (int i = 0; i < (detailed ? 4 : MAX_COLS); i++)
        if (r->cell[i] == NULL)
            return -1;
    return 0;
}

static int cmp_row(const void *a, const void *b)
{
    const struct cli_row *x = a, *y = b;
    int c = strcmp(x->cell[0], y->cell[0]);
    return c ? c : strcmp(x->cell[1], y->cell[1]);
}

/* columnize.SimpleFormat: every column but the last padded to its widest cell, two spaces
 * between columns. */
void cli_columnize(const struct cli_row *rows, size_t n, size_t cols, struct buf *out)
{
    size_t w[MAX_COLS] = {0};
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < cols; c++) {
            size_t l = strlen(rows[i].cell[c]);
            if (l > w[c])
                w[c] = l;
        }
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < cols; c++) {
            const char *s = rows[i].cell[c];
            size_t l = strlen(s);
            buf_append(out, s, l);
            if (c + 1 == cols)
                break;
            for (size_t k = l; k < w[c] + 2; k++)
                buf_append(out, " ", 1);
        }
        buf_append(out, "\n", 1);
    }
}

static void free_rows(struct cli_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < MAX_COLS; c++)
            free(rows[i].cell[c]);
    free(rows);
}

int cli_members_render(const char *body, size_t len, const char *status_re, bool detailed,
                       struct buf *out, char *err, size_t errlen)
{
    regex_t re;
    if (status_re != NULL) {
        int rc = regcomp(&re, status_re, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char msg[256];
            regerror(rc, &re, msg, sizeof msg);
            snprintf(err, errlen, "Failed to compile status regexp: %s", msg);
            return 1;
        }
    }
    struct json_value doc;
    struct json_error jerr;
    int ret = 1;
    struct cli_row *rows = NULL;
    size_t n = 0;
    if (json_parse(body, len, NULL, &doc, &jerr) != 0) {
        snprintf(err, errlen, "Error retrieving members: malformed answer: %s at line %u col %u",
                 jerr.msg, (unsigned)jerr.line, (unsigned)jerr.col);
        goto out_re;
    }
    if (doc.type != JSON_ARRAY) {
        snprintf(err, errlen, "Error retrieving members: malformed answer: not an array");
        goto out_doc;
    }
    rows = calloc(doc.count + 1, sizeof *rows);
    if (rows == NULL) {
        snprintf(err, errlen, "Error retrieving members: out of memory");
        goto out_doc;
    }
    rows[0].cell[0] = strdup("Node");
    rows[0].cell[1] = strdup("Address");
    rows[0].cell[2] = strdup("Status");
    if (detailed) {
        rows[0].cell[3] = strdup("Tags");
    } else {
        rows[0].cell[3] = strdup("Type");
        rows[0].cell[4] = strdup("Build");
        rows[0].cell[5] = strdup("Protocol");
        rows[0].cell[6] = strdup("DC");
    }
    n = 1;
    for (int c = 0; c < (detailed ? 4 : MAX_COLS); c++)
        if (rows[0].cell[c] == NULL) {
            snprintf(err, errlen, "Error retrieving members: out of memory");
            goto out_rows;
        }
    for (size_t i = 0; i < doc.count; i++) {
        const struct json_value *m = &doc.items[i];
        if (m->type != JSON_OBJECT) {
            snprintf(err, errlen, "Error retrieving members: malformed answer: member %zu is %s",
                     i, json_type_name(m->type));
            goto out_rows;
        }
        if (status_re != NULL && regexec(&re, status_text(m), 0, NULL, 0) != 0)
            continue;
        if (fill_row(m, detailed, &rows[n++]) != 0) {
            snprintf(err, errlen, "Error retrieving members: out of memory");
            goto out_rows;
        }
    }
    if (n == 1) {
        ret = 2;
        goto out_rows;
    }
    qsort(rows + 1, n - 1, sizeof *rows, cmp_row);
    cli_columnize(rows, n, detailed ? 4 : MAX_COLS, out);
    ret = 0;
out_rows:
    free_rows(rows, n);
out_doc:
    json_free(&doc);
out_re:
    if (status_re != NULL)
        regfree(&re);
    return ret;
}

int cli_members(int argc, char **argv)
{
    struct flags_value fv[NSPECS];
    int rest = 0;
    int rc = cli_remote_flags(usage, specs, NSPECS, argc, argv, fv, &rest, 0);
    if (rc >= 0) {
        flags_free(fv, NSPECS);
        return rc;
    }
    bool detailed = false, wan = false;
    if (fv[F_DETAILED].last != NULL)
        flags_parse_bool(fv[F_DETAILED].last, &detailed);
    if (fv[F_WAN].last != NULL)
        flags_parse_bool(fv[F_WAN].last, &wan);
    const char *status_re = fv[F_STATUS].last;
    const char *addr = cli_remote_addr(fv[F_ADDR].last);
    flags_free(fv, NSPECS);

    /* A bad regexp is reported before the agent is asked, as Consul does. */
    char err[512];
    if (status_re != NULL && cli_members_render("[]", 2, status_re, false, NULL, err,
                                                sizeof err) == 1) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct http_client_resp resp;
    char text[512];
    rc = cli_remote_do(addr, "GET", wan ? "/v1/agent/members?wan=1" : "/v1/agent/members", &resp,
                       text, sizeof text);
    if (rc != CLI_REMOTE_OK) {
        if (rc == CLI_REMOTE_STATUS)
            fprintf(stderr, "Error retrieving members: %s\n", text);
        http_client_resp_free(&resp);
        return 1;
    }
    struct buf out;
    buf_init(&out, 0);
    rc = cli_members_render(resp.body, resp.body_len, status_re, detailed, &out, err, sizeof err);
    http_client_resp_free(&resp);
    if (rc == 1)
        fprintf(stderr, "%s\n", err);
    else if (out.len > 0)
        fwrite(out.data, 1, out.len, stdout);
    buf_free(&out);
    return rc;
}
