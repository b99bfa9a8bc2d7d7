#include "node/rpc/rpc_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/protocol/reqrep0/rep.h>

#include "crash.h"
#include "log.h"
#include "tl_error.h"

/* Send @reply on @ctx; the message is ours again if sending fails. */
static void
send_reply(nng_ctx ctx, nng_aio *aio, const struct tl_buf *reply)
{
    nng_msg *out;
    if (nng_msg_alloc(&out, 0) != 0)
        return;
    if (reply->len > 0 && nng_msg_append(out, reply->data, reply->len) != 0) {
        nng_msg_free(out);
        return;
    }
    nng_aio_set_msg(aio, out);
    nng_ctx_send(ctx, aio);
    nng_aio_wait(aio);
    if (nng_aio_result(aio) != 0)
        nng_msg_free(out);
}

static void *
worker_main(void *arg)
{
    struct rpc_worker *w = arg;
    struct rpc_server *s = w->server;
    struct tl_buf reply;

    /* Scans evaluate expressions recursively: an overflow here is logged
     * too (common/crash.h). */
    tl_crash_thread_init();
    tl_buf_init(&reply);
    for (;;) {
        nng_msg *in;
        int rv;
        nng_ctx_recv(w->ctx, w->aio);
        nng_aio_wait(w->aio);
        rv = nng_aio_result(w->aio);
        /* Stopped (rpc_server_stop) or closed: every later receive fails
         * at once too. */
        if (rv == NNG_ECANCELED || rv == NNG_ECLOSED)
            break;
        if (rv != 0)
            continue;
        in = nng_aio_get_msg(w->aio);
        tl_buf_reset(&reply);
        s->handler(s->arg, nng_msg_body(in), nng_msg_len(in), &reply);
        nng_msg_free(in);
        send_reply(w->ctx, w->aio, &reply);
    }
    tl_buf_close(&reply);
    return NULL;
}

/* Release the contexts and aios of workers [0, n). */
static void
free_workers(struct rpc_server *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        nng_aio_free(s->workers[i].aio);
        nng_ctx_close(s->workers[i].ctx);
    }
    free(s->workers);
    s->workers = NULL;
}

int
rpc_server_start(struct rpc_server *s, const char *addr, int n_workers,
                 rpc_handler_fn handler, void *arg, char *errbuf, size_t errlen)
{
    char url[300];
    int rv;

    memset(s, 0, sizeof *s);
    s->handler = handler;
    s->arg = arg;
    rv = nng_rep0_open(&s->sock);
    if (rv != 0) {
        snprintf(errbuf, errlen, "nng_rep0_open: %s", nng_strerror(rv));
        return TL_EIO;
    }
    nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, RPC_RECV_MAX);
    snprintf(url, sizeof url, "tcp://%s", addr);
    rv = nng_listen(s->sock, url, NULL, 0);
    if (rv != 0) {
        snprintf(errbuf, errlen, "listen %s: %s", url, nng_strerror(rv));
        goto err_sock;
    }
    s->workers = calloc((size_t)n_workers, sizeof *s->workers);
    if (s->workers == NULL)
        abort();
    s->n_alloc = (size_t)n_workers;
    for (int i = 0; i < n_workers; i++) {
        struct rpc_worker *w = &s->workers[i];
        w->server = s;
        if (nng_ctx_open(&w->ctx, s->sock) != 0) {
            snprintf(errbuf, errlen, "nng_ctx_open failed");
            free_workers(s, (size_t)i);
            goto err_sock;
        }
        if (nng_aio_alloc(&w->aio, NULL, NULL) != 0) {
            nng_ctx_close(w->ctx);
            free_workers(s, (size_t)i);
            snprintf(errbuf, errlen, "nng_aio_alloc failed");
            goto err_sock;
        }
    }
    for (int i = 0; i < n_workers; i++) {
        if (pthread_create(&s->workers[i].thread, NULL, worker_main,
                           &s->workers[i]) != 0) {
            snprintf(errbuf, errlen, "pthread_create failed");
            s->started = 1;
            rpc_server_stop(s);
            return TL_EIO;
        }
        s->n_workers++;
    }
    s->started = 1;
    return 0;

err_sock:
    nng_close(s->sock);
    return TL_EIO;
}

void
rpc_server_stop(struct rpc_server *s)
{
    size_t n_allocated;

    if (!s->started)
        return;
    /* Workers first, socket last: nng 1.5 can tear down a rep0 socket's
     * state under a context that a worker is about to send a reply on. */
    for (size_t i = 0; i < s->n_workers; i++)
        nng_aio_stop(s->workers[i].aio);
    for (size_t i = 0; i < s->n_workers; i++)
        pthread_join(s->workers[i].thread, NULL);
    /* Every worker slot was allocated, even those whose thread did not
     * start. */
    n_allocated = s->workers != NULL ? s->n_alloc : 0;
    free_workers(s, n_allocated);
    nng_close(s->sock);
    s->n_workers = 0;
    s->started = 0;
}
