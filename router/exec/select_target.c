/* select_target — the SELECT list and ORDER BY keys: star expansion,
 * output names as PostgreSQL figures them, aggregate calls; for GROUP BY
 * the keys, HAVING and the rewrite of targets over the group row. */
#include <stdio.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "router/exec/select_int.h"

#define MAX_TARGETS 1664 /* PostgreSQL's MaxTupleAttributeNumber */

/* The description of the rows the shards return: the join's combined
 * row, else the table (q->row_table may be unset before FROM is bound). */
static const struct tl_table *
row_table(const struct select_q *q)
{
    return q->row_table != NULL ? q->row_table : q->plan.table;
}

static bool
is_star(const PgQuery__Node *n)
{
    if (n->node_case != PG_QUERY__NODE__NODE_COLUMN_REF)
        return false;
    const PgQuery__ColumnRef *c = n->column_ref;
    return c->n_fields > 0 &&
           c->fields[c->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR;
}

static void
add_rel_columns(struct sql_stmt *st, struct select_q *q,
                const struct bind_rel *rel, int location, size_t *n)
{
    const struct tl_table *t = rel->table;
    for (uint32_t i = 0; i < t->n_columns; i++) {
        if (t->columns[i].hidden)
            continue;
        struct sel_target *tg = &q->targets[(*n)++];
        tg->name = t->columns[i].name;
        tg->type = t->columns[i].type;
        tg->typmod = t->columns[i].typmod;
        tg->expr = tl_expr_column(st->a, rel->offset + i, tg->type);
        tg->location = location;
    }
}

/* `*` over a join: every table's columns in FROM order; `x.*`: x's. */
static int
add_join_star(struct sql_stmt *st, struct select_q *q,
              const PgQuery__ColumnRef *c, size_t *n)
{
    if (c->n_fields == 1) {
        for (size_t i = 0; i < q->n_ns; i++)
            for (size_t k = 0; k < q->ns[i].n; k++) {
                const struct bind_colref *cr = &q->ns[i].cols[k];
                if (cr->hidden)
                    continue;
                struct sel_target *tg = &q->targets[(*n)++];
                tg->name = cr->name;
                tg->type = cr->expr->type;
                tg->typmod =
                    cr->expr->kind == TL_EXPR_COLUMN
                        ? q->row_table->columns[cr->expr->column].typmod
                        : cr->expr->typmod;
                tg->expr = cr->expr;
                tg->location = c->location;
            }
        return 0;
    }
    const char *qual = sql_node_str(c->fields[0]);
    if (c->n_fields != 2 || qual == NULL) {
        sql_error(st, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                  "cross-database references are not implemented");
        return sql_error_at(st, TL_EUNSUPPORTED, c->location);
    }
    struct bind_scope sc = select_scope(q, NULL);
    const struct bind_rel *rel;
    int rv = bind_find_rel(st, &sc, qual, c->location, &rel);
    if (rv != 0)
        return rv;
    add_rel_columns(st, q, rel, c->location, n);
    return 0;
}

static int
add_star(struct sql_stmt *st, struct select_q *q, const PgQuery__ColumnRef *c,
         size_t *n)
{
    if (!q->has_table) {
        sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                  "SELECT * with no tables specified is not valid");
        return sql_error_at(st, TL_ESYNTAX, c->location);
    }
    if (q->join != NULL)
        return add_join_star(st, q, c, n);
    if (c->n_fields == 2) {
        const char *qual = sql_node_str(c->fields[0]);
        if (qual == NULL || strcmp(qual, q->alias) != 0) {
            sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_TABLE,
                      "missing FROM-clause entry for table \"%s\"",
                      qual ? qual : "?");
            return sql_error_at(st, TL_ENOTFOUND, c->location);
        }
    }
    const struct tl_table *t = q->plan.table;
    for (uint32_t i = 0; i < t->n_columns; i++) {
        if (t->columns[i].hidden)
            continue;
        struct sel_target *tg = &q->targets[(*n)++];
        tg->name = t->columns[i].name;
        tg->type = t->columns[i].type;
        tg->typmod = t->columns[i].typmod;
        tg->expr = tl_expr_column(st->a, i, tg->type);
        tg->location = c->location;
    }
    return 0;
}

static int
no_function(struct sql_stmt *st, const char *name, uint8_t type, int location)
{
    sql_error(st, TL_ETYPE, TL_SQLSTATE_UNDEFINED_FUNCTION,
              "function %s(%s) does not exist", name,
              type == TL_TYPE_UNKNOWN ? "unknown" : tl_type_name(type));
    tl_error_hint(&st->err, "No function matches the given name and argument "
                            "types. You might need to add explicit type "
                            "casts.");
    return sql_error_at(st, TL_ETYPE, location);
}

