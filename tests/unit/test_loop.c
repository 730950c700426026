/* test_loop.c — unit tests for src/loop: timer order, cancel and re-arm, before-sleep ordering,
 * TCP echo, buffer limits, back-pressure, UDP, signalfd, deferred close, addresses. Every wait is
 * bounded by a guard timer and an iteration cap, never by sleeping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "loop/loop.h"
#include "loop/net.h"

/* ---- harness ---- */

struct h {
    struct loop *l;
    struct logger lg;
    char log[4096]; /* WARN+ lines, concatenated */
    size_t loglen;
    bool done;
    bool timed_out;
    uint64_t iters;
};

static void h_tap(void *ctx, enum log_level level, const char *line, size_t len)
{
    (void)level;
    struct h *h = ctx;
    if (h->loglen + len + 1 < sizeof h->log) {
        memcpy(h->log + h->loglen, line, len);
        h->loglen += len;
        h->log[h->loglen++] = '\n';
        h->log[h->loglen] = '\0';
    }
}

static void h_count_iter(struct loop *l, void *ctx)
{
    (void)l;
    ((struct h *)ctx)->iters++;
}

static void h_init(struct h *h)
{
    memset(h, 0, sizeof *h);
    log_init(&h->lg, -1, LOG_ERR);
    h->lg.tap = h_tap;
    h->lg.tap_ctx = h;
    h->lg.tap_level = LOG_WARN;
    char err[128] = "";
    h->l = loop_create(&h->lg, err, sizeof err);
    assert_non_null(h->l);
    assert_int_not_equal(loop_before_sleep_add(h->l, h_count_iter, h), 0);
}

static void guard_fire(struct loop *l, uint64_t id, void *ctx)
{
    (void)id;
    ((struct h *)ctx)->timed_out = true;
    loop_stop(l);
}

/* Runs until h->done, failing if the 10 s guard timer or the iteration cap is reached first. */
static void h_run(struct h *h)
{
    uint64_t guard = loop_timer_add(h->l, 10000, guard_fire, h);
    assert_int_not_equal(guard, 0);
    for (int i = 0; i < 200000 && !h->done && !h->timed_out; i++)
        assert_true(loop_run_once(h->l, -1) >= 0);
    assert_false(h->timed_out);
    assert_true(h->done);
    loop_timer_cancel(h->l, guard);
}

/* ---- timers ---- */

struct tlog {
    struct h h;
    int order[16];
    int n;
    int want;
    uint64_t ids[16];
    int cancel_rc;
    int self_cancel_rc;
};

struct tref {
    struct tlog *t;
    int tag;
};

static void t_record(struct loop *l, uint64_t id, void *ctx)
{
    (void)l;
    (void)id;
    struct tref *r = ctx;
    r->t->order[r->t->n++] = r->tag;
    if (r->t->n == r->t->want)
        r->t->h.done = true;
}

static void timers_fire_in_deadline_order(void **state)
{
    (void)state;
    struct tlog t = {.want = 5};
    h_init(&t.h);
    struct tref r[5];
    const uint64_t ms[5] = {30, 10, 20, 0, 10};
    for (int i = 0; i < 5; i++) {
        r[i] = (struct tref){&t, i};
        assert_int_not_equal(loop_timer_add(t.h.l, ms[i], t_record, &r[i]), 0);
    }
    assert_int_equal(loop_timer_count(t.h.l), 5);
    h_run(&t.h);
    /* 0 ms first, then the two 10 ms timers in the order they were added, then 20, then 30. */
    const int want[5] = {3, 1, 4, 2, 0};
    assert_memory_equal(t.order, want, sizeof want);
    assert_int_equal(loop_timer_count(t.h.l), 0);
    loop_destroy(t.h.l);
}

static void timer_cancel_prevents_firing(void **state)
{
    (void)state;
    struct tlog t = {.want = 1};
    h_init(&t.h);
    struct tref a = {&t, 1}, b = {&t, 2};
    uint64_t ida = loop_timer_add(t.h.l, 5, t_record, &a);
    uint64_t idb = loop_timer_add(t.h.l, 15, t_record, &b);
    assert_int_not_equal(ida, idb);
    assert_int_equal(loop_timer_cancel(t.h.l, ida), 0);
    assert_int_equal(loop_timer_cancel(t.h.l, ida), -1); /* twice: a no-op */
    assert_int_equal(loop_timer_cancel(t.h.l, 0), -1);
    assert_int_equal(loop_timer_cancel(t.h.l, 0xdeadbeef00000777ull), -1);
    h_run(&t.h);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.order[0], 2);
    assert_int_equal(loop_timer_cancel(t.h.l, idb), -1); /* fired: its id is dead */
    loop_destroy(t.h.l);
}

/* First timer cancels the second (due in the same pass), and tries to cancel itself. */
static void t_cancel_other(struct loop *l, uint64_t id, void *ctx)
{
    struct tref *r = ctx;
    r->t->cancel_rc = loop_timer_cancel(l, r->t->ids[1]);
    r->t->self_cancel_rc = loop_timer_cancel(l, id);
    r->t->order[r->t->n++] = r->tag;
}

static void timer_cancel_from_another_callback(void **state)
{
    (void)state;
    struct tlog t = {.want = 2};
    h_init(&t.h);
    struct tref a = {&t, 1}, b = {&t, 2}, c = {&t, 3};
    t.ids[0] = loop_timer_add(t.h.l, 5, t_cancel_other, &a);
    t.ids[1] = loop_timer_add(t.h.l, 5, t_record, &b);
    t.ids[2] = loop_timer_add(t.h.l, 20, t_record, &c);
    h_run(&t.h);
    assert_int_equal(t.cancel_rc, 0);
    assert_int_equal(t.self_cancel_rc, -1);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.order[0], 1);
    assert_int_equal(t.order[1], 3); /* 2 never fired */
    loop_destroy(t.h.l);
}

