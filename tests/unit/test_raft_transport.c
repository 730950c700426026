/* test_raft_transport.c — Raft transports over real loopback TCP in one reactor: handshake,
 * delivery, pipelining, chunked snapshots, refusals, hostile bytes and re-dialing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "loop/net.h"
#include "raft/config.h"
#include "raft/transport.h"
#include "raft/wire.h"

#define MAX_GOT 512

struct raw {
    bool closed;
    enum loop_close_reason why;
};

struct got {
    uint8_t type;
    raft_id from;
    uint64_t term;
    uint64_t prev_index;
    uint32_t n_entries;
    uint32_t len;  /* snapshot bytes */
    uint32_t crc;  /* of the snapshot bytes */
    uint32_t n_servers;
};

struct node {
    struct raft_transport *t;
    raft_id id;
    char addr[LOOP_ADDR_STRLEN];
    struct got got[MAX_GOT];
    size_t n_got;
    int ups, downs;
    uint64_t adopted; /* the cluster id on_cluster recorded */
};

struct fixture {
    struct logger lg;
    struct loop *l;
    char lines[8192]; /* warnings and errors logged, newline separated */
    struct node a, b;
    struct raw *raw; /* the hostile client of garbage_closes_connection */
};

static void tap(void *ctx, enum log_level level, const char *line, size_t len)
{
    (void)level;
    struct fixture *fx = ctx;
    size_t have = strlen(fx->lines);
    if (have + len + 2 < sizeof fx->lines) {
        memcpy(fx->lines + have, line, len);
        fx->lines[have + len] = '\n';
        fx->lines[have + len + 1] = '\0';
    }
}

static void on_msg(void *ctx, const struct raft_msg *m)
{
    struct node *n = ctx;
    assert_true(n->n_got < MAX_GOT);
    struct got *g = &n->got[n->n_got++];
    memset(g, 0, sizeof *g);
    g->type = m->type;
    g->from = m->from;
    g->term = m->term;
    assert_int_equal(m->to, n->id);
    if (m->type == RAFT_MSG_APPEND) {
        g->prev_index = m->u.append.prev_index;
        g->n_entries = m->u.append.n_entries;
    }
    if (m->type == RAFT_MSG_SNAPSHOT) {
        g->len = m->u.snapshot.len;
        g->crc = crc32c(0, m->u.snapshot.data, m->u.snapshot.len);
        g->n_servers = m->u.snapshot.config.n;
    }
}

static void on_peer(void *ctx, raft_id id, bool up)
{
    (void)id;
    struct node *n = ctx;
    if (up)
        n->ups++;
    else
        n->downs++;
}

static int on_cluster(void *ctx, uint64_t cluster_id)
{
    struct node *n = ctx;
    n->adopted = cluster_id;
    return 0;
}

static const struct raft_transport_cbs cbs = {on_msg, on_peer, on_cluster};

/* Options a test may tighten; zero fields take the transport's defaults. */
struct knobs {
    uint64_t snapshot_max;
    unsigned handshake_ms;
    size_t out_limit;
    uint64_t cluster_id;
};

static void node_start_with(struct fixture *fx, struct node *n, raft_id id, const char *cluster,
                            const char *listen, const struct knobs *k)
{
    n->id = id;
    snprintf(n->addr, sizeof n->addr, "%s", listen);
    struct raft_transport_opts o = {0};
    o.id = id;
    o.addr = listen;
    o.cluster = cluster;
    o.listen = listen;
    o.backoff_min_ms = 5;
    o.backoff_max_ms = 20;
    o.snapshot_max = k->snapshot_max;
    o.handshake_ms = k->handshake_ms;
    o.out_limit = k->out_limit;
    o.cluster_id = k->cluster_id;
    char err[256];
    n->t = raft_transport_create(fx->l, &o, &cbs, n, err, sizeof err);
    if (n->t == NULL)
        fail_msg("transport: %s", err);
    loop_addr_format(raft_transport_listen_addr(n->t), n->addr, sizeof n->addr);
}

