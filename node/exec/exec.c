#include "node/exec/exec.h"

#include "node/store/mvcc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "buf.h"
#include "common/base/sqlstate.h"
#include "expr.h"
#include "log.h"
#include "node/exec/exec_join.h"
#include "row.h"
#include "secindex.h"
#include "table.h"
#include "value.h"

/* What one scan needs, compiled once from the fragment. */
struct scan_ctx {
    struct store *st;
    struct store_cf *cf;
    struct mvcc_read view; /* how the scan reads the shard */
    const Talus__ScanFragment *sf;
    /* The ranges scanned: sf's, or the whole table when sf reads an
     * index this snapshot may not use (index_id then 0). */
    Talus__KeyRange **ranges;
    size_t n_ranges;
    uint32_t index_id; /* the ranges are this index's entries (0: rows) */
    struct tl_table *t;
    struct tl_expr *filter;
    struct tl_expr **order; /* n_order sort expressions */
    const Talus__SortKey *const *order_pb;
    size_t n_order;
    bool *keep;                /* projection: columns kept, NULL = all */
    struct tl_arena *a;        /* request arena: compiled trees, results */
    struct tl_arena row_a;     /* reset per row */
    struct tl_value *vals;     /* decoded current row: n_cols */
    struct tl_value *out_vals; /* the projected copy of vals */
    uint32_t n_cols;           /* table columns, + joined tables' with joins */
    struct exec_join *join;    /* NULL: no joins */
    struct tl_error *err;
    const struct exec_limits *lim; /* NULL: no time limits */
    bool pageable;                 /* may end a page on time (plain) */
    uint64_t n_visited;            /* rows read from storage */
    bool cut;                      /* page ended on time after cut_key */
    ProtobufCBinaryData cut_key;   /* in the arena */
    /* SELECT ... FOR UPDATE (exec_lock): what a row another transaction
     * locks does to the scan (Talus__ModifyFragment__LockWait). */
    bool locking;
    int lock_wait;
    bool lock_dry_run; /* select the rows, lock none */
    /* The key of the row whose lock stopped a modify or row lock (in the
     * arena; len 0: none): its waiter queues there (lock_queue.h). */
    ProtobufCBinaryData locked_key;
};

/* Called for each row passing the filter; 0 continue, 1 stop, <0 error. */
typedef int (*row_fn)(struct scan_ctx *c, const char *key, size_t klen,
                      const char *val, size_t vlen, void *arg);

int64_t
exec_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
exec_storage_error(struct tl_error *err, const char *what, const char *msg)
{
    tl_error_set(err, TL_EIO, TL_SQLSTATE_INTERNAL_ERROR,
                 "storage error during %s", what);
    tl_error_detail(err, "%s", msg);
    return TL_EIO;
}

/* ------------------------------------------------------------ setup */

static int
compile_order(struct scan_ctx *c)
{
    const Talus__ScanFragment *sf = c->sf;
    c->n_order = sf->n_order;
    c->order_pb = (const Talus__SortKey *const *)sf->order;
    if (c->n_order == 0)
        return 0;
    c->order = tl_arena_calloc(c->a, c->n_order * sizeof *c->order);
    for (size_t i = 0; i < c->n_order; i++) {
        int rv = tl_expr_from_proto(sf->order[i]->expr, c->n_cols, c->a,
                                    &c->order[i], c->err);
        if (rv != 0)
            return rv;
    }
    return 0;
}

static int
compile_projection(struct scan_ctx *c)
{
    const Talus__ScanFragment *sf = c->sf;
    if (sf->n_projection == 0)
        return 0;
    c->keep = tl_arena_calloc(c->a, c->n_cols * sizeof *c->keep);
    for (size_t i = 0; i < sf->n_projection; i++) {
        if (sf->projection[i] >= c->n_cols)
            return tl_error_set(
                c->err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                "projection column %u out of range", sf->projection[i]);
        c->keep[sf->projection[i]] = true;
    }
    return 0;
}

static ProtobufCBinaryData arena_bytes(struct tl_arena *a, const void *p,
                                       size_t len);

/* The ranges the scan reads: the fragment's, unless they are entries of
 * an index the scan's snapshot is older than (a transaction that began
 * before CREATE INDEX ended, or time travel): its entries could miss
 * rows that snapshot sees, so the whole table is read (the filter holds
 * every condition). */
static int
choose_ranges(struct scan_ctx *c)
{
    const Talus__ScanFragment *sf = c->sf;
    c->ranges = sf->ranges;
    c->n_ranges = sf->n_ranges;
    c->index_id = sf->index_id;
    if (sf->index_id == 0)
        return 0;
    const struct tl_index *ix = tl_table_index_by_id(c->t, sf->index_id);
    if (ix == NULL || sf->n_joins > 0)
        return tl_error_set(c->err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                            "scan through unknown index %u of table \"%s\"",
                            sf->index_id, c->t->name);
    if (ix->state == TL_INDEX_VALID &&
        (c->view.read_ts == MVCC_TS_LATEST || c->view.read_ts >= ix->valid_ts))
        return 0;
    struct tl_buf s, e;
    tl_buf_init(&s);
    tl_buf_init(&e);
    tl_table_key_range(c->t, &s, &e);
    Talus__KeyRange *r = tl_arena_alloc(c->a, sizeof(*r));
    talus__key_range__init(r);
    r->start = arena_bytes(c->a, s.data, s.len);
    r->end = arena_bytes(c->a, e.data, e.len);
    tl_buf_close(&s);
    tl_buf_close(&e);
    c->ranges = tl_arena_alloc(c->a, sizeof(*c->ranges));
    c->ranges[0] = r;
    c->n_ranges = 1;
    c->index_id = 0;
    return 0;
}

static int
scan_ctx_init(struct scan_ctx *c, struct store *st, struct store_cf *cf,
              const struct mvcc_read *view, const Talus__ScanFragment *sf,
              struct tl_arena *a, struct tl_error *err)
{
    int rv;

    memset(c, 0, sizeof *c);
    c->st = st;
    c->cf = cf;
    c->view = *view;
    c->sf = sf;
    c->a = a;
    c->err = err;
    tl_arena_init(&c->row_a);
    if (sf->table == NULL)
        return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                            "scan without table");
    rv = tl_table_from_proto(sf->table, &c->t, err);
    if (rv != 0)
        return rv;
    rv = choose_ranges(c);
    if (rv != 0)
        return rv;
    c->n_cols = c->t->n_columns;
    for (size_t i = 0; i < sf->n_joins; i++)
        if (sf->joins[i]->table != NULL)
            c->n_cols += (uint32_t)sf->joins[i]->table->n_columns;
    c->vals = tl_arena_calloc(a, (c->n_cols + 1) * sizeof *c->vals);
    c->out_vals = tl_arena_calloc(a, (c->n_cols + 1) * sizeof *c->vals);
    if (sf->filter != NULL) {
        rv = tl_expr_from_proto(sf->filter, c->n_cols, a, &c->filter, err);
        if (rv != 0)
            return rv;
    }
    if (sf->n_joins > 0) {
        rv = exec_join_create(st, cf, &c->view, sf, c->t, c->filter, a,
                              &c->join, err);
        if (rv != 0)
            return rv;
        /* The join applies the conjuncts that read joined columns. */
        c->filter = exec_join_outer_filter(c->join);
    }
    rv = compile_order(c);
    if (rv != 0)
        return rv;
    return compile_projection(c);
}

