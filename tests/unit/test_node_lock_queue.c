/* lock_queue: row lock waiters are served in arrival order — the head is
 * the first to have waited, a waiter that asks again keeps its place,
 * the head leaving (or its transaction ending) lets the next one go, an
 * entry lapses when its waiter stops asking or past the time it said it
 * waits, queues of other keys and shards are apart, and a request outside
 * a transaction waits under its request id, naming the holder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/rpc/lock_queue.h"

static struct lock_queue q;

/* Transaction @ts (its record on shard @ts / 100) waits on @shard's @k. */
static void
wait_on(uint32_t shard, const char *k, uint64_t ts, int64_t now, int64_t until)
{
    struct lock_queue_waiter w = {.id = ts,
                                  .txn = true,
                                  .name_ts = ts,
                                  .name_shard = (uint32_t)(ts / 100)};
    lock_queue_wait(&q, shard, k, strlen(k), &w, now, until);
}

/* The head of key @k on shard 1 as seen by transaction @ts at @now: its
 * start_ts, or 0 when @ts may go. */
static uint64_t
head(const char *k, uint64_t ts, int64_t now)
{
    struct lock_queue_waiter h;
    if (!lock_queue_head(&q, 1, k, 1, ts, now, &h))
        return 0;
    if (h.txn)
        assert_int_equal(h.name_shard, (uint32_t)(h.id / 100));
    return h.id;
}

static void
test_order(void **state)
{
    (void)state;
    lock_queue_init(&q);
    assert_true(lock_queue_empty(&q));
    assert_int_equal(head("a", 500, 0), 0);
    /* 200 waits first, then 300, then 400. */
    wait_on(1, "a", 200, 0, 0);
    wait_on(1, "a", 300, 1, 0);
    wait_on(1, "a", 400, 2, 0);
    assert_false(lock_queue_empty(&q));
    assert_int_equal(lock_queue_count(&q, 1, 3), 3);
    /* Asking again keeps a waiter's place. */
    wait_on(1, "a", 300, 5, 0);
    wait_on(1, "a", 200, 6, 0);
    assert_int_equal(lock_queue_count(&q, 1, 7), 3);
    assert_int_equal(head("a", 400, 7), 200);
    assert_int_equal(head("a", 300, 7), 200);
    assert_int_equal(head("a", 999, 7), 200); /* a newcomer too */
    assert_int_equal(head("a", 200, 7), 0);   /* the head goes */
    /* The head got its lock: 300 is next, then 400. */
    lock_queue_leave(&q, 1, 200);
    assert_int_equal(head("a", 400, 8), 300);
    assert_int_equal(head("a", 300, 8), 0);
    lock_queue_forget(&q, 300);
    assert_int_equal(head("a", 999, 9), 400);
    lock_queue_leave(&q, 1, 400);
    assert_true(lock_queue_empty(&q));
    assert_int_equal(head("a", 999, 10), 0);
    lock_queue_close(&q);
}

