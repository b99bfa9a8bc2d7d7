/* pgbench -i against a real cluster: PostgreSQL 15's pgbench creates its
 * tables without primary keys, loads them, then adds the keys with
 * ALTER TABLE ... ADD PRIMARY KEY, which rewrites each table under its
 * key.
 *
 * pgbench wraps its data generation (-I g, client-side, and -I G,
 * server-side) in BEGIN ... COMMIT. test_pgbench_init_steps runs the
 * other steps (d: drop, t: create, v: vacuum, p: primary keys) through
 * the real pgbench and the generation steps as the very statements
 * pgbench sends, outside a block; test_pgbench_init_full runs the whole
 * `pgbench -i -s 1`; test_pgbench_tpcb then runs pgbench's TPC-B-like
 * transactions from 8 clients in each query mode and checks that none
 * failed and that the balances add up. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define SCALE 1
#define N_BRANCHES (1 * SCALE)
#define N_TELLERS (10 * SCALE)
#define N_ACCOUNTS (100000 * SCALE)

static struct th_cluster cluster;

static int
setup(void **state)
{
    (void)state;
    return th_cluster_start(&cluster, NULL);
}

static int
teardown(void **state)
{
    (void)state;
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

/* Run `pgbench -i -s SCALE` with @steps (NULL: pgbench's default steps)
 * against the router; its exit status. */
static int
pgbench_init(const char *steps)
{
    char port[16], scale[16];
    snprintf(port, sizeof(port), "%u", th_router_port(&cluster));
    snprintf(scale, sizeof(scale), "%d", SCALE);
    char *argv[] = {"pgbench", "-h",          "127.0.0.1", "-p", port,
                    "-U",      "test",        "-i",        "-s", scale,
                    "-I",      (char *)steps, "test",      NULL};
    if (steps == NULL) {
        argv[10] = "test";
        argv[11] = NULL;
    }
    int rv = th_run(argv, NULL);
    if (rv == 127)
        fprintf(stderr, "pgbench: cannot run it (Debian's postgresql-15 "
                        "package has it); run scripts/install-deps\n");
    return rv;
}

/* pgbench's server-side generation (-I G) without BEGIN/COMMIT: the
 * tables emptied, then filled by INSERT ... SELECT generate_series. */
static void
generate_server_side(PGconn *conn)
{
    char sql[512];
    assert_true(th_ok(conn, "truncate table pgbench_accounts, "
                            "pgbench_branches, pgbench_history, "
                            "pgbench_tellers"));
    snprintf(sql, sizeof(sql),
             "insert into pgbench_branches(bid,bbalance) select bid, 0 from "
             "generate_series(1, %d) as bid",
             N_BRANCHES);
    assert_true(th_ok(conn, sql));
    snprintf(sql, sizeof(sql),
             "insert into pgbench_tellers(tid,bid,tbalance) select tid, "
             "(tid - 1) / %d + 1, 0 from generate_series(1, %d) as tid",
             N_TELLERS / N_BRANCHES, N_TELLERS);
    assert_true(th_ok(conn, sql));
    snprintf(sql, sizeof(sql),
             "insert into pgbench_accounts(aid,bid,abalance,filler) select "
             "aid, (aid - 1) / %d + 1, 0, '' from generate_series(1, %d) as "
             "aid",
             N_ACCOUNTS / N_BRANCHES, N_ACCOUNTS);
    assert_true(th_ok(conn, sql));
}

/* pgbench 15's client-side generation (-I g) without BEGIN/COMMIT: rows
 * of branches and tellers one INSERT each, accounts by COPY FREEZE. */
static void
generate_client_side(PGconn *conn)
{
    char sql[512];
    assert_true(th_ok(conn, "truncate table pgbench_accounts, "
                            "pgbench_branches, pgbench_history, "
                            "pgbench_tellers"));
    for (int i = 0; i < N_BRANCHES; i++) {
        snprintf(sql, sizeof(sql),
                 "insert into pgbench_branches(bid,bbalance) values(%d,0)",
                 i + 1);
        assert_true(th_ok(conn, sql));
    }
    for (int i = 0; i < N_TELLERS; i++) {
        snprintf(sql, sizeof(sql),
                 "insert into pgbench_tellers(tid,bid,tbalance) values "
                 "(%d,%d,0)",
                 i + 1, i / (N_TELLERS / N_BRANCHES) + 1);
        assert_true(th_ok(conn, sql));
    }
    PGresult *res =
        th_exec(conn, "copy pgbench_accounts from stdin with (freeze on)");
    assert_int_equal(PQresultStatus(res), PGRES_COPY_IN);
    PQclear(res);
    char line[128];
    for (int i = 0; i < N_ACCOUNTS; i++) {
        int n = snprintf(line, sizeof(line), "%d\t%d\t0\t\n", i + 1,
                         i / (N_ACCOUNTS / N_BRANCHES) + 1);
        assert_int_equal(PQputCopyData(conn, line, n), 1);
    }
    assert_int_equal(PQputCopyEnd(conn, NULL), 1);
    res = PQgetResult(conn);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    res = PQgetResult(conn);
    assert_null(res);
}

/* The four tables hold what pgbench -i -s SCALE makes, under primary keys
 * that refuse a duplicate and a NULL. */
