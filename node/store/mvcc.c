/* mvcc — see mvcc.h. */
#include "node/store/mvcc.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "tl_error.h"

#define TS_LEN 8
#define LOCK_FIXED (8 + 8 + 8 + 1 + 4)
#define WRITE_FIXED (8 + 1 + 1)
#define WRITE_INLINE 1u /* write record flag: the value follows */

/* ------------------------------------------------------------ encoding */

static void
put_be64(uint64_t v, char *out)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (char)(v & 0xFF);
        v >>= 8;
    }
}

size_t
mvcc_encode_key(char prefix, const void *key, size_t key_len, uint64_t ts,
                char *out)
{
    out[0] = prefix;
    memcpy(out + 1, key, key_len);
    if (prefix == 'L')
        return key_len + 1;
    put_be64(~ts, out + 1 + key_len);
    return key_len + 1 + TS_LEN;
}

/* A key buffer of @key_len plus prefix and timestamp, on the heap. */
static char *
key_buf(size_t key_len)
{
    char *p = malloc(key_len + 1 + TS_LEN);
    if (p == NULL)
        abort();
    return p;
}

/* The timestamp of write/data key @k (length @klen > 9). */
static uint64_t
key_ts(const char *k, size_t klen)
{
    return ~tl_load_be64((const uint8_t *)k + klen - TS_LEN);
}

/* Whether store key @k is a 'W' record of user key @key. */
static bool
is_write_of(const char *k, size_t klen, const void *key, size_t key_len)
{
    return klen == key_len + 1 + TS_LEN && k[0] == 'W' &&
           memcmp(k + 1, key, key_len) == 0;
}

static void
lock_encode(const struct mvcc_lock *lk, char **out, size_t *len)
{
    size_t n = LOCK_FIXED + lk->primary_len;
    char *p = malloc(n);
    if (p == NULL)
        abort();
    put_be64(lk->start_ts, p);
    put_be64(lk->ttl_ms, p + 8);
    put_be64(lk->owner, p + 16);
    p[24] = (char)lk->kind;
    p[25] = (char)(lk->primary_len >> 24);
    p[26] = (char)(lk->primary_len >> 16);
    p[27] = (char)(lk->primary_len >> 8);
    p[28] = (char)lk->primary_len;
    if (lk->primary_len > 0)
        memcpy(p + LOCK_FIXED, lk->primary, lk->primary_len);
    *out = p;
    *len = n;
}

/* Decode lock value @v (borrowed by lk->primary). TL_ECORRUPT. */
static int
lock_decode(const char *v, size_t len, struct mvcc_lock *lk)
{
    const uint8_t *p = (const uint8_t *)v;
    if (len < LOCK_FIXED)
        return TL_ECORRUPT;
    lk->start_ts = tl_load_be64(p);
    lk->ttl_ms = tl_load_be64(p + 8);
    lk->owner = tl_load_be64(p + 16);
    lk->kind = (enum mvcc_kind)p[24];
    lk->primary_len = tl_load_be32(p + 25);
    if (lk->primary_len != len - LOCK_FIXED)
        return TL_ECORRUPT;
    lk->primary = p + LOCK_FIXED;
    return 0;
}

/* A decoded write record. */
struct wrec {
    uint64_t commit_ts, start_ts;
    enum mvcc_kind kind;
    bool inline_val;
    const char *val; /* inline value, borrowed */
    size_t val_len;
};

static int
wrec_decode(const char *k, size_t klen, const char *v, size_t vlen,
            struct wrec *w)
{
    const uint8_t *p = (const uint8_t *)v;
    if (vlen < WRITE_FIXED)
        return TL_ECORRUPT;
    w->commit_ts = key_ts(k, klen);
    w->start_ts = tl_load_be64(p);
    w->kind = (enum mvcc_kind)p[8];
    w->inline_val = (p[9] & WRITE_INLINE) != 0;
    w->val = v + WRITE_FIXED;
    w->val_len = vlen - WRITE_FIXED;
    if (!w->inline_val && w->val_len != 0)
        return TL_ECORRUPT;
    return 0;
}

/* Add the write record of @key at @commit_ts to @b; a PUT of at most
 * MVCC_INLINE_MAX bytes carries its value. */
