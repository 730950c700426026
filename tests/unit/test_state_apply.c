/* test_state_apply.c — unit tests for applying commands to src/state: Consul's catalog and KV
 * rules, Create/ModifyIndex semantics, CAS, cascades, and refusals that change nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/buf.h"
#include "state/state.h"

/* ---- helpers ---- */

static enum state_err apply_buf(struct state *st, uint64_t index, struct buf *cmd,
                                struct state_result *res)
{
    enum state_err e = state_apply(st, index, cmd->data, cmd->len, res);
    buf_clear(cmd);
    return e;
}

static void reg_node(struct state *st, uint64_t index, const char *node, const char *addr)
{
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(state_cmd_encode_register(&b, node, addr, "dc1", NULL, NULL, NULL), 0);
    struct state_result res;
    assert_int_equal(apply_buf(st, index, &b, &res), STATE_OK);
    buf_free(&b);
}

static void reg_service(struct state *st, uint64_t index, const char *node, const char *id,
                        const char *name, uint16_t port)
{
    struct buf b;
    buf_init(&b, 0);
    struct state_service_def svc = {.id = id, .service = name, .port = port};
    assert_int_equal(state_cmd_encode_register(&b, node, "10.0.0.1", "dc1", &svc, NULL, NULL), 0);
    struct state_result res;
    assert_int_equal(apply_buf(st, index, &b, &res), STATE_OK);
    buf_free(&b);
}

static enum state_err reg_check(struct state *st, uint64_t index, const char *node,
                                const char *id, const char *service_id,
                                enum state_check_status status)
{
    struct buf b;
    buf_init(&b, 0);
    struct state_check_def chk = {.check_id = id, .name = id, .status = status,
                                  .service_id = service_id};
    assert_int_equal(state_cmd_encode_register(&b, node, "10.0.0.1", "dc1", NULL, &chk, NULL), 0);
    struct state_result res;
    enum state_err e = apply_buf(st, index, &b, &res);
    buf_free(&b);
    return e;
}

static bool kv_set(struct state *st, uint64_t index, const char *key, const char *value,
                   bool cas, uint64_t cas_index)
{
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(state_cmd_encode_kv_set(&b, key, 0, value, strlen(value), cas, cas_index,
                                             NULL),
                     0);
    struct state_result res;
    assert_int_equal(apply_buf(st, index, &b, &res), STATE_OK);
    buf_free(&b);
    return res.value;
}

/* The whole state as bytes: the strongest "nothing changed" comparison available. */
static void snap(const struct state *st, struct buf *out)
{
    buf_clear(out);
    assert_int_equal(state_snapshot(st, out), 0);
}

/* Query output is JSON text without a NUL terminator. */
static bool has(const struct buf *b, const char *s)
{
    return memmem(b->data, b->len, s, strlen(s)) != NULL;
}

/* Checks that a query returns exactly the expected JSON text. */
static void expect_json(int rc, int want_rc, struct buf *out, const char *want)
{
    assert_int_equal(rc, want_rc);
    assert_true(out->len == strlen(want));
    assert_memory_equal(out->data, want, out->len);
    buf_clear(out);
}

/* ---- KV ---- */

static void kv_indexes_follow_consul(void **unused)
{
    (void)unused;
    struct state *st = state_create();
    struct buf out;
    buf_init(&out, 0);
    uint64_t idx;
    assert_true(kv_set(st, 5, "a", "x", false, 0));
    assert_true(kv_set(st, 9, "a", "y", false, 0));
    /* CreateIndex kept, ModifyIndex = the applying index, LockIndex 0. */
    expect_json(state_query_kv_get(st, "a", &out, &idx), 1, &out,
                "[{\"CreateIndex\":5,\"ModifyIndex\":9,\"LockIndex\":0,\"Key\":\"a\",\"Flags\":0,"
                "\"Value\":\"eQ==\"}]");
    assert_int_equal(idx, 9);
    assert_int_equal(state_last_index(st), 9);
    buf_free(&out);
    state_destroy(st);
}

