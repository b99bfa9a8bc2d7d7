/* node_rpc — request dispatch on the RPC worker threads.
 *
 * Every request is decoded into a per-request arena, its reply built in
 * the same arena and packed into the worker's reply buffer. Nothing here
 * touches raft or the loop: writes go through replica_propose(). */
#include "node/rpc/node_rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "clock.h"
#include "common/base/sqlstate.h"
#include "common/meta/meta_keys.h"
#include "keycodec.h"
#include "log.h"
#include "node/meta/registry.h"
#include "node/meta/tso.h"
#include "node/rpc/lock_gate.h"
#include "node/store/index_fill.h"
#include "secindex.h"
#include "tl_error.h"

/* The longest a plain scan runs before it ends its page (with a resume
 * key), when its request has a timeout. */
#define NODE_PAGE_TIME_MS 500

/* Set the reply's error from @e; @code (a TL_E* code, 0: none) goes to
 * Error.code, and not-leader codes also set leader_hint from @sh. */
static void
set_error_code(struct tl_arena *a, Talus__Response *resp,
               const struct tl_error *e, int32_t mutation, int code,
               uint64_t hint)
{
    Talus__Error *pe = tl_arena_alloc(a, sizeof *pe);
    talus__error__init(pe);
    if (code != 0) {
        pe->has_code = true;
        pe->code = code;
    }
    if (code == TL_ENOTLEADER || code == TL_EUNAVAILABLE) {
        resp->has_leader_hint = true;
        resp->leader_hint = hint;
    }
    pe->sqlstate = tl_arena_strdup(
        a, e->sqlstate[0] ? e->sqlstate : TL_SQLSTATE_INTERNAL_ERROR);
    pe->message = tl_arena_strdup(a, e->message);
    if (e->detail[0] != '\0')
        pe->detail = tl_arena_strdup(a, e->detail);
    if (e->hint[0] != '\0')
        pe->hint = tl_arena_strdup(a, e->hint);
    if (e->table[0] != '\0')
        pe->table_name = tl_arena_strdup(a, e->table);
    if (e->constraint[0] != '\0')
        pe->constraint_name = tl_arena_strdup(a, e->constraint);
    if (mutation >= 0) {
        pe->has_mutation = true;
        pe->mutation = mutation;
    }
    if (e->outcome_unknown) {
        pe->has_outcome_unknown = true;
        pe->outcome_unknown = true;
    }
    if (e->in_progress) {
        pe->has_in_progress = true;
        pe->in_progress = true;
    }
    if (e->lock_ts != 0) {
        pe->has_lock_ts = true;
        pe->lock_ts = e->lock_ts;
        pe->has_lock_shard = true;
        pe->lock_shard = e->lock_shard;
    }
    resp->error = pe;
}

static void
set_error(struct tl_arena *a, Talus__Response *resp, const struct tl_error *e,
          int32_t mutation)
{
    /* A row lock is worth a code: the router waits and asks again. */
    int code = strcmp(e->sqlstate, TL_SQLSTATE_LOCK_NOT_AVAILABLE) == 0
                   ? TL_ELOCKED
                   : 0;
    set_error_code(a, resp, e, mutation, code, 0);
}

/* The leader of @sh this node knows, other than itself; 0 if none. */
static uint64_t
hint_of(struct replica *sh)
{
    uint64_t id = sh != NULL ? atomic_load(&sh->leader_id) : 0;
    return sh != NULL && id == sh->rs->opts.id ? 0 : id;
}

/* Answer a failed operation on @sh with code @rv (not-leader codes carry
 * the hint). */
static void
fail_on(struct tl_arena *a, Talus__Response *resp, const struct tl_error *e,
        int rv, struct replica *sh)
{
    set_error_code(a, resp, e, -1, rv, hint_of(sh));
    if (rv == TL_ESTALE && sh != NULL) {
        /* The shard's catalog fence refused the batch: the router plans
         * again with the catalog the fence names (at least). */
        resp->has_map_version = true;
        resp->map_version = atomic_load(&node_of(sh)->meta.map_version);
    }
}

/* The shard of @req if this node leads it, else NULL with the reply set
 * to an 08006 error: TL_ENOTLEADER and the leader's id when one is known,
 * TL_EUNAVAILABLE when none is or the shard is not hosted here. */
static struct replica *
serving_shard(struct node *n, const Talus__Request *req, struct tl_arena *a,
              Talus__Response *resp)
{
    uint32_t s = req->has_shard ? req->shard : 0;
    struct replica *sh = replica_get(&n->rs, s);
    struct tl_error err;
    uint64_t hint;
    int code;

    if (sh != NULL && atomic_load(&sh->is_leader) &&
        !atomic_load(&sh->fsm.restoring))
        return sh;
    tl_error_clear(&err);
    hint = hint_of(sh);
    code = sh != NULL && hint != 0 ? TL_ENOTLEADER : TL_EUNAVAILABLE;
    tl_error_set(&err, code, TL_SQLSTATE_CONNECTION_FAILURE,
                 "shard %u is not served by node %u", s, n->opts.id);
    if (sh == NULL)
        tl_error_detail(&err, "node %u does not host shard %u", n->opts.id, s);
    else if (atomic_load(&sh->fsm.restoring))
        tl_error_detail(&err, "restoring a snapshot; leader: node %llu",
                        (unsigned long long)hint);
    else if (hint != 0)
        tl_error_detail(&err, "leader is node %llu", (unsigned long long)hint);
    else
        tl_error_detail(&err, "no leader known");
    set_error_code(a, resp, &err, -1, code, hint);
    return NULL;
}

