/* api_catalog.c — the catalog and health read endpoints (/v1/catalog/..., /v1/health/...) over
 * the replicated state, with Consul's X-Consul-* headers and ?stale/?consistent rules. */
#include <string.h>

#include "agent/agent_impl.h"
#include "agent/rpc_fwd.h"
#include "base/json.h"
#include "http/query.h"

#define QUERY_LIMIT (64u << 20)

enum q_kind { Q_NODES, Q_SERVICES, Q_SERVICE, Q_NODE, Q_H_NODE, Q_H_CHECKS, Q_H_STATE, Q_H_SERVICE };

struct q_route {
    const char *path;
    enum q_kind kind;
};

static int run_query(const struct agent *a, enum q_kind k, struct http_req *r, struct buf *out,
                     uint64_t *index)
{
    const char *arg = http_req_suffix(r);
    const char *tag = NULL, *v;
    if (!http_req_param(r, "tag", &tag))
        tag = NULL;
    bool passing = http_req_param(r, "passing", &v);
    switch (k) {
    case Q_NODES:
        return state_query_catalog_nodes(a->st, out, index);
    case Q_SERVICES:
        return state_query_catalog_services(a->st, out, index);
    case Q_SERVICE:
        return state_query_catalog_service(a->st, arg, tag, out, index);
    case Q_NODE:
        return state_query_catalog_node(a->st, arg, out, index);
    case Q_H_NODE:
        return state_query_health_node(a->st, arg, out, index);
    case Q_H_CHECKS:
        return state_query_health_checks(a->st, arg, out, index);
    case Q_H_STATE:
        return state_query_health_state(a->st, arg, out, index);
    case Q_H_SERVICE:
        return state_query_health_service(a->st, arg, tag, passing, out, index);
    }
    return -1;
}

static enum http_disposition h_query(struct http_req *r, void *vctx)
{
    const struct agent_qctx *qc = vctx;
    struct agent *a = qc->a;
    struct http_query_opts qo;
    const char *errmsg;
    if (http_query_opts_parse(http_req_msg(r), &qo, &errmsg) != 0) {
        http_respond_text(r, 400, errmsg);
        return HTTP_DONE;
    }
    if (qo.dc && *qo.dc && strcmp(qo.dc, a->cfg->datacenter) != 0) {
        http_respond_text(r, 500, "No path to datacenter");
        return HTTP_DONE;
    }
    int fw = agent_rpc_forward(a, r, false);
    if (fw != AGENT_FWD_LOCAL)
        return fw == AGENT_FWD_PENDING ? HTTP_PENDING : HTTP_DONE;
    if (a->st == NULL) {
        http_respond_text(r, 500, "No known Consul servers");
        return HTTP_DONE;
    }
    if (qc->kind != Q_NODES && qc->kind != Q_SERVICES && *http_req_suffix(r) == '\0') {
        http_respond_text(r, 400, "Missing name");
        return HTTP_DONE;
    }
    /* Default reads are served by the leader (a follower forwarded them above unless no leader
     * is known or the hop limit was reached); a follower's copy with ?stale, saying how fresh it
     * is in X-Consul-LastContact. */
    if (qo.consistency == HTTP_CONSISTENCY_CONSISTENT) {
        int cr = agent_consistent_read(a, r, h_query, vctx);
        if (cr != AGENT_READ_NOW)
            return cr == AGENT_READ_PENDING ? HTTP_PENDING : HTTP_DONE;
    }
    struct buf b;
    buf_init(&b, QUERY_LIMIT);
    uint64_t index = 1;
    int n = run_query(a, (enum q_kind)qc->kind, r, &b, &index);
    if (n >= 0 && qo.blocking && index <= qo.index &&
        agent_block_park(a, r, h_query, vctx, qo.wait_ms)) {
        buf_free(&b);
        return HTTP_PENDING;
    }
    if (n < 0) {
        http_respond_text(r, qc->kind == Q_H_STATE ? 400 : 500,
                          qc->kind == Q_H_STATE ? "Invalid check state" : "query failed");
    } else {
        agent_read_headers(a, r, index);
        http_respond_json(r, 200, &b);
    }
    buf_free(&b);
    return HTTP_DONE;
}

static enum http_disposition h_dcs(struct http_req *r, void *ctx)
{
    struct agent *a = ctx;
    struct buf b;
    buf_init(&b, 4096);
    struct json_wr w;
    json_wr_init(&w, &b);
    json_wr_arr_begin(&w);
    json_wr_str(&w, a->cfg->datacenter);
    json_wr_arr_end(&w);
    http_respond_json(r, 200, &b);
    buf_free(&b);
    return HTTP_DONE;
}

int agent_api_catalog_routes(struct agent *a)
{
    static const struct q_route routes[] = {
        {"/v1/catalog/nodes", Q_NODES},       {"/v1/catalog/services", Q_SERVICES},
        {"/v1/catalog/service/", Q_SERVICE},  {"/v1/catalog/node/", Q_NODE},
        {"/v1/health/node/", Q_H_NODE},       {"/v1/health/checks/", Q_H_CHECKS},
        {"/v1/health/state/", Q_H_STATE},     {"/v1/health/service/", Q_H_SERVICE},
    };
    _Static_assert(sizeof routes / sizeof routes[0] == AGENT_QROUTES, "one context per route");
    int rc = http_route_add(a->http, HTTP_GET, "/v1/catalog/datacenters", h_dcs, a);
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        a->qctx[i] = (struct agent_qctx){a, (int)routes[i].kind};
        rc |= http_route_add(a->http, HTTP_GET, routes[i].path, h_query, &a->qctx[i]);
    }
    return rc;
}
