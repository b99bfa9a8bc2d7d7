/* bench_txn — latency of small transactions on Talus, side by side with
 * PostgreSQL.
 *
 *   bench_txn [-h host] [-p talus_port] [-P postgres_port] [-U pg_user]
 *             [-d pg_db] [-n transactions] [-r rounds]
 *
 * On Talus (a running router, user and database from the environment's
 * PGUSER/PGDATABASE) it creates bench_txn (id int PRIMARY KEY, v int)
 * PARTITION BY HASH (id) with 64 rows and finds, by EXPLAIN, two ids that
 * live on different shards and two on the same shard. On PostgreSQL (with
 * -P) the same table, unpartitioned. Then, alternating between the
 * servers for -r rounds (this machine is noisy), one connection runs -n
 * transactions of each kind:
 *
 *   two_shard   BEGIN; UPDATE id = a; UPDATE id = b; COMMIT   (a, b on
 *               different shards: a two-phase commit)
 *   one_shard   the same with two ids of one shard (one-phase)
 *   autocommit  UPDATE ... WHERE id = a (no block)
 *
 * and prints, per server and kind, the median over rounds of the p50 and
 * p99 latency of a whole transaction, and Talus's ratio to PostgreSQL:
 *
 *   round=1 server=talus kind=two_shard n=200 p50_ms=7.9 p99_ms=14.2
 *   ...
 *   kind=two_shard talus_p50_ms=7.9 pg_p50_ms=0.35 ratio=22.6
 *
 * At the end, sum(v) is checked on each server: every transaction added
 * exactly 2 (1 for autocommit). Exit 0, 1 when a transaction failed or
 * the sum is wrong, 2 on bad usage or a failed setup. */
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N_ROWS 64
#define MAX_ROUNDS 32

enum kind { KIND_TWO_SHARD, KIND_ONE_SHARD, KIND_AUTOCOMMIT, N_KINDS };
static const char *const kind_names[N_KINDS] = {"two_shard", "one_shard",
                                                "autocommit"};

struct server {
    const char *name;
    PGconn *conn;
    int ids[4];  /* two on different shards, two on one shard */
    long expect; /* the sum of v it must hold */
    double p50[N_KINDS][MAX_ROUNDS], p99[N_KINDS][MAX_ROUNDS];
};

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool
exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return ok;
}

/* The shard EXPLAIN names for a point read of @id; -1 when none. */
static int
shard_of(PGconn *c, int id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "EXPLAIN SELECT v FROM bench_txn WHERE id = %d",
             id);
    PGresult *r = PQexec(c, sql);
    int shard = -1;
    for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r);
         i++) {
        const char *line = strstr(PQgetvalue(r, i, 0), "Shards: ");
        if (line != NULL)
            shard = atoi(line + 8);
    }
    PQclear(r);
    return shard;
}

