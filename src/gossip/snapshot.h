/* snapshot.h — serf's local.snapshot: an append-only text record of the members seen alive, so a
 * restarted agent rejoins them on its own, unless its last act was a graceful leave. */
#ifndef TRIBUNE_GOSSIP_SNAPSHOT_H
#define TRIBUNE_GOSSIP_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/log.h"

struct gossip_snapshot;

/* Opens (creating DATA_DIR/serf/ if needed) and replays the file: the members alive at the end of
 * the last run, and whether that run ended with a graceful leave. Unreadable lines are skipped
 * with a WARN. The file is then compacted to what was replayed. NULL with a reason on failure. */
struct gossip_snapshot *gossip_snapshot_open(const char *data_dir, const struct logger *lg,
                                             char *err, size_t errlen);
void gossip_snapshot_close(struct gossip_snapshot *s);

/* What the previous run left: did it leave gracefully, and the members it last saw alive. */
bool gossip_snapshot_left(const struct gossip_snapshot *s);
size_t gossip_snapshot_count(const struct gossip_snapshot *s);
const char *gossip_snapshot_name(const struct gossip_snapshot *s, size_t i);
const char *gossip_snapshot_addr(const struct gossip_snapshot *s, size_t i);

/* Records a member alive at addr ("ip:port"), or no longer alive. Not fsynced: the file is a hint
 * for rejoining, and losing its tail to a power cut only means rejoining fewer members. */
void gossip_snapshot_alive(struct gossip_snapshot *s, const char *name, const char *addr);
void gossip_snapshot_not_alive(struct gossip_snapshot *s, const char *name);
/* Records a graceful leave, durably. 0, or -1 (logged) if the disk refused. */
int gossip_snapshot_leave(struct gossip_snapshot *s);

#endif
