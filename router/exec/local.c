/* local — the router-side executor for queries bound by sql/query.c:
 * joins over materialised FROM items (user tables scanned on their
 * shards, virtual catalog tables, subqueries, set-returning functions) —
 * hash joins on equality conditions, nested loops otherwise — filters,
 * hashed grouping and aggregates, DISTINCT, set operations, sorting and
 * limits, and subqueries (run once when uncorrelated, else per outer
 * row).
 *
 * Every FROM item is materialised in full-width rows (the item's columns
 * at its offset, the rest NULL), so join conditions and the WHERE clause
 * evaluate over one row layout. A user table is scanned once per
 * statement with the portable part of its filter evaluated by the shards,
 * every scan at the statement's snapshot; the rows of each virtual table
 * are generated once per statement. Memory is the statement arena, at
 * most LOCAL_MAX_BYTES (54000 beyond). */
#include "router/exec/local.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "numeric.h"
#include "router/exec/gather.h"
#include "router/plan/plan.h"
#include "router/sql/pgcat.h"
#include "router/sql/query.h"
#include "row.h"

/* A statement being run. */
struct lx {
    struct sql_stmt *st;
    struct query_ctx *ctx;
    struct tl_arena *a;
    /* Generated rows per virtual table (pgcat_find() numbers). */
    struct tl_value **vt_rows[PGCAT_MAX_TABLES];
    size_t vt_n[PGCAT_MAX_TABLES];
    bool vt_done[PGCAT_MAX_TABLES];
    /* The statement's arena: what outlives one run of a correlated
     * subquery (table scans, catalog rows, uncorrelated subqueries'
     * rows) goes here; a = pa except while such a run uses its own. */
    struct tl_arena *pa;
    size_t base_bytes; /* pa's total when the statement began */
    uint64_t n_added;  /* rows appended to any rowset */
    /* Windows over a grouped query's rows: the group of each row. */
    struct query_group **win_groups;
};

/* The most memory a router-side query may hold (its rows, groups and
 * sorted output together). */
#define LOCAL_MAX_BYTES ((size_t)256 << 20)

/* Rows: n arrays of w values. */
struct rowset {
    struct tl_value **v;
    size_t n, cap;
    uint32_t w;
};

/* Append @row to @rs: 54000 once the statement's rows pass
 * LOCAL_MAX_BYTES, and the statement's cancel and timeout are looked at
 * every 4096 rows. */
static int
budget(struct lx *x, struct tl_error *err)
{
    if ((++x->n_added & 4095) != 0)
        return 0;
    size_t used = x->pa->total - x->base_bytes;
    if (x->a != x->pa)
        used += x->a->total;
    if (used > LOCAL_MAX_BYTES)
        return tl_error_set(err, TL_ETOOBIG, TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
                            "query needs more than %d MiB of memory at the "
                            "router",
                            (int)(LOCAL_MAX_BYTES >> 20));
    int rv = sql_check_interrupts(x->st);
    if (rv != 0)
        *err = x->st->err;
    return rv;
}

static int
rs_add(struct lx *x, struct rowset *rs, struct tl_value *row,
       struct tl_error *err)
{
    int rv = budget(x, err);
    if (rv != 0)
        return rv;
    tl_arena_reserve(x->a, (void **)&rs->v, rs->n, &rs->cap, sizeof(*rs->v),
                     16);
    rs->v[rs->n++] = row;
    return 0;
}

static struct tl_value *
null_row(struct tl_arena *a, uint32_t w)
{
    struct tl_value *r = tl_arena_alloc(a, (w + 1) * sizeof(*r));
    for (uint32_t i = 0; i < w; i++)
        r[i] = tl_value_null(TL_TYPE_UNKNOWN);
    return r;
}

/* A value that outlives the scratch memory it may borrow: text (and a
 * numeric's digits) copied to @a. */
static struct tl_value
keep(struct tl_arena *a, struct tl_value v)
{
    if (!v.is_null && tl_type_has_bytes(v.type))
        v.u.s.p = tl_arena_strndup(a, v.u.s.len ? v.u.s.p : "", v.u.s.len);
    return v;
}

static bool values_equal(const struct tl_value *a, const struct tl_value *b);

static bool
rows_equal(const struct tl_value *a, const struct tl_value *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!values_equal(&a[i], &b[i]))
            return false;
    return true;
}

static uint64_t
row_hash(const struct tl_value *r, size_t w)
{
    uint64_t h = 0x243f6a8885a308d3ULL;
    for (size_t i = 0; i < w; i++)
        h = tl_value_hash(h, &r[i]);
    return h;
}

/* A hash table of rows of w values (equal as DISTINCT sees them: NULLs
 * alike), sized for the rows it will hold: open addressing, at most half
 * full. Each slot carries a number for its user (a count, an index). */
struct rowtab {
    size_t cap; /* a power of two */
    size_t w;
    const struct tl_value **rows; /* NULL: empty slot */
    uint64_t *hash;
    size_t *val;
};

static void
rowtab_init(struct lx *x, struct rowtab *t, size_t n, size_t w)
{
    t->cap = 16;
    while (t->cap < 2 * n + 2)
        t->cap *= 2;
    t->w = w;
    t->rows = tl_arena_calloc(x->a, t->cap * sizeof(*t->rows));
    t->hash = tl_arena_alloc(x->a, t->cap * sizeof(*t->hash));
    t->val = tl_arena_calloc(x->a, t->cap * sizeof(*t->val));
}

/* The slot of @row: its own (*found) or the empty one it would take. */
static size_t
rowtab_find(const struct rowtab *t, const struct tl_value *row, uint64_t h,
            bool *found)
{
    size_t j = h & (t->cap - 1);
    while (t->rows[j] != NULL) {
        if (t->hash[j] == h && rows_equal(t->rows[j], row, t->w)) {
            *found = true;
            return j;
        }
        j = (j + 1) & (t->cap - 1);
    }
    *found = false;
    return j;
}

static void
rowtab_put(struct rowtab *t, size_t j, const struct tl_value *row, uint64_t h,
           size_t val)
{
    t->rows[j] = row;
    t->hash[j] = h;
    t->val[j] = val;
}

/* Make room in @t (holding @n rows, or never initialised) for one more:
 * rehashed into twice the rows when it would pass half full. */
static void
rowtab_grow(struct lx *x, struct rowtab *t, size_t n, size_t w)
{
    if (2 * (n + 1) < t->cap)
        return;
    struct rowtab old = *t;
    rowtab_init(x, t, 2 * n + 8, w);
    for (size_t j = 0; j < old.cap; j++)
        if (old.rows != NULL && old.rows[j] != NULL) {
            bool dup;
            size_t k = rowtab_find(t, old.rows[j], old.hash[j], &dup);
            rowtab_put(t, k, old.rows[j], old.hash[j], old.val[j]);
        }
}

static int run_query(struct lx *x, struct query *q, uint64_t max_rows,
                     struct rowset *out, struct tl_error *err);

/* Where an item's rows go, one call each. @row may be a buffer its
 * producer reuses (@transient): a sink that keeps the row copies it (the
 * values it holds stay valid). A sink returns LX_STOP to end production
 * early (its LIMIT is met); producers pass it up like an error. */
#define LX_STOP 0x10000

struct sink {
    int (*put)(struct lx *x, struct query *q, struct tl_value *row,
               bool transient, void *arg, struct tl_error *err);
    void *arg;
};

static struct tl_value *
row_copy(struct lx *x, const struct tl_value *row, uint32_t w)
{
    struct tl_value *r = tl_arena_alloc(x->a, (w + 1) * sizeof(*r));
    memcpy(r, row, w * sizeof(*r));
    return r;
}

/* A sink that collects its rows into a rowset. */
static int
collect_put(struct lx *x, struct query *q, struct tl_value *row, bool transient,
            void *arg, struct tl_error *err)
{
    return rs_add(x, arg, transient ? row_copy(x, row, q->width) : row, err);
}

static int put_filtered(struct lx *x, struct query *q,
                        const struct tl_expr *filter, const struct sink *out,
                        struct tl_value *row, struct tl_error *err);

/* Pass @row of base item @f on if its pushed-down filter holds. */
static int
add_item_row(struct lx *x, struct query *q, const struct query_from *f,
             const struct sink *out, struct tl_value *row, struct tl_error *err)
{
    return put_filtered(x, q, f->filter, out, row, err);
}

/* --------------------------------------------------------- FROM items */

/* A copy of @e with its column references moved down by @offset: an
 * item's columns numbered from 0, as its shards number them. */
static struct tl_expr *
rebase(struct tl_arena *a, const struct tl_expr *e, uint32_t offset)
{
    struct tl_expr *c = tl_arena_alloc(a, sizeof(*c));
    *c = *e;
    if (e->kind == TL_EXPR_COLUMN)
        c->column = e->column - offset;
    if (e->n_args > 0) {
        c->args = tl_arena_alloc(a, e->n_args * sizeof(*c->args));
        for (uint32_t i = 0; i < e->n_args; i++)
            c->args[i] = rebase(a, e->args[i], offset);
    }
    return c;
}

static struct tl_expr *
conjunction(struct tl_arena *a, struct tl_expr **v, uint32_t n)
{
    if (n == 0)
        return NULL;
    if (n == 1)
        return v[0];
    return tl_expr_node(a, TL_EXPR_AND, TL_TYPE_BOOL, v, n);
}

struct scan_ctx {
    struct lx *x;
    struct query *q;
    struct query_from *f;
    struct tl_value *vals; /* one decoded row */
    size_t cap;
};

static int
scan_row(struct sql_stmt *st, const uint8_t *p, size_t len, void *arg)
{
    struct scan_ctx *sc = arg;
    struct query_from *f = sc->f;
    struct lx *x = sc->x;
    int rv = tl_row_decode(p, len, sc->vals, f->table->n_columns, NULL);
    if (rv != 0)
        return sql_error(st, rv, TL_SQLSTATE_DATA_CORRUPTED,
                         "corrupt row from a shard");
    if ((rv = budget(x, &st->err)) != 0)
        return rv;
    struct tl_value *r = null_row(x->a, sc->q->width);
    for (uint32_t c = 0; c < f->table->n_columns; c++) {
        struct tl_value v = keep(x->a, sc->vals[c]);
        if (v.is_null)
            v.type = f->table->columns[c].type;
        r[f->offset + c] = v;
    }
    tl_arena_reserve(x->a, (void **)&f->rows, f->n_rows, &sc->cap,
                     sizeof(*f->rows), 64);
    f->rows[f->n_rows++] = r;
    return 0;
}

static int scan_table_in(struct lx *x, struct query *q, struct query_from *f,
                         struct tl_error *err);

/* Scan user table @f on its shards, once per statement (its rows in the
 * statement's arena): the conjuncts of its filter that a node can
 * evaluate go with the scan (and route it), the rest stay in f->rest. */
