/* test_gossip_wire.c — unit tests for src/gossip/wire: round trips of every message, compound
 * sizing against the size function, stream framing, and refusal of every kind of bad packet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/crc32c.h"
#include "gossip/wire.h"

/* ---- fixtures ---- */

static struct gossip_addr addr4(uint8_t last, uint16_t port)
{
    struct gossip_addr a = {.family = GOSSIP_AF_INET, .port = port};
    a.ip[0] = 10;
    a.ip[3] = last;
    return a;
}

static struct gossip_addr addr6(void)
{
    struct gossip_addr a = {.family = GOSSIP_AF_INET6, .port = 8301};
    for (int i = 0; i < 16; i++)
        a.ip[i] = (uint8_t)(0xf0 + i);
    return a;
}

static struct gossip_tags tagsServer(void)
{
    struct gossip_tags t = {.role = GOSSIP_ROLE_SERVER, .rpc_port = 8300, .raft_id = 0x1122334455667788ull,
                            .bootstrap = GOSSIP_BOOTSTRAP_EXPECT, .expect = 3, .proto_min = 1,
                            .proto_max = 2, .proto_cur = 2, .raft_vsn = 1,
                            .cluster_id = 0x5eedc0ffee123456ULL};
    strcpy(t.dc, "dc1");
    strcpy(t.build, "0.1.0");
    return t;
}

static struct gossip_member member(int i)
{
    struct gossip_member m = {0};
    snprintf(m.name, sizeof m.name, "node-%d", i);
    m.addr = i % 2 ? addr4((uint8_t)i, 8301) : addr6();
    m.incarnation = 1000 + (uint64_t)i;
    m.state = (uint8_t)(GOSSIP_STATE_ALIVE + i % 4);
    m.tags = tagsServer();
    m.tags.role = i % 3 ? GOSSIP_ROLE_CLIENT : GOSSIP_ROLE_SERVER;
    return m;
}

/* One valid message of each datagram type, each field set to something distinctive. */
static size_t allMsgs(struct gossip_msg *m)
{
    size_t n = 0;
    memset(m, 0, 8 * sizeof *m);
    m[n].type = GOSSIP_MSG_PING;
    m[n].u.ping.seq = 0xdeadbeef;
    strcpy(m[n].u.ping.node, "b");
    strcpy(m[n].u.ping.source, "alpha");
    n++;
    m[n].type = GOSSIP_MSG_PING_REQ;
    m[n].u.ping_req.seq = 7;
    strcpy(m[n].u.ping_req.node, "target");
    m[n].u.ping_req.addr = addr6();
    m[n].u.ping_req.nack = true;
    strcpy(m[n].u.ping_req.source, "asker");
    n++;
    m[n].type = GOSSIP_MSG_ACK;
    m[n].u.ack.seq = 0xffffffff;
    n++;
    m[n].type = GOSSIP_MSG_NACK;
    m[n].u.nack.seq = 1;
    n++;
    m[n].type = GOSSIP_MSG_SUSPECT;
    m[n].u.suspect.incarnation = UINT64_MAX;
    strcpy(m[n].u.suspect.node, "sus");
    strcpy(m[n].u.suspect.from, "accuser");
    n++;
    m[n].type = GOSSIP_MSG_ALIVE;
    m[n].u.alive.incarnation = 42;
    memset(m[n].u.alive.node, 'x', GOSSIP_NAME_MAX - 1); /* the longest name allowed */
    m[n].u.alive.addr = addr4(9, 65535);
    m[n].u.alive.tags = tagsServer();
    n++;
    m[n].type = GOSSIP_MSG_DEAD;
    m[n].u.dead.incarnation = 3;
    strcpy(m[n].u.dead.node, "gone");
    strcpy(m[n].u.dead.from, "gone");
    n++;
    m[n].type = GOSSIP_MSG_ERR;
    strcpy(m[n].u.err.text, "Failed to join: name taken");
    n++;
    return n;
}

/* Recomputes the CRC of a hand-edited datagram or stream frame. */
static void reseal(uint8_t *p, size_t len)
{
    codec_store_u32(p + 4, crc32c(crc32c(0, p, 4), p + 8, len - 8));
}

static int decodeDgram(const struct buf *b)
{
    struct gossip_packet pk;
    int rc = gossip_wire_decode_dgram(b->data, b->len, &pk);
    gossip_wire_packet_free(&pk);
    return rc;
}

/* Field-by-field equality: struct padding is not part of any contract. */
static void assertAddrEqual(const struct gossip_addr *a, const struct gossip_addr *b)
{
    assert_int_equal(a->family, b->family);
    assert_memory_equal(a->ip, b->ip, sizeof a->ip);
    assert_int_equal(a->port, b->port);
}

static void assertTagsEqual(const struct gossip_tags *a, const struct gossip_tags *b)
{
    assert_int_equal(a->role, b->role);
    assert_string_equal(a->dc, b->dc);
    assert_int_equal(a->rpc_port, b->rpc_port);
    assert_int_equal(a->raft_id, b->raft_id);
    assert_int_equal(a->bootstrap, b->bootstrap);
    assert_int_equal(a->expect, b->expect);
    assert_string_equal(a->build, b->build);
    assert_int_equal(a->proto_min, b->proto_min);
    assert_int_equal(a->proto_max, b->proto_max);
    assert_int_equal(a->proto_cur, b->proto_cur);
    assert_int_equal(a->raft_vsn, b->raft_vsn);
    assert_int_equal(a->cluster_id, b->cluster_id);
}