/* Result type of aggregate @agg over @arg. */
static int
agg_type(struct sql_stmt *st, struct sel_target *tg, const char *name,
         int location)
{
    uint8_t at = tg->arg != NULL ? tg->arg->type : TL_TYPE_INT8;
    tg->typmod = -1;
    switch (tg->agg) {
    case AGG_COUNT_STAR:
    case AGG_COUNT:
        tg->type = TL_TYPE_INT8;
        return 0;
    case AGG_SUM:
        if (!tl_type_is_numeric(at))
            return no_function(st, name, at, location);
        /* sum(smallint) and sum(integer) are bigint, sum(bigint) and
         * sum(numeric) numeric (exact), sum(real) real, sum(double
         * precision) double. */
        tg->type = at == TL_TYPE_INT8   ? TL_TYPE_NUMERIC
                   : tl_type_is_int(at) ? TL_TYPE_INT8
                                        : at;
        return 0;
    case AGG_AVG:
        if (!tl_type_is_numeric(at))
            return no_function(st, name, at, location);
        /* avg of integers or numerics is numeric (exact), of floats
         * double precision. */
        tg->type = tl_type_is_float(at) ? TL_TYPE_FLOAT8 : TL_TYPE_NUMERIC;
        return 0;
    default:
        /* PostgreSQL 15 has no min/max of boolean, uuid, bytea, json or
         * jsonb. */
        if (at == TL_TYPE_BOOL || at == TL_TYPE_UNKNOWN || at == TL_TYPE_UUID ||
            at == TL_TYPE_BYTEA || tl_type_is_json(at))
            return no_function(st, name, at, location);
        tg->type = at;
        return 0;
    }
}

static int
agg_kind(const char *name)
{
    static const struct {
        const char *name;
        int agg;
    } map[] = {{"count", AGG_COUNT},
               {"sum", AGG_SUM},
               {"min", AGG_MIN},
               {"max", AGG_MAX},
               {"avg", AGG_AVG}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].name, name) == 0)
            return map[i].agg;
    return AGG_NONE;
}

static int
bind_agg(struct sql_stmt *st, struct select_q *q, const PgQuery__FuncCall *f,
         struct sel_target *tg)
{
    const char *name = sql_node_str(f->funcname[f->n_funcname - 1]);
    if (f->over != NULL)
        return sql_unsupported(st, "window function");
    if (f->agg_distinct)
        return sql_unsupported(st, "DISTINCT in aggregate functions");
    if (f->agg_filter != NULL)
        return sql_unsupported(st, "FILTER in aggregate functions");
    if (f->n_agg_order > 0 || f->agg_within_group)
        return sql_unsupported(st, "ORDER BY in aggregate functions");
    tg->agg = agg_kind(name);
    if (f->agg_star) {
        if (tg->agg != AGG_COUNT) {
            sql_error(st, TL_EINVAL, TL_SQLSTATE_WRONG_OBJECT_TYPE,
                      "%s(*) specified, but %s is not an aggregate function "
                      "that accepts *",
                      name, name);
            return sql_error_at(st, TL_EINVAL, f->location);
        }
        tg->agg = AGG_COUNT_STAR;
    } else if (f->n_args != 1) {
        sql_unsupported(st, tl_arena_printf(st->a, "%s with %zu arguments",
                                            name, f->n_args));
        return sql_error_at(st, TL_EUNSUPPORTED, f->location);
    } else {
        struct bind_scope sc = select_scope(q, NULL);
        int rv = bind_expr(st, &sc, f->args[0], &tg->arg);
        if (rv != 0)
            return rv;
    }
    q->is_agg = true;
    return agg_type(st, tg, name, f->location);
}

/* The output type and typmod of @tg from its bound expression; an
 * untyped literal in the output is text, as in PostgreSQL. */
static void
output_type(const struct select_q *q, struct sel_target *tg)
{
    struct tl_expr *e = tg->expr;
    if (e->type == TL_TYPE_UNKNOWN) {
        e->type = TL_TYPE_TEXT;
        e->value.type = TL_TYPE_TEXT;
    }
    tg->type = e->type;
    tg->typmod = -1;
    if (e->kind == TL_EXPR_COLUMN && e->column < SEL_AGG_BASE)
        tg->typmod = row_table(q)->columns[e->column].typmod;
    else if (e->kind == TL_EXPR_CAST || e->kind == TL_EXPR_CONST)
        tg->typmod = e->typmod; /* CURRENT_TIMESTAMP(2) is typmod 2 */
}

