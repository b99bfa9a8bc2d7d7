/* Joins of a sharded table with reference tables, end to end: the join
 * runs on the shards the sharded table's WHERE routes to (observed
 * through per-shard scan counters), each shard joining against its own
 * copy; results equal a computation of the join in the test, also for
 * LEFT JOIN and for outer scans long enough to be paged. Joins of two
 * co-located sharded tables (users on id, their orders on user_id, both
 * hash) likewise run on the shards, each joining its own rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "harness.h"

#define MAX_SHARDS 64
#define N_ORDERS 600
#define N_CODES 20 /* country codes c0..c19; countries holds the even ones */
#define N_BIG 8000
#define N_USERS 300
#define N_UORDERS 1500
#define UORDER_USERS 320 /* orders of users 301..320 have no user */

static struct th_cluster cluster;
static PGconn *conn;

static int
order_code(int id)
{
    return (id * 7 + 3) % N_CODES;
}

static int
order_amount(int id)
{
    return (id * 37) % 1000;
}

/* Region of country c<k> (k even): 1..3. */
static int
country_region(int k)
{
    return k % 3 + 1;
}

/* User of co-located order @oid (1..N_UORDERS); users 1..N_USERS exist. */
static int
uorder_user(int oid)
{
    return (oid * 7) % UORDER_USERS + 1;
}

static int
uorder_amount(int oid)
{
    return (oid * 13) % 500;
}

static void
exec_ok(const char *sql)
{
    assert_true(th_ok(conn, sql));
}

static int
setup(void **state)
{
    char sql[256];
    (void)state;
    if (th_cluster_start(&cluster, NULL) != 0)
        return -1;
    conn = th_connect(&cluster);
    exec_ok("CREATE TABLE orders (id bigint PRIMARY KEY, country text, "
            "amount int) PARTITION BY HASH (id)");
    exec_ok("CREATE TABLE countries (code text PRIMARY KEY, name text, "
            "region int) WITH (distribution = 'reference')");
    exec_ok("CREATE TABLE items (order_id bigint PRIMARY KEY, sku text) "
            "PARTITION BY HASH (order_id)");
    for (int k = 0; k < N_CODES; k += 2) {
        snprintf(sql, sizeof(sql),
                 "INSERT INTO countries VALUES ('c%d', 'name%d', %d)", k, k,
                 country_region(k));
        exec_ok(sql);
    }
    struct tl_buf b;
    tl_buf_init(&b);
    tl_buf_printf(&b, "INSERT INTO orders VALUES ");
    for (int id = 1; id <= N_ORDERS; id++)
        tl_buf_printf(&b, "%s(%d, 'c%d', %d)", id > 1 ? ", " : "", id,
                      order_code(id), order_amount(id));
    tl_buf_append_u8(&b, '\0');
    exec_ok((const char *)b.data);
    tl_buf_close(&b);

    exec_ok("CREATE TABLE users (id int PRIMARY KEY, name text) PARTITION "
            "BY HASH (id)");
    exec_ok("CREATE TABLE uorders (user_id bigint, oid bigint, amount int, "
            "PRIMARY KEY (user_id, oid)) PARTITION BY HASH (user_id)");
    tl_buf_init(&b);
    tl_buf_printf(&b, "INSERT INTO users VALUES ");
    for (int id = 1; id <= N_USERS; id++)
        tl_buf_printf(&b, "%s(%d, 'u%d')", id > 1 ? ", " : "", id, id);
    tl_buf_append_u8(&b, '\0');
    exec_ok((const char *)b.data);
    tl_buf_reset(&b);
    tl_buf_printf(&b, "INSERT INTO uorders VALUES ");
    for (int oid = 1; oid <= N_UORDERS; oid++)
        tl_buf_printf(&b, "%s(%d, %d, %d)", oid > 1 ? ", " : "",
                      uorder_user(oid), oid, uorder_amount(oid));
    tl_buf_append_u8(&b, '\0');
    exec_ok((const char *)b.data);
    tl_buf_close(&b);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    PQfinish(conn);
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

static void
scans_now(unsigned long long *scans)
{
    unsigned long long writes[MAX_SHARDS];
    assert_int_equal(th_shard_counters(&cluster, scans, writes, NULL), 0);
}

/* WHERE on the shard key takes the join to one shard; without it, every
 * shard runs the join once. */
static void
test_pushdown_routes_by_shard_key(void **state)
{
    unsigned long long before[MAX_SHARDS], after[MAX_SHARDS];
    uint32_t n = cluster.cfg.n_shards;
    (void)state;

    scans_now(before);
    PGresult *r = th_exec(conn, "SELECT o.id, c.name FROM orders o JOIN "
                                "countries c ON o.country = c.code WHERE "
                                "o.id = 4");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    /* order 4: code (28 + 3) % 20 = 11, odd: no country */
    assert_int_equal(PQntuples(r), 0);
    PQclear(r);
    r = th_exec(conn, "SELECT o.id, c.name FROM orders o JOIN countries c "
                      "ON o.country = c.code WHERE o.id = 5");
    assert_int_equal(PQntuples(r), 1); /* (35 + 3) % 20 = 18 */
    assert_string_equal(PQgetvalue(r, 0, 1), "name18");
    PQclear(r);
    scans_now(after);
    unsigned long long total = 0;
    for (uint32_t s = 0; s < n; s++) {
        assert_true(after[s] - before[s] <= 2);
        total += after[s] - before[s];
    }
    assert_int_equal(total, 2);

    scans_now(before);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM orders o JOIN "
                                     "countries c ON o.country = c.code"),
                     N_ORDERS / 2);
    scans_now(after);
    for (uint32_t s = 0; s < n; s++)
        assert_int_equal(after[s] - before[s], 1);
}

