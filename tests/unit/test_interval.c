/* Unit tests for the interval type across the modules that hold it: text
 * input and output (common/interval.c through common/value.c, expected
 * strings and errors from PostgreSQL 15), comparison by span, the row
 * codec (common/row.c), memcomparable keys (common/keycodec.c), hashing
 * (common/vindex.c), arithmetic with timestamps and intervals
 * (common/interval.c, common/expr.c), justify_*() and age()
 * (common/scalar.c), typmods and the binary wire format
 * (router/wire/pgwire.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "datetime.h"
#include "expr.h"
#include "interval.h"
#include "keycodec.h"
#include "router/wire/pgwire.h"
#include "row.h"
#include "scalar.h"
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
iv(const char *s)
{
    struct tl_value v;
    struct tl_error err;
    tl_error_clear(&err);
    int rv = tl_value_from_text(TL_TYPE_INTERVAL, -1, s, strlen(s), &arena, &v,
                                &err);
    if (rv != 0)
        fail_msg("parsing \"%s\": %s", s, err.message);
    assert_int_equal(v.type, TL_TYPE_INTERVAL);
    return v;
}

static struct tl_value
ts(uint8_t type, const char *s)
{
    struct tl_value v;
    struct tl_error err;
    if (tl_value_from_text(type, -1, s, strlen(s), &arena, &v, &err) != 0)
        fail_msg("parsing \"%s\": %s", s, err.message);
    return v;
}

static const char *
out(const struct tl_value *v)
{
    struct tl_buf b;
    tl_buf_init(&b);
    tl_value_to_text(v, &b);
    char *s =
        tl_arena_strndup(&arena, b.data ? (const char *)b.data : "", b.len);
    tl_buf_close(&b);
    return s;
}

static void
expect_error(const char *in, int rv, const char *state, const char *msg)
{
    struct tl_value v;
    struct tl_error err;
    tl_error_clear(&err);
    assert_int_equal(tl_value_from_text(TL_TYPE_INTERVAL, -1, in, strlen(in),
                                        &arena, &v, &err),
                     rv);
    assert_string_equal(err.sqlstate, state);
    assert_string_equal(err.message, msg);
}

/* interval_in reads PostgreSQL's forms and interval_out writes
 * IntervalStyle postgres, as PostgreSQL 15 does for each pair. */
