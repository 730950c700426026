/* lib_gossipsim_cluster.c — drives N gossip cores over the simulated network as the agent's glue
 * would (encode, carry, decode, deliver, wake at the deadline), recording protocol violations. */
#include "sim/lib_gossipsim_cluster.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A stream id names its initiator, so a reply finds its way back without a table. */
#define STREAM_ID(seq, node) ((seq) * GOSSIPSIM_MAX_NODES + (uint64_t)(node))
#define STREAM_INITIATOR(id) ((int)((id) % GOSSIPSIM_MAX_NODES))

static const char *const msgNames[] = {"?", "ping", "ping-req", "ack", "nack", "suspect",
                                       "alive", "dead", "push-pull", "err"};

static const char *msgName(uint8_t t)
{
    return t < sizeof msgNames / sizeof msgNames[0] ? msgNames[t] : "?";
}

/* " suspect(node3@2 by node1)": what a trace needs to follow a member's fate. */
static size_t describe(char *out, size_t len, const struct gossip_msg *m)
{
    int k;
    switch (m->type) {
    case GOSSIP_MSG_SUSPECT:
        k = snprintf(out, len, " suspect(%s@%llu by %s)", m->u.suspect.node,
                     (unsigned long long)m->u.suspect.incarnation, m->u.suspect.from);
        break;
    case GOSSIP_MSG_DEAD:
        k = snprintf(out, len, " dead(%s@%llu by %s)", m->u.dead.node,
                     (unsigned long long)m->u.dead.incarnation, m->u.dead.from);
        break;
    case GOSSIP_MSG_ALIVE:
        k = snprintf(out, len, " alive(%s@%llu)", m->u.alive.node,
                     (unsigned long long)m->u.alive.incarnation);
        break;
    case GOSSIP_MSG_PING:
        k = snprintf(out, len, " ping(%s #%u)", m->u.ping.node, m->u.ping.seq);
        break;
    case GOSSIP_MSG_PING_REQ:
        k = snprintf(out, len, " ping-req(%s #%u)", m->u.ping_req.node, m->u.ping_req.seq);
        break;
    case GOSSIP_MSG_ACK:
        k = snprintf(out, len, " ack(#%u)", m->u.ack.seq);
        break;
    case GOSSIP_MSG_NACK:
        k = snprintf(out, len, " nack(#%u)", m->u.nack.seq);
        break;
    case GOSSIP_MSG_PUSH_PULL:
        k = snprintf(out, len, " push-pull(%u states%s%s)", m->u.push_pull.n_states,
                     m->u.push_pull.join ? ", join" : "", m->u.push_pull.reply ? ", reply" : "");
        break;
    default:
        k = snprintf(out, len, " %s", msgName(m->type));
        break;
    }
    return k < 0 ? 0 : (size_t)k >= len ? len - 1 : (size_t)k;
}

void gossipsim_failf(struct gossipsim_cluster *c, const char *fmt, ...)
{
    if (c->failed)
        return;
    c->failed = true;
    int k = snprintf(c->why, sizeof c->why, "t=%llums: ", (unsigned long long)c->w.now);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why + k, sizeof c->why - (size_t)k, fmt, ap);
    va_end(ap);
    gossipsim_tracef(&c->w, "FAIL %s", c->why);
}

void gossipsim_name(int i, char out[GOSSIP_NAME_MAX])
{
    snprintf(out, GOSSIP_NAME_MAX, "node%d", i);
}

struct gossip_addr gossipsim_addr(int i)
{
    struct gossip_addr a;
    memset(&a, 0, sizeof a);
    a.family = GOSSIP_AF_INET;
    a.ip[0] = 10;
    a.ip[2] = (uint8_t)((i + 1) >> 8);
    a.ip[3] = (uint8_t)(i + 1);
    a.port = GOSSIPSIM_PORT;
    return a;
}

int gossipsim_index_of_name(const struct gossipsim_cluster *c, const char *name)
{
    if (strncmp(name, "node", 4) != 0 || name[4] < '0' || name[4] > '9')
        return -1;
    char *end;
    long v = strtol(name + 4, &end, 10);
    if (*end != '\0' || v < 0 || v >= c->n)
        return -1;
    return (int)v;
}

int gossipsim_index_of_addr(const struct gossipsim_cluster *c, const struct gossip_addr *a)
{
    if (a->family != GOSSIP_AF_INET || a->ip[0] != 10 || a->ip[1] != 0 || a->port != GOSSIPSIM_PORT)
        return -1;
    int i = (a->ip[2] << 8 | a->ip[3]) - 1;
    return i >= 0 && i < c->n ? i : -1;
}

