/* node_impl.h — the Raft node's private state, shared by node.c (lifecycle, client operations)
 * and node_ready.c (the Ready loop: persistence, sending, applying, snapshots). */
#ifndef TRIBUNE_RAFT_NODE_IMPL_H
#define TRIBUNE_RAFT_NODE_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "loop/net.h"
#include "raft/logstore.h"
#include "raft/node.h"
#include "raft/raft.h"
#include "raft/transport.h"

#define RAFT_NODE_PATH_MAX 4096

struct raft_node_prop {
    uint64_t index;
    uint64_t term;
    raft_node_done_fn done;
    void *ctx;
};

struct raft_node_read {
    uint64_t id;    /* the core's ReadIndex ctx */
    uint64_t index; /* valid once confirmed */
    bool confirmed; /* the core confirmed leadership for it */
    raft_node_read_fn cb;
    void *ctx;
};

enum { RAFT_NODE_EV_PROP = 1, RAFT_NODE_EV_READ, RAFT_NODE_EV_LEADER };

/* A callback to run once the core's Ready is released (callbacks may re-enter the node). */
struct raft_node_event {
    int kind;
    raft_node_done_fn done;
    raft_node_read_fn read;
    void *ctx;
    struct raft_node_result res;
    bool leader;
};

struct raft_node {
    struct loop *loop;
    const struct logger *lg;
    struct raft_node_fsm fsm;
    char dir[RAFT_NODE_PATH_MAX];     /* DATA_DIR/raft */
    char snapdir[RAFT_NODE_PATH_MAX]; /* DATA_DIR/raft/snapshots */
    char advertise[RAFT_ADDR_MAX];
    char listen[LOOP_ADDR_STRLEN];
    raft_id id;
    uint64_t cluster_id; /* as in meta: 0 until this server bootstraps or joins a cluster */
    unsigned tick_ms;
    uint64_t trailing;
    uint64_t threshold;
    uint64_t snap_retry_at; /* a refused snapshot is retried once applied reaches this; 0: none */

    struct raft core;
    bool core_ok;
    struct rlog *log;
    struct raft_transport *tr;
    uint64_t hook_id;
    uint64_t tick_timer;

    bool failed;
    bool in_drive;
    bool core_busy; /* between raft_ready and raft_advance */
    bool close_requested; /* raft_node_close from inside a callback: done when drive unwinds */
    bool closing;         /* raft_node_close is running */
    enum raft_role role;
    raft_id leader;

    struct raft_config wired;   /* the peers given to the transport */
    struct raft_config applied_cfg; /* the configuration as of the applied index */
    uint64_t applied;

    struct raft_node_prop *props; /* ascending index */
    size_t n_props, cap_props;
    struct raft_node_read *reads;
    size_t n_reads, cap_reads;
    uint64_t next_read_id;
    struct raft_node_event *evs;
    size_t n_evs, cap_evs;

    bool contacted;
    uint64_t contact_ns; /* CLOCK_MONOTONIC when the leader was last heard */
};

/* node_ready.c */
void raft_node_drive(struct raft_node *n);
void raft_node_sync_peers(struct raft_node *n);
void raft_node_fail(struct raft_node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int raft_node_push_event(struct raft_node *n, const struct raft_node_event *ev);
void raft_node_fire_events(struct raft_node *n);
void raft_node_fail_all(struct raft_node *n, int prop_err, int read_err);
uint64_t raft_node_now_ns(void);

#endif