/* Answer a request planned with an older catalog than @cur: TL_ESTALE
 * with the newest version. */
static void
stale_answer(struct tl_arena *a, Talus__Response *resp, struct tl_error *err,
             uint64_t cur)
{
    set_error_code(a, resp, err, -1, TL_ESTALE, 0);
    resp->has_map_version = true;
    resp->map_version = cur;
}

/* Whether @req was planned with a catalog older than one this node has
 * seen: then the reply is a TL_ESTALE error with the newest version, and
 * nothing was done. A newer version is learnt. Requests to the meta group
 * are never stale: they are how a router catches up. */
static bool
refuse_stale(struct node *n, const Talus__Request *req, struct tl_arena *a,
             Talus__Response *resp)
{
    uint64_t v = req->map_version;
    uint64_t cur = atomic_load(&n->meta.map_version);
    struct tl_error err;

    if ((req->has_shard && req->shard == TL_META_GROUP) || v == 0)
        return false;
    if (v >= cur) {
        node_meta_learn_version(&n->meta, v);
        return false;
    }
    tl_error_clear(&err);
    tl_error_set(&err, TL_ESTALE, TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                 "catalog version %llu is older than %llu",
                 (unsigned long long)v, (unsigned long long)cur);
    stale_answer(a, resp, &err, cur);
    return true;
}

/* The shard @req names if it may run here (a current map version, a
 * shard this node leads), counted as a scan or a write; else NULL with
 * the refusal already in @resp. */
static struct replica *
admit(struct node *n, const Talus__Request *req, struct tl_arena *a,
      Talus__Response *resp, bool is_write)
{
    struct replica *sh;

    if (refuse_stale(n, req, a, resp))
        return NULL;
    sh = serving_shard(n, req, a, resp);
    if (sh != NULL)
        atomic_fetch_add(is_write ? &sh->n_writes : &sh->n_scans, 1);
    return sh;
}

/* The time limits of @req, which a worker took up at @start_ms
 * (exec_now_ms): Request.timeout_ms from then is the deadline, and a
 * plain scan ends its page after a quarter of it (at most
 * NODE_PAGE_TIME_MS), so that a long scan answers page by page well
 * within the time its requester waits for each. */
static void
request_limits(struct node *n, const Talus__Request *req, int64_t start_ms,
               struct exec_limits *l)
{
    memset(l, 0, sizeof(*l));
    l->row_delay_us = n->opts.scan_row_delay_us;
    if (!req->has_timeout_ms || req->timeout_ms == 0)
        return;
    int64_t page = req->timeout_ms / 4;
    l->deadline_ms = start_ms + req->timeout_ms;
    l->answer_by_ms = start_ms + req->timeout_ms * 3 / 4;
    l->page_until_ms =
        start_ms + (page < NODE_PAGE_TIME_MS ? page : NODE_PAGE_TIME_MS);
}

/* Whether nobody waits for @req any more: then it is counted, logged and
 * answered TL_ETIMEOUT 57014 (@what was not done: for a write, certainly
 * not proposed, so outcome_unknown stays false). */
static bool
expired(struct replica *sh, const Talus__Request *req,
        const struct exec_limits *l, const char *what, struct tl_arena *a,
        Talus__Response *resp)
{
    struct tl_error err;
    if (l->deadline_ms == 0 || exec_now_ms() < l->deadline_ms)
        return false;
    uint64_t total = atomic_fetch_add(&sh->n_expired, 1) + 1;
    tl_info("rpc",
            "event=request_expired shard=%u request_id=%llu what=%s "
            "timeout_ms=%u total=%llu",
            sh->shard, (unsigned long long)req->request_id, what,
            req->timeout_ms, (unsigned long long)total);
    tl_error_clear(&err);
    tl_error_set(&err, TL_ETIMEOUT, TL_SQLSTATE_QUERY_CANCELED,
                 "%s not done: its requester stopped waiting after %u ms", what,
                 req->timeout_ms);
    fail_on(a, resp, &err, TL_ETIMEOUT, sh);
    return true;
}

/* How a fragment reads shard @sh: a transaction's view (its snapshot and
 * its own pending writes), the newest committed state, or the plain keys
 * of the meta group. */
static struct mvcc_read
shard_view(const struct replica *sh, const Talus__TxnInfo *txn)
{
    struct mvcc_read v = mvcc_read_at(MVCC_TS_LATEST);
    v.raw = !sh->fsm.versioned;
    if (txn != NULL && !v.raw) {
        v.read_ts = txn->has_read_ts && txn->read_ts != 0 ? txn->read_ts
                                                          : txn->start_ts;
        v.own_ts = txn->start_ts;
        v.ignore = txn->ignore_locks;
        v.n_ignore = txn->n_ignore_locks;
    }
    return v;
}

/* Oracle timestamp @ts as a UTC timestamptz ("2026-12-03
 * 16:30:00.123+00") into @out. */
static void
format_oracle_ts(uint64_t ts, char *out, size_t len)
{
    uint64_t ms = ts >> TSO_LOGICAL_BITS;
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];
    gmtime_r(&sec, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out, len, "%s.%03u+00", buf, (unsigned)(ms % 1000));
}

