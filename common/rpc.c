#include "rpc.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "log.h"
#include "tl_error.h"

#define RPC_MAX_REPLY (128u << 20)

/* @mu guards @receiving, the calls whose request went out and that wait
 * for a reply: when the connection drops they are aborted at once (nng
 * would otherwise keep them queued until their timeout). */
struct tl_rpc_client {
    nng_socket sock;
    char url[160];
    _Atomic int connect_timeout_ms; /* 0: the call's whole timeout */
    pthread_mutex_t mu;
    struct tl_rpc_call *receiving; /* doubly linked through prev/next */
};

enum call_state { CALL_SENDING, CALL_RECEIVING, CALL_DONE };

/* One request in flight. The aio callback advances the state (send, then
 * receive) and the waiting thread sleeps on @cond until CALL_DONE. The aio
 * is freed only by the waiter: nng_aio_free() inside the callback would
 * deadlock. A call is on its client's @receiving list exactly while its
 * state is CALL_RECEIVING, so the waiter never frees a listed call. */
struct tl_rpc_call {
    struct tl_rpc_client *client;
    struct tl_rpc_call *prev, *next;
    nng_ctx ctx;
    nng_aio *aio;
    uint64_t request_id;
    nng_time deadline;
    /* Written by the aio callback (CALL_RECEIVING also under the client's
     * mu, with the list) and always under @mu, read under @mu by the
     * waiter; the callback reads it without a lock (only it writes). */
    enum call_state state;
    int rv;
    nng_msg *reply;
    pthread_mutex_t mu;
    pthread_cond_t cond;
};

static int
map_nng(int e)
{
    switch (e) {
    case 0:
        return 0;
    case NNG_ETIMEDOUT:
        return TL_ETIMEOUT;
    case NNG_ENOMEM:
        return TL_ENOMEM;
    case NNG_ECLOSED:
    case NNG_ECANCELED:
        return TL_ESHUTDOWN;
    default:
        return TL_EUNAVAILABLE;
    }
}

/* Runs on nng's reaper thread after a connection closed (no socket lock
 * held): abort the calls waiting for a reply on it, so their callers learn
 * now, not at their timeout, that the outcome is unknown. */
static void
pipe_removed_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    struct tl_rpc_client *c = arg;
    (void)p;
    (void)ev;
    pthread_mutex_lock(&c->mu);
    for (struct tl_rpc_call *call = c->receiving; call != NULL;
         call = call->next)
        nng_aio_abort(call->aio, NNG_ECONNRESET);
    pthread_mutex_unlock(&c->mu);
}

int
tl_rpc_client_create(const char *addr, struct tl_rpc_client **out)
{
    struct tl_rpc_client *c;
    int rv;

    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return TL_ENOMEM;
    pthread_mutex_init(&c->mu, NULL);
    atomic_init(&c->connect_timeout_ms, 0);
    if (snprintf(c->url, sizeof(c->url), "tcp://%s", addr) >=
        (int)sizeof(c->url)) {
        rv = TL_EINVAL;
        goto err_alloc;
    }
    rv = nng_req0_open(&c->sock);
    if (rv != 0) {
        rv = map_nng(rv);
        goto err_alloc;
    }
    /* A REQ socket re-sends after 60 s by default; a duplicate write is
     * worse than a timeout the caller can see, so never re-send. */
    nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 50);
    nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 1000);
    nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, RPC_MAX_REPLY);
    nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, pipe_removed_cb, c);
    rv = nng_dial(c->sock, c->url, NULL, NNG_FLAG_NONBLOCK);
    if (rv != 0) {
        tl_error("rpc", "event=dial_failed url=%s err=\"%s\"", c->url,
                 nng_strerror(rv));
        rv = TL_EINVAL;
        goto err_sock;
    }
    *out = c;
    return 0;

err_sock:
    nng_close(c->sock);
err_alloc:
    pthread_mutex_destroy(&c->mu);
    free(c);
    return rv;
}

