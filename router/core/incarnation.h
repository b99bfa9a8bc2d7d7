/* incarnation — this router's record in the meta group: its id, its
 * incarnation and its lease (common/meta/meta_routers.h says the layout
 * and how a lock resolver reads it).
 *
 * A router process registers once it listens: a fresh incarnation (a
 * timestamp of the oracle, so greater than every earlier incarnation of
 * any router) goes into its record with its address and a lease of
 * TL_META_ROUTER_LEASE_MS; a thread of its own renews the lease every
 * TL_META_ROUTER_RENEW_MS with a conditional write that expects the row it
 * wrote last. If the lease ran out before a renewal got through (the meta
 * group was unreachable for that long), a resolver may already have
 * treated this incarnation as dead: the router then registers a new one
 * instead of reviving it. If the record holds a newer incarnation of the
 * same id (another process started with the same --router-id), this one
 * is superseded: it stops renewing and says so in the log, once.
 * incarnation_stop() deletes the record (a router that dies leaves it to
 * expire).
 *
 * The record also reports the start timestamp of the oldest transaction
 * open in any session of this router (0: none), refreshed with every
 * renewal: the meta group's leader keeps the GC safe point at or below
 * it while the lease lives (node/meta/gc.c). Sessions tell it with
 * incarnation_txn_open() / incarnation_txn_close().
 *
 * Threads: incarnation_start() and incarnation_stop() from the main
 * thread; incarnation_current() and the transaction calls from any. */
#ifndef TL_ROUTER_INCARNATION_H
#define TL_ROUTER_INCARNATION_H

#include <stdint.h>

struct router;
struct incarnation;
struct tl_error;

/** Start registering and renewing router @r's record (@r borrowed: it
 * must outlive incarnation_stop()) under its r->router_id, with @addr
 * (copied, at most TL_META_ROUTER_ADDR_MAX bytes: longer is cut) as the
 * address its clients use. Registration happens on the new thread, so a
 * meta group that is down does not delay the start; it is retried every
 * TL_META_ROUTER_RENEW_MS. On success *@out is the caller's, released by
 * incarnation_stop(). TL_ENOMEM, or TL_EIO when the thread cannot be
 * started. */
int incarnation_start(struct router *r, const char *addr,
                      struct incarnation **out);

/** The incarnation registered now: 0 before the first registration got
 * through, and after the router was superseded. Thread-safe; cannot
 * fail. */
uint64_t incarnation_current(const struct incarnation *inc);

/** Transaction @start_ts of a session of router @r opened: it holds the
 * GC safe point from the next renewal on. Works without an incarnation
 * (before one is registered, in unit tests). Any thread; aborts if out of
 * memory. */
void incarnation_txn_open(struct router *r, uint64_t start_ts);
/** Transaction @start_ts of router @r ended (once per open). Any
 * thread; cannot fail. */
void incarnation_txn_close(struct router *r, uint64_t start_ts);
/** The start timestamp of the oldest open transaction of @r, 0 when none.
 * Any thread; cannot fail. */
uint64_t incarnation_oldest_txn(const struct router *r);

/** Stop renewing, delete the record if this incarnation still holds it
 * (waiting at most about 2 s for the meta group), and free @inc. A
 * renewal or registration in progress ends first: with the meta group
 * unreachable that takes up to 4 s (a registration's timestamp, up to
 * the router's default retry budget). NULL is a no-op. */
void incarnation_stop(struct incarnation *inc);

/** Whether router incarnation @incarnation (a lock record's owner) is
 * alive, from the routers' records in the meta group (read until
 * @deadline_ms, router_now_ms()'s clock): 1 alive (its record holds it
 * and its lease has not expired), 0 dead (no record holds it: the router
 * stopped or restarted; or its lease expired), or a negative error with
 * @err filled. Any thread. */
int incarnation_liveness(struct router *r, uint64_t incarnation,
                         int64_t deadline_ms, struct tl_error *err);

#endif
