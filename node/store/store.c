/* store — see store.h. */
#include "node/store/store.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <rocksdb/c.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "tl_error.h"

#define STORE_MEMTABLE_BYTES ((size_t)256 << 20)

/* One column family: its handle and name, allocated once and freed by
 * store_close() only (after the database closed: a compaction may run
 * this column family's filter until then). */
struct store_cf {
    struct store *st; /* the owner */
    rocksdb_column_family_handle_t *h;
    char *name;
    /* The compaction filter's floor (store_cf_set_gc_floor): any thread. */
    _Atomic uint64_t gc_floor;
};

/* Deletions a compaction filter asked for, written after the compaction
 * (store_flush_deferred()): a list under the store's mutex. */
struct deferred {
    struct store_batch *b;
    struct deferred *next;
};

struct store {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_writeoptions_t *wopts;      /* WAL on, no sync: raft's log is */
    rocksdb_writeoptions_t *wopts_sync; /* WAL on, synced */
    rocksdb_readoptions_t *ropts;
    pthread_mutex_t mu; /* guards n_cfs, cfs (they grow), the filter
                           and the deferred deletions */
    size_t n_cfs;
    struct store_cf **cfs;               /* owned; cfs[0] is "default" */
    const struct store_filter_ops *fops; /* NULL: no filtering */
    void *farg;
    struct deferred *deferred;
    uint64_t n_deferred; /* deletions waiting in the list */
};

struct store_batch {
    rocksdb_writebatch_t *wb;
};

struct store_iter {
    rocksdb_readoptions_t *ro;
    rocksdb_iterator_t *it;
    char *upper; /* the bound, kept alive as long as the iterator */
};

struct store_snap {
    const rocksdb_snapshot_t *snap;
};

/* Copy RocksDB's error string into @errbuf and free it. */
static void
take_error(char *err, char *errbuf, size_t errlen)
{
    if (errbuf != NULL && errlen > 0)
        snprintf(errbuf, errlen, "%s", err);
    rocksdb_free(err);
}

/* Read options for @r (NULL: the latest state, no bound): caller destroys
 * them; the bound is not set (iterators keep their own copy). */
static rocksdb_readoptions_t *
make_read_options(const struct store_read *r)
{
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    if (r == NULL)
        return ro;
    /* One version per key: only the latest is served (store.h). */
    assert(r->ts == STORE_TS_LATEST);
    if (r->snap != NULL)
        rocksdb_readoptions_set_snapshot(ro, r->snap->snap);
    if (!r->fill_cache)
        rocksdb_readoptions_set_fill_cache(ro, 0);
    return ro;
}

struct store_read
store_read_latest(void)
{
    struct store_read r = {.ts = STORE_TS_LATEST, .fill_cache = true};
    return r;
}

int
store_mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return TL_EIO;
    }
    memcpy(tmp, path, len + 1);
    for (char *p = tmp + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return TL_EIO;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return TL_EIO;
    return 0;
}

void
store_encode_u64(uint64_t v, char out[8])
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (char)(v & 0xFF);
        v >>= 8;
    }
}

/* Add @name to @names unless present. */
static void
add_name(char ***names, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*names)[i], name) == 0)
            return;
    *names = realloc(*names, (*n + 1) * sizeof **names);
    if (*names == NULL)
        abort();
    (*names)[(*n)++] = strdup(name);
}

/* The column families to open: every existing one plus those we need,
 * "default" first. *@names is malloc'd, each name too. */
static void
collect_cf_names(struct store *st, const char *path, const uint32_t *shards,
                 size_t n_shards, char ***names, size_t *n_names)
{
    char *err = NULL;
    size_t n_existing = 0;
    char **existing =
        rocksdb_list_column_families(st->opts, path, &n_existing, &err);
    if (err != NULL) {
        /* No database yet: nothing exists. */
        rocksdb_free(err);
        rocksdb_free(existing);
        existing = NULL;
        n_existing = 0;
    }
    add_name(names, n_names, "default");
    for (size_t i = 0; i < n_existing; i++)
        add_name(names, n_names, existing[i]);
    if (existing != NULL)
        rocksdb_list_column_families_destroy(existing, n_existing);
    for (size_t i = 0; i < n_shards; i++) {
        char name[32];
        snprintf(name, sizeof name, "shard-%u", shards[i]);
        add_name(names, n_names, name);
    }
}