static void node_start(struct fixture *fx, struct node *n, raft_id id, const char *cluster,
                       const char *listen)
{
    struct knobs k = {0, 0, 0, 0};
    node_start_with(fx, n, id, cluster, listen, &k);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    log_init(&fx->lg, -1, LOG_DEBUG);
    fx->lg.tap = tap;
    fx->lg.tap_ctx = fx;
    fx->lg.tap_level = LOG_INFO;
    char err[256];
    fx->l = loop_create(&fx->lg, err, sizeof err);
    assert_non_null(fx->l);
    node_start(fx, &fx->a, 1, "dc1", "127.0.0.1:0");
    node_start(fx, &fx->b, 2, "dc1", "127.0.0.1:0");
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    raft_transport_destroy(fx->a.t);
    raft_transport_destroy(fx->b.t);
    loop_run_once(fx->l, 0);
    loop_destroy(fx->l);
    free(fx);
    return 0;
}

typedef bool (*cond_fn)(struct fixture *fx);

/* Runs the loop until cond holds, bounded by iterations (not time); false if it never did. */
static bool run_until(struct fixture *fx, cond_fn cond)
{
    for (int i = 0; i < 3000; i++) {
        if (cond(fx))
            return true;
        loop_run_once(fx->l, 5);
    }
    return cond(fx);
}

static bool both_up(struct fixture *fx)
{
    return raft_transport_peer_up(fx->a.t, 2) && raft_transport_peer_up(fx->b.t, 1);
}

static void connect_pair(struct fixture *fx)
{
    char err[256];
    assert_int_equal(raft_transport_set_peer(fx->a.t, 2, fx->b.addr, err, sizeof err), 0);
    assert_int_equal(raft_transport_set_peer(fx->b.t, 1, fx->a.addr, err, sizeof err), 0);
    assert_true(run_until(fx, both_up));
}

static struct raft_msg msg(uint8_t type, raft_id from, raft_id to, uint64_t term)
{
    struct raft_msg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.from = from;
    m.to = to;
    m.term = term;
    return m;
}

static bool b_got_one(struct fixture *fx)
{
    return fx->b.n_got >= 1;
}

static bool a_got_one(struct fixture *fx)
{
    return fx->a.n_got >= 1;
}

static bool both_got_one(struct fixture *fx)
{
    return fx->a.n_got >= 1 && fx->b.n_got >= 1;
}

static void exchange(void **state)
{
    struct fixture *fx = *state;
    char err[256];
    assert_int_equal(raft_transport_set_peer(fx->a.t, 2, fx->b.addr, err, sizeof err), 0);
    /* Before the handshake completes a message is dropped, not held. */
    struct raft_msg v = msg(RAFT_MSG_VOTE, 1, 2, 3);
    assert_int_equal(raft_transport_send(fx->a.t, &v), -1);
    assert_int_equal(raft_transport_set_peer(fx->b.t, 1, fx->a.addr, err, sizeof err), 0);
    assert_true(run_until(fx, both_up));
    assert_int_equal(fx->a.ups, 1);
    assert_int_equal(fx->b.ups, 1);

    v.u.vote.prevote = true;
    v.u.vote.last_index = 9;
    assert_int_equal(raft_transport_send(fx->a.t, &v), 0);
    struct raft_msg r = msg(RAFT_MSG_VOTE_RESP, 2, 1, 3);
    assert_int_equal(raft_transport_send(fx->b.t, &r), 0);
    assert_true(run_until(fx, both_got_one));
    assert_int_equal(fx->b.got[0].type, RAFT_MSG_VOTE);
    assert_int_equal(fx->b.got[0].from, 1);
    assert_int_equal(fx->b.got[0].term, 3);
    assert_int_equal(fx->a.got[0].type, RAFT_MSG_VOTE_RESP);

    /* Unknown destination. */
    struct raft_msg x = msg(RAFT_MSG_TIMEOUT_NOW, 1, 9, 3);
    assert_int_equal(raft_transport_send(fx->a.t, &x), -1);
    struct raft_transport_stats st;
    raft_transport_stats(fx->a.t, &st);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.dropped, 2);
    assert_int_equal(st.proto_errors, 0);
}

static bool b_got_200(struct fixture *fx)
{
    return fx->b.n_got >= 200;
}

