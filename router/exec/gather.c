/* gather — scatter requests to shards in parallel and gather the replies.
 *
 * Every call of a round is started before any is waited for, so a round
 * costs the slowest shard, not the sum. Scans that return a resume key run
 * more rounds, only on the shards that have more. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "router/core/catalog.h"
#include "router/core/router_int.h"
#include "router/core/router_metrics.h"
#include "router/core/tso_client.h"
#include "router/exec/gather.h"
#include "router/plan/plan.h"
#include "router/sql/sql_int.h"
#include "router/txn/coord.h"
#include "router/txn/txn.h"

/* The deadline of a call started now: the statement's (statement_timeout)
 * if it has one, else router_default_deadline(), so that a leaderless
 * shard never holds a statement for long. */
static int64_t
call_deadline(const struct sql_stmt *st)
{
    return st->deadline_ms > 0 ? st->deadline_ms
                               : router_default_deadline(st->r);
}

/* Start the next attempt of @c; false (the call settled as failed) when
 * its deadline has passed or the request could not be sent. */
static bool
start_call(struct sql_stmt *st, struct gather_call *c, struct tl_rpc_call **p)
{
    int timeout_ms;
    struct tl_rpc_client *cl =
        tl_client_retry_client(&st->r->client, &c->retry, &timeout_ms);
    c->resp = NULL;
    /* The version this statement planned with; raised after a stale
     * refusal once the table was found unchanged. */
    uint64_t now = catalog_version(st->r->catalog);
    c->req.has_map_version = 1;
    c->req.map_version = st->catalog_version != 0 && c->retry.n_stale == 0
                             ? st->catalog_version
                             : now;
    if (cl == NULL) {
        c->retry.failed = true;
        c->rv = tl_client_retry_error(&st->r->client, &c->retry, NULL);
        return false;
    }
    /* A resent modify whose earlier attempt may have been applied: the
     * node must ask its state machine even if nothing matches any more. */
    if (c->req.body_case == TALUS__REQUEST__BODY_MODIFY && c->retry.unknown) {
        c->req.modify->has_retry = 1;
        c->req.modify->retry = 1;
    }
    /* The node gives up when this router stops waiting: a read sent
     * again after a timeout never runs beside its first attempt. */
    c->req.has_timeout_ms = 1;
    c->req.timeout_ms = (uint32_t)timeout_ms;
    if (c->lock_wait_until != 0) {
        /* Waiting for a row lock: the node keeps our place in the row's
         * queue until we stop asking. */
        int64_t until = c->lock_wait_until;
        if (c->retry.deadline_ms > 0 && c->retry.deadline_ms < until)
            until = c->retry.deadline_ms;
        int64_t left = until - router_now_ms();
        c->req.has_lock_wait_ms = 1;
        c->req.lock_wait_ms = left > 1 ? (uint32_t)left : 1;
    }
    c->rv = tl_rpc_call_start(cl, &c->req, timeout_ms, p);
    return c->rv == 0;
}

static void
replace_str(char **field, const char *s)
{
    free(*field);
    *field = NULL;
    if (s != NULL && s[0] != '\0') {
        *field = strdup(s);
        if (*field == NULL)
            abort();
    }
}

/* Make node error @pe (of an unpacked response) say @e. */
static void
replace_error(Talus__Error *pe, const struct tl_error *e)
{
    replace_str(&pe->sqlstate, e->sqlstate);
    replace_str(&pe->message, e->message);
    replace_str(&pe->detail, e->detail);
    replace_str(&pe->hint, e->hint);
    replace_str(&pe->table_name, e->table);
    replace_str(&pe->constraint_name, e->constraint);
    pe->has_code = true;
    pe->code = TL_ECONFLICT;
    pe->has_lock_ts = false;
}

/* Judge the finished attempt of @c: true when it must be sent again (at
 * c->retry.next_at_ms); otherwise rv/resp hold its final result. */
