/* sim_raft.c — the deterministic Raft cluster simulator: per seed, a random cluster, fault mix and
 * schedule, then a heal phase that must converge in bounded time; plus named scripted scenarios.
 * Usage: see usage(). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/lib_raftsim_cluster.h"

#define FAULT_TIME_MIN 2000 /* virtual units of chaos per seed: 200..800 ticks */
#define FAULT_TIME_MAX 8000
#define HEAL_PROPOSALS 3
#define HEAL_TIMEOUTS 30 /* election timeouts allowed to converge after healing (seen: <= 4) */

struct sim_opts {
    bool trace;
    bool verbose;
    bool no_member; /* -no-member: no membership changes, to tell their bugs from others */
    int sabotage;   /* -sabotage NAME: a deliberately broken glue (enum raftsim_sabotage) */
    const char *argv0;
};

/* ---- the nemesis: random faults, chosen from the seed ---- */

struct nemesis {
    uint64_t part_until; /* an active partition heals at this time (0: none) */
    unsigned part_pm, crash_pm, arm_pm, pause_pm, member_pm, transfer_pm, prop_pm, read_pm;
    uint64_t down_max;
    raft_id grow_to; /* started as a single bootstrapped server: add 2..grow_to (0: done) */
};

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

static void partition(struct raftsim_cluster *c, struct nemesis *z)
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
static void grow(struct raftsim_cluster *c, struct nemesis *z)
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

