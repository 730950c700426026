/* fuzz_gossip_wire.c — libFuzzer target for the gossip datagram and stream decoders; whatever
 * they accept must re-encode to exactly its input bytes (or, for an older wire version, to a
 * current frame that decodes to the same messages). */
/* The first input byte picks the framing (bit 0: stream) and whether to reseal the CRC (bit 1),
 * so that mutations reach the fields instead of all dying at the checksum. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "gossip/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool stream = data[0] & 1;
    bool reseal = data[0] & 2;
    size_t len = size - 1;
    uint8_t *p = malloc(len ? len : 1);
    if (p == NULL)
        return 0;
    memcpy(p, data + 1, len);
    if (reseal && len >= 8)
        codec_store_u32(p + 4, crc32c(crc32c(0, p, 4), p + 8, len - 8));

    if (stream) {
        size_t need = 0;
        int rc = gossip_wire_stream_need(p, len, &need);
        if (rc == GOSSIP_WIRE_OK && len >= GOSSIP_WIRE_STREAM_HDR &&
            (need < GOSSIP_WIRE_STREAM_HDR || need > GOSSIP_WIRE_STREAM_HDR + GOSSIP_WIRE_STREAM_MAX))
            abort();
    }
    struct gossip_packet pk;
    int rc = stream ? gossip_wire_decode_stream(p, len, &pk) : gossip_wire_decode_dgram(p, len, &pk);
    if (rc != GOSSIP_WIRE_OK) {
        if (pk.n_msgs != 0 || pk.msgs != NULL)
            abort();
    } else {
        /* The encoding is canonical: what was accepted re-encodes byte for byte, and the size
         * function agrees with the datagram the core would have packed. An older version's
         * frame re-encodes in the current one, which must decode to the same messages. */
        struct buf b;
        buf_init(&b, 0);
        if (gossip_wire_encode(&pk, &b) != GOSSIP_WIRE_OK)
            abort();
        if (p[0] == GOSSIP_WIRE_VERSION) {
            if (b.len != len || memcmp(b.data, p, len) != 0)
                abort();
        } else {
            struct gossip_packet again;
            int rc2 = stream ? gossip_wire_decode_stream(b.data, b.len, &again)
                             : gossip_wire_decode_dgram(b.data, b.len, &again);
            if (rc2 != GOSSIP_WIRE_OK || again.n_msgs != pk.n_msgs)
                abort();
            for (uint32_t i = 0; i < pk.n_msgs; i++)
                if (again.msgs[i].type != pk.msgs[i].type)
                    abort();
            gossip_wire_packet_free(&again);
        }
        if (!stream && p[0] == GOSSIP_WIRE_VERSION) {
            size_t sum = GOSSIP_WIRE_DGRAM_HDR;
            for (uint32_t i = 0; i < pk.n_msgs; i++)
                sum += gossip_wire_msg_size(&pk.msgs[i]);
            if (sum != len)
                abort();
        }
        buf_free(&b);
        gossip_wire_packet_free(&pk);
    }
    free(p);
    return 0;
}
