/* End-to-end SQL through psql's protocol: a hash-sharded table spread over
 * three nodes, routing observed through per-shard counters and EXPLAIN,
 * and the statements of the foundation slice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static struct th_cluster cluster;
static PGconn *conn;

static int
setup(void **state)
{
    if (th_cluster_start(&cluster, NULL) != 0)
        return -1;
    conn = th_connect(&cluster);
    if (!th_ok(conn, "CREATE TABLE users (id bigint PRIMARY KEY, name text, "
                     "score integer) PARTITION BY HASH (id)"))
        return -1;
    /* 600 rows in three multi-row statements. */
    for (int b = 0; b < 3; b++) {
        char sql[32768];
        size_t n = (size_t)snprintf(
            sql, sizeof(sql), "INSERT INTO users (id, name, score) VALUES ");
        for (int i = b * 200; i < (b + 1) * 200; i++)
            n += (size_t)snprintf(sql + n, sizeof(sql) - n,
                                  "%s(%d, 'user%d', %d)", i % 200 ? ", " : "",
                                  i, i, i % 10);
        if (!th_ok(conn, sql))
            return -1;
    }
    return 0;
}

static int
teardown(void **state)
{
    PQfinish(conn);
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

/* Rows of one table are stored on every node of the cluster. */
static void
test_rows_spread_over_nodes(void **state)
{
    unsigned long long scans[64] = {0}, writes[64] = {0}, keys[64] = {0};
    unsigned long long per_node[8] = {0}, total = 0;

    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM users"), 600);
    assert_int_equal(th_shard_counters(&cluster, scans, writes, keys), 0);
    for (uint32_t s = 0; s < cluster.cfg.n_shards; s++) {
        per_node[tl_cluster_shard_node(&cluster.cfg, s)] += keys[s];
        total += keys[s];
    }
    /* Shard 0 also holds the catalog's few keys. */
    assert_true(total >= 600 && total < 610);
    for (uint32_t n = 1; n <= cluster.cfg.n_nodes; n++)
        assert_true(per_node[n] >= 100);
}

static unsigned long long
shards_touched(const char *sql, unsigned long long *delta)
{
    unsigned long long before[64] = {0}, after[64] = {0}, w[64];
    unsigned long long n = 0;
    assert_int_equal(th_shard_counters(&cluster, before, w, NULL), 0);
    PGresult *res = th_exec(conn, sql);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    assert_int_equal(th_shard_counters(&cluster, after, w, NULL), 0);
    for (uint32_t s = 0; s < cluster.cfg.n_shards; s++) {
        delta[s] = after[s] - before[s];
        n += delta[s] > 0;
    }
    return n;
}

/* A query fixing the shard key by equality reaches exactly one shard; a
 * query on another column reaches every shard. */
static void
test_routing_by_counters(void **state)
{
    unsigned long long delta[64];

    assert_int_equal(shards_touched("SELECT * FROM users WHERE id = 42", delta),
                     1);
    assert_int_equal(
        shards_touched("SELECT * FROM users WHERE id IN (1, 2, 3, 4, 5, 6, 7, "
                       "8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)",
                       delta),
        cluster.cfg.n_shards);
    assert_int_equal(
        shards_touched("SELECT * FROM users WHERE name = 'user42'", delta),
        cluster.cfg.n_shards);
    assert_int_equal(shards_touched("SELECT * FROM users WHERE id = 42 AND "
                                    "score >= 0",
                                    delta),
                     1);
}

/* EXPLAIN names one shard for a shard-key lookup and all for a scan. */
static void
test_explain_shows_shards(void **state)
{
    PGresult *res = th_exec(conn, "EXPLAIN SELECT * FROM users WHERE id = 42");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    int found = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *line = PQgetvalue(res, i, 0);
        const char *p = strstr(line, "Shards: ");
        if (p != NULL) {
            found = 1;
            assert_null(strchr(p, ','));
        }
    }
    assert_true(found);
    PQclear(res);

    res = th_exec(conn, "EXPLAIN SELECT * FROM users WHERE score = 3");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    found = 0;
    for (int i = 0; i < PQntuples(res); i++)
        if (strstr(PQgetvalue(res, i, 0), "Shards: 0, 1, 2, 3, 4, 5"))
            found = 1;
    assert_true(found);
    PQclear(res);
}

