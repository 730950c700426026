/* gossip.h — the pure SWIM + Lifeguard membership core (memberlist/serf semantics): decoded
 * messages and virtual time in; packets to send, membership events and "leave done" out. */
#ifndef TRIBUNE_GOSSIP_GOSSIP_H
#define TRIBUNE_GOSSIP_GOSSIP_H

#include "gossip/msg.h"

/* Defaults follow memberlist's LAN profile and serf's reconnect/tombstone behaviour. Every
 * duration is virtual milliseconds. */
struct gossip_config {
    char name[GOSSIP_NAME_MAX]; /* unique in the pool */
    struct gossip_addr addr;    /* advertised address (UDP and TCP share the port) */
    struct gossip_tags tags;
    uint64_t seed; /* seeds the core's PRNG: same seed + same inputs = same outputs */

    uint32_t probe_interval_ms;       /* 1000 */
    uint32_t probe_timeout_ms;        /* 500 */
    uint32_t indirect_checks;         /* 3 */
    uint32_t gossip_interval_ms;      /* 200 */
    uint32_t gossip_nodes;            /* 3 */
    uint32_t gossip_to_dead_ms;       /* 30000: dead members still receive gossip this long */
    uint32_t retransmit_mult;         /* 4 */
    uint32_t suspicion_mult;          /* 4 */
    uint32_t suspicion_max_mult;      /* 6: max suspicion timeout = min * this */
    uint32_t awareness_max;           /* 8: health score is kept in [0, awareness_max-1] */
    uint32_t push_pull_interval_ms;   /* 30000, scaled up above 32 members; 0 disables */
    uint32_t reconnect_interval_ms;   /* 30000: how often one failed member may be retried */
    uint64_t reconnect_timeout_ms;    /* 72 h: failed members are reaped after this */
    uint64_t tombstone_timeout_ms;    /* 24 h: left members are reaped after this */
    uint32_t leave_timeout_ms;        /* 5000: longest wait for the leave intent to spread */
    uint64_t dead_reclaim_ms;         /* 0 = never: a failed member's name may be taken by a
                                         new address after this long (a left member's name is
                                         free at once; force-leave frees a failed one) */
    uint32_t udp_max;                 /* 1400: payload bound of one datagram */
    uint32_t packet_overhead;         /* bytes the encoder adds per datagram (header, CRC) */
    /* Encoded size of one message inside a compound datagram (including its per-message
     * framing). NULL: gossip_msg_size_bound. The wire codec supplies its exact size here. */
    size_t (*msg_size)(const struct gossip_msg *m);
};

/* WARNING: only append. */
enum gossip_event_type {
    GOSSIP_EV_JOIN = 1,     /* a member became known alive (first time, or back from dead/left) */
    GOSSIP_EV_LEAVE = 2,    /* a member left gracefully */
    GOSSIP_EV_FAILED = 3,   /* a member was declared dead */
    GOSSIP_EV_UPDATE = 4,   /* an alive member changed its tags or address */
    GOSSIP_EV_REAP = 5,     /* a failed/left member was dropped from the table */
    GOSSIP_EV_CONFLICT = 6, /* a node claimed a name already held at another address; refused */
    GOSSIP_EV_JOIN_ERR = 7, /* a push-pull peer (address in other) refused our join (text in err) */
    GOSSIP_EV_SUSPECT = 8,  /* a member became suspect; err names the accuser (for flap diagnosis) */
    GOSSIP_EV_NOTICE = 9,   /* a diagnostic line only (refutations, UDP blocked but TCP works) */
};

struct gossip_event {
    uint8_t type;                /* enum gossip_event_type */
    struct gossip_member member; /* the member as it is now (CONFLICT: the existing holder) */
    struct gossip_addr other;    /* CONFLICT: the refused claimant's address; JOIN_ERR: the peer */
    /* One line for the operator's log (memberlist's wording where it has one): CONFLICT, JOIN_ERR,
     * SUSPECT, NOTICE, and FAILED (who declared it, after how many confirmations). */
    char err[GOSSIP_ERR_MAX];
};

/* What to do now. Memory belongs to the core until gossip_advance. */
struct gossip_ready {
    struct gossip_packet *packets;
    size_t n_packets;
    struct gossip_event *events;
    size_t n_events;
    bool leave_done; /* the leave intent has spread (or timed out): the agent may stop */
};

struct gossip;

/* Fills every field but name, addr, tags and seed with the defaults above. */
void gossip_config_default(struct gossip_config *c);
/* 0, or -1 with a one-line reason in err. */
int gossip_config_check(const struct gossip_config *c, char *err, size_t errlen);

/* NULL on an invalid config or allocation failure. now_ms is the current virtual time. The local
 * node starts alive, incarnation 1, in a table of one. */
struct gossip *gossip_new(const struct gossip_config *c, uint64_t now_ms);
void gossip_free(struct gossip *g);

