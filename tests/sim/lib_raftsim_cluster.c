/* lib_raftsim_cluster.c — drives real Raft cores through the Ready contract on simulated disks and
 * a simulated network: server lifecycle, crashes inside the Ready cycle, the event loop, checks. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/lib_raftsim_cluster.h"

static void addr_of(raft_id id, char out[RAFT_ADDR_MAX])
{
    snprintf(out, RAFT_ADDR_MAX, "10.0.0.%llu:8300", (unsigned long long)id);
}

void raftsim_cluster_init(struct raftsim_cluster *c, uint64_t seed, bool trace)
{
    memset(c, 0, sizeof *c);
    c->seed = seed;
    raftsim_rng_seed(&c->rng, seed);
    c->tr.on = trace;
    c->tr.out = stdout;
    raftsim_net_init(&c->net);
    raftsim_check_init(&c->chk);
    c->use_log = trace;
    log_init(&c->log, STDOUT_FILENO, LOG_INFO);
    c->election_ticks = 10;
    c->heartbeat_ticks = 1;
    c->snap_threshold = 32;
    c->snap_trailing = 8;
    c->max_entries = 16;
    c->tear_pm = 500;
    for (raft_id id = 1; id < RAFTSIM_MAX_IDS; id++)
        c->nodes[id].id = id;
}

static void node_stop(struct raftsim_cluster *c, struct raftsim_node *nd)
{
    if (!nd->up)
        return;
    raft_close(&nd->core);
    nd->up = false;
    nd->role = RAFT_FOLLOWER;
    raft_config_free(&nd->cfg_applied);
    memset(&nd->fsm, 0, sizeof nd->fsm);
    raftsim_net_purge(&c->net, nd->id);
    raftsim_client_forget(c, nd->id);
}

void raftsim_cluster_free(struct raftsim_cluster *c)
{
    for (raft_id id = 1; id < RAFTSIM_MAX_IDS; id++) {
        struct raftsim_node *nd = &c->nodes[id];
        if (nd->up) {
            raft_close(&nd->core);
            nd->up = false;
        }
        raft_config_free(&nd->cfg_applied);
        if (nd->exists)
            raftsim_disk_free(&nd->disk);
    }
    raftsim_net_free(&c->net);
    raftsim_check_free(&c->chk);
    free(c->props);
    free(c->reads);
}

static void options_for(struct raftsim_cluster *c, raft_id id, struct raft_options *o)
{
    char addr[RAFT_ADDR_MAX];
    addr_of(id, addr);
    raft_options_default(o, id, addr);
    o->election_ticks = c->election_ticks;
    o->heartbeat_ticks = c->heartbeat_ticks;
    o->snapshot_threshold = c->snap_threshold;
    o->snapshot_trailing = c->snap_trailing;
    o->max_entries_per_msg = c->max_entries;
    o->log = c->use_log ? &c->log : NULL;
    if (c->sabotage == RAFTSIM_SAB_NO_CHECK_QUORUM)
        o->check_quorum = false;
    o->seed = raftsim_rng_next(&c->rng) | 1;
}

static int boot(struct raftsim_cluster *c, struct raftsim_node *nd, const struct raft_restore *st)
{
    struct raft_options o;
    options_for(c, nd->id, &o);
    int rc = raft_init(&nd->core, &o, st);
    if (rc) {
        raftsim_check_fail(&c->chk, "server %llu: raft_init failed: %s",
                           (unsigned long long)nd->id, raft_strerror(rc));
        return -1;
    }
    nd->up = true;
    nd->role = raft_state(&nd->core);
    nd->commit = raft_commit_index(&nd->core);
    nd->phase = (unsigned)raftsim_rng_below(&c->rng, RAFTSIM_TICK);
    nd->tick_len = RAFTSIM_TICK - c->clock_skew +
                   (unsigned)raftsim_rng_below(&c->rng, 2 * (uint64_t)c->clock_skew + 1);
    nd->paused_until = 0;
    nd->ticks = nd->leader_since = 0;
    memset(nd->heard, 0, sizeof nd->heard);
    nd->next_tick = c->now + 1 + nd->phase;
    nd->log_changed = true;
    return 0;
}

int raftsim_node_create(struct raftsim_cluster *c, raft_id id)
{
    struct raftsim_node *nd = &c->nodes[id];
    if (id == 0 || id >= RAFTSIM_MAX_IDS || nd->exists)
        return -1;
    nd->exists = true;
    nd->removed = false;
    raftsim_disk_init(&nd->disk);
    memset(&nd->fsm, 0, sizeof nd->fsm);
    raftsim_tracef(&c->tr, "n%llu create (empty disk)", (unsigned long long)id);
    return boot(c, nd, NULL);
}

static void process_ready(struct raftsim_cluster *c, struct raftsim_node *nd);

int raftsim_cluster_start(struct raftsim_cluster *c, unsigned n)
{
    struct raft_config cfg = {0, NULL};
    for (raft_id id = 1; id <= n; id++) {
        char addr[RAFT_ADDR_MAX];
        addr_of(id, addr);
        if (raft_config_put(&cfg, id, addr, true))
            return -1;
    }
    /* Bootstrapping is an operator's one-off act that completes before the cluster counts as
     * started: a crash that loses it would just be a bootstrap to redo. */
    unsigned crash_pm = c->crash_ready_pm;
    c->crash_ready_pm = 0;
    for (raft_id id = 1; id <= n; id++) {
        if (raftsim_node_create(c, id))
            return -1;
        int rc = raft_bootstrap(&c->nodes[id].core, &cfg);
        if (rc) {
            raftsim_check_fail(&c->chk, "raft_bootstrap: %s", raft_strerror(rc));
            raft_config_free(&cfg);
            return -1;
        }
        c->nodes[id].in_config = true;
        process_ready(c, &c->nodes[id]);
    }
    c->crash_ready_pm = crash_pm;
    raft_config_free(&cfg);
    return c->chk.failed ? -1 : 0;
}

