/* server.c — the server half of an agent: the replicated state machine behind a Raft node on the
 * server port, leadership notices, and the "New leader elected" watch on every server. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent_impl.h"
#include "agent/rpc_fwd.h"
#include "gossip/gossip.h"

#define SERVER_POLL_MS 100

static int64_t fsm_apply(void *ctx, uint64_t index, const uint8_t *data, size_t len)
{
    struct agent *a = ctx;
    struct state_result res;
    enum state_err e = state_apply(a->st, index, data, len, &res);
    if (e == STATE_ENOMEM) {
        /* Skipping an entry would fork this server's state from the others: stop instead. */
        log_printf(a->lg, LOG_ERR, "consul", "out of memory applying index %" PRIu64
                   ", shutting down", index);
        loop_stop(a->loop);
        return -1;
    }
    if (e != STATE_OK)
        log_printf(a->lg, LOG_WARN, "consul", "refused command at index %" PRIu64 ": %s", index,
                   res.msg);
    return e != STATE_OK ? -1 : res.value ? 1 : 0;
}

static int fsm_snapshot(void *ctx, struct buf *out)
{
    struct agent *a = ctx;
    return state_snapshot(a->st, out);
}

static int fsm_restore(void *ctx, const uint8_t *data, size_t len)
{
    struct agent *a = ctx;
    char err[STATE_ERR_LEN];
    if (state_restore(a->st, data, len, err) != 0) {
        log_printf(a->lg, LOG_ERR, "consul", "failed to restore snapshot: %s", err);
        return -1;
    }
    return 0;
}

static void fsm_on_leader(void *ctx, bool leader)
{
    struct agent *a = ctx;
    agent_leader_changed(a, leader);
}

static void fsm_fatal(void *ctx, const char *msg)
{
    struct agent *a = ctx;
    log_printf(a->lg, LOG_ERR, "consul", "raft failed, shutting down: %s", msg);
    a->exit_code = 1;
    loop_stop(a->loop);
}

const char *agent_server_name(const struct agent *a, raft_id id)
{
    if (a->gossip == NULL || id == 0)
        return NULL;
    const struct gossip *g = gossip_node_core(a->gossip);
    for (size_t i = 0; i < gossip_member_count(g); i++) {
        const struct gossip_member *m = gossip_member_at(g, i);
        if (m->tags.role == GOSSIP_ROLE_SERVER && m->tags.raft_id == id)
            return m->name;
    }
    return NULL;
}

/* A server's tags carry the Raft cluster its log belongs to, so that a leader can tell a server
 * of another cluster (refused) from an empty one (added); the id appears at bootstrap or when
 * the first leader contacts us. */
static void sync_cluster_tag(struct agent *a)
{
    if (a->raft == NULL || a->gossip == NULL ||
        raft_node_cluster_id(a->raft) == a->tagged_cluster_id)
        return;
    struct gossip_tags t;
    agent_gossip_tags(a, &t);
    if (gossip_node_set_tags(a->gossip, &t) == 0)
        a->tagged_cluster_id = t.cluster_id;
}

/* Consul spreads the new leader's name as a user event; here every server watches its own Raft
 * node and names the leader from the gossip tags once it can (the name may lag the election by a
 * gossip round on a server that just joined). */
static void poll(struct loop *l, uint64_t id, void *ctx)
{
    (void)id;
    struct agent *a = ctx;
    a->poll_timer = loop_timer_add(l, SERVER_POLL_MS, poll, a);
    if (a->raft == NULL) /* between close and reopen for bootstrap-expect */
        return;
    sync_cluster_tag(a);
    raft_id leader = raft_node_leader_id(a->raft);
    if (leader == 0 || leader == a->seen_leader || (leader == a->raft_id && !a->leader))
        return; /* ours is announced after "cluster leadership acquired", as Consul orders it */
    const char *name = agent_server_name(a, leader);
    if (name == NULL)
        return;
    a->seen_leader = leader;
    log_printf(a->lg, LOG_INFO, "consul", "New leader elected: %s", name);
}

static int open_raft(struct agent *a, char *err, size_t errlen);

