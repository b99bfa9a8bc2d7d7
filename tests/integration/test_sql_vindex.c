/* End-to-end vindexes: for hash, consistent_hash and range (integer and
 * timestamptz keys) tables, every inserted row is stored on exactly the
 * shard that routing names for its key and is found again by a point
 * query; range predicates scan only the shards EXPLAIN names, observed
 * through the nodes' per-shard scan counters; a restarted router places
 * keys as before. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define N_ROWS 600
#define MAX_SHARDS 64

static struct th_cluster cluster;
static PGconn *conn;

static int
setup(void **state)
{
    if (th_cluster_start(&cluster, NULL) != 0)
        return -1;
    conn = th_connect(&cluster);
    return 0;
}

static int
teardown(void **state)
{
    PQfinish(conn);
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

/* The shards of the "Shards: a, b" line of EXPLAIN @sql as a bit set. */
static unsigned long long
explain_shards(const char *sql)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), "EXPLAIN %s", sql);
    PGresult *res = th_exec(conn, buf);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    unsigned long long bits = 0;
    bool found = false;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *p = strstr(PQgetvalue(res, i, 0), "Shards: ");
        if (p == NULL)
            continue;
        found = true;
        p += strlen("Shards: ");
        while (*p >= '0' && *p <= '9') {
            char *end;
            unsigned long s = strtoul(p, &end, 10);
            bits |= 1ull << s;
            p = *end == ',' ? end + 2 : end;
        }
    }
    assert_true(found);
    PQclear(res);
    return bits;
}

/* The shards whose scan counter grows while @sql runs, as a bit set;
 * *@count gets the query's single value. */
static unsigned long long
scanned_shards(const char *sql, long long *count)
{
    unsigned long long before[MAX_SHARDS] = {0}, after[MAX_SHARDS] = {0};
    unsigned long long w[MAX_SHARDS], bits = 0;
    assert_int_equal(th_shard_counters(&cluster, before, w, NULL), 0);
    *count = th_scalar(conn, sql);
    assert_int_equal(th_shard_counters(&cluster, after, w, NULL), 0);
    for (uint32_t s = 0; s < cluster.cfg.n_shards; s++)
        if (after[s] != before[s])
            bits |= 1ull << s;
    return bits;
}

/* Key @i of a table: the SQL literal of its shard key. */
typedef void (*key_fn)(int i, char *out, size_t size);

static void
int_key(int i, char *out, size_t size)
{
    snprintf(out, size, "%d", i * 10);
}

static void
ts_key(int i, char *out, size_t size)
{
    /* Every 6 hours from 2026-01-01: January to May. */
    int day = i / 4, hour = (i % 4) * 6;
    static const int month_days[] = {31, 28, 31, 30, 31, 30};
    int m = 0;
    while (day >= month_days[m]) {
        day -= month_days[m];
        m++;
    }
    snprintf(out, size, "'2026-%02d-%02d %02d:00:00+00'", m + 1, day + 1, hour);
}

/* Create @table with @ddl, insert N_ROWS rows keyed by @key, and check
 * that the per-shard key counts grow exactly as routing places each key
 * (so every row is on one shard, the one point queries read), and that
 * every row is found by a point query on its key. */
static void
check_placement(const char *table, const char *ddl, key_fn key,
                unsigned min_shards)
{
    unsigned long long s[MAX_SHARDS], w[MAX_SHARDS];
    unsigned long long before[MAX_SHARDS] = {0}, after[MAX_SHARDS] = {0};
    unsigned long long want[MAX_SHARDS] = {0};
    char k[64], sql[512];

    assert_true(th_ok(conn, ddl));
    assert_int_equal(th_shard_counters(&cluster, s, w, before), 0);
    for (int b = 0; b < N_ROWS / 100; b++) {
        static char ins[16384];
        size_t n =
            (size_t)snprintf(ins, sizeof(ins), "INSERT INTO %s VALUES ", table);
        for (int i = b * 100; i < (b + 1) * 100; i++) {
            key(i, k, sizeof(k));
            n += (size_t)snprintf(ins + n, sizeof(ins) - n, "%s(%s, %d, 'r%d')",
                                  i % 100 ? ", " : "", k, i, i);
        }
        assert_true(th_ok(conn, ins));
    }
    assert_int_equal(th_shard_counters(&cluster, s, w, after), 0);
    for (int i = 0; i < N_ROWS; i++) {
        key(i, k, sizeof(k));
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE k = %s",
                 table, k);
        unsigned long long bits = explain_shards(sql);
        assert_int_equal(__builtin_popcountll(bits), 1);
        want[__builtin_ctzll(bits)]++;
        snprintf(sql, sizeof(sql), "SELECT n FROM %s WHERE k = %s", table, k);
        assert_int_equal(th_scalar(conn, sql), i);
    }
    unsigned long long total = 0;
    unsigned used = 0;
    for (uint32_t sh = 0; sh < cluster.cfg.n_shards; sh++) {
        unsigned long long got = after[sh] - before[sh];
        if (got != want[sh])
            fail_msg("%s: shard %u holds %llu rows, routing says %llu", table,
                     sh, got, want[sh]);
        total += got;
        used += got > 0;
    }
    assert_int_equal(total, N_ROWS);
    assert_true(used >= min_shards);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    assert_int_equal(th_scalar(conn, sql), N_ROWS);
}

