/* COPY in PostgreSQL's binary format through libpq: COPY TO STDOUT sends
 * the bytes PostgreSQL 15 sends for every type, what it sends comes back
 * in through COPY FROM STDIN cut anywhere, and a bad tuple anywhere fails
 * the whole COPY with PostgreSQL's error and CONTEXT and leaves nothing
 * behind. */
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
    (void)state;
    if (th_cluster_start(&cluster, NULL) != 0)
        return -1;
    conn = th_connect(&cluster);
    return conn != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    PQfinish(conn);
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

static const char *
field(const PGresult *res, int code)
{
    const char *s = PQresultErrorField(res, code);
    return s != NULL ? s : "";
}

/* A growing byte string. */
struct bytes {
    unsigned char *p;
    size_t len, cap;
};

static void
put(struct bytes *b, const void *p, size_t n)
{
    while (b->len + n + 1 > b->cap) {
        b->cap = b->cap ? 2 * b->cap : 4096;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void
put16(struct bytes *b, int v)
{
    unsigned char x[2] = {(unsigned char)((unsigned)v >> 8), (unsigned char)v};
    put(b, x, 2);
}

static void
put32(struct bytes *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    put(b, x, 4);
}

static void
put_hex(struct bytes *b, const char *hex)
{
    for (size_t i = 0; hex[i] != '\0'; i += 2) {
        unsigned x;
        assert_int_equal(sscanf(hex + i, "%2x", &x), 1);
        unsigned char c = (unsigned char)x;
        put(b, &c, 1);
    }
}

#define HEADER_HEX                                                             \
    "5047434f50590aff0d0a00"                                                   \
    "00000000"                                                                 \
    "00000000"

/* Run COPY @sql FROM STDIN sending @data in pieces of @chunk bytes; the
 * final result (the caller PQclear()s it). */
static PGresult *
copy_in(const char *sql, const void *data, size_t len, size_t chunk)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COPY_IN)
        return res;
    assert_int_equal(PQbinaryTuples(res), 1);
    for (int i = 0; i < PQnfields(res); i++)
        assert_int_equal(PQfformat(res, i), 1);
    PQclear(res);
    for (size_t at = 0; at < len; at += chunk) {
        size_t n = len - at < chunk ? len - at : chunk;
        assert_int_equal(PQputCopyData(conn, (const char *)data + at, (int)n),
                         1);
    }
    assert_int_equal(PQputCopyEnd(conn, NULL), 1);
    res = PQgetResult(conn);
    PGresult *next;
    while ((next = PQgetResult(conn)) != NULL)
        PQclear(next);
    return res;
}

/* The CopyData messages of COPY @sql TO STDOUT (binary), as hex, each
 * followed by '\n', into @hex; their bytes appended to @all (may be
 * NULL). */
static void
copy_out(const char *sql, struct bytes *hex, struct bytes *all)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COPY_OUT)
        fail_msg("%s: %s", sql, PQresultErrorMessage(res));
    assert_int_equal(PQbinaryTuples(res), 1);
    for (int i = 0; i < PQnfields(res); i++)
        assert_int_equal(PQfformat(res, i), 1);
    PQclear(res);
    char *buf;
    int n;
    while ((n = PQgetCopyData(conn, &buf, 0)) > 0) {
        for (int i = 0; i < n; i++) {
            char x[3];
            snprintf(x, sizeof(x), "%02x", (unsigned char)buf[i]);
            put(hex, x, 2);
        }
        put(hex, "\n", 1);
        if (all != NULL)
            put(all, buf, (size_t)n);
        PQfreemem(buf);
    }
    put(hex, "", 1);
    res = PQgetResult(conn);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    assert_null(PQgetResult(conn));
}

#define ALL_TYPES                                                              \
    "(a int4 PRIMARY KEY, b text, c int2, d int8, e bool, f real, "            \
    "g float8, h date, i timestamp, j timestamptz, k varchar(3), l char(3))"

/* COPY TO STDOUT (FORMAT binary) sends, message for message, the bytes
 * PostgreSQL 15 sent for the same rows: the header with the first tuple,
 * a tuple per message, the trailer alone; with no rows, header and
 * trailer together. */
