/* server.c — HTTP connections on the loop: parse, route, answer now or later, stream; idle and
 * slow-request timeouts through one sweep timer, and a cap on connections. */
#include "http/server.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_ROUTES 128
#define ROUTE_PATH_MAX 128
#define CONN_IN_LIMIT (64 * 1024)
#define REQ_HDRS_LIMIT (16 * 1024)

struct route {
    unsigned methods;
    char path[ROUTE_PATH_MAX];
    size_t plen;
    bool prefix;
    http_handler_fn fn;
    void *ctx;
};

struct http_conn;

struct http_req {
    struct http_conn *hc;
    const struct route *route;
    struct buf hdrs; /* "Name: value\r\n" lines the handler added */
    http_cancel_fn cancel;
    void *cancel_ctx;
    bool active; /* handed to a handler, response not complete */
    bool streaming;
    bool raw_stream; /* HTTP/1.0: no chunked encoding, the close ends the body */
};

struct http_conn {
    struct http_server *s;
    struct loop_conn *c;
    struct http_conn *prev, *next;
    struct http_parser p;
    struct buf *in; /* the loop connection's input buffer (stable for its lifetime) */
    struct http_req req;
    uint64_t last_active_ms;
    uint64_t req_start_ms; /* first byte of the request being received; 0: none */
    uint64_t resume_timer;
    bool closing;
    bool processing;
    bool sent_continue;
    bool need_reset; /* the last response is complete; the parser still holds its request */
};

struct http_server {
    struct loop *l;
    const struct logger *log;
    struct loop_listener *ls;
    struct http_server_opts o;
    struct route routes[MAX_ROUTES];
    size_t nroutes;
    struct http_conn *conns;
    size_t nconns;
    uint64_t sweep_timer;
    uint64_t sweep_ms;
};

static void conn_process(struct http_conn *hc);

/* ---- responses ---- */

static void put(struct buf *b, bool *bad, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void put(struct buf *b, bool *bad, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp || buf_append(b, tmp, (size_t)n) != 0)
        *bad = true;
}

/* Writes the status line and headers. len < 0 means a streamed body. */
static int write_head(struct http_conn *hc, int status, const char *ctype, long long len,
                      bool close)
{
    struct http_req *r = &hc->req;
    struct buf h;
    bool bad = false;
    buf_init(&h, 0);
    put(&h, &bad, "HTTP/1.1 %d %s\r\n", status, http_status_text(status));
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) != NULL &&
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0)
        put(&h, &bad, "Date: %s\r\n", date);
    if (buf_append(&h, r->hdrs.data, r->hdrs.len) != 0)
        bad = true;
    if (ctype != NULL)
        put(&h, &bad, "Content-Type: %s\r\n", ctype);
    if (len >= 0) {
        if (status != 204 && status != 304)
            put(&h, &bad, "Content-Length: %lld\r\n", len);
    } else if (!r->raw_stream) {
        put(&h, &bad, "Transfer-Encoding: chunked\r\n");
    }
    if (close)
        put(&h, &bad, "Connection: close\r\n");
    else if (hc->p.msg.minor == 0)
        put(&h, &bad, "Connection: keep-alive\r\n");
    put(&h, &bad, "\r\n");
    int rc = bad ? -1 : loop_conn_write(hc->c, h.data, h.len);
    buf_free(&h);
    return rc;
}

static void resume_fire(struct loop *l, uint64_t id, void *ctx)
{
    (void)l;
    (void)id;
    struct http_conn *hc = ctx;
    hc->resume_timer = 0;
    conn_process(hc);
}

/* The response is complete: ready the connection for the next request or hang up. */
static void finish(struct http_conn *hc, bool close)
{
    struct http_req *r = &hc->req;
    r->active = false;
    r->streaming = false;
    r->cancel = NULL;
    buf_clear(&r->hdrs);
    hc->last_active_ms = loop_now_ms();
    hc->sent_continue = false;
    if (close || hc->closing) {
        hc->closing = true;
        if (!loop_conn_closing(hc->c))
            loop_conn_end(hc->c);
        return;
    }
    /* The parser is reset only once the code that answered has returned: a handler may still read
     * the request it just answered. A deferred answer arrives from the owner's own callback, so
     * pipelined requests are parsed from a fresh loop pass, never inside the owner's iteration. */
    hc->need_reset = true;
    if (!hc->processing && hc->resume_timer == 0)
        hc->resume_timer = loop_timer_add(hc->s->l, 0, resume_fire, hc);
}

static bool req_closing(const struct http_conn *hc)
{
    return !hc->p.msg.keep_alive || hc->closing;
}

