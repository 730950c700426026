/* pushpull.c — anti-entropy and join: full-state exchange over a TCP stream (on join, then
 * periodically with a random member, scaled up for large pools), the merge of a remote table into
 * ours, name-conflict refusal on join, the eager announcement of a joiner, and serf-style
 * reconnect attempts to failed members. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/core.h"

static struct gossip_member *local_states(struct gossip *g, uint32_t *n)
{
    struct gossip_member *s = malloc((g->n_nodes ? g->n_nodes : 1) * sizeof *s);
    if (!s)
        return NULL;
    uint32_t k = 0;
    for (size_t i = 0; i < g->n_nodes && k < GOSSIP_PUSH_PULL_MAX; i++)
        s[k++] = g->nodes[i]->m;
    *n = k;
    return s;
}

static int send_states(struct gossip *g, const struct gossip_addr *to, uint64_t conn, bool join, bool reply)
{
    struct gossip_msg m;
    memset(&m, 0, sizeof m);
    m.type = GOSSIP_MSG_PUSH_PULL;
    m.u.push_pull.join = join;
    m.u.push_pull.reply = reply;
    m.u.push_pull.states = local_states(g, &m.u.push_pull.n_states);
    if (!m.u.push_pull.states)
        return -1;
    return gossip_send_tcp(g, to, conn, &m, 1);
}

int gossip_push_pull_send(struct gossip *g, const struct gossip_addr *to, bool join)
{
    return send_states(g, to, 0, join, false);
}

/* A joiner that claims a name held at another address by a live member (or a failed one not yet
 * reclaimable) is refused whole: merging the rest of its table would make two clusters half-agree
 * about who that name is. A left member's name is free. */
enum { JOIN_OK, JOIN_NAME_TAKEN, JOIN_VERSION };

static int join_conflict(struct gossip *g, const struct gossip_msg_push_pull *m, char *err, size_t errlen,
                         struct gossip_member *holder, struct gossip_addr *claim)
{
    const struct gossip_tags *mine = &g->cfg.tags;
    for (uint32_t i = 0; i < m->n_states; i++) {
        const struct gossip_member *s = &m->states[i];
        if (!gossip_name_ok(s->name) || (s->state != GOSSIP_STATE_ALIVE && s->state != GOSSIP_STATE_SUSPECT))
            continue;
        /* Versions are only compared when both sides state them (proto_max 0 = unstated). */
        if (mine->proto_max && s->tags.proto_max &&
            (s->tags.proto_max < mine->proto_min || s->tags.proto_min > mine->proto_max)) {
            snprintf(err, errlen, "node \"%s\" speaks gossip protocol %u..%u, this node %u..%u", s->name,
                     s->tags.proto_min, s->tags.proto_max, mine->proto_min, mine->proto_max);
            *holder = *s;
            *claim = s->addr;
            return JOIN_VERSION;
        }
        const struct gossip_node *n = gossip_node_find(g, s->name);
        if (!n || gossip_addr_equal(&n->m.addr, &s->addr) || n->m.state == GOSSIP_STATE_LEFT)
            continue;
        bool failed = n->m.state == GOSSIP_STATE_DEAD;
        if (failed && g->cfg.dead_reclaim_ms && g->now - n->m.state_ms >= g->cfg.dead_reclaim_ms)
            continue;
        char a[48], b[48]; /* "[" + 39 + "]:" + 5 digits + NUL */
        gossip_addr_format(&n->m.addr, a, sizeof a);
        gossip_addr_format(&s->addr, b, sizeof b);
        if (failed)
            snprintf(err, errlen,
                     "node name \"%s\" is held by failed member at %s (claimed by %s); force-leave it first",
                     s->name, a, b);
        else
            snprintf(err, errlen, "node name \"%s\" is already in use by %s (claimed by %s)", s->name, a, b);
        *holder = n->m;
        *claim = s->addr;
        return JOIN_NAME_TAKEN;
    }
    return JOIN_OK;
}

