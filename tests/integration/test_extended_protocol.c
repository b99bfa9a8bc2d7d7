/* The extended query protocol through libpq (PQprepare, PQdescribePrepared,
 * PQexecPrepared, PQexecParams): parameters in text and binary formats,
 * their types inferred from their use, binary results, and PostgreSQL's
 * errors for what a client gets wrong. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
    return th_ok(conn, "CREATE TABLE kv (id int PRIMARY KEY, name text, "
                       "v bigint) PARTITION BY HASH (id)") &&
                   th_ok(conn, "INSERT INTO kv VALUES (1, 'one', 10), "
                               "(2, 'two', 20), (3, 'three', NULL)")
               ? 0
               : -1;
}

static int
teardown(void **state)
{
    PQfinish(conn);
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

static const char *
sqlstate_of(const PGresult *res)
{
    const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    return s != NULL ? s : "";
}

/* Describe of a statement Parsed without types reports the types its $n
 * take from their use (int4 for `id = $1`, text for `name = $2`), and
 * its result columns. */
static void
test_parameter_types_are_inferred(void **state)
{
    PGresult *res = PQprepare(
        conn, "q1", "SELECT id, v FROM kv WHERE id = $1 OR name = $2", 0, NULL);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    res = PQdescribePrepared(conn, "q1");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    assert_int_equal(PQnparams(res), 2);
    assert_int_equal(PQparamtype(res, 0), 23);
    assert_int_equal(PQparamtype(res, 1), 25);
    assert_int_equal(PQnfields(res), 2);
    assert_string_equal(PQfname(res, 1), "v");
    assert_int_equal(PQftype(res, 1), 20);
    PQclear(res);
}

/* The same prepared statement runs with text and with binary parameters
 * and gives text or binary results as asked. */
static void
test_text_and_binary_formats(void **state)
{
    PGresult *res =
        PQprepare(conn, "q2", "SELECT name, v FROM kv WHERE id = $1", 0, NULL);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);

    const char *text[] = {"2"};
    res = PQexecPrepared(conn, "q2", 1, text, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(res), 1);
    assert_string_equal(PQgetvalue(res, 0, 0), "two");
    assert_string_equal(PQgetvalue(res, 0, 1), "20");
    PQclear(res);

    uint32_t be = htonl(1);
    const char *bin[] = {(const char *)&be};
    int lens[] = {4}, fmts[] = {1};
    res = PQexecPrepared(conn, "q2", 1, bin, lens, fmts, 1);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(res), 1);
    assert_int_equal(PQfformat(res, 1), 1);
    assert_int_equal(PQgetlength(res, 0, 0), 3);
    assert_memory_equal(PQgetvalue(res, 0, 0), "one", 3);
    assert_int_equal(PQgetlength(res, 0, 1), 8);
    const unsigned char *p = (const unsigned char *)PQgetvalue(res, 0, 1);
    assert_int_equal(p[7], 10);
    assert_int_equal(p[0] | p[1] | p[2] | p[3] | p[4] | p[5] | p[6], 0);
    PQclear(res);
}

/* INSERT, UPDATE and DELETE take parameters (a NULL among them), and a
 * duplicate key leaves the connection usable. */
