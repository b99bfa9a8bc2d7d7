/* coord — see coord.h. */
#include "router/txn/coord.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "common/base/sqlstate.h"
#include "log.h"
#include "router/core/incarnation.h"
#include "router/core/router.h"
#include "router/core/router_int.h"
#include "router/core/tso_client.h"
#include "rpc.h"

static int64_t
wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
txn_coord_init(struct txn_coord *c, struct router *r)
{
    memset(c, 0, sizeof *c);
    c->r = r;
}

static void
reset(struct txn_coord *c)
{
    struct router *r = c->r;
    uint32_t sp = c->savepoint_seq;
    if (c->active)
        incarnation_txn_close(r, c->start_ts); /* no longer holds GC */
    txn_coord_init(c, r);
    c->savepoint_seq = sp; /* the block's, not the transaction's */
}

int
txn_coord_statement(struct txn_coord *c, bool read_committed,
                    int64_t deadline_ms, struct tl_error *err)
{
    uint64_t ts;
    int rv;

    c->seq++;
    if (c->active && !read_committed)
        return 0;
    rv = tso_client_get_until(c->r->tso, deadline_ms, &ts, err);
    if (rv != 0)
        return rv;
    if (!c->active) {
        c->active = true;
        c->read_committed = read_committed;
        c->start_ts = ts;
        incarnation_txn_open(c->r, ts); /* holds the GC safe point */
    }
    c->read_ts = ts;
    return 0;
}

