/* rpc_fwd.c — forwarding an HTTP API request to another agent over RPC: a client sends catalog,
 * health and KV requests to a server (failing over between servers), a follower sends writes
 * and non-stale reads to the leader; the answer is relayed to the HTTP client unchanged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/rpc_fwd.h"
#include "agent/rpc_frame.h"
#include "gossip/gossip.h"
#include "http/query.h"
#include "loop/net.h"

#define SUBSYS "rpc"
#define FWD_MAX_TRIES 8
#define FWD_TIMEOUT_MS 10000

struct fwd {
    struct agent *a;
    struct http_req *r; /* NULL once answered or cancelled */
    struct loop_conn *c;
    uint64_t timer;
    uint64_t timeout_ms;
    bool to_leader;     /* false: any alive server (a client) */
    struct buf frame;   /* magic + request frame, kept for a retry on another server */
    char tried[FWD_MAX_TRIES][LOOP_ADDR_STRLEN];
    size_t ntried;
    char addr[LOOP_ADDR_STRLEN];
};

unsigned agent_rpc_hops(const struct http_req *r)
{
    const char *h = http_msg_header(http_req_msg(r), "X-Tribune-Rpc-Hops");
    if (h == NULL)
        return 0;
    char *end;
    unsigned long v = strtoul(h, &end, 10);
    return *end != '\0' || v > 255 ? 255 : (unsigned)v;
}

static bool tried(const struct fwd *f, const char *addr)
{
    for (size_t i = 0; i < f->ntried; i++)
        if (strcmp(f->tried[i], addr) == 0)
            return true;
    return false;
}

/* The next server to try: an alive server of our datacenter not tried yet, starting at a
 * position that spreads clients over the servers. */
static bool pick_server(struct fwd *f)
{
    const struct gossip *g = gossip_node_core(f->a->gossip);
    size_t n = gossip_member_count(g);
    size_t start = n ? (size_t)(f->a->raft_id % n) : 0;
    for (size_t k = 0; k < n; k++) {
        const struct gossip_member *m = gossip_member_at(g, (start + k) % n);
        if (m->tags.role != GOSSIP_ROLE_SERVER || strcmp(m->tags.dc, f->a->cfg->datacenter) != 0 ||
            m->state != GOSSIP_STATE_ALIVE)
            continue;
        char ip[64];
        snprintf(f->addr, sizeof f->addr, "%s:%u", agent_gossip_ip(&m->addr, ip, sizeof ip),
                 (unsigned)m->tags.rpc_port);
        if (!tried(f, f->addr))
            return true;
    }
    return false;
}

static void answer_error(struct fwd *f, const char *fmt, const char *arg)
{
    if (f->r == NULL)
        return;
    char msg[256];
    snprintf(msg, sizeof msg, fmt, arg);
    http_respond_text(f->r, 500, msg);
    f->r = NULL;
}

static void fwd_cancel(struct http_req *r, void *ctx)
{
    (void)r;
    struct fwd *f = ctx;
    f->r = NULL;
    if (f->c != NULL)
        loop_conn_close(f->c);
}

static void copy_str(char *dst, size_t cap, struct agent_rpc_str s)
{
    size_t n = s.n < cap - 1 ? s.n : cap - 1;
    memcpy(dst, s.p, n);
    dst[n] = '\0';
}

static void relay(struct fwd *f, const struct agent_rpc_frame *rf)
{
    char v[128];
    static const char *const names[] = {"X-Consul-Index", "X-Consul-KnownLeader",
                                        "X-Consul-LastContact"};
    const struct agent_rpc_str vals[] = {rf->index, rf->known_leader, rf->last_contact};
    for (size_t i = 0; i < 3; i++)
        if (vals[i].n > 0) {
            copy_str(v, sizeof v, vals[i]);
            http_req_header(f->r, names[i], v);
        }
    char ct[128] = "text/plain; charset=utf-8";
    if (rf->content_type.n > 0)
        copy_str(ct, sizeof ct, rf->content_type);
    http_respond(f->r, rf->status, ct, rf->body, rf->body_len);
    f->r = NULL;
}

static void fwd_data(struct loop_conn *c, struct buf *in, void *ctx)
{
    struct fwd *f = ctx;
    struct agent_rpc_frame rf;
    size_t used = 0;
    char err[160];
    enum agent_rpc_status st = agent_rpc_decode(in->data, in->len, &rf, &used, err, sizeof err);
    if (st == AGENT_RPC_NEED_MORE)
        return;
    if (st == AGENT_RPC_ERROR || rf.type != AGENT_RPC_RESPONSE) {
        log_printf(f->a->lg, LOG_WARN, SUBSYS, "bad answer from %s: %s", f->addr,
                   st == AGENT_RPC_ERROR ? err : "not a response");
        answer_error(f, "rpc error: bad answer from %s", f->addr);
    } else if (f->r != NULL) {
        relay(f, &rf);
    }
    buf_clear(in);
    loop_conn_close(c);
}

static int fwd_dial(struct fwd *f);

