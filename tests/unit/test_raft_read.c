/* test_raft_read.c — ReadIndex scenarios: a read waits for the no-op of the leader's term and
 * for a heartbeat round acknowledged by a quorum; a deposed leader fails its reads. */
#include "unit/raft_harness.h"

static bool drop_acks_to_1(struct tn_net *net, struct raft_msg *m)
{
    (void)net;
    return !(m->to == 1 && m->type == RAFT_MSG_APPEND_RESP);
}

static void read_waits_for_noop_of_the_term(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, true);
    tn_stabilize(&net);
    net.filter = drop_acks_to_1;
    tn_elect(&net, 1);
    assert_int_equal(raft_commit_index(tn_r(&net, 1)), 0); /* the no-op (index 2) is pending */
    assert_int_equal(raft_read_index(tn_r(&net, 1), 7), RAFT_OK);
    tn_tick(&net, 1);
    tn_tick(&net, 1);
    assert_int_equal(net.nodes[1].n_reads, 0);
    net.filter = NULL;
    tn_tick(&net, 1);
    assert_int_equal(net.nodes[1].n_reads, 1);
    assert_int_equal(net.nodes[1].reads[0].ctx, 7);
    assert_true(net.nodes[1].reads[0].ok);
    assert_int_equal(net.nodes[1].reads[0].index, 2);
    assert_true(net.nodes[1].applied >= net.nodes[1].reads[0].index);
    tn_free(&net);
}

static void read_waits_for_heartbeat_quorum(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, true);
    tn_stabilize(&net);
    tn_elect(&net, 1);
    uint64_t x = tn_propose(&net, 1, 3);
    tn_stabilize(&net);
    assert_int_equal(raft_read_index(tn_r(&net, 2), 1), RAFT_ENOTLEADER);
    tn_isolate(&net, 2, true);
    tn_isolate(&net, 3, true);
    assert_int_equal(raft_read_index(tn_r(&net, 1), 8), RAFT_OK);
    tn_tick(&net, 1);
    tn_tick(&net, 1);
    assert_int_equal(net.nodes[1].n_reads, 0); /* no quorum heard: no answer */
    tn_isolate(&net, 2, false);
    tn_tick(&net, 1);
    assert_int_equal(net.nodes[1].n_reads, 1);
    assert_int_equal(net.nodes[1].reads[0].ctx, 8);
    assert_true(net.nodes[1].reads[0].ok);
    assert_int_equal(net.nodes[1].reads[0].index, x);
    tn_free(&net);
}

static void deposed_leader_fails_its_reads(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, true);
    tn_stabilize(&net);
    tn_elect(&net, 1);
    tn_isolate(&net, 1, true);
    assert_int_equal(raft_read_index(tn_r(&net, 1), 9), RAFT_OK);
    /* 2 and 3 elect a new leader once their lease on 1 expires. */
    raft_id l = 0;
    for (int i = 0; i < 100 && l == 0; i++) {
        raft_tick(tn_r(&net, 2));
        raft_tick(tn_r(&net, 3));
        tn_stabilize(&net);
        l = raft_state(tn_r(&net, 2)) == RAFT_LEADER   ? 2
            : raft_state(tn_r(&net, 3)) == RAFT_LEADER ? 3
                                                       : 0;
    }
    assert_true(l != 0);
    tn_propose(&net, l, 77);
    tn_stabilize(&net);
    for (int i = 0; i < 25 && raft_state(tn_r(&net, 1)) == RAFT_LEADER; i++)
        tn_tick(&net, 1);
    assert_int_equal(raft_state(tn_r(&net, 1)), RAFT_FOLLOWER);
    assert_int_equal(net.nodes[1].n_reads, 1);
    assert_int_equal(net.nodes[1].reads[0].ctx, 9);
    assert_false(net.nodes[1].reads[0].ok);
    tn_free(&net);
}

static void single_node_read_is_immediate(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 1, 1, true);
    tn_stabilize(&net);
    tn_elect(&net, 1);
    uint64_t x = tn_propose(&net, 1, 1);
    assert_int_equal(raft_read_index(tn_r(&net, 1), 5), RAFT_OK);
    tn_stabilize(&net);
    assert_int_equal(net.nodes[1].n_reads, 1);
    assert_true(net.nodes[1].reads[0].ok);
    /* The read index is the commit index when asked: x was not yet committed then. */
    assert_true(net.nodes[1].reads[0].index < x);
    assert_int_equal(raft_read_index(tn_r(&net, 1), 6), RAFT_OK);
    tn_stabilize(&net);
    assert_int_equal(net.nodes[1].reads[1].index, x);
    tn_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(read_waits_for_noop_of_the_term),
        cmocka_unit_test(read_waits_for_heartbeat_quorum),
        cmocka_unit_test(deposed_leader_fails_its_reads),
        cmocka_unit_test(single_node_read_is_immediate),
    };
    return cmocka_run_group_tests_name("raft_read", tests, NULL, NULL);
}
