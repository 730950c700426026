/* cmd.c — the command language of the state machine: a versioned binary encoding (u8 version,
 * u8 op, big-endian fields) of catalog and KV writes, and its strict, validating decoder. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "state/state_impl.h"

static int fail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(char *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, STATE_ERR_LEN, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void get_str(struct codec_rd *r, struct state_str *s)
{
    size_t n = 0;
    s->p = (const char *)codec_get_str16(r, &n);
    s->n = n;
}

/* A boolean byte must be exactly 0 or 1: one meaning, one encoding. */
static bool get_flag(struct codec_rd *r, bool *bad)
{
    uint8_t v = codec_get_u8(r);
    if (v > 1)
        *bad = true;
    return v == 1;
}

#define CHECK_FIELD(s, allow_empty, max, what)                                                  \
    do {                                                                                        \
        const char *why_ = state_check_name((s), (allow_empty), (max));                         \
        if (why_)                                                                               \
            return fail(err, "%s %s", (what), why_);                                            \
    } while (0)

static int validate_register(struct state_cmd *c, char *err)
{
    CHECK_FIELD(c->node, false, STATE_MAX_NAME, "node name");
    CHECK_FIELD(c->address, false, STATE_MAX_ADDRESS, "node address");
    CHECK_FIELD(c->datacenter, true, STATE_MAX_NAME, "datacenter");
    if (c->has_service) {
        CHECK_FIELD(c->svc_name, false, STATE_MAX_NAME, "service name");
        if (c->svc_id.n == 0)
            c->svc_id = c->svc_name;
        CHECK_FIELD(c->svc_id, false, STATE_MAX_NAME, "service ID");
        for (size_t i = 0; i < c->n_tags; i++)
            CHECK_FIELD(c->tags[i], false, STATE_MAX_NAME, "service tag");
    }
    if (c->has_check) {
        CHECK_FIELD(c->chk_name, false, STATE_MAX_NAME, "check name");
        if (c->chk_id.n == 0)
            c->chk_id = c->chk_name;
        CHECK_FIELD(c->chk_id, false, STATE_MAX_NAME, "check ID");
        if (!state_status_valid(c->status))
            return fail(err, "check status %u invalid (passing, warning or critical)", c->status);
        CHECK_FIELD(c->notes, true, STATE_MAX_NOTES, "check notes");
        CHECK_FIELD(c->output, true, STATE_MAX_OUTPUT, "check output");
        CHECK_FIELD(c->chk_service_id, true, STATE_MAX_NAME, "check service ID");
    }
    return 0;
}

static void decode_register(struct codec_rd *r, struct state_cmd *c, bool *bad)
{
    get_str(r, &c->node);
    get_str(r, &c->address);
    get_str(r, &c->datacenter);
    c->has_service = get_flag(r, bad);
    if (c->has_service) {
        get_str(r, &c->svc_id);
        get_str(r, &c->svc_name);
        uint16_t n = codec_get_u16(r);
        if (n > STATE_MAX_TAGS) {
            *bad = true;
            return;
        }
        c->n_tags = n;
        for (size_t i = 0; i < n; i++)
            get_str(r, &c->tags[i]);
        c->port = codec_get_u16(r);
    }
    c->has_check = get_flag(r, bad);
    if (c->has_check) {
        get_str(r, &c->chk_id);
        get_str(r, &c->chk_name);
        c->status = codec_get_u8(r);
        get_str(r, &c->notes);
        get_str(r, &c->output);
        get_str(r, &c->chk_service_id);
    }
}

