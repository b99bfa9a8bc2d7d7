/* select_join — SELECT over a join that runs on the shards: one sharded
 * (or unsharded) table, the "driving" table, joined with reference tables,
 * whose full copy every shard holds; or reference tables only. Other
 * sharded tables may join when co-located with the driving table (the
 * same vindex and parameters, route_co_located(), and shard keys equated
 * by conditions every joined row satisfies, or by the ON of the outer join
 * that brings the table): each shard then holds every row of them that
 * can match its rows of the driving table, and the node reads them as it
 * reads a reference table's copy.
 *
 * The FROM clause is flattened into its tables in FROM order (the order
 * of `SELECT *`); the join runs in another order, the driving table first
 * and then the others as they come, which is valid because inner joins
 * commute and a LEFT JOIN's ON condition reads only tables to its left in
 * the same join tree. A RIGHT JOIN of two single tables is a LEFT JOIN
 * the other way round: its right table joins first. The combined row is
 * the tables' columns in join order (bind_rel.offset).
 *
 * Names: a qualified name finds its table among bind_rel (an ON sees only
 * its own join tree); an unqualified one the columns the FROM items show
 * (bind_ns), where USING and NATURAL merge each common column into one,
 * listed first, as PostgreSQL does.
 *
 * Conditions: WHERE and the ON of inner joins are one set of conjuncts
 * over the final row. Each is placed at the first join step whose table
 * it needs: conjuncts over the driving table alone route the statement
 * (shard-key equality, IN, ranges) and filter the scan, and `col = const`
 * or `col IN (...)` on a column an inner equality ties to the driving
 * table's shard key routes as the same condition on that key; conjuncts whose
 * last table is inner-joined become that step's ON; conjuncts reading a
 * LEFT-joined table's columns stay in the fragment's filter (the node
 * applies them once that table's values, or NULLs, are in place). A LEFT
 * JOIN keeps its own ON. Within a step's ON, `outer column = column`
 * equalities become the step's key columns and conjuncts over the step's
 * table alone its filter (node/exec/exec_join.h). */
#include <stdio.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "router/exec/select_int.h"
#include "vindex.h"

/* One table of the FROM clause. */
struct join_item {
    struct tl_table *t;
    const char *alias;
    bool aliased;
    bool left;               /* nullable: LEFT JOIN's right side, or */
    bool right_nullable;     /* RIGHT JOIN's left side (then the next item
                                is the preserved side and holds the ON) */
    const PgQuery__Node *on; /* the ON of the JOIN that brought it */
    PgQuery__Node **using;   /* its USING (column names) */
    size_t n_using;
    bool natural;            /* NATURAL JOIN */
    size_t scope_start;      /* first item of its join tree */
    struct tl_expr *on_expr; /* bound ON */
    size_t level;            /* position in join order (0: driving) */
    int location;
};

struct select_join {
    struct join_item *items; /* FROM order */
    size_t n;
    size_t *order; /* join order: item indexes, order[0] the driving one */
    Talus__JoinStep **steps; /* n - 1, in join order */
    size_t n_sharded;        /* tables that are not reference tables */
};

bool
select_join_is_join(const PgQuery__SelectStmt *ss)
{
    return ss->n_from_clause > 1 ||
           (ss->n_from_clause == 1 &&
            ss->from_clause[0]->node_case == PG_QUERY__NODE__NODE_JOIN_EXPR);
}

/* ------------------------------------------------------------ FROM */

struct walk {
    struct join_item *items;
    size_t n, cap;
};

static int
add_item(struct sql_stmt *st, struct walk *w, const PgQuery__RangeVar *rv,
         size_t scope_start)
{
    if (rv->alias != NULL && rv->alias->n_colnames > 0)
        return sql_unsupported(st, "column aliases in FROM");
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        struct join_item *items = tl_arena_calloc(st->a, cap * sizeof(*items));
        if (w->n > 0)
            memcpy(items, w->items, w->n * sizeof(*items));
        w->items = items;
        w->cap = cap;
    }
    struct join_item *it = &w->items[w->n];
    int rv_ = sql_lookup_table(st, rv, &it->t);
    if (rv_ != 0)
        return rv_;
    it->aliased = rv->alias != NULL;
    it->alias = it->aliased ? rv->alias->aliasname : rv->relname;
    it->scope_start = scope_start;
    it->location = rv->location;
    w->n++;
    return 0;
}

static int walk_node(struct sql_stmt *st, struct walk *w,
                     const PgQuery__Node *n, size_t scope_start);

