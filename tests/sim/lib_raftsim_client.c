/* lib_raftsim_client.c — the simulated client of the Raft cluster: proposals and linearizable
 * reads, acknowledgements (checked for durability on a quorum) and stale-read detection. */
#include <stdlib.h>
#include <string.h>

#include "sim/lib_raftsim_cluster.h"

void raftsim_client_forget(struct raftsim_cluster *c, raft_id id)
{
    /* A client waiting on a dead server never hears back: its requests' fate is unknown. */
    for (size_t i = 0; i < c->n_props;)
        if (c->props[i].at == id)
            c->props[i] = c->props[--c->n_props];
        else
            i++;
    for (size_t i = 0; i < c->n_reads;)
        if (c->reads[i].at == id)
            c->reads[i] = c->reads[--c->n_reads];
        else
            i++;
}

/* At the moment the client hears "committed", the entry must already be durable on a majority of
 * the voters the leader counts: otherwise some crash pattern loses an acknowledged write. */
static void check_durable_quorum(struct raftsim_cluster *c, struct raftsim_node *leader,
                                 const struct raft_entry *e)
{
    const struct raft_config *cfg = raft_configuration(&leader->core);
    unsigned voters = 0, durable = 0;
    for (uint32_t i = 0; i < cfg->n; i++) {
        if (!cfg->servers[i].voter)
            continue;
        voters++;
        raft_id id = cfg->servers[i].id;
        if (id >= RAFTSIM_MAX_IDS || !c->nodes[id].exists)
            continue;
        const struct raftsim_image *im = &c->nodes[id].disk.durable;
        const struct raft_entry *d = raftsim_image_entry(im, e->index);
        if ((d && d->term == e->term) || (im->has_snap && im->snap_index >= e->index))
            durable++;
    }
    if (voters && durable <= voters / 2)
        raftsim_check_fail(&c->chk,
                           "durability: index %llu term %llu acknowledged by n%llu while durable "
                           "on only %u of %u voters",
                           (unsigned long long)e->index, (unsigned long long)e->term,
                           (unsigned long long)leader->id, durable, voters);
}

void raftsim_client_applied(struct raftsim_cluster *c, struct raftsim_node *nd,
                            const struct raft_entry *e)
{
    /* The same server may hold requests for one index from several of its terms as leader:
     * the applied entry answers the one it matches; the others were overwritten. */
    for (size_t i = 0; i < c->n_props;) {
        struct raftsim_prop *p = &c->props[i];
        if (p->at != nd->id || p->index != e->index) {
            i++;
            continue;
        }
        if (p->term == e->term && p->crc == raftsim_entry_crc(e)) {
            check_durable_quorum(c, nd, e);
            raftsim_check_ack(&c->chk, e->index, e->term, p->crc);
            c->acked++;
            c->heal_acked += p->heal;
            if (e->index > c->max_acked_index)
                c->max_acked_index = e->index;
            raftsim_tracef(&c->tr, "n%llu ACK client: index %llu term %llu committed",
                           (unsigned long long)nd->id, (unsigned long long)e->index,
                           (unsigned long long)e->term);
        } else {
            raftsim_tracef(&c->tr, "n%llu client proposal at %llu term %llu lost (overwritten)",
                           (unsigned long long)nd->id, (unsigned long long)e->index,
                           (unsigned long long)p->term);
        }
        c->props[i] = c->props[--c->n_props];
    }
}

void raftsim_client_reads(struct raftsim_cluster *c, struct raftsim_node *nd,
                          const struct raft_read_state *rs, size_t n)
{
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < c->n_reads; i++) {
            struct raftsim_read *r = &c->reads[i];
            if (r->at != nd->id || r->ctx != rs[k].ctx)
                continue;
            if (rs[k].ok) {
                if (rs[k].index < r->min_index)
                    raftsim_check_fail(&c->chk,
                                       "stale read at server %llu: read index %llu but index "
                                       "%llu was acknowledged before the read began",
                                       (unsigned long long)nd->id,
                                       (unsigned long long)rs[k].index,
                                       (unsigned long long)r->min_index);
                c->reads_ok++;
            }
            c->reads[i] = c->reads[--c->n_reads];
            break;
        }
}

