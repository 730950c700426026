/* raft.c — lifecycle of the pure Raft core (options, restore, init, bootstrap, close) and the
 * design notes below: the invariants every other file of the core (see core.h) relies on.
 *
 * NOTES ON THE DESIGN OF THE RAFT CORE
 *
 * (1) The core is deterministic: its only inputs are raft_tick, raft_step, proposals and
 *     raft_advance; randomness comes from an xorshift state seeded by the options.
 * (2) Term and vote change only in memory; raft_ready reports them and any message that depends
 *     on them (vote requests and replies, append replies, a new leader's first appends) goes to
 *     msgs_after_persist, which the caller sends only after the hard state is durable.
 * (3) votedFor is cleared only when the term changes (raft_become_follower keeps it in the same
 *     term), so a candidate that steps down in its term can never vote twice.
 * (4) The leader counts itself toward commitment with r->durable, which moves only in
 *     raft_advance, i.e. after its own fsync; followers acknowledge from msgs_after_persist.
 * (5) A leader commits by counting replicas only an entry of its current term (Figure 8);
 *     earlier entries commit indirectly. It appends a NOOP on election for that purpose.
 * (6) Entries are applied in order, exactly once: rd.committed is (applied, min(commit,
 *     durable)], and applied moves only in raft_advance or when a snapshot replaces the state.
 * (7) A follower truncates only from the first entry whose term conflicts, and never at or
 *     below its commit index; a stale, duplicated or reordered append that matches is a no-op.
 * (8) The configuration in effect is the newest CONFIG entry in the log, committed or not;
 *     a truncation that removes it falls back to the previous one. A leader appends a new
 *     configuration only when the previous one is committed and it has committed an entry of
 *     its own term (pending_conf_index <= commit and own_term_committed).
 * (9) Only voters of the configuration in effect campaign, vote counts and quorums count only
 *     voters, and a server with no configuration never campaigns.
 * (10) Between raft_ready and raft_advance nothing mutates the core, so rd may borrow the log,
 *     the snapshot and the message bodies. Outgoing appends record an index range that is
 *     resolved to log memory in raft_ready; leader traffic is dropped from the outbox when
 *     leadership is lost, and compaction runs only inside raft_advance, before anything new is
 *     queued (the outbox is empty then), so a range is always present when resolved.
 * (11) A server may campaign if it is a voter of the newest configuration, or of the previous
 *     one while the newest (its own removal) is uncommitted: otherwise a leader that stepped
 *     down before committing its removal could leave a cluster where nobody can win.
 * (12) Nothing reports lost messages to the core: a replicating follower that made no
 *     progress over two heartbeats while behind is probed again from its match index, a
 *     reply while the in-flight window is full frees a slot, and an unanswered snapshot is
 *     resent after two election timeouts.
 * (13) Leader stickiness: with check_quorum, a server that heard a leader within the election
 *     timeout ignores vote requests of higher terms (unless sent after TimeoutNow), and a
 *     pre-vote never changes anybody's term; a partitioned server rejoins without disruption.
 * (14) Terms never decrease along a log and the leader holds every committed entry, so a leader
 *     entry below our commit index never has a term above that of our entry at commit. If one
 *     does, our "committed" state was never committed: only an operator's peers.json recovery,
 *     which turns a survivor's whole log into a snapshot, can cause it. The follower then asks
 *     for (and installs) the leader's snapshot even though it is not ahead of its commit, and
 *     acknowledges nothing until it has.
 *
 * ROLES
 *
 *                 timeout, pre_vote           pre-vote quorum
 *   FOLLOWER ----------------------> PRECANDIDATE ----------------> CANDIDATE --(vote quorum)--> LEADER
 *      ^  |  timeout, no pre_vote / TimeoutNow                          ^ |                        |
 *      |  +-------------------------------------------------------------+ | timeout: new term       |
 *      +------------ higher term, append from a leader, rejected, ----------+-------------------------+
 *                    lost quorum (check-quorum), removed from the configuration
 *
 *   FOLLOWER -> PRECANDIDATE/CANDIDATE   [raft_campaign]        (election.c)
 *   CANDIDATE -> LEADER                  [raft_become_leader]   (election.c)
 *   any -> FOLLOWER                      [raft_become_follower] (election.c)
 */
