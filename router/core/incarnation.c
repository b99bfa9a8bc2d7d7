/* incarnation — register this router and keep its lease (incarnation.h). */
#include "router/core/incarnation.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "buf.h"
#include "common/client/client.h"
#include "common/meta/meta_keys.h"
#include "common/meta/meta_routers.h"
#include "log.h"
#include "router/core/catalog_int.h"
#include "router/core/router.h"
#include "router/core/router_int.h"
#include "router/core/tso_client.h"
#include "rpc.h"
#include "tl_error.h"

#define MOD "router"
/* How long a clean stop waits for the meta group to delete the record. */
#define STOP_DEADLINE_MS 2000
/* How long one read or write of the record may keep looking for the meta
 * group's leader: less than a lease (a renewal later than that is no
 * use), and short enough that a stop never waits long for a tick. */
#define TICK_BUDGET_MS 4000

struct incarnation {
    struct router *r; /* borrowed; read-only */
    pthread_t thread;

    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC; signalled by incarnation_stop */
    bool stopping;     /* under mu */

    /* Any thread reads it; only the lease thread writes it. */
    _Atomic uint64_t current;

    /* The lease thread's own; incarnation_stop() reads them after joining
     * it. */
    struct tl_meta_router rec; /* what the record holds, when registered */
    struct tl_buf row;         /* its bytes as last written (or found) */
    bool registered;           /* rec/row are this incarnation's record */
    bool superseded;           /* a newer incarnation took the id */
};

