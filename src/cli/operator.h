/* operator.h — the pure half of `tribune operator raft list-peers`: from the agent's
 * /v1/operator/raft/configuration answer to the table, with no I/O, so it is tested alone. */
#ifndef TRIBUNE_CLI_OPERATOR_H
#define TRIBUNE_CLI_OPERATOR_H

#include <stddef.h>

#include "base/buf.h"

/* Renders body as Consul's list-peers table: "Node ID Address State Voter", one row per server
 * in the configuration's order, State "leader" or "follower", Voter "true" or "false". Returns 0,
 * or 1 with a one-line "Error getting peers: malformed answer: ..." in err (out then empty). */
int cli_operator_peers_render(const char *body, size_t len, struct buf *out, char *err,
                              size_t errlen);

#endif
