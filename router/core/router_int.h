/* router_int — helpers of router.c shared by the catalog and the executor.
 *
 * Leader following: every request to a shard goes through a struct
 * router_retry, which picks the node for each attempt (the shard's known
 * leader first, kept per shard in struct router and shared by all
 * connection threads), reads the node's answer from its structured fields
 * (Error.code, Response.leader_hint) and decides whether to send again,
 * where, and after what pause, until the call's deadline:
 *
 * - a not-leader reply naming the leader: switch to it at once;
 * - no leader named, a node that does not host the shard, a node that
 *   cannot be reached or does not answer: try the shard's other replicas,
 *   then every other node, pausing 25, 50, 100, 200, 200... ms; a node
 *   that could not be reached is passed over for ROUTER_DOWN_MS.
 *
 * - a stale map version (TL_ESTALE: the node saw a newer catalog than the
 *   request was planned with; it did nothing): reload the catalog; if the
 *   request's table (retry->table_id) still exists, send again at once
 *   with the new version, else fail with 42P01 (TL_ESTALE).
 *
 * Reads are sent again freely. Writes (a WriteBatch, or a ModifyFragment
 * whose batch the node proposes under the request id) are sent again with
 * the same request id, which the node's state machine deduplicates, even
 * when an attempt's outcome is unknown (a resent modify is flagged `retry`
 * so that the node answers the first attempt's count). A request without
 * an id is sent again only while every attempt was refused before it ran.
 * When the deadline passes, the call fails with 40001 if nothing can have
 * been applied (08006 with one replica per shard: no election can help),
 * 08007 (transaction_resolution_unknown) if a write may
 * have been: a write is never reported done unless a node confirmed it. */
#ifndef TL_ROUTER_INT_H
#define TL_ROUTER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "router/core/router.h"
#include "talus.pb-c.h"
#include "tl_error.h"

/** How long a call may keep looking for a leader when the statement sets
 * no statement_timeout and shards have several replicas. With one replica
 * the budget is request_timeout_ms: no election can bring the shard back
 * sooner than its node, and that is the documented bound. */
#define ROUTER_RETRY_BUDGET_MS 10000
/** How long a request may wait for a connection to its node before the
 * node counts as unreachable (common/rpc.h connect timeout). */
#define ROUTER_CONNECT_TIMEOUT_MS 300
/** How long retries pass over a node found unreachable (they still try it
 * when a leader hint names it, or when every candidate is passed over). */
#define ROUTER_DOWN_MS 1000
/** Pauses between attempts on other nodes: doubled from the first, capped. */
#define ROUTER_BACKOFF_FIRST_MS 25
#define ROUTER_BACKOFF_MAX_MS 200
/** How many stale-version refusals one call follows before giving up. */
#define ROUTER_STALE_MAX 8
/** How many "still in progress" answers (a leader applying a large write)
 * one call follows, each extending a default deadline by up to
 * request_timeout_ms: about 5 minutes with the default 5 s. */
#define ROUTER_PROGRESS_MAX 60

/* How a request may be repeated. */
enum router_op {
    ROUTER_READ,   /* no effect: repeat after any failure */
    ROUTER_WRITE,  /* write or modify with a request id: repeat with it */
    ROUTER_MODIFY, /* no dedupe on the node: repeat only if refused */
};

enum router_verdict {
    ROUTER_DONE,   /* the attempt's rv/resp are the answer */
    ROUTER_RETRY,  /* send again to retry->node at retry->next_at_ms */
    ROUTER_FAILED, /* give up: router_retry_error() says why */
};

/* The retry state of one call to one shard. Plain data, owned by the
 * caller; router_retry_init() fills it. */
struct router_retry {
    uint32_t shard;
    enum router_op op;
    int64_t deadline_ms;   /* router_now_ms() clock */
    uint32_t node;         /* node of the next (or current) attempt */
    uint32_t n_attempts;   /* attempts judged so far */
    uint32_t n_hops;       /* consecutive leader hints followed */
    int backoff_ms;        /* next pause before trying another node */
    int64_t next_at_ms;    /* earliest start of the next attempt */
    uint32_t table_id;     /* table the request touches, 0: not checked */
    uint32_t n_stale;      /* stale-version refusals followed */
    bool gone;             /* refused as stale, and the table is gone */
    bool unknown;          /* a write attempt may have been applied */
    bool failed;           /* ROUTER_FAILED was returned */
    bool stmt_deadline;    /* the deadline is the statement_timeout */
    uint32_t n_silent;     /* attempts sent and not answered in time: a
                              node was working on them, or stuck */
    uint32_t n_progress;   /* "still in progress" answers followed */
    bool no_leader;        /* the latest attempt found no leader known
                              (refused without a hint, or unreachable) */
    char why[200];         /* the last failure, for the error detail */
    char why_unknown[200]; /* the failure that made the outcome unknown */
};

