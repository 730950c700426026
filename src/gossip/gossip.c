/* gossip.c — the SWIM membership state machine (alive/suspect/dead/left with incarnations), the
 * tick that drives every timer, the public entry points, and the ready/advance output queue.
 *
 * State diagram: this node's view of member X, whose incarnation it knows as inc; [EVENT] emitted.
 *
 *   (unknown)      --alive(i)------------------------------------------> ALIVE    [JOIN]
 *   ALIVE          --alive(i > inc), other tags or address----------------> ALIVE    [UPDATE]
 *   ALIVE          --suspect(i >= inc) (our failed probe, or gossip)-------> SUSPECT  [SUSPECT]
 *   SUSPECT        --suspect(i >= inc) from a new accuser: confirmation----> SUSPECT  (timeout shrinks)
 *   SUSPECT        --alive(i > inc): X refuted----------------------------> ALIVE
 *   SUSPECT        --suspicion timeout------------------------------------> DEAD     [FAILED]
 *   ALIVE/SUSPECT  --dead(i >= inc, from != X)----------------------------> DEAD     [FAILED]
 *   ALIVE/SUSPECT  --dead(i >= inc, from == X): X's graceful leave--------> LEFT     [LEAVE]
 *   DEAD           --dead(i >= inc, from == X): late leave or force-leave--> LEFT     [LEAVE]
 *   DEAD/LEFT      --alive(i > inc): X is back----------------------------> ALIVE    [JOIN]
 *   LEFT, or DEAD for dead_reclaim_ms --alive(any i) at a new address-----> ALIVE    [JOIN]
 *   any other state --alive at a different address------------------------> unchanged [CONFLICT]
 *   DEAD for reconnect_timeout, LEFT for tombstone_timeout----------------> removed  [REAP]
 *
 * Second-hand news in a push-pull is weakened: a remote DEAD or SUSPECT arrives as suspect(i),
 * so a member is never declared failed without its own chance to refute.
 * About itself a node never accepts suspect or dead: it refutes with a higher incarnation (and
 * counts that against its local health), unless it is leaving. Probe failure (no ack, direct,
 * indirect or TCP, by the end of the scaled protocol period) makes the prober the first accuser.
 *
 * Invariants:
 *  - the local node is always in the table; its incarnation only grows; it is alive unless leaving.
 *  - a member's incarnation never decreases while it stays at the same address.
 *  - SUSPECT <=> an active suspicion timer; no other state has one.
 *  - one pending broadcast per member; a packet handed out by ready fits in udp_max when UDP.
 *  - a membership event is emitted exactly on the transitions named by gossip.h (JOIN on entering
 *    ALIVE from nothing/DEAD/LEFT, SUSPECT on entering SUSPECT, FAILED on entering DEAD, LEAVE on
 *    entering LEFT, UPDATE on a tag or address change of an alive member, REAP on removal), never
 *    about the local node (only NOTICE and CONFLICT may name it).
 *  - the table never holds more than GOSSIP_PUSH_PULL_MAX members, each name once.
 *  - no syscalls, no clock, no hidden randomness: same seed and inputs, same outputs. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/core.h"

void gossip_config_default(struct gossip_config *c)
{
    c->probe_interval_ms = 1000;
    c->probe_timeout_ms = 500;
    c->indirect_checks = 3;
    c->gossip_interval_ms = 200;
    c->gossip_nodes = 3;
    c->gossip_to_dead_ms = 30000;
    c->retransmit_mult = 4;
    c->suspicion_mult = 4;
    c->suspicion_max_mult = 6;
    c->awareness_max = 8;
    c->push_pull_interval_ms = 30000;
    c->reconnect_interval_ms = 30000;
    c->reconnect_timeout_ms = 72ull * 3600 * 1000;
    c->tombstone_timeout_ms = 24ull * 3600 * 1000;
    c->leave_timeout_ms = 5000;
    c->dead_reclaim_ms = 0;
    c->udp_max = 1400;
    c->packet_overhead = 16;
    c->msg_size = NULL;
}

int gossip_config_check(const struct gossip_config *c, char *err, size_t errlen)
{
    const char *why = NULL;
    if (!gossip_name_ok(c->name))
        why = "node name must be 1 to 63 bytes";
    else if (c->addr.family != GOSSIP_AF_INET && c->addr.family != GOSSIP_AF_INET6)
        why = "address family must be IPv4 or IPv6";
    else if (c->addr.port == 0)
        why = "gossip port must not be 0";
    else if (!gossip_tags_ok(&c->tags))
        why = "tags need a role (client or server), a known bootstrap mode and proto_min <= proto_cur <= proto_max";
    else if (c->probe_interval_ms == 0 || c->probe_timeout_ms == 0 || c->probe_timeout_ms >= c->probe_interval_ms)
        why = "probe timeout must be positive and shorter than the probe interval";
    else if (c->gossip_interval_ms == 0 || c->gossip_nodes == 0)
        why = "gossip interval and gossip nodes must be positive";
    else if (c->retransmit_mult == 0 || c->suspicion_mult == 0 || c->suspicion_max_mult == 0)
        why = "retransmit and suspicion multipliers must be positive";
    else if (c->awareness_max == 0 || c->awareness_max > 64)
        why = "awareness max must be 1..64";
    else if (c->reconnect_interval_ms == 0)
        why = "reconnect interval must be positive";
    else if (c->udp_max < 512 || c->packet_overhead >= 256)
        why = "udp payload must be at least 512 bytes and packet overhead under 256";
    if (why && err && errlen)
        snprintf(err, errlen, "gossip config: %s", why);
    return why ? -1 : 0;
}

/* ---- output ---- */

