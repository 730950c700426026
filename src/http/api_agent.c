/* api_agent.c — the /v1/agent/ endpoints: self (config, member, stats), members, join, leave,
 * force-leave, reload and the monitor log stream, with Consul's shapes and status codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_impl.h"
#include "base/json.h"
#include "gossip/gossip.h"

#define JSON_LIMIT (16u << 20)

static int respond_json(struct http_req *r, struct buf *b, struct json_wr *w)
{
    int rc = json_wr_ok(w) ? http_respond_json(r, 200, b)
                           : http_respond_text(r, 500, "response too large");
    buf_free(b);
    return rc;
}

static void kv_s(struct json_wr *w, const char *k, const char *v)
{
    json_wr_key(w, k);
    json_wr_str(w, v);
}

static void kv_i(struct json_wr *w, const char *k, int64_t v)
{
    json_wr_key(w, k);
    json_wr_int(w, v);
}

static void kv_b(struct json_wr *w, const char *k, bool v)
{
    json_wr_key(w, k);
    json_wr_bool(w, v);
}

static void write_config(const struct agent *a, struct json_wr *w)
{
    const struct agent_config *c = a->cfg;
    json_wr_obj_begin(w);
    kv_b(w, "Bootstrap", c->bootstrap);
    kv_i(w, "BootstrapExpect", c->bootstrap_expect);
    kv_b(w, "Server", c->server);
    kv_s(w, "Datacenter", c->datacenter);
    kv_s(w, "DataDir", a->dd.path);
    kv_s(w, "DNSRecursor", "");
    kv_s(w, "Domain", "consul.");
    kv_s(w, "LogLevel", log_level_name(a->lg->level));
    kv_s(w, "NodeName", c->node_name);
    kv_s(w, "ClientAddr", c->client_addr);
    kv_s(w, "BindAddr", c->bind_addr);
    kv_s(w, "AdvertiseAddr", c->advertise_addr);
    json_wr_key(w, "Ports");
    json_wr_obj_begin(w);
    kv_i(w, "DNS", c->ports.dns);
    kv_i(w, "HTTP", c->ports.http);
    kv_i(w, "RPC", 8400);
    kv_i(w, "SerfLan", c->ports.serf_lan);
    kv_i(w, "SerfWan", 8302);
    kv_i(w, "Server", c->ports.server);
    json_wr_obj_end(w);
    kv_b(w, "LeaveOnTerm", c->leave_on_terminate);
    kv_b(w, "SkipLeaveOnInt", c->skip_leave_on_interrupt);
    kv_b(w, "RejoinAfterLeave", c->rejoin_after_leave);
    json_wr_key(w, "StartJoin");
    json_wr_arr_begin(w);
    for (size_t i = 0; i < c->start_join.n; i++)
        json_wr_str(w, c->start_join.v[i]);
    json_wr_arr_end(w);
    kv_s(w, "PidFile", c->pid_file);
    kv_i(w, "Protocol", 2);
    kv_s(w, "Version", TRIBUNE_VERSION);
    kv_s(w, "VersionPrerelease", "");
    kv_s(w, "Revision", "");
    json_wr_obj_end(w);
}

static enum http_disposition h_self(struct http_req *r, void *ctx)
{
    struct agent *a = ctx;
    struct buf b;
    buf_init(&b, JSON_LIMIT);
    struct json_wr w;
    json_wr_init(&w, &b);
    json_wr_obj_begin(&w);
    json_wr_key(&w, "Config");
    write_config(a, &w);
    json_wr_key(&w, "Member");
    const struct gossip *g = gossip_node_core(a->gossip);
    const struct gossip_member *me = gossip_member_find(g, a->cfg->node_name);
    if (me)
        agent_info_member(a, me, &w);
    else
        json_wr_null(&w);
    json_wr_key(&w, "Stats");
    agent_info_stats(a, &w);
    json_wr_obj_end(&w);
    respond_json(r, &b, &w);
    return HTTP_DONE;
}

static enum http_disposition h_members(struct http_req *r, void *ctx)
{
    struct agent *a = ctx;
    const char *wan;
    struct buf b;
    buf_init(&b, JSON_LIMIT);
    struct json_wr w;
    json_wr_init(&w, &b);
    json_wr_arr_begin(&w);
    /* There is no WAN pool: ?wan=1 lists nothing rather than the LAN members under a lie. */
    if (!http_req_param(r, "wan", &wan)) {
        const struct gossip *g = gossip_node_core(a->gossip);
        for (size_t i = 0; i < gossip_member_count(g); i++)
            agent_info_member(a, gossip_member_at(g, i), &w);
    }
    json_wr_arr_end(&w);
    respond_json(r, &b, &w);
    return HTTP_DONE;
}

struct join_op {
    struct agent *a;
    struct http_req *r; /* NULL once the client went away or was answered */
    bool calling;       /* inside gossip_node_join: done must leave op to the caller */
    bool finished;
};

static void join_cancel(struct http_req *r, void *ctx)
{
    (void)r;
    struct join_op *op = ctx;
    op->r = NULL;
}

static void join_done(void *ctx, int contacted, const char *first_err)
{
    struct join_op *op = ctx;
    log_printf(op->a->lg, LOG_INFO, "agent", "(LAN) joined: %d Err: %s", contacted,
               first_err && *first_err ? first_err : "<nil>");
    if (op->r != NULL) {
        http_req_on_cancel(op->r, NULL, NULL);
        if (contacted > 0) {
            char n[16];
            snprintf(n, sizeof n, "%d", contacted);
            http_req_header(op->r, "X-Tribune-Joined", n);
            http_respond(op->r, 200, "text/plain", "", 0);
        } else {
            http_respond_text(op->r, 500, first_err && *first_err ? first_err : "join failed");
        }
        op->r = NULL;
    }
    op->finished = true;
    if (!op->calling)
        free(op);
}

