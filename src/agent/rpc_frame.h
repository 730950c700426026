/* rpc_frame.h — the agent RPC wire format: connections on the Raft port that start with "TRPC",
 * then length-prefixed request and response frames carrying forwarded HTTP API calls. */
#ifndef TRIBUNE_AGENT_RPC_FRAME_H
#define TRIBUNE_AGENT_RPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* The first 4 bytes of an RPC connection; a Raft connection starts with a frame length instead. */
#define AGENT_RPC_MAGIC "TRPC"
#define AGENT_RPC_MAGIC_LEN 4
/* Largest frame body: the HTTP body limit (1 MiB for KV values) plus room for the rest. */
#define AGENT_RPC_FRAME_MAX ((size_t)(1024 * 1024 + 64 * 1024))
/* A request forwarded more often than this is refused: forwarding never loops. */
#define AGENT_RPC_MAX_HOPS 2

enum agent_rpc_type { AGENT_RPC_REQUEST = 1, AGENT_RPC_RESPONSE = 2 };

/* Byte ranges borrowed from the decoded input (not NUL-terminated). */
struct agent_rpc_str {
    const char *p;
    size_t n;
};

struct agent_rpc_frame {
    uint8_t type;
    /* request */
    uint8_t hops;               /* forwards so far, this one included */
    struct agent_rpc_str method; /* "GET", "PUT", "DELETE"... */
    struct agent_rpc_str target; /* path?query, starting with '/' */
    /* response */
    uint16_t status;
    struct agent_rpc_str index;        /* X-Consul-Index value, empty when absent */
    struct agent_rpc_str known_leader; /* X-Consul-KnownLeader */
    struct agent_rpc_str last_contact; /* X-Consul-LastContact */
    struct agent_rpc_str content_type;
    /* both */
    const uint8_t *body;
    size_t body_len;
};

enum agent_rpc_status { AGENT_RPC_OK, AGENT_RPC_NEED_MORE, AGENT_RPC_ERROR };

/* Appends one whole frame (length prefix included) to out. 0, or -1 when a field is too long or
 * out is full. */
int agent_rpc_encode(const struct agent_rpc_frame *f, struct buf *out);
/* Decodes one frame from the start of p: AGENT_RPC_OK with *used bytes consumed and f pointing
 * into p, NEED_MORE when p holds only a prefix, ERROR with a one-line reason in err. */
enum agent_rpc_status agent_rpc_decode(const uint8_t *p, size_t n, struct agent_rpc_frame *f,
                                       size_t *used, char *err, size_t errlen);

#endif
