/* api_catalog_write.c — PUT /v1/catalog/register and /v1/catalog/deregister: Consul's JSON bodies
 * turned into state commands, validated before proposing, answered `true` once applied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_impl.h"
#include "agent/rpc_fwd.h"
#include "base/json.h"
#include "raft/raft.h"

#define CAT_MAX_TAGS STATE_MAX_TAGS

struct cw_op {
    struct http_req *r; /* NULL once the client went away */
};

static void cw_cancel(struct http_req *r, void *ctx)
{
    (void)r;
    ((struct cw_op *)ctx)->r = NULL;
}

static void cw_done(void *ctx, const struct raft_node_result *res)
{
    struct cw_op *op = ctx;
    if (op->r != NULL) {
        http_req_on_cancel(op->r, NULL, NULL);
        if (res->err != 0) {
            http_respond_text(op->r, 500, raft_node_strerror(res->err));
        } else if (res->value < 0) {
            http_respond_text(op->r, 500, "request refused by the catalog");
        } else {
            struct buf b;
            buf_init(&b, 16);
            buf_append(&b, "true", 4);
            http_respond_json(op->r, 200, &b);
            buf_free(&b);
        }
    }
    free(op);
}

/* A string member or "" when absent; -1 when present with another type. */
static int str_of(const struct json_value *o, const char *key, const char **out)
{
    *out = "";
    const struct json_value *v = json_get(o, key);
    if (v == NULL || v->type == JSON_NULL)
        return 0;
    if (v->type != JSON_STRING || memchr(v->str, '\0', v->len) != NULL)
        return -1;
    *out = v->str;
    return 0;
}

static enum http_disposition propose(struct agent *a, struct http_req *r, struct buf *cmd)
{
    int fw = agent_rpc_forward(a, r, true);
    if (fw != AGENT_FWD_LOCAL)
        return fw == AGENT_FWD_PENDING ? HTTP_PENDING : HTTP_DONE;
    if (a->raft == NULL) {
        http_respond_text(r, 500, "No known Consul servers");
        return HTTP_DONE;
    }
    struct cw_op *op = calloc(1, sizeof *op);
    if (op == NULL) {
        http_respond_text(r, 500, "out of memory");
        return HTTP_DONE;
    }
    op->r = r;
    int rc = raft_node_propose(a->raft, cmd->data, cmd->len, cw_done, op);
    if (rc != 0) {
        free(op);
        http_respond_text(r, 500, rc == RAFT_ENOTLEADER ? "No cluster leader" : raft_node_strerror(rc));
        return HTTP_DONE;
    }
    http_req_on_cancel(r, cw_cancel, op);
    return HTTP_PENDING;
}

static int parse_doc(const uint8_t *body, size_t len, struct json_value *doc, const char **bad)
{
    struct json_error je;
    if (json_parse((const char *)body, len, NULL, doc, &je) != 0) {
        *bad = "Request decode failed: malformed JSON";
        return -1;
    }
    if (doc->type != JSON_OBJECT) {
        json_free(doc);
        *bad = "Request decode failed: expected an object";
        return -1;
    }
    return 0;
}

