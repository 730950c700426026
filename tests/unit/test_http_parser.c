/* test_http_parser.c — the HTTP parser: every split of the input gives the same messages,
 * pipelining, chunked bodies, query decoding, keep-alive rules and every refusal's status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/parser.h"

/* A message as text, so results of different feeding patterns compare with one strcmp. */
static void summarize(const struct http_message *m, struct buf *out)
{
    char line[256];
    if (m->method_name != NULL) {
        snprintf(line, sizeof line, "%s|%s|%s|", m->method_name, m->target, m->path);
        buf_append(out, line, strlen(line));
    } else {
        snprintf(line, sizeof line, "%d|%s|", m->status, m->reason);
        buf_append(out, line, strlen(line));
    }
    for (size_t i = 0; i < m->nparams; i++) {
        snprintf(line, sizeof line, "%s=%s,", m->params[i].key, m->params[i].value);
        buf_append(out, line, strlen(line));
    }
    buf_append(out, "|", 1);
    for (size_t i = 0; i < m->nheaders; i++) {
        snprintf(line, sizeof line, "%s:%s;", m->headers[i].name, m->headers[i].value);
        buf_append(out, line, strlen(line));
    }
    snprintf(line, sizeof line, "|ka=%d|1.%d|body=", m->keep_alive, m->minor);
    buf_append(out, line, strlen(line));
    buf_append(out, m->body.data, m->body.len);
    buf_append(out, "\n", 1);
}

struct run {
    struct buf text; /* summaries of the messages parsed */
    int nmsg;
    int err_status; /* 0 when no error */
    int more;       /* ended waiting for more input */
};

/* Feeds input in pieces cut at the given offsets (sorted, within len), across messages. */
static void run_cuts(enum http_parser_kind kind, const struct http_limits *lim, const char *in,
                     size_t len, const size_t *cuts, size_t ncuts, struct run *r)
{
    struct http_parser p;
    http_parser_init(&p, kind, lim);
    buf_init(&r->text, 0);
    r->nmsg = 0;
    r->err_status = 0;
    r->more = 0;
    size_t start = 0;
    for (size_t c = 0; c <= ncuts && r->err_status == 0; c++) {
        size_t end = c < ncuts ? cuts[c] : len;
        while (start < end) {
            size_t used = 0;
            enum http_parse_rc rc =
                http_parser_feed(&p, (const uint8_t *)in + start, end - start, &used);
            assert_true(used <= end - start);
            start += used;
            if (rc == HTTP_PARSE_ERROR) {
                r->err_status = p.err_status;
                assert_non_null(p.err_msg);
                break;
            }
            if (rc == HTTP_PARSE_DONE) {
                summarize(&p.msg, &r->text);
                r->nmsg++;
                http_parser_reset(&p);
                continue;
            }
            assert_int_equal(start, end); /* MORE consumes everything */
        }
    }
    if (r->err_status == 0 && kind == HTTP_PARSE_RESPONSE) {
        enum http_parse_rc rc = http_parser_eof(&p);
        if (rc == HTTP_PARSE_DONE && http_parser_started(&p)) {
            summarize(&p.msg, &r->text);
            r->nmsg++;
        }
    }
    r->more = r->err_status == 0 && http_parser_started(&p);
    buf_append(&r->text, "", 1);
    http_parser_free(&p);
}

/* Parses whole, then split in two at every offset, then byte by byte: all must agree. */
static void check_all_splits(enum http_parser_kind kind, const struct http_limits *lim,
                             const char *in, size_t len, struct run *whole)
{
    run_cuts(kind, lim, in, len, NULL, 0, whole);
    for (size_t s = 0; s <= len; s++) {
        struct run r;
        run_cuts(kind, lim, in, len, &s, 1, &r);
        if (strcmp((char *)r.text.data, (char *)whole->text.data) != 0 || r.nmsg != whole->nmsg ||
            r.err_status != whole->err_status)
            fail_msg("split at %zu differs:\n%s\nvs whole:\n%s", s, (char *)r.text.data,
                     (char *)whole->text.data);
        buf_free(&r.text);
    }
    size_t *cuts = malloc((len + 1) * sizeof *cuts);
    assert_non_null(cuts);
    for (size_t i = 0; i < len; i++)
        cuts[i] = i + 1;
    struct run r;
    run_cuts(kind, lim, in, len, cuts, len, &r);
    assert_string_equal((char *)r.text.data, (char *)whole->text.data);
    assert_int_equal(r.err_status, whole->err_status);
    buf_free(&r.text);
    free(cuts);
}

