/* exec_join — the joins of a scan fragment (ScanFragment.joins): each
 * outer row the scan produces is joined, step by step, with the rows of
 * other tables in the same column family: the full copy of a reference
 * table, or the shard's own rows of a sharded table co-located with the
 * outer one (the router checks that every match is on this shard).
 *
 * The combined row is the scanned ("outer") table's columns followed by
 * each joined table's columns, in step order; the fragment's filter,
 * projection and order are over it. A step finds its candidate rows by
 *  - a point lookup per outer row when its equi-join columns cover the
 *    joined table's primary key,
 *  - a scan of the key range per outer row when they cover its first
 *    primary-key columns (only the matching rows are read),
 *  - else a table of the joined table's rows (those passing the step's own
 *    filter) sorted by their equi-join key, built once per fragment and
 *    probed by binary search; without equi-join columns every row of that
 *    table is a candidate (a nested loop).
 * Every candidate must then pass the step's ON condition (which includes
 * the equalities: the key only narrows the candidates). A LEFT step
 * emits the outer row with NULLs when no candidate passes.
 *
 * The fragment's filter is split by the deepest column each of its AND
 * conjuncts reads: conjuncts over the outer table alone run before any
 * join (exec_join_outer_filter()), the others as soon as the step whose
 * columns they need has set them.
 *
 * Memory: the built tables of one fragment stay under
 * exec_join_max_bytes, else 54000 "joined table too large for a join".
 * Everything lives in the request arena. */
#ifndef NODE_EXEC_JOIN_H
#define NODE_EXEC_JOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "expr.h"
#include "node/store/mvcc.h"
#include "node/store/store.h"
#include "table.h"
#include "talus.pb-c.h"
#include "tl_error.h"

/* Cap on the bytes one fragment's built join tables may hold (rows,
 * keys, decoded values). A variable so that tests can lower it. */
extern size_t exec_join_max_bytes;

struct exec_join;

/* Called for each combined row that passed every filter (the values are
 * in the array given to exec_join_run()). 0 continue, 1 stop, < 0 error. */
typedef int (*exec_join_emit_fn)(void *arg);

/** Compile the joins of @sf (sf->n_joins > 0) over @outer, reading
 * @cf of @st through @view (copied); @filter (may be NULL)
 * is the fragment's filter over the combined row. Builds the tables of the
 * steps that need one. On success
 * *@out lives in @a (close it with exec_join_close()). Errors: TL_EPROTO
 * (08P01) for an inconsistent step, 54000 over exec_join_max_bytes,
 * storage errors (XX000), corrupt rows (XX001). */
int exec_join_create(struct store *st, struct store_cf *cf,
                     const struct mvcc_read *view,
                     const Talus__ScanFragment *sf,
                     const struct tl_table *outer, struct tl_expr *filter,
                     struct tl_arena *a, struct exec_join **out,
                     struct tl_error *err);

/** Columns of the combined row. Cannot fail. */
uint32_t exec_join_n_cols(const struct exec_join *j);
/** Type of combined column @i (< exec_join_n_cols()). Cannot fail. */
uint8_t exec_join_col_type(const struct exec_join *j, uint32_t i);
/** The conjuncts of the filter over the outer table alone (NULL: none):
 * the scan applies them before calling exec_join_run(). Borrowed. */
struct tl_expr *exec_join_outer_filter(const struct exec_join *j);

/** Join the outer row in @vals[0..outer columns) (@vals has
 * exec_join_n_cols() slots; the rest are overwritten) and call @fn for
 * each combined row that passes. Evaluation memory comes from @row_a.
 * Returns 0, 1 when @fn asked to stop, or < 0 (an evaluation or storage
 * error, or @fn's) with @err filled. */
int exec_join_run(struct exec_join *j, struct tl_value *vals,
                  struct tl_arena *row_a, exec_join_emit_fn fn, void *arg,
                  struct tl_error *err);

/** Release what @j holds outside the arena; NULL is a no-op. */
void exec_join_close(struct exec_join *j);

#endif
