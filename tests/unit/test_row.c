/* Unit tests for common/row.c: the compact row encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "row.h"

static void
assert_value_equal(const struct tl_value *a, const struct tl_value *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->is_null, b->is_null);
    if (a->is_null)
        return;
    switch (a->type) {
    case TL_TYPE_BOOL:
        assert_int_equal(a->u.b, b->u.b);
        break;
    case TL_TYPE_INT2:
    case TL_TYPE_INT4:
    case TL_TYPE_INT8:
    case TL_TYPE_TIMESTAMPTZ:
    case TL_TYPE_TIMESTAMP:
    case TL_TYPE_DATE:
        assert_true(a->u.i == b->u.i);
        break;
    case TL_TYPE_FLOAT8:
    case TL_TYPE_FLOAT4:
        assert_memory_equal(&a->u.f, &b->u.f, sizeof(double));
        break;
    default:
        assert_int_equal(a->u.s.len, b->u.s.len);
        if (a->u.s.len)
            assert_memory_equal(a->u.s.p, b->u.s.p, a->u.s.len);
        break;
    }
}

/* Every type, NULLs and extreme values survive an encode/decode round trip. */
static void
test_round_trip(void **state)
{
    struct tl_value in[] = {
        tl_value_int(TL_TYPE_INT8, INT64_MIN),
        tl_value_int(TL_TYPE_INT8, INT64_MAX),
        tl_value_int(TL_TYPE_INT4, -1),
        tl_value_int(TL_TYPE_INT2, 32767),
        tl_value_float(-0.0),
        tl_value_float(INFINITY),
        tl_value_float(1.25),
        tl_value_bool(true),
        tl_value_bool(false),
        tl_value_text(TL_TYPE_TEXT, "a\0b", 3),
        tl_value_text(TL_TYPE_VARCHAR, "", 0),
        tl_value_text(TL_TYPE_UNKNOWN, "lit", 3),
        tl_value_null(TL_TYPE_INT4),
        tl_value_null(TL_TYPE_UNKNOWN),
        tl_value_null(TL_TYPE_TEXT),
        tl_value_int(TL_TYPE_TIMESTAMPTZ, INT64_MIN),
        tl_value_int(TL_TYPE_TIMESTAMPTZ, INT64_C(757389600000000)),
        tl_value_int(TL_TYPE_TIMESTAMP, -1),
        tl_value_int(TL_TYPE_TIMESTAMP, INT64_MAX),
        tl_value_int(TL_TYPE_DATE, INT32_MIN),
        tl_value_int(TL_TYPE_DATE, 8766),
        tl_value_int(TL_TYPE_DATE, INT32_MAX),
        tl_value_null(TL_TYPE_DATE),
        tl_value_text(TL_TYPE_BPCHAR, "ab  ", 4), /* padding is kept */
        tl_value_null(TL_TYPE_BPCHAR),
        tl_value_float4(1.1f),
        tl_value_float4(-0.0f),
        tl_value_float4(-INFINITY),
        tl_value_null(TL_TYPE_FLOAT4),
        tl_value_text(TL_TYPE_NUMERIC, "-1234.50", 8), /* scale is kept */
        tl_value_text(TL_TYPE_NUMERIC, "NaN", 3),
        tl_value_null(TL_TYPE_NUMERIC),
    };
    size_t n = sizeof(in) / sizeof(in[0]), n_out;
    struct tl_value out[40];
    struct tl_buf b;
    (void)state;

    tl_buf_init(&b);
    tl_row_encode(in, n, 7, &b);
    assert_int_equal(b.data[0], TL_ROW_FORMAT);
    assert_int_equal(tl_row_decode(b.data, b.len, out, 40, &n_out), 0);
    assert_int_equal(n_out, n);
    for (size_t i = 0; i < n; i++)
        assert_value_equal(&in[i], &out[i]);
    /* Columns missing from the row read as untyped NULLs. */
    for (size_t i = n; i < 40; i++) {
        assert_true(out[i].is_null);
        assert_int_equal(out[i].type, TL_TYPE_UNKNOWN);
    }
    /* Columns beyond n_max are skipped. */
    assert_int_equal(tl_row_decode(b.data, b.len, out, 2, NULL), 0);
    assert_value_equal(&in[1], &out[1]);
    tl_buf_close(&b);
}

