/* lib_gossipsim_cluster.h — N gossip cores wired to the simulated network through the real wire
 * codec: every outgoing packet is encoded to bytes, carried, decoded and delivered; plus checks. */
#ifndef TRIBUNE_TESTS_LIB_GOSSIPSIM_CLUSTER_H
#define TRIBUNE_TESTS_LIB_GOSSIPSIM_CLUSTER_H

#include "base/buf.h"
#include "gossip/gossip.h"
#include "gossip/wire.h"
#include "sim/lib_gossipsim.h"

#define GOSSIPSIM_MAX_NODES 1000
#define GOSSIPSIM_PORT 8301

struct gossipsim_node {
    struct gossip *g;     /* NULL when not running (never started, killed, or left and stopped) */
    bool killed;
    bool leaving;
    bool left;            /* finished a graceful leave and stopped */
    uint64_t stable_since; /* last time its reachability changed (partition, stall end, start) */
    struct gossip_wire_counters rx;
};

/* A probe of a killed node whose host refuses, followed from its ping to its end
 * (lib_gossipsim_watch.c). */
struct gossipsim_probe_watch {
    bool active;
    bool exempt; /* a helper it asked was down, or one of its datagrams was corrupted: a nack is
                    missing and the probe rightly waits out its period */
    int target;
    uint32_t seq;
    uint64_t start;
    uint64_t failed_before; /* the prober's probes_failed when the probe began */
};

struct gossipsim_cluster {
    struct gossipsim_world w;
    struct gossip_config base; /* every node's config but name, addr, tags and seed */
    uint64_t seed;
    int n;
    struct gossipsim_node *node;
    uint64_t *armed; /* time of each node's pending timer, UINT64_MAX if none */
    uint64_t stream_seq;
    uint32_t corrupt_permille; /* UDP datagrams with one bit flipped on purpose */
    uint64_t corrupted;
    uint64_t corrupt_refused;
    /* A FAILED event about a running, reachable member is a false death once both ends have been
     * stable (no partition change, no start) this long; the scenario sets it from the config. */
    uint64_t grace_ms;
    uint32_t *deaths_about; /* FAILED events about each node, summed over observers */
    uint64_t refusals;       /* refusal events handed to a core (gossip_refused) */
    uint64_t refusals_reset; /* refusals on a stream the node had accepted: a reset, not reported */
    /* Opt-in (0: off): a probe of a killed refusing node must end in suspicion within this many
     * ms of its ping, unless exempt; every probe ending is checked (lib_gossipsim_watch.c). */
    uint64_t refused_probe_bound_ms;
    struct gossipsim_probe_watch *watch; /* per prober */
    uint64_t probes_watched; /* ended within the bound as required */
    /* Watched probes exempted, plus ping-reqs sent to a down helper by any probe (one that fails
     * then waits out its period, which delays its prober's next probe). */
    uint64_t probes_exempt;
    uint64_t refused_probe_max_ms; /* the longest watched probe */
    int ticking; /* node whose timer is being handled now (its sends are probe starts), or -1 */
    uint64_t transient_failed; /* FAILED events about a leaver before its leave reached them */
    bool failed;
    char why[512];
    struct buf enc;
};

int gossipsim_cluster_init(struct gossipsim_cluster *c, int n, uint64_t seed, bool trace);
void gossipsim_cluster_free(struct gossipsim_cluster *c);

/* Records the first failure; later ones are dropped (the first is the one to debug). */
void gossipsim_failf(struct gossipsim_cluster *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void gossipsim_name(int i, char out[GOSSIP_NAME_MAX]);
struct gossip_addr gossipsim_addr(int i);
/* Index of a node name or address; -1 if it is not one of ours. */
int gossipsim_index_of_name(const struct gossipsim_cluster *c, const char *name);
int gossipsim_index_of_addr(const struct gossipsim_cluster *c, const struct gossip_addr *a);

/* Starts node i's core at the current time (again, after a kill: a fresh process with the same
 * name and address, starting from incarnation 1). 0 or -1 (failure recorded). */
int gossipsim_start(struct gossipsim_cluster *c, int i);
/* Node i joins node j (push-pull over a stream). */
void gossipsim_join(struct gossipsim_cluster *c, int i, int j);
/* Stops node i's process: its core is gone. refuses: its host stays up and answers what reaches
 * it with "port unreachable" (a crashed or stopped agent); otherwise the network drops everything
 * to and from it (the host is down or cut off). */
void gossipsim_kill(struct gossipsim_cluster *c, int i, bool refuses);
void gossipsim_leave(struct gossipsim_cluster *c, int i);
/* A paused process (SIGSTOP): no timers run, inbound datagrams wait in its socket buffer. */
void gossipsim_stall(struct gossipsim_cluster *c, int i);
void gossipsim_unstall(struct gossipsim_cluster *c, int i);
void gossipsim_set_groups(struct gossipsim_cluster *c, const int *groups);

bool gossipsim_running(const struct gossipsim_cluster *c, int i);
/* State of node j in node i's table; 0 if i does not know j. */
uint8_t gossipsim_view(const struct gossipsim_cluster *c, int i, int j);

/* Runs every event due up to `until` (virtual ms). Stops early once a failure is recorded. */
void gossipsim_run(struct gossipsim_cluster *c, uint64_t until);

/* lib_gossipsim_watch.c: the cluster's hooks. sent: node i hands packet p (to node `to`,
 * corrupted on purpose or not) to the network; settled: node i's core has just been drained. */
void gossipsim_watch_sent(struct gossipsim_cluster *c, int i, int to, const struct gossip_packet *p,
                          bool corrupted);
void gossipsim_watch_settled(struct gossipsim_cluster *c, int i);

/* The state observer must hold about node j, or 0 for "don't care". */
typedef uint8_t (*gossipsim_want_fn)(const struct gossipsim_cluster *c, int observer, int j,
                                     void *arg);

#endif