void gossip_emit(struct gossip *g, uint8_t type, const struct gossip_member *m)
{
    if (g->n_events == g->cap_events) {
        size_t cap = g->cap_events ? g->cap_events * 2 : 16;
        struct gossip_event *e = realloc(g->events, cap * sizeof *e);
        if (!e)
            return;
        g->events = e;
        g->cap_events = cap;
    }
    struct gossip_event *e = &g->events[g->n_events++];
    memset(e, 0, sizeof *e);
    e->type = type;
    if (m)
        e->member = *m;
}

void gossip_emit_text(struct gossip *g, const char *fmt, ...)
{
    if (!g->n_events)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->events[g->n_events - 1].err, GOSSIP_ERR_MAX, fmt, ap);
    va_end(ap);
}

static struct gossip_packet *out_packet(struct gossip *g)
{
    if (g->n_out == g->cap_out) {
        size_t cap = g->cap_out ? g->cap_out * 2 : 16;
        struct gossip_packet *p = realloc(g->out, cap * sizeof *p);
        if (!p)
            return NULL;
        g->out = p;
        g->cap_out = cap;
    }
    struct gossip_packet *p = &g->out[g->n_out++];
    memset(p, 0, sizeof *p);
    return p;
}

int gossip_send_udp(struct gossip *g, const struct gossip_addr *to, const struct gossip_msg *msgs, size_t n)
{
    size_t cap = n + g->cfg.udp_max / 4 + 1; /* every message is at least 4 bytes */
    struct gossip_msg *all = malloc(cap * sizeof *all);
    if (!all)
        return -1;
    size_t used = g->cfg.packet_overhead;
    bool encodable = true;
    for (size_t i = 0; i < n; i++) {
        all[i] = msgs[i];
        size_t sz = gossip_msg_size(g, &msgs[i]);
        encodable = encodable && sz > 0;
        used += sz;
    }
    if (!encodable || used > g->cfg.udp_max) {
        free(all);
        return -1;
    }
    size_t k = gossip_bcast_take(g, all + n, cap - n, &used, g->cfg.udp_max);
    struct gossip_packet *p = n + k ? out_packet(g) : NULL;
    if (!p) {
        free(all);
        return n + k ? -1 : 0;
    }
    p->peer = *to;
    p->transport = GOSSIP_UDP;
    p->n_msgs = (uint32_t)(n + k);
    p->msgs = all;
    return 0;
}

