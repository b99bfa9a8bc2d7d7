/* router_int — helpers of router.c shared by the catalog and the executor.
 *
 * Leader following: every request to a shard goes through the router's
 * cluster client (r->client, common/client/client.h), which holds the
 * known leader of each shard, shared by all connection threads, and the
 * retry state machine (struct tl_client_retry): a not-leader reply naming
 * the leader switches to it at once; no leader named, a node that does not
 * host the shard, an unreachable or silent node: the shard's other
 * replicas, then every other node, with a backoff; writes are sent again
 * with the same request id; at the deadline 40001, 08006, 57014 or 08007
 * (client.h says which). What is the router's own is here, as the
 * client's hooks (router.c):
 *
 * - a stale map version (TL_ESTALE: the node saw a newer catalog than the
 *   request was planned with; it did nothing): reload the catalog; if the
 *   request's table (retry->table_id) still exists, send again at once
 *   with the new version, else fail with 42P01 (TL_ESTALE);
 * - a leader hint naming a node the router does not know, or a node
 *   without an address: learn the nodes from the registry
 *   (router_learn_nodes());
 * - every attempt of router_call() carries the catalog's version. */
#ifndef TL_ROUTER_INT_H
#define TL_ROUTER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/client/client.h"
#include "router/core/router.h"
#include "talus.pb-c.h"
#include "tl_error.h"

/** Milliseconds on the monotonic clock (tl_client_now_ms()). Cannot
 * fail. */
int64_t router_now_ms(void);

/** The deadline of a call started now without a statement_timeout: now
 * plus TL_CLIENT_RETRY_BUDGET_MS, or request_timeout_ms with one replica
 * per shard. Cannot fail. */
int64_t router_default_deadline(const struct router *r);

/** The user table @req reads or writes (its TableDesc, or the prefix of
 * its first mutation key), 0 for system keys or none. Cannot fail. */
uint32_t router_request_table(const Talus__Request *req);
/** The schema version of the table a scan or modify @req carries (0:
 * none: writes carry no description). */
uint32_t router_request_schema(const Talus__Request *req);

/** Turn the result of router_call() to @shard (@rv and its @resp, which
 * may be NULL) into 0, or a negative code with @err filled: the node's
 * Error as sent (TL_ESQL), 40001 (08006 with one replica) for
 * TL_EUNAVAILABLE (no leader reached, nothing applied), 08007 for
 * TL_ETIMEOUT (a write not confirmed). */
int router_call_result(const struct router *r, uint32_t shard, int rv,
                       const Talus__Response *resp, struct tl_error *err);

/** Send @req to @shard and wait for the reply, following leaders and
 * retrying (tl_client_call()) until router_default_deadline(); @idempotent
 * marks a request that may be repeated freely (otherwise
 * tl_client_op_of() decides). 0 with *@resp (may hold an Error reply: a
 * SQL answer), or TL_EUNAVAILABLE / TL_ETIMEOUT with *@resp NULL as
 * router_call_result() explains, or another code from tl_rpc_call_wait. */
int router_call(struct router *r, uint32_t shard, const Talus__Request *req,
                bool idempotent, Talus__Response **resp);

/** A fresh id for a hidden rowid column: increasing within this router and
 * distinct across routers (time in ms, router id bits, counter). Thread-safe;
 * cannot fail. */
int64_t router_next_rowid(struct router *r);

#endif
