/* broadcast.c — the transmit-limited update queue (memberlist's TransmitLimitedQueue): one pending
 * update per member, the newest and least-sent first, each retired after retransmit_mult*log(N+1)
 * sends; plus the size accounting that keeps every datagram within udp_max. */
#include <stdlib.h>
#include <string.h>

#include "gossip/core.h"

/* A str16 on the wire: u16 length and the bytes. */
static size_t str16(const char *s, size_t max)
{
    return 2 + strnlen(s, max);
}

static size_t addr_size(void)
{
    return 1 + 16 + 2;
}

static size_t tags_size(const struct gossip_tags *t)
{
    return 1 + str16(t->dc, sizeof t->dc) + 2 + 8 + 1 + 1 + str16(t->build, sizeof t->build) + 4;
}

/* Generous on purpose: an encoder following msg.h field by field (type byte, u16 length, fixed-width
 * integers, str16 strings) stays within it. */
size_t gossip_msg_size_bound(const struct gossip_msg *m)
{
    size_t body = 0;
    switch (m->type) {
    case GOSSIP_MSG_PING:
        body = 4 + str16(m->u.ping.node, GOSSIP_NAME_MAX) + str16(m->u.ping.source, GOSSIP_NAME_MAX);
        break;
    case GOSSIP_MSG_PING_REQ:
        body = 4 + str16(m->u.ping_req.node, GOSSIP_NAME_MAX) + addr_size() + 1 +
               str16(m->u.ping_req.source, GOSSIP_NAME_MAX);
        break;
    case GOSSIP_MSG_ACK:
    case GOSSIP_MSG_NACK:
        body = 4;
        break;
    case GOSSIP_MSG_SUSPECT:
        body = 8 + str16(m->u.suspect.node, GOSSIP_NAME_MAX) + str16(m->u.suspect.from, GOSSIP_NAME_MAX);
        break;
    case GOSSIP_MSG_ALIVE:
        body = 8 + str16(m->u.alive.node, GOSSIP_NAME_MAX) + addr_size() + tags_size(&m->u.alive.tags);
        break;
    case GOSSIP_MSG_DEAD:
        body = 8 + str16(m->u.dead.node, GOSSIP_NAME_MAX) + str16(m->u.dead.from, GOSSIP_NAME_MAX);
        break;
    case GOSSIP_MSG_PUSH_PULL:
        body = 1 + 1 + 4;
        for (uint32_t i = 0; i < m->u.push_pull.n_states; i++) {
            const struct gossip_member *s = &m->u.push_pull.states[i];
            body += str16(s->name, GOSSIP_NAME_MAX) + addr_size() + 8 + 1 + tags_size(&s->tags);
        }
        break;
    case GOSSIP_MSG_ERR:
        body = str16(m->u.err.text, GOSSIP_ERR_MAX);
        break;
    default:
        body = sizeof m->u;
    }
    return 1 + 4 + body;
}

size_t gossip_msg_size(const struct gossip *g, const struct gossip_msg *m)
{
    return g->cfg.msg_size ? g->cfg.msg_size(m) : gossip_msg_size_bound(m);
}

uint32_t gossip_bcast_limit(const struct gossip *g)
{
    /* memberlist retransmitLimit: mult * ceil(log10(n+1)) */
    uint32_t scale = gossip_ceil_log10((uint64_t)g->n_nodes + 1);
    return g->cfg.retransmit_mult * (scale ? scale : 1);
}

/* Clears the member's note of a pending broadcast, if it still points at this one. */
static void bcast_unlink(struct gossip *g, const struct gossip_bcast *b)
{
    struct gossip_node *n = gossip_node_find(g, b->node);
    if (n && n->bcast_id == b->id)
        n->bcast_id = 0;
}

static void bcast_drop(struct gossip *g, size_t i)
{
    if (g->bcasts[i].leave)
        g->leave_done = true; /* retired or dropped: either way nothing more will carry it */
    bcast_unlink(g, &g->bcasts[i]);
    g->bcasts[i] = g->bcasts[--g->n_bcasts];
}

