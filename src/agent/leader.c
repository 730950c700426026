/* leader.c — the leader's duties: after a barrier, reconcile gossip with the catalog and the Raft
 * configuration (agent_reconcile_plan) on every member event, periodically and on election. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_impl.h"
#include "agent/reconcile.h"
#include "base/json.h"
#include "gossip/gossip.h"
#include "raft/raft.h"

#define RECONCILE_PERIOD_MS (60u * 1000u) /* Consul's ReconcileInterval */
#define RECONCILE_RETRY_MS 500u           /* a peer change waits for the previous one */
#define RECONCILE_AFTER_APPLY_MS 100u
#define QUERY_LIMIT (64u << 20)
#define MAX_ACTIONS 256

static void reconcile(struct agent *a);

static void on_timer(struct loop *l, uint64_t id, void *ctx)
{
    (void)l;
    (void)id;
    struct agent *a = ctx;
    a->reconcile_timer = 0;
    reconcile(a);
}

static void schedule(struct agent *a, uint64_t ms)
{
    if (a->reconcile_timer)
        loop_timer_cancel(a->loop, a->reconcile_timer);
    a->reconcile_timer = loop_timer_add(a->loop, ms, on_timer, a);
}

static void on_applied(void *ctx, const struct raft_node_result *res)
{
    struct agent *a = ctx;
    if (a->inflight > 0)
        a->inflight--;
    if (res->err != 0 && res->err != RAFT_NODE_ESHUTDOWN)
        log_printf(a->lg, LOG_WARN, "consul", "catalog update failed: %s",
                   raft_node_strerror(res->err));
    if (a->inflight == 0 && a->leader)
        schedule(a, RECONCILE_AFTER_APPLY_MS);
}

static void propose(struct agent *a, struct buf *cmd)
{
    int rc = raft_node_propose(a->raft, cmd->data, cmd->len, on_applied, a);
    if (rc == 0)
        a->inflight++;
    else
        log_printf(a->lg, LOG_WARN, "consul", "catalog update not proposed: %s",
                   raft_node_strerror(rc));
}

/* The catalog as the reconcile rules see it, read back from the state's own JSON. */
struct view {
    struct json_value nodes, checks, consul;
    bool have_nodes, have_checks, have_consul;
    struct agent_rc_node *v;
    size_t n;
};

static int query_json(int (*q)(const struct state *, struct buf *, uint64_t *), const struct state *st,
                      struct json_value *out)
{
    struct buf b;
    buf_init(&b, QUERY_LIMIT);
    uint64_t idx;
    int rc = q(st, &b, &idx);
    struct json_error je;
    if (rc >= 0)
        rc = json_parse((const char *)b.data, b.len, NULL, out, &je);
    buf_free(&b);
    return rc < 0 ? -1 : 0;
}

static int q_checks(const struct state *st, struct buf *b, uint64_t *idx)
{
    return state_query_health_state(st, "any", b, idx);
}

static int q_consul(const struct state *st, struct buf *b, uint64_t *idx)
{
    return state_query_catalog_service(st, "consul", NULL, b, idx);
}

static const char *jstr(const struct json_value *o, const char *key)
{
    const struct json_value *v = json_get(o, key);
    return v && v->type == JSON_STRING ? v->str : "";
}

static void view_free(struct view *vw)
{
    if (vw->have_nodes)
        json_free(&vw->nodes);
    if (vw->have_checks)
        json_free(&vw->checks);
    if (vw->have_consul)
        json_free(&vw->consul);
    free(vw->v);
}

static int view_load(struct view *vw, const struct state *st)
{
    memset(vw, 0, sizeof *vw);
    vw->have_nodes = query_json(state_query_catalog_nodes, st, &vw->nodes) == 0;
    vw->have_checks = query_json(q_checks, st, &vw->checks) == 0;
    vw->have_consul = query_json(q_consul, st, &vw->consul) == 0;
    if (!vw->have_nodes || !vw->have_checks || !vw->have_consul ||
        vw->nodes.type != JSON_ARRAY)
        return -1;
    vw->v = calloc(vw->nodes.count + 1, sizeof *vw->v);
    if (vw->v == NULL)
        return -1;
    for (size_t i = 0; i < vw->nodes.count; i++) {
        struct agent_rc_node *nd = &vw->v[vw->n++];
        nd->name = jstr(&vw->nodes.items[i], "Node");
        nd->addr = jstr(&vw->nodes.items[i], "Address");
        for (size_t k = 0; vw->checks.type == JSON_ARRAY && k < vw->checks.count; k++) {
            const struct json_value *c = &vw->checks.items[k];
            if (strcmp(jstr(c, "Node"), nd->name) != 0 || strcmp(jstr(c, "CheckID"), "serfHealth"))
                continue;
            const char *s = jstr(c, "Status");
            nd->serf = strcmp(s, "passing") == 0    ? AGENT_RC_PASSING
                       : strcmp(s, "critical") == 0 ? AGENT_RC_CRITICAL
                                                    : AGENT_RC_NONE;
        }
        for (size_t k = 0; vw->consul.type == JSON_ARRAY && k < vw->consul.count; k++)
            if (strcmp(jstr(&vw->consul.items[k], "Node"), nd->name) == 0)
                nd->consul_service = true;
    }
    return 0;
}