static void
test_writes_with_parameters(void **state)
{
    const char *ins = "INSERT INTO kv (id, name, v) VALUES ($1, $2, $3)";
    const char *a[] = {"10", "ten", NULL};
    PGresult *res = PQexecParams(conn, ins, 3, NULL, a, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    assert_string_equal(PQcmdStatus(res), "INSERT 0 1");
    PQclear(res);
    res = PQexecParams(conn, ins, 3, NULL, a, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
    assert_string_equal(sqlstate_of(res), "23505");
    PQclear(res);
    const char *u[] = {"100", "10"};
    res = PQexecParams(conn, "UPDATE kv SET v = $1 WHERE id = $2", 2, NULL, u,
                       NULL, NULL, 0);
    assert_string_equal(PQcmdStatus(res), "UPDATE 1");
    PQclear(res);
    assert_int_equal(th_scalar(conn, "SELECT v FROM kv WHERE id = 10"), 100);
    const char *d[] = {"10"};
    res = PQexecParams(conn, "DELETE FROM kv WHERE id = $1", 1, NULL, d, NULL,
                       NULL, 0);
    assert_string_equal(PQcmdStatus(res), "DELETE 1");
    PQclear(res);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM kv"), 3);
}

/* What a client gets wrong is answered as PostgreSQL answers it. */
static void
test_client_errors(void **state)
{
    /* A value that is not an integer for an int4 parameter: 22P02. */
    const char *bad[] = {"abc"};
    PGresult *res = PQexecParams(conn, "SELECT name FROM kv WHERE id = $1", 1,
                                 NULL, bad, NULL, NULL, 0);
    assert_string_equal(sqlstate_of(res), "22P02");
    assert_non_null(strstr(PQresultErrorMessage(res),
                           "invalid input syntax for type integer: \"abc\""));
    PQclear(res);
    /* A missing table fails at Parse: 42P01. */
    res = PQprepare(conn, "q3", "SELECT * FROM nope WHERE id = $1", 0, NULL);
    assert_string_equal(sqlstate_of(res), "42P01");
    PQclear(res);
    /* Too few parameters: 08P01. */
    res = PQexecParams(conn, "SELECT name FROM kv WHERE id = $1 AND v = $2", 1,
                       NULL, bad, NULL, NULL, 0);
    assert_string_equal(sqlstate_of(res), "08P01");
    PQclear(res);
    /* A statement that does not exist: 26000. */
    res = PQexecPrepared(conn, "nope", 0, NULL, NULL, NULL, 0);
    assert_string_equal(sqlstate_of(res), "26000");
    PQclear(res);
    /* A name taken: 42P05. */
    res = PQprepare(conn, "dup", "SELECT 1", 0, NULL);
    PQclear(res);
    res = PQprepare(conn, "dup", "SELECT 2", 0, NULL);
    assert_string_equal(sqlstate_of(res), "42P05");
    PQclear(res);
    /* Two statements in one Parse: 42601. */
    res = PQprepare(conn, "two", "SELECT 1; SELECT 2", 0, NULL);
    assert_string_equal(sqlstate_of(res), "42601");
    PQclear(res);
    /* The connection still works. */
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM kv"), 3);
}

/* A prepared statement whose table was dropped and created again runs on
 * the new table when its result keeps its types, and fails with 0A000
 * "cached plan must not change result type" when they changed. */
static void
test_prepared_after_ddl(void **state)
{
    assert_true(th_ok(conn, "CREATE TABLE shape (id int PRIMARY KEY, a int)"));
    assert_true(th_ok(conn, "INSERT INTO shape VALUES (1, 5)"));
    PGresult *res = PQprepare(conn, "sh", "SELECT * FROM shape", 0, NULL);
    PQclear(res);
    res = PQexecPrepared(conn, "sh", 0, NULL, NULL, NULL, 0);
    assert_string_equal(PQgetvalue(res, 0, 1), "5");
    PQclear(res);
    assert_true(th_ok(conn, "DROP TABLE shape"));
    assert_true(th_ok(conn, "CREATE TABLE shape (id int PRIMARY KEY, a int)"));
    assert_true(th_ok(conn, "INSERT INTO shape VALUES (2, 6)"));
    res = PQexecPrepared(conn, "sh", 0, NULL, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(res, 0, 1), "6");
    PQclear(res);
    assert_true(th_ok(conn, "DROP TABLE shape"));
    assert_true(th_ok(conn, "CREATE TABLE shape (id int PRIMARY KEY, a text)"));
    res = PQexecPrepared(conn, "sh", 0, NULL, NULL, NULL, 0);
    assert_string_equal(sqlstate_of(res), "0A000");
    assert_non_null(strstr(PQresultErrorMessage(res),
                           "cached plan must not change result type"));
    PQclear(res);
}

/* json and jsonb in the binary format, as asyncpg and JDBC use it: a json
 * parameter and result are the text, a jsonb one a version byte 1 and the
 * (normalised) text; a bad document is 22P02, a bad version refused. */
static void
test_json_binary(void **state)
{
    assert_true(th_ok(conn, "CREATE TABLE jdoc (id int PRIMARY KEY, j json, "
                            "b jsonb)"));
    PGresult *res =
        PQprepare(conn, "ji", "INSERT INTO jdoc VALUES ($1, $2, $3)", 0, NULL);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    uint32_t id = htonl(1);
    const char *vals[] = {(const char *)&id, "{\"b\": 1,  \"a\": 2}",
                          "\x01{\"b\": 1,  \"a\": [2]}"};
    int lens[] = {4, (int)strlen(vals[1]), (int)strlen(vals[2])};
    int fmts[] = {1, 1, 1};
    res = PQexecPrepared(conn, "ji", 3, vals, lens, fmts, 0);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);

    res = PQexecParams(conn, "SELECT j, b, b -> 'a' FROM jdoc WHERE id = 1", 0,
                       NULL, NULL, NULL, NULL, 1);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_int_equal(PQftype(res, 0), 114);
    assert_int_equal(PQftype(res, 1), 3802);
    assert_int_equal(PQgetlength(res, 0, 0), (int)strlen(vals[1]));
    assert_memory_equal(PQgetvalue(res, 0, 0), vals[1], strlen(vals[1]));
    const char *want = "\x01{\"a\": [2], \"b\": 1}";
    assert_int_equal(PQgetlength(res, 0, 1), (int)strlen(want));
    assert_memory_equal(PQgetvalue(res, 0, 1), want, strlen(want));
    assert_int_equal(PQgetlength(res, 0, 2), 4);
    assert_memory_equal(PQgetvalue(res, 0, 2), "\x01[2]", 4);
    PQclear(res);

    uint32_t id2 = htonl(2);
    const char *bad[] = {(const char *)&id2, "{x}", "\x01{}"};
    int blens[] = {4, 3, 3};
    res = PQexecPrepared(conn, "ji", 3, bad, blens, fmts, 0);
    assert_string_equal(sqlstate_of(res), "22P02");
    assert_non_null(strstr(PQresultErrorMessage(res),
                           "invalid input syntax for type json"));
    PQclear(res);
    const char *badver[] = {(const char *)&id2, "{}", "\x02{}"};
    int vlens[] = {4, 2, 3};
    res = PQexecPrepared(conn, "ji", 3, badver, vlens, fmts, 0);
    assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
    assert_non_null(strstr(PQresultErrorMessage(res),
                           "unsupported jsonb version number 2"));
    PQclear(res);
    assert_true(th_ok(conn, "DROP TABLE jdoc"));
}

/* An interval travels in binary as PostgreSQL's interval_send writes it
 * (int64 microseconds, int32 days, int32 months, big-endian) both ways: a
 * binary parameter is stored, and a binary result reads back the same
 * sixteen bytes; its column type is interval (OID 1186). */
static void
test_interval_binary(void **state)
{
    assert_true(th_ok(conn, "CREATE TABLE iv (id int PRIMARY KEY, d "
                            "interval)"));
    /* 1 year 2 mons 3 days 04:05:06.789 */
    unsigned char bin[16];
    uint64_t usec = ((4 * 60 + 5) * 60 + 6) * UINT64_C(1000000) + 789000;
    for (int i = 0; i < 8; i++)
        bin[i] = (unsigned char)(usec >> (56 - 8 * i));
    uint32_t day = htonl(3), mon = htonl(14);
    memcpy(bin + 8, &day, 4);
    memcpy(bin + 12, &mon, 4);
    const char *vals[] = {"1", (const char *)bin};
    int lens[] = {0, 16}, fmts[] = {0, 1};
    Oid types[] = {23, 1186};
    PGresult *res = PQexecParams(conn, "INSERT INTO iv VALUES ($1, $2)", 2,
                                 types, vals, lens, fmts, 0);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);

    res = PQexecParams(conn, "SELECT d FROM iv WHERE id = 1", 0, NULL, NULL,
                       NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_int_equal(PQftype(res, 0), 1186);
    assert_string_equal(PQgetvalue(res, 0, 0),
                        "1 year 2 mons 3 days 04:05:06.789");
    PQclear(res);

    res = PQexecParams(conn, "SELECT d, d - interval '3 days' FROM iv", 0, NULL,
                       NULL, NULL, NULL, 1);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_int_equal(PQgetlength(res, 0, 0), 16);
    assert_memory_equal(PQgetvalue(res, 0, 0), bin, 16);
    const unsigned char *p = (const unsigned char *)PQgetvalue(res, 0, 1);
    assert_int_equal(PQgetlength(res, 0, 1), 16);
    assert_memory_equal(p, bin, 8);
    assert_int_equal(p[8] | p[9] | p[10] | p[11], 0); /* 0 days */
    assert_memory_equal(p + 12, bin + 12, 4);
    PQclear(res);

    /* A binary interval must be sixteen bytes. */
    lens[1] = 12;
    res = PQexecParams(conn, "INSERT INTO iv VALUES ($1, $2)", 2, types, vals,
                       lens, fmts, 0);
    assert_string_equal(sqlstate_of(res), "22P03");
    PQclear(res);
}

/* The abalance of account @aid through prepared statement @name, or -1
 * when no row came back; the test fails on an error. */
static long long
exec_balance(const char *name, int aid)
{
    char v[16];
    snprintf(v, sizeof(v), "%d", aid);
    const char *vals[] = {v};
    PGresult *res = PQexecPrepared(conn, name, 1, vals, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("%s(%d): %s", name, aid, PQresultErrorMessage(res));
    long long b = PQntuples(res) == 1 ? atoll(PQgetvalue(res, 0, 0)) : -1;
    PQclear(res);
    return b;
}

/* How statement @name was planned: "plans generic_runs custom_runs" from
 * talus.prepared_statements. */
static void
assert_planned(const char *name, int plans, int generic, int custom)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT plans, generic_runs, custom_runs FROM "
             "talus.prepared_statements WHERE name = '%s'",
             name);
    PGresult *res = PQexec(conn, sql);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(res), 1);
    assert_int_equal(atoi(PQgetvalue(res, 0, 0)), plans);
    assert_int_equal(atoi(PQgetvalue(res, 0, 1)), generic);
    assert_int_equal(atoi(PQgetvalue(res, 0, 2)), custom);
    PQclear(res);
}

