/* agent.c — the agent lifecycle: data dir, node id and pid file, banner, gossip + (servers) Raft +
 * HTTP on one reactor, signals, graceful leave bounded in time, reload on SIGHUP. */
#include "agent/agent.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent_impl.h"
#include "gossip/gossip.h"
#include "raft/raft.h"

#define LEAVE_TRANSFER_MS 3000u /* a leaving leader hands over within this, or leaves anyway */
#define LEAVE_TOTAL_MS 15000u   /* the whole graceful leave; the gossip part is bounded at 5 s */
#define LEAVE_POLL_MS 50u

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("==> ", stdout);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout); /* log lines go straight to fd 1: keep the order they were produced in */
}

static void shout(const char *msg)
{
    fprintf(stderr, "==> %s\n", msg);
}

static void banner(const struct agent_config *c)
{
    printf("==> Tribune agent running!\n"
           "       Node name: '%s'\n"
           "      Datacenter: '%s'\n"
           "          Server: %s (bootstrap: %s)\n"
           "     Client Addr: %s (HTTP: %d, DNS: %d)\n"
           "    Cluster Addr: %s (LAN: %d, Server: %d)\n"
           "\n"
           "==> Log data will now stream in as it occurs:\n\n",
           c->node_name, c->datacenter, c->server ? "true" : "false",
           c->bootstrap ? "true" : "false", c->client_addr, c->ports.http, c->ports.dns,
           c->advertise_addr, c->ports.serf_lan, c->ports.server);
    fflush(stdout);
}

/* Consul re-reads its configuration on SIGHUP; what can be applied live is the log level. A
 * configuration that no longer validates is reported and the running one kept. */
void agent_reload(struct agent *a)
{
    say("Reloading configuration...");
    struct agent_host host;
    char err[512];
    if (agent_host_probe(&host, err, sizeof err) != 0) {
        log_printf(a->lg, LOG_ERR, "agent", "reload failed: %s", err);
        return;
    }
    struct agent_config fresh;
    int rc = agent_config_load((int)a->cfg->argv.n, a->cfg->argv.v, &host, &fresh, err, sizeof err);
    if (rc == AGENT_CONFIG_OK) {
        a->lg->level = fresh.log_level;
        log_printf(a->lg, LOG_INFO, "agent", "log level is now %s", log_level_name(fresh.log_level));
    } else {
        char msg[600];
        snprintf(msg, sizeof msg, "Failed to reload configs: %s", err);
        shout(msg);
    }
    agent_config_free(&fresh);
    agent_host_free(&host);
}

void agent_gossip_tags(const struct agent *a, struct gossip_tags *t)
{
    const struct agent_config *c = a->cfg;
    memset(t, 0, sizeof *t);
    t->role = c->server ? GOSSIP_ROLE_SERVER : GOSSIP_ROLE_CLIENT;
    size_t dl = strlen(c->datacenter);
    memcpy(t->dc, c->datacenter, dl < sizeof t->dc ? dl : sizeof t->dc - 1);
    if (c->server) {
        t->rpc_port = (uint16_t)c->ports.server;
        t->raft_id = a->raft_id;
        t->raft_vsn = 1;
        t->cluster_id = a->raft != NULL ? raft_node_cluster_id(a->raft) : 0;
        if (c->bootstrap)
            t->bootstrap = GOSSIP_BOOTSTRAP_SELF;
        else if (c->bootstrap_expect > 0) {
            t->bootstrap = GOSSIP_BOOTSTRAP_EXPECT;
            t->expect = (uint8_t)(c->bootstrap_expect > 255 ? 255 : c->bootstrap_expect);
        }
    }
    snprintf(t->build, sizeof t->build, "%s", TRIBUNE_VERSION);
    t->proto_min = 1;
    t->proto_max = 2;
    t->proto_cur = 2;
}

