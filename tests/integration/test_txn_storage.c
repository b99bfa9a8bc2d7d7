/* Transactions over the shards through libpq: a block's writes are seen
 * by the block only, ROLLBACK undoes them on every shard, COMMIT makes
 * all of them visible at once; REPEATABLE READ reads one snapshot and
 * the first committer wins (40001); READ COMMITTED sees what committed
 * before each statement, and an UPDATE that waited for a row lock runs on
 * the row as committed (no 40001), as in PostgreSQL; a writer waits for a
 * row another transaction holds, while a snapshot read reads past it
 * (the writer's commit is pushed above the snapshot); TRUNCATE in a
 * block rolls back; statements outside a block are atomic over every
 * shard they write; a dead router's locks are resolved. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "rpc.h"

#define N_ACC 40

static struct th_cluster cluster;

static int
setup(void **state)
{
    (void)state;
    if (th_cluster_start(&cluster, NULL) != 0)
        return -1;
    PGconn *conn = th_connect(&cluster);
    bool ok = th_ok(conn, "CREATE TABLE acc (id int PRIMARY KEY, bal int) "
                          "PARTITION BY HASH (id)") &&
              th_ok(conn, "INSERT INTO acc SELECT g, 100 FROM "
                          "generate_series(1, 40) g");
    PQfinish(conn);
    return ok ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

static void
ok(PGconn *conn, const char *sql)
{
    assert_true(th_ok(conn, sql));
}

/* Rows and total of acc, as "count/sum". */
static void
totals(PGconn *conn, char *out, size_t len)
{
    PGresult *r = PQexec(conn, "SELECT count(*), sum(bal) FROM acc");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    snprintf(out, len, "%s/%s", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
    PQclear(r);
}

/* A block's writes on several shards: its own statements see them,
 * another session does not, ROLLBACK leaves nothing. */
static void
test_rollback_undoes_every_shard(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster), *b = th_connect(&cluster);
    char t[64];

    ok(a, "BEGIN");
    for (int i = 1; i <= 10; i++) {
        char sql[96];
        snprintf(sql, sizeof sql, "UPDATE acc SET bal = bal + %d WHERE id = %d",
                 i, i);
        ok(a, sql);
    }
    ok(a, "INSERT INTO acc VALUES (1001, 5), (1002, 6)");
    ok(a, "DELETE FROM acc WHERE id = 20");
    totals(a, t, sizeof t);
    assert_string_equal(t, "41/3966"); /* 40 + 2 - 1 rows; +55 +11 -100 */
    assert_int_equal(th_scalar(a, "SELECT bal FROM acc WHERE id = 1001"), 5);
    totals(b, t, sizeof t);
    assert_string_equal(t, "40/4000");
    ok(a, "ROLLBACK");
    totals(a, t, sizeof t);
    assert_string_equal(t, "40/4000");
    totals(b, t, sizeof t);
    assert_string_equal(t, "40/4000");
    PQfinish(a);
    PQfinish(b);
}

/* Transfers across shards commit at once: a reader never sees a total
 * other than the invariant, before or after, and sees all of them after
 * COMMIT. */
static void
test_commit_is_atomic(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster), *b = th_connect(&cluster);
    char t[64];

    ok(a, "BEGIN");
    for (int i = 1; i < N_ACC; i += 2) {
        char sql[128];
        snprintf(sql, sizeof sql, "UPDATE acc SET bal = bal - 7 WHERE id = %d",
                 i);
        ok(a, sql);
        snprintf(sql, sizeof sql, "UPDATE acc SET bal = bal + 7 WHERE id = %d",
                 i + 1);
        ok(a, sql);
        totals(b, t, sizeof t);
        assert_string_equal(t, "40/4000");
        assert_int_equal(th_scalar(b, "SELECT count(*) FROM acc WHERE "
                                      "bal <> 100"),
                         0);
    }
    ok(a, "COMMIT");
    totals(b, t, sizeof t);
    assert_string_equal(t, "40/4000");
    assert_int_equal(th_scalar(b, "SELECT count(*) FROM acc WHERE bal = 93"),
                     N_ACC / 2);
    assert_int_equal(th_scalar(b, "SELECT count(*) FROM acc WHERE bal = 107"),
                     N_ACC / 2);
    ok(a, "UPDATE acc SET bal = 100");
    PQfinish(a);
    PQfinish(b);
}