int gossipsim_cluster_init(struct gossipsim_cluster *c, int n, uint64_t seed, bool trace)
{
    memset(c, 0, sizeof *c);
    if (n < 1 || n > GOSSIPSIM_MAX_NODES || gossipsim_world_init(&c->w, n, seed) != 0)
        return -1;
    c->w.trace = trace;
    c->n = n;
    c->seed = seed;
    gossip_config_default(&c->base);
    c->base.msg_size = gossip_wire_msg_size;
    c->base.packet_overhead = GOSSIP_WIRE_DGRAM_HDR;
    c->base.udp_max = GOSSIP_WIRE_UDP_MAX;
    c->node = calloc((size_t)n, sizeof *c->node);
    c->armed = malloc((size_t)n * sizeof *c->armed);
    c->deaths_about = calloc((size_t)n, sizeof *c->deaths_about);
    c->watch = calloc((size_t)n, sizeof *c->watch);
    c->ticking = -1;
    if (c->node == NULL || c->armed == NULL || c->deaths_about == NULL || c->watch == NULL) {
        gossipsim_cluster_free(c);
        return -1;
    }
    for (int i = 0; i < n; i++)
        c->armed[i] = UINT64_MAX;
    buf_init(&c->enc, GOSSIP_WIRE_STREAM_HDR + (size_t)GOSSIP_WIRE_STREAM_MAX);
    return 0;
}

void gossipsim_cluster_free(struct gossipsim_cluster *c)
{
    if (c->node != NULL)
        for (int i = 0; i < c->n; i++)
            gossip_free(c->node[i].g);
    free(c->node);
    free(c->armed);
    free(c->deaths_about);
    free(c->watch);
    c->deaths_about = NULL;
    c->watch = NULL;
    buf_free(&c->enc);
    gossipsim_world_free(&c->w);
    c->node = NULL;
    c->armed = NULL;
}

bool gossipsim_running(const struct gossipsim_cluster *c, int i)
{
    return c->node[i].g != NULL;
}

uint8_t gossipsim_view(const struct gossipsim_cluster *c, int i, int j)
{
    if (c->node[i].g == NULL)
        return 0;
    char name[GOSSIP_NAME_MAX];
    gossipsim_name(j, name);
    const struct gossip_member *m = gossip_member_find(c->node[i].g, name);
    return m ? m->state : 0;
}

/* Wakes node i at its core's next deadline unless an earlier wake-up is already queued. A stale
 * later timer is recognised on arrival by its arg no longer matching armed[i]. */
static void arm(struct gossipsim_cluster *c, int i)
{
    struct gossip *g = c->node[i].g;
    if (g == NULL)
        return;
    uint64_t d = gossip_next_deadline(g);
    if (d == UINT64_MAX)
        return;
    if (d <= c->w.now)
        d = c->w.now + 1;
    if (d < c->armed[i]) {
        c->armed[i] = d;
        if (gossipsim_timer(&c->w, i, d, d) != 0)
            gossipsim_failf(c, "out of memory queueing a timer");
    }
}

static void stopNode(struct gossipsim_cluster *c, int i)
{
    gossip_free(c->node[i].g);
    c->node[i].g = NULL;
    c->w.node[i].down = true;
    c->armed[i] = UINT64_MAX;
}

/* The world refuses datagrams to a live node at its refuse_permille; a connect is refused here at
 * the same rate, but only one that carries a probe's TCP fallback ping: that is where a refusal
 * can end a probe early. A refused push-pull would only delay anti-entropy, which the scenarios'
 * convergence bounds do not allow for. */
static bool refuseConnect(struct gossipsim_cluster *c, int to, const struct gossip_packet *p)
{
    const struct gossipsim_node_net *n = &c->w.node[to];
    if (n->refuse_permille == 0 || n->down || n->stalled_until > c->w.now)
        return false;
    for (uint32_t m = 0; m < p->n_msgs; m++)
        if (p->msgs[m].type != GOSSIP_MSG_PING)
            return false;
    return gossipsim_rng_chance(&c->w.rng, n->refuse_permille);
}

