/* info.c — read-only accessors of the Raft core, for `tribune info`, the agent and tests.
 * They never change the core and are safe to call at any time, even between ready and advance. */
#include "raft/core.h"

enum raft_role raft_state(const struct raft *r)
{
    return r->role;
}

uint64_t raft_term(const struct raft *r)
{
    return r->term;
}

raft_id raft_leader(const struct raft *r)
{
    return r->leader;
}

raft_id raft_vote(const struct raft *r)
{
    return r->vote;
}

uint64_t raft_commit_index(const struct raft *r)
{
    return r->commit;
}

uint64_t raft_applied_index(const struct raft *r)
{
    return r->applied;
}

uint64_t raft_last_index(const struct raft *r)
{
    return raft_memlog_last(&r->log);
}

uint64_t raft_last_term(const struct raft *r)
{
    return raft_memlog_last_term(&r->log);
}

uint64_t raft_snapshot_index(const struct raft *r)
{
    return r->snap.index;
}

uint64_t raft_snapshot_term(const struct raft *r)
{
    return r->snap.term;
}

uint64_t raft_last_contact(const struct raft *r)
{
    return r->role == RAFT_LEADER ? 0 : r->last_contact;
}

const struct raft_config *raft_configuration(const struct raft *r)
{
    return &r->config;
}

uint64_t raft_configuration_index(const struct raft *r)
{
    return r->config_index != 0 ? r->config_index : r->snap.index;
}

const char *raft_leader_addr(const struct raft *r)
{
    if (r->leader == 0)
        return NULL;
    const struct raft_server *s = raft_config_find(&r->config, r->leader);
    return s ? s->addr : NULL;
}

const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index)
{
    return raft_memlog_at(&r->log, index);
}
