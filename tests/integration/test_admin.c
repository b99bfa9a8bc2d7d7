/* The admin plane of a running cluster (3 nodes, 3 replicas, 2 routers):
 * every process answers /health with 200 ok, /ready with 200 once the
 * cluster serves, and /metrics with the key series (promtool check
 * metrics passes when promtool is installed); the router's statement,
 * latency, error and shard-call counters and the nodes' proposal and
 * rows-read counters move when statements run; a node whose peers are
 * gone reports 503 "no known leader" on /ready, and 200 again once they
 * are back. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "admin_util.h"
#include "harness.h"

/* Bound of every poll below. */
#define POLL_S 60

static struct th_cluster cluster;

static int
setup(void **state)
{
    struct th_options o = {
        .n_nodes = 3, .n_shards = 4, .n_replicas = 3, .admin = true};
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (th_cluster_start(&cluster, &o) != 0)
        return -1;
    return th_router2_start(&cluster);
}

static int
teardown(void **state)
{
    (void)state;
    int bad = th_cluster_stop(&cluster);
    curl_global_cleanup();
    return bad == 0 ? 0 : -1;
}

static void
pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Poll @addr's /ready until it answers @want (200 or 503), at most
 * POLL_S; the last body in *@body (free()). */
static long
wait_ready(const char *addr, long want, char **body)
{
    double deadline = th_now() + POLL_S;
    long st;
    for (;;) {
        st = http_get(addr, "/ready", body);
        if (st == want || th_now() >= deadline)
            return st;
        free(*body);
        /* Polling a state the process reaches by itself. */
        pause_ms(200);
    }
}

/* The /metrics text of process @id (th_admin_addr()); asserts 200. */
static char *
scrape(int id)
{
    char *body;
    assert_int_equal(http_get(th_admin_addr(&cluster, id), "/metrics", &body),
                     200);
    return body;
}

/* promtool check metrics on @text, when promtool is installed. */
static void
promtool_check(const char *text)
{
    char path[PATH_MAX + 32], out[PATH_MAX + 32];
    if (access("/usr/bin/promtool", X_OK) != 0) {
        fprintf(stderr, "promtool not installed: format check skipped\n");
        return;
    }
    snprintf(path, sizeof path, "%s/metrics.txt", cluster.dir);
    snprintf(out, sizeof out, "%s/promtool.out", cluster.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s > %s 2>&1", path,
             out);
    char *argv[] = {"sh", "-c", cmd, NULL};
    int rv = th_run_limited(argv, NULL, 60);
    if (rv != 0) {
        char *cat[] = {"cat", out, NULL};
        th_run(cat, NULL);
    }
    assert_int_equal(rv, 0);
}

/* Every process is alive (/health 200 "ok") and ready (/ready 200) once
 * the cluster serves; an unknown path is 404. */
static void
test_health_and_ready(void **state)
{
    char *body;
    (void)state;
    for (int id = -1; id <= 3; id++) {
        const char *addr = th_admin_addr(&cluster, id);
        assert_true(addr[0] != '\0');
        assert_int_equal(http_get(addr, "/health", &body), 200);
        assert_string_equal(body, "ok\n");
        free(body);
        long st = wait_ready(addr, 200, &body);
        if (st != 200)
            fprintf(stderr, "%s /ready: %ld %s", addr, st, body);
        assert_int_equal(st, 200);
        assert_string_equal(body, "ready\n");
        free(body);
        assert_int_equal(http_get(addr, "/nothing", &body), 404);
        free(body);
    }
}

/* The router's series exist and its counters move with statements: by
 * kind, their latency histogram, errors by SQLSTATE, shard calls,
 * catalog reloads, connections; the output passes promtool. */