/* Advances virtual time (never backwards) and fires due timers: probes, probe and suspicion
 * timeouts, gossip rounds, push-pull, reconnects, reaping, leave deadline. Inputs between two
 * ticks are taken to happen at the last tick's time. After a stall, deliver what is already in
 * the socket buffers before ticking: a refutation waiting there must beat the suspicion timer. */
void gossip_tick(struct gossip *g, uint64_t now_ms);
/* Virtual ms of the next timer; the glue arms one reactor timer for it. */
uint64_t gossip_next_deadline(const struct gossip *g);

/* Delivers one decoded packet. Malformed or unexpected content is ignored message by message
 * (never trusted for lengths; names are checked for NUL termination). Returns the number of
 * messages ignored. */
int gossip_recv(struct gossip *g, const struct gossip_packet *p);

/* The host at addr answered that nothing listens on its gossip port: an ICMP port unreachable
 * for a datagram we sent there, or a refused TCP connection (via says which). It is evidence,
 * never a verdict: it may be about an old packet, or an agent that is restarting. It only stops
 * waits for an answer that cannot come: a probe of that address asks its helpers at once
 * instead of after probe_timeout_ms, a helper pinging it for another member nacks at once, and a
 * probe whose direct ping and TCP fallback were both refused and whose helpers have all nacked
 * ends in suspicion then rather than at the end of the protocol period. The suspicion itself
 * runs its full course and the member can refute it; only the wait before it is shortened. */
void gossip_refused(struct gossip *g, const struct gossip_addr *addr, uint8_t via);

/* Starts a join push-pull with each address; 0, or -1 if leaving/left or n == 0. Joining A to B
 * or B to A gives the same cluster. Failures surface as events or the glue's connect errors. The
 * receiving side refuses a join whose table claims a name it holds at another address, or whose
 * gossip protocol range (tags proto_min..proto_max, when both state one) does not overlap its own:
 * the joiner gets JOIN_ERR with the reason. */
int gossip_join(struct gossip *g, const struct gossip_addr *addrs, size_t n);
/* Graceful leave: raises the incarnation, broadcasts the intent and reports leave_done once it has
 * been sent retransmit-limit times, no peer is alive, or leave_timeout_ms passed. -1 if already. */
int gossip_leave(struct gossip *g);
/* Changes the local tags: a new incarnation, spread like any alive update. -1 after leave or for
 * tags outside their domain (see gossip_config_check). */
int gossip_set_tags(struct gossip *g, const struct gossip_tags *tags);

/* Operator force-leave: a failed member becomes left (so it is reaped on the tombstone timeout,
 * not retried), and the change is broadcast. -1 if the name is unknown or not failed. */
int gossip_force_leave(struct gossip *g, const char *name);

/* Output. gossip_ready returns false when there is nothing to do; gossip_advance releases it. */
bool gossip_ready(struct gossip *g, struct gossip_ready *rd);
void gossip_advance(struct gossip *g);

/* Read-only view of the member table (including the local node), at most GOSSIP_PUSH_PULL_MAX
 * members. Pointers stay valid until the next call that changes the core. */
size_t gossip_member_count(const struct gossip *g);
const struct gossip_member *gossip_member_at(const struct gossip *g, size_t i);
const struct gossip_member *gossip_member_find(const struct gossip *g, const char *name);
/* Members currently alive or suspect, the local node included. */
size_t gossip_alive_count(const struct gossip *g);
/* Lifeguard local health: 0 healthy .. awareness_max-1; timeouts are stretched by score+1. */
uint32_t gossip_health_score(const struct gossip *g);
uint64_t gossip_incarnation(const struct gossip *g);

/* Counters for `info` and metrics. A flap is a member back to alive within 60 s of being marked
 * failed (serf's flap metric): many flaps point at an overloaded accuser or a lossy network. */
struct gossip_stats {
    uint32_t members; /* by state, the local node included */
    uint32_t alive;
    uint32_t suspect;
    uint32_t failed;
    uint32_t left;
    uint32_t health_score;
    uint64_t incarnation;
    uint32_t queue_depth; /* pending broadcasts */
    uint64_t probes;
    uint64_t probes_indirect; /* probes that needed ping-req */
    uint64_t probes_failed;   /* probes that ended in our suspicion */
    uint64_t tcp_fallback_ok; /* answered only over TCP: UDP is probably blocked */
    uint64_t refusals;        /* gossip_refused reports about a probe or relay target */
    uint64_t probes_refused;  /* failed probes ended early: every check refused or nacked */
    uint64_t suspects;        /* members we saw become suspect */
    uint64_t refutes;         /* accusations about us we refuted */
    uint64_t failures;
    uint64_t flaps;
    uint64_t conflicts;
    uint64_t push_pulls; /* full-state exchanges merged */
};

void gossip_stats(const struct gossip *g, struct gossip_stats *st);

/* A conservative encoded size of m (the default msg_size). */
size_t gossip_msg_size_bound(const struct gossip_msg *m);
const char *gossip_state_name(uint8_t state);

#endif
