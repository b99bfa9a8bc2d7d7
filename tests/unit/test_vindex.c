/* Unit tests for common/vindex.c: the hash, consistent_hash and range
 * vindexes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "vindex.h"

#define N_KEYS 100000

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
        /* character(n) hashes without its padding: as text "hello". */
        {{.type = TL_TYPE_BPCHAR, .u.s = {"hello   ", 8}},
         0xea52d301a4c24a56ULL},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_true(tl_vindex_hash(&cases[i].v) == cases[i].hash);
    assert_int_equal(tl_vindex_hash_shard(0x52882e65743d19c1ULL, 16), 5);
    assert_int_equal(tl_vindex_hash_shard(0xea52d301a4c24a56ULL, 3), 2);
}

/* The same integer hashes alike whatever its declared width, and so do
 * text, varchar and character(n) of the same unpadded text, and a real
 * and a double of the same value. */
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
    /* character(n) values equal without trailing spaces hash alike. */
    struct tl_value c3 = tl_value_text(TL_TYPE_BPCHAR, "abc", 3);
    struct tl_value c6 = tl_value_text(TL_TYPE_BPCHAR, "abc   ", 6);
    assert_true(tl_vindex_hash(&c3) == tl_vindex_hash(&c6));
    assert_true(tl_vindex_hash(&c6) == tl_vindex_hash(&t));
    assert_int_equal(tl_vindex_shard(TL_VINDEX_HASH, &c3, 16),
                     tl_vindex_shard(TL_VINDEX_HASH, &c6, 16));
    /* A real hashes as the equal double; -0 as 0, NaNs alike. */
    struct tl_value r = tl_value_float4(1.5f), d = tl_value_float(1.5);
    assert_true(tl_vindex_hash(&r) == tl_vindex_hash(&d));
    r = tl_value_float4(-0.0f);
    d = tl_value_float(0.0);
    assert_true(tl_vindex_hash(&r) == tl_vindex_hash(&d));
    r = tl_value_float4(NAN);
    d = tl_value_float(-NAN);
    assert_true(tl_vindex_hash(&r) == tl_vindex_hash(&d));
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

/* ---------------------------------------------------- consistent hash */

static struct tl_ring *
make_ring(const uint32_t *shards, size_t n, uint32_t vnodes)
{
    struct tl_ring *r = NULL;
    assert_int_equal(tl_ring_create(shards, n, vnodes, &r), 0);
    assert_non_null(r);
    return r;
}

/* Ring answers computed independently (a Python model: point of (s, i) =
 * fmix64(FNV-1a-64(s BE32 | i BE32)), first point >= hash, wrapping): if
 * one changes, rows move shard, so a change here is a data migration. */
static void
test_ring_known_answers(void **state)
{
    static const uint32_t s4[] = {0, 1, 2, 3};
    static const uint32_t want4[16] = {1, 3, 2, 0, 1, 2, 2, 3,
                                       1, 2, 2, 1, 1, 3, 3, 1};
    static const uint32_t s3[] = {30, 10, 20};
    static const uint32_t want3[16] = {10, 10, 20, 30, 30, 30, 10, 30,
                                       30, 30, 20, 20, 30, 20, 30, 30};
    (void)state;

    struct tl_ring *r = make_ring(s4, 4, 0);
    assert_int_equal(tl_ring_n_points(r), 4 * TL_RING_DEFAULT_VNODES);
    for (int64_t i = 0; i < 16; i++) {
        struct tl_value v = tl_value_int(TL_TYPE_INT8, i);
        assert_int_equal(tl_ring_shard(r, &v), want4[i]);
    }
    /* The first point is shard 2's at 0x01270533f91976de, the last shard
     * 3's at 0xff475dc81f451010: hashes past the last wrap to the first. */
    assert_int_equal(tl_ring_lookup(r, 0), 2);
    assert_int_equal(tl_ring_lookup(r, 0x01270533f91976deULL), 2);
    assert_int_equal(tl_ring_lookup(r, 0xff475dc81f451010ULL), 3);
    assert_int_equal(tl_ring_lookup(r, 0xff475dc81f451011ULL), 2);
    assert_int_equal(tl_ring_lookup(r, UINT64_MAX), 2);
    tl_ring_destroy(r);

    r = make_ring(s3, 3, 16);
    assert_int_equal(tl_ring_n_points(r), 48);
    for (int64_t i = 0; i < 16; i++) {
        struct tl_value v = tl_value_int(TL_TYPE_INT4, i);
        assert_int_equal(tl_ring_shard(r, &v), want3[i]);
    }
    tl_ring_destroy(r);
}

