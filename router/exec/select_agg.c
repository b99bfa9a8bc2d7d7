/* select_agg — the parts of SELECT finished at the router: aggregates,
 * GROUP BY (a hash table of groups under a memory cap), sorting rows
 * gathered from several shards, and EXPLAIN of a SELECT. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "interval.h"
#include "json.h"
#include "numeric.h"
#include "router/exec/explain.h"
#include "router/exec/gather.h"
#include "router/exec/select_int.h"
#include "row.h"

static struct tl_value
copy_value(struct sql_stmt *st, const struct tl_value *v)
{
    struct tl_value c = *v;
    if (!v->is_null && tl_type_has_bytes(v->type))
        c.u.s.p = tl_arena_strndup(st->a, v->u.s.p, v->u.s.len);
    return c;
}

static int too_big(struct sql_stmt *st, const struct sel_groups *g);

/* Keep @v as the min/max of @a: text in the statement arena, or, when
 * @g is not NULL (grouping), in a buffer of the state counted in
 * g->bytes (54000 when that would pass the cap). */
static int
keep_best(struct sql_stmt *st, struct sel_agg_state *a,
          const struct tl_value *v, struct sel_groups *g)
{
    if (g == NULL) {
        a->best = copy_value(st, v);
        return 0;
    }
    if (!v->is_null && tl_type_has_bytes(v->type) && v->u.s.len + 1 > a->cap) {
        size_t cap = (size_t)v->u.s.len + 1 < 32 ? 32 : v->u.s.len + 1;
        if (g->bytes + (cap - a->cap) > g->q->group->max_bytes)
            return too_big(st, g);
        char *b = realloc(a->buf, cap);
        if (b == NULL)
            return sql_error(st, TL_ENOMEM, TL_SQLSTATE_OUT_OF_MEMORY,
                             "out of memory");
        g->bytes += cap - a->cap;
        a->buf = b;
        a->cap = cap;
    }
    a->best = *v;
    if (v->is_null || !tl_type_has_bytes(v->type))
        return 0;
    memcpy(a->buf, v->u.s.p, v->u.s.len);
    a->buf[v->u.s.len] = '\0';
    a->best.u.s.p = a->buf;
    return 0;
}

/* Grow @d to @cap slots (a power of two). */
static int
grow_distinct(struct sql_stmt *st, struct sel_groups *g, struct sel_distinct *d,
              size_t cap)
{
    size_t add = (cap - d->cap) * (sizeof(*d->hashes) + sizeof(*d->vals));
    if (g->bytes + add > g->q->group->max_bytes)
        return too_big(st, g);
    uint64_t *h = calloc(cap, sizeof(*h));
    struct tl_value *v = malloc(cap * sizeof(*v));
    if (h == NULL || v == NULL) {
        free(h);
        free(v);
        return sql_error(st, TL_ENOMEM, TL_SQLSTATE_OUT_OF_MEMORY,
                         "out of memory");
    }
    for (size_t i = 0; i < d->cap; i++) {
        if (d->hashes[i] == 0)
            continue;
        size_t j = d->hashes[i] & (cap - 1);
        while (h[j] != 0)
            j = (j + 1) & (cap - 1);
        h[j] = d->hashes[i];
        v[j] = d->vals[i];
    }
    free(d->hashes);
    free(d->vals);
    d->hashes = h;
    d->vals = v;
    d->cap = cap;
    g->bytes += add;
    return 0;
}

/* Add @v (not NULL) to the DISTINCT set of @a; *@fresh tells whether it
 * was new. The set and its text are counted in g->bytes (54000 beyond
 * the cap). */