/* A new column family record named @name (taken), not yet opened. */
static struct store_cf *
new_cf(struct store *st, char *name)
{
    struct store_cf *cf = calloc(1, sizeof *cf);
    if (cf == NULL)
        abort();
    cf->st = st;
    cf->name = name;
    atomic_init(&cf->gc_floor, 0);
    return cf;
}

static void
free_cf(struct store_cf *cf)
{
    free(cf->name);
    free(cf);
}

/* Append @cf (opened as @h) to st->cfs. */
static struct store_cf *
add_cf(struct store *st, struct store_cf *cf, rocksdb_column_family_handle_t *h)
{
    cf->h = h;
    pthread_mutex_lock(&st->mu);
    st->cfs = realloc(st->cfs, (st->n_cfs + 1) * sizeof *st->cfs);
    if (st->cfs == NULL)
        abort();
    st->cfs[st->n_cfs++] = cf;
    pthread_mutex_unlock(&st->mu);
    return cf;
}

/* ------------------------------------------------------------ filters */

/* One compaction's filter: the owner's state, and the deletions it asks
 * for after the compaction. */
struct cfilter {
    struct store_cf *cf;
    const struct store_filter_ops *ops; /* NULL: keeps everything */
    void *state;
    struct store_batch *deferred;
};

static unsigned char
cfilter_filter(void *p, int level, const char *key, size_t key_len,
               const char *val, size_t val_len, char **new_val, size_t *new_len,
               unsigned char *changed)
{
    struct cfilter *f = p;
    (void)level;
    (void)new_val;
    (void)new_len;
    *changed = 0;
    if (f->ops == NULL)
        return 0;
    return f->ops->drop(f->state, f->deferred, key, key_len, val, val_len) ? 1
                                                                           : 0;
}

static void
cfilter_destroy(void *p)
{
    struct cfilter *f = p;
    struct store *st = f->cf->st;
    if (f->ops != NULL)
        f->ops->end(f->state);
    int n = rocksdb_writebatch_count(f->deferred->wb);
    if (n > 0) {
        struct deferred *d = malloc(sizeof *d);
        if (d == NULL)
            abort();
        d->b = f->deferred;
        pthread_mutex_lock(&st->mu);
        d->next = st->deferred;
        st->deferred = d;
        st->n_deferred += (uint64_t)n;
        pthread_mutex_unlock(&st->mu);
    } else {
        store_batch_destroy(f->deferred);
    }
    free(f);
}

static const char *
cfilter_name(void *p)
{
    (void)p;
    return "talus-store-filter";
}

/* A filter for one compaction of column family @p: the owner's state
 * when a floor is set, else one that keeps everything. */
static rocksdb_compactionfilter_t *
factory_create(void *p, rocksdb_compactionfiltercontext_t *ctx)
{
    struct store_cf *cf = p;
    struct store *st = cf->st;
    struct cfilter *f = calloc(1, sizeof *f);
    uint64_t floor = atomic_load(&cf->gc_floor);
    if (f == NULL)
        abort();
    f->cf = cf;
    f->deferred = store_batch_create();
    pthread_mutex_lock(&st->mu);
    const struct store_filter_ops *ops = st->fops;
    void *arg = st->farg;
    pthread_mutex_unlock(&st->mu);
    if (ops != NULL && floor != 0) {
        bool full = rocksdb_compactionfiltercontext_is_full_compaction(ctx);
        f->state = ops->begin(arg, cf, floor, full);
        f->ops = f->state != NULL ? ops : NULL;
    }
    return rocksdb_compactionfilter_create(f, cfilter_destroy, cfilter_filter,
                                           cfilter_name);
}

static void
factory_destroy(void *p)
{
    (void)p; /* the column family record is the store's */
}

