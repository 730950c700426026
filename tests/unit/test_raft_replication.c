/* test_raft_replication.c — Raft core scenarios about the log: Figure 8 (no commit of an old-term
 * entry by counting), conflict truncation with fast back-off, stale/duplicate/reordered appends,
 * the commit bound of an append, and pipelined replication over a lossy network. */
#include "unit/raft_harness.h"

/* ---- Figure 8 ---- */

enum { F8_OFF, F8_ISOLATE_S1_APPENDS, F8_MUTE_S5, F8_ONLY_INDEX_2 };

static bool figure8_filter(struct tn_net *net, struct raft_msg *m)
{
    if (m->type != RAFT_MSG_APPEND)
        return true;
    switch (net->mode) {
    case F8_ISOLATE_S1_APPENDS:
        return !(m->from == 1 && m->to >= 3);
    case F8_MUTE_S5:
        return m->from != 5;
    case F8_ONLY_INDEX_2:
        if (m->from == 1)
            tn_strip_after(m, 2);
        return true;
    }
    return true;
}

static void figure8_old_term_entry_not_committed_by_counting(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 5, 5, false); /* the paper's setting: no pre-vote, no check-quorum */
    tn_stabilize(&net);
    net.filter = figure8_filter;

    /* (a) S1 leads term 2; its entry 2 reaches only S2. */
    net.mode = F8_ISOLATE_S1_APPENDS;
    tn_elect(&net, 1);
    assert_int_equal(tn_term_at(&net, 2, 2), 2);
    assert_int_equal(raft_last_index(tn_r(&net, 3)), 1);

    /* (b) S1 crashes; S5 leads term 3 with S3, S4; its entry 2 (term 3) stays local. */
    tn_crash(&net, 1);
    net.mode = F8_MUTE_S5;
    tn_elect(&net, 5);
    assert_int_equal(tn_term_at(&net, 5, 2), 3);

    /* (c) S5 crashes; S1 restarts and leads term 4; entry 2 (term 2) reaches a majority
     * (S1, S2, S3, S4), but its own term-4 entry does not. It must not commit entry 2. */
    tn_crash(&net, 5);
    net.nodes[1].o.max_entries_per_msg = 1;
    tn_restart(&net, 1);
    net.mode = F8_ONLY_INDEX_2;
    tn_elect(&net, 1);
    assert_int_equal(raft_term(tn_r(&net, 1)), 4);
    for (int i = 0; i < 5; i++)
        tn_tick(&net, 1);
    assert_int_equal(tn_term_at(&net, 3, 2), 2);
    assert_int_equal(tn_term_at(&net, 4, 2), 2);
    assert_int_equal(raft_last_index(tn_r(&net, 3)), 2);
    assert_int_equal(raft_commit_index(tn_r(&net, 1)), 0);

    /* (d) S1 crashes; S5 returns and legitimately overwrites entry 2 everywhere. Had S1
     * counted replicas of its term-2 entry, a committed entry would now be lost. */
    tn_crash(&net, 1);
    tn_restart(&net, 5);
    net.mode = F8_OFF;
    tn_elect(&net, 5);
    tn_stabilize(&net);
    for (raft_id id = 2; id <= 5; id++) {
        assert_int_equal(tn_term_at(&net, id, 2), 3);
        assert_true(net.nodes[id].applied >= 2);
        assert_int_equal(net.nodes[id].applied_terms[2], 3);
    }
    tn_free(&net);
}

static void figure8_commits_old_entry_with_own_term_entry(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, false);
    tn_stabilize(&net);
    /* S1 leads and gets entries to S2 only... */
    net.filter = figure8_filter;
    net.mode = F8_ISOLATE_S1_APPENDS;
    tn_elect(&net, 1);
    tn_propose(&net, 1, 5);
    tn_stabilize(&net);
    uint64_t c = raft_commit_index(tn_r(&net, 1));
    assert_int_equal(c, 3); /* S1+S2 are a majority of 3: committed in its own term */
    /* ... and after a new leader (S2) appends its no-op, S3 gets everything committed. */
    net.filter = NULL;
    tn_elect(&net, 2);
    tn_stabilize(&net);
    assert_int_equal(net.nodes[3].fsm_count, 1);
    assert_int_equal(net.nodes[3].fsm_hash, net.nodes[1].fsm_hash);
    tn_free(&net);
}