static void
scan_ctx_close(struct scan_ctx *c)
{
    exec_join_close(c->join);
    tl_table_destroy(c->t);
    tl_arena_close(&c->row_a);
}

/* ------------------------------------------------------------ iteration */

static int
key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int r = n == 0 ? 0 : memcmp(a, b, n);
    if (r != 0)
        return r;
    return alen < blen ? -1 : alen > blen;
}

/* Decode the row and apply the filter: *@pass says whether it is kept. */
static int
filter_row(struct scan_ctx *c, const char *val, size_t vlen, int *pass)
{
    int rv;
    tl_arena_reset(&c->row_a);
    rv = tl_row_decode((const uint8_t *)val, vlen, c->vals, c->t->n_columns,
                       NULL);
    if (rv != 0)
        return tl_error_set(c->err, TL_ECORRUPT, TL_SQLSTATE_DATA_CORRUPTED,
                            "corrupt row in table \"%s\"", c->t->name);
    *pass = 1;
    if (c->filter == NULL)
        return 0;
    return tl_expr_eval_pred(c->filter, c->vals, c->t->n_columns, &c->row_a,
                             pass, c->err);
}

/* The joined rows of one outer row go to the scan's row function with the
 * outer row's key: paging resumes on outer keys. */
struct join_emit {
    struct scan_ctx *c;
    const char *key, *val;
    size_t klen, vlen;
    row_fn fn;
    void *arg;
};

static int
emit_joined(void *arg)
{
    struct join_emit *e = arg;
    return e->fn(e->c, e->key, e->klen, e->val, e->vlen, e->arg);
}

static int
pass_row(struct scan_ctx *c, const char *k, size_t klen, const char *v,
         size_t vlen, row_fn fn, void *arg)
{
    if (c->join == NULL)
        return fn(c, k, klen, v, vlen, arg);
    struct join_emit e = {c, k, v, klen, vlen, fn, arg};
    return exec_join_run(c->join, c->vals, &c->row_a, emit_joined, &e, c->err);
}

/* After row @k was wholly handled: give up past the deadline (nobody
 * waits for the answer any more), or end a plain scan's page past its
 * time, resuming after @k. 0 to go on, 1 to stop, < 0 given up. */
static int
check_time(struct scan_ctx *c, const char *k, size_t klen)
{
    const struct exec_limits *l = c->lim;
    if (l->row_delay_us > 0) {
        struct timespec ts = {0, (long)l->row_delay_us * 1000};
        nanosleep(&ts, NULL);
    }
    if (++c->n_visited % EXEC_CHECK_ROWS != 0)
        return 0;
    int64_t now = exec_now_ms();
    if (l->deadline_ms > 0 && now >= l->deadline_ms)
        return tl_error_set(c->err, TL_ETIMEOUT, TL_SQLSTATE_QUERY_CANCELED,
                            "canceling scan: its requester stopped waiting");
    if (c->pageable && l->page_until_ms > 0 && now >= l->page_until_ms) {
        c->cut = true;
        c->cut_key.len = klen;
        c->cut_key.data = tl_arena_alloc(c->a, klen + 1);
        memcpy(c->cut_key.data, k, klen);
        return 1;
    }
    return 0;
}

/* The error for a row a transaction holds: the router resolves the lock
 * and asks again. */
int
exec_locked_error(struct tl_error *err, const struct mvcc_lock *lk)
{
    tl_error_set(err, TL_ELOCKED, TL_SQLSTATE_LOCK_NOT_AVAILABLE,
                 "could not read a row locked by transaction %llu",
                 (unsigned long long)lk->start_ts);
    exec_note_lock(err, lk);
    return TL_ELOCKED;
}

void
exec_note_lock(struct tl_error *err, const struct mvcc_lock *lk)
{
    err->lock_ts = lk->start_ts;
    /* A transaction's record (router/txn/coord.h): 0xFE, the shard (4
     * bytes big-endian), the start timestamp. */
    err->lock_shard = lk->primary_len == 13 && lk->primary[0] == 0xFE
                          ? tl_load_be32(lk->primary + 1)
                          : 0;
}

int
exec_note_lock_of(struct store *st, struct store_cf *cf, const void *key,
                  size_t key_len, struct tl_error *err)
{
    struct mvcc_lock lk;
    uint8_t *lb = NULL;
    if (mvcc_read_lock(st, cf, key, key_len, &lk, &lb) == 1)
        exec_note_lock(err, &lk);
    free(lb);
    return TL_ELOCKED;
}

/* NOWAIT met a row another transaction locks: PostgreSQL's error, with
 * a code the router does not wait on. */
static int
nowait_error(struct tl_error *err, const char *table)
{
    return tl_error_set(err, TL_ESQL, TL_SQLSTATE_LOCK_NOT_AVAILABLE,
                        "could not obtain lock on row in relation \"%s\"",
                        table);
}

/* A row lock met a row transaction @lk holds: the router waits for it
 * (PostgreSQL's words if the wait ends without it). */
static int
lock_wait_error(struct tl_error *err, const char *table,
                const struct mvcc_lock *lk)
{
    tl_error_set(err, TL_ELOCKED, TL_SQLSTATE_LOCK_NOT_AVAILABLE,
                 "could not obtain lock on row in relation \"%s\"", table);
    exec_note_lock(err, lk);
    return TL_ELOCKED;
}

/* Remember @key as the one whose lock stopped the request. */
static void
note_locked_key(struct scan_ctx *c, const void *key, size_t klen)
{
    c->locked_key.len = klen;
    c->locked_key.data = tl_arena_alloc(c->a, klen + 1);
    memcpy(c->locked_key.data, key, klen);
}

/* The row index entry @row names (its value is the row's key), read
 * through the scan's view: 0 with *@val (malloc'd, NULL: no such row
 * at this snapshot) and *@len, or the error of a row a transaction
 * locks. */
