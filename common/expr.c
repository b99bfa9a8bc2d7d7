#include "expr.h"

#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <regex.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "datetime.h"
#include "interval.h"
#include "json.h"
#include "numeric.h"
#include "row.h"
#include "scalar.h"

#define EXPR_MAX_DEPTH 1000

/* ------------------------------------------------------- constructors */

static struct tl_expr *
alloc_node(struct tl_arena *a, uint8_t kind, uint8_t type)
{
    struct tl_expr *e = tl_arena_calloc(a, sizeof(*e));
    e->kind = kind;
    e->type = type;
    e->typmod = -1;
    return e;
}

struct tl_expr *
tl_expr_const(struct tl_arena *a, const struct tl_value *v)
{
    struct tl_expr *e = alloc_node(a, TL_EXPR_CONST, v->type);
    e->value = *v;
    if (!v->is_null && tl_type_has_bytes(v->type))
        e->value.u.s.p =
            tl_arena_strndup(a, v->u.s.len ? v->u.s.p : "", v->u.s.len);
    return e;
}

struct tl_expr *
tl_expr_column(struct tl_arena *a, uint32_t column, uint8_t type)
{
    struct tl_expr *e = alloc_node(a, TL_EXPR_COLUMN, type);
    e->column = column;
    return e;
}

struct tl_expr *
tl_expr_op(struct tl_arena *a, uint8_t op, uint8_t type, struct tl_expr *l,
           struct tl_expr *r)
{
    struct tl_expr *args[2] = {l, r};
    struct tl_expr *e = tl_expr_node(a, TL_EXPR_OP, type, args, r ? 2 : 1);
    e->op = op;
    return e;
}

struct tl_expr *
tl_expr_node(struct tl_arena *a, uint8_t kind, uint8_t type,
             struct tl_expr **args, uint32_t n)
{
    struct tl_expr *e = alloc_node(a, kind, type);
    e->n_args = n;
    e->args = tl_arena_alloc(a, (n ? n : 1) * sizeof(*e->args));
    for (uint32_t i = 0; i < n; i++)
        e->args[i] = args[i];
    return e;
}

struct tl_expr *
tl_expr_ext(struct tl_arena *a, uint8_t type, tl_expr_ext_fn fn, void *ext,
            struct tl_expr **args, uint32_t n)
{
    struct tl_expr *e = tl_expr_node(a, TL_EXPR_EXT, type, args, n);
    e->ext_fn = fn;
    e->ext = ext;
    return e;
}

bool
tl_expr_is_portable(const struct tl_expr *e)
{
    if (e == NULL)
        return true;
    if (e->kind == TL_EXPR_EXT)
        return false;
    for (uint32_t i = 0; i < e->n_args; i++)
        if (!tl_expr_is_portable(e->args[i]))
            return false;
    return true;
}

/* --------------------------------------------------------- evaluation */

const char *
tl_expr_op_symbol(uint8_t op)
{
    static const char *const syms[] = {
        [TL_OP_EQ] = "=",
        [TL_OP_NE] = "<>",
        [TL_OP_LT] = "<",
        [TL_OP_LE] = "<=",
        [TL_OP_GT] = ">",
        [TL_OP_GE] = ">=",
        [TL_OP_ADD] = "+",
        [TL_OP_SUB] = "-",
        [TL_OP_MUL] = "*",
        [TL_OP_DIV] = "/",
        [TL_OP_MOD] = "%",
        [TL_OP_NEG] = "-",
        [TL_OP_CONCAT] = "||",
        [TL_OP_LIKE] = "~~",
        [TL_OP_ILIKE] = "~~*",
        [TL_OP_REGEX] = "~",
        [TL_OP_IREGEX] = "~*",
        [TL_OP_BITAND] = "&",
        [TL_OP_BITOR] = "|",
        [TL_OP_BITXOR] = "#",
        [TL_OP_SHL] = "<<",
        [TL_OP_SHR] = ">>",
        [TL_OP_BITNOT] = "~",
        [TL_OP_DISTINCT] = "IS DISTINCT FROM",
        [TL_OP_NOT_DISTINCT] = "IS NOT DISTINCT FROM",
        [TL_OP_JSON_GET] = "->",
        [TL_OP_JSON_GET_TEXT] = "->>",
        [TL_OP_JSON_PATH] = "#>",
        [TL_OP_JSON_PATH_TEXT] = "#>>",
        [TL_OP_JSON_CONTAINS] = "@>",
        [TL_OP_JSON_EXISTS] = "?",
    };
    if (op < sizeof(syms) / sizeof(syms[0]) && syms[op] != NULL)
        return syms[op];
    return "?";
}

static int
no_operator(struct tl_error *err, uint8_t op, uint8_t l, uint8_t r)
{
    return tl_error_set(err, TL_ETYPE, TL_SQLSTATE_UNDEFINED_FUNCTION,
                        "operator does not exist: %s %s %s", tl_type_name(l),
                        tl_expr_op_symbol(op), tl_type_name(r));
}

static int
int_out_of_range(struct tl_error *err, uint8_t type)
{
    if (!tl_type_is_int(type))
        type = TL_TYPE_INT8;
    return tl_error_set(err, TL_EOVERFLOW,
                        TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
                        "%s out of range", tl_type_name(type));
}

static int
div_by_zero(struct tl_error *err)
{
    return tl_error_set(err, TL_EDIVZERO, TL_SQLSTATE_DIVISION_BY_ZERO,
                        "division by zero");
}

/* An untyped literal meeting a typed operand takes the operand's type, as
 * PostgreSQL resolves `col = '5'`. */
static int
resolve_unknown(struct tl_value *l, struct tl_value *r, struct tl_arena *a,
                struct tl_error *err)
{
    int rv = 0;

    if (l->type == TL_TYPE_UNKNOWN && r->type != TL_TYPE_UNKNOWN)
        rv = tl_value_cast(l, r->type, -1, a, l, err);
    else if (r->type == TL_TYPE_UNKNOWN && l->type != TL_TYPE_UNKNOWN)
        rv = tl_value_cast(r, l->type, -1, a, r, err);
    return rv;
}

