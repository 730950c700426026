/* loop.c — the reactor's iteration (hooks, output flush, epoll wait, file events, timers, deferred
 * closes), its fd table, before-sleep hooks and signalfd. Modelled on Redis ae.c, minus globals. */
#include "loop/loop_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define LOOP_MAX_EVENTS 128

void loop_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

uint64_t loop_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct loop *loop_create(const struct logger *lg, char *err, size_t errlen)
{
    struct loop *l = calloc(1, sizeof *l);
    if (l == NULL) {
        loop_seterr(err, errlen, "loop: out of memory");
        return NULL;
    }
    l->log = lg;
    l->free_timer = UINT32_MAX;
    l->sigfd = -1;
    sigemptyset(&l->sigmask);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        loop_seterr(err, errlen, "loop: epoll_create1: %s", strerror(errno));
        free(l);
        return NULL;
    }
    return l;
}

const struct logger *loop_logger(const struct loop *l)
{
    return l->log;
}

void loop_stop(struct loop *l)
{
    l->stop = true;
}

/* ---- owned objects and deferred close ---- */

void loop_res_add(struct loop *l, struct loop_res *r, void (*finish)(struct loop_res *r))
{
    r->finish = finish;
    r->dead = false;
    r->next_dead = NULL;
    r->prev = NULL;
    r->next = l->live;
    if (l->live != NULL)
        l->live->prev = r;
    l->live = r;
}

void loop_res_kill(struct loop *l, struct loop_res *r)
{
    if (r->dead)
        return;
    r->dead = true;
    r->next_dead = l->dead;
    l->dead = r;
}

/* Runs from the top of the loop only: no callback of a dead object is on the stack here. */
static void reap(struct loop *l)
{
    while (l->dead != NULL) {
        struct loop_res *r = l->dead;
        l->dead = r->next_dead;
        if (r->prev != NULL)
            r->prev->next = r->next;
        else
            l->live = r->next;
        if (r->next != NULL)
            r->next->prev = r->prev;
        r->finish(r); /* may kill more objects: they join l->dead and are reaped in this loop */
    }
}

bool loop_shutting_down(const struct loop *l)
{
    return l->shutting_down;
}

/* ---- file events ---- */

static uint32_t epoll_bits(int mask)
{
    return (mask & LOOP_READ ? EPOLLIN : 0u) | (mask & LOOP_WRITE ? EPOLLOUT : 0u);
}

int loop_file_watch(struct loop *l, int fd, int mask, loop_file_fn fn, void *ctx)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if ((size_t)fd >= l->nfiles) {
        size_t n = l->nfiles ? l->nfiles : 64;
        while (n <= (size_t)fd)
            n *= 2;
        struct loop_file *f = realloc(l->files, n * sizeof *f);
        if (f == NULL) {
            errno = ENOMEM;
            return -1;
        }
        memset(f + l->nfiles, 0, (n - l->nfiles) * sizeof *f);
        l->files = f;
        l->nfiles = n;
    }
    struct loop_file *f = &l->files[fd];
    bool add = !f->used;
    uint32_t gen = add ? f->gen + 1 : f->gen;
    struct epoll_event ev = {.events = epoll_bits(mask),
                             .data.u64 = (uint64_t)gen << 32 | (uint32_t)fd};
    int rc = epoll_ctl(l->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
    if (rc != 0 && !add && errno == ENOENT) {
        /* The owner closed the fd without unwatching (epoll forgot it) and this is a new file
         * with the same number: register it afresh, under a new generation. */
        gen++;
        ev.data.u64 = (uint64_t)gen << 32 | (uint32_t)fd;
        rc = epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
    }
    if (rc != 0)
        return -1;
    f->gen = gen;
    f->used = true;
    f->mask = mask & (LOOP_READ | LOOP_WRITE);
    f->fn = fn;
    f->ctx = ctx;
    return 0;
}

