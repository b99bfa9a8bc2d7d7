/* vindex — the functions from a row's shard key to its shard.
 *
 * The hash vindex hashes the key's memcomparable encoding (so 5::int2 and
 * 5::int8 land on the same shard) to 64 bits, and shard i of n owns the
 * contiguous hash range [i * 2^64 / n, (i + 1) * 2^64 / n). Splitting a
 * shard halves its range.
 *
 * The consistent_hash vindex places V virtual nodes per shard on a ring of
 * 64-bit points; a key belongs to the first point at or after its
 * tl_vindex_hash (clockwise, wrapping). Adding a shard only adds points, so
 * the only keys that move are those that move to the new shard (about
 * 1/(N+1) of them); removing one moves only that shard's keys.
 *
 * The range vindex cuts a typed key's natural order at explicit, strictly
 * increasing boundaries b0 < b1 < ... < b(n-1): range 0 is (-inf, b0),
 * range i is [b(i-1), b(i)), range n is [b(n-1), +inf), and each range maps
 * to a shard id (several ranges may share a shard).
 *
 * Rings and range maps are immutable once built: any number of threads
 * may look up in one concurrently. Every function here is deterministic
 * (same inputs, same answers on every machine, forever: a change is a
 * data migration) and uses no global state. Hashes are of a value's key
 * encoding, so the router must cast a key to the column's type first
 * (a date and the equal timestamp hash differently). */
#ifndef TL_VINDEX_H
#define TL_VINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tl_error.h"
#include "value.h"

/* Stored in catalogs: never renumber. */
enum tl_vindex_kind {
    TL_VINDEX_NONE = 0, /* unsharded: the table lives on shard 0 */
    TL_VINDEX_HASH = 1,
    TL_VINDEX_CONSISTENT_HASH = 2, /* struct tl_ring */
    TL_VINDEX_RANGE = 3,           /* struct tl_range_map */
};

/* Virtual nodes per shard when tl_ring_create() is given 0. */
#define TL_RING_DEFAULT_VNODES 64
/* Most points a ring may have (shards times virtual nodes). */
#define TL_RING_MAX_POINTS (1u << 24)

/** 64-bit hash of @v's key encoding: well mixed (every input bit affects
 * every output bit), stable across releases. Cannot fail. */
uint64_t tl_vindex_hash(const struct tl_value *v);

/** Shard owning @hash when @n_shards (> 0) shards split the hash space
 * into equal contiguous ranges. Cannot fail. */
uint32_t tl_vindex_hash_shard(uint64_t hash, uint32_t n_shards);

/** Shard of a row whose shard-key value is @v, for @kind TL_VINDEX_NONE
 * or TL_VINDEX_HASH. Cannot fail. The other kinds need their ring or map
 * (tl_ring_shard(), tl_range_map_lookup()); passing them is a programming
 * error (asserted; 0 in a release build, as before they existed). */
uint32_t tl_vindex_shard(uint32_t kind, const struct tl_value *v,
                         uint32_t n_shards);

/* ---------------------------------------------------- consistent hash */

struct tl_ring;

/** Build the ring of @n shards @shards[0..n) (ids, copied, any order, no
 * duplicates) with @vnodes virtual nodes each (0 means
 * TL_RING_DEFAULT_VNODES). Virtual node i of shard s sits at the 64-bit
 * hash of (s, i); the ring depends only on the set of shards and @vnodes,
 * not on their order. On success *@out owns the ring; free it with
 * tl_ring_destroy(). TL_EINVAL if @n is 0, an id repeats or the ring would
 * exceed TL_RING_MAX_POINTS points; TL_ENOMEM. *@out is untouched on
 * failure. */
int tl_ring_create(const uint32_t *shards, size_t n, uint32_t vnodes,
                   struct tl_ring **out);

/** Free @r. tl_ring_destroy(NULL) is a no-op. */
void tl_ring_destroy(struct tl_ring *r);

/** Shard owning @hash: the owner of the first ring point >= @hash,
 * wrapping to the first point. O(log points). Cannot fail. */
uint32_t tl_ring_lookup(const struct tl_ring *r, uint64_t hash);

/** Shard owning key @v: tl_ring_lookup(r, tl_vindex_hash(v)). A NULL key
 * hashes like any value (tl_vindex_hash). Cannot fail. */
