/* catalog — table descriptions in the meta group and their cache in the
 * router. */
#include "router/core/catalog.h"
#include "router/core/catalog_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "common/meta/meta_keys.h"
#include "keycodec.h"
#include "log.h"
#include "router/core/router_int.h"
#include "router/core/router_metrics.h"
#include "vindex.h"

#define MOD "catalog"
#define CATALOG_RETRIES 16
#define CATALOG_MAP_MIN_MS 5000

/* The ring or range map of one version of one table. Statements borrow
 * them through their arena copies of the table without holding the lock,
 * so they are freed only with the catalog: entries are keyed by (table id,
 * schema version), ids are never reused, and a refresh reuses the entry
 * of a table it already knew, so the list grows only with DDL. */
struct vindex_maps {
    uint32_t id;
    uint32_t schema_version;
    struct tl_ring *ring;
    struct tl_range_map *range_map;
};

struct catalog {
    struct router *r;
    pthread_mutex_t lock;
    bool loaded;
    uint64_t gen;             /* bumped by this router's own DDL */
    uint64_t version;         /* map version the cache was loaded at */
    struct tl_table **tables; /* owned */
    size_t n_tables;
    struct vindex_maps *maps; /* owned, with their rings and range maps */
    size_t n_maps;
};

int
catalog_create(struct router *r, struct catalog **out)
{
    struct catalog *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return TL_ENOMEM;
    c->r = r;
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return 0;
}

static void
free_tables(struct tl_table **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tl_table_destroy(v[i]);
    free(v);
}

