/* Unit tests for common/value.c: PostgreSQL-compatible text I/O, casts and
 * comparison. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "value.h"

/* Where parsed uuid and bytea values live; freed at exit. */
static struct tl_arena parse_arena;

/* Parse @s as @type and return the error code, filling *@v and *@err. */
static int
parse(uint8_t type, int32_t typmod, const char *s, struct tl_value *v,
      struct tl_error *err)
{
    tl_error_clear(err);
    return tl_value_from_text(type, typmod, s, strlen(s), &parse_arena, v, err);
}

static void
expect_int(uint8_t type, const char *s, int64_t want)
{
    struct tl_value v;
    struct tl_error err;
    assert_int_equal(parse(type, -1, s, &v, &err), 0);
    assert_int_equal(v.type, type);
    assert_false(v.is_null);
    assert_true(v.u.i == want);
}

static void
expect_error(uint8_t type, int32_t typmod, const char *s, int rv,
             const char *state, const char *msg)
{
    struct tl_value v;
    struct tl_error err;
    assert_int_equal(parse(type, typmod, s, &v, &err), rv);
    assert_string_equal(err.sqlstate, state);
    assert_string_equal(err.message, msg);
}

/* Text output of @v as a NUL-terminated string (static buffer). */
static const char *
out_text(struct tl_value v)
{
    static char s[128];
    struct tl_buf b;
    tl_buf_init(&b);
    tl_value_to_text(&v, &b);
    assert_true(b.len < sizeof(s));
    memcpy(s, b.data, b.len);
    s[b.len] = '\0';
    tl_buf_close(&b);
    return s;
}

/* Integers parse like int2in/int4in/int8in: spaces and a sign allowed. */
static void
test_int_input(void **state)
{
    (void)state;
    expect_int(TL_TYPE_INT4, "42", 42);
    expect_int(TL_TYPE_INT4, "  -17  ", -17);
    expect_int(TL_TYPE_INT4, "+7", 7);
    expect_int(TL_TYPE_INT2, "-32768", -32768);
    expect_int(TL_TYPE_INT2, "32767", 32767);
    expect_int(TL_TYPE_INT4, "-2147483648", INT32_MIN);
    expect_int(TL_TYPE_INT8, "-9223372036854775808", INT64_MIN);
    expect_int(TL_TYPE_INT8, "9223372036854775807", INT64_MAX);
    expect_int(TL_TYPE_INT8, "007", 7);
}

/* Malformed or out-of-range integers report 22P02 / 22003 as PostgreSQL. */
static void
test_int_input_errors(void **state)
{
    (void)state;
    expect_error(TL_TYPE_INT4, -1, "99999999999", TL_EOVERFLOW, "22003",
                 "value \"99999999999\" is out of range for type integer");
    expect_error(TL_TYPE_INT2, -1, "32768", TL_EOVERFLOW, "22003",
                 "value \"32768\" is out of range for type smallint");
    expect_error(TL_TYPE_INT8, -1, "9223372036854775808", TL_EOVERFLOW, "22003",
                 "value \"9223372036854775808\" is out of range for type "
                 "bigint");
    expect_error(TL_TYPE_INT4, -1, "abc", TL_ETYPE, "22P02",
                 "invalid input syntax for type integer: \"abc\"");
    expect_error(TL_TYPE_INT4, -1, "", TL_ETYPE, "22P02",
                 "invalid input syntax for type integer: \"\"");
    expect_error(TL_TYPE_INT4, -1, "  ", TL_ETYPE, "22P02",
                 "invalid input syntax for type integer: \"  \"");
    expect_error(TL_TYPE_INT4, -1, "1 2", TL_ETYPE, "22P02",
                 "invalid input syntax for type integer: \"1 2\"");
    expect_error(TL_TYPE_INT4, -1, "-", TL_ETYPE, "22P02",
                 "invalid input syntax for type integer: \"-\"");
    expect_error(TL_TYPE_INT8, -1, "1.5", TL_ETYPE, "22P02",
                 "invalid input syntax for type bigint: \"1.5\"");
    expect_error(TL_TYPE_INT2, -1, "x1", TL_ETYPE, "22P02",
                 "invalid input syntax for type smallint: \"x1\"");
}

