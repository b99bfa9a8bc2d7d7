/* Unit tests of GROUP BY at the router (router/exec/select_target.c binding,
 * router/exec/select_agg.c hash aggregation): keys, 42803 checks, functional
 * dependency on the primary key, NULL rules, DISTINCT aggregates, the
 * memory cap, and which ungrouped aggregate queries take this path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "router/exec/select_int.h"
#include "sql_test_util.h"

/* Bind @sql (targets, GROUP BY, HAVING, ORDER BY) over the fixture table
 * t (id int8 PK, name text, k int4, f float8, s int2). */
static int
bind_grouped(struct sql_fixture *f, const char *sql, struct select_q *q)
{
    static const uint32_t pk[] = {0};
    struct tl_table *t = fixture_table(f, pk, 1, 0);
    const PgQuery__Node *n = fixture_parse(f, sql);
    const PgQuery__SelectStmt *ss = n->select_stmt;
    memset(q, 0, sizeof(*q));
    q->has_table = true;
    q->plan.table = t;
    q->row_table = t;
    q->n_cols = t->n_columns;
    q->alias = "t";
    tl_error_clear(&f->st.err);
    int rv = select_group_bind(&f->st, q, ss);
    if (rv == 0)
        rv = select_group_check(&f->st, q);
    q->n_sort = ss->n_sort_clause;
    q->sort = tl_arena_calloc(&f->a, (q->n_sort + 1) * sizeof(*q->sort));
    for (size_t i = 0; rv == 0 && i < ss->n_sort_clause; i++)
        rv = select_bind_sort_expr(&f->st, q, ss->sort_clause[i]->sort_by->node,
                                   &q->sort[i].expr);
    if (rv == 0)
        select_group_fixup(q);
    return rv;
}

static void
make_row(struct tl_value *row, int64_t id, const char *name, int64_t k)
{
    row[0] = tl_value_int(TL_TYPE_INT8, id);
    if (name != NULL) {
        row[1].type = TL_TYPE_TEXT;
        row[1].is_null = false;
        row[1].u.s.p = name;
        row[1].u.s.len = (uint32_t)strlen(name);
    } else {
        row[1] = tl_value_null(TL_TYPE_TEXT);
    }
    row[2] =
        k < 0 ? tl_value_null(TL_TYPE_INT4) : tl_value_int(TL_TYPE_INT4, k);
    row[3] = tl_value_float((double)id / 2);
    row[4] = tl_value_int(TL_TYPE_INT2, 1);
}

/* Rows with equal keys (NULL included) fall into one group; count, sum
 * and max follow PostgreSQL's NULL rules. */
static void
test_groups_and_null_rules(void **state)
{
    struct sql_fixture f;
    struct select_q q;
    fixture_init(&f, 6);
    assert_int_equal(
        bind_grouped(&f,
                     "SELECT name, count(*), count(k), sum(k), max(name) "
                     "FROM t GROUP BY name",
                     &q),
        0);
    assert_int_equal(q.group->n_keys, 1);
    assert_int_equal(q.group->n_aggs, 4);
    struct sel_groups g;
    tl_arena_init(&q.scratch);
    select_groups_init(&f.st, &q, &g);
    struct tl_value row[5];
    const char *names[] = {"a", "b", NULL, "a", NULL, "b", "a"};
    const int64_t ks[] = {1, 2, -1, 3, -1, -1, 4};
    for (int i = 0; i < 7; i++) {
        make_row(row, i, names[i], ks[i]);
        assert_int_equal(select_groups_add(&f.st, &g, row, 5), 0);
    }
    assert_int_equal(g.n, 3);
    struct tl_value out[5];
    select_groups_row(&g, 0, out); /* "a": arrival order */
    assert_int_equal(out[1].u.i, 3);
    assert_int_equal(out[2].u.i, 3);
    assert_int_equal(out[3].u.i, 8);
    assert_memory_equal(out[4].u.s.p, "a", 1);
    select_groups_row(&g, 2, out); /* NULL */
    assert_true(out[0].is_null);
    assert_int_equal(out[1].u.i, 2);
    assert_int_equal(out[2].u.i, 0);
    assert_true(out[3].is_null);
    assert_true(out[4].is_null);
    select_groups_close(&g);
    tl_arena_close(&q.scratch);
    fixture_close(&f);
}

