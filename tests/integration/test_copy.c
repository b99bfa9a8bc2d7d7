/* COPY FROM STDIN and COPY TO STDOUT through libpq: rows stream to the
 * shards in batches, a bad row anywhere fails the whole COPY with
 * PostgreSQL's message and CONTEXT and leaves nothing behind, and COPY TO
 * gives back what was loaded, in text and CSV. */
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
    return conn != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
    PQfinish(conn);
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

/* Run COPY @sql FROM STDIN sending @data in pieces of @chunk bytes; the
 * final result (its status and error fields stay in *@res for the
 * caller, who PQclear()s it). */
static PGresult *
copy_in(const char *sql, const char *data, size_t len, size_t chunk)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COPY_IN)
        return res;
    PQclear(res);
    for (size_t at = 0; at < len; at += chunk) {
        size_t n = len - at < chunk ? len - at : chunk;
        assert_int_equal(PQputCopyData(conn, data + at, (int)n), 1);
    }
    assert_int_equal(PQputCopyEnd(conn, NULL), 1);
    res = PQgetResult(conn);
    PGresult *next;
    while ((next = PQgetResult(conn)) != NULL)
        PQclear(next);
    return res;
}

/* @n rows "i\tname<i>\t<i*10>\n" from @from, with the line @bad_line
 * (1-based; 0: none) holding "x" as its number. */
static char *
rows_text(long from, long n, long bad_line, size_t *len)
{
    size_t cap = (size_t)n * 48 + 1, off = 0;
    char *s = malloc(cap);
    for (long i = 0; i < n; i++) {
        long id = from + i;
        if (i + 1 == bad_line)
            off += (size_t)snprintf(s + off, cap - off, "%ld\tname%ld\tx\n", id,
                                    id);
        else
            off += (size_t)snprintf(s + off, cap - off, "%ld\tname%ld\t%ld\n",
                                    id, id, id * 10);
    }
    *len = off;
    return s;
}

static const char *
field(const PGresult *res, int code)
{
    const char *s = PQresultErrorField(res, code);
    return s != NULL ? s : "";
}

/* 50,000 rows sent in odd-sized pieces all arrive, over several batches,
 * and COPY reports how many. */
static void
test_copy_from_many_rows(void **state)
{
    assert_true(th_ok(conn, "CREATE TABLE ld (id bigint PRIMARY KEY, "
                            "name text, v bigint) PARTITION BY HASH (id)"));
    size_t len;
    char *data = rows_text(1, 50000, 0, &len);
    PGresult *res = copy_in("COPY ld FROM STDIN", data, len, 7919);
    free(data);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    assert_string_equal(PQcmdStatus(res), "COPY 50000");
    PQclear(res);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM ld"), 50000);
    assert_int_equal(th_scalar(conn, "SELECT sum(v) FROM ld"),
                     10LL * 50000 * 50001 / 2);
}

/* A bad value on line 70,000 fails the COPY with the type's error and
 * PostgreSQL's CONTEXT, and none of the rows written before it (two
 * batches of 32,768) stays. */
static void
test_bad_row_leaves_nothing(void **state)
{
    assert_true(th_ok(conn, "CREATE TABLE bad (id bigint PRIMARY KEY, "
                            "name text, v bigint)"));
    size_t len;
    char *data = rows_text(1, 80000, 70000, &len);
    PGresult *res = copy_in("COPY bad FROM STDIN", data, len, 65536);
    free(data);
    assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
    assert_string_equal(field(res, PG_DIAG_SQLSTATE), "22P02");
    assert_string_equal(field(res, PG_DIAG_MESSAGE_PRIMARY),
                        "invalid input syntax for type bigint: \"x\"");
    assert_string_equal(field(res, PG_DIAG_CONTEXT),
                        "COPY bad, line 70000, column v: \"x\"");
    PQclear(res);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM bad"), 0);
    /* The connection is in sync for the next statement. */
    assert_int_equal(th_scalar(conn, "SELECT 7"), 7);
}

/* A key already in the table fails with 23505 naming it and its line, and
 * the batches written before are taken back. */
static void
test_duplicate_key_leaves_nothing(void **state)
{
    assert_true(th_ok(conn, "CREATE TABLE dup (id bigint PRIMARY KEY, "
                            "name text, v bigint)"));
    assert_true(th_ok(conn, "INSERT INTO dup VALUES (70000, 'old', 1)"));
    size_t len;
    char *data = rows_text(1, 80000, 0, &len);
    PGresult *res = copy_in("COPY dup FROM STDIN", data, len, 65536);
    free(data);
    assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
    assert_string_equal(field(res, PG_DIAG_SQLSTATE), "23505");
    assert_string_equal(field(res, PG_DIAG_MESSAGE_DETAIL),
                        "Key (id)=(70000) already exists.");
    assert_string_equal(field(res, PG_DIAG_CONTEXT), "COPY dup, line 70000");
    PQclear(res);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM dup"), 1);
}

