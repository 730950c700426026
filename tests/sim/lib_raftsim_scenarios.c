/* lib_raftsim_scenarios.c — scripted, deterministic Raft scenarios over the simulated cluster, one
 * per known hard case: isolated leader, leader crash inside a Ready, the chain partition, removal,
 * transfer, a join that needs InstallSnapshot. */
#include <stdlib.h>
#include <string.h>

#include "sim/lib_raftsim_cluster.h"

#define ELECTION (10 * RAFTSIM_TICK)

static struct raftsim_cluster *setup(unsigned n, uint64_t snap_threshold, bool trace)
{
    struct raftsim_cluster *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    raftsim_cluster_init(c, 1, trace);
    c->net.delay_min = 1;
    c->net.delay_max = 3;
    c->snap_threshold = snap_threshold ? snap_threshold : 1000; /* most look at logs */
    c->snap_trailing = 2;
    if (raftsim_cluster_start(c, n)) {
        raftsim_cluster_free(c);
        free(c);
        return NULL;
    }
    return c;
}

static raft_id until_leader(struct raftsim_cluster *c, uint64_t bound)
{
    uint64_t end = c->now + bound;
    while (c->now < end) {
        raft_id l = raftsim_leader(c);
        if (l)
            return l;
        if (!raftsim_run_until(c, c->now + RAFTSIM_TICK))
            return 0;
    }
    return 0;
}

/* Proposes k commands at the current leader and waits until all are acknowledged. */
static bool commit_some(struct raftsim_cluster *c, unsigned k, uint64_t bound)
{
    uint64_t want = c->acked + k, end = c->now + bound;
    while (c->now < end && c->acked < want) {
        raftsim_drop_orphans(c); /* lost to a leader change: propose again */
        while (c->acked + c->n_props < want && raftsim_propose(c, false) == 0)
            ;
        if (!raftsim_run_until(c, c->now + RAFTSIM_TICK))
            return false;
    }
    if (c->acked < want)
        raftsim_check_fail(&c->chk, "only %llu of %u proposals committed within %llu ticks",
                           (unsigned long long)(c->acked + k - want), k,
                           (unsigned long long)(bound / RAFTSIM_TICK));
    return c->acked >= want;
}

/* Every running server follows l and has applied l's commit index. */
static bool settled(struct raftsim_cluster *c, raft_id l)
{
    uint64_t commit = raft_commit_index(&c->nodes[l].core);
    for (raft_id id = 1; id < RAFTSIM_MAX_IDS; id++) {
        const struct raftsim_node *nd = &c->nodes[id];
        if (nd->up && (raft_leader(&nd->core) != l || nd->fsm.applied < commit))
            return false;
    }
    return true;
}

static bool until_settled(struct raftsim_cluster *c, uint64_t bound)
{
    uint64_t end = c->now + bound;
    while (c->now < end) {
        raft_id l = raftsim_leader(c);
        if (l && settled(c, l)) {
            raftsim_check_all_logs(c);
            return !c->chk.failed;
        }
        if (!raftsim_run_until(c, c->now + RAFTSIM_TICK))
            return false;
    }
    raftsim_check_fail(&c->chk, "cluster did not settle within %llu ticks",
                       (unsigned long long)(bound / RAFTSIM_TICK));
    return false;
}

static void isolate(struct raftsim_cluster *c, raft_id a, bool on)
{
    for (raft_id x = 1; x < RAFTSIM_MAX_IDS; x++)
        if (x != a)
            c->net.cut[a][x] = c->net.cut[x][a] = on;
}

/* The leader is cut off: it must step down (check-quorum) without bumping its term (pre-vote),
 * the majority elects a new leader and commits; on heal the old leader rejoins as a follower and
 * does not disrupt the new term. */
