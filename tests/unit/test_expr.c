/* Unit tests for common/expr.c: evaluation with SQL three-valued logic and
 * the protobuf form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
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

/* Three-valued constants: 1 true, 0 false, -1 NULL. */
static struct tl_expr *
b3(struct fixture *f, int v)
{
    struct tl_value x =
        v < 0 ? tl_value_null(TL_TYPE_BOOL) : tl_value_bool(v == 1);
    return tl_expr_const(&f->a, &x);
}

static int
to3(const struct tl_value *v)
{
    assert_int_equal(v->type, TL_TYPE_BOOL);
    return v->is_null ? -1 : v->u.b ? 1 : 0;
}

static struct tl_expr *
i4(struct fixture *f, int64_t i)
{
    struct tl_value x = tl_value_int(TL_TYPE_INT4, i);
    return tl_expr_const(&f->a, &x);
}

static struct tl_expr *
i8(struct fixture *f, int64_t i)
{
    struct tl_value x = tl_value_int(TL_TYPE_INT8, i);
    return tl_expr_const(&f->a, &x);
}

static struct tl_expr *
f8(struct fixture *f, double d)
{
    struct tl_value x = tl_value_float(d);
    return tl_expr_const(&f->a, &x);
}

static struct tl_expr *
txt(struct fixture *f, uint8_t type, const char *s)
{
    struct tl_value x = tl_value_text(type, s, (uint32_t)strlen(s));
    return tl_expr_const(&f->a, &x);
}

static struct tl_expr *
null_of(struct fixture *f, uint8_t type)
{
    struct tl_value x = tl_value_null(type);
    return tl_expr_const(&f->a, &x);
}

static struct tl_expr *
node2(struct fixture *f, uint8_t kind, struct tl_expr *x, struct tl_expr *y)
{
    struct tl_expr *args[2] = {x, y};
    return tl_expr_node(&f->a, kind, TL_TYPE_BOOL, args, y ? 2 : 1);
}

static int
eval(struct fixture *f, const struct tl_expr *e, struct tl_value *out)
{
    tl_error_clear(&f->err);
    return tl_expr_eval(e, NULL, 0, &f->a, out, &f->err);
}

static void
expect_err(struct fixture *f, const struct tl_expr *e, int rv,
           const char *state, const char *msg)
{
    struct tl_value v;
    assert_int_equal(eval(f, e, &v), rv);
    assert_string_equal(f->err.sqlstate, state);
    assert_string_equal(f->err.message, msg);
}

/* AND, OR and NOT follow SQL's three-valued truth tables. */
static void
test_truth_tables(void **state)
{
    struct fixture *f = *state;
    static const int vals[3] = {1, 0, -1};
    struct tl_value v;

    for (int i = 0; i < 3; i++) {
        int x = vals[i];
        assert_int_equal(eval(f, node2(f, TL_EXPR_NOT, b3(f, x), NULL), &v), 0);
        assert_int_equal(to3(&v), x < 0 ? -1 : !x);
        for (int j = 0; j < 3; j++) {
            int y = vals[j];
            int want_and = (x == 0 || y == 0) ? 0 : (x < 0 || y < 0) ? -1 : 1;
            int want_or = (x == 1 || y == 1) ? 1 : (x < 0 || y < 0) ? -1 : 0;
            assert_int_equal(
                eval(f, node2(f, TL_EXPR_AND, b3(f, x), b3(f, y)), &v), 0);
            assert_int_equal(to3(&v), want_and);
            assert_int_equal(
                eval(f, node2(f, TL_EXPR_OR, b3(f, x), b3(f, y)), &v), 0);
            assert_int_equal(to3(&v), want_or);
        }
    }
    /* n-ary: false wins over NULL in AND, true wins over NULL in OR. */
    struct tl_expr *args[3] = {b3(f, -1), b3(f, 1), b3(f, 0)};
    assert_int_equal(
        eval(f, tl_expr_node(&f->a, TL_EXPR_AND, TL_TYPE_BOOL, args, 3), &v),
        0);
    assert_int_equal(to3(&v), 0);
    args[2] = b3(f, 1);
    assert_int_equal(
        eval(f, tl_expr_node(&f->a, TL_EXPR_AND, TL_TYPE_BOOL, args, 3), &v),
        0);
    assert_int_equal(to3(&v), -1);
    args[1] = b3(f, 0);
    args[2] = b3(f, 0);
    assert_int_equal(
        eval(f, tl_expr_node(&f->a, TL_EXPR_OR, TL_TYPE_BOOL, args, 3), &v), 0);
    assert_int_equal(to3(&v), -1);
    /* Non-boolean operands are a type error. */
    expect_err(f, node2(f, TL_EXPR_AND, b3(f, 1), i4(f, 1)), TL_ETYPE, "42804",
               "argument of AND must be type boolean, not type integer");
}

/* IS [NOT] NULL never returns NULL; comparisons with NULL are NULL. */
static void
test_null_tests(void **state)
{
    struct fixture *f = *state;
    struct tl_value v;

    assert_int_equal(
        eval(f, node2(f, TL_EXPR_IS_NULL, null_of(f, TL_TYPE_INT4), NULL), &v),
        0);
    assert_int_equal(to3(&v), 1);
    assert_int_equal(eval(f, node2(f, TL_EXPR_IS_NOT_NULL, i4(f, 1), NULL), &v),
                     0);
    assert_int_equal(to3(&v), 1);
    assert_int_equal(eval(f, node2(f, TL_EXPR_IS_NULL, i4(f, 1), NULL), &v), 0);
    assert_int_equal(to3(&v), 0);
    for (uint8_t op = TL_OP_EQ; op <= TL_OP_GE; op++) {
        assert_int_equal(eval(f,
                              tl_expr_op(&f->a, op, TL_TYPE_BOOL, i4(f, 1),
                                         null_of(f, TL_TYPE_INT4)),
                              &v),
                         0);
        assert_int_equal(to3(&v), -1);
    }
    assert_int_equal(eval(f,
                          tl_expr_op(&f->a, TL_OP_ADD, TL_TYPE_INT4,
                                     null_of(f, TL_TYPE_INT4), i4(f, 1)),
                          &v),
                     0);
    assert_true(v.is_null);
    assert_int_equal(v.type, TL_TYPE_INT4);
}

static int
eval_in(struct fixture *f, struct tl_expr *x, struct tl_expr **list, int n)
{
    struct tl_expr *args[8];
    struct tl_value v;
    args[0] = x;
    for (int i = 0; i < n; i++)
        args[i + 1] = list[i];
    assert_int_equal(eval(f,
                          tl_expr_node(&f->a, TL_EXPR_IN, TL_TYPE_BOOL, args,
                                       (uint32_t)n + 1),
                          &v),
                     0);
    return to3(&v);
}

