/* alter — ALTER TABLE: ADD COLUMN, DROP COLUMN, ALTER COLUMN SET/DROP
 * DEFAULT and SET/DROP NOT NULL, RENAME TO, RENAME COLUMN. */
#ifndef TL_ALTER_H
#define TL_ALTER_H

#include <pg_query/pg_query.pb-c.h>

struct sql_stmt;

/** ALTER TABLE [IF EXISTS] t cmd, ...: every command applies to one new
 * description stored at once. PostgreSQL's errors (42P01, 42703, 42701,
 * 23502 "column "c" of relation "t" contains null values"); 0A000 for
 * what Talus cannot do yet (ALTER COLUMN TYPE, constraints, a DEFAULT or
 * NOT NULL added to a table with rows, dropping a key column). */
int alter_exec_table(struct sql_stmt *st, const PgQuery__AlterTableStmt *as);

/** ALTER TABLE [IF EXISTS] t RENAME TO n / RENAME [COLUMN] a TO b. */
int alter_exec_rename(struct sql_stmt *st, const PgQuery__RenameStmt *rs);

#endif
