/* probe.c — SWIM failure detection: a randomized round-robin probe each period, ping-req through
 * k members plus a TCP fallback ping when the direct ack is late (or refused), suspicion when
 * nothing answers by the period's end; and the helper side of ping-req, with Lifeguard nacks. */
#include <stdio.h>
#include <string.h>

#include "gossip/core.h"

static bool probe_next_target(struct gossip *g, size_t *out)
{
    /* memberlist probe(): walk the shuffled array, skipping self and the dead; reshuffle on wrap. */
    for (size_t checked = 0; checked <= g->n_nodes;) {
        if (g->probe_index >= g->n_nodes) {
            gossip_nodes_shuffle(g);
            g->probe_index = 0;
            checked++;
            continue;
        }
        size_t i = g->probe_index++;
        const struct gossip_member *m = &g->nodes[i]->m;
        if (strcmp(m->name, g->cfg.name) == 0 || m->state == GOSSIP_STATE_DEAD || m->state == GOSSIP_STATE_LEFT) {
            checked++;
            continue;
        }
        *out = i;
        return true;
    }
    return false;
}

static void probe_start(struct gossip *g)
{
    size_t i;
    /* memberlist's reading of Lifeguard: the cadence stays one probe interval and the direct
     * ack timeout stays as configured; a poor health score only lengthens the wait of a probe
     * that gets no ack (its indirect phase), and a probe that runs long delays the next one. */
    g->next_probe_ms = g->now + g->cfg.probe_interval_ms;
    if (!probe_next_target(g, &i))
        return;
    const struct gossip_member *t = &g->nodes[i]->m;
    struct gossip_probe *p = &g->probe;
    memset(p, 0, sizeof *p);
    p->active = true;
    p->seq = ++g->seq;
    memcpy(p->target, t->name, GOSSIP_NAME_MAX);
    p->start_ms = g->now;
    p->timeout_ms = g->now + g->cfg.probe_timeout_ms;
    p->end_ms = g->now + gossip_health_scale(g, g->cfg.probe_interval_ms);
    g->stats.probes++;

    struct gossip_msg m[2];
    memset(m, 0, sizeof m);
    m[0].type = GOSSIP_MSG_PING;
    m[0].u.ping.seq = p->seq;
    memcpy(m[0].u.ping.node, t->name, GOSSIP_NAME_MAX);
    snprintf(m[0].u.ping.source, GOSSIP_NAME_MAX, "%s", g->cfg.name);
    size_t n = 1;
    if (t->state == GOSSIP_STATE_SUSPECT) {
        /* Tell the suspect directly: it gets its chance to refute even if gossip misses it. */
        m[1].type = GOSSIP_MSG_SUSPECT;
        m[1].u.suspect.incarnation = t->incarnation;
        memcpy(m[1].u.suspect.node, t->name, GOSSIP_NAME_MAX);
        snprintf(m[1].u.suspect.from, GOSSIP_NAME_MAX, "%s", g->cfg.name);
        n = 2;
    }
    struct gossip_addr to = t->addr;
    gossip_send_udp(g, &to, m, n);
}

static bool indirect_helper(const struct gossip *g, const struct gossip_node *n)
{
    return n->m.state == GOSSIP_STATE_ALIVE && strncmp(n->m.name, g->probe.target, GOSSIP_NAME_MAX) != 0;
}

static void probe_indirect(struct gossip *g)
{
    struct gossip_probe *p = &g->probe;
    p->indirect_sent = true;
    g->stats.probes_indirect++;
    const struct gossip_node *t = gossip_node_find(g, p->target);
    if (!t)
        return;
    struct gossip_addr target_addr = t->m.addr;
    struct gossip_node *helpers[GOSSIP_HELPERS_MAX];
    size_t k = g->cfg.indirect_checks < GOSSIP_HELPERS_MAX ? g->cfg.indirect_checks : GOSSIP_HELPERS_MAX;
    size_t n = gossip_pick(g, k, indirect_helper, helpers);
    struct gossip_addr to[GOSSIP_HELPERS_MAX];
    for (size_t i = 0; i < n; i++)
        to[i] = helpers[i]->m.addr;
    struct gossip_msg m;
    memset(&m, 0, sizeof m);
    m.type = GOSSIP_MSG_PING_REQ;
    m.u.ping_req.seq = p->seq;
    memcpy(m.u.ping_req.node, p->target, GOSSIP_NAME_MAX);
    m.u.ping_req.addr = target_addr;
    m.u.ping_req.nack = true;
    snprintf(m.u.ping_req.source, GOSSIP_NAME_MAX, "%s", g->cfg.name);
    for (size_t i = 0; i < n; i++)
        if (gossip_send_udp(g, &to[i], &m, 1) == 0) {
            p->helper[p->n_helpers++] = to[i];
            p->helpers_asked++;
        }
    /* Woken late (a stalled process): the helpers still get a full timeout to answer, or a slow
     * node would accuse a healthy one the moment it resumes. */
    uint64_t least = g->now + gossip_health_scale(g, g->cfg.probe_timeout_ms);
    if (p->end_ms < least)
        p->end_ms = least;

    /* The TCP fallback tells "UDP is blocked" apart from "the node is down". */
    struct gossip_msg ping;
    memset(&ping, 0, sizeof ping);
    ping.type = GOSSIP_MSG_PING;
    ping.u.ping.seq = p->seq;
    memcpy(ping.u.ping.node, p->target, GOSSIP_NAME_MAX);
    snprintf(ping.u.ping.source, GOSSIP_NAME_MAX, "%s", g->cfg.name);
    gossip_send_tcp(g, &target_addr, 0, &ping, 1);
}

