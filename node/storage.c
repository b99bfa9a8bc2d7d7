#include "storage.h"

#define STORAGE_MEMTABLE_BYTES ((size_t)256 << 20)

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "tl_error.h"

int
storage_mkdir_p(const char *path)
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
storage_encode_u64(uint64_t v, char out[8])
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

/* The column families to open: every existing one plus those we need. */
static void
collect_cf_names(struct storage *st, const char *path, const uint32_t *shards,
                 size_t n_shards)
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
    add_name(&st->cf_names, &st->n_cfs, "default");
    for (size_t i = 0; i < n_existing; i++)
        add_name(&st->cf_names, &st->n_cfs, existing[i]);
    if (existing != NULL)
        rocksdb_list_column_families_destroy(existing, n_existing);
    for (size_t i = 0; i < n_shards; i++) {
        char name[32];
        snprintf(name, sizeof name, "shard-%u", shards[i]);
        add_name(&st->cf_names, &st->n_cfs, name);
    }
}

static void
free_names(struct storage *st)
{
    for (size_t i = 0; i < st->n_cfs; i++)
        free(st->cf_names[i]);
    free(st->cf_names);
    st->cf_names = NULL;
}

static int
open_db(struct storage *st, const char *path, char *errbuf, size_t errlen)
{
    char *err = NULL;
    const rocksdb_options_t **cf_opts = calloc(st->n_cfs, sizeof *cf_opts);
    st->cfs = calloc(st->n_cfs, sizeof *st->cfs);
    if (cf_opts == NULL || st->cfs == NULL)
        abort();
    for (size_t i = 0; i < st->n_cfs; i++)
        cf_opts[i] = st->opts;
    st->db = rocksdb_open_column_families(st->opts, path, (int)st->n_cfs,
                                          (const char *const *)st->cf_names,
                                          cf_opts, st->cfs, &err);
    free(cf_opts);
    if (err != NULL) {
        snprintf(errbuf, errlen, "%s", err);
        rocksdb_free(err);
        return TL_EIO;
    }
    return 0;
}

int
storage_open(const char *path, const uint32_t *shards, size_t n_shards,
             struct storage **out, char *errbuf, size_t errlen)
{
    struct storage *st;
    int rv;

    st = calloc(1, sizeof *st);
    if (st == NULL)
        abort();
    if (storage_mkdir_p(path) != 0) {
        snprintf(errbuf, errlen, "mkdir %s: %s", path, strerror(errno));
        rv = TL_EIO;
        goto err_alloc;
    }
    st->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(st->opts, 1);
    rocksdb_options_set_create_missing_column_families(st->opts, 1);
    /* Memtables of every shard's column family together stay within
     * STORAGE_MEMTABLE_BYTES (RocksDB flushes the largest beyond it):
     * per family, RocksDB's default is up to 2 x 64 MiB, unbounded in the
     * number of shards a node hosts. */
    rocksdb_options_set_db_write_buffer_size(st->opts, STORAGE_MEMTABLE_BYTES);
    rocksdb_options_set_write_buffer_size(st->opts, STORAGE_MEMTABLE_BYTES / 8);
    collect_cf_names(st, path, shards, n_shards);
    rv = open_db(st, path, errbuf, errlen);
    if (rv != 0)
        goto err_opts;
    st->wopts = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(st->wopts, 0);
    rocksdb_writeoptions_disable_WAL(st->wopts, 0);
    st->ropts = rocksdb_readoptions_create();
    pthread_mutex_init(&st->mu, NULL);
    *out = st;
    return 0;

err_opts:
    free(st->cfs);
    free_names(st);
    rocksdb_options_destroy(st->opts);
err_alloc:
    free(st);
    return rv;
}

void
storage_close(struct storage *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->n_cfs; i++)
        rocksdb_column_family_handle_destroy(st->cfs[i]);
    rocksdb_close(st->db);
    free(st->cfs);
    free_names(st);
    rocksdb_writeoptions_destroy(st->wopts);
    rocksdb_readoptions_destroy(st->ropts);
    rocksdb_options_destroy(st->opts);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

