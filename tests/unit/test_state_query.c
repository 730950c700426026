/* test_state_query.c — unit tests for the state's Consul JSON queries: exact text of every
 * catalog, health and KV shape over a fixed catalog, X-Consul-Index per table, filters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "state/state.h"

static void apply(struct state *st, uint64_t index, struct buf *cmd)
{
    struct state_result res;
    assert_int_equal(state_apply(st, index, cmd->data, cmd->len, &res), STATE_OK);
    buf_clear(cmd);
}

static void reg(struct state *st, uint64_t index, const char *node, const char *addr,
                const struct state_service_def *svc, const struct state_check_def *chk)
{
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(state_cmd_encode_register(&b, node, addr, "dc1", svc, chk, NULL), 0);
    apply(st, index, &b);
    buf_free(&b);
}

static void kv(struct state *st, uint64_t index, const char *key, const char *value,
               uint64_t flags)
{
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(state_cmd_encode_kv_set(&b, key, flags, value, strlen(value), false, 0, NULL),
                     0);
    apply(st, index, &b);
    buf_free(&b);
}

/* n1: web1 (web, tags Master v1); n2: web (tags v2 v1) with a warning check, db. */
static int setup(void **state)
{
    struct state *st = state_create();
    const char *t1[] = {"Master", "v1"}, *t2[] = {"v2", "v1"};
    struct state_service_def web1 = {.id = "web1", .service = "web", .tags = t1, .n_tags = 2,
                                     .port = 80};
    struct state_service_def web2 = {.service = "web", .tags = t2, .n_tags = 2, .port = 8080};
    struct state_service_def db = {.service = "db", .port = 5432};
    struct state_check_def serf = {.check_id = "serfHealth", .name = "Serf Health Status",
                                   .status = STATE_PASSING,
                                   .output = "Agent alive and reachable"};
    struct state_check_def http = {.name = "web-http", .status = STATE_WARNING, .notes = "n",
                                   .output = "slow", .service_id = "web"};
    reg(st, 1, "n1", "10.0.0.1", &web1, NULL);
    reg(st, 2, "n1", "10.0.0.1", NULL, &serf); /* same node again: unchanged */
    reg(st, 3, "n2", "10.0.0.2", &web2, NULL);
    reg(st, 4, "n2", "10.0.0.2", NULL, &http);
    reg(st, 5, "n2", "10.0.0.2", &db, NULL);
    reg(st, 6, "n2", "10.0.0.2", NULL, &serf);
    kv(st, 7, "a/b", "hello", 42);
    kv(st, 8, "a/c/d", "", 0);
    kv(st, 9, "b", "xyz", 0);
    *state = st;
    return 0;
}

static int teardown(void **state)
{
    state_destroy(*state);
    return 0;
}

/* Runs a query into a fresh buffer and compares rc, text and index exactly. */
#define EXPECT(call, want_rc, want_index, want_text)                                           \
    do {                                                                                       \
        struct buf out_;                                                                       \
        buf_init(&out_, 0);                                                                    \
        struct buf *out = &out_;                                                               \
        uint64_t idx = 0;                                                                      \
        int rc_ = (call);                                                                      \
        assert_int_equal(rc_, (want_rc));                                                      \
        assert_int_equal(idx, (want_index));                                                   \
        if (out_.len != strlen(want_text) ||                                                   \
            (out_.len && memcmp(out_.data, want_text, out_.len)))                              \
            fail_msg("got %.*s", (int)out_.len, (const char *)out_.data);                      \
        buf_free(&out_);                                                                       \
    } while (0)

