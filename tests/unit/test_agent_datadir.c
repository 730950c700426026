/* test_agent_datadir.c — unit tests for src/agent/datadir: creation mode, the exclusive lock and its
 * message, release on close, the -dev temporary directory, and the pid file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/datadir.h"

struct scratch {
    char dir[64];
};

static int setup(void **state)
{
    struct scratch *s = calloc(1, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/test_datadir.XXXXXX");
    if (s == NULL || mkdtemp(s->dir) == NULL)
        return -1;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    struct scratch *s = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    int rc = system(cmd);
    free(s);
    return rc == 0 ? 0 : -1;
}

static void creates_and_locks(void **state)
{
    struct scratch *s = *state;
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/a/b/data", s->dir);
    struct agent_datadir d1, d2;
    assert_int_equal(agent_datadir_open(&d1, path, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_false(d1.temporary);

    /* flock conflicts between open file descriptions even inside one process. */
    assert_int_equal(agent_datadir_open(&d2, path, err, sizeof err), -1);
    char want[256];
    snprintf(want, sizeof want, "data directory %s is in use by another agent (pid %ld)", path,
             (long)getpid());
    assert_string_equal(err, want);

    agent_datadir_close(&d1);
    assert_int_equal(stat(path, &st), 0); /* a real data dir is never removed */
    assert_int_equal(agent_datadir_open(&d2, path, err, sizeof err), 0);
    agent_datadir_close(&d2);
}

static void refuses_a_file(void **state)
{
    struct scratch *s = *state;
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/file", s->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    struct agent_datadir d;
    assert_int_equal(agent_datadir_open(&d, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "is not a directory"));
}

static void temporary_is_removed(void **state)
{
    struct scratch *s = *state;
    char err[512];
    const char *old = getenv("TMPDIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("TMPDIR", s->dir, 1);
    struct agent_datadir d;
    int rc = agent_datadir_open(&d, "", err, sizeof err);
    if (saved) {
        setenv("TMPDIR", saved, 1);
        free(saved);
    } else {
        unsetenv("TMPDIR");
    }
    assert_int_equal(rc, 0);
    assert_true(d.temporary);
    assert_memory_equal(d.path, s->dir, strlen(s->dir));
    char sub[AGENT_PATH_MAX + 16];
    snprintf(sub, sizeof sub, "%s/raft", d.path);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(sub, sizeof sub, "%s/raft/x", d.path);
    FILE *f = fopen(sub, "w");
    assert_non_null(f);
    fclose(f);
    char path[AGENT_PATH_MAX];
    snprintf(path, sizeof path, "%s", d.path);
    agent_datadir_close(&d);
    struct stat st;
    assert_int_equal(stat(path, &st), -1);
}

static void pid_file(void **state)
{
    struct scratch *s = *state;
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/agent.pid", s->dir);
    assert_int_equal(agent_pidfile_write(path, err, sizeof err), 0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    long pid = 0;
    assert_int_equal(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    assert_int_equal(pid, (long)getpid());
    /* Nothing but the pid file is left: the temporary was renamed over it. */
    DIR *dir = opendir(s->dir);
    assert_non_null(dir);
    int entries = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;)
        if (e->d_name[0] != '.')
            entries++;
    closedir(dir);
    assert_int_equal(entries, 1);

    snprintf(path, sizeof path, "%s/missing/agent.pid", s->dir);
    assert_int_equal(agent_pidfile_write(path, err, sizeof err), -1);
    assert_non_null(strstr(err, "Could not write PID file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(creates_and_locks, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_a_file, setup, teardown),
        cmocka_unit_test_setup_teardown(temporary_is_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(pid_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