/* Confirm a read through @view before serving it: a snapshot read goes
 * through the log (FSM_ENTRY_READ_TS raises the shard's commit floor to
 * its timestamp, so nothing applied later commits where it could have
 * seen it), any other read takes a read barrier. */
static int
confirm_read(struct replica *sh, const struct mvcc_read *view,
             int64_t answer_by_ms, struct tl_error *err)
{
    struct raft_buffer buf;
    struct fsm_result res;
    char ts[8];

    /* Below the safe point the versions it would see may be collected
     * (gc.c): refused, never answered from what is left. */
    uint64_t sp = atomic_load(&node_of(sh)->meta.gc_safe_point);
    if (!view->raw && view->read_ts != MVCC_TS_LATEST && view->read_ts < sp) {
        tl_error_set(err, TL_EINVAL, TL_SQLSTATE_SNAPSHOT_TOO_OLD,
                     "snapshot too old");
        char at[48], spt[48];
        format_oracle_ts(view->read_ts, at, sizeof at);
        format_oracle_ts(sp, spt, sizeof spt);
        tl_error_detail(err,
                        "Shard %u was asked to read as of %s, before its "
                        "garbage collection safe point %s.",
                        sh->shard, at, spt);
        tl_error_hint(err, "Read as of a time inside the GC window "
                           "(gc_window_ms of the cluster settings).");
        return TL_EINVAL;
    }
    /* Once the applied floor covers the snapshot (a transaction's later
     * statements at its start timestamp), every write applied later
     * commits above it already: a batched barrier confirms the read. */
    if (view->raw || view->read_ts == MVCC_TS_LATEST ||
        atomic_load(&sh->fsm.last_commit_ts) >= view->read_ts)
        return replica_read_barrier(sh, err);
    store_encode_u64(view->read_ts, ts);
    fsm_entry_encode_raw(FSM_ENTRY_READ_TS, ts, sizeof ts, &buf);
    return replica_propose_buf(sh, buf, 0, answer_by_ms, &res, err);
}

/* The error of a transactional write the state machine refused. */
static int
txn_outcome_error(struct replica *sh, const struct fsm_result *res,
                  struct tl_error *err)
{
    if (res->outcome == FSM_LOCKED)
        return tl_error_set(err, TL_ELOCKED, TL_SQLSTATE_LOCK_NOT_AVAILABLE,
                            "could not obtain lock on row in shard %u",
                            sh->shard);
    return tl_error_set(err, TL_ECONFLICT,
                        TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                        "could not serialize access due to concurrent update");
}

static void
handle_scan(struct node *n, const Talus__Request *req, struct tl_arena *a,
            Talus__Response *resp)
{
    struct tl_error err;
    struct exec_scan_result r;
    struct exec_limits lim;
    struct mvcc_read view;
    struct replica *sh;
    int rv;

    tl_error_clear(&err);
    request_limits(n, req, exec_now_ms(), &lim);
    sh = admit(n, req, a, resp, false);
    if (sh == NULL)
        return;
    /* Linearizable: everything committed before this read arrived is
     * applied, and we still lead (a deposed leader's barrier fails). */
    view = shard_view(sh, req->txn);
    rv = confirm_read(sh, &view, lim.answer_by_ms, &err);
    if (rv != 0) {
        fail_on(a, resp, &err, rv, sh);
        return;
    }
    if (expired(sh, req, &lim, "scan", a, resp))
        return;
    rv = exec_scan(n->st, sh->fsm.cf, &view, req->scan, &lim, a, &r, &err);
    if (rv == TL_ETIMEOUT) {
        /* Given up inside the scan loop: the reply goes nowhere, but the
         * count and the log show the work stopped. */
        uint64_t total = atomic_fetch_add(&sh->n_expired, 1) + 1;
        tl_info("rpc",
                "event=scan_abandoned shard=%u request_id=%llu "
                "timeout_ms=%u total=%llu",
                sh->shard, (unsigned long long)req->request_id, req->timeout_ms,
                (unsigned long long)total);
        fail_on(a, resp, &err, TL_ETIMEOUT, sh);
        return;
    }
    if (rv != 0) {
        set_error(a, resp, &err, -1);
        return;
    }
    atomic_fetch_add(&sh->n_rows_read, r.n_rows);
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
        tl_error_set(err, TL_EDUPKEY, TL_SQLSTATE_UNIQUE_VIOLATION,
                     "duplicate key");
    else
        tl_error_set(err, TL_ECONFLICT, TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                     "write conflict");
}

