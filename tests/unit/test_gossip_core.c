/* test_gossip_core.c — one gossip core driven by hand: Lifeguard suspicion confirmations and local
 * health, the broadcast queue's order and retransmit limit, the udp_max packing bound, the state
 * rules for incarnations and names, hostile input, config checks and determinism, and what a
 * "port unreachable" answer may and may not shorten. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "gossip/gossip.h"
#include "gossip/wire.h"

static struct gossip_addr addr_of(int i)
{
    struct gossip_addr a = {.family = GOSSIP_AF_INET, .port = 7946};
    a.ip[0] = 10;
    a.ip[2] = (uint8_t)(i >> 8);
    a.ip[3] = (uint8_t)i;
    return a;
}

static bool gossip_addr_equal_for_test(const struct gossip_addr *a, int i)
{
    struct gossip_addr b = addr_of(i);
    return a->family == b.family && a->port == b.port && memcmp(a->ip, b.ip, 4) == 0;
}

static void cfg_of(struct gossip_config *c, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    gossip_config_default(c);
    snprintf(c->name, sizeof c->name, "self");
    c->addr = addr_of(1);
    c->seed = seed;
    c->push_pull_interval_ms = 0;
    c->tags.role = GOSSIP_ROLE_CLIENT;
}

static void recv1(struct gossip *g, const struct gossip_msg *m)
{
    struct gossip_packet p = {.peer = addr_of(2), .transport = GOSSIP_UDP, .n_msgs = 1};
    p.msgs = (struct gossip_msg *)m;
    gossip_recv(g, &p);
}

static void alive(struct gossip *g, const char *name, int ip, uint64_t inc)
{
    struct gossip_msg m = {.type = GOSSIP_MSG_ALIVE};
    snprintf(m.u.alive.node, GOSSIP_NAME_MAX, "%s", name);
    m.u.alive.incarnation = inc;
    m.u.alive.addr = addr_of(ip);
    m.u.alive.tags.role = GOSSIP_ROLE_CLIENT;
    recv1(g, &m);
}

static void suspect(struct gossip *g, const char *name, uint64_t inc, const char *from)
{
    struct gossip_msg m = {.type = GOSSIP_MSG_SUSPECT};
    snprintf(m.u.suspect.node, GOSSIP_NAME_MAX, "%s", name);
    snprintf(m.u.suspect.from, GOSSIP_NAME_MAX, "%s", from);
    m.u.suspect.incarnation = inc;
    recv1(g, &m);
}

static void dead(struct gossip *g, const char *name, uint64_t inc, const char *from)
{
    struct gossip_msg m = {.type = GOSSIP_MSG_DEAD};
    snprintf(m.u.dead.node, GOSSIP_NAME_MAX, "%s", name);
    snprintf(m.u.dead.from, GOSSIP_NAME_MAX, "%s", from);
    m.u.dead.incarnation = inc;
    recv1(g, &m);
}

/* How the fake rest of the world answers: acks pings, and answers ping-reqs with ack, nack or
 * nothing. Also counts events and records what was sent. */
enum { ANSWER_NONE, ANSWER_ACK, ANSWER_NACK };

struct world {
    int ping_reply;     /* to direct pings */
    int ping_req_reply; /* to ping-reqs */
    char silent[GOSSIP_NAME_MAX]; /* a member whose pings go unanswered even when others answer */
    char refuse[GOSSIP_NAME_MAX]; /* a member whose host refuses our UDP pings (ICMP) */
    bool refuse_tcp;              /* ... and our TCP fallback pings (connection refused) */
    uint64_t refuse_ping_at;      /* when the last UDP ping to it went out */
    int dead_helper;              /* addr_of() index whose host refuses our ping-reqs; 0: none */
    size_t events[16];
    uint64_t ping_times[256];
    size_t n_pings;
    uint64_t ping_req_times[256];
    size_t n_ping_reqs;
    size_t udp_packets;
    size_t oversize;
    size_t max_msgs;
    size_t (*size)(const struct gossip_msg *m);
    uint32_t udp_max;
    uint32_t overhead;
    bool encode;        /* also run every UDP packet through the wire encoder */
    size_t max_encoded;
    size_t encode_errors;
    /* ALIVE updates seen in UDP packets, in order */
    char alive_seen[4096][GOSSIP_NAME_MAX];
    uint64_t alive_inc[4096];
    size_t n_alive_seen;
    size_t packet_first_alive[512]; /* index into alive_seen where each packet's updates start */
    size_t n_packet_marks;
};

static void pump(struct gossip *g, struct world *w, uint64_t now)
{
    struct gossip_ready rd;
    struct gossip_msg replies[64];
    size_t n_replies = 0;
    struct gossip_addr refused_at[8];
    uint8_t refused_via[8];
    size_t n_refused = 0;
    if (!gossip_ready(g, &rd))
        return;
    for (size_t i = 0; i < rd.n_events; i++)
        w->events[rd.events[i].type]++;
    for (size_t k = 0; k < rd.n_packets; k++) {
        const struct gossip_packet *p = &rd.packets[k];
        if (p->transport == GOSSIP_UDP) {
            size_t sz = w->overhead;
            for (uint32_t i = 0; i < p->n_msgs; i++)
                sz += w->size(&p->msgs[i]);
            w->udp_packets++;
            w->oversize += sz > w->udp_max;
            if (w->encode) {
                struct buf b;
                buf_init(&b, 0);
                if (gossip_wire_encode(p, &b) != 0)
                    w->encode_errors++;
                w->oversize += b.len > w->udp_max;
                if (b.len > w->max_encoded)
                    w->max_encoded = b.len;
                buf_free(&b);
            }
            if (p->n_msgs > w->max_msgs)
                w->max_msgs = p->n_msgs;
            if (w->n_packet_marks < 512)
                w->packet_first_alive[w->n_packet_marks++] = w->n_alive_seen;
        }
        for (uint32_t i = 0; i < p->n_msgs; i++) {
            const struct gossip_msg *m = &p->msgs[i];
            if (m->type == GOSSIP_MSG_ALIVE && p->transport == GOSSIP_UDP && w->n_alive_seen < 4096) {
                memcpy(w->alive_seen[w->n_alive_seen], m->u.alive.node, GOSSIP_NAME_MAX);
                w->alive_inc[w->n_alive_seen++] = m->u.alive.incarnation;
            }
            if (m->type == GOSSIP_MSG_PING && w->refuse[0] && strcmp(m->u.ping.node, w->refuse) == 0 &&
                (p->transport == GOSSIP_UDP || w->refuse_tcp) && n_refused < 8) {
                if (p->transport == GOSSIP_UDP)
                    w->refuse_ping_at = now;
                refused_at[n_refused] = p->peer;
                refused_via[n_refused++] = p->transport;
            }
            if (m->type == GOSSIP_MSG_PING && p->transport == GOSSIP_UDP) {
                if (w->n_pings < 256)
                    w->ping_times[w->n_pings++] = now;
                if (w->ping_reply == ANSWER_ACK && strcmp(m->u.ping.node, w->silent) != 0 && n_replies < 64)
                    replies[n_replies++] = (struct gossip_msg){.type = GOSSIP_MSG_ACK, .u.ack.seq = m->u.ping.seq};
            }
            if (m->type == GOSSIP_MSG_PING_REQ) {
                if (w->n_ping_reqs < 256)
                    w->ping_req_times[w->n_ping_reqs++] = now;
                struct gossip_addr dead = addr_of(w->dead_helper);
                if (w->dead_helper && memcmp(p->peer.ip, dead.ip, 4) == 0) {
                    if (n_refused < 8) {
                        refused_at[n_refused] = p->peer;
                        refused_via[n_refused++] = GOSSIP_UDP;
                    }
                    continue;
                }
                if (w->ping_req_reply != ANSWER_NONE && n_replies < 64) {
                    uint8_t type = w->ping_req_reply == ANSWER_ACK ? GOSSIP_MSG_ACK : GOSSIP_MSG_NACK;
                    replies[n_replies++] = (struct gossip_msg){.type = type, .u.ack.seq = m->u.ping_req.seq};
                }
            }
        }
    }
    gossip_advance(g);
    for (size_t i = 0; i < n_refused; i++)
        gossip_refused(g, &refused_at[i], refused_via[i]);
    for (size_t i = 0; i < n_replies; i++)
        recv1(g, &replies[i]);
}

