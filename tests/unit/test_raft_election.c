/* test_raft_election.c — Raft core scenarios about roles and votes: bootstrap, elections, the
 * up-to-date check, vote durability ordering, pre-vote, check-quorum, the no-peers warning. */
#include "unit/raft_harness.h"

static void single_node_bootstrap_leads_and_commits(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 1, 1, true);
    struct raft *r = tn_r(&net, 1);
    tn_stabilize(&net);
    assert_int_equal(net.nodes[1].disk.n, 1); /* the CONFIG entry at index 1 term 1 */
    assert_int_equal(net.nodes[1].disk.ents[0].type, RAFT_ENTRY_CONFIG);
    assert_int_equal(net.nodes[1].disk.ents[0].term, 1);
    tn_elect(&net, 1);
    assert_int_equal(raft_leader(r), 1);
    assert_true(tn_log_count(&net.nodes[1], "[Leader] entering Leader state") == 1);

    /* A proposal commits only after the leader's own write is durable (raft_advance). */
    uint64_t v = 42, idx;
    assert_int_equal(raft_propose(r, &v, sizeof v, &idx), RAFT_OK);
    struct raft_ready rd;
    assert_true(raft_ready(r, &rd));
    assert_int_equal(rd.n_entries, 1);
    assert_int_equal(rd.entries[0].index, idx);
    for (size_t i = 0; i < rd.n_committed; i++)
        assert_true(rd.committed[i].index < idx);
    assert_true(raft_commit_index(r) < idx);
    struct tn_node *n = &net.nodes[1];
    n->disk.ents = realloc(n->disk.ents, (n->disk.n + 1) * sizeof *n->disk.ents);
    tn_copy_entry(&n->disk.ents[n->disk.n++], &rd.entries[0]);
    for (size_t i = 0; i < rd.n_committed; i++)
        tn_record_applied(n, &rd.committed[i]);
    raft_advance(r, &rd);
    assert_int_equal(raft_commit_index(r), idx);
    tn_stabilize(&net);
    assert_int_equal(n->applied, idx);
    assert_int_equal(n->fsm_count, 1);
    tn_free(&net);
}

static void three_nodes_elect_one_leader(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, true);
    tn_stabilize(&net);
    tn_elect(&net, 2);
    for (raft_id id = 1; id <= 3; id++) {
        assert_int_equal(raft_leader(tn_r(&net, id)), 2);
        assert_int_equal(raft_term(tn_r(&net, id)), raft_term(tn_r(&net, 2)));
        /* The no-op of the new term is committed and applied everywhere. */
        assert_int_equal(net.nodes[id].applied, 2);
    }
    assert_int_equal(raft_state(tn_r(&net, 1)), RAFT_FOLLOWER);
    /* With everyone ticking, the leader keeps its role (heartbeats hold elections off). */
    uint64_t term = raft_term(tn_r(&net, 2));
    tn_tick_all(&net, 100);
    assert_int_equal(raft_state(tn_r(&net, 2)), RAFT_LEADER);
    assert_int_equal(raft_term(tn_r(&net, 1)), term);
    tn_free(&net);
}

static void stale_candidate_is_refused(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, false);
    tn_stabilize(&net);
    tn_elect(&net, 1);
    tn_isolate(&net, 3, true);
    tn_propose(&net, 1, 7);
    tn_stabilize(&net);
    assert_true(raft_last_index(tn_r(&net, 3)) < raft_last_index(tn_r(&net, 1)));
    /* Node 3 (behind) campaigns against 1 and 2: both refuse (log up-to-date check). */
    tn_isolate(&net, 3, false);
    tn_crash(&net, 1);
    for (int i = 0; i < 60; i++)
        tn_tick(&net, 3);
    assert_int_not_equal(raft_state(tn_r(&net, 3)), RAFT_LEADER);
    assert_int_not_equal(raft_vote(tn_r(&net, 2)), 3);
    /* Node 2, up to date, wins (and 3 votes for it). */
    tn_elect(&net, 2);
    assert_int_equal(raft_leader(tn_r(&net, 3)), 2);
    tn_free(&net);
}