static void
wrec_put(struct store_batch *b, struct store_cf *cf, const void *key,
         size_t key_len, uint64_t commit_ts, uint64_t start_ts,
         enum mvcc_kind kind, const void *val, size_t len, bool inline_val)
{
    char *k = key_buf(key_len);
    size_t klen = mvcc_encode_key('W', key, key_len, commit_ts, k);
    size_t vlen = WRITE_FIXED + (inline_val ? len : 0);
    char *v = malloc(vlen);
    if (v == NULL)
        abort();
    put_be64(start_ts, v);
    v[8] = (char)kind;
    v[9] = (char)(inline_val ? WRITE_INLINE : 0);
    if (inline_val && len > 0)
        memcpy(v + WRITE_FIXED, val, len);
    store_batch_put(b, cf, k, klen, v, vlen);
    free(v);
    free(k);
}

/* ------------------------------------------------------------ reads */

/* Read @key's lock into *@lk (primary in *@buf, malloc'd). 1 when
 * present, 0 when not, TL_EIO/TL_ECORRUPT. */
static int
read_lock(struct store *st, struct store_cf *cf, const void *key,
          size_t key_len, struct mvcc_lock *lk, uint8_t **buf)
{
    char *k = key_buf(key_len);
    size_t klen = mvcc_encode_key('L', key, key_len, 0, k);
    char *v;
    size_t vlen;
    int rv = store_get(st, cf, NULL, k, klen, &v, &vlen, "mvcc_lock");
    free(k);
    *buf = NULL;
    if (rv != 0)
        return rv;
    if (v == NULL)
        return 0;
    rv = lock_decode(v, vlen, lk);
    if (rv != 0) {
        free(v);
        return rv;
    }
    *buf = (uint8_t *)v;
    lk->primary = *buf + LOCK_FIXED;
    return 1;
}

/* The value of a non-inline PUT by @start_ts: malloc'd into *@val. */
static int
read_data(struct store *st, struct store_cf *cf, const void *key,
          size_t key_len, uint64_t start_ts, char **val, size_t *len)
{
    char *k = key_buf(key_len);
    size_t klen = mvcc_encode_key('D', key, key_len, start_ts, k);
    int rv = store_get(st, cf, NULL, k, klen, val, len, "mvcc_data");
    free(k);
    if (rv == 0 && *val == NULL)
        rv = TL_ECORRUPT; /* a PUT whose data is gone */
    return rv;
}

/* Position @it at @key's newest write record with commit_ts <= @ts and
 * walk to the first PUT or DELETE: 1 with *@w, 0 when there is none. */
static int
find_visible(struct store_iter *it, const void *key, size_t key_len,
             uint64_t ts, struct wrec *w)
{
    char *k = key_buf(key_len);
    size_t klen = mvcc_encode_key('W', key, key_len, ts, k);
    int rv = 0;

    store_iter_seek(it, k, klen);
    free(k);
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t kl, vl;
        const char *ik = store_iter_key(it, &kl);
        const char *iv;
        if (!is_write_of(ik, kl, key, key_len))
            break;
        iv = store_iter_value(it, &vl);
        rv = wrec_decode(ik, kl, iv, vl, w);
        if (rv != 0)
            return rv;
        if (w->kind == MVCC_PUT || w->kind == MVCC_DELETE)
            return 1;
    }
    return store_iter_status(it, NULL, 0);
}

/* The value *@val (malloc'd) of visible record @w of @key. */
static int
version_value(struct store *st, struct store_cf *cf, const void *key,
              size_t key_len, const struct wrec *w, char **val, size_t *len)
{
    *val = NULL;
    *len = 0;
    if (w->kind != MVCC_PUT)
        return 0;
    if (!w->inline_val)
        return read_data(st, cf, key, key_len, w->start_ts, val, len);
    *val = malloc(w->val_len > 0 ? w->val_len : 1);
    if (*val == NULL)
        abort();
    memcpy(*val, w->val, w->val_len);
    *len = w->val_len;
    return 0;
}

int
mvcc_get(struct store *st, struct store_cf *cf, const void *key, size_t key_len,
         uint64_t read_ts, char **val, size_t *len, struct mvcc_version *ver,
         struct mvcc_lock *lock, uint8_t **lock_buf)
{
    struct store_iter *it;
    struct wrec w;
    int rv;

