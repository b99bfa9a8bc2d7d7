/* tso_client — the router's client of the timestamp oracle (node/meta/tso.h,
 * on the meta group's leader), batching the requests of every session
 * thread as TiDB's PD client does.
 *
 * Any number of threads call tso_client_get(). At most one TsoRequest of
 * this router is in flight at a time. Callers that arrive while one is in
 * flight join the open batch and wait; when the request in flight ends,
 * one of them sends the next request for the whole open batch with
 * count = the number of its callers, and hands each its own timestamp
 * (first, first + 1, ...). Under load a router thus sends one request per
 * round trip, whatever the number of sessions.
 *
 * The guarantee: each caller gets a distinct timestamp, strictly greater
 * than every timestamp the oracle issued (to anyone) before the caller's
 * call began. That is why a caller that arrives while a request is in
 * flight never takes a timestamp from that request, although it would be
 * served sooner: that request may have reached the oracle before the
 * caller began, and meanwhile another router may have committed a
 * transaction at a commit timestamp the oracle issued after it. A
 * snapshot taken from it would miss a commit that finished before the
 * caller started (a stale read). A request sent after the call began is
 * answered with timestamps greater than everything issued before it
 * arrived (the oracle's contract, proto/talus.proto TsoRequest), so a
 * timestamp taken after a commit sees that commit.
 *
 * Timestamps handed to one thread increase from call to call (follows
 * from the guarantee: the next call begins after the previous returned).
 *
 * The RPC is a callback (struct tso_client_ops): tso_client_rpc_fetch()
 * asks the meta group through the router's cluster client
 * (common/client/client.h: leader following and retries until the
 * deadline); unit tests drive the batching with a fake oracle.
 *
 * Thread-safe. Locks: c->mu guards the open batch and the in-flight flag
 * (struct tso_client says which fields); it is never held during the RPC
 * and nothing else is locked under it. */
#ifndef TL_ROUTER_TSO_CLIENT_H
#define TL_ROUTER_TSO_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "tl_error.h"

struct router;

/** The most timestamps one TsoRequest may ask for (node/meta/tso.h's
 * TSO_MAX_COUNT); a larger open batch is served by several requests. */
#define TSO_CLIENT_MAX_COUNT 65536

/* How a batch gets its timestamps. */
struct tso_client_ops {
    void *arg;
    /** Ask the oracle for @count (1..TSO_CLIENT_MAX_COUNT) consecutive
     * timestamps, retrying until @deadline_ms (router_now_ms() clock);
     * @stmt_deadline says that it is every caller's statement_timeout (a
     * failure at it is then 57014). 0 with *@first the first of them, or
     * a negative TL_E* code with @err filled (the PostgreSQL error every
     * caller of the batch gets). Called without any lock held, by one
     * thread at a time. */
    int (*fetch_cb)(void *arg, uint32_t count, int64_t deadline_ms,
                    bool stmt_deadline, uint64_t *first, struct tl_error *err);
    /** How long a caller without a statement_timeout may wait, in ms
     * (router_default_deadline()'s budget). */
    int default_budget_ms;
};

struct tso_client;

/** A client whose batches are fetched by @ops (copied). On success *@out
 * is the caller's, released with tso_client_destroy(). TL_ENOMEM. */
int tso_client_create(const struct tso_client_ops *ops,
                      struct tso_client **out);

/** Release @c; no call may be running. NULL is a no-op. */
void tso_client_destroy(struct tso_client *c);

/** One timestamp for the calling thread into *@ts: distinct from every
 * other caller's and greater than every timestamp the oracle issued
 * before this call began (see the top of this header). @deadline_ms is
 * the statement_timeout (router_now_ms() clock; 0: none, then the
 * default budget): the call waits until then for its batch to be sent,
 * and once sent, for that request, which retries until the latest
 * deadline of the batch's callers. 0, or a negative
 * code with @err filled: the batch's error (40001 / 08006 when the meta
 * group has no reachable leader, 57014 at a statement_timeout, the node's
 * own error as sent, XX000 for a reply without a timestamp), or
 * TL_ETIMEOUT (57014 under a statement_timeout, else 08006) when the
 * deadline passed before its batch could even be sent. *@ts is untouched
 * on failure. */
int tso_client_get_until(struct tso_client *c, int64_t deadline_ms,
                         uint64_t *ts, struct tl_error *err);

/** tso_client_get_until() without a statement_timeout. */
int tso_client_get(struct tso_client *c, uint64_t *ts, struct tl_error *err);

/* Counters of a client (for tests and the router's closing log line). */
struct tso_client_stats {
    uint64_t n_requests;   /* TsoRequests sent */
    uint64_t n_timestamps; /* timestamps handed out */
    uint32_t n_waiting;    /* callers in the open batch now */
};

/** The counters of @c into @out. Cannot fail. */
void tso_client_stats(struct tso_client *c, struct tso_client_stats *out);

/** The fetch_cb of a router: a TsoRequest for @count to the meta group
 * of struct router @arg through its cluster client, TL_CLIENT_READ (a
 * repeated request only wastes timestamps), until @deadline_ms. Errors:
 * the cluster client's (tl_client_retry_error(): 40001 or 08006 with no
 * leader reached, 57014 / 08006 when the leader did not answer in time),
 * the node's Error as sent (TL_ESQL), or XX000 (TL_EPROTO) for a reply
 * without a timestamp. */
int tso_client_rpc_fetch(void *arg, uint32_t count, int64_t deadline_ms,
                         bool stmt_deadline, uint64_t *first,
                         struct tl_error *err);

#endif
