/* Unit tests for the text functions of common/scalar.h added for
 * PostgreSQL compatibility: lpad/rpad, split_part, reverse, initcap, md5,
 * translate, ascii, chr, to_hex, concat_ws, starts_with — counting
 * characters of UTF-8 text, not bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

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
t(const char *s)
{
    if (s == NULL)
        return tl_value_null(TL_TYPE_TEXT);
    return tl_value_text(TL_TYPE_TEXT, s, (uint32_t)strlen(s));
}

static struct tl_value
i4(int64_t i)
{
    return tl_value_int(TL_TYPE_INT4, i);
}

/* Function @id of @args printed: text as it is, an integer or boolean in
 * decimal, NULL as "<null>", an error as its SQLSTATE. */
static const char *
call(struct fixture *f, uint8_t id, uint8_t type, const struct tl_value *args,
     uint32_t n)
{
    struct tl_value out;
    if (tl_func_eval(id, type, args, n, &f->a, &out, &f->err) != 0)
        return f->err.sqlstate;
    if (out.is_null)
        return "<null>";
    if (out.type == TL_TYPE_INT4 || out.type == TL_TYPE_INT8)
        return tl_arena_printf(&f->a, "%lld", (long long)out.u.i);
    if (out.type == TL_TYPE_BOOL)
        return out.u.b ? "t" : "f";
    return tl_arena_printf(&f->a, "%.*s", (int)out.u.s.len, out.u.s.p);
}

#define CALL(f, id, type, ...)                                                 \
    call(f, id, type, (struct tl_value[]){__VA_ARGS__},                        \
         sizeof((struct tl_value[]){__VA_ARGS__}) / sizeof(struct tl_value))

/* lpad and rpad count characters: they cut a longer string, cycle a fill
 * of several characters, and do not pad with an empty fill. */
static void
test_pad(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(CALL(f, TL_FUNC_LPAD, TL_TYPE_TEXT, t("hi"), i4(5)),
                        "   hi");
    assert_string_equal(
        CALL(f, TL_FUNC_LPAD, TL_TYPE_TEXT, t("hi"), i4(5), t("xy")), "xyxhi");
    assert_string_equal(
        CALL(f, TL_FUNC_RPAD, TL_TYPE_TEXT, t("é"), i4(3), t("ü")), "éüü");
    assert_string_equal(CALL(f, TL_FUNC_LPAD, TL_TYPE_TEXT, t("naïve"), i4(3)),
                        "naï");
    assert_string_equal(
        CALL(f, TL_FUNC_RPAD, TL_TYPE_TEXT, t("hi"), i4(5), t("")), "hi");
    assert_string_equal(CALL(f, TL_FUNC_RPAD, TL_TYPE_TEXT, t("hi"), i4(-1)),
                        "");
    assert_string_equal(
        CALL(f, TL_FUNC_LPAD, TL_TYPE_TEXT, t("x"), i4(1073741824)), "54000");
}

/* split_part counts fields from the end when negative (PostgreSQL 14+);
 * field 0 is 22023. */
static void
test_split_part(void **state)
{
    struct fixture *f = *state;
    const uint8_t T = TL_TYPE_TEXT;
    assert_string_equal(
        CALL(f, TL_FUNC_SPLIT_PART, T, t("a,b,c"), t(","), i4(2)), "b");
    assert_string_equal(
        CALL(f, TL_FUNC_SPLIT_PART, T, t("a,b,c"), t(","), i4(-1)), "c");
    assert_string_equal(
        CALL(f, TL_FUNC_SPLIT_PART, T, t("a,b,c"), t(","), i4(-3)), "a");
    assert_string_equal(
        CALL(f, TL_FUNC_SPLIT_PART, T, t("a,b,c"), t(","), i4(4)), "");
    assert_string_equal(
        CALL(f, TL_FUNC_SPLIT_PART, T, t("a::b::c"), t("::"), i4(-2)), "b");
    assert_string_equal(CALL(f, TL_FUNC_SPLIT_PART, T, t("abc"), t(""), i4(-1)),
                        "abc");
    assert_string_equal(CALL(f, TL_FUNC_SPLIT_PART, T, t("abc"), t(""), i4(2)),
                        "");
    assert_string_equal(CALL(f, TL_FUNC_SPLIT_PART, T, t("a,b"), t(","), i4(0)),
                        "22023");
    assert_string_equal(f->err.message, "field position must not be zero");
}