/* Compare non-NULL @l and @r for @op (a comparison), *@res the outcome. */
static int
compare(uint8_t op, struct tl_value *l, struct tl_value *r, struct tl_arena *a,
        bool *res, struct tl_error *err)
{
    int rv, c;

    if ((rv = resolve_unknown(l, r, a, err)) != 0)
        return rv;
    if (!tl_type_comparable(l->type, r->type))
        return no_operator(err, op, l->type, r->type);
    c = tl_value_cmp(l, r);
    switch (op) {
    case TL_OP_EQ:
        *res = c == 0;
        break;
    case TL_OP_NE:
        *res = c != 0;
        break;
    case TL_OP_LT:
        *res = c < 0;
        break;
    case TL_OP_LE:
        *res = c <= 0;
        break;
    case TL_OP_GT:
        *res = c > 0;
        break;
    default:
        *res = c >= 0;
        break;
    }
    return 0;
}

static int
arith_int(uint8_t op, uint8_t type, int64_t x, int64_t y, struct tl_value *out,
          struct tl_error *err)
{
    int64_t r, min, max;
    bool ovf = false;

    if (!tl_type_is_int(type))
        type = TL_TYPE_INT8;
    switch (op) {
    case TL_OP_ADD:
        ovf = __builtin_add_overflow(x, y, &r);
        break;
    case TL_OP_SUB:
        ovf = __builtin_sub_overflow(x, y, &r);
        break;
    case TL_OP_MUL:
        ovf = __builtin_mul_overflow(x, y, &r);
        break;
    case TL_OP_DIV:
        if (y == 0)
            return div_by_zero(err);
        if (y == -1)
            ovf = __builtin_sub_overflow((int64_t)0, x, &r);
        else
            r = x / y;
        break;
    default: /* TL_OP_MOD */
        if (y == 0)
            return div_by_zero(err);
        r = y == -1 ? 0 : x % y;
        break;
    }
    tl_type_int_range(type, &min, &max);
    if (ovf || r < min || r > max)
        return int_out_of_range(err, type);
    *out = tl_value_int(type, r);
    return 0;
}

/* @r as a value of float type @type: a real's operations round their
 * exact (double) result once to float, as float4pl & co compute in
 * float. */
static double
round_to(uint8_t type, double r)
{
    return type == TL_TYPE_FLOAT4 ? (double)(float)r : r;
}

static int
arith_float(uint8_t op, uint8_t type, double x, double y, struct tl_value *out,
            struct tl_error *err)
{
    double r;

    switch (op) {
    case TL_OP_ADD:
        r = round_to(type, x + y);
        break;
    case TL_OP_SUB:
        r = round_to(type, x - y);
        break;
    case TL_OP_MUL:
        r = round_to(type, x * y);
        if (r == 0.0 && x != 0.0 && y != 0.0)
            return tl_error_set(err, TL_EOVERFLOW,
                                TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
                                "value out of range: underflow");
        break;
    default: /* TL_OP_DIV */
        if (y == 0.0 && !isnan(x))
            return div_by_zero(err);
        r = round_to(type, x / y);
        if (r == 0.0 && x != 0.0 && !isinf(y))
            return tl_error_set(err, TL_EOVERFLOW,
                                TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
                                "value out of range: underflow");
        break;
    }
    if (isinf(r) && !isinf(x) && !isinf(y))
        return tl_error_set(err, TL_EOVERFLOW,
                            TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
                            "value out of range: overflow");
    *out = tl_value_float(r);
    out->type = type;
    return 0;
}

/* @l op @r in numeric, integers converted exactly. */
static int
arith_numeric(uint8_t op, struct tl_value *l, struct tl_value *r,
              struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    if (tl_type_is_int(l->type))
        *l = tl_numeric_from_int(l->u.i, a);
    if (tl_type_is_int(r->type))
        *r = tl_numeric_from_int(r->u.i, a);
    switch (op) {
    case TL_OP_ADD:
        return tl_numeric_add(l, r, a, out, err);
    case TL_OP_SUB:
        return tl_numeric_sub(l, r, a, out, err);
    case TL_OP_MUL:
        return tl_numeric_mul(l, r, a, out, err);
    case TL_OP_DIV:
        return tl_numeric_div(l, r, a, out, err);
    default: /* TL_OP_MOD */
        return tl_numeric_mod(l, r, a, out, err);
    }
}

/* Whether @t takes part in date/time arithmetic. */
static bool
is_temporal(uint8_t t)
{
    return tl_type_is_datetime(t) || t == TL_TYPE_INTERVAL;
}

/* Number @v as the float8 an interval is scaled by (PostgreSQL casts
 * integers and numerics to float8 for interval * and /). */
static int
interval_factor(struct tl_value *v, struct tl_arena *a, double *f,
                struct tl_error *err)
{
    if (v->type == TL_TYPE_NUMERIC) {
        int rv = tl_value_cast(v, TL_TYPE_FLOAT8, -1, a, v, err);
        if (rv != 0)
            return rv;
    }
    *f = tl_type_is_int(v->type) ? (double)v->u.i : v->u.f;
    return 0;
}

/* A date/time operand as timestamp microseconds (a date as its
 * midnight). */
static int
as_timestamp(const struct tl_value *v, int64_t *ts, struct tl_error *err)
{
    if (v->type != TL_TYPE_DATE) {
        *ts = v->u.i;
        return 0;
    }
    return tl_datetime_convert(TL_TYPE_DATE, v->u.i, TL_TYPE_TIMESTAMP, ts,
                               err);
}

static int
date_out_of_range(struct tl_error *err)
{
    return tl_error_set(err, TL_EOVERFLOW, TL_SQLSTATE_DATETIME_FIELD_OVERFLOW,
                        "date out of range");
}

/* date + integer days (date_pli), infinities kept. */
static int
date_add_days(int64_t d, int64_t days, struct tl_value *out,
              struct tl_error *err)
{
    int64_t r = d;
    if (d != TL_DATE_NOBEGIN && d != TL_DATE_NOEND) {
        r = d + days;
        if (r < INT64_C(-2451545) || r >= INT64_C(2145031949))
            return date_out_of_range(err);
    }
    *out = tl_value_int(TL_TYPE_DATE, r);
    return 0;
}

/* Arithmetic with dates, timestamps and intervals, typed by the binder:
 * datetime +- interval, interval + datetime, datetime - datetime,
 * interval +- interval, interval * / number, number * interval, date +-
 * integer and date - date. */
