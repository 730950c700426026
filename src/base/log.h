/* log.h — log lines in Consul's shape: "2014/02/22 19:23:32 [INFO] raft: message".
 * A logger is a value owned by whoever runs the process (no global); the pure cores receive a
 * pointer and never learn where the lines go. A NULL logger discards everything. */
#ifndef TRIBUNE_BASE_LOG_H
#define TRIBUNE_BASE_LOG_H

#include <stddef.h>

enum log_level { LOG_TRACE = 0, LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERR };

/* Receives each emitted line (without the trailing newline) after it is formatted: this is how
 * `monitor` streams and how tests capture what a core logged. */
typedef void (*log_tap_fn)(void *ctx, enum log_level level, const char *line, size_t len);

struct logger {
    enum log_level level; /* lines below it are dropped */
    int fd;               /* where lines are written, -1 for nowhere */
    log_tap_fn tap;       /* optional; sees every line at or above tap_level */
    void *tap_ctx;
    enum log_level tap_level;
};

/* A logger writing to fd at the given level, with no tap. */
void log_init(struct logger *lg, int fd, enum log_level level);

/* "TRACE", "DEBUG", "INFO", "WARN", "ERR". */
const char *log_level_name(enum log_level level);

/* Parses a level name case-insensitively ("warn", "ERR", ...). 0 on success, -1 if unknown. */
int log_level_parse(const char *s, enum log_level *out);

/* True when a line at this level would reach the fd or the tap (skip expensive formatting). */
int log_enabled(const struct logger *lg, enum log_level level);

/* Formats and emits one line; subsys is "raft", "memberlist", "agent", ... Lines longer than 1 KiB
 * are cut, so a hostile name in a message can never make a line unbounded. */
void log_printf(const struct logger *lg, enum log_level level, const char *subsys,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