/* x IN (...) is true on a match, else NULL if x or an element is NULL. */
static void
test_in(void **state)
{
    struct fixture *f = *state;
    struct tl_expr *l1[] = {i4(f, 1), null_of(f, TL_TYPE_INT4)};
    struct tl_expr *l2[] = {i4(f, 1), i8(f, 3)};
    struct tl_expr *l3[] = {f8(f, 2.0), i4(f, 5)};
    struct tl_expr *l4[] = {txt(f, TL_TYPE_UNKNOWN, "7"),
                            txt(f, TL_TYPE_UNKNOWN, "8")};

    assert_int_equal(eval_in(f, i4(f, 1), l1, 2), 1);
    assert_int_equal(eval_in(f, i4(f, 2), l1, 2), -1);
    assert_int_equal(eval_in(f, i4(f, 2), l2, 2), 0);
    assert_int_equal(eval_in(f, i8(f, 3), l2, 2), 1);
    assert_int_equal(eval_in(f, null_of(f, TL_TYPE_INT4), l2, 2), -1);
    assert_int_equal(eval_in(f, i4(f, 2), l3, 2), 1);
    assert_int_equal(eval_in(f, i8(f, 8), l4, 2), 1);
    assert_int_equal(eval_in(f, i8(f, 9), l4, 2), 0);
}

/* Integer arithmetic overflows at the result type's range with 22003. */
static void
test_int_overflow(void **state)
{
    struct fixture *f = *state;
    struct tl_value v;

    expect_err(
        f,
        tl_expr_op(&f->a, TL_OP_ADD, TL_TYPE_INT4, i4(f, INT32_MAX), i4(f, 1)),
        TL_EOVERFLOW, "22003", "integer out of range");
    expect_err(
        f, tl_expr_op(&f->a, TL_OP_MUL, TL_TYPE_INT2, i4(f, 200), i4(f, 200)),
        TL_EOVERFLOW, "22003", "smallint out of range");
    expect_err(
        f,
        tl_expr_op(&f->a, TL_OP_ADD, TL_TYPE_INT8, i8(f, INT64_MAX), i8(f, 1)),
        TL_EOVERFLOW, "22003", "bigint out of range");
    expect_err(
        f,
        tl_expr_op(&f->a, TL_OP_MUL, TL_TYPE_INT8, i8(f, INT64_MAX), i8(f, 2)),
        TL_EOVERFLOW, "22003", "bigint out of range");
    expect_err(
        f,
        tl_expr_op(&f->a, TL_OP_SUB, TL_TYPE_INT8, i8(f, INT64_MIN), i8(f, 1)),
        TL_EOVERFLOW, "22003", "bigint out of range");
    expect_err(
        f,
        tl_expr_op(&f->a, TL_OP_DIV, TL_TYPE_INT8, i8(f, INT64_MIN), i8(f, -1)),
        TL_EOVERFLOW, "22003", "bigint out of range");
    expect_err(
        f, tl_expr_op(&f->a, TL_OP_NEG, TL_TYPE_INT4, i4(f, INT32_MIN), NULL),
        TL_EOVERFLOW, "22003", "integer out of range");
    expect_err(
        f, tl_expr_op(&f->a, TL_OP_NEG, TL_TYPE_INT8, i8(f, INT64_MIN), NULL),
        TL_EOVERFLOW, "22003", "bigint out of range");

    assert_int_equal(eval(f,
                          tl_expr_op(&f->a, TL_OP_MOD, TL_TYPE_INT8,
                                     i8(f, INT64_MIN), i8(f, -1)),
                          &v),
                     0);
    assert_true(v.u.i == 0);
    assert_int_equal(
        eval(f, tl_expr_op(&f->a, TL_OP_DIV, TL_TYPE_INT4, i4(f, -7), i4(f, 2)),
             &v),
        0);
    assert_int_equal(v.u.i, -3);
    assert_int_equal(v.type, TL_TYPE_INT4);
    assert_int_equal(
        eval(f, tl_expr_op(&f->a, TL_OP_MOD, TL_TYPE_INT4, i4(f, -7), i4(f, 2)),
             &v),
        0);
    assert_int_equal(v.u.i, -1);
    assert_int_equal(eval(f,
                          tl_expr_op(&f->a, TL_OP_ADD, TL_TYPE_INT8,
                                     i4(f, INT32_MAX), i8(f, 1)),
                          &v),
                     0);
    assert_true(v.u.i == (int64_t)INT32_MAX + 1);
    assert_int_equal(
        eval(f, tl_expr_op(&f->a, TL_OP_NEG, TL_TYPE_INT4, i4(f, 5), NULL), &v),
        0);
    assert_int_equal(v.u.i, -5);
}

/* Division or modulo by zero is 22012, for integers and floats. */
static void
test_div_zero(void **state)
{
    struct fixture *f = *state;

    expect_err(f,
               tl_expr_op(&f->a, TL_OP_DIV, TL_TYPE_INT4, i4(f, 5), i4(f, 0)),
               TL_EDIVZERO, "22012", "division by zero");
    expect_err(f,
               tl_expr_op(&f->a, TL_OP_MOD, TL_TYPE_INT4, i4(f, 5), i4(f, 0)),
               TL_EDIVZERO, "22012", "division by zero");
    expect_err(
        f, tl_expr_op(&f->a, TL_OP_DIV, TL_TYPE_FLOAT8, f8(f, 1.5), f8(f, 0.0)),
        TL_EDIVZERO, "22012", "division by zero");
    expect_err(
        f, tl_expr_op(&f->a, TL_OP_DIV, TL_TYPE_FLOAT8, f8(f, 1.5), i4(f, 0)),
        TL_EDIVZERO, "22012", "division by zero");
}

/* Float arithmetic: mixed operands become float8, overflow is 22003. */
static void
test_float_arith(void **state)
{
    struct fixture *f = *state;
    struct tl_value v;

    assert_int_equal(
        eval(f,
             tl_expr_op(&f->a, TL_OP_ADD, TL_TYPE_FLOAT8, i4(f, 1), f8(f, 0.5)),
             &v),
        0);
    assert_int_equal(v.type, TL_TYPE_FLOAT8);
    assert_true(v.u.f == 1.5);
    assert_int_equal(
        eval(f,
             tl_expr_op(&f->a, TL_OP_DIV, TL_TYPE_FLOAT8, f8(f, 1.0), i8(f, 4)),
             &v),
        0);
    assert_true(v.u.f == 0.25);
    expect_err(
        f,
        tl_expr_op(&f->a, TL_OP_MUL, TL_TYPE_FLOAT8, f8(f, 1e308), f8(f, 10)),
        TL_EOVERFLOW, "22003", "value out of range: overflow");
    assert_int_equal(eval(f,
                          tl_expr_op(&f->a, TL_OP_ADD, TL_TYPE_FLOAT8,
                                     f8(f, INFINITY), f8(f, 1)),
                          &v),
                     0);
    assert_true(isinf(v.u.f));
    expect_err(
        f, tl_expr_op(&f->a, TL_OP_MOD, TL_TYPE_FLOAT8, f8(f, 5.5), i4(f, 2)),
        TL_ETYPE, "42883",
        "operator does not exist: double precision % integer");
    expect_err(f,
               tl_expr_op(&f->a, TL_OP_ADD, TL_TYPE_INT4,
                          txt(f, TL_TYPE_TEXT, "a"), i4(f, 2)),
               TL_ETYPE, "42883", "operator does not exist: text + integer");
}

/* Comparisons: across numeric widths, untyped literals cast to the other
 * side, incompatible families rejected with 42883. */
