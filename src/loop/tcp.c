/* tcp.c — TCP listeners and connections with bounded input and output buffers (Redis networking.c
 * in miniature): output is queued and written after the before-sleep hooks, a writable event is
 * installed only while the socket would block, and every close is deferred to the top of the loop. */
#include "loop/net.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loop/loop_impl.h"

#define CONN_DEFAULT_IN_LIMIT (1u << 20)
#define CONN_DEFAULT_OUT_LIMIT (4u << 20)
#define CONN_READ_CHUNK 65536u
#define CONN_SHRINK_ABOVE (256u << 10) /* an idle buffer bigger than this is released */
#define LISTEN_BACKLOG 511
#define ACCEPTS_PER_EVENT 64    /* fairness: other fds get their turn during a connect storm */
#define ACCEPT_RETRY_MS 100     /* pause after running out of fds, instead of spinning */

struct loop_conn {
    struct loop_res res; /* first: the loop hands back a struct loop_res * */
    struct loop *l;
    int fd;
    const char *name;
    struct loop_addr peer;
    struct buf in, out;
    struct loop_conn_cbs cbs;
    void *ctx;
    struct loop_conn *pend_prev, *pend_next;
    bool pending;    /* on l->pending: output to write after the hooks */
    bool connecting; /* outbound, connect not completed */
    bool paused;     /* reading stopped by the owner */
    bool ending;     /* reading stopped; close once out is empty */
    bool want_write; /* the socket would block: writable event installed */
    bool peer_eof;   /* the peer half-closed while replies were still queued */
    enum loop_close_reason why;
    int err;
};

struct loop_listener {
    struct loop_res res;
    struct loop *l;
    int fd;
    struct loop_addr addr;
    struct loop_conn_opts opts;
    struct loop_conn_cbs cbs;
    loop_accept_fn on_accept;
    void *ctx;
    uint64_t retry_timer;
};

const char *loop_close_reason_str(enum loop_close_reason why)
{
    switch (why) {
    case LOOP_CLOSE_SHUTDOWN: return "shutdown";
    case LOOP_CLOSE_LOCAL: return "closed locally";
    case LOOP_CLOSE_EOF: return "closed by peer";
    case LOOP_CLOSE_ERROR: return "socket error";
    case LOOP_CLOSE_CONNECT: return "connect failed";
    case LOOP_CLOSE_IN_LIMIT: return "input limit exceeded";
    case LOOP_CLOSE_OUT_LIMIT: return "output limit exceeded";
    }
    return "unknown";
}

/* ---- connections ---- */

static void pending_add(struct loop_conn *c)
{
    if (c->pending || c->res.dead || c->connecting)
        return;
    struct loop *l = c->l;
    c->pending = true;
    c->pend_prev = NULL;
    c->pend_next = l->pending;
    if (l->pending != NULL)
        l->pending->pend_prev = c;
    l->pending = c;
}

static void pending_remove(struct loop_conn *c)
{
    if (!c->pending)
        return;
    if (c->pend_prev != NULL)
        c->pend_prev->pend_next = c->pend_next;
    else
        c->l->pending = c->pend_next;
    if (c->pend_next != NULL)
        c->pend_next->pend_prev = c->pend_prev;
    c->pending = false;
    c->pend_prev = c->pend_next = NULL;
}

static void conn_kill(struct loop_conn *c, enum loop_close_reason why, int err)
{
    if (c->res.dead)
        return;
    c->why = why;
    c->err = err;
    pending_remove(c);
    loop_file_mask(c->l, c->fd, 0); /* no more events until reaped */
    loop_res_kill(c->l, &c->res);
}

static void conn_update_mask(struct loop_conn *c)
{
    if (c->res.dead)
        return;
    int mask = 0;
    if (c->connecting)
        mask = LOOP_WRITE;
    else
        mask = (c->paused || c->ending ? 0 : LOOP_READ) | (c->want_write ? LOOP_WRITE : 0);
    if (loop_file_mask(c->l, c->fd, mask) != 0)
        conn_kill(c, LOOP_CLOSE_ERROR, errno);
}

static int sock_error(int fd)
{
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
        return errno;
    return e;
}

static void conn_finish(struct loop_res *r)
{
    struct loop_conn *c = (struct loop_conn *)r;
    loop_file_unwatch(c->l, c->fd);
    close(c->fd);
    if (c->cbs.on_close != NULL)
        c->cbs.on_close(c, c->why, c->err, c->ctx);
    buf_free(&c->in);
    buf_free(&c->out);
    free(c);
}