static int
index_row(struct scan_ctx *c, const struct mvcc_row *row, char **val,
          size_t *len)
{
    struct mvcc_lock lk;
    uint8_t *lb = NULL;
    int got = mvcc_read_get(c->st, c->cf, &c->view, row->val, row->val_len, val,
                            len, &lk, &lb);
    int rv = 0;
    if (got == MVCC_LOCKED) {
        note_locked_key(c, row->val, row->val_len);
        if (c->locking &&
            c->lock_wait == TALUS__MODIFY_FRAGMENT__LOCK_WAIT__NOWAIT)
            rv = nowait_error(c->err, c->t->name);
        else if (c->locking)
            rv = lock_wait_error(c->err, c->t->name, &lk);
        else
            rv = exec_locked_error(c->err, &lk);
    } else if (got != MVCC_OK) {
        rv = exec_storage_error(c->err, "index scan", tl_strerror(got));
    }
    free(lb);
    if (rv != 0) {
        free(*val);
        *val = NULL;
    }
    return rv;
}

/* Iterate one range [start, end) after @resume (may be NULL). */
static int
scan_range(struct scan_ctx *c, const Talus__KeyRange *r,
           const ProtobufCBinaryData *resume, row_fn fn, void *arg)
{
    const void *from = r->start.data;
    size_t from_len = r->start.len;
    struct mvcc_scan *s;
    struct mvcc_row row;
    int rv = 0, got;

    if (resume != NULL &&
        key_cmp(resume->data, resume->len, r->start.data, r->start.len) > 0) {
        from = resume->data;
        from_len = resume->len;
    }
    s = mvcc_scan_create(c->st, c->cf, from, from_len,
                         r->end.len > 0 ? r->end.data : NULL, r->end.len,
                         &c->view);
again:
    while ((got = mvcc_scan_next(s, &row)) == MVCC_OK) {
        int pass;
        if (resume != NULL &&
            key_cmp(row.key, row.key_len, resume->data, resume->len) <= 0)
            continue;
        const char *k = row.key, *v = row.val;
        size_t klen = row.key_len, vlen = row.val_len;
        char *fetched = NULL;
        if (c->index_id != 0) {
            /* An index entry: its row, read at the same snapshot. A
             * plain scan pages on the index's keys, a modify or a row
             * lock gets the row's own key. */
            rv = index_row(c, &row, &fetched, &vlen);
            if (rv != 0)
                break;
            if (fetched == NULL)
                continue;
            v = fetched;
            if (!c->pageable) {
                k = row.val;
                klen = row.val_len;
            }
        }
        rv = filter_row(c, v, vlen, &pass);
        if (rv == 0 && pass)
            rv = pass_row(c, k, klen, v, vlen, fn, arg);
        free(fetched);
        if (rv == 0 && c->lim != NULL)
            rv = check_time(c, row.key, row.key_len);
        if (rv != 0)
            break;
    }
    if (rv == 0 && got == MVCC_LOCKED && c->locking &&
        c->lock_wait == TALUS__MODIFY_FRAGMENT__LOCK_WAIT__SKIP_LOCKED) {
        /* SKIP LOCKED: go on after the locked row (its key followed by
         * 0x00 is the next possible key: keys are self-delimiting). */
        char *next = tl_arena_alloc(c->a, row.key_len + 1);
        memcpy(next, row.key, row.key_len);
        next[row.key_len] = 0;
        mvcc_scan_destroy(s);
        s = mvcc_scan_create(c->st, c->cf, next, row.key_len + 1,
                             r->end.len > 0 ? r->end.data : NULL, r->end.len,
                             &c->view);
        goto again;
    }
    if (rv == 0 && got == MVCC_LOCKED)
        note_locked_key(c, row.key, row.key_len);
    if (rv == 0 && got == MVCC_LOCKED && c->locking &&
        c->lock_wait == TALUS__MODIFY_FRAGMENT__LOCK_WAIT__NOWAIT)
        rv = nowait_error(c->err, c->t->name);
    else if (rv == 0 && got == MVCC_LOCKED && c->locking)
        rv = lock_wait_error(c->err, c->t->name, &row.lock);
    else if (rv == 0 && got == MVCC_LOCKED)
        rv = exec_locked_error(c->err, &row.lock);
    else if (rv == 0 && got < 0)
        rv = exec_storage_error(c->err, "scan", tl_strerror(got));
    mvcc_scan_destroy(s);
    return rv;
}

/* Visit every row of every range in order; stops early when @fn says 1. */
static int
scan_each(struct scan_ctx *c, bool use_resume, row_fn fn, void *arg)
{
    const Talus__ScanFragment *sf = c->sf;
    const ProtobufCBinaryData *resume =
        use_resume && sf->has_resume_key ? &sf->resume_key : NULL;
    for (size_t i = 0; i < c->n_ranges; i++) {
        int rv = scan_range(c, c->ranges[i], resume, fn, arg);
        if (rv < 0)
            return rv;
        if (rv > 0)
            break;
    }
    return 0;
}

/* The output bytes of the current row: as stored, or re-encoded with the
 * non-projected columns set to NULL. Appended to @out. */
static void
project_row(struct scan_ctx *c, const char *val, size_t vlen,
            struct tl_buf *out)
{
    if (c->keep == NULL && c->join == NULL) {
        tl_buf_append(out, val, vlen);
        return;
    }
    /* Into a copy: a join still reads the current row for its next
     * matches. */
    memcpy(c->out_vals, c->vals, c->n_cols * sizeof *c->vals);
    for (uint32_t i = 0; c->keep != NULL && i < c->n_cols; i++)
        if (!c->keep[i])
            c->out_vals[i] =
                tl_value_null(c->join != NULL ? exec_join_col_type(c->join, i)
                                              : c->t->columns[i].type);
    tl_row_encode(c->out_vals, c->n_cols, c->t->schema_version, out);
}

static ProtobufCBinaryData
arena_bytes(struct tl_arena *a, const void *p, size_t len)
{
    ProtobufCBinaryData d;
    d.len = len;
    d.data = tl_arena_alloc(a, len == 0 ? 1 : len);
    if (len > 0)
        memcpy(d.data, p, len);
    return d;
}

/* ------------------------------------------------------------ plain scan */

struct plain_state {
    struct exec_scan_result *out;
    size_t cap;
    uint64_t limit;   /* 0: none */
    size_t page_rows; /* 0: no paging */
    size_t bytes;
    bool full; /* page full: the next match sets resume_key */
    ProtobufCBinaryData last_key;
    bool count_only;
    struct tl_buf tmp;
};

