/* bench_router — load and latency benchmark of a running talus-router.
 *
 *   bench_router [-h host] [-p port] [-n rows] [-c connections]
 *                [-d seconds] [-t table]
 *
 * Creates a hash-sharded table (dropping it first), loads -n rows with
 * multi-row INSERTs of 500 rows, then runs two phases of -d seconds on -c
 * connections (one thread and one libpq connection each, simple protocol):
 * point selects by primary key, and single-row inserts of new ids. Every
 * result is checked (a point select must return exactly its row). Prints
 * one line per phase:
 *
 *   load rows=10000 seconds=1.23 rows_per_s=8130
 *   point_select conns=8 ops=... ops_per_s=... p50_ms=... p99_ms=...
 *       errors=0
 *
 * Exits 0 when no operation failed, 1 when some did, 2 on bad usage or a
 * failed setup. */
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOAD_BATCH 500
#define MAX_REPORTED_ERRORS 5

enum phase { PHASE_POINT_SELECT, PHASE_INDEX_SELECT, PHASE_INSERT };

struct options {
    const char *host;
    const char *port;
    const char *table;
    long rows;
    int conns;
    double seconds;
    bool index; /* -i: a secondary index on v, and the index_select phase */
};

/* Per-thread state of a phase; latencies are in nanoseconds. */
struct worker {
    const struct options *o;
    enum phase phase;
    int index;
    PGconn *conn;
    pthread_barrier_t *start;
    double deadline;
    uint64_t *lat;
    size_t n_lat;
    size_t cap_lat;
    uint64_t errors;
    uint64_t rng;
};

static atomic_int n_reported_errors;

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: per-thread, no locks. */
static uint64_t
next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static void
report_error(const char *what, const char *detail)
{
    if (atomic_fetch_add(&n_reported_errors, 1) < MAX_REPORTED_ERRORS)
        fprintf(stderr, "bench_router: %s: %s\n", what, detail);
}

