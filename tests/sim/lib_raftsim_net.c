/* lib_raftsim_net.c — the simulated network: a queue of deep-copied messages with delivery times,
 * drawn per message so that drop, duplication, delay and reordering all come from one PRNG. */
#include <stdlib.h>
#include <string.h>

#include "sim/lib_raftsim.h"

void raftsim_net_init(struct raftsim_net *n)
{
    memset(n, 0, sizeof *n);
    n->delay_min = 1;
    n->delay_max = 1;
}

void raftsim_net_free(struct raftsim_net *n)
{
    for (size_t i = 0; i < n->n; i++)
        raftsim_msg_free(&n->q[i].m);
    free(n->q);
    n->q = NULL;
    n->n = n->cap = 0;
}

static bool is_cut(const struct raftsim_net *n, raft_id from, raft_id to)
{
    /* An id outside the table cannot be routed: treat it as unreachable, not as a crash. */
    if (from >= RAFTSIM_MAX_IDS || to >= RAFTSIM_MAX_IDS)
        return true;
    return n->cut[from][to];
}

static int reserve(struct raftsim_net *n)
{
    if (n->n == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 64;
        struct raftsim_packet *q = realloc(n->q, cap * sizeof *q);
        if (!q)
            return -1;
        n->q = q;
        n->cap = cap;
    }
    return 0;
}

int raftsim_net_defer(struct raftsim_net *n, struct raft_msg *m, uint64_t at)
{
    if (reserve(n)) {
        raftsim_msg_free(m);
        return -1;
    }
    struct raftsim_packet *p = &n->q[n->n++];
    p->m = *m;
    p->at = at;
    p->seq = n->seq++;
    return 0;
}

static int enqueue(struct raftsim_net *n, uint64_t at, const struct raft_msg *m)
{
    if (reserve(n))
        return -1;
    struct raftsim_packet *p = &n->q[n->n];
    if (raftsim_msg_clone(&p->m, m))
        return -1;
    p->at = at;
    p->seq = n->seq++;
    n->n++;
    return 0;
}

int raftsim_net_send(struct raftsim_net *n, struct raftsim_rng *rng, uint64_t now,
                     const struct raft_msg *m)
{
    n->sent++;
    if (is_cut(n, m->from, m->to) || raftsim_rng_pm(rng, n->drop_pm)) {
        n->dropped++;
        return 0;
    }
    int copies = raftsim_rng_pm(rng, n->dup_pm) ? 2 : 1;
    if (copies == 2)
        n->duped++;
    for (int i = 0; i < copies; i++) {
        uint64_t at = now + raftsim_rng_range(rng, n->delay_min, n->delay_max);
        if (enqueue(n, at, m))
            return -1;
    }
    return 0;
}

static size_t earliest(const struct raftsim_net *n)
{
    size_t best = 0;
    for (size_t i = 1; i < n->n; i++)
        if (n->q[i].at < n->q[best].at || (n->q[i].at == n->q[best].at && n->q[i].seq < n->q[best].seq))
            best = i;
    return best;
}

uint64_t raftsim_net_next(const struct raftsim_net *n)
{
    return n->n ? n->q[earliest(n)].at : UINT64_MAX;
}

static void remove_at(struct raftsim_net *n, size_t i)
{
    /* Order in the array does not matter: earliest() scans by (at, seq). */
    n->q[i] = n->q[n->n - 1];
    n->n--;
}

bool raftsim_net_pop(struct raftsim_net *n, uint64_t now, struct raft_msg *out)
{
    while (n->n) {
        size_t i = earliest(n);
        if (n->q[i].at > now)
            return false;
        struct raft_msg m = n->q[i].m;
        remove_at(n, i);
        if (is_cut(n, m.from, m.to)) {
            n->dropped++;
            raftsim_msg_free(&m);
            continue;
        }
        n->delivered++;
        *out = m;
        return true;
    }
    return false;
}

void raftsim_net_purge(struct raftsim_net *n, raft_id id)
{
    for (size_t i = 0; i < n->n;) {
        if (n->q[i].m.to == id) {
            raftsim_msg_free(&n->q[i].m);
            remove_at(n, i);
        } else {
            i++;
        }
    }
}

void raftsim_net_heal(struct raftsim_net *n)
{
    memset(n->cut, 0, sizeof n->cut);
}
