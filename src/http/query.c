/* query.c — Go duration parsing and Consul's blocking/consistency query parameters, kept apart
 * from the endpoints so every handler refuses bad values with the same words. */
#include "http/query.h"

#include <string.h>

static const struct {
    const char *name;
    uint64_t ns;
} units[] = {
    {"ns", 1ull},          {"us", 1000ull},        {"\xc2\xb5s", 1000ull}, {"\xce\xbcs", 1000ull},
    {"ms", 1000000ull},    {"s", 1000000000ull},   {"m", 60000000000ull},  {"h", 3600000000000ull},
};

/* The largest total accepted: far beyond any wait, far below overflow. */
#define MAX_NS (100ull * 365 * 24 * 3600 * 1000000000ull)

int http_parse_duration(const char *s, uint64_t *ms)
{
    if (s == NULL || *s == '\0')
        return -1;
    if (*s == '+')
        s++;
    if (strcmp(s, "0") == 0) {
        *ms = 0;
        return 0;
    }
    uint64_t total = 0;
    if (*s == '\0')
        return -1;
    while (*s) {
        uint64_t whole = 0, frac = 0, scale = 1;
        bool digits = false;
        while (*s >= '0' && *s <= '9') {
            if (whole > MAX_NS / 10)
                return -1;
            whole = whole * 10 + (uint64_t)(*s++ - '0');
            digits = true;
        }
        if (*s == '.') {
            s++;
            while (*s >= '0' && *s <= '9') {
                if (scale < 1000000000000000000ull) { /* digits past 18 cannot matter */
                    frac = frac * 10 + (uint64_t)(*s - '0');
                    scale *= 10;
                }
                s++;
                digits = true;
            }
        }
        if (!digits)
            return -1;
        size_t best = 0;
        uint64_t unit = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t n = strlen(units[i].name);
            if (n > best && strncmp(s, units[i].name, n) == 0) {
                best = n;
                unit = units[i].ns;
            }
        }
        if (best == 0)
            return -1;
        s += best;
        if (whole > MAX_NS / unit)
            return -1;
        /* frac/scale of a unit, computed without overflow: unit <= 3.6e12, scale <= 1e18 */
        long double f = (long double)frac * (long double)unit / (long double)scale;
        total += whole * unit + (uint64_t)f;
        if (total > MAX_NS)
            return -1;
    }
    *ms = total / 1000000 + (total % 1000000 != 0);
    return 0;
}

int http_pct_encode(struct buf *out, const char *s, size_t len, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~' || (c == '/' && keep_slash);
        char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
        if (plain ? buf_append(out, &c, 1) != 0 : buf_append(out, esc, 3) != 0)
            return -1;
    }
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 20 || strspn(s, "0123456789") != n)
        return -1;
    uint64_t v = 0;
    for (const char *c = s; *c; c++) {
        uint64_t d = (uint64_t)(*c - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int http_query_opts_parse(const struct http_message *m, struct http_query_opts *out,
                          const char **errmsg)
{
    memset(out, 0, sizeof *out);
    const char *v;
    bool has_wait = http_msg_param(m, "wait", &v);
    if (has_wait && http_parse_duration(v, &out->wait_ms) != 0) {
        *errmsg = "Invalid wait time";
        return -1;
    }
    if (http_msg_param(m, "index", &v) && parse_u64(v, &out->index) != 0) {
        *errmsg = "Invalid index";
        return -1;
    }
    if (out->wait_ms > HTTP_MAX_QUERY_MS)
        out->wait_ms = HTTP_MAX_QUERY_MS;
    out->blocking = out->index > 0;
    if (out->blocking && out->wait_ms == 0)
        out->wait_ms = HTTP_MAX_QUERY_MS;
    bool stale = http_msg_param(m, "stale", NULL);
    bool consistent = http_msg_param(m, "consistent", NULL);
    if (stale && consistent) {
        *errmsg = "Cannot specify ?stale with ?consistent, conflicting semantics.";
        return -1;
    }
    out->consistency = stale        ? HTTP_CONSISTENCY_STALE
                       : consistent ? HTTP_CONSISTENCY_CONSISTENT
                                    : HTTP_CONSISTENCY_DEFAULT;
    if (http_msg_param(m, "dc", &v) && v[0] != '\0')
        out->dc = v;
    return 0;
}