static const char simple_get[] = "GET /v1/kv/a%20b?recurse&index=5&wait=10s HTTP/1.1\r\n"
                                 "Host: 127.0.0.1:8500\r\nUser-Agent: t\r\n\r\n";

static void get_with_query(void **state)
{
    (void)state;
    struct run r;
    check_all_splits(HTTP_PARSE_REQUEST, NULL, simple_get, strlen(simple_get), &r);
    assert_int_equal(r.nmsg, 1);
    assert_string_equal((char *)r.text.data,
                        "GET|/v1/kv/a%20b?recurse&index=5&wait=10s|/v1/kv/a b|recurse=,index=5,"
                        "wait=10s,|Host:127.0.0.1:8500;User-Agent:t;|ka=1|1.1|body=\n");
    buf_free(&r.text);
}

static void pipelined_mixed_framing(void **state)
{
    (void)state;
    static const char in[] = "PUT /v1/kv/x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
                             "\r\n" /* stray CRLF between requests is tolerated */
                             "PUT /v1/kv/y?flags=3 HTTP/1.1\r\nhost: h\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n"
                             "3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n"
                             "DELETE /v1/kv/z HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                             "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    struct run r;
    check_all_splits(HTTP_PARSE_REQUEST, NULL, in, strlen(in), &r);
    assert_int_equal(r.nmsg, 4);
    assert_int_equal(r.err_status, 0);
    assert_string_equal((char *)r.text.data,
                        "PUT|/v1/kv/x|/v1/kv/x||Host:h;Content-Length:5;|ka=1|1.1|body=hello\n"
                        "PUT|/v1/kv/y?flags=3|/v1/kv/y|flags=3,|host:h;Transfer-Encoding:chunked;"
                        "|ka=1|1.1|body=abc0123456789\n"
                        "DELETE|/v1/kv/z|/v1/kv/z||Connection:keep-alive;|ka=1|1.0|body=\n"
                        "GET|/|/||Host:h;Connection:close;|ka=0|1.1|body=\n");
    buf_free(&r.text);
}

static void query_decoding(void **state)
{
    (void)state;
    static const char in[] = "GET /p?a=b%20c+d&&flag&x=&%41=%3D HTTP/1.1\r\nHost: h\r\n\r\n";
    struct http_parser p;
    http_parser_init(&p, HTTP_PARSE_REQUEST, NULL);
    size_t used;
    assert_int_equal(http_parser_feed(&p, (const uint8_t *)in, strlen(in), &used),
                     HTTP_PARSE_DONE);
    assert_int_equal(used, strlen(in));
    const char *v = NULL;
    assert_int_equal(p.msg.nparams, 4);
    assert_true(http_msg_param(&p.msg, "a", &v));
    assert_string_equal(v, "b c d");
    assert_true(http_msg_param(&p.msg, "flag", &v));
    assert_string_equal(v, "");
    assert_true(http_msg_param(&p.msg, "x", &v));
    assert_string_equal(v, "");
    assert_true(http_msg_param(&p.msg, "A", &v));
    assert_string_equal(v, "=");
    assert_false(http_msg_param(&p.msg, "missing", &v));
    assert_string_equal(p.msg.query, "a=b%20c+d&&flag&x=&%41=%3D");
    assert_string_equal(http_msg_header(&p.msg, "HOST"), "h");
    assert_null(http_msg_header(&p.msg, "Content-Length"));
    http_parser_free(&p);
}