/* The record key of a transaction started at @ts with primary @shard. */
static void
record_key(uint8_t out[TXN_RECORD_KEY_LEN], uint32_t shard, uint64_t ts)
{
    out[0] = 0xFE;
    for (int i = 0; i < 4; i++)
        out[1 + i] = (uint8_t)(shard >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        out[5 + i] = (uint8_t)(ts >> (56 - 8 * i));
}

Talus__TxnInfo *
txn_coord_info(struct txn_coord *c, uint32_t shard, bool is_write,
               struct tl_arena *a)
{
    Talus__TxnInfo *t;

    if (c == NULL || !c->active || shard == TL_META_GROUP ||
        shard >= TL_MAX_SHARDS)
        return NULL;
    t = tl_arena_alloc(a, sizeof *t);
    talus__txn_info__init(t);
    t->start_ts = c->start_ts;
    t->has_read_ts = true;
    t->read_ts = c->read_ts;

    t->has_owner = c->r->incarnation != NULL;
    t->owner = t->has_owner ? incarnation_current(c->r->incarnation) : 0;
    t->has_ttl_ms = true;
    t->ttl_ms = TXN_LOCK_TTL_MS;
    t->has_read_committed = c->read_committed;
    t->read_committed = c->read_committed;
    t->has_seq = true;
    t->seq = c->seq;
    t->has_savepoint_seq = c->savepoint_seq > 0;
    t->savepoint_seq = c->savepoint_seq;
    if (is_write) {
        if (!c->has_primary) {
            c->has_primary = true;
            c->primary_shard = shard;
            record_key(c->record, shard, c->start_ts);
        }
        t->has_primary = true;
        t->primary.data = c->record;
        t->primary.len = sizeof c->record;
        /* Every request to the primary shard locks the record until one
         * is known to have been sent: a prewrite that finds the lock
         * adds nothing. */
        if (shard == c->primary_shard) {
            t->has_lock_primary = true;
            t->lock_primary = true;
        }
        c->wrote[shard / 64] |= UINT64_C(1) << (shard % 64);
    }
    return t;
}

/* End the transaction on @shard: commit at @commit_ts, 0: roll back. */
static int
end_txn(struct router *r, uint64_t start_ts, const uint8_t *record,
        uint32_t shard, uint64_t commit_ts, const uint32_t *to_seq,
        uint64_t *n_ended, struct tl_error *err)
{
    Talus__Request req;
    Talus__TxnEndRequest e;
    Talus__Response *resp = NULL;
    int rv;

    talus__request__init(&req);
    talus__txn_end_request__init(&e);
    e.start_ts = start_ts;
    if (record != NULL) {
        e.has_record = true;
        e.record.data = (uint8_t *)record;
        e.record.len = TXN_RECORD_KEY_LEN;
    }
    e.has_commit_ts = to_seq == NULL;
    e.commit_ts = commit_ts;
    e.has_rollback_to_seq = to_seq != NULL;
    e.rollback_to_seq = to_seq != NULL ? *to_seq : 0;
    req.has_shard = true;
    req.shard = shard;
    req.body_case = TALUS__REQUEST__BODY_TXN_END;
    req.txn_end = &e;
    uint64_t total = 0;
    for (;;) {
        /* Ending a transaction twice is harmless: retried like a read.
         * A large one ends in parts (Response.more), each call going on
         * where the last stopped. */
        req.request_id = tl_rpc_next_id();
        rv = router_call(r, shard, &req, true, &resp);
        if (rv != 0 || resp->error != NULL || !resp->has_more || !resp->more)
            break;
        total += resp->has_count ? resp->count : 0;
        talus__response__free_unpacked(resp, NULL);
        resp = NULL;
    }
    if (rv == 0 && resp->error != NULL && resp->error->has_code &&
        resp->error->code == TL_ECONFLICT && resp->has_commit_ts) {
        /* A reader pushed the record above commit_ts: the caller commits
         * again above the minimum (n_ended gets it). */
        if (n_ended != NULL)
            *n_ended = resp->commit_ts;
        talus__response__free_unpacked(resp, NULL);
        return tl_error_set(err, TL_ESTALE,
                            TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                            "commit timestamp below the pushed minimum");
    }
    rv = router_call_result(r, shard, rv, resp, err);
    if (rv == 0 && n_ended != NULL)
        *n_ended = total + (resp->has_count ? resp->count : 0);
    if (resp != NULL)
        talus__response__free_unpacked(resp, NULL);
    return rv;
}

/* What a transaction's record says (record_query()). */
struct record_info {
    int state;          /* 0 no trace, 1 pending, 2 committed, 3 rolled back */
    uint64_t commit_ts; /* committed: when */
    uint64_t owner;     /* pending: its coordinator's incarnation, 0: unknown */
    uint64_t waits_ts;  /* the transaction it waits for, 0: none known */
    uint32_t waits_shard; /* ... whose record is there */
};

/* Ask the record of transaction @start_ts on @shard (TxnStatusRequest)
 * into *@out; with @push_ts, a pending one is first pushed above it; with
 * @wait (not NULL), the transaction registers that it now waits for
 * wait[0] (record on shard wait[1]; 0: for nothing). 0 or an error
 * (@err). */
static int
record_query(struct router *r, uint64_t start_ts, uint32_t shard,
             uint64_t push_ts, const uint64_t *wait, struct record_info *out,
             struct tl_error *err)
{
    Talus__Request req;
    Talus__TxnStatusRequest q;
    Talus__Response *resp = NULL;
    uint8_t record[TXN_RECORD_KEY_LEN];
    int rv;

    memset(out, 0, sizeof *out);
    record_key(record, shard, start_ts);
    talus__request__init(&req);
    talus__txn_status_request__init(&q);
    q.start_ts = start_ts;
    q.record.data = record;
    q.record.len = sizeof record;
    q.has_push_ts = push_ts != 0;
    q.push_ts = push_ts;
    if (wait != NULL) {
        q.has_register_wait = q.register_wait = true;
        q.has_waits_for_ts = q.has_waits_for_shard = true;
        q.waits_for_ts = wait[0];
        q.waits_for_shard = (uint32_t)wait[1];
    }
    req.has_shard = true;
    req.shard = shard;
    req.body_case = TALUS__REQUEST__BODY_TXN_STATUS;
    req.txn_status = &q;
    /* A push is one Raft entry, harmless twice: retried like a read. */
    rv = router_call(r, shard, &req, true, &resp);
    rv = router_call_result(r, shard, rv, resp, err);
    if (rv == 0) {
        out->state = resp->has_txn_state ? (int)resp->txn_state : 0;
        out->commit_ts = resp->has_commit_ts ? resp->commit_ts : 0;
        out->owner = resp->has_txn_owner ? resp->txn_owner : 0;
        out->waits_ts = resp->has_waits_for_ts ? resp->waits_for_ts : 0;
        out->waits_shard =
            resp->has_waits_for_shard ? resp->waits_for_shard : 0;
    }
    if (resp != NULL)
        talus__response__free_unpacked(resp, NULL);
    return rv;
}

/* End our transaction on @shard (commit at @commit_ts, 0: roll back). */
static int
end_on(struct txn_coord *c, uint32_t shard, uint64_t commit_ts,
       uint64_t *n_ended, struct tl_error *err)
{
    return end_txn(c->r, c->start_ts,
                   shard == c->primary_shard ? c->record : NULL, shard,
                   commit_ts, NULL, n_ended, err);
}

static bool
wrote(const struct txn_coord *c, uint32_t shard)
{
    return (c->wrote[shard / 64] >> (shard % 64)) & 1;
}

/* Fault injection for tests: with TALUS_FAIL_AT=@name in its
 * environment the router kills itself (SIGKILL: nothing cleaned up, as
 * kill -9) when a transaction's commit reaches that step. */
static void
fail_point(const char *name)
{
    const char *at = getenv("TALUS_FAIL_AT");
    if (at != NULL && strcmp(at, name) == 0) {
        tl_warn("txn", "event=fail_point at=%s", name);
        raise(SIGKILL);
    }
}

/* One shard's end (or rollback to a savepoint), on a thread of its own. */
struct end_job {
    struct txn_coord *c;
    uint32_t shard;
    uint64_t commit_ts;
    const uint32_t *to_seq;
    int rv;
    struct tl_error err;
    pthread_t thread;
    bool started;
};

static void *
end_job_run(void *arg)
{
    struct end_job *j = arg;
    struct txn_coord *c = j->c;
    tl_error_clear(&j->err);
    j->rv = end_txn(
        c->r, c->start_ts,
        j->to_seq == NULL && j->shard == c->primary_shard ? c->record : NULL,
        j->shard, j->commit_ts, j->to_seq, NULL, &j->err);
    if (j->rv != 0)
        tl_warn("txn",
                "event=shard_end_failed start_ts=%llu shard=%u "
                "commit_ts=%llu to_seq=%d err=\"%s\"",
                (unsigned long long)c->start_ts, j->shard,
                (unsigned long long)j->commit_ts,
                j->to_seq != NULL ? (int)*j->to_seq : -1, j->err.message);
    return NULL;
}

/* End (commit at @commit_ts, 0: roll back; with @to_seq: undo the writes
 * after that statement) every shard written — but the primary unless
 * @with_primary — all at once. 0, or the first failure (@err filled). */
static int
end_shards(struct txn_coord *c, uint64_t commit_ts, const uint32_t *to_seq,
           bool with_primary, struct tl_error *err)
{
    struct end_job *jobs;
    size_t n = 0;
    int rv = 0;
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++)
        n += (with_primary || s != c->primary_shard) && wrote(c, s);
    if (n == 0)
        return 0;
    jobs = calloc(n, sizeof *jobs);
    if (jobs == NULL)
        abort();
    n = 0;
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++)
        if ((with_primary || s != c->primary_shard) && wrote(c, s))
            jobs[n++] = (struct end_job){
                .c = c, .shard = s, .commit_ts = commit_ts, .to_seq = to_seq};
    for (size_t i = 1; i < n; i++)
        jobs[i].started =
            pthread_create(&jobs[i].thread, NULL, end_job_run, &jobs[i]) == 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || !jobs[i].started)
            end_job_run(&jobs[i]);
    for (size_t i = 1; i < n; i++)
        if (jobs[i].started)
            pthread_join(jobs[i].thread, NULL);
    for (size_t i = 0; i < n && rv == 0; i++)
        if (jobs[i].rv != 0) {
            rv = jobs[i].rv;
            *err = jobs[i].err;
        }
    free(jobs);
    return rv;
}

