/* select — SELECT over one table (or none): bind targets, route the WHERE
 * clause, push filter, projection, order and limit to the shards, and
 * finish at the router (merge order, offset/limit, aggregates, target
 * expressions). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "router/exec/gather.h"
#include "router/exec/local.h"
#include "router/exec/select.h"
#include "router/exec/select_int.h"
#include "router/sql/query.h"
#include "row.h"

static int
refuse_clauses(struct sql_stmt *st, const PgQuery__SelectStmt *ss)
{
    if (ss->op == PG_QUERY__SET_OPERATION__SETOP_UNION)
        return sql_unsupported(st, "UNION");
    if (ss->op == PG_QUERY__SET_OPERATION__SETOP_INTERSECT)
        return sql_unsupported(st, "INTERSECT");
    if (ss->op == PG_QUERY__SET_OPERATION__SETOP_EXCEPT)
        return sql_unsupported(st, "EXCEPT");
    if (ss->with_clause != NULL)
        return sql_unsupported(st, "WITH (common table expressions)");
    if (ss->n_values_lists > 0)
        return sql_unsupported(st, "VALUES");
    if (ss->into_clause != NULL)
        return sql_unsupported(st, "SELECT INTO");
    if (ss->n_distinct_clause > 0)
        return sql_unsupported(st, "DISTINCT");
    if (ss->n_group_clause > 0 && ss->group_distinct)
        return sql_unsupported(st, "GROUP BY DISTINCT");
    if (ss->n_window_clause > 0)
        return sql_unsupported(st, "window function");
    if (ss->n_locking_clause > 0)
        return sql_unsupported(st, "FOR UPDATE/SHARE");
    if (ss->limit_option == PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_WITH_TIES)
        return sql_unsupported(st, "FETCH ... WITH TIES");
    if (ss->n_from_clause == 1 && !select_join_is_join(ss)) {
        const PgQuery__Node *f = ss->from_clause[0];
        if (f->node_case == PG_QUERY__NODE__NODE_RANGE_SUBSELECT)
            return sql_unsupported(st, "subquery in FROM");
        if (f->node_case == PG_QUERY__NODE__NODE_RANGE_FUNCTION)
            return sql_unsupported(st, "function in FROM");
        if (f->node_case != PG_QUERY__NODE__NODE_RANGE_VAR)
            return sql_unsupported(st, "this FROM item");
        if (f->range_var->alias != NULL && f->range_var->alias->n_colnames > 0)
            return sql_unsupported(st, "column aliases in FROM");
    }
    return 0;
}

static int
bind_order(struct sql_stmt *st, struct select_q *q,
           const PgQuery__SelectStmt *ss)
{
    q->n_sort = ss->n_sort_clause;
    q->sort = tl_arena_calloc(st->a, (q->n_sort + 1) * sizeof(*q->sort));
    for (size_t i = 0; i < q->n_sort; i++) {
        const PgQuery__SortBy *sb = ss->sort_clause[i]->sort_by;
        struct sel_sort *k = &q->sort[i];
        int rv = sql_bind_sort_order(st, sb, &k->desc, &k->nulls_first);
        if (rv != 0)
            return rv;
        rv = select_bind_sort_expr(st, q, sb->node, &k->expr);
        if (rv == 0)
            rv = sql_check_sort_type(st, k->expr->type, true, sb->node);
        if (rv != 0)
            return rv;
    }
    return 0;
}

/* Column indexes used by targets and order, for the projection. */
static void
mark_columns(const struct tl_expr *e, bool *used)
{
    if (e == NULL)
        return;
    if (e->kind == TL_EXPR_COLUMN)
        used[e->column] = true;
    for (uint32_t i = 0; i < e->n_args; i++)
        mark_columns(e->args[i], used);
}

static void
set_projection(struct sql_stmt *st, struct select_q *q, Talus__ScanFragment *f)
{
    const struct tl_table *t = q->plan.table;
    bool *used = tl_arena_calloc(st->a, q->n_cols);
    if (q->group != NULL) {
        /* Targets, HAVING and ORDER BY are over the group row. */
        for (size_t i = 0; i < q->group->n_keys; i++)
            mark_columns(q->group->keys[i], used);
        for (size_t i = 0; i < q->group->n_aggs; i++)
            mark_columns(q->group->aggs[i].arg, used);
    } else {
        for (size_t i = 0; i < q->n_targets; i++) {
            mark_columns(q->targets[i].expr, used);
            mark_columns(q->targets[i].arg, used);
        }
        for (size_t i = 0; i < q->n_sort; i++)
            mark_columns(q->sort[i].expr, used);
    }
    f->projection = tl_arena_alloc(st->a, q->n_cols * sizeof(uint32_t));
    for (uint32_t c = 0; c < q->n_cols; c++)
        if (used[c])
            f->projection[f->n_projection++] = c;
    if (f->n_projection == 0) /* empty would mean every column */
        f->projection[f->n_projection++] = t->pk[0];
}

