/* Bad input is answered, never crashed or hung on: SQL errors with their
 * SQLSTATE leave the connection usable, malformed protocol messages close
 * only the offending connection, and a stopped or frozen node turns into
 * an error within the request timeout. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static struct th_cluster cluster;
static PGconn *conn;

static int
setup(void **state)
{
    struct th_options o = {.request_timeout_ms = 1000};
    if (th_cluster_start(&cluster, &o) != 0)
        return -1;
    conn = th_connect(&cluster);
    if (!th_ok(conn, "CREATE TABLE t1 (id bigint PRIMARY KEY, v text) "
                     "PARTITION BY HASH (id)"))
        return -1;
    static char sql[1 << 20];
    size_t n = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO t1 VALUES ");
    for (int i = 0; i < 3000; i++)
        n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s(%d, '%0100d')",
                              i ? ", " : "", i, i);
    return th_ok(conn, sql) ? 0 : -1;
}

static int
teardown(void **state)
{
    PQfinish(conn);
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The router still answers a fresh connection. */
static void
assert_router_serves(void)
{
    PGconn *c = th_connect(&cluster);
    assert_int_equal(th_scalar(c, "SELECT 1"), 1);
    PQfinish(c);
}

/* Each SQL error carries PostgreSQL's SQLSTATE, and the same connection
 * keeps working after it. */