int loop_file_mask(struct loop *l, int fd, int mask)
{
    if (fd < 0 || (size_t)fd >= l->nfiles || !l->files[fd].used) {
        errno = ENOENT;
        return -1;
    }
    struct loop_file *f = &l->files[fd];
    mask &= LOOP_READ | LOOP_WRITE;
    if (mask == f->mask)
        return 0;
    struct epoll_event ev = {.events = epoll_bits(mask),
                             .data.u64 = (uint64_t)f->gen << 32 | (uint32_t)fd};
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) != 0)
        return -1;
    f->mask = mask;
    return 0;
}

void loop_file_unwatch(struct loop *l, int fd)
{
    if (fd < 0 || (size_t)fd >= l->nfiles || !l->files[fd].used)
        return;
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    l->files[fd].used = false;
    l->files[fd].fn = NULL;
    l->files[fd].ctx = NULL;
}

static void dispatch(struct loop *l, const struct epoll_event *evs, int n)
{
    for (int i = 0; i < n; i++) {
        int fd = (int)(uint32_t)evs[i].data.u64;
        uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
        /* An earlier callback of this batch may have unwatched fd, or closed it and let the number
         * be reused: the generation tells the stale event apart. */
        if ((size_t)fd >= l->nfiles || !l->files[fd].used || l->files[fd].gen != gen)
            continue;
        const struct loop_file *f = &l->files[fd];
        uint32_t e = evs[i].events;
        int mask = (e & EPOLLIN ? LOOP_READ : 0) | (e & EPOLLOUT ? LOOP_WRITE : 0);
        mask &= f->mask;
        if (e & (EPOLLERR | EPOLLHUP))
            mask |= LOOP_HUP;
        if (mask != 0)
            f->fn(l, fd, mask, f->ctx);
    }
}

/* ---- before-sleep hooks ---- */

uint64_t loop_before_sleep_add(struct loop *l, loop_hook_fn fn, void *ctx)
{
    if (l->nhooks == l->hooks_cap) {
        size_t n = l->hooks_cap ? l->hooks_cap * 2 : 4;
        struct loop_hook *h = realloc(l->hooks, n * sizeof *h);
        if (h == NULL)
            return 0;
        l->hooks = h;
        l->hooks_cap = n;
    }
    uint64_t id = ++l->hook_seq;
    l->hooks[l->nhooks++] = (struct loop_hook){.fn = fn, .ctx = ctx, .id = id};
    return id;
}

void loop_before_sleep_del(struct loop *l, uint64_t id)
{
    /* Only marked: the hook list may be mid-walk; run_hooks compacts it afterwards. */
    for (size_t i = 0; i < l->nhooks; i++) {
        if (l->hooks[i].id == id && l->hooks[i].fn != NULL) {
            l->hooks[i].fn = NULL;
            l->hooks_dirty = true;
        }
    }
}

static void run_hooks(struct loop *l)
{
    for (size_t i = 0; i < l->nhooks; i++) {
        loop_hook_fn fn = l->hooks[i].fn;
        if (fn != NULL)
            fn(l, l->hooks[i].ctx);
    }
    if (l->hooks_dirty) {
        size_t k = 0;
        for (size_t i = 0; i < l->nhooks; i++)
            if (l->hooks[i].fn != NULL)
                l->hooks[k++] = l->hooks[i];
        l->nhooks = k;
        l->hooks_dirty = false;
    }
}

/* ---- signals ---- */

static void on_signalfd(struct loop *l, int fd, int mask, void *ctx)
{
    (void)mask;
    (void)ctx;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        int signo = (int)si.ssi_signo;
        if (signo > 0 && signo < (int)(sizeof l->sig / sizeof l->sig[0]) && l->sig[signo].fn)
            l->sig[signo].fn(l, signo, l->sig[signo].ctx);
    }
}

