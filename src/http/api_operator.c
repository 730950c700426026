/* api_operator.c — /v1/operator/raft/configuration and DELETE /v1/operator/raft/peer: the Raft
 * configuration with member names and the leader, and removal of a server, in Consul 0.7 shapes. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_impl.h"
#include "agent/rpc_fwd.h"
#include "base/json.h"

/* A removal is answered once committed, as Consul waits on the Raft future; polling the commit
 * index keeps the raft node's interface as it is. */
#define OP_POLL_MS 20
#define OP_POLL_MAX 500 /* 10 s: a leader that cannot commit for that long has lost its quorum */

static void id_text(raft_id id, char *out, size_t outlen)
{
    snprintf(out, outlen, "%016" PRIx64, id);
}

/* A client forwards to a server and a follower to the leader (rpc_fwd.c); what is left here is
 * answered locally, or refused when this agent has no Raft (the hop limit was reached). */
static bool refuse_without_server(struct agent *a, struct http_req *r, bool write,
                                  enum http_disposition *d)
{
    int fw = agent_rpc_forward(a, r, write);
    if (fw != AGENT_FWD_LOCAL) {
        *d = fw == AGENT_FWD_PENDING ? HTTP_PENDING : HTTP_DONE;
        return true;
    }
    *d = HTTP_DONE;
    if (a->raft == NULL) {
        http_respond_text(r, 500, "No known Consul servers");
        return true;
    }
    return false;
}

static enum http_disposition h_configuration(struct http_req *r, void *ctx)
{
    struct agent *a = ctx;
    enum http_disposition d;
    if (refuse_without_server(a, r, false, &d))
        return d;
    raft_id leader = raft_node_leader_id(a->raft);
    /* A follower answers from its own log; without ?stale it must at least know a leader, so a
     * partitioned server does not pass off an old configuration as the cluster's. */
    if (leader == 0 && !http_req_param(r, "stale", NULL)) {
        http_respond_text(r, 500, "No cluster leader");
        return HTTP_DONE;
    }
    const struct raft_config *c = raft_node_configuration(a->raft);
    uint64_t index = raft_node_configuration_index(a->raft);
    struct buf b;
    buf_init(&b, 1u << 20);
    struct json_wr w;
    json_wr_init(&w, &b);
    json_wr_obj_begin(&w);
    json_wr_key(&w, "Servers");
    json_wr_arr_begin(&w);
    for (uint32_t i = 0; i < c->n; i++) {
        const struct raft_server *s = &c->servers[i];
        char id[24];
        id_text(s->id, id, sizeof id);
        const char *node = agent_server_name(a, s->id);
        json_wr_obj_begin(&w);
        json_wr_key(&w, "ID");
        json_wr_str(&w, id);
        json_wr_key(&w, "Node");
        json_wr_str(&w, node ? node : "(unknown)");
        json_wr_key(&w, "Address");
        json_wr_str(&w, s->addr);
        json_wr_key(&w, "Leader");
        json_wr_bool(&w, s->id == leader);
        json_wr_key(&w, "Voter");
        json_wr_bool(&w, s->voter);
        json_wr_obj_end(&w);
    }
    json_wr_arr_end(&w);
    json_wr_key(&w, "Index");
    json_wr_uint(&w, index);
    json_wr_obj_end(&w);
    agent_read_headers(a, r, index);
    if (json_wr_ok(&w))
        http_respond_json(r, 200, &b);
    else
        http_respond_text(r, 500, "response too large");
    buf_free(&b);
    return HTTP_DONE;
}

struct op_removal {
    struct agent *a;
    struct http_req *r;
    raft_id id;
    uint64_t index; /* the configuration entry that removes id */
    uint64_t term;  /* our term when it was appended */
    uint64_t timer;
    unsigned polls;
    char addr[RAFT_ADDR_MAX];
};

static void removal_cancel(struct http_req *r, void *ctx)
{
    (void)r;
    struct op_removal *op = ctx;
    loop_timer_cancel(op->a->loop, op->timer);
    free(op);
}

static void removal_answer(struct op_removal *op, int status, const char *text)
{
    loop_timer_cancel(op->a->loop, op->timer);
    http_respond_text(op->r, status, text);
    free(op);
}

static void removal_poll(struct loop *l, uint64_t id, void *ctx)
{
    (void)l;
    (void)id;
    struct op_removal *op = ctx;
    op->timer = 0;
    struct agent *a = op->a;
    if (a->raft == NULL || raft_node_failed(a->raft)) {
        removal_answer(op, 500, "the Raft node stopped before the removal was committed");
        return;
    }
    struct raft_node_stats st;
    raft_node_stats(a->raft, &st);
    bool gone = raft_config_find(raft_node_configuration(a->raft), op->id) == NULL;
    /* Committed with the server gone from the configuration: even if a later leader replaced
     * our entry, the server is out either way. */
    if (st.commit_index >= op->index && gone) {
        char msg[RAFT_ADDR_MAX + 64];
        snprintf(msg, sizeof msg, "removed peer with address \"%s\"", op->addr);
        log_printf(a->lg, LOG_INFO, "consul", "%s", msg);
        removal_answer(op, 200, "");
        return;
    }
    if (st.term != op->term) {
        removal_answer(op, 500, "leadership lost while removing the peer: the outcome is unknown, "
                                "check the configuration");
        return;
    }
    if (++op->polls >= OP_POLL_MAX) {
        removal_answer(op, 500, "timed out waiting for the removal to commit: the outcome is "
                                "unknown, check the configuration");
        return;
    }
    op->timer = loop_timer_add(a->loop, OP_POLL_MS, removal_poll, op);
    if (op->timer == 0)
        removal_answer(op, 500, "out of memory");
}

