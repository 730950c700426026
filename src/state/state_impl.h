/* state_impl.h — internals of src/state: the record types, the sorted tables holding them, and
 * the decoded command shared by apply, validation and the snapshot codec. Not for other modules. */
#ifndef TRIBUNE_STATE_STATE_IMPL_H
#define TRIBUNE_STATE_STATE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "state/state.h"

/* A byte range borrowed from a command or snapshot; never NUL-terminated. */
struct state_str {
    const char *p;
    size_t n;
};

/* Records own their strings (NUL-terminated copies; validation forbids NUL inside). */
struct catalog_node {
    char *name, *address, *datacenter;
    uint64_t create_index, modify_index;
};

struct catalog_service {
    char *node, *id, *service;
    char **tags;
    size_t n_tags;
    uint16_t port;
    uint64_t create_index, modify_index;
};

/* A check stores its ServiceID only: ServiceName is looked up when rendered, so renaming a
 * service can never leave a check naming the old one. */
struct catalog_check {
    char *node, *id, *name, *notes, *output, *service_id;
    uint8_t status;
    uint64_t create_index, modify_index;
};

struct kv_entry {
    char *key;
    uint64_t flags;
    uint8_t *value; /* NULL when empty */
    size_t value_len;
    uint64_t create_index, modify_index, lock_index;
};

/* A sorted array of record pointers: O(log n) lookup, ordered scans for prefixes and for the
 * canonical snapshot order. Inserts move pointers, which is cheap at catalog sizes. */
struct state_vec {
    void **v;
    size_t n, cap;
};

/* Compares a record with a lookup key: <0, 0, >0 as the record sorts before, at, after it. */
typedef int (*state_cmp_fn)(const void *item, const void *key);

/* Index of the first record not before key; *found when it is equal to key. */
size_t state_vec_lower(const struct state_vec *vec, const void *key, state_cmp_fn cmp, bool *found);
/* Makes room for extra more records so the following inserts cannot fail. 0 or -1. */
int state_vec_reserve(struct state_vec *vec, size_t extra);
/* Inserts at position at; capacity must have been reserved. */
void state_vec_insert(struct state_vec *vec, size_t at, void *item);
void *state_vec_remove(struct state_vec *vec, size_t at);
void state_vec_free(struct state_vec *vec);

/* Table index slots, in the bit order of enum state_table. */
enum { STATE_IX_NODES, STATE_IX_SERVICES, STATE_IX_CHECKS, STATE_IX_KV, STATE_IX_COUNT };

struct state {
    struct state_vec nodes;    /* struct catalog_node, by name */
    struct state_vec services; /* struct catalog_service, by (node, id) */
    /* The same service records by (service name, node, id): service lookups by name (the
     * catalog, health and DNS hot path) are O(log n + k), not a scan. */
    struct state_vec services_by_name;
    struct state_vec checks;   /* struct catalog_check, by (node, id) */
    struct state_vec kv;       /* struct kv_entry, by key */
    uint64_t last_index;
    /* Raft index of the last change to each table, deletions included: a blocking query must
     * wake on a delete, which no remaining record's ModifyIndex would show. */
    uint64_t table_index[STATE_IX_COUNT];
    state_watch_fn watch;
    void *watch_ctx;
};

/* Command op codes: protocol, append only. A command is u8 version (1), u8 op, then (str = u16
 * length + bytes, every integer big-endian, flags are one byte 0 or 1, nothing may follow):
 *   REGISTER           str node, str address, str datacenter,
 *                      u8 has_service [str id, str service, u16 n_tags, str tag * n_tags,
 *                                      u16 port],
 *                      u8 has_check [str id, str name, u8 status, str notes, str output,
 *                                    str service_id]
 *   DEREGISTER_NODE    str node
 *   DEREGISTER_SERVICE str node, str service_id
 *   DEREGISTER_CHECK   str node, str check_id
 *   KV_SET             str key, u64 flags, u32 value_len, value, u8 has_cas,
 *                      u64 cas (0 unless has_cas)
 *   KV_DELETE          str key
 *   KV_DELETE_TREE     str prefix
 *   KV_DELETE_CAS      str key, u64 cas
 * An empty service ID defaults to the service name, an empty check ID to the check name. */
enum state_op {
    STATE_OP_REGISTER = 1,
    STATE_OP_DEREGISTER_NODE = 2,
    STATE_OP_DEREGISTER_SERVICE = 3,
    STATE_OP_DEREGISTER_CHECK = 4,
    STATE_OP_KV_SET = 5,
    STATE_OP_KV_DELETE = 6,
    STATE_OP_KV_DELETE_TREE = 7,
    STATE_OP_KV_DELETE_CAS = 8,
};
#define STATE_CMD_VERSION 1

