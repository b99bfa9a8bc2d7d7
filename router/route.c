#include "route.h"

#include <stdlib.h>
#include <string.h>

#include "keycodec.h"
#include "vindex.h"

bool
route_key_compatible(uint8_t ctype, uint8_t vtype)
{
    if (tl_type_is_int(ctype))
        return tl_type_is_int(vtype);
    if (tl_type_is_text(ctype))
        return tl_type_is_text(vtype);
    return ctype == vtype;
}

uint32_t
route_row_shard(const struct tl_table *t, const struct tl_value *row,
                uint32_t n_shards)
{
    if (t->shard_key < 0 || t->vindex == TL_VINDEX_NONE || n_shards == 0)
        return 0;
    return tl_vindex_shard(t->vindex, &row[t->shard_key], n_shards);
}

/* The column/constant pair of `col = const` (either order), usable as a
 * key value for that column; false otherwise. */
static bool
match_eq(const struct tl_table *t, const struct tl_expr *e, uint32_t *col,
         const struct tl_value **v)
{
    if (e->kind != TL_EXPR_OP || e->op != TL_OP_EQ || e->n_args != 2)
        return false;
    const struct tl_expr *l = e->args[0], *r = e->args[1];
    if (l->kind != TL_EXPR_COLUMN) {
        const struct tl_expr *tmp = l;
        l = r;
        r = tmp;
    }
    if (l->kind != TL_EXPR_COLUMN || r->kind != TL_EXPR_CONST)
        return false;
    if (l->column >= t->n_columns || r->value.is_null)
        return false;
    if (!route_key_compatible(t->columns[l->column].type, r->value.type))
        return false;
    *col = l->column;
    *v = &r->value;
    return true;
}

/* `shard_key IN (consts)`: true with the non-NULL constants' shards added
 * to @shards (sized n_args). */
static bool
match_in(const struct tl_table *t, const struct tl_expr *e, uint32_t n_shards,
         uint32_t *shards, uint32_t *n_out)
{
    if (e->kind != TL_EXPR_IN || e->n_args < 2)
        return false;
    const struct tl_expr *c = e->args[0];
    if (c->kind != TL_EXPR_COLUMN || (int32_t)c->column != t->shard_key)
        return false;
    uint8_t ctype = t->columns[c->column].type;
    uint32_t n = 0;
    for (uint32_t i = 1; i < e->n_args; i++) {
        const struct tl_expr *k = e->args[i];
        if (k->kind != TL_EXPR_CONST ||
            (!k->value.is_null && !route_key_compatible(ctype, k->value.type)))
            return false;
        if (k->value.is_null)
            continue; /* never equal: contributes no shard */
        shards[n++] = tl_vindex_shard(t->vindex, &k->value, n_shards);
    }
    *n_out = n;
    return true;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t
sort_unique(uint32_t *v, uint32_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_u32);
    uint32_t m = 1;
    for (uint32_t i = 1; i < n; i++)
        if (v[i] != v[m - 1])
            v[m++] = v[i];
    return m;
}

static void
set_single(struct route *out, struct tl_arena *a, uint32_t shard)
{
    out->all = false;
    out->n_shards = 1;
    out->shards = tl_arena_alloc(a, sizeof(uint32_t));
    out->shards[0] = shard;
}

/* Build the point key when every pk column has an equality value. */
static void
route_point(const struct tl_table *t, const struct tl_value **eq,
            struct tl_arena *a, struct route *out)
{
    struct tl_value *row = tl_arena_calloc(a, t->n_columns * sizeof(*row));
    for (uint32_t i = 0; i < t->n_columns; i++)
        row[i] = tl_value_null(t->columns[i].type);
    for (uint32_t k = 0; k < t->n_pk; k++) {
        if (eq[t->pk[k]] == NULL)
            return;
        row[t->pk[k]] = *eq[t->pk[k]];
    }
    struct tl_buf key;
    tl_buf_init(&key);
    tl_table_row_key(t, row, &key);
    out->key = tl_arena_alloc(a, key.len);
    memcpy(out->key, key.data, key.len);
    out->key_len = key.len;
    out->point = true;
    tl_buf_close(&key);
}

static int
cmp_points(const void *a, const void *b, void *arg)
{
    const struct route *r = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    size_t n = r->point_lens[i] < r->point_lens[j] ? r->point_lens[i]
                                                   : r->point_lens[j];
    int c = memcmp(r->points[i], r->points[j], n);
    if (c != 0)
        return c;
    return r->point_lens[i] < r->point_lens[j]   ? -1
           : r->point_lens[i] > r->point_lens[j] ? 1
                                                 : 0;
}

