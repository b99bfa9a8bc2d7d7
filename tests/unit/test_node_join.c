/* The joins of a scan fragment (node/exec/exec_join.c), sent to an in-process
 * node (one node, one shard) over its RPC: each way of finding matches (point
 * lookup, key prefix scan, sorted key table, nested loop), LEFT JOIN,
 * filters on either side,
 * paging that never splits an outer row's matches, and the memory cap. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../test_ports.h"
#include "arena.h"
#include "cluster_config.h"
#include "expr.h"
#include "node.h"
#include "node/exec/exec_join.h"
#include "row.h"
#include "rpc.h"
#include "table.h"

#define TIMEOUT_MS 5000

#define N_OUTER 30

struct env {
    char dir[64];
    struct tl_cluster_config cfg;
    struct node *node;
    pthread_t thread;
    struct tl_rpc_client *client;
    struct tl_arena a;
    struct tl_table *outer; /* o (id int8 pk, k int4, name text) */
    struct tl_table *ref;   /* r (code int8 pk, label text) */
    struct tl_table *dup;   /* d (k int4, tag text, rowid int8 pk) */
};

static struct tl_table *
make_table(uint32_t id, const char *name, const struct tl_column *cols,
           uint32_t n, uint32_t pk)
{
    struct tl_table *t = calloc(1, sizeof *t);
    t->id = id;
    snprintf(t->name, sizeof t->name, "%s", name);
    t->n_columns = n;
    t->columns = calloc(n, sizeof *t->columns);
    memcpy(t->columns, cols, n * sizeof *cols);
    t->n_pk = 1;
    t->pk[0] = pk;
    t->shard_key = -1;
    t->schema_version = 1;
    return t;
}

static void *
run_node(void *arg)
{
    node_run(arg);
    return NULL;
}

static Talus__Response *
call(struct env *e, Talus__Request *req)
{
    Talus__Response *resp = NULL;
    req->request_id = tl_rpc_next_id();
    assert_int_equal(tl_rpc_call(e->client, req, TIMEOUT_MS, &resp), 0);
    return resp;
}

/* Wait until the shard and the meta group have their leader. */
static void
wait_ready(struct env *e)
{
    for (int i = 0; i < 500; i++) {
        Talus__Request req = TALUS__REQUEST__INIT;
        Talus__StatusRequest st = TALUS__STATUS_REQUEST__INIT;
        req.body_case = TALUS__REQUEST__BODY_STATUS;
        req.status = &st;
        Talus__Response *r = call(e, &req);
        size_t n_leading = 0;
        for (size_t j = 0; j < r->n_shards; j++)
            n_leading += r->shards[j]->is_leader;
        bool ready = r->n_shards == 2 && n_leading == 2;
        talus__response__free_unpacked(r, NULL);
        if (ready)
            return;
        usleep(10000);
    }
    fail_msg("node not ready");
}

/* Store @row of @t on shard 0 (through raft). */
static void
put_row(struct env *e, const struct tl_table *t, const struct tl_value *row)
{
    struct tl_buf k, v;
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__WriteBatch wb = TALUS__WRITE_BATCH__INIT;
    Talus__Mutation m = TALUS__MUTATION__INIT;
    Talus__Mutation *ms[1] = {&m};
    tl_buf_init(&k);
    tl_buf_init(&v);
    tl_table_row_key(t, row, &k);
    tl_row_encode(row, t->n_columns, 1, &v);
    m.kind = TALUS__MUTATION__KIND__PUT;
    m.key.data = k.data;
    m.key.len = k.len;
    m.has_value = true;
    m.value.data = v.data;
    m.value.len = v.len;
    wb.mutations = ms;
    wb.n_mutations = 1;
    req.has_shard = true;
    req.shard = 0;
    req.body_case = TALUS__REQUEST__BODY_WRITE;
    req.write = &wb;
    Talus__Response *r = call(e, &req);
    assert_null(r->error);
    talus__response__free_unpacked(r, NULL);
    tl_buf_close(&k);
    tl_buf_close(&v);
}

/* One scan request on shard 0; the caller frees the response. */
static Talus__Response *
scan(struct env *e, Talus__ScanFragment *sf)
{
    Talus__Request req = TALUS__REQUEST__INIT;
    req.has_shard = true;
    req.shard = 0;
    req.body_case = TALUS__REQUEST__BODY_SCAN;
    req.scan = sf;
    return call(e, &req);
}