struct member_text {
    char ip[64];
    char rpc[80];
};

static void do_register(struct agent *a, const struct agent_rc_member *m, bool alive)
{
    struct buf cmd;
    buf_init(&cmd, 0);
    char err[STATE_ERR_LEN];
    struct state_service_def svc = {.id = "consul", .service = "consul"};
    const struct gossip_member *gm = gossip_member_find(gossip_node_core(a->gossip), m->name);
    if (gm != NULL)
        svc.port = gm->tags.rpc_port;
    struct state_check_def chk = {
        .check_id = "serfHealth",
        .name = "Serf Health Status",
        .status = alive ? STATE_PASSING : STATE_CRITICAL,
        .output = alive ? "Agent alive and reachable" : "Agent not live or unreachable",
    };
    if (state_cmd_encode_register(&cmd, m->name, m->addr, a->cfg->datacenter,
                                  m->server && alive ? &svc : NULL, &chk, err) != 0)
        log_printf(a->lg, LOG_WARN, "consul", "cannot register member '%s': %s", m->name, err);
    else
        propose(a, &cmd);
    buf_free(&cmd);
}

static void do_deregister(struct agent *a, const char *name)
{
    struct buf cmd;
    buf_init(&cmd, 0);
    char err[STATE_ERR_LEN];
    if (state_cmd_encode_deregister_node(&cmd, name, err) != 0)
        log_printf(a->lg, LOG_WARN, "consul", "cannot deregister '%s': %s", name, err);
    else
        propose(a, &cmd);
    buf_free(&cmd);
}

static void reconcile(struct agent *a)
{
    if (!a->leader || !a->barrier_done || a->raft == NULL || a->gossip == NULL)
        return;
    if (a->inflight > 0) {
        a->reconcile_again = true;
        return;
    }
    const struct gossip *g = gossip_node_core(a->gossip);
    size_t nm = gossip_member_count(g);
    struct agent_rc_member *mem = calloc(nm + 1, sizeof *mem);
    struct member_text *txt = calloc(nm + 1, sizeof *txt);
    const struct raft_config *rc = raft_node_configuration(a->raft);
    struct agent_rc_peer *peers = calloc(rc->n + 1, sizeof *peers);
    struct agent_rc_action *act = calloc(MAX_ACTIONS, sizeof *act);
    struct view vw;
    int vrc = view_load(&vw, a->st);
    if (mem == NULL || txt == NULL || peers == NULL || act == NULL || vrc != 0) {
        log_printf(a->lg, LOG_ERR, "consul", "reconcile: out of memory");
        schedule(a, RECONCILE_RETRY_MS);
        goto out;
    }
    for (size_t i = 0; i < nm; i++) {
        const struct gossip_member *gm = gossip_member_at(g, i);
        agent_gossip_ip(&gm->addr, txt[i].ip, sizeof txt[i].ip);
        snprintf(txt[i].rpc, sizeof txt[i].rpc, "%s:%u", txt[i].ip, (unsigned)gm->tags.rpc_port);
        mem[i] = (struct agent_rc_member){
            .name = gm->name,
            .addr = txt[i].ip,
            .state = gm->state,
            .server = gm->tags.role == GOSSIP_ROLE_SERVER,
            .same_dc = strcmp(gm->tags.dc, a->cfg->datacenter) == 0,
            .raft_id = gm->tags.raft_id,
            .rpc_addr = txt[i].rpc,
            .bootstrap = gm->tags.bootstrap == GOSSIP_BOOTSTRAP_SELF,
            .cluster_id = gm->tags.cluster_id,
        };
    }
    for (uint32_t i = 0; i < rc->n; i++)
        peers[i] = (struct agent_rc_peer){rc->servers[i].id, rc->servers[i].addr};
    struct agent_rc_input in = {
        .self_name = a->cfg->node_name,
        .self_id = a->raft_id,
        .self_cluster_id = raft_node_cluster_id(a->raft),
        .members = mem,
        .n_members = nm,
        .peers = peers,
        .n_peers = rc->n,
        .nodes = vw.v,
        .n_nodes = vw.n,
    };
    size_t n = agent_reconcile_plan(&in, act, MAX_ACTIONS);
    bool peer_changed = false, retry = false;
    for (size_t i = 0; i < n; i++) {
        const struct agent_rc_member *m = &mem[act[i].member];
        switch (act[i].kind) {
        case AGENT_RC_REGISTER_ALIVE:
            log_printf(a->lg, LOG_INFO, "consul", "member '%s' joined, marking health alive",
                       m->name);
            do_register(a, m, true);
            break;
        case AGENT_RC_REGISTER_FAILED:
            log_printf(a->lg, LOG_INFO, "consul", "member '%s' failed, marking health critical",
                       m->name);
            do_register(a, m, false);
            break;
        case AGENT_RC_DEREGISTER_LEFT:
            log_printf(a->lg, LOG_INFO, "consul", "member '%s' left, deregistering", m->name);
            do_deregister(a, m->name);
            break;
        case AGENT_RC_DEREGISTER_REAPED:
            log_printf(a->lg, LOG_INFO, "consul", "member '%s' reaped, deregistering",
                       vw.v[act[i].node].name);
            do_deregister(a, vw.v[act[i].node].name);
            break;
        case AGENT_RC_ADD_PEER:
        case AGENT_RC_REMOVE_PEER: {
            /* Raft takes one configuration change at a time: the rest wait for a retry. */
            if (peer_changed) {
                retry = true;
                break;
            }
            bool add = act[i].kind == AGENT_RC_ADD_PEER;
            if (!add)
                log_printf(a->lg, LOG_INFO, "consul", "server '%s' left, removing as peer",
                           m->name);
            int r = add ? raft_node_add_server(a->raft, m->raft_id, m->rpc_addr)
                        : raft_node_remove_server(a->raft, m->raft_id);
            if (r == 0) {
                peer_changed = true;
                retry = true;
            } else if (r == RAFT_EBUSY) {
                retry = true;
            } else if (r != RAFT_EEXIST && r != RAFT_ENOTFOUND) {
                log_printf(a->lg, LOG_ERR, "consul", "failed to %s peer %s: %s",
                           add ? "add" : "remove", m->rpc_addr, raft_strerror(r));
                retry = true;
            }
            break;
        }
        case AGENT_RC_REFUSE_CLUSTER:
            log_printf(a->lg, LOG_ERR, "consul",
                       "Server '%s' (%s) belongs to another Raft cluster (%016" PRIx64
                       ", ours is %016" PRIx64 "), not adding Raft peer. If it was started with "
                       "-bootstrap by mistake: stop it, delete raft/ from its data dir, restart "
                       "it without -bootstrap and join it.",
                       m->name, m->rpc_addr, m->cluster_id, raft_node_cluster_id(a->raft));
            break;
        case AGENT_RC_REFUSE_CONTESTED:
            log_printf(a->lg, LOG_ERR, "consul",
                       "Not adding Raft peer '%s': server '%s' of another Raft cluster (%016" PRIx64
                       ") is in the gossip pool and an empty server could join either; stop it "
                       "and force-leave it first.",
                       m->name, mem[act[i].other].name, mem[act[i].other].cluster_id);
            break;
        case AGENT_RC_REFUSE_BOOTSTRAP:
            log_printf(a->lg, LOG_ERR, "consul",
                       "'%s' and '%s' are both in bootstrap mode. Only one node should be in "
                       "bootstrap mode, not adding Raft peer.",
                       m->name, mem[act[i].other].name);
            break;
        }
    }
    if (a->inflight == 0)
        schedule(a, retry ? RECONCILE_RETRY_MS : RECONCILE_PERIOD_MS);
    else if (retry)
        a->reconcile_again = true;
out:
    view_free(&vw);
    free(mem);
    free(txt);
    free(peers);
    free(act);
}

