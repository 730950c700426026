/* test_agent_reconcile.c — the leader's reconcile decisions (agent_reconcile_plan): every
 * combination of one member's state, role, datacenter, Raft membership, bootstrap mode, Raft
 * cluster id and catalog entry against Consul's rules (plus: never add a server of another cluster), plus ourselves, reaped nodes and several members at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "agent/reconcile.h"
#include "gossip/msg.h"

#define SELF_ID 1
#define PEER_ID 7

enum cat { CAT_NONE, CAT_PASSING, CAT_CRITICAL, CAT_OTHER_ADDR, CAT_NO_SVC, CAT_N };

/* The member's Raft cluster id (from its tags) against ours. */
enum cl { CL_NONE, CL_SAME, CL_OTHER, CL_N };
#define SELF_CLUSTER 0xc1u

struct combo {
    uint8_t state;
    bool server, same_dc, in_config, bootstrap, other_bootstrap;
    enum cat cat;
    enum cl cl;
};

static bool has(const struct agent_rc_action *a, size_t n, enum agent_rc_kind k)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].kind == k)
            return true;
    return false;
}

/* Builds: ourselves (a server in bootstrap mode only when other_bootstrap), member "m" under test
 * at 10.0.0.7, and the catalog entries for both. */
static size_t plan(const struct combo *c, struct agent_rc_action *out, size_t max)
{
    struct agent_rc_member mem[2] = {
        {.name = "self", .addr = "10.0.0.1", .state = GOSSIP_STATE_ALIVE, .server = true,
         .same_dc = true, .raft_id = SELF_ID, .rpc_addr = "10.0.0.1:8300",
         .bootstrap = c->other_bootstrap},
        {.name = "m", .addr = "10.0.0.7", .state = c->state, .server = c->server,
         .same_dc = c->same_dc, .raft_id = c->server ? PEER_ID : 0,
         .rpc_addr = c->server ? "10.0.0.7:8300" : "10.0.0.7:0", .bootstrap = c->bootstrap,
         .cluster_id = c->cl == CL_NONE ? 0 : c->cl == CL_SAME ? SELF_CLUSTER : 0xbad},
    };
    struct agent_rc_peer peers[2] = {{SELF_ID, "10.0.0.1:8300"}, {PEER_ID, "10.0.0.7:8300"}};
    struct agent_rc_node nodes[2] = {{"self", "10.0.0.1", AGENT_RC_PASSING, true}};
    size_t nn = 1;
    if (c->cat != CAT_NONE) {
        nodes[1] = (struct agent_rc_node){
            .name = "m",
            .addr = c->cat == CAT_OTHER_ADDR ? "10.9.9.9" : "10.0.0.7",
            .serf = c->cat == CAT_CRITICAL ? AGENT_RC_CRITICAL : AGENT_RC_PASSING,
            .consul_service = c->cat != CAT_NO_SVC,
        };
        nn = 2;
    }
    struct agent_rc_input in = {
        .self_name = "self", .self_id = SELF_ID, .self_cluster_id = SELF_CLUSTER,
        .members = mem, .n_members = 2,
        .peers = peers, .n_peers = c->in_config ? 2 : 1, .nodes = nodes, .n_nodes = nn,
    };
    return agent_reconcile_plan(&in, out, max);
}

