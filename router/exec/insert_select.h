/* insert_select — INSERT INTO t [(cols)] SELECT ...: the query runs as any
 * SELECT does (on the shards, or at the router), its rows go through
 * assignment casts into the table through COPY's batched writer, so the
 * router holds one batch, and a failure takes back every row written. */
#ifndef TL_INSERT_SELECT_H
#define TL_INSERT_SELECT_H

#include <pg_query/pg_query.pb-c.h>
#include <stdbool.h>

struct sql_stmt;

/** Run @is, whose source is a SELECT (not VALUES), and send "INSERT 0 n"
 * (with @explain: 0A000). PostgreSQL's errors: 42601 for a column count
 * that does not match, 42804 for a type that cannot be assigned, 428C9
 * for a GENERATED ALWAYS identity column without OVERRIDING SYSTEM VALUE;
 * the write errors of COPY (23505, 23502, 54000). When the SELECT reads
 * the target table, its rows are gathered first (at most 256 MiB, 54000
 * beyond), so the statement never reads what it writes. */
int insert_select_exec(struct sql_stmt *st, const PgQuery__InsertStmt *is,
                       bool explain);

#endif
