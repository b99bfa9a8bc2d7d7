/* bench_large — the largest INSERT, UPDATE and DELETE a default cluster
 * takes in one statement, their times, and whether terms moved.
 *
 *   bench_large [-n rows] [-m max_entry_bytes]
 *
 * Starts (through the test harness, from the build tree) the cluster
 * `make up` starts: 3 nodes, 3 replicas per shard, 6 shards, one router;
 * `-m` sets max_entry_bytes (default: the cluster's default). Loads a
 * table of -n rows (default 1,000,000; id bigint, v bigint, pad text) in
 * INSERTs of 5,000 rows, then runs, each size larger than the last until
 * one is refused:
 *   - UPDATE big SET v = v + 1 WHERE id < K (K a fraction of the rows, then
 *     the whole table),
 *   - INSERT of K new rows in one statement,
 *   - DELETE of K rows (disjoint ranges),
 * printing one line per statement, with the shards' highest term before
 * and after it:
 *
 *   update rows=500000 ok=1 ms=2590 sqlstate=- terms=3->3
 *   update rows=1000000 ok=0 ms=1610 sqlstate=54000 terms=3->3
 *
 * and a summary with the largest of each that succeeded. Exit 0 when every
 * statement either succeeded or failed with 54000 and no term moved, 1
 * otherwise. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/base/sqlstate.h"
#include "harness.h"

#define N_SHARDS 6
#define LOAD_BATCH 5000

static struct th_cluster cluster;
static int n_bad;

static uint64_t
max_term(void)
{
    uint64_t m = 0;
    for (uint32_t s = 0; s < N_SHARDS; s++) {
        Talus__ShardStatus st;
        uint32_t l = th_shard_leader(&cluster, s);
        if (l != 0 && th_shard_status(&cluster, l, s, &st) && st.term > m)
            m = st.term;
    }
    return m;
}

/* Run @sql, print the line for @what/@rows; true if it succeeded. */
static bool
run(PGconn *conn, const char *what, long rows, const char *sql)
{
    uint64_t t0 = max_term(), t1;
    double start = th_now(), ms;
    PGresult *r = PQexec(conn, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    const char *state = ok ? "-" : PQresultErrorField(r, PG_DIAG_SQLSTATE);

    ms = (th_now() - start) * 1000.0;
    t1 = max_term();
    printf("%s rows=%ld ok=%d ms=%.0f sqlstate=%s terms=%llu->%llu\n", what,
           rows, ok, ms, state ? state : "none", (unsigned long long)t0,
           (unsigned long long)t1);
    fflush(stdout);
    if ((!ok && (state == NULL ||
                 strcmp(state, TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED) != 0)) ||
        t1 != t0)
        n_bad++;
    PQclear(r);
    return ok;
}

static char *
insert_sql(long from, long n)
{
    size_t cap = (size_t)n * 40 + 64, off;
    char *sql = malloc(cap);
    if (sql == NULL)
        abort();
    off = (size_t)snprintf(sql, cap, "INSERT INTO big VALUES ");
    for (long i = from; i < from + n; i++)
        off += (size_t)snprintf(sql + off, cap - off, "%s(%ld,%ld,'x')",
                                i == from ? "" : ",", i, i);
    return sql;
}

int
main(int argc, char **argv)
{
    long n = 1000000, best_update = 0, best_insert = 0, best_delete = 0;
    const long steps[] = {50000,  100000, 200000, 300000, 400000,
                          500000, 600000, 800000, 1000000};
    char conf[64] = "", sql[256];
    struct th_options o = {.n_nodes = 3, .n_shards = N_SHARDS, .n_replicas = 3};
    PGconn *conn;
    int opt;

    while ((opt = getopt(argc, argv, "n:m:")) != -1) {
        if (opt == 'n')
            n = atol(optarg);
        else if (opt == 'm')
            snprintf(conf, sizeof conf, "max_entry_bytes = %s", optarg);
        else {
            fprintf(stderr, "usage: bench_large [-n rows] [-m bytes]\n");
            return 2;
        }
    }
    if (conf[0] != '\0')
        o.extra_conf = conf;
    if (th_cluster_start(&cluster, &o) != 0)
        return 1;
    conn = th_connect(&cluster);
    if (!th_ok(conn, "CREATE TABLE big (id bigint PRIMARY KEY, v bigint, "
                     "pad text) PARTITION BY HASH (id)"))
        return 1;
    double t0 = th_now();
    for (long b = 0; b < n; b += LOAD_BATCH) {
        char *s = insert_sql(b, b + LOAD_BATCH <= n ? LOAD_BATCH : n - b);
        bool ok = th_ok(conn, s);
        free(s);
        if (!ok)
            return 1;
    }
    printf("load rows=%ld seconds=%.1f\n", n, th_now() - t0);

    for (size_t i = 0; i < sizeof steps / sizeof *steps && steps[i] <= n; i++) {
        snprintf(sql, sizeof sql, "UPDATE big SET v = v + 1 WHERE id < %ld",
                 steps[i]);
        if (!run(conn, "update", steps[i], sql))
            break;
        best_update = steps[i];
    }
    long next = n;
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        char *s = insert_sql(next, steps[i]);
        bool ok = run(conn, "insert", steps[i], s);
        free(s);
        if (!ok)
            break;
        next += steps[i];
        best_insert = steps[i];
    }
    long from = 0;
    for (size_t i = 0; i < sizeof steps / sizeof *steps && from < next; i++) {
        snprintf(sql, sizeof sql,
                 "DELETE FROM big WHERE id >= %ld AND id < %ld", from,
                 from + steps[i]);
        if (!run(conn, "delete", steps[i], sql))
            break;
        from += steps[i];
        best_delete = steps[i];
    }
    printf("largest update=%ld insert=%ld delete=%ld bad=%d\n", best_update,
           best_insert, best_delete, n_bad);
    PQfinish(conn);
    if (th_cluster_stop(&cluster) != 0)
        n_bad++;
    return n_bad == 0 ? 0 : 1;
}
