/* auth — client authentication, between the StartupMessage and
 * AuthenticationOk, as PostgreSQL's ClientAuthentication() does it.
 *
 * The rule of the cluster file that matches the client's address and user
 * (common/auth_rule.h) chooses the method:
 *   - trust: no password. A role of that name, if the catalog has one,
 *     still must have LOGIN; a user no role names is let in (the local
 *     development mode, where no roles exist).
 *   - scram-sha-256: a SCRAM-SHA-256 exchange (common/scram.h) against the
 *     role's verifier, with channel binding offered over TLS
 *     (SCRAM-SHA-256-PLUS, tls-server-end-point). A role that does not
 *     exist or has no password gets a mock exchange with a salt derived
 *     from the router's secret, so a wrong password and an unknown role
 *     both end in 28P01 "password authentication failed for user "x""
 *     after the same messages.
 *   - reject, or no rule: 28000.
 * With ssl = required a connection without TLS is refused (28000) before
 * any rule is looked at. After authentication a role without LOGIN gets
 * 28000 "role "x" is not permitted to log in".
 *
 * Roles come from the router's cache (router/core/roles.h): no meta-group
 * round trip per connection while it is fresh. */
#ifndef TL_SESSION_AUTH_H
#define TL_SESSION_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "role.h"
#include "router/core/router.h"
#include "router/wire/pgwire.h"
#include "tl_error.h"

/* Who authenticated. */
struct auth_result {
    bool has_role;       /* the catalog has a role of the user's name */
    struct tl_role role; /* when has_role */
    const char *method;  /* for the log: "trust", "scram-sha-256" */
};

/** Authenticate the client of @c (startup done: c->user and c->database
 * set) for router @r, finishing by @deadline_ms (0: no limit). 0 with
 * *@out filled: the caller sends AuthenticationOk next. TL_EIO or
 * TL_ETIMEOUT without a report when the client went away or was too slow;
 * any other code with @err holding the FATAL to send (28P01, 28000,
 * 08P01). Failures are logged here (event=auth_failed). */
int auth_client(struct router *r, struct pgw_conn *c, int64_t deadline_ms,
                struct auth_result *out, struct tl_error *err);

#endif
