/* Reference tables end to end: a copy on every shard, written to every
 * copy, read from one; observed through per-shard counters and through
 * sessions that read different copies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define MAX_SHARDS 64

static struct th_cluster cluster;
static PGconn *conn;
/* One session per shard: sessions get consecutive backend pids, and a
 * session reads copy pid % n_shards, so together they read every copy. */
static PGconn *readers[MAX_SHARDS];

static int
setup(void **state)
{
    if (th_cluster_start(&cluster, NULL) != 0)
        return -1;
    conn = th_connect(&cluster);
    for (uint32_t s = 0; s < cluster.cfg.n_shards; s++)
        readers[s] = th_connect(&cluster);
    return th_ok(conn, "CREATE TABLE countries (code text PRIMARY KEY, name "
                       "text) WITH (distribution = 'reference')")
               ? 0
               : -1;
}

static int
teardown(void **state)
{
    for (uint32_t s = 0; s < cluster.cfg.n_shards; s++)
        PQfinish(readers[s]);
    PQfinish(conn);
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

static void
keys_now(unsigned long long *keys)
{
    unsigned long long scans[MAX_SHARDS], writes[MAX_SHARDS];
    assert_int_equal(th_shard_counters(&cluster, scans, writes, keys), 0);
}

/* Every reader session (so every copy) returns @want for @sql. */
static void
assert_every_copy(const char *sql, long long want)
{
    for (uint32_t s = 0; s < cluster.cfg.n_shards; s++)
        assert_int_equal(th_scalar(readers[s], sql), want);
}

/* An INSERT stores every row on every shard. */
static void
test_insert_reaches_every_copy(void **state)
{
    unsigned long long before[MAX_SHARDS] = {0}, after[MAX_SHARDS] = {0};
    keys_now(before);
    assert_true(th_ok(conn, "INSERT INTO countries VALUES ('fr', 'France'), "
                            "('de', 'Germany'), ('jp', 'Japan'), "
                            "('br', 'Brazil'), ('ca', 'Canada')"));
    keys_now(after);
    for (uint32_t s = 0; s < cluster.cfg.n_shards; s++)
        assert_int_equal(after[s] - before[s], 5);
    assert_every_copy("SELECT count(*) FROM countries", 5);
}

/* A table without a primary key gets one router-made rowid per row, the
 * same on every copy: each copy holds exactly the inserted rows. */
static void
test_rowid_table_same_rows_everywhere(void **state)
{
    unsigned long long before[MAX_SHARDS] = {0}, after[MAX_SHARDS] = {0};
    assert_true(th_ok(conn, "CREATE TABLE tags (t text) WITH (distribution "
                            "= 'reference')"));
    keys_now(before);
    assert_true(th_ok(conn, "INSERT INTO tags VALUES ('a'), ('b'), ('a')"));
    keys_now(after);
    for (uint32_t s = 0; s < cluster.cfg.n_shards; s++)
        assert_int_equal(after[s] - before[s], 3);
    assert_every_copy("SELECT count(*) FROM tags WHERE t = 'a'", 2);
    /* A DELETE removes the same rows from every copy. */
    assert_true(th_ok(conn, "DELETE FROM tags WHERE t = 'a'"));
    assert_every_copy("SELECT count(*) FROM tags", 1);
    assert_true(th_ok(conn, "DROP TABLE tags"));
}

/* A read, full or by key, is served by exactly one shard. */
static void
test_read_touches_one_shard(void **state)
{
    static const char *const reads[] = {
        "SELECT * FROM countries",
        "SELECT name FROM countries WHERE code = 'fr'",
        "SELECT count(*) FROM countries WHERE code IN ('fr', 'de')",
    };
    for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
        unsigned long long before[MAX_SHARDS] = {0}, after[MAX_SHARDS] = {0};
        unsigned long long w[MAX_SHARDS];
        assert_int_equal(th_shard_counters(&cluster, before, w, NULL), 0);
        PGresult *res = th_exec(conn, reads[i]);
        assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
        PQclear(res);
        assert_int_equal(th_shard_counters(&cluster, after, w, NULL), 0);
        uint32_t touched = 0;
        for (uint32_t s = 0; s < cluster.cfg.n_shards; s++)
            touched += after[s] != before[s];
        assert_int_equal(touched, 1);
    }
}

