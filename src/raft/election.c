/* election.c — roles, election timeouts, pre-vote, votes and check-quorum of the Raft core.
 * Owns every role transition; vote replies leave only after the vote is durable (core note 2). */
#include "raft/core.h"

#include <stdlib.h>
#include <string.h>

void raft_reset_timeout(struct raft *r)
{
    r->election_elapsed = 0;
    r->randomized_timeout = r->o.election_ticks + (unsigned)(raft_rand(r) % r->o.election_ticks);
}

static void log_role(struct raft *r)
{
    raft_logf(r, LOG_INFO, "Node at %s [%s] entering %s state", r->o.addr,
              raft_role_name(r->role), raft_role_name(r->role));
}

void raft_become_follower(struct raft *r, uint64_t term, raft_id leader)
{
    enum raft_role old = r->role;
    if (term != r->term) {
        /* Note 3: the vote is cleared only with a new term. */
        r->term = term;
        r->vote = 0;
    }
    r->role = RAFT_FOLLOWER;
    r->leader = leader;
    r->transferee = 0;
    r->heartbeat_elapsed = 0;
    raft_reset_timeout(r);
    if (old == RAFT_LEADER) {
        raft_drop_leader_msgs(r);
        raft_reads_fail_all(r);
        raft_progress_free_all(r);
        r->bcast_pending = false;
    }
    if (old != RAFT_FOLLOWER)
        log_role(r);
}

static void reset_votes(struct raft *r)
{
    r->n_voters_granted = 0;
    r->n_votes_rejected = 0;
}

static bool push_id(raft_id **v, size_t *n, raft_id id)
{
    raft_id *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (nv == NULL)
        return false;
    nv[(*n)++] = id;
    *v = nv;
    return true;
}

/* Records the first answer from id (a duplicated or changed answer counts no more); returns
 * the number of distinct voters that granted. */
static size_t record_vote(struct raft *r, raft_id id, bool granted)
{
    for (size_t i = 0; i < r->n_voters_granted; i++)
        if (r->voters_granted[i] == id)
            return r->n_voters_granted;
    for (size_t i = 0; i < r->n_votes_rejected; i++)
        if (r->voters_rejected[i] == id)
            return r->n_voters_granted;
    if (granted)
        push_id(&r->voters_granted, &r->n_voters_granted, id);
    else
        push_id(&r->voters_rejected, &r->n_votes_rejected, id);
    return r->n_voters_granted;
}

void raft_become_leader(struct raft *r)
{
    raft_logf(r, LOG_INFO, "Election won. Tally: %zu", r->n_voters_granted);
    r->role = RAFT_LEADER;
    r->leader = r->o.id;
    r->transferee = 0;
    r->heartbeat_elapsed = 0;
    r->election_elapsed = 0;
    r->own_term_committed = false;
    log_role(r);
    raft_progress_sync(r, true);
    /* Note 5: the no-op lets entries of earlier terms commit, and gates config changes
     * (pending_conf_index) and ReadIndex until it commits. */
    uint64_t idx;
    raft_append_local(r, RAFT_ENTRY_NOOP, NULL, 0, &idx);
    r->pending_conf_index = idx;
    if (raft_maybe_commit(r))
        raft_on_commit_advanced(r);
}

static void send_votes(struct raft *r, bool prevote, bool transfer)
{
    for (uint32_t i = 0; i < r->config.n; i++) {
        const struct raft_server *s = &r->config.servers[i];
        if (!s->voter || s->id == r->o.id)
            continue;
        /* Real vote requests follow the durable term+vote (raft_send routes them). */
        struct raft_msg *m = raft_send(r, s->id, RAFT_MSG_VOTE, false);
        if (m == NULL)
            continue;
        if (prevote)
            m->term = r->term + 1;
        m->u.vote.prevote = prevote;
        m->u.vote.transfer = transfer;
        m->u.vote.last_index = raft_memlog_last(&r->log);
        m->u.vote.last_term = raft_memlog_last_term(&r->log);
    }
}

static void become_candidate(struct raft *r, bool transfer)
{
    r->role = RAFT_CANDIDATE;
    r->term++;
    r->vote = r->o.id;
    r->leader = 0;
    raft_reset_timeout(r);
    reset_votes(r);
    log_role(r);
    /* A server whose own removal is pending runs without counting itself. */
    size_t granted = raft_is_voter(r, r->o.id) ? record_vote(r, r->o.id, true) : 0;
    if (granted >= raft_quorum(r)) {
        raft_become_leader(r);
        return;
    }
    send_votes(r, false, transfer);
}

void raft_campaign(struct raft *r, bool transfer)
{
    if (!raft_promotable(r))
        return;
    if (!r->o.pre_vote || transfer) {
        become_candidate(r, transfer);
        return;
    }
    r->role = RAFT_PRECANDIDATE;
    r->leader = 0;
    raft_reset_timeout(r);
    reset_votes(r);
    raft_logf(r, LOG_DEBUG, "starting pre-vote for term %llu", (unsigned long long)r->term + 1);
    size_t granted = raft_is_voter(r, r->o.id) ? record_vote(r, r->o.id, true) : 0;
    if (granted >= raft_quorum(r)) {
        become_candidate(r, false);
        return;
    }
    send_votes(r, true, false);
}

