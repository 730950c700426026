/* parser.h — an incremental HTTP/1.1 message parser (requests for the server, responses for the
 * client) that distrusts its input: bounded head, header count, target and body; strict framing. */
#ifndef TRIBUNE_HTTP_PARSER_H
#define TRIBUNE_HTTP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* Methods as bits, so a route can accept several. */
enum {
    HTTP_GET = 1,
    HTTP_HEAD = 2,
    HTTP_POST = 4,
    HTTP_PUT = 8,
    HTTP_DELETE = 16,
    HTTP_OPTIONS = 32,
    HTTP_PATCH = 64,
    HTTP_ANY = 127,
};

#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_PARAMS 128

enum http_parser_kind { HTTP_PARSE_REQUEST, HTTP_PARSE_RESPONSE };

enum http_parse_rc {
    HTTP_PARSE_MORE,  /* every byte given was used; feed more */
    HTTP_PARSE_DONE,  /* one whole message is ready; bytes past it were left unused */
    HTTP_PARSE_ERROR, /* p->err_status and p->err_msg say why; the connection must close */
};

struct http_limits {
    size_t max_head;    /* request/status line + headers; 0: 16 KiB (431 past it) */
    size_t max_target;  /* request target; 0: 8 KiB (414 past it) */
    size_t max_headers; /* 0 or above HTTP_MAX_HEADERS: HTTP_MAX_HEADERS (431 past it) */
    size_t max_body;    /* 0: 512 KiB, Consul's KV value limit (413 past it) */
};

struct http_header {
    const char *name;  /* as sent; compare case-insensitively */
    const char *value; /* surrounding whitespace stripped */
};

/* A query parameter, percent-decoded ('+' is a space). A flag without '=' has value "". */
struct http_param {
    const char *key;
    const char *value;
};

/* Strings point into the parser's own buffers: valid until the next reset or feed. */
struct http_message {
    /* requests */
    unsigned method;         /* one HTTP_* bit */
    const char *method_name; /* "GET", ... */
    const char *target;      /* raw, as sent: "/v1/kv/a%20b?recurse" */
    const char *path;        /* percent-decoded, no NUL inside: "/v1/kv/a b" */
    const char *query;       /* raw text after '?', or NULL */
    struct http_param params[HTTP_MAX_PARAMS];
    size_t nparams;
    /* responses */
    int status;
    const char *reason;
    /* both */
    int minor; /* HTTP/1.minor: 0 or 1 */
    bool keep_alive;
    bool chunked;
    bool expect_continue; /* "Expect: 100-continue" */
    int64_t content_length; /* -1 when absent */
    struct http_header headers[HTTP_MAX_HEADERS];
    size_t nheaders;
    struct buf body; /* unless a body callback takes the bytes */
};

/* Streams body bytes instead of collecting them (the client's monitor mode); no body limit then.
 * Returns 0, or -1 to stop (feed then fails with "aborted"). */
typedef int (*http_body_fn)(void *ctx, const uint8_t *p, size_t n);

struct http_parser {
    enum http_parser_kind kind;
    struct http_limits lim;
    int state;
    struct buf head;       /* raw head bytes, cut into strings in place once complete */
    struct buf strs;       /* decoded path and query */
    size_t line_start;     /* offset in head of the line being read */
    bool head_done;        /* the head is parsed (the server sends 100 Continue at this point) */
    bool no_body;          /* response to HEAD, or 1xx/204/304 */
    bool until_eof;        /* response without length: body runs to the connection's end */
    uint64_t remaining;    /* body or chunk bytes still expected */
    size_t line_len;       /* chunk-size / trailer line being read */
    uint64_t chunk_size;
    int chunk_digits;
    bool chunk_ext;
    size_t trailer_bytes;
    size_t trailer_lines;
    http_body_fn on_body;
    void *body_ctx;
    int err_status;      /* 400, 413, 414, 431, 501, 505 */
    const char *err_msg; /* one line, static storage */
    struct http_message msg;
};

/* lim may be NULL for the defaults. */
void http_parser_init(struct http_parser *p, enum http_parser_kind kind,
                      const struct http_limits *lim);
void http_parser_free(struct http_parser *p);
/* Ready for the next message on the same connection (pipelining); keeps allocations. */
void http_parser_reset(struct http_parser *p);
/* Responses only: the request was HEAD, so no body follows whatever the headers say. */
void http_parser_expect_no_body(struct http_parser *p);
void http_parser_set_body_fn(struct http_parser *p, http_body_fn fn, void *ctx);

/* Consumes bytes from data; *used receives how many were taken (all of them on MORE). */
enum http_parse_rc http_parser_feed(struct http_parser *p, const uint8_t *data, size_t len,
                                    size_t *used);
/* The peer closed: DONE if that ends a read-until-close response, else ERROR. */
enum http_parse_rc http_parser_eof(struct http_parser *p);
/* True once a message has started (some bytes beyond leading blank lines were seen). */
bool http_parser_started(const struct http_parser *p);

/* First header with this name (case-insensitive), or NULL. */
const char *http_msg_header(const struct http_message *m, const char *name);
/* Whether the query has key; *value (may be NULL) gets its value, "" for a bare flag. */
bool http_msg_param(const struct http_message *m, const char *key, const char **value);

/* "GET" for HTTP_GET...; NULL for other values. */
const char *http_method_name(unsigned method);
/* "OK", "Not Found"...; "Unknown" for codes not in the table. */
const char *http_status_text(int status);

/* Percent-decodes src[0..len) into dst (room for len+1 bytes), NUL-terminated; plus_space turns
 * '+' into ' ' (query strings). Returns the decoded length, or -1 for a bad escape or a NUL. */
long http_pct_decode(const char *src, size_t len, char *dst, bool plus_space);

#endif