static void every_combination_follows_consul_rules(void **state)
{
    (void)state;
    static const uint8_t states[] = {GOSSIP_STATE_ALIVE, GOSSIP_STATE_SUSPECT, GOSSIP_STATE_DEAD,
                                     GOSSIP_STATE_LEFT};
    unsigned cases = 0;
    for (size_t si = 0; si < 4; si++)
        for (unsigned bits = 0; bits < 32; bits++)
            for (int k = 0; k < CAT_N * CL_N; k++) {
                struct combo c = {states[si], bits & 1, bits & 2, bits & 4, bits & 8, bits & 16,
                                  (enum cat)(k % CAT_N), (enum cl)(k / CAT_N)};
                struct agent_rc_action act[16];
                size_t n = plan(&c, act, 16);
                bool alive = c.state == GOSSIP_STATE_ALIVE || c.state == GOSSIP_STATE_SUSPECT;
                bool registered_ok = c.cat == CAT_PASSING || (!c.server && c.cat == CAT_NO_SVC);
                bool candidate = alive && c.server && c.same_dc && !c.in_config;
                bool want_refuse = candidate && c.bootstrap && c.other_bootstrap;
                bool want_refuse_cl = candidate && !want_refuse && c.cl == CL_OTHER;
                bool want_add = candidate && !want_refuse && !want_refuse_cl;
                bool want_alive = alive && !registered_ok;
                bool want_failed = c.state == GOSSIP_STATE_DEAD && c.cat != CAT_CRITICAL;
                bool want_dereg = c.state == GOSSIP_STATE_LEFT && c.cat != CAT_NONE;
                bool want_remove = c.state == GOSSIP_STATE_LEFT && c.server && c.in_config;
                assert_int_equal(has(act, n, AGENT_RC_ADD_PEER), want_add);
                assert_int_equal(has(act, n, AGENT_RC_REFUSE_BOOTSTRAP), want_refuse);
                assert_int_equal(has(act, n, AGENT_RC_REFUSE_CLUSTER), want_refuse_cl);
                assert_int_equal(has(act, n, AGENT_RC_REGISTER_ALIVE), want_alive);
                assert_int_equal(has(act, n, AGENT_RC_REGISTER_FAILED), want_failed);
                assert_int_equal(has(act, n, AGENT_RC_DEREGISTER_LEFT), want_dereg);
                assert_int_equal(has(act, n, AGENT_RC_REMOVE_PEER), want_remove);
                /* a failed server stays a peer: quorum arithmetic stays honest */
                assert_false(has(act, n, AGENT_RC_DEREGISTER_REAPED));
                size_t want_n = want_add + want_refuse + want_refuse_cl + want_alive + want_failed +
                                want_dereg + want_remove;
                assert_int_equal(n, want_n);
                for (size_t i = 0; i < n; i++)
                    if (act[i].kind != AGENT_RC_DEREGISTER_REAPED)
                        assert_int_equal(act[i].member, 1); /* never about ourselves */
                cases++;
            }
    assert_int_equal(cases, 4 * 32 * CAT_N * CL_N);
}

static void self_is_never_removed_nor_deregistered(void **state)
{
    (void)state;
    struct agent_rc_member me = {.name = "self", .addr = "10.0.0.1", .state = GOSSIP_STATE_LEFT,
                                 .server = true, .same_dc = true, .raft_id = SELF_ID,
                                 .rpc_addr = "10.0.0.1:8300"};
    struct agent_rc_peer peers[1] = {{SELF_ID, "10.0.0.1:8300"}};
    struct agent_rc_node nodes[1] = {{"self", "10.0.0.1", AGENT_RC_PASSING, true}};
    struct agent_rc_input in = {"self", SELF_ID, SELF_CLUSTER, &me, 1, peers, 1, nodes, 1};
    struct agent_rc_action act[4];
    assert_int_equal(agent_reconcile_plan(&in, act, 4), 0);
    /* not a member at all (our own table is empty): still not reaped */
    in.n_members = 0;
    assert_int_equal(agent_reconcile_plan(&in, act, 4), 0);
}

static void alive_self_gets_registered(void **state)
{
    (void)state;
    struct agent_rc_member me = {.name = "self", .addr = "10.0.0.1", .state = GOSSIP_STATE_ALIVE,
                                 .server = true, .same_dc = true, .raft_id = SELF_ID,
                                 .rpc_addr = "10.0.0.1:8300", .bootstrap = true};
    struct agent_rc_peer peers[1] = {{SELF_ID, "10.0.0.1:8300"}};
    struct agent_rc_input in = {"self", SELF_ID, SELF_CLUSTER, &me, 1, peers, 1, NULL, 0};
    struct agent_rc_action act[4];
    assert_int_equal(agent_reconcile_plan(&in, act, 4), 1);
    assert_int_equal(act[0].kind, AGENT_RC_REGISTER_ALIVE);
}

