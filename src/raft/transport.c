/* transport.c — connection management for Raft frames: dialing and re-dialing peers, the Hello
 * handshake, decoding on arrival, dropping (not queueing) when a peer cannot take more. */
#include "raft/transport.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft/config.h"
#include "raft/wire.h"

#define SUBSYS "raft"

struct tpeer;

/* One TCP connection, dialed (peer != NULL) or accepted. */
struct tconn {
    struct raft_transport *t;
    struct loop_conn *c;
    struct tpeer *peer; /* the peer this connection was dialed for; NULL once detached */
    struct tconn *next; /* all connections of the transport */
    bool inbound;
    bool ready;         /* Hello exchanged */
    bool rpc;           /* handed over to the RPC callbacks, with rpc_ctx */
    void *rpc_ctx;
    raft_id remote;
    uint8_t version;
    uint64_t hs_timer;
    struct raft_wire_snap_asm snap;
    char name[LOOP_ADDR_STRLEN];
};

struct tpeer {
    struct raft_transport *t;
    raft_id id;
    char addr[RAFT_ADDR_MAX];
    struct loop_addr la;
    struct tconn *out;
    uint64_t retry_timer;
    unsigned backoff_ms;
    unsigned failures;
    bool up;
    bool snap_active; /* snap holds an owned copy being fed out by it */
    struct raft_msg snap;
    struct raft_wire_snap_iter it;
};

struct raft_transport {
    struct loop *l;
    const struct logger *log;
    struct raft_transport_opts o;
    struct raft_wire_hello hello;
    struct raft_transport_cbs cbs;
    struct raft_transport_rpc rpc;
    bool has_rpc;
    void *ctx;
    struct loop_listener *ls;
    struct tpeer **peers;
    size_t n_peers;
    struct tconn *conns;
    unsigned n_inbound;
    uint64_t hook;
    uint64_t jitter; /* xorshift state for backoff jitter, seeded by our id */
    struct buf scratch;
    struct raft_transport_stats st;
};

static void conn_on_data(struct loop_conn *c, struct buf *in, void *ctx);
static void conn_on_close(struct loop_conn *c, enum loop_close_reason why, int err, void *ctx);
static void out_on_connect(struct loop_conn *c, void *ctx);
static void peer_dial(struct tpeer *p);

static const struct loop_conn_cbs conn_cbs = {out_on_connect, conn_on_data, conn_on_close};

static struct loop_conn_opts conn_opts(const struct raft_transport *t)
{
    /* Input: room for two whole frames, so a maximal frame plus the start of the next always
     * fits. Output: above our own limit, so we drop a message before the loop drops the link. */
    struct loop_conn_opts co = {SUBSYS, 2 * (size_t)RAFT_WIRE_MAX_FRAME,
                                t->o.out_limit + 2 * (size_t)RAFT_WIRE_MAX_FRAME};
    return co;
}

static struct tpeer *peer_find(const struct raft_transport *t, raft_id id)
{
    for (size_t i = 0; i < t->n_peers; i++)
        if (t->peers[i]->id == id)
            return t->peers[i];
    return NULL;
}

static void snap_drop(struct tpeer *p)
{
    if (p->snap_active)
        raft_wire_snapshot_free(&p->snap);
    p->snap_active = false;
}

/* Unlinks and frees a connection record; the loop_conn itself is closed (or already gone).
 * Only on_close and destroy free records, so a callback that drops a peer never frees the
 * connection whose frame is being handled. */
static void tconn_free(struct tconn *tc)
{
    struct raft_transport *t = tc->t;
    for (struct tconn **pp = &t->conns; *pp != NULL; pp = &(*pp)->next)
        if (*pp == tc) {
            *pp = tc->next;
            break;
        }
    if (tc->inbound)
        t->n_inbound--;
    if (tc->peer != NULL && tc->peer->out == tc)
        tc->peer->out = NULL;
    if (tc->hs_timer != 0)
        loop_timer_cancel(t->l, tc->hs_timer);
    raft_wire_snap_asm_free(&tc->snap);
    free(tc);
}