/* The secondaries' end after the primary's. A failure is logged only:
 * the primary decided, and the locks left are settled through the
 * record by whoever meets them. */
static void
end_secondaries(struct txn_coord *c, uint64_t commit_ts)
{
    struct tl_error e;
    tl_error_clear(&e);
    (void)end_shards(c, commit_ts, NULL, false, &e);
}

int
txn_coord_rollback_to(struct txn_coord *c, uint32_t seq, struct tl_error *err)
{
    if (!c->active || !c->has_primary)
        return 0; /* nothing written yet */
    return end_shards(c, 0, &seq, true, err);
}

int
txn_coord_commit(struct txn_coord *c, struct tl_error *err)
{
    uint64_t commit_ts;
    int rv;

    if (!c->active || !c->has_primary) {
        reset(c); /* read only: nothing to end */
        return 0;
    }
    rv = tso_client_get(c->r->tso, &commit_ts, err);
    if (rv != 0) {
        txn_coord_rollback(c);
        return rv;
    }
    fail_point("commit_before_primary");
    for (int attempt = 0;; attempt++) {
        uint64_t need = 0;
        rv = end_on(c, c->primary_shard, commit_ts, &need, err);
        if (rv != TL_ESTALE || attempt == 8)
            break;
        /* Readers read below our pending writes meanwhile: a timestamp
         * from the oracle now is above every one of them. */
        do {
            rv = tso_client_get(c->r->tso, &commit_ts, err);
        } while (rv == 0 && commit_ts < need);
        if (rv != 0)
            break;
    }
    if (rv != 0 &&
        strcmp(err->sqlstate, TL_SQLSTATE_T_R_SERIALIZATION_FAILURE) == 0) {
        /* A resolver rolled the record back first: nothing committed. */
        txn_coord_rollback(c);
        return TL_ECONFLICT;
    }
    if (rv != 0) {
        /* Whether the primary committed is unknown when the call failed
         * in flight; its locks stay for readers to resolve. */
        tl_error_clear(err);
        tl_error_set(err, TL_EUNAVAILABLE,
                     TL_SQLSTATE_TRANSACTION_RESOLUTION_UNKNOWN,
                     "transaction resolution unknown: the commit of shard %u "
                     "did not answer",
                     c->primary_shard);
        reset(c);
        return TL_EUNAVAILABLE;
    }
    fail_point("commit_after_primary");
    end_secondaries(c, commit_ts);
    reset(c);
    return 0;
}

