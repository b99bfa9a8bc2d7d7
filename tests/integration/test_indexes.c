/* CREATE INDEX on a real cluster with two routers: an index built while
 * the other router writes (planned with the catalog from before the
 * index) holds exactly the rows the table holds; a build waits for a
 * transaction's uncommitted rows; a UNIQUE build over duplicates fails
 * and leaves nothing behind; DROP INDEX frees its name and values.
 * (What each statement returns is checked against PostgreSQL by
 * tests/sql/indexes.sql.) */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Rows with a = @v counted through the index and through a full scan
 * (a + 0 fixes no index column) agree. */
static void
assert_index_matches(PGconn *c, const char *table, int v)
{
    char q1[160], q2[160];
    snprintf(q1, sizeof(q1), "SELECT count(*) FROM %s WHERE a = %d", table, v);
    snprintf(q2, sizeof(q2), "SELECT count(*) FROM %s WHERE a + 0 = %d", table,
             v);
    long long through_index = th_scalar(c, q1);
    long long scanned = th_scalar(c, q2);
    if (through_index != scanned)
        fprintf(stderr, "a = %d: index %lld rows, table %lld\n", v,
                through_index, scanned);
    assert_int_equal(through_index, scanned);
}

struct writer {
    atomic_bool stop;
    int n_ok;
    int n_failed;
    char failure[256];
};

/* Router 2 writes while router 1 builds: inserts, updates of the
 * indexed column and deletes, each autocommit. */
static void *
writer_main(void *arg)
{
    struct writer *w = arg;
    PGconn *c = th_connect2(&cluster);
    char sql[200];
    for (int i = 0; !atomic_load(&w->stop) && i < 100000; i++) {
        int id = 100000 + i;
        switch (i % 3) {
        case 0:
            snprintf(sql, sizeof(sql),
                     "INSERT INTO ci VALUES (%d, %d, 'w'), (%d, %d, 'w')", id,
                     i % 7, id + 50000, (i + 3) % 7);
            break;
        case 1:
            snprintf(sql, sizeof(sql),
                     "UPDATE ci SET a = (a + 1) %% 7 WHERE id = %d OR id = %d",
                     1 + i % 3000, id - 1);
            break;
        default:
            snprintf(sql, sizeof(sql), "DELETE FROM ci WHERE id = %d",
                     2 + (i * 7) % 3000);
            break;
        }
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) == PGRES_COMMAND_OK) {
            w->n_ok++;
        } else {
            w->n_failed++;
            snprintf(w->failure, sizeof(w->failure), "%s: %s", sql,
                     PQresultErrorMessage(r));
        }
        PQclear(r);
    }
    PQfinish(c);
    return NULL;
}

static void
test_build_beside_writers(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster);
    PGconn *b = th_connect2(&cluster);
    assert_true(th_ok(a, "CREATE TABLE ci (id int PRIMARY KEY, a int, b text) "
                         "PARTITION BY HASH (id)"));
    assert_true(th_ok(a, "INSERT INTO ci SELECT g, g % 7, 'b' || g FROM "
                         "generate_series(1, 10000) g"));
    /* Router 2 caches the table without the index. */
    assert_int_equal(th_scalar(b, "SELECT count(*) FROM ci"), 10000);
    struct writer w;
    memset(&w, 0, sizeof(w));
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, writer_main, &w), 0);
    while (w.n_ok < 20 && w.n_failed == 0)
        usleep(10000);
    assert_true(th_ok(a, "CREATE INDEX ci_a ON ci (a)"));
    /* Writes go on after the build, through the index's maintenance. */
    int after = w.n_ok + 30;
    while (w.n_ok < after && w.n_failed == 0)
        usleep(10000);
    atomic_store(&w.stop, true);
    pthread_join(t, NULL);
    if (w.n_failed > 0)
        fprintf(stderr, "writer: %s\n", w.failure);
    assert_int_equal(w.n_failed, 0);
    for (int v = 0; v < 7; v++) {
        assert_index_matches(a, "ci", v);
        assert_index_matches(b, "ci", v);
    }
    PQfinish(a);
    PQfinish(b);
}

struct builder {
    const char *sql;
    char sqlstate[8];
};

static void *
builder_main(void *arg)
{
    struct builder *x = arg;
    PGconn *c = th_connect(&cluster);
    snprintf(x->sqlstate, sizeof(x->sqlstate), "%s", th_sqlstate(c, x->sql));
    PQfinish(c);
    return NULL;
}

/* A transaction's uncommitted row holds the build back until it
 * commits; the committed row is in the index. */
