/* settings — the settings of one session (SET, SHOW, RESET, DISCARD ALL)
 * and the server defaults SHOW reports. A session's settings live in its
 * struct sql_session and are used by its thread only. */
#ifndef TL_SETTINGS_H
#define TL_SETTINGS_H

#include <pg_query/pg_query.pb-c.h>
#include <stdint.h>

struct sql_session;
struct sql_stmt;

/** SET / RESET / SET LOCAL (until the end of the block; a warning outside
 * one), SET TRANSACTION and SET SESSION CHARACTERISTICS. */
int settings_exec_set(struct sql_stmt *st, const PgQuery__VariableSetStmt *vs);
/** SHOW name: the session's value or the server default; 42704 else. */
int settings_exec_show(struct sql_stmt *st,
                       const PgQuery__VariableShowStmt *vs);
/** The session's statement_timeout in milliseconds, 0 when none. */
int64_t settings_statement_timeout_ms(struct sql_session *s);
/** lock_timeout in milliseconds (0: none: the router's own bound on a
 * wait for a row lock applies). Cannot fail. */
int64_t settings_lock_timeout_ms(struct sql_session *s);
/** The session's idle_in_transaction_session_timeout in milliseconds, 0
 * when none. */
int64_t settings_idle_in_transaction_timeout_ms(struct sql_session *s);

#endif
