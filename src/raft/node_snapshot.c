/* node_snapshot.c — snapshot files of the Raft node: encoding, durable save, pruning, and loading
 * the newest one that verifies (see node_snapshot.h for the format). */
#include "raft/node_snapshot.h"
#include "base/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "raft/config.h"
#include "raft/meta.h"
#include "raft/node.h"

static const char snap_magic[8] = {'T', 'R', 'B', 'N', 'S', 'N', 'A', 'P'};
#define SNAP_VERSION 1u
#define SNAP_LIST_MAX 256

int raft_snapfile_encode(const struct raft_snapshot *s, struct buf *out)
{
    size_t start = out->len;
    struct codec_wr w;
    codec_wr_init(&w, out);
    codec_put_bytes(&w, snap_magic, sizeof snap_magic);
    codec_put_u32(&w, SNAP_VERSION);
    codec_put_u32(&w, 0);
    codec_put_u64(&w, s->index);
    codec_put_u64(&w, s->term);
    size_t len_off = out->len;
    codec_put_u32(&w, 0);
    if (!codec_wr_ok(&w) || raft_config_encode(&s->config, out) != 0)
        goto fail;
    codec_patch_u32(&w, len_off, (uint32_t)(out->len - len_off - 4));
    codec_put_u32(&w, s->len);
    codec_put_bytes(&w, s->data, s->len);
    if (!codec_wr_ok(&w))
        goto fail;
    codec_put_u32(&w, crc32c(0, out->data + start, out->len - start));
    if (!codec_wr_ok(&w))
        goto fail;
    return 0;
fail:
    out->len = start;
    return -1;
}

int raft_snapfile_decode(const uint8_t *p, size_t len, struct raft_snapshot *out, char *err,
                         size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct codec_rd r;
    codec_rd_init(&r, p, len);
    const uint8_t *magic = codec_get_bytes(&r, sizeof snap_magic);
    uint32_t version = codec_get_u32(&r);
    uint32_t reserved = codec_get_u32(&r);
    uint64_t index = codec_get_u64(&r);
    uint64_t term = codec_get_u64(&r);
    uint32_t clen = codec_get_u32(&r);
    const uint8_t *cfg = codec_get_bytes(&r, clen);
    uint32_t dlen = codec_get_u32(&r);
    const uint8_t *data = codec_get_bytes(&r, dlen);
    size_t crc_off = r.off;
    uint32_t crc = codec_get_u32(&r);
    if (!codec_rd_ok(&r)) {
        snprintf(err, errlen, "truncated (%zu bytes)", len);
        return -1;
    }
    if (memcmp(magic, snap_magic, sizeof snap_magic) != 0) {
        snprintf(err, errlen, "not a tribune snapshot (bad magic)");
        return -1;
    }
    if (version != SNAP_VERSION) {
        snprintf(err, errlen, "snapshot format version %" PRIu32 ", this build reads only %u",
                 version, SNAP_VERSION);
        return -1;
    }
    if (codec_rd_remaining(&r) != 0) {
        snprintf(err, errlen, "%zu trailing bytes", codec_rd_remaining(&r));
        return -1;
    }
    if (crc32c(0, p, crc_off) != crc) {
        snprintf(err, errlen, "checksum mismatch");
        return -1;
    }
    if (reserved != 0 || index == 0 || term == 0) {
        snprintf(err, errlen, "bad header (reserved %" PRIu32 ", index %" PRIu64 ", term %" PRIu64
                 ")", reserved, index, term);
        return -1;
    }
    if (raft_config_decode(cfg, clen, &out->config) != 0) {
        snprintf(err, errlen, "undecodable configuration");
        return -1;
    }
    if (dlen) {
        out->data = malloc(dlen);
        if (out->data == NULL) {
            raft_config_free(&out->config);
            snprintf(err, errlen, "out of memory for %" PRIu32 " bytes", dlen);
            return -1;
        }
        memcpy(out->data, data, dlen);
    }
    out->index = index;
    out->term = term;
    out->len = dlen;
    return 0;
}

void raft_snapfile_free(struct raft_snapshot *s)
{
    raft_config_free(&s->config);
    free(s->data);
    memset(s, 0, sizeof *s);
}

int raft_snapfile_mkdir(const char *dir, char *err, size_t errlen)
{
    if (mkdir(dir, 0700) != 0) {
        if (errno == EEXIST)
            return 0;
        snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
        return -1;
    }
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash != NULL && slash != parent)
        *slash = '\0';
    else
        snprintf(parent, sizeof parent, ".");
    if (fs_fsync_dir(parent) != 0) {
        snprintf(err, errlen, "fsync %s: %s", parent, strerror(errno));
        return -1;
    }
    return 0;
}

struct snap_name {
    uint64_t term;
    uint64_t index;
    char name[64];
};

