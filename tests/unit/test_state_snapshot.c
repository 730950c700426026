/* test_state_snapshot.c — unit tests for state snapshots and determinism: equal command streams
 * give byte-identical snapshots, restore round-trips exactly, and any corrupted or truncated
 * snapshot is refused with the old state left intact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/crc32c.h"
#include "state/state.h"

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static const char *pick(uint64_t *rng, const char *const *v, size_t n)
{
    return v[next_rand(rng) % n];
}

/* One random command over a small namespace, so updates, cascades, CAS misses and refusals
 * (checks on missing services) all happen often. */
static void random_cmd(uint64_t *rng, uint64_t last_index, struct buf *out)
{
    static const char *const nodes[] = {"n1", "n2", "n3", "node-four"};
    static const char *const addrs[] = {"10.0.0.1", "10.0.0.2"};
    static const char *const ids[] = {"web1", "web2", "db", ""};
    static const char *const names[] = {"web", "db"};
    static const char *const tags[] = {"master", "v1", "v2", "Replica"};
    static const char *const checks[] = {"serfHealth", "http", "disk"};
    static const char *const keys[] = {"a", "a/b", "a/b/c", "b", "web/1", "web/2", ""};
    const char *node = pick(rng, nodes, 4);
    char value[32];
    int r;
    switch (next_rand(rng) % 9) {
    case 0:
    case 1: {
        struct state_service_def svc = {.id = pick(rng, ids, 4), .service = pick(rng, names, 2),
                                        .tags = tags + next_rand(rng) % 3,
                                        .n_tags = next_rand(rng) % 2,
                                        .port = (uint16_t)(next_rand(rng) % 3 * 1000)};
        struct state_check_def chk = {.check_id = pick(rng, checks, 3), .name = "check",
                                      .status = (enum state_check_status)(1 + next_rand(rng) % 3),
                                      .output = next_rand(rng) % 2 ? "ok" : "",
                                      .service_id = next_rand(rng) % 2 ? "" : pick(rng, ids, 3)};
        bool with_svc = next_rand(rng) % 2, with_chk = next_rand(rng) % 2;
        r = state_cmd_encode_register(out, node, pick(rng, addrs, 2), "dc1",
                                      with_svc ? &svc : NULL, with_chk ? &chk : NULL, NULL);
        break;
    }
    case 2:
        r = state_cmd_encode_deregister_node(out, node, NULL);
        break;
    case 3:
        r = state_cmd_encode_deregister_service(out, node, pick(rng, ids, 3), NULL);
        break;
    case 4:
        r = state_cmd_encode_deregister_check(out, node, pick(rng, checks, 3), NULL);
        break;
    case 5:
    case 6: {
        snprintf(value, sizeof value, "v%llu", (unsigned long long)(next_rand(rng) % 100));
        bool cas = next_rand(rng) % 3 == 0;
        uint64_t cas_index = next_rand(rng) % 2 ? 0 : last_index - next_rand(rng) % 4;
        r = state_cmd_encode_kv_set(out, pick(rng, keys, 6), next_rand(rng) % 3, value,
                                    next_rand(rng) % 5 ? strlen(value) : 0, cas, cas_index, NULL);
        break;
    }
    case 7:
        r = state_cmd_encode_kv_delete(out, pick(rng, keys, 7), next_rand(rng) % 2, NULL);
        if (r != 0) /* "" without recurse */
            r = state_cmd_encode_kv_delete(out, "", true, NULL);
        break;
    default:
        r = state_cmd_encode_kv_delete_cas(out, pick(rng, keys, 6),
                                           last_index - next_rand(rng) % 4, NULL);
        break;
    }
    assert_int_equal(r, 0);
}

static void feed(struct state *st, uint64_t seed, uint64_t from, uint64_t to)
{
    uint64_t rng = seed * 0x9e3779b97f4a7c15ull + from;
    struct buf cmd;
    buf_init(&cmd, 0);
    for (uint64_t i = from; i <= to; i++) {
        buf_clear(&cmd);
        random_cmd(&rng, i - 1, &cmd);
        struct state_result res;
        enum state_err e = state_apply(st, i, cmd.data, cmd.len, &res);
        assert_true(e == STATE_OK || e == STATE_EREJECTED);
    }
    buf_free(&cmd);
}

static void snap(const struct state *st, struct buf *out)
{
    buf_clear(out);
    assert_int_equal(state_snapshot(st, out), 0);
}

