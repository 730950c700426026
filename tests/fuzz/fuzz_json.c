/* fuzz_json.c — libFuzzer target for the JSON parser: any input must parse or fail cleanly, and
 * whatever parses must survive write -> reparse unchanged, with a byte-identical second writing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"

static void write_doc(const struct json_value *v, struct buf *b)
{
    struct json_wr w;
    json_wr_init(&w, b);
    json_wr_value(&w, v);
    if (!json_wr_ok(&w))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Small limits so the fuzzer reaches them; depth stays within the writer's 64 levels. */
    const struct json_limits lim = {.max_depth = 32, .max_bytes = 1u << 16, .max_nodes = 4096};
    struct json_value v, v2;
    struct json_error err;
    if (json_parse((const char *)data, size, &lim, &v, &err) != 0) {
        if (err.line == 0 || err.col == 0 || err.offset > size || err.msg[0] == '\0')
            abort();
        return 0;
    }
    struct buf b1, b2;
    buf_init(&b1, 0);
    buf_init(&b2, 0);
    write_doc(&v, &b1);
    /* The writer never emits more nodes or depth than it read, so the same limits must hold,
     * except that escaping can grow the text: size is unbounded for the reparse. */
    const struct json_limits lim2 = {.max_depth = 32, .max_bytes = (size_t)-1, .max_nodes = 4096};
    if (json_parse((const char *)b1.data, b1.len, &lim2, &v2, &err) != 0)
        abort();
    if (!json_equal(&v, &v2))
        abort();
    write_doc(&v2, &b2);
    if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0)
        abort();
    json_free(&v);
    json_free(&v2);
    buf_free(&b1);
    buf_free(&b2);
    return 0;
}
