/* Transaction blocks through libpq: the status ReadyForQuery reports
 * (PQtransactionStatus: IDLE, INTRANS, INERROR) over the simple and the
 * extended protocol, command tags and warnings, what Talus refuses inside
 * a block (SERIALIZABLE, DDL), and idle_in_transaction_session_timeout
 * closing the connection. The golden file tests/sql/transactions.sql
 * holds the rest of the state machine. */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static struct th_cluster cluster;

static int
setup(void **state)
{
    (void)state;
    if (th_cluster_start(&cluster, NULL) != 0)
        return -1;
    PGconn *conn = th_connect(&cluster);
    bool ok = th_ok(conn, "CREATE TABLE tt (id int PRIMARY KEY, v text) "
                          "PARTITION BY HASH (id)") &&
              th_ok(conn, "INSERT INTO tt VALUES (1, 'one'), (2, 'two')");
    PQfinish(conn);
    return ok ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

/* The last notice or warning a connection received. */
struct notices {
    char sqlstate[6];
    char message[256];
    int n;
};

static void
on_notice(void *arg, const PGresult *res)
{
    struct notices *nt = arg;
    const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    snprintf(nt->sqlstate, sizeof(nt->sqlstate), "%s", s != NULL ? s : "");
    snprintf(nt->message, sizeof(nt->message), "%s", m != NULL ? m : "");
    nt->n++;
}

static PGconn *
connect_with_notices(struct notices *nt)
{
    memset(nt, 0, sizeof(*nt));
    PGconn *conn = th_connect(&cluster);
    assert_non_null(conn);
    PQsetNoticeReceiver(conn, on_notice, nt);
    return conn;
}

/* Run @sql (simple protocol); assert its result status, SQLSTATE ("" for
 * none) and the transaction status after it. Returns the command tag
 * (static until the next call). */
static const char *
run(PGconn *conn, const char *sql, const char *sqlstate,
    PGTransactionStatusType after)
{
    static char tag[64];
    PGresult *res = PQexec(conn, sql);
    const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (strcmp(s != NULL ? s : "", sqlstate) != 0)
        fail_msg("%s: sqlstate %s, expected %s (%s)", sql, s ? s : "none",
                 sqlstate, PQresultErrorMessage(res));
    snprintf(tag, sizeof(tag), "%s", PQcmdStatus(res));
    PQclear(res);
    if (PQtransactionStatus(conn) != after)
        fail_msg("%s: transaction status %d, expected %d", sql,
                 (int)PQtransactionStatus(conn), (int)after);
    return tag;
}

/* Over the simple protocol ReadyForQuery says I, T and E: BEGIN opens a
 * block, an error fails it, statements then fail with 25P02 until
 * ROLLBACK; COMMIT of a failed block reports ROLLBACK as its tag. */
static void
test_simple_protocol_status(void **state)
{
    (void)state;
    struct notices nt;
    PGconn *conn = connect_with_notices(&nt);
    assert_int_equal(PQtransactionStatus(conn), PQTRANS_IDLE);
    assert_string_equal(run(conn, "BEGIN", "", PQTRANS_INTRANS), "BEGIN");
    run(conn, "SELECT v FROM tt WHERE id = 1", "", PQTRANS_INTRANS);
    run(conn, "BEGIN", "", PQTRANS_INTRANS);
    assert_string_equal(nt.sqlstate, "25001");
    assert_string_equal(nt.message,
                        "there is already a transaction in progress");
    run(conn, "SELECT 1 / 0", "22012", PQTRANS_INERROR);
    run(conn, "SELECT 1", "25P02", PQTRANS_INERROR);
    assert_string_equal(run(conn, "COMMIT", "", PQTRANS_IDLE), "ROLLBACK");
    assert_string_equal(run(conn, "START TRANSACTION", "", PQTRANS_INTRANS),
                        "START TRANSACTION");
    run(conn, "SAVEPOINT a", "", PQTRANS_INTRANS);
    run(conn, "SELECT * FROM nope", "42P01", PQTRANS_INERROR);
    assert_string_equal(run(conn, "ROLLBACK TO a", "", PQTRANS_INTRANS),
                        "ROLLBACK");
    assert_string_equal(run(conn, "RELEASE a", "", PQTRANS_INTRANS), "RELEASE");
    assert_string_equal(run(conn, "COMMIT", "", PQTRANS_IDLE), "COMMIT");
    nt.n = 0;
    run(conn, "COMMIT", "", PQTRANS_IDLE);
    assert_int_equal(nt.n, 1);
    assert_string_equal(nt.sqlstate, "25P01");
    /* A syntax error fails a block too. */
    run(conn, "BEGIN", "", PQTRANS_INTRANS);
    run(conn, "SELEC 1", "42601", PQTRANS_INERROR);
    run(conn, "ROLLBACK", "", PQTRANS_IDLE);
    PQfinish(conn);
}

/* A Query message of several statements is one implicit block: it ends
 * with the message ('I'), an error in it leaves the session idle, and a
 * BEGIN among its statements opens a real block. */
static void
test_implicit_block(void **state)
{
    (void)state;
    PGconn *conn = th_connect(&cluster);
    run(conn, "SELECT 1; SELECT 2", "", PQTRANS_IDLE);
    run(conn, "SELECT 1; SELECT 1 / 0; SELECT 2", "22012", PQTRANS_IDLE);
    run(conn, "SELECT 1; BEGIN; SELECT 2", "", PQTRANS_INTRANS);
    run(conn, "SELECT 1; COMMIT; SELECT 2", "", PQTRANS_IDLE);
    run(conn, "BEGIN; SELECT 1 / 0", "22012", PQTRANS_INERROR);
    run(conn, "ROLLBACK; SELECT 1", "", PQTRANS_IDLE);
    PQfinish(conn);
}

/* Run @sql through the extended protocol (Parse/Bind/Execute/Sync). */
static void
run_ext(PGconn *conn, const char *sql, const char *sqlstate,
        PGTransactionStatusType after)
{
    PGresult *res = PQexecParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0);
    const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (strcmp(s != NULL ? s : "", sqlstate) != 0)
        fail_msg("%s: sqlstate %s, expected %s (%s)", sql, s ? s : "none",
                 sqlstate, PQresultErrorMessage(res));
    PQclear(res);
    if (PQtransactionStatus(conn) != after)
        fail_msg("%s: transaction status %d, expected %d", sql,
                 (int)PQtransactionStatus(conn), (int)after);
}

