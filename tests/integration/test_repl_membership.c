/* Membership round trip on a 4-node cluster (RF=3, initial_nodes = 3):
 * node 4 starts empty, takes a replica of a shard with `shardctl replica
 * add`, the old leader's replica is removed with `shardctl replica
 * remove` (leadership moves away first), and no acknowledged row is
 * lost; the moved shard then serves every row from node 4. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "repl_util.h"

#define N_SHARDS 3
#define SHARD 1

static struct th_cluster cluster;
static struct ru_table table;

static int
setup(void **state)
{
    struct th_options o = {.n_nodes = 4,
                           .n_shards = N_SHARDS,
                           .n_replicas = 3,
                           .initial_nodes = 3,
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

static void
write_range(struct ru_writer *w, long from, long to)
{
    for (long k = from; k < to; k++) {
        int rv = ru_write(w, k, k * 5, 20);
        if (rv != 0)
            fprintf(stderr, "key %ld: %s\n", k, w->last_error);
        assert_int_equal(rv, 0);
    }
}

static void
check_rows(uint32_t node, long n)
{
    int64_t *ks, *vs;
    assert_int_equal(ru_scan_all(&cluster, &table, node, SHARD, &ks, &vs), n);
    for (long i = 0; i < n; i++) {
        assert_int_equal(ks[i], i);
        assert_int_equal(vs[i], i * 5);
    }
    free(ks);
    free(vs);
}

/* Node 4 hosts nothing at first; after `replica add` and `replica remove`
 * of the old leader, shard 1's voters are the two remaining initial
 * replicas and node 4, the old node no longer hosts it, and every row is
 * served by node 4 once it leads. */
static void
test_move_replica_to_new_node(void **state)
{
    struct ru_writer w = {&cluster, &table, SHARD, 0, "", 0, 0};
    Talus__ShardStatus st;
    uint32_t old, leader;
    char old_s[16];

    assert_false(th_shard_status(&cluster, 4, SHARD, &st));
    write_range(&w, 0, 300);
    old = th_wait_leader(&cluster, SHARD, 0, 10);
    assert_int_not_equal(old, 0);

    assert_int_equal(
        th_shardctl(&cluster, NULL, "replica", "add", "1", "4", NULL), 0);
    assert_true(th_shard_status(&cluster, 4, SHARD, &st));
    assert_true(ru_wait_keys(&cluster, 4, SHARD, 300, 30));
    write_range(&w, 300, 400);

    snprintf(old_s, sizeof old_s, "%u", old);
    assert_int_equal(
        th_shardctl(&cluster, NULL, "replica", "remove", "1", old_s, NULL), 0);
    assert_false(th_shard_status(&cluster, old, SHARD, &st));
    write_range(&w, 400, 500);
    for (uint32_t id = 1; id <= 4; id++)
        if (id != old)
            assert_true(ru_wait_keys(&cluster, id, SHARD, 500, 30));

    assert_int_equal(
        th_shardctl(&cluster, NULL, "leader", "transfer", "1", "4", NULL), 0);
    /* On a saturated machine an election can follow the transfer; node 4
     * is the preferred leader now, so it leads again within a few
     * seconds: wait for it to serve, with a deadline. */
    double until = th_now() + 30;
    for (;;) {
        int64_t *ks = NULL, *vs = NULL;
        long n = -1;
        leader = th_shard_leader(&cluster, SHARD);
        if (leader == 4)
            n = ru_scan_all(&cluster, &table, 4, SHARD, &ks, &vs);
        free(ks);
        free(vs);
        if (n == 500)
            break;
        assert_true(th_now() < until);
        th_wait_leader(&cluster, SHARD, 0, 2);
    }
    check_rows(4, 500);
    assert_int_equal(th_shardctl(&cluster, NULL, "status", NULL), 0);
}

/* Bad membership requests fail with a clear message and exit 1 (or 2
 * for bad usage): removing the last voter's peers is refused by raft only
 * when it would leave no quorum, so here: unknown node, bad shard. */
static void
test_bad_requests(void **state)
{
    assert_int_equal(
        th_shardctl(&cluster, NULL, "replica", "add", "1", "9", NULL), 2);
    assert_int_equal(
        th_shardctl(&cluster, NULL, "replica", "add", "99", "4", NULL), 2);
    assert_int_equal(th_shardctl(&cluster, NULL, "--timeout", "3", "leader",
                                 "transfer", "0", "4", NULL),
                     1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_move_replica_to_new_node),
        cmocka_unit_test(test_bad_requests),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
