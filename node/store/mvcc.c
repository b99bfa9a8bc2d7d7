/* mvcc — see mvcc.h. */
#include "node/store/mvcc.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "tl_error.h"

#define TS_LEN 8
#define LOCK_FIXED (8 + 8 + 8 + 1 + 4 + 8)
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

static void
put_be32(uint32_t v, char *out)
{
    for (int i = 3; i >= 0; i--) {
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

/* The key of @key in the index of transaction @start_ts's locks:
 * 'T' ~ start_ts (8 bytes, big-endian) ~ @key, in @out (key_len + 9
 * bytes; its length returned). Every lock record has one, written and
 * deleted with it, so ending a transaction visits its own locks only,
 * never the deleted lock records of every transaction before it. */
static size_t
txn_index_key(uint64_t start_ts, const void *key, size_t key_len, char *out)
{
    out[0] = 'T';
    store_encode_u64(start_ts, out + 1);
    memcpy(out + 1 + 8, key, key_len);
    return key_len + 9;
}

/* Add to @b the put (@put) or delete of @key's entry in the index of
 * @start_ts's locks. */
static void
txn_index_write(struct store_batch *b, struct store_cf *cf, uint64_t start_ts,
                const void *key, size_t key_len, bool put)
{
    char *k = malloc(key_len + 9);
    if (k == NULL)
        abort();
    size_t klen = txn_index_key(start_ts, key, key_len, k);
    if (put)
        store_batch_put(b, cf, k, klen, "", 0);
    else
        store_batch_delete(b, cf, k, klen);
    free(k);
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

/* Whether user key @key is a transaction's record (router/txn/coord.h:
 * 0xFE, the shard, the start timestamp): GC keeps its write records,
 * which are how resolvers learn the transaction's fate. */
static bool
is_txn_record(const void *key, size_t key_len)
{
    return key_len == MVCC_RECORD_KEY_LEN &&
           ((const uint8_t *)key)[0] == MVCC_RECORD_PREFIX;
}

static void
lock_encode(const struct mvcc_lock *lk, char **out, size_t *len)
{
    bool ext = lk->seq != 0 || lk->history_len > 0;
    size_t n = LOCK_FIXED + lk->primary_len + (ext ? 4 + lk->history_len : 0);
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
    put_be64(lk->min_commit_ts, p + 29);
    if (lk->primary_len > 0)
        memcpy(p + LOCK_FIXED, lk->primary, lk->primary_len);
    if (ext) {
        char *q = p + LOCK_FIXED + lk->primary_len;
        put_be32(lk->seq, q);
        if (lk->history_len > 0)
            memcpy(q + 4, lk->history, lk->history_len);
    }
    *out = p;
    *len = n;
}

/* Decode lock value @v (borrowed by lk->primary and lk->history).
 * TL_ECORRUPT. */
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
    lk->min_commit_ts = tl_load_be64(p + 29);
    lk->primary = p + LOCK_FIXED;
    lk->seq = 0;
    lk->savepoint_seq = 0;
    lk->history = NULL;
    lk->history_len = 0;
    if (lk->primary_len > len - LOCK_FIXED)
        return TL_ECORRUPT;
    size_t rest = len - LOCK_FIXED - lk->primary_len;
    if (rest == 0)
        return 0; /* written before statement numbers */
    if (rest < 4)
        return TL_ECORRUPT;
    lk->seq = tl_load_be32(lk->primary + lk->primary_len);
    lk->history = lk->primary + lk->primary_len + 4;
    lk->history_len = rest - 4;
    return 0;
}

/* One earlier pending write of a key in a lock's history: the write of
 * statement @seq (@kind, a PUT's value @val/@len, borrowed). */
struct hist_entry {
    uint32_t seq;
    enum mvcc_kind kind;
    const void *val;
    size_t len;
};

#define HIST_FIXED (4 + 1 + 4)

/* Decode the history entry at @off of @lk's history into *@e; the
 * offset of the next one, or 0 when malformed. */
static size_t
hist_next(const struct mvcc_lock *lk, size_t off, struct hist_entry *e)
{
    if (lk->history_len - off < HIST_FIXED)
        return 0;
    const uint8_t *p = lk->history + off;
    e->seq = tl_load_be32(p);
    e->kind = (enum mvcc_kind)p[4];
    e->len = tl_load_be32(p + 5);
    e->val = p + HIST_FIXED;
    if (e->len > lk->history_len - off - HIST_FIXED)
        return 0;
    return off + HIST_FIXED + e->len;
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
    *buf = (uint8_t *)v; /* lk's pointers point into it */
    return 1;
}

/* The value of a non-inline PUT by @start_ts, as read @sr (NULL: the
 * current state) sees it: malloc'd into *@val. */
static int
read_data_at(struct store *st, struct store_cf *cf, const struct store_read *sr,
             const void *key, size_t key_len, uint64_t start_ts, char **val,
             size_t *len)
{
    char *k = key_buf(key_len);
    size_t klen = mvcc_encode_key('D', key, key_len, start_ts, k);
    int rv = store_get(st, cf, sr, k, klen, val, len, "mvcc_data");
    free(k);
    if (rv == 0 && *val == NULL)
        rv = TL_ECORRUPT; /* a PUT whose data is gone */
    return rv;
}

static int
read_data(struct store *st, struct store_cf *cf, const void *key,
          size_t key_len, uint64_t start_ts, char **val, size_t *len)
{
    return read_data_at(st, cf, NULL, key, key_len, start_ts, val, len);
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

/* The committed version of @key a read at @ts sees: *@val (malloc'd,
 * NULL for none) and *@ver. */
static int
committed_get(struct store *st, struct store_cf *cf, const void *key,
              size_t key_len, uint64_t ts, char **val, size_t *len,
              struct mvcc_version *ver)
{
    struct store_iter *it = store_iter_create(st, cf, NULL);
    struct wrec w;
    int rv = find_visible(it, key, key_len, ts, &w);
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

int
mvcc_get(struct store *st, struct store_cf *cf, const void *key, size_t key_len,
         uint64_t read_ts, char **val, size_t *len, struct mvcc_version *ver,
         struct mvcc_lock *lock, uint8_t **lock_buf)
{
    int rv;

    *val = NULL;
    *len = 0;
    *lock_buf = NULL;
    if (read_ts != MVCC_TS_LATEST) {
        rv = read_lock(st, cf, key, key_len, lock, lock_buf);
        if (rv < 0)
            return rv;
        if (rv == 1) {
            if (lock->start_ts <= read_ts)
                return MVCC_LOCKED;
            free(*lock_buf);
            *lock_buf = NULL;
        }
    }
    return committed_get(st, cf, key, key_len, read_ts, val, len, ver);
}

/* ------------------------------------------------------------ writes */

/* The conflict check of a write by @start_ts over the write records of
 * @key committed at or after start_ts: MVCC_WRITE_CONFLICT for another
 * transaction's PUT or DELETE committed after @seen (start_ts - 1:
 * any; a later statement snapshot: what it did not see); MVCC_ROLLED_BACK
 * for our own rollback; else MVCC_OK, with *@committed set when our own
 * transaction already committed the key. TL_EIO, TL_ECORRUPT. */
static int
check_newer_seen(struct store *st, struct store_cf *cf, const void *key,
                 size_t key_len, uint64_t start_ts, uint64_t seen,
                 bool *committed)
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
        if (w.kind == MVCC_ROLLBACK || w.kind == MVCC_LOCK)
            continue; /* another transaction's rollback or row lock (a
                         committed SELECT ... FOR UPDATE): no write, no
                         conflict, as a row PostgreSQL only locked */
        if (w.commit_ts <= seen)
            continue; /* the writer's snapshot saw it */
        rv = MVCC_WRITE_CONFLICT;
        break;
    }
    if (rv == MVCC_OK)
        rv = store_iter_status(it, NULL, 0);
    store_iter_destroy(it);
    return rv;
}

static int
check_newer(struct store *st, struct store_cf *cf, const void *key,
            size_t key_len, uint64_t start_ts, bool *committed)
{
    return check_newer_seen(st, cf, key, key_len, start_ts, start_ts - 1,
                            committed);
}

int
mvcc_prewrite(struct store *st, struct store_cf *cf, struct store_batch *b,
              const void *key, size_t key_len, const struct mvcc_lock *lk,
              const void *val, size_t len, struct mvcc_lock *other,
              uint8_t **other_buf)
{
    return mvcc_prewrite_seen(st, cf, b, key, key_len, lk, lk->start_ts - 1,
                              val, len, other, other_buf, NULL);
}

/* The lock record of @lk replacing the transaction's own pending write
 * of @key: the replaced write's history stays, and the replaced write
 * joins it when a savepoint lies between the two (it was made at or
 * before lk->savepoint_seq), so ROLLBACK TO that savepoint can restore
 * it. Into *@out (malloc'd). TL_EIO, TL_ECORRUPT. */
static int
keep_history(struct store *st, struct store_cf *cf, const void *key,
             size_t key_len, const struct mvcc_lock *lk, char **out,
             size_t *out_len)
{
    struct mvcc_lock cur, next = *lk;
    uint8_t *cur_buf = NULL;
    char *val = NULL, *hist = NULL;
    size_t len = 0;
    int rv = read_lock(st, cf, key, key_len, &cur, &cur_buf);

    if (rv < 0)
        return rv;
    assert(rv == 1 && cur.start_ts == lk->start_ts);
    next.history = cur.history;
    next.history_len = cur.history_len;
    next.min_commit_ts = cur.min_commit_ts;
    if (lk->savepoint_seq > 0 && cur.seq <= lk->savepoint_seq &&
        cur.seq != lk->seq) {
        if (cur.kind == MVCC_PUT) {
            rv = read_data_at(st, cf, NULL, key, key_len, cur.start_ts, &val,
                              &len);
            if (rv != 0) {
                free(cur_buf);
                return rv;
            }
        }
        size_t n = cur.history_len + HIST_FIXED + len;
        hist = malloc(n);
        if (hist == NULL)
            abort();
        if (cur.history_len > 0)
            memcpy(hist, cur.history, cur.history_len);
        char *e = hist + cur.history_len;
        put_be32(cur.seq, e);
        e[4] = (char)cur.kind;
        put_be32((uint32_t)len, e + 5);
        if (len > 0)
            memcpy(e + HIST_FIXED, val, len);
        next.history = (const uint8_t *)hist;
        next.history_len = n;
    }
    lock_encode(&next, out, out_len);
    free(hist);
    free(val);
    free(cur_buf);
    return 0;
}

int
mvcc_prewrite_seen(struct store *st, struct store_cf *cf, struct store_batch *b,
                   const void *key, size_t key_len, const struct mvcc_lock *lk,
                   uint64_t seen, const void *val, size_t len,
                   struct mvcc_lock *other, uint8_t **other_buf, bool *fresh)
{
    struct mvcc_lock cur;
    uint8_t *cur_buf = NULL;
    bool committed, ours = false;
    char *k, *lv;
    size_t klen, lvlen;
    int rv;

    assert(lk->kind == MVCC_PUT || lk->kind == MVCC_DELETE ||
           lk->kind == MVCC_LOCK);
    if (fresh != NULL)
        *fresh = false;
    rv = read_lock(st, cf, key, key_len, &cur, &cur_buf);
    if (rv < 0)
        return rv;
    if (rv == 1) {
        ours = cur.start_ts == lk->start_ts;
        enum mvcc_kind had = cur.kind;
        if (!ours && other != NULL) {
            *other = cur;
            *other_buf = cur_buf;
            cur_buf = NULL;
        }
        free(cur_buf);
        if (!ours)
            return MVCC_LOCKED;
        /* Our own lock: a later write of the same transaction replaces
         * the pending one (a row lock never weakens a write). */
        if (lk->kind == MVCC_LOCK ||
            (lk->kind == had && val == NULL && lk->kind != MVCC_PUT))
            return MVCC_OK;
    } else {
        rv = check_newer_seen(st, cf, key, key_len, lk->start_ts, seen,
                              &committed);
        if (rv != MVCC_OK)
            return rv;
        if (committed)
            return MVCC_OK; /* a retry after the commit: nothing to do */
    }
    k = key_buf(key_len);
    klen = mvcc_encode_key('L', key, key_len, 0, k);
    if (ours) {
        rv = keep_history(st, cf, key, key_len, lk, &lv, &lvlen);
        if (rv != 0) {
            free(k);
            return rv;
        }
    } else {
        lock_encode(lk, &lv, &lvlen);
    }
    store_batch_put(b, cf, k, klen, lv, lvlen);
    free(lv);
    txn_index_write(b, cf, lk->start_ts, key, key_len, true);
    klen = mvcc_encode_key('D', key, key_len, lk->start_ts, k);
    if (lk->kind == MVCC_PUT) {
        /* The value waits under its data key; mvcc_commit() moves a small
         * one inline. */
        store_batch_put(b, cf, k, klen, val, len);
    } else if (ours) {
        store_batch_delete(b, cf, k, klen);
    }
    free(k);
    if (fresh != NULL)
        *fresh = !ours;
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
        txn_index_write(b, cf, start_ts, key, key_len, false);
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
        txn_index_write(b, cf, start_ts, key, key_len, false);
    }
    free(cur_buf);
    klen = mvcc_encode_key('D', key, key_len, start_ts, k);
    store_batch_delete(b, cf, k, klen);
    free(k);
    wrec_put(b, cf, key, key_len, start_ts, start_ts, MVCC_ROLLBACK, NULL, 0,
             false);
    return MVCC_OK;
}

/* Add to @b a committed version of @key (PUT of @val/@len or DELETE) by
 * @start_ts at @commit_ts: its write record, the value inline when it is
 * small, else in a data record. */
static void
put_version(struct store_batch *b, struct store_cf *cf, const void *key,
            size_t key_len, enum mvcc_kind kind, const void *val, size_t len,
            uint64_t start_ts, uint64_t commit_ts)
{
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
    put_version(b, cf, key, key_len, kind, val, len, start_ts, commit_ts);
    return MVCC_OK;
}

int
mvcc_write_at(struct store *st, struct store_cf *cf, struct store_batch *b,
              const void *key, size_t key_len, enum mvcc_kind kind,
              const void *val, size_t len, uint64_t commit_ts, bool check_lock)
{
    assert(kind == MVCC_PUT || kind == MVCC_DELETE);
    if (check_lock) {
        struct mvcc_lock cur;
        uint8_t *cur_buf = NULL;
        int rv = read_lock(st, cf, key, key_len, &cur, &cur_buf);
        free(cur_buf);
        if (rv < 0)
            return rv;
        if (rv == 1)
            return MVCC_LOCKED;
    }
    put_version(b, cf, key, key_len, kind, val, len, commit_ts, commit_ts);
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

    if (is_txn_record(key, key_len)) {
        store_iter_destroy(it);
        free(k);
        if (n_removed != NULL)
            *n_removed = 0;
        return 0;
    }
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

/* ------------------------------------------------------------ GC filter */

/* One compaction's view of GC: the write records of each user key arrive
 * newest first (~commit_ts), after its data and lock records ('D' < 'L' <
 * 'W'). Of the records at or below the safe point, the first PUT or
 * DELETE seen is what reads at the safe point see: it stays (a DELETE
 * goes only when the compaction reads every file, so that no older
 * version of the key can be left in a file this compaction did not see:
 * removing the DELETE would uncover it); LOCK / ROLLBACK records and
 * every older version go. Keeping the first one seen is safe even when a
 * newer one lives in another file: that one is kept there too (each
 * compaction keeps the newest it sees), so every dropped version always
 * has a kept newer one at or below the safe point. */
struct gc_filter {
    struct store_cf *cf;
    uint64_t sp;
    bool full;
    char *cur; /* 'W' + the current user key */
    size_t cur_len, cur_cap;
    bool seen;     /* the current key's visible record at sp passed */
    bool keep_all; /* the current key is a transaction's record */
    char *dkey;
    size_t dkey_cap;
};

static void *
gc_begin(void *arg, struct store_cf *cf, uint64_t floor, bool full)
{
    struct gc_filter *f = calloc(1, sizeof *f);
    (void)arg;
    if (f == NULL)
        abort();
    f->cf = cf;
    f->sp = floor;
    f->full = full;
    return f;
}

static bool
gc_drop(void *state, struct store_batch *deferred, const char *key,
        size_t key_len, const char *val, size_t val_len)
{
    struct gc_filter *f = state;
    struct wrec w;
    size_t ulen;

    if (key_len <= 1 + TS_LEN || key[0] != 'W')
        return false;        /* locks, data, reserved keys */
    ulen = key_len - TS_LEN; /* 'W' + user key */
    if (ulen != f->cur_len || memcmp(key, f->cur, ulen) != 0) {
        if (ulen > f->cur_cap) {
            f->cur = realloc(f->cur, ulen);
            if (f->cur == NULL)
                abort();
            f->cur_cap = ulen;
        }
        memcpy(f->cur, key, ulen);
        f->cur_len = ulen;
        f->seen = false;
        f->keep_all = is_txn_record(key + 1, ulen - 1);
    }
    if (f->keep_all)
        return false;
    if (key_ts(key, key_len) > f->sp)
        return false;
    if (wrec_decode(key, key_len, val, val_len, &w) != 0)
        return false; /* not ours to judge */
    if (w.kind != MVCC_PUT && w.kind != MVCC_DELETE)
        return true; /* LOCK / ROLLBACK: needed only above sp */
    if (!f->seen) {
        f->seen = true;
        return w.kind == MVCC_DELETE && f->full;
    }
    if (w.kind == MVCC_PUT && !w.inline_val) {
        if (key_len > f->dkey_cap) {
            f->dkey = realloc(f->dkey, key_len);
            if (f->dkey == NULL)
                abort();
            f->dkey_cap = key_len;
        }
        size_t dl =
            mvcc_encode_key('D', key + 1, ulen - 1, w.start_ts, f->dkey);
        store_batch_delete(deferred, f->cf, f->dkey, dl);
    }
    return true;
}

static void
gc_end(void *state)
{
    struct gc_filter *f = state;
    free(f->cur);
    free(f->dkey);
    free(f);
}

static const struct store_filter_ops gc_ops = {
    .begin = gc_begin,
    .drop = gc_drop,
    .end = gc_end,
};

void
mvcc_gc_install(struct store *st)
{
    store_set_filter(st, &gc_ops, NULL);
}

/* ------------------------------------------------------------ views */

struct mvcc_read
mvcc_read_at(uint64_t ts)
{
    struct mvcc_read r = {
        .read_ts = ts, .own_ts = 0, .raw = false, .fill_cache = true};
    return r;
}

/* Whether a read @r must look at locks at all: a read of the latest
 * committed state by no transaction never reports one. */
static bool
sees_locks(const struct mvcc_read *r)
{
    return !r->raw && (r->read_ts != MVCC_TS_LATEST || r->own_ts != 0);
}

/* What read @r makes of lock @lk: 1 its own write (visible), -1 a lock
 * it must report, 0 invisible to it. */
static int
judge_lock(const struct mvcc_read *r, const struct mvcc_lock *lk)
{
    if (r->own_ts != 0 && lk->start_ts == r->own_ts)
        return 1;
    for (size_t i = 0; i < r->n_ignore; i++)
        if (r->ignore[i] == lk->start_ts)
            return 0;
    if (r->read_ts != MVCC_TS_LATEST && lk->start_ts <= r->read_ts)
        return -1;
    return 0;
}

/* Our own pending write of @key (lock @lk): 1 with the value in *@val
 * (malloc'd), 0 for a DELETE, 2 for a LOCK (the committed version shows
 * through). */
static int
own_value(struct store *st, struct store_cf *cf, const struct store_read *sr,
          const void *key, size_t key_len, const struct mvcc_lock *lk,
          char **val, size_t *len)
{
    char *k;
    size_t klen;
    int rv;

    if (lk->kind == MVCC_DELETE)
        return 0;
    if (lk->kind != MVCC_PUT)
        return 2;
    k = key_buf(key_len);
    klen = mvcc_encode_key('D', key, key_len, lk->start_ts, k);
    rv = store_get(st, cf, sr, k, klen, val, len, "mvcc_own");
    free(k);
    if (rv != 0)
        return rv;
    return *val == NULL ? TL_ECORRUPT : 1;
}

int
mvcc_read_get(struct store *st, struct store_cf *cf, const struct mvcc_read *r,
              const void *key, size_t key_len, char **val, size_t *len,
              struct mvcc_lock *lock, uint8_t **lock_buf)
{
    *val = NULL;
    *len = 0;
    *lock_buf = NULL;
    if (r->raw)
        return store_get(st, cf, NULL, key, key_len, val, len, "raw_get");
    if (sees_locks(r)) {
        int rv = read_lock(st, cf, key, key_len, lock, lock_buf);
        if (rv < 0)
            return rv;
        if (rv == 1) {
            int j = judge_lock(r, lock);
            if (j < 0)
                return MVCC_LOCKED;
            if (j > 0) {
                rv = own_value(st, cf, NULL, key, key_len, lock, val, len);
                free(*lock_buf);
                *lock_buf = NULL;
                if (rv != 2)
                    return rv < 0 ? rv : MVCC_OK;
            } else {
                free(*lock_buf);
                *lock_buf = NULL;
            }
        }
    }
    return committed_get(st, cf, key, key_len, r->read_ts, val, len, NULL);
}

/* ------------------------------------------------------------ scans */

struct mvcc_scan {
    struct store *st;
    struct store_cf *cf;
    struct mvcc_read r;
    struct store_snap *snap; /* both iterators and data reads use it */
    struct store_read sr;    /* reads of data records: at snap */
    struct store_iter *w;    /* 'W' start .. 'W' end, or the raw keys */
    struct store_iter *l;    /* 'L' start ..; NULL: locks unseen */
    /* The user-key bounds, checked on each key: a user key that is a
     * proper prefix of a bound (a bound need not be a key) sorts its
     * records on either side of the prefixed bound. */
    char *start, *end; /* end NULL: none */
    size_t start_len, end_len;
    char *cur; /* the user key of the last row yielded */
    size_t cur_len, cur_cap;
    char *val;  /* the last row's value (malloc'd) */
    char *ibuf; /* the last row's inline value (reused) */
    size_t ibuf_cap;
    char *skip; /* scratch for a key past cur's records */
    size_t skip_cap;
    uint8_t *lock_buf; /* the last lock reported */
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

/* An iterator over @prefix'd keys from @start to the end of the prefix,
 * or for locks to the scan's end, at the scan's snapshot (the user-key
 * bounds are checked per key too). The lock bound matters: without it a
 * seek walks every deleted lock record after the range (those of every
 * committed transaction since the last compaction) before it can say
 * there is no lock. Write records are not deleted but by compaction. */
static struct store_iter *
prefix_iter(struct mvcc_scan *s, char prefix, const void *start,
            size_t start_len)
{
    struct store_read r = s->sr;
    struct store_iter *it;
    char hi[1] = {(char)(prefix + 1)};
    char *b, *e = NULL;
    size_t blen, elen;

    if (s->end != NULL && prefix == 'L') {
        /* 'L' K is exact: 'L' K < 'L' end when K < end. ('W' K ~ts is
         * not, when K is a proper prefix of the end bound: its write
         * records may sort above it.) */
        e = prefixed(prefix, s->end, s->end_len, &elen);
        r.upper = e;
        r.upper_len = elen;
    } else {
        r.upper = hi;
        r.upper_len = 1;
    }
    it = store_iter_create(s->st, s->cf, &r);
    free(e);
    b = prefixed(prefix, start, start_len, &blen);
    store_iter_seek(it, b, blen);
    free(b);
    return it;
}

static char *
dup_bytes(const void *p, size_t len)
{
    char *d = malloc(len > 0 ? len : 1);
    if (d == NULL)
        abort();
    if (len > 0)
        memcpy(d, p, len);
    return d;
}

struct mvcc_scan *
mvcc_scan_create(struct store *st, struct store_cf *cf, const void *start,
                 size_t start_len, const void *end, size_t end_len,
                 const struct mvcc_read *r)
{
    struct mvcc_scan *s = calloc(1, sizeof *s);

    if (s == NULL)
        abort();
    s->st = st;
    s->cf = cf;
    s->r = *r;
    s->snap = store_snap_create(st);
    s->sr = store_read_latest();
    s->sr.snap = s->snap;
    s->sr.fill_cache = r->fill_cache;
    if (r->raw) {
        /* Unversioned keys: everything below the reserved keys. */
        static const char reserved[8] = {'\xff', '\xff', '\xff', '\xff',
                                         '\xff', '\xff', '\xff', '\xff'};
        struct store_read rr = s->sr;
        rr.upper = end != NULL ? end : reserved;
        rr.upper_len = end != NULL ? end_len : sizeof reserved;
        s->w = store_iter_create(st, cf, &rr);
        store_iter_seek(s->w, start, start_len);
        return s;
    }
    s->start = dup_bytes(start, start_len);
    s->start_len = start_len;
    if (end != NULL) {
        s->end = dup_bytes(end, end_len);
        s->end_len = end_len;
    }
    s->w = prefix_iter(s, 'W', start, start_len);
    if (sees_locks(r))
        s->l = prefix_iter(s, 'L', start, start_len);
    return s;
}

void
mvcc_scan_destroy(struct mvcc_scan *s)
{
    if (s == NULL)
        return;
    store_iter_destroy(s->w);
    store_iter_destroy(s->l);
    store_snap_release(s->st, s->snap);
    free(s->start);
    free(s->end);
    free(s->cur);
    free(s->val);
    free(s->skip);
    free(s->ibuf);
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

/* Position s->l at the next lock the read must judge (its own, or one it
 * sees): 1 with *@lk (borrowed from the iterator), 0 none. */
static int
next_lock(struct mvcc_scan *s, struct mvcc_lock *lk)
{
    if (s->l == NULL)
        return 0;
    for (; store_iter_valid(s->l); store_iter_next(s->l)) {
        size_t vl, kl;
        const char *k = store_iter_key(s->l, &kl);
        const char *v;
        int rv;
        if (ukey_cmp(k + 1, kl - 1, s->start, s->start_len) < 0)
            continue;
        if (s->end != NULL && ukey_cmp(k + 1, kl - 1, s->end, s->end_len) >= 0)
            return 0;
        v = store_iter_value(s->l, &vl);
        rv = lock_decode(v, vl, lk);
        if (rv != 0)
            return rv;
        if (judge_lock(&s->r, lk) != 0)
            return 1;
    }
    return store_iter_status(s->l, NULL, 0);
}

/* Move s->w past every record of s->cur: a few steps, then a seek. */
static void
skip_cur(struct mvcc_scan *s)
{
    for (int i = 0; i < 4 && store_iter_valid(s->w); i++) {
        size_t kl;
        const char *k = store_iter_key(s->w, &kl);
        if (!is_write_of(k, kl, s->cur, s->cur_len))
            return;
        store_iter_next(s->w);
    }
    if (!store_iter_valid(s->w))
        return;
    if (s->cur_len + 1 + TS_LEN > s->skip_cap) {
        s->skip_cap = s->cur_len + 1 + TS_LEN;
        s->skip = realloc(s->skip, s->skip_cap);
        if (s->skip == NULL)
            abort();
    }
    {
        size_t kl;
        const char *k = store_iter_key(s->w, &kl);
        if (!is_write_of(k, kl, s->cur, s->cur_len))
            return;
    }
    store_iter_seek(s->w, s->skip,
                    mvcc_encode_key('W', s->cur, s->cur_len, 0, s->skip));
}

/* From s->w at the newest record of s->cur, the record a read at
 * read_ts sees, as find_visible() but stepping instead of seeking while
 * only a few records are newer than read_ts. */
static int
walk_visible(struct mvcc_scan *s, struct wrec *w)
{
    int stepped = 0;
    for (; store_iter_valid(s->w); store_iter_next(s->w)) {
        size_t kl, vl;
        const char *ik = store_iter_key(s->w, &kl);
        const char *iv;
        int rv;
        if (!is_write_of(ik, kl, s->cur, s->cur_len))
            return 0;
        if (key_ts(ik, kl) > s->r.read_ts) {
            if (++stepped > 4)
                return find_visible(s->w, s->cur, s->cur_len, s->r.read_ts, w);
            continue;
        }
        iv = store_iter_value(s->w, &vl);
        rv = wrec_decode(ik, kl, iv, vl, w);
        if (rv != 0)
            return rv;
        if (w->kind == MVCC_PUT || w->kind == MVCC_DELETE)
            return 1;
    }
    return store_iter_status(s->w, NULL, 0);
}

/* Yield the raw key/value under the iterator. */
static int
raw_next(struct mvcc_scan *s, struct mvcc_row *row)
{
    size_t kl, vl;
    const char *k, *v;
    if (!store_iter_valid(s->w)) {
        int rv = store_iter_status(s->w, NULL, 0);
        return rv != 0 ? rv : MVCC_END;
    }
    k = store_iter_key(s->w, &kl);
    v = store_iter_value(s->w, &vl);
    set_cur(s, k, kl);
    s->val = malloc(vl > 0 ? vl : 1);
    if (s->val == NULL)
        abort();
    memcpy(s->val, v, vl);
    row->key = s->cur;
    row->key_len = s->cur_len;
    row->val = s->val;
    row->val_len = vl;
    row->ver.kind = MVCC_PUT;
    store_iter_next(s->w);
    return MVCC_OK;
}

int
mvcc_scan_next(struct mvcc_scan *s, struct mvcc_row *row)
{
    free(s->val);
    s->val = NULL;
    free(s->lock_buf);
    s->lock_buf = NULL;
    memset(row, 0, sizeof *row);
    if (s->r.raw)
        return raw_next(s, row);
    for (;;) {
        struct mvcc_lock lk;
        const char *wk = NULL, *lkey = NULL;
        size_t wkl = 0, lkl = 0;
        int have_lock, rv, cmp = 1;

        have_lock = next_lock(s, &lk);
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
            if (ukey_cmp(wk, wkl, s->start, s->start_len) < 0) {
                /* A key that is a proper prefix of start. */
                set_cur(s, wk, wkl);
                store_iter_next(s->w);
                skip_cur(s);
                continue;
            }
            if (s->end != NULL && ukey_cmp(wk, wkl, s->end, s->end_len) >= 0)
                wk = NULL;
        } else if ((rv = store_iter_status(s->w, NULL, 0)) != 0) {
            return rv;
        }
        if (lkey != NULL && wk != NULL)
            cmp = ukey_cmp(lkey, lkl, wk, wkl);
        if (lkey != NULL && (wk == NULL || cmp <= 0)) {
            size_t vl;
            const char *v = store_iter_value(s->l, &vl);
            free(s->lock_buf);
            s->lock_buf = malloc(vl > 0 ? vl : 1);
            if (s->lock_buf == NULL)
                abort();
            memcpy(s->lock_buf, v, vl);
            rv = lock_decode((const char *)s->lock_buf, vl, &row->lock);
            if (rv != 0)
                return rv;
            set_cur(s, lkey, lkl);
            store_iter_next(s->l);
            if (judge_lock(&s->r, &row->lock) < 0) {
                /* The scan stops at a key a transaction holds. */
                row->key = s->cur;
                row->key_len = s->cur_len;
                return MVCC_LOCKED;
            }
            {
                size_t len = 0;
                rv = own_value(s->st, s->cf, &s->sr, s->cur, s->cur_len,
                               &row->lock, &s->val, &len);
                if (rv < 0)
                    return rv;
                if (rv != 2) {
                    /* Our own write hides the committed versions. */
                    if (cmp == 0)
                        skip_cur(s);
                    if (rv == 0)
                        continue; /* our DELETE */
                    row->key = s->cur;
                    row->key_len = s->cur_len;
                    row->val = s->val;
                    row->val_len = len;
                    row->ver.start_ts = row->lock.start_ts;
                    row->ver.kind = MVCC_PUT;
                    memset(&row->lock, 0, sizeof row->lock);
                    return MVCC_OK;
                }
                memset(&row->lock, 0, sizeof row->lock);
                if (cmp != 0)
                    continue; /* a row lock on nothing committed */
            }
        }
        if (wk == NULL)
            return MVCC_END;
        {
            struct wrec w;
            set_cur(s, wk, wkl);
            rv = walk_visible(s, &w);
            if (rv < 0)
                return rv;
            if (rv == 1 && w.kind == MVCC_PUT) {
                size_t len;
                if (w.inline_val) {
                    if (w.val_len > s->ibuf_cap) {
                        s->ibuf_cap = w.val_len;
                        s->ibuf = realloc(s->ibuf, s->ibuf_cap);
                        if (s->ibuf == NULL)
                            abort();
                    }
                    if (w.val_len > 0)
                        memcpy(s->ibuf, w.val, w.val_len);
                    len = w.val_len;
                    skip_cur(s);
                    row->key = s->cur;
                    row->key_len = s->cur_len;
                    row->val = s->ibuf;
                    row->val_len = len;
                    row->ver.commit_ts = w.commit_ts;
                    row->ver.start_ts = w.start_ts;
                    row->ver.kind = w.kind;
                    return MVCC_OK;
                } else {
                    rv = read_data_at(s->st, s->cf, &s->sr, s->cur, s->cur_len,
                                      w.start_ts, &s->val, &len);
                    if (rv != 0)
                        return rv;
                }
                skip_cur(s);
                row->key = s->cur;
                row->key_len = s->cur_len;
                row->val = s->val;
                row->val_len = len;
                row->ver.commit_ts = w.commit_ts;
                row->ver.start_ts = w.start_ts;
                row->ver.kind = w.kind;
                return MVCC_OK;
            }
            if (rv == 1)
                skip_cur(s);
            /* Deleted or never visible at read_ts: the next key. */
        }
    }
}

int
mvcc_delete_range(struct store_batch *b, struct store_cf *cf, const void *start,
                  size_t start_len, const void *end, size_t end_len)
{
    static const char prefixes[3] = {'L', 'W', 'D'};
    for (size_t i = 0; i < sizeof prefixes; i++) {
        size_t sl, el;
        char *s = prefixed(prefixes[i], start, start_len, &sl);
        char *e;
        if (end != NULL && end_len > 0) {
            e = prefixed(prefixes[i], end, end_len, &el);
        } else {
            e = malloc(1);
            if (e == NULL)
                abort();
            e[0] = (char)(prefixes[i] + 1);
            el = 1;
        }
        store_batch_delete_range(b, cf, s, sl, e, el);
        free(s);
        free(e);
    }
    return 0;
}

int
mvcc_count_rows(struct store *st, struct store_cf *cf, uint64_t max,
                uint64_t deadline_ns, uint64_t *out)
{
    struct mvcc_read r = mvcc_read_at(MVCC_TS_LATEST);
    struct mvcc_scan *s;
    struct mvcc_row row;
    uint64_t n = 0;
    int rv;

    r.fill_cache = false;
    s = mvcc_scan_create(st, cf, "", 0, NULL, 0, &r);
    while (n < max && (rv = mvcc_scan_next(s, &row)) == MVCC_OK) {
        n++;
        if (deadline_ns != 0 && n % 4096 == 0) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            if ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec >=
                deadline_ns) {
                rv = TL_ETIMEOUT;
                break;
            }
        }
    }
    mvcc_scan_destroy(s);
    *out = n;
    if (n >= max)
        return 0;
    return rv == MVCC_END ? 0 : rv;
}

/* ------------------------------------------------------------ readers */

struct mvcc_reader {
    struct store *st;
    struct store_cf *cf;
    struct store_iter *it;
};

struct mvcc_reader *
mvcc_reader_create(struct store *st, struct store_cf *cf)
{
    struct mvcc_reader *r = calloc(1, sizeof *r);
    if (r == NULL)
        abort();
    r->st = st;
    r->cf = cf;
    return r;
}

void
mvcc_reader_destroy(struct mvcc_reader *r)
{
    if (r == NULL)
        return;
    store_iter_destroy(r->it);
    free(r);
}

int
mvcc_reader_latest(struct mvcc_reader *r, const void *key, size_t key_len,
                   char **val, size_t *len)
{
    struct wrec w;
    int rv;

    *val = NULL;
    *len = 0;
    if (r->it == NULL)
        r->it = store_iter_create(r->st, r->cf, NULL);
    rv = find_visible(r->it, key, key_len, MVCC_TS_LATEST, &w);
    if (rv == 1)
        rv = version_value(r->st, r->cf, key, key_len, &w, val, len);
    return rv < 0 ? rv : MVCC_OK;
}

/* An iterator over every lock record of @cf, at the first. */
static struct store_iter *
lock_iter(struct store *st, struct store_cf *cf)
{
    struct store_read r = store_read_latest();
    char lo[1] = {'L'}, hi[1] = {'L' + 1};
    struct store_iter *it;

    r.upper = hi;
    r.upper_len = 1;
    it = store_iter_create(st, cf, &r);
    store_iter_seek(it, lo, 1);
    return it;
}

int
mvcc_count_locks(struct store *st, struct store_cf *cf, uint64_t *out)
{
    struct store_iter *it = lock_iter(st, cf);
    uint64_t n = 0;
    int rv;

    for (; store_iter_valid(it); store_iter_next(it))
        n++;
    rv = store_iter_status(it, NULL, 0);
    store_iter_destroy(it);
    *out = n;
    return rv;
}

/* End (commit at @commit_ts, 0: roll back) into @b the lock of @start_ts
 * on @key, if it holds one: 1 when it did, 0 when not, or an error. */
static int
end_one(struct store *st, struct store_cf *cf, struct store_batch *b,
        const void *key, size_t key_len, uint64_t start_ts, uint64_t commit_ts)
{
    int rv = commit_ts != 0
                 ? mvcc_commit(st, cf, b, key, key_len, start_ts, commit_ts)
                 : mvcc_rollback(st, cf, b, key, key_len, start_ts);
    if (rv == MVCC_OK)
        return 1;
    return rv > 0 ? TL_ECORRUPT : rv; /* a lock of ours that cannot end */
}

/* An iterator over the index of transaction @start_ts's locks ('T'
 * start_ts K), at its first entry; the caller destroys it. */
static struct store_iter *
txn_index_iter(struct store *st, struct store_cf *cf, uint64_t start_ts)
{
    char lo[9], hi[9];
    txn_index_key(start_ts, "", 0, lo);
    txn_index_key(start_ts + 1, "", 0, hi);
    struct store_read r = store_read_latest();
    r.upper = hi;
    r.upper_len = sizeof hi;
    struct store_iter *it = store_iter_create(st, cf, &r);
    store_iter_seek(it, lo, sizeof lo);
    return it;
}

int
mvcc_end_txn(struct store *st, struct store_cf *cf, struct store_batch *b,
             uint64_t start_ts, uint64_t commit_ts, uint64_t max,
             uint64_t *n_ended)
{
    uint64_t n = 0;
    int rv = 0;

    /* The transaction's own index: its locks, and nothing else. */
    struct store_iter *it = txn_index_iter(st, cf, start_ts);
    for (; rv >= 0 && store_iter_valid(it) && (max == 0 || n < max);
         store_iter_next(it)) {
        size_t kl;
        const char *k = store_iter_key(it, &kl);
        struct mvcc_lock lk;
        uint8_t *buf = NULL;
        store_batch_delete(b, cf, k, kl);
        rv = read_lock(st, cf, k + 9, kl - 9, &lk, &buf);
        free(buf);
        if (rv == 1 && lk.start_ts == start_ts)
            rv = end_one(st, cf, b, k + 9, kl - 9, start_ts, commit_ts);
        else if (rv == 1)
            rv = 0; /* an entry its lock outlived (a range delete) */
        if (rv == 1)
            n++;
    }
    if (rv >= 0)
        rv = store_iter_status(it, NULL, 0);
    store_iter_destroy(it);
    if (rv != 0 || n > 0) {
        *n_ended = rv == 0 ? n : 0;
        return rv;
    }
    /* None indexed: locks written before the index existed, found the
     * long way. */
    it = lock_iter(st, cf);
    for (; rv == 0 && store_iter_valid(it); store_iter_next(it)) {
        size_t kl, vl;
        const char *k = store_iter_key(it, &kl);
        const char *v = store_iter_value(it, &vl);
        struct mvcc_lock lk;
        rv = lock_decode(v, vl, &lk);
        if (rv != 0 || lk.start_ts != start_ts)
            continue;
        rv = end_one(st, cf, b, k + 1, kl - 1, start_ts, commit_ts);
        if (rv == 1) {
            n++;
            rv = 0;
        }
    }
    if (rv == 0)
        rv = store_iter_status(it, NULL, 0);
    store_iter_destroy(it);
    *n_ended = rv == 0 ? n : 0;
    return rv;
}

/* Undo @key's pending write of statements after @seq (mvcc_rollback_to()):
 * 1 when its lock was removed, 0 when it changed or stayed. */
static int
rollback_key_to(struct store_cf *cf, struct store_batch *b, const char *key,
                size_t key_len, const struct mvcc_lock *lk, uint32_t seq)
{
    struct hist_entry e, keep = {0};
    size_t off = 0, keep_off = 0, next;
    bool found = false;
    char *k = key_buf(key_len);
    size_t klen;

    /* The newest history entry made at or before seq, and where it
     * starts (what precedes it stays the history). */
    while (off < lk->history_len && (next = hist_next(lk, off, &e)) != 0) {
        if (e.seq > seq)
            break;
        keep = e;
        keep_off = off;
        found = true;
        off = next;
    }
    klen = mvcc_encode_key('D', key, key_len, lk->start_ts, k);
    if (found) {
        struct mvcc_lock back = *lk;
        char *lv;
        size_t lvlen;
        back.kind = keep.kind;
        back.seq = keep.seq;
        back.history_len = keep_off;
        if (keep.kind == MVCC_PUT)
            store_batch_put(b, cf, k, klen, keep.val, keep.len);
        else
            store_batch_delete(b, cf, k, klen);
        klen = mvcc_encode_key('L', key, key_len, 0, k);
        lock_encode(&back, &lv, &lvlen);
        store_batch_put(b, cf, k, klen, lv, lvlen);
        free(lv);
        free(k);
        return 0;
    }
    store_batch_delete(b, cf, k, klen);
    klen = mvcc_encode_key('L', key, key_len, 0, k);
    store_batch_delete(b, cf, k, klen);
    free(k);
    txn_index_write(b, cf, lk->start_ts, key, key_len, false);
    return 1;
}

int
mvcc_rollback_to(struct store *st, struct store_cf *cf, struct store_batch *b,
                 uint64_t start_ts, uint32_t seq, uint64_t *n_removed)
{
    uint64_t n = 0;
    int rv = 0;
    struct store_iter *it = txn_index_iter(st, cf, start_ts);

    for (; rv >= 0 && store_iter_valid(it); store_iter_next(it)) {
        size_t kl;
        const char *k = store_iter_key(it, &kl);
        struct mvcc_lock lk;
        uint8_t *buf = NULL;
        if (is_txn_record(k + 9, kl - 9))
            continue; /* the record stays locked */
        rv = read_lock(st, cf, k + 9, kl - 9, &lk, &buf);
        if (rv == 1 && lk.start_ts == start_ts && lk.seq > seq)
            rv = rollback_key_to(cf, b, k + 9, kl - 9, &lk, seq);
        else if (rv == 1)
            rv = 0;
        free(buf);
        if (rv == 1) {
            n++;
            rv = 0;
        }
    }
    if (rv >= 0)
        rv = store_iter_status(it, NULL, 0);
    store_iter_destroy(it);
    *n_removed = rv == 0 ? n : 0;
    return rv;
}

int
mvcc_txn_status(struct store *st, struct store_cf *cf, const void *key,
                size_t key_len, uint64_t start_ts, uint64_t *commit_ts)
{
    struct mvcc_lock cur;
    uint8_t *cur_buf = NULL;
    struct store_iter *it;
    char *k;
    size_t klen;
    int rv;

    *commit_ts = 0;
    rv = read_lock(st, cf, key, key_len, &cur, &cur_buf);
    free(cur_buf);
    if (rv < 0)
        return rv;
    if (rv == 1 && cur.start_ts == start_ts)
        return MVCC_LOCKED;
    /* Its write record: committed at or after start_ts (or a rollback
     * record at start_ts). */
    it = store_iter_create(st, cf, NULL);
    k = key_buf(key_len);
    klen = mvcc_encode_key('W', key, key_len, UINT64_MAX, k);
    rv = MVCC_NO_LOCK;
    for (store_iter_seek(it, k, klen); store_iter_valid(it);
         store_iter_next(it)) {
        size_t kl, vl;
        const char *ik = store_iter_key(it, &kl);
        struct wrec w;
        if (!is_write_of(ik, kl, key, key_len))
            break;
        const char *iv = store_iter_value(it, &vl);
        if (wrec_decode(ik, kl, iv, vl, &w) != 0) {
            rv = TL_ECORRUPT;
            break;
        }
        if (w.commit_ts < start_ts)
            break;
        if (w.start_ts == start_ts) {
            if (w.kind == MVCC_ROLLBACK) {
                rv = MVCC_ROLLED_BACK;
            } else {
                rv = MVCC_OK;
                *commit_ts = w.commit_ts;
            }
            break;
        }
    }
    free(k);
    if (rv == MVCC_NO_LOCK && store_iter_status(it, NULL, 0) != 0)
        rv = TL_EIO;
    store_iter_destroy(it);
    return rv;
}

int
mvcc_commit_record(struct store *st, struct store_cf *cf, struct store_batch *b,
                   const void *key, size_t key_len, uint64_t start_ts,
                   uint64_t commit_ts, uint64_t *min_commit)
{
    uint64_t had;
    int rv = mvcc_txn_status(st, cf, key, key_len, start_ts, &had);
    if (rv < 0)
        return rv;
    switch (rv) {
    case MVCC_LOCKED: {
        struct mvcc_lock cur;
        uint8_t *cur_buf = NULL;
        rv = read_lock(st, cf, key, key_len, &cur, &cur_buf);
        if (rv == 1 && cur.min_commit_ts > commit_ts) {
            *min_commit = cur.min_commit_ts;
            free(cur_buf);
            return MVCC_TS_TOO_LOW;
        }
        free(cur_buf);
        if (rv < 0)
            return rv;
        return mvcc_commit(st, cf, b, key, key_len, start_ts, commit_ts);
    }
    case MVCC_OK:
        return MVCC_OK; /* committed before */
    case MVCC_ROLLED_BACK:
        return MVCC_ROLLED_BACK;
    default:
        /* Never locked (the first write to its shard wrote no row): the
         * commit record alone is the commit point. */
        wrec_put(b, cf, key, key_len, commit_ts, start_ts, MVCC_LOCK, NULL, 0,
                 false);
        return MVCC_OK;
    }
}

int
mvcc_push(struct store *st, struct store_cf *cf, struct store_batch *b,
          const void *key, size_t key_len, uint64_t start_ts, uint64_t push_ts)
{
    struct mvcc_lock cur;
    uint8_t *cur_buf = NULL;
    int rv = read_lock(st, cf, key, key_len, &cur, &cur_buf);
    if (rv < 0)
        return rv;
    if (rv == 1 && cur.start_ts == start_ts) {
        if (cur.min_commit_ts <= push_ts) {
            char *k = key_buf(key_len), *lv;
            size_t klen = mvcc_encode_key('L', key, key_len, 0, k), lvlen;
            cur.min_commit_ts = push_ts + 1;
            lock_encode(&cur, &lv, &lvlen);
            store_batch_put(b, cf, k, klen, lv, lvlen);
            free(lv);
            free(k);
        }
        free(cur_buf);
        return MVCC_LOCKED;
    }
    free(cur_buf);
    return MVCC_OK;
}

int
mvcc_read_lock(struct store *st, struct store_cf *cf, const void *key,
               size_t key_len, struct mvcc_lock *lk, uint8_t **buf)
{
    return read_lock(st, cf, key, key_len, lk, buf);
}
