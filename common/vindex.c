#include "vindex.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "expr.h"
#include "keycodec.h"

#define FNV64_OFFSET 0xcbf29ce484222325ULL
#define FNV64_PRIME 0x100000001b3ULL

/* MurmurHash3's 64-bit finalizer: FNV-1a alone mixes its last bytes
 * poorly into the high bits, which pick the shard. */
static uint64_t
fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

uint64_t
tl_vindex_hash(const struct tl_value *v)
{
    uint8_t stack[64];
    struct tl_buf b = {.data = stack, .len = 0, .cap = sizeof(stack)};
    uint64_t h = FNV64_OFFSET;

    /* The key encoding of a short value fits the stack buffer; a longer
     * one makes tl_buf realloc a pointer it does not own, so use a heap
     * buffer for anything that might not fit. */
    bool heap = !v->is_null && tl_type_has_bytes(v->type) && v->u.s.len > 20;
    if (heap)
        tl_buf_init(&b);
    tl_key_encode_value(&b, v);
    assert(heap || b.data == stack);
    for (size_t i = 0; i < b.len; i++) {
        h ^= b.data[i];
        h *= FNV64_PRIME;
    }
    if (heap)
        tl_buf_close(&b);
    return fmix64(h);
}

uint32_t
tl_vindex_hash_shard(uint64_t hash, uint32_t n_shards)
{
    return (uint32_t)(((unsigned __int128)hash * n_shards) >> 64);
}

uint32_t
tl_vindex_shard(uint32_t kind, const struct tl_value *v, uint32_t n_shards)
{
    assert(kind == TL_VINDEX_NONE || kind == TL_VINDEX_HASH);
    if (kind != TL_VINDEX_HASH || n_shards <= 1)
        return 0;
    return tl_vindex_hash_shard(tl_vindex_hash(v), n_shards);
}

/* ---------------------------------------------------- consistent hash */

/* One point: owner and vnode index break ties between equal hashes, so the
 * order is total and the ring independent of the input order. */
struct ring_point {
    uint64_t hash;
    uint32_t shard;
    uint32_t vnode;
};

struct tl_ring {
    size_t n_points;
    uint64_t *hashes; /* sorted ascending */
    uint32_t *owners; /* owners[i] owns the arc (hashes[i-1], hashes[i]] */
};

/* Point of virtual node @vnode of @shard: FNV-1a over the 8 bytes
 * shard (BE) | vnode (BE), then fmix64, like tl_vindex_hash. */
static uint64_t
hash_point(uint32_t shard, uint32_t vnode)
{
    uint8_t b[8];
    uint64_t h = FNV64_OFFSET;

    for (int i = 0; i < 4; i++) {
        b[i] = (uint8_t)(shard >> (24 - 8 * i));
        b[4 + i] = (uint8_t)(vnode >> (24 - 8 * i));
    }
    for (int i = 0; i < 8; i++) {
        h ^= b[i];
        h *= FNV64_PRIME;
    }
    return fmix64(h);
}

static int
cmp_point(const void *pa, const void *pb)
{
    const struct ring_point *a = pa, *b = pb;

    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    if (a->shard != b->shard)
        return a->shard < b->shard ? -1 : 1;
    return (a->vnode > b->vnode) - (a->vnode < b->vnode);
}

static int
cmp_u32(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return (a > b) - (a < b);
}

/* Whether @shards[0..n) holds a repeated id. */
static int
check_unique(const uint32_t *shards, size_t n)
{
    uint32_t *ids = malloc(n * sizeof(*ids));
    int rv = 0;

    if (ids == NULL)
        return TL_ENOMEM;
    memcpy(ids, shards, n * sizeof(*ids));
    qsort(ids, n, sizeof(*ids), cmp_u32);
    for (size_t i = 1; i < n; i++)
        if (ids[i] == ids[i - 1])
            rv = TL_EINVAL;
    free(ids);
    return rv;
}

int
tl_ring_create(const uint32_t *shards, size_t n, uint32_t vnodes,
               struct tl_ring **out)
{
    struct ring_point *pts;
    struct tl_ring *r;
    size_t total, k = 0;
    int rv;

    if (vnodes == 0)
        vnodes = TL_RING_DEFAULT_VNODES;
    if (n == 0 || n > TL_RING_MAX_POINTS / vnodes)
        return TL_EINVAL;
    if ((rv = check_unique(shards, n)) != 0)
        return rv;
    total = n * vnodes;
    pts = malloc(total * sizeof(*pts));
    if (pts == NULL)
        return TL_ENOMEM;
    for (size_t s = 0; s < n; s++) {
        for (uint32_t i = 0; i < vnodes; i++) {
            pts[k].hash = hash_point(shards[s], i);
            pts[k].shard = shards[s];
            pts[k].vnode = i;
            k++;
        }
    }
    qsort(pts, total, sizeof(*pts), cmp_point);

