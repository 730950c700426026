/* server.h — the HTTP/1.1 server on the reactor: listener, per-connection parsing, timeouts, a
 * connection cap, a routing table, and responses that may be answered later or streamed. */
#ifndef TRIBUNE_HTTP_SERVER_H
#define TRIBUNE_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "http/parser.h"
#include "loop/loop.h"
#include "loop/net.h"

struct http_server;
/* One request being answered. It belongs to the server: valid from the handler call until the
 * response is complete (http_respond*, http_stream_end) or the cancel callback has run. Its
 * message stays readable until the code that completed the response returns; after that the
 * same object serves the connection's next request, so a completed r must be forgotten. */
struct http_req;

struct http_server_opts {
    size_t max_body;             /* 0: 512 KiB (413 past it) */
    size_t max_conns;            /* 0: 512; over it a new connection gets 503 and is closed */
    uint64_t idle_timeout_ms;    /* keep-alive connection with nothing to do; 0: 60 s */
    uint64_t request_timeout_ms; /* first byte to whole request (slowloris); 0: 30 s */
    size_t out_limit;            /* unsent response bytes per connection; 0: 4 MiB */
    const char *banner;          /* body of GET /; NULL: "Tribune Agent" */
};

/* A handler either answers before returning (HTTP_DONE) or keeps r and answers later
 * (HTTP_PENDING), after registering a cancel callback with http_req_on_cancel. */
enum http_disposition { HTTP_DONE, HTTP_PENDING };
typedef enum http_disposition (*http_handler_fn)(struct http_req *r, void *ctx);
/* The client went away (or the server stopped) before the response was complete: r is about to
 * be freed and must be forgotten. Never called after the response completed. */
typedef void (*http_cancel_fn)(struct http_req *r, void *ctx);

/* Listens on addr ("127.0.0.1:8500", port 0 picks one). opts may be NULL. NULL on failure with a
 * one-line reason in err. */
struct http_server *http_server_start(struct loop *l, const char *addr,
                                      const struct http_server_opts *opts, char *err,
                                      size_t errlen);
/* Closes the listener and every connection (pending requests get their cancel callback now) and
 * frees the server. Not from inside one of this server's handlers. */
void http_server_stop(struct http_server *s);
const struct loop_addr *http_server_addr(const struct http_server *s);
size_t http_server_conn_count(const struct http_server *s);

/* Routes: a path ending in '/' matches every path under it (Go's ServeMux rule, which Consul's
 * "/v1/kv/" relies on), any other path only itself; the longest match wins. A request whose path
 * matches but whose method is not in methods gets 405 (HEAD is implied by GET, its body dropped by
 * the server); no match gets 404. 0, or -1 when the
 * table is full or the path does not start with '/'. */
int http_route_add(struct http_server *s, unsigned methods, const char *path, http_handler_fn fn,
                   void *ctx);

/* The parsed request: method, path, params, headers, body. */
const struct http_message *http_req_msg(const struct http_req *r);
/* Query parameter lookup (see http_msg_param). */
bool http_req_param(const struct http_req *r, const char *key, const char **value);
/* The part of the path after the matched route prefix ("/v1/kv/a/b" under "/v1/kv/": "a/b"). */
const char *http_req_suffix(const struct http_req *r);
const struct loop_addr *http_req_peer(const struct http_req *r);
struct http_server *http_req_server(const struct http_req *r);

void http_req_on_cancel(struct http_req *r, http_cancel_fn fn, void *ctx);

/* Adds a response header ("X-Consul-Index", "42"). Content-Type, Content-Length, Connection and
 * Transfer-Encoding are the server's. -1 for a name that is no token or a value with CR/LF. */
int http_req_header(struct http_req *r, const char *name, const char *value);

/* Complete responses. Each returns 0, or -1 when the connection is already gone (the request is
 * then finished all the same: r must be forgotten either way). */
int http_respond(struct http_req *r, int status, const char *content_type, const void *body,
                 size_t len);
/* text/plain with a trailing newline added when missing: Consul's error bodies. */
int http_respond_text(struct http_req *r, int status, const char *text);
/* application/json; re-indented by 4 spaces when the request had ?pretty. body holds JSON text
 * (as json_wr writes it). */
int http_respond_json(struct http_req *r, int status, const struct buf *body);

/* Streaming (monitor): a chunked response fed piece by piece until http_stream_end or the client
 * leaving (cancel callback). An HTTP/1.0 client gets the raw bytes and a close instead. */
int http_stream_begin(struct http_req *r, int status, const char *content_type);
/* -1 if the client is gone or too slow (its unsent output passed out_limit: the connection is
 * dropped and the cancel callback follows); the owner keeps r until then. */
int http_stream_write(struct http_req *r, const void *p, size_t n);
/* Unsent bytes: a producer sees its reader falling behind and can drop lines instead. */
size_t http_stream_pending(const struct http_req *r);
int http_stream_end(struct http_req *r);

/* Writes JSON text re-indented with 4 spaces per level (Go's json.MarshalIndent shape) into out.
 * The input must be well-formed; 0 or -1 when out is full. */
int http_json_pretty(const uint8_t *in, size_t len, struct buf *out);

#endif
