/* rpc_fwd.h — forwarding HTTP API requests between agents over RPC on the server port: the
 * forwarding side (rpc_fwd.c) and the serving side (rpc_serve.c). */
#ifndef TRIBUNE_AGENT_RPC_FWD_H
#define TRIBUNE_AGENT_RPC_FWD_H

#include <stdbool.h>

#include "agent/agent_impl.h"
#include "raft/transport.h"

/* Sends r to a server (from a client) or to the leader (from a follower, for a write or a read
 * that is not ?stale) and relays the answer. LOCAL: answer here; PENDING: r was taken;
 * ANSWERED: r got an error answer. write: the request changes state. */
enum { AGENT_FWD_LOCAL, AGENT_FWD_PENDING, AGENT_FWD_ANSWERED };
int agent_rpc_forward(struct agent *a, struct http_req *r, bool write);
/* How many agents forwarded r already (its X-Tribune-Rpc-Hops header; 0 from a user). */
unsigned agent_rpc_hops(const struct http_req *r);

/* The hook a server gives its Raft transport (ctx: the agent), for "TRPC" connections. */
void agent_rpc_hook(struct agent *a, struct raft_transport_rpc *out);

#endif
