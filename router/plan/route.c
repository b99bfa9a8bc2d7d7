#include "router/plan/route.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "keycodec.h"
#include "vindex.h"

bool
route_key_compatible(uint8_t ctype, uint8_t vtype)
{
    if (tl_type_is_int(ctype))
        return tl_type_is_int(vtype);
    /* bpchar against varchar compares both without trailing spaces, but
     * a varchar keys with them: no shared encoding. (Against text, both
     * compare and key the bpchar unpadded and the text as is.) */
    if ((ctype == TL_TYPE_BPCHAR && vtype == TL_TYPE_VARCHAR) ||
        (ctype == TL_TYPE_VARCHAR && vtype == TL_TYPE_BPCHAR))
        return false;
    if (tl_type_is_text(ctype))
        return tl_type_is_text(vtype);
    return ctype == vtype;
}

bool
route_key_value(uint8_t ctype, const struct tl_value *v, struct tl_arena *a,
                struct tl_value *out)
{
    if (v->is_null)
        return false;
    if (route_key_compatible(ctype, v->type)) {
        *out = *v;
        return true;
    }
    if (!tl_type_comparable(ctype, v->type))
        return false;
    struct tl_error scratch;
    tl_error_clear(&scratch);
    if (tl_value_cast(v, ctype, -1, a, out, &scratch) != 0)
        return false;
    /* Only an exact cast: no key equals 5.5 or a timestamp past midnight
     * against a date key, and a point lookup of the rounded key would
     * read a row for nothing. */
    return !out->is_null && tl_value_cmp(out, v) == 0;
}

static bool
is_sharded(const struct tl_table *t)
{
    return t->shard_key >= 0 && t->vindex != TL_VINDEX_NONE;
}

bool
route_co_located(const struct tl_table *a, const struct tl_table *b)
{
    if (!is_sharded(a) || !is_sharded(b) || route_is_reference(a) ||
        route_is_reference(b) || a->vindex != b->vindex)
        return false;
    switch (a->vindex) {
    case TL_VINDEX_HASH:
        return true;
    case TL_VINDEX_CONSISTENT_HASH: {
        uint32_t va = a->ring_vnodes ? a->ring_vnodes : TL_RING_DEFAULT_VNODES;
        uint32_t vb = b->ring_vnodes ? b->ring_vnodes : TL_RING_DEFAULT_VNODES;
        return va == vb && a->ring_shards == b->ring_shards;
    }
    case TL_VINDEX_RANGE:
        return a->range_bounds_len == b->range_bounds_len &&
               a->n_range_shards == b->n_range_shards &&
               (a->range_bounds_len == 0 ||
                memcmp(a->range_bounds, b->range_bounds, a->range_bounds_len) ==
                    0) &&
               (a->n_range_shards == 0 ||
                memcmp(a->range_shards, b->range_shards,
                       a->n_range_shards * sizeof(uint32_t)) == 0);
    default:
        return false;
    }
}

uint32_t
route_key_shard(const struct tl_table *t, const struct tl_value *v,
                uint32_t n_shards)
{
    if (!is_sharded(t) || n_shards == 0)
        return 0;
    switch (t->vindex) {
    case TL_VINDEX_CONSISTENT_HASH:
        assert(t->ring != NULL);
        return t->ring != NULL ? tl_ring_shard(t->ring, v) : 0;
    case TL_VINDEX_RANGE:
        assert(t->range_map != NULL);
        return t->range_map != NULL ? tl_range_map_lookup(t->range_map, v) : 0;
    default:
        return tl_vindex_shard(t->vindex, v, n_shards);
    }
}

uint32_t
route_row_shard(const struct tl_table *t, const struct tl_value *row,
                uint32_t n_shards)
{
    if (!is_sharded(t))
        return 0;
    return route_key_shard(t, &row[t->shard_key], n_shards);
}

/* The column/constant pair of `col = const` (either order), with the
 * constant as a key value of that column (in @a); false otherwise. */
static bool
match_eq(const struct tl_table *t, const struct tl_expr *e, struct tl_arena *a,
         uint32_t *col, const struct tl_value **v)
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
    struct tl_value *k = tl_arena_alloc(a, sizeof(*k));
    if (!route_key_value(t->columns[l->column].type, &r->value, a, k))
        return false;
    *col = l->column;
    *v = k;
    return true;
}