#define EXPECT_REOPEN_MS 50
#define EXPECT_REOPEN_TRIES 100 /* 5 s for the old listener to go */

static void expect_reopen(struct loop *l, uint64_t id, void *ctx)
{
    (void)id;
    struct agent *a = ctx;
    a->expect_timer = 0;
    char err[512];
    if (open_raft(a, err, sizeof err) == 0)
        return;
    if (++a->expect_tries < EXPECT_REOPEN_TRIES && strstr(err, "in use") != NULL) {
        a->expect_timer = loop_timer_add(l, EXPECT_REOPEN_MS, expect_reopen, a);
        return;
    }
    log_printf(a->lg, LOG_ERR, "consul", "bootstrap-expect failed: %s", err);
    a->exit_code = 1;
    loop_stop(l);
}

/* Consul's bootstrap-expect: every expecting server waits for the same set of servers and then
 * starts from the same configuration, so their logs begin identical and they elect a leader
 * among themselves. The configuration enters as peers.json, which the node applies at open. */
static void expect_bootstrap(struct loop *l, uint64_t id, void *ctx)
{
    (void)l;
    (void)id;
    struct agent *a = ctx;
    a->expect_timer = 0;
    if (a->expect_done || a->raft == NULL || a->leaving)
        return;
    struct raft_node_stats rs;
    raft_node_stats(a->raft, &rs);
    /* A leader already contacted us (we adopted its cluster id): we belong to its cluster,
     * which will send us its log; bootstrapping another one now would split us from it. */
    if (rs.last_log_index != 0 || raft_node_configuration(a->raft)->n != 0 ||
        raft_node_cluster_id(a->raft) != 0) {
        a->expect_done = true; /* already part of a cluster: never bootstrap again */
        return;
    }
    const struct gossip *g = gossip_node_core(a->gossip);
    size_t n = gossip_member_count(g), found = 0;
    int expect = a->cfg->bootstrap_expect;
    char json[8192], addrs[2048];
    size_t jl = 0, al = 0;
    jl += (size_t)snprintf(json, sizeof json, "[");
    /* In Raft id order: every server must write byte-identical first entries. */
    uint64_t prev = 0;
    for (;;) {
        const struct gossip_member *m = NULL;
        for (size_t i = 0; i < n; i++) {
            const struct gossip_member *c = gossip_member_at(g, i);
            if (c->tags.raft_id > prev && (m == NULL || c->tags.raft_id < m->tags.raft_id))
                m = c;
        }
        if (m == NULL)
            break;
        prev = m->tags.raft_id;
        if (m->tags.role != GOSSIP_ROLE_SERVER || strcmp(m->tags.dc, a->cfg->datacenter) != 0 ||
            m->state != GOSSIP_STATE_ALIVE || m->tags.raft_id == 0)
            continue;
        if (m->tags.bootstrap == GOSSIP_BOOTSTRAP_SELF) {
            log_printf(a->lg, LOG_ERR, "consul", "Member %s has bootstrap mode. Expect disabled.",
                       m->name);
            a->expect_done = true;
            return;
        }
        /* A server with a cluster id already has a log: the cluster exists and its leader
         * adds us; bootstrapping our own would only split us from it. */
        if (m->tags.cluster_id != 0) {
            log_printf(a->lg, LOG_INFO, "consul",
                       "Existing Raft peers reported by %s, disabling bootstrap mode", m->name);
            a->expect_done = true;
            return;
        }
        if (m->tags.bootstrap != GOSSIP_BOOTSTRAP_EXPECT || m->tags.expect != expect) {
            log_printf(a->lg, LOG_ERR, "consul",
                       "Member %s has a conflicting expect value. All nodes should expect the "
                       "same number.", m->name);
            return;
        }
        char ip[64];
        agent_gossip_ip(&m->addr, ip, sizeof ip);
        if (jl < sizeof json)
            jl += (size_t)snprintf(json + jl, sizeof json - jl,
                                   "%s{\"id\": \"%" PRIu64 "\", \"address\": \"%s:%u\"}",
                                   found ? ", " : "", m->tags.raft_id, ip,
                                   (unsigned)m->tags.rpc_port);
        if (al < sizeof addrs)
            al += (size_t)snprintf(addrs + al, sizeof addrs - al, "%s%s:%u", found ? " " : "",
                                   ip, (unsigned)m->tags.rpc_port);
        found++;
    }
    if (found < (size_t)expect)
        return;
    if (jl + 3 >= sizeof json || al >= sizeof addrs) {
        log_printf(a->lg, LOG_ERR, "consul", "bootstrap-expect: too many servers to list");
        a->expect_done = true;
        return;
    }
    snprintf(json + jl, sizeof json - jl, "]\n");
    log_printf(a->lg, LOG_INFO, "consul", "Attempting bootstrap with nodes: [%s]", addrs);
    a->expect_done = true;
    char dir[AGENT_PATH_MAX + 8], path[AGENT_PATH_MAX + 32], err[512];
    snprintf(dir, sizeof dir, "%s/raft", a->dd.path);
    snprintf(path, sizeof path, "%s/raft/peers.json", a->dd.path);
    raft_node_close(a->raft);
    a->raft = NULL;
    if (agent_write_atomic(dir, path, json, err, sizeof err) != 0) {
        log_printf(a->lg, LOG_ERR, "consul", "bootstrap-expect failed: %s", err);
        a->exit_code = 1;
        loop_stop(a->loop);
        return;
    }
    /* The closed listener is released by the loop after this pass: reopen from a timer. */
    a->expect_tries = 0;
    a->expect_timer = loop_timer_add(a->loop, EXPECT_REOPEN_MS, expect_reopen, a);
}