static void assert_same(const struct buf *a, const struct buf *b)
{
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->data, b->data, a->len);
}

static void two_instances_agree_byte_for_byte(void **unused)
{
    (void)unused;
    struct buf a, b;
    buf_init(&a, 0);
    buf_init(&b, 0);
    for (uint64_t seed = 1; seed <= 20; seed++) {
        struct state *x = state_create(), *y = state_create();
        feed(x, seed, 1, 300);
        feed(y, seed, 1, 300);
        snap(x, &a);
        snap(y, &b);
        assert_same(&a, &b);
        assert_int_equal(state_last_index(x), 300);
        state_destroy(x);
        state_destroy(y);
    }
    buf_free(&a);
    buf_free(&b);
}

/* Every query answers the same on both states (text and index). A restored state rebuilds its
 * lookup structures in bulk, an applied one incrementally: this compares the two. */
static void assert_same_answers(const struct state *x, const struct state *y)
{
    static const char *const names[] = {"web", "db", "nope"};
    static const char *const nodes[] = {"n1", "n2", "n3", "node-four"};
    struct buf a, b;
    buf_init(&a, 0);
    buf_init(&b, 0);
    uint64_t ia, ib;
#define SAME(call_x, call_y)                                                                   \
    do {                                                                                       \
        assert_int_equal(call_x, call_y);                                                      \
        assert_int_equal(ia, ib);                                                              \
        assert_same(&a, &b);                                                                   \
        buf_clear(&a);                                                                         \
        buf_clear(&b);                                                                         \
    } while (0)
    SAME(state_query_catalog_nodes(x, &a, &ia), state_query_catalog_nodes(y, &b, &ib));
    SAME(state_query_catalog_services(x, &a, &ia), state_query_catalog_services(y, &b, &ib));
    SAME(state_query_health_state(x, "any", &a, &ia), state_query_health_state(y, "any", &b, &ib));
    SAME(state_query_kv_list(x, "", &a, &ia), state_query_kv_list(y, "", &b, &ib));
    for (size_t i = 0; i < 3; i++) {
        SAME(state_query_catalog_service(x, names[i], NULL, &a, &ia),
             state_query_catalog_service(y, names[i], NULL, &b, &ib));
        SAME(state_query_catalog_service(x, names[i], "V1", &a, &ia),
             state_query_catalog_service(y, names[i], "V1", &b, &ib));
        SAME(state_query_health_checks(x, names[i], &a, &ia),
             state_query_health_checks(y, names[i], &b, &ib));
        SAME(state_query_health_service(x, names[i], NULL, true, &a, &ia),
             state_query_health_service(y, names[i], NULL, true, &b, &ib));
        SAME(state_query_health_service(x, names[i], "master", false, &a, &ia),
             state_query_health_service(y, names[i], "master", false, &b, &ib));
    }
    for (size_t i = 0; i < 4; i++) {
        SAME(state_query_catalog_node(x, nodes[i], &a, &ia),
             state_query_catalog_node(y, nodes[i], &b, &ib));
        SAME(state_query_health_node(x, nodes[i], &a, &ia),
             state_query_health_node(y, nodes[i], &b, &ib));
    }
#undef SAME
    buf_free(&a);
    buf_free(&b);
}

/* Restore, then keep applying to both: the restored copy must stay identical, which also
 * checks that restore rebuilt every index apply relies on (CreateIndex, table indexes). */
static void restore_round_trips_and_continues(void **unused)
{
    (void)unused;
    struct buf a, b;
    buf_init(&a, 0);
    buf_init(&b, 0);
    for (uint64_t seed = 1; seed <= 20; seed++) {
        struct state *x = state_create(), *y = state_create();
        feed(y, seed + 1000, 1, 50); /* y has other content, to be replaced wholesale */
        feed(x, seed, 1, 200);
        snap(x, &a);
        char err[STATE_ERR_LEN];
        assert_int_equal(state_restore(y, a.data, a.len, err), 0);
        assert_int_equal(state_last_index(y), 200);
        snap(y, &b);
        assert_same(&a, &b);
        assert_same_answers(x, y);
        feed(x, seed + 7, 201, 400);
        feed(y, seed + 7, 201, 400);
        snap(x, &a);
        snap(y, &b);
        assert_same(&a, &b);
        assert_same_answers(x, y);
        /* And a fresh restore of the continued state answers like the incremental one. */
        assert_int_equal(state_restore(y, a.data, a.len, NULL), 0);
        assert_same_answers(x, y);
        state_destroy(x);
        state_destroy(y);
    }
    buf_free(&a);
    buf_free(&b);
}

