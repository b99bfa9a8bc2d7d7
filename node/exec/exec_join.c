#include "node/exec/exec_join.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "common/base/sqlstate.h"
#include "keycodec.h"
#include "node/exec/exec.h"
#include "row.h"
#include "value.h"

size_t exec_join_max_bytes = 256u << 20;

enum step_mode {
    MODE_LOOKUP = 0, /* equi-join columns cover the primary key */
    MODE_PREFIX,     /* they cover a leading part of it: a key-range scan */
    MODE_HASH,       /* sorted table of rows by equi-join key */
    MODE_LOOP,       /* every row is a candidate */
};

/* One row of a built table: its key (MODE_HASH) and decoded values. */
struct entry {
    const uint8_t *key;
    size_t key_len;
    struct tl_value *vals; /* n_inner, borrowing the arena copy of the row */
};

struct step {
    struct tl_table *t; /* owned */
    bool left;
    uint32_t off;           /* first combined column of t */
    uint32_t n_keys;        /* equi-join pairs */
    uint32_t *outer;        /* combined column of each pair */
    uint32_t *inner;        /* column of t of each pair */
    struct tl_expr *on;     /* over the combined row; NULL: true */
    struct tl_expr *filter; /* over t alone; NULL: true */
    struct tl_expr *post;   /* fragment-filter conjuncts of this level */
    int mode;               /* enum step_mode */
    int *pk_pair;           /* MODE_LOOKUP, _PREFIX: pair of each pk column */
    uint32_t n_prefix;      /* MODE_PREFIX: pk columns the pairs fix */
    struct entry *e;        /* MODE_HASH (sorted by key), MODE_LOOP */
    size_t n_e;
    struct tl_value *scratch; /* MODE_LOOKUP: t's row for the key */
    struct tl_buf kbuf;
};

struct exec_join {
    struct store *st;
    struct store_cf *cf;
    struct mvcc_read view; /* how every step reads the shard */
    struct tl_arena *a;
    uint32_t n_outer;
    uint32_t n_cols;
    uint8_t *types; /* n_cols */
    struct tl_expr *outer_filter;
    struct step *steps;
    size_t n_steps;
    size_t bytes; /* held by built tables */
};

/* Whether two values of these types have the same key encoding exactly
 * when they are equal (floats are left out: -0 and 0 are equal). */
static bool
key_compatible(uint8_t a, uint8_t b)
{
    if (tl_type_is_int(a))
        return tl_type_is_int(b);
    if (tl_type_is_text(a))
        return tl_type_is_text(b);
    return a == b && !tl_type_is_float(a);
}

/* ------------------------------------------------------------ filters */

/* Highest column @e reads, or -1 when it reads none. */
static int64_t
max_column(const struct tl_expr *e)
{
    int64_t m = e->kind == TL_EXPR_COLUMN ? (int64_t)e->column : -1;
    for (uint32_t i = 0; i < e->n_args; i++) {
        int64_t c = max_column(e->args[i]);
        if (c > m)
            m = c;
    }
    return m;
}

static void
collect_conjuncts(struct tl_expr *e, struct tl_expr **out, size_t *n)
{
    if (e->kind == TL_EXPR_AND) {
        for (uint32_t i = 0; i < e->n_args; i++)
            collect_conjuncts(e->args[i], out, n);
        return;
    }
    out[(*n)++] = e;
}

static size_t
count_conjuncts(const struct tl_expr *e)
{
    if (e->kind != TL_EXPR_AND)
        return 1;
    size_t n = 0;
    for (uint32_t i = 0; i < e->n_args; i++)
        n += count_conjuncts(e->args[i]);
    return n;
}

/* The level (0: outer, k: step k-1) whose columns conjunct @e needs. */
static size_t
level_of(const struct exec_join *j, const struct tl_expr *e)
{
    int64_t m = max_column(e);
    if (m < (int64_t)j->n_outer)
        return 0;
    for (size_t k = 0; k < j->n_steps; k++) {
        const struct step *s = &j->steps[k];
        if (m < (int64_t)(s->off + s->t->n_columns))
            return k + 1;
    }
    return j->n_steps; /* unreachable: columns were checked */
}

