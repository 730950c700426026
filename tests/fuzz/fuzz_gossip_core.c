/* fuzz_gossip_core.c — libFuzzer target for the pure gossip core: input bytes are a script of
 * decoded messages (from a small name pool, so they collide), ticks, joins, leaves, tag changes
 * and refusals.
 * After every step the core's invariants must hold: it never crashes, never forgets itself, never
 * lowers its own incarnation, stays alive unless leaving, never hands out an oversized datagram,
 * and a tick always leaves its next deadline in the future. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/gossip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"self", "a", "b", "c", "d", "e"};
#define N_NAMES (sizeof names / sizeof names[0])

struct script {
    const uint8_t *p;
    size_t n;
    size_t off;
};

static uint8_t next(struct script *s)
{
    return s->off < s->n ? s->p[s->off++] : 0;
}

static struct gossip_addr addr_of(uint8_t b)
{
    struct gossip_addr a = {.family = GOSSIP_AF_INET, .port = 7946};
    a.ip[0] = 10;
    a.ip[3] = (uint8_t)(1 + b % 8); /* few addresses: name/address conflicts happen */
    if (b & 0x80)
        a.family = b & 0x40 ? GOSSIP_AF_INET6 : 0; /* and an invalid family now and then */
    return a;
}

static void name_into(struct script *s, char *dst)
{
    uint8_t b = next(s);
    if (b == 0xff) {
        memset(dst, 'z', GOSSIP_NAME_MAX); /* unterminated */
        return;
    }
    memcpy(dst, names[b % N_NAMES], strlen(names[b % N_NAMES]) + 1);
}

static void tags_into(struct script *s, struct gossip_tags *t)
{
    uint8_t b = next(s);
    memset(t, 0, sizeof *t);
    t->role = (uint8_t)(b & 3);
    t->bootstrap = (uint8_t)((b >> 2) & 3);
    t->rpc_port = (uint16_t)(next(s) * 100);
    memcpy(t->dc, "dc1", 4);
}

