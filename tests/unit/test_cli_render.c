/* test_cli_render.c — the pure halves of the agent-facing commands: the members table (columns,
 * sorting, status filter, exit codes), info's sections, and the shared address/escape helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cli/remote.h"
#include "cli/render.h"

/* Three members as a Consul 0.4-shaped agent answers /v1/agent/members, out of name order. */
static const char members_json[] =
    "[{\"Name\":\"web-1\",\"Addr\":\"10.0.0.7\",\"Port\":8301,"
    "\"Tags\":{\"role\":\"node\",\"dc\":\"dc1\",\"vsn\":\"2\",\"vsn_min\":\"1\",\"vsn_max\":\"2\","
    "\"build\":\"0.1.0:abcdef12\"},\"Status\":1,\"ProtocolMin\":1,\"ProtocolMax\":2,"
    "\"ProtocolCur\":2,\"DelegateMin\":2,\"DelegateMax\":4,\"DelegateCur\":4},"
    "{\"Name\":\"consul-a\",\"Addr\":\"10.0.0.1\",\"Port\":8301,"
    "\"Tags\":{\"role\":\"consul\",\"dc\":\"east\",\"port\":\"8300\",\"vsn\":\"2\",\"vsn_min\":\"1\","
    "\"vsn_max\":\"2\",\"build\":\"0.1.0:abcdef12\",\"bootstrap\":\"1\"},\"Status\":4},"
    "{\"Name\":\"old\",\"Addr\":\"10.0.0.200\",\"Port\":8301,\"Tags\":{\"vsn\":\"1\"},\"Status\":3}]";

/* Runs the renderer and keeps its text NUL-terminated in *text (caller frees). */
static int render_members(const char *json, const char *re, bool detailed, char **text, char *err,
                          size_t errlen)
{
    struct buf out;
    buf_init(&out, 0);
    err[0] = '\0';
    int rc = cli_members_render(json, strlen(json), re, detailed, &out, err, errlen);
    *text = calloc(out.len + 1, 1);
    assert_non_null(*text);
    if (out.len)
        memcpy(*text, out.data, out.len);
    buf_free(&out);
    return rc;
}

static void members_table_columns_sorted_aligned(void **state)
{
    (void)state;
    char *t, err[256];
    assert_int_equal(render_members(members_json, NULL, false, &t, err, sizeof err), 0);
    assert_string_equal(t, "Node      Address          Status  Type     Build  Protocol  DC\n"
                           "consul-a  10.0.0.1:8301    failed  server   0.1.0  2         east\n"
                           "old       10.0.0.200:8301  left    unknown  < 0.3  1         \n"
                           "web-1     10.0.0.7:8301    alive   client   0.1.0  2         dc1\n");
    free(t);
}

static void members_detailed_tags_sorted(void **state)
{
    (void)state;
    char *t, err[256];
    assert_int_equal(render_members(members_json, NULL, true, &t, err, sizeof err), 0);
    assert_string_equal(
        t, "Node      Address          Status  Tags\n"
           "consul-a  10.0.0.1:8301    failed  bootstrap=1,build=0.1.0:abcdef12,dc=east,port=8300,"
           "role=consul,vsn=2,vsn_max=2,vsn_min=1\n"
           "old       10.0.0.200:8301  left    vsn=1\n"
           "web-1     10.0.0.7:8301    alive   build=0.1.0:abcdef12,dc=dc1,role=node,vsn=2,"
           "vsn_max=2,vsn_min=1\n");
    free(t);
}

static void members_status_filter(void **state)
{
    (void)state;
    char *t, err[256];
    assert_int_equal(render_members(members_json, "failed", false, &t, err, sizeof err), 0);
    assert_string_equal(t, "Node      Address        Status  Type    Build  Protocol  DC\n"
                           "consul-a  10.0.0.1:8301  failed  server  0.1.0  2         east\n");
    free(t);
    /* Unanchored like Go's MatchString: "l" is in alive, left and failed. */
    assert_int_equal(render_members(members_json, "^(alive|left)$", true, &t, err, sizeof err), 0);
    assert_non_null(strstr(t, "\nold "));
    assert_non_null(strstr(t, "\nweb-1 "));
    assert_null(strstr(t, "consul-a"));
    free(t);
    assert_int_equal(render_members(members_json, "l", false, &t, err, sizeof err), 0);
    assert_int_equal(strlen(t) - strlen(strchr(t, '\n')), strlen("Node      Address          "
                                                                  "Status  Type     Build  "
                                                                  "Protocol  DC"));
    free(t);
}

