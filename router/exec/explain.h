/* explain — EXPLAIN of SELECT, INSERT, UPDATE and DELETE: how a statement
 * is routed (which shards, which keys) and what filter the nodes
 * evaluate, sent as one text column. */
#ifndef TL_EXPLAIN_H
#define TL_EXPLAIN_H

#include <pg_query/pg_query.pb-c.h>
#include <stddef.h>

struct plan;
struct sql_stmt;

/** Send the EXPLAIN output for @p: @lines (already formatted, may be NULL)
 * are added after the standard route lines. */
void explain_send(struct sql_stmt *st, const struct plan *p, const char **extra,
                  size_t n_extra);
/** EXPLAIN of a SELECT/INSERT/UPDATE/DELETE; ANALYZE is refused. */
int explain_exec(struct sql_stmt *st, const PgQuery__ExplainStmt *es);

#endif
