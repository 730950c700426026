/* test_http_query.c — Go duration parsing and Consul's blocking/consistency parameters,
 * including the exact 400 texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/query.h"

static void durations(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        uint64_t ms;
    } ok[] = {
        {"0", 0},          {"10s", 10000},     {"1m30s", 90000},  {"1.5h", 5400000},
        {"250ms", 250},    {"1us", 1},         {"1ns", 1},        {"+2s", 2000},
        {".5s", 500},      {"5.s", 5000},      {"10m", 600000},   {"1h1m1s1ms", 3661001},
        {"2\xc2\xb5s", 1}, {"0s", 0},          {"0.001s", 1},     {"3000ms", 3000},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t ms = 12345;
        if (http_parse_duration(ok[i].in, &ms) != 0 || ms != ok[i].ms)
            fail_msg("%s: got %llu, want %llu", ok[i].in, (unsigned long long)ms,
                     (unsigned long long)ok[i].ms);
    }
    static const char *const bad[] = {"",    "10",   "s",  "-1s", "1x",   "1s ", " 1s",
                                      ".s",  "1..s", "1e3s", "99999999999999999999h", "1s-",
                                      "+",   "--1s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t ms;
        if (http_parse_duration(bad[i], &ms) != -1)
            fail_msg("%s accepted", bad[i]);
    }
}

static int parse_target(const char *target, struct http_parser *p)
{
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", target);
    http_parser_init(p, HTTP_PARSE_REQUEST, NULL);
    size_t used;
    return http_parser_feed(p, (const uint8_t *)req, strlen(req), &used) == HTTP_PARSE_DONE ? 0
                                                                                          : -1;
}

static void blocking_and_consistency(void **state)
{
    (void)state;
    static const struct {
        const char *target;
        int rc;
        const char *err;
        bool blocking;
        uint64_t index, wait_ms;
        enum http_consistency c;
    } cases[] = {
        {"/v1/kv/a", 0, NULL, false, 0, 0, HTTP_CONSISTENCY_DEFAULT},
        {"/v1/kv/a?index=5&wait=10s", 0, NULL, true, 5, 10000, HTTP_CONSISTENCY_DEFAULT},
        {"/v1/kv/a?index=5", 0, NULL, true, 5, HTTP_MAX_QUERY_MS, HTTP_CONSISTENCY_DEFAULT},
        {"/v1/kv/a?index=5&wait=1h", 0, NULL, true, 5, HTTP_MAX_QUERY_MS, HTTP_CONSISTENCY_DEFAULT},
        {"/v1/kv/a?index=0&wait=5s", 0, NULL, false, 0, 5000, HTTP_CONSISTENCY_DEFAULT},
        {"/v1/kv/a?stale", 0, NULL, false, 0, 0, HTTP_CONSISTENCY_STALE},
        {"/v1/kv/a?consistent=", 0, NULL, false, 0, 0, HTTP_CONSISTENCY_CONSISTENT},
        {"/v1/kv/a?wait=10", -1, "Invalid wait time", false, 0, 0, 0},
        {"/v1/kv/a?wait=", -1, "Invalid wait time", false, 0, 0, 0},
        {"/v1/kv/a?index=x", -1, "Invalid index", false, 0, 0, 0},
        {"/v1/kv/a?index=-1", -1, "Invalid index", false, 0, 0, 0},
        {"/v1/kv/a?index=18446744073709551616", -1, "Invalid index", false, 0, 0, 0},
        {"/v1/kv/a?index", -1, "Invalid index", false, 0, 0, 0},
        {"/v1/kv/a?stale&consistent", -1,
         "Cannot specify ?stale with ?consistent, conflicting semantics.", false, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct http_parser p;
        assert_int_equal(parse_target(cases[i].target, &p), 0);
        struct http_query_opts o;
        const char *err = NULL;
        int rc = http_query_opts_parse(&p.msg, &o, &err);
        if (rc != cases[i].rc)
            fail_msg("%s: rc %d", cases[i].target, rc);
        if (rc == 0) {
            assert_int_equal(o.blocking, cases[i].blocking);
            assert_int_equal(o.index, cases[i].index);
            assert_int_equal(o.wait_ms, cases[i].wait_ms);
            assert_int_equal(o.consistency, cases[i].c);
        } else {
            assert_string_equal(err, cases[i].err);
        }
        http_parser_free(&p);
    }
    struct http_parser p;
    assert_int_equal(parse_target("/v1/kv/a?dc=dc2", &p), 0);
    struct http_query_opts o;
    const char *err;
    assert_int_equal(http_query_opts_parse(&p.msg, &o, &err), 0);
    assert_string_equal(o.dc, "dc2");
    http_parser_free(&p);
}

static void pct_encode_round_trips(void **state)
{
    (void)state;
    static const char key[] = "a b/c?d=e&f%g+h\xc3\xa9~._-";
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(http_pct_encode(&b, key, strlen(key), true), 0);
    buf_append(&b, "", 1);
    assert_string_equal((char *)b.data, "a%20b/c%3Fd%3De%26f%25g%2Bh%C3%A9~._-");
    char back[64];
    assert_int_equal(http_pct_decode((char *)b.data, b.len - 1, back, false), (long)strlen(key));
    assert_string_equal(back, key);
    buf_clear(&b);
    assert_int_equal(http_pct_encode(&b, "x/y", 3, false), 0);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "x%2Fy", 5);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(durations),
        cmocka_unit_test(blocking_and_consistency),
        cmocka_unit_test(pct_encode_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
