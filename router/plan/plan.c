/* plan — bind a single-table statement's WHERE clause, route it, and build
 * the scan fragment every target shard runs. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "keycodec.h"
#include "router/core/router.h"
#include "router/plan/plan.h"
#include "router/sql/sql_int.h"
#include "scalar.h"

static Talus__KeyRange *make_range(struct sql_stmt *st, const uint8_t *s,
                                   size_t sl, const uint8_t *e, size_t el);
static int plan_target(struct sql_stmt *st, struct plan *p);

/* The point key @k as the range [k, k 0x00), which holds only k. */
static Talus__KeyRange *
point_range(struct sql_stmt *st, const uint8_t *k, size_t len)
{
    uint8_t *end = tl_arena_alloc(st->a, len + 1);
    memcpy(end, k, len);
    end[len] = 0;
    return make_range(st, k, len, end, len + 1);
}

/* Target only the shards holding the IN-list keys, each with its keys. */
static void
plan_points(struct sql_stmt *st, struct plan *p, uint32_t n)
{
    const struct route *r = &p->route;
    size_t *count = tl_arena_calloc(st->a, n * sizeof(size_t));
    for (size_t i = 0; i < r->n_points; i++)
        for (uint32_t s = 0; s < n; s++)
            if (r->point_shards[i] == s || r->point_shards[i] == UINT32_MAX)
                count[s]++;
    p->shards = tl_arena_alloc(st->a, n * sizeof(uint32_t));
    p->shard_ranges = tl_arena_alloc(st->a, n * sizeof(void *));
    p->n_shard_ranges = tl_arena_calloc(st->a, n * sizeof(size_t));
    p->n_shards = 0;
    for (uint32_t s = 0; s < n; s++) {
        if (count[s] == 0)
            continue;
        size_t k = p->n_shards++;
        p->shards[k] = s;
        p->shard_ranges[k] =
            tl_arena_alloc(st->a, count[s] * sizeof(Talus__KeyRange *));
        for (size_t i = 0; i < r->n_points; i++)
            if (r->point_shards[i] == s || r->point_shards[i] == UINT32_MAX)
                p->shard_ranges[k][p->n_shard_ranges[k]++] =
                    point_range(st, r->points[i], r->point_lens[i]);
    }
    p->route.all = false;
    p->route.n_shards = p->n_shards;
    p->route.shards = p->shards;
}

int
plan_build(struct sql_stmt *st, struct tl_table *t, const char *alias,
           const PgQuery__Node *where, struct plan *p)
{
    memset(p, 0, sizeof(*p));
    p->table = t;
    if (where != NULL) {
        struct bind_scope sc = {.table = t, .alias = alias, .clause = "WHERE"};
        int rv = bind_predicate(st, &sc, where, &p->filter);
        if (rv != 0)
            return rv;
    }
    return plan_route(st, p);
}

int
plan_route(struct sql_stmt *st, struct plan *p)
{
    uint32_t n = st->r->cfg.n_shards;
    route_analyze(p->table, p->filter, n, st->a, &p->route);
    if (p->route.ref != ROUTE_REF_NONE) {
        /* A read is served by the session's copy (see docs/sharding.md);
         * row locks by the first copy, where all sessions meet. */
        uint32_t id = st->s != NULL ? st->s->backend_pid : 0;
        route_reference_target(&p->route, false,
                               p->lock_rows ? 0 : route_reference_copy(id, n),
                               n, st->a);
    }
    return plan_target(st, p);
}

void
plan_build_join(struct sql_stmt *st, struct tl_table *t,
                struct tl_expr *route_filter, struct tl_expr *filter,
                struct plan *p)
{
    memset(p, 0, sizeof(*p));
    p->table = t;
    p->filter = filter;
    uint32_t n = st->r->cfg.n_shards;
    route_analyze(t, route_filter, n, st->a, &p->route);
    p->route.index = NULL; /* joins scan the table itself */
    if (p->route.ref != ROUTE_REF_NONE) {
        /* Reference tables only: one copy holds every table. */
        uint32_t id = st->s != NULL ? st->s->backend_pid : 0;
        route_reference_target(&p->route, false, route_reference_copy(id, n), n,
                               st->a);
    }
    (void)plan_target(st, p);
}

void
plan_every_copy(struct sql_stmt *st, struct plan *p)
{
    assert(p->route.ref != ROUTE_REF_NONE);
    route_reference_target(&p->route, true, 0, st->r->cfg.n_shards, st->a);
    p->shard_ranges = NULL;
    p->n_shard_ranges = NULL;
    (void)plan_target(st, p);
}

