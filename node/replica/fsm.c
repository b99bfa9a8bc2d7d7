#include "node/replica/fsm.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cluster_config.h"
#include "log.h"
#include "node/replica/applier.h"
#include "node/store/index_fill.h"
#include "node/store/mvcc.h"
#include "secindex.h"
#include "table.h"
#include "talus.pb-c.h"
#include "tl_error.h"

static const char snapshot_magic[8] = {'T', 'L', 'S', 'N', 'A', 'P', '0', '1'};

/* ------------------------------------------------------------ results */

_Static_assert(sizeof(void *) >= 8, "fsm_result_pack needs 64-bit pointers");

void *
fsm_result_pack(const struct fsm_result *r)
{
    /* outcome 3 bits, cond 2, mutation + 1 24 (a batch fits one entry:
     * far fewer mutations), affected 28. */
    assert(r->mutation + 1 < (1 << 24));
    uint64_t v = (uint64_t)(r->outcome & 7) | ((uint64_t)(r->cond & 3) << 3) |
                 ((uint64_t)(uint32_t)(r->mutation + 1) << 5) |
                 ((r->affected & FSM_AFFECTED_MAX) << 29);
    return (void *)(uintptr_t)v;
}

void
fsm_result_unpack(void *p, struct fsm_result *r)
{
    uint64_t v = (uint64_t)(uintptr_t)p;
    r->outcome = (int)(v & 7);
    r->cond = (int)((v >> 3) & 3);
    r->mutation = (int32_t)(uint32_t)((v >> 5) & 0xFFFFFF) - 1;
    r->affected = v >> 29;
    r->commit_ts = 0;
}

/* ------------------------------------------------------------ dedupe */

static size_t
slot_of(uint64_t id, size_t cap)
{
    /* Request ids are random-ish; mix anyway (splitmix64 finaliser). */
    id ^= id >> 30;
    id *= 0xbf58476d1ce4e5b9ULL;
    id ^= id >> 27;
    id *= 0x94d049bb133111ebULL;
    id ^= id >> 31;
    return (size_t)id & (cap - 1);
}

static struct fsm_dedupe_entry *
dedupe_find(struct fsm_dedupe *d, uint64_t id)
{
    if (d->cap == 0)
        return NULL;
    for (size_t i = slot_of(id, d->cap);; i = (i + 1) & (d->cap - 1)) {
        if (d->slots[i].request_id == id)
            return &d->slots[i];
        if (d->slots[i].request_id == 0)
            return NULL;
    }
}

static void dedupe_insert_slot(struct fsm_dedupe *d,
                               const struct fsm_dedupe_entry *e);

static void
dedupe_grow(struct fsm_dedupe *d)
{
    struct fsm_dedupe_entry *old = d->slots;
    size_t old_cap = d->cap;
    d->cap = old_cap ? old_cap * 2 : 1024;
    d->slots = calloc(d->cap, sizeof *d->slots);
    if (d->slots == NULL)
        abort();
    d->n = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].request_id != 0)
            dedupe_insert_slot(d, &old[i]);
    free(old);
}

static void
dedupe_insert_slot(struct fsm_dedupe *d, const struct fsm_dedupe_entry *e)
{
    size_t i;
    if ((d->n + 1) * 2 > d->cap)
        dedupe_grow(d);
    for (i = slot_of(e->request_id, d->cap); d->slots[i].request_id != 0;
         i = (i + 1) & (d->cap - 1))
        ;
    d->slots[i] = *e;
    d->n++;
}

/* Remove @id (linear probing: shift the following cluster back). */
static void
dedupe_erase(struct fsm_dedupe *d, uint64_t id)
{
    struct fsm_dedupe_entry *e = dedupe_find(d, id);
    size_t i, j;
    if (e == NULL)
        return;
    i = (size_t)(e - d->slots);
    d->slots[i].request_id = 0;
    d->n--;
    for (j = (i + 1) & (d->cap - 1); d->slots[j].request_id != 0;
         j = (j + 1) & (d->cap - 1)) {
        struct fsm_dedupe_entry moved = d->slots[j];
        d->slots[j].request_id = 0;
        d->n--;
        dedupe_insert_slot(d, &moved);
    }
}

static void
fifo_push(struct fsm_dedupe *d, uint64_t id, uint64_t index)
{
    if (d->fifo_n == d->fifo_cap) {
        size_t cap = d->fifo_cap ? d->fifo_cap * 2 : 1024;
        uint64_t *ids = malloc(cap * sizeof *ids);
        uint64_t *idx = malloc(cap * sizeof *idx);
        if (ids == NULL || idx == NULL)
            abort();
        for (size_t i = 0; i < d->fifo_n; i++) {
            size_t k = (d->fifo_head + i) % d->fifo_cap;
            ids[i] = d->fifo[k];
            idx[i] = d->fifo_index[k];
        }
        free(d->fifo);
        free(d->fifo_index);
        d->fifo = ids;
        d->fifo_index = idx;
        d->fifo_cap = cap;
        d->fifo_head = 0;
    }
    size_t k = (d->fifo_head + d->fifo_n) % d->fifo_cap;
    d->fifo[k] = id;
    d->fifo_index[k] = index;
    d->fifo_n++;
}

static void
dedupe_key(uint64_t id, char key[STORE_DEDUPE_PREFIX_LEN + 8])
{
    memcpy(key, STORE_DEDUPE_PREFIX, STORE_DEDUPE_PREFIX_LEN);
    store_encode_u64(id, key + STORE_DEDUPE_PREFIX_LEN);
}

/* Drop entries older than the window at @index, deleting them in @wb. */
static void
dedupe_prune(struct fsm_dedupe *d, struct store_batch *wb, struct store_cf *cf,
             uint64_t index)
{
    while (d->fifo_n > 0 &&
           d->fifo_index[d->fifo_head] + FSM_DEDUPE_WINDOW < index) {
        char key[STORE_DEDUPE_PREFIX_LEN + 8];
        uint64_t id = d->fifo[d->fifo_head];
        dedupe_erase(d, id);
        dedupe_key(id, key);
        if (wb != NULL)
            store_batch_delete(wb, cf, key, sizeof key);
        d->fifo_head = (d->fifo_head + 1) % d->fifo_cap;
        d->fifo_n--;
    }
}

static void
dedupe_free(struct fsm_dedupe *d)
{
    free(d->slots);
    free(d->fifo);
    free(d->fifo_index);
    memset(d, 0, sizeof *d);
}

bool
fsm_dedupe_lookup(struct node_fsm *f, uint64_t request_id,
                  struct fsm_result *res, uint64_t *index)
{
    struct fsm_dedupe_entry *e;
    if (request_id == 0 || (e = dedupe_find(&f->dedupe, request_id)) == NULL)
        return false;
    fsm_result_unpack((void *)(uintptr_t)e->result, res);
    *index = e->index;
    return true;
}

