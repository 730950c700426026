/* loop.h — the reactor: one epoll loop per process driving file events, a timer heap on
 * CLOCK_MONOTONIC milliseconds, before-sleep hooks and signals read through a signalfd. No threads. */
#ifndef TRIBUNE_LOOP_LOOP_H
#define TRIBUNE_LOOP_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "base/log.h"

struct loop;

/* File event masks. LOOP_HUP is only ever reported, never requested: the kernel signals errors and
 * hang-ups even on an fd whose interest is empty, and a watcher that ignores it would spin. */
enum { LOOP_READ = 1, LOOP_WRITE = 2, LOOP_HUP = 4 };

typedef void (*loop_file_fn)(struct loop *l, int fd, int mask, void *ctx);
typedef void (*loop_timer_fn)(struct loop *l, uint64_t id, void *ctx);
typedef void (*loop_hook_fn)(struct loop *l, void *ctx);
typedef void (*loop_signal_fn)(struct loop *l, int signo, void *ctx);

/* A loop logging through lg (may be NULL; must outlive the loop). NULL on failure, with the reason
 * in err (errlen bytes; err may be NULL). */
struct loop *loop_create(const struct logger *lg, char *err, size_t errlen);

/* Closes every connection, listener and UDP socket still open (their owners get on_close with
 * LOOP_CLOSE_SHUTDOWN), restores the signal mask and frees the loop. Not from inside a callback. */
void loop_destroy(struct loop *l);

/* Runs iterations until loop_stop. 0 after a stop, -1 if epoll itself failed (logged). */
int loop_run(struct loop *l);

/* One iteration: before-sleep hooks, flush of pending output, wait (at most max_wait_ms when that
 * is >= 0, else until the next timer or event), file events, due timers, deferred closes.
 * Returns the number of file events epoll reported, or -1 if epoll failed. */
int loop_run_once(struct loop *l, int max_wait_ms);

/* Makes loop_run return after the current iteration. Safe from any callback. */
void loop_stop(struct loop *l);

const struct logger *loop_logger(const struct loop *l);

/* CLOCK_MONOTONIC in milliseconds: never jumps with the wall clock, so deadlines survive NTP. */
uint64_t loop_now_ms(void);

/* File events, level-triggered. watch registers fd (or replaces its mask, callback and context);
 * mask 0 keeps the registration but silences it. 0, or -1 with errno set. Unwatching inside a
 * callback is safe: events already collected for that fd in this iteration are dropped, even if
 * the fd number is reused at once. */
int loop_file_watch(struct loop *l, int fd, int mask, loop_file_fn fn, void *ctx);
int loop_file_mask(struct loop *l, int fd, int mask);
void loop_file_unwatch(struct loop *l, int fd);

/* One-shot timer firing after ms milliseconds. Returns its id (never 0), or 0 if out of memory.
 * A callback re-arms by adding a new timer; a timer added by a callback never fires in the same
 * pass, so a 0 ms re-arm cannot starve the loop. Timers with equal deadlines fire in the order
 * they were added. */
uint64_t loop_timer_add(struct loop *l, uint64_t ms, loop_timer_fn fn, void *ctx);

/* Cancels a pending timer, also from inside another timer's callback. 0 if it was pending, -1 if
 * the id is unknown, has fired or was cancelled already (stale ids never hit a newer timer). */
int loop_timer_cancel(struct loop *l, uint64_t id);

/* Number of pending timers. */
size_t loop_timer_count(const struct loop *l);

/* Hooks run at the start of every iteration, in registration order, BEFORE pending connection
 * output is written: this is where the Raft log fsyncs its batch, so that no reply or ack leaves
 * the process before the entries it depends on are durable. Returns an id (never 0), 0 on OOM. */
uint64_t loop_before_sleep_add(struct loop *l, loop_hook_fn fn, void *ctx);
void loop_before_sleep_del(struct loop *l, uint64_t id);

/* Delivers signo through the loop's signalfd instead of an async handler: the signal is blocked
 * and cb runs as an ordinary event. Meant for SIGINT, SIGTERM and SIGHUP; cb NULL stops watching
 * (the signal stays blocked until loop_destroy). 0, or -1 with the reason in err. */
int loop_signal_on(struct loop *l, int signo, loop_signal_fn cb, void *ctx, char *err,
                   size_t errlen);

#endif
