/* test_raft_snapshot.c — snapshot scenarios: the threshold, compaction keeping a trailing log,
 * InstallSnapshot to a follower behind the compacted prefix, restart from a snapshot, and the
 * follower's handling of old or already-covered snapshots. */
#include "unit/raft_harness.h"

static void small_snapshots(struct tn_net *net, size_t n)
{
    tn_stabilize(net);
    for (raft_id id = 1; id <= n; id++) {
        net->nodes[id].o.snapshot_threshold = 20;
        net->nodes[id].o.snapshot_trailing = 5;
        net->nodes[id].auto_snapshot = true;
        tn_restart(net, id);
    }
    tn_stabilize(net);
}

static void compaction_and_install_snapshot(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, true);
    small_snapshots(&net, 3);
    tn_elect(&net, 1);
    tn_isolate(&net, 3, true);
    for (uint64_t v = 1; v <= 100; v++) {
        tn_propose(&net, 1, v);
        if (v % 10 == 0)
            tn_stabilize(&net);
    }
    struct raft *l = tn_r(&net, 1);
    assert_true(raft_snapshot_index(l) >= 80);
    assert_true(tn_log_count(&net.nodes[1], "snapshot taken at index") >= 4);
    /* Compacted, keeping a tail of 5 behind the snapshot. */
    assert_null(raft_entry_at(l, 3));
    assert_non_null(raft_entry_at(l, raft_snapshot_index(l) - 5 + 1));
    assert_true(raft_last_index(tn_r(&net, 3)) < raft_snapshot_index(l) - 5);

    tn_isolate(&net, 3, false);
    tn_tick_all(&net, 3);
    assert_int_equal(tn_log_count(&net.nodes[3], "installing snapshot at index"), 1);
    assert_true(raft_snapshot_index(tn_r(&net, 3)) > 0);
    assert_int_equal(net.nodes[3].applied, raft_last_index(l));
    assert_int_equal(net.nodes[3].fsm_count, 100);
    assert_int_equal(net.nodes[3].fsm_hash, net.nodes[1].fsm_hash);
    assert_int_equal(net.nodes[3].disk.base, raft_snapshot_index(tn_r(&net, 3)));

    /* Restart everyone from disk (snapshot + trailing log) and keep going. */
    for (raft_id id = 1; id <= 3; id++)
        tn_restart(&net, id);
    tn_elect(&net, 2);
    tn_propose(&net, 2, 101);
    tn_stabilize(&net);
    for (raft_id id = 1; id <= 3; id++) {
        assert_int_equal(net.nodes[id].fsm_count, 101);
        assert_int_equal(net.nodes[id].fsm_hash, net.nodes[2].fsm_hash);
    }
    tn_free(&net);
}

static void snapshot_done_rejects_bad_indexes(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 1, 1, true);
    tn_stabilize(&net);
    tn_elect(&net, 1);
    tn_propose(&net, 1, 1);
    tn_stabilize(&net);
    struct raft *r = tn_r(&net, 1);
    uint64_t applied = raft_applied_index(r);
    assert_int_equal(raft_snapshot_done(r, applied + 1, "x", 1), RAFT_ESTALE);
    assert_int_equal(raft_snapshot_done(r, applied, "0123456789abcdef", 16), RAFT_OK);
    assert_int_equal(raft_snapshot_index(r), applied);
    assert_int_equal(raft_snapshot_done(r, applied, "x", 1), RAFT_ESTALE);
    tn_free(&net);
}

static struct raft_msg snapshot_msg(uint64_t term, uint64_t index, uint64_t sterm,
                                    struct raft_config *c, uint8_t *data)
{
    struct raft_msg m = {.type = RAFT_MSG_SNAPSHOT, .from = 2, .to = 1, .term = term};
    m.u.snapshot.last_index = index;
    m.u.snapshot.last_term = sterm;
    m.u.snapshot.config = *c;
    m.u.snapshot.len = 16;
    m.u.snapshot.data = data;
    return m;
}