/* float8 input accepts the special words in any case and reports range. */
static void
test_float_input(void **state)
{
    struct tl_value v;
    struct tl_error err;
    (void)state;

    assert_int_equal(parse(TL_TYPE_FLOAT8, -1, " 1.5 ", &v, &err), 0);
    assert_true(v.u.f == 1.5);
    assert_int_equal(parse(TL_TYPE_FLOAT8, -1, "Infinity", &v, &err), 0);
    assert_true(isinf(v.u.f) && v.u.f > 0);
    assert_int_equal(parse(TL_TYPE_FLOAT8, -1, "-infinity", &v, &err), 0);
    assert_true(isinf(v.u.f) && v.u.f < 0);
    assert_int_equal(parse(TL_TYPE_FLOAT8, -1, "inf", &v, &err), 0);
    assert_true(isinf(v.u.f));
    assert_int_equal(parse(TL_TYPE_FLOAT8, -1, "-INF", &v, &err), 0);
    assert_true(isinf(v.u.f) && v.u.f < 0);
    assert_int_equal(parse(TL_TYPE_FLOAT8, -1, "NaN", &v, &err), 0);
    assert_true(isnan(v.u.f));
    assert_int_equal(parse(TL_TYPE_FLOAT8, -1, "nan", &v, &err), 0);
    assert_true(isnan(v.u.f));
    assert_int_equal(parse(TL_TYPE_FLOAT8, -1, "4.9e-324", &v, &err), 0);
    assert_true(v.u.f > 0);
    assert_int_equal(parse(TL_TYPE_FLOAT8, -1, "-0", &v, &err), 0);
    assert_true(v.u.f == 0 && signbit(v.u.f));
    expect_error(TL_TYPE_FLOAT8, -1, "x", TL_ETYPE, "22P02",
                 "invalid input syntax for type double precision: \"x\"");
    expect_error(TL_TYPE_FLOAT8, -1, "", TL_ETYPE, "22P02",
                 "invalid input syntax for type double precision: \"\"");
    expect_error(TL_TYPE_FLOAT8, -1, "1.5x", TL_ETYPE, "22P02",
                 "invalid input syntax for type double precision: \"1.5x\"");
    expect_error(TL_TYPE_FLOAT8, -1, "1e400", TL_EOVERFLOW, "22003",
                 "\"1e400\" is out of range for type double precision");
    expect_error(TL_TYPE_FLOAT8, -1, "-1e-400", TL_EOVERFLOW, "22003",
                 "\"-1e-400\" is out of range for type double precision");
}

