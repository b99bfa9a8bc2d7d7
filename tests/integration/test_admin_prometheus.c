/* A real Prometheus scrapes a test cluster (3 nodes, 2 routers) with the
 * configuration of deploy/prometheus/ (its targets replaced by the test's
 * ports, its intervals shortened to 1 s): `promtool check config`
 * accepts it, every target is up, the key series exist (per-shard Raft
 * term, process memory of every process) and move when statements run,
 * and every query of the Grafana dashboard in deploy/grafana/ answers
 * series, all through Prometheus's HTTP API. Prometheus is Debian's package
 * (scripts/install-deps installs it); without it the test says so and
 * is skipped. */
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_ports.h"
#include "admin_util.h"
#include "harness.h"

#define PROMETHEUS "/usr/bin/prometheus"
#define PROMTOOL "/usr/bin/promtool"
/* Bound of every wait for Prometheus (start, first scrapes, a scrape
 * after the load). */
#define WAIT_S 90

static struct th_cluster cluster;
static pid_t prom_pid;
static char prom_addr[64];

static void
pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The contents of @path (malloc'd, NUL-terminated), or NULL. */
static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = calloc(1, (size_t)n + 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* @s with every @from replaced by @to (malloc'd; @s is freed). */
static char *
replace(char *s, const char *from, const char *to)
{
    char *hit = strstr(s, from);
    if (hit == NULL)
        return s;
    size_t lf = strlen(from), lt = strlen(to), n = strlen(s);
    char *out = malloc(n - lf + lt + 1);
    assert_non_null(out);
    memcpy(out, s, (size_t)(hit - s));
    memcpy(out + (hit - s), to, lt);
    strcpy(out + (hit - s) + lt, hit + lf);
    free(s);
    return replace(out, from, to);
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* Write deploy/prometheus's configuration for this cluster into the
 * test's directory: @conf (size PATH_MAX) gets its path. */
static void
write_config(char *conf)
{
    static const char *const node_targets[] = {
        "127.0.0.1:9101", "127.0.0.1:9102", "127.0.0.1:9103"};
    char src[PATH_MAX], path[PATH_MAX + 32];
    char *yml, *rules;

    snprintf(src, sizeof src, "%s/deploy/prometheus/prometheus.yml",
             TALUS_SOURCE_DIR);
    yml = slurp(src);
    assert_non_null(yml);
    for (int i = 0; i < 3; i++)
        yml = replace(yml, node_targets[i], th_admin_addr(&cluster, i + 1));
    yml = replace(yml, "127.0.0.1:9201", th_admin_addr(&cluster, 0));
    yml = replace(yml, "127.0.0.1:9202", th_admin_addr(&cluster, -1));
    yml = replace(yml, "scrape_interval: 15s", "scrape_interval: 1s");
    yml = replace(yml, "evaluation_interval: 15s", "evaluation_interval: 1s");
    snprintf(conf, PATH_MAX, "%.*s/prometheus.yml", PATH_MAX - 32, cluster.dir);
    write_file(conf, yml);
    free(yml);
    /* The rule file named by the configuration, beside it. */
    snprintf(src, sizeof src, "%s/deploy/prometheus/alerts.yml",
             TALUS_SOURCE_DIR);
    rules = slurp(src);
    assert_non_null(rules);
    snprintf(path, sizeof path, "%s/alerts.yml", cluster.dir);
    write_file(path, rules);
    free(rules);
}

/* Start Prometheus on a free loopback port with @conf; it dies with the
 * test (PR_SET_PDEATHSIG), its output in <dir>/prometheus.log. */
static void
start_prometheus(const char *conf)
{
    char flag_conf[PATH_MAX + 32], flag_db[PATH_MAX + 32], flag_addr[96],
        log[PATH_MAX + 32];
    pid_t parent = getpid();

    snprintf(prom_addr, sizeof prom_addr, "127.0.0.1:%u", free_port());
    snprintf(flag_conf, sizeof flag_conf, "--config.file=%s", conf);
    snprintf(flag_db, sizeof flag_db, "--storage.tsdb.path=%s/prometheus",
             cluster.dir);
    snprintf(flag_addr, sizeof flag_addr, "--web.listen-address=%s", prom_addr);
    snprintf(log, sizeof log, "%s/prometheus.log", cluster.dir);
    prom_pid = fork();
    assert_true(prom_pid >= 0);
    if (prom_pid == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(127);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        execl(PROMETHEUS, PROMETHEUS, flag_conf, flag_db, flag_addr,
              "--log.level=warn", (char *)NULL);
        _exit(127);
    }
}

/* Stop Prometheus by its PID: SIGTERM, SIGKILL after 30 s. */
static void
stop_prometheus(void)
{
    int status;
    double deadline = th_now() + 30;
    if (prom_pid <= 0)
        return;
    kill(prom_pid, SIGTERM);
    while (waitpid(prom_pid, &status, WNOHANG) == 0) {
        if (th_now() >= deadline) {
            kill(prom_pid, SIGKILL);
            waitpid(prom_pid, &status, 0);
            break;
        }
        /* Waiting for a child's exit: nothing to wait on but the pid. */
        pause_ms(50);
    }
    prom_pid = 0;
}

/* The parsed answer of the instant query @expr (json_decref()), or NULL
 * when Prometheus did not answer 200 with JSON. */
static json_t *
prom_api_query(const char *expr)
{
    char path[4096], *body = NULL;
    json_t *root = NULL;
    CURL *h = curl_easy_init();
    char *q = h != NULL ? curl_easy_escape(h, expr, 0) : NULL;

    if (h != NULL)
        curl_easy_cleanup(h);
    if (q == NULL)
        return NULL;
    snprintf(path, sizeof path, "/api/v1/query?query=%.4000s", q);
    curl_free(q);
    if (http_get(prom_addr, path, &body) == 200)
        root = json_loads(body, 0, NULL);
    free(body);
    return root;
}

/* The value of the instant query @expr when it is one sample, else NAN
 * (no answer, no sample yet, several). */
static double
prom_query(const char *expr)
{
    json_t *root = prom_api_query(expr);
    json_t *res = json_object_get(json_object_get(root, "data"), "result");
    double v = NAN;

    if (json_is_array(res) && json_array_size(res) == 1) {
        json_t *val =
            json_array_get(json_object_get(json_array_get(res, 0), "value"), 1);
        if (json_is_string(val))
            v = strtod(json_string_value(val), NULL);
    }
    json_decref(root);
    return v;
}

/* Poll @expr until its value is in [@min, @max], at most WAIT_S; the
 * last value (NAN if none). */
static double
wait_range(const char *expr, double min, double max)
{
    double deadline = th_now() + WAIT_S, v;
    for (;;) {
        v = prom_query(expr);
        if ((!isnan(v) && v >= min && v <= max) || th_now() >= deadline)
            break;
        /* Prometheus scrapes every second; nothing to wait on. */
        pause_ms(500);
    }
    fprintf(stderr, "%s = %g\n", expr, v);
    return v;
}

/* Poll @expr until its value is at least @min (wait_range()). */
static double
wait_value(const char *expr, double min)
{
    return wait_range(expr, min, INFINITY);
}

/* Every query of deploy/grafana/talus-dashboard.json runs on Prometheus
 * and returns at least one series: the dashboard is valid JSON and uses
 * only series that exist. */
static void
check_dashboard(void)
{
    char path[PATH_MAX];
    json_error_t jerr;
    size_t n_exprs = 0;

    snprintf(path, sizeof path, "%s/deploy/grafana/talus-dashboard.json",
             TALUS_SOURCE_DIR);
    json_t *dash = json_load_file(path, 0, &jerr);
    if (dash == NULL)
        fprintf(stderr, "%s:%d: %s\n", path, jerr.line, jerr.text);
    assert_non_null(dash);
    assert_true(json_is_string(json_object_get(dash, "title")));
    json_t *panels = json_object_get(dash, "panels");
    assert_true(json_is_array(panels) && json_array_size(panels) > 0);
    for (size_t i = 0; i < json_array_size(panels); i++) {
        json_t *targets = json_object_get(json_array_get(panels, i), "targets");
        for (size_t k = 0; k < json_array_size(targets); k++) {
            const char *expr = json_string_value(
                json_object_get(json_array_get(targets, k), "expr"));
            double deadline = th_now() + WAIT_S;
            size_t n = 0;
            const char *status = "";
            assert_non_null(expr);
            n_exprs++;
            /* A rate needs two scrapes in its window: poll. */
            for (;;) {
                json_t *root = prom_api_query(expr);
                json_t *st = json_object_get(root, "status");
                json_t *res =
                    json_object_get(json_object_get(root, "data"), "result");
                char buf[32];
                snprintf(buf, sizeof buf, "%s",
                         json_is_string(st) ? json_string_value(st) : "none");
                status = strcmp(buf, "success") == 0 ? "success" : "failed";
                n = json_array_size(res);
                json_decref(root);
                if (n > 0 || th_now() >= deadline)
                    break;
                pause_ms(500);
            }
            if (n == 0)
                fprintf(stderr, "dashboard query %s: %s, no series: %s\n",
                        status, expr, path);
            assert_string_equal(status, "success");
            assert_true(n > 0);
        }
    }
    fprintf(stderr, "dashboard: %zu queries answered\n", n_exprs);
    assert_true(n_exprs > 10);
    json_decref(dash);
}

static int
setup(void **state)
{
    struct th_options o = {
        .n_nodes = 3, .n_shards = 4, .n_replicas = 1, .admin = true};
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
    stop_prometheus();
    int bad = th_cluster_stop(&cluster);
    curl_global_cleanup();
    return bad == 0 ? 0 : -1;
}

/* deploy/prometheus/prometheus.yml and its rules are valid as shipped
 * and as the test rewrote them; Prometheus scrapes every process, finds
 * the key series, and sees the router's and nodes' counters move when
 * statements run. */
static void
test_prometheus_scrapes(void **state)
{
    char conf[PATH_MAX], src[PATH_MAX];
    (void)state;
    if (access(PROMETHEUS, X_OK) != 0 || access(PROMTOOL, X_OK) != 0) {
        fprintf(stderr, "prometheus is not installed (Debian package "
                        "prometheus, scripts/install-deps): skipped\n");
        skip();
    }
    snprintf(src, sizeof src, "%s/deploy/prometheus/prometheus.yml",
             TALUS_SOURCE_DIR);
    char *shipped[] = {PROMTOOL, "check", "config", src, NULL};
    assert_int_equal(th_run_limited(shipped, NULL, 60), 0);
    write_config(conf);
    char *ours[] = {PROMTOOL, "check", "config", conf, NULL};
    assert_int_equal(th_run_limited(ours, NULL, 60), 0);

    start_prometheus(conf);
    /* Every target scraped: 3 nodes and 2 routers. */
    assert_true(wait_range("count(up == 1)", 5, 5) == 5);
    /* 4 shards on one node each, the meta group on all three. */
    assert_true(wait_range("count(talus_node_raft_term)", 7, 7) == 7);
    /* One leader per group: 4 shards and the meta group. */
    assert_true(wait_range("count(talus_node_raft_is_leader == 1)", 5, 5) == 5);
    assert_true(wait_value("count(process_resident_memory_bytes > 0)", 5) == 5);
    assert_true(wait_value("count(process_open_fds > 0)", 5) == 5);
    assert_false(isnan(wait_value("count(talus_router_shard_calls_total)", 2)));

    double ins0 =
        wait_value("sum(talus_router_statements_total{kind=\"insert\"})", 0);
    double props0 = wait_value("sum(talus_node_proposals_total)", 0);
    double lat0 = wait_value(
        "sum(talus_router_statement_duration_seconds_count{kind=\"insert\"})",
        0);
    assert_false(isnan(ins0) || isnan(props0) || isnan(lat0));

    PGconn *conn = th_connect(&cluster);
    assert_true(th_ok(conn, "CREATE TABLE prom (id bigint PRIMARY KEY) "
                            "PARTITION BY HASH (id)"));
    for (int i = 0; i < 30; i++) {
        char sql[96];
        snprintf(sql, sizeof sql, "INSERT INTO prom VALUES (%d)", i);
        assert_true(th_ok(conn, sql));
    }
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM prom"), 30);
    /* Rows returned by the shards' scans, not only counted there. */
    PQclear(th_exec(conn, "SELECT * FROM prom"));
    /* An error, for the dashboard's errors panel. */
    assert_string_equal(th_sqlstate(conn, "SELECT * FROM prom_missing"),
                        "42P01");
    PQfinish(conn);

    assert_true(
        wait_value("sum(talus_router_statements_total{kind=\"insert\"})",
                   ins0 + 30) >= ins0 + 30);
    assert_true(wait_value("sum(talus_node_proposals_total)", props0 + 30) >=
                props0 + 30);
    assert_true(wait_value("sum(talus_router_statement_duration_seconds_count{"
                           "kind=\"insert\"})",
                           lat0 + 30) >= lat0 + 30);
    assert_true(
        wait_value("sum(talus_router_statements_total{kind=\"ddl\"})", 1) >= 1);
    assert_true(wait_value("sum(talus_node_rows_read_total)", 30) >= 30);
    check_dashboard();
    stop_prometheus();
    assert_int_equal(cluster.n_bad_exits, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prometheus_scrapes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