rocksdb_column_family_handle_t *
storage_shard_cf(struct storage *st, uint32_t shard)
{
    rocksdb_column_family_handle_t *cf = NULL;
    char name[32];
    snprintf(name, sizeof name, "shard-%u", shard);
    pthread_mutex_lock(&st->mu);
    for (size_t i = 0; i < st->n_cfs; i++)
        if (strcmp(st->cf_names[i], name) == 0)
            cf = st->cfs[i];
    pthread_mutex_unlock(&st->mu);
    return cf;
}

int
storage_ensure_shard_cf(struct storage *st, uint32_t shard,
                        rocksdb_column_family_handle_t **out)
{
    rocksdb_column_family_handle_t *cf = storage_shard_cf(st, shard);
    char name[32];
    char *err = NULL;

    if (cf != NULL) {
        *out = cf;
        return 0;
    }
    snprintf(name, sizeof name, "shard-%u", shard);
    cf = rocksdb_create_column_family(st->db, st->opts, name, &err);
    if (err != NULL) {
        tl_error("storage", "event=create_cf_failed shard=%u err=\"%s\"", shard,
                 err);
        rocksdb_free(err);
        return TL_EIO;
    }
    pthread_mutex_lock(&st->mu);
    st->cf_names =
        realloc(st->cf_names, (st->n_cfs + 1) * sizeof *st->cf_names);
    st->cfs = realloc(st->cfs, (st->n_cfs + 1) * sizeof *st->cfs);
    if (st->cf_names == NULL || st->cfs == NULL)
        abort();
    st->cf_names[st->n_cfs] = strdup(name);
    st->cfs[st->n_cfs] = cf;
    st->n_cfs++;
    pthread_mutex_unlock(&st->mu);
    *out = cf;
    return 0;
}

int
storage_clear_cf(struct storage *st, rocksdb_column_family_handle_t *cf)
{
    char *err = NULL;
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    rocksdb_writebatch_delete_range_cf(wb, cf, "", 0, STORAGE_MAX_KEY,
                                       STORAGE_MAX_KEY_LEN);
    rocksdb_write(st->db, st->wopts, wb, &err);
    rocksdb_writebatch_destroy(wb);
    if (err != NULL) {
        tl_error("storage", "event=clear_cf_failed err=\"%s\"", err);
        rocksdb_free(err);
        return TL_EIO;
    }
    return 0;
}

int
storage_meta_get(struct storage *st, const char *key, char **val, size_t *len)
{
    char *err = NULL;
    char *v;
    *val = NULL;
    *len = 0;
    v = rocksdb_get_cf(st->db, st->ropts, st->cfs[0], key, strlen(key), len,
                       &err);
    if (err != NULL) {
        tl_error("storage", "event=meta_get_failed key=%s err=\"%s\"", key,
                 err);
        rocksdb_free(err);
        return TL_EIO;
    }
    if (v != NULL) {
        *val = malloc(*len + 1);
        if (*val == NULL)
            abort();
        memcpy(*val, v, *len);
        (*val)[*len] = '\0';
        rocksdb_free(v);
    }
    return 0;
}

int
storage_meta_put(struct storage *st, const char *key, const void *val,
                 size_t len)
{
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    char *err = NULL;

    rocksdb_writeoptions_set_sync(wo, 1);
    if (val != NULL)
        rocksdb_put_cf(st->db, wo, st->cfs[0], key, strlen(key), val, len,
                       &err);
    else
        rocksdb_delete_cf(st->db, wo, st->cfs[0], key, strlen(key), &err);
    rocksdb_writeoptions_destroy(wo);
    if (err != NULL) {
        tl_error("storage", "event=meta_put_failed key=%s err=\"%s\"", key,
                 err);
        rocksdb_free(err);
        return TL_EIO;
    }
    return 0;
}

