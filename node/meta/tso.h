/* tso — the timestamp oracle, served by the meta group's leader
 * (../shared/DESIGN.md "Transactions": a TSO as in TiDB's PD).
 *
 * A timestamp is physical milliseconds since the Unix epoch shifted left by
 * TSO_LOGICAL_BITS, plus a logical counter: strictly increasing across the
 * whole cluster and across leader changes and restarts, close to the wall
 * clock, never waiting for clocks to agree.
 *
 * How it stays increasing without leases:
 * - Before issuing timestamps the leader confirms it still leads with a
 *   read barrier of the meta group (a Raft entry committed in its term,
 *   batched with other reads), so a deposed leader issues nothing after a
 *   new one was elected.
 * - A high-water mark H is persisted through the meta group (a reserved
 *   key of its column family, TSO_HW_KEY) before any timestamp at or above
 *   it is issued; it is raised TSO_WINDOW_MS ahead of the clock, so that
 *   costs one Raft entry every few seconds, not one per request.
 * - Every leader issues above the H it finds: a new leader (or this one
 *   after someone else led) reads H after its barrier (everything its
 *   predecessors committed is applied by then) and starts above it. Only
 *   this node writes H while it leads, so a stored H other than the one it
 *   wrote last means another leader issued since.
 *
 * Thread-safe: issuing is serialized by the oracle's mutex (the barrier is
 * taken before it, so concurrent requests share barriers). */
#ifndef NODE_TSO_H
#define NODE_TSO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "tl_error.h"

#define TSO_LOGICAL_BITS 18
#define TSO_WINDOW_MS 3000
#define TSO_MAX_COUNT 65536
/* In the meta group's column family, among the store's reserved keys
 * (store.h: eight 0xFF bytes first, after every row key). */
#define TSO_HW_KEY                                                             \
    "\xff\xff\xff\xff\xff\xff\xff\xff"                                         \
    "tso_hw"
#define TSO_HW_KEY_LEN 14

struct replica;

struct tso {
    long long skew_ms;  /* tests only: added to the wall clock (set by
                           tso_init(), read-only after) */
    pthread_mutex_t mu; /* guards every field below */
    uint64_t last;      /* the last timestamp this node issued */
    uint64_t hw_mine;   /* the high-water mark this node wrote last */
};

/** Initialise @t; @skew_ms (tests only, else 0) is added to the wall
 * clock it reads. Cannot fail. */
void tso_init(struct tso *t, long long skew_ms);
/** Release @t. */
void tso_close(struct tso *t);

/** Issue @count (1..TSO_MAX_COUNT) consecutive timestamps of @t from @meta, the
 * meta group's replica on this node, which must lead: *@first is the
 * first. Worker threads only (it waits for a barrier and, every
 * TSO_WINDOW_MS, for a Raft entry). 0, or a TL_E* code with @err filled:
 * TL_ENOTLEADER / TL_EUNAVAILABLE / TL_ETIMEOUT when leadership cannot be
 * confirmed or the mark cannot be raised (nothing issued), TL_EIO. */
int tso_next(struct tso *t, struct replica *meta, uint32_t count,
             uint64_t *first, struct tl_error *err);

/** The physical part of timestamp @ts, milliseconds since the epoch. */
static inline uint64_t
tso_physical_ms(uint64_t ts)
{
    return ts >> TSO_LOGICAL_BITS;
}

#endif
