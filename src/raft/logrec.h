/* logrec.h — the on-disk formats of the Raft log (segment header, records, log-meta) and the pure
 * recovery scan over a segment's bytes; no I/O, so tests and the fuzzer reach it directly. */
/* The format is specified in man/tribune-storage.7; all integers are big-endian. */
#ifndef TRIBUNE_RAFT_LOGREC_H
#define TRIBUNE_RAFT_LOGREC_H

#include <stddef.h>
#include <stdint.h>

#include "raft/msg.h"

#define RLOG_FORMAT_VERSION 1u
#define RLOG_SEG_HDR_SIZE 32 /* magic 8, version 4, flags 4, first_index 8, crc 4, zero 4 */
#define RLOG_REC_HDR_SIZE 28 /* length 4, type 1, zero 3, term 8, index 8, crc 4 */
/* Largest payload a record may carry: a decoder refuses longer lengths outright, so a corrupt
 * length can never make recovery allocate or read absurd amounts. */
#define RLOG_ENTRY_MAX (64u << 20)

enum rlog_hdr_status {
    RLOG_HDR_OK = 0,
    RLOG_HDR_SHORT,   /* fewer than RLOG_SEG_HDR_SIZE bytes */
    RLOG_HDR_MAGIC,   /* not a tribune log segment */
    RLOG_HDR_VERSION, /* a format this build does not read (future or foreign) */
    RLOG_HDR_CORRUPT, /* checksum or reserved fields wrong */
};

void rlog_seg_header_encode(uint8_t out[RLOG_SEG_HDR_SIZE], uint64_t first_index);
/* enum rlog_hdr_status; *first_index and *version are set when known. */
int rlog_seg_header_decode(const uint8_t *p, size_t len, uint64_t *first_index, uint32_t *version);

static inline size_t rlog_record_size(uint32_t payload_len)
{
    return RLOG_REC_HDR_SIZE + (size_t)payload_len;
}

/* Writes rlog_record_size(e->len) bytes to out. */
void rlog_record_encode(uint8_t *out, const struct raft_entry *e);

enum rlog_rec_status {
    RLOG_REC_OK = 0,
    RLOG_REC_SHORT, /* the input ends inside this record */
    RLOG_REC_BAD,   /* impossible fields or checksum mismatch */
};

/* Checks the fixed fields of a record header (everything but the CRC, which covers the payload).
 * Fills e (data = NULL) and *crc. RLOG_REC_OK or RLOG_REC_BAD. */
int rlog_record_header_decode(const uint8_t h[RLOG_REC_HDR_SIZE], struct raft_entry *e,
                              uint32_t *crc);
/* CRC-32C of a record: header bytes 0..23, then the payload. */
uint32_t rlog_record_crc(const uint8_t h[RLOG_REC_HDR_SIZE], const uint8_t *payload, uint32_t len);

/* Decodes one whole record at p. On RLOG_REC_OK, e->data points into p and *size is the record's
 * size; otherwise e and *size are unspecified. */
int rlog_record_decode(const uint8_t *p, size_t len, struct raft_entry *e, size_t *size);

/* log-meta, the compaction marker: "TRBNLMET", u32 version, u32 0, u64 index, u64 term, u32 CRC
 * of the 32 bytes before it. */
#define RLOG_META_SIZE 36
void rlog_meta_encode(uint8_t out[RLOG_META_SIZE], uint64_t index, uint64_t term);
/* enum rlog_hdr_status: SHORT for any size other than RLOG_META_SIZE, MAGIC, VERSION (*version
 * set), CORRUPT for a CRC or reserved-field mismatch. */
int rlog_meta_decode(const uint8_t *p, size_t len, uint64_t *index, uint64_t *term,
                     uint32_t *version);

enum rlog_scan_status {
    RLOG_SCAN_CLEAN = 0, /* valid records end exactly at the end of the bytes */
    RLOG_SCAN_TORN,      /* a bad record with nothing valid after it: what a crash leaves */
    RLOG_SCAN_CORRUPT,   /* damage followed by valid data, or a valid record out of sequence */
    RLOG_SCAN_HEADER,    /* the segment header itself is bad (hdr holds the reason) */
    RLOG_SCAN_ABORTED,   /* the callback returned nonzero */
};

struct rlog_scan {
    int status;           /* enum rlog_scan_status */
    int hdr;              /* enum rlog_hdr_status */
    uint64_t first_index; /* from the header */
    uint64_t n;           /* valid records, all delivered to the callback */
    size_t end;           /* offset just past the last valid record (header size if none) */
    size_t bad_off;       /* TORN/CORRUPT: offset of the first bad record (== end) */
    size_t resume_off;    /* CORRUPT after damage: a later record that verifies; else 0 */
    const char *why;      /* TORN/CORRUPT: a short static reason */
};

/* Called for each valid record in order; off is the record's offset. Nonzero stops the scan. */
typedef int (*rlog_scan_fn)(void *ctx, const struct raft_entry *e, size_t off);

/* Verifies a whole segment image: header, then records whose indexes run first_index, +1, ... and
 * whose terms never fall below min_term or each other. Returns out->status. Never reads outside
 * [p, p+len) and allocates nothing. */
int rlog_segment_scan(const uint8_t *p, size_t len, uint64_t min_term, rlog_scan_fn fn, void *ctx,
                      struct rlog_scan *out);

#endif
