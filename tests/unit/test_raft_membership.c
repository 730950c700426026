/* test_raft_membership.c — Raft core scenarios about configuration changes and leadership:
 * add as non-voter then promote, remove a follower, remove the leader itself, one change at a
 * time, leadership transfer (TimeoutNow) to caught-up, lagging and unreachable targets. */
#include "unit/raft_harness.h"

static bool is_voter(struct tn_net *net, raft_id at, raft_id id)
{
    const struct raft_server *s = raft_config_find(raft_configuration(tn_r(net, at)), id);
    return s != NULL && s->voter;
}

static bool is_member(struct tn_net *net, raft_id at, raft_id id)
{
    return raft_config_find(raft_configuration(tn_r(net, at)), id) != NULL;
}

static void add_server_as_nonvoter_then_promote(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 4, 3, true);
    tn_stabilize(&net);
    tn_elect(&net, 1);
    assert_int_equal(raft_add_server(tn_r(&net, 1), 4, "127.0.0.4:8300"), RAFT_OK);
    assert_true(is_member(&net, 1, 4));
    assert_false(is_voter(&net, 1, 4)); /* in effect once appended, as a non-voter */
    assert_int_equal(tn_log_count(&net.nodes[1], "Added peer 127.0.0.4:8300, starting replication"),
                     1);

    /* While 4 catches up it counts toward no quorum: 1 and 2 commit without 3 and 4. */
    tn_isolate(&net, 3, true);
    tn_isolate(&net, 4, true);
    uint64_t x = tn_propose(&net, 1, 10);
    tn_stabilize(&net);
    assert_true(raft_commit_index(tn_r(&net, 1)) >= x);
    assert_false(is_voter(&net, 1, 4));

    /* Reconnected, 4 catches up and is promoted automatically. */
    tn_isolate(&net, 3, false);
    tn_isolate(&net, 4, false);
    for (int i = 0; i < 20 && !is_voter(&net, 1, 4); i++)
        tn_tick_all(&net, 1);
    assert_true(is_voter(&net, 1, 4));
    assert_true(is_voter(&net, 4, 4));
    assert_true(tn_log_count(&net.nodes[1], "promoting 127.0.0.4:8300 to voter") == 1);
    assert_int_equal(net.nodes[4].fsm_count, 1);

    /* Now a voter, 4 counts: with 3 and 4 cut, 1 and 2 are no longer a quorum of 4. */
    tn_isolate(&net, 3, true);
    tn_isolate(&net, 4, true);
    uint64_t y = tn_propose(&net, 1, 11);
    tn_tick_all(&net, 3);
    assert_true(raft_commit_index(tn_r(&net, 1)) < y);
    tn_free(&net);
}

static void remove_follower(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, true);
    tn_stabilize(&net);
    tn_elect(&net, 1);
    assert_int_equal(raft_remove_server(tn_r(&net, 1), 3), RAFT_OK);
    tn_stabilize(&net);
    assert_false(is_member(&net, 1, 3));
    assert_false(is_member(&net, 2, 3));
    assert_int_equal(tn_log_count(&net.nodes[1], "Removed peer 127.0.0.3:8300, stopping "
                                                 "replication"),
                     1);
    /* Quorum is now 2 of {1, 2}; the removed server neither counts nor disrupts. */
    uint64_t term = raft_term(tn_r(&net, 1));
    tn_isolate(&net, 3, true);
    uint64_t x = tn_propose(&net, 1, 1);
    tn_stabilize(&net);
    assert_true(raft_commit_index(tn_r(&net, 1)) >= x);
    tn_isolate(&net, 3, false);
    tn_tick_all(&net, 60);
    assert_int_equal(raft_term(tn_r(&net, 1)), term);
    assert_int_equal(raft_state(tn_r(&net, 1)), RAFT_LEADER);
    assert_int_not_equal(raft_state(tn_r(&net, 3)), RAFT_LEADER);
    tn_free(&net);
}

