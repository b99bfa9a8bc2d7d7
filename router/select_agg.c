/* select_agg — the parts of SELECT finished at the router: aggregates,
 * sorting rows gathered from several shards, and EXPLAIN of a SELECT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "row.h"
#include "select_int.h"

static struct tl_value
copy_value(struct sql_stmt *st, const struct tl_value *v)
{
    struct tl_value c = *v;
    if (!v->is_null && (tl_type_is_text(v->type) || v->type == 0))
        c.u.s.p = tl_arena_strndup(st->a, v->u.s.p, v->u.s.len);
    return c;
}

static int
step_one(struct sql_stmt *st, struct select_q *q, struct sel_target *tg,
         const struct tl_value *row, size_t n_cols)
{
    if (tg->agg == AGG_COUNT_STAR) {
        tg->count++;
        return 0;
    }
    struct tl_value v;
    int rv = tl_expr_eval(tg->arg, row, n_cols, &q->scratch, &v, &st->err);
    if (rv != 0 || v.is_null)
        return rv;
    tg->count++;
    switch (tg->agg) {
    case AGG_SUM:
    case AGG_AVG:
        if (v.type == TL_TYPE_FLOAT8) {
            tg->fsum += v.u.f;
        } else {
            tg->fsum += (double)v.u.i;
            if (__builtin_add_overflow(tg->isum, v.u.i, &tg->isum) &&
                tg->agg == AGG_SUM)
                return sql_error(st, TL_EOVERFLOW, "22003",
                                 "bigint out of range");
        }
        return 0;
    case AGG_MIN:
    case AGG_MAX:
        if (tg->has_value) {
            int c = tl_value_cmp(&v, &tg->best);
            if ((tg->agg == AGG_MIN && c >= 0) ||
                (tg->agg == AGG_MAX && c <= 0))
                return 0;
        }
        tg->best = copy_value(st, &v);
        tg->has_value = true;
        return 0;
    default:
        return 0;
    }
}

int
select_agg_step(struct sql_stmt *st, struct select_q *q,
                const struct tl_value *row, size_t n_cols)
{
    for (size_t i = 0; i < q->n_targets; i++) {
        if (q->targets[i].agg == AGG_NONE)
            continue;
        int rv = step_one(st, q, &q->targets[i], row, n_cols);
        if (rv != 0)
            return rv;
    }
    tl_arena_reset(&q->scratch);
    return 0;
}

static struct tl_value
agg_result(const struct sel_target *tg)
{
    switch (tg->agg) {
    case AGG_COUNT_STAR:
    case AGG_COUNT:
        return tl_value_int(TL_TYPE_INT8, tg->count);
    case AGG_SUM:
        if (tg->count == 0)
            return tl_value_null(tg->type);
        return tg->type == TL_TYPE_FLOAT8
                   ? tl_value_float(tg->fsum)
                   : tl_value_int(TL_TYPE_INT8, tg->isum);
    case AGG_AVG:
        if (tg->count == 0)
            return tl_value_null(TL_TYPE_FLOAT8);
        return tl_value_float(tg->fsum / (double)tg->count);
    default:
        return tg->has_value ? tg->best : tl_value_null(tg->type);
    }
}

int
select_finish_aggregates(struct sql_stmt *st, struct select_q *q)
{
    struct pgw_field *f =
        tl_arena_calloc(st->a, (q->n_targets + 1) * sizeof(*f));
    struct tl_value *v =
        tl_arena_calloc(st->a, (q->n_targets + 1) * sizeof(*v));
    for (size_t i = 0; i < q->n_targets; i++) {
        f[i].name = q->targets[i].name;
        f[i].type = q->targets[i].type;
        f[i].typmod = q->targets[i].typmod;
        if (q->targets[i].agg != AGG_NONE) {
            v[i] = agg_result(&q->targets[i]);
            continue;
        }
        int rv =
            tl_expr_eval(q->targets[i].expr, NULL, 0, st->a, &v[i], &st->err);
        if (rv != 0)
            return rv;
    }
    pgw_send_row_description(st->c, f, q->n_targets);
    bool send = q->offset == 0 && !(q->has_limit && q->limit == 0);
    if (send)
        pgw_send_data_row(st->c, v, q->n_targets);
    pgw_send_command_complete(st->c, send ? "SELECT 1" : "SELECT 0");
    return 0;
}

static int
agg_row(struct sql_stmt *st, const uint8_t *p, size_t len, void *arg)
{
    struct select_q *q = arg;
    size_t n = q->n_cols;
    if (tl_row_decode(p, len, q->row, n, NULL) != 0)
        return sql_error(st, TL_ECORRUPT, "XX001", "corrupt row from a shard");
    return select_agg_step(st, q, q->row, n);
}

int
select_run_aggregate(struct sql_stmt *st, struct select_q *q,
                     Talus__ScanFragment *f)
{
    int rv = exec_scan(st, &q->plan, f, agg_row, q, NULL);
    if (rv != 0)
        return rv;
    return select_finish_aggregates(st, q);
}

/* Rows gathered for sorting. */
struct sorted {
    struct select_q *q;
    struct tl_value **rows; /* decoded, in the statement arena */
    struct tl_value **keys; /* n_sort values per row */
    size_t n, cap;
};

