/* Unit tests for the math functions of common/scalar.h and the numeric
 * helpers behind them (common/numeric.h): PostgreSQL 15's results,
 * result scales and errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "numeric.h"
#include "scalar.h"

struct fixture {
    struct tl_arena a;
    struct tl_error err;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    tl_arena_init(&f->a);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    tl_arena_close(&f->a);
    free(f);
    return 0;
}

static struct tl_value
num(const char *s)
{
    return tl_value_text(TL_TYPE_NUMERIC, s, (uint32_t)strlen(s));
}

/* Function @id of numerics @x (and @y when not NULL) printed. */
static const char *
numf(struct fixture *f, uint8_t id, const char *x, const char *y)
{
    struct tl_value args[2] = {num(x), y != NULL ? num(y) : num("0")}, out;
    int rv = tl_func_eval(id, TL_TYPE_NUMERIC, args, y != NULL ? 2 : 1, &f->a,
                          &out, &f->err);
    if (rv != 0)
        return f->err.sqlstate;
    return tl_arena_printf(&f->a, "%.*s", (int)out.u.s.len, out.u.s.p);
}

/* round(numeric, s) or trunc(numeric, s). */
static const char *
scaled(struct fixture *f, uint8_t id, const char *x, int64_t s)
{
    struct tl_value args[2] = {num(x), tl_value_int(TL_TYPE_INT4, s)}, out;
    assert_int_equal(
        tl_func_eval(id, TL_TYPE_NUMERIC, args, 2, &f->a, &out, &f->err), 0);
    return tl_arena_printf(&f->a, "%.*s", (int)out.u.s.len, out.u.s.p);
}

/* Function @id of float8 @x (and @y): the result, or NAN with *@state set
 * to the SQLSTATE on an error. */
static double
fltf(struct fixture *f, uint8_t id, double x, double y, const char **state)
{
    struct tl_value args[2] = {tl_value_float(x), tl_value_float(y)}, out;
    const struct tl_func_sig *sig = tl_func_by_id(id);
    *state = NULL;
    if (tl_func_eval(id, TL_TYPE_FLOAT8, args, sig->max_args, &f->a, &out,
                     &f->err) != 0) {
        *state = f->err.sqlstate;
        return NAN;
    }
    assert_int_equal(out.type, TL_TYPE_FLOAT8);
    return out.u.f;
}

static const char *
intf(struct fixture *f, uint8_t id, uint8_t type, int64_t x, int64_t y)
{
    struct tl_value args[2] = {tl_value_int(type, x), tl_value_int(type, y)},
                    out;
    if (tl_func_eval(id, type, args, 2, &f->a, &out, &f->err) != 0)
        return f->err.sqlstate;
    assert_int_equal(out.type, type);
    return tl_arena_printf(&f->a, "%lld", (long long)out.u.i);
}

/* round() of a numeric rounds half away from zero, to any scale, keeping
 * the scale asked for; trunc(), floor() and ceil() go their way. */
static void
test_numeric_rounding(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(numf(f, TL_FUNC_ROUND, "2.5", NULL), "3");
    assert_string_equal(numf(f, TL_FUNC_ROUND, "-2.5", NULL), "-3");
    assert_string_equal(numf(f, TL_FUNC_ROUND, "-0.4", NULL), "0");
    assert_string_equal(numf(f, TL_FUNC_ROUND, "9.99", NULL), "10");
    assert_string_equal(scaled(f, TL_FUNC_ROUND_SCALE, "1234.5678", 2),
                        "1234.57");
    assert_string_equal(scaled(f, TL_FUNC_ROUND_SCALE, "1234.5678", -2),
                        "1200");
    assert_string_equal(scaled(f, TL_FUNC_ROUND_SCALE, "1.5", 3), "1.500");
    assert_string_equal(scaled(f, TL_FUNC_ROUND_SCALE, "999.5", -3), "1000");
    assert_string_equal(scaled(f, TL_FUNC_ROUND_SCALE, "12", -5), "0");
    assert_string_equal(scaled(f, TL_FUNC_TRUNC_SCALE, "-1.99", 1), "-1.9");
    assert_string_equal(scaled(f, TL_FUNC_TRUNC_SCALE, "1.99", -1), "0");
    assert_string_equal(scaled(f, TL_FUNC_TRUNC_SCALE, "199.9", -2), "100");
    assert_string_equal(numf(f, TL_FUNC_TRUNC, "-1.99", NULL), "-1");
    assert_string_equal(numf(f, TL_FUNC_FLOOR, "-0.5", NULL), "-1");
    assert_string_equal(numf(f, TL_FUNC_FLOOR, "-2.000", NULL), "-2");
    assert_string_equal(numf(f, TL_FUNC_FLOOR, "1.5", NULL), "1");
    assert_string_equal(numf(f, TL_FUNC_CEIL, "-0.5", NULL), "0");
    assert_string_equal(numf(f, TL_FUNC_CEIL, "9.01", NULL), "10");
    assert_string_equal(numf(f, TL_FUNC_CEIL, "-Infinity", NULL), "-Infinity");
    assert_string_equal(numf(f, TL_FUNC_ROUND, "NaN", NULL), "NaN");
    assert_string_equal(numf(f, TL_FUNC_SIGN, "-0.001", NULL), "-1");
    assert_string_equal(numf(f, TL_FUNC_SIGN, "0.000", NULL), "0");
    assert_string_equal(numf(f, TL_FUNC_SIGN, "Infinity", NULL), "1");
}