static struct tl_value
text(const char *s)
{
    return tl_value_text(TL_TYPE_TEXT, s, (uint32_t)strlen(s));
}

/* o: ids 1..N_OUTER, k = id % 4 (0 is NULL); r: codes 1..2; d: k 1 twice,
 * k 2 once, k 3 never. */
static int
setup(void **state)
{
    static const struct tl_column oc[] = {
        {.name = "id", .type = TL_TYPE_INT8, .typmod = -1},
        {.name = "k", .type = TL_TYPE_INT4, .typmod = -1},
        {.name = "name", .type = TL_TYPE_TEXT, .typmod = -1},
    };
    static const struct tl_column rc[] = {
        {.name = "code", .type = TL_TYPE_INT8, .typmod = -1},
        {.name = "label", .type = TL_TYPE_TEXT, .typmod = -1},
    };
    static const struct tl_column dc[] = {
        {.name = "k", .type = TL_TYPE_INT4, .typmod = -1},
        {.name = "tag", .type = TL_TYPE_TEXT, .typmod = -1},
        {.name = "rowid", .type = TL_TYPE_INT8, .typmod = -1, .hidden = true},
    };
    struct env *e = calloc(1, sizeof *e);
    struct node_options o;

    strcpy(e->dir, "/tmp/test_node_join.XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    tl_arena_init(&e->a);
    tl_cluster_config_defaults(&e->cfg);
    e->cfg.n_shards = 1;
    e->cfg.n_nodes = 1;
    e->cfg.request_timeout_ms = 3000;
    e->cfg.nodes[0].id = 1;
    snprintf(e->cfg.nodes[0].rpc_addr, TL_ADDR_MAX, "127.0.0.1:%d",
             free_port());
    snprintf(e->cfg.nodes[0].raft_addr, TL_ADDR_MAX, "127.0.0.1:%d",
             free_port());
    snprintf(e->cfg.nodes[0].dir, PATH_MAX, "%s", e->dir);
    node_options_defaults(&o, 1);
    o.n_workers = 2;
    assert_int_equal(node_create(&e->cfg, &o, &e->node), 0);
    assert_int_equal(node_start(e->node), 0);
    assert_int_equal(pthread_create(&e->thread, NULL, run_node, e->node), 0);
    assert_int_equal(tl_rpc_client_create(e->cfg.nodes[0].rpc_addr, &e->client),
                     0);
    wait_ready(e);
    e->outer = make_table(1001, "o", oc, 3, 0);
    e->ref = make_table(1002, "r", rc, 2, 0);
    e->dup = make_table(1003, "d", dc, 3, 2);
    for (int id = 1; id <= N_OUTER; id++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", id);
        struct tl_value row[3] = {
            tl_value_int(TL_TYPE_INT8, id),
            id % 4 == 0 ? tl_value_null(TL_TYPE_INT4)
                        : tl_value_int(TL_TYPE_INT4, id % 4),
            text(name),
        };
        put_row(e, e->outer, row);
    }
    struct tl_value r1[2] = {tl_value_int(TL_TYPE_INT8, 1), text("one")};
    struct tl_value r2[2] = {tl_value_int(TL_TYPE_INT8, 2), text("two")};
    put_row(e, e->ref, r1);
    put_row(e, e->ref, r2);
    struct tl_value d1[3] = {tl_value_int(TL_TYPE_INT4, 1), text("a"),
                             tl_value_int(TL_TYPE_INT8, 1)};
    struct tl_value d2[3] = {tl_value_int(TL_TYPE_INT4, 1), text("b"),
                             tl_value_int(TL_TYPE_INT8, 2)};
    struct tl_value d3[3] = {tl_value_int(TL_TYPE_INT4, 2), text("c"),
                             tl_value_int(TL_TYPE_INT8, 3)};
    put_row(e, e->dup, d1);
    put_row(e, e->dup, d2);
    put_row(e, e->dup, d3);
    *state = e;
    return 0;
}

static int
teardown(void **state)
{
    struct env *e = *state;
    char cmd[128];
    tl_rpc_client_destroy(e->client);
    node_stop(e->node);
    pthread_join(e->thread, NULL);
    node_destroy(e->node);
    tl_table_destroy(e->outer);
    tl_table_destroy(e->ref);
    tl_table_destroy(e->dup);
    tl_arena_close(&e->a);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
    assert_int_equal(system(cmd), 0);
    free(e);
    exec_join_max_bytes = 256u << 20;
    return 0;
}

static Talus__ScanFragment *
outer_scan(struct env *e)
{
    Talus__ScanFragment *sf = tl_arena_alloc(&e->a, sizeof *sf);
    Talus__KeyRange *kr = tl_arena_alloc(&e->a, sizeof *kr);
    struct tl_buf s, en;
    talus__scan_fragment__init(sf);
    talus__key_range__init(kr);
    tl_buf_init(&s);
    tl_buf_init(&en);
    tl_table_key_range(e->outer, &s, &en);
    kr->start.data = tl_arena_alloc(&e->a, s.len);
    memcpy(kr->start.data, s.data, s.len);
    kr->start.len = s.len;
    kr->end.data = tl_arena_alloc(&e->a, en.len);
    memcpy(kr->end.data, en.data, en.len);
    kr->end.len = en.len;
    tl_buf_close(&s);
    tl_buf_close(&en);
    sf->table = tl_arena_alloc(&e->a, sizeof *sf->table);
    tl_table_to_proto(e->outer, &e->a, sf->table);
    sf->ranges = tl_arena_alloc(&e->a, sizeof *sf->ranges);
    sf->ranges[0] = kr;
    sf->n_ranges = 1;
    return sf;
}

static struct tl_expr *
col(struct env *e, uint32_t c, uint8_t type)
{
    return tl_expr_column(&e->a, c, type);
}

/* A step joining @t on outer column @oc = its column @ic (no key hint
 * when @hint is false: a nested loop). */
static Talus__JoinStep *
step(struct env *e, const struct tl_table *t, uint32_t off, bool left,
     uint32_t oc, uint8_t ot, uint32_t ic, bool hint)
{
    Talus__JoinStep *js = tl_arena_alloc(&e->a, sizeof *js);
    talus__join_step__init(js);
    js->table = tl_arena_alloc(&e->a, sizeof *js->table);
    tl_table_to_proto(t, &e->a, js->table);
    js->has_kind = true;
    js->kind =
        left ? TALUS__JOIN_STEP__KIND__LEFT : TALUS__JOIN_STEP__KIND__INNER;
    js->on = tl_expr_to_proto(tl_expr_op(&e->a, TL_OP_EQ, TL_TYPE_BOOL,
                                         col(e, oc, ot),
                                         col(e, off + ic, t->columns[ic].type)),
                              &e->a);
    if (hint) {
        js->outer_cols = tl_arena_alloc(&e->a, sizeof(uint32_t));
        js->inner_cols = tl_arena_alloc(&e->a, sizeof(uint32_t));
        js->outer_cols[0] = oc;
        js->inner_cols[0] = ic;
        js->n_outer_cols = js->n_inner_cols = 1;
    }
    return js;
}

static void
add_steps(struct env *e, Talus__ScanFragment *sf, Talus__JoinStep *a,
          Talus__JoinStep *b)
{
    sf->joins = tl_arena_alloc(&e->a, 2 * sizeof *sf->joins);
    sf->joins[0] = a;
    sf->joins[1] = b;
    sf->n_joins = b != NULL ? 2 : 1;
}

/* Run @sf page by page (@page_size rows, 0: one page); the rows decoded
 * into @n_cols values each, in a fresh arena array *@rows. */
static size_t
run(struct env *e, Talus__ScanFragment *sf, uint32_t page_size, uint32_t n_cols,
    struct tl_value **rows, int *pages)
{
    size_t n = 0, cap = 0;
    *rows = NULL;
    *pages = 0;
    if (page_size > 0) {
        sf->has_page_size = true;
        sf->page_size = page_size;
    }
    for (;;) {
        Talus__Response *res = scan(e, sf);
        assert_null(res->error);
        (*pages)++;
        for (size_t i = 0; i < res->n_rows; i++) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                struct tl_value *nr =
                    tl_arena_alloc(&e->a, cap * n_cols * sizeof *nr);
                if (n > 0)
                    memcpy(nr, *rows, n * n_cols * sizeof *nr);
                *rows = nr;
            }
            /* Text values point into the row: keep a copy. */
            uint8_t *copy = tl_arena_alloc(&e->a, res->rows[i].len + 1);
            memcpy(copy, res->rows[i].data, res->rows[i].len);
            assert_int_equal(tl_row_decode(copy, res->rows[i].len,
                                           &(*rows)[n * n_cols], n_cols, NULL),
                             0);
            n++;
        }
        bool more = res->has_resume_key;
        if (more) {
            sf->has_resume_key = true;
            sf->resume_key.len = res->resume_key.len;
            sf->resume_key.data = tl_arena_alloc(&e->a, res->resume_key.len);
            memcpy(sf->resume_key.data, res->resume_key.data,
                   res->resume_key.len);
        }
        talus__response__free_unpacked(res, NULL);
        if (!more)
            break;
    }
    return n;
}