static int decode_register(const struct json_value *doc, const char *our_dc, struct buf *cmd,
                           int *status, const char **bad, char *err)
{
    const char *node, *addr, *dc;
    struct state_service_def svc = {0};
    struct state_check_def chk = {0};
    const char *tags[CAT_MAX_TAGS];
    bool has_svc = false, has_chk = false;
    *status = 400;
    if (str_of(doc, "Node", &node) || str_of(doc, "Address", &addr) ||
        str_of(doc, "Datacenter", &dc))
        *bad = "Request decode failed: Node, Address and Datacenter are strings";
    else if (*node == '\0')
        *bad = "Must provide node";
    else if (*addr == '\0')
        *bad = "Must provide address";
    else if (*dc != '\0' && strcmp(dc, our_dc) != 0) {
        *bad = "No path to datacenter";
        *status = 500;
    }
    const struct json_value *s = json_get(doc, "Service");
    if (*bad == NULL && s != NULL && s->type == JSON_OBJECT) {
        has_svc = true;
        const struct json_value *port = json_get(s, "Port");
        const struct json_value *tv = json_get(s, "Tags");
        if (str_of(s, "ID", &svc.id) || str_of(s, "Service", &svc.service))
            *bad = "Request decode failed: Service.ID and Service.Service are strings";
        else if (*svc.service == '\0')
            *bad = "Must provide service name";
        else if (port && (port->type != JSON_NUMBER || !port->is_int || port->integer < 0 ||
                          port->integer > 65535))
            *bad = "Request decode failed: Service.Port is a port number";
        else if (tv && tv->type != JSON_NULL && (tv->type != JSON_ARRAY || tv->count > CAT_MAX_TAGS))
            *bad = "Request decode failed: Service.Tags is a list of at most 64 strings";
        if (*bad == NULL && port)
            svc.port = (uint16_t)port->integer;
        for (size_t i = 0; *bad == NULL && tv && tv->type == JSON_ARRAY && i < tv->count; i++) {
            if (tv->items[i].type != JSON_STRING || memchr(tv->items[i].str, '\0', tv->items[i].len))
                *bad = "Request decode failed: Service.Tags is a list of strings";
            else
                tags[svc.n_tags++] = tv->items[i].str;
        }
        svc.tags = tags;
    }
    const struct json_value *c = json_get(doc, "Check");
    if (*bad == NULL && c != NULL && c->type == JSON_OBJECT) {
        has_chk = true;
        const char *st;
        if (str_of(c, "CheckID", &chk.check_id) || str_of(c, "Name", &chk.name) ||
            str_of(c, "Notes", &chk.notes) || str_of(c, "Output", &chk.output) ||
            str_of(c, "ServiceID", &chk.service_id) || str_of(c, "Status", &st))
            *bad = "Request decode failed: Check fields are strings";
        else if (*st == '\0' || strcmp(st, "passing") == 0)
            chk.status = STATE_PASSING;
        else if (strcmp(st, "warning") == 0)
            chk.status = STATE_WARNING;
        else if (strcmp(st, "critical") == 0)
            chk.status = STATE_CRITICAL;
        else
            *bad = "Invalid check status";
        if (*bad == NULL && *chk.name == '\0' && *chk.check_id == '\0')
            *bad = "Must provide check name";
    }
    if (*bad != NULL)
        return -1;
    if (state_cmd_encode_register(cmd, node, addr, our_dc, has_svc ? &svc : NULL,
                                  has_chk ? &chk : NULL, err) != 0) {
        *bad = err;
        return -1;
    }
    return 0;
}

static int decode_deregister(const struct json_value *doc, struct buf *cmd, const char **bad,
                             char *err)
{
    const char *node, *sid, *cid;
    if (str_of(doc, "Node", &node) || str_of(doc, "ServiceID", &sid) ||
        str_of(doc, "CheckID", &cid)) {
        *bad = "Request decode failed: Node, ServiceID and CheckID are strings";
        return -1;
    }
    if (*node == '\0') {
        *bad = "Must provide node";
        return -1;
    }
    int rc = *sid ? state_cmd_encode_deregister_service(cmd, node, sid, err)
             : *cid ? state_cmd_encode_deregister_check(cmd, node, cid, err)
                    : state_cmd_encode_deregister_node(cmd, node, err);
    if (rc != 0)
        *bad = err;
    return rc;
}

int agent_catalog_decode(bool reg, const uint8_t *body, size_t len, const char *our_dc,
                         struct buf *cmd, int *status, char *msg, size_t msglen)
{
    struct json_value doc;
    const char *bad = NULL;
    char err[STATE_ERR_LEN] = "";
    *status = 400;
    int rc = parse_doc(body, len, &doc, &bad);
    if (rc == 0) {
        rc = reg ? decode_register(&doc, our_dc, cmd, status, &bad, err)
                 : decode_deregister(&doc, cmd, &bad, err);
        json_free(&doc);
    }
    if (rc != 0)
        snprintf(msg, msglen, "%s", bad ? bad : "Request decode failed");
    return rc;
}

static enum http_disposition h_write(struct http_req *r, struct agent *a, bool reg)
{
    const struct http_message *m = http_req_msg(r);
    struct buf cmd;
    buf_init(&cmd, 0);
    char msg[STATE_ERR_LEN + 80];
    int status;
    enum http_disposition d = HTTP_DONE;
    if (agent_catalog_decode(reg, m->body.data, m->body.len, a->cfg->datacenter, &cmd, &status,
                             msg, sizeof msg) != 0)
        http_respond_text(r, status, msg);
    else
        d = propose(a, r, &cmd);
    buf_free(&cmd);
    return d;
}

static enum http_disposition h_register(struct http_req *r, void *ctx)
{
    return h_write(r, ctx, true);
}

static enum http_disposition h_deregister(struct http_req *r, void *ctx)
{
    return h_write(r, ctx, false);
}

int agent_api_catalog_write_routes(struct agent *a)
{
    return http_route_add(a->http, HTTP_PUT, "/v1/catalog/register", h_register, a) |
           http_route_add(a->http, HTTP_PUT, "/v1/catalog/deregister", h_deregister, a);
}