uint32_t tl_ring_shard(const struct tl_ring *r, const struct tl_value *v);

/** Number of points on @r (shards times virtual nodes). Cannot fail. */
size_t tl_ring_n_points(const struct tl_ring *r);

/* -------------------------------------------------------------- range */

struct tl_range_map;

/** Build a range map over keys of @key_type (an integer type, text,
 * varchar, timestamptz, timestamp or date) from @n_bounds boundaries
 * @bounds (copied, text bytes included: the map borrows nothing) and the
 * @n_bounds + 1 shard ids @shards (copied) of the ranges in order.
 * Boundaries of another type are cast to @key_type first (tl_value_cast:
 * '2024-01-01' literals, int4 for int8, ...). On success *@out owns the
 * map; free it with tl_range_map_destroy(). Errors, with @err (may be
 * NULL) filled, *@out untouched:
 *   TL_EUNSUPPORTED 0A000 for any other key type;
 *   TL_EINVAL 22023 "range boundary N is NULL" (N counts from 1);
 *   TL_ETYPE 22P02 "invalid range boundary for type T: "x"" when a
 *     boundary cannot be cast (the cast's own message in the detail);
 *   TL_EINVAL 22023 "range boundaries must be strictly increasing: X
 *     follows Y" for the first boundary X not above its predecessor Y;
 *   TL_ENOMEM. */
int tl_range_map_create(uint8_t key_type, const struct tl_value *bounds,
                        size_t n_bounds, const uint32_t *shards,
                        struct tl_range_map **out, struct tl_error *err);

/** Free @m. tl_range_map_destroy(NULL) is a no-op. */
void tl_range_map_destroy(struct tl_range_map *m);

/** Index (0..n_bounds) of the range holding @v: the number of boundaries
 * <= @v. A NULL key is in range 0 (rows with a NULL shard key live on the
 * first range's shard). @v must be comparable with the key type
 * (tl_type_comparable; cast untyped literals first). Cannot fail. */
size_t tl_range_map_range(const struct tl_range_map *m,
                          const struct tl_value *v);

/** Shard owning key @v: the shard of tl_range_map_range(m, v), so a NULL
 * key goes to the first range's shard. O(log n). Cannot fail. */
uint32_t tl_range_map_lookup(const struct tl_range_map *m,
                             const struct tl_value *v);

/** The ranges that can hold a key k with `k @op @v`, as the inclusive index
 * span [*@first, *@last], for @op TL_OP_EQ, _LT, _LE, _GT or _GE (enum
 * tl_op in expr.h); any other op gives every range. Returns false (span
 * unset) when no key can satisfy it: @v NULL (the comparison is never
 * true). The span is exact for integer and date/time keys compared with
 * values of their own type (k > 5 skips a range ending at 6) and may
 * include one extra edge range otherwise. For BETWEEN, intersect the spans
 * of the two comparisons. Cannot fail. */
bool tl_range_map_span(const struct tl_range_map *m, int op,
                       const struct tl_value *v, size_t *first, size_t *last);

/** Set @shards_hit[s] to true for every shard s owning a range in
 * tl_range_map_span(m, op, v); entries already true stay true, none is
 * cleared. @shards_hit must have tl_range_map_max_shard(m) + 1 entries.
 * Cannot fail. */
void tl_range_map_prune(const struct tl_range_map *m, int op,
                        const struct tl_value *v, bool *shards_hit);

/** Number of ranges (boundaries + 1). Cannot fail. */
size_t tl_range_map_n_ranges(const struct tl_range_map *m);

/** Shard of range @i (< tl_range_map_n_ranges). Cannot fail. */
uint32_t tl_range_map_range_shard(const struct tl_range_map *m, size_t i);

/** Largest shard id in @m. Cannot fail. */
uint32_t tl_range_map_max_shard(const struct tl_range_map *m);

/** Key type of @m. Cannot fail. */
uint8_t tl_range_map_key_type(const struct tl_range_map *m);

/** Boundary @i (< n_ranges - 1), of the key type, borrowed from @m (text
 * bytes included) for @m's lifetime. Cannot fail. */
const struct tl_value *tl_range_map_bound(const struct tl_range_map *m,
                                          size_t i);

#endif