static void free_msgs(struct gossip_msg *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (msgs[i].type == GOSSIP_MSG_PUSH_PULL)
            free(msgs[i].u.push_pull.states);
    free(msgs);
}

int gossip_send_tcp(struct gossip *g, const struct gossip_addr *to, uint64_t conn, struct gossip_msg *msgs, size_t n)
{
    struct gossip_msg *copy = malloc(n * sizeof *copy);
    struct gossip_packet *p = copy ? out_packet(g) : NULL;
    if (!p) {
        free(copy);
        for (size_t i = 0; i < n; i++)
            if (msgs[i].type == GOSSIP_MSG_PUSH_PULL)
                free(msgs[i].u.push_pull.states);
        return -1;
    }
    memcpy(copy, msgs, n * sizeof *copy);
    p->peer = *to;
    p->transport = GOSSIP_TCP;
    p->conn = conn;
    p->n_msgs = (uint32_t)n;
    p->msgs = copy;
    return 0;
}

bool gossip_ready(struct gossip *g, struct gossip_ready *rd)
{
    rd->packets = g->out;
    rd->n_packets = g->n_out;
    rd->events = g->events;
    rd->n_events = g->n_events;
    rd->leave_done = g->leave_done;
    return g->n_out || g->n_events || (g->leave_done && !g->leave_reported);
}

void gossip_advance(struct gossip *g)
{
    for (size_t i = 0; i < g->n_out; i++)
        free_msgs(g->out[i].msgs, g->out[i].n_msgs);
    g->n_out = 0;
    g->n_events = 0;
    if (g->leave_done)
        g->leave_reported = true;
}

/* ---- the state machine ---- */

static void self_alive_msg(struct gossip *g, struct gossip_msg *m)
{
    const struct gossip_node *me = gossip_self(g);
    memset(m, 0, sizeof *m);
    m->type = GOSSIP_MSG_ALIVE;
    m->u.alive.incarnation = me->m.incarnation;
    memcpy(m->u.alive.node, me->m.name, GOSSIP_NAME_MAX);
    m->u.alive.addr = me->m.addr;
    m->u.alive.tags = me->m.tags;
}

/* Someone says we are suspect or dead (or holds stale news about us): outbid them. what and from
 * only feed the log line, in memberlist's words. */
static void refute(struct gossip *g, uint64_t accused_inc, const char *what, const char *from)
{
    struct gossip_node *me = gossip_self(g);
    uint64_t inc = me->m.incarnation + 1;
    if (accused_inc >= inc)
        inc = accused_inc + 1;
    me->m.incarnation = inc;
    g->stats.refutes++;
    gossip_health_apply(g, 1); /* Lifeguard: being accused hints that we are the slow one */
    gossip_emit(g, GOSSIP_EV_NOTICE, &me->m);
    if (from)
        gossip_emit_text(g, "Refuting %s message (from: %s)", what, from);
    else
        gossip_emit_text(g, "Refuting %s message", what);
    struct gossip_msg m;
    self_alive_msg(g, &m);
    gossip_bcast_queue(g, g->cfg.name, &m, false);
}

static void conflict(struct gossip *g, const struct gossip_member *holder, const struct gossip_addr *claim)
{
    char a[64], b[64];
    gossip_addr_format(&holder->addr, a, sizeof a);
    gossip_addr_format(claim, b, sizeof b);
    g->stats.conflicts++;
    gossip_emit(g, GOSSIP_EV_CONFLICT, holder);
    if (g->n_events) {
        struct gossip_event *e = &g->events[g->n_events - 1];
        e->other = *claim;
        snprintf(e->err, sizeof e->err, "node name \"%s\" is already in use by %s; refused claim from %s",
                 holder->name, a, b);
    }
}

