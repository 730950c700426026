/* fuzz_loop_addr.c — libFuzzer target for the "ip:port" / "[ipv6]:port" parser. Any input either
 * fails with a message or parses to an address whose printed form parses back to the same one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loop/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[256];
    if (size >= sizeof s)
        size = sizeof s - 1;
    memcpy(s, data, size);
    s[size] = '\0'; /* an embedded NUL just ends the text early, as in a C caller */

    struct loop_addr a, b;
    char err[160] = "";
    if (loop_addr_parse(s, &a, err, sizeof err) != 0) {
        if (err[0] == '\0')
            abort(); /* every failure explains itself */
        return 0;
    }
    char out[LOOP_ADDR_STRLEN];
    loop_addr_format(&a, out, sizeof out);
    if (loop_addr_parse(out, &b, err, sizeof err) != 0 || !loop_addr_equal(&a, &b))
        abort();
    if (loop_addr_port(&a) != loop_addr_port(&b))
        abort();
    return 0;
}