/* Same, keeping the rest in order (gossip_bcast_take walks a sorted queue). */
static void bcast_retire(struct gossip *g, size_t i)
{
    if (g->bcasts[i].leave)
        g->leave_done = true;
    bcast_unlink(g, &g->bcasts[i]);
    memmove(&g->bcasts[i], &g->bcasts[i + 1], (g->n_bcasts - i - 1) * sizeof g->bcasts[0]);
    g->n_bcasts--;
}

void gossip_bcast_forget(struct gossip *g, const char *node)
{
    for (size_t i = 0; i < g->n_bcasts;) {
        if (strncmp(g->bcasts[i].node, node, GOSSIP_NAME_MAX) == 0)
            bcast_drop(g, i);
        else
            i++;
    }
}

void gossip_bcast_queue(struct gossip *g, const char *node, const struct gossip_msg *m, bool leave)
{
    struct gossip_node *owner = gossip_node_find(g, node);
    /* The member records whether something about it is pending, so the common case (nothing
     * pending) skips the scan: a join merging thousands of members stays linear. */
    for (size_t i = 0; owner && owner->bcast_id && i < g->n_bcasts; i++) {
        if (g->bcasts[i].id == owner->bcast_id) {
            bool was_leave = g->bcasts[i].leave;
            g->bcasts[i] = g->bcasts[--g->n_bcasts];
            leave = leave || was_leave; /* a refresh of our own state must still finish the leave */
            break;
        }
    }
    if (g->n_bcasts == GOSSIP_BCAST_MAX) {
        /* Full: drop the most-sent, oldest update; it has had the most chances to spread. */
        size_t worst = 0;
        for (size_t i = 1; i < g->n_bcasts; i++) {
            const struct gossip_bcast *a = &g->bcasts[i], *w = &g->bcasts[worst];
            if (a->transmits > w->transmits || (a->transmits == w->transmits && a->id < w->id))
                worst = i;
        }
        bcast_drop(g, worst);
    }
    if (g->n_bcasts == g->cap_bcasts) {
        size_t cap = g->cap_bcasts ? g->cap_bcasts * 2 : 32;
        struct gossip_bcast *b = realloc(g->bcasts, cap * sizeof *b);
        if (!b) {
            if (owner)
                owner->bcast_id = 0;
            return; /* the update still spreads through push-pull */
        }
        g->bcasts = b;
        g->cap_bcasts = cap;
    }
    struct gossip_bcast *b = &g->bcasts[g->n_bcasts++];
    memset(b, 0, sizeof *b);
    b->msg = *m;
    strncpy(b->node, node, GOSSIP_NAME_MAX - 1);
    b->id = ++g->bcast_id;
    b->leave = leave;
    if (owner)
        owner->bcast_id = b->id;
}

static int bcast_order(const void *pa, const void *pb)
{
    const struct gossip_bcast *a = pa, *b = pb;
    if (a->transmits != b->transmits)
        return a->transmits < b->transmits ? -1 : 1;
    return a->id > b->id ? -1 : a->id < b->id ? 1 : 0;
}

size_t gossip_bcast_take(struct gossip *g, struct gossip_msg *msgs, size_t cap, size_t *used, size_t budget)
{
    if (g->n_bcasts == 0)
        return 0;
    qsort(g->bcasts, g->n_bcasts, sizeof g->bcasts[0], bcast_order);
    uint32_t limit = gossip_bcast_limit(g);
    size_t added = 0;
    for (size_t i = 0; i < g->n_bcasts && added < cap;) {
        size_t sz = gossip_msg_size(g, &g->bcasts[i].msg);
        if (sz == 0) {
            bcast_retire(g, i); /* the codec cannot encode it: it would sink the whole datagram */
            continue;
        }
        if (*used + sz > budget) {
            i++;
            continue;
        }
        *used += sz;
        msgs[added++] = g->bcasts[i].msg;
        if (++g->bcasts[i].transmits >= limit) {
            bcast_retire(g, i);
        } else {
            i++;
        }
    }
    return added;
}
