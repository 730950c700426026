/* catalog.c — applying catalog commands (register, deregister node/service/check) with Consul's
 * rules: a node's removal cascades to its services and checks, a service's to its checks, and a
 * check naming a service needs that service. Every apply allocates first, then mutates, so a
 * refused or out-of-memory command leaves the tables exactly as they were. */
#include <stdlib.h>
#include <string.h>

#include "state/state_impl.h"

int catalog_node_cmp(const void *item, const void *key)
{
    return state_strcmp(((const struct catalog_node *)item)->name, *(const struct state_str *)key);
}

int catalog_service_cmp(const void *item, const void *key)
{
    const struct catalog_service *s = item;
    const struct state_key2 *k = key;
    int c = state_strcmp(s->node, k->node);
    return c ? c : state_strcmp(s->id, k->id);
}

int catalog_check_cmp(const void *item, const void *key)
{
    const struct catalog_check *s = item;
    const struct state_key2 *k = key;
    int c = state_strcmp(s->node, k->node);
    return c ? c : state_strcmp(s->id, k->id);
}

int catalog_service_name_cmp(const void *item, const void *key)
{
    const struct catalog_service *a = item, *b = key;
    int c = strcmp(a->service, b->service);
    if (!c)
        c = strcmp(a->node, b->node);
    return c ? c : strcmp(a->id, b->id);
}

static int service_name_qsort(const void *a, const void *b)
{
    return catalog_service_name_cmp(*(void *const *)a, *(void *const *)b);
}

/* Node names are never empty, so the empty node sorts before every service of that name. */
size_t catalog_services_named(const struct state *st, const char *name)
{
    struct catalog_service key = {.service = (char *)name, .node = "", .id = ""};
    return state_vec_lower(&st->services_by_name, &key, catalog_service_name_cmp, NULL);
}

const struct catalog_service *catalog_service_next(const struct state *st, const char *name,
                                                   const char *tag, size_t *i)
{
    for (; *i < st->services_by_name.n; (*i)++) {
        const struct catalog_service *s = st->services_by_name.v[*i];
        if (strcmp(s->service, name) != 0)
            return NULL;
        if (state_service_has_tag(s, tag))
            return s;
    }
    return NULL;
}

int catalog_index_services(struct state *st)
{
    st->services_by_name.n = 0;
    if (state_vec_reserve(&st->services_by_name, st->services.n) != 0)
        return -1;
    if (!st->services.n)
        return 0;
    memcpy(st->services_by_name.v, st->services.v, st->services.n * sizeof(void *));
    st->services_by_name.n = st->services.n;
    qsort(st->services_by_name.v, st->services_by_name.n, sizeof(void *), service_name_qsort);
    return 0;
}

static void by_name_insert(struct state *st, struct catalog_service *s)
{
    size_t at = state_vec_lower(&st->services_by_name, s, catalog_service_name_cmp, NULL);
    state_vec_insert(&st->services_by_name, at, s);
}

static void by_name_remove(struct state *st, const struct catalog_service *s)
{
    bool found;
    size_t at = state_vec_lower(&st->services_by_name, s, catalog_service_name_cmp, &found);
    if (found)
        state_vec_remove(&st->services_by_name, at);
}

/* Unlinks a service from both orders and frees it; i is its slot in st->services. */
static void service_drop(struct state *st, size_t i)
{
    struct catalog_service *s = state_vec_remove(&st->services, i);
    by_name_remove(st, s);
    catalog_service_free(s);
}

const struct catalog_node *catalog_find_node(const struct state *st, struct state_str name)
{
    bool found;
    size_t i = state_vec_lower(&st->nodes, &name, catalog_node_cmp, &found);
    return found ? st->nodes.v[i] : NULL;
}

const struct catalog_service *catalog_find_service(const struct state *st, struct state_str node,
                                                   struct state_str id)
{
    struct state_key2 k = {node, id};
    bool found;
    size_t i = state_vec_lower(&st->services, &k, catalog_service_cmp, &found);
    return found ? st->services.v[i] : NULL;
}

/* The empty ID sorts before every real one (IDs are never empty), so it finds a node's first. */
size_t catalog_services_of(const struct state *st, struct state_str node)
{
    struct state_key2 k = {node, {"", 0}};
    return state_vec_lower(&st->services, &k, catalog_service_cmp, NULL);
}

size_t catalog_checks_of(const struct state *st, struct state_str node)
{
    struct state_key2 k = {node, {"", 0}};
    return state_vec_lower(&st->checks, &k, catalog_check_cmp, NULL);
}

void catalog_node_free(struct catalog_node *n)
{
    if (!n)
        return;
    free(n->name);
    free(n->address);
    free(n->datacenter);
    free(n);
}

void catalog_service_free(struct catalog_service *s)
{
    if (!s)
        return;
    free(s->node);
    free(s->id);
    free(s->service);
    for (size_t i = 0; i < s->n_tags; i++)
        free(s->tags[i]);
    free(s->tags);
    free(s);
}