#define N1 "{\"Node\":\"n1\",\"Address\":\"10.0.0.1\",\"Datacenter\":\"dc1\",\"CreateIndex\":1,\"ModifyIndex\":1}"
#define N2 "{\"Node\":\"n2\",\"Address\":\"10.0.0.2\",\"Datacenter\":\"dc1\",\"CreateIndex\":3,\"ModifyIndex\":3}"
#define SVC_WEB1 "{\"ID\":\"web1\",\"Service\":\"web\",\"Tags\":[\"Master\",\"v1\"],\"Port\":80,\"CreateIndex\":1,\"ModifyIndex\":1}"
#define SVC_WEB "{\"ID\":\"web\",\"Service\":\"web\",\"Tags\":[\"v2\",\"v1\"],\"Port\":8080,\"CreateIndex\":3,\"ModifyIndex\":3}"
#define SVC_DB "{\"ID\":\"db\",\"Service\":\"db\",\"Tags\":[],\"Port\":5432,\"CreateIndex\":5,\"ModifyIndex\":5}"
#define SERF(node, ix) "{\"Node\":\"" node "\",\"CheckID\":\"serfHealth\",\"Name\":\"Serf Health Status\",\"Status\":\"passing\",\"Notes\":\"\",\"Output\":\"Agent alive and reachable\",\"ServiceID\":\"\",\"ServiceName\":\"\",\"CreateIndex\":" ix ",\"ModifyIndex\":" ix "}"
#define HTTP "{\"Node\":\"n2\",\"CheckID\":\"web-http\",\"Name\":\"web-http\",\"Status\":\"warning\",\"Notes\":\"n\",\"Output\":\"slow\",\"ServiceID\":\"web\",\"ServiceName\":\"web\",\"CreateIndex\":4,\"ModifyIndex\":4}"

static void catalog_shapes(void **state)
{
    const struct state *st = *state;
    EXPECT(state_query_catalog_nodes(st, out, &idx), 2, 3, "[" N1 "," N2 "]");
    EXPECT(state_query_catalog_node(st, "n2", out, &idx), 1, 5,
           "{\"Node\":" N2 ",\"Services\":{\"db\":" SVC_DB ",\"web\":" SVC_WEB "}}");
    EXPECT(state_query_catalog_node(st, "n3", out, &idx), 0, 5, "null");
    EXPECT(state_query_catalog_services(st, out, &idx), 2, 5,
           "{\"db\":[],\"web\":[\"Master\",\"v1\",\"v2\"]}");
    EXPECT(state_query_catalog_service(st, "web", NULL, out, &idx), 2, 5,
           "[{\"Node\":\"n1\",\"Address\":\"10.0.0.1\",\"ServiceID\":\"web1\",\"ServiceName\":"
           "\"web\",\"ServiceTags\":[\"Master\",\"v1\"],\"ServicePort\":80,\"CreateIndex\":1,"
           "\"ModifyIndex\":1},{\"Node\":\"n2\",\"Address\":\"10.0.0.2\",\"ServiceID\":\"web\","
           "\"ServiceName\":\"web\",\"ServiceTags\":[\"v2\",\"v1\"],\"ServicePort\":8080,"
           "\"CreateIndex\":3,\"ModifyIndex\":3}]");
    /* Tags match ignoring case, as in Consul 0.4. */
    EXPECT(state_query_catalog_service(st, "web", "master", out, &idx), 1, 5,
           "[{\"Node\":\"n1\",\"Address\":\"10.0.0.1\",\"ServiceID\":\"web1\",\"ServiceName\":"
           "\"web\",\"ServiceTags\":[\"Master\",\"v1\"],\"ServicePort\":80,\"CreateIndex\":1,"
           "\"ModifyIndex\":1}]");
    EXPECT(state_query_catalog_service(st, "nope", NULL, out, &idx), 0, 5, "[]");
}

