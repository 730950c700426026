/* fuzz_catalog_body.c — libFuzzer target for the catalog register/deregister body decoder: any
 * bytes give either one valid state command (state_cmd_check accepts it) or a one-line refusal
 * with nothing appended. The first byte picks register or deregister. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool reg = data[0] & 1;
    struct buf cmd;
    buf_init(&cmd, 0);
    char msg[256] = "";
    int status = 0;
    int rc = agent_catalog_decode(reg, data + 1, size - 1, "dc1", &cmd, &status, msg, sizeof msg);
    if (rc == 0) {
        char err[STATE_ERR_LEN];
        if (cmd.len == 0 || state_cmd_check(cmd.data, cmd.len, err) != 0)
            abort();
    } else if (cmd.len != 0 || msg[0] == '\0' || strchr(msg, '\n') != NULL ||
               (status != 400 && status != 500)) {
        abort();
    }
    buf_free(&cmd);
    return 0;
}