static void
test_out_as_postgres(void **state)
{
    (void)state;
    assert_true(th_ok(conn, "CREATE TABLE bt " ALL_TYPES));
    assert_true(th_ok(
        conn, "INSERT INTO bt VALUES (1, 'h\xc3\xa9llo', -2, 3, true, 1.5, "
              "-2.25, '2024-02-29', '2024-02-29 12:34:56.789', "
              "'2024-02-29 12:34:56.789+00', 'ab', 'x'), (2, NULL, NULL, "
              "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"));
    struct bytes hex = {0};
    copy_out("COPY (SELECT * FROM bt ORDER BY a) TO STDOUT (FORMAT binary)",
             &hex, NULL);
    assert_string_equal(
        (const char *)hex.p,
        "5047434f50590aff0d0a000000000000000000000c0000000400000001000000"
        "0668c3a96c6c6f00000002fffe00000008000000000000000300000001010000"
        "00043fc0000000000008c0020000000000000000000400002279000000080002"
        "b58341728608000000080002b5834172860800000002616200000003782020\n"
        "000c0000000400000002ffffffffffffffffffffffffffffffffffffffffffff"
        "ffffffffffffffffffffffffffffffffffffffffffff\n"
        "ffff\n");
    hex.len = 0;
    copy_out("COPY (SELECT a, b FROM bt WHERE false) TO STDOUT (FORMAT binary)",
             &hex, NULL);
    assert_string_equal((const char *)hex.p,
                        "5047434f50590aff0d0a000000000000000000ffff\n");
    free(hex.p);
}

/* uuid and bytea go out in binary as PostgreSQL 15 sends them (a uuid
 * its 16 bytes, a bytea its bytes), come back in through COPY FROM, and
 * are sent in binary results of the extended protocol the same way. */
static void
test_uuid_bytea(void **state)
{
    (void)state;
    assert_true(th_ok(conn, "CREATE TABLE bu (a int4 PRIMARY KEY, u uuid, "
                            "b bytea)"));
    assert_true(th_ok(conn, "INSERT INTO bu VALUES (1, "
                            "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
                            "'\\x00ff0a'), (2, NULL, '\\x'), (3, "
                            "'00000000-0000-0000-0000-000000000001', NULL)"));
    struct bytes hex = {0}, data = {0};
    copy_out("COPY (SELECT * FROM bu ORDER BY a) TO STDOUT (FORMAT binary)",
             &hex, &data);
    assert_string_equal(
        (const char *)hex.p,
        "5047434f50590aff0d0a0000000000000000000003000000040000000100000010"
        "a0eebc999c0b4ef8bb6d6bb9bd380a110000000300ff0a\n"
        "00030000000400000002ffffffff00000000\n"
        "000300000004000000030000001000000000000000000000000000000001"
        "ffffffff\n"
        "ffff\n");
    assert_true(th_ok(conn, "CREATE TABLE bu2 (a int4 PRIMARY KEY, u uuid, "
                            "b bytea)"));
    PGresult *res =
        copy_in("COPY bu2 FROM STDIN (FORMAT binary)", data.p, data.len, 5);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        fail_msg("COPY FROM: %s", PQresultErrorMessage(res));
    PQclear(res);
    res = PQexec(conn, "SELECT a, u, b FROM bu2 ORDER BY a");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(res), 3);
    assert_string_equal(PQgetvalue(res, 0, 1),
                        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    assert_string_equal(PQgetvalue(res, 0, 2), "\\x00ff0a");
    assert_true(PQgetisnull(res, 1, 1));
    assert_string_equal(PQgetvalue(res, 1, 2), "\\x");
    assert_true(PQgetisnull(res, 2, 2));
    PQclear(res);

    /* Binary parameters and results. */
    const char uuid_bin[16] = "\xa0\xee\xbc\x99\x9c\x0b\x4e\xf8\xbb\x6d\x6b"
                              "\xb9\xbd\x38\x0a\x11";
    const char *vals[1] = {uuid_bin};
    int lens[1] = {16}, fmts[1] = {1};
    Oid types[1] = {2950};
    res = PQexecParams(conn, "SELECT u, b FROM bu2 WHERE u = $1", 1, types,
                       vals, lens, fmts, 1);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("binary parameter: %s", PQresultErrorMessage(res));
    assert_int_equal(PQntuples(res), 1);
    assert_int_equal(PQftype(res, 0), 2950);
    assert_int_equal(PQftype(res, 1), 17);
    assert_int_equal(PQgetlength(res, 0, 0), 16);
    assert_memory_equal(PQgetvalue(res, 0, 0), uuid_bin, 16);
    assert_int_equal(PQgetlength(res, 0, 1), 3);
    assert_memory_equal(PQgetvalue(res, 0, 1), "\x00\xff\x0a", 3);
    PQclear(res);
    lens[0] = 15;
    res = PQexecParams(conn, "SELECT u FROM bu2 WHERE u = $1", 1, types, vals,
                       lens, fmts, 1);
    assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
    assert_string_equal(field(res, PG_DIAG_SQLSTATE), "22P03");
    PQclear(res);
    assert_true(th_ok(conn, "DROP TABLE bu"));
    assert_true(th_ok(conn, "DROP TABLE bu2"));
    free(hex.p);
    free(data.p);
}