/* ---- conflicts ---- */

static void conflict_truncation_with_fast_backoff(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, false);
    tn_stabilize(&net);
    const uint64_t lt[] = {2, 5}, ft[] = {2, 3};
    const size_t lr[] = {10, 10}, fr[] = {10, 40};
    tn_set_disk(&net, 1, 3, 5, lt, lr, 2);
    tn_set_disk(&net, 3, 3, 5, lt, lr, 2);
    tn_set_disk(&net, 2, 3, 4, ft, fr, 2); /* 40 divergent entries of term 3 */
    assert_int_equal(raft_last_index(tn_r(&net, 2)), 51);
    tn_elect(&net, 1);
    tn_stabilize(&net);
    /* One rejection skips the whole divergent term (not one round trip per entry). */
    assert_int_equal(net.rejects[2], 1);
    struct raft *l = tn_r(&net, 1), *f = tn_r(&net, 2);
    assert_int_equal(raft_last_index(f), raft_last_index(l));
    for (uint64_t i = 1; i <= raft_last_index(l); i++)
        assert_int_equal(tn_term_at(&net, 2, i), tn_term_at(&net, 1, i));
    /* The disk saw the truncation too. */
    assert_int_equal(tn_disk_last(&net.nodes[2].disk), raft_last_index(l));
    assert_int_equal(net.nodes[2].disk.ents[11].term, 5);
    assert_int_equal(net.nodes[2].fsm_hash, net.nodes[1].fsm_hash);
    tn_free(&net);
}

static struct raft_msg append_msg(raft_id from, uint64_t term, uint64_t prev, uint64_t prev_term,
                                  struct raft_entry *e, uint32_t n, uint64_t commit)
{
    struct raft_msg m = {.type = RAFT_MSG_APPEND, .from = from, .to = 1, .term = term};
    m.u.append.prev_index = prev;
    m.u.append.prev_term = prev_term;
    m.u.append.entries = e;
    m.u.append.n_entries = n;
    m.u.append.commit = commit;
    return m;
}

/* Runs one ready/advance; returns its truncate_from and the ack's match (0 if none). */
static uint64_t drain(struct raft *r, uint64_t *match)
{
    struct raft_ready rd;
    uint64_t t = 0;
    *match = 0;
    if (!raft_ready(r, &rd))
        return 0;
    t = rd.truncate_from;
    for (size_t i = 0; i < rd.n_msgs; i++)
        assert_int_not_equal(rd.msgs[i].type, RAFT_MSG_APPEND_RESP); /* acks wait for fsync */
    for (size_t i = 0; i < rd.n_msgs_after_persist; i++)
        if (rd.msgs_after_persist[i].type == RAFT_MSG_APPEND_RESP &&
            rd.msgs_after_persist[i].u.append_resp.success)
            *match = rd.msgs_after_persist[i].u.append_resp.match_index;
    raft_advance(r, &rd);
    return t;
}

