/* state.h — the replicated state machine: Consul's catalog (nodes, services, checks) and KV
 * store, fed committed Raft commands, snapshotted and restored exactly, queried as Consul JSON. */
#ifndef TRIBUNE_STATE_STATE_H
#define TRIBUNE_STATE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* Every server must reach byte-identical state from the same commands, so limits are part of the
 * command language: a command past one is rejected the same way everywhere. */
#define STATE_MAX_NAME 128u           /* node, datacenter, service/check IDs and names, tags */
#define STATE_MAX_ADDRESS 256u        /* a hostname or IP literal */
#define STATE_MAX_TAGS 64u            /* tags per service */
#define STATE_MAX_NOTES 1024u         /* check Notes */
#define STATE_MAX_OUTPUT 4096u        /* check Output, like Consul's default check output limit */
#define STATE_MAX_KEY 512u            /* KV key bytes */
#define STATE_MAX_VALUE (512u * 1024) /* KV value bytes: Consul's 524288 byte limit */
#define STATE_ERR_LEN 120u

/* Tables, as bits: the watch hook reports which ones an apply changed. */
enum state_table {
    STATE_T_NODES = 1u << 0,
    STATE_T_SERVICES = 1u << 1,
    STATE_T_CHECKS = 1u << 2,
    STATE_T_KV = 1u << 3,
};
#define STATE_T_ALL 0xfu

/* Numbers are protocol (they are in commands and snapshots): append only. */
enum state_check_status { STATE_PASSING = 1, STATE_WARNING = 2, STATE_CRITICAL = 3 };

enum state_err {
    STATE_OK = 0,
    STATE_EMALFORMED, /* undecodable command, or a field past a limit */
    STATE_EREJECTED,  /* well formed, but refused by the catalog rules (e.g. unknown service) */
    STATE_EINDEX,     /* index not after the last applied one: a glue bug, nothing applied */
    STATE_ENOMEM,     /* nothing applied; the caller MUST stop applying (it cannot skip an entry) */
};

struct state_result {
    enum state_err err;
    /* The outcome Consul replies with: false when a KV CAS (or create-only set) did not match. */
    bool value;
    char msg[STATE_ERR_LEN]; /* one line, set when err != STATE_OK */
};

/* Called after every apply that consumed its index, refused commands included (changed is then
 * 0, as for a no-op), and after a restore (changed = STATE_T_ALL): blocking queries waiting on
 * those tables wake. */
typedef void (*state_watch_fn)(void *ctx, uint64_t index, unsigned changed);

struct state;

struct state *state_create(void);
void state_destroy(struct state *st);
void state_set_watch(struct state *st, state_watch_fn fn, void *ctx);

/* Applies one committed command at Raft index `index` (> state_last_index). A malformed or refused
 * command changes nothing but the last applied index, and every server refuses it identically.
 * Returns the error, also filled in res (which may be NULL when the outcome is not needed). */
enum state_err state_apply(struct state *st, uint64_t index, const void *data, size_t len,
                           struct state_result *res);

/* The Raft index of the last applied command (or restored snapshot): Consul's X-Consul-Index. */
uint64_t state_last_index(const struct state *st);

/* Appends the whole state (canonical: equal states give equal bytes). 0, or -1 when out grows
 * past its limit or memory. */
int state_snapshot(const struct state *st, struct buf *out);

/* Replaces the state with a snapshot; all or nothing: on any corruption the old state is kept,
 * -1 is returned and err (may be NULL, STATE_ERR_LEN bytes) says why. */
int state_restore(struct state *st, const void *data, size_t len, char *err);

/* ---- commands (the opaque data of a RAFT_ENTRY_COMMAND) ---- */

struct state_service_def {
    const char *id; /* "" or NULL: the service name, as Consul defaults it */
    const char *service;
    const char *const *tags;
    size_t n_tags;
    uint16_t port;
};

struct state_check_def {
    const char *check_id; /* "" or NULL: the name */
    const char *name;
    enum state_check_status status;
    const char *notes;
    const char *output;
    const char *service_id; /* "" or NULL: a node-level check */
};

/* Encoders append one command to out and validate it exactly as state_apply will, so a leader can
 * refuse a bad request before proposing it. 0, or -1 with out unchanged and err (may be NULL,
 * STATE_ERR_LEN bytes) saying why. NULL strings mean "". */
int state_cmd_encode_register(struct buf *out, const char *node, const char *address,
                              const char *datacenter, const struct state_service_def *svc,
                              const struct state_check_def *chk, char *err);
