/* bench_failover — time from kill -9 of a shard leader to the first
 * acknowledged write on that shard.
 *
 *   bench_failover [-t trials] [-s shards] [-e election_timeout_ms]
 *
 * Starts (through the test harness, from the build tree) a 3-node RF=3
 * cluster without a router, writes continuously to shard 0 through direct
 * node RPC with a leader-following writer (not-leader hints, same request
 * id on retry, 500 ms per attempt: a request in flight to the killed
 * leader is abandoned after that), kills -9 the leader, measures kill -> first
 * acknowledged write, restarts the node, waits until it caught up, and repeats.
 * Prints one line per trial, then the median and the maximum:
 *
 *   trial=1 killed=1 new_leader=2 failover_ms=1412 retries=23
 *   ...
 *   failover trials=10 median_ms=1380 max_ms=1890 lost_acked=0
 *
 * At the end every acknowledged row is checked on the leader. Exit 0 when
 * every trial completed and no acknowledged row was lost, 1 otherwise. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "repl_util.h"

#define MAX_KEYS 2000000

static struct th_cluster cluster;
static struct ru_table table;
static unsigned char acked[MAX_KEYS];
static _Atomic long n_acked;
static _Atomic double last_ack_time;
static _Atomic bool stop;
static _Atomic unsigned n_retries;
static long next_key;

static void *
writer_main(void *arg)
{
    struct ru_writer w = {&cluster, &table, 0, 0, "", 0, 0};
    (void)arg;
    /* A write sent to the leader just killed gets no reply: give up on it
     * after 500 ms and retry (same request id) at the new leader. */
    w.attempt_ms = 500;
    while (!atomic_load(&stop) && next_key < MAX_KEYS) {
        long k = next_key++;
        if (ru_write(&w, k, k, 30) == 0) {
            acked[k] = 1;
            atomic_store(&last_ack_time, th_now());
            atomic_fetch_add(&n_acked, 1);
        }
        atomic_store(&n_retries, w.n_retries);
    }
    return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    struct th_options o = {.n_nodes = 3,
                           .n_shards = 3,
                           .n_replicas = 3,
                           .request_timeout_ms = 3000,
                           .no_router = true};
    int trials = 10, opt, rv = 0;
    char extra[128];
    double ms[64];
    long lost = 0;
    pthread_t t;

    while ((opt = getopt(argc, argv, "t:s:e:")) != -1) {
        if (opt == 't') {
            trials = atoi(optarg);
        } else if (opt == 's') {
            o.n_shards = (uint32_t)atoi(optarg);
        } else if (opt == 'e') {
            int e = atoi(optarg);
            /* Heartbeat a tenth of the election timeout. */
            snprintf(extra, sizeof extra,
                     "election_timeout_ms = %d\nheartbeat_ms = %d", e,
                     e / 10 > 10 ? e / 10 : 10);
            o.extra_conf = extra;
        } else {
            fprintf(stderr, "usage: bench_failover [-t trials] [-s shards] "
                            "[-e election_timeout_ms]\n");
            return 2;
        }
    }
    if (trials < 1 || trials > 64) {
        fprintf(stderr, "bench_failover: 1..64 trials\n");
        return 2;
    }
    ru_table_init(&table);
    if (th_cluster_start(&cluster, &o) != 0)
        return 1;
    pthread_create(&t, NULL, writer_main, NULL);
    for (int i = 0; i < trials; i++) {
        uint32_t leader, new_leader;
        long before;
        double killed_at, deadline;
        unsigned r0;

        /* Steady state: a leader, writes flowing. */
        leader = th_wait_leader(&cluster, 0, 0, 30);
        before = atomic_load(&n_acked);
        deadline = th_now() + 30;
        while (atomic_load(&n_acked) < before + 100 && th_now() < deadline)
            usleep(1000);
        leader = th_shard_leader(&cluster, 0);
        if (leader == 0) {
            fprintf(stderr, "trial %d: no leader\n", i + 1);
            rv = 1;
            break;
        }
        r0 = atomic_load(&n_retries);
        th_node_signal(&cluster, leader, SIGKILL);
        killed_at = th_now();
        deadline = killed_at + 30;
        while (atomic_load(&last_ack_time) <= killed_at && th_now() < deadline)
            usleep(500);
        if (atomic_load(&last_ack_time) <= killed_at) {
            fprintf(stderr, "trial %d: no write within 30 s\n", i + 1);
            rv = 1;
            break;
        }
        ms[i] = (atomic_load(&last_ack_time) - killed_at) * 1000;
        new_leader = th_shard_leader(&cluster, 0);
        printf("trial=%d killed=%u new_leader=%u failover_ms=%.0f "
               "retries=%u\n",
               i + 1, leader, new_leader, ms[i], atomic_load(&n_retries) - r0);
        fflush(stdout);
        /* Bring the node back and let it catch up before the next kill. */
        th_node_start(&cluster, leader);
        if (th_wait_ready(&cluster, 60) != 0) {
            rv = 1;
            break;
        }
        deadline = th_now() + 60;
        for (;;) {
            uint32_t l = th_shard_leader(&cluster, 0);
            long a = l ? ru_count_keys(&cluster, l, 0) : -1;
            long b = ru_count_keys(&cluster, leader, 0);
            if ((a >= 0 && b >= a - 50) || th_now() > deadline)
                break;
            usleep(50 * 1000);
        }
    }
    atomic_store(&stop, true);
    pthread_join(t, NULL);
    if (rv == 0) {
        uint32_t l = th_wait_leader(&cluster, 0, 0, 30);
        int64_t *ks, *vs;
        long n = ru_scan_all(&cluster, &table, l, 0, &ks, &vs);
        long j = 0;
        for (long k = 0; k < next_key; k++) {
            while (j < n && ks[j] < k)
                j++;
            if (acked[k] && !(j < n && ks[j] == k))
                lost++;
        }
        free(ks);
        free(vs);
        qsort(ms, (size_t)trials, sizeof ms[0], cmp_double);
        printf("failover trials=%d median_ms=%.0f max_ms=%.0f acked=%ld "
               "lost_acked=%ld\n",
               trials,
               trials % 2 ? ms[trials / 2]
                          : (ms[trials / 2 - 1] + ms[trials / 2]) / 2,
               ms[trials - 1], atomic_load(&n_acked), lost);
    }
    if (th_cluster_stop(&cluster) != 0)
        rv = 1;
    ru_table_close(&table);
    return rv != 0 || lost != 0;
}