static int64_t
wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Send @req (a request id set) to the meta group until @deadline_ms.
 * 0 with *@resp (may hold the group's Error), or the call's error in
 * @err with *@resp NULL. */
static int
call_meta(struct router *r, Talus__Request *req, enum tl_client_op op,
          int64_t deadline_ms, Talus__Response **resp, struct tl_error *err)
{
    struct tl_client_retry t;
    req->has_shard = 1;
    req->shard = TL_META_GROUP;
    tl_client_retry_init(&r->client, &t, TL_META_GROUP, op, deadline_ms);
    int rv = tl_client_call(&r->client, &t, req, resp);
    if (rv != 0)
        rv = tl_client_retry_error(&r->client, &t, err);
    return rv;
}

/* One conditional mutation of the record (@kind PUT with @value, or
 * DELETE), expecting @expect (NULL: the key absent), sent until
 * @deadline_ms. 0; TL_ECONFLICT (no report) when the condition failed; or
 * the call's error in @err. */
static int
write_record(struct incarnation *inc, int kind, const struct tl_buf *value,
             const struct tl_buf *expect, int64_t deadline_ms,
             struct tl_error *err)
{
    struct tl_arena a;
    struct tl_buf key;
    Talus__Response *resp = NULL;

    tl_arena_init(&a);
    tl_buf_init(&key);
    tl_meta_key_router(&key, inc->rec.id);
    Talus__Mutation *m =
        catalog_make_mut(&a, kind, &key, value,
                         expect != NULL ? TALUS__MUTATION__COND__EQUALS
                                        : TALUS__MUTATION__COND__ABSENT,
                         expect);
    Talus__WriteBatch wb = TALUS__WRITE_BATCH__INIT;
    wb.n_mutations = 1;
    wb.mutations = &m;
    Talus__Request req = TALUS__REQUEST__INIT;
    req.request_id = tl_rpc_next_id();
    wb.has_request_id = 1;
    wb.request_id = req.request_id;
    req.body_case = TALUS__REQUEST__BODY_WRITE;
    req.write = &wb;
    int rv = call_meta(inc->r, &req, TL_CLIENT_WRITE, deadline_ms, &resp, err);
    if (rv == 0 && resp->error != NULL && resp->error->has_mutation &&
        resp->error->mutation >= 0)
        rv = TL_ECONFLICT;
    else if (rv == 0)
        rv = router_call_result(inc->r, TL_META_GROUP, 0, resp, err);
    if (resp != NULL)
        talus__response__free_unpacked(resp, NULL);
    tl_buf_close(&key);
    tl_arena_close(&a);
    return rv;
}

/* Scan the meta keys in [@start, @end) until @deadline_ms: 0 with *@resp
 * (the caller frees it) or the call's error in @err. */
static int
scan_meta(struct router *r, const struct tl_buf *start,
          const struct tl_buf *end, int64_t deadline_ms, Talus__Response **resp,
          struct tl_error *err)
{
    struct tl_arena a;
    tl_arena_init(&a);
    Talus__KeyRange range = TALUS__KEY_RANGE__INIT;
    range.start.data = start->data;
    range.start.len = start->len;
    range.end.data = end->data;
    range.end.len = end->len;
    Talus__KeyRange *ranges[1] = {&range};
    Talus__ScanFragment scan = TALUS__SCAN_FRAGMENT__INIT;
    scan.table = tl_meta_catalog_desc(&a);
    scan.n_ranges = 1;
    scan.ranges = ranges;
    Talus__Request req = TALUS__REQUEST__INIT;
    req.request_id = tl_rpc_next_id();
    req.body_case = TALUS__REQUEST__BODY_SCAN;
    req.scan = &scan;
    *resp = NULL;
    int rv = call_meta(r, &req, TL_CLIENT_READ, deadline_ms, resp, err);
    if (rv == 0)
        rv = router_call_result(r, TL_META_GROUP, 0, *resp, err);
    tl_arena_close(&a);
    return rv;
}

/* Read the record of this router's id into @out/@row, until
 * @deadline_ms: *@found says whether there is one (a row that does not
 * decode counts as none, and is overwritten). 0 or the call's error. */
static int
read_record(struct incarnation *inc, int64_t deadline_ms,
            struct tl_meta_router *out, struct tl_buf *row, bool *found,
            struct tl_error *err)
{
    struct tl_buf key, end;
    Talus__Response *resp = NULL;

    tl_buf_init(&key);
    tl_buf_init(&end);
    tl_meta_key_router(&key, inc->rec.id);
    tl_buf_append(&end, key.data, key.len);
    tl_buf_append_u8(&end, 0); /* exactly this key */
    int rv = scan_meta(inc->r, &key, &end, deadline_ms, &resp, err);
    *found = false;
    tl_buf_reset(row);
    if (rv == 0 && resp->n_rows > 0) {
        tl_buf_append(row, resp->rows[0].data, resp->rows[0].len);
        *found = tl_meta_router_decode(row->data, row->len, out) == 0;
    }
    if (resp != NULL)
        talus__response__free_unpacked(resp, NULL);
    tl_buf_close(&end);
    tl_buf_close(&key);
    return rv;
}

/* A new incarnation: a timestamp, then a write of the record over
 * whatever this id held. */
static void
register_new(struct incarnation *inc)
{
    struct tl_error err;
    struct tl_meta_router old, rec = inc->rec;
    struct tl_buf old_row, row;
    bool found;
    uint64_t ts;

    tl_error_clear(&err);
    tl_buf_init(&old_row);
    tl_buf_init(&row);
    int rv = tso_client_get(inc->r->tso, &ts, &err);
    int64_t deadline = router_now_ms() + TICK_BUDGET_MS;
    if (rv == 0)
        rv = read_record(inc, deadline, &old, &old_row, &found, &err);
    if (rv == 0 && found && old.incarnation >= ts) {
        /* Cannot happen with an oracle that only moves forward. */
        tl_error(MOD,
                 "event=router_register_refused router_id=%u "
                 "incarnation=%llu stored=%llu",
                 rec.id, (unsigned long long)ts,
                 (unsigned long long)old.incarnation);
        rv = TL_ECONFLICT;
    }
    if (rv == 0) {
        rec.incarnation = ts;
        rec.lease_expires_ms = wall_ms() + TL_META_ROUTER_LEASE_MS;
        tl_meta_router_encode(&row, &rec);
        rv = write_record(inc, TALUS__MUTATION__KIND__PUT, &row,
                          old_row.len > 0 ? &old_row : NULL, deadline, &err);
    }
    if (rv == 0) {
        inc->rec = rec;
        tl_buf_reset(&inc->row);
        tl_buf_append(&inc->row, row.data, row.len);
        inc->registered = true;
        atomic_store(&inc->current, ts);
        tl_info(MOD,
                "event=router_registered router_id=%u incarnation=%llu "
                "addr=%s previous=%llu",
                rec.id, (unsigned long long)ts, rec.addr,
                found ? (unsigned long long)old.incarnation : 0ULL);
    } else if (rv != TL_ECONFLICT) {
        tl_warn(MOD,
                "event=router_register_failed router_id=%u sqlstate=%s "
                "msg=\"%s\"",
                rec.id, err.sqlstate, err.message);
    }
    tl_buf_close(&old_row);
    tl_buf_close(&row);
}

/* A renewal failed its condition: someone changed the record. Our own
 * write whose outcome was unknown (same incarnation): adopt it; a newer
 * incarnation: superseded; none: register again. */
static void
reconcile(struct incarnation *inc)
{
    struct tl_error err;
    struct tl_meta_router cur;
    struct tl_buf row;
    bool found;

    tl_error_clear(&err);
    tl_buf_init(&row);
    if (read_record(inc, router_now_ms() + TICK_BUDGET_MS, &cur, &row, &found,
                    &err) != 0) {
        tl_buf_close(&row);
        return; /* try again at the next tick */
    }
    if (found && cur.incarnation == inc->rec.incarnation) {
        inc->rec = cur;
        tl_buf_reset(&inc->row);
        tl_buf_append(&inc->row, row.data, row.len);
    } else if (found && cur.incarnation > inc->rec.incarnation) {
        inc->registered = false;
        inc->superseded = true;
        atomic_store(&inc->current, 0);
        tl_error(MOD,
                 "event=router_superseded router_id=%u incarnation=%llu "
                 "by=%llu addr=%s",
                 inc->rec.id, (unsigned long long)inc->rec.incarnation,
                 (unsigned long long)cur.incarnation, cur.addr);
    } else {
        inc->registered = false;
        atomic_store(&inc->current, 0);
        tl_warn(MOD, "event=router_record_lost router_id=%u incarnation=%llu",
                inc->rec.id, (unsigned long long)inc->rec.incarnation);
    }
    tl_buf_close(&row);
}

/* Extend the lease of the registered incarnation. */
static void
renew(struct incarnation *inc)
{
    struct tl_error err;
    struct tl_meta_router rec = inc->rec;
    struct tl_buf row;

    tl_error_clear(&err);
    tl_buf_init(&row);
    rec.lease_expires_ms = wall_ms() + TL_META_ROUTER_LEASE_MS;
    tl_meta_router_encode(&row, &rec);
    int rv = write_record(inc, TALUS__MUTATION__KIND__PUT, &row, &inc->row,
                          router_now_ms() + TICK_BUDGET_MS, &err);
    if (rv == 0) {
        inc->rec = rec;
        tl_buf_reset(&inc->row);
        tl_buf_append(&inc->row, row.data, row.len);
    } else if (rv == TL_ECONFLICT) {
        reconcile(inc);
    } else {
        tl_warn(MOD,
                "event=router_renew_failed router_id=%u incarnation=%llu "
                "sqlstate=%s msg=\"%s\"",
                rec.id, (unsigned long long)rec.incarnation, err.sqlstate,
                err.message);
    }
    tl_buf_close(&row);
}

/* One tick of the lease thread. */
static void
tick(struct incarnation *inc)
{
    if (inc->superseded)
        return;
    if (inc->registered && wall_ms() >= inc->rec.lease_expires_ms) {
        /* A resolver may already count it dead: never revive it. */
        tl_warn(MOD, "event=router_lease_expired router_id=%u incarnation=%llu",
                inc->rec.id, (unsigned long long)inc->rec.incarnation);
        inc->registered = false;
        atomic_store(&inc->current, 0);
    }
    if (inc->registered)
        renew(inc);
    else
        register_new(inc);
}

static void *
run(void *arg)
{
    struct incarnation *inc = arg;

    pthread_mutex_lock(&inc->mu);
    while (!inc->stopping) {
        pthread_mutex_unlock(&inc->mu);
        int64_t next = router_now_ms() + TL_META_ROUTER_RENEW_MS;
        tick(inc);
        struct timespec abs = {.tv_sec = next / 1000,
                               .tv_nsec = (next % 1000) * 1000000};
        pthread_mutex_lock(&inc->mu);
        while (!inc->stopping &&
               pthread_cond_timedwait(&inc->cv, &inc->mu, &abs) == 0)
            ;
    }
    pthread_mutex_unlock(&inc->mu);
    return NULL;
}

int
incarnation_start(struct router *r, const char *addr, struct incarnation **out)
{
    pthread_condattr_t ca;
    struct incarnation *inc = calloc(1, sizeof(*inc));
    if (inc == NULL)
        return TL_ENOMEM;
    inc->r = r;
    inc->rec.id = r->router_id;
    snprintf(inc->rec.addr, sizeof inc->rec.addr, "%s", addr);
    tl_buf_init(&inc->row);
    atomic_init(&inc->current, 0);
    pthread_mutex_init(&inc->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&inc->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&inc->thread, NULL, run, inc) != 0) {
        pthread_cond_destroy(&inc->cv);
        pthread_mutex_destroy(&inc->mu);
        tl_buf_close(&inc->row);
        free(inc);
        return TL_EIO;
    }
    *out = inc;
    return 0;
}