static void on_barrier(void *ctx, int err, uint64_t index)
{
    (void)index;
    struct agent *a = ctx;
    if (!a->leader)
        return;
    if (err != 0) {
        if (err != RAFT_NODE_ESHUTDOWN)
            schedule(a, RECONCILE_RETRY_MS);
        return;
    }
    a->barrier_done = true;
    reconcile(a);
}

static void barrier(struct agent *a)
{
    int rc = raft_node_read_index(a->raft, on_barrier, a);
    if (rc != 0)
        schedule(a, RECONCILE_RETRY_MS);
}

static void on_start(struct loop *l, uint64_t id, void *ctx)
{
    (void)l;
    (void)id;
    struct agent *a = ctx;
    a->reconcile_timer = 0;
    if (!a->leader)
        return;
    if (!a->barrier_done)
        barrier(a);
    else
        reconcile(a);
}

void agent_leader_changed(struct agent *a, bool leader)
{
    if (leader == a->leader)
        return;
    a->leader = leader;
    a->barrier_done = false;
    log_printf(a->lg, LOG_INFO, "consul", "cluster leadership %s", leader ? "acquired" : "lost");
    if (a->reconcile_timer)
        loop_timer_cancel(a->loop, a->reconcile_timer);
    a->reconcile_timer = leader ? loop_timer_add(a->loop, 0, on_start, a) : 0;
}

void agent_leader_member_event(struct agent *a)
{
    if (!a->leader)
        return;
    if (a->inflight > 0) {
        a->reconcile_again = true;
        return;
    }
    if (a->reconcile_timer)
        loop_timer_cancel(a->loop, a->reconcile_timer);
    a->reconcile_timer = loop_timer_add(a->loop, 0, on_start, a);
}

void agent_leader_stop(struct agent *a)
{
    if (a->reconcile_timer)
        loop_timer_cancel(a->loop, a->reconcile_timer);
    a->reconcile_timer = 0;
    a->leader = false;
}
