/* The cluster catalog in the meta group, seen by two stateless routers:
 * DDL on one router is seen by the other by its next statement (map
 * version checks on the nodes), a router killed with -9 and restarted
 * loses nothing, DDL survives the loss of the meta group's leader, and a
 * table name is taken once under concurrent CREATE TABLE. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/base/sqlstate.h"
#include "harness.h"

/* The SQLSTATE of @sql on @conn: "" on success, connection_failure when the
 * connection itself failed (libpq gives no SQLSTATE then). */
static const char *
state_of(PGconn *conn, const char *sql)
{
    static __thread char state[8];
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        snprintf(state, sizeof(state), "%s", "");
    else
        snprintf(state, sizeof(state), "%s",
                 s != NULL ? s : TL_SQLSTATE_CONNECTION_FAILURE);
    PQclear(res);
    return state;
}

/* Router A creates a table and router B inserts into it at once; A drops
 * it and B's next SELECT gets 42P01; A recreates it with other columns
 * and B's next INSERT uses the new columns; a drop and recreate that B
 * never saw is picked up by B's next SELECT transparently, while B's next
 * INSERT or UPDATE planned against the old table fails with 42P01. */
static void
test_two_routers_see_each_others_ddl(void **state)
{
    struct th_cluster c;
    (void)state;
    assert_int_equal(th_cluster_start(&c, NULL), 0);
    assert_int_equal(th_router2_start(&c), 0);
    PGconn *a = th_connect(&c), *b = th_connect2(&c);

    assert_true(th_ok(a, "CREATE TABLE t (id bigint PRIMARY KEY, v text)"));
    assert_true(th_ok(b, "INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, 'z')"));
    assert_int_equal(th_scalar(a, "SELECT count(*) FROM t"), 3);

    assert_true(th_ok(a, "DROP TABLE t"));
    assert_string_equal(state_of(b, "SELECT * FROM t"), "42P01");
    assert_string_equal(state_of(b, "INSERT INTO t VALUES (4, 'w')"), "42P01");

    assert_true(th_ok(a, "CREATE TABLE t (id bigint PRIMARY KEY, w int, "
                         "z text)"));
    assert_true(th_ok(b, "INSERT INTO t (id, w, z) VALUES (7, 70, 'q')"));
    assert_int_equal(th_scalar(a, "SELECT w FROM t WHERE id = 7"), 70);
    assert_int_equal(th_scalar(a, "SELECT count(*) FROM t"), 1);

    /* B caches the three-column t; A replaces it behind B's back. */
    assert_int_equal(th_scalar(b, "SELECT count(*) FROM t"), 1);
    assert_true(th_ok(a, "DROP TABLE t"));
    assert_true(th_ok(a, "CREATE TABLE t (k bigint PRIMARY KEY)"));
    assert_true(th_ok(a, "INSERT INTO t VALUES (1), (2)"));
    assert_int_equal(th_scalar(b, "SELECT count(*) FROM t"), 2);
    assert_int_equal(th_scalar(b, "SELECT k FROM t WHERE k = 2"), 2);

    /* Autocommit writes planned against a table replaced behind B's back
     * are refused by the nodes (nothing written), planned again against
     * the new table and run: as in PostgreSQL, they write it. */
    assert_true(th_ok(a, "DROP TABLE t"));
    assert_true(th_ok(a, "CREATE TABLE t (k bigint PRIMARY KEY, e int)"));
    assert_string_equal(state_of(b, "INSERT INTO t VALUES (3), (4), (5)"), "");
    assert_true(th_ok(b, "INSERT INTO t VALUES (6, 60)"));
    assert_int_equal(th_scalar(a, "SELECT count(*) FROM t"), 4);
    assert_int_equal(th_scalar(a, "SELECT count(*) FROM t WHERE e IS NULL"), 3);
    assert_true(th_ok(a, "DROP TABLE t"));
    assert_true(th_ok(a, "CREATE TABLE t (k bigint PRIMARY KEY, e int)"));
    assert_true(th_ok(a, "INSERT INTO t VALUES (3, 1)"));
    assert_string_equal(state_of(b, "UPDATE t SET e = 9 WHERE k = 3"), "");
    /* Inside a transaction block the statement is not run again: 42P01,
     * nothing written. */
    assert_true(th_ok(a, "DROP TABLE t"));
    assert_true(th_ok(a, "CREATE TABLE t (k bigint PRIMARY KEY, e int)"));
    assert_true(th_ok(a, "INSERT INTO t VALUES (3, 1)"));
    assert_true(th_ok(b, "BEGIN"));
    assert_string_equal(state_of(b, "UPDATE t SET e = 9 WHERE k = 3"), "42P01");
    assert_true(th_ok(b, "ROLLBACK"));
    assert_true(th_ok(b, "UPDATE t SET e = 9 WHERE k = 3"));
    assert_int_equal(th_scalar(a, "SELECT e FROM t WHERE k = 3"), 9);
    assert_int_equal(th_scalar(a, "SELECT count(*) FROM t"), 1);

    PQfinish(a);
    PQfinish(b);
    assert_int_equal(th_cluster_stop(&c), 0);
}