void raft_handle_vote(struct raft *r, const struct raft_msg *m)
{
    const struct raft_msg_vote *v = &m->u.vote;
    bool can_vote = r->vote == m->from || (r->vote == 0 && r->leader == 0) ||
                    (v->prevote && m->term > r->term);
    uint64_t lt = raft_memlog_last_term(&r->log), li = raft_memlog_last(&r->log);
    bool up_to_date = v->last_term > lt || (v->last_term == lt && v->last_index >= li);
    bool grant = can_vote && up_to_date;
    struct raft_msg *resp = raft_send(r, m->from, RAFT_MSG_VOTE_RESP, true);
    if (grant && !v->prevote) {
        r->vote = m->from;
        r->election_elapsed = 0;
    }
    if (resp == NULL)
        return;
    /* A granted pre-vote answers in the term asked about; a refusal carries ours. */
    resp->term = grant && v->prevote ? m->term : r->term;
    resp->u.vote_resp.prevote = v->prevote;
    resp->u.vote_resp.granted = grant;
    raft_logf(r, LOG_DEBUG, "%s %svote for %llu in term %llu", grant ? "granted" : "rejected",
              v->prevote ? "pre-" : "", (unsigned long long)m->from, (unsigned long long)m->term);
}

void raft_handle_vote_resp(struct raft *r, const struct raft_msg *m)
{
    bool pre = m->u.vote_resp.prevote;
    if ((pre && r->role != RAFT_PRECANDIDATE) || (!pre && r->role != RAFT_CANDIDATE))
        return;
    if (!raft_is_voter(r, m->from))
        return;
    size_t granted = record_vote(r, m->from, m->u.vote_resp.granted);
    if (granted >= raft_quorum(r)) {
        if (pre)
            become_candidate(r, false);
        else
            raft_become_leader(r);
    } else if (r->n_votes_rejected >= raft_quorum(r)) {
        raft_become_follower(r, r->term, 0);
    }
}

static void check_quorum(struct raft *r)
{
    uint32_t active = raft_is_voter(r, r->o.id) ? 1 : 0;
    for (size_t i = 0; i < r->n_prs; i++) {
        struct raft_progress *pr = &r->prs[i];
        if (pr->recent_active && raft_is_voter(r, pr->id))
            active++;
        pr->recent_active = false;
    }
    if (active < raft_quorum(r)) {
        raft_logf(r, LOG_WARN, "Failed to contact quorum of nodes, stepping down");
        raft_become_follower(r, r->term, 0);
    }
}

static void tick_leader(struct raft *r)
{
    r->heartbeat_elapsed++;
    r->election_elapsed++;
    if (r->transferee && ++r->transfer_elapsed >= r->o.election_ticks) {
        raft_logf(r, LOG_WARN, "leadership transfer to %llu timed out",
                  (unsigned long long)r->transferee);
        r->transferee = 0;
    }
    if (r->election_elapsed >= r->o.election_ticks) {
        r->election_elapsed = 0;
        if (r->o.check_quorum) {
            check_quorum(r);
            if (r->role != RAFT_LEADER)
                return;
        }
    }
    for (size_t i = 0; i < r->n_prs; i++) {
        struct raft_progress *pr = &r->prs[i];
        /* A lost InstallSnapshot would otherwise stall the follower forever. */
        if (pr->state == RAFT_PR_SNAPSHOT && ++pr->snapshot_ticks >= 2 * r->o.election_ticks)
            raft_progress_become_probe(r, pr);
    }
    if (r->heartbeat_elapsed >= r->o.heartbeat_ticks) {
        r->heartbeat_elapsed = 0;
        raft_bcast_heartbeat(r);
    }
}

void raft_tick(struct raft *r)
{
    if (r->in_ready)
        return;
    if (r->role == RAFT_LEADER) {
        tick_leader(r);
        return;
    }
    r->last_contact++;
    r->election_elapsed++;
    if (r->election_elapsed < r->randomized_timeout)
        return;
    raft_reset_timeout(r);
    if (r->config.n == 0) {
        if (!r->warned_no_peers) {
            raft_logf(r, LOG_WARN,
                      "no known peers and not in bootstrap mode, aborting election");
            r->warned_no_peers = true;
        }
        return;
    }
    if (!raft_promotable(r))
        return;
    if (r->role == RAFT_FOLLOWER)
        raft_logf(r, LOG_WARN, "Heartbeat timeout reached, starting election");
    else
        raft_logf(r, LOG_WARN, "Election timeout reached, restarting election");
    raft_campaign(r, false);
}

int raft_transfer_leadership(struct raft *r, raft_id to)
{
    if (r->role != RAFT_LEADER)
        return RAFT_ENOTLEADER;
    if (to == r->o.id)
        return RAFT_EINVAL;
    struct raft_progress *best = NULL;
    for (size_t i = 0; i < r->n_prs; i++) {
        struct raft_progress *pr = &r->prs[i];
        if (!raft_is_voter(r, pr->id))
            continue;
        if (to ? pr->id == to : (best == NULL || pr->match > best->match))
            best = pr;
    }
    if (best == NULL)
        return RAFT_ENOTFOUND;
    r->transferee = best->id;
    r->transfer_elapsed = 0; /* the transfer gets one election timeout */
    raft_logf(r, LOG_INFO, "starting leadership transfer to %llu",
              (unsigned long long)best->id);
    if (best->match == raft_memlog_last(&r->log))
        raft_send(r, best->id, RAFT_MSG_TIMEOUT_NOW, false);
    else {
        best->paused = false; /* catch it up now rather than at the next heartbeat */
        raft_send_append(r, best, true);
    }
    return RAFT_OK;
}