/* REPEATABLE READ: every statement reads the snapshot of the first; a
 * write to a row committed by someone else since fails with 40001. */
static void
test_repeatable_read(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster), *b = th_connect(&cluster);
    char t[64];

    ok(a, "BEGIN ISOLATION LEVEL REPEATABLE READ");
    totals(a, t, sizeof t);
    assert_string_equal(t, "40/4000");
    ok(b, "UPDATE acc SET bal = bal + 50 WHERE id = 3");
    ok(b, "INSERT INTO acc VALUES (2001, 1)");
    totals(a, t, sizeof t);
    assert_string_equal(t, "40/4000");
    assert_int_equal(th_scalar(a, "SELECT bal FROM acc WHERE id = 3"), 100);
    assert_string_equal(th_sqlstate(a, "UPDATE acc SET bal = 0 WHERE id = 3"),
                        "40001");
    assert_int_equal(PQtransactionStatus(a), PQTRANS_INERROR);
    ok(a, "ROLLBACK");
    assert_int_equal(th_scalar(a, "SELECT bal FROM acc WHERE id = 3"), 150);
    ok(a, "UPDATE acc SET bal = 100 WHERE id = 3");
    ok(a, "DELETE FROM acc WHERE id = 2001");
    PQfinish(a);
    PQfinish(b);
}

/* READ COMMITTED (the default): each statement sees what committed before
 * it; an UPDATE that waited for another transaction's row lock applies to
 * the row that transaction committed. */
static void
test_read_committed_waits_and_reevaluates(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster), *b = th_connect(&cluster);

    ok(a, "BEGIN");
    ok(b, "BEGIN");
    assert_int_equal(th_scalar(b, "SELECT bal FROM acc WHERE id = 4"), 100);
    ok(a, "UPDATE acc SET bal = bal + 1 WHERE id = 4");
    /* b's UPDATE waits for a's lock ... */
    assert_int_equal(
        PQsendQuery(b, "UPDATE acc SET bal = bal * 2 WHERE id = 4"), 1);
    assert_int_equal(th_scalar(a, "SELECT bal FROM acc WHERE id = 4"), 101);
    ok(a, "COMMIT");
    /* ... then runs on 101. */
    PGresult *r = PQgetResult(b);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    assert_string_equal(PQcmdStatus(r), "UPDATE 1");
    PQclear(r);
    assert_null(PQgetResult(b));
    assert_int_equal(th_scalar(b, "SELECT bal FROM acc WHERE id = 4"), 202);
    /* A snapshot taken while b's write is pending (a's first statement)
     * reads what committed before it (b commits after the snapshot:
     * 101), without waiting for b; a new transaction sees b's commit. */
    ok(a, "BEGIN ISOLATION LEVEL REPEATABLE READ");
    assert_int_equal(th_scalar(a, "SELECT bal FROM acc WHERE id = 5"), 100);
    assert_int_equal(PQsendQuery(a, "SELECT bal FROM acc WHERE id = 4"), 1);
    ok(b, "COMMIT");
    r = PQgetResult(a);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "101");
    PQclear(r);
    assert_null(PQgetResult(a));
    ok(a, "COMMIT");
    assert_int_equal(th_scalar(a, "SELECT bal FROM acc WHERE id = 4"), 202);
    ok(a, "UPDATE acc SET bal = 100 WHERE id = 4");
    PQfinish(a);
    PQfinish(b);
}

/* lock_timeout ends a wait for a row lock with PostgreSQL's 55P03
 * "canceling statement due to lock timeout", in about that time. */