static void kv_cas_semantics(void **unused)
{
    (void)unused;
    struct state *st = state_create();
    struct buf out;
    buf_init(&out, 0);
    uint64_t idx;
    assert_true(kv_set(st, 2, "k", "v1", true, 0));  /* create-only on absent key: ok */
    assert_false(kv_set(st, 3, "k", "v2", true, 0)); /* create-only on present key: refused */
    assert_false(kv_set(st, 4, "k", "v2", true, 3)); /* stale index: refused */
    assert_true(kv_set(st, 5, "k", "v3", true, 2));  /* matching ModifyIndex: applied */
    assert_false(kv_set(st, 6, "nokey", "v", true, 5)); /* CAS on an absent key with index */
    assert_int_equal(state_query_kv_get(st, "k", &out, &idx), 1);
    assert_int_equal(idx, 5);
    assert_true(has(&out, "\"CreateIndex\":2,\"ModifyIndex\":5"));
    buf_clear(&out);
    assert_int_equal(state_query_kv_get(st, "nokey", &out, &idx), 0);
    assert_int_equal(state_last_index(st), 6);

    /* CAS delete: a stale index refuses, the current one deletes, an absent key is "deleted". */
    struct buf b;
    buf_init(&b, 0);
    struct state_result res;
    assert_int_equal(state_cmd_encode_kv_delete_cas(&b, "k", 4, NULL), 0);
    assert_int_equal(apply_buf(st, 7, &b, &res), STATE_OK);
    assert_false(res.value);
    assert_int_equal(state_query_kv_get(st, "k", &out, &idx), 1);
    buf_clear(&out);
    assert_int_equal(state_cmd_encode_kv_delete_cas(&b, "k", 5, NULL), 0);
    assert_int_equal(apply_buf(st, 8, &b, &res), STATE_OK);
    assert_true(res.value);
    assert_int_equal(state_cmd_encode_kv_delete_cas(&b, "k", 5, NULL), 0);
    assert_int_equal(apply_buf(st, 9, &b, &res), STATE_OK);
    assert_true(res.value);
    /* Absent: [] and the table's index (the delete at 8), so a blocking GET saw the delete. */
    expect_json(state_query_kv_get(st, "k", &out, &idx), 0, &out, "[]");
    assert_int_equal(idx, 8);
    buf_free(&b);
    buf_free(&out);
    state_destroy(st);
}

static void kv_recurse_delete_takes_prefix_only(void **unused)
{
    (void)unused;
    struct state *st = state_create();
    struct buf out, b;
    buf_init(&out, 0);
    buf_init(&b, 0);
    uint64_t idx;
    const char *keys[] = {"a", "web/", "web/1", "web/2", "web0", "webb", "x"};
    for (size_t i = 0; i < 7; i++)
        kv_set(st, 10 + i, keys[i], "", false, 0);
    struct state_result res;
    assert_int_equal(state_cmd_encode_kv_delete(&b, "web/", true, NULL), 0);
    assert_int_equal(apply_buf(st, 20, &b, &res), STATE_OK);
    expect_json(state_query_kv_keys(st, "", NULL, &out, &idx), 4, &out,
                "[\"a\",\"web0\",\"webb\",\"x\"]");
    assert_int_equal(idx, 20);
    /* A single delete of an absent key changes nothing, not even the table index. */
    assert_int_equal(state_cmd_encode_kv_delete(&b, "nope", false, NULL), 0);
    assert_int_equal(apply_buf(st, 21, &b, &res), STATE_OK);
    assert_int_equal(state_query_kv_keys(st, "", NULL, &out, &idx), 4);
    buf_clear(&out);
    assert_int_equal(idx, 20);
    /* An empty prefix with recurse deletes everything. */
    assert_int_equal(state_cmd_encode_kv_delete(&b, "", true, NULL), 0);
    assert_int_equal(apply_buf(st, 22, &b, &res), STATE_OK);
    expect_json(state_query_kv_list(st, "", &out, &idx), 0, &out, "[]");
    assert_int_equal(idx, 22);
    buf_free(&b);
    buf_free(&out);
    state_destroy(st);
}

/* ---- catalog ---- */

static void register_update_keeps_create_index(void **unused)
{
    (void)unused;
    struct state *st = state_create();
    struct buf out;
    buf_init(&out, 0);
    uint64_t idx;
    reg_node(st, 3, "n1", "10.0.0.1");
    reg_node(st, 4, "n1", "10.0.0.2");
    expect_json(state_query_catalog_nodes(st, &out, &idx), 1, &out,
                "[{\"Node\":\"n1\",\"Address\":\"10.0.0.2\",\"Datacenter\":\"dc1\","
                "\"CreateIndex\":3,\"ModifyIndex\":4}]");
    assert_int_equal(idx, 4);
    /* Re-registering the same node unchanged (anti-entropy does) leaves its indexes alone. */
    reg_node(st, 7, "n1", "10.0.0.2");
    assert_int_equal(state_query_catalog_nodes(st, &out, &idx), 1);
    assert_true(has(&out, "\"ModifyIndex\":4"));
    buf_clear(&out);
    assert_int_equal(idx, 4);
    assert_int_equal(state_last_index(st), 7);
    buf_free(&out);
    state_destroy(st);
}

