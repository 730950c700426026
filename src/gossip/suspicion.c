/* suspicion.c — Lifeguard's dynamic suspicion timeout: it starts at max and falls toward min, on a
 * log scale, as independent members confirm the suspicion, so a lone (possibly slow) accuser needs
 * long to kill a node while a real failure seen by many is declared quickly; and when to ask the
 * suspect itself, in the last probe interval before the deadline. */
#include <stdio.h>
#include <string.h>

#include "gossip/core.h"

uint64_t gossip_suspicion_min_ms(const struct gossip *g, size_t n_members)
{
    /* memberlist: SuspicionMult * max(1, log10(n)) * ProbeInterval */
    double scale = n_members > 1 ? gossip_ln((double)n_members) / gossip_ln(10.0) : 0.0;
    if (scale < 1.0)
        scale = 1.0;
    return (uint64_t)((double)g->cfg.suspicion_mult * scale * (double)g->cfg.probe_interval_ms);
}

static void suspicion_rearm(struct gossip_suspicion *s)
{
    uint64_t timeout = s->min_ms;
    if (s->k >= 1) {
        double frac = gossip_ln((double)s->n + 1.0) / gossip_ln((double)s->k + 1.0);
        double raw = (double)s->max_ms - frac * (double)(s->max_ms - s->min_ms);
        timeout = raw < (double)s->min_ms ? s->min_ms : (uint64_t)raw;
    }
    s->deadline_ms = s->start_ms + timeout;
    /* Confirmations pull the ask forward with the deadline; it never precedes the suspicion. */
    s->ask_ms = timeout > s->lead_ms ? s->deadline_ms - s->lead_ms : s->start_ms;
}

void gossip_suspicion_start(struct gossip *g, struct gossip_node *n, const char *from)
{
    struct gossip_suspicion *s = &n->susp;
    memset(s, 0, sizeof *s);
    size_t members = g->n_nodes;
    uint32_t k = g->cfg.suspicion_mult > 2 ? g->cfg.suspicion_mult - 2 : 0;
    /* Too few other members to ever gather k confirmations: do not wait for them. */
    if (members < 2 || members - 2 < k)
        k = 0;
    if (k > GOSSIP_CONFIRM_MAX)
        k = GOSSIP_CONFIRM_MAX;
    s->active = true;
    s->start_ms = g->now;
    s->k = k;
    s->min_ms = gossip_suspicion_min_ms(g, members);
    s->max_ms = k ? s->min_ms * g->cfg.suspicion_max_mult : s->min_ms;
    s->lead_ms = g->cfg.probe_interval_ms;
    snprintf(s->from[0], GOSSIP_NAME_MAX, "%s", from);
    s->n_from = 1;
    suspicion_rearm(s);
}

bool gossip_suspicion_confirm(struct gossip *g, struct gossip_node *n, const char *from)
{
    (void)g;
    struct gossip_suspicion *s = &n->susp;
    if (!s->active || s->n >= s->k)
        return false;
    for (uint32_t i = 0; i < s->n_from; i++)
        if (strncmp(s->from[i], from, GOSSIP_NAME_MAX) == 0)
            return false;
    snprintf(s->from[s->n_from++], GOSSIP_NAME_MAX, "%s", from);
    s->n++;
    suspicion_rearm(s);
    return true;
}

void gossip_suspicion_stop(struct gossip_node *n)
{
    n->susp.active = false;
    n->susp.deadline_ms = GOSSIP_NOTIME;
}

uint64_t gossip_suspicion_ask_at(const struct gossip_suspicion *s)
{
    if (s->asks >= GOSSIP_SUSPICION_ASKS)
        return GOSSIP_NOTIME;
    uint64_t t = s->ask_ms + s->asks * (s->lead_ms / GOSSIP_SUSPICION_ASKS);
    return t < s->deadline_ms ? t : GOSSIP_NOTIME;
}

void gossip_suspicion_asked(struct gossip_suspicion *s, uint64_t now)
{
    /* Asks a stall made us miss are skipped, not sent in a burst. */
    do
        s->asks++;
    while (gossip_suspicion_ask_at(s) <= now);
}

uint64_t gossip_suspicion_next(const struct gossip_node *n)
{
    const struct gossip_suspicion *s = &n->susp;
    if (n->m.state != GOSSIP_STATE_SUSPECT || !s->active)
        return GOSSIP_NOTIME;
    uint64_t ask = gossip_suspicion_ask_at(s);
    return ask < s->deadline_ms ? ask : s->deadline_ms;
}