static void
split_filter(struct exec_join *j, struct tl_expr *filter)
{
    if (filter == NULL)
        return;
    size_t n = count_conjuncts(filter);
    struct tl_expr **c = tl_arena_alloc(j->a, n * sizeof *c);
    struct tl_expr **lvl = tl_arena_alloc(j->a, n * sizeof *lvl);
    size_t got = 0;
    collect_conjuncts(filter, c, &got);
    for (size_t k = 0; k <= j->n_steps; k++) {
        uint32_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (level_of(j, c[i]) == k)
                lvl[m++] = c[i];
        struct tl_expr *e = NULL;
        if (m == 1)
            e = lvl[0];
        else if (m > 1)
            e = tl_expr_node(j->a, TL_EXPR_AND, TL_TYPE_BOOL, lvl, m);
        if (k == 0)
            j->outer_filter = e;
        else
            j->steps[k - 1].post = e;
    }
}

/* ------------------------------------------------------------ building */

static int
decode_copy(struct exec_join *j, const struct step *s, const char *val,
            size_t vlen, struct tl_value **out, struct tl_error *err)
{
    uint8_t *copy = tl_arena_alloc(j->a, vlen + 1);
    memcpy(copy, val, vlen);
    struct tl_value *v =
        tl_arena_calloc(j->a, (s->t->n_columns + 1) * sizeof *v);
    if (tl_row_decode(copy, vlen, v, s->t->n_columns, NULL) != 0)
        return tl_error_set(err, TL_ECORRUPT, TL_SQLSTATE_DATA_CORRUPTED,
                            "corrupt row in table \"%s\"", s->t->name);
    *out = v;
    return 0;
}

/* Encode the key of pairs' values taken from @vals at @cols; false when
 * one is NULL (NULL equals nothing). */
static bool
encode_key(const struct step *s, const struct tl_value *vals,
           const uint32_t *cols, struct tl_buf *out)
{
    tl_buf_reset(out);
    for (uint32_t i = 0; i < s->n_keys; i++) {
        if (vals[cols[i]].is_null)
            return false;
        tl_key_encode_value(out, &vals[cols[i]]);
    }
    return true;
}

