/* wire.c — frame header, the handshake and every Raft message body: encoding and a decoder that
 * trusts nothing (each length is checked before it is used, each count before it is allocated). */
#include "raft/wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "raft/config.h"

/* Smallest encodings, used to refuse a declared count before allocating for it. */
#define COMMON_LEN 24       /* from, to, term */
#define APPEND_FIXED_LEN 36 /* prev_index, prev_term, commit, read_ctx, u32 count */
#define ENTRY_MIN_LEN 21    /* term, index, type, u32 len */
#define CRC_OFF 12

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

const char *raft_wire_type_name(uint8_t type)
{
    switch (type) {
    case RAFT_MSG_APPEND: return "AppendEntries";
    case RAFT_MSG_APPEND_RESP: return "AppendEntriesResponse";
    case RAFT_MSG_VOTE: return "RequestVote";
    case RAFT_MSG_VOTE_RESP: return "RequestVoteResponse";
    case RAFT_MSG_SNAPSHOT: return "InstallSnapshot";
    case RAFT_MSG_SNAPSHOT_RESP: return "InstallSnapshotResponse";
    case RAFT_MSG_TIMEOUT_NOW: return "TimeoutNow";
    case RAFT_WIRE_HELLO: return "Hello";
    case RAFT_WIRE_SNAPSHOT_CHUNK: return "SnapshotChunk";
    case RAFT_WIRE_REFUSE: return "Refuse";
    default: return "unknown";
    }
}

/* ---- encoding ---- */

static size_t frame_begin(struct codec_wr *w, uint8_t type)
{
    size_t start = w->b->len;
    codec_put_u32(w, RAFT_WIRE_MAGIC);
    codec_put_u8(w, RAFT_WIRE_VERSION_MIN);
    codec_put_u8(w, type);
    codec_put_u16(w, 0);
    codec_put_u32(w, 0); /* body length, patched by frame_end */
    codec_put_u32(w, 0); /* CRC, patched by frame_end */
    return start;
}

/* Patches length and CRC; on any failure removes the partial frame so out stays unchanged. */
static int frame_end(struct codec_wr *w, size_t start)
{
    struct buf *b = w->b;
    if (codec_wr_ok(w) && b->len - start - RAFT_WIRE_HEADER_LEN <= RAFT_WIRE_MAX_BODY) {
        uint8_t *h = b->data + start;
        codec_store_u32(h + 8, (uint32_t)(b->len - start - RAFT_WIRE_HEADER_LEN));
        uint32_t crc = crc32c(0, h, CRC_OFF);
        crc = crc32c(crc, h + RAFT_WIRE_HEADER_LEN, b->len - start - RAFT_WIRE_HEADER_LEN);
        codec_store_u32(h + CRC_OFF, crc);
        return 0;
    }
    b->len = start;
    return -1;
}

static void put_common(struct codec_wr *w, raft_id from, raft_id to, uint64_t term)
{
    codec_put_u64(w, from);
    codec_put_u64(w, to);
    codec_put_u64(w, term);
}

static size_t entry_wire_len(const struct raft_entry *e)
{
    return ENTRY_MIN_LEN + (size_t)e->len;
}

/* Writes entries [first, first+n) as one AppendEntries whose prev is the entry before first. */
static int encode_append_part(const struct raft_msg *m, uint32_t first, uint32_t n,
                              struct buf *out)
{
    const struct raft_msg_append *a = &m->u.append;
    uint64_t prev_index = a->prev_index, prev_term = a->prev_term;
    if (first > 0) {
        prev_index = a->entries[first - 1].index;
        prev_term = a->entries[first - 1].term;
    }
    struct codec_wr w;
    codec_wr_init(&w, out);
    size_t start = frame_begin(&w, RAFT_MSG_APPEND);
    put_common(&w, m->from, m->to, m->term);
    codec_put_u64(&w, prev_index);
    codec_put_u64(&w, prev_term);
    codec_put_u64(&w, a->commit);
    codec_put_u64(&w, a->read_ctx);
    codec_put_u32(&w, n);
    for (uint32_t i = first; i < first + n; i++) {
        const struct raft_entry *e = &a->entries[i];
        codec_put_u64(&w, e->term);
        codec_put_u64(&w, e->index);
        codec_put_u8(&w, e->type);
        codec_put_u32(&w, e->len);
        if (e->len > 0)
            codec_put_bytes(&w, e->data, e->len);
    }
    return frame_end(&w, start);
}