static void
test_lock_timeout(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster), *b = th_connect(&cluster);
    ok(a, "BEGIN");
    ok(a, "UPDATE acc SET bal = bal + 1 WHERE id = 7");
    ok(b, "SET lock_timeout = '300ms'");
    double t0 = th_now();
    PGresult *r = PQexec(b, "UPDATE acc SET bal = bal + 1 WHERE id = 7");
    double dt = th_now() - t0;
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "55P03");
    assert_string_equal(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY),
                        "canceling statement due to lock timeout");
    PQclear(r);
    assert_true(dt >= 0.25 && dt < 3.0);
    ok(a, "ROLLBACK");
    ok(b, "UPDATE acc SET bal = bal + 1 WHERE id = 7");
    ok(b, "UPDATE acc SET bal = 100 WHERE id = 7");
    PQfinish(a);
    PQfinish(b);
}

/* The bal of acc row @id, as seen by @conn. */
static int
bal_of(PGconn *conn, int id)
{
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT bal FROM acc WHERE id = %d", id);
    PGresult *r = PQexec(conn, sql);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    int v = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

/* ROLLBACK TO SAVEPOINT releases the row locks of the writes after the
 * savepoint on every shard (another writer takes those rows at once)
 * and keeps those before it; an error inside a savepoint releases that
 * part at once, before the client goes back to the savepoint. */
static void
test_rollback_to_releases_locks(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster), *b = th_connect(&cluster);
    ok(b, "SET lock_timeout = '300ms'");
    ok(a, "BEGIN");
    ok(a, "UPDATE acc SET bal = bal + 1 WHERE id = 11");
    ok(a, "SAVEPOINT s");
    ok(a, "UPDATE acc SET bal = bal + 1 WHERE id BETWEEN 12 AND 20");
    ok(a, "ROLLBACK TO s");
    ok(b, "UPDATE acc SET bal = bal + 5 WHERE id IN (12, 13, 14, 15, 16, 17, "
          "18, 19, 20)");
    PGresult *r = PQexec(b, "UPDATE acc SET bal = bal + 5 WHERE id = 11");
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "55P03");
    PQclear(r);
    /* An error inside a savepoint: the rows it wrote are free at once. */
    ok(a, "SAVEPOINT t");
    ok(a, "UPDATE acc SET bal = bal + 1 WHERE id = 21");
    r = PQexec(a, "SELECT 1 / 0");
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "22012");
    PQclear(r);
    ok(b, "UPDATE acc SET bal = bal + 5 WHERE id = 21");
    ok(a, "ROLLBACK TO t");
    assert_int_equal(bal_of(a, 11), 101);
    assert_int_equal(bal_of(a, 12), 105);
    ok(a, "UPDATE acc SET bal = bal + 1 WHERE id = 12");
    ok(a, "COMMIT");
    assert_int_equal(bal_of(b, 11), 101);
    assert_int_equal(bal_of(b, 12), 106);
    assert_int_equal(bal_of(b, 20), 105);
    assert_int_equal(bal_of(b, 21), 105);
    ok(b, "UPDATE acc SET bal = 100 WHERE id BETWEEN 11 AND 21");
    PQfinish(a);
    PQfinish(b);
}

/* A Query message of several statements is one transaction (PostgreSQL's
 * implicit block): an error in a later statement leaves nothing of the
 * earlier ones; without one, all of them commit; BEGIN among them makes
 * the earlier statements part of the block. */
static void
test_implicit_block_is_atomic(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster);
    PGresult *r = PQexec(a, "INSERT INTO acc VALUES (8001, 1); "
                            "UPDATE acc SET bal = bal + 1 WHERE id = 5; "
                            "INSERT INTO acc VALUES (3, 1)");
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23505");
    PQclear(r);
    assert_int_equal(th_scalar(a, "SELECT count(*) FROM acc WHERE id = 8001"),
                     0);
    assert_int_equal(th_scalar(a, "SELECT bal FROM acc WHERE id = 5"), 100);
    r = PQexec(a, "INSERT INTO acc VALUES (8001, 1); SELECT 1 / 0");
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "22012");
    PQclear(r);
    assert_int_equal(th_scalar(a, "SELECT count(*) FROM acc WHERE id = 8001"),
                     0);
    ok(a, "INSERT INTO acc VALUES (8001, 1); INSERT INTO acc VALUES (8002, 2)");
    assert_int_equal(th_scalar(a, "SELECT count(*) FROM acc WHERE id > 8000"),
                     2);
    ok(a, "DELETE FROM acc WHERE id = 8001; BEGIN; DELETE FROM acc WHERE id = "
          "8002");
    assert_int_equal(PQtransactionStatus(a), PQTRANS_INTRANS);
    ok(a, "ROLLBACK");
    assert_int_equal(th_scalar(a, "SELECT count(*) FROM acc WHERE id > 8000"),
                     2);
    ok(a, "DELETE FROM acc WHERE id > 8000");
    PQfinish(a);
}