static void vote_reply_waits_for_durable_vote(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, false);
    tn_stabilize(&net);
    struct raft *r = tn_r(&net, 1);
    struct raft_msg m = {.type = RAFT_MSG_VOTE, .from = 2, .to = 1, .term = 5};
    m.u.vote.last_index = 1;
    m.u.vote.last_term = 1;
    assert_int_equal(raft_step(r, &m), RAFT_OK);
    struct raft_ready rd;
    assert_true(raft_ready(r, &rd));
    assert_true(rd.hard_state_changed);
    assert_int_equal(rd.term, 5);
    assert_int_equal(rd.vote, 2);
    for (size_t i = 0; i < rd.n_msgs; i++)
        assert_int_not_equal(rd.msgs[i].type, RAFT_MSG_VOTE_RESP);
    assert_int_equal(rd.n_msgs_after_persist, 1);
    assert_int_equal(rd.msgs_after_persist[0].type, RAFT_MSG_VOTE_RESP);
    assert_true(rd.msgs_after_persist[0].u.vote_resp.granted);
    raft_advance(r, &rd);

    /* A second candidate in the same term is refused: the vote is not reusable. */
    m.from = 3;
    assert_int_equal(raft_step(r, &m), RAFT_OK);
    assert_true(raft_ready(r, &rd));
    assert_false(rd.hard_state_changed);
    assert_false(rd.msgs_after_persist[0].u.vote_resp.granted);
    raft_advance(r, &rd);

    /* An append from the term's leader keeps the vote (cleared only with a new term). */
    struct raft_msg a = {.type = RAFT_MSG_APPEND, .from = 2, .to = 1, .term = 5};
    a.u.append.prev_index = 1;
    a.u.append.prev_term = 1;
    assert_int_equal(raft_step(r, &a), RAFT_OK);
    assert_int_equal(raft_vote(r), 2);
    assert_int_equal(raft_leader(r), 2);
    assert_true(raft_ready(r, &rd));
    assert_int_equal(rd.n_msgs, 0);
    assert_int_equal(rd.msgs_after_persist[0].type, RAFT_MSG_APPEND_RESP);
    raft_advance(r, &rd);
    tn_free(&net);
}

static void candidate_keeps_vote_when_stepping_down_in_same_term(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, false);
    tn_stabilize(&net);
    tn_isolate(&net, 1, true);
    for (int i = 0; i < 30 && raft_state(tn_r(&net, 1)) != RAFT_CANDIDATE; i++)
        tn_tick(&net, 1);
    struct raft *r = tn_r(&net, 1);
    assert_int_equal(raft_state(r), RAFT_CANDIDATE);
    uint64_t term = raft_term(r);
    struct raft_msg a = {.type = RAFT_MSG_APPEND, .from = 2, .to = 1, .term = term};
    a.u.append.prev_index = 1;
    a.u.append.prev_term = 1;
    assert_int_equal(raft_step(r, &a), RAFT_OK);
    assert_int_equal(raft_state(r), RAFT_FOLLOWER);
    assert_int_equal(raft_vote(r), 1);
    struct raft_msg v = {.type = RAFT_MSG_VOTE, .from = 3, .to = 1, .term = term};
    v.u.vote.last_index = 5;
    v.u.vote.last_term = 1;
    raft_step(r, &v);
    assert_int_equal(raft_vote(r), 1);
    tn_free(&net);
}

static void prevote_rejoining_node_does_not_disrupt(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, true);
    tn_stabilize(&net);
    tn_elect(&net, 1);
    uint64_t term = raft_term(tn_r(&net, 1));
    tn_isolate(&net, 3, true);
    tn_tick_all(&net, 100); /* 3 times out repeatedly, but only pre-votes */
    assert_int_equal(raft_term(tn_r(&net, 3)), term);
    assert_int_not_equal(raft_state(tn_r(&net, 3)), RAFT_LEADER);
    assert_true(tn_log_count(&net.nodes[3], "Heartbeat timeout reached") >= 1);
    tn_isolate(&net, 3, false);
    tn_tick_all(&net, 50);
    for (raft_id id = 1; id <= 3; id++) {
        assert_int_equal(raft_term(tn_r(&net, id)), term);
        assert_int_equal(raft_leader(tn_r(&net, id)), 1);
    }
    tn_free(&net);
}

