/* select — SELECT over one table (or none): bind targets, route the WHERE
 * clause, push filter, projection, order and limit to the shards, and
 * finish at the router (merge order, offset/limit, aggregates, target
 * expressions). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "router/exec/gather.h"
#include "router/exec/local.h"
#include "router/exec/select.h"
#include "router/exec/select_int.h"
#include "router/sql/query.h"
#include "router/txn/coord.h"
#include "row.h"

static int
refuse_clauses(struct sql_stmt *st, const PgQuery__SelectStmt *ss)
{
    if (ss->op == PG_QUERY__SET_OPERATION__SETOP_UNION)
        return sql_unsupported(st, "UNION");
    if (ss->op == PG_QUERY__SET_OPERATION__SETOP_INTERSECT)
        return sql_unsupported(st, "INTERSECT");
    if (ss->op == PG_QUERY__SET_OPERATION__SETOP_EXCEPT)
        return sql_unsupported(st, "EXCEPT");
    if (ss->with_clause != NULL)
        return sql_unsupported(st, "WITH (common table expressions)");
    if (ss->n_values_lists > 0)
        return sql_unsupported(st, "VALUES");
    if (ss->into_clause != NULL)
        return sql_unsupported(st, "SELECT INTO");
    if (ss->n_distinct_clause > 0)
        return sql_unsupported(st, "DISTINCT");
    if (ss->n_group_clause > 0 && ss->group_distinct)
        return sql_unsupported(st, "GROUP BY DISTINCT");
    if (ss->n_window_clause > 0)
        return sql_unsupported(st, "window function");
    if (ss->n_locking_clause > 0 && select_join_is_join(ss))
        return sql_unsupported(st, "FOR UPDATE/SHARE with a join");
    if (ss->limit_option == PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_WITH_TIES)
        return sql_unsupported(st, "FETCH ... WITH TIES");
    if (ss->n_from_clause == 1 && !select_join_is_join(ss)) {
        const PgQuery__Node *f = ss->from_clause[0];
        if (f->node_case == PG_QUERY__NODE__NODE_RANGE_SUBSELECT)
            return sql_unsupported(st, "subquery in FROM");
        if (f->node_case == PG_QUERY__NODE__NODE_RANGE_FUNCTION)
            return sql_unsupported(st, "function in FROM");
        if (f->node_case != PG_QUERY__NODE__NODE_RANGE_VAR)
            return sql_unsupported(st, "this FROM item");
        if (f->range_var->alias != NULL && f->range_var->alias->n_colnames > 0)
            return sql_unsupported(st, "column aliases in FROM");
    }
    return 0;
}

/* ------------------------------------------------------------ locking */

static const char *
strength_name(PgQuery__LockClauseStrength s)
{
    switch (s) {
    case PG_QUERY__LOCK_CLAUSE_STRENGTH__LCS_FORKEYSHARE:
        return "FOR KEY SHARE";
    case PG_QUERY__LOCK_CLAUSE_STRENGTH__LCS_FORSHARE:
        return "FOR SHARE";
    case PG_QUERY__LOCK_CLAUSE_STRENGTH__LCS_FORNOKEYUPDATE:
        return "FOR NO KEY UPDATE";
    default:
        return "FOR UPDATE";
    }
}

/* PostgreSQL's CheckSelectLocking(): the clauses a locking SELECT cannot
 * have, in its order, named with the clause's strength. */
static int
check_locking(struct sql_stmt *st, const PgQuery__SelectStmt *ss,
              const char *what)
{
    const char *bad = NULL;
    if (ss->op != PG_QUERY__SET_OPERATION__SETOP_NONE &&
        ss->op != PG_QUERY__SET_OPERATION__SET_OPERATION_UNDEFINED)
        bad = "UNION/INTERSECT/EXCEPT";
    else if (ss->n_distinct_clause > 0)
        bad = "DISTINCT clause";
    else if (ss->n_group_clause > 0)
        bad = "GROUP BY clause";
    else if (ss->having_clause != NULL)
        bad = "HAVING clause";
    if (bad == NULL) {
        int kinds[] = {SEL_CALL_AGG, SEL_CALL_WINDOW, SEL_CALL_SRF};
        const char *names[] = {"aggregate functions", "window functions",
                               "set-returning functions in the target list"};
        for (int k = 0; k < 3 && bad == NULL; k++) {
            for (size_t i = 0; i < ss->n_target_list && bad == NULL; i++)
                if (select_has_call(ss->target_list[i]->res_target->val,
                                    kinds[k]))
                    bad = names[k];
            for (size_t i = 0; k < 2 && i < ss->n_sort_clause && bad == NULL;
                 i++)
                if (select_has_call(ss->sort_clause[i]->sort_by->node,
                                    kinds[k]))
                    bad = names[k];
        }
    }
    if (bad == NULL)
        return 0;
    return sql_error(st, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                     "%s is not allowed with %s", what, bad);
}