/* Greedy split: as many entries per frame as fit, so a large catch-up batch needs few frames. */
static int encode_append(const struct raft_msg *m, struct buf *out)
{
    const struct raft_msg_append *a = &m->u.append;
    size_t start = out->len;
    uint32_t first = 0;
    do {
        size_t body = COMMON_LEN + APPEND_FIXED_LEN;
        uint32_t n = 0;
        while (first + n < a->n_entries &&
               entry_wire_len(&a->entries[first + n]) <= RAFT_WIRE_MAX_BODY - body) {
            body += entry_wire_len(&a->entries[first + n]);
            n++;
        }
        if (n == 0 && first < a->n_entries)
            goto fail; /* one entry larger than a frame */
        if (encode_append_part(m, first, n, out) != 0)
            goto fail;
        first += n;
    } while (first < a->n_entries);
    return 0;
fail:
    out->len = start;
    return -1;
}

int raft_wire_encode(const struct raft_msg *m, struct buf *out)
{
    if (m->from == 0 || m->to == 0)
        return -1;
    if (m->type == RAFT_MSG_APPEND)
        return encode_append(m, out);
    if (m->type == RAFT_MSG_SNAPSHOT) {
        size_t start = out->len;
        struct raft_wire_snap_iter it;
        raft_wire_snap_iter_init(&it, m, 0);
        int rc;
        while ((rc = raft_wire_snap_iter_next(&it, out)) == 1)
            ;
        if (rc < 0)
            out->len = start;
        return rc;
    }
    struct codec_wr w;
    codec_wr_init(&w, out);
    size_t start = frame_begin(&w, m->type);
    put_common(&w, m->from, m->to, m->term);
    switch (m->type) {
    case RAFT_MSG_APPEND_RESP: {
        const struct raft_msg_append_resp *r = &m->u.append_resp;
        codec_put_u8(&w, r->success ? 1 : 0);
        codec_put_u64(&w, r->match_index);
        codec_put_u64(&w, r->conflict_index);
        codec_put_u64(&w, r->conflict_term);
        codec_put_u64(&w, r->last_index);
        codec_put_u64(&w, r->read_ctx);
        break;
    }
    case RAFT_MSG_VOTE:
        codec_put_u8(&w, m->u.vote.prevote ? 1 : 0);
        codec_put_u8(&w, m->u.vote.transfer ? 1 : 0);
        codec_put_u64(&w, m->u.vote.last_index);
        codec_put_u64(&w, m->u.vote.last_term);
        break;
    case RAFT_MSG_VOTE_RESP:
        codec_put_u8(&w, m->u.vote_resp.prevote ? 1 : 0);
        codec_put_u8(&w, m->u.vote_resp.granted ? 1 : 0);
        break;
    case RAFT_MSG_SNAPSHOT_RESP:
        codec_put_u8(&w, m->u.snapshot_resp.success ? 1 : 0);
        codec_put_u64(&w, m->u.snapshot_resp.last_index);
        break;
    case RAFT_MSG_TIMEOUT_NOW:
        break;
    default:
        out->len = start;
        return -1;
    }
    return frame_end(&w, start);
}

void raft_wire_snap_iter_init(struct raft_wire_snap_iter *it, const struct raft_msg *m,
                              uint32_t chunk)
{
    it->m = m;
    it->off = 0;
    it->chunk = chunk == 0 || chunk > RAFT_WIRE_CHUNK_DATA ? RAFT_WIRE_CHUNK_DATA : chunk;
    it->finished = false;
}

