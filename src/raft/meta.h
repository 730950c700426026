/* meta.h — the Raft server's stable metadata (current term, vote, cluster id) in DATA_DIR/raft/meta, and the
 * atomic small-file replacement (temp, fsync, rename, fsync dir) that the log store also uses. */
#ifndef TRIBUNE_RAFT_META_H
#define TRIBUNE_RAFT_META_H

#include <stddef.h>
#include <stdint.h>

#include "raft/msg.h"

#define RAFT_META_FILE "meta"
#define RAFT_META_SIZE 44    /* magic 8, version 4, reserved 4, term 8, voted_for 8, cluster 8, crc 4 */
#define RAFT_META_SIZE_V1 36 /* version 1 had no cluster id */
#define RAFT_META_ERRMAX 256

/* What a server must never forget: its term and vote (or it could vote twice in one term), and
 * the cluster its log belongs to (or it could take entries from a leader of another cluster). */
struct raft_meta {
    uint64_t term;
    raft_id vote;        /* 0: none in this term */
    uint64_t cluster_id; /* 0: this server has not joined or bootstrapped any cluster yet */
};

/* Reads dir/meta. A missing file means a fresh server: all zero. A version 1 file (no cluster id)
 * loads with cluster_id 0. A leftover dir/meta.tmp from a crash mid-save is removed unread: the
 * rename never happened, so the old meta (or its absence) is the truth. 0, or -1 with a one-line
 * reason in err when the file is unreadable, of a foreign or future format, or fails its CRC:
 * that is fatal, because guessing a term or vote could let this server vote twice in one term. */
int raft_meta_load(const char *dir, struct raft_meta *m, char *err, size_t errlen);

/* Decodes the bytes of a meta file (the pure half of raft_meta_load, also fuzzed). 0, or -1 with
 * the reason in err: wrong size, magic, version, reserved field or CRC. */
int raft_meta_decode(const uint8_t *p, size_t len, struct raft_meta *m, char *err, size_t errlen);

/* Durably replaces dir/meta with m (always in the current version). When it returns 0 the new
 * values survive a crash; a caller MUST NOT send a message depending on them before that. -1 with
 * err on failure: the caller must treat it as fatal (an fsync error may have dropped the write,
 * see logstore.h). */
int raft_meta_save(const char *dir, const struct raft_meta *m, char *err, size_t errlen);

/* Atomically and durably replaces dir/name with len bytes: writes dir/name.tmp, fsyncs it, renames
 * it over dir/name and fsyncs dir. After a crash, dir/name holds either the old or the new bytes,
 * never a mix. 0, or -1 with err. */
int raft_meta_replace(const char *dir, const char *name, const void *data, size_t len, char *err,
                      size_t errlen);

/* Reads dir/name whole into buf (at most cap bytes; a longer file is an error). Returns the length,
 * -2 when the file does not exist (err untouched), or -1 with err. Removes any dir/name.tmp. */
long raft_meta_read(const char *dir, const char *name, void *buf, size_t cap, char *err,
                    size_t errlen);

#endif