static void
handle_write(struct node *n, Talus__Request *req, struct tl_arena *a,
             Talus__Response *resp)
{
    struct tl_error err;
    struct fsm_result res;
    struct replica *sh;
    int rv;

    struct exec_limits lim;
    tl_error_clear(&err);
    request_limits(n, req, exec_now_ms(), &lim);
    sh = admit(n, req, a, resp, true);
    if (sh == NULL)
        return;
    /* A write nobody waits for is not proposed. Refusing it is safe: this
     * attempt certainly did nothing, and an earlier attempt of the same
     * request id that was proposed is still recognised by the state
     * machine when the router sends it again. */
    if (expired(sh, req, &lim, "write", a, resp))
        return;
    /* The request id travels in the log so a retry can be recognised:
     * the batch's own id if the router set one, else the request's. */
    if (!req->write->has_request_id || req->write->request_id == 0) {
        req->write->has_request_id = true;
        req->write->request_id = req->request_id;
    }
    struct replica_write_ctx w = {sh, lim.answer_by_ms};
    struct lock_gate g;
    lock_gate_init(&g, sh, req, false, replica_propose, &w);
    if (req->txn != NULL)
        req->write->txn = req->txn; /* prewrite: locks, values pending */
    rv = lock_gate_propose(&g, req->write, &res, &err);
    if (req->txn != NULL)
        req->write->txn = NULL; /* freed with the request, not the batch */
    if (rv != 0) {
        fail_on(a, resp, &err, rv, sh);
        return;
    }
    if (res.outcome == FSM_LOCKED || res.outcome == FSM_CONFLICT) {
        txn_outcome_error(sh, &res, &err);
        if (res.outcome == FSM_LOCKED && res.mutation >= 0 &&
            (size_t)res.mutation < req->write->n_mutations) {
            const ProtobufCBinaryData *k =
                &req->write->mutations[res.mutation]->key;
            exec_note_lock_of(n->st, sh->fsm.cf, k->data, k->len, &err);
            lock_gate_done(&g, TL_ELOCKED, k, false, &err);
        }
        set_error(a, resp, &err, res.mutation);
        lock_gate_answer(&g, resp);
        return;
    }
    if (res.outcome == FSM_COND_FAILED) {
        write_cond_error(&res, &err);
        set_error(a, resp, &err, res.mutation);
        return;
    }
    if (res.outcome == FSM_STALE) {
        exec_stale_error(&err);
        fail_on(a, resp, &err, TL_ESTALE, sh);
        return;
    }
    if (res.outcome != FSM_OK) {
        tl_error_set(&err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                     "malformed write batch");
        set_error(a, resp, &err, -1);
        return;
    }
    lock_gate_done(&g, 0, NULL, false, &err);
    resp->has_count = true;
    resp->count = req->write->n_mutations;
}

/* The first phase of a modify over several shards: keep the batch
 * (exec_propose_fn) instead of proposing it, once it fits one entry. */
struct keep_ctx {
    struct replica *sh;
    uint64_t prepared_id;
};

static int
keep_batch(void *ctx, const Talus__WriteBatch *wb, struct fsm_result *res,
           struct tl_error *err)
{
    struct keep_ctx *k = ctx;
    struct node *n = node_of(k->sh);
    struct raft_buffer buf;

    fsm_entry_encode(wb, &buf);
    if (buf.len > n->cfg.max_entry_bytes) {
        size_t len = buf.len;
        raft_free(buf.base);
        return tl_cluster_entry_too_large(k->sh->shard, len,
                                          n->cfg.max_entry_bytes, err);
    }
    memset(res, 0, sizeof *res);
    res->outcome = FSM_OK;
    res->mutation = -1;
    res->affected = wb->has_affected ? wb->affected : 0;
    prepared_put(&n->prepared, k->prepared_id, k->sh->shard, buf, res->affected,
                 tl_clock_now_s());
    return 0;
}

/* The second phase: propose the batch kept by the first. 0 with *@count,
 * 1 when there is none any more or a condition of it failed (run the
 * modify from scratch), or an error. */
static int
propose_kept(struct node *n, struct replica *sh, uint64_t prepared_id,
             int64_t answer_by_ms, uint64_t *count, struct tl_error *err)
{
    struct raft_buffer buf;
    struct fsm_result res;
    uint64_t affected;
    int rv;

    if (!prepared_take(&n->prepared, prepared_id, sh->shard, &buf, &affected,
                       tl_clock_now_s()))
        return 1;
    rv = replica_propose_buf(sh, buf, prepared_id, answer_by_ms, &res, err);
    if (rv != 0)
        return rv;
    if (res.outcome != FSM_OK)
        return 1; /* changed since the first phase: scan again */
    *count = res.affected;
    return 0;
}

