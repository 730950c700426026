/* sim_gossip.c — seeded gossip scenarios (join, kill, loss, stall, leave, partition, restart) for 3
 * to 200 nodes, silent and refusing deaths, each property checked within a bound derived from the
 * gossip parameters. */
/* Usage: sim_gossip -seeds N [-from S] | -seed S [-trace] [-scenario NAME] [-n NODES] [-v]
 * Every packet goes through the real wire codec; a failure prints the seed and its replay. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/lib_gossipsim_cluster.h"

/* Accepted by the checks as "alive or suspect": under loss a live node may be suspected for a
 * moment, and that is SWIM working, not failing. */
#define WANT_LIVE 0xff

enum scenario { SC_JOIN, SC_KILL, SC_LOSS, SC_STALL, SC_LEAVE, SC_PARTITION, SC_RESTART, SC_COUNT };
static const char *const scenarioNames[SC_COUNT] = {"join", "kill", "loss", "stall", "leave",
                                                    "partition", "restart"};

struct opts {
    uint64_t seeds;
    uint64_t from; /* first seed of a -seeds run, 1 unless -from */
    uint64_t seed;
    bool one;
    bool trace;
    bool verbose;
    int scenario; /* -1: chosen by the seed */
    int n;        /* 0: chosen by the seed */
};

/* ---- bounds, each derived from the configuration (memberlist's formulas) ---- */

static double nodeScale(int n)
{
    double s = n > 1 ? log10((double)n) : 0.0;
    return s < 1.0 ? 1.0 : s;
}

/* The shortest time from a first accusation to a death (Lifeguard, all confirmations in). */
static uint64_t suspMin(const struct gossip_config *c, int n)
{
    return (uint64_t)(c->suspicion_mult * nodeScale(n) * c->probe_interval_ms);
}

/* The longest: a lone accuser, no confirmations. */
static uint64_t suspMax(const struct gossip_config *c, int n)
{
    return suspMin(c, n) * c->suspicion_max_mult;
}

/* How long one update keeps being piggybacked: retransmit_mult * ceil(log10(n+1)) rounds. */
static uint64_t spread(const struct gossip_config *c, int n)
{
    uint64_t limit = c->retransmit_mult * (uint64_t)ceil(log10((double)n + 1));
    return limit * c->gossip_interval_ms;
}

/* memberlist pushPullScale: one more push-pull interval per doubling above 32 members. */
static uint64_t pushPullPeriod(const struct gossip_config *c, int n)
{
    uint64_t mult = 1;
    for (int k = n; k > 32; k = (k + 1) / 2)
        mult++;
    return mult * c->push_pull_interval_ms;
}

/* After the last join, everyone knows everyone. A joiner learns what its seed knew then, and
 * every later alive spreads for its retransmit window (twice over, for updates that crossed);
 * an update whose retransmits all missed a node reaches it only by anti-entropy, at its next
 * push-pull, within one (scaled) push-pull period, or two when that first partner had missed it
 * too (seen: seed 1969). */
static uint64_t convergeBound(const struct gossip_config *c, int n)
{
    return 2 * pushPullPeriod(c, n) + 2 * spread(c, n) + 2 * c->probe_interval_ms + 2000;
}

/* A dead member is probed by each live one within two round-robin cycles of n-1 protocol periods
 * (a member learned mid-cycle may be placed behind the probe cursor and wait a cycle), each
 * stretched by at most awareness_max when the prober's own health is poor (Lifeguard: a node
 * whose probes fail without nacks, as on the small side of a partition, blames itself); the first
 * failed probe starts suspicion, whose longest timeout ends it; the dead message then spreads. */
static uint64_t failBound(const struct gossip_config *c, int n)
{
    uint64_t period = (uint64_t)c->probe_interval_ms * c->awareness_max;
    return 2 * (uint64_t)n * period + suspMax(c, n) + spread(c, n) + 2000;
}

/* The same death when every victim's host refuses, without loss. A probe of a victim then
 * waits for nothing: its ping is refused within 2*Dmax (there and back), its ping-reqs go out at
 * once, and each helper's own ping is refused and its nack back within 4*Dmax more; the TCP
 * fallback (a stream's fixed Dmax there) is refused in parallel. So the probe ends in suspicion
 * by 6*Dmax after its ping (refusedProbeBound, checked probe by probe), where silently it waits
 * out its period, probe_interval * (score+1). Every other probe ends within its interval: a live
 * target answers, at worst over TCP by probe_timeout + 2*Dmax < probe_interval, as a stream is
 * never lost. That holds unless a helper asked is itself dead, or a datagram of a watched probe
 * is corrupted, or a prober's score is already raised at the kill: each of those lets a probe
 * wait out a stretched period, and the run then claims only failBound. Otherwise every live
 * member keeps the cadence of one probe per interval, its round robin reaches the victim within
 * two cycles (2n intervals, as in failBound, but without the awareness stretch), that probe ends
 * within 6*Dmax, and the member's own suspicion runs at most suspMax: each member declares the
 * victim itself, with no term for spreading the verdict. 50 ms covers the core's integer
 * arithmetic of the suspicion timeout against ours. */
