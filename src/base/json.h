/* json.h — a strict RFC 8259 JSON parser into a small DOM, bounded in depth, input size and node
 * count, and a writer that appends correctly escaped JSON to a struct buf. */
#ifndef TRIBUNE_BASE_JSON_H
#define TRIBUNE_BASE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_member;

struct json_value {
    enum json_type type;
    bool boolean;
    /* JSON_NUMBER: always the double; is_int when the text was an integer that fits in int64. */
    bool is_int;
    int64_t integer;
    double number;
    /* JSON_STRING: decoded UTF-8, NUL-terminated, len excludes the NUL (\u0000 may occur inside). */
    char *str;
    size_t len;
    struct json_value *items;    /* JSON_ARRAY, count of them */
    struct json_member *members; /* JSON_OBJECT, count of them, in input order, keys unique */
    size_t count;
    uint32_t line, col; /* where the value starts in the input, 1-based: for error messages */
};

struct json_member {
    char *key;
    size_t key_len;
    uint32_t line, col; /* where the key starts, 1-based */
    struct json_value value;
};

struct json_limits {
    size_t max_depth; /* nesting of arrays and objects */
    size_t max_bytes; /* input size */
    size_t max_nodes; /* values + members in total: bounds memory */
};

/* 64 deep, 4 MiB, 1M nodes: generous for config files and API bodies. */
extern const struct json_limits json_default_limits;

struct json_error {
    size_t offset;      /* byte offset of the problem */
    uint32_t line, col; /* 1-based; col counts bytes */
    char msg[80];       /* "invalid escape", "unexpected end of input", ... */
};

/* Parses exactly one JSON text from s[0..len) (surrounding whitespace allowed). 0 with *out filled
 * (release with json_free), or -1 with *err filled and nothing to release. Rejects what RFC 8259
 * rejects plus: invalid UTF-8, lone surrogates, duplicate object keys, numbers that overflow a
 * double, and anything past the limits (lim may be NULL for the defaults). */
int json_parse(const char *s, size_t len, const struct json_limits *lim, struct json_value *out,
               struct json_error *err);

void json_free(struct json_value *v);

/* The member value for key in an object, or NULL (also NULL when v is not an object). */
const struct json_value *json_get(const struct json_value *v, const char *key);

/* Structural equality: same types, same numbers (by value), strings, order of items and members. */
bool json_equal(const struct json_value *a, const struct json_value *b);

const char *json_type_name(enum json_type t);

/* Writer. Commas and colons are placed automatically; the first failure sticks (a full buffer or
 * nesting beyond 64), so build a whole document and check json_wr_ok once. */
struct json_wr {
    struct buf *b;
    unsigned depth;
    uint64_t nonempty; /* bit d: the container at depth d already has an element */
    bool after_key;
    bool bad;
};

void json_wr_init(struct json_wr *w, struct buf *b);
void json_wr_obj_begin(struct json_wr *w);
void json_wr_obj_end(struct json_wr *w);
void json_wr_arr_begin(struct json_wr *w);
void json_wr_arr_end(struct json_wr *w);
void json_wr_key(struct json_wr *w, const char *key);
void json_wr_keyn(struct json_wr *w, const char *key, size_t len);
void json_wr_str(struct json_wr *w, const char *s);
/* Escapes ", \, control characters, U+2028/U+2029; invalid UTF-8 bytes become U+FFFD, so the
 * output is always valid JSON whatever bytes come in. */
void json_wr_strn(struct json_wr *w, const char *s, size_t len);
void json_wr_int(struct json_wr *w, int64_t v);
void json_wr_uint(struct json_wr *w, uint64_t v);
/* Shortest text that parses back to the same double; non-finite values are written as null. */
void json_wr_double(struct json_wr *w, double v);
void json_wr_bool(struct json_wr *w, bool v);
void json_wr_null(struct json_wr *w);
void json_wr_value(struct json_wr *w, const struct json_value *v);
bool json_wr_ok(const struct json_wr *w);

/* Appends s as a quoted, escaped JSON string: the building block of the writer. 0 or -1. */
int json_append_string(struct buf *b, const char *s, size_t len);

/* Length of the valid UTF-8 sequence at s[0..n) (n >= 1), its code point in *cp; 0 when
 * invalid: no overlongs, surrogates or code points above U+10FFFF. */
size_t json_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp);

#endif
