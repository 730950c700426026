/* lib_raftsim_disk.c — the simulated disk: every write lands in the cached image at once and is
 * queued; sync makes the queue durable; a crash keeps only a random (maybe torn) prefix of it. */
#include <stdlib.h>
#include <string.h>

#include "raft/config.h"
#include "sim/lib_raftsim.h"

static void image_free(struct raftsim_image *im)
{
    for (size_t i = 0; i < im->n; i++)
        raftsim_entry_free(&im->ents[i]);
    free(im->ents);
    raft_config_free(&im->snap_config);
    free(im->snap_data);
    memset(im, 0, sizeof *im);
}

uint64_t raftsim_image_last_index(const struct raftsim_image *im)
{
    if (im->n)
        return im->ents[im->n - 1].index;
    return im->has_snap ? im->snap_index : 0;
}

uint64_t raftsim_image_last_term(const struct raftsim_image *im)
{
    if (im->n)
        return im->ents[im->n - 1].term;
    return im->has_snap ? im->snap_term : 0;
}

const struct raft_entry *raftsim_image_entry(const struct raftsim_image *im, uint64_t index)
{
    if (!im->n || index < im->ents[0].index || index > im->ents[im->n - 1].index)
        return NULL;
    return &im->ents[index - im->ents[0].index];
}

static void drop_from(struct raftsim_image *im, uint64_t from)
{
    while (im->n && im->ents[im->n - 1].index >= from)
        raftsim_entry_free(&im->ents[--im->n]);
}

static void drop_upto(struct raftsim_image *im, uint64_t upto)
{
    size_t k = 0;
    while (k < im->n && im->ents[k].index <= upto)
        raftsim_entry_free(&im->ents[k++]);
    memmove(im->ents, im->ents + k, (im->n - k) * sizeof *im->ents);
    im->n -= k;
}

static int push(struct raftsim_image *im, const struct raft_entry *e)
{
    if (im->n == im->cap) {
        size_t cap = im->cap ? im->cap * 2 : 32;
        struct raft_entry *p = realloc(im->ents, cap * sizeof *p);
        if (!p)
            return -1;
        im->ents = p;
        im->cap = cap;
    }
    if (raftsim_entry_copy(&im->ents[im->n], e))
        return -1;
    im->n++;
    return 0;
}

static int set_snap(struct raftsim_image *im, uint64_t index, uint64_t term,
                    const struct raft_config *cfg, const uint8_t *data, uint32_t len)
{
    raft_config_free(&im->snap_config);
    free(im->snap_data);
    im->snap_data = NULL;
    im->snap_len = 0;
    if (raft_config_copy(&im->snap_config, cfg))
        return -1;
    if (len) {
        im->snap_data = malloc(len);
        if (!im->snap_data)
            return -1;
        memcpy(im->snap_data, data, len);
        im->snap_len = len;
    }
    im->has_snap = true;
    im->snap_index = index;
    im->snap_term = term;
    /* A log that agrees at the snapshot point keeps its entries; any other log is superseded. */
    const struct raft_entry *e = raftsim_image_entry(im, index);
    if (!e || e->term != term)
        drop_from(im, 0);
    return 0;
}

/* Applies the first `keep` entries of op (all of them for other kinds). -1 when the write breaks
 * the log's shape, which only a core violating its persistence contract can cause. */
static int image_apply(struct raftsim_image *im, const struct raftsim_op *op, size_t keep)
{
    switch (op->kind) {
    case RAFTSIM_OP_HARD:
        im->term = op->a;
        im->vote = op->b;
        return 0;
    case RAFTSIM_OP_APPEND: {
        if (!keep)
            return 0;
        uint64_t from = op->ents[0].index;
        uint64_t lo = im->n ? im->ents[0].index : (im->has_snap ? im->snap_index + 1 : 1);
        uint64_t hi = raftsim_image_last_index(im) + 1;
        if (from > hi || from < lo)
            return -1;
        drop_from(im, from);
        for (size_t i = 0; i < keep; i++) {
            if (op->ents[i].index != from + i)
                return -1;
            if (push(im, &op->ents[i]))
                return -1;
        }
        return 0;
    }
    case RAFTSIM_OP_SNAP:
        return set_snap(im, op->a, op->b, &op->cfg, op->data, op->len);
    case RAFTSIM_OP_COMPACT:
        drop_upto(im, op->a);
        return 0;
    case RAFTSIM_OP_TRUNCATE:
        drop_from(im, op->a);
        return 0;
    }
    return -1;
}

static void op_free(struct raftsim_op *op)
{
    for (size_t i = 0; i < op->n; i++)
        raftsim_entry_free(&op->ents[i]);
    free(op->ents);
    raft_config_free(&op->cfg);
    free(op->data);
    memset(op, 0, sizeof *op);
}

