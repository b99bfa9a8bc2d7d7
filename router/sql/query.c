/* query — binding SELECTs for the router-side executor. See query.h. */
#include "router/sql/query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "router/sql/pgcat.h"
#include "scalar.h"

static int bind_select(struct sql_stmt *st, struct query_ctx *ctx,
                       const PgQuery__SelectStmt *ss,
                       const struct bind_scope *outer, struct query **out);
static uint8_t array_elem_type(const struct bind_scope *sc,
                               const struct tl_expr *e);
static int eval_sublink(const struct tl_expr *e, const struct tl_value *row,
                        size_t n_cols, struct tl_arena *a, struct tl_value *out,
                        struct tl_error *err);
static int eval_agg(const struct tl_expr *e, const struct tl_value *row,
                    size_t n_cols, struct tl_arena *a, struct tl_value *out,
                    struct tl_error *err);
static int eval_window(const struct tl_expr *e, const struct tl_value *row,
                       size_t n_cols, struct tl_arena *a, struct tl_value *out,
                       struct tl_error *err);
static int eval_outer(const struct tl_expr *e, const struct tl_value *row,
                      size_t n_cols, struct tl_arena *a, struct tl_value *out,
                      struct tl_error *err);
static int eval_any(const struct tl_expr *e, const struct tl_value *row,
                    size_t n_cols, struct tl_arena *a, struct tl_value *out,
                    struct tl_error *err);
static int eval_array(const struct tl_expr *e, const struct tl_value *row,
                      size_t n_cols, struct tl_arena *a, struct tl_value *out,
                      struct tl_error *err);
static int eval_tsrf(const struct tl_expr *e, const struct tl_value *row,
                     size_t n_cols, struct tl_arena *a, struct tl_value *out,
                     struct tl_error *err);
static bool is_array_column(const struct bind_scope *sc,
                            const struct tl_expr *e);

/* ------------------------------------------------------------ routing */

static bool wanted_node(const PgQuery__Node *n, bool *user, int depth);

static bool
wanted_list(PgQuery__Node **v, size_t n, bool *user, int depth)
{
    bool w = false;
    for (size_t i = 0; i < n; i++)
        w = wanted_node(v[i], user, depth) || w;
    return w;
}

static bool
wanted_select(const PgQuery__SelectStmt *ss, bool *user, int depth)
{
    if (ss == NULL)
        return false;
    bool w = wanted_list(ss->from_clause, ss->n_from_clause, user, depth) ||
             wanted_list(ss->target_list, ss->n_target_list, user, depth);
    w = wanted_node(ss->where_clause, user, depth) || w;
    w = wanted_node(ss->having_clause, user, depth) || w;
    w = wanted_list(ss->sort_clause, ss->n_sort_clause, user, depth) || w;
    w = wanted_select(ss->larg, user, depth) || w;
    w = wanted_select(ss->rarg, user, depth) || w;
    for (size_t i = 0; i < ss->n_group_clause; i++)
        w = w ||
            ss->group_clause[i]->node_case == PG_QUERY__NODE__NODE_GROUPING_SET;
    return w;
}

/* Whether @n holds what only the router can run (a catalog relation, a
 * subquery, a catalog function); *@user is set when it names a relation
 * that is not a catalog one. */
static bool
wanted_node(const PgQuery__Node *n, bool *user, int depth)
{
    if (n == NULL || depth > 64)
        return false;
    depth++;
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_RANGE_VAR: {
        const PgQuery__RangeVar *rv = n->range_var;
        if (pgcat_is_schema(rv->schemaname) ||
            ((rv->schemaname == NULL || rv->schemaname[0] == '\0') &&
             pgcat_find(NULL, rv->relname) >= 0))
            return true;
        *user = true;
        return false;
    }
    case PG_QUERY__NODE__NODE_JOIN_EXPR:
        return wanted_node(n->join_expr->larg, user, depth) |
               wanted_node(n->join_expr->rarg, user, depth) |
               wanted_node(n->join_expr->quals, user, depth);
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT:
        wanted_node(n->range_subselect->subquery, user, depth);
        return true;
    case PG_QUERY__NODE__NODE_RANGE_FUNCTION:
        return true;
    case PG_QUERY__NODE__NODE_SELECT_STMT:
        return wanted_select(n->select_stmt, user, depth);
    case PG_QUERY__NODE__NODE_SUB_LINK:
        wanted_node(n->sub_link->subselect, user, depth);
        return true;
    case PG_QUERY__NODE__NODE_FUNC_CALL: {
        const PgQuery__FuncCall *f = n->func_call;
        const char *name =
            f->n_funcname ? sql_node_str(f->funcname[f->n_funcname - 1]) : NULL;
        bool w = f->over != NULL ||
                 (name != NULL &&
                  (pgcat_is_function(name) || strcmp(name, "unnest") == 0 ||
                   strcmp(name, "generate_series") == 0 ||
                   strcmp(name, "generate_subscripts") == 0 ||
                   strcmp(name, "_pg_expandarray") == 0));
        return wanted_list(f->args, f->n_args, user, depth) || w;
    }
    case PG_QUERY__NODE__NODE_TYPE_CAST: {
        const PgQuery__TypeName *tn = n->type_cast->type_name;
        const char *name = tn != NULL && tn->n_names > 0
                               ? sql_node_str(tn->names[tn->n_names - 1])
                               : NULL;
        bool w = name != NULL &&
                 (strncmp(name, "reg", 3) == 0 || strcmp(name, "oid") == 0 ||
                  strcmp(name, "name") == 0);
        return wanted_node(n->type_cast->arg, user, depth) || w;
    }
    case PG_QUERY__NODE__NODE_RES_TARGET:
        return wanted_node(n->res_target->val, user, depth);
    case PG_QUERY__NODE__NODE_SORT_BY:
        return wanted_node(n->sort_by->node, user, depth);
    case PG_QUERY__NODE__NODE_A_EXPR:
        return wanted_node(n->a_expr->lexpr, user, depth) |
               wanted_node(n->a_expr->rexpr, user, depth) |
               (n->a_expr->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY) |
               (n->a_expr->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP_ALL);
    case PG_QUERY__NODE__NODE_BOOL_EXPR:
        return wanted_list(n->bool_expr->args, n->bool_expr->n_args, user,
                           depth);
    case PG_QUERY__NODE__NODE_LIST:
        return wanted_list(n->list->items, n->list->n_items, user, depth);
    case PG_QUERY__NODE__NODE_CASE_EXPR: {
        bool w = wanted_node(n->case_expr->arg, user, depth) |
                 wanted_node(n->case_expr->defresult, user, depth);
        for (size_t i = 0; i < n->case_expr->n_args; i++) {
            const PgQuery__CaseWhen *cw = n->case_expr->args[i]->case_when;
            w = wanted_node(cw->expr, user, depth) | w;
            w = wanted_node(cw->result, user, depth) | w;
        }
        return w;
    }
    case PG_QUERY__NODE__NODE_COALESCE_EXPR:
        return wanted_list(n->coalesce_expr->args, n->coalesce_expr->n_args,
                           user, depth);
    case PG_QUERY__NODE__NODE_NULL_TEST:
        return wanted_node(n->null_test->arg, user, depth);
    case PG_QUERY__NODE__NODE_COLLATE_CLAUSE:
        return wanted_node(n->collate_clause->arg, user, depth);
    case PG_QUERY__NODE__NODE_A_ARRAY_EXPR:
    case PG_QUERY__NODE__NODE_A_INDIRECTION:
    case PG_QUERY__NODE__NODE_GROUPING_FUNC:
        return true;
    default:
        return false;
    }
}

bool
query_wanted(const PgQuery__SelectStmt *ss)
{
    bool user = false;
    return wanted_select(ss, &user, 0);
}

/* ---------------------------------------------------------- FROM items */

/* FROM being bound: the base items in FROM order, the namespace of each
 * top-level item. */
struct from_state {
    struct query *q;
    struct bind_rel *rels;
    size_t n_rels, cap_rels;
    struct bind_ns *ns;
    size_t n_ns;
};

static void
add_rel(struct sql_stmt *st, struct from_state *fs, const struct tl_table *t,
        const char *alias, bool aliased, uint32_t offset)
{
    tl_arena_reserve(st->a, (void **)&fs->rels, fs->n_rels, &fs->cap_rels,
                     sizeof(*fs->rels), 4);
    struct bind_rel *r = &fs->rels[fs->n_rels++];
    r->table = t;
    r->alias = alias;
    r->aliased = aliased;
    r->offset = offset;
    r->visible = true;
}

/* A copy of @t with the column names of @alias (AS a(x, y)) applied. */
static const struct tl_table *
rename_columns(struct sql_stmt *st, const struct tl_table *t,
               const PgQuery__Alias *alias)
{
    if (alias == NULL || alias->n_colnames == 0)
        return t;
    struct tl_table *c = tl_arena_alloc(st->a, sizeof(*c));
    *c = *t;
    c->columns =
        tl_arena_alloc(st->a, (t->n_columns + 1) * sizeof(*c->columns));
    memcpy(c->columns, t->columns, t->n_columns * sizeof(*c->columns));
    for (size_t i = 0; i < alias->n_colnames && i < t->n_columns; i++) {
        const char *n = sql_node_str(alias->colnames[i]);
        if (n != NULL)
            snprintf(c->columns[i].name, sizeof(c->columns[i].name), "%s", n);
    }
    return c;
}

/* A table of the result columns of @q (for a subquery in FROM). */
static const struct tl_table *
query_desc(struct sql_stmt *st, const struct query *q, const char *name)
{
    struct tl_table *t = tl_arena_calloc(st->a, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%s", name);
    t->shard_key = -1;
    t->n_columns = (uint32_t)q->n_targets;
    t->columns =
        tl_arena_calloc(st->a, (q->n_targets + 1) * sizeof(*t->columns));
    for (size_t i = 0; i < q->n_targets; i++) {
        snprintf(t->columns[i].name, sizeof(t->columns[i].name), "%s",
                 q->targets[i].name);
        t->columns[i].type = q->targets[i].type;
        /* An array column keeps its element type (see pgcat.c). */
        t->columns[i].typmod = q->targets[i].elem_type != 0
                                   ? q->targets[i].elem_type
                                   : q->targets[i].typmod;
    }
    return t;
}

static int bind_from_item(struct sql_stmt *st, struct query_ctx *ctx,
                          struct from_state *fs, const struct bind_scope *outer,
                          const PgQuery__Node *n, struct query_from **out);

/* The scope over everything bound so far. */
static struct bind_scope
scope_of(const struct from_state *fs, const struct bind_local *local,
         const char *clause)
{
    struct bind_scope sc = {0};
    sc.rels = fs->rels;
    sc.n_rels = fs->n_rels;
    sc.ns = fs->ns;
    sc.n_ns = fs->n_ns;
    sc.clause = clause;
    sc.local = local;
    return sc;
}

static int bind_select(struct sql_stmt *st, struct query_ctx *ctx,
                       const PgQuery__SelectStmt *ss,
                       const struct bind_scope *outer, struct query **out);
static const struct tl_table *
query_desc(struct sql_stmt *st, const struct query *q, const char *name);
static const struct tl_table *rename_columns(struct sql_stmt *st,
                                             const struct tl_table *t,
                                             const PgQuery__Alias *alias);

/* Whether @ss (a branch of a set operation, or a query) names @name in
 * its FROM clauses or subqueries: a self-reference. */
static bool mentions(const PgQuery__Node *n, const char *name, int depth);

static bool
mentions_list(PgQuery__Node **v, size_t n, const char *name, int depth)
{
    for (size_t i = 0; i < n; i++)
        if (mentions(v[i], name, depth))
            return true;
    return false;
}

static bool
mentions_select(const PgQuery__SelectStmt *ss, const char *name, int depth)
{
    return ss != NULL &&
           (mentions_list(ss->from_clause, ss->n_from_clause, name, depth) ||
            mentions_list(ss->target_list, ss->n_target_list, name, depth) ||
            mentions(ss->where_clause, name, depth) ||
            mentions(ss->having_clause, name, depth) ||
            mentions_select(ss->larg, name, depth) ||
            mentions_select(ss->rarg, name, depth));
}

static bool
mentions(const PgQuery__Node *n, const char *name, int depth)
{
    if (n == NULL || depth > 64)
        return false;
    depth++;
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_RANGE_VAR:
        return (n->range_var->schemaname == NULL ||
                n->range_var->schemaname[0] == '\0') &&
               strcmp(n->range_var->relname, name) == 0;
    case PG_QUERY__NODE__NODE_JOIN_EXPR:
        return mentions(n->join_expr->larg, name, depth) ||
               mentions(n->join_expr->rarg, name, depth) ||
               mentions(n->join_expr->quals, name, depth);
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT:
        return mentions(n->range_subselect->subquery, name, depth);
    case PG_QUERY__NODE__NODE_SELECT_STMT:
        return mentions_select(n->select_stmt, name, depth);
    case PG_QUERY__NODE__NODE_SUB_LINK:
        return mentions(n->sub_link->subselect, name, depth);
    case PG_QUERY__NODE__NODE_RES_TARGET:
        return mentions(n->res_target->val, name, depth);
    case PG_QUERY__NODE__NODE_A_EXPR:
        return mentions(n->a_expr->lexpr, name, depth) ||
               mentions(n->a_expr->rexpr, name, depth);
    case PG_QUERY__NODE__NODE_BOOL_EXPR:
        return mentions_list(n->bool_expr->args, n->bool_expr->n_args, name,
                             depth);
    default:
        return false;
    }
}

/* WITH RECURSIVE's query @i: its non-recursive term, then its recursive
 * term bound with the name reading the rows of the round before, the
 * columns' types the first term's (PostgreSQL's checks and errors). */
