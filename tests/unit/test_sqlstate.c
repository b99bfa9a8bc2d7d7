/* The SQLSTATE table (common/base/sqlstate.h) names each code once, with
 * PostgreSQL's names, and its lookup finds every row and nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "common/base/sqlstate.h"

struct row {
    const char *name;
    const char *code;
    const char *cond;
};

static const struct row rows[] = {
#define TL__X(name, cond) {#name, TL_SQLSTATE_##name, cond},
    TL_SQLSTATE_MAP(TL__X)
#undef TL__X
};

#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

/* No code, macro name or condition name appears in two rows. */
static void
test_no_duplicates(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS; i++) {
        for (size_t j = i + 1; j < N_ROWS; j++) {
            if (strcmp(rows[i].code, rows[j].code) == 0 ||
                strcmp(rows[i].name, rows[j].name) == 0 ||
                strcmp(rows[i].cond, rows[j].cond) == 0)
                fail_msg("rows %s and %s repeat a code or a name", rows[i].name,
                         rows[j].name);
        }
    }
}

/* Every code is five characters of [0-9A-Z], as the SQL standard wants,
 * and its condition name is the macro name in lower case, except where
 * PostgreSQL's own differ (T_R_SERIALIZATION_FAILURE). */
static void
test_codes_are_well_formed(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS; i++) {
        const char *c = rows[i].code;
        assert_int_equal(strlen(c), 5);
        for (size_t k = 0; k < 5; k++)
            assert_true((c[k] >= '0' && c[k] <= '9') ||
                        (c[k] >= 'A' && c[k] <= 'Z'));
        if (strcmp(rows[i].name, "T_R_SERIALIZATION_FAILURE") == 0)
            continue;
        char lower[64];
        size_t n = strlen(rows[i].name);
        assert_true(n < sizeof(lower));
        for (size_t k = 0; k <= n; k++) {
            char ch = rows[i].name[k];
            lower[k] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
        }
        assert_string_equal(lower, rows[i].cond);
    }
}

/* Codes clients act on carry PostgreSQL's codes and condition names
 * (src/backend/utils/errcodes.txt). */
static void
test_postgresql_names(void **state)
{
    (void)state;
    assert_string_equal(TL_SQLSTATE_UNIQUE_VIOLATION, "23505");
    assert_string_equal(TL_SQLSTATE_FEATURE_NOT_SUPPORTED, "0A000");
    assert_string_equal(TL_SQLSTATE_CONNECTION_FAILURE, "08006");
    assert_string_equal(TL_SQLSTATE_T_R_SERIALIZATION_FAILURE, "40001");
    assert_string_equal(TL_SQLSTATE_QUERY_CANCELED, "57014");
    assert_string_equal(TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED, "54000");
    assert_string_equal(TL_SQLSTATE_INVALID_TEXT_REPRESENTATION, "22P02");
    assert_string_equal(TL_SQLSTATE_UNDEFINED_TABLE, "42P01");
    assert_string_equal(TL_SQLSTATE_INTERNAL_ERROR, "XX000");

    assert_string_equal(tl_sqlstate_name("23505"), "unique_violation");
    assert_string_equal(tl_sqlstate_name("0A000"), "feature_not_supported");
    assert_string_equal(tl_sqlstate_name("08006"), "connection_failure");
    assert_string_equal(tl_sqlstate_name("40001"), "serialization_failure");
    assert_string_equal(tl_sqlstate_name("57014"), "query_canceled");
    assert_string_equal(tl_sqlstate_name("54000"), "program_limit_exceeded");
    assert_string_equal(tl_sqlstate_name("22008"), "datetime_field_overflow");
    assert_string_equal(tl_sqlstate_name("XX001"), "data_corrupted");
}

/* The lookup finds every row's name and returns NULL for codes Talus does
 * not use, malformed codes and NULL. */
static void
test_lookup(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS; i++)
        assert_string_equal(tl_sqlstate_name(rows[i].code), rows[i].cond);
    assert_null(tl_sqlstate_name("40P02"));
    assert_null(tl_sqlstate_name("2350"));
    assert_null(tl_sqlstate_name("235050"));
    assert_null(tl_sqlstate_name(""));
    assert_null(tl_sqlstate_name(NULL));
}

/* The constants are literals: they concatenate and initialise statics. */
static void
test_constants_are_literals(void **state)
{
    (void)state;
    static const char *const init = TL_SQLSTATE_SYNTAX_ERROR;
    assert_string_equal(init, "42601");
    assert_string_equal("SQLSTATE " TL_SQLSTATE_DIVISION_BY_ZERO,
                        "SQLSTATE 22012");
    assert_int_equal(sizeof(TL_SQLSTATE_DATA_CORRUPTED), 6);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_duplicates),
        cmocka_unit_test(test_codes_are_well_formed),
        cmocka_unit_test(test_postgresql_names),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_constants_are_literals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