struct rearm {
    struct h h;
    int fires;
    uint64_t iter_at[8];
    uint64_t prev_id, cur_id;
};

static void t_rearm(struct loop *l, uint64_t id, void *ctx)
{
    struct rearm *r = ctx;
    r->iter_at[r->fires++] = r->h.iters;
    if (r->fires == 5) {
        r->h.done = true;
        return;
    }
    r->prev_id = id;
    r->cur_id = loop_timer_add(l, 0, t_rearm, r);
}

static void timer_rearms_from_its_callback(void **state)
{
    (void)state;
    struct rearm r = {0};
    h_init(&r.h);
    r.cur_id = loop_timer_add(r.h.l, 0, t_rearm, &r);
    h_run(&r.h);
    assert_int_equal(r.fires, 5);
    /* A 0 ms re-arm never fires in the pass that added it: one fire per iteration at most. */
    for (int i = 1; i < 5; i++)
        assert_true(r.iter_at[i] > r.iter_at[i - 1]);
    loop_destroy(r.h.l);
}

static void t_noop(struct loop *l, uint64_t id, void *ctx)
{
    (void)l;
    (void)id;
    (void)ctx;
}

static void timer_stale_id_misses_reused_slot(void **state)
{
    (void)state;
    struct h h;
    h_init(&h);
    uint64_t a = loop_timer_add(h.l, 1000, t_noop, NULL);
    assert_int_equal(loop_timer_cancel(h.l, a), 0);
    uint64_t b = loop_timer_add(h.l, 1000, t_noop, NULL); /* takes a's slot */
    assert_int_equal((uint32_t)a, (uint32_t)b);
    assert_int_not_equal(a, b);
    assert_int_equal(loop_timer_cancel(h.l, a), -1);
    assert_int_equal(loop_timer_count(h.l), 1);
    assert_int_equal(loop_timer_cancel(h.l, b), 0);
    assert_int_equal(loop_timer_count(h.l), 0);
    loop_destroy(h.l);
}

struct many {
    struct h h;
    uint64_t due[300];
    int fired[300];
    int early;
    int outstanding;
};

struct mref {
    struct many *m;
    int i;
};

static void t_many(struct loop *l, uint64_t id, void *ctx)
{
    (void)l;
    (void)id;
    struct mref *r = ctx;
    r->m->fired[r->i]++;
    if (loop_now_ms() < r->m->due[r->i])
        r->m->early++;
    if (--r->m->outstanding == 0)
        r->m->h.done = true;
}

/* Many timers through the heap, a third of them cancelled: the rest fire once each, never early. */
static void timer_heap_many(void **state)
{
    (void)state;
    struct many m;
    memset(&m, 0, sizeof m);
    h_init(&m.h);
    struct mref refs[300];
    uint64_t ids[300];
    uint32_t x = 12345;
    for (int i = 0; i < 300; i++) {
        x = x * 1103515245u + 12345u;
        uint64_t ms = (x >> 16) % 40;
        refs[i] = (struct mref){&m, i};
        m.due[i] = loop_now_ms() + ms;
        ids[i] = loop_timer_add(m.h.l, ms, t_many, &refs[i]);
        assert_int_not_equal(ids[i], 0);
    }
    for (int i = 0; i < 300; i += 3)
        assert_int_equal(loop_timer_cancel(m.h.l, ids[i]), 0);
    m.outstanding = 200;
    assert_int_equal(loop_timer_count(m.h.l), 200);
    h_run(&m.h);
    for (int i = 0; i < 300; i++)
        assert_int_equal(m.fired[i], i % 3 == 0 ? 0 : 1);
    assert_int_equal(m.early, 0);
    assert_int_equal(loop_timer_count(m.h.l), 0);
    loop_destroy(m.h.l);
}

/* ---- generic file events ---- */

struct fev {
    struct h h;
    int fired[2];
    int fds[2]; /* read ends */
    int masks;
};

static void fev_read(struct loop *l, int fd, int mask, void *ctx)
{
    struct fev *f = ctx;
    int which = fd == f->fds[0] ? 0 : 1;
    f->fired[which]++;
    f->masks |= mask;
    char b[16];
    while (read(fd, b, sizeof b) > 0)
        ;
    /* Whichever fires first silences the other, whose event is already collected. */
    int other = f->fds[1 - which];
    loop_file_unwatch(l, other);
    f->h.done = true;
}

