/* sql — the SQL state of a router connection: its settings, identity and
 * the per-statement arena; statements are bound to the catalog here
 * (sql_int.h) and run by the session's traffic cop (router/session).
 *
 * One struct sql_session per client connection, used by that connection's
 * thread only. Session settings (SET/SHOW) live here. */
#ifndef TL_SQL_H
#define TL_SQL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct router; /* router/core/router.h */
struct sql_session;

/** Create the SQL state of a connection on router @r (borrowed; it
 * outlives the session). Cannot fail. */
struct sql_session *sql_session_create(struct router *r);

/** Make the statements of @s stop with 57014 "canceling statement due to
 * user request" once *@flag (borrowed; NULL: never) becomes true; it is
 * checked at every wait. Cannot fail. */
void sql_session_set_cancel(struct sql_session *s, atomic_bool *flag);

/* Who a session is, as its StartupMessage and BackendKeyData said. */
struct sql_identity {
    const char *user;
    const char *database;
    const char *application_name;
    uint32_t backend_pid;
    bool superuser;
    int max_connections; /* the router's limits (0: unknown) */
    int reserved_connections;
};

/** Record who the session is (strings copied, truncated to 63 bytes), for
 * current_user, current_database(), pg_backend_pid(), SHOW
 * application_name and is_superuser. Until it is called they are empty
 * and 0. Cannot fail. */
void sql_session_set_identity(struct sql_session *s,
                              const struct sql_identity *id);

/** Free @s; NULL is a no-op. */
void sql_session_destroy(struct sql_session *s);

#endif