void raftsim_node_crash(struct raftsim_cluster *c, raft_id id)
{
    struct raftsim_node *nd = &c->nodes[id];
    if (!nd->up)
        return;
    uint64_t torn = nd->disk.torn, pending = nd->disk.nops;
    node_stop(c, nd);
    raftsim_disk_crash(&nd->disk, &c->rng, c->tear_pm);
    nd->crashes++;
    c->crashes++;
    nd->log_changed = true;
    raftsim_tracef(&c->tr, "n%llu CRASH (%llu unsynced writes%s); durable log ..%llu term %llu",
                   (unsigned long long)id, (unsigned long long)pending,
                   nd->disk.torn > torn ? ", last one torn" : "",
                   (unsigned long long)raftsim_image_last_index(&nd->disk.durable),
                   (unsigned long long)nd->disk.durable.term);
}

void raftsim_node_pause(struct raftsim_cluster *c, raft_id id, uint64_t len)
{
    struct raftsim_node *nd = &c->nodes[id];
    if (!nd->up)
        return;
    nd->paused_until = c->now + len;
    raftsim_tracef(&c->tr, "n%llu PAUSED until %llu", (unsigned long long)id,
                   (unsigned long long)nd->paused_until);
}

static void restore_fsm(struct raftsim_cluster *c, struct raftsim_node *nd, uint64_t index,
                        const struct raft_config *cfg, const uint8_t *data, uint32_t len)
{
    if (raftsim_fsm_load(&nd->fsm, data, len) || nd->fsm.applied != index) {
        raftsim_check_fail(&c->chk, "server %llu: snapshot at %llu does not hold our FSM state",
                           (unsigned long long)nd->id, (unsigned long long)index);
        return;
    }
    raft_config_free(&nd->cfg_applied);
    if (raft_config_copy(&nd->cfg_applied, cfg))
        raftsim_check_fail(&c->chk, "out of memory");
    raftsim_check_restore(&c->chk, nd->id, &nd->fsm);
    c->restores++;
}

int raftsim_node_restart(struct raftsim_cluster *c, raft_id id)
{
    struct raftsim_node *nd = &c->nodes[id];
    if (!nd->exists || nd->up)
        return -1;
    const struct raftsim_image *im = &nd->disk.durable;
    struct raft_snapshot snap;
    memset(&snap, 0, sizeof snap);
    struct raft_restore st = {.term = im->term, .vote = im->vote, .entries = im->ents,
                              .n_entries = im->n};
    if (im->has_snap) {
        snap.index = im->snap_index;
        snap.term = im->snap_term;
        snap.config = im->snap_config;
        snap.len = im->snap_len;
        snap.data = im->snap_data;
        st.snapshot = &snap;
    }
    raftsim_tracef(&c->tr, "n%llu RESTART term %llu vote %llu snap %llu log %llu..%llu",
                   (unsigned long long)id, (unsigned long long)im->term,
                   (unsigned long long)im->vote, (unsigned long long)snap.index,
                   (unsigned long long)(im->n ? im->ents[0].index : 0),
                   (unsigned long long)raftsim_image_last_index(im));
    memset(&nd->fsm, 0, sizeof nd->fsm);
    if (boot(c, nd, &st))
        return -1;
    if (im->has_snap)
        restore_fsm(c, nd, im->snap_index, &im->snap_config, im->snap_data, im->snap_len);
    nd->term = raft_term(&nd->core);
    return c->chk.failed ? -1 : 0;
}

