/* alter — ALTER TABLE and ALTER TABLE ... RENAME: the new description is
 * computed from the cached one, checked against the rows where a change
 * needs it (SET NOT NULL, ADD COLUMN ... NOT NULL), then stored in one
 * conditional catalog write that also moves the map version, so a
 * statement planned with the old description is refused and planned
 * again. Most changes leave the rows alone: a new column without a
 * DEFAULT is NULL in rows written before it, a dropped one stays in
 * them, hidden.
 *
 * ADD PRIMARY KEY, and ADD COLUMN ... DEFAULT on a table with rows,
 * rewrite the table: every row is read, given its new key and its new
 * columns' defaults (evaluated per row, as PostgreSQL's table rewrite
 * does), and written under a new table id through COPY's writer
 * (copy_in.h); then one conditional write of the meta group puts the new
 * description (new id) in the place of the old one
 * (catalog_swap_table()), and the old rows are deleted. A failure before
 * the swap takes the new rows back and leaves the table as it was; a
 * crash leaves either the old table or the new one, and rows under an id
 * no table has (never read). */
#include "router/exec/alter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "log.h"
#include "router/core/catalog.h"
#include "router/core/router_int.h"
#include "router/exec/copy_in.h"
#include "router/exec/gather.h"
#include "router/exec/select.h"
#include "router/plan/plan.h"
#include "router/sql/sql_int.h"
#include "row.h"

#define MOD "alter"

/* What the commands of one ALTER TABLE leave to do beyond storing the new
 * description. */
struct alter_ctx {
    bool rewrite;        /* every row is written again, under a new id */
    bool new_pk;         /* ADD PRIMARY KEY: the hidden rowid goes */
    const char *pk_name; /* the new key's index name (its constraint) */
};

/* What the catalog write puts in place of the stored description: the
 * table as computed, if the stored one is still the one it started from. */
struct alter_arg {
    const struct tl_table *from; /* the description the change started from */
    const struct tl_table *to;   /* the new description (st->a) */
};

static int
replace(struct tl_table **t, void *arg, struct tl_error *err)
{
    const struct alter_arg *x = arg;
    if ((*t)->schema_version != x->from->schema_version)
        return tl_error_set(err, TL_ECONFLICT,
                            TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                            "table \"%s\" was changed by another statement "
                            "at the same time",
                            x->from->name);
    struct tl_table *n = tl_table_copy(x->to);
    n->schema_version = (*t)->schema_version;
    tl_table_destroy(*t);
    *t = n;
    return 0;
}

/* A destination that only notes whether a row came. */
struct any_dest {
    struct dest d;
    bool found;
};

static int
any_row(struct dest *d, const struct tl_value *v, size_t n)
{
    (void)v, (void)n;
    ((struct any_dest *)d)->found = true;
    d->stop = true;
    return 0;
}

/* Whether the query @sql (Talus' own) returns a row. */
static int
query_has_row(struct sql_stmt *st, const char *sql, bool *found)
{
    PgQueryProtobufParseResult pr = pg_query_parse_protobuf(sql);
    if (pr.error != NULL) {
        pg_query_free_protobuf_parse_result(pr);
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_INTERNAL_ERROR,
                         "could not parse the check of ALTER TABLE");
    }
    PgQuery__ParseResult *tree = pg_query__parse_result__unpack(
        NULL, pr.parse_tree.len, (const uint8_t *)pr.parse_tree.data);
    struct any_dest x = {.d = {.row_cb = any_row}};
    struct dest *client = st->dest;
    const char *query = st->query;
    st->dest = &x.d;
    st->query = sql;
    int rv = select_exec(st, tree->stmts[0]->stmt->select_stmt, false);
    st->dest = client;
    st->query = query;
    st->err.position = 0;
    pg_query__parse_result__free_unpacked(tree, NULL);
    pg_query_free_protobuf_parse_result(pr);
    *found = x.found;
    return rv;
}

