/* str.c — borrowed byte ranges against owned record strings, field validation shared by the
 * command and snapshot decoders, and the one-line error results of an apply. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/state_impl.h"

int state_strcmp(const char *a, struct state_str b)
{
    size_t an = strlen(a);
    int c = memcmp(a, b.p ? b.p : "", an < b.n ? an : b.n);
    if (c)
        return c;
    return an < b.n ? -1 : an > b.n;
}

struct state_str state_str_of(const char *s)
{
    return (struct state_str){s ? s : "", s ? strlen(s) : 0};
}

char *state_strdup(struct state_str s)
{
    char *p = malloc(s.n + 1);
    if (!p)
        return NULL;
    if (s.n)
        memcpy(p, s.p, s.n);
    p[s.n] = '\0';
    return p;
}

const char *state_check_name(struct state_str s, bool allow_empty, size_t max)
{
    if (s.n == 0 && !allow_empty)
        return "missing";
    if (s.n > max)
        return "too long";
    /* Records keep C strings, and a NUL could make two distinct keys print alike. */
    if (s.n && memchr(s.p, '\0', s.n))
        return "contains a NUL byte";
    return NULL;
}

bool state_status_valid(uint8_t status)
{
    return status >= STATE_PASSING && status <= STATE_CRITICAL;
}

const char *state_status_name(uint8_t status)
{
    switch (status) {
    case STATE_PASSING: return "passing";
    case STATE_WARNING: return "warning";
    case STATE_CRITICAL: return "critical";
    default: return "unknown";
    }
}

void state_result_set(struct state_result *res, enum state_err err, const char *fmt, ...)
{
    res->err = err;
    res->value = false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->msg, sizeof res->msg, fmt, ap);
    va_end(ap);
}
