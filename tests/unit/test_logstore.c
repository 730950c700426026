/* test_logstore.c — the durable Raft log: round trips, crash cuts at every byte, flipped bytes,
 * random operations against a model, crashes losing unsynced writes, sticky fsync errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/crc32c.h"
#include "base/log.h"
#include "raft/logrec.h"
#include "raft/logstore.h"

/* Seeds per run; a longer soak: -DCRASH_SEEDS=1000 -DMODEL_SEEDS=500. */
#ifndef CRASH_SEEDS
#define CRASH_SEEDS 30
#endif
#ifndef MODEL_SEEDS
#define MODEL_SEEDS 12
#endif

/* ---- fixture: a temp data dir and a logger whose WARN lines the tests read ---- */

struct fx {
    char root[256];
    char dir[300]; /* root/raft: rlog_open must create it */
    struct logger lg;
    int warns;
    char warn[1200];
    char err[RLOG_ERRMAX];
};

static void tap(void *ctx, enum log_level level, const char *line, size_t len)
{
    struct fx *f = ctx;
    if (level != LOG_WARN)
        return;
    f->warns++;
    snprintf(f->warn, sizeof f->warn, "%.*s", (int)len, line);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    const char *t = getenv("TMPDIR");
    snprintf(f->root, sizeof f->root, "%s/tribune-log-XXXXXX", t && *t ? t : "/tmp");
    if (mkdtemp(f->root) == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s/raft", f->root);
    log_init(&f->lg, -1, LOG_ERR);
    f->lg.tap = tap;
    f->lg.tap_ctx = f;
    f->lg.tap_level = LOG_WARN;
    *state = f;
    return 0;
}

static void rm_dir_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[700];
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    rm_dir_files(f->dir);
    rmdir(f->dir);
    rmdir(f->root);
    free(f);
    return 0;
}

/* ---- disk shims ---- */

/* No-op syncs: for tests about formats and recovery logic, where real fdatasync only costs time. */
static ssize_t nosync_pwrite(void *ctx, int fd, const void *b, size_t n, off_t off)
{
    (void)ctx;
    return pwrite(fd, b, n, off);
}
static int nosync_sync(void *ctx, int fd, int datasync)
{
    (void)ctx, (void)fd, (void)datasync;
    return 0;
}
static int nosync_truncate(void *ctx, int fd, off_t len)
{
    (void)ctx;
    return ftruncate(fd, len);
}
static const struct rlog_io nosync_io = {NULL, nosync_pwrite, nosync_sync, nosync_truncate};

/* Faults on demand, and a count of data syncs. */
struct faulty {
    int datasyncs;
    int fail_sync;  /* sync fails with EIO while set */
    int fail_write; /* pwrite fails with ENOSPC while set */
};
static ssize_t faulty_pwrite(void *ctx, int fd, const void *b, size_t n, off_t off)
{
    struct faulty *q = ctx;
    if (q->fail_write) {
        errno = ENOSPC;
        return -1;
    }
    return pwrite(fd, b, n, off);
}
static int faulty_sync(void *ctx, int fd, int datasync)
{
    struct faulty *q = ctx;
    (void)fd;
    if (q->fail_sync) {
        errno = EIO;
        return -1;
    }
    q->datasyncs += datasync;
    return 0;
}

/* A volatile page cache: writes and truncations stay pending until a sync of the same file applies
 * them; a crash applies only a prefix of what is pending (the last one possibly torn, possibly
 * followed by zeros as a file system may show after extending a file) and loses the rest. Each
 * pending op holds its own dup of the fd, so it reaches the right inode even after the log closes
 * or unlinks the file (and that inode cannot be reused while the dup is open). */
struct pend {
    int fd; /* our dup */
    dev_t dev;
    ino_t ino;
    int is_trunc;
    off_t off; /* write offset, or truncation length */
    size_t len;
    uint8_t *data;
};
struct vcache {
    struct pend *v;
    size_t n, cap;
};

static void vc_push(struct vcache *c, int fd, int is_trunc, off_t off, const void *b, size_t len)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->v = realloc(c->v, c->cap * sizeof *c->v);
        assert_non_null(c->v);
    }
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    struct pend *p = &c->v[c->n++];
    p->fd = dup(fd);
    assert_true(p->fd >= 0);
    p->dev = st.st_dev;
    p->ino = st.st_ino;
    p->is_trunc = is_trunc;
    p->off = off;
    p->len = len;
    p->data = NULL;
    if (len) {
        p->data = malloc(len);
        memcpy(p->data, b, len);
    }
}

static void vc_apply(struct pend *p, size_t bytes, int zero_rest)
{
    if (p->is_trunc) {
        assert_int_equal(ftruncate(p->fd, p->off), 0);
        return;
    }
    if (bytes)
        assert_int_equal(pwrite(p->fd, p->data, bytes, p->off), (ssize_t)bytes);
    if (zero_rest && bytes < p->len) {
        uint8_t *z = calloc(1, p->len - bytes);
        assert_int_equal(pwrite(p->fd, z, p->len - bytes, p->off + (off_t)bytes),
                         (ssize_t)(p->len - bytes));
        free(z);
    }
}

static void vc_drop(struct pend *p)
{
    close(p->fd);
    free(p->data);
}

static ssize_t vc_pwrite(void *ctx, int fd, const void *b, size_t n, off_t off)
{
    vc_push(ctx, fd, 0, off, b, n);
    return (ssize_t)n;
}
static int vc_truncate(void *ctx, int fd, off_t len)
{
    vc_push(ctx, fd, 1, len, NULL, 0);
    return 0;
}
static int vc_sync(void *ctx, int fd, int datasync)
{
    struct vcache *c = ctx;
    (void)datasync;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++) {
        struct pend *p = &c->v[i];
        if (p->dev == st.st_dev && p->ino == st.st_ino) {
            vc_apply(p, p->len, 0);
            vc_drop(p);
        } else {
            c->v[k++] = *p;
        }
    }
    c->n = k;
    return 0;
}
static const struct rlog_io vc_io_tmpl = {NULL, vc_pwrite, vc_sync, vc_truncate};