/* Vote safety, judged on the wire: a server grants its vote to one candidate per term, ever
 * (across restarts), and only once the vote is durable (in msgs_after_persist). */
static void check_vote(struct raftsim_cluster *c, struct raftsim_node *nd, const struct raft_msg *m,
                       bool after_persist)
{
    if (m->type != RAFT_MSG_VOTE_RESP || m->u.vote_resp.prevote || !m->u.vote_resp.granted)
        return;
    if (!after_persist && c->sabotage != RAFTSIM_SAB_ACK_EARLY)
        raftsim_check_fail(&c->chk, "n%llu grants its term-%llu vote before persisting it",
                           (unsigned long long)nd->id, (unsigned long long)m->term);
    if (nd->granted_term == m->term && nd->granted_to != m->to)
        raftsim_check_fail(&c->chk, "vote safety: n%llu voted for n%llu and n%llu in term %llu",
                           (unsigned long long)nd->id, (unsigned long long)nd->granted_to,
                           (unsigned long long)m->to, (unsigned long long)m->term);
    if (m->term >= nd->granted_term) {
        nd->granted_term = m->term;
        nd->granted_to = m->to;
    }
}

static void send_all(struct raftsim_cluster *c, struct raftsim_node *nd, const struct raft_msg *m,
                     size_t n, bool after_persist)
{
    for (size_t i = 0; i < n; i++) {
        if (c->tr.on) {
            char d[200];
            raftsim_msg_describe(&m[i], d, sizeof d);
            raftsim_tracef(&c->tr, "  send %s", d);
        }
        check_vote(c, nd, &m[i], after_persist);
        if (raftsim_net_send(&c->net, &c->rng, c->now, &m[i]))
            raftsim_check_fail(&c->chk, "out of memory");
    }
}

/* Reacts to a newly committed configuration: servers it dropped are shut down shortly after
 * (like `consul leave`), giving a removed leader time to hand over. */
static void on_config_applied(struct raftsim_cluster *c, struct raftsim_node *nd,
                              const struct raft_entry *e)
{
    struct raft_config cfg;
    if (raft_config_decode(e->data, e->len, &cfg)) {
        raftsim_check_fail(&c->chk, "server %llu applied an undecodable CONFIG entry at %llu",
                           (unsigned long long)nd->id, (unsigned long long)e->index);
        return;
    }
    raft_config_free(&nd->cfg_applied);
    nd->cfg_applied = cfg;
    if (e->index <= c->max_cfg_index)
        return; /* an old configuration re-applied after a restart */
    c->max_cfg_index = e->index;
    for (raft_id id = 1; id < RAFTSIM_MAX_IDS; id++) {
        struct raftsim_node *x = &c->nodes[id];
        if (x->exists && !x->removed && x->in_config && !raft_config_find(&cfg, id)) {
            x->removed = true;
            x->stop_at = c->now + 5 * RAFTSIM_TICK;
            raftsim_tracef(&c->tr, "n%llu removed by committed config at %llu: stops soon",
                           (unsigned long long)id, (unsigned long long)e->index);
        }
        x->in_config = raft_config_find(&cfg, id) != NULL;
    }
}

