/* lib_raftsim_check.c — the simulator's safety properties: election safety, state machine safety
 * (one entry per index, same FSM hash), durability of acknowledged entries, leader completeness
 * and log matching. The registry of applied entries is the ground truth they share. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/lib_raftsim.h"

void raftsim_check_init(struct raftsim_check *c)
{
    memset(c, 0, sizeof *c);
}

void raftsim_check_free(struct raftsim_check *c)
{
    free(c->leader_of_term);
    free(c->reg);
    memset(c, 0, sizeof *c);
}

void raftsim_check_fail(struct raftsim_check *c, const char *fmt, ...)
{
    if (c->failed)
        return; /* the first violation is the interesting one */
    c->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
}

/* Grows a zero-filled table to hold index i. */
static int grow(void **tab, size_t *cap, size_t elem, uint64_t i)
{
    if (i < *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n <= i)
        n *= 2;
    uint8_t *p = realloc(*tab, n * elem);
    if (!p)
        return -1;
    memset(p + *cap * elem, 0, (n - *cap) * elem);
    *tab = p;
    *cap = n;
    return 0;
}

void raftsim_check_leader(struct raftsim_check *c, uint64_t term, raft_id id)
{
    void *tab = c->leader_of_term;
    if (grow(&tab, &c->lot_cap, sizeof(raft_id), term)) {
        raftsim_check_fail(c, "out of memory");
        return;
    }
    c->leader_of_term = tab;
    raft_id *slot = &c->leader_of_term[term];
    if (*slot && *slot != id)
        raftsim_check_fail(c, "election safety: servers %llu and %llu both leader in term %llu",
                           (unsigned long long)*slot, (unsigned long long)id,
                           (unsigned long long)term);
    *slot = id;
}

static struct raftsim_reg *reg_at(struct raftsim_check *c, uint64_t index)
{
    void *tab = c->reg;
    if (grow(&tab, &c->reg_cap, sizeof(struct raftsim_reg), index)) {
        raftsim_check_fail(c, "out of memory");
        return NULL;
    }
    c->reg = tab;
    return &c->reg[index];
}

void raftsim_check_apply(struct raftsim_check *c, raft_id id, const struct raft_entry *e,
                         const struct raftsim_fsm *fsm)
{
    struct raftsim_reg *r = reg_at(c, e->index);
    if (!r)
        return;
    uint32_t crc = raftsim_entry_crc(e);
    if (!r->set) {
        if (r->acked && (r->term != e->term || r->crc != crc))
            raftsim_check_fail(c,
                               "acknowledged entry changed: index %llu acked as term %llu, server "
                               "%llu applies term %llu",
                               (unsigned long long)e->index, (unsigned long long)r->term,
                               (unsigned long long)id, (unsigned long long)e->term);
        r->set = true;
        r->type = e->type;
        r->by = id;
        r->term = e->term;
        r->crc = crc;
        r->chain = fsm->hash;
        if (e->index > c->max_applied)
            c->max_applied = e->index;
        return;
    }
    if (r->term != e->term || r->crc != crc || r->type != e->type)
        raftsim_check_fail(c,
                           "state machine safety: index %llu applied as term %llu type %u by "
                           "server %llu but as term %llu type %u by server %llu%s",
                           (unsigned long long)e->index, (unsigned long long)r->term, r->type,
                           (unsigned long long)r->by, (unsigned long long)e->term, e->type,
                           (unsigned long long)id, r->acked ? " (acknowledged entry lost)" : "");
    else if (r->chain != fsm->hash)
        raftsim_check_fail(c,
                           "state machine safety: server %llu reaches a different FSM state than "
                           "server %llu at index %llu (a command was skipped or applied twice)",
                           (unsigned long long)id, (unsigned long long)r->by,
                           (unsigned long long)e->index);
}

void raftsim_check_restore(struct raftsim_check *c, raft_id id, const struct raftsim_fsm *fsm)
{
    if (fsm->applied >= c->reg_cap || !c->reg[fsm->applied].set)
        return; /* nobody applied it yet: the first applier defines the chain later */
    if (c->reg[fsm->applied].chain != fsm->hash)
        raftsim_check_fail(c,
                           "snapshot safety: server %llu restored a state at index %llu that "
                           "differs from what server %llu applied there",
                           (unsigned long long)id, (unsigned long long)fsm->applied,
                           (unsigned long long)c->reg[fsm->applied].by);
}

