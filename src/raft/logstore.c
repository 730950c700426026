/* logstore.c — the durable Raft log: segment files named by first index, an in-memory offset
 * index for O(1) reads, batched fdatasync, recovery, suffix truncation and prefix compaction. */

/* Invariants (numbered to match the comments below):
 * (a) Every segment except the last is complete and fsynced: rollover syncs the old segment before
 *     the new one exists, so recovery may treat any damage outside the last segment as fatal.
 * (b) A segment file appears under its final name only with a valid, fsynced header (it is built
 *     as NAME.tmp, then renamed and the directory fsynced).
 * (c) ents[] holds exactly the entries prefix_index+1 .. prefix_index+nents, contiguous.
 * (d) log-meta is written before segments below the compaction point are deleted, so a crash in
 *     between leaves segments that recovery recognises as covered and deletes again.
 * (e) Suffix truncation unlinks whole segments (highest first, then a directory fsync) before it
 *     cuts the segment holding from_index, so a crash can never leave a gap. */
#include "raft/logstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "raft/logrec.h"
#include "raft/meta.h"

#define SEG_NAME_LEN 24 /* "%020llu.seg" */

struct seg {
    uint64_t seq;   /* position key: segs[i].seq == segs[0].seq + i */
    uint64_t first; /* index of its first record (from name and header) */
    int fd;
    uint64_t size;  /* bytes written, header included */
    int dirty;      /* written since the last sync */
    char name[SEG_NAME_LEN + 1];
};

struct ent {
    uint64_t term;
    uint64_t off; /* of the record header within its segment */
    uint32_t seq; /* low 32 bits of the segment's seq */
    uint32_t len;
};

struct rlog {
    char *dir;
    int dirfd;
    const struct logger *lg;
    struct rlog_io io;
    uint64_t seg_max;
    struct seg *segs;
    size_t nsegs, capsegs;
    uint64_t next_seq;
    struct ent *ents;
    size_t nents, capents;
    uint64_t prefix_index, prefix_term;
    uint64_t durable;
    int failed;
    char err[RLOG_ERRMAX];
    struct buf wbuf;
};

static ssize_t sys_pwrite(void *ctx, int fd, const void *buf, size_t len, off_t off)
{
    (void)ctx;
    return pwrite(fd, buf, len, off);
}

static int sys_sync(void *ctx, int fd, int datasync)
{
    (void)ctx;
    return datasync ? fdatasync(fd) : fsync(fd);
}

static int sys_truncate(void *ctx, int fd, off_t len)
{
    (void)ctx;
    return ftruncate(fd, len);
}

static const struct rlog_io sys_io = {NULL, sys_pwrite, sys_sync, sys_truncate};

static int seterr(struct rlog *log, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int seterr(struct rlog *log, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(log->err, sizeof log->err, fmt, ap);
    va_end(ap);
    return code;
}

/* Enters FAILED (contract (3) in logstore.h): the message is kept for every later call. */
static int fail(struct rlog *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct rlog *log, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(log->err, sizeof log->err, fmt, ap);
    va_end(ap);
    log->failed = 1;
    log_printf(log->lg, LOG_ERR, "raft", "log store failed: %s", log->err);
    return -EIO;
}

static int write_all(struct rlog *log, int fd, const uint8_t *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t w = log->io.pwrite(log->io.ctx, fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static int read_all(int fd, uint8_t *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = ENODATA; /* shorter than the index says: the file changed under us */
            return -1;
        }
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

static int mkdir_p(const char *dir)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0700) == 0) {
            /* A new directory's own name lives in its parent: unless the parent is synced, a power
             * failure can lose the whole data directory along with everything synced inside it. */
            char *slash = strrchr(path, '/');
            const char *parent = slash == NULL ? "." : slash == path ? "/" : path;
            if (slash != NULL && slash != path)
                *slash = '\0';
            int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            int rc = fd < 0 ? -1 : fsync(fd);
            if (fd >= 0)
                close(fd);
            if (slash != NULL && slash != path)
                *slash = '/';
            if (rc != 0)
                return -1;
        } else if (errno != EEXIST) {
            return -1;
        }
        path[i] = c;
    }
    return 0;
}

static uint64_t last_index(const struct rlog *log)
{
    return log->prefix_index + log->nents;
}

static struct ent *ent_at(const struct rlog *log, uint64_t index)
{
    return &log->ents[index - log->prefix_index - 1];
}