static uint64_t refusedProbeBound(const struct gossipsim_world *w)
{
    return 6 * (uint64_t)w->delay_max_ms;
}

static uint64_t refusedFailBound(const struct gossip_config *c, int n, const struct gossipsim_world *w)
{
    return 2 * (uint64_t)n * c->probe_interval_ms + refusedProbeBound(w) + suspMax(c, n) + 50;
}

/* Refusal choices come from their own stream, so that everything a seed drew before refusals
 * existed (sizes, victims, delays, losses) is drawn alike, and a run in which nothing refuses
 * replays exactly as it did. */
static void refuseRng(const struct gossipsim_cluster *c, struct gossipsim_rng *rf)
{
    gossipsim_rng_seed(rf, c->seed ^ 0x7ef05edca11ull);
}

/* Half the runs get spurious refusals about live nodes (a stale ICMP, an agent restarting, a
 * firewall REJECT rule): every host refuses 1-5% of what reaches it, and in half of those one
 * host 30%, which makes early-ended probes of a live member likely enough to be seen. `spare`
 * (a node to be stalled) gets none: its process is paused, its socket open. Returns the flaky
 * host or -1. */
static int refuseLive(struct gossipsim_cluster *c, struct gossipsim_rng *rf, int spare)
{
    if (gossipsim_rng_below(rf, 2) == 0)
        return -1;
    uint32_t base = 10 + gossipsim_rng_below(rf, 41);
    for (int i = 0; i < c->n; i++)
        c->w.node[i].refuse_permille = i == spare ? 0 : base;
    int flaky = -1;
    if (gossipsim_rng_below(rf, 2) == 1) {
        do
            flaky = (int)gossipsim_rng_below(rf, (uint32_t)c->n);
        while (flaky == spare);
        c->w.node[flaky].refuse_permille = 300;
    }
    gossipsim_tracef(&c->w, "spurious refusals: %u permille, flaky host %d", base, flaky);
    return flaky;
}

/* ---- what every node should believe ---- */

static uint8_t wantRunningAlive(const struct gossipsim_cluster *c, int obs, int j, void *arg)
{
    (void)obs;
    (void)arg;
    return gossipsim_running(c, j) && !c->node[j].leaving ? GOSSIP_STATE_ALIVE : 0;
}

static uint8_t wantRunningLive(const struct gossipsim_cluster *c, int obs, int j, void *arg)
{
    (void)obs;
    (void)arg;
    return gossipsim_running(c, j) ? WANT_LIVE : 0;
}

static uint8_t wantKilledDead(const struct gossipsim_cluster *c, int obs, int j, void *arg)
{
    (void)obs;
    (void)arg;
    if (c->node[j].killed)
        return GOSSIP_STATE_DEAD;
    return gossipsim_running(c, j) ? GOSSIP_STATE_ALIVE : 0;
}

static uint8_t wantKilledDeadLive(const struct gossipsim_cluster *c, int obs, int j, void *arg)
{
    uint8_t w = wantKilledDead(c, obs, j, arg);
    return w == GOSSIP_STATE_ALIVE ? WANT_LIVE : w;
}

static uint8_t wantLeftLeft(const struct gossipsim_cluster *c, int obs, int j, void *arg)
{
    (void)obs;
    (void)arg;
    if (c->node[j].left)
        return GOSSIP_STATE_LEFT;
    return gossipsim_running(c, j) ? GOSSIP_STATE_ALIVE : 0;
}

static uint8_t wantSidesDead(const struct gossipsim_cluster *c, int obs, int j, void *arg)
{
    (void)arg;
    return c->w.node[obs].group == c->w.node[j].group ? GOSSIP_STATE_ALIVE : GOSSIP_STATE_DEAD;
}

static bool stateMatches(uint8_t have, uint8_t want)
{
    if (want == WANT_LIVE)
        return have == GOSSIP_STATE_ALIVE || have == GOSSIP_STATE_SUSPECT;
    return have == want;
}

/* Every running node's table against want (WANT_LIVE understood); names the first disagreement
 * for the report. Walks each table once: O(n^2) per check, not O(n^3). */
static bool agree(const struct gossipsim_cluster *c, gossipsim_want_fn want, char *why, size_t len)
{
    uint8_t *have = malloc((size_t)c->n);
    if (have == NULL)
        return false;
    bool ok = true;
    for (int i = 0; i < c->n && ok; i++) {
        if (!gossipsim_running(c, i) || c->node[i].leaving)
            continue;
        memset(have, 0, (size_t)c->n);
        const struct gossip *g = c->node[i].g;
        size_t cnt = gossip_member_count(g);
        for (size_t k = 0; k < cnt; k++) {
            const struct gossip_member *m = gossip_member_at(g, k);
            int j = gossipsim_index_of_name(c, m->name);
            if (j >= 0)
                have[j] = m->state;
        }
        for (int j = 0; j < c->n && ok; j++) {
            uint8_t w = want(c, i, j, NULL);
            if (w == 0 || stateMatches(have[j], w))
                continue;
            ok = false;
            if (why)
                snprintf(why, len, "node%d sees node%d as %s, expected %s", i, j,
                         have[j] ? gossip_state_name(have[j]) : "unknown",
                         w == WANT_LIVE ? "alive or suspect" : gossip_state_name(w));
        }
    }
    free(have);
    return ok;
}