static void
check_tables(PGconn *conn)
{
    assert_int_equal(th_scalar(conn, "select count(*) from pgbench_branches"),
                     N_BRANCHES);
    assert_int_equal(th_scalar(conn, "select count(*) from pgbench_tellers"),
                     N_TELLERS);
    assert_int_equal(th_scalar(conn, "select count(*) from pgbench_accounts"),
                     N_ACCOUNTS);
    assert_int_equal(th_scalar(conn, "select count(*) from pgbench_history"),
                     0);
    assert_int_equal(th_scalar(conn, "select sum(aid) from pgbench_accounts"),
                     (long long)N_ACCOUNTS * (N_ACCOUNTS + 1) / 2);
    assert_int_equal(
        th_scalar(conn, "select sum(abalance) + count(distinct bid) from "
                        "pgbench_accounts"),
        N_BRANCHES);
    /* A point read by the new key. */
    assert_int_equal(
        th_scalar(conn, "select bid from pgbench_accounts where aid = 77777"),
        1);
    assert_int_equal(
        th_scalar(conn, "select bid from pgbench_tellers where tid = 10"), 1);
    assert_string_equal(
        th_sqlstate(conn, "insert into pgbench_accounts values (1, 1, 0, '')"),
        "23505");
    assert_string_equal(th_sqlstate(conn, "insert into pgbench_branches "
                                          "(bid, bbalance) values (NULL, 0)"),
                        "23502");
    assert_string_equal(
        th_sqlstate(conn, "alter table pgbench_tellers add primary key (tid)"),
        "42P16");
    /* pgbench's own transaction touches each table by its key. */
    assert_true(th_ok(conn, "update pgbench_accounts set abalance = abalance "
                            "+ 5 where aid = 12345"));
    assert_int_equal(th_scalar(conn, "select abalance from pgbench_accounts "
                                     "where aid = 12345"),
                     5);
}

/* pgbench -i's steps that need no transaction block (dt, then vp) with
 * the server-side generation between them leave the tables pgbench makes;
 * a second pgbench -i drops and makes them again, this time loaded as the
 * client-side generation does (COPY). */
static void
test_pgbench_init_steps(void **state)
{
    (void)state;
    PGconn *conn = th_connect(&cluster);

    assert_int_equal(pgbench_init("dt"), 0);
    generate_server_side(conn);
    assert_int_equal(pgbench_init("vp"), 0);
    check_tables(conn);

    assert_int_equal(pgbench_init("dt"), 0);
    generate_client_side(conn);
    assert_int_equal(pgbench_init("vp"), 0);
    check_tables(conn);
    PQfinish(conn);
}

/* The whole `pgbench -i -s 1`, twice (the second drops and recreates):
 * its load runs in a transaction block. */
static void
test_pgbench_init_full(void **state)
{
    (void)state;
    PGconn *conn = th_connect(&cluster);
    assert_int_equal(pgbench_init(NULL), 0);
    check_tables(conn);
    assert_int_equal(pgbench_init(NULL), 0);
    check_tables(conn);
    PQfinish(conn);
}

/* The number after @label in file @path, or -1. */
static long long
number_after(const char *path, const char *label)
{
    char line[512];
    long long v = -1;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        const char *p = strstr(line, label);
        if (p != NULL) {
            v = strtoll(p + strlen(label), NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

/* pgbench's TPC-B-like script from 8 clients, in each query mode, after
 * a fresh `pgbench -i`: no transaction fails (a READ COMMITTED UPDATE
 * that waited for a row re-reads it, as in PostgreSQL), and afterwards
 * sum(abalance) = sum(tbalance) = sum(bbalance) = sum(delta) and
 * history holds one row per transaction pgbench reported. */
static void
test_pgbench_tpcb(void **state)
{
    (void)state;
    static const char *modes[] = {"simple", "extended", "prepared"};
    char port[16], out[PATH_MAX + 32];
    long long total = 0;
    PGconn *conn = th_connect(&cluster);

    assert_int_equal(pgbench_init(NULL), 0);
    snprintf(port, sizeof(port), "%u", th_router_port(&cluster));
    snprintf(out, sizeof(out), "%s/pgbench-run.out", cluster.dir);
    for (size_t m = 0; m < 3; m++) {
        /* -n: no vacuum, no truncate of history between the runs. */
        char *argv[] = {"pgbench", "-h", "127.0.0.1", "-p",
                        port,      "-U", "test",      "-n",
                        "-c",      "8",  "-j",        "2",
                        "-T",      "3",  "-M",        (char *)modes[m],
                        "test",    NULL};
        assert_int_equal(th_run(argv, out), 0);
        long long n = number_after(out, "actually processed: ");
        long long failed = number_after(out, "number of failed transactions: ");
        print_message("# pgbench -M %s: %lld transactions, %lld failed\n",
                      modes[m], n, failed);
        assert_true(n > 0);
        assert_int_equal(failed, 0);
        total += n;
    }
    long long a = th_scalar(conn, "SELECT sum(abalance) FROM pgbench_accounts");
    assert_int_equal(
        th_scalar(conn, "SELECT sum(tbalance) FROM pgbench_tellers"), a);
    assert_int_equal(
        th_scalar(conn, "SELECT sum(bbalance) FROM pgbench_branches"), a);
    assert_int_equal(th_scalar(conn, "SELECT sum(delta) FROM pgbench_history"),
                     a);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM pgbench_history"),
                     total);
    PQfinish(conn);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pgbench_init_steps),
        cmocka_unit_test(test_pgbench_init_full),
        cmocka_unit_test(test_pgbench_tpcb),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