static const char *
factory_name(void *p)
{
    (void)p;
    return "talus-store-filter-factory";
}

/* Options for column family @cf (caller destroys them): the store's, with
 * a filter factory of its own on a shard's column family. */
static rocksdb_options_t *
cf_options(struct store *st, struct store_cf *cf)
{
    rocksdb_options_t *o = rocksdb_options_create_copy(st->opts);
    if (strncmp(cf->name, "shard-", 6) == 0)
        rocksdb_options_set_compaction_filter_factory(
            o, rocksdb_compactionfilterfactory_create(
                   cf, factory_destroy, factory_create, factory_name));
    return o;
}

void
store_set_filter(struct store *st, const struct store_filter_ops *ops,
                 void *arg)
{
    pthread_mutex_lock(&st->mu);
    st->fops = ops;
    st->farg = arg;
    pthread_mutex_unlock(&st->mu);
}

void
store_cf_set_gc_floor(struct store_cf *cf, uint64_t floor)
{
    uint64_t cur = atomic_load(&cf->gc_floor);
    while (floor > cur &&
           !atomic_compare_exchange_weak(&cf->gc_floor, &cur, floor))
        ;
}

uint64_t
store_cf_gc_floor(const struct store_cf *cf)
{
    return atomic_load(&((struct store_cf *)cf)->gc_floor);
}

int
store_flush_deferred(struct store *st, uint64_t *n_written)
{
    char err[256];
    int rv = 0;
    uint64_t n = 0;

    pthread_mutex_lock(&st->mu);
    struct deferred *d = st->deferred;
    st->deferred = NULL;
    n = st->n_deferred;
    st->n_deferred = 0;
    pthread_mutex_unlock(&st->mu);
    while (d != NULL) {
        struct deferred *next = d->next;
        if (rv == 0) {
            rv = store_write(st, d->b, false, err, sizeof err);
            if (rv != 0)
                tl_error("store", "event=deferred_write_failed err=\"%s\"",
                         err);
        }
        store_batch_destroy(d->b);
        free(d);
        d = next;
    }
    if (n_written != NULL)
        *n_written = rv == 0 ? n : 0;
    return rv;
}

int
store_compact(struct store *st, struct store_cf *cf)
{
    rocksdb_compactoptions_t *o = rocksdb_compactoptions_create();
    /* Rewrite the last level too, so the filter sees every file. */
    rocksdb_compactoptions_set_bottommost_level_compaction(o, 2 /* kForce */);
    /* Twice: RocksDB picks the levels to go through when the call starts,
     * so the output of a background compaction still running then (a
     * level it did not count) is rewritten only by the second pass. */
    for (int pass = 0; pass < 2; pass++)
        rocksdb_compact_range_cf_opt(st->db, cf->h, o, NULL, 0, NULL, 0);
    rocksdb_compactoptions_destroy(o);
    return store_flush_deferred(st, NULL);
}

static int
open_db(struct store *st, const char *path, char **names, size_t n_names,
        char *errbuf, size_t errlen)
{
    char *err = NULL;
    const rocksdb_options_t **cf_opts = calloc(n_names, sizeof *cf_opts);
    rocksdb_column_family_handle_t **hs = calloc(n_names, sizeof *hs);
    struct store_cf **cfs = calloc(n_names, sizeof *cfs);
    if (cf_opts == NULL || hs == NULL || cfs == NULL)
        abort();
    for (size_t i = 0; i < n_names; i++) {
        cfs[i] = new_cf(st, names[i]);
        cf_opts[i] = cf_options(st, cfs[i]);
    }
    st->db = rocksdb_open_column_families(st->opts, path, (int)n_names,
                                          (const char *const *)names, cf_opts,
                                          hs, &err);
    for (size_t i = 0; i < n_names; i++)
        names[i] = NULL; /* the records own them now, even on failure */
    for (size_t i = 0; i < n_names; i++)
        rocksdb_options_destroy((rocksdb_options_t *)cf_opts[i]);
    free(cf_opts);
    if (err != NULL) {
        for (size_t i = 0; i < n_names; i++)
            free_cf(cfs[i]);
        free(cfs);
        free(hs);
        take_error(err, errbuf, errlen);
        return TL_EIO;
    }
    for (size_t i = 0; i < n_names; i++)
        add_cf(st, cfs[i], hs[i]);
    free(cfs);
    free(hs);
    return 0;
}