/* Two transactions each wait for a row the other holds: one of them (the
 * younger) fails with 40P01 "deadlock detected" well before the 5 s lock
 * wait would end (55P03), its locks go at once, and the other's UPDATE
 * then succeeds. PostgreSQL picks the session that runs the check; Talus
 * the youngest transaction of the cycle. */
static void
test_deadlock_detected(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster), *b = th_connect(&cluster);
    ok(a, "BEGIN");
    ok(b, "BEGIN");
    ok(a, "UPDATE acc SET bal = bal + 1 WHERE id = 11");
    ok(b, "UPDATE acc SET bal = bal + 1 WHERE id = 12");
    assert_int_equal(
        PQsendQuery(a, "UPDATE acc SET bal = bal + 1 WHERE id = 12"), 1);
    PGresult *rb = PQexec(b, "UPDATE acc SET bal = bal + 1 WHERE id = 11");
    PGresult *ra = PQgetResult(a);
    assert_null(PQgetResult(a));
    /* b began last: b is the victim; a's wait then ends with its row. */
    assert_int_equal(PQresultStatus(rb), PGRES_FATAL_ERROR);
    assert_string_equal(PQresultErrorField(rb, PG_DIAG_SQLSTATE), "40P01");
    assert_string_equal(PQresultErrorField(rb, PG_DIAG_MESSAGE_PRIMARY),
                        "deadlock detected");
    assert_non_null(PQresultErrorField(rb, PG_DIAG_MESSAGE_DETAIL));
    assert_int_equal(PQresultStatus(ra), PGRES_COMMAND_OK);
    PQclear(ra);
    PQclear(rb);
    PGresult *r = PQexec(b, "SELECT 1");
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "25P02");
    PQclear(r);
    ok(b, "ROLLBACK");
    ok(a, "COMMIT");
    assert_int_equal(th_scalar(b, "SELECT bal FROM acc WHERE id = 11"), 101);
    assert_int_equal(th_scalar(b, "SELECT bal FROM acc WHERE id = 12"), 101);
    ok(a, "UPDATE acc SET bal = 100 WHERE id IN (11, 12)");
    PQfinish(a);
    PQfinish(b);
}

/* A transaction whose router is alive is never rolled back by a waiter,
 * however old: the waiter's attempts all end with 55P03 (for 12 s, past
 * the 10 s lock TTL that applies only to locks without an owner), and
 * the holder then commits. */
static void
test_live_owner_never_resolved(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster), *b = th_connect(&cluster);
    double t0 = th_now();
    ok(a, "BEGIN");
    ok(a, "UPDATE acc SET bal = bal + 5 WHERE id = 13");
    ok(b, "SET lock_timeout = '2s'");
    while (th_now() - t0 < 12) {
        PGresult *r = PQexec(b, "UPDATE acc SET bal = bal + 1 WHERE id = 13");
        assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
        assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "55P03");
        PQclear(r);
    }
    ok(a, "COMMIT");
    assert_int_equal(th_scalar(b, "SELECT bal FROM acc WHERE id = 13"), 105);
    ok(b, "RESET lock_timeout");
    ok(b, "UPDATE acc SET bal = 100 WHERE id = 13");
    PQfinish(a);
    PQfinish(b);
}

/* TRUNCATE in a block deletes the rows in the transaction: a ROLLBACK
 * brings them back, a COMMIT makes the table empty. */
