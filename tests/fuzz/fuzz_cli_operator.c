/* fuzz_cli_operator.c — libFuzzer target for what `tribune operator raft list-peers` makes of an
 * agent's answer: any bytes render or are refused with one line, never a crash, a leak, or a
 * control character reaching the terminal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/operator.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    struct buf out;
    buf_init(&out, 0);
    err[0] = '\0';
    int rc = cli_operator_peers_render((const char *)data, size, &out, err, sizeof err);
    if (rc == 0) {
        /* a header and one line per row, nothing that moves the cursor */
        if (out.len == 0 || out.data[out.len - 1] != '\n')
            abort();
        for (size_t i = 0; i < out.len; i++) {
            uint8_t c = out.data[i];
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
                abort();
        }
    } else if (rc != 1 || out.len != 0 || err[0] == '\0' || strchr(err, '\n') != NULL) {
        abort();
    }
    buf_free(&out);
    return 0;
}