uint64_t
incarnation_current(const struct incarnation *inc)
{
    return atomic_load(&inc->current);
}

void
incarnation_stop(struct incarnation *inc)
{
    struct tl_error err;

    if (inc == NULL)
        return;
    pthread_mutex_lock(&inc->mu);
    inc->stopping = true;
    pthread_cond_signal(&inc->cv);
    pthread_mutex_unlock(&inc->mu);
    pthread_join(inc->thread, NULL);
    if (inc->registered) {
        tl_error_clear(&err);
        int rv =
            write_record(inc, TALUS__MUTATION__KIND__DELETE, NULL, &inc->row,
                         router_now_ms() + STOP_DEADLINE_MS, &err);
        if (rv == 0)
            tl_info(MOD,
                    "event=router_unregistered router_id=%u "
                    "incarnation=%llu",
                    inc->rec.id, (unsigned long long)inc->rec.incarnation);
        else
            tl_warn(MOD,
                    "event=router_unregister_failed router_id=%u "
                    "incarnation=%llu rv=%d msg=\"%s\"",
                    inc->rec.id, (unsigned long long)inc->rec.incarnation, rv,
                    rv == TL_ECONFLICT ? "record changed" : err.message);
    }
    pthread_cond_destroy(&inc->cv);
    pthread_mutex_destroy(&inc->mu);
    tl_buf_close(&inc->row);
    free(inc);
}

