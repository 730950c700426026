/* lookup.c — typed read access to the catalog for the modules that need records rather than
 * JSON: DNS (node addresses, healthy service instances) and the leader's reconciliation. */
#include <string.h>

#include "state/state_impl.h"

const char *state_node_address(const struct state *st, const char *node)
{
    const struct catalog_node *n = catalog_find_node(st, state_str_of(node));
    return n ? n->address : NULL;
}

void state_nodes_each(const struct state *st,
                      void (*fn)(void *ctx, const struct state_node_view *node), void *ctx)
{
    for (size_t i = 0; i < st->nodes.n; i++) {
        const struct catalog_node *n = st->nodes.v[i];
        struct state_node_view v = {n->name, n->address, n->datacenter};
        fn(ctx, &v);
    }
}

int state_check_status(const struct state *st, const char *node, const char *check_id)
{
    struct state_key2 k = {state_str_of(node), state_str_of(check_id)};
    bool found;
    size_t i = state_vec_lower(&st->checks, &k, catalog_check_cmp, &found);
    return found ? ((const struct catalog_check *)st->checks.v[i])->status : 0;
}

size_t state_service_instances(const struct state *st, const char *service, const char *tag,
                               void (*fn)(void *ctx, const struct state_instance *inst),
                               void *ctx)
{
    size_t count = 0;
    service = service ? service : "";
    size_t i = catalog_services_named(st, service);
    for (const struct catalog_service *s; (s = catalog_service_next(st, service, tag, &i)); i++) {
        struct state_str node = state_str_of(s->node);
        const struct catalog_node *n = catalog_find_node(st, node);
        struct state_instance inst = {
            .node = s->node, .address = n ? n->address : "", .service_id = s->id,
            .service = s->service, .tags = (const char *const *)s->tags, .n_tags = s->n_tags,
            .port = s->port, .worst = STATE_PASSING};
        for (size_t j = catalog_checks_of(st, node); j < st->checks.n; j++) {
            const struct catalog_check *k = st->checks.v[j];
            if (state_strcmp(k->node, node))
                break;
            if ((!k->service_id[0] || !strcmp(k->service_id, s->id)) && k->status > inst.worst)
                inst.worst = (enum state_check_status)k->status;
        }
        fn(ctx, &inst);
        count++;
    }
    return count;
}