int
store_open(const char *path, const uint32_t *shards, size_t n_shards,
           struct store **out, char *errbuf, size_t errlen)
{
    struct store *st;
    char **names = NULL;
    size_t n_names = 0;
    int rv;

    st = calloc(1, sizeof *st);
    if (st == NULL)
        abort();
    pthread_mutex_init(&st->mu, NULL);
    if (store_mkdir_p(path) != 0) {
        snprintf(errbuf, errlen, "mkdir %s: %s", path, strerror(errno));
        rv = TL_EIO;
        goto err_alloc;
    }
    st->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(st->opts, 1);
    rocksdb_options_set_create_missing_column_families(st->opts, 1);
    /* Memtables of every shard's column family together stay within
     * STORE_MEMTABLE_BYTES (RocksDB flushes the largest beyond it):
     * per family, RocksDB's default is up to 2 x 64 MiB, unbounded in the
     * number of shards a node hosts. */
    rocksdb_options_set_db_write_buffer_size(st->opts, STORE_MEMTABLE_BYTES);
    rocksdb_options_set_write_buffer_size(st->opts, STORE_MEMTABLE_BYTES / 8);
    collect_cf_names(st, path, shards, n_shards, &names, &n_names);
    rv = open_db(st, path, names, n_names, errbuf, errlen);
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    if (rv != 0)
        goto err_opts;
    st->wopts = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(st->wopts, 0);
    rocksdb_writeoptions_disable_WAL(st->wopts, 0);
    st->wopts_sync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(st->wopts_sync, 1);
    st->ropts = rocksdb_readoptions_create();
    *out = st;
    return 0;

err_opts:
    rocksdb_options_destroy(st->opts);
err_alloc:
    pthread_mutex_destroy(&st->mu);
    free(st);
    return rv;
}

void
store_close(struct store *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->n_cfs; i++)
        rocksdb_column_family_handle_destroy(st->cfs[i]->h);
    rocksdb_close(st->db);
    /* Compactions (and their filters) are over: the records can go. */
    for (size_t i = 0; i < st->n_cfs; i++)
        free_cf(st->cfs[i]);
    free(st->cfs);
    for (struct deferred *d = st->deferred, *next; d != NULL; d = next) {
        next = d->next;
        store_batch_destroy(d->b);
        free(d);
    }
    rocksdb_writeoptions_destroy(st->wopts);
    rocksdb_writeoptions_destroy(st->wopts_sync);
    rocksdb_readoptions_destroy(st->ropts);
    rocksdb_options_destroy(st->opts);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

struct store_cf *
store_shard_cf(struct store *st, uint32_t shard)
{
    struct store_cf *cf = NULL;
    char name[32];
    snprintf(name, sizeof name, "shard-%u", shard);
    pthread_mutex_lock(&st->mu);
    for (size_t i = 0; i < st->n_cfs && cf == NULL; i++)
        if (strcmp(st->cfs[i]->name, name) == 0)
            cf = st->cfs[i];
    pthread_mutex_unlock(&st->mu);
    return cf;
}

struct store_cf *
store_meta_cf(struct store *st)
{
    struct store_cf *cf;
    pthread_mutex_lock(&st->mu);
    cf = st->cfs[0];
    pthread_mutex_unlock(&st->mu);
    return cf;
}

int
store_ensure_shard_cf(struct store *st, uint32_t shard, struct store_cf **out)
{
    struct store_cf *cf = store_shard_cf(st, shard);
    rocksdb_column_family_handle_t *h;
    char name[32];
    char *err = NULL;

    if (cf != NULL) {
        *out = cf;
        return 0;
    }
    snprintf(name, sizeof name, "shard-%u", shard);
    cf = new_cf(st, strdup(name));
    rocksdb_options_t *o = cf_options(st, cf);
    h = rocksdb_create_column_family(st->db, o, name, &err);
    rocksdb_options_destroy(o);
    if (err != NULL) {
        tl_error("store", "event=create_cf_failed shard=%u err=\"%s\"", shard,
                 err);
        rocksdb_free(err);
        free_cf(cf);
        return TL_EIO;
    }
    *out = add_cf(st, cf, h);
    return 0;
}

