/* rpc_frame.c — encoding and distrustful decoding of agent RPC frames (forwarded HTTP calls):
 * every length is checked against the input and the frame bound before anything is used. */
#include "agent/rpc_frame.h"

#include <stdio.h>
#include <string.h>

static void put_str(struct codec_wr *w, struct agent_rpc_str s)
{
    codec_put_str16(w, s.p, s.n);
}

int agent_rpc_encode(const struct agent_rpc_frame *f, struct buf *out)
{
    if (f->type != AGENT_RPC_REQUEST && f->type != AGENT_RPC_RESPONSE)
        return -1;
    struct codec_wr w;
    codec_wr_init(&w, out);
    size_t start = out->len;
    codec_put_u32(&w, 0);
    codec_put_u8(&w, f->type);
    if (f->type == AGENT_RPC_REQUEST) {
        codec_put_u8(&w, f->hops);
        put_str(&w, f->method);
        put_str(&w, f->target);
    } else {
        codec_put_u16(&w, f->status);
        put_str(&w, f->index);
        put_str(&w, f->known_leader);
        put_str(&w, f->last_contact);
        put_str(&w, f->content_type);
    }
    /* Checked before the body is copied: the bound, not the caller's buffer, decides. */
    if (!codec_wr_ok(&w) || f->body_len > AGENT_RPC_FRAME_MAX - (out->len - start)) {
        out->len = start;
        return -1;
    }
    codec_put_u32(&w, (uint32_t)f->body_len);
    codec_put_bytes(&w, f->body, f->body_len);
    if (!codec_wr_ok(&w)) {
        out->len = start;
        return -1;
    }
    size_t len = out->len - start - 4;
    codec_patch_u32(&w, start, (uint32_t)len);
    return 0;
}

/* A header value or target must not smuggle a line break (or a NUL) into HTTP. */
static bool printable(struct agent_rpc_str s)
{
    for (size_t i = 0; i < s.n; i++)
        if ((unsigned char)s.p[i] < 0x20 || s.p[i] == 0x7f)
            return false;
    return true;
}

static struct agent_rpc_str get_str(struct codec_rd *r)
{
    struct agent_rpc_str s = {"", 0};
    size_t n = 0;
    const uint8_t *p = codec_get_str16(r, &n);
    if (p != NULL) {
        s.p = (const char *)p;
        s.n = n;
    }
    return s;
}

static bool method_ok(struct agent_rpc_str m)
{
    if (m.n == 0 || m.n > 16)
        return false;
    for (size_t i = 0; i < m.n; i++)
        if (m.p[i] < 'A' || m.p[i] > 'Z')
            return false;
    return true;
}

enum agent_rpc_status agent_rpc_decode(const uint8_t *p, size_t n, struct agent_rpc_frame *f,
                                       size_t *used, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    if (n < 4)
        return AGENT_RPC_NEED_MORE;
    uint32_t len = codec_load_u32(p);
    if (len > AGENT_RPC_FRAME_MAX) {
        snprintf(err, errlen, "rpc frame of %u bytes exceeds the limit of %zu", len,
                 AGENT_RPC_FRAME_MAX);
        return AGENT_RPC_ERROR;
    }
    if (n - 4 < len)
        return AGENT_RPC_NEED_MORE;
    struct codec_rd r;
    codec_rd_init(&r, p + 4, len);
    f->type = codec_get_u8(&r);
    if (f->type == AGENT_RPC_REQUEST) {
        f->hops = codec_get_u8(&r);
        f->method = get_str(&r);
        f->target = get_str(&r);
    } else if (f->type == AGENT_RPC_RESPONSE) {
        f->status = codec_get_u16(&r);
        f->index = get_str(&r);
        f->known_leader = get_str(&r);
        f->last_contact = get_str(&r);
        f->content_type = get_str(&r);
    } else if (codec_rd_ok(&r)) {
        snprintf(err, errlen, "unknown rpc frame type %u", f->type);
        return AGENT_RPC_ERROR;
    }
    uint32_t blen = codec_get_u32(&r);
    f->body = codec_get_bytes(&r, blen);
    f->body_len = blen;
    if (!codec_rd_ok(&r)) {
        snprintf(err, errlen, "truncated rpc frame");
        return AGENT_RPC_ERROR;
    }
    if (codec_rd_remaining(&r) != 0) {
        snprintf(err, errlen, "%zu trailing bytes in an rpc frame", codec_rd_remaining(&r));
        return AGENT_RPC_ERROR;
    }
    if (f->type == AGENT_RPC_REQUEST) {
        if (!method_ok(f->method) || f->target.n == 0 || f->target.p[0] != '/' ||
            !printable(f->target) || memchr(f->target.p, ' ', f->target.n) != NULL) {
            snprintf(err, errlen, "malformed rpc request line");
            return AGENT_RPC_ERROR;
        }
    } else if (f->status < 100 || f->status > 599 || !printable(f->index) ||
               !printable(f->known_leader) || !printable(f->last_contact) ||
               !printable(f->content_type)) {
        snprintf(err, errlen, "malformed rpc response header");
        return AGENT_RPC_ERROR;
    }
    *used = 4 + (size_t)len;
    return AGENT_RPC_OK;
}