/* Over the extended protocol the block lives across Syncs: an error skips
 * to Sync and fails the block; Parse, Bind, Execute and Describe of a
 * statement returning rows then fail with 25P02, but for ROLLBACK; a
 * prepared statement made before still runs after ROLLBACK. */
static void
test_extended_protocol_status(void **state)
{
    (void)state;
    PGconn *conn = th_connect(&cluster);
    run_ext(conn, "BEGIN", "", PQTRANS_INTRANS);
    PGresult *res =
        PQprepare(conn, "q", "SELECT v FROM tt WHERE id = $1", 0, NULL);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    assert_int_equal(PQtransactionStatus(conn), PQTRANS_INTRANS);
    const char *one[] = {"1"};
    res = PQexecPrepared(conn, "q", 1, one, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(res, 0, 0), "one");
    PQclear(res);
    run_ext(conn, "SELECT 1 / 0", "22012", PQTRANS_INERROR);
    res = PQexecPrepared(conn, "q", 1, one, NULL, NULL, 0);
    assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "25P02");
    PQclear(res);
    res = PQprepare(conn, "q2", "SELECT 1", 0, NULL);
    assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "25P02");
    PQclear(res);
    res = PQdescribePrepared(conn, "q");
    assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "25P02");
    PQclear(res);
    assert_int_equal(PQtransactionStatus(conn), PQTRANS_INERROR);
    run_ext(conn, "ROLLBACK", "", PQTRANS_IDLE);
    res = PQexecPrepared(conn, "q", 1, one, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    /* Outside a block an error leaves the session idle. */
    run_ext(conn, "SELECT 1 / 0", "22012", PQTRANS_IDLE);
    run_ext(conn, "START TRANSACTION READ ONLY", "", PQTRANS_INTRANS);
    run_ext(conn, "INSERT INTO tt VALUES (3, 'three')", "25006",
            PQTRANS_INERROR);
    run_ext(conn, "ROLLBACK", "", PQTRANS_IDLE);
    PQfinish(conn);
}