static void file_events_drop_stale_and_survive_fd_reuse(void **state)
{
    (void)state;
    struct fev f;
    memset(&f, 0, sizeof f);
    h_init(&f.h);
    int a[2], b[2];
    assert_int_equal(pipe2(a, O_NONBLOCK | O_CLOEXEC), 0);
    assert_int_equal(pipe2(b, O_NONBLOCK | O_CLOEXEC), 0);
    f.fds[0] = a[0];
    f.fds[1] = b[0];
    assert_int_equal(loop_file_watch(f.h.l, a[0], LOOP_READ, fev_read, &f), 0);
    assert_int_equal(loop_file_watch(f.h.l, b[0], LOOP_READ, fev_read, &f), 0);
    /* Both readable before the wait, so both events land in one batch. */
    assert_int_equal(write(a[1], "x", 1), 1);
    assert_int_equal(write(b[1], "y", 1), 1);
    h_run(&f.h);
    assert_int_equal(f.fired[0] + f.fired[1], 1);
    assert_int_equal(f.masks, LOOP_READ);

    /* Close a watched fd behind the loop's back; its number comes back with the next pipe. */
    int old = a[0];
    close(a[0]);
    close(a[1]);
    assert_int_equal(pipe2(a, O_NONBLOCK | O_CLOEXEC), 0);
    assert_int_equal(a[0], old);
    f.fds[0] = a[0];
    memset(f.fired, 0, sizeof f.fired);
    assert_int_equal(loop_file_watch(f.h.l, a[0], LOOP_READ, fev_read, &f), 0);
    assert_int_equal(write(a[1], "z", 1), 1);
    f.h.done = false;
    h_run(&f.h);
    assert_int_equal(f.fired[0], 1);
    assert_int_equal(f.fired[1], 0);
    assert_int_equal(loop_file_mask(f.h.l, b[0], LOOP_READ), -1); /* unwatched above */
    loop_destroy(f.h.l);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

/* ---- TCP ---- */

struct tcp;

struct side {
    struct tcp *t;
    struct loop_conn *c;
    struct buf got;
    int closes;
    enum loop_close_reason why;
    int err;
    bool connected;
};

struct tcp {
    struct h h;
    struct loop_listener *ls;
    struct side srv, cli;
    /* server behaviour */
    bool echo;
    bool consume;        /* consume without echo */
    bool close_in_data;  /* loop_conn_close from on_data */
    bool reply_and_end;  /* write "bye" then loop_conn_end */
    size_t reply_big;    /* write this many pattern bytes once, keep the connection */
    bool raw_eof;
    bool pause_on_accept;
    /* observations */
    int write_after_close_rc;
    bool closing_seen;
    size_t in_len_after_close;
    /* done conditions */
    size_t want_cli_bytes;
    size_t want_srv_bytes;
    bool want_both_closed;
    bool want_srv_closed;
    bool want_cli_closed;
    bool want_accept;
    struct loop_conn *reconnected;
    bool reconnect_refused;
    struct loop_addr srv_addr;
};

static void fill_pattern(uint8_t *p, size_t n, size_t from)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)((from + i) % 251);
}

static bool check_pattern(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)(i % 251))
            return false;
    return true;
}

static void tcp_check_done(struct tcp *t)
{
    if ((t->want_cli_bytes && t->cli.got.len >= t->want_cli_bytes) ||
        (t->want_srv_bytes && t->srv.got.len >= t->want_srv_bytes) ||
        (t->want_both_closed && t->srv.closes && t->cli.closes) ||
        (t->want_srv_closed && t->srv.closes) || (t->want_cli_closed && t->cli.closes))
        t->h.done = true;
}

static void srv_data(struct loop_conn *c, struct buf *in, void *ctx)
{
    struct side *s = ctx;
    struct tcp *t = s->t;
    if (t->close_in_data) {
        loop_conn_close(c);
        /* c must stay usable until on_close: these touch it after the close. */
        t->write_after_close_rc = loop_conn_write(c, "x", 1);
        t->closing_seen = loop_conn_closing(c);
        t->in_len_after_close = in->len;
        return;
    }
    if (t->reply_big) {
        uint8_t *p = malloc(t->reply_big);
        assert_non_null(p);
        fill_pattern(p, t->reply_big, 0);
        assert_int_equal(loop_conn_write(c, p, t->reply_big), 0);
        free(p);
        t->reply_big = 0;
        buf_clear(in);
        return;
    }
    if (t->reply_and_end) {
        assert_int_equal(loop_conn_write(c, "bye", 3), 0);
        loop_conn_end(c);
        buf_clear(in);
        return;
    }
    if (t->echo)
        assert_int_equal(loop_conn_write(c, in->data, in->len), 0);
    if (t->echo || t->consume) {
        assert_int_equal(buf_append(&s->got, in->data, in->len), 0);
        buf_clear(in);
    }
    tcp_check_done(t);
}

static void cli_data(struct loop_conn *c, struct buf *in, void *ctx)
{
    (void)c;
    struct side *s = ctx;
    assert_int_equal(buf_append(&s->got, in->data, in->len), 0);
    buf_clear(in);
    tcp_check_done(s->t);
}

static void any_close(struct loop_conn *c, enum loop_close_reason why, int err, void *ctx)
{
    struct side *s = ctx;
    assert_ptr_equal(s->c, c);
    s->closes++;
    s->why = why;
    s->err = err;
    s->c = NULL;
    tcp_check_done(s->t);
}

static void cli_connect(struct loop_conn *c, void *ctx)
{
    (void)c;
    struct side *s = ctx;
    s->connected = true;
}

static void srv_accept(struct loop_listener *ls, struct loop_conn *c, void *ctx)
{
    (void)ls;
    struct tcp *t = ctx;
    assert_null(t->srv.c); /* one connection per test */
    t->srv.c = c;
    loop_conn_set_ctx(c, &t->srv);
    if (t->pause_on_accept)
        loop_conn_pause_read(c);
    if (t->want_accept)
        t->h.done = true;
}

static const struct loop_conn_cbs srv_cbs = {NULL, srv_data, any_close};
static const struct loop_conn_cbs cli_cbs = {cli_connect, cli_data, any_close};

