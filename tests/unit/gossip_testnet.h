/* gossip_testnet.h — a tiny in-test network of gossip cores for the gossip unit tests: virtual time,
 * one-step latency, per-link UDP/TCP cuts, downed nodes, TCP streams routed by id, and a record of
 * events and of every UDP packet's encoded size against udp_max. Header-only (static inline). */
#ifndef TRIBUNE_TESTS_GOSSIP_TESTNET_H
#define TRIBUNE_TESTS_GOSSIP_TESTNET_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "gossip/gossip.h"
#include "gossip/wire.h"

#define TN_MAX 12
#define TN_STEP 5 /* ms per simulation step; also the one-way latency */

struct tn_pkt {
    int from;
    int to;
    uint64_t at;
    struct gossip_packet p;
};

struct tn_ev {
    int node;
    uint8_t type;
    char name[GOSSIP_NAME_MAX];
    char err[GOSSIP_ERR_MAX];
    uint64_t at;
};

struct tn_conn {
    uint64_t id;
    int a; /* initiator */
    int b;
};

struct tnet {
    int n;
    uint64_t now;
    struct gossip *g[TN_MAX];
    struct gossip_config cfg[TN_MAX];
    bool down[TN_MAX];
    bool udp_cut[TN_MAX][TN_MAX];
    bool tcp_cut[TN_MAX][TN_MAX];
    struct tn_pkt *fly;
    size_t n_fly;
    size_t cap_fly;
    uint64_t next_conn;
    struct tn_conn conns[4096];
    size_t n_conns;
    struct tn_ev *evs;
    size_t n_evs;
    size_t cap_evs;
    bool leave_done[TN_MAX];
    size_t oversize;
    size_t max_udp;
    size_t max_msgs;
    uint64_t sent[TN_MAX][16]; /* messages sent, by sender and type */
    uint64_t delay[TN_MAX];    /* extra latency on every packet to or from a node (a slow node) */
    bool wire;                 /* every packet goes through the real wire codec */
    size_t wire_errors;        /* encode or decode failures */
    size_t max_encoded;        /* largest encoded datagram */
};

static inline struct gossip_addr tn_addr(int i)
{
    struct gossip_addr a = {.family = GOSSIP_AF_INET, .port = 7946};
    a.ip[0] = 10;
    a.ip[3] = (uint8_t)(i + 1);
    return a;
}

static inline int tn_index(const struct tnet *t, const struct gossip_addr *a)
{
    int i = a->ip[3] - 1;
    return a->family == GOSSIP_AF_INET && a->ip[0] == 10 && i >= 0 && i < t->n ? i : -1;
}

/* Sizes packets with the wire codec's exact sizes and sends them through encode/decode. */
static inline void tn_use_wire(struct tnet *t)
{
    t->wire = true;
    for (int i = 0; i < t->n; i++) {
        t->cfg[i].msg_size = gossip_wire_msg_size;
        t->cfg[i].packet_overhead = GOSSIP_WIRE_DGRAM_HDR;
    }
}

/* Configures n nodes "n0".."n{n-1}" at 10.0.0.{i+1}; cores are created by tn_start. */
static inline struct tnet *tn_new(int n, uint64_t seed)
{
    struct tnet *t = calloc(1, sizeof *t);
    t->n = n;
    t->now = 1000;
    t->next_conn = 1;
    for (int i = 0; i < n; i++) {
        struct gossip_config *c = &t->cfg[i];
        memset(c, 0, sizeof *c);
        gossip_config_default(c);
        snprintf(c->name, sizeof c->name, "n%d", i);
        c->addr = tn_addr(i);
        c->seed = seed * 1000 + (uint64_t)i;
        c->tags.role = GOSSIP_ROLE_CLIENT;
        snprintf(c->tags.dc, sizeof c->tags.dc, "dc1");
    }
    return t;
}

static inline void tn_start(struct tnet *t, int i)
{
    if (t->g[i])
        gossip_free(t->g[i]);
    t->g[i] = gossip_new(&t->cfg[i], t->now);
    t->down[i] = false;
    t->leave_done[i] = false;
}

static inline void tn_start_all(struct tnet *t)
{
    for (int i = 0; i < t->n; i++)
        tn_start(t, i);
}

