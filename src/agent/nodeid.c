/* nodeid.c — DATA_DIR/node-id: the Raft id of this data directory (random 64 bits, hex) and the
 * node name it belongs to, written once atomically, so a data dir never changes identity. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "agent/agent_impl.h"
#include "base/fsutil.h"

#define NODEID_FILE_MAX 512

int agent_write_atomic(const char *dir, const char *path, const char *text, char *err,
                       size_t errlen)
{
    char tmp[AGENT_PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    size_t n = strlen(text);
    const char *p = text;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        snprintf(err, errlen, "cannot sync %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot rename %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (fs_fsync_dir(dir) != 0) {
        snprintf(err, errlen, "cannot sync %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* The file is "<16 hex digits>\n<node name>\n"; anything else is refused, never rewritten, so
 * an operator sees the damage instead of the server silently taking a new identity. */
static int parse(const char *path, const char *text, const char *node_name, raft_id *id,
                 char *err, size_t errlen)
{
    if (path == NULL)
        path = "node-id";
    const char *nl = strchr(text, '\n');
    if (nl == NULL || nl - text != 16)
        goto bad;
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = text[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            goto bad;
        v = v << 4 | (uint64_t)d;
    }
    if (v == 0)
        goto bad;
    const char *name = nl + 1;
    const char *end = strchr(name, '\n');
    if (end == NULL || end[1] != '\0')
        goto bad;
    size_t nlen = (size_t)(end - name);
    if (nlen != strlen(node_name) || memcmp(name, node_name, nlen) != 0) {
        snprintf(err, errlen,
                 "data dir belongs to node '%.*s', not '%s' (%s): use that node name or "
                 "another data dir",
                 (int)(nlen > 128 ? 128 : nlen), name, node_name, path);
        return -1;
    }
    *id = v;
    return 0;
bad:
    snprintf(err, errlen, "malformed node id file %s: refusing to start", path);
    return -1;
}

int agent_nodeid_parse(const char *path, const char *data, size_t len, const char *node_name,
                       raft_id *id, char *err, size_t errlen)
{
    char text[NODEID_FILE_MAX + 1];
    if (len > NODEID_FILE_MAX || memchr(data, '\0', len) != NULL) {
        snprintf(err, errlen, "malformed node id file %s: refusing to start",
                 path ? path : "node-id");
        return -1;
    }
    memcpy(text, data, len);
    text[len] = '\0';
    return parse(path, text, node_name, id, err, errlen);
}

int agent_nodeid_load(const char *data_dir, const char *node_name, raft_id *id, char *err,
                      size_t errlen)
{
    char path[AGENT_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/node-id", data_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char text[NODEID_FILE_MAX + 1];
        size_t got = 0;
        for (;;) {
            ssize_t r = read(fd, text + got, NODEID_FILE_MAX - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
                close(fd);
                return -1;
            }
            if (r == 0 || (got += (size_t)r) == NODEID_FILE_MAX)
                break;
        }
        close(fd);
        if (got == NODEID_FILE_MAX) {
            snprintf(err, errlen, "malformed node id file %s: refusing to start", path);
            return -1;
        }
        return agent_nodeid_parse(path, text, got, node_name, id, err, errlen);
    }
    if (errno != ENOENT) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    uint64_t v = 0;
    while (v == 0) {
        if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
            snprintf(err, errlen, "cannot draw a node id: %s", strerror(errno));
            return -1;
        }
    }
    char text[NODEID_FILE_MAX];
    int n = snprintf(text, sizeof text, "%016" PRIx64 "\n%s\n", v, node_name);
    if (n < 0 || (size_t)n >= sizeof text) {
        snprintf(err, errlen, "node name too long for %s", path);
        return -1;
    }
    if (agent_write_atomic(data_dir, path, text, err, errlen) != 0)
        return -1;
    *id = v;
    return 0;
}