static int
bind_recursive(struct sql_stmt *st, struct query_ctx *ctx, size_t i,
               const PgQuery__SelectStmt *ss, struct query **out)
{
    const struct query_cte c = ctx->ctes[i];
    if (ss->op != PG_QUERY__SET_OPERATION__SETOP_UNION ||
        !mentions_select(ss->rarg, c.name, 0)) {
        if (ss->op == PG_QUERY__SET_OPERATION__SETOP_NONE ||
            !mentions_select(ss, c.name, 0))
            return bind_select(st, ctx, ss, c.outer, out);
        sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_RECURSION,
                  "recursive query \"%s\" does not have the form "
                  "non-recursive-term UNION [ALL] recursive-term",
                  c.name);
        return sql_error_at(st, TL_EINVAL, c.cte->location);
    }
    if (ss->n_sort_clause > 0 || ss->limit_count != NULL ||
        ss->limit_offset != NULL)
        return sql_unsupported(st, "ORDER BY, LIMIT or OFFSET in a recursive "
                                   "query");
    if (mentions_select(ss->larg, c.name, 0)) {
        sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_RECURSION,
                  "recursive reference to query \"%s\" must not appear "
                  "within its non-recursive term",
                  c.name);
        return sql_error_at(st, TL_EINVAL, c.cte->location);
    }
    struct query *q = tl_arena_calloc(st->a, sizeof(*q));
    q->setop = QSET_RECURSIVE;
    q->setop_all = ss->all;
    int rv = bind_select(st, ctx, ss->larg, c.outer, &q->larg);
    if (rv != 0)
        return rv;
    q->n_targets = q->larg->n_targets;
    q->width = (uint32_t)q->n_targets;
    q->targets =
        tl_arena_calloc(st->a, (q->n_targets + 1) * sizeof(*q->targets));
    for (size_t k = 0; k < q->n_targets; k++) {
        q->targets[k] = q->larg->targets[k];
        q->targets[k].expr =
            tl_expr_column(st->a, (uint32_t)k, q->targets[k].type);
    }
    /* The recursive term sees the name as the round's rows, at the level
     * of its own query only. */
    ctx->ctes[i].rec = q;
    ctx->ctes[i].rec_level = ctx->n_stack + 1;
    size_t saved = ctx->n_ctes;
    ctx->n_ctes = i + 1;
    rv = bind_select(st, ctx, ss->rarg, c.outer, &q->rarg);
    ctx->n_ctes = saved;
    ctx->ctes[i].rec = NULL;
    if (rv != 0)
        return rv;
    if (q->rarg->n_targets != q->n_targets) {
        sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                  "each UNION query must have the same number of columns");
        return TL_ESYNTAX;
    }
    for (size_t k = 0; k < q->n_targets; k++) {
        struct query_target *r = &q->rarg->targets[k];
        if (r->type == q->targets[k].type)
            continue;
        if (r->expr->kind == TL_EXPR_CONST && r->expr->value.is_null) {
            r->type = q->targets[k].type;
            r->expr->type = r->type;
            continue;
        }
        sql_error(st, TL_ETYPE, TL_SQLSTATE_DATATYPE_MISMATCH,
                  "recursive query \"%s\" column %zu has type %s in "
                  "non-recursive term but type %s overall",
                  c.name, k + 1, tl_type_name(q->targets[k].type),
                  tl_type_name(r->type));
        tl_error_hint(&st->err, "Cast the output of the non-recursive term "
                                "to the correct type.");
        return TL_ETYPE;
    }
    q->correlated = q->correlated || q->larg->correlated || q->rarg->correlated;
    *out = q;
    return 0;
}

/* A reference to common table expression @i: its query bound as a
 * subquery in FROM, seeing only the expressions declared before it. */
static int
bind_cte_ref(struct sql_stmt *st, struct query_ctx *ctx, struct from_state *fs,
             size_t i, const PgQuery__RangeVar *rv, struct query_from **out)
{
    const struct query_cte c = ctx->ctes[i];
    const PgQuery__Node *qn = c.cte->ctequery;
    if (qn == NULL || qn->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
        return sql_unsupported(st, "WITH holding a data-modifying statement");
    struct query *sub;
    if (c.rec != NULL) {
        /* The recursive term reading the rows of the round before. */
        if (ctx->n_stack != c.rec_level) {
            sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_RECURSION,
                      "recursive reference to query \"%s\" must not appear "
                      "within a subquery",
                      c.name);
            return sql_error_at(st, TL_EINVAL, rv->location);
        }
        sub = c.rec;
    } else {
        size_t saved = ctx->n_ctes;
        ctx->n_ctes = i;
        int rv2 = c.recursive
                      ? bind_recursive(st, ctx, i, qn->select_stmt, &sub)
                      : bind_select(st, ctx, qn->select_stmt, c.outer, &sub);
        ctx->n_ctes = saved;
        if (rv2 != 0)
            return rv2;
    }
    if (c.cte->n_aliascolnames > sub->n_targets) {
        sql_error(st, TL_ESYNTAX, TL_SQLSTATE_INVALID_COLUMN_REFERENCE,
                  "WITH query \"%s\" has %zu columns available but %zu "
                  "columns specified",
                  c.name, sub->n_targets, c.cte->n_aliascolnames);
        return sql_error_at(st, TL_ESYNTAX, c.cte->location);
    }
    const char *alias = rv->alias != NULL ? rv->alias->aliasname : c.name;
    const struct tl_table *desc = query_desc(st, sub, c.name);
    if (c.cte->n_aliascolnames > 0) {
        PgQuery__Alias names = PG_QUERY__ALIAS__INIT;
        names.n_colnames = c.cte->n_aliascolnames;
        names.colnames = c.cte->aliascolnames;
        desc = rename_columns(st, desc, &names);
    }
    if (rv->alias != NULL)
        desc = rename_columns(st, desc, rv->alias);
    struct query_from *f = tl_arena_calloc(st->a, sizeof(*f));
    f->kind = c.rec != NULL ? QF_WORKTABLE : QF_SUBQUERY;
    f->sub = sub;
    f->desc = desc;
    f->offset = fs->q->width;
    f->width = f->desc->n_columns;
    fs->q->width += f->width;
    add_rel(st, fs, f->desc, alias, rv->alias != NULL, f->offset);
    *out = f;
    return 0;
}

static int
bind_range_var(struct sql_stmt *st, struct query_ctx *ctx,
               struct from_state *fs, const PgQuery__RangeVar *rv,
               struct query_from **out)
{
    if (rv->schemaname == NULL || rv->schemaname[0] == '\0')
        for (size_t i = ctx->n_ctes; i > 0; i--)
            if (strcmp(ctx->ctes[i - 1].name, rv->relname) == 0)
                return bind_cte_ref(st, ctx, fs, i - 1, rv, out);
    int vt = pgcat_find(rv->schemaname, rv->relname);
    if (vt < 0) {
        if (rv->schemaname != NULL && rv->schemaname[0] != '\0' &&
            strcmp(rv->schemaname, "public") != 0) {
            sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_TABLE,
                      "relation \"%s.%s\" does not exist", rv->schemaname,
                      rv->relname);
            return sql_error_at(st, TL_ENOTFOUND, rv->location);
        }
        struct tl_table *t;
        int rv2 = sql_lookup_table(st, rv, &t);
        if (rv2 != 0)
            return rv2;
        struct query_from *f = tl_arena_calloc(st->a, sizeof(*f));
        f->kind = QF_TABLE;
        f->table = t;
        f->desc = rename_columns(st, t, rv->alias);
        f->offset = fs->q->width;
        f->width = t->n_columns;
        fs->q->width += f->width;
        add_rel(st, fs, f->desc,
                rv->alias != NULL ? rv->alias->aliasname : rv->relname,
                rv->alias != NULL, f->offset);
        ctx->reads_tables = true;
        *out = f;
        return 0;
    }
    struct query_from *f = tl_arena_calloc(st->a, sizeof(*f));
    f->kind = QF_VTABLE;
    f->vtable = vt;
    f->desc = rename_columns(st, pgcat_desc(vt), rv->alias);
    f->offset = fs->q->width;
    f->width = f->desc->n_columns;
    fs->q->width += f->width;
    const char *alias =
        rv->alias != NULL ? rv->alias->aliasname : pgcat_desc(vt)->name;
    add_rel(st, fs, f->desc, alias, rv->alias != NULL, f->offset);
    *out = f;
    return 0;
}

static int
bind_range_subselect(struct sql_stmt *st, struct query_ctx *ctx,
                     struct from_state *fs, const struct bind_scope *outer,
                     const PgQuery__RangeSubselect *rs, struct query_from **out)
{
    if (rs->lateral)
        return sql_unsupported(st, "LATERAL");
    if (rs->alias == NULL) {
        sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                  "subquery in FROM must have an alias");
        tl_error_hint(&st->err, "For example, FROM (SELECT ...) [AS] foo.");
        return TL_ESYNTAX;
    }
    struct query *sub;
    int rv = bind_select(st, ctx, rs->subquery->select_stmt, outer, &sub);
    if (rv != 0)
        return rv;
    struct query_from *f = tl_arena_calloc(st->a, sizeof(*f));
    f->kind = QF_SUBQUERY;
    f->sub = sub;
    f->desc = rename_columns(st, query_desc(st, sub, rs->alias->aliasname),
                             rs->alias);
    f->offset = fs->q->width;
    f->width = f->desc->n_columns;
    fs->q->width += f->width;
    add_rel(st, fs, f->desc, rs->alias->aliasname, true, f->offset);
    *out = f;
    return 0;
}

static int
bind_range_function(struct sql_stmt *st, struct query_ctx *ctx,
                    struct from_state *fs, const struct bind_scope *outer,
                    const PgQuery__RangeFunction *rf, struct query_from **out)
{
    if (rf->n_functions != 1 || rf->ordinality || rf->is_rowsfrom)
        return sql_unsupported(st, "this function in FROM");
    const PgQuery__List *l = rf->functions[0]->list;
    if (l == NULL || l->n_items < 1 ||
        l->items[0]->node_case != PG_QUERY__NODE__NODE_FUNC_CALL)
        return sql_unsupported(st, "this function in FROM");
    const PgQuery__FuncCall *fc = l->items[0]->func_call;
    const char *name =
        fc->n_funcname ? sql_node_str(fc->funcname[fc->n_funcname - 1]) : "";
    int srf = strcmp(name, "generate_series") == 0 ? QS_GENERATE_SERIES
              : strcmp(name, "unnest") == 0        ? QS_UNNEST
                                                   : 0;
    if (srf == 0 || (srf == QS_UNNEST && fc->n_args != 1) ||
        (srf == QS_GENERATE_SERIES && (fc->n_args < 2 || fc->n_args > 3)))
        return sql_unsupported(
            st, tl_arena_printf(st->a, "function %s() in FROM", name));
    struct query_from *f = tl_arena_calloc(st->a, sizeof(*f));
    f->kind = QF_SRF;
    f->srf = srf;
    f->n_srf_args = (uint32_t)fc->n_args;
    f->srf_args =
        tl_arena_alloc(st->a, (fc->n_args + 1) * sizeof(*f->srf_args));
    /* The arguments see the enclosing queries only (no LATERAL). */
    struct bind_local local = {.ctx = ctx, .q = fs->q, .outer = outer};
    struct bind_scope sc = {.local = &local, .clause = "FROM"};
    for (size_t i = 0; i < fc->n_args; i++) {
        int rv = bind_expr(st, &sc, fc->args[i], &f->srf_args[i]);
        if (rv == 0 && srf == QS_GENERATE_SERIES)
            rv = bind_coerce_unknown(st, &f->srf_args[i], TL_TYPE_INT8, -1, -1);
        if (rv == 0 && srf == QS_UNNEST)
            rv = bind_coerce_unknown(st, &f->srf_args[i], TL_TYPE_TEXT, -1, -1);
        if (rv != 0)
            return rv;
        if (srf == QS_GENERATE_SERIES && !tl_type_is_int(f->srf_args[i]->type))
            return sql_unsupported(st, "generate_series() over this type");
    }
    struct tl_table *t = tl_arena_calloc(st->a, sizeof(*t));
    const char *alias = rf->alias != NULL ? rf->alias->aliasname : name;
    snprintf(t->name, sizeof(t->name), "%s", alias);
    t->shard_key = -1;
    t->n_columns = 1;
    t->columns = tl_arena_calloc(st->a, sizeof(*t->columns));
    snprintf(t->columns[0].name, sizeof(t->columns[0].name), "%s", alias);
    t->columns[0].type =
        srf == QS_GENERATE_SERIES ? f->srf_args[0]->type : TL_TYPE_TEXT;
    t->columns[0].typmod = -1;
    f->desc = rename_columns(st, t, rf->alias);
    f->offset = fs->q->width;
    f->width = 1;
    fs->q->width += 1;
    add_rel(st, fs, f->desc, alias, rf->alias != NULL, f->offset);
    *out = f;
    return 0;
}

static int
bind_join(struct sql_stmt *st, struct query_ctx *ctx, struct from_state *fs,
          const struct bind_scope *outer, const PgQuery__JoinExpr *j,
          struct query_from **out)
{
    if (j->is_natural || j->n_using_clause > 0)
        return sql_unsupported(st, "JOIN ... USING and NATURAL JOIN over "
                                   "catalog relations");
    struct query_from *f = tl_arena_calloc(st->a, sizeof(*f));
    f->kind = QF_JOIN;
    f->offset = fs->q->width;
    int rv = bind_from_item(st, ctx, fs, outer, j->larg, &f->left);
    if (rv == 0)
        rv = bind_from_item(st, ctx, fs, outer, j->rarg, &f->right);
    if (rv != 0)
        return rv;
    f->width = fs->q->width - f->offset;
    switch (j->jointype) {
    case PG_QUERY__JOIN_TYPE__JOIN_INNER:
        f->join = QJ_INNER;
        break;
    case PG_QUERY__JOIN_TYPE__JOIN_LEFT:
        f->join = QJ_LEFT;
        break;
    case PG_QUERY__JOIN_TYPE__JOIN_RIGHT:
        f->join = QJ_RIGHT;
        break;
    case PG_QUERY__JOIN_TYPE__JOIN_FULL:
        f->join = QJ_FULL;
        break;
    default:
        return sql_unsupported(st, "this kind of join");
    }
    if (j->quals != NULL) {
        /* ON sees the items bound so far (PostgreSQL: only the join's). */
        struct bind_local local = {.ctx = ctx, .q = fs->q, .outer = outer};
        struct bind_scope sc = scope_of(fs, &local, "JOIN/ON");
        sc.ns = NULL;
        sc.n_ns = 0;
        rv = bind_predicate(st, &sc, j->quals, &f->quals);
        if (rv != 0)
            return rv;
    }
    *out = f;
    return 0;
}

static int
bind_from_item(struct sql_stmt *st, struct query_ctx *ctx,
               struct from_state *fs, const struct bind_scope *outer,
               const PgQuery__Node *n, struct query_from **out)
{
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_RANGE_VAR:
        return bind_range_var(st, ctx, fs, n->range_var, out);
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT:
        return bind_range_subselect(st, ctx, fs, outer, n->range_subselect,
                                    out);
    case PG_QUERY__NODE__NODE_RANGE_FUNCTION:
        return bind_range_function(st, ctx, fs, outer, n->range_function, out);
    case PG_QUERY__NODE__NODE_JOIN_EXPR:
        return bind_join(st, ctx, fs, outer, n->join_expr, out);
    default:
        return sql_unsupported(st, "this FROM item");
    }
}