/* A quoted identifier for the checks' SQL. */
static const char *
quote(struct sql_stmt *st, const char *name)
{
    struct tl_buf b;
    tl_buf_init(&b);
    tl_buf_append_u8(&b, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            tl_buf_append_u8(&b, '"');
        tl_buf_append_u8(&b, (uint8_t)*p);
    }
    tl_buf_append_u8(&b, '"');
    char *s = tl_arena_strndup(st->a, (const char *)b.data, b.len);
    tl_buf_close(&b);
    return s;
}

static int
no_column(struct sql_stmt *st, const struct tl_table *t, const char *name)
{
    return sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_COLUMN,
                     "column \"%s\" of relation \"%s\" does not exist", name,
                     t->name);
}

/* The visible column @name of @t, or -1. */
static int
find_column(const struct tl_table *t, const char *name)
{
    int c = tl_table_find_column(t, name);
    return c >= 0 && !t->columns[c].hidden ? c : -1;
}

static bool
is_key_column(const struct tl_table *t, int c)
{
    for (uint32_t i = 0; i < t->n_pk; i++)
        if ((int)t->pk[i] == c)
            return true;
    return c == t->shard_key;
}

/* A copy of @t in st->a with room for one more column. */
static struct tl_table *
arena_copy(struct sql_stmt *st, const struct tl_table *t)
{
    struct tl_table *c = tl_arena_alloc(st->a, sizeof(*c));
    *c = *t;
    c->columns =
        tl_arena_alloc(st->a, (t->n_columns + 1) * sizeof(*c->columns));
    memcpy(c->columns, t->columns, t->n_columns * sizeof(*c->columns));
    return c;
}

static int
add_column(struct sql_stmt *st, struct tl_table *t, const char *orig_name,
           const PgQuery__AlterTableCmd *cmd, struct alter_ctx *ctx)
{
    const PgQuery__ColumnDef *cd = cmd->def->column_def;
    if (find_column(t, cd->colname) >= 0) {
        if (cmd->missing_ok) {
            struct tl_error w;
            tl_error_set(&w, 0, TL_SQLSTATE_DUPLICATE_COLUMN,
                         "column \"%s\" of relation \"%s\" already exists, "
                         "skipping",
                         cd->colname, t->name);
            dest_notice(st->dest, &w, false);
            return 0;
        }
        return sql_error(st, TL_EEXISTS, TL_SQLSTATE_DUPLICATE_COLUMN,
                         "column \"%s\" of relation \"%s\" already exists",
                         cd->colname, t->name);
    }
    int rv = ddl_add_column(st, t, cd);
    if (rv != 0)
        return rv;
    struct tl_column *col = &t->columns[t->n_columns - 1];
    if (col->default_expr == NULL && !col->not_null)
        return 0;
    /* Rows written before hold no value for it (they read as NULL): a
     * DEFAULT means writing them again; NOT NULL without one fails. */
    bool found;
    rv = query_has_row(st,
                       tl_arena_printf(st->a, "SELECT 1 FROM %s LIMIT 1",
                                       quote(st, orig_name)),
                       &found);
    if (rv != 0)
        return rv;
    if (found && col->default_expr != NULL) {
        ctx->rewrite = true;
        return 0;
    }
    if (found)
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_NOT_NULL_VIOLATION,
                         "column \"%s\" of relation \"%s\" contains null "
                         "values",
                         col->name, t->name);
    return 0;
}