/* The ring depends on the set of shards, not the order they are listed. */
static void
test_ring_order_independent(void **state)
{
    static const uint32_t a[] = {4, 9, 1, 7, 3};
    static const uint32_t b[] = {7, 3, 9, 4, 1};
    (void)state;

    struct tl_ring *ra = make_ring(a, 5, 32), *rb = make_ring(b, 5, 32);
    for (int64_t i = 0; i < 10000; i++) {
        struct tl_value v = tl_value_int(TL_TYPE_INT8, i * 7919);
        assert_int_equal(tl_ring_shard(ra, &v), tl_ring_shard(rb, &v));
    }
    tl_ring_destroy(ra);
    tl_ring_destroy(rb);
}

/* 100,000 keys over 8 shards with 64 virtual nodes each land within 20%
 * of the mean on every shard. */
static void
test_ring_distribution(void **state)
{
    static const uint32_t shards[] = {0, 1, 2, 3, 4, 5, 6, 7};
    uint32_t count[8] = {0};
    double mean = N_KEYS / 8.0, lo = 1e9, hi = 0;
    (void)state;

    struct tl_ring *r = make_ring(shards, 8, 64);
    for (int64_t i = 0; i < N_KEYS; i++) {
        struct tl_value v = tl_value_int(TL_TYPE_INT8, i);
        uint32_t s = tl_ring_shard(r, &v);
        assert_true(s < 8);
        count[s]++;
    }
    for (int i = 0; i < 8; i++) {
        lo = count[i] < lo ? count[i] : lo;
        hi = count[i] > hi ? count[i] : hi;
        if (count[i] < mean * 0.8 || count[i] > mean * 1.2)
            fail_msg("shard %d has %u keys (mean %.0f)", i, count[i], mean);
    }
    print_message("ring 8 shards x 64 vnodes: min %+.1f%% max %+.1f%% of "
                  "mean\n",
                  (lo / mean - 1) * 100, (hi / mean - 1) * 100);
    tl_ring_destroy(r);
}

/* Adding shard N to N shards moves between 0.5/(N+1) and 1.5/(N+1) of
 * 100,000 keys, every moved key to the new shard; removing a shard moves
 * exactly that shard's keys and nothing else. */
static void
test_ring_add_remove(void **state)
{
    static const uint32_t sizes[] = {1, 2, 3, 4, 7, 8, 16};
    uint32_t shards[17];
    uint32_t *before = malloc(N_KEYS * sizeof(*before));
    (void)state;

    assert_non_null(before);
    for (uint32_t i = 0; i < 17; i++)
        shards[i] = 100 + i * 3; /* arbitrary, non-contiguous ids */
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        uint32_t n = sizes[k];
        struct tl_ring *small = make_ring(shards, n, 64);
        struct tl_ring *big = make_ring(shards, n + 1, 64);
        size_t moved = 0, owned_by_new = 0;

        for (int64_t i = 0; i < N_KEYS; i++) {
            struct tl_value v = tl_value_int(TL_TYPE_INT8, i);
            uint32_t a = tl_ring_shard(small, &v), b = tl_ring_shard(big, &v);
            before[i] = a;
            if (a != b) {
                moved++;
                assert_int_equal(b, shards[n]); /* only to the new shard */
            }
            if (b == shards[n])
                owned_by_new++;
        }
        double frac = (double)moved / N_KEYS, expect = 1.0 / (n + 1);
        print_message("ring %u -> %u shards: %.4f of keys moved (1/(N+1) = "
                      "%.4f)\n",
                      n, n + 1, frac, expect);
        if (frac < 0.5 * expect || frac > 1.5 * expect)
            fail_msg("%u -> %u shards moved %.4f of keys", n, n + 1, frac);
        assert_int_equal(moved, owned_by_new);

        /* Removing the new shard again restores every key's old owner; and
         * removing shard 0 from the big ring moves only shard 0's keys. */
        if (n >= 2) {
            struct tl_ring *minus0 = make_ring(shards + 1, n, 64);
            for (int64_t i = 0; i < N_KEYS; i++) {
                struct tl_value v = tl_value_int(TL_TYPE_INT8, i);
                uint32_t b = tl_ring_shard(big, &v);
                uint32_t c = tl_ring_shard(minus0, &v);
                assert_int_equal(tl_ring_shard(small, &v), before[i]);
                if (b != shards[0])
                    assert_int_equal(c, b);
                else
                    assert_int_not_equal(c, shards[0]);
            }
            tl_ring_destroy(minus0);
        }
        tl_ring_destroy(small);
        tl_ring_destroy(big);
    }
    free(before);
}