#include "raft/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *raft_role_name(enum raft_role role)
{
    switch (role) {
    case RAFT_FOLLOWER:
        return "Follower";
    case RAFT_PRECANDIDATE:
    case RAFT_CANDIDATE:
        return "Candidate";
    case RAFT_LEADER:
        return "Leader";
    }
    return "Unknown";
}

const char *raft_strerror(int err)
{
    switch (err) {
    case RAFT_OK:
        return "ok";
    case RAFT_ENOTLEADER:
        return "node is not the leader";
    case RAFT_EBUSY:
        return "a configuration change is already in progress";
    case RAFT_ENOMEM:
        return "out of memory";
    case RAFT_EINVAL:
        return "invalid argument";
    case RAFT_ENOTFOUND:
        return "server not found in the configuration";
    case RAFT_EEXIST:
        return "server already in the configuration";
    case RAFT_ETRANSFER:
        return "leadership transfer in progress";
    case RAFT_ETOOBIG:
        return "entry or configuration too large";
    case RAFT_ESTALE:
        return "snapshot index is stale or not yet applied";
    }
    return "unknown error";
}

void raft_options_default(struct raft_options *o, raft_id id, const char *addr)
{
    memset(o, 0, sizeof *o);
    o->id = id;
    if (addr)
        snprintf(o->addr, sizeof o->addr, "%s", addr);
    o->election_ticks = 10;
    o->heartbeat_ticks = 1;
    o->pre_vote = true;
    o->check_quorum = true;
    o->max_entries_per_msg = 64;
    o->max_inflight_msgs = 32;
    o->snapshot_threshold = 16384;
    o->snapshot_trailing = 10240;
}