/* Point selects return the row written for that key. */
static void
test_point_select(void **state)
{
    PGresult *res = th_exec(conn, "SELECT id, name, score FROM users WHERE "
                                  "id = 123");
    assert_int_equal(PQntuples(res), 1);
    assert_string_equal(PQgetvalue(res, 0, 0), "123");
    assert_string_equal(PQgetvalue(res, 0, 1), "user123");
    assert_string_equal(PQgetvalue(res, 0, 2), "3");
    PQclear(res);
    res = th_exec(conn, "SELECT * FROM users WHERE id = 100000");
    assert_int_equal(PQntuples(res), 0);
    PQclear(res);
}

/* ORDER BY with several keys, LIMIT and OFFSET merge across shards. */
static void
test_order_limit_offset(void **state)
{
    PGresult *res = th_exec(conn, "SELECT id FROM users ORDER BY id DESC "
                                  "LIMIT 5 OFFSET 2");
    assert_int_equal(PQntuples(res), 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(atoi(PQgetvalue(res, i, 0)), 597 - i);
    PQclear(res);

    res = th_exec(conn, "SELECT score, id FROM users WHERE id < 40 ORDER BY "
                        "score ASC, id DESC");
    assert_int_equal(PQntuples(res), 40);
    for (int i = 1; i < 40; i++) {
        int s0 = atoi(PQgetvalue(res, i - 1, 0)),
            s1 = atoi(PQgetvalue(res, i, 0));
        int i0 = atoi(PQgetvalue(res, i - 1, 1)),
            i1 = atoi(PQgetvalue(res, i, 1));
        assert_true(s0 < s1 || (s0 == s1 && i0 > i1));
    }
    PQclear(res);

    /* A full scan in key order returns every row exactly once. */
    res = th_exec(conn, "SELECT id FROM users ORDER BY id");
    assert_int_equal(PQntuples(res), 600);
    for (int i = 0; i < 600; i++)
        assert_int_equal(atoi(PQgetvalue(res, i, 0)), i);
    PQclear(res);
}

/* WHERE with AND/OR/NOT, IS NULL and IN is evaluated like PostgreSQL. */
static void
test_where_logic(void **state)
{
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM users WHERE "
                                     "(score = 1 OR score = 2) AND NOT id < "
                                     "300"),
                     60);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM users WHERE score "
                                     "IN (1, 2, 3)"),
                     180);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM users WHERE name "
                                     "IS NULL"),
                     0);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM users WHERE name "
                                     "IS NOT NULL"),
                     600);
}

/* UPDATE and DELETE report how many rows they changed, single-shard or
 * scattered, and the change is visible afterwards. */
static void
test_update_delete(void **state)
{
    assert_true(th_ok(conn, "CREATE TABLE acc (id bigint PRIMARY KEY, bal "
                            "integer NOT NULL) PARTITION BY HASH (id)"));
    assert_true(th_ok(conn, "INSERT INTO acc VALUES (1, 10), (2, 20), (3, "
                            "30), (4, 40), (5, 50)"));
    PGresult *res = th_exec(conn, "UPDATE acc SET bal = bal + 1 WHERE id = 3");
    assert_string_equal(PQcmdTuples(res), "1");
    PQclear(res);
    res = th_exec(conn, "UPDATE acc SET bal = bal * 2 WHERE bal > 20");
    assert_string_equal(PQcmdTuples(res), "3");
    PQclear(res);
    assert_int_equal(th_scalar(conn, "SELECT bal FROM acc WHERE id = 3"), 62);
    res = th_exec(conn, "DELETE FROM acc WHERE bal >= 80");
    assert_string_equal(PQcmdTuples(res), "2");
    PQclear(res);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM acc"), 3);
    /* NOT NULL is enforced by UPDATE too. */
    assert_string_equal(th_sqlstate(conn, "UPDATE acc SET bal = NULL"),
                        "23502");
    assert_true(th_ok(conn, "DROP TABLE acc"));
    assert_string_equal(th_sqlstate(conn, "SELECT * FROM acc"), "42P01");
}

/* A duplicate primary key fails with 23505 and inserts nothing of that
 * statement, even rows bound for other shards. */