static void remove_leader_itself(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, true);
    tn_stabilize(&net);
    tn_elect(&net, 1);
    assert_int_equal(raft_remove_server(tn_r(&net, 1), 1), RAFT_OK);
    /* Until the change commits the old leader still replicates it (but counts not itself). */
    assert_int_equal(raft_state(tn_r(&net, 1)), RAFT_LEADER);
    tn_stabilize(&net);
    assert_int_equal(raft_state(tn_r(&net, 1)), RAFT_FOLLOWER);
    assert_int_equal(tn_log_count(&net.nodes[1], "Removed ourself, transitioning to follower"), 1);
    /* Handed over with TimeoutNow: a new leader without waiting for a timeout. */
    raft_id l = raft_leader(tn_r(&net, 2));
    assert_true(l == 2 || l == 3);
    assert_int_equal(raft_state(tn_r(&net, l)), RAFT_LEADER);
    assert_false(is_member(&net, l, 1));
    uint64_t x = tn_propose(&net, l, 9);
    tn_stabilize(&net);
    assert_int_equal(raft_commit_index(tn_r(&net, 2)), x);
    assert_int_equal(raft_commit_index(tn_r(&net, 3)), x);
    tn_tick_all(&net, 60);
    assert_int_not_equal(raft_state(tn_r(&net, 1)), RAFT_LEADER);
    assert_int_equal(raft_leader(tn_r(&net, 2)), l);
    tn_free(&net);
}

static bool drop_acks_to_1(struct tn_net *net, struct raft_msg *m)
{
    (void)net;
    return !(m->to == 1 && m->type == RAFT_MSG_APPEND_RESP);
}

static void one_change_at_a_time(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 5, 3, true);
    tn_stabilize(&net);
    net.filter = drop_acks_to_1;
    tn_elect(&net, 1);
    /* Not before the leader has committed an entry of its term. */
    assert_int_equal(raft_add_server(tn_r(&net, 1), 4, "127.0.0.4:8300"), RAFT_EBUSY);
    net.filter = NULL;
    tn_tick(&net, 1);
    assert_int_equal(raft_add_server(tn_r(&net, 1), 4, "127.0.0.4:8300"), RAFT_OK);
    /* Not while the previous change is uncommitted. */
    assert_int_equal(raft_add_server(tn_r(&net, 1), 5, "127.0.0.5:8300"), RAFT_EBUSY);
    assert_int_equal(raft_remove_server(tn_r(&net, 1), 2), RAFT_EBUSY);
    assert_int_equal(raft_add_server(tn_r(&net, 2), 5, "127.0.0.5:8300"), RAFT_ENOTLEADER);
    tn_stabilize(&net);
    for (int i = 0; i < 20 && !is_voter(&net, 1, 4); i++)
        tn_tick_all(&net, 1);
    tn_stabilize(&net);
    assert_int_equal(raft_add_server(tn_r(&net, 1), 4, "127.0.0.4:8300"), RAFT_EEXIST);
    assert_int_equal(raft_remove_server(tn_r(&net, 1), 9), RAFT_ENOTFOUND);
    assert_int_equal(raft_add_server(tn_r(&net, 1), 5, "127.0.0.5:8300"), RAFT_OK);
    tn_free(&net);
}