/* The crash: the first `keep` pending ops reach the disk, the next one only `torn` bytes. */
static void vc_crash(struct vcache *c, size_t keep, size_t torn, int zero_rest)
{
    for (size_t i = 0; i < c->n; i++) {
        if (i < keep)
            vc_apply(&c->v[i], c->v[i].len, 0);
        else if (i == keep)
            vc_apply(&c->v[i], torn < c->v[i].len ? torn : c->v[i].len, zero_rest);
        vc_drop(&c->v[i]);
    }
    c->n = 0;
}

/* ---- entries ---- */

static uint8_t pbyte(uint64_t idx, uint64_t salt, uint32_t j)
{
    return (uint8_t)(idx * 131 + salt * 17 + j * 7 + (j >> 8));
}

static struct raft_entry mk(uint64_t idx, uint64_t term, uint32_t len, uint64_t salt)
{
    struct raft_entry e = {term, idx, RAFT_ENTRY_COMMAND, len, NULL};
    if (len) {
        e.data = malloc(len);
        for (uint32_t j = 0; j < len; j++)
            e.data[j] = pbyte(idx, salt, j);
    }
    return e;
}

static void append_one(struct rlog *log, uint64_t idx, uint64_t term, uint32_t len, uint64_t salt)
{
    struct raft_entry e = mk(idx, term, len, salt);
    assert_int_equal(rlog_append(log, &e, 1), 0);
    free(e.data);
}

static void check_entry(struct rlog *log, uint64_t idx, uint64_t term, uint32_t len, uint64_t salt)
{
    struct raft_entry e;
    int rc = rlog_get(log, idx, &e);
    if (rc != 0)
        fail_msg("get %llu: %d %s", (unsigned long long)idx, rc, rlog_errmsg(log));
    assert_int_equal(e.index, idx);
    assert_int_equal(e.term, term);
    assert_int_equal(e.len, len);
    assert_int_equal(e.type, RAFT_ENTRY_COMMAND);
    for (uint32_t j = 0; j < len; j++)
        if (e.data[j] != pbyte(idx, salt, j))
            fail_msg("entry %llu byte %u differs", (unsigned long long)idx, j);
    rlog_entry_free(&e);
}

static struct rlog *open_ok(struct fx *f, uint64_t segsz, const struct rlog_io *io)
{
    struct rlog_opts o = {segsz, io};
    struct rlog *log = NULL;
    int rc = rlog_open(f->dir, &o, &f->lg, &log, f->err, sizeof f->err);
    if (rc != 0)
        fail_msg("rlog_open: %d %s", rc, f->err);
    return log;
}

static int open_rc(struct fx *f, uint64_t segsz, struct rlog **log)
{
    struct rlog_opts o = {segsz, &nosync_io};
    f->err[0] = '\0';
    *log = NULL;
    return rlog_open(f->dir, &o, &f->lg, log, f->err, sizeof f->err);
}

static size_t slurp(const char *path, uint8_t **out)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    struct stat st;
    fstat(fd, &st);
    uint8_t *p = malloc((size_t)st.st_size + 1);
    assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
    close(fd);
    *out = p;
    return (size_t)st.st_size;
}

/* Rewrites a file in place. Not O_TRUNC: ext4 flushes a file truncated to zero and rewritten on
 * close (auto_da_alloc), which would make these tests pay for real disk writes. */
static void spit(const char *path, const uint8_t *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    if (n)
        assert_int_equal(pwrite(fd, p, n, 0), (ssize_t)n);
    assert_int_equal(ftruncate(fd, (off_t)n), 0);
    close(fd);
}

static void seg_path(struct fx *f, uint64_t first, char *out, size_t n)
{
    snprintf(out, n, "%s/%020llu.seg", f->dir, (unsigned long long)first);
}

static int count_segments(struct fx *f)
{
    DIR *d = opendir(f->dir);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += strlen(de->d_name) == 24 && strstr(de->d_name, ".seg") != NULL;
    closedir(d);
    return n;
}

/* ---- tests ---- */

static void codec_round_trip_and_limits(void **state)
{
    (void)state;
    uint8_t buf[RLOG_REC_HDR_SIZE + 10];
    struct raft_entry e = mk(9, 3, 10, 1), d;
    rlog_record_encode(buf, &e);
    size_t size = 0;
    assert_int_equal(rlog_record_decode(buf, sizeof buf, &d, &size), RLOG_REC_OK);
    assert_int_equal(size, sizeof buf);
    assert_int_equal(d.index, 9);
    assert_int_equal(d.term, 3);
    assert_memory_equal(d.data, e.data, 10);
    assert_int_equal(codec_load_u32(buf), 10); /* length first, big-endian, as documented */
    for (size_t n = 0; n < sizeof buf; n++)
        assert_int_equal(rlog_record_decode(buf, n, &d, &size), RLOG_REC_SHORT);
    codec_store_u32(buf, RLOG_ENTRY_MAX + 1); /* absurd length: refused without reading on */
    assert_int_equal(rlog_record_decode(buf, sizeof buf, &d, &size), RLOG_REC_BAD);
    uint8_t zero[64] = {0};
    assert_int_equal(rlog_record_decode(zero, sizeof zero, &d, &size), RLOG_REC_BAD);
    uint8_t h[RLOG_SEG_HDR_SIZE];
    uint64_t first = 0;
    uint32_t v = 0;
    rlog_seg_header_encode(h, 77);
    assert_int_equal(rlog_seg_header_decode(h, sizeof h, &first, &v), RLOG_HDR_OK);
    assert_int_equal(first, 77);
    free(e.data);
}

