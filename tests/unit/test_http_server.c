/* test_http_server.c — the server end to end on 127.0.0.1, raw sockets against loop_run_once:
 * routing, keep-alive, pipelining, deferred answers, cancel, timeouts, limits, cap, streaming. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/json.h"
#include "http/server.h"

/* Iterations of at most 5 ms each before a wait is declared hung: bounds a broken test, never
 * decides a result. */
#define PUMP_MAX 4000

struct h {
    struct loop *l;
    struct http_server *s;
    struct http_req *pending;
    int cancels;
    int calls;
};

struct cli {
    int fd;
    struct buf in;
    bool eof;
};

/* ---- handlers ---- */

static enum http_disposition h_json(struct http_req *r, void *ctx)
{
    struct h *h = ctx;
    h->calls++;
    struct buf b;
    buf_init(&b, 0);
    struct json_wr w;
    json_wr_init(&w, &b);
    json_wr_obj_begin(&w);
    json_wr_key(&w, "Key");
    json_wr_str(&w, "a");
    json_wr_key(&w, "Value");
    json_wr_arr_begin(&w);
    json_wr_int(&w, 1);
    json_wr_int(&w, 2);
    json_wr_arr_end(&w);
    json_wr_key(&w, "Empty");
    json_wr_obj_begin(&w);
    json_wr_obj_end(&w);
    json_wr_obj_end(&w);
    assert_true(json_wr_ok(&w));
    assert_int_equal(http_req_header(r, "X-Consul-Index", "42"), 0);
    assert_int_equal(http_req_header(r, "Content-Length", "1"), -1); /* the server's own */
    assert_int_equal(http_req_header(r, "X-Bad", "a\r\nInjected: 1"), -1);
    http_respond_json(r, 200, &b);
    buf_free(&b);
    return HTTP_DONE;
}

static enum http_disposition h_echo(struct http_req *r, void *ctx)
{
    struct h *h = ctx;
    h->calls++;
    const struct http_message *m = http_req_msg(r);
    struct buf b;
    buf_init(&b, 0);
    buf_append(&b, m->method_name, strlen(m->method_name));
    buf_append(&b, " ", 1);
    buf_append(&b, http_req_suffix(r), strlen(http_req_suffix(r)));
    buf_append(&b, " ", 1);
    buf_append(&b, m->body.data, m->body.len);
    http_respond(r, 200, "text/plain", b.data, b.len);
    buf_free(&b);
    return HTTP_DONE;
}

static enum http_disposition h_special(struct http_req *r, void *ctx)
{
    (void)ctx;
    http_respond_text(r, 200, "special");
    return HTTP_DONE;
}

static void h_cancel(struct http_req *r, void *ctx)
{
    struct h *h = ctx;
    assert_ptr_equal(r, h->pending);
    h->pending = NULL;
    h->cancels++;
}

static enum http_disposition h_defer(struct http_req *r, void *ctx)
{
    struct h *h = ctx;
    h->calls++;
    assert_null(h->pending);
    h->pending = r;
    http_req_on_cancel(r, h_cancel, h);
    return HTTP_PENDING;
}

static enum http_disposition h_stream(struct http_req *r, void *ctx)
{
    struct h *h = ctx;
    h->calls++;
    h->pending = r;
    http_req_on_cancel(r, h_cancel, h);
    assert_int_equal(http_stream_begin(r, 200, "text/plain"), 0);
    return HTTP_PENDING;
}

/* Answers first, then reads the request it answered (a big body, so a reset would free it). */
static enum http_disposition h_after(struct http_req *r, void *ctx)
{
    struct h *h = ctx;
    const struct http_message *m = http_req_msg(r);
    http_respond_text(r, 200, "ok");
    size_t good = 0;
    for (size_t i = 0; i < m->body.len; i++)
        good += m->body.data[i] == (uint8_t)('a' + i % 26);
    h->calls = good == m->body.len && strcmp(m->path, "/after") == 0 ? (int)m->body.len : -1;
    return HTTP_DONE;
}