    *val = NULL;
    *len = 0;
    rv = read_lock(st, cf, key, key_len, lock, lock_buf);
    if (rv < 0)
        return rv;
    if (rv == 1) {
        if (lock->start_ts <= read_ts)
            return MVCC_LOCKED;
        free(*lock_buf);
        *lock_buf = NULL;
    }
    it = store_iter_create(st, cf, NULL);
    rv = find_visible(it, key, key_len, read_ts, &w);
    if (rv == 1) {
        if (ver != NULL) {
            ver->commit_ts = w.commit_ts;
            ver->start_ts = w.start_ts;
            ver->kind = w.kind;
        }
        rv = version_value(st, cf, key, key_len, &w, val, len);
    } else if (rv == 0 && ver != NULL) {
        memset(ver, 0, sizeof *ver);
        ver->kind = MVCC_DELETE;
    }
    store_iter_destroy(it);
    return rv < 0 ? rv : MVCC_OK;
}

/* ------------------------------------------------------------ writes */

/* The conflict check of a write by @start_ts over the write records of
 * @key committed at or after start_ts: MVCC_WRITE_CONFLICT for another
 * transaction's PUT, DELETE or LOCK; MVCC_ROLLED_BACK for our own
 * rollback; else MVCC_OK, with *@committed set when our own transaction
 * already committed the key. TL_EIO, TL_ECORRUPT. */
static int
check_newer(struct store *st, struct store_cf *cf, const void *key,
            size_t key_len, uint64_t start_ts, bool *committed)
{
    struct store_iter *it = store_iter_create(st, cf, NULL);
    char *k = key_buf(key_len);
    size_t klen = mvcc_encode_key('W', key, key_len, UINT64_MAX, k);
    int rv = MVCC_OK;

    *committed = false;
    store_iter_seek(it, k, klen);
    free(k);
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t kl, vl;
        const char *ik = store_iter_key(it, &kl);
        struct wrec w;
        if (!is_write_of(ik, kl, key, key_len))
            break;
        const char *iv = store_iter_value(it, &vl);
        rv = wrec_decode(ik, kl, iv, vl, &w);
        if (rv != 0)
            break;
        if (w.commit_ts < start_ts)
            break; /* older: no conflict */
        if (w.start_ts == start_ts) {
            if (w.kind == MVCC_ROLLBACK) {
                rv = MVCC_ROLLED_BACK;
                break;
            }
            *committed = true;
            continue;
        }
        if (w.kind == MVCC_ROLLBACK)
            continue; /* another transaction's rollback: no write */
        rv = MVCC_WRITE_CONFLICT;
        break;
    }
    if (rv == MVCC_OK)
        rv = store_iter_status(it, NULL, 0);
    store_iter_destroy(it);
    return rv;
}

int
mvcc_prewrite(struct store *st, struct store_cf *cf, struct store_batch *b,
              const void *key, size_t key_len, const struct mvcc_lock *lk,
              const void *val, size_t len, struct mvcc_lock *other,
              uint8_t **other_buf)
{
    struct mvcc_lock cur;
    uint8_t *cur_buf = NULL;
    bool committed;
    char *k, *lv;
    size_t klen, lvlen;
    int rv;

    assert(lk->kind == MVCC_PUT || lk->kind == MVCC_DELETE ||
           lk->kind == MVCC_LOCK);
    rv = read_lock(st, cf, key, key_len, &cur, &cur_buf);
    if (rv < 0)
        return rv;
    if (rv == 1) {
        bool ours = cur.start_ts == lk->start_ts;
        if (!ours && other != NULL) {
            *other = cur;
            *other_buf = cur_buf;
            cur_buf = NULL;
        }
        free(cur_buf);
        return ours ? MVCC_OK : MVCC_LOCKED;
    }
    rv = check_newer(st, cf, key, key_len, lk->start_ts, &committed);
    if (rv != MVCC_OK)
        return rv;
    if (committed)
        return MVCC_OK; /* a retry after the commit: nothing to do */
    k = key_buf(key_len);
    klen = mvcc_encode_key('L', key, key_len, 0, k);
    lock_encode(lk, &lv, &lvlen);
    store_batch_put(b, cf, k, klen, lv, lvlen);
    free(lv);
    if (lk->kind == MVCC_PUT) {
        /* The value waits under its data key; mvcc_commit() moves a small
         * one inline. */
        klen = mvcc_encode_key('D', key, key_len, lk->start_ts, k);
        store_batch_put(b, cf, k, klen, val, len);
    }
    free(k);
    return MVCC_OK;
}