static void
test_compare(void **state)
{
    struct fixture *f = *state;
    struct tl_value v;
    struct tl_value row[2] = {tl_value_int(TL_TYPE_INT4, 5),
                              tl_value_text(TL_TYPE_TEXT, "abc", 3)};
    struct tl_expr *e;

    e = tl_expr_op(&f->a, TL_OP_LT, TL_TYPE_BOOL, i4(f, 1), f8(f, 1.5));
    assert_int_equal(eval(f, e, &v), 0);
    assert_int_equal(to3(&v), 1);
    e = tl_expr_op(&f->a, TL_OP_EQ, TL_TYPE_BOOL,
                   tl_expr_column(&f->a, 0, TL_TYPE_INT4),
                   txt(f, TL_TYPE_UNKNOWN, " 5"));
    assert_int_equal(tl_expr_eval(e, row, 2, &f->a, &v, &f->err), 0);
    assert_int_equal(to3(&v), 1);
    e = tl_expr_op(&f->a, TL_OP_GE, TL_TYPE_BOOL,
                   tl_expr_column(&f->a, 1, TL_TYPE_TEXT),
                   txt(f, TL_TYPE_UNKNOWN, "abd"));
    assert_int_equal(tl_expr_eval(e, row, 2, &f->a, &v, &f->err), 0);
    assert_int_equal(to3(&v), 0);
    e = tl_expr_op(&f->a, TL_OP_NE, TL_TYPE_BOOL, txt(f, TL_TYPE_UNKNOWN, "x"),
                   txt(f, TL_TYPE_UNKNOWN, "y"));
    assert_int_equal(eval(f, e, &v), 0);
    assert_int_equal(to3(&v), 1);

    expect_err(f, tl_expr_op(&f->a, TL_OP_EQ, TL_TYPE_BOOL, i8(f, 1), b3(f, 1)),
               TL_ETYPE, "42883", "operator does not exist: bigint = boolean");
    expect_err(f,
               tl_expr_op(&f->a, TL_OP_EQ, TL_TYPE_BOOL, i4(f, 1),
                          txt(f, TL_TYPE_UNKNOWN, "abc")),
               TL_ETYPE, "22P02",
               "invalid input syntax for type integer: \"abc\"");
    expect_err(f,
               tl_expr_op(&f->a, TL_OP_LT, TL_TYPE_BOOL,
                          txt(f, TL_TYPE_TEXT, "1"), i4(f, 1)),
               TL_ETYPE, "42883", "operator does not exist: text < integer");
}

/* || converts operands to text; NULL in, NULL out. */
static void
test_concat(void **state)
{
    struct fixture *f = *state;
    struct tl_value v;

    assert_int_equal(eval(f,
                          tl_expr_op(&f->a, TL_OP_CONCAT, TL_TYPE_TEXT,
                                     txt(f, TL_TYPE_TEXT, "ab"), i4(f, -5)),
                          &v),
                     0);
    assert_int_equal(v.type, TL_TYPE_TEXT);
    assert_int_equal(v.u.s.len, 4);
    assert_memory_equal(v.u.s.p, "ab-5", 4);
    assert_int_equal(eval(f,
                          tl_expr_op(&f->a, TL_OP_CONCAT, TL_TYPE_TEXT,
                                     f8(f, 0.5), txt(f, TL_TYPE_UNKNOWN, "")),
                          &v),
                     0);
    assert_int_equal(v.u.s.len, 3);
    assert_memory_equal(v.u.s.p, "0.5", 3);
    assert_int_equal(
        eval(f,
             tl_expr_op(&f->a, TL_OP_CONCAT, TL_TYPE_TEXT,
                        txt(f, TL_TYPE_TEXT, "ab"), null_of(f, TL_TYPE_TEXT)),
             &v),
        0);
    assert_true(v.is_null);
}

/* character(n) in expressions, as PostgreSQL 15: 'a'::char(3) =
 * 'a'::char(5) and = 'a ' (unknown, read as bpchar) are true, < 'b' true;
 * against text 'a ' false (compared as text); || drops the padding:
 * 'ab'::char(4) || '|' is "ab|". */
static void
test_bpchar(void **state)
{
    struct fixture *f = *state;
    struct tl_value v;
    struct tl_expr *e;

    e = tl_expr_op(&f->a, TL_OP_EQ, TL_TYPE_BOOL, txt(f, TL_TYPE_BPCHAR, "a  "),
                   txt(f, TL_TYPE_BPCHAR, "a    "));
    assert_int_equal(eval(f, e, &v), 0);
    assert_int_equal(to3(&v), 1);
    e = tl_expr_op(&f->a, TL_OP_EQ, TL_TYPE_BOOL, txt(f, TL_TYPE_BPCHAR, "a  "),
                   txt(f, TL_TYPE_UNKNOWN, "a "));
    assert_int_equal(eval(f, e, &v), 0);
    assert_int_equal(to3(&v), 1);
    e = tl_expr_op(&f->a, TL_OP_LT, TL_TYPE_BOOL, txt(f, TL_TYPE_BPCHAR, "a  "),
                   txt(f, TL_TYPE_BPCHAR, "b"));
    assert_int_equal(eval(f, e, &v), 0);
    assert_int_equal(to3(&v), 1);
    e = tl_expr_op(&f->a, TL_OP_EQ, TL_TYPE_BOOL, txt(f, TL_TYPE_BPCHAR, "a  "),
                   txt(f, TL_TYPE_TEXT, "a "));
    assert_int_equal(eval(f, e, &v), 0);
    assert_int_equal(to3(&v), 0);
    e = tl_expr_op(&f->a, TL_OP_CONCAT, TL_TYPE_TEXT,
                   txt(f, TL_TYPE_BPCHAR, "ab  "), txt(f, TL_TYPE_TEXT, "|"));
    assert_int_equal(eval(f, e, &v), 0);
    assert_int_equal(v.type, TL_TYPE_TEXT);
    assert_int_equal(v.u.s.len, 3);
    assert_memory_equal(v.u.s.p, "ab|", 3);
}

/* real arithmetic as PostgreSQL 15: real op real rounds to real
 * (1.1::real + 1.1::real is 2.2 as a real; 3e38::real * 10::real is 22003
 * "value out of range: overflow"; 1::real / 0::real 22012), and with a
 * double precision operand the result is double (1.1::real * 1.1::float8
 * is 1.2100000262260437). */
static void
test_float4_arith(void **state)
{
    struct fixture *f = *state;
    struct tl_value v, r1 = tl_value_float4(1.1f);
    struct tl_expr *x = tl_expr_const(&f->a, &r1), *e;

    e = tl_expr_op(&f->a, TL_OP_ADD, TL_TYPE_FLOAT4, x, x);
    assert_int_equal(eval(f, e, &v), 0);
    assert_int_equal(v.type, TL_TYPE_FLOAT4);
    assert_true(v.u.f == (double)(1.1f + 1.1f));
    e = tl_expr_op(&f->a, TL_OP_MUL, TL_TYPE_FLOAT8, x, f8(f, 1.1));
    assert_int_equal(eval(f, e, &v), 0);
    assert_int_equal(v.type, TL_TYPE_FLOAT8);
    assert_true(v.u.f == (double)1.1f * 1.1);
    struct tl_value big = tl_value_float4(3e38f), ten = tl_value_float4(10);
    e = tl_expr_op(&f->a, TL_OP_MUL, TL_TYPE_FLOAT4, tl_expr_const(&f->a, &big),
                   tl_expr_const(&f->a, &ten));
    expect_err(f, e, TL_EOVERFLOW, "22003", "value out of range: overflow");
    struct tl_value zero = tl_value_float4(0);
    e = tl_expr_op(&f->a, TL_OP_DIV, TL_TYPE_FLOAT4, tl_expr_const(&f->a, &ten),
                   tl_expr_const(&f->a, &zero));
    expect_err(f, e, TL_EDIVZERO, "22012", "division by zero");
    e = tl_expr_node(&f->a, TL_EXPR_OP, TL_TYPE_FLOAT4, &x, 1);
    e->op = TL_OP_NEG;
    assert_int_equal(eval(f, e, &v), 0);
    assert_int_equal(v.type, TL_TYPE_FLOAT4);
    assert_true(v.u.f == -(double)1.1f);
}