/* json and jsonb go out in binary as PostgreSQL 15 sends them (json its
 * text, jsonb a version byte 1 and its normalised text) and come back in
 * through COPY FROM; a jsonb of another version is refused. */
static void
test_json(void **state)
{
    (void)state;
    assert_true(th_ok(conn, "CREATE TABLE bj (a int4 PRIMARY KEY, j json, "
                            "b jsonb)"));
    assert_true(th_ok(conn, "INSERT INTO bj VALUES (1, '[1, 2]', "
                            "'{\"b\":1,\"a\":2}'), (2, NULL, '\"x\"')"));
    struct bytes hex = {0}, data = {0};
    copy_out("COPY (SELECT * FROM bj ORDER BY a) TO STDOUT (FORMAT binary)",
             &hex, &data);
    assert_string_equal((const char *)hex.p,
                        "5047434f50590aff0d0a000000000000000000000300000004000"
                        "00001000000065b312c20325d00000011017b2261223a20322c20"
                        "2262223a20317d\n"
                        "00030000000400000002ffffffff0000000401227822\n"
                        "ffff\n");
    assert_true(th_ok(conn, "CREATE TABLE bj2 (a int4 PRIMARY KEY, j json, "
                            "b jsonb)"));
    PGresult *res =
        copy_in("COPY bj2 FROM STDIN (FORMAT binary)", data.p, data.len, 7);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        fail_msg("COPY FROM: %s", PQresultErrorMessage(res));
    PQclear(res);
    res = PQexec(conn, "SELECT j, b FROM bj2 ORDER BY a");
    assert_int_equal(PQntuples(res), 2);
    assert_string_equal(PQgetvalue(res, 0, 0), "[1, 2]");
    assert_string_equal(PQgetvalue(res, 0, 1), "{\"a\": 2, \"b\": 1}");
    assert_true(PQgetisnull(res, 1, 0));
    assert_string_equal(PQgetvalue(res, 1, 1), "\"x\"");
    PQclear(res);

    struct bytes bad = {0};
    put_hex(&bad, HEADER_HEX);
    put16(&bad, 3);
    put32(&bad, 4);
    put32(&bad, 9);
    put32(&bad, 2);
    put(&bad, "{}", 2);
    put32(&bad, 3);
    put(&bad, "\x02{}", 3);
    put16(&bad, -1);
    res = copy_in("COPY bj2 FROM STDIN (FORMAT binary)", bad.p, bad.len, 64);
    assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
    assert_non_null(strstr(PQresultErrorMessage(res),
                           "unsupported jsonb version number 2"));
    PQclear(res);
    assert_true(th_ok(conn, "DROP TABLE bj"));
    assert_true(th_ok(conn, "DROP TABLE bj2"));
    free(hex.p);
    free(data.p);
    free(bad.p);
}

/* What COPY TO sends in binary comes back in through COPY FROM, however
 * the CopyData messages cut it, and reads back the same. */
