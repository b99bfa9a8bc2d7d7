/* scalar_math — the math functions of scalar.h (round, ceil, floor, trunc,
 * sign, mod, power, sqrt, exp, ln, log, cbrt, pi, degrees, radians, div,
 * gcd, lcm), as PostgreSQL 15's float8 and numeric versions: the binder
 * has already given every argument the type of the version it picked. */
#include <errno.h>
#include <math.h>

#include "common/base/sqlstate.h"
#include "numeric.h"
#include "scalar_int.h"

static int
overflow(struct tl_error *err)
{
    return tl_error_set(err, TL_EOVERFLOW,
                        TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
                        "value out of range: overflow");
}

static int
underflow(struct tl_error *err)
{
    return tl_error_set(err, TL_EOVERFLOW,
                        TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
                        "value out of range: underflow");
}

static int
power_error(struct tl_error *err, const char *msg)
{
    return tl_error_set(err, TL_EINVAL,
                        TL_SQLSTATE_INVALID_ARGUMENT_FOR_POWER_FUNCTION, "%s",
                        msg);
}

static int
log_error(struct tl_error *err, double x)
{
    return tl_error_set(err, TL_EINVAL,
                        TL_SQLSTATE_INVALID_ARGUMENT_FOR_LOGARITHM,
                        x == 0 ? "cannot take logarithm of zero"
                               : "cannot take logarithm of a negative number");
}

/* PostgreSQL's dpow(). */
static int
float_power(double x, double y, double *out, struct tl_error *err)
{
    if (isnan(x)) {
        *out = isnan(y) || y != 0.0 ? x : 1.0;
        return 0;
    }
    if (isnan(y)) {
        *out = x != 1.0 ? y : 1.0;
        return 0;
    }
    if (x == 0 && y < 0)
        return power_error(err, "zero raised to a negative power is undefined");
    if (x < 0 && floor(y) != y)
        return power_error(err, "a negative number raised to a non-integer "
                                "power yields a complex result");
    if (isinf(y)) {
        double ax = fabs(x);
        if (ax == 1.0)
            *out = 1.0;
        else if (y > 0.0)
            *out = ax > 1.0 ? y : 0.0;
        else
            *out = ax > 1.0 ? 0.0 : -y;
        return 0;
    }
    if (isinf(x)) {
        if (y == 0.0) {
            *out = 1.0;
        } else if (x > 0.0) {
            *out = y > 0.0 ? x : 0.0;
        } else {
            double half = y / 2;
            bool odd = floor(half) != half;
            if (y > 0.0)
                *out = odd ? x : -x;
            else
                *out = odd ? -0.0 : 0.0;
        }
        return 0;
    }
    errno = 0;
    double r = pow(x, y);
    if (errno == EDOM || isnan(r))
        return power_error(err, "a negative number raised to a non-integer "
                                "power yields a complex result");
    if (errno == ERANGE && r != 0.0)
        return overflow(err);
    if (errno == ERANGE || (r == 0.0 && x != 0.0))
        return underflow(err);
    if (isinf(r))
        return overflow(err);
    *out = r;
    return 0;
}

/* PostgreSQL's dexp(). */
static int
float_exp(double x, double *out, struct tl_error *err)
{
    if (isnan(x)) {
        *out = x;
        return 0;
    }
    if (isinf(x)) {
        *out = x > 0 ? x : 0.0;
        return 0;
    }
    errno = 0;
    double r = exp(x);
    if (errno == ERANGE && r != 0.0)
        return overflow(err);
    if (errno == ERANGE || r == 0.0)
        return underflow(err);
    if (isinf(r))
        return overflow(err);
    *out = r;
    return 0;
}

/* PostgreSQL's dlog1() (ln) and dlog10() (log). */
static int
float_log(double x, bool base10, double *out, struct tl_error *err)
{
    if (x <= 0)
        return log_error(err, x);
    double r = base10 ? log10(x) : log(x);
    if (isinf(r) && !isinf(x))
        return overflow(err);
    if (r == 0.0 && x != 1.0)
        return underflow(err);
    *out = r;
    return 0;
}

/* A float8 function whose result can only leave the range on an infinite
 * or zero result from finite or nonzero input (PostgreSQL's
 * float_overflow_error / float_underflow_error checks). */
static int
float_checked(double x, double r, bool zero_ok, double *out,
              struct tl_error *err)
{
    if (isinf(r) && !isinf(x))
        return overflow(err);
    if (!zero_ok && r == 0.0 && x != 0.0)
        return underflow(err);
    *out = r;
    return 0;
}

static int
float_func(uint8_t id, const struct tl_value *args, struct tl_value *out,
           struct tl_error *err)
{
    double x = args[0].u.f, r = 0;
    int rv = 0;

    switch (id) {
    case TL_FUNC_ROUND:
        r = rint(x);
        break;
    case TL_FUNC_CEIL:
        r = ceil(x);
        break;
    case TL_FUNC_FLOOR:
        r = floor(x);
        break;
    case TL_FUNC_TRUNC:
        r = trunc(x);
        break;
    case TL_FUNC_SIGN:
        r = x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0;
        break;
    case TL_FUNC_SQRT:
        if (x < 0)
            return power_error(err,
                               "cannot take square root of a negative number");
        rv = float_checked(x, sqrt(x), false, &r, err);
        break;
    case TL_FUNC_CBRT:
        rv = float_checked(x, cbrt(x), false, &r, err);
        break;
    case TL_FUNC_POWER:
        rv = float_power(x, args[1].u.f, &r, err);
        break;
    case TL_FUNC_EXP:
        rv = float_exp(x, &r, err);
        break;
    case TL_FUNC_LN:
    case TL_FUNC_LOG:
        rv = float_log(x, id == TL_FUNC_LOG, &r, err);
        break;
    case TL_FUNC_DEGREES:
        rv = float_checked(x, x * (180.0 / M_PI), true, &r, err);
        break;
    case TL_FUNC_RADIANS:
        rv = float_checked(x, x * (M_PI / 180.0), true, &r, err);
        break;
    default:
        return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_INTERNAL_ERROR,
                            "unknown function %u", (unsigned)id);
    }
    if (rv == 0)
        *out = tl_value_float(r);
    return rv;
}

