/* memlog.c — the Raft core's in-memory copy of the log since the last compaction.
 * Owns entry payloads (deep copies); indexes are contiguous from base + 1. */
#include "raft/core.h"

#include <stdlib.h>
#include <string.h>

void raft_memlog_init(struct raft_memlog *l, uint64_t base, uint64_t base_term)
{
    l->base = base;
    l->base_term = base_term;
    l->entries = NULL;
    l->n = 0;
    l->cap = 0;
}

static void free_range(struct raft_memlog *l, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        free(l->entries[i].data);
        l->entries[i].data = NULL;
    }
}

void raft_memlog_free(struct raft_memlog *l)
{
    free_range(l, 0, l->n);
    free(l->entries);
    l->entries = NULL;
    l->n = l->cap = 0;
}

uint64_t raft_memlog_last(const struct raft_memlog *l)
{
    return l->base + l->n;
}

uint64_t raft_memlog_last_term(const struct raft_memlog *l)
{
    return l->n ? l->entries[l->n - 1].term : l->base_term;
}

bool raft_memlog_term(const struct raft_memlog *l, uint64_t index, uint64_t *term)
{
    if (index == l->base) {
        *term = l->base_term;
        return true;
    }
    if (index < l->base || index > l->base + l->n)
        return false;
    *term = l->entries[index - l->base - 1].term;
    return true;
}

struct raft_entry *raft_memlog_at(const struct raft_memlog *l, uint64_t index)
{
    if (index <= l->base || index > l->base + l->n)
        return NULL;
    return &l->entries[index - l->base - 1];
}

int raft_memlog_append(struct raft_memlog *l, const struct raft_entry *e)
{
    if (e->index != raft_memlog_last(l) + 1)
        return RAFT_EINVAL;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct raft_entry *v = realloc(l->entries, cap * sizeof *v);
        if (v == NULL)
            return RAFT_ENOMEM;
        l->entries = v;
        l->cap = cap;
    }
    struct raft_entry c = *e;
    c.data = NULL;
    if (e->len) {
        c.data = malloc(e->len);
        if (c.data == NULL)
            return RAFT_ENOMEM;
        memcpy(c.data, e->data, e->len);
    }
    l->entries[l->n++] = c;
    return RAFT_OK;
}

void raft_memlog_truncate(struct raft_memlog *l, uint64_t from)
{
    if (from <= l->base || from > raft_memlog_last(l))
        return;
    size_t keep = (size_t)(from - l->base - 1);
    free_range(l, keep, l->n);
    l->n = keep;
}

void raft_memlog_compact(struct raft_memlog *l, uint64_t upto)
{
    if (upto <= l->base || upto > raft_memlog_last(l))
        return;
    size_t drop = (size_t)(upto - l->base);
    l->base_term = l->entries[drop - 1].term;
    free_range(l, 0, drop);
    memmove(l->entries, l->entries + drop, (l->n - drop) * sizeof *l->entries);
    l->n -= drop;
    l->base = upto;
}
