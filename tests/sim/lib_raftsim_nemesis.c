/* lib_raftsim_nemesis.c — the Raft simulator's faults, drawn from the seed, and the heal phase
 * that must converge in bounded time once they stop. */
#include <stdio.h>
#include <string.h>

#include "sim/lib_raftsim_nemesis.h"

static raft_id random_up(struct raftsim_cluster *c)
{
    raft_id ids[RAFTSIM_MAX_IDS];
    size_t n = 0;
    for (raft_id id = 1; id < RAFTSIM_MAX_IDS; id++)
        if (c->nodes[id].up)
            ids[n++] = id;
    return n ? ids[raftsim_rng_below(&c->rng, n)] : 0;
}

static void cut_both(struct raftsim_cluster *c, raft_id a, raft_id b)
{
    c->net.cut[a][b] = c->net.cut[b][a] = true;
}

static void partition(struct raftsim_cluster *c, struct raftsim_nemesis *z)
{
    struct raftsim_rng *g = &c->rng;
    raft_id a = random_up(c), b = random_up(c);
    const char *what = "";
    switch (raftsim_rng_below(g, 5)) {
    case 0: /* isolate one server (often the leader) */
        if (raftsim_rng_pm(g, 500) && raftsim_leader(c))
            a = raftsim_leader(c);
        for (raft_id x = 1; x < RAFTSIM_MAX_IDS; x++)
            if (x != a)
                cut_both(c, a, x);
        what = "isolate";
        break;
    case 1: { /* random split into two sides */
        bool side[RAFTSIM_MAX_IDS];
        for (raft_id x = 1; x < RAFTSIM_MAX_IDS; x++) {
            side[x] = raftsim_rng_pm(g, 500);
            for (raft_id y = 1; y < x; y++)
                if (side[x] != side[y])
                    cut_both(c, x, y);
        }
        what = "split";
        break;
    }
    case 2: /* asymmetric: a hears nobody, everyone hears a */
        for (raft_id x = 1; x < RAFTSIM_MAX_IDS; x++)
            if (x != a)
                c->net.cut[x][a] = true;
        what = "deaf";
        break;
    case 3: /* asymmetric: a's messages go nowhere */
        for (raft_id x = 1; x < RAFTSIM_MAX_IDS; x++)
            if (x != a)
                c->net.cut[a][x] = true;
        what = "mute";
        break;
    default: /* one link cut: the chain case when a and b are not the middle */
        if (a != b)
            cut_both(c, a, b);
        what = "link";
        break;
    }
    z->part_until = c->now + raftsim_rng_range(g, 50, 1000);
    raftsim_tracef(&c->tr, "NEMESIS partition %s around n%llu/n%llu until %llu", what,
                   (unsigned long long)a, (unsigned long long)b,
                   (unsigned long long)z->part_until);
}

static unsigned voters_of(const struct raft_config *cfg)
{
    return raft_config_voters(cfg);
}

static void membership(struct raftsim_cluster *c)
{
    raft_id l = raftsim_leader(c);
    if (!l)
        return;
    struct raft *core = &c->nodes[l].core;
    const struct raft_config *cfg = raft_configuration(core);
    struct raftsim_rng *g = &c->rng;
    uint64_t what = raftsim_rng_below(g, 3);
    if (what == 0 && voters_of(cfg) >= 3) {
        raft_id victim = cfg->servers[raftsim_rng_below(g, cfg->n)].id;
        int rc = raft_remove_server(core, victim);
        c->removes += rc == 0;
        raftsim_tracef(&c->tr, "NEMESIS remove n%llu via n%llu: %s", (unsigned long long)victim,
                       (unsigned long long)l, raft_strerror(rc));
        return;
    }
    raft_id id = 0;
    if (what == 1) { /* re-add a server that exists but is not a member */
        for (raft_id x = 1; x < RAFTSIM_MAX_IDS && !id; x++)
            if (c->nodes[x].exists && !raft_config_find(cfg, x) && !c->nodes[x].stop_at)
                id = x;
    } else { /* a brand-new server */
        for (raft_id x = 1; x < RAFTSIM_MAX_IDS && !id; x++)
            if (!c->nodes[x].exists)
                id = x;
        if (id && raftsim_node_create(c, id))
            return;
    }
    if (!id)
        return;
    struct raftsim_node *nd = &c->nodes[id];
    nd->removed = false;
    if (!nd->up && raftsim_node_restart(c, id))
        return;
    char addr[RAFT_ADDR_MAX];
    snprintf(addr, sizeof addr, "10.0.0.%llu:8300", (unsigned long long)id);
    int rc = raft_add_server(core, id, addr);
    c->adds += rc == 0;
    raftsim_tracef(&c->tr, "NEMESIS add n%llu via n%llu: %s", (unsigned long long)id,
                   (unsigned long long)l, raft_strerror(rc));
}

