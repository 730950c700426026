/* loop_echo.c — reactor figures on loopback, client and server in one loop: round trips per second
 * for small request/reply pairs (the Raft heartbeat shape), and bulk throughput through bounded
 * buffers with back-pressure. Usage: loop_echo [round_trips] [bulk_MiB]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/loop.h"
#include "loop/net.h"

struct bench {
    struct loop *l;
    struct loop_conn *cli;
    uint64_t trips, want_trips;
    size_t msg;
    size_t bulk_sent, bulk_got, bulk_total;
    int phase; /* 0 ping-pong, 1 bulk */
    int failed;
};

static void srv_data(struct loop_conn *c, struct buf *in, void *ctx)
{
    struct bench *b = ctx;
    if (b->phase == 0) {
        if (loop_conn_write(c, in->data, in->len) != 0)
            b->failed = 1;
    } else {
        b->bulk_got += in->len;
        if (b->bulk_got >= b->bulk_total)
            loop_stop(b->l);
    }
    buf_clear(in);
}

static void bulk_pump(struct bench *b)
{
    static const uint8_t chunk[65536];
    /* Back-pressure: produce only while less than 1 MiB is queued. */
    while (b->bulk_sent < b->bulk_total && loop_conn_out_pending(b->cli) < (1u << 20)) {
        size_t n = b->bulk_total - b->bulk_sent < sizeof chunk ? b->bulk_total - b->bulk_sent
                                                                : sizeof chunk;
        if (loop_conn_write(b->cli, chunk, n) != 0) {
            b->failed = 1;
            loop_stop(b->l);
            return;
        }
        b->bulk_sent += n;
    }
}

static void bulk_hook(struct loop *l, void *ctx)
{
    (void)l;
    struct bench *b = ctx;
    if (b->phase == 1 && b->cli != NULL)
        bulk_pump(b);
}

static void cli_data(struct loop_conn *c, struct buf *in, void *ctx)
{
    struct bench *b = ctx;
    if (in->len < b->msg)
        return;
    buf_consume(in, b->msg);
    if (++b->trips >= b->want_trips) {
        loop_stop(b->l);
        return;
    }
    uint8_t m[64] = {0};
    if (loop_conn_write(c, m, b->msg) != 0)
        b->failed = 1;
}

static void cli_connect(struct loop_conn *c, void *ctx)
{
    struct bench *b = ctx;
    uint8_t m[64] = {0};
    if (loop_conn_write(c, m, b->msg) != 0)
        b->failed = 1;
}

static void any_close(struct loop_conn *c, enum loop_close_reason why, int err, void *ctx)
{
    struct bench *b = ctx;
    if (c == b->cli)
        b->cli = NULL;
    if (why != LOOP_CLOSE_SHUTDOWN) {
        fprintf(stderr, "loop_echo: connection closed: %s (%s)\n", loop_close_reason_str(why),
                err ? strerror(err) : "-");
        b->failed = 1;
        loop_stop(b->l);
    }
}

static void guard(struct loop *l, uint64_t id, void *ctx)
{
    (void)id;
    ((struct bench *)ctx)->failed = 1;
    fprintf(stderr, "loop_echo: timed out\n");
    loop_stop(l);
}

int main(int argc, char **argv)
{
    struct bench b = {.want_trips = argc > 1 ? strtoull(argv[1], NULL, 10) : 50000,
                      .msg = 64,
                      .bulk_total = (argc > 2 ? strtoull(argv[2], NULL, 10) : 512) << 20};
    char err[160];
    b.l = loop_create(NULL, err, sizeof err);
    if (b.l == NULL) {
        fprintf(stderr, "loop_echo: %s\n", err);
        return 1;
    }
    static const struct loop_conn_cbs scbs = {NULL, srv_data, any_close};
    static const struct loop_conn_cbs ccbs = {cli_connect, cli_data, any_close};
    struct loop_listener *ls =
        loop_tcp_listen(b.l, "127.0.0.1:0", NULL, &scbs, NULL, &b, err, sizeof err);
    if (ls == NULL) {
        fprintf(stderr, "loop_echo: %s\n", err);
        return 1;
    }
    b.cli = loop_tcp_connect(b.l, loop_listener_addr(ls), NULL, &ccbs, &b, err, sizeof err);
    if (b.cli == NULL) {
        fprintf(stderr, "loop_echo: %s\n", err);
        return 1;
    }
    loop_timer_add(b.l, 60000, guard, &b);

    uint64_t t0 = loop_now_ms();
    loop_run(b.l);
    uint64_t t1 = loop_now_ms();
    if (!b.failed) {
        double s = (double)(t1 - t0 ? t1 - t0 : 1) / 1000.0;
        printf("loop_echo: %llu round trips of %zu B in %.2f s: %.0f/s (%.1f us each)\n",
               (unsigned long long)b.trips, b.msg, s, (double)b.trips / s,
               s * 1e6 / (double)b.trips);
        b.phase = 1;
        loop_before_sleep_add(b.l, bulk_hook, &b);
        t0 = loop_now_ms();
        loop_run(b.l);
        t1 = loop_now_ms();
        s = (double)(t1 - t0 ? t1 - t0 : 1) / 1000.0;
        if (!b.failed)
            printf("loop_echo: %zu MiB bulk in %.2f s: %.0f MiB/s (1 MiB output cap)\n",
                   b.bulk_got >> 20, s, (double)(b.bulk_got >> 20) / s);
    }
    loop_destroy(b.l);
    return b.failed;
}
