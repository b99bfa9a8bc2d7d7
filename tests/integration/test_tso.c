/* The timestamp oracle on the meta group's leader: timestamps strictly
 * increase across requests, concurrent callers, a kill -9 of the meta
 * leader and a restart of the whole cluster; they stay close to the wall
 * clock; followers refuse with the leader's id; shardctl tso prints them. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "rpc.h"
#include "tl_error.h"

#define META 1023 /* TL_META_GROUP */

static struct th_cluster cluster;

static int
setup(void **state)
{
    struct th_options o = {
        .n_nodes = 3, .n_shards = 2, .n_replicas = 3, .no_router = true};
    (void)state;
    return th_cluster_start(&cluster, &o);
}

static int
teardown(void **state)
{
    (void)state;
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

/* @count timestamps from node @id: the first, or 0 when it refuses
 * (*@hint then names the leader it knows, 0: none). */
static uint64_t
tso_from_in(struct th_cluster *c, uint32_t id, uint32_t count, uint64_t *hint)
{
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__TsoRequest tr = TALUS__TSO_REQUEST__INIT;
    Talus__Response *resp = NULL;
    uint64_t ts = 0;

    *hint = 0;
    tr.count = count;
    req.request_id = tl_rpc_next_id();
    req.has_shard = true;
    req.shard = META;
    req.body_case = TALUS__REQUEST__BODY_TSO;
    req.tso = &tr;
    if (th_node_call(c, id, &req, 5000, &resp) != 0)
        return 0;
    if (resp->error == NULL && resp->has_timestamp)
        ts = resp->timestamp;
    else if (resp->has_leader_hint)
        *hint = resp->leader_hint;
    talus__response__free_unpacked(resp, NULL);
    return ts;
}

static uint64_t
tso_from(uint32_t id, uint32_t count, uint64_t *hint)
{
    return tso_from_in(&cluster, id, count, hint);
}

/* @count timestamps from whichever node of @c leads the meta group,
 * waiting at most 20 s for one: the first. */
static uint64_t
tso_in(struct th_cluster *c, uint32_t count)
{
    double deadline = th_now() + 20;
    while (th_now() < deadline) {
        for (uint32_t id = 1; id <= 3; id++) {
            uint64_t hint, ts = tso_from_in(c, id, count, &hint);
            if (ts != 0)
                return ts;
        }
        struct timespec d = {0, 50 * 1000000};
        nanosleep(&d, NULL); /* between rounds of refusals */
    }
    fail_msg("no timestamp from any node in 20 s");
    return 0;
}

static uint64_t
tso(uint32_t count)
{
    return tso_in(&cluster, count);
}

static uint64_t
wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Strictly increasing from request to request, batches included, and the
 * physical part within a second of the wall clock. */
static void
test_increasing_and_near_the_clock(void **state)
{
    uint64_t prev = 0;
    (void)state;
    for (int i = 0; i < 200; i++) {
        uint32_t n = (uint32_t)(i % 7) * 100 + 1;
        uint64_t before = wall_ms();
        uint64_t ts = tso(n);
        uint64_t phys = ts >> 18;
        assert_true(ts > prev);
        assert_true(phys + 1000 >= before && phys <= wall_ms() + 1000);
        prev = ts + n - 1; /* the batch's last */
    }
}

/* Followers refuse and name the leader; a bad count is refused. */
static void
test_followers_refuse(void **state)
{
    uint32_t leader = th_wait_leader(&cluster, META, 0, 20);
    uint64_t hint;
    (void)state;
    assert_int_not_equal(leader, 0);
    for (uint32_t id = 1; id <= 3; id++) {
        double deadline = th_now() + 10;
        if (id == leader)
            continue;
        /* A follower learns the leader from its heartbeats. */
        do
            assert_int_equal(tso_from(id, 1, &hint), 0);
        while (hint != leader && th_now() < deadline);
        assert_int_equal(hint, leader);
    }
    assert_int_equal(tso_from(leader, 0, &hint), 0);
    assert_int_equal(tso_from(leader, 65537, &hint), 0);
}

/* Concurrent callers never get overlapping ranges. */
struct caller {
    uint64_t first[50];
};

static void *
call_main(void *arg)
{
    struct caller *c = arg;
    for (int i = 0; i < 50; i++)
        c->first[i] = tso(10);
    return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void
test_concurrent_callers_disjoint(void **state)
{
    struct caller cs[4];
    pthread_t t[4];
    uint64_t all[200];
    (void)state;
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, call_main, &cs[i]), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++)
        memcpy(all + i * 50, cs[i].first, sizeof cs[i].first);
    qsort(all, 200, sizeof *all, cmp_u64);
    for (int i = 1; i < 200; i++)
        assert_true(all[i] >= all[i - 1] + 10); /* ranges of 10 apart */
}

