/* sql_test_util — helpers for the router SQL unit tests: a router with no
 * nodes (binding and routing do no I/O), hand-built tables, and parsing a
 * statement with libpg_query. Header-only so each test stays one file. */
#ifndef TL_SQL_TEST_UTIL_H
#define TL_SQL_TEST_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "router/core/router.h"
#include "router/plan/plan.h"
#include "router/sql/sql_int.h"
#include "vindex.h"

struct sql_fixture {
    struct router r;
    struct sql_stmt st;
    struct dest dest; /* discards everything */
    struct tl_arena a;
    PgQueryProtobufParseResult pr;
    PgQuery__ParseResult *tree;
};

static inline void
fixture_init(struct sql_fixture *f, uint32_t n_shards)
{
    memset(f, 0, sizeof(*f));
    f->r.cfg.n_shards = n_shards;
    tl_arena_init(&f->a);
    f->st.r = &f->r;
    f->st.a = &f->a;
    f->st.dest = &f->dest;
    tl_error_clear(&f->st.err);
}

static inline void
fixture_close(struct sql_fixture *f)
{
    if (f->tree != NULL) {
        pg_query__parse_result__free_unpacked(f->tree, NULL);
        pg_query_free_protobuf_parse_result(f->pr);
    }
    tl_arena_close(&f->a);
}

/* Parse @sql (one statement) and return its node. */
static inline const PgQuery__Node *
fixture_parse(struct sql_fixture *f, const char *sql)
{
    if (f->tree != NULL) {
        pg_query__parse_result__free_unpacked(f->tree, NULL);
        pg_query_free_protobuf_parse_result(f->pr);
        f->tree = NULL;
    }
    f->pr = pg_query_parse_protobuf(sql);
    if (f->pr.error != NULL)
        abort();
    f->tree = pg_query__parse_result__unpack(
        NULL, f->pr.parse_tree.len, (const uint8_t *)f->pr.parse_tree.data);
    f->st.query = sql;
    return f->tree->stmts[0]->stmt;
}

/* A table "t" with columns (id int8, name text, k int4, f float8, s int2),
 * primary key @pk (column indexes), sharded by hash on @shard_key or
 * unsharded when -1. */
static inline struct tl_table *
fixture_table(struct sql_fixture *f, const uint32_t *pk, uint32_t n_pk,
              int32_t shard_key)
{
    static const struct {
        const char *name;
        uint8_t type;
    } cols[] = {{"id", TL_TYPE_INT8},
                {"name", TL_TYPE_TEXT},
                {"k", TL_TYPE_INT4},
                {"f", TL_TYPE_FLOAT8},
                {"s", TL_TYPE_INT2}};
    struct tl_table *t = tl_arena_calloc(&f->a, sizeof(*t));
    t->id = 1000;
    strcpy(t->name, "t");
    t->n_columns = 5;
    t->columns = tl_arena_calloc(&f->a, 5 * sizeof(*t->columns));
    for (int i = 0; i < 5; i++) {
        strcpy(t->columns[i].name, cols[i].name);
        t->columns[i].type = cols[i].type;
        t->columns[i].typmod = -1;
    }
    for (uint32_t i = 0; i < n_pk; i++)
        t->pk[i] = pk[i];
    t->n_pk = n_pk;
    t->shard_key = shard_key;
    t->vindex = shard_key >= 0 ? TL_VINDEX_HASH : TL_VINDEX_NONE;
    t->schema_version = 1;
    return t;
}

/* Bind and route the WHERE clause of "SELECT * FROM t WHERE @where". */
static inline int
fixture_plan(struct sql_fixture *f, struct tl_table *t, const char *where,
             struct plan *p)
{
    char *sql = tl_arena_printf(&f->a, "SELECT * FROM t WHERE %s", where);
    const PgQuery__Node *n = fixture_parse(f, sql);
    return plan_build(&f->st, t, "t", n->select_stmt->where_clause, p);
}

static inline uint32_t
shard_of_int(int64_t v, uint32_t n_shards)
{
    struct tl_value x = tl_value_int(TL_TYPE_INT8, v);
    return tl_vindex_shard(TL_VINDEX_HASH, &x, n_shards);
}

#endif