void gossip_on_alive(struct gossip *g, const struct gossip_msg_alive *a, bool from_merge)
{
    (void)from_merge;
    if (!gossip_name_ok(a->node) || a->incarnation == 0 || !gossip_addr_ok(&a->addr) || !gossip_tags_ok(&a->tags))
        return;
    if (strncmp(a->node, g->cfg.name, GOSSIP_NAME_MAX) == 0) {
        struct gossip_node *me = gossip_self(g);
        if (g->leaving)
            return;
        if (!gossip_addr_equal(&me->m.addr, &a->addr)) {
            conflict(g, &me->m, &a->addr);
            return;
        }
        if (a->incarnation < me->m.incarnation ||
            (a->incarnation == me->m.incarnation && gossip_tags_equal(&a->tags, &me->m.tags)))
            return; /* our own news coming back */
        refute(g, a->incarnation, "an alive", NULL);
        return;
    }
    struct gossip_node *n = gossip_node_find(g, a->node);
    bool is_new = false, moved = false;
    if (!n) {
        /* Bounded: a flood of invented names must not grow the table past what one push-pull
         * can carry. Reaping makes room again. */
        if (g->n_nodes >= GOSSIP_PUSH_PULL_MAX)
            return;
        n = gossip_node_add(g, a->node);
        if (!n)
            return;
        n->m.state = GOSSIP_STATE_DEAD; /* placeholder: becomes alive below */
        n->m.addr = a->addr;
        is_new = true;
    } else if (!gossip_addr_equal(&n->m.addr, &a->addr)) {
        bool reclaim = n->m.state == GOSSIP_STATE_LEFT ||
                       (n->m.state == GOSSIP_STATE_DEAD && g->cfg.dead_reclaim_ms &&
                        g->now - n->m.state_ms >= g->cfg.dead_reclaim_ms);
        if (!reclaim) {
            conflict(g, &n->m, &a->addr);
            return;
        }
        moved = true; /* a new process under a released name: its incarnation restarts */
    }
    if (a->incarnation <= n->m.incarnation && !moved)
        return;
    uint8_t old = n->m.state;
    bool changed = !gossip_tags_equal(&n->m.tags, &a->tags) || !gossip_addr_equal(&n->m.addr, &a->addr);
    gossip_suspicion_stop(n);
    struct gossip_msg m = {.type = GOSSIP_MSG_ALIVE};
    m.u.alive = *a;
    n->m.incarnation = a->incarnation;
    n->m.addr = a->addr;
    n->m.tags = a->tags;
    if (old != GOSSIP_STATE_ALIVE)
        n->m.state = GOSSIP_STATE_ALIVE;
    if (old == GOSSIP_STATE_DEAD && !is_new && g->now - n->m.state_ms < GOSSIP_FLAP_MS)
        g->stats.flaps++;
    if (old != GOSSIP_STATE_ALIVE)
        n->m.state_ms = g->now;
    if (is_new || old == GOSSIP_STATE_DEAD || old == GOSSIP_STATE_LEFT)
        gossip_emit(g, GOSSIP_EV_JOIN, &n->m);
    else if (changed)
        gossip_emit(g, GOSSIP_EV_UPDATE, &n->m);
    gossip_bcast_queue(g, a->node, &m, false); /* last: the queue may reorder nothing of ours */
}

