/* bench_copy — COPY FROM STDIN of pgbench_accounts rows into Talus, and
 * the same into PostgreSQL, with rows per second and the router's peak
 * memory.
 *
 *   bench_copy [-n rows] [-r runs] [-p postgres_port]
 *
 * Starts (through the test harness, from the build tree) the cluster
 * `make up` starts: 3 nodes, 3 replicas per shard, 6 shards, one router.
 * Each run creates pgbench_accounts (aid int PRIMARY KEY, bid int,
 * abalance int, filler character(84)), as pgbench -i does, and loads -n
 * rows (default 1,000,000) with one COPY, sent in 64 KiB CopyData
 * messages as psql sends them; then drops it. With -p, a PostgreSQL
 * server on 127.0.0.1:port (user postgres, database postgres) gets the
 * same COPY after each Talus run, alternating, so both see the same
 * machine load. Prints one line per COPY and a summary of medians:
 *
 *   talus run=1 rows=1000000 s=9.81 rows_per_s=101937 router_hwm_mb=41
 *   postgres run=1 rows=1000000 s=1.92 rows_per_s=520833
 *   median talus_rows_per_s=101937 postgres_rows_per_s=520833 ratio=0.196
 *
 * router_hwm_mb is the router's VmHWM (peak resident memory) after the
 * COPY: it must not grow with -n. Exit 0 when every COPY loaded every
 * row. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define CHUNK (64 * 1024)
#define MAX_RUNS 16

static struct th_cluster cluster;

/* The router's VmHWM in MiB, or -1. */
static long
router_hwm_mb(void)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)cluster.router);
    FILE *f = fopen(path, "r");
    long kb = -1;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb < 0 ? -1 : kb / 1024;
}

static bool
exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "bench_copy: %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return ok;
}

/* Create the table and COPY @n rows into it; seconds taken, or -1. */
static double
load(PGconn *c, long n)
{
    static const char filler[] = "                                        "
                                 "                                        "
                                 "    ";
    if (!exec_ok(c, "DROP TABLE IF EXISTS pgbench_accounts") ||
        !exec_ok(c, "CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, "
                    "bid int, abalance int, filler character(84))"))
        return -1;
    double start = th_now();
    PGresult *r = PQexec(c, "COPY pgbench_accounts FROM STDIN");
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        fprintf(stderr, "bench_copy: COPY: %s", PQerrorMessage(c));
        PQclear(r);
        return -1;
    }
    PQclear(r);
    char *buf = malloc(CHUNK + 256);
    size_t len = 0;
    for (long aid = 1; aid <= n; aid++) {
        len += (size_t)snprintf(buf + len, 256, "%ld\t%ld\t0\t%s\n", aid,
                                (aid - 1) / 100000 + 1, filler);
        if (len >= CHUNK || aid == n) {
            if (PQputCopyData(c, buf, (int)len) != 1)
                break;
            len = 0;
        }
    }
    free(buf);
    PQputCopyEnd(c, NULL);
    r = PQgetResult(c);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "bench_copy: COPY: %s", PQerrorMessage(c));
    PQclear(r);
    while ((r = PQgetResult(c)) != NULL)
        PQclear(r);
    double s = th_now() - start;
    if (ok) {
        PGresult *q = PQexec(c, "SELECT count(*) FROM pgbench_accounts");
        ok = PQresultStatus(q) == PGRES_TUPLES_OK &&
             atol(PQgetvalue(q, 0, 0)) == n;
        PQclear(q);
    }
    exec_ok(c, "DROP TABLE pgbench_accounts");
    return ok ? s : -1;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int
main(int argc, char **argv)
{
    long n = 1000000;
    int runs = 3, pg_port = 0, opt;
    while ((opt = getopt(argc, argv, "n:r:p:")) != -1) {
        if (opt == 'n')
            n = atol(optarg);
        else if (opt == 'r')
            runs = atoi(optarg);
        else if (opt == 'p')
            pg_port = atoi(optarg);
        else {
            fprintf(stderr, "usage: bench_copy [-n rows] [-r runs] "
                            "[-p postgres_port]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > MAX_RUNS)
        runs = 3;
    struct th_options o = {.n_nodes = 3, .n_shards = 6, .n_replicas = 3};
    if (th_cluster_start(&cluster, &o) != 0)
        return 1;
    PGconn *talus = th_connect(&cluster), *pg = NULL;
    if (pg_port > 0) {
        char conninfo[128];
        snprintf(conninfo, sizeof(conninfo),
                 "host=127.0.0.1 port=%d user=postgres dbname=postgres",
                 pg_port);
        pg = PQconnectdb(conninfo);
        if (PQstatus(pg) != CONNECTION_OK) {
            fprintf(stderr, "bench_copy: postgres: %s", PQerrorMessage(pg));
            return 1;
        }
    }
    double t_rate[MAX_RUNS], p_rate[MAX_RUNS];
    int bad = 0;
    for (int i = 0; i < runs; i++) {
        double s = load(talus, n);
        bad += s < 0;
        t_rate[i] = s > 0 ? (double)n / s : 0;
        printf("talus run=%d rows=%ld s=%.2f rows_per_s=%.0f "
               "router_hwm_mb=%ld\n",
               i + 1, n, s, t_rate[i], router_hwm_mb());
        fflush(stdout);
        if (pg != NULL) {
            s = load(pg, n);
            bad += s < 0;
            p_rate[i] = s > 0 ? (double)n / s : 0;
            printf("postgres run=%d rows=%ld s=%.2f rows_per_s=%.0f\n", i + 1,
                   n, s, p_rate[i]);
            fflush(stdout);
        }
    }
    double tm = median(t_rate, runs);
    if (pg != NULL) {
        double pm = median(p_rate, runs);
        printf("median talus_rows_per_s=%.0f postgres_rows_per_s=%.0f "
               "ratio=%.3f\n",
               tm, pm, pm > 0 ? tm / pm : 0);
        PQfinish(pg);
    } else {
        printf("median talus_rows_per_s=%.0f\n", tm);
    }
    PQfinish(talus);
    th_cluster_stop(&cluster);
    return bad == 0 ? 0 : 1;
}