static int
drop_column(struct sql_stmt *st, struct tl_table *t,
            const PgQuery__AlterTableCmd *cmd)
{
    int c = find_column(t, cmd->name);
    if (c < 0) {
        if (cmd->missing_ok) {
            struct tl_error w;
            tl_error_set(&w, 0, TL_SQLSTATE_UNDEFINED_COLUMN,
                         "column \"%s\" of relation \"%s\" does not exist, "
                         "skipping",
                         cmd->name, t->name);
            dest_notice(st->dest, &w, false);
            return 0;
        }
        return no_column(st, t, cmd->name);
    }
    if (is_key_column(t, c))
        return sql_unsupported(st, "dropping a primary key or shard key "
                                   "column");
    uint32_t visible = 0;
    for (uint32_t i = 0; i < t->n_columns; i++)
        visible += !t->columns[i].hidden;
    struct tl_column *col = &t->columns[c];
    if (col->identity != TL_IDENTITY_NONE ||
        (col->default_expr != NULL && strstr(col->default_expr, "nextval(")))
        return sql_unsupported(st, "dropping a column that owns a sequence");
    (void)visible;
    snprintf(col->name, sizeof(col->name), "........pg.dropped.%d........",
             c + 1);
    col->hidden = true;
    col->dropped = true;
    col->not_null = false;
    col->default_expr = NULL;
    /* As in PostgreSQL, the indexes on the column go with it (their
     * entries stay under index ids nothing uses again). */
    struct tl_index *keep =
        tl_arena_alloc(st->a, (t->n_indexes + 1) * sizeof(*keep));
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->n_indexes; i++) {
        bool on_it = false;
        for (uint32_t k = 0; k < t->indexes[i].n_cols; k++)
            on_it = on_it || t->indexes[i].cols[k] == (uint32_t)c;
        if (!on_it)
            keep[n++] = t->indexes[i];
    }
    t->indexes = keep;
    t->n_indexes = n;
    return 0;
}

static int
set_not_null(struct sql_stmt *st, struct tl_table *t, const char *orig_name,
             const PgQuery__AlterTableCmd *cmd, bool on)
{
    int c = find_column(t, cmd->name);
    if (c < 0)
        return no_column(st, t, cmd->name);
    struct tl_column *col = &t->columns[c];
    if (!on) {
        if (is_key_column(t, c) && t->n_pk > 0) {
            for (uint32_t i = 0; i < t->n_pk; i++)
                if ((int)t->pk[i] == c)
                    return sql_error(
                        st, TL_EINVAL, TL_SQLSTATE_INVALID_TABLE_DEFINITION,
                        "column \"%s\" is in a primary key", col->name);
        }
        if (col->identity != TL_IDENTITY_NONE)
            return sql_error(st, TL_EINVAL, TL_SQLSTATE_SYNTAX_ERROR,
                             "column \"%s\" of relation \"%s\" is an "
                             "identity column",
                             col->name, t->name);
        col->not_null = false;
        return 0;
    }
    if (col->not_null)
        return 0;
    bool found;
    int rv = query_has_row(
        st,
        tl_arena_printf(st->a, "SELECT 1 FROM %s WHERE %s IS NULL LIMIT 1",
                        quote(st, orig_name), quote(st, cmd->name)),
        &found);
    if (rv != 0)
        return rv;
    if (found)
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_NOT_NULL_VIOLATION,
                         "column \"%s\" of relation \"%s\" contains null "
                         "values",
                         col->name, t->name);
    col->not_null = true;
    return 0;
}

static int
set_default(struct sql_stmt *st, struct tl_table *t,
            const PgQuery__AlterTableCmd *cmd)
{
    int c = find_column(t, cmd->name);
    if (c < 0)
        return no_column(st, t, cmd->name);
    if (t->columns[c].identity != TL_IDENTITY_NONE && cmd->def != NULL)
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_SYNTAX_ERROR,
                         "column \"%s\" of relation \"%s\" is an identity "
                         "column",
                         cmd->name, t->name);
    return ddl_set_default(st, t, (uint32_t)c, cmd->def);
}

/* Whether @t's key is the hidden rowid (declared without a primary key). */
static bool
has_rowid_key(const struct tl_table *t)
{
    return t->n_pk == 1 && t->columns[t->pk[0]].hidden &&
           !t->columns[t->pk[0]].dropped;
}