static void
handle_modify(struct node *n, const Talus__Request *req, struct tl_arena *a,
              Talus__Response *resp)
{
    const Talus__ModifyFragment *mf = req->modify;
    struct tl_error err;
    struct replica *sh;
    uint64_t count = 0;
    int rv;

    struct exec_limits lim;
    tl_error_clear(&err);
    request_limits(n, req, exec_now_ms(), &lim);
    sh = admit(n, req, a, resp, true);
    if (sh == NULL)
        return;
    /* The scan half must see every committed write (conditions catch the
     * rest, but a stale scan could miss rows entirely). */
    struct mvcc_read view = shard_view(sh, req->txn);
    rv = confirm_read(sh, &view, lim.answer_by_ms, &err);
    /* Expired before its batch was built: nothing proposed, as a write. */
    if (rv == 0 && expired(sh, req, &lim, "modify", a, resp))
        return;
    /* Read before the scan's iterator exists: every write at or below it
     * is visible to the scan (WriteBatch.read_index). */
    uint64_t read_index = fsm_applied(&sh->fsm);
    struct replica_write_ctx w = {sh, lim.answer_by_ms};
    /* Waiters for a row lock get it in arrival order (lock_gate.h). */
    ProtobufCBinaryData locked = {0, NULL};
    struct lock_gate g;
    if (rv == 0 && mf->has_lock_strength && mf->lock_strength != 0) {
        /* SELECT ... FOR UPDATE: a resend scans again (its own locks
         * show through) and its batch applies once (request id). */
        struct exec_scan_result r;
        lock_gate_init(&g, sh, req,
                       mf->has_lock_wait &&
                           mf->lock_wait ==
                               TALUS__MODIFY_FRAGMENT__LOCK_WAIT__SKIP_LOCKED,
                       replica_propose, &w);
        rv = exec_lock(n->st, sh->fsm.cf, &view, req->txn, mf, req->request_id,
                       read_index, lock_gate_propose, &g, a, &r, &locked, &err);
        lock_gate_done(&g, rv, &locked, false, &err);
        if (rv != 0) {
            fail_on(a, resp, &err, rv, sh);
            lock_gate_answer(&g, resp);
            return;
        }
        resp->rows = r.rows;
        resp->n_rows = r.n_rows;
        resp->has_count = true;
        resp->count = r.count;
        return;
    }
    struct keep_ctx k = {sh, mf->prepared_id};
    bool prepare = mf->prepare && mf->prepared_id != 0;
    lock_gate_init(&g, sh, req, false, prepare ? keep_batch : replica_propose,
                   prepare ? (void *)&k : (void *)&w);
    if (rv == 0 && prepare) {
        rv = exec_modify(n->st, sh->fsm.cf, &view, req->txn, mf,
                         req->request_id, read_index, lock_gate_propose, &g, a,
                         &count, &locked, &err);
    } else if (rv == 0) {
        struct fsm_result res;
        /* A retry of a modify whose batch is still in flight here: wait
         * for it rather than scan and propose it again. */
        rv = replica_wait_inflight(sh, req->request_id, lim.answer_by_ms, &res,
                                   &err);
        if (rv == 0 && res.outcome == FSM_OK)
            count = res.affected;
        else if (rv == 0)
            rv = 1; /* its condition failed: run it afresh */
        if (rv == 1)
            rv = mf->prepared_id != 0
                     ? propose_kept(n, sh, mf->prepared_id, lim.answer_by_ms,
                                    &count, &err)
                     : 1;
        if (rv == 1)
            rv = exec_modify(n->st, sh->fsm.cf, &view, req->txn, mf,
                             req->request_id, read_index, lock_gate_propose, &g,
                             a, &count, &locked, &err);
    }
    lock_gate_done(&g, rv, &locked, prepare, &err);
    if (rv != 0) {
        fail_on(a, resp, &err, rv, sh);
        lock_gate_answer(&g, resp);
        return;
    }
    resp->has_count = true;
    resp->count = count;
}

/* How a status request wants keys counted. */
enum keys_mode { KEYS_NONE, KEYS_ESTIMATE, KEYS_EXACT };

/* Time a status request may spend counting keys exactly, over all its
 * shards (then estimates): well inside shardctl's 1 s "slow" mark. */
#define STATUS_COUNT_BUDGET_NS (200 * 1000 * 1000ull)

static uint64_t
monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static Talus__ShardStatus *
shard_status(struct replica *sh, enum keys_mode keys, uint64_t deadline_ns,
             struct tl_arena *a)
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
    ss->has_n_lock_waiters = true;
    ss->n_lock_waiters = (uint32_t)lock_queue_count(&node_of(sh)->locks,
                                                    sh->shard, exec_now_ms());
    ss->has_n_scans = true;
    ss->n_scans = atomic_load(&sh->n_scans);
    ss->has_n_writes = true;
    ss->n_writes = atomic_load(&sh->n_writes);
    /* The exact count reads every key (seconds for millions, while the
     * caller waits): only tests ask for it. Operators get the estimate. */
    if (keys == KEYS_EXACT && sh->fsm.cf != NULL &&
        (sh->fsm.versioned
             ? mvcc_count_rows(sh->fsm.st, sh->fsm.cf, UINT64_MAX, 0,
                               &ss->n_keys)
             : store_count_keys(sh->fsm.st, sh->fsm.cf, &ss->n_keys)) == 0)
        ss->has_n_keys = true;
    bool estimated = false;
    /* Only a leader spends the time budget on an exact count: shardctl
     * shows the leader's view, a follower's only when there is none. */
    if (keys == KEYS_ESTIMATE && sh->fsm.cf != NULL &&
        store_estimate_keys(sh->fsm.st, sh->fsm.cf,
                            ss->is_leader ? deadline_ns : 0,
                            sh->fsm.versioned ? mvcc_count_rows : NULL,
                            &ss->n_keys, &estimated) == 0) {
        ss->has_n_keys = ss->has_keys_estimated = true;
        ss->keys_estimated = estimated;
    }
    pthread_mutex_lock(&sh->info_mu);
    ss->voters =
        tl_arena_alloc(a, (sh->info.n_voters + 1) * sizeof *ss->voters);
    memcpy(ss->voters, sh->info.voters, sh->info.n_voters * sizeof *ss->voters);
    ss->n_voters = sh->info.n_voters;
    ss->standbys =
        tl_arena_alloc(a, (sh->info.n_standbys + 1) * sizeof *ss->standbys);
    memcpy(ss->standbys, sh->info.standbys,
           sh->info.n_standbys * sizeof *ss->standbys);
    ss->n_standbys = sh->info.n_standbys;
    ss->has_term = ss->has_commit_index = ss->has_last_index = true;
    ss->term = sh->info.term;
    ss->commit_index = sh->info.commit_index;
    ss->last_index = sh->info.last_index;
    pthread_mutex_unlock(&sh->info_mu);
    ss->has_restoring = true;
    ss->restoring = atomic_load(&sh->fsm.restoring);
    ss->has_n_expired = true;
    ss->n_expired = atomic_load(&sh->n_expired);
    return ss;
}