static uint64_t checkStep(int n)
{
    return n <= 20 ? 100 : n <= 60 ? 250 : 500;
}

/* Runs until every node agrees with want (true) or deadline (false); the last check is at the
 * deadline itself, so an agreement reached by then is never missed. */
static bool reachedBy(struct gossipsim_cluster *c, uint64_t deadline, gossipsim_want_fn want)
{
    uint64_t step = checkStep(c->n);
    for (;;) {
        if (c->failed)
            return false;
        if (agree(c, want, NULL, 0))
            return true;
        if (c->w.now >= deadline)
            return false;
        uint64_t next = c->w.now + step;
        gossipsim_run(c, next < deadline ? next : deadline);
    }
}

/* Runs until every node agrees with want, or deadline. Records a failure naming what differs. */
static bool runUntilAgree(struct gossipsim_cluster *c, uint64_t deadline, gossipsim_want_fn want,
                          const char *what, uint64_t *took)
{
    uint64_t start = c->w.now;
    if (reachedBy(c, deadline, want)) {
        if (took)
            *took = c->w.now - start;
        return true;
    }
    if (!c->failed) {
        char why[256];
        agree(c, want, why, sizeof why);
        gossipsim_failf(c, "%s not reached within %llums: %s", what,
                        (unsigned long long)(deadline - start), why);
    }
    return false;
}

/* Runs for d ms; every step the property must hold. */
static bool holdFor(struct gossipsim_cluster *c, uint64_t d, gossipsim_want_fn want, const char *what)
{
    uint64_t end = c->w.now + d;
    uint64_t step = checkStep(c->n);
    while (!c->failed && c->w.now < end) {
        uint64_t next = c->w.now + step;
        gossipsim_run(c, next < end ? next : end);
        char why[256];
        if (!c->failed && !agree(c, want, why, sizeof why))
            gossipsim_failf(c, "%s broken: %s", what, why);
    }
    return !c->failed;
}

/* ---- scenarios ---- */

/* Starts node 0, then each other node after a jittered stagger, joining a random earlier one;
 * then waits until every node's table agrees with want about everyone. */
static bool joinAllWant(struct gossipsim_cluster *c, struct gossipsim_rng *r, uint64_t extra_bound,
                        gossipsim_want_fn want)
{
    if (gossipsim_start(c, 0) != 0)
        return false;
    uint64_t stagger = c->n > 50 ? 10 + gossipsim_rng_below(r, 90) : 20 + gossipsim_rng_below(r, 300);
    for (int k = 1; k < c->n && !c->failed; k++) {
        gossipsim_run(c, c->w.now + gossipsim_rng_below(r, (uint32_t)(2 * stagger + 1)));
        if (c->failed || gossipsim_start(c, k) != 0)
            return false;
        gossipsim_join(c, k, (int)gossipsim_rng_below(r, (uint32_t)k));
    }
    uint64_t took;
    uint64_t bound = convergeBound(&c->base, c->n) + extra_bound;
    if (!runUntilAgree(c, c->w.now + bound, want, "join convergence", &took))
        return false;
    gossipsim_tracef(&c->w, "converged %llums after the last join", (unsigned long long)took);
    return true;
}

static bool joinAll(struct gossipsim_cluster *c, struct gossipsim_rng *r, uint64_t extra_bound)
{
    /* Under loss a live member may be suspected at any instant: known and not dead is the bar. */
    return joinAllWant(c, r, extra_bound, c->w.loss_permille ? wantRunningLive : wantRunningAlive);
}

static int pickOther(struct gossipsim_rng *r, const struct gossipsim_cluster *c, int not)
{
    int j;
    do
        j = (int)gossipsim_rng_below(r, (uint32_t)c->n);
    while (j == not || !gossipsim_running(c, j));
    return j;
}

/* Sum of every running core's counters: refusals reported, probes ended early. */
static void coreStats(const struct gossipsim_cluster *c, uint64_t *refusals, uint64_t *probes_refused)
{
    *refusals = *probes_refused = 0;
    for (int i = 0; i < c->n; i++) {
        if (!gossipsim_running(c, i))
            continue;
        struct gossip_stats st;
        gossip_stats(c->node[i].g, &st);
        *refusals += st.refusals;
        *probes_refused += st.probes_refused;
    }
}