static int
bind_plain(struct sql_stmt *st, struct select_q *q, const PgQuery__Node *val,
           struct sel_target *tg)
{
    struct bind_scope sc = select_scope(q, NULL);
    int rv = bind_expr(st, &sc, val, &tg->expr);
    if (rv != 0)
        return rv;
    output_type(q, tg);
    return 0;
}

/* The first column @e refers to, or -1. */
static int
first_column(const struct tl_expr *e)
{
    if (e->kind == TL_EXPR_COLUMN)
        return (int)e->column;
    for (uint32_t i = 0; i < e->n_args; i++) {
        int c = first_column(e->args[i]);
        if (c >= 0)
            return c;
    }
    return -1;
}

static int
not_grouped(struct sql_stmt *st, const struct select_q *q, int col,
            int location)
{
    if (q->join != NULL) { /* combined columns are named alias.column */
        sql_error(st, TL_EINVAL, TL_SQLSTATE_GROUPING_ERROR,
                  "column \"%s\" must appear in the GROUP BY clause or be "
                  "used in an aggregate function",
                  q->row_table->columns[col].name);
        return sql_error_at(st, TL_EINVAL, location);
    }
    return sql_error(st, TL_EINVAL, TL_SQLSTATE_GROUPING_ERROR,
                     "column \"%s.%s\" must appear in the GROUP BY clause or "
                     "be used in an aggregate function",
                     q->alias, q->plan.table->columns[col].name);
}

static size_t
count_slots(const struct select_q *q, const PgQuery__SelectStmt *ss)
{
    size_t n = 0;
    for (size_t i = 0; i < ss->n_target_list; i++) {
        const PgQuery__ResTarget *rt = ss->target_list[i]->res_target;
        n += is_star(rt->val) && q->has_table ? row_table(q)->n_columns : 1;
    }
    return n;
}

/* Binds one entry of the select list (not `*`) into @tg. */
typedef int (*target_binder)(struct sql_stmt *st, struct select_q *q,
                             const PgQuery__Node *val, struct sel_target *tg);

/* Allocate q->targets and bind the select list: `*` expanded, every other
 * entry named (its alias, else PostgreSQL's column name) and bound by
 * @bind_one. Sets q->n_targets. */
static int
bind_target_list(struct sql_stmt *st, struct select_q *q,
                 const PgQuery__SelectStmt *ss, target_binder bind_one)
{
    size_t slots = count_slots(q, ss);
    if (slots > MAX_TARGETS)
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_TOO_MANY_COLUMNS,
                         "target lists can have at most %d entries",
                         MAX_TARGETS);
    q->targets = tl_arena_calloc(st->a, (slots + 1) * sizeof(*q->targets));
    size_t n = 0;
    int rv = 0;
    for (size_t i = 0; i < ss->n_target_list && rv == 0; i++) {
        const PgQuery__ResTarget *rt = ss->target_list[i]->res_target;
        if (is_star(rt->val)) {
            rv = add_star(st, q, rt->val->column_ref, &n);
            continue;
        }
        struct sel_target *tg = &q->targets[n++];
        tg->location = rt->val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF
                           ? rt->val->column_ref->location
                           : -1;
        tg->name = rt->name != NULL && rt->name[0] != '\0'
                       ? rt->name
                       : sql_figure_colname(rt->val);
        tg->val = rt->val;
        rv = bind_one(st, q, rt->val, tg);
    }
    q->n_targets = n;
    return rv;
}

/* A select-list entry without GROUP BY: an aggregate or a plain value. */
static int
bind_ungrouped(struct sql_stmt *st, struct select_q *q,
               const PgQuery__Node *val, struct sel_target *tg)
{
    if (bind_is_aggregate(val))
        return bind_agg(st, q, val->func_call, tg);
    return bind_plain(st, q, val, tg);
}

int
select_bind_targets(struct sql_stmt *st, struct select_q *q,
                    const PgQuery__SelectStmt *ss)
{
    int rv = bind_target_list(st, q, ss, bind_ungrouped);
    size_t n = q->n_targets;
    if (rv != 0 || !q->is_agg)
        return rv;
    q->count_only = q->has_table;
    for (size_t i = 0; i < n; i++) {
        const struct sel_target *tg = &q->targets[i];
        int col = tg->expr != NULL ? first_column(tg->expr) : -1;
        if (col >= 0)
            return not_grouped(st, q, col, tg->location);
        if (tg->agg != AGG_NONE && tg->agg != AGG_COUNT_STAR)
            q->count_only = false;
    }
    return 0;
}

/* ------------------------------------------------------------ GROUP BY */