static PGconn *
connect_db(const struct options *o)
{
    const char *keys[] = {
        "host", "port", "user", "dbname", "connect_timeout", "application_name",
        NULL};
    const char *vals[] = {o->host, o->port,        "bench", "bench",
                          "10",    "bench_router", NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 0);

    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "bench_router: connect %s:%s: %s", o->host, o->port,
                PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* Run @sql expecting @want; false (reported) otherwise. */
static bool
exec_ok(PGconn *c, const char *sql, ExecStatusType want)
{
    PGresult *r = PQexec(c, sql);
    bool ok = PQresultStatus(r) == want;

    if (!ok)
        fprintf(stderr, "bench_router: %.80s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return ok;
}

static int
load_table(const struct options *o)
{
    PGconn *c = connect_db(o);
    char sql[256];
    char *buf = NULL;
    size_t cap = 0;
    double t0, dt;
    int rv = -1;

    if (c == NULL)
        return -1;
    snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s", o->table);
    if (!exec_ok(c, sql, PGRES_COMMAND_OK))
        goto out;
    snprintf(sql, sizeof(sql),
             "CREATE TABLE %s (id bigint PRIMARY KEY, v text, n integer) "
             "PARTITION BY HASH (id)",
             o->table);
    if (!exec_ok(c, sql, PGRES_COMMAND_OK))
        goto out;
    snprintf(sql, sizeof(sql), "CREATE INDEX ON %s (v)", o->table);
    if (o->index && !exec_ok(c, sql, PGRES_COMMAND_OK))
        goto out;

    cap = 128 + (size_t)LOAD_BATCH * 64;
    buf = malloc(cap);
    if (buf == NULL)
        goto out;
    t0 = now_s();
    for (long first = 1; first <= o->rows; first += LOAD_BATCH) {
        long last = first + LOAD_BATCH - 1;
        size_t len;
        PGresult *r;
        char want[32];

        if (last > o->rows)
            last = o->rows;
        len = (size_t)snprintf(buf, cap, "INSERT INTO %s (id, v, n) VALUES ",
                               o->table);
        for (long id = first; id <= last; id++)
            len += (size_t)snprintf(buf + len, cap - len,
                                    "%s(%ld, 'value-%ld', %ld)",
                                    id == first ? "" : ", ", id, id, id % 1000);
        r = PQexec(c, buf);
        snprintf(want, sizeof(want), "%ld", last - first + 1);
        if (PQresultStatus(r) != PGRES_COMMAND_OK ||
            strcmp(PQcmdTuples(r), want) != 0) {
            fprintf(stderr, "bench_router: load rows %ld..%ld: %s", first, last,
                    PQresultStatus(r) == PGRES_COMMAND_OK ? "wrong row count\n"
                                                          : PQerrorMessage(c));
            PQclear(r);
            goto out;
        }
        PQclear(r);
    }
    dt = now_s() - t0;
    printf("load rows=%ld seconds=%.2f rows_per_s=%.0f\n", o->rows, dt,
           dt > 0 ? (double)o->rows / dt : 0.0);
    fflush(stdout);
    rv = 0;
out:
    free(buf);
    PQfinish(c);
    return rv;
}

static void
record(struct worker *w, uint64_t ns)
{
    if (w->n_lat == w->cap_lat) {
        size_t cap = w->cap_lat ? w->cap_lat * 2 : 4096;
        uint64_t *p = realloc(w->lat, cap * sizeof(*p));

        if (p == NULL)
            abort();
        w->lat = p;
        w->cap_lat = cap;
    }
    w->lat[w->n_lat++] = ns;
}

/* One point select of a random loaded id; true when exactly that row
 * came back. */
static bool
do_point_select(struct worker *w)
{
    long id = 1 + (long)(next_random(&w->rng) % (uint64_t)w->o->rows);
    char sql[160], want[32];
    PGresult *r;
    bool ok;

    snprintf(sql, sizeof(sql), "SELECT * FROM %s WHERE id = %ld", w->o->table,
             id);
    snprintf(want, sizeof(want), "%ld", id);
    r = PQexec(w->conn, sql);
    ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
         PQnfields(r) == 3 && strcmp(PQgetvalue(r, 0, 0), want) == 0;
    if (!ok)
        report_error("point_select", PQresultStatus(r) == PGRES_TUPLES_OK
                                         ? "expected exactly the selected row"
                                         : PQerrorMessage(w->conn));
    PQclear(r);
    return ok;
}

/* A select through the secondary index on v (-i): the row came back. */
static bool
do_index_select(struct worker *w)
{
    long id = 1 + (long)(next_random(&w->rng) % (uint64_t)w->o->rows);
    char sql[160], want[32];
    PGresult *r;
    bool ok;

    snprintf(sql, sizeof(sql), "SELECT * FROM %s WHERE v = 'value-%ld'",
             w->o->table, id);
    snprintf(want, sizeof(want), "%ld", id);
    r = PQexec(w->conn, sql);
    ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
         strcmp(PQgetvalue(r, 0, 0), want) == 0;
    if (!ok)
        report_error("index_select", PQresultStatus(r) == PGRES_TUPLES_OK
                                         ? "expected exactly the selected row"
                                         : PQerrorMessage(w->conn));
    PQclear(r);
    return ok;
}

/* One single-row insert of an id no other thread uses: ids above the
 * loaded ones, striped by thread. */
static bool
do_insert(struct worker *w, uint64_t k)
{
    long id = w->o->rows + 1 + w->index + (long)k * w->o->conns;
    char sql[160];
    PGresult *r;
    bool ok;

    snprintf(sql, sizeof(sql),
             "INSERT INTO %s (id, v, n) VALUES (%ld, 'new-%ld', %d)",
             w->o->table, id, id, w->index);
    r = PQexec(w->conn, sql);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK &&
         strcmp(PQcmdTuples(r), "1") == 0;
    if (!ok)
        report_error("insert", PQresultStatus(r) == PGRES_COMMAND_OK
                                   ? "expected 1 row inserted"
                                   : PQerrorMessage(w->conn));
    PQclear(r);
    return ok;
}

static void *
run_worker(void *p)
{
    struct worker *w = p;

    pthread_barrier_wait(w->start);
    w->deadline = now_s() + w->o->seconds;
    for (uint64_t k = 0; now_s() < w->deadline; k++) {
        uint64_t t0 = now_ns();
        bool ok = w->phase == PHASE_POINT_SELECT   ? do_point_select(w)
                  : w->phase == PHASE_INDEX_SELECT ? do_index_select(w)
                                                   : do_insert(w, k);

        record(w, now_ns() - t0);
        if (!ok) {
            w->errors++;
            /* A dead connection fails instantly: stop rather than spin. */
            if (PQstatus(w->conn) != CONNECTION_OK)
                break;
        }
    }
    return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

static double
percentile_ms(const uint64_t *sorted, size_t n, int pct)
{
    if (n == 0)
        return 0.0;
    return (double)sorted[(n - 1) * (size_t)pct / 100] / 1e6;
}

/* Run @phase on o->conns connections for o->seconds and print its line.
 * Returns the number of failed operations, or -1 if setup failed. */
static long
run_phase(const struct options *o, enum phase phase, const char *name)
{
    struct worker *ws = calloc((size_t)o->conns, sizeof(*ws));
    pthread_t *ts = calloc((size_t)o->conns, sizeof(*ts));
    pthread_barrier_t start;
    uint64_t *all = NULL;
    size_t n_all = 0;
    uint64_t errors = 0;
    double t0, dt;
    long rv = -1;
    int started = 0;

    if (ws == NULL || ts == NULL)
        goto out;
    for (int i = 0; i < o->conns; i++) {
        ws[i].o = o;
        ws[i].phase = phase;
        ws[i].index = i;
        ws[i].start = &start;
        ws[i].rng =
            0x9e3779b97f4a7c15ull * (uint64_t)(i + 1) ^ (uint64_t)now_ns();
        ws[i].conn = connect_db(o);
        if (ws[i].conn == NULL)
            goto out;
    }
    pthread_barrier_init(&start, NULL, (unsigned)o->conns + 1);
    for (; started < o->conns; started++)
        if (pthread_create(&ts[started], NULL, run_worker, &ws[started]) != 0)
            abort(); /* the barrier would never open */
    pthread_barrier_wait(&start);
    t0 = now_s();
    for (int i = 0; i < started; i++)
        pthread_join(ts[i], NULL);
    dt = now_s() - t0;
    pthread_barrier_destroy(&start);

    for (int i = 0; i < o->conns; i++)
        n_all += ws[i].n_lat;
    all = malloc((n_all ? n_all : 1) * sizeof(*all));
    if (all == NULL)
        goto out;
    n_all = 0;
    for (int i = 0; i < o->conns; i++) {
        memcpy(all + n_all, ws[i].lat, ws[i].n_lat * sizeof(*all));
        n_all += ws[i].n_lat;
        errors += ws[i].errors;
    }
    qsort(all, n_all, sizeof(*all), cmp_u64);
    printf("%s conns=%d ops=%zu ops_per_s=%.0f p50_ms=%.3f p99_ms=%.3f "
           "errors=%" PRIu64 "\n",
           name, o->conns, n_all, dt > 0 ? (double)n_all / dt : 0.0,
           percentile_ms(all, n_all, 50), percentile_ms(all, n_all, 99),
           errors);
    fflush(stdout);
    rv = (long)errors;
out:
    for (int i = 0; ws != NULL && i < o->conns; i++) {
        if (ws[i].conn != NULL)
            PQfinish(ws[i].conn);
        free(ws[i].lat);
    }
    free(all);
    free(ws);
    free(ts);
    return rv;
}

static void
usage(void)
{
    fprintf(stderr, "usage: bench_router [-h host] [-p port] [-n rows] "
                    "[-c connections] [-d seconds] [-t table] [-i]\n");
}

/* A table name goes into SQL text unquoted: allow identifiers only. */
static bool
is_identifier(const char *s)
{
    if (*s == '\0' || strlen(s) > 63 || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

int
main(int argc, char **argv)
{
    struct options o = {
        .host = "127.0.0.1",
        .port = "5433",
        .table = "bench_kv",
        .rows = 10000,
        .conns = 8,
        .seconds = 5,
    };
    long e1, e2;
    int opt;

    while ((opt = getopt(argc, argv, "h:p:n:c:d:t:i")) != -1) {
        switch (opt) {
        case 'h':
            o.host = optarg;
            break;
        case 'p':
            o.port = optarg;
            break;
        case 'n':
            o.rows = atol(optarg);
            break;
        case 'c':
            o.conns = atoi(optarg);
            break;
        case 'd':
            o.seconds = atof(optarg);
            break;
        case 't':
            o.table = optarg;
            break;
        case 'i':
            o.index = true;
            break;
        default:
            usage();
            return 2;
        }
    }
    if (optind != argc || o.rows < 1 || o.conns < 1 || o.conns > 10000 ||
        o.seconds <= 0 || !is_identifier(o.table)) {
        usage();
        return 2;
    }

    if (load_table(&o) != 0)
        return 2;
    e1 = run_phase(&o, PHASE_POINT_SELECT, "point_select");
    if (e1 < 0)
        return 2;
    if (o.index) {
        long e = run_phase(&o, PHASE_INDEX_SELECT, "index_select");
        if (e < 0)
            return 2;
        e1 += e;
    }
    e2 = run_phase(&o, PHASE_INSERT, "insert");
    if (e2 < 0)
        return 2;
    return e1 + e2 > 0 ? 1 : 0;
}
