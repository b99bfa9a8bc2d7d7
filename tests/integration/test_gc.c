/* GC and time travel on a real cluster with a short GC window
 * (gc_window_ms = 3000): SET talus.as_of reads an older value after an
 * update, refuses writes (25006), a time in the future or not a time
 * (22023); once the safe point passes the time, reads as of it are
 * refused with 72000 (never answered from what GC left); an open
 * transaction in another session holds the safe point back until it
 * ends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define WINDOW_S 3.0

static struct th_cluster cluster;

static int
setup(void **state)
{
    struct th_options o = {.n_nodes = 3,
                           .n_shards = 2,
                           .n_replicas = 1,
                           .extra_conf = "gc_window_ms = 3000"};
    (void)state;
    return th_cluster_start(&cluster, &o);
}

static int
teardown(void **state)
{
    (void)state;
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

/* The first column of every row @sql returns, joined by ',' (malloc'd),
 * or NULL on an error (its SQLSTATE in @state). */
static char *
text_of(PGconn *conn, const char *sql, char state[6])
{
    PGresult *r = PQexec(conn, sql);
    char *out = NULL;
    state[0] = '\0';
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        size_t len = 1;
        for (int i = 0; i < PQntuples(r); i++)
            len += strlen(PQgetvalue(r, i, 0)) + 1;
        out = calloc(1, len);
        for (int i = 0; i < PQntuples(r); i++) {
            if (i > 0)
                strcat(out, ",");
            strcat(out, PQgetvalue(r, i, 0));
        }
    } else {
        const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        snprintf(state, 6, "%s", s != NULL ? s : "?????");
    }
    PQclear(r);
    return out;
}

/* SET talus.as_of = @at on @conn. */
static void
set_as_of(PGconn *conn, const char *at)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SET talus.as_of = '%s'", at);
    assert_true(th_ok(conn, sql));
}

static void
test_time_travel(void **state)
{
    (void)state;
    PGconn *conn = th_connect(&cluster);
    char st[6], at[64], *v;

    assert_true(th_ok(conn, "CREATE TABLE tt (id int PRIMARY KEY, v text)"));
    assert_true(th_ok(conn, "INSERT INTO tt VALUES (1, 'old'), (2, 'b'), "
                            "(3, 'c'), (4, 'd')"));
    v = text_of(conn, "SELECT now()::text", st);
    assert_non_null(v);
    snprintf(at, sizeof at, "%s", v);
    free(v);
    assert_true(th_ok(conn, "BEGIN"));
    assert_true(th_ok(conn, "UPDATE tt SET v = 'new' WHERE id = 1"));
    assert_true(th_ok(conn, "DELETE FROM tt WHERE id = 4"));
    assert_true(th_ok(conn, "COMMIT"));

    set_as_of(conn, at);
    v = text_of(conn, "SHOW talus.as_of", st);
    assert_string_equal(v, at);
    free(v);
    /* A point read and a read of every shard see the old rows. */
    v = text_of(conn, "SELECT v FROM tt WHERE id = 1", st);
    assert_string_equal(v, "old");
    free(v);
    v = text_of(conn, "SELECT v FROM tt ORDER BY id", st);
    assert_string_equal(v, "old,b,c,d");
    free(v);
    /* So does a read-only transaction block. */
    assert_true(th_ok(conn, "BEGIN READ ONLY"));
    v = text_of(conn, "SELECT count(*)::text FROM tt", st);
    assert_string_equal(v, "4");
    free(v);
    assert_true(th_ok(conn, "COMMIT"));
    /* Writes are refused while it is set. */
    assert_string_equal(th_sqlstate(conn, "UPDATE tt SET v = 'x' WHERE id = 2"),
                        "25006");
    assert_string_equal(th_sqlstate(conn, "INSERT INTO tt VALUES (9, 'z')"),
                        "25006");
    /* A time in the future, or not a time, is refused; the old value
     * stays. */
    assert_string_equal(th_sqlstate(conn, "SET talus.as_of = '2999-01-01'"),
                        "22023");
    assert_string_equal(th_sqlstate(conn, "SET talus.as_of = 'yesterday-ish'"),
                        "22023");
    v = text_of(conn, "SHOW talus.as_of", st);
    assert_string_equal(v, at);
    free(v);
    assert_true(th_ok(conn, "RESET talus.as_of"));
    v = text_of(conn, "SELECT v FROM tt ORDER BY id", st);
    assert_string_equal(v, "new,b,c");
    free(v);
    assert_true(th_ok(conn, "UPDATE tt SET v = 'b2' WHERE id = 2"));

    /* Past the window the safe point passes the time: the read is
     * refused, never answered with what is left. */
    set_as_of(conn, at);
    double deadline = th_now() + 40.0;
    bool refused = false;
    while (!refused && th_now() < deadline) {
        v = text_of(conn, "SELECT v FROM tt WHERE id = 1", st);
        if (v != NULL) {
            assert_string_equal(v, "old");
            free(v);
            usleep(100 * 1000);
            continue;
        }
        assert_string_equal(st, "72000");
        refused = true;
    }
    assert_true(refused);
    /* A read of every shard is refused too. */
    v = text_of(conn, "SELECT count(*) FROM tt", st);
    assert_null(v);
    assert_string_equal(st, "72000");
    assert_true(th_ok(conn, "RESET talus.as_of"));
    v = text_of(conn, "SELECT v FROM tt WHERE id = 1", st);
    assert_string_equal(v, "new");
    free(v);
    PQfinish(conn);
}

