/* ready.c — the core's outbox and the Ready/Advance hand-off: what may be sent at once, what
 * waits for the fsync, and how borrowed memory stays valid until raft_advance (note 10). */
#include "raft/core.h"

#include <stdlib.h>
#include <string.h>

/* ---- outbox ---- */

static struct raft_msg *msgq_push(struct raft_msgq *q)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        struct raft_msg *v = realloc(q->v, cap * sizeof *v);
        if (v == NULL)
            return NULL;
        q->v = v;
        q->cap = cap;
    }
    struct raft_msg *m = &q->v[q->n++];
    memset(m, 0, sizeof *m);
    return m;
}

bool raft_hard_state_dirty(const struct raft *r)
{
    return r->term != r->last_term || r->vote != r->last_vote;
}

struct raft_msg *raft_send(struct raft *r, raft_id to, uint8_t type, bool after_persist)
{
    bool after = after_persist || raft_hard_state_dirty(r);
    struct raft_msg *m = msgq_push(after ? &r->out_after : &r->out);
    if (m == NULL)
        return NULL;
    m->type = type;
    m->from = r->o.id;
    m->to = to;
    m->term = r->term;
    return m;
}

static bool is_leader_traffic(uint8_t type)
{
    return type == RAFT_MSG_APPEND || type == RAFT_MSG_SNAPSHOT || type == RAFT_MSG_TIMEOUT_NOW;
}

static void drop_from(struct raft_msgq *q)
{
    size_t k = 0;
    for (size_t i = 0; i < q->n; i++)
        if (!is_leader_traffic(q->v[i].type))
            q->v[k++] = q->v[i];
    q->n = k;
}

void raft_drop_leader_msgs(struct raft *r)
{
    drop_from(&r->out);
    drop_from(&r->out_after);
}

/* Binds an outgoing message to the memory it borrows; false if it can no longer be sent. */
static bool resolve(struct raft *r, struct raft_msg *m)
{
    if (m->type == RAFT_MSG_APPEND && m->u.append.n_entries) {
        struct raft_entry *e = raft_memlog_at(&r->log, m->u.append.prev_index + 1);
        uint64_t last = m->u.append.prev_index + m->u.append.n_entries;
        if (e == NULL || last > raft_memlog_last(&r->log))
            return false;
        m->u.append.entries = e;
    } else if (m->type == RAFT_MSG_SNAPSHOT) {
        if (r->snap.index == 0)
            return false;
        m->u.snapshot.last_index = r->snap.index;
        m->u.snapshot.last_term = r->snap.term;
        m->u.snapshot.config = r->snap.config;
        m->u.snapshot.len = r->snap.len;
        m->u.snapshot.data = r->snap.data;
    }
    return true;
}

static void take_queue(struct raft *r, struct raft_msgq *from, struct raft_msgq *to)
{
    struct raft_msgq t = *to;
    *to = *from;
    t.n = 0;
    *from = t;
    size_t k = 0;
    for (size_t i = 0; i < to->n; i++)
        if (resolve(r, &to->v[i]))
            to->v[k++] = to->v[i];
    to->n = k;
}

/* ---- ready / advance ---- */

static uint64_t apply_limit(const struct raft *r)
{
    return r->commit < r->durable ? r->commit : r->durable;
}

static bool want_snapshot(const struct raft *r)
{
    return r->o.snapshot_threshold && !r->snapshot_asked && r->applied > r->snap.index &&
           r->applied - r->snap.index >= r->o.snapshot_threshold;
}

bool raft_ready(struct raft *r, struct raft_ready *rd)
{
    memset(rd, 0, sizeof *rd);
    if (r->in_ready)
        return false;
    if (r->role == RAFT_LEADER && r->bcast_pending) {
        r->bcast_pending = false;
        raft_bcast_append(r, false);
    }
    uint64_t last = raft_memlog_last(&r->log);
    bool soft = r->role != r->last_role || r->leader != r->last_leader;
    bool hard = raft_hard_state_dirty(r);
    bool work = soft || hard || r->snap_unstable || r->truncate_from || r->unstable <= last ||
                r->out.n || r->out_after.n || r->applied < apply_limit(r) || r->n_ready_reads ||
                r->compact_pending || want_snapshot(r);
    if (!work)
        return false;

    rd->soft_state_changed = soft;
    rd->role = r->role;
    rd->leader = r->leader;
    r->last_role = r->role;
    r->last_leader = r->leader;

    rd->hard_state_changed = hard;
    rd->term = r->term;
    rd->vote = r->vote;
    r->last_term = r->term;
    r->last_vote = r->vote;

    if (r->snap_unstable)
        rd->snapshot = &r->snap;
    rd->truncate_from = r->truncate_from;
    r->truncate_from = 0;
    if (r->unstable <= last) {
        rd->entries = raft_memlog_at(&r->log, r->unstable);
        rd->n_entries = (size_t)(last - r->unstable + 1);
    }
    r->rd_durable_to = last;

    uint64_t lim = apply_limit(r);
    if (r->applied < lim) {
        rd->committed = raft_memlog_at(&r->log, r->applied + 1);
        rd->n_committed = rd->committed ? (size_t)(lim - r->applied) : 0;
    }
    r->rd_applied_to = rd->n_committed ? lim : r->applied;

    take_queue(r, &r->out, &r->rd_out);
    take_queue(r, &r->out_after, &r->rd_out_after);
    rd->msgs = r->rd_out.v;
    rd->n_msgs = r->rd_out.n;
    rd->msgs_after_persist = r->rd_out_after.v;
    rd->n_msgs_after_persist = r->rd_out_after.n;

    /* Ready reads move to a buffer owned until raft_advance. */
    struct raft_read_state *t = r->rd_reads;
    size_t tcap = r->rd_cap_reads;
    r->rd_reads = r->ready_reads;
    r->rd_cap_reads = r->cap_ready_reads;
    r->rd_n_reads = r->n_ready_reads;
    r->ready_reads = t;
    r->cap_ready_reads = tcap;
    r->n_ready_reads = 0;
    rd->reads = r->rd_reads;
    rd->n_reads = r->rd_n_reads;

    if (want_snapshot(r)) {
        rd->snapshot_wanted = true;
        r->snapshot_asked = true;
    }
    r->in_ready = true;
    return true;
}

void raft_advance(struct raft *r, struct raft_ready *rd)
{
    if (!r->in_ready)
        return;
    r->in_ready = false;
    r->snap_unstable = false;
    /* Every entry in the log at raft_ready time was either durable already or in rd. */
    r->durable = r->rd_durable_to;
    r->unstable = r->durable + 1;
    if (r->rd_applied_to > r->applied)
        r->applied = r->rd_applied_to;
    r->rd_out.n = 0;
    r->rd_out_after.n = 0;
    r->rd_n_reads = 0;
    memset(rd, 0, sizeof *rd);
    raft_compact_if_pending(r); /* first: the outbox is empty only now (note 10) */
    if (r->role == RAFT_LEADER && raft_maybe_commit(r))
        raft_on_commit_advanced(r);
}
