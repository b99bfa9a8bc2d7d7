/* Unit tests for json and jsonb (common/json.c) and the modules that carry
 * them: text input (json kept as written, jsonb normalised as PostgreSQL
 * 15 prints it), input errors with PostgreSQL's detail and context, the
 * operators and functions, expressions shipped to nodes (common/expr.c),
 * the row codec, casts, comparison and the binary wire format
 * (router/wire/pgwire.c). Expected strings are PostgreSQL 15's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "expr.h"
#include "json.h"
#include "router/wire/pgwire.h"
#include "row.h"
#include "scalar.h"
#include "value.h"

static struct tl_arena arena;

static int
setup(void **state)
{
    (void)state;
    tl_arena_init(&arena);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    tl_arena_close(&arena);
    return 0;
}

static struct tl_value
parse_ok(uint8_t type, const char *s)
{
    struct tl_value v;
    struct tl_error err;
    tl_error_clear(&err);
    int rv = tl_value_from_text(type, -1, s, strlen(s), &arena, &v, &err);
    if (rv != 0)
        fail_msg("parsing \"%s\": %s (%s)", s, err.message, err.detail);
    assert_int_equal(v.type, type);
    assert_false(v.is_null);
    return v;
}

/* The text output of @v as a string in the arena ("NULL" for a NULL). */
static const char *
out_text(const struct tl_value *v)
{
    if (v->is_null)
        return "NULL";
    struct tl_buf b;
    tl_buf_init(&b);
    tl_value_to_text(v, &b);
    char *s =
        tl_arena_strndup(&arena, b.data ? (const char *)b.data : "", b.len);
    tl_buf_close(&b);
    return s;
}

static void
assert_jsonb(const char *in, const char *want)
{
    struct tl_value v = parse_ok(TL_TYPE_JSONB, in);
    assert_string_equal(out_text(&v), want);
}

/* jsonb prints keys sorted by length then bytes, the last duplicate,
 * numbers as numeric, strings re-escaped; json keeps its input. */
