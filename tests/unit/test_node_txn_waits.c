/* txn_waits: the wait-for edges a node keeps for deadlock detection —
 * set, read back, replaced, cleared, expired, and the oldest replaced
 * when full. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "node/rpc/txn_waits.h"

static struct txn_waits w;

static void
test_set_get_clear(void **state)
{
    (void)state;
    uint64_t ts;
    uint32_t shard;
    txn_waits_init(&w);
    assert_int_equal(txn_waits_get(&w, 1, 100, 0, &ts, &shard), 0);
    txn_waits_set(&w, 1, 100, 200, 3, 0);
    assert_int_equal(txn_waits_get(&w, 1, 100, 10, &ts, &shard), 1);
    assert_int_equal(ts, 200);
    assert_int_equal(shard, 3);
    /* Same start_ts on another shard is another transaction's record. */
    assert_int_equal(txn_waits_get(&w, 2, 100, 10, &ts, &shard), 0);
    txn_waits_set(&w, 1, 100, 300, 4, 20);
    assert_int_equal(txn_waits_get(&w, 1, 100, 30, &ts, &shard), 1);
    assert_int_equal(ts, 300);
    assert_int_equal(shard, 4);
    txn_waits_set(&w, 1, 100, 0, 0, 40);
    assert_int_equal(txn_waits_get(&w, 1, 100, 50, &ts, &shard), 0);
    txn_waits_close(&w);
}

static void
test_expiry(void **state)
{
    (void)state;
    uint64_t ts;
    uint32_t shard;
    txn_waits_init(&w);
    txn_waits_set(&w, 1, 100, 200, 3, 1000);
    assert_int_equal(
        txn_waits_get(&w, 1, 100, 1000 + TXN_WAITS_TTL_MS - 1, &ts, &shard), 1);
    assert_int_equal(
        txn_waits_get(&w, 1, 100, 1000 + TXN_WAITS_TTL_MS, &ts, &shard), 0);
    /* Renewed, it lives on. */
    txn_waits_set(&w, 1, 100, 200, 3, 2000);
    assert_int_equal(txn_waits_get(&w, 1, 100, 3000, &ts, &shard), 1);
    txn_waits_close(&w);
}

static void
test_full_replaces_oldest(void **state)
{
    (void)state;
    uint64_t ts;
    uint32_t shard;
    txn_waits_init(&w);
    /* Registered at 0, 1, ... 1024 ms (four per ms), none expired. */
    for (uint64_t i = 1; i <= TXN_WAITS_MAX; i++)
        txn_waits_set(&w, 0, i, i + 1, 0, (int64_t)(i / 4));
    txn_waits_set(&w, 0, 999999, 5, 0, 1100);
    assert_int_equal(txn_waits_get(&w, 0, 999999, 1100, &ts, &shard), 1);
    /* The oldest went; the others stay. */
    assert_int_equal(txn_waits_get(&w, 0, 1, 1100, &ts, &shard), 0);
    assert_int_equal(txn_waits_get(&w, 0, 2, 1100, &ts, &shard), 1);
    assert_int_equal(txn_waits_get(&w, 0, TXN_WAITS_MAX, 1100, &ts, &shard), 1);
    txn_waits_close(&w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_get_clear),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_full_replaces_oldest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
