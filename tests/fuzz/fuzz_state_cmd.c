/* fuzz_state_cmd.c — libFuzzer target for the state machine's two decoders of untrusted bytes:
 * the input is applied as a Raft command, restored as a snapshot (as is, and with its CRC fixed
 * so the record validation is reached), and applied as a stream of u16-length-framed commands.
 * A refused command must leave the state as it was (only the applied index moves), an accepted
 * one must apply the same way twice, a refused snapshot must leave the old state intact, an
 * accepted snapshot must be canonical (snapshotting it again gives back exactly the input), and
 * any state a command stream builds must survive snapshot -> restore -> snapshot unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "state/state.h"

static void must(int ok)
{
    if (!ok)
        abort();
}

static void apply(struct state *st, uint64_t index, struct buf *cmd)
{
    struct state_result res;
    must(state_apply(st, index, cmd->data, cmd->len, &res) == STATE_OK);
    buf_clear(cmd);
}

/* A small catalog and KV, so commands find things to update, cascade and compare against. */
static struct state *base(void)
{
    struct state *st = state_create();
    must(st != NULL);
    struct buf b;
    buf_init(&b, 0);
    const char *tags[] = {"master"};
    struct state_service_def svc = {.id = "web1", .service = "web", .tags = tags, .n_tags = 1,
                                    .port = 80};
    struct state_check_def chk = {.check_id = "c1", .name = "alive", .status = STATE_PASSING,
                                  .service_id = "web1"};
    must(state_cmd_encode_register(&b, "n1", "10.0.0.1", "dc1", &svc, &chk, NULL) == 0);
    apply(st, 1, &b);
    must(state_cmd_encode_register(&b, "n2", "10.0.0.2", "dc1", NULL, NULL, NULL) == 0);
    apply(st, 2, &b);
    must(state_cmd_encode_kv_set(&b, "a/b", 1, "v", 1, false, 0, NULL) == 0);
    apply(st, 3, &b);
    must(state_cmd_encode_kv_set(&b, "a/c", 0, "", 0, false, 0, NULL) == 0);
    apply(st, 4, &b);
    buf_free(&b);
    return st;
}

static void snap(const struct state *st, struct buf *out)
{
    buf_clear(out);
    must(state_snapshot(st, out) == 0);
}

/* Exercises every query so records built from fuzzed fields are also rendered. */
static void query_all(const struct state *st)
{
    struct buf o;
    buf_init(&o, 0);
    uint64_t ix;
    must(state_query_catalog_nodes(st, &o, &ix) >= 0 && ix >= 1);
    must(state_query_catalog_node(st, "n1", &o, &ix) >= 0);
    must(state_query_catalog_services(st, &o, &ix) >= 0);
    must(state_query_catalog_service(st, "web", "MASTER", &o, &ix) >= 0);
    must(state_query_health_node(st, "n1", &o, &ix) >= 0);
    must(state_query_health_checks(st, "web", &o, &ix) >= 0);
    must(state_query_health_state(st, "any", &o, &ix) >= 0);
    must(state_query_health_service(st, "web", NULL, true, &o, &ix) >= 0);
    must(state_query_kv_list(st, "", &o, &ix) >= 0);
    must(state_query_kv_keys(st, "a", "/", &o, &ix) >= 0);
    must(state_query_kv_get(st, "a/b", &o, &ix) >= 0);
    buf_free(&o);
}

static void restore_check(const uint8_t *data, size_t size)
{
    struct buf before, after;
    buf_init(&before, 0);
    buf_init(&after, 0);
    struct state *st = base();
    snap(st, &before);
    if (state_restore(st, data, size, NULL) == 0) {
        snap(st, &after);
        must(after.len == size && memcmp(after.data, data, size) == 0);
        query_all(st);
    } else {
        snap(st, &after);
        must(before.len == after.len && memcmp(before.data, after.data, before.len) == 0);
    }
    state_destroy(st);
    buf_free(&before);
    buf_free(&after);
}

/* Frames: u16 length + command bytes, applied in order; then the snapshot round trip. */
static void stream_check(const uint8_t *data, size_t size)
{
    struct state *st = base(), *copy = state_create();
    must(copy != NULL);
    uint64_t index = 10;
    size_t off = 0;
    while (size - off >= 2) {
        size_t n = (size_t)data[off] << 8 | data[off + 1];
        off += 2;
        if (n > size - off)
            break;
        struct state_result res;
        enum state_err e = state_apply(st, index++, data + off, n, &res);
        must(e == STATE_OK || e == STATE_EMALFORMED || e == STATE_EREJECTED);
        off += n;
    }
    struct buf a, b;
    buf_init(&a, 0);
    buf_init(&b, 0);
    snap(st, &a);
    must(state_restore(copy, a.data, a.len, NULL) == 0);
    snap(copy, &b);
    must(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    query_all(copy);
    buf_free(&a);
    buf_free(&b);
    state_destroy(st);
    state_destroy(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf before, after, again;
    buf_init(&before, 0);
    buf_init(&after, 0);
    buf_init(&again, 0);

    /* As a command. */
    struct state *st = base(), *twin = base();
    snap(st, &before);
    struct state_result res, res2;
    enum state_err e = state_apply(st, 10, data, size, &res);
    must(e != STATE_EINDEX && e != STATE_ENOMEM);
    must(state_last_index(st) == 10);
    snap(st, &after);
    must((e == STATE_EMALFORMED) == (state_cmd_check(data, size, NULL) != 0));
    if (e != STATE_OK) {
        /* Bytes 5..12 hold the last applied index, the last 4 the CRC over it. */
        must(res.msg[0] != '\0' && before.len == after.len);
        must(memcmp(before.data + 13, after.data + 13, before.len - 17) == 0);
    }
    must(state_apply(twin, 10, data, size, &res2) == e && res2.value == res.value);
    snap(twin, &again);
    must(again.len == after.len && memcmp(again.data, after.data, after.len) == 0);
    query_all(st);
    state_destroy(st);
    state_destroy(twin);

    /* As a snapshot, then with its CRC made right. */
    restore_check(data, size);
    if (size >= 4) {
        uint8_t *fixed = malloc(size);
        must(fixed != NULL);
        memcpy(fixed, data, size);
        uint32_t c = crc32c(0, fixed, size - 4);
        fixed[size - 4] = (uint8_t)(c >> 24);
        fixed[size - 3] = (uint8_t)(c >> 16);
        fixed[size - 2] = (uint8_t)(c >> 8);
        fixed[size - 1] = (uint8_t)c;
        restore_check(fixed, size);
        free(fixed);
    }

    /* As a command stream. */
    stream_check(data, size);

    buf_free(&before);
    buf_free(&after);
    buf_free(&again);
    return 0;
}
