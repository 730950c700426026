/* node.c — gossip node glue: UDP datagrams and TCP push-pull streams on the reactor feed the pure
 * SWIM core; its ready output is encoded and sent, its events logged in serf's words and recorded
 * in the snapshot. The core's time is the reactor's monotonic milliseconds. */
#include "gossip/node.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "gossip/snapshot.h"
#include "loop/net.h"

#define STREAM_TIMEOUT_MS 10000 /* memberlist's TCPTimeout */
#define STREAM_IN_LIMIT (GOSSIP_WIRE_STREAM_MAX + GOSSIP_WIRE_STREAM_HDR)
#define JOIN_MAX 64

struct gossip_node;
struct join_req;

struct stream {
    struct gossip_node *n;
    uint64_t id;
    struct loop_conn *c;
    bool outbound;
    bool answered;       /* a reply packet arrived (outbound) or was written (inbound) */
    struct gossip_addr peer;
    uint64_t timer;
    struct join_req *join; /* outbound join push-pull this stream carries */
    int join_slot;
    struct stream *next;
};

struct join_req {
    struct gossip_node *n;
    size_t n_addrs;
    struct gossip_addr addrs[JOIN_MAX];
    uint8_t status[JOIN_MAX]; /* 0 waiting for a stream, 1 in flight, 2 ok, 3 failed */
    bool submitted;           /* the core has had a drain to open its streams */
    char first_err[256];
    gossip_node_join_fn done;
    void *ctx;
    struct join_req *next;
};

struct gossip_node {
    struct loop *l;
    const struct logger *lg;
    struct gossip *g;
    struct gossip_node_cbs cbs;
    struct loop_udp *udp;
    struct loop_listener *tcp;
    struct gossip_snapshot *snap;
    char name[GOSSIP_NAME_MAX];
    char addr_text[LOOP_ADDR_STRLEN];
    uint64_t hook;
    uint64_t timer;
    uint64_t timer_at;
    bool draining;
    struct buf scratch;
    struct stream *streams;
    uint64_t next_stream_id;
    struct join_req *joins;
    gossip_node_leave_fn leave_done;
    void *leave_ctx;
    bool leaving;
    struct gossip_wire_counters wc;
};

static void drain(struct gossip_node *n);

/* ---- addresses ---- */

static int to_loop_addr(const struct gossip_addr *g, struct loop_addr *out)
{
    memset(out, 0, sizeof *out);
    if (g->family == GOSSIP_AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(g->port);
        memcpy(&sin->sin_addr, g->ip, 4);
        out->len = sizeof *sin;
        return 0;
    }
    if (g->family == GOSSIP_AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(g->port);
        memcpy(&sin6->sin6_addr, g->ip, 16);
        out->len = sizeof *sin6;
        return 0;
    }
    return -1;
}

static int from_loop_addr(const struct loop_addr *a, struct gossip_addr *out)
{
    memset(out, 0, sizeof *out);
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;
        out->family = GOSSIP_AF_INET;
        memcpy(out->ip, &sin->sin_addr, 4);
        out->port = ntohs(sin->sin_port);
        return 0;
    }
    if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;
        out->family = GOSSIP_AF_INET6;
        memcpy(out->ip, &sin6->sin6_addr, 16);
        out->port = ntohs(sin6->sin6_port);
        return 0;
    }
    return -1;
}

static bool addr_eq(const struct gossip_addr *a, const struct gossip_addr *b)
{
    size_t len = a->family == GOSSIP_AF_INET ? 4 : 16;
    return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, len) == 0;
}

char *gossip_node_format_addr(const struct gossip_addr *a, char *out, size_t outlen)
{
    struct loop_addr la;
    if (to_loop_addr(a, &la) != 0) {
        snprintf(out, outlen, "?");
        return out;
    }
    return loop_addr_format(&la, out, outlen);
}