static void
test_input_output(void **state)
{
    (void)state;
    assert_jsonb("{\"b\":1,\"a\":2,\"aa\":[1.0,1e2,-0,1.5e-3,1E+2],\"a\":3, "
                 "\"c\": {\"z\":null,\"y\":true}}",
                 "{\"a\": 3, \"b\": 1, \"c\": {\"y\": true, \"z\": null}, "
                 "\"aa\": [1.0, 100, 0, 0.0015, 100]}");
    assert_jsonb("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0001\\u00e9\"",
                 "\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0001\xc3\xa9\"");
    assert_jsonb("\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"");
    assert_jsonb("  [ ]  ", "[]");
    assert_jsonb("{}", "{}");
    assert_jsonb("[[], {}, \"\", false]", "[[], {}, \"\", false]");
    assert_jsonb(" -12.50 ", "-12.50");

    const char *in = "  {\"b\":1,  \"a\" : [1,  2]} ";
    struct tl_value v = parse_ok(TL_TYPE_JSON, in);
    assert_string_equal(out_text(&v), in);
    /* json only checks escapes: \u0000 and lone surrogates pass. */
    parse_ok(TL_TYPE_JSON, "\"\\u0000\\ud800\"");
}

static void
assert_error(uint8_t type, const char *in, const char *state,
             const char *message, const char *detail, const char *context)
{
    struct tl_value v;
    struct tl_error err;
    tl_error_clear(&err);
    int rv = tl_value_from_text(type, -1, in, strlen(in), &arena, &v, &err);
    if (rv == 0)
        fail_msg("\"%s\" was accepted", in);
    assert_string_equal(err.sqlstate, state);
    assert_string_equal(err.message, message);
    assert_string_equal(err.detail, detail);
    assert_string_equal(err.context, context);
}

static void
assert_syntax(const char *in, const char *detail, const char *context)
{
    assert_error(TL_TYPE_JSON, in, "22P02",
                 "invalid input syntax for type json", detail, context);
    assert_error(TL_TYPE_JSONB, in, "22P02",
                 "invalid input syntax for type json", detail, context);
}

/* Each PostgreSQL parse error, with its detail and context line. */
static void
test_input_errors(void **state)
{
    (void)state;
    assert_syntax("x", "Token \"x\" is invalid.", "JSON data, line 1: x");
    assert_syntax("{\"a\":}", "Expected JSON value, but found \"}\".",
                  "JSON data, line 1: {\"a\":}");
    assert_syntax("{\"a\" 1}", "Expected \":\", but found \"1\".",
                  "JSON data, line 1: {\"a\" 1...");
    assert_syntax("[1 2]", "Expected \",\" or \"]\", but found \"2\".",
                  "JSON data, line 1: [1 2...");
    assert_syntax("{\"a\":1 \"b\"}",
                  "Expected \",\" or \"}\", but found \"\"b\"\".",
                  "JSON data, line 1: {\"a\":1 \"b\"...");
    assert_syntax("{1:2}", "Expected string or \"}\", but found \"1\".",
                  "JSON data, line 1: {1...");
    assert_syntax("{\"a\":1,}", "Expected string, but found \"}\".",
                  "JSON data, line 1: {\"a\":1,}");
    assert_syntax("", "The input string ended unexpectedly.",
                  "JSON data, line 1: ");
    assert_syntax("[1", "The input string ended unexpectedly.",
                  "JSON data, line 1: [1");
    assert_syntax("1 2", "Expected end of input, but found \"2\".",
                  "JSON data, line 1: 1 2");
    assert_syntax("\"abc", "Token \"\"abc\" is invalid.",
                  "JSON data, line 1: \"abc");
    assert_syntax("\"\\q\"", "Escape sequence \"\\q\" is invalid.",
                  "JSON data, line 1: \"\\q...");
    assert_syntax("\"\\u00\"",
                  "\"\\u\" must be followed by four hexadecimal digits.",
                  "JSON data, line 1: \"\\u00\"");
    assert_syntax("\"a\nb\"", "Character with value 0x0a must be escaped.",
                  "JSON data, line 1: \"a");
    assert_syntax("01", "Token \"01\" is invalid.", "JSON data, line 1: 01");
    assert_syntax("1.", "Token \"1.\" is invalid.", "JSON data, line 1: 1.");
    assert_syntax(".5", "Token \".\" is invalid.", "JSON data, line 1: ....");
    assert_syntax("{\"a\": 1,\n \"b\": [1, 2,\n  x]}",
                  "Token \"x\" is invalid.", "JSON data, line 3:   x...");
    assert_syntax("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, "
                  "18, 19, 20 x 1 2 3]",
                  "Token \"x\" is invalid.",
                  "JSON data, line 1: ..., 9, 10, 11, 12, 13, 14, 15, 16, 17, "
                  "18, 19, 20 x...");
    assert_error(TL_TYPE_JSONB, "\"\\u0000\"", "22P05",
                 "unsupported Unicode escape sequence",
                 "\\u0000 cannot be converted to text.",
                 "JSON data, line 1: \"\\u0000...");
    assert_error(TL_TYPE_JSONB, "\"\\ud800\"", "22P02",
                 "invalid input syntax for type json",
                 "Unicode low surrogate must follow a high surrogate.",
                 "JSON data, line 1: \"\\ud800\"");
    assert_error(TL_TYPE_JSONB, "\"\\ud800\\ud800\"", "22P02",
                 "invalid input syntax for type json",
                 "Unicode high surrogate must not follow a high surrogate.",
                 "JSON data, line 1: \"\\ud800\\ud800...");

    /* Nesting past the limit is refused, not a crash. */
    size_t n = TL_JSON_MAX_DEPTH + 10;
    char *deep = tl_arena_alloc(&arena, n + 1);
    memset(deep, '[', n);
    deep[n] = '\0';
    struct tl_value v;
    struct tl_error err;
    assert_int_not_equal(
        tl_value_from_text(TL_TYPE_JSONB, -1, deep, n, &arena, &v, &err), 0);
    assert_string_equal(err.sqlstate, "54001");
}

/* Evaluate `doc op key` through an expression tree, after a round trip
 * through its protobuf form (as a node receives it). */
static struct tl_value
eval_op(uint8_t op, uint8_t result, struct tl_value doc, struct tl_value key)
{
    struct tl_expr *e =
        tl_expr_op(&arena, op, result, tl_expr_const(&arena, &doc),
                   tl_expr_const(&arena, &key));
    Talus__Expr *pb = tl_expr_to_proto(e, &arena);
    struct tl_expr *back;
    struct tl_error err;
    if (tl_expr_from_proto(pb, 0, &arena, &back, &err) != 0)
        fail_msg("from_proto: %s", err.message);
    struct tl_value out;
    if (tl_expr_eval(back, NULL, 0, &arena, &out, &err) != 0)
        fail_msg("eval: %s", err.message);
    return out;
}

static struct tl_value
text(const char *s)
{
    return tl_value_text(TL_TYPE_TEXT, s, (uint32_t)strlen(s));
}

/* -> ->> #> #>> on json and jsonb, from the expression evaluator. */
static void
test_get(void **state)
{
    (void)state;
    struct tl_value j = parse_ok(TL_TYPE_JSON, " {\"a\" :  [1,  {\"b\": "
                                               "\"x\\u00e9\"}], \"a2\": null}");
    struct tl_value b = parse_ok(TL_TYPE_JSONB, j.u.s.p);
    struct tl_value r;

    r = eval_op(TL_OP_JSON_GET, TL_TYPE_JSON, j, text("a"));
    assert_int_equal(r.type, TL_TYPE_JSON);
    assert_string_equal(out_text(&r), "[1,  {\"b\": \"x\\u00e9\"}]");
    r = eval_op(TL_OP_JSON_GET, TL_TYPE_JSONB, b, text("a"));
    assert_int_equal(r.type, TL_TYPE_JSONB);
    assert_string_equal(out_text(&r), "[1, {\"b\": \"x\xc3\xa9\"}]");
    r = eval_op(TL_OP_JSON_GET, TL_TYPE_JSONB, b, text("zz"));
    assert_true(r.is_null);
    r = eval_op(TL_OP_JSON_GET_TEXT, TL_TYPE_TEXT, j, text("a2"));
    assert_true(r.is_null); /* a JSON null is SQL NULL for ->> */
    r = eval_op(TL_OP_JSON_GET, TL_TYPE_JSON, j, text("a2"));
    assert_string_equal(out_text(&r), "null");

    r = eval_op(TL_OP_JSON_PATH_TEXT, TL_TYPE_TEXT, j, text("{a,1,b}"));
    assert_int_equal(r.type, TL_TYPE_TEXT);
    assert_string_equal(out_text(&r), "x\xc3\xa9");
    r = eval_op(TL_OP_JSON_PATH, TL_TYPE_JSONB, b, text("{a, -1}"));
    assert_string_equal(out_text(&r), "{\"b\": \"x\xc3\xa9\"}");
    r = eval_op(TL_OP_JSON_PATH, TL_TYPE_JSONB, b, text("{}"));
    assert_string_equal(out_text(&r), out_text(&b));
    r = eval_op(TL_OP_JSON_PATH, TL_TYPE_JSONB, b, text("{a,x}"));
    assert_true(r.is_null);
    r = eval_op(TL_OP_JSON_PATH, TL_TYPE_JSONB, b, text("{\"a\",NULL}"));
    assert_true(r.is_null);

    struct tl_value arr = parse_ok(TL_TYPE_JSONB, "[1, 2, 3]");
    r = eval_op(TL_OP_JSON_GET, TL_TYPE_JSONB, arr,
                tl_value_int(TL_TYPE_INT4, -1));
    assert_string_equal(out_text(&r), "3");
    r = eval_op(TL_OP_JSON_GET, TL_TYPE_JSONB, arr,
                tl_value_int(TL_TYPE_INT4, 3));
    assert_true(r.is_null);
    /* A jsonb scalar answers -> 0 and -> -1 with itself (PostgreSQL 15). */
    struct tl_value sc = parse_ok(TL_TYPE_JSONB, "\"s\"");
    r = eval_op(TL_OP_JSON_GET_TEXT, TL_TYPE_TEXT, sc,
                tl_value_int(TL_TYPE_INT4, 0));
    assert_string_equal(out_text(&r), "s");

    struct tl_error err;
    assert_int_not_equal(
        tl_json_check_path(
            &(struct tl_value){.type = TL_TYPE_TEXT, .u.s = {"a", 1}}, &arena,
            &err),
        0);
    assert_string_equal(err.sqlstate, "22P02");
    assert_string_equal(err.message, "malformed array literal: \"a\"");
    assert_string_equal(
        err.detail,
        "Array value must start with \"{\" or dimension information.");
}

static bool
contains(const char *l, const char *r)
{
    struct tl_value x = parse_ok(TL_TYPE_JSONB, l),
                    y = parse_ok(TL_TYPE_JSONB, r);
    struct tl_value out = eval_op(TL_OP_JSON_CONTAINS, TL_TYPE_BOOL, x, y);
    return out.u.b;
}

static bool
exists(const char *doc, const char *key)
{
    struct tl_value x = parse_ok(TL_TYPE_JSONB, doc);
    return eval_op(TL_OP_JSON_EXISTS, TL_TYPE_BOOL, x, text(key)).u.b;
}

/* @> follows JsonbDeepContains; ? looks at the top level only. */
static void
test_contains_exists(void **state)
{
    (void)state;
    assert_true(contains("{\"a\": 1, \"b\": [1, 2]}", "{\"b\": [2]}"));
    assert_true(contains("{\"a\": 1.0}", "{\"a\": 1}"));
    assert_false(contains("{\"a\": [1, 2]}", "{\"a\": 1}"));
    assert_true(contains("[1, 2, [3, 4]]", "[[3]]"));
    assert_false(contains("[1, 2, [3, 4]]", "[3]"));
    assert_true(contains("[1, 2]", "1"));
    assert_false(contains("1", "[1]"));
    assert_false(contains("{\"a\": 1}", "[]"));
    assert_true(contains("{}", "{}"));
    assert_true(exists("{\"a\": null}", "a"));
    assert_false(exists("{\"b\": {\"a\": 1}}", "a"));
    assert_true(exists("[\"a\", 1]", "a"));
    assert_false(exists("[[\"a\"]]", "a"));
    assert_true(exists("\"a\"", "a"));
}

/* jsonb = compares by value; json has no comparison at all. */
static void
test_compare_cast(void **state)
{
    (void)state;
    struct tl_value x = parse_ok(TL_TYPE_JSONB, "{\"a\": 1.0, \"b\": [1]}");
    struct tl_value y = parse_ok(TL_TYPE_JSONB, "{\"b\": [1.00], \"a\": 1}");
    struct tl_value z = parse_ok(TL_TYPE_JSONB, "{\"b\": [2], \"a\": 1}");
    assert_true(tl_type_comparable(TL_TYPE_JSONB, TL_TYPE_JSONB));
    assert_false(tl_type_comparable(TL_TYPE_JSON, TL_TYPE_JSON));
    assert_false(tl_type_comparable(TL_TYPE_JSONB, TL_TYPE_TEXT));
    assert_int_equal(tl_value_cmp(&x, &y), 0);
    assert_int_not_equal(tl_value_cmp(&x, &z), 0);

    struct tl_value j = parse_ok(TL_TYPE_JSON, "{\"b\": 1, \"a\": 2}"), out;
    struct tl_error err;
    assert_int_equal(tl_value_cast(&j, TL_TYPE_JSONB, -1, &arena, &out, &err),
                     0);
    assert_int_equal(out.type, TL_TYPE_JSONB);
    assert_string_equal(out_text(&out), "{\"a\": 2, \"b\": 1}");
    assert_int_equal(tl_value_cast(&out, TL_TYPE_TEXT, -1, &arena, &out, &err),
                     0);
    assert_int_equal(out.type, TL_TYPE_TEXT);
    assert_int_not_equal(
        tl_value_cast(&j, TL_TYPE_INT4, -1, &arena, &out, &err), 0);

    uint8_t t;
    assert_int_equal(tl_type_from_name("jsonb", &t), 0);
    assert_int_equal(t, TL_TYPE_JSONB);
    assert_int_equal(tl_type_oid(TL_TYPE_JSON), 114);
    assert_int_equal(tl_type_oid(TL_TYPE_JSONB), 3802);
    assert_int_equal(tl_type_from_oid(3802, &t), 0);
    assert_int_equal(t, TL_TYPE_JSONB);
    assert_string_equal(tl_type_name(TL_TYPE_JSON), "json");
}

/* Rows keep the text; the binary format is the text (json) or a version
 * byte 1 and the text (jsonb), and reading it checks the document. */
static void
test_row_and_binary(void **state)
{
    (void)state;
    struct tl_value b = parse_ok(TL_TYPE_JSONB, "{\"k\": [true]}");
    struct tl_buf buf;
    tl_buf_init(&buf);
    tl_row_encode_value(&b, &buf);
    struct tl_value back;
    assert_int_equal(tl_row_decode_value(buf.data, buf.len, &back), 0);
    assert_int_equal(back.type, TL_TYPE_JSONB);
    assert_string_equal(out_text(&back), "{\"k\": [true]}");

    tl_buf_reset(&buf);
    pgw_value_to_binary(&b, &buf);
    assert_int_equal(buf.len, 1 + b.u.s.len);
    assert_int_equal(buf.data[0], 1);
    struct tl_error err;
    assert_int_equal(pgw_value_from_binary(TL_TYPE_JSONB, buf.data, buf.len,
                                           &arena, &back, &err),
                     0);
    assert_string_equal(out_text(&back), "{\"k\": [true]}");
    assert_int_not_equal(pgw_value_from_binary(TL_TYPE_JSONB,
                                               (const uint8_t *)"\2{}", 3,
                                               &arena, &back, &err),
                         0);
    assert_int_not_equal(pgw_value_from_binary(TL_TYPE_JSON,
                                               (const uint8_t *)"{x}", 3,
                                               &arena, &back, &err),
                         0);
    assert_string_equal(err.sqlstate, "22P02");

    struct tl_value j = parse_ok(TL_TYPE_JSON, "[1,2]");
    tl_buf_reset(&buf);
    pgw_value_to_binary(&j, &buf);
    assert_int_equal(buf.len, 5);
    assert_memory_equal(buf.data, "[1,2]", 5);
    tl_buf_close(&buf);
}

/* json(b)_typeof and json(b)_array_length as scalar functions. */
static void
test_functions(void **state)
{
    (void)state;
    struct tl_value out;
    struct tl_error err;
    struct tl_value a = parse_ok(TL_TYPE_JSONB, "[1, {}, null]");
    const struct tl_func_sig *sig = tl_func_find("jsonb_typeof", 1);
    assert_non_null(sig);
    assert_int_equal(
        tl_func_eval(sig->id, TL_TYPE_TEXT, &a, 1, &arena, &out, &err), 0);
    assert_string_equal(out_text(&out), "array");
    sig = tl_func_find("jsonb_array_length", 1);
    assert_int_equal(
        tl_func_eval(sig->id, TL_TYPE_INT4, &a, 1, &arena, &out, &err), 0);
    assert_int_equal(out.u.i, 3);
    struct tl_value s = parse_ok(TL_TYPE_JSON, "\"x\"");
    sig = tl_func_find("json_array_length", 1);
    assert_int_not_equal(
        tl_func_eval(sig->id, TL_TYPE_INT4, &s, 1, &arena, &out, &err), 0);
    assert_string_equal(err.sqlstate, "22023");
    assert_string_equal(err.message, "cannot get array length of a scalar");

    struct tl_value f = tl_value_float(1e20);
    sig = tl_func_find("to_json", 1);
    assert_int_equal(
        tl_func_eval(sig->id, TL_TYPE_JSON, &f, 1, &arena, &out, &err), 0);
    assert_int_equal(out.type, TL_TYPE_JSON);
    assert_string_equal(out_text(&out), "1e+20");
    struct tl_value t = text("tab\t\"q\"");
    sig = tl_func_find("to_jsonb", 1);
    assert_int_equal(
        tl_func_eval(sig->id, TL_TYPE_JSONB, &t, 1, &arena, &out, &err), 0);
    assert_int_equal(out.type, TL_TYPE_JSONB);
    assert_string_equal(out_text(&out), "\"tab\\t\\\"q\\\"\"");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_input_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contains_exists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compare_cast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_row_and_binary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_functions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
