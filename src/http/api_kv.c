/* api_kv.c — /v1/kv/<key>: GET (?recurse, ?keys&separator, ?raw), PUT (?flags, ?cas, 512 KiB
 * limit) and DELETE (?recurse, ?cas) with Consul's semantics; writes are proposed on the leader
 * and answered once applied. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_impl.h"
#include "agent/rpc_fwd.h"
#include "base/json.h"
#include "http/query.h"
#include "raft/raft.h"

#define KV_QUERY_LIMIT (64u << 20)

struct kv_op {
    struct agent *a;
    struct http_req *r; /* NULL once the client went away */
};

static int parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static void kv_cancel(struct http_req *r, void *ctx)
{
    (void)r;
    struct kv_op *op = ctx;
    op->r = NULL;
}

static void kv_done(void *ctx, const struct raft_node_result *res)
{
    struct kv_op *op = ctx;
    if (op->r != NULL) {
        http_req_on_cancel(op->r, NULL, NULL);
        if (res->err != 0) {
            http_respond_text(op->r, 500, raft_node_strerror(res->err));
        } else if (res->value < 0) {
            http_respond_text(op->r, 500, "request refused by the state machine");
        } else {
            struct buf b;
            buf_init(&b, 64);
            buf_append(&b, res->value ? "true" : "false", res->value ? 4 : 5);
            http_respond_json(op->r, 200, &b);
            buf_free(&b);
        }
    }
    free(op);
}

static enum http_disposition propose(struct agent *a, struct http_req *r, struct buf *cmd)
{
    if (a->raft == NULL || !raft_node_is_leader(a->raft)) {
        http_respond_text(r, 500, a->raft && raft_node_leader_id(a->raft) == 0
                                      ? "No cluster leader"
                                      : "writes must be sent to the leader's agent");
        return HTTP_DONE;
    }
    struct kv_op *op = calloc(1, sizeof *op);
    if (op == NULL) {
        http_respond_text(r, 500, "out of memory");
        return HTTP_DONE;
    }
    op->a = a;
    op->r = r;
    int rc = raft_node_propose(a->raft, cmd->data, cmd->len, kv_done, op);
    if (rc != 0) {
        free(op);
        http_respond_text(r, 500, rc == RAFT_ENOTLEADER ? "No cluster leader" : raft_node_strerror(rc));
        return HTTP_DONE;
    }
    http_req_on_cancel(r, kv_cancel, op);
    return HTTP_PENDING;
}

static enum http_disposition h_kv(struct http_req *r, void *ctx);

static enum http_disposition kv_get(struct agent *a, struct http_req *r, const char *key,
                                    const struct http_query_opts *qo)
{
    const char *v, *sep = NULL;
    struct buf b;
    buf_init(&b, KV_QUERY_LIMIT);
    uint64_t index = 1;
    int n;
    bool raw = false;
    if (http_req_param(r, "keys", &v)) {
        if (!http_req_param(r, "separator", &sep))
            sep = NULL;
        n = state_query_kv_keys(a->st, key, sep, &b, &index);
    } else if (http_req_param(r, "recurse", &v)) {
        n = state_query_kv_list(a->st, key, &b, &index);
    } else if (http_req_param(r, "raw", &v)) {
        raw = true;
        n = state_query_kv_raw(a->st, key, &b, &index);
    } else {
        n = state_query_kv_get(a->st, key, &b, &index);
    }
    if (n >= 0 && qo->blocking && index <= qo->index &&
        agent_block_park(a, r, h_kv, a, qo->wait_ms)) {
        buf_free(&b);
        return HTTP_PENDING;
    }
    agent_read_headers(a, r, index);
    if (n < 0)
        http_respond_text(r, 500, "query failed");
    else if (n == 0)
        http_respond(r, 404, "text/plain", "", 0);
    else if (raw)
        http_respond(r, 200, "application/octet-stream", b.data, b.len);
    else
        http_respond_json(r, 200, &b);
    buf_free(&b);
    return HTTP_DONE;
}

static enum http_disposition h_kv(struct http_req *r, void *ctx)
{
    struct agent *a = ctx;
    const struct http_message *m = http_req_msg(r);
    const char *key = http_req_suffix(r);
    const char *v;
    struct http_query_opts qo;
    const char *errmsg;
    if (http_query_opts_parse(m, &qo, &errmsg) != 0) {
        http_respond_text(r, 400, errmsg);
        return HTTP_DONE;
    }
    int fw = agent_rpc_forward(a, r, m->method != HTTP_GET && m->method != HTTP_HEAD);
    if (fw != AGENT_FWD_LOCAL)
        return fw == AGENT_FWD_PENDING ? HTTP_PENDING : HTTP_DONE;
    if (a->st == NULL) {
        http_respond_text(r, 500, "No known Consul servers");
        return HTTP_DONE;
    }
    bool recurse = http_req_param(r, "recurse", &v);
    if (m->method == HTTP_GET || m->method == HTTP_HEAD) {
        if (*key == '\0' && !recurse && !http_req_param(r, "keys", &v)) {
            http_respond_text(r, 400, "Missing key name");
            return HTTP_DONE;
        }
        if (qo.consistency == HTTP_CONSISTENCY_CONSISTENT) {
            int cr = agent_consistent_read(a, r, h_kv, a);
            if (cr != AGENT_READ_NOW)
                return cr == AGENT_READ_PENDING ? HTTP_PENDING : HTTP_DONE;
        }
        return kv_get(a, r, key, &qo);
    }
    char err[STATE_ERR_LEN] = "";
    struct buf cmd;
    buf_init(&cmd, 0);
    int rc;
    uint64_t cas = 0, flags = 0;
    bool has_cas = http_req_param(r, "cas", &v);
    if (has_cas && parse_u64(v, &cas) != 0) {
        http_respond_text(r, 400, "Invalid cas value");
        return HTTP_DONE;
    }
    if (m->method == HTTP_PUT) {
        if (*key == '\0') {
            http_respond_text(r, 400, "Missing key name");
            return HTTP_DONE;
        }
        if (http_req_param(r, "flags", &v) && parse_u64(v, &flags) != 0) {
            http_respond_text(r, 400, "Invalid flags value");
            return HTTP_DONE;
        }
        if (m->body.len > STATE_MAX_VALUE) {
            http_respond_text(r, 413, "Value exceeds 524288 byte limit");
            return HTTP_DONE;
        }
        rc = state_cmd_encode_kv_set(&cmd, key, flags, m->body.data, m->body.len, has_cas, cas,
                                     err);
    } else {
        if (*key == '\0' && !recurse) {
            http_respond_text(r, 400, "Missing key name");
            return HTTP_DONE;
        }
        rc = has_cas ? state_cmd_encode_kv_delete_cas(&cmd, key, cas, err)
                     : state_cmd_encode_kv_delete(&cmd, key, recurse, err);
    }
    enum http_disposition d;
    if (rc != 0) {
        http_respond_text(r, 400, err);
        d = HTTP_DONE;
    } else {
        d = propose(a, r, &cmd);
    }
    buf_free(&cmd);
    return d;
}

int agent_api_kv_routes(struct agent *a)
{
    return http_route_add(a->http, HTTP_GET | HTTP_PUT | HTTP_DELETE, "/v1/kv/", h_kv, a);
}