static enum http_disposition h_noresp(struct http_req *r, void *ctx)
{
    (void)r;
    (void)ctx;
    return HTTP_DONE;
}

/* ---- harness ---- */

static void h_start(struct h *h, const struct http_server_opts *o)
{
    memset(h, 0, sizeof *h);
    char err[256];
    h->l = loop_create(NULL, err, sizeof err);
    assert_non_null(h->l);
    h->s = http_server_start(h->l, "127.0.0.1:0", o, err, sizeof err);
    assert_non_null(h->s);
    assert_int_equal(http_route_add(h->s, HTTP_GET | HTTP_HEAD, "/v1/json", h_json, h), 0);
    assert_int_equal(http_route_add(h->s, HTTP_GET | HTTP_PUT | HTTP_DELETE, "/v1/kv/", h_echo, h),
                     0);
    assert_int_equal(http_route_add(h->s, HTTP_GET, "/v1/kv/special/", h_special, h), 0);
    assert_int_equal(http_route_add(h->s, HTTP_GET, "/defer", h_defer, h), 0);
    assert_int_equal(http_route_add(h->s, HTTP_GET, "/stream", h_stream, h), 0);
    assert_int_equal(http_route_add(h->s, HTTP_GET, "/noresp", h_noresp, h), 0);
    assert_int_equal(http_route_add(h->s, HTTP_PUT, "/after", h_after, h), 0);
    assert_int_equal(http_route_add(h->s, HTTP_GET, "no-slash", h_noresp, h), -1);
}

static void h_stop(struct h *h)
{
    http_server_stop(h->s);
    loop_destroy(h->l);
}

static void cli_open(struct h *h, struct cli *c)
{
    const struct loop_addr *a = http_server_addr(h->s);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(c->fd >= 0);
    assert_int_equal(connect(c->fd, (const struct sockaddr *)&a->ss, a->len), 0);
    assert_int_equal(fcntl(c->fd, F_SETFL, O_NONBLOCK), 0);
    buf_init(&c->in, 0);
    c->eof = false;
}

static void cli_close(struct cli *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    buf_free(&c->in);
}

static void cli_send(struct cli *c, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EAGAIN)
            continue;
        assert_true(w > 0);
        s += w;
        n -= (size_t)w;
    }
}

static void cli_sends(struct cli *c, const char *s)
{
    cli_send(c, s, strlen(s));
}

static void pump(struct h *h, struct cli *c)
{
    assert_true(loop_run_once(h->l, 5) >= 0);
    if (c == NULL || c->fd < 0 || c->eof)
        return;
    for (;;) {
        uint8_t tmp[8192];
        ssize_t n = recv(c->fd, tmp, sizeof tmp, 0);
        if (n > 0) {
            buf_append(&c->in, tmp, (size_t)n);
            continue;
        }
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            c->eof = true;
        break;
    }
}

/* Reads one response into p (initialized here; the caller frees it). */
static enum http_parse_rc cli_resp(struct h *h, struct cli *c, struct http_parser *p)
{
    http_parser_init(p, HTTP_PARSE_RESPONSE, NULL);
    for (int i = 0; i < PUMP_MAX; i++) {
        if (c->in.len > 0) {
            size_t used;
            enum http_parse_rc rc = http_parser_feed(p, c->in.data, c->in.len, &used);
            buf_consume(&c->in, used);
            if (rc != HTTP_PARSE_MORE)
                return rc;
        }
        if (c->eof)
            return http_parser_eof(p);
        pump(h, c);
    }
    fail_msg("no response");
    return HTTP_PARSE_ERROR;
}

