/* transport.h — Raft messages over TCP on the reactor: a persistent, handshaken connection to each
 * peer (re-dialed with backoff), frame decoding on arrival, bounded output, chunked snapshots. */
#ifndef TRIBUNE_RAFT_TRANSPORT_H
#define TRIBUNE_RAFT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop/loop.h"
#include "loop/net.h"
#include "raft/msg.h"

struct raft_transport;

/* Agent RPC shares the Raft listener: an accepted connection whose first 4 bytes are this magic
 * (a Raft connection starts with RAFT_WIRE_MAGIC "TRBR") is handed over to these callbacks. */
#define RAFT_TRANSPORT_RPC_MAGIC "TRPC"
struct raft_transport_rpc {
    /* in holds every byte read so far, the magic included; consume what is used. Returns the
     * connection's own context, or NULL to have it closed. */
    void *(*accept)(void *ctx, struct loop_conn *c, struct buf *in);
    /* From then on the transport relays the connection's input and its close (exactly once, also
     * from raft_transport_destroy) and never reads the bytes itself. */
    void (*on_data)(void *conn_ctx, struct loop_conn *c, struct buf *in);
    void (*on_close)(void *conn_ctx, struct loop_conn *c);
    void *ctx;
};

struct raft_transport_opts {
    raft_id id;          /* ours, nonzero */
    const char *addr;    /* advertised "host:port", sent in the handshake */
    const char *cluster; /* datacenter name; peers of another cluster are refused */
    uint64_t cluster_id; /* the Raft cluster our log belongs to; 0: adopt the first peer's */
    const char *listen;  /* "ip:port" to accept on; NULL: dial only */
    size_t out_limit;    /* queued bytes per peer before messages are dropped; 0: 64 MiB */
    uint64_t snapshot_max;    /* largest snapshot accepted; 0: 1 GiB */
    unsigned backoff_min_ms;  /* first re-dial delay; 0: 50 */
    unsigned backoff_max_ms;  /* delay ceiling, doubling from the minimum; 0: 5000 */
    unsigned handshake_ms;    /* a connection not handshaken by then is closed; 0: 5000 */
    unsigned max_inbound;     /* accepted connections at once; 0: 256 */
    const struct raft_transport_rpc *rpc; /* copied; NULL: "TRPC" connections are refused */
};

struct raft_transport_cbs {
    /* A message from a handshaken peer (a snapshot arrives whole, reassembled). m and what it
     * points to are valid only during the call. May call back into the transport. */
    void (*on_msg)(void *ctx, const struct raft_msg *m);
    /* Our connection to peer id finished its handshake (up) or closed (down). May be NULL. */
    void (*on_peer)(void *ctx, raft_id id, bool up);
    /* We knew no cluster and a peer's handshake names one: record it durably and return 0, and
     * from then on peers of any other cluster are refused; nonzero refuses this peer (a server
     * with a log may not join by handshake). May be NULL: the id is adopted in memory only. */
    int (*on_cluster)(void *ctx, uint64_t cluster_id);
};

struct raft_transport_stats {
    uint64_t sent;         /* messages queued for a peer */
    uint64_t dropped;      /* messages dropped: peer unknown, not connected, or queue full */
    uint64_t received;     /* messages delivered to on_msg */
    uint64_t proto_errors; /* connections closed for a malformed frame or failed handshake */
};

/* NULL on failure with a one-line reason in err. The loop must outlive the transport. */
struct raft_transport *raft_transport_create(struct loop *l, const struct raft_transport_opts *o,
                                             const struct raft_transport_cbs *cbs, void *ctx,
                                             char *err, size_t errlen);
/* Closes every connection; callbacks are not called again. Not from inside a transport callback. */
void raft_transport_destroy(struct raft_transport *t);

/* The bound listen address (the real port after listening on port 0), NULL if not listening. */
const struct loop_addr *raft_transport_listen_addr(const struct raft_transport *t);

/* Adds a peer, or changes its address (re-dialing). Dials at once. 0, or -1 with a reason. */
int raft_transport_set_peer(struct raft_transport *t, raft_id id, const char *addr, char *err,
                            size_t errlen);
void raft_transport_remove_peer(struct raft_transport *t, raft_id id);
/* True when the connection to id is handshaken and messages are being sent. */
bool raft_transport_peer_up(const struct raft_transport *t, raft_id id);

/* Queues m (copied) for m->to, on our connection to that peer or, failing that, on one the peer
 * dialed to us (so a new server can answer a leader it does not know yet). Raft tolerates loss,
 * so a message that cannot go now is dropped rather than held: -1 when there is no handshaken
 * connection, its queue is full, or m->from is not our id. A snapshot (our own connection only)
 * replaces any snapshot still being sent to that peer and is fed out in chunks as it drains. */
int raft_transport_send(struct raft_transport *t, const struct raft_msg *m);

/* Bytes queued toward peer id and not yet written to its socket (0 if not connected). */
size_t raft_transport_pending(const struct raft_transport *t, raft_id id);

/* Writes queued frames now instead of after the before-sleep hooks. For the messages Raft allows
 * to leave before its own log write is durable (a leader's AppendEntries), so that followers
 * persist in parallel with the leader's fsync; never for votes or acknowledgements. */
void raft_transport_flush(struct raft_transport *t);

void raft_transport_stats(const struct raft_transport *t, struct raft_transport_stats *out);

#endif
