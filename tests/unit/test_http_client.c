/* test_http_client.c — the blocking client against a real server running its loop in a forked
 * child: round trips, big and chunked bodies, limits, streaming, and Go-like error text. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "http/client.h"
#include "http/server.h"

#define BIG_LEN (300 * 1024)

/* ---- the server child ---- */

struct mon {
    struct loop *l;
    struct http_req *r;
    uint64_t timer;
    int n;
};

static enum http_disposition s_echo(struct http_req *r, void *ctx)
{
    (void)ctx;
    const struct http_message *m = http_req_msg(r);
    http_req_header(r, "X-Consul-Index", "9");
    http_respond(r, 200, "application/octet-stream", m->body.data, m->body.len);
    return HTTP_DONE;
}

static enum http_disposition s_big(struct http_req *r, void *ctx)
{
    (void)ctx;
    char *b = malloc(BIG_LEN);
    for (size_t i = 0; i < BIG_LEN; i++)
        b[i] = (char)('a' + i % 26);
    http_respond(r, 200, "text/plain", b, BIG_LEN);
    free(b);
    return HTTP_DONE;
}

static enum http_disposition s_chunked(struct http_req *r, void *ctx)
{
    (void)ctx;
    http_stream_begin(r, 200, "text/plain");
    http_stream_write(r, "one,", 4);
    http_stream_write(r, "two,", 4);
    http_stream_write(r, "three", 5);
    http_stream_end(r);
    return HTTP_DONE;
}

static void mon_tick(struct loop *l, uint64_t id, void *ctx)
{
    (void)id;
    struct mon *m = ctx;
    char line[32];
    int n = snprintf(line, sizeof line, "line %d\n", m->n++);
    http_stream_write(m->r, line, (size_t)n);
    m->timer = loop_timer_add(l, 5, mon_tick, m);
}

static void mon_cancel(struct http_req *r, void *ctx)
{
    (void)r;
    struct mon *m = ctx;
    loop_timer_cancel(m->l, m->timer);
    m->r = NULL;
}

static enum http_disposition s_monitor(struct http_req *r, void *ctx)
{
    struct mon *m = ctx;
    m->r = r;
    m->n = 0;
    http_req_on_cancel(r, mon_cancel, m);
    http_stream_begin(r, 200, "text/plain");
    m->timer = loop_timer_add(m->l, 5, mon_tick, m);
    return HTTP_PENDING;
}

static enum http_disposition s_slow(struct http_req *r, void *ctx)
{
    (void)r;
    (void)ctx;
    return HTTP_PENDING; /* never answered: the client's read deadline ends it */
}

static pid_t server_child(uint16_t *port)
{
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        char err[256];
        struct loop *l = loop_create(NULL, err, sizeof err);
        struct http_server *s = l ? http_server_start(l, "127.0.0.1:0", NULL, err, sizeof err)
                                  : NULL;
        if (s == NULL)
            _exit(2);
        struct mon m = {.l = l};
        http_route_add(s, HTTP_ANY, "/v1/kv/", s_echo, NULL);
        http_route_add(s, HTTP_GET, "/big", s_big, NULL);
        http_route_add(s, HTTP_GET, "/chunked", s_chunked, NULL);
        http_route_add(s, HTTP_GET, "/monitor", s_monitor, &m);
        http_route_add(s, HTTP_GET, "/slow", s_slow, NULL);
        uint16_t p = loop_addr_port(http_server_addr(s));
        if (write(pfd[1], &p, sizeof p) != (ssize_t)sizeof p)
            _exit(2);
        close(pfd[1]);
        loop_run(l);
        _exit(0);
    }
    close(pfd[1]);
    assert_int_equal(read(pfd[0], port, sizeof *port), (ssize_t)sizeof *port);
    close(pfd[0]);
    return pid;
}

static void server_kill(pid_t pid)
{
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
}

static int setup(void **state)
{
    uint16_t *port = malloc(sizeof *port + sizeof(pid_t));
    pid_t pid = server_child(port);
    memcpy(port + 1, &pid, sizeof pid);
    *state = port;
    return 0;
}

static int teardown(void **state)
{
    uint16_t *port = *state;
    pid_t pid;
    memcpy(&pid, port + 1, sizeof pid);
    server_kill(pid);
    free(port);
    return 0;
}

