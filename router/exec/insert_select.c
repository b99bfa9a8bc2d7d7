/* insert_select — INSERT ... SELECT through a destination that writes
 * the rows it receives. See insert_select.h. */
#include "router/exec/insert_select.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "router/exec/copy_in.h"
#include "router/exec/dml_int.h"
#include "router/exec/select.h"
#include "router/sql/sql_int.h"

/* The most a self-referencing INSERT ... SELECT gathers before writing. */
#define INSERT_SELECT_MAX_BYTES ((size_t)256 << 20)

/* The destination the SELECT's rows go to. */
struct ins_dest {
    struct dest d; /* first: the callbacks get it */
    struct dest *client;
    struct sql_stmt *st;
    struct ins *in;
    const PgQuery__InsertStmt *is;
    /* Per result column: where its value goes in the row given to COPY's
     * writer (-1: dropped, an identity column under OVERRIDING USER
     * VALUE). */
    int32_t *slot;
    size_t n_slots;     /* columns written */
    struct copy_in *ci; /* created at startup */
    size_t *cols;       /* table column of each slot */
    struct tl_value *vals;
    struct tl_arena scratch; /* per row */
    /* Gathering first (the SELECT reads the target table). */
    bool gather;
    struct tl_arena kept;
    struct tl_value **rows;
    size_t n_rows, cap_rows;
    uint64_t n_written;
};

/* Where the SELECT's result column @i is written (-1: unknown, e.g. a
 * `*` or a set operation). */
static int
target_location(const PgQuery__InsertStmt *is, size_t i, size_t n)
{
    const PgQuery__SelectStmt *ss = is->select_stmt->select_stmt;
    if (ss->op != PG_QUERY__SET_OPERATION__SETOP_NONE ||
        ss->n_target_list != n || i >= n)
        return -1;
    return ss->target_list[i]->res_target->location;
}

static int
startup(struct dest *d, const struct dest_column *cols, size_t n)
{
    struct ins_dest *x = (struct ins_dest *)d;
    struct sql_stmt *st = x->st;
    struct ins *in = x->in;
    if (n > in->n_target) {
        sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                  "INSERT has more expressions than target columns");
        return sql_error_at(st, TL_ESYNTAX,
                            target_location(x->is, in->n_target, n));
    }
    if (n < in->n_target) {
        sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                  "INSERT has more target columns than expressions");
        return sql_error_at(
            st, TL_ESYNTAX,
            x->is->n_cols > n ? x->is->cols[n]->res_target->location : -1);
    }
    x->slot = tl_arena_alloc(st->a, (n + 1) * sizeof(*x->slot));
    x->cols = tl_arena_alloc(st->a, (n + 1) * sizeof(*x->cols));
    for (size_t i = 0; i < n; i++) {
        const struct tl_column *col = &in->t->columns[in->target[i]];
        if (col->identity != TL_IDENTITY_NONE &&
            in->override == PG_QUERY__OVERRIDING_KIND__OVERRIDING_USER_VALUE) {
            x->slot[i] = -1; /* takes its default */
            continue;
        }
        if (col->identity == TL_IDENTITY_ALWAYS &&
            in->override !=
                PG_QUERY__OVERRIDING_KIND__OVERRIDING_SYSTEM_VALUE) {
            return dml_generated_always(st, col);
        }
        /* The assignment rules of INSERT ... VALUES (42804 otherwise). */
        struct tl_expr *e = tl_expr_column(st->a, 0, cols[i].type);
        int rv = bind_assign(st, &e, col->name, col->type, col->typmod,
                             target_location(x->is, i, n));
        if (rv != 0)
            return rv;
        x->slot[i] = (int32_t)x->n_slots;
        x->cols[x->n_slots++] = (size_t)in->target[i];
    }
    x->vals = tl_arena_alloc(st->a, (x->n_slots + 1) * sizeof(*x->vals));
    if (st->describe_only)
        return 0;
    return copy_in_begin(st, in->t, x->cols, x->n_slots, &x->ci);
}

/* Write one row of values in slot order. */
static int
write_row(struct ins_dest *x, const struct tl_value *vals)
{
    int bad_field;
    uint64_t bad_line;
    int rv = copy_in_row_values(x->ci, vals, x->n_written + 1, &bad_field,
                                &bad_line);
    if (rv == 0)
        x->n_written++;
    return rv;
}