static void
test_truncate_in_block(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster);
    ok(a, "CREATE TABLE tr (id int PRIMARY KEY) PARTITION BY HASH (id)");
    ok(a, "INSERT INTO tr SELECT g FROM generate_series(1, 30) g");
    ok(a, "BEGIN");
    ok(a, "TRUNCATE tr");
    assert_int_equal(th_scalar(a, "SELECT count(*) FROM tr"), 0);
    ok(a, "ROLLBACK");
    assert_int_equal(th_scalar(a, "SELECT count(*) FROM tr"), 30);
    ok(a, "BEGIN");
    ok(a, "TRUNCATE tr");
    ok(a, "INSERT INTO tr VALUES (7)");
    ok(a, "COMMIT");
    assert_int_equal(th_scalar(a, "SELECT count(*) FROM tr"), 1);
    ok(a, "DROP TABLE tr");
    PQfinish(a);
}

/* Poll "SELECT count(*), sum(bal) FROM acc" on @b while @a runs @sql
 * (sent before): every answer must be @rows0/@sum0 or @rows1/@sum1 —
 * the statement's rows all or nothing. Returns how many reads saw it
 * half-done (must be 0) after checking @a's result. */
static int
poll_during(PGconn *a, PGconn *b, const char *sql, const char *before,
            const char *after)
{
    int torn = 0, reads = 0;
    char t[64];

    assert_int_equal(PQsendQuery(a, sql), 1);
    for (;;) {
        assert_int_equal(PQconsumeInput(a), 1);
        bool done = !PQisBusy(a);
        totals(b, t, sizeof t);
        reads++;
        if (strcmp(t, before) != 0 && strcmp(t, after) != 0) {
            fprintf(stderr, "torn read during \"%.40s...\": %s\n", sql, t);
            torn++;
        }
        if (done)
            break;
    }
    PGresult *r;
    while ((r = PQgetResult(a)) != NULL) {
        assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
        PQclear(r);
    }
    totals(b, t, sizeof t);
    assert_string_equal(t, after);
    return torn;
}

/* Outside a block every statement is atomic too: a multi-row INSERT
 * over several shards, an UPDATE and a DELETE of every row are seen
 * whole or not at all by a concurrent reader (one commit timestamp on
 * every shard), and a duplicate key on one shard inserts nothing. */
static void
test_autocommit_statements_are_atomic(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster), *b = th_connect(&cluster);
    char before[64], after[64], sql[8192];
    int torn = 0;

    for (int round = 0; round < 5; round++) {
        size_t len =
            (size_t)snprintf(sql, sizeof sql, "INSERT INTO acc VALUES ");
        for (int i = 0; i < 200; i++)
            len += (size_t)snprintf(sql + len, sizeof sql - len, "%s(%d, 1)",
                                    i ? ", " : "", 5000 + round * 200 + i);
        snprintf(before, sizeof before, "%d/%d", 40 + round * 200,
                 4000 + round * 200);
        snprintf(after, sizeof after, "%d/%d", 40 + (round + 1) * 200,
                 4000 + (round + 1) * 200);
        torn += poll_during(a, b, sql, before, after);
    }
    torn += poll_during(a, b, "UPDATE acc SET bal = bal + 1", "1040/5000",
                        "1040/6040");
    torn += poll_during(a, b, "DELETE FROM acc WHERE id >= 5000", "1040/6040",
                        "40/4040");
    assert_int_equal(torn, 0);
    /* A duplicate of an existing key on one shard: no row of it stays. */
    PGresult *r = PQexec(a, "INSERT INTO acc VALUES (7001, 1), (7002, 1), "
                            "(7003, 1), (7004, 1), (7005, 1), (7006, 1), "
                            "(3, 1)");
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23505");
    PQclear(r);
    assert_int_equal(th_scalar(b, "SELECT count(*) FROM acc WHERE id > 7000"),
                     0);
    ok(a, "UPDATE acc SET bal = 100");
    PQfinish(a);
    PQfinish(b);
}

/* A transfer over six accounts (several shards) through a second router
 * that kills itself (TALUS_FAIL_AT, as kill -9) at step @point of its
 * COMMIT. Readers through the first router never wait and never see
 * half of it (the sum stays 4000); a writer of its rows gets them once
 * the dead router's lease expired; afterwards the transfer is there
 * entirely (@committed) or not at all. */