static void world_init(struct world *w, const struct gossip_config *c)
{
    memset(w, 0, sizeof *w);
    w->size = gossip_msg_size_bound;
    w->udp_max = c->udp_max;
    w->overhead = c->packet_overhead;
}

/* A core with three other members, a, b and c, alive at incarnation 1, and its fake world. */
static struct gossip *start_abc(const struct gossip_config *c, struct world *w)
{
    struct gossip *g = gossip_new(c, 0);
    assert_non_null(g);
    world_init(w, c);
    alive(g, "a", 10, 1);
    alive(g, "b", 11, 1);
    alive(g, "c", 12, 1);
    return g;
}

static uint64_t run_until_dead(struct gossip *g, struct world *w, uint64_t now, const char *name, uint64_t limit)
{
    for (uint64_t t = now; t < now + limit; t += 10) {
        gossip_tick(g, t);
        pump(g, w, t);
        if (gossip_member_find(g, name)->state == GOSSIP_STATE_DEAD)
            return t;
    }
    return UINT64_MAX;
}

static void confirmations_shorten_suspicion(void **state)
{
    (void)state;
    uint64_t took[3];
    for (int confirms = 0; confirms < 3; confirms++) {
        struct gossip_config c;
        cfg_of(&c, 5);
        struct gossip *g = gossip_new(&c, 0);
        struct world w;
        world_init(&w, &c);
        w.ping_reply = ANSWER_ACK; /* every probe succeeds: only the injected accusations count */
        w.ping_req_reply = ANSWER_ACK;
        char name[16];
        for (int i = 0; i < 10; i++) {
            snprintf(name, sizeof name, "m%d", i);
            alive(g, name, 10 + i, 1);
        }
        pump(g, &w, 0);
        suspect(g, "m0", 1, "m1");
        assert_int_equal(gossip_member_find(g, "m0")->state, GOSSIP_STATE_SUSPECT);
        suspect(g, "m0", 1, "m1"); /* the same accuser again is not independent */
        for (int k = 0; k < confirms; k++) {
            snprintf(name, sizeof name, "m%d", 2 + k);
            suspect(g, "m0", 1, name);
        }
        took[confirms] = run_until_dead(g, &w, 0, "m0", 120000);
        assert_int_equal(w.events[GOSSIP_EV_FAILED], 1);
        gossip_free(g);
    }
    /* 11 members: min = 4 * log10(11) * 1 s, max = 6 * min; k = 2 confirmations reach min. */
    uint64_t min = 4 * 1000 * 1041 / 1000;
    assert_true(took[2] >= min - 10 && took[2] <= min + 20);
    assert_true(took[0] >= 6 * min - 20 && took[0] <= 6 * min + 20);
    assert_true(took[1] < took[0] && took[1] > took[2]);
}

static void health_rises_on_missed_acks_and_stretches_timeouts(void **state)
{
    (void)state;
    struct gossip_config c;
    cfg_of(&c, 9);
    c.suspicion_mult = 60; /* keep members suspect (not dead) for the whole test */
    struct world w;
    struct gossip *g = start_abc(&c, &w);
    w.ping_reply = ANSWER_NONE;
    w.ping_req_reply = ANSWER_NONE; /* helpers silent: no nacks either, so the fault looks local */
    uint64_t t = 0;
    for (; t < 30000; t += 5) {
        gossip_tick(g, t);
        pump(g, &w, t);
    }
    uint32_t score = gossip_health_score(g);
    assert_true(score > 0);
    assert_true(score <= c.awareness_max - 1);
    /* First probe: the ping-req goes out one probe timeout after the ping. Later ones wait longer,
     * and the probe period itself has stretched. */
    assert_true(w.n_pings >= 3 && w.n_ping_reqs >= 3);
    assert_true(w.ping_req_times[0] - w.ping_times[0] >= c.probe_timeout_ms &&
                w.ping_req_times[0] - w.ping_times[0] <= c.probe_timeout_ms + 5);
    uint64_t last_gap = w.ping_times[w.n_pings - 1] - w.ping_times[w.n_pings - 2];
    assert_true(last_gap >= 2 * c.probe_interval_ms);
    assert_true(w.ping_times[1] - w.ping_times[0] < last_gap);

    /* The node recovers: the members refute, every probe is answered in time, the score falls
     * back to 0. */
    w.ping_reply = ANSWER_ACK;
    alive(g, "a", 10, 2);
    alive(g, "b", 11, 2);
    alive(g, "c", 12, 2);
    for (uint64_t end = t + 60000; t < end; t += 5) {
        gossip_tick(g, t);
        pump(g, &w, t);
    }
    assert_int_equal(gossip_health_score(g), 0);
    gossip_free(g);
}

static void nacks_keep_health_when_target_is_down(void **state)
{
    (void)state;
    struct gossip_config c;
    cfg_of(&c, 10);
    c.suspicion_mult = 60;
    struct world w;
    struct gossip *g = start_abc(&c, &w);
    w.ping_reply = ANSWER_ACK;
    snprintf(w.silent, sizeof w.silent, "a");
    w.ping_req_reply = ANSWER_NACK; /* helpers are reachable and say: the target did not answer */
    uint32_t worst = 0;
    for (uint64_t t = 0; t < 20000; t += 5) {
        gossip_tick(g, t);
        if (gossip_health_score(g) > worst) /* sampled before the next ack pulls it down */
            worst = gossip_health_score(g);
        pump(g, &w, t);
        if (gossip_health_score(g) > worst)
            worst = gossip_health_score(g);
    }
    assert_true(w.n_ping_reqs > 0);
    assert_int_equal(worst, 0);
    assert_int_equal(gossip_member_find(g, "a")->state, GOSSIP_STATE_SUSPECT);
    assert_int_equal(gossip_health_score(g), 0);
    gossip_free(g);
}