/* Whether the parse tree @m holds a node described by @d (FuncCall: an
 * aggregate call). A generic walk over protobuf-c's descriptors, so every
 * node kind is searched; only the set member of a oneof is followed. */
static bool
tree_has(const ProtobufCMessage *m, const ProtobufCMessageDescriptor *d)
{
    const ProtobufCMessageDescriptor *md = m->descriptor;
    if (md == d) {
        if (d != &pg_query__func_call__descriptor)
            return true;
        PgQuery__Node n = PG_QUERY__NODE__INIT;
        n.node_case = PG_QUERY__NODE__NODE_FUNC_CALL;
        n.func_call = (PgQuery__FuncCall *)m;
        if (bind_is_aggregate(&n))
            return true;
    }
    for (unsigned i = 0; i < md->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &md->fields[i];
        if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        const char *base = (const char *)m;
        if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which;
            memcpy(&which, base + fd->quantifier_offset, sizeof(which));
            if (which != fd->id)
                continue;
        }
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n;
            ProtobufCMessage *const *sub;
            memcpy(&n, base + fd->quantifier_offset, sizeof(n));
            memcpy(&sub, base + fd->offset, sizeof(sub));
            for (size_t k = 0; k < n; k++)
                if (sub[k] != NULL && tree_has(sub[k], d))
                    return true;
            continue;
        }
        const ProtobufCMessage *sub;
        memcpy(&sub, base + fd->offset, sizeof(sub));
        if (sub != NULL && tree_has(sub, d))
            return true;
    }
    return false;
}

/* Whether FuncCall @f is of kind @what (enum sel_call). */
static bool
call_is(const PgQuery__FuncCall *f, int what)
{
    static const char *const srfs[] = {"generate_series",
                                       "generate_subscripts",
                                       "unnest",
                                       "regexp_matches",
                                       "regexp_split_to_table",
                                       "string_to_table",
                                       "json_array_elements",
                                       "jsonb_array_elements",
                                       "json_each",
                                       "jsonb_each",
                                       "json_object_keys",
                                       "jsonb_object_keys",
                                       NULL};
    if (what == SEL_CALL_WINDOW)
        return f->over != NULL;
    PgQuery__Node n = PG_QUERY__NODE__INIT;
    n.node_case = PG_QUERY__NODE__NODE_FUNC_CALL;
    n.func_call = (PgQuery__FuncCall *)f;
    if (what == SEL_CALL_AGG)
        return f->over == NULL && bind_is_aggregate(&n);
    const char *name =
        f->n_funcname > 0 ? sql_node_str(f->funcname[f->n_funcname - 1]) : NULL;
    for (int i = 0; name != NULL && srfs[i] != NULL; i++)
        if (strcmp(name, srfs[i]) == 0)
            return true;
    return false;
}

/* tree_has() for calls of kind @what, not inside a subquery (which is
 * its own query level). */
static bool
tree_has_call(const ProtobufCMessage *m, int what)
{
    const ProtobufCMessageDescriptor *md = m->descriptor;
    if (md == &pg_query__sub_link__descriptor ||
        md == &pg_query__select_stmt__descriptor)
        return false;
    if (md == &pg_query__func_call__descriptor &&
        call_is((const PgQuery__FuncCall *)m, what))
        return true;
    for (unsigned i = 0; i < md->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &md->fields[i];
        if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        const char *base = (const char *)m;
        if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which;
            memcpy(&which, base + fd->quantifier_offset, sizeof(which));
            if (which != fd->id)
                continue;
        }
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n;
            ProtobufCMessage *const *sub;
            memcpy(&n, base + fd->quantifier_offset, sizeof(n));
            memcpy(&sub, base + fd->offset, sizeof(sub));
            for (size_t k = 0; k < n; k++)
                if (sub[k] != NULL && tree_has_call(sub[k], what))
                    return true;
            continue;
        }
        const ProtobufCMessage *sub;
        memcpy(&sub, base + fd->offset, sizeof(sub));
        if (sub != NULL && tree_has_call(sub, what))
            return true;
    }
    return false;
}

bool
select_has_call(const PgQuery__Node *n, int what)
{
    return n != NULL && tree_has_call(&n->base, what);
}

static bool
node_has_agg(const PgQuery__Node *n)
{
    return tree_has(&n->base, &pg_query__func_call__descriptor);
}

static bool
node_has_column(const PgQuery__Node *n)
{
    return tree_has(&n->base, &pg_query__column_ref__descriptor);
}

/* An aggregate call the plain aggregate path binds: a known aggregate at
 * the top of a target, with no DISTINCT and no aggregate inside. */
