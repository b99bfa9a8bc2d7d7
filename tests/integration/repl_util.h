/* repl_util — helpers shared by the replication tests and benchmarks:
 * a two-column table (k bigint primary key, v bigint) written and read
 * through direct node RPC, with a leader-following writer that retries
 * with the same request id (so a retried write applies at most once).
 * Header-only (static functions): include it from one .c file. */
#ifndef TL_REPL_UTIL_H
#define TL_REPL_UTIL_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "common/base/sqlstate.h"
#include "harness.h"
#include "row.h"
#include "rpc.h"
#include "table.h"
#include "tl_error.h"
#include "value.h"

#define RU_TABLE_ID 77

struct ru_table {
    struct tl_table *t;
    struct tl_arena a;
    Talus__TableDesc desc;
};

static inline void
ru_table_init(struct ru_table *rt)
{
    static const struct tl_column cols[] = {
        {.name = "k", .type = TL_TYPE_INT8, .typmod = -1, .not_null = true},
        {.name = "v", .type = TL_TYPE_INT8, .typmod = -1},
    };
    struct tl_table *t = calloc(1, sizeof *t);
    t->id = RU_TABLE_ID;
    strcpy(t->name, "kv");
    t->n_columns = 2;
    t->columns = calloc(2, sizeof *t->columns);
    memcpy(t->columns, cols, sizeof cols);
    t->n_pk = 1;
    t->pk[0] = 0;
    t->shard_key = 0;
    t->schema_version = 1;
    rt->t = t;
    tl_arena_init(&rt->a);
    talus__table_desc__init(&rt->desc);
    tl_table_to_proto(t, &rt->a, &rt->desc);
}

static inline void
ru_table_close(struct ru_table *rt)
{
    tl_table_destroy(rt->t);
    tl_arena_close(&rt->a);
}

/* A PUT (cond ABSENT) of (k, v): key and value malloc'd into @m. */
static inline void
ru_put_mut(struct ru_table *rt, int64_t k, int64_t v, Talus__Mutation *m)
{
    struct tl_value row[2] = {tl_value_int(TL_TYPE_INT8, k),
                              tl_value_int(TL_TYPE_INT8, v)};
    struct tl_buf kb, vb;
    talus__mutation__init(m);
    tl_buf_init(&kb);
    tl_buf_init(&vb);
    tl_table_row_key(rt->t, row, &kb);
    tl_row_encode(row, 2, 1, &vb);
    m->kind = TALUS__MUTATION__KIND__PUT;
    m->key.data = malloc(kb.len);
    memcpy(m->key.data, kb.data, kb.len);
    m->key.len = kb.len;
    m->has_value = true;
    m->value.data = malloc(vb.len);
    memcpy(m->value.data, vb.data, vb.len);
    m->value.len = vb.len;
    m->has_cond = true;
    m->cond = TALUS__MUTATION__COND__ABSENT;
    tl_buf_close(&kb);
    tl_buf_close(&vb);
}

static inline void
ru_mut_free(Talus__Mutation *m)
{
    free(m->key.data);
    free(m->value.data);
}

/* Write row (k, v) to @shard at node @node with request id @rid. 0 with
 * *@resp, or a transport error code. */
static inline int
ru_put_at(struct th_cluster *c, struct ru_table *rt, uint32_t node,
          uint32_t shard, int64_t k, int64_t v, uint64_t rid, int timeout_ms,
          Talus__Response **resp)
{
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__WriteBatch wb = TALUS__WRITE_BATCH__INIT;
    Talus__Mutation m, *mp = &m;
    int rv;
    ru_put_mut(rt, k, v, &m);
    wb.mutations = &mp;
    wb.n_mutations = 1;
    wb.has_request_id = true;
    wb.request_id = rid;
    req.request_id = rid;
    req.has_shard = true;
    req.shard = shard;
    req.body_case = TALUS__REQUEST__BODY_WRITE;
    req.write = &wb;
    rv = th_node_call(c, node, &req, timeout_ms, resp);
    ru_mut_free(&m);
    return rv;
}

/* The leader-following writer of one shard. */
struct ru_writer {
    struct th_cluster *c;
    struct ru_table *rt;
    uint32_t shard;
    uint32_t leader; /* current guess, 0: unknown */
    char last_error[256];
    unsigned n_retries;
    int attempt_ms; /* per-attempt RPC timeout, 0: 2000. A reply lost with
                       a killed leader costs this much before the retry. */
};

/* Write (k, v) until acknowledged or @timeout_s passed, retrying with the
 * same request id at the hinted leader (or every node in turn). 0 when
 * acknowledged (23505 counts only if @dup_ok), -1 on timeout (the write's
 * outcome is then unknown), -2 on a definite SQL error. */
