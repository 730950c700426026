/* step.c — the entry point for peer messages: validation, term rules, leader stickiness, and
 * dispatch to the handlers of election.c, replication.c and snapshot.c. */
#include "raft/core.h"

#include <stdio.h>

/* Rejects what a correct peer could not have sent, before any state changes. */
static bool valid(const struct raft *r, const struct raft_msg *m)
{
    if (m->from == 0 || m->from == r->o.id || m->to != r->o.id || m->term == 0)
        return false;
    switch (m->type) {
    case RAFT_MSG_APPEND: {
        const struct raft_msg_append *a = &m->u.append;
        if (a->n_entries && a->entries == NULL)
            return false;
        uint64_t prev_term = a->prev_term;
        for (uint32_t i = 0; i < a->n_entries; i++) {
            const struct raft_entry *e = &a->entries[i];
            if (e->index != a->prev_index + 1 + i || e->term < prev_term || e->term > m->term ||
                e->type < RAFT_ENTRY_NOOP || e->type > RAFT_ENTRY_CONFIG ||
                (e->len && e->data == NULL))
                return false;
            prev_term = e->term;
        }
        return a->prev_term <= m->term;
    }
    case RAFT_MSG_SNAPSHOT: {
        const struct raft_msg_snapshot *s = &m->u.snapshot;
        if (s->last_index == 0 || s->last_term == 0 || s->last_term > m->term ||
            s->config.n == 0 || s->config.servers == NULL || (s->len && s->data == NULL))
            return false;
        return raft_config_voters(&s->config) > 0;
    }
    case RAFT_MSG_APPEND_RESP:
    case RAFT_MSG_VOTE:
    case RAFT_MSG_VOTE_RESP:
    case RAFT_MSG_SNAPSHOT_RESP:
    case RAFT_MSG_TIMEOUT_NOW:
        return true;
    }
    return false;
}

static bool in_lease(const struct raft *r)
{
    return r->o.check_quorum && r->leader != 0 && r->election_elapsed < r->o.election_ticks;
}

static void reply_stale(struct raft *r, const struct raft_msg *m)
{
    /* Tells a stale leader (or pre-candidate) our term so that it steps down or gives up. */
    if (m->type == RAFT_MSG_APPEND && (r->o.check_quorum || r->o.pre_vote)) {
        struct raft_msg *resp = raft_send(r, m->from, RAFT_MSG_APPEND_RESP, true);
        if (resp)
            resp->u.append_resp.last_index = raft_memlog_last(&r->log);
    } else if (m->type == RAFT_MSG_SNAPSHOT) {
        /* A leader streaming a snapshot sends no heartbeats to that follower, so this reply
         * is the only way it can learn that it was deposed (found by sim_raft -seed 9316). */
        struct raft_msg *resp = raft_send(r, m->from, RAFT_MSG_SNAPSHOT_RESP, true);
        if (resp)
            resp->u.snapshot_resp.last_index = raft_memlog_last(&r->log);
    } else if (m->type == RAFT_MSG_VOTE && m->u.vote.prevote) {
        struct raft_msg *resp = raft_send(r, m->from, RAFT_MSG_VOTE_RESP, true);
        if (resp)
            resp->u.vote_resp.prevote = true;
    }
}

static void handle_timeout_now(struct raft *r, const struct raft_msg *m)
{
    if (r->role != RAFT_FOLLOWER || !raft_promotable(r))
        return;
    raft_logf(r, LOG_INFO, "received TimeoutNow from %llu, starting election",
              (unsigned long long)m->from);
    raft_campaign(r, true);
}

int raft_step(struct raft *r, const struct raft_msg *m)
{
    if (r->in_ready)
        return RAFT_EINVAL;
    if (!valid(r, m))
        return RAFT_EINVAL;

    if (m->term > r->term) {
        if (m->type == RAFT_MSG_VOTE) {
            if (!m->u.vote.transfer && in_lease(r)) {
                /* Leader stickiness: a server that still hears a leader ignores disruptors. */
                const char *la = raft_leader_addr(r);
                const struct raft_server *c = raft_config_find(&r->config, m->from);
                char id[24];
                snprintf(id, sizeof id, "%llu", (unsigned long long)m->from);
                raft_logf(r, LOG_WARN, "Rejecting vote from %s since we have a leader: %s",
                          c ? c->addr : id, la ? la : "?");
                return RAFT_OK;
            }
            if (!m->u.vote.prevote)
                raft_become_follower(r, m->term, 0);
        } else if (m->type == RAFT_MSG_VOTE_RESP && m->u.vote_resp.prevote &&
                   m->u.vote_resp.granted) {
            /* A granted pre-vote names the term we may run for; it is not a newer term. */
        } else {
            bool from_leader = m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_SNAPSHOT ||
                               m->type == RAFT_MSG_TIMEOUT_NOW;
            raft_become_follower(r, m->term, from_leader ? m->from : 0);
        }
    } else if (m->term < r->term) {
        reply_stale(r, m);
        return RAFT_OK;
    }

    switch (m->type) {
    case RAFT_MSG_APPEND:
        raft_handle_append(r, m);
        break;
    case RAFT_MSG_APPEND_RESP:
        raft_handle_append_resp(r, m);
        break;
    case RAFT_MSG_VOTE:
        raft_handle_vote(r, m);
        break;
    case RAFT_MSG_VOTE_RESP:
        raft_handle_vote_resp(r, m);
        break;
    case RAFT_MSG_SNAPSHOT:
        raft_handle_snapshot(r, m);
        break;
    case RAFT_MSG_SNAPSHOT_RESP:
        raft_handle_snapshot_resp(r, m);
        break;
    case RAFT_MSG_TIMEOUT_NOW:
        handle_timeout_now(r, m);
        break;
    }
    return RAFT_OK;
}
