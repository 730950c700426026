/* progress.c — the leader's per-follower replication state: probe / replicate / snapshot, and
 * the ring of in-flight appends that bounds pipelining to max_inflight_msgs. */
#include "raft/core.h"

#include <stdlib.h>
#include <string.h>

struct raft_progress *raft_progress_find(struct raft *r, raft_id id)
{
    for (size_t i = 0; i < r->n_prs; i++)
        if (r->prs[i].id == id)
            return &r->prs[i];
    return NULL;
}

void raft_progress_free_all(struct raft *r)
{
    for (size_t i = 0; i < r->n_prs; i++)
        free(r->prs[i].infl);
    free(r->prs);
    r->prs = NULL;
    r->n_prs = 0;
}

static void init_pr(struct raft *r, struct raft_progress *pr, raft_id id)
{
    memset(pr, 0, sizeof *pr);
    pr->id = id;
    pr->next = raft_memlog_last(&r->log) + 1;
    pr->state = RAFT_PR_PROBE;
    pr->recent_active = true; /* a fresh leader gives everyone one check-quorum round */
}

int raft_progress_sync(struct raft *r, bool fresh)
{
    if (fresh)
        raft_progress_free_all(r);
    size_t n = 0;
    for (uint32_t i = 0; i < r->config.n; i++)
        if (r->config.servers[i].id != r->o.id)
            n++;
    struct raft_progress *v = calloc(n ? n : 1, sizeof *v);
    if (v == NULL)
        return RAFT_ENOMEM;
    size_t k = 0;
    for (uint32_t i = 0; i < r->config.n; i++) {
        const struct raft_server *s = &r->config.servers[i];
        if (s->id == r->o.id)
            continue;
        struct raft_progress *old = raft_progress_find(r, s->id);
        if (old) {
            v[k] = *old;
            old->infl = NULL;
        } else {
            init_pr(r, &v[k], s->id);
            memcpy(v[k].addr, s->addr, sizeof v[k].addr);
            raft_logf(r, LOG_INFO, "Added peer %s, starting replication", s->addr);
        }
        k++;
    }
    for (size_t i = 0; i < r->n_prs; i++) {
        if (raft_config_find(&r->config, r->prs[i].id) == NULL)
            raft_logf(r, LOG_INFO, "Removed peer %s, stopping replication (Index: %llu)",
                      r->prs[i].addr, (unsigned long long)raft_memlog_last(&r->log));
        free(r->prs[i].infl);
    }
    free(r->prs);
    r->prs = v;
    r->n_prs = k;
    return RAFT_OK;
}

void raft_progress_become_probe(struct raft *r, struct raft_progress *pr)
{
    (void)r;
    pr->state = RAFT_PR_PROBE;
    pr->paused = false;
    pr->infl_head = pr->infl_n = 0;
    pr->next = pr->match + 1;
}

void raft_progress_become_replicate(struct raft *r, struct raft_progress *pr)
{
    (void)r;
    pr->stalls = 0;
    pr->hb_match = pr->match;
    pr->state = RAFT_PR_REPLICATE;
    pr->paused = false;
    pr->infl_head = pr->infl_n = 0;
    pr->next = pr->match + 1;
}

bool raft_progress_full(const struct raft *r, const struct raft_progress *pr)
{
    return pr->state == RAFT_PR_REPLICATE && pr->infl_n >= r->o.max_inflight_msgs;
}

void raft_progress_infl_add(const struct raft *r, struct raft_progress *pr, uint64_t last)
{
    uint32_t cap = r->o.max_inflight_msgs;
    if (pr->infl == NULL) {
        pr->infl = calloc(cap, sizeof *pr->infl);
        if (pr->infl == NULL)
            return; /* untracked: the stream still works, only unbounded */
    }
    if (pr->infl_n >= cap)
        return;
    pr->infl[(pr->infl_head + pr->infl_n) % cap] = last;
    pr->infl_n++;
}

void raft_progress_infl_free_to(const struct raft *r, struct raft_progress *pr, uint64_t index)
{
    uint32_t cap = r->o.max_inflight_msgs;
    while (pr->infl_n && pr->infl[pr->infl_head] <= index) {
        pr->infl_head = (pr->infl_head + 1) % cap;
        pr->infl_n--;
    }
}
