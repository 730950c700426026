/* wire.c — encodes the core's gossip messages into datagrams and stream frames and decodes them
 * back, refusing anything a correct encoder could not have written. Layout: tribune-gossip(7). */
#include "gossip/wire.h"

#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"

/* ---- limits shared by encoder, size function and decoder ---- */

/* Every message is at least its length prefix and type byte. */
#define DGRAM_LENW 2
#define STREAM_LENW 4
/* The smallest encoded member (one-byte name, IPv4, empty dc and build): sizes a push-pull's
 * count against the bytes that are really there before anything is allocated. */
#define MEMBER_MIN (2 + 7 + 8 + 1 + 19) /* as in version 1: the smallest a member may be */

/* Strings travel behind a one-byte length. */
_Static_assert(GOSSIP_NAME_MAX <= 256 && GOSSIP_DC_MAX <= 256 && GOSSIP_BUILD_MAX <= 256 &&
                   GOSSIP_ERR_MAX <= 256,
               "a str8 field cannot hold the text limits of msg.h");

const char *gossip_wire_strerror(int err)
{
    static const char *const text[GOSSIP_WIRE_ECOUNT] = {
        [GOSSIP_WIRE_OK] = "ok",
        [GOSSIP_WIRE_ESHORT] = "truncated packet",
        [GOSSIP_WIRE_EVERSION] = "unknown wire version or flags",
        [GOSSIP_WIRE_ECRC] = "checksum mismatch",
        [GOSSIP_WIRE_ETOOBIG] = "packet over its size or count limit",
        [GOSSIP_WIRE_ETYPE] = "unknown or misplaced message type",
        [GOSSIP_WIRE_EFIELD] = "field out of range",
        [GOSSIP_WIRE_ETRAILING] = "trailing bytes",
        [GOSSIP_WIRE_ENOMEM] = "out of memory",
    };
    if (err < 0 || err >= GOSSIP_WIRE_ECOUNT)
        return "unknown error";
    return text[err];
}

void gossip_wire_count(struct gossip_wire_counters *c, int err)
{
    if (err == GOSSIP_WIRE_OK) {
        c->ok++;
        return;
    }
    c->bad++;
    if (err > 0 && err < GOSSIP_WIRE_ECOUNT)
        c->by_err[err]++;
}

/* ---- field sizes (mirror the put* functions below exactly) ---- */

/* Length of a NUL-terminated string in a max-byte array, or -1 if it is not terminated there. */
static long strLen(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    return n < max ? (long)n : -1;
}

static bool nameOk(const char *s)
{
    long n = strLen(s, GOSSIP_NAME_MAX);
    return n > 0;
}

static bool addrOk(const struct gossip_addr *a)
{
    return a->family == GOSSIP_AF_INET || a->family == GOSSIP_AF_INET6;
}

static bool tagsOk(const struct gossip_tags *t)
{
    return (t->role == GOSSIP_ROLE_CLIENT || t->role == GOSSIP_ROLE_SERVER) &&
           t->bootstrap <= GOSSIP_BOOTSTRAP_EXPECT && strLen(t->dc, GOSSIP_DC_MAX) >= 0 &&
           strLen(t->build, GOSSIP_BUILD_MAX) >= 0 && t->proto_min <= t->proto_cur &&
           t->proto_cur <= t->proto_max;
}

static bool memberOk(const struct gossip_member *m)
{
    return nameOk(m->name) && addrOk(&m->addr) && m->state >= GOSSIP_STATE_ALIVE &&
           m->state <= GOSSIP_STATE_LEFT && tagsOk(&m->tags);
}

static size_t nameSize(const char *s)
{
    return 1 + strnlen(s, GOSSIP_NAME_MAX);
}

static size_t addrSize(const struct gossip_addr *a)
{
    return 1 + (a->family == GOSSIP_AF_INET ? 4 : 16) + 2;
}

static size_t tagsSize(const struct gossip_tags *t)
{
    return 27 + strnlen(t->dc, GOSSIP_DC_MAX) + strnlen(t->build, GOSSIP_BUILD_MAX);
}

static size_t memberSize(const struct gossip_member *m)
{
    return nameSize(m->name) + addrSize(&m->addr) + 8 + 1 + tagsSize(&m->tags);
}