static bool
is_plain_agg(const PgQuery__Node *n)
{
    if (!bind_is_aggregate(n))
        return false;
    const PgQuery__FuncCall *f = n->func_call;
    if (f->agg_distinct)
        return false;
    for (size_t i = 0; i < f->n_args; i++)
        if (node_has_agg(f->args[i]))
            return false;
    return true;
}

bool
select_needs_group(const PgQuery__SelectStmt *ss)
{
    bool any = false, plain = true;
    for (size_t i = 0; i < ss->n_target_list; i++) {
        const PgQuery__Node *v = ss->target_list[i]->res_target->val;
        if (v == NULL)
            continue;
        if (is_plain_agg(v)) {
            any = true;
            continue;
        }
        if (node_has_agg(v))
            any = true, plain = false;
        else if (node_has_column(v))
            plain = false; /* 42803 beside aggregates, with its position */
    }
    for (size_t i = 0; i < ss->n_sort_clause; i++) {
        const PgQuery__Node *v = ss->sort_clause[i]->sort_by->node;
        if (node_has_agg(v))
            any = true, plain = false;
        else if (node_has_column(v))
            plain = false;
    }
    return any && !plain;
}

static void *
grow(struct sql_stmt *st, void *p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return p;
    size_t c = *cap ? *cap * 2 : 8;
    void *np = tl_arena_alloc(st->a, c * size);
    if (n > 0)
        memcpy(np, p, n * size);
    *cap = c;
    return np;
}

static void
note_column(void *arg, const struct tl_expr *e, int location)
{
    struct sel_group *g = ((struct select_q *)arg)->group;
    g->locs = grow(g->st, g->locs, &g->cap_locs, g->n_locs, sizeof(*g->locs));
    g->locs[g->n_locs].e = e;
    g->locs[g->n_locs].location = location;
    g->n_locs++;
}

static int
bind_group_agg(struct sql_stmt *st, void *arg, const PgQuery__FuncCall *f,
               struct tl_expr **out)
{
    struct select_q *q = arg;
    struct sel_group *g = q->group;
    struct sel_target tg = {0};
    const char *name = sql_node_str(f->funcname[f->n_funcname - 1]);
    if (f->over != NULL)
        return sql_unsupported(st, "window function");
    if (f->agg_filter != NULL)
        return sql_unsupported(st, "FILTER in aggregate functions");
    if (f->n_agg_order > 0 || f->agg_within_group)
        return sql_unsupported(st, "ORDER BY in aggregate functions");
    tg.agg = agg_kind(name);
    if (f->agg_star) {
        if (tg.agg != AGG_COUNT) {
            sql_error(st, TL_EINVAL, TL_SQLSTATE_WRONG_OBJECT_TYPE,
                      "%s(*) specified, but %s is not an aggregate function "
                      "that accepts *",
                      name, name);
            return sql_error_at(st, TL_EINVAL, f->location);
        }
        tg.agg = AGG_COUNT_STAR;
    } else if (f->n_args != 1) {
        sql_unsupported(st, tl_arena_printf(st->a, "%s with %zu arguments",
                                            name, f->n_args));
        return sql_error_at(st, TL_EUNSUPPORTED, f->location);
    } else {
        if (bind_is_aggregate(f->args[0])) {
            sql_error(st, TL_EINVAL, TL_SQLSTATE_GROUPING_ERROR,
                      "aggregate function calls cannot be nested");
            return sql_error_at(st, TL_EINVAL, f->args[0]->func_call->location);
        }
        struct bind_scope sc = select_scope(q, NULL);
        int rv = bind_expr(st, &sc, f->args[0], &tg.arg);
        if (rv != 0)
            return rv;
    }
    int rv = agg_type(st, &tg, name, f->location);
    if (rv != 0)
        return rv;
    /* min/max(DISTINCT x) are min/max(x). */
    bool distinct = f->agg_distinct && tg.agg != AGG_MIN && tg.agg != AGG_MAX;
    /* DISTINCT compares the values as GROUP BY does. */
    if (distinct && tg.arg != NULL &&
        (rv = sql_check_sort_type(st, tg.arg->type, false, f->args[0])) != 0)
        return rv;
    g->aggs = grow(st, g->aggs, &g->cap_aggs, g->n_aggs, sizeof(*g->aggs));
    g->aggs[g->n_aggs] = (struct sel_agg_def){
        .agg = tg.agg, .distinct = distinct, .type = tg.type, .arg = tg.arg};
    *out = tl_expr_column(st->a, SEL_AGG_BASE + (uint32_t)g->n_aggs++, tg.type);
    return 0;
}