static bool
judge_call(struct sql_stmt *st, struct gather_call *c)
{
    const Talus__Error *e = c->resp != NULL ? c->resp->error : NULL;
    if (e != NULL && e->has_code && e->code == TL_ELOCKED && e->has_lock_ts &&
        e->lock_ts != 0 && c->req.body_case == TALUS__REQUEST__BODY_SCAN &&
        c->req.txn != NULL) {
        /* A snapshot read never waits: the writer's commit is pushed
         * above it, and the read skips its pending rows. */
        Talus__TxnInfo *t = c->req.txn;
        uint64_t read_ts =
            t->has_read_ts && t->read_ts ? t->read_ts : t->start_ts;
        struct tl_error rerr;
        tl_error_clear(&rerr);
        int r = txn_read_past(st->r, e->lock_ts, e->lock_shard, c->shard,
                              read_ts, &rerr);
        if (r == 2) {
            uint64_t *ig =
                tl_arena_alloc(st->a, (t->n_ignore_locks + 1) * sizeof(*ig));
            if (t->n_ignore_locks > 0)
                memcpy(ig, t->ignore_locks, t->n_ignore_locks * sizeof(*ig));
            ig[t->n_ignore_locks] = e->lock_ts;
            t->ignore_locks = ig;
            t->n_ignore_locks++;
        }
        if (r > 0 && t->n_ignore_locks < 1000) {
            /* Read again at once (2: past the writer; 1: it ended). */
            talus__response__free_unpacked(c->resp, NULL);
            c->resp = NULL;
            c->retry.next_at_ms = router_now_ms();
            return true;
        }
    }
    if (e != NULL && e->has_code && e->code == TL_ELOCKED) {
        /* A transaction holds a row: wait for it to end (the request did
         * nothing), as long as the statement may. */
        int64_t now = router_now_ms();
        if (c->lock_wait_until == 0) {
            c->lock_wait_until =
                now + (st->lock_timeout_ms > 0 ? st->lock_timeout_ms
                                               : GATHER_LOCK_WAIT_MS);
            c->lock_resolve_at = now + GATHER_LOCK_RESOLVE_MS;
        }
        if (e->has_lock_ts && e->lock_ts != 0 && now >= c->lock_resolve_at) {
            /* Waited a while: a dead transaction's locks are resolved
             * through its record, and the request goes again; a live
             * one may be waiting for us (deadlock detection). One ahead
             * of us in the row's queue (lock_queued) holds nothing to
             * resolve, and its place lapses if it stopped waiting. */
            struct tl_error rerr;
            tl_error_clear(&rerr);
            c->lock_resolve_at = now + GATHER_LOCK_RESOLVE_MS;
            int r = e->has_lock_queued && e->lock_queued
                        ? 0
                        : txn_resolve(st->r, e->lock_ts, e->lock_shard,
                                      c->shard, &rerr);
            if (r == 1) {
                talus__response__free_unpacked(c->resp, NULL);
                c->resp = NULL;
                c->retry.next_at_ms = now;
                return true;
            }
            if (r == 0 && st->txn != NULL) {
                c->wait_registered = st->txn->has_primary;
                if (txn_wait_check(st->txn, e->lock_ts, e->lock_shard, &rerr) ==
                    TL_ECONFLICT) {
                    replace_error(c->resp->error, &rerr);
                    return false;
                }
            }
        }
        /* Stop with time to spare: an attempt still in flight at the
         * deadline would leave a write's outcome unknown (08007). */
        int retry_ms = e->has_lock_next && e->lock_next
                           ? GATHER_LOCK_NEXT_RETRY_MS
                           : GATHER_LOCK_RETRY_MS;
        if (now + GATHER_LOCK_RETRY_MS < c->lock_wait_until &&
            now + GATHER_LOCK_RETRY_MS + GATHER_LOCK_MARGIN_MS <
                c->retry.deadline_ms) {
            talus__response__free_unpacked(c->resp, NULL);
            c->resp = NULL;
            c->retry.next_at_ms = now + retry_ms;
            return true;
        }
        if (st->lock_timeout_ms > 0 &&
            now + GATHER_LOCK_RETRY_MS >= c->lock_wait_until) {
            /* PostgreSQL's words when lock_timeout ends the wait. */
            Talus__Error *pe = c->resp->error;
            free(pe->message);
            pe->message = strdup("canceling statement due to lock timeout");
            if (pe->message == NULL)
                abort();
        }
        return false;
    }
    enum tl_client_verdict v =
        tl_client_retry_next(&st->r->client, &c->retry, c->rv, c->resp);
    if (v == TL_CLIENT_DONE)
        return false;
    if (c->resp != NULL)
        talus__response__free_unpacked(c->resp, NULL);
    c->resp = NULL;
    if (v == TL_CLIENT_FAILED) {
        c->rv = tl_client_retry_error(&st->r->client, &c->retry, NULL);
        tl_info("exec", "event=call_failed shard=%u unknown=%d why=\"%s\"",
                c->shard, (int)c->retry.unknown, c->retry.why);
        return false;
    }
    return true;
}