/* SERIALIZABLE is refused (0A000, with a hint to use REPEATABLE READ)
 * wherever it would be used: Talus never runs snapshot isolation under
 * that name. READ UNCOMMITTED is accepted, as in PostgreSQL. */
static void
test_serializable_refused(void **state)
{
    (void)state;
    PGconn *conn = th_connect(&cluster);
    PGresult *res = PQexec(conn, "BEGIN ISOLATION LEVEL SERIALIZABLE");
    assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "0A000");
    assert_string_equal(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
                        "SERIALIZABLE isolation is not supported");
    assert_non_null(strstr(PQresultErrorField(res, PG_DIAG_MESSAGE_HINT),
                           "REPEATABLE READ"));
    PQclear(res);
    /* As PostgreSQL sets BEGIN's modes once the block is open, the block
     * is failed. */
    assert_int_equal(PQtransactionStatus(conn), PQTRANS_INERROR);
    run(conn, "ROLLBACK", "", PQTRANS_IDLE);
    run(conn, "BEGIN", "", PQTRANS_INTRANS);
    run(conn, "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "0A000",
        PQTRANS_INERROR);
    run(conn, "ROLLBACK", "", PQTRANS_IDLE);
    run(conn, "SET default_transaction_isolation = 'serializable'", "0A000",
        PQTRANS_IDLE);
    run(conn,
        "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL "
        "SERIALIZABLE",
        "0A000", PQTRANS_IDLE);
    run(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ", "", PQTRANS_INTRANS);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM tt"), 2);
    run(conn, "COMMIT", "", PQTRANS_IDLE);
    PQfinish(conn);
}

/* DDL inside an explicit block is refused with 25001 "X cannot run inside
 * a transaction block" (the catalog changes outside any transaction) and
 * fails the block; in an implicit block of several statements it runs. */
static void
test_ddl_refused_in_block(void **state)
{
    (void)state;
    static const struct {
        const char *sql, *what;
    } cases[] = {
        {"CREATE TABLE tt2 (id int PRIMARY KEY)", "CREATE TABLE"},
        {"DROP TABLE tt", "DROP TABLE"},
        {"ALTER TABLE tt ADD COLUMN w int", "ALTER TABLE"},
        {"CREATE SEQUENCE tts", "CREATE SEQUENCE"},
        {"CREATE INDEX tti ON tt (v)", "CREATE INDEX"},
    };
    PGconn *conn = th_connect(&cluster);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run(conn, "BEGIN", "", PQTRANS_INTRANS);
        PGresult *res = PQexec(conn, cases[i].sql);
        assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "25001");
        char want[128];
        snprintf(want, sizeof(want), "%s cannot run inside a transaction block",
                 cases[i].what);
        assert_string_equal(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
                            want);
        PQclear(res);
        assert_int_equal(PQtransactionStatus(conn), PQTRANS_INERROR);
        run(conn, "ROLLBACK", "", PQTRANS_IDLE);
    }
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM tt"), 2);
    run(conn, "CREATE SEQUENCE tts; DROP SEQUENCE tts", "", PQTRANS_IDLE);
    PQfinish(conn);
}

/* A reported parameter set in a block that rolls back (or by SET LOCAL)
 * is reported again with its old value (ParameterStatus), so the
 * client's copy follows the session's. */
