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
 * request carries the version its statement planned with (the oldest
 * cache version it copied a table from: catalog_lookup()'s *version), or
 * after a stale refusal the reloaded cache's. Thread-safe: every
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
 * refreshes the cache as needed. *@version (may be NULL) is lowered to
 * the cache version the copy came from when that is older (or it was 0):
 * the version the statement's requests carry. TL_ENOTFOUND (no report)
 * when no such table exists; an unreachable shard 0 is reported in @err. */
int catalog_lookup(struct catalog *c, const char *name, struct tl_arena *a,
                   struct tl_table **out, uint64_t *version,
                   struct tl_error *err);

/** Reload the cache, then copy every table into @a (*@out holds *@n
 * pointers): what pg_catalog shows.
 * Errors as catalog_lookup(). */
int catalog_list(struct catalog *c, struct tl_arena *a, struct tl_table ***out,
                 size_t *n, struct tl_error *err);

/** Store the new table @t (its id and schema version are assigned here and
 * written back into @t). TL_EEXISTS (no report) when the name is taken. */
int catalog_create_table(struct catalog *c, struct tl_table *t,
                         struct tl_error *err);

/** Remove table @name from the catalog, then its rows from every shard.
 * TL_ENOTFOUND (no report) when there is no such table. */
int catalog_drop_table(struct catalog *c, const char *name,
                       struct tl_error *err);

/** Changes a table description (ALTER TABLE): called with a copy of the
 * stored description (*@t, freed with tl_table_destroy(); the callback
 * may change it in place, or destroy it and put another in its place)
 * whose id it must keep (a new id goes through catalog_swap_table()); it
 * may change the name. 0, or an error code with
 * @err filled: nothing is written. */
typedef int (*catalog_edit_fn)(struct tl_table **t, void *arg,
                               struct tl_error *err);

/** Apply @edit to table @name and store the result with its schema
 * version one higher, in one conditional write with the map version
 * (retried, @edit called again, when another router changed the catalog
 * meanwhile; 40001 after CATALOG_RETRIES). TL_ENOTFOUND (no report) when
 * there is no such table, TL_EEXISTS (no report) when @edit renamed it to
 * a name taken; @edit's errors as it reports them. */
int catalog_alter_table(struct catalog *c, const char *name,
                        catalog_edit_fn edit, void *arg, struct tl_error *err);

/** Take a table id from the id counter for a table about to be rewritten
 * (ALTER TABLE ... ADD PRIMARY KEY): its new rows are written under *@id
 * before catalog_swap_table() makes them the table's. Ids are never
 * reused. 40001 (reported) after CATALOG_RETRIES counter races; an
 * unreachable meta group is reported in @err. */
int catalog_new_table_id(struct catalog *c, uint32_t *id, struct tl_error *err);

/** Put @to (borrowed; id from catalog_new_table_id(), name and schema
 * version already set: @from's schema version + 1) in the place of table
 * @from->name, if that is still stored as @from (same id and schema
 * version), in one conditional write of the meta group that also hands
 * the sequences owned by @from over to @to and moves the map version
 * (*@version gets it). Nothing is written on failure. TL_ENOTFOUND (no
 * report) when the table is gone; TL_ECONFLICT with 40001 reported when
 * another statement changed it meanwhile. */
int catalog_swap_table(struct catalog *c, const struct tl_table *from,
                       const struct tl_table *to, uint64_t *version,
                       struct tl_error *err);

/** Delete every row of @t (its key range) on every shard, one shard after
 * another; each request carries map version @version, so every shard
 * leader learns it. Best effort past the first failure (reported in @err):
 * rows left behind are under an id no table has any more. */
int catalog_delete_rows(struct catalog *c, const struct tl_table *t,
                        uint64_t version, struct tl_error *err);

/** Reload the cache from the meta group unless it is loaded at
 * @min_version or newer (0: always reload). Errors as catalog_lookup(). */
int catalog_refresh(struct catalog *c, uint64_t min_version,
                    struct tl_error *err);

/** The map version the cache was loaded at (0 before the first DDL, and
 * for a NULL @c: a router without a catalog, in tests). Cannot fail. */
uint64_t catalog_version(struct catalog *c);

/** Whether the cache has been loaded from the meta group (and not
 * dropped since after a failed catch-up); false for a NULL @c. Cannot
 * fail. */
bool catalog_loaded(struct catalog *c);

/** Whether the cache holds a table with id @id; its name is copied to
 * @name (size @len, may be NULL). Cannot fail. */
bool catalog_has_id(struct catalog *c, uint32_t id, char *name, size_t len);

/** Whether the cache has been loaded from the meta group (and not
 * dropped since after a failed catch-up); false for a NULL @c. Cannot
 * fail. */
bool catalog_loaded(struct catalog *c);

/** Whether the cache holds a table with id @id; its schema version to
 * *@schema. Cannot fail. */
bool catalog_table_schema(struct catalog *c, uint32_t id, uint32_t *schema);
/** The vschema entry of table @name as JSON text, copied into @a
 * (*@json lives as long as the arena). Read from the meta group each
 * time (only CREATE TABLE asks). TL_ENOTFOUND (no report) when there is
 * none; an unreachable meta group is reported in @err. */
int catalog_vschema_entry(struct catalog *c, const char *name,
                          struct tl_arena *a, char **json,
                          struct tl_error *err);

#endif
