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

struct select_q {
    bool has_table;
    const char *alias;
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

#endif