static void refuting_raises_health(void **state)
{
    (void)state;
    struct gossip_config c;
    cfg_of(&c, 11);
    struct gossip *g = gossip_new(&c, 0);
    uint64_t inc = gossip_incarnation(g);
    suspect(g, "self", inc, "a");
    assert_true(gossip_incarnation(g) > inc);
    assert_int_equal(gossip_health_score(g), 1);
    assert_int_equal(gossip_member_find(g, "self")->state, GOSSIP_STATE_ALIVE);
    dead(g, "self", gossip_incarnation(g) + 5, "a");
    assert_true(gossip_incarnation(g) > inc + 5);
    assert_int_equal(gossip_member_find(g, "self")->state, GOSSIP_STATE_ALIVE);
    gossip_free(g);
}

static size_t find_alive(const struct world *w, size_t from, size_t to, const char *name)
{
    for (size_t i = from; i < to; i++)
        if (strcmp(w->alive_seen[i], name) == 0)
            return i;
    return SIZE_MAX;
}

static void broadcast_queue_order_and_retransmit_limit(void **state)
{
    (void)state;
    struct gossip_config c;
    cfg_of(&c, 13);
    c.probe_interval_ms = 1000000; /* keep probes (and their piggyback) out of the way */
    c.probe_timeout_ms = 1;
    struct world w;
    struct gossip *g = start_abc(&c, &w);
    w.ping_reply = ANSWER_ACK;
    alive(g, "a", 10, 2); /* replaces a's queued update: only incarnation 2 may ever be sent */
    gossip_tick(g, 0);
    pump(g, &w, 0);
    uint64_t t = 0;
    while (w.n_packet_marks == 0 && t < 1000) {
        t += 5;
        gossip_tick(g, t);
        pump(g, &w, t);
    }
    assert_true(w.n_packet_marks > 0);
    /* First packet: newest first. */
    size_t a = find_alive(&w, 0, w.n_alive_seen, "a"), b = find_alive(&w, 0, w.n_alive_seen, "b");
    size_t cc = find_alive(&w, 0, w.n_alive_seen, "c"), s = find_alive(&w, 0, w.n_alive_seen, "self");
    assert_true(a < cc && cc < b && b < s);
    /* A new update overtakes the ones already sent once. */
    size_t mark = w.n_alive_seen;
    alive(g, "d", 13, 1);
    size_t packets_before = w.n_packet_marks;
    while (w.n_packet_marks == packets_before && t < 2000) {
        t += 5;
        gossip_tick(g, t);
        pump(g, &w, t);
    }
    assert_string_equal(w.alive_seen[mark], "d");
    /* Drain: each update is sent exactly retransmit_mult * ceil(log10(n + 1)) times. */
    for (; t < 20000; t += 5) {
        gossip_tick(g, t);
        pump(g, &w, t);
    }
    size_t limit = c.retransmit_mult * 1; /* 5 members: ceil(log10(6)) = 1 */
    const char *names[] = {"a", "b", "c", "d", "self"};
    for (size_t k = 0; k < 5; k++) {
        size_t count = 0;
        for (size_t i = 0; i < w.n_alive_seen; i++)
            if (strcmp(w.alive_seen[i], names[k]) == 0) {
                count++;
                if (k == 0)
                    assert_int_equal(w.alive_inc[i], 2);
            }
        assert_int_equal(count, limit);
    }
    gossip_free(g);
}

static size_t odd_size(const struct gossip_msg *m)
{
    return gossip_msg_size_bound(m) + 17; /* a wire codec with fatter framing */
}

static void packets_never_exceed_udp_max(void **state)
{
    (void)state;
    /* 0: the core's own bound; 1: a codec with fatter framing; 2: the real wire codec, with every
     * datagram actually encoded and measured. */
    for (int variant = 0; variant < 3; variant++) {
        struct gossip_config c;
        cfg_of(&c, 17 + (uint64_t)variant);
        c.udp_max = 600;
        c.packet_overhead = 40;
        if (variant == 1)
            c.msg_size = odd_size;
        if (variant == 2) {
            c.msg_size = gossip_wire_msg_size;
            c.packet_overhead = GOSSIP_WIRE_DGRAM_HDR;
        }
        struct gossip *g = gossip_new(&c, 0);
        struct world w;
        world_init(&w, &c);
        w.size = c.msg_size ? c.msg_size : gossip_msg_size_bound;
        w.encode = variant == 2;
        w.ping_reply = ANSWER_ACK;
        char name[GOSSIP_NAME_MAX];
        for (int i = 0; i < 80; i++) {
            snprintf(name, sizeof name, "a-rather-long-member-name-to-fill-datagrams-%04d", i);
            alive(g, name, 10 + i, 1);
        }
        for (uint64_t t = 0; t < 30000; t += 5) {
            gossip_tick(g, t);
            pump(g, &w, t);
        }
        assert_true(w.udp_packets > 100);
        assert_int_equal(w.oversize, 0);
        assert_true(w.max_msgs >= 3); /* compound packets were used */
        assert_int_equal(w.encode_errors, 0);
        if (w.encode)
            assert_true(w.max_encoded > c.udp_max - 100); /* and they were filled */
        /* Nothing starved: all 81 updates went out the full number of times (limit 8 at 81). */
        for (int i = 0; i < 80; i += 7) {
            snprintf(name, sizeof name, "a-rather-long-member-name-to-fill-datagrams-%04d", i);
            size_t count = 0;
            for (size_t k = 0; k < w.n_alive_seen; k++)
                count += strcmp(w.alive_seen[k], name) == 0;
            if (w.n_alive_seen < 4096)
                assert_int_equal(count, c.retransmit_mult * 2);
        }
        gossip_free(g);
    }
}

static size_t refuses_bad(const struct gossip_msg *m)
{
    if (m->type == GOSSIP_MSG_ALIVE && strcmp(m->u.alive.node, "bad") == 0)
        return 0; /* the codec's way of saying "cannot encode this" */
    return gossip_msg_size_bound(m);
}

