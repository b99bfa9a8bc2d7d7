/* txn_waits — who waits for whom, as the waiters said: the edges of the
 * wait-for graph that a deadlock detector follows (router/txn/coord.h
 * txn_wait_check()).
 *
 * A transaction that waits for another's row lock registers the edge
 * "start_ts waits for waits_ts (whose record is on waits_shard)" with the
 * leader of its own record's shard (TxnStatusRequest.register_wait), and
 * again while it waits; a detector asking that leader for the
 * transaction's state gets the edge back. Nothing is replicated: an edge
 * is a hint that expires TXN_WAITS_TTL_MS after its last registration (a
 * waiter renews it more often), so a new leader, or an edge left by a
 * waiter that stopped, costs at most one late or false detection; a
 * waiter clears its edge when its wait ends.
 *
 * Fixed capacity (TXN_WAITS_MAX edges: past it the oldest is replaced).
 * Thread-safe: every edge is guarded by mu, which each function takes. */
#ifndef NODE_TXN_WAITS_H
#define NODE_TXN_WAITS_H

#include <pthread.h>
#include <stdint.h>

#define TXN_WAITS_MAX 4096
#define TXN_WAITS_TTL_MS 1500

struct txn_wait_edge {
    uint32_t shard;    /* the waiter's record shard */
    uint64_t start_ts; /* the waiter; 0: free slot */
    uint64_t waits_ts; /* the holder it waits for */
    uint32_t waits_shard;
    int64_t at_ms; /* last registration (monotonic ms) */
};

struct txn_waits {
    pthread_mutex_t mu;
    struct txn_wait_edge e[TXN_WAITS_MAX]; /* guarded by mu */
};

/** Initialise @w (empty). Cannot fail. */
void txn_waits_init(struct txn_waits *w);
/** Free what @w holds. */
void txn_waits_close(struct txn_waits *w);

/** Transaction @start_ts (record on @shard) waits for @waits_ts (record
 * on @waits_shard) as of @now_ms; @waits_ts 0 removes its edge. */
void txn_waits_set(struct txn_waits *w, uint32_t shard, uint64_t start_ts,
                   uint64_t waits_ts, uint32_t waits_shard, int64_t now_ms);

/** The edge of @start_ts (record on @shard) registered less than
 * TXN_WAITS_TTL_MS before @now_ms: 1 with *@waits_ts and *@waits_shard,
 * else 0. */
int txn_waits_get(struct txn_waits *w, uint32_t shard, uint64_t start_ts,
                  int64_t now_ms, uint64_t *waits_ts, uint32_t *waits_shard);

#endif