/* Bytes of type + body, or 0 if the message may not be encoded. */
static size_t bodySize(const struct gossip_msg *m)
{
    switch (m->type) {
    case GOSSIP_MSG_PING: {
        const struct gossip_msg_ping *x = &m->u.ping;
        if (!nameOk(x->node) || !nameOk(x->source))
            return 0;
        return 1 + 4 + nameSize(x->node) + nameSize(x->source);
    }
    case GOSSIP_MSG_PING_REQ: {
        const struct gossip_msg_ping_req *x = &m->u.ping_req;
        if (!nameOk(x->node) || !nameOk(x->source) || !addrOk(&x->addr))
            return 0;
        return 1 + 4 + nameSize(x->node) + addrSize(&x->addr) + 1 + nameSize(x->source);
    }
    case GOSSIP_MSG_ACK:
    case GOSSIP_MSG_NACK:
        return 1 + 4;
    case GOSSIP_MSG_SUSPECT:
    case GOSSIP_MSG_DEAD: {
        /* suspect and dead share a layout: incarnation, node, accuser */
        const char *node = m->type == GOSSIP_MSG_SUSPECT ? m->u.suspect.node : m->u.dead.node;
        const char *from = m->type == GOSSIP_MSG_SUSPECT ? m->u.suspect.from : m->u.dead.from;
        if (!nameOk(node) || !nameOk(from))
            return 0;
        return 1 + 8 + nameSize(node) + nameSize(from);
    }
    case GOSSIP_MSG_ALIVE: {
        const struct gossip_msg_alive *x = &m->u.alive;
        if (!nameOk(x->node) || !addrOk(&x->addr) || !tagsOk(&x->tags))
            return 0;
        return 1 + 8 + nameSize(x->node) + addrSize(&x->addr) + tagsSize(&x->tags);
    }
    case GOSSIP_MSG_PUSH_PULL: {
        const struct gossip_msg_push_pull *x = &m->u.push_pull;
        if (x->n_states > GOSSIP_PUSH_PULL_MAX || (x->n_states > 0 && x->states == NULL))
            return 0;
        size_t sz = 1 + 1 + 1 + 4;
        for (uint32_t i = 0; i < x->n_states; i++) {
            if (!memberOk(&x->states[i]))
                return 0;
            sz += memberSize(&x->states[i]);
        }
        return sz;
    }
    case GOSSIP_MSG_ERR: {
        long n = strLen(m->u.err.text, GOSSIP_ERR_MAX);
        return n < 0 ? 0 : 1 + 1 + (size_t)n;
    }
    default:
        return 0;
    }
}

size_t gossip_wire_msg_size(const struct gossip_msg *m)
{
    size_t b = bodySize(m);
    if (b == 0 || b > UINT16_MAX || m->type == GOSSIP_MSG_PUSH_PULL)
        return 0;
    return DGRAM_LENW + b;
}

/* ---- encoder ---- */

static void putName(struct codec_wr *w, const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    codec_put_u8(w, (uint8_t)n);
    codec_put_bytes(w, s, n);
}

static void putAddr(struct codec_wr *w, const struct gossip_addr *a)
{
    codec_put_u8(w, a->family);
    codec_put_bytes(w, a->ip, a->family == GOSSIP_AF_INET ? 4 : 16);
    codec_put_u16(w, a->port);
}

static void putTags(struct codec_wr *w, const struct gossip_tags *t)
{
    codec_put_u8(w, t->role);
    putName(w, t->dc, GOSSIP_DC_MAX);
    codec_put_u16(w, t->rpc_port);
    codec_put_u64(w, t->raft_id);
    codec_put_u8(w, t->bootstrap);
    codec_put_u8(w, t->expect);
    putName(w, t->build, GOSSIP_BUILD_MAX);
    codec_put_u8(w, t->proto_min);
    codec_put_u8(w, t->proto_max);
    codec_put_u8(w, t->proto_cur);
    codec_put_u8(w, t->raft_vsn);
    codec_put_u64(w, t->cluster_id);
}

static void putMember(struct codec_wr *w, const struct gossip_member *m)
{
    putName(w, m->name, GOSSIP_NAME_MAX);
    putAddr(w, &m->addr);
    codec_put_u64(w, m->incarnation);
    codec_put_u8(w, m->state);
    putTags(w, &m->tags);
}