/* An update the codec cannot encode is dropped alone instead of sinking every datagram it rides. */
static void unencodable_update_is_dropped(void **state)
{
    (void)state;
    struct gossip_config c;
    cfg_of(&c, 41);
    c.msg_size = refuses_bad;
    struct gossip *g = gossip_new(&c, 0);
    struct world w;
    world_init(&w, &c);
    w.size = refuses_bad;
    w.ping_reply = ANSWER_ACK;
    alive(g, "bad", 10, 1);
    alive(g, "good", 11, 1);
    for (uint64_t t = 0; t < 5000; t += 5) {
        gossip_tick(g, t);
        pump(g, &w, t);
    }
    assert_true(find_alive(&w, 0, w.n_alive_seen, "good") != SIZE_MAX);
    assert_true(find_alive(&w, 0, w.n_alive_seen, "bad") == SIZE_MAX);
    struct gossip_stats st;
    gossip_stats(g, &st);
    assert_int_equal(st.queue_depth, 0);
    gossip_free(g);
}

/* What one call of gossip_ready handed out: UDP messages of a type about a node, optionally only
 * those to one address and from one accuser. Pings are acked, so probes never fail. */
struct outbox {
    size_t n;         /* matching messages */
    size_t in_crowd;  /* of those, how many shared their datagram with other messages */
    uint64_t inc;     /* incarnation of the last match */
    size_t alone_to[256]; /* matches that travelled alone, by the last byte of the address */
};

static struct outbox drain(struct gossip *g, uint8_t type, const char *about, int to_ip, const char *from)
{
    struct outbox o = {0};
    struct gossip_ready rd;
    struct gossip_msg acks[64];
    size_t n_acks = 0;
    if (!gossip_ready(g, &rd))
        return o;
    for (size_t k = 0; k < rd.n_packets; k++) {
        const struct gossip_packet *p = &rd.packets[k];
        if (p->transport != GOSSIP_UDP)
            continue;
        for (uint32_t i = 0; i < p->n_msgs; i++) {
            const struct gossip_msg *m = &p->msgs[i];
            if (m->type == GOSSIP_MSG_PING && n_acks < 64)
                acks[n_acks++] = (struct gossip_msg){.type = GOSSIP_MSG_ACK, .u.ack.seq = m->u.ping.seq};
            if (m->type != type || (to_ip >= 0 && p->peer.ip[3] != to_ip))
                continue;
            const char *node = type == GOSSIP_MSG_SUSPECT ? m->u.suspect.node
                               : type == GOSSIP_MSG_ALIVE ? m->u.alive.node
                                                          : m->u.dead.node;
            const char *by = type == GOSSIP_MSG_SUSPECT ? m->u.suspect.from
                             : type == GOSSIP_MSG_DEAD  ? m->u.dead.from
                                                        : NULL;
            if (strcmp(node, about) != 0 || (from && (!by || strcmp(by, from) != 0)))
                continue;
            o.n++;
            o.in_crowd += p->n_msgs > 1;
            o.alone_to[p->peer.ip[3]] += p->n_msgs == 1;
            o.inc = type == GOSSIP_MSG_SUSPECT ? m->u.suspect.incarnation
                    : type == GOSSIP_MSG_ALIVE ? m->u.alive.incarnation
                                               : m->u.dead.incarnation;
        }
    }
    gossip_advance(g);
    for (size_t i = 0; i < n_acks; i++)
        recv1(g, &acks[i]);
    return o;
}

/* A member holding a suspicion sends it to the suspect itself one probe interval before the
 * deadline, once and on its own: a refutation that gossip never brought it (sim_gossip seeds
 * 4057, 4757, 6122, 13297: one member missed every one of hundreds of gossiped copies) then comes
 * straight from the suspect. Unanswered, the verdict comes exactly when it would have. */
static void suspicion_asks_the_suspect_before_the_deadline(void **state)
{
    (void)state;
    for (int answer = 0; answer < 2; answer++) {
        struct gossip_config c;
        cfg_of(&c, 31);
        struct gossip *g = gossip_new(&c, 0);
        char name[16];
        for (int i = 0; i < 10; i++) {
            snprintf(name, sizeof name, "m%d", i);
            alive(g, name, 10 + i, 1);
        }
        (void)drain(g, GOSSIP_MSG_SUSPECT, "m0", -1, NULL);
        suspect(g, "m0", 1, "m1");
        suspect(g, "m0", 1, "m2");
        suspect(g, "m0", 1, "m3"); /* k = 2 confirmations: the deadline is min = 4 * log10(11) s */
        uint64_t min = 4 * 1000 * 1041 / 1000;
        uint64_t asked_at = UINT64_MAX, failed_at = UINT64_MAX, last_ask = 0;
        size_t asks = 0;
        for (uint64_t t = 0; t < 6 * min + 1000 && failed_at == UINT64_MAX; t += 5) {
            gossip_tick(g, t);
            /* The ask travels alone, no other member's updates spent on it; our own probe of the
             * suspect carries the suspicion too, but next to its ping. */
            struct outbox o = drain(g, GOSSIP_MSG_SUSPECT, "m0", 10, "self");
            if (o.n > o.in_crowd) {
                assert_int_equal(o.inc, 1);
                asks += o.n - o.in_crowd;
                last_ask = t;
                if (asked_at == UINT64_MAX)
                    asked_at = t;
                if (answer)
                    alive(g, "m0", 10, 2); /* m0 refuted long ago: it answers with what it has */
            }
            if (gossip_member_find(g, "m0")->state == GOSSIP_STATE_DEAD)
                failed_at = t;
        }
        /* Answered: one ask. Unanswered: three, a third of an interval apart, the last in time. */
        assert_int_equal(asks, answer ? 1 : 3);
        assert_true(asked_at >= min - c.probe_interval_ms && asked_at <= min - c.probe_interval_ms + 10);
        if (!answer)
            assert_true(last_ask >= min - c.probe_interval_ms / 3 - 5 && last_ask < min);
        if (answer) {
            assert_int_equal(failed_at, UINT64_MAX);
            assert_int_equal(gossip_member_find(g, "m0")->state, GOSSIP_STATE_ALIVE);
            assert_int_equal(gossip_member_find(g, "m0")->incarnation, 2);
        } else {
            assert_true(failed_at >= min - 10 && failed_at <= min + 20); /* detection is not slowed */
        }
        gossip_free(g);
    }
    /* A lone accuser: the deadline is max, and the ask moves with it. */
    struct gossip_config c;
    cfg_of(&c, 32);
    struct gossip *g = gossip_new(&c, 0);
    char name[16];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "m%d", i);
        alive(g, name, 10 + i, 1);
    }
    suspect(g, "m0", 1, "m1");
    uint64_t max = 6 * (4 * 1000 * 1041 / 1000), asked_at = UINT64_MAX;
    for (uint64_t t = 0; t < max && asked_at == UINT64_MAX; t += 5) {
        gossip_tick(g, t);
        struct outbox o = drain(g, GOSSIP_MSG_SUSPECT, "m0", 10, "self");
        if (o.n > o.in_crowd)
            asked_at = t;
    }
    assert_true(asked_at >= max - c.probe_interval_ms - 10 && asked_at <= max - c.probe_interval_ms + 10);
    gossip_free(g);
}