/* AppendEntries queued back to back, without waiting for answers, arrive whole and in order. */
static void pipelined_appends(void **state)
{
    struct fixture *fx = *state;
    connect_pair(fx);
    uint8_t payload[100];
    memset(payload, 'x', sizeof payload);
    struct raft_entry e[3];
    for (uint64_t i = 0; i < 200; i++) {
        struct raft_msg m = msg(RAFT_MSG_APPEND, 1, 2, 4);
        m.u.append.prev_index = i * 3;
        m.u.append.prev_term = i ? 4 : 0;
        m.u.append.n_entries = 3;
        for (int k = 0; k < 3; k++)
            e[k] = (struct raft_entry){4, i * 3 + 1 + (uint64_t)k, RAFT_ENTRY_COMMAND, 100,
                                       payload};
        m.u.append.entries = e;
        assert_int_equal(raft_transport_send(fx->a.t, &m), 0);
    }
    assert_true(run_until(fx, b_got_200));
    assert_int_equal(fx->b.n_got, 200);
    for (uint64_t i = 0; i < 200; i++) {
        assert_int_equal(fx->b.got[i].prev_index, i * 3);
        assert_int_equal(fx->b.got[i].n_entries, 3);
    }
}

static void snapshot_transfer(void **state)
{
    struct fixture *fx = *state;
    connect_pair(fx);
    struct raft_msg m = msg(RAFT_MSG_SNAPSHOT, 1, 2, 6);
    m.u.snapshot.last_index = 5000;
    m.u.snapshot.last_term = 6;
    raft_config_put(&m.u.snapshot.config, 1, "127.0.0.1:1", true);
    raft_config_put(&m.u.snapshot.config, 2, "127.0.0.1:2", true);
    m.u.snapshot.len = 3 * 1024 * 1024 + 17;
    m.u.snapshot.data = malloc(m.u.snapshot.len);
    for (uint32_t i = 0; i < m.u.snapshot.len; i++)
        m.u.snapshot.data[i] = (uint8_t)(i * 31 + (i >> 12));
    uint32_t crc = crc32c(0, m.u.snapshot.data, m.u.snapshot.len);
    assert_int_equal(raft_transport_send(fx->a.t, &m), 0);
    /* The transport copied it: the caller's memory can go at once. */
    free(m.u.snapshot.data);
    raft_config_free(&m.u.snapshot.config);
    struct raft_msg hb = msg(RAFT_MSG_APPEND, 1, 2, 6);
    assert_int_equal(raft_transport_send(fx->a.t, &hb), 0);
    assert_true(run_until(fx, b_got_one));
    for (int i = 0; i < 200 && fx->b.n_got < 2; i++)
        loop_run_once(fx->l, 5);
    assert_int_equal(fx->b.n_got, 2);
    const struct got *s = fx->b.got[0].type == RAFT_MSG_SNAPSHOT ? &fx->b.got[0] : &fx->b.got[1];
    assert_int_equal(s->type, RAFT_MSG_SNAPSHOT);
    assert_int_equal(s->len, 3 * 1024 * 1024 + 17);
    assert_int_equal(s->crc, crc);
    assert_int_equal(s->n_servers, 2);
}

static bool a_refused(struct fixture *fx)
{
    return strstr(fx->lines, "refused the connection") != NULL;
}

static void cluster_mismatch_is_refused(void **state)
{
    struct fixture *fx = *state;
    raft_transport_destroy(fx->b.t);
    node_start(fx, &fx->b, 2, "dc2", "127.0.0.1:0");
    char err[256];
    assert_int_equal(raft_transport_set_peer(fx->a.t, 2, fx->b.addr, err, sizeof err), 0);
    assert_true(run_until(fx, a_refused));
    assert_non_null(strstr(fx->lines, "belongs to cluster \"dc1\", not \"dc2\""));
    assert_false(raft_transport_peer_up(fx->a.t, 2));
    struct raft_msg v = msg(RAFT_MSG_VOTE, 1, 2, 3);
    assert_int_equal(raft_transport_send(fx->a.t, &v), -1);
    assert_int_equal(fx->b.n_got, 0);
}

