/* lib_gossipsim.h — the world the gossip simulator runs in: a seeded PRNG, a virtual millisecond
 * clock, one time-ordered event queue, and a network that loses, delays, partitions, stalls and
 * answers "port unreachable" from the hosts of stopped agents. */
#ifndef TRIBUNE_TESTS_LIB_GOSSIPSIM_H
#define TRIBUNE_TESTS_LIB_GOSSIPSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* splitmix64: tiny, seedable with any value, and good enough to drive fault choices. */
struct gossipsim_rng {
    uint64_t s;
};

void gossipsim_rng_seed(struct gossipsim_rng *r, uint64_t seed);
uint64_t gossipsim_rng_next(struct gossipsim_rng *r);
/* Uniform in [0, n); 0 when n == 0. */
uint32_t gossipsim_rng_below(struct gossipsim_rng *r, uint32_t n);
/* True with probability permille/1000. */
bool gossipsim_rng_chance(struct gossipsim_rng *r, uint32_t permille);

enum gossipsim_ev_kind {
    GOSSIPSIM_EV_PACKET = 1, /* bytes arriving at node `to` from node `from` */
    GOSSIPSIM_EV_TIMER = 2,  /* a node's own wake-up; `arg` is free for the caller */
    /* Node `from`'s host answered that nothing listens: an ICMP port unreachable for a datagram
     * `to` sent there, or (stream) a refused connect on stream `conn`. No data. */
    GOSSIPSIM_EV_REFUSED = 3,
};

/* An event owns data (malloc'd) until it is popped; then the caller owns it. */
struct gossipsim_ev {
    uint64_t at;
    uint64_t seq; /* insertion order breaks ties, so equal times replay identically */
    uint8_t kind;
    bool stream;  /* packet over the simulated TCP stream: never lost, still partitioned */
    bool held;    /* waiting in a stalled node's socket buffer */
    uint8_t tag;  /* the caller's mark on a packet (e.g. "corrupted on purpose") */
    uint64_t conn; /* the caller's stream id, carried untouched */
    int from;
    int to;
    uint64_t arg;
    size_t len;
    uint8_t *data;
};

struct gossipsim_node_net {
    bool down;              /* killed: sends nothing, receives nothing */
    bool refuses;           /* down, but its host is up: what reaches it is refused, not lost */
    /* While up: this share of the datagrams sent to it is dropped and refused instead (a stale
     * ICMP, an agent restarting, a firewall REJECT rule), and lib_gossipsim_cluster refuses as
     * many connects carrying a probe's TCP fallback ping. Never while stalled: a paused process
     * keeps its socket open. */
    uint32_t refuse_permille;
    int group;              /* partition side: packets cross only within one group */
    uint64_t stalled_until; /* paused process: inbound waits in the socket buffer until then */
};

struct gossipsim_stats {
    uint64_t sent;
    uint64_t lost;        /* random loss */
    uint64_t cut;         /* dropped by a partition or a dead endpoint */
    uint64_t refused;     /* refusals sent back by the hosts of down nodes */
    uint64_t refused_live; /* spurious refusals about nodes that were up */
    uint64_t overflowed;  /* dropped because a stalled node's buffer was full */
    uint64_t delivered;
    uint64_t bytes;
    size_t max_packet;
    uint64_t max_stream;
};

struct gossipsim_world {
    uint64_t now; /* virtual ms */
    struct gossipsim_rng rng;
    int n;
    struct gossipsim_node_net *node;
    uint32_t loss_permille; /* UDP only */
    uint32_t delay_min_ms;
    uint32_t delay_max_ms;
    uint32_t stall_buffer;  /* packets a stalled node's socket holds before dropping */
    uint32_t *stall_held;   /* per node, packets currently held */
    struct gossipsim_ev *heap;
    size_t heap_n;
    size_t heap_cap;
    uint64_t seq;
    struct gossipsim_stats stats;
    bool trace;
};

/* 0, or -1 on allocation failure. Every node starts up, in group 0, with no stall. */
int gossipsim_world_init(struct gossipsim_world *w, int n, uint64_t seed);
void gossipsim_world_free(struct gossipsim_world *w);

/* Queues a timer for node at absolute time `at`. 0 or -1 (out of memory). */
int gossipsim_timer(struct gossipsim_world *w, int node, uint64_t at, uint64_t arg);

/* Sends a copy of len bytes. Loss (UDP), partitions and dead endpoints apply now (a down node
 * whose host refuses still gets the packet, to refuse it on arrival); a datagram to an up node
 * may be refused instead (refuse_permille). Delivery is after a random delay in
 * [delay_min_ms, delay_max_ms]. Streams are delivered in order per (from, to) pair because their
 * delay never goes below the previous one. 0, or -1 (no memory). */
int gossipsim_send(struct gossipsim_world *w, int from, int to, bool stream, uint64_t conn,
                   uint8_t tag, const void *data, size_t len);

/* Host `host` refuses what `sender` just sent it over `stream` (conn: the stream's id): a
 * refusal event reaches the sender after the way there and back (each leg a random delay; a
 * stream's way there is its fixed delay). Partitions cut refusals like packets, and a down
 * sender gets none. Used for the hosts of down nodes and for spurious refusals; 0 or -1. */
int gossipsim_refuse(struct gossipsim_world *w, int host, int sender, bool stream, uint64_t conn);

/* Pops the earliest event due at or before `until`, advancing now to its time. Packets whose
 * path was cut while in flight are dropped here, and a packet reaching a down node whose host
 * refuses turns into a refusal back to its sender; packets to a stalled node are re-queued to
 * its resume time (or dropped when its buffer is full). false when nothing is due. */
bool gossipsim_pop(struct gossipsim_world *w, uint64_t until, struct gossipsim_ev *out);

/* Pauses node i until `until` (UINT64_MAX: until resumed); gossipsim_resume ends a pause now,
 * releasing what its socket held, in arrival order, and its overdue timer. */
void gossipsim_pause(struct gossipsim_world *w, int i, uint64_t until);
void gossipsim_resume(struct gossipsim_world *w, int i);

/* Partitions by assigning groups; group of node i is groups[i]. NULL heals (all in group 0). */
void gossipsim_partition(struct gossipsim_world *w, const int *groups);
bool gossipsim_reachable(const struct gossipsim_world *w, int a, int b);

void gossipsim_tracef(const struct gossipsim_world *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