static void assertMemberEqual(const struct gossip_member *a, const struct gossip_member *b)
{
    assert_string_equal(a->name, b->name);
    assertAddrEqual(&a->addr, &b->addr);
    assert_int_equal(a->incarnation, b->incarnation);
    assert_int_equal(a->state, b->state);
    assertTagsEqual(&a->tags, &b->tags);
    assert_int_equal(a->state_ms, 0); /* local only: never on the wire */
}

static void assertMsgEqual(const struct gossip_msg *a, const struct gossip_msg *b)
{
    assert_int_equal(a->type, b->type);
    switch (a->type) {
    case GOSSIP_MSG_PING:
        assert_int_equal(a->u.ping.seq, b->u.ping.seq);
        assert_string_equal(a->u.ping.node, b->u.ping.node);
        assert_string_equal(a->u.ping.source, b->u.ping.source);
        break;
    case GOSSIP_MSG_PING_REQ:
        assert_int_equal(a->u.ping_req.seq, b->u.ping_req.seq);
        assert_string_equal(a->u.ping_req.node, b->u.ping_req.node);
        assertAddrEqual(&a->u.ping_req.addr, &b->u.ping_req.addr);
        assert_int_equal(a->u.ping_req.nack, b->u.ping_req.nack);
        assert_string_equal(a->u.ping_req.source, b->u.ping_req.source);
        break;
    case GOSSIP_MSG_ACK:
        assert_int_equal(a->u.ack.seq, b->u.ack.seq);
        break;
    case GOSSIP_MSG_NACK:
        assert_int_equal(a->u.nack.seq, b->u.nack.seq);
        break;
    case GOSSIP_MSG_SUSPECT:
        assert_int_equal(a->u.suspect.incarnation, b->u.suspect.incarnation);
        assert_string_equal(a->u.suspect.node, b->u.suspect.node);
        assert_string_equal(a->u.suspect.from, b->u.suspect.from);
        break;
    case GOSSIP_MSG_DEAD:
        assert_int_equal(a->u.dead.incarnation, b->u.dead.incarnation);
        assert_string_equal(a->u.dead.node, b->u.dead.node);
        assert_string_equal(a->u.dead.from, b->u.dead.from);
        break;
    case GOSSIP_MSG_ALIVE:
        assert_int_equal(a->u.alive.incarnation, b->u.alive.incarnation);
        assert_string_equal(a->u.alive.node, b->u.alive.node);
        assertAddrEqual(&a->u.alive.addr, &b->u.alive.addr);
        assertTagsEqual(&a->u.alive.tags, &b->u.alive.tags);
        break;
    case GOSSIP_MSG_PUSH_PULL:
        assert_int_equal(a->u.push_pull.join, b->u.push_pull.join);
        assert_int_equal(a->u.push_pull.reply, b->u.push_pull.reply);
        assert_int_equal(a->u.push_pull.n_states, b->u.push_pull.n_states);
        for (uint32_t i = 0; i < a->u.push_pull.n_states; i++)
            assertMemberEqual(&a->u.push_pull.states[i], &b->u.push_pull.states[i]);
        break;
    case GOSSIP_MSG_ERR:
        assert_string_equal(a->u.err.text, b->u.err.text);
        break;
    default:
        fail_msg("unexpected type %d", a->type);
    }
}

/* ---- round trips ---- */

static void every_message_round_trips_alone(void **state)
{
    (void)state;
    struct gossip_msg m[8];
    size_t n = allMsgs(m);
    for (size_t i = 0; i < n; i++) {
        struct buf b;
        buf_init(&b, 0);
        assert_int_equal(gossip_wire_encode_dgram(&m[i], 1, &b), GOSSIP_WIRE_OK);
        assert_int_equal(b.len, GOSSIP_WIRE_DGRAM_HDR + gossip_wire_msg_size(&m[i]));
        struct gossip_packet pk;
        assert_int_equal(gossip_wire_decode_dgram(b.data, b.len, &pk), GOSSIP_WIRE_OK);
        assert_int_equal(pk.n_msgs, 1);
        assert_int_equal(pk.transport, GOSSIP_UDP);
        assertMsgEqual(&pk.msgs[0], &m[i]);
        gossip_wire_packet_free(&pk);
        buf_free(&b);
    }
}

static void compound_packet_size_is_the_sum_of_sizes(void **state)
{
    (void)state;
    struct gossip_msg m[8];
    size_t n = allMsgs(m);
    size_t want = GOSSIP_WIRE_DGRAM_HDR;
    for (size_t i = 0; i < n; i++)
        want += gossip_wire_msg_size(&m[i]);
    struct buf b;
    buf_init(&b, 0);
    struct gossip_packet out = {.transport = GOSSIP_UDP, .n_msgs = (uint32_t)n, .msgs = m};
    assert_int_equal(gossip_wire_encode(&out, &b), GOSSIP_WIRE_OK);
    assert_int_equal(b.len, want);
    struct gossip_packet pk;
    assert_int_equal(gossip_wire_decode_dgram(b.data, b.len, &pk), GOSSIP_WIRE_OK);
    assert_int_equal(pk.n_msgs, n);
    for (size_t i = 0; i < n; i++)
        assertMsgEqual(&pk.msgs[i], &m[i]);
    gossip_wire_packet_free(&pk);
    buf_free(&b);
}

