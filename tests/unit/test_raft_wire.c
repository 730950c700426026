/* test_raft_wire.c — Raft wire frames: round trips of every message, splitting and reassembly,
 * and the decoder's refusal (with the right reason) of every kind of malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "raft/config.h"
#include "raft/wire.h"

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

static bool entries_equal(const struct raft_entry *a, const struct raft_entry *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (a[i].term != b[i].term || a[i].index != b[i].index || a[i].type != b[i].type ||
            a[i].len != b[i].len)
            return false;
        if (a[i].len && memcmp(a[i].data, b[i].data, a[i].len) != 0)
            return false;
        if (a[i].len == 0 && b[i].data != NULL)
            return false;
    }
    return true;
}

static bool msg_equal(const struct raft_msg *a, const struct raft_msg *b)
{
    if (a->type != b->type || a->from != b->from || a->to != b->to || a->term != b->term)
        return false;
    switch (a->type) {
    case RAFT_MSG_APPEND: {
        const struct raft_msg_append *x = &a->u.append, *y = &b->u.append;
        return x->prev_index == y->prev_index && x->prev_term == y->prev_term &&
               x->commit == y->commit && x->read_ctx == y->read_ctx &&
               x->n_entries == y->n_entries && entries_equal(x->entries, y->entries, x->n_entries);
    }
    case RAFT_MSG_APPEND_RESP:
        return memcmp(&a->u.append_resp, &b->u.append_resp, sizeof a->u.append_resp) == 0;
    case RAFT_MSG_VOTE:
        return a->u.vote.prevote == b->u.vote.prevote && a->u.vote.transfer == b->u.vote.transfer &&
               a->u.vote.last_index == b->u.vote.last_index &&
               a->u.vote.last_term == b->u.vote.last_term;
    case RAFT_MSG_VOTE_RESP:
        return a->u.vote_resp.prevote == b->u.vote_resp.prevote &&
               a->u.vote_resp.granted == b->u.vote_resp.granted;
    case RAFT_MSG_SNAPSHOT: {
        const struct raft_msg_snapshot *x = &a->u.snapshot, *y = &b->u.snapshot;
        return x->last_index == y->last_index && x->last_term == y->last_term &&
               raft_config_equal(&x->config, &y->config) && x->len == y->len &&
               (x->len == 0 || memcmp(x->data, y->data, x->len) == 0);
    }
    case RAFT_MSG_SNAPSHOT_RESP:
        return a->u.snapshot_resp.success == b->u.snapshot_resp.success &&
               a->u.snapshot_resp.last_index == b->u.snapshot_resp.last_index;
    case RAFT_MSG_TIMEOUT_NOW:
        return true;
    default:
        return false;
    }
}

static struct raft_msg base_msg(uint8_t type)
{
    struct raft_msg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.from = 0x0102030405060708ull;
    m.to = 0xfffffffffffffff1ull;
    m.term = 77;
    return m;
}

/* Entries prev+1.. with terms climbing to the message term, lengths from lens[]. */
static struct raft_entry *make_entries(uint64_t prev, const uint32_t *lens, uint32_t n)
{
    struct raft_entry *e = calloc(n ? n : 1, sizeof *e);
    for (uint32_t i = 0; i < n; i++) {
        e[i].index = prev + 1 + i;
        e[i].term = 70 + (i * 7) / (n ? n : 1);
        e[i].type = (uint8_t)(RAFT_ENTRY_NOOP + i % 3);
        e[i].len = lens[i];
        if (lens[i]) {
            e[i].data = malloc(lens[i]);
            fill(e[i].data, lens[i], i + 1);
        }
    }
    return e;
}

static void free_entries(struct raft_entry *e, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        free(e[i].data);
    free(e);
}

/* Decodes one whole frame that must be exactly the buffer. */
static void decode_one(const struct buf *b, struct raft_wire_frame *f)
{
    size_t used = 0;
    char err[256];
    enum raft_wire_status st = raft_wire_decode(b->data, b->len, f, &used, err, sizeof err);
    if (st != RAFT_WIRE_OK)
        fail_msg("decode failed: %s", err);
    assert_int_equal(used, b->len);
}

