/* readindex.c — linearizable reads without a log write (thesis §6.4): note the commit index,
 * confirm leadership with a heartbeat round acknowledged by a quorum, then serve once applied. */
#include "raft/core.h"

#include <stdlib.h>

static int push_ready(struct raft *r, uint64_t ctx, uint64_t index, bool ok)
{
    if (r->n_ready_reads == r->cap_ready_reads) {
        size_t cap = r->cap_ready_reads ? r->cap_ready_reads * 2 : 8;
        struct raft_read_state *v = realloc(r->ready_reads, cap * sizeof *v);
        if (v == NULL)
            return RAFT_ENOMEM;
        r->ready_reads = v;
        r->cap_ready_reads = cap;
    }
    r->ready_reads[r->n_ready_reads++] = (struct raft_read_state){ctx, index, ok};
    return RAFT_OK;
}

int raft_read_index(struct raft *r, uint64_t ctx)
{
    if (r->in_ready)
        return RAFT_EINVAL;
    if (r->role != RAFT_LEADER)
        return RAFT_ENOTLEADER;
    if (r->n_reads == r->cap_reads) {
        size_t cap = r->cap_reads ? r->cap_reads * 2 : 8;
        struct raft_pending_read *v = realloc(r->reads, cap * sizeof *v);
        if (v == NULL)
            return RAFT_ENOMEM;
        r->reads = v;
        r->cap_reads = cap;
    }
    struct raft_pending_read *p = &r->reads[r->n_reads++];
    p->ctx = ctx;
    p->index = 0;
    p->round = 0;
    /* Until the no-op of this term commits, commit may lag what earlier leaders committed:
     * such a read waits (raft_reads_start_waiting). */
    if (r->own_term_committed) {
        p->index = r->commit;
        p->round = ++r->read_round;
        raft_bcast_heartbeat(r);
        raft_reads_check(r);
    }
    return RAFT_OK;
}

void raft_reads_start_waiting(struct raft *r)
{
    bool any = false;
    for (size_t i = 0; i < r->n_reads; i++) {
        if (r->reads[i].round == 0) {
            if (!any)
                ++r->read_round;
            any = true;
            r->reads[i].index = r->commit;
            r->reads[i].round = r->read_round;
        }
    }
    if (any) {
        raft_bcast_heartbeat(r);
        raft_reads_check(r);
    }
}

/* True when a quorum of voters (ourselves included) acknowledged round or a later one. */
static bool confirmed(const struct raft *r, uint64_t round)
{
    uint32_t acks = raft_is_voter(r, r->o.id) ? 1 : 0;
    for (size_t i = 0; i < r->n_prs; i++)
        if (r->prs[i].read_ack >= round && raft_is_voter(r, r->prs[i].id))
            acks++;
    return acks >= raft_quorum(r);
}

void raft_reads_check(struct raft *r)
{
    size_t k = 0;
    for (size_t i = 0; i < r->n_reads; i++) {
        struct raft_pending_read *p = &r->reads[i];
        if (p->round && confirmed(r, p->round) && push_ready(r, p->ctx, p->index, true) == 0)
            continue;
        r->reads[k++] = *p;
    }
    r->n_reads = k;
}

void raft_reads_fail_all(struct raft *r)
{
    for (size_t i = 0; i < r->n_reads; i++)
        push_ready(r, r->reads[i].ctx, 0, false);
    r->n_reads = 0;
}