static void stale_duplicate_reordered_appends_never_truncate(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, false);
    tn_stabilize(&net);
    const uint64_t t1[] = {1};
    const size_t r2[] = {2};
    tn_set_disk(&net, 1, 3, 2, t1, r2, 1); /* entries 1..3, term 1 */
    struct raft *r = tn_r(&net, 1);
    uint64_t match;
    drain(r, &match);
    struct raft_entry e[3] = {tn_entry(4, 2, 4), tn_entry(5, 2, 5), tn_entry(6, 2, 6)};

    struct raft_msg m = append_msg(2, 2, 3, 1, e, 3, 0);
    assert_int_equal(raft_step(r, &m), RAFT_OK);
    assert_int_equal(drain(r, &match), 0);
    assert_int_equal(match, 6);
    assert_int_equal(raft_last_index(r), 6);

    /* An earlier, shorter append delivered late: matches, so nothing is cut. */
    m = append_msg(2, 2, 3, 1, e, 1, 0);
    raft_step(r, &m);
    assert_int_equal(drain(r, &match), 0);
    assert_int_equal(match, 4);
    assert_int_equal(raft_last_index(r), 6);
    /* The same append twice. */
    m = append_msg(2, 2, 3, 1, e, 3, 0);
    raft_step(r, &m);
    raft_step(r, &m);
    assert_int_equal(drain(r, &match), 0);
    assert_int_equal(raft_last_index(r), 6);

    /* A heartbeat with a high commit index commits only what it verified (index 3). */
    m = append_msg(2, 2, 3, 1, NULL, 0, 6);
    raft_step(r, &m);
    drain(r, &match);
    assert_int_equal(raft_commit_index(r), 3);

    /* A new leader of term 3 with a different entry 5 cuts from 5, not before. */
    struct raft_entry e5 = tn_entry(5, 3, 55);
    m = append_msg(3, 3, 4, 2, &e5, 1, 3);
    raft_step(r, &m);
    assert_int_equal(drain(r, &match), 5);
    assert_int_equal(raft_last_index(r), 5);
    assert_int_equal(tn_term_at(&net, 1, 4), 2);
    assert_int_equal(tn_term_at(&net, 1, 5), 3);
    assert_int_equal(raft_commit_index(r), 3);

    /* A mismatching prev is refused with a hint, and changes nothing. */
    m = append_msg(3, 3, 5, 2, NULL, 0, 5);
    raft_step(r, &m);
    struct raft_ready rd;
    assert_true(raft_ready(r, &rd));
    assert_int_equal(rd.n_msgs_after_persist, 1);
    assert_false(rd.msgs_after_persist[0].u.append_resp.success);
    assert_int_equal(rd.msgs_after_persist[0].u.append_resp.conflict_term, 3);
    assert_int_equal(rd.msgs_after_persist[0].u.append_resp.conflict_index, 5);
    raft_advance(r, &rd);
    assert_int_equal(raft_commit_index(r), 3);

    /* Malformed appends (index gaps, terms above the message's) are ignored. */
    struct raft_entry bad = tn_entry(9, 3, 9);
    m = append_msg(3, 3, 5, 3, &bad, 1, 5);
    assert_int_equal(raft_step(r, &m), RAFT_EINVAL);
    struct raft_entry future = tn_entry(6, 7, 9);
    m = append_msg(3, 3, 5, 3, &future, 1, 5);
    assert_int_equal(raft_step(r, &m), RAFT_EINVAL);
    assert_int_equal(raft_last_index(r), 5);

    for (int i = 0; i < 3; i++)
        free(e[i].data);
    free(e5.data);
    free(bad.data);
    free(future.data);
    tn_free(&net);
}

/* ---- pipelining ---- */

static bool lossy(struct tn_net *net, struct raft_msg *m)
{
    (void)m;
    return ++net->counter % 7 != 0; /* drops every 7th message, whatever it is */
}

static void pipelined_replication_over_lossy_network(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, true);
    tn_stabilize(&net); /* the bootstrap entry reaches the disk model before restarts */
    for (raft_id id = 1; id <= 3; id++) {
        net.nodes[id].o.max_entries_per_msg = 4;
        net.nodes[id].o.max_inflight_msgs = 3;
        tn_restart(&net, id);
    }
    tn_stabilize(&net);
    tn_elect(&net, 1);
    net.filter = lossy;
    uint64_t proposed = 0;
    for (int round = 0; round < 40; round++) {
        for (int k = 0; k < 5; k++) {
            if (raft_state(tn_r(&net, 1)) == RAFT_LEADER) {
                tn_propose(&net, 1, ++proposed * 31);
            }
        }
        tn_tick_all(&net, 1);
    }
    net.filter = NULL;
    tn_tick_all(&net, 30);
    raft_id leader = raft_leader(tn_r(&net, 2));
    assert_true(leader != 0);
    for (raft_id id = 1; id <= 3; id++) {
        assert_int_equal(net.nodes[id].applied, raft_last_index(tn_r(&net, leader)));
        assert_int_equal(net.nodes[id].fsm_hash, net.nodes[leader].fsm_hash);
    }
    assert_true(net.nodes[1].fsm_count >= proposed / 2);
    tn_free(&net);
}

