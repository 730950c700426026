/* node_snapshot.h — the Raft node's snapshot files DATA_DIR/raft/snapshots/<term>-<index>.snap:
 * format, durable save with pruning to the newest RAFT_NODE_SNAPSHOTS_KEPT, and load with fallback.
 *
 * Format (big-endian): "TRBNSNAP", u32 version 1, u32 0, u64 index, u64 term, u32 config length,
 * the config (raft_config_encode), u32 data length, the FSM's bytes, u32 CRC-32C of everything
 * before it. The name repeats term and index; a file whose header disagrees with it is corrupt. */
#ifndef TRIBUNE_RAFT_NODE_SNAPSHOT_H
#define TRIBUNE_RAFT_NODE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/log.h"
#include "raft/raft.h"

#define RAFT_SNAPFILE_DIR "snapshots"
#define RAFT_SNAPFILE_MAX ((uint64_t)1 << 30) /* larger files are refused, as by the transport */

/* Appends the file bytes for s. 0, or -1 when out cannot grow. */
int raft_snapfile_encode(const struct raft_snapshot *s, struct buf *out);

/* Decodes a whole file. *out owns a copy of config and data (raft_snapfile_free). 0, or -1 with
 * the reason in err: short, trailing bytes, wrong magic/version/reserved, bad config, index 0,
 * CRC mismatch. */
int raft_snapfile_decode(const uint8_t *p, size_t len, struct raft_snapshot *out, char *err,
                         size_t errlen);
void raft_snapfile_free(struct raft_snapshot *s);

/* Creates dir (the snapshots directory) if needed, fsyncing its parent. 0 or -1 with err. */
int raft_snapfile_mkdir(const char *dir, char *err, size_t errlen);

/* Durably writes s as dir/<term>-<index>.snap (temp, fsync, rename, fsync dir), then deletes
 * every file of a higher index (or of the same index and another term: a replaced history) and
 * all but the RAFT_NODE_SNAPSHOTS_KEPT newest of the rest. 0, or -1 with err (the caller treats it as
 * fatal: a failed fsync may have lost the write). */
int raft_snapfile_save(const char *dir, const struct raft_snapshot *s, char *err, size_t errlen);

/* Loads the newest snapshot that verifies. A corrupt newer file is skipped with a WARN and
 * counted in *skipped. 1 with *out, 0 when there is none (valid), -1 with err when the directory
 * cannot be read. Removes *.tmp debris. */
int raft_snapfile_load(const char *dir, const struct logger *lg, struct raft_snapshot *out,
                       unsigned *skipped, char *err, size_t errlen);

/* The index of the second newest snapshot file present (0 if fewer than two): the node never
 * compacts its log past it, so a corrupt newest snapshot can fall back to it. */
uint64_t raft_snapfile_previous_index(const char *dir);

#endif