static int
add_distinct(struct sql_stmt *st, struct sel_groups *g, struct sel_agg_state *a,
             const struct tl_value *v, bool *fresh)
{
    *fresh = false;
    if (a->seen == NULL) {
        if (g->bytes + sizeof(*a->seen) > g->q->group->max_bytes)
            return too_big(st, g);
        a->seen = tl_arena_calloc(&g->arena, sizeof(*a->seen));
        g->bytes += sizeof(*a->seen);
    }
    struct sel_distinct *d = a->seen;
    uint64_t h = tl_value_hash(0x13198a2e03707344ULL, v) | 1; /* 0: empty */
    size_t j = d->cap ? h & (d->cap - 1) : 0;
    for (; d->cap > 0 && d->hashes[j] != 0; j = (j + 1) & (d->cap - 1))
        if (d->hashes[j] == h && tl_value_cmp(&d->vals[j], v) == 0)
            return 0;
    if ((d->n + 1) * 2 > d->cap) {
        int rv = grow_distinct(st, g, d, d->cap ? d->cap * 2 : 8);
        if (rv != 0)
            return rv;
        j = h & (d->cap - 1);
        while (d->hashes[j] != 0)
            j = (j + 1) & (d->cap - 1);
    }
    struct tl_value c = *v;
    if (tl_type_has_bytes(v->type)) {
        if (g->bytes + v->u.s.len + 1 > g->q->group->max_bytes)
            return too_big(st, g);
        g->bytes += v->u.s.len + 1;
        c.u.s.p = tl_arena_strndup(&g->arena, v->u.s.p, v->u.s.len);
    }
    d->hashes[j] = h;
    d->vals[j] = c;
    d->n++;
    *fresh = true;
    return 0;
}

/* Add @v (an integer or a numeric, not NULL) to the exact sum of @a,
 * held as numeric text in a->best, its bytes in a->buf (malloc'd; counted
 * in g->bytes when grouping, 54000 past the cap). */
static int
add_numeric(struct sql_stmt *st, struct select_q *q, struct sel_agg_state *a,
            const struct tl_value *v, struct sel_groups *g)
{
    struct tl_value x =
        tl_type_is_int(v->type) ? tl_numeric_from_int(v->u.i, &q->scratch) : *v;
    struct tl_value sum = x;
    int rv;

    if (a->has_value &&
        (rv = tl_numeric_add(&a->best, &x, &q->scratch, &sum, &st->err)) != 0)
        return rv;
    if ((size_t)sum.u.s.len + 1 > a->cap) {
        size_t cap = (size_t)sum.u.s.len + 1 < 32 ? 32 : sum.u.s.len + 1;
        if (g != NULL && g->bytes + (cap - a->cap) > g->q->group->max_bytes)
            return too_big(st, g);
        char *b = realloc(a->buf, cap);
        if (b == NULL)
            return sql_error(st, TL_ENOMEM, TL_SQLSTATE_OUT_OF_MEMORY,
                             "out of memory");
        if (g != NULL)
            g->bytes += cap - a->cap;
        a->buf = b;
        a->cap = cap;
    }
    memcpy(a->buf, sum.u.s.p, sum.u.s.len);
    a->best = tl_value_text(TL_TYPE_NUMERIC, a->buf, sum.u.s.len);
    a->has_value = true;
    return 0;
}

/* Feed one row to aggregate @agg over @arg with state @a (with @g, the
 * groups of a grouped query, NULL otherwise: then @distinct is false). */
static int
step_state(struct sql_stmt *st, struct select_q *q, int agg, bool distinct,
           const struct tl_expr *arg, struct sel_agg_state *a,
           const struct tl_value *row, size_t n_cols, struct sel_groups *g)
{
    if (agg == AGG_COUNT_STAR) {
        a->count++;
        return 0;
    }
    struct tl_value v;
    int rv = tl_expr_eval(arg, row, n_cols, &q->scratch, &v, &st->err);
    if (rv != 0 || v.is_null)
        return rv;
    if (distinct) {
        bool fresh;
        rv = add_distinct(st, g, a, &v, &fresh);
        if (rv != 0 || !fresh)
            return rv;
    }
    a->count++;
    switch (agg) {
    case AGG_SUM:
    case AGG_AVG:
        if (v.type == TL_TYPE_NUMERIC || v.type == TL_TYPE_INT8 ||
            (agg == AGG_AVG && tl_type_is_int(v.type)))
            return add_numeric(st, q, a, &v, g);
        if (v.type == TL_TYPE_FLOAT4 && agg == AGG_SUM) {
            /* sum(real) adds in real, as float4pl does. */
            float f = (float)(a->fsum + v.u.f);
            if (isinf(f) && !isinf(a->fsum) && !isinf(v.u.f))
                return sql_error(st, TL_EOVERFLOW,
                                 TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
                                 "value out of range: overflow");
            a->fsum = f;
        } else if (tl_type_is_float(v.type)) {
            a->fsum += v.u.f;
        } else {
            a->fsum += (double)v.u.i;
            if (__builtin_add_overflow(a->isum, v.u.i, &a->isum) &&
                agg == AGG_SUM)
                return sql_error(st, TL_EOVERFLOW,
                                 TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
                                 "bigint out of range");
        }
        return 0;
    case AGG_MIN:
    case AGG_MAX:
        if (a->has_value) {
            int c = tl_value_cmp(&v, &a->best);
            if ((agg == AGG_MIN && c >= 0) || (agg == AGG_MAX && c <= 0))
                return 0;
        }
        rv = keep_best(st, a, &v, g);
        if (rv == 0)
            a->has_value = true;
        return rv;
    default:
        return 0;
    }
}