/* Hash: rows spread over every shard, each where its point query looks. */
static void
test_hash_placement(void **state)
{
    check_placement("h",
                    "CREATE TABLE h (k bigint PRIMARY KEY, n int, body text) "
                    "PARTITION BY HASH (k)",
                    int_key, cluster.cfg.n_shards);
}

/* consistent_hash: the same, with the ring deciding. */
static void
test_consistent_hash_placement(void **state)
{
    check_placement("ch",
                    "CREATE TABLE ch (k bigint PRIMARY KEY, n int, body text) "
                    "PARTITION BY HASH (k) WITH (vindex = 'consistent_hash')",
                    int_key, cluster.cfg.n_shards);
}

/* range on integers: six ranges, one per shard. */
static void
test_range_int_placement(void **state)
{
    check_placement("ri",
                    "CREATE TABLE ri (k bigint PRIMARY KEY, n int, body text) "
                    "PARTITION BY RANGE (k) WITH (boundaries = "
                    "'1000,2000,3000,4000,5000')",
                    int_key, cluster.cfg.n_shards);
}

/* range on timestamptz: monthly ranges, January to May populated. */
static void
test_range_timestamptz_placement(void **state)
{
    check_placement("rt",
                    "CREATE TABLE rt (k timestamptz PRIMARY KEY, n int, body "
                    "text) PARTITION BY RANGE (k) WITH (boundaries = "
                    "'2026-02-01,2026-03-01,2026-04-01,2026-05-01,"
                    "2026-06-01')",
                    ts_key, 5);
}

/* Range predicates scan exactly the shards EXPLAIN names, and count the
 * right rows; a date literal finds the timestamp at its midnight. */
static void
test_range_pruning_by_counters(void **state)
{
    static const struct {
        const char *sql;
        long long count;
        int n_shards;
    } cases[] = {
        {"SELECT count(*) FROM ri WHERE k >= 2500 AND k < 3500", 100, 2},
        {"SELECT count(*) FROM ri WHERE k BETWEEN 1000 AND 1990", 100, 1},
        {"SELECT count(*) FROM ri WHERE k < 1000", 100, 1},
        {"SELECT count(*) FROM ri WHERE k > 4990", 100, 2},
        {"SELECT count(*) FROM ri WHERE k IN (10, 5010)", 2, 2},
        {"SELECT count(*) FROM ri WHERE n = 7", 1, 6},
        {"SELECT count(*) FROM rt WHERE k >= '2026-03-01' AND k < "
         "'2026-04-01'",
         124, 1},
        {"SELECT count(*) FROM rt WHERE k < DATE '2026-02-01'", 124, 1},
        {"SELECT count(*) FROM rt WHERE k = DATE '2026-03-01'", 1, 1},
        {"SELECT count(*) FROM rt WHERE k >= '2026-05-15'", 64, 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long long count;
        unsigned long long named = explain_shards(cases[i].sql);
        unsigned long long hit = scanned_shards(cases[i].sql, &count);
        if (count != cases[i].count || hit != named ||
            __builtin_popcountll(named) != cases[i].n_shards)
            fail_msg("%s: count %lld (want %lld), scanned %#llx, EXPLAIN "
                     "%#llx, want %d shards",
                     cases[i].sql, count, cases[i].count, hit, named,
                     cases[i].n_shards);
    }
}

/* A restarted router loads the vindex parameters from the catalog and
 * routes every row to the same shard as before. */
static void
test_router_restart_keeps_placement(void **state)
{
    char k[64], sql[256];
    unsigned long long before[3][N_ROWS / 50];
    static const char *const tables[] = {"ch", "ri", "rt"};
    static const key_fn keys[] = {int_key, int_key, ts_key};
    for (int t = 0; t < 3; t++)
        for (int i = 0; i < N_ROWS; i += 50) {
            keys[t](i, k, sizeof(k));
            snprintf(sql, sizeof(sql), "SELECT n FROM %s WHERE k = %s",
                     tables[t], k);
            before[t][i / 50] = explain_shards(sql);
        }
    PQfinish(conn);
    th_router_signal(&cluster, SIGTERM);
    assert_int_equal(th_router_start(&cluster), 0);
    assert_int_equal(th_wait_ready(&cluster, 60), 0);
    conn = th_connect(&cluster);
    for (int t = 0; t < 3; t++)
        for (int i = 0; i < N_ROWS; i += 50) {
            keys[t](i, k, sizeof(k));
            snprintf(sql, sizeof(sql), "SELECT n FROM %s WHERE k = %s",
                     tables[t], k);
            assert_int_equal(explain_shards(sql), before[t][i / 50]);
            assert_int_equal(th_scalar(conn, sql), i);
        }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_placement),
        cmocka_unit_test(test_consistent_hash_placement),
        cmocka_unit_test(test_range_int_placement),
        cmocka_unit_test(test_range_timestamptz_placement),
        cmocka_unit_test(test_range_pruning_by_counters),
        cmocka_unit_test(test_router_restart_keeps_placement),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