static void apply_one(struct raftsim_cluster *c, struct raftsim_node *nd, const struct raft_entry *e)
{
    if (e->index != nd->fsm.applied + 1) {
        raftsim_check_fail(&c->chk, "server %llu applies index %llu after %llu (gap or repeat)",
                           (unsigned long long)nd->id, (unsigned long long)e->index,
                           (unsigned long long)nd->fsm.applied);
        return;
    }
    const struct raft_entry *d = raftsim_image_entry(&nd->disk.cache, e->index);
    if (nd->disk.cache.has_snap && e->index <= nd->disk.cache.snap_index)
        d = e; /* below the local snapshot: covered by it */
    if (!d || d->term != e->term) {
        raftsim_check_fail(&c->chk, "server %llu applies index %llu term %llu that is not in "
                                    "its durable log",
                           (unsigned long long)nd->id, (unsigned long long)e->index,
                           (unsigned long long)e->term);
        return;
    }
    raftsim_fsm_apply(&nd->fsm, e);
    raftsim_tracef(&c->tr, "n%llu apply %llu t%llu %s", (unsigned long long)nd->id,
                   (unsigned long long)e->index, (unsigned long long)e->term,
                   e->type == RAFT_ENTRY_COMMAND ? "cmd"
                   : e->type == RAFT_ENTRY_CONFIG ? "config"
                                                  : "noop");
    raftsim_check_apply(&c->chk, nd->id, e, &nd->fsm);
    if (e->type == RAFT_ENTRY_CONFIG)
        on_config_applied(c, nd, e);
    raftsim_client_applied(c, nd, e);
}

static void take_snapshot(struct raftsim_cluster *c, struct raftsim_node *nd)
{
    uint64_t idx = nd->fsm.applied;
    const struct raft_entry *e = raft_entry_at(&nd->core, idx);
    if (!idx || !e || !nd->cfg_applied.n)
        return;
    uint8_t data[RAFTSIM_FSM_SNAP_LEN];
    raftsim_fsm_save(&nd->fsm, data);
    if (raftsim_disk_snapshot(&nd->disk, idx, e->term, &nd->cfg_applied, data, sizeof data)) {
        raftsim_check_fail(&c->chk, "server %llu: snapshot write refused",
                           (unsigned long long)nd->id);
        return;
    }
    if (c->sabotage != RAFTSIM_SAB_NO_FSYNC)
        raftsim_disk_sync(&nd->disk);
    int rc = raft_snapshot_done(&nd->core, idx, data, sizeof data);
    if (rc && rc != RAFT_ESTALE) {
        raftsim_check_fail(&c->chk, "server %llu: raft_snapshot_done(%llu): %s",
                           (unsigned long long)nd->id, (unsigned long long)idx,
                           raft_strerror(rc));
        return;
    }
    /* The store keeps the same trailing log the core keeps, so a restart can still serve it. */
    if (idx > c->snap_trailing) {
        raftsim_disk_compact(&nd->disk, idx - c->snap_trailing);
        if (c->sabotage != RAFTSIM_SAB_NO_FSYNC)
            raftsim_disk_sync(&nd->disk);
    }
    c->snapshots++;
    nd->log_changed = true;
    raftsim_tracef(&c->tr, "n%llu snapshot at %llu t%llu", (unsigned long long)nd->id,
                   (unsigned long long)idx, (unsigned long long)e->term);
}

