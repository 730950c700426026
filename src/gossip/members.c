/* members.c — the gossip member table (a shuffled array that doubles as the probe order), the
 * core's seeded PRNG, random member selection, and small address/tag/number helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/core.h"

/* splitmix64: the state is the caller's seed, so a run replays exactly. */
uint64_t gossip_rand(struct gossip *g)
{
    uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint32_t gossip_rand_below(struct gossip *g, uint32_t n)
{
    return n ? (uint32_t)(gossip_rand(g) % n) : 0;
}

bool gossip_name_ok(const char *name)
{
    return name[0] != '\0' && memchr(name, '\0', GOSSIP_NAME_MAX) != NULL;
}

bool gossip_tags_ok(const struct gossip_tags *t)
{
    return (t->role == GOSSIP_ROLE_CLIENT || t->role == GOSSIP_ROLE_SERVER) && t->bootstrap <= GOSSIP_BOOTSTRAP_EXPECT &&
           memchr(t->dc, '\0', sizeof t->dc) && memchr(t->build, '\0', sizeof t->build) &&
           t->proto_min <= t->proto_cur && t->proto_cur <= t->proto_max;
}

bool gossip_addr_ok(const struct gossip_addr *a)
{
    return a->family == GOSSIP_AF_INET || a->family == GOSSIP_AF_INET6;
}

static uint64_t name_hash(const char *name)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < GOSSIP_NAME_MAX && name[i]; i++)
        h = (h ^ (uint8_t)name[i]) * 1099511628211ull;
    return h;
}

static void index_put(struct gossip_node **index, size_t cap, struct gossip_node *n)
{
    size_t i = (size_t)name_hash(n->m.name) & (cap - 1);
    while (index[i])
        i = (i + 1) & (cap - 1);
    index[i] = n;
}

/* Rebuilds the name index at a capacity fit for want members; -1 when out of memory. */
static int index_rebuild(struct gossip *g, size_t want)
{
    size_t cap = 32;
    while (cap < want * 2)
        cap *= 2;
    struct gossip_node **index = calloc(cap, sizeof *index);
    if (!index)
        return -1;
    for (size_t i = 0; i < g->n_nodes; i++)
        index_put(index, cap, g->nodes[i]);
    free(g->index);
    g->index = index;
    g->index_cap = cap;
    return 0;
}

struct gossip_node *gossip_node_find(const struct gossip *g, const char *name)
{
    if (!g->index_cap)
        return NULL;
    size_t i = (size_t)name_hash(name) & (g->index_cap - 1);
    for (struct gossip_node *n; (n = g->index[i]) != NULL; i = (i + 1) & (g->index_cap - 1))
        if (strncmp(n->m.name, name, GOSSIP_NAME_MAX) == 0)
            return n;
    return NULL;
}

struct gossip_node *gossip_self(struct gossip *g)
{
    return gossip_node_find(g, g->cfg.name);
}

struct gossip_node *gossip_node_add(struct gossip *g, const char *name)
{
    if (g->n_nodes == g->cap_nodes) {
        size_t cap = g->cap_nodes ? g->cap_nodes * 2 : 16;
        struct gossip_node **nodes = realloc(g->nodes, cap * sizeof *nodes);
        if (!nodes)
            return NULL;
        g->nodes = nodes;
        g->cap_nodes = cap;
    }
    if ((g->n_nodes + 1) * 2 > g->index_cap && index_rebuild(g, g->n_nodes + 1) != 0)
        return NULL;
    struct gossip_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    snprintf(n->m.name, sizeof n->m.name, "%s", name);
    n->susp.deadline_ms = GOSSIP_NOTIME;
    size_t at = gossip_rand_below(g, (uint32_t)g->n_nodes + 1);
    memmove(&g->nodes[at + 1], &g->nodes[at], (g->n_nodes - at) * sizeof g->nodes[0]);
    g->nodes[at] = n;
    g->n_nodes++;
    if (at < g->probe_index)
        g->probe_index++; /* keeps the member the probe loop was about to visit next */
    index_put(g->index, g->index_cap, n);
    return n;
}

void gossip_node_remove(struct gossip *g, size_t i)
{
    struct gossip_node *n = g->nodes[i];
    gossip_bcast_forget(g, n->m.name);
    memmove(&g->nodes[i], &g->nodes[i + 1], (g->n_nodes - i - 1) * sizeof g->nodes[0]);
    g->n_nodes--;
    if (i < g->probe_index)
        g->probe_index--;
    free(n);
    /* Linear probing cannot simply blank a slot; removal is rare (reaping), so rebuild in place. */
    memset(g->index, 0, g->index_cap * sizeof *g->index);
    for (size_t k = 0; k < g->n_nodes; k++)
        index_put(g->index, g->index_cap, g->nodes[k]);
}

