/* query.h — Consul's query-string conventions shared by the API handlers: Go durations, blocking
 * query parameters (?index=&wait=) and the ?stale / ?consistent pair, with Consul's error text. */
#ifndef TRIBUNE_HTTP_QUERY_H
#define TRIBUNE_HTTP_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "http/parser.h"

/* Consul's cap on a blocking query's wait, and the wait used when only ?index is given. */
#define HTTP_MAX_QUERY_MS (600u * 1000u)

/* Parses a Go duration ("10s", "1m30s", "1.5h", "250ms", "0") into milliseconds, rounding
 * sub-millisecond remainders up so a tiny wait never becomes "no wait". Negative or overflowing
 * values are refused. 0 or -1. */
int http_parse_duration(const char *s, uint64_t *ms);

enum http_consistency {
    HTTP_CONSISTENCY_DEFAULT,
    HTTP_CONSISTENCY_STALE,
    HTTP_CONSISTENCY_CONSISTENT,
};

struct http_query_opts {
    bool blocking;     /* ?index given and > 0 */
    uint64_t index;    /* ?index, 0 when absent */
    uint64_t wait_ms;  /* capped at HTTP_MAX_QUERY_MS; that cap when blocking without ?wait */
    enum http_consistency consistency;
    const char *dc;    /* ?dc, NULL when absent */
};

/* Reads ?index, ?wait, ?stale, ?consistent and ?dc. 0, or -1 with *errmsg set to the exact text
 * Consul answers with a 400: "Invalid wait time", "Invalid index", or "Cannot specify ?stale with
 * ?consistent, conflicting semantics." */
int http_query_opts_parse(const struct http_message *m, struct http_query_opts *out,
                          const char **errmsg);

/* Appends s[0..len) percent-encoded for a path or query value: everything but ALPHA, DIGIT,
 * "-._~" (and '/' when keep_slash) becomes %XX, so a key like "a b?c" reaches the server intact.
 * 0 or -1 when out is full. */
int http_pct_encode(struct buf *out, const char *s, size_t len, bool keep_slash);

#endif
