/* The catalog relations across routers and through the extended protocol:
 * a table another router created shows in pg_class at once; the talus
 * schema shows tables, shards, leaders and nodes; catalog queries take
 * parameters and describe their columns; a catalog relation beside a user
 * table runs at the router; what it cannot run fails cleanly and the
 * connection stays usable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static struct th_cluster cluster;
static PGconn *conn, *conn2;

static int
setup(void **state)
{
    (void)state;
    struct th_options o = {.n_shards = 4};
    if (th_cluster_start(&cluster, &o) != 0)
        return -1;
    if (th_router2_start(&cluster) != 0)
        return -1;
    conn = th_connect(&cluster);
    conn2 = th_connect2(&cluster);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    PQfinish(conn);
    PQfinish(conn2);
    int rv = th_cluster_stop(&cluster);
    return rv == 0 && cluster.n_bad_exits == 0 ? 0 : -1;
}

/* A table created through the second router is in the first router's
 * pg_class and information_schema at once, and gone after DROP. */
static void
test_other_router_table(void **state)
{
    (void)state;
    assert_true(th_ok(conn2, "CREATE TABLE cat_other (id bigint PRIMARY KEY, "
                             "v text) PARTITION BY HASH (id)"));
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM pg_class WHERE "
                                     "relname = 'cat_other'"),
                     1);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM "
                                     "information_schema.columns WHERE "
                                     "table_name = 'cat_other'"),
                     2);
    assert_true(th_ok(conn2, "DROP TABLE cat_other"));
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM pg_class WHERE "
                                     "relname LIKE 'cat_other%'"),
                     0);
}

/* talus.tables, talus.shards and talus.nodes describe the placement. */
static void
test_talus_schema(void **state)
{
    (void)state;
    assert_true(th_ok(conn, "CREATE TABLE cat_h (id bigint PRIMARY KEY, v "
                            "text) PARTITION BY HASH (id)"));
    assert_true(th_ok(conn, "CREATE TABLE cat_u (id bigint PRIMARY KEY)"));
    PGresult *r = th_exec(conn, "SELECT table_name, distribution, "
                                "coalesce(vindex, '-'), "
                                "coalesce(shard_key, '-'), primary_key FROM "
                                "talus.tables WHERE table_name LIKE 'cat\\_%' "
                                "ORDER BY 1");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 2);
    assert_string_equal(PQgetvalue(r, 0, 0), "cat_h");
    assert_string_equal(PQgetvalue(r, 0, 1), "sharded");
    assert_string_equal(PQgetvalue(r, 0, 2), "hash");
    assert_string_equal(PQgetvalue(r, 0, 3), "id");
    assert_string_equal(PQgetvalue(r, 0, 4), "id");
    assert_string_equal(PQgetvalue(r, 1, 0), "cat_u");
    assert_string_equal(PQgetvalue(r, 1, 1), "unsharded");
    assert_string_equal(PQgetvalue(r, 1, 2), "-");
    PQclear(r);

    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM talus.shards"),
                     (long long)cluster.cfg.n_shards);
    assert_int_equal(th_scalar(conn,
                               "SELECT count(*) FROM talus.shards s JOIN "
                               "talus.nodes n ON n.node_id = s.leader WHERE "
                               "n.rpc_address = s.leader_address"),
                     (long long)cluster.cfg.n_shards);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM talus.nodes WHERE "
                                     "reachable"),
                     (long long)cluster.cfg.n_nodes);
    /* After a read of every shard the router knows each leader. */
    assert_true(th_ok(conn, "SELECT count(*) FROM cat_h"));
    for (uint32_t s = 0; s < cluster.cfg.n_shards; s++) {
        char sql[128];
        snprintf(sql, sizeof(sql),
                 "SELECT leader FROM talus.shards WHERE shard = %u", s);
        assert_int_equal(th_scalar(conn, sql),
                         (long long)th_shard_leader(&cluster, s));
    }
    assert_true(th_ok(conn, "DROP TABLE cat_h, cat_u"));
}

/* Parameters, Describe and binary results work over catalog relations,
 * as drivers' metadata calls use them. */
