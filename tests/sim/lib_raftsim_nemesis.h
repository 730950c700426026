/* lib_raftsim_nemesis.h — the Raft simulator's fault schedule (partitions, crashes, pauses,
 * membership churn, transfers, client load) and its heal phase with the liveness verdict. */
#ifndef TRIBUNE_TESTS_LIB_RAFTSIM_NEMESIS_H
#define TRIBUNE_TESTS_LIB_RAFTSIM_NEMESIS_H

#include "sim/lib_raftsim_cluster.h"

#define RAFTSIM_HEAL_PROPOSALS 3 /* fresh commands that must commit after healing */

/* Per-step probabilities (per mille), drawn once per seed. */
struct raftsim_nemesis {
    uint64_t part_until; /* an active partition heals at this time (0: none) */
    unsigned part_pm, crash_pm, arm_pm, pause_pm, member_pm, transfer_pm, prop_pm, read_pm;
    uint64_t down_max;  /* a crashed server restarts within this */
    raft_id grow_to;    /* started as a single bootstrapped server: add 2..grow_to (0: done) */
};

/* One round of faults and client requests at the cluster's current time. */
void raftsim_nemesis_step(struct raftsim_cluster *c, struct raftsim_nemesis *z);

/* Stops every fault, restarts every server, and runs until one leader has committed
 * RAFTSIM_HEAL_PROPOSALS fresh commands and every member has applied its commit index. false
 * (with the reason in c->chk) if a check fails or `bound` time passes first. */
bool raftsim_heal(struct raftsim_cluster *c, uint64_t bound);

#endif