static int
arith_temporal(const struct tl_expr *e, struct tl_value *l, struct tl_value *r,
               struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    struct tl_interval iv;
    double f = 0;
    int64_t x, y;
    int rv;

    if (e->op == TL_OP_ADD && l->type == TL_TYPE_INTERVAL &&
        tl_type_is_datetime(r->type)) {
        struct tl_value *t = l;
        l = r;
        r = t;
    }
    if (e->op == TL_OP_MUL && tl_type_is_numeric(l->type) &&
        r->type == TL_TYPE_INTERVAL) {
        struct tl_value *t = l;
        l = r;
        r = t;
    }
    if (l->type == TL_TYPE_INTERVAL && r->type == TL_TYPE_INTERVAL) {
        if (e->op == TL_OP_ADD)
            rv = tl_interval_add(&l->u.iv, &r->u.iv, &iv, err);
        else if (e->op == TL_OP_SUB)
            rv = tl_interval_sub(&l->u.iv, &r->u.iv, &iv, err);
        else
            return no_operator(err, e->op, l->type, r->type);
        if (rv == 0)
            *out = tl_value_interval(&iv);
        return rv;
    }
    if (l->type == TL_TYPE_INTERVAL && tl_type_is_numeric(r->type) &&
        (e->op == TL_OP_MUL || e->op == TL_OP_DIV)) {
        if ((rv = interval_factor(r, a, &f, err)) != 0)
            return rv;
        rv = e->op == TL_OP_MUL ? tl_interval_mul(&l->u.iv, f, &iv, err)
                                : tl_interval_div(&l->u.iv, f, &iv, err);
        if (rv == 0)
            *out = tl_value_interval(&iv);
        return rv;
    }
    if (tl_type_is_datetime(l->type) && r->type == TL_TYPE_INTERVAL &&
        (e->op == TL_OP_ADD || e->op == TL_OP_SUB)) {
        iv = r->u.iv;
        if (e->op == TL_OP_SUB && (rv = tl_interval_neg(&iv, &iv, err)) != 0)
            return rv;
        if ((rv = as_timestamp(l, &x, err)) != 0 ||
            (rv = tl_timestamp_add_interval(x, &iv, &y, err)) != 0)
            return rv;
        *out = tl_value_int(
            l->type == TL_TYPE_DATE ? TL_TYPE_TIMESTAMP : l->type, y);
        if (e->type == TL_TYPE_TIMESTAMP || e->type == TL_TYPE_TIMESTAMPTZ)
            out->type = e->type;
        return 0;
    }
    if (l->type == TL_TYPE_DATE && tl_type_is_int(r->type) &&
        (e->op == TL_OP_ADD || e->op == TL_OP_SUB))
        return date_add_days(l->u.i, e->op == TL_OP_ADD ? r->u.i : -r->u.i, out,
                             err);
    if (tl_type_is_int(l->type) && r->type == TL_TYPE_DATE &&
        e->op == TL_OP_ADD)
        return date_add_days(r->u.i, l->u.i, out, err);
    if (l->type == TL_TYPE_DATE && r->type == TL_TYPE_DATE &&
        e->op == TL_OP_SUB) {
        if (l->u.i == TL_DATE_NOBEGIN || l->u.i == TL_DATE_NOEND ||
            r->u.i == TL_DATE_NOBEGIN || r->u.i == TL_DATE_NOEND)
            return tl_error_set(err, TL_EOVERFLOW,
                                TL_SQLSTATE_DATETIME_FIELD_OVERFLOW,
                                "cannot subtract infinite dates");
        *out = tl_value_int(TL_TYPE_INT4, l->u.i - r->u.i);
        return 0;
    }
    if (tl_type_is_datetime(l->type) && tl_type_is_datetime(r->type) &&
        e->op == TL_OP_SUB) {
        if ((rv = as_timestamp(l, &x, err)) != 0 ||
            (rv = as_timestamp(r, &y, err)) != 0 ||
            (rv = tl_timestamp_diff(x, y, &iv, err)) != 0)
            return rv;
        *out = tl_value_interval(&iv);
        return 0;
    }
    return no_operator(err, e->op, l->type, r->type);
}

static int
arith(const struct tl_expr *e, struct tl_value *l, struct tl_value *r,
      struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    int rv;

    if (is_temporal(l->type) || is_temporal(r->type) || is_temporal(e->type)) {
        if ((rv = resolve_unknown(l, r, a, err)) != 0)
            return rv;
        return arith_temporal(e, l, r, a, out, err);
    }

    if (l->type == TL_TYPE_UNKNOWN && r->type == TL_TYPE_UNKNOWN &&
        tl_type_is_numeric(e->type)) {
        if ((rv = tl_value_cast(l, e->type, -1, a, l, err)) != 0 ||
            (rv = tl_value_cast(r, e->type, -1, a, r, err)) != 0)
            return rv;
    }
    if ((rv = resolve_unknown(l, r, a, err)) != 0)
        return rv;
    if (!tl_type_is_numeric(l->type) || !tl_type_is_numeric(r->type))
        return no_operator(err, e->op, l->type, r->type);
    bool any_float = tl_type_is_float(l->type) || tl_type_is_float(r->type);
    if (!any_float &&
        (l->type == TL_TYPE_NUMERIC || r->type == TL_TYPE_NUMERIC ||
         e->type == TL_TYPE_NUMERIC)) {
        if ((rv = arith_numeric(e->op, l, r, a, out, err)) != 0)
            return rv;
        if (e->type != TL_TYPE_NUMERIC && e->type != TL_TYPE_UNKNOWN)
            return tl_value_cast(out, e->type, -1, a, out, err);
        return 0;
    }
    /* numeric with a float is float8, as PostgreSQL casts the numeric. */
    if (l->type == TL_TYPE_NUMERIC &&
        (rv = tl_value_cast(l, TL_TYPE_FLOAT8, -1, a, l, err)) != 0)
        return rv;
    if (r->type == TL_TYPE_NUMERIC &&
        (rv = tl_value_cast(r, TL_TYPE_FLOAT8, -1, a, r, err)) != 0)
        return rv;
    if (tl_type_is_int(l->type) && tl_type_is_int(r->type) &&
        (!tl_type_is_float(e->type) || e->op == TL_OP_MOD))
        return arith_int(e->op, e->type, l->u.i, r->u.i, out, err);
    if (e->op == TL_OP_MOD)
        return no_operator(err, e->op, l->type, r->type);
    double x = tl_type_is_float(l->type) ? l->u.f : (double)l->u.i;
    double y = tl_type_is_float(r->type) ? r->u.f : (double)r->u.i;
    /* real only when both operands are (PostgreSQL has no real op int). */
    uint8_t ftype = e->type == TL_TYPE_FLOAT4 && l->type == TL_TYPE_FLOAT4 &&
                            r->type == TL_TYPE_FLOAT4
                        ? TL_TYPE_FLOAT4
                        : TL_TYPE_FLOAT8;
    if ((rv = arith_float(e->op, ftype, x, y, out, err)) != 0)
        return rv;
    if (tl_type_is_int(e->type))
        return tl_value_cast(out, e->type, -1, a, out, err);
    return 0;
}

