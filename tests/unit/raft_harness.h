/* raft_harness.h — a tiny in-test cluster for the Raft core scenario tests: a disk model per node
 * (what raft_ready asked to persist), a FIFO network with cuts and a message filter, and an FSM. */
#ifndef TRIBUNE_TESTS_RAFT_HARNESS_H
#define TRIBUNE_TESTS_RAFT_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft/raft.h"

#define TN_MAX 6

struct tn_disk {
    uint64_t term;
    raft_id vote;
    uint64_t base;           /* ents[0] has index base + 1 */
    struct raft_entry *ents;
    size_t n;
    struct raft_snapshot snap;
};

struct tn_node {
    struct raft r;
    struct raft_options o;
    struct logger lg;
    bool alive;
    bool auto_snapshot;
    struct tn_disk disk;
    uint64_t applied;   /* last index applied to the FSM, checked for order */
    uint64_t fsm_count; /* commands applied */
    uint64_t fsm_hash;  /* folds every command value in order */
    uint64_t *applied_terms; /* term of the entry applied at each index (for checks) */
    size_t cap_applied;
    struct raft_read_state reads[64];
    size_t n_reads;
    char *logtext;      /* captured log lines */
    size_t loglen;
};

struct tn_net;
/* May edit the message copy; false drops it. */
typedef bool (*tn_filter_fn)(struct tn_net *net, struct raft_msg *m);

struct tn_net {
    struct tn_node nodes[TN_MAX + 1]; /* index = id */
    size_t n;
    struct raft_msg *q;
    size_t nq, capq;
    bool cut[TN_MAX + 1][TN_MAX + 1];
    tn_filter_fn filter;
    int mode;          /* for the test's filter */
    uint64_t counter;  /* for the test's filter */
    size_t sent[TN_MAX + 1][8];     /* messages sent by id, per type */
    size_t rejects[TN_MAX + 1];     /* failed append responses sent by id */
};

static inline void tn_tap(void *ctx, enum log_level level, const char *line, size_t len)
{
    (void)level;
    struct tn_node *n = ctx;
    n->logtext = realloc(n->logtext, n->loglen + len + 2);
    memcpy(n->logtext + n->loglen, line, len);
    n->loglen += len;
    n->logtext[n->loglen++] = '\n';
    n->logtext[n->loglen] = '\0';
}

static inline size_t tn_log_count(const struct tn_node *n, const char *needle)
{
    size_t c = 0;
    const char *p = n->logtext;
    while (p && (p = strstr(p, needle)) != NULL) {
        c++;
        p += strlen(needle);
    }
    return c;
}

static inline void tn_addr(raft_id id, char *out)
{
    snprintf(out, RAFT_ADDR_MAX, "127.0.0.%llu:8300", (unsigned long long)id);
}

static inline void tn_config(struct raft_config *c, size_t n)
{
    c->n = 0;
    c->servers = NULL;
    for (raft_id id = 1; id <= n; id++) {
        char a[RAFT_ADDR_MAX];
        tn_addr(id, a);
        raft_config_put(c, id, a, true);
    }
}

static inline void tn_free_entries(struct raft_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(e[i].data);
    free(e);
}

static inline void tn_copy_entry(struct raft_entry *dst, const struct raft_entry *src)
{
    *dst = *src;
    dst->data = NULL;
    if (src->len) {
        dst->data = malloc(src->len);
        memcpy(dst->data, src->data, src->len);
    }
}

static inline void tn_msg_copy(struct raft_msg *dst, const struct raft_msg *src)
{
    *dst = *src;
    if (src->type == RAFT_MSG_APPEND && src->u.append.n_entries) {
        uint32_t n = src->u.append.n_entries;
        dst->u.append.entries = calloc(n, sizeof(struct raft_entry));
        for (uint32_t i = 0; i < n; i++)
            tn_copy_entry(&dst->u.append.entries[i], &src->u.append.entries[i]);
    } else if (src->type == RAFT_MSG_SNAPSHOT) {
        raft_config_copy(&dst->u.snapshot.config, &src->u.snapshot.config);
        dst->u.snapshot.data = NULL;
        if (src->u.snapshot.len) {
            dst->u.snapshot.data = malloc(src->u.snapshot.len);
            memcpy(dst->u.snapshot.data, src->u.snapshot.data, src->u.snapshot.len);
        }
    }
}

static inline void tn_msg_free(struct raft_msg *m)
{
    if (m->type == RAFT_MSG_APPEND && m->u.append.entries)
        tn_free_entries(m->u.append.entries, m->u.append.n_entries);
    else if (m->type == RAFT_MSG_SNAPSHOT) {
        raft_config_free(&m->u.snapshot.config);
        free(m->u.snapshot.data);
    }
}

