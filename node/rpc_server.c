#include "rpc_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/protocol/reqrep0/rep.h>

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
    struct rpc_server *s = arg;
    struct tl_buf reply;
    nng_aio *aio;
    nng_ctx ctx;

    if (nng_ctx_open(&ctx, s->sock) != 0)
        return NULL;
    if (nng_aio_alloc(&aio, NULL, NULL) != 0) {
        nng_ctx_close(ctx);
        return NULL;
    }
    tl_buf_init(&reply);
    for (;;) {
        nng_msg *in;
        int rv;
        nng_ctx_recv(ctx, aio);
        nng_aio_wait(aio);
        rv = nng_aio_result(aio);
        if (rv == NNG_ECLOSED)
            break;
        if (rv != 0)
            continue;
        in = nng_aio_get_msg(aio);
        tl_buf_reset(&reply);
        s->handler(s->arg, nng_msg_body(in), nng_msg_len(in), &reply);
        nng_msg_free(in);
        send_reply(ctx, aio, &reply);
    }
    tl_buf_close(&reply);
    nng_aio_free(aio);
    nng_ctx_close(ctx);
    return NULL;
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
    s->threads = calloc((size_t)n_workers, sizeof *s->threads);
    if (s->threads == NULL)
        abort();
    for (int i = 0; i < n_workers; i++) {
        if (pthread_create(&s->threads[i], NULL, worker_main, s) != 0) {
            snprintf(errbuf, errlen, "pthread_create failed");
            s->started = 1;
            rpc_server_stop(s);
            return TL_EIO;
        }
        s->n_threads++;
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
    if (!s->started)
        return;
    nng_close(s->sock);
    for (size_t i = 0; i < s->n_threads; i++)
        pthread_join(s->threads[i], NULL);
    free(s->threads);
    s->threads = NULL;
    s->n_threads = 0;
    s->started = 0;
}