/* LIKE: % any run, _ one byte, backslash escapes; bytewise. */
static void
test_like(void **state)
{
    static const struct {
        const char *s, *p;
        int want;
    } cases[] = {
        {"abc", "abc", 1},     {"abc", "a%", 1},
        {"abc", "%c", 1},      {"abc", "%b%", 1},
        {"abc", "a_c", 1},     {"abc", "___", 1},
        {"abc", "__", 0},      {"abc", "%", 1},
        {"", "%", 1},          {"", "_", 0},
        {"", "", 1},           {"abc", "", 0},
        {"a%c", "a\\%c", 1},   {"abc", "a\\%c", 0},
        {"a_c", "a\\_c", 1},   {"abc", "a\\_c", 0},
        {"a\\c", "a\\\\c", 1}, {"aaab", "%a%b", 1},
        {"abab", "%ab", 1},    {"abcd", "a%d%", 1},
        {"ABC", "abc", 0},     {"mississippi", "%issip%", 1},
        {"xyz", "%%%z", 1},    {"ab", "a%%b%", 1},
        {"ab", "a%_%_", 0},    {"\xc3\xa9", "__", 0},
        {"\xc3\xa9", "_", 1},  {"x\xe2\x82\xacy", "%_y", 1},
    };
    struct fixture *f = *state;
    struct tl_value v;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tl_expr *e = tl_expr_op(&f->a, TL_OP_LIKE, TL_TYPE_BOOL,
                                       txt(f, TL_TYPE_TEXT, cases[i].s),
                                       txt(f, TL_TYPE_UNKNOWN, cases[i].p));
        assert_int_equal(eval(f, e, &v), 0);
        if (to3(&v) != cases[i].want)
            fail_msg("'%s' LIKE '%s' gave %d", cases[i].s, cases[i].p, to3(&v));
    }
    expect_err(
        f,
        tl_expr_op(&f->a, TL_OP_LIKE, TL_TYPE_BOOL, txt(f, TL_TYPE_TEXT, "a"),
                   txt(f, TL_TYPE_TEXT, "a\\")),
        TL_ETYPE, "22025", "LIKE pattern must not end with escape character");
    expect_err(f,
               tl_expr_op(&f->a, TL_OP_LIKE, TL_TYPE_BOOL, i4(f, 1),
                          txt(f, TL_TYPE_TEXT, "1")),
               TL_ETYPE, "42883", "operator does not exist: integer ~~ text");
}

/* CAST nodes convert as explicit casts (tl_value_cast_explicit: a longer
 * value is cut to varchar(n)/char(n), a shorter char(n) padded); WHERE
 * keeps only true. */
static void
test_cast_and_pred(void **state)
{
    struct fixture *f = *state;
    struct tl_value v;
    struct tl_expr *args[1];
    int res;

    args[0] = txt(f, TL_TYPE_UNKNOWN, "42");
    struct tl_expr *c =
        tl_expr_node(&f->a, TL_EXPR_CAST, TL_TYPE_INT8, args, 1);
    assert_int_equal(eval(f, c, &v), 0);
    assert_int_equal(v.type, TL_TYPE_INT8);
    assert_int_equal(v.u.i, 42);
    args[0] = f8(f, 3.5);
    c = tl_expr_node(&f->a, TL_EXPR_CAST, TL_TYPE_INT4, args, 1);
    assert_int_equal(eval(f, c, &v), 0);
    assert_int_equal(v.u.i, 4);
    args[0] = txt(f, TL_TYPE_TEXT, "abcd");
    c = tl_expr_node(&f->a, TL_EXPR_CAST, TL_TYPE_VARCHAR, args, 1);
    c->typmod = 3;
    /* An explicit cast cuts to the length: 'abcd'::text::varchar(3). */
    assert_int_equal(eval(f, c, &v), 0);
    assert_int_equal(v.u.s.len, 3);
    assert_memory_equal(v.u.s.p, "abc", 3);
    c->type = TL_TYPE_BPCHAR;
    c->typmod = 6;
    assert_int_equal(eval(f, c, &v), 0);
    assert_int_equal(v.type, TL_TYPE_BPCHAR);
    assert_int_equal(v.u.s.len, 6);
    assert_memory_equal(v.u.s.p, "abcd  ", 6);

    assert_int_equal(tl_expr_eval_pred(b3(f, -1), NULL, 0, &f->a, &res, NULL),
                     0);
    assert_int_equal(res, 0);
    assert_int_equal(tl_expr_eval_pred(b3(f, 1), NULL, 0, &f->a, &res, NULL),
                     0);
    assert_int_equal(res, 1);
    assert_int_equal(tl_expr_eval_pred(i4(f, 1), NULL, 0, &f->a, &res, &f->err),
                     TL_ETYPE);
    assert_string_equal(f->err.sqlstate, "42804");
}

/* Pack @e, unpack it and rebuild it; returns from_proto's result. */
static int
wire_round_trip(struct fixture *f, const struct tl_expr *e, size_t n_cols,
                struct tl_expr **out)
{
    Talus__Expr *pb = tl_expr_to_proto(e, &f->a);
    size_t n = talus__expr__get_packed_size(pb);
    uint8_t *buf = tl_arena_alloc(&f->a, n ? n : 1);
    talus__expr__pack(pb, buf);
    Talus__Expr *pb2 = talus__expr__unpack(tl_arena_protobuf(&f->a), n, buf);
    assert_non_null(pb2);
    tl_error_clear(&f->err);
    return tl_expr_from_proto(pb2, n_cols, &f->a, out, &f->err);
}

static void
assert_tree_equal(const struct tl_expr *a, const struct tl_expr *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->op, b->op);
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->typmod, b->typmod);
    assert_int_equal(a->column, b->column);
    assert_int_equal(a->n_args, b->n_args);
    if (a->kind == TL_EXPR_CONST) {
        assert_int_equal(a->value.type, b->value.type);
        assert_int_equal(a->value.is_null, b->value.is_null);
        if (!a->value.is_null)
            assert_int_equal(tl_value_cmp(&a->value, &b->value), 0);
    }
    for (uint32_t i = 0; i < a->n_args; i++)
        assert_tree_equal(a->args[i], b->args[i]);
}