static void append_get_reopen_across_segments(void **state)
{
    struct fx *f = *state;
    struct rlog *log = open_ok(f, 300, NULL); /* real syncs: the default I/O path */
    assert_int_equal(rlog_first_index(log), 1);
    assert_int_equal(rlog_last_index(log), 0);
    assert_int_equal(rlog_last_term(log), 0);
    uint64_t t;
    assert_int_equal(rlog_term_at(log, 0, &t), 0);
    assert_int_equal(t, 0);
    struct raft_entry batch[8];
    uint64_t idx = 1;
    for (int b = 0; b < 5; b++) {
        for (int i = 0; i < 8; i++, idx++)
            batch[i] = mk(idx, 1 + idx / 10, (uint32_t)(idx * 13 % 90), idx);
        assert_int_equal(rlog_append(log, batch, 8), 0);
        for (int i = 0; i < 8; i++)
            free(batch[i].data);
    }
    assert_int_equal(rlog_last_index(log), 40);
    /* Contract (1): the open segment is not durable before a sync (rollover synced older ones). */
    assert_true(rlog_durable_index(log) < 40);
    assert_int_equal(rlog_sync(log), 0);
    assert_int_equal(rlog_durable_index(log), 40);
    assert_true(count_segments(f) >= 5);
    for (uint64_t i = 1; i <= 40; i++)
        check_entry(log, i, 1 + i / 10, (uint32_t)(i * 13 % 90), i);
    struct raft_entry e;
    assert_int_equal(rlog_get(log, 41, &e), -ENOENT);
    assert_int_equal(rlog_get(log, 0, &e), -ENOENT);
    rlog_close(log);
    log = open_ok(f, 300, NULL);
    assert_int_equal(f->warns, 0);
    assert_int_equal(rlog_last_index(log), 40);
    assert_int_equal(rlog_last_term(log), 5);
    assert_int_equal(rlog_durable_index(log), 40);
    for (uint64_t i = 1; i <= 40; i++) {
        check_entry(log, i, 1 + i / 10, (uint32_t)(i * 13 % 90), i);
        assert_int_equal(rlog_term_at(log, i, &t), 0);
        assert_int_equal(t, 1 + i / 10);
    }
    rlog_close(log);
}

static void rejects_bad_appends_without_writing(void **state)
{
    struct fx *f = *state;
    struct rlog *log = open_ok(f, 0, &nosync_io);
    append_one(log, 1, 2, 5, 0);
    struct raft_entry e = mk(3, 2, 4, 0); /* gap */
    assert_int_equal(rlog_append(log, &e, 1), -EINVAL);
    assert_non_null(strstr(rlog_errmsg(log), "expected 2"));
    e.index = 2;
    e.term = 1; /* term going backwards */
    assert_int_equal(rlog_append(log, &e, 1), -EINVAL);
    e.term = 2;
    e.type = 0;
    assert_int_equal(rlog_append(log, &e, 1), -EINVAL);
    e.type = RAFT_ENTRY_COMMAND;
    e.len = RLOG_ENTRY_MAX + 1;
    assert_int_equal(rlog_append(log, &e, 1), -EINVAL);
    assert_int_equal(rlog_last_index(log), 1);
    assert_false(rlog_failed(log));
    e.len = 4;
    assert_int_equal(rlog_append(log, &e, 1), 0);
    assert_int_equal(rlog_last_index(log), 2);
    free(e.data);
    rlog_close(log);
}

static void one_fdatasync_per_batch(void **state)
{
    struct fx *f = *state;
    struct faulty q = {0};
    struct rlog_io io = {&q, faulty_pwrite, faulty_sync, nosync_truncate};
    struct rlog *log = open_ok(f, 0, &io);
    q.datasyncs = 0;
    struct raft_entry b[100];
    for (int i = 0; i < 100; i++)
        b[i] = mk((uint64_t)i + 1, 1, 100, 0);
    assert_int_equal(rlog_append(log, b, 100), 0);
    assert_int_equal(q.datasyncs, 0);
    assert_int_equal(rlog_durable_index(log), 0);
    assert_int_equal(rlog_sync(log), 0);
    assert_int_equal(q.datasyncs, 1);
    assert_int_equal(rlog_durable_index(log), 100);
    for (int i = 0; i < 100; i++)
        free(b[i].data);
    rlog_close(log);
}

static void fsync_error_is_sticky(void **state)
{
    struct fx *f = *state;
    struct faulty q = {0};
    struct rlog_io io = {&q, faulty_pwrite, faulty_sync, nosync_truncate};
    struct rlog *log = open_ok(f, 0, &io);
    append_one(log, 1, 1, 10, 0);
    assert_int_equal(rlog_sync(log), 0);
    append_one(log, 2, 1, 10, 0);
    q.fail_sync = 1;
    assert_int_equal(rlog_sync(log), -EIO);
    assert_true(rlog_failed(log));
    assert_non_null(strstr(rlog_errmsg(log), "fdatasync"));
    assert_int_equal(rlog_durable_index(log), 1);
    q.fail_sync = 0; /* the disk "recovers": the log must not believe it */
    assert_int_equal(rlog_sync(log), -EIO);
    assert_int_equal(rlog_durable_index(log), 1);
    struct raft_entry e = mk(3, 1, 1, 0);
    assert_int_equal(rlog_append(log, &e, 1), -EIO);
    free(e.data);
    assert_int_equal(rlog_get(log, 1, &e), -EIO);
    assert_int_equal(rlog_truncate_suffix(log, 2), -EIO);
    assert_int_equal(rlog_drop_prefix(log, 1, 1), -EIO);
    assert_non_null(strstr(rlog_errmsg(log), "fdatasync"));
    rlog_close(log);
}