static bool
setup(struct server *s, bool talus)
{
    char sql[256];
    if (!exec_ok(s->conn, "DROP TABLE IF EXISTS bench_txn"))
        return false;
    snprintf(sql, sizeof sql,
             "CREATE TABLE bench_txn (id int PRIMARY KEY, v int)%s",
             talus ? " PARTITION BY HASH (id)" : "");
    if (!exec_ok(s->conn, sql))
        return false;
    snprintf(sql, sizeof sql,
             "INSERT INTO bench_txn SELECT g, 0 FROM generate_series(1, %d) g",
             N_ROWS);
    if (!exec_ok(s->conn, sql))
        return false;
    s->ids[0] = 1, s->ids[1] = 2, s->ids[2] = 1, s->ids[3] = 2;
    if (!talus)
        return true;
    int s1 = shard_of(s->conn, 1);
    bool other = false, same = false;
    for (int id = 2; id <= N_ROWS && (!other || !same); id++) {
        int sh = shard_of(s->conn, id);
        if (!other && sh != s1)
            s->ids[1] = id, other = true;
        if (!same && sh == s1)
            s->ids[3] = id, same = true;
    }
    if (!other || !same)
        fprintf(stderr, "could not place ids on shards (shard of 1: %d)\n", s1);
    return other && same;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* @n transactions of @k on @s; their p50/p99 into round @round. */
static bool
run(struct server *s, enum kind k, int n, int round)
{
    double *lat = calloc((size_t)n, sizeof *lat);
    char a[96], b[96];
    int x = k == KIND_ONE_SHARD ? s->ids[2] : s->ids[0];
    int y = k == KIND_ONE_SHARD ? s->ids[3] : s->ids[1];
    bool ok = lat != NULL;
    snprintf(a, sizeof a, "UPDATE bench_txn SET v = v + 1 WHERE id = %d", x);
    snprintf(b, sizeof b, "UPDATE bench_txn SET v = v + 1 WHERE id = %d", y);
    for (int i = 0; ok && i < n; i++) {
        double t0 = now_s();
        if (k == KIND_AUTOCOMMIT) {
            ok = exec_ok(s->conn, a);
            s->expect += ok;
        } else {
            ok = exec_ok(s->conn, "BEGIN") && exec_ok(s->conn, a) &&
                 exec_ok(s->conn, b) && exec_ok(s->conn, "COMMIT");
            s->expect += ok ? 2 : 0;
        }
        lat[i] = (now_s() - t0) * 1000;
    }
    if (ok) {
        qsort(lat, (size_t)n, sizeof *lat, cmp_double);
        s->p50[k][round] = lat[n / 2];
        s->p99[k][round] = lat[(size_t)((double)(n - 1) * 0.99)];
        printf("round=%d server=%s kind=%s n=%d p50_ms=%.3f p99_ms=%.3f\n",
               round + 1, s->name, kind_names[k], n, s->p50[k][round],
               s->p99[k][round]);
        fflush(stdout);
    }
    free(lat);
    return ok;
}

static double
median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static bool
check_sum(struct server *s)
{
    PGresult *r = PQexec(s->conn, "SELECT sum(v) FROM bench_txn");
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK &&
              atol(PQgetvalue(r, 0, 0)) == s->expect;
    printf("server=%s sum=%s expected=%ld %s\n", s->name,
           PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : "?",
           s->expect, ok ? "ok" : "WRONG");
    PQclear(r);
    return ok;
}

static PGconn *
connect_to(const char *host, const char *port, const char *user, const char *db)
{
    const char *keys[] = {"host", "port", "user", "dbname", NULL};
    const char *vals[] = {host, port, user, db, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "connect %s:%s: %s", host, port, PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

int
main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *port = "5433", *pg_port = NULL;
    const char *pg_user = "postgres", *pg_db = "postgres";
    int n = 200, rounds = 3, o;
    while ((o = getopt(argc, argv, "h:p:P:U:d:n:r:")) != -1) {
        switch (o) {
        case 'h':
            host = optarg;
            break;
        case 'p':
            port = optarg;
            break;
        case 'P':
            pg_port = optarg;
            break;
        case 'U':
            pg_user = optarg;
            break;
        case 'd':
            pg_db = optarg;
            break;
        case 'n':
            n = atoi(optarg);
            break;
        case 'r':
            rounds = atoi(optarg);
            break;
        default:
            return 2;
        }
    }
    if (n < 1 || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "-n >= 1, 1 <= -r <= %d\n", MAX_ROUNDS);
        return 2;
    }
    struct server sv[2] = {{.name = "talus"}, {.name = "postgres"}};
    int n_sv = pg_port != NULL ? 2 : 1;
    sv[0].conn = connect_to(host, port, getenv("PGUSER"), getenv("PGDATABASE"));
    if (sv[0].conn == NULL || !setup(&sv[0], true))
        return 2;
    if (n_sv == 2) {
        sv[1].conn = connect_to("127.0.0.1", pg_port, pg_user, pg_db);
        if (sv[1].conn == NULL || !setup(&sv[1], false))
            return 2;
    }
    bool ok = true;
    for (int r = 0; r < rounds && ok; r++)
        for (int k = 0; k < N_KINDS && ok; k++)
            for (int i = 0; i < n_sv && ok; i++)
                ok = run(&sv[i], (enum kind)k, n, r);
    for (int k = 0; ok && k < N_KINDS; k++) {
        double t = median(sv[0].p50[k], rounds);
        double t99 = median(sv[0].p99[k], rounds);
        if (n_sv == 1) {
            printf("kind=%s talus_p50_ms=%.3f talus_p99_ms=%.3f\n",
                   kind_names[k], t, t99);
            continue;
        }
        double p = median(sv[1].p50[k], rounds);
        printf("kind=%s talus_p50_ms=%.3f talus_p99_ms=%.3f pg_p50_ms=%.3f "
               "ratio=%.1f\n",
               kind_names[k], t, t99, p, p > 0 ? t / p : 0);
    }
    for (int i = 0; i < n_sv; i++) {
        ok = check_sum(&sv[i]) && ok;
        PQfinish(sv[i].conn);
    }
    return ok ? 0 : 1;
}