static inline void tn_enqueue(struct tn_net *net, const struct raft_msg *m)
{
    if (net->nq == net->capq) {
        net->capq = net->capq ? net->capq * 2 : 64;
        net->q = realloc(net->q, net->capq * sizeof *net->q);
    }
    tn_msg_copy(&net->q[net->nq++], m);
    if (m->from <= TN_MAX && m->type < 8)
        net->sent[m->from][m->type]++;
    if (m->type == RAFT_MSG_APPEND_RESP && !m->u.append_resp.success && m->from <= TN_MAX)
        net->rejects[m->from]++;
}

static inline uint64_t tn_disk_last(const struct tn_disk *d)
{
    return d->base + d->n;
}

static inline void tn_record_applied(struct tn_node *n, const struct raft_entry *e)
{
    assert_int_equal(e->index, n->applied + 1); /* in order, exactly once */
    n->applied = e->index;
    if (e->index >= n->cap_applied) {
        size_t cap = n->cap_applied ? n->cap_applied * 2 : 256;
        while (cap <= e->index)
            cap *= 2;
        n->applied_terms = realloc(n->applied_terms, cap * sizeof *n->applied_terms);
        memset(n->applied_terms + n->cap_applied, 0, (cap - n->cap_applied) * sizeof(uint64_t));
        n->cap_applied = cap;
    }
    n->applied_terms[e->index] = e->term;
    if (e->type == RAFT_ENTRY_COMMAND) {
        uint64_t v = 0;
        memcpy(&v, e->data, e->len < 8 ? e->len : 8);
        n->fsm_count++;
        n->fsm_hash = n->fsm_hash * 1099511628211ull + v + 1;
    }
}

/* One Ready/Advance round trip, checking the ordering contract as it goes. */
static inline void tn_process(struct tn_net *net, raft_id id)
{
    struct tn_node *n = &net->nodes[id];
    struct raft_ready rd;
    int guard = 0;
    while (n->alive && raft_ready(&n->r, &rd)) {
        assert_true(++guard < 1000);
        for (size_t i = 0; i < rd.n_msgs; i++)
            tn_enqueue(net, &rd.msgs[i]);
        struct tn_disk *d = &n->disk;
        if (rd.hard_state_changed) {
            d->term = rd.term;
            d->vote = rd.vote;
        }
        if (rd.snapshot) {
            raft_config_free(&d->snap.config);
            free(d->snap.data);
            d->snap = *rd.snapshot;
            raft_config_copy(&d->snap.config, &rd.snapshot->config);
            d->snap.data = malloc(rd.snapshot->len ? rd.snapshot->len : 1);
            memcpy(d->snap.data, rd.snapshot->data, rd.snapshot->len);
            tn_free_entries(d->ents, d->n);
            d->ents = NULL;
            d->n = 0;
            d->base = rd.snapshot->index;
        }
        if (rd.truncate_from) {
            assert_true(rd.truncate_from > d->snap.index);
            while (d->n && d->ents[d->n - 1].index >= rd.truncate_from) {
                free(d->ents[d->n - 1].data);
                d->n--;
            }
        }
        if (rd.n_entries) {
            assert_int_equal(rd.entries[0].index, tn_disk_last(d) + 1);
            d->ents = realloc(d->ents, (d->n + rd.n_entries) * sizeof *d->ents);
            for (size_t i = 0; i < rd.n_entries; i++)
                tn_copy_entry(&d->ents[d->n++], &rd.entries[i]);
        }
        /* "fsync" done: now the replies that depend on it may leave. */
        for (size_t i = 0; i < rd.n_msgs_after_persist; i++)
            tn_enqueue(net, &rd.msgs_after_persist[i]);
        if (rd.snapshot) {
            assert_int_equal(rd.snapshot->len, 16);
            memcpy(&n->fsm_count, rd.snapshot->data, 8);
            memcpy(&n->fsm_hash, rd.snapshot->data + 8, 8);
            n->applied = rd.snapshot->index;
        }
        for (size_t i = 0; i < rd.n_committed; i++) {
            assert_true(rd.committed[i].index <= tn_disk_last(d)); /* applied only if durable */
            tn_record_applied(n, &rd.committed[i]);
        }
        for (size_t i = 0; i < rd.n_reads && n->n_reads < 64; i++)
            n->reads[n->n_reads++] = rd.reads[i];
        bool want = rd.snapshot_wanted; /* raft_advance clears rd */
        raft_advance(&n->r, &rd);
        if (n->auto_snapshot && want) {
            uint8_t s[16];
            memcpy(s, &n->fsm_count, 8);
            memcpy(s + 8, &n->fsm_hash, 8);
            assert_int_equal(raft_snapshot_done(&n->r, n->applied, s, 16), RAFT_OK);
            raft_config_free(&d->snap.config);
            free(d->snap.data);
            d->snap.index = raft_snapshot_index(&n->r);
            d->snap.term = raft_snapshot_term(&n->r);
            raft_config_copy(&d->snap.config, &n->r.snap.config);
            d->snap.data = malloc(16);
            memcpy(d->snap.data, s, 16);
            d->snap.len = 16;
        }
    }
}