static int
entry_cmp(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int r = n == 0 ? 0 : memcmp(a->key, b->key, n);
    if (r != 0)
        return r;
    return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

static int
too_large(struct exec_join *j, const struct step *s, struct tl_error *err)
{
    tl_error_set(err, TL_ENOMEM, TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
                 "joined table too large for a join");
    tl_error_detail(err,
                    "Joining table \"%s\" needs more than %zu bytes of "
                    "memory on the node; the limit is %zu.",
                    s->t->name, j->bytes, exec_join_max_bytes);
    return TL_ENOMEM;
}

/* Append one row of @s's table to its built table, if it passes the
 * step's own filter. */
static int
add_entry(struct exec_join *j, struct step *s, const char *val, size_t vlen,
          size_t *cap, struct tl_arena *tmp, struct tl_error *err)
{
    struct tl_value *v = NULL;
    int rv = decode_copy(j, s, val, vlen, &v, err);
    if (rv != 0)
        return rv;
    if (s->filter != NULL) {
        int pass;
        tl_arena_reset(tmp);
        rv = tl_expr_eval_pred(s->filter, v, s->t->n_columns, tmp, &pass, err);
        if (rv != 0 || !pass)
            return rv;
    }
    struct entry e = {.vals = v};
    if (s->mode == MODE_HASH) {
        if (!encode_key(s, v, s->inner, &s->kbuf))
            return 0; /* a NULL key joins nothing */
        uint8_t *k = tl_arena_alloc(j->a, s->kbuf.len + 1);
        memcpy(k, s->kbuf.data, s->kbuf.len);
        e.key = k;
        e.key_len = s->kbuf.len;
    }
    j->bytes +=
        vlen + e.key_len + s->t->n_columns * sizeof(struct tl_value) + sizeof e;
    if (j->bytes > exec_join_max_bytes)
        return too_large(j, s, err);
    if (s->n_e == *cap) {
        *cap = *cap == 0 ? 64 : *cap * 2;
        struct entry *ne = realloc(s->e, *cap * sizeof *ne);
        if (ne == NULL)
            return tl_error_set(err, TL_ENOMEM, TL_SQLSTATE_OUT_OF_MEMORY,
                                "out of memory");
        s->e = ne;
    }
    s->e[s->n_e++] = e;
    return 0;
}

/* Read the whole table of @s into its built table. */
static int
build_table(struct exec_join *j, struct step *s, struct tl_error *err)
{
    struct tl_buf start, end;
    struct tl_arena tmp;
    size_t cap = 0;
    struct mvcc_scan *sc;
    struct mvcc_row row;
    int rv = 0, got;

    tl_buf_init(&start);
    tl_buf_init(&end);
    tl_arena_init(&tmp);
    tl_table_key_range(s->t, &start, &end);
    sc = mvcc_scan_create(j->st, j->cf, start.data, start.len, end.data,
                          end.len, &j->view);
    while (rv == 0 && (got = mvcc_scan_next(sc, &row)) == MVCC_OK)
        rv = add_entry(j, s, row.val, row.val_len, &cap, &tmp, err);
    if (rv == 0 && got == MVCC_LOCKED)
        rv = exec_locked_error(err, &row.lock);
    else if (rv == 0 && got < 0)
        rv = exec_storage_error(err, "join build", tl_strerror(got));
    mvcc_scan_destroy(sc);
    tl_arena_close(&tmp);
    tl_buf_close(&start);
    tl_buf_close(&end);
    if (rv == 0 && s->mode == MODE_HASH && s->n_e > 1)
        qsort(s->e, s->n_e, sizeof *s->e, entry_cmp);
    return rv;
}

/* ------------------------------------------------------------ compiling */

static int
bad_step(struct tl_error *err, size_t k, const char *what)
{
    return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                        "join step %zu: %s", k, what);
}

/* Choose how step @s finds candidates: a point lookup when the pairs fix
 * every primary-key column, a scan of the key range when they fix its
 * first columns (a co-located sharded table joined on its shard key,
 * the first of its key: only the matching rows are read), else a built
 * table. */
static void
choose_mode(struct exec_join *j, struct step *s)
{
    s->mode = s->n_keys > 0 ? MODE_HASH : MODE_LOOP;
    if (s->n_keys == 0)
        return;
    s->pk_pair = tl_arena_alloc(j->a, (s->t->n_pk + 1) * sizeof(int));
    for (uint32_t p = 0; p < s->t->n_pk; p++) {
        s->pk_pair[p] = -1;
        for (uint32_t i = 0; i < s->n_keys; i++)
            if (s->inner[i] == s->t->pk[p])
                s->pk_pair[p] = (int)i;
        if (s->pk_pair[p] < 0) {
            if (p > 0) {
                s->mode = MODE_PREFIX;
                s->n_prefix = p;
            }
            return;
        }
    }
    s->mode = MODE_LOOKUP;
    s->scratch =
        tl_arena_calloc(j->a, (s->t->n_columns + 1) * sizeof(struct tl_value));
}