static int
negate(const struct tl_expr *e, struct tl_value *v, struct tl_arena *a,
       struct tl_value *out, struct tl_error *err)
{
    int64_t min, max;
    uint8_t type = tl_type_is_int(e->type) ? e->type : TL_TYPE_INT8;

    if (v->type == TL_TYPE_UNKNOWN && tl_type_is_numeric(e->type)) {
        int rv = tl_value_cast(v, e->type, -1, a, v, err);
        if (rv != 0)
            return rv;
    }
    if (tl_type_is_float(v->type)) {
        *out = tl_value_float(-v->u.f);
        out->type = v->type;
        return 0;
    }
    if (v->type == TL_TYPE_NUMERIC) {
        *out = tl_numeric_neg(v, a);
        return 0;
    }
    if (v->type == TL_TYPE_INTERVAL) {
        struct tl_interval iv;
        int rv = tl_interval_neg(&v->u.iv, &iv, err);
        if (rv == 0)
            *out = tl_value_interval(&iv);
        return rv;
    }
    if (!tl_type_is_int(v->type))
        return tl_error_set(err, TL_ETYPE, TL_SQLSTATE_UNDEFINED_FUNCTION,
                            "operator does not exist: - %s",
                            tl_type_name(v->type));
    tl_type_int_range(type, &min, &max);
    if (v->u.i == INT64_MIN || -v->u.i < min || -v->u.i > max)
        return int_out_of_range(err, type);
    *out = tl_value_int(type, -v->u.i);
    return 0;
}

/* The text of @v as || sees it: a bpchar loses its padding, as
 * PostgreSQL casts it to text first. */
static void
append_concat_text(const struct tl_value *v, struct tl_buf *b)
{
    if (v->type == TL_TYPE_BPCHAR) {
        tl_buf_append(b, v->u.s.p, tl_value_text_len(v));
        return;
    }
    tl_value_to_text(v, b);
}

/* Whether @t is one of the text kinds or an untyped literal (not a uuid
 * or bytea, which also hold bytes in u.s). */
static bool
is_textual(uint8_t t)
{
    return tl_type_is_text(t) || t == TL_TYPE_UNKNOWN;
}

/* @l || @r: bytea || bytea joins the bytes (byteacat); anything else is
 * text (textcat, or textanycat with the other side's text output). */
static int
concat(const struct tl_expr *e, const struct tl_value *l,
       const struct tl_value *r, struct tl_arena *a, struct tl_value *out)
{
    struct tl_buf b;
    char *p;
    size_t len;

    if (e->type == TL_TYPE_BYTEA) {
        assert(l->type == TL_TYPE_BYTEA && r->type == TL_TYPE_BYTEA);
        len = (size_t)l->u.s.len + r->u.s.len;
        p = tl_arena_alloc(a, len + 1);
        if (l->u.s.len > 0)
            memcpy(p, l->u.s.p, l->u.s.len);
        if (r->u.s.len > 0)
            memcpy(p + l->u.s.len, r->u.s.p, r->u.s.len);
        *out = tl_value_text(TL_TYPE_BYTEA, p, (uint32_t)len);
        return 0;
    }
    tl_buf_init(&b);
    append_concat_text(l, &b);
    append_concat_text(r, &b);
    len = b.len;
    p = tl_arena_strndup(a, b.data ? (const char *)b.data : "", b.len);
    tl_buf_close(&b);
    *out = tl_value_text(tl_type_is_text(e->type) ? e->type : TL_TYPE_TEXT, p,
                         (uint32_t)len);
    return 0;
}

/* Bytes of the character at @s[i] of @n: one for bytea, else the UTF-8
 * sequence its lead byte announces (one for a stray byte). */
static size_t
like_char(const char *s, size_t i, size_t n, bool bytes)
{
    unsigned char c = (unsigned char)s[i];
    size_t w = bytes || c < 0xc0 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    return i + w <= n ? w : n - i;
}

/* LIKE with % (any run of characters), _ (one character: one byte for
 * bytea, one UTF-8 character for text) and \ (next character literally).
 * The classic backtracking-to-the-last-% scan: linear in practice, never
 * recursive. */
static bool
like_match(const char *s, size_t slen, const char *p, size_t plen, bool bytes)
{
    size_t si = 0, pi = 0, star_p = 0, star_s = 0;
    bool star = false;

    while (si < slen) {
        if (pi < plen) {
            char c = p[pi];
            if (c == '%') {
                star = true;
                star_p = ++pi;
                star_s = si;
                continue;
            }
            if (c == '_') {
                si += like_char(s, si, slen, bytes);
                pi++;
                continue;
            }
            size_t at = pi;
            if (c == '\\')
                at++; /* the pattern was checked: never the end */
            size_t w = like_char(p, at, plen, bytes);
            if (si + w <= slen && memcmp(s + si, p + at, w) == 0 &&
                like_char(s, si, slen, bytes) == w) {
                si += w;
                pi = at + w;
                continue;
            }
        }
        if (!star)
            return false;
        pi = star_p;
        star_s += like_char(s, star_s, slen, bytes);
        si = star_s;
    }
    while (pi < plen && p[pi] == '%')
        pi++;
    return pi == plen;
}

