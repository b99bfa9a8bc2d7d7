/* route — which shards and which keys a bound filter can touch.
 *
 * Pure functions over a table and a bound expression (no I/O), so they are
 * unit-tested directly. Only the top-level AND conjuncts of the filter are
 * used: `shard_key = const` selects one shard, `shard_key IN (consts)` the
 * shards of those values; anything else leaves every shard. When every
 * primary-key column is fixed by an equality the scan is a single key;
 * `pk IN (consts)` on a one-column key scans just those keys.
 * The filter itself is always sent to the nodes too, so routing only has
 * to be a superset of the matching rows. */
#ifndef TL_ROUTE_H
#define TL_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "expr.h"
#include "table.h"

struct route {
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
};

/** Route @filter (may be NULL) over @t in a cluster of @n_shards shards.
 * Allocates in @a. Cannot fail. */
void route_analyze(const struct tl_table *t, const struct tl_expr *filter,
                   uint32_t n_shards, struct tl_arena *a, struct route *out);

/** Shard of the row @row[0..t->n_columns) of @t. Cannot fail. */
uint32_t route_row_shard(const struct tl_table *t, const struct tl_value *row,
                         uint32_t n_shards);

/** Whether a constant of @vtype can stand for a key column of @ctype: same
 * key encoding (integers of any width, text/varchar, float8, bool). */
bool route_key_compatible(uint8_t ctype, uint8_t vtype);

#endif