int http_respond(struct http_req *r, int status, const char *content_type, const void *body,
                 size_t len)
{
    if (!r->active || r->streaming)
        return -1;
    struct http_conn *hc = r->hc;
    bool close = req_closing(hc);
    if (loop_conn_closing(hc->c)) {
        finish(hc, true);
        return -1;
    }
    int rc = write_head(hc, status, content_type, (long long)len, close);
    if (rc == 0 && len > 0 && hc->p.msg.method != HTTP_HEAD && status != 204 && status != 304)
        rc = loop_conn_write(hc->c, body, len);
    finish(hc, close || rc != 0);
    return rc;
}

int http_respond_text(struct http_req *r, int status, const char *text)
{
    size_t n = strlen(text);
    if (n > 0 && text[n - 1] == '\n')
        return http_respond(r, status, "text/plain; charset=utf-8", text, n);
    struct buf b;
    buf_init(&b, 0);
    int rc;
    if (buf_append(&b, text, n) != 0 || buf_append(&b, "\n", 1) != 0)
        rc = http_respond(r, 500, "text/plain; charset=utf-8", "out of memory\n", 14);
    else
        rc = http_respond(r, status, "text/plain; charset=utf-8", b.data, b.len);
    buf_free(&b);
    return rc;
}

static int indent(struct buf *out, unsigned depth)
{
    if (buf_append(out, "\n", 1) != 0)
        return -1;
    for (unsigned i = 0; i < depth; i++)
        if (buf_append(out, "    ", 4) != 0)
            return -1;
    return 0;
}

int http_json_pretty(const uint8_t *in, size_t len, struct buf *out)
{
    unsigned depth = 0;
    bool in_str = false, esc = false;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = in[i];
        int rc = 0;
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
            rc = buf_append(out, &c, 1);
        } else if (c == '"') {
            in_str = true;
            rc = buf_append(out, &c, 1);
        } else if (c == '{' || c == '[') {
            size_t j = i + 1;
            while (j < len && (in[j] == ' ' || in[j] == '\n' || in[j] == '\t' || in[j] == '\r'))
                j++;
            rc = buf_append(out, &c, 1);
            if (j < len && in[j] == (c == '{' ? '}' : ']')) {
                rc |= buf_append(out, &in[j], 1); /* Go writes empty containers as {} and [] */
                i = j;
            } else {
                if (++depth > 64)
                    return -1;
                rc |= indent(out, depth);
            }
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return -1;
            rc = indent(out, --depth);
            rc |= buf_append(out, &c, 1);
        } else if (c == ',') {
            rc = buf_append(out, ",", 1);
            rc |= indent(out, depth);
        } else if (c == ':') {
            rc = buf_append(out, ": ", 2);
        } else if (c != ' ' && c != '\n' && c != '\t' && c != '\r') {
            rc = buf_append(out, &c, 1);
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

int http_respond_json(struct http_req *r, int status, const struct buf *body)
{
    static const char ctype[] = "application/json";
    if (!http_req_param(r, "pretty", NULL))
        return http_respond(r, status, ctype, body->data, body->len);
    struct buf b;
    buf_init(&b, 0);
    int rc;
    if (http_json_pretty(body->data, body->len, &b) != 0)
        rc = http_respond(r, status, ctype, body->data, body->len);
    else
        rc = http_respond(r, status, ctype, b.data, b.len);
    buf_free(&b);
    return rc;
}

int http_stream_begin(struct http_req *r, int status, const char *content_type)
{
    if (!r->active || r->streaming)
        return -1;
    struct http_conn *hc = r->hc;
    if (hc->closing || loop_conn_closing(hc->c))
        return -1;
    r->raw_stream = hc->p.msg.minor == 0;
    if (r->raw_stream)
        hc->p.msg.keep_alive = false;
    r->streaming = true;
    return write_head(hc, status, content_type, -1, req_closing(hc));
}

int http_stream_write(struct http_req *r, const void *p, size_t n)
{
    if (!r->active || !r->streaming)
        return -1;
    struct http_conn *hc = r->hc;
    if (hc->closing || loop_conn_closing(hc->c))
        return -1;
    if (n == 0 || hc->p.msg.method == HTTP_HEAD) /* an empty chunk would end the body */
        return 0;
    if (r->raw_stream)
        return loop_conn_write(hc->c, p, n);
    char sz[24];
    int sl = snprintf(sz, sizeof sz, "%zx\r\n", n);
    if (loop_conn_write(hc->c, sz, (size_t)sl) != 0 || loop_conn_write(hc->c, p, n) != 0 ||
        loop_conn_write(hc->c, "\r\n", 2) != 0)
        return -1;
    return 0;
}

size_t http_stream_pending(const struct http_req *r)
{
    return loop_conn_out_pending(r->hc->c);
}

int http_stream_end(struct http_req *r)
{
    if (!r->active || !r->streaming)
        return -1;
    struct http_conn *hc = r->hc;
    int rc = -1;
    if (!hc->closing && !loop_conn_closing(hc->c))
        rc = r->raw_stream || hc->p.msg.method == HTTP_HEAD
                 ? 0
                 : loop_conn_write(hc->c, "0\r\n\r\n", 5);
    finish(hc, req_closing(hc) || rc != 0);
    return rc;
}

/* ---- requests ---- */

const struct http_message *http_req_msg(const struct http_req *r)
{
    return &r->hc->p.msg;
}

bool http_req_param(const struct http_req *r, const char *key, const char **value)
{
    return http_msg_param(&r->hc->p.msg, key, value);
}

const char *http_req_suffix(const struct http_req *r)
{
    const char *path = r->hc->p.msg.path;
    if (r->route == NULL || !r->route->prefix)
        return "";
    return path + r->route->plen;
}

const struct loop_addr *http_req_peer(const struct http_req *r)
{
    return loop_conn_peer(r->hc->c);
}

struct http_server *http_req_server(const struct http_req *r)
{
    return r->hc->s;
}

void http_req_on_cancel(struct http_req *r, http_cancel_fn fn, void *ctx)
{
    r->cancel = fn;
    r->cancel_ctx = ctx;
}

int http_req_header(struct http_req *r, const char *name, const char *value)
{
    static const char *const reserved[] = {"Content-Type", "Content-Length", "Connection",
                                           "Transfer-Encoding", "Date"};
    if (name[0] == '\0' || strpbrk(value, "\r\n") != NULL)
        return -1;
    for (const char *c = name; *c; c++)
        if (*c <= ' ' || *c >= 0x7f || *c == ':')
            return -1;
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcasecmp(name, reserved[i]) == 0)
            return -1;
    bool bad = false;
    size_t before = r->hdrs.len;
    if (r->hdrs.len + strlen(name) + strlen(value) + 4 > REQ_HDRS_LIMIT)
        return -1;
    if (buf_append(&r->hdrs, name, strlen(name)) != 0 || buf_append(&r->hdrs, ": ", 2) != 0 ||
        buf_append(&r->hdrs, value, strlen(value)) != 0 || buf_append(&r->hdrs, "\r\n", 2) != 0)
        bad = true;
    if (bad) {
        r->hdrs.len = before;
        return -1;
    }
    return 0;
}

