/* sim_raft.c — the deterministic Raft cluster simulator: per seed, a random cluster, fault mix and
 * schedule, then a heal phase that must converge in bounded time; plus named scripted scenarios.
 * Usage: see usage(). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/lib_raftsim_nemesis.h"

#define FAULT_TIME_MIN 2000 /* virtual units of chaos per seed: 200..800 ticks */
#define FAULT_TIME_MAX 8000
#define HEAL_TIMEOUTS 30 /* election timeouts allowed to converge after healing (seen: <= 4) */

struct sim_opts {
    bool trace;
    bool verbose;
    bool no_member; /* -no-member: no membership changes, to tell their bugs from others */
    int sabotage;   /* -sabotage NAME: a deliberately broken glue (enum raftsim_sabotage) */
    const char *argv0;
};

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
    struct raftsim_nemesis z = {
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
        raftsim_nemesis_step(c, &z);
        ok = raftsim_run_until(c, c->now + raftsim_rng_range(g, 5, 30));
    }
    if (ok)
        ok = raftsim_heal(c, HEAL_TIMEOUTS * c->election_ticks * RAFTSIM_TICK);
    if (!ok) {
        snprintf(why, whylen, "%s (t=%llu)", c->chk.why, (unsigned long long)c->now);
        if (so->trace) {
            printf("state at failure:\n");
            raftsim_dump(c, stdout);
        }
    }
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
                    "       [-first S] [-trace] [-v] [-no-member]\n"
                    "       [-sabotage ack-early|no-fsync|forget-vote|no-check-quorum]\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct sim_opts so = {.argv0 = argv[0]};
    uint64_t seeds = 0, one = 0, first = 1;
    const char *scenario = NULL;
    bool selftest_only = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-seeds") && i + 1 < argc)
            seeds = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-first") && i + 1 < argc) /* shard long runs: S..S+N-1 */
            first = strtoull(argv[++i], NULL, 10);
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
    uint64_t lo = one ? one : first, hi = one ? one : first + seeds - 1;
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
