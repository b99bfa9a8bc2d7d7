/* router_metrics — what a router counts for /metrics (docs/monitoring.md)
 * and how it tells /ready.
 *
 * The series live in a registry of common/admin (metrics.h) that main()
 * creates; router_metrics_create() registers them and keeps their
 * pointers, so every count below is one relaxed atomic addition (a
 * statement's latency: a few more, into its histogram's bucket) and no
 * lock. Counters kept elsewhere (the cluster client's retries and leader
 * changes) are read by a collector at each scrape.
 *
 * Every function takes the router and does nothing when r->metrics is
 * NULL (unit tests, and a router before main() created it), so callers
 * never check. */
#ifndef TL_ROUTER_METRICS_H
#define TL_ROUTER_METRICS_H

#include <stdbool.h>
#include <stddef.h>

struct router;
struct tl_metrics;

/* The kind label of talus_router_statements_total. */
enum router_stmt_kind {
    ROUTER_STMT_SELECT,
    ROUTER_STMT_INSERT,
    ROUTER_STMT_UPDATE,
    ROUTER_STMT_DELETE,
    ROUTER_STMT_DDL,
    ROUTER_STMT_OTHER,
    ROUTER_STMT_N
};

/** Register the router's metrics in @reg (borrowed: it must outlive @r)
 * and set r->metrics, which lives as long as the process (sessions may
 * still count while it exits) and is never freed. Call before the first
 * connection. Cannot fail. */
void router_metrics_create(struct router *r, struct tl_metrics *reg);

/** A client connection was accepted (@delta 1; counts the total too) or
 * ended (@delta -1). */
void router_metrics_connection(struct router *r, int delta);

/** A statement of @kind ran for @seconds (failed or not). */
void router_metrics_statement(struct router *r, enum router_stmt_kind kind,
                              double seconds);

/** An ErrorResponse with @sqlstate (5 characters) went to a client. Takes
 * the errors family's lock only the first time a code is seen. */
void router_metrics_error(struct router *r, const char *sqlstate);

/** A call to a shard (or the meta group) began: router_call(). */
void router_metrics_shard_call(struct router *r);

/** The catalog was read again from the meta group. */
void router_metrics_catalog_reload(struct router *r);

/** /ready: the catalog is loaded and every shard has a known leader
 * that answered lately (the cluster client's view); otherwise false with
 * the first reason in @reason. Thread-safe (reads atomics and the
 * catalog's version). */
bool router_ready(struct router *r, char *reason, size_t len);

#endif