int raft_wire_snap_iter_next(struct raft_wire_snap_iter *it, struct buf *out)
{
    if (it->finished)
        return 0;
    const struct raft_msg *m = it->m;
    const struct raft_msg_snapshot *s = &m->u.snapshot;
    if (m->type != RAFT_MSG_SNAPSHOT || m->from == 0 || m->to == 0 || s->last_index == 0 ||
        s->last_term == 0 || s->config.n > RAFT_CONFIG_MAX_SERVERS || it->off > s->len)
        return -1;
    uint32_t n = s->len - (uint32_t)it->off < it->chunk ? s->len - (uint32_t)it->off : it->chunk;
    bool done = it->off + n == s->len;
    struct codec_wr w;
    codec_wr_init(&w, out);
    size_t start = frame_begin(&w, RAFT_WIRE_SNAPSHOT_CHUNK);
    put_common(&w, m->from, m->to, m->term);
    codec_put_u64(&w, s->last_index);
    codec_put_u64(&w, s->last_term);
    codec_put_u64(&w, it->off);
    codec_put_u64(&w, s->len);
    codec_put_u8(&w, done ? 1 : 0);
    size_t clen_off = out->len;
    codec_put_u32(&w, 0);
    if (it->off == 0 && codec_wr_ok(&w)) {
        if (raft_config_encode(&s->config, out) != 0)
            w.bad = true;
        else
            codec_patch_u32(&w, clen_off, (uint32_t)(out->len - clen_off - 4));
    }
    codec_put_u32(&w, n);
    if (n > 0)
        codec_put_bytes(&w, s->data + it->off, n);
    if (frame_end(&w, start) != 0)
        return -1;
    it->off += n;
    it->finished = done;
    return 1;
}

int raft_wire_encode_hello(const struct raft_wire_hello *h, struct buf *out)
{
    size_t alen = strnlen(h->addr, RAFT_ADDR_MAX);
    size_t clen = strnlen(h->cluster, RAFT_WIRE_CLUSTER_MAX);
    if (h->id == 0 || alen == 0 || alen >= RAFT_ADDR_MAX || clen == 0 ||
        clen >= RAFT_WIRE_CLUSTER_MAX || h->version_min == 0 || h->version_min > h->version_max)
        return -1;
    struct codec_wr w;
    codec_wr_init(&w, out);
    size_t start = frame_begin(&w, RAFT_WIRE_HELLO);
    codec_put_u8(&w, h->version_min);
    codec_put_u8(&w, h->version_max);
    codec_put_u64(&w, h->id);
    codec_put_str16(&w, h->addr, alen);
    codec_put_str16(&w, h->cluster, clen);
    codec_put_u64(&w, h->cluster_id);
    return frame_end(&w, start);
}

int raft_wire_encode_refuse(const char *reason, struct buf *out)
{
    size_t n = strnlen(reason, RAFT_WIRE_REASON_MAX - 1);
    struct codec_wr w;
    codec_wr_init(&w, out);
    size_t start = frame_begin(&w, RAFT_WIRE_REFUSE);
    codec_put_str16(&w, reason, n);
    return frame_end(&w, start);
}

/* ---- decoding ---- */

/* Text fields end up in log lines: printable ASCII only, so a peer cannot forge lines. */
static int get_text(struct codec_rd *r, char *dst, size_t cap, size_t min)
{
    size_t n;
    const uint8_t *s = codec_get_str16(r, &n);
    if (s == NULL || n < min || n >= cap)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return -1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

static int get_bool(struct codec_rd *r, bool *out)
{
    uint8_t v = codec_get_u8(r);
    *out = v == 1;
    return v <= 1 ? 0 : -1;
}

static const char *get_common(struct codec_rd *r, raft_id *from, raft_id *to, uint64_t *term)
{
    *from = codec_get_u64(r);
    *to = codec_get_u64(r);
    *term = codec_get_u64(r);
    if (!codec_rd_ok(r))
        return "truncated body";
    if (*from == 0 || *to == 0)
        return "zero server id";
    return NULL;
}

/* Validates every entry header (the Log Matching shape: consecutive indexes, terms that never
 * decrease and never exceed the sender's) before one allocation holds the array and the data. */
static const char *decode_append(struct codec_rd *r, struct raft_wire_frame *f, char *err,
                                 size_t errlen)
{
    struct raft_msg *m = &f->u.msg;
    struct raft_msg_append *a = &m->u.append;
    a->prev_index = codec_get_u64(r);
    a->prev_term = codec_get_u64(r);
    a->commit = codec_get_u64(r);
    a->read_ctx = codec_get_u64(r);
    uint32_t n = codec_get_u32(r);
    if (!codec_rd_ok(r))
        return "truncated body";
    size_t room = codec_rd_remaining(r) / ENTRY_MIN_LEN;
    if (n > room) {
        set_err(err, errlen, "AppendEntries: %u entries declared but the body holds at most %zu",
                n, room);
        return "";
    }
    if (n > 0 && a->prev_index > UINT64_MAX - n)
        return "entry index overflow";
    struct codec_rd scan = *r;
    size_t data_total = 0;
    uint64_t last_term = a->prev_term;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t term = codec_get_u64(&scan);
        uint64_t index = codec_get_u64(&scan);
        uint8_t type = codec_get_u8(&scan);
        uint32_t len = codec_get_u32(&scan);
        codec_get_bytes(&scan, len);
        if (!codec_rd_ok(&scan))
            return "truncated entry";
        if (index != a->prev_index + 1 + i) {
            set_err(err, errlen, "AppendEntries: entry %u has index %llu, expected %llu", i,
                    (unsigned long long)index, (unsigned long long)(a->prev_index + 1 + i));
            return "";
        }
        if (term < last_term || term > m->term || term == 0)
            return "entry term out of order";
        if (type < RAFT_ENTRY_NOOP || type > RAFT_ENTRY_CONFIG) {
            set_err(err, errlen, "AppendEntries: entry %u has unknown type %u", i, type);
            return "";
        }
        last_term = term;
        data_total += len;
    }
    if (codec_rd_remaining(&scan) != 0)
        return "trailing bytes";
    if (n == 0)
        return NULL;
    uint8_t *mem = malloc((size_t)n * sizeof(struct raft_entry) + data_total);
    if (mem == NULL)
        return "out of memory";
    f->mem = mem;
    a->entries = (struct raft_entry *)(void *)mem;
    a->n_entries = n;
    uint8_t *data = mem + (size_t)n * sizeof(struct raft_entry);
    for (uint32_t i = 0; i < n; i++) {
        struct raft_entry *e = &a->entries[i];
        e->term = codec_get_u64(r);
        e->index = codec_get_u64(r);
        e->type = codec_get_u8(r);
        e->len = codec_get_u32(r);
        e->data = NULL;
        if (e->len > 0) {
            memcpy(data, codec_get_bytes(r, e->len), e->len);
            e->data = data;
            data += e->len;
        }
    }
    return NULL;
}