/* mod, div, gcd and lcm of numerics are exact; division by zero is
 * 22012. */
static void
test_numeric_division(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(numf(f, TL_FUNC_MOD, "7.5", "2"), "1.5");
    assert_string_equal(numf(f, TL_FUNC_MOD, "1", "0"), "22012");
    assert_string_equal(numf(f, TL_FUNC_DIV, "-7.5", "2"), "-3");
    assert_string_equal(numf(f, TL_FUNC_DIV, "9", "0.25"), "36");
    assert_string_equal(numf(f, TL_FUNC_DIV, "1", "0"), "22012");
    assert_string_equal(numf(f, TL_FUNC_DIV, "Infinity", "-2"), "-Infinity");
    assert_string_equal(numf(f, TL_FUNC_DIV, "5", "Infinity"), "0");
    assert_string_equal(numf(f, TL_FUNC_DIV, "Infinity", "0"), "22012");
    assert_string_equal(numf(f, TL_FUNC_GCD, "1.5", "0.25"), "0.25");
    assert_string_equal(numf(f, TL_FUNC_GCD, "12.00", "-18"), "6.00");
    assert_string_equal(numf(f, TL_FUNC_GCD, "0", "0"), "0");
    assert_string_equal(numf(f, TL_FUNC_GCD, "Infinity", "1"), "NaN");
    assert_string_equal(numf(f, TL_FUNC_LCM, "1.5", "0.25"), "1.50");
    assert_string_equal(numf(f, TL_FUNC_LCM, "-4", "6"), "12");
    assert_string_equal(numf(f, TL_FUNC_LCM, "0", "6.0"), "0.0");
}

/* sqrt() of a numeric keeps 16 significant digits or the argument's
 * scale, whichever is more, rounded; a negative argument is 2201F. */
static void
test_numeric_sqrt(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(numf(f, TL_FUNC_SQRT, "2.0", NULL),
                        "1.414213562373095");
    assert_string_equal(numf(f, TL_FUNC_SQRT, "0.0", NULL),
                        "0.000000000000000");
    assert_string_equal(numf(f, TL_FUNC_SQRT, "0.0001", NULL),
                        "0.01000000000000000");
    assert_string_equal(numf(f, TL_FUNC_SQRT, "1.44", NULL),
                        "1.200000000000000");
    assert_string_equal(
        numf(f, TL_FUNC_SQRT, "123456789012345678901234567890.5", NULL),
        "351364182882014.4");
    assert_string_equal(
        numf(f, TL_FUNC_SQRT, "0.00000000000000000000000000000000000004", NULL),
        "0.00000000000000000020000000000000000000");
    assert_string_equal(numf(f, TL_FUNC_SQRT, "Infinity", NULL), "Infinity");
    assert_string_equal(numf(f, TL_FUNC_SQRT, "-1", NULL), "2201F");
    assert_string_equal(numf(f, TL_FUNC_SQRT, "-Infinity", NULL), "2201F");
    /* Not computed on numerics yet: 0A000, never inexact digits. */
    assert_string_equal(numf(f, TL_FUNC_EXP, "1", NULL), "0A000");
}

/* The double precision versions follow PostgreSQL's float.c: rint()
 * rounds half to even, and domain and range errors have its SQLSTATEs. */