static struct tconn *tconn_new(struct raft_transport *t, struct loop_conn *c, struct tpeer *p);

/* Closes with one log line; on_close then frees the record and schedules a re-dial. */
static void tconn_fail(struct tconn *tc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void tconn_fail(struct tconn *tc, const char *fmt, ...)
{
    char why[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    tc->t->st.proto_errors++;
    log_printf(tc->t->log, LOG_WARN, SUBSYS, "closing connection %s %s: %s",
               tc->peer ? "to" : "from", tc->name, why);
    loop_conn_close(tc->c);
}

static void hs_timeout(struct loop *l, uint64_t id, void *ctx)
{
    (void)l;
    (void)id;
    struct tconn *tc = ctx;
    tc->hs_timer = 0;
    if (!tc->ready && !loop_conn_closing(tc->c))
        tconn_fail(tc, "no handshake within %u ms", tc->t->o.handshake_ms);
}

static struct tconn *tconn_new(struct raft_transport *t, struct loop_conn *c, struct tpeer *p)
{
    struct tconn *tc = calloc(1, sizeof *tc);
    if (tc == NULL)
        return NULL;
    tc->t = t;
    tc->c = c;
    tc->peer = p;
    tc->inbound = p == NULL;
    raft_wire_snap_asm_init(&tc->snap, t->o.snapshot_max);
    loop_addr_format(loop_conn_peer(c), tc->name, sizeof tc->name);
    tc->next = t->conns;
    t->conns = tc;
    if (p == NULL)
        t->n_inbound++;
    tc->hs_timer = loop_timer_add(t->l, t->o.handshake_ms, hs_timeout, tc);
    loop_conn_set_ctx(c, tc);
    return tc;
}

static int write_hello(struct tconn *tc)
{
    struct buf *s = &tc->t->scratch;
    buf_clear(s);
    if (raft_wire_encode_hello(&tc->t->hello, s) != 0)
        return -1;
    return loop_conn_write(tc->c, s->data, s->len);
}

static void refuse(struct tconn *tc, const char *reason)
{
    struct buf *s = &tc->t->scratch;
    buf_clear(s);
    tc->t->st.proto_errors++;
    log_printf(tc->t->log, LOG_WARN, SUBSYS, "refusing connection %s %s: %s",
               tc->peer ? "to" : "from", tc->name, reason);
    if (raft_wire_encode_refuse(reason, s) == 0 && loop_conn_write(tc->c, s->data, s->len) == 0)
        loop_conn_end(tc->c);
    else
        loop_conn_close(tc->c);
}

/* ---- outbound ---- */

static void retry_fire(struct loop *l, uint64_t id, void *ctx)
{
    (void)l;
    (void)id;
    struct tpeer *p = ctx;
    p->retry_timer = 0;
    peer_dial(p);
}

static uint64_t next_jitter(struct raft_transport *t)
{
    t->jitter ^= t->jitter << 13;
    t->jitter ^= t->jitter >> 7;
    t->jitter ^= t->jitter << 17;
    return t->jitter;
}

/* Exponential backoff with jitter in [d/2, d), so a cluster restarting together does not dial in
 * lockstep. */
static void peer_schedule(struct tpeer *p)
{
    struct raft_transport *t = p->t;
    if (p->retry_timer != 0 || p->out != NULL)
        return;
    unsigned d = p->backoff_ms;
    uint64_t wait = d / 2 + next_jitter(t) % (d - d / 2 + 1);
    p->retry_timer = loop_timer_add(t->l, wait, retry_fire, p);
    p->backoff_ms = d >= t->o.backoff_max_ms / 2 ? t->o.backoff_max_ms : d * 2;
}

static void peer_dial(struct tpeer *p)
{
    struct raft_transport *t = p->t;
    if (p->out != NULL)
        return;
    struct loop_conn_opts co = conn_opts(t);
    char err[160];
    struct loop_conn *c = loop_tcp_connect(t->l, &p->la, &co, &conn_cbs, NULL, err, sizeof err);
    if (c == NULL) {
        if (p->failures++ == 0)
            log_printf(t->log, LOG_WARN, SUBSYS, "cannot dial %s: %s", p->addr, err);
        peer_schedule(p);
        return;
    }
    struct tconn *tc = tconn_new(t, c, p);
    if (tc == NULL) {
        loop_conn_close(c);
        peer_schedule(p);
        return;
    }
    p->out = tc;
    if (write_hello(tc) != 0)
        loop_conn_close(c); /* on_close frees tc and schedules the retry */
}

static void out_on_connect(struct loop_conn *c, void *ctx)
{
    (void)c;
    (void)ctx; /* the Hello is already queued; readiness waits for the peer's Hello */
}

/* ---- receiving ---- */

static void deliver(struct raft_transport *t, const struct raft_msg *m)
{
    t->st.received++;
    if (t->cbs.on_msg != NULL)
        t->cbs.on_msg(t->ctx, m);
}

static void handle_hello(struct tconn *tc, const struct raft_wire_hello *h)
{
    struct raft_transport *t = tc->t;
    char err[256];
    int v = raft_wire_hello_check(&t->hello, h, tc->peer ? tc->peer->id : 0, err, sizeof err);
    if (v < 0) {
        refuse(tc, err);
        return;
    }
    if (t->hello.cluster_id == 0 && h->cluster_id != 0) {
        if (t->cbs.on_cluster != NULL && t->cbs.on_cluster(t->ctx, h->cluster_id) != 0) {
            char why[96];
            snprintf(why, sizeof why, "this server cannot join Raft cluster %016llx (see its log)",
                     (unsigned long long)h->cluster_id);
            refuse(tc, why);
            return;
        }
        t->hello.cluster_id = h->cluster_id;
    }
    if (tc->peer == NULL && write_hello(tc) != 0)
        return; /* the loop closed the connection (output limit) and logged it */
    tc->ready = true;
    tc->remote = h->id;
    tc->version = (uint8_t)v;
    if (tc->hs_timer != 0)
        loop_timer_cancel(t->l, tc->hs_timer);
    tc->hs_timer = 0;
    log_printf(t->log, LOG_DEBUG, SUBSYS, "connection %s %s (server %016llx) is up",
               tc->peer ? "to" : "from", tc->name, (unsigned long long)h->id);
    /* A peer dials anew only when it gave up on its previous connection, which may be half-open
     * (no FIN ever arrives): close it, or dead connections would pile up. */
    for (struct tconn *o = t->conns; o != NULL && tc->inbound; o = o->next)
        if (o != tc && o->inbound && o->ready && o->remote == h->id && !loop_conn_closing(o->c)) {
            log_printf(t->log, LOG_DEBUG, SUBSYS, "closing older connection from %s: replaced",
                       o->name);
            loop_conn_close(o->c);
        }
    struct tpeer *p = tc->peer;
    if (p != NULL) {
        if (p->failures > 0)
            log_printf(t->log, LOG_INFO, SUBSYS, "reconnected to %s after %u failed attempts",
                       p->addr, p->failures);
        p->failures = 0;
        p->backoff_ms = t->o.backoff_min_ms;
        p->up = true;
        if (t->cbs.on_peer != NULL)
            t->cbs.on_peer(t->ctx, p->id, true);
    }
}

/* Acts on one decoded frame. false when the connection is being closed. */
static bool handle_frame(struct tconn *tc, struct raft_wire_frame *f)
{
    struct raft_transport *t = tc->t;
    const char *name = raft_wire_type_name(f->type);
    if (f->type == RAFT_WIRE_REFUSE) {
        log_printf(t->log, LOG_WARN, SUBSYS, "%s refused the connection: %s", tc->name,
                   f->u.refuse.reason);
        t->st.proto_errors++;
        loop_conn_close(tc->c);
        return false;
    }
    if (!tc->ready) {
        if (f->type != RAFT_WIRE_HELLO) {
            tconn_fail(tc, "%s before the handshake", name);
            return false;
        }
        handle_hello(tc, &f->u.hello);
        return !loop_conn_closing(tc->c);
    }
    if (f->type == RAFT_WIRE_HELLO) {
        tconn_fail(tc, "second Hello");
        return false;
    }
    if (f->version != tc->version) {
        tconn_fail(tc, "%s in protocol version %u, negotiated %u", name, f->version, tc->version);
        return false;
    }
    raft_id from = f->type == RAFT_WIRE_SNAPSHOT_CHUNK ? f->u.chunk.from : f->u.msg.from;
    raft_id to = f->type == RAFT_WIRE_SNAPSHOT_CHUNK ? f->u.chunk.to : f->u.msg.to;
    if (from != tc->remote || to != t->o.id) {
        tconn_fail(tc, "%s from %016llx to %016llx on a connection between %016llx and us", name,
                   (unsigned long long)from, (unsigned long long)to,
                   (unsigned long long)tc->remote);
        return false;
    }
    if (f->type == RAFT_WIRE_SNAPSHOT_CHUNK) {
        struct raft_msg m;
        char err[256];
        int rc = raft_wire_snap_asm_feed(&tc->snap, &f->u.chunk, &m, err, sizeof err);
        if (rc < 0) {
            tconn_fail(tc, "%s", err);
            return false;
        }
        if (rc == 1) {
            deliver(t, &m);
            raft_wire_snapshot_free(&m);
        }
    } else {
        deliver(t, &f->u.msg);
    }
    return !loop_conn_closing(tc->c);
}

/* An inbound connection that opens with the RPC magic changes owner. true when it did (or is
 * still too short to tell). */
static bool rpc_handover(struct tconn *tc, struct buf *in)
{
    struct raft_transport *t = tc->t;
    size_t n = in->len < 4 ? in->len : 4;
    if (!t->has_rpc || memcmp(in->data, RAFT_TRANSPORT_RPC_MAGIC, n) != 0)
        return false;
    if (in->len < 4)
        return true;
    tc->rpc = true;
    if (tc->hs_timer != 0) {
        loop_timer_cancel(t->l, tc->hs_timer);
        tc->hs_timer = 0;
    }
    tc->rpc_ctx = t->rpc.accept(t->rpc.ctx, tc->c, in);
    if (tc->rpc_ctx == NULL) {
        tc->rpc = false;
        buf_clear(in);
        loop_conn_close(tc->c);
    }
    return true;
}

static void conn_on_data(struct loop_conn *c, struct buf *in, void *ctx)
{
    struct tconn *tc = ctx;
    if (tc == NULL) {
        buf_clear(in);
        return;
    }
    if (tc->rpc) {
        tc->t->rpc.on_data(tc->rpc_ctx, c, in);
        return;
    }
    if (tc->inbound && !tc->ready && rpc_handover(tc, in))
        return;
    size_t off = 0;
    while (off < in->len && !loop_conn_closing(c)) {
        struct raft_wire_frame f;
        size_t used;
        char err[256];
        enum raft_wire_status st =
            raft_wire_decode(in->data + off, in->len - off, &f, &used, err, sizeof err);
        if (st == RAFT_WIRE_NEED_MORE)
            break;
        if (st == RAFT_WIRE_ERROR) {
            tconn_fail(tc, "%s", err);
            break;
        }
        off += used;
        bool go_on = handle_frame(tc, &f);
        raft_wire_frame_free(&f);
        if (!go_on)
            break;
    }
    if (loop_conn_closing(c))
        buf_clear(in);
    else
        buf_consume(in, off);
}

static void conn_on_close(struct loop_conn *c, enum loop_close_reason why, int err, void *ctx)
{
    (void)c;
    struct tconn *tc = ctx;
    if (tc == NULL)
        return;
    struct raft_transport *t = tc->t;
    if (tc->rpc) {
        void *rc = tc->rpc_ctx;
        tconn_free(tc);
        t->rpc.on_close(rc, c);
        return;
    }
    struct tpeer *p = tc->peer;
    bool was_out = p != NULL && p->out == tc;
    bool was_up = was_out && p->up;
    if (was_up)
        log_printf(t->log, LOG_INFO, SUBSYS, "lost connection to %s: %s", p->addr,
                   err ? strerror(err) : loop_close_reason_str(why));
    else if (was_out && p->failures++ == 0)
        log_printf(t->log, LOG_WARN, SUBSYS, "cannot connect to %s: %s", p->addr,
                   err ? strerror(err) : loop_close_reason_str(why));
    tconn_free(tc);
    if (!was_out)
        return;
    p->up = false;
    snap_drop(p);
    if (why != LOOP_CLOSE_SHUTDOWN)
        peer_schedule(p);
    /* Last: the callback may remove the peer. */
    if (was_up && t->cbs.on_peer != NULL)
        t->cbs.on_peer(t->ctx, p->id, false);
}

static void on_accept(struct loop_listener *ls, struct loop_conn *c, void *ctx)
{
    (void)ls;
    struct raft_transport *t = ctx;
    loop_conn_set_ctx(c, NULL);
    if (t->n_inbound >= t->o.max_inbound) {
        log_printf(t->log, LOG_WARN, SUBSYS, "refusing connection: %u inbound connections open",
                   t->n_inbound);
        loop_conn_close(c);
        return;
    }
    if (tconn_new(t, c, NULL) == NULL)
        loop_conn_close(c);
}

/* ---- sending ---- */

/* Feeds snapshot chunks while the peer's queue is short: a snapshot never sits whole in memory
 * twice, and heartbeats queued meanwhile are not stuck behind gigabytes. */
static void pump_snapshots(struct loop *l, void *ctx)
{
    (void)l;
    struct raft_transport *t = ctx;
    for (size_t i = 0; i < t->n_peers; i++) {
        struct tpeer *p = t->peers[i];
        while (p->snap_active && p->out != NULL && p->out->ready &&
               !loop_conn_closing(p->out->c) &&
               loop_conn_out_pending(p->out->c) < 2 * (size_t)RAFT_WIRE_CHUNK_DATA) {
            buf_clear(&t->scratch);
            int rc = raft_wire_snap_iter_next(&p->it, &t->scratch);
            if (rc <= 0 || loop_conn_write(p->out->c, t->scratch.data, t->scratch.len) != 0) {
                if (rc < 0)
                    log_printf(t->log, LOG_ERR, SUBSYS, "cannot encode a snapshot chunk for %s",
                               p->addr);
                snap_drop(p);
                break;
            }
            if (p->it.finished)
                snap_drop(p);
        }
    }
}

static int queue_snapshot(struct tpeer *p, const struct raft_msg *m)
{
    snap_drop(p);
    p->snap = *m;
    p->snap.u.snapshot.data = NULL;
    if (raft_config_copy(&p->snap.u.snapshot.config, &m->u.snapshot.config) != 0)
        return -1;
    if (m->u.snapshot.len > 0) {
        p->snap.u.snapshot.data = malloc(m->u.snapshot.len);
        if (p->snap.u.snapshot.data == NULL) {
            raft_config_free(&p->snap.u.snapshot.config);
            return -1;
        }
        memcpy(p->snap.u.snapshot.data, m->u.snapshot.data, m->u.snapshot.len);
    }
    p->snap_active = true;
    raft_wire_snap_iter_init(&p->it, &p->snap, 0);
    pump_snapshots(p->t->l, p->t);
    return 0;
}

/* A handshaken connection that server id dialed to us, or NULL. */
static struct tconn *inbound_from(const struct raft_transport *t, raft_id id)
{
    for (struct tconn *tc = t->conns; tc != NULL; tc = tc->next)
        if (tc->inbound && tc->ready && tc->remote == id && !loop_conn_closing(tc->c))
            return tc;
    return NULL;
}

static int send_frame(struct raft_transport *t, struct loop_conn *c, const struct raft_msg *m)
{
    buf_clear(&t->scratch);
    if (raft_wire_encode(m, &t->scratch) != 0 ||
        loop_conn_out_pending(c) + t->scratch.len > t->o.out_limit ||
        loop_conn_write(c, t->scratch.data, t->scratch.len) != 0) {
        t->st.dropped++;
        return -1;
    }
    t->st.sent++;
    return 0;
}

int raft_transport_send(struct raft_transport *t, const struct raft_msg *m)
{
    struct tpeer *p = peer_find(t, m->to);
    /* A wrong sender id would make the peer close the connection: refuse it here instead. */
    if (m->from != t->o.id) {
        t->st.dropped++;
        return -1;
    }
    if (p == NULL || p->out == NULL || !p->out->ready || loop_conn_closing(p->out->c)) {
        if (p != NULL && p->out == NULL && p->retry_timer == 0)
            peer_dial(p);
        /* A server that does not know the peer yet (a new one, before the configuration reaches
         * it) answers over the connection the peer dialed. Snapshots only go out on our own. */
        struct tconn *in = m->type != RAFT_MSG_SNAPSHOT ? inbound_from(t, m->to) : NULL;
        if (in != NULL)
            return send_frame(t, in->c, m);
        t->st.dropped++;
        return -1;
    }
    if (m->type == RAFT_MSG_SNAPSHOT) {
        if (queue_snapshot(p, m) != 0) {
            t->st.dropped++;
            return -1;
        }
        t->st.sent++;
        return 0;
    }
    return send_frame(t, p->out->c, m);
}

/* ---- peers ---- */

static void peer_disconnect(struct tpeer *p)
{
    if (p->out != NULL) {
        /* Detached, not freed: its on_close (or destroy) frees the record. */
        p->out->peer = NULL;
        if (!loop_conn_closing(p->out->c))
            loop_conn_close(p->out->c);
        p->out = NULL;
    }
    if (p->retry_timer != 0)
        loop_timer_cancel(p->t->l, p->retry_timer);
    p->retry_timer = 0;
    p->up = false;
    snap_drop(p);
}

int raft_transport_set_peer(struct raft_transport *t, raft_id id, const char *addr, char *err,
                            size_t errlen)
{
    struct loop_addr la;
    if (id == 0 || id == t->o.id) {
        snprintf(err, errlen, "bad peer id %016llx", (unsigned long long)id);
        return -1;
    }
    if (strlen(addr) >= RAFT_ADDR_MAX || loop_addr_parse(addr, &la, err, errlen) != 0) {
        if (strlen(addr) >= RAFT_ADDR_MAX)
            snprintf(err, errlen, "peer address too long");
        return -1;
    }
    struct tpeer *p = peer_find(t, id);
    if (p != NULL) {
        if (strcmp(p->addr, addr) == 0)
            return 0;
        peer_disconnect(p);
    } else {
        struct tpeer **v = realloc(t->peers, (t->n_peers + 1) * sizeof *v);
        if (v == NULL || (p = calloc(1, sizeof *p)) == NULL) {
            if (v != NULL)
                t->peers = v;
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        t->peers = v;
        t->peers[t->n_peers++] = p;
        p->t = t;
        p->id = id;
    }
    snprintf(p->addr, sizeof p->addr, "%s", addr);
    p->la = la;
    p->backoff_ms = t->o.backoff_min_ms;
    p->failures = 0;
    peer_dial(p);
    return 0;
}

void raft_transport_remove_peer(struct raft_transport *t, raft_id id)
{
    for (size_t i = 0; i < t->n_peers; i++) {
        struct tpeer *p = t->peers[i];
        if (p->id != id)
            continue;
        peer_disconnect(p);
        free(p);
        t->peers[i] = t->peers[--t->n_peers];
        return;
    }
}

bool raft_transport_peer_up(const struct raft_transport *t, raft_id id)
{
    const struct tpeer *p = peer_find(t, id);
    return p != NULL && p->up;
}

size_t raft_transport_pending(const struct raft_transport *t, raft_id id)
{
    const struct tpeer *p = peer_find(t, id);
    return p != NULL && p->out != NULL ? loop_conn_out_pending(p->out->c) : 0;
}

void raft_transport_flush(struct raft_transport *t)
{
    for (size_t i = 0; i < t->n_peers; i++) {
        struct tpeer *p = t->peers[i];
        if (p->out != NULL && p->out->ready && !loop_conn_closing(p->out->c))
            loop_conn_flush(p->out->c);
    }
}

/* ---- lifecycle ---- */

struct raft_transport *raft_transport_create(struct loop *l, const struct raft_transport_opts *o,
                                             const struct raft_transport_cbs *cbs, void *ctx,
                                             char *err, size_t errlen)
{
    struct raft_transport *t = calloc(1, sizeof *t);
    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->l = l;
    t->log = loop_logger(l);
    t->o = *o;
    t->cbs = *cbs;
    if (o->rpc != NULL) {
        t->rpc = *o->rpc;
        t->has_rpc = true;
    }
    t->o.rpc = NULL;
    t->ctx = ctx;
    if (t->o.out_limit == 0)
        t->o.out_limit = 64u << 20;
    if (t->o.snapshot_max == 0)
        t->o.snapshot_max = 1ull << 30;
    if (t->o.backoff_min_ms == 0)
        t->o.backoff_min_ms = 50;
    if (t->o.backoff_max_ms < t->o.backoff_min_ms)
        t->o.backoff_max_ms = t->o.backoff_min_ms > 5000 ? t->o.backoff_min_ms : 5000;
    if (t->o.handshake_ms == 0)
        t->o.handshake_ms = 5000;
    if (t->o.max_inbound == 0)
        t->o.max_inbound = 256;
    t->jitter = o->id ? o->id : 1;
    buf_init(&t->scratch, 0);
    t->hello.version_min = RAFT_WIRE_VERSION_MIN;
    t->hello.version_max = RAFT_WIRE_VERSION_MAX;
    t->hello.id = o->id;
    snprintf(t->hello.addr, sizeof t->hello.addr, "%s", o->addr ? o->addr : "");
    snprintf(t->hello.cluster, sizeof t->hello.cluster, "%s", o->cluster ? o->cluster : "");
    t->hello.cluster_id = o->cluster_id;
    struct buf probe;
    buf_init(&probe, 0);
    int ok = raft_wire_encode_hello(&t->hello, &probe);
    buf_free(&probe);
    if (ok != 0 || strlen(o->addr ? o->addr : "") >= sizeof t->hello.addr ||
        strlen(o->cluster ? o->cluster : "") >= sizeof t->hello.cluster) {
        snprintf(err, errlen, "invalid server id, advertised address or cluster name");
        free(t);
        return NULL;
    }
    t->hook = loop_before_sleep_add(l, pump_snapshots, t);
    if (t->hook == 0) {
        snprintf(err, errlen, "out of memory");
        free(t);
        return NULL;
    }
    if (o->listen != NULL) {
        struct loop_conn_opts co = conn_opts(t);
        t->ls = loop_tcp_listen(l, o->listen, &co, &conn_cbs, on_accept, t, err, errlen);
        if (t->ls == NULL) {
            loop_before_sleep_del(l, t->hook);
            free(t);
            return NULL;
        }
    }
    return t;
}

void raft_transport_destroy(struct raft_transport *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n_peers; i++) {
        peer_disconnect(t->peers[i]);
        free(t->peers[i]);
    }
    free(t->peers);
    while (t->conns != NULL) {
        struct tconn *tc = t->conns;
        loop_conn_set_ctx(tc->c, NULL);
        if (!loop_conn_closing(tc->c))
            loop_conn_close(tc->c);
        bool rpc = tc->rpc;
        void *rc = tc->rpc_ctx;
        struct loop_conn *c = tc->c;
        tconn_free(tc);
        if (rpc)
            t->rpc.on_close(rc, c);
    }
    if (t->ls != NULL)
        loop_listener_close(t->ls);
    loop_before_sleep_del(t->l, t->hook);
    buf_free(&t->scratch);
    free(t);
}

const struct loop_addr *raft_transport_listen_addr(const struct raft_transport *t)
{
    return t->ls ? loop_listener_addr(t->ls) : NULL;
}

void raft_transport_stats(const struct raft_transport *t, struct raft_transport_stats *out)
{
    *out = t->st;
}