static enum http_disposition h_join(struct http_req *r, void *ctx)
{
    struct agent *a = ctx;
    const char *addr = http_req_suffix(r);
    const char *wan;
    if (http_req_param(r, "wan", &wan)) {
        http_respond_text(r, 500, "WAN join is not supported: there is one datacenter pool");
        return HTTP_DONE;
    }
    if (addr == NULL || *addr == '\0') {
        http_respond_text(r, 400, "Missing address to join");
        return HTTP_DONE;
    }
    struct join_op *op = calloc(1, sizeof *op);
    if (op == NULL) {
        http_respond_text(r, 500, "out of memory");
        return HTTP_DONE;
    }
    op->a = a;
    op->r = r;
    op->calling = true;
    http_req_on_cancel(r, join_cancel, op);
    log_printf(a->lg, LOG_INFO, "agent", "(LAN) joining: [%s]", addr);
    char err[256];
    const char *addrs[1] = {addr};
    int rc = gossip_node_join(a->gossip, addrs, 1, join_done, op, err, sizeof err);
    op->calling = false;
    if (rc != 0) {
        http_req_on_cancel(r, NULL, NULL);
        free(op);
        http_respond_text(r, 500, err);
        return HTTP_DONE;
    }
    if (op->finished) { /* answered from inside the join */
        free(op);
        return HTTP_DONE;
    }
    return HTTP_PENDING;
}

static void leave_later(struct loop *l, uint64_t id, void *ctx)
{
    (void)l;
    (void)id;
    agent_graceful_leave(ctx);
}

static enum http_disposition h_leave(struct http_req *r, void *ctx)
{
    struct agent *a = ctx;
    http_respond(r, 200, "text/plain", "", 0);
    /* Answer first: the leave stops the HTTP server this reply travels through. */
    loop_timer_add(a->loop, 0, leave_later, a);
    return HTTP_DONE;
}

static enum http_disposition h_force_leave(struct http_req *r, void *ctx)
{
    struct agent *a = ctx;
    const char *node = http_req_suffix(r);
    if (node == NULL || *node == '\0') {
        http_respond_text(r, 400, "Missing node name");
        return HTTP_DONE;
    }
    log_printf(a->lg, LOG_INFO, "agent", "Force leaving node: %s", node);
    if (gossip_node_force_leave(a->gossip, node) != 0)
        log_printf(a->lg, LOG_WARN, "agent", "force-leave: '%s' is not a failed member", node);
    http_respond(r, 200, "text/plain", "", 0);
    return HTTP_DONE;
}

static enum http_disposition h_reload(struct http_req *r, void *ctx)
{
    agent_reload(ctx);
    http_respond(r, 200, "text/plain", "", 0);
    return HTTP_DONE;
}

static enum http_disposition h_monitor(struct http_req *r, void *ctx)
{
    struct agent *a = ctx;
    const char *lv;
    enum log_level level = LOG_INFO;
    if (http_req_param(r, "loglevel", &lv) && lv && *lv && log_level_parse(lv, &level) != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "Unknown log level: %.100s", lv);
        http_respond_text(r, 400, msg);
        return HTTP_DONE;
    }
    if (agent_monitor_add(a, r, level) != 0) {
        http_respond_text(r, 500, "out of memory");
        return HTTP_DONE;
    }
    return HTTP_PENDING;
}

/* The agent's own services and checks: a server runs the service "consul"; local service and
 * check definitions are not implemented, so there is nothing else. */
static enum http_disposition h_services(struct http_req *r, void *ctx)
{
    struct agent *a = ctx;
    struct buf b;
    buf_init(&b, 4096);
    struct json_wr w;
    json_wr_init(&w, &b);
    json_wr_obj_begin(&w);
    if (a->cfg->server) {
        json_wr_key(&w, "consul");
        json_wr_obj_begin(&w);
        kv_s(&w, "ID", "consul");
        kv_s(&w, "Service", "consul");
        json_wr_key(&w, "Tags");
        json_wr_arr_begin(&w);
        json_wr_arr_end(&w);
        kv_i(&w, "Port", a->cfg->ports.server);
        json_wr_obj_end(&w);
    }
    json_wr_obj_end(&w);
    respond_json(r, &b, &w);
    return HTTP_DONE;
}

static enum http_disposition h_checks(struct http_req *r, void *ctx)
{
    (void)ctx;
    struct buf b;
    buf_init(&b, 16);
    buf_append(&b, "{}", 2);
    http_respond_json(r, 200, &b);
    buf_free(&b);
    return HTTP_DONE;
}

int agent_api_agent_routes(struct agent *a)
{
    struct http_server *s = a->http;
    const unsigned gp = HTTP_GET | HTTP_PUT;
    return http_route_add(s, HTTP_GET, "/v1/agent/self", h_self, a) |
           http_route_add(s, HTTP_GET, "/v1/agent/members", h_members, a) |
           http_route_add(s, gp, "/v1/agent/join/", h_join, a) |
           http_route_add(s, gp, "/v1/agent/leave", h_leave, a) |
           http_route_add(s, gp, "/v1/agent/force-leave/", h_force_leave, a) |
           http_route_add(s, HTTP_PUT, "/v1/agent/reload", h_reload, a) |
           http_route_add(s, HTTP_GET, "/v1/agent/monitor", h_monitor, a) |
           http_route_add(s, HTTP_GET, "/v1/agent/services", h_services, a) |
           http_route_add(s, HTTP_GET, "/v1/agent/checks", h_checks, a);
}