static void nemesis_step(struct raftsim_cluster *c, struct nemesis *z)
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
    if (c->heal_acked < HEAL_PROPOSALS) {
        snprintf(why, n, "only %llu of %d heal proposals committed (leader n%llu)",
                 (unsigned long long)c->heal_acked, HEAL_PROPOSALS, (unsigned long long)l);
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

static bool heal(struct raftsim_cluster *c, uint64_t bound)
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
            if (!raftsim_pending_heal(c) && c->heal_acked < HEAL_PROPOSALS)
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

/* ---- one random seed ---- */

static bool run_seed(uint64_t seed, const struct sim_opts *so, char *why, size_t whylen)
{
    struct raftsim_cluster *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(why, whylen, "out of memory");
        return false;
    }
    raftsim_cluster_init(c, seed, so->trace);
    struct raftsim_rng *g = &c->rng;
    unsigned n = raftsim_rng_pm(g, 500) ? 3 : 5;
    c->election_ticks = 10;
    c->clock_skew = (unsigned)raftsim_rng_range(g, 0, 3);
    c->heartbeat_ticks = (unsigned)raftsim_rng_range(g, 1, 3);
    c->snap_threshold = raftsim_rng_range(g, 4, 64);
    c->snap_trailing = raftsim_rng_range(g, 0, 16);
    c->max_entries = (uint32_t)raftsim_rng_range(g, 1, 16);
    c->crash_ready_pm = raftsim_rng_pm(g, 500) ? (unsigned)raftsim_rng_range(g, 1, 10) : 0;
    c->net.drop_pm = raftsim_rng_pm(g, 300) ? 0 : (unsigned)raftsim_rng_range(g, 1, 150);
    c->net.dup_pm = raftsim_rng_pm(g, 500) ? 0 : (unsigned)raftsim_rng_range(g, 1, 80);
    c->net.delay_min = 1;
    c->net.delay_max = raftsim_rng_range(g, 1, 40);
    struct nemesis z = {
        .part_pm = (unsigned)raftsim_rng_range(g, 0, 60),
        .crash_pm = (unsigned)raftsim_rng_range(g, 0, 25),
        .arm_pm = (unsigned)raftsim_rng_range(g, 0, 15),
        .pause_pm = (unsigned)raftsim_rng_range(g, 0, 15),
        .member_pm = raftsim_rng_pm(g, 400) ? 0 : (unsigned)raftsim_rng_range(g, 5, 40),
        .transfer_pm = (unsigned)raftsim_rng_range(g, 0, 20),
        .prop_pm = (unsigned)raftsim_rng_range(g, 100, 600),
        .read_pm = (unsigned)raftsim_rng_range(g, 0, 100),
        .down_max = raftsim_rng_range(g, 20, 1500),
    };
    if (so->no_member)
        z.member_pm = 0;
    c->restart_max = z.down_max;
    c->sabotage = so->sabotage;
    if (so->sabotage) { /* broken durability only shows when servers crash */
        c->crash_ready_pm += 20;
        z.crash_pm += 20;
    }
    raftsim_tracef(&c->tr,
                   "seed %llu: %u servers, heartbeat %u ticks, snapshot every %llu keep %llu, "
                   "drop %u%% dup %u%% delay 1..%llu, crash-in-ready %u/1000",
                   (unsigned long long)seed, n, c->heartbeat_ticks,
                   (unsigned long long)c->snap_threshold, (unsigned long long)c->snap_trailing,
                   c->net.drop_pm / 10, c->net.dup_pm / 10, (unsigned long long)c->net.delay_max,
                   c->crash_ready_pm);
    uint64_t fault_time = raftsim_rng_range(g, FAULT_TIME_MIN, FAULT_TIME_MAX);
    if (raftsim_rng_pm(g, 250))
        z.grow_to = n;
    bool ok = raftsim_cluster_start(c, z.grow_to ? 1 : n) == 0;
    while (ok && c->now < fault_time) {
        nemesis_step(c, &z);
        ok = raftsim_run_until(c, c->now + raftsim_rng_range(g, 5, 30));
    }
    if (ok)
        ok = heal(c, HEAL_TIMEOUTS * c->election_ticks * RAFTSIM_TICK);
    if (!ok)
        snprintf(why, whylen, "%s (t=%llu)", c->chk.why, (unsigned long long)c->now);
    if (so->verbose || so->trace)
        printf("seed %llu: %s n=%u t=%llu steps=%llu maxterm=%llu elections=%llu proposed=%llu "
               "acked=%llu reads=%llu snapshots=%llu installs=%llu restores=%llu crashes=%llu "
               "(in-ready %llu) heal=%llu adds=%llu removes=%llu transfers=%llu net sent=%llu dropped=%llu "
               "duped=%llu\n",
               (unsigned long long)seed, ok ? "ok" : "FAILED", n, (unsigned long long)c->now,
               (unsigned long long)c->steps, (unsigned long long)c->max_term,
               (unsigned long long)c->elections_seen, (unsigned long long)c->proposed,
               (unsigned long long)c->acked, (unsigned long long)c->reads_ok,
               (unsigned long long)c->snapshots, (unsigned long long)c->installs,
               (unsigned long long)c->restores, (unsigned long long)c->crashes,
               (unsigned long long)c->mid_ready_crashes,
               (unsigned long long)(c->heal_time / RAFTSIM_TICK), (unsigned long long)c->adds,
               (unsigned long long)c->removes, (unsigned long long)c->transfers,
               (unsigned long long)c->net.sent,
               (unsigned long long)c->net.dropped, (unsigned long long)c->net.duped);
    raftsim_cluster_free(c);
    free(c);
    return ok;
}

/* Runs a seed in a child process so that a crash or sanitizer abort inside the core fails that
 * seed (with its replay command) instead of the whole run; a hang is cut by an alarm. Replays
 * (-seed S) run in-process so a debugger sees everything. */
