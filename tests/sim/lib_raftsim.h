/* lib_raftsim.h — building blocks of the deterministic Raft simulator: seeded PRNG, trace, deep
 * copies of messages, a faulty network, a disk that loses unsynced writes, and safety checks. */
#ifndef TRIBUNE_TESTS_LIB_RAFTSIM_H
#define TRIBUNE_TESTS_LIB_RAFTSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "raft/msg.h"

/* Server ids are 1..RAFTSIM_MAX_IDS-1 so they index tables directly. */
#define RAFTSIM_MAX_IDS 9

/* ---- PRNG: splitmix64, the only source of randomness in a run ---- */
struct raftsim_rng {
    uint64_t s;
};

void raftsim_rng_seed(struct raftsim_rng *r, uint64_t seed);
uint64_t raftsim_rng_next(struct raftsim_rng *r);
/* Uniform in [0, n); 0 when n == 0. */
uint64_t raftsim_rng_below(struct raftsim_rng *r, uint64_t n);
/* Uniform in [lo, hi]. */
uint64_t raftsim_rng_range(struct raftsim_rng *r, uint64_t lo, uint64_t hi);
/* True with probability pm/1000. */
bool raftsim_rng_pm(struct raftsim_rng *r, unsigned pm);

/* ---- trace ---- */
struct raftsim_trace {
    bool on;
    uint64_t now; /* virtual time stamped on each line */
    FILE *out;
};