static int
plain_row(struct scan_ctx *c, const char *key, size_t klen, const char *val,
          size_t vlen, void *arg)
{
    struct plain_state *s = arg;
    struct exec_scan_result *out = s->out;

    if (s->count_only) {
        out->count++;
        return s->limit != 0 && out->count >= s->limit;
    }
    /* A page ends between outer rows, never inside one row's matches
     * (joined rows share the outer key, and paging resumes after it). */
    if (s->full &&
        (klen != s->last_key.len || memcmp(key, s->last_key.data, klen) != 0)) {
        out->has_resume = true;
        out->resume_key = s->last_key;
        return 1;
    }
    if (out->n_rows == s->cap) {
        size_t cap = s->cap == 0 ? 64 : s->cap * 2;
        ProtobufCBinaryData *rows = tl_arena_alloc(c->a, cap * sizeof *rows);
        if (out->n_rows > 0)
            memcpy(rows, out->rows, out->n_rows * sizeof *rows);
        out->rows = rows;
        s->cap = cap;
    }
    tl_buf_reset(&s->tmp);
    project_row(c, val, vlen, &s->tmp);
    out->rows[out->n_rows++] = arena_bytes(c->a, s->tmp.data, s->tmp.len);
    s->bytes += s->tmp.len + klen;
    if (s->limit != 0 && out->n_rows >= s->limit)
        return 1;
    if (s->page_rows != 0 &&
        (out->n_rows >= s->page_rows || s->bytes >= EXEC_PAGE_BYTES)) {
        s->full = true;
        s->last_key = arena_bytes(c->a, key, klen);
    }
    return 0;
}

static int
scan_plain(struct scan_ctx *c, struct exec_scan_result *out)
{
    struct plain_state s;
    int rv;

    memset(&s, 0, sizeof s);
    s.out = out;
    s.limit = c->sf->has_limit ? c->sf->limit : 0;
    s.count_only = c->sf->has_count_only && c->sf->count_only;
    s.page_rows = c->sf->has_page_size && c->sf->page_size > 0
                      ? c->sf->page_size
                      : EXEC_PAGE_ROWS;
    tl_buf_init(&s.tmp);
    out->has_count = s.count_only;
    c->pageable = true;
    rv = scan_each(c, true, plain_row, &s);
    if (rv == 0 && c->cut && !out->has_resume) {
        out->has_resume = true;
        out->resume_key = c->cut_key;
    }
    tl_buf_close(&s.tmp);
    return rv;
}

/* ------------------------------------------------------------ sorted scan */

struct sort_entry {
    uint64_t seq;        /* scan order: ties keep key order */
    struct tl_buf row;   /* output row */
    struct tl_buf skey;  /* sort values, row-encoded */
    struct tl_value *sv; /* decoded from skey */
};

struct sort_state {
    struct sort_entry **e;
    size_t n, cap;
    uint64_t limit;
    uint64_t seq;
    const Talus__SortKey *const *keys;
    size_t n_keys;
};

/* Rows' sort values @a and @b in the order of the @n keys (the sort of
 * a scan and of a row lock alike). */
static int
sort_keys_cmp(const Talus__SortKey *const *keys, size_t n,
              const struct tl_value *a, const struct tl_value *b)
{
    for (size_t i = 0; i < n; i++) {
        const Talus__SortKey *k = keys[i];
        /* DESC reverses the value order but NULL placement is explicit. */
        int r = k->desc ? -tl_value_cmp_nulls(&a[i], &b[i], !k->nulls_first)
                        : tl_value_cmp_nulls(&a[i], &b[i], k->nulls_first);
        if (r != 0)
            return r;
    }
    return 0;
}

