/* catalog — the router's cache of table descriptions, and DDL on them.
 *
 * The catalog lives on shard 0 as system keys of table id 0:
 *   prefix(0, 1) | key(text name)  -> one-column row: packed TableDesc
 *   prefix(0, 2)                   -> one-column row: next table id (int8)
 * User table ids start at CATALOG_FIRST_ID. Writes are conditional
 * WriteBatches, so concurrent DDL from several routers is safe: a table
 * name is taken once, an id is handed out once.
 *
 * The cache maps names to tables. It is loaded on first use, updated after
 * this router's own DDL, and refreshed when a statement names a table it
 * does not know (another router may have created it). Thread-safe: every
 * connection thread shares one catalog.
 *
 * A cached consistent_hash or range table carries its ring or range map,
 * built once per (table id, schema version) and kept until
 * catalog_destroy(), so the copies catalog_lookup() returns may borrow
 * them for as long as they live. */
#ifndef TL_CATALOG_H
#define TL_CATALOG_H

#include "arena.h"
#include "router.h"
#include "table.h"
#include "tl_error.h"

#define CATALOG_FIRST_ID 1000
#define CATALOG_KEY_TABLE 1   /* index id of table descriptions */
#define CATALOG_KEY_NEXT_ID 2 /* index id of the id counter */

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

/** The system table description used to scan catalog keys, in @a. */
Talus__TableDesc *catalog_system_desc(struct tl_arena *a);

#endif