#define JOIN_ANNOUNCE_MAX 4 /* members one join announces eagerly; the rest wait for gossip */

/* Members a join made alive here that were not before (new, or back from failed or left). */
struct joined {
    struct gossip_msg_alive alive[JOIN_ANNOUNCE_MAX];
    size_t n;
};

static void merge(struct gossip *g, const struct gossip_msg_push_pull *m, struct joined *j)
{
    for (uint32_t i = 0; i < m->n_states; i++) {
        const struct gossip_member *s = &m->states[i];
        if (!gossip_name_ok(s->name))
            continue;
        switch (s->state) {
        case GOSSIP_STATE_ALIVE: {
            struct gossip_msg_alive a = {.incarnation = s->incarnation, .addr = s->addr, .tags = s->tags};
            memcpy(a.node, s->name, GOSSIP_NAME_MAX);
            const struct gossip_node *n = gossip_node_find(g, s->name);
            bool was_live = n && (n->m.state == GOSSIP_STATE_ALIVE || n->m.state == GOSSIP_STATE_SUSPECT);
            gossip_on_alive(g, &a, true);
            n = gossip_node_find(g, s->name);
            if (j && !was_live && j->n < JOIN_ANNOUNCE_MAX && n && n != gossip_self(g) &&
                n->m.state == GOSSIP_STATE_ALIVE && n->m.incarnation == a.incarnation)
                j->alive[j->n++] = a;
            break;
        }
        case GOSSIP_STATE_LEFT: {
            struct gossip_msg_dead d = {.incarnation = s->incarnation};
            memcpy(d.node, s->name, GOSSIP_NAME_MAX);
            memcpy(d.from, s->name, GOSSIP_NAME_MAX);
            gossip_on_dead(g, &d);
            break;
        }
        case GOSSIP_STATE_DEAD:
        case GOSSIP_STATE_SUSPECT: {
            /* Second-hand death is only a suspicion here: the member gets its chance to refute. */
            struct gossip_msg_suspect sp = {.incarnation = s->incarnation};
            memcpy(sp.node, s->name, GOSSIP_NAME_MAX);
            snprintf(sp.from, GOSSIP_NAME_MAX, "%s", g->cfg.name);
            gossip_on_suspect(g, &sp);
            break;
        }
        default:
            break;
        }
    }
}

static bool announce_target(const struct gossip *g, const struct gossip_node *n)
{
    (void)g;
    return n->m.state == GOSSIP_STATE_ALIVE;
}

static bool just_joined(const struct joined *j, const char *name)
{
    for (size_t i = 0; i < j->n; i++)
        if (strncmp(j->alive[i].node, name, GOSSIP_NAME_MAX) == 0)
            return true;
    return false;
}

/* Beyond memberlist: the member that accepts a join tells gossip_nodes random members at once,
 * in one datagram of its own, instead of leaving the news to its next gossip round (up to a
 * gossip interval away) and to the joiner's. The broadcast queue is untouched: these sends spend
 * none of the retransmit budget, so the periodic spread is exactly what it was (spending it here
 * starved push_pull_merges_two_clusters), only started from more members. */
static void announce_joined(struct gossip *g, const struct joined *j)
{
    if (j->n == 0 || g->leaving)
        return;
    struct gossip_msg msgs[JOIN_ANNOUNCE_MAX];
    for (size_t i = 0; i < j->n; i++) {
        memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].type = GOSSIP_MSG_ALIVE;
        msgs[i].u.alive = j->alive[i];
    }
    /* Sampled with room for the joiners themselves, who are then left out: they know. */
    struct gossip_node *pick[64 + JOIN_ANNOUNCE_MAX];
    size_t k = g->cfg.gossip_nodes < 64 ? g->cfg.gossip_nodes : 64;
    size_t got = gossip_pick(g, k + j->n, announce_target, pick);
    struct gossip_addr to[64];
    size_t n = 0;
    for (size_t i = 0; i < got && n < k; i++)
        if (!just_joined(j, pick[i]->m.name))
            to[n++] = pick[i]->m.addr;
    for (size_t i = 0; i < n; i++)
        (void)gossip_send_udp_alone(g, &to[i], msgs, j->n);
}

