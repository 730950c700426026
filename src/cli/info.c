/* info.c — `tribune info`: the agent's debugging figures (the "Stats" of GET /v1/agent/self),
 * printed section by section exactly as `consul info` prints them. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include "cli/remote.h"
#include "cli/render.h"

static const char usage[] =
    "Usage: tribune info [options]\n\n"
    "  Provides debugging information for operators\n\n"
    "Options:\n\n" CLI_REMOTE_ADDR_USAGE;

static const struct flags_spec specs[] = {CLI_REMOTE_ADDR_FLAG};
#define NSPECS (sizeof specs / sizeof specs[0])

static int cmp_member(const void *a, const void *b)
{
    const struct json_member *x = *(const struct json_member *const *)a;
    const struct json_member *y = *(const struct json_member *const *)b;
    return strcmp(x->key, y->key);
}

/* Pointers to obj's members sorted by key, or NULL (count 0 or no memory: check count). */
static const struct json_member **sorted(const struct json_value *obj)
{
    if (obj->count == 0)
        return NULL;
    const struct json_member **v = malloc(obj->count * sizeof *v);
    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < obj->count; i++)
        v[i] = &obj->members[i];
    qsort(v, obj->count, sizeof *v, cmp_member);
    return v;
}

static void put_clean(struct buf *out, const char *s, size_t n)
{
    char tmp[1024];
    cli_remote_sanitize(s, n, tmp, sizeof tmp);
    buf_append(out, tmp, strlen(tmp));
}

/* Values are strings in the agent's answer; anything else is shown as its JSON text. */
static void put_value(struct buf *out, const struct json_value *v)
{
    if (v->type == JSON_STRING) {
        put_clean(out, v->str, v->len);
        return;
    }
    struct buf tmp;
    buf_init(&tmp, 1024);
    struct json_wr w;
    json_wr_init(&w, &tmp);
    json_wr_value(&w, v);
    if (json_wr_ok(&w))
        put_clean(out, (const char *)tmp.data, tmp.len);
    buf_free(&tmp);
}

int cli_info_render(const char *body, size_t len, struct buf *out, char *err, size_t errlen)
{
    struct json_value doc;
    struct json_error jerr;
    if (json_parse(body, len, NULL, &doc, &jerr) != 0) {
        snprintf(err, errlen, "Error querying agent: malformed answer: %s at line %u col %u",
                 jerr.msg, (unsigned)jerr.line, (unsigned)jerr.col);
        return 1;
    }
    int ret = 1;
    const struct json_value *stats = json_get(&doc, "Stats");
    if (stats == NULL || stats->type != JSON_OBJECT) {
        snprintf(err, errlen, "Error querying agent: malformed answer: no Stats object");
        goto out;
    }
    for (size_t i = 0; i < stats->count; i++)
        if (stats->members[i].value.type != JSON_OBJECT) {
            snprintf(err, errlen, "Error querying agent: malformed answer: Stats.%.64s is %s",
                     stats->members[i].key, json_type_name(stats->members[i].value.type));
            goto out;
        }
    const struct json_member **secs = sorted(stats);
    if (secs == NULL && stats->count > 0) {
        snprintf(err, errlen, "Error querying agent: out of memory");
        goto out;
    }
    for (size_t i = 0; i < stats->count; i++) {
        put_clean(out, secs[i]->key, secs[i]->key_len);
        buf_append(out, ":\n", 2);
        const struct json_value *sec = &secs[i]->value;
        const struct json_member **keys = sorted(sec);
        if (keys == NULL && sec->count > 0) {
            snprintf(err, errlen, "Error querying agent: out of memory");
            free(secs);
            goto out;
        }
        for (size_t k = 0; k < sec->count; k++) {
            buf_append(out, "\t", 1);
            put_clean(out, keys[k]->key, keys[k]->key_len);
            buf_append(out, " = ", 3);
            put_value(out, &keys[k]->value);
            buf_append(out, "\n", 1);
        }
        free(keys);
    }
    free(secs);
    ret = 0;
out:
    json_free(&doc);
    return ret;
}

int cli_info(int argc, char **argv)
{
    struct flags_value fv[NSPECS];
    int rest = 0;
    int rc = cli_remote_flags(usage, specs, NSPECS, argc, argv, fv, &rest, 0);
    if (rc >= 0) {
        flags_free(fv, NSPECS);
        return rc;
    }
    const char *addr = cli_remote_addr(fv[0].last);
    flags_free(fv, NSPECS);
    struct http_client_resp resp;
    char text[512];
    rc = cli_remote_do(addr, "GET", "/v1/agent/self", &resp, text, sizeof text);
    if (rc != CLI_REMOTE_OK) {
        if (rc == CLI_REMOTE_STATUS)
            fprintf(stderr, "Error querying agent: %s\n", text);
        http_client_resp_free(&resp);
        return 1;
    }
    struct buf out;
    buf_init(&out, 0);
    char err[512];
    rc = cli_info_render(resp.body, resp.body_len, &out, err, sizeof err);
    http_client_resp_free(&resp);
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    else if (out.len > 0)
        fwrite(out.data, 1, out.len, stdout);
    buf_free(&out);
    return rc;
}