/* float8 output is the shortest round-trip text in PostgreSQL 15's form. */
static void
test_float_output(void **state)
{
    static const struct {
        double d;
        const char *s;
    } cases[] = {
        {1e15, "1e+15"},
        {1.5e-5, "1.5e-05"},
        {123456789012345.0, "123456789012345"},
        {1234567890123456.0, "1.234567890123456e+15"},
        {0.1, "0.1"},
        {-0.0, "-0"},
        {0.0, "0"},
        {0.0001, "0.0001"},
        {0.00012345, "0.00012345"},
        {100, "100"},
        {-1.5, "-1.5"},
        {2.5, "2.5"},
        {12345.678, "12345.678"},
        {1.0 / 3, "0.3333333333333333"},
        {0.1 + 0.2, "0.30000000000000004"},
        {1e100, "1e+100"},
        {1e-100, "1e-100"},
        {DBL_MAX, "1.7976931348623157e+308"},
        {5e-324, "5e-324"},
        {100000000000000.0, "100000000000000"},
        {999999999999999.0, "999999999999999"},
        {INFINITY, "Infinity"},
        {-INFINITY, "-Infinity"},
        {NAN, "NaN"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(out_text(tl_value_float(cases[i].d)), cases[i].s);
}

/* Every finite double reads back bit for bit from its text output. */
static void
test_float_round_trip(void **state)
{
    (void)state;
    srand(42);
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = 0;
        double d;
        struct tl_value v;
        struct tl_error err;

        for (int j = 0; j < 4; j++)
            bits = (bits << 16) ^ (uint64_t)(rand() & 0xffff);
        memcpy(&d, &bits, sizeof(d));
        if (isnan(d))
            continue;
        const char *s = out_text(tl_value_float(d));
        assert_int_equal(parse(TL_TYPE_FLOAT8, -1, s, &v, &err), 0);
        assert_memory_equal(&v.u.f, &d, sizeof(d));
    }
}

/* Booleans accept PostgreSQL's words and unambiguous prefixes. */
static void
test_bool_io(void **state)
{
    static const char *const yes[] = {"t",  "TRUE", " yes ", "on", "1",
                                      "tr", "Y",    "ye",    "ON"};
    static const char *const no[] = {"f",  "False", "no", "off",     "0",
                                     "of", "N",     "fa", " false\t"};
    static const char *const bad[] = {"o", "2", "", "truee", "yess", "onn"};
    struct tl_value v;
    struct tl_error err;
    (void)state;

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        assert_int_equal(parse(TL_TYPE_BOOL, -1, yes[i], &v, &err), 0);
        assert_true(v.u.b);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        assert_int_equal(parse(TL_TYPE_BOOL, -1, no[i], &v, &err), 0);
        assert_false(v.u.b);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(parse(TL_TYPE_BOOL, -1, bad[i], &v, &err), TL_ETYPE);
    expect_error(TL_TYPE_BOOL, -1, "maybe", TL_ETYPE, "22P02",
                 "invalid input syntax for type boolean: \"maybe\"");
    assert_string_equal(out_text(tl_value_bool(true)), "t");
    assert_string_equal(out_text(tl_value_bool(false)), "f");
    assert_string_equal(out_text(tl_value_int(TL_TYPE_INT8, INT64_MIN)),
                        "-9223372036854775808");
}

/* varchar(n) counts UTF-8 characters and forgives trailing spaces only. */
static void
test_varchar_length(void **state)
{
    struct tl_value v;
    struct tl_error err;
    (void)state;

    assert_int_equal(parse(TL_TYPE_VARCHAR, 3, "abc", &v, &err), 0);
    assert_int_equal(v.u.s.len, 3);
    assert_int_equal(parse(TL_TYPE_VARCHAR, 3, "h\xc3\xa9\xc3\xa9", &v, &err),
                     0);
    assert_int_equal(v.u.s.len, 5);
    assert_int_equal(parse(TL_TYPE_VARCHAR, 3, "abc   ", &v, &err), 0);
    assert_int_equal(v.u.s.len, 3);
    assert_int_equal(parse(TL_TYPE_VARCHAR, -1, "abcdef", &v, &err), 0);
    assert_int_equal(v.u.s.len, 6);
    expect_error(TL_TYPE_VARCHAR, 3, "abcd", TL_ETOOLONG, "22001",
                 "value too long for type character varying(3)");
    expect_error(TL_TYPE_VARCHAR, 3, "h\xc3\xa9llo", TL_ETOOLONG, "22001",
                 "value too long for type character varying(3)");
    assert_int_equal(parse(TL_TYPE_TEXT, 3, "  x ", &v, &err), 0);
    assert_int_equal(v.u.s.len, 4);
}

/* character(n) as PostgreSQL 15: casts pad to n characters ('ab'::char(4)
 * is "ab  "), trailing spaces beyond n are cut, other excess is 22001
 * "value too long for type character(3)" on assignment and cut by an
 * explicit cast ('abcd'::char(3) is "abc"); casts to text drop the padding
 * ('ab'::char(4)::text || '|' is "ab|"), and comparisons ignore trailing
 * spaces ('a'::char(3) = 'a'::char(5) is true, 'a '::char(3) < 'b' too). */
static void
test_bpchar(void **state)
{
    struct tl_arena a;
    struct tl_value in, v, w;
    struct tl_error err;
    (void)state;

    tl_arena_init(&a);
    tl_error_clear(&err);
    in = tl_value_text(TL_TYPE_UNKNOWN, "ab", 2);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_BPCHAR, 4, &a, &v, &err), 0);
    assert_int_equal(v.type, TL_TYPE_BPCHAR);
    assert_string_equal(out_text(v), "ab  ");
    /* UTF-8 counts characters: 'h\u00e9'::char(3) is "h\u00e9 ". */
    in = tl_value_text(TL_TYPE_UNKNOWN, "h\xc3\xa9", 3);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_BPCHAR, 3, &a, &v, &err), 0);
    assert_string_equal(out_text(v), "h\xc3\xa9 ");
    in = tl_value_text(TL_TYPE_UNKNOWN, "abc   ", 6);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_BPCHAR, 3, &a, &v, &err), 0);
    assert_string_equal(out_text(v), "abc");
    /* bpchar without n keeps the value as given. */
    in = tl_value_text(TL_TYPE_UNKNOWN, "ab ", 3);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_BPCHAR, -1, &a, &v, &err), 0);
    assert_string_equal(out_text(v), "ab ");
    expect_error(TL_TYPE_BPCHAR, 3, "abcd", TL_ETOOLONG, "22001",
                 "value too long for type character(3)");
    in = tl_value_text(TL_TYPE_UNKNOWN, "abcd", 4);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_BPCHAR, 3, &a, &v, &err),
                     TL_ETOOLONG);
    tl_error_clear(&err);
    assert_int_equal(
        tl_value_cast_explicit(&in, TL_TYPE_BPCHAR, 3, &a, &v, &err), 0);
    assert_string_equal(out_text(v), "abc");
    assert_int_equal(
        tl_value_cast_explicit(&in, TL_TYPE_VARCHAR, 2, &a, &v, &err), 0);
    assert_string_equal(out_text(v), "ab");
    /* 12::char(4) is "12  ", true::char(5) is "true ". */
    in = tl_value_int(TL_TYPE_INT4, 12);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_BPCHAR, 4, &a, &v, &err), 0);
    assert_string_equal(out_text(v), "12  ");
    in = tl_value_bool(true);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_BPCHAR, 5, &a, &v, &err), 0);
    assert_string_equal(out_text(v), "true ");
    /* To text and varchar the padding goes. */
    in = tl_value_text(TL_TYPE_BPCHAR, "ab  ", 4);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_TEXT, -1, &a, &v, &err), 0);
    assert_int_equal(v.u.s.len, 2);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_VARCHAR, 5, &a, &v, &err), 0);
    assert_int_equal(v.u.s.len, 2);
    /* char(4) -> char(6) pads on. */
    assert_int_equal(tl_value_cast(&in, TL_TYPE_BPCHAR, 6, &a, &v, &err), 0);
    assert_string_equal(out_text(v), "ab    ");
    /* Comparison. */
    v = tl_value_text(TL_TYPE_BPCHAR, "a  ", 3);
    w = tl_value_text(TL_TYPE_BPCHAR, "a    ", 5);
    assert_int_equal(tl_value_cmp(&v, &w), 0);
    w = tl_value_text(TL_TYPE_BPCHAR, "b", 1);
    assert_true(tl_value_cmp(&v, &w) < 0);
    w = tl_value_text(TL_TYPE_BPCHAR, "a\x01", 2);
    assert_true(tl_value_cmp(&v, &w) < 0);
    /* Against text, as text: 'a'::char(3) = 'a '::text is false. */
    w = tl_value_text(TL_TYPE_TEXT, "a ", 2);
    assert_true(tl_value_cmp(&v, &w) < 0);
    w = tl_value_text(TL_TYPE_TEXT, "a", 1);
    assert_int_equal(tl_value_cmp(&v, &w), 0);
    /* Against varchar, as bpchar: 'a'::char(3) = 'a '::varchar is true. */
    w = tl_value_text(TL_TYPE_VARCHAR, "a ", 2);
    assert_int_equal(tl_value_cmp(&v, &w), 0);
    assert_int_equal(tl_value_cmp(&w, &v), 0);
    tl_arena_close(&a);
}