/* Whether FROM item @f is named @name (its alias if it has one). */
static bool
from_has_name(const PgQuery__Node *f, const char *name)
{
    switch (f->node_case) {
    case PG_QUERY__NODE__NODE_RANGE_VAR: {
        const PgQuery__RangeVar *rv = f->range_var;
        const char *n = rv->alias != NULL ? rv->alias->aliasname : rv->relname;
        return n != NULL && strcmp(n, name) == 0;
    }
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT:
        return f->range_subselect->alias != NULL &&
               strcmp(f->range_subselect->alias->aliasname, name) == 0;
    case PG_QUERY__NODE__NODE_RANGE_FUNCTION:
        return f->range_function->alias != NULL &&
               strcmp(f->range_function->alias->aliasname, name) == 0;
    case PG_QUERY__NODE__NODE_JOIN_EXPR: {
        const PgQuery__JoinExpr *j = f->join_expr;
        if (j->alias != NULL)
            return strcmp(j->alias->aliasname, name) == 0;
        return (j->larg != NULL && from_has_name(j->larg, name)) ||
               (j->rarg != NULL && from_has_name(j->rarg, name));
    }
    default:
        return false;
    }
}

int
select_bind_locking(struct sql_stmt *st, const PgQuery__SelectStmt *ss,
                    uint32_t *strength, int *wait)
{
    *strength = 0;
    *wait = TALUS__MODIFY_FRAGMENT__LOCK_WAIT__WAIT;
    for (size_t i = 0; i < ss->n_locking_clause; i++) {
        const PgQuery__Node *n = ss->locking_clause[i];
        if (n->node_case != PG_QUERY__NODE__NODE_LOCKING_CLAUSE)
            continue;
        const PgQuery__LockingClause *lc = n->locking_clause;
        const char *what = strength_name(lc->strength);
        int rv = check_locking(st, ss, what);
        if (rv != 0)
            return rv;
        for (size_t k = 0; k < lc->n_locked_rels; k++) {
            const PgQuery__Node *r = lc->locked_rels[k];
            if (r->node_case != PG_QUERY__NODE__NODE_RANGE_VAR)
                continue;
            bool found = false;
            for (size_t f = 0; f < ss->n_from_clause && !found; f++)
                found =
                    from_has_name(ss->from_clause[f], r->range_var->relname);
            if (!found) {
                sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_TABLE,
                          "relation \"%s\" in %s clause not found in FROM "
                          "clause",
                          r->range_var->relname, what);
                return sql_error_at(st, TL_ENOTFOUND, r->range_var->location);
            }
        }
        /* The strongest strength and wait policy win (PostgreSQL's
         * applyLockingClause(): NOWAIT over SKIP LOCKED over waiting). */
        if ((uint32_t)lc->strength > *strength)
            *strength = (uint32_t)lc->strength;
        int w = lc->wait_policy == PG_QUERY__LOCK_WAIT_POLICY__LockWaitError
                    ? TALUS__MODIFY_FRAGMENT__LOCK_WAIT__NOWAIT
                : lc->wait_policy == PG_QUERY__LOCK_WAIT_POLICY__LockWaitSkip
                    ? TALUS__MODIFY_FRAGMENT__LOCK_WAIT__SKIP_LOCKED
                    : TALUS__MODIFY_FRAGMENT__LOCK_WAIT__WAIT;
        if (w == TALUS__MODIFY_FRAGMENT__LOCK_WAIT__NOWAIT ||
            (w == TALUS__MODIFY_FRAGMENT__LOCK_WAIT__SKIP_LOCKED &&
             *wait == TALUS__MODIFY_FRAGMENT__LOCK_WAIT__WAIT))
            *wait = w;
    }
    return 0;
}