/* Point lookups (the key covers r's primary key) and a LEFT JOIN: every
 * outer row once, with r's label or NULLs; the int4 k finds int8 codes. */
static void
test_lookup_left(void **state)
{
    struct env *e = *state;
    Talus__ScanFragment *sf = outer_scan(e);
    struct tl_value *rows;
    int pages;
    add_steps(e, sf, step(e, e->ref, 3, true, 1, TL_TYPE_INT4, 0, true), NULL);
    size_t n = run(e, sf, 0, 5, &rows, &pages);
    assert_int_equal(n, N_OUTER);
    for (size_t i = 0; i < n; i++) {
        const struct tl_value *r = &rows[i * 5];
        int64_t id = r[0].u.i, k = id % 4;
        assert_int_equal(id, (int64_t)i + 1);
        if (k == 1 || k == 2) {
            assert_false(r[3].is_null);
            assert_int_equal(r[3].u.i, k);
            assert_memory_equal(r[4].u.s.p, k == 1 ? "one" : "two", 3);
        } else {
            assert_true(r[3].is_null);
            assert_true(r[4].is_null);
        }
    }
}

/* A key that is not the primary key (a sorted table with duplicates) and
 * the same join without a key hint (a nested loop) give the same rows;
 * a page of one row still ends only after an outer row's two matches. */
