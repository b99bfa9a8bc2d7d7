/* Unit tests of the SQL binder (router/sql/bind.c) and CREATE TABLE analysis
 * (router/sql/ddl.c): result types, PostgreSQL errors and SQLSTATEs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "row.h"
#include "sql_test_util.h"

/* Bind the first target of "SELECT @expr FROM t" over the fixture table. */
static int
bind_target(struct sql_fixture *f, const char *expr, struct tl_expr **out)
{
    static const uint32_t pk[] = {0};
    struct tl_table *t = fixture_table(f, pk, 1, 0);
    char *sql = tl_arena_printf(&f->a, "SELECT %s FROM t", expr);
    const PgQuery__Node *n = fixture_parse(f, sql);
    const PgQuery__ResTarget *rt = n->select_stmt->target_list[0]->res_target;
    struct bind_scope sc = {.table = t, .alias = "t"};
    tl_error_clear(&f->st.err);
    return bind_expr(&f->st, &sc, rt->val, out);
}

static uint8_t
type_of(const char *expr)
{
    struct sql_fixture f;
    struct tl_expr *e;
    fixture_init(&f, 6);
    uint8_t type = 0xff;
    if (bind_target(&f, expr, &e) == 0)
        type = e->type;
    fixture_close(&f);
    return type;
}

static void
assert_bind_error(const char *expr, const char *sqlstate)
{
    struct sql_fixture f;
    struct tl_expr *e;
    fixture_init(&f, 6);
    assert_int_not_equal(bind_target(&f, expr, &e), 0);
    assert_string_equal(f.st.err.sqlstate, sqlstate);
    fixture_close(&f);
}

/* Arithmetic result types follow PostgreSQL: the wider integer, or float8
 * as soon as one operand is float8. */
static void
test_arithmetic_types(void **state)
{
    assert_int_equal(type_of("s + s"), TL_TYPE_INT2);
    assert_int_equal(type_of("s + k"), TL_TYPE_INT4);
    assert_int_equal(type_of("k + id"), TL_TYPE_INT8);
    assert_int_equal(type_of("k * f"), TL_TYPE_FLOAT8);
    assert_int_equal(type_of("id > 3"), TL_TYPE_BOOL);
    assert_int_equal(type_of("name || 'x'"), TL_TYPE_TEXT);
    assert_int_equal(type_of("'5'::bigint"), TL_TYPE_INT8);
}

/* Constant subtrees are folded at bind time. */
static void
test_constants_fold(void **state)
{
    struct sql_fixture f;
    struct tl_expr *e;
    fixture_init(&f, 6);
    assert_int_equal(bind_target(&f, "2 + 3 * 4", &e), 0);
    assert_int_equal(e->kind, TL_EXPR_CONST);
    assert_int_equal(e->value.u.i, 14);
    assert_int_equal(bind_target(&f, "-5", &e), 0);
    assert_int_equal(e->value.u.i, -5);
    fixture_close(&f);
}

/* Type errors carry PostgreSQL's SQLSTATEs. */
static void
test_bind_errors(void **state)
{
    assert_bind_error("id = true", "42883");
    assert_bind_error("id = 'abc'", "22P02");
    assert_bind_error("nope", "42703");
    assert_bind_error("x.id", "42P01");
    assert_bind_error("name + 1", "42883");
    assert_bind_error("1 / 0", "22012");
    assert_bind_error("(select 1)", "0A000");
    assert_bind_error("'x'::numeric", "22P02");
    assert_bind_error("'x'::money", "0A000");
}

/* BETWEEN binds to an AND of two comparisons, NOT IN to NOT(IN). */
static void
test_between_and_not_in_shapes(void **state)
{
    struct sql_fixture f;
    struct tl_expr *e;
    fixture_init(&f, 6);
    assert_int_equal(bind_target(&f, "k BETWEEN 1 AND 5", &e), 0);
    assert_int_equal(e->kind, TL_EXPR_AND);
    assert_int_equal(e->n_args, 2);
    assert_int_equal(bind_target(&f, "k NOT IN (1, 2)", &e), 0);
    assert_int_equal(e->kind, TL_EXPR_NOT);
    assert_int_equal(e->args[0]->kind, TL_EXPR_IN);
    assert_int_equal(e->args[0]->n_args, 3);
    fixture_close(&f);
}

