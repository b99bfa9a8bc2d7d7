/* explain — EXPLAIN shows how a statement is routed: which shards, which
 * keys, and what filter the nodes evaluate. */
#include <stdio.h>
#include <string.h>

#include "router/core/router.h"
#include "router/exec/dml.h"
#include "router/exec/explain.h"
#include "router/exec/select.h"
#include "router/plan/plan.h"
#include "router/sql/sql_int.h"
#include "vindex.h"

static const char *
route_line(struct sql_stmt *st, const struct plan *p)
{
    if (p->n_shards == 0)
        return "Route: no shards";
    if (p->route.ref == ROUTE_REF_READ)
        return "Route: single shard (reference copy)";
    if (p->route.ref == ROUTE_REF_WRITE)
        return "Route: every shard (reference write)";
    if (p->n_shards == 1)
        return "Route: single shard";
    if (p->route.all)
        return "Route: scatter";
    return tl_arena_printf(st->a, "Route: %u shards", p->n_shards);
}

static const char *
table_line(struct sql_stmt *st, const struct tl_table *t)
{
    static const char *const names[] = {
        [TL_VINDEX_HASH] = "hash",
        [TL_VINDEX_CONSISTENT_HASH] = "consistent_hash",
        [TL_VINDEX_RANGE] = "range",
    };
    if (t->distribution == TL_DIST_REFERENCE)
        return tl_arena_printf(st->a, "  Table: %s (reference)", t->name);
    if (t->shard_key >= 0 && t->vindex > TL_VINDEX_NONE &&
        t->vindex <= TL_VINDEX_RANGE)
        return tl_arena_printf(st->a, "  Table: %s (vindex %s on %s)", t->name,
                               names[t->vindex], t->columns[t->shard_key].name);
    return tl_arena_printf(st->a, "  Table: %s (unsharded)", t->name);
}

/* "Pruning: (at >= '...') keeps ranges 1-2 of 3": which ranges of a range
 * vindex the filter left, and the conjuncts that decided it. */
static const char *
pruning_line(struct sql_stmt *st, const struct plan *p)
{
    const struct route *r = &p->route;
    struct tl_buf b;
    tl_buf_init(&b);
    tl_buf_printf(&b, "  Pruning: ");
    for (uint32_t i = 0; i < r->n_prune_conj; i++)
        tl_buf_printf(
            &b, "%s%s", i ? " AND " : "",
            plan_render_expr(st, p->row_table != NULL ? p->row_table : p->table,
                             r->prune_conj[i]));
    bool contiguous =
        r->n_kept > 0 && r->kept[r->n_kept - 1] - r->kept[0] == r->n_kept - 1;
    if (r->n_kept == 0)
        tl_buf_printf(&b, " keeps no ranges");
    else if (r->n_kept == 1)
        tl_buf_printf(&b, " keeps range %u", r->kept[0]);
    else if (contiguous)
        tl_buf_printf(&b, " keeps ranges %u-%u", r->kept[0],
                      r->kept[r->n_kept - 1]);
    else
        for (uint32_t i = 0; i < r->n_kept; i++)
            tl_buf_printf(&b, "%s%u", i ? ", " : " keeps ranges ", r->kept[i]);
    tl_buf_printf(&b, " of %zu", r->n_ranges);
    char *s = tl_arena_strndup(st->a, (const char *)b.data, b.len);
    tl_buf_close(&b);
    return s;
}

static const char *
shards_line(struct sql_stmt *st, const uint32_t *shards, uint32_t n)
{
    struct tl_buf b;
    tl_buf_init(&b);
    tl_buf_printf(&b, "  Shards: ");
    for (uint32_t i = 0; i < n; i++)
        tl_buf_printf(&b, "%s%u", i ? ", " : "", shards[i]);
    if (n == 0)
        tl_buf_printf(&b, "none");
    char *s = tl_arena_strndup(st->a, (const char *)b.data, b.len);
    tl_buf_close(&b);
    return s;
}