/* A tree using every kind survives the protobuf round trip unchanged. */
static void
test_proto_round_trip(void **state)
{
    struct fixture *f = *state;
    struct tl_value row[2] = {tl_value_int(TL_TYPE_INT8, 10),
                              tl_value_text(TL_TYPE_VARCHAR, "hello", 5)};
    struct tl_expr *e, *back, *args[4];
    struct tl_value v1, v2;

    /* (c0 * 2 + -c0 > 5 OR c1 LIKE 'h%') AND c0 IN (10, NULL)
     *   AND c1 IS NOT NULL AND NOT (c0::text || 'x' = '10y') */
    struct tl_expr *c0 = tl_expr_column(&f->a, 0, TL_TYPE_INT8);
    struct tl_expr *c1 = tl_expr_column(&f->a, 1, TL_TYPE_VARCHAR);
    struct tl_expr *arith =
        tl_expr_op(&f->a, TL_OP_ADD, TL_TYPE_INT8,
                   tl_expr_op(&f->a, TL_OP_MUL, TL_TYPE_INT8, c0, i8(f, 2)),
                   tl_expr_op(&f->a, TL_OP_NEG, TL_TYPE_INT8, c0, NULL));
    struct tl_expr *or_e =
        node2(f, TL_EXPR_OR,
              tl_expr_op(&f->a, TL_OP_GT, TL_TYPE_BOOL, arith, i4(f, 5)),
              tl_expr_op(&f->a, TL_OP_LIKE, TL_TYPE_BOOL, c1,
                         txt(f, TL_TYPE_UNKNOWN, "h%")));
    args[0] = c0;
    args[1] = i8(f, 10);
    args[2] = null_of(f, TL_TYPE_INT8);
    struct tl_expr *in = tl_expr_node(&f->a, TL_EXPR_IN, TL_TYPE_BOOL, args, 3);
    args[0] = c0;
    struct tl_expr *cast =
        tl_expr_node(&f->a, TL_EXPR_CAST, TL_TYPE_VARCHAR, args, 1);
    cast->typmod = 8;
    struct tl_expr *not_e =
        node2(f, TL_EXPR_NOT,
              tl_expr_op(&f->a, TL_OP_EQ, TL_TYPE_BOOL,
                         tl_expr_op(&f->a, TL_OP_CONCAT, TL_TYPE_TEXT, cast,
                                    txt(f, TL_TYPE_TEXT, "x")),
                         txt(f, TL_TYPE_UNKNOWN, "10y")),
              NULL);
    args[0] = or_e;
    args[1] = in;
    args[2] = node2(f, TL_EXPR_IS_NOT_NULL, c1, NULL);
    args[3] = not_e;
    e = tl_expr_node(&f->a, TL_EXPR_AND, TL_TYPE_BOOL, args, 4);

    assert_int_equal(wire_round_trip(f, e, 2, &back), 0);
    assert_tree_equal(e, back);
    assert_int_equal(tl_expr_eval(e, row, 2, &f->a, &v1, &f->err), 0);
    assert_int_equal(tl_expr_eval(back, row, 2, &f->a, &v2, &f->err), 0);
    assert_int_equal(to3(&v1), 1);
    assert_int_equal(to3(&v2), 1);

    /* Column indexes are checked against the receiver's column count. */
    assert_int_equal(wire_round_trip(f, e, 1, &back), TL_EPROTO);
    assert_string_equal(f->err.sqlstate, "08P01");
}

static Talus__Expr *
pb_node(struct fixture *f, uint32_t kind, uint32_t n_args)
{
    Talus__Expr *pb = tl_arena_alloc(&f->a, sizeof(*pb));
    talus__expr__init(pb);
    pb->kind = kind;
    pb->has_type = true;
    pb->type = TL_TYPE_BOOL;
    pb->n_args = n_args;
    pb->args = tl_arena_alloc(&f->a, (n_args ? n_args : 1) * sizeof(*pb->args));
    for (uint32_t i = 0; i < n_args; i++)
        pb->args[i] = tl_expr_to_proto(b3(f, 1), &f->a);
    return pb;
}

static void
expect_proto_reject(struct fixture *f, const Talus__Expr *pb)
{
    struct tl_expr *out = NULL;
    tl_error_clear(&f->err);
    assert_int_equal(tl_expr_from_proto(pb, 4, &f->a, &out, &f->err),
                     TL_EPROTO);
    assert_string_equal(f->err.sqlstate, "08P01");
    assert_true(f->err.message[0] != '\0');
}

static int
ext_answer(const struct tl_expr *e, const struct tl_value *row, size_t n_cols,
           struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)row, (void)n_cols, (void)a, (void)err;
    *out = tl_value_int(TL_TYPE_INT4, *(const int *)e->ext);
    return 0;
}

/* CASE, COALESCE, GREATEST/LEAST, IS [NOT] DISTINCT FROM, ILIKE, regular
 * expressions and router-evaluated nodes; the shippable ones survive the
 * protobuf form. */
