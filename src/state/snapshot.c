/* snapshot.c — the state's snapshot format and its all-or-nothing restore. Layout (big-endian):
 *   u32 magic "TRST", u8 version, u64 last_index, u64 table_index[4],
 *   u32 count + nodes, u32 count + services, u32 count + checks, u32 count + KV entries,
 *   u32 CRC-32C of every byte before it.
 * Records are written in table order, so equal states give equal bytes; restore demands that
 * order (strictly ascending keys), every limit and every cross-reference, so the only accepted
 * encoding of a state is its canonical one. Snapshots come from disk or a peer: untrusted. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "state/state_impl.h"

#define SNAP_MAGIC 0x54525354u /* "TRST" */
#define SNAP_VERSION 1

static void put_s(struct codec_wr *w, const char *s)
{
    codec_put_str16(w, s, strlen(s));
}

int state_snapshot(const struct state *st, struct buf *out)
{
    size_t start = out->len;
    struct codec_wr w;
    codec_wr_init(&w, out);
    codec_put_u32(&w, SNAP_MAGIC);
    codec_put_u8(&w, SNAP_VERSION);
    codec_put_u64(&w, st->last_index);
    for (unsigned t = 0; t < STATE_IX_COUNT; t++)
        codec_put_u64(&w, st->table_index[t]);

    codec_put_u32(&w, (uint32_t)st->nodes.n);
    for (size_t i = 0; i < st->nodes.n; i++) {
        const struct catalog_node *n = st->nodes.v[i];
        put_s(&w, n->name);
        put_s(&w, n->address);
        put_s(&w, n->datacenter);
        codec_put_u64(&w, n->create_index);
        codec_put_u64(&w, n->modify_index);
    }
    codec_put_u32(&w, (uint32_t)st->services.n);
    for (size_t i = 0; i < st->services.n; i++) {
        const struct catalog_service *s = st->services.v[i];
        put_s(&w, s->node);
        put_s(&w, s->id);
        put_s(&w, s->service);
        codec_put_u16(&w, (uint16_t)s->n_tags);
        for (size_t j = 0; j < s->n_tags; j++)
            put_s(&w, s->tags[j]);
        codec_put_u16(&w, s->port);
        codec_put_u64(&w, s->create_index);
        codec_put_u64(&w, s->modify_index);
    }
    codec_put_u32(&w, (uint32_t)st->checks.n);
    for (size_t i = 0; i < st->checks.n; i++) {
        const struct catalog_check *k = st->checks.v[i];
        put_s(&w, k->node);
        put_s(&w, k->id);
        put_s(&w, k->name);
        codec_put_u8(&w, k->status);
        put_s(&w, k->notes);
        put_s(&w, k->output);
        put_s(&w, k->service_id);
        codec_put_u64(&w, k->create_index);
        codec_put_u64(&w, k->modify_index);
    }
    codec_put_u32(&w, (uint32_t)st->kv.n);
    for (size_t i = 0; i < st->kv.n; i++) {
        const struct kv_entry *e = st->kv.v[i];
        put_s(&w, e->key);
        codec_put_u64(&w, e->flags);
        codec_put_u32(&w, (uint32_t)e->value_len);
        if (e->value_len)
            codec_put_bytes(&w, e->value, e->value_len);
        codec_put_u64(&w, e->create_index);
        codec_put_u64(&w, e->modify_index);
        codec_put_u64(&w, e->lock_index);
    }
    if (codec_wr_ok(&w))
        codec_put_u32(&w, crc32c(0, out->data + start, out->len - start));
    if (!codec_wr_ok(&w) || st->nodes.n > UINT32_MAX || st->kv.n > UINT32_MAX ||
        st->services.n > UINT32_MAX || st->checks.n > UINT32_MAX) {
        out->len = start;
        return -1;
    }
    return 0;
}

/* ---- restore ---- */

struct snap_rd {
    struct codec_rd r;
    struct state *tmp;
    char *err;
};