/* real (float4) as PostgreSQL 15: output is the shortest text that reads
 * back to the same float, fixed notation for exponents in [-4, 6)
 * (1.1::real is "1.1", 3.4028235e38::real "3.4028235e+38", 1234567::real
 * "1.234567e+06", 123456::real "123456", 0.00001234::real "1.234e-05",
 * '1e-45'::real "1e-45", 16777217::real "1.6777216e+07"); input rounds
 * once with strtof; '1e39' is 22003 "\"1e39\" is out of range for type
 * real"; double to real is "value out of range: overflow"/"underflow". */
static void
test_float4(void **state)
{
    static const struct {
        const char *in, *out;
    } io[] = {
        {"1.1", "1.1"},
        {"3.4028235e38", "3.4028235e+38"},
        {"1234567", "1.234567e+06"},
        {"123456", "123456"},
        {"0.00001234", "1.234e-05"},
        {"0.0001", "0.0001"},
        {"1e-45", "1e-45"},
        {"16777217", "1.6777216e+07"},
        {"-0", "-0"},
        {" 2.5 ", "2.5"},
        {"nan", "NaN"},
        {"-inf", "-Infinity"},
        {"Infinity", "Infinity"},
    };
    struct tl_arena a;
    struct tl_value v, w;
    struct tl_error err;
    (void)state;

    for (size_t i = 0; i < sizeof(io) / sizeof(io[0]); i++) {
        assert_int_equal(parse(TL_TYPE_FLOAT4, -1, io[i].in, &v, &err), 0);
        assert_int_equal(v.type, TL_TYPE_FLOAT4);
        assert_string_equal(out_text(v), io[i].out);
    }
    expect_error(TL_TYPE_FLOAT4, -1, "1e39", TL_EOVERFLOW, "22003",
                 "\"1e39\" is out of range for type real");
    expect_error(TL_TYPE_FLOAT4, -1, "1e-50", TL_EOVERFLOW, "22003",
                 "\"1e-50\" is out of range for type real");
    expect_error(TL_TYPE_FLOAT4, -1, "abc", TL_ETYPE, "22P02",
                 "invalid input syntax for type real: \"abc\"");

    tl_arena_init(&a);
    tl_error_clear(&err);
    /* 1.1 (double) -> real rounds to the nearest float; back to double
     * it is 1.100000023841858. */
    v = tl_value_float(1.1);
    assert_int_equal(tl_value_cast(&v, TL_TYPE_FLOAT4, -1, &a, &w, &err), 0);
    assert_int_equal(w.type, TL_TYPE_FLOAT4);
    assert_true(w.u.f == (double)1.1f);
    assert_int_equal(tl_value_cast(&w, TL_TYPE_FLOAT8, -1, &a, &v, &err), 0);
    assert_string_equal(out_text(v), "1.100000023841858");
    v = tl_value_float(1e300);
    assert_int_equal(tl_value_cast(&v, TL_TYPE_FLOAT4, -1, &a, &w, &err),
                     TL_EOVERFLOW);
    assert_string_equal(err.message, "value out of range: overflow");
    v = tl_value_float(1e-300);
    assert_int_equal(tl_value_cast(&v, TL_TYPE_FLOAT4, -1, &a, &w, &err),
                     TL_EOVERFLOW);
    assert_string_equal(err.message, "value out of range: underflow");
    /* 2.5::real::int is 2, 3.5::real::int 4 (rint). */
    v = tl_value_float4(2.5f);
    assert_int_equal(tl_value_cast(&v, TL_TYPE_INT4, -1, &a, &w, &err), 0);
    assert_int_equal(w.u.i, 2);
    v = tl_value_float4(3.5f);
    assert_int_equal(tl_value_cast(&v, TL_TYPE_INT4, -1, &a, &w, &err), 0);
    assert_int_equal(w.u.i, 4);
    v = tl_value_int(TL_TYPE_INT4, 16777217);
    assert_int_equal(tl_value_cast(&v, TL_TYPE_FLOAT4, -1, &a, &w, &err), 0);
    assert_true(w.u.f == 16777216.0);
    /* 1.1::real = 1.1 is false (compared as double), 1.5::real = 1.5 and
     * 2::real = 2 true; NaN sorts above everything. */
    v = tl_value_float4(1.1f);
    w = tl_value_float(1.1);
    assert_true(tl_value_cmp(&v, &w) != 0);
    v = tl_value_float4(1.5f);
    w = tl_value_float(1.5);
    assert_int_equal(tl_value_cmp(&v, &w), 0);
    v = tl_value_float4(2.0f);
    w = tl_value_int(TL_TYPE_INT4, 2);
    assert_int_equal(tl_value_cmp(&v, &w), 0);
    v = tl_value_float4(NAN);
    w = tl_value_float4(INFINITY);
    assert_true(tl_value_cmp(&v, &w) > 0);
    tl_arena_close(&a);
}