/* reverse, initcap, translate and ascii work on characters; initcap
 * uses the C.UTF-8 classes as lower() and upper() do. */
static void
test_characters(void **state)
{
    struct fixture *f = *state;
    const uint8_t T = TL_TYPE_TEXT;
    assert_string_equal(CALL(f, TL_FUNC_REVERSE, T, t("naïve")), "evïan");
    assert_string_equal(
        CALL(f, TL_FUNC_INITCAP, T, t("hello wORLD 3rd-time x_y")),
        "Hello World 3rd-Time X_Y");
    assert_string_equal(CALL(f, TL_FUNC_INITCAP, T, t("élan ÑANDÚ")),
                        "Élan Ñandú");
    assert_string_equal(
        CALL(f, TL_FUNC_TRANSLATE, T, t("12345"), t("143"), t("ax")), "a2x5");
    assert_string_equal(
        CALL(f, TL_FUNC_TRANSLATE, T, t("café"), t("éa"), t("eä")), "cäfe");
    assert_string_equal(CALL(f, TL_FUNC_ASCII, TL_TYPE_INT4, t("é")), "233");
    assert_string_equal(CALL(f, TL_FUNC_ASCII, TL_TYPE_INT4, t("")), "0");
    assert_string_equal(CALL(f, TL_FUNC_CHR, T, i4(8364)), "€");
    assert_string_equal(CALL(f, TL_FUNC_CHR, T, i4(0)), "54000");
    assert_string_equal(CALL(f, TL_FUNC_CHR, T, i4(0xd800)), "54000");
    assert_string_equal(f->err.message,
                        "requested character not valid for encoding: 55296");
    assert_string_equal(
        CALL(f, TL_FUNC_STRPOS, TL_TYPE_INT4, t("café"), t("é")), "4");
    assert_string_equal(
        CALL(f, TL_FUNC_STARTS_WITH, TL_TYPE_BOOL, t("alpha"), t("al")), "t");
    assert_string_equal(
        CALL(f, TL_FUNC_STARTS_WITH, TL_TYPE_BOOL, t("al"), t("alpha")), "f");
}

/* md5 is hex of the bytes; to_hex prints the two's complement of its
 * integer type; concat_ws skips NULLs and is NULL for a NULL separator. */
static void
test_misc(void **state)
{
    struct fixture *f = *state;
    const uint8_t T = TL_TYPE_TEXT;
    assert_string_equal(CALL(f, TL_FUNC_MD5, T, t("abc")),
                        "900150983cd24fb0d6963f7d28e17f72");
    assert_string_equal(CALL(f, TL_FUNC_TO_HEX, T, i4(-1)), "ffffffff");
    assert_string_equal(
        CALL(f, TL_FUNC_TO_HEX, T, tl_value_int(TL_TYPE_INT8, -1)),
        "ffffffffffffffff");
    assert_string_equal(
        CALL(f, TL_FUNC_CONCAT_WS, T, t(","), t("a"), t(NULL), i4(3)), "a,3");
    assert_string_equal(CALL(f, TL_FUNC_CONCAT_WS, T, t(NULL), t("a")),
                        "<null>");
    assert_string_equal(CALL(f, TL_FUNC_CONCAT_WS, T, t("-"), t(NULL)), "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_part, setup, teardown),
        cmocka_unit_test_setup_teardown(test_characters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misc, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
