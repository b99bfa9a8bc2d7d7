/* copy_in — COPY FROM's rows, batched to the shards. Outside a
 * transaction, a COPY of more than one batch, or of one batch over
 * several shards, is a transaction of its own (gather_txn_begin()): it
 * commits every row at its end or none. */
#include "router/exec/copy_in.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "log.h"
#include "router/core/router_int.h"
#include "router/exec/dml_int.h"
#include "router/exec/gather.h"
#include "router/plan/route.h"
#include "row.h"

#define MOD "copy"
/* A batch is written once it holds this many rows or bytes, or once its
 * part for one shard reaches half of max_entry_bytes (that part is one
 * Raft entry). */
#define COPY_BATCH_ROWS 32768
#define COPY_BATCH_BYTES ((size_t)8 << 20)

struct copy_in {
    struct sql_stmt *st;
    /* The statement as the batches see it: st with its own arena, reset
     * after each batch (st->a holds the table for the whole COPY). */
    struct sql_stmt bst;
    struct tl_arena batch;
    struct tl_table *t;
    size_t *cols;
    size_t n_cols;
    struct ins in; /* the batch being filled */
    size_t cap;
    uint64_t *lines; /* input line of each row of the batch */
    size_t bytes;
    size_t max_bytes;
    size_t *shard_bytes; /* the batch's bytes per shard (n_shards) */
    size_t max_shard_bytes;
    struct tl_buf tmp;
    uint64_t n_written;
    bool *given; /* per column: a field of the input (else its default) */
};

int
copy_in_begin(struct sql_stmt *st, struct tl_table *t, const size_t *cols,
              size_t n_cols, struct copy_in **out)
{
    struct copy_in *ci = calloc(1, sizeof(*ci));
    if (ci == NULL)
        abort();
    ci->st = st;
    ci->t = t;
    ci->cols = malloc((n_cols + 1) * sizeof(*cols));
    if (ci->cols == NULL)
        abort();
    memcpy(ci->cols, cols, n_cols * sizeof(*cols));
    ci->n_cols = n_cols;
    tl_arena_init(&ci->batch);
    tl_buf_init(&ci->tmp);
    ci->bst = *st;
    ci->bst.a = &ci->batch;
    ci->in.t = t;
    ci->max_bytes = COPY_BATCH_BYTES;
    ci->max_shard_bytes = (size_t)st->r->cfg.max_entry_bytes / 2;
    ci->shard_bytes = calloc(st->r->cfg.n_shards + 1, sizeof(size_t));
    if (ci->shard_bytes == NULL)
        abort();
    /* Parsed once for the whole COPY (in st->a); bound per row. */
    int rv = default_parse_table(st, t, &ci->in.defaults);
    if (rv != 0) {
        copy_in_destroy(ci);
        return rv;
    }
    ci->given = calloc(t->n_columns + 1, sizeof(*ci->given));
    if (ci->given == NULL)
        abort();
    for (size_t i = 0; i < n_cols; i++)
        ci->given[cols[i]] = true;
    *out = ci;
    return 0;
}

static void
reset_batch(struct copy_in *ci)
{
    tl_arena_reset(&ci->batch);
    ci->in.rows = NULL;
    ci->in.n_rows = 0;
    ci->lines = NULL;
    ci->cap = 0;
    ci->bytes = 0;
    if (ci->shard_bytes != NULL)
        memset(ci->shard_bytes, 0,
               ci->st->r->cfg.n_shards * sizeof(*ci->shard_bytes));
}

/* Write the batch; on failure report it in ci->st->err. A batch that is
 * not the @last starts the COPY's transaction (if it has none); the last
 * batch of a COPY that has none starts it only when its rows reach
 * several shards (dml_insert_rows()). Either way it is the statement's
 * (ci->st), ended by copy_in_finish() or copy_in_abort(). */
static int
flush_batch(struct copy_in *ci, uint64_t *bad_line, bool last)
{
    if (ci->in.n_rows == 0)
        return 0;
    size_t bad = SIZE_MAX;
    tl_error_clear(&ci->bst.err);
    int rv = sql_check_interrupts(&ci->bst);
    if (rv == 0 && !last && ci->st->txn == NULL) {
        rv = gather_txn_begin(&ci->bst);
        ci->st->err = ci->bst.err;
    }
    if (rv == 0)
        rv = dml_check_duplicates(&ci->bst, &ci->in, &bad);
    if (rv == 0)
        rv = dml_insert_rows(&ci->bst, &ci->in, &bad);
    if (ci->bst.txn_implicit) {
        ci->st->txn = ci->bst.txn;
        ci->st->txn_implicit = true;
        ci->bst.txn_implicit = false;
    }
    if (rv != 0)
        ci->st->err = ci->bst.err;
    if (rv != 0) {
        *bad_line = bad < ci->in.n_rows ? ci->lines[bad] : 0;
        return rv;
    }
    ci->n_written += ci->in.n_rows;
    reset_batch(ci);
    return 0;
}

/* The value of COPY field @i for column @col: text @fields[i] read by the
 * column's input function, or typed @vals[i] as it is. */
