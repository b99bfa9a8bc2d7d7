/* index_ddl — CREATE [UNIQUE] INDEX and DROP INDEX: secondary indexes
 * local to each shard (common/secindex.h).
 *
 * CREATE INDEX stores the index in the table's description as building
 * (every write from then on maintains it, no read uses it), then fills
 * each shard in chunks (talus.IndexBuildRequest: the first chunk raises
 * the shard's catalog fence, so a write planned before the index existed
 * is refused and planned again; a chunk waits for the row locks of
 * transactions that wrote before it), and finally marks the index valid
 * from a timestamp taken after the fill: reads at or after it may use
 * it. Like PostgreSQL's CREATE INDEX CONCURRENTLY, writers are never
 * blocked; a failure (a duplicate for a UNIQUE index) takes the index
 * back out. */
#ifndef TL_INDEX_DDL_H
#define TL_INDEX_DDL_H

#include <pg_query/pg_query.pb-c.h>

struct sql_stmt;

/** CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON t
 * [USING btree] (col [ASC], ...). PostgreSQL's names (t_a_idx, t_a_key,
 * numbered when taken) and errors (42P01, 42703, 42P07, 23505 "could
 * not create unique index"); 0A000 for expressions, DESC, INCLUDE,
 * partial and non-btree indexes, and for a UNIQUE index on a sharded
 * table without its shard key column (uniqueness is checked per shard). */
int index_exec_create(struct sql_stmt *st, const PgQuery__IndexStmt *is);

/** DROP INDEX [CONCURRENTLY] [IF EXISTS] name, ...: all or nothing;
 * 42704 for an unknown name, 2BP01 for a primary key's index. */
int index_exec_drop(struct sql_stmt *st, const PgQuery__DropStmt *ds);

#endif
