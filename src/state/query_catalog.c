/* query_catalog.c — /v1/catalog/{nodes, node/<n>, services, service/<s>?tag=} as Consul JSON,
 * read from the sorted tables so equal states always answer with equal bytes. */
#include <string.h>
#include <strings.h>

#include "base/json.h"
#include "state/state_impl.h"

int state_query_catalog_nodes(const struct state *st, struct buf *out, uint64_t *index)
{
    size_t start = out->len;
    struct json_wr w;
    json_wr_init(&w, out);
    json_wr_arr_begin(&w);
    for (size_t i = 0; i < st->nodes.n; i++)
        state_json_node(&w, st->nodes.v[i]);
    json_wr_arr_end(&w);
    *index = state_tables_index(st, STATE_T_NODES);
    return state_query_end(&w, out, start, (int)st->nodes.n);
}

int state_query_catalog_node(const struct state *st, const char *node, struct buf *out,
                             uint64_t *index)
{
    size_t start = out->len;
    struct state_str name = state_str_of(node);
    struct json_wr w;
    json_wr_init(&w, out);
    *index = state_tables_index(st, STATE_T_NODES | STATE_T_SERVICES);
    const struct catalog_node *n = catalog_find_node(st, name);
    if (!n) {
        json_wr_null(&w);
        return state_query_end(&w, out, start, 0);
    }
    json_wr_obj_begin(&w);
    json_wr_key(&w, "Node");
    state_json_node(&w, n);
    json_wr_key(&w, "Services");
    json_wr_obj_begin(&w);
    for (size_t i = catalog_services_of(st, name); i < st->services.n; i++) {
        const struct catalog_service *s = st->services.v[i];
        if (state_strcmp(s->node, name))
            break;
        json_wr_key(&w, s->id);
        state_json_service(&w, s);
    }
    json_wr_obj_end(&w);
    json_wr_obj_end(&w);
    return state_query_end(&w, out, start, 1);
}

/* {"name":[tags...]}: each name once, its tags in order of first appearance (Consul 0.4). */
int state_query_catalog_services(const struct state *st, struct buf *out, uint64_t *index)
{
    size_t start = out->len, n = st->services_by_name.n;
    struct catalog_service *const *v = (struct catalog_service *const *)st->services_by_name.v;
    *index = state_tables_index(st, STATE_T_SERVICES);
    struct json_wr w;
    json_wr_init(&w, out);
    json_wr_obj_begin(&w);
    int count = 0;
    for (size_t i = 0; i < n;) {
        size_t end = i;
        while (end < n && !strcmp(v[end]->service, v[i]->service))
            end++;
        json_wr_key(&w, v[i]->service);
        json_wr_arr_begin(&w);
        for (size_t j = i; j < end; j++) {
            for (size_t t = 0; t < v[j]->n_tags; t++) {
                const char *tag = v[j]->tags[t];
                bool seen = false;
                /* Seen earlier in this group: in an earlier record, or earlier in this one. */
                for (size_t pj = i; pj <= j && !seen; pj++)
                    for (size_t pt = 0; pt < (pj == j ? t : v[pj]->n_tags) && !seen; pt++)
                        seen = !strcmp(v[pj]->tags[pt], tag);
                if (!seen)
                    json_wr_str(&w, tag);
            }
        }
        json_wr_arr_end(&w);
        count++;
        i = end;
    }
    json_wr_obj_end(&w);
    return state_query_end(&w, out, start, count);
}

static bool has_tag(const struct catalog_service *s, const char *tag)
{
    if (!tag)
        return true;
    for (size_t i = 0; i < s->n_tags; i++)
        if (!strcasecmp(s->tags[i], tag))
            return true;
    return false;
}

bool state_service_has_tag(const struct catalog_service *s, const char *tag)
{
    return has_tag(s, tag);
}

int state_query_catalog_service(const struct state *st, const char *service, const char *tag,
                                struct buf *out, uint64_t *index)
{
    size_t start = out->len;
    *index = state_tables_index(st, STATE_T_NODES | STATE_T_SERVICES);
    struct json_wr w;
    json_wr_init(&w, out);
    json_wr_arr_begin(&w);
    int count = 0;
    service = service ? service : "";
    size_t i = catalog_services_named(st, service);
    for (const struct catalog_service *s; (s = catalog_service_next(st, service, tag, &i)); i++) {
        const struct catalog_node *n = catalog_find_node(st, state_str_of(s->node));
        json_wr_obj_begin(&w);
        json_wr_key(&w, "Node");
        json_wr_str(&w, s->node);
        json_wr_key(&w, "Address");
        json_wr_str(&w, n ? n->address : "");
        json_wr_key(&w, "ServiceID");
        json_wr_str(&w, s->id);
        json_wr_key(&w, "ServiceName");
        json_wr_str(&w, s->service);
        json_wr_key(&w, "ServiceTags");
        json_wr_arr_begin(&w);
        for (size_t t = 0; t < s->n_tags; t++)
            json_wr_str(&w, s->tags[t]);
        json_wr_arr_end(&w);
        json_wr_key(&w, "ServicePort");
        json_wr_uint(&w, s->port);
        json_wr_key(&w, "CreateIndex");
        json_wr_uint(&w, s->create_index);
        json_wr_key(&w, "ModifyIndex");
        json_wr_uint(&w, s->modify_index);
        json_wr_obj_end(&w);
        count++;
    }
    json_wr_arr_end(&w);
    return state_query_end(&w, out, start, count);
}
