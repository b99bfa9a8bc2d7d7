/* Unit tests of common/admin: the Prometheus text exposition of the
 * metrics registry (names, labels and their escaping, counters, gauges,
 * cumulative histogram buckets, hidden series, collectors), its counters
 * under concurrent updates, and the admin HTTP server's /health, /ready
 * and /metrics answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "common/admin/admin_http.h"
#include "common/admin/metrics.h"

static char *
render(struct tl_metrics *reg, struct tl_buf *b)
{
    tl_buf_reset(b);
    tl_metrics_render(reg, b);
    tl_buf_append_u8(b, 0);
    return (char *)b->data;
}

/* A counter and a gauge without labels render as HELP, TYPE and one
 * sample each, in registration order, integers without a fraction. */
static void
test_plain_counter_and_gauge(void **state)
{
    struct tl_metrics *reg;
    struct tl_buf b;

    (void)state;
    tl_metrics_create(&reg);
    tl_buf_init(&b);
    struct tl_metric_series *c =
        tl_metrics_counter(reg, "talus_things_total", "Things seen.");
    struct tl_metric_series *g =
        tl_metrics_gauge(reg, "talus_level", "A level.");
    tl_metrics_inc(c, 3);
    tl_metrics_inc(c, 1);
    tl_metrics_set(g, 2.5);
    tl_metrics_add(g, -1);
    assert_string_equal(render(reg, &b), "# HELP talus_things_total Things "
                                         "seen.\n"
                                         "# TYPE talus_things_total counter\n"
                                         "talus_things_total 4\n"
                                         "# HELP talus_level A level.\n"
                                         "# TYPE talus_level gauge\n"
                                         "talus_level 1.5\n");
    tl_buf_close(&b);
    tl_metrics_destroy(reg);
}

/* Label values are escaped (backslash, double quote, newline), the help
 * text too (backslash, newline); a series is created once per label
 * tuple and kept in creation order. */
static void
test_labels_and_escaping(void **state)
{
    struct tl_metrics *reg;
    struct tl_buf b;
    static const char *const labels[] = {"kind", "shard"};

    (void)state;
    tl_metrics_create(&reg);
    tl_buf_init(&b);
    struct tl_metric_family *f =
        tl_metrics_family(reg, "talus_x_total", "Line one\nback\\slash",
                          TL_METRIC_COUNTER, labels, 2, NULL, 0);
    const char *v1[] = {"select", "0"};
    const char *v2[] = {"a\"b\\c\nd", "1"};
    struct tl_metric_series *s1 = tl_metrics_series(f, v1);
    struct tl_metric_series *s2 = tl_metrics_series(f, v2);
    assert_ptr_equal(tl_metrics_series(f, v1), s1);
    assert_ptr_equal(tl_metrics_family(reg, "talus_x_total", "other",
                                       TL_METRIC_COUNTER, labels, 2, NULL, 0),
                     f);
    tl_metrics_inc(s1, 7);
    tl_metrics_inc(s2, 1);
    assert_string_equal(render(reg, &b),
                        "# HELP talus_x_total Line one\\nback\\\\slash\n"
                        "# TYPE talus_x_total counter\n"
                        "talus_x_total{kind=\"select\",shard=\"0\"} 7\n"
                        "talus_x_total{kind=\"a\\\"b\\\\c\\nd\",shard=\"1\"} "
                        "1\n");
    tl_buf_close(&b);
    tl_metrics_destroy(reg);
}

/* A histogram renders cumulative buckets with an le label after the
 * family's labels, a +Inf bucket equal to _count, and _sum; a value on a
 * bound falls in that bound's bucket. */
