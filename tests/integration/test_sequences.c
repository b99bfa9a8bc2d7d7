/* Sequences across two stateless routers: values handed out concurrently
 * by both routers are all distinct (each router reserves blocks through
 * the meta group), serial keys inserted through both never collide, a
 * bounded sequence hands out each value at most once cluster-wide, and a
 * router killed with -9 never hands out a value again. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define N_THREADS 4 /* two per router */
#define N_CALLS 150

static struct th_cluster cluster;

static int
setup(void **state)
{
    (void)state;
    if (th_cluster_start(&cluster, NULL) != 0)
        return -1;
    return th_router2_start(&cluster);
}

static int
teardown(void **state)
{
    (void)state;
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

struct worker {
    int router; /* 1 or 2 */
    const char *sql;
    long long values[N_CALLS];
    int n_ok;
};

static void *
run_worker(void *arg)
{
    struct worker *w = arg;
    PGconn *conn =
        w->router == 1 ? th_connect(&cluster) : th_connect2(&cluster);
    for (int i = 0; i < N_CALLS; i++) {
        PGresult *res = PQexec(conn, w->sql);
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK && PQntuples(res) == 1) {
            w->values[w->n_ok++] = atoll(PQgetvalue(res, 0, 0));
        } else if (st == PGRES_COMMAND_OK) {
            w->n_ok++;
        } else {
            fprintf(stderr, "worker: %s", PQerrorMessage(conn));
        }
        PQclear(res);
    }
    PQfinish(conn);
    return NULL;
}

/* Run @sql N_CALLS times in each of N_THREADS threads, half of them on
 * each router. */
static void
run_workers(struct worker *w, const char *sql)
{
    pthread_t tid[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].router = 1 + i % 2;
        w[i].sql = sql;
        assert_int_equal(pthread_create(&tid[i], NULL, run_worker, &w[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(tid[i], NULL);
}

static int
cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* nextval() called at once through both routers from four sessions gives
 * every caller a distinct value, increasing within each session. */
static void
test_nextval_distinct_across_routers(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster);
    assert_true(th_ok(a, "CREATE SEQUENCE shared"));
    static struct worker w[N_THREADS];
    run_workers(w, "SELECT nextval('shared')");
    long long *all = calloc(N_THREADS * N_CALLS, sizeof(*all));
    size_t n = 0;
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(w[i].n_ok, N_CALLS);
        for (int k = 0; k < w[i].n_ok; k++) {
            if (k > 0)
                assert_true(w[i].values[k] > w[i].values[k - 1]);
            all[n++] = w[i].values[k];
        }
    }
    qsort(all, n, sizeof(*all), cmp_ll);
    for (size_t i = 1; i < n; i++)
        assert_true(all[i] != all[i - 1]);
    assert_true(all[0] >= 1);
    free(all);
    PQfinish(a);
}

/* Rows inserted through both routers into a table keyed by a serial
 * column all get distinct keys: no insert fails with 23505. */
static void
test_serial_inserts_across_routers(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster);
    assert_true(th_ok(a, "CREATE TABLE ser (id bigserial PRIMARY KEY, "
                         "v text)"));
    static struct worker w[N_THREADS];
    run_workers(w, "INSERT INTO ser (v) VALUES ('x')");
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(w[i].n_ok, N_CALLS);
    assert_int_equal(th_scalar(a, "SELECT count(*) FROM ser"),
                     N_THREADS * N_CALLS);
    assert_int_equal(th_scalar(a, "SELECT count(DISTINCT id) FROM ser"),
                     N_THREADS * N_CALLS);
    assert_true(th_ok(a, "DROP TABLE ser"));
    assert_string_equal(th_sqlstate(a, "SELECT nextval('ser_id_seq')"),
                        "42P01");
    PQfinish(a);
}

/* A sequence with MAXVALUE 5 hands out each of 1..5 exactly once across
 * both routers (whichever router reserved it); then both report
 * 2200H. */
static void
test_bounded_sequence_across_routers(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster), *b = th_connect2(&cluster);
    assert_true(th_ok(a, "CREATE SEQUENCE small MAXVALUE 5"));
    bool seen[6] = {false};
    int got = 0;
    for (int i = 0; i < 14; i++) {
        PGconn *c = i % 2 == 0 ? a : b;
        PGresult *res = PQexec(c, "SELECT nextval('small')");
        if (PQresultStatus(res) == PGRES_TUPLES_OK) {
            long long v = atoll(PQgetvalue(res, 0, 0));
            assert_true(v >= 1 && v <= 5);
            assert_false(seen[v]);
            seen[v] = true;
            got++;
        } else {
            assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE),
                                "2200H");
        }
        PQclear(res);
    }
    assert_int_equal(got, 5);
    assert_string_equal(th_sqlstate(a, "SELECT nextval('small')"), "2200H");
    assert_string_equal(th_sqlstate(b, "SELECT nextval('small')"), "2200H");
    /* Reading a sequence as a table is not supported yet (PostgreSQL
     * returns its one row). */
    assert_string_equal(th_sqlstate(a, "SELECT * FROM small"), "0A000");
    PQfinish(a);
    PQfinish(b);
}

/* currval() is the session's own: another session of the same router has
 * none yet (55000), and a router killed with -9 and restarted continues
 * past every value it handed out before. */
static void
test_currval_per_session_and_restart(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster), *a2 = th_connect(&cluster);
    assert_true(th_ok(a, "CREATE SEQUENCE r"));
    long long before = th_scalar(a, "SELECT nextval('r')");
    assert_int_equal(th_scalar(a, "SELECT currval('r')"), before);
    assert_string_equal(th_sqlstate(a2, "SELECT currval('r')"), "55000");
    PQfinish(a);
    PQfinish(a2);
    th_router_signal(&cluster, SIGKILL);
    assert_int_equal(th_router_start(&cluster), 0);
    assert_int_equal(th_wait_ready(&cluster, 30), 0);
    a = th_connect(&cluster);
    long long after = th_scalar(a, "SELECT nextval('r')");
    assert_true(after > before);
    PQfinish(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nextval_distinct_across_routers),
        cmocka_unit_test(test_serial_inserts_across_routers),
        cmocka_unit_test(test_bounded_sequence_across_routers),
        cmocka_unit_test(test_currval_per_session_and_restart),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
