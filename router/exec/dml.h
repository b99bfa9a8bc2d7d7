/* dml — run INSERT, UPDATE and DELETE: bind, route, send the writes to the
 * shards and the command tag to the client, or with EXPLAIN the plan. */
#ifndef TL_DML_H
#define TL_DML_H

#include <pg_query/pg_query.pb-c.h>
#include <stdbool.h>

struct sql_stmt;

/* Each runs one statement and sends its result (or, with @explain, its
 * plan); errors are left in st->err. */
int dml_exec_insert(struct sql_stmt *st, const PgQuery__InsertStmt *is,
                    bool explain);
int dml_exec_update(struct sql_stmt *st, const PgQuery__UpdateStmt *us,
                    bool explain);
int dml_exec_delete(struct sql_stmt *st, const PgQuery__DeleteStmt *ds,
                    bool explain);
/* TRUNCATE: every table named must exist (42P01, no position, as
 * PostgreSQL reports it), then each one's rows are removed on every shard
 * with one range delete per shard (not atomic across shards or tables:
 * there are no transactions yet). RESTART IDENTITY then puts the
 * sequences the tables own (serial, identity) back to their start;
 * CASCADE has nothing to act on (no foreign keys). */
int dml_exec_truncate(struct sql_stmt *st, const PgQuery__TruncateStmt *ts);

#endif