static void
test_histogram(void **state)
{
    struct tl_metrics *reg;
    struct tl_buf b;
    static const double bounds[] = {0.1, 1, 10};
    static const char *const labels[] = {"shard"};
    const char *v[] = {"3"};

    (void)state;
    tl_metrics_create(&reg);
    tl_buf_init(&b);
    struct tl_metric_family *f =
        tl_metrics_family(reg, "talus_d_seconds", "Durations.",
                          TL_METRIC_HISTOGRAM, labels, 1, bounds, 3);
    struct tl_metric_series *s = tl_metrics_series(f, v);
    tl_metrics_observe(s, 0.05);
    tl_metrics_observe(s, 1);
    tl_metrics_observe(s, 0.5);
    tl_metrics_observe(s, 100);
    assert_string_equal(render(reg, &b),
                        "# HELP talus_d_seconds Durations.\n"
                        "# TYPE talus_d_seconds histogram\n"
                        "talus_d_seconds_bucket{shard=\"3\",le=\"0.1\"} 1\n"
                        "talus_d_seconds_bucket{shard=\"3\",le=\"1\"} 3\n"
                        "talus_d_seconds_bucket{shard=\"3\",le=\"10\"} 3\n"
                        "talus_d_seconds_bucket{shard=\"3\",le=\"+Inf\"} 4\n"
                        "talus_d_seconds_sum{shard=\"3\"} 101.55\n"
                        "talus_d_seconds_count{shard=\"3\"} 4\n");
    tl_buf_close(&b);
    tl_metrics_destroy(reg);
}

/* Special values use the format's spellings; integers stay integers. */
static void
test_format_value(void **state)
{
    struct tl_buf b;
    (void)state;
    tl_buf_init(&b);
    tl_metrics_format_value(&b, INFINITY);
    tl_buf_append_u8(&b, ' ');
    tl_metrics_format_value(&b, -INFINITY);
    tl_buf_append_u8(&b, ' ');
    tl_metrics_format_value(&b, NAN);
    tl_buf_append_u8(&b, ' ');
    tl_metrics_format_value(&b, 1234567890123.0);
    tl_buf_append_u8(&b, ' ');
    tl_metrics_format_value(&b, -0.25);
    tl_buf_append_u8(&b, 0);
    assert_string_equal((char *)b.data, "+Inf -Inf NaN 1234567890123 -0.25");
    tl_buf_close(&b);
}

struct shard_collector {
    struct tl_metric_family *f;
    int n_shards;
};

static void
collect_shards(struct tl_metrics *reg, void *data)
{
    struct shard_collector *c = data;
    (void)reg;
    tl_metrics_family_hide(c->f);
    for (int i = 0; i < c->n_shards; i++) {
        char s[16];
        const char *v[] = {s};
        snprintf(s, sizeof s, "%d", i);
        tl_metrics_set(tl_metrics_series(c->f, v), 10 + i);
    }
}

/* A collector runs at every scrape; series it no longer sets (a shard
 * that went away) are hidden, and a family without a visible series
 * is left out entirely. */
static void
test_collector_hides(void **state)
{
    struct tl_metrics *reg;
    struct tl_buf b;
    static const char *const labels[] = {"shard"};

    (void)state;
    tl_metrics_create(&reg);
    tl_buf_init(&b);
    struct shard_collector c = {tl_metrics_family(reg, "talus_term", "Term.",
                                                  TL_METRIC_GAUGE, labels, 1,
                                                  NULL, 0),
                                2};
    tl_metrics_on_collect(reg, collect_shards, &c);
    assert_string_equal(render(reg, &b), "# HELP talus_term Term.\n"
                                         "# TYPE talus_term gauge\n"
                                         "talus_term{shard=\"0\"} 10\n"
                                         "talus_term{shard=\"1\"} 11\n");
    c.n_shards = 1;
    assert_string_equal(render(reg, &b), "# HELP talus_term Term.\n"
                                         "# TYPE talus_term gauge\n"
                                         "talus_term{shard=\"0\"} 10\n");
    c.n_shards = 0;
    assert_string_equal(render(reg, &b), "");
    tl_buf_close(&b);
    tl_metrics_destroy(reg);
}

#define N_THREADS 4
#define N_INCS 100000

struct hammer {
    struct tl_metric_series *c, *g, *h;
};

static void *
hammer_run(void *p)
{
    struct hammer *h = p;
    for (int i = 0; i < N_INCS; i++) {
        tl_metrics_inc(h->c, 1);
        tl_metrics_add(h->g, 1);
        tl_metrics_observe(h->h, 0.001);
    }
    return NULL;
}

/* Counters, gauge additions and histogram observations from several
 * threads at once lose no update. */
