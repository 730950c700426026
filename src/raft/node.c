/* node.c — the Raft node's lifecycle (open: load meta, snapshot, log, peers.json; bootstrap;
 * close and crash), the tick timer and inbound messages, client operations and stats. */
#include "raft/node_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <sys/random.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft/config.h"
#include "raft/meta.h"
#include "raft/node_snapshot.h"
#include "raft/peers.h"
#include "raft/wire.h"

const char *raft_node_strerror(int err)
{
    switch (err) {
    case RAFT_NODE_ELOST:
        return "leadership lost while committing log";
    case RAFT_NODE_ESHUTDOWN:
        return "raft is shutting down";
    case RAFT_NODE_EFAILED:
        return "raft stopped after a disk failure";
    case RAFT_NODE_EREAD:
        return "leadership lost before the read was confirmed";
    default:
        return raft_strerror(err);
    }
}

void raft_node_opts_default(struct raft_node_opts *o)
{
    memset(o, 0, sizeof *o);
    o->tick_ms = RAFT_NODE_DEFAULT_TICK_MS;
    o->election_ticks = RAFT_NODE_DEFAULT_ELECTION_TICKS;
    o->heartbeat_ticks = RAFT_NODE_DEFAULT_HEARTBEAT_TICKS;
}

static void on_msg(void *ctx, const struct raft_msg *m)
{
    struct raft_node *n = ctx;
    if (n->failed || n->core_busy)
        return; /* a lost message, which Raft tolerates */
    if (raft_step(&n->core, m) != RAFT_OK)
        return;
    if ((m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_SNAPSHOT) &&
        m->from == raft_leader(&n->core)) {
        n->contacted = true;
        n->contact_ns = raft_node_now_ns();
    }
}

/* The transport met our first cluster: remember it before any of its messages is answered. */
static int on_cluster(void *ctx, uint64_t cluster_id)
{
    struct raft_node *n = ctx;
    char err[RAFT_META_ERRMAX];
    /* Only an empty server may join a cluster by handshake. A log without a cluster id (written
     * before ids existed) cannot tell its own cluster from a stranger's: it refuses every peer
     * that names one, or a stray leader could claim it and overwrite its entries. */
    if (raft_last_index(&n->core) != 0 || raft_snapshot_index(&n->core) != 0) {
        log_printf(n->lg, LOG_WARN, "raft",
                   "refusing a peer of Raft cluster %016" PRIx64 ": this server's log predates "
                   "cluster ids and cannot be checked against it", cluster_id);
        return -1;
    }
    const struct raft_meta md = {raft_term(&n->core), raft_vote(&n->core), cluster_id};
    if (n->failed || raft_meta_save(n->dir, &md, err, sizeof err) != 0) {
        log_printf(n->lg, LOG_ERR, "raft", "cannot record cluster id %016" PRIx64 ": %s",
                   cluster_id, n->failed ? "the node has failed" : err);
        return -1;
    }
    n->cluster_id = cluster_id;
    log_printf(n->lg, LOG_INFO, "raft", "joined Raft cluster %016" PRIx64, cluster_id);
    return 0;
}

static void on_tick(struct loop *l, uint64_t id, void *ctx)
{
    (void)id;
    struct raft_node *n = ctx;
    n->tick_timer = 0;
    if (n->failed)
        return;
    raft_tick(&n->core);
    n->tick_timer = loop_timer_add(l, n->tick_ms, on_tick, n);
}

static void on_before_sleep(struct loop *l, void *ctx)
{
    (void)l;
    raft_node_drive(ctx);
}

static void teardown(struct raft_node *n)
{
    if (n->tr) {
        raft_transport_flush(n->tr);
        raft_transport_destroy(n->tr);
    }
    if (n->hook_id)
        loop_before_sleep_del(n->loop, n->hook_id);
    if (n->tick_timer)
        loop_timer_cancel(n->loop, n->tick_timer);
    if (n->core_ok)
        raft_close(&n->core);
    if (n->log)
        rlog_close(n->log);
    raft_config_free(&n->wired);
    raft_config_free(&n->applied_cfg);
    free(n->props);
    free(n->reads);
    free(n->evs);
    free(n);
}