/* Inner and LEFT joins, conditions on both sides and aggregates equal the
 * join computed here. */
static void
test_results_match(void **state)
{
    (void)state;
    long long inner = 0, sum_r2 = 0, left_null = 0;
    for (int id = 1; id <= N_ORDERS; id++) {
        int k = order_code(id);
        if (k % 2 != 0) {
            left_null++;
            continue;
        }
        inner++;
        if (country_region(k) == 2)
            sum_r2 += order_amount(id);
    }
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM orders o, "
                                     "countries c WHERE o.country = c.code"),
                     inner);
    assert_int_equal(th_scalar(conn, "SELECT sum(o.amount) FROM orders o "
                                     "JOIN countries c ON o.country = c.code "
                                     "WHERE c.region = 2"),
                     sum_r2);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM orders o LEFT "
                                     "JOIN countries c ON o.country = c.code "
                                     "WHERE c.code IS NULL"),
                     left_null);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM orders o LEFT "
                                     "JOIN countries c ON o.country = c.code"),
                     N_ORDERS);

    /* Row by row, in order: the name of each order's country or NULL. */
    PGresult *r = th_exec(conn, "SELECT o.id, c.name, c.region FROM orders o "
                                "LEFT JOIN countries c ON o.country = c.code "
                                "ORDER BY o.id");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), N_ORDERS);
    for (int i = 0; i < N_ORDERS; i++) {
        int id = i + 1, k = order_code(id);
        char want[32];
        assert_int_equal(atoi(PQgetvalue(r, i, 0)), id);
        if (k % 2 != 0) {
            assert_true(PQgetisnull(r, i, 1));
            assert_true(PQgetisnull(r, i, 2));
            continue;
        }
        snprintf(want, sizeof(want), "name%d", k);
        assert_string_equal(PQgetvalue(r, i, 1), want);
        assert_int_equal(atoi(PQgetvalue(r, i, 2)), country_region(k));
    }
    PQclear(r);

    /* Top-N over the join: the 5 largest amounts among region 1. */
    r = th_exec(conn, "SELECT o.amount FROM orders o JOIN countries c ON "
                      "o.country = c.code AND c.region = 1 ORDER BY o.amount "
                      "DESC, o.id LIMIT 5");
    assert_int_equal(PQntuples(r), 5);
    int prev = 1 << 30;
    for (int i = 0; i < 5; i++) {
        int a = atoi(PQgetvalue(r, i, 0));
        assert_true(a <= prev);
        prev = a;
    }
    int best = -1;
    for (int id = 1; id <= N_ORDERS; id++) {
        int k = order_code(id);
        if (k % 2 == 0 && country_region(k) == 1 && order_amount(id) > best)
            best = order_amount(id);
    }
    assert_int_equal(atoi(PQgetvalue(r, 0, 0)), best);
    PQclear(r);
}

/* An outer scan of many pages, each outer row with two matches: every
 * joined row arrives exactly once (a page never splits a row's matches). */
