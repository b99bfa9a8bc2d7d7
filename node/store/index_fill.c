#include "node/store/index_fill.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "node/store/mvcc.h"
#include "row.h"
#include "secindex.h"
#include "talus.pb-c.h"
#include "tl_error.h"

/* A UNIQUE entry this chunk adds, to find two rows of the chunk with one
 * key (the batch is not read back). */
struct added {
    uint8_t *key;
    size_t len;
    uint64_t ordinal;
};

static int
added_cmp(const void *pa, const void *pb)
{
    const struct added *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->key, b->key, n);
    if (c != 0)
        return c;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return a->ordinal < b->ordinal ? -1 : a->ordinal > b->ordinal;
}

/* Whether @t's row @key/@val needs its entry in @ix: 0 with *@need
 * (and the entry key in @ek), or an error; MVCC_LOCKED when a
 * transaction locks the entry, -1 in *@need when another row holds the
 * UNIQUE entry. */
static int
entry_needed(struct store *st, struct store_cf *cf, const struct tl_table *t,
             const struct tl_index *ix, const struct tl_value *vals,
             const char *key, size_t klen, struct tl_buf *ek, int *need)
{
    char *cur = NULL;
    size_t cur_len = 0;
    struct mvcc_lock lk;
    uint8_t *lb = NULL;

    tl_buf_reset(ek);
    tl_index_key(t, ix, vals, key, klen, ek);
    int rv = mvcc_get(st, cf, ek->data, ek->len, MVCC_TS_LATEST - 1, &cur,
                      &cur_len, NULL, &lk, &lb);
    free(lb);
    if (rv != MVCC_OK) {
        free(cur);
        return rv;
    }
    if (cur == NULL)
        *need = 1; /* none, or deleted by a write after the fence */
    else if (cur_len == klen && memcmp(cur, key, klen) == 0)
        *need = 0; /* a write after the fence put it */
    else
        *need = -1; /* UNIQUE: another row holds it */
    free(cur);
    return 0;
}

/* A scan of @t's rows from @start (0 length: the table's start) to
 * @end (0 length: the table's end), as newest committed, stopping at
 * locks. */
static struct mvcc_scan *
rows_scan(struct store *st, struct store_cf *cf, const struct tl_table *t,
          const void *start, size_t start_len, const void *end, size_t end_len)
{
    struct tl_buf lo, hi;
    struct mvcc_read view = mvcc_read_at(MVCC_TS_LATEST - 1);
    tl_buf_init(&lo);
    tl_buf_init(&hi);
    tl_table_key_range(t, &lo, &hi);
    if (start_len > 0) {
        tl_buf_reset(&lo);
        tl_buf_append(&lo, start, start_len);
    }
    if (end_len > 0) {
        tl_buf_reset(&hi);
        tl_buf_append(&hi, end, end_len);
    }
    struct mvcc_scan *s =
        mvcc_scan_create(st, cf, lo.data, lo.len, hi.data, hi.len, &view);
    tl_buf_close(&lo);
    tl_buf_close(&hi);
    return s;
}

int
index_fill_chunk_end(struct store *st, struct store_cf *cf,
                     const struct tl_table *t, const void *start,
                     size_t start_len, uint32_t max_rows, struct tl_buf *end)
{
    struct mvcc_scan *s = rows_scan(st, cf, t, start, start_len, NULL, 0);
    struct mvcc_row row;
    int rv = 0;
    tl_buf_reset(end);
    for (uint32_t n = 0;; n++) {
        rv = mvcc_scan_next(s, &row);
        if (rv == MVCC_END) {
            rv = 0;
            break;
        }
        if (rv == MVCC_LOCKED || (rv == MVCC_OK && n == max_rows)) {
            tl_buf_append(end, row.key, row.key_len);
            rv = rv == MVCC_LOCKED;
            break;
        }
        if (rv != MVCC_OK)
            break;
    }
    mvcc_scan_destroy(s);
    return rv;
}