static const struct route *route_find(const struct http_server *s, const char *path)
{
    const struct route *best = NULL;
    for (size_t i = 0; i < s->nroutes; i++) {
        const struct route *rt = &s->routes[i];
        bool hit = rt->prefix ? strncmp(path, rt->path, rt->plen) == 0
                              : strcmp(path, rt->path) == 0;
        if (hit && (best == NULL || rt->plen > best->plen))
            best = rt;
    }
    return best;
}

static void dispatch(struct http_conn *hc)
{
    struct http_server *s = hc->s;
    struct http_req *r = &hc->req;
    const struct http_message *m = &hc->p.msg;
    r->active = true;
    r->streaming = false;
    r->raw_stream = false;
    r->cancel = NULL;
    r->route = route_find(s, m->path);
    buf_clear(&r->hdrs);
    if (log_enabled(s->log, LOG_DEBUG))
        log_printf(s->log, LOG_DEBUG, "http", "Request %s %s", m->method_name, m->target);
    if (r->route == NULL) {
        if (strcmp(m->path, "/") == 0 && (m->method & (HTTP_GET | HTTP_HEAD))) {
            const char *b = s->o.banner;
            http_respond(r, 200, "text/plain; charset=utf-8", b, strlen(b));
        } else {
            http_respond_text(r, 404, "404 page not found");
        }
        return;
    }
    if (!(r->route->methods & m->method)) {
        char allow[96] = "";
        for (unsigned bit = 1; bit < HTTP_ANY; bit <<= 1)
            if (r->route->methods & bit) {
                if (allow[0])
                    strcat(allow, ", ");
                strcat(allow, http_method_name(bit));
            }
        http_req_header(r, "Allow", allow);
        http_respond(r, 405, NULL, "", 0);
        return;
    }
    enum http_disposition d = r->route->fn(r, r->route->ctx);
    if (d == HTTP_DONE && r->active && !r->streaming) {
        log_printf(s->log, LOG_ERR, "http", "handler for %s returned without a response",
                   r->route->path);
        buf_clear(&r->hdrs);
        http_respond_text(r, 500, "internal error: no response");
    }
}

