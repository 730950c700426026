/* lib_gossipsim.c — the gossip simulator's world: PRNG, virtual clock, event heap and faulty
 * network (loss, delay, partitions, stalls, refusing hosts). Everything is a pure function of the
 * seed, so any failing run replays exactly. */
#include "sim/lib_gossipsim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gossipsim_rng_seed(struct gossipsim_rng *r, uint64_t seed)
{
    r->s = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
}

uint64_t gossipsim_rng_next(struct gossipsim_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint32_t gossipsim_rng_below(struct gossipsim_rng *r, uint32_t n)
{
    if (n == 0)
        return 0;
    /* The modulo bias for n far below 2^64 is far below anything a scenario could notice. */
    return (uint32_t)(gossipsim_rng_next(r) % n);
}

bool gossipsim_rng_chance(struct gossipsim_rng *r, uint32_t permille)
{
    return gossipsim_rng_below(r, 1000) < permille;
}

int gossipsim_world_init(struct gossipsim_world *w, int n, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    gossipsim_rng_seed(&w->rng, seed);
    w->n = n;
    w->delay_min_ms = 1;
    w->delay_max_ms = 10;
    w->stall_buffer = 256;
    w->node = calloc((size_t)n, sizeof *w->node);
    w->stall_held = calloc((size_t)n, sizeof *w->stall_held);
    if (w->node == NULL || w->stall_held == NULL) {
        gossipsim_world_free(w);
        return -1;
    }
    return 0;
}

void gossipsim_world_free(struct gossipsim_world *w)
{
    for (size_t i = 0; i < w->heap_n; i++)
        free(w->heap[i].data);
    free(w->heap);
    free(w->node);
    free(w->stall_held);
    w->heap = NULL;
    w->node = NULL;
    w->stall_held = NULL;
    w->heap_n = w->heap_cap = 0;
}

static bool evBefore(const struct gossipsim_ev *a, const struct gossipsim_ev *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static int heapPush(struct gossipsim_world *w, struct gossipsim_ev ev)
{
    if (w->heap_n == w->heap_cap) {
        size_t cap = w->heap_cap ? w->heap_cap * 2 : 256;
        struct gossipsim_ev *h = realloc(w->heap, cap * sizeof *h);
        if (h == NULL)
            return -1;
        w->heap = h;
        w->heap_cap = cap;
    }
    ev.seq = w->seq++;
    size_t i = w->heap_n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!evBefore(&ev, &w->heap[p]))
            break;
        w->heap[i] = w->heap[p];
        i = p;
    }
    w->heap[i] = ev;
    return 0;
}

static struct gossipsim_ev heapPop(struct gossipsim_world *w)
{
    struct gossipsim_ev top = w->heap[0];
    struct gossipsim_ev last = w->heap[--w->heap_n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= w->heap_n)
            break;
        if (c + 1 < w->heap_n && evBefore(&w->heap[c + 1], &w->heap[c]))
            c++;
        if (!evBefore(&w->heap[c], &last))
            break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (w->heap_n > 0)
        w->heap[i] = last;
    return top;
}

int gossipsim_timer(struct gossipsim_world *w, int node, uint64_t at, uint64_t arg)
{
    struct gossipsim_ev ev = {.at = at, .kind = GOSSIPSIM_EV_TIMER, .from = node, .to = node,
                              .arg = arg};
    return heapPush(w, ev);
}

bool gossipsim_reachable(const struct gossipsim_world *w, int a, int b)
{
    return !w->node[a].down && !w->node[b].down && w->node[a].group == w->node[b].group;
}

/* The refusal's way back leaves the host at `from_at`. Its delay is drawn here, only ever for a
 * refusal, so a run in which nothing refuses draws exactly what it drew before refusals existed. */
static int queueRefusal(struct gossipsim_world *w, int host, int sender, bool stream, uint64_t conn,
                        uint64_t from_at)
{
    uint32_t span = w->delay_max_ms - w->delay_min_ms + 1;
    uint64_t back = w->delay_min_ms + gossipsim_rng_below(&w->rng, span);
    struct gossipsim_ev ev = {.at = from_at + back, .kind = GOSSIPSIM_EV_REFUSED, .stream = stream,
                              .from = host, .to = sender, .conn = conn};
    return heapPush(w, ev);
}

int gossipsim_refuse(struct gossipsim_world *w, int host, int sender, bool stream, uint64_t conn)
{
    if (w->node[sender].down || w->node[host].group != w->node[sender].group) {
        w->stats.cut++;
        return 0;
    }
    uint64_t there = w->delay_max_ms;
    if (!stream) {
        uint32_t span = w->delay_max_ms - w->delay_min_ms + 1;
        there = w->delay_min_ms + gossipsim_rng_below(&w->rng, span);
    }
    if (w->node[host].down)
        w->stats.refused++;
    else
        w->stats.refused_live++;
    return queueRefusal(w, host, sender, stream, conn, w->now + there);
}

/* A paused process keeps its socket: its host answers nothing on its behalf. */
static bool refusesLive(struct gossipsim_world *w, int to)
{
    const struct gossipsim_node_net *n = &w->node[to];
    return n->refuse_permille > 0 && !n->down && n->stalled_until <= w->now &&
           gossipsim_rng_chance(&w->rng, n->refuse_permille);
}