static void packing_to_the_budget_never_exceeds_it(void **state)
{
    (void)state;
    /* Pack acks and suspects as the core does, by the size function, up to 1400 bytes. */
    struct gossip_msg m[300];
    memset(m, 0, sizeof m);
    size_t used = GOSSIP_WIRE_DGRAM_HDR, n = 0;
    for (; n < 300; n++) {
        struct gossip_msg *x = &m[n];
        if (n % 2) {
            x->type = GOSSIP_MSG_ACK;
            x->u.ack.seq = (uint32_t)n;
        } else {
            x->type = GOSSIP_MSG_SUSPECT;
            x->u.suspect.incarnation = n;
            snprintf(x->u.suspect.node, GOSSIP_NAME_MAX, "n%zu", n);
            strcpy(x->u.suspect.from, "me");
        }
        size_t sz = gossip_wire_msg_size(x);
        assert_true(sz > 0);
        if (used + sz > GOSSIP_WIRE_UDP_MAX)
            break;
        used += sz;
    }
    assert_true(n > 10 && n < 300);
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(gossip_wire_encode_dgram(m, n, &b), GOSSIP_WIRE_OK);
    assert_int_equal(b.len, used);
    assert_true(b.len <= GOSSIP_WIRE_UDP_MAX);
    assert_int_equal(decodeDgram(&b), GOSSIP_WIRE_OK);
    buf_free(&b);
}

static void push_pull_round_trips_on_a_stream(void **state)
{
    (void)state;
    enum { N = 37 };
    struct gossip_member st[N];
    for (int i = 0; i < N; i++)
        st[i] = member(i);
    struct gossip_msg m = {.type = GOSSIP_MSG_PUSH_PULL};
    m.u.push_pull.join = true;
    m.u.push_pull.reply = false;
    m.u.push_pull.n_states = N;
    m.u.push_pull.states = st;
    struct buf b;
    buf_init(&b, 0);
    struct gossip_packet out = {.transport = GOSSIP_TCP, .n_msgs = 1, .msgs = &m};
    assert_int_equal(gossip_wire_encode(&out, &b), GOSSIP_WIRE_OK);
    /* The reader learns the frame length from the header alone, and not before it is whole. */
    size_t need = 1;
    assert_int_equal(gossip_wire_stream_need(b.data, GOSSIP_WIRE_STREAM_HDR - 1, &need), 0);
    assert_int_equal(need, 0);
    assert_int_equal(gossip_wire_stream_need(b.data, GOSSIP_WIRE_STREAM_HDR, &need), 0);
    assert_int_equal(need, b.len);
    struct gossip_packet pk;
    assert_int_equal(gossip_wire_decode_stream(b.data, b.len, &pk), GOSSIP_WIRE_OK);
    assert_int_equal(pk.transport, GOSSIP_TCP);
    assert_int_equal(pk.n_msgs, 1);
    const struct gossip_msg_push_pull *pp = &pk.msgs[0].u.push_pull;
    assert_int_equal(pk.msgs[0].type, GOSSIP_MSG_PUSH_PULL);
    assert_true(pp->join);
    assert_false(pp->reply);
    assert_int_equal(pp->n_states, N);
    for (int i = 0; i < N; i++)
        assertMemberEqual(&pp->states[i], &st[i]);
    gossip_wire_packet_free(&pk);
    /* A stream frame is not a datagram, and the other way round. */
    assert_int_not_equal(decodeDgram(&b), GOSSIP_WIRE_OK);
    buf_free(&b);
}

static void empty_push_pull_and_stream_ping_round_trip(void **state)
{
    (void)state;
    struct gossip_msg m[2];
    memset(m, 0, sizeof m);
    m[0].type = GOSSIP_MSG_PUSH_PULL;
    m[0].u.push_pull.reply = true;
    m[1].type = GOSSIP_MSG_ACK;
    m[1].u.ack.seq = 5;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(gossip_wire_encode_stream(m, 2, &b), GOSSIP_WIRE_OK);
    struct gossip_packet pk;
    assert_int_equal(gossip_wire_decode_stream(b.data, b.len, &pk), GOSSIP_WIRE_OK);
    assert_int_equal(pk.n_msgs, 2);
    assert_true(pk.msgs[0].u.push_pull.reply);
    assert_int_equal(pk.msgs[0].u.push_pull.n_states, 0);
    assert_null(pk.msgs[0].u.push_pull.states);
    assert_int_equal(pk.msgs[1].u.ack.seq, 5);
    gossip_wire_packet_free(&pk);
    buf_free(&b);
}

/* ---- the encoder refuses what the decoder would ---- */