    rv = TL_ENOMEM;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        goto err_pts;
    r->n_points = total;
    r->hashes = malloc(total * sizeof(*r->hashes));
    r->owners = malloc(total * sizeof(*r->owners));
    if (r->hashes == NULL || r->owners == NULL)
        goto err_ring;
    for (size_t i = 0; i < total; i++) {
        r->hashes[i] = pts[i].hash;
        r->owners[i] = pts[i].shard;
    }
    free(pts);
    *out = r;
    return 0;

err_ring:
    tl_ring_destroy(r);
err_pts:
    free(pts);
    return rv;
}

void
tl_ring_destroy(struct tl_ring *r)
{
    if (r == NULL)
        return;
    free(r->hashes);
    free(r->owners);
    free(r);
}

uint32_t
tl_ring_lookup(const struct tl_ring *r, uint64_t hash)
{
    size_t lo = 0, hi = r->n_points;

    /* First point >= hash. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->hashes[mid] < hash)
            lo = mid + 1;
        else
            hi = mid;
    }
    return r->owners[lo == r->n_points ? 0 : lo];
}

uint32_t
tl_ring_shard(const struct tl_ring *r, const struct tl_value *v)
{
    return tl_ring_lookup(r, tl_vindex_hash(v));
}

size_t
tl_ring_n_points(const struct tl_ring *r)
{
    return r->n_points;
}

/* -------------------------------------------------------------- range */

struct tl_range_map {
    uint8_t key_type;
    size_t n_bounds;
    struct tl_value *bounds; /* strictly increasing, of key_type */
    uint32_t *shards;        /* n_bounds + 1 */
    uint32_t max_shard;
    char *text; /* the text boundaries' bytes, which bounds[] point into */
};

static bool
range_key_type_ok(uint8_t t)
{
    return tl_type_is_int(t) || tl_type_is_text(t) || tl_type_is_datetime(t);
}

/* @v's text output as a NUL-terminated string in @a (for messages). */
static const char *
value_text(const struct tl_value *v, struct tl_arena *a)
{
    struct tl_buf b;
    const char *s;

    tl_buf_init(&b);
    tl_value_to_text(v, &b);
    s = tl_arena_strndup(a, b.data ? (const char *)b.data : "", b.len);
    tl_buf_close(&b);
    return s;
}

/* Cast and check @bounds into @cast (values borrowing @a or @bounds). */
static int
check_bounds(uint8_t key_type, const struct tl_value *bounds, size_t n,
             struct tl_value *cast, struct tl_arena *a, struct tl_error *err)
{
    struct tl_error cerr;
    int rv;

    for (size_t i = 0; i < n; i++) {
        if (bounds[i].is_null)
            return tl_error_set(err, TL_EINVAL,
                                TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                                "range boundary %zu is NULL", i + 1);
        cast[i] = bounds[i];
        if (bounds[i].type != key_type) {
            tl_error_clear(&cerr);
            rv = tl_value_cast(&bounds[i], key_type, -1, a, &cast[i], &cerr);
            if (rv != 0) {
                tl_error_set(err, TL_ETYPE,
                             TL_SQLSTATE_INVALID_TEXT_REPRESENTATION,
                             "invalid range boundary for type %s: \"%s\"",
                             tl_type_name(key_type), value_text(&bounds[i], a));
                if (err != NULL)
                    snprintf(err->detail, sizeof(err->detail), "%s",
                             cerr.message);
                return TL_ETYPE;
            }
        }
        if (i > 0 && tl_value_cmp(&cast[i - 1], &cast[i]) >= 0)
            return tl_error_set(
                err, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                "range boundaries must be strictly "
                "increasing: %s follows %s",
                value_text(&cast[i], a), value_text(&cast[i - 1], a));
    }
    return 0;
}

int
tl_range_map_create(uint8_t key_type, const struct tl_value *bounds,
                    size_t n_bounds, const uint32_t *shards,
                    struct tl_range_map **out, struct tl_error *err)
{
    struct tl_arena a;
    struct tl_value *cast = NULL;
    struct tl_range_map *m = NULL;
    size_t text_len = 0, off = 0;
    int rv;

    if (!range_key_type_ok(key_type))
        return tl_error_set(err, TL_EUNSUPPORTED,
                            TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                            "range vindex does not support key type %s",
                            tl_type_name(key_type));
    tl_arena_init(&a);
    cast = tl_arena_calloc(&a, (n_bounds ? n_bounds : 1) * sizeof(*cast));
    if ((rv = check_bounds(key_type, bounds, n_bounds, cast, &a, err)) != 0)
        goto err_arena;

    rv = TL_ENOMEM;
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        goto err_map;
    m->key_type = key_type;
    m->n_bounds = n_bounds;
    m->bounds = calloc(n_bounds ? n_bounds : 1, sizeof(*m->bounds));
    m->shards = calloc(n_bounds + 1, sizeof(*m->shards));
    for (size_t i = 0; i < n_bounds; i++)
        if (tl_type_has_bytes(cast[i].type))
            text_len += cast[i].u.s.len;
    m->text = malloc(text_len ? text_len : 1);
    if (m->bounds == NULL || m->shards == NULL || m->text == NULL)
        goto err_map;
    for (size_t i = 0; i < n_bounds; i++) {
        m->bounds[i] = cast[i];
        if (tl_type_has_bytes(cast[i].type)) {
            if (cast[i].u.s.len > 0)
                memcpy(m->text + off, cast[i].u.s.p, cast[i].u.s.len);
            m->bounds[i].u.s.p = m->text + off;
            off += cast[i].u.s.len;
        }
    }
    for (size_t i = 0; i <= n_bounds; i++) {
        m->shards[i] = shards[i];
        if (shards[i] > m->max_shard)
            m->max_shard = shards[i];
    }
    tl_arena_close(&a);
    *out = m;
    return 0;

err_map:
    tl_range_map_destroy(m);
    tl_error_set(err, rv, TL_SQLSTATE_OUT_OF_MEMORY, "out of memory");
err_arena:
    tl_arena_close(&a);
    return rv;
}

void
tl_range_map_destroy(struct tl_range_map *m)
{
    if (m == NULL)
        return;
    free(m->bounds);
    free(m->shards);
    free(m->text);
    free(m);
}

/* Number of boundaries <= @v (non-NULL). */
static size_t
count_le(const struct tl_range_map *m, const struct tl_value *v)
{
    size_t lo = 0, hi = m->n_bounds;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tl_value_cmp(&m->bounds[mid], v) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t
tl_range_map_range(const struct tl_range_map *m, const struct tl_value *v)
{
    if (v->is_null)
        return 0;
    assert(tl_type_comparable(v->type, m->key_type));
    return count_le(m, v);
}

uint32_t
tl_range_map_lookup(const struct tl_range_map *m, const struct tl_value *v)
{
    return m->shards[tl_range_map_range(m, v)];
}

/* For a discrete key compared with a value of its own kind, turn `k < v`
 * into `k <= v - 1` and `k > v` into `k >= v + 1`, so a range whose only
 * candidate would be v itself is not hit. False when that does not apply
 * (other types, the infinities, the ends of int64). */
static bool
step_value(const struct tl_range_map *m, const struct tl_value *v, int dir,
           struct tl_value *out)
{
    bool ints = tl_type_is_int(m->key_type) && tl_type_is_int(v->type);
    bool same_dt = tl_type_is_datetime(m->key_type) && v->type == m->key_type;
    int64_t lo = INT64_MIN, hi = INT64_MAX;

    if (!ints && !same_dt)
        return false;
    if (v->type == TL_TYPE_DATE) {
        lo = INT32_MIN;
        hi = INT32_MAX;
    }
    /* Never step onto or off an infinity (or past the int64 range). */
    if (v->u.i <= lo || v->u.i >= hi || v->u.i + dir <= lo ||
        v->u.i + dir >= hi)
        return false;
    *out = tl_value_int(v->type, v->u.i + dir);
    return true;
}

bool
tl_range_map_span(const struct tl_range_map *m, int op,
                  const struct tl_value *v, size_t *first, size_t *last)
{
    struct tl_value stepped;
    size_t idx;

    if (v->is_null)
        return false;
    assert(tl_type_comparable(v->type, m->key_type));
    switch (op) {
    case TL_OP_EQ:
        *first = *last = count_le(m, v);
        return true;
    case TL_OP_LT:
        if (step_value(m, v, -1, &stepped))
            return tl_range_map_span(m, TL_OP_LE, &stepped, first, last);
        idx = count_le(m, v);
        /* v is the lower bound of range idx: nothing there is below it. */
        if (idx > 0 && tl_value_cmp(&m->bounds[idx - 1], v) == 0)
            idx--;
        *first = 0;
        *last = idx;
        return true;
    case TL_OP_LE:
        *first = 0;
        *last = count_le(m, v);
        return true;
    case TL_OP_GT:
        if (step_value(m, v, 1, &stepped))
            return tl_range_map_span(m, TL_OP_GE, &stepped, first, last);
        /* Otherwise as GE: the range holding v may hold values above it. */
        /* fall through */
    case TL_OP_GE:
        *first = count_le(m, v);
        *last = m->n_bounds;
        return true;
    default:
        *first = 0;
        *last = m->n_bounds;
        return true;
    }
}

void
tl_range_map_prune(const struct tl_range_map *m, int op,
                   const struct tl_value *v, bool *shards_hit)
{
    size_t first, last;

    if (!tl_range_map_span(m, op, v, &first, &last))
        return;
    for (size_t i = first; i <= last; i++)
        shards_hit[m->shards[i]] = true;
}

size_t
tl_range_map_n_ranges(const struct tl_range_map *m)
{
    return m->n_bounds + 1;
}

uint32_t
tl_range_map_range_shard(const struct tl_range_map *m, size_t i)
{
    assert(i <= m->n_bounds);
    return m->shards[i];
}

uint32_t
tl_range_map_max_shard(const struct tl_range_map *m)
{
    return m->max_shard;
}

uint8_t
tl_range_map_key_type(const struct tl_range_map *m)
{
    return m->key_type;
}

const struct tl_value *
tl_range_map_bound(const struct tl_range_map *m, size_t i)
{
    assert(i < m->n_bounds);
    return &m->bounds[i];
}
