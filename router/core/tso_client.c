/* tso_client — batched timestamps from the oracle (tso_client.h). */
#include "router/core/tso_client.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "common/base/sqlstate.h"
#include "common/client/client.h"
#include "log.h"
#include "router/core/router.h"
#include "router/core/router_int.h"
#include "rpc.h"

#define MOD "tso"

/* One caller waiting in a batch: on its own stack, linked into the open
 * batch until a sender takes it, filled by that sender. Every field but
 * @err's contents is under c->mu; the sender writes *@err under c->mu
 * too, and the waiter reads it after it saw @done. */
struct tso_waiter {
    struct tso_waiter *next;
    int64_t deadline_ms; /* resolved: statement's, else now + budget */
    bool stmt_deadline;  /* the deadline is a statement_timeout */
    bool taken;          /* in a sent batch, no longer in the open one */
    bool done;           /* @rv (and @ts or *@err) are set */
    int rv;
    uint64_t ts;
    struct tl_error *err; /* the caller's */
};

struct tso_client {
    struct tso_client_ops ops; /* read-only after create */

    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC; broadcast when a batch ends */
    /* For held() in asserts: the thread holding mu, written only by that
     * thread while it holds it. */
    _Atomic(pthread_t) owner;
    _Atomic bool locked;

    /* Every field below is under mu (asserted where they change). */
    /* A TsoRequest is out: only its sender sends, and clears it when the
     * answer is back. */
    bool in_flight;
    /* The open batch: the callers that began while no request they can
     * use was out, in arrival order; n_open of them. */
    struct tso_waiter *head;
    struct tso_waiter **tail;
    uint32_t n_open;
    uint64_t n_requests;   /* TsoRequests sent */
    uint64_t n_timestamps; /* timestamps handed out */
};

static void
lock(struct tso_client *c)
{
    pthread_mutex_lock(&c->mu);
    atomic_store(&c->owner, pthread_self());
    atomic_store(&c->locked, true);
}

static void
unlock(struct tso_client *c)
{
    atomic_store(&c->locked, false);
    pthread_mutex_unlock(&c->mu);
}

#ifndef NDEBUG
/* Whether the calling thread holds c->mu (for asserts). */
static bool
held(struct tso_client *c)
{
    return atomic_load(&c->locked) &&
           pthread_equal(atomic_load(&c->owner), pthread_self());
}
#endif

/* pthread_cond_wait() on c->cv, keeping the owner marks right. */
static int
wait_until(struct tso_client *c, const struct timespec *abs)
{
    int rv;
    assert(held(c));
    atomic_store(&c->locked, false);
    if (abs != NULL)
        rv = pthread_cond_timedwait(&c->cv, &c->mu, abs);
    else
        rv = pthread_cond_wait(&c->cv, &c->mu);
    atomic_store(&c->owner, pthread_self());
    atomic_store(&c->locked, true);
    return rv;
}

int
tso_client_create(const struct tso_client_ops *ops, struct tso_client **out)
{
    pthread_condattr_t ca;
    struct tso_client *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return TL_ENOMEM;
    assert(ops->fetch_cb != NULL && ops->default_budget_ms > 0);
    c->ops = *ops;
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&c->locked, false);
    c->tail = &c->head;
    *out = c;
    return 0;
}

