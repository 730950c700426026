/* fuzz_config.c — libFuzzer target for agent config decoding (JSON, then Consul's keys and
 * types): any input is accepted or refused with a one-line message, never a crash or a leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    err[0] = '\0';
    if (agent_config_check_json("fuzz.json", (const char *)data, size, err, sizeof err) != 0) {
        /* A refusal always explains itself, on one line, naming the file. */
        if (strncmp(err, "Error decoding 'fuzz.json': ", 28) != 0 || strchr(err, '\n') != NULL)
            abort();
    }
    return 0;
}