void raft_node_close(struct raft_node *n)
{
    if (n == NULL)
        return;
    if (n->in_drive || n->closing) {
        n->close_requested = true; /* from a callback: finish when the Ready loop unwinds */
        return;
    }
    n->closing = true;
    raft_node_drive(n); /* persists and syncs whatever the core still has ready */
    raft_node_fire_events(n);
    raft_node_fail_all(n, n->failed ? RAFT_NODE_EFAILED : RAFT_NODE_ESHUTDOWN,
                       n->failed ? RAFT_NODE_EFAILED : RAFT_NODE_ESHUTDOWN);
    raft_node_fire_events(n);
    teardown(n);
}

void raft_node_crash(struct raft_node *n)
{
    if (n == NULL)
        return;
    n->n_evs = 0;
    teardown(n);
}

/* ---- open ---- */

struct loaded {
    uint64_t term;
    raft_id vote;
    uint64_t cluster_id;
    struct raft_snapshot snap; /* index 0: none */
    struct raft_entry *entries;
    size_t n;
};

static void loaded_free(struct loaded *ld)
{
    raft_snapfile_free(&ld->snap);
    for (size_t i = 0; i < ld->n; i++)
        free(ld->entries[i].data);
    free(ld->entries);
}

/* Brings log and snapshot into agreement and checks that nothing between them is missing. */
static int reconcile(struct raft_node *n, struct loaded *ld, unsigned skipped, char *err,
                     size_t errlen)
{
    uint64_t first = rlog_first_index(n->log), last = rlog_last_index(n->log);
    if (ld->snap.index) {
        uint64_t t = 0;
        bool have = rlog_term_at(n->log, ld->snap.index, &t) == 0;
        if (ld->snap.index > last || (have && t != ld->snap.term)) {
            /* A crash between persisting an installed snapshot and resetting the log. */
            log_printf(n->lg, LOG_INFO, "raft",
                       "log (last index %" PRIu64 ") does not hold snapshot %" PRIu64 "-%" PRIu64
                       ": finishing its installation",
                       last, ld->snap.term, ld->snap.index);
            if (rlog_reset(n->log, ld->snap.index, ld->snap.term) != 0) {
                snprintf(err, errlen, "reset log to snapshot %" PRIu64 ": %s", ld->snap.index,
                         rlog_errmsg(n->log));
                return -1;
            }
            return 0;
        }
    }
    if (first > ld->snap.index + 1) {
        snprintf(err, errlen,
                 "the log starts at index %" PRIu64 " but the newest usable snapshot ends at %" PRIu64
                 "%s: entries in between are lost (%u unusable snapshot file%s in %.200s)",
                 first, ld->snap.index, ld->snap.index ? "" : " (none)", skipped,
                 skipped == 1 ? "" : "s", n->snapdir);
        return -1;
    }
    return 0;
}

static int load_entries(struct raft_node *n, struct loaded *ld, char *err, size_t errlen)
{
    uint64_t first = rlog_first_index(n->log), last = rlog_last_index(n->log);
    if (last < first)
        return 0;
    size_t count = (size_t)(last - first + 1);
    ld->entries = calloc(count, sizeof *ld->entries);
    if (ld->entries == NULL) {
        snprintf(err, errlen, "out of memory loading %zu log entries", count);
        return -1;
    }
    for (uint64_t i = first; i <= last; i++) {
        int rc = rlog_get(n->log, i, &ld->entries[ld->n]);
        if (rc != 0) {
            snprintf(err, errlen, "read log entry %" PRIu64 ": %s", i,
                     rc == -ENOMEM ? "out of memory" : rlog_errmsg(n->log));
            return -1;
        }
        ld->n++;
    }
    return 0;
}

/* The latest configuration on disk, for resolving an old-form peers.json. */
static int latest_config(const struct loaded *ld, struct raft_config *out)
{
    for (size_t i = ld->n; i-- > 0;)
        if (ld->entries[i].type == RAFT_ENTRY_CONFIG &&
            raft_config_decode(ld->entries[i].data, ld->entries[i].len, out) == 0)
            return 0;
    return raft_config_copy(out, &ld->snap.config);
}

/* Servers that bootstrap together from the same list (bootstrap-expect, peers.json on empty
 * logs) must name the same cluster without talking: the id is a hash of the sorted server ids. */