/* An open transaction holds the safe point at its start: a read as of a
 * time after it began keeps working for several windows, and is refused
 * once the transaction ended and the window passed. */
static void
test_open_transaction_holds(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster);
    PGconn *b = th_connect(&cluster);
    char st[6], at[64], *v;

    assert_true(th_ok(b, "CREATE TABLE th (id int PRIMARY KEY, v text)"));
    assert_true(th_ok(b, "INSERT INTO th VALUES (1, 'one'), (2, 'two')"));
    assert_true(th_ok(a, "BEGIN ISOLATION LEVEL REPEATABLE READ"));
    v = text_of(a, "SELECT v FROM th WHERE id = 1", st);
    assert_string_equal(v, "one");
    free(v);
    v = text_of(b, "SELECT now()::text", st);
    snprintf(at, sizeof at, "%s", v);
    free(v);
    assert_true(th_ok(b, "BEGIN"));
    assert_true(th_ok(b, "UPDATE th SET v = 'uno' WHERE id = 1"));
    assert_true(th_ok(b, "COMMIT"));

    set_as_of(b, at);
    double until = th_now() + 3 * WINDOW_S;
    while (th_now() < until) {
        v = text_of(b, "SELECT v FROM th ORDER BY id", st);
        if (v == NULL)
            fail_msg("read as of %s refused (%s) while a transaction that "
                     "began before it is open",
                     at, st);
        assert_string_equal(v, "one,two");
        free(v);
        usleep(200 * 1000);
    }
    /* The transaction still reads its snapshot. */
    v = text_of(a, "SELECT v FROM th WHERE id = 1", st);
    assert_string_equal(v, "one");
    free(v);
    assert_true(th_ok(a, "COMMIT"));

    double deadline = th_now() + 40.0;
    bool refused = false;
    while (!refused && th_now() < deadline) {
        v = text_of(b, "SELECT v FROM th WHERE id = 1", st);
        if (v != NULL) {
            assert_string_equal(v, "one");
            free(v);
            usleep(100 * 1000);
            continue;
        }
        assert_string_equal(st, "72000");
        refused = true;
    }
    assert_true(refused);
    PQfinish(a);
    PQfinish(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_travel),
        cmocka_unit_test(test_open_transaction_holds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
