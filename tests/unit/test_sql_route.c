/* Unit tests of WHERE-clause routing: which shards and keys a statement
 * touches (router/plan/route.c through the binder and plan_build). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "router/wire/pgwire.h"
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

/* A table built by CREATE TABLE (ddl.c) with its ring or range map
 * attached as the router's catalog does; free with drop_maps(). */
static struct tl_table *
ddl_table(struct sql_fixture *f, const char *sql, struct tl_ring **ring,
          struct tl_range_map **map)
{
    const PgQuery__Node *n = fixture_parse(f, sql);
    struct tl_table *t;
    assert_int_equal(ddl_build_table(&f->st, n->create_stmt, &t), 0);
    t->id = 1000;
    assert_int_equal(tl_table_vindex_build(t, ring, map, NULL), 0);
    t->ring = *ring;
    t->range_map = *map;
    return t;
}

static void
drop_maps(struct tl_ring *ring, struct tl_range_map *map)
{
    tl_ring_destroy(ring);
    tl_range_map_destroy(map);
}

/* The shards of @p as a bit set (shard s is bit s). */
static unsigned
shard_bits(const struct plan *p)
{
    unsigned bits = 0;
    for (uint32_t i = 0; i < p->n_shards; i++)
        bits |= 1u << p->shards[i];
    return bits;
}

/* consistent_hash: equality and IN go to the ring owners of the keys,
 * INSERT places rows on the same shards, other filters scatter. */
static void
test_consistent_hash_routes_by_ring(void **state)
{
    struct sql_fixture f;
    struct tl_ring *ring;
    struct tl_range_map *map;
    struct plan p;
    fixture_init(&f, N_SHARDS);
    struct tl_table *t = ddl_table(
        &f,
        "CREATE TABLE t (user_id bigint, item text, PRIMARY KEY (user_id, "
        "item)) PARTITION BY HASH (user_id) WITH (vindex = "
        "'consistent_hash')",
        &ring, &map);
    assert_int_equal(t->vindex, TL_VINDEX_CONSISTENT_HASH);
    assert_int_equal(t->ring_shards, N_SHARDS);
    assert_int_equal(t->ring_vnodes, TL_RING_DEFAULT_VNODES);
    assert_non_null(ring);
    assert_null(map);
    bool differs = false, seen[N_SHARDS] = {false};
    struct tl_value row[3] = {tl_value_null(TL_TYPE_INT8),
                              tl_value_text(TL_TYPE_TEXT, "x", 1)};
    for (int64_t v = 0; v < 200; v++) {
        struct tl_value k = tl_value_int(TL_TYPE_INT8, v);
        uint32_t want = tl_ring_shard(ring, &k);
        char *w = tl_arena_printf(&f.a, "user_id = %lld", (long long)v);
        assert_int_equal(fixture_plan(&f, t, w, &p), 0);
        assert_int_equal(p.n_shards, 1);
        assert_int_equal(p.shards[0], want);
        row[0] = k;
        assert_int_equal(route_row_shard(t, row, N_SHARDS), want);
        differs = differs || want != shard_of_int(v, N_SHARDS);
        seen[want] = true;
    }
    assert_true(differs); /* not the hash vindex under another name */
    for (int s = 0; s < N_SHARDS; s++)
        assert_true(seen[s]);
    assert_int_equal(
        fixture_plan(&f, t, "user_id IN (1, 2, 3) AND item = 'x'", &p), 0);
    unsigned want = 0;
    for (int64_t v = 1; v <= 3; v++) {
        struct tl_value k = tl_value_int(TL_TYPE_INT8, v);
        want |= 1u << tl_ring_shard(ring, &k);
    }
    assert_false(p.route.all);
    assert_int_equal(shard_bits(&p), want);
    assert_int_equal(fixture_plan(&f, t, "item = 'x'", &p), 0);
    assert_true(p.route.all);
    assert_false(p.route.pruned);
    drop_maps(ring, map);
    fixture_close(&f);
}

/* range on an integer key: equality, IN, comparisons and BETWEEN keep only
 * the ranges they can match; OR and other columns scatter. */
