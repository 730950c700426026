/* agent_impl.h — the running agent shared by its parts (lifecycle, server, leader duties, HTTP
 * endpoints, monitor): one struct, owned by agent_run, living on the one reactor. */
#ifndef TRIBUNE_AGENT_AGENT_IMPL_H
#define TRIBUNE_AGENT_AGENT_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/config.h"
#include "agent/datadir.h"
#include "base/log.h"
#include "gossip/node.h"
#include "http/server.h"
#include "loop/loop.h"
#include "raft/node.h"
#include "state/state.h"

struct agent_monitor;
struct agent_waiter;
struct agent;

/* The context of one catalog/health read route. */
struct agent_qctx {
    struct agent *a;
    int kind;
};
#define AGENT_QROUTES 8

struct agent {
    const struct agent_config *cfg;
    struct logger *lg;
    struct loop *loop;
    int exit_code;
    struct agent_datadir dd;
    raft_id raft_id;             /* from DATA_DIR/node-id; never changes for a data dir */
    struct state *st;            /* servers only */
    struct raft_node *raft;      /* servers only */
    struct gossip_node *gossip;
    struct http_server *http;
    uint64_t started_ms;
    /* leader duties */
    bool leader;
    bool barrier_done;           /* leader: our term's barrier applied, catalog reads are current */
    uint64_t reconcile_timer;
    unsigned inflight;           /* catalog proposals not yet applied or failed */
    bool reconcile_again;
    uint64_t poll_timer;
    raft_id seen_leader;         /* for "New leader elected" */
    uint64_t tagged_cluster_id;  /* the Raft cluster id our gossip tags advertise */
    /* shutdown */
    bool leaving;
    uint64_t leave_timer;
    uint64_t leave_deadline_timer;
    unsigned leave_polls;
    /* retry_join */
    uint64_t retry_timer;
    int retry_attempts;
    /* monitor streams */
    struct agent_monitor *monitors;
    bool in_tap;
    /* catalog read forwarding (rpc.c) */
    struct agent_rpc *rpc;
    struct agent_qctx qctx[AGENT_QROUTES];
    /* blocking queries */
    struct agent_waiter *waiters;
    struct agent_waiter *rerun;  /* the parked request being re-run, if any */
    bool rerun_final;            /* its wait is over: answer whatever the result */
    uint64_t wake_timer;
    bool consistent_pass;        /* inside a ?consistent read whose barrier passed */
    bool expect_done;
    uint64_t expect_timer;
    unsigned expect_tries;
};

/* nodeid.c: reads DATA_DIR/node-id or creates it with a fresh random id. Refuses a file naming
 * another node. 0, or -1 with err. */
int agent_nodeid_load(const char *data_dir, const char *node_name, raft_id *id, char *err,
                      size_t errlen);
/* Writes text to path durably and atomically (temp file, fsync, rename, fsync dir). */
int agent_write_atomic(const char *dir, const char *path, const char *text, char *err,
                       size_t errlen);
/* The decoder alone: len bytes of a node-id file (path only names it in err; may be NULL). */
int agent_nodeid_parse(const char *path, const char *data, size_t len, const char *node_name,
                       raft_id *id, char *err, size_t errlen);

/* server.c */
int agent_server_open(struct agent *a, char *err, size_t errlen);
void agent_server_close(struct agent *a);
/* -bootstrap-expect: once expect servers are alive in gossip and our log is empty, bootstrap
 * them all with one identical configuration (written as raft/peers.json, then Raft reopened). */
void agent_server_expect_check(struct agent *a);
/* The member name of a server from its Raft id, or NULL. */
const char *agent_server_name(const struct agent *a, raft_id id);

/* leader.c */
void agent_leader_changed(struct agent *a, bool leader);
void agent_leader_member_event(struct agent *a);
void agent_leader_stop(struct agent *a);

/* gossip glue in agent.c */
void agent_gossip_tags(const struct agent *a, struct gossip_tags *t);
/* info.c: the IP text of a gossip address. */
char *agent_gossip_ip(const struct gossip_addr *ga, char *out, size_t outlen);

/* api_*.c: route registration */
int agent_api_agent_routes(struct agent *a);
int agent_api_status_routes(struct agent *a);
int agent_api_catalog_routes(struct agent *a);
int agent_api_kv_routes(struct agent *a);
int agent_api_catalog_write_routes(struct agent *a);
/* The body of PUT /v1/catalog/register (reg) or /deregister as one state command appended to
 * cmd: 0, or -1 with the HTTP status and Consul's one-line message. Pure: for tests and fuzzing. */
int agent_catalog_decode(bool reg, const uint8_t *body, size_t len, const char *our_dc,
                         struct buf *cmd, int *status, char *msg, size_t msglen);
int agent_api_operator_routes(struct agent *a); /* api_operator.c */

/* info.c: the Stats object of /v1/agent/self (and the Member object) */
struct json_wr;
void agent_info_stats(const struct agent *a, struct json_wr *w);
void agent_info_member(const struct agent *a, const struct gossip_member *m, struct json_wr *w);
const char *agent_member_status_name(uint8_t state);

/* monitor.c */
void agent_monitor_init(struct agent *a);
int agent_monitor_add(struct agent *a, struct http_req *r, enum log_level level);
void agent_monitor_close_all(struct agent *a);

/* agent.c: graceful leave as on SIGINT (also /v1/agent/leave), and reload as on SIGHUP */
void agent_graceful_leave(struct agent *a);
void agent_reload(struct agent *a);

/* rpc.c: what a client knows of the servers, from gossip. */
const char *agent_rpc_leader_hint(const struct agent *a);
void agent_rpc_peers_hint(const struct agent *a, struct json_wr *w);

/* blocking.c: parks r (a read whose result index is not past ?index) until the state changes
 * or wait_ms passes, then calls fn(r, ctx) again. false: answer now (the wait is over). */
void agent_blocking_init(struct agent *a);
void agent_blocking_stop(struct agent *a);
bool agent_block_park(struct agent *a, struct http_req *r, http_handler_fn fn, void *ctx,
                      uint64_t wait_ms);

/* ?consistent: READ_NOW when the read may run now (barrier passed), READ_PENDING when fn(r, ctx)
 * will be called again after a read barrier, READ_ANSWERED when r got an error answer. */
enum { AGENT_READ_NOW, AGENT_READ_PENDING, AGENT_READ_ANSWERED };
int agent_consistent_read(struct agent *a, struct http_req *r, http_handler_fn fn, void *ctx);

/* Common response headers of a read (X-Consul-Index/KnownLeader/LastContact). */
void agent_read_headers(const struct agent *a, struct http_req *r, uint64_t index);

#endif