static int
entry_cmp(const void *pa, const void *pb, void *arg)
{
    const struct sort_entry *a = *(struct sort_entry *const *)pa;
    const struct sort_entry *b = *(struct sort_entry *const *)pb;
    const struct sort_state *s = arg;
    int r = sort_keys_cmp(s->keys, s->n_keys, a->sv, b->sv);
    if (r != 0)
        return r;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void
entry_free(struct sort_entry *e)
{
    tl_buf_close(&e->row);
    tl_buf_close(&e->skey);
    free(e->sv);
    free(e);
}

/* Sort and keep the first @limit entries (bounded memory for top-N). */
static void
sort_prune(struct sort_state *s)
{
    /* qsort_r with a NULL array (no rows) is undefined behaviour. */
    if (s->n > 1)
        qsort_r(s->e, s->n, sizeof *s->e, entry_cmp, s);
    if (s->limit == 0)
        return;
    while (s->n > s->limit)
        entry_free(s->e[--s->n]);
}

static int
sort_row(struct scan_ctx *c, const char *key, size_t klen, const char *val,
         size_t vlen, void *arg)
{
    struct sort_state *s = arg;
    struct tl_value *sv = calloc(s->n_keys + 1, sizeof *sv);
    struct sort_entry *e = calloc(1, sizeof *e);
    int rv = 0;

    (void)key;
    (void)klen;
    if (sv == NULL || e == NULL)
        abort();
    for (size_t i = 0; i < s->n_keys && rv == 0; i++)
        rv = tl_expr_eval(c->order[i], c->vals, c->n_cols, &c->row_a, &sv[i],
                          c->err);
    if (rv != 0) {
        free(sv);
        free(e);
        return rv;
    }
    e->seq = s->seq++;
    /* Own the sort values: encode them, then decode from our copy. */
    tl_row_encode(sv, s->n_keys, 1, &e->skey);
    tl_row_decode(e->skey.data, e->skey.len, sv, s->n_keys, NULL);
    e->sv = sv;
    project_row(c, val, vlen, &e->row);
    if (s->n == s->cap) {
        s->cap = s->cap == 0 ? 256 : s->cap * 2;
        s->e = realloc(s->e, s->cap * sizeof *s->e);
        if (s->e == NULL)
            abort();
    }
    s->e[s->n++] = e;
    if (s->limit != 0 && s->n >= 2 * s->limit + 1024)
        sort_prune(s);
    return 0;
}

static int
scan_sorted(struct scan_ctx *c, struct exec_scan_result *out)
{
    struct sort_state s;
    int rv;

    memset(&s, 0, sizeof s);
    s.limit = c->sf->has_limit ? c->sf->limit : 0;
    s.keys = c->order_pb;
    s.n_keys = c->n_order;
    /* The top-N of the rows visited: of the whole range, or of the part
     * visited before the page ran out of time (then with a resume_key:
     * the router keeps the top-N of every page's rows). */
    c->pageable = true;
    rv = scan_each(c, true, sort_row, &s);
    if (rv == 0 && c->cut) {
        out->has_resume = true;
        out->resume_key = c->cut_key;
    }
    if (rv == 0) {
        sort_prune(&s);
        out->rows = tl_arena_alloc(c->a, (s.n + 1) * sizeof *out->rows);
        for (size_t i = 0; i < s.n; i++)
            out->rows[i] = arena_bytes(c->a, s.e[i]->row.data, s.e[i]->row.len);
        out->n_rows = s.n;
    }
    for (size_t i = 0; i < s.n; i++)
        entry_free(s.e[i]);
    free(s.e);
    return rv;
}

int
exec_scan(struct store *st, struct store_cf *cf, const struct mvcc_read *view,
          const Talus__ScanFragment *sf, const struct exec_limits *lim,
          struct tl_arena *a, struct exec_scan_result *out,
          struct tl_error *err)
{
    struct scan_ctx c;
    int rv;

    memset(out, 0, sizeof *out);
    rv = scan_ctx_init(&c, st, cf, view, sf, a, err);
    c.lim = lim;
    if (rv == 0) {
        bool count_only = sf->has_count_only && sf->count_only;
        if (c.n_order > 0 && !count_only)
            rv = scan_sorted(&c, out);
        else
            rv = scan_plain(&c, out);
    }
    scan_ctx_close(&c);
    return rv;
}

/* ------------------------------------------------------------ modify */

/* One row selected for modification (all memory in the request arena). */
struct mod_row {
    ProtobufCBinaryData key;     /* stored key */
    ProtobufCBinaryData old;     /* stored value: the EQUALS expectation */
    ProtobufCBinaryData new_key; /* UPDATE only */
    ProtobufCBinaryData new_val;
    struct tl_value *new_vals; /* for the duplicate-key report */
    struct tl_value *old_vals; /* decoded old row (UPDATE; DELETE of a
                                  table with secondary indexes) */
    bool moved;                /* primary key changed */
};

struct mod_state {
    struct mod_row *rows;
    size_t n, cap;
};

static int
collect_row(struct scan_ctx *c, const char *key, size_t klen, const char *val,
            size_t vlen, void *arg)
{
    struct mod_state *s = arg;
    if (s->n == s->cap) {
        size_t cap = s->cap == 0 ? 64 : s->cap * 2;
        struct mod_row *rows = tl_arena_calloc(c->a, cap * sizeof *rows);
        if (s->n > 0)
            memcpy(rows, s->rows, s->n * sizeof *rows);
        s->rows = rows;
        s->cap = cap;
    }
    memset(&s->rows[s->n], 0, sizeof s->rows[s->n]);
    s->rows[s->n].key = arena_bytes(c->a, key, klen);
    s->rows[s->n].old = arena_bytes(c->a, val, vlen);
    s->n++;
    return 0;
}

struct assign {
    uint32_t column;
    struct tl_expr *e;
};

static int
compile_assigns(struct scan_ctx *c, const Talus__ModifyFragment *mf,
                struct assign **out)
{
    struct assign *as = tl_arena_calloc(c->a, (mf->n_set + 1) * sizeof *as);
    for (size_t i = 0; i < mf->n_set; i++) {
        int rv;
        if (mf->set[i]->column >= c->t->n_columns)
            return tl_error_set(
                c->err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                "assignment column %u out of range", mf->set[i]->column);
        as[i].column = mf->set[i]->column;
        rv = tl_expr_from_proto(mf->set[i]->expr, c->t->n_columns, c->a,
                                &as[i].e, c->err);
        if (rv != 0)
            return rv;
    }
    *out = as;
    return 0;
}

/* Compute the new image of @r: assignments over the OLD row, cast to the
 * column types, NOT NULL checked, encoded with the table's version. */
static int
update_row(struct scan_ctx *c, const struct assign *as, size_t n_as,
           struct mod_row *r)
{
    uint32_t n = c->t->n_columns;
    struct tl_value *oldv = tl_arena_calloc(c->a, (n + 1) * sizeof *oldv);
    struct tl_value *newv = tl_arena_calloc(c->a, (n + 1) * sizeof *newv);
    struct tl_buf b;
    int rv;

    if (tl_row_decode(r->old.data, r->old.len, oldv, n, NULL) != 0)
        return tl_error_set(c->err, TL_ECORRUPT, TL_SQLSTATE_DATA_CORRUPTED,
                            "corrupt row in table \"%s\"", c->t->name);
    memcpy(newv, oldv, n * sizeof *newv);
    for (size_t i = 0; i < n_as; i++) {
        const struct tl_column *col = &c->t->columns[as[i].column];
        struct tl_value v;
        rv = tl_expr_eval(as[i].e, oldv, n, c->a, &v, c->err);
        if (rv == 0)
            rv = tl_value_cast(&v, col->type, col->typmod, c->a,
                               &newv[as[i].column], c->err);
        if (rv != 0)
            return rv;
    }
    rv = tl_table_check_row(c->t, newv, c->err);
    if (rv != 0)
        return rv;
    tl_buf_init(&b);
    tl_row_encode(newv, n, c->t->schema_version, &b);
    r->new_val = arena_bytes(c->a, b.data, b.len);
    tl_buf_reset(&b);
    tl_table_row_key(c->t, newv, &b);
    r->new_key = arena_bytes(c->a, b.data, b.len);
    tl_buf_close(&b);
    r->new_vals = newv;
    r->old_vals = oldv;
    r->moved =
        key_cmp(r->new_key.data, r->new_key.len, r->key.data, r->key.len) != 0;
    return 0;
}

static int
bytes_cmp(const void *pa, const void *pb)
{
    const ProtobufCBinaryData *a = *(ProtobufCBinaryData *const *)pa;
    const ProtobufCBinaryData *b = *(ProtobufCBinaryData *const *)pb;
    return key_cmp(a->data, a->len, b->data, b->len);
}

/* Index of a row whose new key repeats another row's new key, or -1. */
static ssize_t
find_dup_new_key(struct scan_ctx *c, struct mod_state *s)
{
    const ProtobufCBinaryData **ks =
        tl_arena_alloc(c->a, (s->n + 1) * sizeof *ks);
    for (size_t i = 0; i < s->n; i++)
        ks[i] = &s->rows[i].new_key;
    qsort(ks, s->n, sizeof *ks, bytes_cmp);
    for (size_t i = 1; i < s->n; i++)
        if (bytes_cmp(&ks[i - 1], &ks[i]) == 0)
            for (size_t j = 0; j < s->n; j++)
                if (&s->rows[j].new_key == ks[i])
                    return (ssize_t)j;
    return -1;
}

static bool
is_old_key(struct mod_state *s, const ProtobufCBinaryData *k)
{
    for (size_t i = 0; i < s->n; i++)
        if (key_cmp(s->rows[i].key.data, s->rows[i].key.len, k->data, k->len) ==
            0)
            return true;
    return false;
}

static Talus__Mutation *
new_mutation(struct tl_arena *a, Talus__Mutation__Kind kind,
             ProtobufCBinaryData key, Talus__Mutation__Cond cond)
{
    Talus__Mutation *m = tl_arena_alloc(a, sizeof *m);
    talus__mutation__init(m);
    m->kind = kind;
    m->key = key;
    m->has_cond = true;
    m->cond = cond;
    return m;
}

/* Build the batch. DELETEs come first so that a row moving onto a key
 * another row vacates is not erased by that row's DELETE; then the rows'
 * new images, then the changes of their secondary index entries
 * (common/secindex.h). @owner maps each mutation back to its row and
 * @which to its index in c->t->indexes (-1: the row itself), for the
 * duplicate-key report. */
static int
build_batch(struct scan_ctx *c, struct mod_state *s, bool is_delete,
            Talus__WriteBatch *wb, size_t *owner, int32_t *which)
{
    size_t per_row = 2 + 2 * (size_t)c->t->n_indexes;
    Talus__Mutation **ms =
        tl_arena_alloc(c->a, per_row * (s->n + 1) * sizeof *ms);
    uint32_t ix_of[2 * TL_MAX_INDEXES];
    size_t n = 0;

    for (size_t i = 0; i < s->n; i++) {
        struct mod_row *r = &s->rows[i];
        if (!is_delete && !r->moved)
            continue;
        owner[n] = i;
        which[n] = -1;
        ms[n] = new_mutation(c->a, TALUS__MUTATION__KIND__DELETE, r->key,
                             TALUS__MUTATION__COND__EQUALS);
        ms[n]->has_expect = true;
        ms[n++]->expect = r->old;
    }
    for (size_t i = 0; !is_delete && i < s->n; i++) {
        struct mod_row *r = &s->rows[i];
        Talus__Mutation *m;
        if (r->moved)
            /* A key another row of this batch vacates needs no check: that
             * row's DELETE is EQUALS-checked and duplicates were caught. */
            m = new_mutation(c->a, TALUS__MUTATION__KIND__PUT, r->new_key,
                             is_old_key(s, &r->new_key)
                                 ? TALUS__MUTATION__COND__NONE
                                 : TALUS__MUTATION__COND__ABSENT);
        else {
            m = new_mutation(c->a, TALUS__MUTATION__KIND__PUT, r->key,
                             TALUS__MUTATION__COND__EQUALS);
            m->has_expect = true;
            m->expect = r->old;
        }
        m->has_value = true;
        m->value = r->new_val;
        owner[n] = i;
        which[n] = -1;
        ms[n++] = m;
    }
    for (size_t i = 0; c->t->n_indexes > 0 && i < s->n; i++) {
        struct mod_row *r = &s->rows[i];
        if (r->old_vals == NULL) {
            uint32_t nc = c->t->n_columns;
            r->old_vals =
                tl_arena_calloc(c->a, (nc + 1) * sizeof(struct tl_value));
            if (tl_row_decode(r->old.data, r->old.len, r->old_vals, nc, NULL) !=
                0)
                return tl_error_set(c->err, TL_ECORRUPT,
                                    TL_SQLSTATE_DATA_CORRUPTED,
                                    "corrupt row in table \"%s\"", c->t->name);
        }
        size_t first = n;
        if (is_delete)
            tl_index_mutations(c->t, r->old_vals, r->key.data, r->key.len, NULL,
                               NULL, 0, c->a, ms, ix_of, &n);
        else
            tl_index_mutations(c->t, r->old_vals, r->key.data, r->key.len,
                               r->new_vals, r->new_key.data, r->new_key.len,
                               c->a, ms, ix_of, &n);
        for (size_t k = first; k < n; k++) {
            owner[k] = i;
            which[k] = (int32_t)ix_of[k - first];
        }
    }
    wb->mutations = ms;
    wb->n_mutations = n;
    return 0;
}

int
exec_stale_error(struct tl_error *err)
{
    return tl_error_set(err, TL_ESTALE, TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                        "the catalog changed while the statement ran "
                        "(an index was created)");
}

static int
serialization_failure(struct tl_error *err)
{
    return tl_error_set(err, TL_ECONFLICT,
                        TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                        "could not serialize access due to concurrent "
                        "update");
}

/* The error of batch @wb the state machine refused (@res): a row lock
 * (55P03, naming the lock's transaction), a write that lost to a
 * concurrent one (40001), or anything else (XX000). */
static int
batch_refused(struct scan_ctx *c, const struct fsm_result *res,
              const Talus__WriteBatch *wb)
{
    if (res->outcome == FSM_LOCKED) {
        tl_error_set(c->err, TL_ELOCKED, TL_SQLSTATE_LOCK_NOT_AVAILABLE,
                     "could not obtain lock on row in relation \"%s\"",
                     c->t->name);
        if (res->mutation >= 0 && (size_t)res->mutation < wb->n_mutations) {
            const ProtobufCBinaryData *k = &wb->mutations[res->mutation]->key;
            exec_note_lock_of(c->st, c->cf, k->data, k->len, c->err);
            note_locked_key(c, k->data, k->len);
        }
        return TL_ELOCKED;
    }
    if (res->outcome == FSM_CONFLICT)
        return serialization_failure(c->err);
    if (res->outcome == FSM_STALE)
        return exec_stale_error(c->err);
    return tl_error_set(c->err, TL_EPROTO, TL_SQLSTATE_INTERNAL_ERROR,
                        "write batch rejected by the state machine");
}

/* One attempt: scan, build, propose. 1 means "retry", 0 done. */
static int
modify_once(struct scan_ctx *c, const Talus__ModifyFragment *mf,
            const Talus__TxnInfo *txn, uint64_t request_id, uint64_t read_index,
            const struct assign *as, exec_propose_fn propose, void *ctx,
            uint64_t *count)
{
    struct mod_state s = {0};
    Talus__WriteBatch wb;
    struct fsm_result res;
    size_t *owner;
    int rv;

    rv = scan_each(c, false, collect_row, &s);
    /* Nothing to change, unless this resends a modify whose outcome was
     * unknown: then the state machine must say whether the first attempt
     * (which may be why nothing matches now) was applied, and its count. */
    if (rv != 0 || (s.n == 0 && !(mf->retry && request_id != 0))) {
        *count = 0;
        return rv;
    }
    for (size_t i = 0; !mf->is_delete && i < s.n; i++) {
        rv = update_row(c, as, mf->n_set, &s.rows[i]);
        if (rv != 0)
            return rv;
    }
    if (!mf->is_delete) {
        ssize_t d = find_dup_new_key(c, &s);
        if (d >= 0)
            return tl_table_dup_key_error(c->t, s.rows[d].new_vals, c->err);
    }
    size_t per_row = 2 + 2 * (size_t)c->t->n_indexes;
    owner = tl_arena_alloc(c->a, per_row * (s.n + 1) * sizeof *owner);
    int32_t *which = tl_arena_alloc(c->a, per_row * (s.n + 1) * sizeof *which);
    talus__write_batch__init(&wb);
    rv = build_batch(c, &s, mf->is_delete, &wb, owner, which);
    if (rv != 0)
        return rv;
    /* The request id makes the batch apply once however often it is
     * proposed; a duplicate answers the first application's count. */
    wb.has_request_id = request_id != 0;
    wb.request_id = request_id;
    wb.has_affected = true;
    wb.affected = s.n;
    wb.has_read_index = read_index != 0;
    wb.read_index = read_index;
    wb.txn = (Talus__TxnInfo *)txn; /* prewrite (borrowed; NULL: commit) */
    rv = propose(ctx, &wb, &res, c->err);
    if (rv != 0)
        return rv;
    if (res.outcome == FSM_OK) {
        *count = res.affected;
        return 0;
    }
    if (res.outcome == FSM_COND_FAILED &&
        res.cond == TALUS__MUTATION__COND__ABSENT && res.mutation >= 0 &&
        which[res.mutation] >= 0)
        return tl_index_dup_error(c->t, &c->t->indexes[which[res.mutation]],
                                  s.rows[owner[res.mutation]].new_vals, false,
                                  c->err);
    if (res.outcome == FSM_COND_FAILED &&
        res.cond == TALUS__MUTATION__COND__ABSENT && res.mutation >= 0)
        return tl_table_dup_key_error(
            c->t, s.rows[owner[res.mutation]].new_vals, c->err);
    if (res.outcome == FSM_COND_FAILED)
        return 1;
    return batch_refused(c, &res, &wb);
}

/* One attempt of a modify or a row lock (modify_once(), lock_once()):
 * 0 done, 1 a row changed since the scan (the isolation level decides),
 * 2 scan again, or an error. */
typedef int (*attempt_fn)(struct scan_ctx *c, const Talus__TxnInfo *txn,
                          void *arg);

/* Run @once (with @arg) until it is done, as @txn's isolation level
 * says a changed row is met: READ COMMITTED runs once more on the newest
 * committed rows (and the transaction's own), whose versions then never
 * conflict (PostgreSQL's EvalPlanQual: the conditions still catch a row
 * changed meanwhile); a snapshot does not move, so scanning it again
 * finds the same rows: first committer wins (40001); outside a
 * transaction the scan runs again, up to EXEC_MODIFY_RETRIES times. */
static int
run_attempts(struct scan_ctx *c, const Talus__TxnInfo *txn, attempt_fn once,
             void *arg)
{
    Talus__TxnInfo rc_txn = TALUS__TXN_INFO__INIT;
    int rv = 0;

    rc_txn.start_ts = 0;
    for (int attempt = 0; rv == 0; attempt++) {
        if (attempt == EXEC_MODIFY_RETRIES)
            return serialization_failure(c->err);
        rv = once(c, txn, arg);
        if ((rv == TL_ECONFLICT || rv == 1) && txn != NULL &&
            txn->has_read_committed && txn->read_committed &&
            rc_txn.start_ts == 0) {
            rc_txn = *txn;
            rc_txn.has_read_ts = true;
            rc_txn.read_ts = UINT64_MAX - 1;
            txn = &rc_txn;
            c->view.read_ts = MVCC_TS_LATEST;
            tl_error_clear(c->err);
            rv = 1;
        } else if (rv == 1 && txn != NULL &&
                   c->view.read_ts != MVCC_TS_LATEST) {
            rv = serialization_failure(c->err);
        }
        if (rv == 1 || rv == 2)
            rv = 0; /* scan again */
        else
            break;
    }
    return rv;
}

struct modify_args {
    const Talus__ModifyFragment *mf;
    uint64_t request_id, read_index;
    struct assign *as;
    exec_propose_fn propose;
    void *ctx;
    uint64_t *count;
};

static int
modify_attempt(struct scan_ctx *c, const Talus__TxnInfo *txn, void *arg)
{
    struct modify_args *m = arg;
    return modify_once(c, m->mf, txn, m->request_id, m->read_index, m->as,
                       m->propose, m->ctx, m->count);
}

int
exec_modify(struct store *st, struct store_cf *cf, const struct mvcc_read *view,
            const Talus__TxnInfo *txn, const Talus__ModifyFragment *mf,
            uint64_t request_id, uint64_t read_index, exec_propose_fn propose,
            void *ctx, struct tl_arena *a, uint64_t *count,
            ProtobufCBinaryData *locked_key, struct tl_error *err)
{
    struct scan_ctx c;
    struct assign *as = NULL;
    int rv;

    *count = 0;
    if (mf->scan == NULL)
        return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                            "modify without scan");
    if (mf->scan->n_joins > 0)
        return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                            "modify with joins");
    rv = scan_ctx_init(&c, st, cf, view, mf->scan, a, err);
    if (rv == 0 && !mf->is_delete)
        rv = compile_assigns(&c, mf, &as);
    if (rv == 0) {
        struct modify_args m = {mf,      request_id, read_index, as,
                                propose, ctx,        count};
        rv = run_attempts(&c, txn, modify_attempt, &m);
    }
    if (locked_key != NULL)
        *locked_key =
            rv == TL_ELOCKED ? c.locked_key : (ProtobufCBinaryData){0, NULL};
    scan_ctx_close(&c);
    return rv;
}