static int
compile_step(struct exec_join *j, size_t k, const Talus__JoinStep *pb,
             uint32_t off, struct tl_error *err)
{
    struct step *s = &j->steps[k];
    int rv;

    if (pb->table == NULL)
        return bad_step(err, k, "no table");
    rv = tl_table_from_proto(pb->table, &s->t, err);
    if (rv != 0)
        return rv;
    s->left = pb->has_kind && pb->kind == TALUS__JOIN_STEP__KIND__LEFT;
    s->off = off;
    tl_buf_init(&s->kbuf);
    if (pb->n_outer_cols != pb->n_inner_cols)
        return bad_step(err, k, "outer_cols and inner_cols differ in length");
    s->n_keys = (uint32_t)pb->n_outer_cols;
    s->outer = tl_arena_alloc(j->a, (s->n_keys + 1) * sizeof(uint32_t));
    s->inner = tl_arena_alloc(j->a, (s->n_keys + 1) * sizeof(uint32_t));
    for (uint32_t i = 0; i < s->n_keys; i++) {
        if (pb->outer_cols[i] >= off || pb->inner_cols[i] >= s->t->n_columns)
            return bad_step(err, k, "join column out of range");
        s->outer[i] = pb->outer_cols[i];
        s->inner[i] = pb->inner_cols[i];
        if (!key_compatible(j->types[s->outer[i]],
                            s->t->columns[s->inner[i]].type))
            return bad_step(err, k, "join columns of incompatible types");
    }
    if (pb->on != NULL) {
        rv = tl_expr_from_proto(pb->on, off + s->t->n_columns, j->a, &s->on,
                                err);
        if (rv != 0)
            return rv;
    }
    if (pb->filter != NULL) {
        rv = tl_expr_from_proto(pb->filter, s->t->n_columns, j->a, &s->filter,
                                err);
        if (rv != 0)
            return rv;
    }
    choose_mode(j, s);
    return 0;
}

int
exec_join_create(struct store *st, struct store_cf *cf,
                 const struct mvcc_read *view, const Talus__ScanFragment *sf,
                 const struct tl_table *outer, struct tl_expr *filter,
                 struct tl_arena *a, struct exec_join **out,
                 struct tl_error *err)
{
    struct exec_join *j = tl_arena_calloc(a, sizeof *j);
    int rv = 0;

    j->st = st;
    j->cf = cf;
    j->a = a;
    j->n_outer = outer->n_columns;
    j->n_steps = sf->n_joins;
    j->steps = tl_arena_calloc(a, (j->n_steps + 1) * sizeof *j->steps);
    j->view = *view;
    *out = j;
    uint32_t n = outer->n_columns;
    for (size_t k = 0; k < sf->n_joins; k++) {
        if (sf->joins[k]->table == NULL)
            return bad_step(err, k, "no table");
        n += (uint32_t)sf->joins[k]->table->n_columns;
    }
    j->types = tl_arena_calloc(a, n + 1);
    for (uint32_t i = 0; i < outer->n_columns; i++)
        j->types[i] = outer->columns[i].type;
    uint32_t off = outer->n_columns;
    for (size_t k = 0; k < sf->n_joins && rv == 0; k++) {
        rv = compile_step(j, k, sf->joins[k], off, err);
        if (rv != 0)
            break;
        const struct tl_table *t = j->steps[k].t;
        for (uint32_t i = 0; i < t->n_columns; i++)
            j->types[off + i] = t->columns[i].type;
        off += t->n_columns;
    }
    if (rv != 0)
        return rv;
    if (off != n)
        return bad_step(err, 0, "table columns do not match the description");
    j->n_cols = n;
    split_filter(j, filter);
    for (size_t k = 0; k < j->n_steps && rv == 0; k++)
        if (j->steps[k].mode == MODE_HASH || j->steps[k].mode == MODE_LOOP)
            rv = build_table(j, &j->steps[k], err);
    return rv;
}

uint32_t
exec_join_n_cols(const struct exec_join *j)
{
    return j->n_cols;
}

uint8_t
exec_join_col_type(const struct exec_join *j, uint32_t i)
{
    return j->types[i];
}

struct tl_expr *
exec_join_outer_filter(const struct exec_join *j)
{
    return j->outer_filter;
}

void
exec_join_close(struct exec_join *j)
{
    if (j == NULL)
        return;
    for (size_t k = 0; k < j->n_steps; k++) {
        tl_table_destroy(j->steps[k].t);
        tl_buf_close(&j->steps[k].kbuf);
        free(j->steps[k].e);
    }
}