/* Sort the points by key and drop duplicates. */
static void
sort_points(struct route *out, struct tl_arena *a)
{
    size_t n = out->n_points;
    size_t *idx = tl_arena_alloc(a, (n + 1) * sizeof(*idx));
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    qsort_r(idx, n, sizeof(*idx), cmp_points, out);
    uint8_t **p = tl_arena_alloc(a, (n + 1) * sizeof(*p));
    size_t *l = tl_arena_alloc(a, (n + 1) * sizeof(*l));
    uint32_t *s = tl_arena_alloc(a, (n + 1) * sizeof(*s));
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && cmp_points(&idx[i], &idx[i - 1], out) == 0)
            continue;
        p[m] = out->points[idx[i]];
        l[m] = out->point_lens[idx[i]];
        s[m] = out->point_shards[idx[i]];
        m++;
    }
    out->points = p;
    out->point_lens = l;
    out->point_shards = s;
    out->n_points = m;
}

/* `pk IN (consts)` on a one-column primary key: one point per value. */
static void
route_points(const struct tl_table *t, const struct tl_expr *in,
             uint32_t n_shards, struct tl_arena *a, struct route *out)
{
    const struct tl_expr *c = in->args[0];
    if (t->n_pk != 1 || c->kind != TL_EXPR_COLUMN || c->column != t->pk[0])
        return;
    uint8_t ctype = t->columns[c->column].type;
    for (uint32_t i = 1; i < in->n_args; i++) {
        const struct tl_expr *k = in->args[i];
        if (k->kind != TL_EXPR_CONST ||
            (!k->value.is_null && !route_key_compatible(ctype, k->value.type)))
            return;
    }
    bool sharded = t->shard_key >= 0 && t->vindex != TL_VINDEX_NONE;
    size_t n = in->n_args;
    out->points = tl_arena_alloc(a, n * sizeof(*out->points));
    out->point_lens = tl_arena_alloc(a, n * sizeof(size_t));
    out->point_shards = tl_arena_alloc(a, n * sizeof(uint32_t));
    struct tl_value *row = tl_arena_calloc(a, t->n_columns * sizeof(*row));
    struct tl_buf key;
    tl_buf_init(&key);
    for (uint32_t i = 1; i < in->n_args; i++) {
        const struct tl_value *v = &in->args[i]->value;
        if (v->is_null)
            continue;
        row[c->column] = *v;
        tl_buf_reset(&key);
        tl_table_row_key(t, row, &key);
        size_t k = out->n_points++;
        out->points[k] = tl_arena_alloc(a, key.len);
        memcpy(out->points[k], key.data, key.len);
        out->point_lens[k] = key.len;
        out->point_shards[k] = !sharded || n_shards <= 1 ? 0
                               : (int32_t)c->column == t->shard_key
                                   ? tl_vindex_shard(t->vindex, v, n_shards)
                                   : UINT32_MAX;
    }
    tl_buf_close(&key);
    sort_points(out, a);
    out->points_conj = in;
}

void
route_analyze(const struct tl_table *t, const struct tl_expr *filter,
              uint32_t n_shards, struct tl_arena *a, struct route *out)
{
    memset(out, 0, sizeof(*out));
    out->all = true;
    const struct tl_expr *const *conj = NULL;
    uint32_t n_conj = 0;
    if (filter != NULL && filter->kind == TL_EXPR_AND) {
        conj = (const struct tl_expr *const *)filter->args;
        n_conj = filter->n_args;
    } else if (filter != NULL) {
        conj = (const struct tl_expr *const *)&filter;
        n_conj = 1;
    }
    const struct tl_value **eq = tl_arena_calloc(a, t->n_columns * sizeof(*eq));
    const struct tl_expr *in = NULL, *pk_in = NULL;
    for (uint32_t i = 0; i < n_conj; i++) {
        if (pk_in == NULL && conj[i]->kind == TL_EXPR_IN &&
            conj[i]->n_args > 0 && t->n_pk == 1 &&
            conj[i]->args[0]->kind == TL_EXPR_COLUMN &&
            conj[i]->args[0]->column == t->pk[0])
            pk_in = conj[i];
        uint32_t col;
        const struct tl_value *v;
        if (match_eq(t, conj[i], &col, &v)) {
            if (eq[col] == NULL)
                eq[col] = v;
        } else if (in == NULL && conj[i]->kind == TL_EXPR_IN &&
                   conj[i]->n_args > 0 &&
                   conj[i]->args[0]->kind == TL_EXPR_COLUMN &&
                   (int32_t)conj[i]->args[0]->column == t->shard_key) {
            in = conj[i];
        }
    }
    bool sharded = t->shard_key >= 0 && t->vindex != TL_VINDEX_NONE;
    if (!sharded || n_shards <= 1) {
        set_single(out, a, 0);
    } else if (eq[t->shard_key] != NULL) {
        set_single(out, a,
                   tl_vindex_shard(t->vindex, eq[t->shard_key], n_shards));
    } else if (in != NULL) {
        uint32_t *s = tl_arena_alloc(a, in->n_args * sizeof(uint32_t));
        uint32_t n;
        if (match_in(t, in, n_shards, s, &n)) {
            out->all = false;
            out->shards = s;
            out->n_shards = sort_unique(s, n);
        }
    }
    if (t->n_pk > 0)
        route_point(t, eq, a, out);
    if (!out->point && pk_in != NULL)
        route_points(t, pk_in, n_shards, a, out);
}