static void
test_router_metrics_move(void **state)
{
    (void)state;
    char *before = scrape(0);
    PGconn *conn = th_connect(&cluster);
    assert_true(th_ok(conn, "CREATE TABLE adm (id bigint PRIMARY KEY, v text) "
                            "PARTITION BY HASH (id)"));
    for (int i = 0; i < 20; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT INTO adm VALUES (%d, 'v%d')", i, i);
        assert_true(th_ok(conn, sql));
    }
    assert_true(th_ok(conn, "UPDATE adm SET v = 'w' WHERE id = 3"));
    assert_true(th_ok(conn, "DELETE FROM adm WHERE id = 4"));
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM adm"), 19);
    assert_string_equal(th_sqlstate(conn, "SELECT * FROM adm_missing"),
                        "42P01");
    char *after = scrape(0);

    static const struct {
        const char *series;
        double at_least;
    } moved[] = {
        {"talus_router_statements_total{kind=\"insert\"}", 20},
        {"talus_router_statements_total{kind=\"select\"}", 2},
        {"talus_router_statements_total{kind=\"update\"}", 1},
        {"talus_router_statements_total{kind=\"delete\"}", 1},
        {"talus_router_statements_total{kind=\"ddl\"}", 1},
        {"talus_router_statement_duration_seconds_count{kind=\"insert\"}", 20},
        {"talus_router_statement_duration_seconds_bucket{kind=\"insert\","
         "le=\"+Inf\"}",
         20},
        {"talus_router_errors_total{sqlstate=\"42P01\"}", 1},
        {"talus_router_shard_calls_total", 20},
        {"talus_router_connections_total", 1},
    };
    for (size_t i = 0; i < sizeof moved / sizeof moved[0]; i++) {
        double b = metric_value(before, moved[i].series);
        double a = metric_value(after, moved[i].series);
        if (isnan(b))
            b = 0; /* an error code's series appears with its first error */
        fprintf(stderr, "%s: %.0f -> %.0f\n", moved[i].series, b, a);
        assert_false(isnan(a));
        assert_true(a - b >= moved[i].at_least);
    }
    assert_true(metric_value(after, "talus_router_catalog_reloads_total") >= 1);
    assert_true(metric_value(after, "talus_router_connections") >= 1);
    assert_true(metric_value(after, "talus_router_shard_retries_total") >= 0);
    assert_true(metric_value(after, "process_resident_memory_bytes") > 0);
    assert_true(metric_value(after, "process_open_fds") > 0);
    assert_true(metric_value(after, "process_start_time_seconds") >
                (double)time(NULL) - 3600);
    promtool_check(after);
    PQfinish(conn);
    free(before);
    free(after);
}

/* The nodes' per-shard series exist for every shard and the meta group,
 * and proposals, rows read and scans move with statements; the output
 * passes promtool. */
