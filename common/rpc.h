/* rpc — the client side of router/shardctl -> node requests over nng.
 *
 * A client owns one nng REQ socket dialled (asynchronously, with
 * reconnects) to one node; every call runs on its own nng context, so any
 * number of threads may have calls in flight on one client. REQ resend is
 * disabled: a request is sent once and a lost reply is a timeout, never a
 * silent duplicate. Requests are encoded with their request id; replies
 * whose id differs are rejected. */
#ifndef TL_RPC_H
#define TL_RPC_H

#include <stdbool.h>
#include <stdint.h>

#include "talus.pb-c.h"

struct tl_rpc_client;
struct tl_rpc_call;

/** Create a client for the node at @addr ("host:port"). Dialling happens
 * in the background: a node that is down makes calls time out, not this
 * function fail. On success *@out is owned by the caller: free with
 * tl_rpc_client_destroy(). TL_EINVAL for a bad address. */
int tl_rpc_client_create(const char *addr, struct tl_rpc_client **out);

/** Close the socket and free @c; calls still in flight must have been
 * waited for. NULL is a no-op. */
void tl_rpc_client_destroy(struct tl_rpc_client *c);

/** Make calls on @c give up with TL_EUNAVAILABLE when their request cannot
 * be handed to a connection within @ms (nng holds requests while the node
 * is unreachable); 0, the default, waits for the call's whole timeout.
 * Thread-safe; cannot fail. */
void tl_rpc_client_set_connect_timeout(struct tl_rpc_client *c, int ms);

/** A fresh request id, unique within this process (and, with high
 * probability, across processes). Thread-safe; cannot fail. */
uint64_t tl_rpc_next_id(void);

/** Send @req (encoded at once; @req may be freed on return) and start
 * waiting for its reply for at most @timeout_ms. Never blocks. On success
 * *@out must be passed to tl_rpc_call_wait() exactly once. TL_ENOMEM. */
int tl_rpc_call_start(struct tl_rpc_client *c, const Talus__Request *req,
                      int timeout_ms, struct tl_rpc_call **out);

/** Wait for @call to finish and free it. On success *@resp owns the
 * decoded reply (free with talus__response__free_unpacked(*resp, NULL)).
 * TL_EUNAVAILABLE when the request could not be sent (no connection to the
 * node within the connect timeout or the call's timeout): the node
 * certainly did not see it. TL_ETIMEOUT when it was sent but no reply came,
 * in time or because the connection broke: the node may have executed it.
 * TL_ESHUTDOWN when the client was closed, TL_EPROTO for an undecodable
 * reply. */
int tl_rpc_call_wait(struct tl_rpc_call *call, Talus__Response **resp);

/** Wait at most @wait_ms (0: not at all) for @call to finish; true when
 * it has (tl_rpc_call_wait() then returns at once). Cannot fail. */
bool tl_rpc_call_done(struct tl_rpc_call *call, int wait_ms);

/** End @call now if it is still running: it finishes with TL_ETIMEOUT
 * once sent (the node may still execute it), or TL_EUNAVAILABLE before
 * (never sent). An abort that lands while the call passes from sending to
 * receiving is lost: call again until tl_rpc_call_done() says it ended.
 * It must still be passed to tl_rpc_call_wait(). Cannot fail. */
void tl_rpc_call_abort(struct tl_rpc_call *call);

/** tl_rpc_call_start() then tl_rpc_call_wait(). */
int tl_rpc_call(struct tl_rpc_client *c, const Talus__Request *req,
                int timeout_ms, Talus__Response **resp);

#endif
