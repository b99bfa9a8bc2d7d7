/* Unit tests for common/sequence.c: tl_sequence_reserve() hands out
 * blocks of exactly the values PostgreSQL's nextval() would return one by
 * one (first value, increments up and down, the bounds, CYCLE, values set
 * by setval), and tl_sequence_from_proto() checks the invariants. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "sequence.h"
#include "tl_error.h"

static struct tl_sequence
make(int64_t inc, int64_t min, int64_t max, int64_t start, bool cycle)
{
    struct tl_sequence s;
    memset(&s, 0, sizeof(s));
    s.type = TL_TYPE_INT8;
    s.increment = inc;
    s.min_value = min;
    s.max_value = max;
    s.start = start;
    s.cache = 1;
    s.cycle = cycle;
    return s;
}

/* A fresh sequence's first block starts at start; the next block starts
 * one increment after the last value of the previous one. */
static void
test_reserve_fresh_and_next(void **state)
{
    (void)state;
    struct tl_sequence s = make(1, 1, INT64_MAX, 1, false);
    int64_t last = s.start, first, n;
    bool called = false;
    assert_int_equal(tl_sequence_reserve(&s, &last, &called, 32, &first, &n),
                     0);
    assert_int_equal(first, 1);
    assert_int_equal(n, 32);
    assert_int_equal(last, 32);
    assert_true(called);
    assert_int_equal(tl_sequence_reserve(&s, &last, &called, 1, &first, &n), 0);
    assert_int_equal(first, 33);
    assert_int_equal(n, 1);
    assert_int_equal(last, 33);
}

/* A block stops at the bound; past it a sequence without CYCLE is
 * exhausted (TL_EOVERFLOW, state untouched) and one with CYCLE starts
 * again from the other bound. */
static void
test_reserve_bounds_and_cycle(void **state)
{
    (void)state;
    struct tl_sequence s = make(2, 1, 6, 1, false);
    int64_t last = 1, first, n;
    bool called = false;
    assert_int_equal(tl_sequence_reserve(&s, &last, &called, 32, &first, &n),
                     0);
    assert_int_equal(first, 1);
    assert_int_equal(n, 3); /* 1, 3, 5 */
    assert_int_equal(last, 5);
    assert_int_equal(tl_sequence_reserve(&s, &last, &called, 32, &first, &n),
                     TL_EOVERFLOW);
    assert_int_equal(last, 5);
    s.cycle = true;
    assert_int_equal(tl_sequence_reserve(&s, &last, &called, 2, &first, &n), 0);
    assert_int_equal(first, 1);
    assert_int_equal(n, 2);
    assert_int_equal(last, 3);
}

/* Descending sequences count down to min_value; INT64 bounds do not
 * overflow. */
static void
test_reserve_descending_and_extremes(void **state)
{
    (void)state;
    struct tl_sequence s = make(-1, -3, -1, -1, false);
    int64_t last = -1, first, n;
    bool called = false;
    assert_int_equal(tl_sequence_reserve(&s, &last, &called, 32, &first, &n),
                     0);
    assert_int_equal(first, -1);
    assert_int_equal(n, 3);
    assert_int_equal(last, -3);
    assert_int_equal(tl_sequence_reserve(&s, &last, &called, 1, &first, &n),
                     TL_EOVERFLOW);

    s = make(INT64_MAX, INT64_MIN, INT64_MAX, INT64_MAX - 1, false);
    last = INT64_MAX - 1;
    called = false;
    assert_int_equal(tl_sequence_reserve(&s, &last, &called, 32, &first, &n),
                     0);
    assert_true(first == INT64_MAX - 1);
    assert_int_equal(n, 1);
    assert_int_equal(tl_sequence_reserve(&s, &last, &called, 32, &first, &n),
                     TL_EOVERFLOW);
}

/* After setval(v, false) the next value is v itself; after setval(v,
 * true) it is v + increment. */
static void
test_reserve_after_setval(void **state)
{
    (void)state;
    struct tl_sequence s = make(5, 1, 1000, 1, false);
    int64_t last = 100, first, n;
    bool called = false;
    assert_int_equal(tl_sequence_reserve(&s, &last, &called, 4, &first, &n), 0);
    assert_int_equal(first, 100);
    assert_int_equal(n, 4);
    assert_int_equal(last, 115);
    last = 100;
    called = true;
    assert_int_equal(tl_sequence_reserve(&s, &last, &called, 1, &first, &n), 0);
    assert_int_equal(first, 105);
}

/* from_proto fills defaults (bigint, increment 1, cache 1) and refuses
 * descriptions that break an invariant. */
static void
test_from_proto(void **state)
{
    (void)state;
    Talus__SequenceDesc pb = TALUS__SEQUENCE_DESC__INIT;
    struct tl_sequence s;
    pb.id = 1000;
    pb.name = "s";
    pb.min_value = 1;
    pb.max_value = 10;
    pb.start = 1;
    assert_int_equal(tl_sequence_from_proto(&pb, &s, NULL), 0);
    assert_int_equal(s.type, TL_TYPE_INT8);
    assert_int_equal(s.increment, 1);
    assert_int_equal(s.cache, 1);
    assert_false(s.cycle);
    pb.start = 11;
    assert_int_equal(tl_sequence_from_proto(&pb, &s, NULL), TL_EPROTO);
    pb.start = 1;
    pb.has_type = 1;
    pb.type = TL_TYPE_TEXT;
    assert_int_equal(tl_sequence_from_proto(&pb, &s, NULL), TL_EPROTO);
    pb.type = TL_TYPE_INT2;
    pb.max_value = 40000;
    assert_int_equal(tl_sequence_from_proto(&pb, &s, NULL), TL_EPROTO);
    pb.max_value = 10;
    pb.has_cache = 1;
    pb.cache = 0;
    assert_int_equal(tl_sequence_from_proto(&pb, &s, NULL), TL_EPROTO);
    pb.name = "";
    assert_int_equal(tl_sequence_from_proto(&pb, &s, NULL), TL_EPROTO);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reserve_fresh_and_next),
        cmocka_unit_test(test_reserve_bounds_and_cycle),
        cmocka_unit_test(test_reserve_descending_and_extremes),
        cmocka_unit_test(test_reserve_after_setval),
        cmocka_unit_test(test_from_proto),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