static int bad(struct snap_rd *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct snap_rd *s, const char *fmt, ...)
{
    if (s->err) {
        char m[STATE_ERR_LEN - 20];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m, sizeof m, fmt, ap);
        va_end(ap);
        snprintf(s->err, STATE_ERR_LEN, "snapshot corrupt: %s", m);
    }
    return -1;
}

static struct state_str get_s(struct snap_rd *s)
{
    size_t n = 0;
    const char *p = (const char *)codec_get_str16(&s->r, &n);
    return (struct state_str){p, n};
}

/* Validates a field; false (with the error set) when it fails. */
static bool field_ok(struct snap_rd *s, struct state_str v, bool allow_empty, size_t max,
                     const char *what)
{
    const char *why = state_check_name(v, allow_empty, max);
    if (why)
        bad(s, "%s %s", what, why);
    return why == NULL;
}

static bool indexes_ok(struct snap_rd *s, uint64_t ci, uint64_t mi, unsigned table,
                       const char *what)
{
    if (ci == 0 || ci > mi || mi > s->tmp->table_index[table]) {
        bad(s, "%s indexes out of order", what);
        return false;
    }
    return true;
}

/* Appends rec after checking that it sorts strictly after the last record of vec. */
static int append(struct snap_rd *s, struct state_vec *vec, void *rec, const void *key,
                  state_cmp_fn cmp, const char *what)
{
    if (vec->n && cmp(vec->v[vec->n - 1], key) >= 0)
        return bad(s, "%s records out of order or duplicated", what);
    if (state_vec_reserve(vec, 1) != 0)
        return bad(s, "out of memory");
    state_vec_insert(vec, vec->n, rec);
    return 0;
}

static int read_nodes(struct snap_rd *s)
{
    uint32_t n = codec_get_u32(&s->r);
    for (uint32_t i = 0; i < n; i++) {
        struct state_cmd c = {0};
        c.node = get_s(s);
        c.address = get_s(s);
        c.datacenter = get_s(s);
        uint64_t ci = codec_get_u64(&s->r), mi = codec_get_u64(&s->r);
        if (!codec_rd_ok(&s->r))
            return bad(s, "truncated in nodes");
        if (!field_ok(s, c.node, false, STATE_MAX_NAME, "node name") ||
            !field_ok(s, c.address, false, STATE_MAX_ADDRESS, "node address") ||
            !field_ok(s, c.datacenter, true, STATE_MAX_NAME, "datacenter") ||
            !indexes_ok(s, ci, mi, STATE_IX_NODES, "node"))
            return -1;
        struct catalog_node *rec = calloc(1, sizeof *rec);
        if (rec) {
            rec->name = state_strdup(c.node);
            rec->address = state_strdup(c.address);
            rec->datacenter = state_strdup(c.datacenter);
            rec->create_index = ci;
            rec->modify_index = mi;
        }
        if (!rec || !rec->name || !rec->address || !rec->datacenter) {
            catalog_node_free(rec);
            return bad(s, "out of memory");
        }
        if (append(s, &s->tmp->nodes, rec, &c.node, catalog_node_cmp, "node") != 0) {
            catalog_node_free(rec);
            return -1;
        }
    }
    return 0;
}

