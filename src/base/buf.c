/* buf.c — growable byte buffers and the bounds-checked big-endian codec.
 * Growth doubles capacity so appends are amortised O(1), but never past the buffer's limit. */
#include "base/buf.h"

#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit ? limit : SIZE_MAX;
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

int buf_reserve(struct buf *b, size_t extra)
{
    if (extra > b->limit - b->len)
        return -1;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->limit)
        cap = b->limit;
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    if (buf_reserve(b, len) != 0)
        return -1;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return 0;
}

void buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void buf_clear(struct buf *b)
{
    b->len = 0;
}

void codec_wr_init(struct codec_wr *w, struct buf *b)
{
    w->b = b;
    w->bad = false;
}

void codec_put_bytes(struct codec_wr *w, const void *p, size_t n)
{
    if (!w->bad && buf_append(w->b, p, n) != 0)
        w->bad = true;
}

void codec_put_u8(struct codec_wr *w, uint8_t v)
{
    codec_put_bytes(w, &v, 1);
}

void codec_put_u16(struct codec_wr *w, uint16_t v)
{
    uint8_t t[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    codec_put_bytes(w, t, 2);
}

void codec_put_u32(struct codec_wr *w, uint32_t v)
{
    uint8_t t[4];
    codec_store_u32(t, v);
    codec_put_bytes(w, t, 4);
}

void codec_put_u64(struct codec_wr *w, uint64_t v)
{
    uint8_t t[8];
    codec_store_u64(t, v);
    codec_put_bytes(w, t, 8);
}

void codec_put_str16(struct codec_wr *w, const void *p, size_t n)
{
    if (n > UINT16_MAX) {
        w->bad = true;
        return;
    }
    codec_put_u16(w, (uint16_t)n);
    codec_put_bytes(w, p, n);
}

void codec_patch_u32(struct codec_wr *w, size_t off, uint32_t v)
{
    if (w->bad || off > w->b->len || w->b->len - off < 4) {
        w->bad = true;
        return;
    }
    codec_store_u32(w->b->data + off, v);
}

bool codec_wr_ok(const struct codec_wr *w)
{
    return !w->bad;
}

void codec_rd_init(struct codec_rd *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->off = 0;
    r->bad = false;
}

const uint8_t *codec_get_bytes(struct codec_rd *r, size_t n)
{
    if (r->bad || n > r->len - r->off) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *q = r->p + r->off;
    r->off += n;
    return q;
}

uint8_t codec_get_u8(struct codec_rd *r)
{
    const uint8_t *q = codec_get_bytes(r, 1);
    return q ? q[0] : 0;
}

uint16_t codec_get_u16(struct codec_rd *r)
{
    const uint8_t *q = codec_get_bytes(r, 2);
    return q ? (uint16_t)((unsigned)q[0] << 8 | q[1]) : 0;
}

uint32_t codec_get_u32(struct codec_rd *r)
{
    const uint8_t *q = codec_get_bytes(r, 4);
    return q ? codec_load_u32(q) : 0;
}

uint64_t codec_get_u64(struct codec_rd *r)
{
    const uint8_t *q = codec_get_bytes(r, 8);
    return q ? codec_load_u64(q) : 0;
}

const uint8_t *codec_get_str16(struct codec_rd *r, size_t *n)
{
    size_t len = codec_get_u16(r);
    const uint8_t *q = codec_get_bytes(r, len);
    *n = q ? len : 0;
    return q;
}

size_t codec_rd_remaining(const struct codec_rd *r)
{
    return r->bad ? 0 : r->len - r->off;
}

bool codec_rd_ok(const struct codec_rd *r)
{
    return !r->bad;
}
