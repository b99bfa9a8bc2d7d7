/* route — which shards and which keys a bound filter can touch.
 *
 * Pure functions over a table and a bound expression (no I/O), so they are
 * unit-tested directly. Only the AND conjuncts of the filter are used
 * (nested ANDs such as BETWEEN's are flattened): `shard_key = const`
 * selects the one shard owning the constant, `shard_key IN (consts)` the
 * owners of those values, for every vindex (hash: the hash range, the
 * consistent_hash ring, the range map). A range vindex also prunes on
 * `shard_key <, <=, >, >= const` (so BETWEEN): the ranges every such
 * conjunct allows are intersected. Anything else leaves every shard.
 * Constants are cast to the key column's type before they are hashed or
 * looked up (a date against a timestamptz key lands where the row does);
 * a constant that cannot be cast routes nowhere special. When every
 * primary-key column is fixed by an equality the scan is a single key;
 * `pk IN (consts)` on a one-column key scans just those keys.
 * The filter itself is always sent to the nodes too, so routing only has
 * to be a superset of the matching rows.
 *
 * A reference table (TL_DIST_REFERENCE) has a full copy on every shard and
 * no shard key: route_analyze() routes it like an unsharded table over
 * one copy (shard 0) and marks the route ROUTE_REF_READ;
 * route_reference_target() then points it at the copy a read uses, or at
 * every copy for a write (ROUTE_REF_WRITE). */
#ifndef TL_ROUTE_H
#define TL_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "expr.h"
#include "table.h"

/* How a route uses the copies of a reference table. */
enum route_ref {
    ROUTE_REF_NONE = 0,  /* not a reference table */
    ROUTE_REF_READ = 1,  /* one copy: the shards below hold just that copy */
    ROUTE_REF_WRITE = 2, /* every copy: every shard, each with every key */
};

struct route {
    uint8_t ref;       /* enum route_ref */
    bool all;          /* every shard of the cluster */
    uint32_t n_shards; /* when !all: number of target shards (may be 0) */
    uint32_t *shards;  /* when !all: sorted, distinct; in the arena */
    bool point;        /* the scan is the single key below */
    uint8_t *key;      /* when point: the primary key; in the arena */
    size_t key_len;
    /* `pk IN (consts)` on a one-column key: the keys, sorted and distinct,
     * and the shard of each (UINT32_MAX: could be on any shard). */
    size_t n_points;
    uint8_t **points;
    size_t *point_lens;
    uint32_t *point_shards;
    const struct tl_expr *points_conj; /* the IN the points come from */
    /* Range vindex: whether the filter narrowed the ranges, which ranges
     * remain (sorted, distinct, in the arena) out of n_ranges, and the
     * conjuncts that did it (for EXPLAIN). */
    bool pruned;
    size_t n_ranges;
    uint32_t n_kept;
    uint32_t *kept;
    uint32_t n_prune_conj;
    const struct tl_expr **prune_conj;
    /* Not a point: a secondary index (valid) whose leading columns the
     * filter fixes by `col = const` (and bounds the next one by `<`,
     * `<=`, `>`, `>=` a constant), the one fixing the most; the scan
     * reads its entries in [ix_start, ix_end) and each one's row (the
     * filter still applies to the rows). NULL: none. */
    const struct tl_index *index;
    uint32_t ix_n_eq; /* leading columns fixed */
    bool ix_ranged;   /* and the next one bounded by comparisons */
    uint8_t *ix_start, *ix_end;
    size_t ix_start_len, ix_end_len;
};

/** Route @filter (may be NULL) over @t in a cluster of @n_shards shards.
 * Allocates in @a. Cannot fail. */
void route_analyze(const struct tl_table *t, const struct tl_expr *filter,
                   uint32_t n_shards, struct tl_arena *a, struct route *out);

/** Whether @t is a reference table (a copy on every shard). */
bool route_is_reference(const struct tl_table *t);

/** The copy (shard) that reads of a reference table use in a session with
 * id @session_id in a cluster of @n_shards shards: stable for the session,
 * spread over the shards across sessions. Cannot fail. */
uint32_t route_reference_copy(uint32_t session_id, uint32_t n_shards);

/** Retarget @r, a route of a reference table from route_analyze(), at one
 * copy (@write false: shard @copy, which must be < @n_shards) or at every
 * copy (@write true: every shard, and each point key on every shard). A
 * route that reaches no shard (WHERE false) stays so. Allocates in @a.
 * Cannot fail. */
void route_reference_target(struct route *r, bool write, uint32_t copy,
                            uint32_t n_shards, struct tl_arena *a);

/** Shard owning shard-key value @v (of the key column's type) of @t in a
 * cluster of @n_shards shards, by @t's vindex; 0 for an unsharded table.
 * A consistent_hash or range table must have its ring or range map built
 * (struct tl_table). Cannot fail. */
uint32_t route_key_shard(const struct tl_table *t, const struct tl_value *v,
                         uint32_t n_shards);

/** Shard of the row @row[0..t->n_columns) of @t (values of the column
 * types), as route_key_shard() of its shard key. Cannot fail. */
uint32_t route_row_shard(const struct tl_table *t, const struct tl_value *row,
                         uint32_t n_shards);

/** Whether @a and @b are sharded (shard key, vindex, not reference) by
 * the same vindex with identical parameters, so that equal shard-key
 * values of compatible types (route_key_compatible) land on the same
 * shard in both: hash always (one cluster's shard count); consistent_hash
 * with the same virtual nodes (0 meaning the default) and ring shards;
 * range with byte-identical boundaries and the same shard per range.
 * Cannot fail. */
bool route_co_located(const struct tl_table *a, const struct tl_table *b);

/** Whether a constant of @vtype can stand for a key column of @ctype
 * without a cast: same key encoding (integers of any width, text/varchar/
 * bpchar except bpchar with varchar,
 * float8, bool, each date/time type only with itself). */
bool route_key_compatible(uint8_t ctype, uint8_t vtype);

/** The constant @v as a key value of column type @ctype in *@out (text in
 * @a): as is when route_key_compatible, else cast (tl_value_cast). False
 * when @v is NULL, not comparable with @ctype, or the cast fails or is not
 * exact (5.5 for an integer key: no key can equal it). */
bool route_key_value(uint8_t ctype, const struct tl_value *v,
                     struct tl_arena *a, struct tl_value *out);

#endif