/* Counts our own alive in everything sent for ms, ticking every 5 ms from *t. */
static size_t alive_copies(struct gossip *g, uint64_t *t, uint64_t ms)
{
    size_t n = 0;
    for (uint64_t end = *t + ms; *t < end; *t += 5) {
        gossip_tick(g, *t);
        n += drain(g, GOSSIP_MSG_ALIVE, "self", -1, NULL).n;
    }
    return n;
}

/* True when the only thing sent since the last tick is our alive, alone, to address ip. */
static bool answered_at_once(struct gossip *g, int ip)
{
    struct outbox o = drain(g, GOSSIP_MSG_ALIVE, "self", -1, NULL);
    return o.n == 1 && o.alone_to[ip] == 1;
}

/* News about us older than our refutation (a suspect or a dead at a refuted incarnation) means its
 * author, and maybe others, missed the refutation: the author hears our alive at once, and the
 * refutation is gossiped again with a fresh retransmit budget. No new incarnation is needed. */
static void stale_accusation_is_answered_and_refutation_respread(void **state)
{
    (void)state;
    struct gossip_config c;
    cfg_of(&c, 33);
    struct gossip *g = gossip_new(&c, 0);
    char name[16];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "m%d", i);
        alive(g, name, 10 + i, 1);
    }
    uint64_t t = 0;
    (void)alive_copies(g, &t, 20000); /* our join announcement runs its course */
    suspect(g, "self", 1, "m1");
    assert_int_equal(gossip_incarnation(g), 2);
    assert_true(answered_at_once(g, 11)); /* straight to the accuser m1 */
    size_t limit = c.retransmit_mult * 2;  /* 11 members: ceil(log10(12)) = 2 */
    assert_int_equal(alive_copies(g, &t, 20000), limit);
    assert_int_equal(alive_copies(g, &t, 5000), 0);

    /* m4 still suspects incarnation 1. */
    suspect(g, "self", 1, "m4");
    assert_int_equal(gossip_incarnation(g), 2);
    assert_true(answered_at_once(g, 14));
    assert_int_equal(alive_copies(g, &t, 20000), limit);

    /* m6 declared us dead at incarnation 1. */
    dead(g, "self", 1, "m6");
    assert_int_equal(gossip_incarnation(g), 2);
    assert_int_equal(gossip_member_find(g, "self")->state, GOSSIP_STATE_ALIVE);
    assert_true(answered_at_once(g, 16));
    assert_int_equal(alive_copies(g, &t, 20000), limit);

    /* Leaving: no alive about us may go out any more, whatever stale news arrives. */
    assert_int_equal(gossip_leave(g), 0);
    suspect(g, "self", 1, "m7");
    dead(g, "self", 1, "m8");
    assert_int_equal(alive_copies(g, &t, 20000), 0);
    gossip_free(g);
}

static void incarnation_rules(void **state)
{
    (void)state;
    struct gossip_config c;
    cfg_of(&c, 19);
    struct gossip *g = gossip_new(&c, 0);
    struct world w;
    world_init(&w, &c);
    alive(g, "a", 10, 5);
    pump(g, &w, 0);
    assert_int_equal(w.events[GOSSIP_EV_JOIN], 1);
    suspect(g, "a", 4, "b"); /* stale */
    assert_int_equal(gossip_member_find(g, "a")->state, GOSSIP_STATE_ALIVE);
    suspect(g, "a", 5, "b");
    assert_int_equal(gossip_member_find(g, "a")->state, GOSSIP_STATE_SUSPECT);
    alive(g, "a", 5, 5); /* same incarnation does not refute */
    assert_int_equal(gossip_member_find(g, "a")->state, GOSSIP_STATE_SUSPECT);
    alive(g, "a", 10, 6);
    assert_int_equal(gossip_member_find(g, "a")->state, GOSSIP_STATE_ALIVE);
    dead(g, "a", 6, "b");
    pump(g, &w, 0);
    assert_int_equal(gossip_member_find(g, "a")->state, GOSSIP_STATE_DEAD);
    assert_int_equal(w.events[GOSSIP_EV_FAILED], 1);
    alive(g, "a", 10, 6); /* a failed member needs a higher incarnation to come back */
    assert_int_equal(gossip_member_find(g, "a")->state, GOSSIP_STATE_DEAD);
    alive(g, "a", 10, 7);
    pump(g, &w, 0);
    assert_int_equal(gossip_member_find(g, "a")->state, GOSSIP_STATE_ALIVE);
    assert_int_equal(w.events[GOSSIP_EV_JOIN], 2);
    struct gossip_stats st;
    gossip_stats(g, &st);
    assert_int_equal(st.flaps, 1); /* failed and back at once */
    assert_int_equal(st.failures, 1);
    assert_int_equal(st.suspects, 1);
    assert_int_equal(st.members, 2);
    assert_int_equal(st.alive, 2);
    dead(g, "a", 7, "a"); /* its own leave */
    pump(g, &w, 0);
    assert_int_equal(gossip_member_find(g, "a")->state, GOSSIP_STATE_LEFT);
    assert_int_equal(w.events[GOSSIP_EV_LEAVE], 1);
    gossip_free(g);
}

static void dead_name_reclaim(void **state)
{
    (void)state;
    for (int reclaim = 0; reclaim < 2; reclaim++) {
        struct gossip_config c;
        cfg_of(&c, 23);
        c.dead_reclaim_ms = reclaim ? 10000 : 0;
        struct gossip *g = gossip_new(&c, 0);
        struct world w;
        world_init(&w, &c);
        alive(g, "a", 10, 3);
        alive(g, "a", 20, 9); /* live name, other address: refused */
        assert_int_equal(gossip_member_find(g, "a")->addr.ip[3], 10);
        dead(g, "a", 3, "b");
        gossip_tick(g, 20000);
        pump(g, &w, 20000);
        assert_int_equal(w.events[GOSSIP_EV_CONFLICT], 1);
        alive(g, "a", 20, 1); /* a new process at a new address */
        pump(g, &w, 20000);
        const struct gossip_member *m = gossip_member_find(g, "a");
        if (reclaim) {
            assert_int_equal(m->state, GOSSIP_STATE_ALIVE);
            assert_int_equal(m->addr.ip[3], 20);
            assert_int_equal(w.events[GOSSIP_EV_CONFLICT], 1);
        } else {
            assert_int_equal(m->state, GOSSIP_STATE_DEAD);
            assert_int_equal(m->addr.ip[3], 10);
            assert_int_equal(w.events[GOSSIP_EV_CONFLICT], 2);
        }
        gossip_free(g);
    }
}

