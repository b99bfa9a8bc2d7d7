/* Unit tests of node/replica/reads.c under real raft (raft/fixture.h: three
 * in-process servers, simulated network and disk). Reads are served only
 * after a barrier committed in the leader's term; a burst of reads costs at
 * most two barriers; when the leader steps down with reads queued, the
 * barrier callback completes its batch without calling into raft, and the
 * deferred step fails the waiting reads instead of issuing a barrier on a
 * deposed leader. */
#include <raft.h>
#include <raft/fixture.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/replica/reads.h"

#define N 3
#define N_READS 16

/* A state machine that accepts every command. */
static int
fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
    (void)fsm;
    (void)buf;
    *result = NULL;
    return 0;
}

struct env {
    struct raft_fixture f;
    struct raft_fsm fsm[N];
    struct reads reads;
    unsigned leader;
    /* What the defer hook saw. */
    unsigned n_defer;
    uint64_t barriers_at_defer;
    bool busy_at_defer;
};

struct waiter {
    struct read_waiter rw;
    struct env *e;
    bool done;
    int status;
    uint64_t barriers_at_done; /* barriers issued when it completed */
};

static void
waiter_done(struct read_waiter *w, int status)
{
    struct waiter *x = (struct waiter *)w;
    assert_false(x->done); /* exactly once */
    x->done = true;
    x->status = status;
    x->barriers_at_done = x->e->reads.n_barriers;
}

static void
defer_hook(struct reads *r)
{
    struct env *e = r->data;
    e->n_defer++;
    e->barriers_at_defer = r->n_barriers;
    e->busy_at_defer = r->busy;
}

static int
setup(void **state)
{
    struct env *e = calloc(1, sizeof *e);
    struct raft_configuration conf;

    assert_int_equal(raft_fixture_initialize(&e->f), 0);
    for (unsigned i = 0; i < N; i++) {
        e->fsm[i].version = 1;
        e->fsm[i].apply = fsm_apply;
        assert_int_equal(raft_fixture_grow(&e->f, &e->fsm[i]), 0);
    }
    assert_int_equal(raft_fixture_configuration(&e->f, N, &conf), 0);
    assert_int_equal(raft_fixture_bootstrap(&e->f, &conf), 0);
    raft_configuration_close(&conf);
    assert_int_equal(raft_fixture_start(&e->f), 0);
    assert_true(raft_fixture_step_until_has_leader(&e->f, 10000));
    e->leader = raft_fixture_leader_index(&e->f);
    reads_init(&e->reads, raft_fixture_get(&e->f, e->leader), defer_hook, e);
    *state = e;
    return 0;
}

static int
teardown(void **state)
{
    struct env *e = *state;
    raft_fixture_close(&e->f);
    free(e);
    return 0;
}

static bool
all_done(struct waiter *w, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (!w[i].done)
            return false;
    return true;
}

/* Step the fixture until every waiter completed, running deferred steps
 * the way the node's loop does (outside raft); at most @max_steps. */
static void
step_until_done(struct env *e, struct waiter *w, unsigned n, unsigned max)
{
    for (unsigned i = 0; i < max && !all_done(w, n); i++) {
        raft_fixture_step(&e->f);
        if (e->reads.deferred)
            reads_run_deferred(&e->reads);
    }
    assert_true(all_done(w, n));
}

/* On a healthy leader a burst of reads is served, at the cost of at most
 * two barriers (the one issued by the first read, one for the rest). */
static void
test_reads_served_in_two_barriers(void **state)
{
    struct env *e = *state;
    struct waiter w[N_READS];

    memset(w, 0, sizeof w);
    for (unsigned i = 0; i < N_READS; i++) {
        w[i].e = e;
        w[i].rw.done = waiter_done;
        reads_add(&e->reads, &w[i].rw);
    }
    assert_int_equal(e->reads.n_barriers, 1);
    step_until_done(e, w, N_READS, 100000);
    for (unsigned i = 0; i < N_READS; i++)
        assert_int_equal(w[i].status, 0);
    assert_int_equal(e->reads.n_barriers, 2);
    /* The second barrier was asked for from the first one's callback and
     * issued only by the deferred step. */
    assert_int_equal(e->n_defer, 1);
    assert_int_equal(e->barriers_at_defer, 1);
    assert_false(e->busy_at_defer);
}

/* The leader loses its majority with a barrier in flight and reads queued
 * behind it: the barrier's reads fail, the callback issues nothing, and
 * the deferred step (the leader no longer leads) fails the queued reads
 * without calling raft_barrier() on the deposed leader. */
static void
test_step_down_with_queued_reads(void **state)
{
    struct env *e = *state;
    struct waiter w[N_READS];
    struct raft *r = raft_fixture_get(&e->f, e->leader);

    memset(w, 0, sizeof w);
    /* Cut the leader off from both followers before its barrier can
     * commit. */
    for (unsigned i = 0; i < N; i++)
        if (i != e->leader) {
            raft_fixture_saturate(&e->f, e->leader, i);
            raft_fixture_saturate(&e->f, i, e->leader);
        }
    for (unsigned i = 0; i < N_READS; i++) {
        w[i].e = e;
        w[i].rw.done = waiter_done;
        reads_add(&e->reads, &w[i].rw);
    }
    assert_int_equal(e->reads.n_barriers, 1);
    assert_true(raft_fixture_step_until_state_is(&e->f, e->leader,
                                                 RAFT_FOLLOWER, 20000));
    step_until_done(e, w, N_READS, 100000);
    for (unsigned i = 0; i < N_READS; i++) {
        assert_int_not_equal(w[i].status, 0);
        assert_int_equal(w[i].barriers_at_done, 1);
    }
    /* One barrier only: the deposed leader was never asked for another. */
    assert_int_equal(e->reads.n_barriers, 1);
    assert_int_equal(raft_state(r), RAFT_FOLLOWER);
    assert_false(e->reads.busy);
    assert_false(e->reads.deferred);
    for (unsigned i = 0; i < N; i++)
        if (i != e->leader) {
            raft_fixture_desaturate(&e->f, e->leader, i);
            raft_fixture_desaturate(&e->f, i, e->leader);
        }
    assert_true(raft_fixture_step_until_has_leader(&e->f, 20000));
}

/* A deferral asked in one term is not carried out in another: if the
 * replica was deposed and re-elected before the deferred step ran, the
 * waiting reads fail (the router retries) instead of riding on a barrier of
 * a term they were not queued in. */
static void
test_deferred_checks_term(void **state)
{
    struct env *e = *state;
    struct waiter a = {.e = e}, b = {.e = e};

    a.rw.done = waiter_done;
    b.rw.done = waiter_done;
    reads_add(&e->reads, &a.rw);
    reads_add(&e->reads, &b.rw);
    /* Only b waits behind a's barrier. */
    while (!a.done)
        raft_fixture_step(&e->f);
    assert_int_equal(a.status, 0);
    assert_true(e->reads.deferred);
    e->reads.deferred_term--; /* as if asked in an earlier term */
    reads_run_deferred(&e->reads);
    assert_true(b.done);
    assert_int_equal(b.status, RAFT_LEADERSHIPLOST);
    assert_int_equal(e->reads.n_barriers, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reads_served_in_two_barriers,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_step_down_with_queued_reads, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_deferred_checks_term, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