static void
test_node_metrics_move(void **state)
{
    (void)state;
    double props0 = 0, rows0 = 0, scans0 = 0;
    for (int id = 1; id <= 3; id++) {
        char *t = scrape(id);
        props0 += metric_sum(t, "talus_node_proposals_total", NULL);
        rows0 += metric_sum(t, "talus_node_rows_read_total", NULL);
        scans0 += metric_sum(t, "talus_node_scans_total", NULL);
        free(t);
    }
    PGconn *conn = th_connect(&cluster);
    assert_true(th_ok(conn, "CREATE TABLE adn (id bigint PRIMARY KEY) "
                            "PARTITION BY HASH (id)"));
    assert_true(
        th_ok(conn, "INSERT INTO adn SELECT g FROM generate_series(1, 50) g"));
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM adn"), 50);
    /* Rows returned by a scan, not only counted there. */
    PQclear(th_exec(conn, "SELECT * FROM adn"));
    PQfinish(conn);

    double props = 0, rows = 0, scans = 0;
    for (int id = 1; id <= 3; id++) {
        char *t = scrape(id);
        int n_terms = 0, n_applied = 0;
        props += metric_sum(t, "talus_node_proposals_total", NULL);
        rows += metric_sum(t, "talus_node_rows_read_total", NULL);
        scans += metric_sum(t, "talus_node_scans_total", NULL);
        metric_sum(t, "talus_node_raft_term", &n_terms);
        metric_sum(t, "talus_node_raft_applied_index", &n_applied);
        /* 4 shards and the meta group, each on every node (3 replicas). */
        assert_int_equal(n_terms, 5);
        assert_int_equal(n_applied, 5);
        assert_true(metric_value(t, "talus_node_raft_term{shard=\"meta\"}") >=
                    1);
        assert_true(metric_value(t, "talus_node_shards_hosted") == 5);
        assert_false(isnan(
            metric_value(t, "talus_node_rocksdb_sst_bytes{shard=\"0\"}")));
        assert_false(isnan(metric_value(
            t, "talus_node_rocksdb_live_data_bytes{shard=\"0\"}")));
        assert_false(
            isnan(metric_value(t, "talus_node_rocksdb_running_compactions")));
        assert_false(isnan(metric_value(
            t, "talus_node_apply_duration_seconds_count{shard=\"0\"}")));
        assert_true(metric_value(t, "process_resident_memory_bytes") > 0);
        if (id == 1)
            promtool_check(t);
        free(t);
    }
    fprintf(stderr,
            "proposals %.0f -> %.0f, rows read %.0f -> %.0f, "
            "scans %.0f -> %.0f\n",
            props0, props, rows0, rows, scans0, scans);
    assert_true(props - props0 >= 4); /* the INSERT on every shard */
    assert_true(rows - rows0 >= 50);
    assert_true(scans > scans0);
    /* One leader per group; the nodes are scraped one after another, so
     * a leadership change between two scrapes is waited out. */
    double leaders, deadline = th_now() + POLL_S;
    for (;;) {
        leaders = 0;
        for (int id = 1; id <= 3; id++) {
            char *t = scrape(id);
            leaders += metric_sum(t, "talus_node_raft_is_leader", NULL);
            free(t);
        }
        if (leaders == 5 || th_now() >= deadline)
            break;
        /* Polling a state the cluster reaches by itself. */
        pause_ms(200);
    }
    assert_true(leaders == 5);
}

/* A node that lost its peers has no known leader: /ready says 503 with
 * the reason while /health stays 200, and it leads no group once its
 * leaders stepped down; with its peers back it is ready again. */
static void
test_node_not_ready_without_leader(void **state)
{
    char *body;
    (void)state;
    th_node_signal(&cluster, 2, SIGTERM);
    th_node_signal(&cluster, 3, SIGTERM);
    long st = wait_ready(th_admin_addr(&cluster, 1), 503, &body);
    fprintf(stderr, "node 1 /ready without peers: %ld %s", st, body);
    assert_int_equal(st, 503);
    assert_non_null(strstr(body, "not ready: no known leader for shard"));
    free(body);
    assert_int_equal(http_get(th_admin_addr(&cluster, 1), "/health", &body),
                     200);
    free(body);
    /* A leader out of touch with a majority steps down within an
     * election timeout; one group may still be led when another is not. */
    double deadline = th_now() + POLL_S, leading;
    for (;;) {
        char *t = scrape(1);
        leading = metric_sum(t, "talus_node_raft_is_leader", NULL);
        free(t);
        if (leading == 0 || th_now() >= deadline)
            break;
        /* Polling a state the node reaches by itself. */
        pause_ms(200);
    }
    assert_true(leading == 0);

    assert_int_equal(th_node_start(&cluster, 2), 0);
    assert_int_equal(th_node_start(&cluster, 3), 0);
    for (int id = 1; id <= 3; id++) {
        st = wait_ready(th_admin_addr(&cluster, id), 200, &body);
        if (st != 200)
            fprintf(stderr, "node %d /ready: %ld %s", id, st, body);
        assert_int_equal(st, 200);
        free(body);
    }
    assert_int_equal(cluster.n_bad_exits, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_and_ready),
        cmocka_unit_test(test_router_metrics_move),
        cmocka_unit_test(test_node_metrics_move),
        cmocka_unit_test(test_node_not_ready_without_leader),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
