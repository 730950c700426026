/* test_base.c — unit tests for src/base: CRC-32C vectors, buffers with limits, the sticky codec,
 * and the log line format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/buf.h"
#include "base/crc32c.h"
#include "base/log.h"

static void crc32c_known_vectors(void **state)
{
    (void)state;
    assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283u);
    assert_int_equal(crc32c(0, "", 0), 0);
    uint8_t zeros[32] = {0};
    assert_int_equal(crc32c(0, zeros, 32), 0x8a9136aau); /* RFC 3720 B.4 */
    uint8_t ones[32];
    memset(ones, 0xff, sizeof ones);
    assert_int_equal(crc32c(0, ones, 32), 0x62a8ab43u);
}

static void crc32c_incremental_matches_whole(void **state)
{
    (void)state;
    uint8_t data[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    uint32_t whole = crc32c(0, data, sizeof data);
    for (size_t cut = 0; cut <= sizeof data; cut += 37) {
        /* Unaligned starts exercise the byte-wise head loop. */
        uint32_t c = crc32c(0, data, cut);
        c = crc32c(c, data + cut, sizeof data - cut);
        assert_int_equal(c, whole);
    }
}

static void buf_respects_limit(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_append(&b, "0123456789", 10), 0);
    assert_int_equal(buf_append(&b, "x", 1), -1);
    assert_int_equal(b.len, 10);
    buf_consume(&b, 4);
    assert_int_equal(b.len, 6);
    assert_memory_equal(b.data, "456789", 6);
    assert_int_equal(buf_append(&b, "abcd", 4), 0);
    assert_memory_equal(b.data, "456789abcd", 10);
    buf_free(&b);
}

static void codec_round_trip(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    struct codec_wr w;
    codec_wr_init(&w, &b);
    codec_put_u8(&w, 0xab);
    codec_put_u16(&w, 0x1234);
    codec_put_u32(&w, 0xdeadbeef);
    codec_put_u64(&w, 0x0102030405060708ull);
    codec_put_str16(&w, "node-a", 6);
    assert_true(codec_wr_ok(&w));
    assert_int_equal(b.data[1], 0x12); /* big-endian on the wire */

    struct codec_rd r;
    codec_rd_init(&r, b.data, b.len);
    assert_int_equal(codec_get_u8(&r), 0xab);
    assert_int_equal(codec_get_u16(&r), 0x1234);
    assert_int_equal(codec_get_u32(&r), 0xdeadbeef);
    assert_true(codec_get_u64(&r) == 0x0102030405060708ull);
    size_t n;
    const uint8_t *s = codec_get_str16(&r, &n);
    assert_non_null(s);
    assert_int_equal(n, 6);
    assert_memory_equal(s, "node-a", 6);
    assert_int_equal(codec_rd_remaining(&r), 0);
    assert_true(codec_rd_ok(&r));
    buf_free(&b);
}

static void codec_short_input_is_sticky_error(void **state)
{
    (void)state;
    /* A length prefix that claims more than is there must fail, and stay failed. */
    const uint8_t lying[] = {0x00, 0x10, 'a', 'b'};
    struct codec_rd r;
    codec_rd_init(&r, lying, sizeof lying);
    size_t n = 99;
    assert_null(codec_get_str16(&r, &n));
    assert_int_equal(n, 0);
    assert_false(codec_rd_ok(&r));
    assert_int_equal(codec_get_u8(&r), 0);
    assert_int_equal(codec_rd_remaining(&r), 0);

    for (size_t len = 0; len < 8; len++) {
        uint8_t eight[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        codec_rd_init(&r, eight, len);
        (void)codec_get_u64(&r);
        assert_false(codec_rd_ok(&r));
    }
}

static void codec_writer_fails_past_limit(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 6);
    struct codec_wr w;
    codec_wr_init(&w, &b);
    codec_put_u32(&w, 1);
    codec_put_u32(&w, 2);
    assert_false(codec_wr_ok(&w));
    codec_put_u8(&w, 3); /* stays failed, writes nothing */
    assert_int_equal(b.len, 4);
    buf_free(&b);
}

struct captured {
    char line[2048];
    size_t len;
    int calls;
};

static void capture_tap(void *ctx, enum log_level level, const char *line, size_t len)
{
    (void)level;
    struct captured *c = ctx;
    memcpy(c->line, line, len);
    c->line[len] = '\0';
    c->len = len;
    c->calls++;
}

static void log_line_has_consul_shape(void **state)
{
    (void)state;
    struct logger lg;
    log_init(&lg, -1, LOG_INFO);
    struct captured c = {.calls = 0};
    lg.tap = capture_tap;
    lg.tap_ctx = &c;
    lg.tap_level = LOG_INFO;

    log_printf(&lg, LOG_INFO, "consul", "cluster leadership acquired");
    assert_int_equal(c.calls, 1);
    /* "2014/02/22 19:23:32 [INFO] consul: cluster leadership acquired" */
    assert_int_equal(c.line[4], '/');
    assert_int_equal(c.line[7], '/');
    assert_int_equal(c.line[13], ':');
    assert_string_equal(c.line + 19, " [INFO] consul: cluster leadership acquired");

    log_printf(&lg, LOG_DEBUG, "raft", "dropped below the tap level");
    assert_int_equal(c.calls, 1);

    char big[4000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    log_printf(&lg, LOG_WARN, "memberlist", "%s", big);
    assert_int_equal(c.calls, 2);
    assert_true(c.len < 1100);

    log_printf(NULL, LOG_ERR, "raft", "a NULL logger discards");
}

static void log_level_names_parse(void **state)
{
    (void)state;
    enum log_level l;
    assert_int_equal(log_level_parse("warn", &l), 0);
    assert_int_equal(l, LOG_WARN);
    assert_int_equal(log_level_parse("ERR", &l), 0);
    assert_int_equal(l, LOG_ERR);
    assert_int_equal(log_level_parse("Trace", &l), 0);
    assert_int_equal(l, LOG_TRACE);
    assert_int_equal(log_level_parse("error", &l), -1);
    assert_string_equal(log_level_name(LOG_DEBUG), "DEBUG");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc32c_known_vectors),
        cmocka_unit_test(crc32c_incremental_matches_whole),
        cmocka_unit_test(buf_respects_limit),
        cmocka_unit_test(codec_round_trip),
        cmocka_unit_test(codec_short_input_is_sticky_error),
        cmocka_unit_test(codec_writer_fails_past_limit),
        cmocka_unit_test(log_line_has_consul_shape),
        cmocka_unit_test(log_level_names_parse),
    };
    return cmocka_run_group_tests_name("base", tests, NULL, NULL);
}