static void round_trip(const struct raft_msg *m)
{
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(raft_wire_encode(m, &b), 0);
    struct raft_wire_frame f;
    decode_one(&b, &f);
    assert_int_equal(f.type, m->type);
    assert_int_equal(f.version, 1);
    assert_true(msg_equal(m, &f.u.msg));
    raft_wire_frame_free(&f);
    buf_free(&b);
}

static void round_trip_small_messages(void **state)
{
    (void)state;
    struct raft_msg m = base_msg(RAFT_MSG_APPEND_RESP);
    m.u.append_resp = (struct raft_msg_append_resp){true, 10, 0, 0, 12, 99};
    round_trip(&m);
    m.u.append_resp = (struct raft_msg_append_resp){false, 0, 5, 3, UINT64_MAX, 0};
    round_trip(&m);
    for (int pv = 0; pv < 2; pv++)
        for (int tr = 0; tr < 2; tr++) {
            m = base_msg(RAFT_MSG_VOTE);
            m.u.vote = (struct raft_msg_vote){pv, tr, 1234, 76};
            round_trip(&m);
            m = base_msg(RAFT_MSG_VOTE_RESP);
            m.u.vote_resp = (struct raft_msg_vote_resp){pv, tr};
            round_trip(&m);
        }
    m = base_msg(RAFT_MSG_SNAPSHOT_RESP);
    m.u.snapshot_resp = (struct raft_msg_snapshot_resp){true, 500};
    round_trip(&m);
    m = base_msg(RAFT_MSG_TIMEOUT_NOW);
    m.term = 0;
    round_trip(&m);
}

static void round_trip_append(void **state)
{
    (void)state;
    static const uint32_t lens[] = {0, 1, 17, 0, 4096, 3, 65536, 2, 0, 100};
    for (uint32_t n = 0; n <= 10; n++) {
        struct raft_msg m = base_msg(RAFT_MSG_APPEND);
        m.u.append.prev_index = n ? 41 : 0;
        m.u.append.prev_term = n ? 69 : 0;
        m.u.append.commit = 40;
        m.u.append.read_ctx = n;
        m.u.append.n_entries = n;
        m.u.append.entries = n ? make_entries(41, lens, n) : NULL;
        round_trip(&m);
        free_entries(m.u.append.entries, n);
    }
    /* Many small entries, and one payload near the frame limit. */
    uint32_t many[1000];
    for (uint32_t i = 0; i < 1000; i++)
        many[i] = i % 50;
    struct raft_msg m = base_msg(RAFT_MSG_APPEND);
    m.u.append.n_entries = 1000;
    m.u.append.entries = make_entries(0, many, 1000);
    round_trip(&m);
    free_entries(m.u.append.entries, 1000);
    uint32_t big = RAFT_WIRE_MAX_BODY - 24 - 36 - 21;
    m.u.append.n_entries = 1;
    m.u.append.entries = make_entries(0, &big, 1);
    round_trip(&m);
    free_entries(m.u.append.entries, 1);
}

/* A batch larger than a frame becomes several AppendEntries that chain prev_index/prev_term and
 * together carry exactly the original entries. */
static void append_batch_splits(void **state)
{
    (void)state;
    uint32_t lens[9];
    for (int i = 0; i < 9; i++)
        lens[i] = 1000 * 1000 + (uint32_t)i;
    struct raft_msg m = base_msg(RAFT_MSG_APPEND);
    m.u.append.prev_index = 5;
    m.u.append.prev_term = 60;
    m.u.append.commit = 3;
    m.u.append.n_entries = 9;
    m.u.append.entries = make_entries(5, lens, 9);
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(raft_wire_encode(&m, &b), 0);

    size_t off = 0;
    uint32_t seen = 0, frames = 0;
    uint64_t prev_index = 5, prev_term = 60;
    while (off < b.len) {
        struct raft_wire_frame f;
        size_t used;
        char err[256];
        assert_int_equal(raft_wire_decode(b.data + off, b.len - off, &f, &used, err, sizeof err),
                         RAFT_WIRE_OK);
        const struct raft_msg_append *a = &f.u.msg.u.append;
        assert_true(used <= RAFT_WIRE_MAX_FRAME);
        assert_int_equal(a->prev_index, prev_index);
        assert_int_equal(a->prev_term, prev_term);
        assert_int_equal(a->commit, 3);
        assert_true(a->n_entries > 0);
        assert_true(entries_equal(a->entries, m.u.append.entries + seen, a->n_entries));
        seen += a->n_entries;
        prev_index = a->entries[a->n_entries - 1].index;
        prev_term = a->entries[a->n_entries - 1].term;
        frames++;
        off += used;
        raft_wire_frame_free(&f);
    }
    assert_int_equal(seen, 9);
    assert_int_equal(frames, 3); /* four 1 MB entries fit in 4 MiB, five do not */
    buf_free(&b);
    free_entries(m.u.append.entries, 9);
}

