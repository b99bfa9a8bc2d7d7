/* Unit tests for common/numeric.c: PostgreSQL 15's numeric input, output,
 * typmods, arithmetic scales, conversions, keys and binary format. Every
 * expected string was printed by PostgreSQL 15. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keycodec.h"
#include "numeric.h"
#include "value.h"
#include "vindex.h"

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
num(const char *s)
{
    struct tl_value v;
    struct tl_error err;
    tl_error_clear(&err);
    assert_int_equal(tl_numeric_from_text(s, strlen(s), -1, &arena, &v, &err),
                     0);
    assert_int_equal(v.type, TL_TYPE_NUMERIC);
    return v;
}

static void
assert_text(const struct tl_value *v, const char *want)
{
    char *got = tl_arena_strndup(&arena, v->u.s.p, v->u.s.len);
    assert_string_equal(got, want);
}

static int32_t
typmod(int32_t p, int32_t s)
{
    int32_t t;
    assert_int_equal(tl_numeric_typmod(p, s, &t, NULL), 0);
    return t;
}

/* numeric_in reads spaces, signs, exponents and NaN; numeric_out prints
 * the display scale. */
static void
test_input_output(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } io[] = {
        {"1.5", "1.5"},       {" -12.340e2 ", "-1234.0"},
        {"nan", "NaN"},       {"  NaN  ", "NaN"},
        {"+.5", "0.5"},       {"5.", "5"},
        {"-0.00", "0.00"},    {"0001.10", "1.10"},
        {"1e3", "1000"},      {"1.5e-3", "0.0015"},
        {"1E+2", "100"},      {"12.5e-1", "1.25"},
        {"1e 5", "100000"},   {"0", "0"},
        {"inf", "Infinity"},  {" -Infinity ", "-Infinity"},
        {"+INF", "Infinity"},
    };
    for (size_t i = 0; i < sizeof(io) / sizeof(io[0]); i++) {
        struct tl_value v = num(io[i].in);
        assert_text(&v, io[i].out);
        assert_true(tl_numeric_is_canonical(v.u.s.p, v.u.s.len));
    }
    struct tl_value big = num("1e131071");
    assert_int_equal(big.u.s.len, 131072);
}

/* Malformed text is 22P02 quoting the input; exponents past the format
 * are 22003. */
static void
test_input_errors(void **state)
{
    (void)state;
    static const char *bad[] = {"", "abc", "1.2.3", "1e", "--1", "1 2", "."};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct tl_value v;
        struct tl_error err;
        char want[80];
        tl_error_clear(&err);
        assert_int_equal(
            tl_numeric_from_text(bad[i], strlen(bad[i]), -1, &arena, &v, &err),
            TL_ETYPE);
        assert_string_equal(err.sqlstate, "22P02");
        snprintf(want, sizeof(want),
                 "invalid input syntax for type numeric: \"%s\"", bad[i]);
        assert_string_equal(err.message, want);
    }
    static const char *over[] = {"1e131072", "1e-16384", "1e99999999999"};
    for (size_t i = 0; i < sizeof(over) / sizeof(over[0]); i++) {
        struct tl_value v;
        struct tl_error err;
        tl_error_clear(&err);
        assert_int_equal(tl_numeric_from_text(over[i], strlen(over[i]), -1,
                                              &arena, &v, &err),
                         TL_EOVERFLOW);
        assert_string_equal(err.sqlstate, "22003");
        assert_string_equal(err.message, "value overflows numeric format");
    }
}

static void
expect_typmod(const char *in, int32_t p, int32_t s, const char *out)
{
    struct tl_value v;
    struct tl_error err;
    tl_error_clear(&err);
    assert_int_equal(
        tl_numeric_from_text(in, strlen(in), typmod(p, s), &arena, &v, &err),
        0);
    assert_text(&v, out);
}

static void
expect_overflow(const char *in, int32_t p, int32_t s, const char *detail)
{
    struct tl_value v;
    struct tl_error err;
    tl_error_clear(&err);
    assert_int_equal(
        tl_numeric_from_text(in, strlen(in), typmod(p, s), &arena, &v, &err),
        TL_EOVERFLOW);
    assert_string_equal(err.sqlstate, "22003");
    assert_string_equal(err.message, "numeric field overflow");
    assert_string_equal(err.detail, detail);
}

/* numeric(p,s) rounds half away from zero to s digits and refuses values
 * with more than p - s integer digits, with PostgreSQL's detail. */
