/* Unit tests for common/vindex.c: the hash vindex. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <string.h>

#include "vindex.h"

/* Known answers, computed independently (FNV-1a 64 of the key encoding,
 * then murmur3 fmix64): if one changes, rows would move shard, so a change
 * here is a data migration, never a refactor. */
static void
test_known_answers(void **state)
{
    static const struct {
        struct tl_value v;
        uint64_t hash;
    } cases[] = {
        {{.type = TL_TYPE_INT8, .u.i = 0}, 0x1a7f88df13fd759cULL},
        {{.type = TL_TYPE_INT8, .u.i = 1}, 0x52882e65743d19c1ULL},
        {{.type = TL_TYPE_INT8, .u.i = -1}, 0xaa9d717bb20d8569ULL},
        {{.type = TL_TYPE_INT4, .u.i = 42}, 0x72271a735017fd1bULL},
        {{.type = TL_TYPE_INT8, .u.i = INT64_MAX}, 0x10a347ead0a70972ULL},
        {{.type = TL_TYPE_TEXT, .u.s = {"hello", 5}}, 0xea52d301a4c24a56ULL},
        {{.type = TL_TYPE_VARCHAR, .u.s = {"", 0}}, 0x7deb9efa76c15eb2ULL},
        {{.type = TL_TYPE_INT8, .is_null = true}, 0x9e1997e507d81f0dULL},
        {{.type = TL_TYPE_BOOL, .u.b = true}, 0x7eb569ab7ec63d39ULL},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_true(tl_vindex_hash(&cases[i].v) == cases[i].hash);
    assert_int_equal(tl_vindex_hash_shard(0x52882e65743d19c1ULL, 16), 5);
    assert_int_equal(tl_vindex_hash_shard(0xea52d301a4c24a56ULL, 3), 2);
}

/* The same integer hashes alike whatever its declared width. */
static void
test_width_independent(void **state)
{
    static const int64_t vals[] = {0, 1, -1, 7, -32768, 32767, 123};
    (void)state;

    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        struct tl_value a = tl_value_int(TL_TYPE_INT2, vals[i]);
        struct tl_value b = tl_value_int(TL_TYPE_INT4, vals[i]);
        struct tl_value c = tl_value_int(TL_TYPE_INT8, vals[i]);
        assert_true(tl_vindex_hash(&a) == tl_vindex_hash(&b));
        assert_true(tl_vindex_hash(&b) == tl_vindex_hash(&c));
    }
    struct tl_value t = tl_value_text(TL_TYPE_TEXT, "abc", 3);
    struct tl_value v = tl_value_text(TL_TYPE_VARCHAR, "abc", 3);
    assert_true(tl_vindex_hash(&t) == tl_vindex_hash(&v));
}

/* 100000 consecutive integers spread within 5% of the mean over 3, 6 and
 * 16 shards. */
static void
test_distribution(void **state)
{
    static const uint32_t shard_counts[] = {3, 6, 16};
    (void)state;

    for (size_t s = 0; s < 3; s++) {
        uint32_t n = shard_counts[s];
        uint32_t count[16] = {0};
        for (int64_t i = 0; i < 100000; i++) {
            struct tl_value v = tl_value_int(TL_TYPE_INT8, i);
            uint32_t shard = tl_vindex_shard(TL_VINDEX_HASH, &v, n);
            assert_true(shard < n);
            count[shard]++;
        }
        double mean = 100000.0 / n;
        for (uint32_t i = 0; i < n; i++) {
            if (count[i] < mean * 0.95 || count[i] > mean * 1.05)
                fail_msg("%u shards: shard %u has %u rows (mean %.0f)", n, i,
                         count[i], mean);
        }
    }
}

/* Shard ranges are contiguous and equal: the extremes map to the first and
 * last shard, and boundaries fall at i * 2^64 / n. */
static void
test_hash_shard_ranges(void **state)
{
    (void)state;
    assert_int_equal(tl_vindex_hash_shard(0, 7), 0);
    assert_int_equal(tl_vindex_hash_shard(UINT64_MAX, 7), 6);
    assert_int_equal(tl_vindex_hash_shard(UINT64_MAX, 1), 0);
    assert_int_equal(tl_vindex_hash_shard(1ULL << 63, 2), 1);
    assert_int_equal(tl_vindex_hash_shard((1ULL << 63) - 1, 2), 0);
    assert_int_equal(tl_vindex_hash_shard(0x4000000000000000ULL, 4), 1);
    assert_int_equal(tl_vindex_hash_shard(0x3fffffffffffffffULL, 4), 0);
    /* Splitting shard i of n into two halves gives shards 2i and 2i+1. */
    for (uint64_t h = 1; h < UINT64_MAX / 3; h *= 3)
        assert_int_equal(tl_vindex_hash_shard(h, 8) / 2,
                         tl_vindex_hash_shard(h, 4));
}

/* Unsharded tables live on shard 0; long text keys hash without trouble. */
static void
test_shard_kinds(void **state)
{
    char big[1000];
    (void)state;

    memset(big, 'x', sizeof(big));
    big[500] = '\0';
    struct tl_value v = tl_value_int(TL_TYPE_INT8, 1);
    assert_int_equal(tl_vindex_shard(TL_VINDEX_NONE, &v, 16), 0);
    assert_int_equal(tl_vindex_shard(TL_VINDEX_HASH, &v, 16), 5);
    assert_int_equal(tl_vindex_shard(TL_VINDEX_HASH, &v, 1), 0);
    struct tl_value t1 = tl_value_text(TL_TYPE_TEXT, big, sizeof(big));
    struct tl_value t2 = tl_value_text(TL_TYPE_TEXT, big, sizeof(big) - 1);
    assert_true(tl_vindex_hash(&t1) != tl_vindex_hash(&t2));
    assert_true(tl_vindex_hash(&t1) == tl_vindex_hash(&t1));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_width_independent),
        cmocka_unit_test(test_distribution),
        cmocka_unit_test(test_hash_shard_ranges),
        cmocka_unit_test(test_shard_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
