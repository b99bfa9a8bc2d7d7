/* Unit tests for common/keycodec.c: memcomparable keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "keycodec.h"

static uint64_t
rand64(void)
{
    uint64_t v = 0;
    for (int i = 0; i < 4; i++)
        v = (v << 16) ^ (uint64_t)(rand() & 0xffff);
    return v;
}

/* memcmp order of two buffers, shorter first on a common prefix. */
static int
key_cmp(const struct tl_buf *a, const struct tl_buf *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->data, b->data, n) : 0;
    if (c != 0)
        return c < 0 ? -1 : 1;
    return (a->len > b->len) - (a->len < b->len);
}

static int
sign(int c)
{
    return (c > 0) - (c < 0);
}

/* The key order of @a and @b equals tl_value_cmp_nulls (NULLs last). */
static void
check_order(const struct tl_value *a, const struct tl_value *b)
{
    struct tl_buf ka, kb;
    tl_buf_init(&ka);
    tl_buf_init(&kb);
    tl_key_encode_value(&ka, a);
    tl_key_encode_value(&kb, b);
    assert_int_equal(sign(key_cmp(&ka, &kb)),
                     sign(tl_value_cmp_nulls(a, b, false)));
    tl_buf_close(&ka);
    tl_buf_close(&kb);
}

/* Decoding @v's key gives @v back and consumes exactly the key. */
static void
check_round_trip(const struct tl_value *v)
{
    struct tl_buf k;
    struct tl_arena a;
    struct tl_value out;
    const uint8_t *p;

    tl_buf_init(&k);
    tl_arena_init(&a);
    tl_key_encode_value(&k, v);
    p = k.data;
    assert_int_equal(tl_key_decode_value(&p, k.data + k.len, v->type, &a, &out),
                     0);
    assert_ptr_equal(p, k.data + k.len);
    assert_int_equal(out.is_null, v->is_null);
    assert_int_equal(out.type, v->type);
    if (!v->is_null)
        assert_int_equal(tl_value_cmp(&out, v), 0);
    tl_arena_close(&a);
    tl_buf_close(&k);
}

/* Byte order equals value order for random and extreme integers, with
 * every width encoding the same value alike. */
static void
test_int_order(void **state)
{
    static const int64_t edge[] = {
        INT64_MIN, INT64_MIN + 1, -256,          -1,       0, 1,
        255,       256,           INT64_MAX - 1, INT64_MAX};
    int64_t vals[400];
    size_t n = 0;
    (void)state;

    srand(3);
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
        vals[n++] = edge[i];
    while (n < 400)
        vals[n++] =
            (int64_t)(rand64() >> (rand() % 64)) * (rand() % 2 ? 1 : -1);
    for (size_t i = 0; i < n; i++) {
        struct tl_value a = tl_value_int(TL_TYPE_INT8, vals[i]);
        check_round_trip(&a);
        for (size_t j = 0; j < n; j++) {
            struct tl_value b = tl_value_int(TL_TYPE_INT8, vals[j]);
            check_order(&a, &b);
        }
    }

    struct tl_buf k2, k8;
    struct tl_value v2 = tl_value_int(TL_TYPE_INT2, -5);
    struct tl_value v8 = tl_value_int(TL_TYPE_INT8, -5);
    tl_buf_init(&k2);
    tl_buf_init(&k8);
    tl_key_encode_value(&k2, &v2);
    tl_key_encode_value(&k8, &v8);
    assert_int_equal(k2.len, 9);
    assert_int_equal(key_cmp(&k2, &k8), 0);
    check_round_trip(&v2);
    tl_buf_close(&k2);
    tl_buf_close(&k8);
}

/* Byte order equals value order for dates and timestamps, infinities
 * first and last, and a date is 8 bytes like an integer. */
