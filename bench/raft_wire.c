/* raft_wire.c — Raft wire figures: AppendEntries encode and decode rates in memory, and pipelined
 * delivery between two transports over loopback. Usage: raft_wire [frames] [entry_bytes]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/loop.h"
#include "raft/transport.h"
#include "raft/wire.h"

#define ENTRIES 64

struct sink {
    uint64_t msgs, entries;
};

static void on_msg(void *ctx, const struct raft_msg *m)
{
    struct sink *s = ctx;
    s->msgs++;
    if (m->type == RAFT_MSG_APPEND)
        s->entries += m->u.append.n_entries;
}

static struct raft_msg make_append(struct raft_entry *e, uint8_t *payload, uint32_t size,
                                   uint64_t prev)
{
    for (int k = 0; k < ENTRIES; k++)
        e[k] = (struct raft_entry){1, prev + 1 + (uint64_t)k, RAFT_ENTRY_COMMAND, size, payload};
    struct raft_msg m;
    memset(&m, 0, sizeof m);
    m.type = RAFT_MSG_APPEND;
    m.from = 1;
    m.to = 2;
    m.term = 1;
    m.u.append.prev_index = prev;
    m.u.append.prev_term = prev ? 1 : 0;
    m.u.append.n_entries = ENTRIES;
    m.u.append.entries = e;
    return m;
}

static int codec(unsigned frames, uint32_t size, uint8_t *payload)
{
    struct raft_entry e[ENTRIES];
    struct buf b;
    buf_init(&b, 0);
    uint64_t t0 = loop_now_ms();
    for (unsigned i = 0; i < frames; i++) {
        buf_clear(&b);
        struct raft_msg m = make_append(e, payload, size, (uint64_t)i * ENTRIES);
        if (raft_wire_encode(&m, &b) != 0)
            return 1;
    }
    uint64_t t1 = loop_now_ms();
    size_t flen = b.len;
    for (unsigned i = 0; i < frames; i++) {
        struct raft_wire_frame f;
        size_t used;
        char err[256];
        if (raft_wire_decode(b.data, b.len, &f, &used, err, sizeof err) != RAFT_WIRE_OK) {
            fprintf(stderr, "decode: %s\n", err);
            return 1;
        }
        raft_wire_frame_free(&f);
    }
    uint64_t t2 = loop_now_ms();
    double enc = (double)(t1 - t0 ? t1 - t0 : 1) / 1000;
    double dec = (double)(t2 - t1 ? t2 - t1 : 1) / 1000;
    double mb = (double)flen * frames / (1024 * 1024);
    printf("codec: %u AppendEntries of %d x %u B (%zu B/frame)\n", frames, ENTRIES, size, flen);
    printf("  encode %.0f frames/s, %.0f MiB/s\n", frames / enc, mb / enc);
    printf("  decode %.0f frames/s, %.0f MiB/s (CRC, validation, one allocation per frame)\n",
           frames / dec, mb / dec);
    buf_free(&b);
    return 0;
}

static int endtoend(unsigned frames, uint32_t size, uint8_t *payload)
{
    char err[256];
    struct logger lg;
    log_init(&lg, 2, LOG_WARN);
    struct loop *l = loop_create(&lg, err, sizeof err);
    if (l == NULL)
        return 1;
    struct sink sa = {0, 0}, sb = {0, 0};
    struct raft_transport_cbs cbs = {on_msg, NULL, NULL};
    struct raft_transport_opts oa = {0}, ob = {0};
    oa.id = 1, oa.addr = "127.0.0.1:1", oa.cluster = "bench", oa.listen = "127.0.0.1:0";
    ob.id = 2, ob.addr = "127.0.0.1:2", ob.cluster = "bench", ob.listen = "127.0.0.1:0";
    struct raft_transport *a = raft_transport_create(l, &oa, &cbs, &sa, err, sizeof err);
    struct raft_transport *b = raft_transport_create(l, &ob, &cbs, &sb, err, sizeof err);
    if (a == NULL || b == NULL) {
        fprintf(stderr, "transport: %s\n", err);
        return 1;
    }
    char addr[LOOP_ADDR_STRLEN];
    loop_addr_format(raft_transport_listen_addr(b), addr, sizeof addr);
    raft_transport_set_peer(a, 2, addr, err, sizeof err);
    for (int i = 0; i < 2000 && !raft_transport_peer_up(a, 2); i++)
        loop_run_once(l, 5);
    struct raft_entry e[ENTRIES];
    unsigned sent = 0;
    uint64_t t0 = loop_now_ms();
    /* Keep a bounded number of bytes queued, like a leader's in-flight window. */
    while (sb.msgs < frames) {
        while (sent < frames && raft_transport_pending(a, 2) < (8u << 20)) {
            struct raft_msg m = make_append(e, payload, size, (uint64_t)sent * ENTRIES);
            if (raft_transport_send(a, &m) != 0)
                break;
            sent++;
        }
        loop_run_once(l, 5);
    }
    uint64_t ms = loop_now_ms() - t0;
    double s = (double)(ms ? ms : 1) / 1000;
    printf("loopback transport: %u AppendEntries (%llu entries) in %llu ms: %.0f frames/s, "
           "%.0f entries/s, %.0f MiB/s of payload\n",
           frames, (unsigned long long)sb.entries, (unsigned long long)ms, frames / s,
           (double)sb.entries / s, (double)sb.entries * size / (1024 * 1024) / s);
    raft_transport_destroy(a);
    raft_transport_destroy(b);
    loop_run_once(l, 0);
    loop_destroy(l);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned frames = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 20000;
    uint32_t size = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 256;
    if (frames == 0 || (uint64_t)size * ENTRIES > RAFT_WIRE_MAX_BODY / 2) {
        fprintf(stderr, "usage: raft_wire [frames] [entry_bytes <= %u]\n",
                RAFT_WIRE_MAX_BODY / 2 / ENTRIES);
        return 2;
    }
    uint8_t *payload = malloc(size ? size : 1);
    memset(payload, 'p', size);
    int rc = codec(frames, size, payload) || endtoend(frames, size, payload);
    free(payload);
    return rc;
}
