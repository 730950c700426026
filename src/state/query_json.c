/* query_json.c — the JSON shapes shared by the catalog and health queries (Consul 0.4 field
 * names, plus Datacenter and the Create/ModifyIndex later Consul added) and the index rule. */
#include "base/json.h"
#include "state/state_impl.h"

void state_json_node(struct json_wr *w, const struct catalog_node *n)
{
    json_wr_obj_begin(w);
    json_wr_key(w, "Node");
    json_wr_str(w, n->name);
    json_wr_key(w, "Address");
    json_wr_str(w, n->address);
    json_wr_key(w, "Datacenter");
    json_wr_str(w, n->datacenter);
    json_wr_key(w, "CreateIndex");
    json_wr_uint(w, n->create_index);
    json_wr_key(w, "ModifyIndex");
    json_wr_uint(w, n->modify_index);
    json_wr_obj_end(w);
}

void state_json_service(struct json_wr *w, const struct catalog_service *s)
{
    json_wr_obj_begin(w);
    json_wr_key(w, "ID");
    json_wr_str(w, s->id);
    json_wr_key(w, "Service");
    json_wr_str(w, s->service);
    json_wr_key(w, "Tags");
    json_wr_arr_begin(w);
    for (size_t i = 0; i < s->n_tags; i++)
        json_wr_str(w, s->tags[i]);
    json_wr_arr_end(w);
    json_wr_key(w, "Port");
    json_wr_uint(w, s->port);
    json_wr_key(w, "CreateIndex");
    json_wr_uint(w, s->create_index);
    json_wr_key(w, "ModifyIndex");
    json_wr_uint(w, s->modify_index);
    json_wr_obj_end(w);
}

const char *state_check_service_name(const struct state *st, const struct catalog_check *k)
{
    if (!k->service_id[0])
        return "";
    const struct catalog_service *s =
        catalog_find_service(st, state_str_of(k->node), state_str_of(k->service_id));
    return s ? s->service : "";
}

void state_json_check(struct json_wr *w, const struct state *st, const struct catalog_check *k)
{
    json_wr_obj_begin(w);
    json_wr_key(w, "Node");
    json_wr_str(w, k->node);
    json_wr_key(w, "CheckID");
    json_wr_str(w, k->id);
    json_wr_key(w, "Name");
    json_wr_str(w, k->name);
    json_wr_key(w, "Status");
    json_wr_str(w, state_status_name(k->status));
    json_wr_key(w, "Notes");
    json_wr_str(w, k->notes);
    json_wr_key(w, "Output");
    json_wr_str(w, k->output);
    json_wr_key(w, "ServiceID");
    json_wr_str(w, k->service_id);
    json_wr_key(w, "ServiceName");
    json_wr_str(w, state_check_service_name(st, k));
    json_wr_key(w, "CreateIndex");
    json_wr_uint(w, k->create_index);
    json_wr_key(w, "ModifyIndex");
    json_wr_uint(w, k->modify_index);
    json_wr_obj_end(w);
}

/* Consul never returns index 0: a blocking query with ?index=0 would otherwise return at once
 * forever, so an empty table reports 1 (an index Raft never commits a command at). */
uint64_t state_tables_index(const struct state *st, unsigned tables)
{
    uint64_t max = 0;
    for (unsigned t = 0; t < STATE_IX_COUNT; t++)
        if ((tables & (1u << t)) && st->table_index[t] > max)
            max = st->table_index[t];
    return max ? max : 1;
}

int state_query_end(const struct json_wr *w, struct buf *out, size_t start, int count)
{
    if (!json_wr_ok(w)) {
        out->len = start;
        return -1;
    }
    return count;
}
