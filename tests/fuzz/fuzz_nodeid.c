/* fuzz_nodeid.c — libFuzzer target for the DATA_DIR/node-id decoder: any bytes are accepted with a
 * nonzero id or refused with one line; an accepted file re-encodes to exactly the same bytes. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    err[0] = '\0';
    raft_id id = 0;
    const char *name = "node-a";
    if (agent_nodeid_parse("fuzz", (const char *)data, size, name, &id, err, sizeof err) != 0) {
        if (id != 0 || err[0] == '\0' || strchr(err, '\n') != NULL)
            abort();
        return 0;
    }
    /* Accepted: only the canonical encoding of a nonzero id for this name. */
    char text[256];
    int n = snprintf(text, sizeof text, "%016" PRIx64 "\n%s\n", id, name);
    if (id == 0 || n < 0 || (size_t)n != size || memcmp(text, data, size) != 0)
        abort();
    return 0;
}
