/* gather — scatter requests to shards and gather their answers.
 *
 * Every call goes to the shard's leader through the retry state machine of
 * the router's cluster client (common/client/client.h), until the
 * statement's deadline; the statement's
 * cancel flag and statement_timeout are looked at while waiting. Rows are
 * handed to callbacks; nothing here writes to the client. */
#ifndef TL_GATHER_H
#define TL_GATHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "router/core/router_int.h"
#include "talus.pb-c.h"

struct plan;
struct sql_stmt;

/* How long a request waits for a row a transaction locks (sent again
 * every GATHER_LOCK_RETRY_MS) before 55P03. */
#define GATHER_LOCK_WAIT_MS 5000
#define GATHER_LOCK_RETRY_MS 10
/* A waiter first in the row's queue (Error.lock_next) asks more often:
 * the row stays free until it does. */
#define GATHER_LOCK_NEXT_RETRY_MS 2
#define GATHER_LOCK_MARGIN_MS 250
/* After this long a waiter asks whether the lock's transaction is still
 * alive (router/txn/coord.h txn_resolve()), and again at this interval. */
#define GATHER_LOCK_RESOLVE_MS 500

/* How often a waiting statement looks at its cancel flag and deadline. */
#define GATHER_WAIT_SLICE_MS 20

struct gather_call {
    uint32_t shard;
    Talus__Request req;
    Talus__Response *resp; /* owned after gather_run; gather_release frees */
    int rv;                /* rpc result; TL_EUNAVAILABLE/TL_ETIMEOUT with
                              resp NULL when retries gave up */
    bool interrupted;      /* not finished: the statement was canceled
                              or timed out (st->err) */
    struct tl_client_retry retry; /* leader following (common/client) */
    int64_t lock_wait_until;      /* waiting for a row lock until then */
    int64_t lock_resolve_at;      /* when to look at the lock's owner */
    bool wait_registered;         /* a wait-for edge was registered */
    /* A write: the schema version of the table description it was
     * built from (0: not checked; scans and modifies carry theirs). */
    uint32_t schema_version;
};

/** Send every call's request (request ids and shards are filled here) in
 * parallel and wait for all, following shard leaders and retrying each
 * call (same request id) until the statement's deadline (router_int.h).
 * Each attempt tells the node how long it is waited for
 * (Request.timeout_ms): request_timeout_ms, or what is left of the
 * deadline if less. The node stops when that time is up, so a read is
 * never sent again while the node may still run it, and it ends a scan's
 * page well before, so a scan that makes progress is never cut off.
 * While waiting, sql_check_interrupts() is checked every
 * GATHER_WAIT_SLICE_MS: once it stops the statement, reads in flight are
 * abandoned, writes in flight are waited for (their outcome decides
 * between 57014 and 08007) and nothing is sent again; such calls are
 * marked interrupted. Cannot fail: per-call results are in rv and resp. */
void gather_run(struct sql_stmt *st, struct gather_call *calls, size_t n);
/** 0 if @call succeeded, else fill st->err (node Error, or 08006 for an
 * unreachable shard, 57014 for an interrupted call, 08007 for a write
 * whose outcome is unknown) and return a negative code. */
int gather_check(struct sql_stmt *st, const struct gather_call *call);
/** Free the responses of @calls. */
void gather_release(struct gather_call *calls, size_t n);

/** Outside a transaction, make the rest of the statement a transaction
 * of its own (READ COMMITTED, a start timestamp from the oracle; the
 * session's idle coordinator): its writes prewrite, and
 * gather_txn_end() commits them all at one timestamp or none. For a
 * statement whose writes reach several shards, or take several rounds
 * (COPY, INSERT ... SELECT, a modify that is not a point write), so a
 * failure or a crash at any step leaves none of it (PostgreSQL runs every
 * statement in a transaction). Inside a transaction, or without a
 * session (unit tests), nothing. 0 or an error from the oracle. */
int gather_txn_begin(struct sql_stmt *st);
/** End the transaction gather_txn_begin() started for @st, if any: with
 * @rv 0 commit it (before the statement reports its completion), else
 * roll it back. Returns @rv, or the commit's error (st->err filled). */
int gather_txn_end(struct sql_stmt *st, int rv);

/* Called for each row of a scan; the bytes live until the callback
 * returns. Return 0 to continue, 1 to stop the scan, < 0 on error. */
typedef int (*gather_row_cb)(struct sql_stmt *st, const uint8_t *row,
                             size_t len, void *arg);

/** Run @frag on the shards of @p (in parallel, following resume keys)
 * calling @cb for each row; *@count (may be NULL) gets the sum of
 * Response.count. */
int gather_scan(struct sql_stmt *st, const struct plan *p,
                const Talus__ScanFragment *frag, gather_row_cb cb, void *arg,
                uint64_t *count);
/** Run @mod on the shards of @p in parallel; *@count gets the rows
 * affected, and @per_shard (NULL, or p->n_shards zeroed counters) each
 * shard's part, indexed like p->shards. */
int gather_modify(struct sql_stmt *st, const struct plan *p,
                  const Talus__ModifyFragment *mod, uint64_t *count,
                  uint64_t *per_shard);
/** One WriteBatch of @muts on @shard; *@resp (may be NULL) gets the
 * response (free with talus__response__free_unpacked). */
int gather_write(struct sql_stmt *st, uint32_t shard, Talus__Mutation **muts,
                 size_t n, Talus__Response **resp);

#endif