/* Consul's -bootstrap start: one server elects itself, the others join one at a time as
 * non-voters and are promoted by the core once caught up. */
static void grow(struct raftsim_cluster *c, struct raftsim_nemesis *z)
{
    raft_id l = raftsim_leader(c);
    if (!l)
        return;
    const struct raft_config *cfg = raft_configuration(&c->nodes[l].core);
    raft_id id = 2;
    while (id <= z->grow_to && raft_config_find(cfg, id))
        id++;
    if (id > z->grow_to) {
        z->grow_to = 0;
        return;
    }
    if (!c->nodes[id].exists && raftsim_node_create(c, id))
        return;
    char addr[RAFT_ADDR_MAX];
    snprintf(addr, sizeof addr, "10.0.0.%llu:8300", (unsigned long long)id);
    int rc = raft_add_server(&c->nodes[l].core, id, addr);
    c->adds += rc == 0;
    if (rc == 0)
        raftsim_tracef(&c->tr, "JOIN n%llu via n%llu", (unsigned long long)id,
                       (unsigned long long)l);
}

void raftsim_nemesis_step(struct raftsim_cluster *c, struct raftsim_nemesis *z)
{
    struct raftsim_rng *g = &c->rng;
    if (z->grow_to)
        grow(c, z);
    if (z->part_until && c->now >= z->part_until) {
        raftsim_net_heal(&c->net);
        z->part_until = 0;
        raftsim_tracef(&c->tr, "NEMESIS partition healed");
    }
    for (raft_id id = 1; id < RAFTSIM_MAX_IDS; id++) {
        struct raftsim_node *nd = &c->nodes[id];
        if (nd->exists && !nd->up && !nd->removed && nd->restart_at && nd->restart_at <= c->now) {
            nd->restart_at = 0;
            raftsim_node_restart(c, id);
        }
    }
    if (!z->part_until && raftsim_rng_pm(g, z->part_pm))
        partition(c, z);
    if (raftsim_rng_pm(g, z->crash_pm)) {
        raft_id id = random_up(c);
        if (id) {
            raftsim_tracef(&c->tr, "NEMESIS crash n%llu", (unsigned long long)id);
            raftsim_node_crash(c, id);
            c->nodes[id].restart_at = c->now + raftsim_rng_range(g, 10, z->down_max);
        }
    }
    if (raftsim_rng_pm(g, z->arm_pm)) {
        raft_id id = raftsim_rng_pm(g, 500) && raftsim_leader(c) ? raftsim_leader(c) : random_up(c);
        if (id) {
            /* It strikes at the next Ready that writes; the cluster schedules the restart. */
            c->nodes[id].crash_armed =
                (int)raftsim_rng_range(g, RAFTSIM_CRASH_AFTER_SEND, RAFTSIM_CRASH_BEFORE_ADVANCE);
        }
    }
    if (raftsim_rng_pm(g, z->pause_pm)) {
        raft_id id = raftsim_rng_pm(g, 500) && raftsim_leader(c) ? raftsim_leader(c) : random_up(c);
        if (id)
            raftsim_node_pause(c, id, raftsim_rng_range(g, 10, 40 * RAFTSIM_TICK));
    }
    if (raftsim_rng_pm(g, z->member_pm))
        membership(c);
    if (raftsim_rng_pm(g, z->transfer_pm) && raftsim_leader(c)) {
        raft_id l = raftsim_leader(c);
        raft_id to = raftsim_rng_pm(g, 300) ? 0 : random_up(c);
        int rc = raft_transfer_leadership(&c->nodes[l].core, to == l ? 0 : to);
        c->transfers += rc == 0;
        raftsim_tracef(&c->tr, "NEMESIS transfer leadership n%llu -> n%llu: %s",
                       (unsigned long long)l, (unsigned long long)to, raft_strerror(rc));
    }
    for (int k = 0; k < 3; k++)
        if (raftsim_rng_pm(g, z->prop_pm))
            (void)raftsim_propose(c, false);
    if (raftsim_rng_pm(g, z->read_pm))
        (void)raftsim_read(c);
}

/* ---- heal: no more faults; within a bounded time one leader and every proposal commits ---- */

