/* state.c — the state machine's lifecycle and its apply entry point: decode, dispatch to the
 * catalog or KV, advance the per-table indexes that blocking queries watch, notify. */
#include <stdlib.h>

#include "state/state_impl.h"

struct state *state_create(void)
{
    return calloc(1, sizeof(struct state));
}

void state_clear(struct state *st)
{
    for (size_t i = 0; i < st->nodes.n; i++)
        catalog_node_free(st->nodes.v[i]);
    for (size_t i = 0; i < st->services.n; i++)
        catalog_service_free(st->services.v[i]);
    for (size_t i = 0; i < st->checks.n; i++)
        catalog_check_free(st->checks.v[i]);
    for (size_t i = 0; i < st->kv.n; i++)
        kv_entry_free(st->kv.v[i]);
    st->nodes.n = st->services.n = st->checks.n = st->kv.n = 0;
    st->services_by_name.n = 0;
}

void state_free_tables(struct state *st)
{
    state_clear(st);
    state_vec_free(&st->nodes);
    state_vec_free(&st->services);
    state_vec_free(&st->services_by_name);
    state_vec_free(&st->checks);
    state_vec_free(&st->kv);
}

void state_destroy(struct state *st)
{
    if (!st)
        return;
    state_free_tables(st);
    free(st);
}

void state_set_watch(struct state *st, state_watch_fn fn, void *ctx)
{
    st->watch = fn;
    st->watch_ctx = ctx;
}

uint64_t state_last_index(const struct state *st)
{
    return st->last_index;
}

enum state_err state_apply(struct state *st, uint64_t index, const void *data, size_t len,
                           struct state_result *res)
{
    struct state_result ignored;
    if (!res)
        res = &ignored;
    if (index <= st->last_index) {
        state_result_set(res, STATE_EINDEX, "apply at index %llu, not after last applied %llu",
                         (unsigned long long)index, (unsigned long long)st->last_index);
        return res->err;
    }
    struct state_cmd cmd;
    unsigned changed = 0;
    char why[STATE_ERR_LEN];
    if (state_cmd_decode(data, len, &cmd, why) != 0) {
        state_result_set(res, STATE_EMALFORMED, "%s", why);
    } else if (cmd.op >= STATE_OP_KV_SET) {
        changed = kv_apply(st, index, &cmd, res);
    } else {
        changed = catalog_apply(st, index, &cmd, res);
    }
    /* Out of memory is the one outcome that may differ between servers, so the entry is not
     * consumed: the caller must stop rather than diverge. */
    if (res->err == STATE_ENOMEM)
        return res->err;
    st->last_index = index;
    for (unsigned t = 0; t < STATE_IX_COUNT; t++)
        if (changed & (1u << t))
            st->table_index[t] = index;
    if (st->watch)
        st->watch(st->watch_ctx, index, changed);
    return res->err;
}