static void
test_build_waits_for_transaction(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster);
    assert_true(th_ok(a, "CREATE TABLE cw (id int PRIMARY KEY, a int) "
                         "PARTITION BY HASH (id)"));
    assert_true(th_ok(a, "INSERT INTO cw SELECT g, g % 5 FROM "
                         "generate_series(1, 200) g"));
    assert_true(th_ok(a, "BEGIN"));
    assert_true(th_ok(a, "INSERT INTO cw VALUES (1000, 42)"));
    struct builder x = {.sql = "CREATE INDEX ON cw (a)"};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, builder_main, &x), 0);
    usleep(300 * 1000);
    assert_true(th_ok(a, "COMMIT"));
    pthread_join(t, NULL);
    assert_string_equal(x.sqlstate, "");
    assert_int_equal(th_scalar(a, "SELECT count(*) FROM cw WHERE a = 42"), 1);
    for (int v = 0; v < 5; v++)
        assert_index_matches(a, "cw", v);
    PQfinish(a);
}

/* A UNIQUE build over duplicate rows fails with 23505 and takes the
 * index back out: the duplicates stay insertable, the name is free. */
static void
test_unique_build_fails_cleanly(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster);
    PGconn *b = th_connect2(&cluster);
    assert_true(th_ok(a, "CREATE TABLE cu (id int PRIMARY KEY, a int) "
                         "PARTITION BY HASH (id)"));
    assert_true(th_ok(a, "INSERT INTO cu SELECT g, g FROM "
                         "generate_series(1, 500) g"));
    assert_true(th_ok(a, "INSERT INTO cu VALUES (1001, 1001), (1002, 1001)"));
    /* Unique only with the shard key in it. */
    assert_string_equal(th_sqlstate(a, "CREATE UNIQUE INDEX cu_a ON cu (a)"),
                        "0A000");
    assert_true(th_ok(a, "CREATE INDEX cu_a ON cu (a)"));
    assert_string_equal(th_sqlstate(a, "CREATE UNIQUE INDEX cu_id_a ON cu "
                                       "(id, a)"),
                        "");
    assert_string_equal(th_sqlstate(b, "INSERT INTO cu VALUES (7, 7)"),
                        "23505");
    /* What Talus does not index yet: 0A000 naming it. */
    assert_string_equal(th_sqlstate(a, "CREATE INDEX ON cu ((a + 1))"),
                        "0A000");
    assert_string_equal(th_sqlstate(a, "CREATE INDEX ON cu (a) WHERE a > 1"),
                        "0A000");
    assert_string_equal(th_sqlstate(a, "CREATE INDEX ON cu USING hash (a)"),
                        "0A000");
    assert_string_equal(th_sqlstate(a, "CREATE INDEX ON cu (a DESC)"), "0A000");
    assert_string_equal(th_sqlstate(a, "CREATE INDEX ON cu (a) INCLUDE (id)"),
                        "0A000");
    assert_true(th_ok(a, "DROP INDEX cu_a"));
    assert_string_equal(th_sqlstate(a, "DROP INDEX cu_a"), "42704");
    assert_true(th_ok(a, "CREATE INDEX cu_a ON cu (a)"));
    assert_int_equal(th_scalar(b, "SELECT count(*) FROM cu WHERE a = 1001"), 2);
    PQfinish(a);
    PQfinish(b);
}

/* An unsharded table's UNIQUE index: a build over duplicates fails and
 * leaves the table writable as before. */
static void
test_unique_build_duplicates(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster);
    assert_true(th_ok(a, "CREATE TABLE cd (id int PRIMARY KEY, v text)"));
    assert_true(th_ok(a, "INSERT INTO cd SELECT g, 'v' || (g % 400) FROM "
                         "generate_series(1, 3000) g"));
    assert_string_equal(th_sqlstate(a, "CREATE UNIQUE INDEX cd_v ON cd (v)"),
                        "23505");
    assert_true(th_ok(a, "INSERT INTO cd VALUES (3001, 'v1')"));
    assert_true(th_ok(a, "DELETE FROM cd WHERE id > 400"));
    assert_true(th_ok(a, "CREATE UNIQUE INDEX cd_v ON cd (v)"));
    assert_string_equal(th_sqlstate(a, "INSERT INTO cd VALUES (3002, 'v1')"),
                        "23505");
    assert_int_equal(th_scalar(a, "SELECT id FROM cd WHERE v = 'v7'"), 7);
    PQfinish(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_beside_writers),
        cmocka_unit_test(test_build_waits_for_transaction),
        cmocka_unit_test(test_unique_build_fails_cleanly),
        cmocka_unit_test(test_unique_build_duplicates),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