/* The layout is the documented one, byte for byte. */
static void
test_layout(void **state)
{
    struct tl_value in[] = {
        tl_value_int(TL_TYPE_INT4, -2), tl_value_null(TL_TYPE_TEXT),
        tl_value_text(TL_TYPE_TEXT, "hi", 2), tl_value_bool(true)};
    static const uint8_t want[] = {1, 3, 4,   TL_TYPE_INT4, 3, 0x86,
                                   6, 2, 'h', 'i',          1, 1};
    struct tl_buf b;
    (void)state;

    tl_buf_init(&b);
    tl_row_encode(in, 4, 3, &b);
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    tl_buf_close(&b);
}

/* A character(n) column is stored with its tag 11 and its padded bytes,
 * as text is: 'ab'::char(4) is 11, 4, "ab  "; its NULL is 0x8b. */
static void
test_bpchar_layout(void **state)
{
    struct tl_value in[] = {tl_value_text(TL_TYPE_BPCHAR, "ab  ", 4),
                            tl_value_null(TL_TYPE_BPCHAR)};
    static const uint8_t want[] = {1, 0, 2, 11, 4, 'a', 'b', ' ', ' ', 0x8b};
    struct tl_buf b;
    (void)state;

    tl_buf_init(&b);
    tl_row_encode(in, 2, 0, &b);
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    tl_buf_close(&b);
}

/* A real is stored as tag 12 and its 4 IEEE bytes, big-endian: 1.5 is
 * 3f c0 00 00; a truncated one is corrupt. */
static void
test_float4_layout(void **state)
{
    struct tl_value in[] = {tl_value_float4(1.5f)};
    static const uint8_t want[] = {1, 0, 1, 12, 0x3f, 0xc0, 0, 0};
    struct tl_value out[1];
    size_t n_out;
    struct tl_buf b;
    (void)state;

    tl_buf_init(&b);
    tl_row_encode(in, 1, 0, &b);
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    assert_int_equal(tl_row_decode(b.data, b.len - 1, out, 1, &n_out),
                     TL_ECORRUPT);
    tl_buf_close(&b);
}

/* Dates and timestamps are stored as zigzag varints of their days or
 * microseconds, byte for byte, and a date outside int32 is corrupt. */
static void
test_datetime_layout(void **state)
{
    struct tl_value in[] = {tl_value_int(TL_TYPE_DATE, -1),
                            tl_value_int(TL_TYPE_TIMESTAMPTZ, 1),
                            tl_value_int(TL_TYPE_TIMESTAMP, 64),
                            tl_value_null(TL_TYPE_TIMESTAMPTZ)};
    static const uint8_t want[] = {1,    0,
                                   4,    TL_TYPE_DATE,
                                   1,    TL_TYPE_TIMESTAMPTZ,
                                   2,    TL_TYPE_TIMESTAMP,
                                   0x80, 1,
                                   0x88};
    /* A date of 2^31 (zigzag 2^32): one past int32. */
    static const uint8_t bad_date[] = {1,    0,    1,    TL_TYPE_DATE, 0x80,
                                       0x80, 0x80, 0x80, 0x10};
    struct tl_value out;
    struct tl_buf b;
    (void)state;

    tl_buf_init(&b);
    tl_row_encode(in, 4, 0, &b);
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    tl_buf_close(&b);
    assert_int_equal(tl_row_decode(bad_date, sizeof(bad_date), &out, 1, NULL),
                     TL_ECORRUPT);
}

/* A one-value row decodes only when it holds exactly one column. */
static void
test_single_value(void **state)
{
    struct tl_value v = tl_value_float(2.5), out;
    struct tl_value two[2] = {v, v};
    struct tl_buf b;
    (void)state;

    tl_buf_init(&b);
    tl_row_encode_value(&v, &b);
    assert_int_equal(tl_row_decode_value(b.data, b.len, &out), 0);
    assert_value_equal(&v, &out);
    tl_buf_reset(&b);
    tl_row_encode(two, 2, 0, &b);
    assert_int_equal(tl_row_decode_value(b.data, b.len, &out), TL_ECORRUPT);
    tl_buf_reset(&b);
    tl_row_encode(two, 0, 0, &b);
    assert_int_equal(tl_row_decode_value(b.data, b.len, &out), TL_ECORRUPT);
    tl_buf_close(&b);
}