static int
int_out_of_range(uint8_t type, struct tl_error *err)
{
    return tl_error_set(err, TL_EOVERFLOW,
                        TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
                        "%s out of range", tl_type_name(type));
}

/* gcd of integers of @type, as PostgreSQL's int4gcd/int8gcd: the
 * smallest value's magnitude does not fit. */
static int
int_gcd(uint8_t type, int64_t x, int64_t y, int64_t *out, struct tl_error *err)
{
    int64_t lo, hi;
    tl_type_int_range(type, &lo, &hi);
    uint64_t a = x < 0 ? 0 - (uint64_t)x : (uint64_t)x;
    uint64_t b = y < 0 ? 0 - (uint64_t)y : (uint64_t)y;
    while (b != 0) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    if (a > (uint64_t)hi)
        return int_out_of_range(type, err);
    *out = (int64_t)a;
    return 0;
}

static int
int_func(uint8_t id, uint8_t type, const struct tl_value *args,
         struct tl_value *out, struct tl_error *err)
{
    int64_t x = args[0].u.i, y = args[1].u.i, r = 0, lo, hi;
    int rv;

    tl_type_int_range(type, &lo, &hi);
    switch (id) {
    case TL_FUNC_MOD:
        if (y == 0)
            return tl_error_set(err, TL_EDIVZERO, TL_SQLSTATE_DIVISION_BY_ZERO,
                                "division by zero");
        r = y == -1 ? 0 : x % y; /* the smallest % -1 would trap */
        break;
    case TL_FUNC_GCD:
        if ((rv = int_gcd(type, x, y, &r, err)) != 0)
            return rv;
        break;
    default: /* TL_FUNC_LCM */
        if (x == 0 || y == 0) {
            r = 0;
            break;
        }
        if ((rv = int_gcd(type, x, y, &r, err)) != 0)
            return rv;
        if (__builtin_mul_overflow(x / r, y, &r) || r < lo || r > hi || r == lo)
            return int_out_of_range(type, err);
        if (r < 0)
            r = -r;
        break;
    }
    *out = tl_value_int(type, r);
    return 0;
}

static int
numeric_unsupported(uint8_t id, struct tl_error *err)
{
    const struct tl_func_sig *sig = tl_func_by_id(id);
    tl_error_set(err, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                 "%s() of a numeric is not supported yet",
                 sig != NULL ? sig->name : "?");
    tl_error_hint(err, "Cast the argument to double precision.");
    return TL_EUNSUPPORTED;
}

/* round(numeric, int) and trunc(numeric, int): the scale as int32. */
static int32_t
scale_arg(int64_t s)
{
    return s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : (int32_t)s;
}

int
scalar_eval_math(uint8_t id, uint8_t type, const struct tl_value *args,
                 uint32_t n, struct tl_arena *a, struct tl_value *out,
                 struct tl_error *err)
{
    if (id == TL_FUNC_PI) {
        *out = tl_value_float(M_PI);
        return 0;
    }
    if (n > 0 && tl_type_is_int(args[0].type))
        return int_func(id, type, args, out, err);
    if (n == 0 || args[0].type != TL_TYPE_NUMERIC)
        return float_func(id, args, out, err);
    const struct tl_value *x = &args[0];
    switch (id) {
    case TL_FUNC_ROUND:
        return tl_numeric_round(x, 0, TL_NUMERIC_ROUND_HALF_UP, a, out, err);
    case TL_FUNC_ROUND_SCALE:
        return tl_numeric_round(x, scale_arg(args[1].u.i),
                                TL_NUMERIC_ROUND_HALF_UP, a, out, err);
    case TL_FUNC_TRUNC:
        return tl_numeric_round(x, 0, TL_NUMERIC_TRUNC, a, out, err);
    case TL_FUNC_TRUNC_SCALE:
        return tl_numeric_round(x, scale_arg(args[1].u.i), TL_NUMERIC_TRUNC, a,
                                out, err);
    case TL_FUNC_CEIL:
        return tl_numeric_round(x, 0, TL_NUMERIC_CEIL, a, out, err);
    case TL_FUNC_FLOOR:
        return tl_numeric_round(x, 0, TL_NUMERIC_FLOOR, a, out, err);
    case TL_FUNC_SIGN:
        *out = tl_numeric_sign(x);
        return 0;
    case TL_FUNC_MOD:
        return tl_numeric_mod(x, &args[1], a, out, err);
    case TL_FUNC_DIV:
        return tl_numeric_div_trunc(x, &args[1], a, out, err);
    case TL_FUNC_GCD:
        return tl_numeric_gcd(x, &args[1], a, out, err);
    case TL_FUNC_LCM:
        return tl_numeric_lcm(x, &args[1], a, out, err);
    case TL_FUNC_SQRT:
        return tl_numeric_sqrt(x, a, out, err);
    default: /* exp, ln, log, power */
        return numeric_unsupported(id, err);
    }
}
