/* replica_task — tasks handed from workers (and the fetcher) to the
 * loop: creation and references, the locked queue the loop drains on its
 * async handle, the in-flight writes by request id, and waiting for an
 * outcome. Locks: the set's qmu (queue), inflight_mu (taken before a
 * task's mu, never after), each task's mu. */
#include "node/replica/replica_int.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"

struct proposal *
replica_task_create(enum task_kind kind, struct replica *sh, uint32_t shard)
{
    struct proposal *p = calloc(1, sizeof *p);
    pthread_condattr_t ca;

    if (p == NULL)
        abort();
    p->kind = kind;
    p->sh = sh;
    p->shard = shard;
    p->refs = 2;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    return p;
}

void
replica_task_unref(struct proposal *p)
{
    bool last;
    pthread_mutex_lock(&p->mu);
    last = --p->refs == 0;
    pthread_mutex_unlock(&p->mu);
    if (!last)
        return;
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

/* Take @p out of the in-flight writes (no-op if it is not there). */
void
replica_task_inflight_unlink(struct replica_set *rs, struct proposal *p)
{
    pthread_mutex_lock(&rs->inflight_mu);
    if (p->in_flight) {
        struct proposal **pp = &rs->inflight;
        while (*pp != p)
            pp = &(*pp)->inflight_next;
        *pp = p->inflight_next;
        p->in_flight = false;
    }
    pthread_mutex_unlock(&rs->inflight_mu);
}

/* On the loop (or the applier): record the outcome, wake the worker, drop
 * our reference. */
void
replica_task_finish(struct proposal *p, int status, int raft_rv,
                    const struct fsm_result *res)
{
    if (p->kind == TASK_WRITE && p->sh != NULL)
        replica_task_inflight_unlink(p->sh->rs, p);
    pthread_mutex_lock(&p->mu);
    p->done = true;
    p->status = status;
    p->raft_rv = raft_rv;
    if (p->sh != NULL && status == TL_ENOTLEADER)
        p->leader_hint = atomic_load(&p->sh->leader_id);
    if (res != NULL)
        p->res = *res;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    replica_task_unref(p);
}

void
replica_task_complete(struct proposal *p, int status, int raft_rv)
{
    replica_task_finish(p, status, raft_rv, NULL);
}

/* Take the whole queue (and whether we were asked to stop). */
struct proposal *
replica_task_take(struct replica_set *rs, bool stop)
{
    struct proposal *head;
    pthread_mutex_lock(&rs->qmu);
    head = rs->qhead;
    rs->qhead = rs->qtail = NULL;
    if (stop)
        rs->stopping = true;
    pthread_mutex_unlock(&rs->qmu);
    return head;
}

bool
replica_task_enqueue(struct replica_set *rs, struct proposal *p)
{
    pthread_mutex_lock(&rs->qmu);
    if (rs->stopping) {
        pthread_mutex_unlock(&rs->qmu);
        return false;
    }
    if (rs->qtail != NULL)
        rs->qtail->next = p;
    else
        rs->qhead = p;
    rs->qtail = p;
    /* Under qmu: the loop closes the async only after setting stopping. */
    uv_async_send(&rs->async);
    pthread_mutex_unlock(&rs->qmu);
    return true;
}

/* Wait for @p at most @ms; true if it completed. */
bool
replica_task_wait(struct proposal *p, uint32_t ms)
{
    struct timespec ts = tl_clock_after_ms(ms);
    int rv = 0;

    pthread_mutex_lock(&p->mu);
    while (!p->done && rv != ETIMEDOUT)
        rv = pthread_cond_timedwait(&p->cv, &p->mu, &ts);
    pthread_mutex_unlock(&p->mu);
    return p->done;
}

/* Enqueue @p and wait at most @ms: its status, or TL_ESHUTDOWN /
 * TL_ETIMEOUT. Drops the worker's reference unless it returns
 * TL_ESHUTDOWN before enqueueing (then @p is freed here too). */
int
replica_task_submit_wait(struct replica_set *rs, struct proposal *p,
                         uint32_t ms)
{
    if (!replica_task_enqueue(rs, p)) {
        if (p->kind == TASK_WRITE) {
            replica_task_inflight_unlink(rs, p);
            raft_free(p->buf.base);
        }
        p->refs = 1;
        return TL_ESHUTDOWN;
    }
    if (!replica_task_wait(p, ms))
        return TL_ETIMEOUT;
    return p->status;
}

/* The write of @sh under @request_id in flight, with a reference taken,
 * or NULL. */
struct proposal *
replica_task_find_inflight(struct replica *sh, uint64_t request_id)
{
    struct replica_set *rs = sh->rs;
    struct proposal *p;

    pthread_mutex_lock(&rs->inflight_mu);
    for (p = rs->inflight; p != NULL; p = p->inflight_next)
        if (p->request_id == request_id && p->sh == sh)
            break;
    if (p != NULL) {
        pthread_mutex_lock(&p->mu);
        p->refs++;
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_unlock(&rs->inflight_mu);
    return p;
}

void
replica_task_inflight_add(struct replica_set *rs, struct proposal *p)
{
    pthread_mutex_lock(&rs->inflight_mu);
    p->in_flight = true;
    p->inflight_next = rs->inflight;
    rs->inflight = p;
    pthread_mutex_unlock(&rs->inflight_mu);
}
