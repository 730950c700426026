/* test_flags.c — unit tests for src/base/flags: Go flag syntax, errors with Go's wording, shared
 * list slots, and the bool/int/duration value syntaxes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/flags.h"

static const struct flags_spec specs[] = {
    {"server", FLAGS_BOOL, NULL, "server mode", NULL},
    {"data-dir", FLAGS_VALUE, "<path>", "data dir", NULL},
    {"join", FLAGS_LIST, "<addr>", "join", NULL},
    {"config-file", FLAGS_LIST, "<file>", "file", NULL},
    {"config-dir", FLAGS_LIST, "<dir>", "dir", "config-file"},
};
#define NSPECS (sizeof specs / sizeof specs[0])

struct parsed {
    struct flags_value v[NSPECS];
    int rest;
    char err[128];
    int rc;
};

static void parse(struct parsed *p, int argc, char **argv)
{
    p->rc = flags_parse(specs, NSPECS, argc, argv, p->v, &p->rest, p->err, sizeof p->err);
}

static void all_syntaxes(void **state)
{
    (void)state;
    char *argv[] = {"-server", "--data-dir=/a", "-join", "x", "-join=y", "--join", "-z", "pos", "-q"};
    struct parsed p;
    parse(&p, 9, argv);
    assert_int_equal(p.rc, FLAGS_OK);
    assert_string_equal(p.v[0].last, "true");
    assert_string_equal(p.v[1].last, "/a");
    assert_int_equal(p.v[2].count, 3);
    assert_string_equal(p.v[2].list[0], "x");
    assert_string_equal(p.v[2].list[1], "y");
    assert_string_equal(p.v[2].list[2], "-z"); /* Go takes the next argument as the value */
    assert_int_equal(p.rest, 7);               /* stops at the first positional */
    flags_free(p.v, NSPECS);
}

static void value_last_wins_and_empty_value(void **state)
{
    (void)state;
    char *argv[] = {"-data-dir", "/a", "-data-dir=", "--", "-server"};
    struct parsed p;
    parse(&p, 5, argv);
    assert_int_equal(p.rc, FLAGS_OK);
    assert_int_equal(p.v[1].count, 2);
    assert_string_equal(p.v[1].last, "");
    assert_int_equal(p.v[0].count, 0);
    assert_null(p.v[0].last);
    assert_int_equal(p.rest, 4); /* "--" consumed, "-server" is positional */
    flags_free(p.v, NSPECS);
}

static void bool_forms(void **state)
{
    (void)state;
    char *a1[] = {"-server=false"};
    struct parsed p;
    parse(&p, 1, a1);
    assert_int_equal(p.rc, FLAGS_OK);
    assert_string_equal(p.v[0].last, "false");
    flags_free(p.v, NSPECS);

    char *a2[] = {"-server", "false"}; /* a bool never consumes the next argument */
    parse(&p, 2, a2);
    assert_int_equal(p.rc, FLAGS_OK);
    assert_string_equal(p.v[0].last, "true");
    assert_int_equal(p.rest, 1);
    flags_free(p.v, NSPECS);

    char *a3[] = {"-server=maybe"};
    parse(&p, 1, a3);
    assert_int_equal(p.rc, FLAGS_ERR);
    assert_string_equal(p.err, "invalid boolean value \"maybe\" for -server: parse error");
    flags_free(p.v, NSPECS);
}

static void errors_and_help(void **state)
{
    (void)state;
    struct parsed p;
    char *a1[] = {"-nope=1"};
    parse(&p, 1, a1);
    assert_int_equal(p.rc, FLAGS_ERR);
    assert_string_equal(p.err, "flag provided but not defined: -nope");
    flags_free(p.v, NSPECS);

    char *a2[] = {"-join"};
    parse(&p, 1, a2);
    assert_int_equal(p.rc, FLAGS_ERR);
    assert_string_equal(p.err, "flag needs an argument: -join");
    flags_free(p.v, NSPECS);

    char *a3[] = {"---x"};
    parse(&p, 1, a3);
    assert_int_equal(p.rc, FLAGS_ERR);
    assert_string_equal(p.err, "bad flag syntax: ---x");
    flags_free(p.v, NSPECS);

    char *a4[] = {"-server", "-h"};
    parse(&p, 2, a4);
    assert_int_equal(p.rc, FLAGS_HELP);
    flags_free(p.v, NSPECS);
    char *a5[] = {"--help"};
    parse(&p, 1, a5);
    assert_int_equal(p.rc, FLAGS_HELP);
    flags_free(p.v, NSPECS);

    char *a6[] = {"-", "-server"}; /* a lone dash is positional */
    parse(&p, 2, a6);
    assert_int_equal(p.rc, FLAGS_OK);
    assert_int_equal(p.rest, 0);
    flags_free(p.v, NSPECS);
}