/* ADD [CONSTRAINT name] PRIMARY KEY (cols): the key replaces the hidden
 * rowid; its columns become NOT NULL (checked against the rows by the
 * rewrite, as is uniqueness). The rows keep their shard: an unsharded or
 * reference table stays so, and a sharded table's shard key must be in
 * the key (as CREATE TABLE requires). */
static int
add_primary_key(struct sql_stmt *st, struct tl_table *t,
                const PgQuery__Constraint *c, struct alter_ctx *ctx)
{
    if (c->n_including > 0 || c->n_options > 0 ||
        (c->indexname != NULL && c->indexname[0] != '\0'))
        return sql_unsupported(st, "PRIMARY KEY options");
    if (!has_rowid_key(t) || ctx->new_pk)
        return sql_error(st, TL_EEXISTS, TL_SQLSTATE_INVALID_TABLE_DEFINITION,
                         "multiple primary keys for table \"%s\" are not "
                         "allowed",
                         t->name);
    if (c->n_keys > TL_MAX_PK)
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_TOO_MANY_COLUMNS,
                         "cannot use more than %d columns in an index",
                         TL_MAX_PK);
    uint32_t cols[TL_MAX_PK];
    for (size_t i = 0; i < c->n_keys; i++) {
        const char *name = c->keys[i]->string->sval;
        for (size_t k = 0; k < i; k++)
            if (strcmp(c->keys[k]->string->sval, name) == 0) {
                sql_error(st, TL_EEXISTS, TL_SQLSTATE_DUPLICATE_COLUMN,
                          "column \"%s\" appears twice in primary key "
                          "constraint",
                          name);
                return sql_error_at(st, TL_EEXISTS, c->location);
            }
    }
    bool has_shard_key = t->shard_key < 0;
    for (size_t i = 0; i < c->n_keys; i++) {
        const char *name = c->keys[i]->string->sval;
        int col = find_column(t, name);
        if (col < 0)
            return no_column(st, t, name);
        if (t->columns[col].type == TL_TYPE_JSONB)
            return sql_error(st, TL_EUNSUPPORTED,
                             TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                             "column \"%s\" of type jsonb cannot be part of "
                             "a primary key in Talus",
                             name);
        cols[i] = (uint32_t)col;
        has_shard_key = has_shard_key || col == t->shard_key;
    }
    if (!has_shard_key) {
        sql_error(st, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                  "unique constraint on partitioned table must include all "
                  "partitioning columns");
        tl_error_detail(&st->err,
                        "PRIMARY KEY constraint on table \"%s\" lacks "
                        "column \"%s\" which is part of the partition key.",
                        t->name, t->columns[t->shard_key].name);
        return TL_EUNSUPPORTED;
    }
    t->n_pk = (uint32_t)c->n_keys;
    for (size_t i = 0; i < c->n_keys; i++) {
        t->pk[i] = cols[i];
        t->columns[cols[i]].not_null = true;
    }
    ctx->new_pk = true;
    ctx->rewrite = true;
    ctx->pk_name = c->conname != NULL && c->conname[0] != '\0'
                       ? c->conname
                       : tl_arena_printf(st->a, "%s_pkey", t->name);
    return 0;
}

static int
add_constraint(struct sql_stmt *st, struct tl_table *t,
               const PgQuery__AlterTableCmd *cmd, struct alter_ctx *ctx)
{
    const PgQuery__Node *n = cmd->def;
    if (n == NULL || n->node_case != PG_QUERY__NODE__NODE_CONSTRAINT ||
        n->constraint->contype != PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY)
        return sql_unsupported(st, "ALTER TABLE ... ADD CONSTRAINT other than "
                                   "PRIMARY KEY");
    return add_primary_key(st, t, n->constraint, ctx);
}

