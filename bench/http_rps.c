/* http_rps.c — HTTP figures: parser requests/s on a typical Consul request, and server requests/s
 * on loopback from forked keep-alive clients (sequential and pipelined). Usage: http_rps [N]. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http/parser.h"
#include "http/server.h"

static const char req[] = "GET /v1/kv/service/web/config?index=1042&wait=10s HTTP/1.1\r\n"
                          "Host: 127.0.0.1:8500\r\nUser-Agent: Go 1.1 package http\r\n"
                          "Accept-Encoding: gzip\r\n\r\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench_parser(long n)
{
    struct http_parser p;
    http_parser_init(&p, HTTP_PARSE_REQUEST, NULL);
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        size_t used;
        if (http_parser_feed(&p, (const uint8_t *)req, sizeof req - 1, &used) != HTTP_PARSE_DONE) {
            fprintf(stderr, "http_rps: parse failed\n");
            exit(1);
        }
        http_parser_reset(&p);
    }
    double dt = now_s() - t0;
    http_parser_free(&p);
    printf("http_rps: parser: %ld requests of %zu B in %.2f s: %.0f/s (%.0f MB/s)\n", n,
           sizeof req - 1, dt, (double)n / dt, (double)n * (double)(sizeof req - 1) / dt / 1e6);
}

static enum http_disposition h_kv(struct http_req *r, void *ctx)
{
    (void)ctx;
    static const char body[] = "[{\"CreateIndex\":1042,\"ModifyIndex\":1042,\"LockIndex\":0,"
                               "\"Key\":\"service/web/config\",\"Flags\":0,\"Value\":\"dHJ1ZQ==\"}]";
    struct buf b = {(uint8_t *)body, sizeof body - 1, sizeof body - 1, 0};
    http_req_header(r, "X-Consul-Index", "1042");
    http_respond_json(r, 200, &b);
    return HTTP_DONE;
}

/* A client child: `count` requests in batches of `depth` (1 = one at a time), reading each
 * batch's responses by counting "HTTP/1.1 200" status lines and the bodies' closing brackets. */
static void client(const struct loop_addr *a, long count, int depth)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (const struct sockaddr *)&a->ss, a->len) != 0)
        _exit(2);
    char batch[64 * sizeof req];
    for (int i = 0; i < depth; i++)
        memcpy(batch + (size_t)i * (sizeof req - 1), req, sizeof req - 1);
    char in[65536];
    for (long done = 0; done < count; done += depth) {
        size_t len = (size_t)depth * (sizeof req - 1);
        if (send(fd, batch, len, MSG_NOSIGNAL) != (ssize_t)len)
            _exit(3);
        int got = 0;
        while (got < depth) {
            ssize_t n = recv(fd, in, sizeof in, 0);
            if (n <= 0)
                _exit(4);
            for (ssize_t i = 0; i < n; i++)
                got += in[i] == ']'; /* one per response body */
        }
    }
    close(fd);
    _exit(0);
}

struct run {
    int live;
};

static void reap(struct loop *l, uint64_t id, void *ctx)
{
    (void)id;
    struct run *r = ctx;
    int st;
    while (r->live > 0 && waitpid(-1, &st, WNOHANG) > 0) {
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "http_rps: a client failed\n");
            exit(1);
        }
        r->live--;
    }
    if (r->live == 0)
        loop_stop(l);
    else
        loop_timer_add(l, 2, reap, r);
}

static void bench_server(int clients, long per_client, int depth)
{
    char err[256];
    struct loop *l = loop_create(NULL, err, sizeof err);
    struct http_server *s = l ? http_server_start(l, "127.0.0.1:0", NULL, err, sizeof err) : NULL;
    if (s == NULL) {
        fprintf(stderr, "http_rps: %s\n", err);
        exit(1);
    }
    http_route_add(s, HTTP_GET, "/v1/kv/", h_kv, NULL);
    struct run r = {clients};
    double t0 = now_s();
    for (int i = 0; i < clients; i++) {
        pid_t pid = fork();
        if (pid == 0)
            client(http_server_addr(s), per_client, depth);
        if (pid < 0) {
            perror("fork");
            exit(1);
        }
    }
    loop_timer_add(l, 2, reap, &r);
    loop_run(l);
    double dt = now_s() - t0;
    long total = clients * per_client;
    printf("http_rps: server: %d keep-alive client(s), pipeline depth %d: %ld requests in %.2f s: "
           "%.0f/s\n",
           clients, depth, total, dt, (double)total / dt);
    http_server_stop(s);
    loop_destroy(l);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 20000;
    if (n <= 0)
        n = 20000;
    signal(SIGPIPE, SIG_IGN);
    bench_parser(n * 25);
    bench_server(1, n, 1);
    bench_server(4, n / 4, 1);
    bench_server(1, n, 16);
    return 0;
}
