/* node_ready.c — the Raft node's Ready loop: send, persist with one sync per batch, send what
 * waited for the disk, apply to the FSM, answer reads, advance; plus snapshots and fatal stops. */
#include "raft/node_impl.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "raft/config.h"
#include "raft/meta.h"
#include "raft/node_snapshot.h"

uint64_t raft_node_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void raft_node_fail(struct raft_node *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n->failed)
        return;
    n->failed = true;
    log_printf(n->lg, LOG_ERR, "raft", "%s; stopping (restart to recover from disk)", msg);
    if (n->fsm.fatal)
        n->fsm.fatal(n->fsm.ctx, msg);
    else
        exit(1);
}

int raft_node_push_event(struct raft_node *n, const struct raft_node_event *ev)
{
    if (n->n_evs == n->cap_evs) {
        size_t cap = n->cap_evs ? n->cap_evs * 2 : 16;
        struct raft_node_event *v = realloc(n->evs, cap * sizeof *v);
        if (v == NULL)
            return -1;
        n->evs = v;
        n->cap_evs = cap;
    }
    n->evs[n->n_evs++] = *ev;
    return 0;
}

void raft_node_fire_events(struct raft_node *n)
{
    /* Callbacks may queue more (a proposal failing at once does not, but be robust). */
    for (size_t i = 0; i < n->n_evs; i++) {
        struct raft_node_event ev = n->evs[i];
        if (ev.kind == RAFT_NODE_EV_PROP && ev.done)
            ev.done(ev.ctx, &ev.res);
        else if (ev.kind == RAFT_NODE_EV_READ && ev.read)
            ev.read(ev.ctx, ev.res.err, ev.res.index);
        else if (ev.kind == RAFT_NODE_EV_LEADER && n->fsm.on_leader)
            n->fsm.on_leader(n->fsm.ctx, ev.leader);
    }
    n->n_evs = 0;
}

static void finish_prop(struct raft_node *n, const struct raft_node_prop *p, int err,
                        int64_t value)
{
    struct raft_node_event ev = {.kind = RAFT_NODE_EV_PROP, .done = p->done, .ctx = p->ctx};
    ev.res.err = err;
    ev.res.index = p->index;
    ev.res.value = value;
    if (raft_node_push_event(n, &ev) != 0)
        log_printf(n->lg, LOG_ERR, "raft", "out of memory: dropped the answer for index %" PRIu64,
                   p->index);
}

static void finish_read(struct raft_node *n, const struct raft_node_read *r, int err)
{
    struct raft_node_event ev = {.kind = RAFT_NODE_EV_READ, .read = r->cb, .ctx = r->ctx};
    ev.res.err = err;
    ev.res.index = err ? 0 : r->index;
    if (raft_node_push_event(n, &ev) != 0)
        log_printf(n->lg, LOG_ERR, "raft", "out of memory: dropped a read answer");
}

/* Proposals at or below index settle: the one whose entry was applied with its term succeeds. */
static void settle_props(struct raft_node *n, uint64_t index, uint64_t term, int64_t value)
{
    size_t k = 0;
    while (k < n->n_props && n->props[k].index <= index) {
        const struct raft_node_prop *p = &n->props[k];
        if (p->index == index && p->term == term)
            finish_prop(n, p, 0, value);
        else
            finish_prop(n, p, RAFT_NODE_ELOST, 0);
        k++;
    }
    if (k) {
        memmove(n->props, n->props + k, (n->n_props - k) * sizeof *n->props);
        n->n_props -= k;
    }
}

static void settle_reads(struct raft_node *n)
{
    size_t w = 0;
    for (size_t i = 0; i < n->n_reads; i++) {
        struct raft_node_read *r = &n->reads[i];
        if (r->confirmed && r->index <= n->applied)
            finish_read(n, r, 0);
        else
            n->reads[w++] = *r;
    }
    n->n_reads = w;
}