static void leader_replicates_in_parallel_with_its_own_write(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, true);
    tn_stabilize(&net);
    tn_elect(&net, 1);
    tn_tick(&net, 1);
    struct raft *r = tn_r(&net, 1);
    uint64_t v = 9, idx;
    assert_int_equal(raft_propose(r, &v, sizeof v, &idx), RAFT_OK);
    struct raft_ready rd;
    assert_true(raft_ready(r, &rd));
    assert_int_equal(rd.n_entries, 1);
    assert_int_equal(rd.entries[0].index, idx);
    /* The appends carrying idx may leave before the leader's fsync. */
    size_t carrying = 0;
    for (size_t i = 0; i < rd.n_msgs; i++)
        if (rd.msgs[i].type == RAFT_MSG_APPEND && rd.msgs[i].u.append.n_entries &&
            rd.msgs[i].u.append.entries[rd.msgs[i].u.append.n_entries - 1].index == idx)
            carrying++;
    assert_int_equal(carrying, 2);
    for (size_t i = 0; i < rd.n_msgs; i++)
        tn_enqueue(&net, &rd.msgs[i]);
    struct tn_disk *d = &net.nodes[1].disk; /* the leader's own write, as tn_process does */
    d->ents = realloc(d->ents, (d->n + 1) * sizeof *d->ents);
    tn_copy_entry(&d->ents[d->n++], &rd.entries[0]);
    for (size_t i = 0; i < rd.n_committed; i++)
        tn_record_applied(&net.nodes[1], &rd.committed[i]);
    raft_advance(r, &rd);
    tn_stabilize(&net);
    assert_int_equal(raft_commit_index(r), idx);
    tn_free(&net);
}

static void commit_waits_for_leader_fsync_when_it_is_needed(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, true);
    tn_stabilize(&net);
    tn_elect(&net, 1);
    tn_tick(&net, 1);
    struct raft *r = tn_r(&net, 1);
    tn_isolate(&net, 3, true);
    uint64_t v = 9, idx;
    assert_int_equal(raft_propose(r, &v, sizeof v, &idx), RAFT_OK);
    /* Follower 2 acks before the leader's write is durable: 2 of 3 would be a quorum only if
     * the leader counted its unsynced copy. It must not. */
    struct raft_msg ack = {.type = RAFT_MSG_APPEND_RESP, .from = 2, .to = 1, .term = raft_term(r)};
    ack.u.append_resp.success = true;
    ack.u.append_resp.match_index = idx;
    ack.u.append_resp.last_index = idx;
    raft_step(r, &ack);
    assert_true(raft_commit_index(r) < idx);
    struct raft_ready rd;
    assert_true(raft_ready(r, &rd));
    for (size_t i = 0; i < rd.n_committed; i++)
        assert_true(rd.committed[i].index < idx);
    raft_advance(r, &rd); /* now durable */
    assert_int_equal(raft_commit_index(r), idx);
    tn_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(figure8_old_term_entry_not_committed_by_counting),
        cmocka_unit_test(figure8_commits_old_entry_with_own_term_entry),
        cmocka_unit_test(conflict_truncation_with_fast_backoff),
        cmocka_unit_test(stale_duplicate_reordered_appends_never_truncate),
        cmocka_unit_test(pipelined_replication_over_lossy_network),
        cmocka_unit_test(leader_replicates_in_parallel_with_its_own_write),
        cmocka_unit_test(commit_waits_for_leader_fsync_when_it_is_needed),
    };
    return cmocka_run_group_tests_name("raft_replication", tests, NULL, NULL);
}