static void
test_range_prunes_integer_key(void **state)
{
    static const struct {
        const char *where;
        unsigned shards; /* bit set; 0 with all: scatter */
        bool all;
    } cases[] = {
        {"id = 150", 1u << 1, false},
        {"id = 99", 1u << 0, false},
        {"id = 200", 1u << 2, false},
        {"id IN (5, 250)", 1u << 0 | 1u << 2, false},
        {"id >= 150", 1u << 1 | 1u << 2, false},
        {"150 <= id", 1u << 1 | 1u << 2, false},
        {"id > 199", 1u << 2, false},
        {"id < 100", 1u << 0, false},
        {"id <= 100", 1u << 0 | 1u << 1, false},
        {"id BETWEEN 100 AND 199", 1u << 1, false},
        {"id >= 120 AND v = 'x' AND id < 130", 1u << 1, false},
        {"id > 150 AND id < 20", 0, false},
        {"id = '150'", 1u << 1, false},
        {"id >= 150 OR id < 5", 0, true},
        {"v = 'x'", 0, true},
        {"id <> 5", 0, true},
    };
    struct sql_fixture f;
    struct tl_ring *ring;
    struct tl_range_map *map;
    struct plan p;
    fixture_init(&f, N_SHARDS);
    struct tl_table *t = ddl_table(
        &f,
        "CREATE TABLE t (id bigint PRIMARY KEY, v text) PARTITION BY RANGE "
        "(id) WITH (boundaries = '100, 200')",
        &ring, &map);
    assert_int_equal(t->vindex, TL_VINDEX_RANGE);
    assert_int_equal(t->n_range_shards, 3);
    assert_non_null(map);
    assert_int_equal(tl_range_map_n_ranges(map), 3);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(fixture_plan(&f, t, cases[i].where, &p), 0);
        if (cases[i].all) {
            assert_true(p.route.all);
            assert_int_equal(p.n_shards, N_SHARDS);
            continue;
        }
        assert_false(p.route.all);
        assert_int_equal(shard_bits(&p), cases[i].shards);
    }
    assert_int_equal(fixture_plan(&f, t, "id >= 150", &p), 0);
    assert_true(p.route.pruned);
    assert_int_equal(p.route.n_ranges, 3);
    assert_int_equal(p.route.n_kept, 2);
    assert_int_equal(p.route.kept[0], 1);
    assert_int_equal(p.route.n_prune_conj, 1);
    struct tl_value row[2] = {tl_value_int(TL_TYPE_INT8, 0),
                              tl_value_null(TL_TYPE_TEXT)};
    for (int64_t v = -5; v < 300; v += 7) {
        row[0] = tl_value_int(TL_TYPE_INT8, v);
        assert_int_equal(route_row_shard(t, row, N_SHARDS), v < 100   ? 0
                                                            : v < 200 ? 1
                                                                      : 2);
    }
    drop_maps(ring, map);
    fixture_close(&f);
}

/* range on timestamptz: literals and dates are cast to the key type, so a
 * date lands where the equal timestamp's row lives. */