static void
test_duplicate_key_inserts_nothing(void **state)
{
    assert_string_equal(th_sqlstate(conn, "INSERT INTO users VALUES (1000, "
                                          "'a', 1), (1001, 'b', 1), (1002, "
                                          "'c', 1), (1003, 'd', 1), (5, 'dup', "
                                          "1)"),
                        "23505");
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM users WHERE id >= "
                                     "1000"),
                     0);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM users"), 600);
    /* Duplicates inside one statement fail the same way. */
    assert_string_equal(th_sqlstate(conn, "INSERT INTO users VALUES (2000, "
                                          "'a', 1), (2000, 'b', 1)"),
                        "23505");
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM users WHERE id = "
                                     "2000"),
                     0);
}

/* Every supported type round-trips with NULLs, in PostgreSQL's text form. */
static void
test_types_and_nulls(void **state)
{
    assert_true(th_ok(conn, "CREATE TABLE types (k integer PRIMARY KEY, a "
                            "bigint, b smallint, c text, d varchar(5), e "
                            "boolean, f double precision) PARTITION BY HASH "
                            "(k)"));
    assert_true(th_ok(conn,
                      "INSERT INTO types VALUES (1, -9223372036854775808, "
                      "-32768, 'héllo', 'abcde', true, 0.1), (2, NULL, "
                      "NULL, NULL, NULL, NULL, NULL), (3, 9223372036854775807, "
                      "32767, '', 'x', false, -1.5e300)"));
    PGresult *res = th_exec(conn, "SELECT k, a, b, c, d, e, f FROM types "
                                  "ORDER BY k");
    assert_int_equal(PQntuples(res), 3);
    assert_string_equal(PQgetvalue(res, 0, 1), "-9223372036854775808");
    assert_string_equal(PQgetvalue(res, 0, 2), "-32768");
    assert_string_equal(PQgetvalue(res, 0, 3), "héllo");
    assert_string_equal(PQgetvalue(res, 0, 4), "abcde");
    assert_string_equal(PQgetvalue(res, 0, 5), "t");
    assert_string_equal(PQgetvalue(res, 0, 6), "0.1");
    for (int c = 1; c < 7; c++)
        assert_true(PQgetisnull(res, 1, c));
    assert_string_equal(PQgetvalue(res, 2, 1), "9223372036854775807");
    assert_string_equal(PQgetvalue(res, 2, 3), "");
    assert_false(PQgetisnull(res, 2, 3));
    assert_string_equal(PQgetvalue(res, 2, 5), "f");
    assert_string_equal(PQgetvalue(res, 2, 6), "-1.5e+300");
    /* Column types reach the client as PostgreSQL OIDs. */
    assert_int_equal(PQftype(res, 0), 23);
    assert_int_equal(PQftype(res, 1), 20);
    assert_int_equal(PQftype(res, 2), 21);
    assert_int_equal(PQftype(res, 3), 25);
    assert_int_equal(PQftype(res, 4), 1043);
    assert_int_equal(PQftype(res, 5), 16);
    assert_int_equal(PQftype(res, 6), 701);
    PQclear(res);
    assert_string_equal(th_sqlstate(conn, "INSERT INTO types (k, d) VALUES "
                                          "(9, 'toolong')"),
                        "22001");
    assert_string_equal(th_sqlstate(conn, "INSERT INTO types (k, b) VALUES "
                                          "(9, 40000)"),
                        "22003");
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM types WHERE a IS "
                                     "NULL"),
                     1);
}

/* TRUNCATE empties a sharded and a reference table on every shard, and
 * the tables stay usable; a missing name truncates nothing. */