void
tso_client_destroy(struct tso_client *c)
{
    if (c == NULL)
        return;
    assert(!c->in_flight && c->head == NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* Take up to TSO_CLIENT_MAX_COUNT callers off the front of the open batch
 * into *@batch: their number, their latest deadline, and whether every
 * one is a statement_timeout. Under mu. */
static uint32_t
take_batch(struct tso_client *c, struct tso_waiter **batch, int64_t *deadline,
           bool *stmt_deadline)
{
    uint32_t n = 0;
    struct tso_waiter *w = c->head, *last = NULL;
    assert(held(c));
    *deadline = 0;
    *stmt_deadline = true;
    while (w != NULL && n < TSO_CLIENT_MAX_COUNT) {
        if (w->deadline_ms > *deadline)
            *deadline = w->deadline_ms;
        *stmt_deadline = *stmt_deadline && w->stmt_deadline;
        w->taken = true;
        last = w;
        w = w->next;
        n++;
    }
    assert(n > 0);
    *batch = c->head;
    last->next = NULL;
    c->head = w;
    if (w == NULL)
        c->tail = &c->head;
    c->n_open -= n;
    return n;
}

/* Send one request for the front of the open batch and hand out its
 * answer. Called and returns with mu held (dropped for the RPC); c->in_flight
 * is false on entry and on return. */
static void
send_batch(struct tso_client *c)
{
    struct tso_waiter *batch;
    struct tl_error err;
    int64_t deadline;
    bool stmt;
    uint64_t first = 0;

    assert(held(c) && !c->in_flight && c->head != NULL);
    uint32_t n = take_batch(c, &batch, &deadline, &stmt);
    c->in_flight = true;
    c->n_requests++;
    unlock(c);

    tl_error_clear(&err);
    int rv = c->ops.fetch_cb(c->ops.arg, n, deadline, stmt, &first, &err);
    if (rv != 0)
        tl_debug(MOD, "event=tso_failed count=%u rv=%d sqlstate=%s msg=\"%s\"",
                 n, rv, err.sqlstate, err.message);

    lock(c);
    assert(c->in_flight);
    uint64_t i = 0;
    for (struct tso_waiter *w = batch; w != NULL; w = w->next, i++) {
        w->rv = rv;
        if (rv == 0)
            w->ts = first + i;
        else
            *w->err = err;
        w->done = true;
    }
    assert(i == n);
    if (rv == 0)
        c->n_timestamps += n;
    c->in_flight = false;
    /* Wakes this batch's callers, and the open batch's: one of those
     * sends next. */
    pthread_cond_broadcast(&c->cv);
}

/* Remove @me from the open batch (its deadline passed before it was
 * sent). Under mu. */
static void
leave_open(struct tso_client *c, struct tso_waiter *me)
{
    struct tso_waiter **p = &c->head;
    assert(held(c));
    while (*p != me)
        p = &(*p)->next;
    *p = me->next;
    if (c->tail == &me->next)
        c->tail = p;
    c->n_open--;
}

int
tso_client_get_until(struct tso_client *c, int64_t deadline_ms, uint64_t *ts,
                     struct tl_error *err)
{
    struct tso_waiter me = {.err = err};
    int64_t now = router_now_ms();

    me.stmt_deadline = deadline_ms > 0;
    me.deadline_ms =
        deadline_ms > 0 ? deadline_ms : now + c->ops.default_budget_ms;
    struct timespec abs = {.tv_sec = me.deadline_ms / 1000,
                           .tv_nsec = (me.deadline_ms % 1000) * 1000000};

    lock(c);
    assert(c->n_open < UINT32_MAX);
    /* Join the open batch: no request sent before this point serves it. */
    *c->tail = &me;
    c->tail = &me.next;
    c->n_open++;
    while (!me.done) {
        /* The sender of a batch dequeues it before it unlocks, so "not
         * in flight" means nobody serves the open batch: whoever of it
         * wakes first sends. */
        if (!c->in_flight) {
            send_batch(c);
            continue;
        }
        if (!me.taken && router_now_ms() >= me.deadline_ms) {
            leave_open(c, &me);
            unlock(c);
            if (me.stmt_deadline)
                return tl_error_set(err, TL_ETIMEOUT,
                                    TL_SQLSTATE_QUERY_CANCELED,
                                    "canceling statement due to statement "
                                    "timeout");
            return tl_error_set(err, TL_ETIMEOUT,
                                TL_SQLSTATE_CONNECTION_FAILURE,
                                "the timestamp oracle did not answer in time");
        }
        /* Once taken into the batch in flight, its sender answers within
         * that batch's deadline (the latest of its callers'). */
        wait_until(c, me.taken ? NULL : &abs);
    }
    int rv = me.rv;
    if (rv == 0)
        *ts = me.ts;
    unlock(c);
    return rv;
}

int
tso_client_get(struct tso_client *c, uint64_t *ts, struct tl_error *err)
{
    return tso_client_get_until(c, 0, ts, err);
}

void
tso_client_stats(struct tso_client *c, struct tso_client_stats *out)
{
    lock(c);
    out->n_requests = c->n_requests;
    out->n_timestamps = c->n_timestamps;
    out->n_waiting = c->n_open;
    unlock(c);
}

/* ------------------------------------------------------------ the RPC */

int
tso_client_rpc_fetch(void *arg, uint32_t count, int64_t deadline_ms,
                     bool stmt_deadline, uint64_t *first, struct tl_error *err)
{
    struct router *r = arg;
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__TsoRequest tr = TALUS__TSO_REQUEST__INIT;
    Talus__Response *resp = NULL;
    struct tl_client_retry t;

    assert(count >= 1 && count <= TSO_CLIENT_MAX_COUNT);
    tr.count = count;
    req.request_id = tl_rpc_next_id();
    req.has_shard = 1;
    req.shard = TL_META_GROUP;
    req.body_case = TALUS__REQUEST__BODY_TSO;
    req.tso = &tr;
    tl_client_retry_init(&r->client, &t, TL_META_GROUP, TL_CLIENT_READ,
                         deadline_ms);
    t.stmt_deadline = stmt_deadline;
    int rv = tl_client_call(&r->client, &t, &req, &resp);
    if (rv != 0)
        return tl_client_retry_error(&r->client, &t, err);
    rv = router_call_result(r, TL_META_GROUP, 0, resp, err);
    if (rv == 0 && !resp->has_timestamp)
        rv = tl_error_set(err, TL_EPROTO, TL_SQLSTATE_INTERNAL_ERROR,
                          "the timestamp oracle answered without a "
                          "timestamp");
    if (rv == 0)
        *first = resp->timestamp;
    talus__response__free_unpacked(resp, NULL);
    return rv;
}
