/* loop_impl.h — private to src/loop: the loop's layout and the glue between its files (timer heap,
 * owned socket objects with deferred close, the pending-output list). Nothing outside includes it. */
#ifndef TRIBUNE_LOOP_LOOP_IMPL_H
#define TRIBUNE_LOOP_LOOP_IMPL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop/loop.h"

struct loop_conn;

struct loop_file {
    loop_file_fn fn;
    void *ctx;
    uint32_t gen; /* bumped on every registration, carried in epoll data to spot stale events */
    int mask;
    bool used;
};

struct loop_timer {
    uint64_t deadline; /* loop_now_ms() at which it is due */
    uint64_t seq;      /* insertion order: ties on deadline, and "added during this pass" */
    loop_timer_fn fn;
    void *ctx;
    uint32_t gen;  /* bumped when the slot is taken; the id carries it so stale ids miss */
    int32_t pos;   /* index in the heap, -1 when the slot is free */
    uint32_t next_free;
};

struct loop_hook {
    loop_hook_fn fn; /* NULL once deleted; compacted after the pass */
    void *ctx;
    uint64_t id;
};

/* Every socket object the loop owns starts with this. Closing only marks it dead and queues it;
 * finish() runs from the top of the loop, so no callback ever frees an object still in use. */
struct loop_res {
    struct loop_res *prev, *next; /* all live objects, for loop_destroy */
    struct loop_res *next_dead;
    void (*finish)(struct loop_res *r); /* closes the fd, tells the owner, frees */
    bool dead;
};

struct loop {
    int epfd;
    const struct logger *log;
    bool stop;
    bool shutting_down; /* loop_destroy is closing everything: no new sockets */

    struct loop_file *files; /* indexed by fd */
    size_t nfiles;

    struct loop_timer *timers; /* slots */
    uint32_t ntimers;
    uint32_t free_timer; /* head of the free-slot list, UINT32_MAX when empty */
    uint32_t *heap;      /* slot indices, min-heap on (deadline, seq) */
    uint32_t heap_len;
    uint64_t timer_seq;

    struct loop_hook *hooks;
    size_t nhooks, hooks_cap;
    uint64_t hook_seq;
    bool hooks_dirty;

    int sigfd;
    sigset_t sigmask;  /* signals routed to sigfd */
    sigset_t old_mask; /* the process mask before the first loop_signal_on */
    bool sig_saved;
    struct {
        loop_signal_fn fn;
        void *ctx;
    } sig[65];

    struct loop_res *live;
    struct loop_res *dead;
    struct loop_conn *pending; /* connections with output to write after the hooks */
};

void loop_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void loop_res_add(struct loop *l, struct loop_res *r, void (*finish)(struct loop_res *r));
void loop_res_kill(struct loop *l, struct loop_res *r);
bool loop_shutting_down(const struct loop *l);

/* timer.c */
int loop_timers_wait_ms(const struct loop *l, uint64_t now); /* -1: no timer */
void loop_timers_run(struct loop *l);
void loop_timers_free(struct loop *l);

/* tcp.c: writes the output of every pending connection (called after the hooks). */
void loop_tcp_flush_pending(struct loop *l);

#endif
