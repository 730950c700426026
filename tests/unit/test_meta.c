/* test_meta.c — stable Raft metadata: round trips, crash debris, and refusal of every damaged,
 * short, foreign or future meta file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/crc32c.h"
#include "raft/meta.h"

struct fx {
    char dir[256];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    const char *t = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/tribune-meta-XXXXXX", t && *t ? t : "/tmp");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    DIR *d = opendir(f->dir);
    struct dirent *de;
    char p[600];
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", f->dir, de->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* The tests below predate the cluster id; these keep them about term and vote. */
static int load(const char *dir, uint64_t *term, raft_id *vote, char *err, size_t errlen)
{
    struct raft_meta m = {99, 99, 99};
    int rc = raft_meta_load(dir, &m, err, errlen);
    if (rc == 0) {
        *term = m.term;
        *vote = m.vote;
    }
    return rc;
}

static int save(const char *dir, uint64_t term, raft_id vote, char *err, size_t errlen)
{
    const struct raft_meta m = {term, vote, 0x0c1a55e7ull};
    return raft_meta_save(dir, &m, err, errlen);
}

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
}

static size_t read_meta(const char *dir, uint8_t *b, size_t cap)
{
    char path[600];
    snprintf(path, sizeof path, "%s/meta", dir);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = read(fd, b, cap);
    close(fd);
    assert_true(n >= 0);
    return (size_t)n;
}

