/* plan — a bound single-table statement: its filter, its route and the
 * shards it targets, and the scan fragment sent to them.
 *
 * Plans live in the statement arena (st->a). Planning does no I/O. */
#ifndef TL_PLAN_H
#define TL_PLAN_H

#include <pg_query/pg_query.pb-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "expr.h"
#include "router/plan/route.h"
#include "table.h"
#include "talus.pb-c.h"

struct sql_stmt;

/* A bound single-table query (SELECT, UPDATE, DELETE). */
struct plan {
    struct tl_table *table;
    struct tl_expr *filter; /* NULL: every row */
    /* A join: the combined row's columns, named "alias.column", for
     * rendering the filter (NULL: the table's own), and the EXPLAIN lines
     * describing the joins (after the table line). */
    const struct tl_table *row_table;
    const char **join_lines;
    size_t n_join_lines;
    struct route route;
    uint32_t *shards; /* targets, sorted */
    uint32_t n_shards;
    /* With route.n_points: the key ranges of each target shard (parallel
     * to shards); NULL means the fragment's own range. */
    Talus__KeyRange ***shard_ranges;
    size_t *n_shard_ranges;
    /* SELECT ... FOR UPDATE of a reference table: every session locks
     * the rows of one copy (the first shard's), so that row locks of two
     * sessions meet (writes lock every copy). */
    bool lock_rows;
};

/** Bind @where over @t and route it (a reference table: over the
 * session's copy, route_reference_copy()). */
int plan_build(struct sql_stmt *st, struct tl_table *t, const char *alias,
               const PgQuery__Node *where, struct plan *p);
/** Route @p (table and filter set; a filter whose parameters a generic
 * plan just filled in) again: its route and target shards, in st->a, as
 * plan_build() sets them (a reference table with p->lock_rows: its first
 * copy). Cannot fail; returns 0. */
int plan_route(struct sql_stmt *st, struct plan *p);
/** Plan a join driven by @t (offset 0 of the combined row): route on
 * @route_filter (conjuncts over @t's columns only, may be NULL) and let
 * the fragment evaluate @filter (over the combined row, may be NULL; it
 * shares @route_filter's conjunct nodes). Cannot fail. */
void plan_build_join(struct sql_stmt *st, struct tl_table *t,
                     struct tl_expr *route_filter, struct tl_expr *filter,
                     struct plan *p);
/** Retarget @p, a plan of a reference table (route.ref != NONE), at
 * every copy: a write (UPDATE, DELETE) reaches every shard. */
void plan_every_copy(struct sql_stmt *st, struct plan *p);
/** A scan fragment for @p in st->a (ranges and filter set). */
Talus__ScanFragment *plan_fragment(struct sql_stmt *st, const struct plan *p);
/** Render @e for EXPLAIN with @t's column names, in st->a. */
const char *plan_render_expr(struct sql_stmt *st, const struct tl_table *t,
                             const struct tl_expr *e);

#endif
