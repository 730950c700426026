/* lib_raftsim_cluster.h — a simulated Raft cluster: cores from src/raft driven through their Ready
 * contract over the simulated network and disks, with the client, crashes and per-step checks. */
#ifndef TRIBUNE_TESTS_LIB_RAFTSIM_CLUSTER_H
#define TRIBUNE_TESTS_LIB_RAFTSIM_CLUSTER_H

#include "base/log.h"
#include "raft/raft.h"
#include "sim/lib_raftsim.h"

#define RAFTSIM_TICK 10 /* virtual time units per core tick */

/* Where inside the Ready cycle an armed crash strikes (the interesting points of the contract). */
enum raftsim_crash_point {
    RAFTSIM_CRASH_NONE = 0,
    RAFTSIM_CRASH_AFTER_SEND = 1,    /* rd.msgs gone, nothing written */
    RAFTSIM_CRASH_BEFORE_SYNC = 2,   /* written but not fsynced: a prefix may survive, torn */
    RAFTSIM_CRASH_AFTER_SYNC = 3,    /* durable, msgs_after_persist not sent */
    RAFTSIM_CRASH_BEFORE_ADVANCE = 4 /* acknowledged and applied, core not told */
};

/* Deliberate glue bugs, to prove the checks catch what they claim to (the simulator's self-test). */
enum raftsim_sabotage {
    RAFTSIM_SAB_NONE = 0,
    RAFTSIM_SAB_ACK_EARLY = 1,   /* msgs_after_persist leave before the write is durable */
    RAFTSIM_SAB_NO_FSYNC = 2,    /* writes are never synced: a crash loses them */
    RAFTSIM_SAB_FORGET_VOTE = 3, /* the vote is persisted as "none" */
    RAFTSIM_SAB_NO_CHECK_QUORUM = 4, /* cores run without check-quorum */
};

struct raftsim_node {
    raft_id id;
    bool exists;  /* has a disk */
    bool up;      /* core running */
    bool removed; /* stopped for good: a committed configuration dropped it */
    uint64_t stop_at;   /* removed: when to shut it down (0: not scheduled) */
    uint64_t restart_at; /* down: when the nemesis restarts it (0: not scheduled) */
    struct raft core;
    struct raftsim_disk disk;
    struct raftsim_fsm fsm;
    struct raft_config cfg_applied; /* configuration as of fsm.applied, for snapshots */
    uint64_t next_tick;
    unsigned phase;
    unsigned tick_len;      /* this server's clock: RAFTSIM_TICK +- skew */
    uint64_t paused_until;  /* a stopped process (SIGSTOP, GC, VM stall): no ticks, no input */
    uint64_t ticks;         /* its own ticks since boot: check-quorum is judged in these */
    uint64_t leader_since;  /* ticks value when it last became leader or its voters changed */
    uint64_t voters_sig;    /* signature of the voter set leader_since refers to */
    uint64_t granted_term;  /* the last term it granted a vote in, and to whom (survives */
    raft_id granted_to;     /* crashes: a vote is a promise of the server, not the process) */
    uint64_t heard[RAFTSIM_MAX_IDS]; /* ticks value when a message from each peer last arrived */
    enum raft_role role;
    uint64_t term;
    uint64_t commit; /* last observed commit index, must never go back while up */
    int crash_armed; /* enum raftsim_crash_point for the next Ready that writes */
    bool log_changed; /* since the last log matching check */
    bool in_config;   /* member of the newest committed configuration */
    uint64_t crashes;
};

/* A client request waiting for its leader to report it committed. */
struct raftsim_prop {
    raft_id at;
    uint64_t index, term;
    uint32_t crc;
    bool heal; /* issued in the heal phase: must commit */
};

struct raftsim_read {
    raft_id at;
    uint64_t ctx;
    uint64_t min_index; /* highest acknowledged index when the read was issued */
};

