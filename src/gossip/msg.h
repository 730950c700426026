/* msg.h — the SWIM gossip messages, addresses and tags as the pure core produces and consumes them.
 * The contract between the core (gossip.c and friends) and the wire codec (wire.c): numeric values
 * are protocol, so every enum is append-only. Pointers inside a message borrow memory owned elsewhere. */
#ifndef TRIBUNE_GOSSIP_MSG_H
#define TRIBUNE_GOSSIP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GOSSIP_NAME_MAX 64  /* node name, NUL-terminated: at most 63 bytes, no NUL inside */
#define GOSSIP_DC_MAX 32    /* datacenter name, NUL-terminated */
#define GOSSIP_BUILD_MAX 32 /* build version text, NUL-terminated */
#define GOSSIP_ERR_MAX 256  /* error text carried by GOSSIP_MSG_ERR, NUL-terminated */
/* A decoder refuses a push-pull with more states than this: no LAN pool we serve is near it, and
 * it bounds what one TCP exchange can make us allocate. */
#define GOSSIP_PUSH_PULL_MAX 4096

/* Socket-free address: the core never includes socket headers. Bytes are in network order;
 * for IPv4 only ip[0..3] are used and the rest are zero. */
enum gossip_family {
    GOSSIP_AF_INET = 4,
    GOSSIP_AF_INET6 = 6,
};

struct gossip_addr {
    uint8_t family; /* enum gossip_family */
    uint8_t ip[16];
    uint16_t port;
};

/* WARNING: only append. Wire values. */
enum gossip_state {
    GOSSIP_STATE_ALIVE = 1,
    GOSSIP_STATE_SUSPECT = 2,
    GOSSIP_STATE_DEAD = 3, /* failed: stopped answering and did not refute */
    GOSSIP_STATE_LEFT = 4, /* announced a graceful leave */
};

/* WARNING: only append. Wire values. */
enum gossip_role {
    GOSSIP_ROLE_CLIENT = 1,
    GOSSIP_ROLE_SERVER = 2,
};

/* WARNING: only append. Wire values. */
enum gossip_bootstrap {
    GOSSIP_BOOTSTRAP_NONE = 0,
    GOSSIP_BOOTSTRAP_SELF = 1,   /* -bootstrap: this server may elect itself alone */
    GOSSIP_BOOTSTRAP_EXPECT = 2, /* -bootstrap-expect=N: wait for N servers (expect holds N) */
};

/* What Consul carries in serf tags, as fixed fields: the agent decides from these whether a member
 * is a Raft server of its datacenter and where to reach its RPC port (gossip address + rpc_port). */
struct gossip_tags {
    uint8_t role;      /* enum gossip_role */
    char dc[GOSSIP_DC_MAX];
    uint16_t rpc_port; /* server RPC (Raft) port; 0 for clients */
    uint64_t raft_id;  /* the server's Raft id; 0 for clients */
    uint8_t bootstrap; /* enum gossip_bootstrap */
    uint8_t expect;    /* with GOSSIP_BOOTSTRAP_EXPECT: the expected number of servers */
    char build[GOSSIP_BUILD_MAX];
    uint8_t proto_min; /* gossip protocol versions this node speaks, and the one it uses */
    uint8_t proto_max;
    uint8_t proto_cur;
    uint8_t raft_vsn;  /* Raft protocol version, servers only */
    uint64_t cluster_id; /* servers: the Raft cluster they belong to; 0 while they know none */
};

/* WARNING: only append. Wire values. */
enum gossip_msg_type {
    GOSSIP_MSG_PING = 1,
    GOSSIP_MSG_PING_REQ = 2, /* "probe this node for me" (SWIM indirect probe) */
    GOSSIP_MSG_ACK = 3,
    GOSSIP_MSG_NACK = 4, /* sent by a ping-req helper whose own ping went unanswered (Lifeguard) */
    GOSSIP_MSG_SUSPECT = 5,
    GOSSIP_MSG_ALIVE = 6,
    GOSSIP_MSG_DEAD = 7, /* from == node means a graceful leave */
    GOSSIP_MSG_PUSH_PULL = 8,
    GOSSIP_MSG_ERR = 9, /* a refused push-pull (e.g. the name is taken): text for the operator */
};