void raftsim_check_ack(struct raftsim_check *c, uint64_t index, uint64_t term, uint32_t crc)
{
    struct raftsim_reg *r = reg_at(c, index);
    if (!r)
        return;
    if (r->set && (r->term != term || r->crc != crc))
        raftsim_check_fail(c,
                           "client acknowledged index %llu term %llu but index %llu was applied "
                           "as term %llu",
                           (unsigned long long)index, (unsigned long long)term,
                           (unsigned long long)index, (unsigned long long)r->term);
    if (!r->set) {
        r->term = term;
        r->crc = crc;
    }
    r->acked = true;
    c->acks++;
}

void raftsim_check_commit(struct raftsim_check *c, raft_id id, uint64_t term,
                          const struct raft_entry *e)
{
    struct raftsim_reg *r = reg_at(c, e->index);
    if (!r)
        return;
    uint32_t crc = raftsim_entry_crc(e);
    if (!r->commit_term) {
        r->commit_term = term;
        r->c_eterm = e->term;
        r->c_crc = crc;
    } else if (r->c_eterm != e->term || r->c_crc != crc) {
        raftsim_check_fail(c,
                           "commit safety: leader %llu of term %llu commits index %llu as term "
                           "%llu, but a leader of term %llu committed term %llu there",
                           (unsigned long long)id, (unsigned long long)term,
                           (unsigned long long)e->index, (unsigned long long)e->term,
                           (unsigned long long)r->commit_term, (unsigned long long)r->c_eterm);
    } else if (term < r->commit_term) {
        r->commit_term = term;
    }
    if (e->index > c->max_committed)
        c->max_committed = e->index;
}

void raftsim_check_leader_complete(struct raftsim_check *c, raft_id id, uint64_t term,
                                   const struct raftsim_image *log)
{
    uint64_t covered = log->has_snap ? log->snap_index : 0;
    for (uint64_t i = covered + 1; i <= c->max_committed && i < c->reg_cap; i++) {
        const struct raftsim_reg *r = &c->reg[i];
        if (!r->commit_term || r->commit_term >= term)
            continue;
        const struct raft_entry *e = raftsim_image_entry(log, i);
        if (!e || e->term != r->c_eterm || raftsim_entry_crc(e) != r->c_crc) {
            raftsim_check_fail(c,
                               "leader completeness: leader %llu of term %llu lacks index %llu "
                               "(term %llu) committed in term %llu%s",
                               (unsigned long long)id, (unsigned long long)term,
                               (unsigned long long)i, (unsigned long long)r->c_eterm,
                               (unsigned long long)r->commit_term,
                               e ? ": it holds a different entry there" : "");
            return;
        }
    }
}

void raftsim_check_log_matching(struct raftsim_check *c, raft_id ia, const struct raftsim_image *a,
                                raft_id ib, const struct raftsim_image *b)
{
    if (!a->n || !b->n)
        return;
    uint64_t lo = a->ents[0].index > b->ents[0].index ? a->ents[0].index : b->ents[0].index;
    uint64_t la = a->ents[a->n - 1].index, lb = b->ents[b->n - 1].index;
    uint64_t hi = la < lb ? la : lb;
    /* Find the highest index where both logs hold the same term; below it they must agree. */
    uint64_t i = hi;
    for (; i >= lo && i > 0; i--)
        if (raftsim_image_entry(a, i)->term == raftsim_image_entry(b, i)->term)
            break;
    for (; i >= lo && i > 0; i--) {
        const struct raft_entry *ea = raftsim_image_entry(a, i), *eb = raftsim_image_entry(b, i);
        if (ea->term != eb->term || ea->type != eb->type ||
            raftsim_entry_crc(ea) != raftsim_entry_crc(eb)) {
            raftsim_check_fail(c,
                               "log matching: servers %llu and %llu agree on a later index but "
                               "differ at index %llu (terms %llu vs %llu)",
                               (unsigned long long)ia, (unsigned long long)ib,
                               (unsigned long long)i, (unsigned long long)ea->term,
                               (unsigned long long)eb->term);
            return;
        }
    }
}
