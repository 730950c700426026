/* meta.h — the Raft server's stable metadata (current term and vote) in DATA_DIR/raft/meta, and the
 * atomic small-file replacement (temp, fsync, rename, fsync dir) that the log store also uses. */
#ifndef TRIBUNE_RAFT_META_H
#define TRIBUNE_RAFT_META_H

#include <stddef.h>
#include <stdint.h>

#include "raft/msg.h"

#define RAFT_META_FILE "meta"
#define RAFT_META_SIZE 36 /* magic 8, version 4, reserved 4, term 8, voted_for 8, crc 4 */
#define RAFT_META_ERRMAX 256

/* Reads term and vote from dir/meta. A missing file means a fresh server: term 0, no vote (0).
 * A leftover dir/meta.tmp from a crash mid-save is removed unread: the rename never happened, so
 * the old meta (or its absence) is the truth. 0, or -1 with a one-line reason in err when the
 * file is unreadable, of a foreign or future format, or fails its CRC: that is fatal, because
 * guessing a term or vote could let this server vote twice in one term. */
int raft_meta_load(const char *dir, uint64_t *term, raft_id *voted_for, char *err, size_t errlen);

/* Decodes the bytes of a meta file (the pure half of raft_meta_load, also fuzzed). 0, or -1 with
 * the reason in err: wrong size, magic, version, reserved field or CRC. */
int raft_meta_decode(const uint8_t *p, size_t len, uint64_t *term, raft_id *voted_for, char *err,
                     size_t errlen);

/* Durably replaces dir/meta with (term, voted_for). When it returns 0 the new values survive a
 * crash; a caller MUST NOT send a message depending on them before that. -1 with err on failure:
 * the caller must treat it as fatal (an fsync error may have dropped the write, see logstore.h). */
int raft_meta_save(const char *dir, uint64_t term, raft_id voted_for, char *err, size_t errlen);

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
