/* test_raft_regress.c — regression tests from the Raft review: one core driven by hand-made
 * messages at the edges of design-anchors §2 (commit bound, truncation, config rollback, installs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "raft/config.h"
#include "raft/raft.h"

/* A configuration of voters 1..n (and non-voter n+1 when extra). */
static void make_config(struct raft_config *c, raft_id n, bool extra)
{
    c->n = 0;
    c->servers = NULL;
    for (raft_id id = 1; id <= n + (extra ? 1 : 0); id++) {
        char a[RAFT_ADDR_MAX];
        snprintf(a, sizeof a, "127.0.0.1:%u", (unsigned)(8300 + id));
        assert_int_equal(raft_config_put(c, id, a, id <= n), 0);
    }
}

/* Fills e as a CONFIG entry; b owns the bytes. */
static void config_entry(struct raft_entry *e, struct buf *b, uint64_t index, uint64_t term,
                         raft_id n, bool extra)
{
    struct raft_config c;
    make_config(&c, n, extra);
    buf_init(b, 0);
    assert_int_equal(raft_config_encode(&c, b), 0);
    raft_config_free(&c);
    *e = (struct raft_entry){.term = term, .index = index, .type = RAFT_ENTRY_CONFIG,
                             .len = (uint32_t)b->len, .data = b->data};
}

static struct raft_entry cmd(uint64_t index, uint64_t term)
{
    static const uint8_t payload[1] = {'x'};
    return (struct raft_entry){.term = term, .index = index, .type = RAFT_ENTRY_COMMAND,
                               .len = 1, .data = (uint8_t *)payload};
}

/* Server `id` of a three-voter cluster, restored with term/vote and log ents[0..n). */
static void start(struct raft *r, raft_id id, uint64_t term, const struct raft_entry *ents,
                  size_t n)
{
    struct raft_options o;
    raft_options_default(&o, id, "127.0.0.1:8300");
    struct raft_restore rs = {.term = term, .vote = 0, .entries = ents, .n_entries = n};
    assert_int_equal(raft_init(r, &o, &rs), RAFT_OK);
}

static int step_append(struct raft *r, raft_id from, uint64_t term, uint64_t prev,
                       uint64_t prev_term, uint64_t commit, struct raft_entry *ents, uint32_t n)
{
    struct raft_msg m;
    memset(&m, 0, sizeof m);
    m.type = RAFT_MSG_APPEND;
    m.from = from;
    m.to = r->o.id;
    m.term = term;
    m.u.append = (struct raft_msg_append){.prev_index = prev, .prev_term = prev_term,
                                          .commit = commit, .n_entries = n, .entries = ents};
    return raft_step(r, &m);
}

/* Runs one Ready round as a correct caller would; copies out the last append response. */
static bool round_trip(struct raft *r, struct raft_msg_append_resp *resp, bool *resp_early)
{
    struct raft_ready rd;
    bool got = false;
    if (resp_early)
        *resp_early = false;
    while (raft_ready(r, &rd)) {
        for (size_t i = 0; i < rd.n_msgs; i++)
            if (rd.msgs[i].type == RAFT_MSG_APPEND_RESP && resp_early)
                *resp_early = true;
        for (size_t i = 0; i < rd.n_msgs_after_persist; i++)
            if (rd.msgs_after_persist[i].type == RAFT_MSG_APPEND_RESP) {
                if (resp)
                    *resp = rd.msgs_after_persist[i].u.append_resp;
                got = true;
            }
        raft_advance(r, &rd);
    }
    return got;
}

/* Anchor §2 row 3: an empty append with a high leaderCommit to a follower whose tail diverges
 * commits only what this append verified (prev), never the unverified divergent suffix. */
static void empty_append_high_commit_commits_only_verified(void **state)
{
    (void)state;
    struct buf b;
    struct raft_entry ents[4];
    config_entry(&ents[0], &b, 1, 1, 3, false);
    ents[1] = cmd(2, 1);
    ents[2] = cmd(3, 2); /* from a deposed leader of term 2: not in the new leader's log */
    ents[3] = cmd(4, 2);
    struct raft r;
    start(&r, 2, 2, ents, 4);
    buf_free(&b);

    struct raft_msg_append_resp resp;
    assert_int_equal(step_append(&r, 1, 3, 2, 1, 10, NULL, 0), RAFT_OK);
    assert_true(round_trip(&r, &resp, NULL));
    assert_true(resp.success);
    assert_int_equal(resp.match_index, 2);
    assert_int_equal(raft_commit_index(&r), 2);
    assert_int_equal(raft_last_index(&r), 4); /* a matching empty append truncates nothing */

    /* A probe at the divergent tail is refused and moves nothing. */
    assert_int_equal(step_append(&r, 1, 3, 4, 3, 10, NULL, 0), RAFT_OK);
    assert_true(round_trip(&r, &resp, NULL));
    assert_false(resp.success);
    assert_int_equal(raft_commit_index(&r), 2);
    assert_int_equal(raft_last_index(&r), 4);
    raft_close(&r);
}

