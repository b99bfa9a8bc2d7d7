/* alter — ALTER TABLE and ALTER TABLE ... RENAME: the new description is
 * computed from the cached one, checked against the rows where a change
 * needs it (SET NOT NULL, ADD COLUMN ... NOT NULL), then stored in one
 * conditional catalog write that also moves the map version, so a
 * statement planned with the old description is refused and planned
 * again. Rows are never rewritten: a new column is NULL in rows written
 * before it, a dropped one stays in them, hidden. */
#include "router/exec/alter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "router/core/catalog.h"
#include "router/core/router_int.h"
#include "router/exec/select.h"
#include "router/sql/sql_int.h"

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
           const PgQuery__AlterTableCmd *cmd)
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
     * DEFAULT or NOT NULL needs an empty table. */
    bool found;
    rv = query_has_row(st,
                       tl_arena_printf(st->a, "SELECT 1 FROM %s LIMIT 1",
                                       quote(st, orig_name)),
                       &found);
    if (rv != 0)
        return rv;
    if (found && col->default_expr != NULL)
        return sql_unsupported(st, "ADD COLUMN with a DEFAULT on a table "
                                   "that has rows");
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

static int
apply_cmd(struct sql_stmt *st, struct tl_table **t, const char *orig_name,
          const PgQuery__AlterTableCmd *cmd)
{
    switch (cmd->subtype) {
    case PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn: {
        struct tl_table *grown = arena_copy(st, *t);
        int rv = add_column(st, grown, orig_name, cmd);
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
        return sql_unsupported(st, "ALTER TABLE ... ADD CONSTRAINT");
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
        for (size_t i = 0; rv == 0 && i < as->n_cmds; i++)
            rv = apply_cmd(st, &to, t->name, as->cmds[i]->alter_table_cmd);
        if (rv == 0)
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