static int read_services(struct snap_rd *s)
{
    uint32_t n = codec_get_u32(&s->r);
    for (uint32_t i = 0; i < n; i++) {
        struct state_cmd c = {0};
        c.node = get_s(s);
        c.svc_id = get_s(s);
        c.svc_name = get_s(s);
        uint16_t nt = codec_get_u16(&s->r);
        if (nt > STATE_MAX_TAGS)
            return bad(s, "more than %u tags", STATE_MAX_TAGS);
        c.n_tags = nt;
        for (size_t t = 0; t < nt; t++)
            c.tags[t] = get_s(s);
        c.port = codec_get_u16(&s->r);
        uint64_t ci = codec_get_u64(&s->r), mi = codec_get_u64(&s->r);
        if (!codec_rd_ok(&s->r))
            return bad(s, "truncated in services");
        if (!field_ok(s, c.svc_id, false, STATE_MAX_NAME, "service ID") ||
            !field_ok(s, c.svc_name, false, STATE_MAX_NAME, "service name") ||
            !indexes_ok(s, ci, mi, STATE_IX_SERVICES, "service"))
            return -1;
        for (size_t t = 0; t < nt; t++)
            if (!field_ok(s, c.tags[t], false, STATE_MAX_NAME, "service tag"))
                return -1;
        if (!catalog_find_node(s->tmp, c.node))
            return bad(s, "service of an unknown node");
        struct catalog_service *rec = calloc(1, sizeof *rec);
        bool ok = rec != NULL;
        if (ok) {
            rec->node = state_strdup(c.node);
            rec->id = state_strdup(c.svc_id);
            rec->service = state_strdup(c.svc_name);
            rec->port = c.port;
            rec->create_index = ci;
            rec->modify_index = mi;
            ok = rec->node && rec->id && rec->service;
            if (ok && nt) {
                rec->tags = calloc(nt, sizeof *rec->tags);
                ok = rec->tags != NULL;
                for (size_t t = 0; ok && t < nt; t++) {
                    rec->tags[t] = state_strdup(c.tags[t]);
                    rec->n_tags = t + 1;
                    ok = rec->tags[t] != NULL;
                }
            }
        }
        if (!ok) {
            catalog_service_free(rec);
            return bad(s, "out of memory");
        }
        struct state_key2 k = {c.node, c.svc_id};
        if (append(s, &s->tmp->services, rec, &k, catalog_service_cmp, "service") != 0) {
            catalog_service_free(rec);
            return -1;
        }
    }
    return 0;
}

static int read_checks(struct snap_rd *s)
{
    uint32_t n = codec_get_u32(&s->r);
    for (uint32_t i = 0; i < n; i++) {
        struct state_cmd c = {0};
        c.node = get_s(s);
        c.chk_id = get_s(s);
        c.chk_name = get_s(s);
        c.status = codec_get_u8(&s->r);
        c.notes = get_s(s);
        c.output = get_s(s);
        c.chk_service_id = get_s(s);
        uint64_t ci = codec_get_u64(&s->r), mi = codec_get_u64(&s->r);
        if (!codec_rd_ok(&s->r))
            return bad(s, "truncated in checks");
        if (!field_ok(s, c.chk_id, false, STATE_MAX_NAME, "check ID") ||
            !field_ok(s, c.chk_name, false, STATE_MAX_NAME, "check name") ||
            !field_ok(s, c.notes, true, STATE_MAX_NOTES, "check notes") ||
            !field_ok(s, c.output, true, STATE_MAX_OUTPUT, "check output") ||
            !indexes_ok(s, ci, mi, STATE_IX_CHECKS, "check"))
            return -1;
        if (!state_status_valid(c.status))
            return bad(s, "check status %u invalid", c.status);
        if (!catalog_find_node(s->tmp, c.node))
            return bad(s, "check of an unknown node");
        if (c.chk_service_id.n && !catalog_find_service(s->tmp, c.node, c.chk_service_id))
            return bad(s, "check of an unknown service");
        if (!field_ok(s, c.chk_service_id, true, STATE_MAX_NAME, "check service ID"))
            return -1;
        struct catalog_check *rec = calloc(1, sizeof *rec);
        if (rec) {
            rec->node = state_strdup(c.node);
            rec->id = state_strdup(c.chk_id);
            rec->name = state_strdup(c.chk_name);
            rec->notes = state_strdup(c.notes);
            rec->output = state_strdup(c.output);
            rec->service_id = state_strdup(c.chk_service_id);
            rec->status = c.status;
            rec->create_index = ci;
            rec->modify_index = mi;
        }
        if (!rec || !rec->node || !rec->id || !rec->name || !rec->notes || !rec->output ||
            !rec->service_id) {
            catalog_check_free(rec);
            return bad(s, "out of memory");
        }
        struct state_key2 k = {c.node, c.chk_id};
        if (append(s, &s->tmp->checks, rec, &k, catalog_check_cmp, "check") != 0) {
            catalog_check_free(rec);
            return -1;
        }
    }
    return 0;
}