/* Anchor §2 row 3: a stale append (a prefix of what the follower holds) neither truncates nor
 * commits beyond its own last entry, and its ack leaves only after the fsync. */
static void stale_prefix_append_keeps_suffix(void **state)
{
    (void)state;
    struct buf b;
    struct raft_entry ents[5];
    config_entry(&ents[0], &b, 1, 1, 3, false);
    for (uint64_t i = 2; i <= 5; i++)
        ents[i - 1] = cmd(i, 2);
    struct raft r;
    start(&r, 3, 2, ents, 5);
    buf_free(&b);

    struct raft_entry again[2] = {cmd(2, 2), cmd(3, 2)};
    struct raft_msg_append_resp resp;
    bool early;
    assert_int_equal(step_append(&r, 1, 2, 1, 1, 5, again, 2), RAFT_OK);
    assert_true(round_trip(&r, &resp, &early));
    assert_false(early);
    assert_true(resp.success);
    assert_int_equal(resp.match_index, 3);
    assert_int_equal(raft_last_index(&r), 5);
    assert_int_equal(raft_commit_index(&r), 3); /* min(leaderCommit 5, verified 3) */
    raft_close(&r);
}

/* Anchor §2 row 4: a configuration is in effect once appended, and a truncation that removes
 * it rolls the server back to the previous one. */
static void truncated_config_rolls_back(void **state)
{
    (void)state;
    struct buf b1, b2;
    struct raft_entry ents[2];
    config_entry(&ents[0], &b1, 1, 1, 3, false);
    ents[1] = cmd(2, 1);
    struct raft r;
    start(&r, 2, 2, ents, 2);
    buf_free(&b1);

    struct raft_entry add[1];
    config_entry(&add[0], &b2, 3, 2, 3, true); /* adds non-voter 4, uncommitted */
    assert_int_equal(step_append(&r, 1, 2, 2, 1, 2, add, 1), RAFT_OK);
    buf_free(&b2);
    assert_true(round_trip(&r, NULL, NULL));
    assert_non_null(raft_config_find(raft_configuration(&r), 4));

    /* The leader of term 3 never had it: its own entry 3 replaces it. */
    struct raft_entry other[1] = {cmd(3, 3)};
    assert_int_equal(step_append(&r, 3, 3, 2, 1, 2, other, 1), RAFT_OK);
    assert_true(round_trip(&r, NULL, NULL));
    assert_null(raft_config_find(raft_configuration(&r), 4));
    assert_int_equal(raft_configuration(&r)->n, 3);
    assert_int_equal(raft_last_index(&r), 3);
    raft_close(&r);
}

static int step_snapshot(struct raft *r, raft_id from, uint64_t term, uint64_t index,
                         uint64_t snap_term)
{
    struct raft_msg m;
    memset(&m, 0, sizeof m);
    m.type = RAFT_MSG_SNAPSHOT;
    m.from = from;
    m.to = r->o.id;
    m.term = term;
    make_config(&m.u.snapshot.config, 3, false);
    m.u.snapshot.last_index = index;
    m.u.snapshot.last_term = snap_term;
    static const uint8_t data[3] = {1, 2, 3};
    m.u.snapshot.len = sizeof data;
    m.u.snapshot.data = (uint8_t *)data;
    int rc = raft_step(r, &m);
    raft_config_free(&m.u.snapshot.config);
    return rc;
}

/* Anchor §2 row 9: a snapshot at or below the commit index is ignored; one whose last entry
 * the follower holds keeps the suffix; one that conflicts replaces the whole log, and its
 * reply leaves only with the snapshot in the same Ready (after persistence). */
