/* End-to-end tests of the storage node over its RPC: an in-process node
 * (one node, two shards, a temp dir) answers scan, write, modify and
 * status requests sent with the common RPC client. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../test_ports.h"
#include "arena.h"
#include "cluster_config.h"
#include "common/meta/meta_keys.h"
#include "expr.h"
#include "keycodec.h"
#include "node.h"
#include "row.h"
#include "rpc.h"
#include "table.h"
#include "tl_error.h"

#define TIMEOUT_MS 5000
#define TABLE_ID 42

struct env {
    char dir[64];
    struct tl_cluster_config cfg;
    struct node *node;
    pthread_t thread;
    bool running;
    struct tl_rpc_client *client;
    struct tl_table *t;
    struct tl_arena a;
    Talus__TableDesc desc;
};

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
    assert_int_equal(resp->request_id, req->request_id);
    assert_int_equal(resp->node_id, 1);
    return resp;
}

static Talus__Response *
status(struct env *e, bool count_keys)
{
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__StatusRequest st = TALUS__STATUS_REQUEST__INIT;
    st.has_count_keys = count_keys;
    st.count_keys = count_keys;
    req.body_case = TALUS__REQUEST__BODY_STATUS;
    req.status = &st;
    return call(e, &req);
}

/* Wait until every group has a leader (the harness' readiness check). */
static void
wait_ready(struct env *e)
{
    for (int i = 0; i < 500; i++) {
        Talus__Response *r = status(e, false);
        size_t n_leading = 0;
        for (size_t j = 0; j < r->n_shards; j++)
            n_leading += r->shards[j]->is_leader;
        /* Two shards and the meta group. */
        bool ready = r->n_shards == 3 && n_leading == 3;
        talus__response__free_unpacked(r, NULL);
        if (ready)
            return;
        usleep(10000);
    }
    fail_msg("node not ready");
}

static void
make_table(struct env *e)
{
    static const struct tl_column cols[] = {
        {.name = "id", .type = TL_TYPE_INT8, .typmod = -1, .not_null = true},
        {.name = "name", .type = TL_TYPE_TEXT, .typmod = -1},
        {.name = "score", .type = TL_TYPE_INT4, .typmod = -1},
    };
    struct tl_table *t = calloc(1, sizeof *t);
    t->id = TABLE_ID;
    strcpy(t->name, "t");
    t->n_columns = 3;
    t->columns = calloc(3, sizeof *t->columns);
    memcpy(t->columns, cols, sizeof cols);
    t->n_pk = 1;
    t->pk[0] = 0;
    t->shard_key = 0;
    t->schema_version = 1;
    e->t = t;
    talus__table_desc__init(&e->desc);
    tl_table_to_proto(t, &e->a, &e->desc);
}

/* Start the node with a snapshot every @snap_threshold entries. */
static void
start_node(struct env *e, unsigned snap_threshold)
{
    struct node_options o;
    int rv;

    node_options_defaults(&o, 1);
    o.n_workers = 4;
    o.snapshot_threshold = snap_threshold;
    o.snapshot_trailing = 2;
    assert_int_equal(node_create(&e->cfg, &o, &e->node), 0);
    rv = node_start(e->node);
    assert_int_equal(pthread_create(&e->thread, NULL, run_node, e->node), 0);
    e->running = true;
    assert_int_equal(rv, 0);
    assert_int_equal(tl_rpc_client_create(e->cfg.nodes[0].rpc_addr, &e->client),
                     0);
    wait_ready(e);
}

static void
stop_node(struct env *e)
{
    tl_rpc_client_destroy(e->client);
    e->client = NULL;
    if (e->node == NULL)
        return;
    node_stop(e->node);
    if (e->running)
        pthread_join(e->thread, NULL);
    e->running = false;
    node_destroy(e->node);
    e->node = NULL;
}