static struct seg *seg_of(const struct rlog *log, const struct ent *e)
{
    /* seq is stored truncated to 32 bits; the distance from the first live segment is what counts,
     * and fewer than 2^32 segments are ever alive at once. */
    uint32_t d = e->seq - (uint32_t)log->segs[0].seq;
    return &log->segs[d];
}

static int ents_reserve(struct rlog *log, size_t extra)
{
    if (log->capents - log->nents >= extra)
        return 0;
    size_t cap = log->capents ? log->capents : 1024;
    while (cap - log->nents < extra)
        cap *= 2;
    struct ent *p = realloc(log->ents, cap * sizeof *p);
    if (p == NULL)
        return -1;
    log->ents = p;
    log->capents = cap;
    return 0;
}

static int segs_push(struct rlog *log, const struct seg *s)
{
    if (log->nsegs == log->capsegs) {
        size_t cap = log->capsegs ? log->capsegs * 2 : 8;
        struct seg *p = realloc(log->segs, cap * sizeof *p);
        if (p == NULL)
            return -1;
        log->segs = p;
        log->capsegs = cap;
    }
    log->segs[log->nsegs++] = *s;
    return 0;
}

/* ---- log-meta: the compaction marker ---- */

static int log_meta_load(struct rlog *log, char *err, size_t errlen)
{
    uint8_t b[4 * RLOG_META_SIZE]; /* room to recognise a foreign file before judging its size */
    long n = raft_meta_read(log->dir, RLOG_META_FILE, b, sizeof b, err, errlen);
    if (n == -2)
        return 0;
    if (n < 0)
        return -EIO;
    uint32_t version = 0;
    switch (rlog_meta_decode(b, (size_t)n, &log->prefix_index, &log->prefix_term, &version)) {
    case RLOG_HDR_OK:
        return 0;
    case RLOG_HDR_MAGIC:
        snprintf(err, errlen, "%s/%s: not a tribune log-meta file (bad magic)", log->dir,
                 RLOG_META_FILE);
        return -EINVAL;
    case RLOG_HDR_VERSION:
        snprintf(err, errlen, "%s/%s: format version %u, this build reads only %u", log->dir,
                 RLOG_META_FILE, version, RLOG_FORMAT_VERSION);
        return -EINVAL;
    default:
        snprintf(err, errlen, "%s/%s: corrupt (%ld bytes, or checksum); the compaction point is "
                 "unknown", log->dir, RLOG_META_FILE, n);
        return -EIO;
    }
}

