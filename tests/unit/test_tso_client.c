/* The router's batching client of the timestamp oracle
 * (router/core/tso_client.h), driven by many threads against a fake
 * oracle: every caller gets a distinct timestamp, greater than everything
 * the oracle issued before its call began, increasing per thread; callers
 * that arrive while a request is out share the next request; a failed
 * request fails its whole batch; a caller whose statement_timeout passes
 * before its batch is sent gets 57014. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/base/sqlstate.h"
#include "router/core/router_int.h"
#include "router/core/tso_client.h"
#include "tl_error.h"

/* The fake oracle: issues from a counter, like node/meta/tso.c, and reserves
 * a batch's timestamps as soon as the request "arrives" (before the
 * simulated round trip ends), so a caller that begins during the round
 * trip has already seen them issued. */
struct oracle {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t issued;  /* the last timestamp issued */
    uint64_t n_calls; /* requests answered */
    uint32_t max_count;
    int delay_us;     /* the round trip */
    int fail_next;    /* fail this many requests with 40001 */
    bool gate_closed; /* requests wait until it opens */
    bool in_fetch;    /* a request is being served */
};

static struct oracle oracle;

static void
oracle_reset(int delay_us)
{
    pthread_mutex_lock(&oracle.mu);
    oracle.issued = 1000;
    oracle.n_calls = 0;
    oracle.max_count = 0;
    oracle.delay_us = delay_us;
    oracle.fail_next = 0;
    oracle.gate_closed = false;
    oracle.in_fetch = false;
    pthread_mutex_unlock(&oracle.mu);
}

static uint64_t
oracle_issued(void)
{
    pthread_mutex_lock(&oracle.mu);
    uint64_t v = oracle.issued;
    pthread_mutex_unlock(&oracle.mu);
    return v;
}

static int
fake_fetch(void *arg, uint32_t count, int64_t deadline_ms, bool stmt_deadline,
           uint64_t *first, struct tl_error *err)
{
    (void)arg;
    (void)stmt_deadline;
    assert_true(count >= 1 && count <= TSO_CLIENT_MAX_COUNT);
    assert_true(deadline_ms > 0);
    pthread_mutex_lock(&oracle.mu);
    /* At most one request in flight per client. */
    assert_false(oracle.in_fetch);
    oracle.in_fetch = true;
    pthread_cond_broadcast(&oracle.cv);
    while (oracle.gate_closed)
        pthread_cond_wait(&oracle.cv, &oracle.mu);
    int fail = oracle.fail_next > 0;
    if (fail)
        oracle.fail_next--;
    uint64_t f = oracle.issued + 1;
    if (!fail)
        oracle.issued += count;
    oracle.n_calls++;
    if (count > oracle.max_count)
        oracle.max_count = count;
    int delay = oracle.delay_us;
    pthread_mutex_unlock(&oracle.mu);
    if (delay > 0) {
        struct timespec d = {0, (long)delay * 1000};
        nanosleep(&d, NULL);
    }
    pthread_mutex_lock(&oracle.mu);
    oracle.in_fetch = false;
    pthread_mutex_unlock(&oracle.mu);
    if (fail)
        return tl_error_set(err, TL_EUNAVAILABLE,
                            TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                            "could not reach the leader of shard 1023");
    *first = f;
    return 0;
}

static struct tso_client *
make_client(void)
{
    struct tso_client_ops ops = {.fetch_cb = fake_fetch,
                                 .default_budget_ms = 10000};
    struct tso_client *c = NULL;
    assert_int_equal(tso_client_create(&ops, &c), 0);
    return c;
}

#define N_THREADS 16
#define N_CALLS 300

struct worker {
    struct tso_client *c;
    uint64_t ts[N_CALLS];
    int n_bad_after; /* timestamps not above what was issued before */
    int n_bad_order; /* not above the thread's previous one */
    int n_errors;
};