static int
walk_join(struct sql_stmt *st, struct walk *w, const PgQuery__JoinExpr *j,
          size_t scope_start)
{
    if (j->alias != NULL || j->join_using_alias != NULL)
        return sql_unsupported(st, "an alias for a JOIN");
    switch (j->jointype) {
    case PG_QUERY__JOIN_TYPE__JOIN_INNER:
    case PG_QUERY__JOIN_TYPE__JOIN_LEFT:
        break;
    case PG_QUERY__JOIN_TYPE__JOIN_RIGHT:
        /* As a LEFT JOIN the other way round: the two sides must be
         * single tables so the preserved one can go first. */
        if (j->larg->node_case != PG_QUERY__NODE__NODE_RANGE_VAR)
            return sql_unsupported(st, "RIGHT JOIN after another join");
        if (j->n_using_clause > 0 || j->is_natural)
            return sql_unsupported(st, "RIGHT JOIN with USING or NATURAL");
        break;
    case PG_QUERY__JOIN_TYPE__JOIN_FULL:
        return sql_unsupported(st, "FULL JOIN");
    default:
        return sql_unsupported(st, "this kind of JOIN");
    }
    int rv = walk_node(st, w, j->larg, scope_start);
    if (rv != 0)
        return rv;
    if (j->rarg->node_case != PG_QUERY__NODE__NODE_RANGE_VAR) {
        if (j->rarg->node_case == PG_QUERY__NODE__NODE_JOIN_EXPR)
            return sql_unsupported(st, "a parenthesized JOIN on the right of "
                                       "a JOIN");
        return walk_node(st, w, j->rarg, scope_start); /* refuses it */
    }
    rv = add_item(st, w, j->rarg->range_var, scope_start);
    if (rv != 0)
        return rv;
    struct join_item *it = &w->items[w->n - 1];
    it->left = j->jointype == PG_QUERY__JOIN_TYPE__JOIN_LEFT;
    if (j->jointype == PG_QUERY__JOIN_TYPE__JOIN_RIGHT) {
        w->items[w->n - 2].left = true;
        w->items[w->n - 2].right_nullable = true;
    }
    it->on = j->quals;
    it->using = j->using_clause;
    it->n_using = j->n_using_clause;
    it->natural = j->is_natural;
    return 0;
}

static int
walk_node(struct sql_stmt *st, struct walk *w, const PgQuery__Node *n,
          size_t scope_start)
{
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_RANGE_VAR:
        return add_item(st, w, n->range_var, scope_start);
    case PG_QUERY__NODE__NODE_JOIN_EXPR:
        return walk_join(st, w, n->join_expr, scope_start);
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT:
        if (n->range_subselect->lateral)
            return sql_unsupported(st, "LATERAL");
        return sql_unsupported(st, "subquery in FROM");
    case PG_QUERY__NODE__NODE_RANGE_FUNCTION:
        if (n->range_function->lateral)
            return sql_unsupported(st, "LATERAL");
        return sql_unsupported(st, "function in FROM");
    default:
        return sql_unsupported(st, "this FROM item");
    }
}

static int
check_aliases(struct sql_stmt *st, const struct select_join *j)
{
    for (size_t i = 0; i < j->n; i++)
        for (size_t k = 0; k < i; k++)
            if (strcmp(j->items[i].alias, j->items[k].alias) == 0) {
                /* PostgreSQL gives no position here. */
                return sql_error(st, TL_EINVAL, TL_SQLSTATE_DUPLICATE_ALIAS,
                                 "table name \"%s\" specified more than once",
                                 j->items[i].alias);
            }
    return 0;
}

/* "o" (orders), or "orders" without an alias. */
static const char *
item_label(struct sql_stmt *st, const struct join_item *it)
{
    if (it->aliased)
        return tl_arena_printf(st->a, "\"%s\" (%s)", it->alias, it->t->name);
    return tl_arena_printf(st->a, "\"%s\"", it->t->name);
}

/* Pick the driving table: the first table that is not a reference table
 * and that no outer join makes nullable, else the first that is not a
 * reference table, else the first that no outer join makes nullable.
 * Whether the other sharded tables are co-located with it is checked once
 * the conditions are bound (check_co_located). The others follow in FROM
 * order, but the preserved side of a RIGHT JOIN before its nullable side. */
static int
choose_order(struct sql_stmt *st, struct select_join *j)
{
    size_t drive = 0;
    bool found = false;
    while (drive + 1 < j->n && j->items[drive].left)
        drive++;
    for (int pass = 0; pass < 2 && !found; pass++)
        for (size_t i = 0; i < j->n && !found; i++) {
            if (route_is_reference(j->items[i].t) ||
                (pass == 0 && j->items[i].left))
                continue;
            drive = i;
            found = true;
        }
    for (size_t i = 0; i < j->n; i++)
        if (!route_is_reference(j->items[i].t))
            j->n_sharded++;
    if (j->items[drive].left) {
        sql_error(st, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                  "outer join with the sharded table \"%s\" on its nullable "
                  "side is not supported",
                  j->items[drive].t->name);
        tl_error_hint(&st->err, "Put the sharded table on the preserved side: "
                                "left of LEFT JOIN, right of RIGHT JOIN.");
        return TL_EUNSUPPORTED;
    }
    j->order = tl_arena_alloc(st->a, j->n * sizeof(size_t));
    j->order[0] = drive;
    size_t k = 1;
    for (size_t i = 0; i < j->n; i++) {
        if (i == drive)
            continue;
        if (j->items[i].right_nullable && i + 1 != drive) {
            j->order[k++] = i + 1;
            j->order[k++] = i;
            i++;
            continue;
        }
        j->order[k++] = i;
    }
    for (k = 0; k < j->n; k++)
        j->items[j->order[k]].level = k;
    return 0;
}

/* The combined row: each table's columns at its offset, named
 * "alias.column" (EXPLAIN, errors). */