/* A decoded, validated and normalized command (IDs defaulted to names). */
struct state_cmd {
    uint8_t op;
    struct state_str node, address, datacenter;
    bool has_service;
    struct state_str svc_id, svc_name;
    struct state_str tags[STATE_MAX_TAGS];
    size_t n_tags;
    uint16_t port;
    bool has_check;
    struct state_str chk_id, chk_name, notes, output, chk_service_id;
    uint8_t status;
    struct state_str key;
    uint64_t flags;
    const uint8_t *value;
    size_t value_len;
    bool has_cas;
    uint64_t cas;
};

/* Decodes one command; 0, or -1 with err (STATE_ERR_LEN) filled. */
int state_cmd_decode(const void *data, size_t len, struct state_cmd *cmd, char *err);

/* Field validation shared by the command and snapshot decoders: NULL when fine, else why
 * ("missing", "too long", ...). */
const char *state_check_name(struct state_str s, bool allow_empty, size_t max);
bool state_status_valid(uint8_t status);
const char *state_status_name(uint8_t status);

/* Byte-wise ordering of a NUL-terminated record string against a borrowed range. */
int state_strcmp(const char *a, struct state_str b);
struct state_str state_str_of(const char *s);
/* A NUL-terminated copy, or NULL when out of memory. */
char *state_strdup(struct state_str s);

/* Two-part keys for services and checks. */
struct state_key2 {
    struct state_str node, id;
};
int catalog_node_cmp(const void *item, const void *key);    /* key: struct state_str */
int catalog_service_cmp(const void *item, const void *key); /* key: struct state_key2 */
int catalog_check_cmp(const void *item, const void *key);   /* key: struct state_key2 */
int kv_entry_cmp(const void *item, const void *key);        /* key: struct state_str */
/* services_by_name order; key: a struct catalog_service (only service, node, id are read). */
int catalog_service_name_cmp(const void *item, const void *key);

const struct catalog_node *catalog_find_node(const struct state *st, struct state_str name);
const struct catalog_service *catalog_find_service(const struct state *st, struct state_str node,
                                                   struct state_str id);
/* The first service/check of node (index into the table); scan while ->node equals node. */
size_t catalog_services_of(const struct state *st, struct state_str node);
size_t catalog_checks_of(const struct state *st, struct state_str node);
/* The first services_by_name slot of name; scan while ->service equals name. */
size_t catalog_services_named(const struct state *st, const char *name);
/* From slot *i on, the next instance of service name carrying tag (any when tag is NULL), its
 * slot left in *i; NULL once past the name's run. Start *i at catalog_services_named. */
const struct catalog_service *catalog_service_next(const struct state *st, const char *name,
                                                   const char *tag, size_t *i);
/* Rebuilds services_by_name from services (after a restore). 0, or -1 out of memory. */
int catalog_index_services(struct state *st);

void catalog_node_free(struct catalog_node *n);
void catalog_service_free(struct catalog_service *s);
void catalog_check_free(struct catalog_check *c);
void kv_entry_free(struct kv_entry *e);

/* Apply one catalog or KV command at index; returns the changed table bits, fills res. */
unsigned catalog_apply(struct state *st, uint64_t index, const struct state_cmd *cmd,
                       struct state_result *res);
unsigned kv_apply(struct state *st, uint64_t index, const struct state_cmd *cmd,
                  struct state_result *res);

/* Empties every table (records freed); state_free_tables also releases the arrays. */
void state_clear(struct state *st);
void state_free_tables(struct state *st);

/* Query helpers: Consul's JSON objects, and the X-Consul-Index of a set of tables (>= 1). */
struct json_wr;
void state_json_node(struct json_wr *w, const struct catalog_node *n);
void state_json_service(struct json_wr *w, const struct catalog_service *s);
void state_json_check(struct json_wr *w, const struct state *st, const struct catalog_check *k);
/* The ServiceName of a check: its service's name, or "" for a node-level check. */
const char *state_check_service_name(const struct state *st, const struct catalog_check *k);
uint64_t state_tables_index(const struct state *st, unsigned tables);
/* True when tag is NULL or one of the service's tags equals it ignoring ASCII case (Consul 0.4). */
bool state_service_has_tag(const struct catalog_service *s, const char *tag);
/* Closes a query: the record count, or -1 (out rolled back to start) when the writer failed. */
int state_query_end(const struct json_wr *w, struct buf *out, size_t start, int count);

/* Result helpers. */
void state_result_set(struct state_result *res, enum state_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