static void
test_paged_outer_scan(void **state)
{
    (void)state;
    exec_ok("CREATE TABLE big (id bigint PRIMARY KEY, k int) PARTITION BY "
            "HASH (id)");
    exec_ok("CREATE TABLE pairs (k int, tag text) WITH (distribution = "
            "'reference')");
    exec_ok("INSERT INTO pairs VALUES (0, 'a'), (0, 'b'), (1, 'a'), (1, 'b'), "
            "(2, 'a')");
    for (int start = 1; start <= N_BIG; start += 1000) {
        struct tl_buf b;
        tl_buf_init(&b);
        tl_buf_printf(&b, "INSERT INTO big VALUES ");
        for (int id = start; id < start + 1000; id++)
            tl_buf_printf(&b, "%s(%d, %d)", id > start ? ", " : "", id, id % 2);
        tl_buf_append_u8(&b, '\0');
        exec_ok((const char *)b.data);
        tl_buf_close(&b);
    }
    PGresult *r = th_exec(conn, "SELECT b.id, p.tag FROM big b JOIN pairs p "
                                "ON p.k = b.k");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 2 * N_BIG);
    unsigned char *seen = calloc(N_BIG + 1, 1);
    assert_non_null(seen);
    for (int i = 0; i < PQntuples(r); i++) {
        int id = atoi(PQgetvalue(r, i, 0));
        assert_true(id >= 1 && id <= N_BIG);
        seen[id] |= PQgetvalue(r, i, 1)[0] == 'a' ? 1 : 2;
    }
    for (int id = 1; id <= N_BIG; id++)
        assert_int_equal(seen[id], 3);
    free(seen);
    PQclear(r);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM big b LEFT JOIN "
                                     "pairs p ON p.k = b.k + 1"),
                     N_BIG / 2 * 2 + N_BIG / 2);
    exec_ok("DROP TABLE big, pairs");
}

/* A join of co-located sharded tables equals the join computed here:
 * inner (ON and comma forms), LEFT, aggregates, and every row in order. */
static void
test_co_located_results(void **state)
{
    (void)state;
    long long inner = 0, sum = 0, left = 0;
    int n_orders[UORDER_USERS + 1] = {0};
    for (int oid = 1; oid <= N_UORDERS; oid++) {
        int u = uorder_user(oid);
        n_orders[u]++;
        if (u <= N_USERS) {
            inner++;
            sum += uorder_amount(oid);
        }
    }
    for (int u = 1; u <= N_USERS; u++)
        left += n_orders[u] > 0 ? n_orders[u] : 1;
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM users u JOIN "
                                     "uorders o ON o.user_id = u.id"),
                     inner);
    assert_int_equal(th_scalar(conn, "SELECT sum(o.amount) FROM uorders o, "
                                     "users u WHERE u.id = o.user_id"),
                     sum);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM users u LEFT JOIN "
                                     "uorders o ON o.user_id = u.id"),
                     left);
    long long lonely = 0;
    for (int u = 1; u <= N_USERS; u++)
        lonely += n_orders[u] == 0;
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM users u LEFT JOIN "
                                     "uorders o ON o.user_id = u.id WHERE "
                                     "o.oid IS NULL"),
                     lonely);

    PGresult *r = th_exec(conn, "SELECT o.oid, u.id, u.name, o.amount FROM "
                                "uorders o JOIN users u ON u.id = o.user_id "
                                "ORDER BY o.oid");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), inner);
    int i = 0;
    for (int oid = 1; oid <= N_UORDERS; oid++) {
        int u = uorder_user(oid);
        if (u > N_USERS)
            continue;
        char want[32];
        snprintf(want, sizeof(want), "u%d", u);
        assert_int_equal(atoi(PQgetvalue(r, i, 0)), oid);
        assert_int_equal(atoi(PQgetvalue(r, i, 1)), u);
        assert_string_equal(PQgetvalue(r, i, 2), want);
        assert_int_equal(atoi(PQgetvalue(r, i, 3)), uorder_amount(oid));
        i++;
    }
    PQclear(r);
}

/* `WHERE o.user_id = k` (or `u.id = k`) takes a co-located join to the one
 * shard owning k; without it, every shard runs the join once. */