/* A target with known content, and its snapshot to compare against after a refused restore. */
static struct state *target(struct buf *before)
{
    struct state *st = state_create();
    feed(st, 99, 1, 60);
    snap(st, before);
    return st;
}

static void refuse(struct state *st, const uint8_t *p, size_t len, const struct buf *before)
{
    char err[STATE_ERR_LEN] = "";
    assert_int_equal(state_restore(st, p, len, err), -1);
    assert_true(strncmp(err, "snapshot corrupt: ", 18) == 0);
    struct buf now;
    buf_init(&now, 0);
    snap(st, &now);
    assert_same(before, &now);
    buf_free(&now);
}

static void truncated_or_flipped_snapshots_refused(void **unused)
{
    (void)unused;
    struct buf before, good;
    buf_init(&before, 0);
    buf_init(&good, 0);
    struct state *st = target(&before);
    struct state *src = state_create();
    feed(src, 5, 1, 120);
    snap(src, &good);
    for (size_t cut = 0; cut < good.len; cut++)
        refuse(st, good.data, cut, &before);
    for (size_t i = 0; i < good.len; i++) {
        uint8_t saved = good.data[i];
        good.data[i] ^= (uint8_t)(1u << (i % 8));
        refuse(st, good.data, good.len, &before);
        good.data[i] = saved;
    }
    /* And the untouched snapshot is still accepted (the loops above restored every byte). */
    assert_int_equal(state_restore(st, good.data, good.len, NULL), 0);
    state_destroy(src);
    state_destroy(st);
    buf_free(&before);
    buf_free(&good);
}

static void recrc(struct buf *b)
{
    uint32_t c = crc32c(0, b->data, b->len - 4);
    b->data[b->len - 4] = (uint8_t)(c >> 24);
    b->data[b->len - 3] = (uint8_t)(c >> 16);
    b->data[b->len - 2] = (uint8_t)(c >> 8);
    b->data[b->len - 1] = (uint8_t)c;
}

static uint8_t *find(struct buf *b, const char *s)
{
    uint8_t *p = memmem(b->data, b->len, s, strlen(s));
    assert_non_null(p);
    return p;
}

static uint8_t *find_last(struct buf *b, const char *s)
{
    uint8_t *last = NULL;
    for (uint8_t *p = b->data; (p = memmem(p, (size_t)(b->data + b->len - p), s, strlen(s))); p++)
        last = p;
    assert_non_null(last);
    return last;
}

