/* buf.h — growable byte buffers with a hard size limit, and a big-endian reader/writer over them.
 * Every decoder in tribune reads through struct codec_rd, whose errors are sticky: read a whole
 * message, then check codec_rd_ok() once; a short or lying input can never read out of bounds. */
#ifndef TRIBUNE_BASE_BUF_H
#define TRIBUNE_BASE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes [0, len) are valid. limit bounds cap (0 means SIZE_MAX); growth past it fails. */
struct buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t limit;
};

void buf_init(struct buf *b, size_t limit);
void buf_free(struct buf *b);
/* Ensures room for extra more bytes. 0, or -1 when the limit or memory would be exceeded. */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *data, size_t len);
/* Drops the first n bytes (n <= len), keeping the rest. */
void buf_consume(struct buf *b, size_t n);
void buf_clear(struct buf *b);

/* Writer: appends big-endian integers and raw bytes to a buf; the first failure sticks. */
struct codec_wr {
    struct buf *b;
    bool bad;
};

void codec_wr_init(struct codec_wr *w, struct buf *b);
void codec_put_u8(struct codec_wr *w, uint8_t v);
void codec_put_u16(struct codec_wr *w, uint16_t v);
void codec_put_u32(struct codec_wr *w, uint32_t v);
void codec_put_u64(struct codec_wr *w, uint64_t v);
void codec_put_bytes(struct codec_wr *w, const void *p, size_t n);
/* A u16 length followed by the bytes; fails (sticky) when n > UINT16_MAX. */
void codec_put_str16(struct codec_wr *w, const void *p, size_t n);
/* Overwrites 4 bytes at off (already written) with v, big-endian: for back-patching lengths. */
void codec_patch_u32(struct codec_wr *w, size_t off, uint32_t v);
bool codec_wr_ok(const struct codec_wr *w);

/* Reader over a borrowed byte range. */
struct codec_rd {
    const uint8_t *p;
    size_t len;
    size_t off;
    bool bad;
};

void codec_rd_init(struct codec_rd *r, const void *p, size_t len);
uint8_t codec_get_u8(struct codec_rd *r);
uint16_t codec_get_u16(struct codec_rd *r);
uint32_t codec_get_u32(struct codec_rd *r);
uint64_t codec_get_u64(struct codec_rd *r);
/* Returns a pointer to the next n bytes inside the input, or NULL (and marks the reader bad). */
const uint8_t *codec_get_bytes(struct codec_rd *r, size_t n);
/* Reads a u16 length and that many bytes; *n receives the length. NULL when short. */
const uint8_t *codec_get_str16(struct codec_rd *r, size_t *n);
size_t codec_rd_remaining(const struct codec_rd *r);
bool codec_rd_ok(const struct codec_rd *r);

/* Plain big-endian loads and stores for fixed headers already known to be in bounds. */
static inline uint32_t codec_load_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline uint64_t codec_load_u64(const uint8_t *p)
{
    return (uint64_t)codec_load_u32(p) << 32 | codec_load_u32(p + 4);
}

static inline void codec_store_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void codec_store_u64(uint8_t *p, uint64_t v)
{
    codec_store_u32(p, (uint32_t)(v >> 32));
    codec_store_u32(p + 4, (uint32_t)v);
}

#endif