static int
like(const struct tl_expr *e, struct tl_value *l, struct tl_value *r,
     struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    const char *p;
    size_t n;

    if (l->type == TL_TYPE_UNKNOWN)
        l->type = TL_TYPE_TEXT;
    if (r->type == TL_TYPE_UNKNOWN)
        r->type = TL_TYPE_TEXT;
    /* bytea LIKE bytea (bytealike) matches bytes, as text LIKE does. */
    bool bytea = e->op == TL_OP_LIKE && l->type == TL_TYPE_BYTEA &&
                 r->type == TL_TYPE_BYTEA;
    if (!bytea && (!tl_type_is_text(l->type) || !tl_type_is_text(r->type)))
        return no_operator(err, e->op, l->type, r->type);
    p = r->u.s.p;
    n = r->u.s.len;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\') {
            if (i + 1 == n)
                return tl_error_set(err, TL_ETYPE,
                                    TL_SQLSTATE_INVALID_ESCAPE_SEQUENCE,
                                    "LIKE pattern must not end with escape "
                                    "character");
            i++;
        }
    }
    *out = tl_value_bool(like_match(l->u.s.p, l->u.s.len, p, n, bytea));
    return 0;
}

/* LIKE ignoring case: both sides folded to lower case as lower() does
 * (the C.UTF-8 mapping, as PostgreSQL's ILIKE under a UTF-8 ctype). */
static int
ilike(const struct tl_expr *e, struct tl_value *l, struct tl_value *r,
      struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    struct tl_value ll = *l, rr = *r;
    struct tl_value *vs[2] = {&ll, &rr};
    for (int i = 0; i < 2; i++) {
        if (!is_textual(vs[i]->type))
            continue;
        struct tl_value low =
            tl_text_case(a, vs[i]->u.s.p, vs[i]->u.s.len, false);
        vs[i]->u.s.p = low.u.s.p;
        vs[i]->u.s.len = low.u.s.len;
    }
    return like(e, &ll, &rr, a, out, err);
}

/* @l ~ @r (or ~* when @icase): POSIX extended regular expressions, which
 * agree with PostgreSQL's advanced ones on the patterns tools send
 * ('^(t)$', '^pg_toast'). 2201B for a pattern that does not compile. */
static int
regex(struct tl_value *l, struct tl_value *r, bool icase, struct tl_arena *a,
      struct tl_value *out, struct tl_error *err)
{
    if (!is_textual(l->type) || !is_textual(r->type))
        return no_operator(err, icase ? TL_OP_IREGEX : TL_OP_REGEX, l->type,
                           r->type);
    char *pat = tl_arena_strndup(a, r->u.s.len ? r->u.s.p : "", r->u.s.len);
    char *subject = tl_arena_strndup(a, l->u.s.len ? l->u.s.p : "", l->u.s.len);
    regex_t re;
    int rc =
        regcomp(&re, pat, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0));
    if (rc != 0) {
        char msg[128];
        regerror(rc, &re, msg, sizeof(msg));
        regfree(&re);
        return tl_error_set(err, TL_EINVAL,
                            TL_SQLSTATE_INVALID_REGULAR_EXPRESSION,
                            "invalid regular expression: %s", msg);
    }
    rc = regexec(&re, subject, 0, NULL, 0);
    regfree(&re);
    *out = tl_value_bool(rc == 0);
    return 0;
}

/* & | # << >> over integers; shifts take the count modulo the width, as
 * PostgreSQL's (C's) shifts of int2/int4/int8 do for counts in range. */
static int
bitwise(const struct tl_expr *e, const struct tl_value *l,
        const struct tl_value *r, struct tl_value *out, struct tl_error *err)
{
    if (!tl_type_is_int(l->type) || !tl_type_is_int(r->type))
        return no_operator(err, e->op, l->type, r->type);
    int64_t x = l->u.i, y = r->u.i, v;
    int bits = tl_type_len(e->type) * 8;
    switch (e->op) {
    case TL_OP_BITAND:
        v = x & y;
        break;
    case TL_OP_BITOR:
        v = x | y;
        break;
    case TL_OP_BITXOR:
        v = x ^ y;
        break;
    case TL_OP_SHL:
        v = (int64_t)((uint64_t)x << ((uint64_t)y & (uint64_t)(bits - 1)));
        break;
    default:
        v = x >> ((uint64_t)y & (uint64_t)(bits - 1));
        break;
    }
    /* Wrap to the result's width as C arithmetic on it would. */
    if (bits == 16)
        v = (int16_t)v;
    else if (bits == 32)
        v = (int32_t)v;
    *out = tl_value_int(e->type, v);
    return 0;
}

/* The json operators on non-NULL @l (the document) and @r. */
static int
json_op(uint8_t op, const struct tl_value *l, const struct tl_value *r,
        struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    bool res = false;
    int rv;
    bool jsonb_only = op == TL_OP_JSON_CONTAINS || op == TL_OP_JSON_EXISTS;
    bool key_ok = op == TL_OP_JSON_CONTAINS ? r->type == TL_TYPE_JSONB
                  : op == TL_OP_JSON_GET || op == TL_OP_JSON_GET_TEXT
                      ? tl_type_is_int(r->type) || is_textual(r->type)
                      : is_textual(r->type);
    if (!(jsonb_only ? l->type == TL_TYPE_JSONB : tl_type_is_json(l->type)) ||
        !key_ok)
        return no_operator(err, op, l->type, r->type);
    switch (op) {
    case TL_OP_JSON_GET:
    case TL_OP_JSON_GET_TEXT:
        return tl_json_get(l, r, op == TL_OP_JSON_GET_TEXT, a, out, err);
    case TL_OP_JSON_PATH:
    case TL_OP_JSON_PATH_TEXT:
        return tl_json_get_path(l, r, op == TL_OP_JSON_PATH_TEXT, a, out, err);
    case TL_OP_JSON_CONTAINS:
        rv = tl_json_contains(l, r, a, &res, err);
        break;
    default:
        rv = tl_json_exists(l, r, a, &res, err);
        break;
    }
    if (rv == 0)
        *out = tl_value_bool(res);
    return rv;
}

static int eval(const struct tl_expr *e, const struct tl_value *row,
                size_t n_cols, struct tl_arena *a, struct tl_value *out,
                struct tl_error *err);

/* A built-in scalar function: arguments first, then the function. */
static int
eval_func(const struct tl_expr *e, const struct tl_value *row, size_t n_cols,
          struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    struct tl_value small[4];
    struct tl_value *args =
        e->n_args <= 4 ? small : tl_arena_alloc(a, e->n_args * sizeof(*args));
    for (uint32_t i = 0; i < e->n_args; i++) {
        int rv = eval(e->args[i], row, n_cols, a, &args[i], err);
        if (rv != 0)
            return rv;
    }
    return tl_func_eval(e->op, e->type, args, e->n_args, a, out, err);
}