/* The scope of a grouped query's targets, HAVING and ORDER BY: input
 * columns, with aggregate calls bound as placeholders. */
static struct bind_scope
group_scope(struct select_q *q, const char *clause)
{
    struct bind_scope sc = select_scope(q, clause);
    sc.agg_cb = bind_group_agg;
    sc.col_cb = note_column;
    sc.cb_arg = q;
    return sc;
}

static bool
has_agg(const struct tl_expr *e)
{
    if (e->kind == TL_EXPR_COLUMN && e->column >= SEL_AGG_BASE)
        return true;
    for (uint32_t i = 0; i < e->n_args; i++)
        if (has_agg(e->args[i]))
            return true;
    return false;
}

static bool
is_key_column(const struct sel_group *g, uint32_t col)
{
    for (size_t k = 0; k < g->n_items; k++)
        if (g->keys[k]->kind == TL_EXPR_COLUMN && g->keys[k]->column == col)
            return true;
    return false;
}

/* Whether input column @col is determined by grouped primary-key columns
 * of its table (PostgreSQL's functional dependency). */
static bool
pk_determines(const struct select_q *q, uint32_t col)
{
    const struct tl_table *t = q->plan.table;
    uint32_t off = 0;
    if (q->join != NULL) {
        t = NULL;
        for (size_t i = 0; i < q->n_rels; i++) {
            const struct bind_rel *r = &q->rels[i];
            if (col >= r->offset && col < r->offset + r->table->n_columns) {
                t = r->table;
                off = r->offset;
            }
        }
    }
    if (t == NULL || t->n_pk == 0)
        return false;
    for (uint32_t i = 0; i < t->n_pk; i++)
        if (t->columns[t->pk[i]].hidden ||
            !is_key_column(q->group, off + t->pk[i]))
            return false;
    return true;
}

static int
ungrouped(struct sql_stmt *st, const struct select_q *q,
          const struct tl_expr *e, int location)
{
    const struct sel_group *g = q->group;
    for (size_t i = 0; i < g->n_locs; i++)
        if (g->locs[i].e == e) {
            location = g->locs[i].location;
            break;
        }
    if (q->join != NULL)
        sql_error(st, TL_EINVAL, TL_SQLSTATE_GROUPING_ERROR,
                  "column \"%s\" must appear in the GROUP BY clause or be "
                  "used in an aggregate function",
                  q->row_table->columns[e->column].name);
    else
        sql_error(st, TL_EINVAL, TL_SQLSTATE_GROUPING_ERROR,
                  "column \"%s.%s\" must appear in the GROUP BY clause or "
                  "be used in an aggregate function",
                  q->alias, q->plan.table->columns[e->column].name);
    return sql_error_at(st, TL_EINVAL, location);
}

/* @e over the input row (with aggregate placeholders) -> over the group
 * row: grouped expressions become key columns. */
static int
rewrite(struct sql_stmt *st, struct select_q *q, struct tl_expr *e,
        int location, struct tl_expr **out)
{
    struct sel_group *g = q->group;
    if (!has_agg(e))
        for (size_t k = 0; k < g->n_keys; k++)
            if (tl_expr_equal(e, g->keys[k])) {
                *out = tl_expr_column(st->a, (uint32_t)k, e->type);
                return 0;
            }
    if (e->kind == TL_EXPR_COLUMN) {
        if (e->column >= SEL_AGG_BASE) {
            *out = e;
            return 0;
        }
        if (!pk_determines(q, e->column))
            return ungrouped(st, q, e, location);
        g->keys = grow(st, g->keys, &g->cap_keys, g->n_keys, sizeof(*g->keys));
        g->keys[g->n_keys] = e;
        *out = tl_expr_column(st->a, (uint32_t)g->n_keys++, e->type);
        return 0;
    }
    if (e->n_args == 0) {
        *out = e;
        return 0;
    }
    struct tl_expr *c = tl_arena_alloc(st->a, sizeof(*c));
    *c = *e;
    c->args = tl_arena_alloc(st->a, e->n_args * sizeof(*c->args));
    for (uint32_t i = 0; i < e->n_args; i++) {
        int rv = rewrite(st, q, e->args[i], location, &c->args[i]);
        if (rv != 0)
            return rv;
    }
    *out = c;
    return 0;
}

static int
group_target(struct sql_stmt *st, struct select_q *q, const PgQuery__Node *val,
             struct sel_target *tg)
{
    struct bind_scope sc = group_scope(q, NULL);
    int rv = bind_expr(st, &sc, val, &tg->expr);
    if (rv != 0)
        return rv;
    output_type(q, tg);
    return 0;
}

