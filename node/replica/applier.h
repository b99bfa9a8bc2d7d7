/* applier — applies committed raft entries to RocksDB off the loop.
 *
 * One libuv loop drives every raft group of a node: while it runs an
 * FSM's apply() it sends no heartbeat for any group. A large batch (an
 * UPDATE of 150,000 rows is a 16 MB entry) takes hundreds of
 * milliseconds to check and write, and several of them in one loop turn
 * used to stall the loop past the election timeout. So with an applier
 * attached, an FSM's apply() only copies the entry onto its shard's queue
 * and returns; the applier thread applies the queued entries of every
 * shard, each shard's in log order, with fsm_apply_entry().
 *
 * What waits on an entry waits on the applier, not on raft:
 * - a proposal: raft's apply callback hands its opaque result to
 *   applier_claim(), which calls back once that index was applied, with
 *   the FSM's result (from the applier thread, or at once);
 * - a read: once its barrier committed, the worker waits with
 *   applier_wait() until the shard applied every entry raft had applied
 *   when the barrier's callback ran;
 * - what must see the shard's state at rest (a snapshot descriptor, an
 *   out-of-band restore starting or finishing, shutdown): applier_drain()
 *   or applier_idle().
 *
 * Locking: every field of struct applier and the queue fields of struct
 * node_fsm (fsm.h, "applier") are guarded by applier.mu. The thread
 * applies an entry without holding it; only it touches the FSM's RocksDB
 * state while the queue is non-empty or an entry is in progress. */
#ifndef NODE_APPLIER_H
#define NODE_APPLIER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "node/replica/fsm.h"

struct applier {
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* the thread: work queued or stop */
    pthread_cond_t done_cv; /* waiters: an entry was applied */
    struct node_fsm *ready_head, *ready_tail; /* shards with queued work */
    bool stop;
    bool started;
    pthread_t thread;
    uint64_t n_applied; /* entries applied by the thread */
};

/** A proposal's wait for its entry. @done runs once, on the applier
 * thread or inside applier_claim(), with 0 and the FSM's result, or
 * TL_EIO when the entry could not be applied. Borrowed until then. */
struct applier_waiter {
    uint64_t index;
    void (*done)(struct applier_waiter *w, int status,
                 const struct fsm_result *res);
    struct applier_waiter *next;
};

/** Start the applier thread. TL_EIO if it cannot start. */
int applier_start(struct applier *a);

/** Apply everything queued, then stop and join the thread. Safe if never
 * started. */
void applier_stop(struct applier *a);

/** Attach @f to @a: from now on its apply() queues entries. Before
 * raft_start(). Cannot fail. */
void applier_attach(struct applier *a, struct node_fsm *f);

/** Queue entry @index of @f (@data/@len copied). Loop thread (apply()).
 * Cannot fail. */
void applier_enqueue(struct node_fsm *f, uint64_t index, const void *data,
                     size_t len);

/** The entry whose apply() returned @result: call @w->done once it is
 * applied (at once if it already is). Without an applier, @result is the
 * packed FSM result and @w->done runs at once. Loop thread. */
void applier_claim(struct node_fsm *f, void *result, struct applier_waiter *w);

/** Wait until @f applied every entry up to @index (entries queued by
 * then), at most @timeout_ms. 0, or TL_ETIMEOUT. Any thread but the
 * applier's. Without an applier: 0 at once. */
int applier_wait(struct node_fsm *f, uint64_t index, uint32_t timeout_ms);

/** Wait until @f has nothing queued or in progress. Blocks the caller
 * (the loop, in the rare paths that need the state at rest). */
void applier_drain(struct node_fsm *f);

/** Whether @f has nothing queued or in progress (no wait). */
bool applier_idle(struct node_fsm *f);

/** The highest index of @f whose application finished (or 0). */
uint64_t applier_done_index(struct node_fsm *f);

#endif
