/* logstore.h — the durable, append-only Raft log in DATA_DIR/raft/: segment files of CRC-checked
 * records, batched fdatasync, recovery on open, suffix truncation and prefix compaction. */

/* Durability contract (numbered so tests and callers can cite it):
 * (1) rlog_append only writes: nothing it appended is durable, nor reported by
 *     rlog_durable_index, before an rlog_sync that returned 0. A follower MUST NOT acknowledge and
 *     a leader MUST NOT count its own vote for entries above rlog_durable_index.
 * (2) rlog_truncate_suffix, rlog_drop_prefix and rlog_reset are durable when they return 0: a
 *     crash can never bring the removed entries back.
 * (3) Any failed write, fsync, truncate or unlink makes the log FAILED: every later mutating call
 *     and every read returns -EIO and rlog_errmsg says why. There is no retry on purpose: after a
 *     failed fsync Linux may already have dropped the dirty pages and cleared the error, so a
 *     second fsync can "succeed" over lost data (PostgreSQL's fsyncgate, 2018). The only safe way
 *     on is to exit and recover from what is really on disk.
 * (4) Recovery verifies every record. Only the tail of the LAST segment can be torn by a crash:
 *     it is truncated and logged with the index it stopped at. Any other damage (bad header, bad
 *     record in an older segment, damage followed by valid records, an index gap) makes rlog_open
 *     fail with the file and offset: no entry is ever dropped silently. Bit rot in the very last
 *     record looks exactly like a torn write and is cut the same way (with the warning).
 * The caller runs one log per directory; rlog_open takes an exclusive flock on the directory. */
#ifndef TRIBUNE_RAFT_LOGSTORE_H
#define TRIBUNE_RAFT_LOGSTORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/log.h"
#include "raft/msg.h"

#define RLOG_DEFAULT_SEGMENT_SIZE (64u << 20)
#define RLOG_ERRMAX 256
#define RLOG_META_FILE "log-meta" /* compaction marker: index and term of the last dropped entry */

/* The disk operations whose failure or loss in a crash tests must provoke. NULL in rlog_opts (or a
 * NULL member) means the real system call. sync is fdatasync when datasync is nonzero, else fsync
 * (directories, new files, truncations). Each returns what the system call would, setting errno.
 * Reads use pread directly. */
struct rlog_io {
    void *ctx;
    ssize_t (*pwrite)(void *ctx, int fd, const void *buf, size_t len, off_t off);
    int (*sync)(void *ctx, int fd, int datasync);
    int (*truncate)(void *ctx, int fd, off_t len);
};

struct rlog_opts {
    uint64_t segment_size; /* a new segment starts when the next record would pass it; 0: 64 MiB */
    const struct rlog_io *io; /* NULL: real system calls */
};

struct rlog;

/* Opens (creating dir and its parents if absent) and recovers the log. Returns 0 and *out, or a
 * negative errno with a one-line reason in err: -EIO for unreadable or corrupt data, -EBUSY when
 * another process holds the directory, -EINVAL for a foreign or future format. */
int rlog_open(const char *dir, const struct rlog_opts *opts, const struct logger *lg,
              struct rlog **out, char *err, size_t errlen);

/* Appends n entries. entries[0].index must be rlog_last_index()+1, indexes consecutive, terms never
 * below the last term, type nonzero, len <= RLOG_ENTRY_MAX. The records are written to the page
 * cache (readable by rlog_get at once) but not durable: see (1). 0, -EINVAL or -ENOMEM (nothing
 * written), or -EIO (FAILED). */
int rlog_append(struct rlog *log, const struct raft_entry *entries, size_t n);

/* One fdatasync for everything appended since the last sync. 0, after which
 * rlog_durable_index() == rlog_last_index(); or -EIO, after which the log is FAILED (3). */
int rlog_sync(struct rlog *log);

/* Highest index known durable (entries at or below the compaction point count as durable). */
uint64_t rlog_durable_index(const struct rlog *log);

/* Reads the entry at index, verifying its CRC again. out->data is malloc'd (NULL when len is 0);
 * release it with rlog_entry_free. 0, -ENOENT outside [first, last], -EIO on a read error or a
 * record that no longer verifies (bit rot since open), -ENOMEM. */
int rlog_get(struct rlog *log, uint64_t index, struct raft_entry *out);
void rlog_entry_free(struct raft_entry *e);

/* Removes entries from_index..last (conflict resolution). from_index must be above the compaction
 * point; past the end it is a no-op. Durable on return, and it syncs what is kept: afterwards
 * rlog_durable_index() == rlog_last_index() == from_index-1. 0, -EINVAL or -EIO (FAILED). */
int rlog_truncate_suffix(struct rlog *log, uint64_t from_index);

/* Drops entries 1..upto_index once a snapshot covers them: records (upto_index, upto_term) in the
 * atomically replaced log-meta file, then deletes every segment wholly at or below it. When
 * upto_index is in the log its term must equal upto_term (-EINVAL otherwise: truncate first);
 * past the end the whole log goes and the next append must be upto_index+1 (InstallSnapshot).
 * At or below the current compaction point it is a no-op. 0, -EINVAL or -EIO (FAILED). */
int rlog_drop_prefix(struct rlog *log, uint64_t upto_index, uint64_t upto_term);

/* Discards the whole log and makes (index, term) the compaction point, for a snapshot that
 * replaces the log outright (InstallSnapshot whose last entry conflicts with, or lies beyond, the
 * local log). Segments go first (durably), then log-meta is replaced, so a crash in between
 * leaves an empty log at the old compaction point and never old entries beside the new one: the
 * caller persists the snapshot first and, on restart, repeats rlog_reset when the snapshot's index
 * is above rlog_last_index. Afterwards the next append must be index+1. 0 or -EIO (FAILED). */
int rlog_reset(struct rlog *log, uint64_t index, uint64_t term);

/* First stored index; last+1 when the log is empty (so first = compaction index + 1). */
uint64_t rlog_first_index(const struct rlog *log);
/* Last index; the compaction index (0 for a new log) when empty. */
uint64_t rlog_last_index(const struct rlog *log);
uint64_t rlog_last_term(const struct rlog *log);
/* Term of the entry at index, for index in [compaction index, last]; the compaction index has the
 * term recorded with it (0 for a log never compacted). 0, or -ENOENT. */
int rlog_term_at(const struct rlog *log, uint64_t index, uint64_t *term);

/* Why the last call failed, or why the log is FAILED. "" when nothing failed. */
const char *rlog_errmsg(const struct rlog *log);
int rlog_failed(const struct rlog *log);

/* Closes files and frees memory. It does not sync: appended but unsynced entries may be lost in a
 * crash, exactly as if the process had died. */
void rlog_close(struct rlog *log);

#endif
