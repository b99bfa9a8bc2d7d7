/* The transaction-block state machine (router/txn/txn.h), case by case
 * as PostgreSQL's xact.c moves between its TBLOCK_* states. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "router/txn/txn.h"

static struct tl_error w, e;

static void
clear(void)
{
    tl_error_clear(&w);
    tl_error_clear(&e);
}

/* BEGIN opens a block ('T'), COMMIT closes it ('I'); BEGIN inside one
 * only warns 25001, COMMIT outside one only warns 25P01. */
static void
test_begin_commit(void **state)
{
    (void)state;
    struct txn_state x;
    bool ok;
    txn_init(&x);
    assert_int_equal(txn_status_char(&x), 'I');
    clear();
    assert_int_equal(txn_begin(&x, &w, &e), 0);
    assert_false(tl_error_is_set(&w));
    assert_int_equal(txn_status_char(&x), 'T');
    assert_int_equal(txn_begin(&x, &w, &e), 0);
    assert_string_equal(w.sqlstate, "25001");
    clear();
    assert_int_equal(txn_commit(&x, false, &ok, &w, &e), 0);
    assert_true(ok);
    assert_false(tl_error_is_set(&w));
    assert_int_equal(txn_status_char(&x), 'I');
    assert_int_equal(txn_commit(&x, false, &ok, &w, &e), 0);
    assert_string_equal(w.sqlstate, "25P01");
    assert_string_equal(w.message, "there is no transaction in progress");
    clear();
    assert_int_not_equal(txn_commit(&x, true, &ok, &w, &e), 0);
    assert_string_equal(e.message,
                        "COMMIT AND CHAIN can only be used in transaction "
                        "blocks");
    txn_close(&x);
}

/* An error fails an open block ('E'); COMMIT then rolls back (its tag is
 * ROLLBACK) and the session is idle. Outside a block an error leaves the
 * session idle. */
static void
test_failed_block(void **state)
{
    (void)state;
    struct txn_state x;
    bool ok;
    txn_init(&x);
    txn_statement_start(&x, false);
    txn_mark_failed(&x);
    assert_int_equal(txn_status_char(&x), 'I');
    clear();
    txn_begin(&x, &w, &e);
    txn_mark_failed(&x);
    assert_int_equal(txn_status_char(&x), 'E');
    assert_true(txn_failed(&x));
    txn_query_end(&x); /* Sync keeps an explicit block */
    assert_int_equal(txn_status_char(&x), 'E');
    assert_int_equal(txn_commit(&x, false, &ok, &w, &e), 0);
    assert_false(ok);
    assert_true(x.rolled_back);
    assert_int_equal(txn_status_char(&x), 'I');
    txn_close(&x);
}

/* Savepoints form a stack: RELEASE drops the newest of the name and all
 * above; ROLLBACK TO keeps it and revives a failed block; an unknown name
 * is 3B001; outside a block they need one (25P01). */
static void
test_savepoints(void **state)
{
    (void)state;
    struct txn_state x;
    txn_init(&x);
    clear();
    assert_int_not_equal(txn_savepoint(&x, "a", &e), 0);
    assert_string_equal(e.sqlstate, "25P01");
    txn_begin(&x, &w, &e);
    assert_int_equal(txn_savepoint(&x, "a", &e), 0);
    assert_int_equal(txn_savepoint(&x, "b", &e), 0);
    assert_int_equal(txn_savepoint(&x, "a", &e), 0);
    assert_int_equal(x.n_savepoints, 3);
    assert_int_equal(txn_release(&x, "a", &e), 0);
    assert_int_equal(x.n_savepoints, 2);
    txn_mark_failed(&x);
    assert_int_not_equal(txn_rollback_to(&x, "zz", &e), 0);
    assert_string_equal(e.sqlstate, "3B001");
    assert_string_equal(e.message, "savepoint \"zz\" does not exist");
    assert_true(txn_failed(&x));
    assert_int_equal(txn_rollback_to(&x, "a", &e), 0);
    assert_int_equal(x.n_savepoints, 1);
    assert_int_equal(txn_status_char(&x), 'T');
    assert_int_equal(txn_rollback(&x, false, &w, &e), 0);
    assert_int_equal(x.n_savepoints, 0);
    txn_close(&x);
}