static const char *decode_chunk(struct codec_rd *r, struct raft_wire_frame *f)
{
    struct raft_wire_chunk *c = &f->u.chunk;
    const char *why = get_common(r, &c->from, &c->to, &c->term);
    if (why != NULL)
        return why;
    c->last_index = codec_get_u64(r);
    c->last_term = codec_get_u64(r);
    c->offset = codec_get_u64(r);
    c->total = codec_get_u64(r);
    if (get_bool(r, &c->done) != 0)
        return "bad done flag";
    uint32_t clen = codec_get_u32(r);
    const uint8_t *cfg = codec_get_bytes(r, clen);
    uint32_t dlen = codec_get_u32(r);
    const uint8_t *data = codec_get_bytes(r, dlen);
    if (!codec_rd_ok(r))
        return "truncated body";
    if (codec_rd_remaining(r) != 0)
        return "trailing bytes";
    if (c->last_index == 0 || c->last_term == 0 || c->last_term > c->term)
        return "bad snapshot index or term";
    if (c->total > UINT32_MAX)
        return "snapshot larger than 4 GiB";
    if (c->offset > c->total || dlen > c->total - c->offset)
        return "chunk beyond the snapshot's end";
    if (c->done != (c->offset + dlen == c->total))
        return "done flag disagrees with offset and length";
    if (dlen == 0 && c->total != 0)
        return "empty chunk";
    if ((c->offset == 0) != (clen > 0))
        return "configuration must be in the first chunk only";
    if (clen > 0 && raft_config_decode(cfg, clen, &c->config) != 0)
        return "malformed configuration";
    c->len = dlen;
    if (dlen > 0) {
        f->mem = malloc(dlen);
        if (f->mem == NULL) {
            raft_config_free(&c->config);
            return "out of memory";
        }
        memcpy(f->mem, data, dlen);
        c->data = f->mem;
    }
    return NULL;
}

