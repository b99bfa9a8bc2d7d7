/* Unit tests of SELECT binding (router/exec/select_target.c): output column
 * names, star expansion, aggregate push-down decisions, ORDER BY keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "router/exec/select_int.h"
#include "sql_test_util.h"

/* Bind the targets (and ORDER BY) of @sql over the fixture table with a
 * hidden last column. Returns the binder's result. */
static int
bind_select(struct sql_fixture *f, const char *sql, struct select_q *q)
{
    static const uint32_t pk[] = {0};
    struct tl_table *t = fixture_table(f, pk, 1, 0);
    t->columns[4].hidden = true; /* "s" plays the hidden row id */
    const PgQuery__Node *n = fixture_parse(f, sql);
    const PgQuery__SelectStmt *ss = n->select_stmt;
    memset(q, 0, sizeof(*q));
    q->has_table = true;
    q->plan.table = t;
    q->alias = "t";
    tl_error_clear(&f->st.err);
    int rv = select_bind_targets(&f->st, q, ss);
    for (size_t i = 0; rv == 0 && i < ss->n_sort_clause; i++) {
        struct tl_expr *e;
        rv = select_bind_sort_expr(&f->st, q, ss->sort_clause[i]->sort_by->node,
                                   &e);
    }
    return rv;
}

/* Output names follow PostgreSQL: column name, alias, function name, type
 * name of a cast literal, ?column? for other expressions. */
static void
test_output_names(void **state)
{
    struct sql_fixture f;
    struct select_q q;
    fixture_init(&f, 6);
    assert_int_equal(bind_select(&f,
                                 "SELECT id, name AS n, k + 1, '5'::bigint, "
                                 "t.f, k::text FROM t",
                                 &q),
                     0);
    assert_int_equal(q.n_targets, 6);
    assert_string_equal(q.targets[0].name, "id");
    assert_string_equal(q.targets[1].name, "n");
    assert_string_equal(q.targets[2].name, "?column?");
    assert_string_equal(q.targets[3].name, "int8");
    assert_string_equal(q.targets[4].name, "f");
    assert_string_equal(q.targets[5].name, "k");
    fixture_close(&f);
}

/* The router's functions are named as PostgreSQL names them (the
 * function, or the SQL keyword in lowercase) and CURRENT_TIMESTAMP(p) and
 * LOCALTIMESTAMP(p) describe their precision as the column's typmod. */
static void
test_function_names_and_typmods(void **state)
{
    static const struct {
        const char *name;
        uint8_t type;
        int32_t typmod;
    } want[] = {
        {"now", TL_TYPE_TIMESTAMPTZ, -1},
        {"current_timestamp", TL_TYPE_TIMESTAMPTZ, -1},
        {"current_timestamp", TL_TYPE_TIMESTAMPTZ, 2},
        {"localtimestamp", TL_TYPE_TIMESTAMP, 0},
        {"current_date", TL_TYPE_DATE, -1},
        {"current_user", TL_TYPE_TEXT, -1},
        {"session_user", TL_TYPE_TEXT, -1},
        {"user", TL_TYPE_TEXT, -1},
        {"current_role", TL_TYPE_TEXT, -1},
        {"current_catalog", TL_TYPE_TEXT, -1},
        {"current_schema", TL_TYPE_TEXT, -1},
        {"current_database", TL_TYPE_TEXT, -1},
        {"version", TL_TYPE_TEXT, -1},
        {"pg_backend_pid", TL_TYPE_INT4, -1},
        {"current_timestamp", TL_TYPE_TEXT, -1},
    };
    struct sql_fixture f;
    struct select_q q;
    fixture_init(&f, 6);
    assert_int_equal(
        bind_select(&f,
                    "SELECT now(), CURRENT_TIMESTAMP, CURRENT_TIMESTAMP(2), "
                    "LOCALTIMESTAMP(0), CURRENT_DATE, current_user, "
                    "session_user, user, current_role, current_catalog, "
                    "current_schema, current_database(), version(), "
                    "pg_backend_pid(), CURRENT_TIMESTAMP::text FROM t",
                    &q),
        0);
    assert_int_equal(q.n_targets, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < q.n_targets; i++) {
        assert_string_equal(q.targets[i].name, want[i].name);
        assert_int_equal(q.targets[i].type, want[i].type);
        assert_int_equal(q.targets[i].typmod, want[i].typmod);
    }
    fixture_close(&f);
}

/* SELECT * expands to the visible columns only, in table order. */
static void
test_star_skips_hidden_columns(void **state)
{
    struct sql_fixture f;
    struct select_q q;
    fixture_init(&f, 6);
    assert_int_equal(bind_select(&f, "SELECT * FROM t", &q), 0);
    assert_int_equal(q.n_targets, 4);
    assert_string_equal(q.targets[3].name, "f");
    assert_false(q.is_agg);
    fixture_close(&f);
}

/* count(*) alone is pushed down; any other aggregate is not. */
static void
test_count_only_decision(void **state)
{
    struct sql_fixture f;
    struct select_q q;
    fixture_init(&f, 6);
    assert_int_equal(bind_select(&f, "SELECT count(*) FROM t", &q), 0);
    assert_true(q.is_agg);
    assert_true(q.count_only);
    assert_int_equal(q.targets[0].type, TL_TYPE_INT8);
    assert_int_equal(bind_select(&f, "SELECT count(*), sum(k) FROM t", &q), 0);
    assert_true(q.is_agg);
    assert_false(q.count_only);
    assert_int_equal(q.targets[1].type, TL_TYPE_INT8);
    /* avg of an integer is numeric, as in PostgreSQL */
    assert_int_equal(bind_select(&f, "SELECT avg(k), max(name) FROM t", &q), 0);
    assert_int_equal(q.targets[0].type, TL_TYPE_NUMERIC);
    assert_int_equal(q.targets[1].type, TL_TYPE_TEXT);
    fixture_close(&f);
}

/* A bare column next to an aggregate is PostgreSQL's 42803. */
static void
test_ungrouped_column_is_refused(void **state)
{
    struct sql_fixture f;
    struct select_q q;
    fixture_init(&f, 6);
    assert_int_not_equal(bind_select(&f, "SELECT id, count(*) FROM t", &q), 0);
    assert_string_equal(f.st.err.sqlstate, "42803");
    assert_int_not_equal(bind_select(&f, "SELECT sum(name) FROM t", &q), 0);
    assert_string_equal(f.st.err.sqlstate, "42883");
    fixture_close(&f);
}

/* ORDER BY accepts output positions and aliases; a position outside the
 * list is 42P10. */
static void
test_order_by_positions_and_aliases(void **state)
{
    struct sql_fixture f;
    struct select_q q;
    fixture_init(&f, 6);
    assert_int_equal(
        bind_select(&f, "SELECT id, k * 2 AS twice FROM t ORDER BY twice, 1",
                    &q),
        0);
    assert_int_not_equal(bind_select(&f, "SELECT id FROM t ORDER BY 2", &q), 0);
    assert_string_equal(f.st.err.sqlstate, "42P10");
    assert_int_not_equal(bind_select(&f, "SELECT id FROM t ORDER BY nope", &q),
                         0);
    assert_string_equal(f.st.err.sqlstate, "42703");
    fixture_close(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_names),
        cmocka_unit_test(test_function_names_and_typmods),
        cmocka_unit_test(test_star_skips_hidden_columns),
        cmocka_unit_test(test_count_only_decision),
        cmocka_unit_test(test_ungrouped_column_is_refused),
        cmocka_unit_test(test_order_by_positions_and_aliases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
