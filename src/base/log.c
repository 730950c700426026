/* log.c — formats Consul-shaped log lines and hands them to a file descriptor and an optional tap.
 * One write(2) per line so that concurrent writers (several agents on one terminal) never interleave. */
#include "base/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERR"};

void log_init(struct logger *lg, int fd, enum log_level level)
{
    lg->level = level;
    lg->fd = fd;
    lg->tap = NULL;
    lg->tap_ctx = NULL;
    lg->tap_level = LOG_TRACE;
}

const char *log_level_name(enum log_level level)
{
    if ((unsigned)level > LOG_ERR)
        return "UNKNOWN";
    return level_names[level];
}

int log_level_parse(const char *s, enum log_level *out)
{
    for (unsigned i = 0; i <= LOG_ERR; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

int log_enabled(const struct logger *lg, enum log_level level)
{
    if (lg == NULL)
        return 0;
    return (lg->fd >= 0 && level >= lg->level) || (lg->tap != NULL && level >= lg->tap_level);
}

void log_printf(const struct logger *lg, enum log_level level, const char *subsys,
                const char *fmt, ...)
{
    if (!log_enabled(lg, level))
        return;

    char line[1100];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    int n = (int)strftime(line, 64, "%Y/%m/%d %H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, " [%s] %s: ", log_level_name(level), subsys);
    if (n >= (int)sizeof line - 2)
        n = (int)sizeof line - 2;

    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - 1 - (size_t)n, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += m;
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;

    if (lg->tap != NULL && level >= lg->tap_level)
        lg->tap(lg->tap_ctx, level, line, (size_t)n);
    if (lg->fd >= 0 && level >= lg->level) {
        line[n++] = '\n';
        const char *p = line;
        while (n > 0) {
            ssize_t w = write(lg->fd, p, (size_t)n);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break; /* a log line is not worth blocking or dying for */
            p += w;
            n -= (int)w;
        }
    }
}
