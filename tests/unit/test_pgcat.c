/* Unit tests of the virtual catalog (router/sql/pgcat.c): the rows
 * pg_class, pg_index, pg_indexes, pg_attribute, pg_depend and
 * pg_constraint show for a table's primary key and secondary indexes, as
 * PostgreSQL 15 shows them, and the OIDs of indexes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "router/sql/pgcat.h"
#include "sql_test_util.h"

struct cat_fixture {
    struct sql_fixture f;
    struct tl_table *tables[2];
    struct pgcat cat;
};

static void
add_index(struct tl_table *t, uint32_t id, const char *name, bool unique,
          bool valid, const uint32_t *cols, uint32_t n_cols)
{
    struct tl_index *ix = &t->indexes[t->n_indexes++];
    memset(ix, 0, sizeof(*ix));
    ix->id = id;
    snprintf(ix->name, sizeof(ix->name), "%s", name);
    ix->unique = unique;
    ix->state = valid ? TL_INDEX_VALID : TL_INDEX_BUILDING;
    for (uint32_t i = 0; i < n_cols; i++)
        ix->cols[i] = cols[i];
    ix->n_cols = n_cols;
    t->next_index_id = id + 1;
}

/* Table t (id int8 PRIMARY KEY, name text, k int4, f float8, s int2), id
 * 1000, with t_k_idx (k), t_name_key UNIQUE (name), t_f_s_idx (f, s)
 * still building; table "u" (id 1001) with no primary key and u_k_idx
 * (k). */
static void
cat_init(struct cat_fixture *c)
{
    static const uint32_t pk[] = {0}, k[] = {2}, name[] = {1}, fs[] = {3, 4};
    fixture_init(&c->f, 4);
    struct tl_table *t = fixture_table(&c->f, pk, 1, 0);
    t->indexes = tl_arena_calloc(&c->f.a, 4 * sizeof(*t->indexes));
    add_index(t, 2, "t_k_idx", false, true, k, 1);
    add_index(t, 3, "t_name_key", true, true, name, 1);
    add_index(t, 5, "t_f_s_idx", false, false, fs, 2);
    struct tl_table *u = fixture_table(&c->f, NULL, 0, 0);
    u->id = 1001;
    strcpy(u->name, "u");
    u->indexes = tl_arena_calloc(&c->f.a, sizeof(*u->indexes));
    add_index(u, 2, "u_k_idx", false, true, k, 1);
    c->tables[0] = t;
    c->tables[1] = u;
    memset(&c->cat, 0, sizeof(c->cat));
    c->cat.tables = c->tables;
    c->cat.n_tables = 2;
    c->cat.user = "regress";
    c->cat.database = "regress";
    c->cat.st = &c->f.st;
}

/* The rows of @name whose column @key is the text @value (NULL: all). */
static size_t
rows_where(struct cat_fixture *c, const char *name, const char *key,
           const char *value, struct tl_value **out, size_t max)
{
    int vt = pgcat_find("pg_catalog", name);
    assert_true(vt >= 0);
    struct tl_value **rows;
    size_t n, k = 0;
    pgcat_rows(&c->cat, vt, &c->f.a, &rows, &n);
    int col = key ? tl_table_find_column(pgcat_desc(vt), key) : -1;
    for (size_t i = 0; i < n; i++) {
        const struct tl_value *v = col >= 0 ? &rows[i][col] : NULL;
        if (v != NULL && (v->is_null || v->u.s.len != strlen(value) ||
                          memcmp(v->u.s.p, value, v->u.s.len) != 0))
            continue;
        if (k < max)
            out[k] = rows[i];
        k++;
    }
    return k;
}

static const struct tl_value *
field(const char *table, const struct tl_value *row, const char *col)
{
    int k =
        tl_table_find_column(pgcat_desc(pgcat_find("pg_catalog", table)), col);
    assert_true(k >= 0);
    return &row[k];
}

static void
assert_text(const struct tl_value *v, const char *want)
{
    assert_false(v->is_null);
    char *got = strndup(v->u.s.p, v->u.s.len);
    assert_string_equal(got, want);
    free(got);
}

static int64_t
int_of(const struct tl_value *v)
{
    assert_false(v->is_null);
    return v->u.i;
}

/* A secondary index's OID lies in its own range (2^31 + 4096 * table id +
 * index id), apart from tables, sequences and primary keys (16384 + 4 *
 * id + 0..3), and pgcat_index_by_oid() finds every index by it. */
