/* membership.c — single-server configuration changes: the configuration in effect (newest in the
 * log), quorum arithmetic, add as non-voter, automatic promotion, removal (also of the leader). */
#include "raft/core.h"

#include <string.h>

bool raft_is_voter(const struct raft *r, raft_id id)
{
    const struct raft_server *s = raft_config_find(&r->config, id);
    return s != NULL && s->voter;
}

bool raft_promotable(const struct raft *r)
{
    if (raft_is_voter(r, r->o.id))
        return true;
    if (r->config_index == 0 || r->config_index <= r->commit)
        return false;
    /* Our removal is not committed yet. If nobody else can win (they may lack the entry and
     * need our vote, which our newer log denies them), we must still be able to run, and
     * then count votes by the newest configuration, as always. */
    struct raft_config prev;
    if (raft_config_at(r, r->config_index - 1, &prev) != RAFT_OK)
        return false;
    const struct raft_server *s = raft_config_find(&prev, r->o.id);
    bool ok = s != NULL && s->voter;
    raft_config_free(&prev);
    return ok;
}

uint32_t raft_quorum(const struct raft *r)
{
    return raft_config_voters(&r->config) / 2 + 1;
}

/* Newest CONFIG entry at or below index that decodes; 0 if none in memory. */
static uint64_t find_config(const struct raft *r, uint64_t index, struct raft_config *out)
{
    uint64_t last = raft_memlog_last(&r->log);
    if (index > last)
        index = last;
    for (uint64_t i = index; i > r->log.base; i--) {
        const struct raft_entry *e = raft_memlog_at(&r->log, i);
        if (e->type != RAFT_ENTRY_CONFIG)
            continue;
        if (raft_config_decode(e->data, e->len, out) == 0)
            return i;
        raft_logf(r, LOG_ERR, "ignoring undecodable configuration entry at index %llu",
                  (unsigned long long)i);
    }
    return 0;
}

void raft_config_refresh(struct raft *r)
{
    struct raft_config c = {0, NULL};
    uint64_t idx = find_config(r, raft_memlog_last(&r->log), &c);
    if (idx == 0 && raft_config_copy(&c, &r->snap.config) != 0)
        return; /* out of memory: keep the old one */
    raft_config_free(&r->config);
    r->config = c;
    r->config_index = idx;
    if (r->config.n)
        r->warned_no_peers = false;
    if (r->role == RAFT_LEADER)
        raft_progress_sync(r, false);
}

int raft_config_at(const struct raft *r, uint64_t index, struct raft_config *out)
{
    out->n = 0;
    out->servers = NULL;
    if (find_config(r, index, out))
        return RAFT_OK;
    return raft_config_copy(out, &r->snap.config) == 0 ? RAFT_OK : RAFT_ENOMEM;
}

static int change_allowed(const struct raft *r)
{
    if (r->in_ready)
        return RAFT_EINVAL;
    if (r->role != RAFT_LEADER)
        return RAFT_ENOTLEADER;
    if (r->transferee)
        return RAFT_ETRANSFER;
    /* Note 8: one change at a time, and only after an entry of this term is committed. */
    if (!r->own_term_committed || r->pending_conf_index > r->commit)
        return RAFT_EBUSY;
    return RAFT_OK;
}

static int append_config(struct raft *r, const struct raft_config *c)
{
    struct buf b;
    buf_init(&b, 0);
    if (raft_config_encode(c, &b) != 0) {
        buf_free(&b);
        return RAFT_ETOOBIG;
    }
    uint64_t idx;
    int rc = raft_append_local(r, RAFT_ENTRY_CONFIG, b.data, b.len, &idx);
    buf_free(&b);
    if (rc == RAFT_OK)
        r->pending_conf_index = idx;
    return rc;
}

int raft_add_server(struct raft *r, raft_id id, const char *addr)
{
    int rc = change_allowed(r);
    if (rc != RAFT_OK)
        return rc;
    if (id == 0 || addr == NULL || strlen(addr) >= RAFT_ADDR_MAX)
        return RAFT_EINVAL;
    if (raft_config_find(&r->config, id))
        return RAFT_EEXIST;
    struct raft_config c;
    if (raft_config_copy(&c, &r->config) != 0)
        return RAFT_ENOMEM;
    /* A new server starts as a non-voter: it counts toward no quorum while it catches up. */
    rc = raft_config_put(&c, id, addr, false) == 0 ? append_config(r, &c) : RAFT_ETOOBIG;
    raft_config_free(&c);
    return rc;
}

int raft_remove_server(struct raft *r, raft_id id)
{
    int rc = change_allowed(r);
    if (rc != RAFT_OK)
        return rc;
    const struct raft_server *s = raft_config_find(&r->config, id);
    if (s == NULL)
        return RAFT_ENOTFOUND;
    if (s->voter && raft_config_voters(&r->config) == 1)
        return RAFT_EINVAL; /* removing the last voter would leave nobody to elect */
    struct raft_config c;
    if (raft_config_copy(&c, &r->config) != 0)
        return RAFT_ENOMEM;
    raft_config_remove(&c, id);
    rc = append_config(r, &c);
    raft_config_free(&c);
    return rc;
}

void raft_maybe_promote(struct raft *r, struct raft_progress *pr)
{
    const struct raft_server *s = raft_config_find(&r->config, pr->id);
    if (s == NULL || s->voter || change_allowed(r) != RAFT_OK || pr->match < r->commit)
        return;
    struct raft_config c;
    if (raft_config_copy(&c, &r->config) != 0)
        return;
    raft_logf(r, LOG_INFO, "promoting %s to voter (caught up at index %llu)", s->addr,
              (unsigned long long)pr->match);
    if (raft_config_put(&c, pr->id, s->addr, true) == 0)
        append_config(r, &c);
    raft_config_free(&c);
}

void raft_check_self_removal(struct raft *r)
{
    if (r->role != RAFT_LEADER || r->config_index > r->commit || raft_is_voter(r, r->o.id))
        return;
    raft_logf(r, LOG_INFO, "Removed ourself, transitioning to follower");
    uint64_t last = raft_memlog_last(&r->log);
    raft_id best = 0;
    for (size_t i = 0; i < r->n_prs; i++)
        if (raft_is_voter(r, r->prs[i].id) && r->prs[i].match == last)
            best = r->prs[i].id;
    raft_become_follower(r, r->term, 0);
    /* Hand over at once instead of making the others wait out an election timeout. */
    if (best)
        raft_send(r, best, RAFT_MSG_TIMEOUT_NOW, false);
}