static bool converged(struct raftsim_cluster *c, char *why, size_t n)
{
    raft_id l = 0;
    for (raft_id id = 1; id < RAFTSIM_MAX_IDS; id++)
        if (c->nodes[id].up && raft_state(&c->nodes[id].core) == RAFT_LEADER) {
            if (l) {
                snprintf(why, n, "two running leaders n%llu and n%llu", (unsigned long long)l,
                         (unsigned long long)id);
                return false;
            }
            l = id;
        }
    if (!l) {
        snprintf(why, n, "no leader");
        return false;
    }
    const struct raft *lc = &c->nodes[l].core;
    if (c->heal_acked < RAFTSIM_HEAL_PROPOSALS) {
        snprintf(why, n, "only %llu of %d heal proposals committed (leader n%llu)",
                 (unsigned long long)c->heal_acked, RAFTSIM_HEAL_PROPOSALS, (unsigned long long)l);
        return false;
    }
    if (c->n_props) { /* orphans were dropped: these wait at the leader, in its term */
        snprintf(why, n, "%zu proposals pending at leader n%llu, first at index %llu",
                 c->n_props, (unsigned long long)l, (unsigned long long)c->props[0].index);
        return false;
    }
    uint64_t commit = raft_commit_index(lc);
    const struct raft_config *cfg = raft_configuration(lc);
    for (uint32_t i = 0; i < cfg->n; i++) {
        const struct raftsim_node *nd = &c->nodes[cfg->servers[i].id];
        if (!nd->up) {
            snprintf(why, n, "member n%llu is not running", (unsigned long long)nd->id);
            return false;
        }
        if (raft_leader(&nd->core) != l || nd->fsm.applied < commit) {
            snprintf(why, n, "member n%llu follows n%llu and applied %llu of %llu (leader n%llu)",
                     (unsigned long long)nd->id, (unsigned long long)raft_leader(&nd->core),
                     (unsigned long long)nd->fsm.applied, (unsigned long long)commit,
                     (unsigned long long)l);
            return false;
        }
    }
    if (c->max_acked_index > commit) {
        snprintf(why, n, "acknowledged index %llu is beyond the healed leader's commit %llu",
                 (unsigned long long)c->max_acked_index, (unsigned long long)commit);
        return false;
    }
    return true;
}

bool raftsim_heal(struct raftsim_cluster *c, uint64_t bound)
{
    raftsim_tracef(&c->tr, "HEAL: faults stop, every server restarts");
    raftsim_net_heal(&c->net);
    c->net.drop_pm = 0;
    c->net.dup_pm = 0;
    c->net.delay_max = c->net.delay_max > 5 ? 5 : c->net.delay_max;
    c->crash_ready_pm = 0;
    c->heal_acked = 0;
    for (raft_id id = 1; id < RAFTSIM_MAX_IDS; id++) {
        struct raftsim_node *nd = &c->nodes[id];
        nd->crash_armed = 0;
        nd->restart_at = 0;
        nd->paused_until = 0;
        if (nd->exists && !nd->up && !nd->removed && raftsim_node_restart(c, id))
            return false;
    }
    uint64_t deadline = c->now + bound;
    char why[200] = "";
    while (c->now < deadline) {
        if (!raftsim_run_until(c, c->now + RAFTSIM_TICK))
            return false;
        raft_id l = raftsim_leader(c);
        if (l) {
            /* A member of the leader's configuration that is down (removed, then re-added by an
             * entry that committed later) must come back too. */
            const struct raft_config *cfg = raft_configuration(&c->nodes[l].core);
            for (uint32_t i = 0; i < cfg->n; i++) {
                struct raftsim_node *nd = &c->nodes[cfg->servers[i].id];
                if (nd->exists && !nd->up && !nd->stop_at) {
                    nd->removed = false;
                    if (raftsim_node_restart(c, nd->id))
                        return false;
                }
            }
            raftsim_drop_orphans(c);
            if (!raftsim_pending_heal(c) && c->heal_acked < RAFTSIM_HEAL_PROPOSALS)
                (void)raftsim_propose(c, true);
        }
        if (converged(c, why, sizeof why)) {
            c->heal_time = c->now - (deadline - bound);
            raftsim_check_all_logs(c);
            return !c->chk.failed;
        }
    }
    raftsim_check_fail(&c->chk, "liveness: not converged %llu ticks after faults healed: %s",
                       (unsigned long long)(bound / RAFTSIM_TICK), why);
    return false;
}