void gossip_on_suspect(struct gossip *g, const struct gossip_msg_suspect *s)
{
    if (!gossip_name_ok(s->node) || !gossip_name_ok(s->from))
        return;
    struct gossip_node *n = gossip_node_find(g, s->node);
    if (!n || s->incarnation < n->m.incarnation)
        return;
    struct gossip_msg m = {.type = GOSSIP_MSG_SUSPECT};
    m.u.suspect = *s;
    if (n->m.state == GOSSIP_STATE_SUSPECT) {
        if (gossip_suspicion_confirm(g, n, s->from))
            gossip_bcast_queue(g, s->node, &m, false); /* spread the confirmation too */
        return;
    }
    if (n->m.state != GOSSIP_STATE_ALIVE)
        return;
    if (strncmp(s->node, g->cfg.name, GOSSIP_NAME_MAX) == 0) {
        refute(g, s->incarnation, "a suspect", s->from);
        return;
    }
    n->m.incarnation = s->incarnation;
    n->m.state = GOSSIP_STATE_SUSPECT;
    n->m.state_ms = g->now;
    gossip_suspicion_start(g, n, s->from);
    g->stats.suspects++;
    gossip_emit(g, GOSSIP_EV_SUSPECT, &n->m);
    if (strncmp(s->from, g->cfg.name, GOSSIP_NAME_MAX) == 0)
        gossip_emit_text(g, "Suspect %s has failed, no acks received", n->m.name);
    else
        gossip_emit_text(g, "Suspect %s reported by %s", n->m.name, s->from);
    gossip_bcast_queue(g, s->node, &m, false);
}

void gossip_on_dead(struct gossip *g, const struct gossip_msg_dead *d)
{
    if (!gossip_name_ok(d->node) || !gossip_name_ok(d->from))
        return;
    struct gossip_node *n = gossip_node_find(g, d->node);
    if (!n || d->incarnation < n->m.incarnation)
        return;
    bool leave = strncmp(d->node, d->from, GOSSIP_NAME_MAX) == 0;
    bool self = strncmp(d->node, g->cfg.name, GOSSIP_NAME_MAX) == 0;
    struct gossip_msg m = {.type = GOSSIP_MSG_DEAD};
    m.u.dead = *d;
    if (n->m.state == GOSSIP_STATE_DEAD && leave && !self) {
        /* A failed member's leave arrived late, or an operator forced it out. */
        n->m.incarnation = d->incarnation;
        n->m.state = GOSSIP_STATE_LEFT;
        n->m.state_ms = g->now;
        gossip_emit(g, GOSSIP_EV_LEAVE, &n->m);
        gossip_bcast_queue(g, d->node, &m, false);
        return;
    }
    if (n->m.state == GOSSIP_STATE_DEAD || n->m.state == GOSSIP_STATE_LEFT)
        return;
    gossip_suspicion_stop(n);
    if (self && !g->leaving) {
        refute(g, d->incarnation, "a dead", d->from);
        return;
    }
    n->m.incarnation = d->incarnation;
    n->m.state = leave ? GOSSIP_STATE_LEFT : GOSSIP_STATE_DEAD;
    n->m.state_ms = g->now;
    if (!self) {
        uint32_t confirmations = n->susp.n;
        if (!leave)
            g->stats.failures++;
        gossip_emit(g, leave ? GOSSIP_EV_LEAVE : GOSSIP_EV_FAILED, &n->m);
        if (leave)
            gossip_emit_text(g, "%s left", n->m.name);
        else if (strncmp(d->from, g->cfg.name, GOSSIP_NAME_MAX) == 0)
            gossip_emit_text(g, "Marking %s as failed, suspect timeout reached (%u peer confirmations)", n->m.name,
                             confirmations);
        else
            gossip_emit_text(g, "%s declared failed by %s", n->m.name, d->from);
    }
    gossip_bcast_queue(g, d->node, &m, self);
}

/* ---- lifecycle ---- */

