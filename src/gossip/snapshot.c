/* snapshot.c — the gossip snapshot file: replay at start, append while running, compaction by
 * atomic rewrite once the appended history outgrows the live set. */
#include "gossip/snapshot.h"
#include "base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SNAP_LINE_MAX 512
#define SNAP_NAME_MAX 128
#define SNAP_ADDR_MAX 64
#define SNAP_MEMBERS_MAX 4096
#define SNAP_FILE_MAX (8u << 20)   /* replay refuses to read more than this */
#define SNAP_COMPACT_MIN (64u << 10)

struct snap_member {
    char name[SNAP_NAME_MAX];
    char addr[SNAP_ADDR_MAX];
};

struct gossip_snapshot {
    const struct logger *lg;
    char dir[4096];
    char path[4200];
    int fd;
    bool left;
    size_t appended; /* bytes in the file */
    struct snap_member *m;
    size_t n;
    size_t cap;
};

static bool token_ok(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len == 0 || len >= max)
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p == 0x7f)
            return false;
    return true;
}

static ssize_t find(const struct gossip_snapshot *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->m[i].name, name) == 0)
            return (ssize_t)i;
    return -1;
}

static void set_alive(struct gossip_snapshot *s, const char *name, const char *addr)
{
    ssize_t i = find(s, name);
    if (i < 0) {
        if (s->n >= SNAP_MEMBERS_MAX)
            return;
        if (s->n == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 16;
            struct snap_member *m = realloc(s->m, cap * sizeof *m);
            if (m == NULL)
                return;
            s->m = m;
            s->cap = cap;
        }
        i = (ssize_t)s->n++;
        snprintf(s->m[i].name, sizeof s->m[i].name, "%s", name);
    }
    snprintf(s->m[i].addr, sizeof s->m[i].addr, "%s", addr);
}

