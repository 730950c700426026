/* server.c — the server half of an agent: the replicated state machine behind a Raft node on the
 * server port, leadership notices, and the "New leader elected" watch on every server. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent_impl.h"
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

/* Consul spreads the new leader's name as a user event; here every server watches its own Raft
 * node and names the leader from the gossip tags once it can (the name may lag the election by a
 * gossip round on a server that just joined). */
static void poll(struct loop *l, uint64_t id, void *ctx)
{
    (void)id;
    struct agent *a = ctx;
    a->poll_timer = loop_timer_add(l, SERVER_POLL_MS, poll, a);
    raft_id leader = raft_node_leader_id(a->raft);
    if (leader == 0 || leader == a->seen_leader || (leader == a->raft_id && !a->leader))
        return; /* ours is announced after "cluster leadership acquired", as Consul orders it */
    const char *name = agent_server_name(a, leader);
    if (name == NULL)
        return;
    a->seen_leader = leader;
    log_printf(a->lg, LOG_INFO, "consul", "New leader elected: %s", name);
}

int agent_server_open(struct agent *a, char *err, size_t errlen)
{
    const struct agent_config *c = a->cfg;
    a->st = state_create();
    if (a->st == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
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
        state_destroy(a->st);
        a->st = NULL;
        return -1;
    }
    a->poll_timer = loop_timer_add(a->loop, SERVER_POLL_MS, poll, a);
    return 0;
}

void agent_server_close(struct agent *a)
{
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