static void probe_fail(struct gossip *g)
{
    struct gossip_probe *p = &g->probe;
    p->active = false;
    g->stats.probes_failed++;
    /* Lifeguard: helpers that answered with nacks are alive and were reachable, so the fault is
     * probably the target's; missing nacks (or no helpers at all) point at ourselves. */
    int delta = 1;
    if (p->helpers_asked > 0) /* a refused helper's host answered us: only missing nacks count */
        delta = p->nacks < p->n_helpers ? (int)(p->n_helpers - p->nacks) : 0;
    gossip_health_apply(g, delta);
    const struct gossip_node *t = gossip_node_find(g, p->target);
    if (!t)
        return;
    struct gossip_msg_suspect s = {.incarnation = t->m.incarnation};
    memcpy(s.node, t->m.name, GOSSIP_NAME_MAX);
    snprintf(s.from, GOSSIP_NAME_MAX, "%s", g->cfg.name);
    gossip_on_suspect(g, &s);
}

/* A probe whose every check has answered "unreachable" (direct ping and TCP fallback refused
 * by the target's host, each helper's nack in) has nothing left to wait for: SWIM's period
 * exists to give an answer time to arrive, and none can. Without a refusal the nacks land near
 * the period's end anyway, so this changes nothing for a silent (powered-off, partitioned) node. */
static void probe_settle(struct gossip *g)
{
    struct gossip_probe *p = &g->probe;
    if (p->active && p->indirect_sent && p->udp_refused && p->tcp_refused && p->nacks >= p->n_helpers) {
        g->stats.probes_refused++;
        probe_fail(g);
    }
}

static void relay_tick(struct gossip *g)
{
    for (size_t i = 0; i < g->n_relays;) {
        struct gossip_relay *r = &g->relays[i];
        if (r->deadline_ms > g->now) {
            i++;
            continue;
        }
        if (r->want_nack) {
            struct gossip_msg m = {.type = GOSSIP_MSG_NACK};
            m.u.nack.seq = r->orig_seq;
            struct gossip_addr to = r->origin;
            g->relays[i] = g->relays[--g->n_relays];
            gossip_send_udp(g, &to, &m, 1);
        } else {
            g->relays[i] = g->relays[--g->n_relays];
        }
    }
}

void gossip_probe_tick(struct gossip *g)
{
    relay_tick(g);
    struct gossip_probe *p = &g->probe;
    if (p->active && !p->indirect_sent && g->now >= p->timeout_ms)
        probe_indirect(g);
    if (p->active && g->now >= p->end_ms)
        probe_fail(g);
    if (!p->active && !g->leaving && g->now >= g->next_probe_ms)
        probe_start(g);
}

uint64_t gossip_probe_deadline(const struct gossip *g)
{
    uint64_t t = GOSSIP_NOTIME;
    const struct gossip_probe *p = &g->probe;
    /* While a probe runs the next one waits for it to end (its end may lie past next_probe_ms
     * after a stall), so only the running probe's own deadline counts. */
    if (p->active)
        t = p->indirect_sent ? p->end_ms : p->timeout_ms;
    else if (!g->leaving)
        t = g->next_probe_ms;
    for (size_t i = 0; i < g->n_relays; i++)
        if (g->relays[i].deadline_ms < t)
            t = g->relays[i].deadline_ms;
    return t;
}

void gossip_on_ping(struct gossip *g, const struct gossip_packet *p, const struct gossip_msg_ping *m)
{
    /* A ping meant for a previous owner of this address must not vouch for it. */
    if (m->node[0] && strncmp(m->node, g->cfg.name, GOSSIP_NAME_MAX) != 0)
        return;
    struct gossip_msg ack = {.type = GOSSIP_MSG_ACK};
    ack.u.ack.seq = m->seq;
    if (p->transport == GOSSIP_TCP)
        gossip_send_tcp(g, &p->peer, p->conn, &ack, 1);
    else
        gossip_send_udp(g, &p->peer, &ack, 1);
}

