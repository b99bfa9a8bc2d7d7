/* bench_catalog — how fast a router picks up another router's DDL.
 *
 *   bench_catalog [-t trials]
 *
 * Starts (through the test harness, from the build tree) a 3-node cluster
 * with two routers, A and B. Each trial:
 *   - drop: B has used table d; A drops it; the time from A's DROP
 *     returning to the end of B's first statement that sees it gone
 *     (42P01; the node refuses B's stale map version, B reloads);
 *   - create: A creates table n<i>; the time from A's CREATE returning to
 *     the end of B's first statement that uses it (B's catalog misses and
 *     reloads).
 * B sends its statement at once, in a loop until it sees the change (it
 * always does on the first statement: the change is committed before A's
 * DDL returns). Prints one line per trial, then the median and maximum:
 *
 *   trial=1 drop_ms=2.1 drop_statements=1 create_ms=1.4 create_statements=1
 *   catalog trials=10 drop_median_ms=2.0 drop_max_ms=3.1 create_median_ms=...
 *
 * Exit 0 when every trial completed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/base/sqlstate.h"
#include "harness.h"

#define MAX_TRIALS 64
#define MAX_STATEMENTS 1000

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The SQLSTATE of @sql ("" on success). */
static const char *
state_of(PGconn *conn, const char *sql)
{
    static char state[8];
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    snprintf(state, sizeof(state), "%s",
             st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? ""
             : s != NULL                                     ? s
                         : TL_SQLSTATE_CONNECTION_FAILURE);
    PQclear(res);
    return state;
}

int
main(int argc, char **argv)
{
    int trials = 10, opt;
    double drop_ms[MAX_TRIALS], create_ms[MAX_TRIALS];
    struct th_cluster c;
    char sql[128];

    while ((opt = getopt(argc, argv, "t:")) != -1) {
        if (opt == 't') {
            trials = atoi(optarg);
        } else {
            fprintf(stderr, "usage: bench_catalog [-t trials]\n");
            return 2;
        }
    }
    if (trials < 1 || trials > MAX_TRIALS) {
        fprintf(stderr, "bench_catalog: 1..%d trials\n", MAX_TRIALS);
        return 2;
    }
    if (th_cluster_start(&c, NULL) != 0 || th_router2_start(&c) != 0)
        return 1;
    PGconn *a = th_connect(&c), *b = th_connect2(&c);
    int rv = 0;
    for (int i = 0; i < trials && rv == 0; i++) {
        int n_drop = 0, n_create = 0;
        if (state_of(a, "CREATE TABLE d (id bigint PRIMARY KEY)")[0] != '\0' ||
            state_of(b, "INSERT INTO d VALUES (1)")[0] != '\0') {
            fprintf(stderr, "trial %d: setup failed\n", i + 1);
            rv = 1;
            break;
        }
        if (state_of(a, "DROP TABLE d")[0] != '\0') {
            rv = 1;
            break;
        }
        double t0 = th_now();
        while (n_drop < MAX_STATEMENTS &&
               strcmp(state_of(b, "SELECT count(*) FROM d"),
                      TL_SQLSTATE_UNDEFINED_TABLE) != 0)
            n_drop++;
        drop_ms[i] = (th_now() - t0) * 1000;
        n_drop++;

        snprintf(sql, sizeof(sql), "CREATE TABLE n%d (id bigint PRIMARY KEY)",
                 i);
        if (state_of(a, sql)[0] != '\0') {
            rv = 1;
            break;
        }
        snprintf(sql, sizeof(sql), "INSERT INTO n%d VALUES (1)", i);
        t0 = th_now();
        while (n_create < MAX_STATEMENTS && state_of(b, sql)[0] != '\0')
            n_create++;
        create_ms[i] = (th_now() - t0) * 1000;
        n_create++;
        if (n_drop > MAX_STATEMENTS || n_create > MAX_STATEMENTS) {
            fprintf(stderr, "trial %d: router B never saw the change\n", i + 1);
            rv = 1;
            break;
        }
        printf("trial=%d drop_ms=%.1f drop_statements=%d create_ms=%.1f "
               "create_statements=%d\n",
               i + 1, drop_ms[i], n_drop, create_ms[i], n_create);
        fflush(stdout);
    }
    if (rv == 0) {
        qsort(drop_ms, (size_t)trials, sizeof drop_ms[0], cmp_double);
        qsort(create_ms, (size_t)trials, sizeof create_ms[0], cmp_double);
        printf("catalog trials=%d drop_median_ms=%.1f drop_max_ms=%.1f "
               "create_median_ms=%.1f create_max_ms=%.1f\n",
               trials, drop_ms[trials / 2], drop_ms[trials - 1],
               create_ms[trials / 2], create_ms[trials - 1]);
    }
    PQfinish(a);
    PQfinish(b);
    th_cluster_stop(&c);
    return rv;
}
