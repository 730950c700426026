/* core.h — private to the gossip core's files: the struct behind struct gossip, the member table
 * entries, and the helpers each core file (members, probe, suspicion, awareness, broadcast, pushpull)
 * offers the others. Never included outside src/gossip/. */
#ifndef TRIBUNE_GOSSIP_CORE_H
#define TRIBUNE_GOSSIP_CORE_H

#include "gossip/gossip.h"

#define GOSSIP_CONFIRM_MAX 8     /* independent suspicion confirmations remembered per suspect */
#define GOSSIP_BCAST_MAX 4096    /* queue bound: the oldest, most-sent updates are dropped past it */
#define GOSSIP_RELAY_MAX 256     /* outstanding ping-req probes run on behalf of others */
#define GOSSIP_SUSPICION_ASKS 3 /* asks of the suspect before a verdict (see gossip_suspicion) */
#define GOSSIP_HELPERS_MAX 16    /* ping-req helpers of one probe (indirect_checks is capped here) */
#define GOSSIP_NOTIME UINT64_MAX /* a disarmed deadline */
#define GOSSIP_FLAP_MS 60000     /* back alive within this of failing counts as a flap (serf) */

/* Lifeguard dynamic suspicion: starts at max, shrinks toward min as independent accusers confirm. */
struct gossip_suspicion {
    bool active;
    uint64_t start_ms;
    uint64_t deadline_ms;
    uint64_t min_ms;
    uint64_t max_ms;
    uint32_t k; /* confirmations that bring the timeout down to min */
    uint32_t n; /* confirmations so far */
    char from[GOSSIP_CONFIRM_MAX + 1][GOSSIP_NAME_MAX]; /* accuser first, then confirmers */
    uint32_t n_from;
    /* Buddy check: in the last probe interval before the deadline, the suspicion is sent to the
     * suspect itself, GOSSIP_SUSPICION_ASKS times evenly spaced, so a refutation that gossip never
     * brought us arrives straight from its source even when one ask or its answer is lost. */
    uint64_t lead_ms;
    uint64_t ask_ms; /* the first ask */
    uint32_t asks;   /* made so far */
};

/* Allocated one by one, so a pointer to a member stays valid while the probe order is shuffled;
 * only removal (reaping) frees it. */
struct gossip_node {
    struct gossip_member m;
    struct gossip_suspicion susp;
    uint64_t bcast_id; /* id of this member's pending broadcast, 0 when none */
};

/* A probe this node runs (one at a time, like memberlist). */
struct gossip_probe {
    bool active;
    bool acked;
    bool indirect_sent;
    uint32_t seq;
    char target[GOSSIP_NAME_MAX];
    uint64_t start_ms;
    uint64_t timeout_ms; /* direct ack deadline: then ping-req + TCP fallback */
    uint64_t end_ms;     /* end of the protocol period: then suspect */
    uint32_t nacks;
    bool udp_refused; /* the target's host said nothing listens: see gossip_refused */
    bool tcp_refused;
    struct gossip_addr helper[GOSSIP_HELPERS_MAX]; /* nacks expected: asked, not refused since */
    uint32_t n_helpers;
    uint32_t helpers_asked; /* ping-reqs sent, refused helpers included */
};

/* A ping this node sends on behalf of a ping-req. */
struct gossip_relay {
    uint32_t seq;      /* our ping's seq */
    uint32_t orig_seq; /* the requester's */
    struct gossip_addr origin;
    struct gossip_addr target;
    bool want_nack;
    uint64_t deadline_ms;
};

struct gossip_bcast {
    struct gossip_msg msg;
    char node[GOSSIP_NAME_MAX]; /* the member it is about: a newer update replaces it */
    uint64_t id;                /* queue order: higher is newer */
    uint32_t transmits;
    bool leave; /* our own leave intent: its retirement completes the leave */
};

struct gossip {
    struct gossip_config cfg;
    uint64_t now;
    uint64_t rng;

    struct gossip_node **nodes; /* shuffled: the probe order is this array's order */
    size_t n_nodes;
    size_t cap_nodes;
    struct gossip_node **index; /* open addressing by name hash, linear probing; NULL = empty */
    size_t index_cap;           /* a power of two, at least twice n_nodes */
    size_t probe_index;

    struct gossip_probe probe;
    struct gossip_relay relays[GOSSIP_RELAY_MAX];
    size_t n_relays;
    uint32_t seq;

    uint32_t health; /* Lifeguard local health score */

    struct gossip_bcast *bcasts;
    size_t n_bcasts;
    size_t cap_bcasts;
    uint64_t bcast_id;

    uint64_t next_probe_ms;
    uint64_t next_gossip_ms;
    uint64_t next_push_pull_ms;
    uint64_t next_reconnect_ms;
    uint64_t next_reap_ms;

    bool leaving;
    bool leave_done;
    bool leave_reported;
    uint64_t leave_deadline_ms;

    struct gossip_stats stats; /* the counters; the gauges are filled in by gossip_stats() */

    struct gossip_packet *out;
    size_t n_out;
    size_t cap_out;
    struct gossip_event *events;
    size_t n_events;
    size_t cap_events;
};