/* One request, one response with the given status; returns the body in out (may be NULL). */
static void expect(struct h *h, struct cli *c, const char *req, int status, const char *body)
{
    if (req != NULL)
        cli_sends(c, req);
    struct http_parser p;
    assert_int_equal(cli_resp(h, c, &p), HTTP_PARSE_DONE);
    assert_int_equal(p.msg.status, status);
    if (body != NULL) {
        if (p.msg.body.len != strlen(body) || memcmp(p.msg.body.data, body, p.msg.body.len) != 0)
            fail_msg("body %.*s, want %s", (int)p.msg.body.len, (char *)p.msg.body.data, body);
    }
    const char *cl = http_msg_header(&p.msg, "Content-Length");
    if (status != 204 && !p.msg.chunked) {
        assert_non_null(cl);
    }
    http_parser_free(&p);
}

static void wait_eof(struct h *h, struct cli *c)
{
    for (int i = 0; i < PUMP_MAX && !c->eof; i++)
        pump(h, c);
    assert_true(c->eof);
}

#define PUMP_UNTIL(h, c, cond)                                                                     \
    do {                                                                                           \
        int i_;                                                                                    \
        for (i_ = 0; i_ < PUMP_MAX && !(cond); i_++)                                               \
            pump(h, c);                                                                            \
        assert_true(cond);                                                                         \
    } while (0)

/* ---- tests ---- */

static void json_route_headers_and_pretty(void **state)
{
    (void)state;
    struct h h;
    h_start(&h, NULL);
    struct cli c;
    cli_open(&h, &c);
    cli_sends(&c, "GET /v1/json HTTP/1.1\r\nHost: x\r\n\r\n");
    struct http_parser p;
    assert_int_equal(cli_resp(&h, &c, &p), HTTP_PARSE_DONE);
    assert_int_equal(p.msg.status, 200);
    assert_string_equal(http_msg_header(&p.msg, "Content-Type"), "application/json");
    assert_string_equal(http_msg_header(&p.msg, "X-Consul-Index"), "42");
    assert_non_null(http_msg_header(&p.msg, "Date"));
    assert_null(http_msg_header(&p.msg, "Injected"));
    static const char compact[] = "{\"Key\":\"a\",\"Value\":[1,2],\"Empty\":{}}";
    assert_int_equal(p.msg.body.len, strlen(compact));
    assert_memory_equal(p.msg.body.data, compact, strlen(compact));
    assert_int_equal(p.msg.content_length, (int64_t)strlen(compact));
    http_parser_free(&p);

    static const char pretty[] = "{\n    \"Key\": \"a\",\n    \"Value\": [\n        1,\n        2\n"
                                 "    ],\n    \"Empty\": {}\n}";
    expect(&h, &c, "GET /v1/json?pretty HTTP/1.1\r\nHost: x\r\n\r\n", 200, pretty);

    /* HEAD: the length of the GET body, and no body */
    cli_sends(&c, "HEAD /v1/json HTTP/1.1\r\nHost: x\r\n\r\n");
    http_parser_init(&p, HTTP_PARSE_RESPONSE, NULL);
    http_parser_expect_no_body(&p);
    for (int i = 0; i < PUMP_MAX && c.in.len == 0; i++)
        pump(&h, &c);
    size_t used;
    assert_int_equal(http_parser_feed(&p, c.in.data, c.in.len, &used), HTTP_PARSE_DONE);
    assert_int_equal(used, c.in.len); /* nothing after the head */
    buf_consume(&c.in, used);
    assert_int_equal(p.msg.content_length, (int64_t)strlen(compact));
    http_parser_free(&p);
    expect(&h, &c, "GET /v1/json HTTP/1.1\r\nHost: x\r\n\r\n", 200, compact);
    cli_close(&c);
    h_stop(&h);
}

