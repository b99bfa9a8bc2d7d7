/* Timeouts and cancel behave as in PostgreSQL: statement_timeout and a
 * CancelRequest with the session's key end a running statement with 57014
 * and the connection stays usable; a wrong key does nothing; a scan
 * longer than the request timeout still completes (nodes answer it page
 * by page); and nodes give up, and count, scans nobody waits for.
 *
 * Scans are made slow with the nodes' test option --test-scan-row-delay-us
 * (2 ms per row visited: a full scan of a shard of 1,000 rows takes 2 s,
 * twice the request timeout). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
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

#include "harness.h"

#define N_ROWS 3000
#define N_SHARDS 3
/* A slow statement, pushed to the nodes as a count (a plain scan). */
#define SLOW_COUNT "SELECT count(*) FROM big WHERE v <> 'x'"

static struct th_cluster cluster;

static int
setup(void **state)
{
    struct th_options o = {.n_nodes = 3,
                           .n_shards = N_SHARDS,
                           .request_timeout_ms = 1000,
                           .node_args = "--test-scan-row-delay-us 2000"};
    (void)state;
    if (th_cluster_start(&cluster, &o) != 0)
        return -1;
    PGconn *c = th_connect(&cluster);
    bool ok = th_ok(c, "CREATE TABLE big (id bigint PRIMARY KEY, v text) "
                       "PARTITION BY HASH (id)");
    static char sql[1 << 18];
    size_t n = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO big VALUES ");
    for (int i = 0; i < N_ROWS; i++)
        n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s(%d, 'v%d')",
                              i ? ", " : "", i, i);
    ok = ok && th_ok(c, sql);
    PQfinish(c);
    return ok ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

/* Run @sql and expect an error with @sqlstate and @message. */
static void
expect_error(PGconn *c, const char *sql, const char *sqlstate,
             const char *message)
{
    PGresult *r = PQexec(c, sql);
    const char *ss = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    if (ss == NULL || strcmp(ss, sqlstate) != 0)
        fprintf(stderr, "%s: got %s %s\n", sql, ss ? ss : "success",
                msg ? msg : "");
    assert_non_null(ss);
    assert_string_equal(ss, sqlstate);
    assert_string_equal(msg, message);
    PQclear(r);
}

/* Scans and requests given up, summed over every node and shard. */
static unsigned long long
n_expired(void)
{
    unsigned long long sum = 0;
    for (uint32_t id = 1; id <= cluster.cfg.n_nodes; id++)
        for (uint32_t s = 0; s < N_SHARDS; s++) {
            Talus__ShardStatus ss;
            if (th_shard_status(&cluster, id, s, &ss) && ss.has_n_expired)
                sum += ss.n_expired;
        }
    return sum;
}

/* Whether some node's log has a line containing @what. */
static bool
node_logged(const char *what)
{
    for (uint32_t id = 1; id <= cluster.cfg.n_nodes; id++) {
        char path[PATH_MAX + 32], line[2048];
        snprintf(path, sizeof(path), "%s/node%u.log", cluster.dir, id);
        FILE *f = fopen(path, "r");
        bool found = false;
        while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL)
            found = strstr(line, what) != NULL;
        if (f != NULL)
            fclose(f);
        if (found)
            return true;
    }
    return false;
}

/* A scan that takes twice the request timeout completes with the right
 * answer: nodes end each page in time, so no attempt times out. */
static void
test_slow_scan_completes(void **state)
{
    (void)state;
    PGconn *c = th_connect(&cluster);
    double t0 = th_now();
    assert_int_equal(th_scalar(c, SLOW_COUNT), N_ROWS);
    assert_true(th_now() - t0 > 1.0); /* it was slower than one request */
    PQfinish(c);
}

/* statement_timeout ends a slow statement with exactly PostgreSQL's 57014,
 * soon after the timeout, and the connection keeps working; the node
 * gives up the scan it was running for it and counts it. */