static void
handle_status(struct node *n, const Talus__Request *req, struct tl_arena *a,
              Talus__Response *resp)
{
    const Talus__StatusRequest *sr = req->status;
    enum keys_mode keys = KEYS_NONE;
    if (sr->has_count_keys && sr->count_keys)
        keys = KEYS_EXACT;
    else if (sr->has_estimate_keys && sr->estimate_keys)
        keys = KEYS_ESTIMATE;
    uint64_t deadline_ns = monotonic_ns() + STATUS_COUNT_BUDGET_NS;
    resp->shards =
        tl_arena_alloc(a, (TL_MAX_SHARDS + 1) * sizeof *resp->shards);
    resp->n_shards = 0;
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++) {
        struct replica *sh = replica_get(&n->rs, s);
        if (sh != NULL)
            resp->shards[resp->n_shards++] =
                shard_status(sh, keys, deadline_ns, a);
    }
}

static void
handle_fetch(struct node *n, const Talus__Request *req, struct tl_arena *a,
             Talus__Response *resp)
{
    struct tl_error err;
    int code = 0;
    tl_error_clear(&err);
    restore_serve_fetch(&n->rs, req, a, resp, &err, &code);
    if (code != 0)
        set_error_code(a, resp, &err, -1, code, 0);
}

static void
handle_membership(struct node *n, const Talus__Request *req, struct tl_arena *a,
                  Talus__Response *resp)
{
    const Talus__MembershipRequest *m = req->membership;
    uint32_t timeout_ms =
        m->has_timeout_ms && m->timeout_ms > 0 ? m->timeout_ms : 30000;
    struct tl_error err;
    uint64_t hint = 0;
    int rv;

    tl_error_clear(&err);
    rv = replica_membership(&n->rs, (int)m->op, m->shard, m->node_id,
                            timeout_ms, &hint, &err);
    if (rv != 0) {
        if (hint == n->opts.id)
            hint = 0;
        set_error_code(a, resp, &err, -1, rv, hint);
        tl_info("rpc",
                "event=membership_failed op=%d shard=%u node=%u "
                "msg=\"%s\"",
                (int)m->op, m->shard, m->node_id, err.message);
    }
}

static void
handle_cluster_map(struct node *n, const Talus__Request *req,
                   struct tl_arena *a, Talus__Response *resp)
{
    struct tl_error err;
    int code = 0;
    tl_error_clear(&err);
    registry_serve(&n->meta, req, a, resp, &err, &code);
    if (code != 0)
        set_error_code(a, resp, &err, -1, code, 0);
}

/* Timestamps, from the meta group's leader only. */
static void
handle_tso(struct node *n, const Talus__Request *req, struct tl_arena *a,
           Talus__Response *resp)
{
    struct tl_error err;
    struct replica *sh;
    uint64_t first;
    int rv;

    tl_error_clear(&err);
    if (!req->has_shard || req->shard != TL_META_GROUP) {
        tl_error_set(&err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                     "timestamps come from the meta group (shard %u)",
                     TL_META_GROUP);
        set_error(a, resp, &err, -1);
        return;
    }
    sh = serving_shard(n, req, a, resp);
    if (sh == NULL)
        return;
    rv = tso_next(&n->meta.tso, sh, req->tso->count, &first, &err);
    if (rv != 0) {
        fail_on(a, resp, &err, rv, sh);
        return;
    }
    resp->has_timestamp = true;
    resp->timestamp = first;
}

/* Locks ended per transaction-end entry (TxnEndRequest.max_locks). */
enum { TXN_END_CHUNK = 2048 };

/* TxnEndRequest: commit or roll back a transaction's locks on the shard;
 * the count is the number of locks ended. */