static uint64_t pushed_limit(const struct select_q *q);

/* One round of row-lock calls: shard q->plan.shards[idx[i]] runs
 * scans[i] (locking, or with @dry only selecting). The responses stay in
 * @calls (gather_release() them). */
static int
lock_round(struct sql_stmt *st, const struct select_q *q, const size_t *idx,
           Talus__ScanFragment *scans, size_t n, bool dry,
           struct gather_call *calls)
{
    Talus__ModifyFragment *mods = tl_arena_calloc(st->a, n * sizeof(*mods));
    for (size_t i = 0; i < n; i++) {
        talus__modify_fragment__init(&mods[i]);
        mods[i].scan = &scans[i];
        mods[i].has_lock_strength = 1;
        mods[i].lock_strength = q->lock_strength;
        mods[i].has_lock_wait = 1;
        mods[i].lock_wait = (Talus__ModifyFragment__LockWait)q->lock_wait;
        mods[i].has_lock_dry_run = dry;
        mods[i].lock_dry_run = dry;
        memset(&calls[i], 0, sizeof(calls[i]));
        talus__request__init(&calls[i].req);
        calls[i].shard = q->plan.shards[idx[i]];
        calls[i].req.body_case = TALUS__REQUEST__BODY_MODIFY;
        calls[i].req.modify = &mods[i];
        /* A dry run writes nothing: it reads as the transaction does but
         * must not pick the shard of its record. */
        if (dry && st->txn != NULL)
            calls[i].req.txn =
                txn_coord_info(st->txn, calls[i].shard, false, st->a);
    }
    gather_run(st, calls, n);
    int rv = 0;
    for (size_t i = 0; i < n && rv == 0; i++)
        rv = gather_check(st, &calls[i]);
    if (rv != 0)
        gather_release(calls, n);
    return rv;
}

/* A row a dry run found: where it lives and how it sorts. */
struct lock_cand {
    size_t shard; /* index into q->plan.shards */
    uint8_t *key; /* in the statement's arena */
    size_t key_len;
    struct tl_value *sv; /* q->n_sort values */
    size_t seq;
};