static void rollover_sync_error_is_sticky(void **state)
{
    struct fx *f = *state;
    struct faulty q = {0};
    struct rlog_io io = {&q, faulty_pwrite, faulty_sync, nosync_truncate};
    struct rlog *log = open_ok(f, 100, &io);
    append_one(log, 1, 1, 50, 0);
    q.fail_sync = 1; /* the next append must roll over, which syncs the full segment first */
    struct raft_entry e = mk(2, 1, 50, 0);
    assert_int_equal(rlog_append(log, &e, 1), -EIO);
    assert_true(rlog_failed(log));
    assert_int_equal(rlog_durable_index(log), 0);
    q.fail_sync = 0;
    assert_int_equal(rlog_append(log, &e, 1), -EIO);
    free(e.data);
    rlog_close(log);
}

static void write_error_is_sticky(void **state)
{
    struct fx *f = *state;
    struct faulty q = {0};
    struct rlog_io io = {&q, faulty_pwrite, faulty_sync, nosync_truncate};
    struct rlog *log = open_ok(f, 0, &io);
    append_one(log, 1, 1, 10, 0);
    q.fail_write = 1;
    struct raft_entry e = mk(2, 1, 10, 0);
    assert_int_equal(rlog_append(log, &e, 1), -EIO);
    assert_non_null(strstr(rlog_errmsg(log), "No space"));
    q.fail_write = 0;
    assert_int_equal(rlog_append(log, &e, 1), -EIO);
    assert_int_equal(rlog_sync(log), -EIO);
    free(e.data);
    rlog_close(log);
    /* What did reach the disk is intact on the next start. */
    log = open_ok(f, 0, &nosync_io);
    assert_int_equal(rlog_last_index(log), 1);
    check_entry(log, 1, 1, 10, 0);
    rlog_close(log);
}

/* Cuts the file at every byte of the last record (a crash mid-write), with and without a zero
 * tail: recovery must give back exactly entries 1..N-1, say where it cut, and accept a new N. */
static void crash_cut_at_every_offset(void **state)
{
    struct fx *f = *state;
    static const uint32_t sizes[] = {0, 1, 37, 300};
    const uint64_t N = 5;
    for (size_t v = 0; v < 2 * sizeof sizes / sizeof *sizes; v++) {
        size_t s = v / 2;
        /* One segment, or two records per segment so that the cut lands in the last of several. */
        uint64_t segsz = v % 2 ? RLOG_SEG_HDR_SIZE + 2 * rlog_record_size(sizes[s]) + 1 : 0;
        rm_dir_files(f->dir);
        struct rlog *log = open_ok(f, segsz, &nosync_io);
        for (uint64_t i = 1; i <= N; i++)
            append_one(log, i, i, sizes[s], i);
        assert_int_equal(rlog_sync(log), 0);
        rlog_close(log);
        assert_int_equal(count_segments(f), v % 2 ? 3 : 1);
        char path[400];
        for (uint64_t first = N; first >= 1; first--) {
            seg_path(f, first, path, sizeof path);
            if (access(path, F_OK) == 0)
                break;
        }
        uint8_t *good;
        size_t size = slurp(path, &good);
        size_t start = size - rlog_record_size(sizes[s]);
        for (size_t cut = start; cut < size; cut++) {
            for (int zeros = 0; zeros < 2; zeros++) {
                uint8_t *img = calloc(1, size);
                memcpy(img, good, cut);
                spit(path, img, zeros ? size : cut);
                free(img);
                f->warns = 0;
                log = open_ok(f, segsz, &nosync_io);
                assert_int_equal(rlog_last_index(log), N - 1);
                assert_int_equal(rlog_durable_index(log), N - 1);
                if (cut == start && !zeros) {
                    assert_int_equal(f->warns, 0); /* a clean record boundary */
                } else {
                    assert_int_equal(f->warns, 1);
                    char want[600];
                    snprintf(want, sizeof want,
                             "truncated torn tail at index %llu (file %s offset %zu)",
                             (unsigned long long)N, path, start);
                    if (strstr(f->warn, want) == NULL)
                        fail_msg("cut %zu: warning \"%s\" lacks \"%s\"", cut, f->warn, want);
                }
                for (uint64_t i = 1; i < N; i++)
                    check_entry(log, i, i, sizes[s], i);
                rlog_close(log);
            }
        }
        /* The cut is final: a reopen is clean and a new entry N takes the old one's place. */
        f->warns = 0;
        log = open_ok(f, segsz, &nosync_io);
        assert_int_equal(f->warns, 0);
        append_one(log, N, N + 1, sizes[s] + 3, 99);
        assert_int_equal(rlog_sync(log), 0);
        rlog_close(log);
        log = open_ok(f, segsz, &nosync_io);
        assert_int_equal(f->warns, 0);
        check_entry(log, N, N + 1, sizes[s] + 3, 99);
        rlog_close(log);
        free(good);
    }
}

/* Flips one byte at every offset of every segment. Damage to the last record of the last segment
 * is indistinguishable from a torn write and is cut with a warning; anything else must stop the
 * open with the file named. Nothing is ever accepted silently. */
