/* reconcile.c — the leader's reconcile rules (which registrations and peer changes bring the
 * catalog and the Raft configuration in line with gossip), pure so they can be tested whole. */
#include "agent/reconcile.h"

#include <string.h>

#include "gossip/msg.h"

static const struct agent_rc_node *find_node(const struct agent_rc_input *in, const char *name,
                                             size_t *idx)
{
    for (size_t i = 0; i < in->n_nodes; i++)
        if (strcmp(in->nodes[i].name, name) == 0) {
            *idx = i;
            return &in->nodes[i];
        }
    return NULL;
}

static bool in_config(const struct agent_rc_input *in, raft_id id)
{
    for (size_t i = 0; i < in->n_peers; i++)
        if (in->peers[i].id == id)
            return true;
    return false;
}

static bool is_member(const struct agent_rc_input *in, const char *name)
{
    for (size_t i = 0; i < in->n_members; i++)
        if (strcmp(in->members[i].name, name) == 0)
            return true;
    return false;
}

struct plan {
    struct agent_rc_action *out;
    size_t max, n;
};

static void emit(struct plan *p, enum agent_rc_kind kind, size_t member, size_t node,
                 size_t other)
{
    if (p->n < p->max)
        p->out[p->n] = (struct agent_rc_action){kind, member, node, other};
    p->n++;
}

/* Consul refuses to add a bootstrap server while another server is also in bootstrap mode: two
 * servers that each elected themselves alone have diverged logs, and merging them loses data. */
static bool other_bootstrap(const struct agent_rc_input *in, size_t mi, size_t *other)
{
    for (size_t j = 0; j < in->n_members; j++) {
        const struct agent_rc_member *o = &in->members[j];
        if (j != mi && o->server && o->bootstrap && strcmp(o->name, in->members[mi].name) != 0) {
            *other = j;
            return true;
        }
    }
    return false;
}

static bool foreign(const struct agent_rc_input *in, const struct agent_rc_member *m)
{
    return m->cluster_id != 0 && m->cluster_id != in->self_cluster_id;
}

/* An alive server of our datacenter whose log belongs to another Raft cluster: while one is in
 * the pool, an empty server would join whichever leader reaches it first. */
static bool contested(const struct agent_rc_input *in, size_t *other)
{
    for (size_t j = 0; j < in->n_members; j++) {
        const struct agent_rc_member *o = &in->members[j];
        if (o->server && o->same_dc && foreign(in, o) &&
            (o->state == GOSSIP_STATE_ALIVE || o->state == GOSSIP_STATE_SUSPECT)) {
            *other = j;
            return true;
        }
    }
    return false;
}

static void member_plan(const struct agent_rc_input *in, size_t i, struct plan *p)
{
    const struct agent_rc_member *m = &in->members[i];
    size_t ni = 0;
    const struct agent_rc_node *node = find_node(in, m->name, &ni);
    bool self = strcmp(m->name, in->self_name) == 0;
    switch (m->state) {
    case GOSSIP_STATE_ALIVE:
    case GOSSIP_STATE_SUSPECT: {
        if (m->server && m->same_dc && m->raft_id != 0 && !in_config(in, m->raft_id) && !self) {
            size_t other = 0;
            if (m->bootstrap && other_bootstrap(in, i, &other))
                emit(p, AGENT_RC_REFUSE_BOOTSTRAP, i, 0, other); /* Consul's line first */
            else if (foreign(in, m))
                emit(p, AGENT_RC_REFUSE_CLUSTER, i, 0, 0);
            else if (m->cluster_id == 0 && contested(in, &other))
                emit(p, AGENT_RC_REFUSE_CONTESTED, i, 0, other);
            else
                emit(p, AGENT_RC_ADD_PEER, i, 0, 0);
        }
        bool ok = node != NULL && strcmp(node->addr, m->addr) == 0 &&
                  node->serf == AGENT_RC_PASSING && (!m->server || node->consul_service);
        if (!ok)
            emit(p, AGENT_RC_REGISTER_ALIVE, i, 0, 0);
        break;
    }
    case GOSSIP_STATE_DEAD:
        if (node == NULL || node->serf != AGENT_RC_CRITICAL)
            emit(p, AGENT_RC_REGISTER_FAILED, i, 0, 0);
        break;
    case GOSSIP_STATE_LEFT:
        if (self)
            break; /* we are leaving ourselves: the next leader deregisters us */
        if (node != NULL)
            emit(p, AGENT_RC_DEREGISTER_LEFT, i, ni, 0);
        if (m->server && m->raft_id != 0 && in_config(in, m->raft_id) && m->raft_id != in->self_id)
            emit(p, AGENT_RC_REMOVE_PEER, i, 0, 0);
        break;
    default:
        break;
    }
}

size_t agent_reconcile_plan(const struct agent_rc_input *in, struct agent_rc_action *out,
                            size_t max)
{
    struct plan p = {out, max, 0};
    for (size_t i = 0; i < in->n_members; i++)
        member_plan(in, i, &p);
    for (size_t k = 0; k < in->n_nodes; k++) {
        const struct agent_rc_node *nd = &in->nodes[k];
        /* Only nodes the leader registered from gossip (they carry serfHealth) are reaped:
         * external services registered through the catalog API have no gossip member. */
        if (nd->serf != AGENT_RC_NONE && strcmp(nd->name, in->self_name) != 0 &&
            !is_member(in, nd->name))
            emit(&p, AGENT_RC_DEREGISTER_REAPED, 0, k, 0);
    }
    return p.n < max ? p.n : max;
}
