/* gc — the GC safe point on this node (gc.h).
 *
 * Once a second, on the registry thread (never the loop or a worker):
 *   - every node reads the safe point from the meta group (key
 *     prefix(0, 21) of common/meta/meta_keys.h) and, when it moved up,
 *     keeps it in n->gc_safe_point and raises the compaction filter's
 *     floor of every data shard it hosts to it (node/store: compactions
 *     below it collect versions no read at or above it can see);
 *   - the node that leads the meta group computes
 *         S = min(now - gc_window_ms, the oldest open transaction any live
 *                 router reports, every hold)
 *     from the router records (a router's report stops counting when its
 *     lease expires), the holds (CDC slots and backups: none yet) and the
 *     cluster setting gc_window_ms, and writes S when it is above the
 *     stored one, conditional on the row it read: the safe point only
 *     moves forward, whoever leads.
 * "now" is the wall clock in oracle units (physical ms << 18): the
 * oracle's timestamps follow the meta leader's clock, and a window of
 * minutes dwarfs any drift. A read below this node's safe point is
 * refused (node_rpc.c: 72000 snapshot too old), never served from what
 * is left. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_map.h"
#include "common/meta/meta_keys.h"
#include "common/meta/meta_routers.h"
#include "log.h"
#include "node/meta/gc.h"
#include "node/meta/node_meta.h"
#include "node/meta/registry.h"
#include "node/meta/tso.h"
#include "node/store/store.h"
#include "tl_error.h"

#define MOD "gc"
/* The safe point this node learned last, in its metadata column family. */
#define GC_SAFE_POINT_META_KEY "gc_safe_point"

static int64_t
wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* What a scan of [@start, @end) of the meta group returned: its rows,
 * each malloc'd. */
struct rows {
    struct tl_buf *v;
    size_t n;
};