void raftsim_disk_init(struct raftsim_disk *d)
{
    memset(d, 0, sizeof *d);
}

void raftsim_disk_free(struct raftsim_disk *d)
{
    for (size_t i = 0; i < d->nops; i++)
        op_free(&d->ops[i]);
    free(d->ops);
    image_free(&d->durable);
    image_free(&d->cache);
    memset(d, 0, sizeof *d);
}

/* Takes ownership of *op: applies it to the cache and queues it until the next sync. */
static int submit(struct raftsim_disk *d, struct raftsim_op *op)
{
    if (d->nops == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct raftsim_op *p = realloc(d->ops, cap * sizeof *p);
        if (!p) {
            op_free(op);
            return -1;
        }
        d->ops = p;
        d->cap = cap;
    }
    if (image_apply(&d->cache, op, op->n)) {
        op_free(op);
        return -1;
    }
    d->ops[d->nops++] = *op;
    return 0;
}

int raftsim_disk_set_hard(struct raftsim_disk *d, uint64_t term, raft_id vote)
{
    struct raftsim_op op = {.kind = RAFTSIM_OP_HARD, .a = term, .b = vote};
    return submit(d, &op);
}

int raftsim_disk_append(struct raftsim_disk *d, const struct raft_entry *ents, size_t n)
{
    if (!n)
        return 0;
    struct raftsim_op op = {.kind = RAFTSIM_OP_APPEND};
    op.ents = calloc(n, sizeof *op.ents);
    if (!op.ents)
        return -1;
    for (size_t i = 0; i < n; i++, op.n++)
        if (raftsim_entry_copy(&op.ents[i], &ents[i])) {
            op_free(&op);
            return -1;
        }
    return submit(d, &op);
}

int raftsim_disk_truncate(struct raftsim_disk *d, uint64_t from)
{
    struct raftsim_op op = {.kind = RAFTSIM_OP_TRUNCATE, .a = from};
    return submit(d, &op);
}

int raftsim_disk_snapshot(struct raftsim_disk *d, uint64_t index, uint64_t term,
                          const struct raft_config *cfg, const uint8_t *data, uint32_t len)
{
    struct raftsim_op op = {.kind = RAFTSIM_OP_SNAP, .a = index, .b = term};
    if (raft_config_copy(&op.cfg, cfg))
        return -1;
    if (len) {
        op.data = malloc(len);
        if (!op.data) {
            op_free(&op);
            return -1;
        }
        memcpy(op.data, data, len);
        op.len = len;
    }
    return submit(d, &op);
}

int raftsim_disk_compact(struct raftsim_disk *d, uint64_t upto)
{
    struct raftsim_op op = {.kind = RAFTSIM_OP_COMPACT, .a = upto};
    return submit(d, &op);
}

void raftsim_disk_sync(struct raftsim_disk *d)
{
    for (size_t i = 0; i < d->nops; i++) {
        (void)image_apply(&d->durable, &d->ops[i], d->ops[i].n); /* validated by the cache */
        op_free(&d->ops[i]);
    }
    d->nops = 0;
    d->syncs++;
}

static int image_copy(struct raftsim_image *dst, const struct raftsim_image *src)
{
    memset(dst, 0, sizeof *dst);
    dst->term = src->term;
    dst->vote = src->vote;
    if (src->has_snap &&
        set_snap(dst, src->snap_index, src->snap_term, &src->snap_config, src->snap_data,
                 src->snap_len))
        return -1;
    for (size_t i = 0; i < src->n; i++)
        if (push(dst, &src->ents[i]))
            return -1;
    return 0;
}

void raftsim_disk_crash(struct raftsim_disk *d, struct raftsim_rng *rng, unsigned tear_pm)
{
    /* The page cache may have flushed any prefix of the unsynced writes before power went. */
    size_t keep = (size_t)raftsim_rng_below(rng, d->nops + 1);
    for (size_t i = 0; i < keep; i++)
        (void)image_apply(&d->durable, &d->ops[i], d->ops[i].n);
    if (keep < d->nops && d->ops[keep].kind == RAFTSIM_OP_APPEND && d->ops[keep].n > 1 &&
        raftsim_rng_pm(rng, tear_pm)) {
        /* Torn: some whole records of the write made it, the rest fail their CRC and are cut. */
        (void)image_apply(&d->durable, &d->ops[keep],
                          (size_t)raftsim_rng_range(rng, 1, d->ops[keep].n - 1));
        d->torn++;
    }
    for (size_t i = 0; i < d->nops; i++)
        op_free(&d->ops[i]);
    d->nops = 0;
    image_free(&d->cache);
    if (image_copy(&d->cache, &d->durable)) {
        /* Out of memory in a test harness: nothing sensible to continue with. */
        abort();
    }
}