static int
apply_cmd(struct sql_stmt *st, struct tl_table **t, const char *orig_name,
          const PgQuery__AlterTableCmd *cmd, struct alter_ctx *ctx)
{
    switch (cmd->subtype) {
    case PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn: {
        struct tl_table *grown = arena_copy(st, *t);
        int rv = add_column(st, grown, orig_name, cmd, ctx);
        if (rv == 0)
            *t = grown;
        return rv;
    }
    case PG_QUERY__ALTER_TABLE_TYPE__AT_DropColumn:
        return drop_column(st, *t, cmd);
    case PG_QUERY__ALTER_TABLE_TYPE__AT_ColumnDefault:
        return set_default(st, *t, cmd);
    case PG_QUERY__ALTER_TABLE_TYPE__AT_SetNotNull:
        return set_not_null(st, *t, orig_name, cmd, true);
    case PG_QUERY__ALTER_TABLE_TYPE__AT_DropNotNull:
        return set_not_null(st, *t, orig_name, cmd, false);
    case PG_QUERY__ALTER_TABLE_TYPE__AT_AlterColumnType:
        return sql_unsupported(st, "ALTER TABLE ... ALTER COLUMN ... TYPE");
    case PG_QUERY__ALTER_TABLE_TYPE__AT_AddConstraint:
        return add_constraint(st, *t, cmd, ctx);
    case PG_QUERY__ALTER_TABLE_TYPE__AT_DropConstraint:
        return sql_unsupported(st, "ALTER TABLE ... DROP CONSTRAINT");
    default:
        return sql_unsupported(st, "this form of ALTER TABLE");
    }
}

/* Store @to, computed from @from (the cached description). */
static int
store(struct sql_stmt *st, const struct tl_table *from,
      const struct tl_table *to)
{
    struct alter_arg x = {.from = from, .to = to};
    int rv =
        catalog_alter_table(st->r->catalog, from->name, replace, &x, &st->err);
    if (rv == TL_ENOTFOUND)
        return sql_error(st, rv, TL_SQLSTATE_UNDEFINED_TABLE,
                         "relation \"%s\" does not exist", from->name);
    if (rv == TL_EEXISTS)
        return sql_error(st, rv, TL_SQLSTATE_DUPLICATE_TABLE,
                         "relation \"%s\" already exists", to->name);
    if (rv == TL_ECONFLICT) {
        /* Another router changed the table: the next try starts from
         * the description stored now. */
        struct tl_error ignored;
        catalog_refresh(st->r->catalog, 0, &ignored);
    }
    return rv;
}

/* ------------------------------------------------------------ rewrite */

/* The state of one table rewrite. */
struct rewrite {
    const struct tl_table *from; /* the table as stored (old id) */
    struct tl_table *to;         /* the new description (new id) */
    const struct alter_ctx *ctx;
    size_t *cols;     /* the columns of @to given from an old row */
    uint32_t *src;    /* the column of @from each comes from */
    bool *check_null; /* per given column: NOT NULL new, checked here */
    size_t n_cols;
    struct tl_value *old;  /* one decoded old row (from->n_columns) */
    struct tl_value *vals; /* the given values (n_cols) */
    struct copy_in *ci;
    uint64_t n_rows;
};

/* The final description: @to without the hidden rowid when a primary key
 * replaces it (every row is written again: no row keeps its column), a
 * new id and the next schema version; and the old column of each new
 * one (-1: added by this statement) in *@src_of (to->n_columns). */
