/* replication.c — AppendEntries on both sides: the leader's sending, pipelining and commit rule,
 * the follower's consistency check, conflict truncation and fast back-off hints. */
#include "raft/core.h"

#include <string.h>

int raft_append_local(struct raft *r, uint8_t type, const void *data, size_t len,
                      uint64_t *index)
{
    if (len > UINT32_MAX)
        return RAFT_ETOOBIG;
    struct raft_entry e = {.term = r->term, .index = raft_memlog_last(&r->log) + 1, .type = type,
                           .len = (uint32_t)len, .data = (uint8_t *)data};
    int rc = raft_memlog_append(&r->log, &e);
    if (rc != RAFT_OK)
        return rc;
    if (index)
        *index = e.index;
    if (type == RAFT_ENTRY_CONFIG)
        raft_config_refresh(r); /* note 8: in effect once appended */
    r->bcast_pending = true;
    return RAFT_OK;
}

int raft_propose(struct raft *r, const void *data, size_t len, uint64_t *index)
{
    if (r->in_ready)
        return RAFT_EINVAL;
    if (r->role != RAFT_LEADER)
        return RAFT_ENOTLEADER;
    if (r->transferee)
        return RAFT_ETRANSFER;
    int rc = raft_append_local(r, RAFT_ENTRY_COMMAND, data, len, index);
    if (rc == RAFT_OK && raft_maybe_commit(r))
        raft_on_commit_advanced(r);
    return rc;
}

bool raft_send_append(struct raft *r, struct raft_progress *pr, bool send_empty)
{
    if (pr->state == RAFT_PR_SNAPSHOT || (pr->state == RAFT_PR_PROBE && pr->paused) ||
        raft_progress_full(r, pr))
        return false;
    uint64_t prev = pr->next - 1, prev_term;
    if (!raft_memlog_term(&r->log, prev, &prev_term)) {
        raft_send_snapshot(r, pr);
        return true;
    }
    uint64_t last = raft_memlog_last(&r->log);
    uint64_t n = last - prev;
    if (n > r->o.max_entries_per_msg)
        n = r->o.max_entries_per_msg;
    if (n == 0 && !send_empty)
        return false;
    struct raft_msg *m = raft_send(r, pr->id, RAFT_MSG_APPEND, false);
    if (m == NULL)
        return false;
    m->u.append.prev_index = prev;
    m->u.append.prev_term = prev_term;
    m->u.append.commit = r->commit;
    m->u.append.read_ctx = r->read_round;
    m->u.append.n_entries = (uint32_t)n;
    if (r->commit > pr->commit_sent)
        pr->commit_sent = r->commit; /* bound to log memory in raft_ready (note 10) */
    if (pr->state == RAFT_PR_REPLICATE) {
        if (n) {
            pr->next = prev + n + 1;
            raft_progress_infl_add(r, pr, prev + n);
        }
    } else {
        pr->paused = true;
    }
    return true;
}

void raft_bcast_append(struct raft *r, bool send_empty)
{
    for (size_t i = 0; i < r->n_prs; i++)
        raft_send_append(r, &r->prs[i], send_empty);
}