static void shared_slot_keeps_command_line_order(void **state)
{
    (void)state;
    char *argv[] = {"-config-dir=d1", "-config-file", "f1", "-config-dir", "d2"};
    struct parsed p;
    parse(&p, 5, argv);
    assert_int_equal(p.rc, FLAGS_OK);
    assert_int_equal(p.v[3].count, 3);
    assert_string_equal(p.v[3].list[0], "d1");
    assert_string_equal(p.v[3].list[1], "f1");
    assert_string_equal(p.v[3].list[2], "d2");
    assert_int_equal(p.v[4].count, 0);
    flags_free(p.v, NSPECS);
}

static void value_parsers(void **state)
{
    (void)state;
    bool b = false;
    assert_int_equal(flags_parse_bool("T", &b), 0);
    assert_true(b);
    assert_int_equal(flags_parse_bool("0", &b), 0);
    assert_false(b);
    assert_int_equal(flags_parse_bool("yes", &b), -1);
    assert_int_equal(flags_parse_bool("", &b), -1);

    long long v = 0;
    assert_int_equal(flags_parse_int("42", 0, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(flags_parse_int("-1", 0, 100, &v), -1);
    assert_int_equal(flags_parse_int("101", 0, 100, &v), -1);
    assert_int_equal(flags_parse_int("4x", 0, 100, &v), -1);
    assert_int_equal(flags_parse_int("", 0, 100, &v), -1);
    assert_int_equal(flags_parse_int("99999999999999999999", 0, 100, &v), -1);

    int64_t ns = 0;
    assert_int_equal(flags_parse_duration("30s", &ns), 0);
    assert_true(ns == 30000000000LL);
    assert_int_equal(flags_parse_duration("1m30s", &ns), 0);
    assert_true(ns == 90000000000LL);
    assert_int_equal(flags_parse_duration("1.5h", &ns), 0);
    assert_true(ns == 5400000000000LL);
    assert_int_equal(flags_parse_duration("250ms", &ns), 0);
    assert_true(ns == 250000000LL);
    assert_int_equal(flags_parse_duration(".5s", &ns), 0);
    assert_true(ns == 500000000LL);
    assert_int_equal(flags_parse_duration("-2us", &ns), 0);
    assert_true(ns == -2000LL);
    assert_int_equal(flags_parse_duration("3\xc2\xb5s", &ns), 0);
    assert_true(ns == 3000LL);
    assert_int_equal(flags_parse_duration("0", &ns), 0);
    assert_true(ns == 0);
    assert_int_equal(flags_parse_duration("30", &ns), -1);  /* missing unit */
    assert_int_equal(flags_parse_duration("", &ns), -1);
    assert_int_equal(flags_parse_duration("s", &ns), -1);
    assert_int_equal(flags_parse_duration("1d", &ns), -1);
    assert_int_equal(flags_parse_duration("1.s", &ns), 0);  /* Go accepts "1." */
    assert_int_equal(flags_parse_duration(".s", &ns), -1);
    assert_int_equal(flags_parse_duration("3000000h", &ns), -1); /* overflows int64 ns */
    assert_int_equal(flags_parse_duration("2562047h", &ns), 0);
    assert_int_equal(flags_parse_duration("2562048h", &ns), -1);
}

static void usage_lists_every_flag(void **state)
{
    (void)state;
    char out[1024] = {0};
    FILE *f = fmemopen(out, sizeof out - 1, "w");
    assert_non_null(f);
    flags_print_usage(specs, NSPECS, f);
    fclose(f);
    assert_non_null(strstr(out, "  -server "));
    assert_non_null(strstr(out, "  -data-dir=<path>"));
    assert_non_null(strstr(out, "  -config-dir=<dir>"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(all_syntaxes),
        cmocka_unit_test(value_last_wins_and_empty_value),
        cmocka_unit_test(bool_forms),
        cmocka_unit_test(errors_and_help),
        cmocka_unit_test(shared_slot_keeps_command_line_order),
        cmocka_unit_test(value_parsers),
        cmocka_unit_test(usage_lists_every_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
