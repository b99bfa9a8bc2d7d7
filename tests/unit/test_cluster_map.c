/* Unit tests for common/cluster_map.c: hash ranges, lookups and the
 * ClusterMap -> configuration conversion (the registry's keys and rows:
 * test_meta_keys.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_map.h"
#include "common/meta/meta_keys.h"
#include "row.h"
#include "vindex.h"

/* Hash ranges are contiguous, cover the whole hash space and agree with
 * tl_vindex_hash_shard at both ends of every range. */
static void
test_hash_ranges(void **state)
{
    static const uint32_t ns[] = {1, 2, 3, 6, 7, 1000, 1023};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        uint32_t n = ns[i];
        uint64_t prev_hi = 0;
        for (uint32_t s = 0; s < n; s++) {
            uint64_t lo, hi;
            tl_cluster_map_hash_range(s, n, &lo, &hi);
            if (s == 0)
                assert_true(lo == 0);
            else
                assert_true(lo == prev_hi + 1);
            assert_true(lo <= hi);
            assert_int_equal(tl_vindex_hash_shard(lo, n), s);
            assert_int_equal(tl_vindex_hash_shard(hi, n), s);
            prev_hi = hi;
        }
        assert_true(prev_hi == UINT64_MAX);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