static void
build_rels(struct sql_stmt *st, struct select_q *q, struct select_join *j)
{
    uint32_t *offsets = tl_arena_calloc(st->a, j->n * sizeof(uint32_t));
    uint32_t n = 0;
    for (size_t k = 0; k < j->n; k++) {
        offsets[j->order[k]] = n;
        n += j->items[j->order[k]].t->n_columns;
    }
    q->rels = tl_arena_calloc(st->a, j->n * sizeof(*q->rels));
    q->n_rels = j->n;
    for (size_t i = 0; i < j->n; i++) {
        q->rels[i].table = j->items[i].t;
        q->rels[i].alias = j->items[i].alias;
        q->rels[i].aliased = j->items[i].aliased;
        q->rels[i].offset = offsets[i];
        q->rels[i].visible = true;
    }
    struct tl_table *rt = tl_arena_calloc(st->a, sizeof(*rt));
    memcpy(rt->name, "join", 5);
    rt->n_columns = n;
    rt->columns = tl_arena_calloc(st->a, (n + 1) * sizeof(*rt->columns));
    rt->shard_key = -1;
    rt->schema_version = 1;
    for (size_t i = 0; i < j->n; i++) {
        const struct tl_table *t = j->items[i].t;
        for (uint32_t c = 0; c < t->n_columns; c++) {
            struct tl_column *col = &rt->columns[offsets[i] + c];
            *col = t->columns[c];
            /* Names past NAMEDATALEN are cut: they only label output. */
            const char *full = tl_arena_printf(
                st->a, "%s.%s", j->items[i].alias, t->columns[c].name);
            size_t len = strlen(full);
            if (len >= sizeof(col->name))
                len = sizeof(col->name) - 1;
            memcpy(col->name, full, len);
            col->name[len] = '\0';
        }
    }
    q->row_table = rt;
    q->n_cols = n;
}

/* The columns of item @i: its table's, as combined-row columns. */
static struct bind_ns
item_ns(struct sql_stmt *st, const struct select_q *q, size_t i)
{
    const struct bind_rel *rel = &q->rels[i];
    const struct tl_table *t = rel->table;
    struct bind_ns ns = {
        .cols = tl_arena_calloc(st->a, (t->n_columns + 1) * sizeof(*ns.cols)),
        .n = t->n_columns};
    for (uint32_t c = 0; c < t->n_columns; c++) {
        ns.cols[c].name = t->columns[c].name;
        ns.cols[c].expr =
            tl_expr_column(st->a, rel->offset + c, t->columns[c].type);
        ns.cols[c].hidden = t->columns[c].hidden;
    }
    return ns;
}

/* The one column named @name of @ns (-1: none, -2: several). */
static int
find_ns(const struct bind_ns *ns, const char *name)
{
    int found = -1;
    for (size_t k = 0; k < ns->n; k++)
        if (strcmp(ns->cols[k].name, name) == 0) {
            if (found >= 0)
                return -2;
            found = (int)k;
        }
    return found;
}

/* JOIN ... USING (a, b) of item @i with the tree's columns so far @l:
 * the equalities (ANDed into *@cond) and the join's columns, as
 * PostgreSQL lists them: the USING columns (the left side's, widened to
 * the common integer type), then the rest of the left's, then the rest of
 * the right's. */
static int
bind_using(struct sql_stmt *st, const char **names, size_t n_names,
           const struct bind_ns *l, const struct bind_ns *r,
           struct tl_expr **cond, struct bind_ns *out)
{
    bool *lused = tl_arena_calloc(st->a, l->n + 1);
    bool *rused = tl_arena_calloc(st->a, r->n + 1);
    struct tl_expr **eq = tl_arena_alloc(st->a, (n_names + 1) * sizeof(*eq));
    out->cols = tl_arena_calloc(st->a, (l->n + r->n + 1) * sizeof(*out->cols));
    out->n = 0;
    for (size_t u = 0; u < n_names; u++) {
        const char *name = names[u];
        for (size_t v = 0; v < u; v++)
            if (strcmp(names[v], name) == 0)
                return sql_error(st, TL_EINVAL, TL_SQLSTATE_DUPLICATE_COLUMN,
                                 "column name \"%s\" appears more than once "
                                 "in USING clause",
                                 name);
        int lk = find_ns(l, name), rk = find_ns(r, name);
        if (lk == -2 || rk == -2)
            return sql_error(st, TL_EINVAL, TL_SQLSTATE_AMBIGUOUS_COLUMN,
                             "common column name \"%s\" appears more than "
                             "once in %s table",
                             name, lk == -2 ? "left" : "right");
        if (lk < 0 || rk < 0)
            return sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_COLUMN,
                             "column \"%s\" specified in USING clause does "
                             "not exist in %s table",
                             name, lk < 0 ? "left" : "right");
        struct tl_expr *le = l->cols[lk].expr, *re = r->cols[rk].expr;
        if (!tl_type_comparable(le->type, re->type))
            return sql_error(st, TL_ETYPE, TL_SQLSTATE_DATATYPE_MISMATCH,
                             "JOIN/USING types %s and %s cannot be matched",
                             tl_type_name(le->type), tl_type_name(re->type));
        eq[u] = tl_expr_op(st->a, TL_OP_EQ, TL_TYPE_BOOL, le, re);
        struct tl_expr *merged = le;
        if (tl_type_is_int(le->type) && tl_type_is_int(re->type) &&
            re->type > le->type) {
            merged = tl_expr_node(st->a, TL_EXPR_CAST, re->type, &le, 1);
            merged->typmod = -1;
        }
        lused[lk] = rused[rk] = true;
        out->cols[out->n++] =
            (struct bind_colref){.name = name, .expr = merged};
    }
    for (size_t k = 0; k < l->n; k++)
        if (!lused[k])
            out->cols[out->n++] = l->cols[k];
    for (size_t k = 0; k < r->n; k++)
        if (!rused[k])
            out->cols[out->n++] = r->cols[k];
    *cond = n_names == 0   ? NULL
            : n_names == 1 ? eq[0]
                           : tl_expr_node(st->a, TL_EXPR_AND, TL_TYPE_BOOL, eq,
                                          (uint32_t)n_names);
    return 0;
}