int
select_agg_step(struct sql_stmt *st, struct select_q *q,
                const struct tl_value *row, size_t n_cols)
{
    for (size_t i = 0; i < q->n_targets; i++) {
        struct sel_target *tg = &q->targets[i];
        if (tg->agg == AGG_NONE)
            continue;
        int rv = step_state(st, q, tg->agg, false, tg->arg, &tg->acc, row,
                            n_cols, NULL);
        if (rv != 0)
            return rv;
    }
    tl_arena_reset(&q->scratch);
    return 0;
}

/* The result of aggregate @agg of result type @type from state @a; an
 * average of numerics is computed into @ar. */
static struct tl_value
agg_result(int agg, uint8_t type, const struct sel_agg_state *a,
           struct tl_arena *ar)
{
    switch (agg) {
    case AGG_COUNT_STAR:
    case AGG_COUNT:
        return tl_value_int(TL_TYPE_INT8, a->count);
    case AGG_SUM:
        if (a->count == 0)
            return tl_value_null(type);
        if (tl_type_is_float(type)) {
            struct tl_value v = tl_value_float(a->fsum);
            v.type = type;
            return v;
        }
        if (type == TL_TYPE_NUMERIC)
            return a->best;
        return tl_value_int(TL_TYPE_INT8, a->isum);
    case AGG_AVG:
        if (a->count == 0)
            return tl_value_null(type);
        if (type == TL_TYPE_NUMERIC) {
            /* numeric_avg: sum / count in numeric division (count > 0, so
             * this cannot fail) */
            struct tl_value n = tl_numeric_from_int(a->count, ar), r;
            int rv = tl_numeric_div(&a->best, &n, ar, &r, NULL);
            assert(rv == 0);
            (void)rv;
            return r;
        }
        return tl_value_float(a->fsum / (double)a->count);
    default:
        return a->has_value ? a->best : tl_value_null(type);
    }
}

int
select_finish_aggregates(struct sql_stmt *st, struct select_q *q)
{
    struct tl_value *v =
        tl_arena_calloc(st->a, (q->n_targets + 1) * sizeof(*v));
    for (size_t i = 0; i < q->n_targets; i++) {
        if (q->targets[i].agg != AGG_NONE) {
            v[i] = agg_result(q->targets[i].agg, q->targets[i].type,
                              &q->targets[i].acc, st->a);
            continue;
        }
        int rv =
            tl_expr_eval(q->targets[i].expr, NULL, 0, st->a, &v[i], &st->err);
        if (rv != 0)
            return rv;
    }
    bool send = q->offset == 0 && !(q->has_limit && q->limit == 0);
    if (send) {
        int rv = dest_row(st->dest, v, q->n_targets);
        if (rv != 0)
            return rv;
    }
    dest_complete(st->dest, send ? "SELECT 1" : "SELECT 0");
    return 0;
}