struct gossip_msg_ping {
    uint32_t seq;
    char node[GOSSIP_NAME_MAX];   /* intended target: a node that is not it ignores the ping */
    char source[GOSSIP_NAME_MAX]; /* sender's name */
};

struct gossip_msg_ping_req {
    uint32_t seq;                 /* the requester's seq, echoed in the ack or nack it gets */
    char node[GOSSIP_NAME_MAX];   /* the node to probe */
    struct gossip_addr addr;      /* and where it lives */
    bool nack;                    /* the requester wants a nack if the probe goes unanswered */
    char source[GOSSIP_NAME_MAX]; /* requester's name */
};

struct gossip_msg_ack {
    uint32_t seq;
};

struct gossip_msg_nack {
    uint32_t seq;
};

struct gossip_msg_suspect {
    uint64_t incarnation;
    char node[GOSSIP_NAME_MAX];
    char from[GOSSIP_NAME_MAX]; /* the accuser: independent accusers shorten suspicion */
};

struct gossip_msg_alive {
    uint64_t incarnation;
    char node[GOSSIP_NAME_MAX];
    struct gossip_addr addr;
    struct gossip_tags tags;
};

struct gossip_msg_dead {
    uint64_t incarnation;
    char node[GOSSIP_NAME_MAX];
    char from[GOSSIP_NAME_MAX];
};

/* One member as exchanged in push-pull and as kept in the member table. */
struct gossip_member {
    char name[GOSSIP_NAME_MAX];
    struct gossip_addr addr;
    uint64_t incarnation;
    uint8_t state; /* enum gossip_state */
    struct gossip_tags tags;
    uint64_t state_ms; /* local only, not on the wire: virtual ms of the last state change */
};

/* Full-state exchange over a TCP stream. The initiator sends reply=false; the receiver merges,
 * then answers on the same stream with its own state and reply=true. */
struct gossip_msg_push_pull {
    bool join;  /* sent by gossip_join (as opposed to periodic anti-entropy) */
    bool reply;
    uint32_t n_states; /* at most GOSSIP_PUSH_PULL_MAX */
    struct gossip_member *states;
};

struct gossip_msg_err {
    char text[GOSSIP_ERR_MAX];
};

struct gossip_msg {
    uint8_t type; /* enum gossip_msg_type */
    union {
        struct gossip_msg_ping ping;
        struct gossip_msg_ping_req ping_req;
        struct gossip_msg_ack ack;
        struct gossip_msg_nack nack;
        struct gossip_msg_suspect suspect;
        struct gossip_msg_alive alive;
        struct gossip_msg_dead dead;
        struct gossip_msg_push_pull push_pull;
        struct gossip_msg_err err;
    } u;
};

/* WARNING: only append. */
enum gossip_transport {
    GOSSIP_UDP = 1,
    GOSSIP_TCP = 2,
};

/* A batch of messages to or from one peer. Outgoing UDP packets are packed by the core so that
 * cfg.packet_overhead + sum of cfg.msg_size(m) <= cfg.udp_max; the encoder must honour that bound
 * (several messages = one compound datagram). TCP carries push-pull, the fallback ping and their
 * replies as one framed packet per direction on a stream:
 *  - input: conn is the glue's nonzero id of the stream the packet arrived on, 0 for UDP;
 *  - output: conn != 0 means "write on that stream (a reply), then close it"; conn == 0 with
 *    GOSSIP_TCP means "open a stream to peer, write, read one reply packet and deliver it with
 *    that stream's id, then close". */
struct gossip_packet {
    struct gossip_addr peer; /* destination on output, source on input */
    uint8_t transport;       /* enum gossip_transport */
    uint64_t conn;
    uint32_t n_msgs;
    struct gossip_msg *msgs;
};

#endif
