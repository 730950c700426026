/* test_raft_config.c — configuration sets and the strictness of their decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "raft/config.h"

static void put_find_remove(void **state)
{
    (void)state;
    struct raft_config c = {0, NULL};
    assert_int_equal(raft_config_put(&c, 1, "127.0.0.1:8300", true), 0);
    assert_int_equal(raft_config_put(&c, 2, "127.0.0.2:8300", false), 0);
    assert_int_equal(raft_config_voters(&c), 1);
    assert_int_equal(raft_config_put(&c, 2, "127.0.0.2:8300", true), 0); /* promote */
    assert_int_equal(c.n, 2);
    assert_int_equal(raft_config_voters(&c), 2);
    assert_string_equal(raft_config_find(&c, 2)->addr, "127.0.0.2:8300");
    assert_int_equal(raft_config_remove(&c, 1), 0);
    assert_int_equal(raft_config_remove(&c, 1), -1);
    assert_null(raft_config_find(&c, 1));
    raft_config_free(&c);
}

static void encode_decode_round_trip(void **state)
{
    (void)state;
    struct raft_config c = {0, NULL};
    raft_config_put(&c, 0x1111222233334444ull, "10.0.0.1:8300", true);
    raft_config_put(&c, 7, "node-b.example:8300", false);
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(raft_config_encode(&c, &b), 0);
    struct raft_config d;
    assert_int_equal(raft_config_decode(b.data, b.len, &d), 0);
    assert_true(raft_config_equal(&c, &d));
    raft_config_free(&d);

    /* Every proper prefix is short, and one trailing byte is too many. */
    for (size_t cut = 0; cut < b.len; cut++)
        assert_int_equal(raft_config_decode(b.data, cut, &d), -1);
    buf_append(&b, "", 1);
    assert_int_equal(raft_config_decode(b.data, b.len, &d), -1);
    buf_free(&b);
    raft_config_free(&c);
}

static void decode_rejects_duplicates_and_zero_ids(void **state)
{
    (void)state;
    struct raft_config c = {0, NULL};
    raft_config_put(&c, 5, "a:1", true);
    raft_config_put(&c, 6, "b:1", true);
    struct buf b;
    buf_init(&b, 0);
    raft_config_encode(&c, &b);
    struct raft_config d;
    /* Rewrite the second id (offset 3 + 8+1+2+3) to equal the first. */
    size_t second = 3 + 8 + 1 + 2 + 3;
    codec_store_u64(b.data + second, 5);
    assert_int_equal(raft_config_decode(b.data, b.len, &d), -1);
    codec_store_u64(b.data + second, 0);
    assert_int_equal(raft_config_decode(b.data, b.len, &d), -1);
    b.data[0] = 2; /* unknown format version */
    codec_store_u64(b.data + second, 6);
    assert_int_equal(raft_config_decode(b.data, b.len, &d), -1);
    buf_free(&b);
    raft_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(put_find_remove),
        cmocka_unit_test(encode_decode_round_trip),
        cmocka_unit_test(decode_rejects_duplicates_and_zero_ids),
    };
    return cmocka_run_group_tests_name("raft_config", tests, NULL, NULL);
}