static int
keep_row(struct sql_stmt *st, const uint8_t *p, size_t len, void *arg)
{
    struct sorted *s = arg;
    struct select_q *q = s->q;
    size_t nc = q->n_cols;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        struct tl_value **r = realloc(s->rows, cap * sizeof(*r));
        struct tl_value **k = realloc(s->keys, cap * sizeof(*k));
        if (r != NULL)
            s->rows = r;
        if (k != NULL)
            s->keys = k;
        if (r == NULL || k == NULL)
            return sql_error(st, TL_ENOMEM, "53200", "out of memory");
        s->cap = cap;
    }
    uint8_t *copy = tl_arena_alloc(st->a, len + 1);
    memcpy(copy, p, len);
    struct tl_value *row = tl_arena_alloc(st->a, nc * sizeof(*row));
    if (tl_row_decode(copy, len, row, nc, NULL) != 0)
        return sql_error(st, TL_ECORRUPT, "XX001", "corrupt row from a shard");
    struct tl_value *keys =
        tl_arena_alloc(st->a, (q->n_sort + 1) * sizeof(*keys));
    for (size_t i = 0; i < q->n_sort; i++) {
        int rv =
            tl_expr_eval(q->sort[i].expr, row, nc, st->a, &keys[i], &st->err);
        if (rv != 0)
            return rv;
    }
    s->rows[s->n] = row;
    s->keys[s->n] = keys;
    s->n++;
    return 0;
}

static int
cmp_key(const struct sel_sort *k, const struct tl_value *a,
        const struct tl_value *b)
{
    if (a->is_null || b->is_null) {
        if (a->is_null && b->is_null)
            return 0;
        return (a->is_null ? -1 : 1) * (k->nulls_first ? 1 : -1);
    }
    int c = tl_value_cmp(a, b);
    return k->desc ? -c : c;
}

static int
cmp_rows(const void *x, const void *y, void *arg)
{
    const struct sorted *s = arg;
    size_t i = *(const size_t *)x, j = *(const size_t *)y;
    for (size_t k = 0; k < s->q->n_sort; k++) {
        int c = cmp_key(&s->q->sort[k], &s->keys[i][k], &s->keys[j][k]);
        if (c != 0)
            return c;
    }
    return i < j ? -1 : i > j; /* stable: arrival order breaks ties */
}

static int
emit_sorted(struct sql_stmt *st, struct sorted *s)
{
    struct select_q *q = s->q;
    size_t *idx = malloc((s->n + 1) * sizeof(*idx));
    if (idx == NULL)
        return sql_error(st, TL_ENOMEM, "53200", "out of memory");
    for (size_t i = 0; i < s->n; i++)
        idx[i] = i;
    qsort_r(idx, s->n, sizeof(*idx), cmp_rows, s);
    int rv = 0;
    for (size_t i = q->offset; i < s->n && rv == 0; i++) {
        if (q->has_limit && q->n_sent >= q->limit)
            break;
        rv = select_emit(st, q, s->rows[idx[i]], q->n_cols);
    }
    free(idx);
    return rv;
}

int
select_run_sorted(struct sql_stmt *st, struct select_q *q,
                  Talus__ScanFragment *f)
{
    struct sorted s = {.q = q};
    int rv = 0;
    if (!(q->has_limit && q->limit == 0))
        rv = exec_scan(st, &q->plan, f, keep_row, &s, NULL);
    if (rv == 0) {
        struct pgw_field *fl =
            tl_arena_calloc(st->a, (q->n_targets + 1) * sizeof(*fl));
        for (size_t i = 0; i < q->n_targets; i++) {
            fl[i].name = q->targets[i].name;
            fl[i].type = q->targets[i].type;
            fl[i].typmod = q->targets[i].typmod;
        }
        pgw_send_row_description(st->c, fl, q->n_targets);
        rv = emit_sorted(st, &s);
    }
    if (rv == 0) {
        char tag[48];
        snprintf(tag, sizeof(tag), "SELECT %llu",
                 (unsigned long long)q->n_sent);
        pgw_send_command_complete(st->c, tag);
    }
    free(s.rows);
    free(s.keys);
    return rv;
}

static const char *
sort_line(struct sql_stmt *st, const struct select_q *q)
{
    struct tl_buf b;
    tl_buf_init(&b);
    tl_buf_printf(&b, "Order: ");
    for (size_t i = 0; i < q->n_sort; i++) {
        const struct sel_sort *k = &q->sort[i];
        tl_buf_printf(&b, "%s%s%s%s", i ? ", " : "",
                      plan_render_expr(st, q->row_table, k->expr),
                      k->desc ? " DESC" : "",
                      k->nulls_first != k->desc
                          ? (k->nulls_first ? " NULLS FIRST" : " NULLS LAST")
                          : "");
    }
    char *s = tl_arena_strndup(st->a, (const char *)b.data, b.len);
    tl_buf_close(&b);
    return s;
}

int
select_explain(struct sql_stmt *st, struct select_q *q)
{
    const char *extra[6];
    size_t n = 0;
    if (!q->has_table) {
        const char *row = "Result: evaluated at the router";
        sql_send_text_rows(st, "QUERY PLAN", &row, 1, "EXPLAIN");
        return 0;
    }
    if (q->count_only)
        extra[n++] = "Aggregate: count(*) pushed down, summed at the router";
    else if (q->is_agg)
        extra[n++] = "Aggregate: computed at the router";
    if (q->n_sort > 0 && !q->is_agg)
        extra[n++] = sort_line(st, q);
    if (q->has_limit && !q->is_agg)
        extra[n++] = tl_arena_printf(
            st->a, "Limit: %llu (each shard returns at most %llu)",
            (unsigned long long)q->limit,
            (unsigned long long)(q->limit + q->offset));
    if (q->offset > 0)
        extra[n++] = tl_arena_printf(st->a, "Offset: %llu",
                                     (unsigned long long)q->offset);
    explain_send(st, &q->plan, extra, n);
    return 0;
}