/* External nodes (no serfHealth) are not gossip members by nature: never reaped. */
static void reaped_nodes_are_deregistered(void **state)
{
    (void)state;
    struct agent_rc_member me = {.name = "self", .addr = "10.0.0.1", .state = GOSSIP_STATE_ALIVE,
                                 .server = true, .same_dc = true, .raft_id = SELF_ID,
                                 .rpc_addr = "10.0.0.1:8300"};
    struct agent_rc_peer peers[1] = {{SELF_ID, "10.0.0.1:8300"}};
    struct agent_rc_node nodes[4] = {{"gone", "10.0.0.9", AGENT_RC_CRITICAL, false},
                                     {"self", "10.0.0.1", AGENT_RC_PASSING, true},
                                     {"old", "10.0.0.8", AGENT_RC_PASSING, false},
                                     {"external", "10.0.0.5", AGENT_RC_NONE, false}};
    struct agent_rc_input in = {"self", SELF_ID, SELF_CLUSTER, &me, 1, peers, 1, nodes, 4};
    struct agent_rc_action act[8];
    size_t n = agent_reconcile_plan(&in, act, 8);
    assert_int_equal(n, 2);
    assert_int_equal(act[0].kind, AGENT_RC_DEREGISTER_REAPED);
    assert_int_equal(act[0].node, 0);
    assert_int_equal(act[1].kind, AGENT_RC_DEREGISTER_REAPED);
    assert_int_equal(act[1].node, 2);
}

static void output_is_bounded(void **state)
{
    (void)state;
    struct agent_rc_member m[3] = {
        {.name = "a", .addr = "1", .state = GOSSIP_STATE_ALIVE},
        {.name = "b", .addr = "2", .state = GOSSIP_STATE_ALIVE},
        {.name = "c", .addr = "3", .state = GOSSIP_STATE_DEAD},
    };
    struct agent_rc_input in = {"self", SELF_ID, SELF_CLUSTER, m, 3, NULL, 0, NULL, 0};
    struct agent_rc_action act[2];
    assert_int_equal(agent_reconcile_plan(&in, act, 2), 2);
    assert_int_equal(act[1].member, 1);
    struct agent_rc_action all[8];
    assert_int_equal(agent_reconcile_plan(&in, all, 8), 3);
    assert_int_equal(all[2].kind, AGENT_RC_REGISTER_FAILED);
}

static void bootstrap_conflict_names_the_other(void **state)
{
    (void)state;
    struct agent_rc_member m[3] = {
        {.name = "self", .addr = "1", .state = GOSSIP_STATE_ALIVE, .server = true, .same_dc = true,
         .raft_id = SELF_ID, .rpc_addr = "1:8300"},
        {.name = "x", .addr = "2", .state = GOSSIP_STATE_ALIVE, .server = true, .same_dc = true,
         .raft_id = 5, .rpc_addr = "2:8300", .bootstrap = true},
        {.name = "y", .addr = "3", .state = GOSSIP_STATE_DEAD, .server = true, .same_dc = true,
         .raft_id = 6, .rpc_addr = "3:8300", .bootstrap = true},
    };
    struct agent_rc_peer peers[1] = {{SELF_ID, "1:8300"}};
    struct agent_rc_input in = {"self", SELF_ID, SELF_CLUSTER, m, 3, peers, 1, NULL, 0};
    struct agent_rc_action act[8];
    size_t n = agent_reconcile_plan(&in, act, 8);
    bool found = false;
    for (size_t i = 0; i < n; i++)
        if (act[i].kind == AGENT_RC_REFUSE_BOOTSTRAP) {
            assert_int_equal(act[i].member, 1);
            assert_int_equal(act[i].other, 2);
            found = true;
        }
    assert_true(found);
}

