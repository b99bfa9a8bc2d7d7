/* The GC safe point: what the meta leader computes from the window, the
 * live routers' oldest open transactions and the holds (node/meta/gc.h), and
 * how a router tracks its sessions' open transactions
 * (router/core/incarnation.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/meta/meta_routers.h"
#include "node/meta/gc.h"
#include "router/core/incarnation.h"

#define TS(ms) ((uint64_t)(ms) << 18)

static void
test_compute(void **state)
{
    (void)state;
    const int64_t now = 1000000;
    struct tl_meta_router r[3];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 3; i++) {
        r[i].id = (uint32_t)i;
        r[i].incarnation = 10 + (uint64_t)i;
        r[i].lease_expires_ms = now + 1000;
    }
    /* Nothing open, no hold: now - window. */
    assert_true(gc_compute_safe_point(now, 600, r, 3, NULL, 0) ==
                TS(now - 600));
    /* The oldest open transaction of a live router holds it. */
    r[1].oldest_txn_ts = TS(now - 5000) + 7;
    r[2].oldest_txn_ts = TS(now - 4000);
    assert_true(gc_compute_safe_point(now, 600, r, 3, NULL, 0) ==
                TS(now - 5000) + 7);
    /* A transaction younger than the window changes nothing. */
    r[1].oldest_txn_ts = TS(now - 10);
    r[2].oldest_txn_ts = 0;
    assert_true(gc_compute_safe_point(now, 600, r, 3, NULL, 0) ==
                TS(now - 600));
    /* A router whose lease ran out no longer holds it. */
    r[1].oldest_txn_ts = TS(now - 5000);
    r[1].lease_expires_ms = now;
    assert_true(gc_compute_safe_point(now, 600, r, 3, NULL, 0) ==
                TS(now - 600));
    r[1].lease_expires_ms = now + 1;
    assert_true(gc_compute_safe_point(now, 600, r, 3, NULL, 0) ==
                TS(now - 5000));
    /* Holds count; a zero hold is none. */
    uint64_t holds[2] = {0, TS(now - 9000)};
    assert_true(gc_compute_safe_point(now, 600, r, 3, holds, 2) ==
                TS(now - 9000));
    /* A window longer than the clock: 0, nothing collected. */
    assert_true(gc_compute_safe_point(100, 600, NULL, 0, NULL, 0) == 0);
}

static void
test_router_open_transactions(void **state)
{
    (void)state;
    struct router *a = (struct router *)(uintptr_t)0x1000;
    struct router *b = (struct router *)(uintptr_t)0x2000;
    assert_true(incarnation_oldest_txn(a) == 0);
    incarnation_txn_open(a, 50);
    incarnation_txn_open(a, 30);
    incarnation_txn_open(b, 10);
    incarnation_txn_open(a, 30); /* two sessions, one timestamp */
    assert_true(incarnation_oldest_txn(a) == 30);
    assert_true(incarnation_oldest_txn(b) == 10);
    incarnation_txn_close(a, 30);
    assert_true(incarnation_oldest_txn(a) == 30);
    incarnation_txn_close(a, 30);
    assert_true(incarnation_oldest_txn(a) == 50);
    incarnation_txn_close(a, 50);
    assert_true(incarnation_oldest_txn(a) == 0);
    incarnation_txn_close(a, 99); /* not open: nothing */
    incarnation_txn_close(b, 10);
    assert_true(incarnation_oldest_txn(b) == 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compute),
        cmocka_unit_test(test_router_open_transactions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
