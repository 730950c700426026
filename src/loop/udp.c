/* udp.c — UDP sockets on the reactor: bind, one callback per received datagram, non-blocking send,
 * and (opt-in) the ICMP "port unreachable" answers to what we sent. Nothing is queued: gossip
 * tolerates loss by design, so a full socket buffer drops the datagram. */
#include "loop/net.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "loop/loop_impl.h"

#define UDP_DEFAULT_MAX 65507u /* the largest IPv4 UDP payload */
#define UDP_RECVS_PER_EVENT 64 /* fairness toward TCP clients during a packet flood */

/* Linux's struct sock_extended_err (linux/errqueue.h), a fixed ABI; spelled out here because the
 * musl toolchain of the static build carries no kernel headers. */
struct udp_ext_err {
    uint32_t ee_errno;
    uint8_t ee_origin;
    uint8_t ee_type;
    uint8_t ee_code;
    uint8_t ee_pad;
    uint32_t ee_info;
    uint32_t ee_data;
};
#define UDP_EE_ORIGIN_ICMP 2
#define UDP_EE_ORIGIN_ICMP6 3

struct loop_udp {
    struct loop_res res;
    struct loop *l;
    int fd;
    struct loop_addr addr;
    size_t max;
    uint8_t *rbuf;
    loop_udp_fn fn;
    void *ctx;
    loop_udp_refused_fn refused;
    uint64_t dropped;
};

/* With IP_RECVERR an unconnected socket also keeps the last ICMP error as a pending socket error,
 * which the next send or receive call returns instead of doing its work. Those errnos are news
 * about an earlier datagram, not about this call. */
static bool async_icmp_errno(int e)
{
    return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH || e == EHOSTDOWN;
}

/* Reads the socket's error queue: for each datagram the destination's host refused (ICMP or
 * ICMPv6 port unreachable), the callback gets the destination it was sent to. Other errors
 * (no route, TTL, fragmentation) are dropped: they say nothing about whether a peer listens. */
static void udp_drain_errors(struct loop_udp *u)
{
    for (int i = 0; i < UDP_RECVS_PER_EVENT && !u->res.dead; i++) {
        struct loop_addr to = {.len = sizeof to.ss};
        uint8_t sink[1];
        struct iovec iov = {.iov_base = sink, .iov_len = sizeof sink};
        union {
            struct cmsghdr align;
            uint8_t buf[CMSG_SPACE(sizeof(struct udp_ext_err) + sizeof(struct sockaddr_in6))];
        } ctl;
        struct msghdr msg = {.msg_name = &to.ss, .msg_namelen = to.len, .msg_iov = &iov,
                             .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
        ssize_t n = recvmsg(u->fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return; /* EAGAIN: the queue is empty */
        }
        to.len = msg.msg_namelen;
        bool refused = false;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR;
            bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR;
            if ((!v4 && !v6) || c->cmsg_len < CMSG_LEN(sizeof(struct udp_ext_err)))
                continue;
            struct udp_ext_err ee;
            memcpy(&ee, CMSG_DATA(c), sizeof ee);
            refused = ee.ee_errno == ECONNREFUSED &&
                      (ee.ee_origin == UDP_EE_ORIGIN_ICMP || ee.ee_origin == UDP_EE_ORIGIN_ICMP6);
        }
        if (refused && to.len > 0 && to.len <= sizeof to.ss)
            u->refused(u, &to, u->ctx);
    }
}

static void udp_event(struct loop *l, int fd, int mask, void *ctx)
{
    struct loop_udp *u = ctx;
    /* A non-empty error queue is what raises EPOLLERR on a datagram socket: no extra syscall
     * per datagram event otherwise. */
    if (u->refused && (mask & LOOP_HUP))
        udp_drain_errors(u);
    for (int i = 0; i < UDP_RECVS_PER_EVENT && !u->res.dead; i++) {
        struct loop_addr from = {.len = sizeof from.ss};
        /* MSG_TRUNC makes Linux return the datagram's real length, so an oversized one is
         * recognised and dropped instead of being handed over cut short. */
        ssize_t n = recvfrom(fd, u->rbuf, u->max, MSG_TRUNC, (struct sockaddr *)&from.ss,
                             &from.len);
        if (n < 0) {
            if (errno == EINTR || (u->refused && async_icmp_errno(errno)))
                continue; /* the pending error is cleared by reporting it */
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                log_printf(l->log, LOG_DEBUG, "loop", "udp recvfrom: %s", strerror(errno));
            return;
        }
        if ((size_t)n > u->max) {
            u->dropped++;
            log_printf(l->log, LOG_DEBUG, "loop", "dropped a %zd-byte datagram (limit %zu)", n,
                       u->max);
            continue;
        }
        u->fn(u, u->rbuf, (size_t)n, &from, u->ctx);
    }
}

