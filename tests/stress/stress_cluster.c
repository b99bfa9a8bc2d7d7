/* Stress runs that hunt crashes on a 3-node cluster with 3 replicas per
 * shard, through the router as a SQL client sees it: two followers frozen
 * (SIGSTOP) under read and write load, again and again; a leadership
 * transfer every 100 ms under writes; a full-table UPDATE; kill -9 and
 * restart of a node during large INSERTs. Every run asserts that no
 * process died but those the test killed, that every acknowledged write is
 * stored exactly once and no write is ever stored twice, and that every
 * statement ended with success or a clear PostgreSQL error (a retryable
 * 40001 / 08xxx / 57014, or 54000 for a statement over max_entry_bytes).
 *
 * `make test` runs them short; `make stress` (TALUS_STRESS=long) runs
 * more rounds, longer, and the UPDATE over 1,000,000 rows. */
#include <libpq-fe.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/base/sqlstate.h"
#include "harness.h"

#define N_SHARDS 6
#define N_READERS 16
#define N_WRITERS 4
#define MAX_PER_WRITER 100000
#define INSERT_BATCH 2000

static bool
long_run(void)
{
    const char *s = getenv("TALUS_STRESS");
    return s != NULL && strcmp(s, "long") == 0;
}

static void
start_cluster_timeout(struct th_cluster *c, const char *extra_conf,
                      uint32_t request_timeout_ms)
{
    struct th_options o = {.n_nodes = 3,
                           .n_shards = N_SHARDS,
                           .n_replicas = 3,
                           .request_timeout_ms = request_timeout_ms,
                           .extra_conf = extra_conf};
    assert_int_equal(th_cluster_start(c, &o), 0);
}

static void
start_cluster(struct th_cluster *c, const char *extra_conf)
{
    start_cluster_timeout(c, extra_conf, 5000);
}

static void
stop_cluster(struct th_cluster *c)
{
    assert_int_equal(th_cluster_stop(c), 0); /* no process died */
}

/* Whether @state is a clear answer for a statement that did not succeed:
 * retry later (40001, 57014, class 08) or too large (54000). */
static bool
clear_error(const char *state)
{
    return strcmp(state, TL_SQLSTATE_T_R_SERIALIZATION_FAILURE) == 0 ||
           strcmp(state, TL_SQLSTATE_QUERY_CANCELED) == 0 ||
           strcmp(state, TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED) == 0 ||
           strncmp(state, "08", 2) == 0;
}

/* ------------------------------------------------------------- load */

enum outcome { NOT_SENT, ACKED, FAILED };

struct load {
    struct th_cluster *c;
    _Atomic bool stop;
    _Atomic long n_ok, n_err;
    _Atomic int n_unclear; /* statements that ended without a clear answer */
    char unclear[256];     /* the first such, for the report */
    pthread_mutex_t mu;
};

struct writer {
    struct load *l;
    int index;
    long n_sent;
    unsigned char state[MAX_PER_WRITER]; /* enum outcome per row */
};

static void
note_unclear(struct load *l, const char *what, const char *msg)
{
    pthread_mutex_lock(&l->mu);
    if (atomic_fetch_add(&l->n_unclear, 1) == 0)
        snprintf(l->unclear, sizeof l->unclear, "%s: %s", what, msg);
    pthread_mutex_unlock(&l->mu);
}

/* Run @sql on *@conn; true on success. Failures must be clear errors; a
 * broken connection is reopened (and counts as unclear: the router must
 * answer, never hang up). */
static bool
run_stmt(struct load *l, PGconn **conn, const char *sql)
{
    PGresult *r = PQexec(*conn, sql);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

    if (ok) {
        atomic_fetch_add(&l->n_ok, 1);
    } else {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        atomic_fetch_add(&l->n_err, 1);
        if (state == NULL || !clear_error(state))
            note_unclear(l, state != NULL ? state : "no sqlstate",
                         PQerrorMessage(*conn));
    }
    PQclear(r);
    if (PQstatus(*conn) != CONNECTION_OK) {
        note_unclear(l, "connection", "the router closed the connection");
        PQfinish(*conn);
        *conn = th_connect(l->c);
    }
    return ok;
}

static void *
writer_main(void *arg)
{
    struct writer *w = arg;
    PGconn *conn = th_connect(w->l->c);
    char sql[128];

    while (!atomic_load(&w->l->stop) && w->n_sent < MAX_PER_WRITER) {
        long id = (long)w->index * MAX_PER_WRITER + w->n_sent;
        snprintf(sql, sizeof sql, "INSERT INTO ev VALUES (%ld, %d)", id,
                 w->index);
        w->state[w->n_sent] = run_stmt(w->l, &conn, sql) ? ACKED : FAILED;
        w->n_sent++;
    }
    PQfinish(conn);
    return NULL;
}

