/* restore — out-of-band copies of a shard's data (see fsm.h).
 *
 * Receiving side: one fetcher thread per node. When a shard's FSM records
 * a restore (or one is pending at start), restore_wake() flags the shard;
 * the fetcher asks a source node (the snapshot's sender first, then every
 * other node) for FetchShardRequest pages, writes them with
 * fsm_restore_write_page() (the first page clears the column family, the
 * last sets the applied index to the source's Y), then hands a
 * TASK_RESTORED to the loop, which replays the spill (fsm_restore_finish).
 * Any failure retries after RETRY_S with the next source, from scratch.
 *
 * Serving side: restore_serve_fetch() runs on RPC workers. A session pins
 * one RocksDB snapshot of the shard's column family (so every page comes
 * from the same state, whose applied index is Y) and is released after
 * the last page or SESSION_IDLE_S without a request. Pages hold at most
 * max_bytes (1 MiB default) of keys and values: memory stays bounded on
 * both sides whatever the shard size. */
#include "node/replica/replica_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "common/base/sqlstate.h"
#include "crash.h"
#include "log.h"
#include "rpc.h"
#include "tl_error.h"

#define PAGE_BYTES_DEFAULT (1u << 20)
#define PAGE_BYTES_MAX (16u << 20)
#define SESSION_IDLE_S 60.0
#define RETRY_S 1.0
#define FETCH_TIMEOUT_MS 30000

struct fetch_session {
    uint64_t id;
    uint32_t shard;
    struct store_snap *snap;
    struct store_cf *cf;
    uint64_t applied;
    double last_used;
    bool busy; /* a worker is reading a page */
    struct fetch_session *next;
};

/* ------------------------------------------------------------ serving */

static void
session_free(struct replica_set *rs, struct fetch_session *s)
{
    store_snap_release(rs->st, s->snap);
    free(s);
}

/* Under fmu: unlink and free idle sessions. */
static void
expire_sessions(struct replica_set *rs, double now)
{
    struct fetch_session **pp = &rs->sessions;

    assert(pthread_mutex_trylock(&rs->fmu) == EBUSY); /* fmu held */
    while (*pp != NULL) {
        struct fetch_session *s = *pp;
        if (!s->busy && now - s->last_used > SESSION_IDLE_S) {
            *pp = s->next;
            tl_info("restore", "event=session_expired shard=%u session=%llu",
                    s->shard, (unsigned long long)s->id);
            session_free(rs, s);
        } else {
            pp = &s->next;
        }
    }
}

void
restore_sessions_close(struct replica_set *rs)
{
    pthread_mutex_lock(&rs->fmu);
    while (rs->sessions != NULL) {
        struct fetch_session *s = rs->sessions;
        rs->sessions = s->next;
        session_free(rs, s);
    }
    pthread_mutex_unlock(&rs->fmu);
}

/* A new session on @sh, or NULL with @err filled. */
static struct fetch_session *
session_open(struct replica_set *rs, struct replica *sh, uint64_t min_index,
             struct tl_error *err, int *code)
{
    struct fetch_session *s = calloc(1, sizeof *s);
    struct store_read rd = store_read_latest();

    if (s == NULL)
        abort();
    s->shard = sh->shard;
    s->cf = sh->fsm.cf;
    s->snap = store_snap_create(rs->st);
    rd.snap = s->snap;
    if (store_read_applied(rs->st, s->cf, &rd, &s->applied) != 0 ||
        s->applied == 0) {
        session_free(rs, s);
        *code = TL_EIO;
        tl_error_set(err, TL_EIO, TL_SQLSTATE_INTERNAL_ERROR,
                     "cannot read applied index");
        return NULL;
    }
    if (s->applied < min_index || atomic_load(&sh->fsm.restoring)) {
        *code = TL_EUNAVAILABLE;
        tl_error_set(err, TL_EUNAVAILABLE, TL_SQLSTATE_CONNECTION_FAILURE,
                     "node %u has shard %u only up to index %llu (< %llu)",
                     rs->opts.id, sh->shard, (unsigned long long)s->applied,
                     (unsigned long long)min_index);
        session_free(rs, s);
        return NULL;
    }
    s->id = ((uint64_t)sh->shard << 40) ^ tl_rpc_next_id();
    if (s->id == 0)
        s->id = 1;
    tl_info("restore", "event=session_open shard=%u session=%llu applied=%llu",
            sh->shard, (unsigned long long)s->id,
            (unsigned long long)s->applied);
    return s;
}