static void
test_conditionals(void **state)
{
    struct fixture *f = *state;
    struct tl_value v;

    /* CASE WHEN NULL THEN 1 WHEN false THEN 2 WHEN true THEN 3 END */
    struct tl_expr *w[6] = {b3(f, -1), i4(f, 1), b3(f, 0),
                            i4(f, 2),  b3(f, 1), i4(f, 3)};
    struct tl_expr *c = tl_expr_node(&f->a, TL_EXPR_CASE, TL_TYPE_INT4, w, 6);
    assert_int_equal(eval(f, c, &v), 0);
    assert_int_equal(v.u.i, 3);
    /* No branch true and no ELSE: NULL of the result type. */
    struct tl_expr *w2[2] = {b3(f, 0), i4(f, 1)};
    c = tl_expr_node(&f->a, TL_EXPR_CASE, TL_TYPE_INT4, w2, 2);
    assert_int_equal(eval(f, c, &v), 0);
    assert_true(v.is_null);
    assert_int_equal(v.type, TL_TYPE_INT4);
    /* With ELSE. */
    struct tl_expr *w3[3] = {b3(f, 0), i4(f, 1), i4(f, 9)};
    c = tl_expr_node(&f->a, TL_EXPR_CASE, TL_TYPE_INT4, w3, 3);
    assert_int_equal(eval(f, c, &v), 0);
    assert_int_equal(v.u.i, 9);
    /* A non-boolean WHEN is refused. */
    struct tl_expr *w4[2] = {i4(f, 1), i4(f, 1)};
    expect_err(f, tl_expr_node(&f->a, TL_EXPR_CASE, TL_TYPE_INT4, w4, 2),
               TL_ETYPE, "42804",
               "argument of CASE/WHEN must be type boolean, not type integer");

    struct tl_expr *co[3] = {null_of(f, TL_TYPE_INT4), i4(f, 7), i4(f, 8)};
    assert_int_equal(
        eval(f, tl_expr_node(&f->a, TL_EXPR_COALESCE, TL_TYPE_INT4, co, 3), &v),
        0);
    assert_int_equal(v.u.i, 7);

    struct tl_expr *mm[3] = {i4(f, 4), null_of(f, TL_TYPE_INT4), i4(f, 9)};
    struct tl_expr *g =
        tl_expr_node(&f->a, TL_EXPR_MINMAX, TL_TYPE_INT4, mm, 3);
    g->op = TL_OP_GT;
    assert_int_equal(eval(f, g, &v), 0);
    assert_int_equal(v.u.i, 9);
    g->op = TL_OP_LT;
    assert_int_equal(eval(f, g, &v), 0);
    assert_int_equal(v.u.i, 4);

    /* NULL IS DISTINCT FROM NULL is false; 1 IS DISTINCT FROM NULL true. */
    struct tl_expr *d =
        tl_expr_op(&f->a, TL_OP_DISTINCT, TL_TYPE_BOOL,
                   null_of(f, TL_TYPE_INT4), null_of(f, TL_TYPE_INT4));
    assert_int_equal(eval(f, d, &v), 0);
    assert_int_equal(to3(&v), 0);
    d = tl_expr_op(&f->a, TL_OP_DISTINCT, TL_TYPE_BOOL, i4(f, 1),
                   null_of(f, TL_TYPE_INT4));
    assert_int_equal(eval(f, d, &v), 0);
    assert_int_equal(to3(&v), 1);
    d = tl_expr_op(&f->a, TL_OP_NOT_DISTINCT, TL_TYPE_BOOL, i4(f, 2), i4(f, 2));
    assert_int_equal(eval(f, d, &v), 0);
    assert_int_equal(to3(&v), 1);

    struct tl_expr *il =
        tl_expr_op(&f->a, TL_OP_ILIKE, TL_TYPE_BOOL,
                   txt(f, TL_TYPE_TEXT, "Hello"), txt(f, TL_TYPE_TEXT, "h%O"));
    assert_int_equal(eval(f, il, &v), 0);
    assert_int_equal(to3(&v), 1);
    struct tl_expr *re = tl_expr_op(&f->a, TL_OP_REGEX, TL_TYPE_BOOL,
                                    txt(f, TL_TYPE_TEXT, "pg_toast_1"),
                                    txt(f, TL_TYPE_TEXT, "^pg_toast"));
    assert_int_equal(eval(f, re, &v), 0);
    assert_int_equal(to3(&v), 1);
    re = tl_expr_op(&f->a, TL_OP_REGEX, TL_TYPE_BOOL, txt(f, TL_TYPE_TEXT, "T"),
                    txt(f, TL_TYPE_TEXT, "^(t)$"));
    assert_int_equal(eval(f, re, &v), 0);
    assert_int_equal(to3(&v), 0);
    re->op = TL_OP_IREGEX;
    assert_int_equal(eval(f, re, &v), 0);
    assert_int_equal(to3(&v), 1);
    re = tl_expr_op(&f->a, TL_OP_REGEX, TL_TYPE_BOOL, txt(f, TL_TYPE_TEXT, "x"),
                    txt(f, TL_TYPE_TEXT, "("));
    assert_int_equal(eval(f, re, &v), TL_EINVAL);
    assert_string_equal(f->err.sqlstate, "2201B");

    /* Shippable kinds round-trip; a tree with a router node is not
     * portable. */
    struct tl_expr *back;
    assert_true(tl_expr_is_portable(g));
    assert_int_equal(wire_round_trip(f, g, 0, &back), 0);
    assert_int_equal(back->kind, TL_EXPR_MINMAX);
    assert_int_equal(back->op, TL_OP_LT);
    assert_int_equal(eval(f, back, &v), 0);
    assert_int_equal(v.u.i, 4);
    c = tl_expr_node(&f->a, TL_EXPR_CASE, TL_TYPE_INT4, w3, 3);
    assert_int_equal(wire_round_trip(f, c, 0, &back), 0);
    assert_int_equal(eval(f, back, &v), 0);
    assert_int_equal(v.u.i, 9);
    /* A scalar function and a bit operator survive the wire too. */
    struct tl_expr *fa[1] = {txt(f, TL_TYPE_TEXT, "AbC")};
    struct tl_expr *fn = tl_expr_node(&f->a, TL_EXPR_FUNC, TL_TYPE_TEXT, fa, 1);
    fn->op = TL_FUNC_LOWER;
    assert_int_equal(wire_round_trip(f, fn, 0, &back), 0);
    assert_int_equal(eval(f, back, &v), 0);
    assert_int_equal(v.u.s.len, 3);
    assert_memory_equal(v.u.s.p, "abc", 3);
    struct tl_expr *band =
        tl_expr_op(&f->a, TL_OP_BITAND, TL_TYPE_INT4, i4(f, 6), i4(f, 3));
    assert_int_equal(wire_round_trip(f, band, 0, &back), 0);
    assert_int_equal(eval(f, back, &v), 0);
    assert_int_equal(v.u.i, 2);
    static const int answer = 42;
    struct tl_expr *x =
        tl_expr_ext(&f->a, TL_TYPE_INT4, ext_answer, (void *)&answer, NULL, 0);
    struct tl_expr *sum =
        tl_expr_op(&f->a, TL_OP_ADD, TL_TYPE_INT4, x, i4(f, 1));
    assert_false(tl_expr_is_portable(sum));
    assert_int_equal(eval(f, sum, &v), 0);
    assert_int_equal(v.u.i, 43);
}

/* Malformed trees from the network are rejected with 08P01. */
static void
test_proto_malformed(void **state)
{
    struct fixture *f = *state;
    struct tl_expr *out;
    Talus__Expr *pb;

    expect_proto_reject(f, pb_node(f, 0, 0));
    expect_proto_reject(f, pb_node(f, TL_EXPR_FUNC + 1, 0));
    expect_proto_reject(f, pb_node(f, TL_EXPR_FUNC, 1)); /* function 0 */
    /* Router-only nodes never come from the network. */
    expect_proto_reject(f, pb_node(f, TL_EXPR_EXT, 1));
    expect_proto_reject(f, pb_node(f, TL_EXPR_CASE, 0));
    pb = pb_node(f, TL_EXPR_MINMAX, 2);
    pb->has_op = true;
    pb->op = TL_OP_EQ;
    expect_proto_reject(f, pb);
    pb = pb_node(f, TL_EXPR_OP, 2);
    pb->has_op = true;
    pb->op = TL_OP_MAX + 1;
    expect_proto_reject(f, pb);
    pb->op = 0;
    expect_proto_reject(f, pb);
    pb->op = TL_OP_NEG;
    expect_proto_reject(f, pb);
    pb = pb_node(f, TL_EXPR_OP, 1);
    pb->has_op = true;
    pb->op = TL_OP_ADD;
    expect_proto_reject(f, pb);
    pb = pb_node(f, TL_EXPR_OP, 3);
    pb->has_op = true;
    pb->op = TL_OP_EQ;
    expect_proto_reject(f, pb);
    expect_proto_reject(f, pb_node(f, TL_EXPR_NOT, 2));
    expect_proto_reject(f, pb_node(f, TL_EXPR_NOT, 0));
    expect_proto_reject(f, pb_node(f, TL_EXPR_IS_NULL, 0));
    expect_proto_reject(f, pb_node(f, TL_EXPR_IS_NOT_NULL, 2));
    expect_proto_reject(f, pb_node(f, TL_EXPR_CAST, 2));
    expect_proto_reject(f, pb_node(f, TL_EXPR_AND, 1));
    expect_proto_reject(f, pb_node(f, TL_EXPR_OR, 0));
    expect_proto_reject(f, pb_node(f, TL_EXPR_IN, 1));
    expect_proto_reject(f, pb_node(f, TL_EXPR_CONST, 1));

    pb = pb_node(f, TL_EXPR_COLUMN, 0);
    pb->has_column = true;
    pb->column = 4;
    expect_proto_reject(f, pb);
    pb->column = 3;
    assert_int_equal(tl_expr_from_proto(pb, 4, &f->a, &out, &f->err), 0);
    pb->has_column = false;
    expect_proto_reject(f, pb);

    pb = pb_node(f, TL_EXPR_AND, 2);
    pb->type = 99;
    expect_proto_reject(f, pb);

    pb = pb_node(f, TL_EXPR_CONST, 0);
    expect_proto_reject(f, pb); /* no value */
    pb->has_value = true;
    pb->value.data = (uint8_t *)"\x01\x00\x01\x06\x09zz";
    pb->value.len = 7;
    expect_proto_reject(f, pb);
    pb->value.data = (uint8_t *)"\x01\x00\x02\x01\x01\x01\x01";
    expect_proto_reject(f, pb);
    pb->value.data = (uint8_t *)"\x01\x00\x01\x06\x02zz";
    assert_int_equal(tl_expr_from_proto(pb, 4, &f->a, &out, &f->err), 0);
    assert_int_equal(out->value.type, TL_TYPE_TEXT);
    assert_int_equal(out->value.u.s.len, 2);

    /* A NULL argument pointer (hand-built) is refused, not followed. */
    pb = pb_node(f, TL_EXPR_NOT, 1);
    pb->args[0] = NULL;
    expect_proto_reject(f, pb);
}