/* Two logs bootstrapped apart (different cluster ids) never exchange a message. */
static void raft_cluster_id_mismatch_is_refused(void **state)
{
    struct fixture *fx = *state;
    raft_transport_destroy(fx->a.t);
    raft_transport_destroy(fx->b.t);
    struct knobs ka = {0, 0, 0, 0xaaaa}, kb = {0, 0, 0, 0xbbbb};
    node_start_with(fx, &fx->a, 1, "dc1", "127.0.0.1:0", &ka);
    node_start_with(fx, &fx->b, 2, "dc1", "127.0.0.1:0", &kb);
    char err[256];
    assert_int_equal(raft_transport_set_peer(fx->a.t, 2, fx->b.addr, err, sizeof err), 0);
    assert_true(run_until(fx, a_refused));
    assert_non_null(strstr(fx->lines, "belongs to Raft cluster 000000000000aaaa, this server to "
                                      "000000000000bbbb: they were bootstrapped separately"));
    assert_false(raft_transport_peer_up(fx->a.t, 2));
    assert_int_equal(fx->a.adopted, 0);
    assert_int_equal(fx->b.adopted, 0);
    struct raft_msg v = msg(RAFT_MSG_VOTE, 1, 2, 3);
    assert_int_equal(raft_transport_send(fx->a.t, &v), -1);
    assert_int_equal(fx->b.n_got, 0);
}

static bool a_up_to_b(struct fixture *fx)
{
    return raft_transport_peer_up(fx->a.t, 2);
}

/* A server that knows no cluster joins the first one that contacts it, then refuses others. */
static void empty_server_adopts_the_first_cluster(void **state)
{
    struct fixture *fx = *state;
    raft_transport_destroy(fx->a.t);
    raft_transport_destroy(fx->b.t);
    struct knobs ka = {0, 0, 0, 0xaaaa}, kb = {0, 0, 0, 0};
    node_start_with(fx, &fx->a, 1, "dc1", "127.0.0.1:0", &ka);
    node_start_with(fx, &fx->b, 2, "dc1", "127.0.0.1:0", &kb);
    char err[256];
    assert_int_equal(raft_transport_set_peer(fx->a.t, 2, fx->b.addr, err, sizeof err), 0);
    assert_true(run_until(fx, a_up_to_b));
    assert_int_equal(fx->b.adopted, 0xaaaa);
    struct raft_msg v = msg(RAFT_MSG_VOTE, 1, 2, 3);
    assert_int_equal(raft_transport_send(fx->a.t, &v), 0);
    assert_true(run_until(fx, b_got_one));
    /* Server 3 of another cluster now dials b (as server 1 did): refused. */
    raft_transport_destroy(fx->a.t);
    struct knobs kc = {0, 0, 0, 0xcccc};
    node_start_with(fx, &fx->a, 3, "dc1", "127.0.0.1:0", &kc);
    assert_int_equal(raft_transport_set_peer(fx->a.t, 2, fx->b.addr, err, sizeof err), 0);
    assert_true(run_until(fx, a_refused));
    assert_non_null(strstr(fx->lines, "belongs to Raft cluster 000000000000cccc, this server to "
                                      "000000000000aaaa"));
    assert_int_equal(fx->b.adopted, 0xaaaa);
}

static void wrong_server_at_address_is_refused(void **state)
{
    struct fixture *fx = *state;
    char err[256];
    /* A believes server 3 lives where server 2 listens. */
    assert_int_equal(raft_transport_set_peer(fx->a.t, 3, fx->b.addr, err, sizeof err), 0);
    assert_true(run_until(fx, a_refused));
    assert_non_null(strstr(fx->lines, "expected server 0000000000000003"));
    assert_false(raft_transport_peer_up(fx->a.t, 3));
}

static void raw_data(struct loop_conn *c, struct buf *in, void *ctx)
{
    (void)c;
    (void)ctx;
    buf_clear(in);
}

static void raw_close(struct loop_conn *c, enum loop_close_reason why, int err, void *ctx)
{
    (void)c;
    (void)err;
    struct raw *r = ctx;
    r->closed = true;
    r->why = why;
}

static bool raw_closed(struct fixture *fx)
{
    return fx->raw->closed;
}