static void *
run_worker(void *p)
{
    struct worker *w = p;
    uint64_t prev = 0;
    for (int i = 0; i < N_CALLS; i++) {
        struct tl_error err;
        uint64_t before = oracle_issued();
        if (tso_client_get(w->c, &w->ts[i], &err) != 0) {
            w->n_errors++;
            continue;
        }
        if (w->ts[i] <= before)
            w->n_bad_after++;
        if (w->ts[i] <= prev)
            w->n_bad_order++;
        prev = w->ts[i];
    }
    return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sixteen threads, 300 calls each: 4800 distinct timestamps, each above
 * what the oracle had issued when its call began, increasing per thread,
 * from fewer requests than calls (batches of more than one caller). */
static void
test_concurrent_callers(void **state)
{
    (void)state;
    static struct worker w[N_THREADS];
    static uint64_t all[N_THREADS * N_CALLS];
    pthread_t t[N_THREADS];
    oracle_reset(200);
    struct tso_client *c = make_client();
    for (int i = 0; i < N_THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].c = c;
        assert_int_equal(pthread_create(&t[i], NULL, run_worker, &w[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(t[i], NULL);
    size_t n = 0;
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(w[i].n_errors, 0);
        assert_int_equal(w[i].n_bad_after, 0);
        assert_int_equal(w[i].n_bad_order, 0);
        memcpy(all + n, w[i].ts, sizeof w[i].ts);
        n += N_CALLS;
    }
    qsort(all, n, sizeof all[0], cmp_u64);
    for (size_t i = 1; i < n; i++)
        assert_true(all[i] > all[i - 1]);
    struct tso_client_stats st;
    tso_client_stats(c, &st);
    assert_int_equal(st.n_timestamps, N_THREADS * N_CALLS);
    assert_int_equal(st.n_requests, oracle.n_calls);
    assert_int_equal(st.n_waiting, 0);
    /* Batching happened: fewer requests than calls, some batch shared. */
    assert_true(st.n_requests < N_THREADS * N_CALLS);
    assert_true(oracle.max_count > 1);
    tso_client_destroy(c);
}

/* A lone caller sends one request of one timestamp per call, each
 * greater than the last. */
static void
test_single_caller(void **state)
{
    (void)state;
    oracle_reset(0);
    struct tso_client *c = make_client();
    uint64_t prev = 0;
    for (int i = 0; i < 50; i++) {
        struct tl_error err;
        uint64_t ts = 0, before = oracle_issued();
        assert_int_equal(tso_client_get(c, &ts, &err), 0);
        assert_true(ts > before);
        assert_true(ts > prev);
        prev = ts;
    }
    assert_int_equal(oracle.n_calls, 50);
    assert_int_equal(oracle.max_count, 1);
    tso_client_destroy(c);
}

struct one_call {
    struct tso_client *c;
    int64_t deadline_ms;
    int rv;
    uint64_t ts;
    struct tl_error err;
};

static void *
run_one(void *p)
{
    struct one_call *o = p;
    o->rv = tso_client_get_until(o->c, o->deadline_ms, &o->ts, &o->err);
    return NULL;
}

/* Wait until the fake oracle serves a request. */
static void
wait_in_fetch(void)
{
    pthread_mutex_lock(&oracle.mu);
    while (!oracle.in_fetch)
        pthread_cond_wait(&oracle.cv, &oracle.mu);
    pthread_mutex_unlock(&oracle.mu);
}

/* Wait until @n callers wait in the open batch of @c. */
static void
wait_waiting(struct tso_client *c, uint32_t n)
{
    for (;;) {
        struct tso_client_stats st;
        tso_client_stats(c, &st);
        if (st.n_waiting == n)
            return;
        struct timespec d = {0, 1000000};
        nanosleep(&d, NULL); /* polling a counter, bounded by the test */
    }
}

static void
open_gate(void)
{
    pthread_mutex_lock(&oracle.mu);
    oracle.gate_closed = false;
    pthread_cond_broadcast(&oracle.cv);
    pthread_mutex_unlock(&oracle.mu);
}

/* A failed request fails every caller of its batch with its error
 * (40001 here), and the next call gets a timestamp again. */
static void
test_error_fails_the_batch(void **state)
{
    (void)state;
    struct one_call a[4];
    pthread_t t[4];
    oracle_reset(0);
    struct tso_client *c = make_client();
    pthread_mutex_lock(&oracle.mu);
    oracle.gate_closed = true;
    oracle.fail_next = 2; /* the first request and the batch after it */
    pthread_mutex_unlock(&oracle.mu);
    memset(a, 0, sizeof a);
    for (int i = 0; i < 4; i++)
        a[i].c = c;
    /* a[0] sends the first request and waits at the gate; the others
     * arrive meanwhile and form the next batch. */
    assert_int_equal(pthread_create(&t[0], NULL, run_one, &a[0]), 0);
    wait_in_fetch();
    for (int i = 1; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, run_one, &a[i]), 0);
    /* Their batch is sent only after the first request is back. */
    wait_waiting(c, 3);
    open_gate();
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].rv, TL_EUNAVAILABLE);
        assert_string_equal(a[i].err.sqlstate,
                            TL_SQLSTATE_T_R_SERIALIZATION_FAILURE);
    }
    /* One request for the three that waited together. */
    assert_int_equal(oracle.n_calls, 2);
    assert_int_equal(oracle.max_count, 3);
    struct tl_error err;
    uint64_t ts = 0;
    assert_int_equal(tso_client_get(c, &ts, &err), 0);
    assert_true(ts > 1000);
    tso_client_destroy(c);
}

/* A caller whose statement_timeout passes while its batch waits for the
 * request in flight leaves with 57014; the request in flight still
 * answers its own caller. */
static void
test_deadline_in_open_batch(void **state)
{
    (void)state;
    struct one_call a, b;
    pthread_t t;
    oracle_reset(0);
    struct tso_client *c = make_client();
    pthread_mutex_lock(&oracle.mu);
    oracle.gate_closed = true;
    pthread_mutex_unlock(&oracle.mu);
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.c = c;
    b.c = c;
    assert_int_equal(pthread_create(&t, NULL, run_one, &a), 0);
    wait_in_fetch();
    b.deadline_ms = router_now_ms() + 50;
    run_one(&b);
    assert_int_equal(b.rv, TL_ETIMEOUT);
    assert_string_equal(b.err.sqlstate, TL_SQLSTATE_QUERY_CANCELED);
    assert_true(router_now_ms() >= b.deadline_ms);
    open_gate();
    pthread_join(t, NULL);
    assert_int_equal(a.rv, 0);
    assert_true(a.ts > 1000);
    /* Only the first request was sent: b left before its batch was. */
    assert_int_equal(oracle.n_calls, 1);
    tso_client_destroy(c);
}

int
main(void)
{
    pthread_mutex_init(&oracle.mu, NULL);
    pthread_cond_init(&oracle.cv, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_caller),
        cmocka_unit_test(test_concurrent_callers),
        cmocka_unit_test(test_error_fails_the_batch),
        cmocka_unit_test(test_deadline_in_open_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