static void encode_refusals_leave_buffer_unchanged(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    buf_append(&b, "xyz", 3);
    uint32_t huge = RAFT_WIRE_MAX_BODY;
    struct raft_msg m = base_msg(RAFT_MSG_APPEND);
    m.u.append.n_entries = 1;
    m.u.append.entries = make_entries(0, &huge, 1);
    assert_int_equal(raft_wire_encode(&m, &b), -1);
    assert_int_equal(b.len, 3);
    free_entries(m.u.append.entries, 1);

    m = base_msg(RAFT_MSG_VOTE);
    m.from = 0;
    assert_int_equal(raft_wire_encode(&m, &b), -1);
    m = base_msg(42);
    assert_int_equal(raft_wire_encode(&m, &b), -1);
    assert_int_equal(b.len, 3);
    buf_free(&b);

    /* A buffer that cannot grow enough: the partial frame is removed. */
    buf_init(&b, 20);
    m = base_msg(RAFT_MSG_VOTE);
    assert_int_equal(raft_wire_encode(&m, &b), -1);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static struct raft_msg make_snapshot(uint32_t len)
{
    struct raft_msg m = base_msg(RAFT_MSG_SNAPSHOT);
    m.u.snapshot.last_index = 1000;
    m.u.snapshot.last_term = 77;
    m.u.snapshot.config.n = 0;
    m.u.snapshot.config.servers = NULL;
    raft_config_put(&m.u.snapshot.config, 1, "10.0.0.1:8300", true);
    raft_config_put(&m.u.snapshot.config, 2, "10.0.0.2:8300", false);
    m.u.snapshot.len = len;
    m.u.snapshot.data = len ? malloc(len) : NULL;
    fill(m.u.snapshot.data, len, 9);
    return m;
}

/* Decodes all chunks in b into the assembler; returns the number of chunks. */
static int feed_all(const struct buf *b, struct raft_wire_snap_asm *a, struct raft_msg *out)
{
    size_t off = 0;
    int chunks = 0, done = 0;
    while (off < b->len) {
        struct raft_wire_frame f;
        size_t used;
        char err[256];
        assert_int_equal(raft_wire_decode(b->data + off, b->len - off, &f, &used, err, sizeof err),
                         RAFT_WIRE_OK);
        assert_int_equal(f.type, RAFT_WIRE_SNAPSHOT_CHUNK);
        assert_int_equal(done, 0);
        done = raft_wire_snap_asm_feed(a, &f.u.chunk, out, err, sizeof err);
        assert_true(done >= 0);
        raft_wire_frame_free(&f);
        off += used;
        chunks++;
    }
    assert_int_equal(done, 1);
    return chunks;
}

static void snapshot_chunks_reassemble(void **state)
{
    (void)state;
    static const struct {
        uint32_t len, chunk;
        int chunks;
    } cases[] = {
        {0, 0, 1}, {1, 0, 1}, {2621440, 0, 3}, {10000, 1000, 10}, {10001, 1000, 11},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct raft_msg m = make_snapshot(cases[i].len);
        struct buf b;
        buf_init(&b, 0);
        struct raft_wire_snap_iter it;
        raft_wire_snap_iter_init(&it, &m, cases[i].chunk);
        int rc, emitted = 0;
        while ((rc = raft_wire_snap_iter_next(&it, &b)) == 1)
            emitted++;
        assert_int_equal(rc, 0);
        assert_int_equal(emitted, cases[i].chunks);

        struct raft_wire_snap_asm a;
        raft_wire_snap_asm_init(&a, 8u << 20);
        struct raft_msg got;
        assert_int_equal(feed_all(&b, &a, &got), cases[i].chunks);
        assert_true(msg_equal(&m, &got));
        raft_wire_snapshot_free(&got);

        /* raft_wire_encode emits the same chunks at the default size. */
        if (cases[i].chunk == 0) {
            struct buf c;
            buf_init(&c, 0);
            assert_int_equal(raft_wire_encode(&m, &c), 0);
            assert_int_equal(c.len, b.len);
            assert_memory_equal(c.data, b.data, b.len);
            buf_free(&c);
        }
        raft_wire_snap_asm_free(&a);
        buf_free(&b);
        raft_wire_snapshot_free(&m);
    }
}

/* Decodes the n-th chunk (0-based) of a snapshot split into 1000-byte pieces. */
static void nth_chunk(const struct raft_msg *m, int n, struct raft_wire_frame *f)
{
    struct raft_wire_snap_iter it;
    raft_wire_snap_iter_init(&it, m, 1000);
    struct buf b;
    buf_init(&b, 0);
    for (int i = 0; i <= n; i++) {
        buf_clear(&b);
        assert_int_equal(raft_wire_snap_iter_next(&it, &b), 1);
    }
    decode_one(&b, f);
    buf_free(&b);
}

static void snapshot_reassembly_refusals(void **state)
{
    (void)state;
    struct raft_msg m = make_snapshot(5000), other = make_snapshot(5000);
    other.u.snapshot.last_index = 2000;
    struct raft_wire_frame c0, c1, c2, o1, o0;
    nth_chunk(&m, 0, &c0);
    nth_chunk(&m, 1, &c1);
    nth_chunk(&m, 2, &c2);
    nth_chunk(&other, 1, &o1);
    nth_chunk(&other, 0, &o0);
    struct raft_wire_snap_asm a;
    struct raft_msg out;
    char err[256];

    raft_wire_snap_asm_init(&a, 1u << 20);
    assert_int_equal(raft_wire_snap_asm_feed(&a, &c1.u.chunk, &out, err, sizeof err), -1);
    assert_non_null(strstr(err, "without a first chunk"));

    assert_int_equal(raft_wire_snap_asm_feed(&a, &c0.u.chunk, &out, err, sizeof err), 0);
    assert_int_equal(raft_wire_snap_asm_feed(&a, &c2.u.chunk, &out, err, sizeof err), -1);
    assert_non_null(strstr(err, "out-of-order"));
    assert_false(a.active);

    assert_int_equal(raft_wire_snap_asm_feed(&a, &c0.u.chunk, &out, err, sizeof err), 0);
    assert_int_equal(raft_wire_snap_asm_feed(&a, &o1.u.chunk, &out, err, sizeof err), -1);
    assert_non_null(strstr(err, "does not belong"));

    /* A first chunk restarts the transfer instead of failing. */
    assert_int_equal(raft_wire_snap_asm_feed(&a, &c0.u.chunk, &out, err, sizeof err), 0);
    assert_int_equal(raft_wire_snap_asm_feed(&a, &o0.u.chunk, &out, err, sizeof err), 0);
    assert_int_equal(a.last_index, 2000);
    assert_int_equal(raft_wire_snap_asm_feed(&a, &o1.u.chunk, &out, err, sizeof err), 0);
    raft_wire_snap_asm_free(&a);

    /* The cap applies to the declared total, before any data is held. */
    raft_wire_snap_asm_init(&a, 4999);
    assert_int_equal(raft_wire_snap_asm_feed(&a, &c0.u.chunk, &out, err, sizeof err), -1);
    assert_non_null(strstr(err, "exceeds the 4999-byte limit"));
    assert_int_equal(a.data.len, 0);
    raft_wire_snap_asm_free(&a);

    raft_wire_frame_free(&c0);
    raft_wire_frame_free(&c1);
    raft_wire_frame_free(&c2);
    raft_wire_frame_free(&o0);
    raft_wire_frame_free(&o1);
    raft_wire_snapshot_free(&m);
    raft_wire_snapshot_free(&other);
}

static struct raft_wire_hello hello(raft_id id, const char *cluster, uint8_t lo, uint8_t hi)
{
    struct raft_wire_hello h;
    memset(&h, 0, sizeof h);
    h.id = id;
    h.version_min = lo;
    h.version_max = hi;
    snprintf(h.addr, sizeof h.addr, "127.0.0.%u:8300", (unsigned)(id & 0xff));
    snprintf(h.cluster, sizeof h.cluster, "%s", cluster);
    return h;
}

static void handshake(void **state)
{
    (void)state;
    struct raft_wire_hello h = hello(0xabcdef, "dc1", 1, 1);
    h.cluster_id = 0x0102030405060708ull;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(raft_wire_encode_hello(&h, &b), 0);
    struct raft_wire_frame f;
    decode_one(&b, &f);
    assert_int_equal(f.type, RAFT_WIRE_HELLO);
    assert_memory_equal(&f.u.hello, &h, sizeof h);
    raft_wire_frame_free(&f);

    struct raft_wire_hello me = hello(1, "dc1", 1, 1);
    char err[256];
    assert_int_equal(raft_wire_hello_check(&me, &h, 0, err, sizeof err), 1);
    assert_int_equal(raft_wire_hello_check(&me, &h, 0xabcdef, err, sizeof err), 1);
    assert_int_equal(raft_wire_hello_check(&me, &h, 5, err, sizeof err), -1);
    assert_non_null(strstr(err, "expected server"));
    struct raft_wire_hello other = hello(2, "dc2", 1, 1);
    assert_int_equal(raft_wire_hello_check(&me, &other, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "cluster \"dc2\""));
    struct raft_wire_hello self = hello(1, "dc1", 1, 1);
    assert_int_equal(raft_wire_hello_check(&me, &self, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "our own server id"));
    struct raft_wire_hello future = hello(3, "dc1", 2, 4);
    assert_int_equal(raft_wire_hello_check(&me, &future, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "no common protocol version"));
    struct raft_wire_hello wide = hello(3, "dc1", 1, 4);
    assert_int_equal(raft_wire_hello_check(&me, &wide, 0, err, sizeof err), 1);
    /* Cluster ids: equal, or either side still without one, pass; two different ones never. */
    me.cluster_id = 0x0102030405060708ull;
    assert_int_equal(raft_wire_hello_check(&me, &h, 0, err, sizeof err), 1);
    assert_int_equal(raft_wire_hello_check(&me, &wide, 0, err, sizeof err), 1);
    wide.cluster_id = 9;
    assert_int_equal(raft_wire_hello_check(&me, &wide, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "bootstrapped separately"));
    me.cluster_id = 0;
    assert_int_equal(raft_wire_hello_check(&me, &wide, 0, err, sizeof err), 1);

    /* A Hello of the first release (without the cluster id) decodes as knowing none. */
    buf_clear(&b);
    raft_wire_encode_hello(&h, &b);
    b.len -= 8;
    codec_store_u32(b.data + 8, (uint32_t)(b.len - RAFT_WIRE_HEADER_LEN));
    codec_store_u32(b.data + 12, crc32c(crc32c(0, b.data, 12), b.data + 16, b.len - 16));
    decode_one(&b, &f);
    assert_int_equal(f.u.hello.id, 0xabcdef);
    assert_int_equal(f.u.hello.cluster_id, 0);
    raft_wire_frame_free(&f);

    /* Later versions may append hello fields; this one ignores them. */
    buf_clear(&b);
    raft_wire_encode_hello(&h, &b);
    buf_append(&b, "\x01\x02", 2);
    codec_store_u32(b.data + 8, (uint32_t)(b.len - RAFT_WIRE_HEADER_LEN));
    codec_store_u32(b.data + 12, crc32c(crc32c(0, b.data, 12), b.data + 16, b.len - 16));
    decode_one(&b, &f);
    assert_int_equal(f.u.hello.id, 0xabcdef);
    assert_true(f.u.hello.cluster_id == 0x0102030405060708ull);
    raft_wire_frame_free(&f);

    buf_clear(&b);
    assert_int_equal(raft_wire_encode_refuse("cluster mismatch: dc2 is not dc1", &b), 0);
    decode_one(&b, &f);
    assert_int_equal(f.type, RAFT_WIRE_REFUSE);
    assert_string_equal(f.u.refuse.reason, "cluster mismatch: dc2 is not dc1");
    raft_wire_frame_free(&f);

    struct raft_wire_hello bad = hello(0, "dc1", 1, 1);
    assert_int_equal(raft_wire_encode_hello(&bad, &b), -1);
    bad = hello(4, "", 1, 1);
    assert_int_equal(raft_wire_encode_hello(&bad, &b), -1);
    buf_free(&b);
}

/* One valid frame of every type, concatenated; starts[] receives each frame's offset. */
static size_t sample_frames(struct buf *b, size_t *starts)
{
    size_t n = 0;
    uint32_t lens[] = {0, 5, 300};
    struct raft_msg m = base_msg(RAFT_MSG_APPEND);
    m.u.append.prev_index = 9;
    m.u.append.prev_term = 70;
    m.u.append.n_entries = 3;
    m.u.append.entries = make_entries(9, lens, 3);
    starts[n++] = b->len;
    assert_int_equal(raft_wire_encode(&m, b), 0);
    free_entries(m.u.append.entries, 3);
    static const uint8_t types[] = {RAFT_MSG_APPEND_RESP, RAFT_MSG_VOTE, RAFT_MSG_VOTE_RESP,
                                    RAFT_MSG_SNAPSHOT_RESP, RAFT_MSG_TIMEOUT_NOW};
    for (size_t i = 0; i < sizeof types; i++) {
        m = base_msg(types[i]);
        starts[n++] = b->len;
        assert_int_equal(raft_wire_encode(&m, b), 0);
    }
    struct raft_msg s = make_snapshot(100);
    starts[n++] = b->len;
    assert_int_equal(raft_wire_encode(&s, b), 0);
    raft_wire_snapshot_free(&s);
    struct raft_wire_hello h = hello(7, "dc1", 1, 1);
    starts[n++] = b->len;
    assert_int_equal(raft_wire_encode_hello(&h, b), 0);
    starts[n++] = b->len;
    assert_int_equal(raft_wire_encode_refuse("bye", b), 0);
    starts[n] = b->len;
    return n;
}

static void every_truncation_needs_more(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    size_t starts[16];
    size_t n = sample_frames(&b, starts);
    assert_int_equal(n, 9);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = b.data + starts[i];
        size_t flen = starts[i + 1] - starts[i];
        for (size_t cut = 0; cut < flen; cut++) {
            /* A copy of exactly cut bytes, so ASan sees any read past the end. */
            uint8_t *q = malloc(cut ? cut : 1);
            memcpy(q, p, cut);
            struct raft_wire_frame f;
            size_t used = 99;
            assert_int_equal(raft_wire_decode(q, cut, &f, &used, NULL, 0), RAFT_WIRE_NEED_MORE);
            assert_int_equal(used, 0);
            free(q);
        }
    }
    /* The stream decodes frame by frame, each consuming exactly its own bytes. */
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        struct raft_wire_frame f;
        size_t used;
        char err[256];
        assert_int_equal(raft_wire_decode(b.data + off, b.len - off, &f, &used, err, sizeof err),
                         RAFT_WIRE_OK);
        assert_int_equal(used, starts[i + 1] - starts[i]);
        off += used;
        raft_wire_frame_free(&f);
    }
    buf_free(&b);
}