static void
test_settings_follow_rollback(void **state)
{
    (void)state;
    PGconn *conn = th_connect(&cluster);
    run(conn, "SET application_name = 'before'", "", PQTRANS_IDLE);
    assert_string_equal(PQparameterStatus(conn, "application_name"), "before");
    run(conn, "BEGIN", "", PQTRANS_INTRANS);
    run(conn, "SET application_name = 'inside'", "", PQTRANS_INTRANS);
    assert_string_equal(PQparameterStatus(conn, "application_name"), "inside");
    run(conn, "ROLLBACK", "", PQTRANS_IDLE);
    assert_string_equal(PQparameterStatus(conn, "application_name"), "before");
    run(conn, "BEGIN", "", PQTRANS_INTRANS);
    run(conn, "SET LOCAL application_name = 'local'", "", PQTRANS_INTRANS);
    run(conn, "COMMIT", "", PQTRANS_IDLE);
    assert_string_equal(PQparameterStatus(conn, "application_name"), "before");
    PGresult *res = PQexec(conn, "SHOW application_name");
    assert_string_equal(PQgetvalue(res, 0, 0), "before");
    PQclear(res);
    PQfinish(conn);
}

/* Wait until @conn's socket is readable (or @timeout_s passed): the
 * router spoke or closed. */
static bool
wait_readable(PGconn *conn, double timeout_s)
{
    struct pollfd p = {.fd = PQsocket(conn), .events = POLLIN};
    return poll(&p, 1, (int)(timeout_s * 1000)) > 0;
}

/* idle_in_transaction_session_timeout ends a session that stays silent in
 * an open (or failed) block: FATAL 25P03, then the connection closes. A
 * session idle outside a block, or busy, is not affected. */
static void
test_idle_in_transaction_timeout(void **state)
{
    (void)state;
    for (int failed = 0; failed < 2; failed++) {
        struct notices nt;
        PGconn *conn = connect_with_notices(&nt);
        run(conn, "SET idle_in_transaction_session_timeout = 300", "",
            PQTRANS_IDLE);
        PGresult *res =
            PQexec(conn, "SHOW idle_in_transaction_session_timeout");
        assert_string_equal(PQgetvalue(res, 0, 0), "300ms");
        PQclear(res);
        run(conn, "BEGIN", "", PQTRANS_INTRANS);
        if (failed)
            run(conn, "SELECT 1 / 0", "22012", PQTRANS_INERROR);
        double t0 = th_now();
        assert_true(wait_readable(conn, 30));
        assert_true(th_now() - t0 >= 0.25);
        /* Read and parse what came: an ErrorResponse while idle goes to
         * the notice receiver. */
        PQconsumeInput(conn);
        PQisBusy(conn);
        assert_string_equal(nt.sqlstate, "25P03");
        assert_string_equal(nt.message, "terminating connection due to "
                                        "idle-in-transaction timeout");
        res = PQexec(conn, "SELECT 1");
        assert_int_not_equal(PQresultStatus(res), PGRES_TUPLES_OK);
        PQclear(res);
        assert_int_equal(PQstatus(conn), CONNECTION_BAD);
        PQfinish(conn);
    }
    /* Idle outside a block: the session stays. */
    PGconn *conn = th_connect(&cluster);
    run(conn, "SET idle_in_transaction_session_timeout = 100", "",
        PQTRANS_IDLE);
    run(conn, "BEGIN", "", PQTRANS_INTRANS);
    run(conn, "COMMIT", "", PQTRANS_IDLE);
    assert_false(wait_readable(conn, 0.5));
    assert_int_equal(th_scalar(conn, "SELECT 7"), 7);
    PQfinish(conn);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_protocol_status),
        cmocka_unit_test(test_implicit_block),
        cmocka_unit_test(test_extended_protocol_status),
        cmocka_unit_test(test_serializable_refused),
        cmocka_unit_test(test_ddl_refused_in_block),
        cmocka_unit_test(test_settings_follow_rollback),
        cmocka_unit_test(test_idle_in_transaction_timeout),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