static void
test_concurrent_updates(void **state)
{
    struct tl_metrics *reg;
    struct hammer h;
    pthread_t t[N_THREADS];
    struct tl_buf b;
    char want[128];

    (void)state;
    tl_metrics_create(&reg);
    tl_buf_init(&b);
    h.c = tl_metrics_counter(reg, "c_total", "c");
    h.g = tl_metrics_gauge(reg, "g", "g");
    h.h = tl_metrics_histogram(reg, "h_seconds", "h", NULL, 0);
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer_run, &h), 0);
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(t[i], NULL);
    const char *out = render(reg, &b);
    snprintf(want, sizeof want, "\nc_total %d\n", N_THREADS * N_INCS);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, "\ng %d\n", N_THREADS * N_INCS);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, "\nh_seconds_count %d\n", N_THREADS * N_INCS);
    assert_non_null(strstr(out, want));
    tl_buf_close(&b);
    tl_metrics_destroy(reg);
}

/* GET @path from 127.0.0.1:@port over a plain socket; the whole answer
 * (status line, headers, body) in @out. */
static void
http_get(uint16_t port, const char *path, char *out, size_t len)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    char req[256];
    size_t got = 0;
    ssize_t n;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    snprintf(req, sizeof req,
             "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
             path);
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    while (got + 1 < len && (n = read(fd, out + got, len - 1 - got)) > 0)
        got += (size_t)n;
    out[got] = '\0';
    close(fd);
}

static bool ready_flag;

static bool
is_ready(void *data, char *reason, size_t len)
{
    (void)data;
    if (!ready_flag)
        snprintf(reason, len, "no leader for shard 2");
    return ready_flag;
}

/* The server answers /health with 200 ok, /ready with 503 and the
 * reason until the callback says ready and 200 after, and /metrics with
 * the registry and the process metrics in the 0.0.4 content type. */
static void
test_http_server(void **state)
{
    struct tl_metrics *reg;
    struct tl_admin *a;
    char err[256], out[65536];

    (void)state;
    tl_metrics_create(&reg);
    tl_metrics_inc(tl_metrics_counter(reg, "talus_test_total", "t"), 5);
    assert_int_equal(
        tl_admin_start("127.0.0.1:0", reg, is_ready, NULL, &a, err, sizeof err),
        0);
    assert_true(tl_admin_port(a) != 0);

    http_get(tl_admin_port(a), "/health", out, sizeof out);
    assert_non_null(strstr(out, "HTTP/1.1 200"));
    assert_non_null(strstr(out, "\r\n\r\nok\n"));

    ready_flag = false;
    http_get(tl_admin_port(a), "/ready", out, sizeof out);
    assert_non_null(strstr(out, "HTTP/1.1 503"));
    assert_non_null(strstr(out, "not ready: no leader for shard 2"));
    ready_flag = true;
    http_get(tl_admin_port(a), "/ready", out, sizeof out);
    assert_non_null(strstr(out, "HTTP/1.1 200"));

    http_get(tl_admin_port(a), "/metrics", out, sizeof out);
    assert_non_null(strstr(out, "HTTP/1.1 200"));
    assert_non_null(strstr(out, "text/plain; version=0.0.4"));
    assert_non_null(strstr(out, "\ntalus_test_total 5\n"));
    assert_non_null(strstr(out, "\nprocess_resident_memory_bytes "));
    assert_non_null(strstr(out, "\nprocess_open_fds "));
    assert_non_null(strstr(out, "\nprocess_start_time_seconds "));

    http_get(tl_admin_port(a), "/nothing", out, sizeof out);
    assert_non_null(strstr(out, "HTTP/1.1 404"));

    tl_admin_stop(a);
    tl_metrics_destroy(reg);
}

/* A malformed address is refused before anything listens. */
static void
test_http_bad_addr(void **state)
{
    struct tl_metrics *reg;
    struct tl_admin *a = NULL;
    char err[256];

    (void)state;
    tl_metrics_create(&reg);
    assert_int_not_equal(
        tl_admin_start("nonsense", reg, NULL, NULL, &a, err, sizeof err), 0);
    assert_null(a);
    assert_non_null(strstr(err, "host:port"));
    tl_metrics_destroy(reg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_counter_and_gauge),
        cmocka_unit_test(test_labels_and_escaping),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_format_value),
        cmocka_unit_test(test_collector_hides),
        cmocka_unit_test(test_concurrent_updates),
        cmocka_unit_test(test_http_server),
        cmocka_unit_test(test_http_bad_addr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
