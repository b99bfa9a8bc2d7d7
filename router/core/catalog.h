/* catalog — the router's cache of table descriptions, and DDL on them.
 *
 * The catalog lives in the meta group (raft group TL_META_GROUP) as
 * system keys of table id 0, laid out by common/meta/meta_keys.h: table
 * descriptions by name, the table id counter, the map version, and the
 * vschema entries (written by `shardctl vschema apply`).
 * Every catalog change moves the map version up by one in the same
 * conditional batch.
 * User table ids start at TL_META_FIRST_TABLE_ID. Writes are conditional
 * WriteBatches, so concurrent DDL from several routers is safe: a table
 * name is taken once, an id is handed out once.
 *
 * The cache maps names to tables. It is loaded on first use, updated after
 * this router's own DDL (then reloaded), refreshed when a statement names
 * a table it does not know (another router may have created it), and
 * when a node refuses a request planned with an older map version than
 * it has seen (another router dropped or recreated a table). Every
 * request carries catalog_request_version(). Thread-safe: every
 * connection thread shares one catalog.
 *
 * A cached consistent_hash or range table carries its ring or range map,
 * built once per (table id, schema version) and kept until
 * catalog_destroy(), so the copies catalog_lookup() returns may borrow
 * them for as long as they live. */
#ifndef TL_CATALOG_H
#define TL_CATALOG_H

#include "arena.h"
#include "router/core/router.h"
#include "table.h"
#include "tl_error.h"

struct catalog;

/** Create an empty cache for router @r (borrowed). Cannot fail today;
 * returns 0. */
int catalog_create(struct router *r, struct catalog **out);

/** Free @c; NULL is a no-op. */
void catalog_destroy(struct catalog *c);

/** Copy table @name into @a (*@out lives as long as the arena; its ring or
 * range map is borrowed from the catalog). Loads or
 * refreshes the cache as needed. TL_ENOTFOUND (no report) when no such
 * table exists; an unreachable shard 0 is reported in @err. */
int catalog_lookup(struct catalog *c, const char *name, struct tl_arena *a,
                   struct tl_table **out, struct tl_error *err);

/** Store the new table @t (its id and schema version are assigned here and
 * written back into @t). TL_EEXISTS (no report) when the name is taken. */
int catalog_create_table(struct catalog *c, struct tl_table *t,
                         struct tl_error *err);

/** Remove table @name from the catalog, then its rows from every shard.
 * TL_ENOTFOUND (no report) when there is no such table. */
int catalog_drop_table(struct catalog *c, const char *name,
                       struct tl_error *err);

/** Reload the cache from the meta group unless it is loaded at
 * @min_version or newer (0: always reload). Errors as catalog_lookup(). */
int catalog_refresh(struct catalog *c, uint64_t min_version,
                    struct tl_error *err);

/** The map version the cache was loaded at (0 before the first DDL).
 * Cannot fail. */
uint64_t catalog_version(struct catalog *c);

/** Whether the cache holds a table with id @id; its name is copied to
 * @name (size @len, may be NULL). Cannot fail. */
bool catalog_has_id(struct catalog *c, uint32_t id, char *name, size_t len);

/** Start a statement on this thread: forget the version it planned with.
 * Cannot fail. */
void catalog_stmt_begin(void);

/** The thread's statement now plans with the cache's current version (its
 * tables were checked against it). Cannot fail. */
void catalog_stmt_advance(struct catalog *c);

/** The map version requests of this thread carry: the oldest cache
 * version its statement copied a table from, else the cache's. Cannot
 * fail. */
uint64_t catalog_request_version(struct catalog *c);

/** The vschema entry of table @name as JSON text, copied into @a
 * (*@json lives as long as the arena). Read from the meta group each
 * time (only CREATE TABLE asks). TL_ENOTFOUND (no report) when there is
 * none; an unreachable meta group is reported in @err. */
int catalog_vschema_entry(struct catalog *c, const char *name,
                          struct tl_arena *a, char **json,
                          struct tl_error *err);

#endif