int loop_signal_on(struct loop *l, int signo, loop_signal_fn cb, void *ctx, char *err,
                   size_t errlen)
{
    if (signo <= 0 || signo >= (int)(sizeof l->sig / sizeof l->sig[0]) || signo == SIGKILL ||
        signo == SIGSTOP) {
        loop_seterr(err, errlen, "loop: signal %d cannot be watched", signo);
        return -1;
    }
    if (cb == NULL) {
        l->sig[signo].fn = NULL;
        l->sig[signo].ctx = NULL;
        return 0;
    }
    if (!l->sig_saved) {
        sigprocmask(SIG_SETMASK, NULL, &l->old_mask);
        l->sig_saved = true;
    }
    sigset_t mask = l->sigmask;
    sigaddset(&mask, signo);
    /* Blocked first, so a signal arriving between here and the read is queued, not lost. */
    if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0) {
        loop_seterr(err, errlen, "loop: sigprocmask: %s", strerror(errno));
        return -1;
    }
    int fd = signalfd(l->sigfd, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        loop_seterr(err, errlen, "loop: signalfd: %s", strerror(errno));
        return -1;
    }
    if (l->sigfd < 0) {
        if (loop_file_watch(l, fd, LOOP_READ, on_signalfd, NULL) != 0) {
            loop_seterr(err, errlen, "loop: watching signalfd: %s", strerror(errno));
            close(fd);
            return -1;
        }
        l->sigfd = fd;
    }
    l->sigmask = mask;
    l->sig[signo].fn = cb;
    l->sig[signo].ctx = ctx;
    return 0;
}

static void signals_release(struct loop *l)
{
    if (l->sigfd < 0)
        return;
    /* Signals still queued are consumed here rather than delivered with their default action
     * (termination) the moment they are unblocked. */
    struct signalfd_siginfo si;
    while (read(l->sigfd, &si, sizeof si) == (ssize_t)sizeof si)
        ;
    loop_file_unwatch(l, l->sigfd);
    close(l->sigfd);
    l->sigfd = -1;
    sigset_t unblock;
    sigemptyset(&unblock);
    for (int s = 1; s < (int)(sizeof l->sig / sizeof l->sig[0]); s++)
        if (sigismember(&l->sigmask, s) == 1 && sigismember(&l->old_mask, s) != 1)
            sigaddset(&unblock, s);
    sigprocmask(SIG_UNBLOCK, &unblock, NULL);
}

/* ---- iteration ---- */

int loop_run_once(struct loop *l, int max_wait_ms)
{
    /* Order matters: hooks first (the log fsyncs its batch), then the replies that depend on it,
     * then the closes that the flush or the hooks asked for. */
    run_hooks(l);
    loop_tcp_flush_pending(l);
    reap(l);

    int timeout = loop_timers_wait_ms(l, loop_now_ms());
    if (max_wait_ms >= 0 && (timeout < 0 || timeout > max_wait_ms))
        timeout = max_wait_ms;
    /* on_close callbacks run by reap may have queued output or closes: do not sleep on them. */
    if (l->stop || l->pending != NULL || l->dead != NULL)
        timeout = 0;

    struct epoll_event evs[LOOP_MAX_EVENTS];
    int n = epoll_wait(l->epfd, evs, LOOP_MAX_EVENTS, timeout);
    if (n < 0) {
        if (errno != EINTR) {
            log_printf(l->log, LOG_ERR, "loop", "epoll_wait: %s", strerror(errno));
            return -1;
        }
        n = 0;
    }
    dispatch(l, evs, n);
    loop_timers_run(l);
    reap(l);
    return n;
}

int loop_run(struct loop *l)
{
    l->stop = false;
    while (!l->stop)
        if (loop_run_once(l, -1) < 0)
            return -1;
    return 0;
}

void loop_destroy(struct loop *l)
{
    if (l == NULL)
        return;
    /* Owners hear LOOP_CLOSE_SHUTDOWN; creating new sockets from those callbacks is refused so
     * that a reconnect-on-close owner cannot keep this from finishing. */
    l->shutting_down = true;
    for (struct loop_res *r = l->live; r != NULL; r = r->next)
        loop_res_kill(l, r);
    reap(l);
    signals_release(l);
    loop_timers_free(l);
    free(l->hooks);
    free(l->files);
    close(l->epfd);
    free(l);
}