/* One Ready cycle, in the order raft.h prescribes. Returns false if the server crashed. */
static bool ready_once(struct raftsim_cluster *c, struct raftsim_node *nd, struct raft_ready *rd)
{
    bool writes = rd->hard_state_changed || rd->snapshot || rd->truncate_from || rd->n_entries;
    int crash = writes ? nd->crash_armed : RAFTSIM_CRASH_NONE;
    if (crash == RAFTSIM_CRASH_NONE && writes && raftsim_rng_pm(&c->rng, c->crash_ready_pm))
        crash = (int)raftsim_rng_range(&c->rng, RAFTSIM_CRASH_AFTER_SEND,
                                       RAFTSIM_CRASH_BEFORE_ADVANCE);
    if (rd->soft_state_changed)
        raftsim_tracef(&c->tr, "n%llu is %s (leader %llu)", (unsigned long long)nd->id,
                       raft_role_name(rd->role), (unsigned long long)rd->leader);
    if (rd->truncate_from && raft_state(&nd->core) == RAFT_LEADER &&
        rd->truncate_from <= raftsim_image_last_index(&nd->disk.cache))
        raftsim_check_fail(&c->chk, "leader append-only: leader %llu truncates its log at %llu",
                           (unsigned long long)nd->id, (unsigned long long)rd->truncate_from);

    send_all(c, nd, rd->msgs, rd->n_msgs, false);
    if (c->sabotage == RAFTSIM_SAB_ACK_EARLY)
        send_all(c, nd, rd->msgs_after_persist, rd->n_msgs_after_persist, true);
    if (crash == RAFTSIM_CRASH_AFTER_SEND)
        goto crashed;

    struct raftsim_disk *d = &nd->disk;
    int bad = 0;
    if (rd->hard_state_changed) {
        bad |= raftsim_disk_set_hard(d, rd->term,
                                     c->sabotage == RAFTSIM_SAB_FORGET_VOTE ? 0 : rd->vote);
        raftsim_tracef(&c->tr, "n%llu persist term %llu vote %llu", (unsigned long long)nd->id,
                       (unsigned long long)rd->term, (unsigned long long)rd->vote);
    }
    if (rd->snapshot) {
        const struct raft_snapshot *s = rd->snapshot;
        bad |= raftsim_disk_snapshot(d, s->index, s->term, &s->config, s->data, s->len);
        bad |= raftsim_disk_truncate(d, 0);
        raftsim_tracef(&c->tr, "n%llu persist snapshot %llu t%llu", (unsigned long long)nd->id,
                       (unsigned long long)s->index, (unsigned long long)s->term);
    }
    if (rd->truncate_from) {
        bad |= raftsim_disk_truncate(d, rd->truncate_from);
        raftsim_tracef(&c->tr, "n%llu persist truncate from %llu", (unsigned long long)nd->id,
                       (unsigned long long)rd->truncate_from);
    }
    if (rd->n_entries) {
        bad |= raftsim_disk_append(d, rd->entries, rd->n_entries);
        raftsim_tracef(&c->tr, "n%llu persist entries %llu..%llu t%llu", (unsigned long long)nd->id,
                       (unsigned long long)rd->entries[0].index,
                       (unsigned long long)rd->entries[rd->n_entries - 1].index,
                       (unsigned long long)rd->entries[rd->n_entries - 1].term);
    }
    if (bad) {
        raftsim_check_fail(&c->chk, "server %llu: Ready asks for a write that breaks the log "
                                    "(gap or append before the log start)",
                           (unsigned long long)nd->id);
        return false;
    }
    if (writes)
        nd->log_changed = true;
    if (crash == RAFTSIM_CRASH_BEFORE_SYNC)
        goto crashed;
    if (c->sabotage != RAFTSIM_SAB_NO_FSYNC)
        raftsim_disk_sync(d);
    if (crash == RAFTSIM_CRASH_AFTER_SYNC)
        goto crashed;

    if (c->sabotage != RAFTSIM_SAB_ACK_EARLY)
        send_all(c, nd, rd->msgs_after_persist, rd->n_msgs_after_persist, true);
    if (rd->snapshot)
        restore_fsm(c, nd, rd->snapshot->index, &rd->snapshot->config, rd->snapshot->data,
                    rd->snapshot->len);
    for (size_t i = 0; i < rd->n_committed && !c->chk.failed; i++)
        apply_one(c, nd, &rd->committed[i]);
    raftsim_client_reads(c, nd, rd->reads, rd->n_reads);
    if (crash == RAFTSIM_CRASH_BEFORE_ADVANCE)
        goto crashed;
    bool want_snapshot = rd->snapshot_wanted;
    raft_advance(&nd->core, rd);
    if (want_snapshot)
        take_snapshot(c, nd);
    return true;

crashed:
    c->mid_ready_crashes++;
    nd->crash_armed = RAFTSIM_CRASH_NONE;
    raftsim_tracef(&c->tr, "n%llu crash inside Ready (point %d)", (unsigned long long)nd->id,
                   crash);
    raftsim_node_crash(c, nd->id);
    if (!nd->restart_at && c->restart_max)
        nd->restart_at = c->now + raftsim_rng_range(&c->rng, 10, c->restart_max);
    return false;
}

static void process_ready(struct raftsim_cluster *c, struct raftsim_node *nd)
{
    struct raft_ready rd;
    /* Bounded: a core that always has work would otherwise hang the simulator. */
    for (int guard = 0; guard < 1000 && nd->up && !c->chk.failed; guard++) {
        if (!raft_ready(&nd->core, &rd))
            return;
        if (!ready_once(c, nd, &rd))
            return;
    }
    if (nd->up && !c->chk.failed)
        raftsim_check_fail(&c->chk, "server %llu: raft_ready still has work after 1000 cycles",
                           (unsigned long long)nd->id);
}

/* Check-quorum: a leader that has heard from no majority for several election timeouts of its
 * own clock must have stepped down (any message counts as hearing, to stay on the safe side). */