void
explain_send(struct sql_stmt *st, const struct plan *p, const char **extra,
             size_t n_extra)
{
    const char **rows = tl_arena_calloc(st->a, (n_extra + p->n_join_lines + 7) *
                                                   sizeof(char *));
    const struct tl_table *rt = p->row_table != NULL ? p->row_table : p->table;
    size_t n = 0;
    rows[n++] = route_line(st, p);
    rows[n++] = table_line(st, p->table);
    for (size_t i = 0; i < p->n_join_lines; i++)
        rows[n++] = tl_arena_printf(st->a, "  %s", p->join_lines[i]);
    if (p->route.pruned)
        rows[n++] = pruning_line(st, p);
    if (p->route.ref == ROUTE_REF_READ && p->n_shards == 1)
        /* The copy depends on the session: name the choice, not a shard. */
        rows[n++] = tl_arena_printf(st->a,
                                    "  Shards: one copy of %u (fixed per "
                                    "session)",
                                    st->r->cfg.n_shards);
    else
        rows[n++] = shards_line(st, p->shards, p->n_shards);
    if (p->route.point)
        rows[n++] = "  Key: point lookup";
    else if (p->route.n_points > 0)
        rows[n++] = tl_arena_printf(st->a, "  Key: %zu point lookups",
                                    p->route.n_points);
    else if (p->route.index != NULL)
        rows[n++] = tl_arena_printf(
            st->a, "  Key: Index Scan using %s (%u of %u columns fixed%s)",
            p->route.index->name, p->route.ix_n_eq, p->route.index->n_cols,
            p->route.ix_ranged ? ", a range of the next" : "");
    else
        rows[n++] = "  Key: full range";
    if (p->filter != NULL)
        rows[n++] = tl_arena_printf(st->a, "  Filter: %s",
                                    plan_render_expr(st, rt, p->filter));
    for (size_t i = 0; i < n_extra; i++)
        rows[n++] = tl_arena_printf(st->a, "  %s", extra[i]);
    sql_send_text_rows(st, "QUERY PLAN", rows, n, "EXPLAIN");
}

static int
check_options(struct sql_stmt *st, const PgQuery__ExplainStmt *es)
{
    for (size_t i = 0; i < es->n_options; i++) {
        const PgQuery__Node *o = es->options[i];
        if (o->node_case != PG_QUERY__NODE__NODE_DEF_ELEM)
            continue;
        const char *name = o->def_elem->defname;
        const char *fmt = sql_node_str(o->def_elem->arg);
        if (name != NULL && strcmp(name, "format") == 0 && fmt != NULL &&
            strcmp(fmt, "text") != 0)
            return sql_unsupported(st, "EXPLAIN (FORMAT JSON/XML/YAML)");
        if (name != NULL && strcmp(name, "analyze") == 0) {
            /* EXPLAIN (ANALYZE false) is plain EXPLAIN. */
            const PgQuery__Node *arg = o->def_elem->arg;
            const char *v = sql_node_str(arg);
            bool off =
                v != NULL && (strcmp(v, "false") == 0 ||
                              strcmp(v, "off") == 0 || strcmp(v, "0") == 0);
            if (arg != NULL && arg->node_case == PG_QUERY__NODE__NODE_BOOLEAN)
                off = !arg->boolean->boolval;
            if (!off)
                return sql_unsupported(st, "EXPLAIN ANALYZE");
        }
    }
    return 0;
}

int
explain_exec(struct sql_stmt *st, const PgQuery__ExplainStmt *es)
{
    int rv = check_options(st, es);
    if (rv != 0)
        return rv;
    const PgQuery__Node *q = es->query;
    switch (q->node_case) {
    case PG_QUERY__NODE__NODE_SELECT_STMT:
        return select_exec(st, q->select_stmt, true);
    case PG_QUERY__NODE__NODE_INSERT_STMT:
        return dml_exec_insert(st, q->insert_stmt, true);
    case PG_QUERY__NODE__NODE_UPDATE_STMT:
        return dml_exec_update(st, q->update_stmt, true);
    case PG_QUERY__NODE__NODE_DELETE_STMT:
        return dml_exec_delete(st, q->delete_stmt, true);
    default:
        return sql_unsupported(st, "EXPLAIN of this statement");
    }
}