static void members_no_match_exits_2(void **state)
{
    (void)state;
    char *t, err[256];
    assert_int_equal(render_members(members_json, "leaving", false, &t, err, sizeof err), 2);
    assert_string_equal(t, "");
    assert_string_equal(err, "");
    free(t);
    assert_int_equal(render_members("[]", NULL, false, &t, err, sizeof err), 2);
    assert_string_equal(t, "");
    free(t);
}

static void members_bad_regexp(void **state)
{
    (void)state;
    char *t, err[256];
    assert_int_equal(render_members(members_json, "(alive", false, &t, err, sizeof err), 1);
    assert_string_equal(t, "");
    assert_true(strncmp(err, "Failed to compile status regexp: ", 33) == 0);
    assert_true(strlen(err) > 33);
    free(t);
}

static void members_malformed_answers(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "{", "{\"Name\":\"x\"}", "[1]", "[{\"Name\":\"a\"},\"b\"]", "[{\"Name\":\"a\"}] x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *t, err[256];
        assert_int_equal(render_members(bad[i], NULL, false, &t, err, sizeof err), 1);
        assert_string_equal(t, "");
        assert_true(strncmp(err, "Error retrieving members: ", 26) == 0);
        free(t);
    }
}

static void members_odd_fields(void **state)
{
    (void)state;
    /* Missing Port, IPv6 address, non-string tags, unknown status, hostile bytes in a name. */
    const char *json = "[{\"Name\":\"a\\u001b[2Jb\\nc\",\"Addr\":\"::1\",\"Port\":8301,"
                       "\"Tags\":{\"role\":\"consul\",\"n\":7,\"build\":\"0.2\"},\"Status\":9},"
                       "{\"Name\":\"z\",\"Addr\":\"10.1.1.1\",\"Tags\":null}]";
    char *t, err[256];
    assert_int_equal(render_members(json, NULL, true, &t, err, sizeof err), 0);
    assert_string_equal(t, "Node      Address     Status   Tags\n"
                           "a?[2Jb?c  [::1]:8301  unknown  build=0.2,role=consul\n"
                           "z         10.1.1.1    unknown  \n");
    free(t);
    assert_int_equal(render_members(json, NULL, false, &t, err, sizeof err), 0);
    assert_non_null(strstr(t, "[::1]:8301  unknown  server   0.2    "));
    assert_non_null(strstr(t, "z         10.1.1.1    unknown  unknown  < 0.3"));
    free(t);
}

static void member_status_names(void **state)
{
    (void)state;
    assert_string_equal(cli_member_status_name(0), "none");
    assert_string_equal(cli_member_status_name(1), "alive");
    assert_string_equal(cli_member_status_name(2), "leaving");
    assert_string_equal(cli_member_status_name(3), "left");
    assert_string_equal(cli_member_status_name(4), "failed");
    assert_string_equal(cli_member_status_name(5), "unknown");
    assert_string_equal(cli_member_status_name(-1), "unknown");
}

static int render_info(const char *json, char **text, char *err, size_t errlen)
{
    struct buf out;
    buf_init(&out, 0);
    err[0] = '\0';
    int rc = cli_info_render(json, strlen(json), &out, err, errlen);
    *text = calloc(out.len + 1, 1);
    assert_non_null(*text);
    if (out.len)
        memcpy(*text, out.data, out.len);
    buf_free(&out);
    return rc;
}

static void info_sections_and_keys_sorted(void **state)
{
    (void)state;
    const char *json =
        "{\"Config\":{\"NodeName\":\"h1\"},\"Member\":{},\"Stats\":{"
        "\"serf_lan\":{\"members\":\"3\",\"failed\":\"0\",\"left\":\"0\"},"
        "\"raft\":{\"term\":\"4\",\"state\":\"Leader\",\"num_peers\":\"2\","
        "\"applied_index\":\"45832\",\"last_contact\":\"0\"},"
        "\"consul\":{\"server\":\"true\",\"leader\":\"true\",\"bootstrap\":\"true\"},"
        "\"agent\":{\"services\":\"1\",\"checks\":\"0\"},"
        "\"build\":{\"version\":\"0.1.0\",\"prerelease\":\"\",\"revision\":\"abcdef12\"}}}";
    char *t, err[256];
    assert_int_equal(render_info(json, &t, err, sizeof err), 0);
    assert_string_equal(t, "agent:\n\tchecks = 0\n\tservices = 1\n"
                           "build:\n\tprerelease = \n\trevision = abcdef12\n\tversion = 0.1.0\n"
                           "consul:\n\tbootstrap = true\n\tleader = true\n\tserver = true\n"
                           "raft:\n\tapplied_index = 45832\n\tlast_contact = 0\n\tnum_peers = 2\n"
                           "\tstate = Leader\n\tterm = 4\n"
                           "serf_lan:\n\tfailed = 0\n\tleft = 0\n\tmembers = 3\n");
    free(t);
}