static struct tl_table *
final_table(struct sql_stmt *st, const struct tl_table *from,
            const struct tl_table *to, const struct alter_ctx *ctx,
            int32_t **src_of)
{
    struct tl_table *f = arena_copy(st, to);
    int32_t *src = tl_arena_alloc(st->a, (to->n_columns + 1) * sizeof(*src));
    int rowid = -1;
    if (ctx->new_pk)
        for (uint32_t c = 0; c < to->n_columns && rowid < 0; c++)
            if (to->columns[c].hidden && !to->columns[c].dropped)
                rowid = (int)c;
    uint32_t n = 0;
    for (uint32_t c = 0; c < to->n_columns; c++) {
        if ((int)c == rowid)
            continue;
        f->columns[n] = to->columns[c];
        src[n++] = c < from->n_columns ? (int32_t)c : -1;
    }
    f->n_columns = n;
    for (uint32_t k = 0; k < f->n_pk && rowid >= 0; k++)
        if (f->pk[k] > (uint32_t)rowid)
            f->pk[k]--;
    if (rowid >= 0 && f->shard_key > rowid)
        f->shard_key--;
    f->schema_version = from->schema_version + 1;
    *src_of = src;
    return f;
}

static int
null_in_column(struct sql_stmt *st, const char *column, const char *table)
{
    return sql_error(st, TL_EINVAL, TL_SQLSTATE_NOT_NULL_VIOLATION,
                     "column \"%s\" of relation \"%s\" contains null values",
                     column, table);
}

/* One row of the old table: checked, then handed to COPY's writer, which
 * fills the other columns (their defaults) and writes in batches. */
static int
rewrite_row(struct sql_stmt *st, const uint8_t *p, size_t len, void *arg)
{
    struct rewrite *rw = arg;
    if (tl_row_decode(p, len, rw->old, rw->from->n_columns, NULL) != 0)
        return sql_error(st, TL_ECORRUPT, TL_SQLSTATE_DATA_CORRUPTED,
                         "corrupt row from a shard");
    for (size_t i = 0; i < rw->n_cols; i++) {
        rw->vals[i] = rw->old[rw->src[i]];
        if (rw->check_null[i] && rw->vals[i].is_null)
            return null_in_column(st, rw->to->columns[rw->cols[i]].name,
                                  rw->to->name);
    }
    int bad_field = -1;
    uint64_t bad_line = 0;
    rw->n_rows++;
    return copy_in_row_values(rw->ci, rw->vals, rw->n_rows, &bad_field,
                              &bad_line);
}

/* COPY's errors (@rv, st->err) in the words of PostgreSQL's rewrite: a
 * duplicate key is the unique index that could not be built, a NULL left
 * in a NOT NULL column (a default that is NULL) a column that contains
 * null values. Returns the code to report. */
static int
reword_error(struct sql_stmt *st, const struct rewrite *rw, int rv)
{
    struct tl_error *e = &st->err;
    e->context[0] = '\0';
    /* The new rows' id is in no catalog yet: a node that saw a newer
     * catalog (DDL elsewhere meanwhile) refuses them, and the reloaded
     * catalog does not know the id. Nothing changed; a retry can work. */
    if (rv == TL_ESTALE) {
        sql_error(st, TL_ECONFLICT, TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                  "could not rewrite table \"%s\": the catalog changed at "
                  "the same time",
                  rw->from->name);
        tl_error_hint(e, "Retry the statement.");
        return TL_ECONFLICT;
    }
    /* A write cut off by a cancel or statement_timeout may or may not have
     * been applied, but only under the new id, which no table has: the
     * table is unchanged, the statement simply canceled. */
    if (strcmp(e->sqlstate, TL_SQLSTATE_TRANSACTION_RESOLUTION_UNKNOWN) == 0 &&
        st->interrupted && sql_check_interrupts(st) != 0)
        return rv;
    if (strcmp(e->sqlstate, TL_SQLSTATE_UNIQUE_VIOLATION) == 0 &&
        rw->ctx->pk_name != NULL) {
        snprintf(e->message, sizeof(e->message),
                 "could not create unique index \"%s\"", rw->ctx->pk_name);
        char *tail = strstr(e->detail, " already exists.");
        if (tail != NULL)
            snprintf(tail, sizeof(e->detail) - (size_t)(tail - e->detail),
                     " is duplicated.");
        tl_error_object(e, rw->from->name, rw->ctx->pk_name);
        return rv;
    }
    const char *prefix = "null value in column \"";
    if (strcmp(e->sqlstate, TL_SQLSTATE_NOT_NULL_VIOLATION) == 0 &&
        strncmp(e->message, prefix, strlen(prefix)) == 0) {
        const char *name = e->message + strlen(prefix);
        const char *end = strchr(name, '"');
        if (end != NULL) {
            char column[TL_NAME_MAX];
            snprintf(column, sizeof(column), "%.*s", (int)(end - name), name);
            e->detail[0] = '\0';
            null_in_column(st, column, rw->to->name);
        }
    }
    return rv;
}

