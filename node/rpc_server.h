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

struct rpc_server {
    nng_socket sock;
    pthread_t *threads;
    size_t n_threads;
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

/** Close the socket (blocked receives return) and join every worker.
 * Handlers in progress finish first. Safe on a never-started server. */
void rpc_server_stop(struct rpc_server *s);

#endif