/* Integer casts check the target range with PostgreSQL's messages. */
static void
test_cast_int(void **state)
{
    struct tl_arena a;
    struct tl_value in, out;
    struct tl_error err;
    (void)state;

    tl_arena_init(&a);
    in = tl_value_int(TL_TYPE_INT8, 40000);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_INT2, -1, &a, &out, &err),
                     TL_EOVERFLOW);
    assert_string_equal(err.sqlstate, "22003");
    assert_string_equal(err.message, "smallint out of range");
    assert_int_equal(tl_value_cast(&in, TL_TYPE_INT4, -1, &a, &out, &err), 0);
    assert_int_equal(out.type, TL_TYPE_INT4);
    assert_int_equal(out.u.i, 40000);
    in = tl_value_int(TL_TYPE_INT8, 1LL << 40);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_INT4, -1, &a, &out, &err),
                     TL_EOVERFLOW);
    assert_string_equal(err.message, "integer out of range");
    assert_int_equal(tl_value_cast(&in, TL_TYPE_FLOAT8, -1, &a, &out, &err), 0);
    assert_true(out.u.f == (double)(1LL << 40));
    tl_arena_close(&a);
}

/* float8 to integer rounds half to even and rejects NaN and infinities. */
static void
test_cast_float_to_int(void **state)
{
    static const struct {
        double d;
        int64_t i;
    } ok[] = {{2.5, 2},  {3.5, 4}, {-2.5, -2},
              {-0.4, 0}, {1.6, 2}, {-9223372036854775808.0, INT64_MIN}};
    static const double bad[] = {NAN, INFINITY, -INFINITY, 1e19,
                                 9223372036854775808.0};
    struct tl_arena a;
    struct tl_value in, out;
    struct tl_error err;
    (void)state;

    tl_arena_init(&a);
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        in = tl_value_float(ok[i].d);
        assert_int_equal(tl_value_cast(&in, TL_TYPE_INT8, -1, &a, &out, &err),
                         0);
        assert_true(out.u.i == ok[i].i);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        in = tl_value_float(bad[i]);
        assert_int_equal(tl_value_cast(&in, TL_TYPE_INT8, -1, &a, &out, &err),
                         TL_EOVERFLOW);
        assert_string_equal(err.message, "bigint out of range");
    }
    in = tl_value_float(32767.5);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_INT2, -1, &a, &out, &err),
                     TL_EOVERFLOW);
    assert_string_equal(err.message, "smallint out of range");
    in = tl_value_float(2147483647.4);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_INT4, -1, &a, &out, &err), 0);
    assert_int_equal(out.u.i, INT32_MAX);
    tl_arena_close(&a);
}