static const char *decode_body(struct codec_rd *r, struct raft_wire_frame *f, char *err,
                               size_t errlen)
{
    if (f->type == RAFT_WIRE_HELLO) {
        struct raft_wire_hello *h = &f->u.hello;
        h->version_min = codec_get_u8(r);
        h->version_max = codec_get_u8(r);
        h->id = codec_get_u64(r);
        if (get_text(r, h->addr, sizeof h->addr, 1) != 0)
            return "bad address";
        if (get_text(r, h->cluster, sizeof h->cluster, 1) != 0)
            return "bad cluster name";
        /* Appended after the first release of the frame: a Hello without it knows no cluster. */
        h->cluster_id = codec_rd_remaining(r) >= 8 ? codec_get_u64(r) : 0;
        if (!codec_rd_ok(r))
            return "truncated body";
        if (h->version_min == 0 || h->version_min > h->version_max)
            return "bad version range";
        if (h->id == 0)
            return "zero server id";
        return NULL; /* later versions may append fields: trailing bytes are allowed here */
    }
    if (f->type == RAFT_WIRE_REFUSE) {
        if (get_text(r, f->u.refuse.reason, sizeof f->u.refuse.reason, 0) != 0)
            return "bad reason text";
        return codec_rd_remaining(r) == 0 ? NULL : "trailing bytes";
    }
    if (f->type == RAFT_WIRE_SNAPSHOT_CHUNK)
        return decode_chunk(r, f);

    struct raft_msg *m = &f->u.msg;
    m->type = f->type;
    const char *why = get_common(r, &m->from, &m->to, &m->term);
    if (why != NULL)
        return why;
    switch (m->type) {
    case RAFT_MSG_APPEND:
        return decode_append(r, f, err, errlen);
    case RAFT_MSG_APPEND_RESP: {
        struct raft_msg_append_resp *a = &m->u.append_resp;
        if (get_bool(r, &a->success) != 0)
            return "bad success flag";
        a->match_index = codec_get_u64(r);
        a->conflict_index = codec_get_u64(r);
        a->conflict_term = codec_get_u64(r);
        a->last_index = codec_get_u64(r);
        a->read_ctx = codec_get_u64(r);
        break;
    }
    case RAFT_MSG_VOTE:
        if (get_bool(r, &m->u.vote.prevote) != 0 || get_bool(r, &m->u.vote.transfer) != 0)
            return "bad flag byte";
        m->u.vote.last_index = codec_get_u64(r);
        m->u.vote.last_term = codec_get_u64(r);
        break;
    case RAFT_MSG_VOTE_RESP:
        if (get_bool(r, &m->u.vote_resp.prevote) != 0 ||
            get_bool(r, &m->u.vote_resp.granted) != 0)
            return "bad flag byte";
        break;
    case RAFT_MSG_SNAPSHOT_RESP:
        if (get_bool(r, &m->u.snapshot_resp.success) != 0)
            return "bad success flag";
        m->u.snapshot_resp.last_index = codec_get_u64(r);
        break;
    case RAFT_MSG_TIMEOUT_NOW:
        break;
    default:
        return "unknown message type";
    }
    if (!codec_rd_ok(r))
        return "truncated body";
    return codec_rd_remaining(r) == 0 ? NULL : "trailing bytes";
}

static bool type_known(uint8_t t)
{
    return (t >= RAFT_MSG_APPEND && t <= RAFT_MSG_TIMEOUT_NOW) ||
           (t >= RAFT_WIRE_HELLO && t <= RAFT_WIRE_REFUSE);
}

/* Checks whichever header fields are complete in the first len bytes, so garbage is refused
 * after four bytes rather than after a peer-chosen body length. */
static bool header_bad(const uint8_t *p, size_t len, char *err, size_t errlen)
{
    static const uint8_t magic[4] = {
        (uint8_t)(RAFT_WIRE_MAGIC >> 24), (uint8_t)(RAFT_WIRE_MAGIC >> 16),
        (uint8_t)(RAFT_WIRE_MAGIC >> 8), (uint8_t)RAFT_WIRE_MAGIC};
    size_t m = len < 4 ? len : 4;
    if (memcmp(p, magic, m) != 0) {
        set_err(err, errlen, "bad magic (not a tribune Raft connection)");
        return true;
    }
    if (len > 4 && (p[4] < RAFT_WIRE_VERSION_MIN || p[4] > RAFT_WIRE_VERSION_MAX)) {
        set_err(err, errlen, "unsupported protocol version %u (this server speaks %u..%u)", p[4],
                RAFT_WIRE_VERSION_MIN, RAFT_WIRE_VERSION_MAX);
        return true;
    }
    if (len > 5 && p[5] == RAFT_MSG_SNAPSHOT) {
        set_err(err, errlen, "InstallSnapshot must travel as SnapshotChunk frames");
        return true;
    }
    if (len > 5 && !type_known(p[5])) {
        set_err(err, errlen, "unknown message type %u", p[5]);
        return true;
    }
    if (len > 7 && (((unsigned)p[6] << 8 | p[7]) & RAFT_WIRE_FLAGS_CRITICAL) != 0) {
        set_err(err, errlen, "unknown critical flags 0x%04x", (unsigned)p[6] << 8 | p[7]);
        return true;
    }
    if (len >= 12 && codec_load_u32(p + 8) > RAFT_WIRE_MAX_BODY) {
        set_err(err, errlen, "frame body of %u bytes exceeds the %u-byte limit",
                codec_load_u32(p + 8), RAFT_WIRE_MAX_BODY);
        return true;
    }
    return false;
}