int
index_fill_dup_error(struct store *st, struct store_cf *cf,
                     const struct tl_table *t, const struct tl_index *ix,
                     const void *start, size_t start_len, uint64_t ordinal,
                     struct tl_error *err)
{
    struct mvcc_scan *s = rows_scan(st, cf, t, start, start_len, NULL, 0);
    struct tl_value *vals = calloc(t->n_columns + 1, sizeof(*vals));
    struct mvcc_row row;
    if (vals == NULL)
        abort();
    for (uint64_t n = 0; n <= ordinal; n++)
        if (mvcc_scan_next(s, &row) != MVCC_OK ||
            (n == ordinal &&
             tl_row_decode((const uint8_t *)row.val, row.val_len, vals,
                           t->n_columns, NULL) != 0)) {
            /* Changed since: name no values. */
            for (uint32_t i = 0; i < t->n_columns; i++)
                vals[i] = tl_value_null(t->columns[i].type);
            break;
        }
    int rv = tl_index_dup_error(t, ix, vals, true, err);
    mvcc_scan_destroy(s);
    free(vals);
    return rv;
}

int
index_fill(struct store *st, struct store_cf *cf, struct store_batch *b,
           const struct tl_table *t, const struct tl_index *ix,
           const void *start, size_t start_len, const void *end, size_t end_len,
           uint64_t commit_ts, struct fsm_result *res)
{
    struct tl_buf ek;
    struct tl_value *vals = calloc(t->n_columns + 1, sizeof(*vals));
    struct added *added = NULL;
    size_t n_added = 0, cap = 0;
    uint64_t ordinal = 0;
    int rv = 0;

    if (vals == NULL)
        abort();
    tl_buf_init(&ek);
    res->outcome = FSM_OK;
    res->mutation = -1;
    struct mvcc_scan *s = rows_scan(st, cf, t, start, start_len, end, end_len);
    for (;; ordinal++) {
        struct mvcc_row row;
        int need;
        rv = mvcc_scan_next(s, &row);
        if (rv == MVCC_END) {
            rv = 0;
            break;
        }
        if (rv == MVCC_LOCKED) {
            res->outcome = FSM_LOCKED;
            rv = 0;
            break;
        }
        if (rv != MVCC_OK)
            break;
        if (tl_row_decode((const uint8_t *)row.val, row.val_len, vals,
                          t->n_columns, NULL) != 0) {
            rv = TL_ECORRUPT;
            break;
        }
        rv =
            entry_needed(st, cf, t, ix, vals, row.key, row.key_len, &ek, &need);
        if (rv == MVCC_LOCKED) {
            res->outcome = FSM_LOCKED;
            rv = 0;
            break;
        }
        if (rv != 0)
            break;
        if (need < 0) {
            res->outcome = FSM_COND_FAILED;
            res->cond = TALUS__MUTATION__COND__ABSENT;
            res->mutation = (int32_t)ordinal;
            break;
        }
        if (need == 0)
            continue;
        if (tl_index_unique_key(ix, vals)) {
            if (n_added == cap) {
                cap = cap ? 2 * cap : 64;
                added = realloc(added, cap * sizeof(*added));
                if (added == NULL)
                    abort();
            }
            added[n_added].key = malloc(ek.len + 1);
            if (added[n_added].key == NULL)
                abort();
            memcpy(added[n_added].key, ek.data, ek.len);
            added[n_added].len = ek.len;
            added[n_added++].ordinal = ordinal;
        }
        rv = mvcc_write_at(st, cf, b, ek.data, ek.len, MVCC_PUT, row.key,
                           row.key_len, commit_ts, false);
        if (rv != 0)
            break;
    }
    mvcc_scan_destroy(s);
    if (rv == 0 && res->outcome == FSM_OK && n_added > 1) {
        qsort(added, n_added, sizeof(*added), added_cmp);
        for (size_t i = 1; i < n_added; i++)
            if (added[i].len == added[i - 1].len &&
                memcmp(added[i].key, added[i - 1].key, added[i].len) == 0) {
                res->outcome = FSM_COND_FAILED;
                res->cond = TALUS__MUTATION__COND__ABSENT;
                res->mutation = (int32_t)added[i].ordinal;
                break;
            }
    }
    if (rv != 0 || res->outcome != FSM_OK)
        store_batch_clear(b);
    else
        res->affected = ordinal;
    for (size_t i = 0; i < n_added; i++)
        free(added[i].key);
    free(added);
    free(vals);
    tl_buf_close(&ek);
    return rv;
}