/* Read every row of @from and write it under the new description; on
 * failure what was written is taken back. */
static int
copy_rows(struct sql_stmt *st, struct rewrite *rw)
{
    struct plan p;
    int rv = plan_build(st, (struct tl_table *)rw->from, NULL, NULL, &p);
    if (rv != 0)
        return rv;
    rv = copy_in_begin(st, rw->to, rw->cols, rw->n_cols, &rw->ci);
    if (rv != 0)
        return rv;
    Talus__ScanFragment *f = plan_fragment(st, &p);
    rv = gather_scan(st, &p, f, rewrite_row, rw, NULL);
    uint64_t n = 0, bad_line = 0;
    if (rv == 0)
        rv = copy_in_finish(rw->ci, &n, &bad_line);
    if (rv != 0) {
        rv = reword_error(st, rw, rv);
        copy_in_abort(rw->ci);
    }
    return rv;
}

/* Rewrite table @from as @to (see the top of this file). */
static int
rewrite(struct sql_stmt *st, const struct tl_table *from,
        const struct tl_table *to, const struct alter_ctx *ctx)
{
    struct rewrite rw = {.from = from, .ctx = ctx};
    int32_t *src;
    rw.to = final_table(st, from, to, ctx, &src);
    size_t nc = rw.to->n_columns;
    rw.cols = tl_arena_alloc(st->a, (nc + 1) * sizeof(*rw.cols));
    rw.src = tl_arena_alloc(st->a, (nc + 1) * sizeof(*rw.src));
    rw.check_null = tl_arena_alloc(st->a, (nc + 1) * sizeof(*rw.check_null));
    rw.old = tl_arena_alloc(st->a, (from->n_columns + 1) * sizeof(*rw.old));
    rw.vals = tl_arena_alloc(st->a, (nc + 1) * sizeof(*rw.vals));
    for (uint32_t c = 0; c < nc; c++) {
        const struct tl_column *col = &rw.to->columns[c];
        /* Added columns take their default, a rowid kept is made anew,
         * dropped columns are NULL in new rows. */
        if (src[c] < 0 || col->hidden)
            continue;
        rw.cols[rw.n_cols] = c;
        rw.src[rw.n_cols] = (uint32_t)src[c];
        rw.check_null[rw.n_cols] =
            col->not_null && !from->columns[src[c]].not_null;
        rw.n_cols++;
    }
    uint32_t id;
    int rv = catalog_new_table_id(st->r->catalog, &id, &st->err);
    if (rv != 0)
        return rv;
    rw.to->id = id;
    rv = copy_rows(st, &rw);
    uint64_t version = 0;
    if (rv == 0) {
        rv =
            catalog_swap_table(st->r->catalog, from, rw.to, &version, &st->err);
        if (rv == TL_ENOTFOUND)
            sql_error(st, rv, TL_SQLSTATE_UNDEFINED_TABLE,
                      "relation \"%s\" does not exist", from->name);
        if (rv != 0)
            copy_in_abort(rw.ci);
    }
    copy_in_destroy(rw.ci);
    if (rv != 0)
        return rv;
    tl_info(MOD, "event=rewrite table=%s id=%u new_id=%u rows=%llu", from->name,
            from->id, id, (unsigned long long)rw.n_rows);
    /* The table is the new one now: the old rows are garbage under an id
     * no table has, deleted here (a failure leaves them, unread). */
    struct tl_error ignored;
    tl_error_clear(&ignored);
    if (catalog_delete_rows(st->r->catalog, from, version, &ignored) != 0)
        tl_warn(MOD, "event=rewrite_old_rows_left table=%s id=%u", from->name,
                from->id);
    return 0;
}