/* What a kill run claimed about refusing victims, for the summary. */
struct killFigures {
    bool claimed; /* the refusal bound applied and held */
    uint64_t took;
    uint64_t tight;
};

static bool scKill(struct gossipsim_cluster *c, struct gossipsim_rng *r, struct killFigures *fig)
{
    /* Half the runs kill under 10% loss: the dead must still be found, the living never. */
    bool lossy = gossipsim_rng_below(r, 2) == 1;
    if (lossy)
        c->w.loss_permille = 100;
    if (!joinAll(c, r, lossy ? pushPullPeriod(&c->base, c->n) : 0))
        return false;
    /* Half the runs kill silently (host down or cut off); the others kill agents whose hosts stay
     * up and refuse: every victim, or (one run in eight) each by its own coin. */
    struct gossipsim_rng rf;
    refuseRng(c, &rf);
    uint32_t mode = gossipsim_rng_below(&rf, 8);
    uint32_t raised = 0; /* the highest health score among the probers at the kill */
    for (int i = 0; i < c->n; i++)
        if (gossipsim_running(c, i) && gossip_health_score(c->node[i].g) > raised)
            raised = gossip_health_score(c->node[i].g);
    int most = c->n / 3 < 3 ? c->n / 3 : 3;
    int k = 1 + (int)gossipsim_rng_below(r, (uint32_t)(most > 1 ? most : 1));
    int refusing = 0;
    for (int x = 0; x < k; x++) {
        bool refuses = mode >= 4 && (mode < 7 || gossipsim_rng_below(&rf, 2) == 1);
        refusing += refuses;
        gossipsim_kill(c, pickOther(r, c, -1), refuses);
    }
    if (!lossy && refusing > 0)
        c->refused_probe_bound_ms = refusedProbeBound(&c->w);
    gossipsim_want_fn want = lossy ? wantKilledDeadLive : wantKilledDead;
    uint64_t start = c->w.now;
    uint64_t bound = failBound(&c->base, c->n);
    uint64_t tight = refusedFailBound(&c->base, c->n, &c->w);
    bool claim = !lossy && refusing == k && raised == 0 && tight < bound;
    if (claim && !reachedBy(c, start + tight, want) && !c->failed && c->probes_exempt == 0) {
        char why[256];
        agree(c, want, why, sizeof why);
        gossipsim_failf(c, "%d killed with refusing hosts, not all marked failed within %llums "
                           "(2n intervals + 6*Dmax + suspMax): %s", k, (unsigned long long)tight, why);
    }
    if (!runUntilAgree(c, start + bound, want, "killed nodes marked failed by every live node", NULL))
        return false;
    uint64_t took = c->w.now - start;
    *fig = (struct killFigures){.claimed = claim && c->probes_exempt == 0, .took = took, .tight = tight};
    gossipsim_tracef(&c->w, "%d killed (%d refusing), all marked failed in %llums (bound %llums%s)", k,
                     refusing, (unsigned long long)took,
                     (unsigned long long)(claim && c->probes_exempt == 0 ? tight : bound),
                     claim && c->probes_exempt ? ", a probe had a dead helper" : "");
    int live = 0;
    for (int i = 0; i < c->n; i++)
        live += gossipsim_running(c, i);
    for (int j = 0; j < c->n; j++)
        if (c->node[j].killed && c->deaths_about[j] < (uint32_t)live)
            gossipsim_failf(c, "node%d is dead in every table but only %u of %d nodes reported it "
                               "failed", j, c->deaths_about[j], live);
    /* Without loss, the probe behind a refusing victim's first suspicion hears its host refuse,
     * or its helpers do. Not necessarily a probe the watch timed: that one may have sent its ping
     * before the kill, and the suspicion it raised may kill the victim before anyone probes it
     * again (seed 8703). */
    uint64_t reported, early;
    coreStats(c, &reported, &early);
    if (!lossy && refusing > 0 && reported == 0)
        gossipsim_failf(c, "%d refusing victims, yet no core counted a refusal", refusing);
    return !c->failed;
}

static bool scLoss(struct gossipsim_cluster *c, struct gossipsim_rng *r)
{
    c->w.loss_permille = 100;
    /* Lost gossip is repaired at the latest by the periodic push-pull. */
    if (!joinAll(c, r, pushPullPeriod(&c->base, c->n)))
        return false;
    /* Refusals about live members may end a probe early (direct ping and TCP fallback refused,
     * every helper's nack in): a suspicion sooner, never a verdict sooner. */
    struct gossipsim_rng rf;
    refuseRng(c, &rf);
    refuseLive(c, &rf, -1);
    /* Any FAILED event about a running node fails the run (checked as events arrive). */
    uint64_t d = c->n > 60 ? 30000 : 60000;
    return holdFor(c, d, wantRunningLive, "no live node dead under 10% loss");
}

