/* rpc_server — the node's nng rep0 listener and its worker threads.
 *
 * Each worker owns one nng context and loops synchronously: receive a
 * request, call the handler, send its reply. Blocking is fine there (these
 * are our threads, not nng callbacks), so a handler may wait for a raft
 * commit. Requests are handled in parallel, one per worker. */
#ifndef NODE_RPC_SERVER_H
#define NODE_RPC_SERVER_H

#include <nng/nng.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define RPC_RECV_MAX ((size_t)128 << 20)

/* Handle request @req/@len (borrowed) and append the reply to @reply (an
 * empty buffer). Runs on a worker thread; must be thread-safe. */
typedef void (*rpc_handler_fn)(void *arg, const uint8_t *req, size_t len,
                               struct tl_buf *reply);

struct rpc_worker {
    struct rpc_server *server;
    nng_ctx ctx;
    nng_aio *aio; /* no callback: the worker waits on it */
    pthread_t thread;
};

struct rpc_server {
    nng_socket sock;
    struct rpc_worker *workers;
    size_t n_alloc;   /* workers allocated (contexts, aios) */
    size_t n_workers; /* threads started */
    rpc_handler_fn handler;
    void *arg;
    int started;
};

/** Listen on tcp://@addr ("host:port") and start @n_workers threads that
 * serve requests with @handler(@arg, ...). TL_EIO with @errbuf saying why
 * (address in use...). On success stop with rpc_server_stop(). */
int rpc_server_start(struct rpc_server *s, const char *addr, int n_workers,
                     rpc_handler_fn handler, void *arg, char *errbuf,
                     size_t errlen);

/** Stop every worker, then close the socket: each worker's aio is stopped
 * (a blocked receive returns, later operations fail at once), handlers in
 * progress finish (their reply may be dropped), the threads are joined,
 * and only then is the socket closed, so no worker ever uses a context of
 * a closing socket. Safe on a never-started server. */
void rpc_server_stop(struct rpc_server *s);

#endif