static void tcp_setup(struct tcp *t, const struct loop_conn_opts *srv_opts,
                      const struct loop_conn_opts *cli_opts, const struct loop_conn_cbs *ccbs)
{
    h_init(&t->h);
    t->srv.t = t->cli.t = t;
    buf_init(&t->srv.got, 0);
    buf_init(&t->cli.got, 0);
    char err[160] = "";
    t->ls = loop_tcp_listen(t->h.l, "127.0.0.1:0", srv_opts, &srv_cbs, srv_accept, t, err,
                            sizeof err);
    assert_non_null(t->ls);
    t->srv_addr = *loop_listener_addr(t->ls);
    assert_int_not_equal(loop_addr_port(&t->srv_addr), 0);
    t->cli.c = loop_tcp_connect(t->h.l, loop_listener_addr(t->ls), cli_opts,
                                ccbs ? ccbs : &cli_cbs, &t->cli, err, sizeof err);
    assert_non_null(t->cli.c);
}

static void tcp_teardown(struct tcp *t)
{
    loop_destroy(t->h.l);
    buf_free(&t->srv.got);
    buf_free(&t->cli.got);
}

static void tcp_echo_round_trip(void **state)
{
    (void)state;
    struct tcp t;
    memset(&t, 0, sizeof t);
    /* The server's input limit is far below the total: consuming as it goes keeps it alive. */
    struct loop_conn_opts so = {.name = "test", .in_limit = 512};
    tcp_setup(&t, &so, NULL, NULL);
    t.echo = true;
    uint8_t data[20000];
    fill_pattern(data, sizeof data, 0);
    for (size_t off = 0; off < sizeof data; off += 1000)
        assert_int_equal(loop_conn_write(t.cli.c, data + off, 1000), 0);
    t.want_cli_bytes = sizeof data;
    h_run(&t.h);
    assert_true(t.cli.connected);
    assert_int_equal(t.cli.got.len, sizeof data);
    assert_true(check_pattern(t.cli.got.data, t.cli.got.len));
    char a[LOOP_ADDR_STRLEN];
    loop_addr_format(loop_conn_peer(t.srv.c), a, sizeof a);
    assert_int_equal(strncmp(a, "127.0.0.1:", 10), 0);

    /* The client hangs up gracefully: it closes itself (LOCAL), the server sees EOF. */
    loop_conn_end(t.cli.c);
    t.want_cli_bytes = 0;
    t.want_both_closed = true;
    t.h.done = false;
    h_run(&t.h);
    assert_int_equal(t.cli.closes, 1);
    assert_int_equal(t.cli.why, LOOP_CLOSE_LOCAL);
    assert_int_equal(t.srv.closes, 1);
    assert_int_equal(t.srv.why, LOOP_CLOSE_EOF);
    assert_int_equal(t.h.loglen, 0); /* nothing worth a warning happened */
    tcp_teardown(&t);
}

struct bs {
    struct tcp *t;
    bool checked;
    size_t pending_seen;
    int self_del_runs;
    uint64_t self_id;
};

static void bs_check(struct loop *l, void *ctx)
{
    (void)l;
    struct bs *b = ctx;
    if (!b->checked && b->t->cli.connected) {
        b->pending_seen = loop_conn_out_pending(b->t->cli.c);
        b->checked = true;
    }
}

static void bs_self_delete(struct loop *l, void *ctx)
{
    struct bs *b = ctx;
    b->self_del_runs++;
    loop_before_sleep_del(l, b->self_id);
}

static void ping_on_connect(struct loop_conn *c, void *ctx)
{
    struct side *s = ctx;
    s->connected = true;
    assert_int_equal(loop_conn_write(c, "ping", 4), 0);
}

/* A hook sees the output queued by this iteration's callbacks still unsent: the flush comes
 * after it, which is what lets the Raft glue fsync before acks go out. */
static void before_sleep_runs_before_flush(void **state)
{
    (void)state;
    struct tcp t;
    memset(&t, 0, sizeof t);
    static const struct loop_conn_cbs ping_cbs = {ping_on_connect, cli_data, any_close};
    tcp_setup(&t, NULL, NULL, &ping_cbs);
    t.echo = true;
    t.want_cli_bytes = 4;

    struct bs b = {.t = &t};
    assert_int_not_equal(loop_before_sleep_add(t.h.l, bs_check, &b), 0);
    b.self_id = loop_before_sleep_add(t.h.l, bs_self_delete, &b);
    assert_int_not_equal(b.self_id, 0);
    h_run(&t.h);
    assert_true(b.checked);
    assert_int_equal(b.pending_seen, 4);
    assert_memory_equal(t.cli.got.data, "ping", 4);
    assert_int_equal(b.self_del_runs, 1);
    assert_true(t.h.iters > 1);
    tcp_teardown(&t);
}

static void peer_over_input_limit_is_closed(void **state)
{
    (void)state;
    struct tcp t;
    memset(&t, 0, sizeof t);
    struct loop_conn_opts so = {.name = "rpc", .in_limit = 1024};
    tcp_setup(&t, &so, NULL, NULL);
    /* The server consumes nothing, as with one message larger than the limit. */
    uint8_t data[4096];
    fill_pattern(data, sizeof data, 0);
    assert_int_equal(loop_conn_write(t.cli.c, data, sizeof data), 0);
    t.want_srv_closed = true;
    h_run(&t.h);
    assert_int_equal(t.srv.closes, 1);
    assert_int_equal(t.srv.why, LOOP_CLOSE_IN_LIMIT);
    assert_non_null(strstr(t.h.log, "[WARN] rpc: closing connection from 127.0.0.1:"));
    assert_non_null(strstr(t.h.log, "input limit of 1024 bytes exceeded"));
    /* The client learns of it too (EOF or reset). */
    t.want_srv_closed = false;
    t.want_cli_closed = true;
    t.h.done = false;
    h_run(&t.h);
    assert_true(t.cli.why == LOOP_CLOSE_EOF || t.cli.why == LOOP_CLOSE_ERROR);
    tcp_teardown(&t);
}