static int
agg_row(struct sql_stmt *st, const uint8_t *p, size_t len, void *arg)
{
    struct select_q *q = arg;
    size_t n = q->n_cols;
    if (tl_row_decode(p, len, q->row, n, NULL) != 0)
        return sql_error(st, TL_ECORRUPT, TL_SQLSTATE_DATA_CORRUPTED,
                         "corrupt row from a shard");
    return select_agg_step(st, q, q->row, n);
}

int
select_run_aggregate(struct sql_stmt *st, struct select_q *q,
                     Talus__ScanFragment *f)
{
    int rv = gather_scan(st, &q->plan, f, agg_row, q, NULL);
    if (rv != 0)
        return rv;
    return select_finish_aggregates(st, q);
}

/* Rows gathered for sorting. */
struct sorted {
    struct select_q *q;
    size_t n_cols;          /* of each row */
    struct tl_value **rows; /* decoded, in the statement arena */
    struct tl_value **keys; /* n_sort values per row */
    size_t n, cap;
    size_t bytes; /* held for the rows: never above max_bytes */
    size_t max_bytes;
};

/* 54000 for a sort past its memory cap, worded like GROUP BY's. */
static int
sort_too_big(struct sql_stmt *st, const struct sorted *s)
{
    if (s->max_bytes >> 20 > 0)
        sql_error(st, TL_ENOMEM, TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
                  "ORDER BY needs more than %zu MiB of memory",
                  s->max_bytes >> 20);
    else
        sql_error(st, TL_ENOMEM, TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
                  "ORDER BY needs more than %zu bytes of memory", s->max_bytes);
    tl_error_detail(&st->err,
                    "%zu rows so far; the router's limit is "
                    "--sort-max-bytes.",
                    s->n);
    tl_error_hint(&st->err, "Add a LIMIT or narrow the WHERE clause.");
    return TL_ENOMEM;
}

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
            return sql_error(st, TL_ENOMEM, TL_SQLSTATE_OUT_OF_MEMORY,
                             "out of memory");
        s->cap = cap;
    }
    /* Until the sort can spill, its memory is capped like GROUP BY's:
     * the row bytes, their decoded values and sort keys, the arrays. */
    s->bytes += len + 1 + nc * sizeof(struct tl_value) +
                (q->n_sort + 1) * sizeof(struct tl_value) +
                2 * sizeof(struct tl_value *);
    if (s->bytes > s->max_bytes)
        return sort_too_big(st, s);
    uint8_t *copy = tl_arena_alloc(st->a, len + 1);
    memcpy(copy, p, len);
    struct tl_value *row = tl_arena_alloc(st->a, nc * sizeof(*row));
    if (tl_row_decode(copy, len, row, nc, NULL) != 0)
        return sql_error(st, TL_ECORRUPT, TL_SQLSTATE_DATA_CORRUPTED,
                         "corrupt row from a shard");
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
        return sql_error(st, TL_ENOMEM, TL_SQLSTATE_OUT_OF_MEMORY,
                         "out of memory");
    for (size_t i = 0; i < s->n; i++)
        idx[i] = i;
    qsort_r(idx, s->n, sizeof(*idx), cmp_rows, s);
    int rv = 0;
    for (size_t i = q->offset; i < s->n && rv == 0; i++) {
        if (st->dest->stop || (q->has_limit && q->n_sent >= q->limit))
            break;
        rv = select_emit(st, q, s->rows[idx[i]], s->n_cols);
    }
    free(idx);
    return rv;
}

/* The rows of @s in order, and the command tag. */
static int
send_sorted(struct sql_stmt *st, struct select_q *q, struct sorted *s)
{
    int rv = emit_sorted(st, s);
    if (rv == 0)
        select_send_tag(st, q->n_sent);
    return rv;
}

int
select_run_sorted(struct sql_stmt *st, struct select_q *q,
                  Talus__ScanFragment *f)
{
    struct sorted s = {.q = q,
                       .n_cols = q->n_cols,
                       .max_bytes = st->r->limits.sort_max_bytes > 0
                                        ? st->r->limits.sort_max_bytes
                                        : ROUTER_SORT_MAX_BYTES};
    int rv = 0;
    if (!(q->has_limit && q->limit == 0))
        rv = select_gather(st, q, f, keep_row, &s);
    if (rv == 0)
        rv = send_sorted(st, q, &s);
    free(s.rows);
    free(s.keys);
    return rv;
}

