/* sql — the SQL front end of a router connection: parse (libpg_query),
 * bind to the catalog, plan fragments, scatter them to shards, gather and
 * send the result to the client.
 *
 * One struct sql_session per client connection, used by that connection's
 * thread only. Session settings (SET/SHOW) live here. */
#ifndef TL_SQL_H
#define TL_SQL_H

#include <stdatomic.h>
#include <stdint.h>

struct pgw_conn; /* router/wire/pgwire.h */
struct router;   /* router/core/router.h */
struct sql_session;

/** Create the SQL state of a connection on router @r that answers on @c
 * (both borrowed; they outlive the session). Cannot fail. */
struct sql_session *sql_session_create(struct router *r, struct pgw_conn *c);

/** Make the statements of @s stop with 57014 "canceling statement due to
 * user request" once *@flag (borrowed; NULL: never) becomes true; it is
 * checked at every wait. Cannot fail. */
void sql_session_set_cancel(struct sql_session *s, atomic_bool *flag);

/** Record who the session is, as its StartupMessage and BackendKeyData
 * said: @user and @database (copied, truncated to 63 bytes) and @pid, for
 * current_user, current_database() and pg_backend_pid(). Until it is
 * called they are empty and 0. Cannot fail. */
void sql_session_set_identity(struct sql_session *s, const char *user,
                              const char *database, uint32_t pid);

/** Free @s; NULL is a no-op. */
void sql_session_destroy(struct sql_session *s);

/** Execute the text of one simple-protocol Query message: each statement
 * in order, results sent to the connection (RowDescription, DataRow,
 * CommandComplete, EmptyQueryResponse for an empty string), stopping at
 * the first error, which is sent as an ErrorResponse. Sends no
 * ReadyForQuery; returns the transaction status to report with it ('I').
 * Never fails: every problem becomes an ErrorResponse. */
char sql_exec_simple(struct sql_session *s, const char *query);

#endif