static void
test_extended_protocol(void **state)
{
    (void)state;
    assert_true(th_ok(conn, "CREATE TABLE cat_p (id int PRIMARY KEY, name "
                            "varchar(20) NOT NULL)"));
    PGresult *p = PQprepare(conn, "attrs",
                            "SELECT a.attname, a.attnum, a.attnotnull FROM "
                            "pg_attribute a JOIN pg_class c ON c.oid = "
                            "a.attrelid WHERE c.relname = $1 AND a.attnum > "
                            "0 ORDER BY a.attnum",
                            0, NULL);
    assert_int_equal(PQresultStatus(p), PGRES_COMMAND_OK);
    PQclear(p);
    PGresult *d = PQdescribePrepared(conn, "attrs");
    assert_int_equal(PQresultStatus(d), PGRES_COMMAND_OK);
    assert_int_equal(PQnparams(d), 1);
    assert_int_equal(PQparamtype(d, 0), 25); /* text, from relname */
    assert_int_equal(PQnfields(d), 3);
    assert_string_equal(PQfname(d, 1), "attnum");
    assert_int_equal(PQftype(d, 1), 21); /* smallint */
    assert_int_equal(PQftype(d, 2), 16);
    PQclear(d);
    const char *vals[1] = {"cat_p"};
    PGresult *r = PQexecPrepared(conn, "attrs", 1, vals, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 2);
    assert_string_equal(PQgetvalue(r, 0, 0), "id");
    assert_string_equal(PQgetvalue(r, 1, 0), "name");
    assert_string_equal(PQgetvalue(r, 1, 1), "2");
    assert_string_equal(PQgetvalue(r, 1, 2), "t");
    PQclear(r);
    assert_true(th_ok(conn, "DEALLOCATE attrs"));
    assert_true(th_ok(conn, "DROP TABLE cat_p"));
}

/* EXPLAIN of a router-side query shows its operators: the join, the
 * scans with the conditions moved into them, sort and limit. */
static void
test_explain(void **state)
{
    (void)state;
    PGresult *r = th_exec(conn, "EXPLAIN SELECT c.relname FROM pg_class c "
                                "LEFT JOIN pg_namespace n ON n.oid = "
                                "c.relnamespace WHERE c.relname LIKE 'pg%' "
                                "ORDER BY 1 LIMIT 3");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 6);
    assert_string_equal(PQgetvalue(r, 0, 0),
                        "Router Query (runs at the router, no shard)");
    assert_non_null(strstr(PQgetvalue(r, 1, 0), "Limit"));
    assert_non_null(strstr(PQgetvalue(r, 2, 0), "Sort (1 key)"));
    assert_non_null(strstr(PQgetvalue(r, 3, 0), "Hash Left Join"));
    assert_non_null(
        strstr(PQgetvalue(r, 4, 0), "Catalog Scan on pg_class (filtered)"));
    assert_non_null(
        strstr(PQgetvalue(r, 5, 0), "Catalog Scan on pg_namespace"));
    PQclear(r);
}

/* What the router cannot run yet fails cleanly and the session goes on. */
static void
test_refusals(void **state)
{
    (void)state;
    assert_true(th_ok(conn, "CREATE TABLE cat_r (id int PRIMARY KEY)"));
    /* A user table beside catalog relations is scanned on its shards. */
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM pg_class, cat_r"),
                     0);
    assert_string_equal(th_sqlstate(conn, "SELECT * FROM pg_class, nope"),
                        "42P01");
    assert_string_equal(
        th_sqlstate(conn, "SELECT relname FROM pg_class WHERE oid = (SELECT "
                          "oid FROM pg_class)"),
        "21000");
    assert_string_equal(th_sqlstate(conn, "SELECT count(*) FROM pg_class "
                                          "WHERE count(*) > 1"),
                        "42803");
    assert_string_equal(th_sqlstate(conn, "SELECT 'x' ~ '('"), "2201B");
    /* A query that would hold too many rows at the router stops with
     * 54000 instead of exhausting its memory; the session goes on. (A
     * count over the same join streams and holds nothing.) */
    assert_string_equal(
        th_sqlstate(conn, "SELECT a.attname FROM pg_attribute a, pg_attribute "
                          "b, pg_attribute c ORDER BY 1 LIMIT 1"),
        "54000");
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM pg_am"), 3);
    assert_true(th_ok(conn, "DROP TABLE cat_r"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_other_router_table),
        cmocka_unit_test(test_talus_schema),
        cmocka_unit_test(test_extended_protocol),
        cmocka_unit_test(test_explain),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