/* Corruption that keeps a valid CRC (a buggy or hostile writer) is caught by validation. */
static void inconsistent_snapshots_refused(void **unused)
{
    (void)unused;
    struct buf before, s;
    buf_init(&before, 0);
    buf_init(&s, 0);
    struct state *st = target(&before);
    struct state *src = state_create();
    struct buf cmd;
    buf_init(&cmd, 0);
    struct state_result res;
    struct state_service_def svc = {.service = "web", .port = 80};
    struct state_check_def chk = {.name = "alive", .status = STATE_PASSING, .service_id = "web"};
    assert_int_equal(state_cmd_encode_register(&cmd, "aa", "10.0.0.1", "dc1", NULL, NULL, NULL), 0);
    assert_int_equal(state_apply(src, 1, cmd.data, cmd.len, &res), STATE_OK);
    buf_clear(&cmd);
    assert_int_equal(state_cmd_encode_register(&cmd, "bb", "10.0.0.2", "dc1", &svc, &chk, NULL), 0);
    assert_int_equal(state_apply(src, 2, cmd.data, cmd.len, &res), STATE_OK);
    buf_clear(&cmd);
    assert_int_equal(state_cmd_encode_kv_set(&cmd, "key", 0, "v", 1, false, 0, NULL), 0);
    assert_int_equal(state_apply(src, 3, cmd.data, cmd.len, &res), STATE_OK);
    snap(src, &s);
    assert_int_equal(state_restore(st, s.data, s.len, NULL), 0);
    state_destroy(st);
    st = target(&before);

    struct buf bad;
    buf_init(&bad, 0);
    /* Nodes out of order: "bb" renamed "a0" sorts before "aa". */
    assert_int_equal(buf_append(&bad, s.data, s.len), 0);
    memcpy(find(&bad, "bb"), "a0", 2);
    recrc(&bad);
    refuse(st, bad.data, bad.len, &before);
    /* A duplicate node: "bb" renamed "aa". */
    memcpy(find(&bad, "a0"), "aa", 2);
    recrc(&bad);
    refuse(st, bad.data, bad.len, &before);
    /* A check status outside passing/warning/critical. */
    buf_clear(&bad);
    assert_int_equal(buf_append(&bad, s.data, s.len), 0);
    find_last(&bad, "alive")[5] = 9; /* the status byte follows the check name */
    recrc(&bad);
    refuse(st, bad.data, bad.len, &before);
    /* A check naming the wrong service name. */
    buf_clear(&bad);
    assert_int_equal(buf_append(&bad, s.data, s.len), 0);
    memcpy(find_last(&bad, "web"), "wex", 3);
    recrc(&bad);
    refuse(st, bad.data, bad.len, &before);
    /* last_index (bytes 5..12) behind the records' indexes. */
    buf_clear(&bad);
    assert_int_equal(buf_append(&bad, s.data, s.len), 0);
    bad.data[12] = 1;
    recrc(&bad);
    refuse(st, bad.data, bad.len, &before);
    /* A NUL inside a key. */
    buf_clear(&bad);
    assert_int_equal(buf_append(&bad, s.data, s.len), 0);
    find(&bad, "key")[1] = 0;
    recrc(&bad);
    refuse(st, bad.data, bad.len, &before);
    /* Trailing bytes before the CRC; and a wrong magic. */
    buf_clear(&bad);
    assert_int_equal(buf_append(&bad, s.data, s.len - 4), 0);
    assert_int_equal(buf_append(&bad, "\0\0\0\0\0", 5), 0);
    recrc(&bad);
    refuse(st, bad.data, bad.len, &before);
    buf_clear(&bad);
    assert_int_equal(buf_append(&bad, s.data, s.len), 0);
    bad.data[0] = 'X';
    recrc(&bad);
    refuse(st, bad.data, bad.len, &before);
    /* Random garbage with a valid CRC. */
    uint64_t rng = 42;
    for (int round = 0; round < 500; round++) {
        buf_clear(&bad);
        size_t n = 40 + next_rand(&rng) % 200;
        for (size_t i = 0; i < n; i++) {
            uint8_t byte = (uint8_t)next_rand(&rng);
            assert_int_equal(buf_append(&bad, &byte, 1), 0);
        }
        if (round % 2) /* a valid header, so decoding reaches the records */
            memcpy(bad.data, s.data, 13 + 32);
        recrc(&bad);
        refuse(st, bad.data, bad.len, &before);
    }
    buf_free(&bad);
    buf_free(&cmd);
    buf_free(&s);
    buf_free(&before);
    state_destroy(src);
    state_destroy(st);
}

static void on_watch(void *ctx, uint64_t index, unsigned changed)
{
    uint64_t *seen = ctx;
    seen[0] = index;
    seen[1] = changed;
}

static void restore_notifies_all_tables(void **unused)
{
    (void)unused;
    struct state *x = state_create(), *y = state_create();
    feed(x, 3, 1, 40);
    struct buf s;
    buf_init(&s, 0);
    snap(x, &s);
    uint64_t seen[2] = {0, 0};
    state_set_watch(y, on_watch, seen);
    assert_int_equal(state_restore(y, s.data, s.len, NULL), 0);
    assert_int_equal(seen[0], 40);
    assert_int_equal(seen[1], STATE_T_ALL);
    /* The hook survives the restore. */
    feed(y, 4, 41, 41);
    assert_int_equal(seen[0], 41);
    buf_free(&s);
    state_destroy(x);
    state_destroy(y);
}

static void empty_state_round_trips(void **unused)
{
    (void)unused;
    struct state *x = state_create(), *y = state_create();
    struct buf a, b;
    buf_init(&a, 0);
    buf_init(&b, 0);
    snap(x, &a);
    feed(y, 8, 1, 30);
    assert_int_equal(state_restore(y, a.data, a.len, NULL), 0);
    snap(y, &b);
    assert_same(&a, &b);
    assert_int_equal(state_last_index(y), 0);
    buf_free(&a);
    buf_free(&b);
    state_destroy(x);
    state_destroy(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_instances_agree_byte_for_byte),
        cmocka_unit_test(restore_round_trips_and_continues),
        cmocka_unit_test(truncated_or_flipped_snapshots_refused),
        cmocka_unit_test(inconsistent_snapshots_refused),
        cmocka_unit_test(restore_notifies_all_tables),
        cmocka_unit_test(empty_state_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
