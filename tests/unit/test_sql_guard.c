/* Unit tests of the pre-parse guard (router/sql/sql_guard.c) that keeps trees
 * too deep for libpg_query's recursive serialiser away from it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "router/sql/sql_int.h"

static bool
ok(const char *q)
{
    return sql_guard_depth_ok(q, strlen(q), 10, 5);
}

/* @n copies of @unit after @head, then @tail; caller frees. */
static char *
repeat(const char *head, const char *unit, int n, const char *tail)
{
    size_t len = strlen(head) + strlen(unit) * (size_t)n + strlen(tail) + 1;
    char *s = malloc(len);
    strcpy(s, head);
    for (int i = 0; i < n; i++)
        strcat(s, unit);
    strcat(s, tail);
    return s;
}

/* A chain of operators longer than the limit is refused; a shorter one is
 * accepted. */
static void
test_operator_chain_limit(void **state)
{
    char *q = repeat("SELECT 1", " + 1", 10, "");
    assert_true(ok(q));
    free(q);
    q = repeat("SELECT 1", " + 1", 11, "");
    assert_false(ok(q));
    free(q);
    q = repeat("SELECT 1", "::int", 11, "");
    assert_false(ok(q));
    free(q);
}

/* Separators start new subtrees: long IN lists and AND chains are flat. */
static void
test_flat_lists_pass(void **state)
{
    char *q = repeat("SELECT 1 WHERE x IN (1", ", 1 + 1", 1000, ")");
    assert_true(ok(q));
    free(q);
    q = repeat("SELECT 1 WHERE x = 1", " AND x = 1", 1000, "");
    assert_true(ok(q));
    free(q);
    q = repeat("SELECT 1 WHERE x = 1", " OR x = 1", 1000, "");
    assert_true(ok(q));
    free(q);
}

/* Operators inside literals, identifiers and comments do not count. */
static void
test_literals_and_comments_skipped(void **state)
{
    assert_true(ok("SELECT '+ + + + + + + + + + + + + +' -- + + + + + + + + + +"
                   "\n"));
    assert_true(ok("SELECT \"a+b+c+d+e+f+g+h+i+j+k+l\" FROM t /* + + + + + "
                   "+ + + + + + + /* nested */ + + */"));
    assert_true(ok("SELECT $x$ + + + + + + + + + + + + $x$, E'\\' + + + + + "
                   "+ + + + + + + + '"));
}

/* A chain hidden behind parenthesised operands still counts. */
static void
test_chain_through_parentheses(void **state)
{
    char *q = repeat("SELECT 1", " + (SELECT 1)", 11, "");
    assert_false(ok(q));
    free(q);
}

/* Brackets and CASE nested deeper than the limit are refused. */
static void
test_nesting_limit(void **state)
{
    assert_true(ok("SELECT f(f(f(f(f(1)))))"));
    assert_false(ok("SELECT f(f(f(f(f(f(1))))))"));
    assert_false(ok("SELECT a[1][[[[[[2]]]]]]"));
    assert_false(ok("SELECT CASE WHEN CASE WHEN CASE WHEN CASE WHEN CASE WHEN "
                    "(1) THEN 1 END THEN 1 END THEN 1 END THEN 1 END THEN 1 "
                    "END"));
}

/* The bytes PostgreSQL's report_invalid_encoding() prints for @q, or ""
 * when @q is valid UTF-8; static buffer. */
static const char *
bad_utf8(const char *q)
{
    static char bad[48];
    if (sql_guard_utf8_ok(q, strlen(q), bad, sizeof(bad)))
        return "";
    return bad;
}

/* Valid UTF-8 of every length passes; each kind of invalid sequence is
 * reported with the bytes PostgreSQL 15 prints for it: the length the
 * first byte claims, cut at the end of the text. */
static void
test_utf8(void **state)
{
    (void)state;
    assert_string_equal(bad_utf8("SELECT 'caf\xc3\xa9 \xe2\x82\xac "
                                 "\xf0\x9f\x98\x80'"),
                        "");
    assert_string_equal(bad_utf8("SELECT 'a\xc3(b'"), "0xc3 0x28");
    assert_string_equal(bad_utf8("SELECT 1 AS \"x\xe2\x82\""),
                        "0xe2 0x82 0x22");
    assert_string_equal(bad_utf8("'\xff'"), "0xff");
    assert_string_equal(bad_utf8("'\x80'"), "0x80");
    assert_string_equal(bad_utf8("'\xc0\xaf'"), "0xc0 0xaf"); /* overlong */
    assert_string_equal(bad_utf8("'\xed\xa0\x80'"),
                        "0xed 0xa0 0x80"); /* surrogate */
    assert_string_equal(bad_utf8("'\xf4\x90\x80\x80'"),
                        "0xf4 0x90 0x80 0x80"); /* above U+10FFFF */
    assert_string_equal(bad_utf8("x\xe2\x82"), "0xe2 0x82"); /* cut short */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operator_chain_limit),
        cmocka_unit_test(test_flat_lists_pass),
        cmocka_unit_test(test_literals_and_comments_skipped),
        cmocka_unit_test(test_chain_through_parentheses),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
