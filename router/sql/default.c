/* default — column DEFAULT expressions: stored as SQL text, bound per row.
 *
 * CREATE TABLE deparses each DEFAULT (libpg_query's deparser, as
 * PostgreSQL's pg_get_expr() shows it) into the column's default_expr;
 * INSERT and COPY parse the text once per statement and bind it again
 * for every row that takes it, so now() is the statement's time,
 * clock_timestamp() the row's, and nextval() gives each row its own
 * value, as in PostgreSQL. */
#include <stdio.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "router/sql/sql_int.h"

/* "SELECT " that the deparser puts before the expression. */
#define SELECT_PREFIX "SELECT "

int
default_deparse(struct sql_stmt *st, const PgQuery__Node *n, char **out)
{
    PgQuery__ResTarget rt = PG_QUERY__RES_TARGET__INIT;
    PgQuery__Node rt_node = PG_QUERY__NODE__INIT;
    PgQuery__SelectStmt sel = PG_QUERY__SELECT_STMT__INIT;
    PgQuery__Node sel_node = PG_QUERY__NODE__INIT;
    PgQuery__RawStmt raw = PG_QUERY__RAW_STMT__INIT;
    PgQuery__ParseResult pr = PG_QUERY__PARSE_RESULT__INIT;
    PgQuery__Node *targets[1] = {&rt_node};
    PgQuery__RawStmt *stmts[1] = {&raw};

    rt.val = (PgQuery__Node *)n;
    rt.location = -1;
    rt_node.node_case = PG_QUERY__NODE__NODE_RES_TARGET;
    rt_node.res_target = &rt;
    sel.n_target_list = 1;
    sel.target_list = targets;
    sel.limit_option = PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_DEFAULT;
    sel.op = PG_QUERY__SET_OPERATION__SETOP_NONE;
    sel_node.node_case = PG_QUERY__NODE__NODE_SELECT_STMT;
    sel_node.select_stmt = &sel;
    raw.stmt = &sel_node;
    pr.version = PG_VERSION_NUM;
    pr.n_stmts = 1;
    pr.stmts = stmts;

    size_t len = pg_query__parse_result__get_packed_size(&pr);
    char *packed = tl_arena_alloc(st->a, len + 1);
    pg_query__parse_result__pack(&pr, (uint8_t *)packed);
    PgQueryProtobuf pb = {.len = len, .data = packed};
    PgQueryDeparseResult d = pg_query_deparse_protobuf(pb);
    int rv = 0;
    if (d.error != NULL || d.query == NULL ||
        strncmp(d.query, SELECT_PREFIX, strlen(SELECT_PREFIX)) != 0)
        rv = sql_unsupported(st, "this DEFAULT expression");
    else
        *out = tl_arena_strdup(st->a, d.query + strlen(SELECT_PREFIX));
    pg_query_free_deparse_result(d);
    return rv;
}

int
default_parse(struct sql_stmt *st, const char *text, const PgQuery__Node **out)
{
    char *q = tl_arena_printf(st->a, SELECT_PREFIX "%s", text);
    PgQueryProtobufParseResult pr = pg_query_parse_protobuf(q);
    PgQuery__ParseResult *tree = NULL;
    if (pr.error == NULL)
        tree = pg_query__parse_result__unpack(
            tl_arena_protobuf(st->a), pr.parse_tree.len,
            (const uint8_t *)pr.parse_tree.data);
    pg_query_free_protobuf_parse_result(pr);
    const PgQuery__SelectStmt *sel =
        tree != NULL && tree->n_stmts == 1 && tree->stmts[0]->stmt != NULL &&
                tree->stmts[0]->stmt->node_case ==
                    PG_QUERY__NODE__NODE_SELECT_STMT
            ? tree->stmts[0]->stmt->select_stmt
            : NULL;
    if (sel == NULL || sel->n_target_list != 1 ||
        sel->target_list[0]->node_case != PG_QUERY__NODE__NODE_RES_TARGET ||
        sel->target_list[0]->res_target->val == NULL)
        return sql_error(st, TL_ECORRUPT, TL_SQLSTATE_DATA_CORRUPTED,
                         "stored default expression does not parse: %s", text);
    *out = sel->target_list[0]->res_target->val;
    return 0;
}

int
default_eval(struct sql_stmt *st, const struct tl_table *t, uint32_t col,
             const PgQuery__Node *n, int location, struct tl_value *out)
{
    /* A DEFAULT sees no row. */
    static const struct bind_scope sc = {
        .no_columns = "cannot use column reference in DEFAULT expression"};
    const struct tl_column *c = &t->columns[col];
    struct tl_expr *e;
    int rv = bind_expr(st, &sc, n, &e);
    /* At CREATE TABLE (dry run) only the type is checked: PostgreSQL
     * applies a length limit (varchar(n)) when a row takes the value. */
    if (rv == 0)
        rv = bind_assign_what(st, &e, c->name, c->type,
                              st->dry_run ? -1 : c->typmod, location,
                              "default expression");
    if (rv != 0)
        return rv;
    if (e->kind != TL_EXPR_CONST) {
        /* Binding folds constants, so what is left calls a volatile
         * function (DEFAULT gen_random_uuid()). Each row binds its
         * default anew, so evaluating it here gives every row its own
         * value, as PostgreSQL does. */
        struct tl_value v;
        rv = tl_expr_eval(e, NULL, 0, st->a, &v, &st->err);
        if (rv == 0)
            rv = tl_value_cast(&v, c->type, st->dry_run ? -1 : c->typmod, st->a,
                               out, &st->err);
        return rv;
    }
    *out = e->value;
    out->type = c->type;
    return 0;
}

int
default_parse_table(struct sql_stmt *st, const struct tl_table *t,
                    const PgQuery__Node ***out)
{
    *out = tl_arena_calloc(st->a, (t->n_columns + 1) * sizeof(**out));
    for (uint32_t c = 0; c < t->n_columns; c++) {
        if (t->columns[c].default_expr == NULL)
            continue;
        int rv = default_parse(st, t->columns[c].default_expr, &(*out)[c]);
        if (rv != 0)
            return rv;
    }
    return 0;
}