static void
test_round_trip(void **state)
{
    (void)state;
    struct bytes hex = {0}, data = {0}, again = {0};
    copy_out("COPY bt TO STDOUT (FORMAT binary)", &hex, &data);
    size_t chunks[] = {1, 7, 4096};
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        assert_true(th_ok(conn, "DROP TABLE IF EXISTS bt2"));
        assert_true(th_ok(conn, "CREATE TABLE bt2 " ALL_TYPES));
        PGresult *res = copy_in("COPY bt2 FROM STDIN (FORMAT binary)", data.p,
                                data.len, chunks[i]);
        assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
        assert_string_equal(PQcmdStatus(res), "COPY 2");
        PQclear(res);
        struct bytes h1 = {0}, h2 = {0};
        copy_out("COPY (SELECT * FROM bt ORDER BY a) TO STDOUT WITH BINARY",
                 &h1, NULL);
        copy_out("COPY (SELECT * FROM bt2 ORDER BY a) TO STDOUT WITH BINARY",
                 &h2, NULL);
        assert_string_equal((const char *)h1.p, (const char *)h2.p);
        free(h1.p);
        free(h2.p);
    }
    /* A column list takes the fields in its order; the others are NULL. */
    assert_true(th_ok(conn, "DROP TABLE bt2"));
    assert_true(th_ok(conn, "CREATE TABLE bt2 " ALL_TYPES));
    struct bytes in = {0};
    put_hex(&in, HEADER_HEX "0002"
                            "00000002"
                            "6869" /* b 'hi' */
                            "00000004"
                            "00000007" /* a 7 */
                            "ffff");
    PGresult *res =
        copy_in("COPY bt2 (b, a) FROM STDIN (FORMAT binary)", in.p, in.len, 3);
    assert_string_equal(PQcmdStatus(res), "COPY 1");
    PQclear(res);
    copy_out("COPY bt2 (a, b, c) TO STDOUT (FORMAT binary)", &again, NULL);
    assert_string_equal((const char *)again.p, HEADER_HEX "0003"
                                                          "00000004"
                                                          "00000007"
                                                          "00000002"
                                                          "6869"
                                                          "ffffffff\n"
                                                          "ffff\n");
    free(in.p);
    free(again.p);
    free(hex.p);
    free(data.p);
}

/* @n tuples (id, name, v) of int8, text, int8 from 1, the tuple @bad_line
 * (1-based; 0: none) with a 2-byte v. */
static void
tuples(struct bytes *b, long n, long bad_line)
{
    put_hex(b, HEADER_HEX);
    for (long i = 1; i <= n; i++) {
        char name[32];
        int len = snprintf(name, sizeof(name), "name%ld", i);
        put16(b, 3);
        put32(b, 8);
        put32(b, 0);
        put32(b, (uint32_t)i);
        put32(b, (uint32_t)len);
        put(b, name, (size_t)len);
        if (i == bad_line) {
            put32(b, 2);
            put16(b, 1);
            continue;
        }
        put32(b, 8);
        put32(b, 0);
        put32(b, (uint32_t)(i * 10));
    }
    put16(b, -1);
}

/* 80,000 tuples stream in over several batches; a bad value in tuple
 * 70,000 fails the COPY with PostgreSQL's error and CONTEXT, and none of
 * the rows written before it stays. */
static void
test_many_tuples_and_a_bad_one(void **state)
{
    (void)state;
    assert_true(th_ok(conn, "CREATE TABLE bl (id bigint PRIMARY KEY, "
                            "name text, v bigint) PARTITION BY HASH (id)"));
    struct bytes b = {0};
    tuples(&b, 80000, 0);
    PGresult *res = copy_in("COPY bl FROM STDIN BINARY", b.p, b.len, 65521);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    assert_string_equal(PQcmdStatus(res), "COPY 80000");
    PQclear(res);
    assert_int_equal(th_scalar(conn, "SELECT sum(v) FROM bl"),
                     10LL * 80000 * 80001 / 2);

    assert_true(th_ok(conn, "CREATE TABLE bb (id bigint PRIMARY KEY, "
                            "name text, v bigint)"));
    b.len = 0;
    tuples(&b, 80000, 70000);
    res = copy_in("COPY bb FROM STDIN (FORMAT binary)", b.p, b.len, 65536);
    assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
    assert_string_equal(field(res, PG_DIAG_SQLSTATE), "08P01");
    assert_string_equal(field(res, PG_DIAG_MESSAGE_PRIMARY),
                        "insufficient data left in message");
    assert_string_equal(field(res, PG_DIAG_CONTEXT),
                        "COPY bb, line 70000, column v");
    PQclear(res);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM bb"), 0);
    assert_int_equal(th_scalar(conn, "SELECT 7"), 7);
    free(b.p);
}