int
mvcc_commit(struct store *st, struct store_cf *cf, struct store_batch *b,
            const void *key, size_t key_len, uint64_t start_ts,
            uint64_t commit_ts)
{
    struct mvcc_lock cur;
    uint8_t *cur_buf = NULL;
    bool committed;
    int rv;

    assert(commit_ts > start_ts);
    rv = read_lock(st, cf, key, key_len, &cur, &cur_buf);
    if (rv < 0)
        return rv;
    if (rv == 0 || cur.start_ts != start_ts) {
        free(cur_buf);
        rv = check_newer(st, cf, key, key_len, start_ts, &committed);
        if (rv != MVCC_OK)
            return rv == MVCC_WRITE_CONFLICT ? MVCC_NO_LOCK : rv;
        return committed ? MVCC_OK : MVCC_NO_LOCK;
    }
    {
        enum mvcc_kind kind = cur.kind;
        char *k = key_buf(key_len);
        size_t klen;
        free(cur_buf);
        if (kind == MVCC_PUT) {
            char *v;
            size_t vlen;
            rv = read_data(st, cf, key, key_len, start_ts, &v, &vlen);
            if (rv != 0) {
                free(k);
                return rv;
            }
            if (vlen <= MVCC_INLINE_MAX) {
                wrec_put(b, cf, key, key_len, commit_ts, start_ts, kind, v,
                         vlen, true);
                klen = mvcc_encode_key('D', key, key_len, start_ts, k);
                store_batch_delete(b, cf, k, klen);
            } else {
                wrec_put(b, cf, key, key_len, commit_ts, start_ts, kind, NULL,
                         0, false);
            }
            free(v);
        } else {
            wrec_put(b, cf, key, key_len, commit_ts, start_ts, kind, NULL, 0,
                     false);
        }
        klen = mvcc_encode_key('L', key, key_len, 0, k);
        store_batch_delete(b, cf, k, klen);
        free(k);
    }
    return MVCC_OK;
}

int
mvcc_rollback(struct store *st, struct store_cf *cf, struct store_batch *b,
              const void *key, size_t key_len, uint64_t start_ts)
{
    struct mvcc_lock cur;
    uint8_t *cur_buf = NULL;
    bool committed;
    char *k;
    size_t klen;
    int rv;

    rv = check_newer(st, cf, key, key_len, start_ts, &committed);
    if (rv == MVCC_ROLLED_BACK)
        return MVCC_OK; /* already */
    if (rv < 0)
        return rv;
    if (committed)
        return MVCC_WRITE_CONFLICT;
    rv = read_lock(st, cf, key, key_len, &cur, &cur_buf);
    if (rv < 0)
        return rv;
    k = key_buf(key_len);
    if (rv == 1 && cur.start_ts == start_ts) {
        klen = mvcc_encode_key('L', key, key_len, 0, k);
        store_batch_delete(b, cf, k, klen);
    }
    free(cur_buf);
    klen = mvcc_encode_key('D', key, key_len, start_ts, k);
    store_batch_delete(b, cf, k, klen);
    free(k);
    wrec_put(b, cf, key, key_len, start_ts, start_ts, MVCC_ROLLBACK, NULL, 0,
             false);
    return MVCC_OK;
}

int
mvcc_write_1pc(struct store *st, struct store_cf *cf, struct store_batch *b,
               const void *key, size_t key_len, enum mvcc_kind kind,
               const void *val, size_t len, uint64_t start_ts,
               uint64_t commit_ts)
{
    struct mvcc_lock cur;
    uint8_t *cur_buf = NULL;
    bool committed;
    int rv;

    assert(kind == MVCC_PUT || kind == MVCC_DELETE);
    assert(commit_ts >= start_ts);
    rv = read_lock(st, cf, key, key_len, &cur, &cur_buf);
    free(cur_buf);
    if (rv < 0)
        return rv;
    if (rv == 1)
        return MVCC_LOCKED;
    rv = check_newer(st, cf, key, key_len, start_ts, &committed);
    if (rv != MVCC_OK)
        return rv;
    if (committed)
        return MVCC_OK;
    if (kind == MVCC_PUT && len > MVCC_INLINE_MAX) {
        char *k = key_buf(key_len);
        size_t klen = mvcc_encode_key('D', key, key_len, start_ts, k);
        store_batch_put(b, cf, k, klen, val, len);
        free(k);
        wrec_put(b, cf, key, key_len, commit_ts, start_ts, kind, NULL, 0,
                 false);
    } else {
        wrec_put(b, cf, key, key_len, commit_ts, start_ts, kind, val, len,
                 kind == MVCC_PUT);
    }
    return MVCC_OK;
}

