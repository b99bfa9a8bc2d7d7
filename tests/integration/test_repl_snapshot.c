/* Snapshot install out of band: a follower stopped while the leader
 * writes far past its snapshot threshold (so the entries it misses are
 * compacted away) restarts, receives a raft snapshot descriptor, copies
 * the shard's data page by page from a replica, replays what it spilled
 * meanwhile, and then serves every row itself once it leads. The raft
 * logs stay bounded meanwhile (compaction). */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "repl_util.h"

#define N_SHARDS 3
#define SHARD 0
#define N_ROWS 3000

static struct th_cluster cluster;
static struct ru_table table;

static int
setup(void **state)
{
    struct th_options o = {.n_nodes = 3,
                           .n_shards = N_SHARDS,
                           .n_replicas = 3,
                           .no_router = true,
                           .node_args =
                               "--snapshot-threshold 64 --snapshot-trailing 16 "
                               "--fetch-page-bytes 4096"};
    ru_table_init(&table);
    if (th_cluster_start(&cluster, &o) != 0)
        return -1;
    fprintf(stderr, "cluster dir: %s\n", cluster.dir);
    return 0;
}

static int
teardown(void **state)
{
    ru_table_close(&table);
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

/* Bytes of the files in @dir (not recursive). */
static long long
dir_bytes(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    long long n = 0;
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        char p[PATH_MAX + 300];
        struct stat sb;
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p)
            continue;
        if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode))
            n += sb.st_size;
    }
    closedir(d);
    return n;
}

/* Whether node @id's log mentions @what. */
static bool
log_has(uint32_t id, const char *what)
{
    char path[PATH_MAX + 32], line[2048];
    bool found = false;
    FILE *f;
    snprintf(path, sizeof path, "%s/node%u.log", cluster.dir, id);
    f = fopen(path, "r");
    if (f == NULL)
        return false;
    while (!found && fgets(line, sizeof line, f) != NULL)
        found = strstr(line, what) != NULL;
    fclose(f);
    return found;
}

/* Wait until node @id's log mentions @what. The restore logs its end
 * after the last page is written, so the keys can all be there first. */
static bool
wait_log(uint32_t id, const char *what, double timeout_s)
{
    double deadline = th_now() + timeout_s;
    while (th_now() < deadline) {
        if (log_has(id, what))
            return true;
        usleep(50 * 1000);
    }
    return log_has(id, what);
}

/* The lagging follower restores out of band and then holds every row,
 * checked row by row through its own scan after leadership moves to it;
 * the leader's raft directory stays bounded by compaction. */
static void
test_lagging_follower_restores(void **state)
{
    struct ru_writer w = {&cluster, &table, SHARD, 0, "", 0, 0};
    uint32_t leader, lagger;
    char lag_s[16], raft_dir[PATH_MAX + 64];
    long long bytes_mid, bytes_end;
    int64_t *ks, *vs;

    leader = th_wait_leader(&cluster, SHARD, 0, 10);
    assert_int_not_equal(leader, 0);
    w.leader = leader;
    for (long k = 0; k < 100; k++)
        assert_int_equal(ru_write(&w, k, -k, 20), 0);
    lagger = leader % 3 + 1;
    th_node_signal(&cluster, lagger, SIGTERM);
    for (long k = 100; k < N_ROWS / 2; k++)
        assert_int_equal(ru_write(&w, k, -k, 20), 0);
    leader = th_shard_leader(&cluster, SHARD);
    snprintf(raft_dir, sizeof raft_dir, "%s/node%u/raft/shard-%u", cluster.dir,
             leader, SHARD);
    bytes_mid = dir_bytes(raft_dir);
    for (long k = N_ROWS / 2; k < N_ROWS; k++)
        assert_int_equal(ru_write(&w, k, -k, 20), 0);
    bytes_end = dir_bytes(raft_dir);
    fprintf(stderr,
            "leader raft dir: %lld bytes after %d rows, %lld after %d\n",
            bytes_mid, N_ROWS / 2, bytes_end, N_ROWS);
    /* Compaction: the log does not grow with the rows written. */
    assert_true(bytes_end < 4 * bytes_mid + (1 << 20));

    assert_int_equal(th_node_start(&cluster, lagger), 0);
    /* Writes while it copies (small pages: many round trips) are spilled
     * and replayed after the copy. */
    for (long k = N_ROWS; k < N_ROWS + 300; k++)
        assert_int_equal(ru_write(&w, k, -k, 20), 0);
    assert_true(ru_wait_keys(&cluster, lagger, SHARD, N_ROWS + 300, 60));
    assert_true(wait_log(lagger, "event=restore_done", 30));
    snprintf(lag_s, sizeof lag_s, "%u", lagger);
    assert_int_equal(th_shardctl(&cluster, NULL, "--timeout", "30", "leader",
                                 "transfer", "0", lag_s, NULL),
                     0);
    assert_int_equal(ru_scan_all(&cluster, &table, lagger, SHARD, &ks, &vs),
                     N_ROWS + 300);
    for (long i = 0; i < N_ROWS + 300; i++) {
        assert_int_equal(ks[i], i);
        assert_int_equal(vs[i], -i);
    }
    free(ks);
    free(vs);
    /* And it keeps accepting writes as leader. */
    w.leader = lagger;
    assert_int_equal(ru_write(&w, N_ROWS + 300, 0, 20), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lagging_follower_restores),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