static void
test_typmod(void **state)
{
    (void)state;
    int32_t p, s;
    assert_int_equal(typmod(10, 2), (10 << 16 | 2) + 4);
    tl_numeric_typmod_split(typmod(3, -1), &p, &s);
    assert_int_equal(p, 3);
    assert_int_equal(s, -1);

    expect_typmod("123.456", 5, 2, "123.46");
    expect_typmod("-0.004", 5, 2, "0.00");
    expect_typmod("-0.005", 5, 2, "-0.01");
    expect_typmod("0.5", 3, 0, "1");
    expect_typmod("125", 3, -1, "130");
    expect_typmod("99999.994", 7, 2, "99999.99");
    expect_typmod("NaN", 5, 2, "NaN");
    expect_overflow("999.995", 5, 2,
                    "A field with precision 5, scale 2 must round to an "
                    "absolute value less than 10^3.");
    expect_overflow("1", 2, 2,
                    "A field with precision 2, scale 2 must round to an "
                    "absolute value less than 1.");
    expect_overflow("Infinity", 5, 2,
                    "A field with precision 5, scale 2 cannot hold an "
                    "infinite value.");
    expect_overflow("12345", 3, -1,
                    "A field with precision 3, scale -1 must round to an "
                    "absolute value less than 10^4.");

    struct tl_error err;
    int32_t t;
    tl_error_clear(&err);
    assert_int_equal(tl_numeric_typmod(0, 0, &t, &err), TL_EINVAL);
    assert_string_equal(err.message,
                        "NUMERIC precision 0 must be between 1 and 1000");
    assert_int_equal(tl_numeric_typmod(5, 1001, &t, &err), TL_EINVAL);
    assert_string_equal(err.message,
                        "NUMERIC scale 1001 must be between -1000 and 1000");
}

enum { ADD, SUB, MUL, DIV, MOD };

static int
calc(int op, const char *x, const char *y, struct tl_value *out,
     struct tl_error *err)
{
    struct tl_value a = num(x), b = num(y);
    tl_error_clear(err);
    switch (op) {
    case ADD:
        return tl_numeric_add(&a, &b, &arena, out, err);
    case SUB:
        return tl_numeric_sub(&a, &b, &arena, out, err);
    case MUL:
        return tl_numeric_mul(&a, &b, &arena, out, err);
    case DIV:
        return tl_numeric_div(&a, &b, &arena, out, err);
    default:
        return tl_numeric_mod(&a, &b, &arena, out, err);
    }
}

/* + - * / % give PostgreSQL's values and display scales (division:
 * select_div_scale, rounded half away from zero). */