void raft_bcast_heartbeat(struct raft *r)
{
    for (size_t i = 0; i < r->n_prs; i++) {
        struct raft_progress *pr = &r->prs[i];
        uint64_t prev_term;
        if (pr->state == RAFT_PR_SNAPSHOT)
            continue;
        if (pr->state == RAFT_PR_PROBE || !raft_memlog_term(&r->log, pr->match, &prev_term)) {
            /* In probe the heartbeat is the next probe: a lost reply must not stall it. A
             * replicating peer whose match was compacted away needs a snapshot: probe too. */
            if (pr->state != RAFT_PR_PROBE)
                raft_progress_become_probe(r, pr);
            pr->paused = false;
            raft_send_append(r, pr, true);
            continue;
        }
        /* Replicating but no progress for two heartbeats while behind: the pipelined appends
         * were lost (nothing else tells us), so probe again from the match point. */
        if (pr->match < raft_memlog_last(&r->log) && pr->match == pr->hb_match) {
            if (++pr->stalls >= 2) {
                raft_progress_become_probe(r, pr);
                raft_send_append(r, pr, true);
                continue;
            }
        } else {
            pr->stalls = 0;
        }
        pr->hb_match = pr->match;
        /* Replicating: a heartbeat claims only what is known to match, so pipelined appends
         * still in flight never make it fail. */
        struct raft_msg *m = raft_send(r, pr->id, RAFT_MSG_APPEND, false);
        if (m == NULL)
            continue;
        m->u.append.prev_index = pr->match;
        m->u.append.prev_term = prev_term;
        m->u.append.commit = r->commit < pr->match ? r->commit : pr->match;
        m->u.append.read_ctx = r->read_round;
        if (m->u.append.commit > pr->commit_sent)
            pr->commit_sent = m->u.append.commit;
    }
}

/* ---- follower side ---- */

static void reject(struct raft *r, const struct raft_msg *m)
{
    const struct raft_msg_append *a = &m->u.append;
    struct raft_msg *resp = raft_send(r, m->from, RAFT_MSG_APPEND_RESP, true);
    if (resp == NULL)
        return;
    uint64_t last = raft_memlog_last(&r->log), t = 0;
    resp->u.append_resp.last_index = last;
    resp->u.append_resp.read_ctx = a->read_ctx;
    if (a->prev_index > last) {
        resp->u.append_resp.conflict_index = last + 1;
        return;
    }
    /* Fast back-off: point at the first entry of our conflicting term, so the leader skips
     * the whole term in one round trip. Never below what is committed. */
    raft_memlog_term(&r->log, a->prev_index, &t);
    uint64_t i = a->prev_index, floor = r->commit + 1, lt;
    while (i > floor && raft_memlog_term(&r->log, i - 1, &lt) && lt == t)
        i--;
    resp->u.append_resp.conflict_index = i;
    resp->u.append_resp.conflict_term = t;
}

static void accept(struct raft *r, const struct raft_msg *m, uint64_t match)
{
    struct raft_msg *resp = raft_send(r, m->from, RAFT_MSG_APPEND_RESP, true);
    if (resp == NULL)
        return;
    resp->u.append_resp.success = true;
    resp->u.append_resp.match_index = match;
    resp->u.append_resp.last_index = raft_memlog_last(&r->log);
    resp->u.append_resp.read_ctx = m->u.append.read_ctx;
}

/* Drops entries from `from` on (note 7: only ever above commit). */
static void truncate_from(struct raft *r, uint64_t from)
{
    raft_logf(r, LOG_WARN, "truncating conflicting log suffix from index %llu",
              (unsigned long long)from);
    raft_memlog_truncate(&r->log, from);
    if (from < r->unstable) {
        /* Entries handed to disk earlier are now wrong there too. */
        if (r->truncate_from == 0 || from < r->truncate_from)
            r->truncate_from = from;
        r->unstable = from;
    }
    if (r->durable >= from)
        r->durable = from - 1;
    if (r->config_index >= from)
        raft_config_refresh(r);
}