static void addr_of(void **state, char *out, size_t n, const char *fmt)
{
    uint16_t *port = *state;
    snprintf(out, n, fmt, *port);
}

/* ---- tests ---- */

static void round_trip_put_and_404(void **state)
{
    char addr[64], err[256] = "";
    addr_of(state, addr, sizeof addr, "127.0.0.1:%u");
    struct http_client_resp r;
    assert_int_equal(http_client_request(addr, "PUT", "/v1/kv/a?flags=1", NULL, 0, "hello", 5,
                                         NULL, &r, err, sizeof err),
                     0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 5);
    assert_string_equal(r.body, "hello");
    assert_string_equal(http_client_resp_header(&r, "x-consul-index"), "9");
    http_client_resp_free(&r);

    /* an http:// prefix and a PUT without a body (Content-Length: 0) */
    addr_of(state, addr, sizeof addr, "http://127.0.0.1:%u");
    assert_int_equal(
        http_client_request(addr, "PUT", "/v1/kv/b", NULL, 0, NULL, 0, NULL, &r, err, sizeof err),
        0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    assert_string_equal(r.body, "");
    http_client_resp_free(&r);

    struct http_client_header h[] = {{"X-Consul-Token", "abc"}};
    assert_int_equal(
        http_client_request(addr, "GET", "/nope", h, 1, NULL, 0, NULL, &r, err, sizeof err), 0);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body, "404 page not found\n");
    http_client_resp_free(&r);

    /* a header that would inject another line is refused before anything is sent */
    struct http_client_header bad[] = {{"X-A", "b\r\nX-Injected: 1"}};
    assert_int_equal(
        http_client_request(addr, "GET", "/", bad, 1, NULL, 0, NULL, &r, err, sizeof err), -1);
    http_client_resp_free(&r);
    /* so is a target with a raw space or line break, or one not starting with '/' */
    static const char *const targets[] = {"/v1/kv/a b", "/v1/kv/a\r\nX: 1", "v1/kv/a", ""};
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        err[0] = '\0';
        assert_int_equal(http_client_request(addr, "GET", targets[i], NULL, 0, NULL, 0, NULL, &r,
                                             err, sizeof err),
                         -1);
        assert_true(err[0] != '\0');
        http_client_resp_free(&r);
    }
}

static void big_and_chunked_bodies(void **state)
{
    char addr[64], err[256] = "";
    addr_of(state, addr, sizeof addr, "127.0.0.1:%u");
    struct http_client_resp r;
    assert_int_equal(
        http_client_request(addr, "GET", "/big", NULL, 0, NULL, 0, NULL, &r, err, sizeof err), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, BIG_LEN);
    for (size_t i = 0; i < BIG_LEN; i += 4099)
        assert_int_equal(r.body[i], 'a' + i % 26);
    http_client_resp_free(&r);

    assert_int_equal(
        http_client_request(addr, "GET", "/chunked", NULL, 0, NULL, 0, NULL, &r, err, sizeof err),
        0);
    assert_string_equal(r.body, "one,two,three");
    http_client_resp_free(&r);

    /* HEAD: headers only, whatever the length says */
    assert_int_equal(
        http_client_request(addr, "HEAD", "/big", NULL, 0, NULL, 0, NULL, &r, err, sizeof err),
        0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    http_client_resp_free(&r);

    struct http_client_opts o = {.max_body = 1000};
    assert_int_equal(
        http_client_request(addr, "GET", "/big", NULL, 0, NULL, 0, &o, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "response body too large"));
    http_client_resp_free(&r);
}

struct lines {
    struct buf b;
    int want;
};

static int on_lines(void *ctx, const uint8_t *p, size_t n)
{
    struct lines *l = ctx;
    buf_append(&l->b, p, n);
    int nl = 0;
    for (size_t i = 0; i < l->b.len; i++)
        nl += l->b.data[i] == '\n';
    return nl >= l->want; /* enough: stop reading */
}

static void streaming_monitor(void **state)
{
    char addr[64], err[256] = "";
    addr_of(state, addr, sizeof addr, "127.0.0.1:%u");
    struct lines l = {.want = 3};
    buf_init(&l.b, 0);
    struct http_client_resp r;
    assert_int_equal(http_client_stream(addr, "GET", "/monitor?loglevel=debug", NULL, 0, NULL, 0,
                                        NULL, on_lines, &l, &r, err, sizeof err),
                     0);
    assert_int_equal(r.status, 200);
    assert_null(r.body);
    buf_append(&l.b, "", 1);
    assert_memory_equal(l.b.data, "line 0\nline 1\nline 2\n", 21);
    http_client_resp_free(&r);
    buf_free(&l.b);

    /* an error answer is not streamed: its text lands in the body */
    buf_init(&l.b, 0);
    assert_int_equal(http_client_stream(addr, "GET", "/nope", NULL, 0, NULL, 0, NULL, on_lines,
                                        &l, &r, err, sizeof err),
                     0);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body, "404 page not found\n");
    assert_int_equal(l.b.len, 0);
    http_client_resp_free(&r);
    buf_free(&l.b);

    /* the server child noticed the reader leaving and keeps serving */
    assert_int_equal(
        http_client_request(addr, "GET", "/chunked", NULL, 0, NULL, 0, NULL, &r, err, sizeof err),
        0);
    assert_string_equal(r.body, "one,two,three");
    http_client_resp_free(&r);
}