static void check_quorum_held(struct raftsim_cluster *c, struct raftsim_node *nd)
{
    uint64_t window = 4 * (uint64_t)c->election_ticks;
    const struct raft_config *cfg = raft_configuration(&nd->core);
    uint64_t sig = 0;
    for (uint32_t i = 0; i < cfg->n; i++)
        if (cfg->servers[i].voter)
            sig += (uint64_t)1 << (cfg->servers[i].id & 63);
    if (sig != nd->voters_sig) { /* a new voter set gets a fresh window to prove itself */
        nd->voters_sig = sig;
        nd->leader_since = nd->ticks;
    }
    if (nd->ticks < nd->leader_since + window)
        return;
    unsigned voters = 0, heard = 0;
    for (uint32_t i = 0; i < cfg->n; i++) {
        if (!cfg->servers[i].voter)
            continue;
        voters++;
        raft_id p = cfg->servers[i].id;
        if (p == nd->id || (p < RAFTSIM_MAX_IDS && nd->heard[p] + window > nd->ticks))
            heard++;
    }
    if (voters && heard <= voters / 2)
        raftsim_check_fail(&c->chk,
                           "check-quorum: n%llu still leads term %llu after %llu ticks hearing "
                           "from only %u of %u voters",
                           (unsigned long long)nd->id, (unsigned long long)nd->term,
                           (unsigned long long)window, heard, voters);
}

static void check_step(struct raftsim_cluster *c)
{
    for (raft_id id = 1; id < RAFTSIM_MAX_IDS; id++) {
        struct raftsim_node *nd = &c->nodes[id];
        if (!nd->up)
            continue;
        enum raft_role role = raft_state(&nd->core);
        uint64_t term = raft_term(&nd->core);
        if (term < nd->term)
            raftsim_check_fail(&c->chk, "server %llu: term went back from %llu to %llu",
                               (unsigned long long)id, (unsigned long long)nd->term,
                               (unsigned long long)term);
        if (term < nd->disk.durable.term)
            raftsim_check_fail(&c->chk, "server %llu: term %llu below its durable term %llu",
                               (unsigned long long)id, (unsigned long long)term,
                               (unsigned long long)nd->disk.durable.term);
        uint64_t commit = raft_commit_index(&nd->core);
        if (commit < nd->commit)
            raftsim_check_fail(&c->chk, "server %llu: commit index went back from %llu to %llu",
                               (unsigned long long)id, (unsigned long long)nd->commit,
                               (unsigned long long)commit);
        if (role == RAFT_LEADER) {
            raftsim_check_leader(&c->chk, term, id);
            if (nd->role != RAFT_LEADER || nd->term != term) {
                nd->leader_since = nd->ticks;
                c->elections_seen++;
                raftsim_check_leader_complete(&c->chk, id, term, &nd->disk.cache);
            }
            check_quorum_held(c, nd);
            for (uint64_t i = nd->commit + 1; i <= commit; i++) {
                const struct raft_entry *e = raft_entry_at(&nd->core, i);
                if (e)
                    raftsim_check_commit(&c->chk, id, term, e);
            }
        }
        nd->commit = commit;
        if (term > c->max_term)
            c->max_term = term;
        nd->role = role;
        nd->term = term;
    }
    for (raft_id a = 1; a < RAFTSIM_MAX_IDS; a++) {
        struct raftsim_node *na = &c->nodes[a];
        if (!na->exists || !na->log_changed)
            continue;
        na->log_changed = false;
        for (raft_id b = 1; b < RAFTSIM_MAX_IDS; b++)
            if (b != a && c->nodes[b].exists)
                raftsim_check_log_matching(&c->chk, a, &na->disk.cache, b,
                                           &c->nodes[b].disk.cache);
    }
}

void raftsim_process(struct raftsim_cluster *c, struct raftsim_node *nd)
{
    process_ready(c, nd);
    check_step(c);
}

void raftsim_check_all_logs(struct raftsim_cluster *c)
{
    for (raft_id a = 1; a < RAFTSIM_MAX_IDS; a++)
        for (raft_id b = a + 1; b < RAFTSIM_MAX_IDS; b++)
            if (c->nodes[a].exists && c->nodes[b].exists)
                raftsim_check_log_matching(&c->chk, a, &c->nodes[a].disk.cache, b,
                                           &c->nodes[b].disk.cache);
}