/* The column names of USING, or for NATURAL JOIN the names both sides
 * show (in the left side's order), into *@names. */
static int
using_names(struct sql_stmt *st, const struct join_item *it,
            const struct bind_ns *l, const struct bind_ns *r,
            const char ***names, size_t *n)
{
    *n = 0;
    *names = tl_arena_alloc(st->a, (it->n_using + l->n + 1) * sizeof(char *));
    for (size_t u = 0; u < it->n_using; u++) {
        const char *name = sql_node_str(it->using[u]);
        if (name == NULL)
            return sql_unsupported(st, "this USING clause");
        (*names)[(*n)++] = name;
    }
    for (size_t k = 0; it->natural && k < l->n; k++) {
        const char *name = l->cols[k].name;
        int rk = find_ns(r, name);
        bool seen = false;
        for (size_t v = 0; v < *n; v++)
            seen = seen || strcmp((*names)[v], name) == 0;
        if (l->cols[k].hidden || rk == -1 || seen ||
            (rk >= 0 && r->cols[rk].hidden))
            continue;
        (*names)[(*n)++] = name;
    }
    return 0;
}

/* Bind the ON of item @i (the join that brought it): it sees the tables
 * of its join tree up to its own, by name the columns of the join's two
 * sides (@l, @r). Tables after it are not known yet (42P01 missing);
 * those of earlier comma items are, but out of reach (42P01 invalid). */
static int
bind_on(struct sql_stmt *st, struct select_q *q, struct join_item *it, size_t i,
        const struct bind_ns *l, const struct bind_ns *r)
{
    struct bind_rel *rels = tl_arena_calloc(st->a, (i + 1) * sizeof(*rels));
    memcpy(rels, q->rels, (i + 1) * sizeof(*rels));
    for (size_t k = 0; k <= i; k++)
        rels[k].visible = k >= it->scope_start;
    struct bind_ns ns[2] = {*l, *r};
    struct bind_scope sc = {.clause = "JOIN/ON",
                            .rels = rels,
                            .n_rels = i + 1,
                            .ns = ns,
                            .n_ns = 2};
    return bind_predicate(st, &sc, it->on, &it->on_expr);
}

/* Walk each join tree left to right: bind ON and USING, and collect the
 * columns each top-level FROM item shows (q->ns). */
static int
bind_trees(struct sql_stmt *st, struct select_q *q, struct select_join *j)
{
    q->ns = tl_arena_calloc(st->a, (j->n + 1) * sizeof(*q->ns));
    q->n_ns = 0;
    for (size_t i = 0; i < j->n; i++) {
        struct join_item *it = &j->items[i];
        struct bind_ns r = item_ns(st, q, i);
        if (it->scope_start == i) {
            q->ns[q->n_ns++] = r;
            continue;
        }
        struct bind_ns *l = &q->ns[q->n_ns - 1];
        int rv = 0;
        if (it->n_using > 0 || it->natural) {
            struct bind_ns joined;
            const char **names;
            size_t n_names;
            rv = using_names(st, it, l, &r, &names, &n_names);
            if (rv == 0)
                rv = bind_using(st, names, n_names, l, &r, &it->on_expr,
                                &joined);
            if (rv != 0)
                return rv;
            *l = joined;
            continue;
        }
        if (it->on != NULL)
            rv = bind_on(st, q, it, i, l, &r);
        if (rv != 0)
            return rv;
        if (j->items[i - 1].right_nullable) {
            /* RIGHT JOIN: the ON belongs to the nullable (left) side. */
            j->items[i - 1].on_expr = it->on_expr;
            it->on_expr = NULL;
        }
        struct bind_ns joined = {
            .cols =
                tl_arena_calloc(st->a, (l->n + r.n + 1) * sizeof(*joined.cols)),
            .n = l->n + r.n};
        if (l->n > 0)
            memcpy(joined.cols, l->cols, l->n * sizeof(*l->cols));
        memcpy(joined.cols + l->n, r.cols, r.n * sizeof(*r.cols));
        *l = joined;
    }
    return 0;
}

int
select_join_bind_from(struct sql_stmt *st, struct select_q *q,
                      const PgQuery__SelectStmt *ss)
{
    struct walk w = {0};
    for (size_t i = 0; i < ss->n_from_clause; i++) {
        int rv = walk_node(st, &w, ss->from_clause[i], w.n);
        if (rv != 0)
            return rv;
    }
    struct select_join *j = tl_arena_calloc(st->a, sizeof(*j));
    j->items = w.items;
    j->n = w.n;
    int rv = check_aliases(st, j);
    if (rv == 0)
        rv = choose_order(st, j);
    if (rv != 0)
        return rv;
    build_rels(st, q, j);
    q->join = j;
    q->has_table = true;
    q->plan.table = j->items[j->order[0]].t;
    q->alias = j->items[j->order[0]].alias;
    return bind_trees(st, q, j);
}