static inline void tn_start(struct tn_net *net, raft_id id, bool restore)
{
    struct tn_node *n = &net->nodes[id];
    struct raft_restore st = {n->disk.term, n->disk.vote, n->disk.snap.index ? &n->disk.snap : NULL,
                              n->disk.ents, n->disk.n};
    assert_int_equal(raft_init(&n->r, &n->o, restore ? &st : NULL), RAFT_OK);
    n->alive = true;
    n->applied = n->disk.snap.index;
    if (restore && n->disk.snap.index) {
        memcpy(&n->fsm_count, n->disk.snap.data, 8);
        memcpy(&n->fsm_hash, n->disk.snap.data + 8, 8);
    } else {
        n->fsm_count = n->fsm_hash = 0;
    }
}

/* n nodes with ids 1..n; the first `voters` share a bootstrapped configuration of all of them
 * (the rest start empty, as a server that was never bootstrapped). */
static inline void tn_init(struct tn_net *net, size_t n, size_t voters, bool pre_vote_cq)
{
    memset(net, 0, sizeof *net);
    net->n = n;
    struct raft_config c;
    tn_config(&c, voters);
    for (raft_id id = 1; id <= n; id++) {
        struct tn_node *nd = &net->nodes[id];
        char a[RAFT_ADDR_MAX];
        tn_addr(id, a);
        raft_options_default(&nd->o, id, a);
        nd->o.pre_vote = nd->o.check_quorum = pre_vote_cq;
        nd->o.seed = 1000 + id;
        log_init(&nd->lg, -1, LOG_ERR);
        nd->lg.tap = tn_tap;
        nd->lg.tap_ctx = nd;
        nd->lg.tap_level = LOG_DEBUG;
        nd->o.log = &nd->lg;
        tn_start(net, id, false);
        if (id <= voters)
            assert_int_equal(raft_bootstrap(&nd->r, &c), RAFT_OK);
    }
    raft_config_free(&c);
}

static inline void tn_crash(struct tn_net *net, raft_id id)
{
    struct tn_node *n = &net->nodes[id];
    if (!n->alive)
        return;
    raft_close(&n->r);
    n->alive = false;
}

/* Crashes a node in the middle of a Ready: the messages allowed out before the fsync have
 * left, nothing of rd reached the disk, and the after-persist replies are lost. */
static inline void tn_crash_mid_ready(struct tn_net *net, raft_id id)
{
    struct tn_node *n = &net->nodes[id];
    struct raft_ready rd;
    if (n->alive && raft_ready(&n->r, &rd))
        for (size_t i = 0; i < rd.n_msgs; i++)
            tn_enqueue(net, &rd.msgs[i]);
    tn_crash(net, id);
}

/* Restarts a crashed node from its disk model only. */
static inline void tn_restart(struct tn_net *net, raft_id id)
{
    tn_crash(net, id);
    tn_start(net, id, true);
}

static inline void tn_free(struct tn_net *net)
{
    for (size_t i = 0; i < net->nq; i++)
        tn_msg_free(&net->q[i]);
    free(net->q);
    for (raft_id id = 1; id <= net->n; id++) {
        struct tn_node *n = &net->nodes[id];
        tn_crash(net, id);
        tn_free_entries(n->disk.ents, n->disk.n);
        raft_config_free(&n->disk.snap.config);
        free(n->disk.snap.data);
        free(n->logtext);
        free(n->applied_terms);
    }
}

static inline void tn_isolate(struct tn_net *net, raft_id id, bool cut)
{
    for (raft_id j = 1; j <= net->n; j++)
        if (j != id)
            net->cut[id][j] = net->cut[j][id] = cut;
}

