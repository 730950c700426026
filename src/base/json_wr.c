/* json_wr.c — the JSON writer: escaping that always yields valid JSON (even from invalid UTF-8),
 * automatic commas, shortest round-tripping doubles. */
#include "base/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_WR_MAX_DEPTH 64

int json_append_string(struct buf *b, const char *str, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    int rc = buf_append(b, "\"", 1);
    size_t run = 0; /* start of the pending run of bytes copied verbatim */
    for (size_t i = 0; i < len && rc == 0;) {
        unsigned char c = s[i];
        char esc[8];
        size_t elen = 0, adv = 1;
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c, elen = 2;
        } else if (c < 0x20) {
            const char *named = NULL;
            switch (c) {
            case '\n': named = "\\n"; break;
            case '\r': named = "\\r"; break;
            case '\t': named = "\\t"; break;
            case '\b': named = "\\b"; break;
            case '\f': named = "\\f"; break;
            default: break;
            }
            if (named != NULL) {
                memcpy(esc, named, 2);
                elen = 2;
            } else {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4], esc[5] = hex[c & 15], elen = 6;
            }
        } else if (c >= 0x80) {
            uint32_t cp = 0;
            size_t l = json_utf8_seq(s + i, len - i, &cp);
            if (l == 0) {
                memcpy(esc, "\\ufffd", 6), elen = 6;
            } else if (cp == 0x2028 || cp == 0x2029) {
                /* Legal JSON but line terminators in JavaScript: escaped as Go does. */
                memcpy(esc, cp == 0x2028 ? "\\u2028" : "\\u2029", 6), elen = 6, adv = l;
            } else {
                i += l;
                continue;
            }
        } else {
            i++;
            continue;
        }
        rc = buf_append(b, s + run, i - run);
        if (rc == 0)
            rc = buf_append(b, esc, elen);
        i += adv;
        run = i;
    }
    if (rc == 0)
        rc = buf_append(b, s + run, len - run);
    if (rc == 0)
        rc = buf_append(b, "\"", 1);
    return rc;
}

void json_wr_init(struct json_wr *w, struct buf *b)
{
    memset(w, 0, sizeof *w);
    w->b = b;
}

static void put(struct json_wr *w, const char *s, size_t n)
{
    if (!w->bad && buf_append(w->b, s, n) != 0)
        w->bad = true;
}

/* Called before every value and key: a comma unless first in its container or right after a key. */
static void sep(struct json_wr *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth == 0)
        return;
    uint64_t bit = 1ull << (w->depth - 1);
    if (w->nonempty & bit)
        put(w, ",", 1);
    w->nonempty |= bit;
}

static void open_c(struct json_wr *w, const char *c)
{
    sep(w);
    if (w->depth >= JSON_WR_MAX_DEPTH) {
        w->bad = true;
        return;
    }
    put(w, c, 1);
    w->depth++;
    w->nonempty &= ~(1ull << (w->depth - 1));
}

static void close_c(struct json_wr *w, const char *c)
{
    if (w->depth == 0 || w->after_key) {
        w->bad = true;
        return;
    }
    put(w, c, 1);
    w->depth--;
}

void json_wr_obj_begin(struct json_wr *w) { open_c(w, "{"); }
void json_wr_obj_end(struct json_wr *w) { close_c(w, "}"); }
void json_wr_arr_begin(struct json_wr *w) { open_c(w, "["); }
void json_wr_arr_end(struct json_wr *w) { close_c(w, "]"); }

void json_wr_keyn(struct json_wr *w, const char *key, size_t len)
{
    sep(w);
    if (!w->bad && json_append_string(w->b, key, len) != 0)
        w->bad = true;
    put(w, ":", 1);
    w->after_key = true;
}

void json_wr_key(struct json_wr *w, const char *key) { json_wr_keyn(w, key, strlen(key)); }

void json_wr_strn(struct json_wr *w, const char *s, size_t len)
{
    sep(w);
    if (!w->bad && json_append_string(w->b, s, len) != 0)
        w->bad = true;
}

void json_wr_str(struct json_wr *w, const char *s) { json_wr_strn(w, s, strlen(s)); }

static void put_text(struct json_wr *w, const char *t)
{
    sep(w);
    put(w, t, strlen(t));
}

void json_wr_int(struct json_wr *w, int64_t v)
{
    char t[24];
    snprintf(t, sizeof t, "%" PRId64, v);
    put_text(w, t);
}

void json_wr_uint(struct json_wr *w, uint64_t v)
{
    char t[24];
    snprintf(t, sizeof t, "%" PRIu64, v);
    put_text(w, t);
}

void json_wr_double(struct json_wr *w, double v)
{
    if (!isfinite(v)) {
        put_text(w, "null");
        return;
    }
    if (v == 0 && signbit(v)) {
        /* "-0" would read back as the integer 0 and lose the sign; "-0.0" stays a double. */
        put_text(w, "-0.0");
        return;
    }
    char t[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v)
            break;
    }
    put_text(w, t);
}

void json_wr_bool(struct json_wr *w, bool v) { put_text(w, v ? "true" : "false"); }
void json_wr_null(struct json_wr *w) { put_text(w, "null"); }

void json_wr_value(struct json_wr *w, const struct json_value *v)
{
    switch (v->type) {
    case JSON_NULL:
        json_wr_null(w);
        break;
    case JSON_BOOL:
        json_wr_bool(w, v->boolean);
        break;
    case JSON_NUMBER:
        if (v->is_int)
            json_wr_int(w, v->integer);
        else
            json_wr_double(w, v->number);
        break;
    case JSON_STRING:
        json_wr_strn(w, v->str, v->len);
        break;
    case JSON_ARRAY:
        json_wr_arr_begin(w);
        for (size_t i = 0; i < v->count; i++)
            json_wr_value(w, &v->items[i]);
        json_wr_arr_end(w);
        break;
    case JSON_OBJECT:
        json_wr_obj_begin(w);
        for (size_t i = 0; i < v->count; i++) {
            json_wr_keyn(w, v->members[i].key, v->members[i].key_len);
            json_wr_value(w, &v->members[i].value);
        }
        json_wr_obj_end(w);
        break;
    }
}

bool json_wr_ok(const struct json_wr *w) { return !w->bad && w->depth == 0 && !w->after_key; }