static void sendPacket(struct gossipsim_cluster *c, int i, const struct gossip_packet *p)
{
    buf_clear(&c->enc);
    int rc = gossip_wire_encode(p, &c->enc);
    if (rc != GOSSIP_WIRE_OK) {
        gossipsim_failf(c, "node%d emitted a packet the wire refuses: %s (%u msgs, first %s, %s)", i,
                        gossip_wire_strerror(rc), p->n_msgs,
                        p->n_msgs ? msgName(p->msgs[0].type) : "-",
                        p->transport == GOSSIP_TCP ? "tcp" : "udp");
        return;
    }
    bool tcp = p->transport == GOSSIP_TCP;
    if (!tcp && c->enc.len > c->base.udp_max) {
        gossipsim_failf(c, "node%d packed a %zu-byte datagram over udp_max %u", i, c->enc.len,
                        c->base.udp_max);
        return;
    }
    int to;
    uint64_t id = 0;
    if (tcp && p->conn != 0) {
        id = p->conn;
        to = STREAM_INITIATOR(id);
    } else {
        to = gossipsim_index_of_addr(c, &p->peer);
        if (tcp)
            id = STREAM_ID(++c->stream_seq, i);
    }
    if (to < 0 || to >= c->n) {
        gossipsim_tracef(&c->w, "node%d -> unknown address: dropped", i);
        return;
    }
    if (to == i) {
        if (tcp && p->conn != 0)
            gossipsim_failf(c, "node%d wrote on stream %llu after its reply had arrived (closed)", i,
                            (unsigned long long)p->conn);
        else
            gossipsim_failf(c, "node%d sent a %s packet to itself", i, tcp ? "tcp" : "udp");
        return;
    }
    uint8_t tag = 0;
    if (!tcp && gossipsim_rng_chance(&c->w.rng, c->corrupt_permille)) {
        size_t bit = gossipsim_rng_below(&c->w.rng, (uint32_t)(c->enc.len * 8));
        c->enc.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        tag = 1;
        c->corrupted++;
    }
    bool refused = tcp && p->conn == 0 && refuseConnect(c, to, p);
    if (c->w.trace) {
        char what[600];
        size_t k = 0;
        what[0] = '\0';
        for (uint32_t m = 0; m < p->n_msgs && k + 40 < sizeof what; m++)
            k += describe(what + k, sizeof what - k, &p->msgs[m]);
        gossipsim_tracef(&c->w, "node%d -> node%d %s%s%s %zuB%s", i, to, tcp ? "tcp" : "udp",
                         tag ? " CORRUPTED" : "", refused ? " CONNECT-REFUSED" : "", c->enc.len, what);
    }
    if (c->refused_probe_bound_ms)
        gossipsim_watch_sent(c, i, to, p, tag != 0);
    int out = refused ? gossipsim_refuse(&c->w, to, i, true, id)
                      : gossipsim_send(&c->w, i, to, tcp, id, tag, c->enc.data, c->enc.len);
    if (out != 0)
        gossipsim_failf(c, "out of memory sending a packet");
}

static void onEvent(struct gossipsim_cluster *c, int i, const struct gossip_event *e)
{
    static const char *const evNames[] = {"?", "join", "leave", "failed", "update", "reap",
                                          "conflict", "join-error", "suspect", "notice"};
    const char *ev = e->type < sizeof evNames / sizeof evNames[0] ? evNames[e->type] : "?";
    if (e->type == GOSSIP_EV_NOTICE) {
        gossipsim_tracef(&c->w, "node%d: notice: %.*s", i, GOSSIP_ERR_MAX, e->err);
        return;
    }
    gossipsim_tracef(&c->w, "node%d: %s %s (inc %llu)", i, ev, e->member.name,
                     (unsigned long long)e->member.incarnation);
    if (e->type == GOSSIP_EV_CONFLICT || e->type == GOSSIP_EV_JOIN_ERR) {
        /* No scenario reuses a name at another address or refuses a join. */
        gossipsim_failf(c, "node%d: unexpected %s about '%.63s': %.*s", i, ev, e->member.name,
                        GOSSIP_ERR_MAX, e->err);
        return;
    }
    int j = gossipsim_index_of_name(c, e->member.name);
    if (j < 0) {
        gossipsim_failf(c, "node%d reported %s about an unknown member '%.63s'", i, ev, e->member.name);
        return;
    }
    switch (e->type) {
    case GOSSIP_EV_FAILED:
        c->deaths_about[j]++;
        /* A member that runs, shares our side of any partition and has done so long enough for
         * stale suspicions to drain must not be declared dead. */
        if (c->node[j].g != NULL && gossipsim_reachable(&c->w, i, j) &&
            c->w.now >= c->node[j].stable_since + c->grace_ms &&
            c->w.now >= c->node[i].stable_since + c->grace_ms)
            gossipsim_failf(c, "node%d declared node%d failed, but it is up and reachable", i, j);
        break;
    default:
        break;
    }
}