static void conn_write_out(struct loop_conn *c)
{
    if (c->res.dead || c->connecting)
        return;
    size_t off = 0;
    while (off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + off, c->out.len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        conn_kill(c, LOOP_CLOSE_ERROR, n < 0 ? errno : EPIPE);
        return;
    }
    buf_consume(&c->out, off);
    if (c->out.len == 0 && c->out.cap > CONN_SHRINK_ABOVE)
        buf_free(&c->out); /* keeps the limit; a burst does not pin its memory forever */
    bool blocked = c->out.len > 0;
    if (blocked != c->want_write) {
        c->want_write = blocked;
        conn_update_mask(c);
    }
    if (!blocked && c->ending)
        conn_kill(c, c->peer_eof ? LOOP_CLOSE_EOF : LOOP_CLOSE_LOCAL, 0);
}

void loop_tcp_flush_pending(struct loop *l)
{
    while (l->pending != NULL) {
        struct loop_conn *c = l->pending;
        pending_remove(c);
        conn_write_out(c);
    }
}

static void conn_in_limit(struct loop_conn *c)
{
    char a[LOOP_ADDR_STRLEN];
    log_printf(c->l->log, LOG_WARN, c->name,
               "closing connection from %s: input limit of %zu bytes exceeded",
               loop_addr_format(&c->peer, a, sizeof a), c->in.limit);
    conn_kill(c, LOOP_CLOSE_IN_LIMIT, 0);
}

static void conn_read(struct loop_conn *c)
{
    size_t room = c->in.limit - c->in.len;
    if (room == 0) {
        conn_in_limit(c);
        return;
    }
    size_t want = room < CONN_READ_CHUNK ? room : CONN_READ_CHUNK;
    if (buf_reserve(&c->in, want) != 0) {
        conn_kill(c, LOOP_CLOSE_ERROR, ENOMEM);
        return;
    }
    ssize_t n = recv(c->fd, c->in.data + c->in.len, want, 0);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            conn_kill(c, LOOP_CLOSE_ERROR, errno);
        return;
    }
    if (n == 0) {
        /* A peer that half-closes after its request still gets the replies already queued. */
        if (c->out.len > 0) {
            c->peer_eof = true;
            loop_conn_end(c);
        } else {
            conn_kill(c, LOOP_CLOSE_EOF, 0);
        }
        return;
    }
    c->in.len += (size_t)n;
    c->cbs.on_data(c, &c->in, c->ctx);
    if (c->res.dead)
        return;
    if (c->in.len == 0 && c->in.cap > CONN_SHRINK_ABOVE)
        buf_free(&c->in);
    /* A full buffer the owner could not consume holds a message larger than the limit: waiting
     * for more bytes cannot help, and reading on would grow without bound. */
    if (!c->paused && !c->ending && c->in.len >= c->in.limit) {
        conn_in_limit(c);
    }
}

static void conn_event(struct loop *l, int fd, int mask, void *ctx)
{
    (void)l;
    (void)fd;
    struct loop_conn *c = ctx;
    if (c->res.dead)
        return;
    if (c->connecting) {
        int e = sock_error(c->fd);
        if (e != 0) {
            conn_kill(c, LOOP_CLOSE_CONNECT, e);
            return;
        }
        c->connecting = false;
        conn_update_mask(c);
        if (c->out.len > 0 || c->ending)
            pending_add(c);
        if (c->cbs.on_connect != NULL)
            c->cbs.on_connect(c, c->ctx);
        return;
    }
    if ((mask & LOOP_HUP) && !(mask & LOOP_READ)) {
        /* Not reading (paused, or draining output), so no read will surface the hang-up. */
        int e = sock_error(c->fd);
        conn_kill(c, e ? LOOP_CLOSE_ERROR : LOOP_CLOSE_EOF, e);
        return;
    }
    /* The write itself waits for the hooks: an ack queued here must not overtake the fsync. */
    if (mask & LOOP_WRITE)
        pending_add(c);
    if (mask & LOOP_READ)
        conn_read(c);
}

static struct loop_conn *conn_new(struct loop *l, int fd, const struct loop_conn_opts *opts,
                                  const struct loop_conn_cbs *cbs, void *ctx, bool connecting)
{
    struct loop_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->l = l;
    c->fd = fd;
    c->name = opts && opts->name ? opts->name : "loop";
    buf_init(&c->in, opts && opts->in_limit ? opts->in_limit : CONN_DEFAULT_IN_LIMIT);
    buf_init(&c->out, opts && opts->out_limit ? opts->out_limit : CONN_DEFAULT_OUT_LIMIT);
    c->cbs = *cbs;
    c->ctx = ctx;
    c->connecting = connecting;
    c->why = LOOP_CLOSE_SHUTDOWN;
    if (loop_file_watch(l, fd, connecting ? LOOP_WRITE : LOOP_READ, conn_event, c) != 0) {
        free(c);
        return NULL;
    }
    loop_res_add(l, &c->res, conn_finish);
    return c;
}

