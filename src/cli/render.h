/* render.h — the pure halves of `tribune members` and `tribune info`: from the agent's JSON
 * answer to the exact text and exit code, with no I/O, so they are tested without an agent. */
#ifndef TRIBUNE_CLI_RENDER_H
#define TRIBUNE_CLI_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/json.h"

/* One table row for cli_columnize: cells beyond the table's columns are NULL. */
#define CLI_ROW_COLS 7
struct cli_row {
    char *cell[CLI_ROW_COLS];
};

/* columnize.SimpleFormat (members, operator raft list-peers): every column but the last padded
 * to its widest cell, two spaces between columns; rows[0] is the header. cols <= CLI_ROW_COLS. */
void cli_columnize(const struct cli_row *rows, size_t n, size_t cols, struct buf *out);

/* "alive", "leaving", "left", "failed" for Serf's 1..4; "none" for 0; "unknown" otherwise. */
const char *cli_member_status_name(int64_t status);

/* Renders body (a /v1/agent/members answer) as `tribune members` prints it: the table in out,
 * sorted by node name, only members whose status text matches the POSIX extended regex
 * status_re (NULL: all); detailed selects the Node/Address/Status/Tags table. Returns the exit
 * code: 0 rows shown, 2 no member matched (out empty), 1 with a one-line message in err
 * ("Failed to compile status regexp: ...", or a malformed answer). */
int cli_members_render(const char *body, size_t len, const char *status_re, bool detailed,
                       struct buf *out, char *err, size_t errlen);

/* Renders body (a /v1/agent/self answer) as `tribune info` prints it: each section of "Stats"
 * sorted by name as "name:\n", then "\tkey = value\n" sorted by key. Returns 0, or 1 with a
 * one-line message in err when the answer is malformed. */
int cli_info_render(const char *body, size_t len, struct buf *out, char *err, size_t errlen);

#endif
