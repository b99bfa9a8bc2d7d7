/* Failover as a SQL client sees it, on a 3-node cluster with 3 replicas
 * per shard: the router follows shard leaders, so autocommit statements
 * succeed through a leader kill, or fail with a retryable error (40001,
 * 08007, 08006) within the statement timeout; an acknowledged INSERT is
 * stored exactly once and a 40001 one not at all; without a quorum a
 * write fails clearly in time and works again once a node returns. */
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

#include <cmocka.h>

#include "common/base/sqlstate.h"
#include "harness.h"

#define N_SHARDS 3
#define N_WRITERS 4
#define MAX_PER_WRITER 200000
#define STATEMENT_TIMEOUT_S 10.0 /* the router's default retry budget */
/* What a statement may take beyond its deadline on a loaded machine (the
 * call in flight, scheduling): these bounds tell a timely error from a
 * hang, they do not measure speed (tests/bench does). */
#define SLACK_S 4.0

static struct th_cluster cluster;

static int
setup(void **state)
{
    struct th_options o = {.n_nodes = 3,
                           .n_shards = N_SHARDS,
                           .n_replicas = 3,
                           .request_timeout_ms = 3000};
    if (th_cluster_start(&cluster, &o) != 0)
        return -1;
    PGconn *c = th_connect(&cluster);
    bool ok = th_ok(c, "CREATE TABLE ev (id bigint, w int) "
                       "PARTITION BY HASH (id)");
    PQfinish(c);
    return ok ? 0 : -1;
}

static int
teardown(void **state)
{
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

/* Start every stopped node and wait until every shard has a leader. */
static void
restore_nodes(void)
{
    for (uint32_t id = 1; id <= cluster.cfg.n_nodes; id++)
        if (cluster.nodes[id - 1] <= 0)
            assert_int_equal(th_node_start(&cluster, id), 0);
    assert_int_equal(th_wait_ready(&cluster, 60), 0);
}

/* ---------------------------------------------------------------- writers */

enum outcome { NOT_SENT, ACKED, REFUSED, UNKNOWN };

struct writer {
    int index;
    _Atomic bool *stop;
    _Atomic long n_acked;
    long n_sent;
    unsigned char state[MAX_PER_WRITER]; /* enum outcome */
    double max_latency_s;
    int n_refused, n_unknown, n_broken, n_other;
    char other[256];
};

static long long
writer_id(int w, long i)
{
    return (long long)w * 10000000LL + i;
}

static void *
writer_main(void *arg)
{
    struct writer *w = arg;
    PGconn *c = th_connect(&cluster);
    char sql[128];
    while (!atomic_load(w->stop) && w->n_sent < MAX_PER_WRITER) {
        long i = w->n_sent++;
        snprintf(sql, sizeof(sql), "INSERT INTO ev VALUES (%lld, %d)",
                 writer_id(w->index, i), w->index);
        double t0 = th_now();
        PGresult *res = PQexec(c, sql);
        double dt = th_now() - t0;
        if (dt > w->max_latency_s)
            w->max_latency_s = dt;
        const char *ss = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (PQresultStatus(res) == PGRES_COMMAND_OK) {
            w->state[i] = ACKED;
            atomic_fetch_add(&w->n_acked, 1);
        } else if (ss != NULL &&
                   strcmp(ss, TL_SQLSTATE_T_R_SERIALIZATION_FAILURE) == 0) {
            w->state[i] = REFUSED;
            w->n_refused++;
        } else if (ss != NULL &&
                   strcmp(ss, TL_SQLSTATE_TRANSACTION_RESOLUTION_UNKNOWN) ==
                       0) {
            w->state[i] = UNKNOWN;
            w->n_unknown++;
        } else if ((ss != NULL &&
                    strcmp(ss, TL_SQLSTATE_CONNECTION_FAILURE) == 0) ||
                   PQstatus(c) != CONNECTION_OK) {
            w->state[i] = UNKNOWN;
            w->n_broken++;
        } else {
            w->state[i] = UNKNOWN;
            if (w->n_other++ == 0)
                snprintf(w->other, sizeof(w->other), "%s: %s",
                         ss != NULL ? ss : "?", PQerrorMessage(c));
        }
        PQclear(res);
        if (PQstatus(c) != CONNECTION_OK) {
            PQfinish(c);
            c = th_connect(&cluster);
        }
    }
    PQfinish(c);
    return NULL;
}

static long
total_acked(struct writer *ws)
{
    long n = 0;
    for (int k = 0; k < N_WRITERS; k++)
        n += atomic_load(&ws[k].n_acked);
    return n;
}

/* Wait until the writers acknowledged @n rows in all; false on timeout. */
static bool
wait_total(struct writer *ws, long n, double timeout_s)
{
    double end = th_now() + timeout_s;
    while (total_acked(ws) < n) {
        if (th_now() > end)
            return false;
        usleep(10000);
    }
    return true;
}

/* How many rows with id @id the table holds. */
static long long
count_id(PGconn *c, long long id)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM ev WHERE id = %lld", id);
    return th_scalar(c, sql);
}

