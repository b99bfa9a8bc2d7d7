/* alter — ALTER TABLE: ADD COLUMN, DROP COLUMN, ALTER COLUMN SET/DROP
 * DEFAULT and SET/DROP NOT NULL, ADD PRIMARY KEY, RENAME TO, RENAME
 * COLUMN. ADD PRIMARY KEY, and ADD COLUMN ... DEFAULT on a table with
 * rows, rewrite the table under a new id (see alter.c). */
#ifndef TL_ALTER_H
#define TL_ALTER_H

#include <pg_query/pg_query.pb-c.h>

struct sql_stmt;

/** ALTER TABLE [IF EXISTS] t cmd, ...: every command applies to one new
 * description stored at once (with the rows rewritten first when a
 * command needs it; on failure the table is left as it was).
 * PostgreSQL's errors (42P01, 42703, 42701, 42P16 "multiple primary keys
 * for table "t" are not allowed", 23502 "column "c" of relation "t"
 * contains null values", 23505 "could not create unique index "t_pkey""
 * with DETAIL "Key (c)=(1) is duplicated."); 0A000 for what Talus cannot
 * do yet (ALTER COLUMN TYPE, constraints other than PRIMARY KEY, NOT NULL
 * without a default added to a table with rows, dropping a key column). */
int alter_exec_table(struct sql_stmt *st, const PgQuery__AlterTableStmt *as);

/** ALTER TABLE [IF EXISTS] t RENAME TO n / RENAME [COLUMN] a TO b. */
int alter_exec_rename(struct sql_stmt *st, const PgQuery__RenameStmt *rs);

#endif