/* IS [NOT] DISTINCT FROM: two NULLs are not distinct, one NULL is. */
static int
eval_distinct(const struct tl_expr *e, const struct tl_value *row,
              size_t n_cols, struct tl_arena *a, struct tl_value *out,
              struct tl_error *err)
{
    struct tl_value l, r;
    bool eq = false;
    int rv;

    if ((rv = eval(e->args[0], row, n_cols, a, &l, err)) != 0 ||
        (rv = eval(e->args[1], row, n_cols, a, &r, err)) != 0)
        return rv;
    if (l.is_null || r.is_null)
        eq = l.is_null && r.is_null;
    else if ((rv = compare(TL_OP_EQ, &l, &r, a, &eq, err)) != 0)
        return rv;
    *out = tl_value_bool(e->op == TL_OP_DISTINCT ? !eq : eq);
    return 0;
}

static int
eval_op(const struct tl_expr *e, const struct tl_value *row, size_t n_cols,
        struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    struct tl_value l, r;
    bool res = false;
    int rv;

    if (e->op == TL_OP_DISTINCT || e->op == TL_OP_NOT_DISTINCT)
        return eval_distinct(e, row, n_cols, a, out, err);
    if ((rv = eval(e->args[0], row, n_cols, a, &l, err)) != 0)
        return rv;
    if (e->op == TL_OP_NEG) {
        if (l.is_null) {
            *out = tl_value_null(e->type);
            return 0;
        }
        return negate(e, &l, a, out, err);
    }
    if (e->op == TL_OP_BITNOT) {
        if (l.is_null) {
            *out = tl_value_null(e->type);
            return 0;
        }
        if (!tl_type_is_int(l.type))
            return no_operator(err, e->op, l.type, l.type);
        *out = tl_value_int(e->type, ~l.u.i);
        return 0;
    }
    if ((rv = eval(e->args[1], row, n_cols, a, &r, err)) != 0)
        return rv;
    if (l.is_null || r.is_null) {
        *out = tl_value_null(e->type);
        return 0;
    }
    switch (e->op) {
    case TL_OP_EQ:
    case TL_OP_NE:
    case TL_OP_LT:
    case TL_OP_LE:
    case TL_OP_GT:
    case TL_OP_GE:
        if ((rv = compare(e->op, &l, &r, a, &res, err)) != 0)
            return rv;
        *out = tl_value_bool(res);
        return 0;
    case TL_OP_ADD:
    case TL_OP_SUB:
    case TL_OP_MUL:
    case TL_OP_DIV:
    case TL_OP_MOD:
        return arith(e, &l, &r, a, out, err);
    case TL_OP_CONCAT:
        return concat(e, &l, &r, a, out);
    case TL_OP_BITAND:
    case TL_OP_BITOR:
    case TL_OP_BITXOR:
    case TL_OP_SHL:
    case TL_OP_SHR:
        return bitwise(e, &l, &r, out, err);
    case TL_OP_LIKE:
        return like(e, &l, &r, a, out, err);
    case TL_OP_ILIKE:
        return ilike(e, &l, &r, a, out, err);
    case TL_OP_REGEX:
    case TL_OP_IREGEX:
        if ((rv = resolve_unknown(&l, &r, a, err)) != 0)
            return rv;
        return regex(&l, &r, e->op == TL_OP_IREGEX, a, out, err);
    case TL_OP_JSON_GET:
    case TL_OP_JSON_GET_TEXT:
    case TL_OP_JSON_PATH:
    case TL_OP_JSON_PATH_TEXT:
    case TL_OP_JSON_CONTAINS:
    case TL_OP_JSON_EXISTS:
        return json_op(e->op, &l, &r, a, out, err);
    default:
        return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_INTERNAL_ERROR,
                            "unknown operator %u", (unsigned)e->op);
    }
}

static int
bool_arg(const char *what, const struct tl_value *v, struct tl_error *err)
{
    if (v->is_null || v->type == TL_TYPE_BOOL)
        return 0;
    return tl_error_set(err, TL_ETYPE, TL_SQLSTATE_DATATYPE_MISMATCH,
                        "argument of %s must be type boolean, not type %s",
                        what, tl_type_name(v->type));
}

/* AND (@is_and) or OR: a deciding operand (false for AND, true for OR)
 * wins over NULL; otherwise any NULL makes the result NULL. */
static int
eval_logic(const struct tl_expr *e, bool is_and, const struct tl_value *row,
           size_t n_cols, struct tl_arena *a, struct tl_value *out,
           struct tl_error *err)
{
    bool saw_null = false;
    struct tl_value v;
    int rv;

    for (uint32_t i = 0; i < e->n_args; i++) {
        if ((rv = eval(e->args[i], row, n_cols, a, &v, err)) != 0)
            return rv;
        if ((rv = bool_arg(is_and ? "AND" : "OR", &v, err)) != 0)
            return rv;
        if (v.is_null) {
            saw_null = true;
        } else if (v.u.b != is_and) {
            *out = tl_value_bool(!is_and);
            return 0;
        }
    }
    *out = saw_null ? tl_value_null(TL_TYPE_BOOL) : tl_value_bool(is_and);
    return 0;
}

static int
eval_in(const struct tl_expr *e, const struct tl_value *row, size_t n_cols,
        struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    struct tl_value x, v;
    bool saw_null = false, eq;
    int rv;

    if ((rv = eval(e->args[0], row, n_cols, a, &x, err)) != 0)
        return rv;
    if (x.is_null) {
        *out = tl_value_null(TL_TYPE_BOOL);
        return 0;
    }
    for (uint32_t i = 1; i < e->n_args; i++) {
        struct tl_value xi = x;
        if ((rv = eval(e->args[i], row, n_cols, a, &v, err)) != 0)
            return rv;
        if (v.is_null) {
            saw_null = true;
            continue;
        }
        if ((rv = compare(TL_OP_EQ, &xi, &v, a, &eq, err)) != 0)
            return rv;
        if (eq) {
            *out = tl_value_bool(true);
            return 0;
        }
    }
    *out = saw_null ? tl_value_null(TL_TYPE_BOOL) : tl_value_bool(false);
    return 0;
}

