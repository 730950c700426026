/* awareness.c — Lifeguard's local health score: a node that misses its own acks or sees too few
 * nacks is probably the slow one, so it stretches its own probe timeouts instead of accusing peers. */
#include "gossip/core.h"

void gossip_health_apply(struct gossip *g, int delta)
{
    int64_t s = (int64_t)g->health + delta;
    int64_t max = (int64_t)g->cfg.awareness_max - 1;
    if (s < 0)
        s = 0;
    if (s > max)
        s = max;
    g->health = (uint32_t)s;
}

uint64_t gossip_health_scale(const struct gossip *g, uint64_t ms)
{
    return ms * (g->health + 1);
}

uint32_t gossip_health_score(const struct gossip *g)
{
    return g->health;
}
