/* fuzz_logrecord.c — libFuzzer target for the Raft storage formats: the input is taken as a segment
 * image for the recovery scan, as bare records, and as a meta and a log-meta file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "raft/logrec.h"
#include "raft/meta.h"

struct ctx {
    const uint8_t *p;
    size_t len;
    uint64_t next;
};

static int on_record(void *c, const struct raft_entry *e, size_t off)
{
    struct ctx *x = c;
    /* Every delivered record lies inside the input, runs in sequence, and re-encodes to the
     * exact bytes it was decoded from (the format has one spelling per entry). */
    size_t size = rlog_record_size(e->len);
    if (off > x->len || size > x->len - off || e->index != x->next)
        abort();
    uint8_t *buf = malloc(size);
    if (buf == NULL)
        abort();
    rlog_record_encode(buf, e);
    if (memcmp(buf, x->p + off, size) != 0)
        abort();
    free(buf);
    x->next++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rlog_scan sc;
    uint64_t first = 0;
    uint32_t version = 0;
    int hdr = rlog_seg_header_decode(data, size, &first, &version);
    struct ctx c = {data, size, first};
    int st = rlog_segment_scan(data, size, 0, on_record, &c, &sc);
    if ((hdr == RLOG_HDR_OK) != (st != RLOG_SCAN_HEADER) || sc.end > size)
        abort();
    if (st == RLOG_SCAN_CLEAN && sc.end != size && size >= RLOG_SEG_HDR_SIZE)
        abort();
    if (st == RLOG_SCAN_CORRUPT && sc.resume_off && sc.resume_off <= sc.bad_off)
        abort();

    size_t off = 0;
    while (off < size) {
        struct raft_entry e;
        size_t n = 0;
        if (rlog_record_decode(data + off, size - off, &e, &n) != RLOG_REC_OK)
            break;
        if (n == 0 || n > size - off)
            abort();
        off += n;
    }

    /* Both small-file decoders accept exactly what their encoders produce, and only that. */
    uint64_t a = 0, b = 0;
    struct raft_meta meta;
    char err[RAFT_META_ERRMAX];
    if (rlog_meta_decode(data, size, &a, &b, &version) == RLOG_HDR_OK) {
        uint8_t again[RLOG_META_SIZE];
        rlog_meta_encode(again, a, b);
        if (size != RLOG_META_SIZE || memcmp(again, data, size) != 0)
            abort();
    }
    if (raft_meta_decode(data, size, &meta, err, sizeof err) == 0 && size != RAFT_META_SIZE &&
        size != RAFT_META_SIZE_V1)
        abort();
    return 0;
}