static void
test_range_timestamptz_casts_literals(void **state)
{
    static const struct {
        const char *where;
        unsigned shards;
    } cases[] = {
        {"at = '2026-03-01'", 1u << 1},
        {"at = DATE '2026-07-01'", 1u << 2},
        {"at = '2026-07-01 00:00:00+02'", 1u << 1},
        {"at >= '2026-03-01'", 1u << 1 | 1u << 2},
        {"at < DATE '2026-01-01'", 1u << 0},
        {"at < '2026-01-01 00:00:00.000001'", 1u << 0 | 1u << 1},
        {"at BETWEEN '2026-02-01' AND '2026-06-30'", 1u << 1},
        {"at IN ('2025-05-05', DATE '2027-01-01')", 1u << 0 | 1u << 2},
    };
    struct sql_fixture f;
    struct tl_ring *ring;
    struct tl_range_map *map;
    struct plan p;
    fixture_init(&f, N_SHARDS);
    struct tl_table *t = ddl_table(
        &f,
        "CREATE TABLE t (at timestamptz, id bigint, body text, PRIMARY KEY "
        "(at, id)) PARTITION BY RANGE (at) WITH (boundaries = "
        "'2026-01-01,2026-07-01')",
        &ring, &map);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(fixture_plan(&f, t, cases[i].where, &p), 0);
        assert_false(p.route.all);
        assert_int_equal(shard_bits(&p), cases[i].shards);
    }
    /* A date equal to the key is routed and looked up as the timestamp. */
    assert_int_equal(
        fixture_plan(&f, t, "at = DATE '2026-07-01' AND id = 1", &p), 0);
    assert_true(p.route.point);
    struct plan q;
    struct sql_fixture g;
    fixture_init(&g, N_SHARDS);
    assert_int_equal(
        fixture_plan(&g, t, "at = '2026-07-01 00:00:00+00' AND id = 1", &q), 0);
    assert_int_equal(p.route.key_len, q.route.key_len);
    assert_memory_equal(p.route.key, q.route.key, p.route.key_len);
    fixture_close(&g);
    drop_maps(ring, map);
    fixture_close(&f);
}

/* A quoted literal against a date/time key that is not a date/time fails
 * at bind time with 22007, as in PostgreSQL. */
static void
test_bad_datetime_literal_is_22007(void **state)
{
    struct sql_fixture f;
    struct tl_ring *ring;
    struct tl_range_map *map;
    struct plan p;
    fixture_init(&f, N_SHARDS);
    struct tl_table *t = ddl_table(
        &f,
        "CREATE TABLE t (d date PRIMARY KEY) PARTITION BY RANGE (d) WITH "
        "(boundaries = '2026-01-01')",
        &ring, &map);
    assert_int_not_equal(fixture_plan(&f, t, "d = 'soon'", &p), 0);
    assert_string_equal(f.st.err.sqlstate, "22007");
    drop_maps(ring, map);
    fixture_close(&f);
}

/* A reference table from CREATE TABLE ... WITH (distribution =
 * 'reference'): columns (id int8 PRIMARY KEY, name text). */
static struct tl_table *
reference_table(struct sql_fixture *f)
{
    struct tl_ring *ring;
    struct tl_range_map *map;
    struct tl_table *t = ddl_table(f,
                                   "CREATE TABLE t (id bigint PRIMARY KEY, "
                                   "name text) WITH (distribution = "
                                   "'reference')",
                                   &ring, &map);
    assert_null(ring);
    assert_null(map);
    assert_int_equal(t->distribution, TL_DIST_REFERENCE);
    assert_int_equal(t->shard_key, -1);
    return t;
}

/* A read of a reference table, whatever its filter, is served by exactly
 * one copy: the session's (route_reference_copy of its backend pid). */
static void
test_reference_read_uses_one_copy(void **state)
{
    static const char *const filters[] = {"true", "id = 7", "name = 'x'",
                                          "id IN (1, 2, 3)", "id > 4"};
    struct sql_fixture f;
    struct sql_session s;
    memset(&s, 0, sizeof(s));
    s.backend_pid = 7;
    fixture_init(&f, N_SHARDS);
    f.st.s = &s;
    struct tl_table *t = reference_table(&f);
    uint32_t copy = route_reference_copy(7, N_SHARDS);
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        struct plan p;
        assert_int_equal(fixture_plan(&f, t, filters[i], &p), 0);
        assert_int_equal(p.route.ref, ROUTE_REF_READ);
        assert_int_equal(p.n_shards, 1);
        assert_int_equal(p.shards[0], copy);
        assert_false(p.route.all);
    }
    struct plan p;
    assert_int_equal(fixture_plan(&f, t, "id = 7", &p), 0);
    assert_true(p.route.point);
    assert_int_equal(fixture_plan(&f, t, "id IN (1, 2, 3)", &p), 0);
    assert_int_equal(p.n_shard_ranges[0], 3);
    f.st.s = NULL;
    fixture_close(&f);
}

/* The read copy is stable for a session and spread over the shards
 * across sessions. */
