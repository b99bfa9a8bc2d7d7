/* Unit tests of WHERE-clause routing: which shards and keys a statement
 * touches (router/route.c through the binder and plan_build). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "sql_test_util.h"

#define N_SHARDS 6

static struct tl_table *
sharded(struct sql_fixture *f)
{
    static const uint32_t pk[] = {0};
    return fixture_table(f, pk, 1, 0);
}

/* shard_key = const routes to the one shard the vindex names, as a point. */
static void
test_eq_shard_key_single_shard(void **state)
{
    struct sql_fixture f;
    struct plan p;
    fixture_init(&f, N_SHARDS);
    assert_int_equal(fixture_plan(&f, sharded(&f), "id = 42", &p), 0);
    assert_int_equal(p.n_shards, 1);
    assert_int_equal(p.shards[0], shard_of_int(42, N_SHARDS));
    assert_true(p.route.point);
    fixture_close(&f);
}

/* A quoted literal compared with the key is cast and routes the same. */
static void
test_quoted_literal_routes_like_number(void **state)
{
    struct sql_fixture f;
    struct plan p;
    fixture_init(&f, N_SHARDS);
    assert_int_equal(fixture_plan(&f, sharded(&f), "'42' = id", &p), 0);
    assert_int_equal(p.n_shards, 1);
    assert_int_equal(p.shards[0], shard_of_int(42, N_SHARDS));
    fixture_close(&f);
}

/* shard_key IN (...) targets the distinct shards of the values, sorted,
 * each scanning only its own keys. */
static void
test_in_list_targets_value_shards(void **state)
{
    struct sql_fixture f;
    struct plan p;
    fixture_init(&f, N_SHARDS);
    assert_int_equal(
        fixture_plan(&f, sharded(&f), "id IN (1, 2, 3, 2, NULL)", &p), 0);
    bool want[N_SHARDS] = {0};
    want[shard_of_int(1, N_SHARDS)] = true;
    want[shard_of_int(2, N_SHARDS)] = true;
    want[shard_of_int(3, N_SHARDS)] = true;
    uint32_t n_want = 0;
    for (int i = 0; i < N_SHARDS; i++)
        n_want += want[i];
    assert_int_equal(p.n_shards, n_want);
    size_t keys = 0;
    for (uint32_t i = 0; i < p.n_shards; i++) {
        assert_true(want[p.shards[i]]);
        if (i > 0)
            assert_true(p.shards[i] > p.shards[i - 1]);
        keys += p.n_shard_ranges[i];
    }
    assert_int_equal(p.route.n_points, 3);
    assert_int_equal(keys, 3);
    fixture_close(&f);
}

/* The key equality inside a larger AND still routes; OR scatters. */
static void
test_and_routes_or_scatters(void **state)
{
    struct sql_fixture f;
    struct plan p;
    fixture_init(&f, N_SHARDS);
    assert_int_equal(
        fixture_plan(&f, sharded(&f), "k > 3 AND id = 7 AND name = 'x'", &p),
        0);
    assert_int_equal(p.n_shards, 1);
    assert_int_equal(p.shards[0], shard_of_int(7, N_SHARDS));
    assert_int_equal(fixture_plan(&f, sharded(&f), "id = 7 OR id = 8", &p), 0);
    assert_true(p.route.all);
    assert_int_equal(p.n_shards, N_SHARDS);
    assert_false(p.route.point);
    fixture_close(&f);
}

/* A filter on a non-key column, or none, scans every shard's full range. */
static void
test_non_key_filter_scatters(void **state)
{
    struct sql_fixture f;
    struct plan p;
    fixture_init(&f, N_SHARDS);
    assert_int_equal(fixture_plan(&f, sharded(&f), "k = 5", &p), 0);
    assert_int_equal(p.n_shards, N_SHARDS);
    for (uint32_t i = 0; i < N_SHARDS; i++)
        assert_int_equal(p.shards[i], i);
    assert_false(p.route.point);
    fixture_close(&f);
}

/* An unsharded table always lives on shard 0. */
static void
test_unsharded_is_shard_zero(void **state)
{
    static const uint32_t pk[] = {0};
    struct sql_fixture f;
    struct plan p;
    fixture_init(&f, N_SHARDS);
    struct tl_table *t = fixture_table(&f, pk, 1, -1);
    assert_int_equal(fixture_plan(&f, t, "k = 5", &p), 0);
    assert_int_equal(p.n_shards, 1);
    assert_int_equal(p.shards[0], 0);
    fixture_close(&f);
}

/* A composite key is a point only when every key column is fixed. */
static void
test_composite_key_point_needs_all_columns(void **state)
{
    static const uint32_t pk[] = {0, 2};
    struct sql_fixture f;
    struct plan p;
    fixture_init(&f, N_SHARDS);
    struct tl_table *t = fixture_table(&f, pk, 2, 0);
    assert_int_equal(fixture_plan(&f, t, "id = 1 AND k = 2", &p), 0);
    assert_true(p.route.point);
    assert_int_equal(p.n_shards, 1);
    assert_int_equal(fixture_plan(&f, t, "id = 1", &p), 0);
    assert_false(p.route.point);
    assert_int_equal(p.n_shards, 1);
    fixture_close(&f);
}

/* Comparing an integer key with a fractional number cannot use the key
 * encoding, so it scatters instead of routing wrongly. */
static void
test_float_constant_on_int_key_scatters(void **state)
{
    struct sql_fixture f;
    struct plan p;
    fixture_init(&f, N_SHARDS);
    assert_int_equal(fixture_plan(&f, sharded(&f), "id = 5.5", &p), 0);
    assert_true(p.route.all);
    assert_false(p.route.point);
    fixture_close(&f);
}

/* route_row_shard agrees with routing by equality for INSERT. */
static void
test_row_shard_matches_equality_route(void **state)
{
    struct sql_fixture f;
    fixture_init(&f, N_SHARDS);
    struct tl_table *t = sharded(&f);
    struct tl_value row[5];
    for (int i = 0; i < 5; i++)
        row[i] = tl_value_null(t->columns[i].type);
    for (int64_t v = 0; v < 50; v++) {
        row[0] = tl_value_int(TL_TYPE_INT8, v);
        assert_int_equal(route_row_shard(t, row, N_SHARDS),
                         shard_of_int(v, N_SHARDS));
    }
    fixture_close(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eq_shard_key_single_shard),
        cmocka_unit_test(test_quoted_literal_routes_like_number),
        cmocka_unit_test(test_in_list_targets_value_shards),
        cmocka_unit_test(test_and_routes_or_scatters),
        cmocka_unit_test(test_non_key_filter_scatters),
        cmocka_unit_test(test_unsharded_is_shard_zero),
        cmocka_unit_test(test_composite_key_point_needs_all_columns),
        cmocka_unit_test(test_float_constant_on_int_key_scatters),
        cmocka_unit_test(test_row_shard_matches_equality_route),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