static void
test_datetime_order(void **state)
{
    static const uint8_t types[] = {TL_TYPE_TIMESTAMPTZ, TL_TYPE_TIMESTAMP,
                                    TL_TYPE_DATE};
    static const uint8_t want_date[] = {0x02, 0x80, 0, 0, 0, 0, 0, 0x22, 0x3e};
    static const uint8_t bad_date[] = {0x02, 0x80, 0, 0, 0, 0x80, 0, 0, 0};
    int64_t vals[200];
    struct tl_arena a;
    struct tl_value out;
    struct tl_buf k;
    (void)state;

    srand(11);
    for (size_t t = 0; t < 3; t++) {
        bool date = types[t] == TL_TYPE_DATE;
        size_t n = 0;
        vals[n++] = date ? INT32_MIN : INT64_MIN; /* -infinity */
        vals[n++] = date ? INT32_MAX : INT64_MAX; /* infinity */
        vals[n++] = 0;
        vals[n++] = -1;
        while (n < 200) {
            int64_t r = (int64_t)(rand64() >> (rand() % 64));
            if (date)
                r %= 2145031949;
            vals[n++] = rand() % 2 ? r : -r;
        }
        for (size_t i = 0; i < n; i++) {
            struct tl_value x = tl_value_int(types[t], vals[i]);
            check_round_trip(&x);
            for (size_t j = 0; j < n; j++) {
                struct tl_value y = tl_value_int(types[t], vals[j]);
                check_order(&x, &y);
            }
        }
    }

    tl_buf_init(&k);
    struct tl_value d = tl_value_int(TL_TYPE_DATE, 8766); /* 2024-01-01 */
    tl_key_encode_value(&k, &d);
    assert_int_equal(k.len, sizeof(want_date));
    assert_memory_equal(k.data, want_date, sizeof(want_date));
    tl_buf_close(&k);
    tl_arena_init(&a);
    const uint8_t *p = bad_date;
    assert_int_equal(tl_key_decode_value(&p, bad_date + sizeof(bad_date),
                                         TL_TYPE_DATE, &a, &out),
                     TL_ECORRUPT);
    p = bad_date;
    assert_int_equal(tl_key_decode_value(&p, bad_date + sizeof(bad_date),
                                         TL_TYPE_TIMESTAMP, &a, &out),
                     0);
    assert_true(out.u.i == INT64_C(0x80000000));
    tl_arena_close(&a);
}

/* Byte order equals value order for floats: -inf < negatives < -0 = +0 <
 * positives < inf < NaN, every NaN encoded alike. */
static void
test_float_order(void **state)
{
    double vals[300];
    size_t n = 0;
    (void)state;

    vals[n++] = -INFINITY;
    vals[n++] = INFINITY;
    vals[n++] = NAN;
    vals[n++] = -NAN;
    vals[n++] = -0.0;
    vals[n++] = 0.0;
    vals[n++] = 5e-324;
    vals[n++] = -5e-324;
    vals[n++] = 1.0;
    vals[n++] = -1.0;
    srand(4);
    while (n < 300) {
        uint64_t bits = rand64();
        memcpy(&vals[n++], &bits, sizeof(double));
    }
    for (size_t i = 0; i < n; i++) {
        struct tl_value a = tl_value_float(vals[i]);
        if (!isnan(vals[i]) && !(vals[i] == 0 && signbit(vals[i])))
            check_round_trip(&a);
        for (size_t j = 0; j < n; j++) {
            struct tl_value b = tl_value_float(vals[j]);
            check_order(&a, &b);
        }
    }

    struct tl_buf k1, k2;
    struct tl_value m0 = tl_value_float(-0.0), p0 = tl_value_float(0.0);
    struct tl_value n1 = tl_value_float(NAN), n2 = tl_value_float(-NAN);
    tl_buf_init(&k1);
    tl_buf_init(&k2);
    tl_key_encode_value(&k1, &m0);
    tl_key_encode_value(&k2, &p0);
    assert_int_equal(key_cmp(&k1, &k2), 0);
    tl_buf_reset(&k1);
    tl_buf_reset(&k2);
    tl_key_encode_value(&k1, &n1);
    tl_key_encode_value(&k2, &n2);
    assert_int_equal(key_cmp(&k1, &k2), 0);
    tl_buf_close(&k1);
    tl_buf_close(&k2);
}

/* Text with embedded NULs orders bytewise, "a" < "a\0" < "ab", and
 * round-trips. */
static void
test_text_order(void **state)
{
    static const struct {
        const char *p;
        uint32_t len;
    } t[] = {
        {"", 0},        {"\0", 1},    {"\0\0", 2}, {"\0\x01", 2},
        {"\x01", 1},    {"a", 1},     {"a\0", 2},  {"a\0\0", 3},
        {"a\0\xff", 3}, {"a\x01", 2}, {"ab", 2},   {"abc", 3},
        {"b", 1},       {"\xfe", 1},  {"\xff", 1}, {"\xff\xff", 2},
    };
    size_t n = sizeof(t) / sizeof(t[0]);
    (void)state;

    for (size_t i = 0; i < n; i++) {
        struct tl_value a = tl_value_text(TL_TYPE_TEXT, t[i].p, t[i].len);
        check_round_trip(&a);
        for (size_t j = 0; j < n; j++) {
            struct tl_value b =
                tl_value_text(TL_TYPE_VARCHAR, t[j].p, t[j].len);
            check_order(&a, &b);
            if (i < j)
                assert_true(tl_value_cmp(&a, &b) < 0);
        }
    }
}

/* character(n) keys leave out trailing spaces, so padded values of any
 * length that compare equal ('a'::char(3) = 'a'::char(5)) share one key,
 * and key order is tl_value_cmp's ("a" < "a\x01" < "ab", spaces inside
 * count). */
