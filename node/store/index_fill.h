/* index_fill — CREATE INDEX's fill of a chunk of one shard: the work of
 * the state machine's FSM_ENTRY_INDEX_BUILD (talus.IndexBuildRequest),
 * done at apply, in log order, so every replica writes the same entries.
 *
 * Each row of the table in [start, end) as newest committed gets its
 * entry in the index (common/secindex.h) unless the entry already holds
 * it: a write applied after the build's catalog fence maintained it
 * (node/replica/fsm.c refuses batches planned before the fence). A
 * missing entry is written at @commit_ts, above every version the shard
 * applied, so it never shadows a newer one; no read uses the index
 * before the build ends (IndexDesc.valid_ts). */
#ifndef NODE_STORE_INDEX_FILL_H
#define NODE_STORE_INDEX_FILL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "node/store/fsm_result.h"
#include "node/store/store.h"
#include "table.h"
#include "tl_error.h"

/** Add to @b the missing entries of index @ix of @t (borrowed) for the
 * rows in [@start, @end) of @cf (@end_len 0: to the table's end), at
 * @commit_ts. @res: FSM_OK with affected = rows visited; FSM_LOCKED
 * (nothing added; mutation -1) when a transaction locks a row of the
 * range or an entry's key; FSM_COND_FAILED with cond ABSENT and mutation
 * = the ordinal (from 0) of the row whose entry repeats another row's
 * (UNIQUE; nothing added). TL_EIO, TL_ECORRUPT. */
int index_fill(struct store *st, struct store_cf *cf, struct store_batch *b,
               const struct tl_table *t, const struct tl_index *ix,
               const void *start, size_t start_len, const void *end,
               size_t end_len, uint64_t commit_ts, struct fsm_result *res);

/** Where a chunk of at most @max_rows rows of @t from @start/@start_len
 * (0: the table's start) ends, as the leader reads the newest committed
 * rows now: *@end (reset, then appended) the key of the next row, left
 * empty when the chunk reaches the table's end. 1 when a transaction
 * locks a row first (its key in @end; the caller waits for it), 0, or
 * TL_EIO / TL_ECORRUPT. */
int index_fill_chunk_end(struct store *st, struct store_cf *cf,
                         const struct tl_table *t, const void *start,
                         size_t start_len, uint32_t max_rows,
                         struct tl_buf *end);

/** Fill @err with UNIQUE index @ix's "could not create unique index"
 * report (23505) naming the values of row @ordinal (from 0) of @t from
 * @start/@start_len on, as index_fill() counted. Returns TL_EDUPKEY. */
int index_fill_dup_error(struct store *st, struct store_cf *cf,
                         const struct tl_table *t, const struct tl_index *ix,
                         const void *start, size_t start_len, uint64_t ordinal,
                         struct tl_error *err);

#endif