static void
test_hash_loop_paging(void **state)
{
    struct env *e = *state;
    for (int hint = 0; hint <= 1; hint++)
        for (uint32_t page = 0; page <= 1; page++) {
            Talus__ScanFragment *sf = outer_scan(e);
            struct tl_value *rows;
            int pages;
            add_steps(e, sf,
                      step(e, e->dup, 3, false, 1, TL_TYPE_INT4, 0, hint),
                      NULL);
            size_t n = run(e, sf, page, 6, &rows, &pages);
            size_t want = 0;
            for (int id = 1; id <= N_OUTER; id++)
                want += id % 4 == 1 ? 2 : id % 4 == 2 ? 1 : 0;
            assert_int_equal(n, want);
            for (size_t i = 0; i < n; i++) {
                const struct tl_value *r = &rows[i * 6];
                assert_int_equal(r[1].u.i, r[3].u.i);
                if (i > 0)
                    assert_true(r[0].u.i >= rows[(i - 1) * 6].u.i);
            }
            if (page == 1)
                assert_true(pages > N_OUTER / 2); /* one outer row a page */
        }
}

/* Two steps, a filter over the joined row (split by the node) and a
 * projection: only rows whose r.label is "two" and d.tag is not NULL. */
static void
test_two_steps_filter(void **state)
{
    struct env *e = *state;
    Talus__ScanFragment *sf = outer_scan(e);
    struct tl_value *rows;
    int pages;
    struct tl_value two = text("two");
    add_steps(e, sf, step(e, e->ref, 3, false, 1, TL_TYPE_INT4, 0, true),
              step(e, e->dup, 5, true, 1, TL_TYPE_INT4, 0, true));
    struct tl_expr *f =
        tl_expr_op(&e->a, TL_OP_EQ, TL_TYPE_BOOL, col(e, 4, TL_TYPE_TEXT),
                   tl_expr_const(&e->a, &two));
    sf->filter = tl_expr_to_proto(f, &e->a);
    sf->projection = tl_arena_alloc(&e->a, 2 * sizeof(uint32_t));
    sf->projection[0] = 0;
    sf->projection[1] = 6;
    sf->n_projection = 2;
    size_t n = run(e, sf, 0, 8, &rows, &pages);
    assert_int_equal(n, 8); /* ids 2, 6, ..., 30 */
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rows[i * 8].u.i % 4, 2);
        assert_true(rows[i * 8 + 4].is_null); /* not projected */
        assert_memory_equal(rows[i * 8 + 6].u.s.p, "c", 1);
    }
    /* count_only counts joined rows */
    sf = outer_scan(e);
    add_steps(e, sf, step(e, e->dup, 3, false, 1, TL_TYPE_INT4, 0, true), NULL);
    sf->has_count_only = true;
    sf->count_only = true;
    Talus__Response *res = scan(e, sf);
    assert_null(res->error);
    assert_int_equal(res->count, 8 * 2 + 8);
    talus__response__free_unpacked(res, NULL);
}