/* An empty shard list or a repeated shard id is refused and *out stays
 * untouched; one shard owns everything. */
static void
test_ring_errors(void **state)
{
    static const uint32_t dup[] = {1, 2, 1};
    static const uint32_t one[] = {42};
    struct tl_ring *r = (struct tl_ring *)&r;
    (void)state;

    assert_int_equal(tl_ring_create(one, 0, 64, &r), TL_EINVAL);
    assert_int_equal(tl_ring_create(dup, 3, 64, &r), TL_EINVAL);
    assert_ptr_equal(r, (struct tl_ring *)&r);
    assert_int_equal(tl_ring_create(dup, 2, TL_RING_MAX_POINTS / 2 + 1, &r),
                     TL_EINVAL);
    assert_ptr_equal(r, (struct tl_ring *)&r);
    assert_int_equal(tl_ring_create(one, 1, 4096, &r), 0);
    assert_int_equal(tl_ring_n_points(r), 4096);
    tl_ring_destroy(r);
    r = make_ring(one, 1, 1);
    assert_int_equal(tl_ring_lookup(r, 0), 42);
    assert_int_equal(tl_ring_lookup(r, UINT64_MAX), 42);
    tl_ring_destroy(r);
    tl_ring_destroy(NULL);
}

/* -------------------------------------------------------------- range */

static struct tl_range_map *
make_map(uint8_t key_type, const struct tl_value *bounds, size_t n,
         const uint32_t *shards)
{
    struct tl_range_map *m = NULL;
    struct tl_error err;
    tl_error_clear(&err);
    if (tl_range_map_create(key_type, bounds, n, shards, &m, &err) != 0)
        fail_msg("range map: %s %s", err.sqlstate, err.message);
    return m;
}

/* Integer keys at, just below and just above every boundary go to the
 * range the boundary opens; the extremes go to the open end ranges and a
 * NULL key to the first range. */
static void
test_range_int_lookup(void **state)
{
    static const int64_t b[] = {-100, 0, 100, 200};
    static const uint32_t shards[] = {5, 6, 7, 8, 9};
    struct tl_value bounds[4];
    (void)state;

    for (int i = 0; i < 4; i++)
        bounds[i] = tl_value_int(i % 2 ? TL_TYPE_INT4 : TL_TYPE_INT8, b[i]);
    struct tl_range_map *m = make_map(TL_TYPE_INT8, bounds, 4, shards);
    assert_int_equal(tl_range_map_n_ranges(m), 5);
    assert_int_equal(tl_range_map_max_shard(m), 9);
    assert_int_equal(tl_range_map_key_type(m), TL_TYPE_INT8);
    for (int i = 0; i < 4; i++) {
        struct tl_value below = tl_value_int(TL_TYPE_INT8, b[i] - 1);
        struct tl_value at = tl_value_int(TL_TYPE_INT2, b[i]);
        struct tl_value above = tl_value_int(TL_TYPE_INT4, b[i] + 1);
        assert_int_equal(tl_range_map_lookup(m, &below), shards[i]);
        assert_int_equal(tl_range_map_lookup(m, &at), shards[i + 1]);
        assert_int_equal(tl_range_map_lookup(m, &above), shards[i + 1]);
        assert_int_equal(tl_range_map_range(m, &at), (size_t)i + 1);
        assert_int_equal(tl_range_map_bound(m, (size_t)i)->type, TL_TYPE_INT8);
        assert_true(tl_range_map_bound(m, (size_t)i)->u.i == b[i]);
    }
    struct tl_value v = tl_value_int(TL_TYPE_INT8, INT64_MIN);
    assert_int_equal(tl_range_map_lookup(m, &v), 5);
    v = tl_value_int(TL_TYPE_INT8, INT64_MAX);
    assert_int_equal(tl_range_map_lookup(m, &v), 9);
    v = tl_value_float(99.5);
    assert_int_equal(tl_range_map_lookup(m, &v), 7);
    v = tl_value_null(TL_TYPE_INT8);
    assert_int_equal(tl_range_map_lookup(m, &v), 5);
    tl_range_map_destroy(m);

    /* No boundaries: one range owning everything. */
    m = make_map(TL_TYPE_INT4, NULL, 0, shards + 2);
    v = tl_value_int(TL_TYPE_INT4, 123);
    assert_int_equal(tl_range_map_lookup(m, &v), 7);
    assert_int_equal(tl_range_map_n_ranges(m), 1);
    tl_range_map_destroy(m);
    tl_range_map_destroy(NULL);
}