static void output_over_limit_is_closed(void **state)
{
    (void)state;
    struct tcp t;
    memset(&t, 0, sizeof t);
    struct loop_conn_opts co = {.name = "http", .out_limit = 1000};
    tcp_setup(&t, NULL, &co, NULL);
    uint8_t data[600] = {0};
    /* Queued while the connect is still in flight, so nothing has drained yet. */
    assert_int_equal(loop_conn_write(t.cli.c, data, sizeof data), 0);
    assert_int_equal(loop_conn_out_pending(t.cli.c), 600);
    assert_int_equal(loop_conn_write(t.cli.c, data, sizeof data), -1);
    assert_true(loop_conn_closing(t.cli.c));
    assert_int_equal(loop_conn_write(t.cli.c, data, 1), -1);
    t.want_cli_closed = true;
    h_run(&t.h);
    assert_int_equal(t.cli.closes, 1);
    assert_int_equal(t.cli.why, LOOP_CLOSE_OUT_LIMIT);
    assert_non_null(strstr(t.h.log, "output limit of 1000 bytes exceeded"));
    tcp_teardown(&t);
}

struct bp {
    struct tcp *t;
    int stage;
    uint64_t mark;
    bool blocked_seen;
};

/* Once a flush has left the client's output stuck (the server is not reading), let the server
 * read. Hooks run before the flush, so the flush that failed to drain is an earlier iteration's. */
static void bp_hook(struct loop *l, void *ctx)
{
    struct bp *b = ctx;
    struct tcp *t = b->t;
    if (b->stage == 0 && t->cli.connected) {
        b->stage = 1;
        b->mark = t->h.iters;
        /* Nothing else would wake the loop once the client is stuck: make one more iteration. */
        assert_int_not_equal(loop_timer_add(l, 0, t_noop, NULL), 0);
    } else if (b->stage == 1 && t->h.iters > b->mark && t->srv.c != NULL &&
               loop_conn_out_pending(t->cli.c) > 0) {
        b->stage = 2;
        b->blocked_seen = true;
        loop_conn_resume_read(t->srv.c);
    }
}

static void large_write_completes_via_writable_event(void **state)
{
    (void)state;
    struct tcp t;
    memset(&t, 0, sizeof t);
    const size_t total = 32u << 20; /* well above any loopback socket buffer pair */
    struct loop_conn_opts co = {.out_limit = 64u << 20};
    tcp_setup(&t, NULL, &co, NULL);
    t.consume = true;
    t.pause_on_accept = true;
    uint8_t *data = malloc(total);
    assert_non_null(data);
    fill_pattern(data, total, 0);
    assert_int_equal(loop_conn_write(t.cli.c, data, total), 0);
    free(data);
    struct bp b = {.t = &t};
    assert_int_not_equal(loop_before_sleep_add(t.h.l, bp_hook, &b), 0);
    t.want_srv_bytes = total;
    h_run(&t.h);
    assert_true(b.blocked_seen);
    assert_int_equal(t.srv.got.len, total);
    assert_true(check_pattern(t.srv.got.data, total));
    assert_int_equal(loop_conn_out_pending(t.cli.c), 0);
    assert_int_equal(t.cli.closes, 0);
    tcp_teardown(&t);
}

static void deferred_close_inside_on_data(void **state)
{
    (void)state;
    struct tcp t;
    memset(&t, 0, sizeof t);
    tcp_setup(&t, NULL, NULL, NULL);
    t.close_in_data = true;
    assert_int_equal(loop_conn_write(t.cli.c, "hello", 5), 0);
    t.want_both_closed = true;
    h_run(&t.h);
    assert_int_equal(t.write_after_close_rc, -1);
    assert_true(t.closing_seen);
    assert_int_equal(t.in_len_after_close, 5);
    assert_int_equal(t.srv.closes, 1);
    assert_int_equal(t.srv.why, LOOP_CLOSE_LOCAL);
    assert_int_equal(t.cli.closes, 1);
    assert_true(t.cli.why == LOOP_CLOSE_EOF || t.cli.why == LOOP_CLOSE_ERROR);
    tcp_teardown(&t);
}

static void reply_then_end_delivers_reply(void **state)
{
    (void)state;
    struct tcp t;
    memset(&t, 0, sizeof t);
    tcp_setup(&t, NULL, NULL, NULL);
    t.reply_and_end = true;
    assert_int_equal(loop_conn_write(t.cli.c, "GET", 3), 0);
    t.want_both_closed = true;
    h_run(&t.h);
    assert_int_equal(t.cli.got.len, 3);
    assert_memory_equal(t.cli.got.data, "bye", 3);
    assert_int_equal(t.cli.why, LOOP_CLOSE_EOF);
    assert_int_equal(t.srv.why, LOOP_CLOSE_LOCAL);
    tcp_teardown(&t);
}

struct raw {
    struct tcp *t;
    size_t got;
    bool pattern_ok;
    bool eof;
};

/* A plain fd on the loop's generic file events: counts and checks what the server sends. */
static void raw_readable(struct loop *l, int fd, int mask, void *ctx)
{
    (void)mask;
    struct raw *r = ctx;
    uint8_t b[65536];
    ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
    if (n < 0)
        return;
    for (ssize_t i = 0; i < n; i++)
        if (b[i] != (uint8_t)((r->got + (size_t)i) % 251))
            r->pattern_ok = false;
    r->got += (size_t)n;
    if (n == 0) {
        r->eof = true;
        r->t->raw_eof = true;
        loop_file_unwatch(l, fd);
        r->t->h.done = r->t->srv.closes > 0;
    }
}

