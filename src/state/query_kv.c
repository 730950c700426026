/* query_kv.c — GET /v1/kv/<key> in its forms (single, ?raw, ?recurse, ?keys&separator=) as
 * Consul JSON: values base64-encoded, an empty value as null, keys in byte order. */
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "state/state_impl.h"

/* Standard base64 with padding, as Go's encoding/json renders a []byte. */
static void put_base64(struct json_wr *w, const uint8_t *p, size_t n)
{
    static const char alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *text = malloc((n + 2) / 3 * 4 + 1);
    if (!text) {
        w->bad = true;
        return;
    }
    char *o = text;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = alpha[v >> 18];
        *o++ = alpha[(v >> 12) & 63];
        *o++ = alpha[(v >> 6) & 63];
        *o++ = alpha[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = alpha[v >> 18];
        *o++ = alpha[(v >> 12) & 63];
        *o++ = i + 1 < n ? alpha[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    json_wr_strn(w, text, (size_t)(o - text));
    free(text);
}

static void json_entry(struct json_wr *w, const struct kv_entry *e)
{
    json_wr_obj_begin(w);
    json_wr_key(w, "CreateIndex");
    json_wr_uint(w, e->create_index);
    json_wr_key(w, "ModifyIndex");
    json_wr_uint(w, e->modify_index);
    json_wr_key(w, "LockIndex");
    json_wr_uint(w, e->lock_index);
    json_wr_key(w, "Key");
    json_wr_str(w, e->key);
    json_wr_key(w, "Flags");
    json_wr_uint(w, e->flags);
    json_wr_key(w, "Value");
    if (e->value_len)
        put_base64(w, e->value, e->value_len);
    else
        json_wr_null(w);
    json_wr_obj_end(w);
}

static const struct kv_entry *find(const struct state *st, const char *key)
{
    struct state_str k = state_str_of(key);
    bool found;
    size_t i = state_vec_lower(&st->kv, &k, kv_entry_cmp, &found);
    return found ? st->kv.v[i] : NULL;
}

/* A present key answers with its own ModifyIndex; an absent one with the table's, so a
 * blocking query on it wakes when it is created. */
static uint64_t key_index(const struct state *st, const struct kv_entry *e)
{
    return e ? e->modify_index : state_tables_index(st, STATE_T_KV);
}

int state_query_kv_get(const struct state *st, const char *key, struct buf *out, uint64_t *index)
{
    size_t start = out->len;
    const struct kv_entry *e = find(st, key);
    *index = key_index(st, e);
    struct json_wr w;
    json_wr_init(&w, out);
    json_wr_arr_begin(&w);
    if (e)
        json_entry(&w, e);
    json_wr_arr_end(&w);
    return state_query_end(&w, out, start, e != NULL);
}

int state_query_kv_raw(const struct state *st, const char *key, struct buf *out, uint64_t *index)
{
    const struct kv_entry *e = find(st, key);
    *index = key_index(st, e);
    if (!e)
        return 0;
    return buf_append(out, e->value, e->value_len) == 0 ? 1 : -1;
}

/* The range of keys starting with prefix: [*lo, return). */
static size_t prefix_range(const struct state *st, struct state_str prefix, size_t *lo)
{
    size_t i = *lo = state_vec_lower(&st->kv, &prefix, kv_entry_cmp, NULL);
    while (i < st->kv.n &&
           !strncmp(((const struct kv_entry *)st->kv.v[i])->key, prefix.p, prefix.n))
        i++;
    return i;
}

int state_query_kv_list(const struct state *st, const char *prefix, struct buf *out,
                        uint64_t *index)
{
    size_t start = out->len, lo;
    size_t hi = prefix_range(st, state_str_of(prefix), &lo);
    *index = state_tables_index(st, STATE_T_KV);
    struct json_wr w;
    json_wr_init(&w, out);
    json_wr_arr_begin(&w);
    for (size_t i = lo; i < hi; i++)
        json_entry(&w, st->kv.v[i]);
    json_wr_arr_end(&w);
    return state_query_end(&w, out, start, (int)(hi - lo));
}

int state_query_kv_keys(const struct state *st, const char *prefix, const char *separator,
                        struct buf *out, uint64_t *index)
{
    size_t start = out->len, lo;
    struct state_str p = state_str_of(prefix);
    size_t hi = prefix_range(st, p, &lo);
    size_t seplen = separator ? strlen(separator) : 0;
    *index = state_tables_index(st, STATE_T_KV);
    struct json_wr w;
    json_wr_init(&w, out);
    json_wr_arr_begin(&w);
    int count = 0;
    const char *last = NULL;
    size_t last_len = 0;
    /* Keys sharing a cut share its whole text as a prefix, so they are adjacent in key order:
     * comparing with the previous one is enough to deduplicate. */
    for (size_t i = lo; i < hi; i++) {
        const char *key = ((const struct kv_entry *)st->kv.v[i])->key;
        size_t len = strlen(key);
        if (seplen) {
            const char *hit = strstr(key + p.n, separator);
            if (hit)
                len = (size_t)(hit - key) + seplen;
        }
        if (last && last_len == len && !memcmp(last, key, len))
            continue;
        json_wr_strn(&w, key, len);
        last = key;
        last_len = len;
        count++;
    }
    json_wr_arr_end(&w);
    return state_query_end(&w, out, start, count);
}