/* Casts through text parse and print; bool and numbers do not mix. */
static void
test_cast_text_and_bool(void **state)
{
    struct tl_arena a;
    struct tl_value in, out;
    struct tl_error err;
    (void)state;

    tl_arena_init(&a);
    in = tl_value_int(TL_TYPE_INT4, -42);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_TEXT, -1, &a, &out, &err), 0);
    assert_int_equal(out.type, TL_TYPE_TEXT);
    assert_int_equal(out.u.s.len, 3);
    assert_memory_equal(out.u.s.p, "-42", 3);

    in = tl_value_text(TL_TYPE_UNKNOWN, " 12 ", 4);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_INT2, -1, &a, &out, &err), 0);
    assert_int_equal(out.type, TL_TYPE_INT2);
    assert_int_equal(out.u.i, 12);
    in = tl_value_text(TL_TYPE_TEXT, "abc", 3);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_INT4, -1, &a, &out, &err),
                     TL_ETYPE);
    assert_string_equal(err.sqlstate, "22P02");
    assert_int_equal(tl_value_cast(&in, TL_TYPE_VARCHAR, 2, &a, &out, &err),
                     TL_ETOOLONG);
    assert_string_equal(err.message,
                        "value too long for type character varying(2)");

    in = tl_value_bool(true);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_TEXT, -1, &a, &out, &err), 0);
    assert_int_equal(out.u.s.len, 4);
    assert_memory_equal(out.u.s.p, "true", 4);
    in = tl_value_text(TL_TYPE_TEXT, "off", 3);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_BOOL, -1, &a, &out, &err), 0);
    assert_false(out.u.b);

    in = tl_value_bool(true);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_INT4, -1, &a, &out, &err),
                     TL_ETYPE);
    assert_string_equal(err.sqlstate, "42846");
    assert_string_equal(err.message, "cannot cast type boolean to integer");
    in = tl_value_float(1);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_BOOL, -1, &a, &out, &err),
                     TL_ETYPE);
    assert_string_equal(err.message,
                        "cannot cast type double precision to boolean");

    in = tl_value_null(TL_TYPE_UNKNOWN);
    assert_int_equal(tl_value_cast(&in, TL_TYPE_INT8, -1, &a, &out, &err), 0);
    assert_true(out.is_null);
    assert_int_equal(out.type, TL_TYPE_INT8);
    tl_arena_close(&a);
}

