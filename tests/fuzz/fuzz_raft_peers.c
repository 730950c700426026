/* fuzz_raft_peers.c — libFuzzer target for the peers.json parser (both of Consul's forms). Any
 * input either fails with a reason or yields a configuration with a voter and unique members. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "raft/config.h"
#include "raft/peers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct raft_server known_sv[2] = {{1, "127.0.0.1:8300", true}, {0x2a, "10.0.0.2:8300", true}};
    struct raft_config known = {2, known_sv};
    for (int pass = 0; pass < 2; pass++) {
        struct raft_config c;
        char err[256] = "";
        if (raft_peers_parse((const char *)data, size, pass ? &known : NULL, &c, err,
                             sizeof err) != 0) {
            if (err[0] == '\0')
                abort();
            continue;
        }
        if (c.n == 0 || raft_config_voters(&c) == 0)
            abort();
        for (uint32_t i = 0; i < c.n; i++) {
            if (c.servers[i].id == 0 || c.servers[i].addr[0] == '\0')
                abort();
            for (uint32_t k = i + 1; k < c.n; k++)
                if (c.servers[i].id == c.servers[k].id ||
                    strcmp(c.servers[i].addr, c.servers[k].addr) == 0)
                    abort();
        }
        raft_config_free(&c);
    }
    return 0;
}