static void keep_alive_rules(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int ka;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", 1},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", 0},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n", 0},
        {"GET / HTTP/1.0\r\n\r\n", 0},
        {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 1},
        {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct http_parser p;
        http_parser_init(&p, HTTP_PARSE_REQUEST, NULL);
        size_t used;
        assert_int_equal(
            http_parser_feed(&p, (const uint8_t *)cases[i].in, strlen(cases[i].in), &used),
            HTTP_PARSE_DONE);
        if (p.msg.keep_alive != (cases[i].ka != 0))
            fail_msg("case %zu: keep_alive %d", i, p.msg.keep_alive);
        http_parser_free(&p);
    }
}

struct bad_case {
    const char *in;
    int status;
};

static void malformed_requests_get_their_status(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\tfolded\r\n\r\n", 400},
        {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
        {"GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505},
        {"GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400},
        {"GET / FOO/1.1\r\nHost: a\r\n\r\n", 400},
        {"BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 501},
        {"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"GET /\r\n\r\n", 400},
        {"GET http://x/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"GET /a%0 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"GET /a%00b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"GET /a?x=%00 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        {"GET / HTTP/1.1\rX\r\nHost: a\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: \r\r\n\r\n", 400},
        {"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400},
        {"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400},
        {"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n", 400},
        {"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", 400},
        {"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
        {"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
        {"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", 400},
        {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
        {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
         "Transfer-Encoding: chunked\r\n\r\n",
         501},
        {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
         400},
        {"PUT / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        {"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 600000\r\n\r\n", 413},
        {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
        {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 400},
        {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n", 400},
        {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\rX", 400},
        {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
         "10000000000000000\r\n",
         400},
        {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n80001\r\n", 413},
        {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad\x01\r\n\r\n",
         400},
        {"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct run r;
        check_all_splits(HTTP_PARSE_REQUEST, NULL, cases[i].in, strlen(cases[i].in), &r);
        if (r.err_status != cases[i].status)
            fail_msg("case %zu (%s): status %d, want %d", i, cases[i].in, r.err_status,
                     cases[i].status);
        assert_int_equal(r.nmsg, 0);
        buf_free(&r.text);
    }
}

static void nul_in_head_is_refused(void **state)
{
    (void)state;
    static const char in[] = "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n";
    struct run r;
    check_all_splits(HTTP_PARSE_REQUEST, NULL, in, sizeof in - 1, &r);
    assert_int_equal(r.err_status, 400);
    buf_free(&r.text);
}

/* Builds a request whose head grows past a limit in a chosen way. */
static void limits_map_to_414_431_413(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    struct http_limits lim = {.max_head = 4096, .max_target = 1024, .max_headers = 8,
                              .max_body = 100};

    /* long target: 414, also when the request line never ends */
    buf_append(&b, "GET /", 5);
    for (int i = 0; i < 2000; i++)
        buf_append(&b, "a", 1);
    struct run r;
    run_cuts(HTTP_PARSE_REQUEST, &lim, (char *)b.data, b.len, NULL, 0, &r);
    assert_int_equal(r.err_status, 414);
    buf_free(&r.text);
    buf_append(&b, " HTTP/1.1\r\nHost: a\r\n\r\n", 22);
    run_cuts(HTTP_PARSE_REQUEST, &lim, (char *)b.data, b.len, NULL, 0, &r);
    assert_int_equal(r.err_status, 414);
    buf_free(&r.text);
    /* a NUL past the limit does not change the verdict, however the bytes arrive (fuzz find) */
    b.data[1500] = '\0';
    check_all_splits(HTTP_PARSE_REQUEST, &lim, (char *)b.data, b.len, &r);
    assert_int_equal(r.err_status, 414);
    buf_free(&r.text);
    b.data[100] = '\0';
    check_all_splits(HTTP_PARSE_REQUEST, &lim, (char *)b.data, b.len, &r);
    assert_int_equal(r.err_status, 400);
    buf_free(&r.text);

    /* nine headers with a limit of eight: 431 */
    buf_clear(&b);
    buf_append(&b, "GET / HTTP/1.1\r\n", 16);
    for (int i = 0; i < 9; i++)
        buf_append(&b, "X-A: b\r\n", 8);
    buf_append(&b, "\r\n", 2);
    run_cuts(HTTP_PARSE_REQUEST, &lim, (char *)b.data, b.len, NULL, 0, &r);
    assert_int_equal(r.err_status, 431);
    buf_free(&r.text);

    /* a header section past max_head: 431 */
    buf_clear(&b);
    buf_append(&b, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ", 32);
    for (int i = 0; i < 5000; i++)
        buf_append(&b, "x", 1);
    run_cuts(HTTP_PARSE_REQUEST, &lim, (char *)b.data, b.len, NULL, 0, &r);
    assert_int_equal(r.err_status, 431);
    buf_free(&r.text);

    /* exactly max_body is fine, one more is 413, for both framings */
    static const char *const ok[] = {"Content-Length: 100\r\n\r\n", "Transfer-Encoding: chunked"
                                                                  "\r\n\r\n64\r\n"};
    for (int over = 0; over < 2; over++) {
        for (int f = 0; f < 2; f++) {
            buf_clear(&b);
            buf_append(&b, "PUT / HTTP/1.1\r\nHost: a\r\n", 25);
            if (f == 0) {
                const char *h = over ? "Content-Length: 101\r\n\r\n" : ok[0];
                buf_append(&b, h, strlen(h));
            } else {
                buf_append(&b, ok[1], strlen(ok[1]));
            }
            for (int i = 0; i < 100; i++)
                buf_append(&b, "v", 1);
            if (f == 1) {
                if (over)
                    buf_append(&b, "\r\n1\r\nv", 6);
                buf_append(&b, "\r\n0\r\n\r\n", 7);
            } else if (over) {
                buf_append(&b, "v", 1);
            }
            run_cuts(HTTP_PARSE_REQUEST, &lim, (char *)b.data, b.len, NULL, 0, &r);
            if (over)
                assert_int_equal(r.err_status, 413);
            else
                assert_int_equal(r.nmsg, 1);
            buf_free(&r.text);
        }
    }
    buf_free(&b);
}

static void incomplete_request_waits(void **state)
{
    (void)state;
    struct http_parser p;
    http_parser_init(&p, HTTP_PARSE_REQUEST, NULL);
    size_t used;
    assert_false(http_parser_started(&p));
    assert_int_equal(http_parser_feed(&p, (const uint8_t *)"\r\n", 2, &used), HTTP_PARSE_MORE);
    assert_false(http_parser_started(&p)); /* blank lines do not start a request */
    static const char part[] = "PUT /k HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc";
    assert_int_equal(http_parser_feed(&p, (const uint8_t *)part, strlen(part), &used),
                     HTTP_PARSE_MORE);
    assert_true(http_parser_started(&p));
    assert_true(p.head_done);
    assert_int_equal(p.msg.content_length, 10);
    assert_int_equal(http_parser_eof(&p), HTTP_PARSE_ERROR);
    http_parser_free(&p);
}

static void responses_all_framings(void **state)
{
    (void)state;
    static const char in[] = "HTTP/1.1 100 Continue\r\n\r\n"
                             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Consul-Index: 7\r\n\r\n[]"
                             "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "4\r\nnone\r\n0\r\n\r\n"
                             "HTTP/1.1 204 No Content\r\n\r\n"
                             "HTTP/1.0 200\r\n\r\nuntil the end";
    struct run r;
    check_all_splits(HTTP_PARSE_RESPONSE, NULL, in, strlen(in), &r);
    assert_int_equal(r.err_status, 0);
    assert_int_equal(r.nmsg, 5);
    assert_string_equal((char *)r.text.data,
                        "100|Continue|||ka=1|1.1|body=\n"
                        "200|OK||Content-Length:2;X-Consul-Index:7;|ka=1|1.1|body=[]\n"
                        "404|Not Found||Transfer-Encoding:chunked;|ka=1|1.1|body=none\n"
                        "204|No Content|||ka=1|1.1|body=\n"
                        "200||||ka=0|1.0|body=until the end\n");
    buf_free(&r.text);

    /* a HEAD answer has no body whatever its Content-Length says */
    struct http_parser p;
    http_parser_init(&p, HTTP_PARSE_RESPONSE, NULL);
    http_parser_expect_no_body(&p);
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
    size_t used;
    assert_int_equal(http_parser_feed(&p, (const uint8_t *)head, strlen(head), &used),
                     HTTP_PARSE_DONE);
    http_parser_free(&p);
}

static int collect(void *ctx, const uint8_t *p, size_t n)
{
    return buf_append(ctx, p, n);
}

static void response_body_callback_has_no_limit(void **state)
{
    (void)state;
    struct http_limits lim = {.max_body = 4};
    struct http_parser p;
    http_parser_init(&p, HTTP_PARSE_RESPONSE, &lim);
    struct buf got;
    buf_init(&got, 0);
    http_parser_set_body_fn(&p, collect, &got);
    static const char in[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "6\r\nline1\n\r\n6\r\nline2\n\r\n0\r\n\r\n";
    size_t used;
    assert_int_equal(http_parser_feed(&p, (const uint8_t *)in, strlen(in), &used),
                     HTTP_PARSE_DONE);
    assert_int_equal(got.len, 12);
    assert_memory_equal(got.data, "line1\nline2\n", 12);
    assert_int_equal(p.msg.body.len, 0);
    buf_free(&got);
    http_parser_free(&p);
}

static void bad_responses(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"HTTP/1.1 2000 OK\r\n\r\n", 400},
        {"HTTP/1.1 20 OK\r\n\r\n", 400},
        {"HTTP/9.9 200 OK\r\n\r\n", 400},
        {"ICY 200 OK\r\n\r\n", 400},
        {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400},
        {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 400}, /* EOF mid-body */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct http_parser p;
        http_parser_init(&p, HTTP_PARSE_RESPONSE, NULL);
        size_t used;
        enum http_parse_rc rc =
            http_parser_feed(&p, (const uint8_t *)cases[i].in, strlen(cases[i].in), &used);
        if (rc == HTTP_PARSE_MORE)
            rc = http_parser_eof(&p);
        if (rc != HTTP_PARSE_ERROR || p.err_status != cases[i].status)
            fail_msg("response case %zu: rc %d status %d", i, rc, p.err_status);
        http_parser_free(&p);
    }
}

static void pct_decode(void **state)
{
    (void)state;
    char out[32];
    assert_int_equal(http_pct_decode("a%2Fb+c", 7, out, false), 5);
    assert_string_equal(out, "a/b+c");
    assert_int_equal(http_pct_decode("a%2fb+c", 7, out, true), 5);
    assert_string_equal(out, "a/b c");
    assert_int_equal(http_pct_decode("%", 1, out, false), -1);
    assert_int_equal(http_pct_decode("%4", 2, out, false), -1);
    assert_int_equal(http_pct_decode("%g0", 3, out, false), -1);
    assert_int_equal(http_pct_decode("", 0, out, false), 0);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_with_query),
        cmocka_unit_test(pipelined_mixed_framing),
        cmocka_unit_test(query_decoding),
        cmocka_unit_test(keep_alive_rules),
        cmocka_unit_test(malformed_requests_get_their_status),
        cmocka_unit_test(nul_in_head_is_refused),
        cmocka_unit_test(limits_map_to_414_431_413),
        cmocka_unit_test(incomplete_request_waits),
        cmocka_unit_test(responses_all_framings),
        cmocka_unit_test(response_body_callback_has_no_limit),
        cmocka_unit_test(bad_responses),
        cmocka_unit_test(pct_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