static void
crash_at(const char *point, bool committed)
{
    PGconn *b = th_connect(&cluster);
    setenv("TALUS_FAIL_AT", point, 1);
    assert_int_equal(th_router2_start(&cluster), 0);
    unsetenv("TALUS_FAIL_AT");
    PGconn *a = th_connect2(&cluster);
    ok(a, "BEGIN");
    for (int id = 31; id <= 36; id++) {
        char sql[96];
        snprintf(sql, sizeof sql,
                 "UPDATE acc SET bal = bal %s 10 WHERE id = %d",
                 id % 2 ? "-" : "+", id);
        ok(a, sql);
    }
    PGresult *r = PQexec(a, "COMMIT");
    assert_int_not_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(a);
    th_router2_signal(&cluster, SIGKILL); /* reaps it */
    char t[64];
    totals(b, t, sizeof t);
    assert_string_equal(t, "40/4000");
    double t0 = th_now();
    bool done = false;
    while (!done && th_now() - t0 < 30) {
        PGresult *w = PQexec(b, "UPDATE acc SET bal = bal WHERE id IN "
                                "(31, 32, 33, 34, 35, 36)");
        done = PQresultStatus(w) == PGRES_COMMAND_OK;
        if (!done)
            assert_string_equal(PQresultErrorField(w, PG_DIAG_SQLSTATE),
                                "55P03");
        PQclear(w);
        totals(b, t, sizeof t);
        assert_string_equal(t, "40/4000");
    }
    assert_true(done);
    assert_int_equal(th_scalar(b, "SELECT count(*) FROM acc WHERE id BETWEEN "
                                  "31 AND 36 AND bal = 100"),
                     committed ? 0 : 6);
    ok(b, "UPDATE acc SET bal = 100 WHERE id BETWEEN 31 AND 36");
    PQfinish(b);
}

/* A router crash at each step of a multi-shard commit. */
static void
test_router_crash_at_commit_steps(void **state)
{
    (void)state;
    crash_at("commit_before_primary", false);
    crash_at("commit_after_primary", true);
}

/* A router killed inside a transaction leaves locks; a writer through
 * another router that meets them waits, and once the dead router's
 * incarnation lease (5 s) has expired in the meta group the writer
 * resolves the transaction through its record: rolled back, the
 * writer's UPDATE applies to the committed row. Bounded: every attempt
 * ends within its lock wait. */
static void
test_dead_router_locks_resolved(void **state)
{
    (void)state;
    assert_int_equal(th_router2_start(&cluster), 0);
    PGconn *a = th_connect2(&cluster);
    PGconn *b = th_connect(&cluster);
    double t0 = th_now();
    bool done = false;

    ok(a, "BEGIN");
    ok(a, "UPDATE acc SET bal = bal + 1000 WHERE id = 9");
    ok(a, "UPDATE acc SET bal = bal + 1000 WHERE id = 10");
    th_router2_signal(&cluster, SIGKILL);
    while (!done && th_now() - t0 < 40) {
        PGresult *r = PQexec(b, "UPDATE acc SET bal = bal + 1 WHERE id = 10");
        if (PQresultStatus(r) == PGRES_COMMAND_OK)
            done = true;
        else
            assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE),
                                "55P03");
        PQclear(r);
    }
    assert_true(done);
    assert_int_equal(th_scalar(b, "SELECT bal FROM acc WHERE id = 10"), 101);
    assert_int_equal(th_scalar(b, "SELECT bal FROM acc WHERE id = 9"), 100);
    ok(b, "BEGIN");
    ok(b, "UPDATE acc SET bal = 100 WHERE id IN (9, 10)");
    ok(b, "COMMIT");
    PQfinish(a);
    PQfinish(b);
}

/* Transactions waiting on the shards' leaders for row locks
 * (ShardStatus.n_lock_waiters, summed over every node and shard). */
static long long
lock_waiters(void)
{
    long long n = 0;
    for (uint32_t id = 1; id <= cluster.cfg.n_nodes; id++) {
        Talus__Request req = TALUS__REQUEST__INIT;
        Talus__StatusRequest sr = TALUS__STATUS_REQUEST__INIT;
        Talus__Response *resp;
        req.request_id = tl_rpc_next_id();
        req.body_case = TALUS__REQUEST__BODY_STATUS;
        req.status = &sr;
        if (th_node_call(&cluster, id, &req, 2000, &resp) != 0)
            continue;
        for (size_t k = 0; k < resp->n_shards; k++)
            n += resp->shards[k]->n_lock_waiters;
        talus__response__free_unpacked(resp, NULL);
    }
    return n;
}