void raft_handle_append(struct raft *r, const struct raft_msg *m)
{
    if (r->role == RAFT_LEADER)
        return; /* same term, two leaders: impossible, so the message is bogus */
    if (r->role != RAFT_FOLLOWER)
        raft_become_follower(r, r->term, m->from);
    r->leader = m->from;
    r->election_elapsed = 0;
    r->last_contact = 0;

    const struct raft_msg_append *a = &m->u.append;
    uint64_t prev = a->prev_index, prev_term = a->prev_term;
    const struct raft_entry *ents = a->entries;
    uint32_t n = a->n_entries;

    uint64_t ct;
    if (!r->diverged && prev < r->commit && raft_memlog_term(&r->log, r->commit, &ct) &&
        prev_term > ct) {
        raft_logf(r, LOG_ERR,
                  "leader %llu has term %llu at index %llu, below our commit index %llu of term "
                  "%llu: our state was never committed (peers.json recovery?); replacing it "
                  "with the leader's snapshot",
                  (unsigned long long)m->from, (unsigned long long)prev_term,
                  (unsigned long long)prev, (unsigned long long)r->commit,
                  (unsigned long long)ct);
        r->diverged = true;
    }
    if (r->diverged) {
        /* Note 14: point the leader below its log so that it sends its snapshot. */
        struct raft_msg *resp = raft_send(r, m->from, RAFT_MSG_APPEND_RESP, true);
        if (resp != NULL) {
            resp->u.append_resp.last_index = 0;
            resp->u.append_resp.conflict_index = 1;
            resp->u.append_resp.read_ctx = a->read_ctx;
        }
        return;
    }
    /* Everything up to commit already matches the leader (Leader Completeness): skip it. */
    if (prev < r->commit) {
        uint64_t skip = r->commit - prev;
        if (skip >= n) {
            accept(r, m, r->commit);
            return;
        }
        prev += skip;
        prev_term = ents[skip - 1].term;
        ents += skip;
        n -= (uint32_t)skip;
    }

    uint64_t t;
    if (!raft_memlog_term(&r->log, prev, &t) || t != prev_term) {
        reject(r, m);
        return;
    }
    uint32_t i = 0;
    for (; i < n; i++) {
        const struct raft_entry *e = &ents[i];
        if (!raft_memlog_term(&r->log, e->index, &t))
            break; /* beyond our last: append the rest */
        if (t != e->term) {
            if (e->index <= r->commit) {
                raft_logf(r, LOG_ERR, "refusing to truncate committed entry %llu",
                          (unsigned long long)e->index);
                return;
            }
            truncate_from(r, e->index);
            break;
        }
    }
    bool config = false, full = false;
    for (; i < n && !full; i++) {
        full = raft_memlog_append(&r->log, &ents[i]) != RAFT_OK;
        config |= !full && ents[i].type == RAFT_ENTRY_CONFIG;
    }
    if (config)
        raft_config_refresh(r);
    if (full)
        return; /* out of memory: what was appended stays, unacknowledged; the leader retries */
    uint64_t verified = prev + n;
    uint64_t c = a->commit < verified ? a->commit : verified;
    if (c > r->commit)
        r->commit = c;
    accept(r, m, verified);
}

/* ---- leader side ---- */

static uint64_t back_off(const struct raft *r, const struct raft_msg_append_resp *a)
{
    uint64_t next = a->conflict_index;
    if (a->conflict_term) {
        /* If we hold entries of the follower's conflicting term, retry after our last one. */
        uint64_t i = a->conflict_index, t;
        uint64_t last = raft_memlog_last(&r->log);
        if (i > last)
            i = last;
        uint64_t found = 0;
        while (raft_memlog_term(&r->log, i, &t) && t >= a->conflict_term && i > r->log.base) {
            if (t == a->conflict_term) {
                found = i;
                break;
            }
            i--;
        }
        if (found)
            next = found + 1 < a->conflict_index ? found + 1 : a->conflict_index;
    }
    if (next > a->last_index + 1)
        next = a->last_index + 1;
    return next;
}