int gossipsim_send(struct gossipsim_world *w, int from, int to, bool stream, uint64_t conn,
                   uint8_t tag, const void *data, size_t len)
{
    w->stats.sent++;
    w->stats.bytes += len;
    if (!stream && len > w->stats.max_packet)
        w->stats.max_packet = len;
    if (stream && len > w->stats.max_stream)
        w->stats.max_stream = len;
    /* Draw the loss die for every packet, reachable or not, so that a partition does not shift
     * the random sequence of everything after it more than it must. */
    bool lost = !stream && gossipsim_rng_chance(&w->rng, w->loss_permille);
    uint32_t span = w->delay_max_ms - w->delay_min_ms + 1;
    uint64_t delay = w->delay_min_ms + gossipsim_rng_below(&w->rng, span);
    /* A down node whose host refuses is still a destination: the packet travels, and its arrival
     * is answered (gossipsim_pop), or the node is back by then and takes it. */
    const struct gossipsim_node_net *dst = &w->node[to];
    bool host_up = !dst->down || dst->refuses;
    if (w->node[from].down || !host_up || w->node[from].group != dst->group) {
        w->stats.cut++;
        return 0;
    }
    if (lost) {
        w->stats.lost++;
        return 0;
    }
    if (!stream && refusesLive(w, to)) {
        w->stats.refused_live++;
        return queueRefusal(w, to, from, false, conn, w->now + delay);
    }
    /* A stream keeps its bytes in order: a fixed delay plus the FIFO tie-break does that. */
    if (stream)
        delay = w->delay_max_ms;
    struct gossipsim_ev ev = {.at = w->now + delay, .kind = GOSSIPSIM_EV_PACKET, .stream = stream,
                              .from = from, .to = to, .len = len, .conn = conn, .tag = tag};
    ev.data = malloc(len ? len : 1);
    if (ev.data == NULL)
        return -1;
    memcpy(ev.data, data, len);
    if (heapPush(w, ev) != 0) {
        free(ev.data);
        return -1;
    }
    return 0;
}

bool gossipsim_pop(struct gossipsim_world *w, uint64_t until, struct gossipsim_ev *out)
{
    while (w->heap_n > 0 && w->heap[0].at <= until) {
        struct gossipsim_ev ev = heapPop(w);
        if (ev.at > w->now)
            w->now = ev.at;
        struct gossipsim_node_net *dst = &w->node[ev.to];
        if (ev.held) {
            /* A held packet leaves the stalled node's buffer whatever happens next. */
            w->stall_held[ev.to]--;
            ev.held = false;
        }
        /* Datagrams already on the wire still arrive after their sender dies: only the
         * receiver's death or a partition between the two stops them. A refusal crosses the
         * network the same way, from the refusing host (from) back to the sender (to). */
        bool crosses = ev.kind == GOSSIPSIM_EV_PACKET || ev.kind == GOSSIPSIM_EV_REFUSED;
        if (crosses && w->node[ev.from].group != dst->group) {
            w->stats.cut++;
            free(ev.data);
            continue;
        }
        if (dst->down) {
            if (ev.kind == GOSSIPSIM_EV_PACKET && dst->refuses) {
                /* Whether or not its sender still runs: a down sender is told nothing, later. */
                w->stats.refused++;
                (void)queueRefusal(w, ev.to, ev.from, ev.stream, ev.conn, w->now); /* no memory: lost */
            } else if (crosses) {
                w->stats.cut++;
            }
            free(ev.data);
            continue;
        }
        if (dst->stalled_until > w->now) {
            if (ev.kind == GOSSIPSIM_EV_PACKET) {
                if (w->stall_held[ev.to] >= w->stall_buffer) {
                    w->stats.overflowed++;
                    free(ev.data);
                    continue;
                }
                w->stall_held[ev.to]++;
                ev.held = true;
            }
            ev.at = dst->stalled_until;
            if (heapPush(w, ev) != 0)
                free(ev.data);
            continue;
        }
        if (ev.kind == GOSSIPSIM_EV_PACKET)
            w->stats.delivered++;
        *out = ev;
        return true;
    }
    if (until > w->now && until != UINT64_MAX)
        w->now = until;
    return false;
}

void gossipsim_pause(struct gossipsim_world *w, int i, uint64_t until)
{
    w->node[i].stalled_until = until;
}

static void heapify(struct gossipsim_world *w)
{
    for (size_t k = w->heap_n / 2; k-- > 0;) {
        struct gossipsim_ev ev = w->heap[k];
        size_t i = k;
        for (;;) {
            size_t c = 2 * i + 1;
            if (c >= w->heap_n)
                break;
            if (c + 1 < w->heap_n && evBefore(&w->heap[c + 1], &w->heap[c]))
                c++;
            if (!evBefore(&w->heap[c], &ev))
                break;
            w->heap[i] = w->heap[c];
            i = c;
        }
        w->heap[i] = ev;
    }
}

void gossipsim_resume(struct gossipsim_world *w, int i)
{
    uint64_t until = w->node[i].stalled_until;
    if (until <= w->now)
        return;
    w->node[i].stalled_until = w->now;
    /* Everything parked for this node sits at the pause's end; the sequence numbers it got when
     * parked keep it in arrival order. */
    for (size_t k = 0; k < w->heap_n; k++)
        if (w->heap[k].to == i && w->heap[k].at == until)
            w->heap[k].at = w->now;
    heapify(w);
}

void gossipsim_partition(struct gossipsim_world *w, const int *groups)
{
    for (int i = 0; i < w->n; i++)
        w->node[i].group = groups ? groups[i] : 0;
}

void gossipsim_tracef(const struct gossipsim_world *w, const char *fmt, ...)
{
    if (!w->trace)
        return;
    printf("%8llu.%03llu ", (unsigned long long)(w->now / 1000), (unsigned long long)(w->now % 1000));
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}
