/* output.c — what the core hands the glue: events, and UDP datagrams packed with piggybacked
 * updates up to udp_max, TCP stream packets; held until gossip_advance releases them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/core.h"

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

static int send_udp(struct gossip *g, const struct gossip_addr *to, const struct gossip_msg *msgs, size_t n,
                    bool piggyback)
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
    size_t k = piggyback ? gossip_bcast_take(g, all + n, cap - n, &used, g->cfg.udp_max) : 0;
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

int gossip_send_udp(struct gossip *g, const struct gossip_addr *to, const struct gossip_msg *msgs, size_t n)
{
    return send_udp(g, to, msgs, n, true);
}

int gossip_send_udp_alone(struct gossip *g, const struct gossip_addr *to, const struct gossip_msg *msgs, size_t n)
{
    return send_udp(g, to, msgs, n, false);
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
