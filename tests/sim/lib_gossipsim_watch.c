/* lib_gossipsim_watch.c — follows each probe of a killed node whose host refuses, from its ping
 * to its end, and fails the run when one ends later than refused_probe_bound_ms allows. */
#include <stdio.h>
#include <string.h>

#include "sim/lib_gossipsim_cluster.h"

static bool refusingDead(const struct gossipsim_cluster *c, int j)
{
    return j >= 0 && c->node[j].killed && c->w.node[j].refuses;
}

static void exempt(struct gossipsim_cluster *c, struct gossipsim_probe_watch *w)
{
    if (w && w->exempt)
        return;
    c->probes_exempt++;
    if (w)
        w->exempt = true;
}

void gossipsim_watch_sent(struct gossipsim_cluster *c, int i, int to, const struct gossip_packet *p,
                          bool corrupted)
{
    if (p->transport != GOSSIP_UDP)
        return;
    char name[GOSSIP_NAME_MAX];
    gossipsim_name(to, name);
    for (uint32_t m = 0; m < p->n_msgs; m++) {
        const struct gossip_msg *msg = &p->msgs[m];
        struct gossipsim_probe_watch *w = &c->watch[i];
        /* A ping sent from a timer is a probe's start: helpers ping from gossip_recv. */
        if (msg->type == GOSSIP_MSG_PING && c->ticking == i && refusingDead(c, to) &&
            strncmp(msg->u.ping.node, name, GOSSIP_NAME_MAX) == 0) {
            struct gossip_stats st;
            gossip_stats(c->node[i].g, &st);
            *w = (struct gossipsim_probe_watch){.active = true, .target = to, .seq = msg->u.ping.seq,
                                                .start = c->w.now, .failed_before = st.probes_failed};
        } else if (msg->type == GOSSIP_MSG_PING_REQ) {
            /* A helper that is down can neither nack nor be blamed on us: the probe waits out its
             * period and counts the nack missing, as Lifeguard says it should. Counted for any
             * probe, watched or not: a probe that waits out its period delays the next one. */
            bool mine = w->active && msg->u.ping_req.seq == w->seq;
            if (!gossipsim_running(c, to) || (mine && corrupted))
                exempt(c, mine ? w : NULL);
        } else if (msg->type == GOSSIP_MSG_NACK && corrupted && c->watch[to].active &&
                   msg->u.nack.seq == c->watch[to].seq) {
            exempt(c, &c->watch[to]);
        }
    }
}

void gossipsim_watch_settled(struct gossipsim_cluster *c, int i)
{
    struct gossipsim_probe_watch *w = &c->watch[i];
    if (!w->active)
        return;
    if (c->node[i].g == NULL || !refusingDead(c, w->target)) {
        w->active = false; /* the prober stopped, or the target is back: nothing to hold it to */
        return;
    }
    struct gossip_stats st;
    gossip_stats(c->node[i].g, &st);
    if (st.probes_failed == w->failed_before)
        return;
    w->active = false;
    uint64_t took = c->w.now - w->start;
    if (w->exempt)
        return;
    c->probes_watched++;
    if (took > c->refused_probe_max_ms)
        c->refused_probe_max_ms = took;
    if (took > c->refused_probe_bound_ms)
        gossipsim_failf(c, "node%d's probe #%u of node%d, whose host refuses, ended in suspicion %llums "
                           "after its ping; every check was refused or nacked by %llums",
                        i, w->seq, w->target, (unsigned long long)took,
                        (unsigned long long)c->refused_probe_bound_ms);
}