void gossip_nodes_free(struct gossip *g)
{
    for (size_t i = 0; i < g->n_nodes; i++)
        free(g->nodes[i]);
    free(g->nodes);
    free(g->index);
    g->nodes = NULL;
    g->index = NULL;
    g->n_nodes = g->cap_nodes = g->index_cap = 0;
}

void gossip_nodes_shuffle(struct gossip *g)
{
    for (size_t i = g->n_nodes; i > 1; i--) {
        size_t j = gossip_rand_below(g, (uint32_t)i);
        struct gossip_node *t = g->nodes[i - 1];
        g->nodes[i - 1] = g->nodes[j];
        g->nodes[j] = t;
    }
}

size_t gossip_pick(struct gossip *g, size_t k, bool (*keep)(const struct gossip *, const struct gossip_node *),
                   struct gossip_node **out)
{
    /* Reservoir sampling: one pass, uniform, no allocation. */
    size_t seen = 0, got = 0;
    for (size_t i = 0; i < g->n_nodes; i++) {
        struct gossip_node *n = g->nodes[i];
        if (strcmp(n->m.name, g->cfg.name) == 0 || !keep(g, n))
            continue;
        seen++;
        if (got < k) {
            out[got++] = n;
        } else {
            size_t j = gossip_rand_below(g, (uint32_t)seen);
            if (j < k)
                out[j] = n;
        }
    }
    return got;
}

bool gossip_addr_equal(const struct gossip_addr *a, const struct gossip_addr *b)
{
    size_t len = a->family == GOSSIP_AF_INET ? 4 : 16;
    return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, len) == 0;
}

bool gossip_tags_equal(const struct gossip_tags *a, const struct gossip_tags *b)
{
    return a->role == b->role && strncmp(a->dc, b->dc, sizeof a->dc) == 0 && a->rpc_port == b->rpc_port &&
           a->raft_id == b->raft_id && a->bootstrap == b->bootstrap && a->expect == b->expect &&
           strncmp(a->build, b->build, sizeof a->build) == 0 && a->proto_min == b->proto_min &&
           a->proto_max == b->proto_max && a->proto_cur == b->proto_cur && a->raft_vsn == b->raft_vsn &&
           a->cluster_id == b->cluster_id;
}

void gossip_addr_format(const struct gossip_addr *a, char *out, size_t n)
{
    if (a->family == GOSSIP_AF_INET) {
        snprintf(out, n, "%u.%u.%u.%u:%u", a->ip[0], a->ip[1], a->ip[2], a->ip[3], a->port);
        return;
    }
    /* Full form without zero compression: unambiguous and enough for an error line. */
    int w = snprintf(out, n, "[");
    for (int i = 0; i < 16 && w > 0 && (size_t)w < n; i += 2)
        w += snprintf(out + w, n - (size_t)w, "%s%x", i ? ":" : "", (unsigned)(a->ip[i] << 8 | a->ip[i + 1]));
    if (w > 0 && (size_t)w < n)
        snprintf(out + w, n - (size_t)w, "]:%u", a->port);
}

double gossip_ln(double x)
{
    if (x <= 0)
        return 0;
    /* x = m * 2^e with m in [1, 2), then ln m = 2 atanh((m-1)/(m+1)), a fast series there. */
    int e = 0;
    while (x >= 2) {
        x /= 2;
        e++;
    }
    while (x < 1) {
        x *= 2;
        e--;
    }
    double y = (x - 1) / (x + 1), y2 = y * y, term = y, sum = 0;
    for (int k = 1; k < 40; k += 2) {
        sum += term / k;
        term *= y2;
    }
    return 2 * sum + e * 0.69314718055994530942;
}

uint32_t gossip_ceil_log10(uint64_t n)
{
    uint32_t d = 0;
    for (uint64_t p = 1; p < n && d < 20; p *= 10)
        d++;
    return d;
}

size_t gossip_member_count(const struct gossip *g)
{
    return g->n_nodes;
}

const struct gossip_member *gossip_member_at(const struct gossip *g, size_t i)
{
    return i < g->n_nodes ? &g->nodes[i]->m : NULL;
}

const struct gossip_member *gossip_member_find(const struct gossip *g, const char *name)
{
    const struct gossip_node *n = gossip_node_find(g, name);
    return n ? &n->m : NULL;
}

size_t gossip_alive_count(const struct gossip *g)
{
    size_t c = 0;
    for (size_t i = 0; i < g->n_nodes; i++)
        if (g->nodes[i]->m.state == GOSSIP_STATE_ALIVE || g->nodes[i]->m.state == GOSSIP_STATE_SUSPECT)
            c++;
    return c;
}

const char *gossip_state_name(uint8_t state)
{
    switch (state) {
    case GOSSIP_STATE_ALIVE:
        return "alive";
    case GOSSIP_STATE_SUSPECT:
        return "suspect";
    case GOSSIP_STATE_DEAD:
        return "failed";
    case GOSSIP_STATE_LEFT:
        return "left";
    }
    return "unknown";
}