static void set_gone(struct gossip_snapshot *s, const char *name)
{
    ssize_t i = find(s, name);
    if (i >= 0) {
        s->m[i] = s->m[s->n - 1];
        s->n--;
    }
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void replay_line(struct gossip_snapshot *s, char *line, unsigned lineno)
{
    char name[SNAP_LINE_MAX], addr[SNAP_LINE_MAX];
    if (strcmp(line, "leave") == 0) {
        s->left = true;
        return;
    }
    if (sscanf(line, "alive: %511s %511s", name, addr) == 2 && token_ok(name, SNAP_NAME_MAX) &&
        token_ok(addr, SNAP_ADDR_MAX)) {
        set_alive(s, name, addr);
        s->left = false; /* members seen after a leave belong to a later run */
        return;
    }
    if (sscanf(line, "not-alive: %511s", name) == 1 && token_ok(name, SNAP_NAME_MAX)) {
        set_gone(s, name);
        return;
    }
    if (strncmp(line, "clock:", 6) == 0)
        return; /* serf's Lamport clocks: we keep none */
    log_printf(s->lg, LOG_WARN, "serf", "snapshot %s line %u unreadable, skipped", s->path, lineno);
}

static int replay(struct gossip_snapshot *s, char *err, size_t errlen)
{
    int fd = open(s->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "open %s: %s", s->path, strerror(errno));
        return -1;
    }
    char *data = malloc(SNAP_FILE_MAX + 1);
    size_t len = 0;
    ssize_t r = 0;
    while (data != NULL && len < SNAP_FILE_MAX &&
           ((r = read(fd, data + len, SNAP_FILE_MAX - len)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0)
            len += (size_t)r;
    close(fd);
    if (data == NULL || r < 0) {
        snprintf(err, errlen, "read %s: %s", s->path, data ? strerror(errno) : "out of memory");
        free(data);
        return -1;
    }
    if (len == SNAP_FILE_MAX)
        log_printf(s->lg, LOG_WARN, "serf", "snapshot %s larger than %u bytes: the rest is ignored",
                   s->path, SNAP_FILE_MAX);
    data[len] = '\0';
    unsigned lineno = 0;
    for (char *p = data; p < data + len;) {
        char *nl = memchr(p, '\n', (size_t)(data + len - p));
        if (nl == NULL)
            break; /* a torn last line: written without its newline before a crash */
        *nl = '\0';
        lineno++;
        if ((size_t)(nl - p) < SNAP_LINE_MAX && memchr(p, '\0', (size_t)(nl - p)) == NULL)
            replay_line(s, p, lineno);
        else
            log_printf(s->lg, LOG_WARN, "serf", "snapshot %s line %u unreadable, skipped", s->path,
                       lineno);
        p = nl + 1;
    }
    free(data);
    return 0;
}

/* Rewrites the file as the live set (plus the leave mark), atomically: temp, fsync, rename, fsync
 * dir. Reopens the append descriptor on the new file. */
static int compact(struct gossip_snapshot *s)
{
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", s->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    size_t total = 0;
    char line[SNAP_LINE_MAX];
    int rc = 0;
    for (size_t i = 0; i < s->n && rc == 0; i++) {
        int k = snprintf(line, sizeof line, "alive: %s %s\n", s->m[i].name, s->m[i].addr);
        rc = write_all(fd, line, (size_t)k);
        total += (size_t)k;
    }
    if (rc == 0 && s->left) {
        rc = write_all(fd, "leave\n", 6);
        total += 6;
    }
    if (rc == 0)
        rc = fsync(fd);
    close(fd);
    if (rc == 0)
        rc = rename(tmp, s->path);
    if (rc != 0) {
        unlink(tmp);
        return -1;
    }
    (void)fs_fsync_dir(s->dir); /* the file is a rejoin hint: a lost rename costs only that */
    if (s->fd >= 0)
        close(s->fd);
    s->fd = open(s->path, O_WRONLY | O_APPEND | O_CLOEXEC);
    s->appended = total;
    return s->fd >= 0 ? 0 : -1;
}

struct gossip_snapshot *gossip_snapshot_open(const char *data_dir, const struct logger *lg,
                                             char *err, size_t errlen)
{
    struct gossip_snapshot *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->lg = lg;
    s->fd = -1;
    int k = snprintf(s->dir, sizeof s->dir, "%s/serf", data_dir);
    if (k < 0 || (size_t)k >= sizeof s->dir - 32) {
        snprintf(err, errlen, "data dir path too long");
        free(s);
        return NULL;
    }
    snprintf(s->path, sizeof s->path, "%s/local.snapshot", s->dir);
    if (mkdir(s->dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "mkdir %s: %s", s->dir, strerror(errno));
        free(s);
        return NULL;
    }
    if (replay(s, err, errlen) != 0 || compact(s) != 0) {
        if (err[0] == '\0')
            snprintf(err, errlen, "rewrite %s: %s", s->path, strerror(errno));
        gossip_snapshot_close(s);
        return NULL;
    }
    return s;
}

void gossip_snapshot_close(struct gossip_snapshot *s)
{
    if (s == NULL)
        return;
    if (s->fd >= 0)
        close(s->fd);
    free(s->m);
    free(s);
}

bool gossip_snapshot_left(const struct gossip_snapshot *s)
{
    return s->left;
}

size_t gossip_snapshot_count(const struct gossip_snapshot *s)
{
    return s->n;
}

const char *gossip_snapshot_name(const struct gossip_snapshot *s, size_t i)
{
    return i < s->n ? s->m[i].name : NULL;
}

const char *gossip_snapshot_addr(const struct gossip_snapshot *s, size_t i)
{
    return i < s->n ? s->m[i].addr : NULL;
}

static void append_line(struct gossip_snapshot *s, const char *line, size_t len)
{
    if (s->appended > SNAP_COMPACT_MIN && s->appended > 4 * (s->n + 1) * SNAP_LINE_MAX / 8) {
        if (compact(s) != 0)
            log_printf(s->lg, LOG_WARN, "serf", "snapshot %s: compaction failed: %s", s->path,
                       strerror(errno));
        return; /* the rewrite already holds the change */
    }
    if (s->fd < 0 || write_all(s->fd, line, len) != 0) {
        log_printf(s->lg, LOG_WARN, "serf", "snapshot %s: write failed: %s", s->path,
                   strerror(errno));
        return;
    }
    s->appended += len;
}

void gossip_snapshot_alive(struct gossip_snapshot *s, const char *name, const char *addr)
{
    if (!token_ok(name, SNAP_NAME_MAX) || !token_ok(addr, SNAP_ADDR_MAX))
        return;
    ssize_t i = find(s, name);
    if (i >= 0 && strcmp(s->m[i].addr, addr) == 0)
        return;
    set_alive(s, name, addr);
    s->left = false;
    char line[SNAP_LINE_MAX];
    int k = snprintf(line, sizeof line, "alive: %s %s\n", name, addr);
    append_line(s, line, (size_t)k);
}

void gossip_snapshot_not_alive(struct gossip_snapshot *s, const char *name)
{
    if (!token_ok(name, SNAP_NAME_MAX) || find(s, name) < 0)
        return;
    set_gone(s, name);
    char line[SNAP_LINE_MAX];
    int k = snprintf(line, sizeof line, "not-alive: %s\n", name);
    append_line(s, line, (size_t)k);
}

int gossip_snapshot_leave(struct gossip_snapshot *s)
{
    s->left = true;
    if (s->fd < 0 || write_all(s->fd, "leave\n", 6) != 0 || fdatasync(s->fd) != 0) {
        log_printf(s->lg, LOG_WARN, "serf", "snapshot %s: could not record the leave: %s", s->path,
                   strerror(errno));
        return -1;
    }
    s->appended += 6;
    return 0;
}
