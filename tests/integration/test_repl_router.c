/* SQL through the router on a 3-node RF=3 cluster: rows inserted before
 * and after kill -9 of a node that leads shards are all there, the router
 * finding the new leaders through the nodes' not-leader hints; every
 * statement acknowledged to the client is durable. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/base/sqlstate.h"
#include "harness.h"

#define N_ROWS 600

static struct th_cluster cluster;

static int
setup(void **state)
{
    /* The router reads the cluster file (--config), for compatibility;
     * the other tests start it with --join. */
    struct th_options o = {
        .n_nodes = 3, .n_shards = 6, .n_replicas = 3, .router_config = true};
    return th_cluster_start(&cluster, &o);
}

static int
teardown(void **state)
{
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

static int n_client_retries, n_dup_after_retry;

/* Run @sql until it succeeds or @timeout_s passes (the router may answer
 * an error while a shard elects a leader); true on success. With
 * @dup_ok, 23505 after a failed attempt counts as success: the earlier
 * attempt's outcome was unknown to us and it did apply. */
static bool
exec_retry(PGconn *conn, const char *sql, double timeout_s, bool dup_ok)
{
    double deadline = th_now() + timeout_s;
    bool retried = false;
    while (th_now() < deadline) {
        PGresult *res = PQexec(conn, sql);
        ExecStatusType st = PQresultStatus(res);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        bool dup =
            state != NULL && strcmp(state, TL_SQLSTATE_UNIQUE_VIOLATION) == 0;
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && !dup)
            fprintf(stderr, "retrying %s: %s", sql, PQresultErrorMessage(res));
        PQclear(res);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
            return true;
        if (dup && dup_ok && retried) {
            n_dup_after_retry++;
            return true;
        }
        if (dup)
            return false;
        retried = true;
        n_client_retries++;
        usleep(50 * 1000);
    }
    return false;
}

/* Rows 0..N_ROWS-1 inserted one statement each, with node 1 (preferred
 * leader of shards 0 and 3) killed -9 halfway: every acknowledged row is
 * present exactly once afterwards, read through the router. */
static void
test_sql_survives_leader_kill(void **state)
{
    PGconn *conn = th_connect(&cluster);
    char sql[128];
    PGresult *res;
    double t_kill = 0, worst = 0;

    assert_true(exec_retry(conn,
                           "CREATE TABLE kv (k bigint PRIMARY KEY, v bigint) "
                           "PARTITION BY HASH (k)",
                           20, false));
    for (int i = 0; i < N_ROWS; i++) {
        double t0 = th_now();
        if (i == N_ROWS / 2) {
            th_node_signal(&cluster, 1, SIGKILL);
            t_kill = th_now();
        }
        snprintf(sql, sizeof sql, "INSERT INTO kv VALUES (%d, %d)", i, i * 2);
        assert_true(exec_retry(conn, sql, 20, true));
        if (th_now() - t0 > worst)
            worst = th_now() - t0;
    }
    fprintf(stderr,
            "slowest insert %.2f s (node 1 killed at row %d, %.2f s ago); "
            "client retries %d, duplicates after a retry %d\n",
            worst, N_ROWS / 2, th_now() - t_kill, n_client_retries,
            n_dup_after_retry);
    assert_true(exec_retry(conn, "SELECT 1", 10, false));
    res = th_exec(conn, "SELECT k, v FROM kv ORDER BY k");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(res), N_ROWS);
    for (int i = 0; i < N_ROWS; i++) {
        assert_int_equal(atoi(PQgetvalue(res, i, 0)), i);
        assert_int_equal(atoi(PQgetvalue(res, i, 1)), i * 2);
    }
    PQclear(res);
    PQfinish(conn);
    assert_int_equal(th_node_start(&cluster, 1), 0);
    assert_int_equal(th_wait_ready(&cluster, 60), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sql_survives_leader_kill),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