/* Wait until node @id reports shard @shard with a leader and at least
 * @applied entries applied; false on timeout. */
static bool
wait_caught_up(uint32_t id, uint32_t shard, uint64_t applied, double timeout_s)
{
    double end = th_now() + timeout_s;
    Talus__ShardStatus ss;
    while (th_now() < end) {
        if (th_shard_status(&cluster, id, shard, &ss) && ss.leader_id != 0 &&
            ss.applied_index >= applied)
            return true;
        usleep(50000);
    }
    return false;
}

/* With 4 clients inserting through the router while the leader of shard 0
 * is killed with SIGKILL, every acknowledged INSERT is stored exactly once,
 * every 40001 one not at all, no statement outlives the statement
 * deadline, and the restarted node rejoins. */
static void
test_kill_leader_during_inserts(void **state)
{
    static struct writer ws[N_WRITERS];
    pthread_t th[N_WRITERS];
    _Atomic bool stop = false;
    uint32_t victim = th_wait_leader(&cluster, 0, 0, 30);
    assert_int_not_equal(victim, 0);
    memset(ws, 0, sizeof(ws));
    for (int k = 0; k < N_WRITERS; k++) {
        ws[k].index = k + 1;
        ws[k].stop = &stop;
        pthread_create(&th[k], NULL, writer_main, &ws[k]);
    }
    assert_true(wait_total(ws, 200, 60));
    long before = total_acked(ws);
    double t_kill = th_now();
    th_node_signal(&cluster, victim, SIGKILL);
    uint32_t leader = th_wait_leader(&cluster, 0, victim, 30);
    double t_elected = th_now();
    /* Writes flow again (on every shard, shard 0 included) after it. */
    bool flowing = wait_total(ws, before + 400, 60);
    double t_flowing = th_now();
    atomic_store(&stop, true);
    for (int k = 0; k < N_WRITERS; k++)
        pthread_join(th[k], NULL);
    assert_int_not_equal(leader, 0);
    assert_true(flowing);

    /* The restarted node rejoins and catches up with the new leader. */
    Talus__ShardStatus ls;
    assert_true(th_shard_status(&cluster, leader, 0, &ls));
    assert_int_equal(th_node_start(&cluster, victim), 0);
    assert_true(wait_caught_up(victim, 0, ls.applied_index, 60));

    /* How many times each (writer, i) is stored, from one full scan. */
    static unsigned char seen[N_WRITERS][MAX_PER_WRITER];
    memset(seen, 0, sizeof(seen));
    PGconn *c = th_connect(&cluster);
    PGresult *all = th_exec(c, "SELECT id FROM ev");
    assert_int_equal(PQresultStatus(all), PGRES_TUPLES_OK);
    long long n_rows = PQntuples(all);
    for (int r = 0; r < PQntuples(all); r++) {
        long long id = atoll(PQgetvalue(all, r, 0));
        int k = (int)(id / 10000000LL) - 1;
        long i = (long)(id % 10000000LL);
        assert_true(k >= 0 && k < N_WRITERS && i < MAX_PER_WRITER);
        if (seen[k][i] < 255)
            seen[k][i]++;
    }
    PQclear(all);
    long n_acked = 0, n_refused = 0, n_unknown = 0, n_present_unknown = 0;
    for (int k = 0; k < N_WRITERS; k++) {
        struct writer *w = &ws[k];
        fprintf(stderr,
                "writer %d: sent=%ld acked=%ld refused=%d unknown=%d "
                "broken=%d other=%d max_latency=%.3fs %s\n",
                w->index, w->n_sent, atomic_load(&w->n_acked), w->n_refused,
                w->n_unknown, w->n_broken, w->n_other, w->max_latency_s,
                w->other);
        assert_int_equal(w->n_other, 0);
        assert_true(w->max_latency_s < STATEMENT_TIMEOUT_S + SLACK_S);
        for (long i = 0; i < MAX_PER_WRITER; i++) {
            if (w->state[i] == ACKED) {
                n_acked++;
                assert_int_equal(seen[k][i], 1);
            } else if (w->state[i] == REFUSED) {
                n_refused++;
                assert_int_equal(seen[k][i], 0);
            } else if (w->state[i] == UNKNOWN) {
                n_unknown++;
                assert_true(seen[k][i] <= 1);
                n_present_unknown += seen[k][i];
            } else {
                assert_int_equal(seen[k][i], 0);
            }
        }
    }
    /* No duplicates anywhere: the table holds the acknowledged rows plus
     * the unknown ones that were applied, nothing else. */
    assert_int_equal(n_rows, n_acked + n_present_unknown);
    fprintf(stderr,
            "kill->elected %.3fs, kill->+400 acked %.3fs; acked=%ld "
            "refused=%ld unknown=%ld (applied %ld)\n",
            t_elected - t_kill, t_flowing - t_kill, n_acked, n_refused,
            n_unknown, n_present_unknown);
    assert_true(th_ok(c, "DELETE FROM ev"));
    PQfinish(c);
    restore_nodes();
}