void raftsim_tracef(const struct raftsim_trace *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* One-line human description of a message, e.g. "APPEND 1->2 t3 prev=4/2 n=1 commit=4". */
void raftsim_msg_describe(const struct raft_msg *m, char *out, size_t n);

/* ---- deep copies (the network outlives the core's borrowed buffers) ---- */
int raftsim_entry_copy(struct raft_entry *dst, const struct raft_entry *src);
void raftsim_entry_free(struct raft_entry *e);
int raftsim_msg_clone(struct raft_msg *dst, const struct raft_msg *src);
void raftsim_msg_free(struct raft_msg *m);
/* CRC-32C over an entry's type and payload: identity of a command within one run. */
uint32_t raftsim_entry_crc(const struct raft_entry *e);

/* ---- network: every message gets a delivery time; faults are drop, dup, delay (reorder) and
 *      per-direction cuts. A cut is checked at send and again at delivery. ---- */
struct raftsim_packet {
    uint64_t at;  /* delivery time */
    uint64_t seq; /* tie-break: equal times deliver in send order */
    struct raft_msg m;
};

struct raftsim_net {
    struct raftsim_packet *q;
    size_t n, cap;
    uint64_t seq;
    bool cut[RAFTSIM_MAX_IDS][RAFTSIM_MAX_IDS]; /* cut[a][b]: nothing from a reaches b */
    unsigned drop_pm, dup_pm;
    uint64_t delay_min, delay_max;
    uint64_t sent, dropped, duped, delivered;
};

void raftsim_net_init(struct raftsim_net *n);
void raftsim_net_free(struct raftsim_net *n);
/* Queues a deep copy (or none, or two) of m. -1 on allocation failure. */
int raftsim_net_send(struct raftsim_net *n, struct raftsim_rng *rng, uint64_t now,
                     const struct raft_msg *m);
/* Queues m (taking ownership of its memory) for delivery at `at`, with no fault applied: a paused
 * server's socket buffers hold its messages until it runs again. -1 on allocation failure. */
int raftsim_net_defer(struct raftsim_net *n, struct raft_msg *m, uint64_t at);
/* Earliest delivery time queued, or UINT64_MAX. */
uint64_t raftsim_net_next(const struct raftsim_net *n);
/* Moves the earliest packet due at or before now into *out (caller frees it). A packet whose
 * link is cut is dropped on the way. false when nothing is due. */
bool raftsim_net_pop(struct raftsim_net *n, uint64_t now, struct raft_msg *out);
/* Drops every queued packet to id (its socket buffers die with it); what it sent stays in flight. */
void raftsim_net_purge(struct raftsim_net *n, raft_id id);
void raftsim_net_heal(struct raftsim_net *n);

/* ---- disk: a durable image, a cached image (what the server sees), and the writes between.
 *      A crash keeps the durable image plus a random prefix of the unsynced writes, the last of
 *      which may be torn (a prefix of its entries survives), like a log with per-record CRCs. */
struct raftsim_image {
    uint64_t term;
    raft_id vote;
    bool has_snap;
    uint64_t snap_index, snap_term;
    struct raft_config snap_config;
    uint8_t *snap_data;
    uint32_t snap_len;
    struct raft_entry *ents; /* contiguous indexes from ents[0].index */
    size_t n, cap;
};

enum raftsim_op_kind {
    RAFTSIM_OP_HARD = 1,    /* term, vote */
    RAFTSIM_OP_APPEND = 2,  /* truncate at ents[0].index, then append */
    RAFTSIM_OP_SNAP = 3,    /* store snapshot; keep log entries after it only if they match */
    RAFTSIM_OP_COMPACT = 4, /* drop log entries with index <= a */
    RAFTSIM_OP_TRUNCATE = 5 /* drop log entries with index >= a */
};

struct raftsim_op {
    int kind;
    uint64_t a, b;
    struct raft_entry *ents;
    size_t n;
    struct raft_config cfg;
    uint8_t *data;
    uint32_t len;
};

struct raftsim_disk {
    struct raftsim_image durable, cache;
    struct raftsim_op *ops;
    size_t nops, cap;
    uint64_t syncs, torn;
};

void raftsim_disk_init(struct raftsim_disk *d);
void raftsim_disk_free(struct raftsim_disk *d);
int raftsim_disk_set_hard(struct raftsim_disk *d, uint64_t term, raft_id vote);
int raftsim_disk_append(struct raftsim_disk *d, const struct raft_entry *ents, size_t n);
int raftsim_disk_truncate(struct raftsim_disk *d, uint64_t from);
int raftsim_disk_snapshot(struct raftsim_disk *d, uint64_t index, uint64_t term,
                          const struct raft_config *cfg, const uint8_t *data, uint32_t len);
int raftsim_disk_compact(struct raftsim_disk *d, uint64_t upto);
void raftsim_disk_sync(struct raftsim_disk *d);
/* Loses what was not synced, keeping a random prefix of it (possibly torn when tear_pm fires). */
void raftsim_disk_crash(struct raftsim_disk *d, struct raftsim_rng *rng, unsigned tear_pm);
uint64_t raftsim_image_last_index(const struct raftsim_image *im);
uint64_t raftsim_image_last_term(const struct raftsim_image *im);
/* The entry at index, or NULL when the log does not hold it. */
const struct raft_entry *raftsim_image_entry(const struct raftsim_image *im, uint64_t index);

/* ---- state machine: a rolling hash of applied commands, serialisable for snapshots ---- */
struct raftsim_fsm {
    uint64_t applied; /* last applied index (any entry type) */
    uint64_t hash;    /* chain over the commands applied so far */
    uint64_t ncmds;
};

void raftsim_fsm_apply(struct raftsim_fsm *f, const struct raft_entry *e);
#define RAFTSIM_FSM_SNAP_LEN 24
void raftsim_fsm_save(const struct raftsim_fsm *f, uint8_t out[RAFTSIM_FSM_SNAP_LEN]);
int raftsim_fsm_load(struct raftsim_fsm *f, const uint8_t *p, size_t len);

/* ---- safety checks, fed by the driver after every step. The first violation sticks. ---- */
struct raftsim_reg {
    bool set;
    bool acked;
    uint8_t type;
    raft_id by; /* first server that applied it */
    uint64_t term;
    uint32_t crc;
    uint64_t chain; /* fsm hash after applying this index */
    /* Commitment as a leader decided it: the lowest leader term that counted it committed, and
     * the entry it committed (leader completeness binds leaders of later terms only). */
    uint64_t commit_term;
    uint64_t c_eterm;
    uint32_t c_crc;
};

struct raftsim_check {
    raft_id *leader_of_term; /* indexed by term; 0 = none seen */
    size_t lot_cap;
    struct raftsim_reg *reg; /* indexed by log index */
    size_t reg_cap;
    uint64_t max_applied;
    uint64_t max_committed;
    uint64_t acks;
    bool failed;
    char why[512];
};

void raftsim_check_init(struct raftsim_check *c);
void raftsim_check_free(struct raftsim_check *c);
void raftsim_check_fail(struct raftsim_check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Election safety: at most one leader per term. */
void raftsim_check_leader(struct raftsim_check *c, uint64_t term, raft_id id);
/* State machine safety: every server applies the same entry (and reaches the same FSM hash) at
 * each index; an acknowledged entry is never replaced. fsm is the applier's state after it. */
void raftsim_check_apply(struct raftsim_check *c, raft_id id, const struct raft_entry *e,
                         const struct raftsim_fsm *fsm);
/* A server restored its FSM from a snapshot at fsm->applied: the hash must match the chain. */
void raftsim_check_restore(struct raftsim_check *c, raft_id id, const struct raftsim_fsm *fsm);
/* The simulated client got "committed" for (index, term, crc). */
void raftsim_check_ack(struct raftsim_check *c, uint64_t index, uint64_t term, uint32_t crc);
/* Leader `id` of `term` advanced its commit index over e: two leaders never commit different
 * entries at one index. */
void raftsim_check_commit(struct raftsim_check *c, raft_id id, uint64_t term,
                          const struct raft_entry *e);
/* Leader completeness: a leader of `term` holds (in log or snapshot) every entry that a leader
 * of an earlier term committed. */
void raftsim_check_leader_complete(struct raftsim_check *c, raft_id id, uint64_t term,
                                   const struct raftsim_image *log);
/* Log matching: equal (index, term) implies equal entries and equal prefixes. */
void raftsim_check_log_matching(struct raftsim_check *c, raft_id ia, const struct raftsim_image *a,
                                raft_id ib, const struct raftsim_image *b);

#endif