/* `shard_key IN (consts)`: true with the non-NULL constants' shards added
 * to @shards (sized n_args). */
static bool
match_in(const struct tl_table *t, const struct tl_expr *e, uint32_t n_shards,
         struct tl_arena *a, uint32_t *shards, uint32_t *n_out)
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
        if (k->kind != TL_EXPR_CONST)
            return false;
        if (k->value.is_null)
            continue; /* never equal: contributes no shard */
        struct tl_value kv;
        if (!route_key_value(ctype, &k->value, a, &kv))
            return false;
        shards[n++] = route_key_shard(t, &kv, n_shards);
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
    struct tl_value *vals = tl_arena_alloc(a, in->n_args * sizeof(*vals));
    for (uint32_t i = 1; i < in->n_args; i++) {
        const struct tl_expr *k = in->args[i];
        if (k->kind != TL_EXPR_CONST)
            return;
        vals[i] = k->value;
        if (!k->value.is_null &&
            !route_key_value(ctype, &k->value, a, &vals[i]))
            return;
    }
    bool sharded = is_sharded(t);
    size_t n = in->n_args;
    out->points = tl_arena_alloc(a, n * sizeof(*out->points));
    out->point_lens = tl_arena_alloc(a, n * sizeof(size_t));
    out->point_shards = tl_arena_alloc(a, n * sizeof(uint32_t));
    struct tl_value *row = tl_arena_calloc(a, t->n_columns * sizeof(*row));
    struct tl_buf key;
    tl_buf_init(&key);
    for (uint32_t i = 1; i < in->n_args; i++) {
        const struct tl_value *v = &vals[i];
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
                                   ? route_key_shard(t, v, n_shards)
                                   : UINT32_MAX;
    }
    tl_buf_close(&key);
    sort_points(out, a);
    out->points_conj = in;
}

/* ANDs nested deeper than this are one opaque conjunct (routing may only
 * ignore restrictions, never invent them). */
#define ROUTE_MAX_AND_DEPTH 64

/* Append the AND conjuncts of @e (flattening nested ANDs) to @out. */
static void
collect_conjuncts(const struct tl_expr *e, const struct tl_expr **out,
                  uint32_t *n, uint32_t cap, int depth)
{
    if (e->kind == TL_EXPR_AND && depth <= ROUTE_MAX_AND_DEPTH) {
        for (uint32_t i = 0; i < e->n_args; i++)
            collect_conjuncts(e->args[i], out, n, cap, depth + 1);
    } else if (*n < cap) {
        out[(*n)++] = e;
    }
}

static uint32_t
count_conjuncts(const struct tl_expr *e, int depth)
{
    if (e->kind != TL_EXPR_AND || depth > ROUTE_MAX_AND_DEPTH)
        return 1;
    uint32_t n = 0;
    for (uint32_t i = 0; i < e->n_args; i++)
        n += count_conjuncts(e->args[i], depth + 1);
    return n;
}

/* `key op const` or `const op key` on the shard key with a comparison op
 * the range map can prune with: the op as seen from the key, and the
 * constant. */
static bool
match_range_cmp(const struct tl_table *t, int32_t col, const struct tl_expr *e,
                struct tl_arena *a, int *op, const struct tl_value **v)
{
    if (e->kind != TL_EXPR_OP || e->n_args != 2 || e->op < TL_OP_LT ||
        e->op > TL_OP_GE)
        return false;
    const struct tl_expr *l = e->args[0], *r = e->args[1];
    int o = e->op;
    if (l->kind != TL_EXPR_COLUMN) {
        const struct tl_expr *tmp = l;
        l = r;
        r = tmp;
        o = o == TL_OP_LT   ? TL_OP_GT
            : o == TL_OP_LE ? TL_OP_GE
            : o == TL_OP_GT ? TL_OP_LT
                            : TL_OP_LE;
    }
    if (l->kind != TL_EXPR_COLUMN || r->kind != TL_EXPR_CONST ||
        (int32_t)l->column != col)
        return false;
    uint8_t ctype = t->columns[l->column].type;
    if (!r->value.is_null && !tl_type_comparable(ctype, r->value.type))
        return false;
    /* The span is exact for a value of the key's own type; an exact cast
     * gets one (a date against a timestamptz key), else the map compares
     * across types and may keep one extra edge range. */
    struct tl_value *k = tl_arena_alloc(a, sizeof(*k));
    *op = o;
    *v = route_key_value(ctype, &r->value, a, k) ? k : &r->value;
    return true;
}