static void leader_stickiness_ignores_disruptive_vote(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, true);
    tn_stabilize(&net);
    tn_elect(&net, 1);
    uint64_t term = raft_term(tn_r(&net, 2));
    /* A real (not pre-) vote request at a higher term while 2 hears its leader. */
    struct raft_msg v = {.type = RAFT_MSG_VOTE, .from = 3, .to = 2, .term = term + 5};
    v.u.vote.last_index = 100;
    v.u.vote.last_term = term;
    assert_int_equal(raft_step(tn_r(&net, 2), &v), RAFT_OK);
    assert_int_equal(raft_term(tn_r(&net, 2)), term);
    assert_int_equal(raft_leader(tn_r(&net, 2)), 1);
    assert_true(tn_log_count(&net.nodes[2], "Rejecting vote from 127.0.0.3:8300 since we have a leader: "
                                            "127.0.0.1:8300") == 1);
    tn_free(&net);
}

static void check_quorum_leader_steps_down(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, true);
    tn_stabilize(&net);
    tn_elect(&net, 1);
    tn_isolate(&net, 1, true);
    for (int i = 0; i < 25 && raft_state(tn_r(&net, 1)) == RAFT_LEADER; i++)
        tn_tick(&net, 1);
    assert_int_equal(raft_state(tn_r(&net, 1)), RAFT_FOLLOWER);
    assert_int_equal(raft_leader(tn_r(&net, 1)), 0);
    assert_int_equal(tn_log_count(&net.nodes[1], "Failed to contact quorum of nodes, stepping down"),
                     1);
    assert_true(tn_log_count(&net.nodes[1], "[Follower] entering Follower state") >= 2);
    tn_free(&net);
}

static void no_config_never_campaigns_and_warns_once(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 1, 0, true);
    for (int i = 0; i < 200; i++)
        tn_tick(&net, 1);
    assert_int_equal(raft_state(tn_r(&net, 1)), RAFT_FOLLOWER);
    assert_int_equal(raft_term(tn_r(&net, 1)), 0);
    size_t total = 0;
    for (int t = 0; t < 8; t++)
        total += net.sent[1][t];
    assert_int_equal(total, 0);
    assert_int_equal(tn_log_count(&net.nodes[1], "[WARN] raft: no known peers and not in "
                                                 "bootstrap mode, aborting election"), 1);
    tn_free(&net);
}

static void restart_from_restored_state(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, true);
    tn_stabilize(&net);
    tn_elect(&net, 1);
    for (uint64_t v = 1; v <= 10; v++)
        tn_propose(&net, 1, v);
    tn_stabilize(&net);
    uint64_t term = raft_term(tn_r(&net, 1)), last = raft_last_index(tn_r(&net, 1));
    uint64_t hash = net.nodes[1].fsm_hash;
    for (raft_id id = 1; id <= 3; id++) {
        tn_restart(&net, id);
        assert_int_equal(raft_term(tn_r(&net, id)), term);
        assert_int_equal(raft_last_index(tn_r(&net, id)), last);
        assert_int_equal(raft_state(tn_r(&net, id)), RAFT_FOLLOWER);
        assert_int_equal(raft_configuration(tn_r(&net, id))->n, 3);
    }
    tn_elect(&net, 2);
    assert_true(raft_term(tn_r(&net, 2)) > term);
    tn_propose(&net, 2, 11);
    tn_stabilize(&net);
    for (raft_id id = 1; id <= 3; id++) {
        assert_int_equal(net.nodes[id].fsm_count, 11);
        assert_int_equal(net.nodes[id].applied, raft_last_index(tn_r(&net, 2)));
    }
    assert_int_not_equal(net.nodes[1].fsm_hash, hash);
    assert_int_equal(net.nodes[1].fsm_hash, net.nodes[3].fsm_hash);
    tn_free(&net);
}