static int
eval_case(const struct tl_expr *e, const struct tl_value *row, size_t n_cols,
          struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    struct tl_value v;
    int rv;
    uint32_t i;

    for (i = 0; i + 1 < e->n_args; i += 2) {
        if ((rv = eval(e->args[i], row, n_cols, a, &v, err)) != 0)
            return rv;
        if ((rv = bool_arg("CASE/WHEN", &v, err)) != 0)
            return rv;
        if (!v.is_null && v.u.b)
            return eval(e->args[i + 1], row, n_cols, a, out, err);
    }
    if (i < e->n_args)
        return eval(e->args[i], row, n_cols, a, out, err);
    *out = tl_value_null(e->type);
    return 0;
}

/* GREATEST / LEAST over the non-NULL arguments. */
static int
eval_minmax(const struct tl_expr *e, const struct tl_value *row, size_t n_cols,
            struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    struct tl_value best = tl_value_null(e->type), v;
    bool better;
    int rv;

    for (uint32_t i = 0; i < e->n_args; i++) {
        if ((rv = eval(e->args[i], row, n_cols, a, &v, err)) != 0)
            return rv;
        if (v.is_null)
            continue;
        if (best.is_null) {
            best = v;
            continue;
        }
        struct tl_value b = best;
        if ((rv = compare(e->op, &v, &b, a, &better, err)) != 0)
            return rv;
        if (better)
            best = v;
    }
    *out = best;
    return 0;
}

static int
eval(const struct tl_expr *e, const struct tl_value *row, size_t n_cols,
     struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    struct tl_value v;
    int rv;

    switch (e->kind) {
    case TL_EXPR_CONST:
        *out = e->value;
        if (out->is_null && e->type != TL_TYPE_UNKNOWN)
            out->type = e->type;
        return 0;
    case TL_EXPR_COLUMN:
        if (e->column >= n_cols)
            return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_INTERNAL_ERROR,
                                "column index %u out of range",
                                (unsigned)e->column);
        *out = row[e->column];
        if (out->is_null)
            out->type = e->type;
        return 0;
    case TL_EXPR_OP:
        return eval_op(e, row, n_cols, a, out, err);
    case TL_EXPR_AND:
    case TL_EXPR_OR:
        return eval_logic(e, e->kind == TL_EXPR_AND, row, n_cols, a, out, err);
    case TL_EXPR_NOT:
        if ((rv = eval(e->args[0], row, n_cols, a, &v, err)) != 0)
            return rv;
        if ((rv = bool_arg("NOT", &v, err)) != 0)
            return rv;
        *out = v.is_null ? tl_value_null(TL_TYPE_BOOL) : tl_value_bool(!v.u.b);
        return 0;
    case TL_EXPR_IS_NULL:
    case TL_EXPR_IS_NOT_NULL:
        if ((rv = eval(e->args[0], row, n_cols, a, &v, err)) != 0)
            return rv;
        *out = tl_value_bool(v.is_null == (e->kind == TL_EXPR_IS_NULL));
        return 0;
    case TL_EXPR_IN:
        return eval_in(e, row, n_cols, a, out, err);
    case TL_EXPR_CAST:
        if ((rv = eval(e->args[0], row, n_cols, a, &v, err)) != 0)
            return rv;
        /* Cast nodes are explicit casts (assignments coerce constants in
         * the binder and check lengths on the node). */
        return tl_value_cast_explicit(&v, e->type, e->typmod, a, out, err);
    case TL_EXPR_CASE:
        return eval_case(e, row, n_cols, a, out, err);
    case TL_EXPR_COALESCE:
        for (uint32_t i = 0; i < e->n_args; i++) {
            if ((rv = eval(e->args[i], row, n_cols, a, out, err)) != 0)
                return rv;
            if (!out->is_null)
                return 0;
        }
        *out = tl_value_null(e->type);
        return 0;
    case TL_EXPR_MINMAX:
        return eval_minmax(e, row, n_cols, a, out, err);
    case TL_EXPR_FUNC:
        return eval_func(e, row, n_cols, a, out, err);
    case TL_EXPR_EXT:
        return e->ext_fn(e, row, n_cols, a, out, err);
    default:
        return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_INTERNAL_ERROR,
                            "unknown expression kind %u", (unsigned)e->kind);
    }
}

int
tl_expr_eval(const struct tl_expr *e, const struct tl_value *row, size_t n_cols,
             struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    return eval(e, row, n_cols, a, out, err);
}

int
tl_expr_eval_pred(const struct tl_expr *e, const struct tl_value *row,
                  size_t n_cols, struct tl_arena *a, int *result,
                  struct tl_error *err)
{
    struct tl_value v;
    int rv;

    if ((rv = eval(e, row, n_cols, a, &v, err)) != 0)
        return rv;
    if (v.is_null) {
        *result = 0;
        return 0;
    }
    if (v.type != TL_TYPE_BOOL)
        return tl_error_set(err, TL_ETYPE, TL_SQLSTATE_DATATYPE_MISMATCH,
                            "argument of WHERE must be type boolean, not "
                            "type %s",
                            tl_type_name(v.type));
    *result = v.u.b ? 1 : 0;
    return 0;
}

/* ----------------------------------------------------------- protobuf */

Talus__Expr *
tl_expr_to_proto(const struct tl_expr *e, struct tl_arena *a)
{
    Talus__Expr *pb = tl_arena_alloc(a, sizeof(*pb));

    assert(e->kind != TL_EXPR_EXT);
    talus__expr__init(pb);
    pb->kind = e->kind;
    pb->has_type = true;
    pb->type = e->type;
    if (e->kind == TL_EXPR_OP || e->kind == TL_EXPR_MINMAX ||
        e->kind == TL_EXPR_FUNC) {
        pb->has_op = true;
        pb->op = e->op;
    }
    if (e->kind == TL_EXPR_COLUMN) {
        pb->has_column = true;
        pb->column = e->column;
    }
    if (e->kind == TL_EXPR_CONST) {
        struct tl_buf b;
        tl_buf_init(&b);
        tl_row_encode_value(&e->value, &b);
        pb->has_value = true;
        pb->value.len = b.len;
        pb->value.data = tl_arena_alloc(a, b.len);
        memcpy(pb->value.data, b.data, b.len);
        tl_buf_close(&b);
    }
    if (e->kind == TL_EXPR_CAST) {
        pb->has_typmod = true;
        pb->typmod = e->typmod;
    }
    pb->n_args = e->n_args;
    if (e->n_args > 0) {
        pb->args = tl_arena_alloc(a, e->n_args * sizeof(*pb->args));
        for (uint32_t i = 0; i < e->n_args; i++)
            pb->args[i] = tl_expr_to_proto(e->args[i], a);
    }
    return pb;
}

