/* raft_node.c — end-to-end Raft write figures: committed-and-applied proposals per second and
 * latency percentiles for 1 and 3 servers on loopback, each fsyncing its own log in a temp dir.
 * All servers share this process's one loop, so their fsyncs run one after another: the 3-server
 * latency is about three fsyncs, where separate machines would overlap them.
 * Usage: raft_node [proposals] [in_flight] [entry_bytes]. */
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loop/loop.h"
#include "raft/node.h"

#define MAX_SERVERS 3

struct bench;

struct server {
    struct bench *b;
    struct raft_node *rn;
    char dir[128];
    char addr[64];
    uint64_t applied;
};

struct slot {
    struct bench *b;
    uint64_t start_ns;
};

struct bench {
    struct loop *l;
    struct server s[MAX_SERVERS];
    int n;
    uint64_t *lat;
    size_t n_lat;
    int in_flight;
    int issued, total, failed;
    uint8_t *payload;
    size_t size;
    struct slot *slots;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int64_t fsm_apply(void *ctx, uint64_t index, const uint8_t *data, size_t len)
{
    (void)data;
    (void)len;
    struct server *s = ctx;
    s->applied = index;
    return 0;
}

static int fsm_snapshot(void *ctx, struct buf *out)
{
    struct server *s = ctx;
    return buf_append(out, &s->applied, sizeof s->applied);
}

static int fsm_restore(void *ctx, const uint8_t *data, size_t len)
{
    struct server *s = ctx;
    if (len != sizeof s->applied)
        return -1;
    memcpy(&s->applied, data, len);
    return 0;
}

static void free_addr(char *out, size_t outlen)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        perror("bind");
        exit(1);
    }
    snprintf(out, outlen, "127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    close(fd);
}

static void rm_tree(const char *path)
{
    char cmd[300];
    if (strncmp(path, "/tmp/tribune-bench-", 19) != 0)
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", path);
}

static void issue(struct bench *b, struct slot *sl);

static void on_done(void *ctx, const struct raft_node_result *res)
{
    struct slot *sl = ctx;
    struct bench *b = sl->b;
    if (res->err)
        b->failed++;
    else
        b->lat[b->n_lat++] = now_ns() - sl->start_ns;
    if (b->issued < b->total)
        issue(b, sl);
}

static void issue(struct bench *b, struct slot *sl)
{
    sl->start_ns = now_ns();
    b->issued++;
    if (raft_node_propose(b->s[0].rn, b->payload, b->size, on_done, sl) != 0) {
        b->failed++;
    }
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, c = *(const uint64_t *)y;
    return a < c ? -1 : a > c;
}

static int run(int servers, int total, int in_flight, size_t size)
{
    struct bench b;
    memset(&b, 0, sizeof b);
    struct logger lg;
    log_init(&lg, 2, LOG_WARN);
    char err[512];
    b.l = loop_create(&lg, err, sizeof err);
    b.n = servers;
    b.total = total;
    b.in_flight = in_flight;
    b.size = size;
    b.payload = calloc(1, size ? size : 1);
    b.lat = calloc((size_t)total, sizeof *b.lat);
    b.slots = calloc((size_t)in_flight, sizeof *b.slots);
    for (int i = 0; i < servers; i++) {
        snprintf(b.s[i].dir, sizeof b.s[i].dir, "/tmp/tribune-bench-XXXXXX");
        if (mkdtemp(b.s[i].dir) == NULL) {
            perror("mkdtemp");
            return 1;
        }
        free_addr(b.s[i].addr, sizeof b.s[i].addr);
    }
    for (int i = 0; i < servers; i++) {
        /* Server 0 bootstraps alone; the others join through add_server once it leads. */
        struct raft_node_opts o;
        raft_node_opts_default(&o);
        o.data_dir = b.s[i].dir;
        o.id = (raft_id)(i + 1);
        o.advertise = b.s[i].addr;
        o.cluster = "bench";
        o.bootstrap = i == 0;
        o.backoff_max_ms = 100;
        struct raft_node_fsm f = {&b.s[i], fsm_apply, fsm_snapshot, fsm_restore, NULL, NULL};
        if (raft_node_open(b.l, &o, &f, &lg, &b.s[i].rn, err, sizeof err) != 0) {
            fprintf(stderr, "open: %s\n", err);
            return 1;
        }
    }
    uint64_t deadline = loop_now_ms() + 10000;
    while (!raft_node_is_leader(b.s[0].rn) && loop_now_ms() < deadline)
        loop_run_once(b.l, 10);
    for (int i = 1; i < servers; i++) {
        int rc;
        while ((rc = raft_node_add_server(b.s[0].rn, (raft_id)(i + 1), b.s[i].addr)) ==
                   RAFT_EBUSY &&
               loop_now_ms() < deadline)
            loop_run_once(b.l, 10);
        if (rc != 0) {
            fprintf(stderr, "add server %d: %s\n", i + 1, raft_node_strerror(rc));
            return 1;
        }
    }
    while (raft_node_configuration(b.s[0].rn)->n != (uint32_t)servers ||
           raft_config_voters(raft_node_configuration(b.s[0].rn)) != (uint32_t)servers) {
        if (loop_now_ms() > deadline) {
            fprintf(stderr, "cluster did not form\n");
            return 1;
        }
        loop_run_once(b.l, 10);
    }
    uint64_t t0 = now_ns();
    for (int i = 0; i < in_flight && b.issued < total; i++) {
        b.slots[i].b = &b;
        issue(&b, &b.slots[i]);
    }
    deadline = loop_now_ms() + 120000;
    while ((int)b.n_lat + b.failed < total && loop_now_ms() < deadline)
        loop_run_once(b.l, 10);
    uint64_t dt = now_ns() - t0;
    qsort(b.lat, b.n_lat, sizeof *b.lat, cmp_u64);
    double secs = (double)dt / 1e9;
    printf("servers=%d proposals=%zu in_flight=%d bytes=%zu: %.0f writes/s, p50 %.2f ms, "
           "p99 %.2f ms, failed %d\n",
           servers, b.n_lat, in_flight, size, (double)b.n_lat / secs,
           b.n_lat ? (double)b.lat[b.n_lat / 2] / 1e6 : 0.0,
           b.n_lat ? (double)b.lat[b.n_lat * 99 / 100] / 1e6 : 0.0, b.failed);
    for (int i = 0; i < servers; i++) {
        raft_node_close(b.s[i].rn);
        rm_tree(b.s[i].dir);
    }
    loop_destroy(b.l);
    free(b.payload);
    free(b.lat);
    free(b.slots);
    return b.failed != 0;
}

int main(int argc, char **argv)
{
    int total = argc > 1 ? atoi(argv[1]) : 2000;
    int in_flight = argc > 2 ? atoi(argv[2]) : 1;
    size_t size = argc > 3 ? (size_t)atoi(argv[3]) : 100;
    if (total <= 0 || in_flight <= 0) {
        fprintf(stderr, "usage: raft_node [proposals] [in_flight] [entry_bytes]\n");
        return 2;
    }
    int rc = 0;
    rc |= run(1, total, 1, size);
    rc |= run(3, total, 1, size);
    rc |= run(3, total * 5, 64, size);
    return rc;
}