/* Text boundaries are copied into the map (the caller's buffer can change
 * afterwards) and compare bytewise, shorter first. */
static void
test_range_text_lookup(void **state)
{
    char buf[] = "gnt";
    static const uint32_t shards[] = {0, 1, 2, 0};
    static const struct {
        const char *s;
        uint32_t len;
        uint32_t shard;
    } cases[] = {{"", 0, 0},  {"a", 1, 0},       {"f\xff", 2, 0},
                 {"g", 1, 1}, {"g\0", 2, 1},     {"mzzz", 4, 1},
                 {"n", 1, 2}, {"szz", 3, 2},     {"t", 1, 0},
                 {"~", 1, 0}, {"\xff\xff", 2, 0}};
    struct tl_value bounds[3];
    (void)state;

    for (int i = 0; i < 3; i++)
        bounds[i] = tl_value_text(TL_TYPE_VARCHAR, buf + i, 1);
    struct tl_range_map *m = make_map(TL_TYPE_TEXT, bounds, 3, shards);
    memset(buf, 'z', 3);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tl_value v =
            tl_value_text(TL_TYPE_TEXT, cases[i].s, cases[i].len);
        assert_int_equal(tl_range_map_lookup(m, &v), cases[i].shard);
    }
    assert_int_equal(tl_range_map_bound(m, 1)->type, TL_TYPE_TEXT);
    assert_memory_equal(tl_range_map_bound(m, 1)->u.s.p, "n", 1);
    tl_range_map_destroy(m);
}

/* A timestamptz key takes boundaries given as untyped literals and dates,
 * and dates and timestamps look up by instant (a date at its midnight). */
static void
test_range_timestamptz_lookup(void **state)
{
    static const uint32_t shards[] = {1, 2, 3};
    struct tl_value bounds[2] = {
        tl_value_text(TL_TYPE_UNKNOWN, "2024-01-01", 10),
        tl_value_int(TL_TYPE_DATE, 8766 + 182), /* 2024-07-01 */
    };
    struct tl_value v;
    struct tl_error err;
    (void)state;

    struct tl_range_map *m = make_map(TL_TYPE_TIMESTAMPTZ, bounds, 2, shards);
    assert_int_equal(tl_range_map_bound(m, 0)->type, TL_TYPE_TIMESTAMPTZ);
    assert_int_equal(tl_value_from_text(TL_TYPE_TIMESTAMPTZ, -1,
                                        "2023-12-31 23:59:59.999999", 26, NULL,
                                        &v, &err),
                     0);
    assert_int_equal(tl_range_map_lookup(m, &v), 1);
    v.u.i += 1;
    assert_int_equal(tl_range_map_lookup(m, &v), 2);
    v = tl_value_int(TL_TYPE_DATE, 8766);
    assert_int_equal(tl_range_map_lookup(m, &v), 2);
    v = tl_value_int(TL_TYPE_DATE, 8765);
    assert_int_equal(tl_range_map_lookup(m, &v), 1);
    assert_int_equal(tl_value_from_text(TL_TYPE_TIMESTAMP, -1,
                                        "2024-07-01 00:00", 16, NULL, &v, &err),
                     0);
    assert_int_equal(tl_range_map_lookup(m, &v), 3);
    v = tl_value_int(TL_TYPE_TIMESTAMPTZ, INT64_MAX); /* infinity */
    assert_int_equal(tl_range_map_lookup(m, &v), 3);
    v = tl_value_int(TL_TYPE_TIMESTAMPTZ, INT64_MIN); /* -infinity */
    assert_int_equal(tl_range_map_lookup(m, &v), 1);
    tl_range_map_destroy(m);
}