void gossip_on_push_pull(struct gossip *g, const struct gossip_packet *p, const struct gossip_msg_push_pull *m)
{
    if (!m->reply && (p->transport != GOSSIP_TCP || p->conn == 0))
        return; /* a request we could not answer on its stream */
    if (!m->reply && m->join) {
        char err[GOSSIP_ERR_MAX];
        struct gossip_member holder;
        struct gossip_addr claim;
        int why = join_conflict(g, m, err, sizeof err, &holder, &claim);
        if (why != JOIN_OK) {
            if (why == JOIN_NAME_TAKEN)
                g->stats.conflicts++;
            gossip_emit(g, why == JOIN_NAME_TAKEN ? GOSSIP_EV_CONFLICT : GOSSIP_EV_NOTICE, &holder);
            if (g->n_events) {
                struct gossip_event *e = &g->events[g->n_events - 1];
                e->other = claim;
                memcpy(e->err, err, sizeof e->err);
            }
            struct gossip_msg r = {.type = GOSSIP_MSG_ERR};
            memcpy(r.u.err.text, err, sizeof r.u.err.text);
            gossip_send_tcp(g, &p->peer, p->conn, &r, 1);
            return;
        }
    }
    struct joined j = {.n = 0};
    merge(g, m, !m->reply && m->join ? &j : NULL);
    g->stats.push_pulls++;
    announce_joined(g, &j);
    /* Merged first, so the reply already carries our refutations of what the peer believed. */
    if (!m->reply)
        send_states(g, &p->peer, p->conn, m->join, true);
}

static bool pp_target(const struct gossip *g, const struct gossip_node *n)
{
    (void)g;
    return n->m.state == GOSSIP_STATE_ALIVE;
}

void gossip_push_pull_tick(struct gossip *g)
{
    if (g->next_push_pull_ms == GOSSIP_NOTIME || g->now < g->next_push_pull_ms)
        return;
    /* memberlist pushPullScale: one more interval per doubling above 32 members. */
    uint64_t mult = 1;
    for (size_t n = g->n_nodes; n > 32; n = (n + 1) / 2)
        mult++;
    g->next_push_pull_ms = g->now + mult * g->cfg.push_pull_interval_ms;
    if (g->leaving)
        return;
    struct gossip_node *pick;
    if (gossip_pick(g, 1, pp_target, &pick) == 1) {
        struct gossip_addr to = pick->m.addr;
        gossip_push_pull_send(g, &to, false);
    }
}

static bool failed_member(const struct gossip *g, const struct gossip_node *n)
{
    (void)g;
    return n->m.state == GOSSIP_STATE_DEAD;
}

void gossip_reconnect_tick(struct gossip *g)
{
    if (g->now < g->next_reconnect_ms)
        return;
    g->next_reconnect_ms = g->now + g->cfg.reconnect_interval_ms;
    if (g->leaving)
        return;
    size_t failed = 0, alive = 0;
    for (size_t i = 0; i < g->n_nodes; i++) {
        uint8_t s = g->nodes[i]->m.state;
        failed += s == GOSSIP_STATE_DEAD;
        alive += s == GOSSIP_STATE_ALIVE || s == GOSSIP_STATE_SUSPECT;
    }
    if (failed == 0)
        return;
    /* serf: try with probability failed/alive, so a big pool does not storm a few dead nodes. */
    if (gossip_rand_below(g, 1000000) >= (uint64_t)1000000 * failed / (alive ? alive : 1))
        return;
    struct gossip_node *pick;
    if (gossip_pick(g, 1, failed_member, &pick) == 1) {
        struct gossip_addr to = pick->m.addr;
        gossip_push_pull_send(g, &to, false);
    }
}