static void check(struct gossip *g, uint64_t *inc, bool leaving, uint32_t udp_max)
{
    const struct gossip_member *me = gossip_member_find(g, "self");
    if (!me || me->incarnation < *inc)
        abort();
    *inc = me->incarnation;
    if (!leaving && me->state != GOSSIP_STATE_ALIVE)
        abort();
    if (gossip_member_count(g) > N_NAMES)
        abort();
    for (size_t i = 0; i < gossip_member_count(g); i++) {
        uint8_t st = gossip_member_at(g, i)->state;
        if (st < GOSSIP_STATE_ALIVE || st > GOSSIP_STATE_LEFT)
            abort();
    }
    if (gossip_health_score(g) >= 8)
        abort();
    struct gossip_ready rd;
    if (gossip_ready(g, &rd)) {
        for (size_t k = 0; k < rd.n_packets; k++) {
            const struct gossip_packet *p = &rd.packets[k];
            if (p->transport != GOSSIP_UDP)
                continue;
            size_t sz = 16;
            for (uint32_t m = 0; m < p->n_msgs; m++)
                sz += gossip_msg_size_bound(&p->msgs[m]);
            if (sz > udp_max)
                abort();
        }
        gossip_advance(g);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gossip_config c;
    memset(&c, 0, sizeof c);
    gossip_config_default(&c);
    memcpy(c.name, "self", 5);
    c.addr = addr_of(0);
    c.tags.role = GOSSIP_ROLE_CLIENT;
    c.seed = size;
    c.udp_max = 512;
    c.reconnect_timeout_ms = 60000;
    c.tombstone_timeout_ms = 30000;
    struct gossip *g = gossip_new(&c, 0);
    if (!g)
        abort();
    struct script s = {.p = data, .n = size};
    uint64_t now = 0, inc = 1;
    bool leaving = false;
    struct gossip_member states[8];
    while (s.off < s.n) {
        struct gossip_msg m;
        memset(&m, 0, sizeof m);
        struct gossip_packet p = {.peer = addr_of(next(&s)), .transport = GOSSIP_UDP, .n_msgs = 1, .msgs = &m};
        uint8_t op = next(&s);
        switch (op % 16) {
        case 0:
            now += (uint64_t)next(&s) * 50;
            gossip_tick(g, now);
            if (gossip_next_deadline(g) <= now) /* a tick leaves nothing due: no timer spin */
                abort();
            break;
        case 1:
            m.type = GOSSIP_MSG_ALIVE;
            name_into(&s, m.u.alive.node);
            m.u.alive.incarnation = next(&s);
            m.u.alive.addr = addr_of(next(&s));
            tags_into(&s, &m.u.alive.tags);
            gossip_recv(g, &p);
            break;
        case 2:
            m.type = GOSSIP_MSG_SUSPECT;
            name_into(&s, m.u.suspect.node);
            name_into(&s, m.u.suspect.from);
            m.u.suspect.incarnation = next(&s);
            gossip_recv(g, &p);
            break;
        case 3:
            m.type = GOSSIP_MSG_DEAD;
            name_into(&s, m.u.dead.node);
            name_into(&s, m.u.dead.from);
            m.u.dead.incarnation = next(&s);
            gossip_recv(g, &p);
            break;
        case 4:
            m.type = GOSSIP_MSG_PING;
            m.u.ping.seq = next(&s);
            name_into(&s, m.u.ping.node);
            p.transport = op & 0x10 ? GOSSIP_TCP : GOSSIP_UDP;
            p.conn = p.transport == GOSSIP_TCP ? 7 : 0;
            gossip_recv(g, &p);
            break;
        case 5:
        case 6:
            m.type = op % 16 == 5 ? GOSSIP_MSG_ACK : GOSSIP_MSG_NACK;
            m.u.ack.seq = next(&s);
            gossip_recv(g, &p);
            break;
        case 7:
            m.type = GOSSIP_MSG_PING_REQ;
            m.u.ping_req.seq = next(&s);
            name_into(&s, m.u.ping_req.node);
            m.u.ping_req.addr = addr_of(next(&s));
            m.u.ping_req.nack = next(&s) & 1;
            gossip_recv(g, &p);
            break;
        case 8: {
            uint8_t n = next(&s) % 9;
            for (uint8_t i = 0; i < n && i < 8; i++) {
                memset(&states[i], 0, sizeof states[i]);
                name_into(&s, states[i].name);
                states[i].addr = addr_of(next(&s));
                states[i].incarnation = next(&s);
                states[i].state = next(&s) % 6;
                tags_into(&s, &states[i].tags);
            }
            m.type = GOSSIP_MSG_PUSH_PULL;
            m.u.push_pull.join = op & 0x10;
            m.u.push_pull.reply = op & 0x20;
            m.u.push_pull.n_states = n > 8 ? 8 : n;
            m.u.push_pull.states = states;
            p.transport = GOSSIP_TCP;
            p.conn = 9;
            gossip_recv(g, &p);
            break;
        }
        case 9: {
            struct gossip_addr a = addr_of(next(&s));
            gossip_join(g, &a, 1);
            break;
        }
        case 10:
            if (gossip_leave(g) == 0)
                leaving = true;
            break;
        case 11: {
            struct gossip_tags t;
            tags_into(&s, &t);
            gossip_set_tags(g, &t);
            break;
        }
        case 12: {
            char n[GOSSIP_NAME_MAX];
            name_into(&s, n);
            if (memchr(n, 0, sizeof n))
                gossip_force_leave(g, n);
            break;
        }
        case 13:
            m.type = GOSSIP_MSG_ERR;
            memset(m.u.err.text, 'e', sizeof m.u.err.text); /* unterminated on purpose */
            gossip_recv(g, &p);
            break;
        case 14: { /* a host's "nothing listens here", about any address, by any transport */
            struct gossip_addr a = addr_of(next(&s));
            gossip_refused(g, &a, (uint8_t)(next(&s) % 4));
            break;
        }
        default:
            m.type = next(&s); /* any type byte, any body */
            gossip_recv(g, &p);
            break;
        }
        check(g, &inc, leaving, c.udp_max);
    }
    gossip_free(g);
    return 0;
}
