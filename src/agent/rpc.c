/* rpc.c — what an agent without Raft (a client) knows of its servers: the alive servers of its
 * datacenter from the gossip tags, for /v1/status and for choosing where requests go. */
#include <stdio.h>
#include <string.h>

#include "agent/agent_impl.h"
#include "base/json.h"
#include "gossip/gossip.h"

const char *agent_rpc_leader_hint(const struct agent *a)
{
    (void)a;
    return ""; /* a client does not follow Raft: it cannot name the leader by itself */
}

void agent_rpc_peers_hint(const struct agent *a, struct json_wr *w)
{
    const struct gossip *g = gossip_node_core(a->gossip);
    for (size_t i = 0; i < gossip_member_count(g); i++) {
        const struct gossip_member *m = gossip_member_at(g, i);
        if (m->tags.role != GOSSIP_ROLE_SERVER || strcmp(m->tags.dc, a->cfg->datacenter) != 0 ||
            (m->state != GOSSIP_STATE_ALIVE && m->state != GOSSIP_STATE_SUSPECT))
            continue;
        char ip[64], addr[96];
        snprintf(addr, sizeof addr, "%s:%u", agent_gossip_ip(&m->addr, ip, sizeof ip),
                 (unsigned)m->tags.rpc_port);
        json_wr_str(w, addr);
    }
}
