/* reads — confirmation of linearizable reads for one raft group.
 *
 * canonical/raft has no ReadIndex and no lease, so a leader confirms that
 * it still leads by committing a raft barrier: a read that arrived before
 * the barrier was issued may be served once the barrier committed in the
 * leader's term. One barrier is in flight per group; reads that arrive
 * meanwhile wait for the next one, so a burst of reads costs two barriers.
 *
 * Never re-enter raft from a raft callback. When a leader steps down, raft
 * fails its pending requests by calling their callbacks during the state
 * transition (raft 0.15 did so with its per-follower progress already
 * freed, and a raft_barrier() from there walked freed memory). So the
 * barrier callback only completes the batch it confirmed; if more reads are
 * waiting, it records the term and asks the owner to call
 * reads_run_deferred() on a later turn of the loop, which issues the next
 * barrier only if the replica still leads in that term and otherwise fails
 * the waiting reads as not led here.
 *
 * Everything here runs on the loop thread that drives @raft. */
#ifndef NODE_READS_H
#define NODE_READS_H

#include <raft.h>
#include <stdbool.h>
#include <stdint.h>

struct reads;

/** One read waiting for confirmation. @done is called exactly once, on the
 * loop, with 0 (served: the barrier committed while leading) or a raft
 * code (RAFT_NOTLEADER, RAFT_LEADERSHIPLOST, RAFT_SHUTDOWN, ...). The
 * waiter is borrowed until then. */
struct read_waiter {
    void (*done)(struct read_waiter *w, int status);
    struct read_waiter *next;
};

struct reads {
    struct raft *raft; /* borrowed; the group's raft */
    struct raft_barrier barrier;
    bool busy;                 /* a barrier is in flight */
    bool deferred;             /* waiting for reads_run_deferred() */
    raft_term deferred_term;   /* the term the deferral was asked in */
    struct read_waiter *wait;  /* arrived, no barrier issued for them yet */
    struct read_waiter *batch; /* confirmed by the barrier in flight */
    /* Called from the barrier callback when reads are waiting: arrange for
     * reads_run_deferred() to run on a later loop turn. Must not call into
     * raft. */
    void (*defer)(struct reads *r);
    void *data;          /* the owner's */
    uint64_t n_barriers; /* barriers issued, for tests and status */
};

/** Initialise @r for @raft (borrowed). Cannot fail. */
void reads_init(struct reads *r, struct raft *raft,
                void (*defer)(struct reads *r), void *data);

/** Queue @w (borrowed until its done callback). Issues a barrier now if
 * none is in flight or deferred. Must not be called from inside a raft
 * callback. Cannot fail: errors reach @w->done. */
void reads_add(struct reads *r, struct read_waiter *w);

/** The deferred step asked by @r->defer: issue the next barrier if the
 * replica still leads in the term of the deferral, else fail every waiting
 * read with RAFT_LEADERSHIPLOST. No-op when nothing was deferred. */
void reads_run_deferred(struct reads *r);

/** Fail every read not yet confirmed and not in a barrier in flight with
 * @status (shutdown, drop). The in-flight batch is completed by raft when
 * it cancels the barrier. */
void reads_fail_waiting(struct reads *r, int status);

#endif
