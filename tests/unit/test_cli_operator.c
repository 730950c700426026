/* test_cli_operator.c — the list-peers table from /v1/operator/raft/configuration answers:
 * columns, order, leader/voter cells, hostile text, and refusal of malformed answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cli/operator.h"

/* Runs the renderer; *text gets its output NUL-terminated (caller frees). */
static int render(const char *json, char **text, char *err, size_t errlen)
{
    struct buf out;
    buf_init(&out, 0);
    err[0] = '\0';
    int rc = cli_operator_peers_render(json, strlen(json), &out, err, errlen);
    *text = calloc(out.len + 1, 1);
    assert_non_null(*text);
    if (out.len)
        memcpy(*text, out.data, out.len);
    buf_free(&out);
    return rc;
}

/* The configuration's order is kept (Consul prints it unsorted), the leader is the only
 * "leader", a non-voter shows false, and every column but the last is padded. */
static void table_in_configuration_order(void **state)
{
    (void)state;
    const char *json =
        "{\"Servers\":["
        "{\"ID\":\"00000000000000c3\",\"Node\":\"zeta\",\"Address\":\"10.0.0.3:8300\","
        "\"Leader\":false,\"Voter\":true},"
        "{\"ID\":\"00000000000000a1\",\"Node\":\"a\",\"Address\":\"10.0.0.1:8300\","
        "\"Leader\":true,\"Voter\":true},"
        "{\"ID\":\"00000000000000b2\",\"Node\":\"beta-long-name\",\"Address\":\"10.0.0.22:8300\","
        "\"Leader\":false,\"Voter\":false}],\"Index\":42}";
    char *t, err[256];
    assert_int_equal(render(json, &t, err, sizeof err), 0);
    assert_string_equal(t,
                        "Node            ID                Address         State     Voter\n"
                        "zeta            00000000000000c3  10.0.0.3:8300   follower  true\n"
                        "a               00000000000000a1  10.0.0.1:8300   leader    true\n"
                        "beta-long-name  00000000000000b2  10.0.0.22:8300  follower  false\n");
    free(t);
}

static void empty_configuration_prints_header(void **state)
{
    (void)state;
    char *t, err[256];
    assert_int_equal(render("{\"Servers\":[],\"Index\":0}", &t, err, sizeof err), 0);
    assert_string_equal(t, "Node  ID  Address  State  Voter\n");
    free(t);
}

/* Absent fields are empty cells and false; unknown members are ignored. */
static void missing_fields_are_empty(void **state)
{
    (void)state;
    char *t, err[256];
    assert_int_equal(render("{\"Servers\":[{\"Address\":\"h:1\",\"X\":[1]}]}", &t, err, sizeof err),
                     0);
    assert_string_equal(t, "Node  ID  Address  State     Voter\n"
                           "          h:1      follower  false\n");
    free(t);
}

/* A node name from the network cannot move the cursor or fake a row. */
static void control_characters_replaced(void **state)
{
    (void)state;
    char *t, err[256];
    assert_int_equal(render("{\"Servers\":[{\"Node\":\"ev\\u001b[2Jil\\nx\",\"ID\":\"1\","
                            "\"Address\":\"a:1\",\"Leader\":true,\"Voter\":true}]}",
                            &t, err, sizeof err),
                     0);
    assert_null(strchr(t, '\033'));
    assert_non_null(strstr(t, "ev?[2Jil?x"));
    /* header and one row only */
    size_t lines = 0;
    for (const char *p = t; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2);
    free(t);
}

static void malformed_answers_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "not json",
        "[]",
        "{}",
        "{\"Servers\":{}}",
        "{\"Servers\":[1]}",
        "{\"Servers\":[{\"Node\":7}]}",
        "{\"Servers\":[{\"ID\":null}]}",
        "{\"Servers\":[{\"Leader\":\"yes\"}]}",
        "{\"Servers\":[{\"Voter\":1}]}",
        "{\"Servers\":[{\"Node\":\"ok\"},{\"Address\":false}]}",
        "{\"Servers\":[",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *t, err[256];
        assert_int_equal(render(bad[i], &t, err, sizeof err), 1);
        assert_string_equal(t, "");
        assert_true(strncmp(err, "Error getting peers: ", 21) == 0);
        assert_null(strchr(err, '\n'));
        free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_in_configuration_order),
        cmocka_unit_test(empty_configuration_prints_header),
        cmocka_unit_test(missing_fields_are_empty),
        cmocka_unit_test(control_characters_replaced),
        cmocka_unit_test(malformed_answers_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