/* Serf logs a member's IP without the port. */
static const char *format_ip(const struct gossip_addr *a, char *out, size_t outlen)
{
    if (inet_ntop(a->family == GOSSIP_AF_INET ? AF_INET : AF_INET6, a->ip, out,
                  (socklen_t)outlen) == NULL)
        snprintf(out, outlen, "?");
    return out;
}

/* "ip" or "ip:port" or "[v6]:port" with the gossip port as default. */
static int parse_join_addr(const char *s, struct gossip_addr *out, char *err, size_t errlen)
{
    char text[LOOP_ADDR_STRLEN + 8];
    struct loop_addr la;
    bool has_port = false;
    if (s[0] == '[')
        has_port = strstr(s, "]:") != NULL;
    else {
        const char *c = strchr(s, ':');
        has_port = c != NULL && strchr(c + 1, ':') == NULL;
        if (c != NULL && strchr(c + 1, ':') != NULL) { /* a bare IPv6 address */
            snprintf(text, sizeof text, "[%s]:%d", s, GOSSIP_NODE_DEFAULT_PORT);
            s = text;
            has_port = true;
        }
    }
    if (!has_port) {
        if (strlen(s) > LOOP_ADDR_STRLEN) {
            snprintf(err, errlen, "address too long: %.40s...", s);
            return -1;
        }
        snprintf(text, sizeof text, "%s:%d", s, GOSSIP_NODE_DEFAULT_PORT);
        s = text;
    }
    if (loop_addr_parse(s, &la, err, errlen) != 0)
        return -1;
    return from_loop_addr(&la, out);
}

/* ---- events ---- */

static void log_event(struct gossip_node *n, const struct gossip_event *ev)
{
    char ip[64], at[LOOP_ADDR_STRLEN];
    const struct gossip_member *m = &ev->member;
    bool self = strcmp(m->name, n->name) == 0;
    switch (ev->type) {
    case GOSSIP_EV_JOIN:
        log_printf(n->lg, LOG_INFO, "serf", "EventMemberJoin: %s %s", m->name,
                   format_ip(&m->addr, ip, sizeof ip));
        if (n->snap && !self)
            gossip_snapshot_alive(n->snap, m->name, gossip_node_format_addr(&m->addr, at, sizeof at));
        break;
    case GOSSIP_EV_UPDATE:
        log_printf(n->lg, LOG_INFO, "serf", "EventMemberUpdate: %s", m->name);
        if (n->snap && !self)
            gossip_snapshot_alive(n->snap, m->name, gossip_node_format_addr(&m->addr, at, sizeof at));
        break;
    case GOSSIP_EV_LEAVE:
        log_printf(n->lg, LOG_INFO, "serf", "EventMemberLeave: %s %s", m->name,
                   format_ip(&m->addr, ip, sizeof ip));
        if (n->snap && !self)
            gossip_snapshot_not_alive(n->snap, m->name);
        break;
    case GOSSIP_EV_FAILED:
        if (ev->err[0])
            log_printf(n->lg, LOG_INFO, "memberlist", "%s", ev->err);
        log_printf(n->lg, LOG_INFO, "serf", "EventMemberFailed: %s %s", m->name,
                   format_ip(&m->addr, ip, sizeof ip));
        if (n->snap && !self)
            gossip_snapshot_not_alive(n->snap, m->name);
        break;
    case GOSSIP_EV_REAP:
        log_printf(n->lg, LOG_INFO, "serf", "EventMemberReap: %s", m->name);
        break;
    case GOSSIP_EV_CONFLICT:
        log_printf(n->lg, LOG_ERR, "memberlist", "%s", ev->err);
        break;
    case GOSSIP_EV_JOIN_ERR:
        log_printf(n->lg, LOG_WARN, "memberlist", "%s", ev->err);
        break;
    case GOSSIP_EV_SUSPECT:
        log_printf(n->lg, LOG_INFO, "memberlist", "%s", ev->err);
        break;
    case GOSSIP_EV_NOTICE:
        log_printf(n->lg, LOG_WARN, "memberlist", "%s", ev->err);
        break;
    default:
        break;
    }
}

/* ---- joins ---- */