/* A paused process (SIGSTOP) is suspected, resumes, refutes, and must be alive everywhere without
 * anyone having declared it failed: every member that holds the suspicion must hear the
 * refutation before its own suspicion timer (at least suspMin after it started) runs out. The core
 * can promise that here, short of losing both its direct exchange with the suspect and every
 * gossiped copy: the stall ends at most max(suspMin/2, 600 ms) after the first suspicion, so every
 * holder's timer has at least suspMin/2 left, and each holder asks the suspect itself one probe
 * interval before its timer ends (the answer comes straight back). Gossip alone leaves a tail: a
 * member reached by none of the copies of the refutation (seeds 4057, 4757, 6122, 13297 before
 * the ask). A node stalled past a holder's timeout may legitimately be declared failed; this
 * scenario never stalls one that long. */
static bool scStall(struct gossipsim_cluster *c, struct gossipsim_rng *r)
{
    if (!joinAll(c, r, 0))
        return false;
    int s = pickOther(r, c, -1);
    struct gossipsim_rng rf;
    refuseRng(c, &rf);
    refuseLive(c, &rf, s);
    uint64_t inc = gossip_incarnation(c->node[s].g);
    uint64_t start = c->w.now;
    /* Stall until someone suspects s (bounded by one round-robin cycle of every prober), and
     * for at least half the shortest suspicion timeout; resume well before anyone may kill it. */
    uint64_t suspected = UINT64_MAX;
    uint64_t must_suspect = start + (uint64_t)c->n * c->base.probe_interval_ms + c->base.probe_interval_ms;
    uint64_t resume = start + suspMin(&c->base, c->n) / 2;
    gossipsim_stall(c, s);
    while (!c->failed) {
        gossipsim_run(c, c->w.now + 100);
        if (suspected == UINT64_MAX) {
            for (int i = 0; i < c->n && suspected == UINT64_MAX; i++)
                if (i != s && gossipsim_view(c, i, s) == GOSSIP_STATE_SUSPECT)
                    suspected = c->w.now;
            if (suspected != UINT64_MAX && suspected + 500 > resume)
                resume = suspected + 500;
            if (suspected == UINT64_MAX && c->w.now >= must_suspect) {
                gossipsim_failf(c, "node%d stalled for %llums and nobody suspected it", s,
                                (unsigned long long)(c->w.now - start));
                return false;
            }
        }
        if (suspected != UINT64_MAX && c->w.now >= resume)
            break;
    }
    gossipsim_unstall(c, s);
    gossipsim_tracef(&c->w, "node%d resumes after a %llums stall (suspected after %llums)", s,
                     (unsigned long long)(c->w.now - start), (unsigned long long)(suspected - start));
    uint64_t took;
    uint64_t bound = convergeBound(&c->base, c->n) + 2 * c->base.probe_interval_ms;
    if (!runUntilAgree(c, c->w.now + bound, wantRunningAlive, "stalled node alive again everywhere", &took))
        return false;
    uint64_t now_inc = gossip_incarnation(c->node[s].g);
    if (now_inc <= inc)
        gossipsim_failf(c, "node%d is alive again but never refuted (incarnation %llu)", s,
                        (unsigned long long)now_inc);
    /* Members that never heard the suspicion may keep the old incarnation for a while: harmless,
     * so only the refutation itself and the agreement above are required. */
    if (c->deaths_about[s] != 0)
        gossipsim_failf(c, "stalled node%d was declared failed %u times", s, c->deaths_about[s]);
    return !c->failed;
}

static bool scLeave(struct gossipsim_cluster *c, struct gossipsim_rng *r)
{
    if (!joinAll(c, r, 0))
        return false;
    int l = pickOther(r, c, -1);
    uint64_t start = c->w.now;
    gossipsim_leave(c, l);
    uint64_t deadline = start + c->base.leave_timeout_ms + c->base.probe_interval_ms;
    while (!c->failed && !c->node[l].left && c->w.now < deadline)
        gossipsim_run(c, c->w.now + 50);
    if (!c->failed && !c->node[l].left)
        gossipsim_failf(c, "node%d's leave did not complete within leave_timeout %ums", l,
                        c->base.leave_timeout_ms);
    if (c->failed)
        return false;
    /* SWIM spreads the intent with high probability only: a member the retransmits missed
     * learns it from a push-pull, and may meanwhile probe the leaver and suspect it. Not always
     * its next one: believing the leaver alive, it picks its partner among members that include
     * the leaver, whose process has stopped (seed 52099: the first exchange went to the leaver).
     * By its second, a period later, its probes have usually found the leaver gone (a suspect
     * is no partner), else it is one of n-1 candidates again; the others' push-pulls may reach
     * it meanwhile: two periods. */
    uint64_t bound = 2 * pushPullPeriod(&c->base, c->n) + spread(&c->base, c->n) + 2000;
    uint64_t took;
    if (!runUntilAgree(c, c->w.now + bound, wantLeftLeft, "left node shown as left everywhere", &took))
        return false;
    gossipsim_tracef(&c->w, "node%d left everywhere %llums after leave_done (%u failed events first)",
                     l, (unsigned long long)took, c->deaths_about[l]);
    c->transient_failed += c->deaths_about[l];
    /* Left is final: nobody may later suspect it, fail it or bring it back. */
    uint32_t before = c->deaths_about[l];
    uint64_t hold = suspMax(&c->base, c->n) + spread(&c->base, c->n) + 2 * c->base.probe_interval_ms;
    if (!holdFor(c, hold, wantLeftLeft, "left node stays left"))
        return false;
    if (c->deaths_about[l] != before)
        gossipsim_failf(c, "node%d, left everywhere, was then reported failed", l);
    return !c->failed;
}

