/* raft.h — public API of the pure Raft core: a deterministic state machine fed messages, ticks and
 * proposals, handing back (through raft_ready) what to persist, send and apply. No I/O, no clock. */
#ifndef TRIBUNE_RAFT_RAFT_H
#define TRIBUNE_RAFT_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"
#include "raft/config.h"
#include "raft/msg.h"

/* The driving loop (the glue owns every byte of I/O; the core owns none):
 *
 *     raft_init(&r, &opts, &restored);          once, from what the log store loaded
 *     on timer:          raft_tick(&r);          every tick (e.g. 50 ms; election = 10 ticks)
 *     on frame:          raft_step(&r, &msg);
 *     on client write:   raft_propose(&r, data, len, &index);
 *     before sleeping:   while (raft_ready(&r, &rd)) {
 *         1. send rd.msgs                    (may go out before the disk write: leader pipelining)
 *         2. persist rd.hard_state (if rd.hard_state_changed), rd.snapshot (if non-NULL: then
 *            discard the whole log), truncate the log from rd.truncate_from (if non-zero), append
 *            rd.entries; fsync all of it
 *         3. send rd.msgs_after_persist      (MUST NOT leave before step 2 is durable)
 *         4. restore the FSM from rd.snapshot if any, then apply rd.committed in order
 *         5. answer rd.reads once the FSM has applied rd.reads[i].index
 *         6. raft_advance(&r, &rd);
 *     }
 *
 * MUST rules:
 *  - Between raft_ready and raft_advance, call no other raft_ function on the core: rd borrows
 *    the core's memory (entries, message bodies, snapshot) until raft_advance returns.
 *  - raft_advance tells the core that everything in rd is durable and rd.committed is applied.
 *    A follower's acknowledgements and votes are in msgs_after_persist for this reason; the
 *    leader counts itself toward commitment only from raft_advance, i.e. after its own fsync.
 *  - Term and vote MUST be written atomically (a crash never leaves a new term with an old vote).
 *  - An fsync failure is fatal: exit and recover from disk; never call raft_advance after one.
 *  - raft_step deep-copies whatever it keeps; the caller may free the message afterwards.
 */

enum raft_role {
    RAFT_FOLLOWER = 0,
    RAFT_PRECANDIDATE = 1, /* asking for pre-votes; term not yet bumped */
    RAFT_CANDIDATE = 2,
    RAFT_LEADER = 3,
};

/* "Follower", "Candidate" (also for pre-candidates, as Consul shows no such state), "Leader". */
const char *raft_role_name(enum raft_role role);

enum raft_err {
    RAFT_OK = 0,
    RAFT_ENOTLEADER = -1, /* not the leader: forward to raft_leader() */
    RAFT_EBUSY = -2,      /* a configuration change is still uncommitted, or the leader has not
                           * yet committed an entry of its term */
    RAFT_ENOMEM = -3,
    RAFT_EINVAL = -4,     /* bad argument or inconsistent restored state */
    RAFT_ENOTFOUND = -5,  /* no such server in the configuration */
    RAFT_EEXIST = -6,     /* server already in the configuration */
    RAFT_ETRANSFER = -7,  /* a leadership transfer is in progress: proposals are refused */
    RAFT_ETOOBIG = -8,    /* entry larger than UINT32_MAX, or configuration full */
    RAFT_ESTALE = -9,     /* snapshot index already compacted or not yet applied */
};

/* One-line English text for an enum raft_err value. */
const char *raft_strerror(int err);