static void encoder_refuses_invalid_structs_and_leaves_the_buffer(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_append(&b, "xy", 2), 0);
    struct gossip_msg m[8];
    allMsgs(m);
    struct gossip_msg bad = m[5]; /* alive */
    memset(bad.u.alive.node, 'x', GOSSIP_NAME_MAX); /* no NUL: unterminated */
    assert_int_equal(gossip_wire_encode_dgram(&bad, 1, &b), GOSSIP_WIRE_EFIELD);
    assert_int_equal(gossip_wire_msg_size(&bad), 0);
    bad = m[5];
    bad.u.alive.addr.family = 0;
    assert_int_equal(gossip_wire_encode_dgram(&bad, 1, &b), GOSSIP_WIRE_EFIELD);
    bad = m[5];
    bad.u.alive.tags.role = 0;
    assert_int_equal(gossip_wire_encode_dgram(&bad, 1, &b), GOSSIP_WIRE_EFIELD);
    bad = m[0];
    bad.u.ping.node[0] = '\0';
    assert_int_equal(gossip_wire_encode_dgram(&bad, 1, &b), GOSSIP_WIRE_EFIELD);
    bad.type = 200;
    assert_int_equal(gossip_wire_encode_dgram(&bad, 1, &b), GOSSIP_WIRE_ETYPE);
    struct gossip_msg pp = {.type = GOSSIP_MSG_PUSH_PULL};
    assert_int_equal(gossip_wire_encode_dgram(&pp, 1, &b), GOSSIP_WIRE_ETYPE);
    assert_int_equal(gossip_wire_msg_size(&pp), 0);
    assert_int_equal(gossip_wire_encode_dgram(m, 0, &b), GOSSIP_WIRE_ETOOBIG);
    assert_int_equal(b.len, 2);
    assert_memory_equal(b.data, "xy", 2);
    buf_free(&b);
}

static void encoder_reports_a_full_buffer(void **state)
{
    (void)state;
    struct gossip_msg m[8];
    size_t n = allMsgs(m);
    struct buf b;
    buf_init(&b, 20);
    assert_int_equal(gossip_wire_encode_dgram(m, n, &b), GOSSIP_WIRE_ENOMEM);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void datagram_over_the_udp_limit_is_refused(void **state)
{
    (void)state;
    enum { N = 700 };
    struct gossip_msg *m = calloc(N, sizeof *m);
    assert_non_null(m);
    for (int i = 0; i < N; i++) {
        m[i] = (struct gossip_msg){.type = GOSSIP_MSG_DEAD};
        memset(m[i].u.dead.node, 'd', 60);
        memset(m[i].u.dead.from, 'f', 60);
    }
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(gossip_wire_encode_dgram(m, N, &b), GOSSIP_WIRE_ETOOBIG);
    assert_int_equal(b.len, 0);
    buf_free(&b);
    free(m);
}

/* ---- the decoder refuses every damaged packet ---- */

static void every_truncation_is_refused(void **state)
{
    (void)state;
    struct gossip_msg m[8];
    size_t n = allMsgs(m);
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(gossip_wire_encode_dgram(m, n, &b), GOSSIP_WIRE_OK);
    for (size_t cut = 0; cut < b.len; cut++) {
        struct gossip_packet pk;
        assert_int_not_equal(gossip_wire_decode_dgram(b.data, cut, &pk), GOSSIP_WIRE_OK);
        assert_int_equal(pk.n_msgs, 0);
        assert_null(pk.msgs);
        /* Even with a CRC made to match, a cut packet is refused by its lengths. */
        if (cut >= GOSSIP_WIRE_DGRAM_HDR) {
            uint8_t *copy = malloc(cut);
            memcpy(copy, b.data, cut);
            reseal(copy, cut);
            assert_int_not_equal(gossip_wire_decode_dgram(copy, cut, &pk), GOSSIP_WIRE_OK);
            free(copy);
        }
    }
    buf_free(&b);
}

static void every_bit_flip_is_caught(void **state)
{
    (void)state;
    struct gossip_msg m[8];
    size_t n = allMsgs(m);
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(gossip_wire_encode_dgram(m, n, &b), GOSSIP_WIRE_OK);
    for (size_t i = 0; i < b.len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            b.data[i] ^= (uint8_t)(1u << bit);
            int rc = decodeDgram(&b);
            /* Version and flags are checked first; everything else falls to the CRC. */
            assert_int_equal(rc, i < 2 ? GOSSIP_WIRE_EVERSION : GOSSIP_WIRE_ECRC);
            b.data[i] ^= (uint8_t)(1u << bit);
        }
    }
    assert_int_equal(decodeDgram(&b), GOSSIP_WIRE_OK);
    buf_free(&b);
}

/* Encodes one message, lets edit change its bytes (offset 0 = its type byte), reseals. */
static int decodeEdited(const struct gossip_msg *m, void (*edit)(uint8_t *p, size_t len),
                        bool stream)
{
    struct buf b;
    buf_init(&b, 0);
    int rc = stream ? gossip_wire_encode_stream(m, 1, &b) : gossip_wire_encode_dgram(m, 1, &b);
    assert_int_equal(rc, GOSSIP_WIRE_OK);
    size_t off = stream ? GOSSIP_WIRE_STREAM_HDR + 4 : GOSSIP_WIRE_DGRAM_HDR + 2;
    edit(b.data + off, b.len - off);
    reseal(b.data, b.len);
    struct gossip_packet pk;
    rc = stream ? gossip_wire_decode_stream(b.data, b.len, &pk)
                : gossip_wire_decode_dgram(b.data, b.len, &pk);
    if (rc != GOSSIP_WIRE_OK) {
        assert_int_equal(pk.n_msgs, 0);
        assert_null(pk.msgs);
    }
    gossip_wire_packet_free(&pk);
    buf_free(&b);
    return rc;
}

