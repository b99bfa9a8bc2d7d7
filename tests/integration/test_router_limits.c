/* The router's memory and connections stay bounded, as in PostgreSQL:
 * silent TCP connections cannot lock real clients out (startup slots of
 * their own, a short startup timeout), a message sent in part is dropped
 * after its deadline, the superuser keeps reserved slots, and an ORDER BY
 * too big for the router's cap fails with 54000.
 *
 * The router runs with small limits so that the test stays small:
 * 6 connections (2 reserved for the superuser "talus"), 8 startup slots,
 * 1 s to finish startup, 500 ms per message, a 200,000-byte sort cap. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/base/sqlstate.h"
#include "harness.h"

static struct th_cluster cluster;

static int
setup(void **state)
{
    struct th_options o = {
        .n_nodes = 1,
        .n_shards = 2,
        .router_args = "--max-connections 6 "
                       "--superuser-reserved-connections 2 "
                       "--max-startup 8 --startup-timeout-ms 1000 "
                       "--message-timeout-ms 500 --sort-max-bytes 200000"};
    (void)state;
    return th_cluster_start(&cluster, &o);
}

static int
teardown(void **state)
{
    (void)state;
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

static int
tcp_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(th_router_port(&cluster))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* Whether the router closes @fd within @timeout_s (reading and dropping
 * whatever it sends first). */
static bool
closed_within(int fd, double timeout_s)
{
    double until = th_now() + timeout_s;
    for (;;) {
        int left = (int)((until - th_now()) * 1000);
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        char buf[4096];
        if (left <= 0 || poll(&pf, 1, left) <= 0)
            return false;
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
    }
}

/* Whether some line of the router's log contains @what. */
static bool
router_logged(const char *what)
{
    char path[PATH_MAX + 32], line[2048];
    bool found = false;
    snprintf(path, sizeof(path), "%s/router.log", cluster.dir);
    FILE *f = fopen(path, "r");
    while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL)
        found = strstr(line, what) != NULL;
    if (f != NULL)
        fclose(f);
    return found;
}

/* A connection as @user; NULL with *@sqlstate and *@message of the
 * refusal (static) when it fails. */
static PGconn *
connect_as(const char *user, const char **sqlstate, const char **message)
{
    static char ss[8], msg[256];
    char conninfo[256];
    snprintf(conninfo, sizeof(conninfo),
             "host=127.0.0.1 port=%u user=%s dbname=test connect_timeout=10",
             th_router_port(&cluster), user);
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) == CONNECTION_OK)
        return c;
    /* libpq keeps only the text of a startup FATAL: "FATAL:  msg\n". */
    const char *e = PQerrorMessage(c);
    const char *m = strstr(e, "FATAL:  ");
    snprintf(msg, sizeof(msg), "%s", m != NULL ? m + 8 : e);
    msg[strcspn(msg, "\n")] = '\0';
    snprintf(ss, sizeof(ss), "%s",
             strstr(e, "too many") || strstr(e, "reserved")
                 ? TL_SQLSTATE_TOO_MANY_CONNECTIONS
                 : "?");
    *sqlstate = ss;
    *message = msg;
    PQfinish(c);
    return NULL;
}

/* A connection as @user, retried until a slot is free (sessions closed
 * by earlier tests leave their slots a moment after the client). */
static PGconn *
connect_retry(const char *user)
{
    const char *ss, *msg;
    double until = th_now() + 10;
    for (;;) {
        PGconn *c = connect_as(user, &ss, &msg);
        if (c != NULL)
            return c;
        if (th_now() > until)
            fail_msg("cannot connect as %s: %s", user, msg);
        usleep(20 * 1000);
    }
}

/* Many silent TCP connections (more than the startup slots) do not lock a
 * real client out: it still connects and queries at once; the oldest
 * silent ones are evicted, and the others are closed at the startup
 * timeout. */
static void
test_silent_connections(void **state)
{
    (void)state;
    int fds[40];
    for (int i = 0; i < 40; i++)
        fds[i] = tcp_connect();
    double t0 = th_now();
    PGconn *c = connect_retry("test");
    assert_true(th_now() - t0 < 1.0);
    assert_int_equal(th_scalar(c, "SELECT 1"), 1);
    PQfinish(c);
    assert_true(router_logged("event=startup_evicted"));
    /* The newest silent one is closed by the startup timeout (1 s). */
    assert_true(closed_within(fds[39], 5.0));
    for (int i = 0; i < 40; i++)
        close(fds[i]);
    assert_true(router_logged("event=startup_timeout"));
}

