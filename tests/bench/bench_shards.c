/* bench_shards — how point and scatter query latency grow with the shard
 * count.
 *
 * For each shard count (default 1, 2, 4, 8, 16) it starts a fresh 3-node
 * cluster through the test harness (real binaries from this build tree),
 * loads the same table, and times from one libpq connection:
 *   point    SELECT * FROM t WHERE id = <random>        (one shard)
 *   scatter  SELECT count(*) FROM t WHERE n = -1        (every shard scans
 *            its part of the table; no row matches)
 *   join_point    SELECT t.id, r.label FROM t JOIN r ON t.n = r.k
 *                 WHERE t.id = <random>   (one shard; r is a reference
 *                 table: a point lookup in the shard's copy)
 *   join_scatter  SELECT count(*) FROM t JOIN r ON t.n = r.k
 *                 WHERE r.label = 'none'  (every shard joins all its rows
 *                 with its copy of r; no row matches)
 * printing p50/p99 latency for each. It asserts nothing about speed.
 *
 *   bench_shards [-r replicas] [-n rows] [-q queries] [-s 1,2,4,8,16] */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
pct(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    int i = (int)(p * (n - 1) + 0.5);
    return v[i];
}

enum phase { SCATTER, POINT, JOIN_POINT, JOIN_SCATTER };

/* Load @rows rows into t in 500-row statements, and the 100 rows of the
 * reference table r. 0 or -1. */
static int
load(PGconn *conn, int rows)
{
    static char sql[1 << 16];
    if (!th_ok(conn, "CREATE TABLE t (id bigint PRIMARY KEY, v text, n "
                     "integer) PARTITION BY HASH (id)") ||
        !th_ok(conn, "CREATE TABLE r (k integer PRIMARY KEY, label text) "
                     "WITH (distribution = 'reference')"))
        return -1;
    size_t rlen = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO r VALUES ");
    for (int k = 0; k < 100; k++)
        rlen += (size_t)snprintf(sql + rlen, sizeof(sql) - rlen,
                                 "%s(%d, 'label-%d')", k ? "," : "", k, k);
    if (!th_ok(conn, sql))
        return -1;
    for (int b = 0; b < rows; b += 500) {
        size_t len =
            (size_t)snprintf(sql, sizeof(sql), "INSERT INTO t VALUES ");
        for (int i = b; i < b + 500 && i < rows; i++)
            len += (size_t)snprintf(sql + len, sizeof(sql) - len,
                                    "%s(%d, 'value-%d', %d)", i == b ? "" : ",",
                                    i, i, i % 100);
        if (!th_ok(conn, sql))
            return -1;
    }
    return 0;
}

/* Time @q executions of the query @make builds; fills p50/p99. Returns the
 * number of failed executions. */
static int
time_queries(PGconn *conn, int q, int rows, enum phase ph, double *p50,
             double *p99)
{
    double *lat = calloc((size_t)q, sizeof(double));
    int errors = 0;
    char sql[160];
    for (int i = 0; i < q; i++) {
        bool count = ph == SCATTER || ph == JOIN_SCATTER;
        if (ph == POINT)
            snprintf(sql, sizeof(sql), "SELECT * FROM t WHERE id = %d",
                     rand() % rows);
        else if (ph == SCATTER)
            snprintf(sql, sizeof(sql), "SELECT count(*) FROM t WHERE n = -1");
        else if (ph == JOIN_POINT)
            snprintf(sql, sizeof(sql),
                     "SELECT t.id, r.label FROM t JOIN r ON t.n = r.k "
                     "WHERE t.id = %d",
                     rand() % rows);
        else
            snprintf(sql, sizeof(sql),
                     "SELECT count(*) FROM t JOIN r ON t.n = r.k "
                     "WHERE r.label = 'none'");
        double t0 = now_ms();
        PGresult *res = PQexec(conn, sql);
        lat[i] = now_ms() - t0;
        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
            (count && strcmp(PQgetvalue(res, 0, 0), "0") != 0))
            errors++;
        PQclear(res);
    }
    *p50 = pct(lat, q, 0.50);
    *p99 = pct(lat, q, 0.99);
    free(lat);
    return errors;
}

int
main(int argc, char **argv)
{
    int replicas = 1, rows = 20000, queries = 2000, opt;
    char shards_arg[128] = "1,2,4,8,16";

    while ((opt = getopt(argc, argv, "r:n:q:s:")) != -1) {
        switch (opt) {
        case 'r':
            replicas = atoi(optarg);
            break;
        case 'n':
            rows = atoi(optarg);
            break;
        case 'q':
            queries = atoi(optarg);
            break;
        case 's':
            snprintf(shards_arg, sizeof(shards_arg), "%s", optarg);
            break;
        default:
            fprintf(stderr,
                    "usage: %s [-r replicas] [-n rows] [-q queries] "
                    "[-s 1,2,4,8,16]\n",
                    argv[0]);
            return 2;
        }
    }
    if (replicas < 1 || rows < 1 || queries < 1)
        return 2;
    srand(42);
    int status = 0;
    char *save = NULL;
    /* strtok_r: the harness tokenises too. */
    for (char *tok = strtok_r(shards_arg, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        struct th_options o = {.n_nodes = 3,
                               .n_shards = (uint32_t)atoi(tok),
                               .n_replicas = (uint32_t)replicas};
        struct th_cluster c;
        double pp50, pp99, sp50, sp99, jp50, jp99, js50, js99;
        if (o.n_shards < 1 || th_cluster_start(&c, &o) != 0) {
            fprintf(stderr, "bench_shards: cluster with %s shards failed\n",
                    tok);
            return 1;
        }
        PGconn *conn = th_connect(&c);
        if (load(conn, rows) != 0) {
            status = 1;
        } else {
            /* Warm the connections to every node before timing. */
            time_queries(conn, 50, rows, SCATTER, &sp50, &sp99);
            int e = time_queries(conn, queries, rows, POINT, &pp50, &pp99);
            e += time_queries(conn, queries, rows, SCATTER, &sp50, &sp99);
            e += time_queries(conn, queries, rows, JOIN_POINT, &jp50, &jp99);
            /* A whole-table join costs about rows lookups: fewer runs. */
            e += time_queries(conn, queries / 10 + 1, rows, JOIN_SCATTER, &js50,
                              &js99);
            printf("shards=%u replicas=%d rows=%d point_p50_ms=%.3f "
                   "point_p99_ms=%.3f scatter_p50_ms=%.3f scatter_p99_ms=%.3f "
                   "join_point_p50_ms=%.3f join_point_p99_ms=%.3f "
                   "join_scatter_p50_ms=%.3f join_scatter_p99_ms=%.3f "
                   "errors=%d\n",
                   o.n_shards, replicas, rows, pp50, pp99, sp50, sp99, jp50,
                   jp99, js50, js99, e);
            fflush(stdout);
            if (e > 0)
                status = 1;
        }
        PQfinish(conn);
        th_cluster_stop(&c);
    }
    return status;
}