void catalog_check_free(struct catalog_check *c)
{
    if (!c)
        return;
    free(c->node);
    free(c->id);
    free(c->name);
    free(c->notes);
    free(c->output);
    free(c->service_id);
    free(c);
}

static struct catalog_node *node_new(const struct state_cmd *c, uint64_t ci, uint64_t mi)
{
    struct catalog_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->name = state_strdup(c->node);
    n->address = state_strdup(c->address);
    n->datacenter = state_strdup(c->datacenter);
    n->create_index = ci;
    n->modify_index = mi;
    if (!n->name || !n->address || !n->datacenter) {
        catalog_node_free(n);
        return NULL;
    }
    return n;
}

static struct catalog_service *service_new(const struct state_cmd *c, uint64_t ci, uint64_t mi)
{
    struct catalog_service *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->node = state_strdup(c->node);
    s->id = state_strdup(c->svc_id);
    s->service = state_strdup(c->svc_name);
    s->port = c->port;
    s->create_index = ci;
    s->modify_index = mi;
    bool ok = s->node && s->id && s->service;
    if (ok && c->n_tags) {
        s->tags = calloc(c->n_tags, sizeof *s->tags);
        ok = s->tags != NULL;
        for (size_t i = 0; ok && i < c->n_tags; i++) {
            s->tags[i] = state_strdup(c->tags[i]);
            s->n_tags = i + 1;
            ok = s->tags[i] != NULL;
        }
    }
    if (!ok) {
        catalog_service_free(s);
        return NULL;
    }
    return s;
}

static struct catalog_check *check_new(const struct state_cmd *c, uint64_t ci, uint64_t mi)
{
    struct catalog_check *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->node = state_strdup(c->node);
    k->id = state_strdup(c->chk_id);
    k->name = state_strdup(c->chk_name);
    k->notes = state_strdup(c->notes);
    k->output = state_strdup(c->output);
    k->service_id = state_strdup(c->chk_service_id);
    k->status = c->status;
    k->create_index = ci;
    k->modify_index = mi;
    if (!k->node || !k->id || !k->name || !k->notes || !k->output || !k->service_id) {
        catalog_check_free(k);
        return NULL;
    }
    return k;
}

static bool node_same(const struct catalog_node *n, const struct state_cmd *c)
{
    return !state_strcmp(n->address, c->address) && !state_strcmp(n->datacenter, c->datacenter);
}

static bool service_same(const struct catalog_service *s, const struct state_cmd *c)
{
    if (state_strcmp(s->service, c->svc_name) || s->port != c->port || s->n_tags != c->n_tags)
        return false;
    for (size_t i = 0; i < s->n_tags; i++)
        if (state_strcmp(s->tags[i], c->tags[i]))
            return false;
    return true;
}

static bool check_same(const struct catalog_check *k, const struct state_cmd *c)
{
    return !state_strcmp(k->name, c->chk_name) && k->status == c->status &&
           !state_strcmp(k->notes, c->notes) && !state_strcmp(k->output, c->output) &&
           !state_strcmp(k->service_id, c->chk_service_id);
}

/* Puts rec at slot i of vec: replacing (and freeing) the old record when found, else inserting
 * into capacity reserved beforehand. */
static void place(struct state_vec *vec, size_t i, bool found, void *rec, void (*free_fn)(void *))
{
    if (found) {
        free_fn(vec->v[i]);
        vec->v[i] = rec;
    } else {
        state_vec_insert(vec, i, rec);
    }
}

static void free_node_v(void *p) { catalog_node_free(p); }
static void free_service_v(void *p) { catalog_service_free(p); }
static void free_check_v(void *p) { catalog_check_free(p); }

static unsigned apply_register(struct state *st, uint64_t index, const struct state_cmd *c,
                               struct state_result *res)
{
    bool n_found = false, s_found = false, k_found = false;
    size_t n_at = state_vec_lower(&st->nodes, &c->node, catalog_node_cmp, &n_found);
    const struct catalog_node *old_n = n_found ? st->nodes.v[n_at] : NULL;
    bool n_change = !old_n || !node_same(old_n, c);

    size_t s_at = 0;
    bool s_change = false;
    const struct catalog_service *old_s = NULL;
    if (c->has_service) {
        struct state_key2 k = {c->node, c->svc_id};
        s_at = state_vec_lower(&st->services, &k, catalog_service_cmp, &s_found);
        old_s = s_found ? st->services.v[s_at] : NULL;
        s_change = !old_s || !service_same(old_s, c);
    }

    size_t k_at = 0;
    bool k_change = false;
    if (c->has_check) {
        /* The service may be the one this same command registers. */
        bool same_cmd = c->has_service && c->svc_id.n == c->chk_service_id.n &&
                        !memcmp(c->svc_id.p, c->chk_service_id.p, c->svc_id.n);
        if (c->chk_service_id.n && !same_cmd &&
            !catalog_find_service(st, c->node, c->chk_service_id)) {
            state_result_set(res, STATE_EREJECTED, "Missing service registration");
            return 0;
        }
        struct state_key2 k = {c->node, c->chk_id};
        k_at = state_vec_lower(&st->checks, &k, catalog_check_cmp, &k_found);
        const struct catalog_check *old_k = k_found ? st->checks.v[k_at] : NULL;
        k_change = !old_k || !check_same(old_k, c);
    }