static int read_kv(struct snap_rd *s)
{
    uint32_t n = codec_get_u32(&s->r);
    for (uint32_t i = 0; i < n; i++) {
        struct state_str key = get_s(s);
        uint64_t flags = codec_get_u64(&s->r);
        uint32_t vlen = codec_get_u32(&s->r);
        if (vlen > STATE_MAX_VALUE)
            return bad(s, "value exceeds %u byte limit", STATE_MAX_VALUE);
        const uint8_t *value = codec_get_bytes(&s->r, vlen);
        uint64_t ci = codec_get_u64(&s->r), mi = codec_get_u64(&s->r);
        uint64_t li = codec_get_u64(&s->r);
        if (!codec_rd_ok(&s->r))
            return bad(s, "truncated in KV entries");
        if (!field_ok(s, key, false, STATE_MAX_KEY, "key") ||
            !indexes_ok(s, ci, mi, STATE_IX_KV, "KV entry"))
            return -1;
        struct kv_entry *rec = calloc(1, sizeof *rec);
        bool ok = rec && (rec->key = state_strdup(key)) != NULL;
        if (ok && vlen) {
            ok = (rec->value = malloc(vlen)) != NULL;
            if (ok) {
                memcpy(rec->value, value, vlen);
                rec->value_len = vlen;
            }
        }
        if (!ok) {
            kv_entry_free(rec);
            return bad(s, "out of memory");
        }
        rec->flags = flags;
        rec->create_index = ci;
        rec->modify_index = mi;
        rec->lock_index = li;
        if (append(s, &s->tmp->kv, rec, &key, kv_entry_cmp, "KV") != 0) {
            kv_entry_free(rec);
            return -1;
        }
    }
    return 0;
}

static int read_all(struct snap_rd *s, const uint8_t *p, size_t len)
{
    if (len < 4 + 1 + 8 * (1 + STATE_IX_COUNT) + 4 * 4 + 4)
        return bad(s, "truncated (%zu bytes)", len);
    if (crc32c(0, p, len - 4) != codec_load_u32(p + len - 4))
        return bad(s, "checksum mismatch");
    codec_rd_init(&s->r, p, len - 4);
    if (codec_get_u32(&s->r) != SNAP_MAGIC)
        return bad(s, "not a state snapshot");
    uint8_t version = codec_get_u8(&s->r);
    if (version != SNAP_VERSION)
        return bad(s, "version %u unsupported", version);
    s->tmp->last_index = codec_get_u64(&s->r);
    for (unsigned t = 0; t < STATE_IX_COUNT; t++) {
        s->tmp->table_index[t] = codec_get_u64(&s->r);
        if (s->tmp->table_index[t] > s->tmp->last_index)
            return bad(s, "table index past the last index");
    }
    if (read_nodes(s) || read_services(s) || read_checks(s) || read_kv(s))
        return -1;
    if (catalog_index_services(s->tmp) != 0)
        return bad(s, "out of memory");
    if (codec_rd_remaining(&s->r) != 0)
        return bad(s, "%zu trailing bytes", codec_rd_remaining(&s->r));
    return 0;
}

int state_restore(struct state *st, const void *data, size_t len, char *err)
{
    struct state tmp = {0};
    struct snap_rd s = {.tmp = &tmp, .err = err};
    if (read_all(&s, data, len) != 0) {
        state_free_tables(&tmp);
        return -1;
    }
    state_free_tables(st);
    tmp.watch = st->watch;
    tmp.watch_ctx = st->watch_ctx;
    *st = tmp;
    if (st->watch)
        st->watch(st->watch_ctx, st->last_index, STATE_T_ALL);
    return 0;
}
