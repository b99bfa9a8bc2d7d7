/* local — run a SELECT at the router: queries over pg_catalog,
 * information_schema and the talus schema, with joins, subqueries,
 * grouping and set operations (sql/query.h binds them). */
#ifndef TL_LOCAL_H
#define TL_LOCAL_H

#include <pg_query/pg_query.pb-c.h>
#include <stdbool.h>

#include "router/sql/sql_int.h"

/** Bind @ss (query_wanted() said it runs here), run it and send its rows
 * to the statement's destination (only its columns when describing).
 * With @explain: 0A000. Errors in st->err. */
int local_select(struct sql_stmt *st, const PgQuery__SelectStmt *ss,
                 bool explain);

#endif
