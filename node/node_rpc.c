/* node_rpc — request dispatch on the RPC worker threads.
 *
 * Every request is decoded into a per-request arena, its reply built in
 * the same arena and packed into the worker's reply buffer. Nothing here
 * touches raft or the loop: writes go through node_propose(). */
#include "node_int.h"

#include <string.h>

#include "arena.h"
#include "log.h"
#include "tl_error.h"

static void
set_error(struct tl_arena *a, Talus__Response *resp, const struct tl_error *e,
          int32_t mutation)
{
    Talus__Error *pe = tl_arena_alloc(a, sizeof *pe);
    talus__error__init(pe);
    pe->sqlstate = tl_arena_strdup(a, e->sqlstate[0] ? e->sqlstate : "XX000");
    pe->message = tl_arena_strdup(a, e->message);
    if (e->detail[0] != '\0')
        pe->detail = tl_arena_strdup(a, e->detail);
    if (mutation >= 0) {
        pe->has_mutation = true;
        pe->mutation = mutation;
    }
    resp->error = pe;
}

/* The shard of @req if this node leads it, else an 08006 report. */
static struct node_shard *
serving_shard(struct node *n, const Talus__Request *req, struct tl_error *err)
{
    uint32_t s = req->has_shard ? req->shard : 0;
    struct node_shard *sh = s < TL_MAX_SHARDS ? n->by_shard[s] : NULL;
    if (sh == NULL || !atomic_load(&sh->is_leader)) {
        tl_error_set(err, TL_ENOTLEADER, "08006",
                     "shard %u is not served by node %u", s, n->opts.id);
        return NULL;
    }
    return sh;
}

static void
handle_scan(struct node *n, const Talus__Request *req, struct tl_arena *a,
            Talus__Response *resp)
{
    struct tl_error err;
    struct exec_scan_result r;
    struct node_shard *sh;

    tl_error_clear(&err);
    sh = serving_shard(n, req, &err);
    if (sh == NULL) {
        set_error(a, resp, &err, -1);
        return;
    }
    atomic_fetch_add(&sh->n_scans, 1);
    if (exec_scan(n->st, sh->fsm.cf, req->scan, a, &r, &err) != 0) {
        set_error(a, resp, &err, -1);
        return;
    }
    resp->rows = r.rows;
    resp->n_rows = r.n_rows;
    resp->has_count = r.has_count;
    resp->count = r.count;
    resp->has_resume_key = r.has_resume;
    resp->resume_key = r.resume_key;
}

/* Map a failed condition of a plain write to its SQL error. */
static void
write_cond_error(const struct fsm_result *res, struct tl_error *err)
{
    if (res->cond == TALUS__MUTATION__COND__ABSENT)
        tl_error_set(err, TL_EDUPKEY, "23505", "duplicate key");
    else
        tl_error_set(err, TL_ECONFLICT, "40001", "write conflict");
}

static void
handle_write(struct node *n, Talus__Request *req, struct tl_arena *a,
             Talus__Response *resp)
{
    struct tl_error err;
    struct fsm_result res;
    struct node_shard *sh;

    tl_error_clear(&err);
    sh = serving_shard(n, req, &err);
    if (sh == NULL) {
        set_error(a, resp, &err, -1);
        return;
    }
    atomic_fetch_add(&sh->n_writes, 1);
    /* The request id travels in the log so a retry can be recognised. */
    req->write->has_request_id = true;
    req->write->request_id = req->request_id;
    if (node_propose(sh, req->write, &res, &err) != 0) {
        set_error(a, resp, &err, -1);
        return;
    }
    if (res.outcome == FSM_COND_FAILED) {
        write_cond_error(&res, &err);
        set_error(a, resp, &err, res.mutation);
        return;
    }
    if (res.outcome != FSM_OK) {
        tl_error_set(&err, TL_EPROTO, "08P01", "malformed write batch");
        set_error(a, resp, &err, -1);
        return;
    }
    resp->has_count = true;
    resp->count = req->write->n_mutations;
}