/* Read one page of @s after @resume (NULL: from the start) into @pg. */
static int
read_page(struct replica_set *rs, struct fetch_session *s,
          const ProtobufCBinaryData *resume, size_t max_bytes,
          struct tl_arena *a, Talus__FetchShardPage *pg)
{
    struct store_read rd = store_read_latest();
    struct store_iter *it;
    size_t bytes = 0, cap = 64;
    char e[256];
    int rv = 0;

    rd.snap = s->snap;
    rd.fill_cache = false;
    rd.upper = STORE_MAX_KEY;
    rd.upper_len = STORE_MAX_KEY_LEN;
    it = store_iter_create(rs->st, s->cf, &rd);
    pg->keys = tl_arena_alloc(a, cap * sizeof *pg->keys);
    pg->values = tl_arena_alloc(a, cap * sizeof *pg->values);
    if (resume != NULL) {
        store_iter_seek(it, resume->data, resume->len);
        if (store_iter_valid(it)) {
            size_t kl;
            const char *k = store_iter_key(it, &kl);
            if (kl == resume->len && memcmp(k, resume->data, kl) == 0)
                store_iter_next(it);
        }
    } else {
        store_iter_seek_first(it);
    }
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t kl, vl;
        const char *k = store_iter_key(it, &kl);
        const char *v = store_iter_value(it, &vl);
        if (pg->n_keys > 0 && bytes + kl + vl > max_bytes)
            break;
        if (pg->n_keys == cap) {
            ProtobufCBinaryData *nk = tl_arena_alloc(a, 2 * cap * sizeof *nk);
            ProtobufCBinaryData *nv = tl_arena_alloc(a, 2 * cap * sizeof *nv);
            memcpy(nk, pg->keys, cap * sizeof *nk);
            memcpy(nv, pg->values, cap * sizeof *nv);
            pg->keys = nk;
            pg->values = nv;
            cap *= 2;
        }
        pg->keys[pg->n_keys].data = tl_arena_alloc(a, kl + 1);
        memcpy(pg->keys[pg->n_keys].data, k, kl);
        pg->keys[pg->n_keys].len = kl;
        pg->values[pg->n_values].data = tl_arena_alloc(a, vl + 1);
        memcpy(pg->values[pg->n_values].data, v, vl);
        pg->values[pg->n_values].len = vl;
        pg->n_keys++;
        pg->n_values++;
        bytes += kl + vl;
    }
    pg->has_done = true;
    pg->done = !store_iter_valid(it);
    if (store_iter_status(it, e, sizeof e) != 0) {
        tl_error("restore", "event=page_failed shard=%u err=\"%s\"", s->shard,
                 e);
        rv = TL_EIO;
    }
    if (pg->n_keys > 0) {
        pg->has_resume_key = true;
        pg->resume_key = pg->keys[pg->n_keys - 1];
    }
    store_iter_destroy(it);
    return rv;
}

void
restore_serve_fetch(struct replica_set *rs, const Talus__Request *req,
                    struct tl_arena *a, Talus__Response *resp,
                    struct tl_error *err, int *code)
{
    const Talus__FetchShardRequest *fr = req->fetch;
    struct replica *sh = replica_get(rs, fr->shard);
    struct fetch_session *s = NULL;
    Talus__FetchShardPage *pg;
    size_t max_bytes = fr->has_max_bytes && fr->max_bytes > 0
                           ? fr->max_bytes
                           : PAGE_BYTES_DEFAULT;
    double now = tl_clock_now_s();
    int rv;