int
store_clear_cf(struct store *st, struct store_cf *cf)
{
    char err[256];
    struct store_batch *b = store_batch_create();
    int rv;

    store_batch_delete_range(b, cf, "", 0, STORE_MAX_KEY, STORE_MAX_KEY_LEN);
    rv = store_write(st, b, false, err, sizeof err);
    store_batch_destroy(b);
    if (rv != 0)
        tl_error("store", "event=clear_cf_failed err=\"%s\"", err);
    return rv;
}

int
store_get(struct store *st, struct store_cf *cf, const struct store_read *r,
          const void *key, size_t key_len, char **val, size_t *len,
          const char *what)
{
    rocksdb_readoptions_t *ro = r == NULL ? st->ropts : make_read_options(r);
    char *err = NULL;

    *len = 0;
    *val = rocksdb_get_cf(st->db, ro, cf->h, key, key_len, len, &err);
    if (r != NULL)
        rocksdb_readoptions_destroy(ro);
    if (err != NULL) {
        tl_error("store", "event=get_failed what=%s err=\"%s\"", what, err);
        rocksdb_free(err);
        rocksdb_free(*val);
        *val = NULL;
        return TL_EIO;
    }
    return 0;
}

int
store_meta_get(struct store *st, const char *key, char **val, size_t *len)
{
    char *v;
    int rv;

    *val = NULL;
    rv = store_get(st, store_meta_cf(st), NULL, key, strlen(key), &v, len,
                   "meta");
    if (rv != 0 || v == NULL)
        return rv;
    *val = malloc(*len + 1);
    if (*val == NULL)
        abort();
    memcpy(*val, v, *len);
    (*val)[*len] = '\0';
    free(v);
    return 0;
}

int
store_meta_put(struct store *st, const char *key, const void *val, size_t len)
{
    struct store_batch *b = store_batch_create();
    char err[256];
    int rv;

    if (val != NULL)
        store_batch_put(b, store_meta_cf(st), key, strlen(key), val, len);
    else
        store_batch_delete(b, store_meta_cf(st), key, strlen(key));
    rv = store_write(st, b, true, err, sizeof err);
    store_batch_destroy(b);
    if (rv != 0)
        tl_error("store", "event=meta_put_failed key=%s err=\"%s\"", key, err);
    return rv;
}

int
store_read_applied(struct store *st, struct store_cf *cf,
                   const struct store_read *r, uint64_t *out)
{
    size_t len = 0;
    char *v;
    int rv = store_get(st, cf, r, STORE_APPLIED_KEY, STORE_APPLIED_KEY_LEN, &v,
                       &len, "applied");
    if (rv != 0)
        return rv;
    if (v == NULL) {
        *out = 0;
        return 0;
    }
    if (len != 8 && len != 16) {
        free(v);
        return TL_ECORRUPT;
    }
    *out = tl_load_be64((const uint8_t *)v);
    free(v);
    return 0;
}

int
store_sync(struct store *st)
{
    char *err = NULL;
    rocksdb_flush_wal(st->db, 1, &err);
    if (err != NULL) {
        tl_error("store", "event=sync_failed err=\"%s\"", err);
        rocksdb_free(err);
        return TL_EIO;
    }
    return 0;
}

/* ------------------------------------------------------------ batches */

struct store_batch *
store_batch_create(void)
{
    struct store_batch *b = malloc(sizeof *b);
    if (b == NULL)
        abort();
    b->wb = rocksdb_writebatch_create();
    return b;
}

void
store_batch_destroy(struct store_batch *b)
{
    if (b == NULL)
        return;
    rocksdb_writebatch_destroy(b->wb);
    free(b);
}