struct raft_options {
    raft_id id;                    /* nonzero */
    char addr[RAFT_ADDR_MAX];      /* "ip:port" shown in log lines */
    unsigned election_ticks;       /* default 10; timeouts drawn from [e, 2e) */
    unsigned heartbeat_ticks;      /* default 1; must be < election_ticks */
    bool pre_vote;                 /* default true */
    bool check_quorum;             /* default true; also makes followers ignore votes while
                                    * they hear from a leader (leader stickiness) */
    uint32_t max_entries_per_msg;  /* default 64 */
    uint32_t max_inflight_msgs;    /* default 32: pipelined appends per follower */
    uint64_t snapshot_threshold;   /* default 16384 applied entries since the last snapshot;
                                    * 0: never ask (the caller may still snapshot) */
    uint64_t snapshot_trailing;    /* default 10240 entries kept behind a snapshot */
    const struct logger *log;      /* may be NULL */
    uint64_t seed;                 /* PRNG seed for election timeouts; 0 is replaced by id */
};

/* Fills o with the defaults above for this id and address. */
void raft_options_default(struct raft_options *o, raft_id id, const char *addr);

/* Snapshot metadata as persisted: the state machine includes every entry up to index. */
struct raft_snapshot {
    uint64_t index; /* 0: no snapshot */
    uint64_t term;
    struct raft_config config; /* the configuration in effect at index */
    uint32_t len;
    uint8_t *data; /* the FSM's serialized state */
};

/* What the log store and the metadata file loaded at start. Everything is copied by raft_init.
 * entries must be contiguous with nondecreasing terms (else RAFT_EINVAL). Entries at or below
 * the snapshot index are kept as the trailing log used to catch followers up, if they agree with
 * the snapshot. If they do not, or leave a gap after it, the snapshot wins: the first raft_ready
 * hands it out again (rd.snapshot), and the caller discards its log as for any installed one.
 * A log whose last term is above `term` makes the core adopt that term with no vote. */
struct raft_restore {
    uint64_t term;
    raft_id vote;
    const struct raft_snapshot *snapshot; /* NULL if none */
    const struct raft_entry *entries;
    size_t n_entries;
};

/* A linearizable read that may be served once the FSM has applied index. ok is false when
 * leadership was lost before the read was confirmed: the caller retries or fails it. */
struct raft_read_state {
    uint64_t ctx;
    uint64_t index;
    bool ok;
};

struct raft_ready {
    /* Soft state, for log lines and `tribune info`; never persisted. */
    bool soft_state_changed;
    enum raft_role role;
    raft_id leader;

    /* Hard state: write term and vote atomically when changed. */
    bool hard_state_changed;
    uint64_t term;
    raft_id vote;

    /* A snapshot received from the leader: persist it, drop the whole log, restore the FSM. */
    const struct raft_snapshot *snapshot;

    /* Delete entries with index >= truncate_from (0: nothing), then append entries. */
    uint64_t truncate_from;
    const struct raft_entry *entries;
    size_t n_entries;

    struct raft_msg *msgs;
    size_t n_msgs;
    struct raft_msg *msgs_after_persist;
    size_t n_msgs_after_persist;

    /* Committed entries to apply, in order; all already durable locally. */
    const struct raft_entry *committed;
    size_t n_committed;

    const struct raft_read_state *reads;
    size_t n_reads;

    /* The FSM should take a snapshot at its applied index and call raft_snapshot_done after
     * raft_advance (which zeroes rd: keep the flag). Reported once, then again only after
     * raft_snapshot_done and another snapshot_threshold applied entries. */
    bool snapshot_wanted;
};

/* ---- internals: the fields below are private to src/raft/; read them through accessors ---- */

enum raft_progress_state {
    RAFT_PR_PROBE = 0,     /* one append at a time until the match point is found */
    RAFT_PR_REPLICATE = 1, /* pipelined appends, up to max_inflight_msgs outstanding */
    RAFT_PR_SNAPSHOT = 2,  /* an InstallSnapshot is in flight; appends paused */
};

