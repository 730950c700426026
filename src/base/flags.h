/* flags.h — a command-line flag parser in the style of Go's flag package, as Consul's CLI uses it:
 * `-name=value`, `-name value`, `-bool`, `-bool=false`, `--name` too, repeatable list flags. */
#ifndef TRIBUNE_BASE_FLAGS_H
#define TRIBUNE_BASE_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum flags_kind {
    FLAGS_BOOL,  /* `-x` or `-x=true|false`; never consumes the next argument */
    FLAGS_VALUE, /* `-x=v` or `-x v`; given twice, the last one wins */
    FLAGS_LIST,  /* like FLAGS_VALUE, but every occurrence is kept in order */
};

struct flags_spec {
    const char *name;  /* without dashes */
    enum flags_kind kind;
    const char *arg;   /* placeholder shown in usage ("<path>"); NULL for bools */
    const char *usage; /* one sentence */
    /* When set, values are stored in the slot of the spec with this name instead: two flags that
     * share one ordered list, as Consul's -config-file and -config-dir do. */
    const char *into;
};

/* What parsing recorded for one spec. Strings point into argv (or to static "true"/"false"), so
 * they live as long as argv does. */
struct flags_value {
    size_t count;      /* how many times the flag (or a flag stored into it) was given */
    const char *last;  /* the last value, NULL when not given */
    const char **list; /* FLAGS_LIST: all values in order (malloc'd) */
};

enum { FLAGS_OK = 0, FLAGS_ERR = -1, FLAGS_HELP = 1 };

/* Parses argv[0..argc) (argv[0] is the first flag, not the program name) against specs[0..n) into
 * out[0..n). Stops at the first non-flag argument, at "-", or after "--"; *rest receives the index
 * of the first positional argument. Returns FLAGS_OK, FLAGS_HELP for -h/-help/--help, or
 * FLAGS_ERR with Go's one-line message in err ("flag provided but not defined: -x"). On any
 * return, release out with flags_free. */
int flags_parse(const struct flags_spec *specs, size_t n, int argc, char **argv,
                struct flags_value *out, int *rest, char *err, size_t errlen);

void flags_free(struct flags_value *out, size_t n);

/* Index of the spec called name, or -1. */
int flags_find(const struct flags_spec *specs, size_t n, const char *name);

/* Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False. 0, or -1. */
int flags_parse_bool(const char *s, bool *out);

/* A decimal integer in [min, max], no trailing junk. 0, or -1. */
int flags_parse_int(const char *s, long long min, long long max, long long *out);

/* Go's time.ParseDuration ("30s", "1m30s", "1.5h", "250ms", "-2us"): nanoseconds, 0 or -1 on
 * syntax errors and overflow. */
int flags_parse_duration(const char *s, int64_t *ns);

/* Prints one aligned line per spec: "  -name=<arg>  usage". */
void flags_print_usage(const struct flags_spec *specs, size_t n, FILE *f);

#endif