static void deregister_node_cascades(void **unused)
{
    (void)unused;
    struct state *st = state_create();
    struct buf out, b;
    buf_init(&out, 0);
    buf_init(&b, 0);
    uint64_t idx;
    reg_service(st, 1, "n1", "web1", "web", 80);
    reg_service(st, 2, "n1", "db", "db", 5432);
    reg_service(st, 3, "n2", "web2", "web", 80);
    assert_int_equal(reg_check(st, 4, "n1", "serfHealth", NULL, STATE_PASSING), STATE_OK);
    assert_int_equal(reg_check(st, 5, "n1", "web-alive", "web1", STATE_CRITICAL), STATE_OK);
    assert_int_equal(reg_check(st, 6, "n2", "serfHealth", NULL, STATE_PASSING), STATE_OK);
    struct state_result res;
    assert_int_equal(state_cmd_encode_deregister_node(&b, "n1", NULL), 0);
    assert_int_equal(apply_buf(st, 7, &b, &res), STATE_OK);
    assert_int_equal(state_query_catalog_nodes(st, &out, &idx), 1);
    buf_clear(&out);
    assert_int_equal(state_query_catalog_service(st, "web", NULL, &out, &idx), 1);
    buf_clear(&out);
    assert_int_equal(idx, 7);
    assert_int_equal(state_query_catalog_service(st, "db", NULL, &out, &idx), 0);
    buf_clear(&out);
    assert_int_equal(state_query_health_state(st, "any", &out, &idx), 1);
    assert_true(has(&out, "\"Node\":\"n2\""));
    buf_clear(&out);
    assert_int_equal(idx, 7);
    expect_json(state_query_catalog_node(st, "n1", &out, &idx), 0, &out, "null");
    buf_free(&b);
    buf_free(&out);
    state_destroy(st);
}

static void deregister_service_takes_its_checks(void **unused)
{
    (void)unused;
    struct state *st = state_create();
    struct buf out, b;
    buf_init(&out, 0);
    buf_init(&b, 0);
    uint64_t idx;
    reg_service(st, 1, "n1", "web1", "web", 80);
    reg_service(st, 2, "n1", "web2", "web", 81);
    assert_int_equal(reg_check(st, 3, "n1", "node-ok", NULL, STATE_PASSING), STATE_OK);
    assert_int_equal(reg_check(st, 4, "n1", "c1", "web1", STATE_PASSING), STATE_OK);
    assert_int_equal(reg_check(st, 5, "n1", "c2", "web2", STATE_PASSING), STATE_OK);
    struct state_result res;
    assert_int_equal(state_cmd_encode_deregister_service(&b, "n1", "web1", NULL), 0);
    assert_int_equal(apply_buf(st, 6, &b, &res), STATE_OK);
    assert_int_equal(state_query_health_node(st, "n1", &out, &idx), 2);
    assert_false(has(&out, "\"c1\""));
    buf_clear(&out);
    assert_int_equal(state_cmd_encode_deregister_check(&b, "n1", "c2", NULL), 0);
    assert_int_equal(apply_buf(st, 7, &b, &res), STATE_OK);
    assert_int_equal(state_query_health_node(st, "n1", &out, &idx), 1);
    buf_clear(&out);
    assert_int_equal(idx, 7);
    /* Deregistering what is not there is a successful no-op, as in Consul. */
    assert_int_equal(state_cmd_encode_deregister_service(&b, "n9", "x", NULL), 0);
    assert_int_equal(apply_buf(st, 8, &b, &res), STATE_OK);
    assert_true(res.value);
    buf_free(&b);
    buf_free(&out);
    state_destroy(st);
}