static void join_finish_if_done(struct gossip_node *n, struct join_req *j)
{
    int ok = 0;
    for (size_t i = 0; i < j->n_addrs; i++) {
        if (j->status[i] < 2)
            return;
        ok += j->status[i] == 2;
    }
    for (struct join_req **pp = &n->joins; *pp; pp = &(*pp)->next) {
        if (*pp == j) {
            *pp = j->next;
            break;
        }
    }
    for (struct stream *s = n->streams; s; s = s->next)
        if (s->join == j)
            s->join = NULL;
    if (j->done)
        j->done(j->ctx, ok, j->first_err[0] ? j->first_err : NULL);
    free(j);
}

static void join_mark(struct gossip_node *n, struct join_req *j, int slot, bool ok, const char *why)
{
    if (j->status[slot] >= 2)
        return;
    j->status[slot] = ok ? 2 : 3;
    if (!ok && j->first_err[0] == '\0') {
        char at[LOOP_ADDR_STRLEN];
        snprintf(j->first_err, sizeof j->first_err, "%s: %s",
                 gossip_node_format_addr(&j->addrs[slot], at, sizeof at), why);
    }
    join_finish_if_done(n, j);
}

/* Links an outbound push-pull stream to the join that asked for it, by peer address. */
static void join_claim(struct gossip_node *n, struct stream *s, const struct gossip_packet *p)
{
    if (p->n_msgs == 0 || p->msgs[0].type != GOSSIP_MSG_PUSH_PULL || !p->msgs[0].u.push_pull.join)
        return;
    for (struct join_req *j = n->joins; j; j = j->next) {
        for (size_t i = 0; i < j->n_addrs; i++) {
            if (j->status[i] == 0 && addr_eq(&j->addrs[i], &p->peer)) {
                j->status[i] = 1;
                s->join = j;
                s->join_slot = (int)i;
                return;
            }
        }
    }
}

/* After the core had its chance to open streams, addresses it opened none for have failed. */
static void join_sweep(struct gossip_node *n)
{
    struct join_req *j = n->joins;
    while (j) {
        struct join_req *next = j->next;
        if (j->submitted) {
            for (size_t i = 0; i < j->n_addrs; i++)
                if (j->status[i] == 0)
                    join_mark(n, j, (int)i, false, "not contacted (own address or duplicate)");
        } else {
            j->submitted = true;
        }
        j = next;
    }
}

/* ---- TCP streams ---- */

static struct stream *stream_find(struct gossip_node *n, uint64_t id)
{
    for (struct stream *s = n->streams; s; s = s->next)
        if (s->id == id)
            return s;
    return NULL;
}

static void stream_timeout(struct loop *l, uint64_t id, void *ctx)
{
    (void)l;
    (void)id;
    struct stream *s = ctx;
    s->timer = 0;
    if (s->join)
        join_mark(s->n, s->join, s->join_slot, false, "i/o timeout");
    loop_conn_close(s->c);
}

static void stream_on_data(struct loop_conn *c, struct buf *in, void *ctx)
{
    struct stream *s = ctx;
    if (s == NULL) /* its node was closed; the loop is about to free the connection */
        return;
    struct gossip_node *n = s->n;
    if (s->answered && s->outbound)
        return;
    size_t need = 0;
    int rc = gossip_wire_stream_need(in->data, in->len, &need);
    if (rc == 0 && (need == 0 || in->len < need))
        return; /* wait for the rest of the frame */
    struct gossip_packet p;
    memset(&p, 0, sizeof p);
    if (rc == 0)
        rc = gossip_wire_decode_stream(in->data, need, &p);
    gossip_wire_count(&n->wc, rc);
    if (rc != 0) {
        char at[LOOP_ADDR_STRLEN];
        log_printf(n->lg, LOG_WARN, "memberlist", "dropped a bad stream from %s: %s",
                   loop_addr_format(loop_conn_peer(c), at, sizeof at), gossip_wire_strerror(rc));
        if (s->join)
            join_mark(n, s->join, s->join_slot, false, gossip_wire_strerror(rc));
        loop_conn_close(c);
        return;
    }
    buf_consume(in, need);
    loop_conn_pause_read(c);
    p.peer = s->peer;
    p.conn = s->id;
    if (s->outbound) {
        s->answered = true;
        if (s->join) {
            const char *why = NULL;
            bool ok = false;
            for (uint32_t i = 0; i < p.n_msgs; i++) {
                if (p.msgs[i].type == GOSSIP_MSG_PUSH_PULL)
                    ok = true;
                else if (p.msgs[i].type == GOSSIP_MSG_ERR)
                    why = p.msgs[i].u.err.text;
            }
            join_mark(n, s->join, s->join_slot, ok && why == NULL, why ? why : "no state in reply");
        }
        loop_conn_close(c);
    }
    gossip_recv(n->g, &p);
    gossip_wire_packet_free(&p);
}

