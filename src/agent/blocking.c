/* blocking.c — Consul's blocking queries (?index=N&wait=D): a read whose result index is not past
 * N is parked until the state changes (then re-run) or the wait ends (then answered as it is). */
#include <stdlib.h>

#include "agent/agent_impl.h"

struct agent_waiter {
    struct agent_waiter *next;
    struct agent *a;
    struct http_req *r;
    http_handler_fn fn;
    void *ctx;
    uint64_t timer;
    bool reparked;
};

static void unlink_waiter(struct agent *a, struct agent_waiter *w)
{
    for (struct agent_waiter **p = &a->waiters; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            return;
        }
}

static void on_cancel(struct http_req *r, void *ctx)
{
    (void)r;
    struct agent_waiter *w = ctx;
    unlink_waiter(w->a, w);
    if (w->timer)
        loop_timer_cancel(w->a->loop, w->timer);
    free(w);
}

/* Runs the handler again; it either answers or parks the request anew (keeping its deadline). */
static void rerun(struct agent_waiter *w, bool final)
{
    struct agent *a = w->a;
    http_req_on_cancel(w->r, NULL, NULL);
    w->reparked = false;
    a->rerun = w;
    a->rerun_final = final;
    w->fn(w->r, w->ctx);
    a->rerun = NULL;
    a->rerun_final = false;
    if (!w->reparked) {
        if (w->timer)
            loop_timer_cancel(a->loop, w->timer);
        free(w);
    }
}

static void on_deadline(struct loop *l, uint64_t id, void *ctx)
{
    (void)l;
    (void)id;
    struct agent_waiter *w = ctx;
    w->timer = 0;
    unlink_waiter(w->a, w);
    rerun(w, true);
}

static void on_wake(struct loop *l, uint64_t id, void *ctx)
{
    (void)l;
    (void)id;
    struct agent *a = ctx;
    a->wake_timer = 0;
    struct agent_waiter *list = a->waiters;
    a->waiters = NULL;
    while (list) {
        struct agent_waiter *w = list;
        list = w->next;
        w->next = NULL;
        rerun(w, false);
    }
}

/* From inside the FSM's apply: only note it, the answers go out from a timer. */
static void on_watch(void *ctx, uint64_t index, unsigned changed)
{
    (void)index;
    struct agent *a = ctx;
    if (changed != 0 && a->waiters != NULL && a->wake_timer == 0)
        a->wake_timer = loop_timer_add(a->loop, 0, on_wake, a);
}

void agent_blocking_init(struct agent *a)
{
    if (a->st)
        state_set_watch(a->st, on_watch, a);
}

bool agent_block_park(struct agent *a, struct http_req *r, http_handler_fn fn, void *ctx,
                      uint64_t wait_ms)
{
    if (a->rerun_final)
        return false;
    struct agent_waiter *w = a->rerun;
    if (w != NULL && w->r == r) {
        w->reparked = true;
    } else {
        w = calloc(1, sizeof *w);
        if (w == NULL)
            return false; /* answered at once: a blocking query may always return early */
        w->a = a;
        w->r = r;
        w->fn = fn;
        w->ctx = ctx;
        w->timer = loop_timer_add(a->loop, wait_ms, on_deadline, w);
    }
    w->next = a->waiters;
    a->waiters = w;
    http_req_on_cancel(r, on_cancel, w);
    return true;
}

void agent_blocking_stop(struct agent *a)
{
    if (a->wake_timer)
        loop_timer_cancel(a->loop, a->wake_timer);
    a->wake_timer = 0;
    if (a->st)
        state_set_watch(a->st, NULL, NULL);
}

/* ?consistent: the leader confirms it still leads (a read barrier) before the read runs, so the
 * answer is linearizable; the handler is then called again with the barrier passed. */
struct consistent_op {
    struct agent *a;
    struct http_req *r; /* NULL once the client went away */
    http_handler_fn fn;
    void *ctx;
};

static void consistent_cancel(struct http_req *r, void *ctx)
{
    (void)r;
    ((struct consistent_op *)ctx)->r = NULL;
}

static void consistent_done(void *ctx, int err, uint64_t index)
{
    (void)index;
    struct consistent_op *op = ctx;
    if (op->r != NULL) {
        http_req_on_cancel(op->r, NULL, NULL);
        if (err != 0) {
            http_respond_text(op->r, 500, raft_node_strerror(err));
        } else {
            op->a->consistent_pass = true;
            op->fn(op->r, op->ctx);
            op->a->consistent_pass = false;
        }
    }
    free(op);
}

int agent_consistent_read(struct agent *a, struct http_req *r, http_handler_fn fn, void *ctx)
{
    if (a->consistent_pass)
        return AGENT_READ_NOW;
    if (a->raft == NULL || !raft_node_is_leader(a->raft)) {
        http_respond_text(r, 500, a->raft && raft_node_leader_id(a->raft) == 0
                                      ? "No cluster leader"
                                      : "?consistent read not forwarded: too many forwards");
        return AGENT_READ_ANSWERED;
    }
    struct consistent_op *op = calloc(1, sizeof *op);
    if (op == NULL) {
        http_respond_text(r, 500, "out of memory");
        return AGENT_READ_ANSWERED;
    }
    *op = (struct consistent_op){a, r, fn, ctx};
    int rc = raft_node_read_index(a->raft, consistent_done, op);
    if (rc != 0) {
        free(op);
        http_respond_text(r, 500, raft_node_strerror(rc));
        return AGENT_READ_ANSWERED;
    }
    http_req_on_cancel(r, consistent_cancel, op);
    return AGENT_READ_PENDING;
}