/* Bytes that are not our protocol close that one connection with a log line; the node lives on. */
static void garbage_closes_connection(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *p;
        size_t n;
    } garbage[] = {
        {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27},
        {"TRBR\x09\x01\x00\x00\x00\x00\x00\x10", 12}, /* unsupported version */
        {"TRBR\x01\x08\x00\x00\xff\xff\xff\xff", 12}, /* oversized */
    };
    static const char *const reason[] = {"bad magic", "unsupported protocol version 9",
                                         "exceeds the 4194304-byte limit"};
    for (size_t i = 0; i < 3; i++) {
        struct raw r = {false, LOOP_CLOSE_SHUTDOWN};
        fx->raw = &r;
        struct loop_addr to;
        char err[256];
        assert_int_equal(loop_addr_parse(fx->b.addr, &to, err, sizeof err), 0);
        struct loop_conn_cbs rc = {NULL, raw_data, raw_close};
        struct loop_conn *c = loop_tcp_connect(fx->l, &to, NULL, &rc, &r, err, sizeof err);
        assert_non_null(c);
        assert_int_equal(loop_conn_write(c, garbage[i].p, garbage[i].n), 0);
        assert_true(run_until(fx, raw_closed));
        assert_int_equal(r.why, LOOP_CLOSE_EOF);
        if (strstr(fx->lines, reason[i]) == NULL)
            fail_msg("log lacks \"%s\":\n%s", reason[i], fx->lines);
    }
    fx->raw = NULL;
    struct raft_transport_stats st;
    raft_transport_stats(fx->b.t, &st);
    assert_int_equal(st.proto_errors, 3);
    /* B still serves real peers. */
    connect_pair(fx);
    struct raft_msg v = msg(RAFT_MSG_TIMEOUT_NOW, 1, 2, 8);
    assert_int_equal(raft_transport_send(fx->a.t, &v), 0);
    assert_true(run_until(fx, b_got_one));
    assert_int_equal(fx->b.got[0].type, RAFT_MSG_TIMEOUT_NOW);
}

static bool a_saw_down(struct fixture *fx)
{
    return fx->a.downs >= 1;
}

static bool a_up_twice(struct fixture *fx)
{
    return fx->a.ups >= 2 && raft_transport_peer_up(fx->a.t, 2);
}

/* A peer that goes away and comes back on the same address is re-dialed and used again. */
static void redial_after_restart(void **state)
{
    struct fixture *fx = *state;
    connect_pair(fx);
    char addr[LOOP_ADDR_STRLEN];
    snprintf(addr, sizeof addr, "%s", fx->b.addr);
    raft_transport_destroy(fx->b.t);
    fx->b.t = NULL;
    assert_true(run_until(fx, a_saw_down));
    assert_false(raft_transport_peer_up(fx->a.t, 2));
    /* A few failed dials while B is down. */
    for (int i = 0; i < 20; i++)
        loop_run_once(fx->l, 5);
    node_start(fx, &fx->b, 2, "dc1", addr);
    assert_true(run_until(fx, a_up_twice));
    struct raft_msg v = msg(RAFT_MSG_TIMEOUT_NOW, 1, 2, 8);
    assert_int_equal(raft_transport_send(fx->a.t, &v), 0);
    assert_true(run_until(fx, b_got_one));
}

/* Connects a bare client to B; returns the connection (state in *r, published in fx->raw). */
static struct loop_conn *raw_connect(struct fixture *fx, struct raw *r)
{
    r->closed = false;
    fx->raw = r;
    struct loop_addr to;
    char err[256];
    assert_int_equal(loop_addr_parse(fx->b.addr, &to, err, sizeof err), 0);
    struct loop_conn_cbs rc = {NULL, raw_data, raw_close};
    struct loop_conn *c = loop_tcp_connect(fx->l, &to, NULL, &rc, r, err, sizeof err);
    assert_non_null(c);
    return c;
}

static void silent_client_times_out(void **state)
{
    struct fixture *fx = *state;
    raft_transport_destroy(fx->b.t);
    struct knobs k = {0, 20, 0, 0};
    node_start_with(fx, &fx->b, 2, "dc1", "127.0.0.1:0", &k);
    struct raw r;
    raw_connect(fx, &r);
    assert_true(run_until(fx, raw_closed));
    assert_non_null(strstr(fx->lines, "no handshake within 20 ms"));
    fx->raw = NULL;
}

