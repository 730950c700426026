/* net.h — sockets on the reactor: "ip:port" addresses, TCP listeners and connections with bounded
 * input and output buffers, and UDP sockets. The loop owns every object here and frees it itself. */
#ifndef TRIBUNE_LOOP_NET_H
#define TRIBUNE_LOOP_NET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/buf.h"
#include "loop/loop.h"

/* ---- Addresses ---- */

struct loop_addr {
    struct sockaddr_storage ss;
    socklen_t len;
};

/* Longest text loop_addr_format produces, NUL included ("[v6 address]:65535"). */
#define LOOP_ADDR_STRLEN 56

/* Parses "1.2.3.4:8300" or "[::1]:8300" (numeric only: the reactor never blocks on DNS).
 * 0, or -1 with a one-line reason in err. */
int loop_addr_parse(const char *s, struct loop_addr *out, char *err, size_t errlen);
/* Writes the same form back; out must hold LOOP_ADDR_STRLEN bytes. Returns out. */
char *loop_addr_format(const struct loop_addr *a, char *out, size_t outlen);
bool loop_addr_equal(const struct loop_addr *a, const struct loop_addr *b);
uint16_t loop_addr_port(const struct loop_addr *a);

/* ---- TCP ---- */

struct loop_conn;
struct loop_listener;

enum loop_close_reason {
    LOOP_CLOSE_SHUTDOWN = 0, /* loop_destroy */
    LOOP_CLOSE_LOCAL,        /* the owner called loop_conn_close or loop_conn_end */
    LOOP_CLOSE_EOF,          /* the peer closed its side */
    LOOP_CLOSE_ERROR,        /* a socket error (err holds errno) */
    LOOP_CLOSE_CONNECT,      /* an outbound connect failed (err holds errno) */
    LOOP_CLOSE_IN_LIMIT,     /* the input buffer filled up and the owner could not consume it */
    LOOP_CLOSE_OUT_LIMIT,    /* a write would have grown the output buffer past its limit */
};

const char *loop_close_reason_str(enum loop_close_reason why);

struct loop_conn_cbs {
    /* Outbound only, once the connect completed; may be NULL. */
    void (*on_connect)(struct loop_conn *c, void *ctx);
    /* New bytes were appended to in; consume whole messages with buf_consume. Bytes left over stay
     * for the next call. Required. */
    void (*on_data)(struct loop_conn *c, struct buf *in, void *ctx);
    /* Exactly once per connection, from the top of the loop (never inside another callback of
     * this connection); c is freed when it returns. err is an errno value or 0. May be NULL. */
    void (*on_close)(struct loop_conn *c, enum loop_close_reason why, int err, void *ctx);
};

struct loop_conn_opts {
    const char *name; /* log subsystem ("rpc", "http"...), static storage; NULL means "loop" */
    size_t in_limit;  /* bytes buffered unconsumed before the peer is cut off; 0: 1 MiB */
    size_t out_limit; /* bytes queued unsent before the connection is dropped; 0: 4 MiB */
};

/* Called for each accepted connection, which starts with the listener's callbacks and ctx;
 * loop_conn_set_ctx gives it its own context. */
typedef void (*loop_accept_fn)(struct loop_listener *ls, struct loop_conn *c, void *ctx);

/* Listens on addr with SO_REUSEADDR; accepted sockets get TCP_NODELAY, non-blocking and
 * close-on-exec. opts may be NULL for the defaults. NULL on failure with the reason in err. */
struct loop_listener *loop_tcp_listen(struct loop *l, const char *addr,
                                      const struct loop_conn_opts *opts,
                                      const struct loop_conn_cbs *cbs, loop_accept_fn on_accept,
                                      void *ctx, char *err, size_t errlen);
/* The bound address (the real port after listening on port 0). */
const struct loop_addr *loop_listener_addr(const struct loop_listener *ls);
/* Stops accepting and frees the listener at the next safe point. */
void loop_listener_close(struct loop_listener *ls);

/* Starts a non-blocking connect. Writes are accepted at once and sent after on_connect. NULL on
 * immediate failure with the reason in err; a later failure arrives as LOOP_CLOSE_CONNECT. */
struct loop_conn *loop_tcp_connect(struct loop *l, const struct loop_addr *to,
                                   const struct loop_conn_opts *opts,
                                   const struct loop_conn_cbs *cbs, void *ctx, char *err,
                                   size_t errlen);

/* Queues bytes for the peer. They are written after this iteration's before-sleep hooks (see
 * loop.h), directly when the socket takes them, through a writable event when it would block.
 * 0, or -1 when the connection is closing or the output limit would be exceeded (the connection
 * is then closed with LOOP_CLOSE_OUT_LIMIT and logged). */
int loop_conn_write(struct loop_conn *c, const void *p, size_t n);
/* Writes queued output now, ahead of the before-sleep hooks: only for bytes that need no durable
 * state behind them (a leader's AppendEntries going out while its own fsync runs). */
void loop_conn_flush(struct loop_conn *c);
/* Unsent output bytes: a producer that sees this grow stops producing (back-pressure). */
size_t loop_conn_out_pending(const struct loop_conn *c);

/* Stop and restart reading (back-pressure toward the peer). Bytes already in the input buffer are
 * not redelivered on resume: the owner processes them itself. */
void loop_conn_pause_read(struct loop_conn *c);
void loop_conn_resume_read(struct loop_conn *c);

/* Closes at the next safe point, dropping unsent output; safe inside any callback, and c stays
 * valid until on_close. */
void loop_conn_close(struct loop_conn *c);
/* Stops reading and closes once all queued output is written (a reply, then hang up). */
void loop_conn_end(struct loop_conn *c);
bool loop_conn_closing(const struct loop_conn *c);

void loop_conn_set_ctx(struct loop_conn *c, void *ctx);
void *loop_conn_ctx(const struct loop_conn *c);
struct loop *loop_conn_loop(const struct loop_conn *c);
const struct loop_addr *loop_conn_peer(const struct loop_conn *c);

/* ---- UDP ---- */

struct loop_udp;

/* One datagram; data is valid only during the call. */
typedef void (*loop_udp_fn)(struct loop_udp *u, const uint8_t *data, size_t len,
                            const struct loop_addr *from, void *ctx);

/* The destination of a datagram we sent, whose host answered that no socket listens there. */
typedef void (*loop_udp_refused_fn)(struct loop_udp *u, const struct loop_addr *to, void *ctx);

/* Binds addr. Datagrams longer than max_datagram (0: 65507) are dropped and counted. */
struct loop_udp *loop_udp_bind(struct loop *l, const char *addr, size_t max_datagram,
                               loop_udp_fn fn, void *ctx, char *err, size_t errlen);
/* Sends one datagram without blocking. 0, or -1 with errno set: UDP is lossy by contract, so a
 * full socket buffer drops the datagram rather than queueing it. */
int loop_udp_send(struct loop_udp *u, const struct loop_addr *to, const void *p, size_t n);
const struct loop_addr *loop_udp_addr(const struct loop_udp *u);
/* Asks the kernel for the ICMP errors our datagrams cause (IP_RECVERR) and reports each "port
 * unreachable" to fn. Such answers are rate-limited by hosts and dropped by firewalls: a hint
 * that may come, never a signal that must. 0, or -1 with errno set. */
int loop_udp_on_refused(struct loop_udp *u, loop_udp_refused_fn fn);
/* Datagrams dropped on receive for being longer than max_datagram. */
uint64_t loop_udp_dropped(const struct loop_udp *u);
/* Frees the socket at the next safe point; no more datagrams are delivered. */
void loop_udp_close(struct loop_udp *u);

#endif
