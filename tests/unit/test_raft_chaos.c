/* test_raft_chaos.c — seeded random runs of the in-test cluster (partitions, message loss,
 * crashes and restarts, membership changes, transfers, snapshots) checking Raft's safety
 * invariants after every step and liveness once the faults stop. Small and fast: the full
 * simulator lives in tests/sim; this keeps the core's own invariants under test. */
#include "unit/raft_harness.h"

#define CH_NODES 5
#define CH_STEPS 800
#define CH_SEEDS 60 /* RAFT_CHAOS_SEEDS=N in the environment runs more */
#define CH_TERMS 4096

struct chaos {
    struct tn_net net;
    uint64_t rng;
    raft_id leader_of[CH_TERMS]; /* election safety: one leader per term */
    unsigned drop_pct;
    uint64_t seed;
};

/* Fails naming the seed, so that RAFT_CHAOS_SEEDS and a debugger can replay it. */
#define CH_CHECK(c, cond)                                                                      \
    do {                                                                                       \
        if (!(cond))                                                                           \
            fail_msg("seed %llu: invariant violated: %s", (unsigned long long)(c)->seed, #cond); \
    } while (0)

static uint64_t ch_rand(struct chaos *c)
{
    uint64_t x = c->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c->rng = x;
    return x;
}

/* The network drops drop_pct% of messages, and delays (reorders) or duplicates some: a
 * re-queued copy arrives in a later delivery round. The net is the first member of chaos. */
static bool ch_filter(struct tn_net *net, struct raft_msg *m)
{
    struct chaos *c = (struct chaos *)net;
    unsigned x = (unsigned)(ch_rand(c) % 100);
    if (x < c->drop_pct)
        return false;
    if (x >= 95) {
        tn_enqueue(net, m);
        return x >= 98; /* 98..99: duplicate; 95..97: delay */
    }
    return true;
}

static void check_invariants(struct chaos *c)
{
    struct tn_net *net = &c->net;
    for (raft_id id = 1; id <= CH_NODES; id++) {
        struct tn_node *n = &net->nodes[id];
        if (!n->alive)
            continue;
        struct raft *r = &n->r;
        CH_CHECK(c, raft_commit_index(r) <= raft_last_index(r));
        CH_CHECK(c, raft_applied_index(r) <= raft_commit_index(r));
        if (raft_state(r) == RAFT_LEADER) {
            uint64_t t = raft_term(r);
            CH_CHECK(c, t < CH_TERMS);
            if (c->leader_of[t] == 0)
                c->leader_of[t] = id;
            CH_CHECK(c, c->leader_of[t] == id); /* election safety */
        }
    }
    /* Log matching within what is in memory, and agreement on applied entries. */
    for (raft_id a = 1; a <= CH_NODES; a++) {
        for (raft_id b = a + 1; b <= CH_NODES; b++) {
            struct tn_node *na = &net->nodes[a], *nb = &net->nodes[b];
            uint64_t lim = na->applied < nb->applied ? na->applied : nb->applied;
            for (uint64_t i = 1; i <= lim && i < na->cap_applied && i < nb->cap_applied; i++) {
                uint64_t ta = na->applied_terms[i], tb = nb->applied_terms[i];
                if (ta && tb)
                    CH_CHECK(c, ta == tb); /* state machine safety */
            }
            if (!na->alive || !nb->alive)
                continue;
            struct raft *ra = &na->r, *rb = &nb->r;
            uint64_t last = raft_last_index(ra) < raft_last_index(rb) ? raft_last_index(ra)
                                                                       : raft_last_index(rb);
            bool matched = false;
            for (uint64_t i = last; i >= 1; i--) {
                const struct raft_entry *ea = raft_entry_at(ra, i), *eb = raft_entry_at(rb, i);
                if (ea == NULL || eb == NULL)
                    break;
                if (matched)
                    CH_CHECK(c, ea->term == eb->term); /* log matching */
                else if (ea->term == eb->term)
                    matched = true;
            }
        }
    }
}

static raft_id find_leader(struct tn_net *net)
{
    raft_id best = 0;
    for (raft_id id = 1; id <= CH_NODES; id++)
        if (net->nodes[id].alive && raft_state(&net->nodes[id].r) == RAFT_LEADER &&
            (best == 0 || raft_term(&net->nodes[id].r) > raft_term(&net->nodes[best].r)))
            best = id;
    return best;
}

static void one_step(struct chaos *c)
{
    struct tn_net *net = &c->net;
    raft_id l = find_leader(net);
    unsigned what = (unsigned)(ch_rand(c) % 100);
    raft_id x = (raft_id)(ch_rand(c) % CH_NODES) + 1;
    char addr[RAFT_ADDR_MAX];
    if (what < 30 && l) {
        uint64_t v = ch_rand(c), idx;
        raft_propose(&net->nodes[l].r, &v, sizeof v, &idx);
    } else if (what < 36) {
        tn_isolate(net, x, true);
    } else if (what < 46) {
        tn_isolate(net, x, false);
    } else if (what < 48) {
        tn_crash(net, x);
    } else if (what < 49 && l) {
        /* The leader proposes, sends its appends, and dies before its own fsync. */
        uint64_t v = ch_rand(c), idx;
        raft_propose(&net->nodes[l].r, &v, sizeof v, &idx);
        tn_crash_mid_ready(net, l);
    } else if (what < 56) {
        if (!net->nodes[x].alive)
            tn_restart(net, x);
    } else if (what < 59 && l) {
        tn_addr(x, addr);
        raft_add_server(&net->nodes[l].r, x, addr);
    } else if (what < 61 && l) {
        raft_remove_server(&net->nodes[l].r, x);
    } else if (what < 63 && l) {
        raft_transfer_leadership(&net->nodes[l].r, 0);
    } else if (what < 66 && l) {
        raft_read_index(&net->nodes[l].r, ch_rand(c));
    } else {
        for (raft_id id = 1; id <= CH_NODES; id++)
            if (net->nodes[id].alive)
                raft_tick(&net->nodes[id].r);
    }
    tn_stabilize(net);
    check_invariants(c);
}

struct chaos_stats {
    uint64_t committed, terms, installs, removals, transfers;
};

static void run_seed(uint64_t seed, struct chaos_stats *st)
{
    struct chaos *c = calloc(1, sizeof *c);
    tn_init(&c->net, CH_NODES, 3, true);
    c->rng = seed * 0x9E3779B97F4A7C15ull + 1;
    c->seed = seed;
    tn_stabilize(&c->net);
    for (raft_id id = 1; id <= CH_NODES; id++) {
        c->net.nodes[id].o.snapshot_threshold = 16;
        c->net.nodes[id].o.snapshot_trailing = 4;
        c->net.nodes[id].o.max_entries_per_msg = 3;
        c->net.nodes[id].o.max_inflight_msgs = 2;
        c->net.nodes[id].o.seed = seed * 100 + id;
        c->net.nodes[id].auto_snapshot = true;
        tn_restart(&c->net, id);
    }
    c->net.filter = ch_filter;
    c->drop_pct = (unsigned)(seed % 4) * 5;
    for (int s = 0; s < CH_STEPS; s++)
        one_step(c);

    /* Faults stop: everyone up and connected; a leader emerges and its members converge. */
    c->net.filter = NULL;
    for (raft_id id = 1; id <= CH_NODES; id++) {
        tn_isolate(&c->net, id, false);
        if (!c->net.nodes[id].alive)
            tn_restart(&c->net, id);
    }
    raft_id l = 0;
    for (int i = 0; i < 300; i++) {
        tn_tick_all(&c->net, 1);
        check_invariants(c);
        l = find_leader(&c->net);
        if (l == 0)
            continue;
        /* No new proposals: lost pipelined appends must be recovered by heartbeats alone. */
        struct raft *lr = &c->net.nodes[l].r;
        bool converged = raft_commit_index(lr) == raft_last_index(lr);
        const struct raft_config *cfg = raft_configuration(&c->net.nodes[l].r);
        for (uint32_t k = 0; k < cfg->n && converged; k++)
            converged = c->net.nodes[cfg->servers[k].id].applied ==
                        raft_applied_index(&c->net.nodes[l].r);
        if (converged)
            break;
        l = 0;
    }
    if (l == 0) {
        for (raft_id id = 1; id <= CH_NODES; id++) {
            struct raft *r = &c->net.nodes[id].r;
            const struct raft_config *cfg = raft_configuration(r);
            printf("node %llu role %d term %llu leader %llu commit %llu applied %llu last %llu "
                   "snap %llu cfg:", (unsigned long long)id, raft_state(r),
                   (unsigned long long)raft_term(r), (unsigned long long)raft_leader(r),
                   (unsigned long long)raft_commit_index(r),
                   (unsigned long long)c->net.nodes[id].applied,
                   (unsigned long long)raft_last_index(r),
                   (unsigned long long)raft_snapshot_index(r));
            for (uint32_t k = 0; k < cfg->n; k++)
                printf(" %llu%s", (unsigned long long)cfg->servers[k].id,
                       cfg->servers[k].voter ? "v" : "n");
            printf("\n");
            for (size_t k = 0; k < r->n_prs; k++)
                printf("  pr %llu match %llu next %llu state %d paused %d infl %u\n",
                       (unsigned long long)r->prs[k].id, (unsigned long long)r->prs[k].match,
                       (unsigned long long)r->prs[k].next, r->prs[k].state, r->prs[k].paused,
                       r->prs[k].infl_n);
            if (getenv("CHAOS_LOG"))
                printf("%s\n", c->net.nodes[id].logtext);
        }
        fail_msg("seed %llu: no convergence after faults stopped", (unsigned long long)seed);
    }
    st->committed += raft_commit_index(&c->net.nodes[l].r);
    st->terms += raft_term(&c->net.nodes[l].r);
    for (raft_id id = 1; id <= CH_NODES; id++) {
        st->installs += tn_log_count(&c->net.nodes[id], "installing snapshot");
        st->removals += tn_log_count(&c->net.nodes[id], "Removed peer");
        st->transfers += tn_log_count(&c->net.nodes[id], "received TimeoutNow");
    }
    tn_free(&c->net);
    free(c);
}

static void chaos_seeds(void **state)
{
    (void)state;
    struct chaos_stats st = {0};
    const char *env = getenv("RAFT_CHAOS_SEEDS");
    uint64_t seeds = env ? strtoull(env, NULL, 10) : CH_SEEDS;
    if (seeds == 0)
        seeds = CH_SEEDS;
    for (uint64_t seed = 1; seed <= seeds; seed++)
        run_seed(seed, &st);
    printf("chaos: %llu seeds x %d steps: %llu entries committed, %llu terms, %llu snapshot "
           "installs, %llu peer removals, %llu transfers\n",
           (unsigned long long)seeds, CH_STEPS, (unsigned long long)st.committed, (unsigned long long)st.terms,
           (unsigned long long)st.installs, (unsigned long long)st.removals,
           (unsigned long long)st.transfers);
    /* The runs must actually exercise the hard paths, or they prove nothing. */
    assert_true(st.committed > 10 * seeds);
    assert_true(st.installs > 0);
    assert_true(st.removals > 0);
    assert_true(st.transfers > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chaos_seeds),
    };
    return cmocka_run_group_tests_name("raft_chaos", tests, NULL, NULL);
}
