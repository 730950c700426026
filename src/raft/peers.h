/* peers.h — DATA_DIR/raft/peers.json, Consul's manual outage recovery: a list of servers that
 * replaces the Raft configuration at the next start, then is deleted. */
#ifndef TRIBUNE_RAFT_PEERS_H
#define TRIBUNE_RAFT_PEERS_H

#include <stdbool.h>
#include <stddef.h>

#include "raft/msg.h"

#define RAFT_PEERS_FILE "peers.json"
#define RAFT_PEERS_MAX_BYTES (64u * 1024)

/* Parses the text of a peers.json into *out (release with raft_config_free). Two forms:
 *   Consul 0.7+: [{"id": "7", "address": "10.0.0.1:8300", "non_voter": false}, ...]
 *     id is a decimal string, a "0x" hex string or a JSON integer, nonzero; non_voter optional;
 *     any other key is refused (a misspelt non_voter must not silently make a voter).
 *   Consul before 0.7: ["10.0.0.1:8300", ...] — our ids cannot be derived from addresses, so
 *     each address must belong to a server of `known` (the configuration found on disk), whose
 *     id it takes; all become voters. known may be NULL (the old form is then refused).
 * Addresses must be numeric "ip:port"; ids and addresses unique; at least one voter. 0, or -1
 * with a one-line reason in err naming the entry. */
int raft_peers_parse(const char *text, size_t len, const struct raft_config *known,
                     struct raft_config *out, char *err, size_t errlen);

/* Reads and parses dir/peers.json. 1 with *out filled, 0 when there is no such file, -1 with
 * the reason (prefixed with the file's path) in err. */
int raft_peers_load(const char *dir, const struct raft_config *known, struct raft_config *out,
                    char *err, size_t errlen);

/* Deletes dir/peers.json and fsyncs dir, so a recovered configuration is applied once. 0/-1. */
int raft_peers_remove(const char *dir, char *err, size_t errlen);

/* "[id=7 10.0.0.1:8300 voter, ...]" for the recovery log line; returns out. */
char *raft_peers_format(const struct raft_config *c, char *out, size_t outlen);

#endif
