/* router_int — helpers of router.c shared by the catalog and the executor.
 *
 * They turn the outcome of one node call into the report a SQL client
 * sees, so that every caller words an unreachable shard the same way. */
#ifndef TL_ROUTER_INT_H
#define TL_ROUTER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "router.h"
#include "talus.pb-c.h"
#include "tl_error.h"

/** Turn the result of a call to @shard (@rv from tl_rpc_call_wait and its
 * @resp, which may be NULL) into 0, or a negative code with @err filled:
 * the node's Error as sent (TL_ESQL), or 08006 "shard S is unavailable"
 * with a detail naming the node for TL_ETIMEOUT/TL_EUNAVAILABLE. */
int router_call_result(const struct router *r, uint32_t shard, int rv,
                       const Talus__Response *resp, struct tl_error *err);

/** After a failed call to @shard (@rv and @resp as for
 * router_call_result), decide whether sending it again can help, and to
 * which node: a not-leader reply naming the leader moves the shard's
 * leader to that node; with several replicas an unreachable node or one
 * that knows no leader moves it to the next node. Never for a write whose
 * outcome is unknown, nor (unless @idempotent) after a timeout. Sets
 * *@wait_ms to a pause before the retry (an election may be running).
 * Thread-safe. */
bool router_reroute(struct router *r, uint32_t shard, int rv,
                    const Talus__Response *resp, bool idempotent, int *wait_ms);

/** Send @req to @shard and wait for the reply, following leader changes
 * (router_reroute) a bounded number of times. Same results as
 * tl_rpc_call_wait; *@resp may hold an Error reply. */
int router_call(struct router *r, uint32_t shard, const Talus__Request *req,
                bool idempotent, Talus__Response **resp);

/** How many times a call may be sent again after a leader change (with
 * the pauses for an election, about two seconds). */
#define ROUTER_MAX_REROUTES 10

/** A fresh id for a hidden rowid column: increasing within this router and
 * distinct across routers (time in ms, router id bits, counter). Thread-safe;
 * cannot fail. */
int64_t router_next_rowid(struct router *r);

#endif