static void
rows_free(struct rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        tl_buf_close(&r->v[i]);
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

/* Scan [@start, @end) of the meta group into @out. 0 or a TL_E* code. */
static int
scan_meta(struct node_meta *n, const struct tl_buf *start,
          const struct tl_buf *end, struct rows *out)
{
    struct tl_arena a;
    int rv = 0;

    tl_arena_init(&a);
    Talus__KeyRange range = TALUS__KEY_RANGE__INIT;
    range.start.data = start->data;
    range.start.len = start->len;
    range.end.data = end->data;
    range.end.len = end->len;
    Talus__KeyRange *ranges[1] = {&range};
    Talus__ScanFragment scan = TALUS__SCAN_FRAGMENT__INIT;
    scan.table = tl_meta_catalog_desc(&a);
    scan.n_ranges = 1;
    scan.ranges = ranges;
    for (;;) {
        Talus__Request req = TALUS__REQUEST__INIT;
        Talus__Response *resp = NULL;
        req.body_case = TALUS__REQUEST__BODY_SCAN;
        req.scan = &scan;
        rv = registry_meta_call(n, &req, &resp);
        if (rv != 0)
            break;
        if (resp->error != NULL) {
            talus__response__free_unpacked(resp, NULL);
            rv = TL_EUNAVAILABLE;
            break;
        }
        out->v = realloc(out->v, (out->n + resp->n_rows + 1) * sizeof *out->v);
        if (out->v == NULL)
            abort();
        for (size_t i = 0; i < resp->n_rows; i++) {
            tl_buf_init(&out->v[out->n]);
            tl_buf_append(&out->v[out->n], resp->rows[i].data,
                          resp->rows[i].len);
            out->n++;
        }
        bool more = resp->has_resume_key && resp->resume_key.len > 0;
        if (more) {
            uint8_t *rk = tl_arena_alloc(&a, resp->resume_key.len);
            memcpy(rk, resp->resume_key.data, resp->resume_key.len);
            scan.has_resume_key = 1;
            scan.resume_key.data = rk;
            scan.resume_key.len = resp->resume_key.len;
        }
        talus__response__free_unpacked(resp, NULL);
        if (!more)
            break;
    }
    tl_arena_close(&a);
    return rv;
}

/* Scan every key under @index. */
static int
scan_index(struct node_meta *n, enum tl_meta_index index, struct rows *out)
{
    struct tl_buf s, e;
    tl_buf_init(&s);
    tl_buf_init(&e);
    tl_meta_range_index(&s, &e, index);
    int rv = scan_meta(n, &s, &e, out);
    tl_buf_close(&s);
    tl_buf_close(&e);
    return rv;
}

/* The stored safe point into *@sp and its row into @row (empty: none). */
static int
read_safe_point(struct node_meta *n, uint64_t *sp, struct tl_buf *row)
{
    struct rows r = {0};
    int rv = scan_index(n, TL_META_INDEX_GC_SAFE_POINT, &r);
    *sp = 0;
    tl_buf_reset(row);
    if (rv == 0 && r.n > 0) {
        int64_t v = 0;
        if (tl_meta_counter_decode(r.v[0].data, r.v[0].len, &v) == 0 && v > 0)
            *sp = (uint64_t)v;
        tl_buf_append(row, r.v[0].data, r.v[0].len);
    }
    rows_free(&r);
    return rv;
}

uint64_t
gc_compute_safe_point(int64_t now_ms, uint64_t window_ms,
                      const struct tl_meta_router *routers, size_t n_routers,
                      const uint64_t *holds, size_t n_holds)
{
    int64_t phys = now_ms - (int64_t)window_ms;
    uint64_t sp = phys > 0 ? (uint64_t)phys << TSO_LOGICAL_BITS : 0;
    for (size_t i = 0; i < n_routers; i++) {
        const struct tl_meta_router *r = &routers[i];
        if (r->oldest_txn_ts == 0 ||
            tl_meta_router_liveness(r, r->incarnation, now_ms) !=
                TL_META_ROUTER_ALIVE)
            continue;
        /* Versions a read at the start ts sees must stay. */
        if (r->oldest_txn_ts < sp)
            sp = r->oldest_txn_ts;
    }
    for (size_t i = 0; i < n_holds; i++)
        if (holds[i] != 0 && holds[i] < sp)
            sp = holds[i];
    return sp;
}

/* The GC window of the cluster settings (the registry's cache), else the
 * configuration's. */
static uint64_t
window_ms(struct node_meta *n)
{
    uint64_t w = n->cfg.gc_window_ms;
    Talus__ClusterMap *m = registry_cached_map(n);
    if (m != NULL) {
        if (m->settings != NULL && m->settings->has_gc_window_ms &&
            m->settings->gc_window_ms > 0)
            w = m->settings->gc_window_ms;
        talus__cluster_map__free_unpacked(m, NULL);
    }
    if (w == 0)
        w = TL_META_GC_WINDOW_DEFAULT_MS;
    return w < TL_META_GC_WINDOW_MIN_MS ? TL_META_GC_WINDOW_MIN_MS : w;
}

/* As the meta group's leader: raise the stored safe point @old (row
 * @old_row) to what the routers and holds allow. 1 when written, 0 when
 * it stays, or a TL_E* code. */
static int
advance(struct node_meta *n, uint64_t old, const struct tl_buf *old_row)
{
    struct rows rr = {0}, hr = {0};
    struct tl_meta_router *routers = NULL;
    uint64_t *holds = NULL;
    size_t nr = 0, nh = 0;
    int rv = scan_index(n, TL_META_INDEX_ROUTER, &rr);
    if (rv == 0)
        rv = scan_index(n, TL_META_INDEX_GC_HOLD, &hr);
    if (rv != 0)
        goto out;
    routers = calloc(rr.n + 1, sizeof *routers);
    holds = calloc(hr.n + 1, sizeof *holds);
    if (routers == NULL || holds == NULL)
        abort();
    for (size_t i = 0; i < rr.n; i++)
        if (tl_meta_router_decode(rr.v[i].data, rr.v[i].len, &routers[nr]) == 0)
            nr++;
    for (size_t i = 0; i < hr.n; i++) {
        int64_t v;
        if (tl_meta_counter_decode(hr.v[i].data, hr.v[i].len, &v) == 0 && v > 0)
            holds[nh++] = (uint64_t)v;
    }
    uint64_t window = window_ms(n);
    uint64_t sp =
        gc_compute_safe_point(wall_ms(), window, routers, nr, holds, nh);
    /* Written when it moved by a twentieth of the window at least (30 s
     * of the default 10 minutes), not every second: one meta group entry
     * per step, and history kept at most that much longer. */
    uint64_t step = (window / 20) << TSO_LOGICAL_BITS;
    if (sp <= old || (old != 0 && sp - old < step))
        goto out;
    struct tl_buf key, row;
    tl_buf_init(&key);
    tl_buf_init(&row);
    tl_meta_key_gc_safe_point(&key);
    tl_meta_counter_encode(&row, (int64_t)sp);
    Talus__Mutation m = TALUS__MUTATION__INIT;
    Talus__Mutation *mp = &m;
    m.kind = TALUS__MUTATION__KIND__PUT;
    m.key.data = key.data;
    m.key.len = key.len;
    m.has_value = 1;
    m.value.data = row.data;
    m.value.len = row.len;
    m.has_cond = 1;
    if (old_row->len > 0) {
        m.cond = TALUS__MUTATION__COND__EQUALS;
        m.has_expect = 1;
        m.expect.data = old_row->data;
        m.expect.len = old_row->len;
    } else {
        m.cond = TALUS__MUTATION__COND__ABSENT;
    }
    Talus__WriteBatch wb = TALUS__WRITE_BATCH__INIT;
    wb.n_mutations = 1;
    wb.mutations = &mp;
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__Response *resp = NULL;
    req.body_case = TALUS__REQUEST__BODY_WRITE;
    req.write = &wb;
    rv = registry_meta_call(n, &req, &resp);
    if (rv == 0) {
        if (resp->error != NULL)
            rv = resp->error->has_mutation ? TL_ECONFLICT : TL_EUNAVAILABLE;
        talus__response__free_unpacked(resp, NULL);
    }
    if (rv == 0) {
        tl_debug(MOD, "event=safe_point_advanced safe_point=%llu old=%llu",
                 (unsigned long long)sp, (unsigned long long)old);
        rv = 1;
    }
    tl_buf_close(&key);
    tl_buf_close(&row);
out:
    rows_free(&rr);
    rows_free(&hr);
    free(routers);
    free(holds);
    return rv;
}

/* Keep @sp as this node's safe point (persisted first: after a restart
 * the node refuses reads below what it may have collected before it
 * hears from the meta group again) and raise every data shard's filter
 * floor to it. */
static void
learn(struct node_meta *n, uint64_t sp)
{
    uint64_t cur = atomic_load(&n->gc_safe_point);
    if (sp > cur) {
        char v[8];
        store_encode_u64(sp, v);
        if (store_meta_put(n->st, GC_SAFE_POINT_META_KEY, v, sizeof v) != 0)
            return; /* logged; collect nothing above what is kept */
    }
    while (sp > cur &&
           !atomic_compare_exchange_weak(&n->gc_safe_point, &cur, sp))
        ;
    sp = atomic_load(&n->gc_safe_point);
    if (sp == 0)
        return;
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++) {
        struct replica *sh = replica_get(n->rs, s);
        /* A started group's state machine stays as it is while it
         * serves (active is stored after fsm_init(): read it first). */
        if (sh == NULL || s == TL_META_GROUP || !atomic_load(&sh->active) ||
            !sh->fsm.versioned || sh->fsm.cf == NULL)
            continue;
        store_cf_set_gc_floor(sh->fsm.cf, sp);
    }
}

void
gc_load(struct node_meta *n)
{
    char *v = NULL;
    size_t len = 0;
    if (store_meta_get(n->st, GC_SAFE_POINT_META_KEY, &v, &len) == 0 &&
        v != NULL && len == 8)
        atomic_store(&n->gc_safe_point, tl_load_be64((const uint8_t *)v));
    free(v);
}

void
gc_tick(struct node_meta *n)
{
    struct tl_buf row;
    uint64_t sp = 0;

    tl_buf_init(&row);
    int rv = read_safe_point(n, &sp, &row);
    if (rv == 0) {
        struct replica *msh = replica_get(n->rs, TL_META_GROUP);
        if (msh != NULL && atomic_load(&msh->is_leader) &&
            advance(n, sp, &row) == 1) {
            uint64_t again;
            if (read_safe_point(n, &again, &row) == 0)
                sp = again;
        }
        learn(n, sp);
    }
    tl_buf_close(&row);
}