/* Whether a CancelRequest stopped the statement; the first time, st->err
 * gets the 57014 and st->interrupted is set. (statement_timeout needs no
 * check here: it is every call's deadline, and tl_client_retry_error() says
 * 57014 when it ran out on a leader that was working or before a request
 * went out, 40001 only when no leader was known.) */
static bool
interrupted(struct sql_stmt *st)
{
    if (!st->interrupted && sql_cancel_requested(st)) {
        sql_check_interrupts(st);
        st->interrupted = true;
    }
    return st->interrupted;
}

/* A call the statement stopped before it settled. */
static void
settle_interrupted(struct gather_call *c)
{
    if (c->resp != NULL)
        talus__response__free_unpacked(c->resp, NULL);
    c->resp = NULL;
    c->rv = TL_ETIMEOUT;
    c->interrupted = true;
}

/* Under talus.as_of (time travel) a data shard's request reads at
 * @as_of: a transaction's or a snapshot's view moved back, or a snapshot
 * of its own (writes are refused before any request is built). */
static void
read_as_of(struct sql_stmt *st, struct gather_call *c, uint64_t as_of)
{
    if (c->shard == TL_META_GROUP || c->shard >= TL_MAX_SHARDS)
        return;
    if (c->req.txn == NULL) {
        c->req.txn = tl_arena_alloc(st->a, sizeof(*c->req.txn));
        talus__txn_info__init(c->req.txn);
        c->req.txn->start_ts = as_of;
    }
    c->req.txn->has_read_ts = 1;
    c->req.txn->read_ts = as_of;
}

/* Call states in gather_run(). */
enum {
    CALL_SETTLED,  /* rv/resp (or interrupted) hold the result */
    CALL_INFLIGHT, /* an attempt is running */
    CALL_WAITING,  /* to be sent again at retry.next_at_ms */
};

