/* datadir.c — data directory creation and locking, the -dev temporary directory, and the pid file.
 * The lock is flock on DATA_DIR/.lock: released by the kernel when the process dies, so a crash
 * never leaves a stale lock behind, and the file records the holder's pid for the error message. */
#include "agent/datadir.h"
#include "base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdir_p(const char *path, char *err, size_t errlen)
{
    char p[AGENT_PATH_MAX];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p) {
        snprintf(err, errlen, "data directory path too long");
        return -1;
    }
    for (char *s = p + 1;; s++) {
        char c = *s;
        if (c != '/' && c != '\0')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", p, strerror(errno));
            return -1;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "data directory %s is not a directory", path);
        return -1;
    }
    return 0;
}

static int fsync_dir_of(const char *path)
{
    char tmp[AGENT_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    return fs_fsync_dir(dirname(tmp));
}

static int write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int agent_datadir_open(struct agent_datadir *d, const char *path, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    d->lock_fd = -1;
    if (path[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        snprintf(d->path, sizeof d->path, "%s/tribune-dev-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (mkdtemp(d->path) == NULL) {
            snprintf(err, errlen, "cannot create a temporary data directory: %s", strerror(errno));
            return -1;
        }
        d->temporary = true;
    } else {
        snprintf(d->path, sizeof d->path, "%s", path);
        if (mkdir_p(d->path, err, errlen) != 0)
            return -1;
    }
    char lock[AGENT_PATH_MAX + 8];
    snprintf(lock, sizeof lock, "%s/.lock", d->path);
    d->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (d->lock_fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", lock, strerror(errno));
        agent_datadir_close(d);
        return -1;
    }
    if (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e == EWOULDBLOCK) {
            char buf[32] = {0};
            ssize_t n = pread(d->lock_fd, buf, sizeof buf - 1, 0);
            long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
            if (pid > 0)
                snprintf(err, errlen, "data directory %s is in use by another agent (pid %ld)",
                         d->path, pid);
            else
                snprintf(err, errlen, "data directory %s is in use by another agent", d->path);
        } else {
            snprintf(err, errlen, "cannot lock %s: %s", lock, strerror(e));
        }
        close(d->lock_fd);
        d->lock_fd = -1;
        d->temporary = false; /* never delete a directory we could not lock */
        return -1;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(d->lock_fd, 0) != 0 || pwrite(d->lock_fd, pid, (size_t)n, 0) != n) {
        snprintf(err, errlen, "cannot write %s: %s", lock, strerror(errno));
        agent_datadir_close(d);
        return -1;
    }
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

void agent_datadir_close(struct agent_datadir *d)
{
    if (d->temporary && d->path[0] != '\0')
        nftw(d->path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (d->lock_fd >= 0)
        close(d->lock_fd); /* the lock goes with the descriptor */
    d->lock_fd = -1;
    d->temporary = false;
}

int agent_pidfile_write(const char *path, char *err, size_t errlen)
{
    char tmp[AGENT_PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "Could not write PID file %s: %s", path, strerror(errno));
        return -1;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    int rc = write_all(fd, pid, (size_t)n);
    if (rc == 0)
        rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc == 0 && rename(tmp, path) != 0) {
        e = errno;
        rc = -1;
    }
    if (rc != 0) {
        unlink(tmp);
        snprintf(err, errlen, "Could not write PID file %s: %s", path, strerror(e));
        return -1;
    }
    fsync_dir_of(path);
    return 0;
}
