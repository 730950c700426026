/* timer.c — the loop's timers: a binary min-heap of slot indices ordered by (deadline, insertion).
 * Slots keep their heap position, so cancelling is O(log n) and never a scan; ids carry a slot
 * generation so an id that fired or was cancelled can never cancel the slot's next tenant. */
#include <limits.h>
#include <stdlib.h>

#include "loop/loop_impl.h"

static bool timer_less(const struct loop *l, uint32_t a, uint32_t b)
{
    const struct loop_timer *x = &l->timers[a], *y = &l->timers[b];
    return x->deadline < y->deadline || (x->deadline == y->deadline && x->seq < y->seq);
}

static void heap_set(struct loop *l, uint32_t pos, uint32_t slot)
{
    l->heap[pos] = slot;
    l->timers[slot].pos = (int32_t)pos;
}

static void sift_up(struct loop *l, uint32_t pos)
{
    uint32_t slot = l->heap[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!timer_less(l, slot, l->heap[parent]))
            break;
        heap_set(l, pos, l->heap[parent]);
        pos = parent;
    }
    heap_set(l, pos, slot);
}

static void sift_down(struct loop *l, uint32_t pos)
{
    uint32_t slot = l->heap[pos];
    for (;;) {
        uint32_t child = 2 * pos + 1;
        if (child >= l->heap_len)
            break;
        if (child + 1 < l->heap_len && timer_less(l, l->heap[child + 1], l->heap[child]))
            child++;
        if (!timer_less(l, l->heap[child], slot))
            break;
        heap_set(l, pos, l->heap[child]);
        pos = child;
    }
    heap_set(l, pos, slot);
}

/* Takes the slot out of the heap and puts it on the free list. */
static void timer_remove(struct loop *l, uint32_t slot)
{
    uint32_t pos = (uint32_t)l->timers[slot].pos;
    uint32_t last = l->heap[--l->heap_len];
    if (pos < l->heap_len) {
        heap_set(l, pos, last);
        sift_down(l, pos);
        sift_up(l, (uint32_t)l->timers[last].pos);
    }
    l->timers[slot].pos = -1;
    l->timers[slot].fn = NULL;
    l->timers[slot].ctx = NULL;
    l->timers[slot].next_free = l->free_timer;
    l->free_timer = slot;
}

static int timers_grow(struct loop *l)
{
    uint32_t n = l->ntimers ? l->ntimers * 2 : 16;
    if (n <= l->ntimers || n > INT32_MAX)
        return -1;
    struct loop_timer *t = realloc(l->timers, (size_t)n * sizeof *t);
    if (t == NULL)
        return -1;
    l->timers = t;
    uint32_t *h = realloc(l->heap, (size_t)n * sizeof *h);
    if (h == NULL)
        return -1; /* the larger slot array is kept; the next attempt retries the heap */
    l->heap = h;
    for (uint32_t i = n; i-- > l->ntimers;) {
        t[i] = (struct loop_timer){.pos = -1, .next_free = l->free_timer};
        l->free_timer = i;
    }
    l->ntimers = n;
    return 0;
}

uint64_t loop_timer_add(struct loop *l, uint64_t ms, loop_timer_fn fn, void *ctx)
{
    if (l->free_timer == UINT32_MAX && timers_grow(l) != 0)
        return 0;
    uint32_t slot = l->free_timer;
    struct loop_timer *t = &l->timers[slot];
    l->free_timer = t->next_free;
    uint64_t now = loop_now_ms();
    t->deadline = ms > UINT64_MAX - now ? UINT64_MAX : now + ms;
    t->seq = l->timer_seq++;
    t->fn = fn;
    t->ctx = ctx;
    if (++t->gen == 0)
        t->gen = 1;
    l->heap[l->heap_len] = slot;
    t->pos = (int32_t)l->heap_len++;
    sift_up(l, (uint32_t)t->pos);
    return (uint64_t)t->gen << 32 | slot;
}

int loop_timer_cancel(struct loop *l, uint64_t id)
{
    uint32_t slot = (uint32_t)id;
    if (id == 0 || slot >= l->ntimers)
        return -1;
    struct loop_timer *t = &l->timers[slot];
    if (t->pos < 0 || t->gen != (uint32_t)(id >> 32))
        return -1;
    timer_remove(l, slot);
    return 0;
}

size_t loop_timer_count(const struct loop *l)
{
    return l->heap_len;
}

int loop_timers_wait_ms(const struct loop *l, uint64_t now)
{
    if (l->heap_len == 0)
        return -1;
    uint64_t due = l->timers[l->heap[0]].deadline;
    if (due <= now)
        return 0;
    return due - now > INT_MAX ? INT_MAX : (int)(due - now);
}

void loop_timers_run(struct loop *l)
{
    uint64_t now = loop_now_ms();
    /* Timers added by the callbacks below sort after every timer due now (their deadline is at
     * least now and their seq is larger), so stopping at the first of them is exact. */
    uint64_t pass_end = l->timer_seq;
    while (l->heap_len > 0) {
        uint32_t slot = l->heap[0];
        struct loop_timer *t = &l->timers[slot];
        if (t->deadline > now || t->seq >= pass_end)
            break;
        uint64_t id = (uint64_t)t->gen << 32 | slot;
        loop_timer_fn fn = t->fn;
        void *ctx = t->ctx;
        /* Removed before the call: the callback may cancel (a no-op now), re-add, or grow the
         * slot array, which would move t. */
        timer_remove(l, slot);
        fn(l, id, ctx);
    }
}

void loop_timers_free(struct loop *l)
{
    free(l->timers);
    free(l->heap);
    l->timers = NULL;
    l->heap = NULL;
    l->ntimers = l->heap_len = 0;
    l->free_timer = UINT32_MAX;
}
