/* test_agent_rpc.c — the agent RPC frame codec: requests and responses round-trip, a frame split
 * anywhere asks for more, and lying lengths, bad fields and oversize frames are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "agent/rpc_frame.h"

#define S(lit) ((struct agent_rpc_str){lit, sizeof lit - 1})

static bool str_eq(struct agent_rpc_str s, const char *want)
{
    return s.n == strlen(want) && memcmp(s.p, want, s.n) == 0;
}

static void request_round_trips(void **state)
{
    (void)state;
    struct agent_rpc_frame f = {.type = AGENT_RPC_REQUEST, .hops = 1, .method = S("PUT"),
                                .target = S("/v1/kv/a?cas=3"), .body = (const uint8_t *)"v\0x",
                                .body_len = 3};
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(agent_rpc_encode(&f, &b), 0);
    assert_int_equal(agent_rpc_encode(&f, &b), 0); /* two frames back to back */
    struct agent_rpc_frame g;
    size_t used = 0;
    char err[128];
    assert_int_equal(agent_rpc_decode(b.data, b.len, &g, &used, err, sizeof err), AGENT_RPC_OK);
    assert_int_equal(used * 2, b.len);
    assert_int_equal(g.type, AGENT_RPC_REQUEST);
    assert_int_equal(g.hops, 1);
    assert_true(str_eq(g.method, "PUT"));
    assert_true(str_eq(g.target, "/v1/kv/a?cas=3"));
    assert_int_equal(g.body_len, 3);
    assert_memory_equal(g.body, "v\0x", 3);
    /* Every strict prefix is incomplete, never an error nor a frame. */
    for (size_t n = 0; n < used; n++)
        assert_int_equal(agent_rpc_decode(b.data, n, &g, &used, err, sizeof err),
                         AGENT_RPC_NEED_MORE);
    buf_free(&b);
}

static void response_round_trips(void **state)
{
    (void)state;
    struct agent_rpc_frame f = {.type = AGENT_RPC_RESPONSE, .status = 404, .index = S("17"),
                                .known_leader = S("true"), .last_contact = S("0"),
                                .content_type = S("application/json")};
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(agent_rpc_encode(&f, &b), 0);
    struct agent_rpc_frame g;
    size_t used = 0;
    char err[128];
    assert_int_equal(agent_rpc_decode(b.data, b.len, &g, &used, err, sizeof err), AGENT_RPC_OK);
    assert_int_equal(used, b.len);
    assert_int_equal(g.status, 404);
    assert_true(str_eq(g.index, "17"));
    assert_true(str_eq(g.known_leader, "true"));
    assert_true(str_eq(g.last_contact, "0"));
    assert_true(str_eq(g.content_type, "application/json"));
    assert_int_equal(g.body_len, 0);
    buf_free(&b);
}

static enum agent_rpc_status decode_buf(const struct buf *b, char *err, size_t errlen)
{
    struct agent_rpc_frame g;
    size_t used = 0;
    return agent_rpc_decode(b->data, b->len, &g, &used, err, errlen);
}

static void bad_frames_are_refused(void **state)
{
    (void)state;
    char err[128];
    struct buf b;
    buf_init(&b, 0);
    /* A length past the bound is refused before any byte of the body arrives. */
    uint8_t big[4];
    codec_store_u32(big, (uint32_t)AGENT_RPC_FRAME_MAX + 1);
    buf_append(&b, big, 4);
    assert_int_equal(decode_buf(&b, err, sizeof err), AGENT_RPC_ERROR);
    assert_non_null(strstr(err, "exceeds"));

    /* A body length that lies about the bytes inside the frame. */
    struct agent_rpc_frame f = {.type = AGENT_RPC_REQUEST, .method = S("GET"),
                                .target = S("/v1/kv/a")};
    buf_clear(&b);
    assert_int_equal(agent_rpc_encode(&f, &b), 0);
    codec_store_u32(b.data + b.len - 4, 9);
    assert_int_equal(decode_buf(&b, err, sizeof err), AGENT_RPC_ERROR);

    /* A line break in the target would split the forwarded request. */
    f.target = S("/v1/kv/a\r\nX: y");
    buf_clear(&b);
    assert_int_equal(agent_rpc_encode(&f, &b), 0);
    assert_int_equal(decode_buf(&b, err, sizeof err), AGENT_RPC_ERROR);

    f.target = S("/v1/kv/a HTTP/1.0");
    buf_clear(&b);
    assert_int_equal(agent_rpc_encode(&f, &b), 0);
    assert_int_equal(decode_buf(&b, err, sizeof err), AGENT_RPC_ERROR);

    /* Method must be an upper-case token, target must be a path. */
    f.target = S("v1/kv/a");
    buf_clear(&b);
    assert_int_equal(agent_rpc_encode(&f, &b), 0);
    assert_int_equal(decode_buf(&b, err, sizeof err), AGENT_RPC_ERROR);
    f.target = S("/v1/kv/a");
    f.method = S("get");
    buf_clear(&b);
    assert_int_equal(agent_rpc_encode(&f, &b), 0);
    assert_int_equal(decode_buf(&b, err, sizeof err), AGENT_RPC_ERROR);

    /* Unknown type, impossible status, trailing bytes. */
    const uint8_t unknown[] = {0, 0, 0, 1, 9};
    assert_int_equal(agent_rpc_decode(unknown, sizeof unknown, &f, &(size_t){0}, err, sizeof err),
                     AGENT_RPC_ERROR);
    struct agent_rpc_frame r = {.type = AGENT_RPC_RESPONSE, .status = 42};
    buf_clear(&b);
    assert_int_equal(agent_rpc_encode(&r, &b), 0);
    assert_int_equal(decode_buf(&b, err, sizeof err), AGENT_RPC_ERROR);
    r.status = 200;
    buf_clear(&b);
    assert_int_equal(agent_rpc_encode(&r, &b), 0);
    uint8_t zero = 0;
    buf_append(&b, &zero, 1);
    codec_store_u32(b.data, codec_load_u32(b.data) + 1);
    assert_int_equal(decode_buf(&b, err, sizeof err), AGENT_RPC_ERROR);
    assert_non_null(strstr(err, "trailing"));
    buf_free(&b);
}

static void oversize_body_is_not_encoded(void **state)
{
    (void)state;
    uint8_t *big = calloc(1, AGENT_RPC_FRAME_MAX);
    assert_non_null(big);
    struct agent_rpc_frame f = {.type = AGENT_RPC_RESPONSE, .status = 200, .body = big,
                                .body_len = AGENT_RPC_FRAME_MAX};
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(agent_rpc_encode(&f, &b), -1);
    assert_int_equal(b.len, 0);
    /* The largest body that fits with its header still goes out and comes back. */
    f.body_len = AGENT_RPC_FRAME_MAX - 1 - 2 - 4 * 2 - 4;
    assert_int_equal(agent_rpc_encode(&f, &b), 0);
    struct agent_rpc_frame g;
    size_t used = 0;
    char err[128];
    assert_int_equal(agent_rpc_decode(b.data, b.len, &g, &used, err, sizeof err), AGENT_RPC_OK);
    assert_int_equal(g.body_len, f.body_len);
    buf_free(&b);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_round_trips),
        cmocka_unit_test(response_round_trips),
        cmocka_unit_test(bad_frames_are_refused),
        cmocka_unit_test(oversize_body_is_not_encoded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
