/* datadir.h — the agent's hold on its data directory (created 0700, exclusively locked so two
 * agents never share one), the -dev throw-away directory, and the atomically written pid file. */
#ifndef TRIBUNE_AGENT_DATADIR_H
#define TRIBUNE_AGENT_DATADIR_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/config.h"

struct agent_datadir {
    char path[AGENT_PATH_MAX];
    int lock_fd;    /* holds flock(LOCK_EX) on path/.lock while open */
    bool temporary; /* made by mkdtemp for -dev: removed with everything in it on close */
};

/* Opens path (creating it and missing parents, mode 0700) or, when path is empty, a fresh
 * mkdtemp directory under $TMPDIR or /tmp, then takes the lock without blocking. 0, or -1 with a
 * one-line reason in err; "... is in use by another agent (pid N)" when already locked. */
int agent_datadir_open(struct agent_datadir *d, const char *path, char *err, size_t errlen);

/* Releases the lock; removes the directory if it was temporary. */
void agent_datadir_close(struct agent_datadir *d);

/* Writes "<pid>\n" to path durably and atomically (temp file, fsync, rename, fsync dir). */
int agent_pidfile_write(const char *path, char *err, size_t errlen);

#endif
