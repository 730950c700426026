/* json.c — the strict JSON parser and its DOM (free, lookup, equality). Every read is bounds
 * checked against the input length; limits on depth, size and node count bound stack and heap. */
#include "base/json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct json_limits json_default_limits = {
    .max_depth = 64, .max_bytes = 4u << 20, .max_nodes = 1u << 20};

struct parser {
    const unsigned char *s;
    size_t len, pos;
    size_t depth, nodes;
    uint32_t line;
    size_t line_start; /* offset of the current line's first byte */
    const struct json_limits *lim;
    struct json_error *err;
};

static int fail(struct parser *p, size_t at, const char *msg)
{
    struct json_error *e = p->err;
    if (e == NULL)
        return -1;
    /* Recount lines up to `at`: errors are rare, and at may lie inside a string. */
    uint32_t line = 1;
    size_t ls = 0;
    for (size_t i = 0; i < at && i < p->len; i++) {
        if (p->s[i] == '\n') {
            line++;
            ls = i + 1;
        }
    }
    e->offset = at;
    e->line = line;
    e->col = (uint32_t)(at - ls + 1);
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    return -1;
}

static void skip_ws(struct parser *p)
{
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c == '\n') {
            p->line++;
            p->line_start = p->pos + 1;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            return;
        }
        p->pos++;
    }
}

static int count_node(struct parser *p)
{
    if (++p->nodes > p->lim->max_nodes)
        return fail(p, p->pos, "too many values");
    return 0;
}

size_t json_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp_out)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp_out = c;
        return 1;
    }
    size_t len;
    uint32_t cp, min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *cp_out = cp;
    return len;
}