    /* Allocate everything before touching any table. */
    struct catalog_node *nn = NULL;
    struct catalog_service *ns = NULL;
    struct catalog_check *nk = NULL;
    bool ok = true;
    if (n_change)
        ok = (nn = node_new(c, old_n ? old_n->create_index : index, index)) != NULL;
    if (ok && s_change)
        ok = (ns = service_new(c, old_s ? old_s->create_index : index, index)) != NULL;
    if (ok && k_change) {
        uint64_t ci = k_found ? ((const struct catalog_check *)st->checks.v[k_at])->create_index
                              : index;
        ok = (nk = check_new(c, ci, index)) != NULL;
    }
    ok = ok && state_vec_reserve(&st->nodes, 1) == 0 && state_vec_reserve(&st->services, 1) == 0 &&
         state_vec_reserve(&st->services_by_name, 1) == 0 &&
         state_vec_reserve(&st->checks, 1) == 0;
    if (!ok) {
        catalog_node_free(nn);
        catalog_service_free(ns);
        catalog_check_free(nk);
        state_result_set(res, STATE_ENOMEM, "out of memory applying register");
        return 0;
    }

    unsigned changed = 0;
    if (nn) {
        place(&st->nodes, n_at, n_found, nn, free_node_v);
        changed |= STATE_T_NODES;
    }
    if (ns) {
        if (old_s)
            by_name_remove(st, old_s);
        by_name_insert(st, ns);
        place(&st->services, s_at, s_found, ns, free_service_v);
        changed |= STATE_T_SERVICES;
    }
    if (nk) {
        place(&st->checks, k_at, k_found, nk, free_check_v);
        changed |= STATE_T_CHECKS;
    }
    return changed;
}

/* Removes node's checks (all, or those of service_id); true if any went. */
static bool drop_checks(struct state *st, struct state_str node, struct state_str service_id,
                        bool all)
{
    bool any = false;
    size_t i = catalog_checks_of(st, node);
    while (i < st->checks.n) {
        struct catalog_check *k = st->checks.v[i];
        if (state_strcmp(k->node, node))
            break;
        if (all || !state_strcmp(k->service_id, service_id)) {
            catalog_check_free(state_vec_remove(&st->checks, i));
            any = true;
        } else {
            i++;
        }
    }
    return any;
}

static unsigned apply_deregister_node(struct state *st, const struct state_cmd *c)
{
    bool found;
    size_t at = state_vec_lower(&st->nodes, &c->node, catalog_node_cmp, &found);
    if (!found)
        return 0;
    unsigned changed = STATE_T_NODES;
    catalog_node_free(state_vec_remove(&st->nodes, at));
    size_t i = catalog_services_of(st, c->node);
    while (i < st->services.n &&
           !state_strcmp(((struct catalog_service *)st->services.v[i])->node, c->node)) {
        service_drop(st, i);
        changed |= STATE_T_SERVICES;
    }
    if (drop_checks(st, c->node, (struct state_str){"", 0}, true))
        changed |= STATE_T_CHECKS;
    return changed;
}

static unsigned apply_deregister_service(struct state *st, const struct state_cmd *c)
{
    struct state_key2 k = {c->node, c->svc_id};
    bool found;
    size_t at = state_vec_lower(&st->services, &k, catalog_service_cmp, &found);
    if (!found)
        return 0;
    service_drop(st, at);
    unsigned changed = STATE_T_SERVICES;
    if (drop_checks(st, c->node, c->svc_id, false))
        changed |= STATE_T_CHECKS;
    return changed;
}

static unsigned apply_deregister_check(struct state *st, const struct state_cmd *c)
{
    struct state_key2 k = {c->node, c->chk_id};
    bool found;
    size_t at = state_vec_lower(&st->checks, &k, catalog_check_cmp, &found);
    if (!found)
        return 0;
    catalog_check_free(state_vec_remove(&st->checks, at));
    return STATE_T_CHECKS;
}

unsigned catalog_apply(struct state *st, uint64_t index, const struct state_cmd *cmd,
                       struct state_result *res)
{
    res->err = STATE_OK;
    res->value = true;
    res->msg[0] = '\0';
    switch (cmd->op) {
    case STATE_OP_REGISTER:
        return apply_register(st, index, cmd, res);
    case STATE_OP_DEREGISTER_NODE:
        return apply_deregister_node(st, cmd);
    case STATE_OP_DEREGISTER_SERVICE:
        return apply_deregister_service(st, cmd);
    case STATE_OP_DEREGISTER_CHECK:
        return apply_deregister_check(st, cmd);
    default:
        state_result_set(res, STATE_EMALFORMED, "not a catalog command");
        return 0;
    }
}