static void
test_index_oids(void **state)
{
    (void)state;
    struct cat_fixture c;
    cat_init(&c);
    struct tl_table *t = c.tables[0];
    assert_int_equal(pgcat_table_oid(t), 16384 + 4 * 1000);
    assert_int_equal(pgcat_index_oid(t, NULL), 16384 + 4 * 1000 + 1);
    assert_int_equal(pgcat_index_oid(t, &t->indexes[1]),
                     2147483648LL + 4096 * 1000 + 3);
    struct pgcat_index *idx;
    size_t n = pgcat_indexes(&c.cat, &idx);
    assert_int_equal(n, 5); /* t_pkey, 3 of t, 1 of u */
    assert_string_equal(idx[0].name, "t_pkey");
    assert_true(idx[0].primary);
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(pgcat_index_by_oid(&c.cat, idx[i].oid), &idx[i]);
        for (size_t j = 0; j < i; j++)
            assert_true(idx[i].oid != idx[j].oid);
    }
    assert_null(pgcat_index_by_oid(&c.cat, pgcat_table_oid(t)));
    fixture_close(&c.f);
}

/* pg_class shows each index as relkind 'i' of access method btree (403)
 * with as many attributes as key columns, and a table with any index,
 * even without a primary key, has relhasindex. */
static void
test_pg_class(void **state)
{
    (void)state;
    struct cat_fixture c;
    cat_init(&c);
    struct tl_value *rows[4];
    assert_int_equal(
        rows_where(&c, "pg_class", "relname", "t_f_s_idx", rows, 4), 1);
    assert_text(field("pg_class", rows[0], "relkind"), "i");
    assert_int_equal(int_of(field("pg_class", rows[0], "relam")), 403);
    assert_int_equal(int_of(field("pg_class", rows[0], "relnatts")), 2);
    assert_int_equal(int_of(field("pg_class", rows[0], "oid")),
                     pgcat_index_oid(c.tables[0], &c.tables[0]->indexes[2]));
    assert_false(field("pg_class", rows[0], "relhasindex")->u.b);
    assert_int_equal(rows_where(&c, "pg_class", "relname", "u", rows, 4), 1);
    assert_true(field("pg_class", rows[0], "relhasindex")->u.b);
    assert_int_equal(rows_where(&c, "pg_class", "relkind", "i", rows, 4), 5);
    fixture_close(&c.f);
}

/* pg_index: a secondary index is neither primary nor (unless UNIQUE)
 * unique, valid once built and ready while building, keyed by attnums
 * with the default btree operator class and collation of each column. */
static void
test_pg_index(void **state)
{
    (void)state;
    struct cat_fixture c;
    cat_init(&c);
    struct tl_value *rows[8];
    size_t n = rows_where(&c, "pg_index", NULL, NULL, rows, 8);
    assert_int_equal(n, 5);
    /* Rows follow pgcat_indexes(): t_pkey, t_k_idx, t_name_key, ... */
    assert_true(field("pg_index", rows[0], "indisprimary")->u.b);
    assert_text(field("pg_index", rows[0], "indclass"), "3124");
    const struct tl_value *k = rows[1], *name = rows[2], *fs = rows[3];
    assert_false(field("pg_index", k, "indisprimary")->u.b);
    assert_false(field("pg_index", k, "indisunique")->u.b);
    assert_true(field("pg_index", k, "indisvalid")->u.b);
    assert_text(field("pg_index", k, "indkey"), "3");
    assert_text(field("pg_index", k, "indclass"), "1978");
    assert_text(field("pg_index", k, "indcollation"), "0");
    assert_true(field("pg_index", name, "indisunique")->u.b);
    assert_text(field("pg_index", name, "indclass"), "3126");
    assert_text(field("pg_index", name, "indcollation"), "100");
    assert_int_equal(int_of(field("pg_index", fs, "indnatts")), 2);
    assert_int_equal(int_of(field("pg_index", fs, "indnkeyatts")), 2);
    assert_text(field("pg_index", fs, "indkey"), "4 5");
    assert_text(field("pg_index", fs, "indclass"), "3123 1979");
    assert_text(field("pg_index", fs, "indoption"), "0 0");
    assert_false(field("pg_index", fs, "indisvalid")->u.b);
    assert_true(field("pg_index", fs, "indisready")->u.b);
    assert_true(field("pg_index", fs, "indislive")->u.b);
    assert_int_equal(int_of(field("pg_index", rows[4], "indrelid")),
                     pgcat_table_oid(c.tables[1]));
    fixture_close(&c.f);
}