static void editType(uint8_t *p, size_t len) { (void)len; p[0] = 99; }
static void editTypeZero(uint8_t *p, size_t len) { (void)len; p[0] = 0; }
/* ping: type, u32 seq, u8 len "b" */
static void editNameNul(uint8_t *p, size_t len) { (void)len; p[6] = '\0'; }
static void editNameEmpty(uint8_t *p, size_t len) { (void)len; p[5] = 0; }
static void editNameLong(uint8_t *p, size_t len) { (void)len; p[5] = 200; }
/* ping_req: type, u32 seq, u8 6 "target", then family */
static void editFamily(uint8_t *p, size_t len) { (void)len; p[12] = 5; }
/* ping_req bool after ipv6 addr: 12 + 1 + 16 + 2 */
static void editBool(uint8_t *p, size_t len) { (void)len; p[31] = 2; }
/* alive tags role: type, u64, u8 63 + 63 bytes, family 4 + 4 + 2 -> role at 1+8+64+7 */
static void editRole(uint8_t *p, size_t len) { (void)len; p[80] = 7; }
static void editBootstrap(uint8_t *p, size_t len) { (void)len; p[80 + 1 + 4 + 2 + 8] = 3; }
/* push-pull: type, join, reply, u32 n, first member name "node-0" then ipv6 addr, inc, state */
static void editJoinBool(uint8_t *p, size_t len) { (void)len; p[1] = 9; }
static void editState(uint8_t *p, size_t len) { (void)len; p[7 + 7 + 19 + 8] = 0; }
static void editCountHuge(uint8_t *p, size_t len) { (void)len; codec_store_u32(p + 3, 5000); }
static void editCountLie(uint8_t *p, size_t len) { (void)len; codec_store_u32(p + 3, 4000); }
static void editCountLess(uint8_t *p, size_t len) { (void)len; codec_store_u32(p + 3, 1); }

static void field_errors_are_refused_despite_a_good_crc(void **state)
{
    (void)state;
    struct gossip_msg m[8];
    allMsgs(m);
    assert_int_equal(decodeEdited(&m[2], editType, false), GOSSIP_WIRE_ETYPE);
    assert_int_equal(decodeEdited(&m[2], editTypeZero, false), GOSSIP_WIRE_ETYPE);
    assert_int_equal(decodeEdited(&m[0], editNameNul, false), GOSSIP_WIRE_EFIELD);
    assert_int_equal(decodeEdited(&m[0], editNameEmpty, false), GOSSIP_WIRE_EFIELD);
    assert_int_equal(decodeEdited(&m[0], editNameLong, false), GOSSIP_WIRE_ESHORT);
    assert_int_equal(decodeEdited(&m[1], editFamily, false), GOSSIP_WIRE_EFIELD);
    assert_int_equal(decodeEdited(&m[1], editBool, false), GOSSIP_WIRE_EFIELD);
    assert_int_equal(decodeEdited(&m[5], editRole, false), GOSSIP_WIRE_EFIELD);
    assert_int_equal(decodeEdited(&m[5], editBootstrap, false), GOSSIP_WIRE_EFIELD);

    enum { N = 3 };
    struct gossip_member st[N];
    for (int i = 0; i < N; i++)
        st[i] = member(i * 2); /* IPv6 addresses: the offsets above assume it */
    struct gossip_msg pp = {.type = GOSSIP_MSG_PUSH_PULL};
    pp.u.push_pull.n_states = N;
    pp.u.push_pull.states = st;
    assert_int_equal(decodeEdited(&pp, editJoinBool, true), GOSSIP_WIRE_EFIELD);
    assert_int_equal(decodeEdited(&pp, editState, true), GOSSIP_WIRE_EFIELD);
    assert_int_equal(decodeEdited(&pp, editCountHuge, true), GOSSIP_WIRE_ETOOBIG);
    assert_int_equal(decodeEdited(&pp, editCountLie, true), GOSSIP_WIRE_ESHORT);
    assert_int_equal(decodeEdited(&pp, editCountLess, true), GOSSIP_WIRE_ETRAILING);
}