static void
test_statement_timeout(void **state)
{
    (void)state;
    PGconn *c = th_connect(&cluster);
    unsigned long long before = n_expired();
    assert_true(th_ok(c, "SET statement_timeout = 200"));
    double t0 = th_now();
    expect_error(c, SLOW_COUNT, "57014",
                 "canceling statement due to statement timeout");
    double dt = th_now() - t0;
    assert_true(dt >= 0.15 && dt < 1.5);
    /* A top-N scan too (sorted on the node, paged by time as well). */
    expect_error(c, "SELECT id FROM big WHERE v <> 'x' ORDER BY v LIMIT 3",
                 "57014", "canceling statement due to statement timeout");
    assert_int_equal(th_scalar(c, "SELECT 1"), 1);
    assert_true(th_ok(c, "RESET statement_timeout"));
    assert_int_equal(th_scalar(c, "SELECT count(*) FROM big WHERE id < 10"),
                     10);
    /* The nodes notice that nobody waits any more: a page they were
     * still scanning when its time ran out is given up. */
    double until = th_now() + 10;
    while (n_expired() <= before && th_now() < until)
        usleep(20 * 1000);
    assert_true(n_expired() > before);
    assert_true(node_logged("event=scan_abandoned"));
    PQfinish(c);
}

struct canceller {
    PGconn *conn;
    bool ok;
};

static void *
run_cancel(void *p)
{
    struct canceller *k = p;
    char err[256];
    PGcancel *cn = PQgetCancel(k->conn);
    k->ok = cn != NULL && PQcancel(cn, err, sizeof(err)) == 1;
    PQfreeCancel(cn);
    return NULL;
}

/* Wait until the nodes have started at least one more scan than @before
 * (the statement sent asynchronously is running). */
static void
wait_scans_above(unsigned long long before)
{
    double until = th_now() + 10;
    for (;;) {
        unsigned long long scans[N_SHARDS] = {0}, writes[N_SHARDS] = {0};
        unsigned long long sum = 0;
        assert_int_equal(th_shard_counters(&cluster, scans, writes, NULL), 0);
        for (int s = 0; s < N_SHARDS; s++)
            sum += scans[s];
        if (sum > before || th_now() > until)
            return;
        usleep(10 * 1000);
    }
}

static unsigned long long
scans_now(void)
{
    unsigned long long scans[N_SHARDS] = {0}, writes[N_SHARDS] = {0};
    unsigned long long sum = 0;
    assert_int_equal(th_shard_counters(&cluster, scans, writes, NULL), 0);
    for (int s = 0; s < N_SHARDS; s++)
        sum += scans[s];
    return sum;
}

/* PQcancel from another thread, during a slow statement, ends it with
 * 57014 "canceling statement due to user request" long before it would
 * have finished; the connection stays usable. */
static void
test_cancel_request(void **state)
{
    (void)state;
    PGconn *c = th_connect(&cluster);
    unsigned long long before = scans_now();
    double t0 = th_now();
    assert_int_equal(PQsendQuery(c, SLOW_COUNT), 1);
    wait_scans_above(before);
    struct canceller k = {.conn = c};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_cancel, &k), 0);
    pthread_join(t, NULL);
    assert_true(k.ok);
    PGresult *r = PQgetResult(c);
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "57014");
    assert_string_equal(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY),
                        "canceling statement due to user request");
    PQclear(r);
    while ((r = PQgetResult(c)) != NULL)
        PQclear(r);
    assert_true(th_now() - t0 < 1.5); /* the full scan takes over 2 s */
    assert_int_equal(th_scalar(c, "SELECT 1"), 1);
    PQfinish(c);
}

/* A CancelRequest quoting the session's pid with a wrong secret does
 * nothing: the statement completes with its result. */
static void
test_cancel_wrong_key(void **state)
{
    (void)state;
    PGconn *c = th_connect(&cluster);
    unsigned long long before = scans_now();
    assert_int_equal(PQsendQuery(c, SLOW_COUNT), 1);
    wait_scans_above(before);

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(th_router_port(&cluster))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    uint32_t pkt[4] = {htonl(16), htonl(80877102),
                       htonl((uint32_t)PQbackendPID(c)), htonl(12345)};
    assert_int_equal(send(fd, pkt, sizeof(pkt), 0), (ssize_t)sizeof(pkt));
    char b;
    assert_int_equal(recv(fd, &b, 1, 0), 0); /* closed, no reply */
    close(fd);

    PGresult *r = PQgetResult(c);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(atoll(PQgetvalue(r, 0, 0)), N_ROWS);
    PQclear(r);
    while ((r = PQgetResult(c)) != NULL)
        PQclear(r);
    PQfinish(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_scan_completes),
        cmocka_unit_test(test_statement_timeout),
        cmocka_unit_test(test_cancel_request),
        cmocka_unit_test(test_cancel_wrong_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