static int parse_name(const char *s, struct snap_name *out)
{
    unsigned long long t, i;
    int used = 0;
    if (strlen(s) >= sizeof out->name || s[0] < '0' || s[0] > '9')
        return -1;
    if (sscanf(s, "%20llu-%20llu.snap%n", &t, &i, &used) != 2 || used <= 0 || s[used] != '\0')
        return -1;
    out->term = t;
    out->index = i;
    memcpy(out->name, s, strlen(s) + 1);
    return 0;
}

static int by_index_desc(const void *a, const void *b)
{
    const struct snap_name *x = a, *y = b;
    if (x->index != y->index)
        return x->index < y->index ? 1 : -1;
    if (x->term != y->term)
        return x->term < y->term ? 1 : -1;
    return 0;
}

/* Lists dir's snapshot files, newest first; removes *.tmp debris. -1 with err if unreadable. */
static int list_snaps(const char *dir, struct snap_name *v, size_t cap, size_t *n, char *err,
                      size_t errlen)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "open %s: %s", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".tmp") == 0) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
            continue;
        }
        if (*n < cap && parse_name(e->d_name, &v[*n]) == 0)
            (*n)++;
    }
    closedir(d);
    qsort(v, *n, sizeof v[0], by_index_desc);
    return 0;
}

int raft_snapfile_save(const char *dir, const struct raft_snapshot *s, char *err, size_t errlen)
{
    struct buf b;
    buf_init(&b, 0);
    if (raft_snapfile_encode(s, &b) != 0) {
        buf_free(&b);
        snprintf(err, errlen, "encode snapshot %" PRIu64 ": out of memory", s->index);
        return -1;
    }
    char name[64];
    snprintf(name, sizeof name, "%" PRIu64 "-%" PRIu64 ".snap", s->term, s->index);
    int rc = raft_meta_replace(dir, name, b.data, b.len, err, errlen);
    buf_free(&b);
    if (rc != 0)
        return -1;
    struct snap_name v[SNAP_LIST_MAX];
    size_t n;
    if (list_snaps(dir, v, SNAP_LIST_MAX, &n, err, errlen) != 0)
        return -1;
    bool removed = false;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        /* Files newer than (or beside) this one describe a history the leader just replaced
         * (Raft core note 14); they go only now, after the new file is durable, so a crash in
         * between leaves the old state, which the leader replaces again. */
        bool stale = v[i].index > s->index || (v[i].index == s->index && v[i].term != s->term);
        if (!stale && kept++ < RAFT_NODE_SNAPSHOTS_KEPT)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, v[i].name);
        if (unlink(path) != 0 && errno != ENOENT) {
            snprintf(err, errlen, "remove %s: %s", path, strerror(errno));
            return -1;
        }
        removed = true;
    }
    if (removed && fs_fsync_dir(dir) != 0) {
        snprintf(err, errlen, "fsync %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

static int read_file(const char *path, uint8_t **out, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > RAFT_SNAPFILE_MAX + 4096) {
        snprintf(err, errlen, "unreadable size or larger than %" PRIu64 " bytes",
                 (uint64_t)RAFT_SNAPFILE_MAX);
        close(fd);
        return -1;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *p = malloc(n ? n : 1);
    if (p == NULL) {
        snprintf(err, errlen, "out of memory for %zu bytes", n);
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, p + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(err, errlen, "read: %s", r < 0 ? strerror(errno) : "file shrank");
            free(p);
            close(fd);
            return -1;
        }
        got += (size_t)r;
    }
    close(fd);
    *out = p;
    *len = n;
    return 0;
}

int raft_snapfile_load(const char *dir, const struct logger *lg, struct raft_snapshot *out,
                       unsigned *skipped, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    *skipped = 0;
    struct snap_name v[SNAP_LIST_MAX];
    size_t n;
    if (list_snaps(dir, v, SNAP_LIST_MAX, &n, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char path[4096], why[256];
        snprintf(path, sizeof path, "%s/%s", dir, v[i].name);
        uint8_t *p = NULL;
        size_t len = 0;
        int rc = read_file(path, &p, &len, why, sizeof why);
        if (rc == 0) {
            rc = raft_snapfile_decode(p, len, out, why, sizeof why);
            free(p);
            if (rc == 0 && (out->index != v[i].index || out->term != v[i].term)) {
                snprintf(why, sizeof why, "header says term %" PRIu64 " index %" PRIu64,
                         out->term, out->index);
                raft_snapfile_free(out);
                rc = -1;
            }
        }
        if (rc == 0)
            return 1;
        (*skipped)++;
        log_printf(lg, LOG_WARN, "raft", "snapshot %s is unusable (%s); falling back to an older one",
                   path, why);
    }
    return 0;
}

uint64_t raft_snapfile_previous_index(const char *dir)
{
    struct snap_name v[SNAP_LIST_MAX];
    size_t n;
    char err[64];
    if (list_snaps(dir, v, SNAP_LIST_MAX, &n, err, sizeof err) != 0 || n < 2)
        return 0;
    return v[1].index;
}
