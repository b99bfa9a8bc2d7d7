/* backends — the router's table of client connections: who is still in
 * the startup phase, who holds a session slot, and the BackendKeyData
 * that a CancelRequest must quote to cancel a session's statement.
 *
 * PostgreSQL's postmaster keeps the same table of its children. The rules
 * it follows, and this module with it:
 * - A connection in the startup phase holds a startup slot, never a
 *   session slot: at most max_startup at once. When they are all taken the
 *   oldest one is shut down to make room (logged event=startup_evicted), so
 *   silent TCP connections cannot lock real clients out: a real client
 *   finishes startup in milliseconds and is never the oldest for long.
 * - A connection that finished startup takes a session slot: at most
 *   max_connections, of which reserved are kept for the superuser
 *   (superuser_reserved_connections): another user past
 *   max_connections - reserved gets 53300 "remaining connection slots are
 *   reserved for non-replication superuser connections", anyone past
 *   max_connections 53300 "sorry, too many clients already".
 * - A CancelRequest whose pid and secret match a session sets that
 *   session's cancel flag; a wrong key does nothing, silently, as in
 *   PostgreSQL (the requester learns nothing).
 *
 * A struct backend is owned by its connection's thread (on its stack); the
 * table only links it while it is registered, under the table's mutex.
 * Its fd is shut down (never closed) by an eviction, and only while the
 * backend is linked, so the owner may close it once it has left. */
#ifndef TL_BACKENDS_H
#define TL_BACKENDS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "tl_error.h"

enum backend_state {
    BACKEND_NONE,     /* not in the table */
    BACKEND_STARTING, /* holds a startup slot */
    BACKEND_SESSION,  /* holds a session slot */
};

struct backend {
    int fd;       /* the client's socket (borrowed) */
    uint32_t pid; /* BackendKeyData, set before backends_admit() */
    uint32_t secret;
    bool superuser;           /* set by backends_admit() */
    char user[64];            /* set by backends_admit() */
    atomic_bool cancel;       /* a CancelRequest named this session */
    int64_t since_ms;         /* when it entered its state (monotonic) */
    enum backend_state state; /* under the table's mutex */
    struct backend *prev, *next;
};

struct backend_limits {
    int max_connections; /* session slots, the superuser's included */
    int reserved;        /* superuser_reserved_connections */
    int max_startup;     /* connections in the startup phase */
    char superuser[64];  /* the user the reserved slots are for */
};

struct backends;

/** Create an empty table enforcing @lim (copied). Cannot fail but for
 * memory: TL_ENOMEM. */
int backends_create(const struct backend_limits *lim, struct backends **out);

/** Free @b (every backend must have left); NULL is a no-op. */
void backends_destroy(struct backends *b);

/** The limits @b enforces (borrowed from @b). Cannot fail. */
const struct backend_limits *backends_limits(const struct backends *b);

/** Register @be (fd set by the caller) as starting. If every startup slot
 * is taken, the oldest starting connection is shut down first (its reads
 * fail and its thread ends it). Cannot fail. */
void backends_start(struct backends *b, struct backend *be);

/** Take a session slot for @be (starting) as @user: 0, or TL_EUNAVAILABLE
 * with @err holding the FATAL 53300 to send; either way @be has left the
 * startup slots. Cannot fail otherwise. */
int backends_admit(struct backends *b, struct backend *be, const char *user,
                   struct tl_error *err);

/** backends_admit() for a client authenticated as a role of the catalog:
 * @role_superuser (the role has SUPERUSER: it may use the reserved slots
 * too) and its CONNECTION LIMIT @conn_limit (-1: none), past which a
 * non-superuser gets FATAL 53300 "too many connections for role "x"", as
 * PostgreSQL's InitializeSessionUserId() says. */
int backends_admit_role(struct backends *b, struct backend *be,
                        const char *user, bool role_superuser, int conn_limit,
                        struct tl_error *err);

/** Remove @be from the table, whatever its state (a no-op when it is not
 * in it). After this its fd is the owner's alone. Cannot fail. */
void backends_leave(struct backends *b, struct backend *be);

/** A CancelRequest for (@pid, @secret): true if a session matched and its
 * cancel flag is now set. Cannot fail. */
bool backends_cancel(struct backends *b, uint32_t pid, uint32_t secret);

/** Sessions and starting connections now (for logs and tests). */
void backends_count(struct backends *b, int *sessions, int *starting);

#endif