/* Scans the nodes have started, over every shard. */
static unsigned long long
scans_now(void)
{
    unsigned long long scans[6] = {0}, writes[6] = {0}, sum = 0;
    assert_int_equal(th_shard_counters(&cluster, scans, writes, NULL), 0);
    for (int s = 0; s < 6; s++)
        sum += scans[s];
    return sum;
}

/* A prepared point SELECT is planned once and re-bound per Execute: 30
 * runs with values on every shard (text and binary, and NULL) each give
 * the row of their value, from one generic plan, as
 * pg_prepared_statements and talus.prepared_statements show; each run is
 * routed by its value to the one shard that holds it, also when the
 * parameter was declared bigint for an integer key. */
static void
test_generic_plan_is_reused(void **state)
{
    assert_true(th_ok(conn, "CREATE TABLE acc (aid int PRIMARY KEY, "
                            "abalance int) PARTITION BY HASH (aid)"));
    assert_true(th_ok(conn, "INSERT INTO acc SELECT g, g * 10 FROM "
                            "generate_series(1, 40) g"));
    PGresult *res = PQprepare(
        conn, "pa", "SELECT abalance FROM acc WHERE aid = $1", 0, NULL);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    unsigned long long before = scans_now();
    for (int i = 1; i <= 28; i++)
        assert_int_equal(exec_balance("pa", i), i * 10);
    /* A scan of every shard per run would be 6 * 28. */
    assert_true(scans_now() - before <= 28 + 4);
    uint32_t be = htonl(33);
    const char *bin[] = {(const char *)&be};
    int lens[] = {4}, fmts[] = {1};
    res = PQexecPrepared(conn, "pa", 1, bin, lens, fmts, 0);
    assert_int_equal(PQntuples(res), 1);
    assert_string_equal(PQgetvalue(res, 0, 0), "330");
    PQclear(res);
    const char *null[] = {NULL};
    res = PQexecPrepared(conn, "pa", 1, null, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(res), 0);
    PQclear(res);
    assert_planned("pa", 1, 30, 0);
    res = PQexec(conn, "SELECT statement, parameter_types, from_sql, "
                       "generic_plans, custom_plans FROM "
                       "pg_prepared_statements WHERE name = 'pa'");
    assert_int_equal(PQntuples(res), 1);
    assert_string_equal(PQgetvalue(res, 0, 0),
                        "SELECT abalance FROM acc WHERE aid = $1");
    assert_string_equal(PQgetvalue(res, 0, 1), "{integer}");
    assert_string_equal(PQgetvalue(res, 0, 2), "f");
    assert_string_equal(PQgetvalue(res, 0, 3), "30");
    assert_string_equal(PQgetvalue(res, 0, 4), "0");
    PQclear(res);

    const Oid int8[] = {20};
    res = PQprepare(conn, "pa8", "SELECT abalance FROM acc WHERE aid = $1", 1,
                    int8);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    before = scans_now();
    for (int i = 11; i <= 20; i++)
        assert_int_equal(exec_balance("pa8", i), i * 10);
    assert_true(scans_now() - before <= 10 + 4);
    assert_planned("pa8", 1, 10, 0);
}