static size_t utf8_put(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static int hex4(struct parser *p, size_t at, uint32_t *out)
{
    if (p->len - at < 4)
        return fail(p, at, "truncated \\u escape");
    uint32_t v = 0;
    for (size_t i = 0; i < 4; i++) {
        unsigned char c = p->s[at + i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10u;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10u;
        else
            return fail(p, at + i, "invalid hex digit in \\u escape");
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/* At the opening quote. The decoded text is never longer than the escaped input, so one
 * allocation of the input span suffices. */
static int parse_string(struct parser *p, char **out, size_t *out_len)
{
    size_t start = ++p->pos;
    size_t end = start;
    while (end < p->len && p->s[end] != '"') {
        if (p->s[end] == '\\')
            end++;
        end++;
    }
    if (end >= p->len)
        return fail(p, start - 1, "unterminated string");
    char *o = malloc(end - start + 1);
    if (o == NULL)
        return fail(p, start, "out of memory");
    size_t n = 0, i = start;
    while (i < end) {
        unsigned char c = p->s[i];
        if (c < 0x20) {
            free(o);
            return fail(p, i, "control character in string");
        }
        if (c >= 0x80) {
            uint32_t cp_ignored; /* the parser copies the bytes as they are */
            size_t l = json_utf8_seq(p->s + i, end - i, &cp_ignored);
            if (l == 0) {
                free(o);
                return fail(p, i, "invalid UTF-8 in string");
            }
            memcpy(o + n, p->s + i, l);
            n += l, i += l;
            continue;
        }
        if (c != '\\') {
            o[n++] = (char)c;
            i++;
            continue;
        }
        char e = (char)p->s[i + 1]; /* i + 1 < end: the scan above skipped past it */
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e != '\0' && e != 'u' && simple != NULL) {
            static const char repl[] = "\"\\/\b\f\n\r\t";
            o[n++] = repl[simple - "\"\\/bfnrt"];
            i += 2;
            continue;
        }
        if (e != 'u') {
            free(o);
            return fail(p, i, "invalid escape in string");
        }
        uint32_t cp;
        if (hex4(p, i + 2, &cp) != 0 || i + 6 > end) {
            free(o);
            return i + 6 > end ? fail(p, i, "truncated \\u escape") : -1;
        }
        i += 6;
        if (cp >= 0xdc00 && cp <= 0xdfff) {
            free(o);
            return fail(p, i - 6, "lone low surrogate in \\u escape");
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t lo;
            if (end - i < 6 || p->s[i] != '\\' || p->s[i + 1] != 'u') {
                free(o);
                return fail(p, i - 6, "high surrogate without a low surrogate");
            }
            if (hex4(p, i + 2, &lo) != 0) {
                free(o);
                return -1;
            }
            if (lo < 0xdc00 || lo > 0xdfff) {
                free(o);
                return fail(p, i, "high surrogate without a low surrogate");
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            i += 6;
        }
        n += utf8_put(o + n, cp);
    }
    o[n] = '\0';
    p->pos = end + 1;
    *out = o;
    *out_len = n;
    return 0;
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int parse_number(struct parser *p, struct json_value *v)
{
    size_t start = p->pos, i = p->pos;
    bool integral = true;
    if (i < p->len && p->s[i] == '-')
        i++;
    if (i >= p->len || !is_digit(p->s[i]))
        return fail(p, i, "invalid number");
    if (p->s[i] == '0') {
        i++;
        if (i < p->len && is_digit(p->s[i]))
            return fail(p, i, "leading zero in number");
    } else {
        while (i < p->len && is_digit(p->s[i]))
            i++;
    }
    if (i < p->len && p->s[i] == '.') {
        integral = false;
        i++;
        if (i >= p->len || !is_digit(p->s[i]))
            return fail(p, i, "expected digit after decimal point");
        while (i < p->len && is_digit(p->s[i]))
            i++;
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        integral = false;
        i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
            i++;
        if (i >= p->len || !is_digit(p->s[i]))
            return fail(p, i, "expected digit in exponent");
        while (i < p->len && is_digit(p->s[i]))
            i++;
    }
    /* strtod needs a terminated copy; the grammar above already fixed the exact span. */
    size_t n = i - start;
    char small[64];
    char *t = n < sizeof small ? small : malloc(n + 1);
    if (t == NULL)
        return fail(p, start, "out of memory");
    memcpy(t, p->s + start, n);
    t[n] = '\0';
    v->type = JSON_NUMBER;
    v->number = strtod(t, NULL);
    v->is_int = false;
    if (integral) {
        errno = 0;
        long long ll = strtoll(t, NULL, 10);
        if (errno == 0) {
            v->is_int = true;
            v->integer = ll;
        }
    }
    if (t != small)
        free(t);
    if (!isfinite(v->number))
        return fail(p, start, "number out of range");
    p->pos = i;
    return 0;
}

static int parse_value(struct parser *p, struct json_value *v);

static int key_cmp(const void *a, const void *b)
{
    const struct json_member *x = *(const struct json_member *const *)a;
    const struct json_member *y = *(const struct json_member *const *)b;
    if (x->key_len != y->key_len)
        return x->key_len < y->key_len ? -1 : 1;
    int c = memcmp(x->key, y->key, x->key_len);
    if (c != 0)
        return c;
    return x < y ? -1 : (x > y); /* input order among equals: the later one is reported */
}

/* Sorting pointers keeps duplicate detection O(n log n) on hostile objects with many keys. */
static int check_duplicates(struct parser *p, struct json_value *v)
{
    if (v->count < 2)
        return 0;
    struct json_member **idx = malloc(v->count * sizeof *idx);
    if (idx == NULL)
        return fail(p, p->pos, "out of memory");
    for (size_t i = 0; i < v->count; i++)
        idx[i] = &v->members[i];
    qsort(idx, v->count, sizeof *idx, key_cmp);
    for (size_t i = 1; i < v->count; i++) {
        if (idx[i]->key_len == idx[i - 1]->key_len &&
            memcmp(idx[i]->key, idx[i - 1]->key, idx[i]->key_len) == 0) {
            struct json_member *m = idx[i];
            free(idx);
            char msg[80];
            snprintf(msg, sizeof msg, "duplicate key \"%.40s\"", m->key);
            /* Report at the later member's key: it is the one a reader would delete. */
            size_t at = 0;
            for (uint32_t line = 1; at < p->len && line < m->line; at++)
                if (p->s[at] == '\n')
                    line++;
            return fail(p, at + m->col - 1, msg);
        }
    }
    free(idx);
    return 0;
}

static int parse_container(struct parser *p, struct json_value *v, bool object)
{
    char close = object ? '}' : ']';
    if (++p->depth > p->lim->max_depth)
        return fail(p, p->pos, "nesting too deep");
    p->pos++;
    v->type = object ? JSON_OBJECT : JSON_ARRAY;
    size_t cap = 0;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        p->depth--;
        return 0;
    }
    for (;;) {
        if (v->count == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            void *grown = object ? realloc(v->members, ncap * sizeof *v->members)
                                 : realloc(v->items, ncap * sizeof *v->items);
            if (grown == NULL)
                return fail(p, p->pos, "out of memory");
            if (object)
                v->members = grown;
            else
                v->items = grown;
            cap = ncap;
        }
        skip_ws(p);
        struct json_value *slot;
        if (object) {
            struct json_member *m = &v->members[v->count];
            memset(m, 0, sizeof *m);
            if (p->pos >= p->len || p->s[p->pos] != '"')
                return fail(p, p->pos, p->pos >= p->len ? "unexpected end of input"
                                                        : "expected a string key");
            m->line = p->line;
            m->col = (uint32_t)(p->pos - p->line_start + 1);
            if (count_node(p) != 0 || parse_string(p, &m->key, &m->key_len) != 0)
                return -1;
            v->count++; /* counted now so that a failure below frees the key */
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':')
                return fail(p, p->pos, "expected ':' after object key");
            p->pos++;
            skip_ws(p);
            slot = &m->value;
        } else {
            slot = &v->items[v->count];
            memset(slot, 0, sizeof *slot);
            v->count++;
        }
        if (parse_value(p, slot) != 0)
            return -1;
        skip_ws(p);
        if (p->pos >= p->len)
            return fail(p, p->pos, "unexpected end of input");
        if (p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->s[p->pos] == close) {
            p->pos++;
            break;
        }
        return fail(p, p->pos, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    p->depth--;
    return object ? check_duplicates(p, v) : 0;
}

static int parse_literal(struct parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return fail(p, p->pos, "invalid literal");
    p->pos += n;
    return 0;
}

/* On failure, v may hold partial children: the caller frees it either way. */
static int parse_value(struct parser *p, struct json_value *v)
{
    memset(v, 0, sizeof *v);
    v->line = p->line;
    v->col = (uint32_t)(p->pos - p->line_start + 1);
    if (count_node(p) != 0)
        return -1;
    if (p->pos >= p->len)
        return fail(p, p->pos, "unexpected end of input");
    switch (p->s[p->pos]) {
    case '{':
        return parse_container(p, v, true);
    case '[':
        return parse_container(p, v, false);
    case '"':
        v->type = JSON_STRING;
        return parse_string(p, &v->str, &v->len);
    case 't':
        v->type = JSON_BOOL;
        v->boolean = true;
        return parse_literal(p, "true");
    case 'f':
        v->type = JSON_BOOL;
        return parse_literal(p, "false");
    case 'n':
        return parse_literal(p, "null");
    default:
        if (p->s[p->pos] == '-' || is_digit(p->s[p->pos]))
            return parse_number(p, v);
        return fail(p, p->pos, "unexpected character");
    }
}

int json_parse(const char *s, size_t len, const struct json_limits *lim, struct json_value *out,
               struct json_error *err)
{
    struct parser p = {
        .s = (const unsigned char *)s, .len = len, .line = 1, .lim = lim ? lim : &json_default_limits,
        .err = err};
    memset(out, 0, sizeof *out);
    if (len > p.lim->max_bytes)
        return fail(&p, 0, "input too large");
    skip_ws(&p);
    if (parse_value(&p, out) != 0) {
        json_free(out);
        return -1;
    }
    skip_ws(&p);
    if (p.pos != p.len) {
        json_free(out);
        return fail(&p, p.pos, "unexpected data after the JSON value");
    }
    return 0;
}

void json_free(struct json_value *v)
{
    if (v == NULL)
        return;
    free(v->str);
    for (size_t i = 0; v->items != NULL && i < v->count; i++)
        json_free(&v->items[i]);
    for (size_t i = 0; v->members != NULL && i < v->count; i++) {
        free(v->members[i].key);
        json_free(&v->members[i].value);
    }
    free(v->items);
    free(v->members);
    memset(v, 0, sizeof *v);
}

const struct json_value *json_get(const struct json_value *v, const char *key)
{
    if (v == NULL || v->type != JSON_OBJECT)
        return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < v->count; i++)
        if (v->members[i].key_len == n && memcmp(v->members[i].key, key, n) == 0)
            return &v->members[i].value;
    return NULL;
}

bool json_equal(const struct json_value *a, const struct json_value *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case JSON_NULL:
        return true;
    case JSON_BOOL:
        return a->boolean == b->boolean;
    case JSON_NUMBER:
        if (a->is_int && b->is_int)
            return a->integer == b->integer;
        return a->number == b->number;
    case JSON_STRING:
        return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
    case JSON_ARRAY:
        if (a->count != b->count)
            return false;
        for (size_t i = 0; i < a->count; i++)
            if (!json_equal(&a->items[i], &b->items[i]))
                return false;
        return true;
    case JSON_OBJECT:
        if (a->count != b->count)
            return false;
        for (size_t i = 0; i < a->count; i++) {
            const struct json_member *x = &a->members[i], *y = &b->members[i];
            if (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0 ||
                !json_equal(&x->value, &y->value))
                return false;
        }
        return true;
    }
    return false;
}

const char *json_type_name(enum json_type t)
{
    static const char *const names[] = {"null", "boolean", "number", "string", "array", "object"};
    return (unsigned)t <= JSON_OBJECT ? names[t] : "unknown";
}