static int
setup(void **state)
{
    struct env *e = calloc(1, sizeof *e);

    strcpy(e->dir, "/tmp/test_node_rpc.XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    tl_arena_init(&e->a);
    tl_cluster_config_defaults(&e->cfg);
    e->cfg.n_shards = 2;
    e->cfg.n_nodes = 1;
    e->cfg.request_timeout_ms = 3000;
    e->cfg.nodes[0].id = 1;
    snprintf(e->cfg.nodes[0].rpc_addr, TL_ADDR_MAX, "127.0.0.1:%d",
             free_port());
    snprintf(e->cfg.nodes[0].raft_addr, TL_ADDR_MAX, "127.0.0.1:%d",
             free_port());
    snprintf(e->cfg.nodes[0].dir, PATH_MAX, "%s", e->dir);
    make_table(e);
    start_node(e, 1024);
    *state = e;
    return 0;
}

static int
teardown(void **state)
{
    struct env *e = *state;
    char cmd[128];
    stop_node(e);
    tl_table_destroy(e->t);
    tl_arena_close(&e->a);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
    assert_int_equal(system(cmd), 0);
    free(e);
    return 0;
}

/* ------------------------------------------------------------ helpers */

static ProtobufCBinaryData
bytes_of(struct tl_arena *a, const struct tl_buf *b)
{
    ProtobufCBinaryData d = {b->len, tl_arena_alloc(a, b->len + 1)};
    memcpy(d.data, b->data, b->len);
    return d;
}

/* A PUT (ABSENT) of row (id, name, score) into the arena. */
static Talus__Mutation *
insert_mut(struct env *e, int64_t id, const char *name, int64_t score)
{
    struct tl_value row[3] = {
        tl_value_int(TL_TYPE_INT8, id),
        name ? tl_value_text(TL_TYPE_TEXT, name, (uint32_t)strlen(name))
             : tl_value_null(TL_TYPE_TEXT),
        tl_value_int(TL_TYPE_INT4, score),
    };
    struct tl_buf k, v;
    Talus__Mutation *m = tl_arena_alloc(&e->a, sizeof *m);
    talus__mutation__init(m);
    tl_buf_init(&k);
    tl_buf_init(&v);
    tl_table_row_key(e->t, row, &k);
    tl_row_encode(row, 3, 1, &v);
    m->kind = TALUS__MUTATION__KIND__PUT;
    m->key = bytes_of(&e->a, &k);
    m->has_value = true;
    m->value = bytes_of(&e->a, &v);
    m->has_cond = true;
    m->cond = TALUS__MUTATION__COND__ABSENT;
    tl_buf_close(&k);
    tl_buf_close(&v);
    return m;
}

static Talus__Response *
write_rows(struct env *e, uint32_t shard, Talus__Mutation **ms, size_t n)
{
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__WriteBatch wb = TALUS__WRITE_BATCH__INIT;
    wb.mutations = ms;
    wb.n_mutations = n;
    req.has_shard = true;
    req.shard = shard;
    req.body_case = TALUS__REQUEST__BODY_WRITE;
    req.write = &wb;
    return call(e, &req);
}

/* Insert ids 1..n with name "n<id>" and score id*10 into shard 0. */
static void
insert_n(struct env *e, int n)
{
    Talus__Mutation *ms[64];
    char *names[64];
    for (int i = 0; i < n; i++) {
        names[i] = tl_arena_printf(&e->a, "n%d", i + 1);
        ms[i] = insert_mut(e, i + 1, names[i], (i + 1) * 10);
    }
    Talus__Response *r = write_rows(e, 0, ms, (size_t)n);
    assert_null(r->error);
    assert_int_equal(r->count, n);
    talus__response__free_unpacked(r, NULL);
}

/* A scan fragment over the whole table. */
static Talus__ScanFragment *
whole_scan(struct env *e)
{
    Talus__ScanFragment *sf = tl_arena_alloc(&e->a, sizeof *sf);
    Talus__KeyRange *kr = tl_arena_alloc(&e->a, sizeof *kr);
    struct tl_buf s, en;
    talus__scan_fragment__init(sf);
    talus__key_range__init(kr);
    tl_buf_init(&s);
    tl_buf_init(&en);
    tl_table_key_range(e->t, &s, &en);
    kr->start = bytes_of(&e->a, &s);
    kr->end = bytes_of(&e->a, &en);
    tl_buf_close(&s);
    tl_buf_close(&en);
    sf->table = &e->desc;
    sf->ranges = tl_arena_alloc(&e->a, sizeof *sf->ranges);
    sf->ranges[0] = kr;
    sf->n_ranges = 1;
    return sf;
}

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

/* Column @col of row @i of @r, decoded. */
static struct tl_value
col(Talus__Response *r, size_t i, int c)
{
    struct tl_value v[3];
    assert_true(i < r->n_rows);
    assert_int_equal(tl_row_decode(r->rows[i].data, r->rows[i].len, v, 3, NULL),
                     0);
    return v[c];
}

/* `score > k` as a proto expression. */
static Talus__Expr *
score_gt(struct env *e, int64_t k)
{
    struct tl_value kv = tl_value_int(TL_TYPE_INT4, k);
    struct tl_expr *x = tl_expr_op(&e->a, TL_OP_GT, TL_TYPE_BOOL,
                                   tl_expr_column(&e->a, 2, TL_TYPE_INT4),
                                   tl_expr_const(&e->a, &kv));
    return tl_expr_to_proto(x, &e->a);
}

/* ------------------------------------------------------------ tests */

/* Inserted rows come back in key order; a repeated key is 23505 naming
 * the mutation; a shard this node does not host is 08006. */
static void
test_write_scan(void **state)
{
    struct env *e = *state;
    Talus__Response *r;
    Talus__Mutation *dup[2];

    insert_n(e, 5);
    r = scan(e, whole_scan(e));
    assert_null(r->error);
    assert_int_equal(r->n_rows, 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(col(r, i, 0).u.i, (int64_t)i + 1);
    assert_false(r->has_resume_key);
    talus__response__free_unpacked(r, NULL);

    dup[0] = insert_mut(e, 100, "new", 1);
    dup[1] = insert_mut(e, 3, "again", 1);
    r = write_rows(e, 0, dup, 2);
    assert_non_null(r->error);
    assert_string_equal(r->error->sqlstate, "23505");
    assert_int_equal(r->error->mutation, 1);
    talus__response__free_unpacked(r, NULL);

    r = write_rows(e, 7, dup, 1);
    assert_non_null(r->error);
    assert_string_equal(r->error->sqlstate, "08006");
    assert_string_equal(r->error->message, "shard 7 is not served by node 1");
    /* Not hosted: unavailable, no leader to suggest. */
    assert_true(r->error->has_code);
    assert_int_equal(r->error->code, TL_EUNAVAILABLE);
    assert_true(r->has_leader_hint);
    assert_int_equal(r->leader_hint, 0);
    talus__response__free_unpacked(r, NULL);

    r = scan(e, whole_scan(e));
    assert_int_equal(r->n_rows, 5); /* the failed batch wrote nothing */
    talus__response__free_unpacked(r, NULL);
}

/* Filter, projection, limit and count_only shape the result. */
static void
test_filter_project_limit(void **state)
{
    struct env *e = *state;
    Talus__ScanFragment *sf;
    Talus__Response *r;
    uint32_t proj[] = {0};

    insert_n(e, 10);
    sf = whole_scan(e);
    sf->filter = score_gt(e, 35);
    sf->projection = proj;
    sf->n_projection = 1;
    sf->has_limit = true;
    sf->limit = 3;
    r = scan(e, sf);
    assert_null(r->error);
    assert_int_equal(r->n_rows, 3);
    assert_int_equal(col(r, 0, 0).u.i, 4);
    assert_true(col(r, 0, 1).is_null); /* not projected */
    assert_true(col(r, 0, 2).is_null);
    talus__response__free_unpacked(r, NULL);

    sf = whole_scan(e);
    sf->filter = score_gt(e, 35);
    sf->has_count_only = true;
    sf->count_only = true;
    r = scan(e, sf);
    assert_int_equal(r->n_rows, 0);
    assert_int_equal(r->count, 7);
    talus__response__free_unpacked(r, NULL);
}

/* ORDER BY score DESC LIMIT 3 returns the top 3 in order, in one reply. */
static void
test_top_n(void **state)
{
    struct env *e = *state;
    Talus__ScanFragment *sf;
    Talus__SortKey key = TALUS__SORT_KEY__INIT;
    Talus__SortKey *keys[1] = {&key};
    Talus__Response *r;

    insert_n(e, 20);
    sf = whole_scan(e);
    key.expr = tl_expr_to_proto(tl_expr_column(&e->a, 2, TL_TYPE_INT4), &e->a);
    key.has_desc = true;
    key.desc = true;
    sf->order = keys;
    sf->n_order = 1;
    sf->has_limit = true;
    sf->limit = 3;
    sf->has_page_size = true;
    sf->page_size = 1; /* ignored with order */
    r = scan(e, sf);
    assert_null(r->error);
    assert_int_equal(r->n_rows, 3);
    assert_int_equal(col(r, 0, 2).u.i, 200);
    assert_int_equal(col(r, 1, 2).u.i, 190);
    assert_int_equal(col(r, 2, 2).u.i, 180);
    assert_false(r->has_resume_key);
    talus__response__free_unpacked(r, NULL);
}

/* page_size splits a scan; resume_key continues after the last row. */
static void
test_paging(void **state)
{
    struct env *e = *state;
    Talus__ScanFragment *sf = whole_scan(e);
    Talus__Response *r;
    int64_t seen = 0;
    int pages = 0;
    ProtobufCBinaryData resume = {0, NULL};

    insert_n(e, 7);
    sf->has_page_size = true;
    sf->page_size = 3;
    for (;;) {
        if (resume.data != NULL) {
            sf->has_resume_key = true;
            sf->resume_key = resume;
        }
        r = scan(e, sf);
        assert_null(r->error);
        for (size_t i = 0; i < r->n_rows; i++)
            assert_int_equal(col(r, i, 0).u.i, ++seen);
        pages++;
        if (!r->has_resume_key) {
            talus__response__free_unpacked(r, NULL);
            break;
        }
        resume.len = r->resume_key.len;
        resume.data = tl_arena_alloc(&e->a, resume.len);
        memcpy(resume.data, r->resume_key.data, resume.len);
        talus__response__free_unpacked(r, NULL);
    }
    assert_int_equal(seen, 7);
    assert_int_equal(pages, 3);
}

static Talus__Response *
modify(struct env *e, Talus__ModifyFragment *mf)
{
    Talus__Request req = TALUS__REQUEST__INIT;
    req.has_shard = true;
    req.shard = 0;
    req.body_case = TALUS__REQUEST__BODY_MODIFY;
    req.modify = mf;
    return call(e, &req);
}

/* The expression `column @col + 1` of type @type. */
static Talus__Expr *
plus_one(struct env *e, uint32_t col, uint8_t type)
{
    struct tl_value one = tl_value_int(TL_TYPE_INT8, 1);
    return tl_expr_to_proto(tl_expr_op(&e->a, TL_OP_ADD, type,
                                       tl_expr_column(&e->a, col, type),
                                       tl_expr_const(&e->a, &one)),
                            &e->a);
}

/* UPDATE of a non-key column, of the key (rows move), and DELETE. */
static void
test_modify(void **state)
{
    struct env *e = *state;
    Talus__ModifyFragment mf = TALUS__MODIFY_FRAGMENT__INIT;
    Talus__Assignment as = TALUS__ASSIGNMENT__INIT;
    Talus__Assignment *asp[1] = {&as};
    struct tl_value one = tl_value_int(TL_TYPE_INT8, 1);
    Talus__Response *r;

    insert_n(e, 5);
    /* UPDATE t SET score = score + 1 WHERE score > 25 */
    mf.scan = whole_scan(e);
    mf.scan->filter = score_gt(e, 25);
    as.column = 2;
    as.expr = plus_one(e, 2, TL_TYPE_INT4);
    mf.set = asp;
    mf.n_set = 1;
    r = modify(e, &mf);
    assert_null(r->error);
    assert_int_equal(r->count, 3);
    talus__response__free_unpacked(r, NULL);

    /* UPDATE t SET id = id + 1: every row moves, some onto vacated keys. */
    mf.scan = whole_scan(e);
    as.column = 0;
    as.expr = plus_one(e, 0, TL_TYPE_INT8);
    r = modify(e, &mf);
    assert_null(r->error);
    assert_int_equal(r->count, 5);
    talus__response__free_unpacked(r, NULL);
    r = scan(e, whole_scan(e));
    assert_int_equal(r->n_rows, 5);
    assert_int_equal(col(r, 0, 0).u.i, 2);
    assert_int_equal(col(r, 0, 2).u.i, 10);
    assert_int_equal(col(r, 4, 0).u.i, 6);
    assert_int_equal(col(r, 4, 2).u.i, 51);
    talus__response__free_unpacked(r, NULL);

    /* UPDATE t SET id = 1: the new keys collide: 23505. */
    mf.scan = whole_scan(e);
    as.expr = tl_expr_to_proto(tl_expr_const(&e->a, &one), &e->a);
    r = modify(e, &mf);
    assert_non_null(r->error);
    assert_string_equal(r->error->sqlstate, "23505");
    talus__response__free_unpacked(r, NULL);

    /* DELETE FROM t WHERE score > 25 */
    Talus__ModifyFragment del = TALUS__MODIFY_FRAGMENT__INIT;
    del.scan = whole_scan(e);
    del.scan->filter = score_gt(e, 25);
    del.has_is_delete = true;
    del.is_delete = true;
    r = modify(e, &del);
    assert_null(r->error);
    assert_int_equal(r->count, 3);
    talus__response__free_unpacked(r, NULL);
    r = modify(e, &del);
    assert_int_equal(r->count, 0);
    talus__response__free_unpacked(r, NULL);
}

/* Send @mf as request @id (a resend keeps its id). */
static Talus__Response *
modify_as(struct env *e, Talus__ModifyFragment *mf, uint64_t id)
{
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__Response *resp = NULL;
    req.request_id = id;
    req.has_shard = true;
    req.shard = 0;
    req.body_case = TALUS__REQUEST__BODY_MODIFY;
    req.modify = mf;
    assert_int_equal(tl_rpc_call(e->client, &req, TIMEOUT_MS, &resp), 0);
    assert_null(resp->error);
    return resp;
}

/* A modify resent with its request id after an unknown outcome applies
 * once and answers the first attempt's count: UPDATE score = score + 1
 * twice under one id adds 1; a DELETE resent when its rows are gone
 * still says how many it deleted. */
static void
test_modify_resent_applies_once(void **state)
{
    struct env *e = *state;
    Talus__ModifyFragment mf = TALUS__MODIFY_FRAGMENT__INIT;
    Talus__Assignment as = TALUS__ASSIGNMENT__INIT;
    Talus__Assignment *asp[1] = {&as};
    uint64_t id = tl_rpc_next_id();
    Talus__Response *r;

    insert_n(e, 5);
    mf.scan = whole_scan(e);
    mf.scan->filter = score_gt(e, 25);
    as.column = 2;
    as.expr = plus_one(e, 2, TL_TYPE_INT4);
    mf.set = asp;
    mf.n_set = 1;
    r = modify_as(e, &mf, id);
    assert_int_equal(r->count, 3);
    talus__response__free_unpacked(r, NULL);
    mf.has_retry = true;
    mf.retry = true;
    r = modify_as(e, &mf, id);
    assert_int_equal(r->count, 3);
    talus__response__free_unpacked(r, NULL);
    r = scan(e, whole_scan(e));
    assert_int_equal(r->n_rows, 5);
    assert_int_equal(col(r, 4, 2).u.i, 51); /* 50 + 1, not + 2 */
    talus__response__free_unpacked(r, NULL);

    Talus__ModifyFragment del = TALUS__MODIFY_FRAGMENT__INIT;
    del.scan = whole_scan(e);
    del.scan->filter = score_gt(e, 25);
    del.has_is_delete = true;
    del.is_delete = true;
    id = tl_rpc_next_id();
    r = modify_as(e, &del, id);
    assert_int_equal(r->count, 3);
    talus__response__free_unpacked(r, NULL);
    del.has_retry = true;
    del.retry = true;
    r = modify_as(e, &del, id); /* nothing matches now: still 3 */
    assert_int_equal(r->count, 3);
    talus__response__free_unpacked(r, NULL);
    r = modify_as(e, &del, tl_rpc_next_id()); /* a new statement: 0 */
    assert_int_equal(r->count, 0);
    talus__response__free_unpacked(r, NULL);
    r = scan(e, whole_scan(e));
    assert_int_equal(r->n_rows, 2);
    talus__response__free_unpacked(r, NULL);
}

struct bumper {
    struct env *e;
    Talus__ModifyFragment *mf;
    int n_ok;
};

static void *
bump_thread(void *arg)
{
    struct bumper *b = arg;
    for (int i = 0; i < 10; i++) {
        Talus__Request req = TALUS__REQUEST__INIT;
        Talus__Response *r = NULL;
        req.request_id = tl_rpc_next_id();
        req.has_shard = true;
        req.body_case = TALUS__REQUEST__BODY_MODIFY;
        req.modify = b->mf;
        if (tl_rpc_call(b->e->client, &req, TIMEOUT_MS, &r) != 0)
            continue;
        if (r->error == NULL && r->count == 3)
            b->n_ok++;
        talus__response__free_unpacked(r, NULL);
    }
    return NULL;
}

/* Concurrent UPDATEs of the same rows never lose an increment: a writer
 * that lost the race re-scans and retries. */
static void
test_concurrent_updates(void **state)
{
    struct env *e = *state;
    Talus__ModifyFragment mf = TALUS__MODIFY_FRAGMENT__INIT;
    Talus__Assignment as = TALUS__ASSIGNMENT__INIT;
    Talus__Assignment *asp[1] = {&as};
    struct bumper b[4];
    pthread_t th[4];
    Talus__Response *r;
    int n_ok = 0;

    insert_n(e, 3);
    mf.scan = whole_scan(e);
    as.column = 2;
    as.expr = plus_one(e, 2, TL_TYPE_INT4);
    mf.set = asp;
    mf.n_set = 1;
    for (int i = 0; i < 4; i++) {
        b[i] = (struct bumper){e, &mf, 0};
        assert_int_equal(pthread_create(&th[i], NULL, bump_thread, &b[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        n_ok += b[i].n_ok;
    }
    assert_true(n_ok > 0);
    r = scan(e, whole_scan(e));
    assert_int_equal(r->n_rows, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(col(r, i, 2).u.i, (int64_t)(i + 1) * 10 + n_ok);
    talus__response__free_unpacked(r, NULL);
}

/* Expression errors reach the client with their SQLSTATE; a request
 * without a body is a protocol violation (08P01). */
static void
test_errors(void **state)
{
    struct env *e = *state;
    Talus__ScanFragment *sf;
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__Response *r;
    struct tl_value ten = tl_value_int(TL_TYPE_INT4, 10);
    struct tl_expr *score = tl_expr_column(&e->a, 2, TL_TYPE_INT4);
    struct tl_expr *zero =
        tl_expr_op(&e->a, TL_OP_SUB, TL_TYPE_INT4, score, score);

    insert_n(e, 2);
    sf = whole_scan(e);
    sf->filter = tl_expr_to_proto(
        tl_expr_op(&e->a, TL_OP_GT, TL_TYPE_BOOL,
                   tl_expr_op(&e->a, TL_OP_DIV, TL_TYPE_INT4,
                              tl_expr_const(&e->a, &ten), zero),
                   tl_expr_const(&e->a, &ten)),
        &e->a);
    r = scan(e, sf);
    assert_non_null(r->error);
    assert_string_equal(r->error->sqlstate, "22012");
    talus__response__free_unpacked(r, NULL);

    req.has_shard = true;
    r = call(e, &req);
    assert_non_null(r->error);
    assert_string_equal(r->error->sqlstate, "08P01");
    talus__response__free_unpacked(r, NULL);
}

/* A scan with map version 0 is never checked; a newer version is learnt;
 * an older one is refused before it runs with TL_ESTALE and the node's
 * newest version; a write of the meta group's map version key teaches
 * the node that version; requests to the meta group are never refused. */
static void
test_stale_map_version(void **state)
{
    struct env *e = *state;
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__Response *r;

    insert_n(e, 2);
    req.has_shard = true;
    req.shard = 0;
    req.body_case = TALUS__REQUEST__BODY_SCAN;
    req.scan = whole_scan(e);
    req.has_map_version = true;
    req.map_version = 5;
    r = call(e, &req);
    assert_null(r->error);
    assert_int_equal(r->n_rows, 2);
    talus__response__free_unpacked(r, NULL);

    req.map_version = 4;
    r = call(e, &req);
    assert_non_null(r->error);
    assert_int_equal(r->error->code, TL_ESTALE);
    assert_true(r->has_map_version);
    assert_int_equal(r->map_version, 5);
    assert_int_equal(r->n_rows, 0);
    talus__response__free_unpacked(r, NULL);

    req.map_version = 0;
    r = call(e, &req);
    assert_null(r->error);
    talus__response__free_unpacked(r, NULL);

    /* The meta group applies a catalog batch writing version 9. */
    struct tl_buf key, val;
    tl_buf_init(&key);
    tl_buf_init(&val);
    tl_meta_key_map_version(&key);
    tl_meta_counter_encode(&val, 9);
    Talus__Mutation m = TALUS__MUTATION__INIT;
    Talus__Mutation *ms[1] = {&m};
    m.key = bytes_of(&e->a, &key);
    m.has_value = true;
    m.value = bytes_of(&e->a, &val);
    tl_buf_close(&key);
    tl_buf_close(&val);
    r = write_rows(e, TL_META_GROUP, ms, 1);
    assert_null(r->error);
    talus__response__free_unpacked(r, NULL);

    req.map_version = 8;
    r = call(e, &req);
    assert_non_null(r->error);
    assert_int_equal(r->error->code, TL_ESTALE);
    assert_int_equal(r->map_version, 9);
    talus__response__free_unpacked(r, NULL);

    /* The meta group itself answers whatever the version. */
    req.shard = TL_META_GROUP;
    req.map_version = 1;
    r = call(e, &req);
    assert_true(r->error == NULL || r->error->code != TL_ESTALE);
    talus__response__free_unpacked(r, NULL);
}

/* ORDER BY without LIMIT returns every row sorted, NULLs placed as asked
 * (name DESC NULLS LAST). */
static void
test_sort_nulls(void **state)
{
    struct env *e = *state;
    Talus__Mutation *ms[3] = {insert_mut(e, 1, "b", 1),
                              insert_mut(e, 2, NULL, 2),
                              insert_mut(e, 3, "c", 3)};
    Talus__SortKey key = TALUS__SORT_KEY__INIT;
    Talus__SortKey *keys[1] = {&key};
    Talus__ScanFragment *sf;
    Talus__Response *r;

    r = write_rows(e, 0, ms, 3);
    assert_null(r->error);
    talus__response__free_unpacked(r, NULL);
    sf = whole_scan(e);
    key.expr = tl_expr_to_proto(tl_expr_column(&e->a, 1, TL_TYPE_TEXT), &e->a);
    key.has_desc = true;
    key.desc = true;
    key.has_nulls_first = true;
    key.nulls_first = false;
    sf->order = keys;
    sf->n_order = 1;
    r = scan(e, sf);
    assert_null(r->error);
    assert_int_equal(r->n_rows, 3);
    assert_int_equal(col(r, 0, 0).u.i, 3);
    assert_int_equal(col(r, 1, 0).u.i, 1);
    assert_int_equal(col(r, 2, 0).u.i, 2);
    talus__response__free_unpacked(r, NULL);
}

/* Status reports leadership, applied index, counters and key counts. */
static void
test_status(void **state)
{
    struct env *e = *state;
    Talus__Response *r;

    insert_n(e, 4);
    r = status(e, true);
    assert_int_equal(r->n_shards, 3); /* two shards and the meta group */
    for (size_t i = 0; i < 3; i++) {
        Talus__ShardStatus *s = r->shards[i];
        assert_true(s->is_leader);
        assert_int_equal(s->leader_id, 1);
        assert_true(s->has_n_keys);
        /* The meta group also holds the node registry, written in the
         * background (node/meta/registry.c). */
        if (s->shard != TL_META_GROUP)
            assert_int_equal(s->n_keys, s->shard == 0 ? 4 : 0);
        if (s->shard == 0) {
            assert_true(s->applied_index >= 2);
            assert_int_equal(s->n_writes, 1);
        }
    }
    talus__response__free_unpacked(r, NULL);
}

/* Status with estimate_keys: a small shard's keys are counted exactly
 * (keys_estimated false); past the exact bound ($TALUS_KEYS_EXACT_MAX, 0
 * here) they come from RocksDB's estimate, labelled so, close to the real
 * number and without the reserved keys (applied index, dedupe table). */
static void
test_status_key_estimates(void **state)
{
    struct env *e = *state;
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__StatusRequest st = TALUS__STATUS_REQUEST__INIT;
    Talus__Response *r;

    insert_n(e, 40);
    st.has_estimate_keys = st.estimate_keys = true;
    req.body_case = TALUS__REQUEST__BODY_STATUS;
    req.status = &st;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            setenv("TALUS_KEYS_EXACT_MAX", "0", 1);
        r = call(e, &req);
        for (size_t i = 0; i < r->n_shards; i++) {
            Talus__ShardStatus *s = r->shards[i];
            if (s->shard != 0)
                continue;
            assert_true(s->has_n_keys);
            assert_true(s->has_keys_estimated);
            assert_int_equal(s->keys_estimated, pass == 1);
            if (pass == 0)
                assert_int_equal(s->n_keys, 40);
            /* The memtable still holds every rewrite of the applied
             * index: a few more than the rows, never fewer. */
            assert_true(s->n_keys >= 40 && s->n_keys <= 48);
        }
        talus__response__free_unpacked(r, NULL);
    }
    unsetenv("TALUS_KEYS_EXACT_MAX");
}

/* After snapshots truncated the raft log, a restarted node keeps every
 * row and its applied index (data in RocksDB, snapshot = descriptor). */
static void
test_restart_after_snapshots(void **state)
{
    struct env *e = *state;
    Talus__Response *r;
    uint64_t applied = 0;

    stop_node(e);
    start_node(e, 4);
    for (int i = 0; i < 30; i++) {
        Talus__Mutation *m = insert_mut(e, 1000 + i, "x", i);
        r = write_rows(e, 0, &m, 1);
        assert_null(r->error);
        talus__response__free_unpacked(r, NULL);
    }
    r = status(e, false);
    for (size_t i = 0; i < r->n_shards; i++)
        if (r->shards[i]->shard == 0)
            applied = r->shards[i]->applied_index;
    talus__response__free_unpacked(r, NULL);
    assert_true(applied >= 31);
    stop_node(e);
    start_node(e, 4);
    r = status(e, true);
    for (size_t i = 0; i < r->n_shards; i++)
        if (r->shards[i]->shard == 0) {
            assert_int_equal(r->shards[i]->applied_index, applied);
            assert_int_equal(r->shards[i]->n_keys, 30);
        }
    talus__response__free_unpacked(r, NULL);
    r = scan(e, whole_scan(e));
    assert_int_equal(r->n_rows, 30);
    talus__response__free_unpacked(r, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_project_limit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_top_n, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modify_resent_applies_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_key_estimates, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_map_version, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sort_nulls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_updates, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_restart_after_snapshots, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