static void header_errors_are_refused(void **state)
{
    (void)state;
    struct gossip_msg m[8];
    size_t n = allMsgs(m);
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(gossip_wire_encode_dgram(m, n, &b), GOSSIP_WIRE_OK);
    uint8_t *p = b.data;

    p[0] = GOSSIP_WIRE_VERSION + 1;
    reseal(p, b.len);
    assert_int_equal(decodeDgram(&b), GOSSIP_WIRE_EVERSION);
    p[0] = 0;
    reseal(p, b.len);
    assert_int_equal(decodeDgram(&b), GOSSIP_WIRE_EVERSION);
    p[0] = GOSSIP_WIRE_VERSION;
    p[1] = 0x80;
    reseal(p, b.len);
    assert_int_equal(decodeDgram(&b), GOSSIP_WIRE_EVERSION);
    p[1] = 0;
    p[2] = 0;
    p[3] = 0; /* count 0 */
    reseal(p, b.len);
    assert_int_equal(decodeDgram(&b), GOSSIP_WIRE_ETOOBIG);
    p[3] = (uint8_t)(n - 1); /* one message left unread */
    reseal(p, b.len);
    assert_int_equal(decodeDgram(&b), GOSSIP_WIRE_ETRAILING);
    p[3] = (uint8_t)(n + 1); /* one more than there is */
    reseal(p, b.len);
    assert_int_equal(decodeDgram(&b), GOSSIP_WIRE_ESHORT);
    p[3] = (uint8_t)n;
    reseal(p, b.len);
    assert_int_equal(decodeDgram(&b), GOSSIP_WIRE_OK);

    /* A message whose length prefix covers more than its fields: trailing bytes inside it. */
    struct gossip_msg ack = {.type = GOSSIP_MSG_ACK};
    struct buf c;
    buf_init(&c, 0);
    assert_int_equal(gossip_wire_encode_dgram(&ack, 1, &c), GOSSIP_WIRE_OK);
    assert_int_equal(buf_append(&c, "z", 1), 0);
    c.data[GOSSIP_WIRE_DGRAM_HDR + 1] = 6;
    reseal(c.data, c.len);
    assert_int_equal(decodeDgram(&c), GOSSIP_WIRE_ETRAILING);
    /* A zero-length message. */
    c.len = GOSSIP_WIRE_DGRAM_HDR + 2;
    c.data[GOSSIP_WIRE_DGRAM_HDR + 1] = 0;
    reseal(c.data, c.len);
    assert_int_equal(decodeDgram(&c), GOSSIP_WIRE_ESHORT);
    buf_free(&c);
    buf_free(&b);
}

static void push_pull_in_a_datagram_is_refused(void **state)
{
    (void)state;
    struct gossip_msg pp = {.type = GOSSIP_MSG_PUSH_PULL};
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(gossip_wire_encode_stream(&pp, 1, &b), GOSSIP_WIRE_OK);
    /* Rewrap the message in datagram framing: u16 length instead of the stream's u32. */
    size_t mlen = b.len - GOSSIP_WIRE_STREAM_HDR - 4;
    struct buf d;
    buf_init(&d, 0);
    uint8_t hdr[GOSSIP_WIRE_DGRAM_HDR] = {GOSSIP_WIRE_VERSION, 0, 0, 1, 0, 0, 0, 0};
    uint8_t l16[2] = {0, (uint8_t)mlen};
    buf_append(&d, hdr, sizeof hdr);
    buf_append(&d, l16, 2);
    buf_append(&d, b.data + GOSSIP_WIRE_STREAM_HDR + 4, mlen);
    reseal(d.data, d.len);
    assert_int_equal(decodeDgram(&d), GOSSIP_WIRE_ETYPE);
    buf_free(&d);
    buf_free(&b);
}

static void stream_length_is_capped_before_reading(void **state)
{
    (void)state;
    uint8_t h[GOSSIP_WIRE_STREAM_HDR] = {GOSSIP_WIRE_VERSION, 0, 0, 1};
    size_t need = 0;
    codec_store_u32(h + 8, GOSSIP_WIRE_STREAM_MAX);
    assert_int_equal(gossip_wire_stream_need(h, sizeof h, &need), GOSSIP_WIRE_OK);
    assert_int_equal(need, GOSSIP_WIRE_STREAM_HDR + GOSSIP_WIRE_STREAM_MAX);
    codec_store_u32(h + 8, GOSSIP_WIRE_STREAM_MAX + 1);
    assert_int_equal(gossip_wire_stream_need(h, sizeof h, &need), GOSSIP_WIRE_ETOOBIG);
    assert_int_equal(need, 0);
    h[0] = 7;
    assert_int_equal(gossip_wire_stream_need(h, 1, &need), GOSSIP_WIRE_EVERSION);
    /* A frame whose length field disagrees with the bytes given. */
    struct gossip_msg ack = {.type = GOSSIP_MSG_ACK};
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(gossip_wire_encode_stream(&ack, 1, &b), GOSSIP_WIRE_OK);
    struct gossip_packet pk;
    assert_int_equal(gossip_wire_decode_stream(b.data, b.len - 1, &pk), GOSSIP_WIRE_ESHORT);
    buf_append(&b, "", 1);
    assert_int_equal(gossip_wire_decode_stream(b.data, b.len, &pk), GOSSIP_WIRE_ETRAILING);
    buf_free(&b);
}