static void
test_co_located_routing(void **state)
{
    unsigned long long before[MAX_SHARDS], after[MAX_SHARDS];
    uint32_t n = cluster.cfg.n_shards;
    const char *const by_key[] = {
        "SELECT count(*) FROM users u JOIN uorders o ON o.user_id = u.id "
        "WHERE o.user_id = %d",
        "SELECT count(*) FROM uorders o JOIN users u ON o.user_id = u.id "
        "WHERE o.user_id = %d",
        "SELECT count(*) FROM users u JOIN uorders o ON o.user_id = u.id "
        "WHERE u.id = %d",
        "SELECT count(*) FROM uorders o JOIN users u ON o.user_id = u.id "
        "WHERE u.id = %d",
    };
    (void)state;

    for (size_t q = 0; q < sizeof(by_key) / sizeof(by_key[0]); q++)
        for (int k = 1; k <= 40; k += 13) {
            char sql[256];
            long long want = 0;
            for (int oid = 1; oid <= N_UORDERS; oid++)
                want += uorder_user(oid) == k;
            snprintf(sql, sizeof(sql), by_key[q], k);
            scans_now(before);
            assert_int_equal(th_scalar(conn, sql), want);
            scans_now(after);
            unsigned long long total = 0;
            for (uint32_t s = 0; s < n; s++)
                total += after[s] - before[s];
            assert_int_equal(total, 1);
        }

    scans_now(before);
    assert_true(th_scalar(conn, "SELECT count(*) FROM users u JOIN uorders o "
                                "ON o.user_id = u.id") > 0);
    scans_now(after);
    for (uint32_t s = 0; s < n; s++)
        assert_int_equal(after[s] - before[s], 1);
}

/* Joins the shards cannot run together (not on the shard keys, outer
 * joins with conditions on the nullable side, FULL JOIN) run at the
 * router over rows the shards send, with PostgreSQL's results. */
static void
test_cross_shard_joins(void **state)
{
    (void)state;
    long long want = 0;
    for (int oid = 1; oid <= N_UORDERS; oid++)
        want += uorder_amount(oid) >= 1 && uorder_amount(oid) <= N_USERS;
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM users u JOIN "
                                     "uorders o ON o.amount = u.id"),
                     want);
    want = 0;
    for (int oid = 1; oid <= N_UORDERS; oid++)
        want += uorder_user(oid) <= N_USERS;
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM users u LEFT JOIN "
                                     "uorders o ON true WHERE "
                                     "o.user_id = u.id"),
                     want);
    /* Every even code has orders; odd ones match no country. */
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM orders o FULL "
                                     "JOIN countries c ON o.country = c.code"),
                     N_ORDERS);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM orders o FULL "
                                     "JOIN countries c ON o.country = c.code "
                                     "WHERE c.code IS NULL"),
                     N_ORDERS / 2);
    bool seen[1000] = {0};
    want = 0;
    for (int id = 1; id <= N_ORDERS; id++) {
        want += !seen[order_amount(id)];
        seen[order_amount(id)] = true;
    }
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM (SELECT DISTINCT "
                                     "amount FROM orders) d"),
                     want);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM orders o JOIN "
                                     "items i ON true"),
                     0);
    /* A co-located join routed by an IN list on its second table (the
     * route derived through the join condition; no filter left for the
     * fragment). */
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM users x1 JOIN "
                                     "users x2 ON x1.id = x2.id AND x2.id IN "
                                     "(27)"),
                     1);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM users x1 JOIN "
                                     "users x2 ON x1.id = x2.id WHERE x2.id "
                                     "IN (27, 28, 9999)"),
                     2);
}

/* Bad references fail as PostgreSQL. */
static void
test_errors(void **state)
{
    (void)state;
    assert_string_equal(th_sqlstate(conn, "SELECT name FROM orders o JOIN "
                                          "countries c ON o.country = c.code "
                                          "JOIN countries d ON true"),
                        "42702");
    assert_string_equal(th_sqlstate(conn, "SELECT x.id FROM orders o JOIN "
                                          "countries c ON true"),
                        "42P01");
    assert_string_equal(th_sqlstate(conn, "SELECT o.nosuch FROM orders o "
                                          "JOIN countries c ON true"),
                        "42703");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pushdown_routes_by_shard_key),
        cmocka_unit_test(test_results_match),
        cmocka_unit_test(test_paged_outer_scan),
        cmocka_unit_test(test_co_located_results),
        cmocka_unit_test(test_co_located_routing),
        cmocka_unit_test(test_cross_shard_joins),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
