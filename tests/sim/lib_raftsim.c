/* lib_raftsim.c — the simulator's PRNG, trace lines, deep copies of Raft messages and the toy
 * state machine. Nothing here reads a clock or libc rand: a seed alone determines a run. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "raft/config.h"
#include "sim/lib_raftsim.h"

void raftsim_rng_seed(struct raftsim_rng *r, uint64_t seed)
{
    r->s = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
}

uint64_t raftsim_rng_next(struct raftsim_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t raftsim_rng_below(struct raftsim_rng *r, uint64_t n)
{
    return n ? raftsim_rng_next(r) % n : 0; /* modulo bias is irrelevant at these sizes */
}

uint64_t raftsim_rng_range(struct raftsim_rng *r, uint64_t lo, uint64_t hi)
{
    return hi <= lo ? lo : lo + raftsim_rng_below(r, hi - lo + 1);
}

bool raftsim_rng_pm(struct raftsim_rng *r, unsigned pm)
{
    return pm && raftsim_rng_below(r, 1000) < pm;
}

void raftsim_tracef(const struct raftsim_trace *t, const char *fmt, ...)
{
    if (!t->on)
        return;
    FILE *f = t->out ? t->out : stdout;
    fprintf(f, "%8llu ", (unsigned long long)t->now);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
}

static const char *msg_name(uint8_t type)
{
    static const char *const names[] = {"?",         "APPEND",        "APPEND_RESP", "VOTE",
                                        "VOTE_RESP", "SNAPSHOT",      "SNAPSHOT_RESP",
                                        "TIMEOUT_NOW"};
    return type < sizeof names / sizeof names[0] ? names[type] : "?";
}

void raftsim_msg_describe(const struct raft_msg *m, char *out, size_t n)
{
    int k = snprintf(out, n, "%s %llu->%llu t%llu", msg_name(m->type), (unsigned long long)m->from,
                     (unsigned long long)m->to, (unsigned long long)m->term);
    if (k < 0 || (size_t)k >= n)
        return;
    out += k;
    n -= (size_t)k;
    switch (m->type) {
    case RAFT_MSG_APPEND: {
        const struct raft_msg_append *a = &m->u.append;
        k = snprintf(out, n, " prev=%llu/%llu n=%u commit=%llu",
                     (unsigned long long)a->prev_index, (unsigned long long)a->prev_term,
                     a->n_entries, (unsigned long long)a->commit);
        if (k > 0 && (size_t)k < n && a->n_entries)
            snprintf(out + k, n - (size_t)k, " [%llu..%llu]",
                     (unsigned long long)a->entries[0].index,
                     (unsigned long long)a->entries[a->n_entries - 1].index);
        break;
    }
    case RAFT_MSG_APPEND_RESP: {
        const struct raft_msg_append_resp *a = &m->u.append_resp;
        snprintf(out, n, " %s match=%llu conflict=%llu/%llu last=%llu", a->success ? "ok" : "reject",
                 (unsigned long long)a->match_index, (unsigned long long)a->conflict_index,
                 (unsigned long long)a->conflict_term, (unsigned long long)a->last_index);
        break;
    }
    case RAFT_MSG_VOTE:
        snprintf(out, n, "%s%s last=%llu/%llu", m->u.vote.prevote ? " pre" : "",
                 m->u.vote.transfer ? " transfer" : "", (unsigned long long)m->u.vote.last_index,
                 (unsigned long long)m->u.vote.last_term);
        break;
    case RAFT_MSG_VOTE_RESP:
        snprintf(out, n, "%s %s", m->u.vote_resp.prevote ? " pre" : "",
                 m->u.vote_resp.granted ? "granted" : "denied");
        break;
    case RAFT_MSG_SNAPSHOT:
        snprintf(out, n, " last=%llu/%llu servers=%u len=%u",
                 (unsigned long long)m->u.snapshot.last_index,
                 (unsigned long long)m->u.snapshot.last_term, m->u.snapshot.config.n,
                 m->u.snapshot.len);
        break;
    case RAFT_MSG_SNAPSHOT_RESP:
        snprintf(out, n, " %s last=%llu", m->u.snapshot_resp.success ? "ok" : "fail",
                 (unsigned long long)m->u.snapshot_resp.last_index);
        break;
    default:
        break;
    }
}