/* Whether the FROM clause has a column named @name (GROUP BY prefers it
 * to an output alias, as PostgreSQL does). */
static bool
input_has_column(const struct select_q *q, const char *name)
{
    if (q->join != NULL) {
        for (size_t i = 0; i < q->n_ns; i++)
            for (size_t k = 0; k < q->ns[i].n; k++)
                if (strcmp(q->ns[i].cols[k].name, name) == 0)
                    return true;
        return false;
    }
    return q->has_table && tl_table_find_column(q->plan.table, name) >= 0;
}

static int
agg_in_group_by(struct sql_stmt *st, int location)
{
    sql_error(st, TL_EINVAL, TL_SQLSTATE_GROUPING_ERROR,
              "aggregate functions are not allowed in GROUP BY");
    return sql_error_at(st, TL_EINVAL, location);
}

/* A GROUP BY item naming output column @i (by position or alias): its
 * expression over the input row; 42803 if it holds an aggregate. */
static int
group_by_target(struct sql_stmt *st, struct select_q *q, size_t i, int location,
                struct tl_expr **out)
{
    const struct sel_target *tg = &q->targets[i];
    if (has_agg(tg->expr)) {
        /* PostgreSQL points at the aggregate call. */
        if (tg->val != NULL && bind_is_aggregate(tg->val))
            location = tg->val->func_call->location;
        return agg_in_group_by(st, location);
    }
    *out = tg->expr;
    return 0;
}

static int
bind_group_item(struct sql_stmt *st, struct select_q *q, const PgQuery__Node *n,
                struct tl_expr **out)
{
    if (n->node_case == PG_QUERY__NODE__NODE_GROUPING_SET)
        return sql_unsupported(st, "GROUPING SETS, ROLLUP and CUBE");
    if (n->node_case == PG_QUERY__NODE__NODE_A_CONST) {
        const PgQuery__AConst *c = n->a_const;
        if (c->val_case != PG_QUERY__A__CONST__VAL_IVAL || c->isnull) {
            sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                      "non-integer constant in GROUP BY");
            return sql_error_at(st, TL_ESYNTAX, c->location);
        }
        int pos = c->ival->ival;
        if (pos < 1 || (size_t)pos > q->n_targets) {
            sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_COLUMN_REFERENCE,
                      "GROUP BY position %d is not in select list", pos);
            return sql_error_at(st, TL_EINVAL, c->location);
        }
        return group_by_target(st, q, (size_t)pos - 1, c->location, out);
    }
    if (n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
        n->column_ref->n_fields == 1) {
        const char *name = sql_node_str(n->column_ref->fields[0]);
        if (name != NULL && !input_has_column(q, name))
            for (size_t i = 0; i < q->n_targets; i++)
                if (strcmp(q->targets[i].name, name) == 0)
                    return group_by_target(st, q, i, n->column_ref->location,
                                           out);
    }
    struct bind_scope sc = select_scope(q, "GROUP BY");
    return bind_expr(st, &sc, n, out);
}

int
select_group_bind(struct sql_stmt *st, struct select_q *q,
                  const PgQuery__SelectStmt *ss)
{
    struct sel_group *g = tl_arena_calloc(st->a, sizeof(*g));
    g->st = st;
    g->max_bytes = SEL_GROUP_MAX_BYTES;
    q->group = g;
    q->is_agg = true;
    int rv = bind_target_list(st, q, ss, group_target);
    if (rv == 0 && ss->n_group_clause > 0) {
        g->cap_keys = ss->n_group_clause + 8;
        g->keys = tl_arena_calloc(st->a, g->cap_keys * sizeof(*g->keys));
    }
    for (size_t i = 0; i < ss->n_group_clause && rv == 0; i++) {
        struct tl_expr *k;
        rv = bind_group_item(st, q, ss->group_clause[i], &k);
        if (rv == 0)
            rv = sql_check_sort_type(st, k->type, false, ss->group_clause[i]);
        if (rv != 0)
            break;
        bool dup = false;
        for (size_t j = 0; j < g->n_keys; j++)
            dup = dup || tl_expr_equal(g->keys[j], k);
        if (!dup)
            g->keys[g->n_keys++] = k;
    }
    g->n_items = g->n_keys;
    if (rv == 0 && ss->having_clause != NULL) {
        struct bind_scope sc = group_scope(q, "HAVING");
        rv = bind_predicate(st, &sc, ss->having_clause, &g->having);
    }
    return rv;
}

