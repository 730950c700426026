/* snapshot.c — snapshots in the Raft core: taking one (compaction keeping a trailing log),
 * sending it to a follower behind the compacted prefix, and installing one received. */
#include "raft/core.h"

#include <stdlib.h>
#include <string.h>

void raft_send_snapshot(struct raft *r, struct raft_progress *pr)
{
    if (r->snap.index == 0)
        return;
    if (raft_send(r, pr->id, RAFT_MSG_SNAPSHOT, false) == NULL)
        return; /* the body is bound to r->snap in raft_ready (note 10) */
    raft_logf(r, LOG_INFO, "sending snapshot at index %llu to %s",
              (unsigned long long)r->snap.index, pr->addr);
    pr->state = RAFT_PR_SNAPSHOT;
    pr->pending_snapshot = r->snap.index;
    pr->snapshot_ticks = 0;
    pr->infl_head = pr->infl_n = 0;
}

static void reply(struct raft *r, raft_id to, bool ok, uint64_t last)
{
    struct raft_msg *m = raft_send(r, to, RAFT_MSG_SNAPSHOT_RESP, true);
    if (m) {
        m->u.snapshot_resp.success = ok;
        m->u.snapshot_resp.last_index = last;
    }
}

/* Replaces r->snap with a deep copy of the received one. */
static int copy_snapshot(struct raft *r, const struct raft_msg_snapshot *s)
{
    struct raft_config c;
    uint8_t *data = NULL;
    if (raft_config_copy(&c, &s->config) != 0)
        return RAFT_ENOMEM;
    if (s->len) {
        data = malloc(s->len);
        if (data == NULL) {
            raft_config_free(&c);
            return RAFT_ENOMEM;
        }
        memcpy(data, s->data, s->len);
    }
    raft_config_free(&r->snap.config);
    free(r->snap.data);
    r->snap.index = s->last_index;
    r->snap.term = s->last_term;
    r->snap.config = c;
    r->snap.data = data;
    r->snap.len = s->len;
    return RAFT_OK;
}

void raft_handle_snapshot(struct raft *r, const struct raft_msg *m)
{
    if (r->role == RAFT_LEADER)
        return;
    if (r->role != RAFT_FOLLOWER)
        raft_become_follower(r, r->term, m->from);
    r->leader = m->from;
    r->election_elapsed = 0;
    r->last_contact = 0;
    const struct raft_msg_snapshot *s = &m->u.snapshot;
    uint64_t t;
    if (s->last_index <= r->commit && !r->diverged) {
        reply(r, m->from, true, r->commit); /* old or duplicate: nothing to do */
        return;
    }
    if (!r->diverged && raft_memlog_term(&r->log, s->last_index, &t) && t == s->last_term) {
        /* Our log already holds the snapshot's last entry: keep the suffix, just commit. */
        r->commit = s->last_index;
        reply(r, m->from, true, s->last_index);
        return;
    }
    if (copy_snapshot(r, s) != RAFT_OK) {
        reply(r, m->from, false, raft_memlog_last(&r->log));
        return;
    }
    raft_logf(r, LOG_INFO, "installing snapshot at index %llu term %llu from %llu",
              (unsigned long long)s->last_index, (unsigned long long)s->last_term,
              (unsigned long long)m->from);
    /* The log disagrees with (or is behind) the snapshot: all of it goes. */
    raft_memlog_free(&r->log);
    raft_memlog_init(&r->log, s->last_index, s->last_term);
    r->snap_unstable = true;
    r->truncate_from = 0; /* rd.snapshot means "discard the whole log" */
    r->commit = r->applied = r->durable = s->last_index;
    r->unstable = s->last_index + 1;
    r->compact_pending = 0;
    r->snapshot_asked = false;
    r->diverged = false;
    raft_config_refresh(r);
    reply(r, m->from, true, s->last_index);
}

void raft_handle_snapshot_resp(struct raft *r, const struct raft_msg *m)
{
    if (r->role != RAFT_LEADER)
        return;
    struct raft_progress *pr = raft_progress_find(r, m->from);
    if (pr == NULL)
        return;
    pr->recent_active = true;
    const struct raft_msg_snapshot_resp *s = &m->u.snapshot_resp;
    if (s->success && s->last_index <= raft_memlog_last(&r->log) && s->last_index > pr->match)
        pr->match = s->last_index;
    if (pr->state != RAFT_PR_SNAPSHOT)
        return;
    if (s->success)
        raft_progress_become_replicate(r, pr);
    else
        raft_progress_become_probe(r, pr);
    raft_id id = pr->id;
    if (raft_maybe_commit(r))
        raft_on_commit_advanced(r);
    pr = raft_progress_find(r, id); /* a promotion may have rebuilt the array */
    if (r->role == RAFT_LEADER && pr != NULL)
        while (raft_send_append(r, pr, false))
            ;
}

int raft_snapshot_done(struct raft *r, uint64_t index, const void *data, size_t len)
{
    if (r->in_ready || len > UINT32_MAX)
        return RAFT_EINVAL;
    uint64_t term;
    if (index > r->applied || index <= r->snap.index || !raft_memlog_term(&r->log, index, &term))
        return RAFT_ESTALE;
    struct raft_config c;
    if (raft_config_at(r, index, &c) != RAFT_OK)
        return RAFT_ENOMEM;
    uint8_t *copy = NULL;
    if (len) {
        copy = malloc(len);
        if (copy == NULL) {
            raft_config_free(&c);
            return RAFT_ENOMEM;
        }
        memcpy(copy, data, len);
    }
    raft_config_free(&r->snap.config);
    free(r->snap.data);
    r->snap.index = index;
    r->snap.term = term;
    r->snap.config = c;
    r->snap.data = copy;
    r->snap.len = (uint32_t)len;
    r->snapshot_asked = false;
    /* Keep a trailing log so that followers slightly behind catch up without a snapshot. */
    uint64_t upto = index > r->o.snapshot_trailing ? index - r->o.snapshot_trailing : 0;
    if (upto > r->log.base)
        r->compact_pending = upto;
    raft_logf(r, LOG_INFO, "snapshot taken at index %llu, compacting log up to %llu",
              (unsigned long long)index, (unsigned long long)upto);
    return RAFT_OK;
}

void raft_compact_if_pending(struct raft *r)
{
    /* Runs only from raft_advance, with the outbox empty (note 10). */
    if (r->compact_pending == 0 || r->out.n || r->out_after.n)
        return;
    uint64_t upto = r->compact_pending;
    if (upto > r->snap.index)
        upto = r->snap.index;
    if (upto > r->durable)
        upto = r->durable;
    r->compact_pending = 0;
    if (upto > r->log.base)
        raft_memlog_compact(&r->log, upto);
}