static void flipped_byte_anywhere_is_detected(void **state)
{
    struct fx *f = *state;
    const uint64_t N = 10;
    const uint32_t len = 20;
    struct rlog *log = open_ok(f, 150, &nosync_io);
    for (uint64_t i = 1; i <= N; i++)
        append_one(log, i, 1 + i / 4, len, i);
    assert_int_equal(rlog_sync(log), 0);
    rlog_close(log);
    uint64_t firsts[16];
    int nf = 0;
    for (uint64_t i = 1; i <= N; i++) {
        char path[400];
        seg_path(f, i, path, sizeof path);
        if (access(path, F_OK) == 0)
            firsts[nf++] = i;
    }
    assert_true(nf >= 3);
    for (int k = 0; k < nf; k++) {
        char path[400];
        seg_path(f, firsts[k], path, sizeof path);
        uint8_t *good;
        size_t size = slurp(path, &good);
        size_t last_rec = size - rlog_record_size(len);
        for (size_t o = 0; o < size; o++) {
            good[o] ^= 0x5a;
            spit(path, good, size);
            good[o] ^= 0x5a;
            f->warns = 0;
            int rc = open_rc(f, 150, &log);
            if (k == nf - 1 && o >= last_rec) {
                if (rc != 0)
                    fail_msg("flip in last record at %s+%zu refused: %s", path, o, f->err);
                assert_int_equal(f->warns, 1);
                assert_int_equal(rlog_last_index(log), N - 1);
                for (uint64_t i = 1; i < N; i++)
                    check_entry(log, i, 1 + i / 4, len, i);
                rlog_close(log);
            } else {
                if (rc == 0)
                    fail_msg("flip at %s+%zu accepted (last %llu)", path, o,
                             (unsigned long long)rlog_last_index(log));
                assert_non_null(strstr(f->err, path + strlen(f->dir) + 1));
                if (o >= RLOG_SEG_HDR_SIZE)
                    assert_non_null(strstr(f->err, "offset"));
            }
        }
        spit(path, good, size);
        free(good);
    }
    log = open_ok(f, 150, &nosync_io);
    assert_int_equal(rlog_last_index(log), N);
    rlog_close(log);
}

static void gaps_foreign_and_future_files_refused(void **state)
{
    struct fx *f = *state;
    struct rlog *log = open_ok(f, 100, &nosync_io);
    for (uint64_t i = 1; i <= 9; i++)
        append_one(log, i, 1, 30, i);
    assert_int_equal(rlog_sync(log), 0);
    rlog_close(log);
    char p1[400], p2[400];
    seg_path(f, 1, p1, sizeof p1);
    uint8_t *first;
    size_t n1 = slurp(p1, &first);
    /* A missing middle segment is a gap. */
    seg_path(f, 2, p2, sizeof p2);
    uint8_t *second;
    size_t n2 = slurp(p2, &second);
    unlink(p2);
    assert_int_equal(open_rc(f, 100, &log), -EIO);
    assert_non_null(strstr(f->err, "00000000000000000003.seg starts at index 3"));
    spit(p2, second, n2);
    /* A missing first segment without a compaction marker. */
    unlink(p1);
    assert_int_equal(open_rc(f, 100, &log), -EIO);
    assert_non_null(strstr(f->err, "no compaction point"));
    /* A foreign file under a segment name. */
    spit(p1, (const uint8_t *)"SQLite format 3\0 and then some more bytes", 40);
    assert_int_equal(open_rc(f, 100, &log), -EINVAL);
    assert_non_null(strstr(f->err, "not a tribune log segment"));
    /* A future format version. */
    uint8_t *img = malloc(n1);
    memcpy(img, first, n1);
    codec_store_u32(img + 8, 2);
    codec_store_u32(img + 24, crc32c(0, img, 24));
    spit(p1, img, n1);
    assert_int_equal(open_rc(f, 100, &log), -EINVAL);
    assert_non_null(strstr(f->err, "version 2"));
    /* A header whose first index disagrees with its name. */
    seg_path(f, 2, p2, sizeof p2);
    spit(p1, first, n1);
    memcpy(img, second, RLOG_SEG_HDR_SIZE);
    rlog_seg_header_encode(img, 5);
    memcpy(img + RLOG_SEG_HDR_SIZE, second + RLOG_SEG_HDR_SIZE, n2 - RLOG_SEG_HDR_SIZE);
    spit(p2, img, n2);
    assert_int_equal(open_rc(f, 100, &log), -EIO);
    assert_non_null(strstr(f->err, "header says first index 5"));
    spit(p2, second, n2);
    /* Crash debris from a segment creation is removed; the log opens whole. */
    char tmp[420];
    snprintf(tmp, sizeof tmp, "%s/00000000000000000010.seg.tmp", f->dir);
    spit(tmp, (const uint8_t *)"junk", 4);
    assert_int_equal(open_rc(f, 100, &log), 0);
    assert_int_equal(rlog_last_index(log), 9);
    assert_int_equal(access(tmp, F_OK), -1);
    rlog_close(log);
    /* Two processes on one directory. */
    assert_int_equal(open_rc(f, 100, &log), 0);
    struct rlog *other;
    assert_int_equal(open_rc(f, 100, &other), -EBUSY);
    rlog_close(log);
    free(img);
    free(first);
    free(second);
}