/* A catalog change between Executes has the plan made again before any
 * output: ADD COLUMN keeps a named target list working; DROP TABLE and
 * CREATE TABLE again make it read the new table; SELECT * whose columns
 * changed fails with 0A000 "cached plan must not change result type" on
 * every run, as PostgreSQL's does, through Execute and EXECUTE alike. */
static void
test_generic_plan_follows_ddl(void **state)
{
    PGresult *res =
        PQprepare(conn, "star", "SELECT * FROM acc WHERE aid = $1", 0, NULL);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    assert_true(th_ok(conn, "PREPARE sqlstar(int) AS "
                            "SELECT * FROM acc WHERE aid = $1"));
    assert_true(th_ok(conn, "EXECUTE sqlstar(2)"));
    assert_int_equal(exec_balance("star", 5), 5);
    assert_int_equal(exec_balance("pa", 5), 50);
    assert_planned("pa", 1, 31, 0);

    assert_true(th_ok(conn, "ALTER TABLE acc ADD COLUMN note text"));
    assert_int_equal(exec_balance("pa", 6), 60);
    assert_planned("pa", 2, 32, 0);
    for (int i = 0; i < 2; i++) {
        const char *v[] = {"6"};
        res = PQexecPrepared(conn, "star", 1, v, NULL, NULL, 0);
        assert_string_equal(sqlstate_of(res), "0A000");
        assert_non_null(strstr(PQresultErrorMessage(res),
                               "cached plan must not change result type"));
        PQclear(res);
        assert_string_equal(th_sqlstate(conn, "EXECUTE sqlstar(6)"), "0A000");
    }

    assert_true(th_ok(conn, "DROP TABLE acc"));
    assert_true(th_ok(conn, "CREATE TABLE acc (aid int PRIMARY KEY, "
                            "abalance int) PARTITION BY HASH (aid)"));
    assert_true(th_ok(conn, "INSERT INTO acc VALUES (6, 7), (8, 9)"));
    assert_int_equal(exec_balance("pa", 6), 7);
    assert_int_equal(exec_balance("pa", 8), 9);
    assert_int_equal(exec_balance("pa", 5), -1);
    assert_planned("pa", 3, 35, 0);
    assert_true(th_ok(conn, "DEALLOCATE sqlstar"));
}

