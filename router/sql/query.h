/* query — a SELECT bound for the router-side executor: a tree of FROM
 * items (virtual catalog tables, subqueries, set-returning functions,
 * joins), a filter, grouping and aggregates, targets, ordering, limits and
 * set operations, with correlated subqueries in any expression.
 *
 * Statements over pg_catalog, information_schema and the talus schema are
 * bound here (query_bind()) and run by router/exec/local.c; nothing of
 * them reaches a node. Every expression is a tl_expr over the query's
 * combined row: each FROM item's columns at its offset, the items side by
 * side in FROM order. Expressions the router evaluates itself (catalog
 * functions, subqueries, references to an enclosing query's row,
 * aggregates) are TL_EXPR_EXT nodes.
 *
 * Everything lives in the statement arena. A query holds run-time fields
 * (the current row and group) that the executor sets while it runs: a
 * bound query is run by one thread at a time. */
#ifndef TL_QUERY_H
#define TL_QUERY_H

#include <pg_query/pg_query.pb-c.h>
#include <stdbool.h>
#include <stdint.h>

#include "expr.h"
#include "router/sql/sql_int.h"
#include "table.h"

struct pgcat;
struct query;

enum query_from_kind {
    QF_VTABLE = 1,    /* a virtual catalog table */
    QF_SUBQUERY = 2,  /* (SELECT ...) AS alias */
    QF_JOIN = 3,      /* left JOIN right ON quals */
    QF_SRF = 4,       /* generate_series(a, b) or unnest(array) */
    QF_TABLE = 5,     /* a user table, scanned on its shards */
    QF_WORKTABLE = 6, /* WITH RECURSIVE: the rows of the last round */
};

enum query_join {
    QJ_INNER = 0,
    QJ_LEFT = 1,
    QJ_RIGHT = 2,
    QJ_FULL = 3,
};

enum query_srf {
    QS_GENERATE_SERIES = 1,
    QS_UNNEST = 2,
    QS_SUBSCRIPTS = 3,  /* generate_subscripts(array, 1) */
    QS_EXPANDARRAY = 4, /* information_schema._pg_expandarray(array) */
};

/* A set-returning function in the SELECT list: the row it is in repeats
 * once per element, the functions of one row side by side (PostgreSQL
 * 10's rule), shorter ones giving NULL. */
struct query_tsrf {
    int kind; /* enum query_srf */
    struct tl_expr **args;
    uint32_t n_args;
    struct query *q;
    uint8_t elem_type; /* unnest: the array's element type */
};

enum query_window_kind {
    QW_ROW_NUMBER = 1,
    QW_RANK,
    QW_DENSE_RANK,
    QW_NTILE,       /* ntile(n) */
    QW_LAG,         /* lag(x [, offset [, default]]) */
    QW_LEAD,        /* lead(x [, offset [, default]]) */
    QW_FIRST_VALUE, /* first_value(x) */
    QW_LAST_VALUE,  /* last_value(x) */
    QW_AGG,         /* an aggregate over the window's frame */
    QW_NTH_VALUE,   /* nth_value(x, n) */
};

/* A window's frame: PostgreSQL's FRAMEOPTION_ bits (parsenodes.h), which
 * libpg_query passes through as WindowDef.frame_options. */
enum query_frame {
    QFR_NONDEFAULT = 0x1,
    QFR_RANGE = 0x2,
    QFR_ROWS = 0x4,
    QFR_GROUPS = 0x8,
    QFR_START_UNBOUNDED_PRECEDING = 0x20,
    QFR_END_UNBOUNDED_FOLLOWING = 0x100,
    QFR_START_CURRENT_ROW = 0x200,
    QFR_END_CURRENT_ROW = 0x400,
    QFR_START_OFFSET_PRECEDING = 0x800,
    QFR_END_OFFSET_PRECEDING = 0x1000,
    QFR_START_OFFSET_FOLLOWING = 0x2000,
    QFR_END_OFFSET_FOLLOWING = 0x4000,
    QFR_EXCLUDE_CURRENT_ROW = 0x8000,
    QFR_EXCLUDE_GROUP = 0x10000,
    QFR_EXCLUDE_TIES = 0x20000,
    /* RANGE UNBOUNDED PRECEDING to CURRENT ROW: the frame without a
     * frame clause. */
    QFR_DEFAULT =
        QFR_RANGE | QFR_START_UNBOUNDED_PRECEDING | QFR_END_CURRENT_ROW,
};

/* f(...) OVER (PARTITION BY ... ORDER BY ... frame): values computed by
 * the executor over the filtered rows (or the groups of a grouped
 * query). Without a frame clause the frame is PostgreSQL's default: the
 * partition's rows up to the current row's last peer with ORDER BY, the
 * whole partition without. */