/* ------------------------------------------------------------ row locks */

/* One row SELECT ... FOR UPDATE selected (all memory in the arena). */
struct lock_row {
    ProtobufCBinaryData key; /* stored key */
    ProtobufCBinaryData old; /* stored value: the EQUALS expectation */
    ProtobufCBinaryData out; /* the projected row to return */
    struct tl_value *sv;     /* sort values (n_order), owned copies */
    uint64_t seq;            /* key order: ties keep it */
};

struct lock_state {
    struct lock_row *rows;
    size_t n, cap;
    const Talus__SortKey *const *keys;
    size_t n_keys;
    struct tl_buf tmp;
};

/* Whether another transaction locks @key (a lock the scan's view does
 * not show: one that started after its snapshot, or any when the view is
 * the newest committed state): 1 with *@lk (primary in *@buf), 0 not. */
static int
other_lock(struct scan_ctx *c, const char *key, size_t klen,
           struct mvcc_lock *lk, uint8_t **buf)
{
    int rv = mvcc_read_lock(c->st, c->cf, key, klen, lk, buf);
    if (rv < 0)
        return exec_storage_error(c->err, "lock read", tl_strerror(rv));
    if (rv == 1 && c->view.own_ts != 0 && lk->start_ts == c->view.own_ts)
        return 0; /* ours */
    return rv;
}