static void *
reader_main(void *arg)
{
    struct load *l = arg;
    PGconn *conn = th_connect(l->c);
    char sql[96];
    unsigned seed = (unsigned)(uintptr_t)&sql;

    while (!atomic_load(&l->stop)) {
        snprintf(sql, sizeof sql, "SELECT w FROM ev WHERE id = %ld",
                 (long)(rand_r(&seed) % (N_WRITERS * 1000)));
        run_stmt(l, &conn, sql);
    }
    PQfinish(conn);
    return NULL;
}

struct running {
    struct load l;
    struct writer *w;
    pthread_t wt[N_WRITERS], rt[N_READERS];
    int n_readers;
};

static struct running *
load_start(struct th_cluster *c, int n_readers)
{
    struct running *r = calloc(1, sizeof *r);
    r->l.c = c;
    pthread_mutex_init(&r->l.mu, NULL);
    r->w = calloc(N_WRITERS, sizeof *r->w);
    r->n_readers = n_readers;
    for (int i = 0; i < N_WRITERS; i++) {
        r->w[i].l = &r->l;
        r->w[i].index = i;
        assert_int_equal(pthread_create(&r->wt[i], NULL, writer_main, &r->w[i]),
                         0);
    }
    for (int i = 0; i < n_readers; i++)
        assert_int_equal(pthread_create(&r->rt[i], NULL, reader_main, &r->l),
                         0);
    return r;
}

/* Stop the load, then check what it stored against what was answered. */
static void
load_stop_and_check(struct running *r)
{
    PGconn *conn;
    PGresult *res;
    long n_acked = 0, n_seen = 0;
    unsigned char *seen;

    atomic_store(&r->l.stop, true);
    for (int i = 0; i < N_WRITERS; i++)
        pthread_join(r->wt[i], NULL);
    for (int i = 0; i < r->n_readers; i++)
        pthread_join(r->rt[i], NULL);
    assert_int_equal(th_wait_ready(r->l.c, 60), 0);

    conn = th_connect(r->l.c);
    res = th_exec(conn, "SELECT id FROM ev");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    seen = calloc((size_t)N_WRITERS * MAX_PER_WRITER, 1);
    for (int i = 0; i < PQntuples(res); i++) {
        long id = atol(PQgetvalue(res, i, 0));
        assert_true(id >= 0 && id < (long)N_WRITERS * MAX_PER_WRITER);
        assert_int_equal(seen[id], 0); /* never stored twice */
        seen[id] = 1;
        n_seen++;
    }
    PQclear(res);
    for (int i = 0; i < N_WRITERS; i++)
        for (long k = 0; k < r->w[i].n_sent; k++)
            if (r->w[i].state[k] == ACKED) {
                n_acked++;
                if (!seen[(long)i * MAX_PER_WRITER + k])
                    fail_msg("acknowledged INSERT of id %ld lost",
                             (long)i * MAX_PER_WRITER + k);
            }
    printf("# statements ok=%ld err=%ld; rows acknowledged=%ld stored=%ld\n",
           atomic_load(&r->l.n_ok), atomic_load(&r->l.n_err), n_acked, n_seen);
    if (atomic_load(&r->l.n_unclear) > 0)
        fail_msg("%d statements ended without a clear error; first: %s",
                 atomic_load(&r->l.n_unclear), r->l.unclear);
    assert_true(n_acked > 0);
    th_ok(conn, "DELETE FROM ev");
    PQfinish(conn);
    free(seen);
    pthread_mutex_destroy(&r->l.mu);
    free(r->w);
    free(r);
}

static void
create_ev(struct th_cluster *c)
{
    PGconn *conn = th_connect(c);
    assert_true(th_ok(conn, "CREATE TABLE ev (id bigint PRIMARY KEY, w int) "
                            "PARTITION BY HASH (id)"));
    PQfinish(conn);
}

/* Run the load for @s seconds (the load's length, not a wait for a state:
 * nothing to poll). */
