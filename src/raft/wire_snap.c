/* wire_snap.c — reassembly of InstallSnapshot chunks from one peer into a whole snapshot message,
 * bounded by a size cap and refusing anything but the next chunk of the snapshot in progress. */
#include "raft/wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft/config.h"

static void snap_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void snap_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void raft_wire_snap_asm_init(struct raft_wire_snap_asm *a, uint64_t cap)
{
    memset(a, 0, sizeof *a);
    a->cap = cap;
    buf_init(&a->data, 1);
}

static void asm_reset(struct raft_wire_snap_asm *a)
{
    raft_config_free(&a->config);
    buf_free(&a->data);
    a->active = false;
}

void raft_wire_snap_asm_free(struct raft_wire_snap_asm *a)
{
    asm_reset(a);
}

static bool same_snapshot(const struct raft_wire_snap_asm *a, const struct raft_wire_chunk *c)
{
    return a->from == c->from && a->to == c->to && a->term == c->term &&
           a->last_index == c->last_index && a->last_term == c->last_term && a->total == c->total;
}

/* A transfer restarts at offset 0 (a new leader, or the old one timed out and began again), so a
 * first chunk always replaces whatever was half-assembled rather than being refused. */
static int asm_start(struct raft_wire_snap_asm *a, const struct raft_wire_chunk *c, char *err,
                     size_t errlen)
{
    asm_reset(a);
    if (c->total > a->cap) {
        snap_err(err, errlen, "snapshot of %llu bytes exceeds the %llu-byte limit",
                 (unsigned long long)c->total, (unsigned long long)a->cap);
        return -1;
    }
    if (raft_config_copy(&a->config, &c->config) != 0) {
        snap_err(err, errlen, "out of memory copying the snapshot configuration");
        return -1;
    }
    buf_init(&a->data, c->total ? (size_t)c->total : 1);
    a->active = true;
    a->from = c->from;
    a->to = c->to;
    a->term = c->term;
    a->last_index = c->last_index;
    a->last_term = c->last_term;
    a->total = c->total;
    return 0;
}

int raft_wire_snap_asm_feed(struct raft_wire_snap_asm *a, const struct raft_wire_chunk *c,
                            struct raft_msg *out, char *err, size_t errlen)
{
    /* The decoder guarantees these; a chunk built by other code gets the same scrutiny. */
    if (c->offset > c->total || c->len > c->total - c->offset ||
        c->done != (c->offset + c->len == c->total) || (c->len > 0 && c->data == NULL)) {
        snap_err(err, errlen, "inconsistent chunk (offset %llu, %u bytes, total %llu)",
                 (unsigned long long)c->offset, c->len, (unsigned long long)c->total);
        asm_reset(a);
        return -1;
    }
    if (c->offset == 0) {
        if (asm_start(a, c, err, errlen) != 0)
            return -1;
    } else if (!a->active) {
        snap_err(err, errlen, "snapshot chunk at offset %llu without a first chunk",
                 (unsigned long long)c->offset);
        return -1;
    } else if (!same_snapshot(a, c)) {
        snap_err(err, errlen, "snapshot chunk from %016llx (index %llu) does not belong to the "
                 "transfer in progress (index %llu)", (unsigned long long)c->from,
                 (unsigned long long)c->last_index, (unsigned long long)a->last_index);
        asm_reset(a);
        return -1;
    } else if (c->offset != a->data.len) {
        snap_err(err, errlen, "out-of-order snapshot chunk: offset %llu, expected %zu",
                 (unsigned long long)c->offset, a->data.len);
        asm_reset(a);
        return -1;
    }
    if (buf_append(&a->data, c->data, c->len) != 0) {
        snap_err(err, errlen, "out of memory assembling a snapshot");
        asm_reset(a);
        return -1;
    }
    if (!c->done)
        return 0;
    memset(out, 0, sizeof *out);
    out->type = RAFT_MSG_SNAPSHOT;
    out->from = a->from;
    out->to = a->to;
    out->term = a->term;
    out->u.snapshot.last_index = a->last_index;
    out->u.snapshot.last_term = a->last_term;
    out->u.snapshot.config = a->config;
    out->u.snapshot.len = (uint32_t)a->data.len;
    out->u.snapshot.data = a->data.len > 0 ? a->data.data : NULL;
    if (a->data.len == 0)
        buf_free(&a->data);
    /* Ownership moved to out: forget without freeing. */
    a->config.n = 0;
    a->config.servers = NULL;
    buf_init(&a->data, 1);
    a->active = false;
    return 1;
}

void raft_wire_snapshot_free(struct raft_msg *m)
{
    raft_config_free(&m->u.snapshot.config);
    free(m->u.snapshot.data);
    m->u.snapshot.data = NULL;
    m->u.snapshot.len = 0;
}