void
catalog_destroy(struct catalog *c)
{
    if (c == NULL)
        return;
    free_tables(c->tables, c->n_tables);
    for (size_t i = 0; i < c->n_maps; i++) {
        tl_ring_destroy(c->maps[i].ring);
        tl_range_map_destroy(c->maps[i].range_map);
    }
    free(c->maps);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Under the lock: point @t at its ring or range map, building them the
 * first time this version of the table is seen. Fails (logged) only when
 * the stored parameters cannot be built. */
static int
attach_maps_locked(struct catalog *c, struct tl_table *t)
{
    if (t->vindex != TL_VINDEX_CONSISTENT_HASH && t->vindex != TL_VINDEX_RANGE)
        return 0;
    for (size_t i = 0; i < c->n_maps; i++)
        if (c->maps[i].id == t->id &&
            c->maps[i].schema_version == t->schema_version) {
            t->ring = c->maps[i].ring;
            t->range_map = c->maps[i].range_map;
            return 0;
        }
    /* Shards beyond the cluster's would be routed to and do not exist. */
    uint32_t n_shards = c->r->cfg.n_shards;
    if (t->ring_shards > n_shards ||
        (t->vindex == TL_VINDEX_RANGE &&
         (t->n_range_shards == 0 || t->n_range_shards > n_shards))) {
        tl_warn(MOD, "event=vindex_beyond_shards table=%s n_shards=%u", t->name,
                n_shards);
        return TL_EINVAL;
    }
    for (uint32_t i = 0; i < t->n_range_shards; i++)
        if (t->range_shards[i] >= n_shards) {
            tl_warn(MOD, "event=vindex_beyond_shards table=%s n_shards=%u",
                    t->name, n_shards);
            return TL_EINVAL;
        }
    struct vindex_maps m = {.id = t->id, .schema_version = t->schema_version};
    int rv = tl_table_vindex_build(t, &m.ring, &m.range_map, NULL);
    struct vindex_maps *v =
        rv == 0 ? realloc(c->maps, (c->n_maps + 1) * sizeof(*v)) : NULL;
    if (v == NULL) {
        if (rv == 0) {
            tl_ring_destroy(m.ring);
            tl_range_map_destroy(m.range_map);
            rv = TL_ENOMEM;
        }
        tl_warn(MOD, "event=bad_vindex table=%s rv=%d", t->name, rv);
        return rv;
    }
    c->maps = v;
    c->maps[c->n_maps++] = m;
    t->ring = m.ring;
    t->range_map = m.range_map;
    return 0;
}

/* Append each row of @resp to @rows (bytes copied into @a). */
static void
collect_rows(const Talus__Response *resp, struct tl_arena *a,
             struct catalog_row **rows, size_t *n_rows, size_t *cap)
{
    for (size_t i = 0; i < resp->n_rows; i++) {
        uint8_t *copy = tl_arena_alloc(a, resp->rows[i].len + 1);
        memcpy(copy, resp->rows[i].data, resp->rows[i].len);
        if (*n_rows == *cap) {
            *cap = *cap ? *cap * 2 : 16;
            struct catalog_row *nr = tl_arena_alloc(a, *cap * sizeof(*nr));
            if (*n_rows)
                memcpy(nr, *rows, *n_rows * sizeof(*nr));
            *rows = nr;
        }
        (*rows)[*n_rows].p = copy;
        (*rows)[(*n_rows)++].len = resp->rows[i].len;
    }
}

/* Scan [start, end) of the meta group into @rows (bytes in @a), following
 * resume keys. */
static int
scan_meta(struct catalog *c, const struct tl_buf *start,
          const struct tl_buf *end, struct tl_arena *a,
          struct catalog_row **rows, size_t *n_rows, struct tl_error *err)
{
    Talus__KeyRange range = TALUS__KEY_RANGE__INIT;
    range.start.data = start->data;
    range.start.len = start->len;
    range.end.data = end->data;
    range.end.len = end->len;
    Talus__KeyRange *ranges[1] = {&range};
    Talus__ScanFragment scan = TALUS__SCAN_FRAGMENT__INIT;
    scan.table = tl_meta_catalog_desc(a);
    scan.n_ranges = 1;
    scan.ranges = ranges;
    size_t cap = 0;
    *rows = NULL;
    *n_rows = 0;
    bool more = true;
    while (more) {
        Talus__Request req = TALUS__REQUEST__INIT;
        req.request_id = tl_rpc_next_id();
        req.has_shard = 1;
        req.shard = TL_META_GROUP;
        req.body_case = TALUS__REQUEST__BODY_SCAN;
        req.scan = &scan;
        Talus__Response *resp = NULL;
        int rv = router_call(c->r, TL_META_GROUP, &req, true, &resp);
        rv = router_call_result(c->r, TL_META_GROUP, rv, resp, err);
        if (rv == 0) {
            collect_rows(resp, a, rows, n_rows, &cap);
            more = resp->has_resume_key && resp->resume_key.len > 0;
        }
        if (rv == 0 && more) {
            uint8_t *rk = tl_arena_alloc(a, resp->resume_key.len);
            memcpy(rk, resp->resume_key.data, resp->resume_key.len);
            scan.has_resume_key = 1;
            scan.resume_key.data = rk;
            scan.resume_key.len = resp->resume_key.len;
        }
        if (resp != NULL)
            talus__response__free_unpacked(resp, NULL);
        if (rv != 0)
            return rv;
    }
    return 0;
}

/* Scan every catalog entry under index @index. */
int
catalog_scan_index(struct catalog *c, enum tl_meta_index index,
                   struct tl_arena *a, struct catalog_row **rows, size_t *n,
                   struct tl_error *err)
{
    struct tl_buf start, end;
    tl_buf_init(&start);
    tl_buf_init(&end);
    tl_meta_range_index(&start, &end, index);
    int rv = scan_meta(c, &start, &end, a, rows, n, err);
    tl_buf_close(&start);
    tl_buf_close(&end);
    return rv;
}

/* Scan the one entry at @key (at most one row). */
int
catalog_scan_key(struct catalog *c, const struct tl_buf *key,
                 struct tl_arena *a, struct catalog_row **rows, size_t *n,
                 struct tl_error *err)
{
    struct tl_buf end;
    tl_buf_init(&end);
    tl_buf_append(&end, key->data, key->len);
    tl_buf_append_u8(&end, 0); /* exactly this key */
    int rv = scan_meta(c, key, &end, a, rows, n, err);
    tl_buf_close(&end);
    return rv;
}

static int read_int_key(struct catalog *c, enum tl_meta_index index,
                        struct tl_arena *a, bool *have, int64_t *value,
                        struct tl_error *err);

/* Reload every table from the meta group and swap the cache. The version
 * is read before the tables, so the cache is never older than the
 * version it claims (at worst newer: a node may then refuse a request
 * needlessly, and the router reloads again). A reload that raced with
 * this router's own DDL is discarded and redone: its snapshot may predate
 * the CREATE or DROP that the cache already reflects. */
static int
refresh(struct catalog *c, struct tl_error *err)
{
    int rv = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        struct tl_arena a;
        tl_arena_init(&a);
        pthread_mutex_lock(&c->lock);
        uint64_t gen = c->gen;
        pthread_mutex_unlock(&c->lock);
        struct catalog_row *rows;
        size_t n;
        bool have_version;
        int64_t version = 0;
        rv = read_int_key(c, TL_META_INDEX_MAP_VERSION, &a, &have_version,
                          &version, err);
        if (rv == 0)
            rv = catalog_scan_index(c, TL_META_INDEX_TABLE, &a, &rows, &n, err);
        bool swapped = false;
        if (rv == 0) {
            struct tl_table **tables = calloc(n ? n : 1, sizeof(*tables));
            size_t m = 0;
            for (size_t i = 0; tables != NULL && i < n; i++) {
                if (tl_meta_table_decode(rows[i].p, rows[i].len, &tables[m]) ==
                    0)
                    m++;
                else
                    tl_warn(MOD, "event=bad_table_desc index=%zu", i);
            }
            pthread_mutex_lock(&c->lock);
            size_t kept = 0;
            for (size_t i = 0; tables != NULL && i < m; i++) {
                if (attach_maps_locked(c, tables[i]) == 0)
                    tables[kept++] = tables[i];
                else
                    tl_table_destroy(tables[i]);
            }
            m = kept;
            if (c->gen == gen && tables != NULL &&
                (uint64_t)version >= c->version) {
                free_tables(c->tables, c->n_tables);
                c->tables = tables;
                c->n_tables = m;
                c->loaded = true;
                c->version = (uint64_t)version;
                swapped = true;
            }
            pthread_mutex_unlock(&c->lock);
            if (!swapped)
                free_tables(tables, m);
        }
        tl_arena_close(&a);
        if (rv != 0 || swapped)
            break;
    }
    /* Nodes join and leave with no catalog change: look at the registry
     * too when the catalog reloads (at most every few seconds). */
    if (rv == 0) {
        router_metrics_catalog_reload(c->r);
        router_learn_nodes(c->r, CATALOG_MAP_MIN_MS);
    }
    return rv;
}