void
gather_run(struct sql_stmt *st, struct gather_call *calls, size_t n)
{
    struct tl_rpc_call **pending = calloc(n ? n : 1, sizeof(*pending));
    unsigned char *state = calloc(n ? n : 1, 1);
    if (pending == NULL || state == NULL)
        abort();
    int64_t deadline = call_deadline(st);
    bool stop = interrupted(st);
    uint64_t as_of = sql_stmt_as_of(st);
    for (size_t i = 0; i < n; i++) {
        struct gather_call *c = &calls[i];
        /* A preset id ties calls together (the two phases of a modify). */
        if (c->req.request_id == 0)
            c->req.request_id = tl_rpc_next_id();
        c->req.has_shard = 1;
        c->req.shard = c->shard;
        if (st->txn != NULL && c->req.txn == NULL)
            c->req.txn = txn_coord_info(
                st->txn, c->shard,
                c->req.body_case == TALUS__REQUEST__BODY_WRITE ||
                    c->req.body_case == TALUS__REQUEST__BODY_MODIFY,
                st->a);
        if (as_of != 0)
            read_as_of(st, c, as_of);
        if (c->req.body_case == TALUS__REQUEST__BODY_WRITE) {
            c->req.write->has_request_id = 1;
            c->req.write->request_id = c->req.request_id;
        }
        tl_client_retry_init(&st->r->client, &c->retry, c->shard,
                             tl_client_op_of(&c->req), deadline);
        router_metrics_shard_call(st->r);
        c->retry.table_id = router_request_table(&c->req);
        c->retry.table_schema = c->schema_version != 0
                                    ? c->schema_version
                                    : router_request_schema(&c->req);
        c->retry.stmt_deadline = st->deadline_ms > 0;
        if (stop) {
            settle_interrupted(c);
            state[i] = CALL_SETTLED;
            continue;
        }
        state[i] =
            start_call(st, c, &pending[i]) ? CALL_INFLIGHT : CALL_SETTLED;
    }
    for (;;) {
        size_t n_inflight = 0, first = 0;
        int64_t next_at = INT64_MAX;
        for (size_t i = 0; i < n; i++) {
            struct gather_call *c = &calls[i];
            if (state[i] == CALL_INFLIGHT && tl_rpc_call_done(pending[i], 0)) {
                c->rv = tl_rpc_call_wait(pending[i], &c->resp);
                if (stop && c->retry.op == TL_CLIENT_READ)
                    state[i] = CALL_WAITING; /* abandoned: settled below */
                else
                    state[i] = judge_call(st, c) ? CALL_WAITING : CALL_SETTLED;
            }
            if (state[i] == CALL_WAITING && stop) {
                /* Not sent again: a write's unknown outcome stays in
                 * retry.unknown and wins over the 57014. */
                settle_interrupted(c);
                state[i] = CALL_SETTLED;
            }
            if (state[i] == CALL_INFLIGHT && n_inflight++ == 0)
                first = i;
            if (state[i] == CALL_WAITING && c->retry.next_at_ms < next_at)
                next_at = c->retry.next_at_ms;
        }
        if (n_inflight == 0 && next_at == INT64_MAX)
            break;
        int64_t now = router_now_ms();
        int wait = GATHER_WAIT_SLICE_MS;
        if (next_at != INT64_MAX && next_at - now < wait)
            wait = next_at - now > 0 ? (int)(next_at - now) : 0;
        if (n_inflight > 0)
            tl_rpc_call_done(pending[first], wait);
        else if (wait > 0)
            usleep((useconds_t)wait * 1000);
        if (!stop && interrupted(st)) {
            stop = true;
            tl_debug("exec", "event=interrupted inflight=%zu msg=\"%s\"",
                     n_inflight, st->err.message);
        }
        /* Reads nobody needs any more are abandoned at once (the node
         * stops them at their own timeout); writes run to their end so
         * that their outcome is known. Aborts can be lost in a race with
         * the call's own progress: repeat them every turn. */
        for (size_t i = 0; stop && i < n; i++)
            if (state[i] == CALL_INFLIGHT &&
                calls[i].retry.op == TL_CLIENT_READ)
                tl_rpc_call_abort(pending[i]);
        if (stop)
            continue;
        /* Same request ids: a node that did see the request recognises a
         * retried write. */
        now = router_now_ms();
        for (size_t i = 0; i < n; i++)
            if (state[i] == CALL_WAITING && calls[i].retry.next_at_ms <= now)
                state[i] = start_call(st, &calls[i], &pending[i])
                               ? CALL_INFLIGHT
                               : CALL_SETTLED;
    }
    /* Waits that ended are no longer edges of the wait-for graph. */
    for (size_t i = 0; i < n; i++) {
        if (!calls[i].wait_registered || st->txn == NULL)
            continue;
        struct tl_error rerr;
        tl_error_clear(&rerr);
        txn_wait_register(st->txn, 0, 0, &rerr);
        break;
    }
    free(pending);
    free(state);
}