static void health_shapes(void **state)
{
    const struct state *st = *state;
    EXPECT(state_query_health_node(st, "n2", out, &idx), 2, 6, "[" SERF("n2", "6") "," HTTP "]");
    EXPECT(state_query_health_node(st, "zz", out, &idx), 0, 6, "[]");
    EXPECT(state_query_health_checks(st, "web", out, &idx), 1, 6, "[" HTTP "]");
    EXPECT(state_query_health_state(st, "passing", out, &idx), 2, 6,
           "[" SERF("n1", "2") "," SERF("n2", "6") "]");
    EXPECT(state_query_health_state(st, "warning", out, &idx), 1, 6, "[" HTTP "]");
    EXPECT(state_query_health_state(st, "critical", out, &idx), 0, 6, "[]");
    EXPECT(state_query_health_state(st, "any", out, &idx), 3, 6,
           "[" SERF("n1", "2") "," SERF("n2", "6") "," HTTP "]");
    EXPECT(state_query_health_state(st, "bogus", out, &idx), -1, 0, "");
    EXPECT(state_query_health_service(st, "web", NULL, false, out, &idx), 2, 6,
           "[{\"Node\":" N1 ",\"Service\":" SVC_WEB1 ",\"Checks\":[" SERF("n1", "2") "]},"
           "{\"Node\":" N2 ",\"Service\":" SVC_WEB ",\"Checks\":[" SERF("n2", "6") "," HTTP "]}]");
    /* n2's web has a warning check: ?passing drops that instance. */
    EXPECT(state_query_health_service(st, "web", NULL, true, out, &idx), 1, 6,
           "[{\"Node\":" N1 ",\"Service\":" SVC_WEB1 ",\"Checks\":[" SERF("n1", "2") "]}]");
    /* db on n2 only has the node's passing check: the web warning does not apply to it. */
    EXPECT(state_query_health_service(st, "db", NULL, true, out, &idx), 1, 6,
           "[{\"Node\":" N2 ",\"Service\":" SVC_DB ",\"Checks\":[" SERF("n2", "6") "]}]");
    EXPECT(state_query_health_service(st, "web", "V2", false, out, &idx), 1, 6,
           "[{\"Node\":" N2 ",\"Service\":" SVC_WEB ",\"Checks\":[" SERF("n2", "6") "," HTTP "]}]");
}

#define KV_AB "{\"CreateIndex\":7,\"ModifyIndex\":7,\"LockIndex\":0,\"Key\":\"a/b\",\"Flags\":42,\"Value\":\"aGVsbG8=\"}"
#define KV_ACD "{\"CreateIndex\":8,\"ModifyIndex\":8,\"LockIndex\":0,\"Key\":\"a/c/d\",\"Flags\":0,\"Value\":null}"
#define KV_B "{\"CreateIndex\":9,\"ModifyIndex\":9,\"LockIndex\":0,\"Key\":\"b\",\"Flags\":0,\"Value\":\"eHl6\"}"

static void kv_shapes(void **state)
{
    const struct state *st = *state;
    EXPECT(state_query_kv_get(st, "a/b", out, &idx), 1, 7, "[" KV_AB "]");
    EXPECT(state_query_kv_get(st, "a", out, &idx), 0, 9, "[]");
    EXPECT(state_query_kv_raw(st, "a/b", out, &idx), 1, 7, "hello");
    EXPECT(state_query_kv_raw(st, "a/c/d", out, &idx), 1, 8, "");
    EXPECT(state_query_kv_raw(st, "zz", out, &idx), 0, 9, "");
    EXPECT(state_query_kv_list(st, "a/", out, &idx), 2, 9, "[" KV_AB "," KV_ACD "]");
    EXPECT(state_query_kv_list(st, "", out, &idx), 3, 9, "[" KV_AB "," KV_ACD "," KV_B "]");
    EXPECT(state_query_kv_list(st, "c", out, &idx), 0, 9, "[]");
    EXPECT(state_query_kv_keys(st, "", NULL, out, &idx), 3, 9, "[\"a/b\",\"a/c/d\",\"b\"]");
    EXPECT(state_query_kv_keys(st, "", "/", out, &idx), 2, 9, "[\"a/\",\"b\"]");
    EXPECT(state_query_kv_keys(st, "a/", "/", out, &idx), 2, 9, "[\"a/b\",\"a/c/\"]");
    EXPECT(state_query_kv_keys(st, "a/c", "/", out, &idx), 1, 9, "[\"a/c/\"]");
}

static void base64_all_tail_lengths(void **unused)
{
    (void)unused;
    struct state *st = state_create();
    kv(st, 1, "k1", "f", 0);
    kv(st, 2, "k2", "fo", 0);
    kv(st, 3, "k3", "foo", 0);
    kv(st, 4, "k4", "foob", 0);
    EXPECT(state_query_kv_keys(st, "k", NULL, out, &idx), 4, 4,
           "[\"k1\",\"k2\",\"k3\",\"k4\"]");
    struct buf b;
    buf_init(&b, 0);
    uint64_t idx;
    const char *want[] = {"\"Zg==\"", "\"Zm8=\"", "\"Zm9v\"", "\"Zm9vYg==\""};
    const char *keys[] = {"k1", "k2", "k3", "k4"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(state_query_kv_get(st, keys[i], &b, &idx), 1);
        assert_non_null(memmem(b.data, b.len, want[i], strlen(want[i])));
        buf_clear(&b);
    }
    buf_free(&b);
    state_destroy(st);
}