/* ------------------------------------------------------------------ reads */

struct reader {
    _Atomic bool *stop;
    long long expect;
    _Atomic long n_ok;
    long n_failed, n_wrong;
    double max_latency_s;
    char first_error[256];
};

static void *
reader_main(void *arg)
{
    struct reader *r = arg;
    PGconn *c = th_connect(&cluster);
    while (!atomic_load(r->stop)) {
        double t0 = th_now();
        PGresult *res = PQexec(c, "SELECT count(*) FROM ev");
        double dt = th_now() - t0;
        if (dt > r->max_latency_s)
            r->max_latency_s = dt;
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
            if (atoll(PQgetvalue(res, 0, 0)) != r->expect)
                r->n_wrong++;
            atomic_fetch_add(&r->n_ok, 1);
        } else if (r->n_failed++ == 0) {
            snprintf(r->first_error, sizeof(r->first_error), "%s",
                     PQerrorMessage(c));
        }
        PQclear(res);
    }
    PQfinish(c);
    return NULL;
}

/* Reads of every shard keep succeeding, with the right answer, while the
 * leader of shard 0 is killed: the router moves them to the new leader
 * within the statement timeout. */
static void
test_reads_continue_through_leader_kill(void **state)
{
    static struct reader rd;
    pthread_t th;
    _Atomic bool stop = false;
    PGconn *c = th_connect(&cluster);
    assert_true(th_ok(c, "INSERT INTO ev VALUES (1, 0), (2, 0), (3, 0), "
                         "(4, 0), (5, 0), (6, 0), (7, 0), (8, 0)"));
    PQfinish(c);
    memset(&rd, 0, sizeof(rd));
    rd.stop = &stop;
    rd.expect = 8;
    pthread_create(&th, NULL, reader_main, &rd);
    double end = th_now() + 30;
    while (atomic_load(&rd.n_ok) < 20 && th_now() < end)
        usleep(10000);
    uint32_t victim = th_wait_leader(&cluster, 0, 0, 30);
    th_node_signal(&cluster, victim, SIGKILL);
    assert_int_not_equal(th_wait_leader(&cluster, 0, victim, 30), 0);
    long ok_at_election = atomic_load(&rd.n_ok);
    while (atomic_load(&rd.n_ok) < ok_at_election + 20 && th_now() < end + 30)
        usleep(10000);
    atomic_store(&stop, true);
    pthread_join(th, NULL);
    fprintf(stderr, "reads: ok=%ld failed=%ld wrong=%ld max_latency=%.3fs %s\n",
            atomic_load(&rd.n_ok), rd.n_failed, rd.n_wrong, rd.max_latency_s,
            rd.first_error);
    assert_true(atomic_load(&rd.n_ok) >= ok_at_election + 20);
    assert_int_equal(rd.n_wrong, 0);
    assert_int_equal(rd.n_failed, 0);
    assert_true(rd.max_latency_s < STATEMENT_TIMEOUT_S + SLACK_S);
    restore_nodes();
    c = th_connect(&cluster);
    assert_true(th_ok(c, "DELETE FROM ev"));
    PQfinish(c);
}