/* Mark the ranges of @m holding the shard of each kept range; set the
 * route's shards from them. */
static void
set_ranges(const struct tl_range_map *m, const bool *keep, struct tl_arena *a,
           struct route *out)
{
    size_t nr = tl_range_map_n_ranges(m);
    out->pruned = true;
    out->n_ranges = nr;
    out->kept = tl_arena_alloc(a, (nr + 1) * sizeof(uint32_t));
    out->shards = tl_arena_alloc(a, (nr + 1) * sizeof(uint32_t));
    out->n_kept = 0;
    uint32_t n = 0;
    for (size_t i = 0; i < nr; i++)
        if (keep[i]) {
            out->kept[out->n_kept++] = (uint32_t)i;
            out->shards[n++] = tl_range_map_range_shard(m, i);
        }
    out->all = false;
    out->n_shards = sort_unique(out->shards, n);
}

/* Range vindex without an equality: intersect the ranges the comparisons
 * on the key allow, or mark the ranges of an IN list's values. */
static void
route_ranges(const struct tl_table *t, const struct tl_expr **conj,
             uint32_t n_conj, const struct tl_expr *in, struct tl_arena *a,
             struct route *out)
{
    const struct tl_range_map *m = t->range_map;
    size_t nr = tl_range_map_n_ranges(m);
    bool *keep = tl_arena_calloc(a, nr * sizeof(bool));
    out->prune_conj = tl_arena_alloc(a, (n_conj + 1) * sizeof(void *));
    if (in != NULL) {
        uint8_t ctype = t->columns[t->shard_key].type;
        for (uint32_t i = 1; i < in->n_args; i++) {
            const struct tl_expr *k = in->args[i];
            struct tl_value kv;
            if (k->kind != TL_EXPR_CONST)
                return;
            if (k->value.is_null)
                continue;
            if (!route_key_value(ctype, &k->value, a, &kv))
                return;
            keep[tl_range_map_range(m, &kv)] = true;
        }
        out->prune_conj[out->n_prune_conj++] = in;
        set_ranges(m, keep, a, out);
        return;
    }
    size_t first = 0, last = nr - 1;
    bool empty = false;
    for (uint32_t i = 0; i < n_conj; i++) {
        int op;
        const struct tl_value *v;
        if (!match_range_cmp(t, t->shard_key, conj[i], a, &op, &v))
            continue;
        size_t f, l;
        out->prune_conj[out->n_prune_conj++] = conj[i];
        if (!tl_range_map_span(m, op, v, &f, &l)) {
            empty = true;
            continue;
        }
        first = f > first ? f : first;
        last = l < last ? l : last;
    }
    if (out->n_prune_conj == 0)
        return;
    for (size_t i = first; !empty && i <= last; i++)
        keep[i] = true;
    set_ranges(m, keep, a, out);
}

/* Range vindex with `key = c`: the one range holding c. */
static void
route_range_eq(const struct tl_table *t, const struct tl_expr **conj,
               uint32_t n_conj, const struct tl_value *v, struct tl_arena *a,
               struct route *out)
{
    const struct tl_range_map *m = t->range_map;
    size_t nr = tl_range_map_n_ranges(m);
    bool *keep = tl_arena_calloc(a, nr * sizeof(bool));
    keep[tl_range_map_range(m, v)] = true;
    out->prune_conj = tl_arena_alloc(a, sizeof(void *));
    for (uint32_t i = 0; i < n_conj && out->n_prune_conj == 0; i++) {
        uint32_t col;
        const struct tl_value *x;
        if (match_eq(t, conj[i], a, &col, &x) && (int32_t)col == t->shard_key)
            out->prune_conj[out->n_prune_conj++] = conj[i];
    }
    set_ranges(m, keep, a, out);
}

/* @b compared with @c/@len as keys (memcmp, then length). */
static int
buf_cmp(const struct tl_buf *b, const uint8_t *c, size_t len)
{
    size_t n = b->len < len ? b->len : len;
    int r = memcmp(b->data, c, n);
    return r != 0 ? r : (b->len > len) - (b->len < len);
}

