/* Replication basics on a 3-node RF=3 cluster, through direct node RPC:
 * the leader accepts writes and replicates them to every voter, followers
 * refuse reads and writes with a not-leader error naming the leader, a
 * retried write (same request id) applies once, and shardctl status
 * merges the nodes' views. */
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

static struct th_cluster cluster;
static struct ru_table table;

static int
setup(void **state)
{
    struct th_options o = {
        .n_nodes = 3, .n_shards = N_SHARDS, .n_replicas = 3, .no_router = true};
    ru_table_init(&table);
    return th_cluster_start(&cluster, &o);
}

static int
teardown(void **state)
{
    ru_table_close(&table);
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

/* Every shard gets a leader and every node hosts every shard as a voter;
 * the preferred leader (first replica) takes over once caught up. */
static void
test_every_node_hosts_every_shard(void **state)
{
    for (uint32_t s = 0; s < N_SHARDS; s++) {
        uint32_t pref = tl_cluster_shard_node(&cluster.cfg, s);
        double deadline = th_now() + 30;
        assert_int_not_equal(th_wait_leader(&cluster, s, 0, 10), 0);
        for (uint32_t id = 1; id <= 3; id++) {
            Talus__ShardStatus st;
            assert_true(th_shard_status(&cluster, id, s, &st));
        }
        while (th_shard_leader(&cluster, s) != pref && th_now() < deadline)
            usleep(100 * 1000);
        assert_int_equal(th_shard_leader(&cluster, s), pref);
    }
}

/* A write through the leader is acknowledged and reaches every replica;
 * a follower refuses writes and scans with 08006, code TL_ENOTLEADER and
 * the leader's id as hint. */
static void
test_follower_refuses_with_hint(void **state)
{
    uint32_t leader = th_wait_leader(&cluster, 0, 0, 10);
    uint32_t follower = leader % 3 + 1;
    Talus__Response *r;
    int64_t *ks, *vs;

    assert_int_not_equal(leader, 0);
    assert_int_equal(ru_put_at(&cluster, &table, leader, 0, 1, 10,
                               tl_rpc_next_id(), 5000, &r),
                     0);
    assert_null(r->error);
    talus__response__free_unpacked(r, NULL);

    assert_int_equal(ru_put_at(&cluster, &table, follower, 0, 2, 20,
                               tl_rpc_next_id(), 5000, &r),
                     0);
    assert_non_null(r->error);
    assert_string_equal(r->error->sqlstate, "08006");
    assert_true(r->error->has_code);
    assert_int_equal(r->error->code, TL_ENOTLEADER);
    assert_true(r->has_leader_hint);
    assert_int_equal(r->leader_hint, leader);
    talus__response__free_unpacked(r, NULL);

    assert_int_equal(ru_scan_all(&cluster, &table, follower, 0, &ks, &vs), -1);
    free(ks);
    free(vs);
    assert_int_equal(ru_scan_all(&cluster, &table, leader, 0, &ks, &vs), 1);
    assert_int_equal(ks[0], 1);
    assert_int_equal(vs[0], 10);
    free(ks);
    free(vs);
    for (uint32_t id = 1; id <= 3; id++)
        assert_true(ru_wait_keys(&cluster, id, 0, 1, 10));
}

/* The same write batch sent twice with one request id applies once and
 * answers the first result twice; a new id hits the duplicate key. */
static void
test_retry_applies_once(void **state)
{
    uint32_t leader = th_wait_leader(&cluster, 1, 0, 10);
    uint64_t rid = tl_rpc_next_id();
    Talus__Response *r;

    assert_int_equal(
        ru_put_at(&cluster, &table, leader, 1, 5, 50, rid, 5000, &r), 0);
    assert_null(r->error);
    talus__response__free_unpacked(r, NULL);
    /* A retry (say after a lost reply): same id, same answer. */
    assert_int_equal(
        ru_put_at(&cluster, &table, leader, 1, 5, 50, rid, 5000, &r), 0);
    assert_null(r->error);
    assert_int_equal(r->count, 1);
    talus__response__free_unpacked(r, NULL);
    /* A different request for the same key is a real duplicate. */
    assert_int_equal(ru_put_at(&cluster, &table, leader, 1, 5, 50,
                               tl_rpc_next_id(), 5000, &r),
                     0);
    assert_non_null(r->error);
    assert_string_equal(r->error->sqlstate, "23505");
    talus__response__free_unpacked(r, NULL);
    for (uint32_t id = 1; id <= 3; id++)
        assert_true(ru_wait_keys(&cluster, id, 1, 1, 10));
}

/* shardctl status merges the nodes' views: every shard and the meta group
 * (row "meta") has a leader and three voters; exit status 0. */
static void
test_status_merges_views(void **state)
{
    char out[PATH_MAX + 32], line[512];
    int n_ok = 0;
    FILE *f;

    snprintf(out, sizeof out, "%s/status.out", cluster.dir);
    assert_int_equal(th_shardctl(&cluster, out, "status", NULL), 0);
    f = fopen(out, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f) != NULL)
        n_ok += strstr(line, " ok ") != NULL && strstr(line, "1,2,3") != NULL;
    fclose(f);
    assert_int_equal(n_ok, N_SHARDS + 1); /* the shards and the meta group */
    f = fopen(out, "r");
    assert_non_null(f);
    n_ok = 0;
    while (fgets(line, sizeof line, f) != NULL)
        n_ok += strncmp(line, "meta ", 5) == 0 && strstr(line, " ok ") != NULL;
    fclose(f);
    assert_int_equal(n_ok, 1); /* the meta group's row */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_node_hosts_every_shard),
        cmocka_unit_test(test_follower_refuses_with_hint),
        cmocka_unit_test(test_retry_applies_once),
        cmocka_unit_test(test_status_merges_views),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
