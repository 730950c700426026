/* fuzz_raft_wire.c — libFuzzer target for the Raft frame decoder and the snapshot reassembler.
 * Beyond not crashing, every decoded message must re-encode to exactly the bytes it came from. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "raft/wire.h"

#include "base/crc32c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_stream(const uint8_t *data, size_t size)
{
    struct raft_wire_snap_asm a;
    raft_wire_snap_asm_init(&a, 1u << 20);
    struct raft_wire_hello me = {1, 1, 1, "127.0.0.1:8300", "dc1", 0};
    size_t off = 0;
    for (;;) {
        struct raft_wire_frame f;
        size_t used;
        char err[256];
        if (raft_wire_decode(data + off, size - off, &f, &used, err, sizeof err) != RAFT_WIRE_OK)
            break;
        if (used == 0 || used > size - off)
            abort();
        if (f.type == RAFT_WIRE_SNAPSHOT_CHUNK) {
            struct raft_msg m;
            if (raft_wire_snap_asm_feed(&a, &f.u.chunk, &m, err, sizeof err) == 1)
                raft_wire_snapshot_free(&m);
        } else if (f.type == RAFT_WIRE_HELLO) {
            (void)raft_wire_hello_check(&me, &f.u.hello, 0, err, sizeof err);
        } else if (f.type != RAFT_WIRE_REFUSE && f.flags == 0) {
            struct buf b;
            buf_init(&b, 0);
            if (raft_wire_encode(&f.u.msg, &b) != 0 || b.len != used ||
                memcmp(b.data, data + off, used) != 0)
                abort();
            buf_free(&b);
        }
        raft_wire_frame_free(&f);
        off += used;
    }
    raft_wire_snap_asm_free(&a);
}

/* A mutated body almost never matches its CRC, which would keep the fuzzer at the checksum gate;
 * so each input also runs with every frame's CRC recomputed, reaching the body parsers. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode_stream(data, size);
    uint8_t *copy = malloc(size ? size : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    size_t off = 0;
    while (size - off >= RAFT_WIRE_HEADER_LEN) {
        uint8_t *h = copy + off;
        uint32_t body = codec_load_u32(h + 8);
        if (body > size - off - RAFT_WIRE_HEADER_LEN)
            break;
        codec_store_u32(h + 12, crc32c(crc32c(0, h, 12), h + RAFT_WIRE_HEADER_LEN, body));
        off += RAFT_WIRE_HEADER_LEN + (size_t)body;
    }
    decode_stream(copy, size);
    free(copy);
    return 0;
}