void gossip_on_ping_req(struct gossip *g, const struct gossip_packet *p, const struct gossip_msg_ping_req *m)
{
    if (g->n_relays == GOSSIP_RELAY_MAX) {
        /* Saturated: forget the oldest request; its requester will simply count a missing nack. */
        memmove(&g->relays[0], &g->relays[1], (GOSSIP_RELAY_MAX - 1) * sizeof g->relays[0]);
        g->n_relays--;
    }
    struct gossip_relay *r = &g->relays[g->n_relays++];
    r->seq = ++g->seq;
    r->orig_seq = m->seq;
    r->origin = p->peer;
    r->want_nack = m->nack;
    r->target = m->addr;
    r->deadline_ms = g->now + g->cfg.probe_timeout_ms;
    struct gossip_msg ping;
    memset(&ping, 0, sizeof ping);
    ping.type = GOSSIP_MSG_PING;
    ping.u.ping.seq = r->seq;
    memcpy(ping.u.ping.node, m->node, GOSSIP_NAME_MAX);
    snprintf(ping.u.ping.source, GOSSIP_NAME_MAX, "%s", g->cfg.name);
    gossip_send_udp(g, &m->addr, &ping, 1);
}

void gossip_on_ack(struct gossip *g, uint32_t seq, bool via_tcp)
{
    struct gossip_probe *p = &g->probe;
    if (p->active && seq == p->seq) {
        p->active = false;
        if (!p->indirect_sent)
            gossip_health_apply(g, -1); /* a timely direct ack: we are keeping up */
        const struct gossip_node *t = via_tcp ? gossip_node_find(g, p->target) : NULL;
        if (t) {
            g->stats.tcp_fallback_ok++;
            gossip_emit(g, GOSSIP_EV_NOTICE, &t->m);
            gossip_emit_text(g, "Was able to connect to %s over TCP but UDP probes failed, network may be misconfigured",
                             t->m.name);
        }
        return;
    }
    for (size_t i = 0; i < g->n_relays; i++) {
        if (g->relays[i].seq != seq)
            continue;
        struct gossip_msg ack = {.type = GOSSIP_MSG_ACK};
        ack.u.ack.seq = g->relays[i].orig_seq;
        struct gossip_addr to = g->relays[i].origin;
        g->relays[i] = g->relays[--g->n_relays];
        gossip_send_udp(g, &to, &ack, 1);
        return;
    }
}

void gossip_on_nack(struct gossip *g, uint32_t seq)
{
    struct gossip_probe *p = &g->probe;
    if (p->active && seq == p->seq && p->nacks < p->n_helpers) {
        p->nacks++;
        probe_settle(g);
    }
}

void gossip_refused(struct gossip *g, const struct gossip_addr *addr, uint8_t via)
{
    if (!addr || !gossip_addr_ok(addr) || (via != GOSSIP_UDP && via != GOSSIP_TCP))
        return;
    struct gossip_probe *p = &g->probe;
    const struct gossip_node *t = p->active ? gossip_node_find(g, p->target) : NULL;
    if (t && gossip_addr_equal(&t->m.addr, addr)) {
        g->stats.refusals++;
        if (via == GOSSIP_TCP) {
            p->tcp_refused = true;
        } else {
            p->udp_refused = true;
            /* The direct ack cannot come: ask the helpers now. Their nacks keep Lifeguard's
             * reading of whose fault a silent probe is. */
            if (!p->indirect_sent)
                probe_indirect(g);
        }
        probe_settle(g);
    }
    if (via != GOSSIP_UDP)
        return; /* helpers are asked and relay over UDP only */
    /* A helper we asked is gone too: its nack will never come, and its missing nack is not our
     * fault, which Lifeguard would otherwise count against our health. */
    for (uint32_t i = 0; p->active && i < p->n_helpers; i++) {
        if (!gossip_addr_equal(&p->helper[i], addr))
            continue;
        g->stats.refusals++;
        p->helper[i] = p->helper[--p->n_helpers];
        probe_settle(g);
        break;
    }
    for (size_t i = 0; i < g->n_relays;) {
        struct gossip_relay *r = &g->relays[i];
        if (!gossip_addr_equal(&r->target, addr)) {
            i++;
            continue;
        }
        g->stats.refusals++;
        struct gossip_relay done = *r;
        g->relays[i] = g->relays[--g->n_relays];
        if (done.want_nack) {
            struct gossip_msg m = {.type = GOSSIP_MSG_NACK};
            m.u.nack.seq = done.orig_seq;
            gossip_send_udp(g, &done.origin, &m, 1);
        }
    }
}