static int
cmp_by_index(const void *a, const void *b)
{
    const struct fsm_dedupe_entry *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Read the preferred leader stored in the column family. */
static int
preferred_load(struct node_fsm *f)
{
    size_t len = 0;
    char *v;
    int rv = store_get(f->st, f->cf, NULL, STORE_PREFERRED_KEY,
                       STORE_PREFERRED_KEY_LEN, &v, &len, "preferred");
    if (rv != 0)
        return rv;
    atomic_store(&f->preferred,
                 v != NULL && len == 4 ? tl_load_be32((const uint8_t *)v) : 0);
    free(v);
    return 0;
}

/* Read the catalog fence stored in the column family. */
static int
fence_load(struct node_fsm *f)
{
    size_t len = 0;
    char *v;
    int rv = store_get(f->st, f->cf, NULL, STORE_FENCE_KEY, STORE_FENCE_KEY_LEN,
                       &v, &len, "fence");
    if (rv != 0)
        return rv;
    f->fence = v != NULL && len == 8 ? tl_load_be64((const uint8_t *)v) : 0;
    free(v);
    return 0;
}

/* Rebuild the table from the shard's column family. */
static int
dedupe_load(struct node_fsm *f)
{
    struct store_read r = store_read_latest();
    struct store_iter *it;
    struct fsm_dedupe_entry *all = NULL;
    size_t n = 0, cap = 0;
    char err[256];
    int rv = 0;

    dedupe_free(&f->dedupe);
    r.upper = STORE_MAX_KEY;
    r.upper_len = STORE_MAX_KEY_LEN;
    it = store_iter_create(f->st, f->cf, &r);
    for (store_iter_seek(it, STORE_DEDUPE_PREFIX, STORE_DEDUPE_PREFIX_LEN);
         store_iter_valid(it); store_iter_next(it)) {
        size_t klen, vlen;
        const char *k = store_iter_key(it, &klen);
        const char *v = store_iter_value(it, &vlen);
        if (klen != STORE_DEDUPE_PREFIX_LEN + 8 ||
            memcmp(k, STORE_DEDUPE_PREFIX, STORE_DEDUPE_PREFIX_LEN) != 0)
            break;
        if (vlen != 16) {
            rv = TL_ECORRUPT;
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            all = realloc(all, cap * sizeof *all);
            if (all == NULL)
                abort();
        }
        all[n].request_id =
            tl_load_be64((const uint8_t *)k + STORE_DEDUPE_PREFIX_LEN);
        all[n].index = tl_load_be64((const uint8_t *)v);
        all[n].result = tl_load_be64((const uint8_t *)v + 8);
        n++;
    }
    if (store_iter_status(it, err, sizeof err) != 0) {
        tl_error("fsm", "event=dedupe_load_failed shard=%u err=\"%s\"",
                 f->shard, err);
        rv = TL_EIO;
    }
    store_iter_destroy(it);
    if (rv == 0 && n > 0) {
        qsort(all, n, sizeof *all, cmp_by_index);
        for (size_t i = 0; i < n; i++) {
            dedupe_insert_slot(&f->dedupe, &all[i]);
            fifo_push(&f->dedupe, all[i].request_id, all[i].index);
        }
    }
    free(all);
    return rv;
}

/* Record @id's result @res at @index, in memory and in @wb. */
static void
dedupe_record(struct node_fsm *f, struct store_batch *wb, uint64_t id,
              uint64_t index, const struct fsm_result *res)
{
    struct fsm_dedupe_entry e = {id, index,
                                 (uint64_t)(uintptr_t)fsm_result_pack(res)};
    char key[STORE_DEDUPE_PREFIX_LEN + 8], val[16];

    dedupe_prune(&f->dedupe, wb, f->cf, index);
    if (dedupe_find(&f->dedupe, id) != NULL)
        return;
    dedupe_insert_slot(&f->dedupe, &e);
    fifo_push(&f->dedupe, id, index);
    dedupe_key(id, key);
    store_encode_u64(index, val);
    store_encode_u64(e.result, val + 8);
    store_batch_put(wb, f->cf, key, sizeof key, val, sizeof val);
}

/* The shard's highest applied commit timestamp, as stored after the
 * applied index. */
static int
last_commit_load(struct node_fsm *f)
{
    char *v;
    size_t len;
    int rv = store_get(f->st, f->cf, NULL, STORE_APPLIED_KEY,
                       STORE_APPLIED_KEY_LEN, &v, &len, "last_commit");
    if (rv != 0)
        return rv;
    f->last_commit_ts =
        v != NULL && len == 16 ? tl_load_be64((uint8_t *)v + 8) : 0;
    free(v);
    f->n_locks = 0;
    return f->versioned ? mvcc_count_locks(f->st, f->cf, &f->n_locks) : 0;
}

/* The applied key's value: @index, and on a versioned shard
 * @last_commit. Its length. */
static size_t
applied_value(const struct node_fsm *f, uint64_t index, uint64_t last_commit,
              char out[16])
{
    store_encode_u64(index, out);
    if (!f->versioned)
        return 8;
    store_encode_u64(last_commit, out + 8);
    return 16;
}

/* ------------------------------------------------------------ apply */

int
fsm_init(struct node_fsm *f, struct store *st, uint32_t shard)
{
    uint64_t applied = 0;
    int rv;

    memset(f, 0, sizeof *f);
    f->st = st;
    f->shard = shard;
    f->cf = store_shard_cf(st, shard);
    if (f->cf == NULL)
        return TL_ENOTFOUND;
    rv = store_read_applied(st, f->cf, NULL, &applied);
    if (rv != 0)
        return rv;
    atomic_store(&f->applied, applied);
    f->last_write = applied; /* unknown before: as if written there */
    f->versioned = shard != TL_META_GROUP;
    f->raft_fsm.data = f;
    rv = dedupe_load(f);
    if (rv == 0)
        rv = last_commit_load(f);
    if (rv == 0)
        rv = preferred_load(f);
    if (rv == 0)
        rv = fence_load(f);
    if (rv != 0)
        return rv;
    return fsm_restore_load(f);
}

void
fsm_close(struct node_fsm *f)
{
    dedupe_free(&f->dedupe);
    /* The applier was stopped (drained) before: nothing is queued. */
    free(f->q_ring);
    f->q_ring = NULL;
}

uint64_t
fsm_applied(struct node_fsm *f)
{
    return atomic_load(&f->applied);
}

/* Whether mutation @m's condition holds in the current column family
 * (a versioned one read through *@reader, made at first use). TL_EIO on
 * a read error. */
static int
check_cond(struct node_fsm *f, const Talus__Mutation *m,
           const Talus__TxnInfo *txn, struct mvcc_reader **reader, int *ok)
{
    size_t len = 0;
    char *v;

    *ok = 1;
    if (m->cond == TALUS__MUTATION__COND__NONE ||
        m->kind == TALUS__MUTATION__KIND__DELETE_RANGE)
        return 0;
    if (f->versioned && txn != NULL) {
        /* The transaction's own view: its pending writes over the newest
         * committed rows (another's lock fails the prewrite itself). */
        struct mvcc_read r = mvcc_read_at(MVCC_TS_LATEST);
        struct mvcc_lock lk;
        uint8_t *lb = NULL;
        int rv;
        r.own_ts = txn->start_ts;
        rv = mvcc_read_get(f->st, f->cf, &r, m->key.data, m->key.len, &v, &len,
                           &lk, &lb);
        free(lb);
        if (rv != MVCC_OK)
            return rv < 0 ? rv : TL_EIO;
    } else if (f->versioned) {
        int rv;
        if (*reader == NULL)
            *reader = mvcc_reader_create(f->st, f->cf);
        rv = mvcc_reader_latest(*reader, m->key.data, m->key.len, &v, &len);
        if (rv != MVCC_OK)
            return rv < 0 ? rv : TL_EIO;
    } else if (store_get(f->st, f->cf, NULL, m->key.data, m->key.len, &v, &len,
                         "condition") != 0) {
        return TL_EIO;
    }
    if (m->cond == TALUS__MUTATION__COND__ABSENT)
        *ok = v == NULL;
    else
        *ok = v != NULL && len == m->expect.len &&
              (len == 0 || memcmp(v, m->expect.data, len) == 0);
    free(v);
    return 0;
}

static void
add_mutation(struct node_fsm *f, struct store_batch *wb,
             const Talus__Mutation *m)
{
    switch (m->kind) {
    case TALUS__MUTATION__KIND__PUT:
        store_batch_put(wb, f->cf, m->key.data, m->key.len, m->value.data,
                        m->value.len);
        break;
    case TALUS__MUTATION__KIND__DELETE:
        store_batch_delete(wb, f->cf, m->key.data, m->key.len);
        break;
    case TALUS__MUTATION__KIND__DELETE_RANGE:
        store_batch_delete_range(wb, f->cf, m->key.data, m->key.len,
                                 m->end_key.data, m->end_key.len);
        break;
    default:
        break;
    }
}

/* Add mutation @m of a versioned shard to @wb as a one-phase write at
 * @commit_ts: MVCC_OK, MVCC_LOCKED when a transaction holds its key, or a
 * TL_E* code. */
static int
add_versioned(struct node_fsm *f, struct store_batch *wb,
              const Talus__Mutation *m, uint64_t commit_ts)
{
    switch (m->kind) {
    case TALUS__MUTATION__KIND__PUT:
        return mvcc_write_at(f->st, f->cf, wb, m->key.data, m->key.len,
                             MVCC_PUT, m->value.data, m->value.len, commit_ts,
                             f->n_locks > 0);
    case TALUS__MUTATION__KIND__DELETE:
        return mvcc_write_at(f->st, f->cf, wb, m->key.data, m->key.len,
                             MVCC_DELETE, NULL, 0, commit_ts, f->n_locks > 0);
    case TALUS__MUTATION__KIND__DELETE_RANGE:
        return mvcc_delete_range(wb, f->cf, m->key.data, m->key.len,
                                 m->end_key.data, m->end_key.len);
    default:
        return MVCC_OK;
    }
}

/* Add the prewrites of transaction batch @b to @wb (see add_all()):
 * FSM_LOCKED or FSM_CONFLICT in @res, @wb emptied, when one cannot be
 * made; res->affected counts the new lock records. */
static int
add_prewrites(struct node_fsm *f, struct store_batch *wb,
              const Talus__WriteBatch *b, struct fsm_result *res)
{
    const Talus__TxnInfo *t = b->txn;
    uint64_t seen = t->has_read_ts && t->read_ts > t->start_ts
                        ? t->read_ts
                        : t->start_ts - 1;
    struct mvcc_lock lk = {.start_ts = t->start_ts,
                           .ttl_ms = t->has_ttl_ms ? t->ttl_ms : 0,
                           .owner = t->has_owner ? t->owner : 0,
                           .primary = t->primary.data,
                           .primary_len = t->has_primary ? t->primary.len : 0,
                           .seq = t->has_seq ? t->seq : 0,
                           .savepoint_seq =
                               t->has_savepoint_seq ? t->savepoint_seq : 0};
    uint64_t fresh_n = 0;

    for (size_t i = 0; i <= b->n_mutations; i++) {
        const Talus__Mutation *m = i < b->n_mutations ? b->mutations[i] : NULL;
        const void *key, *val = NULL;
        size_t key_len, len = 0;
        bool fresh;
        int rv;
        if (m == NULL) {
            if (!t->lock_primary || !t->has_primary)
                break;
            lk.kind = MVCC_LOCK; /* the transaction's record */
            key = t->primary.data;
            key_len = t->primary.len;
        } else if (m->kind == TALUS__MUTATION__KIND__PUT) {
            lk.kind = MVCC_PUT;
            key = m->key.data;
            key_len = m->key.len;
            val = m->value.data;
            len = m->value.len;
        } else if (m->kind == TALUS__MUTATION__KIND__DELETE) {
            lk.kind = MVCC_DELETE;
            key = m->key.data;
            key_len = m->key.len;
        } else if (m->kind == TALUS__MUTATION__KIND__LOCK) {
            lk.kind = MVCC_LOCK; /* SELECT ... FOR UPDATE: no value */
            key = m->key.data;
            key_len = m->key.len;
        } else {
            return TL_EPROTO; /* a range delete is not transactional */
        }
        rv = mvcc_prewrite_seen(f->st, f->cf, wb, key, key_len, &lk, seen,
                                val == NULL && lk.kind == MVCC_PUT ? "" : val,
                                len, NULL, NULL, &fresh);
        if (rv < 0)
            return rv;
        if (rv != MVCC_OK) {
            store_batch_clear(wb);
            res->outcome = rv == MVCC_LOCKED ? FSM_LOCKED : FSM_CONFLICT;
            res->mutation = m != NULL ? (int32_t)i : -1;
            return 0;
        }
        fresh_n += fresh;
    }
    res->affected = fresh_n;
    return 0;
}

/* Add every mutation of @b to @wb. On a versioned shard they commit at
 * one timestamp above every earlier commit of the shard (the proposer's
 * b->commit_ts at least: see fsm.h), recorded with them; a key a
 * transaction locks fails the batch (FSM_LOCKED in @res, @wb emptied). */
static int
add_all(struct node_fsm *f, struct store_batch *wb, const Talus__WriteBatch *b,
        struct fsm_result *res)
{
    uint64_t c;

    if (!f->versioned) {
        for (size_t i = 0; i < b->n_mutations; i++)
            add_mutation(f, wb, b->mutations[i]);
        return 0;
    }
    if (b->txn != NULL)
        return add_prewrites(f, wb, b, res);
    if (b->n_mutations == 0)
        return 0;
    c = f->last_commit_ts + 1;
    if (b->has_commit_ts && b->commit_ts > c)
        c = b->commit_ts;
    for (size_t i = 0; i < b->n_mutations; i++) {
        int rv = add_versioned(f, wb, b->mutations[i], c);
        if (rv < 0)
            return rv;
        if (rv == MVCC_LOCKED) {
            store_batch_clear(wb);
            res->outcome = FSM_LOCKED;
            res->mutation = (int32_t)i;
            return 0;
        }
    }
    res->commit_ts = c;
    return 0;
}

/* Write @wb plus the applied index @index atomically. */
static int
commit(struct node_fsm *f, struct store_batch *wb, uint64_t index,
       uint64_t commit_ts)
{
    char idx[16], err[256];
    uint64_t last =
        commit_ts > f->last_commit_ts ? commit_ts : f->last_commit_ts;

    store_batch_put(wb, f->cf, STORE_APPLIED_KEY, STORE_APPLIED_KEY_LEN, idx,
                    applied_value(f, index, last, idx));
    if (store_write(f->st, wb, false, err, sizeof err) != 0) {
        tl_error("fsm", "event=write_failed shard=%u index=%llu err=\"%s\"",
                 f->shard, (unsigned long long)index, err);
        return TL_EIO;
    }
    atomic_store(&f->applied, index);
    f->last_commit_ts = last;
    return 0;
}

/* Check every condition of @b; on the first failure fill @res. A modify
 * batch read at an index no later batch changed the shard after holds its
 * EQUALS conditions by construction: they are not read again (the reads
 * are most of the cost of applying a large UPDATE or DELETE). */
static int
check_all(struct node_fsm *f, const Talus__WriteBatch *b,
          struct fsm_result *res)
{
    bool unchanged = b->has_read_index && b->read_index != 0 &&
                     b->read_index >= f->last_write;
    struct mvcc_reader *reader = NULL;
    for (size_t i = 0; i < b->n_mutations; i++) {
        int ok;
        int rv;
        if (unchanged && b->mutations[i]->cond == TALUS__MUTATION__COND__EQUALS)
            continue;
        rv = check_cond(f, b->mutations[i], b->txn, &reader, &ok);
        if (rv != 0) {
            mvcc_reader_destroy(reader);
            return rv;
        }
        if (!ok) {
            res->outcome = FSM_COND_FAILED;
            res->mutation = (int32_t)i;
            res->cond = (int)b->mutations[i]->cond;
            break;
        }
    }
    mvcc_reader_destroy(reader);
    return 0;
}

/* A zeroed payload of @kind for a body of @len bytes, its header written,
 * in @out (raft_malloc'd); its first byte. */
static uint8_t *
entry_alloc(enum fsm_entry_kind kind, size_t len, struct raft_buffer *out)
{
    size_t total = tl_cluster_entry_bytes(len);
    uint8_t *p = raft_calloc(1, total);
    if (p == NULL)
        abort();
    p[0] = 'T';
    p[1] = 'L';
    p[2] = (uint8_t)kind;
    p[3] = '1';
    p[4] = (uint8_t)(len >> 24);
    p[5] = (uint8_t)(len >> 16);
    p[6] = (uint8_t)(len >> 8);
    p[7] = (uint8_t)len;
    out->base = p;
    out->len = total;
    return p;
}

void
fsm_entry_encode_raw(enum fsm_entry_kind kind, const void *body, size_t len,
                     struct raft_buffer *out)
{
    uint8_t *p = entry_alloc(kind, len, out);
    if (len > 0)
        memcpy(p + FSM_ENTRY_HEADER, body, len);
}

void
fsm_entry_encode(const Talus__WriteBatch *wb, struct raft_buffer *out)
{
    size_t n = talus__write_batch__get_packed_size(wb);
    /* Packed in place: a large batch is not copied twice. */
    talus__write_batch__pack(
        wb, entry_alloc(wb->txn != NULL ? FSM_ENTRY_PREWRITE : FSM_ENTRY_WRITE,
                        n, out) +
                FSM_ENTRY_HEADER);
}

int
fsm_entry_decode(const void *data, size_t len, enum fsm_entry_kind *kind,
                 const void **body, size_t *body_len)
{
    const uint8_t *p = data;
    size_t n;
    if (len < FSM_ENTRY_HEADER || p[0] != 'T' || p[1] != 'L' || p[3] != '1')
        return TL_EPROTO;
    n = tl_load_be32(p + 4);
    if (n > len - FSM_ENTRY_HEADER)
        return TL_EPROTO;
    *kind = (enum fsm_entry_kind)p[2];
    *body = p + FSM_ENTRY_HEADER;
    *body_len = n;
    return 0;
}

/* A payload that cannot be applied: keep the index moving (a bad entry
 * must not wedge the shard), write nothing else. */
static int
apply_bad(struct node_fsm *f, struct store_batch *wb, uint64_t index,
          const char *why, struct fsm_result *res)
{
    tl_error("fsm", "event=bad_entry shard=%u index=%llu why=%s", f->shard,
             (unsigned long long)index, why);
    res->outcome = FSM_BAD_BATCH;
    dedupe_prune(&f->dedupe, wb, f->cf, index);
    return commit(f, wb, index, 0);
}

/* FSM_ENTRY_WRITE: apply the packed batch @body/@n at @index (see
 * fsm_apply_batch()), adding to @wb. */
static int
apply_write(struct node_fsm *f, struct store_batch *wb, uint64_t index,
            const void *body, size_t n, enum fsm_entry_kind kind,
            struct fsm_result *res)
{
    Talus__WriteBatch *b = talus__write_batch__unpack(NULL, n, body);
    int rv;

    if (b == NULL)
        return apply_bad(f, wb, index, "write_batch", res);
    if ((kind == FSM_ENTRY_PREWRITE) != (b->txn != NULL) ||
        (b->txn != NULL && (!f->versioned || b->txn->start_ts == 0))) {
        talus__write_batch__free_unpacked(b, NULL);
        return apply_bad(f, wb, index, "prewrite", res);
    }
    if (b->has_request_id && b->request_id != 0) {
        uint64_t first;
        if (fsm_dedupe_lookup(f, b->request_id, res, &first)) {
            tl_info("fsm",
                    "event=duplicate shard=%u request_id=%llu index=%llu "
                    "first_index=%llu",
                    f->shard, (unsigned long long)b->request_id,
                    (unsigned long long)index, (unsigned long long)first);
            dedupe_prune(&f->dedupe, wb, f->cf, index);
            rv = commit(f, wb, index, 0);
            goto out;
        }
    }
    if (b->has_map_version && b->map_version != 0 &&
        b->map_version < f->fence) {
        res->outcome = FSM_STALE; /* planned before an index build */
        dedupe_prune(&f->dedupe, wb, f->cf, index);
        rv = commit(f, wb, index, 0);
        goto out;
    }
    rv = check_all(f, b, res);
    if (rv != 0)
        goto out;
    if (res->outcome == FSM_OK)
        rv = add_all(f, wb, b, res);
    if (rv != 0)
        goto out;
    if (res->outcome == FSM_OK) {
        uint64_t fresh_locks = b->txn != NULL ? res->affected : 0;
        if (b->n_mutations > 0)
            f->last_write = index;
        f->n_locks += fresh_locks;
        res->affected = 0;
        if (b->has_affected)
            res->affected = b->affected & FSM_AFFECTED_MAX;
    }
    if (res->outcome == FSM_OK && b->has_preferred_leader) {
        char v[4] = {(char)(b->preferred_leader >> 24),
                     (char)(b->preferred_leader >> 16),
                     (char)(b->preferred_leader >> 8),
                     (char)b->preferred_leader};
        store_batch_put(wb, f->cf, STORE_PREFERRED_KEY, STORE_PREFERRED_KEY_LEN,
                        v, sizeof v);
    }
    if (b->has_request_id && b->request_id != 0 && res->outcome == FSM_OK)
        dedupe_record(f, wb, b->request_id, index, res);
    else
        dedupe_prune(&f->dedupe, wb, f->cf, index);
    rv = commit(f, wb, index, res->commit_ts);
    if (rv == 0 && res->outcome == FSM_OK && b->has_preferred_leader)
        atomic_store(&f->preferred, b->preferred_leader);
    if (rv == 0 && res->outcome == FSM_OK && f->applied_cb != NULL)
        f->applied_cb(f, b);
out:
    talus__write_batch__free_unpacked(b, NULL);
    return rv;
}

/* FSM_ENTRY_TXN_END: commit or roll back every lock of a transaction on
 * the shard (mvcc_end_txn()); a commit raises the commit floor to its
 * timestamp, so no later one-phase write commits below it. With
 * rollback_to_seq, only the writes after that statement are undone
 * (mvcc_rollback_to(): ROLLBACK TO SAVEPOINT). res->affected counts the
 * locks ended (removed). */
static int
apply_txn_end(struct node_fsm *f, struct store_batch *wb, uint64_t index,
              const void *body, size_t n, struct fsm_result *res)
{
    Talus__TxnEndRequest *e = talus__txn_end_request__unpack(NULL, n, body);
    uint64_t ended = 0, c;
    int rv;

    if (e == NULL || !f->versioned || e->start_ts == 0 ||
        (e->has_commit_ts && e->commit_ts != 0 &&
         e->commit_ts <= e->start_ts)) {
        if (e != NULL)
            talus__txn_end_request__free_unpacked(e, NULL);
        return apply_bad(f, wb, index, "txn_end", res);
    }
    if (e->has_rollback_to_seq) {
        /* ROLLBACK TO SAVEPOINT: the transaction goes on. */
        if ((e->has_commit_ts && e->commit_ts != 0) || e->has_record) {
            talus__txn_end_request__free_unpacked(e, NULL);
            return apply_bad(f, wb, index, "txn_end", res);
        }
        rv = mvcc_rollback_to(f->st, f->cf, wb, e->start_ts, e->rollback_to_seq,
                              &ended);
        talus__txn_end_request__free_unpacked(e, NULL);
        if (rv != 0)
            return rv;
        dedupe_prune(&f->dedupe, wb, f->cf, index);
        rv = commit(f, wb, index, 0);
        if (rv == 0) {
            assert(f->n_locks >= ended);
            f->n_locks -= ended;
            res->affected = ended & FSM_AFFECTED_MAX;
        }
        return rv;
    }
    c = e->has_commit_ts ? e->commit_ts : 0;
    if (c != 0 && e->has_record && e->record.len > 0) {
        /* The commit point: refused when a resolver rolled the record
         * back first (then nothing of the transaction commits). */
        uint64_t min_commit = 0;
        rv = mvcc_commit_record(f->st, f->cf, wb, e->record.data, e->record.len,
                                e->start_ts, c, &min_commit);
        if (rv == MVCC_TS_TOO_LOW) {
            talus__txn_end_request__free_unpacked(e, NULL);
            store_batch_clear(wb);
            res->outcome = FSM_TS_TOO_LOW;
            dedupe_prune(&f->dedupe, wb, f->cf, index);
            return commit(f, wb, index, 0);
        }
        if (rv == MVCC_ROLLED_BACK) {
            talus__txn_end_request__free_unpacked(e, NULL);
            store_batch_clear(wb);
            res->outcome = FSM_CONFLICT;
            dedupe_prune(&f->dedupe, wb, f->cf, index);
            return commit(f, wb, index, 0);
        }
        if (rv < 0) {
            talus__txn_end_request__free_unpacked(e, NULL);
            return rv;
        }
    }
    rv = mvcc_end_txn(f->st, f->cf, wb, e->start_ts, c,
                      e->has_max_locks ? e->max_locks : 0, &ended);
    if (rv == 0 && c == 0 && e->has_record && e->record.len > 0) {
        /* A resolver rolls the record back for good: a prewrite of it
         * still in flight then finds the rollback (idempotent). */
        rv = mvcc_rollback(f->st, f->cf, wb, e->record.data, e->record.len,
                           e->start_ts);
        if (rv == MVCC_WRITE_CONFLICT)
            rv = 0; /* it committed: the locks above were not ours */
    }
    talus__txn_end_request__free_unpacked(e, NULL);
    if (rv != 0) {
        tl_error("fsm", "event=txn_end_failed shard=%u index=%llu rv=%d",
                 f->shard, (unsigned long long)index, rv);
        return rv;
    }
    dedupe_prune(&f->dedupe, wb, f->cf, index);
    rv = commit(f, wb, index, c);
    if (rv == 0) {
        assert(f->n_locks >= ended);
        f->n_locks -= ended;
        if (ended > 0)
            f->last_write = index;
        res->affected = ended & FSM_AFFECTED_MAX;
        res->commit_ts = c;
    }
    return rv;
}

/* FSM_ENTRY_READ_TS: a snapshot read at the timestamp in @body is about to
 * be served: raise the commit floor to it, so that no write applied after
 * this entry commits at or below it (the read would have missed it). */
static int
apply_read_ts(struct node_fsm *f, struct store_batch *wb, uint64_t index,
              const void *body, size_t n, struct fsm_result *res)
{
    uint64_t ts;
    if (n != 8 || !f->versioned)
        return apply_bad(f, wb, index, "read_ts", res);
    ts = tl_load_be64(body);
    dedupe_prune(&f->dedupe, wb, f->cf, index);
    return commit(f, wb, index, ts);
}

/* FSM_ENTRY_PUSH: a reader at push_ts reads below transaction start_ts's
 * pending writes: raise its record's minimum commit timestamp above it
 * (mvcc_push()); nothing when the record is no longer locked. */
static int
apply_push(struct node_fsm *f, struct store_batch *wb, uint64_t index,
           const void *body, size_t n, struct fsm_result *res)
{
    Talus__TxnStatusRequest *q =
        talus__txn_status_request__unpack(NULL, n, body);
    int rv;
    if (q == NULL || !f->versioned || !q->has_push_ts) {
        if (q != NULL)
            talus__txn_status_request__free_unpacked(q, NULL);
        return apply_bad(f, wb, index, "push", res);
    }
    rv = mvcc_push(f->st, f->cf, wb, q->record.data, q->record.len, q->start_ts,
                   q->push_ts);
    talus__txn_status_request__free_unpacked(q, NULL);
    if (rv < 0)
        return rv;
    dedupe_prune(&f->dedupe, wb, f->cf, index);
    return commit(f, wb, index, 0);
}

/* FSM_ENTRY_INDEX_BUILD: raise the catalog fence, then fill a chunk of
 * the index (node/store/index_fill.h) at one timestamp above every
 * commit of the shard. */
static int
apply_index_build(struct node_fsm *f, struct store_batch *wb, uint64_t index,
                  const void *body, size_t n, struct fsm_result *res)
{
    Talus__IndexBuildRequest *q =
        talus__index_build_request__unpack(NULL, n, body);
    struct tl_table *t = NULL;
    const struct tl_index *ix = NULL;
    int rv;

    if (q != NULL && f->versioned &&
        tl_table_from_proto(q->table, &t, NULL) == 0)
        ix = tl_table_index_by_id(t, q->index_id);
    if (ix == NULL) {
        tl_table_destroy(t);
        if (q != NULL)
            talus__index_build_request__free_unpacked(q, NULL);
        return apply_bad(f, wb, index, "index_build", res);
    }
    uint64_t c = f->last_commit_ts + 1;
    rv = index_fill(f->st, f->cf, wb, t, ix, q->resume_key.data,
                    q->has_resume_key ? q->resume_key.len : 0, q->end_key.data,
                    q->has_end_key ? q->end_key.len : 0, c, res);
    if (rv == 0 && q->map_version > f->fence) {
        /* The fence stands even when the chunk must wait (a refused
         * chunk's writes were cleared). */
        char v[8];
        store_encode_u64(q->map_version, v);
        store_batch_put(wb, f->cf, STORE_FENCE_KEY, STORE_FENCE_KEY_LEN, v,
                        sizeof v);
    }
    if (rv == 0) {
        dedupe_prune(&f->dedupe, wb, f->cf, index);
        rv = commit(f, wb, index, res->outcome == FSM_OK ? c : 0);
    }
    if (rv == 0 && q->map_version > f->fence)
        f->fence = q->map_version;
    if (rv == 0 && res->outcome == FSM_OK)
        f->last_write = index;
    tl_table_destroy(t);
    talus__index_build_request__free_unpacked(q, NULL);
    return rv;
}

int
fsm_apply_batch(struct node_fsm *f, uint64_t index, const void *data,
                size_t len, struct fsm_result *res)
{
    struct store_batch *wb;
    enum fsm_entry_kind kind;
    const void *body;
    size_t n;
    int rv;

    res->outcome = FSM_OK;
    res->mutation = -1;
    res->cond = 0;
    res->affected = 0;
    res->commit_ts = 0;
    if (index <= atomic_load(&f->applied))
        return 0; /* replay of an entry already in RocksDB */
    wb = store_batch_create();
    if (fsm_entry_decode(data, len, &kind, &body, &n) != 0) {
        rv = apply_bad(f, wb, index, "framing", res);
    } else {
        switch (kind) {
        case FSM_ENTRY_WRITE:
        case FSM_ENTRY_PREWRITE:
            rv = apply_write(f, wb, index, body, n, kind, res);
            break;
        case FSM_ENTRY_TXN_END:
            rv = apply_txn_end(f, wb, index, body, n, res);
            break;
        case FSM_ENTRY_READ_TS:
            rv = apply_read_ts(f, wb, index, body, n, res);
            break;
        case FSM_ENTRY_PUSH:
            rv = apply_push(f, wb, index, body, n, res);
            break;
        case FSM_ENTRY_INDEX_BUILD:
            rv = apply_index_build(f, wb, index, body, n, res);
            break;
        default:
            rv = apply_bad(f, wb, index, "unknown_kind", res);
            break;
        }
    }
    store_batch_destroy(wb);
    return rv;
}

/* ------------------------------------------------------------ restore */

static void
restore_meta_key(const struct node_fsm *f, char *key, size_t len)
{
    snprintf(key, len, "restore/%u", f->shard);
}

/* "spill/<shard>/" then the index BE: sorts by index within a shard. */
static size_t
spill_key(const struct node_fsm *f, uint64_t index, char *key)
{
    int n = snprintf(key, 32, "spill/%u/", f->shard);
    store_encode_u64(index, key + n);
    return (size_t)n + 8;
}

int
fsm_restore_load(struct node_fsm *f)
{
    char key[32], *v;
    size_t len;
    int rv;

    restore_meta_key(f, key, sizeof key);
    rv = store_meta_get(f->st, key, &v, &len);
    if (rv != 0)
        return rv;
    if (v == NULL)
        return 0;
    if (len != 12) {
        free(v);
        return TL_ECORRUPT;
    }
    f->restore_index = tl_load_be64((const uint8_t *)v);
    f->restore_source = tl_load_be32((const uint8_t *)v + 8);
    free(v);
    atomic_store(&f->restoring, true);
    tl_info("fsm", "event=restore_pending shard=%u index=%llu source=%u",
            f->shard, (unsigned long long)f->restore_index,
            (unsigned)f->restore_source);
    return 0;
}

/* Record a restore to >= @index from @source, synced. */
static int
restore_begin(struct node_fsm *f, uint64_t index, uint32_t source)
{
    char key[32], val[12];
    int rv;

    restore_meta_key(f, key, sizeof key);
    store_encode_u64(index, val);
    val[8] = (char)(source >> 24);
    val[9] = (char)(source >> 16);
    val[10] = (char)(source >> 8);
    val[11] = (char)source;
    rv = store_meta_put(f->st, key, val, sizeof val);
    if (rv != 0)
        return rv;
    f->restore_index = index;
    f->restore_source = source;
    atomic_store(&f->restoring, true);
    tl_info("fsm",
            "event=restore_begin shard=%u index=%llu source=%u "
            "applied=%llu",
            f->shard, (unsigned long long)index, source,
            (unsigned long long)atomic_load(&f->applied));
    if (f->restore_cb != NULL)
        f->restore_cb(f);
    return 0;
}

/* While restoring: keep the entry for after the copy. */
static int
spill(struct node_fsm *f, uint64_t index, const void *data, size_t len)
{
    char key[40], err[256];
    size_t klen = spill_key(f, index, key);
    struct store_batch *b = store_batch_create();
    int rv;

    store_batch_put(b, store_meta_cf(f->st), key, klen, data, len);
    rv = store_write(f->st, b, false, err, sizeof err);
    store_batch_destroy(b);
    if (rv != 0) {
        tl_error("fsm", "event=spill_failed shard=%u err=\"%s\"", f->shard,
                 err);
        return rv;
    }
    if (index > f->spill_last)
        f->spill_last = index;
    return 0;
}

int
fsm_restore_write_page(struct node_fsm *f, bool first, bool last,
                       uint64_t applied, const ProtobufCBinaryData *keys,
                       const ProtobufCBinaryData *values, size_t n)
{
    struct store_batch *wb = store_batch_create();
    char err[256];
    int rv;

    if (first)
        store_batch_delete_range(wb, f->cf, "", 0, STORE_MAX_KEY,
                                 STORE_MAX_KEY_LEN);
    if (first)
        f->restore_last_commit = 0;
    for (size_t i = 0; i < n; i++) {
        if (keys[i].len == STORE_APPLIED_KEY_LEN &&
            memcmp(keys[i].data, STORE_APPLIED_KEY, STORE_APPLIED_KEY_LEN) ==
                0) {
            /* The source's position: we store our own, last, keeping the
             * source's commit timestamps. */
            if (values[i].len == 16)
                f->restore_last_commit = tl_load_be64(values[i].data + 8);
            continue;
        }
        store_batch_put(wb, f->cf, keys[i].data, keys[i].len, values[i].data,
                        values[i].len);
    }
    if (last) {
        char idx[16];
        store_batch_put(wb, f->cf, STORE_APPLIED_KEY, STORE_APPLIED_KEY_LEN,
                        idx,
                        applied_value(f, applied, f->restore_last_commit, idx));
    }
    rv = store_write(f->st, wb, false, err, sizeof err);
    store_batch_destroy(wb);
    if (rv != 0)
        tl_error("fsm", "event=restore_write_failed shard=%u err=\"%s\"",
                 f->shard, err);
    return rv;
}

int
fsm_restore_finish(struct node_fsm *f)
{
    struct store_read r = store_read_latest();
    struct store_iter *it;
    char lo[40], hi[40], key[32], err[256];
    size_t lo_len, hi_len;
    uint64_t applied, n_replayed = 0;
    int rv;

    /* Entries the applier still holds would be spilled after the replay
     * below read the spill: finish with the queue empty. */
    applier_drain(f);

    rv = store_read_applied(f->st, f->cf, NULL, &applied);
    if (rv != 0)
        return rv;
    atomic_store(&f->applied, applied);
    f->last_write = applied; /* the fetched rows replaced ours */
    rv = dedupe_load(f);
    if (rv == 0)
        rv = last_commit_load(f);
    if (rv == 0)
        rv = preferred_load(f);
    if (rv == 0)
        rv = fence_load(f);
    if (rv != 0)
        return rv;
    /* Leave restoring mode first: fsm_apply_batch writes the CF. */
    atomic_store(&f->restoring, false);
    lo_len = spill_key(f, 0, lo);
    hi_len = spill_key(f, UINT64_MAX, hi);
    r.upper = hi;
    r.upper_len = hi_len;
    it = store_iter_create(f->st, store_meta_cf(f->st), &r);
    for (store_iter_seek(it, lo, lo_len); store_iter_valid(it);
         store_iter_next(it)) {
        size_t klen, vlen;
        const char *k = store_iter_key(it, &klen);
        const char *v = store_iter_value(it, &vlen);
        uint64_t index = tl_load_be64((const uint8_t *)k + klen - 8);
        struct fsm_result res;
        if (index <= applied)
            continue;
        rv = fsm_apply_batch(f, index, v, vlen, &res);
        if (rv != 0)
            break;
        n_replayed++;
    }
    if (rv == 0 && store_iter_status(it, err, sizeof err) != 0) {
        tl_error("fsm", "event=spill_read_failed shard=%u err=\"%s\"", f->shard,
                 err);
        rv = TL_EIO;
    }
    store_iter_destroy(it);
    if (rv != 0) {
        atomic_store(&f->restoring, true);
        return rv;
    }
    {
        struct store_batch *wb = store_batch_create();
        store_batch_delete_range(wb, store_meta_cf(f->st), lo, lo_len, hi,
                                 hi_len);
        /* A failure is harmless: replays skip applied indexes. */
        (void)store_write(f->st, wb, false, NULL, 0);
        store_batch_destroy(wb);
    }
    restore_meta_key(f, key, sizeof key);
    store_meta_put(f->st, key, NULL, 0);
    tl_info("fsm",
            "event=restore_done shard=%u fetched_index=%llu replayed=%llu "
            "applied=%llu",
            f->shard, (unsigned long long)applied,
            (unsigned long long)n_replayed,
            (unsigned long long)atomic_load(&f->applied));
    f->spill_last = 0;
    return 0;
}

/* ------------------------------------------------------------ snapshots */

void
fsm_snapshot_encode(struct node_fsm *f, uint8_t out[FSM_SNAPSHOT_LEN])
{
    uint64_t applied = atomic_load(&f->applied);
    /* While restoring, our state is the restore target plus the spill:
     * raft's applied index is the one it snapshots. */
    if (atomic_load(&f->restoring) && f->raft != NULL)
        applied = raft_last_applied(f->raft);
    memcpy(out, snapshot_magic, 8);
    store_encode_u64(f->shard, (char *)out + 8);
    store_encode_u64(applied, (char *)out + 16);
    store_encode_u64(f->node_id, (char *)out + 24);
}

int
fsm_snapshot_check(struct node_fsm *f, const void *p, size_t len)
{
    const uint8_t *d = p;
    uint64_t shard, index, applied = atomic_load(&f->applied);

    if ((len != FSM_SNAPSHOT_LEN && len != FSM_SNAPSHOT_LEN_V1) ||
        memcmp(d, snapshot_magic, 8) != 0)
        return TL_ECORRUPT;
    shard = tl_load_be64(d + 8);
    index = tl_load_be64(d + 16);
    if (shard != f->shard)
        return TL_ECORRUPT;
    if (applied < index)
        return TL_EUNAVAILABLE; /* the data must come out of band */
    return 0;
}

/* ------------------------------------------------------------ raft glue */

int
fsm_apply_entry(struct node_fsm *f, uint64_t index, const void *data,
                size_t len, struct fsm_result *res)
{
    if (atomic_load(&f->restoring)) {
        res->outcome = FSM_OK;
        res->mutation = -1;
        res->cond = 0;
        return spill(f, index, data, len);
    }
    return fsm_apply_batch(f, index, data, len, res);
}

int
fsm_restore_descriptor(struct node_fsm *f, const void *data, size_t len)
{
    const uint8_t *d = data;
    int rv;

    /* Compare with (and later clear) the state at rest. Rare: a follower
     * that fell behind the leader's log. */
    applier_drain(f);
    rv = fsm_snapshot_check(f, data, len);
    if (rv == TL_ECORRUPT) {
        tl_error("fsm", "event=bad_snapshot shard=%u len=%zu", f->shard, len);
        return rv;
    }
    if (rv == TL_EUNAVAILABLE || atomic_load(&f->restoring)) {
        /* Our data is older: copy it out of band (see fsm.h). */
        uint64_t index = tl_load_be64(d + 16);
        uint32_t source =
            len == FSM_SNAPSHOT_LEN ? (uint32_t)tl_load_be64(d + 24) : 0;
        /* Our own snapshot, reloaded at start while restoring. */
        if (source == f->node_id)
            source = f->restore_source;
        if (!atomic_load(&f->restoring) || index > f->restore_index ||
            source != f->restore_source)
            return restore_begin(f, index, source);
    }
    return 0;
}

static int
fsm_apply_cb(struct raft_fsm *rf, const struct raft_buffer *buf, void **result)
{
    struct node_fsm *f = rf->data;
    struct fsm_result res;
    /* raft does not pass the index: it is the one after the last applied. */
    uint64_t index = raft_last_applied(f->raft) + 1;

    f->log_bytes += buf->len;
    f->log_entries++;
    if (f->applier != NULL) {
        /* Off the loop: the result is the index, claimed with
         * applier_claim(). */
        applier_enqueue(f, index, buf->base, buf->len);
        *result = (void *)(uintptr_t)index;
        return 0;
    }
    if (fsm_apply_entry(f, index, buf->base, buf->len, &res) != 0)
        return RAFT_IOERR;
    *result = fsm_result_pack(&res);
    return 0;
}

/* On the loop: capture the descriptor; the sync happens in snapshot_async.
 * Buffers are ours (snapshot_finalize is set) and freed there. */
static int
fsm_snapshot_cb(struct raft_fsm *rf, struct raft_buffer *bufs[],
                unsigned *n_bufs)
{
    struct node_fsm *f = rf->data;
    struct raft_buffer *b = raft_malloc(sizeof *b);
    if (b == NULL)
        return RAFT_NOMEM;
    b->base = raft_malloc(FSM_SNAPSHOT_LEN);
    if (b->base == NULL) {
        raft_free(b);
        return RAFT_NOMEM;
    }
    b->len = FSM_SNAPSHOT_LEN;
    fsm_snapshot_encode(f, b->base);
    *bufs = b;
    *n_bufs = 1;
    return 0;
}

static int
fsm_snapshot_finalize_cb(struct raft_fsm *rf, struct raft_buffer *bufs[],
                         unsigned *n_bufs)
{
    (void)rf;
    if (*bufs != NULL) {
        for (unsigned i = 0; i < *n_bufs; i++)
            raft_free((*bufs)[i].base);
        raft_free(*bufs);
    }
    *bufs = NULL;
    *n_bufs = 0;
    return 0;
}

/* On success raft hands us buf->base (we free it); on failure it frees. */
static int
fsm_restore_cb(struct raft_fsm *rf, struct raft_buffer *buf)
{
    struct node_fsm *f = rf->data;
    int rv = fsm_restore_descriptor(f, buf->base, buf->len);
    if (rv == TL_ECORRUPT)
        return RAFT_CORRUPT;
    if (rv != 0)
        return RAFT_IOERR;
    raft_free(buf->base);
    return 0;
}

/* raft truncates its log once the snapshot is stored, so everything
 * applied so far must be durable first. raft 0.22 takes snapshots on the
 * loop (its uv io has no thread-pool hook), so the WAL sync runs there,
 * once every snapshot_threshold entries. */
static int
fsm_snapshot_sync_cb(struct raft_fsm *rf, struct raft_buffer *bufs[],
                     unsigned *n_bufs)
{
    struct node_fsm *f = rf->data;
    /* The descriptor must cover what raft applied: not before the applier
     * caught up (raft asks again after a later entry). */
    if (!applier_idle(f))
        return RAFT_BUSY;
    if (store_sync(f->st) != 0)
        return RAFT_IOERR;
    tl_debug("fsm", "event=snapshot shard=%u", f->shard);
    if (f->retain_bytes > 0 && f->raft != NULL) {
        /* raft reads the trailing count after this returns, for this
         * snapshot: keep about retain_bytes of entries of the size seen
         * lately. Setters only: nothing in raft runs from here. */
        uint64_t avg = f->log_entries > 0 ? f->log_bytes / f->log_entries : 1;
        uint64_t keep = f->retain_bytes / (avg > 0 ? avg : 1);
        if (keep > f->trailing)
            keep = f->trailing;
        if (keep < 16)
            keep = 16;
        raft_set_snapshot_trailing(f->raft, (unsigned)keep);
        if (f->threshold_lowered)
            raft_set_snapshot_threshold(f->raft, f->threshold);
        f->threshold_lowered = false;
    }
    f->log_bytes = 0;
    f->log_entries = 0;
    return fsm_snapshot_cb(rf, bufs, n_bufs);
}

void
fsm_set_retention(struct node_fsm *f, unsigned threshold, unsigned trailing,
                  uint64_t retain_bytes)
{
    f->threshold = threshold;
    f->trailing = trailing;
    f->retain_bytes = retain_bytes;
}

void
fsm_log_check(struct node_fsm *f)
{
    if (f->retain_bytes == 0 || f->threshold_lowered || f->raft == NULL ||
        f->log_bytes < f->retain_bytes)
        return;
    raft_set_snapshot_threshold(
        f->raft, f->log_entries > 0 ? (unsigned)f->log_entries : 1);
    f->threshold_lowered = true;
}

void
fsm_setup_raft(struct node_fsm *f, struct raft *r)
{
    f->raft = r;
    f->raft_fsm.version = 2;
    f->raft_fsm.data = f;
    f->raft_fsm.apply = fsm_apply_cb;
    f->raft_fsm.snapshot = fsm_snapshot_sync_cb;
    f->raft_fsm.restore = fsm_restore_cb;
    f->raft_fsm.snapshot_finalize = fsm_snapshot_finalize_cb;
    f->raft_fsm.snapshot_async = NULL;
}