/* pg_indexes and pg_get_indexdef() give the CREATE [UNIQUE] INDEX
 * PostgreSQL deparses, qualified unless pretty, identifiers quoted as
 * quote_ident() quotes them (reserved keywords, capitals). */
static void
test_index_defs(void **state)
{
    (void)state;
    struct cat_fixture c;
    cat_init(&c);
    struct tl_value *rows[4];
    assert_int_equal(
        rows_where(&c, "pg_indexes", "indexname", "t_f_s_idx", rows, 4), 1);
    assert_text(field("pg_indexes", rows[0], "indexdef"),
                "CREATE INDEX t_f_s_idx ON public.t USING btree (f, s)");
    assert_int_equal(
        rows_where(&c, "pg_indexes", "indexname", "t_name_key", rows, 4), 1);
    assert_text(field("pg_indexes", rows[0], "indexdef"),
                "CREATE UNIQUE INDEX t_name_key ON public.t USING btree "
                "(name)");
    assert_int_equal(rows_where(&c, "pg_indexes", "tablename", "t", rows, 4),
                     4);

    struct tl_table *t = c.tables[0];
    strcpy(t->columns[3].name, "user");
    strcpy(t->columns[4].name, "Mixed");
    strcpy(t->indexes[2].name, "type");
    struct pgcat_index *idx;
    pgcat_indexes(&c.cat, &idx);
    assert_string_equal(pgcat_index_def(&c.f.a, &idx[3], true),
                        "CREATE INDEX type ON t USING btree (\"user\", "
                        "\"Mixed\")");
    assert_string_equal(pgcat_quote_ident(&c.f.a, "a\"b"), "\"a\"\"b\"");
    assert_string_equal(pgcat_quote_ident(&c.f.a, "left"), "\"left\"");
    assert_string_equal(pgcat_quote_ident(&c.f.a, "1a"), "\"1a\"");
    assert_string_equal(pgcat_quote_ident(&c.f.a, "a_1"), "a_1");
    fixture_close(&c.f);
}

/* An index has attributes 1..n named after its columns, never NOT NULL;
 * it depends on its table's columns (auto), a primary key index on its
 * constraint (internal); CREATE UNIQUE INDEX makes no constraint. */
static void
test_attributes_depend_constraints(void **state)
{
    (void)state;
    struct cat_fixture c;
    cat_init(&c);
    struct tl_table *t = c.tables[0];
    int64_t fs = pgcat_index_oid(t, &t->indexes[2]);
    int vt = pgcat_find("pg_catalog", "pg_attribute");
    struct tl_value **rows;
    size_t n, found = 0;
    pgcat_rows(&c.cat, vt, &c.f.a, &rows, &n);
    for (size_t i = 0; i < n; i++) {
        if (int_of(field("pg_attribute", rows[i], "attrelid")) != fs)
            continue;
        int64_t num = int_of(field("pg_attribute", rows[i], "attnum"));
        assert_text(field("pg_attribute", rows[i], "attname"),
                    num == 1 ? "f" : "s");
        assert_false(field("pg_attribute", rows[i], "attnotnull")->u.b);
        found++;
    }
    assert_int_equal(found, 2);

    vt = pgcat_find("pg_catalog", "pg_depend");
    pgcat_rows(&c.cat, vt, &c.f.a, &rows, &n);
    found = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t objid = int_of(field("pg_depend", rows[i], "objid"));
        if (objid == fs) {
            assert_int_equal(int_of(field("pg_depend", rows[i], "refobjid")),
                             pgcat_table_oid(t));
            assert_text(field("pg_depend", rows[i], "deptype"), "a");
            found++;
        } else if (objid == pgcat_index_oid(t, NULL)) {
            assert_int_equal(int_of(field("pg_depend", rows[i], "refobjid")),
                             pgcat_table_oid(t) + 2);
            assert_text(field("pg_depend", rows[i], "deptype"), "i");
        }
    }
    assert_int_equal(found, 2);

    struct tl_value *cons[4];
    assert_int_equal(rows_where(&c, "pg_constraint", NULL, NULL, cons, 4), 1);
    assert_text(field("pg_constraint", cons[0], "conname"), "t_pkey");
    fixture_close(&c.f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_oids),
        cmocka_unit_test(test_pg_class),
        cmocka_unit_test(test_pg_index),
        cmocka_unit_test(test_index_defs),
        cmocka_unit_test(test_attributes_depend_constraints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
