/* test_agent_nodeid.c — DATA_DIR/node-id: created once with a nonzero random id, read back the
 * same, refused for another node name or when malformed (never silently replaced). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent_impl.h"

static char *mkdir_tmp(void)
{
    char *d = strdup("/tmp/tribune-nodeid-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void rm_dir(char *d)
{
    char p[256];
    snprintf(p, sizeof p, "%s/node-id", d);
    unlink(p);
    rmdir(d);
    free(d);
}

static void write_file(const char *d, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/node-id", d);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void created_once_and_stable(void **state)
{
    (void)state;
    char *d = mkdir_tmp();
    char err[512];
    raft_id a = 0, b = 0;
    assert_int_equal(agent_nodeid_load(d, "node-a", &a, err, sizeof err), 0);
    assert_true(a != 0);
    assert_int_equal(agent_nodeid_load(d, "node-a", &b, err, sizeof err), 0);
    assert_true(a == b);
    rm_dir(d);
    /* a fresh directory draws another id */
    d = mkdir_tmp();
    raft_id c = 0;
    assert_int_equal(agent_nodeid_load(d, "node-a", &c, err, sizeof err), 0);
    assert_true(c != 0 && c != a);
    rm_dir(d);
}

static void other_node_name_is_refused(void **state)
{
    (void)state;
    char *d = mkdir_tmp();
    char err[512];
    raft_id a = 0, b = 0;
    assert_int_equal(agent_nodeid_load(d, "node-a", &a, err, sizeof err), 0);
    assert_int_equal(agent_nodeid_load(d, "node-b", &b, err, sizeof err), -1);
    assert_non_null(strstr(err, "belongs to node 'node-a', not 'node-b'"));
    /* and the file was not touched: node-a still gets its id */
    assert_int_equal(agent_nodeid_load(d, "node-a", &b, err, sizeof err), 0);
    assert_true(a == b);
    rm_dir(d);
}

static void malformed_files_are_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "xyz\nnode-a\n",
        "0000000000000000\nnode-a\n",          /* zero id */
        "00000000000000012\nnode-a\n",         /* 17 digits */
        "000000000000001G\nnode-a\n",
        "0000000000000001\nnode-a",            /* no final newline */
        "0000000000000001\nnode-a\nextra\n",
        "00000000000000AB\nnode-a\n",          /* upper case is not what we write */
    };
    char err[512];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *d = mkdir_tmp();
        write_file(d, bad[i]);
        raft_id id = 0;
        assert_int_equal(agent_nodeid_load(d, "node-a", &id, err, sizeof err), -1);
        assert_true(id == 0);
        rm_dir(d);
    }
    char *d = mkdir_tmp();
    write_file(d, "00000000000000ab\nnode-a\n");
    raft_id id = 0;
    assert_int_equal(agent_nodeid_load(d, "node-a", &id, err, sizeof err), 0);
    assert_true(id == 0xab);
    rm_dir(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(created_once_and_stable),
        cmocka_unit_test(other_node_name_is_refused),
        cmocka_unit_test(malformed_files_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