/* ------------------------------------------------------------ placement */

/* A set of conjuncts. */
struct conj {
    struct tl_expr **e;
    size_t n, cap;
};

static void
conj_add(struct sql_stmt *st, struct conj *c, struct tl_expr *e)
{
    if (e->kind == TL_EXPR_AND) {
        for (uint32_t i = 0; i < e->n_args; i++)
            conj_add(st, c, e->args[i]);
        return;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        struct tl_expr **a = tl_arena_alloc(st->a, cap * sizeof(*a));
        if (c->n > 0)
            memcpy(a, c->e, c->n * sizeof(*a));
        c->e = a;
        c->cap = cap;
    }
    c->e[c->n++] = e;
}

static struct tl_expr *
conj_and(struct sql_stmt *st, const struct conj *c)
{
    if (c->n == 0)
        return NULL;
    if (c->n == 1)
        return c->e[0];
    return tl_expr_node(st->a, TL_EXPR_AND, TL_TYPE_BOOL, c->e, (uint32_t)c->n);
}

/* Join-order level of the table owning combined column @col. */
static size_t
col_level(const struct select_q *q, uint32_t col)
{
    const struct select_join *j = q->join;
    for (size_t i = 0; i < j->n; i++)
        if (col >= q->rels[i].offset &&
            col < q->rels[i].offset + q->rels[i].table->n_columns)
            return j->items[i].level;
    return 0;
}

/* Lowest and highest join levels @e reads (*lo > *hi: no column). */
static void
levels(const struct select_q *q, const struct tl_expr *e, size_t *lo,
       size_t *hi)
{
    if (e->kind == TL_EXPR_COLUMN) {
        size_t l = col_level(q, e->column);
        if (l < *lo)
            *lo = l;
        if (l > *hi || *hi == SIZE_MAX)
            *hi = l;
    }
    for (uint32_t i = 0; i < e->n_args; i++)
        levels(q, e->args[i], lo, hi);
}

static struct tl_expr *
shift_columns(struct sql_stmt *st, const struct tl_expr *e, uint32_t off)
{
    struct tl_expr *c = tl_arena_alloc(st->a, sizeof(*c));
    *c = *e;
    if (e->kind == TL_EXPR_COLUMN)
        c->column = e->column - off;
    if (e->n_args > 0) {
        c->args = tl_arena_alloc(st->a, e->n_args * sizeof(*c->args));
        for (uint32_t i = 0; i < e->n_args; i++)
            c->args[i] = shift_columns(st, e->args[i], off);
    }
    return c;
}

/* Whether two columns of these types can be looked up or hashed on (the
 * node's key encoding is the same exactly when the values are equal). */
static bool
key_types(uint8_t a, uint8_t b)
{
    if (tl_type_is_float(a) || tl_type_is_float(b))
        return false;
    return route_key_compatible(a, b);
}

struct step_build {
    struct conj on;     /* ON conjuncts (keys included) */
    struct conj filter; /* over the step's table alone */
    uint32_t *outer, *inner;
    size_t n_keys;
    const char *on_text;
};

/* Split the step's ON into keys, own-table filter and the rest. */
static void
build_step(struct sql_stmt *st, const struct select_q *q, size_t level,
           struct step_build *b, Talus__JoinStep *js)
{
    const struct select_join *j = q->join;
    const struct join_item *it = &j->items[j->order[level]];
    uint32_t off = q->rels[j->order[level]].offset;
    struct conj rest = {0};
    b->outer = tl_arena_alloc(st->a, (b->on.n + 1) * sizeof(uint32_t));
    b->inner = tl_arena_alloc(st->a, (b->on.n + 1) * sizeof(uint32_t));
    for (size_t i = 0; i < b->on.n; i++) {
        struct tl_expr *e = b->on.e[i];
        size_t lo = SIZE_MAX, hi = SIZE_MAX;
        levels(q, e, &lo, &hi);
        if (hi != SIZE_MAX && lo == level) {
            conj_add(st, &b->filter, shift_columns(st, e, off));
            continue;
        }
        conj_add(st, &rest, e);
        if (e->kind != TL_EXPR_OP || e->op != TL_OP_EQ || e->n_args != 2 ||
            e->args[0]->kind != TL_EXPR_COLUMN ||
            e->args[1]->kind != TL_EXPR_COLUMN)
            continue;
        uint32_t a = e->args[0]->column, c = e->args[1]->column;
        if (col_level(q, a) == level) {
            uint32_t t = a;
            a = c;
            c = t;
        }
        if (col_level(q, c) != level || col_level(q, a) >= level ||
            !key_types(e->args[0]->type, e->args[1]->type))
            continue;
        b->outer[b->n_keys] = a;
        b->inner[b->n_keys++] = c - off;
    }
    js->table = tl_arena_alloc(st->a, sizeof(*js->table));
    tl_table_to_proto(it->t, st->a, js->table);
    js->has_kind = 1;
    js->kind =
        it->left ? TALUS__JOIN_STEP__KIND__LEFT : TALUS__JOIN_STEP__KIND__INNER;
    js->n_outer_cols = b->n_keys;
    js->outer_cols = b->outer;
    js->n_inner_cols = b->n_keys;
    js->inner_cols = b->inner;
    struct tl_expr *on = conj_and(st, &rest);
    if (on != NULL)
        js->on = tl_expr_to_proto(on, st->a);
    struct tl_expr *f = conj_and(st, &b->filter);
    if (f != NULL)
        js->filter = tl_expr_to_proto(f, st->a);
}