static void truncate_and_drop_prefix_basics(void **state)
{
    struct fx *f = *state;
    struct rlog *log = open_ok(f, 120, &nosync_io);
    for (uint64_t i = 1; i <= 20; i++)
        append_one(log, i, 1 + i / 5, 10, i);
    assert_int_equal(rlog_truncate_suffix(log, 13), 0);
    assert_int_equal(rlog_last_index(log), 12);
    assert_int_equal(rlog_durable_index(log), 12); /* contract (2): truncation syncs */
    append_one(log, 13, 9, 11, 1000);
    assert_int_equal(rlog_drop_prefix(log, 6, 99), -EINVAL); /* wrong term */
    assert_int_equal(rlog_truncate_suffix(log, 0), -EINVAL);
    assert_int_equal(rlog_drop_prefix(log, 6, 2), 0);
    assert_int_equal(rlog_first_index(log), 7);
    uint64_t t;
    assert_int_equal(rlog_term_at(log, 6, &t), 0);
    assert_int_equal(t, 2);
    assert_int_equal(rlog_term_at(log, 5, &t), -ENOENT);
    struct raft_entry e;
    assert_int_equal(rlog_get(log, 6, &e), -ENOENT);
    assert_int_equal(rlog_truncate_suffix(log, 6), -EINVAL); /* into the snapshot */
    assert_int_equal(rlog_sync(log), 0);
    rlog_close(log);
    log = open_ok(f, 120, &nosync_io);
    assert_int_equal(rlog_first_index(log), 7);
    assert_int_equal(rlog_last_index(log), 13);
    assert_int_equal(rlog_term_at(log, 6, &t), 0);
    assert_int_equal(t, 2);
    check_entry(log, 7, 2, 10, 7);
    check_entry(log, 13, 9, 11, 1000);
    /* A snapshot past the end (InstallSnapshot) empties the log. */
    assert_int_equal(rlog_drop_prefix(log, 50, 11), 0);
    assert_int_equal(rlog_first_index(log), 51);
    assert_int_equal(rlog_last_index(log), 50);
    assert_int_equal(rlog_last_term(log), 11);
    assert_int_equal(count_segments(f), 0);
    append_one(log, 51, 11, 5, 51);
    rlog_close(log);
    log = open_ok(f, 120, &nosync_io);
    assert_int_equal(rlog_first_index(log), 51);
    assert_int_equal(rlog_last_index(log), 51);
    check_entry(log, 51, 11, 5, 51);
    rlog_close(log);
}

/* A snapshot that conflicts with the local log replaces it outright, even below its end. */
static void reset_replaces_the_log(void **state)
{
    struct fx *f = *state;
    struct rlog *log = open_ok(f, 100, &nosync_io);
    for (uint64_t i = 1; i <= 10; i++)
        append_one(log, i, 2, 30, i);
    assert_int_equal(rlog_reset(log, 6, 3), 0);
    assert_int_equal(rlog_first_index(log), 7);
    assert_int_equal(rlog_last_index(log), 6);
    assert_int_equal(rlog_last_term(log), 3);
    assert_int_equal(rlog_durable_index(log), 6);
    assert_int_equal(count_segments(f), 0);
    struct raft_entry e;
    assert_int_equal(rlog_get(log, 7, &e), -ENOENT);
    append_one(log, 7, 3, 4, 77);
    assert_int_equal(rlog_sync(log), 0);
    rlog_close(log);
    log = open_ok(f, 100, &nosync_io);
    assert_int_equal(rlog_first_index(log), 7);
    assert_int_equal(rlog_last_index(log), 7);
    uint64_t t;
    assert_int_equal(rlog_term_at(log, 6, &t), 0);
    assert_int_equal(t, 3);
    check_entry(log, 7, 3, 4, 77);
    rlog_close(log);
}

/* A crash between writing log-meta and deleting old segments leaves segments the marker covers:
 * recovery must finish the deletion rather than resurrect or reject them. */
static void drop_prefix_interrupted_is_finished(void **state)
{
    struct fx *f = *state;
    struct rlog *log = open_ok(f, 100, &nosync_io);
    for (uint64_t i = 1; i <= 12; i++)
        append_one(log, i, 3, 30, i);
    rlog_close(log);
    int before = count_segments(f);
    uint8_t b[36];
    memcpy(b, "TRBNLMET", 8);
    codec_store_u32(b + 8, 1);
    codec_store_u32(b + 12, 0);
    codec_store_u64(b + 16, 7);
    codec_store_u64(b + 24, 3);
    codec_store_u32(b + 32, crc32c(0, b, 32));
    char p[400];
    snprintf(p, sizeof p, "%s/log-meta", f->dir);
    spit(p, b, sizeof b);
    log = open_ok(f, 100, &nosync_io);
    if (log == NULL)
        fail_msg("%s", f->err);
    assert_int_equal(rlog_first_index(log), 8);
    assert_int_equal(rlog_last_index(log), 12);
    assert_true(count_segments(f) < before);
    check_entry(log, 8, 3, 30, 8);
    rlog_close(log);
    /* And a marker whose term contradicts the entry it names is corruption. */
    codec_store_u64(b + 16, 8);
    codec_store_u64(b + 24, 4);
    codec_store_u32(b + 32, crc32c(0, b, 32));
    spit(p, b, sizeof b);
    assert_int_equal(open_rc(f, 100, &log), -EIO);
    assert_non_null(strstr(f->err, "log-meta"));
    /* Entries after the compaction point cannot have a lower term than it. */
    codec_store_u64(b + 16, 7);
    codec_store_u64(b + 24, 5);
    codec_store_u32(b + 32, crc32c(0, b, 32));
    spit(p, b, sizeof b);
    assert_int_equal(open_rc(f, 100, &log), -EIO);
    assert_non_null(strstr(f->err, "below the term 5"));
    b[20] ^= 1;
    spit(p, b, sizeof b);
    assert_int_equal(open_rc(f, 100, &log), -EIO);
    assert_non_null(strstr(f->err, "log-meta: corrupt"));
}

/* ---- random operation sequences against a model ---- */

struct model {
    uint64_t prefix, prefix_term, last;
    uint64_t *term, *salt;
    uint32_t *len;
    size_t cap;
};

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void model_grow(struct model *m, uint64_t idx)
{
    while (idx >= m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        m->term = realloc(m->term, cap * sizeof *m->term);
        m->salt = realloc(m->salt, cap * sizeof *m->salt);
        m->len = realloc(m->len, cap * sizeof *m->len);
        m->cap = cap;
    }
}

