/* select_int — the bound form of a SELECT, shared by select.c (binding,
 * streaming), select_target.c (targets and ORDER BY keys) and
 * select_agg.c (aggregates, router-side sorting, EXPLAIN). */
#ifndef TL_SELECT_INT_H
#define TL_SELECT_INT_H

#include "sql_int.h"

enum sel_agg {
    AGG_NONE = 0,
    AGG_COUNT_STAR,
    AGG_COUNT,
    AGG_SUM,
    AGG_MIN,
    AGG_MAX,
    AGG_AVG,
};

struct sel_target {
    const char *name; /* output column name */
    int location;     /* of the target in the query, -1 if none */
    uint8_t type;     /* output type */
    int32_t typmod;
    struct tl_expr *expr; /* AGG_NONE: the value (over the table row) */
    int agg;              /* enum sel_agg */
    struct tl_expr *arg;  /* aggregate argument (not for count(*)) */
    /* aggregate state */
    int64_t count;
    int64_t isum;
    double fsum;
    bool has_value;
    struct tl_value best; /* min/max, text copied into the statement arena */
};

struct sel_sort {
    struct tl_expr *expr;
    bool desc;
    bool nulls_first;
};

struct select_join;

struct select_q {
    bool has_table;
    const char *alias;
    /* The rows the shards return: n_cols columns described by row_table
     * (the table itself, or a join's combined row). */
    uint32_t n_cols;
    const struct tl_table *row_table;
    /* A join (NULL: one table or none): its tables in FROM order. */
    struct select_join *join;
    struct bind_rel *rels;
    size_t n_rels;
    struct bind_ns *ns; /* the top-level FROM items' columns */
    size_t n_ns;
    struct plan plan; /* table, filter, route (filter only without table) */
    struct sel_target *targets;
    size_t n_targets;
    struct sel_sort *sort;
    size_t n_sort;
    bool has_limit;
    uint64_t limit;
    uint64_t offset;
    bool is_agg;     /* some target is an aggregate */
    bool count_only; /* every aggregate is count(*): pushed down */
    /* execution */
    struct tl_value *row;      /* decoded row, n_columns */
    struct tl_value *out_vals; /* n_targets */
    struct tl_arena scratch;   /* per output row */
    uint64_t n_sent;
    uint64_t n_skipped;
};

/** Bind every clause of @ss into @q. */
int select_bind(struct sql_stmt *st, const PgQuery__SelectStmt *ss,
                struct select_q *q);
/** Bind the target list (expanding *) into q->targets. */
int select_bind_targets(struct sql_stmt *st, struct select_q *q,
                        const PgQuery__SelectStmt *ss);
/** Bind one ORDER BY item: output position, output alias, or expression. */
int select_bind_sort_expr(struct sql_stmt *st, struct select_q *q,
                          const PgQuery__Node *n, struct tl_expr **out);
/** The scan fragment for @q (count_only, projection, order, limit). */
Talus__ScanFragment *select_fragment(struct sql_stmt *st, struct select_q *q);
/** Evaluate and send one output row. */
int select_emit(struct sql_stmt *st, struct select_q *q,
                const struct tl_value *row, size_t n_cols);
/** Feed one input row to every aggregate. */
int select_agg_step(struct sql_stmt *st, struct select_q *q,
                    const struct tl_value *row, size_t n_cols);
/** Send the single aggregate row (with offset/limit applied). */
int select_finish_aggregates(struct sql_stmt *st, struct select_q *q);
int select_run_aggregate(struct sql_stmt *st, struct select_q *q,
                         Talus__ScanFragment *f);
int select_run_sorted(struct sql_stmt *st, struct select_q *q,
                      Talus__ScanFragment *f);
int select_explain(struct sql_stmt *st, struct select_q *q);
/** The scope expressions of @q bind in (the table, or the join's tables),
 * with @clause (may be NULL) for error messages. */
struct bind_scope select_scope(const struct select_q *q, const char *clause);

/* select_join.c: a FROM clause joining one sharded (or unsharded) table,
 * or several co-located sharded tables, with reference tables, or
 * reference tables only, run on the shards. */

/** Whether @ss's FROM clause is a join (several items, or a JOIN). */
bool select_join_is_join(const PgQuery__SelectStmt *ss);
/** Resolve the tables of the join (q->rels, q->row_table, q->n_cols, the
 * driving table in q->plan.table) and bind the ON conditions. 0A000 for
 * joins that cannot run on the shards (FULL JOIN, a sharded table only on
 * a nullable side, ...), PostgreSQL's errors for bad references. */
int select_join_bind_from(struct sql_stmt *st, struct select_q *q,
                          const PgQuery__SelectStmt *ss);
/** Bind @where over the join, check that every sharded table is
 * co-located with the driving one (0A000 with a DETAIL saying why not),
 * place every condition (routing, join steps, filter) and build q->plan. */
int select_join_plan(struct sql_stmt *st, struct select_q *q,
                     const PgQuery__Node *where);
/** Attach the join steps to fragment @f. Cannot fail. */
void select_join_fragment(struct sql_stmt *st, const struct select_q *q,
                          Talus__ScanFragment *f);

#endif
