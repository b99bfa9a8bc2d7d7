/* plancache — generic plans of prepared SELECTs: bound once, routed and
 * run per Execute with the parameters' values. */
#include "router/exec/plancache.h"

#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "router/exec/select_int.h"
#include "router/sql/query.h"

struct cached_plan {
    struct tl_arena arena; /* everything the plan holds */
    uint64_t catalog_version;
    struct select_q q; /* bound; its $n are parameter nodes */
    struct sql_param_node *nodes;
    size_t n_nodes;
    size_t n_params;
};

/* An empty parameter node outside a run: evaluating it is a bug. */
static int
eval_unset(const struct tl_expr *e, const struct tl_value *row, size_t n_cols,
           struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)row, (void)n_cols, (void)a;
    *out = tl_value_null(e->type);
    return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_INTERNAL_ERROR,
                        "parameter evaluated outside its plan's run");
}

/* Whether the shape of @ss can have a generic plan (before binding). */
static bool
generic_shape(const PgQuery__SelectStmt *ss)
{
    return ss->n_from_clause == 1 && !select_join_is_join(ss) &&
           ss->from_clause[0]->node_case == PG_QUERY__NODE__NODE_RANGE_VAR &&
           ss->into_clause == NULL && !query_wanted(ss);
}

void
plancache_build(struct sql_stmt *st, const PgQuery__RawStmt *raw,
                size_t n_params, const uint8_t *types, struct cached_plan **out)
{
    *out = NULL;
    if (raw == NULL || raw->stmt == NULL ||
        raw->stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT ||
        !generic_shape(raw->stmt->select_stmt))
        return;
    for (size_t i = 0; i < n_params; i++)
        if (types[i] == TL_TYPE_UNKNOWN)
            return;
    struct cached_plan *cp = calloc(1, sizeof(*cp));
    if (cp == NULL)
        abort();
    tl_arena_init(&cp->arena);
    uint8_t *ptypes = tl_arena_alloc(&cp->arena, n_params + 1);
    if (n_params > 0)
        memcpy(ptypes, types, n_params);
    struct sql_params params = {
        .n = n_params, .types = ptypes, .generic = true};
    struct sql_stmt b = *st;
    b.a = &cp->arena;
    b.params = &params;
    b.catalog_version = 0;
    b.param_refs = NULL;
    b.n_param_refs = b.cap_param_refs = 0;
    b.describe_only = false;
    b.depth = 0;
    tl_error_clear(&b.err);
    int rv = select_bind(&b, raw->stmt->select_stmt, &cp->q);
    const struct select_q *q = &cp->q;
    if (rv != 0 || params.fixed || !q->has_table || q->join != NULL ||
        q->is_agg || q->count_only || q->group != NULL ||
        b.catalog_version == 0) {
        plancache_destroy(cp);
        return;
    }
    for (size_t i = 0; i < params.n_nodes; i++) {
        params.nodes[i].e->ext_fn = eval_unset;
        params.nodes[i].e->ext = NULL;
    }
    cp->nodes = params.nodes;
    cp->n_nodes = params.n_nodes;
    cp->n_params = n_params;
    cp->catalog_version = b.catalog_version;
    *out = cp;
}

size_t
plancache_n_columns(const struct cached_plan *cp)
{
    return cp->q.n_targets;
}

void
plancache_column(const struct cached_plan *cp, size_t i, uint8_t *type,
                 int32_t *typmod)
{
    *type = cp->q.targets[i].type;
    *typmod = cp->q.targets[i].typmod;
}

uint64_t
plancache_version(const struct cached_plan *cp)
{
    return cp->catalog_version;
}

/* Give every parameter node of @cp its value from @values (cast to the
 * node's type when it differs), or empty them again (@values NULL). */
static int
fill_params(struct sql_stmt *st, struct cached_plan *cp,
            const struct tl_value *values)
{
    for (size_t i = 0; i < cp->n_nodes; i++) {
        struct tl_expr *e = cp->nodes[i].e;
        if (values == NULL) {
            e->kind = TL_EXPR_EXT;
            e->value = tl_value_null(e->type);
            continue;
        }
        struct tl_value v = values[cp->nodes[i].index];
        if (v.is_null) {
            v = tl_value_null(e->type);
        } else if (v.type != e->type) {
            struct tl_value c;
            int rv = tl_value_cast(&v, e->type, -1, st->a, &c, &st->err);
            if (rv != 0)
                return rv;
            v = c;
        }
        e->kind = TL_EXPR_CONST;
        e->value = v;
    }
    return 0;
}

int
plancache_run(struct sql_stmt *st, struct cached_plan *cp,
              const struct tl_value *values)
{
    int rv = fill_params(st, cp, values);
    if (rv == 0) {
        /* A run's own state: the plan's bound parts are only read. */
        struct select_q q = cp->q;
        st->catalog_version = cp->catalog_version;
        rv = plan_route(st, &q.plan);
        if (rv == 0)
            rv = select_run(st, &q);
    }
    fill_params(st, cp, NULL);
    return rv;
}

void
plancache_destroy(struct cached_plan *cp)
{
    if (cp == NULL)
        return;
    tl_arena_close(&cp->arena);
    free(cp);
}
