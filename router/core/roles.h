/* roles — the roles of the cluster (CREATE ROLE), in the meta group, and
 * the router's cache of them for authentication.
 *
 * A role is one record of the meta keyspace (TL_META_INDEX_ROLE, keyed by
 * name; common/meta/meta_keys.h): its oid, its SCRAM-SHA-256 verifier
 * (never the password), SUPERUSER, LOGIN and CONNECTION LIMIT. Writes are
 * conditional, so two routers creating one name at once make one role.
 *
 * Authentication reads the cache, not the meta group: a connection costs
 * no round trip while the cache is younger than ROLES_MAX_AGE_MS; an older
 * one is reloaded (one scan) by the connection that finds it so. This
 * router's own role DDL drops its cache, so its next connection sees the
 * change; another router's change is seen within ROLES_MAX_AGE_MS.
 * Thread-safe: every connection thread shares one struct roles. */
#ifndef TL_ROUTER_ROLES_H
#define TL_ROUTER_ROLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "role.h"
#include "router/core/router.h"
#include "tl_error.h"

#define ROLES_MAX_AGE_MS 1000

struct roles;

/** An empty cache for router @r (borrowed). TL_ENOMEM. */
int roles_create(struct router *r, struct roles **out);

/** Free @s; NULL is a no-op. */
void roles_destroy(struct roles *s);

/** Role @name from the cache (reloaded first when older than
 * ROLES_MAX_AGE_MS) into *@out. TL_ENOTFOUND (no report) when there is no
 * such role. When the reload fails (logged), an older cache is used if
 * there is one, else TL_EUNAVAILABLE is reported in @err (08006); no
 * other reload is tried for ROLES_MAX_AGE_MS after a failure. */
int roles_get(struct router *r, const char *name, struct tl_role *out,
              struct tl_error *err);

/** The cluster's mock authentication secret into @secret: read from the
 * meta group once (made there by the first router that asks, with a
 * conditional write), then kept. Every router derives an unknown role's
 * salt from it, so the salt does not tell which router answered, nor
 * change when a router restarts. An unreachable meta group is reported in
 * @err. */
int roles_mock_secret(struct router *r, uint8_t secret[32],
                      struct tl_error *err);

/** Every role, read from the meta group now, sorted by name, in @a
 * (*@out, *@n). */
int roles_list(struct router *r, struct tl_arena *a, struct tl_role **out,
               size_t *n, struct tl_error *err);

/** Store the new role @role (its oid is assigned here and written back).
 * TL_EEXISTS (no report) when a role of that name exists; an unreachable
 * meta group, or too much concurrent DDL (40001), reported in @err. */
int roles_create_role(struct router *r, struct tl_role *role,
                      struct tl_error *err);

/** Changes a stored role (ALTER ROLE) in place; 0 or an error reported in
 * @err (then nothing is written). */
typedef int (*roles_edit_fn)(struct tl_role *role, void *arg,
                             struct tl_error *err);

/** Apply @edit to role @name and store it if the record is still the one
 * read (retried, @edit called again, otherwise). TL_ENOTFOUND (no report)
 * when there is no such role. */
int roles_alter_role(struct router *r, const char *name, roles_edit_fn edit,
                     void *arg, struct tl_error *err);

/** Remove role @name. TL_ENOTFOUND (no report) when there is none. */
int roles_drop_role(struct router *r, const char *name, struct tl_error *err);

#endif