static void leadership_transfer(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, true);
    tn_stabilize(&net);
    tn_elect(&net, 1);
    uint64_t term = raft_term(tn_r(&net, 1));

    /* To an up-to-date follower: immediate. */
    assert_int_equal(raft_transfer_leadership(tn_r(&net, 1), 2), RAFT_OK);
    tn_stabilize(&net);
    assert_int_equal(raft_state(tn_r(&net, 2)), RAFT_LEADER);
    assert_int_equal(raft_term(tn_r(&net, 2)), term + 1);
    assert_int_equal(raft_leader(tn_r(&net, 1)), 2);

    /* To a lagging follower: caught up first; proposals refused meanwhile. */
    tn_isolate(&net, 3, true);
    for (uint64_t v = 0; v < 5; v++)
        tn_propose(&net, 2, v);
    tn_stabilize(&net);
    tn_isolate(&net, 3, false);
    assert_int_equal(raft_transfer_leadership(tn_r(&net, 2), 3), RAFT_OK);
    uint64_t idx;
    assert_int_equal(raft_propose(tn_r(&net, 2), "x", 1, &idx), RAFT_ETRANSFER);
    tn_stabilize(&net);
    assert_int_equal(raft_state(tn_r(&net, 3)), RAFT_LEADER);
    assert_int_equal(net.nodes[3].fsm_count, 5);

    /* To an unreachable follower: gives up after an election timeout and serves again. */
    tn_isolate(&net, 1, true);
    assert_int_equal(raft_transfer_leadership(tn_r(&net, 3), 1), RAFT_OK);
    assert_int_equal(raft_propose(tn_r(&net, 3), "x", 1, &idx), RAFT_ETRANSFER);
    for (int i = 0; i < 10; i++)
        tn_tick(&net, 3);
    assert_int_equal(raft_state(tn_r(&net, 3)), RAFT_LEADER);
    assert_int_equal(raft_propose(tn_r(&net, 3), "x", 1, &idx), RAFT_OK);
    assert_int_equal(tn_log_count(&net.nodes[3], "leadership transfer to 1 timed out"), 1);
    assert_int_equal(raft_transfer_leadership(tn_r(&net, 2), 1), RAFT_ENOTLEADER);
    tn_free(&net);
}

/* The single-server-change bug (raft-dev, 2015): an uncommitted change from a deposed leader
 * must never combine with a different change from its successor. */
static void changes_across_leader_change(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 5, 4, true);
    tn_stabilize(&net);
    tn_elect(&net, 1);
    tn_isolate(&net, 1, true);
    assert_int_equal(raft_add_server(tn_r(&net, 1), 5, "127.0.0.5:8300"), RAFT_OK);
    tn_stabilize(&net); /* C1 = {1,2,3,4,5n} stays on 1 only */
    raft_id l = 0;
    for (int i = 0; i < 100 && l == 0; i++) {
        for (raft_id id = 2; id <= 4; id++)
            raft_tick(tn_r(&net, id));
        tn_stabilize(&net);
        for (raft_id id = 2; id <= 4; id++)
            if (raft_state(tn_r(&net, id)) == RAFT_LEADER)
                l = id;
    }
    assert_true(l != 0);
    /* The successor changes the configuration only after committing its no-op, then
     * commits C2 = {1,2,3} (without 4) with its own majority. */
    raft_id gone = l == 4 ? 3 : 4;
    assert_int_equal(raft_remove_server(tn_r(&net, l), gone), RAFT_OK);
    tn_stabilize(&net);
    assert_false(is_member(&net, l, gone));
    uint64_t committed = raft_commit_index(tn_r(&net, l));
    assert_true(committed >= raft_last_index(tn_r(&net, l)));
    /* The old leader returns: its C1 is cut away and it adopts C2. */
    tn_isolate(&net, 1, false);
    tn_tick_all(&net, 30);
    assert_false(is_member(&net, 1, 5));
    assert_false(is_member(&net, 1, gone));
    assert_int_equal(raft_configuration(tn_r(&net, 1))->n, 3);
    raft_id now = raft_leader(tn_r(&net, 1));
    assert_true(now != 0 && now != gone);
    assert_int_equal(raft_commit_index(tn_r(&net, 1)), raft_commit_index(tn_r(&net, now)));
    tn_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_server_as_nonvoter_then_promote),
        cmocka_unit_test(remove_follower),
        cmocka_unit_test(remove_leader_itself),
        cmocka_unit_test(one_change_at_a_time),
        cmocka_unit_test(leadership_transfer),
        cmocka_unit_test(changes_across_leader_change),
    };
    return cmocka_run_group_tests_name("raft_membership", tests, NULL, NULL);
}