int
gather_check(struct sql_stmt *st, const struct gather_call *call)
{
    if (call->interrupted) {
        /* A read abandoned, or a write not sent again: the statement's
         * 57014, unless a write may have been applied. */
        if (call->retry.unknown)
            return tl_client_retry_error(&st->r->client, &call->retry,
                                         &st->err);
        return TL_ETIMEOUT;
    }
    if (call->retry.failed)
        return tl_client_retry_error(&st->r->client, &call->retry, &st->err);
    return router_call_result(st->r, call->shard, call->rv, call->resp,
                              &st->err);
}

void
gather_release(struct gather_call *calls, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (calls[i].resp != NULL)
            talus__response__free_unpacked(calls[i].resp, NULL);
        calls[i].resp = NULL;
    }
}

int
gather_txn_begin(struct sql_stmt *st)
{
    if (st->txn != NULL || st->s == NULL || st->s->txn == NULL)
        return 0;
    struct txn_coord *c = &st->s->txn->coord;
    if (c->r == NULL || c->active)
        return 0;
    int rv = txn_coord_statement(c, true, st->deadline_ms, &st->err);
    if (rv != 0)
        return rv;
    st->txn = c;
    st->txn_implicit = true;
    return 0;
}

int
gather_txn_end(struct sql_stmt *st, int rv)
{
    if (!st->txn_implicit)
        return rv;
    struct txn_coord *c = st->txn;
    st->txn = NULL;
    st->txn_implicit = false;
    if (rv != 0) {
        txn_coord_rollback(c);
        return rv;
    }
    return txn_coord_commit(c, &st->err);
}

/* Per-shard state of a paged scan. */
struct scan_shard {
    Talus__ScanFragment frag; /* shallow copy with this shard's resume key */
    bool done;
};

/* Feed the rows of @resp to @cb; remember the resume key. 1 when @cb
 * asked to stop. */
static int
consume(struct sql_stmt *st, struct scan_shard *ss, Talus__Response *resp,
        gather_row_cb cb, void *arg, uint64_t *count)
{
    if (count != NULL && resp->has_count)
        *count += resp->count;
    for (size_t i = 0; cb != NULL && i < resp->n_rows; i++) {
        int rv = cb(st, resp->rows[i].data, resp->rows[i].len, arg);
        if (rv != 0)
            return rv;
    }
    if (resp->has_resume_key && resp->resume_key.len > 0) {
        uint8_t *k = tl_arena_alloc(st->a, resp->resume_key.len);
        memcpy(k, resp->resume_key.data, resp->resume_key.len);
        ss->frag.has_resume_key = 1;
        ss->frag.resume_key.data = k;
        ss->frag.resume_key.len = resp->resume_key.len;
    } else {
        ss->done = true;
    }
    return 0;
}

/* One round over the shards not done. */
static int
scan_round(struct sql_stmt *st, struct scan_shard *ss, const uint32_t *shards,
           size_t n_shards, struct gather_call *calls, Talus__TxnInfo *snap,
           gather_row_cb cb, void *arg, uint64_t *count, bool *more)
{
    size_t n = 0;
    for (size_t i = 0; i < n_shards; i++) {
        if (ss[i].done)
            continue;
        memset(&calls[n], 0, sizeof(calls[n]));
        talus__request__init(&calls[n].req);
        calls[n].shard = shards[i];
        calls[n].req.body_case = TALUS__REQUEST__BODY_SCAN;
        calls[n].req.scan = &ss[i].frag;
        calls[n].req.txn = snap;
        n++;
    }
    gather_run(st, calls, n);
    int rv = 0;
    for (size_t i = 0; i < n && rv == 0; i++)
        rv = gather_check(st, &calls[i]);
    size_t k = 0;
    for (size_t i = 0; i < n_shards && rv == 0; i++) {
        if (ss[i].done)
            continue;
        rv = consume(st, &ss[i], calls[k++].resp, cb, arg, count);
    }
    gather_release(calls, n);
    *more = false;
    for (size_t i = 0; i < n_shards; i++)
        *more = *more || !ss[i].done;
    return rv;
}