/* Sessions are spread over the copies: the reader sessions together read
 * every shard, each reading one. */
static void
test_sessions_read_every_copy(void **state)
{
    unsigned long long before[MAX_SHARDS] = {0}, after[MAX_SHARDS] = {0};
    unsigned long long w[MAX_SHARDS];
    assert_int_equal(th_shard_counters(&cluster, before, w, NULL), 0);
    for (uint32_t s = 0; s < cluster.cfg.n_shards; s++)
        assert_int_equal(
            th_scalar(readers[s], "SELECT count(*) FROM countries"), 5);
    assert_int_equal(th_shard_counters(&cluster, after, w, NULL), 0);
    for (uint32_t s = 0; s < cluster.cfg.n_shards; s++)
        assert_int_equal(after[s] - before[s], 1);
}

/* An UPDATE writes every copy, reports one copy's count, and every copy
 * then returns the new value. */
static void
test_update_changes_every_copy(void **state)
{
    unsigned long long sc[MAX_SHARDS], before[MAX_SHARDS] = {0},
                                       after[MAX_SHARDS] = {0};
    assert_int_equal(th_shard_counters(&cluster, sc, before, NULL), 0);
    PGresult *res =
        th_exec(conn, "UPDATE countries SET name = name || '!' WHERE code IN "
                      "('fr', 'de')");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    assert_string_equal(PQcmdStatus(res), "UPDATE 2");
    PQclear(res);
    assert_int_equal(th_shard_counters(&cluster, sc, after, NULL), 0);
    for (uint32_t s = 0; s < cluster.cfg.n_shards; s++)
        assert_true(after[s] > before[s]);
    assert_every_copy(
        "SELECT count(*) FROM countries WHERE name IN ('France!', 'Germany!')",
        2);
    assert_every_copy("SELECT count(*) FROM countries WHERE name = 'France'",
                      0);
}

/* A duplicate key fails with 23505 and inserts nothing on any copy. */
static void
test_duplicate_inserts_nothing(void **state)
{
    unsigned long long before[MAX_SHARDS] = {0}, after[MAX_SHARDS] = {0};
    keys_now(before);
    assert_string_equal(th_sqlstate(conn, "INSERT INTO countries VALUES "
                                          "('it', 'Italy'), ('jp', 'Nihon')"),
                        "23505");
    keys_now(after);
    for (uint32_t s = 0; s < cluster.cfg.n_shards; s++)
        assert_int_equal(after[s], before[s]);
    assert_every_copy("SELECT count(*) FROM countries WHERE code = 'it'", 0);
    assert_every_copy("SELECT count(*) FROM countries WHERE name = 'Japan'", 1);
}

/* A DELETE removes the row from every shard and reports one copy's
 * count. */
static void
test_delete_every_copy(void **state)
{
    unsigned long long before[MAX_SHARDS] = {0}, after[MAX_SHARDS] = {0};
    keys_now(before);
    PGresult *res = th_exec(conn, "DELETE FROM countries WHERE code = 'br'");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    assert_string_equal(PQcmdStatus(res), "DELETE 1");
    PQclear(res);
    keys_now(after);
    for (uint32_t s = 0; s < cluster.cfg.n_shards; s++)
        assert_int_equal(before[s] - after[s], 1);
    assert_every_copy("SELECT count(*) FROM countries", 4);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_reaches_every_copy),
        cmocka_unit_test(test_rowid_table_same_rows_everywhere),
        cmocka_unit_test(test_read_touches_one_shard),
        cmocka_unit_test(test_sessions_read_every_copy),
        cmocka_unit_test(test_update_changes_every_copy),
        cmocka_unit_test(test_duplicate_inserts_nothing),
        cmocka_unit_test(test_delete_every_copy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