static void check_needs_its_service(void **unused)
{
    (void)unused;
    struct state *st = state_create();
    struct buf before, after, b;
    buf_init(&before, 0);
    buf_init(&after, 0);
    buf_init(&b, 0);
    reg_node(st, 1, "n1", "10.0.0.1");
    snap(st, &before);
    /* The register carries a new address too: refused as a whole, the node is not updated. */
    struct state_check_def chk = {.name = "c", .status = STATE_PASSING, .service_id = "ghost"};
    assert_int_equal(state_cmd_encode_register(&b, "n1", "10.9.9.9", "dc1", NULL, &chk, NULL), 0);
    struct state_result res;
    assert_int_equal(apply_buf(st, 2, &b, &res), STATE_EREJECTED);
    assert_string_equal(res.msg, "Missing service registration");
    assert_int_equal(state_last_index(st), 2);
    snap(st, &after);
    /* Only the last applied index (in the header) moved. */
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.data + 13, after.data + 13, before.len - 17);
    /* A check on the service registered by the same command is fine. */
    struct state_service_def svc = {.service = "ghost"};
    assert_int_equal(state_cmd_encode_register(&b, "n1", "10.0.0.1", "dc1", &svc, &chk, NULL), 0);
    assert_int_equal(apply_buf(st, 3, &b, &res), STATE_OK);
    buf_free(&before);
    buf_free(&after);
    buf_free(&b);
    state_destroy(st);
}

/* A check follows its service's current name: renaming the service renames the check's
 * ServiceName, and the state still snapshots and restores. */
static void renamed_service_carries_its_checks(void **unused)
{
    (void)unused;
    struct state *st = state_create(), *copy = state_create();
    struct buf out, snapbuf;
    buf_init(&out, 0);
    buf_init(&snapbuf, 0);
    uint64_t idx;
    reg_service(st, 1, "n1", "web1", "web", 80);
    assert_int_equal(reg_check(st, 2, "n1", "alive", "web1", STATE_PASSING), STATE_OK);
    reg_service(st, 3, "n1", "web1", "api", 80);
    expect_json(state_query_health_checks(st, "web", &out, &idx), 0, &out, "[]");
    assert_int_equal(idx, 3);
    assert_int_equal(state_query_health_checks(st, "api", &out, &idx), 1);
    assert_true(has(&out, "\"ServiceID\":\"web1\",\"ServiceName\":\"api\""));
    buf_clear(&out);
    snap(st, &snapbuf);
    assert_int_equal(state_restore(copy, snapbuf.data, snapbuf.len, NULL), 0);
    assert_int_equal(state_query_health_checks(copy, "api", &out, &idx), 1);
    buf_free(&out);
    buf_free(&snapbuf);
    state_destroy(st);
    state_destroy(copy);
}

/* ---- refusals ---- */

static void malformed_commands_change_nothing(void **unused)
{
    (void)unused;
    struct state *st = state_create();
    struct buf good, before, after;
    buf_init(&good, 0);
    buf_init(&before, 0);
    buf_init(&after, 0);
    reg_service(st, 1, "n1", "web1", "web", 80);
    kv_set(st, 2, "k", "v", false, 0);
    assert_int_equal(state_cmd_encode_kv_set(&good, "k", 7, "value", 5, false, 0, NULL), 0);
    snap(st, &before);
    struct state_result res;
    uint64_t index = 3;
    /* Every truncation of a valid command, and a trailing byte, are refused the same way. */
    for (size_t cut = 0; cut < good.len; cut++) {
        assert_int_equal(state_apply(st, index++, good.data, cut, &res), STATE_EMALFORMED);
        assert_true(res.msg[0] != '\0');
    }
    assert_int_equal(buf_append(&good, "x", 1), 0);
    assert_int_equal(state_apply(st, index++, good.data, good.len, &res), STATE_EMALFORMED);
    good.len--;
    uint8_t bad_version[64];
    memcpy(bad_version, good.data, good.len);
    bad_version[0] = 2;
    assert_int_equal(state_apply(st, index++, bad_version, good.len, &res), STATE_EMALFORMED);
    bad_version[0] = 1;
    bad_version[1] = 99;
    assert_int_equal(state_apply(st, index++, bad_version, good.len, &res), STATE_EMALFORMED);
    /* A key with a NUL byte inside would make two distinct keys look alike. */
    uint8_t nul_key[27] = {1, 5, 0, 2, 'a', 0}; /* then zero flags, length, has_cas, cas */
    assert_int_equal(state_apply(st, index++, nul_key, sizeof nul_key, &res), STATE_EMALFORMED);
    assert_string_equal(res.msg, "key contains a NUL byte");
    snap(st, &after);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.data + 13, after.data + 13, before.len - 17);
    assert_int_equal(state_last_index(st), index - 1);
    /* An index not after the last applied one is a glue bug: refused, nothing moves. */
    assert_int_equal(state_apply(st, index - 1, good.data, good.len, &res), STATE_EINDEX);
    assert_int_equal(state_last_index(st), index - 1);
    buf_free(&good);
    buf_free(&before);
    buf_free(&after);
    state_destroy(st);
}