static bool scPartition(struct gossipsim_cluster *c, struct gossipsim_rng *r)
{
    if (!joinAll(c, r, 0))
        return false;
    int *groups = calloc((size_t)c->n, sizeof *groups);
    if (groups == NULL)
        return false;
    /* Side 1 gets between one node and all but one. */
    int k = 1 + (int)gossipsim_rng_below(r, (uint32_t)(c->n - 1));
    for (int x = 0; x < k;) {
        int j = (int)gossipsim_rng_below(r, (uint32_t)c->n);
        if (!groups[j]) {
            groups[j] = 1;
            x++;
        }
    }
    gossipsim_set_groups(c, groups);
    free(groups);
    c->grace_ms = failBound(&c->base, c->n);
    uint64_t took;
    if (!runUntilAgree(c, c->w.now + failBound(&c->base, c->n), wantSidesDead,
                       "each side of the partition sees the other failed", &took))
        return false;
    gossipsim_tracef(&c->w, "sides split (%d | %d) in %llums", c->n - k, k, (unsigned long long)took);
    gossipsim_set_groups(c, NULL);
    /* Failed members are retried every reconnect interval; the first push-pull across merges
     * the two tables and makes the far side refute; a second round catches stragglers. */
    uint64_t bound = 2 * (uint64_t)c->base.reconnect_interval_ms + convergeBound(&c->base, c->n);
    if (!runUntilAgree(c, c->w.now + bound, wantRunningAlive, "healed partition merged", &took))
        return false;
    gossipsim_tracef(&c->w, "merged %llums after the heal", (unsigned long long)took);
    return true;
}

/* A killed node comes back as a fresh process with the same name and address: it starts at
 * incarnation 1, which everyone holds as dead, so it must learn that from its join and refute. */
static bool scRestart(struct gossipsim_cluster *c, struct gossipsim_rng *r)
{
    if (!joinAll(c, r, 0))
        return false;
    int x = pickOther(r, c, -1);
    /* Mostly an agent that crashed on a host that stays up: refusals while it is down, some
     * still in flight when it is back (about an old packet: the core must shrug them off). */
    struct gossipsim_rng rf;
    refuseRng(c, &rf);
    bool refuses = gossipsim_rng_below(&rf, 4) != 0;
    uint64_t killed_at = c->w.now;
    gossipsim_kill(c, x, refuses);
    if (refuses)
        c->refused_probe_bound_ms = refusedProbeBound(&c->w);
    if (!runUntilAgree(c, c->w.now + failBound(&c->base, c->n), wantKilledDead,
                       "killed node marked failed everywhere", NULL))
        return false;
    /* Down for a while longer, sometimes past the time dead members are still gossiped to. */
    gossipsim_run(c, c->w.now + gossipsim_rng_below(r, 2 * c->base.gossip_to_dead_ms));
    if (refuses && c->refusals == 0)
        gossipsim_failf(c, "node%d's host refused for %llums and no core heard of it", x,
                        (unsigned long long)(c->w.now - killed_at));
    if (c->failed || gossipsim_start(c, x) != 0)
        return false;
    gossipsim_join(c, x, pickOther(r, c, x));
    uint64_t took;
    if (!runUntilAgree(c, c->w.now + convergeBound(&c->base, c->n), wantRunningAlive,
                       "restarted node alive everywhere", &took))
        return false;
    gossipsim_tracef(&c->w, "node%d back everywhere in %llums at incarnation %llu", x,
                     (unsigned long long)took, (unsigned long long)gossip_incarnation(c->node[x].g));
    if (gossip_incarnation(c->node[x].g) < 2)
        gossipsim_failf(c, "node%d is alive everywhere without refuting its death", x);
    return !c->failed;
}

/* ---- driver ---- */

static int pickN(struct gossipsim_rng *r)
{
    uint32_t x = gossipsim_rng_below(r, 1000);
    if (x < 700)
        return 3 + (int)gossipsim_rng_below(r, 8);   /* 3..10 */
    if (x < 950)
        return 11 + (int)gossipsim_rng_below(r, 30); /* 11..40 */
    if (x < 990)
        return 41 + (int)gossipsim_rng_below(r, 60); /* 41..100 */
    return 101 + (int)gossipsim_rng_below(r, 100);   /* 101..200 */
}