/* Nesting is capped at 1000 levels so a hostile tree cannot blow the
 * stack. */
static void
test_proto_depth(void **state)
{
    struct fixture *f = *state;
    struct tl_expr *out;
    struct tl_value v;
    Talus__Expr *leaf = tl_expr_to_proto(b3(f, 1), &f->a), *top = leaf;

    for (int depth = 2; depth <= 1001; depth++) {
        Talus__Expr *pb = pb_node(f, TL_EXPR_NOT, 1);
        pb->args[0] = top;
        top = pb;
        if (depth == 1000) {
            assert_int_equal(tl_expr_from_proto(top, 0, &f->a, &out, &f->err),
                             0);
            assert_int_equal(eval(f, out, &v), 0);
            assert_int_equal(to3(&v), 0); /* 999 NOTs of true */
        }
    }
    expect_proto_reject(f, top);
}

/* Random corruption of a packed tree never crashes from_proto or eval. */
static void
test_proto_fuzz(void **state)
{
    struct fixture *f = *state;
    struct tl_value row[3] = {tl_value_int(TL_TYPE_INT8, 7),
                              tl_value_text(TL_TYPE_TEXT, "abc", 3),
                              tl_value_float(2.5)};
    struct tl_expr *c0 = tl_expr_column(&f->a, 0, TL_TYPE_INT8);
    struct tl_expr *args[3] = {
        tl_expr_op(&f->a, TL_OP_LT, TL_TYPE_BOOL, c0, i8(f, 100)),
        tl_expr_op(&f->a, TL_OP_LIKE, TL_TYPE_BOOL,
                   tl_expr_column(&f->a, 1, TL_TYPE_TEXT),
                   txt(f, TL_TYPE_TEXT, "a%")),
        tl_expr_op(&f->a, TL_OP_GT, TL_TYPE_BOOL,
                   tl_expr_column(&f->a, 2, TL_TYPE_FLOAT8),
                   tl_expr_op(&f->a, TL_OP_DIV, TL_TYPE_FLOAT8, c0, i4(f, 3)))};
    struct tl_expr *e = tl_expr_node(&f->a, TL_EXPR_AND, TL_TYPE_BOOL, args, 3);
    Talus__Expr *pb = tl_expr_to_proto(e, &f->a);
    size_t n = talus__expr__get_packed_size(pb);
    uint8_t *orig = malloc(n);
    struct tl_arena scratch;

    talus__expr__pack(pb, orig);
    tl_arena_init(&scratch);
    srand(9);
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t *buf = malloc(n);
        struct tl_expr *out;
        struct tl_value v;

        memcpy(buf, orig, n);
        for (int k = 0; k < 1 + rand() % 3; k++)
            buf[rand() % n] ^= (uint8_t)(1u << (rand() % 8));
        Talus__Expr *p2 = talus__expr__unpack(
            tl_arena_protobuf(&scratch), (size_t)(rand() % 4 ? n : n / 2), buf);
        if (p2 != NULL &&
            tl_expr_from_proto(p2, 3, &scratch, &out, NULL) == 0) {
            int rv = tl_expr_eval(out, row, 3, &scratch, &v, NULL);
            assert_true(rv <= 0);
        }
        free(buf);
        tl_arena_reset(&scratch);
    }
    tl_arena_close(&scratch);
    free(orig);
}

/* Dates and timestamps: untyped literals take the column's type, dates
 * compare with timestamps by instant, || prints them, arithmetic on them is
 * rejected with 42883, and their constants and casts survive the protobuf
 * round trip. */