static void
test_truncate(void **state)
{
    char sql[4096];
    size_t off = (size_t)snprintf(sql, sizeof sql, "INSERT INTO tr VALUES ");
    for (int i = 0; i < 200; i++)
        off += (size_t)snprintf(sql + off, sizeof sql - off, "%s(%d)",
                                i ? "," : "", i);
    assert_true(th_ok(conn, "CREATE TABLE tr (id bigint PRIMARY KEY) "
                            "PARTITION BY HASH (id)"));
    assert_true(th_ok(conn, "CREATE TABLE trr (id bigint PRIMARY KEY) WITH "
                            "(distribution = 'reference')"));
    assert_true(th_ok(conn, sql));
    assert_true(th_ok(conn, "INSERT INTO trr VALUES (1), (2)"));
    assert_string_equal(th_sqlstate(conn, "TRUNCATE tr, nope"), "42P01");
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM tr"), 200);
    assert_true(th_ok(conn, "TRUNCATE tr, trr"));
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM tr"), 0);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM trr"), 0);
    assert_true(th_ok(conn, "INSERT INTO tr VALUES (7)"));
    assert_int_equal(th_scalar(conn, "SELECT id FROM tr WHERE id = 7"), 7);
    assert_true(th_ok(conn, "DROP TABLE tr, trr"));
}

/* Several statements in one Query message run in order. */
static void
test_multi_statement(void **state)
{
    PGresult *res = th_exec(conn, "CREATE TABLE ms (id bigint PRIMARY KEY) "
                                  "PARTITION BY HASH (id); INSERT INTO ms "
                                  "VALUES (1), (2); SELECT count(*) FROM ms");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(res, 0, 0), "2");
    PQclear(res);
    assert_true(th_ok(conn, "DROP TABLE ms"));
}

/* jsonb on a table spread over the shards: the json operators filter on
 * every shard, ORDER BY and < order values as PostgreSQL does (merged
 * from every shard), GROUP BY groups equal values; what Talus refuses
 * where PostgreSQL indexes jsonb values (a key column) is 0A000. */
static void
test_jsonb_over_shards(void **state)
{
    assert_true(th_ok(conn, "CREATE TABLE jsh (id bigint PRIMARY KEY, "
                            "b jsonb) PARTITION BY HASH (id)"));
    for (int i = 0; i < 30; i++) {
        char sql[200];
        snprintf(sql, sizeof(sql),
                 "INSERT INTO jsh VALUES (%d, '{\"k\": %d, \"t\": "
                 "[\"x%d\"]}')",
                 i, i % 3, i % 5);
        assert_true(th_ok(conn, sql));
    }
    assert_int_equal(
        th_scalar(conn, "SELECT count(*) FROM jsh WHERE b ->> 'k' = '1'"), 10);
    assert_int_equal(
        th_scalar(conn, "SELECT count(*) FROM jsh WHERE b @> '{\"k\": 2.0}'"),
        10);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM jsh WHERE "
                                     "b #>> '{t,0}' = 'x4' AND b ? 'k'"),
                     6);
    assert_int_equal(th_scalar(conn, "SELECT sum((b -> 'k')::text::int) "
                                     "FROM jsh WHERE jsonb_typeof(b) = "
                                     "'object'"),
                     30);
    /* Objects of two pairs by their first key's value, then the second
     * (k before t: same length), merged across shards. */
    assert_int_equal(th_scalar(conn, "SELECT id FROM jsh ORDER BY b, id "
                                     "LIMIT 1"),
                     0);
    assert_int_equal(th_scalar(conn, "SELECT id FROM jsh ORDER BY b DESC, "
                                     "id LIMIT 1"),
                     14);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM jsh WHERE b < "
                                     "'{\"k\": 1, \"t\": [\"x0\"]}'"),
                     10);
    assert_int_equal(th_scalar(conn, "SELECT count(DISTINCT b) FROM jsh"), 15);
    assert_string_equal(
        th_sqlstate(conn, "CREATE TABLE jpk (b jsonb PRIMARY KEY)"), "0A000");
    assert_string_equal(th_sqlstate(conn, "CREATE TABLE jpk (id int, b jsonb) "
                                          "PARTITION BY HASH (b)"),
                        "0A000");
    assert_true(th_ok(conn, "DROP TABLE jsh"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_spread_over_nodes),
        cmocka_unit_test(test_routing_by_counters),
        cmocka_unit_test(test_explain_shows_shards),
        cmocka_unit_test(test_point_select),
        cmocka_unit_test(test_order_limit_offset),
        cmocka_unit_test(test_where_logic),
        cmocka_unit_test(test_update_delete),
        cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_duplicate_key_inserts_nothing),
        cmocka_unit_test(test_types_and_nulls),
        cmocka_unit_test(test_multi_statement),
        cmocka_unit_test(test_jsonb_over_shards),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