static int
row(struct dest *d, const struct tl_value *v, size_t n)
{
    struct ins_dest *x = (struct ins_dest *)d;
    struct sql_stmt *st = x->st;
    tl_arena_reset(&x->scratch);
    struct tl_arena *a = x->gather ? &x->kept : &x->scratch;
    struct tl_value *vals =
        x->gather ? tl_arena_alloc(a, (x->n_slots + 1) * sizeof(*vals))
                  : x->vals;
    for (size_t i = 0; i < n; i++) {
        if (x->slot[i] < 0)
            continue;
        const struct tl_column *col = &x->in->t->columns[x->cols[x->slot[i]]];
        struct tl_value *out = &vals[x->slot[i]];
        if (v[i].is_null) {
            *out = tl_value_null(col->type);
            continue;
        }
        int rv = tl_value_cast(&v[i], col->type, col->typmod, a, out, &st->err);
        if (rv != 0)
            return rv;
        out->type = col->type;
        if (x->gather && tl_type_has_bytes(out->type))
            *out = tl_value_text_dup(a, out->type, out->u.s.p, out->u.s.len);
    }
    if (!x->gather)
        return write_row(x, vals);
    if (x->kept.total > INSERT_SELECT_MAX_BYTES)
        return sql_error(st, TL_ETOOBIG, TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
                         "INSERT ... SELECT from the table it writes needs "
                         "more than %d MiB at the router",
                         (int)(INSERT_SELECT_MAX_BYTES >> 20));
    tl_arena_reserve(&x->kept, (void **)&x->rows, x->n_rows, &x->cap_rows,
                     sizeof(*x->rows), 64);
    x->rows[x->n_rows++] = vals;
    return 0;
}

static void
complete(struct dest *d, const char *tag)
{
    (void)d;
    (void)tag; /* the SELECT's tag: INSERT answers with its own */
}

static void
notice(struct dest *d, const struct tl_error *e, bool warning)
{
    struct ins_dest *x = (struct ins_dest *)d;
    dest_notice(x->client, e, warning);
}

/* Whether the text of @query names table @name as a word: then the
 * SELECT may read rows the INSERT writes, and it is gathered first. */
static bool
names_table(const char *query, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = strstr(query, name); p != NULL;
         p = strstr(p + 1, name)) {
        char before = p > query ? p[-1] : ' ';
        char after = p[len];
        bool word_before = (before >= 'a' && before <= 'z') ||
                           (before >= 'A' && before <= 'Z') ||
                           (before >= '0' && before <= '9') || before == '_';
        bool word_after = (after >= 'a' && after <= 'z') ||
                          (after >= 'A' && after <= 'Z') ||
                          (after >= '0' && after <= '9') || after == '_';
        if (!word_before && !word_after)
            return true;
    }
    return false;
}

int
insert_select_exec(struct sql_stmt *st, const PgQuery__InsertStmt *is,
                   bool explain)
{
    if (is->with_clause != NULL)
        return sql_unsupported(st, "WITH (common table expressions)");
    if (is->on_conflict_clause != NULL)
        return sql_unsupported(st, "ON CONFLICT");
    if (is->n_returning_list > 0)
        return sql_unsupported(st, "RETURNING");
    if (explain)
        return sql_unsupported(st, "EXPLAIN of INSERT ... SELECT");
    struct ins in = {0};
    in.override = is->override;
    int rv = sql_lookup_table(st, is->relation, &in.t);
    if (rv == 0)
        rv = dml_bind_target_columns(st, is, &in);
    if (rv != 0)
        return rv;
    struct ins_dest x = {
        .d = {.startup_cb = startup,
              .row_cb = row,
              .complete_cb = complete,
              .notice_cb = notice},
        .client = st->dest,
        .st = st,
        .in = &in,
        .is = is,
        .gather = names_table(st->query, in.t->name),
    };
    tl_arena_init(&x.scratch);
    tl_arena_init(&x.kept);
    st->dest = &x.d;
    rv = select_exec(st, is->select_stmt->select_stmt, false);
    st->dest = x.client;
    if (rv != 0 && !tl_error_is_set(&st->err) && tl_error_is_set(&x.d.err))
        st->err = x.d.err;
    for (size_t i = 0; rv == 0 && i < x.n_rows; i++)
        rv = write_row(&x, x.rows[i]);
    uint64_t n = 0, bad_line = 0;
    if (rv == 0 && x.ci != NULL)
        rv = copy_in_finish(x.ci, &n, &bad_line);
    if (rv != 0 && x.ci != NULL)
        copy_in_abort(x.ci);
    copy_in_destroy(x.ci);
    tl_arena_close(&x.scratch);
    tl_arena_close(&x.kept);
    if (rv != 0 || st->describe_only)
        return rv;
    char tag[48];
    snprintf(tag, sizeof(tag), "INSERT 0 %llu", (unsigned long long)n);
    dest_complete(st->dest, tag);
    return 0;
}
