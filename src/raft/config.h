/* config.h — Raft configurations (the set of servers and which of them vote): lookup, copy, and the
 * binary encoding used in CONFIG log entries, snapshots and InstallSnapshot frames. */
#ifndef TRIBUNE_RAFT_CONFIG_H
#define TRIBUNE_RAFT_CONFIG_H

#include "base/buf.h"
#include "raft/msg.h"

#define RAFT_CONFIG_MAX_SERVERS 64 /* a decoder refuses more: no real cluster is near it */

/* Appends the encoding: u8 version(1), u16 count, then per server u64 id, u8 voter, str16 addr.
 * 0, or -1 if the buffer refused to grow. */
int raft_config_encode(const struct raft_config *c, struct buf *out);

/* Decodes exactly len bytes into *out (allocated; release with raft_config_free). -1 on any
 * malformation: short input, trailing bytes, unknown version, zero or duplicate ids, address
 * longer than RAFT_ADDR_MAX-1 or with a NUL, count above RAFT_CONFIG_MAX_SERVERS. */
int raft_config_decode(const uint8_t *p, size_t len, struct raft_config *out);

void raft_config_free(struct raft_config *c);
int raft_config_copy(struct raft_config *dst, const struct raft_config *src);
bool raft_config_equal(const struct raft_config *a, const struct raft_config *b);

/* NULL when id is not a member. */
const struct raft_server *raft_config_find(const struct raft_config *c, raft_id id);
/* Adds (or updates the voter flag and address of) a server. 0, or -1 on allocation failure or
 * when the configuration is full. */
int raft_config_put(struct raft_config *c, raft_id id, const char *addr, bool voter);
/* Removes a server; 0 if it was there, -1 if not. */
int raft_config_remove(struct raft_config *c, raft_id id);
uint32_t raft_config_voters(const struct raft_config *c);

#endif