int
mvcc_gc_key(struct store *st, struct store_cf *cf, struct store_batch *b,
            const void *key, size_t key_len, uint64_t safe_point,
            uint64_t *n_removed)
{
    struct store_iter *it = store_iter_create(st, cf, NULL);
    char *k = key_buf(key_len);
    size_t klen = mvcc_encode_key('W', key, key_len, safe_point, k);
    bool seen_visible = false;
    uint64_t n = 0;
    int rv = 0;

    /* From the newest record at or below the safe point, older first. */
    store_iter_seek(it, k, klen);
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t kl, vl;
        const char *ik = store_iter_key(it, &kl);
        struct wrec w;
        bool drop;
        if (!is_write_of(ik, kl, key, key_len))
            break;
        const char *iv = store_iter_value(it, &vl);
        rv = wrec_decode(ik, kl, iv, vl, &w);
        if (rv != 0)
            break;
        if (w.kind == MVCC_PUT || w.kind == MVCC_DELETE) {
            /* The first one is what reads at the safe point see: a PUT
             * stays, a DELETE goes (nothing to see); older ones go. */
            drop = seen_visible || w.kind == MVCC_DELETE;
            seen_visible = true;
        } else {
            drop = true; /* LOCK / ROLLBACK matter only above it */
        }
        if (!drop)
            continue;
        store_batch_delete(b, cf, ik, kl);
        n++;
        if (w.kind == MVCC_PUT && !w.inline_val) {
            size_t dl = mvcc_encode_key('D', key, key_len, w.start_ts, k);
            store_batch_delete(b, cf, k, dl);
        }
    }
    if (rv == 0)
        rv = store_iter_status(it, NULL, 0);
    store_iter_destroy(it);
    free(k);
    if (n_removed != NULL)
        *n_removed = n;
    return rv;
}

/* ------------------------------------------------------------ scans */

struct mvcc_scan {
    struct store *st;
    struct store_cf *cf;
    uint64_t read_ts;
    struct store_iter *w; /* over 'W' start .. 'W' end */
    struct store_iter *l; /* over 'L' start .. 'L' end */
    char *end;            /* user key bound, or NULL */
    size_t end_len;
    char *cur; /* the user key of the last row yielded */
    size_t cur_len, cur_cap;
    char *val;         /* the last row's value (malloc'd) */
    uint8_t *lock_buf; /* the last lock reported */
    bool started;
};

static char *
prefixed(char prefix, const void *key, size_t len, size_t *out_len)
{
    char *p = malloc(len + 1);
    if (p == NULL)
        abort();
    p[0] = prefix;
    if (len > 0)
        memcpy(p + 1, key, len);
    *out_len = len + 1;
    return p;
}

struct mvcc_scan *
mvcc_scan_create(struct store *st, struct store_cf *cf, const void *start,
                 size_t start_len, const void *end, size_t end_len,
                 uint64_t read_ts)
{
    struct mvcc_scan *s = calloc(1, sizeof *s);
    struct store_read r = store_read_latest();
    char hi_w[1] = {'W' + 1}, hi_l[1] = {'L' + 1};
    char *b;
    size_t blen;

    if (s == NULL)
        abort();
    s->st = st;
    s->cf = cf;
    s->read_ts = read_ts;
    if (end != NULL) {
        s->end = malloc(end_len > 0 ? end_len : 1);
        if (s->end == NULL)
            abort();
        memcpy(s->end, end, end_len);
        s->end_len = end_len;
        b = prefixed('W', end, end_len, &blen);
        r.upper = b;
        r.upper_len = blen;
        s->w = store_iter_create(st, cf, &r);
        free(b);
        b = prefixed('L', end, end_len, &blen);
        r.upper = b;
        r.upper_len = blen;
        s->l = store_iter_create(st, cf, &r);
        free(b);
    } else {
        r.upper = hi_w;
        r.upper_len = 1;
        s->w = store_iter_create(st, cf, &r);
        r.upper = hi_l;
        s->l = store_iter_create(st, cf, &r);
    }
    b = prefixed('W', start, start_len, &blen);
    store_iter_seek(s->w, b, blen);
    b[0] = 'L';
    store_iter_seek(s->l, b, blen);
    free(b);
    return s;
}