/* Comparison is exact between ints and floats, NaN is largest, text is
 * bytewise then shorter first, and NULLs go last unless asked first. */
static void
test_compare(void **state)
{
    struct tl_value a, b;
    (void)state;

    a = tl_value_int(TL_TYPE_INT8, INT64_MAX);
    b = tl_value_float(9223372036854775808.0);
    assert_true(tl_value_cmp(&a, &b) < 0);
    assert_true(tl_value_cmp(&b, &a) > 0);
    a = tl_value_int(TL_TYPE_INT8, (1LL << 53) + 1);
    b = tl_value_float((double)(1LL << 53));
    assert_true(tl_value_cmp(&a, &b) > 0);
    a = tl_value_int(TL_TYPE_INT2, 3);
    b = tl_value_float(3.0);
    assert_int_equal(tl_value_cmp(&a, &b), 0);
    b = tl_value_float(NAN);
    assert_true(tl_value_cmp(&a, &b) < 0);
    a = tl_value_float(INFINITY);
    assert_true(tl_value_cmp(&a, &b) < 0);
    a = tl_value_float(NAN);
    assert_int_equal(tl_value_cmp(&a, &b), 0);
    a = tl_value_float(-0.0);
    b = tl_value_float(0.0);
    assert_int_equal(tl_value_cmp(&a, &b), 0);
    a = tl_value_int(TL_TYPE_INT2, -5);
    b = tl_value_int(TL_TYPE_INT8, 7);
    assert_true(tl_value_cmp(&a, &b) < 0);

    struct tl_value t1 = tl_value_text(TL_TYPE_TEXT, "a", 1);
    struct tl_value t2 = tl_value_text(TL_TYPE_TEXT, "a\0", 2);
    struct tl_value t3 = tl_value_text(TL_TYPE_VARCHAR, "ab", 2);
    struct tl_value t4 = tl_value_text(TL_TYPE_UNKNOWN, "\xff", 1);
    assert_true(tl_value_cmp(&t1, &t2) < 0);
    assert_true(tl_value_cmp(&t2, &t3) < 0);
    assert_true(tl_value_cmp(&t3, &t4) < 0);
    assert_int_equal(tl_value_cmp(&t1, &t1), 0);

    a = tl_value_bool(false);
    b = tl_value_bool(true);
    assert_true(tl_value_cmp(&a, &b) < 0);

    a = tl_value_null(TL_TYPE_INT4);
    b = tl_value_int(TL_TYPE_INT4, 1);
    assert_true(tl_value_cmp_nulls(&a, &b, false) > 0);
    assert_true(tl_value_cmp_nulls(&a, &b, true) < 0);
    assert_true(tl_value_cmp_nulls(&b, &a, false) < 0);
    assert_int_equal(tl_value_cmp_nulls(&a, &a, false), 0);

    assert_true(tl_type_comparable(TL_TYPE_INT2, TL_TYPE_FLOAT8));
    assert_true(tl_type_comparable(TL_TYPE_UNKNOWN, TL_TYPE_VARCHAR));
    assert_false(tl_type_comparable(TL_TYPE_INT8, TL_TYPE_BOOL));
    assert_false(tl_type_comparable(TL_TYPE_TEXT, TL_TYPE_INT4));
}

