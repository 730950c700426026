/* node.h — a running Raft server: the pure core (raft.h) joined to the reactor, the durable log,
 * term/vote metadata, snapshot files, peers.json recovery and the TCP transport.
 *
 * Threading and re-entrancy: everything runs on the one loop. The FSM callbacks (apply, snapshot,
 * restore) run inside the node's Ready processing and MUST NOT call any raft_node_ function.
 * Completion callbacks (done, read, leadership) run after the core released its Ready, so they
 * may call raft_node_propose and friends. raft_node_close from any callback (fatal included) is
 * deferred until the node's Ready processing unwinds.
 *
 * On disk, under DATA_DIR/raft/: the log segments and log-meta (logstore.h), meta (term and vote,
 * meta.h), snapshots/<term>-<index>.snap (the two newest are kept) and, for outage recovery only,
 * peers.json (consumed and deleted at open). */
#ifndef TRIBUNE_RAFT_NODE_H
#define TRIBUNE_RAFT_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/log.h"
#include "loop/loop.h"
#include "raft/logstore.h"
#include "raft/msg.h"
#include "raft/raft.h"

#define RAFT_NODE_DEFAULT_PORT 8300
/* Consul's HeartbeatTimeout/ElectionTimeout are 1000 ms and its leader contacts followers about
 * ten times per timeout: 100 ms ticks, elections after 10..20 ticks, a heartbeat every tick. */
#define RAFT_NODE_DEFAULT_TICK_MS 100
#define RAFT_NODE_DEFAULT_ELECTION_TICKS 10
#define RAFT_NODE_DEFAULT_HEARTBEAT_TICKS 1
#define RAFT_NODE_SNAPSHOTS_KEPT 2
/* The largest command accepted: an entry must fit in one wire frame (4 MiB) with its headers, or
 * it could never be replicated and would wedge every follower behind it. */
#define RAFT_NODE_MAX_ENTRY ((4u << 20) - 1024)
#define RAFT_NODE_ERRMAX 256

/* Errors of the node's own, beside enum raft_err (raft_node_strerror covers both). */
enum raft_node_err {
    RAFT_NODE_ELOST = -20,     /* leadership lost before the entry was known committed: the
                                * outcome is unknown (it may still be applied) */
    RAFT_NODE_ESHUTDOWN = -21, /* the node closed first */
    RAFT_NODE_EFAILED = -22,   /* a fatal disk error stopped the node */
    RAFT_NODE_EREAD = -23,     /* a read barrier could not be confirmed (leadership lost) */
};

const char *raft_node_strerror(int err);

struct raft_transport_rpc; /* raft/transport.h */

struct raft_node_opts {
    const char *data_dir;  /* DATA_DIR; the node uses DATA_DIR/raft/ (created 0700) */
    raft_id id;            /* nonzero, stable for the life of the data dir */
    const char *advertise; /* "ip:port" other servers dial (server RPC, port 8300) */
    const char *bind;      /* "ip:port" to listen on; NULL: the advertised address */
    const char *cluster;   /* datacenter name: the transport refuses other clusters */
    bool bootstrap;        /* on an empty log, make a one-server configuration of ourselves */
    unsigned tick_ms;          /* 0: RAFT_NODE_DEFAULT_TICK_MS */
    unsigned election_ticks;   /* 0: default */
    unsigned heartbeat_ticks;  /* 0: default */
    uint64_t snapshot_threshold; /* applied entries between snapshots; 0: the core's 16384 */
    uint64_t snapshot_trailing;  /* entries kept behind a snapshot; 0: the core's 10240 */
    uint64_t seed;             /* election timeout PRNG seed; 0: derived from id and the clock */
    const struct rlog_io *io;  /* tests: fault injection in the log store; NULL: real calls */
    unsigned backoff_max_ms;   /* re-dial delay ceiling toward a down peer; 0: transport's 5 s */
    const struct raft_transport_rpc *rpc; /* agent RPC on the Raft port; NULL: none */
};

/* Fills o with the defaults; the caller sets data_dir, id, advertise and cluster. */
void raft_node_opts_default(struct raft_node_opts *o);

/* The replicated state machine, plus what the owner wants to hear about. */
struct raft_node_fsm {
    void *ctx;
    /* A committed COMMAND entry, in log order, exactly once per process lifetime of the FSM
     * state (after a restore, from the snapshot's index on). The result goes to the proposer's
     * done callback. Required. */
    int64_t (*apply)(void *ctx, uint64_t index, const uint8_t *data, size_t len);
    /* Serializes the whole state (as of the last applied index) into out. 0, or -1 to skip this
     * snapshot (logged; retried at the next threshold). Required. */
    int (*snapshot)(void *ctx, struct buf *out);
    /* Replaces the whole state with a snapshot's bytes (at open and on InstallSnapshot). 0, or
     * -1, which is fatal: a state machine that cannot load a committed snapshot cannot go on.
     * Required. */
    int (*restore)(void *ctx, const uint8_t *data, size_t len);
    /* We became (true) or stopped being (false) the leader. May be NULL. */
    void (*on_leader)(void *ctx, bool leader);
    /* A fatal disk error (after the `[ERR] raft: ...` line): the process must exit and recover
     * from disk. The node has stopped; only raft_node_close may follow. NULL: exit(1). */
    void (*fatal)(void *ctx, const char *msg);
};