/** Milliseconds on the monotonic clock. Cannot fail. */
int64_t router_now_ms(void);

/** The deadline of a call started now without a statement_timeout: now
 * plus ROUTER_RETRY_BUDGET_MS, or request_timeout_ms with one replica per
 * shard. Cannot fail. */
int64_t router_default_deadline(const struct router *r);

/** The kind of @req for retries: scans and status are ROUTER_READ, a
 * WriteBatch with a request id ROUTER_WRITE, anything else
 * ROUTER_MODIFY. Cannot fail. */
enum router_op router_op_of(const Talus__Request *req);

/** The user table @req reads or writes (its TableDesc, or the prefix of
 * its first mutation key), 0 for system keys or none. Cannot fail. */
uint32_t router_request_table(const Talus__Request *req);

/** Start the retry state of a call of kind @op to @shard that may last
 * until @deadline_ms (router_now_ms() clock). The first attempt goes to
 * the shard's known leader. Cannot fail. */
void router_retry_init(struct router *r, struct router_retry *t, uint32_t shard,
                       enum router_op op, int64_t deadline_ms);

/** The client for the attempt @t is about to make, and in *@timeout_ms
 * the time it may take: the request timeout, or what is left before the
 * deadline if less. Returns NULL when
 * the deadline has passed (the caller then treats the call as
 * ROUTER_FAILED). Thread-safe. */
struct tl_rpc_client *
router_retry_client(struct router *r, struct router_retry *t, int *timeout_ms);

/** Judge the attempt @t made: @rv from tl_rpc_call_wait and its @resp
 * (may be NULL; borrowed). Updates the shared leader of the shard (a
 * success confirms the node, a hint names another). On ROUTER_RETRY the
 * caller frees @resp and sends the same request (same request id) to
 * router_retry_client() no earlier than t->next_at_ms. Thread-safe. */
enum router_verdict router_retry_next(struct router *r, struct router_retry *t,
                                      int rv, const Talus__Response *resp);

/** The report of a call that failed (ROUTER_FAILED, or an expired
 * deadline): 57014 if no attempt could be made in time, 08007 "transaction
 * resolution unknown" when a write may have been applied (returns
 * TL_ETIMEOUT); when some attempt reached a node that did not answer in
 * time and the latest one did not find the shard without a leader (a
 * leader busy or stuck, not an election), 57014 "canceling
 * statement due to statement timeout" under a statement_timeout, else
 * 08006 "shard S did not answer in time" (returns TL_ETIMEOUT);
 * otherwise no leader was known (returns TL_EUNAVAILABLE): 40001 "could
 * not reach the leader of shard S" with a hint to retry, or with one
 * replica per shard 08006 "shard S is unavailable"; TL_ESTALE with 42P01
 * when the table was dropped or recreated meanwhile. @err may be NULL. */
int router_retry_error(const struct router *r, const struct router_retry *t,
                       struct tl_error *err);

/** Turn the result of router_call() to @shard (@rv and its @resp, which
 * may be NULL) into 0, or a negative code with @err filled: the node's
 * Error as sent (TL_ESQL), 40001 (08006 with one replica) for
 * TL_EUNAVAILABLE (no leader reached, nothing applied), 08007 for
 * TL_ETIMEOUT (a write not confirmed). */
int router_call_result(const struct router *r, uint32_t shard, int rv,
                       const Talus__Response *resp, struct tl_error *err);

/** Send @req to @shard and wait for the reply, following leaders and
 * retrying (router_retry_*) until router_default_deadline(); @idempotent
 * marks a request that may be repeated freely (otherwise router_op_of()
 * decides). 0 with *@resp (may hold an Error reply: a SQL answer), or
 * TL_EUNAVAILABLE / TL_ETIMEOUT with *@resp NULL as router_call_result()
 * explains, or another code from tl_rpc_call_wait. */
int router_call(struct router *r, uint32_t shard, const Talus__Request *req,
                bool idempotent, Talus__Response **resp);

/** A fresh id for a hidden rowid column: increasing within this router and
 * distinct across routers (time in ms, router id bits, counter). Thread-safe;
 * cannot fail. */
int64_t router_next_rowid(struct router *r);

#endif
