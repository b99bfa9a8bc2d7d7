/* secindex — the entries of a table's secondary indexes (CREATE INDEX).
 *
 * An index is local to each shard: its entries live in the shard of
 * their row and every write that changes a row changes its entries in
 * the same batch (one Raft entry), so a snapshot sees a row and its
 * entries together. An entry (talus.IndexDesc):
 *   key    prefix(table id, index id) | the index columns (keycodec.h)
 *          | the row's primary-key columns
 *   value  the row's whole key (tl_table_row_key)
 * A UNIQUE index's key leaves the primary-key columns out, so that a
 * second row with the same values meets the first one's entry: its PUT
 * carries the condition ABSENT. A row with a NULL index column keeps
 * them (NULLs are distinct, as in PostgreSQL). Routers write the entries
 * of the rows they insert; nodes those of the rows an UPDATE or DELETE
 * changes, and the entries of the rows that were there before a CREATE
 * INDEX (node/replica/fsm.c, IndexBuildRequest). */
#ifndef TL_SECINDEX_H
#define TL_SECINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "table.h"
#include "talus.pb-c.h"
#include "value.h"

/** Whether @ix's entry for @row is keyed by its values alone (a UNIQUE
 * index and no NULL among them): then its PUT checks ABSENT. */
bool tl_index_unique_key(const struct tl_index *ix, const struct tl_value *row);

/** Append the key of @ix's entry for @row, whose primary key is
 * @row_key/@row_key_len (tl_table_row_key), to @out. Cannot fail. */
void tl_index_key(const struct tl_table *t, const struct tl_index *ix,
                  const struct tl_value *row, const void *row_key,
                  size_t row_key_len, struct tl_buf *out);

/** Append to @out[*@n...] the mutations that change @t's index entries
 * as a row goes from @old (NULL: inserted) to @new (NULL: deleted), with
 * primary keys @old_key and @new_key: for each index, the DELETE of the
 * old entry and the PUT of the new one, unless the entry stays the same
 * (an entry that keeps its key but points to a moved row is one PUT).
 * A unique-keyed PUT carries ABSENT. @which[k] (if not NULL; room for
 * 2 * t->n_indexes) gets the position in t->indexes of the k-th mutation
 * this call appends. @out needs room for 2 * t->n_indexes more. Allocated in
 * @a; cannot fail. */
void tl_index_mutations(const struct tl_table *t, const struct tl_value *old,
                        const void *old_key, size_t old_key_len,
                        const struct tl_value *new, const void *new_key,
                        size_t new_key_len, struct tl_arena *a,
                        Talus__Mutation **out, uint32_t *which, size_t *n);

/** The index of @t named @name, or NULL. */
const struct tl_index *tl_table_find_index(const struct tl_table *t,
                                           const char *name);

/** The index of @t with id @id, or NULL. */
const struct tl_index *tl_table_index_by_id(const struct tl_table *t,
                                            uint32_t id);

#endif