static void udp_finish(struct loop_res *r)
{
    struct loop_udp *u = (struct loop_udp *)r;
    loop_file_unwatch(u->l, u->fd);
    close(u->fd);
    free(u->rbuf);
    free(u);
}

struct loop_udp *loop_udp_bind(struct loop *l, const char *addr, size_t max_datagram,
                               loop_udp_fn fn, void *ctx, char *err, size_t errlen)
{
    struct loop_addr a;
    char e[160];
    if (loop_addr_parse(addr, &a, e, sizeof e) != 0) {
        loop_seterr(err, errlen, "udp bind: %s", e);
        return NULL;
    }
    if (loop_shutting_down(l)) {
        loop_seterr(err, errlen, "udp bind %s: loop is shutting down", addr);
        return NULL;
    }
    struct loop_udp *u = calloc(1, sizeof *u);
    size_t max = max_datagram ? max_datagram : UDP_DEFAULT_MAX;
    uint8_t *rbuf = malloc(max);
    if (u == NULL || rbuf == NULL) {
        free(u);
        free(rbuf);
        loop_seterr(err, errlen, "udp bind %s: out of memory", addr);
        return NULL;
    }
    /* No SO_REUSEADDR here: on Linux it would let a second agent bind the same UDP port and
     * silently steal half of the gossip. */
    int fd = socket(a.ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const char *step = "socket";
    if (fd < 0)
        goto fail;
    step = "bind";
    if (bind(fd, (struct sockaddr *)&a.ss, a.len) != 0)
        goto fail;
    step = "getsockname";
    a.len = sizeof a.ss;
    if (getsockname(fd, (struct sockaddr *)&a.ss, &a.len) != 0)
        goto fail;
    step = "epoll";
    if (loop_file_watch(l, fd, LOOP_READ, udp_event, u) != 0)
        goto fail;
    u->l = l;
    u->fd = fd;
    u->addr = a;
    u->max = max;
    u->rbuf = rbuf;
    u->fn = fn;
    u->ctx = ctx;
    loop_res_add(l, &u->res, udp_finish);
    return u;
fail:
    loop_seterr(err, errlen, "udp bind %s: %s: %s", addr, step, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(u);
    free(rbuf);
    return NULL;
}

int loop_udp_send(struct loop_udp *u, const struct loop_addr *to, const void *p, size_t n)
{
    if (u->res.dead) {
        errno = EBADF;
        return -1;
    }
    /* One retry for an earlier datagram's pending ICMP error: reporting it cleared it. */
    for (int pending = u->refused ? 1 : 0;;) {
        ssize_t w = sendto(u->fd, p, n, 0, (const struct sockaddr *)&to->ss, to->len);
        if (w >= 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (pending-- > 0 && async_icmp_errno(errno))
            continue;
        return -1;
    }
}

int loop_udp_on_refused(struct loop_udp *u, loop_udp_refused_fn fn)
{
    int on = 1;
    int rc = u->addr.ss.ss_family == AF_INET6
                 ? setsockopt(u->fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on)
                 : setsockopt(u->fd, IPPROTO_IP, IP_RECVERR, &on, sizeof on);
    if (rc != 0)
        return -1;
    u->refused = fn;
    return 0;
}

const struct loop_addr *loop_udp_addr(const struct loop_udp *u)
{
    return &u->addr;
}

uint64_t loop_udp_dropped(const struct loop_udp *u)
{
    return u->dropped;
}

void loop_udp_close(struct loop_udp *u)
{
    if (u->res.dead)
        return;
    loop_file_mask(u->l, u->fd, 0);
    loop_res_kill(u->l, &u->res);
}