static void stream_on_close(struct loop_conn *c, enum loop_close_reason why, int err, void *ctx)
{
    (void)c;
    struct stream *s = ctx;
    if (s == NULL)
        return;
    struct gossip_node *n = s->n;
    if (s->timer)
        loop_timer_cancel(n->l, s->timer);
    if (s->outbound && !s->answered && err == ECONNREFUSED && n->g)
        gossip_refused(n->g, &s->peer, GOSSIP_TCP);
    if (s->join && !s->answered) {
        char text[128];
        snprintf(text, sizeof text, "%s%s%s", loop_close_reason_str(why), err ? ": " : "",
                 err ? strerror(err) : "");
        join_mark(n, s->join, s->join_slot, false, text);
    }
    for (struct stream **pp = &n->streams; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    free(s);
}

static const struct loop_conn_cbs stream_cbs = {
    .on_connect = NULL,
    .on_data = stream_on_data,
    .on_close = stream_on_close,
};

static struct stream *stream_new(struct gossip_node *n, bool outbound)
{
    struct stream *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->n = n;
    s->id = ++n->next_stream_id;
    s->outbound = outbound;
    s->next = n->streams;
    n->streams = s;
    s->timer = loop_timer_add(n->l, STREAM_TIMEOUT_MS, stream_timeout, s);
    return s;
}

static void on_accept(struct loop_listener *ls, struct loop_conn *c, void *ctx)
{
    (void)ls;
    struct gossip_node *n = ctx;
    struct stream *s = stream_new(n, false);
    if (s == NULL) {
        loop_conn_close(c);
        return;
    }
    s->c = c;
    from_loop_addr(loop_conn_peer(c), &s->peer);
    loop_conn_set_ctx(c, s);
}

/* ---- output ---- */

static void send_packet(struct gossip_node *n, const struct gossip_packet *p)
{
    buf_clear(&n->scratch);
    int rc = gossip_wire_encode(p, &n->scratch);
    if (rc != 0) {
        log_printf(n->lg, LOG_ERR, "memberlist", "cannot encode an outgoing packet: %s",
                   gossip_wire_strerror(rc));
        return;
    }
    if (p->transport == GOSSIP_UDP) {
        struct loop_addr to;
        if (to_loop_addr(&p->peer, &to) == 0)
            (void)loop_udp_send(n->udp, &to, n->scratch.data, n->scratch.len); /* lossy by design */
        return;
    }
    if (p->conn != 0) { /* a reply on an inbound stream, then hang up */
        struct stream *s = stream_find(n, p->conn);
        if (s == NULL || loop_conn_closing(s->c))
            return;
        s->answered = true;
        if (loop_conn_write(s->c, n->scratch.data, n->scratch.len) == 0)
            loop_conn_end(s->c);
        return;
    }
    struct stream *s = stream_new(n, true);
    if (s == NULL)
        return;
    s->peer = p->peer;
    join_claim(n, s, p);
    struct loop_addr to;
    char err[160] = "";
    struct loop_conn_opts o = {.name = "memberlist", .in_limit = STREAM_IN_LIMIT,
                               .out_limit = STREAM_IN_LIMIT};
    if (to_loop_addr(&p->peer, &to) == 0)
        s->c = loop_tcp_connect(n->l, &to, &o, &stream_cbs, s, err, sizeof err);
    if (s->c == NULL) {
        if (s->join)
            join_mark(n, s->join, s->join_slot, false, err[0] ? err : "bad address");
        if (s->timer)
            loop_timer_cancel(n->l, s->timer);
        n->streams = s->next;
        free(s);
        return;
    }
    (void)loop_conn_write(s->c, n->scratch.data, n->scratch.len);
}

static void on_tick(struct loop *l, uint64_t id, void *ctx)
{
    (void)id;
    struct gossip_node *n = ctx;
    n->timer = 0;
    gossip_tick(n->g, loop_now_ms());
    (void)l;
    drain(n);
}

static void arm_timer(struct gossip_node *n)
{
    uint64_t at = gossip_next_deadline(n->g);
    if (n->timer != 0 && at == n->timer_at)
        return;
    if (n->timer != 0)
        loop_timer_cancel(n->l, n->timer);
    uint64_t now = loop_now_ms();
    n->timer_at = at;
    n->timer = loop_timer_add(n->l, at > now ? at - now : 0, on_tick, n);
}

static void drain(struct gossip_node *n)
{
    if (n->draining || n->g == NULL)
        return;
    n->draining = true;
    struct gossip_ready rd;
    while (gossip_ready(n->g, &rd)) {
        for (size_t i = 0; i < rd.n_packets; i++)
            send_packet(n, &rd.packets[i]);
        for (size_t i = 0; i < rd.n_events; i++) {
            log_event(n, &rd.events[i]);
            if (n->cbs.on_event)
                n->cbs.on_event(n->cbs.ctx, &rd.events[i]);
        }
        bool left = rd.leave_done;
        gossip_advance(n->g);
        if (left && n->leave_done) {
            gossip_node_leave_fn done = n->leave_done;
            n->leave_done = NULL;
            if (n->snap)
                (void)gossip_snapshot_leave(n->snap);
            done(n->leave_ctx);
        }
    }
    join_sweep(n);
    arm_timer(n);
    n->draining = false;
}

static void before_sleep(struct loop *l, void *ctx)
{
    (void)l;
    drain(ctx);
}

/* ---- UDP ---- */

static void on_datagram(struct loop_udp *u, const uint8_t *data, size_t len,
                        const struct loop_addr *from, void *ctx)
{
    (void)u;
    struct gossip_node *n = ctx;
    struct gossip_packet p;
    memset(&p, 0, sizeof p);
    int rc = gossip_wire_decode_dgram(data, len, &p);
    gossip_wire_count(&n->wc, rc);
    if (rc != 0) {
        if (log_enabled(n->lg, LOG_DEBUG)) {
            char at[LOOP_ADDR_STRLEN];
            log_printf(n->lg, LOG_DEBUG, "memberlist", "dropped a bad packet from %s: %s",
                       loop_addr_format(from, at, sizeof at), gossip_wire_strerror(rc));
        }
        return;
    }
    if (from_loop_addr(from, &p.peer) == 0) {
        p.conn = 0;
        gossip_recv(n->g, &p);
    }
    gossip_wire_packet_free(&p);
}

/* The host of a member we pinged says nothing listens there (the agent crashed or stopped, the
 * host is up): the core may stop waiting for an ack that cannot come. */
static void on_udp_refused(struct loop_udp *u, const struct loop_addr *to, void *ctx)
{
    (void)u;
    struct gossip_node *n = ctx;
    struct gossip_addr a;
    if (from_loop_addr(to, &a) == 0)
        gossip_refused(n->g, &a, GOSSIP_UDP);
}

/* ---- lifecycle ---- */

static void rejoin_from_snapshot(struct gossip_node *n, bool rejoin)
{
    size_t count = gossip_snapshot_count(n->snap);
    if (count == 0)
        return;
    if (gossip_snapshot_left(n->snap) && !rejoin) {
        log_printf(n->lg, LOG_INFO, "serf",
                   "left the cluster gracefully last time: not rejoining %zu remembered members "
                   "(use -rejoin)", count);
        return;
    }
    struct gossip_addr addrs[JOIN_MAX];
    size_t k = 0;
    char err[128];
    for (size_t i = 0; i < count && k < JOIN_MAX; i++)
        if (parse_join_addr(gossip_snapshot_addr(n->snap, i), &addrs[k], err, sizeof err) == 0)
            k++;
    if (k == 0)
        return;
    log_printf(n->lg, LOG_INFO, "serf", "attempting re-join to previously known nodes (%zu)", k);
    (void)gossip_join(n->g, addrs, k);
}

struct gossip_node *gossip_node_open(struct loop *l, const struct gossip_node_opts *opts,
                                     const struct gossip_node_cbs *cbs, const struct logger *lg,
                                     char *err, size_t errlen)
{
    struct gossip_node *n = calloc(1, sizeof *n);
    if (n == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    n->l = l;
    n->lg = lg;
    if (cbs)
        n->cbs = *cbs;
    buf_init(&n->scratch, GOSSIP_WIRE_STREAM_MAX + GOSSIP_WIRE_STREAM_HDR);

    struct loop_addr bound;
    if (loop_addr_parse(opts->bind, &bound, err, errlen) != 0)
        goto fail;
    struct loop_conn_opts o = {.name = "memberlist", .in_limit = STREAM_IN_LIMIT,
                               .out_limit = STREAM_IN_LIMIT};
    /* TCP shares the UDP port, which is only known after binding when port 0 was asked; the
     * kernel may have handed that port to a TCP socket already, so port 0 tries a few. */
    for (int attempt = 0; n->tcp == NULL; attempt++) {
        n->udp = loop_udp_bind(l, opts->bind, GOSSIP_WIRE_DGRAM_MAX, on_datagram, n, err, errlen);
        if (n->udp == NULL)
            goto fail;
        char tcp_at[LOOP_ADDR_STRLEN];
        loop_addr_format(loop_udp_addr(n->udp), tcp_at, sizeof tcp_at);
        n->tcp = loop_tcp_listen(l, tcp_at, &o, &stream_cbs, on_accept, n, err, errlen);
        if (n->tcp != NULL) {
            if (loop_udp_on_refused(n->udp, on_udp_refused) != 0)
                log_printf(n->lg, LOG_DEBUG, "memberlist", "no ICMP errors on the gossip socket: %s",
                           strerror(errno));
            break;
        }
        if (loop_addr_port(&bound) != 0 || attempt >= 8)
            goto fail;
        loop_udp_close(n->udp);
        n->udp = NULL;
    }

    struct gossip_config c;
    if (opts->tuning)
        c = *opts->tuning;
    else
        gossip_config_default(&c);
    snprintf(c.name, sizeof c.name, "%s", opts->name);
    snprintf(n->name, sizeof n->name, "%s", opts->name);
    c.tags = opts->tags;
    c.msg_size = gossip_wire_msg_size;
    c.packet_overhead = GOSSIP_WIRE_DGRAM_HDR;
    c.seed = opts->seed;
    if (c.seed == 0 && getrandom(&c.seed, sizeof c.seed, 0) != (ssize_t)sizeof c.seed)
        c.seed = loop_now_ms() ^ (uint64_t)(uintptr_t)n;
    struct loop_addr adv;
    if (opts->advertise) {
        if (loop_addr_parse(opts->advertise, &adv, err, errlen) != 0)
            goto fail;
    } else {
        adv = *loop_udp_addr(n->udp);
    }
    if (from_loop_addr(&adv, &c.addr) != 0) {
        snprintf(err, errlen, "unsupported advertise address family");
        goto fail;
    }
    loop_addr_format(&adv, n->addr_text, sizeof n->addr_text);
    if (gossip_config_check(&c, err, errlen) != 0)
        goto fail;
    n->g = gossip_new(&c, loop_now_ms());
    if (n->g == NULL) {
        snprintf(err, errlen, "cannot start the gossip core (out of memory)");
        goto fail;
    }
    if (opts->data_dir) {
        n->snap = gossip_snapshot_open(opts->data_dir, lg, err, errlen);
        if (n->snap == NULL)
            goto fail;
        rejoin_from_snapshot(n, opts->rejoin);
    }
    n->hook = loop_before_sleep_add(l, before_sleep, n);
    drain(n);
    return n;
fail:
    gossip_node_close(n);
    return NULL;
}

void gossip_node_close(struct gossip_node *n)
{
    if (n == NULL)
        return;
    if (n->hook)
        loop_before_sleep_del(n->l, n->hook);
    if (n->timer)
        loop_timer_cancel(n->l, n->timer);
    while (n->streams) {
        struct stream *s = n->streams;
        n->streams = s->next;
        if (s->timer)
            loop_timer_cancel(n->l, s->timer);
        s->join = NULL;
        /* The loop frees the connection; detach it from the stream we free here. */
        loop_conn_set_ctx(s->c, NULL);
        loop_conn_close(s->c);
        free(s);
    }
    while (n->joins) {
        struct join_req *j = n->joins;
        n->joins = j->next;
        free(j);
    }
    if (n->udp)
        loop_udp_close(n->udp);
    if (n->tcp)
        loop_listener_close(n->tcp);
    gossip_snapshot_close(n->snap);
    gossip_free(n->g);
    buf_free(&n->scratch);
    free(n);
}

int gossip_node_join(struct gossip_node *n, const char *const *addrs, size_t n_addrs,
                     gossip_node_join_fn done, void *ctx, char *err, size_t errlen)
{
    if (n->leaving) {
        snprintf(err, errlen, "the agent is leaving");
        return -1;
    }
    if (n_addrs == 0 || n_addrs > JOIN_MAX) {
        snprintf(err, errlen, "between 1 and %d addresses can be joined at once", JOIN_MAX);
        return -1;
    }
    struct join_req *j = calloc(1, sizeof *j);
    if (j == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    j->n = n;
    j->done = done;
    j->ctx = ctx;
    char why[160];
    for (size_t i = 0; i < n_addrs; i++) {
        if (parse_join_addr(addrs[i], &j->addrs[j->n_addrs], why, sizeof why) != 0) {
            if (j->first_err[0] == '\0')
                snprintf(j->first_err, sizeof j->first_err, "%s", why);
            continue;
        }
        j->n_addrs++;
    }
    if (j->n_addrs == 0) {
        snprintf(err, errlen, "%s", j->first_err);
        free(j);
        return -1;
    }
    if (gossip_join(n->g, j->addrs, j->n_addrs) != 0) {
        snprintf(err, errlen, "the agent is leaving");
        free(j);
        return -1;
    }
    j->next = n->joins;
    n->joins = j;
    drain(n);
    return 0;
}

int gossip_node_leave(struct gossip_node *n, gossip_node_leave_fn done, void *ctx)
{
    if (n->leaving || gossip_leave(n->g) != 0)
        return -1;
    n->leaving = true;
    n->leave_done = done;
    n->leave_ctx = ctx;
    drain(n);
    return 0;
}

int gossip_node_force_leave(struct gossip_node *n, const char *name)
{
    int rc = gossip_force_leave(n->g, name);
    drain(n);
    return rc;
}

int gossip_node_set_tags(struct gossip_node *n, const struct gossip_tags *tags)
{
    int rc = gossip_set_tags(n->g, tags);
    drain(n);
    return rc;
}

const struct gossip *gossip_node_core(const struct gossip_node *n)
{
    return n->g;
}

const char *gossip_node_addr(const struct gossip_node *n)
{
    return n->addr_text;
}

const struct gossip_wire_counters *gossip_node_wire_counters(const struct gossip_node *n)
{
    return &n->wc;
}