struct error_case {
    const char *hex; /* after the header unless it starts with "!" */
    const char *sqlstate, *message, *context;
};

/* As PostgreSQL 15 answered each, into CREATE TABLE be (a int4 NOT NULL,
 * b text, k varchar(3), h date, i timestamp). */
static const struct error_case error_cases[] = {
    {"!", "22P04", "COPY file signature not recognized", ""},
    {"!5047434f50590aff0d0a000001000000000000", "22P04",
     "invalid COPY file header (WITH OIDS)", ""},
    {"0002", "22P04", "row field count is 2, expected 5", "COPY be, line 1"},
    {"000500000004000000", "22P04", "unexpected EOF in COPY data",
     "COPY be, line 1, column a"},
    {"0005fffffffe", "22P04", "invalid field size",
     "COPY be, line 1, column a"},
    {"0005ffffffffffffffffffffffffffffffffffffffff", "23502",
     "null value in column \"a\" of relation \"be\" violates not-null "
     "constraint",
     "COPY be, line 1"},
    {"00050000000800000000000000010000000000ffffffffffffffff", "22P03",
     "incorrect binary data format", "COPY be, line 1, column a"},
    {"000500000004000000010000000000000004616263640000000000ffffffffffffffff",
     "22001", "value too long for type character varying(3)",
     "COPY be, line 1, column k"},
    {"00050000000400000001000000026180ffffffffffffffffffffffff", "22021",
     "invalid byte sequence for encoding \"UTF8\": 0x80",
     "COPY be, line 1, column b"},
    {"00050000000400000001ffffffffffffffff000000047fff0000ffffffff", "22008",
     "date out of range", "COPY be, line 1, column h"},
    {"00050000000400000001ffffffffffffffffffffffff000000087ffffffffffffffe",
     "22008", "timestamp out of range", "COPY be, line 1, column i"},
    {"0005000000040000000100000002616200000000ffffffffffffffffffffffff",
     "22P04", "received copy data after EOF marker", "COPY be, line 2"},
};

/* Each malformed input fails with PostgreSQL's SQLSTATE, message and
 * CONTEXT, whole or sent a byte per message, and leaves nothing. */
static void
test_errors_as_postgres(void **state)
{
    (void)state;
    assert_true(th_ok(conn, "CREATE TABLE be (a int4 NOT NULL, b text, "
                            "k varchar(3), h date, i timestamp)"));
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        const struct error_case *c = &error_cases[i];
        struct bytes b = {0};
        if (c->hex[0] == '!') {
            put_hex(&b, c->hex + 1);
        } else {
            put_hex(&b, HEADER_HEX);
            put_hex(&b, c->hex);
        }
        for (size_t chunk = 1; chunk <= 4096; chunk *= 4096) {
            PGresult *res = copy_in("COPY be FROM STDIN (FORMAT binary)", b.p,
                                    b.len, chunk);
            if (strcmp(field(res, PG_DIAG_MESSAGE_PRIMARY), c->message) != 0)
                fail_msg("%s: %s", c->hex, field(res, PG_DIAG_MESSAGE_PRIMARY));
            assert_string_equal(field(res, PG_DIAG_SQLSTATE), c->sqlstate);
            assert_string_equal(field(res, PG_DIAG_CONTEXT), c->context);
            PQclear(res);
        }
        free(b.p);
    }
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM be"), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_as_postgres),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_uuid_bytea),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_many_tuples_and_a_bad_one),
        cmocka_unit_test(test_errors_as_postgres),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