raft_id raftsim_leader(const struct raftsim_cluster *c)
{
    raft_id best = 0;
    uint64_t best_term = 0;
    for (raft_id id = 1; id < RAFTSIM_MAX_IDS; id++) {
        const struct raftsim_node *nd = &c->nodes[id];
        if (nd->up && nd->paused_until <= c->now && raft_state(&nd->core) == RAFT_LEADER &&
            raft_term(&nd->core) >= best_term) {
            best = id;
            best_term = raft_term(&nd->core);
        }
    }
    return best;
}

int raftsim_propose(struct raftsim_cluster *c, bool heal)
{
    raft_id l = raftsim_leader(c);
    if (!l)
        return RAFT_ENOTLEADER;
    struct raftsim_node *nd = &c->nodes[l];
    uint8_t payload[24];
    int len = snprintf((char *)payload, sizeof payload, "s%llu-c%llu",
                       (unsigned long long)c->seed, (unsigned long long)++c->next_payload);
    uint64_t index = 0;
    int rc = raft_propose(&nd->core, payload, (size_t)len, &index);
    if (rc)
        return rc;
    if (c->n_props == c->cap_props) {
        size_t cap = c->cap_props ? c->cap_props * 2 : 64;
        struct raftsim_prop *p = realloc(c->props, cap * sizeof *p);
        if (!p)
            return RAFT_ENOMEM;
        c->props = p;
        c->cap_props = cap;
    }
    struct raft_entry e = {.term = raft_term(&nd->core), .index = index,
                           .type = RAFT_ENTRY_COMMAND, .len = (uint32_t)len, .data = payload};
    c->props[c->n_props++] = (struct raftsim_prop){.at = l, .index = index, .term = e.term,
                                                   .crc = raftsim_entry_crc(&e), .heal = heal};
    c->proposed++;
    raftsim_tracef(&c->tr, "client propose at n%llu -> index %llu t%llu%s",
                   (unsigned long long)l, (unsigned long long)index,
                   (unsigned long long)e.term, heal ? " (heal)" : "");
    raftsim_process(c, nd);
    return 0;
}

int raftsim_read(struct raftsim_cluster *c)
{
    /* Any server that believes it leads may be asked, a deposed one too: ReadIndex must not
     * let it answer from a stale state. */
    raft_id cand[RAFTSIM_MAX_IDS];
    size_t nc = 0;
    for (raft_id id = 1; id < RAFTSIM_MAX_IDS; id++)
        if (c->nodes[id].up && c->nodes[id].paused_until <= c->now &&
            raft_state(&c->nodes[id].core) == RAFT_LEADER)
            cand[nc++] = id;
    if (!nc)
        return RAFT_ENOTLEADER;
    raft_id l = cand[raftsim_rng_below(&c->rng, nc)];
    if (c->n_reads == c->cap_reads) {
        size_t cap = c->cap_reads ? c->cap_reads * 2 : 16;
        struct raftsim_read *p = realloc(c->reads, cap * sizeof *p);
        if (!p)
            return RAFT_ENOMEM;
        c->reads = p;
        c->cap_reads = cap;
    }
    uint64_t ctx = ++c->next_read_ctx;
    int rc = raft_read_index(&c->nodes[l].core, ctx);
    if (rc)
        return rc;
    c->reads[c->n_reads++] = (struct raftsim_read){.at = l, .ctx = ctx,
                                                   .min_index = c->max_acked_index};
    raftsim_tracef(&c->tr, "client read at n%llu ctx %llu (acked so far ..%llu)",
                   (unsigned long long)l, (unsigned long long)ctx,
                   (unsigned long long)c->max_acked_index);
    raftsim_process(c, &c->nodes[l]);
    return 0;
}

size_t raftsim_pending_heal(const struct raftsim_cluster *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_props; i++)
        n += c->props[i].heal;
    return n;
}

void raftsim_drop_orphans(struct raftsim_cluster *c)
{
    for (size_t i = 0; i < c->n_props;) {
        const struct raftsim_node *nd = &c->nodes[c->props[i].at];
        if (!nd->up || raft_state(&nd->core) != RAFT_LEADER ||
            raft_term(&nd->core) != c->props[i].term)
            c->props[i] = c->props[--c->n_props];
        else
            i++;
    }
}