/* The namespace of one top-level FROM item: the columns of the base items
 * from rel index @first on, in order. */
static void
add_ns(struct sql_stmt *st, struct from_state *fs, size_t first)
{
    size_t n = 0;
    for (size_t i = first; i < fs->n_rels; i++)
        n += fs->rels[i].table->n_columns;
    struct bind_ns *ns = &fs->ns[fs->n_ns++];
    ns->cols = tl_arena_calloc(st->a, (n + 1) * sizeof(*ns->cols));
    ns->n = 0;
    for (size_t i = first; i < fs->n_rels; i++) {
        const struct tl_table *t = fs->rels[i].table;
        for (uint32_t c = 0; c < t->n_columns; c++) {
            if (t->columns[c].hidden)
                continue;
            struct bind_colref *cr = &ns->cols[ns->n++];
            cr->name = t->columns[c].name;
            cr->expr = tl_expr_column(st->a, fs->rels[i].offset + c,
                                      t->columns[c].type);
        }
    }
}

static int
bind_from(struct sql_stmt *st, struct query_ctx *ctx, struct from_state *fs,
          const struct bind_scope *outer, const PgQuery__SelectStmt *ss)
{
    struct query *q = fs->q;
    fs->ns = tl_arena_calloc(st->a, (ss->n_from_clause + 1) * sizeof(*fs->ns));
    struct query_from *root = NULL;
    for (size_t i = 0; i < ss->n_from_clause; i++) {
        size_t first = fs->n_rels;
        struct query_from *item;
        int rv = bind_from_item(st, ctx, fs, outer, ss->from_clause[i], &item);
        if (rv != 0)
            return rv;
        add_ns(st, fs, first);
        if (root == NULL) {
            root = item;
            continue;
        }
        struct query_from *j = tl_arena_calloc(st->a, sizeof(*j));
        j->kind = QF_JOIN;
        j->join = QJ_INNER;
        j->left = root;
        j->right = item;
        j->offset = root->offset;
        j->width = q->width - root->offset;
        root = j;
    }
    q->from = root;
    return 0;
}

/* ------------------------------------------------------------- targets */

const char *
sql_figure_colname(const PgQuery__Node *n)
{
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_COLUMN_REF: {
        const PgQuery__ColumnRef *c = n->column_ref;
        const char *s =
            c->n_fields ? sql_node_str(c->fields[c->n_fields - 1]) : NULL;
        return s != NULL ? s : "?column?";
    }
    case PG_QUERY__NODE__NODE_FUNC_CALL: {
        const PgQuery__FuncCall *f = n->func_call;
        const char *s =
            f->n_funcname ? sql_node_str(f->funcname[f->n_funcname - 1]) : NULL;
        return s != NULL ? s : "?column?";
    }
    case PG_QUERY__NODE__NODE_TYPE_CAST: {
        /* A name from an inner cast or CASE is weak (PostgreSQL's
         * strength 1): this cast's type name wins over it. */
        const PgQuery__Node *arg = n->type_cast->arg;
        const char *s = sql_figure_colname(arg);
        bool weak =
            arg != NULL && (arg->node_case == PG_QUERY__NODE__NODE_TYPE_CAST ||
                            arg->node_case == PG_QUERY__NODE__NODE_CASE_EXPR);
        if (strcmp(s, "?column?") != 0 && !weak)
            return s;
        const PgQuery__TypeName *tn = n->type_cast->type_name;
        s = tn->n_names ? sql_node_str(tn->names[tn->n_names - 1]) : NULL;
        return s != NULL ? s : "?column?";
    }
    case PG_QUERY__NODE__NODE_CASE_EXPR:
        return "case";
    case PG_QUERY__NODE__NODE_GROUPING_FUNC:
        return "grouping";
    case PG_QUERY__NODE__NODE_COALESCE_EXPR:
        return "coalesce";
    case PG_QUERY__NODE__NODE_MIN_MAX_EXPR:
        return n->min_max_expr->op == PG_QUERY__MIN_MAX_OP__IS_GREATEST
                   ? "greatest"
                   : "least";
    case PG_QUERY__NODE__NODE_A_EXPR:
        if (n->a_expr->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF)
            return "nullif";
        return "?column?";
    case PG_QUERY__NODE__NODE_COLLATE_CLAUSE:
        return sql_figure_colname(n->collate_clause->arg);
    case PG_QUERY__NODE__NODE_SUB_LINK: {
        const PgQuery__SubLink *sl = n->sub_link;
        if (sl->sub_link_type == PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK)
            return "exists";
        if (sl->sub_link_type == PG_QUERY__SUB_LINK_TYPE__ARRAY_SUBLINK)
            return "array";
        if (sl->sub_link_type == PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK &&
            sl->subselect->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) {
            const PgQuery__SelectStmt *s = sl->subselect->select_stmt;
            if (s->n_target_list == 1) {
                const PgQuery__ResTarget *rt = s->target_list[0]->res_target;
                if (rt->name != NULL && rt->name[0] != '\0')
                    return rt->name;
                return sql_figure_colname(rt->val);
            }
        }
        return "?column?";
    }
    case PG_QUERY__NODE__NODE_A_ARRAY_EXPR:
        return "array";
    case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION:
        return func_sqlvalue_name(n->sqlvalue_function);
    case PG_QUERY__NODE__NODE_A_INDIRECTION:
        return sql_figure_colname(n->a_indirection->arg);
    default:
        return "?column?";
    }
}

static void
add_target(struct sql_stmt *st, struct query *q, size_t *cap, const char *name,
           struct tl_expr *e)
{
    tl_arena_reserve(st->a, (void **)&q->targets, q->n_targets, cap,
                     sizeof(*q->targets), 8);
    struct query_target *t = &q->targets[q->n_targets++];
    t->name = name;
    t->expr = e;
    t->type = e->type == TL_TYPE_UNKNOWN ? TL_TYPE_TEXT : e->type;
    t->typmod = -1;
    if (e->kind == TL_EXPR_CONST && e->type == TL_TYPE_UNKNOWN)
        e->type = TL_TYPE_TEXT;
}

/* `*` or `alias.*`: every column of the FROM items (or of one). */
static int
expand_star(struct sql_stmt *st, struct query *q, struct from_state *fs,
            const PgQuery__ColumnRef *cr, size_t *cap)
{
    const char *qual = cr->n_fields == 2 ? sql_node_str(cr->fields[0]) : NULL;
    if (qual == NULL && fs->n_rels == 0) {
        sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                  "SELECT * with no tables specified is not valid");
        return sql_error_at(st, TL_ESYNTAX, cr->location);
    }
    bool found = false;
    for (size_t i = 0; i < fs->n_rels; i++) {
        const struct bind_rel *r = &fs->rels[i];
        if (qual != NULL && strcmp(r->alias, qual) != 0)
            continue;
        found = true;
        for (uint32_t c = 0; c < r->table->n_columns; c++)
            if (!r->table->columns[c].hidden)
                add_target(st, q, cap, r->table->columns[c].name,
                           tl_expr_column(st->a, r->offset + c,
                                          r->table->columns[c].type));
    }
    if (!found) {
        sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_TABLE,
                  "missing FROM-clause entry for table \"%s\"",
                  qual != NULL ? qual : "?");
        return sql_error_at(st, TL_ENOTFOUND, cr->location);
    }
    return 0;
}

static int
bind_targets(struct sql_stmt *st, struct query *q, struct from_state *fs,
             const struct bind_scope *sc, const PgQuery__SelectStmt *ss)
{
    size_t cap = 0;
    for (size_t i = 0; i < ss->n_target_list; i++) {
        const PgQuery__ResTarget *rt = ss->target_list[i]->res_target;
        const PgQuery__Node *v = rt->val;
        if (v->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
            v->column_ref->n_fields > 0 &&
            v->column_ref->fields[v->column_ref->n_fields - 1]->node_case ==
                PG_QUERY__NODE__NODE_A_STAR) {
            int rv = expand_star(st, q, fs, v->column_ref, &cap);
            if (rv != 0)
                return rv;
            continue;
        }
        struct tl_expr *e;
        int rv = bind_expr(st, sc, v, &e);
        if (rv != 0)
            return rv;
        add_target(st, q, &cap,
                   rt->name != NULL && rt->name[0] ? rt->name
                                                   : sql_figure_colname(v),
                   e);
        if (e->type == TL_TYPE_TEXT && is_array_column(sc, e))
            q->targets[q->n_targets - 1].elem_type = array_elem_type(sc, e);
    }
    return 0;
}

/* ---------------------------------------------------- clauses, limits */

/* ORDER BY item @n: an output position, an output column's name, or an
 * expression over the FROM items. */
static int
bind_sort_item(struct sql_stmt *st, struct query *q,
               const struct bind_scope *sc, const PgQuery__Node *n,
               struct tl_expr **out)
{
    if (n->node_case == PG_QUERY__NODE__NODE_A_CONST &&
        n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
        int pos = n->a_const->ival->ival;
        if (pos < 1 || (size_t)pos > q->n_targets) {
            sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_COLUMN_REFERENCE,
                      "ORDER BY position %d is not in select list", pos);
            return sql_error_at(st, TL_EINVAL, n->a_const->location);
        }
        *out = q->targets[pos - 1].expr;
        return 0;
    }
    if (n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
        n->column_ref->n_fields == 1) {
        const char *name = sql_node_str(n->column_ref->fields[0]);
        const struct query_target *hit = NULL;
        for (size_t i = 0; name != NULL && i < q->n_targets; i++)
            if (strcmp(q->targets[i].name, name) == 0) {
                if (hit != NULL && hit->expr != q->targets[i].expr) {
                    sql_error(st, TL_EINVAL, TL_SQLSTATE_AMBIGUOUS_COLUMN,
                              "ORDER BY \"%s\" is ambiguous", name);
                    return sql_error_at(st, TL_EINVAL, n->column_ref->location);
                }
                hit = &q->targets[i];
            }
        if (hit != NULL) {
            *out = hit->expr;
            return 0;
        }
    }
    if (q->setop != QSET_NONE) {
        sql_error(st, TL_EINVAL, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                  "invalid UNION/INTERSECT/EXCEPT ORDER BY clause");
        tl_error_detail(&st->err, "Only result column names can be used, not "
                                  "expressions or functions.");
        return TL_EINVAL;
    }
    return bind_expr(st, sc, n, out);
}

static int
bind_sort(struct sql_stmt *st, struct query *q, const struct bind_scope *sc,
          const PgQuery__SelectStmt *ss)
{
    q->n_sort = ss->n_sort_clause;
    q->sort = tl_arena_calloc(st->a, (q->n_sort + 1) * sizeof(*q->sort));
    for (size_t i = 0; i < q->n_sort; i++) {
        const PgQuery__SortBy *sb = ss->sort_clause[i]->sort_by;
        struct query_sort *k = &q->sort[i];
        int rv = sql_bind_sort_order(st, sb, &k->desc, &k->nulls_first);
        if (rv != 0)
            return rv;
        rv = bind_sort_item(st, q, sc, sb->node, &k->expr);
        if (rv == 0)
            rv = sql_check_sort_type(st, k->expr->type, true, sb->node);
        if (rv != 0)
            return rv;
    }
    return 0;
}

static int
bind_limits(struct sql_stmt *st, struct query *q, const PgQuery__SelectStmt *ss)
{
    if (ss->limit_option == PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_WITH_TIES)
        return sql_unsupported(st, "FETCH ... WITH TIES");
    int rv = sql_bind_limit(st, ss->limit_count, "LIMIT",
                            TL_SQLSTATE_INVALID_ROW_COUNT_IN_LIMIT_CLAUSE,
                            &q->has_limit, &q->limit);
    bool has_offset;
    if (rv == 0)
        rv = sql_bind_limit(
            st, ss->limit_offset, "OFFSET",
            TL_SQLSTATE_INVALID_ROW_COUNT_IN_RESULT_OFFSET_CLAUSE, &has_offset,
            &q->offset);
    return rv;
}

/* ------------------------------------------------------ set operations */

static int
bind_setop(struct sql_stmt *st, struct query_ctx *ctx,
           const PgQuery__SelectStmt *ss, const struct bind_scope *outer,
           struct query *q)
{
    static const char *const names[] = {"?", "?", "UNION", "INTERSECT",
                                        "EXCEPT"};
    const char *what = names[ss->op <= 4 ? ss->op : 0];
    q->setop = ss->op == PG_QUERY__SET_OPERATION__SETOP_UNION ? QSET_UNION
               : ss->op == PG_QUERY__SET_OPERATION__SETOP_INTERSECT
                   ? QSET_INTERSECT
                   : QSET_EXCEPT;
    q->setop_all = ss->all;
    int rv = bind_select(st, ctx, ss->larg, outer, &q->larg);
    if (rv == 0)
        rv = bind_select(st, ctx, ss->rarg, outer, &q->rarg);
    if (rv != 0)
        return rv;
    if (q->larg->n_targets != q->rarg->n_targets) {
        sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                  "each %s query must have the same number of columns", what);
        return TL_ESYNTAX;
    }
    q->n_targets = q->larg->n_targets;
    q->targets =
        tl_arena_calloc(st->a, (q->n_targets + 1) * sizeof(*q->targets));
    q->width = (uint32_t)q->n_targets;
    for (size_t i = 0; i < q->n_targets; i++) {
        struct query_target *l = &q->larg->targets[i],
                            *r = &q->rarg->targets[i];
        uint8_t t = l->type;
        if (l->type != r->type) {
            if (tl_type_is_text(l->type) && tl_type_is_text(r->type))
                t = TL_TYPE_TEXT;
            else if (tl_type_is_numeric(l->type) && tl_type_is_numeric(r->type))
                t = tl_type_is_float(l->type) || tl_type_is_float(r->type)
                        ? TL_TYPE_FLOAT8
                        : (l->type > r->type ? l->type : r->type);
            else if (l->expr->kind == TL_EXPR_CONST && l->expr->value.is_null)
                t = r->type;
            else if (!(r->expr->kind == TL_EXPR_CONST &&
                       r->expr->value.is_null)) {
                sql_error(st, TL_ETYPE, TL_SQLSTATE_DATATYPE_MISMATCH,
                          "%s types %s and %s cannot be matched", what,
                          tl_type_name(l->type), tl_type_name(r->type));
                return TL_ETYPE;
            }
        }
        struct query_target *sides[2] = {l, r};
        for (int k = 0; k < 2; k++)
            if (sides[k]->type != t) {
                sides[k]->expr =
                    tl_expr_node(st->a, TL_EXPR_CAST, t, &sides[k]->expr, 1);
                sides[k]->type = t;
            }
        q->targets[i].name = l->name;
        q->targets[i].type = t;
        q->targets[i].typmod = -1;
        q->targets[i].expr = tl_expr_column(st->a, (uint32_t)i, t);
    }
    rv = bind_sort(st, q, NULL, ss);
    if (rv == 0)
        rv = bind_limits(st, q, ss);
    return rv;
}