struct gossip *gossip_new(const struct gossip_config *c, uint64_t now_ms)
{
    if (gossip_config_check(c, NULL, 0) != 0)
        return NULL;
    struct gossip *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->cfg = *c;
    g->now = now_ms;
    g->rng = c->seed;
    struct gossip_node *me = gossip_node_add(g, c->name);
    if (!me) {
        gossip_nodes_free(g);
        free(g);
        return NULL;
    }
    me->m.addr = c->addr;
    me->m.tags = c->tags;
    me->m.incarnation = 1;
    me->m.state = GOSSIP_STATE_ALIVE;
    me->m.state_ms = now_ms;
    struct gossip_msg m;
    self_alive_msg(g, &m);
    gossip_bcast_queue(g, c->name, &m, false);
    /* Staggered starts, as memberlist does, so a fleet started together does not pulse. */
    g->next_probe_ms = now_ms + gossip_rand_below(g, c->probe_interval_ms);
    g->next_gossip_ms = now_ms + gossip_rand_below(g, c->gossip_interval_ms);
    g->next_push_pull_ms =
        c->push_pull_interval_ms ? now_ms + gossip_rand_below(g, c->push_pull_interval_ms) : GOSSIP_NOTIME;
    g->next_reconnect_ms = now_ms + c->reconnect_interval_ms;
    g->next_reap_ms = now_ms + 1000;
    g->leave_deadline_ms = GOSSIP_NOTIME;
    return g;
}

void gossip_free(struct gossip *g)
{
    if (!g)
        return;
    gossip_advance(g);
    free(g->out);
    free(g->events);
    free(g->bcasts);
    gossip_nodes_free(g);
    free(g);
}

uint64_t gossip_incarnation(const struct gossip *g)
{
    for (size_t i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i]->m.name, g->cfg.name) == 0)
            return g->nodes[i]->m.incarnation;
    return 0;
}

void gossip_stats(const struct gossip *g, struct gossip_stats *st)
{
    *st = g->stats;
    st->members = (uint32_t)g->n_nodes;
    st->alive = st->suspect = st->failed = st->left = 0;
    for (size_t i = 0; i < g->n_nodes; i++) {
        switch (g->nodes[i]->m.state) {
        case GOSSIP_STATE_ALIVE:
            st->alive++;
            break;
        case GOSSIP_STATE_SUSPECT:
            st->suspect++;
            break;
        case GOSSIP_STATE_DEAD:
            st->failed++;
            break;
        default:
            st->left++;
        }
    }
    st->health_score = g->health;
    st->incarnation = gossip_incarnation(g);
    st->queue_depth = (uint32_t)g->n_bcasts;
}

uint64_t gossip_member_count_live(const struct gossip *g)
{
    uint64_t c = 0;
    for (size_t i = 0; i < g->n_nodes; i++) {
        uint8_t s = g->nodes[i]->m.state;
        if ((s == GOSSIP_STATE_ALIVE || s == GOSSIP_STATE_SUSPECT) && strcmp(g->nodes[i]->m.name, g->cfg.name) != 0)
            c++;
    }
    return c;
}

/* ---- timers ---- */

static bool gossip_target(const struct gossip *g, const struct gossip_node *n)
{
    if (n->m.state == GOSSIP_STATE_ALIVE || n->m.state == GOSSIP_STATE_SUSPECT)
        return true;
    /* The recently dead still hear gossip: it lets a wrongly accused node learn and refute. */
    return g->now - n->m.state_ms < g->cfg.gossip_to_dead_ms;
}

static void gossip_round(struct gossip *g)
{
    if (g->now < g->next_gossip_ms)
        return;
    g->next_gossip_ms += g->cfg.gossip_interval_ms;
    if (g->next_gossip_ms <= g->now)
        g->next_gossip_ms = g->now + g->cfg.gossip_interval_ms;
    if (g->n_bcasts == 0)
        return;
    struct gossip_node *pick[64];
    size_t k = g->cfg.gossip_nodes < 64 ? g->cfg.gossip_nodes : 64;
    size_t n = gossip_pick(g, k, gossip_target, pick);
    struct gossip_addr to[64];
    for (size_t i = 0; i < n; i++)
        to[i] = pick[i]->m.addr;
    for (size_t i = 0; i < n && g->n_bcasts; i++)
        gossip_send_udp(g, &to[i], NULL, 0);
}

