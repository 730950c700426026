/* query_health.c — /v1/health/{node/<n>, checks/<svc>, state/<state>, service/<svc>?tag&passing}
 * as Consul JSON; a service instance's checks are its own plus its node's node-level checks. */
#include <string.h>

#include "base/json.h"
#include "state/state_impl.h"

int state_query_health_node(const struct state *st, const char *node, struct buf *out,
                            uint64_t *index)
{
    size_t start = out->len;
    struct state_str name = state_str_of(node);
    *index = state_tables_index(st, STATE_T_CHECKS | STATE_T_SERVICES); /* ServiceName */
    struct json_wr w;
    json_wr_init(&w, out);
    json_wr_arr_begin(&w);
    int count = 0;
    for (size_t i = catalog_checks_of(st, name); i < st->checks.n; i++) {
        const struct catalog_check *k = st->checks.v[i];
        if (state_strcmp(k->node, name))
            break;
        state_json_check(&w, st, k);
        count++;
    }
    json_wr_arr_end(&w);
    return state_query_end(&w, out, start, count);
}

/* Checks in table order for which keep(check, arg) holds. */
static int checks_where(const struct state *st,
                        bool (*keep)(const struct catalog_check *, const char *),
                        const char *arg, struct buf *out, uint64_t *index)
{
    size_t start = out->len;
    *index = state_tables_index(st, STATE_T_CHECKS | STATE_T_SERVICES); /* ServiceName */
    struct json_wr w;
    json_wr_init(&w, out);
    json_wr_arr_begin(&w);
    int count = 0;
    for (size_t i = 0; i < st->checks.n; i++) {
        const struct catalog_check *k = st->checks.v[i];
        if (!keep(k, arg))
            continue;
        state_json_check(&w, st, k);
        count++;
    }
    json_wr_arr_end(&w);
    return state_query_end(&w, out, start, count);
}

static bool in_state(const struct catalog_check *k, const char *status)
{
    return !strcmp(status, "any") || !strcmp(state_status_name(k->status), status);
}

/* Through the by-name service index: the checks of each instance, by node, service ID, check. */
int state_query_health_checks(const struct state *st, const char *service, struct buf *out,
                              uint64_t *index)
{
    size_t start = out->len;
    service = service ? service : "";
    *index = state_tables_index(st, STATE_T_CHECKS | STATE_T_SERVICES);
    struct json_wr w;
    json_wr_init(&w, out);
    json_wr_arr_begin(&w);
    int count = 0;
    for (size_t i = catalog_services_named(st, service); i < st->services_by_name.n; i++) {
        const struct catalog_service *s = st->services_by_name.v[i];
        if (strcmp(s->service, service))
            break;
        struct state_str node = state_str_of(s->node);
        for (size_t j = catalog_checks_of(st, node); j < st->checks.n; j++) {
            const struct catalog_check *k = st->checks.v[j];
            if (state_strcmp(k->node, node))
                break;
            if (!strcmp(k->service_id, s->id)) {
                state_json_check(&w, st, k);
                count++;
            }
        }
    }
    json_wr_arr_end(&w);
    return state_query_end(&w, out, start, count);
}

int state_query_health_state(const struct state *st, const char *status, struct buf *out,
                             uint64_t *index)
{
    if (!status || (strcmp(status, "any") && strcmp(status, "passing") &&
                    strcmp(status, "warning") && strcmp(status, "critical")))
        return -1;
    return checks_where(st, in_state, status, out, index);
}

static bool applies_to(const struct catalog_check *k, const struct catalog_service *s)
{
    return !k->service_id[0] || !strcmp(k->service_id, s->id);
}

int state_query_health_service(const struct state *st, const char *service, const char *tag,
                               bool passing, struct buf *out, uint64_t *index)
{
    size_t start = out->len;
    *index = state_tables_index(st, STATE_T_NODES | STATE_T_SERVICES | STATE_T_CHECKS);
    struct json_wr w;
    json_wr_init(&w, out);
    json_wr_arr_begin(&w);
    int count = 0;
    service = service ? service : "";
    size_t i = catalog_services_named(st, service);
    for (const struct catalog_service *s; (s = catalog_service_next(st, service, tag, &i)); i++) {
        struct state_str node = state_str_of(s->node);
        const struct catalog_node *n = catalog_find_node(st, node);
        size_t first = catalog_checks_of(st, node), end = first;
        bool all_passing = true;
        while (end < st->checks.n) {
            const struct catalog_check *k = st->checks.v[end];
            if (state_strcmp(k->node, node))
                break;
            if (applies_to(k, s) && k->status != STATE_PASSING)
                all_passing = false;
            end++;
        }
        if (!n || (passing && !all_passing))
            continue;
        json_wr_obj_begin(&w);
        json_wr_key(&w, "Node");
        state_json_node(&w, n);
        json_wr_key(&w, "Service");
        state_json_service(&w, s);
        json_wr_key(&w, "Checks");
        json_wr_arr_begin(&w);
        for (size_t j = first; j < end; j++)
            if (applies_to(st->checks.v[j], s))
                state_json_check(&w, st, st->checks.v[j]);
        json_wr_arr_end(&w);
        json_wr_obj_end(&w);
        count++;
    }
    json_wr_arr_end(&w);
    return state_query_end(&w, out, start, count);
}