/* Expect tl_range_map_create to fail with @rv, @state and @msg, leaving
 * *out untouched. */
static void
expect_map_error(uint8_t key_type, const struct tl_value *bounds, size_t n,
                 int rv, const char *state, const char *msg, const char *detail)
{
    static const uint32_t shards[8] = {0};
    struct tl_range_map *m = (struct tl_range_map *)&m;
    struct tl_error err;

    tl_error_clear(&err);
    assert_int_equal(tl_range_map_create(key_type, bounds, n, shards, &m, &err),
                     rv);
    assert_ptr_equal(m, (struct tl_range_map *)&m);
    assert_string_equal(err.sqlstate, state);
    assert_string_equal(err.message, msg);
    if (detail != NULL)
        assert_string_equal(err.detail, detail);
}

/* Unsorted, duplicate, NULL and uncastable boundaries and unsupported key
 * types are refused with a message naming the offending boundary. */
static void
test_range_errors(void **state)
{
    (void)state;
    struct tl_value b1[] = {tl_value_int(TL_TYPE_INT4, 10),
                            tl_value_int(TL_TYPE_INT4, 200),
                            tl_value_int(TL_TYPE_INT4, 100)};
    expect_map_error(TL_TYPE_INT4, b1, 3, TL_EINVAL, "22023",
                     "range boundaries must be strictly increasing: 100 "
                     "follows 200",
                     NULL);
    struct tl_value b2[] = {tl_value_int(TL_TYPE_INT8, 100),
                            tl_value_text(TL_TYPE_UNKNOWN, "100", 3)};
    expect_map_error(TL_TYPE_INT8, b2, 2, TL_EINVAL, "22023",
                     "range boundaries must be strictly increasing: 100 "
                     "follows 100",
                     NULL);
    struct tl_value b3[] = {tl_value_text(TL_TYPE_TEXT, "b", 1),
                            tl_value_text(TL_TYPE_TEXT, "a", 1)};
    expect_map_error(TL_TYPE_TEXT, b3, 2, TL_EINVAL, "22023",
                     "range boundaries must be strictly increasing: a "
                     "follows b",
                     NULL);
    struct tl_value b4[] = {tl_value_text(TL_TYPE_UNKNOWN, "2024-02-01", 10),
                            tl_value_text(TL_TYPE_UNKNOWN, "2024-01-31", 10)};
    expect_map_error(TL_TYPE_DATE, b4, 2, TL_EINVAL, "22023",
                     "range boundaries must be strictly increasing: "
                     "2024-01-31 follows 2024-02-01",
                     NULL);
    struct tl_value b5[] = {tl_value_int(TL_TYPE_INT4, 1),
                            tl_value_null(TL_TYPE_INT4)};
    expect_map_error(TL_TYPE_INT4, b5, 2, TL_EINVAL, "22023",
                     "range boundary 2 is NULL", NULL);
    struct tl_value b6[] = {tl_value_text(TL_TYPE_TEXT, "abc", 3)};
    expect_map_error(TL_TYPE_INT4, b6, 1, TL_ETYPE, "22P02",
                     "invalid range boundary for type integer: \"abc\"",
                     "invalid input syntax for type integer: \"abc\"");
    struct tl_value b7[] = {tl_value_int(TL_TYPE_INT8, 5000000000)};
    expect_map_error(TL_TYPE_INT4, b7, 1, TL_ETYPE, "22P02",
                     "invalid range boundary for type integer: "
                     "\"5000000000\"",
                     "integer out of range");
    struct tl_value b8[] = {tl_value_int(TL_TYPE_INT4, 5)};
    expect_map_error(TL_TYPE_DATE, b8, 1, TL_ETYPE, "22P02",
                     "invalid range boundary for type date: \"5\"",
                     "cannot cast type integer to date");
    expect_map_error(TL_TYPE_BOOL, NULL, 0, TL_EUNSUPPORTED, "0A000",
                     "range vindex does not support key type boolean", NULL);
    expect_map_error(TL_TYPE_FLOAT8, NULL, 0, TL_EUNSUPPORTED, "0A000",
                     "range vindex does not support key type double "
                     "precision",
                     NULL);
}