static void suspicion_tick(struct gossip *g)
{
    for (size_t i = 0; i < g->n_nodes; i++) {
        struct gossip_node *n = g->nodes[i];
        if (n->m.state != GOSSIP_STATE_SUSPECT || !n->susp.active || n->susp.deadline_ms > g->now)
            continue;
        struct gossip_msg_dead d = {.incarnation = n->m.incarnation};
        memcpy(d.node, n->m.name, GOSSIP_NAME_MAX);
        snprintf(d.from, sizeof d.from, "%s", g->cfg.name);
        gossip_on_dead(g, &d); /* changes state in place: the table does not change shape */
    }
}

static void reap_tick(struct gossip *g)
{
    if (g->now < g->next_reap_ms)
        return;
    g->next_reap_ms = g->now + 1000;
    for (size_t i = 0; i < g->n_nodes;) {
        const struct gossip_member *m = &g->nodes[i]->m;
        uint64_t age = g->now - m->state_ms;
        bool reap = (m->state == GOSSIP_STATE_DEAD && age >= g->cfg.reconnect_timeout_ms) ||
                    (m->state == GOSSIP_STATE_LEFT && age >= g->cfg.tombstone_timeout_ms);
        if (reap && strcmp(m->name, g->cfg.name) != 0) {
            gossip_emit(g, GOSSIP_EV_REAP, m);
            gossip_node_remove(g, i);
        } else {
            i++;
        }
    }
}

static void leave_tick(struct gossip *g)
{
    if (!g->leaving || g->leave_done)
        return;
    if (g->now >= g->leave_deadline_ms || gossip_member_count_live(g) == 0)
        g->leave_done = true;
}

void gossip_tick(struct gossip *g, uint64_t now_ms)
{
    if (now_ms > g->now)
        g->now = now_ms;
    gossip_probe_tick(g);
    suspicion_tick(g);
    gossip_round(g);
    gossip_push_pull_tick(g);
    gossip_reconnect_tick(g);
    reap_tick(g);
    leave_tick(g);
}

static uint64_t min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t gossip_next_deadline(const struct gossip *g)
{
    uint64_t t = gossip_probe_deadline(g);
    for (size_t i = 0; i < g->n_nodes; i++)
        if (g->nodes[i]->m.state == GOSSIP_STATE_SUSPECT && g->nodes[i]->susp.active)
            t = min64(t, g->nodes[i]->susp.deadline_ms);
    t = min64(t, g->next_gossip_ms);
    t = min64(t, g->next_push_pull_ms);
    t = min64(t, g->next_reconnect_ms);
    t = min64(t, g->next_reap_ms);
    if (g->leaving && !g->leave_done)
        t = min64(t, g->leave_deadline_ms);
    return t;
}

/* ---- inputs ---- */