/* The leader's view of one other server. */
struct raft_progress {
    raft_id id;
    char addr[RAFT_ADDR_MAX];
    uint64_t match;
    uint64_t next;
    uint8_t state;         /* enum raft_progress_state */
    bool paused;           /* probe: an append is outstanding */
    bool recent_active;    /* heard from since the last check-quorum round */
    uint64_t pending_snapshot;
    uint64_t *infl;        /* ring of last indexes of appends in flight (replicate state) */
    uint32_t infl_head;
    uint32_t infl_n;
    uint64_t read_ack;     /* highest ReadIndex round it confirmed */
    uint64_t commit_sent;  /* highest commit index told to it */
    uint64_t hb_match;     /* match at the previous heartbeat */
    unsigned stalls;       /* heartbeats without progress while behind (lost appends) */
    unsigned snapshot_ticks; /* ticks since the snapshot was sent (resent after a timeout) */
};

/* The log since the last compaction, in memory: entries[i] has index base + 1 + i. */
struct raft_memlog {
    uint64_t base;      /* index before entries[0] (a snapshot's index or a trailing cut) */
    uint64_t base_term; /* term of the entry at base (0 when base == 0) */
    struct raft_entry *entries;
    size_t n;
    size_t cap;
};

struct raft_pending_read {
    uint64_t ctx;
    uint64_t index; /* commit index when confirmed rounds began; 0 while waiting for the no-op */
    uint64_t round; /* ReadIndex heartbeat round that confirms it */
};

struct raft_msgq {
    struct raft_msg *v;
    size_t n;
    size_t cap;
};

struct raft {
    struct raft_options o;
    enum raft_role role;
    uint64_t term;
    raft_id vote;
    raft_id leader;

    struct raft_memlog log;
    uint64_t commit;
    uint64_t applied;
    uint64_t durable;     /* last index known fsynced locally */
    uint64_t unstable;    /* first index not yet handed out by raft_ready (durable + 1 usually) */
    uint64_t truncate_from;

    struct raft_snapshot snap;       /* last snapshot taken or installed (owned) */
    bool snap_unstable;              /* snap was received and not yet handed to raft_ready */
    uint64_t compact_pending;        /* compact at the end of raft_advance up to this index */

    struct raft_config config;       /* latest in the log (in effect once appended) */
    uint64_t config_index;           /* index of the entry holding it (0: from snapshot/none) */
    uint64_t pending_conf_index;     /* leader: last config entry index it appended */

    struct raft_progress *prs;       /* leader: one per other server in config */
    size_t n_prs;

    unsigned election_elapsed;
    unsigned heartbeat_elapsed;
    unsigned randomized_timeout;
    uint64_t prng;
    uint64_t last_contact;           /* ticks since the leader was last heard (follower) */

    raft_id *voters_granted;
    size_t n_voters_granted;
    raft_id *voters_rejected;
    size_t n_votes_rejected;

    raft_id transferee;              /* leader: transfer target, 0 if none */
    unsigned transfer_elapsed;
    bool warned_no_peers;
    bool own_term_committed;         /* leader: an entry of its term is committed */
    bool bcast_pending;              /* leader: new entries to send at the next raft_ready */

    uint64_t read_round;
    struct raft_pending_read *reads;
    size_t n_reads;
    size_t cap_reads;
    struct raft_read_state *ready_reads;
    size_t n_ready_reads;
    size_t cap_ready_reads;

    struct raft_msgq out;            /* may be sent at once */
    struct raft_msgq out_after;      /* only after persistence */
    struct raft_msgq rd_out;         /* handed out in raft_ready, freed in raft_advance */
    struct raft_msgq rd_out_after;
    struct raft_read_state *rd_reads;
    size_t rd_n_reads;

    enum raft_role last_role;        /* soft state last reported */
    raft_id last_leader;
    uint64_t last_term;              /* hard state last reported */
    raft_id last_vote;
    bool in_ready;                   /* between raft_ready and raft_advance */
    uint64_t rd_durable_to;          /* last index once the handed-out ready is durable */
    uint64_t rd_applied_to;          /* applied once the handed-out ready is applied */
    size_t rd_cap_reads;
    bool snapshot_asked;             /* snapshot_wanted reported since the last snapshot */
    bool diverged;                   /* our commit contradicts the leader's log (note 14) */
};

/* ---- lifecycle ---- */