static void srv_close_after_raw(struct loop_conn *c, enum loop_close_reason why, int err,
                                void *ctx)
{
    any_close(c, why, err, ctx);
    struct side *s = ctx;
    s->t->h.done = s->t->raw_eof;
}

/* The peer sends its request and half-closes at once; the reply is larger than the socket
 * buffers, so the server reads the EOF while most of it is still queued. All of it arrives. */
static void half_closed_peer_still_gets_reply(void **state)
{
    (void)state;
    struct tcp t;
    memset(&t, 0, sizeof t);
    h_init(&t.h);
    t.srv.t = &t;
    buf_init(&t.srv.got, 0);
    const size_t total = 32u << 20;
    t.reply_big = total;
    struct loop_conn_opts so = {.out_limit = 64u << 20};
    static const struct loop_conn_cbs cbs = {NULL, srv_data, srv_close_after_raw};
    char err[160] = "";
    t.ls = loop_tcp_listen(t.h.l, "127.0.0.1:0", &so, &cbs, srv_accept, &t, err, sizeof err);
    assert_non_null(t.ls);
    const struct loop_addr *a = loop_listener_addr(t.ls);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (const struct sockaddr *)&a->ss, a->len), 0); /* backlog */
    assert_int_equal(send(fd, "GET", 3, 0), 3);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    struct raw r = {.t = &t, .pattern_ok = true};
    assert_int_equal(loop_file_watch(t.h.l, fd, LOOP_READ, raw_readable, &r), 0);
    h_run(&t.h);
    assert_true(r.eof);
    assert_int_equal(r.got, total);
    assert_true(r.pattern_ok);
    assert_int_equal(t.srv.closes, 1);
    assert_int_equal(t.srv.why, LOOP_CLOSE_EOF);
    close(fd);
    loop_destroy(t.h.l);
    buf_free(&t.srv.got);
}

struct fdlim {
    struct tcp *t;
    int stage; /* 0: waiting for the pause to be logged (woken by the retry timer) */
};

static void fdlim_hook(struct loop *l, void *ctx)
{
    (void)l;
    struct fdlim *f = ctx;
    if (f->stage == 0 && strstr(f->t->h.log, "pausing") != NULL)
        f->t->h.done = true;
}

/* Out of fds, the listener stays readable: it must pause and retry on a timer, not spin, and
 * accept the waiting connection once fds are available again. */
static void accept_pauses_when_out_of_fds(void **state)
{
    (void)state;
    struct tcp t;
    memset(&t, 0, sizeof t);
    tcp_setup(&t, NULL, NULL, NULL);
    struct fdlim f = {.t = &t};
    assert_int_not_equal(loop_before_sleep_add(t.h.l, fdlim_hook, &f), 0);
    int lowest = dup(0);
    assert_true(lowest >= 0);
    close(lowest);
    struct rlimit old, low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = (rlim_t)lowest; /* the next fd the kernel would hand out is over the limit */
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    uint64_t iters0 = t.h.iters;
    h_run(&t.h);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_null(t.srv.c);
    assert_non_null(strstr(t.h.log, "Too many open files; pausing 100 ms"));
    f.stage = 1;
    t.want_accept = true;
    t.h.done = false;
    h_run(&t.h);
    assert_non_null(t.srv.c);
    /* Paused, not spinning: the 100 ms wait took a handful of iterations, not thousands. */
    assert_true(t.h.iters - iters0 < 100);
    tcp_teardown(&t);
}

static void connect_refused_is_reported(void **state)
{
    (void)state;
    struct tcp t;
    memset(&t, 0, sizeof t);
    h_init(&t.h);
    t.cli.t = &t;
    buf_init(&t.cli.got, 0);
    buf_init(&t.srv.got, 0);
    char err[160] = "";
    struct loop_listener *ls =
        loop_tcp_listen(t.h.l, "127.0.0.1:0", NULL, &srv_cbs, srv_accept, &t, err, sizeof err);
    assert_non_null(ls);
    struct loop_addr to = *loop_listener_addr(ls);
    loop_listener_close(ls);
    loop_run_once(t.h.l, 0); /* reaped: the port is closed now */
    t.cli.c = loop_tcp_connect(t.h.l, &to, NULL, &cli_cbs, &t.cli, err, sizeof err);
    if (t.cli.c == NULL) {
        assert_non_null(strstr(err, "connect to 127.0.0.1:"));
    } else {
        t.want_cli_closed = true;
        h_run(&t.h);
        assert_int_equal(t.cli.why, LOOP_CLOSE_CONNECT);
        assert_int_equal(t.cli.err, ECONNREFUSED);
        assert_false(t.cli.connected);
    }
    tcp_teardown(&t);
}

static void listen_errors_are_clear(void **state)
{
    (void)state;
    struct h h;
    h_init(&h);
    char err[160] = "";
    assert_null(loop_tcp_listen(h.l, "localhost:80", NULL, &srv_cbs, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "not a numeric IPv4 address"));
    struct loop_listener *a =
        loop_tcp_listen(h.l, "127.0.0.1:0", NULL, &srv_cbs, NULL, NULL, err, sizeof err);
    assert_non_null(a);
    char addr[LOOP_ADDR_STRLEN];
    loop_addr_format(loop_listener_addr(a), addr, sizeof addr);
    assert_null(loop_tcp_listen(h.l, addr, NULL, &srv_cbs, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "bind: Address already in use"));
    loop_destroy(h.l);
}

