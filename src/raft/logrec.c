/* logrec.c — encoding, decoding and the recovery scan of log segment bytes: where torn tails (a
 * crash cut the last write) are told apart from damage to durable data (man tribune-storage.7). */
#include "raft/logrec.h"

#include <string.h>

#include "base/buf.h"
#include "base/crc32c.h"

static const uint8_t seg_magic[8] = {'T', 'R', 'B', 'N', 'R', 'L', 'O', 'G'};
static const uint8_t meta_magic[8] = {'T', 'R', 'B', 'N', 'L', 'M', 'E', 'T'};

void rlog_meta_encode(uint8_t out[RLOG_META_SIZE], uint64_t index, uint64_t term)
{
    memcpy(out, meta_magic, 8);
    codec_store_u32(out + 8, RLOG_FORMAT_VERSION);
    codec_store_u32(out + 12, 0);
    codec_store_u64(out + 16, index);
    codec_store_u64(out + 24, term);
    codec_store_u32(out + 32, crc32c(0, out, 32));
}

int rlog_meta_decode(const uint8_t *p, size_t len, uint64_t *index, uint64_t *term,
                     uint32_t *version)
{
    if (len >= 8 && memcmp(p, meta_magic, 8) != 0)
        return RLOG_HDR_MAGIC;
    if (len >= 12 && (*version = codec_load_u32(p + 8)) != RLOG_FORMAT_VERSION)
        return RLOG_HDR_VERSION;
    if (len != RLOG_META_SIZE)
        return RLOG_HDR_SHORT;
    if (codec_load_u32(p + 32) != crc32c(0, p, 32) || codec_load_u32(p + 12) != 0)
        return RLOG_HDR_CORRUPT;
    *index = codec_load_u64(p + 16);
    *term = codec_load_u64(p + 24);
    return RLOG_HDR_OK;
}

void rlog_seg_header_encode(uint8_t out[RLOG_SEG_HDR_SIZE], uint64_t first_index)
{
    memcpy(out, seg_magic, 8);
    codec_store_u32(out + 8, RLOG_FORMAT_VERSION);
    codec_store_u32(out + 12, 0);
    codec_store_u64(out + 16, first_index);
    codec_store_u32(out + 24, crc32c(0, out, 24));
    codec_store_u32(out + 28, 0);
}

int rlog_seg_header_decode(const uint8_t *p, size_t len, uint64_t *first_index, uint32_t *version)
{
    if (len < RLOG_SEG_HDR_SIZE)
        return RLOG_HDR_SHORT;
    if (memcmp(p, seg_magic, 8) != 0)
        return RLOG_HDR_MAGIC;
    *version = codec_load_u32(p + 8);
    /* The version is judged before the CRC: a future format may checksum differently, and saying
     * "newer format" is more useful than "corrupt". */
    if (*version != RLOG_FORMAT_VERSION)
        return RLOG_HDR_VERSION;
    if (codec_load_u32(p + 24) != crc32c(0, p, 24) || codec_load_u32(p + 12) != 0 ||
        codec_load_u32(p + 28) != 0)
        return RLOG_HDR_CORRUPT;
    *first_index = codec_load_u64(p + 16);
    if (*first_index == 0)
        return RLOG_HDR_CORRUPT;
    return RLOG_HDR_OK;
}

uint32_t rlog_record_crc(const uint8_t h[RLOG_REC_HDR_SIZE], const uint8_t *payload, uint32_t len)
{
    uint32_t c = crc32c(0, h, 24);
    return len ? crc32c(c, payload, len) : c;
}

void rlog_record_encode(uint8_t *out, const struct raft_entry *e)
{
    codec_store_u32(out, e->len);
    out[4] = e->type;
    out[5] = out[6] = out[7] = 0;
    codec_store_u64(out + 8, e->term);
    codec_store_u64(out + 16, e->index);
    if (e->len)
        memcpy(out + RLOG_REC_HDR_SIZE, e->data, e->len);
    codec_store_u32(out + 24, rlog_record_crc(out, out + RLOG_REC_HDR_SIZE, e->len));
}