static void fwd_close(struct loop_conn *c, enum loop_close_reason why, int err, void *ctx)
{
    (void)c;
    struct fwd *f = ctx;
    f->c = NULL;
    /* A server that cannot be reached is tried no more; a client fails over to another. */
    if (f->r != NULL && why == LOOP_CLOSE_CONNECT) {
        log_printf(f->a->lg, LOG_WARN, SUBSYS, "cannot reach server %s: %s", f->addr,
                   strerror(err));
        if (!f->to_leader && fwd_dial(f) == 0)
            return;
    }
    if (f->r != NULL)
        answer_error(f, "rpc error: connection to %s closed before an answer", f->addr);
    if (why != LOOP_CLOSE_SHUTDOWN && f->timer != 0)
        loop_timer_cancel(f->a->loop, f->timer);
    buf_free(&f->frame);
    free(f);
}

static void fwd_timeout(struct loop *l, uint64_t id, void *ctx)
{
    (void)l;
    (void)id;
    struct fwd *f = ctx;
    f->timer = 0;
    answer_error(f, "rpc error: timeout waiting for %s", f->addr);
    if (f->c != NULL)
        loop_conn_close(f->c);
}

/* Connects to the next address and queues the request: 0, or -1 when there is none left. */
static int fwd_dial(struct fwd *f)
{
    static const struct loop_conn_cbs cbs = {NULL, fwd_data, fwd_close};
    static const struct loop_conn_opts co = {"rpc", AGENT_RPC_FRAME_MAX + 8, 0};
    while (f->ntried < FWD_MAX_TRIES) {
        if (f->to_leader) {
            if (f->ntried > 0)
                return -1;
            snprintf(f->addr, sizeof f->addr, "%s", raft_node_leader_addr(f->a->raft));
        } else if (!pick_server(f)) {
            return -1;
        }
        snprintf(f->tried[f->ntried++], sizeof f->tried[0], "%s", f->addr);
        struct loop_addr to;
        char err[160];
        if (loop_addr_parse(f->addr, &to, err, sizeof err) != 0)
            continue;
        f->c = loop_tcp_connect(f->a->loop, &to, &co, &cbs, f, err, sizeof err);
        if (f->c == NULL)
            continue;
        loop_conn_write(f->c, f->frame.data, f->frame.len);
        log_printf(f->a->lg, LOG_DEBUG, SUBSYS, "forwarded request to %s %s",
                   f->to_leader ? "the leader at" : "server", f->addr);
        return 0;
    }
    return -1;
}

int agent_rpc_forward(struct agent *a, struct http_req *r, bool write)
{
    const struct http_message *m = http_req_msg(r);
    unsigned hops = agent_rpc_hops(r);
    struct http_query_opts qo;
    const char *errmsg;
    if (http_query_opts_parse(m, &qo, &errmsg) != 0)
        memset(&qo, 0, sizeof qo); /* the agent answering it says what is wrong */
    bool to_leader;
    if (a->raft == NULL) {
        to_leader = false;
    } else {
        if (raft_node_is_leader(a->raft) || raft_node_leader_id(a->raft) == 0)
            return AGENT_FWD_LOCAL;
        if (!write && qo.consistency == HTTP_CONSISTENCY_STALE)
            return AGENT_FWD_LOCAL;
        if (a->consistent_pass || a->rerun != NULL)
            return AGENT_FWD_LOCAL;
        to_leader = true;
    }
    if (hops >= AGENT_RPC_MAX_HOPS) {
        if (to_leader)
            return AGENT_FWD_LOCAL;
        http_respond_text(r, 500, "rpc error: request forwarded too many times");
        return AGENT_FWD_ANSWERED;
    }
    struct fwd *f = calloc(1, sizeof *f);
    if (f == NULL) {
        http_respond_text(r, 500, "out of memory");
        return AGENT_FWD_ANSWERED;
    }
    f->a = a;
    f->r = r;
    f->to_leader = to_leader;
    buf_init(&f->frame, AGENT_RPC_FRAME_MAX + 16);
    struct agent_rpc_frame rf = {.type = AGENT_RPC_REQUEST, .hops = (uint8_t)(hops + 1)};
    rf.method = (struct agent_rpc_str){m->method_name, strlen(m->method_name)};
    rf.target = (struct agent_rpc_str){m->target, strlen(m->target)};
    rf.body = m->body.data;
    rf.body_len = m->body.len;
    if (buf_append(&f->frame, AGENT_RPC_MAGIC, AGENT_RPC_MAGIC_LEN) != 0 ||
        agent_rpc_encode(&rf, &f->frame) != 0) {
        buf_free(&f->frame);
        free(f);
        http_respond_text(r, 413, "request too large to forward");
        return AGENT_FWD_ANSWERED;
    }
    if (fwd_dial(f) != 0) {
        buf_free(&f->frame);
        free(f);
        http_respond_text(r, 500, to_leader ? "No cluster leader" : "No known Consul servers");
        return AGENT_FWD_ANSWERED;
    }
    /* A blocking read waits on the server: allow its whole wait on top of the usual bound. */
    f->timeout_ms = FWD_TIMEOUT_MS + (qo.blocking ? qo.wait_ms + qo.wait_ms / 16 : 0);
    f->timer = loop_timer_add(a->loop, f->timeout_ms, fwd_timeout, f);
    http_req_on_cancel(r, fwd_cancel, f);
    return AGENT_FWD_PENDING;
}