/* A multi-statement Query is an implicit block: 'I', ended by the
 * message; BEGIN in it makes it a real block. */
static void
test_implicit_block(void **state)
{
    (void)state;
    struct txn_state x;
    txn_init(&x);
    clear();
    txn_statement_start(&x, true);
    assert_int_equal(x.block, TXN_IMPLICIT);
    assert_true(txn_in_block(&x));
    assert_int_equal(txn_status_char(&x), 'I');
    txn_query_end(&x);
    assert_int_equal(x.block, TXN_IDLE);
    txn_statement_start(&x, true);
    txn_begin(&x, &w, &e);
    assert_int_equal(x.block, TXN_INPROGRESS);
    txn_query_end(&x);
    assert_int_equal(txn_status_char(&x), 'T');
    txn_close(&x);
}

/* Characteristics come from the defaults at the start of a transaction;
 * the isolation level is fixed by the first snapshot; SERIALIZABLE is
 * refused; AND CHAIN keeps them for the next block. */
static void
test_characteristics(void **state)
{
    (void)state;
    struct txn_state x;
    bool ok;
    txn_init(&x);
    clear();
    x.dflt.read_only = true;
    txn_begin(&x, &w, &e);
    assert_true(x.cur.read_only);
    /* SET SESSION CHARACTERISTICS is undone by a rollback. */
    x.dflt.isolation = TXN_REPEATABLE_READ;
    txn_rollback(&x, false, &w, &e);
    assert_int_equal(x.dflt.isolation, TXN_READ_COMMITTED);
    assert_true(x.dflt.read_only);
    txn_begin(&x, &w, &e);
    assert_string_equal(txn_check_writable(&x, "INSERT", &e) != 0 ? e.message
                                                                  : "",
                        "cannot execute INSERT in a read-only transaction");
    assert_int_equal(txn_set_isolation(&x, TXN_REPEATABLE_READ, &e), 0);
    assert_int_not_equal(txn_set_isolation(&x, TXN_SERIALIZABLE, &e), 0);
    assert_string_equal(e.sqlstate, "0A000");
    txn_snapshot(&x);
    assert_int_not_equal(txn_set_isolation(&x, TXN_READ_COMMITTED, &e), 0);
    assert_string_equal(e.sqlstate, "25001");
    assert_int_equal(txn_set_isolation(&x, TXN_REPEATABLE_READ, &e), 0);
    assert_int_equal(txn_commit(&x, true, &ok, &w, &e), 0);
    assert_int_equal(x.cur.isolation, TXN_REPEATABLE_READ);
    assert_false(x.snapshot_taken);
    assert_int_equal(txn_rollback(&x, false, &w, &e), 0);
    assert_int_equal(x.cur.isolation, TXN_READ_COMMITTED);
    txn_close(&x);
}

/* PREPARE TRANSACTION: 55000 in a block (which ends), a 25P01 warning
 * outside one. */
static void
test_prepare_disabled(void **state)
{
    (void)state;
    struct txn_state x;
    bool ok;
    txn_init(&x);
    clear();
    txn_begin(&x, &w, &e);
    assert_int_not_equal(txn_prepare(&x, "g", &ok, &w, &e), 0);
    assert_string_equal(e.sqlstate, "55000");
    assert_string_equal(e.message, "prepared transactions are disabled");
    assert_int_equal(txn_status_char(&x), 'I');
    clear();
    assert_int_equal(txn_prepare(&x, "g", &ok, &w, &e), 0);
    assert_false(ok);
    assert_string_equal(w.sqlstate, "25P01");
    txn_close(&x);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_begin_commit),
        cmocka_unit_test(test_failed_block),
        cmocka_unit_test(test_savepoints),
        cmocka_unit_test(test_implicit_block),
        cmocka_unit_test(test_characteristics),
        cmocka_unit_test(test_prepare_disabled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