/* Copy of @t into @a (columns too). */
static struct tl_table *
copy_to_arena(const struct tl_table *t, struct tl_arena *a)
{
    struct tl_table *c = tl_arena_alloc(a, sizeof(*c));
    *c = *t;
    c->columns = tl_arena_alloc(a, t->n_columns * sizeof(*c->columns));
    memcpy(c->columns, t->columns, t->n_columns * sizeof(*c->columns));
    /* The cached table may be freed by a refresh while the copy is used. */
    for (uint32_t i = 0; i < t->n_columns; i++)
        if (t->columns[i].default_expr != NULL)
            c->columns[i].default_expr =
                tl_arena_strdup(a, t->columns[i].default_expr);
    c->range_bounds = tl_arena_alloc(a, t->range_bounds_len + 1);
    if (t->range_bounds_len > 0)
        memcpy(c->range_bounds, t->range_bounds, t->range_bounds_len);
    c->range_shards =
        tl_arena_alloc(a, (t->n_range_shards + 1) * sizeof(uint32_t));
    if (t->n_range_shards > 0)
        memcpy(c->range_shards, t->range_shards,
               t->n_range_shards * sizeof(uint32_t));
    c->indexes = tl_arena_alloc(a, (t->n_indexes + 1) * sizeof(*c->indexes));
    if (t->n_indexes > 0)
        memcpy(c->indexes, t->indexes, t->n_indexes * sizeof(*c->indexes));
    return c;
}

/* Under the lock: index of @name or -1. */
static ssize_t
find_locked(struct catalog *c, const char *name)
{
    for (size_t i = 0; i < c->n_tables; i++)
        if (strcmp(c->tables[i]->name, name) == 0)
            return (ssize_t)i;
    return -1;
}

