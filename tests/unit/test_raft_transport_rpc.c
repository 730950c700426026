/* test_raft_transport_rpc.c — the RPC hand-over on the Raft listener: a connection opening with
 * "TRPC" (even split across reads) goes to the RPC callbacks with every byte, Raft never sees it,
 * its close is reported once, and a transport without the hook refuses it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft/transport.h"

struct fixture {
    struct logger lg;
    struct loop *l;
    struct raft_transport *t;
    char addr[LOOP_ADDR_STRLEN];
    /* server side (the hook) */
    int accepts, closes;
    char seen[64]; /* bytes the hook consumed, in order */
    size_t n_seen;
    /* client side */
    char echo[64];
    size_t n_echo;
    bool client_closed;
};

static void take(struct fixture *fx, struct loop_conn *c, struct buf *in)
{
    size_t n = in->len;
    if (n > sizeof fx->seen - fx->n_seen)
        n = sizeof fx->seen - fx->n_seen;
    memcpy(fx->seen + fx->n_seen, in->data, n);
    fx->n_seen += n;
    loop_conn_write(c, in->data, in->len); /* echo: proves the hook owns the socket */
    buf_clear(in);
}

static void *rpc_accept(void *ctx, struct loop_conn *c, struct buf *in)
{
    struct fixture *fx = ctx;
    fx->accepts++;
    take(fx, c, in);
    return fx;
}

static void rpc_data(void *conn_ctx, struct loop_conn *c, struct buf *in)
{
    take(conn_ctx, c, in);
}

static void rpc_close(void *conn_ctx, struct loop_conn *c)
{
    (void)c;
    struct fixture *fx = conn_ctx;
    fx->closes++;
}

static void on_msg(void *ctx, const struct raft_msg *m)
{
    (void)ctx;
    (void)m;
    fail_msg("an RPC connection reached Raft");
}

static void start(struct fixture *fx, bool with_rpc)
{
    static const struct raft_transport_cbs cbs = {on_msg, NULL, NULL};
    struct raft_transport_rpc rpc = {rpc_accept, rpc_data, rpc_close, fx};
    struct raft_transport_opts o = {0};
    o.id = 1;
    o.addr = "127.0.0.1:0";
    o.cluster = "dc1";
    o.listen = "127.0.0.1:0";
    o.rpc = with_rpc ? &rpc : NULL;
    char err[256];
    fx->t = raft_transport_create(fx->l, &o, &cbs, fx, err, sizeof err);
    if (fx->t == NULL)
        fail_msg("transport: %s", err);
    loop_addr_format(raft_transport_listen_addr(fx->t), fx->addr, sizeof fx->addr);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    log_init(&fx->lg, -1, LOG_ERR);
    char err[256];
    fx->l = loop_create(&fx->lg, err, sizeof err);
    assert_non_null(fx->l);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    raft_transport_destroy(fx->t);
    loop_run_once(fx->l, 0);
    loop_destroy(fx->l);
    free(fx);
    return 0;
}

static void cl_data(struct loop_conn *c, struct buf *in, void *ctx)
{
    (void)c;
    struct fixture *fx = ctx;
    size_t n = in->len;
    if (n > sizeof fx->echo - fx->n_echo)
        n = sizeof fx->echo - fx->n_echo;
    memcpy(fx->echo + fx->n_echo, in->data, n);
    fx->n_echo += n;
    buf_clear(in);
}

static void cl_close(struct loop_conn *c, enum loop_close_reason why, int err, void *ctx)
{
    (void)c;
    (void)why;
    (void)err;
    struct fixture *fx = ctx;
    fx->client_closed = true;
}

static struct loop_conn *dial(struct fixture *fx)
{
    struct loop_addr to;
    char err[256];
    assert_int_equal(loop_addr_parse(fx->addr, &to, err, sizeof err), 0);
    static const struct loop_conn_cbs cbs = {NULL, cl_data, cl_close};
    struct loop_conn *c = loop_tcp_connect(fx->l, &to, NULL, &cbs, fx, err, sizeof err);
    assert_non_null(c);
    return c;
}

/* Runs the loop until the predicate holds, bounded by iterations (not time). */
static bool run_until(struct fixture *fx, bool (*cond)(const struct fixture *))
{
    for (int i = 0; i < 2000 && !cond(fx); i++)
        loop_run_once(fx->l, 5);
    return cond(fx);
}

static bool got_two(const struct fixture *fx)
{
    return fx->n_echo >= 10;
}
static bool got_magic_only(const struct fixture *fx)
{
    return fx->n_seen == 0 && fx->accepts == 0 && fx->n_echo == 0;
}
static bool rpc_closed(const struct fixture *fx)
{
    return fx->closes > 0;
}
static bool client_closed(const struct fixture *fx)
{
    return fx->client_closed;
}

static void magic_hands_connection_over(void **state)
{
    struct fixture *fx = *state;
    start(fx, true);
    struct loop_conn *c = dial(fx);
    /* The magic split across two reads: the first half alone decides nothing. */
    assert_int_equal(loop_conn_write(c, "TR", 2), 0);
    for (int i = 0; i < 20; i++)
        loop_run_once(fx->l, 5);
    assert_true(got_magic_only(fx));
    assert_int_equal(loop_conn_write(c, "PCabc", 5), 0);
    for (int i = 0; i < 2000 && fx->n_echo < 7; i++)
        loop_run_once(fx->l, 5);
    assert_int_equal(fx->accepts, 1);
    assert_int_equal(loop_conn_write(c, "xyz", 3), 0);
    assert_true(run_until(fx, got_two));
    assert_int_equal(fx->n_seen, 10);
    assert_memory_equal(fx->seen, "TRPCabcxyz", 10);
    assert_memory_equal(fx->echo, "TRPCabcxyz", 10);
    loop_conn_close(c);
    assert_true(run_until(fx, rpc_closed));
    assert_int_equal(fx->closes, 1);
    struct raft_transport_stats st;
    raft_transport_stats(fx->t, &st);
    assert_int_equal(st.proto_errors, 0);
}

static void destroy_reports_close(void **state)
{
    struct fixture *fx = *state;
    start(fx, true);
    struct loop_conn *c = dial(fx);
    assert_int_equal(loop_conn_write(c, "TRPC!", 5), 0);
    for (int i = 0; i < 2000 && fx->n_echo < 5; i++)
        loop_run_once(fx->l, 5);
    assert_int_equal(fx->accepts, 1);
    raft_transport_destroy(fx->t);
    fx->t = NULL;
    assert_int_equal(fx->closes, 1);
    assert_true(run_until(fx, client_closed));
}

static void without_hook_rpc_is_refused(void **state)
{
    struct fixture *fx = *state;
    start(fx, false);
    struct loop_conn *c = dial(fx);
    assert_int_equal(loop_conn_write(c, "TRPCabcdefghijkl", 16), 0);
    assert_true(run_until(fx, client_closed));
    assert_int_equal(fx->accepts, 0);
    struct raft_transport_stats st;
    raft_transport_stats(fx->t, &st);
    assert_int_equal(st.proto_errors, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(magic_hands_connection_over, setup, teardown),
        cmocka_unit_test_setup_teardown(destroy_reports_close, setup, teardown),
        cmocka_unit_test_setup_teardown(without_hook_rpc_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
