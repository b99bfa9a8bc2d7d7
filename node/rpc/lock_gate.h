/* lock_gate — what a shard leader's modify, row lock and prewrite do with
 * the queue of lock waiters (lock_queue.h), so that waiters get a row's
 * lock in the order they first asked for it.
 *
 * Every modify, row lock and write is gated unless it skips locked rows
 * (SKIP LOCKED never waits); NOWAIT is gated, never queued (as in
 * PostgreSQL, it fails while others wait for the row). A waiter is its
 * transaction (TxnInfo.start_ts), or outside one (an autocommit point
 * write) its request id, which every retry keeps. Snapshot reads are
 * never gated.
 *
 *  - lock_gate_propose() stands between exec and the real propose: a
 *    batch one of whose keys has no lock but a queue headed by another
 *    transaction is not proposed; it is answered FSM_LOCKED on that key
 *    (exec turns it into TL_ELOCKED) and the head is remembered.
 *  - lock_gate_done() after the request: refused on a locked or queued
 *    key, its transaction queues there (or keeps its place), and a queue
 *    refusal names the head in err->lock_ts/lock_shard (a transaction
 *    that holds nothing here: Error.lock_queued; a head outside a
 *    transaction names the holder it waits for); done, it leaves the
 *    shard's queues. */
#ifndef NODE_LOCK_GATE_H
#define NODE_LOCK_GATE_H

#include <stdbool.h>
#include <stdint.h>

#include "node/exec/exec.h"
#include "node/rpc/node_rpc.h"
#include "talus.pb-c.h"

struct lock_gate {
    struct replica *sh;
    struct lock_queue_waiter me; /* me.id 0: not gated */
    exec_propose_fn propose;     /* proposes what the gate lets through */
    void *ctx;
    int64_t until_ms; /* the waiter stops waiting then (0: unknown) */
    bool queued;      /* the last batch was refused for the queue ... */
    struct lock_queue_waiter head; /* ... behind this waiter */
    bool next; /* refused by a lock, and first in its queue */
    /* The catalog version the request was planned with, carried by
     * every batch proposed (WriteBatch.map_version: the shard's fence
     * refuses a batch planned before an index build). */
    uint64_t map_version;
};

/** Set up @g for request @req (borrowed) on @sh, whose batches go to
 * @propose(@ctx, ...). @skip_locked: the request skips locked rows (not
 * gated). Cannot fail. */
void lock_gate_init(struct lock_gate *g, struct replica *sh,
                    const Talus__Request *req, bool skip_locked,
                    exec_propose_fn propose, void *ctx);

/** exec_propose_fn over a struct lock_gate *@ctx: @wb refused (FSM_LOCKED
 * at the queued key, nothing proposed) or proposed through g->propose. */
int lock_gate_propose(void *ctx, const Talus__WriteBatch *wb,
                      struct fsm_result *res, struct tl_error *err);

/** The request of @g ended with @rv: TL_ELOCKED at @locked_key (NULL or
 * empty: unknown) queues its transaction there and, when the queue
 * refused it, makes @err name the queue's head; 0 (unless @prepared: its
 * batch is only kept, not applied yet) or an error the router does not
 * send again takes it out of the shard's queues. Cannot fail. */
void lock_gate_done(struct lock_gate *g, int rv,
                    const ProtobufCBinaryData *locked_key, bool prepared,
                    struct tl_error *err);

/** Mark error reply @resp of a request the queue refused
 * (Error.lock_queued: the transaction named waits, it holds nothing
 * here), or of one that heads the queue (Error.lock_next: its router asks
 * again sooner). Cannot fail. */
void lock_gate_answer(const struct lock_gate *g, Talus__Response *resp);

#endif