enum raft_wire_status raft_wire_decode(const uint8_t *p, size_t len, struct raft_wire_frame *out,
                                       size_t *consumed, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    *consumed = 0;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (header_bad(p, len, err, errlen))
        return RAFT_WIRE_ERROR;
    if (len < RAFT_WIRE_HEADER_LEN)
        return RAFT_WIRE_NEED_MORE;
    uint32_t body = codec_load_u32(p + 8);
    if (len - RAFT_WIRE_HEADER_LEN < body)
        return RAFT_WIRE_NEED_MORE;
    const uint8_t *b = p + RAFT_WIRE_HEADER_LEN;
    uint32_t want = codec_load_u32(p + CRC_OFF);
    uint32_t got = crc32c(crc32c(0, p, CRC_OFF), b, body);
    out->version = p[4];
    out->type = p[5];
    out->flags = (uint16_t)((unsigned)p[6] << 8 | p[7]);
    const char *name = raft_wire_type_name(out->type);
    if (got != want) {
        set_err(err, errlen, "%s: checksum mismatch (frame says 0x%08x, body is 0x%08x)", name,
                want, got);
        return RAFT_WIRE_ERROR;
    }
    struct codec_rd r;
    codec_rd_init(&r, b, body);
    char detail[160] = "";
    const char *why = decode_body(&r, out, detail, sizeof detail);
    if (why != NULL) {
        if (why[0] != '\0')
            set_err(err, errlen, "%s: %s", name, why);
        else
            set_err(err, errlen, "%s", detail);
        raft_wire_frame_free(out);
        return RAFT_WIRE_ERROR;
    }
    *consumed = RAFT_WIRE_HEADER_LEN + (size_t)body;
    return RAFT_WIRE_OK;
}

void raft_wire_frame_free(struct raft_wire_frame *f)
{
    if (f->type == RAFT_WIRE_SNAPSHOT_CHUNK)
        raft_config_free(&f->u.chunk.config);
    free(f->mem);
    memset(f, 0, sizeof *f);
}

int raft_wire_hello_check(const struct raft_wire_hello *local, const struct raft_wire_hello *remote,
                          raft_id expect_id, char *err, size_t errlen)
{
    if (remote->id == 0) {
        set_err(err, errlen, "peer sent a zero server id");
        return -1;
    }
    if (remote->id == local->id) {
        set_err(err, errlen, "peer has our own server id %016llx (connected to ourselves?)",
                (unsigned long long)remote->id);
        return -1;
    }
    if (expect_id != 0 && remote->id != expect_id) {
        set_err(err, errlen, "expected server %016llx at %s but %016llx answered",
                (unsigned long long)expect_id, remote->addr, (unsigned long long)remote->id);
        return -1;
    }
    if (strcmp(local->cluster, remote->cluster) != 0) {
        set_err(err, errlen, "peer %s belongs to cluster \"%s\", not \"%s\"", remote->addr,
                remote->cluster, local->cluster);
        return -1;
    }
    /* Two logs bootstrapped apart share no history: letting one leader replicate to the other's
     * servers would overwrite committed entries. A side that knows no cluster yet may join. */
    if (local->cluster_id != 0 && remote->cluster_id != 0 && local->cluster_id != remote->cluster_id) {
        set_err(err, errlen,
                "peer %s belongs to Raft cluster %016llx, this server to %016llx: they were "
                "bootstrapped separately",
                remote->addr, (unsigned long long)remote->cluster_id,
                (unsigned long long)local->cluster_id);
        return -1;
    }
    int hi = local->version_max < remote->version_max ? local->version_max : remote->version_max;
    int lo = local->version_min > remote->version_min ? local->version_min : remote->version_min;
    if (hi < lo) {
        set_err(err, errlen, "no common protocol version (peer %s speaks %u..%u, we speak %u..%u)",
                remote->addr, remote->version_min, remote->version_max, local->version_min,
                local->version_max);
        return -1;
    }
    return hi;
}