/* A table to build past the cap fails with 54000, naming the table. */
static void
test_memory_cap(void **state)
{
    struct env *e = *state;
    Talus__ScanFragment *sf = outer_scan(e);
    add_steps(e, sf, step(e, e->dup, 3, false, 1, TL_TYPE_INT4, 0, false),
              NULL);
    exec_join_max_bytes = 64; /* the node runs in this process */
    Talus__Response *res = scan(e, sf);
    assert_non_null(res->error);
    assert_string_equal(res->error->sqlstate, "54000");
    assert_non_null(strstr(res->error->message, "too large"));
    talus__response__free_unpacked(res, NULL);
    exec_join_max_bytes = 256u << 20;
}

/* Keys covering the first primary-key column of p (k int8, seq int4, pk
 * (k, seq)) read only the matching rows by a key-range scan: no table is
 * built, so even a tiny memory cap passes; inner and LEFT give each outer
 * row its matches in key order, or NULLs. */
static void
test_prefix_scan(void **state)
{
    static const struct tl_column pc[] = {
        {.name = "k", .type = TL_TYPE_INT8, .typmod = -1},
        {.name = "seq", .type = TL_TYPE_INT4, .typmod = -1},
        {.name = "tag", .type = TL_TYPE_TEXT, .typmod = -1},
    };
    static const int64_t keys[][2] = {{1, 2}, {1, 1}, {2, 1}, {4, 1}};
    struct env *e = *state;
    struct tl_table *p = make_table(1004, "p", pc, 3, 0);
    p->n_pk = 2;
    p->pk[1] = 1;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        struct tl_value row[3] = {tl_value_int(TL_TYPE_INT8, keys[i][0]),
                                  tl_value_int(TL_TYPE_INT4, keys[i][1]),
                                  text("x")};
        put_row(e, p, row);
    }
    exec_join_max_bytes = 64;
    for (int left = 0; left <= 1; left++) {
        Talus__ScanFragment *sf = outer_scan(e);
        struct tl_value *rows;
        int pages;
        add_steps(e, sf, step(e, p, 3, left, 1, TL_TYPE_INT4, 0, true), NULL);
        size_t n = run(e, sf, 0, 6, &rows, &pages);
        size_t want = 0, i = 0;
        for (int id = 1; id <= N_OUTER; id++) {
            int k = id % 4;
            size_t m = k == 1 ? 2 : k == 2 ? 1 : 0;
            want += m > 0 ? m : (size_t)left;
            for (size_t j = 0; j < m; j++, i++) {
                const struct tl_value *r = &rows[i * 6];
                assert_true(i < n);
                assert_int_equal(r[0].u.i, id);
                assert_int_equal(r[3].u.i, k);
                assert_int_equal(r[4].u.i, (int64_t)j + 1);
            }
            if (m == 0 && left) {
                assert_true(i < n);
                assert_int_equal(rows[i * 6].u.i, id);
                assert_true(rows[i * 6 + 3].is_null);
                i++;
            }
        }
        assert_int_equal(n, want);
    }
    exec_join_max_bytes = 256u << 20;
    tl_table_destroy(p);
}

/* Inconsistent steps are protocol errors, not crashes. */
static void
test_bad_steps(void **state)
{
    struct env *e = *state;
    Talus__ScanFragment *sf = outer_scan(e);
    Talus__JoinStep *js = step(e, e->ref, 3, false, 1, TL_TYPE_INT4, 0, true);
    js->outer_cols[0] = 7; /* not an outer column */
    add_steps(e, sf, js, NULL);
    Talus__Response *res = scan(e, sf);
    assert_non_null(res->error);
    assert_string_equal(res->error->sqlstate, "08P01");
    talus__response__free_unpacked(res, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lookup_left, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_loop_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_steps_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefix_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_steps, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
