/* node.h — a running gossip member: the pure SWIM core driven by the reactor over UDP and TCP on one
 * port, with serf's snapshot file for rejoining after a crash. This is Consul's LAN pool (8301). */
#ifndef TRIBUNE_GOSSIP_NODE_H
#define TRIBUNE_GOSSIP_NODE_H

#include "base/log.h"
#include "gossip/gossip.h"
#include "gossip/wire.h"
#include "loop/loop.h"

#define GOSSIP_NODE_DEFAULT_PORT 8301

struct gossip_node;

struct gossip_node_opts {
    const char *name;      /* node name, unique in the pool */
    const char *bind;      /* "ip:port" for UDP and TCP; port 0 picks a free one (tests) */
    const char *advertise; /* "ip:port" others reach us at; NULL: the bound address */
    struct gossip_tags tags;
    const char *data_dir;  /* snapshot at DATA_DIR/serf/local.snapshot; NULL: no snapshot */
    bool rejoin;           /* after a graceful leave, rejoin the snapshot's members anyway */
    uint64_t seed;         /* the core's PRNG seed; 0: drawn from getrandom */
    /* Timings and limits; NULL: memberlist's LAN defaults. name/addr/tags/seed are ignored. */
    const struct gossip_config *tuning;
};

struct gossip_node_cbs {
    /* Every membership event, after it has been logged. May be NULL. */
    void (*on_event)(void *ctx, const struct gossip_event *ev);
    void *ctx;
};

/* Result of gossip_node_join: how many addresses answered the push-pull, and the first failure. */
typedef void (*gossip_node_join_fn)(void *ctx, int contacted, const char *first_err);
typedef void (*gossip_node_leave_fn)(void *ctx);

/* Binds UDP and TCP, starts probing, and (after a crash, or with opts->rejoin) rejoins the
 * members remembered in the snapshot. NULL on failure with a one-line reason in err. */
struct gossip_node *gossip_node_open(struct loop *l, const struct gossip_node_opts *opts,
                                     const struct gossip_node_cbs *cbs, const struct logger *lg,
                                     char *err, size_t errlen);
/* Stops at once, without leaving (the others will see this node fail). */
void gossip_node_close(struct gossip_node *n);

/* Push-pull with each "ip" or "ip:port" (default port 8301). done is called once, when every
 * address has answered or failed (TCP timeout 10 s). -1 with a reason in err when no address
 * parses or the node is leaving. */
int gossip_node_join(struct gossip_node *n, const char *const *addrs, size_t n_addrs,
                     gossip_node_join_fn done, void *ctx, char *err, size_t errlen);

/* Graceful leave: the intent spreads (bounded by the core's leave timeout), `leave` is written to
 * the snapshot, then done is called. -1 if already leaving. */
int gossip_node_leave(struct gossip_node *n, gossip_node_leave_fn done, void *ctx);

/* Operator force-leave of a failed member. -1 if unknown or not failed. */
int gossip_node_force_leave(struct gossip_node *n, const char *name);
int gossip_node_set_tags(struct gossip_node *n, const struct gossip_tags *tags);

/* The core, read-only: member table, counts, stats. */
const struct gossip *gossip_node_core(const struct gossip_node *n);
/* The advertised address as "ip:port". */
const char *gossip_node_addr(const struct gossip_node *n);
/* Decode results of everything received (bad packets are counted here and dropped). */
const struct gossip_wire_counters *gossip_node_wire_counters(const struct gossip_node *n);

/* "ip:port" text of a gossip address; out holds at least 56 bytes. */
char *gossip_node_format_addr(const struct gossip_addr *a, char *out, size_t outlen);

#endif