/* ---- router kill -9 mid-workload */

#define N_KEYS 100000
static unsigned char acked[N_KEYS];
static _Atomic long n_acked;
static _Atomic bool stop_writer;

static void *
writer_main(void *arg)
{
    struct th_cluster *c = arg;
    PGconn *conn = th_connect(c);
    char sql[128];
    for (long k = 0; k < N_KEYS && !atomic_load(&stop_writer); k++) {
        snprintf(sql, sizeof(sql), "INSERT INTO w VALUES (%ld, %ld)", k, k);
        PGresult *res = PQexec(conn, sql);
        bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
        if (ok) {
            acked[k] = 1;
            atomic_fetch_add(&n_acked, 1);
            continue;
        }
        /* The router is gone: reconnect until it is back (30 s). */
        double deadline = th_now() + 30;
        while (PQstatus(conn) != CONNECTION_OK && th_now() < deadline) {
            PQreset(conn);
            if (PQstatus(conn) != CONNECTION_OK)
                usleep(50 * 1000); /* the router restarts: nothing to wait on */
        }
    }
    PQfinish(conn);
    return NULL;
}

static void
wait_acked(long n)
{
    double deadline = th_now() + 60;
    while (atomic_load(&n_acked) < n && th_now() < deadline)
        usleep(10 * 1000);
    assert_true(atomic_load(&n_acked) >= n);
}

/* A client inserting through router A keeps going after A is killed with
 * -9 and restarted (it reloads the catalog from the meta group), and
 * every acknowledged row is present afterwards. */
static void
test_router_kill_restart_loses_nothing(void **state)
{
    struct th_cluster c;
    pthread_t t;
    (void)state;
    assert_int_equal(th_cluster_start(&c, NULL), 0);
    PGconn *setup = th_connect(&c);
    assert_true(th_ok(setup, "CREATE TABLE w (id bigint PRIMARY KEY, v int)"));
    PQfinish(setup);
    memset(acked, 0, sizeof(acked));
    atomic_store(&n_acked, 0);
    atomic_store(&stop_writer, false);
    pthread_create(&t, NULL, writer_main, &c);
    wait_acked(50);
    th_router_signal(&c, SIGKILL);
    assert_int_equal(th_router_start(&c), 0);
    assert_int_equal(th_wait_ready(&c, 30), 0);
    long before = atomic_load(&n_acked);
    wait_acked(before + 50);
    atomic_store(&stop_writer, true);
    pthread_join(t, NULL);

    PGconn *conn = th_connect(&c);
    PGresult *res = th_exec(conn, "SELECT id FROM w");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    static unsigned char seen[N_KEYS];
    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < PQntuples(res); i++) {
        long k = atol(PQgetvalue(res, i, 0));
        if (k >= 0 && k < N_KEYS)
            seen[k] = 1;
    }
    PQclear(res);
    long missing = 0;
    for (long k = 0; k < N_KEYS; k++)
        missing += acked[k] && !seen[k];
    assert_int_equal(missing, 0);
    PQfinish(conn);
    assert_int_equal(th_cluster_stop(&c), 0);
}

/* ---- meta leader killed during DDL */

#define N_CREATES 30

struct ddl_stream {
    PGconn *conn;
    char outcome[N_CREATES][8];
    _Atomic int n_done;
};

static void *
ddl_main(void *arg)
{
    struct ddl_stream *d = arg;
    char sql[128];
    for (int i = 0; i < N_CREATES; i++) {
        snprintf(sql, sizeof(sql), "CREATE TABLE m%d (id bigint PRIMARY KEY)",
                 i);
        if (PQstatus(d->conn) != CONNECTION_OK)
            PQreset(d->conn);
        snprintf(d->outcome[i], sizeof(d->outcome[i]), "%s",
                 state_of(d->conn, sql));
        atomic_fetch_add(&d->n_done, 1);
    }
    return NULL;
}

/* A stream of CREATE TABLE statements while the meta group's leader is
 * killed with -9 mid-stream (RF=3): each either succeeded (the table
 * exists and is usable) or failed with 40001/08007/08006; afterwards every
 * name is either a working table or absent (42P01), never half there. */