static uint64_t next_event(const struct raftsim_cluster *c)
{
    uint64_t t = raftsim_net_next(&c->net);
    for (raft_id id = 1; id < RAFTSIM_MAX_IDS; id++) {
        const struct raftsim_node *nd = &c->nodes[id];
        if (nd->up && nd->next_tick < t)
            t = nd->next_tick;
        if (nd->up && nd->stop_at && nd->stop_at < t)
            t = nd->stop_at;
    }
    return t;
}

static void deliver(struct raftsim_cluster *c, struct raft_msg *m)
{
    struct raftsim_node *nd = m->to < RAFTSIM_MAX_IDS ? &c->nodes[m->to] : NULL;
    if (nd && nd->up && nd->paused_until > c->now) {
        if (raftsim_net_defer(&c->net, m, nd->paused_until))
            raftsim_check_fail(&c->chk, "out of memory");
        return;
    }
    if (c->tr.on) {
        char d[200];
        raftsim_msg_describe(m, d, sizeof d);
        raftsim_tracef(&c->tr, "deliver %s%s", d, nd && nd->up ? "" : " (nobody listening)");
    }
    if (nd && nd->up) {
        c->installs += m->type == RAFT_MSG_SNAPSHOT;
        if (m->from < RAFTSIM_MAX_IDS)
            nd->heard[m->from] = nd->ticks;
        int rc = raft_step(&nd->core, m);
        if (rc) /* every message here came from a real core: none is malformed */
            raftsim_check_fail(&c->chk, "server %llu: raft_step refused a message: %s",
                               (unsigned long long)nd->id, raft_strerror(rc));
        process_ready(c, nd);
    }
    raftsim_msg_free(m);
}

bool raftsim_run_until(struct raftsim_cluster *c, uint64_t until)
{
    while (!c->chk.failed) {
        uint64_t t = next_event(c);
        if (t >= until) {
            c->now = until;
            c->tr.now = until;
            break;
        }
        c->now = t;
        c->tr.now = t;
        for (raft_id id = 1; id < RAFTSIM_MAX_IDS && !c->chk.failed; id++) {
            struct raftsim_node *nd = &c->nodes[id];
            if (nd->up && nd->stop_at && nd->stop_at <= t) {
                raftsim_tracef(&c->tr, "n%llu shuts down (removed from the cluster)",
                               (unsigned long long)id);
                node_stop(c, nd);
                nd->stop_at = 0;
                continue;
            }
            if (nd->up && nd->next_tick == t) {
                nd->next_tick += nd->tick_len;
                if (nd->paused_until > t)
                    continue; /* a stopped process does not run its timers */
                raftsim_tracef(&c->tr, "n%llu tick", (unsigned long long)id);
                raft_tick(&nd->core);
                nd->ticks++;
                process_ready(c, nd);
                c->steps++;
                check_step(c);
            }
        }
        struct raft_msg m;
        while (!c->chk.failed && raftsim_net_pop(&c->net, t, &m)) {
            deliver(c, &m);
            c->steps++;
            check_step(c);
        }
    }
    return !c->chk.failed;
}

void raftsim_dump(const struct raftsim_cluster *c, FILE *out)
{
    for (raft_id id = 1; id < RAFTSIM_MAX_IDS; id++) {
        const struct raftsim_node *nd = &c->nodes[id];
        if (!nd->exists)
            continue;
        const struct raftsim_image *im = &nd->disk.cache;
        if (!nd->up) {
            fprintf(out, "  n%llu down%s: durable term %llu vote %llu snap %llu last %llu\n",
                    (unsigned long long)id, nd->removed ? " (removed)" : "",
                    (unsigned long long)im->term, (unsigned long long)im->vote,
                    (unsigned long long)(im->has_snap ? im->snap_index : 0),
                    (unsigned long long)raftsim_image_last_index(im));
            continue;
        }
        const struct raft *r = &nd->core;
        fprintf(out,
                "  n%llu %s term %llu vote %llu leader %llu commit %llu applied %llu snap %llu "
                "last %llu/%llu%s\n",
                (unsigned long long)id, raft_role_name(raft_state(r)),
                (unsigned long long)raft_term(r), (unsigned long long)raft_vote(r),
                (unsigned long long)raft_leader(r), (unsigned long long)raft_commit_index(r),
                (unsigned long long)nd->fsm.applied, (unsigned long long)raft_snapshot_index(r),
                (unsigned long long)raft_last_index(r), (unsigned long long)raft_last_term(r),
                nd->in_config ? "" : " (not a member)");
    }
}