void
mvcc_scan_destroy(struct mvcc_scan *s)
{
    if (s == NULL)
        return;
    store_iter_destroy(s->w);
    store_iter_destroy(s->l);
    free(s->end);
    free(s->cur);
    free(s->val);
    free(s->lock_buf);
    free(s);
}

/* Compare user keys. */
static int
ukey_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c != 0)
        return c;
    return al < bl ? -1 : al > bl;
}

static void
set_cur(struct mvcc_scan *s, const char *k, size_t len)
{
    if (len > s->cur_cap) {
        s->cur = realloc(s->cur, len);
        if (s->cur == NULL)
            abort();
        s->cur_cap = len;
    }
    memcpy(s->cur, k, len);
    s->cur_len = len;
}

/* Skip locks the read does not see (start_ts > read_ts); position s->l
 * at the next one it sees, if any: 1 with *@lk, 0 none. */
static int
next_visible_lock(struct mvcc_scan *s, struct mvcc_lock *lk)
{
    for (; store_iter_valid(s->l); store_iter_next(s->l)) {
        size_t vl;
        const char *v = store_iter_value(s->l, &vl);
        int rv = lock_decode(v, vl, lk);
        if (rv != 0)
            return rv;
        if (lk->start_ts <= s->read_ts)
            return 1;
    }
    return store_iter_status(s->l, NULL, 0);
}

int
mvcc_scan_next(struct mvcc_scan *s, struct mvcc_row *row)
{
    free(s->val);
    s->val = NULL;
    free(s->lock_buf);
    s->lock_buf = NULL;
    memset(row, 0, sizeof *row);
    for (;;) {
        struct mvcc_lock lk;
        const char *wk = NULL, *lkey = NULL;
        size_t wkl = 0, lkl = 0;
        int have_lock, rv;

        have_lock = next_visible_lock(s, &lk);
        if (have_lock < 0)
            return have_lock;
        if (have_lock) {
            lkey = store_iter_key(s->l, &lkl);
            lkey++;
            lkl--;
        }
        if (store_iter_valid(s->w)) {
            wk = store_iter_key(s->w, &wkl);
            if (wkl < 1 + TS_LEN)
                return TL_ECORRUPT;
            wk++;
            wkl -= 1 + TS_LEN;
        } else if ((rv = store_iter_status(s->w, NULL, 0)) != 0) {
            return rv;
        }
        if (lkey != NULL && (wk == NULL || ukey_cmp(lkey, lkl, wk, wkl) <= 0)) {
            /* The scan stops at a key a transaction holds. */
            size_t vl;
            const char *v = store_iter_value(s->l, &vl);
            s->lock_buf = malloc(vl > 0 ? vl : 1);
            if (s->lock_buf == NULL)
                abort();
            memcpy(s->lock_buf, v, vl);
            rv = lock_decode((const char *)s->lock_buf, vl, &row->lock);
            if (rv != 0)
                return rv;
            set_cur(s, lkey, lkl);
            row->key = s->cur;
            row->key_len = s->cur_len;
            return MVCC_LOCKED;
        }
        if (wk == NULL)
            return MVCC_END;
        {
            struct wrec w;
            char *skip;
            size_t skip_len;
            set_cur(s, wk, wkl);
            rv = find_visible(s->w, s->cur, s->cur_len, s->read_ts, &w);
            if (rv < 0)
                return rv;
            /* Past this key's records: its smallest possible timestamp. */
            skip = key_buf(s->cur_len);
            skip_len = mvcc_encode_key('W', s->cur, s->cur_len, 0, skip);
            store_iter_seek(s->w, skip, skip_len);
            free(skip);
            if (rv == 1 && w.kind == MVCC_PUT) {
                size_t len;
                rv = version_value(s->st, s->cf, s->cur, s->cur_len, &w,
                                   &s->val, &len);
                if (rv != 0)
                    return rv;
                row->key = s->cur;
                row->key_len = s->cur_len;
                row->val = s->val;
                row->val_len = len;
                row->ver.commit_ts = w.commit_ts;
                row->ver.start_ts = w.start_ts;
                row->ver.kind = w.kind;
                return MVCC_OK;
            }
            /* Deleted or never visible at read_ts: the next key. */
        }
    }
}