static void set_nodelay(int fd)
{
    int one = 1;
    /* Raft heartbeats and small replies must not wait for Nagle's 40 ms. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

struct loop_conn *loop_tcp_connect(struct loop *l, const struct loop_addr *to,
                                   const struct loop_conn_opts *opts,
                                   const struct loop_conn_cbs *cbs, void *ctx, char *err,
                                   size_t errlen)
{
    char a[LOOP_ADDR_STRLEN];
    loop_addr_format(to, a, sizeof a);
    if (cbs == NULL || cbs->on_data == NULL) {
        loop_seterr(err, errlen, "connect to %s: no on_data callback", a);
        return NULL;
    }
    if (loop_shutting_down(l)) {
        loop_seterr(err, errlen, "connect to %s: loop is shutting down", a);
        return NULL;
    }
    int fd = socket(to->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        loop_seterr(err, errlen, "connect to %s: socket: %s", a, strerror(errno));
        return NULL;
    }
    set_nodelay(fd);
    if (connect(fd, (const struct sockaddr *)&to->ss, to->len) != 0 && errno != EINPROGRESS) {
        loop_seterr(err, errlen, "connect to %s: %s", a, strerror(errno));
        close(fd);
        return NULL;
    }
    struct loop_conn *c = conn_new(l, fd, opts, cbs, ctx, true);
    if (c == NULL) {
        loop_seterr(err, errlen, "connect to %s: %s", a, strerror(errno ? errno : ENOMEM));
        close(fd);
        return NULL;
    }
    c->peer = *to;
    return c;
}

int loop_conn_write(struct loop_conn *c, const void *p, size_t n)
{
    if (c->res.dead || c->ending) {
        errno = EPIPE;
        return -1;
    }
    if (n == 0)
        return 0;
    if (n > c->out.limit - c->out.len) {
        char a[LOOP_ADDR_STRLEN];
        log_printf(c->l->log, LOG_WARN, c->name,
                   "closing connection to %s: output limit of %zu bytes exceeded (%zu queued, "
                   "%zu more)",
                   loop_addr_format(&c->peer, a, sizeof a), c->out.limit, c->out.len, n);
        conn_kill(c, LOOP_CLOSE_OUT_LIMIT, 0);
        errno = ENOBUFS;
        return -1;
    }
    if (buf_append(&c->out, p, n) != 0) {
        conn_kill(c, LOOP_CLOSE_ERROR, ENOMEM);
        errno = ENOMEM;
        return -1;
    }
    pending_add(c);
    return 0;
}

void loop_conn_flush(struct loop_conn *c)
{
    pending_remove(c);
    conn_write_out(c);
}

size_t loop_conn_out_pending(const struct loop_conn *c)
{
    return c->out.len;
}

void loop_conn_pause_read(struct loop_conn *c)
{
    c->paused = true;
    conn_update_mask(c);
}

void loop_conn_resume_read(struct loop_conn *c)
{
    c->paused = false;
    conn_update_mask(c);
}

void loop_conn_close(struct loop_conn *c)
{
    conn_kill(c, LOOP_CLOSE_LOCAL, 0);
}

void loop_conn_end(struct loop_conn *c)
{
    if (c->res.dead || c->ending)
        return;
    c->ending = true;
    conn_update_mask(c);
    /* Checked at the flush, which also closes a connection with nothing left to send. */
    if (c->connecting)
        return;
    pending_add(c);
}

bool loop_conn_closing(const struct loop_conn *c)
{
    return c->res.dead || c->ending;
}

void loop_conn_set_ctx(struct loop_conn *c, void *ctx)
{
    c->ctx = ctx;
}

void *loop_conn_ctx(const struct loop_conn *c)
{
    return c->ctx;
}

struct loop *loop_conn_loop(const struct loop_conn *c)
{
    return c->l;
}

const struct loop_addr *loop_conn_peer(const struct loop_conn *c)
{
    return &c->peer;
}

/* ---- listeners ---- */

static void listener_retry(struct loop *l, uint64_t id, void *ctx)
{
    (void)id;
    struct loop_listener *ls = ctx;
    ls->retry_timer = 0;
    if (!ls->res.dead)
        loop_file_mask(l, ls->fd, LOOP_READ);
}

