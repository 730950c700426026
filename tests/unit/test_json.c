/* test_json.c — unit tests for src/base/json: the strict grammar, string escapes and UTF-8,
 * numbers, limits, error positions, and writer escaping and round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"

static int parse(const char *s, struct json_value *v, struct json_error *e)
{
    return json_parse(s, strlen(s), NULL, v, e);
}

static void rejects(const char *s)
{
    struct json_value v;
    struct json_error e;
    if (parse(s, &v, &e) == 0) {
        json_free(&v);
        fail_msg("accepted invalid JSON: %s", s);
    }
}

static void accepts_documents(void **state)
{
    (void)state;
    struct json_value v;
    struct json_error e;
    const char *doc = " {\"a\": [1, -2.5e1, true, false, null, \"x\"], \"b\": {}, \"c\": []}\n";
    assert_int_equal(parse(doc, &v, &e), 0);
    assert_int_equal(v.type, JSON_OBJECT);
    assert_int_equal(v.count, 3);
    const struct json_value *a = json_get(&v, "a");
    assert_non_null(a);
    assert_int_equal(v.members[0].line, 1); /* key positions, for "unknown key" messages */
    assert_int_equal(v.members[0].col, 3);
    assert_int_equal(v.members[1].col, 45);
    assert_int_equal(a->type, JSON_ARRAY);
    assert_int_equal(a->count, 6);
    assert_true(a->items[0].is_int);
    assert_int_equal(a->items[0].integer, 1);
    assert_false(a->items[1].is_int);
    assert_true(a->items[1].number == -25.0);
    assert_true(a->items[2].boolean);
    assert_int_equal(a->items[4].type, JSON_NULL);
    assert_string_equal(a->items[5].str, "x");
    assert_int_equal(json_get(&v, "b")->type, JSON_OBJECT);
    assert_null(json_get(&v, "zz"));
    assert_null(json_get(a, "a"));
    json_free(&v);

    assert_int_equal(parse("\"top\"", &v, &e), 0); /* any value at top level (RFC 8259) */
    json_free(&v);
    assert_int_equal(parse("-0", &v, &e), 0);
    json_free(&v);
}