static void info_non_string_values_and_empty(void **state)
{
    (void)state;
    char *t, err[256];
    assert_int_equal(
        render_info("{\"Stats\":{\"x\":{\"n\":12,\"b\":false,\"s\":\"a\\tb\\rc\",\"o\":[1]},"
                    "\"e\":{}}}",
                    &t, err, sizeof err),
        0);
    assert_string_equal(t, "e:\nx:\n\tb = false\n\tn = 12\n\to = [1]\n\ts = a\tb?c\n");
    free(t);
    assert_int_equal(render_info("{\"Stats\":{}}", &t, err, sizeof err), 0);
    assert_string_equal(t, "");
    free(t);
}

static void info_malformed_answers(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "[]", "{}", "{\"Stats\":[]}", "{\"Stats\":{\"a\":\"b\"}}", "{\"Stats\":{\"a\":{}",
        "{\"Stats\":{\"a\":{},\"a\":{}}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *t, err[256];
        assert_int_equal(render_info(bad[i], &t, err, sizeof err), 1);
        assert_string_equal(t, "");
        assert_true(strncmp(err, "Error querying agent: ", 22) == 0);
        free(t);
    }
}

static void remote_addr_precedence(void **state)
{
    (void)state;
    unsetenv("TRIBUNE_HTTP_ADDR");
    assert_string_equal(cli_remote_addr(NULL), "127.0.0.1:8500");
    setenv("TRIBUNE_HTTP_ADDR", "", 1);
    assert_string_equal(cli_remote_addr(NULL), "127.0.0.1:8500");
    setenv("TRIBUNE_HTTP_ADDR", "10.0.0.1:9500", 1);
    assert_string_equal(cli_remote_addr(NULL), "10.0.0.1:9500");
    assert_string_equal(cli_remote_addr("127.0.0.2:1"), "127.0.0.2:1");
    unsetenv("TRIBUNE_HTTP_ADDR");
}

static void remote_escape(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(cli_remote_escape("10.0.0.1:8301", out, sizeof out), 0);
    assert_string_equal(out, "10.0.0.1:8301");
    assert_int_equal(cli_remote_escape("[::1]:8301", out, sizeof out), 0);
    assert_string_equal(out, "[::1]:8301");
    assert_int_equal(cli_remote_escape("a b/c?d#e%f&", out, sizeof out), 0);
    assert_string_equal(out, "a%20b%2Fc%3Fd%23e%25f%26");
    assert_int_equal(cli_remote_escape("\xc3\xa9", out, sizeof out), 0);
    assert_string_equal(out, "%C3%A9");
    /* Exactly full: "abc" needs 4 bytes with the NUL; one short must fail, not truncate. */
    assert_int_equal(cli_remote_escape("abc", out, 4), 0);
    assert_int_equal(cli_remote_escape("abc", out, 3), -1);
    assert_int_equal(cli_remote_escape("a/", out, 4), -1);
}

static void remote_status_text(void **state)
{
    (void)state;
    struct http_client_resp r;
    memset(&r, 0, sizeof r);
    char text[64];
    r.status = 500;
    r.body = "No known peers\r\n";
    r.body_len = strlen(r.body);
    cli_remote_status_text(&r, text, sizeof text);
    assert_string_equal(text, "No known peers");
    r.body = "two\nlines\n";
    r.body_len = strlen(r.body);
    cli_remote_status_text(&r, text, sizeof text);
    assert_string_equal(text, "two?lines");
    r.status = 404;
    r.body = "";
    r.body_len = 0;
    cli_remote_status_text(&r, text, sizeof text);
    assert_string_equal(text, "Unexpected response code: 404");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(members_table_columns_sorted_aligned),
        cmocka_unit_test(members_detailed_tags_sorted),
        cmocka_unit_test(members_status_filter),
        cmocka_unit_test(members_no_match_exits_2),
        cmocka_unit_test(members_bad_regexp),
        cmocka_unit_test(members_malformed_answers),
        cmocka_unit_test(members_odd_fields),
        cmocka_unit_test(member_status_names),
        cmocka_unit_test(info_sections_and_keys_sorted),
        cmocka_unit_test(info_non_string_values_and_empty),
        cmocka_unit_test(info_malformed_answers),
        cmocka_unit_test(remote_addr_precedence),
        cmocka_unit_test(remote_escape),
        cmocka_unit_test(remote_status_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