static void
test_arithmetic(void **state)
{
    (void)state;
    static const struct {
        int op;
        const char *x, *y, *want;
    } cases[] = {
        {ADD, "1.5", "2.25", "3.75"},
        {ADD, "-1.5", "1.5", "0.0"},
        {ADD, "99999999999999999999", "1", "100000000000000000000"},
        {ADD, "0.1", "-0.25", "-0.15"},
        {ADD, "NaN", "1", "NaN"},
        {SUB, "1", "0.001", "0.999"},
        {SUB, "-2", "-2.50", "0.50"},
        {MUL, "1.23", "4.567", "5.61741"},
        {MUL, "-2.0", "0.50", "-1.000"},
        {MUL, "0", "-1.5", "0.0"},
        {DIV, "1", "3", "0.33333333333333333333"},
        {DIV, "10", "4", "2.5000000000000000"},
        {DIV, "100", "7", "14.2857142857142857"},
        {DIV, "1", "7", "0.14285714285714285714"},
        {DIV, "0.001", "7", "0.00014285714285714286"},
        {DIV, "123456789", "0.0001", "1234567890000.00000000"},
        {DIV, "2", "-3", "-0.66666666666666666667"},
        {DIV, "-1", "3", "-0.33333333333333333333"},
        {DIV, "2.5", "2.5", "1.00000000000000000000"},
        {DIV, "0", "5", "0.00000000000000000000"},
        {DIV, "1", "1e-20", "100000000000000000000.00000000000000000000"},
        {DIV, "999999", "0.003", "333333000.00000000"},
        {DIV, "3", "2", "1.5000000000000000"},
        {DIV, "NaN", "0", "NaN"},
        {MOD, "7.5", "2", "1.5"},
        {MOD, "-7.5", "2", "-1.5"},
        {MOD, "10", "3", "1"},
        {MOD, "5.25", "-2", "1.25"},
        {MOD, "NaN", "0", "NaN"},
        {ADD, "Infinity", "1", "Infinity"},
        {SUB, "Infinity", "Infinity", "NaN"},
        {ADD, "-Infinity", "Infinity", "NaN"},
        {SUB, "1", "Infinity", "-Infinity"},
        {MUL, "Infinity", "0", "NaN"},
        {MUL, "Infinity", "-0.5", "-Infinity"},
        {MUL, "-Infinity", "-Infinity", "Infinity"},
        {DIV, "1", "Infinity", "0"},
        {DIV, "Infinity", "-2", "-Infinity"},
        {DIV, "Infinity", "Infinity", "NaN"},
        {MOD, "5", "Infinity", "5"},
        {MOD, "-5.5", "-Infinity", "-5.5"},
        {MOD, "Infinity", "2", "NaN"},
        {ADD, "NaN", "Infinity", "NaN"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tl_value v;
        struct tl_error err;
        assert_int_equal(calc(cases[i].op, cases[i].x, cases[i].y, &v, &err),
                         0);
        assert_text(&v, cases[i].want);
    }
    struct tl_value v;
    struct tl_error err;
    assert_int_equal(calc(DIV, "1", "0", &v, &err), TL_EDIVZERO);
    assert_string_equal(err.sqlstate, "22012");
    assert_string_equal(err.message, "division by zero");
    assert_int_equal(calc(MOD, "1", "0.0", &v, &err), TL_EDIVZERO);
    assert_int_equal(calc(DIV, "Infinity", "0", &v, &err), TL_EDIVZERO);
    assert_int_equal(calc(MOD, "-Infinity", "0", &v, &err), TL_EDIVZERO);

    struct tl_value x = num("1.50");
    v = tl_numeric_neg(&x, &arena);
    assert_text(&v, "-1.50");
    v = tl_numeric_neg(&v, &arena);
    assert_text(&v, "1.50");
    x = num("0.0");
    v = tl_numeric_neg(&x, &arena);
    assert_text(&v, "0.0");
    x = num("Infinity");
    v = tl_numeric_neg(&x, &arena);
    assert_text(&v, "-Infinity");
    v = tl_numeric_neg(&v, &arena);
    assert_text(&v, "Infinity");
}

/* Comparison is by value: scale does not count, NaN is equal to itself
 * and above every number. */
static void
test_compare(void **state)
{
    (void)state;
    static const struct {
        const char *x, *y;
        int want;
    } cases[] = {
        {"1.0", "1.00", 0},
        {"NaN", "1e100", 1},
        {"NaN", "NaN", 0},
        {"-1", "0.5", -1},
        {"-1.5", "-1.25", -1},
        {"0.5", "0.05", 1},
        {"0", "-0.00", 0},
        {"10", "9.99", 1},
        {"-10", "-9.99", -1},
        {"0.001", "0", 1},
        {"1e3", "999.9", 1},
        {"-0.001", "0", -1},
        {"Infinity", "1e100", 1},
        {"-Infinity", "-1e100", -1},
        {"Infinity", "NaN", -1},
        {"-Infinity", "-Infinity", 0},
        {"Infinity", "-Infinity", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tl_value a = num(cases[i].x), b = num(cases[i].y);
        int c = tl_numeric_cmp(&a, &b);
        assert_int_equal((c > 0) - (c < 0), cases[i].want);
        c = tl_numeric_cmp(&b, &a);
        assert_int_equal((c > 0) - (c < 0), -cases[i].want);
    }
    struct tl_value a = num("2.000");
    assert_int_equal(tl_numeric_cmp_int(&a, 2), 0);
    assert_true(tl_numeric_cmp_int(&a, 3) < 0);
    /* through tl_value_cmp: against integers and floats */
    struct tl_value i = tl_value_int(TL_TYPE_INT4, 2);
    struct tl_value f = tl_value_float(2.5);
    assert_int_equal(tl_value_cmp(&a, &i), 0);
    assert_true(tl_value_cmp(&a, &f) < 0);
    assert_true(tl_value_cmp(&f, &a) > 0);
}

/* Casts to integers round half away from zero and check the range; from
 * floats keep 15 (real: 6) significant digits. */
static void
test_conversions(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        uint8_t type;
        int64_t want;
    } ok[] = {
        {"2.5", TL_TYPE_INT4, 3},
        {"-2.5", TL_TYPE_INT4, -3},
        {"2.4999", TL_TYPE_INT4, 2},
        {"2147483647.49", TL_TYPE_INT4, 2147483647},
        {"-32768.4", TL_TYPE_INT2, -32768},
        {"9223372036854775807", TL_TYPE_INT8, INT64_MAX},
        {"-9223372036854775808", TL_TYPE_INT8, INT64_MIN},
    };
    for (size_t k = 0; k < sizeof(ok) / sizeof(ok[0]); k++) {
        struct tl_value v = num(ok[k].in);
        int64_t i = 0;
        assert_int_equal(tl_numeric_to_int(&v, ok[k].type, &i, NULL), 0);
        assert_true(i == ok[k].want);
    }
    struct tl_error err;
    struct tl_value v = num("32767.5");
    int64_t i;
    tl_error_clear(&err);
    assert_int_equal(tl_numeric_to_int(&v, TL_TYPE_INT2, &i, &err),
                     TL_EOVERFLOW);
    assert_string_equal(err.message, "smallint out of range");
    v = num("9223372036854775807.5");
    assert_int_equal(tl_numeric_to_int(&v, TL_TYPE_INT8, &i, &err),
                     TL_EOVERFLOW);
    assert_string_equal(err.message, "bigint out of range");
    v = num("NaN");
    assert_int_equal(tl_numeric_to_int(&v, TL_TYPE_INT4, &i, &err),
                     TL_EUNSUPPORTED);
    assert_string_equal(err.message, "cannot convert NaN to integer");
    v = num("-Infinity");
    assert_int_equal(tl_numeric_to_int(&v, TL_TYPE_INT8, &i, &err),
                     TL_EUNSUPPORTED);
    assert_string_equal(err.message, "cannot convert infinity to bigint");

    static const struct {
        double d;
        bool f4;
        const char *want;
    } fl[] = {
        {0.1, false, "0.1"},
        {1e20, false, "100000000000000000000"},
        {12345678901234567.0, false, "12345678901234600"},
        {1e-5, false, "0.00001"},
        {1.5, true, "1.5"},
        {(double)0.1f, true, "0.1"},
    };
    for (size_t k = 0; k < sizeof(fl) / sizeof(fl[0]); k++) {
        assert_int_equal(
            tl_numeric_from_double(fl[k].d, fl[k].f4, &arena, &v, NULL), 0);
        assert_text(&v, fl[k].want);
    }
    assert_int_equal(tl_numeric_from_double(NAN, false, &arena, &v, NULL), 0);
    assert_text(&v, "NaN");
    assert_int_equal(tl_numeric_from_double(-INFINITY, false, &arena, &v, NULL),
                     0);
    assert_text(&v, "-Infinity");

    /* tl_value_cast both ways */
    struct tl_value in = tl_value_int(TL_TYPE_INT4, 42), out;
    assert_int_equal(
        tl_value_cast(&in, TL_TYPE_NUMERIC, typmod(5, 2), &arena, &out, &err),
        0);
    assert_text(&out, "42.00");
    v = num("1.25");
    assert_int_equal(tl_value_cast(&v, TL_TYPE_FLOAT8, -1, &arena, &out, &err),
                     0);
    assert_true(out.type == TL_TYPE_FLOAT8 && out.u.f == 1.25);
    assert_int_equal(tl_value_cast(&v, TL_TYPE_TEXT, -1, &arena, &out, &err),
                     0);
    assert_text(&out, "1.25");
    in = tl_value_text(TL_TYPE_TEXT, " 7.125 ", 7);
    tl_error_clear(&err);
    assert_int_equal(
        tl_value_cast(&in, TL_TYPE_NUMERIC, typmod(4, 2), &arena, &out, &err),
        0);
    assert_text(&out, "7.13");
    v = num("1e400");
    tl_error_clear(&err);
    assert_int_equal(tl_value_cast(&v, TL_TYPE_FLOAT8, -1, &arena, &out, &err),
                     TL_EOVERFLOW);
    assert_string_equal(err.sqlstate, "22003");
}

static void
key_of(const char *s, struct tl_buf *b)
{
    struct tl_value v = num(s);
    tl_buf_reset(b);
    tl_key_encode_value(b, &v);
}

/* Keys order as the values, equal values (any scale) share a key and a
 * vindex hash, and a key decodes to the value. */
static void
test_keys(void **state)
{
    (void)state;
    static const char *sorted[] = {
        "-Infinity", "-1e20", "-100", "-99.5", "-10",      "-1.25",
        "-1.2",      "-1",    "-0.5", "-0.05", "0",        "0.001",
        "0.05",      "0.5",   "1",    "1.2",   "1.25",     "2",
        "9.99",      "10",    "100",  "1e20",  "Infinity", "NaN",
    };
    size_t n = sizeof(sorted) / sizeof(sorted[0]);
    struct tl_buf a, b;
    tl_buf_init(&a);
    tl_buf_init(&b);
    for (size_t i = 0; i + 1 < n; i++) {
        key_of(sorted[i], &a);
        key_of(sorted[i + 1], &b);
        size_t m = a.len < b.len ? a.len : b.len;
        int c = memcmp(a.data, b.data, m);
        assert_true(c < 0 || (c == 0 && a.len < b.len));
    }
    static const char *same[][2] = {{"1.5", "1.50"},
                                    {"0", "0.000"},
                                    {"-100", "-100.0"},
                                    {"1e3", "1000.00"}};
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        key_of(same[i][0], &a);
        key_of(same[i][1], &b);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        struct tl_value x = num(same[i][0]), y = num(same[i][1]);
        assert_true(tl_vindex_hash(&x) == tl_vindex_hash(&y));
    }
    static const char *rt[][2] = {{"1.50", "1.5"},
                                  {"-0.050", "-0.05"},
                                  {"1000.0", "1000"},
                                  {"NaN", "NaN"},
                                  {"0.00", "0"},
                                  {"-123.456", "-123.456"},
                                  {"Infinity", "Infinity"},
                                  {"-Infinity", "-Infinity"}};
    for (size_t i = 0; i < sizeof(rt) / sizeof(rt[0]); i++) {
        key_of(rt[i][0], &a);
        const uint8_t *p = a.data;
        struct tl_value v;
        assert_int_equal(tl_key_decode_value(&p, a.data + a.len,
                                             TL_TYPE_NUMERIC, &arena, &v),
                         0);
        assert_ptr_equal(p, a.data + a.len);
        assert_text(&v, rt[i][1]);
    }
    /* a long value takes the heap path of the hash */
    struct tl_value l1 = num("123456789012345678901234567890.5");
    struct tl_value l2 = num("123456789012345678901234567890.50000");
    assert_true(tl_vindex_hash(&l1) == tl_vindex_hash(&l2));
    tl_buf_close(&a);
    tl_buf_close(&b);
}