static void duplicated_vote_replies_count_once(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 5, 5, false);
    tn_stabilize(&net);
    tn_isolate(&net, 1, true);
    for (int i = 0; i < 30 && raft_state(tn_r(&net, 1)) != RAFT_CANDIDATE; i++)
        tn_tick(&net, 1);
    struct raft *r = tn_r(&net, 1);
    assert_int_equal(raft_state(r), RAFT_CANDIDATE);
    struct raft_msg m = {.type = RAFT_MSG_VOTE_RESP, .from = 2, .to = 1, .term = raft_term(r)};
    for (int i = 0; i < 3; i++)
        raft_step(r, &m); /* one voter's refusal, three times: not a majority */
    assert_int_equal(raft_state(r), RAFT_CANDIDATE);
    m.u.vote_resp.granted = true;
    for (int i = 0; i < 3; i++)
        raft_step(r, &m); /* nor does it change its mind */
    assert_int_equal(raft_state(r), RAFT_CANDIDATE);
    m.from = 3;
    raft_step(r, &m);
    raft_step(r, &m);
    assert_int_equal(raft_state(r), RAFT_CANDIDATE); /* 1 + 3 = 2 of 5 */
    m.from = 4;
    raft_step(r, &m);
    assert_int_equal(raft_state(r), RAFT_LEADER);
    tn_free(&net);
}

/* The partial partition of the Cloudflare 2020 outage: 1-2-3 in a chain, 1 and 3 cut apart. */
static void chain_partition_keeps_a_stable_leader(void **state)
{
    (void)state;
    struct tn_net net;
    tn_init(&net, 3, 3, true);
    tn_stabilize(&net);
    tn_elect(&net, 1);
    uint64_t term = raft_term(tn_r(&net, 1));
    net.cut[1][3] = net.cut[3][1] = true;
    uint64_t last = 0;
    for (int i = 0; i < 20; i++) {
        last = tn_propose(&net, 1, (uint64_t)i);
        tn_tick_all(&net, 5);
    }
    /* 3 times out over and over, but only pre-votes, which 2 (hearing 1) ignores. */
    assert_true(tn_log_count(&net.nodes[3], "Heartbeat timeout reached") >= 1);
    for (raft_id id = 1; id <= 3; id++)
        assert_int_equal(raft_term(tn_r(&net, id)), term);
    assert_int_equal(raft_state(tn_r(&net, 1)), RAFT_LEADER);
    assert_true(raft_commit_index(tn_r(&net, 2)) >= last);
    net.cut[1][3] = net.cut[3][1] = false;
    tn_tick_all(&net, 5);
    assert_int_equal(net.nodes[3].fsm_count, 20);
    assert_int_equal(raft_term(tn_r(&net, 3)), term);
    tn_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_node_bootstrap_leads_and_commits),
        cmocka_unit_test(three_nodes_elect_one_leader),
        cmocka_unit_test(stale_candidate_is_refused),
        cmocka_unit_test(vote_reply_waits_for_durable_vote),
        cmocka_unit_test(candidate_keeps_vote_when_stepping_down_in_same_term),
        cmocka_unit_test(duplicated_vote_replies_count_once),
        cmocka_unit_test(prevote_rejoining_node_does_not_disrupt),
        cmocka_unit_test(leader_stickiness_ignores_disruptive_vote),
        cmocka_unit_test(check_quorum_leader_steps_down),
        cmocka_unit_test(chain_partition_keeps_a_stable_leader),
        cmocka_unit_test(no_config_never_campaigns_and_warns_once),
        cmocka_unit_test(restart_from_restored_state),
    };
    return cmocka_run_group_tests_name("raft_election", tests, NULL, NULL);
}
