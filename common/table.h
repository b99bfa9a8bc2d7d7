/* table — a table's description as routers and nodes use it.
 *
 * The catalog stores tables as talus.TableDesc; this is the in-memory form.
 * Column indexes are stable for the table's life. A table declared without
 * a primary key gets a hidden int8 column "rowid" (last, hidden=true) that
 * the router fills with a unique id, and that column is its key: every
 * table has a primary key. */
#ifndef TL_TABLE_H
#define TL_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "talus.pb-c.h"
#include "tl_error.h"
#include "value.h"

#define TL_NAME_MAX 64 /* NAMEDATALEN: 63 bytes and a NUL */
#define TL_MAX_COLUMNS 1600
#define TL_MAX_PK 32

struct tl_column {
    char name[TL_NAME_MAX];
    uint8_t type;
    int32_t typmod;
    bool not_null;
    bool hidden;
};

/* Table kinds (TableDesc.distribution; stored: never renumber). */
enum tl_distribution {
    TL_DIST_VINDEX = 0,    /* sharded by its vindex, or unsharded (shard 0) */
    TL_DIST_REFERENCE = 1, /* a copy on every shard */
};

struct tl_ring;
struct tl_range_map;

/* The vindex parameters are part of the description (stored in the
 * catalog); the ring or range map built from them is not: a router builds
 * it once when it caches the table (tl_table_vindex_build) and every copy
 * of the table borrows it. Invariants, when vindex is
 *   TL_VINDEX_CONSISTENT_HASH: shard_key >= 0, ring_shards >= 1 (the ring
 *     holds shards 0..ring_shards-1 with ring_vnodes virtual nodes each);
 *   TL_VINDEX_RANGE: shard_key >= 0, n_range_shards >= 1, range_bounds
 *     encodes n_range_shards - 1 boundaries of the key column's type as
 *     one row (row.h), range_shards[i] is the shard of range i. */
struct tl_table {
    uint32_t id;
    char name[TL_NAME_MAX];
    uint32_t n_columns;
    struct tl_column *columns; /* owned */
    uint32_t n_pk;
    uint32_t pk[TL_MAX_PK];
    int32_t shard_key; /* column index, -1 when unsharded */
    uint32_t vindex;   /* enum tl_vindex_kind */
    uint32_t schema_version;
    uint32_t distribution; /* enum tl_distribution */
    uint32_t ring_vnodes;  /* consistent_hash; 0: TL_RING_DEFAULT_VNODES */
    uint32_t ring_shards;  /* consistent_hash */
    uint8_t *range_bounds; /* range; owned (see tl_table_destroy) */
    size_t range_bounds_len;
    uint32_t *range_shards; /* range; owned, n_range_shards entries */
    uint32_t n_range_shards;
    /* Built from the above; borrowed (the router's catalog owns them), NULL
     * until built. Routing a consistent_hash or range table needs them. */
    const struct tl_ring *ring;
    const struct tl_range_map *range_map;
};

/** Build a table from @pb (copied). On success *@out is owned by the
 * caller: free with tl_table_destroy(). TL_EPROTO (with @err) when the
 * description is inconsistent (no columns, bad indexes, unknown types). */
int tl_table_from_proto(const Talus__TableDesc *pb, struct tl_table **out,
                        struct tl_error *err);

/** Fill @pb (initialised by the caller or not) from @t; strings and arrays
 * are allocated in @a. Cannot fail. */
void tl_table_to_proto(const struct tl_table *t, struct tl_arena *a,
                       Talus__TableDesc *pb);

/** Build the ring (consistent_hash) or range map (range) that @t's vindex
 * parameters describe; both outs are set, NULL when the vindex needs no
 * structure. The caller owns what is returned (tl_ring_destroy,
 * tl_range_map_destroy). TL_EPROTO (bad parameters) or the tl_ring_create
 * / tl_range_map_create errors, with @err (may be NULL); outs untouched. */
int tl_table_vindex_build(const struct tl_table *t, struct tl_ring **ring,
                          struct tl_range_map **map, struct tl_error *err);

/** Deep copy of @t (the vindex parameters too; ring and range_map stay
 * borrowed); free with tl_table_destroy(). Cannot fail. */
struct tl_table *tl_table_copy(const struct tl_table *t);

/** Free @t, its columns and vindex parameters (not ring or range_map);
 * NULL is a no-op. Only for tables from tl_table_from_proto() or
 * tl_table_copy(): arena-built tables are released with their arena. */
void tl_table_destroy(struct tl_table *t);

/** Index of the column named @name (exact, case-sensitive: identifiers are
 * already folded by the parser), or -1. Hidden columns are found too. */
int tl_table_find_column(const struct tl_table *t, const char *name);

/** Append the primary-key encoding of the row @row[0..n_columns) to @out:
 * prefix(table, TL_INDEX_PRIMARY) then each pk column. Cannot fail. */
void tl_table_row_key(const struct tl_table *t, const struct tl_value *row,
                      struct tl_buf *out);

/** Set @start and @end (appended to) to the key range [start, end) of all
 * rows of @t. Cannot fail. */
void tl_table_key_range(const struct tl_table *t, struct tl_buf *start,
                        struct tl_buf *end);

/** Fill @e with PostgreSQL's duplicate-key report for @t and @row:
 * 23505 duplicate key value violates unique constraint "<table>_pkey",
 * detail Key (a, b)=(1, x) already exists. Returns TL_EDUPKEY. */
int tl_table_dup_key_error(const struct tl_table *t, const struct tl_value *row,
                           struct tl_error *e);

/** Check @row against the column constraints: NOT NULL (23502 null value
 * in column "c" of relation "t" violates not-null constraint). Values must
 * already have the column types. Returns 0 or TL_ENOTNULL. */
int tl_table_check_row(const struct tl_table *t, const struct tl_value *row,
                       struct tl_error *e);

#endif
