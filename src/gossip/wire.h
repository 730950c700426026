/* wire.h — the gossip wire format: datagrams (one or several messages, CRC-32C, version byte) and
 * length-prefixed stream frames for push-pull, with every length bounded. See tribune-gossip(7). */
#ifndef TRIBUNE_GOSSIP_WIRE_H
#define TRIBUNE_GOSSIP_WIRE_H

#include "base/buf.h"
#include "gossip/msg.h"

#define GOSSIP_WIRE_VERSION 2     /* written; 2 added the cluster id to the tags */
#define GOSSIP_WIRE_VERSION_MIN 1 /* oldest read: version 1 tags end at the Raft version */
#define GOSSIP_WIRE_DGRAM_HDR 8   /* u8 version, u8 flags, u16 count, u32 crc32c */
#define GOSSIP_WIRE_STREAM_HDR 12 /* the same, then u32 length of the body */
#define GOSSIP_WIRE_UDP_MAX 1400  /* default payload budget: fits a 1500-byte MTU with headers */
#define GOSSIP_WIRE_DGRAM_MAX 65507u /* the largest UDP payload over IPv4 */
/* memberlist's maxPushStateBytes: a peer that announces more is cut off before we read it. */
#define GOSSIP_WIRE_STREAM_MAX (20u << 20)
#define GOSSIP_WIRE_MSGS_MAX 1024 /* messages in one packet; 1400 bytes hold at most ~200 */

/* Why a packet was refused. Every one means "dropped, counted, nothing of it trusted". */
enum gossip_wire_err {
    GOSSIP_WIRE_OK = 0,
    GOSSIP_WIRE_ESHORT = 1,    /* truncated: a length points past the end */
    GOSSIP_WIRE_EVERSION = 2,  /* unknown version byte or nonzero flags */
    GOSSIP_WIRE_ECRC = 3,      /* checksum mismatch */
    GOSSIP_WIRE_ETOOBIG = 4,   /* over the datagram, stream, message-count or member cap */
    GOSSIP_WIRE_ETYPE = 5,     /* unknown message type */
    GOSSIP_WIRE_EFIELD = 6,    /* a field out of its domain: name length, enum, bool, family */
    GOSSIP_WIRE_ETRAILING = 7, /* bytes left over inside a message or after the last one */
    GOSSIP_WIRE_ENOMEM = 8,
    GOSSIP_WIRE_ECOUNT = 9     /* number of error kinds, not an error */
};

/* Per-socket tallies kept by whoever receives; the agent's `info` shows them. */
struct gossip_wire_counters {
    uint64_t ok;
    uint64_t bad;
    uint64_t by_err[GOSSIP_WIRE_ECOUNT];
};

const char *gossip_wire_strerror(int err);
/* Adds one decode result (0 or a gossip_wire_err) to the counters. */
void gossip_wire_count(struct gossip_wire_counters *c, int err);

/* Exact bytes m takes inside a datagram, its u16 length prefix included; the core's
 * cfg.msg_size. With GOSSIP_WIRE_DGRAM_HDR as cfg.packet_overhead, a packet whose sizes add up to
 * at most udp_max encodes to at most udp_max bytes. 0 if m cannot be encoded at all. */
size_t gossip_wire_msg_size(const struct gossip_msg *m);

/* Append one datagram / one stream frame holding msgs[0..n) to out. 0, or a gossip_wire_err:
 * EFIELD for a message the decoder would refuse (so a bad struct never leaves the node),
 * ETOOBIG past GOSSIP_WIRE_DGRAM_MAX / GOSSIP_WIRE_STREAM_MAX / GOSSIP_WIRE_MSGS_MAX, ENOMEM
 * if out refused to grow. On error out is restored to its length before the call. */
int gossip_wire_encode_dgram(const struct gossip_msg *msgs, size_t n, struct buf *out);
int gossip_wire_encode_stream(const struct gossip_msg *msgs, size_t n, struct buf *out);
/* Encodes p->msgs with the framing p->transport calls for. */
int gossip_wire_encode(const struct gossip_packet *p, struct buf *out);

/* Stream reassembly: given the first len bytes received, sets *need to the whole frame's length
 * once the header is complete (0 while fewer than GOSSIP_WIRE_STREAM_HDR bytes are in), so the
 * reader never buffers more than one frame. Refuses a bad version or a length over the cap
 * before any of the body is read. */
int gossip_wire_stream_need(const uint8_t *p, size_t len, size_t *need);

/* Decode exactly len bytes into out->msgs / out->n_msgs (allocated; free with
 * gossip_wire_packet_free) and set out->transport; peer and conn are the caller's. On error out
 * holds no messages and nothing is allocated. */
int gossip_wire_decode_dgram(const uint8_t *p, size_t len, struct gossip_packet *out);
int gossip_wire_decode_stream(const uint8_t *p, size_t len, struct gossip_packet *out);
void gossip_wire_packet_free(struct gossip_packet *p);

#endif
