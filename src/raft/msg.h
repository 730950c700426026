/* msg.h — the Raft messages exchanged between servers, as the pure core produces and consumes them.
 * The shared contract between the core (raft.c) and the wire codec (wire.c): numeric values are
 * protocol, so enums are append-only. Pointers inside a message borrow memory owned elsewhere. */
#ifndef TRIBUNE_RAFT_MSG_H
#define TRIBUNE_RAFT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A server's identity in Raft: a nonzero 64-bit number, stable for the life of its data dir. */
typedef uint64_t raft_id;

#define RAFT_ADDR_MAX 64 /* "host:port" text, NUL-terminated */

/* WARNING: only append. The values are written to disk and to the wire. */
enum raft_entry_type {
    RAFT_ENTRY_NOOP = 1,    /* a new leader's first entry of its term */
    RAFT_ENTRY_COMMAND = 2, /* opaque bytes for the state machine */
    RAFT_ENTRY_CONFIG = 3,  /* a full configuration, encoded by raft_config_encode */
};

struct raft_entry {
    uint64_t term;
    uint64_t index;
    uint8_t type;  /* enum raft_entry_type */
    uint32_t len;
    uint8_t *data; /* len bytes; NULL when len == 0 */
};

/* One member of a configuration. A non-voter receives the log but counts toward no quorum:
 * new servers catch up this way before they are promoted. */
struct raft_server {
    raft_id id;
    char addr[RAFT_ADDR_MAX];
    bool voter;
};

struct raft_config {
    uint32_t n;
    struct raft_server *servers;
};

/* WARNING: only append. The values are written to the wire. */
enum raft_msg_type {
    RAFT_MSG_APPEND = 1,
    RAFT_MSG_APPEND_RESP = 2,
    RAFT_MSG_VOTE = 3,
    RAFT_MSG_VOTE_RESP = 4,
    RAFT_MSG_SNAPSHOT = 5,
    RAFT_MSG_SNAPSHOT_RESP = 6,
    RAFT_MSG_TIMEOUT_NOW = 7,
};

struct raft_msg_append {
    uint64_t prev_index;
    uint64_t prev_term;
    uint64_t commit;
    uint64_t read_ctx; /* ReadIndex round this heartbeat confirms; 0 if none */
    uint32_t n_entries;
    struct raft_entry *entries;
};

struct raft_msg_append_resp {
    bool success;
    uint64_t match_index;    /* success: last index known to match the leader's log */
    uint64_t conflict_index; /* failure: where the leader should retry from (fast back-off) */
    uint64_t conflict_term;  /* failure: term of the follower's entry there, 0 if it has none */
    uint64_t last_index;     /* the follower's last log index */
    uint64_t read_ctx;       /* echoed from the request */
};

struct raft_msg_vote {
    bool prevote;  /* a pre-vote asks "would you vote", changing no one's term or vote */
    bool transfer; /* sent after TimeoutNow: voters ignore their leader stickiness */
    uint64_t last_index;
    uint64_t last_term;
};

struct raft_msg_vote_resp {
    bool prevote;
    bool granted;
};

/* The whole snapshot travels as one message; the wire layer splits it into chunks. */
struct raft_msg_snapshot {
    uint64_t last_index;
    uint64_t last_term;
    struct raft_config config; /* the configuration as of last_index */
    uint32_t len;
    uint8_t *data;
};

struct raft_msg_snapshot_resp {
    bool success;
    uint64_t last_index; /* the follower's last index after installing */
};

struct raft_msg {
    uint8_t type; /* enum raft_msg_type */
    raft_id from;
    raft_id to;
    uint64_t term;
    union {
        struct raft_msg_append append;
        struct raft_msg_append_resp append_resp;
        struct raft_msg_vote vote;
        struct raft_msg_vote_resp vote_resp;
        struct raft_msg_snapshot snapshot;
        struct raft_msg_snapshot_resp snapshot_resp;
        /* TIMEOUT_NOW has no body beyond the header fields */
    } u;
};

#endif