static void
test_reference_copy_spreads_sessions(void **state)
{
    unsigned bits = 0;
    for (uint32_t id = 1; id <= 2 * N_SHARDS; id++) {
        uint32_t c = route_reference_copy(id, N_SHARDS);
        assert_true(c < N_SHARDS);
        assert_int_equal(c, route_reference_copy(id, N_SHARDS));
        bits |= 1u << c;
    }
    assert_int_equal(bits, (1u << N_SHARDS) - 1);
    assert_int_equal(route_reference_copy(5, 1), 0);
}

/* A write (UPDATE, DELETE) of a reference table reaches every copy, each
 * with the same keys; WHERE false still reaches none. */
static void
test_reference_write_reaches_every_copy(void **state)
{
    struct sql_fixture f;
    struct plan p;
    fixture_init(&f, N_SHARDS);
    struct tl_table *t = reference_table(&f);
    assert_int_equal(fixture_plan(&f, t, "name = 'x'", &p), 0);
    plan_every_copy(&f.st, &p);
    assert_int_equal(p.route.ref, ROUTE_REF_WRITE);
    assert_true(p.route.all);
    assert_int_equal(shard_bits(&p), (1u << N_SHARDS) - 1);
    assert_null(p.shard_ranges);

    assert_int_equal(fixture_plan(&f, t, "id = 9", &p), 0);
    plan_every_copy(&f.st, &p);
    assert_int_equal(shard_bits(&p), (1u << N_SHARDS) - 1);
    assert_true(p.route.point);

    assert_int_equal(fixture_plan(&f, t, "id IN (4, 5)", &p), 0);
    plan_every_copy(&f.st, &p);
    assert_int_equal(shard_bits(&p), (1u << N_SHARDS) - 1);
    for (uint32_t i = 0; i < p.n_shards; i++)
        assert_int_equal(p.n_shard_ranges[i], 2);

    assert_int_equal(fixture_plan(&f, t, "false", &p), 0);
    plan_every_copy(&f.st, &p);
    assert_int_equal(p.n_shards, 0);
    fixture_close(&f);
}

/* PARTITION BY and a distribution conflict: 22023 naming both. */
static void
test_reference_with_partition_is_22023(void **state)
{
    struct sql_fixture f;
    struct tl_table *t;
    fixture_init(&f, N_SHARDS);
    const PgQuery__Node *n =
        fixture_parse(&f, "CREATE TABLE t (id bigint PRIMARY KEY) PARTITION "
                          "BY HASH (id) WITH (distribution = 'reference')");
    assert_int_not_equal(ddl_build_table(&f.st, n->create_stmt, &t), 0);
    assert_string_equal(f.st.err.sqlstate, "22023");
    assert_non_null(strstr(f.st.err.message, "PARTITION BY"));
    assert_non_null(strstr(f.st.err.message, "reference"));
    fixture_close(&f);
}

/* A reference table without a primary key gets the hidden rowid key. */
static void
test_reference_without_pk_gets_rowid(void **state)
{
    struct sql_fixture f;
    struct tl_table *t;
    fixture_init(&f, N_SHARDS);
    const PgQuery__Node *n = fixture_parse(
        &f, "CREATE TABLE t (a int, b text) WITH (distribution = 'reference')");
    assert_int_equal(ddl_build_table(&f.st, n->create_stmt, &t), 0);
    assert_int_equal(t->distribution, TL_DIST_REFERENCE);
    assert_int_equal(t->n_pk, 1);
    assert_true(t->columns[t->pk[0]].hidden);
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
        cmocka_unit_test(test_consistent_hash_routes_by_ring),
        cmocka_unit_test(test_range_prunes_integer_key),
        cmocka_unit_test(test_range_timestamptz_casts_literals),
        cmocka_unit_test(test_bad_datetime_literal_is_22007),
        cmocka_unit_test(test_reference_read_uses_one_copy),
        cmocka_unit_test(test_reference_copy_spreads_sessions),
        cmocka_unit_test(test_reference_write_reaches_every_copy),
        cmocka_unit_test(test_reference_with_partition_is_22023),
        cmocka_unit_test(test_reference_without_pk_gets_rowid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