/* members.c */
uint64_t gossip_rand(struct gossip *g);
uint32_t gossip_rand_below(struct gossip *g, uint32_t n);
struct gossip_node *gossip_node_find(const struct gossip *g, const char *name);
/* Inserts at a random position (so a newcomer's place in the probe order is unpredictable). */
struct gossip_node *gossip_node_add(struct gossip *g, const char *name);
/* Frees the member at probe position i; pointers to it die. */
void gossip_node_remove(struct gossip *g, size_t i);
void gossip_nodes_free(struct gossip *g);
struct gossip_node *gossip_self(struct gossip *g);
void gossip_nodes_shuffle(struct gossip *g);
bool gossip_addr_equal(const struct gossip_addr *a, const struct gossip_addr *b);
bool gossip_tags_equal(const struct gossip_tags *a, const struct gossip_tags *b);
void gossip_addr_format(const struct gossip_addr *a, char *out, size_t n);
/* The domain the wire codec enforces too: known role and bootstrap mode, NUL-terminated text,
 * proto_min <= proto_cur <= proto_max. */
bool gossip_tags_ok(const struct gossip_tags *t);
bool gossip_addr_ok(const struct gossip_addr *a);
/* True when name is NUL-terminated within GOSSIP_NAME_MAX and non-empty. */
bool gossip_name_ok(const char *name);
/* Picks up to k distinct random members (never self) accepted by keep; returns how many. */
size_t gossip_pick(struct gossip *g, size_t k, bool (*keep)(const struct gossip *, const struct gossip_node *),
                   struct gossip_node **out);
/* Natural logarithm without libm (the core links into binaries that may not pull -lm). */
double gossip_ln(double x);
uint32_t gossip_ceil_log10(uint64_t n);

/* awareness.c */
void gossip_health_apply(struct gossip *g, int delta);
uint64_t gossip_health_scale(const struct gossip *g, uint64_t ms);

/* suspicion.c */
void gossip_suspicion_start(struct gossip *g, struct gossip_node *n, const char *from);
/* True when from is a new independent confirmation (the deadline may have moved closer). */
bool gossip_suspicion_confirm(struct gossip *g, struct gossip_node *n, const char *from);
void gossip_suspicion_stop(struct gossip_node *n);
uint64_t gossip_suspicion_min_ms(const struct gossip *g, size_t n_members);
/* Time of the next suspicion timer of n (its ask or its deadline); GOSSIP_NOTIME if none. */
uint64_t gossip_suspicion_next(const struct gossip_node *n);
/* When the next ask of the suspect is due (GOSSIP_NOTIME: none left before the deadline), and
 * the record that one was sent now. */
uint64_t gossip_suspicion_ask_at(const struct gossip_suspicion *s);
void gossip_suspicion_asked(struct gossip_suspicion *s, uint64_t now);

/* broadcast.c */
void gossip_bcast_queue(struct gossip *g, const char *node, const struct gossip_msg *m, bool leave);
/* Drops whatever is pending about a member that is leaving the table. */
void gossip_bcast_forget(struct gossip *g, const char *node);
uint32_t gossip_bcast_limit(const struct gossip *g);
/* Appends queued updates to msgs (capacity cap) while used + size <= budget; returns the count
 * added and updates *used. Sent updates count a transmit; exhausted ones retire. */
size_t gossip_bcast_take(struct gossip *g, struct gossip_msg *msgs, size_t cap, size_t *used, size_t budget);
size_t gossip_msg_size(const struct gossip *g, const struct gossip_msg *m);

/* state.c: the state machine */
void gossip_self_alive_msg(struct gossip *g, struct gossip_msg *m);
void gossip_on_alive(struct gossip *g, const struct gossip_msg_alive *a, bool from_merge);
void gossip_on_suspect(struct gossip *g, const struct gossip_msg_suspect *s);
void gossip_on_dead(struct gossip *g, const struct gossip_msg_dead *d);

/* output.c */
void gossip_emit(struct gossip *g, uint8_t type, const struct gossip_member *m);
/* Sets the one-line text of the event just emitted (no-op if it could not be stored). */
void gossip_emit_text(struct gossip *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sends msgs over UDP with as many piggybacked updates as fit; returns -1 when out of memory. */
int gossip_send_udp(struct gossip *g, const struct gossip_addr *to, const struct gossip_msg *msgs, size_t n);
/* The same without piggybacked updates: for replies aimed at one member, which must not spend the
 * retransmit budget of updates that everyone needs. */
int gossip_send_udp_alone(struct gossip *g, const struct gossip_addr *to, const struct gossip_msg *msgs, size_t n);
/* Takes ownership of the push-pull states inside msgs, even on failure. */
int gossip_send_tcp(struct gossip *g, const struct gossip_addr *to, uint64_t conn, struct gossip_msg *msgs,
                    size_t n);

/* gossip.c */
/* Members other than us that are alive or suspect. */
uint64_t gossip_member_count_live(const struct gossip *g);

/* probe.c */
void gossip_probe_tick(struct gossip *g);
void gossip_on_ping(struct gossip *g, const struct gossip_packet *p, const struct gossip_msg_ping *m);
void gossip_on_ping_req(struct gossip *g, const struct gossip_packet *p, const struct gossip_msg_ping_req *m);
void gossip_on_ack(struct gossip *g, uint32_t seq, bool via_tcp);
void gossip_on_nack(struct gossip *g, uint32_t seq);
uint64_t gossip_probe_deadline(const struct gossip *g);

/* pushpull.c */
int gossip_push_pull_send(struct gossip *g, const struct gossip_addr *to, bool join);
void gossip_on_push_pull(struct gossip *g, const struct gossip_packet *p, const struct gossip_msg_push_pull *m);
void gossip_push_pull_tick(struct gossip *g);
void gossip_reconnect_tick(struct gossip *g);

#endif