static int
lock_collect(struct scan_ctx *c, const char *key, size_t klen, const char *val,
             size_t vlen, void *arg)
{
    struct lock_state *s = arg;
    struct mvcc_lock lk;
    uint8_t *lb = NULL;
    int rv = other_lock(c, key, klen, &lk, &lb);

    if (rv == 1) {
        if (c->lock_wait == TALUS__MODIFY_FRAGMENT__LOCK_WAIT__SKIP_LOCKED)
            rv = 0;
        else if (c->lock_wait == TALUS__MODIFY_FRAGMENT__LOCK_WAIT__NOWAIT)
            rv = nowait_error(c->err, c->t->name);
        else
            rv = lock_wait_error(c->err, c->t->name, &lk);
        if (rv != 0)
            note_locked_key(c, key, klen);
        free(lb);
        return rv;
    }
    free(lb);
    if (rv < 0)
        return rv;
    if (s->n == s->cap) {
        size_t cap = s->cap == 0 ? 64 : s->cap * 2;
        struct lock_row *rows = tl_arena_calloc(c->a, cap * sizeof *rows);
        if (s->n > 0)
            memcpy(rows, s->rows, s->n * sizeof *rows);
        s->rows = rows;
        s->cap = cap;
    }
    struct lock_row *r = &s->rows[s->n];
    memset(r, 0, sizeof *r);
    r->seq = s->n;
    r->key = arena_bytes(c->a, key, klen);
    r->old = arena_bytes(c->a, val, vlen);
    tl_buf_reset(&s->tmp);
    project_row(c, val, vlen, &s->tmp);
    r->out = arena_bytes(c->a, s->tmp.data, s->tmp.len);
    if (s->n_keys > 0) {
        struct tl_value *sv =
            tl_arena_calloc(c->a, (s->n_keys + 1) * sizeof *sv);
        for (size_t i = 0; i < s->n_keys; i++) {
            rv = tl_expr_eval(c->order[i], c->vals, c->n_cols, &c->row_a,
                              &sv[i], c->err);
            if (rv != 0)
                return rv;
        }
        /* Own the values: encode them, then decode from an arena copy. */
        tl_buf_reset(&s->tmp);
        tl_row_encode(sv, s->n_keys, 1, &s->tmp);
        ProtobufCBinaryData enc = arena_bytes(c->a, s->tmp.data, s->tmp.len);
        tl_row_decode(enc.data, enc.len, sv, s->n_keys, NULL);
        r->sv = sv;
    }
    s->n++;
    /* Without ORDER BY the first rows in key order are the LIMIT's. */
    return s->n_keys == 0 && c->sf->has_limit && c->sf->limit > 0 &&
           s->n >= c->sf->limit;
}