void raft_node_fail_all(struct raft_node *n, int prop_err, int read_err)
{
    for (size_t i = 0; i < n->n_props; i++)
        finish_prop(n, &n->props[i], prop_err, 0);
    n->n_props = 0;
    for (size_t i = 0; i < n->n_reads; i++)
        finish_read(n, &n->reads[i], read_err);
    n->n_reads = 0;
}

void raft_node_sync_peers(struct raft_node *n)
{
    const struct raft_config *c = raft_configuration(&n->core);
    char err[256];
    for (uint32_t i = 0; i < c->n; i++) {
        const struct raft_server *s = &c->servers[i];
        if (s->id == n->id)
            continue;
        const struct raft_server *old = raft_config_find(&n->wired, s->id);
        if (old != NULL && strcmp(old->addr, s->addr) == 0)
            continue;
        if (raft_transport_set_peer(n->tr, s->id, s->addr, err, sizeof err) != 0)
            log_printf(n->lg, LOG_WARN, "raft", "cannot reach server %" PRIu64 " at %s: %s",
                       s->id, s->addr, err);
    }
    for (uint32_t i = 0; i < n->wired.n; i++) {
        raft_id id = n->wired.servers[i].id;
        if (id != n->id && raft_config_find(c, id) == NULL)
            raft_transport_remove_peer(n->tr, id);
    }
    if (!raft_config_equal(&n->wired, c)) {
        struct raft_config copy;
        if (raft_config_copy(&copy, c) == 0) {
            raft_config_free(&n->wired);
            n->wired = copy;
        }
    }
}

static void soft_state(struct raft_node *n, const struct raft_ready *rd)
{
    enum raft_role was = n->role;
    n->role = rd->role;
    if (rd->leader != n->leader) {
        n->leader = rd->leader;
        n->contacted = n->contacted || rd->leader != 0;
        n->contact_ns = raft_node_now_ns();
    }
    if (was != RAFT_LEADER && rd->role == RAFT_LEADER) {
        struct raft_node_event ev = {.kind = RAFT_NODE_EV_LEADER, .leader = true};
        raft_node_push_event(n, &ev);
    } else if (was == RAFT_LEADER && rd->role != RAFT_LEADER) {
        /* Hashicorp's ErrLeadershipLost: what was proposed may or may not commit later. */
        raft_node_fail_all(n, RAFT_NODE_ELOST, RAFT_NODE_EREAD);
        struct raft_node_event ev = {.kind = RAFT_NODE_EV_LEADER, .leader = false};
        raft_node_push_event(n, &ev);
    }
}

static void send_all(struct raft_node *n, const struct raft_msg *m, size_t count)
{
    for (size_t i = 0; i < count; i++)
        raft_transport_send(n->tr, &m[i]); /* a drop is a lost message: Raft resends */
}

