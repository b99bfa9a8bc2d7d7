/* cluster_config and the meta group: a reserved group id that no shard
 * may take, placed on min(3, initial nodes) nodes starting at node 1; and
 * the admin addresses a file may give (node.N.admin, router.admin). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster_config.h"
#include "tl_error.h"

/* Write @text to a temp file and load it over the defaults. */
static int
load(const char *text, struct tl_cluster_config *c)
{
    char path[] = "/tmp/talus-meta-config-XXXXXX";
    char err[256];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    tl_cluster_config_defaults(c);
    int rv = tl_cluster_config_load(path, c, err, sizeof(err));
    unlink(path);
    return rv;
}

#define NODES                                                                  \
    "node.1.rpc = 127.0.0.1:1\nnode.1.raft = 127.0.0.1:2\nnode.1.dir = a\n"    \
    "node.2.rpc = 127.0.0.1:3\nnode.2.raft = 127.0.0.1:4\nnode.2.dir = b\n"    \
    "node.3.rpc = 127.0.0.1:5\nnode.3.raft = 127.0.0.1:6\nnode.3.dir = c\n"    \
    "node.4.rpc = 127.0.0.1:7\nnode.4.raft = 127.0.0.1:8\nnode.4.dir = d\n"

/* Shard ids stay below TL_META_GROUP: a file with TL_MAX_SHARDS shards is
 * rejected, TL_META_GROUP shards (ids 0..TL_META_GROUP - 1) are accepted. */
static void
test_meta_group_id_is_reserved(void **state)
{
    struct tl_cluster_config c;
    char text[1024];
    (void)state;
    snprintf(text, sizeof(text), "shards = %u\n" NODES, TL_MAX_SHARDS);
    assert_int_equal(load(text, &c), TL_EINVAL);
    snprintf(text, sizeof(text), "shards = %u\n" NODES, TL_META_GROUP);
    assert_int_equal(load(text, &c), 0);
    assert_int_equal(c.n_shards, TL_META_GROUP);
}

/* The meta group has min(3, M) voters on nodes 1..min(3, M), node 1
 * preferred, whatever the shards' replica count. */
static void
test_meta_placement(void **state)
{
    struct tl_cluster_config c;
    uint32_t ids[8];
    (void)state;
    assert_int_equal(load("replicas = 1\n" NODES, &c), 0);
    assert_int_equal(tl_cluster_meta_replicas(&c), 3);
    assert_int_equal(tl_cluster_shard_replicas(&c, TL_META_GROUP, ids, 8), 3);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 2);
    assert_int_equal(ids[2], 3);
    assert_int_equal(tl_cluster_shard_node(&c, TL_META_GROUP), 1);
    /* A shard keeps its own placement. */
    assert_int_equal(tl_cluster_shard_replicas(&c, 2, ids, 8), 1);
    assert_int_equal(ids[0], 3);

    assert_int_equal(load("initial_nodes = 2\n" NODES, &c), 0);
    assert_int_equal(tl_cluster_meta_replicas(&c), 2);
    assert_int_equal(tl_cluster_shard_replicas(&c, TL_META_GROUP, ids, 8), 2);
    assert_int_equal(load("initial_nodes = 1\n" NODES, &c), 0);
    assert_int_equal(tl_cluster_shard_replicas(&c, TL_META_GROUP, ids, 8), 1);
    assert_int_equal(ids[0], 1);
}

/* node.N.admin and router.admin are optional host:port settings: absent,
 * they stay empty; present, they are kept; malformed, the file is
 * refused. */
static void
test_admin_addresses(void **state)
{
    struct tl_cluster_config c;
    (void)state;
    assert_int_equal(load(NODES, &c), 0);
    assert_string_equal(c.nodes[0].admin_addr, "");
    assert_string_equal(c.router_admin, "");
    assert_int_equal(load(NODES "node.2.admin = 127.0.0.1:9102\n"
                                "router.admin = 0.0.0.0:9201\n",
                          &c),
                     0);
    assert_string_equal(c.nodes[0].admin_addr, "");
    assert_string_equal(c.nodes[1].admin_addr, "127.0.0.1:9102");
    assert_string_equal(c.router_admin, "0.0.0.0:9201");
    assert_int_equal(load(NODES "node.1.admin = nowhere\n", &c), TL_EINVAL);
    assert_int_equal(load(NODES "router.admin = 127.0.0.1:99999\n", &c),
                     TL_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meta_group_id_is_reserved),
        cmocka_unit_test(test_meta_placement),
        cmocka_unit_test(test_admin_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
