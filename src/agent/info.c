/* info.c — what the agent tells about itself and its members as Consul's JSON: member objects
 * (with serf's tag names and numeric status) and the Stats sections `tribune info` prints. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent/agent_impl.h"
#include "base/json.h"
#include "gossip/gossip.h"

/* Consul's own protocol (the vsn tags) and serf's delegate protocol, which members report. */
#define CONSUL_PROTO_MIN 1
#define CONSUL_PROTO_MAX 2
#define CONSUL_PROTO_CUR 2
#define SERF_DELEGATE_MIN 2
#define SERF_DELEGATE_MAX 4
#define SERF_DELEGATE_CUR 4

char *agent_gossip_ip(const struct gossip_addr *ga, char *out, size_t outlen)
{
    if (ga->family == GOSSIP_AF_INET6) {
        if (inet_ntop(AF_INET6, ga->ip, out, (socklen_t)outlen) == NULL)
            snprintf(out, outlen, "::");
    } else if (inet_ntop(AF_INET, ga->ip, out, (socklen_t)outlen) == NULL) {
        snprintf(out, outlen, "0.0.0.0");
    }
    return out;
}

/* Serf's MemberStatus numbers: 1 alive, 2 leaving, 3 left, 4 failed. A suspect is still alive
 * to serf. */
static int status_number(uint8_t state)
{
    switch (state) {
    case GOSSIP_STATE_ALIVE:
    case GOSSIP_STATE_SUSPECT:
        return 1;
    case GOSSIP_STATE_LEFT:
        return 3;
    case GOSSIP_STATE_DEAD:
        return 4;
    default:
        return 0;
    }
}

const char *agent_member_status_name(uint8_t state)
{
    static const char *const names[] = {"none", "alive", "leaving", "left", "failed"};
    return names[status_number(state)];
}

static void kv_str(struct json_wr *w, const char *k, const char *v)
{
    json_wr_key(w, k);
    json_wr_str(w, v);
}

static void kv_u64(struct json_wr *w, const char *k, uint64_t v)
{
    char t[24];
    snprintf(t, sizeof t, "%" PRIu64, v);
    kv_str(w, k, t);
}

void agent_info_member(const struct agent *a, const struct gossip_member *m, struct json_wr *w)
{
    (void)a;
    char ip[64];
    json_wr_obj_begin(w);
    kv_str(w, "Name", m->name);
    kv_str(w, "Addr", agent_gossip_ip(&m->addr, ip, sizeof ip));
    json_wr_key(w, "Port");
    json_wr_uint(w, m->addr.port);
    json_wr_key(w, "Tags");
    json_wr_obj_begin(w);
    bool server = m->tags.role == GOSSIP_ROLE_SERVER;
    kv_str(w, "role", server ? "consul" : "node");
    kv_str(w, "dc", m->tags.dc);
    if (server)
        kv_u64(w, "port", m->tags.rpc_port);
    if (server && m->tags.cluster_id != 0) {
        char cid[24];
        snprintf(cid, sizeof cid, "%016" PRIx64, m->tags.cluster_id);
        kv_str(w, "cluster_id", cid);
    }
    kv_u64(w, "vsn", CONSUL_PROTO_CUR);
    kv_u64(w, "vsn_min", CONSUL_PROTO_MIN);
    kv_u64(w, "vsn_max", CONSUL_PROTO_MAX);
    kv_str(w, "build", m->tags.build);
    if (m->tags.bootstrap == GOSSIP_BOOTSTRAP_SELF)
        kv_str(w, "bootstrap", "1");
    else if (m->tags.bootstrap == GOSSIP_BOOTSTRAP_EXPECT)
        kv_u64(w, "expect", m->tags.expect);
    json_wr_obj_end(w);
    json_wr_key(w, "Status");
    json_wr_int(w, status_number(m->state));
    json_wr_key(w, "ProtocolMin");
    json_wr_uint(w, m->tags.proto_min);
    json_wr_key(w, "ProtocolMax");
    json_wr_uint(w, m->tags.proto_max);
    json_wr_key(w, "ProtocolCur");
    json_wr_uint(w, m->tags.proto_cur);
    json_wr_key(w, "DelegateMin");
    json_wr_uint(w, SERF_DELEGATE_MIN);
    json_wr_key(w, "DelegateMax");
    json_wr_uint(w, SERF_DELEGATE_MAX);
    json_wr_key(w, "DelegateCur");
    json_wr_uint(w, SERF_DELEGATE_CUR);
    json_wr_obj_end(w);
}

static size_t known_servers(const struct agent *a)
{
    const struct gossip *g = gossip_node_core(a->gossip);
    size_t n = 0;
    for (size_t i = 0; i < gossip_member_count(g); i++) {
        const struct gossip_member *m = gossip_member_at(g, i);
        if (m->tags.role == GOSSIP_ROLE_SERVER && m->state == GOSSIP_STATE_ALIVE &&
            strcmp(m->tags.dc, a->cfg->datacenter) == 0)
            n++;
    }
    return n;
}