static void on_gossip_event(void *ctx, const struct gossip_event *ev)
{
    struct agent *a = ctx;
    const struct gossip_member *m = &ev->member;
    if (ev->type == GOSSIP_EV_JOIN && m->tags.role == GOSSIP_ROLE_SERVER && a->cfg->server) {
        char ip[64];
        log_printf(a->lg, LOG_INFO, "consul", "adding server %s (Addr: %s:%u) (DC: %s)", m->name,
                   agent_gossip_ip(&m->addr, ip, sizeof ip), (unsigned)m->tags.rpc_port,
                   m->tags.dc);
    }
    if (ev->type == GOSSIP_EV_LEAVE && m->tags.role == GOSSIP_ROLE_SERVER && a->cfg->server)
        log_printf(a->lg, LOG_INFO, "consul", "removing server %s", m->name);
    switch (ev->type) {
    case GOSSIP_EV_JOIN:
    case GOSSIP_EV_LEAVE:
    case GOSSIP_EV_FAILED:
    case GOSSIP_EV_UPDATE:
    case GOSSIP_EV_REAP:
        if (a->raft) {
            agent_leader_member_event(a);
            agent_server_expect_check(a);
        }
        break;
    default:
        break;
    }
}

/* ---- graceful leave: hand leadership over, leave gossip, stop ---- */

static void leave_finish(struct agent *a)
{
    if (a->leave_timer)
        loop_timer_cancel(a->loop, a->leave_timer);
    if (a->leave_deadline_timer)
        loop_timer_cancel(a->loop, a->leave_deadline_timer);
    a->leave_timer = a->leave_deadline_timer = 0;
    a->exit_code = 0;
    loop_stop(a->loop);
}

static void on_gossip_left(void *ctx)
{
    struct agent *a = ctx;
    leave_finish(a);
}

static void leave_gossip(struct agent *a)
{
    if (gossip_node_leave(a->gossip, on_gossip_left, a) != 0)
        leave_finish(a);
}

static void on_leave_poll(struct loop *l, uint64_t id, void *ctx)
{
    (void)id;
    struct agent *a = ctx;
    a->leave_timer = 0;
    if (a->raft && raft_node_is_leader(a->raft) &&
        a->leave_polls++ < LEAVE_TRANSFER_MS / LEAVE_POLL_MS) {
        a->leave_timer = loop_timer_add(l, LEAVE_POLL_MS, on_leave_poll, a);
        return;
    }
    leave_gossip(a);
}

static void on_leave_deadline(struct loop *l, uint64_t id, void *ctx)
{
    (void)l;
    (void)id;
    struct agent *a = ctx;
    a->leave_deadline_timer = 0;
    log_printf(a->lg, LOG_WARN, "agent", "graceful leave timed out, stopping");
    leave_finish(a);
}

void agent_graceful_leave(struct agent *a)
{
    if (a->leaving)
        return;
    a->leaving = true;
    say("Gracefully shutting down agent...");
    a->leave_deadline_timer = loop_timer_add(a->loop, LEAVE_TOTAL_MS, on_leave_deadline, a);
    if (a->raft) {
        log_printf(a->lg, LOG_INFO, "consul", "server starting leave");
        const struct raft_config *c = raft_node_configuration(a->raft);
        /* The last server never removes itself, and a leader with voters beside it hands over
         * first so the cluster does not wait out an election timeout. */
        if (raft_node_is_leader(a->raft) && raft_config_voters(c) > 1) {
            int rc = raft_node_transfer_leadership(a->raft, 0);
            if (rc != 0)
                log_printf(a->lg, LOG_WARN, "consul", "leadership transfer failed: %s",
                           raft_strerror(rc));
            a->leave_timer = loop_timer_add(a->loop, LEAVE_POLL_MS, on_leave_poll, a);
            return;
        }
    }
    leave_gossip(a);
}

static void on_signal(struct loop *l, int signo, void *ctx)
{
    struct agent *a = ctx;
    const char *name = signo == SIGINT ? "interrupt" : signo == SIGTERM ? "terminated" : "hangup";
    say("Caught signal: %s", name);
    if (signo == SIGHUP) {
        agent_reload(a);
        return;
    }
    bool graceful = (signo == SIGINT && !a->cfg->skip_leave_on_interrupt) ||
                    (signo == SIGTERM && a->cfg->leave_on_terminate);
    if (a->leaving && !graceful) {
        a->exit_code = 1; /* a second signal while leaving: stop now */
        loop_stop(l);
        return;
    }
    if (graceful) {
        if (a->leaving) {
            a->exit_code = 1;
            loop_stop(l);
            return;
        }
        agent_graceful_leave(a);
        return;
    }
    a->exit_code = 1;
    log_printf(a->lg, LOG_INFO, "agent", "requesting shutdown");
    loop_stop(l);
}

