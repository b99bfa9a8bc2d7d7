/* Error codes travel on the wire (Error.code) with fixed numbers: every
 * code keeps its number, and each number has its text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tl_error.h"

/* The numbers are stored: a change here is a wire-format break. */
static void
test_codes_keep_their_numbers(void **state)
{
    (void)state;
    assert_int_equal(TL_ENOMEM, -1);
    assert_int_equal(TL_EIO, -3);
    assert_int_equal(TL_ETIMEOUT, -7);
    assert_int_equal(TL_EUNAVAILABLE, -8);
    assert_int_equal(TL_ENOTLEADER, -9);
    assert_int_equal(TL_ECONFLICT, -10);
    assert_int_equal(TL_ETOOBIG, -17);
    assert_int_equal(TL_EPROTO, -18);
    assert_int_equal(TL_ESHUTDOWN, -21);
    assert_int_equal(TL_EAUTH, -25);
    assert_int_equal(TL_ESTALE, -22);
    assert_int_equal(TL_ESQL, -23);
    assert_int_equal(TL_ELOCKED, -24);
}

/* Every code has its own text; other numbers are "unknown error". */
static void
test_texts(void **state)
{
    (void)state;
    assert_string_equal(tl_strerror(0), "success");
    assert_string_equal(tl_strerror(TL_ENOTLEADER), "not the leader");
    assert_string_equal(tl_strerror(TL_ESQL), "SQL error");
    assert_string_equal(tl_strerror(TL_ELOCKED), "locked by a transaction");
    assert_string_equal(tl_strerror(TL_EAUTH), "authentication failed");
    assert_string_equal(tl_strerror(-26), "unknown error");
    assert_string_equal(tl_strerror(5), "unknown error");
    assert_string_equal(tl_errno_sqlstate(TL_ECONFLICT), "40001");
}

/* The SQLSTATE a client sees for each code when no report says better. */
static void
test_default_sqlstates(void **state)
{
    (void)state;
    assert_string_equal(tl_errno_sqlstate(TL_OK), "00000");
    assert_string_equal(tl_errno_sqlstate(TL_ENOMEM), "53200");
    assert_string_equal(tl_errno_sqlstate(TL_ETYPE), "22P02");
    assert_string_equal(tl_errno_sqlstate(TL_EOVERFLOW), "22003");
    assert_string_equal(tl_errno_sqlstate(TL_EDIVZERO), "22012");
    assert_string_equal(tl_errno_sqlstate(TL_ETOOLONG), "22001");
    assert_string_equal(tl_errno_sqlstate(TL_ENOTNULL), "23502");
    assert_string_equal(tl_errno_sqlstate(TL_EDUPKEY), "23505");
    assert_string_equal(tl_errno_sqlstate(TL_ESYNTAX), "42601");
    assert_string_equal(tl_errno_sqlstate(TL_EUNSUPPORTED), "0A000");
    assert_string_equal(tl_errno_sqlstate(TL_ETIMEOUT), "08006");
    assert_string_equal(tl_errno_sqlstate(TL_EUNAVAILABLE), "08006");
    assert_string_equal(tl_errno_sqlstate(TL_ENOTLEADER), "08006");
    assert_string_equal(tl_errno_sqlstate(TL_ECONFLICT), "40001");
    assert_string_equal(tl_errno_sqlstate(TL_EPROTO), "08P01");
    assert_string_equal(tl_errno_sqlstate(TL_ESHUTDOWN), "57P01");
    assert_string_equal(tl_errno_sqlstate(TL_EINVAL), "XX000");
    assert_string_equal(tl_errno_sqlstate(TL_ESQL), "XX000");
    assert_string_equal(tl_errno_sqlstate(-99), "XX000");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_keep_their_numbers),
        cmocka_unit_test(test_texts),
        cmocka_unit_test(test_default_sqlstates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
