/* client.c — the blocking HTTP/1.1 client: resolve, connect with a deadline, send one request,
 * read the response through the shared parser, report errors the way Go's client words them. */
#include "http/client.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "loop/net.h"

#ifndef TRIBUNE_VERSION
#define TRIBUNE_VERSION "dev"
#endif

#define RESP_MAX_HEAD (64 * 1024)
#define RESP_MAX_BODY (64u * 1024 * 1024)

/* Go prints errno text in lower case ("connection refused"). */
static void errtext(int e, char *out, size_t n)
{
    snprintf(out, n, "%s", strerror(e));
    if (out[0] != '\0')
        out[0] = (char)tolower((unsigned char)out[0]);
}

/* "host:port" (or "[v6]:port") with an optional http:// prefix, to a numeric address. */
static int resolve(const char *addr, struct loop_addr *out, char *err, size_t errlen)
{
    if (strncmp(addr, "http://", 7) == 0)
        addr += 7;
    char perr[128];
    if (loop_addr_parse(addr, out, perr, sizeof perr) == 0)
        return 0;
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || colon == addr || colon[1] == '\0' || addr[0] == '[') {
        snprintf(err, errlen, "dial tcp: address %s: %s", addr, perr);
        return -1;
    }
    char host[256];
    size_t hl = (size_t)(colon - addr);
    if (hl >= sizeof host) {
        snprintf(err, errlen, "dial tcp: address %s: host name too long", addr);
        return -1;
    }
    memcpy(host, addr, hl);
    host[hl] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(err, errlen, "dial tcp: lookup %s: %s", host,
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return -1;
    }
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* Waits for fd to become ready; timeout_ms 0 waits forever. 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short ev, uint64_t timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = ev};
    int t = timeout_ms == 0 ? -1 : (timeout_ms > 86400000 ? 86400000 : (int)timeout_ms);
    for (;;) {
        int n = poll(&pfd, 1, t);
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 ? -1 : (n > 0 ? 1 : 0);
    }
}

static int dial(const struct loop_addr *a, const char *astr, uint64_t timeout_ms, char *err,
                size_t errlen)
{
    char e[96];
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        errtext(errno, e, sizeof e);
        snprintf(err, errlen, "dial tcp %s: socket: %s", astr, e);
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)&a->ss, a->len) != 0) {
        if (errno != EINPROGRESS) {
            errtext(errno, e, sizeof e);
            snprintf(err, errlen, "dial tcp %s: connect: %s", astr, e);
            close(fd);
            return -1;
        }
        int w = wait_fd(fd, POLLOUT, timeout_ms);
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (w == 0) {
            snprintf(err, errlen, "dial tcp %s: i/o timeout", astr);
            close(fd);
            return -1;
        }
        if (w < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
            errtext(soerr ? soerr : errno, e, sizeof e);
            snprintf(err, errlen, "dial tcp %s: connect: %s", astr, e);
            close(fd);
            return -1;
        }
    }
    return fd;
}

static int send_all(int fd, const uint8_t *p, size_t n, uint64_t timeout_ms, const char *astr,
                    char *err, size_t errlen)
{
    char e[96];
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = wait_fd(fd, POLLOUT, timeout_ms);
            if (r > 0)
                continue;
            if (r == 0) {
                snprintf(err, errlen, "write tcp %s: i/o timeout", astr);
                return -1;
            }
        }
        errtext(errno, e, sizeof e);
        snprintf(err, errlen, "write tcp %s: %s", astr, e);
        return -1;
    }
    return 0;
}

static int build_request(struct buf *b, const char *host, const char *method, const char *target,
                         const struct http_client_header *hdrs, size_t nhdrs, const void *body,
                         size_t body_len)
{
    char line[512];
    int bad = 0;
    if (target[0] != '/' || method[0] == '\0')
        return -1;
    for (const char *c = target; *c; c++)
        if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f)
            return -1; /* unescaped bytes would split or corrupt the request line */
    for (const char *c = method; *c; c++)
        if (*c < 'A' || *c > 'Z')
            return -1;
    bad |= buf_append(b, method, strlen(method));
    bad |= buf_append(b, " ", 1);
    bad |= buf_append(b, target, strlen(target));
    snprintf(line, sizeof line, " HTTP/1.1\r\nHost: %s\r\nUser-Agent: tribune/%s\r\n", host,
             TRIBUNE_VERSION);
    bad |= buf_append(b, line, strlen(line));
    for (size_t i = 0; i < nhdrs; i++) {
        if (strpbrk(hdrs[i].name, "\r\n:") != NULL || strpbrk(hdrs[i].value, "\r\n") != NULL)
            return -1;
        bad |= buf_append(b, hdrs[i].name, strlen(hdrs[i].name));
        bad |= buf_append(b, ": ", 2);
        bad |= buf_append(b, hdrs[i].value, strlen(hdrs[i].value));
        bad |= buf_append(b, "\r\n", 2);
    }
    if (body != NULL || strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0) {
        snprintf(line, sizeof line, "Content-Length: %zu\r\n", body ? body_len : 0);
        bad |= buf_append(b, line, strlen(line));
    }
    bad |= buf_append(b, "Connection: close\r\n\r\n", 21);
    if (body != NULL && body_len > 0)
        bad |= buf_append(b, body, body_len);
    return bad ? -1 : 0;
}

struct stream_ctx {
    http_body_fn fn;
    void *ctx;
    int stopped;
    struct http_parser *p;
    size_t max_body;
};