static void drain(struct gossipsim_cluster *c, int i)
{
    struct gossip *g = c->node[i].g;
    struct gossip_ready rd;
    if (g == NULL || !gossip_ready(g, &rd)) {
        /* A probe may end with nothing to send (a repeated confirmation of a suspicion). */
        if (g != NULL && c->refused_probe_bound_ms)
            gossipsim_watch_settled(c, i);
        return;
    }
    for (size_t k = 0; k < rd.n_packets && !c->failed; k++)
        sendPacket(c, i, &rd.packets[k]);
    for (size_t k = 0; k < rd.n_events && !c->failed; k++)
        onEvent(c, i, &rd.events[k]);
    bool done = rd.leave_done;
    gossip_advance(g);
    if (c->refused_probe_bound_ms)
        gossipsim_watch_settled(c, i);
    if (done) {
        if (!c->node[i].leaving) {
            gossipsim_failf(c, "node%d reported leave_done without leaving", i);
            return;
        }
        gossipsim_tracef(&c->w, "node%d: leave done, stopping", i);
        c->node[i].left = true;
        stopNode(c, i);
    }
}

static void deliver(struct gossipsim_cluster *c, struct gossipsim_ev *ev)
{
    int i = ev->to;
    struct gossip *g = c->node[i].g;
    if (g == NULL)
        return;
    struct gossip_packet pk;
    int rc = ev->stream ? gossip_wire_decode_stream(ev->data, ev->len, &pk)
                        : gossip_wire_decode_dgram(ev->data, ev->len, &pk);
    gossip_wire_count(&c->node[i].rx, rc);
    if (rc != GOSSIP_WIRE_OK) {
        if (ev->tag == 1) {
            c->corrupt_refused++;
            gossipsim_tracef(&c->w, "node%d dropped a corrupted datagram: %s", i, gossip_wire_strerror(rc));
        } else {
            gossipsim_failf(c, "node%d could not decode a packet from node%d: %s", i, ev->from,
                            gossip_wire_strerror(rc));
        }
        return;
    }
    if (ev->tag == 1) {
        gossipsim_failf(c, "node%d accepted a corrupted datagram from node%d", i, ev->from);
        gossip_wire_packet_free(&pk);
        return;
    }
    /* The encoding is canonical: what the core sent re-encodes to the very bytes received. */
    buf_clear(&c->enc);
    if (gossip_wire_encode(&pk, &c->enc) != GOSSIP_WIRE_OK || c->enc.len != ev->len ||
        memcmp(c->enc.data, ev->data, ev->len) != 0) {
        gossipsim_failf(c, "a packet from node%d to node%d does not re-encode to its bytes", ev->from, i);
        gossip_wire_packet_free(&pk);
        return;
    }
    pk.peer = gossipsim_addr(ev->from);
    pk.conn = ev->stream ? ev->conn : 0;
    gossip_recv(g, &pk);
    gossip_wire_packet_free(&pk);
    drain(c, i);
    arm(c, i);
}

int gossipsim_start(struct gossipsim_cluster *c, int i)
{
    struct gossip_config cfg = c->base;
    gossipsim_name(i, cfg.name);
    cfg.addr = gossipsim_addr(i);
    memset(&cfg.tags, 0, sizeof cfg.tags);
    cfg.tags.role = i < 3 ? GOSSIP_ROLE_SERVER : GOSSIP_ROLE_CLIENT;
    snprintf(cfg.tags.dc, sizeof cfg.tags.dc, "dc1");
    snprintf(cfg.tags.build, sizeof cfg.tags.build, "0.1.0");
    cfg.tags.rpc_port = i < 3 ? 8300 : 0;
    cfg.tags.raft_id = i < 3 ? (uint64_t)i + 1 : 0;
    cfg.tags.proto_min = 1;
    cfg.tags.proto_max = 2;
    cfg.tags.proto_cur = 2;
    /* A restarted process draws new randomness, as a real one would. */
    cfg.seed = c->seed * 1000003u + (uint64_t)i + c->w.now * 7919u;
    char err[256];
    if (gossip_config_check(&cfg, err, sizeof err) != 0) {
        gossipsim_failf(c, "node%d: %s", i, err);
        return -1;
    }
    c->node[i].g = gossip_new(&cfg, c->w.now);
    if (c->node[i].g == NULL) {
        gossipsim_failf(c, "node%d: gossip_new failed", i);
        return -1;
    }
    c->w.node[i].down = false;
    c->w.node[i].refuses = false;
    c->node[i].killed = false;
    c->node[i].stable_since = c->w.now;
    drain(c, i);
    arm(c, i);
    return 0;
}

