#include "node/replica/applier.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "common/admin/metrics.h"
#include "crash.h"
#include "log.h"
#include "tl_error.h"

/* Results of the last FSM_DONE_RING entries of a shard, for proposals
 * whose callback runs after the applier finished their entry. raft fires
 * a proposal's callback in the same loop turn as its apply(), so only the
 * entries of one commit batch can come in between. */
#define FSM_DONE_RING 1024
#define SLOW_APPLY_MS 100.0

struct fsm_queued {
    uint64_t index;
    size_t len;
    struct fsm_queued *next;
    uint8_t data[];
};

struct fsm_done_slot {
    uint64_t index;
    int status;
    struct fsm_result res;
};

static void
assert_locked(struct applier *a)
{
    /* An error-checking probe: trylock on a held mutex fails. */
    assert(pthread_mutex_trylock(&a->mu) == EBUSY);
    (void)a;
}

/* Put @f on the ready list (a->mu held). */
static void
make_ready(struct applier *a, struct node_fsm *f)
{
    assert_locked(a);
    if (f->q_ready)
        return;
    f->q_ready = true;
    f->q_next_ready = NULL;
    if (a->ready_tail != NULL)
        a->ready_tail->q_next_ready = f;
    else
        a->ready_head = f;
    a->ready_tail = f;
    pthread_cond_signal(&a->work_cv);
}

static struct node_fsm *
pop_ready(struct applier *a)
{
    struct node_fsm *f = a->ready_head;
    assert_locked(a);
    if (f == NULL)
        return NULL;
    a->ready_head = f->q_next_ready;
    if (a->ready_head == NULL)
        a->ready_tail = NULL;
    f->q_next_ready = NULL;
    f->q_ready = false;
    return f;
}

/* Apply one entry of @f, taken from its queue (called unlocked). */
static int
apply_one(struct node_fsm *f, const struct fsm_queued *q,
          struct fsm_result *res)
{
    double t0 = tl_clock_now_s(), ms;
    int rv = fsm_apply_entry(f, q->index, q->data, q->len, res);
    ms = (tl_clock_now_s() - t0) * 1000.0;
    if (f->apply_seconds != NULL)
        tl_metrics_observe(f->apply_seconds, ms / 1000.0);
    if (ms >= SLOW_APPLY_MS)
        tl_info("applier",
                "event=slow_apply shard=%u index=%llu bytes=%zu ms=%.0f",
                f->shard, (unsigned long long)q->index, q->len, ms);
    return rv;
}

/* The loop thread must win the CPU over applying: a loop that waits for a
 * core misses heartbeats just as a blocked one does. */
#define APPLIER_NICE 10

static void *
applier_main(void *arg)
{
    struct applier *a = arg;

    tl_crash_thread_init(); /* a stack overflow here is logged too */
    /* Linux: nice applies per thread. Failure leaves the default. */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), APPLIER_NICE) != 0)
        tl_warn("applier", "event=nice_failed");
    pthread_mutex_lock(&a->mu);
    for (;;) {
        struct node_fsm *f;
        struct fsm_queued *q;
        struct applier_waiter *done = NULL, **pw;
        struct fsm_done_slot *slot;
        struct fsm_result res = {0};
        int rv;

        while (a->ready_head == NULL && !a->stop)
            pthread_cond_wait(&a->work_cv, &a->mu);
        f = pop_ready(a);
        if (f == NULL)
            break; /* stopping, and nothing is queued */
        q = f->q_head;
        f->q_head = q->next;
        if (f->q_head == NULL)
            f->q_tail = NULL;
        f->q_bytes -= q->len;
        f->q_busy = true;
        f->q_busy_index = q->index;
        pthread_mutex_unlock(&a->mu);

        rv = apply_one(f, q, &res);
        if (rv != 0) {
            /* The shard's state would no longer follow its log: stop the
             * node; a restart replays the log from the stored index. */
            tl_error("applier",
                     "event=apply_failed shard=%u index=%llu err=\"%s\" "
                     "action=abort",
                     f->shard, (unsigned long long)q->index, tl_strerror(rv));
            abort();
        }

        pthread_mutex_lock(&a->mu);
        f->q_busy = false;
        f->q_done = q->index;
        slot = &f->q_ring[q->index % FSM_DONE_RING];
        slot->index = q->index;
        slot->status = rv;
        slot->res = res;
        for (pw = &f->q_waiters; *pw != NULL;) {
            struct applier_waiter *w = *pw;
            if (w->index <= q->index) {
                *pw = w->next;
                w->next = done;
                done = w;
            } else {
                pw = &w->next;
            }
        }
        if (f->q_head != NULL)
            make_ready(a, f); /* round-robin: one entry per shard per turn */
        a->n_applied++;
        pthread_cond_broadcast(&a->done_cv);
        pthread_mutex_unlock(&a->mu);

        while (done != NULL) {
            struct applier_waiter *w = done;
            struct fsm_done_slot *s = &f->q_ring[w->index % FSM_DONE_RING];
            done = w->next;
            /* Only this thread writes the ring; w->index <= q->index. */
            if (s->index == w->index)
                w->done(w, s->status, &s->res);
            else
                w->done(w, TL_EIO, NULL);
        }
        free(q);
        pthread_mutex_lock(&a->mu);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

int
applier_start(struct applier *a)
{
    pthread_mutexattr_t ma;

    memset(a, 0, sizeof *a);
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&a->mu, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_cond_init(&a->work_cv, NULL);
    {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&a->done_cv, &ca);
        pthread_condattr_destroy(&ca);
    }
    if (pthread_create(&a->thread, NULL, applier_main, a) != 0) {
        tl_error("applier", "event=thread_start_failed");
        return TL_EIO;
    }
    a->started = true;
    return 0;
}