int state_cmd_decode(const void *data, size_t len, struct state_cmd *c, char *err)
{
    memset(c, 0, sizeof *c);
    struct codec_rd r;
    codec_rd_init(&r, data, len);
    uint8_t version = codec_get_u8(&r);
    c->op = codec_get_u8(&r);
    if (!codec_rd_ok(&r))
        return fail(err, "command truncated");
    if (version != STATE_CMD_VERSION)
        return fail(err, "command version %u unsupported", version);
    bool bad = false;
    switch (c->op) {
    case STATE_OP_REGISTER:
        decode_register(&r, c, &bad);
        break;
    case STATE_OP_DEREGISTER_NODE:
        get_str(&r, &c->node);
        break;
    case STATE_OP_DEREGISTER_SERVICE:
        get_str(&r, &c->node);
        get_str(&r, &c->svc_id);
        break;
    case STATE_OP_DEREGISTER_CHECK:
        get_str(&r, &c->node);
        get_str(&r, &c->chk_id);
        break;
    case STATE_OP_KV_SET: {
        get_str(&r, &c->key);
        c->flags = codec_get_u64(&r);
        uint32_t vlen = codec_get_u32(&r);
        if (vlen > STATE_MAX_VALUE)
            return fail(err, "value exceeds %u byte limit", STATE_MAX_VALUE);
        c->value = codec_get_bytes(&r, vlen);
        c->value_len = c->value ? vlen : 0;
        c->has_cas = get_flag(&r, &bad);
        c->cas = codec_get_u64(&r);
        if (!c->has_cas && c->cas != 0)
            bad = true;
        break;
    }
    case STATE_OP_KV_DELETE:
    case STATE_OP_KV_DELETE_TREE:
        get_str(&r, &c->key);
        break;
    case STATE_OP_KV_DELETE_CAS:
        get_str(&r, &c->key);
        c->cas = codec_get_u64(&r);
        c->has_cas = true;
        break;
    default:
        return fail(err, "unknown command op %u", c->op);
    }
    if (!codec_rd_ok(&r))
        return fail(err, "command truncated");
    if (bad)
        return fail(err, "command malformed");
    if (codec_rd_remaining(&r) != 0)
        return fail(err, "%zu trailing bytes after command", codec_rd_remaining(&r));

    switch (c->op) {
    case STATE_OP_REGISTER:
        return validate_register(c, err);
    case STATE_OP_DEREGISTER_NODE:
        CHECK_FIELD(c->node, false, STATE_MAX_NAME, "node name");
        return 0;
    case STATE_OP_DEREGISTER_SERVICE:
        CHECK_FIELD(c->node, false, STATE_MAX_NAME, "node name");
        CHECK_FIELD(c->svc_id, false, STATE_MAX_NAME, "service ID");
        return 0;
    case STATE_OP_DEREGISTER_CHECK:
        CHECK_FIELD(c->node, false, STATE_MAX_NAME, "node name");
        CHECK_FIELD(c->chk_id, false, STATE_MAX_NAME, "check ID");
        return 0;
    case STATE_OP_KV_DELETE_TREE:
        /* An empty prefix is Consul's DELETE /v1/kv/?recurse: everything. */
        CHECK_FIELD(c->key, true, STATE_MAX_KEY, "key prefix");
        return 0;
    default:
        CHECK_FIELD(c->key, false, STATE_MAX_KEY, "key");
        return 0;
    }
}

int state_cmd_check(const void *data, size_t len, char *err)
{
    struct state_cmd c;
    return state_cmd_decode(data, len, &c, err);
}

/* ---- encoders ---- */

static void put_str(struct codec_wr *w, const char *s)
{
    struct state_str v = state_str_of(s);
    codec_put_str16(w, v.p, v.n);
}

static void begin(struct codec_wr *w, struct buf *out, uint8_t op)
{
    codec_wr_init(w, out);
    codec_put_u8(w, STATE_CMD_VERSION);
    codec_put_u8(w, op);
}

/* Validates what was appended since start by decoding it, so the encoder and apply can never
 * disagree on what is acceptable; on failure out is restored. */