static void routing_404_405_prefix_and_banner(void **state)
{
    (void)state;
    struct h h;
    h_start(&h, NULL);
    struct cli c;
    cli_open(&h, &c);
    expect(&h, &c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 200, "Tribune Agent");
    expect(&h, &c, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404, "404 page not found\n");
    expect(&h, &c, "GET /v1/kv HTTP/1.1\r\nHost: x\r\n\r\n", 404, NULL);
    expect(&h, &c, "GET /v1/kv/a/b%2Fc?recurse HTTP/1.1\r\nHost: x\r\n\r\n", 200, "GET a/b/c ");
    expect(&h, &c, "PUT /v1/kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nv=1", 200,
           "PUT k v=1");
    expect(&h, &c, "GET /v1/kv/special/x HTTP/1.1\r\nHost: x\r\n\r\n", 200, "special\n");

    cli_sends(&c, "POST /v1/kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    struct http_parser p;
    assert_int_equal(cli_resp(&h, &c, &p), HTTP_PARSE_DONE);
    assert_int_equal(p.msg.status, 405);
    assert_string_equal(http_msg_header(&p.msg, "Allow"), "GET, HEAD, PUT, DELETE");
    http_parser_free(&p);

    /* a handler that forgets to answer yields a 500, not a hung client */
    expect(&h, &c, "GET /noresp HTTP/1.1\r\nHost: x\r\n\r\n", 500, NULL);
    assert_int_equal(http_server_conn_count(h.s), 1); /* all on one kept-alive connection */
    cli_close(&c);
    h_stop(&h);
}

static void connection_close_and_http10(void **state)
{
    (void)state;
    struct h h;
    h_start(&h, NULL);
    struct cli c;
    cli_open(&h, &c);
    cli_sends(&c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    struct http_parser p;
    assert_int_equal(cli_resp(&h, &c, &p), HTTP_PARSE_DONE);
    assert_string_equal(http_msg_header(&p.msg, "Connection"), "close");
    http_parser_free(&p);
    wait_eof(&h, &c);
    cli_close(&c);

    cli_open(&h, &c); /* 1.0 without keep-alive: answered, then closed */
    expect(&h, &c, "GET / HTTP/1.0\r\n\r\n", 200, "Tribune Agent");
    wait_eof(&h, &c);
    cli_close(&c);

    cli_open(&h, &c); /* 1.0 with keep-alive: stays open */
    cli_sends(&c, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_int_equal(cli_resp(&h, &c, &p), HTTP_PARSE_DONE);
    assert_string_equal(http_msg_header(&p.msg, "Connection"), "keep-alive");
    http_parser_free(&p);
    expect(&h, &c, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, "Tribune Agent");
    assert_false(c.eof);
    cli_close(&c);
    PUMP_UNTIL(&h, NULL, http_server_conn_count(h.s) == 0);
    h_stop(&h);
}

static void pipelined_requests_answer_in_order_around_a_deferred_one(void **state)
{
    (void)state;
    struct h h;
    h_start(&h, NULL);
    struct cli c;
    cli_open(&h, &c);
    cli_sends(&c, "GET /v1/kv/one HTTP/1.1\r\nHost: x\r\n\r\n"
                  "GET /defer HTTP/1.1\r\nHost: x\r\n\r\n"
                  "DELETE /v1/kv/three HTTP/1.1\r\nHost: x\r\n\r\n");
    PUMP_UNTIL(&h, &c, h.pending != NULL);
    for (int i = 0; i < 20; i++)
        pump(&h, &c);
    assert_int_equal(h.calls, 2); /* the third waits behind the deferred second */
    expect(&h, &c, NULL, 200, "GET one ");
    assert_int_equal(c.in.len, 0);

    struct http_req *r = h.pending;
    h.pending = NULL;
    assert_string_equal(http_req_msg(r)->path, "/defer");
    assert_int_equal(http_respond_text(r, 200, "late"), 0);
    expect(&h, &c, NULL, 200, "late\n");
    expect(&h, &c, NULL, 200, "DELETE three ");
    assert_int_equal(h.calls, 3);
    assert_int_equal(h.cancels, 0);
    cli_close(&c);
    h_stop(&h);
}

static void deferred_then_keepalive_reuse(void **state)
{
    (void)state;
    struct h h;
    h_start(&h, NULL);
    struct cli c;
    cli_open(&h, &c);
    cli_sends(&c, "GET /defer?index=5&wait=10s HTTP/1.1\r\nHost: x\r\n\r\n");
    PUMP_UNTIL(&h, &c, h.pending != NULL);
    const char *v;
    assert_true(http_req_param(h.pending, "index", &v));
    assert_string_equal(v, "5");
    assert_int_equal(http_req_header(h.pending, "X-Consul-Index", "6"), 0);
    struct buf b;
    buf_init(&b, 0);
    buf_append(&b, "[]", 2);
    struct http_req *r = h.pending;
    h.pending = NULL;
    assert_int_equal(http_respond_json(r, 200, &b), 0);
    buf_free(&b);
    struct http_parser p;
    assert_int_equal(cli_resp(&h, &c, &p), HTTP_PARSE_DONE);
    assert_string_equal(http_msg_header(&p.msg, "X-Consul-Index"), "6");
    http_parser_free(&p);
    /* the header belonged to that response only */
    cli_sends(&c, "GET /v1/kv/a HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(cli_resp(&h, &c, &p), HTTP_PARSE_DONE);
    assert_null(http_msg_header(&p.msg, "X-Consul-Index"));
    http_parser_free(&p);
    cli_close(&c);
    h_stop(&h);
}

static void disconnect_cancels_pending(void **state)
{
    (void)state;
    struct h h;
    h_start(&h, NULL);
    struct cli c;
    cli_open(&h, &c);
    cli_sends(&c, "GET /defer HTTP/1.1\r\nHost: x\r\n\r\n");
    PUMP_UNTIL(&h, &c, h.pending != NULL);
    cli_close(&c);
    PUMP_UNTIL(&h, NULL, h.cancels == 1);
    assert_null(h.pending);
    assert_int_equal(http_server_conn_count(h.s), 0);

    /* stopping the server cancels too */
    cli_open(&h, &c);
    cli_sends(&c, "GET /defer HTTP/1.1\r\nHost: x\r\n\r\n");
    PUMP_UNTIL(&h, &c, h.pending != NULL);
    http_server_stop(h.s);
    assert_int_equal(h.cancels, 2);
    loop_destroy(h.l);
    cli_close(&c);
}

static void idle_and_slow_request_timeouts(void **state)
{
    (void)state;
    struct h h;
    struct http_server_opts o = {.idle_timeout_ms = 40, .request_timeout_ms = 400};
    h_start(&h, &o);
    struct cli idle, used, slow;
    cli_open(&h, &idle);
    cli_open(&h, &used);
    expect(&h, &used, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 200, NULL);
    wait_eof(&h, &idle);
    wait_eof(&h, &used);
    assert_int_equal(idle.in.len, 0); /* an idle close says nothing */
    cli_close(&idle);
    cli_close(&used);

    /* a slow sender keeps trickling bytes, so it is never idle; the request deadline ends it */
    cli_open(&h, &slow);
    static const char part[] = "GET / HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    size_t sent = 0;
    struct http_parser p;
    http_parser_init(&p, HTTP_PARSE_RESPONSE, NULL);
    for (int i = 0; i < PUMP_MAX && !slow.eof; i++) {
        if (sent < sizeof part - 1 && i % 4 == 0)
            cli_send(&slow, part + sent++, 1);
        pump(&h, &slow);
    }
    assert_true(slow.eof);
    size_t n;
    assert_int_equal(http_parser_feed(&p, slow.in.data, slow.in.len, &n), HTTP_PARSE_DONE);
    assert_int_equal(p.msg.status, 408);
    http_parser_free(&p);
    cli_close(&slow);
    PUMP_UNTIL(&h, NULL, http_server_conn_count(h.s) == 0);
    h_stop(&h);
}

static void set_flag(struct loop *l, uint64_t id, void *ctx)
{
    (void)l;
    (void)id;
    *(int *)ctx = 1;
}

static void pending_request_outlives_idle_timeout(void **state)
{
    (void)state;
    struct h h;
    struct http_server_opts o = {.idle_timeout_ms = 20, .request_timeout_ms = 20};
    h_start(&h, &o);
    struct cli c;
    cli_open(&h, &c);
    cli_sends(&c, "GET /defer?wait=1s HTTP/1.1\r\nHost: x\r\n\r\n");
    PUMP_UNTIL(&h, &c, h.pending != NULL);
    int fired = 0;
    assert_true(loop_timer_add(h.l, 200, set_flag, &fired) != 0); /* ten timeouts' worth */
    PUMP_UNTIL(&h, &c, fired);
    assert_false(c.eof);
    assert_int_equal(h.cancels, 0);
    struct http_req *r = h.pending;
    h.pending = NULL;
    assert_int_equal(http_respond_text(r, 200, "waited"), 0);
    expect(&h, &c, NULL, 200, "waited\n");
    wait_eof(&h, &c); /* and idle afterwards, so closed */
    cli_close(&c);
    h_stop(&h);
}

static void bad_requests_get_status_and_close(void **state)
{
    (void)state;
    struct h h;
    struct http_server_opts o = {.max_body = 1000};
    h_start(&h, &o);
    static const struct {
        const char *req;
        int status;
        const char *body;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400, "obsolete header line folding\n"},
        {"PUT /v1/kv/a HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n", 413, NULL},
        {"PUT /v1/kv/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n", 413,
         NULL},
        {"GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505, NULL},
        {"BREW / HTTP/1.1\r\nHost: x\r\n\r\n", 501, NULL},
        {"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
         400, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cli c;
        cli_open(&h, &c);
        cli_sends(&c, cases[i].req);
        struct http_parser p;
        assert_int_equal(cli_resp(&h, &c, &p), HTTP_PARSE_DONE);
        assert_int_equal(p.msg.status, cases[i].status);
        assert_string_equal(http_msg_header(&p.msg, "Connection"), "close");
        assert_non_null(memchr(p.msg.body.data, '\n', p.msg.body.len)); /* one line of text */
        if (cases[i].body != NULL)
            assert_memory_equal(p.msg.body.data, cases[i].body, strlen(cases[i].body));
        http_parser_free(&p);
        wait_eof(&h, &c);
        cli_close(&c);
    }

    /* a header section past 16 KiB: 431, without waiting for its end */
    struct cli c;
    cli_open(&h, &c);
    cli_sends(&c, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
    char big[20000];
    memset(big, 'b', sizeof big);
    cli_send(&c, big, sizeof big);
    struct http_parser p;
    assert_int_equal(cli_resp(&h, &c, &p), HTTP_PARSE_DONE);
    assert_int_equal(p.msg.status, 431);
    http_parser_free(&p);
    cli_close(&c);

    /* a body of exactly the limit is fine */
    cli_open(&h, &c);
    char req[1200];
    int n = snprintf(req, sizeof req,
                     "PUT /v1/kv/b HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
    memset(req + n, 'v', 1000);
    cli_send(&c, req, (size_t)n + 1000);
    assert_int_equal(cli_resp(&h, &c, &p), HTTP_PARSE_DONE);
    assert_int_equal(p.msg.status, 200);
    assert_int_equal(p.msg.body.len, 6 + 1000);
    http_parser_free(&p);
    cli_close(&c);
    h_stop(&h);
}

static void expect_continue_gets_100_first(void **state)
{
    (void)state;
    struct h h;
    h_start(&h, NULL);
    struct cli c;
    cli_open(&h, &c);
    cli_sends(&c, "PUT /v1/kv/e HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                  "Expect: 100-continue\r\n\r\n");
    struct http_parser p;
    assert_int_equal(cli_resp(&h, &c, &p), HTTP_PARSE_DONE);
    assert_int_equal(p.msg.status, 100);
    http_parser_free(&p);
    assert_int_equal(h.calls, 0);
    expect(&h, &c, "data", 200, "PUT e data");
    cli_close(&c);
    h_stop(&h);
}

static void connection_cap_refuses_with_503(void **state)
{
    (void)state;
    struct h h;
    struct http_server_opts o = {.max_conns = 2};
    h_start(&h, &o);
    struct cli a, b, c;
    cli_open(&h, &a);
    cli_open(&h, &b);
    expect(&h, &a, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 200, NULL);
    expect(&h, &b, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 200, NULL);
    assert_int_equal(http_server_conn_count(h.s), 2);
    cli_open(&h, &c);
    expect(&h, &c, NULL, 503, "too many connections\n");
    wait_eof(&h, &c);
    cli_close(&c);
    cli_close(&a);
    PUMP_UNTIL(&h, NULL, http_server_conn_count(h.s) == 1);
    cli_open(&h, &c);
    expect(&h, &c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 200, "Tribune Agent");
    cli_close(&c);
    cli_close(&b);
    h_stop(&h);
}

static int collect(void *ctx, const uint8_t *p, size_t n)
{
    return buf_append(ctx, p, n);
}

static void streaming_lines_end_and_cancel(void **state)
{
    (void)state;
    struct h h;
    h_start(&h, NULL);
    struct cli c;
    cli_open(&h, &c);
    cli_sends(&c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    PUMP_UNTIL(&h, &c, h.pending != NULL);
    struct http_parser p;
    struct buf got;
    buf_init(&got, 0);
    http_parser_init(&p, HTTP_PARSE_RESPONSE, NULL);
    http_parser_set_body_fn(&p, collect, &got);
    for (int line = 0; line < 3; line++) {
        char text[64];
        int n = snprintf(text, sizeof text, "2026/11/25 [INFO] agent: line %d\n", line);
        assert_int_equal(http_stream_write(h.pending, text, (size_t)n), 0);
        assert_int_equal(http_stream_write(h.pending, "", 0), 0); /* never an early end */
        size_t before = got.len;
        for (int i = 0; i < PUMP_MAX && got.len < before + (size_t)n; i++) {
            pump(&h, &c);
            size_t used;
            assert_int_equal(http_parser_feed(&p, c.in.data, c.in.len, &used), HTTP_PARSE_MORE);
            buf_consume(&c.in, used);
        }
        assert_int_equal(got.len, before + (size_t)n);
    }
    assert_true(p.msg.chunked);
    assert_string_equal(http_msg_header(&p.msg, "Content-Type"), "text/plain");
    assert_non_null(strstr((char *)got.data, "line 2\n"));
    assert_int_equal(http_stream_end(h.pending), 0);
    h.pending = NULL;
    PUMP_UNTIL(&h, &c, c.in.len >= 5);
    size_t used;
    assert_int_equal(http_parser_feed(&p, c.in.data, c.in.len, &used), HTTP_PARSE_DONE);
    buf_consume(&c.in, used);
    http_parser_free(&p);
    buf_free(&got);

    /* the same connection streams again; this time the reader leaves */
    cli_sends(&c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    PUMP_UNTIL(&h, &c, h.pending != NULL);
    assert_int_equal(http_stream_write(h.pending, "x\n", 2), 0);
    cli_close(&c);
    PUMP_UNTIL(&h, NULL, h.cancels == 1);
    assert_null(h.pending);
    assert_int_equal(h.calls, 2);
    h_stop(&h);
}

static void request_readable_after_answering(void **state)
{
    (void)state;
    struct h h;
    h_start(&h, NULL);
    struct cli c;
    cli_open(&h, &c);
    enum { BODY = 200 * 1024 };
    char *req = malloc(BODY + 128);
    assert_non_null(req);
    for (int round = 0; round < 2; round++) {
        int n = snprintf(req, 128, "PUT /after HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n",
                         BODY);
        for (int i = 0; i < BODY; i++)
            req[n + i] = (char)('a' + i % 26);
        cli_send(&c, req, (size_t)n + BODY);
        h.calls = 0;
        expect(&h, &c, NULL, 200, "ok\n");
        assert_int_equal(h.calls, BODY);
    }
    free(req);
    cli_close(&c);
    h_stop(&h);
}

static void http10_stream_is_raw_and_closes(void **state)
{
    (void)state;
    struct h h;
    h_start(&h, NULL);
    struct cli c;
    cli_open(&h, &c);
    cli_sends(&c, "GET /stream HTTP/1.0\r\n\r\n");
    PUMP_UNTIL(&h, &c, h.pending != NULL);
    assert_ptr_equal(http_req_server(h.pending), h.s);
    assert_int_equal(loop_addr_port(http_req_peer(h.pending)) != 0, 1);
    assert_int_equal(http_stream_write(h.pending, "a\n", 2), 0);
    assert_int_equal(http_stream_write(h.pending, "b\n", 2), 0);
    assert_int_equal(http_stream_end(h.pending), 0);
    h.pending = NULL;
    wait_eof(&h, &c); /* the close is what ends a body without length or chunks */
    struct http_parser p;
    assert_int_equal(cli_resp(&h, &c, &p), HTTP_PARSE_DONE);
    assert_false(p.msg.chunked);
    assert_null(http_msg_header(&p.msg, "Content-Length"));
    assert_int_equal(p.msg.body.len, 4);
    assert_memory_equal(p.msg.body.data, "a\nb\n", 4);
    http_parser_free(&p);
    cli_close(&c);
    h_stop(&h);
}

static void slow_stream_reader_is_dropped(void **state)
{
    (void)state;
    struct h h;
    struct http_server_opts o = {.out_limit = 64 * 1024};
    h_start(&h, &o);
    struct cli c;
    cli_open(&h, &c);
    int small = 4096;
    assert_int_equal(setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    cli_sends(&c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    PUMP_UNTIL(&h, NULL, h.pending != NULL);
    char line[1024];
    memset(line, 'l', sizeof line);
    int failed = 0;
    /* the client never reads: writes fail once its unsent output passes the limit */
    for (int i = 0; i < 100000 && h.pending != NULL && !failed; i++) {
        if (http_stream_write(h.pending, line, sizeof line) != 0)
            failed = 1;
        else if (i % 16 == 0)
            pump(&h, NULL);
    }
    assert_true(failed);
    PUMP_UNTIL(&h, NULL, h.cancels == 1);
    cli_close(&c);
    h_stop(&h);
}

static void pretty_printer_shapes(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"[]", "[]"},
        {"{}", "{}"},
        {"[{}]", "[\n    {}\n]"},
        {"{\"a\":\"x,{:}\\\"\",\"b\":null}", "{\n    \"a\": \"x,{:}\\\"\",\n    \"b\": null\n}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buf b;
        buf_init(&b, 0);
        assert_int_equal(http_json_pretty((const uint8_t *)cases[i].in, strlen(cases[i].in), &b),
                         0);
        buf_append(&b, "", 1);
        assert_string_equal((char *)b.data, cases[i].out);
        buf_free(&b);
    }
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(http_json_pretty((const uint8_t *)"]", 1, &b), -1);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_route_headers_and_pretty),
        cmocka_unit_test(routing_404_405_prefix_and_banner),
        cmocka_unit_test(connection_close_and_http10),
        cmocka_unit_test(pipelined_requests_answer_in_order_around_a_deferred_one),
        cmocka_unit_test(deferred_then_keepalive_reuse),
        cmocka_unit_test(disconnect_cancels_pending),
        cmocka_unit_test(idle_and_slow_request_timeouts),
        cmocka_unit_test(pending_request_outlives_idle_timeout),
        cmocka_unit_test(bad_requests_get_status_and_close),
        cmocka_unit_test(expect_continue_gets_100_first),
        cmocka_unit_test(connection_cap_refuses_with_503),
        cmocka_unit_test(streaming_lines_end_and_cancel),
        cmocka_unit_test(request_readable_after_answering),
        cmocka_unit_test(http10_stream_is_raw_and_closes),
        cmocka_unit_test(slow_stream_reader_is_dropped),
        cmocka_unit_test(pretty_printer_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