/* After a valid handshake as server 7, a message claiming to come from server 9 is refused. */
static void spoofed_sender_closes_connection(void **state)
{
    struct fixture *fx = *state;
    struct raw r;
    struct loop_conn *c = raw_connect(fx, &r);
    struct raft_wire_hello h = {1, 1, 7, "127.0.0.1:7", "dc1", 0};
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(raft_wire_encode_hello(&h, &b), 0);
    struct raft_msg ok = msg(RAFT_MSG_TIMEOUT_NOW, 7, 2, 1);
    struct raft_msg bad = msg(RAFT_MSG_TIMEOUT_NOW, 9, 2, 1);
    assert_int_equal(raft_wire_encode(&ok, &b), 0);
    assert_int_equal(raft_wire_encode(&bad, &b), 0);
    assert_int_equal(loop_conn_write(c, b.data, b.len), 0);
    buf_free(&b);
    assert_true(run_until(fx, raw_closed));
    assert_int_equal(fx->b.n_got, 1); /* the genuine one was delivered */
    assert_int_equal(fx->b.got[0].from, 7);
    assert_non_null(strstr(fx->lines, "TimeoutNow from 0000000000000009 to 0000000000000002"));
    fx->raw = NULL;
}

static bool raw2_closed(struct fixture *fx)
{
    return fx->raw->closed && fx->b.n_got >= 1;
}

/* A peer's new connection replaces its older one, which may be half-open and never close. */
static void reconnecting_peer_replaces_old_connection(void **state)
{
    struct fixture *fx = *state;
    struct raw r1, r2;
    struct loop_conn *c1 = raw_connect(fx, &r1);
    struct raft_wire_hello h = {1, 1, 7, "127.0.0.1:7", "dc1", 0};
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(raft_wire_encode_hello(&h, &b), 0);
    assert_int_equal(loop_conn_write(c1, b.data, b.len), 0);
    for (int i = 0; i < 20; i++)
        loop_run_once(fx->l, 5);
    assert_false(r1.closed);
    struct loop_conn *c2 = raw_connect(fx, &r2);
    struct raft_msg ok = msg(RAFT_MSG_TIMEOUT_NOW, 7, 2, 1);
    assert_int_equal(raft_wire_encode(&ok, &b), 0);
    assert_int_equal(loop_conn_write(c2, b.data, b.len), 0);
    buf_free(&b);
    fx->raw = &r1;
    assert_true(run_until(fx, raw2_closed));
    assert_false(r2.closed);
    assert_int_equal(fx->b.got[0].from, 7);
    loop_conn_close(c2);
    fx->raw = &r2; /* r2 lives on this stack: wait for its on_close before returning */
    assert_true(run_until(fx, raw_closed));
    fx->raw = NULL;
}

static bool b_closed_one(struct fixture *fx)
{
    struct raft_transport_stats st;
    raft_transport_stats(fx->b.t, &st);
    return st.proto_errors >= 1;
}

static void oversized_snapshot_is_refused(void **state)
{
    struct fixture *fx = *state;
    raft_transport_destroy(fx->b.t);
    struct knobs k = {4096, 0, 0, 0};
    node_start_with(fx, &fx->b, 2, "dc1", "127.0.0.1:0", &k);
    connect_pair(fx);
    struct raft_msg m = msg(RAFT_MSG_SNAPSHOT, 1, 2, 6);
    m.u.snapshot.last_index = 10;
    m.u.snapshot.last_term = 6;
    raft_config_put(&m.u.snapshot.config, 1, "127.0.0.1:1", true);
    uint8_t data[5000] = {0};
    m.u.snapshot.len = sizeof data;
    m.u.snapshot.data = data;
    assert_int_equal(raft_transport_send(fx->a.t, &m), 0);
    raft_config_free(&m.u.snapshot.config);
    assert_true(run_until(fx, b_closed_one));
    assert_non_null(strstr(fx->lines, "snapshot of 5000 bytes exceeds the 4096-byte limit"));
    assert_int_equal(fx->b.n_got, 0);
}