void agent_info_stats(const struct agent *a, struct json_wr *w)
{
    json_wr_obj_begin(w);

    json_wr_key(w, "agent");
    json_wr_obj_begin(w);
    kv_str(w, "check_monitors", "0");
    kv_str(w, "check_ttls", "0");
    kv_str(w, "checks", "0");
    kv_str(w, "services", a->cfg->server ? "1" : "0");
    json_wr_obj_end(w);

    json_wr_key(w, "build");
    json_wr_obj_begin(w);
    kv_str(w, "prerelease", "");
    kv_str(w, "revision", "");
    kv_str(w, "version", TRIBUNE_VERSION);
    json_wr_obj_end(w);

    json_wr_key(w, "consul");
    json_wr_obj_begin(w);
    if (a->cfg->server) {
        kv_str(w, "bootstrap", a->cfg->bootstrap ? "true" : "false");
        kv_str(w, "known_datacenters", "1");
        kv_str(w, "leader", a->raft && raft_node_is_leader(a->raft) ? "true" : "false");
        kv_str(w, "server", "true");
    } else {
        kv_u64(w, "known_servers", known_servers(a));
        kv_str(w, "server", "false");
    }
    json_wr_obj_end(w);

    if (a->raft != NULL) {
        struct raft_node_stats s;
        raft_node_stats(a->raft, &s);
        json_wr_key(w, "raft");
        json_wr_obj_begin(w);
        kv_u64(w, "applied_index", s.applied_index);
        char cid[24];
        snprintf(cid, sizeof cid, "%016" PRIx64, raft_node_cluster_id(a->raft));
        kv_str(w, "cluster_id", cid);
        kv_u64(w, "commit_index", s.commit_index);
        kv_u64(w, "fsm_pending", s.fsm_pending);
        kv_str(w, "last_contact", s.last_contact);
        kv_u64(w, "last_log_index", s.last_log_index);
        kv_u64(w, "last_log_term", s.last_log_term);
        kv_u64(w, "last_snapshot_index", s.last_snapshot_index);
        kv_u64(w, "last_snapshot_term", s.last_snapshot_term);
        kv_u64(w, "num_peers", s.num_peers);
        kv_str(w, "state", s.state);
        kv_u64(w, "term", s.term);
        json_wr_obj_end(w);
    }

    struct gossip_stats gs;
    gossip_stats(gossip_node_core(a->gossip), &gs);
    json_wr_key(w, "serf_lan");
    json_wr_obj_begin(w);
    kv_str(w, "event_queue", "0");
    kv_str(w, "event_time", "1");
    kv_u64(w, "failed", gs.failed);
    kv_u64(w, "intent_queue", gs.queue_depth);
    kv_u64(w, "left", gs.left);
    kv_u64(w, "member_time", gs.incarnation);
    kv_u64(w, "members", gs.members);
    kv_str(w, "query_queue", "0");
    kv_str(w, "query_time", "1");
    json_wr_obj_end(w);

    struct utsname u;
    bool have_u = uname(&u) == 0;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    json_wr_key(w, "runtime");
    json_wr_obj_begin(w);
    kv_str(w, "arch", have_u ? u.machine : "unknown");
    kv_u64(w, "cpu_count", cpus > 0 ? (uint64_t)cpus : 1);
    kv_str(w, "goroutines", "1");
    kv_str(w, "max_procs", "1");
    kv_str(w, "os", "linux");
    kv_str(w, "version", "C11");
    json_wr_obj_end(w);

    json_wr_obj_end(w);
}

void agent_read_headers(const struct agent *a, struct http_req *r, uint64_t index)
{
    char t[32];
    snprintf(t, sizeof t, "%" PRIu64, index ? index : 1);
    http_req_header(r, "X-Consul-Index", t);
    bool known = a->raft && raft_node_leader_id(a->raft) != 0;
    http_req_header(r, "X-Consul-KnownLeader", known ? "true" : "false");
    uint64_t ms = 0;
    if (a->raft && !raft_node_is_leader(a->raft)) {
        struct raft_node_stats s;
        raft_node_stats(a->raft, &s);
        /* last_contact is Go duration text; Consul sends whole milliseconds. */
        double v = 0;
        char unit[8] = "";
        if (sscanf(s.last_contact, "%lf%7s", &v, unit) >= 1) {
            if (strcmp(unit, "s") == 0)
                v *= 1000;
            else if (strncmp(unit, "µs", 3) == 0 || strcmp(unit, "us") == 0)
                v /= 1000;
            else if (strcmp(unit, "ns") == 0)
                v /= 1e6;
            ms = v > 0 ? (uint64_t)v : 0;
        }
    }
    snprintf(t, sizeof t, "%" PRIu64, ms);
    http_req_header(r, "X-Consul-LastContact", t);
}