static uint64_t model_last_term(const struct model *m)
{
    return m->last > m->prefix ? m->term[m->last] : m->prefix_term;
}

static void model_check(struct rlog *log, const struct model *m, int full, uint64_t *rs)
{
    assert_int_equal(rlog_first_index(log), m->prefix + 1);
    assert_int_equal(rlog_last_index(log), m->last);
    assert_int_equal(rlog_last_term(log), model_last_term(m));
    uint64_t t;
    assert_int_equal(rlog_term_at(log, m->prefix, &t), 0);
    assert_int_equal(t, m->prefix_term);
    for (uint64_t i = m->prefix + 1; i <= m->last; i++) {
        assert_int_equal(rlog_term_at(log, i, &t), 0);
        assert_int_equal(t, m->term[i]);
    }
    assert_int_equal(rlog_term_at(log, m->last + 1, &t), -ENOENT);
    if (m->last > m->prefix) {
        uint64_t n = m->last - m->prefix;
        for (int k = 0; k < (full ? (int)n : 3); k++) {
            uint64_t i = full ? m->prefix + 1 + (uint64_t)k : m->prefix + 1 + rnd(rs) % n;
            check_entry(log, i, m->term[i], m->len[i], m->salt[i]);
        }
    }
    struct raft_entry e;
    assert_int_equal(rlog_get(log, m->last + 1, &e), -ENOENT);
    if (m->prefix)
        assert_int_equal(rlog_get(log, m->prefix, &e), -ENOENT);
}

static void model_run(struct fx *f, uint64_t seed, int ops)
{
    rm_dir_files(f->dir);
    uint64_t rs = seed * 0x9e3779b97f4a7c15ull + 1;
    uint64_t segsz = 100 + rnd(&rs) % 900;
    struct model m = {0};
    model_grow(&m, 1);
    m.term[0] = 0;
    struct rlog *log = open_ok(f, segsz, &nosync_io);
    uint64_t maxterm = 1;
    for (int op = 0; op < ops; op++) {
        uint64_t r = rnd(&rs) % 100;
        if (r < 45) {
            size_t n = 1 + rnd(&rs) % 8;
            struct raft_entry b[8];
            uint64_t term = model_last_term(&m) > maxterm ? model_last_term(&m) : maxterm;
            if (rnd(&rs) % 6 == 0)
                term = ++maxterm;
            model_grow(&m, m.last + n + 1);
            for (size_t i = 0; i < n; i++) {
                uint64_t idx = m.last + 1 + i;
                uint32_t len = (uint32_t)(rnd(&rs) % 4 == 0 ? rnd(&rs) % 400 : rnd(&rs) % 40);
                b[i] = mk(idx, term, len, (uint64_t)op);
                m.term[idx] = term;
                m.len[idx] = len;
                m.salt[idx] = (uint64_t)op;
            }
            assert_int_equal(rlog_append(log, b, n), 0);
            m.last += n;
            for (size_t i = 0; i < n; i++)
                free(b[i].data);
        } else if (r < 58) {
            assert_int_equal(rlog_sync(log), 0);
            assert_int_equal(rlog_durable_index(log), m.last);
        } else if (r < 68) {
            uint64_t from = m.prefix + 1 + rnd(&rs) % (m.last - m.prefix + 1);
            assert_int_equal(rlog_truncate_suffix(log, from), 0);
            if (from <= m.last) {
                m.last = from - 1;
                assert_int_equal(rlog_durable_index(log), m.last);
            }
        } else if (r < 76) {
            uint64_t upto = m.prefix + rnd(&rs) % (m.last - m.prefix + 1);
            uint64_t t = upto == m.prefix ? m.prefix_term : m.term[upto];
            assert_int_equal(rlog_drop_prefix(log, upto, t), 0);
            if (upto > m.prefix) {
                m.prefix = upto;
                m.prefix_term = t;
            }
        } else if (r < 79) {
            int reset = rnd(&rs) % 2;
            uint64_t upto = reset ? m.prefix + rnd(&rs) % (m.last - m.prefix + 3)
                                  : m.last + 1 + rnd(&rs) % 3;
            uint64_t t = ++maxterm;
            if (reset)
                assert_int_equal(rlog_reset(log, upto, t), 0);
            else
                assert_int_equal(rlog_drop_prefix(log, upto, t), 0);
            m.prefix = m.last = upto;
            m.prefix_term = t;
            model_grow(&m, upto + 1);
        } else if (r < 88) {
            rlog_close(log);
            log = open_ok(f, segsz, &nosync_io);
            model_check(log, &m, 1, &rs);
        } else {
            /* Refused calls change nothing. */
            struct raft_entry e = mk(m.last + 2, maxterm, 3, 0);
            assert_int_equal(rlog_append(log, &e, 1), -EINVAL);
            free(e.data);
            if (m.prefix > 0)
                assert_int_equal(rlog_truncate_suffix(log, m.prefix), -EINVAL);
            if (m.last > m.prefix)
                assert_int_equal(rlog_drop_prefix(log, m.last, m.term[m.last] + 1), -EINVAL);
            assert_false(rlog_failed(log));
        }
        model_check(log, &m, 0, &rs);
    }
    rlog_close(log);
    log = open_ok(f, segsz, &nosync_io);
    model_check(log, &m, 1, &rs);
    rlog_close(log);
    free(m.term);
    free(m.salt);
    free(m.len);
}

static void random_ops_match_model(void **state)
{
    struct fx *f = *state;
    for (uint64_t seed = 1; seed <= MODEL_SEEDS; seed++)
        model_run(f, seed, 400);
}

