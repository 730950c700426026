/* rpc_serve.c — the serving side of agent RPC: a forwarded request arriving on the Raft port is
 * replayed against this agent's own HTTP API (so it meets exactly the handlers a local caller
 * would), and the answer goes back as one response frame. One request per connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/rpc_frame.h"
#include "agent/rpc_fwd.h"
#include "http/parser.h"
#include "loop/net.h"

#define SUBSYS "rpc"

struct sconn {
    struct agent *a;
    struct loop_conn *c;  /* from the forwarding agent */
    struct loop_conn *h;  /* to our own HTTP listener, while the request runs */
    bool busy;
    uint64_t timer;       /* the request must arrive within RPC_REQUEST_MS */
    struct http_parser p;
};

/* The Raft handshake timer stops at the hand-over: this bound replaces it, so a connection that
 * says "TRPC" and then nothing cannot hold an inbound slot forever. */
#define RPC_REQUEST_MS 10000

static void reply(struct sconn *s, const struct agent_rpc_frame *f)
{
    struct buf b;
    buf_init(&b, 0);
    if (agent_rpc_encode(f, &b) == 0)
        loop_conn_write(s->c, b.data, b.len);
    buf_free(&b);
    loop_conn_end(s->c);
}

static void reply_error(struct sconn *s, int status, const char *text)
{
    struct agent_rpc_frame f = {.type = AGENT_RPC_RESPONSE, .status = (uint16_t)status};
    f.content_type = (struct agent_rpc_str){"text/plain; charset=utf-8", 25};
    f.body = (const uint8_t *)text;
    f.body_len = strlen(text);
    reply(s, &f);
}

static struct agent_rpc_str hdr(const struct http_message *m, const char *name)
{
    const char *v = http_msg_header(m, name);
    return v ? (struct agent_rpc_str){v, strlen(v)} : (struct agent_rpc_str){"", 0};
}

static void h_data(struct loop_conn *h, struct buf *in, void *ctx)
{
    struct sconn *s = ctx;
    if (s == NULL) {
        buf_clear(in);
        return;
    }
    size_t used = 0;
    enum http_parse_rc rc = http_parser_feed(&s->p, in->data, in->len, &used);
    buf_clear(in);
    if (rc == HTTP_PARSE_MORE)
        return;
    loop_conn_set_ctx(h, NULL);
    loop_conn_close(h);
    s->h = NULL;
    if (rc == HTTP_PARSE_ERROR) {
        reply_error(s, 500, s->p.err_status == 413
                                ? "rpc error: answer too large to forward (over 1 MiB)"
                                : "rpc error: unreadable answer from the local HTTP API");
        return;
    }
    const struct http_message *m = &s->p.msg;
    struct agent_rpc_frame f = {.type = AGENT_RPC_RESPONSE, .status = (uint16_t)m->status};
    f.index = hdr(m, "X-Consul-Index");
    f.known_leader = hdr(m, "X-Consul-KnownLeader");
    f.last_contact = hdr(m, "X-Consul-LastContact");
    f.content_type = hdr(m, "Content-Type");
    f.body = m->body.data;
    f.body_len = m->body.len;
    reply(s, &f);
}

static void h_close(struct loop_conn *h, enum loop_close_reason why, int err, void *ctx)
{
    (void)h;
    (void)err;
    struct sconn *s = ctx;
    if (s == NULL || why == LOOP_CLOSE_SHUTDOWN)
        return;
    s->h = NULL;
    if (http_parser_eof(&s->p) == HTTP_PARSE_DONE)
        return; /* cannot happen with Content-Length answers; nothing to relay then */
    reply_error(s, 500, "rpc error: the local HTTP API closed the request");
}