static int log_meta_save(struct rlog *log, uint64_t index, uint64_t term)
{
    uint8_t b[RLOG_META_SIZE];
    rlog_meta_encode(b, index, term);
    /* The same atomic replace as raft_meta_replace, but through log->io so that tests can fault
     * it and run without paying for real fsyncs. */
    const char *tmp = RLOG_META_FILE ".tmp";
    int fd = openat(log->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(log, "create %s/%s: %s", log->dir, tmp, strerror(errno));
    const char *what = NULL;
    if (write_all(log, fd, b, sizeof b, 0) != 0)
        what = "write";
    else if (log->io.sync(log->io.ctx, fd, 0) != 0)
        what = "fsync";
    else if (renameat(log->dirfd, tmp, log->dirfd, RLOG_META_FILE) != 0)
        what = "rename";
    else if (log->io.sync(log->io.ctx, log->dirfd, 0) != 0)
        what = "fsync directory for";
    int e = errno;
    close(fd);
    if (what != NULL)
        return fail(log, "saving compaction point: %s %s/%s: %s", what, log->dir, tmp, strerror(e));
    return 0;
}

/* ---- recovery ---- */

struct load_ctx {
    struct rlog *log;
    uint64_t seq;
    uint64_t term_at_prefix; /* term of the record at prefix_index, if this segment holds it */
    int saw_prefix;
    uint64_t last_term; /* of the last valid record seen in any segment */
    int oom;
};

static int load_record(void *ctx, const struct raft_entry *e, size_t off)
{
    struct load_ctx *c = ctx;
    struct rlog *log = c->log;
    c->last_term = e->term;
    if (e->index == log->prefix_index) {
        c->saw_prefix = 1;
        c->term_at_prefix = e->term;
    }
    /* Records at or below the compaction point are verified but not indexed (invariant (c)). */
    if (e->index <= log->prefix_index)
        return 0;
    if (ents_reserve(log, 1) != 0) {
        c->oom = 1;
        return -1;
    }
    log->ents[log->nents++] = (struct ent){e->term, off, (uint32_t)c->seq, e->len};
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int parse_seg_name(const char *name, uint64_t *first)
{
    if (strlen(name) != SEG_NAME_LEN || strcmp(name + 20, ".seg") != 0)
        return -1;
    uint64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
        uint64_t d = (uint64_t)(name[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *first = v;
    return 0;
}

/* Lists segment names in index order, removing the debris of segment creations a crash
 * interrupted (invariant (b)). */
static int list_segments(struct rlog *log, uint64_t **out, size_t *n, char *err, size_t errlen)
{
    DIR *d = fdopendir(dup(log->dirfd));
    if (d == NULL) {
        snprintf(err, errlen, "list %s: %s", log->dir, strerror(errno));
        return -EIO;
    }
    uint64_t *v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        size_t len = strlen(nm);
        if (len > 8 && strcmp(nm + len - 8, ".seg.tmp") == 0) {
            if (unlinkat(log->dirfd, nm, 0) != 0) {
                snprintf(err, errlen, "remove %s/%s: %s", log->dir, nm, strerror(errno));
                rc = -EIO;
                break;
            }
            log_printf(log->lg, LOG_INFO, "raft", "log recovery: removed unfinished segment %s",
                       nm);
            continue;
        }
        uint64_t first;
        if (parse_seg_name(nm, &first) != 0)
            continue;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *p = realloc(v, cap * sizeof *p);
            if (p == NULL) {
                snprintf(err, errlen, "out of memory listing %s", log->dir);
                rc = -ENOMEM;
                break;
            }
            v = p;
        }
        v[cnt++] = first;
    }
    closedir(d);
    if (rc != 0) {
        free(v);
        return rc;
    }
    if (cnt > 1)
        qsort(v, cnt, sizeof *v, cmp_u64);
    *out = v;
    *n = cnt;
    return 0;
}

static int read_file(int fd, uint8_t **out, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -1;
    size_t n = (size_t)st.st_size;
    uint8_t *p = malloc(n ? n : 1);
    if (p == NULL)
        return -1;
    if (read_all(fd, p, n, 0) != 0) {
        free(p);
        return -1;
    }
    *out = p;
    *len = n;
    return 0;
}

static const char *hdr_reason(int hdr)
{
    switch (hdr) {
    case RLOG_HDR_SHORT: return "shorter than a segment header";
    case RLOG_HDR_MAGIC: return "not a tribune log segment (bad magic)";
    case RLOG_HDR_VERSION: return "segment format version not supported by this build";
    default: return "corrupt segment header";
    }
}

/* Opens, verifies and indexes one segment; is_last allows (only) a torn tail to be cut. */
static int load_segment(struct rlog *log, uint64_t name_first, int is_last, uint64_t *min_term,
                        struct load_ctx *lc, char *err, size_t errlen)
{
    struct seg s = {.seq = log->next_seq++, .first = name_first, .fd = -1};
    snprintf(s.name, sizeof s.name, "%020llu.seg", (unsigned long long)name_first);
    s.fd = openat(log->dirfd, s.name, O_RDWR | O_CLOEXEC);
    if (s.fd < 0) {
        snprintf(err, errlen, "open %s/%s: %s", log->dir, s.name, strerror(errno));
        return -EIO;
    }
    uint8_t *p;
    size_t len;
    if (read_file(s.fd, &p, &len) != 0) {
        snprintf(err, errlen, "read %s/%s: %s", log->dir, s.name, strerror(errno));
        close(s.fd);
        return -EIO;
    }
    lc->seq = s.seq;
    struct rlog_scan sc;
    rlog_segment_scan(p, len, *min_term, load_record, lc, &sc);
    uint32_t version = 0;
    uint64_t hdr_first;
    rlog_seg_header_decode(p, len, &hdr_first, &version);
    free(p);
    int rc = 0;
    if (sc.status == RLOG_SCAN_HEADER) {
        if (sc.hdr == RLOG_HDR_VERSION)
            snprintf(err, errlen, "%s/%s: segment format version %u, this build reads only %u; "
                     "refusing to open the log", log->dir, s.name, version, RLOG_FORMAT_VERSION);
        else
            snprintf(err, errlen, "%s/%s: %s; refusing to open the log", log->dir, s.name,
                     hdr_reason(sc.hdr));
        rc = sc.hdr == RLOG_HDR_MAGIC || sc.hdr == RLOG_HDR_VERSION ? -EINVAL : -EIO;
    } else if (sc.first_index != name_first) {
        snprintf(err, errlen, "%s/%s: header says first index %llu, name says %llu", log->dir,
                 s.name, (unsigned long long)sc.first_index, (unsigned long long)name_first);
        rc = -EIO;
    } else if (sc.status == RLOG_SCAN_ABORTED) {
        snprintf(err, errlen, "out of memory indexing %s/%s", log->dir, s.name);
        rc = -ENOMEM;
    } else if (sc.status == RLOG_SCAN_CORRUPT) {
        if (sc.resume_off)
            snprintf(err, errlen,
                     "log corrupt: %s at file %s/%s offset %zu (index %llu); valid records follow "
                     "at offset %zu, so this is not a torn tail: refusing to drop them",
                     sc.why, log->dir, s.name, sc.bad_off,
                     (unsigned long long)(sc.first_index + sc.n), sc.resume_off);
        else
            snprintf(err, errlen, "log corrupt: %s at file %s/%s offset %zu (expected index %llu)",
                     sc.why, log->dir, s.name, sc.bad_off,
                     (unsigned long long)(sc.first_index + sc.n));
        rc = -EIO;
    } else if (sc.status == RLOG_SCAN_TORN && !is_last) {
        snprintf(err, errlen,
                 "log corrupt: %s at file %s/%s offset %zu (expected index %llu) in a segment that "
                 "is not the last, which a crash cannot tear",
                 sc.why, log->dir, s.name, sc.bad_off, (unsigned long long)(sc.first_index + sc.n));
        rc = -EIO;
    } else if (sc.status == RLOG_SCAN_TORN) {
        /* fsync, not fdatasync: a shrinking size is the whole point and must not be left to
         * how a file system reads "metadata needed to retrieve the data". */
        if (log->io.truncate(log->io.ctx, s.fd, (off_t)sc.end) != 0 ||
            log->io.sync(log->io.ctx, s.fd, 0) != 0) {
            snprintf(err, errlen, "truncate torn tail of %s/%s: %s", log->dir, s.name,
                     strerror(errno));
            rc = -EIO;
        } else {
            log_printf(log->lg, LOG_WARN, "raft",
                       "log recovery: truncated torn tail at index %llu (file %s/%s offset %zu); "
                       "dropped %zu bytes: %s",
                       (unsigned long long)(sc.first_index + sc.n), log->dir, s.name, sc.end,
                       len - sc.end, sc.why);
        }
    }
    if (rc != 0) {
        close(s.fd);
        return rc;
    }
    s.size = sc.end;
    if (segs_push(log, &s) != 0) {
        close(s.fd);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (sc.n)
        *min_term = lc->last_term;
    return (int)sc.n;
}

/* Segments wholly at or below the compaction point; the last counts as ending at the log's end. */
static uint64_t seg_last_index(const struct rlog *log, size_t i)
{
    return i + 1 < log->nsegs ? log->segs[i + 1].first - 1 : last_index(log);
}

static int unlink_front_segments(struct rlog *log, uint64_t upto)
{
    size_t k = 0;
    while (k < log->nsegs && seg_last_index(log, k) <= upto &&
           (k + 1 < log->nsegs || upto >= last_index(log)))
        k++;
    for (size_t i = 0; i < k; i++) {
        close(log->segs[i].fd);
        log->segs[i].fd = -1;
        if (unlinkat(log->dirfd, log->segs[i].name, 0) != 0 && errno != ENOENT)
            return fail(log, "remove %s/%s: %s", log->dir, log->segs[i].name, strerror(errno));
    }
    if (k == 0)
        return 0;
    memmove(log->segs, log->segs + k, (log->nsegs - k) * sizeof *log->segs);
    log->nsegs -= k;
    if (log->io.sync(log->io.ctx, log->dirfd, 0) != 0)
        return fail(log, "fsync directory %s: %s", log->dir, strerror(errno));
    return 0;
}

static int recover(struct rlog *log, char *err, size_t errlen)
{
    int rc = log_meta_load(log, err, errlen);
    if (rc != 0)
        return rc;
    uint64_t *names = NULL;
    size_t n = 0;
    rc = list_segments(log, &names, &n, err, errlen);
    if (rc != 0)
        return rc;
    uint64_t min_term = 0, expect = 0;
    struct load_ctx lc = {.log = log};
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (i > 0 && names[i] != expect) {
            snprintf(err, errlen,
                     "log corrupt: %s/%020llu.seg starts at index %llu but the segment before it "
                     "ends at %llu",
                     log->dir, (unsigned long long)names[i], (unsigned long long)names[i],
                     (unsigned long long)(expect - 1));
            rc = -EIO;
            break;
        }
        int got = load_segment(log, names[i], i + 1 == n, &min_term, &lc, err, errlen);
        if (got < 0)
            rc = got;
        else
            expect = names[i] + (uint64_t)got;
    }
    if (rc == 0 && lc.oom) {
        snprintf(err, errlen, "out of memory indexing the log");
        rc = -ENOMEM;
    }
    uint64_t log_first = n ? names[0] : 0, log_last = n ? expect - 1 : 0;
    free(names);
    if (rc != 0)
        return rc;
    if (n == 0 || log_last <= log->prefix_index) {
        /* Everything on disk is covered by the snapshot (a crash came between writing log-meta
         * and deleting the segments); finish the deletion. */
        if (unlink_front_segments(log, log->prefix_index) != 0) {
            snprintf(err, errlen, "%s", log->err);
            return -EIO;
        }
    } else if (log_first > log->prefix_index + 1) {
        snprintf(err, errlen,
                 "log corrupt: the log in %s starts at index %llu but %s; entries %llu..%llu are "
                 "missing",
                 log->dir, (unsigned long long)log_first,
                 log->prefix_index ? "the compaction point (log-meta) is lower"
                                   : "there is no compaction point (log-meta)",
                 (unsigned long long)(log->prefix_index + 1), (unsigned long long)(log_first - 1));
        return -EIO;
    } else {
        if (log->prefix_index && lc.saw_prefix && lc.term_at_prefix != log->prefix_term) {
            snprintf(err, errlen,
                     "log corrupt: entry %llu has term %llu but log-meta says it was compacted at "
                     "term %llu",
                     (unsigned long long)log->prefix_index, (unsigned long long)lc.term_at_prefix,
                     (unsigned long long)log->prefix_term);
            return -EIO;
        }
        if (log->nents && log->ents[0].term < log->prefix_term) {
            snprintf(err, errlen,
                     "log corrupt: entry %llu has term %llu, below the term %llu of the compaction "
                     "point (log-meta)",
                     (unsigned long long)(log->prefix_index + 1),
                     (unsigned long long)log->ents[0].term, (unsigned long long)log->prefix_term);
            return -EIO;
        }
        if (unlink_front_segments(log, log->prefix_index) != 0) {
            snprintf(err, errlen, "%s", log->err);
            return -EIO;
        }
    }
    /* What an earlier process wrote may still sit in the page cache only (it died, the machine
     * did not): sync it now so that durable_index is honest from the start. */
    if (log->nsegs && log->io.sync(log->io.ctx, log->segs[log->nsegs - 1].fd, 1) != 0) {
        snprintf(err, errlen, "fdatasync %s/%s: %s", log->dir, log->segs[log->nsegs - 1].name,
                 strerror(errno));
        return -EIO;
    }
    log->durable = last_index(log);
    return 0;
}

int rlog_open(const char *dir, const struct rlog_opts *opts, const struct logger *lg,
              struct rlog **out, char *err, size_t errlen)
{
    struct rlog *log = calloc(1, sizeof *log);
    if (log == NULL || (log->dir = strdup(dir)) == NULL) {
        free(log);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    log->dirfd = -1;
    log->lg = lg;
    log->io = opts && opts->io ? *opts->io : sys_io;
    if (log->io.pwrite == NULL)
        log->io.pwrite = sys_pwrite;
    if (log->io.sync == NULL)
        log->io.sync = sys_sync;
    if (log->io.truncate == NULL)
        log->io.truncate = sys_truncate;
    log->seg_max = opts && opts->segment_size ? opts->segment_size : RLOG_DEFAULT_SEGMENT_SIZE;
    buf_init(&log->wbuf, 0);
    int rc = 0;
    if (mkdir_p(dir) != 0) {
        snprintf(err, errlen, "create %s: %s", dir, strerror(errno));
        rc = -EIO;
    } else if ((log->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "open %s: %s", dir, strerror(errno));
        rc = -EIO;
    } else if (flock(log->dirfd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            snprintf(err, errlen, "%s is in use by another process (locked)", dir);
            rc = -EBUSY;
        } else {
            snprintf(err, errlen, "lock %s: %s", dir, strerror(errno));
            rc = -EIO;
        }
    } else {
        rc = recover(log, err, errlen);
    }
    if (rc != 0) {
        rlog_close(log);
        return rc;
    }
    log_printf(lg, LOG_INFO, "raft", "log opened: %s, entries %llu..%llu in %zu segment(s)", dir,
               (unsigned long long)rlog_first_index(log), (unsigned long long)last_index(log),
               log->nsegs);
    *out = log;
    return 0;
}

void rlog_close(struct rlog *log)
{
    if (log == NULL)
        return;
    for (size_t i = 0; i < log->nsegs; i++)
        if (log->segs[i].fd >= 0)
            close(log->segs[i].fd);
    if (log->dirfd >= 0)
        close(log->dirfd); /* releases the flock */
    buf_free(&log->wbuf);
    free(log->segs);
    free(log->ents);
    free(log->dir);
    free(log);
}

/* ---- writing ---- */

static int flush(struct rlog *log)
{
    if (log->wbuf.len == 0)
        return 0;
    struct seg *s = &log->segs[log->nsegs - 1];
    if (write_all(log, s->fd, log->wbuf.data, log->wbuf.len, s->size) != 0)
        return fail(log, "write %s/%s at offset %llu: %s", log->dir, s->name,
                    (unsigned long long)s->size, strerror(errno));
    s->size += log->wbuf.len;
    s->dirty = 1;
    buf_clear(&log->wbuf);
    if (log->wbuf.cap > (8u << 20)) {
        buf_free(&log->wbuf); /* one huge batch should not pin its buffer forever */
        buf_init(&log->wbuf, 0);
    }
    return 0;
}

/* Starts a segment whose first record will be `first` (invariants (a) and (b)). */
static int rollover(struct rlog *log, uint64_t first)
{
    if (log->nsegs) {
        struct seg *old = &log->segs[log->nsegs - 1];
        if (old->dirty) {
            if (log->io.sync(log->io.ctx, old->fd, 1) != 0)
                return fail(log, "fdatasync %s/%s: %s", log->dir, old->name, strerror(errno));
            old->dirty = 0;
        }
        log->durable = first - 1;
    }
    /* seq stays consecutive across the live segments even after a truncation popped some. */
    uint64_t seq = log->nsegs ? log->segs[log->nsegs - 1].seq + 1 : log->next_seq++;
    struct seg s = {.seq = seq, .first = first, .size = RLOG_SEG_HDR_SIZE};
    snprintf(s.name, sizeof s.name, "%020llu.seg", (unsigned long long)first);
    char tmp[SEG_NAME_LEN + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", s.name);
    s.fd = openat(log->dirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (s.fd < 0)
        return fail(log, "create %s/%s: %s", log->dir, tmp, strerror(errno));
    uint8_t h[RLOG_SEG_HDR_SIZE];
    rlog_seg_header_encode(h, first);
    const char *what = NULL;
    if (write_all(log, s.fd, h, sizeof h, 0) != 0)
        what = "write";
    else if (log->io.sync(log->io.ctx, s.fd, 0) != 0)
        what = "fsync";
    else if (renameat(log->dirfd, tmp, log->dirfd, s.name) != 0)
        what = "rename";
    else if (log->io.sync(log->io.ctx, log->dirfd, 0) != 0)
        what = "fsync directory for";
    if (what != NULL) {
        int e = errno;
        close(s.fd);
        return fail(log, "%s %s/%s: %s", what, log->dir, tmp, strerror(e));
    }
    if (segs_push(log, &s) != 0) {
        close(s.fd);
        return fail(log, "out of memory");
    }
    return 0;
}

int rlog_append(struct rlog *log, const struct raft_entry *entries, size_t n)
{
    if (log->failed)
        return -EIO;
    uint64_t expect = last_index(log) + 1, term = rlog_last_term(log);
    for (size_t i = 0; i < n; i++) {
        const struct raft_entry *e = &entries[i];
        if (e->index != expect + i)
            return seterr(log, -EINVAL, "append: entry %zu has index %llu, expected %llu", i,
                          (unsigned long long)e->index, (unsigned long long)(expect + i));
        if (e->term < term)
            return seterr(log, -EINVAL, "append: entry %llu has term %llu, below term %llu",
                          (unsigned long long)e->index, (unsigned long long)e->term,
                          (unsigned long long)term);
        if (e->type == 0 || e->len > RLOG_ENTRY_MAX || (e->len && e->data == NULL))
            return seterr(log, -EINVAL, "append: entry %llu: type 0, or length %u invalid",
                          (unsigned long long)e->index, e->len);
        term = e->term;
    }
    if (ents_reserve(log, n) != 0)
        return seterr(log, -ENOMEM, "append: out of memory");
    for (size_t i = 0; i < n; i++) {
        const struct raft_entry *e = &entries[i];
        size_t rs = rlog_record_size(e->len);
        struct seg *cur = log->nsegs ? &log->segs[log->nsegs - 1] : NULL;
        uint64_t at = cur ? cur->size + log->wbuf.len : 0;
        if (cur == NULL || (at > RLOG_SEG_HDR_SIZE && at + rs > log->seg_max)) {
            int rc = flush(log);
            if (rc == 0)
                rc = rollover(log, e->index);
            if (rc != 0)
                return rc;
            cur = &log->segs[log->nsegs - 1];
            at = cur->size;
        }
        if (buf_reserve(&log->wbuf, rs) != 0)
            return fail(log, "append: out of memory buffering %zu bytes", rs);
        rlog_record_encode(log->wbuf.data + log->wbuf.len, e);
        log->wbuf.len += rs;
        log->ents[log->nents++] = (struct ent){e->term, at, (uint32_t)cur->seq, e->len};
    }
    return flush(log);
}

int rlog_sync(struct rlog *log)
{
    if (log->failed)
        return -EIO;
    for (size_t i = 0; i < log->nsegs; i++) {
        struct seg *s = &log->segs[i];
        if (!s->dirty)
            continue;
        if (log->io.sync(log->io.ctx, s->fd, 1) != 0)
            return fail(log, "fdatasync %s/%s: %s", log->dir, s->name, strerror(errno));
        s->dirty = 0;
    }
    log->durable = last_index(log);
    return 0;
}

int rlog_truncate_suffix(struct rlog *log, uint64_t from)
{
    if (log->failed)
        return -EIO;
    if (from <= log->prefix_index)
        return seterr(log, -EINVAL, "truncate at %llu: entries up to %llu are compacted",
                      (unsigned long long)from, (unsigned long long)log->prefix_index);
    if (from > last_index(log))
        return 0;
    uint64_t off = ent_at(log, from)->off;
    uint32_t seq = ent_at(log, from)->seq;
    int unlinked = 0;
    while (log->nsegs && log->segs[log->nsegs - 1].first >= from) {
        struct seg *s = &log->segs[log->nsegs - 1];
        close(s->fd);
        log->nsegs--;
        if (unlinkat(log->dirfd, s->name, 0) != 0)
            return fail(log, "remove %s/%s: %s", log->dir, s->name, strerror(errno));
        unlinked = 1;
    }
    if (unlinked && log->io.sync(log->io.ctx, log->dirfd, 0) != 0)
        return fail(log, "fsync directory %s: %s", log->dir, strerror(errno));
    log->nents = from - log->prefix_index - 1;
    if (log->nsegs) {
        struct seg *s = &log->segs[log->nsegs - 1];
        if ((uint32_t)s->seq == seq && off < s->size) {
            if (log->io.truncate(log->io.ctx, s->fd, (off_t)off) != 0)
                return fail(log, "truncate %s/%s to %llu: %s", log->dir, s->name,
                            (unsigned long long)off, strerror(errno));
            s->size = off;
        }
        if (log->io.sync(log->io.ctx, s->fd, 0) != 0)
            return fail(log, "fsync %s/%s: %s", log->dir, s->name, strerror(errno));
        s->dirty = 0;
    }
    log->durable = last_index(log);
    return 0;
}

int rlog_drop_prefix(struct rlog *log, uint64_t upto, uint64_t term)
{
    if (log->failed)
        return -EIO;
    if (upto <= log->prefix_index)
        return 0;
    uint64_t last = last_index(log);
    if (upto <= last && ent_at(log, upto)->term != term)
        return seterr(log, -EINVAL, "drop prefix: entry %llu has term %llu, not %llu",
                      (unsigned long long)upto, (unsigned long long)ent_at(log, upto)->term,
                      (unsigned long long)term);
    int rc = log_meta_save(log, upto, term); /* invariant (d): marker first */
    if (rc == 0)
        rc = unlink_front_segments(log, upto);
    if (rc != 0)
        return rc;
    if (upto >= last) {
        log->nents = 0;
    } else {
        size_t k = (size_t)(upto - log->prefix_index);
        memmove(log->ents, log->ents + k, (log->nents - k) * sizeof *log->ents);
        log->nents -= k;
    }
    log->prefix_index = upto;
    log->prefix_term = term;
    if (log->durable < upto)
        log->durable = upto;
    return 0;
}

int rlog_reset(struct rlog *log, uint64_t index, uint64_t term)
{
    if (log->failed)
        return -EIO;
    int unlinked = 0;
    while (log->nsegs) {
        struct seg *s = &log->segs[log->nsegs - 1];
        close(s->fd);
        log->nsegs--;
        if (unlinkat(log->dirfd, s->name, 0) != 0)
            return fail(log, "remove %s/%s: %s", log->dir, s->name, strerror(errno));
        unlinked = 1;
    }
    if (unlinked && log->io.sync(log->io.ctx, log->dirfd, 0) != 0)
        return fail(log, "fsync directory %s: %s", log->dir, strerror(errno));
    log->nents = 0;
    int rc = log_meta_save(log, index, term);
    if (rc != 0)
        return rc;
    log->prefix_index = index;
    log->prefix_term = term;
    log->durable = index;
    return 0;
}

/* ---- reading ---- */

int rlog_get(struct rlog *log, uint64_t index, struct raft_entry *out)
{
    if (log->failed)
        return -EIO;
    if (index <= log->prefix_index || index > last_index(log))
        return -ENOENT;
    const struct ent *en = ent_at(log, index);
    const struct seg *s = seg_of(log, en);
    uint8_t h[RLOG_REC_HDR_SIZE];
    if (read_all(s->fd, h, sizeof h, en->off) != 0)
        return seterr(log, -EIO, "read %s/%s offset %llu: %s", log->dir, s->name,
                      (unsigned long long)en->off, strerror(errno));
    struct raft_entry e;
    uint32_t crc;
    if (rlog_record_header_decode(h, &e, &crc) != RLOG_REC_OK || e.index != index ||
        e.term != en->term || e.len != en->len)
        return seterr(log, -EIO, "log corrupt: record header of index %llu at %s/%s offset %llu "
                      "changed since it was written", (unsigned long long)index, s->name,
                      log->dir, (unsigned long long)en->off);
    if (e.len) {
        e.data = malloc(e.len);
        if (e.data == NULL)
            return seterr(log, -ENOMEM, "out of memory reading entry %llu",
                          (unsigned long long)index);
        if (read_all(s->fd, e.data, e.len, en->off + RLOG_REC_HDR_SIZE) != 0) {
            free(e.data);
            return seterr(log, -EIO, "read %s/%s offset %llu: %s", log->dir, s->name,
                          (unsigned long long)en->off, strerror(errno));
        }
    }
    if (rlog_record_crc(h, e.data, e.len) != crc) {
        free(e.data);
        return seterr(log, -EIO, "log corrupt: checksum of index %llu at %s/%s offset %llu",
                      (unsigned long long)index, log->dir, s->name, (unsigned long long)en->off);
    }
    *out = e;
    return 0;
}

void rlog_entry_free(struct raft_entry *e)
{
    free(e->data);
    e->data = NULL;
}

uint64_t rlog_durable_index(const struct rlog *log) { return log->durable; }
uint64_t rlog_first_index(const struct rlog *log) { return log->prefix_index + 1; }
uint64_t rlog_last_index(const struct rlog *log) { return last_index(log); }

uint64_t rlog_last_term(const struct rlog *log)
{
    return log->nents ? log->ents[log->nents - 1].term : log->prefix_term;
}

int rlog_term_at(const struct rlog *log, uint64_t index, uint64_t *term)
{
    if (index == log->prefix_index) {
        *term = log->prefix_term;
        return 0;
    }
    if (index < log->prefix_index || index > last_index(log))
        return -ENOENT;
    *term = ent_at(log, index)->term;
    return 0;
}

const char *rlog_errmsg(const struct rlog *log) { return log->err; }
int rlog_failed(const struct rlog *log) { return log->failed; }