static size_t count_kind(const struct agent_rc_action *a, size_t n, enum agent_rc_kind k,
                         size_t member)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += a[i].kind == k && a[i].member == member;
    return c;
}

/* While a server of another cluster is alive in the pool, an empty server is added by neither
 * leader (it would join whichever reached it first); once the foreign one is gone, it is. */
static void empty_server_waits_while_the_pool_is_contested(void **state)
{
    (void)state;
    struct agent_rc_member m[3] = {
        {.name = "self", .addr = "1", .state = GOSSIP_STATE_ALIVE, .server = true, .same_dc = true,
         .raft_id = SELF_ID, .rpc_addr = "1:8300", .cluster_id = SELF_CLUSTER},
        {.name = "new", .addr = "2", .state = GOSSIP_STATE_ALIVE, .server = true, .same_dc = true,
         .raft_id = 5, .rpc_addr = "2:8300"},
        {.name = "stray", .addr = "3", .state = GOSSIP_STATE_ALIVE, .server = true, .same_dc = true,
         .raft_id = 6, .rpc_addr = "3:8300", .cluster_id = 0x5742a7},
    };
    struct agent_rc_peer peers[1] = {{SELF_ID, "1:8300"}};
    struct agent_rc_input in = {"self", SELF_ID, SELF_CLUSTER, m, 3, peers, 1, NULL, 0};
    struct agent_rc_action act[16];
    size_t n = agent_reconcile_plan(&in, act, 16);
    assert_int_equal(count_kind(act, n, AGENT_RC_REFUSE_CONTESTED, 1), 1);
    assert_int_equal(count_kind(act, n, AGENT_RC_REFUSE_CLUSTER, 2), 1);
    assert_int_equal(count_kind(act, n, AGENT_RC_ADD_PEER, 1), 0);
    for (size_t i = 0; i < n; i++)
        if (act[i].kind == AGENT_RC_REFUSE_CONTESTED)
            assert_int_equal(act[i].other, 2);
    m[2].state = GOSSIP_STATE_DEAD; /* stopped: it can claim nobody */
    n = agent_reconcile_plan(&in, act, 16);
    assert_int_equal(count_kind(act, n, AGENT_RC_ADD_PEER, 1), 1);
    assert_int_equal(count_kind(act, n, AGENT_RC_REFUSE_CONTESTED, 1), 0);
}

/* A leader whose log predates cluster ids (id 0) still refuses a server that names one. */
static void leader_without_an_id_refuses_servers_with_one(void **state)
{
    (void)state;
    struct agent_rc_member m[2] = {
        {.name = "self", .addr = "1", .state = GOSSIP_STATE_ALIVE, .server = true, .same_dc = true,
         .raft_id = SELF_ID, .rpc_addr = "1:8300"},
        {.name = "stray", .addr = "3", .state = GOSSIP_STATE_ALIVE, .server = true, .same_dc = true,
         .raft_id = 6, .rpc_addr = "3:8300", .cluster_id = 0x5742a7},
    };
    struct agent_rc_peer peers[1] = {{SELF_ID, "1:8300"}};
    struct agent_rc_input in = {"self", SELF_ID, 0, m, 2, peers, 1, NULL, 0};
    struct agent_rc_action act[16];
    size_t n = agent_reconcile_plan(&in, act, 16);
    assert_int_equal(count_kind(act, n, AGENT_RC_REFUSE_CLUSTER, 1), 1);
    assert_int_equal(count_kind(act, n, AGENT_RC_ADD_PEER, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_combination_follows_consul_rules),
        cmocka_unit_test(self_is_never_removed_nor_deregistered),
        cmocka_unit_test(alive_self_gets_registered),
        cmocka_unit_test(reaped_nodes_are_deregistered),
        cmocka_unit_test(output_is_bounded),
        cmocka_unit_test(bootstrap_conflict_names_the_other),
        cmocka_unit_test(empty_server_waits_while_the_pool_is_contested),
        cmocka_unit_test(leader_without_an_id_refuses_servers_with_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