/* Past the memory cap the statement fails with 54000 instead of growing. */
static void
test_memory_cap(void **state)
{
    struct sql_fixture f;
    struct select_q q;
    fixture_init(&f, 6);
    assert_int_equal(
        bind_grouped(&f, "SELECT id, max(name) FROM t GROUP BY id", &q), 0);
    q.group->max_bytes = 64 * 1024;
    struct sel_groups g;
    tl_arena_init(&q.scratch);
    select_groups_init(&f.st, &q, &g);
    struct tl_value row[5];
    int rv = 0;
    int64_t i;
    for (i = 0; i < 100000 && rv == 0; i++) {
        make_row(row, i, "some text value", 1);
        rv = select_groups_add(&f.st, &g, row, 5);
    }
    assert_int_equal(rv, TL_ENOMEM);
    assert_string_equal(f.st.err.sqlstate, "54000");
    assert_true(i > 10 && i < 100000);
    assert_true(g.bytes <= q.group->max_bytes);
    select_groups_close(&g);
    tl_arena_close(&q.scratch);
    fixture_close(&f);
}

/* A column neither grouped nor aggregated is 42803; grouping by the
 * primary key lets the other columns be selected. */
static void
test_ungrouped_and_dependent_columns(void **state)
{
    struct sql_fixture f;
    struct select_q q;
    fixture_init(&f, 6);
    assert_int_not_equal(
        bind_grouped(&f, "SELECT name, k FROM t GROUP BY name", &q), 0);
    assert_string_equal(f.st.err.sqlstate, "42803");
    assert_string_equal(f.st.err.message,
                        "column \"t.k\" must appear in the GROUP BY clause "
                        "or be used in an aggregate function");
    assert_int_equal(f.st.err.position, 14);
    assert_int_not_equal(
        bind_grouped(&f, "SELECT name FROM t GROUP BY name HAVING k > 1", &q),
        0);
    assert_string_equal(f.st.err.sqlstate, "42803");
    assert_int_equal(
        bind_grouped(&f, "SELECT id, name, k FROM t GROUP BY id", &q), 0);
    assert_int_equal(q.group->n_items, 1);
    assert_int_equal(q.group->n_keys, 3);
    fixture_close(&f);
}

/* Keys by position, alias and expression; aggregates in HAVING and ORDER
 * BY land after the keys in the group row. */
static void
test_keys_and_group_row(void **state)
{
    struct sql_fixture f;
    struct select_q q;
    fixture_init(&f, 6);
    assert_int_equal(bind_grouped(&f,
                                  "SELECT k * 2 AS kk, name, sum(s) FROM t "
                                  "GROUP BY 2, kk HAVING count(*) > 1 "
                                  "ORDER BY max(f)",
                                  &q),
                     0);
    assert_int_equal(q.group->n_keys, 2);
    assert_int_equal(q.group->n_aggs, 3);
    assert_int_equal(q.targets[0].expr->kind, TL_EXPR_COLUMN);
    assert_int_equal(q.targets[0].expr->column, 1);
    assert_int_equal(q.targets[1].expr->column, 0);
    assert_int_equal(q.targets[2].expr->column, 2);
    assert_int_equal(q.sort[0].expr->column, 4);
    assert_int_not_equal(
        bind_grouped(&f, "SELECT name, count(*) FROM t GROUP BY 2", &q), 0);
    assert_string_equal(f.st.err.sqlstate, "42803");
    assert_int_not_equal(bind_grouped(&f, "SELECT name FROM t GROUP BY 5", &q),
                         0);
    assert_string_equal(f.st.err.sqlstate, "42P10");
    fixture_close(&f);
}

/* count/sum/avg(DISTINCT x) see each non-NULL value once per group;
 * min/max(DISTINCT x) are plain min/max. */
static void
test_distinct_sets(void **state)
{
    struct sql_fixture f;
    struct select_q q;
    fixture_init(&f, 6);
    assert_int_equal(bind_grouped(&f,
                                  "SELECT name, count(DISTINCT k), "
                                  "sum(DISTINCT k), avg(DISTINCT f), "
                                  "max(DISTINCT k), count(k), "
                                  "count(DISTINCT name) FROM t GROUP BY name",
                                  &q),
                     0);
    assert_int_equal(q.group->n_aggs, 6);
    assert_true(q.group->aggs[0].distinct);
    assert_true(q.group->aggs[2].distinct);
    assert_false(q.group->aggs[3].distinct);
    assert_false(q.group->aggs[4].distinct);
    struct sel_groups g;
    tl_arena_init(&q.scratch);
    select_groups_init(&f.st, &q, &g);
    struct tl_value row[5];
    /* "a": k 1, 2, 1, NULL, 2, 3; f = id / 2 with ids 2, 2, 4, 6, 8, 8. */
    const int64_t ids[] = {2, 2, 4, 6, 8, 8};
    const int64_t ks[] = {1, 2, 1, -1, 2, 3};
    for (int i = 0; i < 6; i++) {
        make_row(row, ids[i], "a", ks[i]);
        assert_int_equal(select_groups_add(&f.st, &g, row, 5), 0);
    }
    make_row(row, 1, NULL, -1);
    assert_int_equal(select_groups_add(&f.st, &g, row, 5), 0);
    assert_int_equal(g.n, 2);
    struct tl_value out[8];
    select_groups_row(&g, 0, out);
    assert_int_equal(out[1].u.i, 3); /* 1, 2, 3 */
    assert_int_equal(out[2].u.i, 6);
    assert_true(out[3].u.f == 2.5); /* (1 + 2 + 3 + 4) / 4 */
    assert_int_equal(out[4].u.i, 3);
    assert_int_equal(out[5].u.i, 5);
    assert_int_equal(out[6].u.i, 1);
    select_groups_row(&g, 1, out); /* only NULLs: count 0, sum NULL */
    assert_int_equal(out[1].u.i, 0);
    assert_true(out[2].is_null);
    assert_int_equal(out[6].u.i, 0);
    select_groups_close(&g);
    tl_arena_close(&q.scratch);
    fixture_close(&f);
}