struct raft_node;

/* Opens DATA_DIR/raft/: loads meta, the newest valid snapshot (restoring the FSM from it), the
 * log, applies DATA_DIR/raft/peers.json if present, bootstraps if asked and the log is empty,
 * starts the transport and the tick timer. 0 and *out, or -1 with a one-line reason in err (a
 * corrupt store, a malformed peers.json, a port in use, ...). The loop and logger must outlive
 * the node. */
int raft_node_open(struct loop *l, const struct raft_node_opts *o, const struct raft_node_fsm *fsm,
                   const struct logger *lg, struct raft_node **out, char *err, size_t errlen);

/* Graceful stop: processes what the core has ready (persisting and syncing it), fails waiting
 * proposals and reads with RAFT_NODE_ESHUTDOWN, closes the transport, the log and the timers. */
void raft_node_close(struct raft_node *n);

/* Tests only: a crash. Closes file descriptors and frees memory without persisting or syncing
 * anything still pending, and calls no callback. What is on disk is what a killed process
 * would leave (up to the page cache, which tests cannot drop). */
void raft_node_crash(struct raft_node *n);

/* ---- client operations ---- */

struct raft_node_result {
    int err;            /* 0, or RAFT_NODE_ELOST / ESHUTDOWN / EFAILED */
    uint64_t index;     /* the entry's log index */
    int64_t value;      /* the FSM's apply result when err == 0 */
};
typedef void (*raft_node_done_fn)(void *ctx, const struct raft_node_result *res);

/* Proposes a COMMAND entry (data copied). 0: done(ctx, res) will be called exactly once, when the
 * entry is applied locally or it fails. Otherwise an error and done is never called:
 * RAFT_ENOTLEADER (forward to raft_node_leader_addr), RAFT_ETRANSFER, RAFT_ETOOBIG (above
 * RAFT_NODE_MAX_ENTRY), RAFT_ENOMEM, RAFT_NODE_EFAILED, RAFT_NODE_ESHUTDOWN. */
int raft_node_propose(struct raft_node *n, const void *data, size_t len, raft_node_done_fn done,
                      void *ctx);

/* A linearizable read barrier: cb(ctx, 0, index) once this server is confirmed leader and the
 * FSM has applied everything committed when the read began; the caller then reads its FSM.
 * cb(ctx, RAFT_NODE_EREAD/ESHUTDOWN/EFAILED, 0) otherwise. Returns as raft_node_propose. */
typedef void (*raft_node_read_fn)(void *ctx, int err, uint64_t index);
int raft_node_read_index(struct raft_node *n, raft_node_read_fn cb, void *ctx);

/* Membership (leader only, one change at a time; the core's enum raft_err). A server is added as
 * a non-voter and promoted once it has caught up. */
int raft_node_add_server(struct raft_node *n, raft_id id, const char *addr);
int raft_node_remove_server(struct raft_node *n, raft_id id);
/* to 0: the most up-to-date voter. */
int raft_node_transfer_leadership(struct raft_node *n, raft_id to);

/* ---- introspection ---- */

bool raft_node_is_leader(const struct raft_node *n);
enum raft_role raft_node_state(const struct raft_node *n);
raft_id raft_node_id(const struct raft_node *n);
/* The leader's address ("ip:port") or "" when unknown. */
const char *raft_node_leader_addr(const struct raft_node *n);
raft_id raft_node_leader_id(const struct raft_node *n);
/* The configuration in effect, borrowed until control returns to the loop. */
const struct raft_config *raft_node_configuration(const struct raft_node *n);
/* The Raft cluster this server's log belongs to (in meta): chosen when it bootstraps, taken
 * from the first peer that contacts it otherwise; 0 before either. Servers of other clusters
 * are refused at the handshake. */
uint64_t raft_node_cluster_id(const struct raft_node *n);
/* The Raft index of that configuration (/v1/operator/raft/configuration's Index). */
uint64_t raft_node_configuration_index(const struct raft_node *n);
/* The bound RPC listen address, formatted ("127.0.0.1:8300"). */
const char *raft_node_listen_addr(const struct raft_node *n);
/* True once a fatal disk error stopped the node. */
bool raft_node_failed(const struct raft_node *n);

/* The figures `tribune info` shows under "raft", with Consul's names. */
struct raft_node_stats {
    uint64_t applied_index;
    uint64_t commit_index;
    uint64_t fsm_pending;     /* committed, not yet applied */
    char last_contact[32];    /* "never", "0" (leader) or a duration like "23.5ms" */
    uint64_t last_log_index;
    uint64_t last_log_term;
    uint64_t last_snapshot_index;
    uint64_t last_snapshot_term;
    uint64_t num_peers;       /* other servers in the configuration */
    const char *state;        /* "Follower", "Candidate", "Leader" */
    uint64_t term;
};
void raft_node_stats(const struct raft_node *n, struct raft_node_stats *out);

/* Go's time.Duration text for a non-negative number of nanoseconds: "0s", "850µs", "23.5ms",
 * "1.25s", "2m3s". out holds at least 32 bytes. Returns out. */
char *raft_node_format_duration(uint64_t ns, char *out, size_t outlen);

#endif
