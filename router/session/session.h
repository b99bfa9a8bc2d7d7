/* session — one client connection of a router, from the startup packet to
 * the last message.
 *
 * A session runs on its own thread and blocks on its socket between
 * messages, so an idle connection costs no CPU. Everything a session
 * allocates is freed when it ends, whatever the client did; nothing it
 * does affects another session. */
#ifndef TL_SESSION_H
#define TL_SESSION_H

#include <stdbool.h>

#include "router/core/router.h"

/** Serve the client on socket @fd (ownership taken: closed on return)
 * for router @r (borrowed, shared with other sessions) until it
 * disconnects, terminates or violates the protocol. The startup phase
 * holds a startup slot of r->backends and must end within
 * r->limits.startup_timeout_ms, the TLS handshake (when r->tls is set)
 * and authentication (auth.h) included; the session then takes a session
 * slot (FATAL 53300 when none is left for this user or its role's
 * CONNECTION LIMIT is reached, backends.h) and every
 * message must arrive whole within r->limits.message_timeout_ms of its
 * first byte (else the connection is closed and logged
 * event=message_timeout). A CancelRequest sets the cancel flag of the
 * session whose key it quotes. With r->backends NULL (unit tests) there
 * are no slots and no cancel; a zero limit is no limit. When @reject is
 * set the router is full: the startup packet is read (through TLS if the
 * client asks and r->tls is set) and answered with FATAL 53300 "sorry,
 * too many clients already".
 * Cannot fail: problems are reported to the client and logged. */
void session_run(struct router *r, int fd, bool reject);

struct backend; /* backends.h */

/** session_run() for a connection its caller already registered as
 * starting with backends_start() (in accept order, so that the oldest
 * silent connection is the one evicted): @be (borrowed; it must live until
 * this returns) holds the socket, whose ownership is taken. */
void session_run_started(struct router *r, struct backend *be);

#endif