    *code = 0;
    if (max_bytes > PAGE_BYTES_MAX)
        max_bytes = PAGE_BYTES_MAX;
    if (sh == NULL) {
        *code = TL_EUNAVAILABLE;
        tl_error_set(err, TL_EUNAVAILABLE, TL_SQLSTATE_CONNECTION_FAILURE,
                     "shard %u is not hosted by node %u", fr->shard,
                     rs->opts.id);
        return;
    }
    pthread_mutex_lock(&rs->fmu);
    expire_sessions(rs, now);
    if (fr->has_session && fr->session != 0) {
        for (s = rs->sessions; s != NULL; s = s->next)
            if (s->id == fr->session && s->shard == fr->shard)
                break;
        if (s == NULL || s->busy) {
            pthread_mutex_unlock(&rs->fmu);
            *code = TL_ENOTFOUND;
            tl_error_set(err, TL_ENOTFOUND, TL_SQLSTATE_CONNECTION_FAILURE,
                         "fetch session %llu of shard %u expired or busy",
                         (unsigned long long)fr->session, fr->shard);
            return;
        }
        s->busy = true;
    }
    pthread_mutex_unlock(&rs->fmu);
    if (s == NULL) {
        s = session_open(rs, sh, fr->has_min_index ? fr->min_index : 0, err,
                         code);
        if (s == NULL)
            return;
        s->busy = true;
        pthread_mutex_lock(&rs->fmu);
        s->next = rs->sessions;
        rs->sessions = s;
        pthread_mutex_unlock(&rs->fmu);
    }
    pg = tl_arena_alloc(a, sizeof *pg);
    talus__fetch_shard_page__init(pg);
    pg->session = s->id;
    pg->applied_index = s->applied;
    rv = read_page(rs, s, fr->has_resume_key ? &fr->resume_key : NULL,
                   max_bytes, a, pg);
    pthread_mutex_lock(&rs->fmu);
    s->busy = false;
    s->last_used = tl_clock_now_s();
    if (rv != 0 || pg->done) {
        struct fetch_session **pp = &rs->sessions;
        while (*pp != s)
            pp = &(*pp)->next;
        *pp = s->next;
        tl_info("restore", "event=session_done shard=%u session=%llu ok=%d",
                s->shard, (unsigned long long)s->id, rv == 0);
        session_free(rs, s);
    }
    pthread_mutex_unlock(&rs->fmu);
    if (rv != 0) {
        *code = rv;
        tl_error_set(err, rv, TL_SQLSTATE_INTERNAL_ERROR,
                     "reading shard %u failed", fr->shard);
        return;
    }
    resp->fetch = pg;
}

/* ------------------------------------------------------------ fetching */

/* Copy @sh from node @src. 0 when the last page is written. */
static int
fetch_from(struct replica_set *rs, struct replica *sh, uint32_t src)
{
    char addr[TL_ADDR_MAX];
    struct tl_rpc_client *cl;
    uint64_t session = 0, min_index = atomic_load(&sh->fsm.restore_index);
    uint64_t n_keys = 0, n_pages = 0;
    ProtobufCBinaryData resume = {0, NULL};
    uint8_t *resume_buf = NULL;
    int rv;

    /* Sources beyond the configuration come from the registry. */
    if (replica_set_node_addr(rs, src, false, addr, sizeof addr) != 0 ||
        tl_rpc_client_create(addr, &cl) != 0)
        return TL_EINVAL;
    for (;;) {
        Talus__Request req = TALUS__REQUEST__INIT;
        Talus__FetchShardRequest fr = TALUS__FETCH_SHARD_REQUEST__INIT;
        Talus__Response *resp = NULL;
        Talus__FetchShardPage *pg;
        size_t nk;

        if (!atomic_load(&sh->active) || atomic_load(&rs->fetcher_stop)) {
            rv = TL_ESHUTDOWN;
            break;
        }
        fr.shard = sh->shard;
        fr.has_session = true;
        fr.session = session;
        fr.has_min_index = true;
        fr.min_index = min_index;
        fr.has_max_bytes = true;
        fr.max_bytes = rs->opts.fetch_page_bytes;
        if (resume.data != NULL) {
            fr.has_resume_key = true;
            fr.resume_key = resume;
        }
        req.request_id = tl_rpc_next_id();
        req.has_shard = true;
        req.shard = sh->shard;
        req.body_case = TALUS__REQUEST__BODY_FETCH;
        req.fetch = &fr;
        rv = tl_rpc_call(cl, &req, FETCH_TIMEOUT_MS, &resp);
        if (rv != 0)
            break;
        if (resp->error != NULL || resp->fetch == NULL) {
            tl_warn("restore",
                    "event=fetch_refused shard=%u source=%u "
                    "msg=\"%s\"",
                    sh->shard, src,
                    resp->error ? resp->error->message : "no page");
            talus__response__free_unpacked(resp, NULL);
            rv = TL_EUNAVAILABLE;
            break;
        }
        pg = resp->fetch;
        if (session != 0 && pg->session != session) {
            talus__response__free_unpacked(resp, NULL);
            rv = TL_EPROTO;
            break;
        }
        session = pg->session;
        nk = pg->n_keys < pg->n_values ? pg->n_keys : pg->n_values;
        /* Only the fetcher writes the column family while restoring;
         * never once the loop applies again. */
        if (!atomic_load(&sh->fsm.restoring))
            rv = TL_ESHUTDOWN;
        else
            rv = fsm_restore_write_page(&sh->fsm, n_pages == 0, pg->done,
                                        pg->applied_index, pg->keys, pg->values,
                                        nk);
        n_keys += nk;
        n_pages++;
        if (rv == 0 && !pg->done) {
            free(resume_buf);
            resume_buf = malloc(pg->resume_key.len + 1);
            if (resume_buf == NULL)
                abort();
            memcpy(resume_buf, pg->resume_key.data, pg->resume_key.len);
            resume.data = resume_buf;
            resume.len = pg->resume_key.len;
        }
        if (rv == 0 && pg->done) {
            tl_info("restore",
                    "event=fetched shard=%u source=%u applied=%llu keys=%llu "
                    "pages=%llu",
                    sh->shard, src, (unsigned long long)pg->applied_index,
                    (unsigned long long)n_keys, (unsigned long long)n_pages);
            talus__response__free_unpacked(resp, NULL);
            break;
        }
        talus__response__free_unpacked(resp, NULL);
        if (rv != 0)
            break;
    }
    free(resume_buf);
    tl_rpc_client_destroy(cl);
    return rv;
}