/* -------------------------------------------------------------- SELECT */

static int
refuse(struct sql_stmt *st, const PgQuery__SelectStmt *ss)
{
    if (ss->n_values_lists > 0)
        return sql_unsupported(st, "VALUES in a catalog query");
    if (ss->into_clause != NULL)
        return sql_unsupported(st, "SELECT INTO");
    if (ss->n_locking_clause > 0)
        return sql_unsupported(st, "FOR UPDATE/SHARE on a catalog relation");
    if (ss->n_group_clause > 0 && ss->group_distinct)
        return sql_unsupported(st, "GROUP BY DISTINCT");
    return 0;
}

/* ------------------------------------------------------------ GROUP BY */

/* Grouping sets being built: masks over q->group_keys. */
struct gsets {
    uint64_t *v;
    size_t n, cap;
};

#define MAX_GROUPING_SETS 4096

static int
gsets_add(struct sql_stmt *st, struct gsets *s, uint64_t m)
{
    if (s->n >= MAX_GROUPING_SETS)
        return sql_error(st, TL_EOVERFLOW, TL_SQLSTATE_STATEMENT_TOO_COMPLEX,
                         "too many grouping sets present (maximum 4096)");
    tl_arena_reserve(st->a, (void **)&s->v, s->n, &s->cap, sizeof(*s->v), 8);
    s->v[s->n++] = m;
    return 0;
}

/* Bind GROUP BY expression @n as a key of @q (one key for repeats),
 * adding its bit to *@mask (NULL: plain GROUP BY, no sets). */
static int
group_key(struct sql_stmt *st, struct query *q, const struct bind_scope *sc,
          const PgQuery__Node *n, size_t *cap, uint64_t *mask)
{
    struct tl_expr *e;
    int rv = bind_sort_item(st, q, sc, n, &e);
    if (rv == 0)
        rv = sql_check_sort_type(st, e->type, false, n);
    if (rv != 0)
        return rv;
    for (size_t k = 0; k < q->n_group_keys; k++)
        if (tl_expr_equal(q->group_keys[k], e)) {
            if (mask != NULL)
                *mask |= (uint64_t)1 << k;
            return 0;
        }
    if (mask != NULL && q->n_group_keys >= 64)
        return sql_unsupported(st, "more than 64 distinct expressions in "
                                   "GROUPING SETS, ROLLUP or CUBE");
    tl_arena_reserve(st->a, (void **)&q->group_keys, q->n_group_keys, cap,
                     sizeof(*q->group_keys), 8);
    if (mask != NULL)
        *mask |= (uint64_t)1 << q->n_group_keys;
    q->group_keys[q->n_group_keys++] = e;
    return 0;
}

/* The keys of one element of ROLLUP, CUBE or GROUPING SETS: an
 * expression, or a parenthesised list of them (one set). */
static int
group_element(struct sql_stmt *st, struct query *q, const struct bind_scope *sc,
              const PgQuery__Node *n, size_t *cap, uint64_t *mask)
{
    if (n->node_case == PG_QUERY__NODE__NODE_ROW_EXPR &&
        n->row_expr->row_format ==
            PG_QUERY__COERCION_FORM__COERCE_IMPLICIT_CAST) {
        for (size_t i = 0; i < n->row_expr->n_args; i++) {
            int rv = group_key(st, q, sc, n->row_expr->args[i], cap, mask);
            if (rv != 0)
                return rv;
        }
        return 0;
    }
    if (n->node_case == PG_QUERY__NODE__NODE_GROUPING_SET &&
        n->grouping_set->kind ==
            PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_EMPTY)
        return 0;
    return group_key(st, q, sc, n, cap, mask);
}

/* The grouping sets GROUP BY item @n stands for, appended to @out:
 * PostgreSQL's expansion (ROLLUP: every prefix, longest first; CUBE:
 * every subset; GROUPING SETS: each listed set, nested ones expanded). */
static int
group_item_sets(struct sql_stmt *st, struct query *q,
                const struct bind_scope *sc, const PgQuery__Node *n,
                size_t *cap, struct gsets *out)
{
    if (n->node_case != PG_QUERY__NODE__NODE_GROUPING_SET) {
        uint64_t m = 0;
        int rv = group_element(st, q, sc, n, cap, &m);
        return rv != 0 ? rv : gsets_add(st, out, m);
    }
    const PgQuery__GroupingSet *g = n->grouping_set;
    size_t ne = g->n_content;
    uint64_t *el = tl_arena_calloc(st->a, (ne + 1) * sizeof(*el));
    switch (g->kind) {
    case PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_EMPTY:
        return gsets_add(st, out, 0);
    case PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_SETS:
        for (size_t i = 0; i < ne; i++) {
            int rv = group_item_sets(st, q, sc, g->content[i], cap, out);
            if (rv != 0)
                return rv;
        }
        return 0;
    case PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_ROLLUP:
    case PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_CUBE:
        for (size_t i = 0; i < ne; i++) {
            int rv = group_element(st, q, sc, g->content[i], cap, &el[i]);
            if (rv != 0)
                return rv;
        }
        break;
    default: {
        uint64_t m = 0;
        for (size_t i = 0; i < ne; i++) {
            int rv = group_element(st, q, sc, g->content[i], cap, &m);
            if (rv != 0)
                return rv;
        }
        return gsets_add(st, out, m);
    }
    }
    if (g->kind == PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_ROLLUP) {
        for (size_t len = ne + 1; len-- > 0;) {
            uint64_t m = 0;
            for (size_t i = 0; i < len; i++)
                m |= el[i];
            int rv = gsets_add(st, out, m);
            if (rv != 0)
                return rv;
        }
        return 0;
    }
    if (ne > 12) {
        sql_error(st, TL_EOVERFLOW, TL_SQLSTATE_TOO_MANY_COLUMNS,
                  "CUBE is limited to 12 elements");
        return sql_error_at(st, TL_EOVERFLOW, g->location);
    }
    /* CUBE: every subset, the full one first, as PostgreSQL lists them. */
    for (uint32_t bits = (1u << ne); bits-- > 0;) {
        uint64_t m = 0;
        for (size_t i = 0; i < ne; i++)
            if (bits & (1u << (ne - 1 - i)))
                m |= el[i];
        int rv = gsets_add(st, out, m);
        if (rv != 0)
            return rv;
    }
    return 0;
}

static int
bind_group(struct sql_stmt *st, struct query *q, const struct bind_scope *sc,
           const PgQuery__SelectStmt *ss)
{
    bool sets = false;
    for (size_t i = 0; i < ss->n_group_clause; i++)
        sets = sets || ss->group_clause[i]->node_case ==
                           PG_QUERY__NODE__NODE_GROUPING_SET;
    size_t cap = 0;
    if (!sets) {
        /* Plain GROUP BY: every key (repeats are one key). */
        for (size_t i = 0; i < ss->n_group_clause; i++) {
            int rv = group_key(st, q, sc, ss->group_clause[i], &cap, NULL);
            if (rv != 0)
                return rv;
        }
        return 0;
    }
    /* The cross product of the items' sets. */
    struct gsets acc = {0};
    int rv = gsets_add(st, &acc, 0);
    for (size_t i = 0; rv == 0 && i < ss->n_group_clause; i++) {
        struct gsets item = {0}, next = {0};
        rv = group_item_sets(st, q, sc, ss->group_clause[i], &cap, &item);
        for (size_t a = 0; rv == 0 && a < acc.n; a++)
            for (size_t b = 0; rv == 0 && b < item.n; b++)
                rv = gsets_add(st, &next, acc.v[a] | item.v[b]);
        acc = next;
    }
    if (rv != 0)
        return rv;
    q->sets = acc.v;
    q->n_sets = acc.n;
    return 0;
}

/* GROUPING(args): the keys it asks about, resolved after GROUP BY. */
struct query_grouping {
    struct query *q;
    uint32_t n;
    uint32_t *keys; /* indexes into q->group_keys */
    int *locations; /* of each argument in the statement's text */
};

static int
eval_grouping(const struct tl_expr *e, const struct tl_value *row,
              size_t n_cols, struct tl_arena *a, struct tl_value *out,
              struct tl_error *err)
{
    (void)row, (void)n_cols, (void)a, (void)err;
    const struct query_grouping *g = e->ext;
    const struct query_group *grp = g->q->cur_group;
    int64_t v = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        v <<= 1;
        if (grp != NULL && g->q->n_sets > 0 &&
            (grp->set & ((uint64_t)1 << g->keys[i])) == 0)
            v |= 1;
    }
    *out = tl_value_int(TL_TYPE_INT4, v);
    return 0;
}

int
query_bind_grouping(struct sql_stmt *st, const struct bind_scope *sc,
                    const PgQuery__GroupingFunc *g, struct tl_expr **out)
{
    const struct bind_local *local = sc->local;
    if (!local->aggs_ok || sc->clause != NULL) {
        sql_error(st, TL_EINVAL, TL_SQLSTATE_GROUPING_ERROR,
                  "grouping operations are not allowed in %s",
                  sc->clause != NULL ? sc->clause : "this context");
        return sql_error_at(st, TL_EINVAL, g->location);
    }
    if (g->n_args > 31) {
        sql_error(st, TL_EINVAL, TL_SQLSTATE_TOO_MANY_ARGUMENTS,
                  "GROUPING must have fewer than 32 arguments");
        return sql_error_at(st, TL_EINVAL, g->location);
    }
    struct tl_expr **args =
        tl_arena_calloc(st->a, (g->n_args + 1) * sizeof(*args));
    struct bind_local inner = *local;
    inner.aggs_ok = false;
    struct bind_scope isc = *sc;
    isc.local = &inner;
    for (size_t i = 0; i < g->n_args; i++) {
        int rv = bind_expr(st, &isc, g->args[i], &args[i]);
        if (rv != 0)
            return rv;
    }
    struct query_grouping *d = tl_arena_calloc(st->a, sizeof(*d));
    d->q = local->q;
    d->n = (uint32_t)g->n_args;
    d->locations = tl_arena_calloc(st->a, (g->n_args + 1) * sizeof(int));
    for (size_t i = 0; i < g->n_args; i++)
        d->locations[i] = bind_node_location(g->args[i]);
    d->keys = tl_arena_calloc(st->a, (g->n_args + 1) * sizeof(*d->keys));
    local->q->has_grouping = true;
    *out = tl_expr_ext(st->a, TL_TYPE_INT4, eval_grouping, d, args,
                       (uint32_t)g->n_args);
    return 0;
}

/* A grouped query's read of GROUP BY key k: the current group's value. */
struct query_keyref {
    struct query *q;
    uint32_t k;
};

static int
eval_keyref(const struct tl_expr *e, const struct tl_value *row, size_t n_cols,
            struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    const struct query_keyref *r = e->ext;
    const struct query_group *g = r->q->cur_group;
    if (g == NULL || g->keys == NULL)
        return tl_expr_eval(r->q->group_keys[r->k], row, n_cols, a, out, err);
    if (r->q->n_sets > 0 && (g->set & ((uint64_t)1 << r->k)) == 0) {
        *out = tl_value_null(e->type);
        return 0;
    }
    *out = g->keys[r->k];
    return 0;
}

/* Whether column @c of @q is functionally dependent on its GROUP BY: its
 * table's whole primary key is grouped (PostgreSQL allows the table's
 * other columns then). */
static bool
functionally_grouped(const struct query *q, const struct bind_rel *r)
{
    const struct tl_table *t = r->table;
    if (q->n_sets > 0 || t->n_pk == 0)
        return false;
    for (uint32_t i = 0; i < t->n_pk; i++) {
        if (t->columns[t->pk[i]].hidden)
            return false;
        bool found = false;
        for (size_t k = 0; k < q->n_group_keys && !found; k++)
            found = q->group_keys[k]->kind == TL_EXPR_COLUMN &&
                    q->group_keys[k]->column == r->offset + t->pk[i];
        if (!found)
            return false;
    }
    return true;
}

/* Rewrite *@e of grouped query @q to read GROUP BY keys through the
 * group (key references), refusing a column that is neither grouped nor
 * inside an aggregate (42803, PostgreSQL's words). */
static int
group_rewrite(struct sql_stmt *st, struct query *q, struct tl_expr **e)
{
    struct tl_expr *x = *e;
    if (x->kind == TL_EXPR_EXT &&
        (x->ext_fn == eval_keyref || x->ext_fn == eval_agg ||
         x->ext_fn == eval_window || x->ext_fn == eval_sublink))
        return 0;
    if (x->kind == TL_EXPR_EXT && x->ext_fn == eval_grouping) {
        struct query_grouping *g = x->ext;
        for (uint32_t i = 0; i < g->n; i++) {
            size_t k = 0;
            while (k < q->n_group_keys &&
                   !tl_expr_equal(q->group_keys[k], x->args[i]))
                k++;
            if (k == q->n_group_keys) {
                sql_error(st, TL_EINVAL, TL_SQLSTATE_GROUPING_ERROR,
                          "arguments to GROUPING must be grouping expressions "
                          "of the associated query level");
                return sql_error_at(st, TL_EINVAL, g->locations[i]);
            }
            g->keys[i] = (uint32_t)k;
        }
        return 0;
    }
    for (size_t k = 0; k < q->n_group_keys; k++)
        if (tl_expr_equal(q->group_keys[k], x)) {
            struct query_keyref *r = tl_arena_calloc(st->a, sizeof(*r));
            r->q = q;
            r->k = (uint32_t)k;
            *e = tl_expr_ext(st->a, x->type, eval_keyref, r, NULL, 0);
            (*e)->typmod = x->typmod;
            return 0;
        }
    if (x->kind == TL_EXPR_COLUMN) {
        const struct bind_scope *sc = q->scope;
        for (size_t i = 0; sc != NULL && i < sc->n_rels; i++) {
            const struct bind_rel *r = &sc->rels[i];
            if (x->column < r->offset ||
                x->column >= r->offset + r->table->n_columns)
                continue;
            if (functionally_grouped(q, r))
                return 0;
            return sql_error(st, TL_EINVAL, TL_SQLSTATE_GROUPING_ERROR,
                             "column \"%s.%s\" must appear in the GROUP BY "
                             "clause or be used in an aggregate function",
                             r->alias,
                             r->table->columns[x->column - r->offset].name);
        }
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_GROUPING_ERROR,
                         "subquery uses ungrouped column from outer query");
    }
    for (uint32_t i = 0; i < x->n_args; i++) {
        int rv = group_rewrite(st, q, &x->args[i]);
        if (rv != 0)
            return rv;
    }
    return 0;
}

