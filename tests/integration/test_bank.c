/* The bank: 1,000 accounts over every shard (3 nodes, 3 replicas), four
 * clients transferring money in transactions (two UPDATEs and a log row
 * each, one of them through a second router) while another sums every
 * account again and again outside any transaction; a node is killed -9
 * and restarted, and the second router is killed -9, during the run.
 * Every sum any reader sees is the total (no reader sees half of a
 * transfer); afterwards every acknowledged transfer is in the log, and
 * every account's balance is its start plus exactly the transfers the log
 * holds (a transfer is there whole or not at all). */
#include <libpq-fe.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"

#define N_ACC 1000
#define START 100
#define N_WRITERS 4
#define MAX_XFERS 100000

static struct th_cluster cluster;

struct writer {
    int id;
    bool second_router;
    long n_acked;
    long *acked; /* transfer ids */
    long n_unclear;
};

static atomic_bool stop;
static atomic_long n_sums, n_bad_sums, n_read_errors;
static char bad_sum[128];

static int
setup(void **state)
{
    (void)state;
    struct th_options o = {.n_nodes = 3, .n_shards = 6, .n_replicas = 3};
    if (th_cluster_start(&cluster, &o) != 0)
        return -1;
    PGconn *conn = th_connect(&cluster);
    bool ok = th_ok(conn, "CREATE TABLE acc (id int PRIMARY KEY, bal bigint) "
                          "PARTITION BY HASH (id)") &&
              th_ok(conn, "CREATE TABLE xfer (id bigint PRIMARY KEY, src int, "
                          "dst int, amt bigint) PARTITION BY HASH (id)") &&
              th_ok(conn, "INSERT INTO acc SELECT g, 100 FROM "
                          "generate_series(1, 1000) g");
    PQfinish(conn);
    return ok ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

static bool
exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
              PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    return ok;
}

static PGconn *
connect_to(bool second)
{
    char conninfo[256];
    snprintf(conninfo, sizeof conninfo,
             "host=127.0.0.1 port=%u user=test dbname=test connect_timeout=10",
             second ? cluster.router2_port : th_router_port(&cluster));
    return PQconnectdb(conninfo);
}

static void *
writer_main(void *arg)
{
    struct writer *w = arg;
    PGconn *c = connect_to(w->second_router);
    unsigned seed = 7u + (unsigned)w->id;
    long seq = 0;

    while (!atomic_load(&stop)) {
        if (PQstatus(c) != CONNECTION_OK) {
            PQfinish(c);
            c = NULL;
            if (w->second_router)
                break; /* its router is gone */
            c = connect_to(false);
            continue;
        }
        long xid = (long)w->id * 1000000 + seq++;
        int a = 1 + (int)(rand_r(&seed) % N_ACC);
        int b = 1 + (int)(rand_r(&seed) % N_ACC);
        long amt = 1 + rand_r(&seed) % 10;
        char sql[256];
        if (a == b)
            continue;
        if (!exec_ok(c, "BEGIN"))
            continue;
        snprintf(sql, sizeof sql,
                 "UPDATE acc SET bal = bal - %ld WHERE id = %d", amt, a);
        bool ok = exec_ok(c, sql);
        snprintf(sql, sizeof sql,
                 "UPDATE acc SET bal = bal + %ld WHERE id = %d", amt, b);
        ok = ok && exec_ok(c, sql);
        snprintf(sql, sizeof sql, "INSERT INTO xfer VALUES (%ld, %d, %d, %ld)",
                 xid, a, b, amt);
        ok = ok && exec_ok(c, sql);
        if (!ok) {
            exec_ok(c, "ROLLBACK");
            continue;
        }
        PGresult *r = PQexec(c, "COMMIT");
        const char *tag = PQcmdStatus(r);
        if (PQresultStatus(r) == PGRES_COMMAND_OK &&
            strcmp(tag, "COMMIT") == 0) {
            if (w->n_acked < MAX_XFERS)
                w->acked[w->n_acked++] = xid;
        } else if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            w->n_unclear++;
        }
        PQclear(r);
    }
    PQfinish(c);
    return NULL;
}