static void reconnect_on_close(struct loop_conn *c, enum loop_close_reason why, int err, void *ctx)
{
    struct side *s = ctx;
    any_close(c, why, err, ctx);
    char e[160] = "";
    /* A reconnecting owner must not keep loop_destroy from finishing. */
    s->t->reconnected = loop_tcp_connect(loop_conn_loop(c), &s->t->srv_addr, NULL,
                                         &cli_cbs, s, e, sizeof e);
    s->t->reconnect_refused = strstr(e, "shutting down") != NULL;
}

static void destroy_closes_everything(void **state)
{
    (void)state;
    struct tcp t;
    memset(&t, 0, sizeof t);
    static const struct loop_conn_cbs recon_cbs = {cli_connect, cli_data, reconnect_on_close};
    tcp_setup(&t, NULL, NULL, &recon_cbs);
    t.echo = true;
    assert_int_equal(loop_conn_write(t.cli.c, "abc", 3), 0);
    t.want_cli_bytes = 3;
    h_run(&t.h);
    t.reconnected = (struct loop_conn *)&t; /* must be overwritten with NULL */
    loop_destroy(t.h.l);
    assert_null(t.reconnected);
    assert_true(t.reconnect_refused);
    assert_int_equal(t.cli.closes, 1);
    assert_int_equal(t.cli.why, LOOP_CLOSE_SHUTDOWN);
    assert_int_equal(t.srv.closes, 1);
    assert_int_equal(t.srv.why, LOOP_CLOSE_SHUTDOWN);
    buf_free(&t.srv.got);
    buf_free(&t.cli.got);
}

/* ---- UDP ---- */

struct udp {
    struct h h;
    struct loop_udp *a, *b;
    char a_got[64];
    size_t a_len;
    bool from_b;
    int b_count;
};

static void udp_b(struct loop_udp *u, const uint8_t *data, size_t len,
                  const struct loop_addr *from, void *ctx)
{
    struct udp *x = ctx;
    x->b_count++;
    assert_int_equal(len, 5);
    assert_memory_equal(data, "hello", 5);
    assert_int_equal(loop_udp_send(u, from, "world", 5), 0);
}

static void udp_a(struct loop_udp *u, const uint8_t *data, size_t len,
                  const struct loop_addr *from, void *ctx)
{
    (void)u;
    struct udp *x = ctx;
    memcpy(x->a_got, data, len < sizeof x->a_got ? len : sizeof x->a_got);
    x->a_len = len;
    x->from_b = loop_addr_equal(from, loop_udp_addr(x->b));
    x->h.done = true;
}

static void udp_round_trip(void **state)
{
    (void)state;
    struct udp x;
    memset(&x, 0, sizeof x);
    h_init(&x.h);
    char err[160] = "";
    x.a = loop_udp_bind(x.h.l, "127.0.0.1:0", 0, udp_a, &x, err, sizeof err);
    assert_non_null(x.a);
    x.b = loop_udp_bind(x.h.l, "127.0.0.1:0", 16, udp_b, &x, err, sizeof err);
    assert_non_null(x.b);
    uint8_t big[100] = {0};
    /* Over b's 16-byte limit: dropped and counted, never truncated into a callback. */
    assert_int_equal(loop_udp_send(x.a, loop_udp_addr(x.b), big, sizeof big), 0);
    assert_int_equal(loop_udp_send(x.a, loop_udp_addr(x.b), "hello", 5), 0);
    h_run(&x.h);
    assert_int_equal(x.a_len, 5);
    assert_memory_equal(x.a_got, "world", 5);
    assert_true(x.from_b);
    assert_int_equal(x.b_count, 1);
    assert_int_equal(loop_udp_dropped(x.b), 1);
    loop_udp_close(x.b);
    loop_destroy(x.h.l);
}

/* A datagram to a port nobody listens on comes back as ICMP port unreachable: reported with the
 * destination it was sent to. The pending socket error that IP_RECVERR also leaves behind must
 * not cost the next datagram, sent to a live peer before the loop has read the error. */
struct udp_refused {
    struct h h;
    struct loop_udp *a, *b;
    struct loop_addr dead;
    int refused;
    bool refused_dead;
    int a_got;
};

static void udp_refused_cb(struct loop_udp *u, const struct loop_addr *to, void *ctx)
{
    (void)u;
    struct udp_refused *x = ctx;
    x->refused++;
    x->refused_dead = loop_addr_equal(to, &x->dead);
    if (x->a_got)
        x->h.done = true;
}

static void udp_refused_a(struct loop_udp *u, const uint8_t *data, size_t len,
                          const struct loop_addr *from, void *ctx)
{
    (void)u;
    (void)data;
    (void)len;
    (void)from;
    struct udp_refused *x = ctx;
    x->a_got++;
    if (x->refused)
        x->h.done = true;
}

static void udp_refused_b(struct loop_udp *u, const uint8_t *data, size_t len,
                          const struct loop_addr *from, void *ctx)
{
    (void)data;
    (void)len;
    (void)ctx;
    assert_int_equal(loop_udp_send(u, from, "world", 5), 0);
}

static void udp_refused_reports_destination(void **state)
{
    (void)state;
    struct udp_refused x;
    memset(&x, 0, sizeof x);
    h_init(&x.h);
    char err[160] = "";
    /* A port that was just free: bound, read back, closed. */
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    x.dead.len = sizeof x.dead.ss;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&x.dead.ss, &x.dead.len), 0);
    close(fd);

    x.a = loop_udp_bind(x.h.l, "127.0.0.1:0", 0, udp_refused_a, &x, err, sizeof err);
    assert_non_null(x.a);
    x.b = loop_udp_bind(x.h.l, "127.0.0.1:0", 0, udp_refused_b, &x, err, sizeof err);
    assert_non_null(x.b);
    assert_int_equal(loop_udp_on_refused(x.a, udp_refused_cb), 0);
    assert_int_equal(loop_udp_send(x.a, &x.dead, "hello", 5), 0);
    /* Loopback answers within the send; the error is pending now. */
    assert_int_equal(loop_udp_send(x.a, loop_udp_addr(x.b), "hello", 5), 0);
    h_run(&x.h);
    assert_int_equal(x.refused, 1);
    assert_true(x.refused_dead);
    assert_int_equal(x.a_got, 1);
    loop_destroy(x.h.l);
}