static bool run_isolated(uint64_t seed, const struct sim_opts *so, char *why, size_t whylen)
{
    if (so->trace)
        return run_seed(seed, so, why, whylen);
    int fds[2];
    if (pipe(fds))
        return run_seed(seed, so, why, whylen);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return run_seed(seed, so, why, whylen);
    }
    if (pid == 0) {
        close(fds[0]);
        alarm(30);
        bool ok = run_seed(seed, so, why, whylen);
        if (!ok && write(fds[1], why, strlen(why)) < 0)
            _exit(3);
        exit(ok ? 0 : 1); /* not _exit: LeakSanitizer checks at exit */
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t k;
    while (got + 1 < whylen && (k = read(fds[0], why + got, whylen - 1 - got)) > 0)
        got += (size_t)k;
    why[got] = 0;
    close(fds[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        ;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return true;
    if (!got) {
        if (WIFSIGNALED(st))
            snprintf(why, whylen, "killed by signal %d%s", WTERMSIG(st),
                     WTERMSIG(st) == SIGALRM ? " (hang)" : "");
        else
            snprintf(why, whylen, "crashed (exit %d): sanitizer or assertion report above",
                     WEXITSTATUS(st));
    }
    return false;
}

static const char *const sabotage_names[] = {"", "ack-early", "no-fsync", "forget-vote",
                                             "no-check-quorum"};

/* The checks must fail when the glue breaks the durability contract or the core runs without
 * check-quorum: for each sabotage, some seed must end in a safety violation (not a crash, not
 * liveness). Returns how many sabotages went unnoticed. */
static int selftest(const struct sim_opts *base)
{
    int missed = 0;
    for (int sab = RAFTSIM_SAB_ACK_EARLY; sab <= RAFTSIM_SAB_NO_CHECK_QUORUM; sab++) {
        struct sim_opts so = *base;
        so.sabotage = sab;
        so.verbose = false;
        bool caught = false;
        uint64_t s = 1;
        char why[600] = "";
        for (; s <= 1000 && !caught; s++) {
            why[0] = 0;
            if (!run_isolated(s, &so, why, sizeof why) && !strstr(why, "liveness") &&
                !strstr(why, "crashed") && !strstr(why, "signal"))
                caught = true;
        }
        if (base->verbose || !caught)
            printf("selftest %s: %s after %llu seeds%s%s\n", sabotage_names[sab],
                   caught ? "caught" : "NOT CAUGHT", (unsigned long long)(s - 1),
                   caught ? ": " : "", caught ? why : "");
        missed += !caught;
    }
    return missed;
}

static int usage(void)
{
    fprintf(stderr, "usage: sim_raft -seeds N | -seed S [-trace] | -scenario NAME|all | -selftest\n"
                    "       [-trace] [-v] [-no-member]\n"
                    "       [-sabotage ack-early|no-fsync|forget-vote|no-check-quorum]\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct sim_opts so = {.argv0 = argv[0]};
    uint64_t seeds = 0, one = 0;
    const char *scenario = NULL;
    bool selftest_only = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-seeds") && i + 1 < argc)
            seeds = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-seed") && i + 1 < argc)
            one = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-scenario") && i + 1 < argc)
            scenario = argv[++i];
        else if (!strcmp(argv[i], "-trace"))
            so.trace = true;
        else if (!strcmp(argv[i], "-sabotage") && i + 1 < argc) {
            const char *n = argv[++i];
            for (int k = 1; k <= RAFTSIM_SAB_NO_CHECK_QUORUM; k++)
                if (!strcmp(n, sabotage_names[k]))
                    so.sabotage = k;
            if (!so.sabotage)
                return usage();
        } else if (!strcmp(argv[i], "-selftest"))
            selftest_only = true;
        else if (!strcmp(argv[i], "-no-member"))
            so.no_member = true;
        else if (!strcmp(argv[i], "-v"))
            so.verbose = true;
        else
            return usage();
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int passed = 0, failed = 0;
    if (scenario) {
        raftsim_scenarios_run(scenario, argv[0], so.trace, so.verbose, &passed, &failed);
        printf("%d passed, %d failed\n", passed, failed);
        return failed ? 1 : 0;
    }
    if (selftest_only) {
        so.verbose = true;
        int missed = selftest(&so);
        printf("%d passed, %d failed\n", RAFTSIM_SAB_NO_CHECK_QUORUM - missed, missed);
        return missed ? 1 : 0;
    }
    if (!seeds && !one)
        return usage();
    uint64_t lo = one ? one : 1, hi = one ? one : seeds;
    /* The scripted scenarios run first; they only add to the count when they fail, so the last
     * line of `-seeds N` stays "N passed, M failed" for the seeds. */
    if (!one) {
        int sp = 0, sf = 0;
        raftsim_scenarios_run("all", argv[0], false, so.verbose, &sp, &sf);
        failed += sf;
        if (!so.sabotage)
            failed += selftest(&so);
    }
    for (uint64_t s = lo; s <= hi; s++) {
        char why[600] = "";
        if (run_isolated(s, &so, why, sizeof why)) {
            passed++;
        } else {
            failed++;
            printf("seed %llu FAILED: %s\n  replay: %s -seed %llu -trace\n", (unsigned long long)s,
                   why, so.argv0, (unsigned long long)s);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