/* ------------------------------------------------------------ GROUP BY */

static bool
same_keys(const struct tl_value *a, const struct tl_value *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].is_null || b[i].is_null) {
            if (a[i].is_null != b[i].is_null)
                return false;
            continue;
        }
        if (tl_value_cmp(&a[i], &b[i]) != 0)
            return false;
    }
    return true;
}

static int
too_big(struct sql_stmt *st, const struct sel_groups *g)
{
    size_t max = g->q->group->max_bytes;
    bool keys = g->q->group->n_items > 0;
    const char *what = keys ? "GROUP BY needs" : "aggregates need";
    if (max >> 20 > 0)
        sql_error(st, TL_ENOMEM, TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
                  "%s more than %zu MiB of memory", what, max >> 20);
    else
        sql_error(st, TL_ENOMEM, TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
                  "%s more than %zu bytes of memory", what, max);
    if (keys) {
        tl_error_detail(&st->err, "%zu groups so far.", g->n);
        tl_error_hint(&st->err, "Narrow the WHERE clause or group by fewer "
                                "distinct values.");
    } else {
        tl_error_hint(&st->err, "Narrow the WHERE clause.");
    }
    return TL_ENOMEM;
}

static int
grow_table(struct sql_stmt *st, struct sel_groups *g)
{
    size_t cap = g->cap ? g->cap * 2 : 64;
    size_t add = (cap - g->cap) * sizeof(*g->slots) +
                 (cap / 2 - g->list_cap) * sizeof(*g->list);
    if (g->bytes + add > g->q->group->max_bytes)
        return too_big(st, g);
    struct sel_group_entry **slots = calloc(cap, sizeof(*slots));
    struct sel_group_entry **list = realloc(g->list, cap / 2 * sizeof(*list));
    if (list != NULL)
        g->list = list;
    if (slots == NULL || list == NULL) {
        free(slots);
        return sql_error(st, TL_ENOMEM, TL_SQLSTATE_OUT_OF_MEMORY,
                         "out of memory");
    }
    for (size_t i = 0; i < g->cap; i++) {
        struct sel_group_entry *e = g->slots[i];
        if (e == NULL)
            continue;
        size_t j = e->hash & (cap - 1);
        while (slots[j] != NULL)
            j = (j + 1) & (cap - 1);
        slots[j] = e;
    }
    free(g->slots);
    g->slots = slots;
    g->cap = cap;
    g->list_cap = cap / 2;
    g->bytes += add;
    return 0;
}

/* The group of key values g->kv (added if new) into *@out. */
static int
find_group(struct sql_stmt *st, struct sel_groups *g,
           struct sel_group_entry **out)
{
    const struct sel_group *sg = g->q->group;
    uint64_t h = 0x243f6a8885a308d3ULL;
    for (size_t i = 0; i < sg->n_keys; i++)
        h = tl_value_hash(h, &g->kv[i]);
    size_t j = g->cap ? h & (g->cap - 1) : 0;
    for (; g->cap > 0 && g->slots[j] != NULL; j = (j + 1) & (g->cap - 1))
        if (g->slots[j]->hash == h &&
            same_keys(g->slots[j]->keys, g->kv, sg->n_keys)) {
            *out = g->slots[j];
            return 0;
        }
    if ((g->n + 1) * 2 > g->cap) {
        int rv = grow_table(st, g);
        if (rv != 0)
            return rv;
        j = h & (g->cap - 1);
        while (g->slots[j] != NULL)
            j = (j + 1) & (g->cap - 1);
    }
    size_t bytes = sizeof(struct sel_group_entry) +
                   (sg->n_keys + 1) * sizeof(struct tl_value) +
                   (sg->n_aggs + 1) * sizeof(struct sel_agg_state);
    for (size_t i = 0; i < sg->n_keys; i++)
        if (!g->kv[i].is_null && tl_type_has_bytes(g->kv[i].type))
            bytes += g->kv[i].u.s.len + 1;
    if (g->bytes + bytes > sg->max_bytes)
        return too_big(st, g);
    g->bytes += bytes;
    struct sel_group_entry *e = tl_arena_alloc(&g->arena, sizeof(*e));
    e->hash = h;
    e->keys = tl_arena_alloc(&g->arena, (sg->n_keys + 1) * sizeof(*e->keys));
    for (size_t i = 0; i < sg->n_keys; i++) {
        e->keys[i] = g->kv[i];
        if (!g->kv[i].is_null && tl_type_has_bytes(g->kv[i].type))
            e->keys[i].u.s.p =
                tl_arena_strndup(&g->arena, g->kv[i].u.s.p, g->kv[i].u.s.len);
    }
    e->acc = tl_arena_calloc(&g->arena, (sg->n_aggs + 1) * sizeof(*e->acc));
    g->slots[j] = e;
    g->list[g->n++] = e;
    *out = e;
    return 0;
}

