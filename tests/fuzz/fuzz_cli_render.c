/* fuzz_cli_render.c — libFuzzer target for what `tribune members` and `tribune info` make of an
 * agent's answer: any bytes render or are refused with one line, never a crash, a leak, or a
 * control character reaching the terminal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const struct buf *out)
{
    for (size_t i = 0; i < out->len; i++) {
        uint8_t c = out->data[i];
        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
            abort();
    }
}

static void check_err(const char *err)
{
    if (err[0] == '\0' || strchr(err, '\n') != NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char err[512];
    struct buf out;
    for (int detailed = 0; detailed < 2; detailed++) {
        buf_init(&out, 0);
        err[0] = '\0';
        int rc = cli_members_render(s, size, detailed ? "a|f" : NULL, detailed, &out, err,
                                    sizeof err);
        if (rc == 1)
            check_err(err);
        else if (rc == 0)
            check_text(&out);
        else if (rc != 2 || out.len != 0)
            abort();
        buf_free(&out);
    }
    buf_init(&out, 0);
    err[0] = '\0';
    if (cli_info_render(s, size, &out, err, sizeof err) != 0)
        check_err(err);
    else
        check_text(&out);
    buf_free(&out);
    return 0;
}