/* The fragment's ranges for the @i-th target shard of @p. */
static void
shard_ranges(const struct plan *p, size_t i, Talus__ScanFragment *f)
{
    if (p->shard_ranges == NULL)
        return;
    f->ranges = p->shard_ranges[i];
    f->n_ranges = p->n_shard_ranges[i];
}

int
gather_scan(struct sql_stmt *st, const struct plan *p,
            const Talus__ScanFragment *frag, gather_row_cb cb, void *arg,
            uint64_t *count)
{
    const uint32_t *shards = p->shards;
    size_t n_shards = p->n_shards;
    if (count != NULL)
        *count = 0;
    if (n_shards == 0)
        return 0;
    struct scan_shard *ss = tl_arena_calloc(st->a, n_shards * sizeof(*ss));
    struct gather_call *calls =
        tl_arena_calloc(st->a, n_shards * sizeof(*calls));
    for (size_t i = 0; i < n_shards; i++) {
        ss[i].frag = *frag;
        shard_ranges(p, i, &ss[i].frag);
    }
    Talus__TxnInfo *snap = NULL;
    if (st->txn == NULL && (n_shards > 1 || st->snapshot_always)) {
        /* Several shards (or scans) outside a transaction: one snapshot
         * for all. */
        if (st->snapshot_ts == 0) {
            int r = tso_client_get_until(st->r->tso, st->deadline_ms,
                                         &st->snapshot_ts, &st->err);
            if (r != 0)
                return r;
        }
        snap = tl_arena_alloc(st->a, sizeof(*snap));
        talus__txn_info__init(snap);
        snap->start_ts = st->snapshot_ts;
        snap->has_read_ts = 1;
        snap->read_ts = st->snapshot_ts;
    }
    bool more = true;
    int rv = 0;
    while (more && rv == 0)
        rv = scan_round(st, ss, shards, n_shards, calls, snap, cb, arg, count,
                        &more);
    return rv < 0 ? rv : 0; /* 1: the callback stopped the scan */
}

/* The first phase of a modify over several shards: every shard builds its
 * batch and keeps it under the call's id (ModifyFragment.prepare), so one
 * too large for max_entry_bytes fails the statement (54000) before any
 * shard writes. The second phase reuses each call's id as request id and
 * prepared_id, so the kept batch is the one proposed (or, if the node lost
 * it, the modify runs again under the same id and still applies once). */
static int
modify_prepare(struct sql_stmt *st, const uint32_t *shards, size_t n,
               Talus__ModifyFragment *mods, uint64_t *ids)
{
    struct gather_call *calls = tl_arena_calloc(st->a, n * sizeof(*calls));
    int rv = 0;

    for (size_t i = 0; i < n; i++) {
        talus__request__init(&calls[i].req);
        calls[i].shard = shards[i];
        calls[i].req.body_case = TALUS__REQUEST__BODY_MODIFY;
        calls[i].req.modify = &mods[i];
        mods[i].has_prepare = mods[i].prepare = 1;
        mods[i].has_prepared_id = 1;
        mods[i].prepared_id = ids[i] = tl_rpc_next_id();
        calls[i].req.request_id = ids[i];
    }
    gather_run(st, calls, n);
    for (size_t i = 0; i < n && rv == 0; i++)
        rv = gather_check(st, &calls[i]);
    gather_release(calls, n);
    for (size_t i = 0; i < n; i++)
        mods[i].has_prepare = mods[i].prepare = 0;
    return rv;
}