struct raftsim_cluster {
    uint64_t seed;
    uint64_t now;
    struct raftsim_rng rng;
    struct raftsim_trace tr;
    struct raftsim_net net;
    struct raftsim_check chk;
    struct raftsim_node nodes[RAFTSIM_MAX_IDS]; /* by id; slot 0 unused */
    struct logger log;
    bool use_log;
    /* core knobs chosen per seed */
    unsigned election_ticks, heartbeat_ticks;
    unsigned clock_skew; /* each server's tick length is drawn from RAFTSIM_TICK +- this */
    uint64_t snap_threshold, snap_trailing;
    uint32_t max_entries;
    unsigned tear_pm;
    unsigned crash_ready_pm; /* chance that a Ready with writes is interrupted by a crash */
    int sabotage;            /* enum raftsim_sabotage */
    uint64_t restart_max;    /* a server crashed inside a Ready restarts within this; 0: never */
    uint64_t max_cfg_index; /* newest CONFIG entry any server applied */
    /* client */
    struct raftsim_prop *props;
    size_t n_props, cap_props;
    uint64_t next_payload;
    uint64_t max_acked_index;
    uint64_t acked, proposed, heal_acked;
    struct raftsim_read *reads;
    size_t n_reads, cap_reads;
    uint64_t next_read_ctx;
    uint64_t reads_ok;
    /* statistics */
    uint64_t steps, max_term, elections_seen, snapshots, restores, mid_ready_crashes;
    uint64_t installs, adds, removes, transfers, crashes;
    uint64_t heal_time; /* virtual time the heal phase took to converge */
};

/* Seeds the run and sets default knobs; adjust the knobs, then call raftsim_cluster_start. */
void raftsim_cluster_init(struct raftsim_cluster *c, uint64_t seed, bool trace);
/* Creates ids 1..n, all bootstrapped with one configuration holding them as voters. */
int raftsim_cluster_start(struct raftsim_cluster *c, unsigned n);
void raftsim_cluster_free(struct raftsim_cluster *c);

/* Creates server id with an empty disk and no bootstrap (a fresh server about to be added). */
int raftsim_node_create(struct raftsim_cluster *c, raft_id id);
/* Crashes a running server now: unsynced writes are lost (randomly kept prefix, maybe torn). */
void raftsim_node_crash(struct raftsim_cluster *c, raft_id id);
/* Stops a running server's process for `len` time units; it then resumes where it was. */
void raftsim_node_pause(struct raftsim_cluster *c, raft_id id, uint64_t len);
/* Restarts a server from its disk. */
int raftsim_node_restart(struct raftsim_cluster *c, raft_id id);

/* Runs every event due before `until` (ticks, deliveries, scheduled stops), checking after each.
 * Returns false as soon as a check fails. */
bool raftsim_run_until(struct raftsim_cluster *c, uint64_t until);

/* The running leader with the highest term, or 0. */
raft_id raftsim_leader(const struct raftsim_cluster *c);
/* Proposes a fresh command at the leader; 0 or the core's error. */
int raftsim_propose(struct raftsim_cluster *c, bool heal);
/* Starts a linearizable read at the leader. */
int raftsim_read(struct raftsim_cluster *c);
/* Outstanding heal-phase proposals. */
size_t raftsim_pending_heal(const struct raftsim_cluster *c);
/* Forgets proposals made at servers that are no longer leader (their fate is unknown). */
void raftsim_drop_orphans(struct raftsim_cluster *c);

/* Runs a server's Ready cycles until it has no work, then the per-step checks. */
void raftsim_process(struct raftsim_cluster *c, struct raftsim_node *nd);

/* Client hooks called by the cluster (lib_raftsim_client.c): a server applied e; a server
 * produced read states; a server died, taking its callers' requests with it. */
void raftsim_client_applied(struct raftsim_cluster *c, struct raftsim_node *nd,
                            const struct raft_entry *e);
void raftsim_client_reads(struct raftsim_cluster *c, struct raftsim_node *nd,
                          const struct raft_read_state *rs, size_t n);
void raftsim_client_forget(struct raftsim_cluster *c, raft_id id);

/* One line per server: role, term, vote, leader, commit, applied, snapshot, last index. */
void raftsim_dump(const struct raftsim_cluster *c, FILE *out);

/* Cross-server checks that are too costly for every step: log matching over all pairs. */
void raftsim_check_all_logs(struct raftsim_cluster *c);

/* Runs the scripted scenario `name` ("all" for every one), adding to the counts. Defined in
 * lib_raftsim_scenarios.c. */
void raftsim_scenarios_run(const char *name, const char *argv0, bool trace, bool verbose,
                           int *passed, int *failed);

#endif