static int stream_body(void *ctx, const uint8_t *p, size_t n)
{
    struct stream_ctx *sc = ctx;
    /* An error answer is text for the user, not stream data: keep it (bounded) for resp->body. */
    if (sc->p->msg.status >= 300) {
        struct buf *b = &sc->p->msg.body;
        if (n > sc->max_body - b->len)
            n = sc->max_body - b->len;
        return buf_append(b, p, n);
    }
    if (sc->fn(sc->ctx, p, n) != 0) {
        sc->stopped = 1;
        return -1;
    }
    return 0;
}

static int do_request(const char *addr, const char *method, const char *target,
                      const struct http_client_header *hdrs, size_t nhdrs, const void *body,
                      size_t body_len, const struct http_client_opts *opts, http_body_fn on_body,
                      void *ctx, struct http_client_resp *resp, char *err, size_t errlen)
{
    struct http_client_opts o = {0};
    if (opts != NULL)
        o = *opts;
    if (o.connect_timeout_ms == 0)
        o.connect_timeout_ms = 5000;
    if (o.max_body == 0)
        o.max_body = RESP_MAX_BODY;
    struct http_limits lim = {.max_head = RESP_MAX_HEAD, .max_body = o.max_body};
    memset(resp, 0, sizeof *resp);
    http_parser_init(&resp->p, HTTP_PARSE_RESPONSE, &lim);
    struct stream_ctx sc = {on_body, ctx, 0, &resp->p, o.max_body};
    if (on_body != NULL)
        http_parser_set_body_fn(&resp->p, stream_body, &sc);
    if (strcmp(method, "HEAD") == 0)
        http_parser_expect_no_body(&resp->p);

    struct loop_addr a;
    if (resolve(addr, &a, err, errlen) != 0)
        return -1;
    char astr[LOOP_ADDR_STRLEN];
    loop_addr_format(&a, astr, sizeof astr);
    const char *host = strncmp(addr, "http://", 7) == 0 ? addr + 7 : addr;

    struct buf req;
    buf_init(&req, 0);
    if (build_request(&req, host, method, target, hdrs, nhdrs, body, body_len) != 0) {
        buf_free(&req);
        snprintf(err, errlen, "invalid request: method, target or header not sendable");
        return -1;
    }
    int fd = dial(&a, astr, o.connect_timeout_ms, err, errlen);
    if (fd < 0) {
        buf_free(&req);
        return -1;
    }
    int rc = send_all(fd, req.data, req.len, o.io_timeout_ms, astr, err, errlen);
    buf_free(&req);
    uint8_t in[16384];
    while (rc == 0) {
        int w = wait_fd(fd, POLLIN, o.io_timeout_ms);
        if (w == 0) {
            snprintf(err, errlen, "read tcp %s: i/o timeout", astr);
            rc = -1;
            break;
        }
        ssize_t n = w > 0 ? recv(fd, in, sizeof in, 0) : -1;
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            char e[96];
            errtext(errno, e, sizeof e);
            snprintf(err, errlen, "read tcp %s: %s", astr, e);
            rc = -1;
            break;
        }
        enum http_parse_rc pr;
        size_t off = 0;
        if (n == 0) {
            pr = http_parser_eof(&resp->p);
        } else {
            for (;;) {
                size_t used = 0;
                pr = http_parser_feed(&resp->p, in + off, (size_t)n - off, &used);
                off += used;
                /* An interim 1xx answer is followed by the real one. */
                if (pr != HTTP_PARSE_DONE || resp->p.msg.status >= 200)
                    break;
                bool no_body = resp->p.no_body;
                http_parser_reset(&resp->p);
                if (no_body)
                    http_parser_expect_no_body(&resp->p);
            }
        }
        if (pr == HTTP_PARSE_DONE)
            break;
        if (pr == HTTP_PARSE_ERROR) {
            if (sc.stopped)
                break;
            if (n == 0 && !http_parser_started(&resp->p))
                snprintf(err, errlen, "%s http://%s%s: EOF", method, host, target);
            else
                snprintf(err, errlen, "malformed HTTP response from %s: %s", astr,
                         resp->p.err_msg);
            rc = -1;
        }
    }
    close(fd);
    if (rc != 0)
        return -1;
    resp->status = resp->p.msg.status;
    if (on_body == NULL || resp->status >= 300) {
        struct buf *b = &resp->p.msg.body;
        if (buf_reserve(b, 1) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        b->data[b->len] = '\0';
        resp->body = (const char *)b->data;
        resp->body_len = b->len;
    }
    return 0;
}

int http_client_request(const char *addr, const char *method, const char *target,
                        const struct http_client_header *hdrs, size_t nhdrs, const void *body,
                        size_t body_len, const struct http_client_opts *opts,
                        struct http_client_resp *resp, char *err, size_t errlen)
{
    return do_request(addr, method, target, hdrs, nhdrs, body, body_len, opts, NULL, NULL, resp,
                      err, errlen);
}

int http_client_stream(const char *addr, const char *method, const char *target,
                       const struct http_client_header *hdrs, size_t nhdrs, const void *body,
                       size_t body_len, const struct http_client_opts *opts, http_body_fn on_body,
                       void *ctx, struct http_client_resp *resp, char *err, size_t errlen)
{
    if (on_body == NULL) {
        memset(resp, 0, sizeof *resp);
        http_parser_init(&resp->p, HTTP_PARSE_RESPONSE, NULL);
        snprintf(err, errlen, "no body callback");
        return -1;
    }
    return do_request(addr, method, target, hdrs, nhdrs, body, body_len, opts, on_body, ctx, resp,
                      err, errlen);
}

const char *http_client_resp_header(const struct http_client_resp *r, const char *name)
{
    return http_msg_header(&r->p.msg, name);
}

void http_client_resp_free(struct http_client_resp *r)
{
    http_parser_free(&r->p);
    r->body = NULL;
    r->body_len = 0;
}
