/* route_co_located(): two sharded tables are co-located exactly when they
 * use the same vindex with identical parameters (a join of them on their
 * shard keys then runs on the shards). The SQL DDL gives every
 * consistent_hash table the same ring, so rings that differ are only
 * reachable through the catalog; they are checked here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "sql_test_util.h"

static struct tl_table *
table(struct sql_fixture *f, uint32_t vindex)
{
    static const uint32_t pk[] = {0};
    struct tl_table *t = fixture_table(f, pk, 1, 0);
    t->vindex = vindex;
    return t;
}

/* Hash tables are always co-located; unsharded, reference and mixed
 * vindexes never. */
static void
test_hash_and_kinds(void **state)
{
    struct sql_fixture f;
    (void)state;
    fixture_init(&f, 6);
    struct tl_table *a = table(&f, TL_VINDEX_HASH);
    struct tl_table *b = table(&f, TL_VINDEX_HASH);
    assert_true(route_co_located(a, b));
    struct tl_table *c = table(&f, TL_VINDEX_CONSISTENT_HASH);
    c->ring_shards = 6;
    assert_false(route_co_located(a, c));
    struct tl_table *u = fixture_table(&f, (const uint32_t[]){0}, 1, -1);
    assert_false(route_co_located(u, u));
    assert_false(route_co_located(a, u));
    struct tl_table *r = table(&f, TL_VINDEX_HASH);
    r->distribution = TL_DIST_REFERENCE;
    assert_false(route_co_located(a, r));
    fixture_close(&f);
}

/* consistent_hash: the same virtual nodes (0 is the default) and ring. */
static void
test_consistent_hash_rings(void **state)
{
    struct sql_fixture f;
    (void)state;
    fixture_init(&f, 6);
    struct tl_table *a = table(&f, TL_VINDEX_CONSISTENT_HASH);
    struct tl_table *b = table(&f, TL_VINDEX_CONSISTENT_HASH);
    a->ring_shards = b->ring_shards = 6;
    a->ring_vnodes = TL_RING_DEFAULT_VNODES;
    b->ring_vnodes = 0;
    assert_true(route_co_located(a, b));
    b->ring_vnodes = 32;
    assert_false(route_co_located(a, b));
    b->ring_vnodes = TL_RING_DEFAULT_VNODES;
    b->ring_shards = 4;
    assert_false(route_co_located(a, b));
    fixture_close(&f);
}

/* range: byte-identical boundaries and the same shard of each range. */
static void
test_range_maps(void **state)
{
    struct sql_fixture f;
    (void)state;
    fixture_init(&f, 6);
    struct tl_table *a = table(&f, TL_VINDEX_RANGE);
    struct tl_table *b = table(&f, TL_VINDEX_RANGE);
    uint8_t ba[] = {1, 2, 3}, bb[] = {1, 2, 3}, bc[] = {1, 2, 4};
    uint32_t sa[] = {0, 1}, sb[] = {0, 1}, sc[] = {1, 0};
    a->range_bounds = ba;
    a->range_bounds_len = sizeof(ba);
    a->range_shards = sa;
    a->n_range_shards = 2;
    b->range_bounds = bb;
    b->range_bounds_len = sizeof(bb);
    b->range_shards = sb;
    b->n_range_shards = 2;
    assert_true(route_co_located(a, b));
    b->range_shards = sc;
    assert_false(route_co_located(a, b));
    b->range_shards = sb;
    b->range_bounds = bc;
    assert_false(route_co_located(a, b));
    b->range_bounds_len = 2;
    assert_false(route_co_located(a, b));
    fixture_close(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_and_kinds),
        cmocka_unit_test(test_consistent_hash_rings),
        cmocka_unit_test(test_range_maps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