/* A kill -9 of the meta leader, then of every node: timestamps go on
 * above every one issued before. */
static void
test_survives_leader_kill_and_restart(void **state)
{
    uint64_t before, after;
    uint32_t leader;
    (void)state;

    before = tso(1000) + 999;
    leader = th_wait_leader(&cluster, META, 0, 20);
    assert_int_not_equal(leader, 0);
    th_node_signal(&cluster, leader, SIGKILL);
    after = tso(1);
    assert_true(after > before);
    assert_int_equal(th_node_start(&cluster, leader), 0);

    before = tso(1);
    for (uint32_t id = 1; id <= 3; id++)
        th_node_signal(&cluster, id, SIGKILL);
    for (uint32_t id = 1; id <= 3; id++)
        assert_int_equal(th_node_start(&cluster, id), 0);
    after = tso(1);
    assert_true(after > before);
}

/* A leader whose clock ran a minute ahead issued timestamps; the next
 * leader, with a correct clock, still issues above them (it starts above
 * the persisted high-water mark), and so does the first leader again. */
static void
test_clock_skew_absorbed(void **state)
{
    struct th_options o = {.n_nodes = 3,
                           .n_shards = 1,
                           .n_replicas = 3,
                           .no_router = true,
                           .node_args = "--test-tso-skew 1:60000"};
    struct th_cluster c;
    char meta[16], one[] = "1";
    uint64_t ahead, after;
    (void)state;

    assert_int_equal(th_cluster_start(&c, &o), 0);
    snprintf(meta, sizeof meta, "%u", META);
    assert_int_equal(
        th_shardctl(&c, NULL, "leader", "transfer", meta, one, NULL), 0);
    ahead = tso_in(&c, 1);
    assert_true((ahead >> 18) > wall_ms() + 50000);
    th_node_signal(&c, 1, SIGKILL);
    after = tso_in(&c, 1);
    assert_true(after > ahead);
    assert_int_equal(th_node_start(&c, 1), 0);
    assert_int_equal(
        th_shardctl(&c, NULL, "leader", "transfer", meta, one, NULL), 0);
    assert_true(tso_in(&c, 1) > after);
    assert_int_equal(th_cluster_stop(&c), 0);
}

/* shardctl tso N prints N consecutive timestamps, one per line. */
static void
test_shardctl_tso(void **state)
{
    char path[] = "/tmp/talus-tso-XXXXXX";
    unsigned long long v[5];
    int fd = mkstemp(path);
    FILE *f;
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(th_shardctl(&cluster, path, "tso", "5", NULL), 0);
    f = fdopen(fd, "r");
    for (int i = 0; i < 5; i++)
        assert_int_equal(fscanf(f, "%llu", &v[i]), 1);
    for (int i = 1; i < 5; i++)
        assert_true(v[i] == v[i - 1] + 1);
    assert_true(v[0] > 0);
    fclose(f);
    unlink(path);
    assert_int_equal(th_shardctl(&cluster, NULL, "tso", "0", NULL), 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_increasing_and_near_the_clock),
        cmocka_unit_test(test_followers_refuse),
        cmocka_unit_test(test_concurrent_callers_disjoint),
        cmocka_unit_test(test_shardctl_tso),
        cmocka_unit_test(test_survives_leader_kill_and_restart),
        cmocka_unit_test(test_clock_skew_absorbed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