void
applier_stop(struct applier *a)
{
    if (!a->started)
        return;
    pthread_mutex_lock(&a->mu);
    a->stop = true;
    pthread_cond_signal(&a->work_cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    a->started = false;
    pthread_cond_destroy(&a->work_cv);
    pthread_cond_destroy(&a->done_cv);
    pthread_mutex_destroy(&a->mu);
}

void
applier_attach(struct applier *a, struct node_fsm *f)
{
    f->applier = a;
    f->q_ring = calloc(FSM_DONE_RING, sizeof *f->q_ring);
    if (f->q_ring == NULL)
        abort();
}

void
applier_enqueue(struct node_fsm *f, uint64_t index, const void *data,
                size_t len)
{
    struct applier *a = f->applier;
    struct fsm_queued *q = malloc(sizeof *q + len);

    if (q == NULL)
        abort();
    q->index = index;
    q->len = len;
    q->next = NULL;
    memcpy(q->data, data, len);
    pthread_mutex_lock(&a->mu);
    if (f->q_tail != NULL)
        f->q_tail->next = q;
    else
        f->q_head = q;
    f->q_tail = q;
    f->q_bytes += len;
    f->q_last = index;
    make_ready(a, f);
    pthread_mutex_unlock(&a->mu);
}

void
applier_claim(struct node_fsm *f, void *result, struct applier_waiter *w)
{
    struct applier *a = f->applier;
    struct fsm_result res;
    struct fsm_done_slot s = {0};
    bool now = false;

    if (a == NULL) {
        fsm_result_unpack(result, &res);
        w->done(w, 0, &res);
        return;
    }
    w->index = (uint64_t)(uintptr_t)result;
    pthread_mutex_lock(&a->mu);
    if (w->index <= f->q_done) {
        s = f->q_ring[w->index % FSM_DONE_RING];
        now = true;
    } else {
        w->next = f->q_waiters;
        f->q_waiters = w;
    }
    pthread_mutex_unlock(&a->mu);
    if (now) {
        if (s.index == w->index)
            w->done(w, s.status, &s.res);
        else
            w->done(w, TL_EIO, NULL); /* left the ring: cannot say */
    }
}

/* Whether every entry of @f up to @index was applied (a->mu held). */
static bool
applied_through(const struct node_fsm *f, uint64_t index)
{
    return (f->q_head == NULL || f->q_head->index > index) &&
           (!f->q_busy || f->q_busy_index > index);
}

int
applier_wait(struct node_fsm *f, uint64_t index, uint32_t timeout_ms)
{
    struct applier *a = f->applier;
    struct timespec ts;
    int rv = 0;

    if (a == NULL)
        return 0;
    ts = tl_clock_after_ms(timeout_ms);
    pthread_mutex_lock(&a->mu);
    while (!applied_through(f, index) && rv != ETIMEDOUT)
        rv = pthread_cond_timedwait(&a->done_cv, &a->mu, &ts);
    rv = applied_through(f, index) ? 0 : TL_ETIMEOUT;
    pthread_mutex_unlock(&a->mu);
    return rv;
}

void
applier_drain(struct node_fsm *f)
{
    struct applier *a = f->applier;
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->mu);
    while (f->q_head != NULL || f->q_busy)
        pthread_cond_wait(&a->done_cv, &a->mu);
    pthread_mutex_unlock(&a->mu);
}

bool
applier_idle(struct node_fsm *f)
{
    struct applier *a = f->applier;
    bool idle;
    if (a == NULL)
        return true;
    pthread_mutex_lock(&a->mu);
    idle = f->q_head == NULL && !f->q_busy;
    pthread_mutex_unlock(&a->mu);
    return idle;
}

uint64_t
applier_done_index(struct node_fsm *f)
{
    struct applier *a = f->applier;
    uint64_t v;
    if (a == NULL)
        return fsm_applied(f);
    pthread_mutex_lock(&a->mu);
    v = f->q_done;
    pthread_mutex_unlock(&a->mu);
    return v;
}
