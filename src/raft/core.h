/* core.h — internal interface shared by the files of the pure Raft core (raft.c, election.c,
 * replication.c, membership.c, snapshot.c, readindex.c, memlog.c, progress.c, ready.c, info.c). */
#ifndef TRIBUNE_RAFT_CORE_H
#define TRIBUNE_RAFT_CORE_H

#include "raft/raft.h"

#define raft_logf(r, level, ...) log_printf((r)->o.log, (level), "raft", __VA_ARGS__)

/* ---- memlog.c: the in-memory log since the last compaction ---- */
void raft_memlog_init(struct raft_memlog *l, uint64_t base, uint64_t base_term);
void raft_memlog_free(struct raft_memlog *l);
uint64_t raft_memlog_last(const struct raft_memlog *l);
uint64_t raft_memlog_last_term(const struct raft_memlog *l);
/* True and *term set when index is in [base, last]. */
bool raft_memlog_term(const struct raft_memlog *l, uint64_t index, uint64_t *term);
/* Entry at index in (base, last], else NULL. */
struct raft_entry *raft_memlog_at(const struct raft_memlog *l, uint64_t index);
/* Appends a deep copy of e (e->index must be last + 1). 0 or RAFT_ENOMEM. */
int raft_memlog_append(struct raft_memlog *l, const struct raft_entry *e);
/* Drops entries with index >= from (from > base). */
void raft_memlog_truncate(struct raft_memlog *l, uint64_t from);
/* Drops entries with index <= upto (upto in [base, last]); base becomes upto. */
void raft_memlog_compact(struct raft_memlog *l, uint64_t upto);

/* ---- ready.c: outbox ---- */
/* Queues a message to peer `to` with the current term; NULL on allocation failure (dropping a
 * message is always safe in Raft). after_persist forces it behind this round's fsync. */
struct raft_msg *raft_send(struct raft *r, raft_id to, uint8_t type, bool after_persist);
/* True when term or vote changed since last handed to raft_ready (not yet durable). */
bool raft_hard_state_dirty(const struct raft *r);
/* Drops queued leader traffic (appends, snapshots, TimeoutNow) when leadership is lost. */
void raft_drop_leader_msgs(struct raft *r);

/* ---- raft.c ---- */
/* The next value of the core's seeded xorshift generator (election timeouts). */
uint64_t raft_rand(struct raft *r);

/* ---- election.c: roles and votes ---- */
void raft_become_follower(struct raft *r, uint64_t term, raft_id leader);
void raft_become_leader(struct raft *r);
void raft_campaign(struct raft *r, bool transfer);
void raft_handle_vote(struct raft *r, const struct raft_msg *m);
void raft_handle_vote_resp(struct raft *r, const struct raft_msg *m);
void raft_reset_timeout(struct raft *r);

/* ---- replication.c ---- */
/* Appends a new entry of the current term to the leader's own log. 0 or an enum raft_err. */
int raft_append_local(struct raft *r, uint8_t type, const void *data, size_t len,
                      uint64_t *index);
bool raft_send_append(struct raft *r, struct raft_progress *pr, bool send_empty);
void raft_bcast_append(struct raft *r, bool send_empty);
void raft_bcast_heartbeat(struct raft *r);
void raft_handle_append(struct raft *r, const struct raft_msg *m);
void raft_handle_append_resp(struct raft *r, const struct raft_msg *m);
/* Leader: recomputes commit from the voters' match indexes. True if it advanced. */
bool raft_maybe_commit(struct raft *r);
/* Leader: side effects of a commit advance (reads, promotion, self-removal, broadcast). */
void raft_on_commit_advanced(struct raft *r);

/* ---- progress.c ---- */
struct raft_progress *raft_progress_find(struct raft *r, raft_id id);
/* Brings prs in line with r->config (keeps existing ones, logs added/removed peers). */
int raft_progress_sync(struct raft *r, bool fresh);
void raft_progress_free_all(struct raft *r);
void raft_progress_become_probe(struct raft *r, struct raft_progress *pr);
void raft_progress_become_replicate(struct raft *r, struct raft_progress *pr);
bool raft_progress_full(const struct raft *r, const struct raft_progress *pr);
void raft_progress_infl_add(const struct raft *r, struct raft_progress *pr, uint64_t last);
void raft_progress_infl_free_to(const struct raft *r, struct raft_progress *pr, uint64_t index);

/* ---- membership.c ---- */
bool raft_is_voter(const struct raft *r, raft_id id);
/* May this server campaign? A voter of the newest configuration, or of the one before it
 * while the newest (which removes or demotes it) is uncommitted. */
bool raft_promotable(const struct raft *r);
uint32_t raft_quorum(const struct raft *r);
/* Recomputes r->config from the newest CONFIG entry in the log (or the snapshot's). */
void raft_config_refresh(struct raft *r);
/* The configuration as of index (for a snapshot taken there). 0 or RAFT_ENOMEM. */
int raft_config_at(const struct raft *r, uint64_t index, struct raft_config *out);
void raft_maybe_promote(struct raft *r, struct raft_progress *pr);
/* Leader: steps down once a committed configuration no longer lists it as a voter. */
void raft_check_self_removal(struct raft *r);

/* ---- snapshot.c ---- */
void raft_send_snapshot(struct raft *r, struct raft_progress *pr);
void raft_handle_snapshot(struct raft *r, const struct raft_msg *m);
void raft_handle_snapshot_resp(struct raft *r, const struct raft_msg *m);
void raft_compact_if_pending(struct raft *r);

/* ---- readindex.c ---- */
void raft_reads_check(struct raft *r);
/* The leader committed its first entry of the term: waiting reads get their index. */
void raft_reads_start_waiting(struct raft *r);
void raft_reads_fail_all(struct raft *r);

#endif
