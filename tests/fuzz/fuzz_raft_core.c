/* fuzz_raft_core.c — libFuzzer target for the pure Raft core: input bytes are a script of ticks,
 * proposals, membership calls and hostile peer messages (any type, term, index, entry shape).
 * After every step the core must not crash and its invariants must hold: commit <= last index,
 * applied <= commit, the term never decreases, entries handed out are contiguous and in order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "raft/raft.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct script {
    const uint8_t *p;
    size_t n;
    size_t off;
};

static uint8_t next(struct script *s)
{
    return s->off < s->n ? s->p[s->off++] : 0;
}

static uint64_t small(struct script *s)
{
    return next(s) % 16;
}

static void step_message(struct raft *r, struct script *s)
{
    struct raft_entry ents[4];
    uint8_t payload[4][8];
    struct raft_server servers[3];
    struct raft_msg m;
    memset(&m, 0, sizeof m);
    m.type = (uint8_t)(next(s) % 9);
    m.from = next(s) % 5;
    m.to = next(s) % 4 == 0 ? 7 : 1;
    m.term = small(s);
    switch (m.type) {
    case RAFT_MSG_APPEND: {
        m.u.append.prev_index = small(s);
        m.u.append.prev_term = small(s);
        m.u.append.commit = small(s);
        m.u.append.read_ctx = next(s);
        uint32_t n = next(s) % 5;
        for (uint32_t i = 0; i < n; i++) {
            uint8_t b = next(s);
            ents[i].index = b & 0x80 ? small(s) : m.u.append.prev_index + 1 + i;
            ents[i].term = small(s);
            ents[i].type = (uint8_t)(1 + next(s) % 4);
            ents[i].len = next(s) % 9;
            memset(payload[i], b, sizeof payload[i]);
            ents[i].data = ents[i].len ? payload[i] : NULL;
        }
        m.u.append.n_entries = n;
        m.u.append.entries = n ? ents : NULL;
        break;
    }
    case RAFT_MSG_APPEND_RESP:
        m.u.append_resp.success = next(s) & 1;
        m.u.append_resp.match_index = small(s);
        m.u.append_resp.conflict_index = small(s);
        m.u.append_resp.conflict_term = small(s);
        m.u.append_resp.last_index = small(s);
        m.u.append_resp.read_ctx = small(s);
        break;
    case RAFT_MSG_VOTE:
        m.u.vote.prevote = next(s) & 1;
        m.u.vote.transfer = next(s) & 1;
        m.u.vote.last_index = small(s);
        m.u.vote.last_term = small(s);
        break;
    case RAFT_MSG_VOTE_RESP:
        m.u.vote_resp.prevote = next(s) & 1;
        m.u.vote_resp.granted = next(s) & 1;
        break;
    case RAFT_MSG_SNAPSHOT: {
        uint8_t nsv = next(s) % 4;
        for (uint8_t i = 0; i < nsv; i++) {
            memset(&servers[i], 0, sizeof servers[i]);
            servers[i].id = 1 + next(s) % 4;
            servers[i].voter = next(s) & 1;
            memcpy(servers[i].addr, "10.0.0.1:8300", 14);
        }
        m.u.snapshot.last_index = small(s);
        m.u.snapshot.last_term = small(s);
        m.u.snapshot.config.n = nsv;
        m.u.snapshot.config.servers = nsv ? servers : NULL;
        m.u.snapshot.len = next(s) % 9;
        m.u.snapshot.data = m.u.snapshot.len ? payload[0] : NULL;
        memset(payload[0], 1, sizeof payload[0]);
        break;
    }
    case RAFT_MSG_SNAPSHOT_RESP:
        m.u.snapshot_resp.success = next(s) & 1;
        m.u.snapshot_resp.last_index = small(s);
        break;
    default:
        break;
    }
    raft_step(r, &m);
}

struct seen {
    uint64_t term;
    uint64_t applied;
};

static void drain(struct raft *r, struct seen *sn)
{
    struct raft_ready rd;
    int guard = 0;
    while (raft_ready(r, &rd)) {
        if (++guard > 100)
            abort(); /* raft_ready must run dry */
        for (size_t i = 1; i < rd.n_entries; i++)
            if (rd.entries[i].index != rd.entries[i - 1].index + 1)
                abort();
        if (rd.snapshot)
            sn->applied = rd.snapshot->index;
        for (size_t i = 0; i < rd.n_committed; i++)
            if (rd.committed[i].index != ++sn->applied)
                abort();
        bool want = rd.snapshot_wanted;
        raft_advance(r, &rd);
        if (want)
            raft_snapshot_done(r, raft_applied_index(r), "snap", 4);
    }
}

static void check(const struct raft *r, struct seen *sn)
{
    if (raft_commit_index(r) > raft_last_index(r) || raft_applied_index(r) > raft_commit_index(r))
        abort();
    if (raft_term(r) < sn->term)
        abort();
    sn->term = raft_term(r);
    if (raft_state(r) == RAFT_LEADER && raft_leader(r) != 1)
        abort();
    if (raft_snapshot_index(r) > raft_applied_index(r))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct script s = {data, size, 0};
    struct raft_options o;
    raft_options_default(&o, 1, "10.0.0.1:8300");
    o.election_ticks = 3;
    o.snapshot_threshold = 4;
    o.snapshot_trailing = 1;
    o.max_entries_per_msg = 2;
    o.max_inflight_msgs = 2;
    o.pre_vote = next(&s) & 1;
    o.check_quorum = next(&s) & 1;
    struct raft r;
    if (raft_init(&r, &o, NULL) != RAFT_OK)
        return 0;
    struct raft_config c = {0, NULL};
    uint8_t nv = (uint8_t)(1 + next(&s) % 3);
    for (raft_id id = 1; id <= nv; id++)
        raft_config_put(&c, id, id == 1 ? "10.0.0.1:8300" : "10.0.0.2:8300", true);
    raft_bootstrap(&r, &c);
    raft_config_free(&c);
    struct seen sn = {0, 0};
    drain(&r, &sn);
    uint64_t idx;
    while (s.off < s.n) {
        uint8_t op = next(&s);
        switch (op % 10) {
        case 0:
        case 1:
            raft_tick(&r);
            break;
        case 2:
            raft_propose(&r, "v", 1, &idx);
            break;
        case 3:
        case 4:
        case 5:
            step_message(&r, &s);
            break;
        case 6:
            raft_read_index(&r, next(&s));
            break;
        case 7:
            if (next(&s) & 1)
                raft_add_server(&r, 1 + next(&s) % 4, "10.0.0.9:8300");
            else
                raft_remove_server(&r, 1 + next(&s) % 4);
            break;
        case 8:
            raft_transfer_leadership(&r, next(&s) % 4);
            break;
        case 9:
            raft_snapshot_done(&r, raft_applied_index(&r), "s", 1);
            break;
        }
        if ((op & 0x80) == 0)
            drain(&r, &sn);
        check(&r, &sn);
    }
    drain(&r, &sn);
    check(&r, &sn);
    raft_close(&r);
    return 0;
}