/* Expressions nested deeper than the limit fail with 54001, not a crash. */
static void
test_deep_nesting_is_refused(void **state)
{
    struct sql_fixture f;
    struct tl_expr *e;
    fixture_init(&f, 6);
    struct tl_buf b;
    tl_buf_init(&b);
    for (int i = 0; i < SQL_MAX_DEPTH + 10; i++)
        tl_buf_printf(&b, "1 + ");
    tl_buf_printf(&b, "1");
    tl_buf_append_u8(&b, 0);
    assert_int_not_equal(bind_target(&f, (const char *)b.data, &e), 0);
    assert_string_equal(f.st.err.sqlstate, "54001");
    tl_buf_close(&b);
    fixture_close(&f);
}

static int
build(struct sql_fixture *f, const char *sql, struct tl_table **t)
{
    const PgQuery__Node *n = fixture_parse(f, sql);
    tl_error_clear(&f->st.err);
    return ddl_build_table(&f->st, n->create_stmt, t);
}

/* PARTITION BY HASH makes a hash vindex; primary key columns are NOT NULL. */
static void
test_create_sharded_table(void **state)
{
    struct sql_fixture f;
    struct tl_table *t;
    fixture_init(&f, 6);
    assert_int_equal(build(&f,
                           "CREATE TABLE u (id bigint PRIMARY KEY, name "
                           "varchar(10), n int NOT NULL) PARTITION BY HASH "
                           "(id)",
                           &t),
                     0);
    assert_int_equal(t->n_columns, 3);
    assert_int_equal(t->shard_key, 0);
    assert_int_equal(t->vindex, TL_VINDEX_HASH);
    assert_int_equal(t->n_pk, 1);
    assert_true(t->columns[0].not_null);
    assert_int_equal(t->columns[1].type, TL_TYPE_VARCHAR);
    assert_int_equal(t->columns[1].typmod, 10);
    assert_true(t->columns[2].not_null);
    fixture_close(&f);
}

/* A table without a primary key gets the hidden rowid key column. */
static void
test_create_without_pk_adds_rowid(void **state)
{
    struct sql_fixture f;
    struct tl_table *t;
    fixture_init(&f, 6);
    assert_int_equal(build(&f, "CREATE TABLE u (a int, b text)", &t), 0);
    assert_int_equal(t->n_columns, 3);
    assert_true(t->columns[2].hidden);
    assert_string_equal(t->columns[2].name, "rowid");
    assert_int_equal(t->pk[0], 2);
    assert_int_equal(t->shard_key, -1);
    fixture_close(&f);
}

/* WITH (vindex = ...) and PARTITION BY RANGE ... WITH (boundaries = ...)
 * store the vindex and its parameters; distribution = 'reference' is
 * recorded on the table. */