/* Set the target shards (and their key ranges) of @p from its route. */
static int
plan_target(struct sql_stmt *st, struct plan *p)
{
    uint32_t n = st->r->cfg.n_shards;
    const struct tl_expr *f = p->filter;
    if (f != NULL && f->kind == TL_EXPR_CONST &&
        (f->value.is_null || !f->value.u.b)) {
        /* WHERE false (or NULL) matches nothing: ask no shard. */
        p->route.all = false;
        p->route.n_shards = 0;
        p->route.point = false;
        p->n_shards = 0;
        p->shards = NULL;
        return 0;
    }
    if (p->route.n_points > 0) {
        plan_points(st, p, n);
        return 0;
    }
    if (p->route.all) {
        p->n_shards = n;
        p->shards = tl_arena_alloc(st->a, n * sizeof(uint32_t));
        for (uint32_t i = 0; i < n; i++)
            p->shards[i] = i;
    } else {
        p->n_shards = p->route.n_shards;
        p->shards = p->route.shards;
    }
    return 0;
}

static Talus__KeyRange *
make_range(struct sql_stmt *st, const uint8_t *s, size_t sl, const uint8_t *e,
           size_t el)
{
    Talus__KeyRange *r = tl_arena_alloc(st->a, sizeof(*r));
    talus__key_range__init(r);
    r->start.data = tl_arena_alloc(st->a, sl + 1);
    memcpy(r->start.data, s, sl);
    r->start.len = sl;
    r->end.data = tl_arena_alloc(st->a, el + 1);
    memcpy(r->end.data, e, el);
    r->end.len = el;
    return r;
}

/* @filter without the conjunct @c, which the key ranges already enforce
 * (a long IN list would otherwise be evaluated for every key). */
static const struct tl_expr *
without_conjunct(struct sql_stmt *st, const struct tl_expr *filter,
                 const struct tl_expr *c)
{
    /* A join's route may come from a derived condition that its
     * fragment's filter does not hold (or it has none). */
    if (filter == NULL || filter == c)
        return NULL;
    if (filter->kind != TL_EXPR_AND)
        return filter;
    struct tl_expr **args =
        tl_arena_alloc(st->a, filter->n_args * sizeof(*args));
    uint32_t n = 0;
    for (uint32_t i = 0; i < filter->n_args; i++)
        if (filter->args[i] != c)
            args[n++] = filter->args[i];
    if (n == 1)
        return args[0];
    return tl_expr_node(st->a, TL_EXPR_AND, TL_TYPE_BOOL, args, n);
}

Talus__ScanFragment *
plan_fragment(struct sql_stmt *st, const struct plan *p)
{
    Talus__ScanFragment *f = tl_arena_alloc(st->a, sizeof(*f));
    talus__scan_fragment__init(f);
    f->table = tl_arena_alloc(st->a, sizeof(*f->table));
    tl_table_to_proto(p->table, st->a, f->table);
    f->n_ranges = 1;
    f->ranges = tl_arena_alloc(st->a, sizeof(*f->ranges));
    if (p->route.point) {
        f->ranges[0] = point_range(st, p->route.key, p->route.key_len);
    } else if (p->route.index != NULL) {
        f->ranges[0] = make_range(st, p->route.ix_start, p->route.ix_start_len,
                                  p->route.ix_end, p->route.ix_end_len);
        f->has_index_id = true;
        f->index_id = p->route.index->id;
    } else {
        struct tl_buf s, e;
        tl_buf_init(&s);
        tl_buf_init(&e);
        tl_table_key_range(p->table, &s, &e);
        f->ranges[0] = make_range(st, s.data, s.len, e.data, e.len);
        tl_buf_close(&s);
        tl_buf_close(&e);
    }
    const struct tl_expr *filter = p->filter;
    if (p->route.n_points > 0)
        filter = without_conjunct(st, filter, p->route.points_conj);
    if (filter != NULL)
        f->filter = tl_expr_to_proto(filter, st->a);
    return f;
}

static void
render_quoted(struct tl_buf *b, const char *p, size_t len)
{
    tl_buf_append_u8(b, '\'');
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\'')
            tl_buf_append_u8(b, '\'');
        tl_buf_append_u8(b, (uint8_t)p[i]);
    }
    tl_buf_append_u8(b, '\'');
}