static int
scan_table(struct lx *x, struct query *q, struct query_from *f,
           struct tl_error *err)
{
    struct tl_arena *run = x->a;
    x->a = x->pa;
    int rv = scan_table_in(x, q, f, err);
    x->a = run;
    return rv;
}

static int
scan_table_in(struct lx *x, struct query *q, struct query_from *f,
              struct tl_error *err)
{
    struct sql_stmt *st = x->st;
    struct tl_expr *one[1] = {f->filter};
    struct tl_expr **cs = one;
    uint32_t n = f->filter != NULL;
    if (f->filter != NULL && f->filter->kind == TL_EXPR_AND) {
        cs = f->filter->args;
        n = f->filter->n_args;
    }
    struct tl_expr **pushed = tl_arena_alloc(x->a, (n + 1) * sizeof(*pushed));
    struct tl_expr **rest = tl_arena_alloc(x->a, (n + 1) * sizeof(*rest));
    uint32_t np = 0, nr = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (tl_expr_is_portable(cs[i]))
            pushed[np++] = rebase(x->a, cs[i], f->offset);
        else
            rest[nr++] = cs[i];
    }
    f->rest = conjunction(x->a, rest, nr);
    struct plan p;
    memset(&p, 0, sizeof(p));
    p.table = f->table;
    p.filter = conjunction(x->a, pushed, np);
    plan_route(st, &p);
    Talus__ScanFragment *frag = plan_fragment(st, &p);
    struct scan_ctx sc = {.x = x, .q = q, .f = f};
    sc.vals =
        tl_arena_alloc(x->a, (f->table->n_columns + 1) * sizeof(*sc.vals));
    int rv = gather_scan(st, &p, frag, scan_row, &sc, NULL);
    if (rv != 0) {
        if (err != &st->err)
            *err = st->err;
        return rv;
    }
    f->scanned = true;
    return 0;
}

/* Pass @row (persistent) on if @filter (NULL: none) holds. */
static int
put_filtered(struct lx *x, struct query *q, const struct tl_expr *filter,
             const struct sink *out, struct tl_value *row, struct tl_error *err)
{
    if (filter != NULL) {
        int ok, rv;
        q->cur_row = row;
        if ((rv = tl_expr_eval_pred(filter, row, q->width, x->a, &ok, err)) !=
            0)
            return rv;
        if (!ok)
            return budget(x, err);
    }
    return out->put(x, q, row, false, out->arg, err);
}

/* Hashing classes: values of one class compare and hash alike. */
static int
hash_class(uint8_t t)
{
    if (tl_type_is_int(t))
        return 1;
    if (t == TL_TYPE_TEXT || t == TL_TYPE_VARCHAR)
        return 2;
    if (t == TL_TYPE_JSON)
        return 0; /* json has no equality */
    return 16 + t;
}

/* Whether @e reads only columns [lo, hi) and nothing the router alone
 * evaluates (subqueries, outer references, aggregates). */
static bool
reads_within(const struct tl_expr *e, uint32_t lo, uint32_t hi)
{
    if (e->kind == TL_EXPR_EXT)
        return false;
    if (e->kind == TL_EXPR_COLUMN)
        return e->column >= lo && e->column < hi;
    for (uint32_t i = 0; i < e->n_args; i++)
        if (!reads_within(e->args[i], lo, hi))
            return false;
    return true;
}

/* The equality conditions of join @f's ON clause between an expression
 * of its left side and one of its right side (of one hashing class):
 * their sides into @lk and @rk (st->a), their number returned. */
static size_t
join_keys(struct tl_arena *a, const struct query_from *f, struct tl_expr ***lk,
          struct tl_expr ***rk)
{
    const struct tl_expr *quals = f->quals;
    if (quals == NULL)
        return 0;
    struct tl_expr *const *cs = (struct tl_expr *const *)&quals;
    uint32_t n = 1;
    if (quals->kind == TL_EXPR_AND) {
        cs = quals->args;
        n = quals->n_args;
    }
    *lk = tl_arena_alloc(a, (n + 1) * sizeof(**lk));
    *rk = tl_arena_alloc(a, (n + 1) * sizeof(**rk));
    size_t k = 0;
    uint32_t lo = f->left->offset, lhi = lo + f->left->width;
    uint32_t ro = f->right->offset, rhi = ro + f->right->width;
    for (uint32_t i = 0; i < n; i++) {
        const struct tl_expr *c = cs[i];
        if (c->kind != TL_EXPR_OP || c->op != TL_OP_EQ || c->n_args != 2)
            continue;
        struct tl_expr *l = c->args[0], *r = c->args[1];
        if (reads_within(r, lo, lhi) && reads_within(l, ro, rhi)) {
            struct tl_expr *t = l;
            l = r;
            r = t;
        }
        if (!reads_within(l, lo, lhi) || !reads_within(r, ro, rhi))
            continue;
        int cl = hash_class(l->type), cr = hash_class(r->type);
        if (cl == 0 || cl != cr)
            continue;
        (*lk)[k] = l;
        (*rk)[k] = r;
        k++;
    }
    return k;
}

/* The values of keys @keys over @row into @out (kept in x->a): false if
 * one is NULL (such a row matches nothing). */
static int
eval_keys(struct lx *x, struct query *q, struct tl_expr **keys, size_t n,
          const struct tl_value *row, struct tl_value *out, bool *null,
          struct tl_error *err)
{
    *null = false;
    q->cur_row = row;
    for (size_t i = 0; i < n; i++) {
        int rv = tl_expr_eval(keys[i], row, q->width, x->a, &out[i], err);
        if (rv != 0)
            return rv;
        out[i] = keep(x->a, out[i]);
        *null = *null || out[i].is_null;
    }
    return 0;
}

/* A join being run: its right side materialised and hashed on the
 * equality keys (none: nested loops), the left side's rows probing it as
 * they come; ON evaluated over every candidate pair; outer joins add
 * their unmatched rows. Matches go to @out in a reused buffer. */
struct join_run {
    struct query_from *f;
    const struct rowset *r;
    const struct sink *out;
    bool *r_matched;
    struct tl_expr **lk, **rk;
    size_t nk;
    struct rowtab t;
    size_t *next; /* hash chains: row index + 1, 0 ends */
    struct tl_value *probe, *cand, *lone;
    struct tl_arena scratch; /* ON's evaluation, per candidate */
};

static int
join_begin(struct lx *x, struct query *q, struct query_from *f,
           const struct rowset *r, const struct sink *out, struct join_run *j,
           struct tl_error *err)
{
    memset(j, 0, sizeof(*j));
    j->f = f;
    j->r = r;
    j->out = out;
    j->r_matched = tl_arena_calloc(x->a, r->n + 1);
    j->nk = join_keys(x->a, f, &j->lk, &j->rk);
    j->cand = null_row(x->a, q->width);
    j->lone = null_row(x->a, q->width);
    tl_arena_init(&j->scratch);
    if (j->nk == 0)
        return 0;
    size_t nk = j->nk;
    rowtab_init(x, &j->t, r->n, nk);
    j->next = tl_arena_alloc(x->a, (r->n + 1) * sizeof(*j->next));
    j->probe = tl_arena_alloc(x->a, (nk + 1) * sizeof(*j->probe));
    for (size_t k = 0; k < r->n; k++) {
        struct tl_value *kv = tl_arena_alloc(x->a, nk * sizeof(*kv));
        bool null, found;
        int rv = eval_keys(x, q, j->rk, nk, r->v[k], kv, &null, err);
        if (rv != 0)
            return rv;
        if (null)
            continue;
        uint64_t h = row_hash(kv, nk);
        size_t s = rowtab_find(&j->t, kv, h, &found);
        /* val: the chain's head (row index + 1); next: the rest. */
        j->next[k] = found ? j->t.val[s] : 0;
        rowtab_put(&j->t, s, found ? j->t.rows[s] : kv, h, k + 1);
    }
    return 0;
}

/* A left row: its matches (or, for LEFT and FULL, itself with NULLs). */
static int
join_probe(struct lx *x, struct query *q, struct tl_value *lrow, bool transient,
           void *arg, struct tl_error *err)
{
    (void)transient;
    struct join_run *j = arg;
    struct query_from *f = j->f;
    const struct rowset *r = j->r;
    uint32_t lo = f->left->offset, lw = f->left->width;
    uint32_t ro = f->right->offset, rw = f->right->width;
    int rv = 0;
    bool matched = false;
    size_t k = 0, chain = 0;
    memcpy(j->cand + lo, lrow + lo, lw * sizeof(*j->cand));
    if (j->nk > 0) {
        bool null, found;
        rv = eval_keys(x, q, j->lk, j->nk, lrow, j->probe, &null, err);
        if (rv != 0)
            return rv;
        if (!null) {
            size_t s =
                rowtab_find(&j->t, j->probe, row_hash(j->probe, j->nk), &found);
            chain = found ? j->t.val[s] : 0;
        }
    }
    for (;;) {
        if (j->nk > 0) {
            if (chain == 0)
                break;
            k = chain - 1;
            chain = j->next[k];
        } else if (k >= r->n) {
            break;
        }
        memcpy(j->cand + ro, r->v[k] + ro, rw * sizeof(*j->cand));
        size_t this_k = k++;
        int ok = 1;
        if ((rv = budget(x, err)) != 0)
            return rv;
        if (f->quals != NULL) {
            q->cur_row = j->cand;
            rv = tl_expr_eval_pred(f->quals, j->cand, q->width, &j->scratch,
                                   &ok, err);
            tl_arena_reset(&j->scratch);
            if (rv != 0)
                return rv;
        }
        if (!ok)
            continue;
        matched = true;
        j->r_matched[this_k] = true;
        if ((rv = j->out->put(x, q, j->cand, true, j->out->arg, err)) != 0)
            return rv;
    }
    if (!matched && (f->join == QJ_LEFT || f->join == QJ_FULL)) {
        for (uint32_t c = 0; c < q->width; c++)
            j->lone[c] = tl_value_null(TL_TYPE_UNKNOWN);
        memcpy(j->lone + lo, lrow + lo, lw * sizeof(*j->lone));
        return j->out->put(x, q, j->lone, true, j->out->arg, err);
    }
    return 0;
}

/* After the last left row: RIGHT and FULL joins' unmatched right rows. */
static int
join_end(struct lx *x, struct query *q, struct join_run *j,
         struct tl_error *err)
{
    struct query_from *f = j->f;
    uint32_t ro = f->right->offset, rw = f->right->width;
    if (f->join != QJ_RIGHT && f->join != QJ_FULL)
        return 0;
    for (size_t k = 0; k < j->r->n; k++) {
        if (j->r_matched[k])
            continue;
        for (uint32_t c = 0; c < q->width; c++)
            j->lone[c] = tl_value_null(TL_TYPE_UNKNOWN);
        memcpy(j->lone + ro, j->r->v[k] + ro, rw * sizeof(*j->lone));
        int rv = j->out->put(x, q, j->lone, true, j->out->arg, err);
        if (rv != 0)
            return rv;
    }
    return 0;
}