/* Type names, OIDs and lengths are PostgreSQL's. */
static void
test_type_catalog(void **state)
{
    uint8_t t;
    int64_t min, max;
    (void)state;

    assert_string_equal(tl_type_name(TL_TYPE_FLOAT8), "double precision");
    assert_string_equal(tl_type_name(TL_TYPE_VARCHAR), "character varying");
    assert_int_equal(tl_type_oid(TL_TYPE_INT8), 20);
    assert_int_equal(tl_type_oid(TL_TYPE_INT4), 23);
    assert_int_equal(tl_type_oid(TL_TYPE_INT2), 21);
    assert_int_equal(tl_type_oid(TL_TYPE_TEXT), 25);
    assert_int_equal(tl_type_oid(TL_TYPE_UNKNOWN), 25);
    assert_int_equal(tl_type_oid(TL_TYPE_VARCHAR), 1043);
    assert_int_equal(tl_type_oid(TL_TYPE_BPCHAR), 1042);
    assert_int_equal(tl_type_len(TL_TYPE_BPCHAR), -1);
    assert_string_equal(tl_type_name(TL_TYPE_BPCHAR), "character");
    assert_int_equal(TL_TYPE_BPCHAR, 11); /* stored: never renumber */
    assert_int_equal(TL_TYPE_FLOAT4, 12);
    assert_int_equal(tl_type_oid(TL_TYPE_FLOAT4), 700);
    assert_int_equal(tl_type_len(TL_TYPE_FLOAT4), 4);
    assert_string_equal(tl_type_name(TL_TYPE_FLOAT4), "real");
    assert_int_equal(tl_type_from_name("float4", &t), 0);
    assert_int_equal(t, TL_TYPE_FLOAT4);
    assert_int_equal(tl_type_from_name("real", &t), 0);
    assert_int_equal(t, TL_TYPE_FLOAT4);
    assert_int_equal(tl_type_from_name("pg_catalog.bpchar", &t), 0);
    assert_int_equal(t, TL_TYPE_BPCHAR);
    assert_int_equal(tl_type_from_name("character", &t), 0);
    assert_int_equal(t, TL_TYPE_BPCHAR);
    assert_int_equal(tl_type_oid(TL_TYPE_BOOL), 16);
    assert_int_equal(tl_type_oid(TL_TYPE_FLOAT8), 701);
    assert_int_equal(tl_type_len(TL_TYPE_INT2), 2);
    assert_int_equal(tl_type_len(TL_TYPE_BOOL), 1);
    assert_int_equal(tl_type_len(TL_TYPE_TEXT), -1);
    assert_int_equal(tl_type_from_name("int8", &t), 0);
    assert_int_equal(t, TL_TYPE_INT8);
    assert_int_equal(tl_type_from_name("double precision", &t), 0);
    assert_int_equal(t, TL_TYPE_FLOAT8);
    assert_int_equal(tl_type_from_name("varchar", &t), 0);
    assert_int_equal(t, TL_TYPE_VARCHAR);
    assert_int_equal(tl_type_from_name("boolean", &t), 0);
    assert_int_equal(t, TL_TYPE_BOOL);
    assert_int_equal(tl_type_from_name("numeric", &t), 0);
    assert_int_equal(t, TL_TYPE_NUMERIC);
    assert_int_equal(tl_type_from_name("money", &t), TL_EUNSUPPORTED);
    tl_type_int_range(TL_TYPE_INT2, &min, &max);
    assert_true(min == -32768 && max == 32767);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int_input),
        cmocka_unit_test(test_int_input_errors),
        cmocka_unit_test(test_float_input),
        cmocka_unit_test(test_float_output),
        cmocka_unit_test(test_float_round_trip),
        cmocka_unit_test(test_bool_io),
        cmocka_unit_test(test_varchar_length),
        cmocka_unit_test(test_bpchar),
        cmocka_unit_test(test_float4),
        cmocka_unit_test(test_cast_int),
        cmocka_unit_test(test_cast_float_to_int),
        cmocka_unit_test(test_cast_text_and_bool),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_type_catalog),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