/* The table ALTER names, or (IF EXISTS) a notice and *@t NULL. */
static int
open_table(struct sql_stmt *st, const PgQuery__RangeVar *rv, bool missing_ok,
           struct tl_table **t)
{
    *t = NULL;
    int r = sql_lookup_table(st, rv, t);
    st->err.position = 0; /* PostgreSQL places no cursor here */
    if (r == TL_ENOTFOUND && missing_ok) {
        tl_error_clear(&st->err);
        struct tl_error w;
        tl_error_set(&w, 0, TL_SQLSTATE_UNDEFINED_TABLE,
                     "relation \"%s\" does not exist, skipping", rv->relname);
        dest_notice(st->dest, &w, false);
        *t = NULL;
        return 0;
    }
    return r;
}

int
alter_exec_table(struct sql_stmt *st, const PgQuery__AlterTableStmt *as)
{
    if (as->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE)
        return sql_unsupported(st, "this form of ALTER");
    struct tl_table *t;
    int rv = open_table(st, as->relation, as->missing_ok, &t);
    if (rv != 0)
        return rv;
    if (t != NULL) {
        struct tl_table *to = arena_copy(st, t);
        struct alter_ctx ctx = {0};
        for (size_t i = 0; rv == 0 && i < as->n_cmds; i++)
            rv =
                apply_cmd(st, &to, t->name, as->cmds[i]->alter_table_cmd, &ctx);
        if (rv == 0 && ctx.rewrite)
            rv = rewrite(st, t, to, &ctx);
        else if (rv == 0)
            rv = store(st, t, to);
        if (rv != 0)
            return rv;
    }
    dest_complete(st->dest, "ALTER TABLE");
    return 0;
}

int
alter_exec_rename(struct sql_stmt *st, const PgQuery__RenameStmt *rs)
{
    if (rs->rename_type != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE &&
        rs->rename_type != PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN)
        return sql_unsupported(st, "this form of ALTER ... RENAME");
    struct tl_table *t;
    int rv = open_table(st, rs->relation, rs->missing_ok, &t);
    if (rv != 0)
        return rv;
    if (t != NULL) {
        struct tl_table *to = arena_copy(st, t);
        if (rs->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE) {
            if (strlen(rs->newname) >= TL_NAME_MAX)
                return sql_error(st, TL_EINVAL, TL_SQLSTATE_SYNTAX_ERROR,
                                 "table name \"%s\" is too long", rs->newname);
            if (ddl_relation_exists(st, rs->newname))
                return sql_error(st, TL_EEXISTS, TL_SQLSTATE_DUPLICATE_TABLE,
                                 "relation \"%s\" already exists", rs->newname);
            snprintf(to->name, sizeof(to->name), "%s", rs->newname);
        } else {
            int c = find_column(t, rs->subname);
            if (c < 0)
                return sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_COLUMN,
                                 "column \"%s\" does not exist", rs->subname);
            if (find_column(t, rs->newname) >= 0)
                return sql_error(st, TL_EEXISTS, TL_SQLSTATE_DUPLICATE_COLUMN,
                                 "column \"%s\" of relation \"%s\" already "
                                 "exists",
                                 rs->newname, t->name);
            snprintf(to->columns[c].name, sizeof(to->columns[c].name), "%s",
                     rs->newname);
        }
        if ((rv = store(st, t, to)) != 0)
            return rv;
    }
    dest_complete(st->dest,
                  rs->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE
                      ? "ALTER TABLE"
                      : "ALTER TABLE");
    return 0;
}