static void hostile_input_is_ignored(void **state)
{
    (void)state;
    struct gossip_config c;
    cfg_of(&c, 29);
    struct gossip *g = gossip_new(&c, 0);
    struct gossip_msg m[6];
    memset(m, 'x', sizeof m); /* no NUL anywhere in any name */
    m[0].type = GOSSIP_MSG_ALIVE;
    m[1].type = GOSSIP_MSG_SUSPECT;
    m[2].type = GOSSIP_MSG_DEAD;
    m[3].type = 200;
    m[4].type = GOSSIP_MSG_PUSH_PULL;
    m[4].u.push_pull.n_states = GOSSIP_PUSH_PULL_MAX + 1;
    m[4].u.push_pull.states = NULL;
    m[5].type = GOSSIP_MSG_PING_REQ;
    struct gossip_packet p = {.peer = addr_of(2), .transport = GOSSIP_TCP, .conn = 3, .n_msgs = 6, .msgs = m};
    assert_int_equal(gossip_recv(g, &p), 6);
    struct gossip_packet bad = {.n_msgs = 3, .msgs = NULL};
    assert_int_equal(gossip_recv(g, &bad), 3);
    assert_int_equal(gossip_member_count(g), 1);
    /* An empty name never enters the table. */
    alive(g, "", 10, 1);
    assert_int_equal(gossip_member_count(g), 1);
    /* A push-pull request arriving over UDP cannot be answered on a stream: ignored whole. */
    struct gossip_member st = {.incarnation = 1, .state = GOSSIP_STATE_ALIVE, .addr = addr_of(10)};
    strcpy(st.name, "a");
    struct gossip_msg pp = {.type = GOSSIP_MSG_PUSH_PULL};
    pp.u.push_pull.n_states = 1;
    pp.u.push_pull.states = &st;
    recv1(g, &pp);
    assert_int_equal(gossip_member_count(g), 1);
    gossip_free(g);
}

/* Driven the way the glue drives it: one timer at gossip_next_deadline, nothing else. Every
 * timer must be covered by that deadline, and a tick must leave nothing due (no busy loop). */
static void deadline_driven_ticks(void **state)
{
    (void)state;
    struct gossip_config c;
    cfg_of(&c, 37);
    c.push_pull_interval_ms = 30000;
    c.reconnect_timeout_ms = 120000;
    struct world w;
    struct gossip *g = start_abc(&c, &w);
    w.ping_reply = ANSWER_ACK;
    w.ping_req_reply = ANSWER_NACK;
    snprintf(w.silent, sizeof w.silent, "a");
    uint64_t now = 0;
    size_t ticks = 0;
    while (now < 300000) {
        uint64_t t = gossip_next_deadline(g);
        assert_true(t > now);
        now = t;
        gossip_tick(g, now);
        pump(g, &w, now);
        ticks++;
    }
    /* a failed, then was reaped; b and c stayed alive; the timer fired a bounded number of times:
     * about 5 gossip rounds, 1 probe (plus its timeout) and 1 reap check per second. */
    assert_null(gossip_member_find(g, "a"));
    assert_int_equal(w.events[GOSSIP_EV_FAILED], 1);
    assert_int_equal(w.events[GOSSIP_EV_REAP], 1);
    assert_int_equal(gossip_member_find(g, "b")->state, GOSSIP_STATE_ALIVE);
    assert_int_equal(gossip_member_find(g, "c")->state, GOSSIP_STATE_ALIVE);
    assert_true(ticks > 300 && ticks < 300 * 10);
    assert_true(w.n_pings > 100);
    gossip_free(g);
}

/* A process that stalls mid-probe (no tick for seconds) must, on waking, give the ping-req
 * helpers a full timeout before suspecting, and must not spin on a deadline already past. */
static void stalled_probe_waits_for_helpers(void **state)
{
    (void)state;
    struct gossip_config c;
    cfg_of(&c, 43);
    struct world w;
    struct gossip *g = start_abc(&c, &w);
    w.ping_reply = ANSWER_NONE;
    w.ping_req_reply = ANSWER_NONE;
    uint64_t now = 0;
    while (w.n_pings == 0) {
        now = gossip_next_deadline(g);
        gossip_tick(g, now);
        pump(g, &w, now);
    }
    now += 3000; /* stalled well past the probe's timeout and its whole period */
    gossip_tick(g, now);
    pump(g, &w, now);
    assert_true(w.n_ping_reqs > 0);
    struct gossip_stats st;
    gossip_stats(g, &st);
    assert_int_equal(st.suspects, 0);
    uint64_t next = gossip_next_deadline(g);
    assert_true(next > now);
    /* An ack relayed by a helper in that window saves the target. */
    struct gossip_msg ack = {.type = GOSSIP_MSG_ACK};
    ack.u.ack.seq = 0;
    for (uint32_t seq = 1; seq < 8; seq++) { /* whatever seq the probe used */
        ack.u.ack.seq = seq;
        recv1(g, &ack);
    }
    for (uint64_t end = now + 400; now < end;) {
        now = gossip_next_deadline(g) < end ? gossip_next_deadline(g) : end;
        gossip_tick(g, now);
        pump(g, &w, now);
    }
    gossip_stats(g, &st);
    assert_int_equal(st.suspects, 0);
    assert_int_equal(st.probes_failed, 0);
    gossip_free(g);
}

/* Everyone answers pings but "a", whose host refuses our UDP pings (and TCP ones if tcp);
 * helpers answer ping-reqs with reply. */
static void member_a_refuses(struct world *w, bool tcp, int reply)
{
    w->ping_reply = ANSWER_ACK;
    snprintf(w->silent, sizeof w->silent, "a");
    snprintf(w->refuse, sizeof w->refuse, "a");
    w->refuse_tcp = tcp;
    w->ping_req_reply = reply;
}

/* Runs until `name` is suspect (or `limit` ms); the time, or UINT64_MAX. */
static uint64_t run_until_suspect(struct gossip *g, struct world *w, uint64_t limit, const char *name)
{
    for (uint64_t t = 0; t < limit; t += 5) {
        gossip_tick(g, t);
        pump(g, w, t);
        if (gossip_member_find(g, name)->state == GOSSIP_STATE_SUSPECT)
            return t;
    }
    return UINT64_MAX;
}

/* A crashed agent on a live host: its host refuses the ping and the TCP fallback, and every
 * helper nacks. Nothing can answer any more, so the probe ends in suspicion right away instead
 * of at the end of the period, and the prober's health is untouched. Refused UDP alone (TCP
 * silently dropped, as a firewall might) is not enough: the period runs out as before. */