static void
handle_modify(struct node *n, const Talus__Request *req, struct tl_arena *a,
              Talus__Response *resp)
{
    struct tl_error err;
    struct node_shard *sh;
    uint64_t count = 0;

    tl_error_clear(&err);
    sh = serving_shard(n, req, &err);
    if (sh == NULL) {
        set_error(a, resp, &err, -1);
        return;
    }
    atomic_fetch_add(&sh->n_writes, 1);
    if (exec_modify(n->st, sh->fsm.cf, req->modify, node_propose, sh, a, &count,
                    &err) != 0) {
        set_error(a, resp, &err, -1);
        return;
    }
    resp->has_count = true;
    resp->count = count;
}

static Talus__ShardStatus *
shard_status(struct node_shard *sh, bool count_keys, struct tl_arena *a)
{
    Talus__ShardStatus *ss = tl_arena_alloc(a, sizeof *ss);
    talus__shard_status__init(ss);
    ss->shard = sh->shard;
    ss->has_is_leader = true;
    ss->is_leader = atomic_load(&sh->is_leader);
    ss->has_leader_id = true;
    ss->leader_id = atomic_load(&sh->leader_id);
    ss->has_applied_index = true;
    ss->applied_index = fsm_applied(&sh->fsm);
    ss->has_n_scans = true;
    ss->n_scans = atomic_load(&sh->n_scans);
    ss->has_n_writes = true;
    ss->n_writes = atomic_load(&sh->n_writes);
    if (count_keys && sh->fsm.cf != NULL &&
        storage_count_keys(sh->fsm.st, sh->fsm.cf, &ss->n_keys) == 0)
        ss->has_n_keys = true;
    return ss;
}

static void
handle_status(struct node *n, const Talus__Request *req, struct tl_arena *a,
              Talus__Response *resp)
{
    bool count_keys = req->status->has_count_keys && req->status->count_keys;
    resp->shards = tl_arena_alloc(a, (n->n_shards + 1) * sizeof *resp->shards);
    resp->n_shards = n->n_shards;
    for (size_t i = 0; i < n->n_shards; i++)
        resp->shards[i] = shard_status(&n->shards[i], count_keys, a);
}

static void
dispatch(struct node *n, Talus__Request *req, struct tl_arena *a,
         Talus__Response *resp)
{
    struct tl_error err;

    switch (req->body_case) {
    case TALUS__REQUEST__BODY_SCAN:
        handle_scan(n, req, a, resp);
        break;
    case TALUS__REQUEST__BODY_WRITE:
        handle_write(n, req, a, resp);
        break;
    case TALUS__REQUEST__BODY_MODIFY:
        handle_modify(n, req, a, resp);
        break;
    case TALUS__REQUEST__BODY_STATUS:
        handle_status(n, req, a, resp);
        break;
    default:
        tl_error_clear(&err);
        tl_error_set(&err, TL_EPROTO, "08P01", "unknown request body %d",
                     (int)req->body_case);
        set_error(a, resp, &err, -1);
        break;
    }
}

void
node_rpc_handle(void *arg, const uint8_t *data, size_t len,
                struct tl_buf *reply)
{
    struct node *n = arg;
    struct tl_arena a;
    Talus__Request *req;
    Talus__Response resp;
    size_t size;

    tl_arena_init(&a);
    talus__response__init(&resp);
    resp.has_node_id = true;
    resp.node_id = n->opts.id;
    req = talus__request__unpack(tl_arena_protobuf(&a), len, data);
    if (req == NULL) {
        struct tl_error err;
        tl_error_clear(&err);
        tl_error_set(&err, TL_EPROTO, "08P01", "undecodable request");
        set_error(&a, &resp, &err, -1);
    } else {
        resp.request_id = req->request_id;
        dispatch(n, req, &a, &resp);
    }
    if (resp.error != NULL)
        tl_debug("rpc", "event=error request_id=%llu sqlstate=%s msg=\"%s\"",
                 (unsigned long long)resp.request_id, resp.error->sqlstate,
                 resp.error->message);
    size = talus__response__get_packed_size(&resp);
    reply->len = talus__response__pack(&resp, tl_buf_reserve(reply, size));
    tl_arena_close(&a);
}