/* Every expression of grouped @q evaluated per group. */
static int
group_rewrite_all(struct sql_stmt *st, struct query *q)
{
    int rv = 0;
    for (size_t i = 0; rv == 0 && i < q->n_targets; i++)
        rv = group_rewrite(st, q, &q->targets[i].expr);
    if (rv == 0 && q->having != NULL)
        rv = group_rewrite(st, q, &q->having);
    for (size_t i = 0; rv == 0 && i < q->n_sort; i++)
        rv = group_rewrite(st, q, &q->sort[i].expr);
    for (size_t i = 0; rv == 0 && i < q->n_distinct_on; i++)
        rv = group_rewrite(st, q, &q->distinct_on[i]);
    for (size_t i = 0; rv == 0 && i < q->n_tsrfs; i++)
        for (uint32_t j = 0; rv == 0 && j < q->tsrfs[i]->n_args; j++)
            rv = group_rewrite(st, q, &q->tsrfs[i]->args[j]);
    for (size_t i = 0; rv == 0 && i < q->n_windows; i++) {
        struct query_window *w = q->windows[i];
        for (size_t j = 0; rv == 0 && j < w->n_part; j++)
            rv = group_rewrite(st, q, &w->part[j]);
        for (size_t j = 0; rv == 0 && j < w->n_order; j++)
            rv = group_rewrite(st, q, &w->order[j].expr);
        for (size_t j = 0; rv == 0 && j < 3; j++)
            if (w->args[j] != NULL)
                rv = group_rewrite(st, q, &w->args[j]);
        if (rv == 0 && w->agg != NULL && w->agg->arg != NULL)
            rv = group_rewrite(st, q, &w->agg->arg);
        if (rv == 0 && w->agg != NULL && w->agg->filter != NULL)
            rv = group_rewrite(st, q, &w->agg->filter);
    }
    return rv;
}

/* DISTINCT ON (exprs): bound as ORDER BY items are; the leading ORDER BY
 * items must be among them (42P10, as PostgreSQL). */
static int
bind_distinct_on(struct sql_stmt *st, struct query *q,
                 const struct bind_scope *sc, const PgQuery__SelectStmt *ss)
{
    q->n_distinct_on = ss->n_distinct_clause;
    q->distinct_on = tl_arena_calloc(st->a, (q->n_distinct_on + 1) *
                                                sizeof(*q->distinct_on));
    for (size_t i = 0; i < q->n_distinct_on; i++) {
        int rv = bind_sort_item(st, q, sc, ss->distinct_clause[i],
                                &q->distinct_on[i]);
        if (rv == 0)
            rv = sql_check_sort_type(st, q->distinct_on[i]->type, false,
                                     ss->distinct_clause[i]);
        if (rv != 0)
            return rv;
    }
    /* ORDER BY's items, in order, must each be a DISTINCT ON expression
     * until every DISTINCT ON expression has appeared. */
    size_t seen = 0;
    bool *hit = tl_arena_calloc(st->a, q->n_distinct_on + 1);
    for (size_t i = 0; i < q->n_sort && seen < q->n_distinct_on; i++) {
        /* An equal expression not matched yet, else any equal one. */
        size_t j = q->n_distinct_on;
        for (size_t k = 0; k < q->n_distinct_on; k++)
            if (tl_expr_equal(q->distinct_on[k], q->sort[i].expr) &&
                (j == q->n_distinct_on || (hit[j] && !hit[k])))
                j = k;
        if (j == q->n_distinct_on) {
            sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_COLUMN_REFERENCE,
                      "SELECT DISTINCT ON expressions must match initial "
                      "ORDER BY expressions");
            return sql_error_at(st, TL_EINVAL,
                                bind_node_location(ss->distinct_clause[0]));
        }
        if (!hit[j]) {
            hit[j] = true;
            seen++;
        }
    }
    return 0;
}

/* Whether @e reads only columns [lo, hi) of its query's row and nothing
 * that depends on the row as a whole (a subquery, an aggregate). */
static bool
reads_only(const struct tl_expr *e, uint32_t lo, uint32_t hi)
{
    if (e->kind == TL_EXPR_COLUMN)
        return e->column >= lo && e->column < hi;
    if (e->kind == TL_EXPR_EXT &&
        (e->ext_fn == eval_sublink || e->ext_fn == eval_agg ||
         e->ext_fn == eval_window || e->ext_fn == eval_tsrf))
        return false;
    for (uint32_t i = 0; i < e->n_args; i++)
        if (!reads_only(e->args[i], lo, hi))
            return false;
    return true;
}

/* Attach @c to the base item of @f (not below the nullable side of an
 * outer join) whose columns it alone reads: true if placed. */
static bool
place_filter(struct sql_stmt *st, struct query_from *f, struct tl_expr *c)
{
    if (f->kind != QF_JOIN) {
        if (!reads_only(c, f->offset, f->offset + f->width))
            return false;
        if (f->filter == NULL) {
            f->filter = c;
        } else {
            struct tl_expr *args[2] = {f->filter, c};
            f->filter = tl_expr_node(st->a, TL_EXPR_AND, TL_TYPE_BOOL, args, 2);
        }
        return true;
    }
    bool left_ok = f->join == QJ_INNER || f->join == QJ_LEFT;
    bool right_ok = f->join == QJ_INNER || f->join == QJ_RIGHT;
    return (left_ok && place_filter(st, f->left, c)) ||
           (right_ok && place_filter(st, f->right, c));
}

/* Whether @e reads no row of its query and gives one value per run of
 * it: no column, aggregate or window, only uncorrelated subqueries, no
 * volatile function. */
static bool
reads_no_row(const struct tl_expr *e)
{
    if (e->kind == TL_EXPR_COLUMN)
        return false;
    if (e->kind == TL_EXPR_FUNC) {
        const struct tl_func_sig *sig = tl_func_by_id(e->op);
        if (sig == NULL || sig->is_volatile)
            return false;
    }
    if (e->kind == TL_EXPR_EXT) {
        if (e->ext_fn == eval_sublink) {
            const struct query_sublink *sl = e->ext;
            if (sl->q->correlated)
                return false;
        } else if (e->ext_fn != eval_outer && e->ext_fn != eval_any &&
                   e->ext_fn != eval_array) {
            return false;
        }
    }
    for (uint32_t i = 0; i < e->n_args; i++)
        if (!reads_no_row(e->args[i]))
            return false;
    return true;
}

/* Move the conjuncts of WHERE that read one FROM item into that item, so
 * joins only see the rows that can match, and those that read no row
 * into the query's gate. */
static void
push_down_where(struct sql_stmt *st, struct query *q)
{
    if (q->where == NULL || q->from == NULL)
        return;
    struct tl_expr *one[1] = {q->where};
    struct tl_expr **cs = one;
    uint32_t n = 1;
    if (q->where->kind == TL_EXPR_AND) {
        cs = q->where->args;
        n = q->where->n_args;
    }
    struct tl_expr **keep = tl_arena_alloc(st->a, (n + 1) * sizeof(*keep));
    struct tl_expr **gate = tl_arena_alloc(st->a, (n + 1) * sizeof(*gate));
    uint32_t k = 0, g = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (reads_no_row(cs[i]))
            gate[g++] = cs[i];
        else if (!place_filter(st, q->from, cs[i]))
            keep[k++] = cs[i];
    }
    q->gate = g == 0 ? NULL
              : g == 1
                  ? gate[0]
                  : tl_expr_node(st->a, TL_EXPR_AND, TL_TYPE_BOOL, gate, g);
    q->where = k == 0 ? NULL
               : k == 1
                   ? keep[0]
                   : tl_expr_node(st->a, TL_EXPR_AND, TL_TYPE_BOOL, keep, k);
}

/* Bring the expressions of @w into scope (a repeated name: 42712). */
static int
add_ctes(struct sql_stmt *st, struct query_ctx *ctx,
         const PgQuery__WithClause *w, const struct bind_scope *outer)
{
    size_t first = ctx->n_ctes;
    for (size_t i = 0; i < w->n_ctes; i++) {
        const PgQuery__CommonTableExpr *c = w->ctes[i]->common_table_expr;
        if (c == NULL)
            return sql_unsupported(st, "this WITH item");
        for (size_t k = first; k < ctx->n_ctes; k++)
            if (strcmp(ctx->ctes[k].name, c->ctename) == 0) {
                sql_error(st, TL_EEXISTS, TL_SQLSTATE_DUPLICATE_ALIAS,
                          "WITH query name \"%s\" specified more than once",
                          c->ctename);
                return sql_error_at(st, TL_EEXISTS, c->location);
            }
        tl_arena_reserve(st->a, (void **)&ctx->ctes, ctx->n_ctes,
                         &ctx->cap_ctes, sizeof(*ctx->ctes), 4);
        struct query_cte *e = &ctx->ctes[ctx->n_ctes++];
        e->name = c->ctename;
        e->cte = c;
        e->outer = outer;
        e->recursive = w->recursive;
        e->rec = NULL;
    }
    return 0;
}

static int
bind_select(struct sql_stmt *st, struct query_ctx *ctx,
            const PgQuery__SelectStmt *ss, const struct bind_scope *outer,
            struct query **out)
{
    if (ss == NULL)
        return sql_unsupported(st, "this query");
    if (++st->depth > SQL_MAX_DEPTH / 4) {
        st->depth--;
        sql_error(st, TL_EOVERFLOW, TL_SQLSTATE_STATEMENT_TOO_COMPLEX,
                  "stack depth limit exceeded");
        return TL_EOVERFLOW;
    }
    struct query *q = tl_arena_calloc(st->a, sizeof(*q));
    tl_arena_reserve(st->a, (void **)&ctx->stack, ctx->n_stack, &ctx->cap_stack,
                     sizeof(*ctx->stack), 8);
    ctx->stack[ctx->n_stack++] = q;
    int rv = refuse(st, ss);
    size_t n_ctes = ctx->n_ctes;
    if (rv == 0 && ss->with_clause != NULL)
        rv = add_ctes(st, ctx, ss->with_clause, outer);
    if (rv == 0 && ss->op != PG_QUERY__SET_OPERATION__SETOP_NONE) {
        rv = bind_setop(st, ctx, ss, outer, q);
        ctx->n_ctes = n_ctes;
        q->correlated = q->correlated ||
                        (q->larg != NULL && q->larg->correlated) ||
                        (q->rarg != NULL && q->rarg->correlated);
        ctx->n_stack--;
        st->depth--;
        *out = q;
        return rv;
    }
    struct from_state fs = {.q = q};
    if (rv == 0)
        rv = bind_from(st, ctx, &fs, outer, ss);
    struct bind_local local = {.ctx = ctx,
                               .q = q,
                               .outer = outer,
                               .window_defs = ss->window_clause,
                               .n_window_defs = ss->n_window_clause};
    struct bind_scope *sc = tl_arena_alloc(st->a, sizeof(*sc));
    *sc = scope_of(&fs, &local, "WHERE");
    struct bind_local *lp = tl_arena_alloc(st->a, sizeof(*lp));
    *lp = local;
    sc->local = lp;
    q->scope = sc;
    if (rv == 0 && ss->where_clause != NULL)
        rv = bind_predicate(st, sc, ss->where_clause, &q->where);
    /* Targets, HAVING and ORDER BY may hold aggregates. */
    lp->aggs_ok = true;
    sc->clause = NULL;
    if (rv == 0)
        rv = bind_targets(st, q, &fs, sc, ss);
    if (rv == 0 && ss->having_clause != NULL) {
        sc->clause = "HAVING";
        rv = bind_predicate(st, sc, ss->having_clause, &q->having);
        sc->clause = NULL;
    }
    if (rv == 0)
        rv = bind_sort(st, q, sc, ss);
    lp->aggs_ok = false;
    sc->clause = "GROUP BY";
    if (rv == 0)
        rv = bind_group(st, q, sc, ss);
    if (rv == 0)
        rv = bind_limits(st, q, ss);
    q->grouped = q->n_group_keys > 0 || q->having != NULL || q->n_aggs > 0 ||
                 q->n_sets > 0 || q->has_grouping;
    bool on =
        ss->n_distinct_clause > 0 && ss->distinct_clause[0] != NULL &&
        ss->distinct_clause[0]->node_case != PG_QUERY__NODE__NODE__NOT_SET;
    q->distinct = ss->n_distinct_clause > 0 && !on;
    if (rv == 0 && on) {
        lp->aggs_ok = true;
        sc->clause = NULL;
        rv = bind_distinct_on(st, q, sc, ss);
        lp->aggs_ok = false;
    }
    if (rv == 0 && q->grouped)
        rv = group_rewrite_all(st, q);
    if (rv == 0)
        push_down_where(st, q);
    ctx->n_ctes = n_ctes;
    ctx->n_stack--;
    st->depth--;
    *out = q;
    return rv;
}

int
query_bind(struct sql_stmt *st, struct query_ctx *ctx,
           const PgQuery__SelectStmt *ss, struct query **out)
{
    return bind_select(st, ctx, ss, NULL, out);
}

/* ------------------------------------------------- outer references */

struct outer_ref {
    struct query *q;
    struct tl_expr *inner; /* over q's combined row */
};

static int
eval_outer(const struct tl_expr *e, const struct tl_value *row, size_t n_cols,
           struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)row;
    (void)n_cols;
    const struct outer_ref *o = e->ext;
    if (o->q->cur_row == NULL) {
        *out = tl_value_null(e->type);
        return 0;
    }
    return tl_expr_eval(o->inner, o->q->cur_row, o->q->width, a, out, err);
}

int
query_bind_outer(struct sql_stmt *st, const struct bind_scope *sc,
                 const PgQuery__Node *n, int rv, struct tl_expr **out)
{
    const struct bind_scope *outer = sc->local->outer;
    if (outer == NULL || outer->local == NULL)
        return rv;
    struct tl_error saved = st->err;
    tl_error_clear(&st->err);
    struct tl_expr *inner;
    /* A reference to an outer query is never an aggregate of this one. */
    if (bind_expr(st, outer, n, &inner) != 0) {
        st->err = saved;
        return rv;
    }
    struct outer_ref *o = tl_arena_alloc(st->a, sizeof(*o));
    o->q = outer->local->q;
    o->inner = inner;
    /* Every query between this reference and the one it reads is
     * correlated. */
    struct query_ctx *ctx = sc->local->ctx;
    for (size_t i = ctx->n_stack; i > 0 && ctx->stack[i - 1] != o->q; i--)
        ctx->stack[i - 1]->correlated = true;
    *out = tl_expr_ext(st->a, inner->type, eval_outer, o, NULL, 0);
    return 0;
}