void
tl_rpc_client_destroy(struct tl_rpc_client *c)
{
    if (c == NULL)
        return;
    nng_close(c->sock);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void
tl_rpc_client_set_connect_timeout(struct tl_rpc_client *c, int ms)
{
    atomic_store(&c->connect_timeout_ms, ms > 0 ? ms : 0);
}

static atomic_uint_fast64_t next_id;
static pthread_once_t next_id_once = PTHREAD_ONCE_INIT;

/* Start ids at 40 random high bits, so ids from different processes do not
 * collide in practice; the low bits count up. */
static void
seed_next_id(void)
{
    uint64_t r = 0;
    if (getrandom(&r, sizeof(r), 0) != sizeof(r))
        r = (uint64_t)time(NULL) * 2654435761u;
    atomic_store(&next_id, (r << 24) | 1);
}

uint64_t
tl_rpc_next_id(void)
{
    pthread_once(&next_id_once, seed_next_id);
    return atomic_fetch_add(&next_id, 1);
}

static void
finish(struct tl_rpc_call *call, int rv)
{
    if (call->state == CALL_RECEIVING) {
        struct tl_rpc_client *c = call->client;
        pthread_mutex_lock(&c->mu);
        if (call->prev != NULL)
            call->prev->next = call->next;
        else
            c->receiving = call->next;
        if (call->next != NULL)
            call->next->prev = call->prev;
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_lock(&call->mu);
    call->rv = rv;
    call->state = CALL_DONE;
    pthread_cond_signal(&call->cond);
    pthread_mutex_unlock(&call->mu);
}

/* Runs on an nng thread: must not block. */
static void
call_cb(void *arg)
{
    struct tl_rpc_call *call = arg;
    int e = nng_aio_result(call->aio);

    if (call->state == CALL_SENDING) {
        if (e != 0) {
            /* Not handed to a connection: the node never saw it. */
            nng_msg_free(nng_aio_get_msg(call->aio));
            nng_aio_set_msg(call->aio, NULL);
            finish(call, e == NNG_ETIMEDOUT ? TL_EUNAVAILABLE : map_nng(e));
            return;
        }
        nng_time now = nng_clock();
        if (now >= call->deadline) {
            finish(call, TL_ETIMEOUT);
            return;
        }
        struct tl_rpc_client *c = call->client;
        pthread_mutex_lock(&c->mu);
        pthread_mutex_lock(&call->mu); /* the waiter reads the state */
        call->state = CALL_RECEIVING;
        pthread_mutex_unlock(&call->mu);
        call->prev = NULL;
        call->next = c->receiving;
        if (c->receiving != NULL)
            c->receiving->prev = call;
        c->receiving = call;
        pthread_mutex_unlock(&c->mu);
        nng_aio_set_timeout(call->aio, (nng_duration)(call->deadline - now));
        nng_ctx_recv(call->ctx, call->aio);
        return;
    }
    if (e != 0) {
        /* Sent, then no reply: in time, or before the connection broke.
         * Either way the node may have executed the request. */
        finish(call, e == NNG_ECLOSED ? TL_ESHUTDOWN : TL_ETIMEOUT);
        return;
    }
    call->reply = nng_aio_get_msg(call->aio);
    nng_aio_set_msg(call->aio, NULL);
    finish(call, 0);
}

int
tl_rpc_call_start(struct tl_rpc_client *c, const Talus__Request *req,
                  int timeout_ms, struct tl_rpc_call **out)
{
    struct tl_rpc_call *call;
    nng_msg *msg;
    size_t len;
    int rv;

    call = calloc(1, sizeof(*call));
    if (call == NULL)
        return TL_ENOMEM;
    pthread_mutex_init(&call->mu, NULL);
    /* Monotonic: tl_rpc_call_done() waits with a relative timeout. */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&call->cond, &ca);
    pthread_condattr_destroy(&ca);
    call->client = c;
    call->request_id = req->request_id;
    call->state = CALL_SENDING;
    call->deadline = nng_clock() + (nng_time)(timeout_ms > 0 ? timeout_ms : 1);

    len = talus__request__get_packed_size(req);
    rv = nng_msg_alloc(&msg, len);
    if (rv != 0) {
        rv = TL_ENOMEM;
        goto err_call;
    }
    talus__request__pack(req, nng_msg_body(msg));
    rv = nng_ctx_open(&call->ctx, c->sock);
    if (rv != 0) {
        rv = map_nng(rv);
        goto err_msg;
    }
    rv = nng_aio_alloc(&call->aio, call_cb, call);
    if (rv != 0) {
        rv = TL_ENOMEM;
        goto err_ctx;
    }
    /* nng queues a request while no connection is up: give up on sending
     * after the connect timeout, so a dead node is noticed quickly. */
    int send_ms = timeout_ms > 0 ? timeout_ms : 1;
    int connect_ms = atomic_load(&c->connect_timeout_ms);
    if (connect_ms > 0 && connect_ms < send_ms)
        send_ms = connect_ms;
    nng_aio_set_timeout(call->aio, send_ms);
    nng_aio_set_msg(call->aio, msg);
    nng_ctx_send(call->ctx, call->aio);
    *out = call;
    return 0;

err_ctx:
    nng_ctx_close(call->ctx);
err_msg:
    nng_msg_free(msg);
err_call:
    pthread_cond_destroy(&call->cond);
    pthread_mutex_destroy(&call->mu);
    free(call);
    return rv;
}

int
tl_rpc_call_wait(struct tl_rpc_call *call, Talus__Response **resp)
{
    Talus__Response *r = NULL;
    int rv;

    pthread_mutex_lock(&call->mu);
    while (call->state != CALL_DONE)
        pthread_cond_wait(&call->cond, &call->mu);
    rv = call->rv;
    pthread_mutex_unlock(&call->mu);

    nng_aio_free(call->aio);
    nng_ctx_close(call->ctx);
    if (rv == 0) {
        r = talus__response__unpack(NULL, nng_msg_len(call->reply),
                                    nng_msg_body(call->reply));
        if (r == NULL) {
            rv = TL_EPROTO;
        } else if (r->request_id != call->request_id) {
            talus__response__free_unpacked(r, NULL);
            r = NULL;
            rv = TL_EPROTO;
        }
    }
    if (call->reply != NULL)
        nng_msg_free(call->reply);
    pthread_cond_destroy(&call->cond);
    pthread_mutex_destroy(&call->mu);
    free(call);
    *resp = r;
    return rv;
}

bool
tl_rpc_call_done(struct tl_rpc_call *call, int wait_ms)
{
    struct timespec until;
    bool done;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&call->mu);
    while (call->state != CALL_DONE && wait_ms > 0)
        if (pthread_cond_timedwait(&call->cond, &call->mu, &until) != 0)
            break;
    done = call->state == CALL_DONE;
    pthread_mutex_unlock(&call->mu);
    return done;
}

void
tl_rpc_call_abort(struct tl_rpc_call *call)
{
    /* The callback sees NNG_ETIMEDOUT as for a timeout: TL_EUNAVAILABLE
     * while sending, TL_ETIMEOUT once sent. */
    nng_aio_abort(call->aio, NNG_ETIMEDOUT);
}

int
tl_rpc_call(struct tl_rpc_client *c, const Talus__Request *req, int timeout_ms,
            Talus__Response **resp)
{
    struct tl_rpc_call *call;
    int rv = tl_rpc_call_start(c, req, timeout_ms, &call);
    if (rv != 0)
        return rv;
    return tl_rpc_call_wait(call, resp);
}