static inline void tn_copy(struct gossip_packet *dst, const struct gossip_packet *src)
{
    *dst = *src;
    dst->msgs = malloc((src->n_msgs ? src->n_msgs : 1) * sizeof *dst->msgs);
    memcpy(dst->msgs, src->msgs, src->n_msgs * sizeof *dst->msgs);
    for (uint32_t i = 0; i < src->n_msgs; i++) {
        if (src->msgs[i].type != GOSSIP_MSG_PUSH_PULL)
            continue;
        const struct gossip_msg_push_pull *pp = &src->msgs[i].u.push_pull;
        struct gossip_member *s = malloc((pp->n_states ? pp->n_states : 1) * sizeof *s);
        memcpy(s, pp->states, pp->n_states * sizeof *s);
        dst->msgs[i].u.push_pull.states = s;
    }
}

static inline void tn_free_pkt(struct gossip_packet *p)
{
    for (uint32_t i = 0; i < p->n_msgs; i++)
        if (p->msgs[i].type == GOSSIP_MSG_PUSH_PULL)
            free(p->msgs[i].u.push_pull.states);
    free(p->msgs);
}

static inline int tn_conn_peer(struct tnet *t, uint64_t id, int from)
{
    for (size_t i = 0; i < t->n_conns; i++)
        if (t->conns[i].id == id)
            return t->conns[i].a == from ? t->conns[i].b : t->conns[i].a;
    return -1;
}

/* Moves node i's output onto the wire and into the event record. */
static inline void tn_flush(struct tnet *t, int i)
{
    struct gossip_ready rd;
    if (!t->g[i] || !gossip_ready(t->g[i], &rd))
        return;
    for (size_t k = 0; k < rd.n_events; k++) {
        if (t->n_evs == t->cap_evs) {
            t->cap_evs = t->cap_evs ? t->cap_evs * 2 : 64;
            t->evs = realloc(t->evs, t->cap_evs * sizeof *t->evs);
        }
        struct tn_ev *e = &t->evs[t->n_evs++];
        e->node = i;
        e->type = rd.events[k].type;
        memcpy(e->name, rd.events[k].member.name, GOSSIP_NAME_MAX);
        memcpy(e->err, rd.events[k].err, GOSSIP_ERR_MAX);
        e->at = t->now;
    }
    if (rd.leave_done)
        t->leave_done[i] = true;
    for (size_t k = 0; k < rd.n_packets; k++) {
        const struct gossip_packet *p = &rd.packets[k];
        for (uint32_t m = 0; m < p->n_msgs; m++)
            if (p->msgs[m].type < 16)
                t->sent[i][p->msgs[m].type]++;
        int to;
        uint64_t conn = p->conn;
        if (p->transport == GOSSIP_UDP) {
            size_t sz = t->cfg[i].packet_overhead;
            for (uint32_t m = 0; m < p->n_msgs; m++)
                sz += gossip_msg_size_bound(&p->msgs[m]);
            if (sz > t->cfg[i].udp_max)
                t->oversize++;
            if (sz > t->max_udp)
                t->max_udp = sz;
            if (p->n_msgs > t->max_msgs)
                t->max_msgs = p->n_msgs;
            to = tn_index(t, &p->peer);
            if (to < 0 || t->udp_cut[i][to])
                continue;
        } else if (conn == 0) {
            to = tn_index(t, &p->peer);
            if (to < 0 || t->tcp_cut[i][to] || t->n_conns == 4096)
                continue;
            conn = t->next_conn++;
            t->conns[t->n_conns++] = (struct tn_conn){.id = conn, .a = i, .b = to};
        } else {
            to = tn_conn_peer(t, conn, i);
            if (to < 0 || t->tcp_cut[i][to])
                continue;
        }
        if (t->n_fly == t->cap_fly) {
            t->cap_fly = t->cap_fly ? t->cap_fly * 2 : 64;
            t->fly = realloc(t->fly, t->cap_fly * sizeof *t->fly);
        }
        struct tn_pkt *f = &t->fly[t->n_fly++];
        f->from = i;
        f->to = to;
        f->at = t->now + TN_STEP + t->delay[i] + t->delay[to];
        if (t->wire) {
            struct buf b;
            buf_init(&b, 0);
            int rc = gossip_wire_encode(p, &b);
            if (rc == 0 && p->transport == GOSSIP_UDP && b.len > t->max_encoded)
                t->max_encoded = b.len;
            if (rc == 0 && p->transport == GOSSIP_UDP && b.len > t->cfg[i].udp_max)
                t->oversize++;
            if (rc == 0)
                rc = p->transport == GOSSIP_UDP ? gossip_wire_decode_dgram(b.data, b.len, &f->p)
                                                : gossip_wire_decode_stream(b.data, b.len, &f->p);
            buf_free(&b);
            if (rc != 0) {
                t->wire_errors++;
                t->n_fly--;
                continue;
            }
            /* Hand the receiver a plain copy so tn_free_pkt can release it like the others. */
            struct gossip_packet dec = f->p;
            tn_copy(&f->p, &dec);
            gossip_wire_packet_free(&dec);
            f->p.transport = p->transport;
        } else {
            tn_copy(&f->p, p);
        }
        f->p.peer = t->cfg[i].addr; /* arrives from the sender's address */
        f->p.conn = p->transport == GOSSIP_TCP ? conn : 0;
    }
    gossip_advance(t->g[i]);
}

