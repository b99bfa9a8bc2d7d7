/* dml_int — the INSERT machinery of dml.c shared with COPY FROM
 * (copy_in.c): rows encoded for a table, written to their shards as one
 * batch per shard, and taken back when a statement fails. */
#ifndef TL_DML_INT_H
#define TL_DML_INT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "router/sql/sql_int.h"
#include "table.h"

/* One row to insert: its values, and once encoded its key, stored value
 * and shard (all in the statement's arena). */
struct ins_row {
    struct tl_value *vals;
    uint8_t *key;
    size_t key_len;
    uint8_t *value;
    size_t value_len;
    uint32_t shard;
};

struct ins {
    struct tl_table *t;
    int32_t *target; /* column of each VALUES position */
    size_t n_target;
    struct ins_row *rows;
    size_t n_rows;
    /* The parsed DEFAULT of each column (NULL: none; the whole array
     * NULL when no column has one), bound anew for each row. */
    const PgQuery__Node **defaults;
    /* INSERT ... OVERRIDING (PgQuery__OverridingKind). */
    int override;
};

/** The default of column @c of @in's table for one row into *@out (NULL
 * of the column's type when it has none): default_eval(), so nextval()
 * takes a value now. */
int dml_default_value(struct sql_stmt *st, const struct ins *in, uint32_t c,
                      struct tl_value *out);

/** 428C9 "cannot insert a non-DEFAULT value into column "c"" for the
 * GENERATED ALWAYS identity column @col (with PostgreSQL's detail and
 * hint); returns TL_EINVAL. */
int dml_generated_always(struct sql_stmt *st, const struct tl_column *col);

/** Resolve INSERT's column list into in->target (every visible column
 * without one): 42703 for a column @in->t lacks, 42701 for one named
 * twice. */
int dml_bind_target_columns(struct sql_stmt *st, const PgQuery__InsertStmt *is,
                            struct ins *in);

/** Encode @r's values (a full row of @t) into its key, value and shard,
 * in st->a; @tmp is scratch. Cannot fail. */
void dml_encode_row(struct sql_stmt *st, const struct tl_table *t,
                    struct ins_row *r, struct tl_buf *tmp);

/** A key given twice among @in's rows: 23505 naming the later row, whose
 * index goes to *@bad_row. */
int dml_check_duplicates(struct sql_stmt *st, struct ins *in, size_t *bad_row);

/** A DELETE_RANGE of [@start, @end) (copied into st->a). Cannot fail. */
Talus__Mutation *dml_delete_range(struct sql_stmt *st,
                                  const struct tl_buf *start,
                                  const struct tl_buf *end);

/** Write @in's encoded rows, one batch per shard, in parallel (54000
 * before anything is sent when a batch would not fit one Raft entry).
 * Outside a transaction, rows for several shards start the statement's
 * own (gather_txn_begin(): the caller ends it with gather_txn_end());
 * rows for one shard commit as one Raft entry. A duplicate key names its
 * row, whose index goes to *@bad_row (SIZE_MAX when the failure names no
 * row). */
int dml_insert_rows(struct sql_stmt *st, struct ins *in, size_t *bad_row);

#endif