static void follower_snapshot_cases(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, false);
    tn_stabilize(&net);
    const uint64_t t[] = {2};
    const size_t n[] = {5};
    tn_set_disk(&net, 1, 3, 2, t, n, 1); /* 1: config, 2..6: term 2 */
    struct raft *r = tn_r(&net, 1);
    struct raft_ready rd;
    if (raft_ready(r, &rd))
        raft_advance(r, &rd);
    struct raft_config c;
    tn_config(&c, 3);
    uint8_t data[16] = {0};

    /* Covered by our log with the same term: keep the suffix, commit up to it. */
    struct raft_msg m = snapshot_msg(2, 4, 2, &c, data);
    assert_int_equal(raft_step(r, &m), RAFT_OK);
    assert_true(raft_ready(r, &rd));
    assert_null(rd.snapshot);
    assert_int_equal(rd.msgs_after_persist[0].type, RAFT_MSG_SNAPSHOT_RESP);
    assert_true(rd.msgs_after_persist[0].u.snapshot_resp.success);
    raft_advance(r, &rd);
    assert_int_equal(raft_last_index(r), 6);
    assert_int_equal(raft_commit_index(r), 4);

    /* Older than our commit index: ignored, acknowledged with the commit index. */
    m = snapshot_msg(2, 3, 2, &c, data);
    raft_step(r, &m);
    assert_true(raft_ready(r, &rd));
    assert_null(rd.snapshot);
    assert_int_equal(rd.msgs_after_persist[0].u.snapshot_resp.last_index, 4);
    raft_advance(r, &rd);

    /* Conflicting with our log (term 3 at index 6): the whole log goes. */
    m = snapshot_msg(3, 6, 3, &c, data);
    raft_step(r, &m);
    assert_true(raft_ready(r, &rd));
    assert_non_null(rd.snapshot);
    assert_int_equal(rd.snapshot->index, 6);
    assert_int_equal(rd.n_entries, 0);
    assert_int_equal(rd.n_committed, 0);
    raft_advance(r, &rd);
    assert_int_equal(raft_last_index(r), 6);
    assert_int_equal(raft_last_term(r), 3);
    assert_int_equal(raft_applied_index(r), 6);
    assert_null(raft_entry_at(r, 6));

    /* A snapshot with no voters is malformed. */
    c.servers[0].voter = c.servers[1].voter = c.servers[2].voter = false;
    m = snapshot_msg(3, 9, 3, &c, data);
    assert_int_equal(raft_step(r, &m), RAFT_EINVAL);
    raft_config_free(&c);
    tn_free(&net);
}

static void restore_edge_cases(void **state)
{
    (void)state;
    struct raft_options o;
    raft_options_default(&o, 1, "127.0.0.1:8300");
    struct raft_config c;
    tn_config(&c, 3);
    uint8_t data[16] = {0};
    struct raft_snapshot snap = {.index = 10, .term = 2, .config = c, .len = 16, .data = data};
    struct raft_entry e[4];
    for (int i = 0; i < 4; i++)
        e[i] = tn_entry(8 + (uint64_t)i, 2, (uint64_t)i); /* 8..11, term 2 */
    struct raft r;
    struct raft_ready rd;

    /* Trailing entries 8..10 behind the snapshot, 11 after it: all kept. */
    struct raft_restore st = {.term = 2, .vote = 0, .snapshot = &snap, .entries = e, .n_entries = 4};
    assert_int_equal(raft_init(&r, &o, &st), RAFT_OK);
    assert_int_equal(raft_last_index(&r), 11);
    assert_non_null(raft_entry_at(&r, 9));
    assert_int_equal(raft_commit_index(&r), 10);
    assert_false(raft_ready(&r, &rd)); /* nothing to persist */
    raft_close(&r);

    /* Entries of a newer term than the stored one: the term is adopted, then persisted. */
    e[3].term = 3;
    st.term = 1;
    st.vote = 2;
    assert_int_equal(raft_init(&r, &o, &st), RAFT_OK);
    assert_int_equal(raft_term(&r), 3);
    assert_int_equal(raft_vote(&r), 0);
    assert_true(raft_ready(&r, &rd));
    assert_true(rd.hard_state_changed);
    assert_int_equal(rd.term, 3);
    raft_advance(&r, &rd);
    raft_close(&r);

    /* A log from another history than the snapshot (term 1 at index 10): the snapshot wins
     * and is handed out again so the caller discards its log. */
    e[2].term = 1;
    e[0].term = e[1].term = 1;
    e[3].term = 2;
    st.term = 2;
    assert_int_equal(raft_init(&r, &o, &st), RAFT_OK);
    assert_int_equal(raft_last_index(&r), 10);
    assert_true(raft_ready(&r, &rd));
    assert_non_null(rd.snapshot);
    assert_int_equal(rd.snapshot->index, 10);
    raft_advance(&r, &rd);
    raft_close(&r);

    /* A gap inside the log is refused outright. */
    e[2].index = 20;
    assert_int_equal(raft_init(&r, &o, &st), RAFT_EINVAL);
    /* So is a log not starting at 1 without a snapshot. */
    st.snapshot = NULL;
    st.n_entries = 2;
    assert_int_equal(raft_init(&r, &o, &st), RAFT_EINVAL);
    /* And bad options. */
    o.heartbeat_ticks = o.election_ticks;
    assert_int_equal(raft_init(&r, &o, NULL), RAFT_EINVAL);
    for (int i = 0; i < 4; i++)
        free(e[i].data);
    raft_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compaction_and_install_snapshot),
        cmocka_unit_test(snapshot_done_rejects_bad_indexes),
        cmocka_unit_test(follower_snapshot_cases),
        cmocka_unit_test(restore_edge_cases),
    };
    return cmocka_run_group_tests_name("raft_snapshot", tests, NULL, NULL);
}