/* Brute-force shard set for `x op v` over integer keys: range i is hit when
 * some integer x in [lo_i, hi_i] satisfies it. */
static void
brute_int(const int64_t *b, size_t n, const uint32_t *shards, int op, int64_t v,
          bool *hit)
{
    for (size_t i = 0; i <= n; i++) {
        int64_t lo = i == 0 ? INT64_MIN : b[i - 1];
        int64_t hi = i == n ? INT64_MAX : b[i] - 1;
        bool any = false;
        switch (op) {
        case TL_OP_EQ:
            any = lo <= v && v <= hi;
            break;
        case TL_OP_LT:
            any = lo < v;
            break;
        case TL_OP_LE:
            any = lo <= v;
            break;
        case TL_OP_GT:
            any = hi > v;
            break;
        case TL_OP_GE:
            any = hi >= v;
            break;
        }
        if (any)
            hit[shards[i]] = true;
    }
}

static bool
op_holds(int op, int c)
{
    switch (op) {
    case TL_OP_EQ:
        return c == 0;
    case TL_OP_LT:
        return c < 0;
    case TL_OP_LE:
        return c <= 0;
    case TL_OP_GT:
        return c > 0;
    default:
        return c >= 0;
    }
}

static const int range_ops[] = {TL_OP_EQ, TL_OP_LT, TL_OP_LE, TL_OP_GT,
                                TL_OP_GE};

/* Pruning for =, <, <=, >, >= on random integer and timestamp maps equals
 * the brute-force set of shards whose ranges hold a satisfying key, and
 * every random row satisfying the predicate lies on a hit shard; a NULL
 * comparand hits nothing. */
static void
test_range_prune_brute_force(void **state)
{
    static const uint8_t types[] = {TL_TYPE_INT4, TL_TYPE_INT8,
                                    TL_TYPE_TIMESTAMPTZ, TL_TYPE_DATE};
    (void)state;

    srand(12345);
    for (int round = 0; round < 400; round++) {
        uint8_t type = types[round % 4];
        size_t n = (size_t)(rand() % 9);
        int64_t b[8];
        uint32_t shards[9];
        struct tl_value bounds[8];
        int64_t x = -40 + rand() % 10;

        for (size_t i = 0; i < n; i++) {
            x += 1 + rand() % 12;
            b[i] = x;
            bounds[i] = tl_value_int(type, x);
        }
        for (size_t i = 0; i <= n; i++)
            shards[i] = (uint32_t)(rand() % 5); /* shards may repeat */
        struct tl_range_map *m = make_map(type, bounds, n, shards);

        for (int64_t v = -60; v <= 80; v++) {
            struct tl_value vv = tl_value_int(type, v);
            for (size_t k = 0; k < 5; k++) {
                bool hit[5] = {false}, want[5] = {false};
                tl_range_map_prune(m, range_ops[k], &vv, hit);
                brute_int(b, n, shards, range_ops[k], v, want);
                if (memcmp(hit, want, sizeof(hit)) != 0)
                    fail_msg("type %u op %d v %lld: pruning differs", type,
                             range_ops[k], (long long)v);
                for (int r = 0; r < 20; r++) {
                    struct tl_value row =
                        tl_value_int(type, -70 + rand() % 160);
                    if (op_holds(range_ops[k], tl_value_cmp(&row, &vv)))
                        assert_true(hit[tl_range_map_lookup(m, &row)]);
                }
            }
        }
        struct tl_value null = tl_value_null(type);
        bool none[5] = {false};
        size_t first, last;
        for (size_t k = 0; k < 5; k++) {
            tl_range_map_prune(m, range_ops[k], &null, none);
            assert_false(
                tl_range_map_span(m, range_ops[k], &null, &first, &last));
        }
        for (int s = 0; s < 5; s++)
            assert_false(none[s]);
        tl_range_map_destroy(m);
    }
}