static void
render(const struct tl_table *t, const struct tl_expr *e, struct tl_buf *b,
       int depth)
{
    if (depth > SQL_MAX_DEPTH) {
        tl_buf_printf(b, "...");
        return;
    }
    const char *sep = NULL;
    switch (e->kind) {
    case TL_EXPR_CONST:
        if (e->value.is_null) {
            tl_buf_printf(b, "NULL");
        } else if (tl_type_is_text(e->value.type) ||
                   e->value.type == TL_TYPE_UNKNOWN) {
            render_quoted(b, e->value.u.s.p, e->value.u.s.len);
        } else if (tl_type_is_datetime(e->value.type) ||
                   tl_type_has_text(e->value.type)) {
            /* As PostgreSQL shows them: '2026-03-01 00:00:00+00'; a uuid
             * or bytea by its text output too. */
            struct tl_buf txt;
            tl_buf_init(&txt);
            tl_value_to_text(&e->value, &txt);
            render_quoted(b, (const char *)txt.data, txt.len);
            tl_buf_close(&txt);
        } else if (e->value.type == TL_TYPE_BOOL) {
            tl_buf_printf(b, "%s", e->value.u.b ? "true" : "false");
        } else {
            tl_value_to_text(&e->value, b);
        }
        return;
    case TL_EXPR_COLUMN:
        tl_buf_printf(b, "%s",
                      e->column < t->n_columns ? t->columns[e->column].name
                                               : "?");
        return;
    case TL_EXPR_FUNC: {
        const struct tl_func_sig *sig = tl_func_by_id(e->op);
        tl_buf_printf(b, "%s(", sig != NULL ? sig->name : "?");
        for (uint32_t i = 0; i < e->n_args; i++) {
            if (i > 0)
                tl_buf_printf(b, ", ");
            render(t, e->args[i], b, depth + 1);
        }
        tl_buf_printf(b, ")");
        return;
    }
    case TL_EXPR_OP:
        if (e->n_args == 1) {
            tl_buf_printf(b, "(%s ", e->op == TL_OP_BITNOT ? "~" : "-");
            render(t, e->args[0], b, depth + 1);
            tl_buf_printf(b, ")");
            return;
        }
        tl_buf_printf(b, "(");
        render(t, e->args[0], b, depth + 1);
        tl_buf_printf(b, " %s ", tl_expr_op_symbol(e->op));
        render(t, e->args[1], b, depth + 1);
        tl_buf_printf(b, ")");
        return;
    case TL_EXPR_AND:
        sep = " AND ";
        break;
    case TL_EXPR_OR:
        sep = " OR ";
        break;
    case TL_EXPR_NOT:
        tl_buf_printf(b, "(NOT ");
        render(t, e->args[0], b, depth + 1);
        tl_buf_printf(b, ")");
        return;
    case TL_EXPR_IS_NULL:
    case TL_EXPR_IS_NOT_NULL:
        tl_buf_printf(b, "(");
        render(t, e->args[0], b, depth + 1);
        tl_buf_printf(b, e->kind == TL_EXPR_IS_NULL ? " IS NULL)"
                                                    : " IS NOT NULL)");
        return;
    case TL_EXPR_IN:
        tl_buf_printf(b, "(");
        render(t, e->args[0], b, depth + 1);
        tl_buf_printf(b, " IN (");
        for (uint32_t i = 1; i < e->n_args; i++) {
            if (i > 1)
                tl_buf_printf(b, ", ");
            render(t, e->args[i], b, depth + 1);
        }
        tl_buf_printf(b, "))");
        return;
    case TL_EXPR_CAST:
        tl_buf_printf(b, "(");
        render(t, e->args[0], b, depth + 1);
        tl_buf_printf(b, ")::%s", tl_type_name(e->type));
        return;
    case TL_EXPR_CASE: {
        uint32_t i;
        tl_buf_printf(b, "CASE");
        for (i = 0; i + 1 < e->n_args; i += 2) {
            tl_buf_printf(b, " WHEN ");
            render(t, e->args[i], b, depth + 1);
            tl_buf_printf(b, " THEN ");
            render(t, e->args[i + 1], b, depth + 1);
        }
        if (i < e->n_args) {
            tl_buf_printf(b, " ELSE ");
            render(t, e->args[i], b, depth + 1);
        }
        tl_buf_printf(b, " END");
        return;
    }
    case TL_EXPR_COALESCE:
    case TL_EXPR_MINMAX:
        tl_buf_printf(b, "%s(",
                      e->kind == TL_EXPR_COALESCE ? "COALESCE"
                      : e->op == TL_OP_GT         ? "GREATEST"
                                                  : "LEAST");
        for (uint32_t i = 0; i < e->n_args; i++) {
            if (i > 0)
                tl_buf_printf(b, ", ");
            render(t, e->args[i], b, depth + 1);
        }
        tl_buf_printf(b, ")");
        return;
    default:
        tl_buf_printf(b, "?");
        return;
    }
    tl_buf_printf(b, "(");
    for (uint32_t i = 0; i < e->n_args; i++) {
        if (i > 0)
            tl_buf_printf(b, "%s", sep);
        render(t, e->args[i], b, depth + 1);
    }
    tl_buf_printf(b, ")");
}

const char *
plan_render_expr(struct sql_stmt *st, const struct tl_table *t,
                 const struct tl_expr *e)
{
    struct tl_buf b;
    tl_buf_init(&b);
    render(t, e, &b, 0);
    char *s = tl_arena_strndup(st->a, (const char *)b.data, b.len);
    tl_buf_close(&b);
    return s;
}