/* A message that would push the queue past its bound is dropped; the connection stays. */
static void full_queue_drops_message(void **state)
{
    struct fixture *fx = *state;
    raft_transport_destroy(fx->a.t);
    struct knobs k = {0, 0, 4096, 0};
    node_start_with(fx, &fx->a, 1, "dc1", "127.0.0.1:0", &k);
    connect_pair(fx);
    static uint8_t payload[8192];
    struct raft_entry e = {1, 1, RAFT_ENTRY_COMMAND, sizeof payload, payload};
    struct raft_msg m = msg(RAFT_MSG_APPEND, 1, 2, 1);
    m.u.append.n_entries = 1;
    m.u.append.entries = &e;
    assert_int_equal(raft_transport_send(fx->a.t, &m), -1);
    assert_true(raft_transport_peer_up(fx->a.t, 2));
    struct raft_msg v = msg(RAFT_MSG_TIMEOUT_NOW, 1, 2, 1);
    assert_int_equal(raft_transport_send(fx->a.t, &v), 0);
    assert_true(run_until(fx, b_got_one));
    assert_int_equal(fx->b.got[0].type, RAFT_MSG_TIMEOUT_NOW);
    struct raft_transport_stats st;
    raft_transport_stats(fx->a.t, &st);
    assert_int_equal(st.dropped, 1);
}

/* Queued frames wait for the loop's write phase unless flushed explicitly. */
static void flush_writes_at_once(void **state)
{
    struct fixture *fx = *state;
    connect_pair(fx);
    struct raft_msg m = msg(RAFT_MSG_APPEND, 1, 2, 1);
    assert_int_equal(raft_transport_send(fx->a.t, &m), 0);
    assert_int_equal(raft_transport_pending(fx->a.t, 2), 16 + 60);
    raft_transport_flush(fx->a.t);
    assert_int_equal(raft_transport_pending(fx->a.t, 2), 0);
    assert_true(run_until(fx, b_got_one));
    assert_int_equal(raft_transport_pending(fx->a.t, 99), 0);
}

/* B knows no peers, as a new server before the configuration reaches it: it still answers A over
 * the connection A dialed. */
static void answer_over_inbound_connection(void **state)
{
    struct fixture *fx = *state;
    char err[256];
    assert_int_equal(raft_transport_set_peer(fx->a.t, 2, fx->b.addr, err, sizeof err), 0);
    struct raft_msg v = msg(RAFT_MSG_APPEND, 1, 2, 3);
    for (int i = 0; i < 3000 && raft_transport_send(fx->a.t, &v) != 0; i++)
        loop_run_once(fx->l, 5);
    assert_true(run_until(fx, b_got_one));
    assert_false(raft_transport_peer_up(fx->b.t, 1));
    struct raft_msg r = msg(RAFT_MSG_APPEND_RESP, 2, 1, 3);
    assert_int_equal(raft_transport_send(fx->b.t, &r), 0);
    assert_true(run_until(fx, a_got_one));
    assert_int_equal(fx->a.got[0].type, RAFT_MSG_APPEND_RESP);
    /* Not to a server that never connected, and never with someone else's id. */
    struct raft_msg x = msg(RAFT_MSG_APPEND_RESP, 2, 5, 3);
    assert_int_equal(raft_transport_send(fx->b.t, &x), -1);
    struct raft_msg y = msg(RAFT_MSG_APPEND_RESP, 3, 1, 3);
    assert_int_equal(raft_transport_send(fx->b.t, &y), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(exchange, setup, teardown),
        cmocka_unit_test_setup_teardown(pipelined_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(snapshot_transfer, setup, teardown),
        cmocka_unit_test_setup_teardown(cluster_mismatch_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(raft_cluster_id_mismatch_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_server_adopts_the_first_cluster, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_server_at_address_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(garbage_closes_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(redial_after_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(silent_client_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(spoofed_sender_closes_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(oversized_snapshot_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(full_queue_drops_message, setup, teardown),
        cmocka_unit_test_setup_teardown(flush_writes_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(answer_over_inbound_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(reconnecting_peer_replaces_old_connection, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
