/* select_int — the bound form of a SELECT, shared by select.c (binding,
 * streaming), select_target.c (targets, ORDER BY keys, GROUP BY binding)
 * and select_agg.c (aggregates, grouping, router-side sorting, EXPLAIN). */
#ifndef TL_SELECT_INT_H
#define TL_SELECT_INT_H

#include "router/exec/gather.h"
#include "router/plan/plan.h"
#include "router/sql/sql_int.h"

enum sel_agg {
    AGG_NONE = 0,
    AGG_COUNT_STAR,
    AGG_COUNT,
    AGG_SUM,
    AGG_MIN,
    AGG_MAX,
    AGG_AVG,
};

/* The distinct non-NULL values an aggregate has seen in one group
 * (count(DISTINCT x), sum(DISTINCT x), avg(DISTINCT x)): open addressing
 * over cap slots (a power of two, at most half full); hash 0 marks an
 * empty slot. Text lives in the groups' arena; every byte is counted in
 * the groups' bytes. */
struct sel_distinct {
    uint64_t *hashes;      /* cap; malloc'd */
    struct tl_value *vals; /* cap; malloc'd */
    size_t n, cap;
};

/* The running state of one aggregate (over all rows, or one group). */
struct sel_agg_state {
    int64_t count;
    int64_t isum;
    double fsum;
    bool has_value;
    struct tl_value best; /* min/max; text in the statement arena, or in
                             buf (malloc'd, cap bytes) when grouping. For
                             sum/avg over numeric or bigint (avg: any
                             integer), the exact numeric sum so far, its
                             text always in buf */
    char *buf;            /* freed by select_groups_close, or by
                             select_exec for an ungrouped query */
    size_t cap;
    struct sel_distinct *seen; /* DISTINCT aggregates, NULL until used */
};

struct sel_target {
    const char *name;         /* output column name */
    int location;             /* of the target in the query, -1 if none */
    const PgQuery__Node *val; /* grouped queries: the target as written */
    uint8_t type;             /* output type */
    int32_t typmod;
    struct tl_expr *expr;     /* AGG_NONE: the value (over the table row) */
    int agg;                  /* enum sel_agg */
    struct tl_expr *arg;      /* aggregate argument (not for count(*)) */
    struct sel_agg_state acc; /* aggregate state */
};

/* Aggregate placeholders while binding a grouped query: column
 * SEL_AGG_BASE + j stands for aggregate j until select_group_fixup()
 * renumbers it to n_keys + j in the group row. */
#define SEL_AGG_BASE (1u << 30)

/* One aggregate call of a grouped query. */
struct sel_agg_def {
    int agg;             /* enum sel_agg */
    bool distinct;       /* count/sum/avg(DISTINCT x) */
    uint8_t type;        /* result type */
    struct tl_expr *arg; /* over the input row; NULL for count(*) */
};

/* Where a column reference was bound (for 42803 positions). */
struct sel_col_loc {
    const struct tl_expr *e;
    int location;
};

/* GROUP BY (or HAVING without GROUP BY: one group, no keys). Each group
 * becomes a "group row": its n_keys key values, then its n_aggs aggregate
 * results; targets, HAVING and ORDER BY of a grouped query are
 * expressions over that row. */
struct sel_group {
    struct tl_expr **keys; /* over the input row */
    size_t n_keys;
    size_t n_items; /* the GROUP BY items; later keys are columns the
                       grouped primary key determines */
    size_t cap_keys;
    struct sel_agg_def *aggs;
    size_t n_aggs, cap_aggs;
    struct tl_expr *having; /* over the group row, NULL if none */
    struct sel_col_loc *locs;
    size_t n_locs, cap_locs;
    struct sql_stmt *st;
    size_t max_bytes; /* memory cap of the groups, with their DISTINCT
                         sets (54000 beyond) */
};

/* Default memory cap of GROUP BY at the router. */
#define SEL_GROUP_MAX_BYTES ((size_t)64 << 20)

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
    bool is_agg;             /* some target is an aggregate */
    bool count_only;         /* every aggregate is count(*): pushed down */
    struct sel_group *group; /* GROUP BY / HAVING, else NULL */
    /* execution */
    struct tl_value *row;      /* decoded row, n_columns */
    struct tl_value *out_vals; /* n_targets */
    struct tl_arena scratch;   /* per output row */
    uint64_t n_sent;
    uint64_t n_skipped;
    /* SELECT ... FOR UPDATE/SHARE: the strength (PgQuery's
     * LockClauseStrength, 0: none) and Talus__ModifyFragment__LockWait. */
    uint32_t lock_strength;
    int lock_wait;
};

/** Whether @ss is an aggregate query the plain aggregate path cannot
 * run (an aggregate inside an expression or ORDER BY, a DISTINCT
 * aggregate, a column reference beside aggregates): it is then bound as
 * one group over all rows (q->group with no keys). Cannot fail. */
bool select_needs_group(const PgQuery__SelectStmt *ss);

/* Calls select_has_call() looks for. */
enum sel_call {
    SEL_CALL_AGG,    /* an aggregate (not a window function) */
    SEL_CALL_WINDOW, /* f(...) OVER (...) */
    SEL_CALL_SRF,    /* a set-returning function */
};
/** Whether expression @n (NULL: false) calls a function of kind @what
 * (enum sel_call) at its own query level (subqueries are not looked
 * into). Cannot fail. */