static void io_timeout_text(void **state)
{
    char addr[64], err[256] = "", want[128];
    addr_of(state, addr, sizeof addr, "127.0.0.1:%u");
    struct http_client_opts o = {.io_timeout_ms = 50};
    struct http_client_resp r;
    assert_int_equal(
        http_client_request(addr, "GET", "/slow", NULL, 0, NULL, 0, &o, &r, err, sizeof err), -1);
    addr_of(state, want, sizeof want, "read tcp 127.0.0.1:%u: i/o timeout");
    assert_string_equal(err, want);
    http_client_resp_free(&r);
}

static void refused_and_bad_address_text(void **state)
{
    (void)state;
    /* a port nobody listens on: bind one, note it, close it */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd);
    char addr[64], err[256] = "", want[128];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", ntohs(sa.sin_port));
    struct http_client_resp r;
    assert_int_equal(
        http_client_request(addr, "GET", "/", NULL, 0, NULL, 0, NULL, &r, err, sizeof err), -1);
    snprintf(want, sizeof want, "dial tcp %s: connect: connection refused", addr);
    assert_string_equal(err, want);
    http_client_resp_free(&r);

    snprintf(addr, sizeof addr, "[::1]:%u", ntohs(sa.sin_port));
    assert_int_equal(
        http_client_request(addr, "GET", "/", NULL, 0, NULL, 0, NULL, &r, err, sizeof err), -1);
    assert_true(strncmp(err, "dial tcp [::1]:", 15) == 0);
    http_client_resp_free(&r);

    err[0] = '\0';
    assert_int_equal(
        http_client_request("nonsense", "GET", "/", NULL, 0, NULL, 0, NULL, &r, err, sizeof err),
        -1);
    assert_true(strncmp(err, "dial tcp", 8) == 0);
    http_client_resp_free(&r);
}

static void localhost_name_resolves(void **state)
{
    char addr[64], err[256] = "";
    addr_of(state, addr, sizeof addr, "localhost:%u");
    struct http_client_resp r;
    int rc = http_client_request(addr, "GET", "/chunked", NULL, 0, NULL, 0, NULL, &r, err,
                                 sizeof err);
    /* localhost may name ::1 first, where nothing listens: then the text says so */
    if (rc != 0)
        assert_true(strncmp(err, "dial tcp [::1]:", 15) == 0);
    else
        assert_string_equal(r.body, "one,two,three");
    http_client_resp_free(&r);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(round_trip_put_and_404, setup, teardown),
        cmocka_unit_test_setup_teardown(big_and_chunked_bodies, setup, teardown),
        cmocka_unit_test_setup_teardown(streaming_monitor, setup, teardown),
        cmocka_unit_test_setup_teardown(io_timeout_text, setup, teardown),
        cmocka_unit_test(refused_and_bad_address_text),
        cmocka_unit_test_setup_teardown(localhost_name_resolves, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