/* Copy @sh from the first source that can serve it. */
static int
fetch_shard(struct replica_set *rs, struct replica *sh)
{
    uint32_t first = atomic_load(&sh->fsm.restore_source);
    int rv = TL_EUNAVAILABLE;

    if (first != 0 && first != rs->opts.id)
        rv = fetch_from(rs, sh, first);
    uint32_t max = replica_set_max_node(rs);
    for (uint32_t id = 1; rv != 0 && rv != TL_ESHUTDOWN && id <= max; id++)
        if (id != rs->opts.id && id != first)
            rv = fetch_from(rs, sh, id);
    return rv;
}

static void *
fetcher_main(void *arg)
{
    struct replica_set *rs = arg;

    tl_crash_thread_init(); /* a stack overflow here is logged too */
    pthread_mutex_lock(&rs->fmu);
    while (!atomic_load(&rs->fetcher_stop)) {
        struct replica *todo = NULL;
        for (uint32_t s = 0; s < TL_MAX_SHARDS && todo == NULL; s++) {
            struct replica *sh = atomic_load(&rs->by_shard[s]);
            /* Not while the loop finishes a copy (it clears the flag). */
            if (sh != NULL && atomic_load(&sh->fetch_wanted) &&
                !atomic_load(&sh->fetch_finishing))
                todo = sh;
        }
        if (todo == NULL) {
            pthread_cond_wait(&rs->fcv, &rs->fmu);
            continue;
        }
        atomic_store(&todo->fetch_wanted, false);
        pthread_mutex_unlock(&rs->fmu);
        if (atomic_load(&todo->active) && atomic_load(&todo->fsm.restoring)) {
            int rv = fetch_shard(rs, todo);
            if (rv == 0) {
                struct proposal *p =
                    replica_task_create(TASK_RESTORED, todo, todo->shard);
                p->refs = 1; /* the loop's only */
                atomic_store(&todo->fetch_finishing, true);
                if (!replica_task_enqueue(rs, p)) {
                    atomic_store(&todo->fetch_finishing, false);
                    replica_task_unref(p);
                }
            } else if (rv != TL_ESHUTDOWN) {
                struct timespec ts;
                tl_warn("restore", "event=fetch_failed shard=%u err=\"%s\"",
                        todo->shard, tl_strerror(rv));
                atomic_store(&todo->fetch_wanted, true);
                pthread_mutex_lock(&rs->fmu);
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += (time_t)RETRY_S;
                if (!atomic_load(&rs->fetcher_stop))
                    pthread_cond_timedwait(&rs->fcv, &rs->fmu, &ts);
                continue;
            }
        }
        pthread_mutex_lock(&rs->fmu);
    }
    pthread_mutex_unlock(&rs->fmu);
    return NULL;
}

int
restore_start(struct replica_set *rs)
{
    if (pthread_create(&rs->fetcher, NULL, fetcher_main, rs) != 0) {
        tl_error("restore", "event=thread_failed");
        return TL_EIO;
    }
    rs->fetcher_started = true;
    return 0;
}

void
restore_stop(struct replica_set *rs)
{
    if (!rs->fetcher_started)
        return;
    pthread_mutex_lock(&rs->fmu);
    atomic_store(&rs->fetcher_stop, true);
    pthread_cond_broadcast(&rs->fcv);
    pthread_mutex_unlock(&rs->fmu);
    pthread_join(rs->fetcher, NULL);
    rs->fetcher_started = false;
}

void
restore_wake(struct replica *sh)
{
    struct replica_set *rs = sh->rs;
    pthread_mutex_lock(&rs->fmu);
    atomic_store(&sh->fetch_wanted, true);
    pthread_cond_broadcast(&rs->fcv);
    pthread_mutex_unlock(&rs->fmu);
}