static void listener_event(struct loop *l, int fd, int mask, void *ctx)
{
    (void)mask;
    struct loop_listener *ls = ctx;
    for (int i = 0; i < ACCEPTS_PER_EVENT && !ls->res.dead; i++) {
        struct loop_addr peer = {.len = sizeof peer.ss};
        int cfd = accept4(fd, (struct sockaddr *)&peer.ss, &peer.len,
                          SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            /* Out of fds or memory: the listener stays readable, so retry later, not at once. */
            int e = errno;
            char a[LOOP_ADDR_STRLEN];
            log_printf(l->log, LOG_WARN, ls->opts.name, "accept on %s: %s; pausing %d ms",
                       loop_addr_format(&ls->addr, a, sizeof a), strerror(e), ACCEPT_RETRY_MS);
            loop_file_mask(l, fd, 0);
            if (ls->retry_timer == 0)
                ls->retry_timer = loop_timer_add(l, ACCEPT_RETRY_MS, listener_retry, ls);
            if (ls->retry_timer == 0)
                loop_file_mask(l, fd, LOOP_READ);
            return;
        }
        set_nodelay(cfd);
        struct loop_conn *c = conn_new(l, cfd, &ls->opts, &ls->cbs, ls->ctx, false);
        if (c == NULL) {
            log_printf(l->log, LOG_WARN, ls->opts.name, "dropping accepted connection: %s",
                       strerror(errno ? errno : ENOMEM));
            close(cfd);
            continue;
        }
        c->peer = peer;
        if (ls->on_accept != NULL)
            ls->on_accept(ls, c, ls->ctx);
    }
}

static void listener_finish(struct loop_res *r)
{
    struct loop_listener *ls = (struct loop_listener *)r;
    if (ls->retry_timer != 0)
        loop_timer_cancel(ls->l, ls->retry_timer);
    loop_file_unwatch(ls->l, ls->fd);
    close(ls->fd);
    free(ls);
}

struct loop_listener *loop_tcp_listen(struct loop *l, const char *addr,
                                      const struct loop_conn_opts *opts,
                                      const struct loop_conn_cbs *cbs, loop_accept_fn on_accept,
                                      void *ctx, char *err, size_t errlen)
{
    struct loop_addr a;
    char e[160];
    if (loop_addr_parse(addr, &a, e, sizeof e) != 0) {
        loop_seterr(err, errlen, "listen: %s", e);
        return NULL;
    }
    if (cbs == NULL || cbs->on_data == NULL) {
        loop_seterr(err, errlen, "listen on %s: no on_data callback", addr);
        return NULL;
    }
    if (loop_shutting_down(l)) {
        loop_seterr(err, errlen, "listen on %s: loop is shutting down", addr);
        return NULL;
    }
    int fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        loop_seterr(err, errlen, "listen on %s: socket: %s", addr, strerror(errno));
        return NULL;
    }
    int one = 1;
    /* Restarting an agent must not wait out TIME_WAIT on its own ports. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const char *step = "bind";
    if (bind(fd, (struct sockaddr *)&a.ss, a.len) != 0)
        goto fail;
    step = "listen";
    if (listen(fd, LISTEN_BACKLOG) != 0)
        goto fail;
    step = "getsockname";
    a.len = sizeof a.ss;
    if (getsockname(fd, (struct sockaddr *)&a.ss, &a.len) != 0)
        goto fail;
    struct loop_listener *ls = calloc(1, sizeof *ls);
    step = "allocating";
    if (ls == NULL) {
        errno = ENOMEM;
        goto fail;
    }
    ls->l = l;
    ls->fd = fd;
    ls->addr = a;
    if (opts != NULL)
        ls->opts = *opts;
    if (ls->opts.name == NULL)
        ls->opts.name = "loop";
    ls->cbs = *cbs;
    ls->on_accept = on_accept;
    ls->ctx = ctx;
    step = "epoll";
    if (loop_file_watch(l, fd, LOOP_READ, listener_event, ls) != 0) {
        free(ls);
        goto fail;
    }
    loop_res_add(l, &ls->res, listener_finish);
    return ls;
fail:
    loop_seterr(err, errlen, "listen on %s: %s: %s", addr, step, strerror(errno));
    close(fd);
    return NULL;
}

const struct loop_addr *loop_listener_addr(const struct loop_listener *ls)
{
    return &ls->addr;
}

void loop_listener_close(struct loop_listener *ls)
{
    if (ls->res.dead)
        return;
    loop_file_mask(ls->l, ls->fd, 0);
    loop_res_kill(ls->l, &ls->res);
}
