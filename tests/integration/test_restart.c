/* Durability across restarts: every acknowledged row survives stopping and
 * restarting every process, cleanly and with kill -9. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define N_ROWS 3000

static struct th_cluster cluster;

static int
setup(void **state)
{
    return th_cluster_start(&cluster, NULL);
}

static int
teardown(void **state)
{
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

static void
insert_rows(PGconn *conn, int from, int to)
{
    static char sql[1 << 20];
    for (int b = from; b < to; b += 500) {
        size_t n = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO kv VALUES ");
        for (int i = b; i < b + 500 && i < to; i++)
            n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s(%d, 'v%d')",
                                  i == b ? "" : ", ", i, i * 7);
        assert_true(th_ok(conn, sql));
    }
}

/* Every row 0..n-1 is present exactly once with its value. */
static void
check_rows(PGconn *conn, int n)
{
    PGresult *res = th_exec(conn, "SELECT k, v FROM kv ORDER BY k");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(res), n);
    for (int i = 0; i < n; i++) {
        char want[32];
        snprintf(want, sizeof(want), "v%d", i * 7);
        assert_int_equal(atoi(PQgetvalue(res, i, 0)), i);
        assert_string_equal(PQgetvalue(res, i, 1), want);
    }
    PQclear(res);
}

static void
restart_all(int sig)
{
    th_router_signal(&cluster, sig);
    for (uint32_t i = 1; i <= cluster.cfg.n_nodes; i++)
        th_node_signal(&cluster, i, sig);
    for (uint32_t i = 1; i <= cluster.cfg.n_nodes; i++)
        assert_int_equal(th_node_start(&cluster, i), 0);
    assert_int_equal(th_router_start(&cluster), 0);
    assert_int_equal(th_wait_ready(&cluster, 60), 0);
}

/* A clean stop and start of every process keeps every row and the schema. */
static void
test_clean_restart_keeps_rows(void **state)
{
    PGconn *conn = th_connect(&cluster);
    assert_true(th_ok(conn, "CREATE TABLE kv (k bigint PRIMARY KEY, v text) "
                            "PARTITION BY HASH (k)"));
    insert_rows(conn, 0, N_ROWS);
    PQfinish(conn);

    restart_all(SIGTERM);
    conn = th_connect(&cluster);
    check_rows(conn, N_ROWS);
    PQfinish(conn);
}

/* kill -9 of every process right after acknowledged writes loses none of
 * them, and the restarted cluster accepts new writes. */
static void
test_kill9_restart_keeps_rows(void **state)
{
    PGconn *conn = th_connect(&cluster);
    insert_rows(conn, N_ROWS, N_ROWS + 1000);
    assert_true(th_ok(conn, "UPDATE kv SET v = 'v' || 'x' WHERE k = 0"));
    assert_true(th_ok(conn, "UPDATE kv SET v = 'v0' WHERE k = 0"));
    PQfinish(conn);

    restart_all(SIGKILL);
    conn = th_connect(&cluster);
    check_rows(conn, N_ROWS + 1000);
    insert_rows(conn, N_ROWS + 1000, N_ROWS + 1100);
    check_rows(conn, N_ROWS + 1100);
    PQfinish(conn);

    /* And once more, so replay after a replay is idempotent too. */
    restart_all(SIGKILL);
    conn = th_connect(&cluster);
    check_rows(conn, N_ROWS + 1100);
    PQfinish(conn);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_restart_keeps_rows),
        cmocka_unit_test(test_kill9_restart_keeps_rows),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
