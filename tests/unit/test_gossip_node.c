/* test_gossip_node.c — gossip nodes on one reactor over real UDP and TCP on 127.0.0.1: joins with
 * per-address results, failure detection, graceful leave, snapshot rejoin, hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "gossip/node.h"
#include "gossip/snapshot.h"
#include "loop/net.h"

#define NODES 3
#define WAIT_BOUND_MS 30000 /* a hang guard, never a timing assertion */

struct fixture {
    struct loop *l;
    struct logger lg;
    struct gossip_config tuning;
    struct gossip_node *n[NODES];
    char addr[NODES][LOOP_ADDR_STRLEN];
    char dir[NODES][64];
    int join_calls;
    int join_contacted;
    char join_err[256];
    int left;
};

static void on_join(void *ctx, int contacted, const char *first_err)
{
    struct fixture *f = ctx;
    f->join_calls++;
    f->join_contacted = contacted;
    snprintf(f->join_err, sizeof f->join_err, "%s", first_err ? first_err : "");
}

static void on_left(void *ctx)
{
    struct fixture *f = ctx;
    f->left++;
}

static int open_node(struct fixture *f, int i, const char *bind)
{
    struct gossip_node_opts o;
    memset(&o, 0, sizeof o);
    char name[24];
    snprintf(name, sizeof name, "node-%d", i);
    o.name = name;
    o.bind = bind;
    o.tags.role = GOSSIP_ROLE_CLIENT;
    snprintf(o.tags.dc, sizeof o.tags.dc, "dc1");
    snprintf(o.tags.build, sizeof o.tags.build, "0.1.0");
    o.tags.proto_min = o.tags.proto_max = o.tags.proto_cur = 1;
    o.data_dir = f->dir[i];
    o.seed = (uint64_t)i + 1;
    o.tuning = &f->tuning;
    char err[256];
    f->n[i] = gossip_node_open(f->l, &o, NULL, &f->lg, err, sizeof err);
    if (f->n[i] == NULL) {
        fprintf(stderr, "open node-%d: %s\n", i, err);
        return -1;
    }
    snprintf(f->addr[i], sizeof f->addr[i], "%s", gossip_node_addr(f->n[i]));
    return 0;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    log_init(&f->lg, -1, LOG_WARN);
    char err[256];
    f->l = loop_create(&f->lg, err, sizeof err);
    if (f->l == NULL)
        return -1;
    gossip_config_default(&f->tuning);
    f->tuning.probe_interval_ms = 100;
    f->tuning.probe_timeout_ms = 50;
    f->tuning.gossip_interval_ms = 20;
    f->tuning.push_pull_interval_ms = 1000;
    f->tuning.leave_timeout_ms = 1000;
    f->tuning.reconnect_interval_ms = 200;
    for (int i = 0; i < NODES; i++) {
        snprintf(f->dir[i], sizeof f->dir[i], "/tmp/tribune-gnode-XXXXXX");
        if (mkdtemp(f->dir[i]) == NULL)
            return -1;
        if (open_node(f, i, "127.0.0.1:0") != 0)
            return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < NODES; i++)
        gossip_node_close(f->n[i]);
    loop_run_once(f->l, 0);
    loop_destroy(f->l);
    for (int i = 0; i < NODES; i++) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir[i]);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", f->dir[i]);
    }
    free(f);
    return 0;
}

/* State of `name` as node i sees it, or 0 if unknown. */
static uint8_t seen(struct fixture *f, int i, const char *name)
{
    const struct gossip_member *m = gossip_member_find(gossip_node_core(f->n[i]), name);
    return m ? m->state : 0;
}

typedef bool (*cond_fn)(struct fixture *f, const void *arg);

static bool run_until(struct fixture *f, cond_fn cond, const void *arg)
{
    uint64_t end = loop_now_ms() + WAIT_BOUND_MS;
    while (!cond(f, arg)) {
        if (loop_now_ms() > end)
            return false;
        loop_run_once(f->l, 10);
    }
    return true;
}

static bool all_alive(struct fixture *f, const void *arg)
{
    (void)arg;
    for (int i = 0; i < NODES; i++) {
        if (f->n[i] == NULL)
            continue;
        for (int j = 0; j < NODES; j++) {
            char name[24];
            snprintf(name, sizeof name, "node-%d", j);
            if (seen(f, i, name) != GOSSIP_STATE_ALIVE)
                return false;
        }
    }
    return true;
}

static bool others_see(struct fixture *f, const void *arg)
{
    const uint8_t *want = arg; /* [0] = node index, [1] = state */
    char name[24];
    snprintf(name, sizeof name, "node-%d", want[0]);
    for (int i = 0; i < NODES; i++)
        if (i != want[0] && f->n[i] != NULL && seen(f, i, name) != want[1])
            return false;
    return true;
}

static bool join_done(struct fixture *f, const void *arg)
{
    (void)arg;
    return f->join_calls > 0;
}

static void join_all(struct fixture *f)
{
    const char *addrs[] = {f->addr[1], f->addr[2]};
    char err[256];
    assert_int_equal(gossip_node_join(f->n[0], addrs, 2, on_join, f, err, sizeof err), 0);
    assert_true(run_until(f, join_done, NULL));
    assert_int_equal(f->join_contacted, 2);
    assert_string_equal(f->join_err, "");
    assert_true(run_until(f, all_alive, NULL));
}