void gossipsim_join(struct gossipsim_cluster *c, int i, int j)
{
    struct gossip_addr a = gossipsim_addr(j);
    gossipsim_tracef(&c->w, "node%d joins node%d", i, j);
    if (gossip_join(c->node[i].g, &a, 1) != 0)
        gossipsim_failf(c, "node%d: gossip_join refused", i);
    drain(c, i);
    arm(c, i);
}

void gossipsim_kill(struct gossipsim_cluster *c, int i, bool refuses)
{
    gossipsim_tracef(&c->w, "node%d killed%s", i, refuses ? ", its host refuses" : ", silent");
    c->node[i].killed = true;
    stopNode(c, i);
    c->w.node[i].refuses = refuses;
}

void gossipsim_leave(struct gossipsim_cluster *c, int i)
{
    gossipsim_tracef(&c->w, "node%d leaves", i);
    c->node[i].leaving = true;
    if (gossip_leave(c->node[i].g) != 0)
        gossipsim_failf(c, "node%d: gossip_leave refused", i);
    drain(c, i);
    arm(c, i);
}

void gossipsim_stall(struct gossipsim_cluster *c, int i)
{
    gossipsim_tracef(&c->w, "node%d stalled", i);
    gossipsim_pause(&c->w, i, UINT64_MAX);
}

void gossipsim_unstall(struct gossipsim_cluster *c, int i)
{
    gossipsim_tracef(&c->w, "node%d resumes", i);
    gossipsim_resume(&c->w, i);
}

void gossipsim_set_groups(struct gossipsim_cluster *c, const int *groups)
{
    /* Everyone's beliefs are in flux after a cut or a heal: verdicts already in flight from
     * the other side still arrive, about members on either side. */
    for (int i = 0; i < c->n; i++)
        c->node[i].stable_since = c->w.now;
    gossipsim_partition(&c->w, groups);
    gossipsim_tracef(&c->w, groups ? "partition" : "partition healed");
}

/* What the agent's glue does with an ICMP port unreachable or an ECONNREFUSED: tell the core
 * which address refused. A stream the node accepted is not its connect: the peer's host resets
 * it, and the glue reports nothing (node.c: outbound streams only). */
static void onRefused(struct gossipsim_cluster *c, const struct gossipsim_ev *ev)
{
    int i = ev->to;
    struct gossip *g = c->node[i].g;
    if (g == NULL)
        return;
    const char *now = c->w.node[ev->from].down ? "down" : "up: spurious or stale";
    if (ev->stream && STREAM_INITIATOR(ev->conn) != i) {
        c->refusals_reset++;
        gossipsim_tracef(&c->w, "node%d: stream %llu reset by node%d's host (%s)", i,
                         (unsigned long long)ev->conn, ev->from, now);
        return;
    }
    c->refusals++;
    gossipsim_tracef(&c->w, "node%d <- node%d's host: %s refused (node%d %s)", i, ev->from,
                     ev->stream ? "tcp connect" : "udp datagram", ev->from, now);
    struct gossip_addr a = gossipsim_addr(ev->from);
    gossip_refused(g, &a, ev->stream ? GOSSIP_TCP : GOSSIP_UDP);
    drain(c, i);
    arm(c, i);
}

void gossipsim_run(struct gossipsim_cluster *c, uint64_t until)
{
    struct gossipsim_ev ev;
    while (!c->failed && gossipsim_pop(&c->w, until, &ev)) {
        int i = ev.to;
        if (ev.kind == GOSSIPSIM_EV_TIMER) {
            if (ev.arg != c->armed[i] || c->node[i].g == NULL)
                continue; /* superseded by an earlier wake-up, or the node is gone */
            c->armed[i] = UINT64_MAX;
            gossip_tick(c->node[i].g, c->w.now);
            c->ticking = i;
            drain(c, i);
            c->ticking = -1;
            arm(c, i);
        } else if (ev.kind == GOSSIPSIM_EV_REFUSED) {
            onRefused(c, &ev);
        } else {
            deliver(c, &ev);
            free(ev.data);
        }
    }
}