uint64_t raft_rand(struct raft *r)
{
    /* xorshift64*: tiny, seedable, good enough to spread election timeouts. */
    uint64_t x = r->prng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->prng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static int restore_log(struct raft *r, const struct raft_restore *st)
{
    const struct raft_snapshot *s = st ? st->snapshot : NULL;
    uint64_t si = s ? s->index : 0, stt = s ? s->term : 0;
    if (s && si) {
        if (raft_config_copy(&r->snap.config, &s->config) != 0)
            return RAFT_ENOMEM;
        r->snap.index = si;
        r->snap.term = stt;
        if (s->len) {
            r->snap.data = malloc(s->len);
            if (r->snap.data == NULL)
                return RAFT_ENOMEM;
            memcpy(r->snap.data, s->data, s->len);
            r->snap.len = s->len;
        }
    }
    const struct raft_entry *e = st ? st->entries : NULL;
    size_t n = st ? st->n_entries : 0, from = 0;
    for (size_t i = 0; i < n; i++)
        if (e[i].index == 0 || (i && (e[i].index != e[i - 1].index + 1 || e[i].term < e[i - 1].term)))
            return RAFT_EINVAL;
    uint64_t base = si, base_term = stt;
    if (n && si) {
        uint64_t first = e[0].index, last = e[n - 1].index;
        if (first <= si && si <= last && e[si - first].term == stt) {
            /* Trailing entries kept behind the snapshot: the first one becomes the base. */
            base = first;
            base_term = e[0].term;
            from = 1;
        } else if (first != si + 1) {
            /* The log is from another history than the snapshot, or leaves a gap after it (a
             * crash between persisting an installed snapshot and discarding the log). The
             * snapshot wins: hand it out again so that the caller discards its log. */
            raft_logf(r, LOG_WARN, "log entries %llu..%llu do not follow snapshot %llu/%llu, "
                      "discarding them", (unsigned long long)first, (unsigned long long)last,
                      (unsigned long long)si, (unsigned long long)stt);
            from = n;
            r->snap_unstable = true;
        }
    } else if (n && e[0].index != 1) {
        return RAFT_EINVAL; /* without a snapshot the log starts at 1 */
    }
    raft_memlog_init(&r->log, base, base_term);
    for (size_t i = from; i < n; i++) {
        int rc = raft_memlog_append(&r->log, &e[i]);
        if (rc != RAFT_OK)
            return rc;
    }
    return RAFT_OK;
}

int raft_init(struct raft *r, const struct raft_options *o, const struct raft_restore *st)
{
    memset(r, 0, sizeof *r);
    if (o->id == 0 || o->election_ticks < 2 || o->heartbeat_ticks == 0 ||
        o->heartbeat_ticks >= o->election_ticks || o->max_entries_per_msg == 0 ||
        o->max_inflight_msgs == 0)
        return RAFT_EINVAL;
    r->o = *o;
    r->o.addr[RAFT_ADDR_MAX - 1] = '\0';
    r->prng = o->seed ? o->seed : o->id;
    if (r->prng == 0)
        r->prng = 1;
    int rc = restore_log(r, st);
    if (rc != RAFT_OK) {
        raft_close(r);
        return rc;
    }
    if (st) {
        r->term = st->term;
        r->vote = st->vote;
    }
    r->last_term = r->term;
    r->last_vote = r->vote;
    if (raft_memlog_last_term(&r->log) > r->term) {
        /* Entries of a newer term reached the disk but the term did not (a crash between the
         * two writes). No reply of that term left (they wait for both), so adopting it with
         * no vote is safe; the next raft_ready persists it. */
        raft_logf(r, LOG_WARN, "log holds term %llu above the stored term %llu, adopting it",
                  (unsigned long long)raft_memlog_last_term(&r->log),
                  (unsigned long long)r->term);
        r->term = raft_memlog_last_term(&r->log);
        r->vote = 0;
    }
    r->commit = r->applied = r->snap.index;
    r->durable = raft_memlog_last(&r->log);
    r->unstable = r->durable + 1;
    raft_config_refresh(r);
    r->role = RAFT_FOLLOWER;
    r->last_role = RAFT_FOLLOWER;
    raft_reset_timeout(r);
    raft_logf(r, LOG_INFO, "Node at %s [Follower] entering Follower state", r->o.addr);
    return RAFT_OK;
}

void raft_close(struct raft *r)
{
    raft_memlog_free(&r->log);
    raft_config_free(&r->config);
    raft_config_free(&r->snap.config);
    free(r->snap.data);
    r->snap.data = NULL;
    raft_progress_free_all(r);
    free(r->voters_granted);
    free(r->voters_rejected);
    free(r->reads);
    free(r->ready_reads);
    free(r->rd_reads);
    free(r->out.v);
    free(r->out_after.v);
    free(r->rd_out.v);
    free(r->rd_out_after.v);
    memset(r, 0, sizeof *r);
}

int raft_bootstrap(struct raft *r, const struct raft_config *cfg)
{
    if (raft_memlog_last(&r->log) != 0 || r->snap.index != 0 || r->in_ready)
        return RAFT_EINVAL;
    const struct raft_server *self = raft_config_find(cfg, r->o.id);
    if (self == NULL || !self->voter)
        return RAFT_EINVAL;
    struct buf b;
    buf_init(&b, 0);
    if (raft_config_encode(cfg, &b) != 0) {
        buf_free(&b);
        return RAFT_ETOOBIG;
    }
    struct raft_entry e = {.term = 1, .index = 1, .type = RAFT_ENTRY_CONFIG,
                           .len = (uint32_t)b.len, .data = b.data};
    int rc = raft_memlog_append(&r->log, &e);
    buf_free(&b);
    if (rc != RAFT_OK)
        return rc;
    if (r->term < 1) {
        r->term = 1;
        r->vote = 0;
    }
    raft_config_refresh(r);
    return RAFT_OK;
}