static Talus__SortKey **
order_to_proto(struct sql_stmt *st, const struct select_q *q)
{
    Talus__SortKey **keys = tl_arena_alloc(st->a, q->n_sort * sizeof(*keys));
    for (size_t i = 0; i < q->n_sort; i++) {
        Talus__SortKey *k = tl_arena_alloc(st->a, sizeof(*k));
        talus__sort_key__init(k);
        k->expr = tl_expr_to_proto(q->sort[i].expr, st->a);
        k->has_desc = 1;
        k->desc = q->sort[i].desc;
        k->has_nulls_first = 1;
        k->nulls_first = q->sort[i].nulls_first;
        keys[i] = k;
    }
    return keys;
}

/* Rows every shard must return: limit + offset, 0 when unbounded. */
static uint64_t
pushed_limit(const struct select_q *q)
{
    if (!q->has_limit)
        return 0;
    uint64_t n = q->limit + q->offset;
    return n < q->limit ? 0 : n;
}

Talus__ScanFragment *
select_fragment(struct sql_stmt *st, struct select_q *q)
{
    Talus__ScanFragment *f = plan_fragment(st, &q->plan);
    if (q->join != NULL)
        select_join_fragment(st, q, f);
    if (q->count_only) {
        f->has_count_only = 1;
        f->count_only = 1;
        return f;
    }
    set_projection(st, q, f);
    if (q->is_agg)
        return f;
    uint64_t lim = pushed_limit(q);
    if (lim > 0) {
        f->has_limit = 1;
        f->limit = lim;
        if (q->n_sort > 0) {
            f->n_order = q->n_sort;
            f->order = order_to_proto(st, q);
        }
    }
    return f;
}

static int
bind_from(struct sql_stmt *st, struct select_q *q,
          const PgQuery__SelectStmt *ss)
{
    if (ss->n_from_clause == 0)
        return 0;
    if (select_join_is_join(ss))
        return select_join_bind_from(st, q, ss);
    const PgQuery__RangeVar *rv = ss->from_clause[0]->range_var;
    struct tl_table *t;
    int r = sql_lookup_table(st, rv, &t);
    if (r != 0)
        return r;
    q->has_table = true;
    q->plan.table = t;
    q->alias = rv->alias != NULL ? rv->alias->aliasname : rv->relname;
    q->row_table = t;
    q->n_cols = t->n_columns;
    return 0;
}

struct bind_scope
select_scope(const struct select_q *q, const char *clause)
{
    struct bind_scope sc = {.clause = clause};
    if (q->join != NULL) {
        sc.rels = q->rels;
        sc.n_rels = q->n_rels;
        sc.ns = q->ns;
        sc.n_ns = q->n_ns;
    } else if (q->has_table) {
        sc.table = q->plan.table;
        sc.alias = q->alias;
    }
    return sc;
}