static int start_gossip(struct agent *a, char *err, size_t errlen)
{
    const struct agent_config *c = a->cfg;
    char bind[AGENT_ADDR_MAX + 16], adv[AGENT_ADDR_MAX + 16];
    snprintf(bind, sizeof bind, "%s:%d", c->bind_addr, c->ports.serf_lan);
    snprintf(adv, sizeof adv, "%s:%d", c->advertise_addr, c->ports.serf_lan);
    struct gossip_node_opts o = {
        .name = c->node_name,
        .bind = bind,
        .advertise = adv,
        .data_dir = a->dd.path,
        .rejoin = c->rejoin_after_leave,
    };
    agent_gossip_tags(a, &o.tags);
    struct gossip_node_cbs cbs = {.on_event = on_gossip_event, .ctx = a};
    a->gossip = gossip_node_open(a->loop, &o, &cbs, a->lg, err, errlen);
    return a->gossip ? 0 : -1;
}

static int start_http(struct agent *a, char *err, size_t errlen)
{
    if (a->cfg->ports.http < 0)
        return 0;
    char addr[AGENT_ADDR_MAX + 16];
    snprintf(addr, sizeof addr, "%s:%d", a->cfg->client_addr, a->cfg->ports.http);
    struct http_server_opts o = {.banner = "Tribune Agent"};
    a->http = http_server_start(a->loop, addr, &o, err, errlen);
    if (a->http == NULL)
        return -1;
    if (agent_api_agent_routes(a) != 0 || agent_api_status_routes(a) != 0 ||
        agent_api_catalog_routes(a) != 0 || agent_api_kv_routes(a) != 0 ||
        agent_api_operator_routes(a) != 0 || agent_api_catalog_write_routes(a) != 0) {
        snprintf(err, errlen, "cannot register HTTP routes");
        return -1;
    }
    return 0;
}

/* The start_join addresses, as `join` would: failures are logged, not fatal... except that
 * Consul refuses to start when none of them answers. Here the result arrives asynchronously, so
 * a total failure is logged as an error and the agent keeps running. */
static void on_start_join(void *ctx, int contacted, const char *first_err)
{
    struct agent *a = ctx;
    log_printf(a->lg, contacted > 0 ? LOG_INFO : LOG_ERR, "agent", "(LAN) joined: %d Err: %s",
               contacted, first_err && *first_err ? first_err : "<nil>");
}

static void start_join(struct agent *a)
{
    const struct agent_strlist *j = &a->cfg->start_join;
    if (j->n == 0)
        return;
    log_printf(a->lg, LOG_INFO, "agent", "(LAN) joining: %zu addresses", j->n);
    char err[256];
    if (gossip_node_join(a->gossip, (const char *const *)j->v, j->n, on_start_join, a, err,
                         sizeof err) != 0)
        log_printf(a->lg, LOG_ERR, "agent", "(LAN) join failed: %s", err);
}

/* retry_join: Consul retries every retry_interval until one address answers, and after
 * retry_max failed attempts (0: never) gives up and exits 1. */
static void retry_join_attempt(struct loop *l, uint64_t id, void *ctx);

static void on_retry_join(void *ctx, int contacted, const char *first_err)
{
    struct agent *a = ctx;
    if (a->leaving)
        return;
    if (contacted > 0) {
        log_printf(a->lg, LOG_INFO, "agent", "Join completed. Synced with %d initial agents",
                   contacted);
        return;
    }
    a->retry_attempts++;
    if (a->cfg->retry_max > 0 && a->retry_attempts >= a->cfg->retry_max) {
        log_printf(a->lg, LOG_ERR, "agent", "max join retry exhausted, exiting");
        a->exit_code = 1;
        loop_stop(a->loop);
        return;
    }
    char d[32];
    raft_node_format_duration((uint64_t)a->cfg->retry_interval_ms * 1000000u, d, sizeof d);
    log_printf(a->lg, LOG_WARN, "agent", "Join failed: %s, retrying in %s",
               first_err && *first_err ? first_err : "no address answered", d);
    a->retry_timer = loop_timer_add(a->loop, (uint64_t)a->cfg->retry_interval_ms,
                                    retry_join_attempt, a);
}

