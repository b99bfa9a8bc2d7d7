#include "node/replica/reads.h"

#include <assert.h>
#include <stddef.h>

void
reads_init(struct reads *r, struct raft *raft, void (*defer)(struct reads *r),
           void *data)
{
    r->raft = raft;
    r->busy = false;
    r->deferred = false;
    r->deferred_term = 0;
    r->wait = NULL;
    r->batch = NULL;
    r->defer = defer;
    r->data = data;
    r->n_barriers = 0;
}

static void
complete_list(struct read_waiter *w, int status)
{
    while (w != NULL) {
        struct read_waiter *next = w->next;
        w->next = NULL;
        w->done(w, status);
        w = next;
    }
}

void
reads_fail_waiting(struct reads *r, int status)
{
    struct read_waiter *w = r->wait;
    r->wait = NULL;
    r->deferred = false;
    complete_list(w, status);
}

static void barrier_cb(struct raft_barrier *req, int status);

/* Issue a barrier for every waiting read. Not from a raft callback. */
static void
issue(struct reads *r)
{
    int rv;

    assert(!r->busy);
    if (r->wait == NULL)
        return;
    if (raft_state(r->raft) != RAFT_LEADER) {
        reads_fail_waiting(r, RAFT_NOTLEADER);
        return;
    }
    r->batch = r->wait;
    r->wait = NULL;
    r->barrier.data = r;
    r->busy = true;
    r->n_barriers++;
    rv = raft_barrier(r->raft, &r->barrier, barrier_cb);
    if (rv != 0) {
        /* The callback will not run. */
        struct read_waiter *b = r->batch;
        r->batch = NULL;
        r->busy = false;
        complete_list(b, rv);
    }
}

/* Runs inside raft, possibly during a step-down: complete, never
 * re-enter. */
static void
barrier_cb(struct raft_barrier *req, int status)
{
    struct reads *r = req->data;
    struct read_waiter *b = r->batch;

    r->batch = NULL;
    r->busy = false;
    /* A deposed leader's barrier fails: its reads must not be served. */
    complete_list(b, status);
    if (r->wait != NULL && !r->deferred) {
        r->deferred = true;
        r->deferred_term = raft_current_term(r->raft);
        r->defer(r);
    }
}

void
reads_run_deferred(struct reads *r)
{
    if (!r->deferred)
        return;
    r->deferred = false;
    if (r->busy)
        return; /* a barrier was issued meanwhile: it takes the waiters */
    if (raft_state(r->raft) != RAFT_LEADER ||
        raft_current_term(r->raft) != r->deferred_term) {
        reads_fail_waiting(r, RAFT_LEADERSHIPLOST);
        return;
    }
    issue(r);
}

void
reads_add(struct reads *r, struct read_waiter *w)
{
    w->next = r->wait;
    r->wait = w;
    if (!r->busy && !r->deferred)
        issue(r);
}