struct query_window {
    int kind; /* enum query_window_kind */
    struct tl_expr **part;
    size_t n_part;
    struct query_sort *order;
    size_t n_order;
    struct query *q;
    uint8_t type;            /* the result's type */
    struct tl_expr *args[3]; /* the function's arguments (NULL: none) */
    struct query_agg *agg;   /* QW_AGG */
    int frame;               /* enum query_frame bits */
    /* ROWS, GROUPS: the offsets (int8); RANGE: the offset, and the
     * current row's ORDER BY value moved by it, the frame's bound. */
    struct tl_expr *start_off, *end_off;
    struct tl_expr *start_bound, *end_bound;
    struct tl_value *values; /* run time: one per filtered row */
};

struct query_from {
    int kind;                    /* enum query_from_kind */
    const struct tl_table *desc; /* the item's columns (NULL for a join) */
    uint32_t offset;             /* its first column in the combined row */
    uint32_t width;              /* how many columns it spans */
    int vtable;                  /* QF_VTABLE: pgcat table number */
    struct query *sub;           /* QF_SUBQUERY; QF_WORKTABLE: the
                                    recursive query it reads */
    int srf;                     /* QF_SRF: enum query_srf */
    struct tl_expr **srf_args;   /* QF_SRF, over the enclosing rows */
    uint32_t n_srf_args;
    struct query_from *left, *right; /* QF_JOIN */
    int join;                        /* QF_JOIN: enum query_join */
    struct tl_expr *quals;           /* QF_JOIN: over the combined row */
    /* Conditions of WHERE that read only this item's columns, applied as
     * its rows are produced (a base item not on the nullable side of an
     * outer join), or NULL. */
    struct tl_expr *filter;
    struct tl_table *table; /* QF_TABLE: the catalog's table */

    /* Run time (router/exec/local.c), QF_TABLE: the rows the shards
     * returned for the part of filter they evaluate (it reads nothing of
     * an enclosing query, so a subquery run once per outer row scans its
     * tables once), full-width rows of the query. */
    bool scanned;
    struct tl_value **rows;
    size_t n_rows;
    struct tl_expr *rest; /* the part of filter the router evaluates */
};

enum query_agg_kind {
    QA_COUNT_STAR = 1,
    QA_COUNT,
    QA_SUM,
    QA_MIN,
    QA_MAX,
    QA_AVG,
    QA_STRING_AGG,
    QA_ARRAY_AGG,
    QA_BOOL_AND,
    QA_BOOL_OR,
};

struct query_agg {
    int kind; /* enum query_agg_kind */
    bool distinct;
    uint8_t type;             /* result type */
    struct tl_expr *arg;      /* over the combined row; NULL for count(*) */
    struct tl_expr *sep;      /* string_agg's delimiter */
    struct query *q;          /* the query it aggregates in */
    uint32_t index;           /* in q->aggs */
    struct tl_expr *filter;   /* FILTER (WHERE ...), or NULL */
    struct query_sort *order; /* ORDER BY inside the call */
    size_t n_order;
};

struct query_target {
    const char *name;
    uint8_t type;
    int32_t typmod;
    struct tl_expr *expr; /* over the combined row (or a group's row) */
    uint8_t elem_type;    /* an array column's element type, else 0 */
};

struct query_sort {
    struct tl_expr *expr;
    bool desc;
    bool nulls_first;
};

/* One group while a grouped query runs: its first row (grouped columns
 * and the outer references of its targets read it) and the final value
 * of each aggregate, set by the executor before the group's targets are
 * evaluated. */
struct query_group {
    const struct tl_value *row;  /* width columns */
    struct tl_value *results;    /* n_aggs */
    const struct tl_value *keys; /* n_group_keys: NULL where not grouped */
    uint64_t set;                /* the keys its grouping set groups by */
};

/** The value of aggregate @i in group @g. Cannot fail. */
static inline struct tl_value
query_group_result(const struct query_group *g, uint32_t i)
{
    return g->results[i];
}

enum query_setop {
    QSET_NONE = 0,
    QSET_UNION,
    QSET_INTERSECT,
    QSET_EXCEPT,
    /* WITH RECURSIVE: larg, then rarg over the rows of the round before
     * (its QF_WORKTABLE) until a round adds none; UNION drops rows seen
     * before, UNION ALL keeps them. */
    QSET_RECURSIVE,
};

struct query {
    /* Set operation: larg op rarg, then sort and limits over its rows
     * (targets describe the result; the rest below is unused). */
    int setop; /* enum query_setop */
    bool setop_all;
    struct query *larg, *rarg;

