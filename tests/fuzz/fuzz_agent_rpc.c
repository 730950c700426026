/* fuzz_agent_rpc.c — libFuzzer target for the agent RPC frame decoder: any bytes give a frame
 * that re-encodes to exactly the bytes consumed, a request for more, or a one-line refusal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/rpc_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct agent_rpc_frame f;
    size_t used = 0;
    char err[160] = "";
    enum agent_rpc_status st = agent_rpc_decode(data, size, &f, &used, err, sizeof err);
    if (st == AGENT_RPC_ERROR) {
        if (err[0] == '\0' || strchr(err, '\n') != NULL)
            abort();
        return 0;
    }
    if (st == AGENT_RPC_NEED_MORE)
        return 0;
    if (used > size)
        abort();
    struct buf b;
    buf_init(&b, 0);
    if (agent_rpc_encode(&f, &b) != 0 || b.len != used || memcmp(b.data, data, used) != 0)
        abort();
    buf_free(&b);
    return 0;
}