static void
test_float(void **state)
{
    struct fixture *f = *state;
    const char *st;
    assert_true(fltf(f, TL_FUNC_ROUND, 2.5, 0, &st) == 2.0);
    assert_true(fltf(f, TL_FUNC_ROUND, 3.5, 0, &st) == 4.0);
    assert_true(fltf(f, TL_FUNC_CEIL, -0.5, 0, &st) == 0.0);
    assert_true(signbit(fltf(f, TL_FUNC_CEIL, -0.5, 0, &st)));
    assert_true(fltf(f, TL_FUNC_FLOOR, -0.5, 0, &st) == -1.0);
    assert_true(fltf(f, TL_FUNC_TRUNC, -1.5, 0, &st) == -1.0);
    assert_true(fltf(f, TL_FUNC_SIGN, -3, 0, &st) == -1.0);
    assert_true(fltf(f, TL_FUNC_SIGN, NAN, 0, &st) == 0.0);
    assert_true(fltf(f, TL_FUNC_POWER, 2, 10, &st) == 1024.0);
    assert_true(fltf(f, TL_FUNC_POWER, NAN, 0, &st) == 1.0);
    assert_true(fltf(f, TL_FUNC_POWER, -INFINITY, 3, &st) == -INFINITY);
    fltf(f, TL_FUNC_POWER, 0, -1, &st);
    assert_string_equal(st, "2201F");
    fltf(f, TL_FUNC_POWER, -2, 0.5, &st);
    assert_string_equal(st, "2201F");
    fltf(f, TL_FUNC_POWER, 10, 400, &st);
    assert_string_equal(st, "22003");
    assert_string_equal(f->err.message, "value out of range: overflow");
    fltf(f, TL_FUNC_POWER, 10, -400, &st);
    assert_string_equal(f->err.message, "value out of range: underflow");
    fltf(f, TL_FUNC_SQRT, -1, 0, &st);
    assert_string_equal(st, "2201F");
    fltf(f, TL_FUNC_LN, 0, 0, &st);
    assert_string_equal(st, "2201E");
    assert_string_equal(f->err.message, "cannot take logarithm of zero");
    fltf(f, TL_FUNC_LOG, -1, 0, &st);
    assert_string_equal(f->err.message,
                        "cannot take logarithm of a negative number");
    assert_true(fltf(f, TL_FUNC_LOG, 1000, 0, &st) == 3.0);
    fltf(f, TL_FUNC_EXP, 1000, 0, &st);
    assert_string_equal(st, "22003");
    assert_true(fltf(f, TL_FUNC_EXP, -INFINITY, 0, &st) == 0.0);
    assert_true(fltf(f, TL_FUNC_CBRT, -8, 0, &st) == -2.0);
    assert_true(fltf(f, TL_FUNC_DEGREES, M_PI, 0, &st) == 180.0);
    assert_true(fltf(f, TL_FUNC_PI, 0, 0, &st) == M_PI);
}

/* mod, gcd and lcm of integers stay in their type; the smallest value's
 * magnitude is out of range. */
static void
test_integer(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(intf(f, TL_FUNC_MOD, TL_TYPE_INT4, -7, 3), "-1");
    assert_string_equal(intf(f, TL_FUNC_MOD, TL_TYPE_INT4, INT32_MIN, -1), "0");
    assert_string_equal(intf(f, TL_FUNC_MOD, TL_TYPE_INT2, 5, 0), "22012");
    assert_string_equal(intf(f, TL_FUNC_GCD, TL_TYPE_INT8, -12, 18), "6");
    assert_string_equal(intf(f, TL_FUNC_GCD, TL_TYPE_INT4, INT32_MIN, 0),
                        "22003");
    assert_string_equal(intf(f, TL_FUNC_GCD, TL_TYPE_INT8, INT32_MIN, 0),
                        "2147483648");
    assert_string_equal(intf(f, TL_FUNC_LCM, TL_TYPE_INT4, 4, -6), "12");
    assert_string_equal(intf(f, TL_FUNC_LCM, TL_TYPE_INT4, 0, 5), "0");
    assert_string_equal(
        intf(f, TL_FUNC_LCM, TL_TYPE_INT4, 2147483647, 2147483646), "22003");
    assert_string_equal(f->err.message, "integer out of range");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_numeric_rounding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numeric_division, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numeric_sqrt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_float, setup, teardown),
        cmocka_unit_test_setup_teardown(test_integer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