/* "Join c (countries): left, point lookup per row, on (...)". */
static const char *
step_line(struct sql_stmt *st, const struct select_q *q, size_t level,
          const struct step_build *b)
{
    const struct join_item *it = &q->join->items[q->join->order[level]];
    const char *how = "nested loop";
    if (b->n_keys > 0) {
        /* As node/exec/exec_join.c chooses: the leading primary-key columns the
         * equalities fix. */
        how = "hash on the join columns";
        size_t covered = 0;
        for (uint32_t p = 0; p < it->t->n_pk; p++) {
            bool fixed = false;
            for (size_t i = 0; i < b->n_keys && !fixed; i++)
                fixed = b->inner[i] == it->t->pk[p];
            if (!fixed)
                break;
            covered++;
        }
        if (covered == it->t->n_pk)
            how = "point lookup per row";
        else if (covered > 0)
            how = "key prefix scan per row";
    }
    struct tl_expr *on = conj_and(st, &b->on);
    const char *name =
        it->aliased ? tl_arena_printf(st->a, "%s (%s)", it->alias, it->t->name)
                    : it->t->name;
    if (on == NULL)
        return tl_arena_printf(st->a, "Join %s: %s, %s", name,
                               it->left ? "left" : "inner", how);
    return tl_arena_printf(st->a, "Join %s: %s, %s, on %s", name,
                           it->left ? "left" : "inner", how,
                           plan_render_expr(st, q->row_table, on));
}

/* ------------------------------------------------------------ co-location */

/* Item (FROM order) owning combined column @col. */
static size_t
col_item(const struct select_q *q, uint32_t col)
{
    for (size_t i = 0; i < q->n_rels; i++)
        if (col >= q->rels[i].offset &&
            col < q->rels[i].offset + q->rels[i].table->n_columns)
            return i;
    return 0;
}