static void
test_text(void **state)
{
    (void)state;
    static const char *cases[][2] = {
        {"1 day", "1 day"},
        {"2 hours 30 minutes", "02:30:00"},
        {"1 year 2 mons 3 days 04:05:06.789",
         "1 year 2 mons 3 days 04:05:06.789"},
        {"-1 day +02:00", "-1 days +02:00:00"},
        {"@ 1 hour ago", "-01:00:00"},
        {"P1Y2M3DT4H5M6S", "1 year 2 mons 3 days 04:05:06"},
        {"P0001-02-03T04:05:06", "1 year 2 mons 3 days 04:05:06"},
        {"1.5 months", "1 mon 15 days"},
        {"5", "00:00:05"},
        {"1:2.5", "00:01:02.5"},
        {"1d2h", "1 day 02:00:00"},
        {"1 2 hours", "1 day 02:00:00"},
        {"-1-2", "-1 years -2 mons"},
        {"3 weeks", "21 days"},
        {"0.5 days", "12:00:00"},
        {"-00:00:01.5", "-00:00:01.5"},
        {"1 mon -1 day", "1 mon -1 days"},
        {"-1 years -2 mons +3 days -04:00",
         "-1 years -2 mons +3 days -04:00:00"},
        {"PT1.5S", "00:00:01.5"},
        {"100 ms", "00:00:00.1"},
        {"7 us", "00:00:00.000007"},
        {"1 minute 1.5 seconds", "00:01:01.5"},
        {"1 year ago", "-1 years"},
        {"  2  hours  ", "02:00:00"},
        {"0", "00:00:00"},
        {"1 day hour", "1 day"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tl_value v = iv(cases[i][0]);
        if (strcmp(out(&v), cases[i][1]) != 0)
            fail_msg("\"%s\" printed \"%s\", want \"%s\"", cases[i][0], out(&v),
                     cases[i][1]);
    }
    struct tl_value v = iv("1 year 2 mons 3 days 04:05:06.789");
    assert_int_equal(v.u.iv.month, 14);
    assert_int_equal(v.u.iv.day, 3);
    assert_true(v.u.iv.time == INT64_C(14706789000));
}

/* Bad input is 22007 invalid syntax, a field past its range 22015, a
 * result past int32 months 22008, with PostgreSQL's messages. */
static void
test_errors(void **state)
{
    (void)state;
    static const char *bad[] = {"",      "foo",        "1 day 2 days",
                                "1 qtr", "1hr2min",    "infinity",
                                "P1X",   "1 fortnight"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char msg[128];
        snprintf(msg, sizeof(msg),
                 "invalid input syntax for type interval: \"%s\"", bad[i]);
        expect_error(bad[i], TL_ETYPE, "22007", msg);
    }
    expect_error("10:61", TL_EOVERFLOW, "22015",
                 "interval field value out of range: \"10:61\"");
    expect_error("2147483648 days", TL_EOVERFLOW, "22015",
                 "interval field value out of range: \"2147483648 days\"");
    expect_error("2147483647 years", TL_EOVERFLOW, "22008",
                 "interval out of range");
}

/* Intervals compare by span with 30-day months and 24-hour days, and
 * only with intervals. */
static void
test_compare(void **state)
{
    (void)state;
    struct tl_value mon = iv("1 mon"), days = iv("30 days"),
                    hours = iv("720 hours"), day = iv("1 day"),
                    neg = iv("-1 day +02:00");
    assert_int_equal(tl_value_cmp(&mon, &days), 0);
    assert_int_equal(tl_value_cmp(&days, &hours), 0);
    assert_true(tl_value_cmp(&day, &mon) < 0);
    assert_true(tl_value_cmp(&neg, &day) < 0);
    assert_true(tl_value_cmp(&mon, &neg) > 0);
    assert_true(tl_type_comparable(TL_TYPE_INTERVAL, TL_TYPE_INTERVAL));
    assert_false(tl_type_comparable(TL_TYPE_INTERVAL, TL_TYPE_TIMESTAMP));
    assert_string_equal(tl_type_name(TL_TYPE_INTERVAL), "interval");
    assert_int_equal(tl_type_oid(TL_TYPE_INTERVAL), 1186);
    assert_int_equal(tl_type_len(TL_TYPE_INTERVAL), 16);
    uint8_t t = 0;
    assert_int_equal(tl_type_from_name("interval", &t), 0);
    assert_int_equal(t, TL_TYPE_INTERVAL);
    assert_int_equal(tl_type_from_oid(1186, &t), 0);
    assert_int_equal(t, TL_TYPE_INTERVAL);
}

/* Rows keep all three fields; keys order by span, equal spans share a
 * key and a hash, and a decoded key is an equal interval. */
static void
test_row_and_keys(void **state)
{
    (void)state;
    static const char *sorted[] = {
        "-178000000 years",
        "-1 days +02:00",
        "-02:00:00",
        "-00:00:00.000001",
        "00:00:00",
        "00:00:00.000001",
        "1 day",
        "1 mon 1 microsecond",
        "1 year 2 mons",
        "178000000 years",
    };
    struct tl_buf a, b;
    tl_buf_init(&a);
    tl_buf_init(&b);
    for (size_t i = 0; i + 1 < sizeof(sorted) / sizeof(sorted[0]); i++) {
        struct tl_value x = iv(sorted[i]), y = iv(sorted[i + 1]);
        tl_buf_reset(&a);
        tl_buf_reset(&b);
        tl_key_encode_value(&a, &x);
        tl_key_encode_value(&b, &y);
        assert_int_equal(a.len, 17);
        assert_true(memcmp(a.data, b.data, 17) < 0);
        assert_true(tl_value_cmp(&x, &y) < 0);
    }
    struct tl_value mon = iv("1 mon 2 hours"), days = iv("30 days 120 minutes");
    tl_buf_reset(&a);
    tl_buf_reset(&b);
    tl_key_encode_value(&a, &mon);
    tl_key_encode_value(&b, &days);
    assert_memory_equal(a.data, b.data, a.len);
    assert_true(tl_vindex_hash(&mon) == tl_vindex_hash(&days));
    const uint8_t *p = a.data;
    struct tl_value o;
    assert_int_equal(
        tl_key_decode_value(&p, a.data + a.len, TL_TYPE_INTERVAL, &arena, &o),
        0);
    assert_int_equal(tl_value_cmp(&o, &mon), 0);
    assert_string_equal(out(&o), "1 mon 02:00:00");

    struct tl_value row[3] = {iv("-1 years +3 days -00:00:01.5"),
                              tl_value_null(TL_TYPE_INTERVAL), mon};
    struct tl_value back[3];
    size_t n = 0;
    tl_buf_reset(&a);
    tl_row_encode(row, 3, 1, &a);
    assert_int_equal(tl_row_decode(a.data, a.len, back, 3, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(out(&back[0]), "-1 years +3 days -00:00:01.5");
    assert_true(back[1].is_null);
    assert_int_equal(back[1].type, TL_TYPE_INTERVAL);
    assert_string_equal(out(&back[2]), "1 mon 02:00:00");
    tl_buf_close(&a);
    tl_buf_close(&b);
}

static const char *
add(const char *t, const char *i)
{
    struct tl_value x = ts(TL_TYPE_TIMESTAMP, t), y = iv(i);
    int64_t r = 0;
    struct tl_error err;
    if (tl_timestamp_add_interval(x.u.i, &y.u.iv, &r, &err) != 0)
        return tl_arena_printf(&arena, "%s", err.message);
    struct tl_value v = tl_value_int(TL_TYPE_TIMESTAMP, r);
    return out(&v);
}

/* timestamp + interval adds months first (clamping the day of month),
 * then days, then time; timestamp - timestamp is justified into days. */
static void
test_timestamp_arithmetic(void **state)
{
    (void)state;
    assert_string_equal(add("2020-01-31", "1 mon"), "2020-02-29 00:00:00");
    assert_string_equal(add("2019-01-31", "1 mon"), "2019-02-28 00:00:00");
    assert_string_equal(add("2020-03-31", "-1 mon"), "2020-02-29 00:00:00");
    assert_string_equal(add("2020-01-01", "-13 mons"), "2018-12-01 00:00:00");
    assert_string_equal(add("2020-01-31 10:00", "1 mon 1 day -2 hours"),
                        "2020-03-01 08:00:00");
    assert_string_equal(add("2020-01-01 12:00", "36 hours"),
                        "2020-01-03 00:00:00");
    assert_string_equal(add("infinity", "1 day"), "infinity");
    assert_string_equal(add("294276-12-31", "1 day"), "timestamp out of range");

    struct tl_value a = ts(TL_TYPE_TIMESTAMP, "2020-03-01"),
                    b = ts(TL_TYPE_TIMESTAMP, "2020-01-01 12:00");
    struct tl_value d;
    struct tl_error err;
    assert_int_equal(tl_timestamp_diff(a.u.i, b.u.i, &d.u.iv, &err), 0);
    d.type = TL_TYPE_INTERVAL;
    d.is_null = false;
    assert_string_equal(out(&d), "59 days 12:00:00");
    assert_int_equal(tl_timestamp_diff(b.u.i, a.u.i, &d.u.iv, &err), 0);
    assert_string_equal(out(&d), "-59 days -12:00:00");
    assert_int_equal(tl_timestamp_age(a.u.i, b.u.i, &d.u.iv, &err), 0);
    assert_string_equal(out(&d), "1 mon 30 days 12:00:00");
    assert_int_equal(tl_timestamp_diff(INT64_MAX, a.u.i, &d.u.iv, &err),
                     TL_EOVERFLOW);
    assert_string_equal(err.message, "cannot subtract infinite timestamps");
}

static const char *
eval_op(uint8_t op, uint8_t type, struct tl_value l, struct tl_value r)
{
    struct tl_expr *e = tl_expr_op(&arena, op, type, tl_expr_const(&arena, &l),
                                   tl_expr_const(&arena, &r));
    struct tl_value o;
    struct tl_error err;
    tl_error_clear(&err);
    if (tl_expr_eval(e, NULL, 0, &arena, &o, &err) != 0)
        return tl_arena_printf(&arena, "%s %s", err.sqlstate, err.message);
    assert_int_equal(o.type, type);
    return out(&o);
}

/* The evaluator's operators: datetime +- interval, interval +- * /,
 * datetime - datetime, date +- integer, and their overflow errors. */
static void
test_expr(void **state)
{
    (void)state;
    struct tl_value d = ts(TL_TYPE_DATE, "2020-01-31");
    struct tl_value t = ts(TL_TYPE_TIMESTAMPTZ, "2020-01-31 10:00+00");
    struct tl_value one = tl_value_int(TL_TYPE_INT4, 1);
    assert_string_equal(eval_op(TL_OP_ADD, TL_TYPE_TIMESTAMP, d, iv("1 mon")),
                        "2020-02-29 00:00:00");
    assert_string_equal(eval_op(TL_OP_ADD, TL_TYPE_TIMESTAMP, iv("1 mon"), d),
                        "2020-02-29 00:00:00");
    assert_string_equal(
        eval_op(TL_OP_SUB, TL_TYPE_TIMESTAMPTZ, t, iv("1 day 1 hour")),
        "2020-01-30 09:00:00+00");
    assert_string_equal(eval_op(TL_OP_SUB, TL_TYPE_INTERVAL, t, d), "10:00:00");
    assert_string_equal(eval_op(TL_OP_ADD, TL_TYPE_DATE, d, one), "2020-02-01");
    assert_string_equal(
        eval_op(TL_OP_SUB, TL_TYPE_INT4, d, ts(TL_TYPE_DATE, "2020-01-01")),
        "30");
    assert_string_equal(
        eval_op(TL_OP_ADD, TL_TYPE_INTERVAL, iv("1 day"), iv("-1 mon")),
        "-1 mons +1 day");
    assert_string_equal(
        eval_op(TL_OP_MUL, TL_TYPE_INTERVAL, iv("1 day"), tl_value_float(2.5)),
        "2 days 12:00:00");
    assert_string_equal(eval_op(TL_OP_DIV, TL_TYPE_INTERVAL, iv("1 mon"),
                                tl_value_int(TL_TYPE_INT4, 7)),
                        "4 days 06:51:25.6896");
    assert_string_equal(eval_op(TL_OP_MUL, TL_TYPE_INTERVAL,
                                tl_value_int(TL_TYPE_INT4, 2), iv("1 hour")),
                        "02:00:00");
    assert_string_equal(eval_op(TL_OP_DIV, TL_TYPE_INTERVAL, iv("1 day"),
                                tl_value_int(TL_TYPE_INT4, 0)),
                        "22012 division by zero");
    assert_string_equal(eval_op(TL_OP_ADD, TL_TYPE_INTERVAL,
                                iv("2147483647 days"), iv("1 day")),
                        "22008 interval out of range");
    assert_string_equal(
        eval_op(TL_OP_MUL, TL_TYPE_INTERVAL, iv("1 day"), tl_value_float(1e10)),
        "22008 interval out of range");

    struct tl_expr *arg = tl_expr_const(&arena, &(struct tl_value){0});
    struct tl_value x = iv("1 day -02:00");
    arg->value = x;
    arg->type = TL_TYPE_INTERVAL;
    struct tl_expr *neg =
        tl_expr_node(&arena, TL_EXPR_OP, TL_TYPE_INTERVAL, &arg, 1);
    neg->op = TL_OP_NEG;
    struct tl_value o;
    struct tl_error err;
    assert_int_equal(tl_expr_eval(neg, NULL, 0, &arena, &o, &err), 0);
    assert_string_equal(out(&o), "-1 days +02:00:00");
}

static const char *
call(uint8_t id, struct tl_value a, struct tl_value b)
{
    struct tl_value args[2] = {a, b}, o;
    struct tl_error err;
    uint32_t n = b.is_null ? 1 : 2;
    if (tl_func_eval(id, TL_TYPE_INTERVAL, args, n, &arena, &o, &err) != 0)
        return tl_arena_printf(&arena, "%s", err.message);
    return out(&o);
}

/* justify_days, justify_hours, justify_interval and age() as PostgreSQL's. */
static void
test_functions(void **state)
{
    (void)state;
    struct tl_value none = tl_value_null(TL_TYPE_INTERVAL);
    assert_string_equal(call(TL_FUNC_JUSTIFY_DAYS, iv("35 days"), none),
                        "1 mon 5 days");
    assert_string_equal(call(TL_FUNC_JUSTIFY_DAYS, iv("-35 days"), none),
                        "-1 mons -5 days");
    assert_string_equal(call(TL_FUNC_JUSTIFY_HOURS, iv("27 hours"), none),
                        "1 day 03:00:00");
    assert_string_equal(
        call(TL_FUNC_JUSTIFY_INTERVAL, iv("1 mon -1 hour"), none),
        "29 days 23:00:00");
    assert_string_equal(
        call(TL_FUNC_JUSTIFY_INTERVAL, iv("50 days 30 hours"), none),
        "1 mon 21 days 06:00:00");
    assert_string_equal(call(TL_FUNC_AGE, ts(TL_TYPE_TIMESTAMP, "2020-03-01"),
                             ts(TL_TYPE_TIMESTAMP, "2019-01-15 12:00")),
                        "1 year 1 mon 16 days 12:00:00");
    assert_string_equal(call(TL_FUNC_AGE, ts(TL_TYPE_DATE, "2020-03-31"),
                             ts(TL_TYPE_DATE, "2020-02-29")),
                        "1 mon 2 days");
    struct tl_value args[1] = {none}, o;
    struct tl_error err;
    assert_int_equal(tl_func_eval(TL_FUNC_JUSTIFY_DAYS, TL_TYPE_INTERVAL, args,
                                  1, &arena, &o, &err),
                     0);
    assert_true(o.is_null);
}

static const char *
with_typmod(const char *s, int32_t range, int32_t precision)
{
    int32_t typmod;
    struct tl_error err;
    struct tl_value v;
    assert_int_equal(tl_interval_typmod(range, precision, &typmod, &err), 0);
    assert_int_equal(tl_value_from_text(TL_TYPE_INTERVAL, typmod, s, strlen(s),
                                        &arena, &v, &err),
                     0);
    return out(&v);
}

/* A typmod keeps only its fields and rounds seconds to its precision;
 * format_type's suffix names them. */
static void
test_typmod(void **state)
{
    (void)state;
    assert_string_equal(with_typmod("1 year 5 months 3 days",
                                    TL_INTERVAL_YEAR | TL_INTERVAL_MONTH, -1),
                        "1 year 5 mons");
    assert_string_equal(with_typmod("1.23456 s", TL_INTERVAL_FULL_RANGE, 2),
                        "00:00:01.23");
    assert_string_equal(with_typmod("1.7 s", TL_INTERVAL_FULL_RANGE, 0),
                        "00:00:02");
    assert_string_equal(with_typmod("5", TL_INTERVAL_DAY, -1), "5 days");
    assert_string_equal(with_typmod("1 day 10:20:30", TL_INTERVAL_HOUR, -1),
                        "1 day 10:00:00");
    assert_string_equal(
        with_typmod("5:30", TL_INTERVAL_MINUTE | TL_INTERVAL_SECOND, -1),
        "00:05:30");
    int32_t typmod;
    struct tl_error err;
    assert_int_equal(tl_interval_typmod(3, -1, &typmod, &err), TL_EINVAL);
    assert_string_equal(err.sqlstate, "22023");
    assert_int_equal(tl_interval_typmod(TL_INTERVAL_DAY | TL_INTERVAL_HOUR |
                                            TL_INTERVAL_MINUTE |
                                            TL_INTERVAL_SECOND,
                                        0, &typmod, &err),
                     0);
    struct tl_buf b;
    tl_buf_init(&b);
    tl_interval_typmod_format(typmod, &b);
    assert_int_equal(b.len, strlen(" day to second(0)"));
    assert_memory_equal(b.data, " day to second(0)", b.len);
    tl_buf_close(&b);
}

/* The binary format is interval_send's: int64 microseconds, int32 days,
 * int32 months, big-endian; anything but 16 bytes is 22P03. */
static void
test_wire_binary(void **state)
{
    (void)state;
    struct tl_value v = iv("1 year 2 mons 3 days 04:05:06.789"), o;
    struct tl_buf w;
    struct tl_error err;
    tl_buf_init(&w);
    pgw_value_to_binary(&v, &w);
    assert_int_equal(w.len, 16);
    assert_memory_equal(w.data,
                        "\x00\x00\x00\x03\x6c\x97\xca\x88\x00\x00\x00\x03"
                        "\x00\x00\x00\x0e",
                        16);
    assert_int_equal(
        pgw_value_from_binary(TL_TYPE_INTERVAL, w.data, w.len, NULL, &o, &err),
        0);
    assert_int_equal(o.type, TL_TYPE_INTERVAL);
    assert_string_equal(out(&o), "1 year 2 mons 3 days 04:05:06.789");
    assert_int_equal(
        pgw_value_from_binary(TL_TYPE_INTERVAL, w.data, 12, NULL, &o, &err),
        TL_EINVAL);
    assert_string_equal(err.sqlstate, "22P03");
    tl_buf_close(&w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_row_and_keys),
        cmocka_unit_test(test_timestamp_arithmetic),
        cmocka_unit_test(test_expr),
        cmocka_unit_test(test_functions),
        cmocka_unit_test(test_typmod),
        cmocka_unit_test(test_wire_binary),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
