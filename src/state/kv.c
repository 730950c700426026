/* kv.c — applying KV commands with Consul's semantics: set keeps CreateIndex and LockIndex and
 * moves ModifyIndex to the applying index; check-and-set compares ModifyIndex (0 = create only);
 * deletes by key, by prefix, or by CAS. Allocation happens before any table is touched. */
#include <stdlib.h>
#include <string.h>

#include "state/state_impl.h"

int kv_entry_cmp(const void *item, const void *key)
{
    return state_strcmp(((const struct kv_entry *)item)->key, *(const struct state_str *)key);
}

void kv_entry_free(struct kv_entry *e)
{
    if (!e)
        return;
    free(e->key);
    free(e->value);
    free(e);
}

static unsigned kv_set(struct state *st, uint64_t index, const struct state_cmd *c,
                       struct state_result *res)
{
    bool found;
    size_t at = state_vec_lower(&st->kv, &c->key, kv_entry_cmp, &found);
    const struct kv_entry *old = found ? st->kv.v[at] : NULL;
    if (c->has_cas && (c->cas == 0 ? old != NULL : (!old || old->modify_index != c->cas))) {
        res->value = false;
        return 0;
    }
    struct kv_entry *e = calloc(1, sizeof *e);
    bool ok = e != NULL;
    if (ok) {
        e->key = state_strdup(c->key);
        ok = e->key != NULL;
    }
    if (ok && c->value_len) {
        e->value = malloc(c->value_len);
        ok = e->value != NULL;
        if (ok) {
            memcpy(e->value, c->value, c->value_len);
            e->value_len = c->value_len;
        }
    }
    ok = ok && (found || state_vec_reserve(&st->kv, 1) == 0);
    if (!ok) {
        kv_entry_free(e);
        state_result_set(res, STATE_ENOMEM, "out of memory applying KV set");
        return 0;
    }
    e->flags = c->flags;
    e->create_index = old ? old->create_index : index;
    e->modify_index = index;
    e->lock_index = old ? old->lock_index : 0;
    if (found) {
        kv_entry_free(st->kv.v[at]);
        st->kv.v[at] = e;
    } else {
        state_vec_insert(&st->kv, at, e);
    }
    return STATE_T_KV;
}

static unsigned kv_delete(struct state *st, const struct state_cmd *c, struct state_result *res)
{
    bool found;
    size_t at = state_vec_lower(&st->kv, &c->key, kv_entry_cmp, &found);
    if (!found)
        return 0;
    if (c->op == STATE_OP_KV_DELETE_CAS &&
        ((const struct kv_entry *)st->kv.v[at])->modify_index != c->cas) {
        res->value = false;
        return 0;
    }
    kv_entry_free(state_vec_remove(&st->kv, at));
    return STATE_T_KV;
}

static unsigned kv_delete_tree(struct state *st, const struct state_cmd *c)
{
    size_t lo = state_vec_lower(&st->kv, &c->key, kv_entry_cmp, NULL), hi = lo;
    while (hi < st->kv.n) {
        const struct kv_entry *e = st->kv.v[hi];
        /* Keys hold no NUL, so a shorter key differs within the first n bytes. */
        if (strncmp(e->key, c->key.n ? c->key.p : "", c->key.n) != 0)
            break;
        hi++;
    }
    if (hi == lo)
        return 0;
    for (size_t i = lo; i < hi; i++)
        kv_entry_free(st->kv.v[i]);
    memmove(st->kv.v + lo, st->kv.v + hi, (st->kv.n - hi) * sizeof(void *));
    st->kv.n -= hi - lo;
    return STATE_T_KV;
}

unsigned kv_apply(struct state *st, uint64_t index, const struct state_cmd *cmd,
                  struct state_result *res)
{
    res->err = STATE_OK;
    res->value = true;
    res->msg[0] = '\0';
    switch (cmd->op) {
    case STATE_OP_KV_SET:
        return kv_set(st, index, cmd, res);
    case STATE_OP_KV_DELETE:
    case STATE_OP_KV_DELETE_CAS:
        return kv_delete(st, cmd, res);
    case STATE_OP_KV_DELETE_TREE:
        return kv_delete_tree(st, cmd);
    default:
        state_result_set(res, STATE_EMALFORMED, "not a KV command");
        return 0;
    }
}
