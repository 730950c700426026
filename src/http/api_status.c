/* api_status.c — /v1/status/leader and /v1/status/peers: the Raft leader's address and the
 * voters of the configuration in effect, as Consul answers them. */
#include <string.h>

#include "agent/agent_impl.h"
#include "agent/rpc_fwd.h"
#include "base/json.h"
#include "gossip/gossip.h"

/* A client has no Raft: it asks a server, as Consul's client does, and falls back to what the
 * servers' gossip tags say when none can be reached. */
static int ask_a_server(struct agent *a, struct http_req *r)
{
    if (a->raft != NULL)
        return AGENT_FWD_LOCAL;
    return agent_rpc_forward(a, r, false);
}

static enum http_disposition h_leader(struct http_req *r, void *ctx)
{
    struct agent *a = ctx;
    int fw = ask_a_server(a, r);
    if (fw != AGENT_FWD_LOCAL)
        return fw == AGENT_FWD_PENDING ? HTTP_PENDING : HTTP_DONE;
    struct buf b;
    buf_init(&b, 4096);
    const char *leader = a->raft ? raft_node_leader_addr(a->raft) : "";
    if (a->raft == NULL)
        leader = agent_rpc_leader_hint(a);
    json_append_string(&b, leader, strlen(leader));
    http_respond_json(r, 200, &b);
    buf_free(&b);
    return HTTP_DONE;
}

static enum http_disposition h_peers(struct http_req *r, void *ctx)
{
    struct agent *a = ctx;
    int fw = ask_a_server(a, r);
    if (fw != AGENT_FWD_LOCAL)
        return fw == AGENT_FWD_PENDING ? HTTP_PENDING : HTTP_DONE;
    struct buf b;
    buf_init(&b, 1u << 20);
    struct json_wr w;
    json_wr_init(&w, &b);
    json_wr_arr_begin(&w);
    if (a->raft) {
        const struct raft_config *c = raft_node_configuration(a->raft);
        for (uint32_t i = 0; i < c->n; i++)
            if (c->servers[i].voter)
                json_wr_str(&w, c->servers[i].addr);
    } else {
        agent_rpc_peers_hint(a, &w);
    }
    json_wr_arr_end(&w);
    if (json_wr_ok(&w))
        http_respond_json(r, 200, &b);
    else
        http_respond_text(r, 500, "response too large");
    buf_free(&b);
    return HTTP_DONE;
}

int agent_api_status_routes(struct agent *a)
{
    return http_route_add(a->http, HTTP_GET, "/v1/status/leader", h_leader, a) |
           http_route_add(a->http, HTTP_GET, "/v1/status/peers", h_peers, a);
}