/* Step 2 of the driving loop. 0, or -1 after raft_node_fail. */
static int persist(struct raft_node *n, const struct raft_ready *rd)
{
    char err[RAFT_META_ERRMAX];
    const struct raft_meta md = {rd->term, rd->vote, n->cluster_id};
    if (rd->hard_state_changed && raft_meta_save(n->dir, &md, err, sizeof err) != 0) {
        raft_node_fail(n, "failed to save term and vote: %s", err);
        return -1;
    }
    if (rd->snapshot != NULL) {
        const struct raft_snapshot *s = rd->snapshot;
        /* The file first: a crash before the reset leaves a snapshot beyond (or conflicting
         * with) the log, which open repairs by repeating the reset. A snapshot below our
         * compaction point (replacing a diverged history, core note 14) goes the other way
         * round: a crash between leaves the old snapshot beyond an empty log, which open turns
         * back into the old state, and the leader replaces it again. */
        bool below = s->index + 1 < rlog_first_index(n->log);
        if (below && rlog_reset(n->log, s->index, s->term) != 0) {
            raft_node_fail(n, "failed to reset the log to snapshot %" PRIu64 ": %s", s->index,
                           rlog_errmsg(n->log));
            return -1;
        }
        if (raft_snapfile_save(n->snapdir, s, err, sizeof err) != 0) {
            raft_node_fail(n, "failed to persist installed snapshot %" PRIu64 ": %s", s->index,
                           err);
            return -1;
        }
        if (!below && rlog_reset(n->log, s->index, s->term) != 0) {
            raft_node_fail(n, "failed to reset the log to snapshot %" PRIu64 ": %s", s->index,
                           rlog_errmsg(n->log));
            return -1;
        }
    }
    if (rd->truncate_from != 0 && rlog_truncate_suffix(n->log, rd->truncate_from) != 0) {
        raft_node_fail(n, "failed to truncate the log from %" PRIu64 ": %s", rd->truncate_from,
                       rlog_errmsg(n->log));
        return -1;
    }
    if (rd->n_entries) {
        if (rlog_append(n->log, rd->entries, rd->n_entries) != 0) {
            raft_node_fail(n, "failed to append entries %" PRIu64 "..%" PRIu64 ": %s",
                           rd->entries[0].index, rd->entries[rd->n_entries - 1].index,
                           rlog_errmsg(n->log));
            return -1;
        }
        if (rlog_sync(n->log) != 0) {
            raft_node_fail(n, "failed to sync the log: %s", rlog_errmsg(n->log));
            return -1;
        }
    }
    return 0;
}

static int restore_fsm(struct raft_node *n, const struct raft_snapshot *s)
{
    if (n->fsm.restore(n->fsm.ctx, s->data, s->len) != 0) {
        raft_node_fail(n, "the state machine could not restore snapshot %" PRIu64, s->index);
        return -1;
    }
    struct raft_config c;
    if (raft_config_copy(&c, &s->config) == 0) {
        raft_config_free(&n->applied_cfg);
        n->applied_cfg = c;
    }
    n->applied = s->index;
    log_printf(n->lg, LOG_INFO, "raft", "restored state machine from snapshot %" PRIu64 "-%" PRIu64,
               s->term, s->index);
    return 0;
}

static void apply_entry(struct raft_node *n, const struct raft_entry *e)
{
    int64_t value = 0;
    if (e->type == RAFT_ENTRY_COMMAND) {
        value = n->fsm.apply(n->fsm.ctx, e->index, e->data, e->len);
    } else if (e->type == RAFT_ENTRY_CONFIG) {
        struct raft_config c;
        if (raft_config_decode(e->data, e->len, &c) == 0) {
            raft_config_free(&n->applied_cfg);
            n->applied_cfg = c;
        }
    }
    n->applied = e->index;
    settle_props(n, e->index, e->term, value);
}