/* ---- signals ---- */

struct sig {
    struct h h;
    int signo;
    int count;
};

static void on_sig(struct loop *l, int signo, void *ctx)
{
    (void)l;
    struct sig *s = ctx;
    s->signo = signo;
    s->count++;
    s->h.done = true;
}

static void signal_arrives_through_signalfd(void **state)
{
    (void)state;
    struct sig s;
    memset(&s, 0, sizeof s);
    h_init(&s.h);
    char err[160] = "";
    assert_int_equal(loop_signal_on(s.h.l, SIGKILL, on_sig, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot be watched"));
    assert_int_equal(loop_signal_on(s.h.l, SIGHUP, on_sig, &s, err, sizeof err), 0);
    assert_int_equal(loop_signal_on(s.h.l, SIGTERM, on_sig, &s, err, sizeof err), 0);
    /* Blocked now, so raise() queues it for the signalfd instead of killing the test. */
    assert_int_equal(raise(SIGHUP), 0);
    h_run(&s.h);
    assert_int_equal(s.signo, SIGHUP);
    assert_int_equal(s.count, 1);
    loop_destroy(s.h.l);
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    assert_int_equal(sigismember(&now, SIGHUP), 0); /* the process mask is restored */
    assert_int_equal(sigismember(&now, SIGTERM), 0);
}

/* ---- addresses ---- */

static void addr_parse_and_format(void **state)
{
    (void)state;
    struct loop_addr a;
    char err[160], out[LOOP_ADDR_STRLEN];
    static const char *const good[] = {"127.0.0.1:8300", "0.0.0.0:0", "[::1]:8301",
                                       "[fe80::1:2]:65535", "10.1.2.3:1"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        err[0] = '\0';
        assert_int_equal(loop_addr_parse(good[i], &a, err, sizeof err), 0);
        assert_string_equal(loop_addr_format(&a, out, sizeof out), good[i]);
        struct loop_addr b;
        assert_int_equal(loop_addr_parse(out, &b, NULL, 0), 0);
        assert_true(loop_addr_equal(&a, &b));
    }
    assert_int_equal(loop_addr_parse("127.0.0.1:8300", &a, NULL, 0), 0);
    assert_int_equal(loop_addr_port(&a), 8300);

    static const struct {
        const char *in, *msg;
    } bad[] = {
        {"", "empty address"},
        {"127.0.0.1", "missing port"},
        {"127.0.0.1:", "port must be 0-65535"},
        {"127.0.0.1:65536", "port must be 0-65535"},
        {"127.0.0.1:80x", "port must be 0-65535"},
        {"127.0.0.1:-1", "port must be 0-65535"},
        {"127.0.0.1:000080", "port must be 0-65535"},
        {"::1:80", "need brackets"},
        {"[::1]", "expected [ipv6]:port"},
        {"[::1]80", "expected [ipv6]:port"},
        {"[]:80", "bad IPv6"},
        {"[1.2.3.4]:80", "bad IPv6"},
        {"consul.service:8300", "not a numeric IPv4"},
        {"256.1.1.1:80", "not a numeric IPv4"},
        {":80", "bad IPv4"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(loop_addr_parse(bad[i].in, &a, err, sizeof err), -1);
        if (strstr(err, bad[i].msg) == NULL)
            fail_msg("\"%s\": got \"%s\", want \"%s\"", bad[i].in, err, bad[i].msg);
    }
    assert_int_equal(loop_addr_parse(NULL, &a, err, sizeof err), -1);
    assert_int_equal(loop_addr_parse("x", &a, NULL, 0), -1); /* err may be NULL */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timers_fire_in_deadline_order),
        cmocka_unit_test(timer_cancel_prevents_firing),
        cmocka_unit_test(timer_cancel_from_another_callback),
        cmocka_unit_test(timer_rearms_from_its_callback),
        cmocka_unit_test(timer_stale_id_misses_reused_slot),
        cmocka_unit_test(timer_heap_many),
        cmocka_unit_test(file_events_drop_stale_and_survive_fd_reuse),
        cmocka_unit_test(tcp_echo_round_trip),
        cmocka_unit_test(before_sleep_runs_before_flush),
        cmocka_unit_test(peer_over_input_limit_is_closed),
        cmocka_unit_test(output_over_limit_is_closed),
        cmocka_unit_test(large_write_completes_via_writable_event),
        cmocka_unit_test(deferred_close_inside_on_data),
        cmocka_unit_test(reply_then_end_delivers_reply),
        cmocka_unit_test(half_closed_peer_still_gets_reply),
        cmocka_unit_test(accept_pauses_when_out_of_fds),
        cmocka_unit_test(connect_refused_is_reported),
        cmocka_unit_test(listen_errors_are_clear),
        cmocka_unit_test(destroy_closes_everything),
        cmocka_unit_test(udp_round_trip),
        cmocka_unit_test(udp_refused_reports_destination),
        cmocka_unit_test(signal_arrives_through_signalfd),
        cmocka_unit_test(addr_parse_and_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