static uint64_t config_cluster_id(const struct raft_config *c)
{
    uint64_t h = 0xcbf29ce484222325ull, prev = 0;
    for (;;) { /* ascending id order without sorting a copy: configurations are small */
        uint64_t next = 0;
        for (size_t i = 0; i < c->n; i++)
            if (c->servers[i].id > prev && (next == 0 || c->servers[i].id < next))
                next = c->servers[i].id;
        if (next == 0)
            break;
        for (int b = 0; b < 64; b += 8)
            h = (h ^ ((next >> b) & 0xff)) * 0x100000001b3ull;
        prev = next;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h ? h : 1;
}

/* A server bootstrapping alone starts a cluster no other log shares: a fresh random id. */
static uint64_t random_cluster_id(raft_id self)
{
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = raft_node_now_ns() ^ ((uint64_t)getpid() << 32); /* still unique enough per host */
    r ^= self * 0x9e3779b97f4a7c15ull;
    return r ? r : 1;
}

static int save_cluster_id(struct raft_node *n, struct loaded *ld, uint64_t cluster_id, char *err,
                           size_t errlen)
{
    const struct raft_meta md = {ld->term, ld->vote, cluster_id};
    char why[RAFT_META_ERRMAX];
    if (raft_meta_save(n->dir, &md, why, sizeof why) != 0) {
        snprintf(err, errlen, "save the cluster id: %s", why);
        return -1;
    }
    n->cluster_id = ld->cluster_id = cluster_id;
    return 0;
}

/* peers.json on a server with history, as hashicorp/raft's RecoverCluster: the state as of the
 * last log entry becomes a snapshot at that entry's (index, term) holding the new configuration,
 * and the log is emptied behind it. Appending a recovery entry instead could give two survivors
 * different entries at one index and term (one of them had an uncommitted entry there), which
 * Raft's log matching would never repair; a snapshot at an index and term this log already had
 * names only entries that this server holds. The old configuration entries go with the log. */
static int recover_into_snapshot(struct raft_node *n, struct loaded *ld,
                                 const struct raft_config *pc, char *err, size_t errlen)
{
    uint64_t last = rlog_last_index(n->log), lterm = rlog_last_term(n->log);
    struct raft_snapshot s = {.index = last, .term = lterm};
    struct buf data;
    buf_init(&data, 0);
    int rc = -1;
    if (ld->snap.index && n->fsm.restore(n->fsm.ctx, ld->snap.data, ld->snap.len) != 0) {
        snprintf(err, errlen, "peers.json recovery: the state machine could not restore snapshot "
                 "%" PRIu64, ld->snap.index);
        goto out;
    }
    for (size_t i = 0; i < ld->n; i++) {
        const struct raft_entry *e = &ld->entries[i];
        if (e->index > ld->snap.index && e->type == RAFT_ENTRY_COMMAND)
            (void)n->fsm.apply(n->fsm.ctx, e->index, e->data, e->len);
    }
    if (n->fsm.snapshot(n->fsm.ctx, &data) != 0 || data.len > UINT32_MAX ||
        raft_config_copy(&s.config, pc) != 0) {
        snprintf(err, errlen, "peers.json recovery: the state machine could not take a snapshot");
        goto out;
    }
    s.len = (uint32_t)data.len;
    s.data = data.data;
    char why[512];
    /* The file first: after a crash before the reset (or before peers.json is deleted), open
     * finds the snapshot at the log's own last entry and peers.json still there, and runs
     * this recovery again with the same result. */
    if (raft_snapfile_save(n->snapdir, &s, why, sizeof why) != 0) {
        snprintf(err, errlen, "peers.json recovery: %.400s", why);
        goto out;
    }
    if (rlog_reset(n->log, last, lterm) != 0) {
        snprintf(err, errlen, "peers.json recovery: reset the log to %" PRIu64 ": %s", last,
                 rlog_errmsg(n->log));
        goto out;
    }
    for (size_t i = 0; i < ld->n; i++)
        free(ld->entries[i].data);
    ld->n = 0;
    raft_snapfile_free(&ld->snap);
    ld->snap = s;
    memset(&s, 0, sizeof s);
    data.data = NULL;
    rc = 0;
out:
    raft_config_free(&s.config);
    buf_free(&data);
    return rc;
}

/* peers.json on an empty server (bootstrap-expect, or a cluster formed from a file): the list
 * becomes entry 1, identical on every server that starts from the same list. */
static int recover_into_first_entry(struct raft_node *n, struct loaded *ld,
                                    const struct raft_config *pc, uint64_t term, char *err,
                                    size_t errlen)
{
    struct buf b;
    buf_init(&b, 0);
    if (raft_config_encode(pc, &b) != 0) {
        snprintf(err, errlen, "out of memory");
        buf_free(&b);
        return -1;
    }
    struct raft_entry e = {.term = term, .index = 1, .type = RAFT_ENTRY_CONFIG,
                           .len = (uint32_t)b.len, .data = b.data};
    if (rlog_append(n->log, &e, 1) != 0 || rlog_sync(n->log) != 0) {
        snprintf(err, errlen, "write the peers.json configuration to the log: %s",
                 rlog_errmsg(n->log));
        buf_free(&b);
        return -1;
    }
    if (ld->entries == NULL && (ld->entries = calloc(1, sizeof *ld->entries)) == NULL) {
        snprintf(err, errlen, "out of memory");
        buf_free(&b);
        return -1;
    }
    ld->entries[ld->n++] = e; /* takes b's bytes */
    return 0;
}

/* peers.json: make the listed servers the configuration, durably, then delete the file. */
static int recover_peers(struct raft_node *n, struct loaded *ld, char *err, size_t errlen)
{
    struct raft_config known, pc;
    char why[512];
    if (latest_config(ld, &known) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = raft_peers_load(n->dir, &known, &pc, why, sizeof why);
    raft_config_free(&known);
    if (rc < 0) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    if (rc == 0)
        return 0;
    rc = -1;
    if (raft_config_find(&pc, n->id) == NULL) {
        snprintf(err, errlen, "%.200s/%s does not list this server (id %" PRIu64 ", %s)", n->dir,
                 RAFT_PEERS_FILE, n->id, n->advertise);
        goto out;
    }
    uint64_t last = rlog_last_index(n->log), term = ld->term;
    if (rlog_last_term(n->log) > term)
        term = rlog_last_term(n->log);
    if (term == 0)
        term = 1;
    /* Survivors keep the cluster they share; servers starting empty from the same list
     * (bootstrap-expect) derive the same id from it. */
    uint64_t cid = ld->cluster_id != 0 && last != 0 ? ld->cluster_id : config_cluster_id(&pc);
    if (term != ld->term || cid != ld->cluster_id) {
        const struct raft_meta md = {term, term != ld->term ? 0 : ld->vote, cid};
        if (raft_meta_save(n->dir, &md, why, sizeof why) != 0) {
            snprintf(err, errlen, "save term for peers.json recovery: %.300s", why);
            goto out;
        }
        ld->vote = md.vote;
        ld->term = term;
        n->cluster_id = ld->cluster_id = cid;
    }
    if (last == 0 ? recover_into_first_entry(n, ld, &pc, term, err, errlen)
                  : recover_into_snapshot(n, ld, &pc, err, errlen))
        goto out;
    if (last == 0)
        log_printf(n->lg, LOG_INFO, "raft", "recovered configuration from peers.json: %s",
                   raft_peers_format(&pc, why, sizeof why));
    else
        log_printf(n->lg, LOG_INFO, "raft",
                   "recovered configuration from peers.json into a snapshot at index %" PRIu64
                   ", term %" PRIu64 ": %s",
                   ld->snap.index, ld->snap.term, raft_peers_format(&pc, why, sizeof why));
    if (raft_peers_remove(n->dir, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s", why);
        goto out;
    }
    rc = 0;
out:
    raft_config_free(&pc);
    return rc;
}

static int check_opts(const struct raft_node_opts *o, const struct raft_node_fsm *fsm, char *err,
                      size_t errlen)
{
    if (o->data_dir == NULL || o->data_dir[0] == '\0') {
        snprintf(err, errlen, "raft: no data directory");
        return -1;
    }
    if (o->id == 0) {
        snprintf(err, errlen, "raft: server id must be nonzero");
        return -1;
    }
    if (o->advertise == NULL || strlen(o->advertise) >= RAFT_ADDR_MAX) {
        snprintf(err, errlen, "raft: advertise address must be \"ip:port\"");
        return -1;
    }
    if (o->cluster == NULL || strlen(o->cluster) >= RAFT_WIRE_CLUSTER_MAX) {
        snprintf(err, errlen, "raft: datacenter name missing or too long");
        return -1;
    }
    if (fsm == NULL || fsm->apply == NULL || fsm->snapshot == NULL || fsm->restore == NULL) {
        snprintf(err, errlen, "raft: state machine callbacks missing");
        return -1;
    }
    return 0;
}

int raft_node_open(struct loop *l, const struct raft_node_opts *o, const struct raft_node_fsm *fsm,
                   const struct logger *lg, struct raft_node **out, char *err, size_t errlen)
{
    *out = NULL;
    if (check_opts(o, fsm, err, errlen) != 0)
        return -1;
    struct raft_node *n = calloc(1, sizeof *n);
    if (n == NULL) {
        snprintf(err, errlen, "raft: out of memory");
        return -1;
    }
    n->loop = l;
    n->lg = lg;
    n->fsm = *fsm;
    n->id = o->id;
    n->tick_ms = o->tick_ms ? o->tick_ms : RAFT_NODE_DEFAULT_TICK_MS;
    snprintf(n->advertise, sizeof n->advertise, "%s", o->advertise);
    struct loaded ld;
    memset(&ld, 0, sizeof ld);
    char why[512];
    if ((size_t)snprintf(n->dir, sizeof n->dir, "%s/raft", o->data_dir) >= sizeof n->dir ||
        (size_t)snprintf(n->snapdir, sizeof n->snapdir, "%s/%s", n->dir, RAFT_SNAPFILE_DIR) >=
            sizeof n->snapdir) {
        snprintf(err, errlen, "raft: data directory path too long");
        goto fail;
    }
    struct rlog_opts ro = {0, o->io};
    if (rlog_open(n->dir, &ro, lg, &n->log, why, sizeof why) != 0) {
        snprintf(err, errlen, "raft: %s", why);
        goto fail;
    }
    struct raft_meta md;
    if (raft_meta_load(n->dir, &md, why, sizeof why) != 0) {
        snprintf(err, errlen, "raft: %s", why);
        goto fail;
    }
    ld.term = md.term;
    ld.vote = md.vote;
    n->cluster_id = ld.cluster_id = md.cluster_id;
    unsigned skipped = 0;
    if (raft_snapfile_mkdir(n->snapdir, why, sizeof why) != 0 ||
        raft_snapfile_load(n->snapdir, lg, &ld.snap, &skipped, why, sizeof why) < 0) {
        snprintf(err, errlen, "raft: %s", why);
        goto fail;
    }
    if (reconcile(n, &ld, skipped, why, sizeof why) != 0 ||
        load_entries(n, &ld, why, sizeof why) != 0 || recover_peers(n, &ld, why, sizeof why) != 0) {
        snprintf(err, errlen, "raft: %s", why);
        goto fail;
    }

    struct raft_options opt;
    raft_options_default(&opt, o->id, o->advertise);
    if (o->election_ticks)
        opt.election_ticks = o->election_ticks;
    if (o->heartbeat_ticks)
        opt.heartbeat_ticks = o->heartbeat_ticks;
    if (o->snapshot_threshold)
        opt.snapshot_threshold = o->snapshot_threshold;
    if (o->snapshot_trailing)
        opt.snapshot_trailing = o->snapshot_trailing;
    opt.log = lg;
    opt.seed = o->seed ? o->seed : (o->id * 0x9e3779b97f4a7c15ull) ^ raft_node_now_ns();
    n->trailing = opt.snapshot_trailing;
    n->threshold = opt.snapshot_threshold;
    struct raft_restore rs = {.term = ld.term, .vote = ld.vote,
                              .snapshot = ld.snap.index ? &ld.snap : NULL,
                              .entries = ld.entries, .n_entries = ld.n};
    int rc = raft_init(&n->core, &opt, &rs);
    if (rc != RAFT_OK) {
        snprintf(err, errlen, "raft: cannot start from the stored state in %s: %s", n->dir,
                 raft_strerror(rc));
        goto fail;
    }
    n->core_ok = true;
    if (ld.snap.index) {
        if (fsm->restore(fsm->ctx, ld.snap.data, ld.snap.len) != 0) {
            snprintf(err, errlen, "raft: the state machine could not restore snapshot %s/%" PRIu64
                     "-%" PRIu64 ".snap", n->snapdir, ld.snap.term, ld.snap.index);
            goto fail;
        }
        n->applied = ld.snap.index;
        n->applied_cfg = ld.snap.config;
        memset(&ld.snap.config, 0, sizeof ld.snap.config);
        log_printf(lg, LOG_INFO, "raft", "restored from snapshot %" PRIu64 "-%" PRIu64,
                   ld.snap.term, ld.snap.index);
    }
    if (o->bootstrap) {
        if (raft_last_index(&n->core) == 0 && raft_snapshot_index(&n->core) == 0) {
            struct raft_server self = {.id = o->id, .voter = true};
            snprintf(self.addr, sizeof self.addr, "%s", o->advertise);
            struct raft_config c = {1, &self};
            /* Durable before the first entry: a log always knows its cluster. */
            if (save_cluster_id(n, &ld, random_cluster_id(o->id), why, sizeof why) != 0) {
                snprintf(err, errlen, "raft: bootstrap: %s", why);
                goto fail;
            }
            rc = raft_bootstrap(&n->core, &c);
            if (rc != RAFT_OK) {
                snprintf(err, errlen, "raft: bootstrap: %s", raft_strerror(rc));
                goto fail;
            }
            log_printf(lg, LOG_INFO, "raft",
                       "bootstrapping a new cluster with this server (%s), cluster id %016" PRIx64,
                       o->advertise, n->cluster_id);
        } else {
            log_printf(lg, LOG_INFO, "raft", "existing Raft state found, not bootstrapping");
        }
    }
    loaded_free(&ld);

    struct raft_transport_opts to = {0};
    to.id = o->id;
    to.addr = o->advertise;
    to.cluster = o->cluster;
    to.cluster_id = n->cluster_id;
    to.listen = o->bind ? o->bind : o->advertise;
    to.backoff_max_ms = o->backoff_max_ms;
    to.rpc = o->rpc;
    static const struct raft_transport_cbs cbs = {on_msg, NULL, on_cluster};
    n->tr = raft_transport_create(l, &to, &cbs, n, why, sizeof why);
    if (n->tr == NULL) {
        snprintf(err, errlen, "raft: %s", why);
        goto fail_loaded;
    }
    loop_addr_format(raft_transport_listen_addr(n->tr), n->listen, sizeof n->listen);
    n->hook_id = loop_before_sleep_add(l, on_before_sleep, n);
    n->tick_timer = loop_timer_add(l, n->tick_ms, on_tick, n);
    if (n->hook_id == 0 || n->tick_timer == 0) {
        snprintf(err, errlen, "raft: out of memory");
        goto fail_loaded;
    }
    raft_node_sync_peers(n);
    *out = n;
    return 0;
fail:
    loaded_free(&ld);
fail_loaded:
    teardown(n);
    return -1;
}

/* ---- client operations ---- */

static int usable(const struct raft_node *n)
{
    if (n->failed)
        return RAFT_NODE_EFAILED;
    if (n->closing || n->close_requested)
        return RAFT_NODE_ESHUTDOWN;
    if (n->core_busy)
        return RAFT_EINVAL; /* called from an FSM callback */
    return 0;
}

int raft_node_propose(struct raft_node *n, const void *data, size_t len, raft_node_done_fn done,
                      void *ctx)
{
    int rc = usable(n);
    if (rc)
        return rc;
    if (len > RAFT_NODE_MAX_ENTRY)
        return RAFT_ETOOBIG;
    if (n->n_props == n->cap_props) {
        size_t cap = n->cap_props ? n->cap_props * 2 : 64;
        struct raft_node_prop *v = realloc(n->props, cap * sizeof *v);
        if (v == NULL)
            return RAFT_ENOMEM;
        n->props = v;
        n->cap_props = cap;
    }
    uint64_t index;
    rc = raft_propose(&n->core, data, len, &index);
    if (rc != RAFT_OK)
        return rc;
    struct raft_node_prop p = {index, raft_term(&n->core), done, ctx};
    n->props[n->n_props++] = p;
    return 0;
}

int raft_node_read_index(struct raft_node *n, raft_node_read_fn cb, void *ctx)
{
    int rc = usable(n);
    if (rc)
        return rc;
    if (n->n_reads == n->cap_reads) {
        size_t cap = n->cap_reads ? n->cap_reads * 2 : 64;
        struct raft_node_read *v = realloc(n->reads, cap * sizeof *v);
        if (v == NULL)
            return RAFT_ENOMEM;
        n->reads = v;
        n->cap_reads = cap;
    }
    uint64_t id = ++n->next_read_id;
    rc = raft_read_index(&n->core, id);
    if (rc != RAFT_OK)
        return rc;
    struct raft_node_read r = {.id = id, .cb = cb, .ctx = ctx};
    n->reads[n->n_reads++] = r;
    return 0;
}

int raft_node_add_server(struct raft_node *n, raft_id id, const char *addr)
{
    int rc = usable(n);
    return rc ? rc : raft_add_server(&n->core, id, addr);
}

int raft_node_remove_server(struct raft_node *n, raft_id id)
{
    int rc = usable(n);
    return rc ? rc : raft_remove_server(&n->core, id);
}

int raft_node_transfer_leadership(struct raft_node *n, raft_id to)
{
    int rc = usable(n);
    return rc ? rc : raft_transfer_leadership(&n->core, to);
}

/* ---- introspection ---- */

bool raft_node_is_leader(const struct raft_node *n)
{
    return !n->failed && raft_state(&n->core) == RAFT_LEADER;
}

enum raft_role raft_node_state(const struct raft_node *n)
{
    return raft_state(&n->core);
}

raft_id raft_node_id(const struct raft_node *n)
{
    return n->id;
}

const char *raft_node_leader_addr(const struct raft_node *n)
{
    const char *a = raft_leader_addr(&n->core);
    return a ? a : "";
}

raft_id raft_node_leader_id(const struct raft_node *n)
{
    return raft_leader(&n->core);
}

uint64_t raft_node_cluster_id(const struct raft_node *n)
{
    return n->cluster_id;
}

const struct raft_config *raft_node_configuration(const struct raft_node *n)
{
    return raft_configuration(&n->core);
}

uint64_t raft_node_configuration_index(const struct raft_node *n)
{
    return raft_configuration_index(&n->core);
}

const char *raft_node_listen_addr(const struct raft_node *n)
{
    return n->listen;
}

bool raft_node_failed(const struct raft_node *n)
{
    return n->failed;
}

static void frac(char *out, size_t outlen, uint64_t whole, uint64_t part, unsigned digits,
                 const char *unit)
{
    char f[16];
    snprintf(f, sizeof f, "%0*" PRIu64, (int)digits, part);
    size_t k = strlen(f);
    while (k > 0 && f[k - 1] == '0')
        f[--k] = '\0';
    snprintf(out, outlen, "%" PRIu64 "%s%s%s", whole, k ? "." : "", f, unit);
}

char *raft_node_format_duration(uint64_t ns, char *out, size_t outlen)
{
    if (ns == 0)
        snprintf(out, outlen, "0s");
    else if (ns < 1000)
        snprintf(out, outlen, "%" PRIu64 "ns", ns);
    else if (ns < 1000000)
        frac(out, outlen, ns / 1000, ns % 1000, 3, "µs");
    else if (ns < 1000000000)
        frac(out, outlen, ns / 1000000, ns % 1000000, 6, "ms");
    else {
        uint64_t s = ns / 1000000000, h = s / 3600, m = s / 60 % 60;
        char sec[40], head[48] = "";
        frac(sec, sizeof sec, s % 60, ns % 1000000000, 9, "s");
        if (h)
            snprintf(head, sizeof head, "%" PRIu64 "h%" PRIu64 "m", h, m);
        else if (m)
            snprintf(head, sizeof head, "%" PRIu64 "m", m);
        snprintf(out, outlen, "%s%s", head, sec);
    }
    return out;
}

void raft_node_stats(const struct raft_node *n, struct raft_node_stats *out)
{
    memset(out, 0, sizeof *out);
    const struct raft *r = &n->core;
    out->applied_index = n->applied;
    out->commit_index = raft_commit_index(r);
    out->fsm_pending = out->commit_index > n->applied ? out->commit_index - n->applied : 0;
    if (raft_state(r) == RAFT_LEADER)
        snprintf(out->last_contact, sizeof out->last_contact, "0");
    else if (!n->contacted)
        snprintf(out->last_contact, sizeof out->last_contact, "never");
    else
        raft_node_format_duration(raft_node_now_ns() - n->contact_ns, out->last_contact,
                                  sizeof out->last_contact);
    out->last_log_index = raft_last_index(r);
    out->last_log_term = raft_last_term(r);
    out->last_snapshot_index = raft_snapshot_index(r);
    out->last_snapshot_term = raft_snapshot_term(r);
    const struct raft_config *c = raft_configuration(r);
    for (uint32_t i = 0; i < c->n; i++)
        if (c->servers[i].id != n->id)
            out->num_peers++;
    out->state = raft_role_name(raft_state(r));
    out->term = raft_term(r);
}