static void
test_sql_errors_keep_connection(void **state)
{
    static const struct {
        const char *sql;
        const char *sqlstate;
        const char *in_message; /* NULL: not checked */
    } cases[] = {
        {"SELEC 1", "42601", "syntax error"},
        {"SELECT * FROM nosuch", "42P01", "nosuch"},
        {"SELECT nosuchcol FROM t1", "42703", "nosuchcol"},
        {"INSERT INTO t1 VALUES ('abc', 'x')", "22P02", "abc"},
        {"SELECT * FROM t1 WHERE id = 'abc'", "22P02", "abc"},
        {"INSERT INTO t1 (id, nope) VALUES (1, 2)", "42703", "nope"},
        {"INSERT INTO t1 VALUES (1, 'a', 3)", "42601", NULL},
        {"CREATE TABLE t1 (id bigint PRIMARY KEY)", "42P07", "t1"},
        {"CREATE TABLE bad (id money PRIMARY KEY)", "0A000", "money"},
        {"CREATE INDEX i1 ON t1 ((v || id))", "0A000", "expressions"},
        {"SELECT * FROM t1, LATERAL (SELECT 1) x", "0A000", "LATERAL"},
        {"SELECT * FROM t1 WHERE id = true", "42883", NULL},
        {"SELECT 1/0", "22012", "division by zero"},
        {"SELECT 2147483647::integer + 1", "22003", "out of range"},
        {"DROP TABLE nosuch", "42P01", "nosuch"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        PGresult *res = PQexec(conn, cases[i].sql);
        const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        if (st == NULL || strcmp(st, cases[i].sqlstate) != 0)
            fail_msg("%s: want %s, got %s (%s)", cases[i].sql,
                     cases[i].sqlstate, st ? st : "success", msg ? msg : "");
        if (cases[i].in_message != NULL &&
            strcasestr(msg, cases[i].in_message) == NULL)
            fail_msg("%s: message \"%s\" does not mention %s", cases[i].sql,
                     msg, cases[i].in_message);
        PQclear(res);
        assert_int_equal(th_scalar(conn, "SELECT 1"), 1);
    }
    /* A syntax error reports where it is. */
    PGresult *res = PQexec(conn, "SELECT id FROM t1 WHERE id = = 1");
    const char *pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
    assert_non_null(pos);
    assert_int_equal(atoi(pos), 30);
    PQclear(res);
    /* An empty query is answered, not an error. */
    res = PQexec(conn, "");
    assert_int_equal(PQresultStatus(res), PGRES_EMPTY_QUERY);
    PQclear(res);
}

static int
raw_connect(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons(th_router_port(&cluster))};
    struct timeval tv = {.tv_sec = 20};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void
send_all(int fd, const void *p, size_t n)
{
    assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Send a valid startup packet and read up to the first ReadyForQuery. */
static void
raw_startup(int fd)
{
    static const char params[] = "user\0test\0database\0test\0";
    uint8_t pkt[64];
    size_t n = 8 + sizeof(params);
    put32(pkt, (uint32_t)n);
    put32(pkt + 4, 196608);
    memcpy(pkt + 8, params, sizeof(params));
    send_all(fd, pkt, n);
    char last = 0;
    for (;;) {
        uint8_t hdr[5];
        assert_int_equal(recv(fd, hdr, 5, MSG_WAITALL), 5);
        uint32_t len = ((uint32_t)hdr[1] << 24) | ((uint32_t)hdr[2] << 16) |
                       ((uint32_t)hdr[3] << 8) | hdr[4];
        assert_true(len >= 4 && len < 65536);
        char body[65536];
        if (len > 4)
            assert_int_equal(recv(fd, body, len - 4, MSG_WAITALL),
                             (ssize_t)(len - 4));
        last = (char)hdr[0];
        if (last == 'Z')
            break;
    }
}

/* Read until the router closes the connection; returns whether an
 * ErrorResponse came first. Fails if the router neither answers nor
 * closes within the socket timeout. */
static int
read_until_closed(int fd)
{
    uint8_t buf[4096];
    int saw_error = 0, first = 1;
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            break;
        if (n < 0)
            fail_msg("router neither answered nor closed: %s", strerror(errno));
        if (first && buf[0] == 'E')
            saw_error = 1;
        first = 0;
    }
    close(fd);
    return saw_error;
}

/* Malformed protocol messages close that connection with an error, and
 * the router keeps serving everyone else. */
static void
test_malformed_protocol(void **state)
{
    uint8_t m[64];
    int fd;

    /* An absurd startup length. */
    fd = raw_connect();
    put32(m, 0x7fffffff);
    put32(m + 4, 196608);
    send_all(fd, m, 8);
    read_until_closed(fd);
    assert_router_serves();

    /* A startup packet cut short by the client hanging up. */
    fd = raw_connect();
    put32(m, 100);
    put32(m + 4, 196608);
    send_all(fd, m, 8);
    close(fd);
    assert_router_serves();

    /* An unsupported protocol version. */
    fd = raw_connect();
    put32(m, 8);
    put32(m + 4, 0x00020000);
    send_all(fd, m, 8);
    assert_true(read_until_closed(fd));
    assert_router_serves();

    /* An oversized message after startup. */
    fd = raw_connect();
    raw_startup(fd);
    m[0] = 'Q';
    put32(m + 1, 0xfffffff0u);
    send_all(fd, m, 5);
    assert_true(read_until_closed(fd));
    assert_router_serves();

    /* An unknown message type. */
    fd = raw_connect();
    raw_startup(fd);
    m[0] = '!';
    put32(m + 1, 4);
    send_all(fd, m, 5);
    assert_true(read_until_closed(fd));
    assert_router_serves();

    /* A Query whose text is not NUL-terminated. */
    fd = raw_connect();
    raw_startup(fd);
    m[0] = 'Q';
    put32(m + 1, 7);
    memcpy(m + 5, "abc", 3);
    send_all(fd, m, 8);
    assert_true(read_until_closed(fd));
    assert_router_serves();

    /* A length below the minimum. */
    fd = raw_connect();
    raw_startup(fd);
    m[0] = 'Q';
    put32(m + 1, 2);
    send_all(fd, m, 5);
    assert_true(read_until_closed(fd));
    assert_router_serves();

    /* Random bytes. */
    srand(7);
    for (int round = 0; round < 20; round++) {
        uint8_t junk[512];
        for (size_t i = 0; i < sizeof(junk); i++)
            junk[i] = (uint8_t)rand();
        fd = raw_connect();
        if (round % 2)
            raw_startup(fd);
        send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
        shutdown(fd, SHUT_WR);
        read_until_closed(fd);
    }
    assert_router_serves();
}

/* A client that disconnects in the middle of a large result does not
 * disturb the router. */
static void
test_client_disconnect_mid_query(void **state)
{
    static const char q[] = "SELECT * FROM t1 ORDER BY id";
    for (int round = 0; round < 5; round++) {
        int fd = raw_connect();
        uint8_t m[64];
        raw_startup(fd);
        m[0] = 'Q';
        put32(m + 1, (uint32_t)(4 + sizeof(q)));
        memcpy(m + 5, q, sizeof(q));
        send_all(fd, m, 5 + sizeof(q));
        if (round % 2) {
            uint8_t buf[100];
            assert_true(recv(fd, buf, sizeof(buf), 0) > 0);
        }
        close(fd);
    }
    assert_router_serves();
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM t1"), 3000);
}

/* Query every shard and expect a class-08 error within a bound well above
 * the configured request timeout (1 s): never a hang. */
static void
assert_unavailable_error(void)
{
    double t0 = now_s();
    PGresult *res = PQexec(conn, "SELECT count(*) FROM t1");
    double took = now_s() - t0;
    const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    assert_non_null(st);
    assert_memory_equal(st, "08", 2);
    assert_true(took < 15.0);
    PQclear(res);
    assert_int_equal(th_scalar(conn, "SELECT 1"), 1);
}

/* A frozen node (SIGSTOP) and a stopped node both become an error within
 * the request timeout; shards on other nodes keep serving; the cluster
 * recovers when the node is back. */
static void
test_node_down_is_bounded(void **state)
{
    /* Find a key whose shard is on node 1, to query while node 2 is out. */
    th_node_signal(&cluster, 2, SIGSTOP);
    assert_unavailable_error();
    th_node_signal(&cluster, 2, SIGCONT);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM t1"), 3000);

    th_node_signal(&cluster, 2, SIGTERM);
    assert_unavailable_error();
    int served = 0;
    for (int k = 0; k < 50; k++) {
        char sql[96];
        snprintf(sql, sizeof(sql), "SELECT v FROM t1 WHERE id = %d", k);
        PGresult *res = PQexec(conn, sql);
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
            served++;
        PQclear(res);
    }
    /* About two thirds of the keys live on the two remaining nodes. */
    assert_true(served >= 20 && served < 50);
    assert_int_equal(th_node_start(&cluster, 2), 0);
    assert_int_equal(th_wait_ready(&cluster, 60), 0);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM t1"), 3000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sql_errors_keep_connection),
        cmocka_unit_test(test_malformed_protocol),
        cmocka_unit_test(test_client_disconnect_mid_query),
        cmocka_unit_test(test_node_down_is_bounded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