int
select_groups_add(struct sql_stmt *st, struct sel_groups *g,
                  const struct tl_value *row, size_t n_cols)
{
    struct select_q *q = g->q;
    const struct sel_group *sg = q->group;
    for (size_t i = 0; i < sg->n_keys; i++) {
        int rv = tl_expr_eval(sg->keys[i], row, n_cols, &q->scratch, &g->kv[i],
                              &st->err);
        if (rv != 0)
            return rv;
    }
    struct sel_group_entry *e;
    int rv = find_group(st, g, &e);
    for (size_t i = 0; i < sg->n_aggs && rv == 0; i++)
        rv = step_state(st, q, sg->aggs[i].agg, sg->aggs[i].distinct,
                        sg->aggs[i].arg, &e->acc[i], row, n_cols, g);
    tl_arena_reset(&q->scratch);
    if (rv == 0 && g->bytes > sg->max_bytes)
        return too_big(st, g);
    return rv;
}

static int
group_row(struct sql_stmt *st, const uint8_t *p, size_t len, void *arg)
{
    struct sel_groups *g = arg;
    struct select_q *q = g->q;
    if (tl_row_decode(p, len, q->row, q->n_cols, NULL) != 0)
        return sql_error(st, TL_ECORRUPT, TL_SQLSTATE_DATA_CORRUPTED,
                         "corrupt row from a shard");
    return select_groups_add(st, g, q->row, q->n_cols);
}

void
select_groups_row(struct sel_groups *g, size_t i, struct tl_value *row)
{
    const struct sel_group *sg = g->q->group;
    const struct sel_group_entry *e = g->list[i];
    memcpy(row, e->keys, sg->n_keys * sizeof(*row));
    for (size_t k = 0; k < sg->n_aggs; k++)
        row[sg->n_keys + k] = agg_result(sg->aggs[k].agg, sg->aggs[k].type,
                                         &e->acc[k], &g->arena);
}

void
select_groups_init(struct sql_stmt *st, struct select_q *q,
                   struct sel_groups *g)
{
    memset(g, 0, sizeof(*g));
    g->q = q;
    tl_arena_init(&g->arena);
    g->kv = tl_arena_calloc(st->a, (q->group->n_keys + 1) * sizeof(*g->kv));
}

void
select_groups_close(struct sel_groups *g)
{
    for (size_t i = 0; i < g->n; i++)
        for (size_t k = 0; k < g->q->group->n_aggs; k++) {
            struct sel_agg_state *a = &g->list[i]->acc[k];
            free(a->buf);
            if (a->seen != NULL) {
                free(a->seen->hashes);
                free(a->seen->vals);
            }
        }
    free(g->slots);
    free(g->list);
    tl_arena_close(&g->arena);
}