static int item_stream(struct lx *x, struct query *q, struct query_from *f,
                       const struct sink *out, struct tl_error *err);

/* Join @f: the right side materialised, the left streamed through it. */
static int
join_stream(struct lx *x, struct query *q, struct query_from *f,
            const struct sink *out, struct tl_error *err)
{
    struct rowset r = {0};
    struct sink keep_r = {collect_put, &r};
    r.w = q->width;
    int rv = item_stream(x, q, f->right, &keep_r, err);
    if (rv != 0)
        return rv;
    struct join_run j;
    rv = join_begin(x, q, f, &r, out, &j, err);
    struct sink probe = {join_probe, &j};
    if (rv == 0)
        rv = item_stream(x, q, f->left, &probe, err);
    if (rv == 0)
        rv = join_end(x, q, &j, err);
    tl_arena_close(&j.scratch);
    return rv;
}

/* The rows of FROM item @f, each passed to @out as it is made. */
static int
item_stream(struct lx *x, struct query *q, struct query_from *f,
            const struct sink *out, struct tl_error *err)
{
    int rv = 0;
    switch (f->kind) {
    case QF_TABLE:
        if (!f->scanned && (rv = scan_table(x, q, f, err)) != 0)
            return rv;
        for (size_t i = 0; i < f->n_rows; i++)
            if ((rv = put_filtered(x, q, f->rest, out, f->rows[i], err)) != 0)
                return rv;
        return 0;
    case QF_VTABLE: {
        int vt = f->vtable;
        if (!x->vt_done[vt]) {
            pgcat_rows(x->ctx->cat, vt, x->pa, &x->vt_rows[vt], &x->vt_n[vt]);
            x->vt_done[vt] = true;
        }
        for (size_t i = 0; i < x->vt_n[vt]; i++) {
            struct tl_value *r = null_row(x->a, q->width);
            memcpy(r + f->offset, x->vt_rows[vt][i],
                   f->width * sizeof(struct tl_value));
            if ((rv = add_item_row(x, q, f, out, r, err)) != 0)
                return rv;
        }
        return 0;
    }
    case QF_WORKTABLE: {
        const struct rowset *work = f->sub->work;
        for (size_t i = 0; work != NULL && i < work->n; i++) {
            struct tl_value *r = null_row(x->a, q->width);
            memcpy(r + f->offset, work->v[i],
                   f->width * sizeof(struct tl_value));
            if ((rv = add_item_row(x, q, f, out, r, err)) != 0)
                return rv;
        }
        return 0;
    }
    case QF_SUBQUERY: {
        struct rowset sub = {0};
        rv = run_query(x, f->sub, UINT64_MAX, &sub, err);
        if (rv != 0)
            return rv;
        for (size_t i = 0; i < sub.n; i++) {
            struct tl_value *r = null_row(x->a, q->width);
            memcpy(r + f->offset, sub.v[i], f->width * sizeof(struct tl_value));
            if ((rv = add_item_row(x, q, f, out, r, err)) != 0)
                return rv;
        }
        return 0;
    }
    case QF_SRF: {
        struct tl_value args[3] = {{0}};
        for (uint32_t i = 0; i < f->n_srf_args; i++) {
            rv = tl_expr_eval(f->srf_args[i], NULL, 0, x->a, &args[i], err);
            if (rv != 0)
                return rv;
            if (args[i].is_null)
                return 0;
        }
        if (f->srf == QS_GENERATE_SERIES) {
            int64_t from = args[0].u.i, to = args[1].u.i;
            int64_t step = f->n_srf_args > 2 ? args[2].u.i : 1;
            if (step == 0)
                return tl_error_set(err, TL_EINVAL,
                                    TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                                    "step size cannot equal zero");
            for (int64_t v = from; step > 0 ? v <= to : v >= to; v += step) {
                struct tl_value *r = null_row(x->a, q->width);
                r[f->offset] = tl_value_int(f->desc->columns[0].type, v);
                if ((rv = add_item_row(x, q, f, out, r, err)) != 0)
                    return rv;
                if ((step > 0 && v > INT64_MAX - step) ||
                    (step < 0 && v < INT64_MIN - step))
                    break;
            }
            return 0;
        }
        const char **el;
        size_t *lens, n;
        rv = pgcat_array_parse(args[0].u.s.p, args[0].u.s.len, x->a, &el, &lens,
                               &n, err);
        if (rv != 0)
            return rv;
        for (size_t i = 0; i < n; i++) {
            struct tl_value *r = null_row(x->a, q->width);
            r[f->offset] = el[i] == NULL ? tl_value_null(TL_TYPE_TEXT)
                                         : tl_value_text(TL_TYPE_TEXT, el[i],
                                                         (uint32_t)lens[i]);
            if ((rv = add_item_row(x, q, f, out, r, err)) != 0)
                return rv;
        }
        return 0;
    }
    default:
        break;
    }
    return join_stream(x, q, f, out, err);
}

/* ------------------------------------------------------------ grouping */

struct agg_acc {
    int64_t count;
    int64_t isum;
    double fsum;
    bool has;
    bool sum_is_float;
    struct tl_value best;
    struct tl_buf text; /* string_agg, array_agg */
    bool bval;
    /* DISTINCT: the values so far, a hash set of 1-wide rows grown by
     * doubling (n of them). */
    struct rowtab seen;
    size_t n_seen;
    /* ORDER BY inside the call: the rows that passed FILTER, fed in
     * order when the group ends. */
    struct rowset pending;
};

struct group {
    struct query_group g;
    struct tl_value *keys;
    struct agg_acc *acc;
};

static bool
values_equal(const struct tl_value *a, const struct tl_value *b)
{
    if (a->is_null || b->is_null)
        return a->is_null && b->is_null;
    if (!tl_type_comparable(a->type, b->type))
        return false;
    return tl_value_cmp(a, b) == 0;
}

static int
agg_step(struct lx *x, struct query_agg *g, struct agg_acc *acc,
         const struct tl_value *row, uint32_t w, struct tl_error *err)
{
    struct tl_value v = tl_value_int(TL_TYPE_INT8, 1);
    int rv;
    if (g->arg != NULL) {
        if ((rv = tl_expr_eval(g->arg, row, w, x->a, &v, err)) != 0)
            return rv;
        if (v.is_null && g->kind != QA_ARRAY_AGG)
            return 0;
    }
    if (g->distinct) {
        rowtab_grow(x, &acc->seen, acc->n_seen, 1);
        bool found;
        uint64_t h = row_hash(&v, 1);
        size_t j = rowtab_find(&acc->seen, &v, h, &found);
        if (found)
            return 0;
        struct tl_value *c = tl_arena_alloc(x->a, sizeof(*c));
        *c = keep(x->a, v);
        rowtab_put(&acc->seen, j, c, h, 0);
        acc->n_seen++;
        if ((rv = budget(x, err)) != 0)
            return rv;
    }
    switch (g->kind) {
    case QA_COUNT_STAR:
    case QA_COUNT:
        acc->count++;
        break;
    case QA_SUM:
    case QA_AVG:
        acc->count++;
        if (g->type == TL_TYPE_NUMERIC) {
            /* exact: sum(bigint), sum(numeric), avg of integers/numeric */
            struct tl_value n =
                tl_type_is_int(v.type) ? tl_numeric_from_int(v.u.i, x->a) : v;
            if (acc->has &&
                (rv = tl_numeric_add(&acc->best, &n, x->a, &n, err)) != 0)
                return rv;
            acc->best = keep(x->a, n);
            acc->has = true;
        } else if (tl_type_is_float(v.type)) {
            acc->sum_is_float = true;
            acc->fsum += v.u.f;
        } else {
            if (__builtin_add_overflow(acc->isum, v.u.i, &acc->isum))
                return tl_error_set(err, TL_EOVERFLOW,
                                    TL_SQLSTATE_NUMERIC_VALUE_OUT_OF_RANGE,
                                    "bigint out of range");
            acc->fsum += (double)v.u.i;
        }
        break;
    case QA_MIN:
    case QA_MAX:
        if (!acc->has || (g->kind == QA_MIN ? tl_value_cmp(&v, &acc->best) < 0
                                            : tl_value_cmp(&v, &acc->best) > 0))
            acc->best = keep(x->a, v);
        acc->has = true;
        break;
    case QA_BOOL_AND:
        acc->bval = acc->has ? acc->bval && v.u.b : v.u.b;
        acc->has = true;
        break;
    case QA_BOOL_OR:
        acc->bval = acc->has ? acc->bval || v.u.b : v.u.b;
        acc->has = true;
        break;
    case QA_STRING_AGG: {
        struct tl_value sep;
        if ((rv = tl_expr_eval(g->sep, row, w, x->a, &sep, err)) != 0)
            return rv;
        if (acc->has && !sep.is_null)
            tl_buf_append(&acc->text, sep.u.s.p, sep.u.s.len);
        tl_buf_append(&acc->text, v.u.s.p, v.u.s.len);
        acc->has = true;
        break;
    }
    case QA_ARRAY_AGG: {
        struct tl_buf t;
        tl_buf_init(&t);
        pgcat_array_append_value(&acc->text, &v, &t, !acc->has);
        tl_buf_close(&t);
        acc->has = true;
        break;
    }
    default:
        break;
    }
    return 0;
}

/* One input row for aggregate @g: FILTER first, then straight in, or
 * kept for its ORDER BY. */
static int
agg_feed(struct lx *x, struct query_agg *g, struct agg_acc *acc,
         const struct tl_value *row, uint32_t w, struct tl_error *err)
{
    if (g->filter != NULL) {
        int ok, rv;
        if ((rv = tl_expr_eval_pred(g->filter, row, w, x->a, &ok, err)) != 0)
            return rv;
        if (!ok)
            return 0;
    }
    if (g->n_order > 0)
        return rs_add(x, &acc->pending, (struct tl_value *)row, err);
    return agg_step(x, g, acc, row, w, err);
}

struct agg_item {
    const struct tl_value *row;
    struct tl_value *keys;
    size_t pos;
};