void raft_handle_append_resp(struct raft *r, const struct raft_msg *m)
{
    if (r->role != RAFT_LEADER)
        return;
    struct raft_progress *pr = raft_progress_find(r, m->from);
    if (pr == NULL)
        return;
    const struct raft_msg_append_resp *a = &m->u.append_resp;
    pr->recent_active = true;
    if (a->read_ctx > pr->read_ack && a->read_ctx <= r->read_round) {
        pr->read_ack = a->read_ctx;
        raft_reads_check(r);
    }
    uint64_t last = raft_memlog_last(&r->log);
    if (!a->success) {
        if (pr->state == RAFT_PR_SNAPSHOT)
            return;
        uint64_t next = back_off(r, a);
        if (next <= pr->match)
            next = pr->match + 1; /* stale rejection: never go below a known match */
        if (next > last + 1)
            next = last + 1;
        raft_progress_become_probe(r, pr);
        pr->next = next;
        raft_send_append(r, pr, true);
        return;
    }
    if (a->match_index > last)
        return; /* claims entries we never sent */
    bool advanced = false;
    if (a->match_index > pr->match) {
        pr->match = a->match_index;
        advanced = true;
    }
    if (pr->next <= pr->match)
        pr->next = pr->match + 1;
    if (pr->state == RAFT_PR_PROBE) {
        raft_progress_become_replicate(r, pr);
    } else if (pr->state == RAFT_PR_REPLICATE) {
        raft_progress_infl_free_to(r, pr, pr->match);
        /* Any reply while the window is full frees a slot: appends may have been lost,
         * and the next one will either land or be refused and restart probing. */
        if (raft_progress_full(r, pr) && pr->infl_n) {
            pr->infl_head = (pr->infl_head + 1) % r->o.max_inflight_msgs;
            pr->infl_n--;
        }
    } else if (pr->state == RAFT_PR_SNAPSHOT && pr->match >= pr->pending_snapshot) {
        raft_progress_become_replicate(r, pr);
    }
    raft_id id = pr->id;
    if (advanced && raft_maybe_commit(r))
        raft_on_commit_advanced(r);
    /* A commit may append a configuration (promotion), which rebuilds the progress array. */
    pr = raft_progress_find(r, id);
    if (r->role != RAFT_LEADER || pr == NULL)
        return;
    bool sent = false;
    while (raft_send_append(r, pr, false))
        sent = true;
    if (!sent && pr->commit_sent < r->commit)
        raft_send_append(r, pr, true); /* it may not know the commit index yet */
    if (advanced) {
        if (id == r->transferee && pr->match == raft_memlog_last(&r->log))
            raft_send(r, id, RAFT_MSG_TIMEOUT_NOW, false);
        else
            raft_maybe_promote(r, pr); /* last: may invalidate pr */
    }
}

static void sort_desc(uint64_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && v[j] > v[j - 1]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
}

bool raft_maybe_commit(struct raft *r)
{
    uint64_t match[RAFT_CONFIG_MAX_SERVERS];
    size_t n = 0;
    for (uint32_t i = 0; i < r->config.n && n < RAFT_CONFIG_MAX_SERVERS; i++) {
        const struct raft_server *s = &r->config.servers[i];
        if (!s->voter)
            continue;
        if (s->id == r->o.id) {
            match[n++] = r->durable; /* note 4: ourselves only once fsynced */
        } else {
            const struct raft_progress *pr = raft_progress_find(r, s->id);
            match[n++] = pr ? pr->match : 0;
        }
    }
    uint32_t q = raft_quorum(r);
    if (n == 0 || q == 0 || q > n)
        return false;
    sort_desc(match, n);
    uint64_t c = match[q - 1], t;
    /* Note 5 (Figure 8): only an entry of our own term commits by counting replicas. */
    if (c <= r->commit || !raft_memlog_term(&r->log, c, &t) || t != r->term)
        return false;
    r->commit = c;
    return true;
}

void raft_on_commit_advanced(struct raft *r)
{
    if (!r->own_term_committed) {
        r->own_term_committed = true;
        raft_reads_start_waiting(r);
    }
    raft_check_self_removal(r);
    if (r->role != RAFT_LEADER)
        return;
    for (size_t i = 0; i < r->n_prs; i++)
        raft_maybe_promote(r, &r->prs[i]);
    /* Followers learn the new commit index now rather than at the next heartbeat. */
    raft_bcast_append(r, true);
}