/* Initializes r from options and restored state (NULL: empty). Starts as a follower. 0 or an
 * enum raft_err (RAFT_EINVAL for a zero id, a non-contiguous log, heartbeat >= election). */
int raft_init(struct raft *r, const struct raft_options *o, const struct raft_restore *st);
void raft_close(struct raft *r);

/* On an empty log (no entries, no snapshot) only: appends a CONFIG entry at index 1 term 1 with
 * cfg (which must list this server as a voter). The next raft_ready persists it; a single-voter
 * configuration elects itself at the next tick. RAFT_EINVAL if the log is not empty. */
int raft_bootstrap(struct raft *r, const struct raft_config *cfg);

/* ---- inputs ---- */

/* Advances logical time by one tick: heartbeats, election timeouts, check-quorum. */
void raft_tick(struct raft *r);

/* Handles one message from a peer. Malformed or stale messages are ignored. 0 or RAFT_ENOMEM. */
int raft_step(struct raft *r, const struct raft_msg *m);

/* Leader only: appends a COMMAND entry (data copied) and reports its index. The entry is
 * committed when raft_ready hands it back in rd.committed. */
int raft_propose(struct raft *r, const void *data, size_t len, uint64_t *index);

/* Leader only: starts a ReadIndex round tagged ctx. The answer arrives in rd.reads. */
int raft_read_index(struct raft *r, uint64_t ctx);

/* Leader only, one change at a time: adds id as a non-voter; it is promoted to voter
 * automatically once its log has caught up with the commit index. */
int raft_add_server(struct raft *r, raft_id id, const char *addr);

/* Leader only, one change at a time: removes id (possibly the leader itself; it then steps down
 * once the change is committed and hands leadership to the most up-to-date voter). */
int raft_remove_server(struct raft *r, raft_id id);

/* Leader only: hands leadership to `to` (0: the most up-to-date voter) by catching it up and
 * sending TimeoutNow. Proposals are refused with RAFT_ETRANSFER until it ends or times out
 * (one election timeout). */
int raft_transfer_leadership(struct raft *r, raft_id to);

/* The FSM has serialized its state at applied index `index` (<= raft_applied): the core keeps a
 * copy to send to lagging followers and compacts its log at the next raft_advance, keeping
 * snapshot_trailing entries. The caller persists the snapshot itself before calling this. */
int raft_snapshot_done(struct raft *r, uint64_t index, const void *data, size_t len);

/* ---- output ---- */

/* Fills rd with pending work; false (and rd zeroed) when there is none. */
bool raft_ready(struct raft *r, struct raft_ready *rd);

/* Everything in rd is durable and rd.committed applied: release rd's memory, count the durable
 * entries, advance commit if possible. */
void raft_advance(struct raft *r, struct raft_ready *rd);

/* ---- accessors (for `tribune info` and tests) ---- */
enum raft_role raft_state(const struct raft *r);
uint64_t raft_term(const struct raft *r);
raft_id raft_leader(const struct raft *r);
raft_id raft_vote(const struct raft *r);
uint64_t raft_commit_index(const struct raft *r);
uint64_t raft_applied_index(const struct raft *r);
uint64_t raft_last_index(const struct raft *r);
uint64_t raft_last_term(const struct raft *r);
uint64_t raft_snapshot_index(const struct raft *r);
uint64_t raft_snapshot_term(const struct raft *r);
/* Ticks since the leader was last heard from; 0 on the leader. */
uint64_t raft_last_contact(const struct raft *r);
/* The configuration in effect (borrowed until the next call that changes the core). */
const struct raft_config *raft_configuration(const struct raft *r);
/* The log index of the entry holding it (the snapshot's index when it came from a snapshot). */
uint64_t raft_configuration_index(const struct raft *r);
/* Address of the current leader from the configuration, or NULL when unknown. */
const char *raft_leader_addr(const struct raft *r);
/* Entry at index if still in memory, else NULL (borrowed, like raft_configuration). */
const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index);

#endif