/* ---------------------------------------------------------------- quorum */

/* With two of three nodes stopped a write or a read fails with 40001,
 * 57014 or a class 08 error within its statement_timeout (2 s), and a
 * write succeeds again
 * once one node returns (a malformed statement_timeout is refused). */
static void
test_no_quorum_fails_in_time_then_recovers(void **state)
{
    PGconn *c = th_connect(&cluster);
    assert_string_equal(th_sqlstate(c, "SET statement_timeout = 'soon'"),
                        "22023");
    assert_true(th_ok(c, "SET statement_timeout = '2s'"));
    assert_true(th_ok(c, "INSERT INTO ev VALUES (100, 0)"));
    th_node_signal(&cluster, 2, SIGKILL);
    th_node_signal(&cluster, 3, SIGKILL);
    double t0 = th_now();
    PGresult *res = PQexec(c, "INSERT INTO ev VALUES (101, 0)");
    double dt = th_now() - t0;
    const char *ss = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    fprintf(stderr, "no quorum: %.3fs %s %s", dt, ss != NULL ? ss : "-",
            PQresultErrorMessage(res));
    assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
    assert_non_null(ss);
    assert_true(strcmp(ss, "40001") == 0 || strcmp(ss, "57014") == 0 ||
                strncmp(ss, "08", 2) == 0);
    assert_true(dt < 2.0 + SLACK_S); /* SET statement_timeout = '2s' */
    PQclear(res);
    /* The session stays usable and a read with no leader fails in time
     * too. */
    t0 = th_now();
    const char *rs = th_sqlstate(c, "SELECT count(*) FROM ev");
    assert_true(th_now() - t0 < 2.0 + SLACK_S);
    /* 57014 when the read reached a node that still believed it led (it
     * steps down only after an election timeout without its followers)
     * and the statement_timeout ran out there. */
    assert_true(strcmp(rs, "40001") == 0 || strcmp(rs, "57014") == 0 ||
                strncmp(rs, "08", 2) == 0);

    assert_int_equal(th_node_start(&cluster, 2), 0);
    double end = th_now() + 60;
    long long id = 0;
    char sql[96];
    for (long i = 0; id == 0 && th_now() < end; i++) {
        snprintf(sql, sizeof(sql), "INSERT INTO ev VALUES (%ld, 0)", 1000 + i);
        if (strcmp(th_sqlstate(c, sql), "") == 0)
            id = 1000 + i;
    }
    assert_int_not_equal(id, 0);
    /* One write succeeding shows its shard has a leader again; the others
     * may still be electing: wait for all before reading them. */
    assert_int_equal(th_wait_ready(&cluster, 60), 0);
    assert_int_equal(count_id(c, id), 1);
    assert_int_equal(count_id(c, 100), 1);
    PQfinish(c);
    restore_nodes();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_leader_during_inserts),
        cmocka_unit_test(test_reads_continue_through_leader_kill),
        cmocka_unit_test(test_no_quorum_fails_in_time_then_recovers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