static void send_error(struct http_conn *hc, int status, const char *msg)
{
    struct http_req *r = &hc->req;
    char a[LOOP_ADDR_STRLEN];
    log_printf(hc->s->log, LOG_DEBUG, "http", "bad request from %s: %d %s",
               loop_addr_format(loop_conn_peer(hc->c), a, sizeof a), status, msg);
    hc->p.msg.keep_alive = false;
    r->active = true;
    r->streaming = false;
    r->cancel = NULL;
    buf_clear(&r->hdrs);
    http_respond_text(r, status, msg);
    hc->closing = true;
}

static void reset_if_done(struct http_conn *hc)
{
    if (hc->need_reset && !hc->req.active && !hc->closing) {
        hc->need_reset = false;
        http_parser_reset(&hc->p);
    }
}

static void conn_process(struct http_conn *hc)
{
    hc->processing = true;
    while (!hc->closing && !hc->req.active && hc->in != NULL && hc->in->len > 0) {
        reset_if_done(hc);
        if (hc->req_start_ms == 0)
            hc->req_start_ms = loop_now_ms();
        size_t used = 0;
        enum http_parse_rc rc = http_parser_feed(&hc->p, hc->in->data, hc->in->len, &used);
        buf_consume(hc->in, used);
        if (rc == HTTP_PARSE_MORE) {
            if (!http_parser_started(&hc->p))
                hc->req_start_ms = 0;
            if (hc->p.head_done && hc->p.msg.expect_continue && !hc->sent_continue) {
                hc->sent_continue = true;
                loop_conn_write(hc->c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
            }
            break;
        }
        if (rc == HTTP_PARSE_ERROR) {
            send_error(hc, hc->p.err_status, hc->p.err_msg);
            break;
        }
        hc->req_start_ms = 0;
        dispatch(hc);
    }
    reset_if_done(hc);
    hc->processing = false;
}

/* ---- connections ---- */

static void on_data(struct loop_conn *c, struct buf *in, void *ctx)
{
    struct http_conn *hc = ctx;
    if (hc == NULL) { /* refused over the cap: its 503 is on the way out */
        buf_consume(in, in->len);
        return;
    }
    hc->in = in;
    hc->last_active_ms = loop_now_ms();
    (void)c;
    conn_process(hc);
}

static void conn_free(struct http_conn *hc)
{
    struct http_server *s = hc->s;
    if (hc->prev)
        hc->prev->next = hc->next;
    else
        s->conns = hc->next;
    if (hc->next)
        hc->next->prev = hc->prev;
    s->nconns--;
    if (hc->resume_timer)
        loop_timer_cancel(s->l, hc->resume_timer);
    http_parser_free(&hc->p);
    buf_free(&hc->req.hdrs);
    free(hc);
}

static void cancel_pending(struct http_conn *hc)
{
    struct http_req *r = &hc->req;
    if (!r->active)
        return;
    r->active = false;
    http_cancel_fn fn = r->cancel;
    r->cancel = NULL;
    if (fn != NULL)
        fn(r, r->cancel_ctx);
}

static void on_close(struct loop_conn *c, enum loop_close_reason why, int err, void *ctx)
{
    (void)c;
    (void)why;
    (void)err;
    struct http_conn *hc = ctx;
    if (hc == NULL)
        return;
    hc->closing = true;
    cancel_pending(hc);
    conn_free(hc);
}

static void on_accept(struct loop_listener *ls, struct loop_conn *c, void *ctx)
{
    (void)ls;
    struct http_server *s = ctx;
    if (s->nconns >= s->o.max_conns) {
        static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                   "Content-Type: text/plain; charset=utf-8\r\n"
                                   "Content-Length: 21\r\nConnection: close\r\n\r\n"
                                   "too many connections\n";
        char a[LOOP_ADDR_STRLEN];
        log_printf(s->log, LOG_WARN, "http", "refusing connection from %s: %zu connections open",
                   loop_addr_format(loop_conn_peer(c), a, sizeof a), s->nconns);
        loop_conn_set_ctx(c, NULL);
        loop_conn_write(c, busy, sizeof busy - 1);
        loop_conn_end(c);
        return;
    }
    struct http_conn *hc = calloc(1, sizeof *hc);
    if (hc == NULL) {
        loop_conn_set_ctx(c, NULL);
        loop_conn_close(c);
        return;
    }
    hc->s = s;
    hc->c = c;
    hc->req.hc = hc;
    buf_init(&hc->req.hdrs, 0);
    struct http_limits lim = {.max_body = s->o.max_body};
    http_parser_init(&hc->p, HTTP_PARSE_REQUEST, &lim);
    hc->last_active_ms = loop_now_ms();
    hc->next = s->conns;
    if (s->conns)
        s->conns->prev = hc;
    s->conns = hc;
    s->nconns++;
    loop_conn_set_ctx(c, hc);
}

static void sweep(struct loop *l, uint64_t id, void *ctx)
{
    (void)id;
    struct http_server *s = ctx;
    uint64_t now = loop_now_ms();
    for (struct http_conn *hc = s->conns; hc != NULL; hc = hc->next) {
        if (hc->closing || hc->req.active)
            continue; /* a pending answer is its owner's to time out */
        if (hc->req_start_ms != 0 && now - hc->req_start_ms >= s->o.request_timeout_ms) {
            send_error(hc, 408, "request timeout");
        } else if (hc->req_start_ms == 0 && now - hc->last_active_ms >= s->o.idle_timeout_ms) {
            hc->closing = true;
            loop_conn_close(hc->c);
        }
    }
    s->sweep_timer = loop_timer_add(l, s->sweep_ms, sweep, s);
}

static const struct loop_conn_cbs http_cbs = {NULL, on_data, on_close};

struct http_server *http_server_start(struct loop *l, const char *addr,
                                      const struct http_server_opts *opts, char *err,
                                      size_t errlen)
{
    struct http_server *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->l = l;
    s->log = loop_logger(l);
    if (opts != NULL)
        s->o = *opts;
    if (s->o.max_body == 0)
        s->o.max_body = 512 * 1024;
    if (s->o.max_conns == 0)
        s->o.max_conns = 512;
    if (s->o.idle_timeout_ms == 0)
        s->o.idle_timeout_ms = 60000;
    if (s->o.request_timeout_ms == 0)
        s->o.request_timeout_ms = 30000;
    if (s->o.banner == NULL)
        s->o.banner = "Tribune Agent";
    uint64_t t = s->o.idle_timeout_ms < s->o.request_timeout_ms ? s->o.idle_timeout_ms
                                                                 : s->o.request_timeout_ms;
    /* A quarter of the shortest timeout: a connection overstays by at most that much. */
    s->sweep_ms = t / 4 < 5 ? 5 : (t / 4 > 1000 ? 1000 : t / 4);
    struct loop_conn_opts co = {.name = "http", .in_limit = CONN_IN_LIMIT,
                                .out_limit = s->o.out_limit};
    s->ls = loop_tcp_listen(l, addr, &co, &http_cbs, on_accept, s, err, errlen);
    if (s->ls == NULL) {
        free(s);
        return NULL;
    }
    s->sweep_timer = loop_timer_add(l, s->sweep_ms, sweep, s);
    if (s->sweep_timer == 0) {
        loop_listener_close(s->ls);
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return s;
}

void http_server_stop(struct http_server *s)
{
    if (s == NULL)
        return;
    loop_timer_cancel(s->l, s->sweep_timer);
    loop_listener_close(s->ls);
    while (s->conns != NULL) {
        struct http_conn *hc = s->conns;
        hc->closing = true;
        cancel_pending(hc);
        loop_conn_set_ctx(hc->c, NULL);
        loop_conn_close(hc->c);
        conn_free(hc);
    }
    free(s);
}

const struct loop_addr *http_server_addr(const struct http_server *s)
{
    return loop_listener_addr(s->ls);
}

size_t http_server_conn_count(const struct http_server *s)
{
    return s->nconns;
}

int http_route_add(struct http_server *s, unsigned methods, const char *path, http_handler_fn fn,
                   void *ctx)
{
    size_t n = strlen(path);
    if (s->nroutes == MAX_ROUTES || path[0] != '/' || n >= ROUTE_PATH_MAX || fn == NULL ||
        (methods & HTTP_ANY) == 0)
        return -1;
    struct route *rt = &s->routes[s->nroutes++];
    /* HEAD goes wherever GET goes (RFC 9110 9.3.2); the server drops the body itself. */
    rt->methods = methods & HTTP_ANY;
    if (rt->methods & HTTP_GET)
        rt->methods |= HTTP_HEAD;
    memcpy(rt->path, path, n + 1);
    rt->plen = n;
    rt->prefix = path[n - 1] == '/' && n > 1;
    rt->fn = fn;
    rt->ctx = ctx;
    return 0;
}