int
storage_read_applied(struct storage *st, rocksdb_column_family_handle_t *cf,
                     uint64_t *out)
{
    char *err = NULL;
    size_t len = 0;
    char *v = rocksdb_get_cf(st->db, st->ropts, cf, STORAGE_APPLIED_KEY,
                             STORAGE_APPLIED_KEY_LEN, &len, &err);
    if (err != NULL) {
        tl_error("storage", "event=read_applied_failed err=\"%s\"", err);
        rocksdb_free(err);
        return TL_EIO;
    }
    if (v == NULL) {
        *out = 0;
        return 0;
    }
    if (len != 8) {
        rocksdb_free(v);
        return TL_ECORRUPT;
    }
    *out = tl_load_be64((const uint8_t *)v);
    rocksdb_free(v);
    return 0;
}

int
storage_sync(struct storage *st)
{
    char *err = NULL;
    rocksdb_flush_wal(st->db, 1, &err);
    if (err != NULL) {
        tl_error("storage", "event=sync_failed err=\"%s\"", err);
        rocksdb_free(err);
        return TL_EIO;
    }
    return 0;
}

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
count_range(struct storage *st, rocksdb_column_family_handle_t *cf,
            const char *lo, size_t lo_len, const char *hi, size_t hi_len,
            uint64_t max, uint64_t deadline_ns, uint64_t *out)
{
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    rocksdb_iterator_t *it;
    char *err = NULL;
    uint64_t n = 0;
    int rv = 0;

    /* The bound buffer is not copied by RocksDB: callers pass literals. */
    if (hi != NULL)
        rocksdb_readoptions_set_iterate_upper_bound(ro, hi, hi_len);
    rocksdb_readoptions_set_fill_cache(ro, 0);
    it = rocksdb_create_iterator_cf(st->db, ro, cf);
    if (lo != NULL)
        rocksdb_iter_seek(it, lo, lo_len);
    else
        rocksdb_iter_seek_to_first(it);
    for (; rocksdb_iter_valid(it) && n < max; rocksdb_iter_next(it)) {
        n++;
        if (deadline_ns != 0 && n % 4096 == 0 && now_ns() >= deadline_ns) {
            rv = TL_ETIMEOUT;
            break;
        }
    }
    rocksdb_iter_get_error(it, &err);
    if (err != NULL) {
        tl_error("storage", "event=count_range_failed err=\"%s\"", err);
        rocksdb_free(err);
        rv = TL_EIO;
    }
    rocksdb_iter_destroy(it);
    rocksdb_readoptions_destroy(ro);
    *out = n;
    return rv;
}

int
storage_count_keys(struct storage *st, rocksdb_column_family_handle_t *cf,
                   uint64_t *out)
{
    return count_range(st, cf, NULL, 0, STORAGE_APPLIED_KEY,
                       STORAGE_APPLIED_KEY_LEN, UINT64_MAX, 0, out);
}

/* STORAGE_KEYS_EXACT_MAX, or $TALUS_KEYS_EXACT_MAX when set. Read at
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
    return STORAGE_KEYS_EXACT_MAX;
}

int
storage_estimate_keys(struct storage *st, rocksdb_column_family_handle_t *cf,
                      uint64_t deadline_ns, uint64_t *out, bool *estimated)
{
    uint64_t total = 0, reserved = 0, n = 0, max = exact_max();
    int rv;

    *out = 0;
    *estimated = true;
    if (rocksdb_property_int_cf(st->db, cf, "rocksdb.estimate-num-keys",
                                &total) != 0) {
        tl_error("storage", "event=estimate_keys_failed "
                            "err=\"no rocksdb.estimate-num-keys property\"");
        return TL_EIO;
    }
    if (total <= max && now_ns() < deadline_ns) {
        /* Count exactly while the budget lasts, never reading more than
         * twice the bound (the estimate can be low, say after many
         * deletes). The estimate counts overwritten rows until compaction
         * (3x the rows after two full-table UPDATEs), the count does not. */
        rv = count_range(st, cf, NULL, 0, STORAGE_APPLIED_KEY, 8, 2 * max + 1,
                         deadline_ns, &n);
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
    rv = count_range(st, cf, STORAGE_APPLIED_KEY, 8, NULL, 0, UINT64_MAX, 0,
                     &reserved);
    if (rv != 0)
        return rv;
    *out = total > reserved ? total - reserved : 0;
    return 0;
}