/* Writes type + body; the caller has validated m through bodySize. */
static void putMsg(struct codec_wr *w, const struct gossip_msg *m)
{
    codec_put_u8(w, m->type);
    switch (m->type) {
    case GOSSIP_MSG_PING:
        codec_put_u32(w, m->u.ping.seq);
        putName(w, m->u.ping.node, GOSSIP_NAME_MAX);
        putName(w, m->u.ping.source, GOSSIP_NAME_MAX);
        break;
    case GOSSIP_MSG_PING_REQ:
        codec_put_u32(w, m->u.ping_req.seq);
        putName(w, m->u.ping_req.node, GOSSIP_NAME_MAX);
        putAddr(w, &m->u.ping_req.addr);
        codec_put_u8(w, m->u.ping_req.nack ? 1 : 0);
        putName(w, m->u.ping_req.source, GOSSIP_NAME_MAX);
        break;
    case GOSSIP_MSG_ACK:
        codec_put_u32(w, m->u.ack.seq);
        break;
    case GOSSIP_MSG_NACK:
        codec_put_u32(w, m->u.nack.seq);
        break;
    case GOSSIP_MSG_SUSPECT:
        codec_put_u64(w, m->u.suspect.incarnation);
        putName(w, m->u.suspect.node, GOSSIP_NAME_MAX);
        putName(w, m->u.suspect.from, GOSSIP_NAME_MAX);
        break;
    case GOSSIP_MSG_DEAD:
        codec_put_u64(w, m->u.dead.incarnation);
        putName(w, m->u.dead.node, GOSSIP_NAME_MAX);
        putName(w, m->u.dead.from, GOSSIP_NAME_MAX);
        break;
    case GOSSIP_MSG_ALIVE:
        codec_put_u64(w, m->u.alive.incarnation);
        putName(w, m->u.alive.node, GOSSIP_NAME_MAX);
        putAddr(w, &m->u.alive.addr);
        putTags(w, &m->u.alive.tags);
        break;
    case GOSSIP_MSG_PUSH_PULL:
        codec_put_u8(w, m->u.push_pull.join ? 1 : 0);
        codec_put_u8(w, m->u.push_pull.reply ? 1 : 0);
        codec_put_u32(w, m->u.push_pull.n_states);
        for (uint32_t i = 0; i < m->u.push_pull.n_states; i++)
            putMember(w, &m->u.push_pull.states[i]);
        break;
    case GOSSIP_MSG_ERR:
        putName(w, m->u.err.text, GOSSIP_ERR_MAX);
        break;
    default:
        break;
    }
}

/* Header, then each message behind a length prefix of lenw bytes. The CRC covers the header's
 * first four bytes and everything after the CRC field, so flipping any bit but the CRC's own is
 * caught, and a flip inside the CRC mismatches too. */
static int encodeFrame(const struct gossip_msg *msgs, size_t n, struct buf *out, bool stream)
{
    size_t start = out->len;
    size_t lenw = stream ? STREAM_LENW : DGRAM_LENW;
    size_t hdr = stream ? GOSSIP_WIRE_STREAM_HDR : GOSSIP_WIRE_DGRAM_HDR;
    size_t max = stream ? GOSSIP_WIRE_STREAM_MAX : GOSSIP_WIRE_DGRAM_MAX;
    if (n == 0 || n > GOSSIP_WIRE_MSGS_MAX)
        return GOSSIP_WIRE_ETOOBIG;
    size_t total = hdr;
    for (size_t i = 0; i < n; i++) {
        size_t b = bodySize(&msgs[i]);
        if (b == 0)
            return msgs[i].type >= GOSSIP_MSG_PING && msgs[i].type <= GOSSIP_MSG_ERR
                       ? GOSSIP_WIRE_EFIELD
                       : GOSSIP_WIRE_ETYPE;
        if (!stream && msgs[i].type == GOSSIP_MSG_PUSH_PULL)
            return GOSSIP_WIRE_ETYPE;
        if (b > (stream ? max : UINT16_MAX))
            return GOSSIP_WIRE_ETOOBIG;
        total += lenw + b;
        if (total > max)
            return GOSSIP_WIRE_ETOOBIG;
    }
    if (buf_reserve(out, total) != 0)
        return GOSSIP_WIRE_ENOMEM;
    struct codec_wr w;
    codec_wr_init(&w, out);
    codec_put_u8(&w, GOSSIP_WIRE_VERSION);
    codec_put_u8(&w, 0);
    codec_put_u16(&w, (uint16_t)n);
    codec_put_u32(&w, 0); /* CRC, patched below */
    if (stream)
        codec_put_u32(&w, (uint32_t)(total - hdr));
    for (size_t i = 0; i < n; i++) {
        size_t b = bodySize(&msgs[i]);
        if (stream)
            codec_put_u32(&w, (uint32_t)b);
        else
            codec_put_u16(&w, (uint16_t)b);
        putMsg(&w, &msgs[i]);
    }
    if (!codec_wr_ok(&w) || out->len - start != total) {
        out->len = start;
        return GOSSIP_WIRE_ENOMEM;
    }
    uint8_t *p = out->data + start;
    uint32_t crc = crc32c(0, p, 4);
    crc = crc32c(crc, p + 8, total - 8);
    codec_store_u32(p + 4, crc);
    return GOSSIP_WIRE_OK;
}

