/* Failover on a 3-node RF=3 cluster, through direct node RPC with a
 * leader-following writer: kill -9 of a leader during a stream of inserts
 * loses no acknowledged row and duplicates none; the restarted node
 * catches up and leads again after `shardctl leader transfer`; with two
 * of three nodes down writes fail with a clear error within the request
 * timeout and succeed once a node returns. */
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

#include "harness.h"
#include "repl_util.h"

#define N_SHARDS 3
#define MAX_KEYS 100000

static struct th_cluster cluster;
static struct ru_table table;

static int
setup(void **state)
{
    struct th_options o = {.n_nodes = 3,
                           .n_shards = N_SHARDS,
                           .n_replicas = 3,
                           .request_timeout_ms = 3000,
                           .no_router = true};
    ru_table_init(&table);
    return th_cluster_start(&cluster, &o);
}

static int
teardown(void **state)
{
    ru_table_close(&table);
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

struct stream {
    uint32_t shard;
    _Atomic bool stop;
    _Atomic long n_acked;
    long next_key;
    unsigned char state[MAX_KEYS]; /* 0 not sent, 1 acked, 2 unknown */
    int n_sql_errors;
};

static void *
stream_main(void *arg)
{
    struct stream *st = arg;
    struct ru_writer w = {&cluster, &table, st->shard, 0, "", 0, 500};
    while (!atomic_load(&st->stop) && st->next_key < MAX_KEYS) {
        long k = st->next_key++;
        int rv = ru_write(&w, k, k * 3, 10);
        if (rv == 0) {
            st->state[k] = 1;
            atomic_fetch_add(&st->n_acked, 1);
        } else if (rv == -1) {
            st->state[k] = 2;
            fprintf(stderr, "key %ld: outcome unknown: %s\n", k, w.last_error);
        } else {
            st->n_sql_errors++;
            fprintf(stderr, "key %ld: %s\n", k, w.last_error);
        }
    }
    return NULL;
}

static void
wait_acked(struct stream *st, long n, double timeout_s)
{
    double deadline = th_now() + timeout_s;
    while (atomic_load(&st->n_acked) < n && th_now() < deadline)
        usleep(10 * 1000);
    assert_true(atomic_load(&st->n_acked) >= n);
}

/* Every acknowledged key is in the leader's scan exactly once with its
 * value; keys never sent are absent. */
static void
check_stream(struct stream *st, uint32_t node)
{
    int64_t *ks, *vs;
    long n = ru_scan_all(&cluster, &table, node, st->shard, &ks, &vs);
    long j = 0, n_acked = 0;
    assert_true(n >= 0);
    for (long i = 1; i < n; i++)
        assert_true(ks[i] > ks[i - 1]); /* exactly once */
    for (long k = 0; k < st->next_key; k++) {
        bool present;
        while (j < n && ks[j] < k)
            j++;
        present = j < n && ks[j] == k;
        if (st->state[k] == 1) {
            n_acked++;
            if (!present)
                fprintf(stderr, "acknowledged key %ld lost\n", k);
            assert_true(present);
            assert_int_equal(vs[j], k * 3);
        }
    }
    for (long i = 0; i < n; i++)
        assert_true(ks[i] < st->next_key && st->state[ks[i]] != 0);
    free(ks);
    free(vs);
    fprintf(stderr, "shard %u: %ld acknowledged, %ld rows present\n", st->shard,
            n_acked, n);
}

static struct stream stream0;
static uint32_t killed_node;

/* kill -9 of the node leading shard 0 during a stream of inserts: writes
 * resume on a new leader in well under 3 s and every acknowledged row is
 * present exactly once. */
static void
test_kill_leader_keeps_acked_rows(void **state)
{
    pthread_t t;
    uint32_t leader, new_leader;
    double killed_at;
    long acked_at_kill;

    leader = th_wait_leader(&cluster, 0, 0, 10);
    assert_int_not_equal(leader, 0);
    stream0.shard = 0;
    assert_int_equal(pthread_create(&t, NULL, stream_main, &stream0), 0);
    wait_acked(&stream0, 300, 30);
    leader = th_shard_leader(&cluster, 0);
    assert_int_not_equal(leader, 0);
    acked_at_kill = atomic_load(&stream0.n_acked);
    th_node_signal(&cluster, leader, SIGKILL);
    killed_at = th_now();
    killed_node = leader;
    wait_acked(&stream0, acked_at_kill + 1, 10);
    fprintf(stderr, "kill -9 of node %u -> next acknowledged write: %.3f s\n",
            leader, th_now() - killed_at);
    assert_true(th_now() - killed_at < 3.0);
    wait_acked(&stream0, acked_at_kill + 300, 30);
    atomic_store(&stream0.stop, true);
    pthread_join(t, NULL);
    assert_int_equal(stream0.n_sql_errors, 0);
    new_leader = th_wait_leader(&cluster, 0, leader, 10);
    assert_int_not_equal(new_leader, 0);
    check_stream(&stream0, new_leader);
}

/* The killed node restarts, catches up (same key count as the leader),
 * then leads shard 0 after `shardctl leader transfer` and serves every
 * row itself. */
static void
test_restarted_node_catches_up_and_leads(void **state)
{
    uint32_t leader;
    long want;
    char node_s[16];

    assert_int_not_equal(killed_node, 0);
    assert_int_equal(th_node_start(&cluster, killed_node), 0);
    leader = th_wait_leader(&cluster, 0, 0, 10);
    assert_int_not_equal(leader, 0);
    want = ru_count_keys(&cluster, leader, 0);
    assert_true(want > 0);
    assert_true(ru_wait_keys(&cluster, killed_node, 0, want, 30));
    snprintf(node_s, sizeof node_s, "%u", killed_node);
    assert_int_equal(th_shardctl(&cluster, NULL, "--timeout", "20", "leader",
                                 "transfer", "0", node_s, NULL),
                     0);
    assert_int_equal(th_shard_leader(&cluster, 0), killed_node);
    check_stream(&stream0, killed_node);
}

/* With two of three nodes down, a write fails with 08006 within the
 * request timeout (3 s) plus slack; once one node returns it succeeds. */
static void
test_no_quorum_fails_then_recovers(void **state)
{
    uint32_t leader = th_wait_leader(&cluster, 1, 0, 10);
    uint32_t a = leader % 3 + 1, b = a % 3 + 1, survivor = leader;
    struct ru_writer w = {&cluster, &table, 1, survivor, "", 0, 0};
    Talus__Response *r;
    double t0;

    assert_int_not_equal(leader, 0);
    th_node_signal(&cluster, a, SIGKILL);
    th_node_signal(&cluster, b, SIGKILL);
    for (int i = 0; i < 3; i++) {
        t0 = th_now();
        assert_int_equal(ru_put_at(&cluster, &table, survivor, 1, 900000 + i, 1,
                                   tl_rpc_next_id(), 10000, &r),
                         0);
        assert_non_null(r->error);
        fprintf(stderr, "no quorum, attempt %d: %.2f s: %s (%s)\n", i,
                th_now() - t0, r->error->message,
                r->error->detail ? r->error->detail : "");
        assert_string_equal(r->error->sqlstate, "08006");
        assert_true(th_now() - t0 < 3.0 + 1.0);
        talus__response__free_unpacked(r, NULL);
    }
    assert_int_equal(th_node_start(&cluster, a), 0);
    t0 = th_now();
    assert_int_equal(ru_write(&w, 900100, 7, 20), 0);
    fprintf(stderr, "quorum back: write acknowledged after %.2f s\n",
            th_now() - t0);
    assert_int_equal(th_node_start(&cluster, b), 0);
    assert_int_equal(th_wait_ready(&cluster, 30), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_leader_keeps_acked_rows),
        cmocka_unit_test(test_restarted_node_catches_up_and_leads),
        cmocka_unit_test(test_no_quorum_fails_then_recovers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