bool select_has_call(const PgQuery__Node *n, int what);
/** Bind every clause of @ss into @q. */
int select_bind(struct sql_stmt *st, const PgQuery__SelectStmt *ss,
                struct select_q *q);
/** Run @q, bound (select_bind()), into st->dest: the result's columns,
 * then its rows from the shards of q->plan. Errors as select_exec(). */
int select_run(struct sql_stmt *st, struct select_q *q);
/** Bind the target list (expanding *) into q->targets. */
int select_bind_targets(struct sql_stmt *st, struct select_q *q,
                        const PgQuery__SelectStmt *ss);
/** Bind one ORDER BY item: output position, output alias, or expression. */
int select_bind_sort_expr(struct sql_stmt *st, struct select_q *q,
                          const PgQuery__Node *n, struct tl_expr **out);
/** The scan fragment for @q (count_only, projection, order, limit). */
Talus__ScanFragment *select_fragment(struct sql_stmt *st, struct select_q *q);
/** Evaluate one output row and hand it to the statement's destination. */
int select_emit(struct sql_stmt *st, struct select_q *q,
                const struct tl_value *row, size_t n_cols);
/** Complete the statement with the tag "SELECT @n". */
void select_send_tag(struct sql_stmt *st, uint64_t n);
/** Feed one input row to every aggregate. */
int select_agg_step(struct sql_stmt *st, struct select_q *q,
                    const struct tl_value *row, size_t n_cols);
/** Send the single aggregate row (with offset/limit applied). */
int select_finish_aggregates(struct sql_stmt *st, struct select_q *q);
int select_run_aggregate(struct sql_stmt *st, struct select_q *q,
                         Talus__ScanFragment *f);
/** SELECT ... FOR UPDATE/SHARE's locking clauses of @ss: PostgreSQL's
 * errors (0A000 `FOR UPDATE is not allowed with GROUP BY clause`, ...,
 * 42P01 for an OF name not in FROM), else 0 with *@strength (PgQuery's
 * LockClauseStrength, 0: no clause) and *@wait
 * (Talus__ModifyFragment__LockWait): the strongest of the clauses. */
int select_bind_locking(struct sql_stmt *st, const PgQuery__SelectStmt *ss,
                        uint32_t *strength, int *wait);
/** Run fragment @frag over q->plan's shards, each row to @cb: a scan, or
 * with q->lock_strength the rows locked (gather.h gather_scan()). */
int select_gather(struct sql_stmt *st, struct select_q *q,
                  const Talus__ScanFragment *frag, gather_row_cb cb, void *arg);
int select_run_sorted(struct sql_stmt *st, struct select_q *q,
                      Talus__ScanFragment *f);
/** GROUP BY / HAVING (or an aggregate query select_needs_group() picks):
 * bind the targets, the GROUP BY items and HAVING
 * over the input row (q->group). */
int select_group_bind(struct sql_stmt *st, struct select_q *q,
                      const PgQuery__SelectStmt *ss);
/** Rewrite the targets and HAVING over the group row: 42803 for a column
 * neither grouped nor determined by a grouped primary key. */
int select_group_check(struct sql_stmt *st, struct select_q *q);
/** Bind ORDER BY expression @n of a grouped query over the group row. */
int select_group_bind_expr(struct sql_stmt *st, struct select_q *q,
                           const PgQuery__Node *n, const char *clause,
                           struct tl_expr **out);
/** Renumber the aggregate placeholders once binding is done. Cannot
 * fail. */
void select_group_fixup(struct select_q *q);
/** Scan, group in a hash table at the router (at most
 * q->group->max_bytes: 54000 beyond), then HAVING, ORDER BY, OFFSET,
 * LIMIT. */
int select_run_group(struct sql_stmt *st, struct select_q *q,
                     Talus__ScanFragment *f);
/* One group: key values, then one aggregate state per aggregate. */
struct sel_group_entry {
    uint64_t hash;
    struct tl_value *keys;     /* n_keys */
    struct sel_agg_state *acc; /* n_aggs */
};

/* The groups of a running grouped query: open addressing (linear
 * probing) over slots, cap a power of two kept at most half full; list
 * holds the groups in arrival order. Every byte it holds is counted in
 * bytes, which never exceeds q->group->max_bytes. */
struct sel_groups {
    struct select_q *q;
    struct tl_arena arena; /* entries, keys, states */
    struct sel_group_entry **slots;
    size_t cap;
    struct sel_group_entry **list;
    size_t n, list_cap;
    size_t bytes;
    struct tl_value *kv; /* the current row's keys */
};

/** Start an empty set of groups for @q (bound, q->group set). Cannot
 * fail. Release with select_groups_close(). */
void select_groups_init(struct sql_stmt *st, struct select_q *q,
                        struct sel_groups *g);
/** Add input row @row to its group (created if new) and step every
 * aggregate. 54000 "GROUP BY needs more than N MiB of memory" (without
 * GROUP BY items: "aggregates need ...") when the groups and their
 * DISTINCT sets would exceed q->group->max_bytes, else evaluation
 * errors. */
int select_groups_add(struct sql_stmt *st, struct sel_groups *g,
                      const struct tl_value *row, size_t n_cols);
/** Group @i's row (n_keys keys, then n_aggs results) into @row; text
 * borrows @g, and a numeric average is computed into g->arena. Cannot
 * fail. */
void select_groups_row(struct sel_groups *g, size_t i, struct tl_value *row);
/** Free everything @g holds. */
void select_groups_close(struct sel_groups *g);
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