/* Processes every node and delivers every message until the cluster is quiet. */
static inline void tn_stabilize(struct tn_net *net)
{
    for (int round = 0; round < 10000; round++) {
        for (raft_id id = 1; id <= net->n; id++)
            tn_process(net, id);
        if (net->nq == 0)
            return;
        size_t nq = net->nq;
        struct raft_msg *q = net->q;
        net->q = NULL;
        net->nq = net->capq = 0;
        for (size_t i = 0; i < nq; i++) {
            struct raft_msg *m = &q[i];
            struct tn_node *to = m->to <= TN_MAX ? &net->nodes[m->to] : NULL;
            bool ok = to && to->alive && m->from <= TN_MAX && !net->cut[m->from][m->to];
            if (ok && net->filter)
                ok = net->filter(net, m);
            if (ok) {
                raft_step(&to->r, m);
                tn_process(net, m->to);
            }
            tn_msg_free(m);
        }
        free(q);
    }
    fail_msg("cluster did not quiesce");
}

static inline void tn_tick(struct tn_net *net, raft_id id)
{
    if (net->nodes[id].alive)
        raft_tick(&net->nodes[id].r);
    tn_stabilize(net);
}

static inline void tn_tick_all(struct tn_net *net, int times)
{
    for (int t = 0; t < times; t++) {
        for (raft_id id = 1; id <= net->n; id++)
            if (net->nodes[id].alive)
                raft_tick(&net->nodes[id].r);
        tn_stabilize(net);
    }
}

/* Ticks only `id` until it leads (others stay quiet, so nobody else campaigns). */
static inline void tn_elect(struct tn_net *net, raft_id id)
{
    for (int i = 0; i < 200 && raft_state(&net->nodes[id].r) != RAFT_LEADER; i++)
        tn_tick(net, id);
    assert_int_equal(raft_state(&net->nodes[id].r), RAFT_LEADER);
}

static inline uint64_t tn_propose(struct tn_net *net, raft_id id, uint64_t value)
{
    uint64_t idx = 0;
    assert_int_equal(raft_propose(&net->nodes[id].r, &value, sizeof value, &idx), RAFT_OK);
    return idx;
}

/* Drops the entries of an append copy from index `keep_upto` + 1 on. */
static inline void tn_strip_after(struct raft_msg *m, uint64_t keep_upto)
{
    struct raft_msg_append *a = &m->u.append;
    while (a->n_entries && a->entries[a->n_entries - 1].index > keep_upto) {
        free(a->entries[a->n_entries - 1].data);
        a->entries[a->n_entries - 1].data = NULL;
        a->n_entries--;
    }
}

static inline struct raft_entry tn_entry(uint64_t index, uint64_t term, uint64_t value)
{
    struct raft_entry e = {.term = term, .index = index, .type = RAFT_ENTRY_COMMAND, .len = 8};
    e.data = malloc(8);
    memcpy(e.data, &value, 8);
    return e;
}

/* Replaces a crashed node's disk with: the n-voter bootstrap CONFIG at index 1 term 1, then
 * runs[i] entries of term terms[i]; and restarts it. */
static inline void tn_set_disk(struct tn_net *net, raft_id id, size_t voters, uint64_t term,
                               const uint64_t *terms, const size_t *runs, size_t nruns)
{
    tn_crash(net, id);
    struct tn_disk *d = &net->nodes[id].disk;
    tn_free_entries(d->ents, d->n);
    size_t total = 1;
    for (size_t i = 0; i < nruns; i++)
        total += runs[i];
    d->ents = calloc(total, sizeof *d->ents);
    d->n = 0;
    d->base = 0;
    struct raft_config c;
    tn_config(&c, voters);
    struct buf b;
    buf_init(&b, 0);
    raft_config_encode(&c, &b);
    raft_config_free(&c);
    d->ents[0] = (struct raft_entry){.term = 1, .index = 1, .type = RAFT_ENTRY_CONFIG,
                                     .len = (uint32_t)b.len, .data = b.data};
    d->n = 1;
    for (size_t i = 0; i < nruns; i++)
        for (size_t k = 0; k < runs[i]; k++, d->n++)
            d->ents[d->n] = tn_entry(d->n + 1, terms[i], 1000 * terms[i] + d->n);
    d->term = term;
    d->vote = 0;
    tn_start(net, id, true);
}

static inline struct raft *tn_r(struct tn_net *net, raft_id id)
{
    return &net->nodes[id].r;
}

static inline uint64_t tn_term_at(struct tn_net *net, raft_id id, uint64_t index)
{
    const struct raft_entry *e = raft_entry_at(tn_r(net, id), index);
    return e ? e->term : 0;
}

#endif