int
select_bind(struct sql_stmt *st, const PgQuery__SelectStmt *ss,
            struct select_q *q)
{
    memset(q, 0, sizeof(*q));
    int rv = refuse_clauses(st, ss);
    if (rv == 0)
        rv = bind_from(st, q, ss);
    /* Aggregates the plain path cannot run are one group over all rows. */
    bool grouped = ss->n_group_clause > 0 || ss->having_clause != NULL ||
                   select_needs_group(ss);
    if (rv == 0 && grouped)
        rv = select_group_bind(st, q, ss);
    else if (rv == 0)
        rv = select_bind_targets(st, q, ss);
    if (rv == 0 && q->join != NULL)
        rv = select_join_plan(st, q, ss->where_clause);
    else if (rv == 0 && q->has_table)
        rv =
            plan_build(st, q->plan.table, q->alias, ss->where_clause, &q->plan);
    else if (rv == 0 && ss->where_clause != NULL) {
        struct bind_scope sc = {.clause = "WHERE"};
        rv = bind_predicate(st, &sc, ss->where_clause, &q->plan.filter);
    }
    if (rv == 0 && grouped)
        rv = select_group_check(st, q);
    if (rv == 0)
        rv = bind_order(st, q, ss);
    if (rv == 0 && grouped)
        select_group_fixup(q);
    if (rv == 0)
        rv = sql_bind_limit(st, ss->limit_count, "LIMIT",
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

/* The result's columns, to the destination. */
static int
send_description(struct sql_stmt *st, const struct select_q *q)
{
    struct dest_column *f =
        tl_arena_calloc(st->a, (q->n_targets + 1) * sizeof(*f));
    for (size_t i = 0; i < q->n_targets; i++) {
        f[i].name = q->targets[i].name;
        f[i].type = q->targets[i].type;
        f[i].typmod = q->targets[i].typmod;
    }
    return dest_startup(st->dest, f, q->n_targets);
}

void
select_send_tag(struct sql_stmt *st, uint64_t n)
{
    char tag[48];
    snprintf(tag, sizeof(tag), "SELECT %llu", (unsigned long long)n);
    dest_complete(st->dest, tag);
}

/* Evaluate the targets over @row and send them as a DataRow. */
int
select_emit(struct sql_stmt *st, struct select_q *q, const struct tl_value *row,
            size_t n_cols)
{
    struct tl_value *out = q->out_vals;
    int rv;
    for (size_t i = 0; i < q->n_targets; i++) {
        rv = tl_expr_eval(q->targets[i].expr, row, n_cols, &q->scratch, &out[i],
                          &st->err);
        if (rv != 0)
            return rv;
    }
    rv = dest_row(st->dest, out, q->n_targets);
    tl_arena_reset(&q->scratch);
    if (rv != 0)
        return rv;
    q->n_sent++;
    return 0;
}

/* Without ORDER BY rows are sent as they arrive. */
static int
stream_row(struct sql_stmt *st, const uint8_t *p, size_t len, void *arg)
{
    struct select_q *q = arg;
    if (st->dest->stop || (q->has_limit && q->n_sent >= q->limit))
        return 1; /* client gone, or enough rows */
    if (q->n_skipped < q->offset) {
        q->n_skipped++;
        return 0;
    }
    int rv = tl_row_decode(p, len, q->row, q->n_cols, NULL);
    if (rv != 0)
        return sql_error(st, rv, TL_SQLSTATE_DATA_CORRUPTED,
                         "corrupt row from a shard");
    rv = select_emit(st, q, q->row, q->n_cols);
    if (rv != 0)
        return rv;
    return q->has_limit && q->n_sent >= q->limit;
}

static int
run_count_only(struct sql_stmt *st, struct select_q *q, Talus__ScanFragment *f)
{
    uint64_t n;
    int rv = gather_scan(st, &q->plan, f, NULL, NULL, &n);
    if (rv != 0)
        return rv;
    for (size_t i = 0; i < q->n_targets; i++)
        if (q->targets[i].agg == AGG_COUNT_STAR)
            q->targets[i].acc.count = (int64_t)n;
    return select_finish_aggregates(st, q);
}

/* A SELECT without FROM: one row, unless WHERE is false. */
static int
run_no_table(struct sql_stmt *st, struct select_q *q)
{
    bool pass = true;
    if (q->plan.filter != NULL) {
        const struct tl_value *v = &q->plan.filter->value;
        pass = q->plan.filter->kind == TL_EXPR_CONST && !v->is_null && v->u.b;
    }
    if (q->is_agg) {
        if (pass) {
            int rv = select_agg_step(st, q, NULL, 0);
            if (rv != 0)
                return rv;
        }
        return select_finish_aggregates(st, q);
    }
    if (pass && q->offset == 0 && !(q->has_limit && q->limit == 0)) {
        int rv = select_emit(st, q, NULL, 0);
        if (rv != 0)
            return rv;
    }
    select_send_tag(st, q->n_sent);
    return 0;
}

static int
run(struct sql_stmt *st, struct select_q *q)
{
    int rv = send_description(st, q);
    if (rv != 0 || st->describe_only)
        return rv;
    q->out_vals =
        tl_arena_calloc(st->a, (q->n_targets + 1) * sizeof(*q->out_vals));
    if (q->group != NULL && !q->has_table)
        return select_run_group(st, q, NULL);
    if (!q->has_table)
        return run_no_table(st, q);
    q->row = tl_arena_calloc(st->a, q->n_cols * sizeof(*q->row));
    Talus__ScanFragment *f = select_fragment(st, q);
    if (q->group != NULL)
        return select_run_group(st, q, f);
    if (q->count_only)
        return run_count_only(st, q, f);
    if (q->is_agg)
        return select_run_aggregate(st, q, f);
    if (q->n_sort > 0)
        return select_run_sorted(st, q, f);
    if (!(q->has_limit && q->limit == 0))
        rv = gather_scan(st, &q->plan, f, stream_row, q, NULL);
    if (rv != 0)
        return rv;
    select_send_tag(st, q->n_sent);
    return 0;
}

int
select_exec(struct sql_stmt *st, const PgQuery__SelectStmt *ss, bool explain)
{
    if (query_wanted(ss))
        return local_select(st, ss, explain);
    struct select_q q;
    int rv = select_bind(st, ss, &q);
    if (rv != 0)
        return rv;
    if (explain)
        return select_explain(st, &q);
    return select_run(st, &q);
}

int
select_run(struct sql_stmt *st, struct select_q *q)
{
    tl_arena_init(&q->scratch);
    int rv = run(st, q);
    tl_arena_close(&q->scratch);
    /* exact sums of an ungrouped aggregate keep their digits in buf */
    for (size_t i = 0; i < q->n_targets; i++)
        free(q->targets[i].acc.buf);
    return rv;
}