/* The DISTINCT sets count against the cap: one group of many distinct
 * values fails with 54000 instead of growing past it. */
static void
test_distinct_memory_cap(void **state)
{
    struct sql_fixture f;
    struct select_q q;
    fixture_init(&f, 6);
    assert_int_equal(
        bind_grouped(&f, "SELECT count(DISTINCT name) + 1 FROM t", &q), 0);
    assert_int_equal(q.group->n_items, 0);
    q.group->max_bytes = 64 * 1024;
    struct sel_groups g;
    tl_arena_init(&q.scratch);
    select_groups_init(&f.st, &q, &g);
    struct tl_value row[5];
    char name[32];
    int rv = 0;
    int64_t i;
    for (i = 0; i < 100000 && rv == 0; i++) {
        snprintf(name, sizeof(name), "distinct value %lld", (long long)i);
        make_row(row, i, name, 1);
        rv = select_groups_add(&f.st, &g, row, 5);
    }
    assert_int_equal(rv, TL_ENOMEM);
    assert_string_equal(f.st.err.sqlstate, "54000");
    assert_string_equal(f.st.err.message,
                        "aggregates need more than 65536 bytes of memory");
    assert_int_equal(g.n, 1);
    assert_true(i > 100 && i < 100000);
    assert_true(g.bytes <= q.group->max_bytes);
    select_groups_close(&g);
    tl_arena_close(&q.scratch);
    fixture_close(&f);
}

static bool
needs_group(struct sql_fixture *f, const char *sql)
{
    return select_needs_group(fixture_parse(f, sql)->select_stmt);
}

/* Plain aggregates keep the plain path (count(*) is pushed down); an
 * aggregate in an expression or ORDER BY, a DISTINCT or nested aggregate,
 * or a column beside aggregates takes the grouping path, which reports
 * 42803 with the column's position. */
static void
test_ungrouped_aggregate_queries(void **state)
{
    struct sql_fixture f;
    struct select_q q;
    fixture_init(&f, 6);
    assert_false(needs_group(&f, "SELECT count(*) FROM t"));
    assert_false(needs_group(&f, "SELECT 1, count(*), sum(k) FROM t "
                                 "WHERE k > 1 ORDER BY 1"));
    assert_false(needs_group(&f, "SELECT id, k + 1 FROM t ORDER BY name"));
    assert_true(needs_group(&f, "SELECT count(*) + 1 FROM t"));
    assert_true(needs_group(&f, "SELECT max(k) - min(k) FROM t"));
    assert_true(needs_group(&f, "SELECT count(DISTINCT k) FROM t"));
    assert_true(needs_group(&f, "SELECT sum(count(k)) FROM t"));
    assert_true(needs_group(&f, "SELECT 1 FROM t ORDER BY count(*)"));
    assert_true(needs_group(&f, "SELECT count(*) FROM t ORDER BY k"));
    assert_true(needs_group(&f, "SELECT id, count(*) FROM t"));
    assert_true(needs_group(&f, "SELECT *, count(*) FROM t"));
    assert_int_not_equal(bind_grouped(&f, "SELECT id, count(*) FROM t", &q), 0);
    assert_string_equal(f.st.err.sqlstate, "42803");
    assert_string_equal(f.st.err.message,
                        "column \"t.id\" must appear in the GROUP BY clause "
                        "or be used in an aggregate function");
    assert_int_equal(f.st.err.position, 8);
    assert_int_equal(bind_grouped(&f, "SELECT count(*) * 2 FROM t", &q), 0);
    assert_int_equal(q.group->n_keys, 0);
    assert_int_equal(q.group->n_aggs, 1);
    fixture_close(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groups_and_null_rules),
        cmocka_unit_test(test_memory_cap),
        cmocka_unit_test(test_ungrouped_and_dependent_columns),
        cmocka_unit_test(test_keys_and_group_row),
        cmocka_unit_test(test_distinct_sets),
        cmocka_unit_test(test_distinct_memory_cap),
        cmocka_unit_test(test_ungrouped_aggregate_queries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
