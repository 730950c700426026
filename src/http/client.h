/* client.h — a small blocking HTTP/1.1 client for the CLI commands (short-lived processes, so
 * blocking is right): one request per connection, bounded response, optional streamed body. */
#ifndef TRIBUNE_HTTP_CLIENT_H
#define TRIBUNE_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "http/parser.h"

struct http_client_opts {
    uint64_t connect_timeout_ms; /* 0: 5 s */
    uint64_t io_timeout_ms;      /* longest wait for the peer after connecting; 0: no limit */
    size_t max_body;             /* 0: 64 MiB (ignored when streaming) */
};

struct http_client_header {
    const char *name;
    const char *value;
};

struct http_client_resp {
    int status;
    const char *body; /* NUL-terminated (the NUL not counted); NULL when streamed (2xx) */
    size_t body_len;
    struct http_parser p; /* owns the headers and body */
};

/* Sends method target (e.g. "/v1/kv/a?recurse"; escape keys with http_pct_encode) to addr
 * ("127.0.0.1:8500", "[::1]:8500", "localhost:8500"; an "http://" prefix is accepted) and reads
 * the whole response into resp.
 * body may be NULL; PUT and POST always carry a Content-Length. Returns 0 for any HTTP status,
 * or -1 with err holding Go-like text: "dial tcp 127.0.0.1:8500: connect: connection refused".
 * resp must be released with http_client_resp_free either way. */
int http_client_request(const char *addr, const char *method, const char *target,
                        const struct http_client_header *hdrs, size_t nhdrs, const void *body,
                        size_t body_len, const struct http_client_opts *opts,
                        struct http_client_resp *resp, char *err, size_t errlen);

/* The same, but a 2xx body goes to on_body piece by piece as it arrives (monitor), with no size
 * limit; any other status collects its body (the error text) in resp->body as usual. A nonzero
 * return from on_body stops reading: that is a 0 return, not an error. */
int http_client_stream(const char *addr, const char *method, const char *target,
                       const struct http_client_header *hdrs, size_t nhdrs, const void *body,
                       size_t body_len, const struct http_client_opts *opts, http_body_fn on_body,
                       void *ctx, struct http_client_resp *resp, char *err, size_t errlen);

const char *http_client_resp_header(const struct http_client_resp *r, const char *name);
void http_client_resp_free(struct http_client_resp *r);

#endif