/* A statement whose binding gives something its value once per run
 * (now(), a $n in LIMIT) has no generic plan: each run is planned for
 * itself, with its own values. */
static void
test_custom_plan_when_values_are_fixed(void **state)
{
    PGresult *res = PQprepare(
        conn, "lim", "SELECT aid FROM acc ORDER BY aid LIMIT $1", 0, NULL);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    for (int n = 1; n <= 2; n++) {
        char v[8];
        snprintf(v, sizeof(v), "%d", n);
        const char *vals[] = {v};
        res = PQexecPrepared(conn, "lim", 1, vals, NULL, NULL, 0);
        assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
        assert_int_equal(PQntuples(res), n);
        PQclear(res);
    }
    assert_planned("lim", 0, 0, 2);
    assert_true(th_ok(conn, "PREPARE nowq(int) AS SELECT now() > "
                            "'2000-01-01'::timestamptz, aid FROM acc "
                            "WHERE aid = $1"));
    assert_true(th_ok(conn, "EXECUTE nowq(6)"));
    assert_true(th_ok(conn, "EXECUTE nowq(8)"));
    assert_planned("nowq", 0, 0, 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parameter_types_are_inferred),
        cmocka_unit_test(test_text_and_binary_formats),
        cmocka_unit_test(test_writes_with_parameters),
        cmocka_unit_test(test_client_errors),
        cmocka_unit_test(test_prepared_after_ddl),
        cmocka_unit_test(test_json_binary),
        cmocka_unit_test(test_interval_binary),
        cmocka_unit_test(test_generic_plan_is_reused),
        cmocka_unit_test(test_generic_plan_follows_ddl),
        cmocka_unit_test(test_custom_plan_when_values_are_fixed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