static void run(struct sconn *s, const struct agent_rpc_frame *f)
{
    if (f->type != AGENT_RPC_REQUEST) {
        loop_conn_close(s->c);
        return;
    }
    s->busy = true;
    if (f->hops > AGENT_RPC_MAX_HOPS) {
        reply_error(s, 500, "rpc error: request forwarded too many times");
        return;
    }
    /* Our HTTP listener may be bound to a wildcard: dial it on loopback then. */
    struct loop_addr to = *http_server_addr(s->a->http);
    if (to.ss.ss_family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&to.ss;
        if (sin->sin_addr.s_addr == htonl(INADDR_ANY))
            sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    static const struct loop_conn_cbs cbs = {NULL, h_data, h_close};
    static const struct loop_conn_opts co = {"rpc", 0, AGENT_RPC_FRAME_MAX + 8};
    char err[160];
    s->h = loop_tcp_connect(s->a->loop, &to, &co, &cbs, s, err, sizeof err);
    if (s->h == NULL) {
        reply_error(s, 500, "rpc error: cannot reach the local HTTP API");
        return;
    }
    char head[512 + 8192];
    int n = snprintf(head, sizeof head,
                     "%.*s %.*s HTTP/1.1\r\nHost: rpc\r\nX-Tribune-Rpc-Hops: %u\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     (int)f->method.n, f->method.p, (int)f->target.n, f->target.p,
                     (unsigned)f->hops, f->body_len);
    if (n < 0 || (size_t)n >= sizeof head) {
        reply_error(s, 414, "URI Too Long");
        return;
    }
    if (f->method.n == 4 && memcmp(f->method.p, "HEAD", 4) == 0)
        http_parser_expect_no_body(&s->p);
    loop_conn_write(s->h, head, (size_t)n);
    if (f->body_len > 0)
        loop_conn_write(s->h, f->body, f->body_len);
}

static void rpc_data(void *ctx, struct loop_conn *c, struct buf *in)
{
    struct sconn *s = ctx;
    if (s->busy) {
        buf_clear(in); /* one request per connection: anything after it is ignored */
        return;
    }
    struct agent_rpc_frame f;
    size_t used = 0;
    char err[160];
    enum agent_rpc_status st = agent_rpc_decode(in->data, in->len, &f, &used, err, sizeof err);
    if (st == AGENT_RPC_NEED_MORE)
        return;
    if (st == AGENT_RPC_ERROR) {
        log_printf(s->a->lg, LOG_WARN, SUBSYS, "closing rpc connection: %s", err);
        buf_clear(in);
        loop_conn_close(c);
        return;
    }
    if (s->timer != 0) {
        loop_timer_cancel(s->a->loop, s->timer);
        s->timer = 0;
    }
    run(s, &f);
    buf_clear(in);
}

static void request_timeout(struct loop *l, uint64_t id, void *ctx)
{
    (void)l;
    (void)id;
    struct sconn *s = ctx;
    s->timer = 0;
    if (!s->busy) {
        log_printf(s->a->lg, LOG_WARN, SUBSYS, "closing rpc connection: no request within %u ms",
                   (unsigned)RPC_REQUEST_MS);
        loop_conn_close(s->c);
    }
}

static void rpc_close(void *ctx, struct loop_conn *c)
{
    (void)c;
    struct sconn *s = ctx;
    if (s->timer != 0)
        loop_timer_cancel(s->a->loop, s->timer);
    if (s->h != NULL) {
        loop_conn_set_ctx(s->h, NULL);
        loop_conn_close(s->h);
    }
    http_parser_free(&s->p);
    free(s);
}

static void *rpc_accept(void *ctx, struct loop_conn *c, struct buf *in)
{
    struct agent *a = ctx;
    if (a->http == NULL)
        return NULL;
    struct sconn *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->a = a;
    s->c = c;
    struct http_limits lim = {0, 0, 0, AGENT_RPC_FRAME_MAX - 64 * 1024};
    http_parser_init(&s->p, HTTP_PARSE_RESPONSE, &lim);
    buf_consume(in, AGENT_RPC_MAGIC_LEN);
    s->timer = loop_timer_add(a->loop, RPC_REQUEST_MS, request_timeout, s);
    if (in->len > 0)
        rpc_data(s, c, in);
    return s;
}

void agent_rpc_hook(struct agent *a, struct raft_transport_rpc *out)
{
    *out = (struct raft_transport_rpc){rpc_accept, rpc_data, rpc_close, a};
}
