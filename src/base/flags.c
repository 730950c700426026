/* flags.c — Go-flag-compatible parsing of command-line flags, and the value syntaxes (bool, int,
 * duration) that Consul's flags and JSON config accept. No allocation except list flags. */
#include "base/flags.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int flags_find(const struct flags_spec *specs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(specs[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Same as flags_find, but on a name that is not NUL-terminated (the part before '='). */
static int find_n(const struct flags_spec *specs, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(specs[i].name) == len && memcmp(specs[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

int flags_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

int flags_parse_int(const char *s, long long min, long long max, long long *out)
{
    if (*s == '\0' || *s == ' ' || *s == '\t' || *s == '\n')
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

struct dur_unit {
    const char *name;
    uint64_t ns;
};

static const struct dur_unit dur_units[] = {
    {"ns", 1ull},
    {"us", 1000ull},
    {"\xc2\xb5s", 1000ull}, /* U+00B5 micro sign */
    {"\xce\xbcs", 1000ull}, /* U+03BC Greek mu */
    {"ms", 1000000ull},
    {"s", 1000000000ull},
    {"m", 60000000000ull},
    {"h", 3600000000000ull},
};

int flags_parse_duration(const char *s, int64_t *ns)
{
    bool neg = false;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    if (strcmp(s, "0") == 0) {
        *ns = 0;
        return 0;
    }
    if (*s == '\0')
        return -1;
    const uint64_t lim = (uint64_t)INT64_MAX + (neg ? 1u : 0u);
    uint64_t total = 0;
    while (*s != '\0') {
        uint64_t whole = 0;
        bool digits = false, overflow = false;
        while (*s >= '0' && *s <= '9') {
            if (whole > (UINT64_MAX - 9) / 10)
                overflow = true;
            else
                whole = whole * 10 + (uint64_t)(*s - '0');
            digits = true;
            s++;
        }
        /* Fraction digits past 1e18 cannot change a nanosecond count, so they are dropped. */
        uint64_t frac = 0, scale = 1;
        if (*s == '.') {
            s++;
            while (*s >= '0' && *s <= '9') {
                if (scale <= 100000000000000000ull) {
                    frac = frac * 10 + (uint64_t)(*s - '0');
                    scale *= 10;
                }
                digits = true;
                s++;
            }
        }
        if (!digits || overflow)
            return -1;
        const struct dur_unit *u = NULL;
        size_t best = 0;
        for (size_t i = 0; i < sizeof dur_units / sizeof dur_units[0]; i++) {
            size_t l = strlen(dur_units[i].name);
            if (l > best && strncmp(s, dur_units[i].name, l) == 0) {
                u = &dur_units[i];
                best = l;
            }
        }
        if (u == NULL)
            return -1; /* a missing or unknown unit */
        s += best;
        if (whole > lim / u->ns)
            return -1;
        uint64_t v = whole * u->ns;
        /* frac < scale <= 1e18 and u->ns <= 3.6e12: split to keep the product in range. */
        long double f = (long double)frac * (long double)u->ns / (long double)scale;
        v += (uint64_t)f;
        if (v > lim || total > lim - v)
            return -1;
        total += v;
    }
    *ns = neg ? (int64_t)(0 - total) : (int64_t)total;
    return 0;
}

static int add_value(const struct flags_spec *specs, struct flags_value *out, size_t n, int i,
                     const char *v, char *err, size_t errlen)
{
    int slot = i;
    if (specs[i].into != NULL) {
        slot = flags_find(specs, n, specs[i].into);
        if (slot < 0)
            slot = i;
    }
    struct flags_value *fv = &out[slot];
    if (specs[slot].kind == FLAGS_LIST || specs[i].kind == FLAGS_LIST) {
        const char **l = realloc(fv->list, (fv->count + 1) * sizeof *l);
        if (l == NULL) {
            snprintf(err, errlen, "out of memory parsing flags");
            return FLAGS_ERR;
        }
        fv->list = l;
        l[fv->count] = v;
    }
    fv->count++;
    fv->last = v;
    return FLAGS_OK;
}

int flags_parse(const struct flags_spec *specs, size_t n, int argc, char **argv,
                struct flags_value *out, int *rest, char *err, size_t errlen)
{
    memset(out, 0, n * sizeof *out);
    if (errlen > 0)
        err[0] = '\0';
    int i = 0;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0')
            break;
        const char *name = a + 1;
        if (name[0] == '-') {
            name++;
            if (name[0] == '\0') { /* "--" ends the flags and is consumed */
                i++;
                break;
            }
        }
        if (name[0] == '-' || name[0] == '=') {
            snprintf(err, errlen, "bad flag syntax: %s", a);
            return FLAGS_ERR;
        }
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        int k = find_n(specs, n, name, nlen);
        if (k < 0) {
            if ((nlen == 1 && name[0] == 'h') || (nlen == 4 && memcmp(name, "help", 4) == 0))
                return FLAGS_HELP;
            snprintf(err, errlen, "flag provided but not defined: -%.*s", (int)nlen, name);
            return FLAGS_ERR;
        }
        const char *v;
        if (specs[k].kind == FLAGS_BOOL) {
            bool b = true;
            if (eq != NULL && flags_parse_bool(eq + 1, &b) != 0) {
                snprintf(err, errlen, "invalid boolean value \"%s\" for -%s: parse error", eq + 1,
                         specs[k].name);
                return FLAGS_ERR;
            }
            v = b ? "true" : "false";
        } else if (eq != NULL) {
            v = eq + 1;
        } else if (i + 1 < argc) {
            v = argv[++i]; /* Go takes the next argument even when it starts with '-' */
        } else {
            snprintf(err, errlen, "flag needs an argument: -%s", specs[k].name);
            return FLAGS_ERR;
        }
        if (add_value(specs, out, n, k, v, err, errlen) != FLAGS_OK)
            return FLAGS_ERR;
    }
    if (rest != NULL)
        *rest = i;
    return FLAGS_OK;
}

void flags_free(struct flags_value *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(out[i].list);
        out[i].list = NULL;
    }
}

void flags_print_usage(const struct flags_spec *specs, size_t n, FILE *f)
{
    int width = 0;
    for (size_t i = 0; i < n; i++) {
        int w = (int)strlen(specs[i].name) + (specs[i].arg ? (int)strlen(specs[i].arg) + 1 : 0);
        if (w > width)
            width = w;
    }
    for (size_t i = 0; i < n; i++) {
        char head[128];
        if (specs[i].arg != NULL)
            snprintf(head, sizeof head, "%s=%s", specs[i].name, specs[i].arg);
        else
            snprintf(head, sizeof head, "%s", specs[i].name);
        fprintf(f, "  -%-*s  %s\n", width, head, specs[i].usage ? specs[i].usage : "");
    }
}