static void
test_create_vindexes(void **state)
{
    struct sql_fixture f;
    struct tl_table *t;
    fixture_init(&f, 6);
    assert_int_equal(build(&f,
                           "CREATE TABLE u (a bigint PRIMARY KEY) PARTITION "
                           "BY HASH (a) WITH (vindex = 'hash')",
                           &t),
                     0);
    assert_int_equal(t->vindex, TL_VINDEX_HASH);
    assert_int_equal(build(&f,
                           "CREATE TABLE u (a bigint PRIMARY KEY) PARTITION "
                           "BY HASH (a) WITH (vindex = consistent_hash)",
                           &t),
                     0);
    assert_int_equal(t->vindex, TL_VINDEX_CONSISTENT_HASH);
    assert_int_equal(t->ring_shards, 6);
    assert_int_equal(build(&f,
                           "CREATE TABLE u (a text PRIMARY KEY) PARTITION "
                           "BY RANGE (a) WITH (boundaries = 'g, n,t')",
                           &t),
                     0);
    assert_int_equal(t->vindex, TL_VINDEX_RANGE);
    assert_int_equal(t->n_range_shards, 4);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(t->range_shards[i], i);
    struct tl_value b[3];
    size_t n;
    assert_int_equal(
        tl_row_decode(t->range_bounds, t->range_bounds_len, b, 3, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(b[1].type, TL_TYPE_TEXT);
    assert_int_equal(b[1].u.s.len, 1);
    assert_memory_equal(b[1].u.s.p, "n", 1);
    assert_int_equal(build(&f,
                           "CREATE TABLE u (code text PRIMARY KEY, name "
                           "text) WITH (distribution = 'reference')",
                           &t),
                     0);
    assert_int_equal(t->distribution, TL_DIST_REFERENCE);
    assert_int_equal(t->vindex, TL_VINDEX_NONE);
    /* An unknown vindex names the ones that exist. */
    assert_int_not_equal(build(&f,
                               "CREATE TABLE u (a int) PARTITION BY HASH (a) "
                               "WITH (vindex = 'lookup')",
                               &t),
                         0);
    assert_string_equal(f.st.err.message, "unrecognized vindex \"lookup\"");
    assert_non_null(strstr(f.st.err.hint, "consistent_hash"));
    assert_int_not_equal(build(&f,
                               "CREATE TABLE u (a int) PARTITION BY RANGE "
                               "(a) WITH (boundaries = '1,2,3,4,5,6,7')",
                               &t),
                         0);
    assert_string_equal(f.st.err.message,
                        "too many ranges: 8 ranges for 6 shards");
    fixture_close(&f);
}

/* CREATE TABLE errors match PostgreSQL's SQLSTATEs. */
static void
test_create_errors(void **state)
{
    static const struct {
        const char *sql;
        const char *state;
    } cases[] = {
        {"CREATE TABLE u (a int, a text)", "42701"},
        {"CREATE TABLE u (a int PRIMARY KEY, b int) PARTITION BY HASH (b)",
         "0A000"},
        {"CREATE TABLE u (a int) PARTITION BY RANGE (a)", "22023"},
        {"CREATE TABLE u (a int) PARTITION BY LIST (a)", "0A000"},
        {"CREATE TABLE u (a int) PARTITION BY HASH (a) WITH (vindex = x)",
         "22023"},
        {"CREATE TABLE u (a int) PARTITION BY HASH (a) WITH (vindex = "
         "'range')",
         "22023"},
        {"CREATE TABLE u (a int) PARTITION BY RANGE (a) WITH (vindex = "
         "'hash', boundaries = '1')",
         "22023"},
        {"CREATE TABLE u (a int) PARTITION BY HASH (a) WITH (boundaries = "
         "'1')",
         "22023"},
        {"CREATE TABLE u (a int) WITH (vindex = 'hash')", "22023"},
        {"CREATE TABLE u (a int) WITH (colour = 'red')", "22023"},
        {"CREATE TABLE u (a int) WITH (distribution = 'everywhere')", "22023"},
        {"CREATE TABLE u (a float8) PARTITION BY RANGE (a) WITH (boundaries "
         "= '1')",
         "0A000"},
        {"CREATE TABLE u (a int) PARTITION BY RANGE (a) WITH (boundaries = "
         "'1,2,3,4,5,6')",
         "22023"},
        {"CREATE TABLE u (a int) PARTITION BY RANGE (a) WITH (boundaries = "
         "'5,3')",
         "22023"},
        {"CREATE TABLE u (a int) PARTITION BY RANGE (a) WITH (boundaries = "
         "'3,3')",
         "22023"},
        {"CREATE TABLE u (a int) PARTITION BY RANGE (a) WITH (boundaries = "
         "'x')",
         "22P02"},
        {"CREATE TABLE u (a date) PARTITION BY RANGE (a) WITH (boundaries = "
         "'2026-13-01')",
         "22P02"},
        {"CREATE TABLE u (a serial DEFAULT 1)", "42601"},
        {"CREATE TABLE u (a int DEFAULT a)", "0A000"},
        {"CREATE TABLE u (a int DEFAULT true)", "42804"},
        {"CREATE TABLE u (a int DEFAULT 'x')", "22P02"},
        {"CREATE TABLE u (a text GENERATED ALWAYS AS IDENTITY)", "22023"},
        {"CREATE TABLE u (a int GENERATED ALWAYS AS IDENTITY (CACHE 0))",
         "22023"},
        {"CREATE TABLE u (a int GENERATED ALWAYS AS (1) STORED)", "0A000"},
        {"CREATE TABLE u (a int CHECK (a > 0))", "0A000"},
        {"CREATE TABLE u (a int UNIQUE)", "0A000"},
        {"CREATE TABLE u (a int PRIMARY KEY, PRIMARY KEY (a))", "42P16"},
        {"CREATE TABLE u (a int, PRIMARY KEY (b))", "42703"},
        {"CREATE TABLE u (a int) WITH (fillfactor = 5)", "22023"},
        {"CREATE TABLE u (a int) WITH (fillfactor = 'x')", "22023"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sql_fixture f;
        struct tl_table *t;
        fixture_init(&f, 6);
        assert_int_not_equal(build(&f, cases[i].sql, &t), 0);
        assert_string_equal(f.st.err.sqlstate, cases[i].state);
        fixture_close(&f);
    }
}

/* Bind "SELECT @expr FROM t" in a session of user alice on database shop
 * with backend pid 42; the first target must fold to a constant, returned
 * in *@out (its text copied to @text when it is text). */
static void
bind_in_session(const char *expr, struct tl_value *out, char *text,
                size_t text_size)
{
    struct sql_fixture f;
    struct tl_expr *e;
    fixture_init(&f, 6);
    struct sql_session *s = sql_session_create(NULL);
    struct sql_identity id = {.user = "alice",
                              .database = "shop",
                              .application_name = "",
                              .backend_pid = 42};
    sql_session_set_identity(s, &id);
    f.st.s = s;
    f.st.start_us = INT64_C(123456789012345);
    assert_int_equal(bind_target(&f, expr, &e), 0);
    assert_int_equal(e->kind, TL_EXPR_CONST);
    *out = e->value;
    out->type = e->type;
    if (text != NULL && tl_type_is_text(e->type))
        snprintf(text, text_size, "%.*s", (int)e->value.u.s.len,
                 e->value.u.s.p);
    sql_session_destroy(s);
    fixture_close(&f);
}

/* The router's own functions have PostgreSQL's result types (text where
 * PostgreSQL has name) and wire type OIDs. */
static void
test_function_types(void **state)
{
    static const struct {
        const char *expr;
        uint8_t type;
        uint32_t oid;
    } cases[] = {
        {"version()", TL_TYPE_TEXT, 25},
        {"current_database()", TL_TYPE_TEXT, 25},
        {"pg_catalog.current_database()", TL_TYPE_TEXT, 25},
        {"current_catalog", TL_TYPE_TEXT, 25},
        {"current_user", TL_TYPE_TEXT, 25},
        {"session_user", TL_TYPE_TEXT, 25},
        {"user", TL_TYPE_TEXT, 25},
        {"current_role", TL_TYPE_TEXT, 25},
        {"current_schema", TL_TYPE_TEXT, 25},
        {"current_schema()", TL_TYPE_TEXT, 25},
        {"now()", TL_TYPE_TIMESTAMPTZ, 1184},
        {"CURRENT_TIMESTAMP", TL_TYPE_TIMESTAMPTZ, 1184},
        {"CURRENT_TIMESTAMP(2)", TL_TYPE_TIMESTAMPTZ, 1184},
        {"transaction_timestamp()", TL_TYPE_TIMESTAMPTZ, 1184},
        {"statement_timestamp()", TL_TYPE_TIMESTAMPTZ, 1184},
        {"clock_timestamp()", TL_TYPE_TIMESTAMPTZ, 1184},
        {"LOCALTIMESTAMP", TL_TYPE_TIMESTAMP, 1114},
        {"LOCALTIMESTAMP(0)", TL_TYPE_TIMESTAMP, 1114},
        {"CURRENT_DATE", TL_TYPE_DATE, 1082},
        {"pg_backend_pid()", TL_TYPE_INT4, 23},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tl_value v;
        bind_in_session(cases[i].expr, &v, NULL, 0);
        assert_int_equal(v.type, cases[i].type);
        assert_int_equal(tl_type_oid(v.type), cases[i].oid);
        assert_false(v.is_null);
    }
}

/* The identity functions answer from the session, the clock ones from
 * the statement's start, rounded to the precision asked for. */
static void
test_function_values(void **state)
{
    struct tl_value v;
    char text[256];
    bind_in_session("current_user", &v, text, sizeof(text));
    assert_string_equal(text, "alice");
    bind_in_session("session_user", &v, text, sizeof(text));
    assert_string_equal(text, "alice");
    bind_in_session("current_database()", &v, text, sizeof(text));
    assert_string_equal(text, "shop");
    bind_in_session("current_catalog", &v, text, sizeof(text));
    assert_string_equal(text, "shop");
    bind_in_session("current_schema", &v, text, sizeof(text));
    assert_string_equal(text, "public");
    bind_in_session("version()", &v, text, sizeof(text));
    assert_int_equal(strncmp(text, "PostgreSQL 15.0 (Talus) on ", 27), 0);
    bind_in_session("pg_backend_pid()", &v, NULL, 0);
    assert_int_equal(v.u.i, 42);
    bind_in_session("now()", &v, NULL, 0);
    assert_int_equal(v.u.i, INT64_C(123456789012345));
    bind_in_session("statement_timestamp()", &v, NULL, 0);
    assert_int_equal(v.u.i, INT64_C(123456789012345));
    bind_in_session("CURRENT_TIMESTAMP(0)", &v, NULL, 0);
    assert_int_equal(v.u.i, INT64_C(123456789000000));
    bind_in_session("CURRENT_TIMESTAMP(2)", &v, NULL, 0);
    assert_int_equal(v.u.i, INT64_C(123456789010000));
    bind_in_session("LOCALTIMESTAMP(4)", &v, NULL, 0);
    assert_int_equal(v.u.i, INT64_C(123456789012300));
    bind_in_session("CURRENT_DATE", &v, NULL, 0);
    assert_int_equal(v.u.i, 1428); /* 123456789 s is 1428.9 days */
    bind_in_session("clock_timestamp()", &v, NULL, 0);
    assert_true(v.u.i > INT64_C(123456789012345));
}

/* A function Talus does not know is PostgreSQL's 42883, listing the
 * argument types; one PostgreSQL has but Talus lacks is 0A000. */
static void
test_unknown_functions(void **state)
{
    assert_bind_error("nosuch()", "42883");
    assert_bind_error("nosuch(k, name)", "42883");
    assert_bind_error("now(1)", "42883");
    assert_bind_error("other.now()", "42883");
    assert_bind_error("current_schemas(true)", "0A000");
    assert_bind_error("CURRENT_TIME", "0A000");
    assert_bind_error("now() OVER ()", "42809");

    struct sql_fixture f;
    struct tl_expr *e;
    fixture_init(&f, 6);
    assert_int_not_equal(bind_target(&f, "nosuch(k, 'a', id)", &e), 0);
    assert_string_equal(f.st.err.message,
                        "function nosuch(integer, unknown, bigint) does "
                        "not exist");
    assert_string_equal(f.st.err.hint,
                        "No function matches the given name and argument "
                        "types. You might need to add explicit type casts.");
    fixture_close(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arithmetic_types),
        cmocka_unit_test(test_constants_fold),
        cmocka_unit_test(test_bind_errors),
        cmocka_unit_test(test_between_and_not_in_shapes),
        cmocka_unit_test(test_deep_nesting_is_refused),
        cmocka_unit_test(test_create_sharded_table),
        cmocka_unit_test(test_create_vindexes),
        cmocka_unit_test(test_create_without_pk_adds_rowid),
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_function_types),
        cmocka_unit_test(test_function_values),
        cmocka_unit_test(test_unknown_functions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
