/* ALTER TABLE that rewrites a table (ADD PRIMARY KEY, ADD COLUMN ...
 * DEFAULT on a table with rows) on a real cluster with two routers: the
 * other router reads the new table, a rewrite cut off leaves the table as
 * it was, and the old rows are gone from the shards. (What each statement
 * returns is checked against PostgreSQL by tests/sql/alter_rewrite.sql.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

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

/* The sum of the keys every node holds over all shards. */
static unsigned long long
total_keys(void)
{
    unsigned long long scans[64], writes[64], keys[64], sum = 0;
    assert_int_equal(th_shard_counters(&cluster, scans, writes, keys), 0);
    for (uint32_t s = 0; s < cluster.cfg.n_shards; s++)
        sum += keys[s];
    return sum;
}

/* After ADD PRIMARY KEY on one router, the other reads the rows by their
 * new key and writes under it (its first write, planned with the old
 * table, may be refused once as the table recreated: 42P01). */
static void
test_other_router_sees_new_table(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster);
    PGconn *b = th_connect2(&cluster);
    assert_true(th_ok(a, "CREATE TABLE ro (k int, v text)"));
    assert_true(th_ok(b, "INSERT INTO ro SELECT g, 'v' || g FROM "
                         "generate_series(1, 500) AS g"));
    assert_true(th_ok(a, "ALTER TABLE ro ADD PRIMARY KEY (k)"));
    assert_int_equal(th_scalar(b, "SELECT count(*) FROM ro"), 500);
    assert_int_equal(th_scalar(b, "SELECT k FROM ro WHERE k = 250"), 250);
    const char *code = th_sqlstate(b, "INSERT INTO ro VALUES (501, 'x')");
    if (strcmp(code, "42P01") == 0)
        code = th_sqlstate(b, "INSERT INTO ro VALUES (501, 'x')");
    assert_string_equal(code, "");
    assert_string_equal(th_sqlstate(b, "INSERT INTO ro VALUES (1, 'x')"),
                        "23505");
    assert_true(th_ok(b, "ALTER TABLE ro ADD COLUMN n int DEFAULT 3"));
    /* Router a plans with the table it knows: the nodes refuse it as
     * stale, it reloads the catalog and reads again. */
    assert_int_equal(th_scalar(a, "SELECT count(*) FROM ro"), 501);
    assert_int_equal(th_scalar(a, "SELECT sum(n) FROM ro"), 3 * 501);
    assert_true(th_ok(a, "DROP TABLE ro"));
    PQfinish(a);
    PQfinish(b);
}

/* A rewrite cut off by statement_timeout (57014) leaves the table as it
 * was; one that fails on a duplicate takes its new rows back; one that
 * succeeds leaves no old rows behind: the shards hold as many keys as
 * before. */
static void
test_failed_rewrite_leaves_table(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster);
    assert_true(th_ok(a, "CREATE TABLE rf (k int, v int)"));
    assert_true(th_ok(a, "INSERT INTO rf SELECT g, g % 10 FROM "
                         "generate_series(1, 20000) AS g"));
    unsigned long long before = total_keys();

    assert_true(th_ok(a, "SET statement_timeout = 1"));
    assert_string_equal(th_sqlstate(a, "ALTER TABLE rf ADD PRIMARY KEY (k)"),
                        "57014");
    assert_true(th_ok(a, "RESET statement_timeout"));
    assert_string_equal(th_sqlstate(a, "ALTER TABLE rf ADD PRIMARY KEY (v)"),
                        "23505");
    assert_int_equal(th_scalar(a, "SELECT count(*) FROM rf"), 20000);
    /* Still without a key: a duplicate goes in. */
    assert_true(th_ok(a, "INSERT INTO rf VALUES (1, 5)"));
    assert_true(th_ok(a, "DELETE FROM rf WHERE k = 1 AND v = 5"));
    assert_int_equal(total_keys(), before);

    assert_true(th_ok(a, "ALTER TABLE rf ADD PRIMARY KEY (k)"));
    assert_int_equal(th_scalar(a, "SELECT count(*) FROM rf"), 20000);
    assert_int_equal(total_keys(), before);
    assert_true(th_ok(a, "DROP TABLE rf"));
    PQfinish(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_other_router_sees_new_table),
        cmocka_unit_test(test_failed_rewrite_leaves_table),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