static void retry_join_attempt(struct loop *l, uint64_t id, void *ctx)
{
    (void)l;
    (void)id;
    struct agent *a = ctx;
    a->retry_timer = 0;
    const struct agent_strlist *j = &a->cfg->retry_join;
    log_printf(a->lg, LOG_INFO, "agent", "Joining cluster...");
    char err[256];
    if (gossip_node_join(a->gossip, (const char *const *)j->v, j->n, on_retry_join, a, err,
                         sizeof err) != 0)
        on_retry_join(a, 0, err);
}

static void stop_all(struct agent *a)
{
    if (a->retry_timer)
        loop_timer_cancel(a->loop, a->retry_timer);
    a->retry_timer = 0;
    if (a->http)
        agent_monitor_close_all(a);
    if (a->http)
        http_server_stop(a->http);
    a->http = NULL;
    agent_blocking_stop(a);
    agent_server_close(a);
    if (a->gossip)
        gossip_node_close(a->gossip);
    a->gossip = NULL;
}

static int serve(struct agent *a)
{
    char err[512];
    a->loop = loop_create(a->lg, err, sizeof err);
    if (a->loop == NULL)
        goto fail_noloop;
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (loop_signal_on(a->loop, sigs[i], on_signal, a, err, sizeof err) != 0)
            goto fail;
    a->started_ms = loop_now_ms();
    banner(a->cfg);
    agent_monitor_init(a);
    if (start_gossip(a, err, sizeof err) != 0)
        goto fail;
    if (a->cfg->server && agent_server_open(a, err, sizeof err) != 0)
        goto fail;
    agent_blocking_init(a);
    if (start_http(a, err, sizeof err) != 0)
        goto fail;
    start_join(a);
    if (a->cfg->retry_join.n > 0)
        a->retry_timer = loop_timer_add(a->loop, 0, retry_join_attempt, a);
    a->exit_code = 1; /* a loop that ends without a signal is a failure */
    if (loop_run(a->loop) != 0)
        a->exit_code = 1;
    /* One more pass writes what is queued: the answer to /v1/agent/leave, the last monitor lines. */
    loop_run_once(a->loop, 0);
    stop_all(a);
    loop_destroy(a->loop);
    log_printf(a->lg, LOG_INFO, "agent", "shutdown complete");
    return a->exit_code;
fail:
    stop_all(a);
    loop_destroy(a->loop);
fail_noloop:;
    char msg[600];
    snprintf(msg, sizeof msg, "Error starting agent: %s", err);
    shout(msg);
    return 1;
}

int agent_run(const struct agent_config *cfg, struct logger *lg)
{
    struct agent a = {.cfg = cfg, .lg = lg};
    char err[AGENT_PATH_MAX + 256];
    if (agent_datadir_open(&a.dd, cfg->data_dir, err, sizeof err) != 0) {
        char msg[sizeof err + 32];
        snprintf(msg, sizeof msg, "Error starting agent: %s", err);
        shout(msg);
        return 1;
    }
    if (a.dd.temporary)
        log_printf(lg, LOG_INFO, "agent", "dev mode: using temporary data directory %s", a.dd.path);
    if (agent_nodeid_load(a.dd.path, cfg->node_name, &a.raft_id, err, sizeof err) != 0) {
        char msg[sizeof err + 32];
        snprintf(msg, sizeof msg, "Error starting agent: %s", err);
        shout(msg);
        agent_datadir_close(&a.dd);
        return 1;
    }
    if (cfg->pid_file[0] != '\0' && agent_pidfile_write(cfg->pid_file, err, sizeof err) != 0) {
        shout(err);
        agent_datadir_close(&a.dd);
        return 1;
    }
    int rc = serve(&a);
    if (cfg->pid_file[0] != '\0')
        unlink(cfg->pid_file);
    agent_datadir_close(&a.dd);
    return rc;
}