static bool partition_leader(struct raftsim_cluster *c)
{
    raft_id l = until_leader(c, 20 * ELECTION);
    if (!l || !commit_some(c, 3, 20 * ELECTION))
        return false;
    uint64_t t0 = raft_term(&c->nodes[l].core);
    isolate(c, l, true);
    if (!raftsim_run_until(c, c->now + 30 * ELECTION))
        return false;
    if (raft_state(&c->nodes[l].core) == RAFT_LEADER) {
        raftsim_check_fail(&c->chk, "isolated leader n%llu did not step down (check-quorum)",
                           (unsigned long long)l);
        return false;
    }
    if (raft_term(&c->nodes[l].core) != t0) {
        raftsim_check_fail(&c->chk, "isolated n%llu moved from term %llu to %llu (pre-vote)",
                           (unsigned long long)l, (unsigned long long)t0,
                           (unsigned long long)raft_term(&c->nodes[l].core));
        return false;
    }
    raft_id m = raftsim_leader(c);
    if (!m || m == l) {
        raftsim_check_fail(&c->chk, "majority side elected no leader");
        return false;
    }
    if (!commit_some(c, 2, 20 * ELECTION))
        return false;
    uint64_t tm = raft_term(&c->nodes[m].core);
    isolate(c, l, false);
    if (!until_settled(c, 20 * ELECTION))
        return false;
    if (raftsim_leader(c) != m || raft_term(&c->nodes[m].core) != tm) {
        raftsim_check_fail(&c->chk, "rejoining n%llu disrupted leader n%llu of term %llu",
                           (unsigned long long)l, (unsigned long long)m, (unsigned long long)tm);
        return false;
    }
    return true;
}

/* The leader crashes inside one Ready cycle, at the given point; the rest elect, commit, and the
 * restarted server catches up with identical logs. */
static bool crash_leader_at(struct raftsim_cluster *c, int point)
{
    raft_id l = until_leader(c, 20 * ELECTION);
    if (!l || !commit_some(c, 2, 20 * ELECTION))
        return false;
    c->nodes[l].crash_armed = point;
    (void)raftsim_propose(c, false);
    (void)raftsim_propose(c, false);
    if (c->nodes[l].up) {
        raftsim_check_fail(&c->chk, "armed crash did not strike the leader");
        return false;
    }
    if (!commit_some(c, 2, 30 * ELECTION))
        return false;
    if (raftsim_node_restart(c, l))
        return false;
    return until_settled(c, 30 * ELECTION) && commit_some(c, 1, 10 * ELECTION);
}

static bool crash_after_send(struct raftsim_cluster *c)
{
    return crash_leader_at(c, RAFTSIM_CRASH_AFTER_SEND);
}

static bool crash_before_sync(struct raftsim_cluster *c)
{
    return crash_leader_at(c, RAFTSIM_CRASH_BEFORE_SYNC);
}

static bool crash_after_sync(struct raftsim_cluster *c)
{
    return crash_leader_at(c, RAFTSIM_CRASH_AFTER_SYNC);
}

static bool crash_before_advance(struct raftsim_cluster *c)
{
    return crash_leader_at(c, RAFTSIM_CRASH_BEFORE_ADVANCE);
}

/* Chain 1-2-3 with the link between the leader and one follower cut. With pre-vote and
 * check-quorum, the cut-off follower must not livelock the cluster: commits continue and the
 * leadership changes a bounded number of times. */
static bool chain(struct raftsim_cluster *c)
{
    raft_id l = until_leader(c, 20 * ELECTION);
    if (!l || !commit_some(c, 2, 20 * ELECTION))
        return false;
    raft_id far = l % 3 + 1;
    c->net.cut[l][far] = c->net.cut[far][l] = true;
    uint64_t elections = c->elections_seen;
    for (int round = 0; round < 10; round++)
        if (!commit_some(c, 2, 20 * ELECTION))
            return false;
    if (c->elections_seen - elections > 2) {
        raftsim_check_fail(&c->chk, "chain partition: %llu leader changes while 1<->3 was cut",
                           (unsigned long long)(c->elections_seen - elections));
        return false;
    }
    raftsim_net_heal(&c->net);
    return until_settled(c, 20 * ELECTION);
}

/* The leader removes itself: a new leader takes over and the two remaining servers commit. */
static bool remove_leader(struct raftsim_cluster *c)
{
    raft_id l = until_leader(c, 20 * ELECTION);
    if (!l || !commit_some(c, 2, 20 * ELECTION))
        return false;
    int rc = raft_remove_server(&c->nodes[l].core, l);
    if (rc) {
        raftsim_check_fail(&c->chk, "raft_remove_server(self): %s", raft_strerror(rc));
        return false;
    }
    uint64_t end = c->now + 30 * ELECTION;
    while (c->now < end && (c->nodes[l].up || !raftsim_leader(c)))
        if (!raftsim_run_until(c, c->now + RAFTSIM_TICK))
            return false;
    if (c->nodes[l].up || !raftsim_leader(c)) {
        raftsim_check_fail(&c->chk, "after removing itself, n%llu %s", (unsigned long long)l,
                           c->nodes[l].up ? "is still running (removal never committed)"
                                          : "left no leader behind");
        return false;
    }
    return commit_some(c, 3, 20 * ELECTION) && until_settled(c, 20 * ELECTION);
}