/* Rows with too few fields fail with 22P04 and the line's text. */
static void
test_missing_column(void **state)
{
    assert_true(th_ok(conn, "CREATE TABLE mc (id int PRIMARY KEY, a text)"));
    const char *data = "1\tx\n2\n";
    PGresult *res = copy_in("COPY mc FROM STDIN", data, strlen(data), 3);
    assert_string_equal(field(res, PG_DIAG_SQLSTATE), "22P04");
    assert_string_equal(field(res, PG_DIAG_MESSAGE_PRIMARY),
                        "missing data for column \"a\"");
    assert_string_equal(field(res, PG_DIAG_CONTEXT), "COPY mc, line 2: \"2\"");
    PQclear(res);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM mc"), 0);
}

/* Read all of COPY @sql TO STDOUT into a malloc'd string. */
static char *
copy_out(const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    assert_int_equal(PQresultStatus(res), PGRES_COPY_OUT);
    PQclear(res);
    size_t cap = 1024, len = 0;
    char *out = malloc(cap), *buf;
    int n;
    while ((n = PQgetCopyData(conn, &buf, 0)) > 0) {
        while (len + (size_t)n + 1 > cap)
            out = realloc(out, cap *= 2);
        memcpy(out + len, buf, (size_t)n);
        len += (size_t)n;
        PQfreemem(buf);
    }
    out[len] = '\0';
    res = PQgetResult(conn);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    assert_null(PQgetResult(conn));
    return out;
}

/* CSV with a header, quotes and NULLs goes in and comes back out as
 * PostgreSQL writes it. */
static void
test_csv_round_trip(void **state)
{
    assert_true(th_ok(conn, "CREATE TABLE csv (id int PRIMARY KEY, "
                            "a text, b int)"));
    const char *data = "id,a,b\n"
                       "1,\"x, y\",10\n"
                       "2,\"say \"\"hi\"\"\",\n"
                       "3,\"\",30\n";
    PGresult *res = copy_in("COPY csv FROM STDIN WITH (FORMAT csv, HEADER)",
                            data, strlen(data), 5);
    assert_string_equal(PQcmdStatus(res), "COPY 3");
    PQclear(res);
    char *out = copy_out("COPY (SELECT * FROM csv ORDER BY id) TO STDOUT "
                         "WITH (FORMAT csv, HEADER)");
    assert_string_equal(out, "id,a,b\n"
                             "1,\"x, y\",10\n"
                             "2,\"say \"\"hi\"\"\",\n"
                             "3,\"\",30\n");
    free(out);
    out = copy_out("COPY (SELECT b, a FROM csv WHERE id = 2) TO STDOUT");
    assert_string_equal(out, "\\N\tsay \"hi\"\n");
    free(out);
}

/* COPY from a file on the router's host is refused with 0A000 and a
 * hint; a COPY the client abandons (CopyFail) keeps nothing. */
static void
test_refusals(void **state)
{
    assert_string_equal(th_sqlstate(conn, "COPY csv FROM '/etc/passwd'"),
                        "0A000");
    assert_true(th_ok(conn, "CREATE TABLE cf (id int PRIMARY KEY)"));
    PGresult *res = PQexec(conn, "COPY cf FROM STDIN");
    assert_int_equal(PQresultStatus(res), PGRES_COPY_IN);
    PQclear(res);
    assert_int_equal(PQputCopyData(conn, "1\n2\n", 4), 1);
    assert_int_equal(PQputCopyEnd(conn, "client changed its mind"), 1);
    res = PQgetResult(conn);
    assert_string_equal(field(res, PG_DIAG_SQLSTATE), "57014");
    assert_string_equal(field(res, PG_DIAG_MESSAGE_PRIMARY),
                        "COPY from stdin failed: client changed its mind");
    PQclear(res);
    while ((res = PQgetResult(conn)) != NULL)
        PQclear(res);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM cf"), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_from_many_rows),
        cmocka_unit_test(test_bad_row_leaves_nothing),
        cmocka_unit_test(test_duplicate_key_leaves_nothing),
        cmocka_unit_test(test_missing_column),
        cmocka_unit_test(test_csv_round_trip),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
