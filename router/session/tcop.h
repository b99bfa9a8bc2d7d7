/* tcop — the traffic cop of one client connection, as PostgreSQL's
 * tcop/postgres.c: it runs the statements of a Query message, and the
 * extended query protocol's Parse, Bind, Describe, Execute and Close
 * against prepared statements and portals, sending each result to the
 * client through a destination (router/sql/dest.h).
 *
 * A prepared statement holds its parse tree and the types of its $n
 * (declared by Parse, else inferred from their use when first described
 * or bound; unknown ones are reported as text); the result columns it was
 * described with are kept with the catalog version they were found at, so
 * Describe of a prepared statement binds it only once per catalog
 * version. A SELECT of one table also keeps a generic plan
 * (router/exec/plancache.h), made at its first run and made again before
 * a run once the catalog changed: runs then only fill in the values.
 * A portal holds a statement, its parameter values and result
 * formats, and for Execute with a row limit the rows not sent yet.
 * The session's transaction (router/txn/txn.h) follows PostgreSQL's
 * postgres.c: a Query message of several statements is one implicit
 * block, the messages of the extended protocol up to Sync one
 * transaction; an error fails an open block (25P02 for what follows
 * until ROLLBACK), and ReadyForQuery reports 'I', 'T' or 'E'. Every Sync
 * ends the portals; prepared statements live until Close or the end of
 * the session.
 *
 * One struct tcop per connection, used by the connection's thread only. */
#ifndef TL_TCOP_H
#define TL_TCOP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct pgw_conn; /* router/wire/pgwire.h */
struct router;   /* router/core/router.h */
struct tcop;

/** Create the traffic cop of connection @c on router @r (both borrowed;
 * they outlive it). Statements stop with 57014 once *@cancel becomes true
 * (borrowed; a CancelRequest sets it). Cannot fail. */
struct tcop *tcop_create(struct router *r, struct pgw_conn *c,
                         atomic_bool *cancel);

/** Free @t with its statements and portals; NULL is a no-op. */
void tcop_destroy(struct tcop *t);

/** Run the text of one Query message: each statement in order, results
 * sent to the client, stopping at the first error (an ErrorResponse), an
 * empty string answered by EmptyQueryResponse. Drops the unnamed
 * statement and portal. Sends no ReadyForQuery; returns the transaction
 * status to report with it ('I', 'T' or 'E'). Never fails. */
char tcop_simple_query(struct tcop *t, const char *query);

/** Handle one extended-protocol message of @type ('P' Parse, 'B' Bind,
 * 'D' Describe, 'E' Execute, 'C' Close) with body @p (@len bytes): 0, or
 * a negative TL_E* code after an ErrorResponse was sent (the caller then
 * skips messages up to Sync). */
int tcop_extended(struct tcop *t, char type, const uint8_t *p, size_t len);

/** Sync: the implicit transaction ends and its portals with it (an
 * explicit block stays open). Sends no ReadyForQuery; returns the status
 * to report with it ('I', 'T' or 'E'). */
char tcop_sync(struct tcop *t);

/** An error was sent outside the traffic cop (FunctionCall): it fails
 * the transaction as any error does. Returns the status to report. */
char tcop_fail(struct tcop *t);

/** How long the client may stay silent now before the session ends
 * (idle_in_transaction_session_timeout while a block is open), in
 * milliseconds; 0: no limit. */
int64_t tcop_idle_timeout_ms(struct tcop *t);

#endif
