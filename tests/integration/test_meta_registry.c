/* The node registry in the meta group on a 3-node RF=3 cluster whose
 * router knows one node's address (--join): SQL works through it; every
 * node answers a ClusterMap listing every node and shard; a fourth node
 * started with --join and no file registers itself, shows in `shardctl
 * nodes`, takes a replica and then the leadership of a shard, and the
 * router reaches it as leader; shardctl finds the cluster through
 * --node and TALUS_NODE and says clearly when nothing answers; a router
 * whose first --join address is down starts from the next one; the
 * registry survives a restart of every process; a restarted node learns
 * the catalog's map version from it; and a joined node restarts from the
 * map it saved while no other node answers. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster_map.h"
#include "harness.h"
#include "rpc.h"
#include "tl_error.h"

#define N_SHARDS 4
#define SHARD 1 /* the shard moved to node 4 */

static struct th_cluster cluster;

static int
setup(void **state)
{
    struct th_options o = {.n_nodes = 3,
                           .n_shards = N_SHARDS,
                           .n_replicas = 3,
                           .router_join_one = true};
    return th_cluster_start(&cluster, &o);
}

static int
teardown(void **state)
{
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

/* The ClusterMap node @id answers, or NULL. */
static Talus__Response *
cluster_map(uint32_t id)
{
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__ClusterMapRequest cm = TALUS__CLUSTER_MAP_REQUEST__INIT;
    Talus__Response *resp = NULL;
    req.request_id = tl_rpc_next_id();
    req.body_case = TALUS__REQUEST__BODY_CLUSTER_MAP;
    req.cluster_map = &cm;
    if (th_node_call(&cluster, id, &req, 5000, &resp) != 0)
        return NULL;
    if (resp->error != NULL || resp->cluster_map == NULL) {
        talus__response__free_unpacked(resp, NULL);
        return NULL;
    }
    return resp;
}

static bool
has_replica(const Talus__ShardRecord *r, uint32_t id)
{
    for (size_t i = 0; i < r->n_replicas; i++)
        if (r->replicas[i] == id)
            return true;
    return false;
}

/* Wait at most @timeout_s until node @from's ClusterMap lists node
 * @id and shard @shard has @replica among its replicas and @leader as
 * its leader (0: any). */
static bool
wait_map(uint32_t from, uint32_t id, uint32_t shard, uint32_t replica,
         uint32_t leader, double timeout_s)
{
    double deadline = th_now() + timeout_s;
    do {
        Talus__Response *r = cluster_map(from);
        bool ok = false;
        if (r != NULL) {
            const Talus__ShardRecord *s =
                tl_cluster_map_shard(r->cluster_map, shard);
            ok = tl_cluster_map_node(r->cluster_map, id) != NULL && s != NULL &&
                 has_replica(s, replica) &&
                 (leader == 0 || s->leader == leader);
            talus__response__free_unpacked(r, NULL);
        }
        if (ok)
            return true;
        usleep(100 * 1000);
    } while (th_now() < deadline);
    return false;
}

/* Read the file at @path into a static buffer. */
static const char *
slurp(const char *path)
{
    static char buf[16384];
    FILE *f = fopen(path, "r");
    size_t n = f != NULL ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = '\0';
    if (f != NULL)
        fclose(f);
    return buf;
}

static const char *
out_path(void)
{
    static char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%.*s/out.txt", PATH_MAX - 16, cluster.dir);
    return p;
}

/* A router started with one node's address serves DDL and SQL. */
static void
test_sql_through_one_address(void **state)
{
    PGconn *conn = th_connect(&cluster);
    char sql[128];
    assert_true(th_ok(conn, "CREATE TABLE kv (k bigint PRIMARY KEY, v text) "
                            "PARTITION BY HASH (k)"));
    for (int i = 0; i < 100; i++) {
        snprintf(sql, sizeof sql, "INSERT INTO kv VALUES (%d, 'v%d')", i, i);
        assert_true(th_ok(conn, sql));
    }
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM kv"), 100);
    PQfinish(conn);
}

/* Every node answers a ClusterMap with the settings, every node with its
 * addresses, every shard with its hash range, its three replicas and the
 * leader that leads it, and the meta group's voters. */
static void
test_cluster_map_from_every_node(void **state)
{
    for (uint32_t s = 0; s < N_SHARDS; s++) {
        uint32_t leader = th_wait_leader(&cluster, s, 0, 10);
        assert_int_not_equal(leader, 0);
        assert_true(wait_map(1, 1, s, 1, leader, 15));
    }
    for (uint32_t id = 1; id <= 3; id++) {
        Talus__Response *r = cluster_map(id);
        assert_non_null(r);
        const Talus__ClusterMap *m = r->cluster_map;
        assert_non_null(m->settings);
        assert_int_equal(m->settings->n_shards, N_SHARDS);
        assert_int_equal(m->settings->replicas, 3);
        assert_int_equal(m->settings->initial_nodes, 3);
        assert_int_equal(m->n_nodes, 3);
        for (uint32_t n = 1; n <= 3; n++) {
            const Talus__NodeRecord *nr = tl_cluster_map_node(m, n);
            assert_non_null(nr);
            assert_string_equal(nr->rpc_addr,
                                cluster.cfg.nodes[n - 1].rpc_addr);
            assert_string_equal(nr->raft_addr,
                                cluster.cfg.nodes[n - 1].raft_addr);
        }
        assert_int_equal(m->n_shards, N_SHARDS);
        for (uint32_t s = 0; s < N_SHARDS; s++) {
            const Talus__ShardRecord *sr = tl_cluster_map_shard(m, s);
            uint64_t lo, hi;
            assert_non_null(sr);
            assert_int_equal(sr->n_replicas, 3);
            for (uint32_t n = 1; n <= 3; n++)
                assert_true(has_replica(sr, n));
            tl_cluster_map_hash_range(s, N_SHARDS, &lo, &hi);
            assert_true(sr->hash_lo == lo && sr->hash_hi == hi);
            assert_true(sr->leader >= 1 && sr->leader <= 3);
        }
        assert_int_equal(m->n_meta_voters, 3);
        assert_true(m->meta_leader >= 1 && m->meta_leader <= 3);
        talus__response__free_unpacked(r, NULL);
    }
}

/* A fourth node started with --join (no cluster file) registers itself,
 * shows in `shardctl nodes`, takes a replica of shard 1 and then its
 * leadership, and the router (which knew three nodes) follows it there. */
static void
test_fourth_node_joins(void **state)
{
    char line[512];
    Talus__ShardStatus st;

    assert_int_equal(th_node_join_start(&cluster, 4, NULL), 0);
    assert_true(wait_map(2, 4, SHARD, 1, 0, 30));

    assert_int_equal(
        th_shardctl_node(&cluster, NULL, out_path(), "nodes", NULL), 0);
    const char *out = slurp(out_path());
    snprintf(line, sizeof line, "4    %-22s %-22s up    yes",
             cluster.cfg.nodes[3].rpc_addr, cluster.cfg.nodes[3].raft_addr);
    if (strstr(out, line) == NULL)
        fprintf(stderr, "%s", out);
    assert_non_null(strstr(out, line));
    assert_non_null(strstr(out, "4 of 4 nodes up"));

    assert_int_equal(th_shardctl_node(&cluster, NULL, NULL, "replica", "add",
                                      "1", "4", NULL),
                     0);
    assert_int_equal(th_shardctl_node(&cluster, NULL, NULL, "leader",
                                      "transfer", "1", "4", NULL),
                     0);
    assert_int_equal(th_shard_leader(&cluster, SHARD), 4);
    assert_true(wait_map(3, 4, SHARD, 4, 4, 15));

    /* Rows of every shard, so shard 1 gets some: its leader is node 4. */
    PGconn *conn = th_connect(&cluster);
    char sql[128];
    for (int i = 100; i < 200; i++) {
        snprintf(sql, sizeof sql, "INSERT INTO kv VALUES (%d, 'v%d')", i, i);
        assert_true(th_ok(conn, sql));
    }
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM kv"), 200);
    PQfinish(conn);
    assert_true(th_shard_status(&cluster, 4, SHARD, &st));
    assert_true(st.is_leader);
    assert_true(st.n_writes > 0);
    assert_true(st.n_scans > 0);

    /* shards shows the registry's record next to the live view. */
    assert_int_equal(
        th_shardctl_node(&cluster, NULL, out_path(), "shards", NULL), 0);
    out = slurp(out_path());
    assert_non_null(strstr(out, "REG-REPL"));
    assert_non_null(strstr(out, "1,2,3,4    4      1,2,3,4    4"));
}

/* shardctl finds the cluster through --node (the first address that
 * answers) and TALUS_NODE, and exits 1 with a clear message when no
 * address answers. */
static void
test_shardctl_node_and_env(void **state)
{
    char list[512];
    snprintf(list, sizeof list, "127.0.0.1:1,%s",
             cluster.cfg.nodes[2].rpc_addr);
    assert_int_equal(
        th_shardctl_node(&cluster, list, out_path(), "nodes", NULL), 0);
    assert_non_null(strstr(slurp(out_path()), "4 of 4 nodes up"));

    setenv("TALUS_NODE", cluster.cfg.nodes[3].rpc_addr, 1);
    char bin[PATH_MAX];
    snprintf(bin, sizeof bin, "%s/shardctl/shardctl", TALUS_BIN_DIR);
    char *argv[] = {bin, "status", NULL};
    assert_int_equal(th_run(argv, out_path()), 0);
    assert_non_null(strstr(slurp(out_path()), "nodes: 4 up, 0 down"));

    setenv("TALUS_NODE", "127.0.0.1:1", 1);
    assert_int_equal(th_run(argv, out_path()), 1);
    assert_non_null(strstr(slurp(out_path()),
                           "shardctl: cannot reach the cluster at "
                           "127.0.0.1:1"));
    unsetenv("TALUS_NODE");

    assert_int_equal(
        th_shardctl_node(&cluster, "127.0.0.1:1", out_path(), "shards", NULL),
        1);
    assert_non_null(strstr(slurp(out_path()), "is it running?"));
}

/* A router whose first --join address is a node that is down starts from
 * the next address and serves queries. */
static void
test_router_join_first_down(void **state)
{
    th_node_signal(&cluster, 3, SIGTERM);
    snprintf(cluster.router_join, sizeof cluster.router_join, "%s,%s",
             cluster.cfg.nodes[2].rpc_addr, cluster.cfg.nodes[1].rpc_addr);
    assert_int_equal(th_router2_start(&cluster), 0);
    PGconn *conn = th_connect2(&cluster);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM kv"), 200);
    assert_true(th_ok(conn, "INSERT INTO kv VALUES (200, 'v200')"));
    PQfinish(conn);
    assert_int_equal(th_node_start(&cluster, 3), 0);
}

/* After every process restarts, the registry still lists the four
 * nodes and shard 1 on node 4, and the data is all there. */
static void
test_registry_survives_restart(void **state)
{
    th_router_signal(&cluster, SIGTERM);
    th_router2_signal(&cluster, SIGTERM);
    for (uint32_t id = 1; id <= 4; id++)
        th_node_signal(&cluster, id, SIGTERM);
    for (uint32_t id = 1; id <= 4; id++)
        assert_int_equal(th_node_start(&cluster, id), 0);
    assert_int_equal(th_router_start(&cluster), 0);
    assert_int_equal(th_wait_ready(&cluster, 60), 0);
    assert_true(wait_map(4, 4, SHARD, 4, 0, 30));
    Talus__Response *r = cluster_map(1);
    assert_non_null(r);
    assert_int_equal(r->cluster_map->n_nodes, 4);
    assert_int_equal(r->cluster_map->settings->n_shards, N_SHARDS);
    talus__response__free_unpacked(r, NULL);
    PGconn *conn = th_connect(&cluster);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM kv"), 201);
    PQfinish(conn);
}

/* A restarted node that hosts no meta replica learns the catalog's map
 * version from its first registry read: a request planned on an older
 * catalog is refused (TL_ESTALE) before any newer request reaches it. */
static void
test_restarted_node_learns_map_version(void **state)
{
    Talus__TableDesc d = TALUS__TABLE_DESC__INIT;
    Talus__ScanFragment sf = TALUS__SCAN_FRAGMENT__INIT;
    double deadline;
    bool stale = false;

    /* Two catalog changes: version 1 is older than the catalog's. */
    PGconn *conn = th_connect(&cluster);
    assert_true(th_ok(conn, "CREATE TABLE mv1 (k bigint PRIMARY KEY)"));
    assert_true(th_ok(conn, "CREATE TABLE mv2 (k bigint PRIMARY KEY)"));
    PQfinish(conn);
    th_node_signal(&cluster, 4, SIGTERM);
    assert_int_equal(th_node_start(&cluster, 4), 0);
    d.id = 999;
    d.name = "t";
    sf.table = &d;
    deadline = th_now() + 30;
    while (!stale && th_now() < deadline) {
        Talus__Request req = TALUS__REQUEST__INIT;
        Talus__Response *resp = NULL;
        req.request_id = tl_rpc_next_id();
        req.has_shard = true;
        req.shard = SHARD;
        req.has_map_version = true;
        req.map_version = 1; /* before the tables of these tests */
        req.body_case = TALUS__REQUEST__BODY_SCAN;
        req.scan = &sf;
        if (th_node_call(&cluster, 4, &req, 5000, &resp) == 0) {
            stale = resp->error != NULL && resp->error->has_code &&
                    resp->error->code == TL_ESTALE && resp->map_version > 1;
            talus__response__free_unpacked(resp, NULL);
        }
        if (!stale)
            usleep(100 * 1000);
    }
    assert_true(stale);
}

/* A joined node restarts from the cluster map it saved even when no other
 * node answers (its shards may still have a majority with it), and the
 * cluster comes back around it. */
static void
test_joined_node_restarts_alone(void **state)
{
    Talus__ShardStatus st;
    double deadline;
    bool up = false;

    th_router_signal(&cluster, SIGTERM);
    th_router2_signal(&cluster, SIGTERM);
    for (uint32_t id = 1; id <= 4; id++)
        th_node_signal(&cluster, id, SIGTERM);
    assert_int_equal(th_node_start(&cluster, 4), 0);
    deadline = th_now() + 30;
    while (!up && th_now() < deadline) {
        up = th_shard_status(&cluster, 4, SHARD, &st);
        if (!up)
            usleep(100 * 1000);
    }
    assert_true(up);
    for (uint32_t id = 1; id <= 3; id++)
        assert_int_equal(th_node_start(&cluster, id), 0);
    assert_int_equal(th_router_start(&cluster), 0);
    assert_int_equal(th_wait_ready(&cluster, 60), 0);
    PGconn *conn = th_connect(&cluster);
    assert_int_equal(th_scalar(conn, "SELECT count(*) FROM kv"), 201);
    PQfinish(conn);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sql_through_one_address),
        cmocka_unit_test(test_cluster_map_from_every_node),
        cmocka_unit_test(test_fourth_node_joins),
        cmocka_unit_test(test_shardctl_node_and_env),
        cmocka_unit_test(test_router_join_first_down),
        cmocka_unit_test(test_registry_survives_restart),
        cmocka_unit_test(test_restarted_node_learns_map_version),
        cmocka_unit_test(test_joined_node_restarts_alone),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