void agent_server_expect_check(struct agent *a)
{
    if (a->raft == NULL || a->cfg->bootstrap_expect <= 0 || a->expect_done || a->expect_timer)
        return;
    a->expect_timer = loop_timer_add(a->loop, 0, expect_bootstrap, a);
}

int agent_server_open(struct agent *a, char *err, size_t errlen)
{
    a->st = state_create();
    if (a->st == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (open_raft(a, err, errlen) != 0) {
        state_destroy(a->st);
        a->st = NULL;
        return -1;
    }
    sync_cluster_tag(a);
    a->poll_timer = loop_timer_add(a->loop, SERVER_POLL_MS, poll, a);
    agent_server_expect_check(a);
    return 0;
}

static int open_raft(struct agent *a, char *err, size_t errlen)
{
    const struct agent_config *c = a->cfg;
    char adv[AGENT_ADDR_MAX + 16], bind[AGENT_ADDR_MAX + 16];
    snprintf(adv, sizeof adv, "%s:%d", c->advertise_addr, c->ports.server);
    snprintf(bind, sizeof bind, "%s:%d", c->bind_addr, c->ports.server);
    struct raft_node_opts o;
    raft_node_opts_default(&o);
    o.data_dir = a->dd.path;
    o.id = a->raft_id;
    o.advertise = adv;
    o.bind = bind;
    o.cluster = c->datacenter;
    o.bootstrap = c->bootstrap;
    struct raft_transport_rpc rpc; /* forwarded HTTP API requests share the Raft port */
    agent_rpc_hook(a, &rpc);
    o.rpc = &rpc;
    const struct raft_node_fsm fsm = {
        .ctx = a,
        .apply = fsm_apply,
        .snapshot = fsm_snapshot,
        .restore = fsm_restore,
        .on_leader = fsm_on_leader,
        .fatal = fsm_fatal,
    };
    if (raft_node_open(a->loop, &o, &fsm, a->lg, &a->raft, err, errlen) != 0) {
        a->raft = NULL;
        return -1;
    }
    return 0;
}

void agent_server_close(struct agent *a)
{
    if (a->expect_timer)
        loop_timer_cancel(a->loop, a->expect_timer);
    a->expect_timer = 0;
    if (a->poll_timer)
        loop_timer_cancel(a->loop, a->poll_timer);
    a->poll_timer = 0;
    agent_leader_stop(a);
    if (a->raft)
        raft_node_close(a->raft);
    a->raft = NULL;
    if (a->st)
        state_destroy(a->st);
    a->st = NULL;
}