/* Truncated, padded and malformed rows are TL_ECORRUPT. */
static void
test_malformed(void **state)
{
    static const struct {
        const char *p;
        size_t len;
    } bad[] = {
        {"", 0},
        {"\x02\x00\x00", 3},                 /* unknown format */
        {"\x01\x00\x01", 3},                 /* missing column */
        {"\x01\x00\x01\x09", 4},             /* unknown type */
        {"\x01\x00\x01\xc3", 4},             /* NULL tag with stray bit */
        {"\x01\x00\x01\x01\x02", 5},         /* bool not 0/1 */
        {"\x01\x00\x01\x02\x80\x80\x04", 7}, /* int2 out of range */
        {"\x01\x00\x01\x05\x00\x00", 6},     /* short float */
        {"\x01\x00\x01\x06\x05hi", 6},       /* text past the end */
        {"\x01\x00\x01\x03\x02\x00", 6},     /* trailing byte */
        {"\x01\x00\xff\xff\xff\xff\x0f", 7}, /* huge column count */
        {"\x01\x00\x01\x04\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
         15}, /* varint too long */
    };
    struct tl_value out[4];
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(
            tl_row_decode((const uint8_t *)bad[i].p, bad[i].len, out, 4, NULL),
            TL_ECORRUPT);
}

/* Random bytes and mutated valid rows never crash or read out of bounds
 * (run under ASan: each input sits in its own exact-size heap block). */
static void
test_fuzz(void **state)
{
    struct tl_value in[] = {tl_value_int(TL_TYPE_INT8, 123456789),
                            tl_value_text(TL_TYPE_TEXT, "hello", 5),
                            tl_value_float(3.5), tl_value_bool(true),
                            tl_value_null(TL_TYPE_INT2)};
    struct tl_value out[8];
    struct tl_buf b;
    (void)state;

    srand(1);
    tl_buf_init(&b);
    tl_row_encode(in, 5, 1, &b);
    for (int iter = 0; iter < 200000; iter++) {
        size_t len;
        uint8_t *p;
        if (iter % 2) {
            len = (size_t)(rand() % 24);
            p = malloc(len ? len : 1);
            for (size_t i = 0; i < len; i++)
                p[i] = (uint8_t)rand();
            if (len > 0 && rand() % 2)
                p[0] = TL_ROW_FORMAT;
        } else {
            len = (size_t)(rand() % ((int)b.len + 1));
            p = malloc(len ? len : 1);
            memcpy(p, b.data, len);
            if (len > 0)
                p[rand() % len] ^= (uint8_t)(1u << (rand() % 8));
        }
        size_t n;
        int rv = tl_row_decode(p, len, out, (size_t)(rand() % 8), &n);
        assert_true(rv == 0 || rv == TL_ECORRUPT);
        free(p);
    }
    tl_buf_close(&b);
}

/* A numeric is stored as tag 13 and its canonical text; text that is not
 * canonical numeric (a leading zero, "-0", junk) is corrupt. */
static void
test_numeric(void **state)
{
    struct tl_value in = tl_value_text(TL_TYPE_NUMERIC, "1.50", 4), out;
    static const uint8_t want[] = {1, 0, 1, 13, 4, '1', '.', '5', '0'};
    struct tl_buf b;
    (void)state;

    tl_buf_init(&b);
    tl_row_encode(&in, 1, 0, &b);
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    tl_buf_close(&b);
    static const char *bad[] = {"01.5", "-0", "1.", ".5", "1e3", "nan", "+1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t row[32] = {1, 0, 1, 13, (uint8_t)strlen(bad[i])};
        memcpy(row + 5, bad[i], strlen(bad[i]));
        assert_int_equal(tl_row_decode(row, 5 + strlen(bad[i]), &out, 1, NULL),
                         TL_ECORRUPT);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numeric),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_single_value),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_datetime_layout),
        cmocka_unit_test(test_bpchar_layout),
        cmocka_unit_test(test_float4_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