static void rejects_non_json(void **state)
{
    (void)state;
    const char *bad[] = {
        "", " ", "{", "}", "[1,]", "{\"a\":1,}", "[1 2]", "{\"a\" 1}", "{a:1}", "'x'",
        "01", "1.", ".5", "-", "+1", "1e", "1e+", "0x10", "NaN", "Infinity", "tru", "nul",
        "[1] x", "\"abc", "\"\t\"", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "// c\n1",
        "{\"a\":1,\"a\":2}", "1e999", "-1e999", "\"\\ud800\"", "\"\\udc00\"",
        "\"\\ud800\\u0041\"", "\"\xff\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
        "\"\xe2\x82\"", "[\"a\"\"b\"]", "\xef\xbb\xbf{}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        rejects(bad[i]);
    /* An embedded NUL ends nothing: the input length is authoritative. */
    struct json_value v;
    struct json_error e;
    assert_int_equal(json_parse("1\0", 2, NULL, &v, &e), -1);
}

static void string_escapes(void **state)
{
    (void)state;
    struct json_value v;
    struct json_error e;
    assert_int_equal(parse("\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\\ud83d\\ude00\"", &v, &e), 0);
    const char want[] = "a\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    assert_int_equal(v.len, sizeof want - 1);
    assert_memory_equal(v.str, want, sizeof want - 1);
    json_free(&v);

    assert_int_equal(parse("\"x\\u0000y\"", &v, &e), 0);
    assert_int_equal(v.len, 3);
    assert_memory_equal(v.str, "x\0y", 3);
    json_free(&v);

    assert_int_equal(parse("\"\xe6\x97\xa5\xe6\x9c\xac\"", &v, &e), 0); /* raw UTF-8 passes */
    assert_string_equal(v.str, "\xe6\x97\xa5\xe6\x9c\xac");
    json_free(&v);
}

static void numbers(void **state)
{
    (void)state;
    struct json_value v;
    struct json_error e;
    assert_int_equal(parse("9223372036854775807", &v, &e), 0);
    assert_true(v.is_int);
    assert_true(v.integer == INT64_MAX);
    json_free(&v);
    assert_int_equal(parse("9223372036854775808", &v, &e), 0); /* too big for int64: a double */
    assert_false(v.is_int);
    assert_true(v.number == 9223372036854775808.0);
    json_free(&v);
    assert_int_equal(parse("-12", &v, &e), 0);
    assert_true(v.is_int && v.integer == -12);
    json_free(&v);
    assert_int_equal(parse("1E2", &v, &e), 0);
    assert_false(v.is_int);
    assert_true(v.number == 100.0);
    json_free(&v);
    assert_int_equal(parse("1e-400", &v, &e), 0); /* underflow to zero is a valid double */
    json_free(&v);
}

static void error_positions(void **state)
{
    (void)state;
    struct json_value v;
    struct json_error e;
    assert_int_equal(parse("{\n  \"a\": 1,\n  \"b\": tru\n}", &v, &e), -1);
    assert_int_equal(e.line, 3);
    assert_int_equal(e.col, 8);
    assert_string_equal(e.msg, "invalid literal");

    assert_int_equal(parse("{\"k\": 1,\n \"k\": 2}", &v, &e), -1);
    assert_int_equal(e.line, 2);
    assert_int_equal(e.col, 2);
    assert_string_equal(e.msg, "duplicate key \"k\"");

    assert_int_equal(parse("[1,\n", &v, &e), -1);
    assert_int_equal(e.line, 2);
    assert_string_equal(e.msg, "unexpected end of input");
}

static void limits(void **state)
{
    (void)state;
    struct json_value v;
    struct json_error e;
    struct json_limits lim = {.max_depth = 3, .max_bytes = 64, .max_nodes = 5};
    assert_int_equal(json_parse("[[[1]]]", 7, &lim, &v, &e), 0);
    json_free(&v);
    assert_int_equal(json_parse("[[[[1]]]]", 9, &lim, &v, &e), -1);
    assert_string_equal(e.msg, "nesting too deep");
    assert_int_equal(json_parse("[1,2,3,4,5]", 11, &lim, &v, &e), -1);
    assert_string_equal(e.msg, "too many values");
    char big[100];
    memset(big, ' ', sizeof big);
    big[0] = '1';
    assert_int_equal(json_parse(big, sizeof big, &lim, &v, &e), -1);
    assert_string_equal(e.msg, "input too large");

    /* The default depth limit holds against a deep hostile input without exhausting the stack. */
    size_t n = 100000;
    char *deep = malloc(n);
    assert_non_null(deep);
    memset(deep, '[', n);
    assert_int_equal(json_parse(deep, n, NULL, &v, &e), -1);
    assert_string_equal(e.msg, "nesting too deep");
    free(deep);
}

static char *write_value(const struct json_value *v)
{
    struct buf b;
    buf_init(&b, 0);
    struct json_wr w;
    json_wr_init(&w, &b);
    json_wr_value(&w, v);
    assert_true(json_wr_ok(&w));
    buf_append(&b, "", 1);
    return (char *)b.data;
}

static void writer_escapes(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    struct json_wr w;
    json_wr_init(&w, &b);
    json_wr_obj_begin(&w);
    json_wr_key(&w, "s");
    json_wr_strn(&w, "q\"b\\\n\x01\x7f\xe2\x80\xa8\xff\xc3\xa9", 13);
    json_wr_key(&w, "n");
    json_wr_int(&w, -5);
    json_wr_key(&w, "a");
    json_wr_arr_begin(&w);
    json_wr_uint(&w, UINT64_MAX);
    json_wr_double(&w, 0.1);
    json_wr_double(&w, 1.0 / 0.0);
    json_wr_bool(&w, true);
    json_wr_null(&w);
    json_wr_arr_end(&w);
    json_wr_obj_end(&w);
    assert_true(json_wr_ok(&w));
    const char want[] = "{\"s\":\"q\\\"b\\\\\\n\\u0001\x7f\\u2028\\ufffd\xc3\xa9\",\"n\":-5,"
                        "\"a\":[18446744073709551615,0.1,null,true,null]}";
    assert_int_equal(b.len, sizeof want - 1);
    assert_memory_equal(b.data, want, sizeof want - 1);

    struct json_value v;
    struct json_error e;
    assert_int_equal(json_parse((const char *)b.data, b.len, NULL, &v, &e), 0); /* valid JSON */
    json_free(&v);
    buf_free(&b);
}

static void writer_detects_misuse(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    struct json_wr w;
    json_wr_init(&w, &b);
    json_wr_arr_begin(&w);
    assert_false(json_wr_ok(&w)); /* unclosed */
    json_wr_arr_end(&w);
    json_wr_arr_end(&w); /* one close too many */
    assert_false(json_wr_ok(&w));
    buf_free(&b);

    struct buf small;
    buf_init(&small, 4); /* the buffer limit makes the writer fail, stickily */
    json_wr_init(&w, &small);
    json_wr_str(&w, "too long for four bytes");
    assert_false(json_wr_ok(&w));
    buf_free(&small);
}

static void round_trip(void **state)
{
    (void)state;
    const char *docs[] = {
        "{\"a\":[1,2.5,-0.001,1e300,\"\\u00e9\\ud83d\\ude00\",{\"b\":null}],\"c\":true}",
        "[\"\\u0000\\u001f\",-9223372036854775808,123456789012345678901234567890]",
        "3.141592653589793",
        "[-0.0, -0, 0.0, 1e10, -1.5e-7]",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        struct json_value v, v2;
        struct json_error e;
        assert_int_equal(parse(docs[i], &v, &e), 0);
        char *out = write_value(&v);
        assert_int_equal(parse(out, &v2, &e), 0);
        assert_true(json_equal(&v, &v2));
        /* Writing is deterministic: the second generation is byte-identical. */
        char *out2 = write_value(&v2);
        assert_string_equal(out, out2);
        free(out);
        free(out2);
        json_free(&v);
        json_free(&v2);
    }
}

static void equality_is_not_trivial(void **state)
{
    (void)state;
    struct json_value a, b;
    struct json_error e;
    assert_int_equal(parse("{\"x\":[1,2]}", &a, &e), 0);
    assert_int_equal(parse("{\"x\":[1,3]}", &b, &e), 0);
    assert_false(json_equal(&a, &b));
    json_free(&b);
    assert_int_equal(parse("{\"x\":[1,2.0]}", &b, &e), 0);
    assert_true(json_equal(&a, &b)); /* numbers compare by value */
    json_free(&b);
    assert_int_equal(parse("{\"y\":[1,2]}", &b, &e), 0);
    assert_false(json_equal(&a, &b));
    json_free(&a);
    json_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_documents),
        cmocka_unit_test(rejects_non_json),
        cmocka_unit_test(string_escapes),
        cmocka_unit_test(numbers),
        cmocka_unit_test(error_positions),
        cmocka_unit_test(limits),
        cmocka_unit_test(writer_escapes),
        cmocka_unit_test(writer_detects_misuse),
        cmocka_unit_test(round_trip),
        cmocka_unit_test(equality_is_not_trivial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