int
incarnation_liveness(struct router *r, uint64_t incarnation,
                     int64_t deadline_ms, struct tl_error *err)
{
    struct tl_buf start, end;
    Talus__Response *resp = NULL;

    tl_buf_init(&start);
    tl_buf_init(&end);
    tl_meta_key_index(&start, TL_META_INDEX_ROUTER);
    tl_meta_key_index(&end, (enum tl_meta_index)(TL_META_INDEX_ROUTER + 1));
    int rv = scan_meta(r, &start, &end, deadline_ms, &resp, err);
    if (rv == 0) {
        /* Incarnations are unique: the record holding this one says;
         * none (deleted, expired and replaced, or restarted) is dead. */
        rv = 0;
        for (size_t i = 0; i < resp->n_rows; i++) {
            struct tl_meta_router rec;
            if (tl_meta_router_decode(resp->rows[i].data, resp->rows[i].len,
                                      &rec) == 0 &&
                rec.incarnation == incarnation &&
                tl_meta_router_liveness(&rec, incarnation, wall_ms()) ==
                    TL_META_ROUTER_ALIVE)
                rv = 1;
        }
    }
    if (resp != NULL)
        talus__response__free_unpacked(resp, NULL);
    tl_buf_close(&end);
    tl_buf_close(&start);
    return rv;
}