/* 1 found (copied to *out), 0 not found, -1 cache not loaded. */
static int
try_cache(struct catalog *c, const char *name, struct tl_arena *a,
          struct tl_table **out, uint64_t *version)
{
    int found = -1;
    pthread_mutex_lock(&c->lock);
    if (c->loaded) {
        ssize_t i = find_locked(c, name);
        found = i >= 0;
        if (found) {
            *out = copy_to_arena(c->tables[i], a);
            if (version != NULL && (*version == 0 || c->version < *version))
                *version = c->version;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

int
catalog_lookup(struct catalog *c, const char *name, struct tl_arena *a,
               struct tl_table **out, uint64_t *version, struct tl_error *err)
{
    int found = try_cache(c, name, a, out, version);
    if (found == 1)
        return 0;
    int rv = refresh(c, err);
    if (rv != 0)
        return rv;
    found = try_cache(c, name, a, out, version);
    return found == 1 ? 0 : TL_ENOTFOUND;
}

int
catalog_list(struct catalog *c, struct tl_arena *a, struct tl_table ***out,
             size_t *n, struct tl_error *err)
{
    /* Reloaded each time: a table another router created shows at once. */
    int rv = refresh(c, err);
    if (rv != 0)
        return rv;
    pthread_mutex_lock(&c->lock);
    *n = c->n_tables;
    *out = tl_arena_alloc(a, (c->n_tables + 1) * sizeof(**out));
    for (size_t i = 0; i < c->n_tables; i++)
        (*out)[i] = copy_to_arena(c->tables[i], a);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

/* Put a copy of @t into the cache, replacing a table of the same name. */
static void
cache_put(struct catalog *c, const struct tl_table *t)
{
    struct tl_table *copy = tl_table_copy(t);
    pthread_mutex_lock(&c->lock);
    c->gen++;
    ssize_t i = find_locked(c, t->name);
    if (attach_maps_locked(c, copy) != 0) {
        tl_table_destroy(copy);
        c->loaded = false; /* reload later rather than lie */
    } else if (i >= 0) {
        tl_table_destroy(c->tables[i]);
        c->tables[i] = copy;
    } else {
        struct tl_table **v =
            realloc(c->tables, (c->n_tables + 1) * sizeof(*v));
        if (v == NULL) {
            tl_table_destroy(copy);
            c->loaded = false; /* reload later rather than lie */
        } else {
            c->tables = v;
            c->tables[c->n_tables++] = copy;
        }
    }
    pthread_mutex_unlock(&c->lock);
}

static void
cache_remove(struct catalog *c, const char *name)
{
    pthread_mutex_lock(&c->lock);
    c->gen++;
    ssize_t i = find_locked(c, name);
    if (i >= 0) {
        tl_table_destroy(c->tables[i]);
        c->tables[i] = c->tables[--c->n_tables];
    }
    pthread_mutex_unlock(&c->lock);
}

/* After this router's DDL committed version @version: reload, so the
 * cache holds every change up to it (other routers' too) and claims it.
 * If the meta group cannot be read now, the cache is marked for a reload
 * on next use rather than claim a version it may not reflect. */
static void
catch_up(struct catalog *c, uint64_t version)
{
    if (catalog_refresh(c, version, NULL) != 0) {
        pthread_mutex_lock(&c->lock);
        c->loaded = false;
        pthread_mutex_unlock(&c->lock);
    }
}

int
catalog_refresh(struct catalog *c, uint64_t min_version, struct tl_error *err)
{
    pthread_mutex_lock(&c->lock);
    bool fresh = c->loaded && min_version != 0 && c->version >= min_version;
    pthread_mutex_unlock(&c->lock);
    return fresh ? 0 : refresh(c, err);
}

uint64_t
catalog_version(struct catalog *c)
{
    if (c == NULL)
        return 0;
    pthread_mutex_lock(&c->lock);
    uint64_t v = c->version;
    pthread_mutex_unlock(&c->lock);
    return v;
}

bool
catalog_loaded(struct catalog *c)
{
    if (c == NULL)
        return false;
    pthread_mutex_lock(&c->lock);
    bool loaded = c->loaded;
    pthread_mutex_unlock(&c->lock);
    return loaded;
}

bool
catalog_has_id(struct catalog *c, uint32_t id, char *name, size_t len)
{
    bool found = false;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->n_tables && !found; i++)
        if (c->tables[i]->id == id) {
            found = true;
            if (name != NULL)
                snprintf(name, len, "%s", c->tables[i]->name);
        }
    pthread_mutex_unlock(&c->lock);
    return found;
}

bool
catalog_table_schema(struct catalog *c, uint32_t id, uint32_t *schema)
{
    bool found = false;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->n_tables && !found; i++)
        if (c->tables[i]->id == id) {
            found = true;
            *schema = c->tables[i]->schema_version;
        }
    pthread_mutex_unlock(&c->lock);
    return found;
}

/* A mutation in @a; @value/@expect (may be NULL) are copied. */
Talus__Mutation *
catalog_make_mut(struct tl_arena *a, int kind, const struct tl_buf *key,
                 const struct tl_buf *value, int cond,
                 const struct tl_buf *expect)
{
    Talus__Mutation *m = tl_arena_alloc(a, sizeof(*m));
    talus__mutation__init(m);
    m->kind = kind;
    m->key.data = tl_arena_alloc(a, key->len + 1);
    memcpy(m->key.data, key->data, key->len);
    m->key.len = key->len;
    if (value != NULL) {
        m->has_value = 1;
        m->value.data = tl_arena_alloc(a, value->len + 1);
        memcpy(m->value.data, value->data, value->len);
        m->value.len = value->len;
    }
    if (cond != TALUS__MUTATION__COND__NONE) {
        m->has_cond = 1;
        m->cond = cond;
    }
    if (expect != NULL) {
        m->has_expect = 1;
        m->expect.data = tl_arena_alloc(a, expect->len + 1);
        memcpy(m->expect.data, expect->data, expect->len);
        m->expect.len = expect->len;
    }
    return m;
}

/* Send one WriteBatch to @shard. *@failed gets the index of a mutation
 * whose condition failed (-1 if none); that case returns TL_ECONFLICT
 * without a report. */
int
catalog_write_batch(struct catalog *c, uint32_t shard, Talus__Mutation **muts,
                    size_t n, int *failed, struct tl_error *err)
{
    Talus__WriteBatch wb = TALUS__WRITE_BATCH__INIT;
    wb.n_mutations = n;
    wb.mutations = muts;
    Talus__Request req = TALUS__REQUEST__INIT;
    req.request_id = tl_rpc_next_id();
    req.has_shard = 1;
    req.shard = shard;
    wb.has_request_id = 1;
    wb.request_id = req.request_id;
    req.body_case = TALUS__REQUEST__BODY_WRITE;
    req.write = &wb;
    Talus__Response *resp = NULL;
    int rv = router_call(c->r, shard, &req, false, &resp);
    *failed = -1;
    if (rv == 0 && resp->error != NULL && resp->error->has_mutation &&
        resp->error->mutation >= 0) {
        *failed = resp->error->mutation;
        rv = TL_ECONFLICT;
    } else {
        rv = router_call_result(c->r, shard, rv, resp, err);
    }
    if (resp != NULL)
        talus__response__free_unpacked(resp, NULL);
    return rv;
}

/* Read the counter under @index (the table id counter or the map
 * version): *@have is whether it exists, *@value its value (left alone
 * when absent). */
static int
read_int_key(struct catalog *c, enum tl_meta_index index, struct tl_arena *a,
             bool *have, int64_t *value, struct tl_error *err)
{
    struct catalog_row *rows;
    size_t n;
    int rv = catalog_scan_index(c, index, a, &rows, &n, err);
    if (rv != 0)
        return rv;
    *have = n > 0 && tl_meta_counter_decode(rows[0].p, rows[0].len, value) == 0;
    return 0;
}

/* Read the id counter: *@have is whether it exists, *@next its value. */
int
catalog_read_next_id(struct catalog *c, struct tl_arena *a, bool *have,
                     int64_t *next, struct tl_error *err)
{
    *next = TL_META_FIRST_TABLE_ID;
    return read_int_key(c, TL_META_INDEX_NEXT_ID, a, have, next, err);
}

int
catalog_create_with_id(struct catalog *c, struct tl_arena *a,
                       void (*encode)(void *arg, int64_t id, struct tl_buf *key,
                                      struct tl_buf *val),
                       void *arg, int *failed, struct tl_error *err)
{
    bool have;
    int64_t id;
    int rv = catalog_read_next_id(c, a, &have, &id, err);
    if (rv != 0)
        return rv;
    struct tl_buf ckey, cval, cold, key, val;
    tl_buf_init(&ckey);
    tl_buf_init(&cval);
    tl_buf_init(&cold);
    tl_buf_init(&key);
    tl_buf_init(&val);
    tl_meta_key_next_id(&ckey);
    tl_meta_counter_encode(&cval, id + 1);
    tl_meta_counter_encode(&cold, id);
    encode(arg, id, &key, &val);
    Talus__Mutation *m[2];
    m[0] = catalog_make_mut(a, TALUS__MUTATION__KIND__PUT, &ckey, &cval,
                            have ? TALUS__MUTATION__COND__EQUALS
                                 : TALUS__MUTATION__COND__ABSENT,
                            have ? &cold : NULL);
    m[1] = catalog_make_mut(a, TALUS__MUTATION__KIND__PUT, &key, &val,
                            TALUS__MUTATION__COND__ABSENT, NULL);
    rv = catalog_write_batch(c, TL_META_GROUP, m, 2, failed, err);
    tl_buf_close(&ckey);
    tl_buf_close(&cval);
    tl_buf_close(&cold);
    tl_buf_close(&key);
    tl_buf_close(&val);
    return rv;
}

/* The mutation moving the map version from its current value to the next
 * (conditional: concurrent DDL retries). *@next gets the new version. */
static int
version_mutation(struct catalog *c, struct tl_arena *a, Talus__Mutation **m,
                 uint64_t *next, struct tl_error *err)
{
    bool have;
    int64_t v = 0;
    int rv = read_int_key(c, TL_META_INDEX_MAP_VERSION, a, &have, &v, err);
    if (rv != 0)
        return rv;
    struct tl_buf key, val, old;
    tl_buf_init(&key);
    tl_buf_init(&val);
    tl_buf_init(&old);
    tl_meta_key_map_version(&key);
    tl_meta_counter_encode(&val, v + 1);
    tl_meta_counter_encode(&old, v);
    *m = catalog_make_mut(a, TALUS__MUTATION__KIND__PUT, &key, &val,
                          have ? TALUS__MUTATION__COND__EQUALS
                               : TALUS__MUTATION__COND__ABSENT,
                          have ? &old : NULL);
    *next = (uint64_t)v + 1;
    tl_buf_close(&key);
    tl_buf_close(&val);
    tl_buf_close(&old);
    return 0;
}

/* One attempt at the create batch. */
static int
create_once(struct catalog *c, struct tl_table *t, struct tl_arena *a,
            int *failed, uint64_t *version, struct tl_error *err)
{
    bool have;
    int64_t id;
    Talus__Mutation *m[3];
    int rv = version_mutation(c, a, &m[2], version, err);
    if (rv == 0)
        rv = catalog_read_next_id(c, a, &have, &id, err);
    if (rv != 0)
        return rv;
    t->id = (uint32_t)id;
    t->schema_version = 1;

    struct tl_buf ckey, cval, cold, tkey, tval;
    tl_buf_init(&ckey);
    tl_buf_init(&cval);
    tl_buf_init(&cold);
    tl_buf_init(&tkey);
    tl_buf_init(&tval);
    tl_meta_key_next_id(&ckey);
    tl_meta_counter_encode(&cval, id + 1);
    tl_meta_counter_encode(&cold, id);
    tl_meta_key_table(&tkey, t->name);
    tl_meta_table_encode(&tval, t);
    m[0] = catalog_make_mut(a, TALUS__MUTATION__KIND__PUT, &ckey, &cval,
                            have ? TALUS__MUTATION__COND__EQUALS
                                 : TALUS__MUTATION__COND__ABSENT,
                            have ? &cold : NULL);
    m[1] = catalog_make_mut(a, TALUS__MUTATION__KIND__PUT, &tkey, &tval,
                            TALUS__MUTATION__COND__ABSENT, NULL);
    rv = catalog_write_batch(c, TL_META_GROUP, m, 3, failed, err);
    tl_buf_close(&ckey);
    tl_buf_close(&cval);
    tl_buf_close(&cold);
    tl_buf_close(&tkey);
    tl_buf_close(&tval);
    return rv;
}

int
catalog_create_table(struct catalog *c, struct tl_table *t,
                     struct tl_error *err)
{
    struct tl_arena a;
    tl_arena_init(&a);
    int rv = TL_ECONFLICT;
    uint64_t version = 0;
    for (int attempt = 0; attempt < CATALOG_RETRIES; attempt++) {
        int failed = -1;
        tl_arena_reset(&a);
        rv = create_once(c, t, &a, &failed, &version, err);
        if (rv == TL_ECONFLICT && failed == 1) {
            rv = TL_EEXISTS;
            break;
        }
        if (rv != TL_ECONFLICT)
            break; /* done, or a real error; a counter race retries */
    }
    if (rv == 0) {
        cache_put(c, t);
        catch_up(c, version);
        tl_info(MOD, "event=create_table table=%s id=%u version=%llu", t->name,
                t->id, (unsigned long long)version);
    } else if (rv == TL_ECONFLICT) {
        tl_error_set(err, rv, TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                     "could not create table \"%s\": too much concurrent DDL",
                     t->name);
    }
    tl_arena_close(&a);
    return rv;
}

/* Delete every row of @t on every shard (a range delete can be repeated
 * safely, so each shard follows leader changes). DROP is rare: one shard
 * after another keeps this simple. */
int
catalog_delete_rows(struct catalog *c, const struct tl_table *t,
                    uint64_t version, struct tl_error *err)
{
    struct tl_buf start, end;
    tl_buf_init(&start);
    tl_buf_init(&end);
    tl_table_all_keys_range(t, &start, &end);
    Talus__Mutation m = TALUS__MUTATION__INIT;
    m.kind = TALUS__MUTATION__KIND__DELETE_RANGE;
    m.key.data = start.data;
    m.key.len = start.len;
    m.has_end_key = 1;
    m.end_key.data = end.data;
    m.end_key.len = end.len;
    Talus__Mutation *muts[1] = {&m};
    int rv = 0;
    for (uint32_t s = 0; s < c->r->cfg.n_shards; s++) {
        Talus__WriteBatch wb = TALUS__WRITE_BATCH__INIT;
        Talus__Request req = TALUS__REQUEST__INIT;
        req.request_id = tl_rpc_next_id();
        req.has_shard = 1;
        req.shard = s;
        /* Every shard leader learns the new version: a router that still
         * plans with the dropped table is refused from now on. */
        req.has_map_version = 1;
        req.map_version = version;
        wb.n_mutations = 1;
        wb.mutations = muts;
        wb.has_request_id = 1;
        wb.request_id = req.request_id;
        req.body_case = TALUS__REQUEST__BODY_WRITE;
        req.write = &wb;
        Talus__Response *resp = NULL;
        int r2 = router_call(c->r, s, &req, true, &resp);
        r2 = router_call_result(c->r, s, r2, resp, rv == 0 ? err : NULL);
        if (rv == 0)
            rv = r2;
        if (resp != NULL)
            talus__response__free_unpacked(resp, NULL);
    }
    tl_buf_close(&start);
    tl_buf_close(&end);
    return rv;
}

/* Remove the catalog entry of @name. *@t gets the table dropped. */
static int
drop_entry(struct catalog *c, const char *name, struct tl_arena *a,
           struct tl_table **t, uint64_t *version, struct tl_error *err)
{
    for (int attempt = 0; attempt < CATALOG_RETRIES; attempt++) {
        struct catalog_row *rows;
        size_t n;
        struct tl_buf key, expect;
        tl_buf_init(&key);
        tl_buf_init(&expect);
        tl_meta_key_table(&key, name);
        int rv = catalog_scan_key(c, &key, a, &rows, &n, err);
        if (rv == 0 &&
            (n == 0 || tl_meta_table_decode(rows[0].p, rows[0].len, t) != 0))
            rv = TL_ENOTFOUND;
        if (rv != 0) {
            tl_buf_close(&key);
            return rv;
        }
        /* Deleted only if it still holds the description just read. */
        tl_buf_append(&expect, rows[0].p, rows[0].len);
        Talus__Mutation *m[2];
        m[0] = catalog_make_mut(a, TALUS__MUTATION__KIND__DELETE, &key, NULL,
                                TALUS__MUTATION__COND__EQUALS, &expect);
        tl_buf_close(&key);
        tl_buf_close(&expect);
        int failed;
        rv = version_mutation(c, a, &m[1], version, err);
        if (rv != 0)
            return rv;
        rv = catalog_write_batch(c, TL_META_GROUP, m, 2, &failed, err);
        if (rv != TL_ECONFLICT)
            return rv;
        tl_table_destroy(*t);
        *t = NULL;
    }
    return tl_error_set(
        err, TL_ECONFLICT, TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
        "could not drop table \"%s\": too much concurrent DDL", name);
}

int
catalog_drop_table(struct catalog *c, const char *name, struct tl_error *err)
{
    struct tl_arena a;
    tl_arena_init(&a);
    struct tl_table *t = NULL;
    uint64_t version = 0;
    int rv = drop_entry(c, name, &a, &t, &version, err);
    cache_remove(c, name);
    if (rv == 0) {
        catch_up(c, version);
        tl_info(MOD, "event=drop_table table=%s id=%u version=%llu", name,
                t->id, (unsigned long long)version);
        rv = catalog_delete_rows(c, t, version, err);
    }
    tl_table_destroy(t);
    tl_arena_close(&a);
    return rv;
}

/* One attempt of catalog_alter_table(): read @name, let @edit change a
 * copy, write it back conditional on the description read (and, renamed,
 * on the new name being free), with the map version. */
static int
alter_once(struct catalog *c, const char *name, catalog_edit_fn edit, void *arg,
           struct tl_arena *a, struct tl_table **out, uint64_t *version,
           int *failed, struct tl_error *err)
{
    struct catalog_row *rows;
    size_t n;
    struct tl_buf key, expect, nkey, val;
    tl_buf_init(&key);
    tl_meta_key_table(&key, name);
    int rv = catalog_scan_key(c, &key, a, &rows, &n, err);
    struct tl_table *t = NULL;
    if (rv == 0 &&
        (n == 0 || tl_meta_table_decode(rows[0].p, rows[0].len, &t) != 0))
        rv = TL_ENOTFOUND;
    if (rv == 0)
        rv = edit(&t, arg, err);
    if (rv != 0) {
        tl_table_destroy(t);
        tl_buf_close(&key);
        return rv;
    }
    t->schema_version++;
    tl_buf_init(&expect);
    tl_buf_init(&nkey);
    tl_buf_init(&val);
    tl_buf_append(&expect, rows[0].p, rows[0].len);
    tl_meta_table_encode(&val, t);
    Talus__Mutation *m[3];
    size_t k = 0;
    bool renamed = strcmp(t->name, name) != 0;
    if (renamed) {
        tl_meta_key_table(&nkey, t->name);
        m[k++] = catalog_make_mut(a, TALUS__MUTATION__KIND__DELETE, &key, NULL,
                                  TALUS__MUTATION__COND__EQUALS, &expect);
        m[k++] = catalog_make_mut(a, TALUS__MUTATION__KIND__PUT, &nkey, &val,
                                  TALUS__MUTATION__COND__ABSENT, NULL);
    } else {
        m[k++] = catalog_make_mut(a, TALUS__MUTATION__KIND__PUT, &key, &val,
                                  TALUS__MUTATION__COND__EQUALS, &expect);
    }
    rv = version_mutation(c, a, &m[k], version, err);
    if (rv == 0)
        rv = catalog_write_batch(c, TL_META_GROUP, m, k + 1, failed, err);
    tl_buf_close(&key);
    tl_buf_close(&expect);
    tl_buf_close(&nkey);
    tl_buf_close(&val);
    if (rv != 0) {
        tl_table_destroy(t);
        return rv;
    }
    *out = t;
    return 0;
}

int
catalog_alter_table(struct catalog *c, const char *name, catalog_edit_fn edit,
                    void *arg, struct tl_error *err)
{
    struct tl_arena a;
    tl_arena_init(&a);
    int rv = TL_ECONFLICT;
    uint64_t version = 0;
    struct tl_table *t = NULL;
    for (int attempt = 0; attempt < CATALOG_RETRIES; attempt++) {
        int failed = -1;
        tl_arena_reset(&a);
        rv = alter_once(c, name, edit, arg, &a, &t, &version, &failed, err);
        /* The new name taken (the PUT of a rename failed its ABSENT). */
        if (rv == TL_ECONFLICT && failed == 1) {
            rv = TL_EEXISTS;
            break;
        }
        if (rv != TL_ECONFLICT)
            break;
    }
    if (rv == 0) {
        cache_remove(c, name);
        cache_put(c, t);
        catch_up(c, version);
        tl_info(MOD,
                "event=alter_table table=%s name=%s id=%u schema=%u "
                "version=%llu",
                name, t->name, t->id, t->schema_version,
                (unsigned long long)version);
        tl_table_destroy(t);
    } else if (rv == TL_ECONFLICT) {
        tl_error_set(err, rv, TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                     "could not alter table \"%s\": too much concurrent DDL",
                     name);
    }
    tl_arena_close(&a);
    return rv;
}

int
catalog_vschema_entry(struct catalog *c, const char *name, struct tl_arena *a,
                      char **json, struct tl_error *err)
{
    struct catalog_row *rows;
    size_t n;
    struct tl_buf key;
    const char *p;
    size_t len;
    tl_buf_init(&key);
    tl_meta_key_vschema(&key, name);
    int rv = catalog_scan_key(c, &key, a, &rows, &n, err);
    tl_buf_close(&key);
    if (rv != 0)
        return rv;
    if (n == 0 || tl_meta_vschema_decode(rows[0].p, rows[0].len, &p, &len) != 0)
        return TL_ENOTFOUND;
    *json = tl_arena_strndup(a, p, len);
    return 0;
}

int
catalog_new_table_id(struct catalog *c, uint32_t *id, struct tl_error *err)
{
    struct tl_arena a;
    tl_arena_init(&a);
    int rv = TL_ECONFLICT;
    for (int attempt = 0; attempt < CATALOG_RETRIES && rv == TL_ECONFLICT;
         attempt++) {
        bool have;
        int64_t next;
        tl_arena_reset(&a);
        rv = catalog_read_next_id(c, &a, &have, &next, err);
        if (rv != 0)
            break;
        struct tl_buf key, val, old;
        tl_buf_init(&key);
        tl_buf_init(&val);
        tl_buf_init(&old);
        tl_meta_key_next_id(&key);
        tl_meta_counter_encode(&val, next + 1);
        tl_meta_counter_encode(&old, next);
        Talus__Mutation *m[1];
        m[0] = catalog_make_mut(&a, TALUS__MUTATION__KIND__PUT, &key, &val,
                                have ? TALUS__MUTATION__COND__EQUALS
                                     : TALUS__MUTATION__COND__ABSENT,
                                have ? &old : NULL);
        int failed;
        rv = catalog_write_batch(c, TL_META_GROUP, m, 1, &failed, err);
        tl_buf_close(&key);
        tl_buf_close(&val);
        tl_buf_close(&old);
        if (rv == 0)
            *id = (uint32_t)next;
    }
    if (rv == TL_ECONFLICT)
        tl_error_set(err, rv, TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                     "could not take a table id: too much concurrent DDL");
    tl_arena_close(&a);
    return rv;
}

/* One attempt of catalog_swap_table(): *@failed says which mutation's
 * condition failed (0: the table's description). */
static int
swap_once(struct catalog *c, const struct tl_table *from,
          const struct tl_table *to, struct tl_arena *a, uint64_t *version,
          int *failed, struct tl_error *err)
{
    struct catalog_row *rows, *seq_rows;
    size_t n, n_seqs;
    struct tl_buf key, expect, val;
    tl_buf_init(&key);
    tl_meta_key_table(&key, from->name);
    int rv = catalog_scan_key(c, &key, a, &rows, &n, err);
    struct tl_table *t = NULL;
    if (rv == 0 &&
        (n == 0 || tl_meta_table_decode(rows[0].p, rows[0].len, &t) != 0))
        rv = TL_ENOTFOUND;
    if (rv == 0 &&
        (t->id != from->id || t->schema_version != from->schema_version))
        rv = tl_error_set(err, TL_ECONFLICT,
                          TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                          "table \"%s\" was changed by another statement at "
                          "the same time",
                          from->name);
    tl_table_destroy(t);
    if (rv == 0)
        rv = catalog_scan_index(c, TL_META_INDEX_SEQUENCE, a, &seq_rows,
                                &n_seqs, err);
    if (rv != 0) {
        tl_buf_close(&key);
        return rv;
    }
    Talus__Mutation **m = tl_arena_alloc(a, (n_seqs + 2) * sizeof(*m));
    size_t k = 0;
    tl_buf_init(&expect);
    tl_buf_init(&val);
    tl_buf_append(&expect, rows[0].p, rows[0].len);
    tl_meta_table_encode(&val, to);
    m[k++] = catalog_make_mut(a, TALUS__MUTATION__KIND__PUT, &key, &val,
                              TALUS__MUTATION__COND__EQUALS, &expect);
    /* The table's serial and identity sequences follow it to its new id,
     * in the same write. */
    for (size_t i = 0; i < n_seqs; i++) {
        struct tl_sequence s;
        if (tl_meta_sequence_decode(seq_rows[i].p, seq_rows[i].len, &s) != 0 ||
            s.owner_table != from->id)
            continue;
        s.owner_table = to->id;
        tl_buf_reset(&key);
        tl_buf_reset(&val);
        tl_buf_reset(&expect);
        tl_meta_key_sequence(&key, s.name);
        tl_meta_sequence_encode(&val, &s);
        tl_buf_append(&expect, seq_rows[i].p, seq_rows[i].len);
        m[k++] = catalog_make_mut(a, TALUS__MUTATION__KIND__PUT, &key, &val,
                                  TALUS__MUTATION__COND__EQUALS, &expect);
    }
    rv = version_mutation(c, a, &m[k], version, err);
    if (rv == 0)
        rv = catalog_write_batch(c, TL_META_GROUP, m, k + 1, failed, err);
    tl_buf_close(&key);
    tl_buf_close(&expect);
    tl_buf_close(&val);
    return rv;
}

int
catalog_swap_table(struct catalog *c, const struct tl_table *from,
                   const struct tl_table *to, uint64_t *version,
                   struct tl_error *err)
{
    struct tl_arena a;
    tl_arena_init(&a);
    int rv = TL_ECONFLICT;
    int failed = -1;
    for (int attempt = 0; attempt < CATALOG_RETRIES; attempt++) {
        failed = -1;
        tl_arena_reset(&a);
        rv = swap_once(c, from, to, &a, version, &failed, err);
        if (rv != TL_ECONFLICT || failed == -1)
            break; /* done, a real error, or a change of the table */
    }
    if (rv == 0) {
        cache_remove(c, from->name);
        cache_put(c, to);
        catch_up(c, *version);
        tl_info(MOD,
                "event=swap_table table=%s id=%u new_id=%u schema=%u "
                "version=%llu",
                to->name, from->id, to->id, to->schema_version,
                (unsigned long long)*version);
    } else if (rv == TL_ECONFLICT && failed >= 0) {
        tl_error_set(err, rv, TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                     failed == 0 ? "table \"%s\" was changed by another "
                                   "statement at the same time"
                                 : "could not alter table \"%s\": too much "
                                   "concurrent DDL",
                     from->name);
    }
    tl_arena_close(&a);
    return rv;
}