/* Whether a conjunct bounds column @col of @t by a constant of its own
 * type (an inexact cast bounds nothing exactly): its op and value. */
static bool
match_index_bound(const struct tl_table *t, uint32_t col,
                  const struct tl_expr *e, struct tl_arena *a, int *op,
                  const struct tl_value **v)
{
    struct tl_value k;
    if (!match_range_cmp(t, (int32_t)col, e, a, op, v) || (*v)->is_null)
        return false;
    return route_key_value(t->columns[col].type, *v, a, &k) &&
           tl_value_cmp(&k, *v) == 0;
}

/* Narrow [lo, hi) (keys under @p, the index prefix and its fixed
 * columns) by the conjuncts bounding the next column @col. Whether any
 * did. */
static bool
index_bounds(const struct tl_table *t, uint32_t col,
             const struct tl_expr **conj, uint32_t n_conj, struct tl_arena *a,
             const struct tl_buf *p, struct tl_buf *lo, struct tl_buf *hi)
{
    bool any = false, have_lo = false, have_hi = false;
    struct tl_buf k;
    tl_buf_init(&k);
    for (uint32_t i = 0; i < n_conj; i++) {
        int op;
        const struct tl_value *v;
        if (!match_index_bound(t, col, conj[i], a, &op, &v))
            continue;
        tl_buf_reset(&k);
        tl_buf_append(&k, p->data, p->len);
        tl_key_encode_value(&k, v);
        /* > v and <= v: past every entry holding v itself */
        if ((op == TL_OP_GT || op == TL_OP_LE) && tl_key_prefix_end(&k) != 0)
            continue;
        if (op == TL_OP_GT || op == TL_OP_GE) {
            if (!have_lo || buf_cmp(lo, k.data, k.len) < 0) {
                tl_buf_reset(lo);
                tl_buf_append(lo, k.data, k.len);
            }
            have_lo = true;
        } else {
            if (!have_hi || buf_cmp(hi, k.data, k.len) > 0) {
                tl_buf_reset(hi);
                tl_buf_append(hi, k.data, k.len);
            }
            have_hi = true;
        }
        any = true;
    }
    tl_buf_close(&k);
    /* A bound on one side only: the other is the column's first value
     * or its NULLs (which no comparison matches). */
    if (any && !have_lo) {
        tl_buf_reset(lo);
        tl_buf_append(lo, p->data, p->len);
        tl_buf_append_u8(lo, TL_KEY_NOT_NULL);
    }
    if (any && !have_hi) {
        tl_buf_reset(hi);
        tl_buf_append(hi, p->data, p->len);
        tl_buf_append_u8(hi, TL_KEY_NULL);
    }
    return any;
}

/* Choose the valid secondary index whose leading columns @eq fixes the
 * most of, a comparison bounding the next column counting half a column
 * more (ties: the first), and its key range. */
static void
route_index(const struct tl_table *t, const struct tl_value **eq,
            const struct tl_expr **conj, uint32_t n_conj, struct tl_arena *a,
            struct route *out)
{
    const struct tl_index *best = NULL;
    uint32_t best_n = 0, best_score = 0;
    struct tl_buf p, lo, hi;
    tl_buf_init(&p);
    tl_buf_init(&lo);
    tl_buf_init(&hi);
    for (uint32_t i = 0; i < t->n_indexes; i++) {
        const struct tl_index *ix = &t->indexes[i];
        uint32_t n = 0;
        if (ix->state != TL_INDEX_VALID)
            continue;
        while (n < ix->n_cols && eq[ix->cols[n]] != NULL)
            n++;
        uint32_t score = 2 * n;
        if (n < ix->n_cols) {
            int op;
            const struct tl_value *v;
            for (uint32_t c = 0; c < n_conj && score == 2 * n; c++)
                if (match_index_bound(t, ix->cols[n], conj[c], a, &op, &v))
                    score++;
        }
        if (score > best_score) {
            best = ix;
            best_n = n;
            best_score = score;
        }
    }
    if (best != NULL) {
        tl_key_encode_prefix(&p, t->id, best->id);
        for (uint32_t i = 0; i < best_n; i++)
            tl_key_encode_value(&p, eq[best->cols[i]]);
        bool ranged =
            best_n < best->n_cols &&
            index_bounds(t, best->cols[best_n], conj, n_conj, a, &p, &lo, &hi);
        if (!ranged) {
            tl_buf_append(&lo, p.data, p.len);
            tl_buf_append(&hi, p.data, p.len);
        }
        if (ranged || tl_key_prefix_end(&hi) == 0) {
            out->ix_start = tl_arena_alloc(a, lo.len + 1);
            memcpy(out->ix_start, lo.data, lo.len);
            out->ix_start_len = lo.len;
            out->ix_end = tl_arena_alloc(a, hi.len + 1);
            memcpy(out->ix_end, hi.data, hi.len);
            out->ix_end_len = hi.len;
            out->index = best;
            out->ix_n_eq = best_n;
            out->ix_ranged = ranged;
        }
    }
    tl_buf_close(&p);
    tl_buf_close(&lo);
    tl_buf_close(&hi);
}

