/* fuzz_raft_snapfile.c — libFuzzer target for the Raft node's snapshot file decoder. Any input
 * either fails with a reason or decodes to a snapshot that encodes and decodes back the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "raft/config.h"
#include "raft/node_snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct raft_snapshot s, t;
    char err[256] = "";
    if (raft_snapfile_decode(data, size, &s, err, sizeof err) != 0) {
        if (err[0] == '\0')
            abort();
        return 0;
    }
    if (s.index == 0 || s.term == 0 || s.len > size)
        abort();
    struct buf b;
    buf_init(&b, 0);
    if (raft_snapfile_encode(&s, &b) != 0)
        abort();
    if (raft_snapfile_decode(b.data, b.len, &t, err, sizeof err) != 0)
        abort();
    if (t.index != s.index || t.term != s.term || t.len != s.len ||
        !raft_config_equal(&t.config, &s.config) || (s.len && memcmp(t.data, s.data, s.len) != 0))
        abort();
    buf_free(&b);
    raft_snapfile_free(&s);
    raft_snapfile_free(&t);
    return 0;
}
