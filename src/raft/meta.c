/* meta.c — stable Raft metadata (term, vote, cluster id) and the atomic replace of small files
 * under the raft data directory. */
/* Format (big-endian): "TRBNMETA", u32 version 2, u32 0, u64 term, u64 voted_for, u64 cluster id,
 * u32 CRC-32C of the bytes before it. Version 1 lacked the cluster id. See man/tribune-storage.7. */
#include "raft/meta.h"
#include "base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/crc32c.h"

static const char meta_magic[8] = {'T', 'R', 'B', 'N', 'M', 'E', 'T', 'A'};
#define META_VERSION 2u

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int raft_meta_replace(const char *dir, const char *name, const void *data, size_t len, char *err,
                      size_t errlen)
{
    char path[4096], tmp[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path ||
        (size_t)snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name) >= sizeof tmp) {
        snprintf(err, errlen, "path too long: %s/%s", dir, name);
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "create %s: %s", tmp, strerror(errno));
        return -1;
    }
    if (write_all(fd, data, len) != 0) {
        snprintf(err, errlen, "write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (fsync(fd) != 0) {
        snprintf(err, errlen, "fsync %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "rename %s to %s: %s", tmp, path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    /* Without this the rename itself may be lost on power failure, resurrecting the old file. */
    if (fs_fsync_dir(dir) != 0) {
        snprintf(err, errlen, "fsync directory %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

long raft_meta_read(const char *dir, const char *name, void *buf, size_t cap, char *err,
                    size_t errlen)
{
    char path[4096], tmp[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path ||
        (size_t)snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name) >= sizeof tmp) {
        snprintf(err, errlen, "path too long: %s/%s", dir, name);
        return -1;
    }
    /* A temp file is the debris of a save that never reached its rename: not the truth. */
    if (unlink(tmp) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "remove stale %s: %s", tmp, strerror(errno));
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return -2;
        snprintf(err, errlen, "open %s: %s", path, strerror(errno));
        return -1;
    }
    size_t got = 0;
    uint8_t *p = buf;
    for (;;) {
        uint8_t extra;
        /* Read one byte past cap so that an oversized file is refused instead of cut. */
        ssize_t r = got < cap ? read(fd, p + got, cap - got) : read(fd, &extra, 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            snprintf(err, errlen, "read %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        if (got >= cap) {
            snprintf(err, errlen, "%s: longer than %zu bytes, not a file this build wrote", path,
                     cap);
            close(fd);
            return -1;
        }
        got += (size_t)r;
    }
    close(fd);
    return (long)got;
}

int raft_meta_decode(const uint8_t *p, size_t len, struct raft_meta *m, char *err, size_t errlen)
{
    struct codec_rd r;
    codec_rd_init(&r, p, len);
    const uint8_t *magic = codec_get_bytes(&r, sizeof meta_magic);
    uint32_t version = codec_get_u32(&r);
    uint32_t reserved = codec_get_u32(&r);
    uint64_t t = codec_get_u64(&r);
    uint64_t v = codec_get_u64(&r);
    uint64_t c = version >= 2 ? codec_get_u64(&r) : 0;
    uint32_t crc = codec_get_u32(&r);
    size_t size = version >= 2 ? RAFT_META_SIZE : RAFT_META_SIZE_V1;
    if (magic != NULL && memcmp(magic, meta_magic, sizeof meta_magic) != 0) {
        snprintf(err, errlen, "not a tribune raft meta file (bad magic)");
        return -1;
    }
    if (codec_rd_ok(&r) && (version == 0 || version > META_VERSION)) {
        snprintf(err, errlen, "format version %u, this build reads 1 to %u", version, META_VERSION);
        return -1;
    }
    if (!codec_rd_ok(&r) || codec_rd_remaining(&r) != 0) {
        snprintf(err, errlen, "corrupt: %zu bytes, expected %zu", len, size);
        return -1;
    }
    if (crc32c(0, p, size - 4) != crc || reserved != 0) {
        snprintf(err, errlen, "corrupt: checksum mismatch; refusing to guess term and vote");
        return -1;
    }
    m->term = t;
    m->vote = v;
    m->cluster_id = c;
    return 0;
}

int raft_meta_load(const char *dir, struct raft_meta *m, char *err, size_t errlen)
{
    uint8_t b[4 * RAFT_META_SIZE]; /* room to recognise a foreign file before judging its size */
    long n = raft_meta_read(dir, RAFT_META_FILE, b, sizeof b, err, errlen);
    if (n == -2) {
        memset(m, 0, sizeof *m);
        return 0;
    }
    if (n < 0)
        return -1;
    char why[RAFT_META_ERRMAX];
    if (raft_meta_decode(b, (size_t)n, m, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s/%s: %s", dir, RAFT_META_FILE, why);
        return -1;
    }
    return 0;
}

int raft_meta_save(const char *dir, const struct raft_meta *m, char *err, size_t errlen)
{
    uint8_t b[RAFT_META_SIZE];
    memcpy(b, meta_magic, sizeof meta_magic);
    codec_store_u32(b + 8, META_VERSION);
    codec_store_u32(b + 12, 0);
    codec_store_u64(b + 16, m->term);
    codec_store_u64(b + 24, m->vote);
    codec_store_u64(b + 32, m->cluster_id);
    codec_store_u32(b + 40, crc32c(0, b, RAFT_META_SIZE - 4));
    return raft_meta_replace(dir, RAFT_META_FILE, b, sizeof b, err, errlen);
}
