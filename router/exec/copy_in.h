/* copy_in — the write side of COPY FROM: rows given as text fields are
 * converted to their columns' types (rows of the binary format come as
 * values of those types already), encoded, and written to their
 * shards in batches, so the router holds one batch, not the whole input.
 *
 * All or nothing, like a multi-row INSERT: outside a transaction block
 * a COPY of more than one batch, or over several shards, runs in a
 * transaction of its own, committed by copy_in_finish() and rolled back
 * by copy_in_abort() (inside a block its rows are the block's). No reader
 * sees a row of it before it commits.
 *
 * Used by one statement on one thread. */
#ifndef TL_COPY_IN_H
#define TL_COPY_IN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "router/sql/sql_int.h"

struct copy_in;

/* One field of an input row: NULL when is_null. */
struct copy_in_field {
    const char *p;
    size_t len;
    bool is_null;
};

/** Start a COPY into @t (borrowed, in st->a) of @n_cols fields per row,
 * field i going to column @cols[i] of @t (copied). Other columns are NULL
 * (a hidden rowid is generated) or take their DEFAULT, evaluated per
 * row. Writes errors into st->err. 0, or
 * TL_EIO when no undo file could be made (58030). */
int copy_in_begin(struct sql_stmt *st, struct tl_table *t, const size_t *cols,
                  size_t n_cols, struct copy_in **out);

/** Add the row of @fields (borrowed for the call), read from input line
 * @line. A value its column's type rejects fails with that type's error
 * (22P02, 22001, ...) and *@bad_field its index; a NOT NULL column left
 * NULL fails with 23502 (*@bad_field -1). A full batch is written now:
 * its failures (23505 for a key already present, or given twice) set
 * *@bad_line to the line of the row concerned (0 when none). The caller
 * then calls copy_in_abort(). */
int copy_in_row(struct copy_in *ci, const struct copy_in_field *fields,
                uint64_t line, int *bad_field, uint64_t *bad_line);

/** Add the row of typed values @vals (borrowed for the call; @vals[i] NULL
 * or of the type of column cols[i], its typmod applied, as decoded from
 * COPY's binary format), read as tuple @line. Text values are copied.
 * Otherwise as copy_in_row() (*@bad_field stays -1: the values are
 * checked). */
int copy_in_row_values(struct copy_in *ci, const struct tl_value *vals,
                       uint64_t line, int *bad_field, uint64_t *bad_line);

/** Write the last batch and commit the COPY's own transaction if it has
 * one; *@n_rows is the number of rows copied. Errors as copy_in_row(),
 * or the commit's. */
int copy_in_finish(struct copy_in *ci, uint64_t *n_rows, uint64_t *bad_line);

/** Roll back the COPY's own transaction, if it has one: none of its rows
 * stays. Cannot fail. */
void copy_in_abort(struct copy_in *ci);

/** Free @ci (its undo file with it); NULL is a no-op. */
void copy_in_destroy(struct copy_in *ci);

#endif