static void *
reader_main(void *arg)
{
    (void)arg;
    PGconn *c = connect_to(false);
    while (!atomic_load(&stop)) {
        if (PQstatus(c) != CONNECTION_OK) {
            PQfinish(c);
            c = connect_to(false);
            continue;
        }
        PGresult *r = PQexec(c, "SELECT count(*), sum(bal) FROM acc");
        if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            long n = atol(PQgetvalue(r, 0, 0));
            long sum = atol(PQgetvalue(r, 0, 1));
            atomic_fetch_add(&n_sums, 1);
            if (n != N_ACC || sum != (long)N_ACC * START) {
                if (atomic_fetch_add(&n_bad_sums, 1) == 0)
                    snprintf(bad_sum, sizeof bad_sum, "count %ld sum %ld", n,
                             sum);
            }
        } else {
            atomic_fetch_add(&n_read_errors, 1);
        }
        PQclear(r);
    }
    PQfinish(c);
    return NULL;
}

/* A query's rows as text, retried while the locks of a transaction whose
 * router died are still being resolved (bounded). */
static PGresult *
final_query(PGconn *c, const char *sql)
{
    double t0 = th_now();
    for (;;) {
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK || th_now() - t0 > 60)
            return r;
        PQclear(r);
    }
}

/* Let the load run until @t (th_now() clock). */
static void
run_until(double t)
{
    while (th_now() < t) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void
test_bank_with_kills(void **state)
{
    (void)state;
    pthread_t wt[N_WRITERS], rt;
    struct writer w[N_WRITERS];

    assert_int_equal(th_router2_start(&cluster), 0);
    for (int i = 0; i < N_WRITERS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].id = i + 1;
        w[i].second_router = i == 0;
        w[i].acked = calloc(MAX_XFERS, sizeof(long));
        assert_int_equal(pthread_create(&wt[i], NULL, writer_main, &w[i]), 0);
    }
    assert_int_equal(pthread_create(&rt, NULL, reader_main, NULL), 0);
    double t0 = th_now();
    run_until(t0 + 2.0);
    th_node_signal(&cluster, 2, SIGKILL);
    run_until(t0 + 4.0);
    th_router2_signal(&cluster, SIGKILL);
    assert_int_equal(th_node_start(&cluster, 2), 0);
    assert_int_equal(th_wait_ready(&cluster, 60), 0);
    run_until(t0 + 9.0);
    atomic_store(&stop, true);
    for (int i = 0; i < N_WRITERS; i++)
        pthread_join(wt[i], NULL);
    pthread_join(rt, NULL);

    long acked = 0;
    for (int i = 0; i < N_WRITERS; i++)
        acked += w[i].n_acked;
    print_message("# %ld transfers acknowledged, %ld sums read (%ld read "
                  "errors)\n",
                  acked, atomic_load(&n_sums), atomic_load(&n_read_errors));
    if (atomic_load(&n_bad_sums) > 0)
        fail_msg("%ld reads saw a wrong total, first: %s",
                 atomic_load(&n_bad_sums), bad_sum);
    assert_true(acked > 0);
    assert_true(atomic_load(&n_sums) > 0);

    PGconn *c = th_connect(&cluster);
    /* Every account = start + the transfers the log holds. */
    long *bal = calloc(N_ACC + 1, sizeof(long));
    PGresult *r = final_query(c, "SELECT id, bal FROM acc");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), N_ACC);
    for (int i = 0; i < PQntuples(r); i++)
        bal[atoi(PQgetvalue(r, i, 0))] = atol(PQgetvalue(r, i, 1));
    PQclear(r);
    r = final_query(c, "SELECT id, src, dst, amt FROM xfer");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    long n_log = PQntuples(r);
    char *in_log = calloc((size_t)(N_WRITERS + 1) * 1000000, 1);
    for (long i = 0; i < n_log; i++) {
        long id = atol(PQgetvalue(r, (int)i, 0));
        int src = atoi(PQgetvalue(r, (int)i, 1));
        int dst = atoi(PQgetvalue(r, (int)i, 2));
        long amt = atol(PQgetvalue(r, (int)i, 3));
        bal[src] += amt;
        bal[dst] -= amt;
        in_log[id] = 1;
    }
    PQclear(r);
    for (int k = 1; k <= N_ACC; k++)
        if (bal[k] != START)
            fail_msg("account %d: balance minus its logged transfers is %ld, "
                     "not %d",
                     k, bal[k], START);
    for (int i = 0; i < N_WRITERS; i++)
        for (long k = 0; k < w[i].n_acked; k++)
            if (!in_log[w[i].acked[k]])
                fail_msg("acknowledged transfer %ld is not in the log",
                         w[i].acked[k]);
    print_message("# %ld transfers in the log\n", n_log);
    free(in_log);
    free(bal);
    for (int i = 0; i < N_WRITERS; i++)
        free(w[i].acked);
    PQfinish(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bank_with_kills),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