static void
test_bpchar_order(void **state)
{
    static const struct {
        const char *p;
        uint32_t len;
    } t[] = {
        {"", 0},      {"   ", 3}, {"\x01", 1},  {"a", 1},  {"a    ", 5},
        {"a\x01", 2}, {"a b", 3}, {"a b  ", 5}, {"ab", 2}, {"ab ", 3},
    };
    size_t n = sizeof(t) / sizeof(t[0]);
    (void)state;

    for (size_t i = 0; i < n; i++) {
        struct tl_value a = tl_value_text(TL_TYPE_BPCHAR, t[i].p, t[i].len);
        check_round_trip(&a);
        for (size_t j = 0; j < n; j++) {
            struct tl_value b = tl_value_text(TL_TYPE_BPCHAR, t[j].p, t[j].len);
            check_order(&a, &b);
        }
    }
    struct tl_buf k1, k2;
    struct tl_value a = tl_value_text(TL_TYPE_BPCHAR, "a  ", 3);
    struct tl_value b = tl_value_text(TL_TYPE_BPCHAR, "a", 1);
    tl_buf_init(&k1);
    tl_buf_init(&k2);
    tl_key_encode_value(&k1, &a);
    tl_key_encode_value(&k2, &b);
    assert_int_equal(k1.len, k2.len);
    assert_memory_equal(k1.data, k2.data, k1.len);
    tl_buf_close(&k1);
    tl_buf_close(&k2);
}

/* real keys as the equal double: -0 keys as 0, every NaN as one NaN
 * after +Infinity, and order is tl_value_cmp's; decoding gives a real. */
static void
test_float4_order(void **state)
{
    static const float f[] = {-INFINITY,     -3.4028235e38f, -1.1f, -1e-45f,
                              0.0f,          1e-45f,         1.1f,  16777216.0f,
                              3.4028235e38f, INFINITY,       NAN};
    size_t n = sizeof(f) / sizeof(f[0]);
    (void)state;

    for (size_t i = 0; i < n; i++) {
        struct tl_value a = tl_value_float4(f[i]);
        check_round_trip(&a);
        for (size_t j = 0; j < n; j++) {
            struct tl_value b = tl_value_float4(f[j]);
            check_order(&a, &b);
            struct tl_value d = tl_value_float(f[j]);
            check_order(&a, &d);
        }
    }
    struct tl_buf k1, k2;
    struct tl_value z = tl_value_float4(-0.0f), p = tl_value_float(0.0);
    tl_buf_init(&k1);
    tl_buf_init(&k2);
    tl_key_encode_value(&k1, &z);
    tl_key_encode_value(&k2, &p);
    assert_int_equal(k1.len, k2.len);
    assert_memory_equal(k1.data, k2.data, k1.len);
    tl_buf_close(&k1);
    tl_buf_close(&k2);
}

/* NULL sorts after every value of every type and round-trips typed. */
static void
test_null_last(void **state)
{
    struct tl_value vals[] = {
        tl_value_int(TL_TYPE_INT8, INT64_MAX), tl_value_float(NAN),
        tl_value_text(TL_TYPE_TEXT, "\xff\xff\xff", 3), tl_value_bool(true)};
    (void)state;

    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        struct tl_value nul = tl_value_null(vals[i].type);
        check_order(&vals[i], &nul);
        check_order(&nul, &vals[i]);
        check_round_trip(&nul);
        check_round_trip(&vals[i]);
    }
    struct tl_value f = tl_value_bool(false), t = tl_value_bool(true);
    check_order(&f, &t);
    check_round_trip(&f);
}