/* Crashes that lose everything not yet synced (keeping a random prefix of the pending writes, the
 * last one torn): the recovered log always holds every entry that was durable, holds only entries
 * that were appended, and never brings back a durably truncated one. */
static void crashes_lose_only_unsynced_entries(void **state)
{
    struct fx *f = *state;
    int crashes = 0, lost = 0;
    f->warns = 0;
    for (uint64_t seed = 1; seed <= CRASH_SEEDS; seed++) {
        rm_dir_files(f->dir);
        uint64_t rs = seed * 0x2545f4914f6cdd1dull + 7;
        uint64_t segsz = 120 + rnd(&rs) % 600;
        struct vcache vc = {0};
        struct rlog_io io = vc_io_tmpl;
        io.ctx = &vc;
        struct model m = {0};
        model_grow(&m, 1);
        struct rlog *log = open_ok(f, segsz, &io);
        uint64_t maxterm = 1;
        for (int op = 0; op < 150; op++) {
            uint64_t r = rnd(&rs) % 100;
            if (r < 50) {
                size_t n = 1 + rnd(&rs) % 6;
                struct raft_entry b[6];
                if (rnd(&rs) % 5 == 0)
                    maxterm++;
                model_grow(&m, m.last + n + 1);
                for (size_t i = 0; i < n; i++) {
                    uint64_t idx = m.last + 1 + i;
                    uint32_t len = (uint32_t)(rnd(&rs) % 120);
                    b[i] = mk(idx, maxterm, len, (uint64_t)op + seed * 1000);
                    m.term[idx] = maxterm;
                    m.len[idx] = len;
                    m.salt[idx] = (uint64_t)op + seed * 1000;
                }
                assert_int_equal(rlog_append(log, b, n), 0);
                m.last += n;
                for (size_t i = 0; i < n; i++)
                    free(b[i].data);
            } else if (r < 65) {
                assert_int_equal(rlog_sync(log), 0);
            } else if (r < 75) {
                uint64_t from = m.prefix + 1 + rnd(&rs) % (m.last - m.prefix + 1);
                assert_int_equal(rlog_truncate_suffix(log, from), 0);
                if (from <= m.last)
                    m.last = from - 1;
            } else if (r < 78) {
                uint64_t upto = m.prefix + rnd(&rs) % (m.last - m.prefix + 1);
                uint64_t t = upto == m.prefix ? m.prefix_term : m.term[upto];
                assert_int_equal(rlog_drop_prefix(log, upto, t), 0);
                m.prefix = upto;
                m.prefix_term = t;
            } else if (r < 80) {
                uint64_t upto = m.prefix + rnd(&rs) % (m.last - m.prefix + 3);
                uint64_t t = ++maxterm;
                assert_int_equal(rlog_reset(log, upto, t), 0);
                m.prefix = m.last = upto;
                m.prefix_term = t;
                model_grow(&m, upto + 1);
            } else {
                uint64_t durable = rlog_durable_index(log);
                size_t keep = vc.n ? rnd(&rs) % (vc.n + 1) : 0;
                size_t torn = keep < vc.n ? rnd(&rs) % (vc.v[keep].len + 1) : 0;
                vc_crash(&vc, keep, torn, (int)(rnd(&rs) % 2));
                rlog_close(log);
                struct rlog_opts o = {segsz, &io};
                int rc = rlog_open(f->dir, &o, &f->lg, &log, f->err, sizeof f->err);
                if (rc != 0)
                    fail_msg("seed %llu op %d: recovery failed: %s", (unsigned long long)seed, op,
                             f->err);
                uint64_t got = rlog_last_index(log);
                if (got < durable || got > m.last)
                    fail_msg(
                        "seed %llu op %d: recovered last %llu, durable was %llu, appended %llu",
                        (unsigned long long)seed, op, (unsigned long long)got,
                        (unsigned long long)durable, (unsigned long long)m.last);
                crashes++;
                lost += got < m.last;
                m.last = got;
                model_check(log, &m, 1, &rs);
            }
        }
        assert_int_equal(rlog_sync(log), 0);
        vc_crash(&vc, vc.n, 0, 0); /* what is left is for files already unlinked */
        rlog_close(log);
        log = open_ok(f, segsz, &nosync_io);
        model_check(log, &m, 1, &rs);
        rlog_close(log);
        free(vc.v);
        free(m.term);
        free(m.salt);
        free(m.len);
    }
    print_message("crashes %d, with lost entries %d, torn tails cut %d\n", crashes, lost, f->warns);
    /* The scenario must really exercise lost and torn writes, not only clean shutdowns. */
    assert_true(crashes > 50);
    assert_true(lost > 10);
    assert_true(f->warns > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codec_round_trip_and_limits),
        cmocka_unit_test_setup_teardown(append_get_reopen_across_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(rejects_bad_appends_without_writing, setup, teardown),
        cmocka_unit_test_setup_teardown(one_fdatasync_per_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(fsync_error_is_sticky, setup, teardown),
        cmocka_unit_test_setup_teardown(rollover_sync_error_is_sticky, setup, teardown),
        cmocka_unit_test_setup_teardown(write_error_is_sticky, setup, teardown),
        cmocka_unit_test_setup_teardown(crash_cut_at_every_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(flipped_byte_anywhere_is_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(gaps_foreign_and_future_files_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(truncate_and_drop_prefix_basics, setup, teardown),
        cmocka_unit_test_setup_teardown(reset_replaces_the_log, setup, teardown),
        cmocka_unit_test_setup_teardown(drop_prefix_interrupted_is_finished, setup, teardown),
        cmocka_unit_test_setup_teardown(random_ops_match_model, setup, teardown),
        cmocka_unit_test_setup_teardown(crashes_lose_only_unsynced_entries, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