/* HAVING, ORDER BY, OFFSET/LIMIT over the group rows, and send them. */
static int
emit_groups(struct sql_stmt *st, struct sel_groups *g)
{
    struct select_q *q = g->q;
    const struct sel_group *sg = q->group;
    size_t nc = sg->n_keys + sg->n_aggs;
    struct sorted s = {.q = q, .n_cols = nc};
    s.rows = malloc((g->n + 1) * sizeof(*s.rows));
    s.keys = malloc((g->n + 1) * sizeof(*s.keys));
    int rv = 0;
    if (s.rows == NULL || s.keys == NULL)
        rv = sql_error(st, TL_ENOMEM, TL_SQLSTATE_OUT_OF_MEMORY,
                       "out of memory");
    for (size_t i = 0; i < g->n && rv == 0; i++) {
        struct tl_value *row = tl_arena_alloc(st->a, (nc + 1) * sizeof(*row));
        select_groups_row(g, i, row);
        if (sg->having != NULL) {
            int pass;
            rv = tl_expr_eval_pred(sg->having, row, nc, st->a, &pass, &st->err);
            if (rv != 0 || !pass)
                continue;
        }
        struct tl_value *keys =
            tl_arena_alloc(st->a, (q->n_sort + 1) * sizeof(*keys));
        for (size_t k = 0; k < q->n_sort && rv == 0; k++)
            rv = tl_expr_eval(q->sort[k].expr, row, nc, st->a, &keys[k],
                              &st->err);
        s.rows[s.n] = row;
        s.keys[s.n] = keys;
        s.n++;
    }
    if (rv == 0)
        rv = send_sorted(st, q, &s);
    free(s.rows);
    free(s.keys);
    return rv;
}

int
select_run_group(struct sql_stmt *st, struct select_q *q,
                 Talus__ScanFragment *f)
{
    struct sel_groups g;
    select_groups_init(st, q, &g);
    int rv = 0;
    if (f != NULL) {
        rv = gather_scan(st, &q->plan, f, group_row, &g, NULL);
    } else {
        /* No FROM: one input row, unless WHERE is false. */
        const struct tl_expr *w = q->plan.filter;
        if (w == NULL ||
            (w->kind == TL_EXPR_CONST && !w->value.is_null && w->value.u.b))
            rv = select_groups_add(st, &g, NULL, 0);
    }
    /* Without GROUP BY items there is one group even over no rows. */
    if (rv == 0 && q->group->n_items == 0 && g.n == 0) {
        struct sel_group_entry *e;
        rv = find_group(st, &g, &e);
    }
    if (rv == 0)
        rv = emit_groups(st, &g);
    select_groups_close(&g);
    return rv;
}

static const char *
group_line(struct sql_stmt *st, const struct select_q *q)
{
    const struct sel_group *g = q->group;
    if (g->n_items == 0)
        return "Group: router (one group)";
    struct tl_buf b;
    tl_buf_init(&b);
    tl_buf_printf(&b, "Group: router (keys: ");
    for (size_t i = 0; i < g->n_items; i++)
        tl_buf_printf(&b, "%s%s", i ? ", " : "",
                      plan_render_expr(st, q->row_table, g->keys[i]));
    tl_buf_printf(&b, ")");
    char *s = tl_arena_strndup(st->a, (const char *)b.data, b.len);
    tl_buf_close(&b);
    return s;
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
    if (q->group != NULL)
        extra[n++] = group_line(st, q);
    else if (q->count_only)
        extra[n++] = "Aggregate: count(*) pushed down, summed at the router";
    else if (q->is_agg)
        extra[n++] = "Aggregate: computed at the router";
    if (q->n_sort > 0 && !q->is_agg)
        extra[n++] = sort_line(st, q);
    else if (q->n_sort > 0 && q->group != NULL)
        extra[n++] = "Order: at the router, after grouping";
    if (q->has_limit && !q->is_agg)
        extra[n++] = tl_arena_printf(
            st->a, "Limit: %llu (each shard returns at most %llu)",
            (unsigned long long)q->limit,
            (unsigned long long)(q->limit + q->offset));
    else if (q->has_limit && q->group != NULL)
        extra[n++] = tl_arena_printf(st->a,
                                     "Limit: %llu (at the router, after "
                                     "grouping)",
                                     (unsigned long long)q->limit);
    if (q->offset > 0)
        extra[n++] = tl_arena_printf(st->a, "Offset: %llu",
                                     (unsigned long long)q->offset);
    explain_send(st, &q->plan, extra, n);
    return 0;
}