static int
field_value(struct copy_in *ci, const struct tl_column *col,
            const struct copy_in_field *fields, const struct tl_value *vals,
            size_t i, struct tl_value *out)
{
    struct tl_arena *a = &ci->batch;
    if (vals != NULL) {
        /* A binary value has the column's type and typmod already; its
         * bytes belong to the caller's input, so text moves into the
         * batch. */
        *out = vals[i];
        assert(out->type == col->type);
        if (tl_type_has_bytes(out->type))
            out->u.s.p = tl_arena_strndup(a, out->u.s.p, out->u.s.len);
        return 0;
    }
    /* A field is text of unknown type, read by the column's input
     * function as an INSERT reads a quoted literal. */
    struct tl_value in = tl_value_text(
        TL_TYPE_UNKNOWN, tl_arena_strndup(a, fields[i].p, fields[i].len),
        (uint32_t)fields[i].len);
    return tl_value_cast(&in, col->type, col->typmod, a, out, &ci->st->err);
}

/* copy_in_row() for text @fields or typed @vals (one of them NULL). */
static int
add_row(struct copy_in *ci, const struct copy_in_field *fields,
        const struct tl_value *vals, uint64_t line, int *bad_field,
        uint64_t *bad_line)
{
    const struct tl_table *t = ci->t;
    struct tl_arena *a = &ci->batch;
    *bad_field = -1;
    *bad_line = 0;
    if (ci->in.n_rows == ci->cap) {
        size_t cap = ci->cap ? 2 * ci->cap : 256;
        struct ins_row *rows = tl_arena_alloc(a, cap * sizeof(*rows));
        uint64_t *lines = tl_arena_alloc(a, cap * sizeof(*lines));
        if (ci->in.n_rows > 0) {
            memcpy(rows, ci->in.rows, ci->in.n_rows * sizeof(*rows));
            memcpy(lines, ci->lines, ci->in.n_rows * sizeof(*lines));
        }
        ci->in.rows = rows;
        ci->lines = lines;
        ci->cap = cap;
    }
    struct ins_row *r = &ci->in.rows[ci->in.n_rows];
    memset(r, 0, sizeof(*r));
    r->vals = tl_arena_alloc(a, (t->n_columns + 1) * sizeof(*r->vals));
    for (uint32_t c = 0; c < t->n_columns; c++)
        r->vals[c] = tl_value_null(t->columns[c].type);
    for (size_t i = 0; i < ci->n_cols; i++) {
        const struct tl_column *col = &t->columns[ci->cols[i]];
        if (vals != NULL ? vals[i].is_null : fields[i].is_null)
            continue;
        int rv = field_value(ci, col, fields, vals, i, &r->vals[ci->cols[i]]);
        if (rv != 0) {
            *bad_field = (int)i;
            return rv;
        }
        r->vals[ci->cols[i]].type = col->type;
    }
    for (uint32_t c = 0; c < t->n_columns; c++) {
        if (t->columns[c].hidden && !t->columns[c].dropped) {
            r->vals[c] =
                tl_value_int(TL_TYPE_INT8, router_next_rowid(ci->st->r));
        } else if (!ci->given[c] && ci->in.defaults != NULL &&
                   ci->in.defaults[c] != NULL) {
            /* A column the COPY leaves out takes its default. */
            int rv = dml_default_value(&ci->bst, &ci->in, c, &r->vals[c]);
            if (rv != 0) {
                ci->st->err = ci->bst.err;
                tl_error_clear(&ci->bst.err);
                return rv;
            }
        }
    }
    int rv = tl_table_check_row(t, r->vals, &ci->st->err);
    if (rv != 0)
        return rv;
    dml_encode_row(&ci->bst, t, r, &ci->tmp);
    ci->lines[ci->in.n_rows] = line;
    ci->in.n_rows++;
    size_t row_bytes = r->key_len + r->value_len + 16;
    ci->bytes += row_bytes;
    /* A reference table's rows all go to every shard. */
    uint32_t shard = route_is_reference(t) ? 0 : r->shard;
    ci->shard_bytes[shard] += row_bytes;
    if (ci->in.n_rows >= COPY_BATCH_ROWS || ci->bytes >= ci->max_bytes ||
        ci->shard_bytes[shard] >= ci->max_shard_bytes)
        return flush_batch(ci, bad_line, false);
    return 0;
}

int
copy_in_row(struct copy_in *ci, const struct copy_in_field *fields,
            uint64_t line, int *bad_field, uint64_t *bad_line)
{
    return add_row(ci, fields, NULL, line, bad_field, bad_line);
}

int
copy_in_row_values(struct copy_in *ci, const struct tl_value *vals,
                   uint64_t line, int *bad_field, uint64_t *bad_line)
{
    return add_row(ci, NULL, vals, line, bad_field, bad_line);
}

int
copy_in_finish(struct copy_in *ci, uint64_t *n_rows, uint64_t *bad_line)
{
    *bad_line = 0;
    int rv = flush_batch(ci, bad_line, true);
    rv = gather_txn_end(ci->st, rv);
    *n_rows = rv == 0 ? ci->n_written : 0;
    return rv;
}

void
copy_in_abort(struct copy_in *ci)
{
    if (ci->st->txn_implicit)
        tl_info(MOD, "event=copy_rollback table=%s rows=%llu", ci->t->name,
                (unsigned long long)ci->n_written);
    gather_txn_end(ci->st, TL_EIO);
    ci->n_written = 0;
    reset_batch(ci);
}

void
copy_in_destroy(struct copy_in *ci)
{
    if (ci == NULL)
        return;
    tl_buf_close(&ci->tmp);
    tl_arena_close(&ci->batch);
    free(ci->shard_bytes);
    free(ci->given);
    free(ci->cols);
    free(ci);
}