int rlog_record_header_decode(const uint8_t h[RLOG_REC_HDR_SIZE], struct raft_entry *e,
                              uint32_t *crc)
{
    e->len = codec_load_u32(h);
    e->type = h[4];
    e->term = codec_load_u64(h + 8);
    e->index = codec_load_u64(h + 16);
    e->data = NULL;
    *crc = codec_load_u32(h + 24);
    /* Type 0 and index 0 never occur in a written record, which makes a zero-filled tail (a
     * preallocated or torn region) fail here without a CRC. */
    if (e->len > RLOG_ENTRY_MAX || e->type == 0 || e->index == 0 || h[5] || h[6] || h[7])
        return RLOG_REC_BAD;
    return RLOG_REC_OK;
}

int rlog_record_decode(const uint8_t *p, size_t len, struct raft_entry *e, size_t *size)
{
    if (len < RLOG_REC_HDR_SIZE)
        return RLOG_REC_SHORT;
    uint32_t crc;
    if (rlog_record_header_decode(p, e, &crc) != RLOG_REC_OK)
        return RLOG_REC_BAD;
    if (len - RLOG_REC_HDR_SIZE < e->len)
        return RLOG_REC_SHORT;
    if (rlog_record_crc(p, p + RLOG_REC_HDR_SIZE, e->len) != crc)
        return RLOG_REC_BAD;
    e->data = e->len ? (uint8_t *)(p + RLOG_REC_HDR_SIZE) : NULL;
    *size = rlog_record_size(e->len);
    return RLOG_REC_OK;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* Looks for any record after a bad one that verifies and belongs to this log's future (index at or
 * past the one expected). Such a record proves the bad bytes are not the unfinished end of the last
 * write but damage inside data written before it, so truncating would drop valid entries. The
 * cheap index window test runs first so that the CRC is computed only for plausible candidates. */
static size_t find_later_record(const uint8_t *p, size_t len, size_t from, uint64_t expect)
{
    uint64_t window = (len - from) / RLOG_REC_HDR_SIZE + 1;
    for (size_t off = from + 1; off + RLOG_REC_HDR_SIZE <= len; off++) {
        uint64_t idx = codec_load_u64(p + off + 16);
        if (idx < expect || idx - expect > window)
            continue;
        struct raft_entry e;
        size_t size;
        if (rlog_record_decode(p + off, len - off, &e, &size) == RLOG_REC_OK)
            return off;
    }
    return 0;
}

int rlog_segment_scan(const uint8_t *p, size_t len, uint64_t min_term, rlog_scan_fn fn, void *ctx,
                      struct rlog_scan *out)
{
    memset(out, 0, sizeof *out);
    uint32_t version = 0;
    out->hdr = rlog_seg_header_decode(p, len, &out->first_index, &version);
    if (out->hdr != RLOG_HDR_OK)
        return out->status = RLOG_SCAN_HEADER;
    size_t off = RLOG_SEG_HDR_SIZE;
    uint64_t expect = out->first_index;
    uint64_t term = min_term;
    while (off < len) {
        struct raft_entry e;
        size_t size;
        int rc = rlog_record_decode(p + off, len - off, &e, &size);
        if (rc != RLOG_REC_OK) {
            out->end = out->bad_off = off;
            if (all_zero(p + off, len - off)) {
                out->why = "zero-filled tail";
                return out->status = RLOG_SCAN_TORN;
            }
            out->resume_off = find_later_record(p, len, off, expect);
            if (out->resume_off) {
                out->why = "damaged record followed by valid records";
                return out->status = RLOG_SCAN_CORRUPT;
            }
            out->why = rc == RLOG_REC_SHORT ? "record cut short" : "checksum mismatch";
            return out->status = RLOG_SCAN_TORN;
        }
        /* A record that verifies yet is out of sequence was written so: no crash does that. */
        if (e.index != expect || e.term < term) {
            out->end = out->bad_off = off;
            out->why = e.index != expect ? "index out of sequence" : "term decreases";
            return out->status = RLOG_SCAN_CORRUPT;
        }
        if (fn && fn(ctx, &e, off) != 0) {
            out->end = off;
            return out->status = RLOG_SCAN_ABORTED;
        }
        out->n++;
        expect++;
        term = e.term;
        off += size;
    }
    out->end = off;
    return out->status = RLOG_SCAN_CLEAN;
}
