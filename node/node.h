/* node — the storage node process: wiring of storage, raft and RPC.
 *
 * Threads: ONE libuv loop thread drives every raft group (one per hosted
 * shard), their shared transport listener, a leader-polling timer and the
 * signal handlers. K RPC worker threads decode requests, run scans on
 * RocksDB directly, and hand write proposals to the loop through a locked
 * queue + uv_async_send; the loop calls raft_apply() and the apply
 * callback wakes the waiting worker. Workers never touch raft or loop
 * state; the loop never blocks on workers except at shutdown (join).
 *
 * Lifetime: node_create() -> node_start() -> node_run() -> node_destroy().
 * node_run() returns once SIGTERM/SIGINT (or a failed start) has closed
 * everything: stop proposals, close every raft group, stop RPC, close
 * the listener. */
#ifndef NODE_NODE_H
#define NODE_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster_config.h"

struct node;

struct node_options {
    uint32_t id;
    int n_workers;               /* RPC threads, default 16 */
    unsigned snapshot_threshold; /* raft entries between snapshots */
    unsigned snapshot_trailing;  /* entries kept after a snapshot */
    unsigned election_timeout_ms;
    unsigned heartbeat_timeout_ms;
    unsigned fetch_page_bytes;  /* out-of-band snapshot page, 1 MiB */
    bool no_read_barrier;       /* UNSAFE, benchmarks only: leaders serve
                                   reads without a barrier (stale reads
                                   possible around leader changes) */
    unsigned scan_row_delay_us; /* tests only: sleep per row a scan visits
                                   (0: none), to make scans slow */
    long long tso_skew_ms;      /* tests only: added to the wall clock the
                                   timestamp oracle reads (0: none) */
};

/** Default options for node @id. Cannot fail. */
void node_options_defaults(struct node_options *o, uint32_t id);

/** Create a node for @cfg (copied) with @opts. TL_EINVAL if the id is not
 * in the config (logged). On success release with node_destroy(). */
int node_create(const struct tl_cluster_config *cfg,
                const struct node_options *opts, struct node **out);

/** Open storage, start every raft group, the raft listener and the RPC
 * server. On failure (logged once) the node is shutting down: still call
 * node_run() to let it finish, then node_destroy(). */
int node_start(struct node *n);

/** Run the loop until the node has shut down. */
void node_run(struct node *n);

/** Ask the node to shut down (thread-safe, async-signal-unsafe). */
void node_stop(struct node *n);

/** Free @n after node_run() returned. NULL is a no-op. */
void node_destroy(struct node *n);

#endif