/* ----------------------------------------------------------- subqueries */

static int
eval_sublink(const struct tl_expr *e, const struct tl_value *row, size_t n_cols,
             struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    struct query_sublink *sl = e->ext;
    return sl->run(sl, e, row, n_cols, a, out, err);
}

static void
register_sublink(struct sql_stmt *st, struct query_ctx *ctx,
                 struct query_sublink *sl)
{
    tl_arena_reserve(st->a, (void **)&ctx->sublinks, ctx->n_sublinks,
                     &ctx->cap_sublinks, sizeof(*ctx->sublinks), 4);
    ctx->sublinks[ctx->n_sublinks++] = sl;
}

/* The comparison operator named by @names (the last element). */
static int
comparison_op(const char *name, uint8_t *op)
{
    static const struct {
        const char *name;
        uint8_t op;
    } ops[] = {{"=", TL_OP_EQ}, {"<>", TL_OP_NE}, {"!=", TL_OP_NE},
               {"<", TL_OP_LT}, {"<=", TL_OP_LE}, {">", TL_OP_GT},
               {">=", TL_OP_GE}};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(ops[i].name, name) == 0) {
            *op = ops[i].op;
            return 0;
        }
    return TL_EUNSUPPORTED;
}

int
query_bind_sublink(struct sql_stmt *st, const struct bind_scope *sc,
                   const PgQuery__SubLink *sl, struct tl_expr **out)
{
    const struct bind_local *local = sc->local;
    struct query_sublink *l = tl_arena_calloc(st->a, sizeof(*l));
    if (sl->subselect == NULL ||
        sl->subselect->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
        return sql_unsupported(st, "this subquery");
    int rv = bind_select(st, local->ctx, sl->subselect->select_stmt, sc, &l->q);
    if (rv != 0)
        return rv;
    struct tl_expr *x = NULL;
    uint8_t type = TL_TYPE_BOOL;
    switch (sl->sub_link_type) {
    case PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK:
        l->kind = QL_EXISTS;
        break;
    case PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK:
        l->kind = QL_SCALAR;
        if (l->q->n_targets != 1) {
            sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                      "subquery must return only one column");
            return sql_error_at(st, TL_ESYNTAX, sl->location);
        }
        type = l->q->targets[0].type;
        break;
    case PG_QUERY__SUB_LINK_TYPE__ARRAY_SUBLINK:
        l->kind = QL_ARRAY;
        if (l->q->n_targets != 1) {
            sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                      "subquery must return only one column");
            return sql_error_at(st, TL_ESYNTAX, sl->location);
        }
        type = TL_TYPE_TEXT;
        break;
    case PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK:
    case PG_QUERY__SUB_LINK_TYPE__ALL_SUBLINK: {
        l->kind = sl->sub_link_type == PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK
                      ? QL_ANY
                      : QL_ALL;
        const char *opname = "=";
        if (sl->n_oper_name > 0)
            opname = sql_node_str(sl->oper_name[sl->n_oper_name - 1]);
        if (opname == NULL || comparison_op(opname, &l->op) != 0)
            return sql_unsupported(st, "this operator with a subquery");
        if (l->q->n_targets != 1) {
            sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                      "subquery has too many columns");
            return sql_error_at(st, TL_ESYNTAX, sl->location);
        }
        if ((rv = bind_expr(st, sc, sl->testexpr, &x)) != 0)
            return rv;
        uint8_t ct = l->q->targets[0].type;
        if (x->type == TL_TYPE_UNKNOWN)
            rv = bind_coerce_unknown(st, &x, ct, -1, -1);
        if (rv != 0)
            return rv;
        if (!tl_type_comparable(x->type, ct)) {
            sql_error(st, TL_ETYPE, TL_SQLSTATE_UNDEFINED_FUNCTION,
                      "operator does not exist: %s %s %s",
                      tl_type_name(x->type), opname, tl_type_name(ct));
            return sql_error_at(st, TL_ETYPE, sl->location);
        }
        break;
    }
    default:
        return sql_unsupported(st, "this kind of subquery");
    }
    register_sublink(st, local->ctx, l);
    *out = tl_expr_ext(st->a, type, eval_sublink, l, x != NULL ? &x : NULL,
                       x != NULL ? 1 : 0);
    return 0;
}

/* ------------------------------------------------------------- arrays */

struct any_data {
    uint8_t op;
    bool all;
};

/* x op ANY/ALL (array text): each element read as x's type. */
static int
eval_any(const struct tl_expr *e, const struct tl_value *row, size_t n_cols,
         struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    const struct any_data *d = e->ext;
    struct tl_value x, arr;
    int rv = tl_expr_eval(e->args[0], row, n_cols, a, &x, err);
    if (rv == 0)
        rv = tl_expr_eval(e->args[1], row, n_cols, a, &arr, err);
    if (rv != 0)
        return rv;
    if (arr.is_null) {
        *out = tl_value_null(TL_TYPE_BOOL);
        return 0;
    }
    const char **el;
    size_t *lens, n;
    if ((rv = pgcat_array_parse(arr.u.s.p, arr.u.s.len, a, &el, &lens, &n,
                                err)) != 0)
        return rv;
    /* Every element is read first, as PostgreSQL reads the array before
     * comparing (a malformed element fails even after a match). */
    uint8_t t =
        e->args[0]->type == TL_TYPE_UNKNOWN ? TL_TYPE_TEXT : e->args[0]->type;
    struct tl_value *vals = tl_arena_alloc(a, (n + 1) * sizeof(*vals));
    for (size_t i = 0; i < n; i++) {
        if (el[i] == NULL)
            vals[i] = tl_value_null(t);
        else if ((rv = tl_value_from_text(t, -1, el[i], lens[i], a, &vals[i],
                                          err)) != 0)
            return rv;
    }
    bool saw_null = x.is_null && n > 0;
    struct tl_expr *cmp =
        tl_expr_op(a, d->op, TL_TYPE_BOOL, tl_expr_column(a, 0, t),
                   tl_expr_column(a, 1, t));
    for (size_t i = 0; i < n && !x.is_null; i++) {
        if (vals[i].is_null) {
            saw_null = true;
            continue;
        }
        struct tl_value pair[2] = {x, vals[i]}, res;
        if ((rv = tl_expr_eval(cmp, pair, 2, a, &res, err)) != 0)
            return rv;
        if (res.u.b != d->all) {
            *out = tl_value_bool(!d->all);
            return 0;
        }
    }
    *out = saw_null ? tl_value_null(TL_TYPE_BOOL) : tl_value_bool(d->all);
    return 0;
}

int
query_bind_any(struct sql_stmt *st, const struct bind_scope *sc,
               const PgQuery__AExpr *e, struct tl_expr **out)
{
    const char *opname =
        e->n_name ? sql_node_str(e->name[e->n_name - 1]) : NULL;
    struct any_data *d = tl_arena_alloc(st->a, sizeof(*d));
    d->all = e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP_ALL;
    if (opname == NULL || comparison_op(opname, &d->op) != 0)
        return sql_unsupported(st, "this operator with ANY/ALL");
    struct tl_expr *args[2];
    int rv = bind_expr(st, sc, e->lexpr, &args[0]);
    if (rv == 0)
        rv = bind_expr(st, sc, e->rexpr, &args[1]);
    if (rv == 0)
        rv = bind_coerce_unknown(st, &args[1], TL_TYPE_TEXT, -1, -1);
    if (rv == 0 && args[0]->type == TL_TYPE_UNKNOWN)
        rv = bind_coerce_unknown(st, &args[0], TL_TYPE_TEXT, -1, -1);
    if (rv != 0)
        return rv;
    *out = tl_expr_ext(st->a, TL_TYPE_BOOL, eval_any, d, args, 2);
    return 0;
}

/* ARRAY[a, b]: PostgreSQL's array text of the elements. */
static int
eval_array(const struct tl_expr *e, const struct tl_value *row, size_t n_cols,
           struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    struct tl_buf b, t;
    tl_buf_init(&b);
    tl_buf_init(&t);
    tl_buf_append_u8(&b, '{');
    int rv = 0;
    for (uint32_t i = 0; i < e->n_args && rv == 0; i++) {
        struct tl_value v;
        rv = tl_expr_eval(e->args[i], row, n_cols, a, &v, err);
        if (rv != 0)
            break;
        tl_buf_reset(&t);
        if (!v.is_null)
            tl_value_to_text(&v, &t);
        pgcat_array_append(&b, v.is_null ? NULL : (const char *)t.data, t.len,
                           i == 0);
    }
    tl_buf_append_u8(&b, '}');
    if (rv == 0)
        *out = tl_value_text_dup(a, TL_TYPE_TEXT, b.data, b.len);
    tl_buf_close(&b);
    tl_buf_close(&t);
    return rv;
}

int
query_bind_array(struct sql_stmt *st, const struct bind_scope *sc,
                 const PgQuery__AArrayExpr *e, struct tl_expr **out)
{
    struct tl_expr **args =
        tl_arena_alloc(st->a, (e->n_elements + 1) * sizeof(*args));
    for (size_t i = 0; i < e->n_elements; i++) {
        int rv = bind_expr(st, sc, e->elements[i], &args[i]);
        if (rv == 0)
            rv = bind_coerce_unknown(st, &args[i], TL_TYPE_TEXT, -1, -1);
        if (rv != 0)
            return rv;
    }
    *out = tl_expr_ext(st->a, TL_TYPE_TEXT, eval_array, NULL, args,
                       (uint32_t)e->n_elements);
    return 0;
}

/* Whether column reference @e names an array column (its typmod holds
 * the element type). */
static bool
is_array_column(const struct bind_scope *sc, const struct tl_expr *e)
{
    for (size_t i = 0; e->kind == TL_EXPR_COLUMN && i < sc->n_rels; i++) {
        const struct bind_rel *r = &sc->rels[i];
        if (e->column >= r->offset &&
            e->column < r->offset + r->table->n_columns)
            return r->table->columns[e->column - r->offset].typmod > 0;
    }
    return false;
}

/* The element type of array @e: a catalog column's (its typmod), else
 * text. */
static uint8_t
array_elem_type(const struct bind_scope *sc, const struct tl_expr *e)
{
    if (e->kind == TL_EXPR_EXT && e->ext_fn == eval_outer) {
        const struct outer_ref *o = e->ext;
        if (o->q->scope != NULL)
            return array_elem_type(o->q->scope, o->inner);
    }
    if (e->kind != TL_EXPR_COLUMN)
        return TL_TYPE_TEXT;
    for (size_t i = 0; i < sc->n_rels; i++) {
        const struct bind_rel *r = &sc->rels[i];
        if (e->column < r->offset ||
            e->column >= r->offset + r->table->n_columns)
            continue;
        int32_t t = r->table->columns[e->column - r->offset].typmod;
        return t > 0 && t <= TL_TYPE_MAX && tl_type_is_known((uint8_t)t)
                   ? (uint8_t)t
                   : TL_TYPE_TEXT;
    }
    return TL_TYPE_TEXT;
}

/* arr[i] (from 1) read as the element type, NULL out of
 * range. */
static int
eval_subscript(const struct tl_expr *e, const struct tl_value *row,
               size_t n_cols, struct tl_arena *a, struct tl_value *out,
               struct tl_error *err)
{
    struct tl_value arr, idx;
    int rv = tl_expr_eval(e->args[0], row, n_cols, a, &arr, err);
    if (rv == 0)
        rv = tl_expr_eval(e->args[1], row, n_cols, a, &idx, err);
    if (rv != 0)
        return rv;
    *out = tl_value_null(e->type);
    if (arr.is_null || idx.is_null)
        return 0;
    const char **el;
    size_t *lens, n;
    if ((rv = pgcat_array_parse(arr.u.s.p, arr.u.s.len, a, &el, &lens, &n,
                                err)) != 0)
        return rv;
    *out = tl_value_null(e->type);
    if (idx.u.i < 1 || (size_t)idx.u.i > n || el[idx.u.i - 1] == NULL)
        return 0;
    return tl_value_from_text(e->type, -1, el[idx.u.i - 1], lens[idx.u.i - 1],
                              a, out, err);
}

/* (record).x / (record).n of an _pg_expandarray record "(x,n)". */
static int
eval_field(const struct tl_expr *e, const struct tl_value *row, size_t n_cols,
           struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    const int *field = e->ext;
    struct tl_value v;
    int rv = tl_expr_eval(e->args[0], row, n_cols, a, &v, err);
    *out = tl_value_null(e->type);
    if (rv != 0 || v.is_null || v.u.s.len < 2)
        return rv;
    const char *p = v.u.s.p + 1, *end = v.u.s.p + v.u.s.len - 1;
    const char *comma = memchr(p, ',', (size_t)(end - p));
    if (comma == NULL)
        return 0;
    const char *s = *field == 0 ? p : comma + 1;
    size_t len = *field == 0 ? (size_t)(comma - p) : (size_t)(end - comma - 1);
    if (len == 0)
        return 0;
    return tl_value_from_text(e->type, -1, s, len, a, out, err);
}

static int
bind_field(struct sql_stmt *st, const struct bind_scope *sc,
           const PgQuery__AIndirection *e, const char *field,
           struct tl_expr **out)
{
    static const int fields[2] = {0, 1};
    struct tl_expr *x;
    int rv = bind_expr(st, sc, e->arg, &x);
    if (rv != 0)
        return rv;
    if (x->type != TL_TYPE_TEXT ||
        (strcmp(field, "x") != 0 && strcmp(field, "n") != 0))
        return sql_unsupported(st, "field selection");
    bool is_n = strcmp(field, "n") == 0;
    *out = tl_expr_ext(st->a, is_n ? TL_TYPE_INT4 : TL_TYPE_INT8, eval_field,
                       (void *)&fields[is_n], &x, 1);
    return 0;
}

int
query_bind_subscript(struct sql_stmt *st, const struct bind_scope *sc,
                     const PgQuery__AIndirection *e, struct tl_expr **out)
{
    if (e->n_indirection == 1 &&
        e->indirection[0]->node_case == PG_QUERY__NODE__NODE_STRING)
        return bind_field(st, sc, e, e->indirection[0]->string->sval, out);
    if (e->n_indirection != 1 ||
        e->indirection[0]->node_case != PG_QUERY__NODE__NODE_A_INDICES ||
        e->indirection[0]->a_indices->is_slice)
        return sql_unsupported(st, "this subscript or field selection");
    struct tl_expr *args[2];
    int rv = bind_expr(st, sc, e->arg, &args[0]);
    if (rv == 0)
        rv = bind_expr(st, sc, e->indirection[0]->a_indices->uidx, &args[1]);
    if (rv == 0)
        rv = bind_coerce_unknown(st, &args[1], TL_TYPE_INT8, -1, -1);
    if (rv != 0)
        return rv;
    if (!tl_type_is_int(args[1]->type))
        return sql_unsupported(st, "this array subscript");
    *out = tl_expr_ext(st->a, array_elem_type(sc, args[0]), eval_subscript,
                       NULL, args, 2);
    return 0;
}