static size_t
uf_find(size_t *parent, size_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

static void
uf_union(size_t *parent, size_t a, size_t b)
{
    a = uf_find(parent, a);
    b = uf_find(parent, b);
    if (a != b)
        parent[a < b ? b : a] = a < b ? a : b;
}

/* Whether @e is `x.key = y.key` between the shard keys of two co-located
 * tables (route_co_located) whose key types hash and order equal values
 * alike; their items in *@x, *@y. */
static bool
key_edge(const struct select_q *q, const struct tl_expr *e, size_t *x,
         size_t *y)
{
    if (e->kind != TL_EXPR_OP || e->op != TL_OP_EQ || e->n_args != 2 ||
        e->args[0]->kind != TL_EXPR_COLUMN ||
        e->args[1]->kind != TL_EXPR_COLUMN)
        return false;
    uint32_t a = e->args[0]->column, b = e->args[1]->column;
    size_t ia = col_item(q, a), ib = col_item(q, b);
    const struct tl_table *ta = q->rels[ia].table, *tb = q->rels[ib].table;
    if (ia == ib || !route_co_located(ta, tb) ||
        (int32_t)(a - q->rels[ia].offset) != ta->shard_key ||
        (int32_t)(b - q->rels[ib].offset) != tb->shard_key ||
        !route_key_compatible(ta->columns[ta->shard_key].type,
                              tb->columns[tb->shard_key].type))
        return false;
    *x = ia;
    *y = ib;
    return true;
}

/* "hash(id)": @t's vindex on its shard key. */
static const char *
vindex_text(struct sql_stmt *st, const struct tl_table *t)
{
    static const char *const names[] = {
        [TL_VINDEX_HASH] = "hash",
        [TL_VINDEX_CONSISTENT_HASH] = "consistent_hash",
        [TL_VINDEX_RANGE] = "range",
    };
    if (t->shard_key < 0 || t->vindex == TL_VINDEX_NONE ||
        t->vindex > TL_VINDEX_RANGE)
        return "unsharded";
    return tl_arena_printf(st->a, "%s(%s)", names[t->vindex],
                           t->columns[t->shard_key].name);
}

/* Why @a and @b (items) are not co-located, for the DETAIL. */
static const char *
why_not_co_located(struct sql_stmt *st, const struct join_item *a,
                   const struct join_item *b)
{
    const char *la = item_label(st, a), *lb = item_label(st, b);
    const struct tl_table *ta = a->t, *tb = b->t;
    if (route_co_located(ta, tb))
        return tl_arena_printf(
            st->a,
            "%s and %s are sharded alike, but no join condition equates "
            "their shard keys %s.%s and %s.%s (an outer join needs it in its "
            "own ON): matching rows can be on different shards.",
            la, lb, a->alias, ta->columns[ta->shard_key].name, b->alias,
            tb->columns[tb->shard_key].name);
    const char *va = vindex_text(st, ta), *vb = vindex_text(st, tb);
    if (ta->shard_key >= 0 && tb->shard_key >= 0 && ta->vindex == tb->vindex &&
        ta->vindex == TL_VINDEX_CONSISTENT_HASH)
        return tl_arena_printf(
            st->a,
            "%s is sharded by %s on a ring of %u shards with %u virtual "
            "nodes, %s by %s on a ring of %u shards with %u virtual nodes: "
            "their tables are not co-located.",
            la, va, ta->ring_shards,
            ta->ring_vnodes ? ta->ring_vnodes : TL_RING_DEFAULT_VNODES, lb, vb,
            tb->ring_shards,
            tb->ring_vnodes ? tb->ring_vnodes : TL_RING_DEFAULT_VNODES);
    if (ta->shard_key >= 0 && tb->shard_key >= 0 && ta->vindex == tb->vindex &&
        ta->vindex == TL_VINDEX_RANGE)
        return tl_arena_printf(st->a,
                               "%s is sharded by %s and %s by %s with other "
                               "range boundaries or shards: their tables are "
                               "not co-located.",
                               la, va, lb, vb);
    return tl_arena_printf(st->a,
                           "%s is %s%s and %s is %s%s: only tables sharded by "
                           "the same vindex with the same parameters are "
                           "co-located.",
                           la, ta->shard_key >= 0 ? "sharded by " : "", va, lb,
                           tb->shard_key >= 0 ? "sharded by " : "", vb);
}

/* Every table that is not a reference table must be co-located with the
 * driving table: linked to it by equalities between shard keys of tables
 * sharded alike, from conditions every joined row satisfies (@global, the
 * WHERE and inner ONs, between tables no outer join makes nullable) or a
 * LEFT JOIN's own ON (linking its table). Then each shard holds every row
 * that can match its rows of the driving table. 0A000 otherwise. */
static int
check_co_located(struct sql_stmt *st, const struct select_q *q,
                 const struct conj *global)
{
    const struct select_join *j = q->join;
    size_t drive = j->order[0];
    size_t *parent = tl_arena_alloc(st->a, j->n * sizeof(size_t));
    for (size_t i = 0; i < j->n; i++)
        parent[i] = i;
    size_t x, y;
    for (size_t i = 0; i < global->n; i++)
        if (key_edge(q, global->e[i], &x, &y) && !j->items[x].left &&
            !j->items[y].left)
            uf_union(parent, x, y);
    for (size_t i = 0; i < j->n; i++) {
        const struct join_item *it = &j->items[i];
        if (!it->left || it->on_expr == NULL)
            continue;
        struct conj on = {0};
        conj_add(st, &on, it->on_expr);
        for (size_t k = 0; k < on.n; k++)
            if (key_edge(q, on.e[k], &x, &y) && (x == i || y == i))
                uf_union(parent, x, y);
    }
    for (size_t i = 0; i < j->n; i++) {
        if (i == drive || route_is_reference(j->items[i].t) ||
            uf_find(parent, i) == uf_find(parent, drive))
            continue;
        sql_error(st, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                  "join of two sharded tables is not supported");
        tl_error_detail(&st->err, "%s",
                        why_not_co_located(st, &j->items[drive], &j->items[i]));
        tl_error_hint(&st->err,
                      "Join sharded tables on equal shard keys of the same "
                      "vindex, or make the smaller table a reference table "
                      "(WITH (distribution = 'reference')).");
        return TL_EUNSUPPORTED;
    }
    return 0;
}

/* Conditions on a column that equals the driving table's shard key route
 * too: with `o.user_id = u.id` in every joined row (@global, between
 * tables no outer join makes nullable), `o.user_id = 5` or `o.user_id IN
 * (...)` is added to @route as the same condition on `u.id` (the driving
 * table is first in the combined row). */
static void
derive_route(struct sql_stmt *st, const struct select_q *q,
             const struct conj *global, struct conj *route)
{
    const struct select_join *j = q->join;
    const struct tl_table *dt = j->items[j->order[0]].t;
    if (dt->shard_key < 0 || route_is_reference(dt))
        return;
    uint32_t key = (uint32_t)dt->shard_key;
    size_t *parent = tl_arena_alloc(st->a, (q->n_cols + 1) * sizeof(size_t));
    for (size_t c = 0; c < q->n_cols; c++)
        parent[c] = c;
    for (size_t i = 0; i < global->n; i++) {
        const struct tl_expr *e = global->e[i];
        if (e->kind != TL_EXPR_OP || e->op != TL_OP_EQ || e->n_args != 2 ||
            e->args[0]->kind != TL_EXPR_COLUMN ||
            e->args[1]->kind != TL_EXPR_COLUMN ||
            !key_types(e->args[0]->type, e->args[1]->type))
            continue;
        uint32_t a = e->args[0]->column, b = e->args[1]->column;
        if (j->items[col_item(q, a)].left || j->items[col_item(q, b)].left)
            continue;
        uf_union(parent, a, b);
    }
    size_t root = uf_find(parent, key);
    for (size_t i = 0; i < global->n; i++) {
        const struct tl_expr *e = global->e[i];
        const struct tl_expr *col = NULL;
        if (e->kind == TL_EXPR_OP && e->op == TL_OP_EQ && e->n_args == 2) {
            const struct tl_expr *l = e->args[0], *r = e->args[1];
            if (l->kind != TL_EXPR_COLUMN) {
                const struct tl_expr *t = l;
                l = r;
                r = t;
            }
            if (l->kind == TL_EXPR_COLUMN && r->kind == TL_EXPR_CONST)
                col = l;
        } else if (e->kind == TL_EXPR_IN && e->n_args >= 2 &&
                   e->args[0]->kind == TL_EXPR_COLUMN) {
            col = e->args[0];
            for (uint32_t k = 1; k < e->n_args; k++)
                if (e->args[k]->kind != TL_EXPR_CONST)
                    col = NULL;
        }
        if (col == NULL || col->column == key ||
            uf_find(parent, col->column) != root ||
            !key_types(col->type, dt->columns[key].type))
            continue;
        struct tl_expr *d = tl_arena_alloc(st->a, sizeof(*d));
        *d = *e;
        d->args = tl_arena_alloc(st->a, e->n_args * sizeof(*d->args));
        for (uint32_t k = 0; k < e->n_args; k++)
            d->args[k] = e->args[k] == col
                             ? tl_expr_column(st->a, key, dt->columns[key].type)
                             : e->args[k];
        conj_add(st, route, d);
    }
}

static const char *
summary_line(struct sql_stmt *st, const struct select_q *q)
{
    const struct select_join *j = q->join;
    struct tl_buf b;
    tl_buf_init(&b);
    tl_buf_printf(&b, "Join: pushed down (");
    for (size_t k = 0; k < j->n; k++)
        tl_buf_printf(&b, "%s%s", k ? " \u22c8 " : "",
                      j->items[j->order[k]].t->name);
    bool ref_only = route_is_reference(j->items[j->order[0]].t);
    if (j->n_sharded > 1) {
        tl_buf_printf(&b, ", co-located on ");
        size_t n = 0;
        for (size_t k = 0; k < j->n; k++) {
            const struct tl_table *t = j->items[j->order[k]].t;
            if (!route_is_reference(t))
                tl_buf_printf(&b, "%s%s", n++ ? " = " : "", vindex_text(st, t));
        }
        tl_buf_printf(
            &b, j->n_sharded < j->n ? ", reference copy on each shard)" : ")");
    } else {
        tl_buf_printf(&b, ref_only ? ", one reference copy holds every table)"
                                   : ", reference copy on each shard)");
    }
    char *s = tl_arena_strndup(st->a, (const char *)b.data, b.len);
    tl_buf_close(&b);
    return s;
}

int
select_join_plan(struct sql_stmt *st, struct select_q *q,
                 const PgQuery__Node *where)
{
    struct select_join *j = q->join;
    struct conj global = {0}, route = {0}, frag = {0};
    if (where != NULL) {
        struct bind_scope sc = select_scope(q, "WHERE");
        struct tl_expr *w;
        int rv = bind_predicate(st, &sc, where, &w);
        if (rv != 0)
            return rv;
        conj_add(st, &global, w);
    }
    struct step_build *sb = tl_arena_calloc(st->a, j->n * sizeof(*sb));
    for (size_t i = 0; i < j->n; i++) {
        const struct join_item *it = &j->items[i];
        if (it->on_expr == NULL)
            continue;
        if (it->left)
            conj_add(st, &sb[it->level].on, it->on_expr);
        else
            conj_add(st, &global, it->on_expr);
    }
    for (size_t i = 0; i < global.n; i++) {
        struct tl_expr *e = global.e[i];
        size_t lo = SIZE_MAX, hi = SIZE_MAX;
        levels(q, e, &lo, &hi);
        if (hi == SIZE_MAX || hi == 0) {
            conj_add(st, &route, e);
            conj_add(st, &frag, e);
        } else if (j->items[j->order[hi]].left) {
            conj_add(st, &frag, e);
        } else {
            conj_add(st, &sb[hi].on, e);
        }
    }
    if (j->n_sharded > 1) {
        int rv = check_co_located(st, q, &global);
        if (rv != 0)
            return rv;
    }
    derive_route(st, q, &global, &route);
    plan_build_join(st, q->plan.table, conj_and(st, &route),
                    conj_and(st, &frag), &q->plan);
    q->plan.row_table = q->row_table;
    j->steps = tl_arena_alloc(st->a, j->n * sizeof(*j->steps));
    q->plan.join_lines = tl_arena_alloc(st->a, (j->n + 1) * sizeof(char *));
    q->plan.join_lines[q->plan.n_join_lines++] = summary_line(st, q);
    for (size_t k = 1; k < j->n; k++) {
        Talus__JoinStep *js = tl_arena_alloc(st->a, sizeof(*js));
        talus__join_step__init(js);
        build_step(st, q, k, &sb[k], js);
        j->steps[k - 1] = js;
        q->plan.join_lines[q->plan.n_join_lines++] =
            step_line(st, q, k, &sb[k]);
    }
    return 0;
}

void
select_join_fragment(struct sql_stmt *st, const struct select_q *q,
                     Talus__ScanFragment *f)
{
    (void)st;
    f->n_joins = q->join->n - 1;
    f->joins = q->join->steps;
}