int
gather_modify(struct sql_stmt *st, const struct plan *p,
              const Talus__ModifyFragment *mod, uint64_t *count,
              uint64_t *per_shard)
{
    const uint32_t *shards = p->shards;
    size_t n_shards = p->n_shards;
    uint64_t *ids = NULL;
    *count = 0;
    if (n_shards == 0)
        return 0;
    Talus__ModifyFragment *mods =
        tl_arena_calloc(st->a, n_shards * sizeof(*mods));
    Talus__ScanFragment *scans =
        tl_arena_calloc(st->a, n_shards * sizeof(*scans));
    struct gather_call *calls =
        tl_arena_calloc(st->a, n_shards * sizeof(*calls));
    for (size_t i = 0; i < n_shards; i++) {
        mods[i] = *mod;
        scans[i] = *mod->scan;
        shard_ranges(p, i, &scans[i]);
        mods[i].scan = &scans[i];
    }
    int rv = 0;
    if (n_shards > 1) {
        ids = tl_arena_calloc(st->a, n_shards * sizeof(*ids));
        rv = modify_prepare(st, shards, n_shards, mods, ids);
        if (rv != 0)
            return rv;
    }
    size_t n = n_shards;
    uint32_t *idx = tl_arena_alloc(st->a, n_shards * sizeof(*idx));
    for (size_t i = 0; i < n_shards; i++)
        idx[i] = (uint32_t)i;
    while (n > 0 && rv == 0) {
        for (size_t i = 0; i < n; i++) {
            memset(&calls[i], 0, sizeof(calls[i]));
            talus__request__init(&calls[i].req);
            calls[i].shard = shards[idx[i]];
            calls[i].req.body_case = TALUS__REQUEST__BODY_MODIFY;
            calls[i].req.modify = &mods[idx[i]];
            if (ids != NULL)
                calls[i].req.request_id = ids[idx[i]];
        }
        gather_run(st, calls, n);
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            int r2 = gather_check(st, &calls[i]);
            if (r2 != 0) {
                if (rv == 0)
                    rv = r2;
                continue;
            }
            Talus__Response *resp = calls[i].resp;
            *count += resp->count;
            if (per_shard != NULL)
                per_shard[idx[i]] += resp->count;
            if (resp->has_resume_key && resp->resume_key.len > 0) {
                Talus__ScanFragment *sf = &scans[idx[i]];
                sf->has_resume_key = 1;
                sf->resume_key.data =
                    tl_arena_alloc(st->a, resp->resume_key.len);
                memcpy(sf->resume_key.data, resp->resume_key.data,
                       resp->resume_key.len);
                sf->resume_key.len = resp->resume_key.len;
                idx[m++] = idx[i];
            }
        }
        gather_release(calls, n);
        n = m;
        /* Later pages (if a node pages) are new writes with new ids. */
        for (size_t i = 0; ids != NULL && i < n_shards; i++)
            mods[i].has_prepared_id = 0, mods[i].prepared_id = 0;
        ids = NULL;
    }
    return rv;
}

int
gather_write(struct sql_stmt *st, uint32_t shard, Talus__Mutation **muts,
             size_t n, Talus__Response **resp)
{
    Talus__WriteBatch *wb = tl_arena_alloc(st->a, sizeof(*wb));
    talus__write_batch__init(wb);
    wb->n_mutations = n;
    wb->mutations = muts;
    struct gather_call call;
    memset(&call, 0, sizeof(call));
    talus__request__init(&call.req);
    call.shard = shard;
    call.req.body_case = TALUS__REQUEST__BODY_WRITE;
    call.req.write = wb;
    gather_run(st, &call, 1);
    int rv = gather_check(st, &call);
    if (resp != NULL)
        *resp = call.resp;
    else
        gather_release(&call, 1);
    return rv;
}