int state_cmd_encode_deregister_node(struct buf *out, const char *node, char *err);
int state_cmd_encode_deregister_service(struct buf *out, const char *node, const char *service_id,
                                        char *err);
int state_cmd_encode_deregister_check(struct buf *out, const char *node, const char *check_id,
                                      char *err);
/* cas: when true, set only if the key's ModifyIndex equals cas_index (0: only if absent). */
int state_cmd_encode_kv_set(struct buf *out, const char *key, uint64_t flags, const void *value,
                            size_t value_len, bool cas, uint64_t cas_index, char *err);
/* recurse: delete every key starting with key ("" with recurse deletes all). */
int state_cmd_encode_kv_delete(struct buf *out, const char *key, bool recurse, char *err);
/* Deletes key only if its ModifyIndex equals cas_index (an absent key counts as deleted). */
int state_cmd_encode_kv_delete_cas(struct buf *out, const char *key, uint64_t cas_index, char *err);

/* Decodes and validates without applying: 0, or -1 with err filled. */
int state_cmd_check(const void *data, size_t len, char *err);

/* ---- queries: Consul's JSON appended to out, *index set to the X-Consul-Index to send ----
 * Each returns the number of records written (so 0 lets the HTTP layer answer 404 where Consul
 * does), or -1 when out overflowed or an argument is invalid. Lists are sorted by name (then ID);
 * an empty list is written as []. *index is at least 1, as Consul's never is 0. */
int state_query_catalog_nodes(const struct state *st, struct buf *out, uint64_t *index);
/* {"Node":{...},"Services":{...}}, or null when the node is unknown. */
int state_query_catalog_node(const struct state *st, const char *node, struct buf *out,
                             uint64_t *index);
int state_query_catalog_services(const struct state *st, struct buf *out, uint64_t *index);
/* tag: NULL for all; matched case-insensitively as Consul 0.4 did. */
int state_query_catalog_service(const struct state *st, const char *service, const char *tag,
                                struct buf *out, uint64_t *index);
int state_query_health_node(const struct state *st, const char *node, struct buf *out,
                            uint64_t *index);
int state_query_health_checks(const struct state *st, const char *service, struct buf *out,
                              uint64_t *index);
/* state: passing, warning, critical or any; anything else is -1. */
int state_query_health_state(const struct state *st, const char *status, struct buf *out,
                             uint64_t *index);
/* passing: keep only instances whose every check (node and service) is passing. */
int state_query_health_service(const struct state *st, const char *service, const char *tag,
                               bool passing, struct buf *out, uint64_t *index);
/* A one-element list for key, or [] (return 0) when absent. */
int state_query_kv_get(const struct state *st, const char *key, struct buf *out, uint64_t *index);
/* ?raw: the value bytes themselves (return 1), or nothing (return 0) when absent. */
int state_query_kv_raw(const struct state *st, const char *key, struct buf *out, uint64_t *index);
/* ?recurse: every entry whose key starts with prefix. */
int state_query_kv_list(const struct state *st, const char *prefix, struct buf *out,
                        uint64_t *index);
/* ?keys[&separator=]: key names under prefix, each cut after the first separator past the prefix
 * (deduplicated); separator NULL or "" lists every key. */
int state_query_kv_keys(const struct state *st, const char *prefix, const char *separator,
                        struct buf *out, uint64_t *index);

/* ---- typed lookups, for DNS answers and the leader's catalog reconciliation ---- */

/* The address of a node, or NULL when unknown; valid until the next apply or restore. */
const char *state_node_address(const struct state *st, const char *node);

struct state_node_view {
    const char *name, *address, *datacenter;
};
/* Calls fn for every node in name order. */
void state_nodes_each(const struct state *st,
                      void (*fn)(void *ctx, const struct state_node_view *node), void *ctx);

/* A check's status (enum state_check_status), or 0 when the node has no such check. */
int state_check_status(const struct state *st, const char *node, const char *check_id);

struct state_instance {
    const char *node, *address, *service_id, *service;
    const char *const *tags;
    size_t n_tags;
    uint16_t port;
    /* The worst status among the instance's checks and its node's node-level checks (passing
     * when there are none): DNS leaves out critical instances. */
    enum state_check_status worst;
};
/* Calls fn for every instance of service (tag: NULL, or matched ignoring case) in (node, ID)
 * order; returns how many. Pointers are valid until the next apply or restore. */
size_t state_service_instances(const struct state *st, const char *service, const char *tag,
                               void (*fn)(void *ctx, const struct state_instance *inst),
                               void *ctx);

#endif