/* ---------------------------------------------------------- aggregates */

static int
eval_agg(const struct tl_expr *e, const struct tl_value *row, size_t n_cols,
         struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)row, (void)n_cols, (void)a, (void)err;
    const struct query_agg *g = e->ext;
    if (g->q->cur_group == NULL) {
        *out = tl_value_null(e->type);
        return 0;
    }
    *out = query_group_result(g->q->cur_group, g->index);
    if (out->is_null)
        out->type = e->type;
    return 0;
}

static int
bind_agg(struct sql_stmt *st, const struct bind_scope *sc,
         const PgQuery__FuncCall *f, struct tl_expr **out)
{
    static const struct {
        const char *name;
        int kind;
    } names[] = {{"count", QA_COUNT},
                 {"sum", QA_SUM},
                 {"min", QA_MIN},
                 {"max", QA_MAX},
                 {"avg", QA_AVG},
                 {"string_agg", QA_STRING_AGG},
                 {"array_agg", QA_ARRAY_AGG},
                 {"bool_and", QA_BOOL_AND},
                 {"bool_or", QA_BOOL_OR},
                 {"every", QA_BOOL_AND}};
    if (f->n_funcname == 0 || f->over != NULL)
        return 1;
    const char *name = sql_node_str(f->funcname[f->n_funcname - 1]);
    int kind = 0;
    for (size_t i = 0; name != NULL && i < sizeof(names) / sizeof(names[0]);
         i++)
        if (strcmp(names[i].name, name) == 0)
            kind = names[i].kind;
    if (kind == 0)
        return 1;
    const struct bind_local *local = sc->local;
    if (!local->aggs_ok) {
        const char *where = sc->clause == NULL ? "this context"
                            : strcmp(sc->clause, "JOIN/ON") == 0
                                ? "JOIN conditions"
                                : sc->clause;
        sql_error(st, TL_EINVAL, TL_SQLSTATE_GROUPING_ERROR,
                  "aggregate functions are not allowed in %s", where);
        return sql_error_at(st, TL_EINVAL, f->location);
    }
    struct query_agg *g = tl_arena_calloc(st->a, sizeof(*g));
    g->kind = f->agg_star ? QA_COUNT_STAR : kind;
    g->distinct = f->agg_distinct;
    g->q = local->q;
    size_t want = kind == QA_STRING_AGG ? 2 : 1;
    if ((f->agg_star && kind != QA_COUNT) ||
        (!f->agg_star && f->n_args != want)) {
        sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_FUNCTION,
                  "function %s with %zu arguments does not exist", name,
                  f->n_args);
        return sql_error_at(st, TL_ENOTFOUND, f->location);
    }
    /* Arguments: no nested aggregates, but for an aggregate over a
     * window, whose arguments may hold its query's aggregates. */
    struct bind_local inner = *local;
    inner.aggs_ok = false;
    if (local->win_outer != NULL) {
        inner = *local->win_outer;
        inner.in_window = true;
    }
    struct bind_scope isc = *sc;
    isc.local = &inner;
    isc.clause = "aggregate function calls";
    int rv = 0;
    if (!f->agg_star)
        rv = bind_expr(st, &isc, f->args[0], &g->arg);
    if (rv == 0 && kind == QA_STRING_AGG) {
        rv = bind_expr(st, &isc, f->args[1], &g->sep);
        if (rv == 0)
            rv = bind_coerce_unknown(st, &g->sep, TL_TYPE_TEXT, -1, -1);
        if (rv == 0)
            rv = bind_coerce_unknown(st, &g->arg, TL_TYPE_TEXT, -1, -1);
    }
    if (rv == 0 && g->arg != NULL && g->arg->type == TL_TYPE_UNKNOWN)
        rv = bind_coerce_unknown(st, &g->arg, TL_TYPE_TEXT, -1, -1);
    if (rv == 0 && f->agg_filter != NULL) {
        isc.clause = "FILTER";
        rv = bind_predicate(st, &isc, f->agg_filter, &g->filter);
        isc.clause = "aggregate function calls";
    }
    g->n_order = f->n_agg_order;
    g->order = tl_arena_calloc(st->a, (g->n_order + 1) * sizeof(*g->order));
    for (size_t i = 0; rv == 0 && i < g->n_order; i++) {
        const PgQuery__SortBy *sb = f->agg_order[i]->sort_by;
        rv = sql_bind_sort_order(st, sb, &g->order[i].desc,
                                 &g->order[i].nulls_first);
        if (rv == 0)
            rv = bind_expr(st, &isc, sb->node, &g->order[i].expr);
        if (rv == 0 && g->order[i].expr->type == TL_TYPE_UNKNOWN)
            rv = bind_coerce_unknown(st, &g->order[i].expr, TL_TYPE_TEXT, -1,
                                     -1);
    }
    if (rv != 0)
        return rv;
    uint8_t at = g->arg != NULL ? g->arg->type : TL_TYPE_INT8;
    switch (g->kind) {
    case QA_COUNT_STAR:
    case QA_COUNT:
        g->type = TL_TYPE_INT8;
        break;
    case QA_SUM:
        if (!tl_type_is_numeric(at))
            goto bad_type;
        /* as PostgreSQL: bigint and numeric sum to numeric */
        g->type = tl_type_is_float(at) ? TL_TYPE_FLOAT8
                  : at == TL_TYPE_INT8 || at == TL_TYPE_NUMERIC
                      ? TL_TYPE_NUMERIC
                      : TL_TYPE_INT8;
        break;
    case QA_AVG:
        if (!tl_type_is_numeric(at))
            goto bad_type;
        g->type = tl_type_is_float(at) ? TL_TYPE_FLOAT8 : TL_TYPE_NUMERIC;
        break;
    case QA_BOOL_AND:
    case QA_BOOL_OR:
        if (at != TL_TYPE_BOOL)
            goto bad_type;
        g->type = TL_TYPE_BOOL;
        break;
    case QA_STRING_AGG:
    case QA_ARRAY_AGG:
        g->type = TL_TYPE_TEXT;
        break;
    default:
        g->type = at;
        break;
    }
    struct query *q = local->q;
    tl_arena_reserve(st->a, (void **)&q->aggs, q->n_aggs, &q->cap_aggs,
                     sizeof(*q->aggs), 4);
    g->index = (uint32_t)q->n_aggs;
    q->aggs[q->n_aggs++] = g;
    *out = tl_expr_ext(st->a, g->type, eval_agg, g, NULL, 0);
    return 0;
bad_type:
    sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_FUNCTION,
              "function %s(%s) does not exist", name, tl_type_name(at));
    tl_error_hint(&st->err, "No function matches the given name and argument "
                            "types. You might need to add explicit type "
                            "casts.");
    return sql_error_at(st, TL_ENOTFOUND, f->location);
}

/* ------------------------------------------ set-returning functions */

/* Element @pos of array text @arr, or NULL past its end: *@n its length. */
static int
array_elem(const struct tl_value *arr, size_t pos, struct tl_arena *a,
           const char **el, size_t *len, size_t *n, struct tl_error *err)
{
    const char **els;
    size_t *lens;
    *el = NULL;
    *n = 0;
    if (arr->is_null)
        return 0;
    int rv =
        pgcat_array_parse(arr->u.s.p, arr->u.s.len, a, &els, &lens, n, err);
    if (rv != 0 || pos >= *n)
        return rv;
    *el = els[pos];
    *len = lens[pos];
    return 0;
}

int
query_tsrf_length(const struct query_tsrf *s, const struct tl_value *row,
                  size_t n_cols, struct tl_arena *a, size_t *len,
                  struct tl_error *err)
{
    struct tl_value v[3] = {{0}};
    for (uint32_t i = 0; i < s->n_args; i++) {
        int rv = tl_expr_eval(s->args[i], row, n_cols, a, &v[i], err);
        if (rv != 0)
            return rv;
        if (v[i].is_null) {
            *len = 0;
            return 0;
        }
    }
    if (s->kind == QS_GENERATE_SERIES) {
        int64_t step = s->n_args > 2 ? v[2].u.i : 1;
        if (step == 0)
            return tl_error_set(err, TL_EINVAL,
                                TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                                "step size cannot equal zero");
        int64_t span = step > 0 ? v[1].u.i - v[0].u.i : v[0].u.i - v[1].u.i;
        int64_t st = step > 0 ? step : -step;
        *len = span < 0 ? 0 : (size_t)(span / st) + 1;
        return 0;
    }
    const char *el;
    size_t l;
    return array_elem(&v[0], 0, a, &el, &l, len, err);
}

static int
eval_tsrf(const struct tl_expr *e, const struct tl_value *row, size_t n_cols,
          struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    const struct query_tsrf *s = e->ext;
    size_t pos = s->q->srf_pos, n;
    *out = tl_value_null(e->type);
    int rv = query_tsrf_length(s, row, n_cols, a, &n, err);
    if (rv != 0 || pos >= n)
        return rv;
    struct tl_value v[3] = {{0}};
    for (uint32_t i = 0; i < s->n_args; i++)
        if ((rv = tl_expr_eval(s->args[i], row, n_cols, a, &v[i], err)) != 0)
            return rv;
    const char *el;
    size_t len;
    switch (s->kind) {
    case QS_GENERATE_SERIES: {
        int64_t step = s->n_args > 2 ? v[2].u.i : 1;
        *out = tl_value_int(e->type, v[0].u.i + (int64_t)pos * step);
        return 0;
    }
    case QS_SUBSCRIPTS:
        *out = tl_value_int(TL_TYPE_INT4, (int64_t)pos + 1);
        return 0;
    case QS_UNNEST:
        if ((rv = array_elem(&v[0], pos, a, &el, &len, &n, err)) != 0 ||
            el == NULL)
            return rv;
        return tl_value_from_text(e->type, -1, el, len, a, out, err);
    default: /* QS_EXPANDARRAY: the record (x,n) */
        if ((rv = array_elem(&v[0], pos, a, &el, &len, &n, err)) != 0)
            return rv;
        const char *txt = tl_arena_printf(a, "(%.*s,%zu)", el ? (int)len : 0,
                                          el ? el : "", pos + 1);
        *out = tl_value_text(TL_TYPE_TEXT, txt, (uint32_t)strlen(txt));
        return 0;
    }
}

static int
bind_tsrf(struct sql_stmt *st, const struct bind_scope *sc,
          const PgQuery__FuncCall *f, int kind, struct tl_expr **out)
{
    const struct bind_local *local = sc->local;
    struct query *q = local->q;
    if (!local->aggs_ok || sc->clause != NULL) {
        sql_error(st, TL_EINVAL, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                  "set-returning functions are not allowed in %s",
                  sc->clause != NULL ? sc->clause : "this context");
        return sql_error_at(st, TL_EINVAL, f->location);
    }
    size_t want_min = kind == QS_GENERATE_SERIES ? 2
                      : kind == QS_SUBSCRIPTS    ? 2
                                                 : 1;
    size_t want_max = kind == QS_GENERATE_SERIES ? 3 : want_min;
    if (f->n_args < want_min || f->n_args > want_max)
        return 1;
    struct query_tsrf *s = tl_arena_calloc(st->a, sizeof(*s));
    s->kind = kind;
    s->q = q;
    s->n_args = (uint32_t)f->n_args;
    s->args = tl_arena_alloc(st->a, (f->n_args + 1) * sizeof(*s->args));
    struct bind_local inner = *local;
    inner.aggs_ok = false;
    struct bind_scope isc = *sc;
    isc.local = &inner;
    for (size_t i = 0; i < f->n_args; i++) {
        int rv = bind_expr(st, &isc, f->args[i], &s->args[i]);
        uint8_t want =
            kind == QS_GENERATE_SERIES || i > 0 ? TL_TYPE_INT8 : TL_TYPE_TEXT;
        if (rv == 0)
            rv = bind_coerce_unknown(st, &s->args[i], want, -1, -1);
        if (rv != 0)
            return rv;
        if ((want == TL_TYPE_INT8 && !tl_type_is_int(s->args[i]->type)) ||
            (want == TL_TYPE_TEXT && !tl_type_is_text(s->args[i]->type)))
            return sql_unsupported(st, "this set-returning function call");
    }
    uint8_t type = TL_TYPE_TEXT;
    if (kind == QS_GENERATE_SERIES)
        type = s->args[0]->type;
    else if (kind == QS_SUBSCRIPTS)
        type = TL_TYPE_INT4;
    else if (kind == QS_UNNEST)
        type = s->elem_type = array_elem_type(sc, s->args[0]);
    tl_arena_reserve(st->a, (void **)&q->tsrfs, q->n_tsrfs, &q->cap_tsrfs,
                     sizeof(*q->tsrfs), 4);
    q->tsrfs[q->n_tsrfs++] = s;
    *out = tl_expr_ext(st->a, type, eval_tsrf, s, NULL, 0);
    return 0;
}

/* ---------------------------------------------------- window functions */

static int
eval_window(const struct tl_expr *e, const struct tl_value *row, size_t n_cols,
            struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)row, (void)n_cols, (void)a, (void)err;
    const struct query_window *w = e->ext;
    if (w->values == NULL) {
        *out = tl_value_null(w->type);
        return 0;
    }
    *out = w->values[w->q->cur_index];
    return 0;
}

/* A frame bound's offset @n: for ROWS and GROUPS a bigint count; for
 * RANGE a distance from the ORDER BY value, with *@bound the current
 * row's value moved by it (back for PRECEDING, or forward for a
 * descending order). */