static void install_snapshot_cases(void **state)
{
    (void)state;
    struct buf b;
    struct raft_entry ents[6];
    config_entry(&ents[0], &b, 1, 1, 3, false);
    for (uint64_t i = 2; i <= 6; i++)
        ents[i - 1] = cmd(i, 2);
    struct raft r;
    start(&r, 2, 2, ents, 6);
    buf_free(&b);
    assert_int_equal(step_append(&r, 1, 2, 6, 2, 3, NULL, 0), RAFT_OK);
    assert_true(round_trip(&r, NULL, NULL));
    assert_int_equal(raft_commit_index(&r), 3);

    /* Old snapshot resent: nothing changes. */
    assert_int_equal(step_snapshot(&r, 1, 2, 3, 2), RAFT_OK);
    struct raft_ready rd;
    assert_true(raft_ready(&r, &rd));
    assert_null(rd.snapshot);
    assert_int_equal(rd.truncate_from, 0);
    raft_advance(&r, &rd);
    assert_int_equal(raft_last_index(&r), 6);
    assert_int_equal(raft_snapshot_index(&r), 0);

    /* Matching last entry: suffix kept, commit moves. */
    assert_int_equal(step_snapshot(&r, 1, 2, 5, 2), RAFT_OK);
    assert_true(raft_ready(&r, &rd));
    assert_null(rd.snapshot);
    raft_advance(&r, &rd);
    assert_int_equal(raft_last_index(&r), 6);
    assert_int_equal(raft_commit_index(&r), 5);

    /* Conflicting (a new leader of term 4 whose entry 6 has term 4): the log goes. */
    assert_int_equal(step_snapshot(&r, 3, 4, 6, 4), RAFT_OK);
    assert_true(raft_ready(&r, &rd));
    assert_non_null(rd.snapshot);
    assert_int_equal(rd.snapshot->index, 6);
    for (size_t i = 0; i < rd.n_msgs; i++)
        assert_int_not_equal(rd.msgs[i].type, RAFT_MSG_SNAPSHOT_RESP);
    bool replied = false;
    for (size_t i = 0; i < rd.n_msgs_after_persist; i++)
        replied |= rd.msgs_after_persist[i].type == RAFT_MSG_SNAPSHOT_RESP;
    assert_true(replied);
    raft_advance(&r, &rd);
    assert_int_equal(raft_last_index(&r), 6);
    assert_int_equal(raft_last_term(&r), 4);
    assert_int_equal(raft_snapshot_index(&r), 6);
    raft_close(&r);
}

/* Regression for f9ab9f6 (sim_raft -seed 9316): a follower that moved to a higher term while it
 * was behind the leader's compacted log gets only InstallSnapshot from the leader (appends and
 * heartbeats pause for it). It ignored stale-term snapshots without a word, so the stale leader
 * never learned the newer term and the follower never caught up: three of eight servers stayed
 * behind forever while the others kept the leader in its lease. A stale snapshot must be
 * answered with our term, like a stale append. */
static void stale_snapshot_is_answered_with_our_term(void **state)
{
    (void)state;
    struct buf b;
    struct raft_entry ents[3];
    config_entry(&ents[0], &b, 1, 1, 3, false);
    ents[1] = cmd(2, 1);
    ents[2] = cmd(3, 1);
    struct raft r;
    start(&r, 2, 8, ents, 3);
    buf_free(&b);
    struct raft_ready rd;
    while (raft_ready(&r, &rd))
        raft_advance(&r, &rd);

    assert_int_equal(step_snapshot(&r, 1, 7, 50, 7), RAFT_OK);
    assert_int_equal(raft_term(&r), 8);
    assert_int_equal(raft_snapshot_index(&r), 0); /* nothing installed from a stale leader */
    bool told = false;
    while (raft_ready(&r, &rd)) {
        assert_null(rd.snapshot);
        for (size_t i = 0; i < rd.n_msgs; i++)
            told |= rd.msgs[i].to == 1 && rd.msgs[i].term == 8;
        for (size_t i = 0; i < rd.n_msgs_after_persist; i++)
            told |= rd.msgs_after_persist[i].to == 1 && rd.msgs_after_persist[i].term == 8;
        raft_advance(&r, &rd);
    }
    assert_true(told);
    raft_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_append_high_commit_commits_only_verified),
        cmocka_unit_test(stale_prefix_append_keeps_suffix),
        cmocka_unit_test(truncated_config_rolls_back),
        cmocka_unit_test(install_snapshot_cases),
        cmocka_unit_test(stale_snapshot_is_answered_with_our_term),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