static void refused_probe_ends_early_only_when_every_check_refused(void **state)
{
    (void)state;
    for (int tcp = 0; tcp < 2; tcp++) {
        struct gossip_config c;
        cfg_of(&c, 47);
        c.suspicion_mult = 60; /* suspect, not dead, for the whole test */
        struct world w;
        struct gossip *g = start_abc(&c, &w);
        member_a_refuses(&w, tcp, ANSWER_NACK);
        uint64_t at = run_until_suspect(g, &w, 10000, "a");
        assert_true(at != UINT64_MAX);
        uint64_t waited = at - w.refuse_ping_at;
        struct gossip_stats st;
        gossip_stats(g, &st);
        if (tcp) {
            assert_true(waited < c.probe_timeout_ms); /* one or two pump steps, no timer */
            assert_int_equal(st.probes_refused, 1);
        } else {
            assert_true(waited >= c.probe_interval_ms);
            assert_int_equal(st.probes_refused, 0);
        }
        assert_true(st.refusals >= 1);
        /* The ping-req went out at the refusal, not a probe timeout later. */
        assert_true(w.n_ping_reqs > 0 && w.ping_req_times[0] - w.refuse_ping_at < c.probe_timeout_ms);
        assert_int_equal(gossip_health_score(g), 0);
        gossip_free(g);
    }
}

/* Two agents gone at once, the target and one of the helpers asked about it: the helper's host
 * refuses the ping-req, so its nack is not waited for and its silence is not held against the
 * prober's health. */
static void refused_helper_is_not_waited_for(void **state)
{
    (void)state;
    struct gossip_config c;
    cfg_of(&c, 61);
    c.suspicion_mult = 60;
    struct world w;
    struct gossip *g = start_abc(&c, &w);
    alive(g, "d", 13, 1);
    member_a_refuses(&w, true, ANSWER_NACK);
    w.dead_helper = 12; /* c */
    uint64_t at = run_until_suspect(g, &w, 20000, "a");
    assert_true(at != UINT64_MAX);
    struct gossip_stats st;
    gossip_stats(g, &st);
    assert_true(at - w.refuse_ping_at < c.probe_timeout_ms);
    assert_int_equal(st.probes_refused, 1);
    assert_int_equal(gossip_health_score(g), 0);
    gossip_free(g);
}

/* A refusal about a live member (a stale ICMP, a REJECT rule on one path) only hurries the
 * ping-req; the helpers' acks keep the member alive. A refusal about an address nobody probes
 * changes nothing. */
static void refusal_about_a_live_member_is_harmless(void **state)
{
    (void)state;
    struct gossip_config c;
    cfg_of(&c, 53);
    struct world w;
    struct gossip *g = start_abc(&c, &w);
    member_a_refuses(&w, true, ANSWER_ACK);
    struct gossip_addr stranger = addr_of(99);
    gossip_refused(g, &stranger, GOSSIP_UDP);
    gossip_refused(g, NULL, GOSSIP_UDP);
    gossip_refused(g, &stranger, 77);
    for (uint64_t t = 0; t < 30000; t += 5) {
        gossip_tick(g, t);
        pump(g, &w, t);
    }
    struct gossip_stats st;
    gossip_stats(g, &st);
    assert_true(st.refusals > 0 && w.n_ping_reqs > 0);
    assert_int_equal(st.suspects, 0);
    assert_int_equal(st.probes_failed, 0);
    assert_int_equal(gossip_member_find(g, "a")->state, GOSSIP_STATE_ALIVE);
    gossip_free(g);
}

/* The helper side: asked to ping a member whose host then refuses, we nack at once (once), not
 * at the end of our probe timeout. */
static void helper_nacks_at_once_on_refusal(void **state)
{
    (void)state;
    struct gossip_config c;
    cfg_of(&c, 59);
    c.probe_interval_ms = 1000000; /* no probes of our own */
    struct gossip *g = gossip_new(&c, 0);
    alive(g, "a", 10, 1);
    alive(g, "b", 11, 1);
    struct gossip_ready rd;
    if (gossip_ready(g, &rd))
        gossip_advance(g);
    struct gossip_msg req = {.type = GOSSIP_MSG_PING_REQ};
    req.u.ping_req.seq = 4242;
    snprintf(req.u.ping_req.node, GOSSIP_NAME_MAX, "a");
    snprintf(req.u.ping_req.source, GOSSIP_NAME_MAX, "b");
    req.u.ping_req.addr = addr_of(10);
    req.u.ping_req.nack = true;
    struct gossip_packet p = {.peer = addr_of(11), .transport = GOSSIP_UDP, .n_msgs = 1, .msgs = &req};
    gossip_recv(g, &p);
    int nacks = 0;
    for (uint64_t t = 0; t <= 2 * c.probe_timeout_ms; t += 5) {
        gossip_tick(g, t);
        if (t == 10) {
            struct gossip_addr a = addr_of(10);
            gossip_refused(g, &a, GOSSIP_UDP);
        }
        if (!gossip_ready(g, &rd))
            continue;
        for (size_t k = 0; k < rd.n_packets; k++)
            for (uint32_t i = 0; i < rd.packets[k].n_msgs; i++)
                if (rd.packets[k].msgs[i].type == GOSSIP_MSG_NACK) {
                    assert_int_equal(rd.packets[k].msgs[i].u.nack.seq, 4242);
                    assert_true(gossip_addr_equal_for_test(&rd.packets[k].peer, 11));
                    assert_true(t < c.probe_timeout_ms);
                    nacks++;
                }
        gossip_advance(g);
    }
    assert_int_equal(nacks, 1);
    gossip_free(g);
}

/* We hold an old suspicion (incarnation 1, a lone accuser, so a long deadline) and missed the
 * member's refutation; later it is accused again at incarnation 2, by two others. That is a new
 * suspicion, not two confirmations of the old one: the verdict is not due at once. */
static void newer_accusation_restarts_the_suspicion(void **state)
{
    (void)state;
    struct gossip_config c;
    cfg_of(&c, 71);
    struct gossip *g = gossip_new(&c, 0);
    char name[16];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "m%d", i);
        alive(g, name, 10 + i, 1);
    }
    suspect(g, "m0", 1, "m1");
    uint64_t min = 4 * 1000 * 1041 / 1000, t = 0;
    for (; t < 2 * min; t += 5)
        gossip_tick(g, t); /* past min, far from max: still suspect */
    assert_int_equal(gossip_member_find(g, "m0")->state, GOSSIP_STATE_SUSPECT);
    gossip_tick(g, t); /* the new accusations arrive at t */
    suspect(g, "m0", 2, "m2");
    suspect(g, "m0", 2, "m3");
    const struct gossip_member *m0 = gossip_member_find(g, "m0");
    assert_int_equal(m0->state, GOSSIP_STATE_SUSPECT);
    assert_int_equal(m0->incarnation, 2);
    /* The new one runs its own course: with one confirmation (m3), it ends before max. */
    uint64_t died = run_until_dead(g, &(struct world){.size = gossip_msg_size_bound, .udp_max = 1400}, t, "m0",
                                   6 * min + 1000);
    assert_true(died != UINT64_MAX && died - t >= min);
    gossip_free(g);
}

