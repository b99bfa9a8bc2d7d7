/* Statements larger than one Raft entry may carry, on a 3-node cluster
 * with 3 replicas per shard, max_entry_bytes lowered to 1 MiB and a
 * request timeout (300 ms) shorter than a large write takes: an UPDATE,
 * INSERT or DELETE whose write to some shard exceeds the limit fails with
 * 54000 (message, detail and hint naming the setting) and changes nothing
 * on any shard; one under the limit succeeds and applies once, even though
 * each shard takes longer than the request timeout to commit and apply it
 * (the leader answers "still in progress" and the router's retry waits for
 * the same proposal). */
#include <libpq-fe.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define N_ROWS 60000
#define BATCH 2000

static struct th_cluster cluster;
static PGconn *conn;

static char *
insert_sql(long from, long n, int pad)
{
    size_t cap = (size_t)n * (48 + (size_t)pad) + 64, off;
    char *sql = malloc(cap);
    off = (size_t)snprintf(sql, cap, "INSERT INTO big VALUES ");
    for (long i = from; i < from + n; i++) {
        off += (size_t)snprintf(sql + off, cap - off, "%s(%ld, %ld, '",
                                i == from ? "" : ",", i, i);
        memset(sql + off, 'x', (size_t)pad);
        off += (size_t)pad;
        off += (size_t)snprintf(sql + off, cap - off, "')");
    }
    return sql;
}

static int
setup(void **state)
{
    struct th_options o = {.n_nodes = 3,
                           .n_shards = 6,
                           .n_replicas = 3,
                           .request_timeout_ms = 300,
                           .extra_conf = "max_entry_bytes = 1048576"};
    if (th_cluster_start(&cluster, &o) != 0)
        return -1;
    conn = th_connect(&cluster);
    if (!th_ok(conn, "CREATE TABLE big (id bigint PRIMARY KEY, v bigint, "
                     "pad text) PARTITION BY HASH (id)"))
        return -1;
    for (long b = 0; b < N_ROWS; b += BATCH) {
        char *sql = insert_sql(b, BATCH, 1);
        bool ok = th_ok(conn, sql);
        free(sql);
        if (!ok)
            return -1;
    }
    return 0;
}

static int
teardown(void **state)
{
    PQfinish(conn);
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

static void
expect_54000(const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "54000");
    assert_non_null(strstr(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY),
                           "more than max_entry_bytes (1048576) allows"));
    assert_non_null(strstr(PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL),
                           "nothing was written"));
    assert_non_null(
        strstr(PQresultErrorField(r, PG_DIAG_MESSAGE_HINT), "max_entry_bytes"));
    PQclear(r);
}

/* An UPDATE of every row fits (about 0.6 MB per shard) and applies once on
 * every shard although each takes longer than the request timeout. */
static void
test_update_under_the_limit_applies_once(void **state)
{
    PGresult *r = th_exec(conn, "UPDATE big SET v = v + 1");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    assert_string_equal(PQcmdTuples(r), "60000");
    PQclear(r);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM big WHERE v = id "
                                     "+ 1"),
                     N_ROWS);
}

/* Widening every row makes each shard's batch larger than 1 MiB: the
 * two-phase modify refuses it before any shard writes. */
static void
test_update_over_the_limit_changes_nothing(void **state)
{
    char sql[512];
    int off = snprintf(sql, sizeof sql, "UPDATE big SET pad = '");
    memset(sql + off, 'y', 200);
    snprintf(sql + off + 200, sizeof sql - (size_t)off - 200, "'");
    expect_54000(sql);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM big WHERE pad = "
                                     "'x'"),
                     N_ROWS);
}

/* A DELETE whose batches are over the limit on some shards only (a range
 * of ids spreads evenly, so the limit is lowered by the row count):
 * nothing is deleted anywhere. Rows are made wide first, in pieces. */
static void
test_delete_over_the_limit_changes_nothing(void **state)
{
    char sql[512];
    for (long lo = 0; lo < N_ROWS; lo += 10000) {
        int off = snprintf(sql, sizeof sql, "UPDATE big SET pad = '");
        memset(sql + off, 'z', 100);
        snprintf(sql + off + 100, sizeof sql - (size_t)off - 100,
                 "' WHERE id >= %ld AND id < %ld", lo, lo + 10000);
        assert_true(th_ok(conn, sql));
    }
    expect_54000("DELETE FROM big");
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM big"), N_ROWS);
    assert_true(th_ok(conn, "DELETE FROM big WHERE id >= 50000"));
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM big"), 50000);
}

/* An INSERT whose rows for some shard exceed the limit is refused by the
 * router before any shard is written. */
static void
test_insert_over_the_limit_changes_nothing(void **state)
{
    char *sql = insert_sql(100000, 20000, 400);
    expect_54000(sql);
    free(sql);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM big WHERE id >= "
                                     "100000"),
                     0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_under_the_limit_applies_once),
        cmocka_unit_test(test_update_over_the_limit_changes_nothing),
        cmocka_unit_test(test_delete_over_the_limit_changes_nothing),
        cmocka_unit_test(test_insert_over_the_limit_changes_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