/* ------------------------------------------------------------ running */

struct run {
    struct exec_join *j;
    struct tl_value *vals;
    struct tl_arena *row_a;
    exec_join_emit_fn fn;
    void *arg;
    struct tl_error *err;
};

static int run_level(struct run *r, size_t k);

static int
pred(struct run *r, const struct tl_expr *e, int *pass)
{
    *pass = 1;
    if (e == NULL)
        return 0;
    return tl_expr_eval_pred(e, r->vals, r->j->n_cols, r->row_a, pass, r->err);
}

/* The candidate's values are in place: check ON, then this level's
 * filter, then go deeper. *@matched is set when ON holds. */
static int
try_candidate(struct run *r, size_t k, bool *matched)
{
    const struct step *s = &r->j->steps[k];
    int pass;
    int rv = pred(r, s->on, &pass);
    if (rv != 0 || !pass)
        return rv;
    *matched = true;
    rv = pred(r, s->post, &pass);
    if (rv != 0 || !pass)
        return rv;
    return run_level(r, k + 1);
}

static int
place_entry(struct run *r, size_t k, const struct entry *e, bool *matched)
{
    const struct step *s = &r->j->steps[k];
    memcpy(&r->vals[s->off], e->vals, s->t->n_columns * sizeof *e->vals);
    return try_candidate(r, k, matched);
}

/* A row of step @k's table read from storage (@val/@vlen, borrowed):
 * decode it into the combined row and, if it passes the step's own
 * filter, try it as a candidate. */
static int
stored_candidate(struct run *r, size_t k, const char *val, size_t vlen,
                 bool *matched)
{
    struct step *s = &r->j->steps[k];
    const struct tl_table *t = s->t;
    uint8_t *copy = tl_arena_alloc(r->row_a, vlen + 1);
    int rv;

    memcpy(copy, val, vlen);
    if (tl_row_decode(copy, vlen, &r->vals[s->off], t->n_columns, NULL) != 0)
        return tl_error_set(r->err, TL_ECORRUPT, TL_SQLSTATE_DATA_CORRUPTED,
                            "corrupt row in table \"%s\"", t->name);
    if (s->filter != NULL) {
        int pass;
        rv = tl_expr_eval_pred(s->filter, &r->vals[s->off], t->n_columns,
                               r->row_a, &pass, r->err);
        if (rv != 0 || !pass)
            return rv;
    }
    return try_candidate(r, k, matched);
}

/* MODE_LOOKUP: read the one row the outer values name, if any. */
static int
lookup(struct run *r, size_t k, bool *matched)
{
    struct step *s = &r->j->steps[k];
    const struct tl_table *t = s->t;
    char *val;
    size_t vlen;
    int rv;

    for (uint32_t c = 0; c < t->n_columns; c++)
        s->scratch[c] = tl_value_null(t->columns[c].type);
    for (uint32_t p = 0; p < t->n_pk; p++) {
        const struct tl_value *v = &r->vals[s->outer[s->pk_pair[p]]];
        if (v->is_null)
            return 0;
        s->scratch[t->pk[p]] = *v;
    }
    tl_buf_reset(&s->kbuf);
    tl_table_row_key(t, s->scratch, &s->kbuf);
    {
        struct mvcc_lock lk;
        uint8_t *lb = NULL;
        rv = mvcc_read_get(r->j->st, r->j->cf, &r->j->view, s->kbuf.data,
                           s->kbuf.len, &val, &vlen, &lk, &lb);
        if (rv == MVCC_LOCKED)
            rv = exec_locked_error(r->err, &lk);
        else if (rv < 0)
            rv = exec_storage_error(r->err, "join lookup", tl_strerror(rv));
        free(lb);
        if (rv != 0)
            return rv;
    }
    if (val == NULL)
        return 0;
    rv = stored_candidate(r, k, val, vlen, matched);
    free(val);
    return rv;
}