/* Recomputes a frame's CRC after a test edits it, so the edit reaches the body parser. */
static void reseal(uint8_t *p)
{
    uint32_t body = codec_load_u32(p + 8);
    codec_store_u32(p + 12, crc32c(crc32c(0, p, 12), p + 16, body));
}

static void expect_error(const uint8_t *p, size_t len, const char *reason)
{
    struct raft_wire_frame f;
    size_t used = 99;
    char err[256] = "unset";
    assert_int_equal(raft_wire_decode(p, len, &f, &used, err, sizeof err), RAFT_WIRE_ERROR);
    assert_int_equal(used, 0);
    assert_null(strchr(err, '\n'));
    if (strstr(err, reason) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", err, reason);
}

static void header_errors(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    struct raft_msg m = base_msg(RAFT_MSG_VOTE);
    raft_wire_encode(&m, &b);
    uint8_t *q = malloc(b.len);

#define MUTATE(stmt, reason)                                                                       \
    do {                                                                                           \
        memcpy(q, b.data, b.len);                                                                  \
        stmt;                                                                                      \
        expect_error(q, b.len, reason);                                                            \
    } while (0)

    MUTATE(q[0] = 'X', "bad magic");
    MUTATE(q[3] ^= 1, "bad magic");
    MUTATE(q[4] = 2, "unsupported protocol version 2");
    MUTATE(q[4] = 0, "unsupported protocol version 0");
    MUTATE(q[5] = 42, "unknown message type 42");
    MUTATE(q[5] = 0, "unknown message type 0");
    MUTATE(q[5] = RAFT_MSG_SNAPSHOT, "must travel as SnapshotChunk");
    MUTATE(q[7] = 1, "unknown critical flags 0x0001");
    MUTATE(codec_store_u32(q + 8, RAFT_WIRE_MAX_BODY + 1), "exceeds the 4194304-byte limit");
    MUTATE(q[20] ^= 0x40, "checksum mismatch");
    MUTATE(q[13] ^= 1, "checksum mismatch");
    MUTATE(q[6] = 0x80, "checksum mismatch"); /* flags are covered by the CRC too */

    /* Header errors need only the header's first bytes, not the whole frame. */
    q[0] = 'G';
    expect_error(q, 1, "bad magic");
    memcpy(q, b.data, b.len);
    codec_store_u32(q + 8, 0xffffffffu);
    expect_error(q, 12, "exceeds");

    /* An advisory flag (high byte) is accepted. */
    memcpy(q, b.data, b.len);
    q[6] = 0x80;
    reseal(q);
    struct raft_wire_frame f;
    size_t used;
    assert_int_equal(raft_wire_decode(q, b.len, &f, &used, NULL, 0), RAFT_WIRE_OK);
    assert_int_equal(f.flags, 0x8000);
    raft_wire_frame_free(&f);
#undef MUTATE
    free(q);
    buf_free(&b);
}

/* Appends raw body bytes after a header, sealed: a frame no correct encoder would write. */
static void raw_frame(struct buf *b, uint8_t type, const uint8_t *body, size_t len)
{
    buf_clear(b);
    uint8_t h[16] = {'T', 'R', 'B', 'R', 1, type, 0, 0};
    codec_store_u32(h + 8, (uint32_t)len);
    buf_append(b, h, 16);
    buf_append(b, body, len);
    reseal(b->data);
}

static void body_errors(void **state)
{
    (void)state;
    struct buf b, body;
    buf_init(&b, 0);
    buf_init(&body, 0);
    struct codec_wr w;

    /* An entry count no body could hold is refused before anything is allocated. */
    codec_wr_init(&w, &body);
    codec_put_u64(&w, 1);
    codec_put_u64(&w, 2);
    codec_put_u64(&w, 5);
    for (int i = 0; i < 4; i++)
        codec_put_u64(&w, 0);
    codec_put_u32(&w, 0xffffffffu);
    raw_frame(&b, RAFT_MSG_APPEND, body.data, body.len);
    expect_error(b.data, b.len, "4294967295 entries declared but the body holds at most 0");

    /* A vote flag byte must be 0 or 1. */
    struct raft_msg m = base_msg(RAFT_MSG_VOTE);
    buf_clear(&b);
    raft_wire_encode(&m, &b);
    b.data[16 + 24] = 2;
    reseal(b.data);
    expect_error(b.data, b.len, "RequestVote: bad flag byte");

    /* Trailing bytes in a body, and a body one byte short. */
    buf_clear(&b);
    raft_wire_encode(&m, &b);
    buf_append(&b, "", 1);
    raw_frame(&body, RAFT_MSG_VOTE, b.data + 16, b.len - 16);
    expect_error(body.data, body.len, "trailing bytes");
    b.len--;
    raw_frame(&body, RAFT_MSG_VOTE, b.data + 16, b.len - 16 - 1);
    expect_error(body.data, body.len, "truncated body");

    /* Zero ids. */
    memset(b.data + 16, 0, 8);
    reseal(b.data);
    expect_error(b.data, b.len, "zero server id");

    /* Entries must continue the log at prev_index + 1 with known types and sane terms. */
    uint32_t lens[] = {1, 2};
    m = base_msg(RAFT_MSG_APPEND);
    m.u.append.prev_index = 3;
    m.u.append.prev_term = 70;
    m.u.append.n_entries = 2;
    m.u.append.entries = make_entries(3, lens, 2);
    size_t e1 = 16 + 24 + 36 + 21 + 1; /* second entry */
    m.u.append.entries[1].index = 9;
    buf_clear(&b);
    raft_wire_encode(&m, &b);
    expect_error(b.data, b.len, "entry 1 has index 9, expected 5");
    m.u.append.entries[1].index = 5;
    m.u.append.entries[1].type = 9;
    buf_clear(&b);
    raft_wire_encode(&m, &b);
    expect_error(b.data, b.len, "entry 1 has unknown type 9");
    m.u.append.entries[1].type = RAFT_ENTRY_COMMAND;
    m.u.append.entries[1].term = 78; /* beyond the message term */
    buf_clear(&b);
    raft_wire_encode(&m, &b);
    expect_error(b.data, b.len, "entry term out of order");
    m.u.append.entries[1].term = 70;
    buf_clear(&b);
    raft_wire_encode(&m, &b);
    codec_store_u32(b.data + e1 + 17, 1000); /* second entry claims more data than is there */
    reseal(b.data);
    expect_error(b.data, b.len, "truncated entry");
    free_entries(m.u.append.entries, 2);

    /* A hello whose address would put a newline in a log line. */
    struct raft_wire_hello h = hello(5, "dc1", 1, 1);
    buf_clear(&b);
    raft_wire_encode_hello(&h, &b);
    b.data[16 + 10 + 2] = '\n';
    reseal(b.data);
    expect_error(b.data, b.len, "Hello: bad address");

    /* A snapshot chunk claiming more than 4 GiB, or data past its end. */
    struct raft_msg s = make_snapshot(10);
    buf_clear(&b);
    raft_wire_encode(&s, &b);
    uint8_t *total = b.data + 16 + 24 + 24;
    codec_store_u64(total, 1ull << 32);
    reseal(b.data);
    expect_error(b.data, b.len, "larger than 4 GiB");
    codec_store_u64(total, 5);
    reseal(b.data);
    expect_error(b.data, b.len, "beyond the snapshot's end");
    raft_wire_snapshot_free(&s);

    buf_free(&b);
    buf_free(&body);
}

/* The hex dumps in man/tribune-raft.7 EXAMPLES are what the encoder writes. */
static void man_page_examples(void **state)
{
    (void)state;
    static const uint8_t timeout_now[] = {
        0x54, 0x52, 0x42, 0x52, 0x01, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0x6f, 0x3a,
        0xbe, 0x31, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 5};
    static const uint8_t prevote[] = {
        0x54, 0x52, 0x42, 0x52, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0xe3, 0x4d,
        0xbc, 0xb7, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 5,
        0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0, 0, 0, 5};
    struct raft_msg m;
    memset(&m, 0, sizeof m);
    m.type = RAFT_MSG_TIMEOUT_NOW;
    m.from = 1;
    m.to = 2;
    m.term = 5;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(raft_wire_encode(&m, &b), 0);
    assert_int_equal(b.len, sizeof timeout_now);
    assert_memory_equal(b.data, timeout_now, sizeof timeout_now);
    m.type = RAFT_MSG_VOTE;
    m.u.vote.prevote = true;
    m.u.vote.last_index = 10;
    m.u.vote.last_term = 5;
    buf_clear(&b);
    assert_int_equal(raft_wire_encode(&m, &b), 0);
    assert_int_equal(b.len, sizeof prevote);
    assert_memory_equal(b.data, prevote, sizeof prevote);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_small_messages),
        cmocka_unit_test(round_trip_append),
        cmocka_unit_test(append_batch_splits),
        cmocka_unit_test(encode_refusals_leave_buffer_unchanged),
        cmocka_unit_test(snapshot_chunks_reassemble),
        cmocka_unit_test(snapshot_reassembly_refusals),
        cmocka_unit_test(handshake),
        cmocka_unit_test(every_truncation_needs_more),
        cmocka_unit_test(header_errors),
        cmocka_unit_test(body_errors),
        cmocka_unit_test(man_page_examples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