static int
bind_frame_offset(struct sql_stmt *st, const struct bind_scope *sc,
                  const PgQuery__WindowDef *wd, struct query_window *w,
                  const PgQuery__Node *n, bool preceding, struct tl_expr **off,
                  struct tl_expr **bound)
{
    int rv = bind_expr(st, sc, n, off);
    if (rv != 0)
        return rv;
    if ((w->frame & QFR_RANGE) == 0) {
        const char *mode = (w->frame & QFR_ROWS) != 0 ? "ROWS" : "GROUPS";
        if ((*off)->type == TL_TYPE_UNKNOWN)
            rv = bind_coerce_unknown(st, off, TL_TYPE_INT8, -1,
                                     bind_node_location(n));
        if (rv != 0)
            return rv;
        if (!tl_type_is_numeric((*off)->type)) {
            sql_error(st, TL_ETYPE, TL_SQLSTATE_DATATYPE_MISMATCH,
                      "argument of %s must be type bigint, not type %s", mode,
                      tl_type_name((*off)->type));
            return sql_error_at(st, TL_ETYPE, bind_node_location(n));
        }
        if ((*off)->type != TL_TYPE_INT8)
            *off = tl_expr_node(st->a, TL_EXPR_CAST, TL_TYPE_INT8, off, 1);
        return 0;
    }
    if (wd->n_order_clause != 1) {
        sql_error(st, TL_EINVAL, TL_SQLSTATE_WINDOWING_ERROR,
                  "RANGE with offset PRECEDING/FOLLOWING requires exactly one "
                  "ORDER BY column");
        return sql_error_at(st, TL_EINVAL, wd->location);
    }
    /* key - offset or key + offset, typed as PostgreSQL's in_range
     * support does. */
    PgQuery__String opname = PG_QUERY__STRING__INIT;
    opname.sval = (char *)(preceding != w->order[0].desc ? "-" : "+");
    PgQuery__Node name = PG_QUERY__NODE__INIT;
    name.node_case = PG_QUERY__NODE__NODE_STRING;
    name.string = &opname;
    PgQuery__Node *names[1] = {&name};
    PgQuery__AExpr ax = PG_QUERY__A__EXPR__INIT;
    ax.kind = PG_QUERY__A__EXPR__KIND__AEXPR_OP;
    ax.n_name = 1;
    ax.name = names;
    ax.lexpr = wd->order_clause[0]->sort_by->node;
    ax.rexpr = (PgQuery__Node *)n;
    ax.location = -1;
    PgQuery__Node axn = PG_QUERY__NODE__INIT;
    axn.node_case = PG_QUERY__NODE__NODE_A_EXPR;
    axn.a_expr = &ax;
    uint8_t kt = w->order[0].expr->type;
    rv = bind_expr(st, sc, &axn, bound);
    if (rv != 0 ||
        !(tl_type_is_numeric(kt) || kt == TL_TYPE_DATE ||
          kt == TL_TYPE_TIMESTAMP || kt == TL_TYPE_TIMESTAMPTZ ||
          kt == TL_TYPE_INTERVAL) ||
        !tl_type_comparable((*bound)->type, kt)) {
        tl_error_clear(&st->err);
        sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                  "RANGE with offset PRECEDING/FOLLOWING is not supported for "
                  "column type %s and offset type %s",
                  tl_type_name(kt), tl_type_name((*off)->type));
        return sql_error_at(st, TL_ENOTFOUND, bind_node_location(n));
    }
    return 0;
}

static bool
has_text(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* The window @wd names or builds on (OVER w, OVER (w ORDER BY ...)),
 * resolved against the query's WINDOW clause by PostgreSQL's rules. */
static int
resolve_window(struct sql_stmt *st, const struct bind_local *local,
               const PgQuery__WindowDef *wd, int depth,
               const PgQuery__WindowDef **out)
{
    bool by_name = has_text(wd->name) && !has_text(wd->refname) && depth == 0;
    const char *ref = by_name ? wd->name : wd->refname;
    if (!has_text(ref)) {
        *out = wd;
        return 0;
    }
    const PgQuery__WindowDef *base = NULL;
    for (size_t i = 0; i < local->n_window_defs && base == NULL; i++) {
        const PgQuery__WindowDef *c = local->window_defs[i]->window_def;
        if (c != wd && has_text(c->name) && strcmp(c->name, ref) == 0)
            base = c;
    }
    if (base == NULL || depth > 32) {
        sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_OBJECT,
                  "window \"%s\" does not exist", ref);
        return sql_error_at(st, TL_ENOTFOUND, wd->location);
    }
    int rv = resolve_window(st, local, base, depth + 1, &base);
    if (rv != 0 || by_name) {
        *out = base;
        return rv;
    }
    const char *bad = NULL;
    if (wd->n_partition_clause > 0)
        bad = "cannot override PARTITION BY clause of window \"%s\"";
    else if (wd->n_order_clause > 0 && base->n_order_clause > 0)
        bad = "cannot override ORDER BY clause of window \"%s\"";
    else if ((base->frame_options & QFR_NONDEFAULT) != 0)
        bad = "cannot copy window \"%s\" because it has a frame clause";
    if (bad != NULL) {
        sql_error(st, TL_EINVAL, TL_SQLSTATE_WINDOWING_ERROR, bad, ref);
        if (wd->n_order_clause == 0 &&
            (wd->frame_options & QFR_NONDEFAULT) == 0 &&
            (base->frame_options & QFR_NONDEFAULT) != 0)
            tl_error_hint(&st->err,
                          "Omit the parentheses in this OVER clause.");
        return sql_error_at(st, TL_EINVAL, wd->location);
    }
    PgQuery__WindowDef *m = tl_arena_alloc(st->a, sizeof(*m));
    *m = *wd;
    m->refname = NULL;
    m->n_partition_clause = base->n_partition_clause;
    m->partition_clause = base->partition_clause;
    if (wd->n_order_clause == 0) {
        m->n_order_clause = base->n_order_clause;
        m->order_clause = base->order_clause;
    }
    *out = m;
    return 0;
}

static int
bind_window(struct sql_stmt *st, const struct bind_scope *sc,
            const PgQuery__FuncCall *f, const char *name, struct tl_expr **out)
{
    const struct bind_local *local = sc->local;
    struct query *q = local->q;
    static const struct {
        const char *name;
        int kind;
        uint8_t min, max; /* arguments */
    } fns[] = {{"row_number", QW_ROW_NUMBER, 0, 0},
               {"rank", QW_RANK, 0, 0},
               {"dense_rank", QW_DENSE_RANK, 0, 0},
               {"ntile", QW_NTILE, 1, 1},
               {"lag", QW_LAG, 1, 3},
               {"lead", QW_LEAD, 1, 3},
               {"first_value", QW_FIRST_VALUE, 1, 1},
               {"last_value", QW_LAST_VALUE, 1, 1},
               {"nth_value", QW_NTH_VALUE, 2, 2},
               {"count", QW_AGG, 0, 1},
               {"sum", QW_AGG, 1, 1},
               {"avg", QW_AGG, 1, 1},
               {"min", QW_AGG, 1, 1},
               {"max", QW_AGG, 1, 1},
               {"bool_and", QW_AGG, 1, 1},
               {"bool_or", QW_AGG, 1, 1},
               {"every", QW_AGG, 1, 1}};
    int kind = 0;
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
        if (strcmp(fns[i].name, name) == 0 && f->n_args >= fns[i].min &&
            f->n_args <= fns[i].max)
            kind = fns[i].kind;
    const PgQuery__WindowDef *wd0 = f->over;
    /* PostgreSQL's default frame (RANGE UNBOUNDED PRECEDING to CURRENT
     * ROW); FRAMEOPTION_NONDEFAULT marks one written out. */
    if (kind == 0 || f->agg_distinct || f->agg_filter != NULL ||
        f->n_agg_order > 0 || wd0 == NULL)
        return sql_unsupported(
            st, tl_arena_printf(st->a, "window function %s()", name));
    if (!local->aggs_ok || sc->clause != NULL) {
        sql_error(st, TL_EINVAL,
                  local->in_window ? TL_SQLSTATE_WINDOWING_ERROR
                                   : TL_SQLSTATE_GROUPING_ERROR,
                  "window functions are not allowed in %s",
                  sc->clause != NULL ? sc->clause : "this context");
        return sql_error_at(st, TL_EINVAL, f->location);
    }
    if (local->in_window) {
        sql_error(st, TL_EINVAL, TL_SQLSTATE_WINDOWING_ERROR,
                  "window function calls cannot be nested");
        return sql_error_at(st, TL_EINVAL, f->location);
    }
    const PgQuery__WindowDef *wd;
    int rv0 = resolve_window(st, local, f->over, 0, &wd);
    if (rv0 != 0)
        return rv0;
    struct query_window *w = tl_arena_calloc(st->a, sizeof(*w));
    w->kind = kind;
    w->q = q;
    w->type = kind == QW_NTILE ? TL_TYPE_INT4 : TL_TYPE_INT8;
    /* Its arguments, PARTITION BY and ORDER BY may hold the query's
     * aggregates (rank() OVER (ORDER BY sum(x))), not other windows. */
    struct bind_local inner = *local;
    inner.in_window = true;
    struct bind_scope isc = *sc;
    isc.local = &inner;
    if (kind == QW_AGG) {
        /* Bound as a plain aggregate of a query of its own. */
        struct query *own = tl_arena_calloc(st->a, sizeof(*own));
        struct bind_local al = *local;
        al.q = own;
        al.aggs_ok = true;
        al.win_outer = local;
        struct bind_scope asc = *sc;
        asc.local = &al;
        PgQuery__FuncCall plain = *f;
        plain.over = NULL;
        struct tl_expr *e;
        int rv = bind_agg(st, &asc, &plain, &e);
        if (rv != 0)
            return rv == 1 ? sql_unsupported(st, "this window function") : rv;
        w->agg = own->aggs[0];
        w->type = w->agg->type;
    } else {
        for (size_t i = 0; i < f->n_args; i++) {
            int rv = bind_expr(st, &isc, f->args[i], &w->args[i]);
            if (rv != 0)
                return rv;
        }
        if (w->args[0] != NULL && w->args[0]->type == TL_TYPE_UNKNOWN) {
            int rv = bind_coerce_unknown(st, &w->args[0], TL_TYPE_TEXT, -1, -1);
            if (rv != 0)
                return rv;
        }
        if (kind == QW_NTILE || kind == QW_LAG || kind == QW_LEAD ||
            kind == QW_NTH_VALUE) {
            struct tl_expr **n = &w->args[kind == QW_NTILE ? 0 : 1];
            int rv = 0;
            if (*n != NULL && (*n)->type == TL_TYPE_UNKNOWN)
                rv = bind_coerce_unknown(st, n, TL_TYPE_INT4, -1, -1);
            if (rv == 0 && *n != NULL && !tl_type_is_int((*n)->type))
                rv = sql_unsupported(st, "a window function's count of "
                                         "this type");
            if (rv != 0)
                return rv;
        }
        if (kind == QW_LAG || kind == QW_LEAD || kind == QW_FIRST_VALUE ||
            kind == QW_LAST_VALUE || kind == QW_NTH_VALUE)
            w->type = w->args[0]->type;
        if (w->args[2] != NULL && w->args[2]->type != w->type) {
            int rv = w->args[2]->type == TL_TYPE_UNKNOWN ||
                             (w->args[2]->kind == TL_EXPR_CONST &&
                              w->args[2]->value.is_null)
                         ? bind_coerce_unknown(st, &w->args[2], w->type, -1, -1)
                         : 0;
            if (rv == 0 && w->args[2]->type != w->type)
                w->args[2] =
                    tl_expr_node(st->a, TL_EXPR_CAST, w->type, &w->args[2], 1);
            if (rv != 0)
                return rv;
        }
    }
    isc.clause = "window definitions";
    w->n_part = wd->n_partition_clause;
    w->part = tl_arena_calloc(st->a, (w->n_part + 1) * sizeof(*w->part));
    for (size_t i = 0; i < w->n_part; i++) {
        int rv = bind_expr(st, &isc, wd->partition_clause[i], &w->part[i]);
        if (rv != 0)
            return rv;
    }
    w->n_order = wd->n_order_clause;
    w->order = tl_arena_calloc(st->a, (w->n_order + 1) * sizeof(*w->order));
    for (size_t i = 0; i < w->n_order; i++) {
        const PgQuery__SortBy *sb = wd->order_clause[i]->sort_by;
        struct query_sort *k = &w->order[i];
        int rv = sql_bind_sort_order(st, sb, &k->desc, &k->nulls_first);
        if (rv != 0)
            return rv;
        rv = bind_expr(st, &isc, sb->node, &k->expr);
        if (rv != 0)
            return rv;
    }
    w->frame = (wd->frame_options & QFR_NONDEFAULT) != 0 ? wd->frame_options
                                                         : QFR_DEFAULT;
    if ((w->frame &
         (QFR_START_OFFSET_PRECEDING | QFR_START_OFFSET_FOLLOWING)) != 0) {
        int rv = bind_frame_offset(st, &isc, wd, w, wd->start_offset,
                                   (w->frame & QFR_START_OFFSET_PRECEDING) != 0,
                                   &w->start_off, &w->start_bound);
        if (rv != 0)
            return rv;
    }
    if ((w->frame & (QFR_END_OFFSET_PRECEDING | QFR_END_OFFSET_FOLLOWING)) !=
        0) {
        int rv = bind_frame_offset(st, &isc, wd, w, wd->end_offset,
                                   (w->frame & QFR_END_OFFSET_PRECEDING) != 0,
                                   &w->end_off, &w->end_bound);
        if (rv != 0)
            return rv;
    }
    tl_arena_reserve(st->a, (void **)&q->windows, q->n_windows, &q->cap_windows,
                     sizeof(*q->windows), 4);
    q->windows[q->n_windows++] = w;
    *out = tl_expr_ext(st->a, w->type, eval_window, w, NULL, 0);
    return 0;
}

int
query_bind_call(struct sql_stmt *st, const struct bind_scope *sc,
                const PgQuery__FuncCall *f, struct tl_expr **out)
{
    if (f->n_funcname == 0 || f->n_funcname > 2)
        return 1;
    const char *schema =
        f->n_funcname == 2 ? sql_node_str(f->funcname[0]) : NULL;
    const char *name = sql_node_str(f->funcname[f->n_funcname - 1]);
    if (name == NULL)
        return 1;
    if (schema != NULL && strcmp(schema, "information_schema") == 0 &&
        strcmp(name, "_pg_expandarray") == 0)
        return bind_tsrf(st, sc, f, QS_EXPANDARRAY, out);
    if (schema != NULL && strcmp(schema, "pg_catalog") != 0)
        return 1;
    if (f->over != NULL)
        return bind_window(st, sc, f, name, out);
    if (strcmp(name, "unnest") == 0)
        return bind_tsrf(st, sc, f, QS_UNNEST, out);
    if (strcmp(name, "generate_series") == 0)
        return bind_tsrf(st, sc, f, QS_GENERATE_SERIES, out);
    if (strcmp(name, "generate_subscripts") == 0)
        return bind_tsrf(st, sc, f, QS_SUBSCRIPTS, out);
    return bind_agg(st, sc, f, out);
}