void
txn_coord_rollback(struct txn_coord *c)
{
    if (c->active && c->has_primary) {
        /* The primary first (the record says rolled back), then the
         * rest at once. */
        struct tl_error e;
        tl_error_clear(&e);
        if (end_on(c, c->primary_shard, 0, NULL, &e) != 0)
            tl_warn("txn",
                    "event=rollback_failed start_ts=%llu shard=%u "
                    "err=\"%s\"",
                    (unsigned long long)c->start_ts, c->primary_shard,
                    e.message);
        end_secondaries(c, 0);
    }
    reset(c);
}

int
txn_resolve(struct router *r, uint64_t start_ts, uint32_t record_shard,
            uint32_t lock_shard, struct tl_error *err)
{
    uint8_t record[TXN_RECORD_KEY_LEN];
    struct record_info info;
    uint64_t commit_ts;
    uint32_t state;
    int rv;

    record_key(record, record_shard, start_ts);
    rv = record_query(r, start_ts, record_shard, 0, NULL, &info, err);
    if (rv < 0)
        return rv;
    state = (uint32_t)info.state;
    commit_ts = info.commit_ts;
    if (state == 1) {
        /* Pending: alive while its coordinator is (its incarnation's
         * lease in the meta group); with no coordinator known, unless
         * older than the lock TTL (the physical part of a timestamp is
         * the oracle's milliseconds). */
        int64_t age = wall_ms() - (int64_t)(start_ts >> 18);
        if (info.owner != 0) {
            int live = incarnation_liveness(
                r, info.owner, router_now_ms() + TXN_LIVENESS_BUDGET_MS, err);
            if (live < 0)
                return live;
            if (live == 1)
                return 0;
            tl_info("txn", "event=resolve_dead_owner start_ts=%llu owner=%llu",
                    (unsigned long long)start_ts,
                    (unsigned long long)info.owner);
        } else if (age < TXN_LOCK_TTL_MS) {
            return 0;
        } else {
            tl_info("txn", "event=resolve_expired start_ts=%llu age_ms=%lld",
                    (unsigned long long)start_ts, (long long)age);
        }
        rv = end_txn(r, start_ts, record, record_shard, 0, NULL, NULL, err);
        if (rv != 0)
            return rv;
        state = 3;
    } else if (state == 0) {
        /* No trace of the record: mark it rolled back so that its
         * prewrite, if still in flight, fails; the transaction is over. */
        rv = end_txn(r, start_ts, record, record_shard, 0, NULL, NULL, err);
        if (rv != 0)
            return rv;
        state = 3;
    }
    if (lock_shard != record_shard || state == 2) {
        rv = end_txn(r, start_ts, NULL, lock_shard, state == 2 ? commit_ts : 0,
                     NULL, NULL, err);
        if (rv != 0)
            return rv;
    }
    tl_info("txn", "event=resolved start_ts=%llu shard=%u state=%s",
            (unsigned long long)start_ts, lock_shard,
            state == 2 ? "committed" : "rolled_back");
    return 1;
}