/* Multi-column keys order lexicographically by column, a prefix first. */
static void
test_multi_column(void **state)
{
    static const struct {
        int64_t a;
        const char *b;
        uint32_t blen;
        bool bnull;
    } rows[] = {
        {-1, "z", 1, false},  {1, "", 0, false},   {1, "a", 1, false},
        {1, "a\0", 2, false}, {1, "ab", 2, false}, {1, NULL, 0, true},
        {2, "", 0, false},    {2, NULL, 0, true},
    };
    size_t n = sizeof(rows) / sizeof(rows[0]);
    struct tl_buf keys[8];
    struct tl_arena ar;
    (void)state;

    tl_arena_init(&ar);
    for (size_t i = 0; i < n; i++) {
        struct tl_value a = tl_value_int(TL_TYPE_INT4, rows[i].a);
        struct tl_value b =
            rows[i].bnull
                ? tl_value_null(TL_TYPE_TEXT)
                : tl_value_text(TL_TYPE_TEXT, rows[i].b, rows[i].blen);
        tl_buf_init(&keys[i]);
        tl_key_encode_prefix(&keys[i], 7, TL_INDEX_PRIMARY);
        tl_key_encode_value(&keys[i], &a);
        tl_key_encode_value(&keys[i], &b);

        const uint8_t *p = keys[i].data, *end = p + keys[i].len;
        struct tl_value da, db;
        assert_true(tl_load_be32(p) == 7 && tl_load_be32(p + 4) == 1);
        p += 8;
        assert_int_equal(tl_key_decode_value(&p, end, TL_TYPE_INT4, &ar, &da),
                         0);
        assert_int_equal(tl_key_decode_value(&p, end, TL_TYPE_TEXT, &ar, &db),
                         0);
        assert_ptr_equal(p, end);
        assert_true(da.u.i == rows[i].a);
        assert_int_equal(db.is_null, rows[i].bnull);
        if (!db.is_null) {
            assert_int_equal(db.u.s.len, rows[i].blen);
            assert_memory_equal(db.u.s.p, rows[i].b, rows[i].blen);
        }
    }
    for (size_t i = 0; i + 1 < n; i++)
        assert_true(key_cmp(&keys[i], &keys[i + 1]) < 0);
    for (size_t i = 0; i < n; i++)
        tl_buf_close(&keys[i]);
    tl_arena_close(&ar);
}

/* prefix_end yields the first key past every key with the prefix. */
static void
test_prefix_end(void **state)
{
    struct tl_buf k;
    (void)state;

    tl_buf_init(&k);
    tl_buf_append(&k, "\x01\x02\xff\xff", 4);
    assert_int_equal(tl_key_prefix_end(&k), 0);
    assert_int_equal(k.len, 2);
    assert_memory_equal(k.data, "\x01\x03", 2);
    tl_buf_reset(&k);
    tl_buf_append(&k, "\xff\xff", 2);
    assert_int_equal(tl_key_prefix_end(&k), TL_EOVERFLOW);
    assert_int_equal(k.len, 2);
    tl_buf_reset(&k);
    assert_int_equal(tl_key_prefix_end(&k), TL_EOVERFLOW);
    tl_buf_close(&k);
}

/* Malformed keys are TL_ECORRUPT and random bytes never read out of
 * bounds (run under ASan: each input is an exact-size heap block). */
static void
test_decode_malformed(void **state)
{
    static const struct {
        const char *p;
        size_t len;
        uint8_t type;
    } bad[] = {
        {"", 0, TL_TYPE_INT8},
        {"\x01", 1, TL_TYPE_INT8},
        {"\x02\x80\x00", 3, TL_TYPE_INT8},
        {"\x02\x02", 2, TL_TYPE_BOOL},
        {"\x02"
         "abc",
         4, TL_TYPE_TEXT},
        {"\x02"
         "a\x00",
         3, TL_TYPE_TEXT},
        {"\x02"
         "a\x00\x02",
         4, TL_TYPE_TEXT},
        {"\x02\x80\x00\x00\x00\x00\x01\x00\x00", 9, TL_TYPE_INT2},
        {"\x02\x00\x00\x00\x00\x00\x00\x00\x00", 9, 99},
    };
    static const uint8_t types[] = {
        TL_TYPE_BOOL, TL_TYPE_INT2, TL_TYPE_INT8,       TL_TYPE_FLOAT8,
        TL_TYPE_TEXT, TL_TYPE_DATE, TL_TYPE_TIMESTAMPTZ};
    struct tl_arena a;
    struct tl_value v;
    (void)state;

    tl_arena_init(&a);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const uint8_t *p = (const uint8_t *)bad[i].p;
        assert_int_equal(
            tl_key_decode_value(&p, p + bad[i].len, bad[i].type, &a, &v),
            TL_ECORRUPT);
    }
    srand(5);
    for (int iter = 0; iter < 100000; iter++) {
        size_t len = (size_t)(rand() % 16);
        uint8_t *buf = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)(rand() % 4 == 0 ? rand() % 4 : rand());
        const uint8_t *p = buf;
        uint8_t type = types[rand() % 7];
        while (p < buf + len &&
               tl_key_decode_value(&p, buf + len, type, &a, &v) == 0)
            assert_true(p <= buf + len);
        free(buf);
        if (iter % 1000 == 0)
            tl_arena_reset(&a);
    }
    tl_arena_close(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int_order),
        cmocka_unit_test(test_float_order),
        cmocka_unit_test(test_datetime_order),
        cmocka_unit_test(test_text_order),
        cmocka_unit_test(test_bpchar_order),
        cmocka_unit_test(test_float4_order),
        cmocka_unit_test(test_null_last),
        cmocka_unit_test(test_multi_column),
        cmocka_unit_test(test_prefix_end),
        cmocka_unit_test(test_decode_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