    struct query_from *from; /* NULL: one row of no columns */
    uint32_t width;          /* columns of the combined row */
    struct tl_expr *where;   /* NULL: every row */
    /* The conditions of WHERE that read no row of this query (constants,
     * uncorrelated subqueries, references to enclosing rows): evaluated
     * once before any row is made, as PostgreSQL's one-time filter; false
     * means no rows. NULL: none. */
    struct tl_expr *gate;
    bool grouped; /* GROUP BY, HAVING or an aggregate */
    struct tl_expr **group_keys;
    size_t n_group_keys;
    /* GROUPING SETS, ROLLUP or CUBE: the sets, each a mask of the
     * group_keys it groups by (bit k: key k), in PostgreSQL's order;
     * n_sets 0 is plain GROUP BY (every key). After binding, the grouped
     * query's expressions read the keys through references to the
     * group's key values (NULL where its set does not group by them). */
    uint64_t *sets;
    size_t n_sets;
    bool has_grouping; /* GROUPING() is called */
    struct query_agg **aggs;
    size_t n_aggs, cap_aggs;
    struct query_tsrf **tsrfs; /* set-returning functions in targets */
    size_t n_tsrfs, cap_tsrfs;
    struct query_window **windows;
    size_t n_windows, cap_windows;
    struct tl_expr *having;
    struct query_target *targets;
    size_t n_targets;
    bool distinct; /* SELECT DISTINCT */
    /* SELECT DISTINCT ON (...): the first row of each set of rows with
     * equal values (in ORDER BY's order). */
    struct tl_expr **distinct_on;
    size_t n_distinct_on;
    struct query_sort *sort;
    size_t n_sort;
    bool has_limit;
    uint64_t limit, offset;

    /* Run time (router/exec/local.c). */
    const struct tl_value *cur_row; /* the combined row being evaluated */
    struct query_group *cur_group;  /* grouped: the group being output */
    size_t cur_index;               /* windows: the filtered row's number */
    size_t srf_pos;                 /* targets' set-returning functions */
    /* The scope its expressions bound in: correlated references from
     * subqueries look names up here while binding. */
    struct bind_scope *scope;
    /* It reads a column of an enclosing query, itself or through a
     * subquery: its rows may change from one outer row to the next. */
    bool correlated;
    /* QSET_RECURSIVE, run time: the last round's rows (the executor's
     * row set). */
    void *work;
};

/* What a subquery expression asks of its query (TL_EXPR_EXT data). */
enum query_sublink_kind {
    QL_EXISTS = 1,
    QL_SCALAR,
    QL_ANY,   /* x op ANY (subquery): x is args[0] */
    QL_ALL,   /* x op ALL (subquery) */
    QL_ARRAY, /* ARRAY(subquery) */
};

struct query_sublink {
    int kind;   /* enum query_sublink_kind */
    uint8_t op; /* QL_ANY, QL_ALL: the comparison (enum tl_op) */
    struct query *q;
    /* Runs q for the current outer rows: set by the executor before the
     * statement runs (the binder does no I/O). */
    int (*run)(struct query_sublink *sl, const struct tl_expr *e,
               const struct tl_value *row, size_t n_cols, struct tl_arena *a,
               struct tl_value *out, struct tl_error *err);
    void *run_arg;
    /* Run time: an uncorrelated subquery's rows, computed once, and for
     * x = ANY (subquery) a hash set of them. */
    bool done;
    void *rows; /* the executor's row set */
    void *set;  /* the executor's hash set of rows, or NULL */
};

/* WITH name [(columns)] AS (query): bound where it is referenced, as a
 * subquery in FROM, seeing the expressions declared before it. */
struct query_cte {
    const char *name;
    const PgQuery__CommonTableExpr *cte;
    const struct bind_scope *outer; /* the scope of the query with WITH */
    bool recursive;                 /* declared in WITH RECURSIVE */
    /* While its recursive term is bound: the recursive query, and the
     * query level where a reference to it may appear. */
    struct query *rec;
    size_t rec_level;
};

/* Every subquery expression a statement bound, so the executor can give
 * each its runner. */
struct query_ctx {
    struct pgcat *cat; /* the catalog snapshot the statement reads */
    bool reads_tables; /* some FROM item is a user table */
    /* While binding: the queries being bound, outermost first. */
    struct query **stack;
    size_t n_stack, cap_stack;
    /* While binding: the common table expressions in scope, outermost
     * first (the ones of one WITH in their order). */
    struct query_cte *ctes;
    size_t n_ctes, cap_ctes;
    struct query_sublink **sublinks;
    size_t n_sublinks, cap_sublinks;
};

/** How many rows set-returning function @s gives over @row (its
 * arguments evaluated there). Errors as tl_expr_eval(). */
int query_tsrf_length(const struct query_tsrf *s, const struct tl_value *row,
                      size_t n_cols, struct tl_arena *a, size_t *len,
                      struct tl_error *err);

/** Whether @ss must run at the router: it reads a pg_catalog,
 * information_schema or talus relation, or holds a subquery or a call of
 * a catalog function. Cannot fail. */
bool query_wanted(const PgQuery__SelectStmt *ss);

/** Bind @ss into *@out (in st->a), reading the catalog snapshot @ctx->cat.
 * PostgreSQL's errors for bad references and types; 0A000 naming what
 * Talus cannot run at the router yet (a user table among catalog ones,
 * window functions, WITH, ...). */
int query_bind(struct sql_stmt *st, struct query_ctx *ctx,
               const PgQuery__SelectStmt *ss, struct query **out);

#endif