static inline int
ru_write(struct ru_writer *w, int64_t k, int64_t v, double timeout_s)
{
    uint64_t rid = tl_rpc_next_id();
    double deadline = th_now() + timeout_s;
    uint32_t next = 1;

    while (th_now() < deadline) {
        uint32_t to = w->leader;
        Talus__Response *r = NULL;
        int rv;
        if (to == 0) {
            to = next;
            next = next % w->c->cfg.n_nodes + 1;
        }
        if (__atomic_load_n(&w->c->nodes[to - 1], __ATOMIC_ACQUIRE) <= 0) {
            /* Hinted at a node we know is down: followers keep naming the
             * old leader until their election timeout. */
            w->leader = 0;
            usleep(5 * 1000);
            continue;
        }
        rv = ru_put_at(w->c, w->rt, to, w->shard, k, v, rid,
                       w->attempt_ms > 0 ? w->attempt_ms : 2000, &r);
        if (rv != 0) {
            snprintf(w->last_error, sizeof w->last_error, "node %u: rpc %s", to,
                     tl_strerror(rv));
            w->leader = 0;
            w->n_retries++;
            continue;
        }
        if (r->error == NULL) {
            talus__response__free_unpacked(r, NULL);
            return 0;
        }
        snprintf(w->last_error, sizeof w->last_error, "node %u: %s: %s (%s)",
                 to, r->error->sqlstate, r->error->message,
                 r->error->detail ? r->error->detail : "");
        if (strcmp(r->error->sqlstate, TL_SQLSTATE_CONNECTION_FAILURE) != 0) {
            talus__response__free_unpacked(r, NULL);
            return -2;
        }
        w->leader =
            r->has_leader_hint && r->leader_hint != 0 && r->leader_hint != to
                ? (uint32_t)r->leader_hint
                : 0;
        talus__response__free_unpacked(r, NULL);
        w->n_retries++;
        if (w->leader == 0)
            /* No leader known yet (election): poll again shortly. */
            usleep(20 * 1000);
    }
    return -1;
}

/* Every (k, v) of @shard as node @node serves it (it must lead), in key
 * order, into *@ks / *@vs (malloc'd). Returns the count or -1. */
static inline long
ru_scan_all(struct th_cluster *c, struct ru_table *rt, uint32_t node,
            uint32_t shard, int64_t **ks, int64_t **vs)
{
    struct tl_buf s, e;
    Talus__KeyRange kr = TALUS__KEY_RANGE__INIT, *krp = &kr;
    uint8_t *resume = NULL;
    size_t resume_len = 0;
    long n = 0, cap = 1024;

    *ks = malloc((size_t)cap * sizeof **ks);
    *vs = malloc((size_t)cap * sizeof **vs);
    tl_buf_init(&s);
    tl_buf_init(&e);
    tl_table_key_range(rt->t, &s, &e);
    kr.start.data = s.data;
    kr.start.len = s.len;
    kr.end.data = e.data;
    kr.end.len = e.len;
    for (;;) {
        Talus__Request req = TALUS__REQUEST__INIT;
        Talus__ScanFragment sf = TALUS__SCAN_FRAGMENT__INIT;
        Talus__Response *r;
        sf.table = &rt->desc;
        sf.ranges = &krp;
        sf.n_ranges = 1;
        if (resume != NULL) {
            sf.has_resume_key = true;
            sf.resume_key.data = resume;
            sf.resume_key.len = resume_len;
        }
        req.request_id = tl_rpc_next_id();
        req.has_shard = true;
        req.shard = shard;
        req.body_case = TALUS__REQUEST__BODY_SCAN;
        req.scan = &sf;
        if (th_node_call(c, node, &req, 10000, &r) != 0) {
            n = -1;
            break;
        }
        if (r->error != NULL) {
            fprintf(stderr, "scan at node %u: %s (%s)\n", node,
                    r->error->message,
                    r->error->detail ? r->error->detail : "");
            talus__response__free_unpacked(r, NULL);
            n = -1;
            break;
        }
        for (size_t i = 0; i < r->n_rows; i++) {
            struct tl_value row[2];
            if (n == cap) {
                cap *= 2;
                *ks = realloc(*ks, (size_t)cap * sizeof **ks);
                *vs = realloc(*vs, (size_t)cap * sizeof **vs);
            }
            tl_row_decode(r->rows[i].data, r->rows[i].len, row, 2, NULL);
            (*ks)[n] = row[0].u.i;
            (*vs)[n] = row[1].u.i;
            n++;
        }
        free(resume);
        resume = NULL;
        if (r->has_resume_key) {
            resume_len = r->resume_key.len;
            resume = malloc(resume_len + 1);
            memcpy(resume, r->resume_key.data, resume_len);
        }
        talus__response__free_unpacked(r, NULL);
        if (resume == NULL)
            break;
    }
    free(resume);
    tl_buf_close(&s);
    tl_buf_close(&e);
    return n;
}

/* Key count of @shard on node @node (any replica), or -1. */
static inline long
ru_count_keys(struct th_cluster *c, uint32_t node, uint32_t shard)
{
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__StatusRequest sr = TALUS__STATUS_REQUEST__INIT;
    Talus__Response *resp;
    long n = -1;
    sr.has_count_keys = true;
    sr.count_keys = true;
    req.request_id = tl_rpc_next_id();
    req.body_case = TALUS__REQUEST__BODY_STATUS;
    req.status = &sr;
    if (c->nodes[node - 1] <= 0 ||
        th_node_call(c, node, &req, 5000, &resp) != 0)
        return -1;
    for (size_t i = 0; i < resp->n_shards; i++)
        if (resp->shards[i]->shard == shard && resp->shards[i]->has_n_keys)
            n = (long)resp->shards[i]->n_keys;
    talus__response__free_unpacked(resp, NULL);
    return n;
}

/* Wait until node @node holds @want keys of @shard. */
static inline bool
ru_wait_keys(struct th_cluster *c, uint32_t node, uint32_t shard, long want,
             double timeout_s)
{
    double deadline = th_now() + timeout_s;
    long n = -1;
    while (th_now() < deadline) {
        n = ru_count_keys(c, node, shard);
        if (n == want)
            return true;
        usleep(50 * 1000);
    }
    fprintf(stderr, "node %u shard %u: %ld keys, want %ld\n", node, shard, n,
            want);
    return false;
}

#endif