/* numeric_send's format, as PostgreSQL prints numeric_send(x). */
static void
test_binary(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *hex;
    } cases[] = {
        {"1234.5678", "000200000000000404d2162e"},
        {"0.05", "0001ffff0000000201f4"},
        {"-10000", "00010001400000000001"},
        {"0.00", "0000000000000002"},
        {"NaN", "00000000c0000000"},
        {"12345.678901", "0004000100000006000109291a850064"},
        {"Infinity", "00000000d0000020"},
        {"-Infinity", "00000000f0000020"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tl_value v = num(cases[i].in), back;
        struct tl_buf b;
        char hex[128];
        tl_buf_init(&b);
        tl_numeric_to_binary(&v, &b);
        for (size_t k = 0; k < b.len; k++)
            snprintf(hex + 2 * k, 3, "%02x", b.data[k]);
        hex[2 * b.len] = '\0';
        assert_string_equal(hex, cases[i].hex);
        assert_int_equal(
            tl_numeric_from_binary(b.data, b.len, -1, &arena, &back, NULL), 0);
        assert_text(&back, cases[i].in);
        tl_buf_close(&b);
    }
    struct tl_error err;
    struct tl_value v;
    static const uint8_t bad_sign[] = {0, 0, 0, 0, 0x12, 0x34, 0, 0};
    tl_error_clear(&err);
    assert_int_equal(tl_numeric_from_binary(bad_sign, sizeof(bad_sign), -1,
                                            &arena, &v, &err),
                     TL_EPROTO);
    assert_string_equal(err.sqlstate, "22P03");
    static const uint8_t bad_digit[] = {0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10};
    assert_int_equal(tl_numeric_from_binary(bad_digit, sizeof(bad_digit), -1,
                                            &arena, &v, &err),
                     TL_EPROTO);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_input_output),
        cmocka_unit_test(test_input_errors),
        cmocka_unit_test(test_typmod),
        cmocka_unit_test(test_arithmetic),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_conversions),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_binary),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
