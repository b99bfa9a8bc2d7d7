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

#include "router.h"

/* Seconds a client has to complete the startup phase (PostgreSQL's
 * authentication_timeout defaults to 60 s too). */
#define SESSION_STARTUP_TIMEOUT_S 60

/** Serve the client on socket @fd (ownership taken: closed on return)
 * for router @r (borrowed, shared with other sessions) until it
 * disconnects, terminates or violates the protocol. When @reject is set
 * the router is full: the startup packet is read (refusing SSL as usual)
 * and answered with FATAL 53300 "sorry, too many clients already". Cannot
 * fail: problems are reported to the client and logged. */
void session_run(struct router *r, int fd, bool reject);

#endif