void
store_batch_clear(struct store_batch *b)
{
    rocksdb_writebatch_clear(b->wb);
}

void
store_batch_put(struct store_batch *b, struct store_cf *cf, const void *key,
                size_t key_len, const void *val, size_t val_len)
{
    rocksdb_writebatch_put_cf(b->wb, cf->h, key, key_len, val, val_len);
}

void
store_batch_delete(struct store_batch *b, struct store_cf *cf, const void *key,
                   size_t key_len)
{
    rocksdb_writebatch_delete_cf(b->wb, cf->h, key, key_len);
}

void
store_batch_delete_range(struct store_batch *b, struct store_cf *cf,
                         const void *lo, size_t lo_len, const void *hi,
                         size_t hi_len)
{
    rocksdb_writebatch_delete_range_cf(b->wb, cf->h, lo, lo_len, hi, hi_len);
}

int
store_write(struct store *st, struct store_batch *b, bool sync, char *errbuf,
            size_t errlen)
{
    char *err = NULL;
    rocksdb_write(st->db, sync ? st->wopts_sync : st->wopts, b->wb, &err);
    if (err != NULL) {
        take_error(err, errbuf, errlen);
        return TL_EIO;
    }
    return 0;
}

/* ------------------------------------------------------------ iterators */

struct store_iter *
store_iter_create(struct store *st, struct store_cf *cf,
                  const struct store_read *r)
{
    struct store_iter *it = calloc(1, sizeof *it);
    if (it == NULL)
        abort();
    it->ro = make_read_options(r);
    if (r != NULL && r->upper != NULL) {
        /* RocksDB does not copy the bound: keep it with the iterator. */
        it->upper = malloc(r->upper_len > 0 ? r->upper_len : 1);
        if (it->upper == NULL)
            abort();
        memcpy(it->upper, r->upper, r->upper_len);
        rocksdb_readoptions_set_iterate_upper_bound(it->ro, it->upper,
                                                    r->upper_len);
    }
    it->it = rocksdb_create_iterator_cf(st->db, it->ro, cf->h);
    return it;
}

void
store_iter_destroy(struct store_iter *it)
{
    if (it == NULL)
        return;
    rocksdb_iter_destroy(it->it);
    rocksdb_readoptions_destroy(it->ro);
    free(it->upper);
    free(it);
}

void
store_iter_seek(struct store_iter *it, const void *key, size_t key_len)
{
    rocksdb_iter_seek(it->it, key, key_len);
}

void
store_iter_seek_first(struct store_iter *it)
{
    rocksdb_iter_seek_to_first(it->it);
}

bool
store_iter_valid(const struct store_iter *it)
{
    return rocksdb_iter_valid(it->it) != 0;
}

void
store_iter_next(struct store_iter *it)
{
    rocksdb_iter_next(it->it);
}

const char *
store_iter_key(const struct store_iter *it, size_t *len)
{
    return rocksdb_iter_key(it->it, len);
}

const char *
store_iter_value(const struct store_iter *it, size_t *len)
{
    return rocksdb_iter_value(it->it, len);
}

int
store_iter_status(const struct store_iter *it, char *errbuf, size_t errlen)
{
    char *err = NULL;
    rocksdb_iter_get_error(it->it, &err);
    if (err != NULL) {
        take_error(err, errbuf, errlen);
        return TL_EIO;
    }
    return 0;
}

/* ------------------------------------------------------------ snapshots */

struct store_snap *
store_snap_create(struct store *st)
{
    struct store_snap *s = malloc(sizeof *s);
    if (s == NULL)
        abort();
    s->snap = rocksdb_create_snapshot(st->db);
    return s;
}

void
store_snap_release(struct store *st, struct store_snap *snap)
{
    if (snap == NULL)
        return;
    rocksdb_release_snapshot(st->db, snap->snap);
    free(snap);
}

/* ------------------------------------------------------------ key counts */

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Count the keys of @cf in [@lo, @hi) (@hi NULL: to the end), stopping
 * after @max keys or at @deadline_ns (0: none); *@out is the number seen.
 * TL_ETIMEOUT at the deadline, TL_EIO on an iterator error. */