static void
test_datetime(void **state)
{
    struct fixture *f = *state;
    struct tl_value row[2] = {
        tl_value_int(TL_TYPE_DATE, 8766), /* 2024-01-01 */
        tl_value_int(TL_TYPE_TIMESTAMPTZ, INT64_C(757389600000000))};
    struct tl_value d = tl_value_int(TL_TYPE_DATE, 8766), v;
    struct tl_expr *c0 = tl_expr_column(&f->a, 0, TL_TYPE_DATE);
    struct tl_expr *c1 = tl_expr_column(&f->a, 1, TL_TYPE_TIMESTAMPTZ);
    struct tl_expr *dc = tl_expr_const(&f->a, &d), *e, *back;

    /* row[1] is 2024-01-01 02:00:00+00. */
    e = tl_expr_op(&f->a, TL_OP_EQ, TL_TYPE_BOOL, c0,
                   txt(f, TL_TYPE_UNKNOWN, "2024-01-01"));
    assert_int_equal(tl_expr_eval(e, row, 2, &f->a, &v, &f->err), 0);
    assert_int_equal(to3(&v), 1);
    e = tl_expr_op(&f->a, TL_OP_GT, TL_TYPE_BOOL, c1, c0);
    assert_int_equal(tl_expr_eval(e, row, 2, &f->a, &v, &f->err), 0);
    assert_int_equal(to3(&v), 1);
    e = tl_expr_op(&f->a, TL_OP_EQ, TL_TYPE_BOOL, c1,
                   txt(f, TL_TYPE_UNKNOWN, "2024-01-01 03:00+01"));
    assert_int_equal(tl_expr_eval(e, row, 2, &f->a, &v, &f->err), 0);
    assert_int_equal(to3(&v), 1);
    e = tl_expr_op(&f->a, TL_OP_LT, TL_TYPE_BOOL, c0,
                   txt(f, TL_TYPE_UNKNOWN, "2024-02-30"));
    assert_int_equal(tl_expr_eval(e, row, 2, &f->a, &v, &f->err), TL_EOVERFLOW);
    assert_string_equal(f->err.sqlstate, "22008");

    e = tl_expr_op(&f->a, TL_OP_CONCAT, TL_TYPE_TEXT, dc,
                   txt(f, TL_TYPE_TEXT, "x"));
    assert_int_equal(eval(f, e, &v), 0);
    assert_int_equal(v.u.s.len, 11);
    assert_memory_equal(v.u.s.p, "2024-01-01x", 11);
    /* date + integer is a date (date_pli); date * integer is none. */
    e = tl_expr_op(&f->a, TL_OP_ADD, TL_TYPE_DATE, dc, i4(f, 1));
    assert_int_equal(eval(f, e, &v), 0);
    assert_int_equal(v.type, TL_TYPE_DATE);
    assert_int_equal(v.u.i, 8767);
    expect_err(f, tl_expr_op(&f->a, TL_OP_MUL, TL_TYPE_DATE, dc, i4(f, 1)),
               TL_ETYPE, "42883", "operator does not exist: date * integer");
    expect_err(f, tl_expr_op(&f->a, TL_OP_EQ, TL_TYPE_BOOL, dc, i4(f, 1)),
               TL_ETYPE, "42883", "operator does not exist: date = integer");
    e = tl_expr_op(&f->a, TL_OP_NEG, TL_TYPE_DATE, dc, NULL);
    assert_int_equal(eval(f, e, &v), TL_ETYPE);
    assert_string_equal(f->err.sqlstate, "42883");

    /* '2024-01-01 12:00+02'::timestamptz = c1 + 8h, through the wire. */
    struct tl_expr *arg = txt(f, TL_TYPE_UNKNOWN, "2024-01-01 12:00+02");
    struct tl_expr *cast =
        tl_expr_node(&f->a, TL_EXPR_CAST, TL_TYPE_TIMESTAMPTZ, &arg, 1);
    e = tl_expr_op(&f->a, TL_OP_GT, TL_TYPE_BOOL, cast, dc);
    assert_int_equal(wire_round_trip(f, e, 2, &back), 0);
    assert_tree_equal(e, back);
    assert_int_equal(back->args[1]->value.type, TL_TYPE_DATE);
    assert_true(back->args[1]->value.u.i == 8766);
    assert_int_equal(tl_expr_eval(back, row, 2, &f->a, &v, &f->err), 0);
    assert_int_equal(to3(&v), 1);
    assert_int_equal(tl_expr_eval(back->args[0], row, 2, &f->a, &v, &f->err),
                     0);
    assert_true(v.u.i == INT64_C(757389600000000) + INT64_C(28800000000));
}

static struct tl_expr *
num(struct fixture *f, const char *s)
{
    struct tl_value x;
    assert_int_equal(tl_numeric_from_text(s, strlen(s), -1, &f->a, &x, &f->err),
                     0);
    return tl_expr_const(&f->a, &x);
}

static void
assert_numeric(const struct tl_value *v, const char *want)
{
    assert_int_equal(v->type, TL_TYPE_NUMERIC);
    assert_int_equal(v->u.s.len, strlen(want));
    assert_memory_equal(v->u.s.p, want, v->u.s.len);
}

/* numeric arithmetic is exact with PostgreSQL's scales; an integer operand
 * joins in exactly, a float operand makes the result float8; comparisons
 * go by value; a numeric constant and a cast with a typmod survive the
 * fragment's protobuf. */
static void
test_numeric(void **state)
{
    struct fixture *f = *state;
    struct tl_value v;

    assert_int_equal(eval(f,
                          tl_expr_op(&f->a, TL_OP_ADD, TL_TYPE_NUMERIC,
                                     num(f, "0.1"), num(f, "0.20")),
                          &v),
                     0);
    assert_numeric(&v, "0.30");
    assert_int_equal(eval(f,
                          tl_expr_op(&f->a, TL_OP_MUL, TL_TYPE_NUMERIC,
                                     i4(f, 3), num(f, "1.5")),
                          &v),
                     0);
    assert_numeric(&v, "4.5");
    assert_int_equal(eval(f,
                          tl_expr_op(&f->a, TL_OP_DIV, TL_TYPE_NUMERIC,
                                     i4(f, 1), num(f, "3")),
                          &v),
                     0);
    assert_numeric(&v, "0.33333333333333333333");
    assert_int_equal(eval(f,
                          tl_expr_op(&f->a, TL_OP_MOD, TL_TYPE_NUMERIC,
                                     num(f, "-7.5"), i4(f, 2)),
                          &v),
                     0);
    assert_numeric(&v, "-1.5");
    assert_int_equal(eval(f,
                          tl_expr_op(&f->a, TL_OP_DIV, TL_TYPE_NUMERIC,
                                     num(f, "1.5"), num(f, "0.00")),
                          &v),
                     TL_EDIVZERO);
    assert_string_equal(f->err.sqlstate, "22012");
    struct tl_value d = tl_value_float(0.25);
    assert_int_equal(eval(f,
                          tl_expr_op(&f->a, TL_OP_ADD, TL_TYPE_FLOAT8,
                                     num(f, "1.5"), tl_expr_const(&f->a, &d)),
                          &v),
                     0);
    assert_int_equal(v.type, TL_TYPE_FLOAT8);
    assert_true(v.u.f == 1.75);
    struct tl_expr *x = num(f, "1.50");
    assert_int_equal(
        eval(f, tl_expr_op(&f->a, TL_OP_NEG, TL_TYPE_NUMERIC, x, NULL), &v), 0);
    assert_numeric(&v, "-1.50");
    assert_int_equal(eval(f,
                          tl_expr_op(&f->a, TL_OP_EQ, TL_TYPE_BOOL,
                                     num(f, "1.50"), num(f, "1.5")),
                          &v),
                     0);
    assert_true(v.u.b);
    assert_int_equal(eval(f,
                          tl_expr_op(&f->a, TL_OP_LT, TL_TYPE_BOOL, i4(f, 2),
                                     num(f, "2.01")),
                          &v),
                     0);
    assert_true(v.u.b);

    /* numeric(5,2) cast of a constant, through the wire */
    struct tl_expr *arg = num(f, "123.456"), *c, *back;
    c = tl_expr_node(&f->a, TL_EXPR_CAST, TL_TYPE_NUMERIC, &arg, 1);
    assert_int_equal(tl_numeric_typmod(5, 2, &c->typmod, NULL), 0);
    assert_int_equal(wire_round_trip(f, c, 0, &back), 0);
    assert_int_equal(back->typmod, c->typmod);
    assert_int_equal(eval(f, back, &v), 0);
    assert_numeric(&v, "123.46");
    arg = num(f, "1234.5");
    c->args[0] = arg;
    assert_int_equal(wire_round_trip(f, c, 0, &back), 0);
    assert_int_equal(eval(f, back, &v), TL_EOVERFLOW);
    assert_string_equal(f->err.message, "numeric field overflow");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_truth_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_tests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in, setup, teardown),
        cmocka_unit_test_setup_teardown(test_int_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_div_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_float_arith, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compare, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bpchar, setup, teardown),
        cmocka_unit_test_setup_teardown(test_float4_arith, setup, teardown),
        cmocka_unit_test_setup_teardown(test_like, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cast_and_pred, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proto_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proto_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conditionals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proto_depth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proto_fuzz, setup, teardown),
        cmocka_unit_test_setup_teardown(test_datetime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numeric, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