int
select_group_check(struct sql_stmt *st, struct select_q *q)
{
    for (size_t i = 0; i < q->n_targets; i++) {
        struct sel_target *tg = &q->targets[i];
        int rv = rewrite(st, q, tg->expr, tg->location, &tg->expr);
        if (rv != 0)
            return rv;
    }
    if (q->group->having != NULL)
        return rewrite(st, q, q->group->having, -1, &q->group->having);
    return 0;
}

int
select_group_bind_expr(struct sql_stmt *st, struct select_q *q,
                       const PgQuery__Node *n, const char *clause,
                       struct tl_expr **out)
{
    struct bind_scope sc = group_scope(q, clause);
    struct tl_expr *e;
    int rv = bind_expr(st, &sc, n, &e);
    if (rv != 0)
        return rv;
    return rewrite(st, q, e, -1, out);
}

static void
fixup(struct tl_expr *e, uint32_t n_keys)
{
    if (e == NULL)
        return;
    if (e->kind == TL_EXPR_COLUMN && e->column >= SEL_AGG_BASE)
        e->column = e->column - SEL_AGG_BASE + n_keys;
    for (uint32_t i = 0; i < e->n_args; i++)
        fixup(e->args[i], n_keys);
}

void
select_group_fixup(struct select_q *q)
{
    uint32_t nk = (uint32_t)q->group->n_keys;
    for (size_t i = 0; i < q->n_targets; i++)
        fixup(q->targets[i].expr, nk);
    fixup(q->group->having, nk);
    for (size_t i = 0; i < q->n_sort; i++)
        fixup(q->sort[i].expr, nk);
}

static int
sort_position(struct sql_stmt *st, struct select_q *q, const PgQuery__AConst *c,
              struct tl_expr **out)
{
    if (c->val_case != PG_QUERY__A__CONST__VAL_IVAL || c->isnull) {
        sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                  "non-integer constant in ORDER BY");
        return sql_error_at(st, TL_ESYNTAX, c->location);
    }
    int pos = c->ival->ival;
    if (pos < 1 || (size_t)pos > q->n_targets) {
        sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_COLUMN_REFERENCE,
                  "ORDER BY position %d is not in select list", pos);
        return sql_error_at(st, TL_EINVAL, c->location);
    }
    const struct sel_target *tg = &q->targets[pos - 1];
    if (tg->expr != NULL) {
        *out = tg->expr;
    } else {
        /* An aggregate: the result is one row, any order will do. */
        struct tl_value v = tl_value_null(TL_TYPE_INT8);
        *out = tl_expr_const(st->a, &v);
    }
    return 0;
}

/* Whether two output columns are the same expression (PostgreSQL lets
 * ORDER BY name either of them then). */
static bool
same_target(const struct sel_target *a, const struct sel_target *b)
{
    if (a->expr == NULL || b->expr == NULL)
        return false;
    if (a->expr == b->expr)
        return true;
    return a->expr->kind == TL_EXPR_COLUMN && b->expr->kind == TL_EXPR_COLUMN &&
           a->expr->column == b->expr->column;
}

int
select_bind_sort_expr(struct sql_stmt *st, struct select_q *q,
                      const PgQuery__Node *n, struct tl_expr **out)
{
    if (n->node_case == PG_QUERY__NODE__NODE_A_CONST)
        return sort_position(st, q, n->a_const, out);
    if (n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
        n->column_ref->n_fields == 1) {
        const char *name = sql_node_str(n->column_ref->fields[0]);
        for (size_t i = 0; name != NULL && i < q->n_targets; i++) {
            const struct sel_target *tg = &q->targets[i];
            if (strcmp(tg->name, name) != 0)
                continue;
            for (size_t k = i + 1; k < q->n_targets; k++)
                if (strcmp(q->targets[k].name, name) == 0 &&
                    !same_target(tg, &q->targets[k])) {
                    sql_error(st, TL_EINVAL, TL_SQLSTATE_AMBIGUOUS_COLUMN,
                              "ORDER BY \"%s\" is ambiguous", name);
                    return sql_error_at(st, TL_EINVAL, n->column_ref->location);
                }
            if (tg->expr != NULL) {
                *out = tg->expr;
            } else {
                /* An aggregate: one output row, any order will do. */
                struct tl_value v = tl_value_null(TL_TYPE_INT8);
                *out = tl_expr_const(st->a, &v);
            }
            return 0;
        }
    }
    if (q->group != NULL)
        return select_group_bind_expr(st, q, n, "ORDER BY", out);
    struct bind_scope sc = select_scope(q, "ORDER BY");
    int rv = bind_expr(st, &sc, n, out);
    if (rv != 0)
        return rv;
    int col = q->is_agg ? first_column(*out) : -1;
    return col >= 0 ? not_grouped(st, q, col, -1) : 0;
}