static void
test_expiry(void **state)
{
    (void)state;
    lock_queue_init(&q);
    wait_on(1, "a", 200, 1000, 0);
    wait_on(1, "a", 300, 1000, 0);
    /* 300 goes on asking, 200 stopped: 200 heads until its place lapses. */
    wait_on(1, "a", 300, 1000 + LOCK_QUEUE_TTL_MS - 1, 0);
    assert_int_equal(head("a", 300, 1000 + LOCK_QUEUE_TTL_MS - 1), 200);
    assert_int_equal(head("a", 300, 1000 + LOCK_QUEUE_TTL_MS), 0);
    assert_int_equal(lock_queue_count(&q, 1, 1000 + LOCK_QUEUE_TTL_MS), 1);
    /* Coming back after it lapsed, 200 is last. */
    wait_on(1, "a", 200, 1000 + LOCK_QUEUE_TTL_MS, 0);
    assert_int_equal(head("a", 200, 1000 + LOCK_QUEUE_TTL_MS), 300);
    lock_queue_close(&q);

    /* A waiter that said when it stops waiting lapses then. */
    lock_queue_init(&q);
    wait_on(1, "a", 200, 0, 100);
    wait_on(1, "a", 300, 0, 0);
    assert_int_equal(head("a", 300, 99), 200);
    assert_int_equal(head("a", 300, 100), 0);
    lock_queue_close(&q);

    /* The head checking in keeps its place; so does a waiter refused on
     * another key of the shard (it still waits). */
    lock_queue_init(&q);
    wait_on(1, "a", 200, 0, 0);
    wait_on(1, "a", 300, 0, 0);
    assert_int_equal(head("a", 200, LOCK_QUEUE_TTL_MS - 1), 0);
    wait_on(1, "a", 300, LOCK_QUEUE_TTL_MS - 1, 0);
    wait_on(1, "b", 200, 2 * LOCK_QUEUE_TTL_MS - 2, 0);
    assert_int_equal(head("a", 300, 2 * LOCK_QUEUE_TTL_MS - 2), 200);
    lock_queue_close(&q);
}

static void
test_keys_apart(void **state)
{
    (void)state;
    struct lock_queue_waiter h;
    lock_queue_init(&q);
    wait_on(1, "a", 200, 0, 0);
    wait_on(1, "b", 300, 0, 0);
    wait_on(2, "a", 400, 0, 0);
    assert_int_equal(head("a", 999, 1), 200);
    assert_int_equal(head("b", 999, 1), 300);
    assert_int_equal(head("c", 999, 1), 0);
    assert_int_equal(lock_queue_head(&q, 1, "ab", 2, 999, 1, &h), 0);
    assert_int_equal(lock_queue_head(&q, 2, "a", 1, 999, 1, &h), 1);
    assert_int_equal(h.id, 400);
    assert_int_equal(h.name_shard, 4);
    assert_int_equal(lock_queue_count(&q, 1, 1), 2);
    assert_int_equal(lock_queue_count(&q, 2, 1), 1);
    /* Leaving shard 1 keeps shard 2's place of the same start_ts. */
    wait_on(2, "a", 200, 1, 0);
    lock_queue_leave(&q, 1, 200);
    assert_int_equal(head("a", 999, 2), 0);
    assert_int_equal(lock_queue_count(&q, 2, 2), 2);
    lock_queue_close(&q);
}

/* A request outside a transaction queues under its request id and names
 * the holder it waits for; a transaction's end does not remove it. */
static void
test_outside_transaction(void **state)
{
    (void)state;
    struct lock_queue_waiter w = {.id = 77, .name_ts = 500, .name_shard = 5};
    struct lock_queue_waiter h;
    lock_queue_init(&q);
    lock_queue_wait(&q, 1, "a", 1, &w, 0, 0);
    wait_on(1, "a", 300, 1, 0);
    assert_int_equal(lock_queue_head(&q, 1, "a", 1, 300, 2, &h), 1);
    assert_int_equal(h.id, 77);
    assert_false(h.txn);
    assert_int_equal(h.name_ts, 500);
    assert_int_equal(h.name_shard, 5);
    lock_queue_forget(&q, 77);
    assert_int_equal(head("a", 300, 3), 77);
    lock_queue_leave(&q, 1, 77);
    assert_int_equal(head("a", 300, 4), 0);
    lock_queue_close(&q);
}

static void
test_many(void **state)
{
    (void)state;
    lock_queue_init(&q);
    /* More than one growth of the table; served in order. */
    for (uint64_t i = 1; i <= 100; i++)
        wait_on(1, "k", i * 100, 0, 0);
    for (uint64_t i = 1; i <= 100; i++) {
        assert_int_equal(head("k", 999999, 1), i * 100);
        assert_int_equal(head("k", i * 100, 1), 0);
        lock_queue_leave(&q, 1, i * 100);
    }
    assert_true(lock_queue_empty(&q));
    lock_queue_close(&q);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_keys_apart),
        cmocka_unit_test(test_outside_transaction),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