static int exists(const char *dir, const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void missing_means_fresh(void **state)
{
    struct fx *f = *state;
    char err[RAFT_META_ERRMAX] = "";
    uint64_t term = 99;
    raft_id vote = 99;
    assert_int_equal(load(f->dir, &term, &vote, err, sizeof err), 0);
    assert_int_equal(term, 0);
    assert_int_equal(vote, 0);
}

static void save_load_round_trip(void **state)
{
    struct fx *f = *state;
    char err[RAFT_META_ERRMAX];
    uint64_t term;
    raft_id vote;
    assert_int_equal(save(f->dir, 7, 0x1122334455667788ull, err, sizeof err), 0);
    assert_int_equal(load(f->dir, &term, &vote, err, sizeof err), 0);
    assert_int_equal(term, 7);
    assert_true(vote == 0x1122334455667788ull);
    assert_int_equal(save(f->dir, 8, 0, err, sizeof err), 0);
    assert_int_equal(load(f->dir, &term, &vote, err, sizeof err), 0);
    assert_int_equal(term, 8);
    assert_int_equal(vote, 0);
    assert_false(exists(f->dir, "meta.tmp"));
    uint8_t b[64];
    assert_int_equal(read_meta(f->dir, b, sizeof b), RAFT_META_SIZE);
    assert_int_equal(codec_load_u64(b + 16), 8); /* term at its documented offset */
}

static void stale_temp_is_ignored_and_removed(void **state)
{
    struct fx *f = *state;
    char err[RAFT_META_ERRMAX];
    assert_int_equal(save(f->dir, 3, 2, err, sizeof err), 0);
    write_file(f->dir, "meta.tmp", "half a write", 12);
    uint64_t term;
    raft_id vote;
    assert_int_equal(load(f->dir, &term, &vote, err, sizeof err), 0);
    assert_int_equal(term, 3);
    assert_int_equal(vote, 2);
    assert_false(exists(f->dir, "meta.tmp"));
}

static void every_flipped_bit_is_refused(void **state)
{
    struct fx *f = *state;
    char err[RAFT_META_ERRMAX];
    assert_int_equal(save(f->dir, 12345, 42, err, sizeof err), 0);
    uint8_t good[RAFT_META_SIZE];
    assert_int_equal(read_meta(f->dir, good, sizeof good), RAFT_META_SIZE);
    for (size_t i = 0; i < RAFT_META_SIZE; i++) {
        for (int bit = 0; bit < 8; bit++) {
            uint8_t bad[RAFT_META_SIZE];
            memcpy(bad, good, sizeof bad);
            bad[i] ^= (uint8_t)(1u << bit);
            write_file(f->dir, "meta", bad, sizeof bad);
            uint64_t term = 0;
            raft_id vote = 0;
            err[0] = '\0';
            assert_int_equal(load(f->dir, &term, &vote, err, sizeof err), -1);
            assert_non_null(strstr(err, "/meta"));
        }
    }
}

static void short_and_long_files_are_refused(void **state)
{
    struct fx *f = *state;
    char err[RAFT_META_ERRMAX];
    assert_int_equal(save(f->dir, 5, 6, err, sizeof err), 0);
    uint8_t good[RAFT_META_SIZE + 1];
    assert_int_equal(read_meta(f->dir, good, sizeof good), RAFT_META_SIZE);
    for (size_t n = 0; n < RAFT_META_SIZE; n++) {
        write_file(f->dir, "meta", good, n);
        uint64_t term;
        raft_id vote;
        assert_int_equal(load(f->dir, &term, &vote, err, sizeof err), -1);
    }
    good[RAFT_META_SIZE] = 0;
    write_file(f->dir, "meta", good, RAFT_META_SIZE + 1);
    uint64_t term;
    raft_id vote;
    assert_int_equal(load(f->dir, &term, &vote, err, sizeof err), -1);
}

static void future_version_and_foreign_file_named(void **state)
{
    struct fx *f = *state;
    char err[RAFT_META_ERRMAX];
    assert_int_equal(save(f->dir, 5, 6, err, sizeof err), 0);
    uint8_t b[RAFT_META_SIZE];
    read_meta(f->dir, b, sizeof b);
    codec_store_u32(b + 8, 3);
    codec_store_u32(b + 40, crc32c(0, b, 40)); /* a well-formed file of a newer format */
    write_file(f->dir, "meta", b, sizeof b);
    uint64_t term;
    raft_id vote;
    assert_int_equal(load(f->dir, &term, &vote, err, sizeof err), -1);
    assert_non_null(strstr(err, "version 3"));
    write_file(f->dir, "meta", "{\"CurrentTerm\": 5, \"LastVoteCand\": \"x\"}", 38);
    assert_int_equal(load(f->dir, &term, &vote, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a tribune"));
}

static void cluster_id_round_trips_at_its_offset(void **state)
{
    struct fx *f = *state;
    char err[RAFT_META_ERRMAX];
    const struct raft_meta in = {4, 5, 0xfeedfacecafebeefull};
    assert_int_equal(raft_meta_save(f->dir, &in, err, sizeof err), 0);
    struct raft_meta out = {0, 0, 0};
    assert_int_equal(raft_meta_load(f->dir, &out, err, sizeof err), 0);
    assert_int_equal(out.term, 4);
    assert_int_equal(out.vote, 5);
    assert_true(out.cluster_id == 0xfeedfacecafebeefull);
    uint8_t b[64];
    assert_int_equal(read_meta(f->dir, b, sizeof b), RAFT_META_SIZE);
    assert_true(codec_load_u64(b + 32) == 0xfeedfacecafebeefull);
}

/* A version 1 file (36 bytes, no cluster id) is still read: term and vote, cluster unknown. */
static void version_1_file_loads_without_a_cluster(void **state)
{
    struct fx *f = *state;
    char err[RAFT_META_ERRMAX];
    uint8_t b[RAFT_META_SIZE_V1];
    memcpy(b, "TRBNMETA", 8);
    codec_store_u32(b + 8, 1);
    codec_store_u32(b + 12, 0);
    codec_store_u64(b + 16, 9);
    codec_store_u64(b + 24, 3);
    codec_store_u32(b + 32, crc32c(0, b, 32));
    write_file(f->dir, "meta", b, sizeof b);
    struct raft_meta m = {0, 0, 77};
    assert_int_equal(raft_meta_load(f->dir, &m, err, sizeof err), 0);
    assert_int_equal(m.term, 9);
    assert_int_equal(m.vote, 3);
    assert_int_equal(m.cluster_id, 0);
    codec_store_u32(b + 32, crc32c(0, b, 32) ^ 1);
    write_file(f->dir, "meta", b, sizeof b);
    assert_int_equal(raft_meta_load(f->dir, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "checksum"));
}

static void replace_into_missing_dir_fails_cleanly(void **state)
{
    struct fx *f = *state;
    char err[RAFT_META_ERRMAX] = "";
    char dir[600];
    snprintf(dir, sizeof dir, "%s/absent", f->dir);
    assert_int_equal(save(dir, 1, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "absent/meta.tmp"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(missing_means_fresh, setup, teardown),
        cmocka_unit_test_setup_teardown(save_load_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(stale_temp_is_ignored_and_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(every_flipped_bit_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(short_and_long_files_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(future_version_and_foreign_file_named, setup, teardown),
        cmocka_unit_test_setup_teardown(cluster_id_round_trips_at_its_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(version_1_file_loads_without_a_cluster, setup, teardown),
        cmocka_unit_test_setup_teardown(replace_into_missing_dir_fails_cleanly, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