static void
test_meta_leader_killed_during_ddl(void **state)
{
    struct th_cluster c;
    struct th_options o = {.n_nodes = 3, .n_shards = 3, .n_replicas = 3};
    static struct ddl_stream d;
    char(*outcome)[8] = d.outcome;
    char sql[128];
    pthread_t t;
    (void)state;
    assert_int_equal(th_cluster_start(&c, &o), 0);
    PGconn *conn = th_connect(&c);
    d.conn = th_connect(&c);
    atomic_store(&d.n_done, 0);
    uint32_t killed = th_wait_leader(&c, TL_META_GROUP, 0, 10);
    assert_int_not_equal(killed, 0);
    pthread_create(&t, NULL, ddl_main, &d);
    double deadline = th_now() + 60;
    while (atomic_load(&d.n_done) < 5 && th_now() < deadline)
        usleep(1000);
    th_node_signal(&c, killed, SIGKILL);
    pthread_join(t, NULL);
    PQfinish(d.conn);
    for (int i = 0; i < N_CREATES; i++) {
        const char *s = outcome[i];
        if (s[0] != '\0' && strcmp(s, "40001") != 0 &&
            strcmp(s, "08007") != 0 && strcmp(s, "08006") != 0)
            fail_msg("CREATE TABLE m%d failed with %s", i, s);
    }
    assert_int_equal(th_node_start(&c, killed), 0);
    assert_int_equal(th_wait_ready(&c, 60), 0);
    int n_ok = 0;
    for (int i = 0; i < N_CREATES; i++) {
        snprintf(sql, sizeof(sql), "INSERT INTO m%d VALUES (%d)", i, i);
        const char *s = state_of(conn, sql);
        if (outcome[i][0] == '\0' ||
            strcmp(outcome[i], TL_SQLSTATE_TRANSACTION_RESOLUTION_UNKNOWN) ==
                0) {
            /* Done, or maybe done: a working table or none at all. */
            if (outcome[i][0] == '\0' || s[0] != '\0')
                assert_string_equal(s, outcome[i][0] == '\0' ? "" : "42P01");
        } else {
            /* 40001/08006: nothing was applied. */
            assert_string_equal(s, "42P01");
        }
        if (s[0] == '\0') {
            snprintf(sql, sizeof(sql), "SELECT count(*) FROM m%d", i);
            assert_int_equal(th_scalar(conn, sql), 1);
            n_ok++;
        }
    }
    printf("meta leader %u killed: %d of %d tables usable; outcomes:", killed,
           n_ok, N_CREATES);
    for (int i = 0; i < N_CREATES; i++)
        printf(" %s", outcome[i][0] ? outcome[i] : "ok");
    printf("\n");
    assert_true(n_ok > 0);
    PQfinish(conn);
    assert_int_equal(th_cluster_stop(&c), 0);
}

/* ---- concurrent CREATE of one name */

struct creator {
    PGconn *conn;
    const char *sql;
    pthread_barrier_t *go;
    char state[8];
};

static void *
creator_main(void *arg)
{
    struct creator *cr = arg;
    pthread_barrier_wait(cr->go);
    snprintf(cr->state, sizeof(cr->state), "%s", state_of(cr->conn, cr->sql));
    return NULL;
}

/* CREATE TABLE of one name from two routers at once: exactly one
 * succeeds, the other gets 42P07, over several rounds. */
static void
test_concurrent_create_one_name(void **state)
{
    struct th_cluster c;
    (void)state;
    assert_int_equal(th_cluster_start(&c, NULL), 0);
    assert_int_equal(th_router2_start(&c), 0);
    PGconn *a = th_connect(&c), *b = th_connect2(&c);
    for (int round = 0; round < 8; round++) {
        char sql[128];
        pthread_barrier_t go;
        pthread_t ta, tb;
        snprintf(sql, sizeof(sql), "CREATE TABLE c%d (id bigint PRIMARY KEY)",
                 round);
        pthread_barrier_init(&go, NULL, 2);
        struct creator ca = {a, sql, &go, ""}, cb = {b, sql, &go, ""};
        pthread_create(&ta, NULL, creator_main, &ca);
        pthread_create(&tb, NULL, creator_main, &cb);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        pthread_barrier_destroy(&go);
        bool a_ok = ca.state[0] == '\0', b_ok = cb.state[0] == '\0';
        assert_true(a_ok != b_ok);
        assert_string_equal(a_ok ? cb.state : ca.state, "42P07");
    }
    PQfinish(a);
    PQfinish(b);
    assert_int_equal(th_cluster_stop(&c), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_routers_see_each_others_ddl),
        cmocka_unit_test(test_concurrent_create_one_name),
        cmocka_unit_test(test_router_kill_restart_loses_nothing),
        cmocka_unit_test(test_meta_leader_killed_during_ddl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