static int
cmp_agg(const void *pa, const void *pb, void *arg)
{
    const struct query_agg *g = arg;
    const struct agg_item *a = pa, *b = pb;
    for (size_t i = 0; i < g->n_order; i++) {
        const struct tl_value *x = &a->keys[i], *y = &b->keys[i];
        if (!x->is_null && !y->is_null && !tl_type_comparable(x->type, y->type))
            continue;
        int c = tl_value_cmp_nulls(x, y, g->order[i].nulls_first);
        if (c != 0)
            return x->is_null || y->is_null || !g->order[i].desc ? c : -c;
    }
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* Feed the rows kept for @g's ORDER BY, sorted (ties in arrival order). */
static int
agg_flush(struct lx *x, struct query *q, struct query_agg *g,
          struct agg_acc *acc, struct tl_error *err)
{
    size_t n = acc->pending.n;
    if (g->n_order == 0 || n == 0)
        return 0;
    struct agg_item *items = tl_arena_alloc(x->a, n * sizeof(*items));
    for (size_t i = 0; i < n; i++) {
        items[i].row = acc->pending.v[i];
        items[i].pos = i;
        items[i].keys =
            tl_arena_alloc(x->a, g->n_order * sizeof(struct tl_value));
        q->cur_row = items[i].row;
        for (size_t k = 0; k < g->n_order; k++) {
            int rv = tl_expr_eval(g->order[k].expr, items[i].row, q->width,
                                  x->a, &items[i].keys[k], err);
            if (rv != 0)
                return rv;
        }
    }
    qsort_r(items, n, sizeof(*items), cmp_agg, g);
    for (size_t i = 0; i < n; i++) {
        q->cur_row = items[i].row;
        int rv = agg_step(x, g, acc, items[i].row, q->width, err);
        if (rv != 0)
            return rv;
    }
    return 0;
}

static struct tl_value
agg_final(struct lx *x, const struct query_agg *g, struct agg_acc *acc)
{
    struct tl_value v = tl_value_null(g->type);
    switch (g->kind) {
    case QA_COUNT_STAR:
    case QA_COUNT:
        v = tl_value_int(TL_TYPE_INT8, acc->count);
        break;
    case QA_SUM:
        if (acc->count > 0 && g->type == TL_TYPE_NUMERIC)
            v = acc->best;
        else if (acc->count > 0)
            v = g->type == TL_TYPE_FLOAT8
                    ? tl_value_float(acc->fsum)
                    : tl_value_int(TL_TYPE_INT8, acc->isum);
        break;
    case QA_AVG:
        if (acc->count > 0 && g->type == TL_TYPE_NUMERIC) {
            /* numeric_avg: the sum divided in numeric (cannot fail) */
            struct tl_value n = tl_numeric_from_int(acc->count, x->a);
            if (tl_numeric_div(&acc->best, &n, x->a, &v, NULL) != 0)
                v = tl_value_null(g->type);
        } else if (acc->count > 0) {
            v = tl_value_float(acc->fsum / (double)acc->count);
        }
        break;
    case QA_MIN:
    case QA_MAX:
        if (acc->has)
            v = acc->best;
        break;
    case QA_BOOL_AND:
    case QA_BOOL_OR:
        if (acc->has)
            v = tl_value_bool(acc->bval);
        break;
    case QA_STRING_AGG:
        if (acc->has)
            v = tl_value_text_dup(x->a, TL_TYPE_TEXT, acc->text.data,
                                  acc->text.len);
        break;
    case QA_ARRAY_AGG:
        if (acc->has) {
            char *s = tl_arena_alloc(x->a, acc->text.len + 3);
            s[0] = '{';
            memcpy(s + 1, acc->text.data, acc->text.len);
            s[acc->text.len + 1] = '}';
            s[acc->text.len + 2] = '\0';
            v = tl_value_text(TL_TYPE_TEXT, s, (uint32_t)acc->text.len + 2);
        }
        break;
    default:
        break;
    }
    tl_buf_close(&acc->text);
    return v;
}

/* A new group of @q in *@gs (growing), its key values @kv (copied). */
static struct group *
group_new(struct lx *x, struct query *q, struct group **gs, size_t *n,
          size_t *cap, const struct tl_value *row, const struct tl_value *kv,
          uint64_t set)
{
    if (*n == *cap) {
        struct group *v = tl_arena_alloc(x->a, 2 * *cap * sizeof(*v));
        memcpy(v, *gs, *n * sizeof(*v));
        *gs = v;
        *cap *= 2;
    }
    struct group *g = &(*gs)[(*n)++];
    g->g.row = row;
    g->g.set = set;
    g->keys = tl_arena_alloc(x->a, (q->n_group_keys + 1) * sizeof(*kv));
    for (size_t k = 0; k < q->n_group_keys; k++)
        g->keys[k] = kv != NULL ? keep(x->a, kv[k])
                                : tl_value_null(q->group_keys[k]->type);
    g->g.keys = g->keys;
    g->acc = tl_arena_calloc(x->a, (q->n_aggs + 1) * sizeof(*g->acc));
    for (size_t k = 0; k < q->n_aggs; k++)
        tl_buf_init(&g->acc[k].text);
    return g;
}

/* Grouping in progress: one struct group per distinct key, for each of
 * @q's grouping sets (plain GROUP BY: one set of every key), the keys a
 * set does not group by NULL; rows fed one at a time. */
struct grouping {
    struct group *gs;
    size_t n, cap;
    uint64_t all;
    const uint64_t *sets;
    size_t n_sets;
    struct rowtab *tabs; /* per set: the groups by key, val their index */
    struct tl_value *kv, *sk;
    size_t n_rows; /* rows fed */
};

static void
group_begin(struct lx *x, struct query *q, struct grouping *gp)
{
    memset(gp, 0, sizeof(*gp));
    gp->cap = 16;
    gp->gs = tl_arena_alloc(x->a, gp->cap * sizeof(*gp->gs));
    gp->all = q->n_group_keys >= 64 ? ~(uint64_t)0
                                    : ((uint64_t)1 << q->n_group_keys) - 1;
    gp->sets = q->n_sets > 0 ? q->sets : &gp->all;
    gp->n_sets = q->n_sets > 0 ? q->n_sets : 1;
    gp->kv = tl_arena_alloc(x->a, (q->n_group_keys + 1) * sizeof(*gp->kv));
    gp->sk = tl_arena_alloc(x->a, (q->n_group_keys + 1) * sizeof(*gp->sk));
    gp->tabs = tl_arena_calloc(x->a, gp->n_sets * sizeof(*gp->tabs));
}

/* Feed @row (a reused buffer when @transient) to its groups. */
static int
group_add(struct lx *x, struct query *q, struct grouping *gp,
          struct tl_value *row, bool transient, struct tl_error *err)
{
    gp->n_rows++;
    q->cur_row = row;
    for (size_t k = 0; k < q->n_group_keys; k++) {
        int rv = tl_expr_eval(q->group_keys[k], row, q->width, x->a, &gp->kv[k],
                              err);
        if (rv != 0)
            return rv;
    }
    const struct tl_value *kept = transient ? NULL : row;
    /* An aggregate with ORDER BY holds its rows until the group ends. */
    for (size_t k = 0; kept == NULL && k < q->n_aggs; k++)
        if (q->aggs[k]->n_order > 0)
            kept = row_copy(x, row, q->width);
    if (kept != NULL)
        row = (struct tl_value *)kept;
    for (size_t s = 0; s < gp->n_sets; s++) {
        for (size_t k = 0; k < q->n_group_keys; k++)
            gp->sk[k] = q->n_sets == 0 || (gp->sets[s] & ((uint64_t)1 << k))
                            ? gp->kv[k]
                            : tl_value_null(q->group_keys[k]->type);
        bool found;
        struct rowtab *t = &gp->tabs[s];
        rowtab_grow(x, t, gp->n, q->n_group_keys);
        uint64_t h = row_hash(gp->sk, q->n_group_keys);
        size_t slot = rowtab_find(t, gp->sk, h, &found);
        struct group *g;
        if (found) {
            g = &gp->gs[t->val[slot]];
        } else {
            if (kept == NULL)
                kept = row_copy(x, row, q->width);
            g = group_new(x, q, &gp->gs, &gp->n, &gp->cap, kept, gp->sk,
                          gp->sets[s]);
            rowtab_put(t, slot, g->keys, h, (size_t)(g - gp->gs));
        }
        for (size_t k = 0; k < q->n_aggs; k++) {
            int rv = agg_feed(x, q->aggs[k], &g->acc[k], row, q->width, err);
            if (rv != 0)
                return rv;
        }
    }
    return budget(x, err);
}

/* The groups, their aggregates final. */
static int
group_end(struct lx *x, struct query *q, struct grouping *gp,
          struct group **out, size_t *n_out, struct tl_error *err)
{
    /* Aggregates without GROUP BY, and each empty grouping set, make one
     * row even over no rows. */
    if (gp->n_rows == 0)
        for (size_t s = 0; s < gp->n_sets; s++)
            if (gp->sets[s] == 0 && (q->n_sets > 0 || q->n_group_keys == 0))
                group_new(x, q, &gp->gs, &gp->n, &gp->cap,
                          null_row(x->a, q->width), NULL, 0);
    for (size_t j = 0; j < gp->n; j++) {
        struct group *g = &gp->gs[j];
        g->g.results =
            tl_arena_alloc(x->a, (q->n_aggs + 1) * sizeof(*g->g.results));
        for (size_t k = 0; k < q->n_aggs; k++) {
            int rv = agg_flush(x, q, q->aggs[k], &g->acc[k], err);
            if (rv != 0)
                return rv;
            g->g.results[k] = agg_final(x, q->aggs[k], &g->acc[k]);
        }
    }
    *out = gp->gs;
    *n_out = gp->n;
    return 0;
}

/* -------------------------------------------------------------- output */

/* An output row: the targets, then the sort keys. */
static int
emit_one(struct lx *x, struct query *q, const struct tl_value *row,
         struct rowset *out, struct tl_error *err)
{
    size_t w = q->n_targets + q->n_sort + q->n_distinct_on;
    struct tl_value *o = tl_arena_alloc(x->a, (w + 1) * sizeof(*o));
    for (size_t i = 0; i < q->n_targets; i++) {
        int rv =
            tl_expr_eval(q->targets[i].expr, row, q->width, x->a, &o[i], err);
        if (rv != 0)
            return rv;
        o[i] = keep(x->a, o[i]);
    }
    for (size_t i = 0; i < q->n_sort; i++) {
        int rv = tl_expr_eval(q->sort[i].expr, row, q->width, x->a,
                              &o[q->n_targets + i], err);
        if (rv != 0)
            return rv;
        o[q->n_targets + i] = keep(x->a, o[q->n_targets + i]);
    }
    for (size_t i = 0, at = q->n_targets + q->n_sort; i < q->n_distinct_on;
         i++, at++) {
        int rv =
            tl_expr_eval(q->distinct_on[i], row, q->width, x->a, &o[at], err);
        if (rv != 0)
            return rv;
        o[at] = keep(x->a, o[at]);
    }
    return rs_add(x, out, o, err);
}

/* A row being sorted, with its arrival position (ties keep order). */
/* Output rows of @row: one, or one per element of the SELECT list's
 * set-returning functions (side by side). */
static int
emit(struct lx *x, struct query *q, const struct tl_value *row,
     struct rowset *out, struct tl_error *err)
{
    if (q->n_tsrfs == 0)
        return emit_one(x, q, row, out, err);
    size_t n = 0;
    for (size_t i = 0; i < q->n_tsrfs; i++) {
        size_t len;
        int rv = query_tsrf_length(q->tsrfs[i], row, q->width, x->a, &len, err);
        if (rv != 0)
            return rv;
        if (len > n)
            n = len;
    }
    for (size_t pos = 0; pos < n; pos++) {
        q->srf_pos = pos;
        int rv = emit_one(x, q, row, out, err);
        if (rv != 0)
            return rv;
    }
    q->srf_pos = 0;
    return 0;
}

/* A row's keys for one window: partition values, then order values. */
struct win_item {
    size_t idx;
    struct tl_value *keys;
};

static int
cmp_win(const void *pa, const void *pb, void *arg)
{
    const struct query_window *w = arg;
    const struct win_item *a = pa, *b = pb;
    for (size_t i = 0; i < w->n_part + w->n_order; i++) {
        const struct tl_value *x = &a->keys[i], *y = &b->keys[i];
        bool nf = i >= w->n_part && w->order[i - w->n_part].nulls_first;
        bool desc = i >= w->n_part && w->order[i - w->n_part].desc;
        if (!x->is_null && !y->is_null && !tl_type_comparable(x->type, y->type))
            continue;
        int c = tl_value_cmp_nulls(x, y, nf);
        if (c != 0)
            return x->is_null || y->is_null || !desc ? c : -c;
    }
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static bool
keys_equal(const struct tl_value *a, const struct tl_value *b, size_t from,
           size_t to)
{
    for (size_t i = from; i < to; i++) {
        if (a[i].is_null || b[i].is_null) {
            if (a[i].is_null != b[i].is_null)
                return false;
            continue;
        }
        if (!tl_type_comparable(a[i].type, b[i].type) ||
            tl_value_cmp(&a[i], &b[i]) != 0)
            return false;
    }
    return true;
}

/* Make row @idx of @rows the one @q's expressions read (and its group,
 * for windows over grouped rows). */
static const struct tl_value *
win_row(struct lx *x, struct query *q, const struct rowset *rows, size_t idx)
{
    q->cur_row = rows->v[idx];
    if (x->win_groups != NULL)
        q->cur_group = x->win_groups[idx];
    return rows->v[idx];
}

/* @e over the row at sorted position @i (NULL @e: NULL). */
static int
win_eval(struct lx *x, struct query *q, const struct tl_expr *e,
         const struct rowset *rows, const struct win_item *it,
         struct tl_value *out, struct tl_error *err)
{
    if (e == NULL) {
        *out = tl_value_null(TL_TYPE_UNKNOWN);
        return 0;
    }
    int rv =
        tl_expr_eval(e, win_row(x, q, rows, it->idx), q->width, x->a, out, err);
    if (rv == 0)
        *out = keep(x->a, *out);
    return rv;
}

/* A frame offset of @w over the partition's first row: a non-negative
 * bigint for ROWS and GROUPS, checked for RANGE (the bound expressions
 * apply it). */
static int
frame_offset(struct lx *x, struct query *q, const struct query_window *w,
             const struct tl_expr *e, bool start, const struct rowset *rows,
             const struct win_item *it, struct tl_value *out,
             struct tl_error *err)
{
    int rv = win_eval(x, q, e, rows, it, out, err);
    if (rv != 0)
        return rv;
    const char *which = start ? "starting" : "ending";
    if (out->is_null)
        return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_NULL_VALUE_NOT_ALLOWED,
                            "frame %s offset must not be null", which);
    struct tl_interval iv0 = {0};
    struct tl_value zero = out->type == TL_TYPE_INTERVAL
                               ? tl_value_interval(&iv0)
                               : tl_value_int(TL_TYPE_INT4, 0);
    if (tl_type_comparable(out->type, zero.type) &&
        tl_value_cmp(out, &zero) < 0) {
        if ((w->frame & QFR_RANGE) != 0)
            return tl_error_set(
                err, TL_EINVAL, TL_SQLSTATE_INVALID_PRECEDING_OR_FOLLOWING_SIZE,
                "invalid preceding or following size in window function");
        return tl_error_set(err, TL_EINVAL,
                            TL_SQLSTATE_INVALID_PRECEDING_OR_FOLLOWING_SIZE,
                            "frame %s offset must not be negative", which);
    }
    return 0;
}

/* A partition being computed: its sorted rows and peer groups. */
struct wpart {
    const struct rowset *rows;
    const struct win_item *items; /* the partition's, from position 0 */
    size_t n;
    size_t nk;      /* keys per item: partition then order */
    size_t *gid;    /* the peer group of each position */
    size_t *gstart; /* each peer group's first position; [ng] = n */
    size_t ng;
    size_t nn_lo, nn_hi; /* positions whose ORDER BY value is not NULL */
    int64_t soff, eoff;  /* ROWS, GROUPS offsets */
};

/* The first position in [lo, hi) where @past holds (it holds from some
 * position on): a binary search. */
static size_t
first_past(const struct query_window *w, const struct wpart *p, size_t lo,
           size_t hi, const struct tl_value *b, bool end)
{
    bool desc = w->order[0].desc;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct tl_value *k = &p->items[mid].keys[w->n_part];
        int c = tl_value_cmp(k, b);
        if (desc)
            c = -c;
        /* start: first key >= bound; end: first key > bound */
        bool past = end ? c > 0 : c >= 0;
        if (past)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The frame of the row at partition position @i: positions [*fs, *fe). */
static int
frame_bounds(struct lx *x, struct query *q, const struct query_window *w,
             const struct wpart *p, size_t i, size_t *fs, size_t *fe,
             struct tl_error *err)
{
    int f = w->frame;
    size_t n = p->n, g = p->gid[i];
    int64_t pos = (int64_t)i;
    size_t s = 0, e = n;
    if (f & QFR_START_CURRENT_ROW)
        s = (f & QFR_ROWS) ? i : p->gstart[g];
    if (f & QFR_END_CURRENT_ROW)
        e = (f & QFR_ROWS) ? i + 1 : p->gstart[g + 1];
    bool soff = (f & (QFR_START_OFFSET_PRECEDING | QFR_START_OFFSET_FOLLOWING));
    bool eoff = (f & (QFR_END_OFFSET_PRECEDING | QFR_END_OFFSET_FOLLOWING));
    if (f & QFR_ROWS) {
        int64_t a =
            pos + ((f & QFR_START_OFFSET_PRECEDING) ? -p->soff : p->soff);
        int64_t b =
            pos + 1 + ((f & QFR_END_OFFSET_PRECEDING) ? -p->eoff : p->eoff);
        if (soff)
            s = a < 0 ? 0 : a > (int64_t)n ? n : (size_t)a;
        if (eoff)
            e = b < 0 ? 0 : b > (int64_t)n ? n : (size_t)b;
    } else if (f & QFR_GROUPS) {
        int64_t gg = (int64_t)g, ng = (int64_t)p->ng;
        int64_t a =
            gg + ((f & QFR_START_OFFSET_PRECEDING) ? -p->soff : p->soff);
        int64_t b = gg + ((f & QFR_END_OFFSET_PRECEDING) ? -p->eoff : p->eoff);
        if (soff)
            s = a < 0 ? 0 : a >= ng ? n : p->gstart[a];
        if (eoff)
            e = b < 0 ? 0 : b >= ng ? n : p->gstart[b + 1];
    } else if (soff || eoff) {
        /* RANGE with an offset: rows whose ORDER BY value lies within it;
         * a NULL value's frame is its peers (the other NULLs). */
        const struct tl_value *k = &p->items[i].keys[w->n_part];
        struct win_item it = p->items[i];
        for (int side = 0; side < 2; side++) {
            if (!(side == 0 ? soff : eoff))
                continue;
            size_t *out = side == 0 ? &s : &e;
            if (k->is_null) {
                *out = side == 0 ? p->gstart[g] : p->gstart[g + 1];
                continue;
            }
            struct tl_value b;
            int rv = win_eval(x, q, side == 0 ? w->start_bound : w->end_bound,
                              p->rows, &it, &b, err);
            if (rv != 0)
                return rv;
            *out = first_past(w, p, p->nn_lo, p->nn_hi, &b, side == 1);
        }
    }
    *fs = s;
    *fe = e < s ? s : e;
    return 0;
}

/* Whether frame position @j is excluded for the row at @i. */
static bool
frame_excluded(const struct query_window *w, const struct wpart *p, size_t i,
               size_t j)
{
    if (w->frame & QFR_EXCLUDE_CURRENT_ROW)
        return j == i;
    if (w->frame & QFR_EXCLUDE_GROUP)
        return p->gid[j] == p->gid[i];
    if (w->frame & QFR_EXCLUDE_TIES)
        return j != i && p->gid[j] == p->gid[i];
    return false;
}

/* Window @w over one partition, sorted positions [ps, pe): peers are the
 * rows with equal ORDER BY keys (all of them without ORDER BY). */
static int
window_partition(struct lx *x, struct query *q, struct query_window *w,
                 const struct rowset *rows, const struct win_item *items,
                 size_t ps, size_t pe, size_t nk, struct tl_error *err)
{
    size_t n = pe - ps;
    struct wpart p = {.rows = rows, .items = items + ps, .n = n, .nk = nk};
    p.gid = tl_arena_alloc(x->a, (n + 1) * sizeof(*p.gid));
    p.gstart = tl_arena_alloc(x->a, (n + 2) * sizeof(*p.gstart));
    for (size_t j = 0; j < n; j++) {
        if (j == 0 ||
            (w->n_order > 0 &&
             !keys_equal(p.items[j].keys, p.items[j - 1].keys, w->n_part, nk)))
            p.gstart[p.ng++] = j;
        p.gid[j] = p.ng - 1;
    }
    p.gstart[p.ng] = n;
    p.nn_lo = 0;
    p.nn_hi = n;
    if (w->n_order > 0) {
        while (p.nn_lo < n && p.items[p.nn_lo].keys[w->n_part].is_null)
            p.nn_lo++;
        while (p.nn_hi > p.nn_lo &&
               p.items[p.nn_hi - 1].keys[w->n_part].is_null)
            p.nn_hi--;
    }
    bool framed = w->kind == QW_AGG || w->kind == QW_FIRST_VALUE ||
                  w->kind == QW_LAST_VALUE || w->kind == QW_NTH_VALUE;
    const struct tl_expr *offs[2] = {w->start_off, w->end_off};
    for (int k = 0; k < 2 && framed && n > 0; k++) {
        if (offs[k] == NULL)
            continue;
        struct tl_value v;
        int rv =
            frame_offset(x, q, w, offs[k], k == 0, rows, &p.items[0], &v, err);
        if (rv != 0)
            return rv;
        if (tl_type_is_int(v.type))
            *(k == 0 ? &p.soff : &p.eoff) = v.u.i;
    }
    /* Aggregates over frames that all start at the partition's first row
     * and exclude nothing grow one accumulator; others recompute it. */
    bool running = (w->frame & QFR_START_UNBOUNDED_PRECEDING) != 0 &&
                   (w->frame & (QFR_EXCLUDE_CURRENT_ROW | QFR_EXCLUDE_GROUP |
                                QFR_EXCLUDE_TIES)) == 0;
    struct agg_acc acc;
    memset(&acc, 0, sizeof(acc));
    tl_buf_init(&acc.text);
    size_t fed = 0;
    int64_t buckets = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t pos = (int64_t)i;
        struct tl_value v = tl_value_null(w->type);
        int rv = 0;
        size_t fs = 0, fe = 0;
        if (framed && (rv = frame_bounds(x, q, w, &p, i, &fs, &fe, err)) != 0)
            return rv;
        switch (w->kind) {
        case QW_ROW_NUMBER:
            v = tl_value_int(TL_TYPE_INT8, pos + 1);
            break;
        case QW_RANK:
            v = tl_value_int(TL_TYPE_INT8, (int64_t)p.gstart[p.gid[i]] + 1);
            break;
        case QW_DENSE_RANK:
            v = tl_value_int(TL_TYPE_INT8, (int64_t)p.gid[i] + 1);
            break;
        case QW_NTILE: {
            if (i == 0) {
                struct tl_value b;
                if ((rv = win_eval(x, q, w->args[0], rows, &p.items[0], &b,
                                   err)) != 0)
                    return rv;
                if (b.is_null) {
                    buckets = 0;
                } else if (b.u.i <= 0) {
                    return tl_error_set(
                        err, TL_EINVAL,
                        TL_SQLSTATE_INVALID_ARGUMENT_FOR_NTILE_FUNCTION,
                        "argument of ntile must be greater than zero");
                } else {
                    buckets = b.u.i;
                }
            }
            if (buckets == 0) {
                v = tl_value_null(TL_TYPE_INT4);
                break;
            }
            /* PostgreSQL: the first n % buckets buckets hold one row more
             * than the others. */
            int64_t per = (int64_t)n / buckets, extra = (int64_t)n % buckets;
            int64_t big = extra * (per + 1);
            int64_t b = pos < big ? pos / (per + 1)
                                  : extra + (per > 0 ? (pos - big) / per : 0);
            v = tl_value_int(TL_TYPE_INT4, b + 1);
            break;
        }
        case QW_LAG:
        case QW_LEAD: {
            struct tl_value off = tl_value_int(TL_TYPE_INT8, 1);
            if (w->args[1] != NULL &&
                (rv = win_eval(x, q, w->args[1], rows, &p.items[i], &off,
                               err)) != 0)
                return rv;
            if (off.is_null)
                break;
            int64_t t = w->kind == QW_LAG ? pos - off.u.i : pos + off.u.i;
            if (t >= 0 && t < (int64_t)n)
                rv = win_eval(x, q, w->args[0], rows, &p.items[t], &v, err);
            else if (w->args[2] != NULL)
                rv = win_eval(x, q, w->args[2], rows, &p.items[i], &v, err);
            break;
        }
        case QW_FIRST_VALUE:
        case QW_LAST_VALUE:
        case QW_NTH_VALUE: {
            int64_t want = 1;
            if (w->kind == QW_NTH_VALUE) {
                struct tl_value nv;
                if ((rv = win_eval(x, q, w->args[1], rows, &p.items[i], &nv,
                                   err)) != 0)
                    return rv;
                if (nv.is_null)
                    break;
                if (nv.u.i <= 0)
                    return tl_error_set(
                        err, TL_EINVAL,
                        TL_SQLSTATE_INVALID_ARGUMENT_FOR_NTH_VALUE_FUNCTION,
                        "argument of nth_value must be greater than zero");
                want = nv.u.i;
            }
            size_t hit = SIZE_MAX;
            int64_t seen = 0;
            if (w->kind == QW_LAST_VALUE) {
                for (size_t j = fe; j-- > fs && hit == SIZE_MAX;)
                    if (!frame_excluded(w, &p, i, j))
                        hit = j;
            } else {
                for (size_t j = fs; j < fe && hit == SIZE_MAX; j++)
                    if (!frame_excluded(w, &p, i, j) && ++seen == want)
                        hit = j;
            }
            if (hit != SIZE_MAX)
                rv = win_eval(x, q, w->args[0], rows, &p.items[hit], &v, err);
            break;
        }
        case QW_AGG: {
            if (!running || fe < fed) {
                tl_buf_close(&acc.text);
                memset(&acc, 0, sizeof(acc));
                tl_buf_init(&acc.text);
                fed = fs;
            }
            for (size_t j = fed; j < fe && rv == 0; j++)
                if (!frame_excluded(w, &p, i, j))
                    rv = agg_step(x, w->agg, &acc,
                                  win_row(x, q, rows, p.items[j].idx), q->width,
                                  err);
            if (rv != 0)
                return rv;
            fed = fe;
            struct agg_acc copy = acc;
            v = agg_final(x, w->agg, &copy);
            break;
        }
        default:
            break;
        }
        if (rv != 0)
            return rv;
        if (v.is_null)
            v.type = w->type;
        w->values[p.items[i].idx] = v;
    }
    tl_buf_close(&acc.text);
    return 0;
}

/* Each window function's value for every row of @rows. */
static int
compute_windows(struct lx *x, struct query *q, const struct rowset *rows,
                struct tl_error *err)
{
    for (size_t k = 0; k < q->n_windows; k++) {
        struct query_window *w = q->windows[k];
        size_t nk = w->n_part + w->n_order;
        struct win_item *items =
            tl_arena_alloc(x->a, (rows->n + 1) * sizeof(*items));
        for (size_t i = 0; i < rows->n; i++) {
            items[i].idx = i;
            items[i].keys =
                tl_arena_alloc(x->a, (nk + 1) * sizeof(struct tl_value));
            const struct tl_value *row = win_row(x, q, rows, i);
            for (size_t j = 0; j < nk; j++) {
                const struct tl_expr *e =
                    j < w->n_part ? w->part[j] : w->order[j - w->n_part].expr;
                int rv = tl_expr_eval(e, row, q->width, x->a, &items[i].keys[j],
                                      err);
                if (rv != 0)
                    return rv;
                items[i].keys[j] = keep(x->a, items[i].keys[j]);
            }
        }
        qsort_r(items, rows->n, sizeof(*items), cmp_win, w);
        w->values = tl_arena_alloc(x->a, (rows->n + 1) * sizeof(*w->values));
        int rv = 0;
        for (size_t ps = 0; ps < rows->n && rv == 0;) {
            size_t pe = ps + 1;
            while (pe < rows->n &&
                   keys_equal(items[pe].keys, items[ps].keys, 0, w->n_part))
                pe++;
            rv = window_partition(x, q, w, rows, items, ps, pe, nk, err);
            ps = pe;
        }
        if (rv != 0)
            return rv;
    }
    return 0;
}

struct sort_item {
    struct tl_value *row;
    size_t pos;
};

static int
cmp_rows(const void *pa, const void *pb, void *arg)
{
    const struct query *q = arg;
    const struct sort_item *ia = pa, *ib = pb;
    for (size_t i = 0; i < q->n_sort; i++) {
        const struct tl_value *x = &ia->row[q->n_targets + i];
        const struct tl_value *y = &ib->row[q->n_targets + i];
        if (!x->is_null && !y->is_null && !tl_type_comparable(x->type, y->type))
            continue;
        int c = tl_value_cmp_nulls(x, y, q->sort[i].nulls_first);
        /* NULL placement already follows NULLS FIRST/LAST. */
        if (c != 0)
            return x->is_null || y->is_null || !q->sort[i].desc ? c : -c;
    }
    return ia->pos < ib->pos ? -1 : ia->pos > ib->pos;
}

/* Keep the first of each set of rows equal in their @w values from
 * @from on. */
static void
dedupe(struct lx *x, struct rowset *rs, size_t from, size_t w)
{
    struct rowtab t;
    rowtab_init(x, &t, rs->n, w);
    size_t k = 0;
    for (size_t i = 0; i < rs->n; i++) {
        bool found;
        const struct tl_value *r = rs->v[i] + from;
        uint64_t h = row_hash(r, w);
        size_t j = rowtab_find(&t, r, h, &found);
        if (found)
            continue;
        rowtab_put(&t, j, r, h, 0);
        rs->v[k++] = rs->v[i];
    }
    rs->n = k;
}

/* Sort, then OFFSET and LIMIT (and @max_rows). */
static void
finish(struct lx *x, struct query *q, struct rowset *rs, uint64_t max_rows)
{
    if (q->n_sort > 0 && rs->n > 1) {
        struct sort_item *items = tl_arena_alloc(x->a, rs->n * sizeof(*items));
        for (size_t i = 0; i < rs->n; i++) {
            items[i].row = rs->v[i];
            items[i].pos = i;
        }
        qsort_r(items, rs->n, sizeof(*items), cmp_rows, q);
        for (size_t i = 0; i < rs->n; i++)
            rs->v[i] = items[i].row;
    }
    if (q->n_distinct_on > 0)
        dedupe(x, rs, q->n_targets + q->n_sort, q->n_distinct_on);
    size_t start = q->offset < rs->n ? (size_t)q->offset : rs->n;
    size_t n = rs->n - start;
    if (q->has_limit && q->limit < n)
        n = (size_t)q->limit;
    if (max_rows < n)
        n = (size_t)max_rows;
    rs->v += start;
    rs->n = n;
}

/* Add @row to growing hash set @t (of *@n rows): false if it was there. */
static bool
set_add(struct lx *x, struct rowtab *t, size_t *n, const struct tl_value *row,
        size_t w)
{
    rowtab_grow(x, t, *n, w);
    bool found;
    uint64_t h = row_hash(row, w);
    size_t j = rowtab_find(t, row, h, &found);
    if (found)
        return false;
    rowtab_put(t, j, row, h, 0);
    (*n)++;
    return true;
}

/* WITH RECURSIVE: the first term's rows, then rounds of the recursive
 * term over the round before until one adds nothing (UNION: rows seen
 * before are not added). The memory budget bounds a query that never
 * ends. */
static int
run_recursive(struct lx *x, struct query *q, uint64_t max_rows,
              struct rowset *out, struct tl_error *err)
{
    size_t w = q->n_targets;
    struct rowtab seen = {0};
    size_t n_seen = 0;
    struct rowset round = {0};
    int rv = run_query(x, q->larg, UINT64_MAX, &round, err);
    for (;;) {
        if (rv != 0)
            return rv;
        struct rowset *work = tl_arena_calloc(x->a, sizeof(*work));
        for (size_t i = 0; i < round.n; i++) {
            if (!q->setop_all && !set_add(x, &seen, &n_seen, round.v[i], w))
                continue;
            if ((rv = rs_add(x, work, round.v[i], err)) != 0 ||
                (rv = emit(x, q, round.v[i], out, err)) != 0)
                return rv;
        }
        if (work->n == 0 || out->n >= max_rows)
            break;
        q->work = work;
        struct rowset next = {0};
        rv = run_query(x, q->rarg, UINT64_MAX, &next, err);
        round = next;
    }
    q->work = NULL;
    finish(x, q, out, max_rows);
    return 0;
}

static int
run_setop(struct lx *x, struct query *q, uint64_t max_rows, struct rowset *out,
          struct tl_error *err)
{
    if (q->setop == QSET_RECURSIVE)
        return run_recursive(x, q, max_rows, out, err);
    struct rowset l = {0}, r = {0};
    int rv = run_query(x, q->larg, UINT64_MAX, &l, err);
    if (rv == 0)
        rv = run_query(x, q->rarg, UINT64_MAX, &r, err);
    if (rv != 0)
        return rv;
    size_t w = q->n_targets;
    struct rowset all = {0};
    if (q->setop == QSET_UNION) {
        for (size_t i = 0; i < l.n; i++)
            if ((rv = rs_add(x, &all, l.v[i], err)) != 0)
                return rv;
        for (size_t i = 0; i < r.n; i++)
            if ((rv = rs_add(x, &all, r.v[i], err)) != 0)
                return rv;
        if (!q->setop_all)
            dedupe(x, &all, 0, w);
    } else {
        /* Each right row counted once per copy: INTERSECT ALL keeps a left
         * row while copies remain (min(m, n) of each), EXCEPT ALL drops it
         * while they remain (max(m - n, 0)); without ALL, presence alone
         * decides and duplicates go. */
        bool inter = q->setop == QSET_INTERSECT;
        struct rowtab t;
        rowtab_init(x, &t, r.n, w);
        for (size_t i = 0; i < r.n; i++) {
            bool found;
            uint64_t h = row_hash(r.v[i], w);
            size_t j = rowtab_find(&t, r.v[i], h, &found);
            if (found)
                t.val[j]++;
            else
                rowtab_put(&t, j, r.v[i], h, 1);
        }
        for (size_t i = 0; i < l.n; i++) {
            bool found;
            size_t j = rowtab_find(&t, l.v[i], row_hash(l.v[i], w), &found);
            bool in_right = found && t.val[j] > 0;
            if (in_right && q->setop_all)
                t.val[j]--;
            if (in_right == inter)
                if ((rv = rs_add(x, &all, l.v[i], err)) != 0)
                    return rv;
        }
        if (!q->setop_all)
            dedupe(x, &all, 0, w);
    }
    /* Evaluate the sort keys over the combined rows. */
    for (size_t i = 0; i < all.n; i++) {
        rv = emit(x, q, all.v[i], out, err);
        if (rv != 0)
            return rv;
    }
    finish(x, q, out, max_rows);
    return 0;
}

/* How run_query() takes the rows WHERE keeps. */
enum rq_mode {
    RQ_EMIT = 0, /* straight to the output */
    RQ_GROUP,    /* into the groups */
    RQ_KEEP,     /* kept, for window functions */
};

struct rq {
    int mode; /* enum rq_mode */
    struct rowset kept;
    struct grouping gp;
    struct rowset *out;
    uint64_t need;      /* RQ_EMIT: output rows that end production */
    struct rowtab seen; /* RQ_EMIT with DISTINCT: the rows output */
    size_t n_seen;
    struct tl_arena scratch; /* WHERE's evaluation, per row */
};

static int
rq_put(struct lx *x, struct query *q, struct tl_value *row, bool transient,
       void *arg, struct tl_error *err)
{
    struct rq *r = arg;
    int rv;
    if (q->where != NULL) {
        int ok;
        q->cur_row = row;
        rv = tl_expr_eval_pred(q->where, row, q->width, &r->scratch, &ok, err);
        tl_arena_reset(&r->scratch);
        if (rv != 0)
            return rv;
        if (!ok)
            return budget(x, err);
    }
    if (r->mode == RQ_KEEP)
        return rs_add(x, &r->kept, transient ? row_copy(x, row, q->width) : row,
                      err);
    if (r->mode == RQ_GROUP)
        return group_add(x, q, &r->gp, row, transient, err);
    size_t before = r->out->n;
    q->cur_row = row;
    if ((rv = emit(x, q, row, r->out, err)) != 0)
        return rv;
    if (q->distinct) {
        size_t k = before;
        for (size_t i = before; i < r->out->n; i++)
            if (set_add(x, &r->seen, &r->n_seen, r->out->v[i], q->n_targets))
                r->out->v[k++] = r->out->v[i];
        r->out->n = k;
    }
    return r->out->n >= r->need ? LX_STOP : 0;
}

static int
run_query(struct lx *x, struct query *q, uint64_t max_rows, struct rowset *out,
          struct tl_error *err)
{
    int rv = sql_check_interrupts(x->st);
    if (rv != 0) {
        *err = x->st->err;
        return rv;
    }
    out->w = (uint32_t)(q->n_targets + q->n_sort + q->n_distinct_on);
    if (q->setop != QSET_NONE)
        return run_setop(x, q, max_rows, out, err);
    /* The rows WHERE keeps go on as they come: into the groups, straight
     * out (DISTINCT hashed as it goes, production ending once a LIMIT
     * without ORDER BY has its rows), or kept for window functions. */
    struct rq r;
    memset(&r, 0, sizeof(r));
    r.out = out;
    r.need = UINT64_MAX;
    if (q->grouped) {
        r.mode = RQ_GROUP;
        group_begin(x, q, &r.gp);
    } else if (q->n_windows > 0) {
        r.mode = RQ_KEEP;
    } else {
        r.mode = RQ_EMIT;
        if (q->n_sort == 0 && q->n_distinct_on == 0) {
            uint64_t lim =
                q->has_limit && q->limit < max_rows ? q->limit : max_rows;
            r.need =
                lim > UINT64_MAX - q->offset ? UINT64_MAX : q->offset + lim;
        }
    }
    tl_arena_init(&r.scratch);
    struct sink in = {rq_put, &r};
    int open = 1;
    if (q->gate != NULL) {
        /* One-time conditions first: when false, no row is made (nor
         * anything a row's conditions would have raised). */
        q->cur_row = null_row(x->a, q->width);
        rv = tl_expr_eval_pred(q->gate, q->cur_row, q->width, &r.scratch, &open,
                               err);
        tl_arena_reset(&r.scratch);
    }
    if (rv == 0 && open)
        rv = q->from == NULL
                 ? rq_put(x, q, null_row(x->a, q->width), false, &r, err)
                 : item_stream(x, q, q->from, &in, err);
    tl_arena_close(&r.scratch);
    if (rv == LX_STOP)
        rv = 0;
    if (rv != 0)
        return rv;
    if (r.mode == RQ_KEEP) {
        if ((rv = compute_windows(x, q, &r.kept, err)) != 0)
            return rv;
        for (size_t i = 0; i < r.kept.n; i++) {
            q->cur_row = r.kept.v[i];
            q->cur_index = i;
            if ((rv = emit(x, q, r.kept.v[i], out, err)) != 0)
                return rv;
        }
    } else if (r.mode == RQ_GROUP) {
        struct group *gs;
        size_t n;
        if ((rv = group_end(x, q, &r.gp, &gs, &n, err)) != 0)
            return rv;
        /* The groups HAVING keeps: the rows windows run over. */
        struct rowset grows = {0};
        struct query_group **grp = tl_arena_alloc(x->a, (n + 1) * sizeof(*grp));
        for (size_t i = 0; i < n; i++) {
            q->cur_group = &gs[i].g;
            q->cur_row = gs[i].g.row;
            int ok = 1;
            if (q->having != NULL &&
                (rv = tl_expr_eval_pred(q->having, gs[i].g.row, q->width, x->a,
                                        &ok, err)) != 0)
                return rv;
            if (!ok)
                continue;
            grp[grows.n] = &gs[i].g;
            if ((rv = rs_add(x, &grows, (struct tl_value *)gs[i].g.row, err)) !=
                0)
                return rv;
        }
        if (q->n_windows > 0) {
            x->win_groups = grp;
            rv = compute_windows(x, q, &grows, err);
            x->win_groups = NULL;
            if (rv != 0)
                return rv;
        }
        for (size_t i = 0; i < grows.n; i++) {
            q->cur_group = grp[i];
            q->cur_row = grows.v[i];
            q->cur_index = i;
            if ((rv = emit(x, q, grows.v[i], out, err)) != 0)
                return rv;
        }
        q->cur_group = NULL;
    }
    q->cur_row = NULL;
    if (q->distinct && r.mode != RQ_EMIT)
        dedupe(x, out, 0, q->n_targets);
    finish(x, q, out, max_rows);
    return 0;
}

/* --------------------------------------------------------- subqueries */

/* The hash set of an uncorrelated subquery's values for x = ANY: */
struct any_set {
    struct rowtab t;
    bool has_null; /* the subquery gave a NULL */
    int class;     /* of its values' type (-1: mixed, not hashed) */
};

/* x = ANY (subquery) over its kept rows @rs through a hash set built on
 * first use: true if x is there, else NULL if the subquery gave a NULL,
 * else false; 0 with nothing in *@out when the types do not hash alike
 * (the caller compares one by one). */
static int
any_hashed(struct lx *x, struct query_sublink *sl, const struct rowset *rs,
           const struct tl_value *test, struct tl_value *out)
{
    struct any_set *as = sl->set;
    if (as == NULL) {
        as = tl_arena_calloc(x->a, sizeof(*as));
        as->class = -2;
        rowtab_init(x, &as->t, rs->n, 1);
        for (size_t i = 0; i < rs->n; i++) {
            const struct tl_value *v = &rs->v[i][0];
            if (v->is_null) {
                as->has_null = true;
                continue;
            }
            int c = hash_class(v->type);
            as->class = as->class == -2 || as->class == c ? c : -1;
            bool found;
            uint64_t h = row_hash(v, 1);
            size_t j = rowtab_find(&as->t, v, h, &found);
            if (!found)
                rowtab_put(&as->t, j, v, h, 0);
        }
        sl->set = as;
    }
    int c = hash_class(test->type);
    if (c == 0 || (as->class >= 0 && as->class != c) || as->class == -1)
        return 1;
    bool found = false;
    if (as->class >= 0)
        rowtab_find(&as->t, test, row_hash(test, 1), &found);
    *out = found          ? tl_value_bool(true)
           : as->has_null ? tl_value_null(TL_TYPE_BOOL)
                          : tl_value_bool(false);
    return 0;
}

static int sublink_result(struct query_sublink *sl, const struct tl_expr *e,
                          const struct tl_value *testp, struct tl_arena *a,
                          struct tl_value *out, struct tl_error *err);

static int
run_sublink(struct query_sublink *sl, const struct tl_expr *e,
            const struct tl_value *row, size_t n_cols, struct tl_arena *a,
            struct tl_value *out, struct tl_error *err)
{
    struct lx *x = sl->run_arg;
    struct tl_value test = tl_value_null(TL_TYPE_UNKNOWN);
    int rv;
    if (e->n_args > 0 &&
        (rv = tl_expr_eval(e->args[0], row, n_cols, a, &test, err)) != 0)
        return rv;
    if (sl->q->correlated) {
        /* Run per outer row: in an arena of its own, freed once the
         * result is taken, so a statement's memory does not grow with
         * its outer rows. */
        struct tl_arena *outer = x->a, run;
        tl_arena_init(&run);
        x->a = &run;
        rv = sublink_result(sl, e, &test, a, out, err);
        x->a = outer;
        tl_arena_close(&run);
        return rv;
    }
    /* The same rows for every outer row: computed once and kept in the
     * statement's arena. */
    struct tl_arena *run = x->a;
    x->a = x->pa;
    rv = sublink_result(sl, e, &test, a, out, err);
    x->a = run;
    return rv;
}

/* The value of subquery expression @e (@test its left operand) over its
 * query's rows, run now or kept from an earlier run. */
static int
sublink_result(struct query_sublink *sl, const struct tl_expr *e,
               const struct tl_value *testp, struct tl_arena *a,
               struct tl_value *out, struct tl_error *err)
{
    struct lx *x = sl->run_arg;
    struct tl_value test = *testp;
    int rv;
    struct rowset rs = {0};
    uint64_t max = sl->kind == QL_EXISTS   ? 1
                   : sl->kind == QL_SCALAR ? 2
                                           : UINT64_MAX;
    if (sl->done) {
        rs = *(struct rowset *)sl->rows;
    } else {
        if ((rv = run_query(x, sl->q, max, &rs, err)) != 0)
            return rv;
        if (!sl->q->correlated) {
            struct rowset *keep_rs = tl_arena_alloc(x->a, sizeof(*keep_rs));
            *keep_rs = rs;
            sl->rows = keep_rs;
            sl->done = true;
        }
    }
    if (sl->kind == QL_ANY && sl->op == TL_OP_EQ && sl->done && !test.is_null &&
        rs.n > 8 && any_hashed(x, sl, &rs, &test, out) == 0)
        return 0;
    switch (sl->kind) {
    case QL_EXISTS:
        *out = tl_value_bool(rs.n > 0);
        return 0;
    case QL_SCALAR:
        if (rs.n > 1)
            return tl_error_set(err, TL_EINVAL,
                                TL_SQLSTATE_CARDINALITY_VIOLATION,
                                "more than one row returned by a subquery "
                                "used as an expression");
        *out = rs.n == 0 ? tl_value_null(e->type) : keep(a, rs.v[0][0]);
        if (out->is_null)
            out->type = e->type;
        return 0;
    case QL_ARRAY: {
        struct tl_buf b, t;
        tl_buf_init(&b);
        tl_buf_init(&t);
        tl_buf_append_u8(&b, '{');
        for (size_t i = 0; i < rs.n; i++)
            pgcat_array_append_value(&b, &rs.v[i][0], &t, i == 0);
        tl_buf_append_u8(&b, '}');
        *out = tl_value_text_dup(a, TL_TYPE_TEXT, b.data, b.len);
        tl_buf_close(&b);
        tl_buf_close(&t);
        return 0;
    }
    default: {
        bool all = sl->kind == QL_ALL;
        bool saw_null = false;
        if (test.is_null) {
            *out = rs.n == 0 ? tl_value_bool(all) : tl_value_null(TL_TYPE_BOOL);
            return 0;
        }
        struct tl_expr *l = tl_expr_column(a, 0, test.type);
        struct tl_expr *r = tl_expr_column(a, 1, test.type);
        struct tl_expr *cmp = tl_expr_op(a, sl->op, TL_TYPE_BOOL, l, r);
        for (size_t i = 0; i < rs.n; i++) {
            struct tl_value pair[2] = {test, rs.v[i][0]}, res;
            if ((rv = tl_expr_eval(cmp, pair, 2, a, &res, err)) != 0)
                return rv;
            if (res.is_null) {
                saw_null = true;
                continue;
            }
            if (res.u.b != all) {
                *out = tl_value_bool(!all);
                return 0;
            }
        }
        *out = saw_null ? tl_value_null(TL_TYPE_BOOL) : tl_value_bool(all);
        return 0;
    }
    }
}

/* ------------------------------------------------------------ EXPLAIN */

struct plan_lines {
    const char **v;
    size_t n, cap;
};

static void
add_line(struct sql_stmt *st, struct plan_lines *pl, int depth,
         const char *text)
{
    tl_arena_reserve(st->a, (void **)&pl->v, pl->n, &pl->cap, sizeof(*pl->v),
                     16);
    pl->v[pl->n++] =
        tl_arena_printf(st->a, "%*s%s%s", depth > 0 ? 2 + 6 * (depth - 1) : 0,
                        "", depth > 0 ? "->  " : "", text);
}

static void explain_query(struct sql_stmt *st, const struct query *q,
                          struct plan_lines *pl, int depth);

static void
explain_from(struct sql_stmt *st, const struct query_from *f,
             struct plan_lines *pl, int depth)
{
    static const char *const joins[] = {"Nested Loop", "Nested Loop Left Join",
                                        "Nested Loop Right Join",
                                        "Nested Loop Full Join"};
    static const char *const hashed[] = {"Hash Join", "Hash Left Join",
                                         "Hash Right Join", "Hash Full Join"};
    const char *filtered = f->filter != NULL ? " (filtered)" : "";
    struct tl_expr **lk, **rk;
    switch (f->kind) {
    case QF_TABLE:
        add_line(st, pl, depth,
                 tl_arena_printf(st->a, "Shard Scan on %s%s", f->table->name,
                                 filtered));
        return;
    case QF_VTABLE:
        add_line(st, pl, depth,
                 tl_arena_printf(st->a, "Catalog Scan on %s%s", f->desc->name,
                                 filtered));
        return;
    case QF_WORKTABLE:
        add_line(st, pl, depth,
                 tl_arena_printf(st->a, "WorkTable Scan on %s%s", f->desc->name,
                                 filtered));
        return;
    case QF_SUBQUERY:
        add_line(st, pl, depth,
                 tl_arena_printf(st->a, "Subquery Scan on %s%s", f->desc->name,
                                 filtered));
        explain_query(st, f->sub, pl, depth + 1);
        return;
    case QF_SRF:
        add_line(st, pl, depth,
                 tl_arena_printf(st->a, "Function Scan on %s%s",
                                 f->srf == QS_GENERATE_SERIES
                                     ? "generate_series"
                                     : "unnest",
                                 filtered));
        return;
    default:
        add_line(st, pl, depth,
                 tl_arena_printf(st->a, "%s%s",
                                 join_keys(st->a, f, &lk, &rk) > 0
                                     ? hashed[f->join & 3]
                                     : joins[f->join & 3],
                                 f->quals != NULL ? " (with condition)" : ""));
        explain_from(st, f->left, pl, depth + 1);
        explain_from(st, f->right, pl, depth + 1);
        return;
    }
}

/* The operators of @q, outermost first, as EXPLAIN shows them. */
static void
explain_query(struct sql_stmt *st, const struct query *q, struct plan_lines *pl,
              int depth)
{
    static const char *const setops[] = {"", "Append (UNION)", "Intersect",
                                         "Except", "Recursive Union"};
    if (q->has_limit || q->offset > 0) {
        add_line(st, pl, depth, "Limit");
        depth++;
    }
    if (q->n_sort > 0) {
        add_line(st, pl, depth,
                 tl_arena_printf(st->a, "Sort (%zu key%s)", q->n_sort,
                                 q->n_sort == 1 ? "" : "s"));
        depth++;
    }
    if (q->distinct) {
        add_line(st, pl, depth, "Unique");
        depth++;
    }
    if (q->setop != QSET_NONE) {
        add_line(st, pl, depth,
                 setops[q->setop <= QSET_RECURSIVE ? q->setop : 0]);
        explain_query(st, q->larg, pl, depth + 1);
        explain_query(st, q->rarg, pl, depth + 1);
        return;
    }
    if (q->n_windows > 0) {
        add_line(st, pl, depth, "WindowAgg");
        depth++;
    }
    if (q->grouped) {
        add_line(st, pl, depth,
                 q->n_group_keys > 0 ? "HashAggregate" : "Aggregate");
        depth++;
    }
    if (q->n_tsrfs > 0) {
        add_line(st, pl, depth, "ProjectSet");
        depth++;
    }
    if (q->where != NULL) {
        add_line(st, pl, depth, "Filter");
        depth++;
    }
    if (q->from == NULL)
        add_line(st, pl, depth, "Result");
    else
        explain_from(st, q->from, pl, depth);
}

static int
explain_local(struct sql_stmt *st, const struct query *q, bool ctx_reads_tables)
{
    struct plan_lines pl = {0};
    add_line(st, &pl, 0,
             ctx_reads_tables ? "Router Query (runs at the router over rows "
                                "the shards send)"
                              : "Router Query (runs at the router, no shard)");
    explain_query(st, q, &pl, 1);
    sql_send_text_rows(st, "QUERY PLAN", pl.v, pl.n, "EXPLAIN");
    return 0;
}

/* ---------------------------------------------------------- statement */

int
local_select(struct sql_stmt *st, const PgQuery__SelectStmt *ss, bool explain)
{
    struct pgcat *cat = tl_arena_calloc(st->a, sizeof(*cat));
    struct query_ctx *ctx = tl_arena_calloc(st->a, sizeof(*ctx));
    ctx->cat = cat;
    int rv = pgcat_open(st, cat);
    if (rv != 0)
        return rv;
    struct query *q;
    if ((rv = query_bind(st, ctx, ss, &q)) != 0)
        return rv;
    if (explain)
        return explain_local(st, q, ctx->reads_tables);
    struct dest_column *cols =
        tl_arena_calloc(st->a, (q->n_targets + 1) * sizeof(*cols));
    for (size_t i = 0; i < q->n_targets; i++) {
        cols[i].name = q->targets[i].name;
        cols[i].type = q->targets[i].type;
        cols[i].typmod = q->targets[i].typmod;
    }
    if ((rv = dest_startup(st->dest, cols, q->n_targets)) != 0 ||
        st->describe_only)
        return rv;
    /* Every scan of the statement reads one snapshot. */
    st->snapshot_always = ctx->reads_tables;
    struct lx *x = tl_arena_calloc(st->a, sizeof(*x));
    x->st = st;
    x->ctx = ctx;
    x->a = st->a;
    x->base_bytes = st->a->total;
    x->pa = x->a;
    for (size_t i = 0; i < ctx->n_sublinks; i++) {
        ctx->sublinks[i]->run = run_sublink;
        ctx->sublinks[i]->run_arg = x;
    }
    struct rowset rs = {0};
    if ((rv = run_query(x, q, UINT64_MAX, &rs, &st->err)) != 0)
        return rv;
    uint64_t sent = 0;
    for (size_t i = 0; i < rs.n && !st->dest->stop; i++) {
        if ((rv = dest_row(st->dest, rs.v[i], q->n_targets)) != 0)
            return rv;
        sent++;
    }
    char tag[48];
    snprintf(tag, sizeof(tag), "SELECT %llu", (unsigned long long)sent);
    dest_complete(st->dest, tag);
    return 0;
}
