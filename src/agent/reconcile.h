/* reconcile.h — the leader's reconcile decision as a pure function: gossip members + the Raft
 * configuration + the catalog in, the catalog registrations and peer changes to make out. */
#ifndef TRIBUNE_AGENT_RECONCILE_H
#define TRIBUNE_AGENT_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/msg.h"

struct agent_rc_member {
    const char *name;
    const char *addr;        /* IP text, the catalog Address */
    uint8_t state;           /* enum gossip_state */
    bool server;             /* role tag "consul" */
    bool same_dc;            /* datacenter tag equals ours */
    raft_id raft_id;         /* servers: from the tags; 0 unknown */
    const char *rpc_addr;    /* servers: "ip:port" of Raft */
    bool bootstrap;          /* servers: started with -bootstrap */
    uint64_t cluster_id;     /* servers: the Raft cluster of their log, from the tags; 0 none */
};

/* serf: the node's serfHealth check status as the catalog holds it. */
enum agent_rc_health { AGENT_RC_NONE = 0, AGENT_RC_PASSING = 1, AGENT_RC_CRITICAL = 3 };

struct agent_rc_node {
    const char *name;
    const char *addr;
    enum agent_rc_health serf;
    bool consul_service; /* has the service "consul" */
};

struct agent_rc_peer {
    raft_id id;
    const char *addr;
};

struct agent_rc_input {
    const char *self_name;
    raft_id self_id;
    uint64_t self_cluster_id; /* the Raft cluster of our log */
    const struct agent_rc_member *members;
    size_t n_members;
    const struct agent_rc_peer *peers; /* the Raft configuration, voters and non-voters */
    size_t n_peers;
    const struct agent_rc_node *nodes; /* the catalog */
    size_t n_nodes;
};

enum agent_rc_kind {
    AGENT_RC_REGISTER_ALIVE = 1, /* member: register, serfHealth passing (+ service consul) */
    AGENT_RC_REGISTER_FAILED,    /* member: register, serfHealth critical */
    AGENT_RC_DEREGISTER_LEFT,    /* node: a member that left */
    AGENT_RC_DEREGISTER_REAPED,  /* node: in the catalog, no longer a member */
    AGENT_RC_ADD_PEER,           /* member: a server of our datacenter not yet in Raft */
    AGENT_RC_REMOVE_PEER,        /* member: a server that left */
    AGENT_RC_REFUSE_BOOTSTRAP,   /* member and other: both in bootstrap mode, not added */
    AGENT_RC_REFUSE_CLUSTER,     /* member: its log belongs to another Raft cluster, not added */
    AGENT_RC_REFUSE_CONTESTED,   /* member (empty) and other (of another cluster, in the pool) */
};

struct agent_rc_action {
    enum agent_rc_kind kind;
    size_t member;  /* index into members (REGISTER_*, DEREGISTER_LEFT, *_PEER, REFUSE) */
    size_t node;    /* index into nodes (DEREGISTER_*) */
    size_t other;   /* REFUSE_BOOTSTRAP, REFUSE_CONTESTED: the index of the other member */
};

/* Writes at most max actions into out, in member order, then reaped catalog nodes; returns the
 * number written. Rules (Consul's leader.go): an alive or suspect member is registered unless the
 * catalog already has it at the same address with serfHealth passing (and, for a server, the
 * consul service); a failed member is marked critical unless it already is; a left member is
 * deregistered if present; a server of our datacenter alive and not in the configuration is
 * added, unless it and another server are both in bootstrap mode (Consul's refusal) or its log
 * belongs to another Raft cluster (its nonzero cluster id differs from ours: it bootstrapped
 * apart, and merging two logs loses committed entries), or it is empty while a server of
 * another cluster is alive in the pool (it could be claimed by either); a server that left is
 * removed from the configuration, except ourselves; a failed server is kept. A catalog node
 * with a serfHealth check that is no member is reaped, except ourselves; one without (an
 * external node registered through the catalog API) is left alone. */
size_t agent_reconcile_plan(const struct agent_rc_input *in, struct agent_rc_action *out,
                            size_t max);

#endif