static int
lock_row_cmp(const void *pa, const void *pb, void *arg)
{
    const struct lock_row *a = pa, *b = pb;
    const struct lock_state *s = arg;
    int r = sort_keys_cmp(s->keys, s->n_keys, a->sv, b->sv);
    if (r != 0)
        return r;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* One attempt of a row lock: scan, order, limit, lock (in a
 * transaction). 0 done with *@out filled; 1 a row changed since the scan
 * (the isolation level decides); 2 SKIP LOCKED met a lock taken since
 * the scan (scan again: it is left out then). */
static int
lock_once(struct scan_ctx *c, const Talus__TxnInfo *txn, uint64_t request_id,
          uint64_t read_index, exec_propose_fn propose, void *ctx,
          struct exec_scan_result *out)
{
    struct lock_state s = {0};
    const Talus__ScanFragment *sf = c->sf;
    Talus__WriteBatch wb;
    struct fsm_result res;
    int rv;

    memset(out, 0, sizeof *out);
    s.keys = c->order_pb;
    s.n_keys = c->n_order;
    tl_buf_init(&s.tmp);
    rv = scan_each(c, false, lock_collect, &s);
    tl_buf_close(&s.tmp);
    if (rv != 0)
        return rv;
    if (s.n_keys > 0 && s.n > 1)
        qsort_r(s.rows, s.n, sizeof *s.rows, lock_row_cmp, &s);
    if (sf->has_limit && sf->limit > 0 && s.n > sf->limit)
        s.n = sf->limit;
    out->rows = tl_arena_alloc(c->a, (s.n + 1) * sizeof *out->rows);
    for (size_t i = 0; i < s.n; i++)
        out->rows[i] = s.rows[i].out;
    out->n_rows = s.n;
    out->has_count = true;
    out->count = s.n;
    /* Outside a transaction the lock lives as long as the statement:
     * meeting none is all it does. A dry run only selects. */
    if (txn == NULL || s.n == 0 || c->lock_dry_run)
        return 0;
    Talus__Mutation **ms = tl_arena_alloc(c->a, (s.n + 1) * sizeof *ms);
    for (size_t i = 0; i < s.n; i++) {
        ms[i] = new_mutation(c->a, TALUS__MUTATION__KIND__LOCK, s.rows[i].key,
                             TALUS__MUTATION__COND__EQUALS);
        ms[i]->has_expect = true;
        ms[i]->expect = s.rows[i].old;
    }
    talus__write_batch__init(&wb);
    wb.mutations = ms;
    wb.n_mutations = s.n;
    wb.has_request_id = request_id != 0;
    wb.request_id = request_id;
    wb.has_affected = true;
    wb.affected = s.n;
    wb.has_read_index = read_index != 0;
    wb.read_index = read_index;
    wb.txn = (Talus__TxnInfo *)txn;
    rv = propose(ctx, &wb, &res, c->err);
    if (rv != 0)
        return rv;
    if (res.outcome == FSM_OK)
        return 0;
    if (res.outcome == FSM_COND_FAILED)
        return 1;
    /* Locked between our scan and the apply: the next scan sees it. */
    if (res.outcome == FSM_LOCKED &&
        c->lock_wait == TALUS__MODIFY_FRAGMENT__LOCK_WAIT__SKIP_LOCKED)
        return 2;
    if (res.outcome == FSM_LOCKED &&
        c->lock_wait == TALUS__MODIFY_FRAGMENT__LOCK_WAIT__NOWAIT)
        return nowait_error(c->err, c->t->name);
    return batch_refused(c, &res, &wb);
}

struct lock_args {
    uint64_t request_id, read_index;
    exec_propose_fn propose;
    void *ctx;
    struct exec_scan_result *out;
};

static int
lock_attempt(struct scan_ctx *c, const Talus__TxnInfo *txn, void *arg)
{
    struct lock_args *l = arg;
    return lock_once(c, txn, l->request_id, l->read_index, l->propose, l->ctx,
                     l->out);
}

int
exec_lock(struct store *st, struct store_cf *cf, const struct mvcc_read *view,
          const Talus__TxnInfo *txn, const Talus__ModifyFragment *mf,
          uint64_t request_id, uint64_t read_index, exec_propose_fn propose,
          void *ctx, struct tl_arena *a, struct exec_scan_result *out,
          ProtobufCBinaryData *locked_key, struct tl_error *err)
{
    struct scan_ctx c;
    int rv;

    memset(out, 0, sizeof *out);
    if (mf->scan == NULL || mf->scan->n_joins > 0)
        return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                            "row lock without a plain scan");
    rv = scan_ctx_init(&c, st, cf, view, mf->scan, a, err);
    c.locking = true;
    c.lock_wait = mf->has_lock_wait ? (int)mf->lock_wait : 0;
    c.lock_dry_run = mf->has_lock_dry_run && mf->lock_dry_run;
    if (rv == 0) {
        struct lock_args l = {request_id, read_index, propose, ctx, out};
        rv = run_attempts(&c, txn, lock_attempt, &l);
    }
    if (locked_key != NULL)
        *locked_key =
            rv == TL_ELOCKED ? c.locked_key : (ProtobufCBinaryData){0, NULL};
    scan_ctx_close(&c);
    return rv;
}
