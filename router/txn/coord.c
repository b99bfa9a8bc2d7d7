/* coord — see coord.h. */
#include "router/txn/coord.h"

#include <string.h>
#include <time.h>

#include "arena.h"
#include "common/base/sqlstate.h"
#include "log.h"
#include "router/core/incarnation.h"
#include "router/core/router.h"
#include "router/core/router_int.h"
#include "router/core/tso_client.h"

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
    if (c->active)
        incarnation_txn_close(r, c->start_ts); /* no longer holds GC */
    txn_coord_init(c, r);
}

int
txn_coord_statement(struct txn_coord *c, bool read_committed,
                    int64_t deadline_ms, struct tl_error *err)
{
    uint64_t ts;
    int rv;

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
        uint32_t shard, uint64_t commit_ts, uint64_t *n_ended,
        struct tl_error *err)
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
    e.has_commit_ts = true;
    e.commit_ts = commit_ts;
    req.has_shard = true;
    req.shard = shard;
    req.body_case = TALUS__REQUEST__BODY_TXN_END;
    req.txn_end = &e;
    /* Ending a transaction twice is harmless: retried like a read. */
    rv = router_call(r, shard, &req, true, &resp);
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
        *n_ended = resp->has_count ? resp->count : 0;
    if (resp != NULL)
        talus__response__free_unpacked(resp, NULL);
    return rv;
}

/* The state of transaction @start_ts from its record on @shard
 * (TxnStatusRequest; with @push_ts, a pending one is first pushed above
 * it): 0 no trace, 1 pending, 2 committed (*@commit_ts, if not NULL), 3
 * rolled back; or a negative error (@err). */
static int
record_state(struct router *r, uint64_t start_ts, uint32_t shard,
             uint64_t push_ts, uint64_t *commit_ts, struct tl_error *err)
{
    Talus__Request req;
    Talus__TxnStatusRequest q;
    Talus__Response *resp = NULL;
    uint8_t record[TXN_RECORD_KEY_LEN];
    int rv;

    record_key(record, shard, start_ts);
    talus__request__init(&req);
    talus__txn_status_request__init(&q);
    q.start_ts = start_ts;
    q.record.data = record;
    q.record.len = sizeof record;
    q.has_push_ts = push_ts != 0;
    q.push_ts = push_ts;
    req.has_shard = true;
    req.shard = shard;
    req.body_case = TALUS__REQUEST__BODY_TXN_STATUS;
    req.txn_status = &q;
    /* A push is one Raft entry, harmless twice: retried like a read. */
    rv = router_call(r, shard, &req, true, &resp);
    rv = router_call_result(r, shard, rv, resp, err);
    if (rv == 0) {
        rv = resp->has_txn_state ? (int)resp->txn_state : 0;
        if (commit_ts != NULL)
            *commit_ts = resp->has_commit_ts ? resp->commit_ts : 0;
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
                   commit_ts, n_ended, err);
}

static bool
wrote(const struct txn_coord *c, uint32_t shard)
{
    return (c->wrote[shard / 64] >> (shard % 64)) & 1;
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
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++) {
        struct tl_error e2;
        if (s == c->primary_shard || !wrote(c, s))
            continue;
        tl_error_clear(&e2);
        if (end_on(c, s, commit_ts, NULL, &e2) != 0)
            tl_warn("txn",
                    "event=secondary_commit_failed start_ts=%llu shard=%u "
                    "err=\"%s\"",
                    (unsigned long long)c->start_ts, s, e2.message);
    }
    reset(c);
    return 0;
}

void
txn_coord_rollback(struct txn_coord *c)
{
    if (c->active && c->has_primary) {
        for (uint32_t k = 0; k <= TL_MAX_SHARDS; k++) {
            /* The primary first, then the rest in order. */
            uint32_t s = k == 0 ? c->primary_shard : k - 1;
            struct tl_error e;
            if (k > 0 && (s == c->primary_shard || !wrote(c, s)))
                continue;
            tl_error_clear(&e);
            if (end_on(c, s, 0, NULL, &e) != 0)
                tl_warn("txn",
                        "event=rollback_failed start_ts=%llu shard=%u "
                        "err=\"%s\"",
                        (unsigned long long)c->start_ts, s, e.message);
        }
    }
    reset(c);
}

int
txn_resolve(struct router *r, uint64_t start_ts, uint32_t record_shard,
            uint32_t lock_shard, struct tl_error *err)
{
    uint8_t record[TXN_RECORD_KEY_LEN];
    uint64_t commit_ts = 0;
    uint32_t state;
    int rv;

    record_key(record, record_shard, start_ts);
    rv = record_state(r, start_ts, record_shard, 0, &commit_ts, err);
    if (rv < 0)
        return rv;
    state = (uint32_t)rv;
    if (state == 1) {
        /* Pending: alive unless older than the lock TTL (the physical
         * part of a timestamp is the oracle's milliseconds). */
        int64_t age = wall_ms() - (int64_t)(start_ts >> 18);
        if (age < TXN_LOCK_TTL_MS)
            return 0;
        tl_info("txn", "event=resolve_expired start_ts=%llu age_ms=%lld",
                (unsigned long long)start_ts, (long long)age);
        rv = end_txn(r, start_ts, record, record_shard, 0, NULL, err);
        if (rv != 0)
            return rv;
        state = 3;
    } else if (state == 0) {
        /* No trace of the record: mark it rolled back so that its
         * prewrite, if still in flight, fails; the transaction is over. */
        rv = end_txn(r, start_ts, record, record_shard, 0, NULL, err);
        if (rv != 0)
            return rv;
        state = 3;
    }
    if (lock_shard != record_shard || state == 2) {
        rv = end_txn(r, start_ts, NULL, lock_shard, state == 2 ? commit_ts : 0,
                     NULL, err);
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
    uint64_t commit_ts = 0;
    int state, rv;

    state = record_state(r, start_ts, record_shard, read_ts, &commit_ts, err);
    if (state < 0)
        return state;
    if (state == 1 || (state == 2 && commit_ts > read_ts))
        return 2; /* commits above the reader, if ever: read below it */
    if (state == 0 && wall_ms() - (int64_t)(start_ts >> 18) < 1000)
        return 0; /* its record's prewrite may be in flight: wait */
    /* Ended at or below the reader (or never to commit): settle the
     * lock where the reader met it, then read again. */
    rv = txn_resolve(r, start_ts, record_shard, lock_shard, err);
    return rv < 0 ? rv : 1;
}