int raftsim_entry_copy(struct raft_entry *dst, const struct raft_entry *src)
{
    *dst = *src;
    dst->data = NULL;
    if (src->len) {
        dst->data = malloc(src->len);
        if (!dst->data)
            return -1;
        memcpy(dst->data, src->data, src->len);
    }
    return 0;
}

void raftsim_entry_free(struct raft_entry *e)
{
    free(e->data);
    e->data = NULL;
    e->len = 0;
}

uint32_t raftsim_entry_crc(const struct raft_entry *e)
{
    uint32_t c = crc32c(0, &e->type, 1);
    return e->len ? crc32c(c, e->data, e->len) : c;
}

int raftsim_msg_clone(struct raft_msg *dst, const struct raft_msg *src)
{
    *dst = *src;
    if (src->type == RAFT_MSG_APPEND) {
        uint32_t n = src->u.append.n_entries;
        dst->u.append.entries = NULL;
        if (n) {
            dst->u.append.entries = calloc(n, sizeof(struct raft_entry));
            if (!dst->u.append.entries)
                return -1;
            for (uint32_t i = 0; i < n; i++)
                if (raftsim_entry_copy(&dst->u.append.entries[i], &src->u.append.entries[i])) {
                    dst->u.append.n_entries = i;
                    raftsim_msg_free(dst);
                    return -1;
                }
        }
    } else if (src->type == RAFT_MSG_SNAPSHOT) {
        struct raft_msg_snapshot *s = &dst->u.snapshot;
        s->data = NULL;
        s->config.n = 0;
        s->config.servers = NULL;
        if (raft_config_copy(&s->config, &src->u.snapshot.config))
            return -1;
        if (src->u.snapshot.len) {
            s->data = malloc(src->u.snapshot.len);
            if (!s->data) {
                raft_config_free(&s->config);
                return -1;
            }
            memcpy(s->data, src->u.snapshot.data, src->u.snapshot.len);
        }
    }
    return 0;
}

void raftsim_msg_free(struct raft_msg *m)
{
    if (m->type == RAFT_MSG_APPEND) {
        for (uint32_t i = 0; i < m->u.append.n_entries; i++)
            raftsim_entry_free(&m->u.append.entries[i]);
        free(m->u.append.entries);
        m->u.append.entries = NULL;
        m->u.append.n_entries = 0;
    } else if (m->type == RAFT_MSG_SNAPSHOT) {
        raft_config_free(&m->u.snapshot.config);
        free(m->u.snapshot.data);
        m->u.snapshot.data = NULL;
        m->u.snapshot.len = 0;
    }
}

static uint64_t mix64(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h = (h ^ (h >> 31)) * 0x7fb5d329728ea185ull;
    return h ^ (h >> 27);
}

void raftsim_fsm_apply(struct raftsim_fsm *f, const struct raft_entry *e)
{
    f->applied = e->index;
    if (e->type != RAFT_ENTRY_COMMAND)
        return;
    /* The index is folded in so that the same command at two indexes is told apart. */
    f->hash = mix64(mix64(f->hash, e->index), raftsim_entry_crc(e));
    f->ncmds++;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

void raftsim_fsm_save(const struct raftsim_fsm *f, uint8_t out[RAFTSIM_FSM_SNAP_LEN])
{
    put64(out, f->applied);
    put64(out + 8, f->hash);
    put64(out + 16, f->ncmds);
}

int raftsim_fsm_load(struct raftsim_fsm *f, const uint8_t *p, size_t len)
{
    if (len != RAFTSIM_FSM_SNAP_LEN)
        return -1;
    f->applied = get64(p);
    f->hash = get64(p + 8);
    f->ncmds = get64(p + 16);
    return 0;
}