static int
count_range(struct store *st, struct store_cf *cf, const char *lo,
            size_t lo_len, const char *hi, size_t hi_len, uint64_t max,
            uint64_t deadline_ns, uint64_t *out)
{
    struct store_read r = store_read_latest();
    struct store_iter *it;
    char err[256];
    uint64_t n = 0;
    int rv = 0;

    r.upper = hi;
    r.upper_len = hi_len;
    r.fill_cache = false;
    it = store_iter_create(st, cf, &r);
    if (lo != NULL)
        store_iter_seek(it, lo, lo_len);
    else
        store_iter_seek_first(it);
    for (; store_iter_valid(it) && n < max; store_iter_next(it)) {
        n++;
        if (deadline_ns != 0 && n % 4096 == 0 && now_ns() >= deadline_ns) {
            rv = TL_ETIMEOUT;
            break;
        }
    }
    if (store_iter_status(it, err, sizeof err) != 0) {
        tl_error("store", "event=count_range_failed err=\"%s\"", err);
        rv = TL_EIO;
    }
    store_iter_destroy(it);
    *out = n;
    return rv;
}

int
store_count_keys(struct store *st, struct store_cf *cf, uint64_t *out)
{
    return count_range(st, cf, NULL, 0, STORE_APPLIED_KEY,
                       STORE_APPLIED_KEY_LEN, UINT64_MAX, 0, out);
}

/* STORE_KEYS_EXACT_MAX, or $TALUS_KEYS_EXACT_MAX when set. Read at
 * every call (status requests are rare) so a test can change it. */
static uint64_t
exact_max(void)
{
    const char *env = getenv("TALUS_KEYS_EXACT_MAX");
    char *end = NULL;
    if (env != NULL) {
        long long v = strtoll(env, &end, 10);
        if (end != env && *end == '\0' && v >= 0)
            return (uint64_t)v;
    }
    return STORE_KEYS_EXACT_MAX;
}

int
store_property_int(struct store *st, struct store_cf *cf, const char *name,
                   uint64_t *out)
{
    int rv = cf != NULL ? rocksdb_property_int_cf(st->db, cf->h, name, out)
                        : rocksdb_property_int(st->db, name, out);
    return rv == 0 ? 0 : TL_ENOTFOUND;
}

int
store_estimate_keys(struct store *st, struct store_cf *cf, uint64_t deadline_ns,
                    store_count_fn count, uint64_t *out, bool *estimated)
{
    uint64_t total = 0, reserved = 0, n = 0, max = exact_max();
    int rv;

    *out = 0;
    *estimated = true;
    if (rocksdb_property_int_cf(st->db, cf->h, "rocksdb.estimate-num-keys",
                                &total) != 0) {
        tl_error("store", "event=estimate_keys_failed "
                          "err=\"no rocksdb.estimate-num-keys property\"");
        return TL_EIO;
    }
    if (total <= max && now_ns() < deadline_ns) {
        /* Count exactly while the budget lasts, never reading more than
         * twice the bound (the estimate can be low, say after many
         * deletes). The estimate counts overwritten rows until compaction
         * (3x the rows after two full-table UPDATEs), the count does not. */
        rv = count != NULL ? count(st, cf, 2 * max + 1, deadline_ns, &n)
                           : count_range(st, cf, NULL, 0, STORE_APPLIED_KEY, 8,
                                         2 * max + 1, deadline_ns, &n);
        if (rv != 0 && rv != TL_ETIMEOUT)
            return rv;
        if (rv == 0 && n <= 2 * max) {
            *out = n;
            *estimated = false;
            return 0;
        }
    }
    /* The reserved keys are few (bounded by the dedupe window) and not
     * table rows: count and subtract them. */
    rv = count_range(st, cf, STORE_APPLIED_KEY, 8, NULL, 0, UINT64_MAX, 0,
                     &reserved);
    if (rv != 0)
        return rv;
    *out = total > reserved ? total - reserved : 0;
    return 0;
}