static int
cand_cmp(const void *pa, const void *pb, void *arg)
{
    const struct lock_cand *a = pa, *b = pb;
    const struct select_q *q = arg;
    for (size_t i = 0; i < q->n_sort; i++) {
        const struct sel_sort *k = &q->sort[i];
        int r = k->desc
                    ? -tl_value_cmp_nulls(&a->sv[i], &b->sv[i], !k->nulls_first)
                    : tl_value_cmp_nulls(&a->sv[i], &b->sv[i], k->nulls_first);
        if (r != 0)
            return r;
    }
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int
key_cmp(const void *pa, const void *pb)
{
    const Talus__KeyRange *a = *(Talus__KeyRange *const *)pa;
    const Talus__KeyRange *b = *(Talus__KeyRange *const *)pb;
    size_t n = a->start.len < b->start.len ? a->start.len : b->start.len;
    int r = n == 0 ? 0 : memcmp(a->start.data, b->start.data, n);
    if (r != 0)
        return r;
    return a->start.len < b->start.len ? -1 : a->start.len > b->start.len;
}

/* A LIMIT over several shards: each shard's first rows (a dry run, which
 * already leaves out rows SKIP LOCKED skips), the first of them all kept
 * here, and only those locked: as PostgreSQL, which locks the rows the
 * LIMIT returns, not every shard's candidates. *@scans gets, per shard,
 * its kept rows' keys as point ranges (n_ranges 0: none). */
static int
lock_pick(struct sql_stmt *st, struct select_q *q,
          const Talus__ScanFragment *frag, Talus__ScanFragment *scans)
{
    size_t n = q->plan.n_shards;
    size_t *idx = tl_arena_alloc(st->a, n * sizeof(*idx));
    struct gather_call *calls = tl_arena_calloc(st->a, n * sizeof(*calls));
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    int rv = lock_round(st, q, idx, scans, n, true, calls);
    if (rv != 0)
        return rv;
    size_t n_c = 0, cap = 0;
    for (size_t i = 0; i < n; i++)
        cap += calls[i].resp->n_rows;
    struct lock_cand *c = tl_arena_calloc(st->a, (cap + 1) * sizeof(*c));
    struct tl_value *vals =
        tl_arena_calloc(st->a, (q->n_cols + 1) * sizeof(*vals));
    struct tl_buf kb;
    tl_buf_init(&kb);
    for (size_t i = 0; i < n && rv == 0; i++) {
        const Talus__Response *resp = calls[i].resp;
        for (size_t k = 0; k < resp->n_rows && rv == 0; k++) {
            rv = tl_row_decode(resp->rows[k].data, resp->rows[k].len, vals,
                               q->n_cols, NULL);
            if (rv != 0) {
                rv = sql_error(st, rv, TL_SQLSTATE_DATA_CORRUPTED,
                               "corrupt row from a shard");
                break;
            }
            struct lock_cand *x = &c[n_c];
            x->shard = i;
            x->seq = n_c++;
            tl_buf_reset(&kb);
            tl_table_row_key(q->plan.table, vals, &kb);
            x->key_len = kb.len;
            x->key = tl_arena_alloc(st->a, kb.len + 1);
            memcpy(x->key, kb.data, kb.len);
            x->sv = tl_arena_calloc(st->a, (q->n_sort + 1) * sizeof(*x->sv));
            for (size_t j = 0; j < q->n_sort && rv == 0; j++)
                rv = tl_expr_eval(q->sort[j].expr, vals, q->n_cols, st->a,
                                  &x->sv[j], &st->err);
            if (rv == 0 && q->n_sort > 0) {
                /* Own the values (the response goes before the sort):
                 * encoded, then decoded from an arena copy. */
                tl_buf_reset(&kb);
                tl_row_encode(x->sv, q->n_sort, 1, &kb);
                uint8_t *enc = tl_arena_alloc(st->a, kb.len + 1);
                memcpy(enc, kb.data, kb.len);
                rv = tl_row_decode(enc, kb.len, x->sv, q->n_sort, NULL);
            }
        }
    }
    tl_buf_close(&kb);
    gather_release(calls, n);
    if (rv != 0)
        return rv;
    if (q->n_sort > 0 && n_c > 1)
        qsort_r(c, n_c, sizeof(*c), cand_cmp, q);
    uint64_t keep = pushed_limit(q);
    if (keep > 0 && n_c > keep)
        n_c = (size_t)keep;
    for (size_t i = 0; i < n; i++) {
        scans[i] = *frag;
        scans[i].has_limit = 0;
        scans[i].limit = 0;
        scans[i].n_order = 0;
        scans[i].order = NULL;
        /* The rows by their own keys, not through an index. */
        scans[i].has_index_id = 0;
        scans[i].index_id = 0;
        scans[i].n_ranges = 0;
        scans[i].ranges =
            tl_arena_alloc(st->a, (n_c + 1) * sizeof(*scans[i].ranges));
    }
    for (size_t k = 0; k < n_c; k++) {
        Talus__ScanFragment *f = &scans[c[k].shard];
        Talus__KeyRange *r = tl_arena_alloc(st->a, sizeof(*r));
        talus__key_range__init(r);
        /* [key, key 0x00): keys are self-delimiting, so just the row. */
        r->start.data = c[k].key;
        r->start.len = c[k].key_len;
        r->end.data = tl_arena_alloc(st->a, c[k].key_len + 1);
        memcpy(r->end.data, c[k].key, c[k].key_len);
        r->end.data[c[k].key_len] = 0;
        r->end.len = c[k].key_len + 1;
        f->ranges[f->n_ranges++] = r;
    }
    for (size_t i = 0; i < n; i++)
        if (scans[i].n_ranges > 1)
            qsort(scans[i].ranges, scans[i].n_ranges, sizeof(*scans[i].ranges),
                  key_cmp);
    return 0;
}

/* Run @frag over the shards of q->plan, locking the rows it selects
 * (ModifyFragment.lock_strength: one prewrite entry per shard inside a
 * transaction), each row to @cb as gather_scan() does. */
static int
gather_lock(struct sql_stmt *st, struct select_q *q,
            const Talus__ScanFragment *frag, gather_row_cb cb, void *arg)
{
    const struct plan *p = &q->plan;
    size_t n = p->n_shards;
    if (n == 0)
        return 0;
    Talus__ScanFragment *scans = tl_arena_calloc(st->a, n * sizeof(*scans));
    size_t *idx = tl_arena_alloc(st->a, n * sizeof(*idx));
    struct gather_call *calls = tl_arena_calloc(st->a, n * sizeof(*calls));
    for (size_t i = 0; i < n; i++) {
        scans[i] = *frag;
        if (p->shard_ranges != NULL) {
            scans[i].ranges = p->shard_ranges[i];
            scans[i].n_ranges = p->n_shard_ranges[i];
        }
    }
    int rv = 0;
    if (n > 1 && frag->has_limit && frag->limit > 0)
        rv = lock_pick(st, q, frag, scans);
    if (rv != 0)
        return rv;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (scans[i].n_ranges > 0)
            idx[m] = i, scans[m++] = scans[i];
    if (m == 0)
        return 0;
    rv = lock_round(st, q, idx, scans, m, false, calls);
    if (rv != 0)
        return rv;
    for (size_t i = 0; i < m && rv == 0; i++) {
        const Talus__Response *resp = calls[i].resp;
        for (size_t k = 0; cb != NULL && k < resp->n_rows && rv == 0; k++)
            rv = cb(st, resp->rows[k].data, resp->rows[k].len, arg);
    }
    gather_release(calls, m);
    return rv < 0 ? rv : 0;
}

int
select_gather(struct sql_stmt *st, struct select_q *q,
              const Talus__ScanFragment *frag, gather_row_cb cb, void *arg)
{
    if (q->lock_strength != 0)
        return gather_lock(st, q, frag, cb, arg);
    return gather_scan(st, &q->plan, frag, cb, arg, NULL);
}

/* ------------------------------------------------------------ binding */

static int
bind_order(struct sql_stmt *st, struct select_q *q,
           const PgQuery__SelectStmt *ss)
{
    q->n_sort = ss->n_sort_clause;
    q->sort = tl_arena_calloc(st->a, (q->n_sort + 1) * sizeof(*q->sort));
    for (size_t i = 0; i < q->n_sort; i++) {
        const PgQuery__SortBy *sb = ss->sort_clause[i]->sort_by;
        struct sel_sort *k = &q->sort[i];
        int rv = sql_bind_sort_order(st, sb, &k->desc, &k->nulls_first);
        if (rv != 0)
            return rv;
        rv = select_bind_sort_expr(st, q, sb->node, &k->expr);
        if (rv == 0)
            rv = sql_check_sort_type(st, k->expr->type, true, sb->node);
        if (rv != 0)
            return rv;
    }
    return 0;
}

/* Column indexes used by targets and order, for the projection. */
static void
mark_columns(const struct tl_expr *e, bool *used)
{
    if (e == NULL)
        return;
    if (e->kind == TL_EXPR_COLUMN)
        used[e->column] = true;
    for (uint32_t i = 0; i < e->n_args; i++)
        mark_columns(e->args[i], used);
}

static void
set_projection(struct sql_stmt *st, struct select_q *q, Talus__ScanFragment *f)
{
    const struct tl_table *t = q->plan.table;
    bool *used = tl_arena_calloc(st->a, q->n_cols);
    if (q->group != NULL) {
        /* Targets, HAVING and ORDER BY are over the group row. */
        for (size_t i = 0; i < q->group->n_keys; i++)
            mark_columns(q->group->keys[i], used);
        for (size_t i = 0; i < q->group->n_aggs; i++)
            mark_columns(q->group->aggs[i].arg, used);
    } else {
        for (size_t i = 0; i < q->n_targets; i++) {
            mark_columns(q->targets[i].expr, used);
            mark_columns(q->targets[i].arg, used);
        }
        for (size_t i = 0; i < q->n_sort; i++)
            mark_columns(q->sort[i].expr, used);
    }
    /* A locking LIMIT over several shards names the rows it keeps by
     * their keys (gather_lock()). */
    for (uint32_t i = 0; q->lock_strength != 0 && i < t->n_pk; i++)
        used[t->pk[i]] = true;
    f->projection = tl_arena_alloc(st->a, q->n_cols * sizeof(uint32_t));
    for (uint32_t c = 0; c < q->n_cols; c++)
        if (used[c])
            f->projection[f->n_projection++] = c;
    if (f->n_projection == 0) /* empty would mean every column */
        f->projection[f->n_projection++] = t->pk[0];
}

static Talus__SortKey **
order_to_proto(struct sql_stmt *st, const struct select_q *q)
{
    Talus__SortKey **keys = tl_arena_alloc(st->a, q->n_sort * sizeof(*keys));
    for (size_t i = 0; i < q->n_sort; i++) {
        Talus__SortKey *k = tl_arena_alloc(st->a, sizeof(*k));
        talus__sort_key__init(k);
        k->expr = tl_expr_to_proto(q->sort[i].expr, st->a);
        k->has_desc = 1;
        k->desc = q->sort[i].desc;
        k->has_nulls_first = 1;
        k->nulls_first = q->sort[i].nulls_first;
        keys[i] = k;
    }
    return keys;
}

/* Rows every shard must return: limit + offset, 0 when unbounded. */
static uint64_t
pushed_limit(const struct select_q *q)
{
    if (!q->has_limit)
        return 0;
    uint64_t n = q->limit + q->offset;
    return n < q->limit ? 0 : n;
}

Talus__ScanFragment *
select_fragment(struct sql_stmt *st, struct select_q *q)
{
    Talus__ScanFragment *f = plan_fragment(st, &q->plan);
    if (q->join != NULL)
        select_join_fragment(st, q, f);
    if (q->count_only) {
        f->has_count_only = 1;
        f->count_only = 1;
        return f;
    }
    set_projection(st, q, f);
    if (q->is_agg)
        return f;
    uint64_t lim = pushed_limit(q);
    if (lim > 0) {
        f->has_limit = 1;
        f->limit = lim;
        if (q->n_sort > 0) {
            f->n_order = q->n_sort;
            f->order = order_to_proto(st, q);
        }
    }
    return f;
}

static int
bind_from(struct sql_stmt *st, struct select_q *q,
          const PgQuery__SelectStmt *ss)
{
    if (ss->n_from_clause == 0)
        return 0;
    if (select_join_is_join(ss))
        return select_join_bind_from(st, q, ss);
    const PgQuery__RangeVar *rv = ss->from_clause[0]->range_var;
    struct tl_table *t;
    int r = sql_lookup_table(st, rv, &t);
    if (r != 0)
        return r;
    q->has_table = true;
    q->plan.table = t;
    q->alias = rv->alias != NULL ? rv->alias->aliasname : rv->relname;
    q->row_table = t;
    q->n_cols = t->n_columns;
    return 0;
}

struct bind_scope
select_scope(const struct select_q *q, const char *clause)
{
    struct bind_scope sc = {.clause = clause};
    if (q->join != NULL) {
        sc.rels = q->rels;
        sc.n_rels = q->n_rels;
        sc.ns = q->ns;
        sc.n_ns = q->n_ns;
    } else if (q->has_table) {
        sc.table = q->plan.table;
        sc.alias = q->alias;
    }
    return sc;
}

int
select_bind(struct sql_stmt *st, const PgQuery__SelectStmt *ss,
            struct select_q *q)
{
    memset(q, 0, sizeof(*q));
    int rv = select_bind_locking(st, ss, &q->lock_strength, &q->lock_wait);
    if (rv == 0)
        rv = refuse_clauses(st, ss);
    if (rv == 0)
        rv = bind_from(st, q, ss);
    /* Aggregates the plain path cannot run are one group over all rows. */
    bool grouped = ss->n_group_clause > 0 || ss->having_clause != NULL ||
                   select_needs_group(ss);
    if (rv == 0 && grouped)
        rv = select_group_bind(st, q, ss);
    else if (rv == 0)
        rv = select_bind_targets(st, q, ss);
    if (rv == 0 && q->join != NULL)
        rv = select_join_plan(st, q, ss->where_clause);
    else if (rv == 0 && q->has_table)
        rv =
            plan_build(st, q->plan.table, q->alias, ss->where_clause, &q->plan);
    else if (rv == 0 && ss->where_clause != NULL) {
        struct bind_scope sc = {.clause = "WHERE"};
        rv = bind_predicate(st, &sc, ss->where_clause, &q->plan.filter);
    }
    /* Row locks of a reference table meet on one copy. */
    if (rv == 0 && q->has_table && q->join == NULL && q->lock_strength != 0 &&
        q->plan.route.ref != ROUTE_REF_NONE) {
        q->plan.lock_rows = true;
        rv = plan_route(st, &q->plan);
    }
    if (rv == 0 && grouped)
        rv = select_group_check(st, q);
    if (rv == 0)
        rv = bind_order(st, q, ss);
    if (rv == 0 && grouped)
        select_group_fixup(q);
    if (rv == 0)
        rv = sql_bind_limit(st, ss->limit_count, "LIMIT",
                            TL_SQLSTATE_INVALID_ROW_COUNT_IN_LIMIT_CLAUSE,
                            &q->has_limit, &q->limit);
    bool has_offset;
    if (rv == 0)
        rv = sql_bind_limit(
            st, ss->limit_offset, "OFFSET",
            TL_SQLSTATE_INVALID_ROW_COUNT_IN_RESULT_OFFSET_CLAUSE, &has_offset,
            &q->offset);
    return rv;
}

/* The result's columns, to the destination. */
static int
send_description(struct sql_stmt *st, const struct select_q *q)
{
    struct dest_column *f =
        tl_arena_calloc(st->a, (q->n_targets + 1) * sizeof(*f));
    for (size_t i = 0; i < q->n_targets; i++) {
        f[i].name = q->targets[i].name;
        f[i].type = q->targets[i].type;
        f[i].typmod = q->targets[i].typmod;
    }
    return dest_startup(st->dest, f, q->n_targets);
}

void
select_send_tag(struct sql_stmt *st, uint64_t n)
{
    char tag[48];
    snprintf(tag, sizeof(tag), "SELECT %llu", (unsigned long long)n);
    dest_complete(st->dest, tag);
}

/* Evaluate the targets over @row and send them as a DataRow. */
int
select_emit(struct sql_stmt *st, struct select_q *q, const struct tl_value *row,
            size_t n_cols)
{
    struct tl_value *out = q->out_vals;
    int rv;
    for (size_t i = 0; i < q->n_targets; i++) {
        rv = tl_expr_eval(q->targets[i].expr, row, n_cols, &q->scratch, &out[i],
                          &st->err);
        if (rv != 0)
            return rv;
    }
    rv = dest_row(st->dest, out, q->n_targets);
    tl_arena_reset(&q->scratch);
    if (rv != 0)
        return rv;
    q->n_sent++;
    return 0;
}

/* Without ORDER BY rows are sent as they arrive. */
static int
stream_row(struct sql_stmt *st, const uint8_t *p, size_t len, void *arg)
{
    struct select_q *q = arg;
    if (st->dest->stop || (q->has_limit && q->n_sent >= q->limit))
        return 1; /* client gone, or enough rows */
    if (q->n_skipped < q->offset) {
        q->n_skipped++;
        return 0;
    }
    int rv = tl_row_decode(p, len, q->row, q->n_cols, NULL);
    if (rv != 0)
        return sql_error(st, rv, TL_SQLSTATE_DATA_CORRUPTED,
                         "corrupt row from a shard");
    rv = select_emit(st, q, q->row, q->n_cols);
    if (rv != 0)
        return rv;
    return q->has_limit && q->n_sent >= q->limit;
}

static int
run_count_only(struct sql_stmt *st, struct select_q *q, Talus__ScanFragment *f)
{
    uint64_t n;
    int rv = gather_scan(st, &q->plan, f, NULL, NULL, &n);
    if (rv != 0)
        return rv;
    for (size_t i = 0; i < q->n_targets; i++)
        if (q->targets[i].agg == AGG_COUNT_STAR)
            q->targets[i].acc.count = (int64_t)n;
    return select_finish_aggregates(st, q);
}

/* A SELECT without FROM: one row, unless WHERE is false. */
static int
run_no_table(struct sql_stmt *st, struct select_q *q)
{
    bool pass = true;
    if (q->plan.filter != NULL) {
        const struct tl_value *v = &q->plan.filter->value;
        pass = q->plan.filter->kind == TL_EXPR_CONST && !v->is_null && v->u.b;
    }
    if (q->is_agg) {
        if (pass) {
            int rv = select_agg_step(st, q, NULL, 0);
            if (rv != 0)
                return rv;
        }
        return select_finish_aggregates(st, q);
    }
    if (pass && q->offset == 0 && !(q->has_limit && q->limit == 0)) {
        int rv = select_emit(st, q, NULL, 0);
        if (rv != 0)
            return rv;
    }
    select_send_tag(st, q->n_sent);
    return 0;
}

static int
run(struct sql_stmt *st, struct select_q *q)
{
    int rv = send_description(st, q);
    if (rv != 0 || st->describe_only)
        return rv;
    q->out_vals =
        tl_arena_calloc(st->a, (q->n_targets + 1) * sizeof(*q->out_vals));
    if (q->group != NULL && !q->has_table)
        return select_run_group(st, q, NULL);
    if (!q->has_table)
        return run_no_table(st, q);
    q->row = tl_arena_calloc(st->a, q->n_cols * sizeof(*q->row));
    Talus__ScanFragment *f = select_fragment(st, q);
    if (q->group != NULL)
        return select_run_group(st, q, f);
    if (q->count_only)
        return run_count_only(st, q, f);
    if (q->is_agg)
        return select_run_aggregate(st, q, f);
    if (q->n_sort > 0)
        return select_run_sorted(st, q, f);
    if (!(q->has_limit && q->limit == 0))
        rv = select_gather(st, q, f, stream_row, q);
    if (rv != 0)
        return rv;
    select_send_tag(st, q->n_sent);
    return 0;
}

int
select_exec(struct sql_stmt *st, const PgQuery__SelectStmt *ss, bool explain)
{
    if (ss->n_locking_clause > 0 && query_wanted(ss)) {
        uint32_t strength;
        int wait, rv = select_bind_locking(st, ss, &strength, &wait);
        if (rv != 0)
            return rv;
        bool lockable = false;
        for (size_t i = 0; i < ss->n_from_clause; i++)
            lockable =
                lockable ||
                ss->from_clause[i]->node_case ==
                    PG_QUERY__NODE__NODE_RANGE_VAR ||
                ss->from_clause[i]->node_case == PG_QUERY__NODE__NODE_JOIN_EXPR;
        if (!lockable) {
            /* No table to lock (SELECT 1, or FROM VALUES or a function,
             * FOR UPDATE): as without. */
            PgQuery__SelectStmt *copy = tl_arena_alloc(st->a, sizeof(*copy));
            *copy = *ss;
            copy->n_locking_clause = 0;
            return local_select(st, copy, explain);
        }
    }
    if (query_wanted(ss))
        return local_select(st, ss, explain);
    struct select_q q;
    int depth = st->depth;
    int rv = select_bind(st, ss, &q);
    if (rv == TL_EUNSUPPORTED && ss->n_locking_clause == 0) {
        /* What the shard path cannot run (DISTINCT, joins across shards,
         * set operations, ...) runs at the router, over rows the shards
         * send. */
        tl_error_clear(&st->err);
        st->depth = depth;
        return local_select(st, ss, explain);
    }
    if (rv != 0)
        return rv;
    if (explain)
        return select_explain(st, &q);
    return select_run(st, &q);
}

int
select_run(struct sql_stmt *st, struct select_q *q)
{
    tl_arena_init(&q->scratch);
    int rv = run(st, q);
    tl_arena_close(&q->scratch);
    /* exact sums of an ungrouped aggregate keep their digits in buf */
    for (size_t i = 0; i < q->n_targets; i++)
        free(q->targets[i].acc.buf);
    return rv;
}