/* Leadership moves to a chosen follower within two election timeouts, and commits continue. */
static bool transfer(struct raftsim_cluster *c)
{
    raft_id l = until_leader(c, 20 * ELECTION);
    if (!l || !commit_some(c, 3, 20 * ELECTION))
        return false;
    raft_id to = l % 3 + 1;
    int rc = raft_transfer_leadership(&c->nodes[l].core, to);
    if (rc) {
        raftsim_check_fail(&c->chk, "raft_transfer_leadership(%llu): %s", (unsigned long long)to,
                           raft_strerror(rc));
        return false;
    }
    uint64_t end = c->now + 2 * ELECTION;
    while (c->now < end && raftsim_leader(c) != to)
        if (!raftsim_run_until(c, c->now + RAFTSIM_TICK))
            return false;
    if (raftsim_leader(c) != to) {
        raftsim_check_fail(&c->chk, "transfer n%llu -> n%llu: leader is n%llu after 2 timeouts",
                           (unsigned long long)l, (unsigned long long)to,
                           (unsigned long long)raftsim_leader(c));
        return false;
    }
    return commit_some(c, 3, 10 * ELECTION) && until_settled(c, 10 * ELECTION);
}

/* A fresh server joins after the log was compacted past its start: it must catch up through
 * InstallSnapshot, be promoted, and apply everything. */
static bool join_after_compaction(struct raftsim_cluster *c)
{
    raft_id l = until_leader(c, 20 * ELECTION);
    if (!l || !commit_some(c, 40, 40 * ELECTION))
        return false;
    if (raftsim_node_create(c, 4))
        return false;
    l = raftsim_leader(c);
    int rc = l ? raft_add_server(&c->nodes[l].core, 4, "10.0.0.4:8300") : RAFT_ENOTLEADER;
    if (rc) {
        raftsim_check_fail(&c->chk, "raft_add_server(4): %s", raft_strerror(rc));
        return false;
    }
    if (!commit_some(c, 3, 20 * ELECTION) || !until_settled(c, 20 * ELECTION))
        return false;
    l = raftsim_leader(c);
    const struct raft_server *sv = raft_config_find(raft_configuration(&c->nodes[l].core), 4);
    if (!sv || !sv->voter || c->installs == 0) {
        raftsim_check_fail(&c->chk, "n4 %s after joining",
                           !sv            ? "is not a member"
                           : !sv->voter   ? "was never promoted"
                                          : "caught up without InstallSnapshot: nothing compacted?");
        return false;
    }
    return true;
}

struct scenario {
    const char *name;
    unsigned servers;
    uint64_t snap_threshold; /* 0: large enough never to compact */
    bool (*run)(struct raftsim_cluster *c);
};

static const struct scenario scenarios[] = {
    {"partition-leader", 3, 0, partition_leader},
    {"crash-leader-after-send", 3, 0, crash_after_send},
    {"crash-leader-before-sync", 3, 0, crash_before_sync},
    {"crash-leader-after-sync", 3, 0, crash_after_sync},
    {"crash-leader-before-advance", 3, 0, crash_before_advance},
    {"chain", 3, 0, chain},
    {"remove-leader", 3, 0, remove_leader},
    {"transfer", 3, 0, transfer},
    {"join-after-compaction", 3, 8, join_after_compaction},
};

void raftsim_scenarios_run(const char *name, const char *argv0, bool trace, bool verbose,
                           int *passed, int *failed)
{
    bool any = false;
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        const struct scenario *s = &scenarios[i];
        if (strcmp(name, "all") && strcmp(name, s->name))
            continue;
        any = true;
        struct raftsim_cluster *c = setup(s->servers, s->snap_threshold, trace);
        bool ok = c && s->run(c);
        if (ok) {
            (*passed)++;
            if (verbose)
                printf("scenario %s: ok\n", s->name);
        } else {
            (*failed)++;
            printf("scenario %s FAILED: %s (t=%llu)\n  replay: %s -scenario %s -trace\n",
                   s->name, c ? c->chk.why : "setup failed",
                   (unsigned long long)(c ? c->now : 0), argv0, s->name);
        }
        if (c) {
            raftsim_cluster_free(c);
            free(c);
        }
    }
    if (!any) {
        printf("no scenario named '%s'\n", name);
        (*failed)++;
    }
}