/* Random short lowercase string of 1..3 letters from "abcde" into @buf. */
static struct tl_value
rand_text(char *buf)
{
    int len = 1 + rand() % 3;
    for (int i = 0; i < len; i++)
        buf[i] = (char)('a' + rand() % 5);
    return tl_value_text(TL_TYPE_TEXT, buf, (uint32_t)len);
}

static int
cmp_text_value(const void *a, const void *b)
{
    return tl_value_cmp(a, b);
}

/* Text keys: the pruned span is exactly the ranges that hold a satisfying
 * string (non-empty letters, so the order is dense between them), and
 * every satisfying random row lies on a hit shard. */
static void
test_range_prune_text(void **state)
{
    (void)state;

    srand(777);
    for (int round = 0; round < 300; round++) {
        char store[8][4], vbuf[4], rbuf[4];
        struct tl_value bounds[8];
        uint32_t shards[9];
        size_t n = 0;

        for (int i = 0; i < 8; i++) {
            struct tl_value t = rand_text(store[n]);
            bool dup = false;
            for (size_t j = 0; j < n; j++)
                dup = dup || tl_value_cmp(&bounds[j], &t) == 0;
            if (!dup && rand() % 2)
                bounds[n++] = t;
        }
        qsort(bounds, n, sizeof(bounds[0]), cmp_text_value);
        for (size_t i = 0; i <= n; i++)
            shards[i] = (uint32_t)i;
        struct tl_range_map *m = make_map(TL_TYPE_TEXT, bounds, n, shards);

        for (int t = 0; t < 50; t++) {
            struct tl_value v = rand_text(vbuf);
            for (size_t k = 0; k < 5; k++) {
                size_t first, last;
                assert_true(
                    tl_range_map_span(m, range_ops[k], &v, &first, &last));
                for (size_t i = 0; i <= n; i++) {
                    /* Range i is [lo, hi); x = lo or a string just above
                     * v witnesses it, as the op needs. */
                    const struct tl_value *lo = i ? &bounds[i - 1] : NULL;
                    const struct tl_value *hi = i < n ? &bounds[i] : NULL;
                    int clo = lo ? tl_value_cmp(lo, &v) : -1;
                    int chi = hi ? tl_value_cmp(hi, &v) : 1;
                    bool want;
                    switch (range_ops[k]) {
                    case TL_OP_EQ:
                        want = clo <= 0 && chi > 0;
                        break;
                    case TL_OP_LT:
                        want = clo < 0;
                        break;
                    case TL_OP_LE:
                        want = clo <= 0;
                        break;
                    default:
                        want = chi > 0;
                        break;
                    }
                    assert_int_equal(want, i >= first && i <= last);
                }
                for (int r = 0; r < 10; r++) {
                    bool hit[9] = {false};
                    struct tl_value row = rand_text(rbuf);
                    tl_range_map_prune(m, range_ops[k], &v, hit);
                    if (op_holds(range_ops[k], tl_value_cmp(&row, &v)))
                        assert_true(hit[tl_range_map_lookup(m, &row)]);
                }
            }
        }
        tl_range_map_destroy(m);
    }
}

/* BETWEEN is the intersection of the >= and <= spans; comparisons the
 * range vindex cannot prune (<>) hit every range. */
