/* raft_core.c — benchmark of the pure Raft core alone: three cores wired in memory (no disk, no
 * sockets), a leader fed batches of proposals; prints committed entries per second and messages
 * per entry, i.e. the CPU ceiling the core puts under the real agent. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "raft/raft.h"

#define NODES 3
#define PAYLOAD 100

struct qmsg {
    struct raft_msg m;
    struct raft_entry *ents; /* owned copy */
    uint8_t *snap;
};

struct bench {
    struct raft r[NODES + 1];
    struct qmsg *q;
    size_t nq, cap;
    uint64_t msgs, applied[NODES + 1];
};

static void enqueue(struct bench *b, const struct raft_msg *m)
{
    if (b->nq == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->q = realloc(b->q, b->cap * sizeof *b->q);
        if (b->q == NULL)
            abort();
    }
    struct qmsg *x = &b->q[b->nq++];
    x->m = *m;
    x->ents = NULL;
    x->snap = NULL;
    if (m->type == RAFT_MSG_APPEND && m->u.append.n_entries) {
        /* A deep copy, as the wire would make: the sender may compact before delivery. */
        uint32_t n = m->u.append.n_entries;
        size_t bytes = 0;
        for (uint32_t i = 0; i < n; i++)
            bytes += m->u.append.entries[i].len;
        x->ents = malloc(n * sizeof *x->ents + bytes);
        uint8_t *p = (uint8_t *)(x->ents + n);
        for (uint32_t i = 0; i < n; i++) {
            x->ents[i] = m->u.append.entries[i];
            if (x->ents[i].len) {
                memcpy(p, m->u.append.entries[i].data, x->ents[i].len);
                x->ents[i].data = p;
                p += x->ents[i].len;
            }
        }
        x->m.u.append.entries = x->ents;
    }
    b->msgs++;
}

static void process(struct bench *b, raft_id id)
{
    struct raft_ready rd;
    while (raft_ready(&b->r[id], &rd)) {
        for (size_t i = 0; i < rd.n_msgs; i++)
            enqueue(b, &rd.msgs[i]);
        for (size_t i = 0; i < rd.n_msgs_after_persist; i++)
            enqueue(b, &rd.msgs_after_persist[i]);
        b->applied[id] += rd.n_committed;
        bool want = rd.snapshot_wanted;
        raft_advance(&b->r[id], &rd);
        if (want && raft_snapshot_done(&b->r[id], raft_applied_index(&b->r[id]), "s", 1))
            abort();
    }
}

static void deliver(struct bench *b)
{
    while (b->nq) {
        struct qmsg *q = b->q;
        size_t n = b->nq;
        b->q = NULL;
        b->nq = b->cap = 0;
        for (size_t i = 0; i < n; i++) {
            raft_step(&b->r[q[i].m.to], &q[i].m);
            free(q[i].ents);
        }
        free(q);
        for (raft_id id = 1; id <= NODES; id++)
            process(b, id);
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run(unsigned batch, uint64_t total)
{
    struct bench *b = calloc(1, sizeof *b);
    struct raft_config c = {0, NULL};
    for (raft_id id = 1; id <= NODES; id++) {
        char a[RAFT_ADDR_MAX];
        snprintf(a, sizeof a, "127.0.0.%llu:8300", (unsigned long long)id);
        raft_config_put(&c, id, a, true);
    }
    for (raft_id id = 1; id <= NODES; id++) {
        struct raft_options o;
        raft_options_default(&o, id, c.servers[id - 1].addr);
        if (raft_init(&b->r[id], &o, NULL) || raft_bootstrap(&b->r[id], &c))
            abort();
        process(b, id);
    }
    raft_config_free(&c);
    while (raft_state(&b->r[1]) != RAFT_LEADER) {
        raft_tick(&b->r[1]);
        process(b, 1);
        deliver(b);
    }
    uint8_t payload[PAYLOAD];
    memset(payload, 'x', sizeof payload);
    uint64_t start_applied = b->applied[3], msgs0 = b->msgs, idx;
    double t0 = now();
    for (uint64_t done = 0; done < total; done += batch) {
        for (unsigned k = 0; k < batch; k++)
            if (raft_propose(&b->r[1], payload, sizeof payload, &idx))
                abort();
        process(b, 1);
        deliver(b);
    }
    double dt = now() - t0;
    uint64_t applied = b->applied[3] - start_applied;
    printf("raft core, 3 in-memory nodes, %u-byte entries, batch %4u: %9.0f entries/s committed "
           "and applied everywhere, %.2f messages/entry\n",
           PAYLOAD, batch, (double)applied / dt, (double)(b->msgs - msgs0) / (double)applied);
    for (raft_id id = 1; id <= NODES; id++)
        raft_close(&b->r[id]);
    free(b->q);
    free(b);
}

int main(void)
{
    run(1, 100000);
    run(16, 400000);
    run(256, 1000000);
    return 0;
}