static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Send a startup packet for user "test" and read up to ReadyForQuery. */
static void
raw_startup(int fd)
{
    static const char params[] = "user\0test\0database\0test\0";
    uint8_t pkt[64];
    size_t n = 8 + sizeof(params);
    put32(pkt, (uint32_t)n);
    put32(pkt + 4, 196608);
    memcpy(pkt + 8, params, sizeof(params));
    assert_int_equal(send(fd, pkt, n, 0), (ssize_t)n);
    for (;;) {
        uint8_t hdr[5];
        char body[4096];
        assert_int_equal(recv(fd, hdr, 5, MSG_WAITALL), 5);
        uint32_t len = ((uint32_t)hdr[1] << 24) | ((uint32_t)hdr[2] << 16) |
                       ((uint32_t)hdr[3] << 8) | hdr[4];
        assert_true(len >= 4 && len - 4 <= sizeof(body));
        if (len > 4)
            assert_int_equal(recv(fd, body, len - 4, MSG_WAITALL),
                             (ssize_t)(len - 4));
        if (hdr[0] == 'Z')
            return;
    }
}

/* A client that sends the start of a large message and stops is closed
 * once the message deadline (500 ms) passes, and the router logs it; an
 * idle client (between messages) is not. */
static void
test_partial_message(void **state)
{
    (void)state;
    int idle = tcp_connect();
    raw_startup(idle);
    int fd = tcp_connect();
    raw_startup(fd);
    uint8_t m[5 + 100];
    m[0] = 'Q';
    put32(m + 1, 1u << 20); /* announces 1 MiB, sends 100 bytes */
    memset(m + 5, 'x', 100);
    assert_int_equal(send(fd, m, sizeof(m), 0), (ssize_t)sizeof(m));
    assert_true(closed_within(fd, 5.0));
    close(fd);
    assert_true(router_logged("event=message_timeout"));
    /* The idle one waited as long and is still served. */
    uint8_t q[] = {'Q', 0, 0, 0, 13, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1', 0};
    assert_int_equal(send(idle, q, sizeof(q), 0), (ssize_t)sizeof(q));
    uint8_t hdr[5];
    assert_int_equal(recv(idle, hdr, 5, MSG_WAITALL), 5);
    assert_int_equal(hdr[0], 'T'); /* RowDescription */
    close(idle);
}

/* With 6 slots and 2 reserved, a fifth ordinary user is refused with
 * PostgreSQL's reserved-slots message, the superuser still gets the two
 * last slots, and past them everyone gets "sorry, too many clients
 * already"; max_connections shows the limit in force. */
static void
test_reserved_slots(void **state)
{
    (void)state;
    PGconn *held[6];
    const char *ss = NULL, *msg = NULL;
    for (int i = 0; i < 4; i++)
        held[i] = connect_retry("app");
    assert_null(connect_as("app", &ss, &msg));
    assert_string_equal(ss, "53300");
    assert_string_equal(msg, "remaining connection slots are reserved for "
                             "non-replication superuser connections");
    held[4] = connect_retry("talus");
    held[5] = connect_retry("talus");
    assert_null(connect_as("talus", &ss, &msg));
    assert_string_equal(msg, "sorry, too many clients already");
    assert_null(connect_as("app", &ss, &msg));
    assert_string_equal(ss, "53300");
    PGresult *r = th_exec(held[5], "SHOW max_connections");
    assert_string_equal(PQgetvalue(r, 0, 0), "6");
    PQclear(r);
    r = th_exec(held[5], "SHOW superuser_reserved_connections");
    assert_string_equal(PQgetvalue(r, 0, 0), "2");
    PQclear(r);
    for (int i = 0; i < 6; i++)
        PQfinish(held[i]);
}

/* ORDER BY over more rows than the sort cap fails with 54000 naming the
 * limit; the same ORDER BY with a LIMIT, or over fewer rows, works. */
static void
test_order_by_cap(void **state)
{
    (void)state;
    PGconn *c = connect_retry("test");
    assert_true(th_ok(c, "CREATE TABLE wide (id bigint PRIMARY KEY, v text) "
                         "PARTITION BY HASH (id)"));
    static char sql[1 << 20];
    size_t n = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO wide VALUES ");
    for (int i = 0; i < 3000; i++)
        n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s(%d, '%0100d')",
                              i ? ", " : "", i, 3000 - i);
    assert_true(th_ok(c, sql));
    PGresult *r = PQexec(c, "SELECT id, v FROM wide ORDER BY v");
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "54000");
    assert_string_equal(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY),
                        "ORDER BY needs more than 200000 bytes of memory");
    PQclear(r);
    assert_int_equal(th_scalar(c, "SELECT id FROM wide ORDER BY v LIMIT 1"),
                     2999);
    assert_int_equal(
        th_scalar(c, "SELECT id FROM wide WHERE id < 100 ORDER BY v DESC "
                     "LIMIT 1 OFFSET 99"),
        99);
    assert_int_equal(th_scalar(c, "SELECT 1"), 1);
    PQfinish(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_silent_connections),
        cmocka_unit_test(test_partial_message),
        cmocka_unit_test(test_reserved_slots),
        cmocka_unit_test(test_order_by_cap),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