int gossip_wire_encode_dgram(const struct gossip_msg *msgs, size_t n, struct buf *out)
{
    return encodeFrame(msgs, n, out, false);
}

int gossip_wire_encode_stream(const struct gossip_msg *msgs, size_t n, struct buf *out)
{
    return encodeFrame(msgs, n, out, true);
}

int gossip_wire_encode(const struct gossip_packet *p, struct buf *out)
{
    if (p->n_msgs > 0 && p->msgs == NULL)
        return GOSSIP_WIRE_EFIELD;
    return encodeFrame(p->msgs, p->n_msgs, out, p->transport == GOSSIP_TCP);
}

/* ---- decoder ---- */

/* Reads a u8-length string into dst[max]: the length must leave room for the NUL, there must be
 * no NUL inside, and a name (min 1) must not be empty. */
static bool getName(struct codec_rd *r, char *dst, size_t max, size_t min)
{
    uint8_t n = codec_get_u8(r);
    const uint8_t *s = codec_get_bytes(r, n);
    if (s == NULL || n >= max || n < min || memchr(s, '\0', n) != NULL)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

static bool getAddr(struct codec_rd *r, struct gossip_addr *a)
{
    memset(a, 0, sizeof *a);
    a->family = codec_get_u8(r);
    if (a->family != GOSSIP_AF_INET && a->family != GOSSIP_AF_INET6)
        return false;
    size_t n = a->family == GOSSIP_AF_INET ? 4 : 16;
    const uint8_t *ip = codec_get_bytes(r, n);
    if (ip == NULL)
        return false;
    memcpy(a->ip, ip, n);
    a->port = codec_get_u16(r);
    return codec_rd_ok(r);
}

static bool getBool(struct codec_rd *r, bool *v)
{
    uint8_t b = codec_get_u8(r);
    *v = b == 1;
    return codec_rd_ok(r) && b <= 1;
}

static bool getTags(struct codec_rd *r, struct gossip_tags *t, uint8_t version)
{
    memset(t, 0, sizeof *t);
    t->role = codec_get_u8(r);
    if (!getName(r, t->dc, GOSSIP_DC_MAX, 0))
        return false;
    t->rpc_port = codec_get_u16(r);
    t->raft_id = codec_get_u64(r);
    t->bootstrap = codec_get_u8(r);
    t->expect = codec_get_u8(r);
    if (!getName(r, t->build, GOSSIP_BUILD_MAX, 0))
        return false;
    t->proto_min = codec_get_u8(r);
    t->proto_max = codec_get_u8(r);
    t->proto_cur = codec_get_u8(r);
    t->raft_vsn = codec_get_u8(r);
    t->cluster_id = version >= 2 ? codec_get_u64(r) : 0;
    return codec_rd_ok(r) && tagsOk(t);
}

static bool getMember(struct codec_rd *r, struct gossip_member *m, uint8_t version)
{
    memset(m, 0, sizeof *m);
    if (!getName(r, m->name, GOSSIP_NAME_MAX, 1) || !getAddr(r, &m->addr))
        return false;
    m->incarnation = codec_get_u64(r);
    m->state = codec_get_u8(r);
    return codec_rd_ok(r) && getTags(r, &m->tags, version) && memberOk(m);
}

static void msgFree(struct gossip_msg *m)
{
    if (m->type == GOSSIP_MSG_PUSH_PULL) {
        free(m->u.push_pull.states);
        m->u.push_pull.states = NULL;
        m->u.push_pull.n_states = 0;
    }
}

/* Decodes one message occupying exactly the reader's bytes. */
static int getMsg(struct codec_rd *r, struct gossip_msg *m, bool stream, uint8_t version)
{
    memset(m, 0, sizeof *m);
    m->type = codec_get_u8(r);
    bool ok;
    switch (m->type) {
    case GOSSIP_MSG_PING: {
        struct gossip_msg_ping *x = &m->u.ping;
        x->seq = codec_get_u32(r);
        ok = getName(r, x->node, GOSSIP_NAME_MAX, 1) && getName(r, x->source, GOSSIP_NAME_MAX, 1);
        break;
    }
    case GOSSIP_MSG_PING_REQ: {
        struct gossip_msg_ping_req *x = &m->u.ping_req;
        x->seq = codec_get_u32(r);
        ok = getName(r, x->node, GOSSIP_NAME_MAX, 1) && getAddr(r, &x->addr) &&
             getBool(r, &x->nack) && getName(r, x->source, GOSSIP_NAME_MAX, 1);
        break;
    }
    case GOSSIP_MSG_ACK:
        m->u.ack.seq = codec_get_u32(r);
        ok = true;
        break;
    case GOSSIP_MSG_NACK:
        m->u.nack.seq = codec_get_u32(r);
        ok = true;
        break;
    case GOSSIP_MSG_SUSPECT: {
        struct gossip_msg_suspect *x = &m->u.suspect;
        x->incarnation = codec_get_u64(r);
        ok = getName(r, x->node, GOSSIP_NAME_MAX, 1) && getName(r, x->from, GOSSIP_NAME_MAX, 1);
        break;
    }
    case GOSSIP_MSG_DEAD: {
        struct gossip_msg_dead *x = &m->u.dead;
        x->incarnation = codec_get_u64(r);
        ok = getName(r, x->node, GOSSIP_NAME_MAX, 1) && getName(r, x->from, GOSSIP_NAME_MAX, 1);
        break;
    }
    case GOSSIP_MSG_ALIVE: {
        struct gossip_msg_alive *x = &m->u.alive;
        x->incarnation = codec_get_u64(r);
        ok = getName(r, x->node, GOSSIP_NAME_MAX, 1) && getAddr(r, &x->addr) &&
             getTags(r, &x->tags, version);
        break;
    }
    case GOSSIP_MSG_PUSH_PULL: {
        if (!stream)
            return GOSSIP_WIRE_ETYPE; /* full state is only accepted on a stream */
        struct gossip_msg_push_pull *x = &m->u.push_pull;
        if (!getBool(r, &x->join) || !getBool(r, &x->reply))
            return codec_rd_ok(r) ? GOSSIP_WIRE_EFIELD : GOSSIP_WIRE_ESHORT;
        uint32_t n = codec_get_u32(r);
        if (!codec_rd_ok(r))
            return GOSSIP_WIRE_ESHORT;
        if (n > GOSSIP_PUSH_PULL_MAX)
            return GOSSIP_WIRE_ETOOBIG;
        /* Allocate only for members whose bytes are actually present. */
        if ((size_t)n * MEMBER_MIN > codec_rd_remaining(r))
            return GOSSIP_WIRE_ESHORT;
        if (n > 0) {
            x->states = calloc(n, sizeof *x->states);
            if (x->states == NULL)
                return GOSSIP_WIRE_ENOMEM;
        }
        x->n_states = n;
        ok = true;
        for (uint32_t i = 0; i < n && ok; i++)
            ok = getMember(r, &x->states[i], version);
        break;
    }
    case GOSSIP_MSG_ERR:
        ok = getName(r, m->u.err.text, GOSSIP_ERR_MAX, 0);
        break;
    default:
        return GOSSIP_WIRE_ETYPE;
    }
    if (!codec_rd_ok(r))
        return GOSSIP_WIRE_ESHORT;
    if (!ok)
        return GOSSIP_WIRE_EFIELD;
    if (codec_rd_remaining(r) != 0)
        return GOSSIP_WIRE_ETRAILING;
    return GOSSIP_WIRE_OK;
}

static int decodeFrame(const uint8_t *p, size_t len, struct gossip_packet *out, bool stream)
{
    out->n_msgs = 0;
    out->msgs = NULL;
    out->transport = stream ? GOSSIP_TCP : GOSSIP_UDP;
    size_t hdr = stream ? GOSSIP_WIRE_STREAM_HDR : GOSSIP_WIRE_DGRAM_HDR;
    size_t lenw = stream ? STREAM_LENW : DGRAM_LENW;
    if (len > (stream ? GOSSIP_WIRE_STREAM_HDR + (size_t)GOSSIP_WIRE_STREAM_MAX : GOSSIP_WIRE_DGRAM_MAX))
        return GOSSIP_WIRE_ETOOBIG;
    struct codec_rd r;
    codec_rd_init(&r, p, len);
    uint8_t version = codec_get_u8(&r);
    uint8_t flags = codec_get_u8(&r);
    uint16_t count = codec_get_u16(&r);
    uint32_t crc = codec_get_u32(&r);
    uint32_t body = stream ? codec_get_u32(&r) : 0;
    if (!codec_rd_ok(&r))
        return GOSSIP_WIRE_ESHORT;
    /* An older agent's frames are read (a rolling upgrade); a newer one's are refused whole. */
    if (version < GOSSIP_WIRE_VERSION_MIN || version > GOSSIP_WIRE_VERSION || flags != 0)
        return GOSSIP_WIRE_EVERSION;
    if (stream && body != len - hdr)
        return body > len - hdr ? GOSSIP_WIRE_ESHORT : GOSSIP_WIRE_ETRAILING;
    /* The checksum comes before any field is believed: a flipped length must not steer us. */
    if (crc32c(crc32c(0, p, 4), p + 8, len - 8) != crc)
        return GOSSIP_WIRE_ECRC;
    if (count == 0 || count > GOSSIP_WIRE_MSGS_MAX)
        return GOSSIP_WIRE_ETOOBIG;
    if ((size_t)count * (lenw + 1) > codec_rd_remaining(&r))
        return GOSSIP_WIRE_ESHORT;
    struct gossip_msg *msgs = calloc(count, sizeof *msgs);
    if (msgs == NULL)
        return GOSSIP_WIRE_ENOMEM;
    int err = GOSSIP_WIRE_OK;
    uint16_t i;
    for (i = 0; i < count; i++) {
        size_t mlen = stream ? codec_get_u32(&r) : codec_get_u16(&r);
        const uint8_t *mp = codec_get_bytes(&r, mlen);
        if (mp == NULL || mlen == 0) {
            err = GOSSIP_WIRE_ESHORT;
            break;
        }
        struct codec_rd mr;
        codec_rd_init(&mr, mp, mlen);
        err = getMsg(&mr, &msgs[i], stream, version);
        if (err != GOSSIP_WIRE_OK) {
            msgFree(&msgs[i]);
            break;
        }
    }
    if (err == GOSSIP_WIRE_OK && codec_rd_remaining(&r) != 0)
        err = GOSSIP_WIRE_ETRAILING;
    if (err != GOSSIP_WIRE_OK) {
        for (uint16_t j = 0; j < i && j < count; j++)
            msgFree(&msgs[j]);
        free(msgs);
        return err;
    }
    out->msgs = msgs;
    out->n_msgs = count;
    return GOSSIP_WIRE_OK;
}

int gossip_wire_decode_dgram(const uint8_t *p, size_t len, struct gossip_packet *out)
{
    return decodeFrame(p, len, out, false);
}

int gossip_wire_decode_stream(const uint8_t *p, size_t len, struct gossip_packet *out)
{
    return decodeFrame(p, len, out, true);
}

int gossip_wire_stream_need(const uint8_t *p, size_t len, size_t *need)
{
    *need = 0;
    if (len >= 1 && (p[0] < GOSSIP_WIRE_VERSION_MIN || p[0] > GOSSIP_WIRE_VERSION))
        return GOSSIP_WIRE_EVERSION;
    if (len >= 2 && p[1] != 0)
        return GOSSIP_WIRE_EVERSION;
    if (len < GOSSIP_WIRE_STREAM_HDR)
        return GOSSIP_WIRE_OK;
    uint32_t body = codec_load_u32(p + 8);
    if (body > GOSSIP_WIRE_STREAM_MAX)
        return GOSSIP_WIRE_ETOOBIG;
    *need = GOSSIP_WIRE_STREAM_HDR + (size_t)body;
    return GOSSIP_WIRE_OK;
}

void gossip_wire_packet_free(struct gossip_packet *p)
{
    for (uint32_t i = 0; i < p->n_msgs; i++)
        msgFree(&p->msgs[i]);
    free(p->msgs);
    p->msgs = NULL;
    p->n_msgs = 0;
}