static void take_snapshot(struct raft_node *n)
{
    uint64_t idx = n->applied;
    if (idx == 0 || idx <= raft_snapshot_index(&n->core))
        return;
    uint64_t term;
    if (rlog_term_at(n->log, idx, &term) != 0) {
        const struct raft_entry *e = raft_entry_at(&n->core, idx);
        if (e == NULL) {
            log_printf(n->lg, LOG_WARN, "raft", "snapshot skipped: no term for index %" PRIu64,
                       idx);
            return;
        }
        term = e->term;
    }
    struct buf b;
    buf_init(&b, RAFT_SNAPFILE_MAX);
    if (n->fsm.snapshot(n->fsm.ctx, &b) != 0 || b.len > UINT32_MAX) {
        log_printf(n->lg, LOG_WARN, "raft",
                   "the state machine refused a snapshot at index %" PRIu64 "; retrying after %" PRIu64
                   " more entries",
                   idx, n->threshold);
        buf_free(&b);
        n->snap_retry_at = idx + n->threshold; /* the core asks once per threshold crossing */
        return;
    }
    struct raft_snapshot s = {.index = idx, .term = term, .config = n->applied_cfg,
                              .len = (uint32_t)b.len, .data = b.data};
    char err[RAFT_META_ERRMAX];
    if (raft_snapfile_save(n->snapdir, &s, err, sizeof err) != 0) {
        buf_free(&b);
        raft_node_fail(n, "failed to save snapshot %" PRIu64 ": %s", idx, err);
        return;
    }
    int rc = raft_snapshot_done(&n->core, idx, b.data, b.len);
    buf_free(&b);
    if (rc != RAFT_OK) {
        log_printf(n->lg, LOG_WARN, "raft", "snapshot %" PRIu64 " not taken by the core: %s", idx,
                   raft_strerror(rc));
        n->snap_retry_at = idx + n->threshold;
        return;
    }
    n->snap_retry_at = 0;
    /* Keep the trailing log, and never compact past the previous snapshot: if the newest file
     * rots, open falls back to the previous one plus the log after it. */
    uint64_t upto = idx > n->trailing ? idx - n->trailing : 0;
    uint64_t prev = raft_snapfile_previous_index(n->snapdir);
    if (upto > prev)
        upto = prev;
    uint64_t uterm;
    if (upto >= rlog_first_index(n->log) && rlog_term_at(n->log, upto, &uterm) == 0 &&
        rlog_drop_prefix(n->log, upto, uterm) != 0) {
        raft_node_fail(n, "failed to compact the log up to %" PRIu64 ": %s", upto,
                       rlog_errmsg(n->log));
        return;
    }
    log_printf(n->lg, LOG_INFO, "raft", "snapshot complete up to %" PRIu64 " (%zu bytes), log kept from %" PRIu64,
               idx, (size_t)s.len, rlog_first_index(n->log));
}

void raft_node_drive(struct raft_node *n)
{
    if (n->failed || n->in_drive || !n->core_ok)
        return;
    n->in_drive = true;
    for (;;) {
        raft_node_sync_peers(n);
        struct raft_ready rd;
        if (!raft_ready(&n->core, &rd))
            break;
        n->core_busy = true;
        if (rd.soft_state_changed)
            soft_state(n, &rd);
        send_all(n, rd.msgs, rd.n_msgs);
        if (rd.n_msgs)
            raft_transport_flush(n->tr); /* followers write while we fsync */
        if (persist(n, &rd) != 0)
            break; /* never advance past a failed write */
        send_all(n, rd.msgs_after_persist, rd.n_msgs_after_persist);
        if (rd.snapshot != NULL) {
            if (restore_fsm(n, rd.snapshot) != 0)
                break;
            settle_props(n, rd.snapshot->index, 0, 0);
        }
        for (size_t i = 0; i < rd.n_committed; i++)
            apply_entry(n, &rd.committed[i]);
        for (size_t i = 0; i < rd.n_reads; i++) {
            const struct raft_read_state *rs = &rd.reads[i];
            for (size_t k = 0; k < n->n_reads; k++) {
                struct raft_node_read *r = &n->reads[k];
                if (r->id != rs->ctx)
                    continue;
                if (!rs->ok) {
                    finish_read(n, r, RAFT_NODE_EREAD);
                    n->reads[k] = n->reads[--n->n_reads];
                } else {
                    r->index = rs->index;
                    r->confirmed = true;
                }
                break;
            }
        }
        settle_reads(n);
        bool want = rd.snapshot_wanted ||
                    (n->snap_retry_at != 0 && n->applied >= n->snap_retry_at);
        raft_advance(&n->core, &rd);
        n->core_busy = false;
        if (want)
            take_snapshot(n);
        if (n->failed || (n->close_requested && !n->closing))
            break;
        raft_node_fire_events(n);
    }
    n->in_drive = false;
    if (!n->failed && !n->close_requested)
        raft_node_fire_events(n);
    if (n->close_requested && !n->closing)
        raft_node_close(n); /* asked for by a callback while we were inside */
}