int gossip_recv(struct gossip *g, const struct gossip_packet *p)
{
    int ignored = 0;
    if (!p || (p->n_msgs && !p->msgs))
        return p ? (int)p->n_msgs : 0;
    for (uint32_t i = 0; i < p->n_msgs; i++) {
        const struct gossip_msg *m = &p->msgs[i];
        switch (m->type) {
        case GOSSIP_MSG_PING:
            if (!memchr(m->u.ping.node, 0, GOSSIP_NAME_MAX) || !memchr(m->u.ping.source, 0, GOSSIP_NAME_MAX))
                ignored++;
            else
                gossip_on_ping(g, p, &m->u.ping);
            break;
        case GOSSIP_MSG_PING_REQ:
            if (!gossip_name_ok(m->u.ping_req.node) || !memchr(m->u.ping_req.source, 0, GOSSIP_NAME_MAX) ||
                !gossip_addr_ok(&m->u.ping_req.addr) || m->u.ping_req.addr.port == 0)
                ignored++;
            else
                gossip_on_ping_req(g, p, &m->u.ping_req);
            break;
        case GOSSIP_MSG_ACK:
            gossip_on_ack(g, m->u.ack.seq, p->transport == GOSSIP_TCP);
            break;
        case GOSSIP_MSG_NACK:
            gossip_on_nack(g, m->u.nack.seq);
            break;
        case GOSSIP_MSG_SUSPECT:
            if (!gossip_name_ok(m->u.suspect.node) || !gossip_name_ok(m->u.suspect.from))
                ignored++;
            else
                gossip_on_suspect(g, &m->u.suspect);
            break;
        case GOSSIP_MSG_ALIVE:
            if (!gossip_name_ok(m->u.alive.node))
                ignored++;
            else
                gossip_on_alive(g, &m->u.alive, false);
            break;
        case GOSSIP_MSG_DEAD:
            if (!gossip_name_ok(m->u.dead.node) || !gossip_name_ok(m->u.dead.from))
                ignored++;
            else
                gossip_on_dead(g, &m->u.dead);
            break;
        case GOSSIP_MSG_PUSH_PULL:
            if (m->u.push_pull.n_states > GOSSIP_PUSH_PULL_MAX || (m->u.push_pull.n_states && !m->u.push_pull.states))
                ignored++;
            else
                gossip_on_push_pull(g, p, &m->u.push_pull);
            break;
        case GOSSIP_MSG_ERR: {
            gossip_emit(g, GOSSIP_EV_JOIN_ERR, NULL);
            if (g->n_events) {
                struct gossip_event *e = &g->events[g->n_events - 1];
                snprintf(e->err, sizeof e->err, "join refused: %.*s", (int)strnlen(m->u.err.text, GOSSIP_ERR_MAX),
                         m->u.err.text);
                e->other = p->peer;
            }
            break;
        }
        default:
            ignored++;
        }
    }
    return ignored;
}

int gossip_join(struct gossip *g, const struct gossip_addr *addrs, size_t n)
{
    if (g->leaving || n == 0 || !addrs)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (gossip_push_pull_send(g, &addrs[i], true) != 0)
            return -1;
    return 0;
}

int gossip_leave(struct gossip *g)
{
    if (g->leaving)
        return -1;
    g->leaving = true;
    struct gossip_node *me = gossip_self(g);
    struct gossip_msg_dead d = {.incarnation = me->m.incarnation + 1};
    memcpy(d.node, g->cfg.name, GOSSIP_NAME_MAX);
    memcpy(d.from, g->cfg.name, GOSSIP_NAME_MAX);
    gossip_on_dead(g, &d);
    g->leave_deadline_ms = g->now + g->cfg.leave_timeout_ms;
    g->probe.active = false;
    leave_tick(g);
    return 0;
}

int gossip_set_tags(struct gossip *g, const struct gossip_tags *tags)
{
    if (g->leaving || !gossip_tags_ok(tags))
        return -1;
    struct gossip_node *me = gossip_self(g);
    me->m.tags = *tags;
    me->m.incarnation++;
    g->cfg.tags = *tags;
    struct gossip_msg m;
    self_alive_msg(g, &m);
    gossip_bcast_queue(g, g->cfg.name, &m, false);
    return 0;
}

int gossip_force_leave(struct gossip *g, const char *name)
{
    struct gossip_node *n = gossip_node_find(g, name);
    if (!n || n->m.state != GOSSIP_STATE_DEAD)
        return -1;
    struct gossip_msg_dead d = {.incarnation = n->m.incarnation};
    memcpy(d.node, n->m.name, GOSSIP_NAME_MAX);
    memcpy(d.from, n->m.name, GOSSIP_NAME_MAX);
    gossip_on_dead(g, &d);
    return 0;
}
