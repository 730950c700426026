/* state.c — the SWIM membership state machine: what alive, suspect and dead news (from gossip, a
 * push-pull merge or our own probes and timers) does to a member, refutation, name conflicts.
 *
 * State diagram: this node's view of member X, whose incarnation it knows as inc; [EVENT] emitted.
 *
 *   (unknown)      --alive(i)------------------------------------------> ALIVE    [JOIN]
 *   ALIVE          --alive(i > inc), other tags or address----------------> ALIVE    [UPDATE]
 *   ALIVE          --suspect(i >= inc) (our failed probe, or gossip)-------> SUSPECT  [SUSPECT]
 *   SUSPECT        --suspect(i >= inc) from a new accuser: confirmation----> SUSPECT  (timeout shrinks)
 *   SUSPECT        --one probe interval before the timeout: asks X itself--> SUSPECT  (sent once)
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
 * A refutation must reach every holder of the suspicion before that holder's timer runs out, and
 * gossip alone reaches only most: each member hears about retransmit_mult*ceil(log10(N+1)) copies,
 * so about e^-8 of the members of a 10..99 node pool hear none. Lifeguard's buddy system carries
 * the suspicion to the suspect on every probe of it; here each holder also sends it to the suspect
 * once, one probe interval before its own timeout. The suspect answers a suspicion naming an
 * accuser with its alive, straight to that accuser; a suspect or dead older than its refutation
 * also gives the refutation a fresh retransmit budget, since someone plainly missed it.
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
#include <stdio.h>
#include <string.h>

#include "gossip/core.h"

void gossip_self_alive_msg(struct gossip *g, struct gossip_msg *m)
{
    const struct gossip_node *me = gossip_self(g);
    memset(m, 0, sizeof *m);
    m->type = GOSSIP_MSG_ALIVE;
    m->u.alive.incarnation = me->m.incarnation;
    memcpy(m->u.alive.node, me->m.name, GOSSIP_NAME_MAX);
    m->u.alive.addr = me->m.addr;
    m->u.alive.tags = me->m.tags;
}

/* Sends our current alive straight to an accuser. Broadcast alone is not enough: an accuser that
 * misses every gossiped copy of a refutation goes on to declare us dead (sim_gossip -seed 410). */
static void tell_accuser(struct gossip *g, const char *from)
{
    if (from == NULL || g->leaving)
        return;
    const struct gossip_node *acc = gossip_node_find(g, from);
    if (acc == NULL || acc == gossip_self(g))
        return;
    struct gossip_msg m;
    gossip_self_alive_msg(g, &m);
    (void)gossip_send_udp_alone(g, &acc->m.addr, &m, 1);
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
    gossip_self_alive_msg(g, &m);
    gossip_bcast_queue(g, g->cfg.name, &m, false);
    tell_accuser(g, from);
}

/* News about us older than our refutation is still travelling: someone has not heard it yet. Answer
 * its author directly and give the refutation a fresh retransmit budget, so it keeps spreading for
 * as long as the stale belief does (memberlist only re-broadcasts on a current accusation, and
 * lets its budget run out while members that missed every copy still count down). */
static void stale_news_about_us(struct gossip *g, const char *from)
{
    if (g->leaving)
        return;
    struct gossip_msg m;
    gossip_self_alive_msg(g, &m);
    gossip_bcast_queue(g, g->cfg.name, &m, false);
    if (strncmp(from, g->cfg.name, GOSSIP_NAME_MAX) != 0)
        tell_accuser(g, from);
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
    if (n != NULL && n == gossip_self(g) && s->incarnation < n->m.incarnation) {
        /* Already refuted, but this accuser has not heard: the buddy system's suspicion
         * piggybacked on a probe, or sent before a suspicion timer runs out, is such a message. */
        stale_news_about_us(g, s->from);
        return;
    }
    if (!n || s->incarnation < n->m.incarnation)
        return;
    struct gossip_msg m = {.type = GOSSIP_MSG_SUSPECT};
    m.u.suspect = *s;
    if (n->m.state == GOSSIP_STATE_SUSPECT && s->incarnation > n->m.incarnation) {
        /* The member refuted our suspicion (we missed that) and is accused again. The old timer's
         * start and confirmations belong to an accusation already answered: counting this one as
         * a confirmation of it can pull its deadline into the past and kill a live member at
         * once, without the ask (sim_gossip -seed 14675). A fresh suspicion starts. */
        n->m.incarnation = s->incarnation;
        n->m.state_ms = g->now;
        gossip_suspicion_start(g, n, s->from);
        gossip_bcast_queue(g, s->node, &m, false);
        return;
    }
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
    if (n != NULL && n == gossip_self(g) && d->incarnation < n->m.incarnation) {
        /* Declared dead at an incarnation we already refuted: the declarer missed the refutation
         * and holds us failed until it hears better; tell it now rather than at its next
         * push-pull. */
        stale_news_about_us(g, d->from);
        return;
    }
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