struct result {
    bool ok;
    int scenario;
    int n;
    uint64_t sim_ms;
    uint64_t transient_failed;
    uint64_t refused;        /* refusals the world sent back, from down hosts and live ones */
    uint64_t refusals;       /* of those, handed to a core */
    uint64_t probes_refused; /* probes the running cores ended early, at the end */
    uint64_t watched;        /* probes of refusing dead nodes timed against refusedProbeBound */
    uint64_t exempt;
    uint64_t probe_max_ms;
    struct killFigures kill;
    double wall_s; /* reported with -v to size the seed budget; never asserted on */
    char why[512];
};

static double wallNow(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct result runSeed(uint64_t seed, const struct opts *o)
{
    struct result res = {.ok = false};
    double t0 = wallNow();
    struct gossipsim_rng r;
    gossipsim_rng_seed(&r, seed ^ 0x5eed5eed5eedull);
    res.scenario = o->scenario >= 0 ? o->scenario : (int)((seed - 1) % SC_COUNT);
    res.n = pickN(&r);
    if (o->n > 0)
        res.n = o->n;
    struct gossipsim_cluster c;
    if (gossipsim_cluster_init(&c, res.n, seed, o->trace) != 0) {
        snprintf(res.why, sizeof res.why, "cluster init failed");
        return res;
    }
    c.w.delay_min_ms = 1 + gossipsim_rng_below(&r, 5);
    c.w.delay_max_ms = c.w.delay_min_ms + gossipsim_rng_below(&r, 40);
    c.corrupt_permille = 2;
    gossipsim_tracef(&c.w, "seed %llu: scenario %s, %d nodes, delay %u..%ums",
                     (unsigned long long)seed, scenarioNames[res.scenario], res.n, c.w.delay_min_ms,
                     c.w.delay_max_ms);
    bool ok = false;
    switch (res.scenario) {
    case SC_JOIN:
        /* Convergence alone, then it must hold: no flapping afterwards. */
        ok = joinAll(&c, &r, 0) &&
             holdFor(&c, 5 * c.base.probe_interval_ms, wantRunningAlive, "converged membership");
        break;
    case SC_KILL:
        ok = scKill(&c, &r, &res.kill);
        break;
    case SC_LOSS:
        ok = scLoss(&c, &r);
        break;
    case SC_STALL:
        ok = scStall(&c, &r);
        break;
    case SC_LEAVE:
        ok = scLeave(&c, &r);
        break;
    case SC_PARTITION:
        ok = scPartition(&c, &r);
        break;
    case SC_RESTART:
        ok = scRestart(&c, &r);
        break;
    default:
        break;
    }
    /* deliver() fails the run on an honest packet refused or a corrupted one accepted; here the
     * receivers' own tallies must tell the same story: every refusal counted, for its reason. */
    uint64_t bad = 0, flagged = 0;
    for (int i = 0; i < c.n; i++) {
        bad += c.node[i].rx.bad;
        flagged += c.node[i].rx.by_err[GOSSIP_WIRE_ECRC] + c.node[i].rx.by_err[GOSSIP_WIRE_EVERSION];
    }
    if (bad != c.corrupt_refused || flagged != bad)
        gossipsim_failf(&c, "receivers counted %llu bad packets (%llu by checksum or version), "
                            "%llu corrupted ones were refused", (unsigned long long)bad,
                        (unsigned long long)flagged, (unsigned long long)c.corrupt_refused);
    res.ok = ok && !c.failed;
    res.sim_ms = c.w.now;
    res.transient_failed = c.transient_failed;
    uint64_t reported;
    coreStats(&c, &reported, &res.probes_refused);
    res.refused = c.w.stats.refused + c.w.stats.refused_live;
    res.refusals = c.refusals;
    res.watched = c.probes_watched;
    res.exempt = c.probes_exempt;
    res.probe_max_ms = c.refused_probe_max_ms;
    res.wall_s = wallNow() - t0;
    if (!res.ok)
        snprintf(res.why, sizeof res.why, "%s", c.failed ? c.why : "scenario failed");
    if (o->trace || o->verbose) {
        printf("seed %llu %s n=%d: %s in %.3fs, %llums simulated, %llu packets (%llu lost, %llu cut, %llu "
               "corrupted and refused), largest datagram %zuB, largest stream %lluB",
               (unsigned long long)seed, scenarioNames[res.scenario], res.n, res.ok ? "ok" : "FAILED",
               wallNow() - t0, (unsigned long long)c.w.now, (unsigned long long)c.w.stats.sent,
               (unsigned long long)c.w.stats.lost, (unsigned long long)c.w.stats.cut,
               (unsigned long long)c.corrupt_refused, c.w.stats.max_packet,
               (unsigned long long)c.w.stats.max_stream);
        /* Only runs where something refused say so: the line of any other run reads as before. */
        if (res.refused)
            printf("; refusals: %llu from down hosts, %llu spurious, %llu to cores, %llu probes ended "
                   "early, %llu timed (longest %llums), %llu exempt",
                   (unsigned long long)c.w.stats.refused, (unsigned long long)c.w.stats.refused_live,
                   (unsigned long long)res.refusals, (unsigned long long)res.probes_refused,
                   (unsigned long long)res.watched, (unsigned long long)res.probe_max_ms,
                   (unsigned long long)res.exempt);
        printf("\n");
    }
    gossipsim_cluster_free(&c);
    return res;
}

static int parseArgs(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->seeds = 100;
    o->from = 1;
    o->scenario = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-seeds") == 0 && v) {
            o->seeds = strtoull(v, NULL, 10);
            i++;
        } else if (strcmp(a, "-seed") == 0 && v) {
            o->seed = strtoull(v, NULL, 10);
            o->one = true;
            i++;
        } else if (strcmp(a, "-from") == 0 && v) {
            o->from = strtoull(v, NULL, 10);
            i++;
        } else if (strcmp(a, "-n") == 0 && v) {
            o->n = atoi(v);
            i++;
        } else if (strcmp(a, "-scenario") == 0 && v) {
            o->scenario = -2;
            for (int s = 0; s < SC_COUNT; s++)
                if (strcmp(v, scenarioNames[s]) == 0)
                    o->scenario = s;
            if (o->scenario == -2) {
                fprintf(stderr, "sim_gossip: unknown scenario '%s'\n", v);
                return -1;
            }
            i++;
        } else if (strcmp(a, "-trace") == 0) {
            o->trace = true;
        } else if (strcmp(a, "-v") == 0) {
            o->verbose = true;
        } else {
            fprintf(stderr, "usage: sim_gossip [-seeds N [-from S] | -seed S [-trace]] [-scenario %s|...] "
                            "[-n NODES] [-v]\n", scenarioNames[0]);
            return -1;
        }
    }
    if (o->n < 0 || o->n > 200) {
        fprintf(stderr, "sim_gossip: -n must be 3..200\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parseArgs(argc, argv, &o) != 0)
        return 2;
    uint64_t first = o.one ? o.seed : o.from;
    uint64_t last = o.one ? o.seed : o.from + o.seeds - 1;
    uint64_t passed = 0, failed = 0;
    uint64_t per[SC_COUNT] = {0};
    uint64_t max_sim = 0;
    uint64_t transient = 0;
    uint64_t refusing_runs = 0, early = 0, early_live = 0, watched = 0, exempt = 0, probe_max = 0;
    uint64_t claims = 0;
    double claim_max = 0; /* the largest share of its refusal bound a kill run used */
    for (uint64_t s = first; s <= last; s++) {
        struct result res = runSeed(s, &o);
        per[res.scenario]++;
        transient += res.transient_failed;
        refusing_runs += res.refused > 0;
        early += res.probes_refused;
        /* loss and stall kill nobody: every probe they ended early was of a live member */
        if (res.scenario == SC_LOSS || res.scenario == SC_STALL)
            early_live += res.probes_refused;
        watched += res.watched;
        exempt += res.exempt;
        if (res.probe_max_ms > probe_max)
            probe_max = res.probe_max_ms;
        if (res.ok && res.kill.claimed) {
            claims++;
            double share = (double)res.kill.took / (double)res.kill.tight;
            if (share > claim_max)
                claim_max = share;
        }
        if (res.sim_ms > max_sim)
            max_sim = res.sim_ms;
        if (res.ok) {
            passed++;
        } else {
            failed++;
            printf("seed %llu FAILED (%s, %d nodes): %s\n  replay: %s -seed %llu -trace",
                   (unsigned long long)s, scenarioNames[res.scenario], res.n, res.why, argv[0],
                   (unsigned long long)s);
            if (o.scenario >= 0)
                printf(" -scenario %s", scenarioNames[o.scenario]);
            if (o.n > 0)
                printf(" -n %d", o.n);
            printf("\n");
            fflush(stdout);
        }
    }
    printf("scenarios:");
    for (int s = 0; s < SC_COUNT; s++)
        printf(" %s %llu", scenarioNames[s], (unsigned long long)per[s]);
    printf("; longest run %llums simulated; %llu failed-before-left events about leavers\n",
           (unsigned long long)max_sim, (unsigned long long)transient);
    printf("refusals: %llu runs; %llu probes ended early by refusals (%llu of them of live members, "
           "loss and stall); %llu probes of refusing dead nodes timed, longest %llums, %llu exempt\n",
           (unsigned long long)refusing_runs, (unsigned long long)early, (unsigned long long)early_live,
           (unsigned long long)watched, (unsigned long long)probe_max, (unsigned long long)exempt);
    printf("refusing kills held to 2n intervals + 6*Dmax + suspMax: %llu runs, at most %.0f%% of it used\n",
           (unsigned long long)claims, 100 * claim_max);
    printf("%llu passed, %llu failed\n", (unsigned long long)passed, (unsigned long long)failed);
    return failed ? 1 : 0;
}