static void
run_for(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* ------------------------------------------------------------- tests */

/* Two followers of shard 0's leader are frozen for 3.5 s (every group
 * loses its majority: leaders step down with reads queued), then thawed,
 * while 16 readers and 4 writers run; repeated. */
static void
test_freeze_two_followers(void **state)
{
    struct th_cluster c;
    int rounds = long_run() ? 6 : 2;

    start_cluster(&c, NULL);
    create_ev(&c);
    struct running *r = load_start(&c, N_READERS);
    for (int i = 0; i < rounds; i++) {
        uint32_t leader = th_wait_leader(&c, 0, 0, 30);
        assert_true(leader != 0);
        run_for(1.0);
        for (uint32_t id = 1; id <= 3; id++)
            if (id != leader)
                th_node_signal(&c, id, SIGSTOP);
        run_for(3.5);
        for (uint32_t id = 1; id <= 3; id++)
            if (id != leader)
                th_node_signal(&c, id, SIGCONT);
        assert_int_equal(th_wait_ready(&c, 60), 0);
        printf("# freeze round %d done (leader of shard 0: node %u)\n", i + 1,
               leader);
    }
    load_stop_and_check(r);
    stop_cluster(&c);
}

/* Leadership of every shard moves every 100 ms (TRANSFER_LEADER to its
 * leader) while 4 writers insert. */
static void
test_leadership_churn(void **state)
{
    struct th_cluster c;
    double until, secs = long_run() ? 30 : 6;
    unsigned n_moves = 0;

    start_cluster(&c, NULL);
    create_ev(&c);
    struct running *r = load_start(&c, 2);
    until = th_now() + secs;
    for (uint32_t k = 0; th_now() < until; k++) {
        uint32_t shard = k % N_SHARDS;
        uint32_t leader = th_shard_leader(&c, shard);
        Talus__MembershipRequest m = TALUS__MEMBERSHIP_REQUEST__INIT;
        Talus__Request req = TALUS__REQUEST__INIT;
        Talus__Response *resp = NULL;

        if (leader != 0) {
            m.op = TALUS__MEMBERSHIP_REQUEST__OP__TRANSFER_LEADER;
            m.shard = shard;
            m.node_id = leader % 3 + 1;
            m.has_timeout_ms = true;
            m.timeout_ms = 2000;
            req.request_id = k + 1;
            req.body_case = TALUS__REQUEST__BODY_MEMBERSHIP;
            req.membership = &m;
            if (th_node_call(&c, leader, &req, 3000, &resp) == 0) {
                n_moves += resp->error == NULL;
                talus__response__free_unpacked(resp, NULL);
            }
        }
        run_for(0.1);
    }
    printf("# leadership moved %u times in %.0f s\n", n_moves, secs);
    assert_true(n_moves > 0);
    load_stop_and_check(r);
    stop_cluster(&c);
}

/* The shards' terms, as their leaders report them (0: no leader). */
static void
read_terms(struct th_cluster *c, uint64_t *terms)
{
    for (uint32_t s = 0; s < N_SHARDS; s++) {
        Talus__ShardStatus st;
        uint32_t l = th_shard_leader(c, s);
        terms[s] = l != 0 && th_shard_status(c, l, s, &st) ? st.term : 0;
    }
}

/* Load @n rows into big in INSERTs of INSERT_BATCH rows. */
static void
load_big(PGconn *conn, long n)
{
    size_t cap = (size_t)INSERT_BATCH * 48 + 64;
    char *sql = malloc(cap);
    for (long b = 0; b < n; b += INSERT_BATCH) {
        size_t off = (size_t)snprintf(sql, cap, "INSERT INTO big VALUES ");
        for (long i = b; i < b + INSERT_BATCH && i < n; i++)
            off += (size_t)snprintf(sql + off, cap - off, "%s(%ld, %ld, 'x')",
                                    i == b ? "" : ",", i, i);
        assert_true(th_ok(conn, sql));
    }
    free(sql);
}

/* A full-table UPDATE: 200,000 rows (1,000,000 in the long run, with
 * max_entry_bytes raised so that it fits) succeeds, changes every row
 * once, and leaves every process running; then one too large for
 * max_entry_bytes fails with 54000 and changes nothing. */
static void
test_full_table_update(void **state)
{
    struct th_cluster c;
    long n = long_run() ? 1000000 : 200000;
    uint64_t before[N_SHARDS], after[N_SHARDS];
    double t0;
    PGconn *conn;
    PGresult *r;

    /* The long run's shards each scan and rewrite about 167,000 rows for
     * one UPDATE, which takes a sanitizer build on a busy 2-core machine
     * longer than the default 5 s a node may spend on one request. */
    if (long_run())
        start_cluster_timeout(&c, "max_entry_bytes = 33554432", 30000);
    else
        start_cluster(&c, NULL);
    conn = th_connect(&c);
    assert_true(th_ok(conn, "CREATE TABLE big (id bigint PRIMARY KEY, v "
                            "bigint, pad text) PARTITION BY HASH (id)"));
    load_big(conn, n);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM big"), n);
    read_terms(&c, before);
    t0 = th_now();
    r = th_exec(conn, "UPDATE big SET v = v + 1");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    assert_int_equal(atol(PQcmdTuples(r)), n);
    PQclear(r);
    printf("# UPDATE of %ld rows: %.2f s\n", n, th_now() - t0);
    read_terms(&c, after);
    for (uint32_t s = 0; s < N_SHARDS; s++)
        printf("# shard %u term %llu -> %llu\n", s,
               (unsigned long long)before[s], (unsigned long long)after[s]);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM big WHERE v = id "
                                     "+ 1"),
                     n);
    /* Widen the rows until every shard's write exceeds max_entry_bytes. */
    {
        char sql[1024];
        int w = long_run() ? 300 : 600;
        int off = snprintf(sql, sizeof sql, "UPDATE big SET pad = '");
        memset(sql + off, 'y', (size_t)w);
        snprintf(sql + off + w, sizeof sql - (size_t)(off + w), "'");
        r = th_exec(conn, sql);
    }
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "54000");
    PQclear(r);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM big WHERE pad = "
                                     "'x'"),
                     n);
    PQfinish(conn);
    stop_cluster(&c);
}