static int finish(struct codec_wr *w, size_t start, char *err)
{
    if (!codec_wr_ok(w)) {
        w->b->len = start;
        return fail(err, "command too large (a field past 65535 bytes, or out of memory)");
    }
    struct state_cmd c;
    if (state_cmd_decode(w->b->data + start, w->b->len - start, &c, err) != 0) {
        w->b->len = start;
        return -1;
    }
    return 0;
}

int state_cmd_encode_register(struct buf *out, const char *node, const char *address,
                              const char *datacenter, const struct state_service_def *svc,
                              const struct state_check_def *chk, char *err)
{
    size_t start = out->len;
    struct codec_wr w;
    if (svc && svc->n_tags > STATE_MAX_TAGS)
        return fail(err, "more than %u service tags", STATE_MAX_TAGS);
    begin(&w, out, STATE_OP_REGISTER);
    put_str(&w, node);
    put_str(&w, address);
    put_str(&w, datacenter);
    codec_put_u8(&w, svc != NULL);
    if (svc) {
        put_str(&w, svc->id);
        put_str(&w, svc->service);
        codec_put_u16(&w, (uint16_t)svc->n_tags);
        for (size_t i = 0; i < svc->n_tags; i++)
            put_str(&w, svc->tags[i]);
        codec_put_u16(&w, svc->port);
    }
    codec_put_u8(&w, chk != NULL);
    if (chk) {
        put_str(&w, chk->check_id);
        put_str(&w, chk->name);
        codec_put_u8(&w, (uint8_t)chk->status);
        put_str(&w, chk->notes);
        put_str(&w, chk->output);
        put_str(&w, chk->service_id);
    }
    return finish(&w, start, err);
}

static int encode_two(struct buf *out, uint8_t op, const char *a, const char *b, char *err)
{
    size_t start = out->len;
    struct codec_wr w;
    begin(&w, out, op);
    put_str(&w, a);
    if (b)
        put_str(&w, b);
    return finish(&w, start, err);
}

int state_cmd_encode_deregister_node(struct buf *out, const char *node, char *err)
{
    return encode_two(out, STATE_OP_DEREGISTER_NODE, node, NULL, err);
}

int state_cmd_encode_deregister_service(struct buf *out, const char *node, const char *service_id,
                                        char *err)
{
    return encode_two(out, STATE_OP_DEREGISTER_SERVICE, node, service_id ? service_id : "", err);
}

int state_cmd_encode_deregister_check(struct buf *out, const char *node, const char *check_id,
                                      char *err)
{
    return encode_two(out, STATE_OP_DEREGISTER_CHECK, node, check_id ? check_id : "", err);
}

int state_cmd_encode_kv_set(struct buf *out, const char *key, uint64_t flags, const void *value,
                            size_t value_len, bool cas, uint64_t cas_index, char *err)
{
    if (value_len > STATE_MAX_VALUE)
        return fail(err, "value exceeds %u byte limit", STATE_MAX_VALUE);
    size_t start = out->len;
    struct codec_wr w;
    begin(&w, out, STATE_OP_KV_SET);
    put_str(&w, key);
    codec_put_u64(&w, flags);
    codec_put_u32(&w, (uint32_t)value_len);
    if (value_len)
        codec_put_bytes(&w, value, value_len);
    codec_put_u8(&w, cas);
    codec_put_u64(&w, cas ? cas_index : 0);
    return finish(&w, start, err);
}

int state_cmd_encode_kv_delete(struct buf *out, const char *key, bool recurse, char *err)
{
    return encode_two(out, recurse ? STATE_OP_KV_DELETE_TREE : STATE_OP_KV_DELETE, key, NULL,
                      err);
}

int state_cmd_encode_kv_delete_cas(struct buf *out, const char *key, uint64_t cas_index, char *err)
{
    size_t start = out->len;
    struct codec_wr w;
    begin(&w, out, STATE_OP_KV_DELETE_CAS);
    put_str(&w, key);
    codec_put_u64(&w, cas_index);
    return finish(&w, start, err);
}