static inline void tn_deliver(struct tnet *t)
{
    size_t keep = 0;
    size_t n = t->n_fly;
    for (size_t k = 0; k < n; k++) {
        struct tn_pkt f = t->fly[k];
        if (f.at > t->now) {
            t->fly[keep++] = f;
            continue;
        }
        if (!t->down[f.to] && !t->down[f.from] && t->g[f.to])
            gossip_recv(t->g[f.to], &f.p);
        tn_free_pkt(&f.p);
    }
    /* Packets queued while delivering (by flushes below) are appended after n. */
    memmove(&t->fly[keep], &t->fly[n], (t->n_fly - n) * sizeof *t->fly);
    t->n_fly = keep + (t->n_fly - n);
}

static inline void tn_run(struct tnet *t, uint64_t ms)
{
    uint64_t end = t->now + ms;
    while (t->now < end) {
        t->now += TN_STEP;
        for (int i = 0; i < t->n; i++) {
            if (t->down[i] || !t->g[i])
                continue;
            gossip_tick(t->g[i], t->now);
            tn_flush(t, i);
        }
        tn_deliver(t);
        for (int i = 0; i < t->n; i++)
            if (!t->down[i])
                tn_flush(t, i);
    }
}

static inline void tn_join(struct tnet *t, int i, int j)
{
    struct gossip_addr a = tn_addr(j);
    gossip_join(t->g[i], &a, 1);
    tn_flush(t, i);
}

static inline void tn_free(struct tnet *t)
{
    for (size_t k = 0; k < t->n_fly; k++)
        tn_free_pkt(&t->fly[k].p);
    for (int i = 0; i < t->n; i++)
        gossip_free(t->g[i]);
    free(t->fly);
    free(t->evs);
    free(t);
}

/* The state node i holds for member `name`, or 0 if it has no entry. */
static inline uint8_t tn_state(const struct tnet *t, int i, const char *name)
{
    const struct gossip_member *m = gossip_member_find(t->g[i], name);
    return m ? m->state : 0;
}

static inline size_t tn_events(const struct tnet *t, int node, uint8_t type, const char *name)
{
    size_t c = 0;
    for (size_t k = 0; k < t->n_evs; k++)
        if ((node < 0 || t->evs[k].node == node) && t->evs[k].type == type &&
            (!name || strcmp(t->evs[k].name, name) == 0))
            c++;
    return c;
}

/* Events whose text contains needle (any node when node < 0). */
static inline size_t tn_events_text(const struct tnet *t, int node, uint8_t type, const char *needle)
{
    size_t c = 0;
    for (size_t k = 0; k < t->n_evs; k++)
        if ((node < 0 || t->evs[k].node == node) && t->evs[k].type == type && strstr(t->evs[k].err, needle))
            c++;
    return c;
}

/* Cuts (or restores) UDP and/or TCP both ways between a and b. */
static inline void tn_cut(struct tnet *t, int a, int b, bool udp, bool tcp)
{
    t->udp_cut[a][b] = t->udp_cut[b][a] = udp;
    t->tcp_cut[a][b] = t->tcp_cut[b][a] = tcp;
}

/* True when every up node sees exactly the up nodes in `want` (a bitmask) as alive. */
static inline bool tn_converged(const struct tnet *t, unsigned want)
{
    for (int i = 0; i < t->n; i++) {
        if (!(want & (1u << i)))
            continue;
        for (int j = 0; j < t->n; j++) {
            uint8_t s = tn_state(t, i, t->cfg[j].name);
            bool alive = s == GOSSIP_STATE_ALIVE;
            if (alive != !!(want & (1u << j)))
                return false;
        }
    }
    return true;
}

#endif