static void counters_tally_by_reason(void **state)
{
    (void)state;
    struct gossip_wire_counters c = {0};
    gossip_wire_count(&c, GOSSIP_WIRE_OK);
    gossip_wire_count(&c, GOSSIP_WIRE_ECRC);
    gossip_wire_count(&c, GOSSIP_WIRE_ECRC);
    gossip_wire_count(&c, GOSSIP_WIRE_EFIELD);
    assert_int_equal(c.ok, 1);
    assert_int_equal(c.bad, 3);
    assert_int_equal(c.by_err[GOSSIP_WIRE_ECRC], 2);
    assert_int_equal(c.by_err[GOSSIP_WIRE_EFIELD], 1);
    assert_string_equal(gossip_wire_strerror(GOSSIP_WIRE_ECRC), "checksum mismatch");
    assert_string_equal(gossip_wire_strerror(-3), "unknown error");
}

static void limits_round_trip_and_one_past_is_refused(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    struct gossip_msg e = {.type = GOSSIP_MSG_ERR};
    memset(e.u.err.text, 'e', GOSSIP_ERR_MAX - 1);
    assert_int_equal(gossip_wire_encode_dgram(&e, 1, &b), GOSSIP_WIRE_OK);
    struct gossip_packet pk;
    assert_int_equal(gossip_wire_decode_dgram(b.data, b.len, &pk), GOSSIP_WIRE_OK);
    assert_int_equal(strlen(pk.msgs[0].u.err.text), GOSSIP_ERR_MAX - 1);
    gossip_wire_packet_free(&pk);
    buf_clear(&b);

    struct gossip_member *st = calloc(GOSSIP_PUSH_PULL_MAX + 1, sizeof *st);
    assert_non_null(st);
    for (int i = 0; i <= GOSSIP_PUSH_PULL_MAX; i++)
        st[i] = member(i);
    struct gossip_msg pp = {.type = GOSSIP_MSG_PUSH_PULL};
    pp.u.push_pull.states = st;
    pp.u.push_pull.n_states = GOSSIP_PUSH_PULL_MAX;
    assert_int_equal(gossip_wire_encode_stream(&pp, 1, &b), GOSSIP_WIRE_OK);
    assert_true(b.len < GOSSIP_WIRE_STREAM_MAX);
    assert_int_equal(gossip_wire_decode_stream(b.data, b.len, &pk), GOSSIP_WIRE_OK);
    assert_int_equal(pk.msgs[0].u.push_pull.n_states, GOSSIP_PUSH_PULL_MAX);
    assertMemberEqual(&pk.msgs[0].u.push_pull.states[GOSSIP_PUSH_PULL_MAX - 1],
                      &st[GOSSIP_PUSH_PULL_MAX - 1]);
    gossip_wire_packet_free(&pk);
    buf_clear(&b);
    pp.u.push_pull.n_states = GOSSIP_PUSH_PULL_MAX + 1;
    assert_int_equal(gossip_wire_encode_stream(&pp, 1, &b), GOSSIP_WIRE_EFIELD);
    assert_int_equal(b.len, 0);
    free(st);
    buf_free(&b);
}

/* ---- tribune-gossip(7) states these bytes and sizes: keep the page and the code in step ---- */

static void man_page_examples_match_the_encoder(void **state)
{
    (void)state;
    static const uint8_t ack[] = {0x02, 0x00, 0x00, 0x01, 0x09, 0xde, 0xda, 0xdd,
                                  0x00, 0x05, 0x03, 0x00, 0x00, 0x00, 0x07};
    static const uint8_t ping_ack[] = {0x02, 0x00, 0x00, 0x02, 0x7e, 0x05, 0x22, 0xcd, 0x00,
                                       0x09, 0x01, 0x00, 0x00, 0x00, 0x07, 0x01, 0x62, 0x01,
                                       0x61, 0x00, 0x05, 0x03, 0x00, 0x00, 0x00, 0x07};
    static const uint8_t stream_ack[] = {0x02, 0x00, 0x00, 0x01, 0x7d, 0x93, 0x56, 0xcb, 0x00, 0x00, 0x00,
                                         0x09, 0x00, 0x00, 0x00, 0x05, 0x03, 0x00, 0x00, 0x00, 0x07};
    struct gossip_msg m[2];
    memset(m, 0, sizeof m);
    m[0].type = GOSSIP_MSG_PING;
    m[0].u.ping.seq = 7;
    strcpy(m[0].u.ping.node, "b");
    strcpy(m[0].u.ping.source, "a");
    m[1].type = GOSSIP_MSG_ACK;
    m[1].u.ack.seq = 7;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(gossip_wire_encode_dgram(&m[1], 1, &b), GOSSIP_WIRE_OK);
    assert_int_equal(b.len, sizeof ack);
    assert_memory_equal(b.data, ack, sizeof ack);
    buf_clear(&b);
    assert_int_equal(gossip_wire_encode_dgram(m, 2, &b), GOSSIP_WIRE_OK);
    assert_int_equal(b.len, sizeof ping_ack);
    assert_memory_equal(b.data, ping_ack, sizeof ping_ack);
    buf_clear(&b);
    assert_int_equal(gossip_wire_encode_stream(&m[1], 1, &b), GOSSIP_WIRE_OK);
    assert_int_equal(b.len, sizeof stream_ack);
    assert_memory_equal(b.data, stream_ack, sizeof stream_ack);
    buf_free(&b);

    /* "an ack takes 7 bytes, a suspect 13 plus both names, an alive with an IPv4 address 46 plus
     * its name and the two tag strings" */
    assert_int_equal(gossip_wire_msg_size(&m[1]), 7);
    struct gossip_msg su = {.type = GOSSIP_MSG_SUSPECT};
    strcpy(su.u.suspect.node, "abc");
    strcpy(su.u.suspect.from, "de");
    assert_int_equal(gossip_wire_msg_size(&su), 13 + 3 + 2);
    struct gossip_msg al = {.type = GOSSIP_MSG_ALIVE};
    strcpy(al.u.alive.node, "node1");
    al.u.alive.addr = addr4(1, 8301);
    al.u.alive.tags = tagsServer(); /* "dc1", "0.1.0" */
    assert_int_equal(gossip_wire_msg_size(&al), 46 + 5 + 3 + 5);
}