/* Wait (at most 20 s) until @n transactions wait for row locks. */
static void
wait_lock_waiters(long long n)
{
    double t0 = th_now();
    long long got;
    while ((got = lock_waiters()) != n && th_now() - t0 < 20)
        usleep(5000); /* a poll's pace, not a guess at a duration */
    if (got != n)
        fprintf(stderr, "lock waiters: %lld, expected %lld\n", got, n);
    assert_int_equal(got, n);
}

/* Waiters for a row lock get it in the order they asked, as in
 * PostgreSQL: while a transaction holds a row, three sessions ask for it
 * one after the other (each once the previous one is known to wait); when
 * the holder commits, the first gets it, then the second, then the
 * third, never a later one first, whichever of their retries arrives
 * first. Both with UPDATE and with SELECT ... FOR UPDATE in blocks. */
static void
test_lock_waits_first_come_first_served(void **state)
{
    (void)state;
    PGconn *h = th_connect(&cluster), *w[3];
    for (int k = 0; k < 3; k++)
        w[k] = th_connect(&cluster);
    ok(h, "CREATE TABLE fairq (id int PRIMARY KEY, v int) "
          "PARTITION BY HASH (id)");
    ok(h, "INSERT INTO fairq VALUES (1, 0)");
    for (int round = 0; round < 6; round++) {
        bool for_update = round % 2 == 1;
        ok(h, "BEGIN");
        ok(h, "UPDATE fairq SET v = 1 WHERE id = 1");
        for (int k = 0; k < 3; k++) {
            char sql[128];
            if (for_update) {
                ok(w[k], "BEGIN");
                assert_int_equal(PQsendQuery(w[k],
                                             "SELECT v FROM fairq WHERE id = 1 "
                                             "FOR UPDATE"),
                                 1);
            } else {
                snprintf(sql, sizeof sql,
                         "UPDATE fairq SET v = v * 10 + %d WHERE id = 1",
                         k + 2);
                assert_int_equal(PQsendQuery(w[k], sql), 1);
            }
            wait_lock_waiters(k + 1);
        }
        ok(h, "COMMIT");
        for (int k = 0; k < 3; k++) {
            PGresult *r = PQgetResult(w[k]);
            assert_int_equal(PQresultStatus(r),
                             for_update ? PGRES_TUPLES_OK : PGRES_COMMAND_OK);
            PQclear(r);
            assert_null(PQgetResult(w[k]));
            if (for_update) {
                /* Holding the row: the others still wait for it. */
                char sql[128];
                snprintf(sql, sizeof sql,
                         "UPDATE fairq SET v = v * 10 + %d WHERE id = 1",
                         k + 2);
                ok(w[k], sql);
                ok(w[k], "COMMIT");
            }
        }
        assert_int_equal(th_scalar(h, "SELECT v FROM fairq WHERE id = 1"),
                         1234);
        wait_lock_waiters(0);
    }
    ok(h, "DROP TABLE fairq");
    for (int k = 0; k < 3; k++)
        PQfinish(w[k]);
    PQfinish(h);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rollback_undoes_every_shard),
        cmocka_unit_test(test_commit_is_atomic),
        cmocka_unit_test(test_repeatable_read),
        cmocka_unit_test(test_read_committed_waits_and_reevaluates),
        cmocka_unit_test(test_lock_timeout),
        cmocka_unit_test(test_rollback_to_releases_locks),
        cmocka_unit_test(test_lock_waits_first_come_first_served),
        cmocka_unit_test(test_truncate_in_block),
        cmocka_unit_test(test_autocommit_statements_are_atomic),
        cmocka_unit_test(test_implicit_block_is_atomic),
        cmocka_unit_test(test_deadlock_detected),
        cmocka_unit_test(test_live_owner_never_resolved),
        cmocka_unit_test(test_dead_router_locks_resolved),
        cmocka_unit_test(test_router_crash_at_commit_steps),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