static void empty_state_index_is_one(void **unused)
{
    (void)unused;
    struct state *st = state_create();
    EXPECT(state_query_catalog_nodes(st, out, &idx), 0, 1, "[]");
    EXPECT(state_query_catalog_services(st, out, &idx), 0, 1, "{}");
    EXPECT(state_query_health_state(st, "any", out, &idx), 0, 1, "[]");
    EXPECT(state_query_kv_list(st, "", out, &idx), 0, 1, "[]");
    state_destroy(st);
}

/* A query that does not fit its buffer fails and leaves what was there before. */
static void overflow_rolls_back(void **state)
{
    const struct state *st = *state;
    struct buf b;
    buf_init(&b, 64);
    assert_int_equal(buf_append(&b, "HTTP", 4), 0);
    uint64_t idx;
    assert_int_equal(state_query_catalog_nodes(st, &b, &idx), -1);
    assert_int_equal(b.len, 4);
    assert_int_equal(state_query_kv_list(st, "", &b, &idx), -1);
    assert_int_equal(state_query_health_service(st, "web", NULL, false, &b, &idx), -1);
    assert_int_equal(state_query_catalog_services(st, &b, &idx), 2); /* 37 bytes: fits */
    assert_int_equal(b.len, 4 + strlen("{\"db\":[],\"web\":[\"Master\",\"v1\",\"v2\"]}"));
    buf_free(&b);
}

static void collect_node(void *ctx, const struct state_node_view *n)
{
    struct buf *b = ctx;
    assert_int_equal(buf_append(b, n->name, strlen(n->name)), 0);
    assert_int_equal(buf_append(b, "@", 1), 0);
    assert_int_equal(buf_append(b, n->address, strlen(n->address)), 0);
    assert_int_equal(buf_append(b, ";", 1), 0);
}

static void collect_instance(void *ctx, const struct state_instance *in)
{
    struct buf *b = ctx;
    char line[160];
    int n = snprintf(line, sizeof line, "%s/%s/%s@%s:%u tags=%zu worst=%d;", in->node,
                     in->service_id, in->service, in->address, in->port, in->n_tags,
                     (int)in->worst);
    assert_int_equal(buf_append(b, line, (size_t)n), 0);
}

static void typed_lookups(void **state)
{
    const struct state *st = *state;
    assert_string_equal(state_node_address(st, "n2"), "10.0.0.2");
    assert_null(state_node_address(st, "n9"));
    assert_int_equal(state_check_status(st, "n2", "web-http"), STATE_WARNING);
    assert_int_equal(state_check_status(st, "n1", "serfHealth"), STATE_PASSING);
    assert_int_equal(state_check_status(st, "n1", "web-http"), 0);
    struct buf b;
    buf_init(&b, 0);
    state_nodes_each(st, collect_node, &b);
    assert_int_equal(b.len, strlen("n1@10.0.0.1;n2@10.0.0.2;"));
    assert_memory_equal(b.data, "n1@10.0.0.1;n2@10.0.0.2;", b.len);
    buf_clear(&b);
    /* n2's web carries the warning check; its db only the passing node check. */
    assert_int_equal(state_service_instances(st, "web", NULL, collect_instance, &b), 2);
    const char *want = "n1/web1/web@10.0.0.1:80 tags=2 worst=1;n2/web/web@10.0.0.2:8080 tags=2 worst=2;";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    buf_clear(&b);
    assert_int_equal(state_service_instances(st, "web", "MASTER", collect_instance, &b), 1);
    buf_clear(&b);
    assert_int_equal(state_service_instances(st, "db", NULL, collect_instance, &b), 1);
    want = "n2/db/db@10.0.0.2:5432 tags=0 worst=1;";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    buf_clear(&b);
    assert_int_equal(state_service_instances(st, "nope", NULL, collect_instance, &b), 0);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(catalog_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(health_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(kv_shapes, setup, teardown),
        cmocka_unit_test(base64_all_tail_lengths),
        cmocka_unit_test(empty_state_index_is_one),
        cmocka_unit_test_setup_teardown(overflow_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(typed_lookups, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