/* The 16 hex digits of a node-id file. */
static bool parse_id(const char *s, raft_id *out)
{
    if (strlen(s) == 0 || strlen(s) > 16)
        return false;
    raft_id v = 0;
    for (const char *p = s; *p; p++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            d = *p - 'A' + 10;
        else
            return false;
        v = v << 4 | (raft_id)d;
    }
    *out = v;
    return v != 0;
}

static void respond_not_leader(struct agent *a, struct http_req *r)
{
    raft_id leader = raft_node_leader_id(a->raft);
    if (leader == 0) {
        http_respond_text(r, 500, "No cluster leader");
        return;
    }
    const char *name = agent_server_name(a, leader);
    char msg[512];
    snprintf(msg, sizeof msg,
             "this server is not the leader; the leader is \"%s\" (%s): send the request to it",
             name ? name : "unknown", raft_node_leader_addr(a->raft));
    http_respond_text(r, 500, msg);
}

static enum http_disposition h_peer(struct http_req *r, void *ctx)
{
    struct agent *a = ctx;
    const char *addr = NULL, *idq = NULL;
    bool by_addr = http_req_param(r, "address", &addr);
    bool by_id = http_req_param(r, "id", &idq);
    if (by_addr == by_id) {
        http_respond_text(r, 400, "Must specify either ?id with the server's ID or ?address with "
                                  "IP:port of peer to remove");
        return HTTP_DONE;
    }
    enum http_disposition d;
    if (refuse_without_server(a, r, true, &d))
        return d;
    if (!raft_node_is_leader(a->raft)) {
        respond_not_leader(a, r);
        return HTTP_DONE;
    }
    const struct raft_config *c = raft_node_configuration(a->raft);
    const struct raft_server *found = NULL;
    raft_id want = 0;
    bool id_ok = by_id && parse_id(idq, &want);
    for (uint32_t i = 0; i < c->n && found == NULL; i++)
        if (by_addr ? strcmp(c->servers[i].addr, addr) == 0 : id_ok && c->servers[i].id == want)
            found = &c->servers[i];
    if (found == NULL) {
        char msg[600], shown[300];
        /* The text goes back to a terminal: no control characters from the query. */
        size_t k = 0;
        for (const char *p = by_addr ? addr : idq; *p && k + 1 < sizeof shown; p++)
            shown[k++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
        shown[k] = '\0';
        snprintf(msg, sizeof msg, "%s \"%s\" was not found in the Raft configuration",
                 by_addr ? "address" : "id", shown);
        http_respond_text(r, 500, msg);
        return HTTP_DONE;
    }
    struct op_removal *op = calloc(1, sizeof *op);
    if (op == NULL) {
        http_respond_text(r, 500, "out of memory");
        return HTTP_DONE;
    }
    op->a = a;
    op->r = r;
    op->id = found->id;
    snprintf(op->addr, sizeof op->addr, "%s", found->addr);
    int rc = raft_node_remove_server(a->raft, found->id);
    if (rc != 0) {
        free(op);
        char msg[256];
        if (rc == RAFT_EBUSY)
            snprintf(msg, sizeof msg, "a configuration change is in progress or the leader is "
                                      "new: try again");
        else if (rc == RAFT_EINVAL)
            snprintf(msg, sizeof msg, "cannot remove the last voter: nobody would be left to "
                                      "elect a leader");
        else
            snprintf(msg, sizeof msg, "%s", raft_node_strerror(rc));
        http_respond_text(r, 500, msg);
        return HTTP_DONE;
    }
    struct raft_node_stats st;
    raft_node_stats(a->raft, &st);
    op->term = st.term;
    op->index = raft_node_configuration_index(a->raft);
    log_printf(a->lg, LOG_INFO, "consul", "removing peer with address \"%s\" (operator request)",
               op->addr);
    op->timer = loop_timer_add(a->loop, OP_POLL_MS, removal_poll, op);
    if (op->timer == 0) {
        free(op);
        http_respond_text(r, 500, "out of memory: the removal was started, check the "
                                  "configuration");
        return HTTP_DONE;
    }
    http_req_on_cancel(r, removal_cancel, op);
    return HTTP_PENDING;
}

int agent_api_operator_routes(struct agent *a)
{
    return http_route_add(a->http, HTTP_GET, "/v1/operator/raft/configuration", h_configuration,
                          a) |
           http_route_add(a->http, HTTP_DELETE, "/v1/operator/raft/peer", h_peer, a);
}