static void
handle_txn_end(struct node *n, const Talus__Request *req, struct tl_arena *a,
               Talus__Response *resp)
{
    const Talus__TxnEndRequest *e = req->txn_end;
    struct tl_error err;
    struct fsm_result res;
    struct exec_limits lim;
    struct replica *sh;
    struct raft_buffer buf;
    size_t len;
    uint8_t *body;
    int rv;

    tl_error_clear(&err);
    request_limits(n, req, exec_now_ms(), &lim);
    sh = admit(n, req, a, resp, true);
    if (sh == NULL)
        return;
    if (!sh->fsm.versioned) {
        tl_error_set(&err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                     "shard %u holds no transactions", sh->shard);
        set_error(a, resp, &err, -1);
        return;
    }
    /* In chunks of TXN_END_CHUNK locks, one entry each, until a chunk
     * ends fewer: the applier (shared by every group of the node) is
     * never held for long by one huge transaction. The first chunk
     * carries the commit point; the record's commit is idempotent, so
     * every chunk carries the same request. */
    Talus__TxnEndRequest chunk = *e;
    uint64_t ended = 0;
    /* Past half the caller's wait, what is done is answered (Response.
     * more): a chunk never starts too late to answer in time. */
    int64_t start_ms = exec_now_ms();
    int64_t part_until_ms = req->has_timeout_ms && req->timeout_ms > 0
                                ? start_ms + req->timeout_ms / 2
                                : 0;
    chunk.has_max_locks = !e->has_rollback_to_seq;
    chunk.max_locks = chunk.has_max_locks ? TXN_END_CHUNK : 0;
    len = talus__txn_end_request__get_packed_size(&chunk);
    body = tl_arena_alloc(a, len + 1);
    talus__txn_end_request__pack(&chunk, body);
    do {
        fsm_entry_encode_raw(FSM_ENTRY_TXN_END, body, len, &buf);
        /* Ending twice is harmless (the second finds no lock); the
         * request id lets a retry wait for an end still being applied
         * instead of proposing another behind it. */
        rv = replica_propose_buf(sh, buf, req->request_id, lim.answer_by_ms,
                                 &res, &err);
        if (rv != 0) {
            fail_on(a, resp, &err, rv, sh);
            return;
        }
        if (res.outcome == FSM_OK)
            ended += res.affected;
        if (res.outcome == FSM_OK && chunk.has_max_locks &&
            res.affected == TXN_END_CHUNK && part_until_ms != 0 &&
            exec_now_ms() >= part_until_ms) {
            resp->has_more = true;
            resp->more = true;
            break;
        }
    } while (res.outcome == FSM_OK && chunk.has_max_locks &&
             res.affected == TXN_END_CHUNK);
    if (res.outcome == FSM_CONFLICT) {
        tl_error_set(&err, TL_ECONFLICT, TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                     "could not serialize access: the transaction was rolled "
                     "back while it waited");
        set_error(a, resp, &err, -1);
        return;
    }
    if (res.outcome == FSM_TS_TOO_LOW) {
        /* A reader pushed the record: commit again, later. The minimum
         * is in the record: answer it. */
        uint64_t ts = 0;
        tl_error_set(&err, TL_ESTALE, TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                     "commit timestamp below the transaction's minimum");
        if (e->has_record) {
            struct mvcc_lock lk;
            uint8_t *lb = NULL;
            if (mvcc_read_lock(n->st, sh->fsm.cf, e->record.data, e->record.len,
                               &lk, &lb) == 1)
                ts = lk.min_commit_ts;
            free(lb);
        }
        set_error_code(a, resp, &err, -1, TL_ESTALE, 0);
        resp->has_commit_ts = true;
        resp->commit_ts = ts;
        return;
    }
    if (res.outcome != FSM_OK) {
        tl_error_set(&err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                     "malformed transaction end");
        set_error(a, resp, &err, -1);
        return;
    }
    /* Ended: it waits for no row any more. */
    lock_queue_forget(&n->locks, e->start_ts);
    resp->has_count = true;
    resp->count = ended;
}

/* TxnStatusRequest: the transaction's fate from its record (a confirmed
 * read of the newest state). */
static void
handle_txn_status(struct node *n, const Talus__Request *req, struct tl_arena *a,
                  Talus__Response *resp)
{
    const Talus__TxnStatusRequest *q = req->txn_status;
    struct tl_error err;
    struct replica *sh;
    uint64_t commit_ts = 0;
    int rv;

    tl_error_clear(&err);
    sh = admit(n, req, a, resp, false);
    if (sh == NULL)
        return;
    int64_t now = (int64_t)(tl_clock_now_s() * 1000);
    if (q->has_register_wait && q->register_wait)
        txn_waits_set(&n->waits, req->shard, q->start_ts,
                      q->has_waits_for_ts ? q->waits_for_ts : 0,
                      q->has_waits_for_shard ? q->waits_for_shard : 0, now);
    if (q->has_push_ts && q->push_ts != 0 && sh->fsm.versioned) {
        /* One entry raises a pending record's minimum commit timestamp
         * above the reader (it also confirms, as a write does). */
        size_t len = talus__txn_status_request__get_packed_size(q);
        uint8_t *body = tl_arena_alloc(a, len + 1);
        struct raft_buffer buf;
        struct fsm_result res;
        talus__txn_status_request__pack(q, body);
        fsm_entry_encode_raw(FSM_ENTRY_PUSH, body, len, &buf);
        rv = replica_propose_buf(sh, buf, 0, 0, &res, &err);
    } else {
        rv = replica_read_barrier(sh, &err);
    }
    if (rv != 0) {
        fail_on(a, resp, &err, rv, sh);
        return;
    }
    rv = sh->fsm.versioned
             ? mvcc_txn_status(n->st, sh->fsm.cf, q->record.data, q->record.len,
                               q->start_ts, &commit_ts)
             : TL_EPROTO;
    if (rv < 0) {
        exec_storage_error(&err, "transaction status", tl_strerror(rv));
        set_error(a, resp, &err, -1);
        return;
    }
    resp->has_txn_state = true;
    resp->txn_state = rv == MVCC_LOCKED        ? 1
                      : rv == MVCC_OK          ? 2
                      : rv == MVCC_ROLLED_BACK ? 3
                                               : 0;
    resp->has_commit_ts = rv == MVCC_OK;
    resp->commit_ts = commit_ts;
    uint64_t wts;
    uint32_t wshard;
    if ((rv == MVCC_LOCKED || rv == MVCC_NO_LOCK) &&
        txn_waits_get(&n->waits, req->shard, q->start_ts, now, &wts, &wshard)) {
        resp->has_waits_for_ts = resp->has_waits_for_shard = true;
        resp->waits_for_ts = wts;
        resp->waits_for_shard = wshard;
    }
    if (rv != MVCC_LOCKED)
        return;
    /* Pending: who coordinates it. */
    struct mvcc_lock lk;
    uint8_t *buf = NULL;
    if (mvcc_read_lock(n->st, sh->fsm.cf, q->record.data, q->record.len, &lk,
                       &buf) == 1 &&
        lk.start_ts == q->start_ts) {
        resp->has_txn_owner = true;
        resp->txn_owner = lk.owner;
    }
    free(buf);
}

