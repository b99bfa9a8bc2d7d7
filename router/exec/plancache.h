/* plancache — generic plans of prepared statements, as PostgreSQL's
 * plancache.c keeps them for a CachedPlanSource.
 *
 * A generic plan is a SELECT bound and planned once with its $n left as
 * parameter nodes: the table (a copy taken at the catalog version the
 * plan records), the targets, the filter, ORDER BY and LIMIT, all in the
 * plan's own arena. Each run fills the parameter nodes with the values a
 * Bind (or EXECUTE) gave, computes the route from them (the shard of
 * `WHERE id = $1` from the value), builds the fragment in the
 * statement's arena and streams the rows; the nodes are emptied again
 * before the run returns, so a plan never points into a run's memory.
 *
 * Only SELECTs of one table that stream rows from the shards (no join, no
 * aggregate, no GROUP BY) have generic plans, and only when binding did
 * not need a value now (a $n in LIMIT, now(), nextval(), ...): the others
 * are bound and planned per run (a custom plan). A plan is valid while
 * the router's catalog is at the version it records; the caller makes a
 * new one otherwise.
 *
 * A plan belongs to one prepared statement of one session and is used by
 * that session's thread only. */
#ifndef TL_PLANCACHE_H
#define TL_PLANCACHE_H

#include <pg_query/pg_query.pb-c.h>
#include <stddef.h>
#include <stdint.h>

#include "value.h"

struct sql_stmt;
struct cached_plan;

/** Build the generic plan of @raw (borrowed: it must outlive the plan),
 * whose @n_params parameters have @types (copied), for statement @st's
 * session and router. *@out is the plan (free with plancache_destroy()),
 * or NULL when @raw has none (above), some type is unknown, or binding
 * failed: a custom plan then reports the error as PostgreSQL would.
 * st->err is left clear. Cannot fail. */
void plancache_build(struct sql_stmt *st, const PgQuery__RawStmt *raw,
                     size_t n_params, const uint8_t *types,
                     struct cached_plan **out);

/** The number of result columns of @cp; the type and typmod of column @i
 * (below it) into *@type and *@typmod. Cannot fail. */
size_t plancache_n_columns(const struct cached_plan *cp);
void plancache_column(const struct cached_plan *cp, size_t i, uint8_t *type,
                      int32_t *typmod);

/** The catalog version @cp was planned at. */
uint64_t plancache_version(const struct cached_plan *cp);

/** Run @cp with parameter @values (as many as its parameters; borrowed
 * for the run) into st->dest. Errors as select_exec(): TL_ESTALE when a
 * node refused the plan's catalog version (the catalog was reloaded). */
int plancache_run(struct sql_stmt *st, struct cached_plan *cp,
                  const struct tl_value *values);

/** Free @cp; NULL is a no-op. */
void plancache_destroy(struct cached_plan *cp);

#endif
