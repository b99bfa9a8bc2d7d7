/* select — run a SELECT: bind it, plan it, gather its rows from the shards
 * and send the result to the client (RowDescription, DataRow,
 * CommandComplete), or with EXPLAIN its plan. */
#ifndef TL_SELECT_H
#define TL_SELECT_H

#include <pg_query/pg_query.pb-c.h>
#include <stdbool.h>

struct sql_stmt;

/** Run @ss (or, with @explain, send its plan); errors are left in
 * st->err. */
int select_exec(struct sql_stmt *st, const PgQuery__SelectStmt *ss,
                bool explain);

#endif