static int
bad_proto(struct tl_error *err, const char *what, unsigned v)
{
    return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                        "invalid expression: %s %u", what, v);
}

/* Whether @n arguments suit node @kind / @op. */
static bool
arity_ok(uint32_t kind, uint32_t op, size_t n)
{
    switch (kind) {
    case TL_EXPR_CONST:
    case TL_EXPR_COLUMN:
        return n == 0;
    case TL_EXPR_OP:
        return n == (op == TL_OP_NEG || op == TL_OP_BITNOT ? 1u : 2u);
    case TL_EXPR_FUNC: {
        const struct tl_func_sig *sig = tl_func_by_id((uint8_t)op);
        return sig != NULL && n >= sig->min_args && n <= sig->max_args;
    }
    case TL_EXPR_CASE:
    case TL_EXPR_COALESCE:
    case TL_EXPR_MINMAX:
        return n >= 1;
    case TL_EXPR_NOT:
    case TL_EXPR_IS_NULL:
    case TL_EXPR_IS_NOT_NULL:
    case TL_EXPR_CAST:
        return n == 1;
    default: /* AND, OR, IN */
        return n >= 2;
    }
}

static int
from_proto(const Talus__Expr *pb, size_t n_cols, struct tl_arena *a, int depth,
           struct tl_expr **out, struct tl_error *err)
{
    struct tl_expr *e;
    int rv;

    if (pb == NULL)
        return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                            "invalid expression: missing node");
    if (depth > EXPR_MAX_DEPTH)
        return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                            "invalid expression: nested deeper than %d",
                            EXPR_MAX_DEPTH);
    if (pb->kind < TL_EXPR_CONST || pb->kind > TL_EXPR_FUNC)
        return bad_proto(err, "unknown kind", pb->kind);
    if (pb->type > UINT8_MAX || !tl_type_is_known((uint8_t)pb->type))
        return bad_proto(err, "unknown type", pb->type);
    if (pb->kind == TL_EXPR_OP && (pb->op < TL_OP_EQ || pb->op > TL_OP_MAX))
        return bad_proto(err, "unknown operator", pb->op);
    if (pb->kind == TL_EXPR_MINMAX && pb->op != TL_OP_LT && pb->op != TL_OP_GT)
        return bad_proto(err, "unknown operator", pb->op);
    if (pb->kind == TL_EXPR_FUNC &&
        (pb->op > UINT8_MAX || tl_func_by_id((uint8_t)pb->op) == NULL))
        return bad_proto(err, "unknown function", pb->op);
    if (!arity_ok(pb->kind, pb->op, pb->n_args))
        return bad_proto(
            err, "wrong argument count",
            (unsigned)(pb->n_args > UINT32_MAX ? UINT32_MAX : pb->n_args));

    e = alloc_node(a, (uint8_t)pb->kind, (uint8_t)pb->type);
    if (pb->kind == TL_EXPR_OP || pb->kind == TL_EXPR_MINMAX ||
        pb->kind == TL_EXPR_FUNC)
        e->op = (uint8_t)pb->op;
    if (pb->kind == TL_EXPR_CAST) {
        if (pb->type == TL_TYPE_UNKNOWN)
            return bad_proto(err, "cast to type", pb->type);
        e->typmod = pb->typmod;
        if (e->typmod < -1 ||
            (e->typmod != -1 && pb->type != TL_TYPE_VARCHAR &&
             pb->type != TL_TYPE_BPCHAR && pb->type != TL_TYPE_NUMERIC))
            return bad_proto(err, "bad typmod", (unsigned)pb->typmod);
    }
    if (pb->kind == TL_EXPR_COLUMN) {
        if (!pb->has_column || pb->column >= n_cols)
            return bad_proto(err, "column index", pb->column);
        e->column = pb->column;
    }
    if (pb->kind == TL_EXPR_CONST) {
        uint8_t *copy;

        if (!pb->has_value)
            return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                                "invalid expression: constant without value");
        /* Text constants borrow their bytes: keep them in @a. */
        copy = tl_arena_alloc(a, pb->value.len ? pb->value.len : 1);
        if (pb->value.len > 0)
            memcpy(copy, pb->value.data, pb->value.len);
        if (tl_row_decode_value(copy, pb->value.len, &e->value) != 0)
            return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                                "invalid expression: corrupt constant");
    }
    e->n_args = (uint32_t)pb->n_args;
    if (e->n_args > 0) {
        e->args = tl_arena_alloc(a, e->n_args * sizeof(*e->args));
        for (uint32_t i = 0; i < e->n_args; i++) {
            rv =
                from_proto(pb->args[i], n_cols, a, depth + 1, &e->args[i], err);
            if (rv != 0)
                return rv;
        }
    }
    *out = e;
    return 0;
}

int
tl_expr_from_proto(const Talus__Expr *pb, size_t n_cols, struct tl_arena *a,
                   struct tl_expr **out, struct tl_error *err)
{
    return from_proto(pb, n_cols, a, 1, out, err);
}

bool
tl_expr_equal(const struct tl_expr *a, const struct tl_expr *b)
{
    if (a == b)
        return true;
    if (a->kind != b->kind || a->op != b->op || a->type != b->type ||
        a->typmod != b->typmod || a->n_args != b->n_args)
        return false;
    switch (a->kind) {
    case TL_EXPR_COLUMN:
        if (a->column != b->column)
            return false;
        break;
    case TL_EXPR_CONST:
        if (a->value.is_null || b->value.is_null)
            return a->value.is_null && b->value.is_null;
        if (a->value.type != b->value.type ||
            !tl_type_comparable(a->value.type, b->value.type) ||
            tl_value_cmp(&a->value, &b->value) != 0)
            return false;
        break;
    case TL_EXPR_EXT:
        if (a->ext_fn != b->ext_fn || a->ext != b->ext)
            return false;
        break;
    default:
        break;
    }
    for (uint32_t i = 0; i < a->n_args; i++)
        if (!tl_expr_equal(a->args[i], b->args[i]))
            return false;
    return true;
}