static void join_reports_each_address(void **state)
{
    struct fixture *f = *state;
    join_all(f);

    /* A port nobody listens on fails; the count reports only what answered. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sin;
    assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &len), 0);
    char dead[64];
    snprintf(dead, sizeof dead, "127.0.0.1:%d", ntohs(sin.sin_port));
    close(s); /* bound then closed: nothing listens there now */

    f->join_calls = 0;
    const char *addrs[] = {dead, f->addr[2]};
    char err[256];
    assert_int_equal(gossip_node_join(f->n[1], addrs, 2, on_join, f, err, sizeof err), 0);
    assert_true(run_until(f, join_done, NULL));
    assert_int_equal(f->join_contacted, 1);
    assert_non_null(strstr(f->join_err, dead));

    const char *bad[] = {"not-an-address"};
    assert_int_equal(gossip_node_join(f->n[1], bad, 1, on_join, f, err, sizeof err), -1);
    assert_true(strlen(err) > 0);
}

static void killed_node_is_marked_failed(void **state)
{
    struct fixture *f = *state;
    join_all(f);
    gossip_node_close(f->n[2]); /* no leave: the others must detect it */
    f->n[2] = NULL;
    const uint8_t want[2] = {2, GOSSIP_STATE_DEAD};
    assert_true(run_until(f, others_see, want));
    /* Its host (this one) answered the pings with ICMP port unreachable and refused the TCP
     * fallback; the glue handed both to the cores, and some probe ended on them alone. */
    uint64_t refusals = 0, refused_probes = 0;
    for (int i = 0; i < 2; i++) {
        struct gossip_stats st;
        gossip_stats(gossip_node_core(f->n[i]), &st);
        refusals += st.refusals;
        refused_probes += st.probes_refused;
    }
    assert_true(refusals > 0);
    assert_true(refused_probes > 0);
}

static bool left_cb(struct fixture *f, const void *arg)
{
    (void)arg;
    return f->left > 0;
}

static void graceful_leave_shows_left(void **state)
{
    struct fixture *f = *state;
    join_all(f);
    assert_int_equal(gossip_node_leave(f->n[1], on_left, f), 0);
    assert_int_equal(gossip_node_leave(f->n[1], on_left, f), -1);
    assert_true(run_until(f, left_cb, NULL));
    const uint8_t want[2] = {1, GOSSIP_STATE_LEFT};
    assert_true(run_until(f, others_see, want));
}

static void crash_then_restart_rejoins_from_snapshot(void **state)
{
    struct fixture *f = *state;
    join_all(f);
    char keep[LOOP_ADDR_STRLEN];
    snprintf(keep, sizeof keep, "%s", f->addr[2]);
    gossip_node_close(f->n[2]);
    f->n[2] = NULL;
    const uint8_t dead[2] = {2, GOSSIP_STATE_DEAD};
    assert_true(run_until(f, others_see, dead));
    /* Same data dir and address: no join call, the snapshot brings it back. */
    assert_int_equal(open_node(f, 2, keep), 0);
    assert_true(run_until(f, all_alive, NULL));
}

static void leave_is_recorded_so_restart_does_not_rejoin(void **state)
{
    struct fixture *f = *state;
    join_all(f);
    assert_int_equal(gossip_node_leave(f->n[2], on_left, f), 0);
    assert_true(run_until(f, left_cb, NULL));
    gossip_node_close(f->n[2]);
    f->n[2] = NULL;
    loop_run_once(f->l, 0); /* sockets are released at the loop's next safe point */

    /* The snapshot remembers both peers and that the last act was a leave: a restart without
     * -rejoin starts alone (peers may still gossip to it, as memberlist gossips to the dead). */
    char err[256];
    struct gossip_snapshot *snap = gossip_snapshot_open(f->dir[2], &f->lg, err, sizeof err);
    assert_non_null(snap);
    assert_true(gossip_snapshot_left(snap));
    size_t count = gossip_snapshot_count(snap);
    gossip_snapshot_close(snap);
    assert_int_equal(count, 2);

    /* A run that ended in a crash is not a leave: the peers' records stay rejoinable. */
    snap = gossip_snapshot_open(f->dir[0], &f->lg, err, sizeof err);
    assert_non_null(snap);
    bool left = gossip_snapshot_left(snap);
    count = gossip_snapshot_count(snap);
    gossip_snapshot_close(snap);
    assert_false(left);
    assert_int_equal(count, 1); /* node-1; node-2 left */
}

static void hostile_input_is_dropped(void **state)
{
    struct fixture *f = *state;
    join_all(f);
    struct loop_addr to;
    char err[128];
    assert_int_equal(loop_addr_parse(f->addr[0], &to, err, sizeof err), 0);

    int u = socket(AF_INET, SOCK_DGRAM, 0);
    uint8_t junk[300];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 31 + 7);
    for (size_t len = 0; len < sizeof junk; len += 13)
        sendto(u, junk, len, 0, (struct sockaddr *)&to.ss, to.len);
    close(u);

    int t = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(t, (struct sockaddr *)&to.ss, to.len), 0);
    /* A stream header announcing a body over the cap must be refused before it is read. */
    uint8_t hdr[12] = {1, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(write(t, hdr, sizeof hdr), (ssize_t)sizeof hdr);

    for (int k = 0; k < 50; k++)
        loop_run_once(f->l, 10);
    close(t);
    assert_true(gossip_node_wire_counters(f->n[0])->bad >= 10);
    assert_true(run_until(f, all_alive, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(join_reports_each_address, setup, teardown),
        cmocka_unit_test_setup_teardown(killed_node_is_marked_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(graceful_leave_shows_left, setup, teardown),
        cmocka_unit_test_setup_teardown(crash_then_restart_rejoins_from_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(leave_is_recorded_so_restart_does_not_rejoin, setup, teardown),
        cmocka_unit_test_setup_teardown(hostile_input_is_dropped, setup, teardown),
    };
    return cmocka_run_group_tests_name("gossip_node", tests, NULL, NULL);
}