/* MODE_PREFIX: the rows whose first primary-key columns equal the outer
 * values, in key order, through one iterator per step (a key encoding is
 * self-delimiting, so the encoded values are a prefix of exactly those
 * rows' keys). */
static int
prefix_scan(struct run *r, size_t k, bool *matched)
{
    struct step *s = &r->j->steps[k];
    const struct tl_table *t = s->t;
    int rv = 0;

    tl_buf_reset(&s->kbuf);
    tl_key_encode_prefix(&s->kbuf, t->id, TL_INDEX_PRIMARY);
    for (uint32_t p = 0; p < s->n_prefix; p++) {
        const struct tl_value *v = &r->vals[s->outer[s->pk_pair[p]]];
        if (v->is_null)
            return 0;
        tl_key_encode_value(&s->kbuf, v);
    }
    {
        struct mvcc_scan *sc;
        struct mvcc_row row;
        int got;
        sc = mvcc_scan_create(r->j->st, r->j->cf, s->kbuf.data, s->kbuf.len,
                              NULL, 0, &r->j->view);
        while (rv == 0 && (got = mvcc_scan_next(sc, &row)) == MVCC_OK) {
            if (row.key_len < s->kbuf.len ||
                memcmp(row.key, s->kbuf.data, s->kbuf.len) != 0)
                break;
            rv = stored_candidate(r, k, row.val, row.val_len, matched);
        }
        if (rv == 0 && got == MVCC_LOCKED && row.key_len >= s->kbuf.len &&
            memcmp(row.key, s->kbuf.data, s->kbuf.len) == 0)
            rv = exec_locked_error(r->err, &row.lock);
        else if (rv == 0 && got < 0)
            rv = exec_storage_error(r->err, "join scan", tl_strerror(got));
        mvcc_scan_destroy(sc);
    }
    return rv;
}

/* MODE_HASH: the entries whose key equals the outer row's. */
static int
probe(struct run *r, size_t k, bool *matched)
{
    struct step *s = &r->j->steps[k];
    if (!encode_key(s, r->vals, s->outer, &s->kbuf))
        return 0;
    struct entry want = {.key = s->kbuf.data, .key_len = s->kbuf.len};
    size_t lo = 0, hi = s->n_e;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (entry_cmp(&s->e[mid], &want) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    int rv = 0;
    for (size_t i = lo; rv == 0 && i < s->n_e; i++) {
        if (entry_cmp(&s->e[i], &want) != 0)
            break;
        rv = place_entry(r, k, &s->e[i], matched);
    }
    return rv;
}

static int
run_level(struct run *r, size_t k)
{
    struct exec_join *j = r->j;
    if (k == j->n_steps)
        return r->fn(r->arg);
    struct step *s = &j->steps[k];
    bool matched = false;
    int rv = 0;
    switch (s->mode) {
    case MODE_LOOKUP:
        rv = lookup(r, k, &matched);
        break;
    case MODE_PREFIX:
        rv = prefix_scan(r, k, &matched);
        break;
    case MODE_HASH:
        rv = probe(r, k, &matched);
        break;
    default:
        for (size_t i = 0; rv == 0 && i < s->n_e; i++)
            rv = place_entry(r, k, &s->e[i], &matched);
        break;
    }
    if (rv != 0 || matched || !s->left)
        return rv;
    for (uint32_t c = 0; c < s->t->n_columns; c++)
        r->vals[s->off + c] = tl_value_null(s->t->columns[c].type);
    int pass;
    rv = pred(r, s->post, &pass);
    if (rv != 0 || !pass)
        return rv;
    return run_level(r, k + 1);
}

int
exec_join_run(struct exec_join *j, struct tl_value *vals,
              struct tl_arena *row_a, exec_join_emit_fn fn, void *arg,
              struct tl_error *err)
{
    struct run r = {
        .j = j, .vals = vals, .row_a = row_a, .fn = fn, .arg = arg, .err = err};
    return run_level(&r, 0);
}