static void join_push_pull(struct gossip *g, const char *name, int ip)
{
    struct gossip_member st;
    memset(&st, 0, sizeof st);
    snprintf(st.name, sizeof st.name, "%s", name);
    st.addr = addr_of(ip);
    st.incarnation = 1;
    st.state = GOSSIP_STATE_ALIVE;
    st.tags.role = GOSSIP_ROLE_CLIENT;
    struct gossip_msg m = {.type = GOSSIP_MSG_PUSH_PULL};
    m.u.push_pull.join = true;
    m.u.push_pull.n_states = 1;
    m.u.push_pull.states = &st;
    struct gossip_packet p = {.peer = addr_of(ip), .transport = GOSSIP_TCP, .conn = 5, .n_msgs = 1, .msgs = &m};
    gossip_recv(g, &p);
}

/* Two joins at the same instant (no tick between them, as when the reactor is busy): the
 * member that accepts them announces each joiner at once, the second one to the first too,
 * and never a joiner to itself. Nothing of it leaves the broadcast budget. */
static void join_is_announced_at_once(void **state)
{
    (void)state;
    struct gossip_config c;
    cfg_of(&c, 67);
    struct gossip *g = gossip_new(&c, 0);
    struct gossip_ready rd;
    join_push_pull(g, "a", 10);
    join_push_pull(g, "b", 11);
    assert_true(gossip_ready(g, &rd));
    int b_to_a = 0, to_self = 0;
    for (size_t k = 0; k < rd.n_packets; k++) {
        const struct gossip_packet *p = &rd.packets[k];
        if (p->transport != GOSSIP_UDP)
            continue;
        for (uint32_t i = 0; i < p->n_msgs; i++) {
            if (p->msgs[i].type != GOSSIP_MSG_ALIVE)
                continue;
            const char *who = p->msgs[i].u.alive.node;
            bool to_a = gossip_addr_equal_for_test(&p->peer, 10);
            b_to_a += strcmp(who, "b") == 0 && to_a;
            to_self += (strcmp(who, "a") == 0 && to_a) || (strcmp(who, "b") == 0 && gossip_addr_equal_for_test(&p->peer, 11));
        }
    }
    gossip_advance(g);
    assert_int_equal(b_to_a, 1);
    assert_int_equal(to_self, 0);
    gossip_free(g);
}

static void member_table_is_bounded(void **state)
{
    (void)state;
    struct gossip_config c;
    cfg_of(&c, 31);
    struct gossip *g = gossip_new(&c, 0);
    char name[GOSSIP_NAME_MAX];
    for (int i = 0; i < GOSSIP_PUSH_PULL_MAX + 10; i++) {
        snprintf(name, sizeof name, "flood-%d", i);
        alive(g, name, 10 + i % 200, 1);
        if (i % 512 == 0)
            gossip_advance(g);
    }
    assert_int_equal(gossip_member_count(g), GOSSIP_PUSH_PULL_MAX);
    assert_non_null(gossip_member_find(g, "self"));
    gossip_free(g);
}

static void config_is_checked(void **state)
{
    (void)state;
    struct gossip_config c;
    char err[128];
    cfg_of(&c, 1);
    assert_int_equal(gossip_config_check(&c, err, sizeof err), 0);
    c.probe_timeout_ms = c.probe_interval_ms;
    assert_int_equal(gossip_config_check(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "probe timeout"));
    assert_null(gossip_new(&c, 0));
    cfg_of(&c, 1);
    c.name[0] = 0;
    assert_int_equal(gossip_config_check(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "node name"));
    cfg_of(&c, 1);
    c.udp_max = 100;
    assert_int_equal(gossip_config_check(&c, err, sizeof err), -1);
    cfg_of(&c, 1);
    c.tags.role = 0;
    assert_int_equal(gossip_config_check(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "role"));
    cfg_of(&c, 1);
    struct gossip *g = gossip_new(&c, 0);
    struct gossip_tags bad = c.tags;
    bad.bootstrap = 9;
    assert_int_equal(gossip_set_tags(g, &bad), -1);
    assert_int_equal(gossip_incarnation(g), 1);
    gossip_free(g);
}

/* Same seed, same inputs: byte-identical decisions. A different seed changes the probe order. */
static void deterministic_given_seed(void **state)
{
    (void)state;
    uint64_t sig[3] = {0};
    for (int run = 0; run < 3; run++) {
        struct gossip_config c;
        cfg_of(&c, run < 2 ? 77 : 78);
        struct gossip *g = gossip_new(&c, 0);
        char name[16];
        for (int i = 0; i < 20; i++) {
            snprintf(name, sizeof name, "m%d", i);
            alive(g, name, 10 + i, 1);
        }
        uint64_t h = 1469598103934665603ull;
        for (uint64_t t = 0; t < 20000; t += 5) {
            gossip_tick(g, t);
            struct gossip_ready rd;
            if (gossip_ready(g, &rd))
                for (size_t k = 0; k < rd.n_packets; k++)
                    h = (h ^ rd.packets[k].peer.ip[3] ^ (t << 8) ^ rd.packets[k].n_msgs) * 1099511628211ull;
            gossip_advance(g);
        }
        sig[run] = h;
        gossip_free(g);
    }
    assert_true(sig[0] == sig[1]);
    assert_true(sig[0] != sig[2]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(confirmations_shorten_suspicion),
        cmocka_unit_test(health_rises_on_missed_acks_and_stretches_timeouts),
        cmocka_unit_test(nacks_keep_health_when_target_is_down),
        cmocka_unit_test(refuting_raises_health),
        cmocka_unit_test(broadcast_queue_order_and_retransmit_limit),
        cmocka_unit_test(packets_never_exceed_udp_max),
        cmocka_unit_test(unencodable_update_is_dropped),
        cmocka_unit_test(suspicion_asks_the_suspect_before_the_deadline),
        cmocka_unit_test(stale_accusation_is_answered_and_refutation_respread),
        cmocka_unit_test(incarnation_rules),
        cmocka_unit_test(dead_name_reclaim),
        cmocka_unit_test(hostile_input_is_ignored),
        cmocka_unit_test(deadline_driven_ticks),
        cmocka_unit_test(stalled_probe_waits_for_helpers),
        cmocka_unit_test(refused_probe_ends_early_only_when_every_check_refused),
        cmocka_unit_test(refused_helper_is_not_waited_for),
        cmocka_unit_test(refusal_about_a_live_member_is_harmless),
        cmocka_unit_test(helper_nacks_at_once_on_refusal),
        cmocka_unit_test(join_is_announced_at_once),
        cmocka_unit_test(newer_accusation_restarts_the_suspicion),
        cmocka_unit_test(member_table_is_bounded),
        cmocka_unit_test(config_is_checked),
        cmocka_unit_test(deterministic_given_seed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
