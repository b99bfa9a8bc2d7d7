/* vindex — the functions from a row's shard key to its shard.
 *
 * The hash vindex hashes the key's memcomparable encoding (so 5::int2 and
 * 5::int8 land on the same shard) to 64 bits, and shard i of n owns the
 * contiguous hash range [i * 2^64 / n, (i + 1) * 2^64 / n). Splitting a
 * shard halves its range. */
#ifndef TL_VINDEX_H
#define TL_VINDEX_H

#include <stdint.h>

#include "value.h"

/* Stored in catalogs: never renumber. */
enum tl_vindex_kind {
    TL_VINDEX_NONE = 0, /* unsharded: the table lives on shard 0 */
    TL_VINDEX_HASH = 1,
};

/** 64-bit hash of @v's key encoding: well mixed (every input bit affects
 * every output bit), stable across releases. Cannot fail. */
uint64_t tl_vindex_hash(const struct tl_value *v);

/** Shard owning @hash when @n_shards (> 0) shards split the hash space
 * into equal contiguous ranges. Cannot fail. */
uint32_t tl_vindex_hash_shard(uint64_t hash, uint32_t n_shards);

/** Shard of a row whose shard-key value is @v, for @kind. Cannot fail. */
uint32_t tl_vindex_shard(uint32_t kind, const struct tl_value *v,
                         uint32_t n_shards);

#endif