/* Rows per IndexBuildRequest chunk (one Raft entry) when the request
 * does not say. */
#define INDEX_BUILD_CHUNK 1000

/* IndexBuildRequest: find where the chunk ends (the leader reads the
 * newest rows), then propose it; the state machine raises the shard's
 * catalog fence and fills the chunk (node/store/index_fill.h). */
static void
handle_index_build(struct node *n, const Talus__Request *req,
                   struct tl_arena *a, Talus__Response *resp)
{
    const Talus__IndexBuildRequest *q = req->index_build;
    struct tl_error err;
    struct exec_limits lim;
    struct fsm_result res;
    struct tl_table *t = NULL;
    const struct tl_index *ix = NULL;
    struct replica *sh;
    struct tl_buf end;
    int rv;

    tl_error_clear(&err);
    request_limits(n, req, exec_now_ms(), &lim);
    sh = admit(n, req, a, resp, true);
    if (sh == NULL)
        return;
    if (!sh->fsm.versioned || tl_table_from_proto(q->table, &t, &err) != 0 ||
        (ix = tl_table_index_by_id(t, q->index_id)) == NULL) {
        tl_error_set(&err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                     "bad index build request for shard %u", sh->shard);
        set_error(a, resp, &err, -1);
        tl_table_destroy(t);
        return;
    }
    const void *start = q->has_resume_key ? q->resume_key.data : NULL;
    size_t start_len = q->has_resume_key ? q->resume_key.len : 0;
    tl_buf_init(&end);
    struct mvcc_read view = mvcc_read_at(MVCC_TS_LATEST);
    rv = confirm_read(sh, &view, lim.answer_by_ms, &err);
    if (rv == 0)
        rv = index_fill_chunk_end(n->st, sh->fsm.cf, t, start, start_len,
                                  q->max_rows ? q->max_rows : INDEX_BUILD_CHUNK,
                                  &end);
    if (rv == 1) {
        /* A transaction holds a row: wait for it (nothing proposed). */
        tl_error_set(&err, TL_ELOCKED, TL_SQLSTATE_LOCK_NOT_AVAILABLE,
                     "could not obtain lock on row in relation \"%s\"",
                     t->name);
        exec_note_lock_of(n->st, sh->fsm.cf, end.data, end.len, &err);
        set_error(a, resp, &err, -1);
        goto out;
    }
    if (rv == 0 && !expired(sh, req, &lim, "index build", a, resp)) {
        Talus__IndexBuildRequest chunk = *q;
        struct raft_buffer buf;
        chunk.has_end_key = end.len > 0;
        chunk.end_key.data = end.data;
        chunk.end_key.len = end.len;
        size_t len = talus__index_build_request__get_packed_size(&chunk);
        uint8_t *body = tl_arena_alloc(a, len + 1);
        talus__index_build_request__pack(&chunk, body);
        fsm_entry_encode_raw(FSM_ENTRY_INDEX_BUILD, body, len, &buf);
        rv = replica_propose_buf(sh, buf, req->request_id, lim.answer_by_ms,
                                 &res, &err);
    } else if (rv == 0) {
        goto out; /* answered: expired */
    }
    if (rv != 0) {
        fail_on(a, resp, &err, rv, sh);
        goto out;
    }
    if (res.outcome == FSM_LOCKED) {
        tl_error_set(&err, TL_ELOCKED, TL_SQLSTATE_LOCK_NOT_AVAILABLE,
                     "could not obtain lock on row in relation \"%s\"",
                     t->name);
        set_error(a, resp, &err, -1);
        goto out;
    }
    if (res.outcome == FSM_COND_FAILED) {
        index_fill_dup_error(n->st, sh->fsm.cf, t, ix, start, start_len,
                             (uint64_t)res.mutation, &err);
        set_error_code(a, resp, &err, -1, TL_EDUPKEY, 0);
        goto out;
    }
    if (res.outcome != FSM_OK) {
        tl_error_set(&err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                     "malformed index build request");
        set_error(a, resp, &err, -1);
        goto out;
    }
    resp->has_count = true;
    resp->count = res.affected;
    if (end.len > 0) {
        resp->has_resume_key = true;
        resp->resume_key.data = tl_arena_alloc(a, end.len);
        memcpy(resp->resume_key.data, end.data, end.len);
        resp->resume_key.len = end.len;
    }
out:
    tl_buf_close(&end);
    tl_table_destroy(t);
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
    case TALUS__REQUEST__BODY_FETCH:
        handle_fetch(n, req, a, resp);
        break;
    case TALUS__REQUEST__BODY_MEMBERSHIP:
        handle_membership(n, req, a, resp);
        break;
    case TALUS__REQUEST__BODY_CLUSTER_MAP:
        handle_cluster_map(n, req, a, resp);
        break;
    case TALUS__REQUEST__BODY_TSO:
        handle_tso(n, req, a, resp);
        break;
    case TALUS__REQUEST__BODY_TXN_END:
        handle_txn_end(n, req, a, resp);
        break;
    case TALUS__REQUEST__BODY_TXN_STATUS:
        handle_txn_status(n, req, a, resp);
        break;
    case TALUS__REQUEST__BODY_INDEX_BUILD:
        handle_index_build(n, req, a, resp);
        break;
    default:
        tl_error_clear(&err);
        tl_error_set(&err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                     "unknown request body %d", (int)req->body_case);
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
        tl_error_set(&err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                     "undecodable request");
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