/* An agent one wire version behind (tags without the cluster id) is still understood: its alive
 * and push-pull members decode with cluster id 0, everything else as sent. */
static void version_1_frames_are_read(void **state)
{
    (void)state;
    struct gossip_msg al = {.type = GOSSIP_MSG_ALIVE};
    al.u.alive.incarnation = 9;
    strcpy(al.u.alive.node, "old");
    al.u.alive.addr = addr4(3, 8301);
    al.u.alive.tags = tagsServer();
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(gossip_wire_encode_dgram(&al, 1, &b), GOSSIP_WIRE_OK);
    /* Version 1 bytes: the message loses its trailing 8-byte cluster id. */
    b.len -= 8;
    uint16_t mlen = (uint16_t)(b.data[8] << 8 | b.data[9]); /* big-endian u16 */
    mlen = (uint16_t)(mlen - 8);
    b.data[8] = (uint8_t)(mlen >> 8);
    b.data[9] = (uint8_t)mlen;
    b.data[0] = 1;
    reseal(b.data, b.len);
    struct gossip_packet pk;
    assert_int_equal(gossip_wire_decode_dgram(b.data, b.len, &pk), GOSSIP_WIRE_OK);
    assert_int_equal(pk.n_msgs, 1);
    struct gossip_tags want = al.u.alive.tags;
    want.cluster_id = 0;
    assertTagsEqual(&pk.msgs[0].u.alive.tags, &want);
    assert_string_equal(pk.msgs[0].u.alive.node, "old");
    gossip_wire_packet_free(&pk);
    /* The same bytes claiming version 2 are short by the cluster id. */
    b.data[0] = 2;
    reseal(b.data, b.len);
    assert_int_equal(decodeDgram(&b), GOSSIP_WIRE_ESHORT);

    struct gossip_member mem;
    memset(&mem, 0, sizeof mem);
    strcpy(mem.name, "old");
    mem.addr = addr4(3, 8301);
    mem.incarnation = 4;
    mem.state = GOSSIP_STATE_ALIVE;
    mem.tags = tagsServer();
    struct gossip_msg pp = {.type = GOSSIP_MSG_PUSH_PULL};
    pp.u.push_pull.join = true;
    pp.u.push_pull.states = &mem;
    pp.u.push_pull.n_states = 1;
    buf_clear(&b);
    assert_int_equal(gossip_wire_encode_stream(&pp, 1, &b), GOSSIP_WIRE_OK);
    b.len -= 8;
    codec_store_u32(b.data + 8, codec_load_u32(b.data + 8) - 8);   /* body length */
    codec_store_u32(b.data + 12, codec_load_u32(b.data + 12) - 8); /* message length */
    b.data[0] = 1;
    reseal(b.data, b.len);
    size_t need = 0;
    assert_int_equal(gossip_wire_stream_need(b.data, b.len, &need), GOSSIP_WIRE_OK);
    assert_int_equal(need, b.len);
    assert_int_equal(gossip_wire_decode_stream(b.data, b.len, &pk), GOSSIP_WIRE_OK);
    assert_int_equal(pk.msgs[0].u.push_pull.n_states, 1);
    assertTagsEqual(&pk.msgs[0].u.push_pull.states[0].tags, &want);
    gossip_wire_packet_free(&pk);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_message_round_trips_alone),
        cmocka_unit_test(compound_packet_size_is_the_sum_of_sizes),
        cmocka_unit_test(packing_to_the_budget_never_exceeds_it),
        cmocka_unit_test(push_pull_round_trips_on_a_stream),
        cmocka_unit_test(empty_push_pull_and_stream_ping_round_trip),
        cmocka_unit_test(encoder_refuses_invalid_structs_and_leaves_the_buffer),
        cmocka_unit_test(encoder_reports_a_full_buffer),
        cmocka_unit_test(datagram_over_the_udp_limit_is_refused),
        cmocka_unit_test(every_truncation_is_refused),
        cmocka_unit_test(every_bit_flip_is_caught),
        cmocka_unit_test(field_errors_are_refused_despite_a_good_crc),
        cmocka_unit_test(header_errors_are_refused),
        cmocka_unit_test(push_pull_in_a_datagram_is_refused),
        cmocka_unit_test(stream_length_is_capped_before_reading),
        cmocka_unit_test(counters_tally_by_reason),
        cmocka_unit_test(limits_round_trip_and_one_past_is_refused),
        cmocka_unit_test(man_page_examples_match_the_encoder),
        cmocka_unit_test(version_1_frames_are_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
