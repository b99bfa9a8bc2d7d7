/* Unit tests for common/cluster_map.c: hash ranges, lookups and the
 * ClusterMap -> configuration conversion (the registry's keys and rows:
 * test_meta_keys.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_map.h"
#include "common/meta/meta_keys.h"
#include "row.h"
#include "vindex.h"

/* Hash ranges are contiguous, cover the whole hash space and agree with
 * tl_vindex_hash_shard at both ends of every range. */
static void
test_hash_ranges(void **state)
{
    static const uint32_t ns[] = {1, 2, 3, 6, 7, 1000, 1023};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        uint32_t n = ns[i];
        uint64_t prev_hi = 0;
        for (uint32_t s = 0; s < n; s++) {
            uint64_t lo, hi;
            tl_cluster_map_hash_range(s, n, &lo, &hi);
            if (s == 0)
                assert_true(lo == 0);
            else
                assert_true(lo == prev_hi + 1);
            assert_true(lo <= hi);
            assert_int_equal(tl_vindex_hash_shard(lo, n), s);
            assert_int_equal(tl_vindex_hash_shard(hi, n), s);
            prev_hi = hi;
        }
        assert_true(prev_hi == UINT64_MAX);
    }
}

/* A response with the map version row, node, shard, meta and settings
 * rows (and a foreign row) collects into one ClusterMap. */
static void
test_collect(void **state)
{
    struct tl_arena a;
    struct tl_buf rows[6];
    ProtobufCBinaryData bins[6];
    Talus__NodeRecord n1 = TALUS__NODE_RECORD__INIT;
    Talus__ShardRecord s0 = TALUS__SHARD_RECORD__INIT, meta = s0;
    Talus__ClusterSettings st = TALUS__CLUSTER_SETTINGS__INIT;
    uint32_t reps[3] = {1, 2, 3};

    tl_arena_init(&a);
    for (int i = 0; i < 6; i++)
        tl_buf_init(&rows[i]);
    tl_meta_counter_encode(&rows[0], 42);
    n1.id = 1;
    n1.rpc_addr = "127.0.0.1:7101";
    n1.raft_addr = "127.0.0.1:7201";
    tl_meta_record_encode(&rows[1], TL_META_INDEX_NODE, &n1.base);
    s0.shard = 0;
    s0.n_replicas = 3;
    s0.replicas = reps;
    s0.has_leader = 1;
    s0.leader = 2;
    tl_meta_record_encode(&rows[2], TL_META_INDEX_SHARD, &s0.base);
    meta.shard = TL_META_GROUP;
    meta.n_replicas = 3;
    meta.replicas = reps;
    meta.has_leader = 1;
    meta.leader = 1;
    tl_meta_record_encode(&rows[3], TL_META_INDEX_SHARD, &meta.base);
    st.n_shards = 6;
    st.replicas = 3;
    st.initial_nodes = 3;
    tl_meta_record_encode(&rows[4], TL_META_INDEX_SETTINGS, &st.base);
    struct tl_value bad[2] = {tl_value_text(TL_TYPE_TEXT, "\xff\xff", 2),
                              tl_value_int(TL_TYPE_INT8, TL_META_INDEX_NODE)};
    tl_row_encode(bad, 2, 1, &rows[5]);
    for (int i = 0; i < 6; i++) {
        bins[i].data = rows[i].data;
        bins[i].len = rows[i].len;
    }
    Talus__Response resp = TALUS__RESPONSE__INIT;
    resp.n_rows = 6;
    resp.rows = bins;
    Talus__ClusterMap m = TALUS__CLUSTER_MAP__INIT;
    assert_int_equal(tl_meta_registry_collect(&resp, &a, &m),
                     1); /* the bad record */
    assert_int_equal(m.map_version, 42);
    assert_int_equal(m.n_nodes, 1);
    assert_string_equal(tl_cluster_map_node(&m, 1)->raft_addr,
                        "127.0.0.1:7201");
    assert_null(tl_cluster_map_node(&m, 2));
    assert_int_equal(m.n_shards, 1);
    assert_int_equal(tl_cluster_map_shard(&m, 0)->leader, 2);
    assert_int_equal(m.n_meta_voters, 3);
    assert_int_equal(m.meta_leader, 1);
    assert_non_null(m.settings);
    assert_int_equal(m.settings->n_shards, 6);

    /* To a configuration: node 1 known, 2 and 3 (initial) without
     * addresses. */
    struct tl_cluster_config c;
    char err[128];
    tl_cluster_config_defaults(&c);
    assert_int_equal(tl_cluster_map_to_config(&m, &c, err, sizeof err), 0);
    assert_int_equal(c.n_shards, 6);
    assert_int_equal(c.n_replicas, 3);
    assert_int_equal(c.n_nodes, 3);
    assert_string_equal(c.nodes[0].rpc_addr, "127.0.0.1:7101");
    assert_int_equal(c.nodes[2].id, 3);
    assert_string_equal(c.nodes[2].rpc_addr, "");

    /* Adding to a configuration keeps the addresses it has (a file's)
     * and adds only the nodes it lacks, naming the gaps. */
    Talus__NodeRecord four = TALUS__NODE_RECORD__INIT;
    Talus__NodeRecord *recs[2] = {m.nodes[0], &four};
    four.id = 4;
    four.rpc_addr = "127.0.0.1:7104";
    four.raft_addr = "127.0.0.1:7204";
    m.nodes = recs;
    m.n_nodes = 2;
    tl_cluster_config_defaults(&c);
    c.n_nodes = 1;
    c.nodes[0].id = 1;
    snprintf(c.nodes[0].rpc_addr, TL_ADDR_MAX, "10.0.0.1:7101");
    assert_int_equal(tl_cluster_map_add_nodes(&m, &c), 1);
    assert_string_equal(c.nodes[0].rpc_addr, "10.0.0.1:7101");
    assert_int_equal(c.n_nodes, 4);
    assert_int_equal(c.nodes[2].id, 3);
    assert_string_equal(c.nodes[2].rpc_addr, "");
    assert_string_equal(c.nodes[3].raft_addr, "127.0.0.1:7204");

    /* No settings: refused. */
    m.settings = NULL;
    tl_cluster_config_defaults(&c);
    assert_int_not_equal(tl_cluster_map_to_config(&m, &c, err, sizeof err), 0);
    for (int i = 0; i < 6; i++)
        tl_buf_close(&rows[i]);
    tl_arena_close(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_ranges),
        cmocka_unit_test(test_collect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