static void encoders_refuse_what_apply_refuses(void **unused)
{
    (void)unused;
    struct buf b;
    buf_init(&b, 0);
    char err[STATE_ERR_LEN];
    char long_name[STATE_MAX_NAME + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_int_equal(state_cmd_encode_register(&b, long_name, "a", "dc1", NULL, NULL, err), -1);
    assert_string_equal(err, "node name too long");
    assert_int_equal(state_cmd_encode_register(&b, "n", "", "dc1", NULL, NULL, err), -1);
    assert_string_equal(err, "node address missing");
    struct state_check_def chk = {.name = "c", .status = 0};
    assert_int_equal(state_cmd_encode_register(&b, "n", "a", "dc1", NULL, &chk, err), -1);
    assert_int_equal(state_cmd_encode_kv_set(&b, "", 0, "v", 1, false, 0, err), -1);
    assert_string_equal(err, "key missing");
    static uint8_t big[STATE_MAX_VALUE + 1];
    assert_int_equal(state_cmd_encode_kv_set(&b, "k", 0, big, sizeof big, false, 0, err), -1);
    assert_string_equal(err, "value exceeds 524288 byte limit");
    assert_int_equal(state_cmd_encode_kv_set(&b, "k", 0, big, sizeof big - 1, false, 0, err), 0);
    assert_int_equal(state_cmd_check(b.data, b.len, err), 0);
    buf_clear(&b);
    const char *tags[STATE_MAX_TAGS + 1];
    for (size_t i = 0; i <= STATE_MAX_TAGS; i++)
        tags[i] = "t";
    struct state_service_def svc = {.service = "s", .tags = tags, .n_tags = STATE_MAX_TAGS + 1};
    assert_int_equal(state_cmd_encode_register(&b, "n", "a", "dc1", &svc, NULL, err), -1);
    svc.n_tags = STATE_MAX_TAGS;
    assert_int_equal(state_cmd_encode_register(&b, "n", "a", "dc1", &svc, NULL, err), 0);
    /* Every failed encode left nothing behind; the good one is the whole buffer. */
    assert_int_equal(state_cmd_check(b.data, b.len, err), 0);
    buf_free(&b);
}

/* ---- watch ---- */

struct watch_log {
    uint64_t index[8];
    unsigned changed[8];
    size_t n;
};

static void on_watch(void *ctx, uint64_t index, unsigned changed)
{
    struct watch_log *log = ctx;
    if (log->n < 8) {
        log->index[log->n] = index;
        log->changed[log->n] = changed;
    }
    log->n++;
}

static void watch_reports_changed_tables(void **unused)
{
    (void)unused;
    struct state *st = state_create();
    struct watch_log log = {0};
    state_set_watch(st, on_watch, &log);
    reg_service(st, 1, "n1", "web1", "web", 80);
    kv_set(st, 2, "k", "v", false, 0);
    assert_int_equal(reg_check(st, 3, "n1", "c", "web1", STATE_PASSING), STATE_OK);
    assert_false(kv_set(st, 4, "k", "v", true, 0));
    struct buf b;
    buf_init(&b, 0);
    struct state_result res;
    assert_int_equal(state_cmd_encode_deregister_service(&b, "n1", "web1", NULL), 0);
    assert_int_equal(apply_buf(st, 5, &b, &res), STATE_OK);
    assert_int_equal(log.n, 5);
    assert_int_equal(log.changed[0], STATE_T_NODES | STATE_T_SERVICES);
    assert_int_equal(log.changed[1], STATE_T_KV);
    assert_int_equal(log.changed[2], STATE_T_CHECKS);
    assert_int_equal(log.changed[3], 0); /* a refused CAS changes nothing */
    assert_int_equal(log.changed[4], STATE_T_SERVICES | STATE_T_CHECKS);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(log.index[i], i + 1);
    buf_free(&b);
    state_destroy(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kv_indexes_follow_consul),
        cmocka_unit_test(kv_cas_semantics),
        cmocka_unit_test(kv_recurse_delete_takes_prefix_only),
        cmocka_unit_test(register_update_keeps_create_index),
        cmocka_unit_test(deregister_node_cascades),
        cmocka_unit_test(deregister_service_takes_its_checks),
        cmocka_unit_test(check_needs_its_service),
        cmocka_unit_test(renamed_service_carries_its_checks),
        cmocka_unit_test(malformed_commands_change_nothing),
        cmocka_unit_test(encoders_refuse_what_apply_refuses),
        cmocka_unit_test(watch_reports_changed_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