struct bulk {
    struct th_cluster *c;
    _Atomic bool stop;
    long n_batches;
    unsigned char state[4096]; /* enum outcome per batch */
    _Atomic int n_unclear;
    char unclear[256];
};

static void *
bulk_main(void *arg)
{
    struct bulk *b = arg;
    PGconn *conn = th_connect(b->c);
    size_t cap = (size_t)INSERT_BATCH * 32 + 64;
    char *sql = malloc(cap);

    while (!atomic_load(&b->stop) && b->n_batches < 4096) {
        long base = b->n_batches * INSERT_BATCH;
        size_t off = (size_t)snprintf(sql, cap, "INSERT INTO ev VALUES ");
        for (long i = 0; i < INSERT_BATCH; i++)
            off += (size_t)snprintf(sql + off, cap - off, "%s(%ld, 0)",
                                    i ? "," : "", base + i);
        PGresult *r = PQexec(conn, sql);
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (!ok && (st == NULL || !clear_error(st)) &&
            atomic_fetch_add(&b->n_unclear, 1) == 0)
            snprintf(b->unclear, sizeof b->unclear, "%s: %s", st ? st : "none",
                     PQerrorMessage(conn));
        PQclear(r);
        if (PQstatus(conn) != CONNECTION_OK) {
            atomic_fetch_add(&b->n_unclear, 1);
            PQfinish(conn);
            conn = th_connect(b->c);
        }
        b->state[b->n_batches++] = ok ? ACKED : FAILED;
    }
    free(sql);
    PQfinish(conn);
    return NULL;
}

/* A node is killed (-9) and restarted while INSERTs of 2,000 rows run;
 * every acknowledged INSERT is stored whole, and no row twice. */
static void
test_kill_during_large_inserts(void **state)
{
    struct th_cluster c;
    struct bulk *b = calloc(1, sizeof *b);
    int rounds = long_run() ? 4 : 2;
    pthread_t t;
    PGconn *conn;
    PGresult *r;
    long n_acked = 0;

    start_cluster(&c, NULL);
    create_ev(&c);
    b->c = &c;
    assert_int_equal(pthread_create(&t, NULL, bulk_main, b), 0);
    for (int i = 0; i < rounds; i++) {
        uint32_t victim = (uint32_t)(i % 3) + 1;
        run_for(1.5);
        th_node_signal(&c, victim, SIGKILL);
        run_for(1.5);
        assert_int_equal(th_node_start(&c, victim), 0);
        assert_int_equal(th_wait_ready(&c, 60), 0);
    }
    atomic_store(&b->stop, true);
    pthread_join(t, NULL);
    assert_int_equal(th_wait_ready(&c, 60), 0);
    conn = th_connect(&c);
    r = th_exec(conn, "SELECT id FROM ev");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    long *per = calloc((size_t)b->n_batches + 1, sizeof *per);
    unsigned char *seen = calloc((size_t)b->n_batches * INSERT_BATCH + 1, 1);
    for (int i = 0; i < PQntuples(r); i++) {
        long id = atol(PQgetvalue(r, i, 0));
        assert_true(id >= 0 && id < b->n_batches * INSERT_BATCH);
        assert_int_equal(seen[id], 0); /* never stored twice */
        seen[id] = 1;
        per[id / INSERT_BATCH]++;
    }
    PQclear(r);
    for (long k = 0; k < b->n_batches; k++)
        if (b->state[k] == ACKED) {
            n_acked++;
            if (per[k] != INSERT_BATCH)
                fail_msg("acknowledged INSERT %ld stored %ld of %d rows", k,
                         per[k], INSERT_BATCH);
        }
    free(per);
    free(seen);
    printf("# %ld INSERTs of %d rows, %ld acknowledged\n", b->n_batches,
           INSERT_BATCH, n_acked);
    if (atomic_load(&b->n_unclear) > 0)
        fail_msg("%d INSERTs ended without a clear error; first: %s",
                 atomic_load(&b->n_unclear), b->unclear);
    assert_true(n_acked > 0);
    PQfinish(conn);
    free(b);
    stop_cluster(&c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_freeze_two_followers),
        cmocka_unit_test(test_leadership_churn),
        cmocka_unit_test(test_full_table_update),
        cmocka_unit_test(test_kill_during_large_inserts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
