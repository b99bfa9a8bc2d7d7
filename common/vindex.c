#include "vindex.h"

#include <assert.h>

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
    bool heap = !v->is_null && !tl_type_is_numeric(v->type) &&
                v->type != TL_TYPE_BOOL && v->u.s.len > 20;
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
    if (kind != TL_VINDEX_HASH || n_shards <= 1)
        return 0;
    return tl_vindex_hash_shard(tl_vindex_hash(v), n_shards);
}