void
route_analyze(const struct tl_table *t, const struct tl_expr *filter,
              uint32_t n_shards, struct tl_arena *a, struct route *out)
{
    memset(out, 0, sizeof(*out));
    out->all = true;
    const struct tl_expr **conj = NULL;
    uint32_t n_conj = 0;
    if (filter != NULL) {
        uint32_t cap = count_conjuncts(filter, 0);
        conj = tl_arena_alloc(a, cap * sizeof(*conj));
        collect_conjuncts(filter, conj, &n_conj, cap, 0);
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
        if (match_eq(t, conj[i], a, &col, &v)) {
            if (eq[col] == NULL)
                eq[col] = v;
        } else if (in == NULL && conj[i]->kind == TL_EXPR_IN &&
                   conj[i]->n_args > 0 &&
                   conj[i]->args[0]->kind == TL_EXPR_COLUMN &&
                   (int32_t)conj[i]->args[0]->column == t->shard_key) {
            in = conj[i];
        }
    }
    bool range =
        is_sharded(t) && t->vindex == TL_VINDEX_RANGE && t->range_map != NULL;
    if (!is_sharded(t) || n_shards <= 1) {
        set_single(out, a, 0);
    } else if (eq[t->shard_key] != NULL && range) {
        route_range_eq(t, conj, n_conj, eq[t->shard_key], a, out);
    } else if (eq[t->shard_key] != NULL) {
        set_single(out, a, route_key_shard(t, eq[t->shard_key], n_shards));
    } else if (range) {
        route_ranges(t, conj, n_conj, in, a, out);
    } else if (in != NULL) {
        uint32_t *s = tl_arena_alloc(a, in->n_args * sizeof(uint32_t));
        uint32_t n;
        if (match_in(t, in, n_shards, a, s, &n)) {
            out->all = false;
            out->shards = s;
            out->n_shards = sort_unique(s, n);
        }
    }
    if (t->n_pk > 0)
        route_point(t, eq, a, out);
    if (!out->point && pk_in != NULL)
        route_points(t, pk_in, n_shards, a, out);
    if (!out->point && out->n_points == 0)
        route_index(t, eq, conj, n_conj, a, out);
    if (route_is_reference(t))
        out->ref = ROUTE_REF_READ;
}

bool
route_is_reference(const struct tl_table *t)
{
    return t->distribution == TL_DIST_REFERENCE;
}

uint32_t
route_reference_copy(uint32_t session_id, uint32_t n_shards)
{
    return n_shards == 0 ? 0 : session_id % n_shards;
}

void
route_reference_target(struct route *r, bool write, uint32_t copy,
                       uint32_t n_shards, struct tl_arena *a)
{
    assert(r->ref != ROUTE_REF_NONE);
    assert(write || copy < n_shards);
    r->ref = write ? ROUTE_REF_WRITE : ROUTE_REF_READ;
    /* Every point key is in every copy: UINT32_MAX ("any shard") makes a
     * write reach every copy with every key; a read asks its own copy. */
    for (size_t i = 0; i < r->n_points; i++)
        r->point_shards[i] = write ? UINT32_MAX : copy;
    if (!r->all && r->n_shards == 0)
        return;
    if (write) {
        r->all = n_shards > 1;
        r->n_shards = n_shards;
        r->shards = tl_arena_alloc(a, (n_shards + 1) * sizeof(uint32_t));
        for (uint32_t s = 0; s < n_shards; s++)
            r->shards[s] = s;
        return;
    }
    set_single(r, a, copy);
}