int
txn_read_past(struct router *r, uint64_t start_ts, uint32_t record_shard,
              uint32_t lock_shard, uint64_t read_ts, struct tl_error *err)
{
    struct record_info info;
    uint64_t commit_ts;
    int state, rv;

    rv = record_query(r, start_ts, record_shard, read_ts, NULL, &info, err);
    if (rv < 0)
        return rv;
    state = info.state;
    commit_ts = info.commit_ts;
    if (state == 1 || (state == 2 && commit_ts > read_ts))
        return 2; /* commits above the reader, if ever: read below it */
    if (state == 0 && wall_ms() - (int64_t)(start_ts >> 18) < 1000)
        return 0; /* its record's prewrite may be in flight: wait */
    /* Ended at or below the reader (or never to commit): settle the
     * lock where the reader met it, then read again. */
    rv = txn_resolve(r, start_ts, record_shard, lock_shard, err);
    return rv < 0 ? rv : 1;
}

int
txn_wait_register(struct txn_coord *c, uint64_t holder_ts,
                  uint32_t holder_shard, struct tl_error *err)
{
    struct record_info info;
    uint64_t wait[2] = {holder_ts, holder_shard};
    if (!c->active || !c->has_primary)
        return 0;
    return record_query(c->r, c->start_ts, c->primary_shard, 0, wait, &info,
                        err);
}

int
txn_wait_check(struct txn_coord *c, uint64_t holder_ts, uint32_t holder_shard,
               struct tl_error *err)
{
    uint64_t cycle[TXN_DEADLOCK_MAX_HOPS + 1];
    size_t n = 0;
    uint64_t ts = holder_ts;
    uint32_t shard = holder_shard;
    int rv;

    if (!c->active || !c->has_primary)
        return 0; /* holding no lock, we close no cycle */
    rv = txn_wait_register(c, holder_ts, holder_shard, err);
    if (rv != 0)
        return rv;
    cycle[n++] = c->start_ts;
    /* Follow "waits for" from the holder: back to us is a deadlock. */
    while (n <= TXN_DEADLOCK_MAX_HOPS) {
        struct record_info info;
        if (ts == c->start_ts)
            break;
        for (size_t i = 1; i < n; i++)
            if (cycle[i] == ts)
                return 0; /* a cycle we are not in: its members break it */
        rv = record_query(c->r, ts, shard, 0, NULL, &info, err);
        if (rv != 0)
            return rv;
        if (info.state == 2 || info.state == 3 || info.waits_ts == 0)
            return 0;
        cycle[n++] = ts;
        ts = info.waits_ts;
        shard = info.waits_shard;
    }
    if (ts != c->start_ts)
        return 0;
    /* The youngest transaction of the cycle gives way; the others go on
     * waiting (each of them finds the same cycle). */
    for (size_t i = 1; i < n; i++)
        if (cycle[i] > c->start_ts)
            return 0;
    tl_error_set(err, TL_ECONFLICT, TL_SQLSTATE_DEADLOCK_DETECTED,
                 "deadlock detected");
    char detail[TL_ERROR_MSG_MAX];
    size_t off = 0;
    for (size_t i = 0; i < n && off < sizeof detail; i++)
        off +=
            (size_t)snprintf(detail + off, sizeof detail - off,
                             "%sTransaction %llu waits for transaction %llu.",
                             i ? "\n" : "", (unsigned long long)cycle[i],
                             (unsigned long long)cycle[(i + 1) % n]);
    tl_error_detail(err, "%s", detail);
    tl_error_hint(err, "See server log for query details.");
    tl_info("txn", "event=deadlock start_ts=%llu cycle=%zu",
            (unsigned long long)c->start_ts, n);
    return TL_ECONFLICT;
}