static void
test_range_between(void **state)
{
    static const uint32_t shards[] = {0, 1, 2, 3, 4};
    struct tl_value bounds[4];
    size_t f1, l1, f2, l2;
    (void)state;

    for (int i = 0; i < 4; i++)
        bounds[i] = tl_value_int(TL_TYPE_INT8, (i + 1) * 100);
    struct tl_range_map *m = make_map(TL_TYPE_INT8, bounds, 4, shards);
    struct tl_value lo = tl_value_int(TL_TYPE_INT8, 150);
    struct tl_value hi = tl_value_int(TL_TYPE_INT8, 300);
    assert_true(tl_range_map_span(m, TL_OP_GE, &lo, &f1, &l1));
    assert_true(tl_range_map_span(m, TL_OP_LE, &hi, &f2, &l2));
    assert_int_equal(f1 > f2 ? f1 : f2, 1);
    assert_int_equal(l1 < l2 ? l1 : l2, 3);
    assert_true(tl_range_map_span(m, TL_OP_LT, &hi, &f2, &l2));
    assert_int_equal(l2, 2);
    assert_true(tl_range_map_span(m, TL_OP_NE, &hi, &f2, &l2));
    assert_int_equal(f2, 0);
    assert_int_equal(l2, 4);
    tl_range_map_destroy(m);
}

/* What each lookup thread shares: one ring, one map, and the answers a
 * single thread computed beforehand. */
struct shared_lookup {
    const struct tl_ring *ring;
    const struct tl_range_map *map;
    const uint32_t *ring_want, *map_want;
};

static void *
run_lookups(void *arg)
{
    struct shared_lookup *sl = arg;
    int bad = 0;

    for (int round = 0; round < 5; round++) {
        for (int64_t i = 0; i < 20000; i++) {
            struct tl_value v = tl_value_int(TL_TYPE_INT8, i * 37 - 5000);
            bad += tl_ring_shard(sl->ring, &v) != sl->ring_want[i];
            bad += tl_range_map_lookup(sl->map, &v) != sl->map_want[i];
        }
    }
    return (void *)(intptr_t)bad;
}

/* Rings and range maps answer concurrent lookups from several threads
 * exactly as one thread does (they are immutable once built). */
static void
test_concurrent_lookups(void **state)
{
    static const uint32_t shards[] = {3, 1, 4, 5, 9, 2, 6};
    struct tl_value bounds[6];
    uint32_t *ring_want = malloc(20000 * sizeof(uint32_t));
    uint32_t *map_want = malloc(20000 * sizeof(uint32_t));
    pthread_t th[4];
    (void)state;

    assert_non_null(ring_want);
    assert_non_null(map_want);
    for (int i = 0; i < 6; i++)
        bounds[i] = tl_value_int(TL_TYPE_INT8, i * 100000);
    struct tl_ring *r = make_ring(shards, 7, 0);
    struct tl_range_map *m = make_map(TL_TYPE_INT8, bounds, 6, shards);
    for (int64_t i = 0; i < 20000; i++) {
        struct tl_value v = tl_value_int(TL_TYPE_INT8, i * 37 - 5000);
        ring_want[i] = tl_ring_shard(r, &v);
        map_want[i] = tl_range_map_lookup(m, &v);
    }
    struct shared_lookup sl = {r, m, ring_want, map_want};
    for (int t = 0; t < 4; t++)
        assert_int_equal(pthread_create(&th[t], NULL, run_lookups, &sl), 0);
    for (int t = 0; t < 4; t++) {
        void *bad;
        assert_int_equal(pthread_join(th[t], &bad), 0);
        assert_int_equal((intptr_t)bad, 0);
    }
    tl_ring_destroy(r);
    tl_range_map_destroy(m);
    free(ring_want);
    free(map_want);
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
        cmocka_unit_test(test_ring_known_answers),
        cmocka_unit_test(test_ring_order_independent),
        cmocka_unit_test(test_ring_distribution),
        cmocka_unit_test(test_ring_add_remove),
        cmocka_unit_test(test_ring_errors),
        cmocka_unit_test(test_range_int_lookup),
        cmocka_unit_test(test_range_text_lookup),
        cmocka_unit_test(test_range_timestamptz_lookup),
        cmocka_unit_test(test_range_errors),
        cmocka_unit_test(test_range_prune_brute_force),
        cmocka_unit_test(test_range_prune_text),
        cmocka_unit_test(test_range_between),
        cmocka_unit_test(test_concurrent_lookups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
