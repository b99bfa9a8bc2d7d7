#include "node_int.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "common/base/sqlstate.h"
#include "gc.h"
#include "log.h"
#include "node/store/mvcc.h"
#include "tl_error.h"

#define LEADER_POLL_MS 50
/* Entry bytes a group keeps in raft's in-memory log before a snapshot,
 * and about as much trailing after one (fsm_set_retention). */
#define NODE_LOG_RETAIN_BYTES ((uint64_t)32 << 20)

static void begin_shutdown(struct node *n);

void
node_options_defaults(struct node_options *o, uint32_t id)
{
    memset(o, 0, sizeof *o);
    o->id = id;
    o->n_workers = 16;
    o->snapshot_threshold = 1024;
    o->snapshot_trailing = 2048;
    o->election_timeout_ms = 1000;
    o->heartbeat_timeout_ms = 100;
    o->fetch_page_bytes = 1u << 20;
}

int
node_create(const struct tl_cluster_config *cfg,
            const struct node_options *opts, struct node **out)
{
    struct node *n;

    if (tl_cluster_node(cfg, opts->id) == NULL) {
        tl_error("node", "event=bad_id id=%u n_nodes=%u", opts->id,
                 cfg->n_nodes);
        return TL_EINVAL;
    }
    n = calloc(1, sizeof *n);
    if (n == NULL)
        abort();
    n->cfg = *cfg;
    n->opts = *opts;
    n->self = tl_cluster_node(&n->cfg, opts->id);
    pthread_mutex_init(&n->qmu, NULL);
    pthread_mutex_init(&n->inflight_mu, NULL);
    prepared_init(&n->prepared);
    pthread_mutex_init(&n->fmu, NULL);
    pthread_cond_init(&n->fcv, NULL);
    tso_init(&n->tso);
    txn_waits_init(&n->waits);
    lock_queue_init(&n->locks);
    *out = n;
    return 0;
}

/* ------------------------------------------------------------ tasks */

double
node_now(void)
{
    return tl_clock_now_s();
}

struct node_shard *
node_shard_get(struct node *n, uint32_t shard)
{
    struct node_shard *sh =
        shard < TL_MAX_SHARDS ? atomic_load(&n->by_shard[shard]) : NULL;
    return sh != NULL && atomic_load(&sh->active) ? sh : NULL;
}

void
node_task_unref(struct proposal *p)
{
    bool last;
    pthread_mutex_lock(&p->mu);
    last = --p->refs == 0;
    pthread_mutex_unlock(&p->mu);
    if (!last)
        return;
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

/* Take @p out of the in-flight writes (no-op if it is not there). */
static void
inflight_unlink(struct node *n, struct proposal *p)
{
    pthread_mutex_lock(&n->inflight_mu);
    if (p->in_flight) {
        struct proposal **pp = &n->inflight;
        while (*pp != p)
            pp = &(*pp)->inflight_next;
        *pp = p->inflight_next;
        p->in_flight = false;
    }
    pthread_mutex_unlock(&n->inflight_mu);
}

/* On the loop (or the applier): record the outcome, wake the worker, drop
 * our reference. */
static void
proposal_complete(struct proposal *p, int status, int raft_rv,
                  const struct fsm_result *res)
{
    if (p->kind == TASK_WRITE && p->sh != NULL)
        inflight_unlink(p->sh->node, p);
    pthread_mutex_lock(&p->mu);
    p->done = true;
    p->status = status;
    p->raft_rv = raft_rv;
    if (p->sh != NULL && status == TL_ENOTLEADER)
        p->leader_hint = atomic_load(&p->sh->leader_id);
    if (res != NULL)
        p->res = *res;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    node_task_unref(p);
}

void
node_task_complete(struct proposal *p, int status, int raft_rv)
{
    proposal_complete(p, status, raft_rv, NULL);
}

static int
raft_status_code(int rv)
{
    return rv == RAFT_NOTLEADER || rv == RAFT_LEADERSHIPLOST ? TL_ENOTLEADER
                                                             : TL_EUNAVAILABLE;
}

/* The applier applied the entry (its thread, or at once). */
static void
applied_cb(struct applier_waiter *w, int status, const struct fsm_result *res)
{
    struct proposal *p =
        (struct proposal *)((char *)w - offsetof(struct proposal, aw));
    /* The applier wrote the entry but its result left the ring before the
     * claim (not expected: it holds the last FSM_DONE_RING results). The
     * client is told the outcome is unknown: a retry under the same
     * request id answers the stored result. */
    if (status != 0)
        proposal_complete(p, TL_ENOTLEADER, RAFT_LEADERSHIPLOST, NULL);
    else
        proposal_complete(p, 0, 0, res);
}

/* Committed (raft's callback, on the loop): the worker is answered once
 * the applier wrote it, so an acknowledged write is visible to reads. */
static void
apply_cb(struct raft_apply *req, int status, void *result)
{
    struct proposal *p = req->data;
    if (status != 0) {
        /* After LEADERSHIPLOST the entry may still commit: unknown. */
        proposal_complete(p, raft_status_code(status), status, NULL);
        return;
    }
    p->aw.done = applied_cb;
    applier_claim(&p->sh->fsm, result, &p->aw);
}

static bool
leading(struct node_shard *sh)
{
    return sh->raft_inited && !sh->dropping &&
           raft_state(&sh->raft) == RAFT_LEADER;
}

static void
propose_one(struct proposal *p)
{
    struct node_shard *sh = p->sh;
    int rv;

    if (!leading(sh) || atomic_load(&sh->fsm.restoring)) {
        raft_free(p->buf.base);
        proposal_complete(p, TL_ENOTLEADER, RAFT_NOTLEADER, NULL);
        return;
    }
    p->req.data = p;
    rv = raft_apply(&sh->raft, &p->req, &p->buf, 1, apply_cb);
    if (rv != 0) {
        /* On failure raft did not take the buffer. */
        raft_free(p->buf.base);
        proposal_complete(p, raft_status_code(rv), rv, NULL);
    }
}

/* ---- linearizable reads (reads.h) and work deferred out of raft */

static void
read_done(struct read_waiter *w, int status)
{
    struct proposal *p =
        (struct proposal *)((char *)w - offsetof(struct proposal, rw));
    int code = status == 0               ? 0
               : status == RAFT_SHUTDOWN ? TL_ESHUTDOWN
                                         : raft_status_code(status);
    proposal_complete(p, code, status, NULL);
}

static void
reads_defer(struct reads *r)
{
    node_defer(r->data, DEFER_READS);
}

/* Run every shard's deferred work, outside raft. A shard whose group no
 * longer runs fails its waiting reads; membership work checks on its own. */
static void
run_deferred(struct node *n)
{
    while (n->defer_head != NULL) {
        struct node_shard *sh = n->defer_head;
        unsigned what = sh->deferred;
        n->defer_head = sh->defer_next;
        sh->defer_next = NULL;
        sh->defer_queued = false;
        sh->deferred = 0;
        if (what & DEFER_READS) {
            if (sh->raft_inited && !sh->dropping)
                reads_run_deferred(&sh->reads);
            else
                reads_fail_waiting(&sh->reads, RAFT_SHUTDOWN);
        }
        if (what & (DEFER_ASSIGN | DEFER_XFER))
            membership_run_deferred(sh, what);
    }
}

static void
defer_timer_cb(uv_timer_t *t)
{
    run_deferred(t->data);
}

void
node_defer(struct node_shard *sh, unsigned what)
{
    struct node *n = sh->node;

    if (what & (DEFER_ASSIGN | DEFER_XFER))
        sh->deferred_term = raft_current_term(&sh->raft);
    sh->deferred |= what;
    if (!sh->defer_queued) {
        sh->defer_queued = true;
        sh->defer_next = n->defer_head;
        n->defer_head = sh;
    }
    if (n->handles_inited && !n->shutting_down)
        uv_timer_start(&n->defer_timer, defer_timer_cb, 0, 0);
}

/* Whether @sh's configuration has exactly one voter, this node. */
static bool
sole_voter(struct node_shard *sh)
{
    const struct raft_configuration *c = &sh->raft.configuration;
    unsigned n_voters = 0;
    bool self = false;
    for (unsigned i = 0; i < c->n; i++)
        if (c->servers[i].role == RAFT_VOTER) {
            n_voters++;
            self |= c->servers[i].id == sh->raft.id;
        }
    return n_voters == 1 && self;
}

static void
read_one(struct proposal *p)
{
    struct node_shard *sh = p->sh;

    if (!leading(sh) || atomic_load(&sh->fsm.restoring)) {
        proposal_complete(p, TL_ENOTLEADER, RAFT_NOTLEADER, NULL);
        return;
    }
    /* A sole voter cannot be deposed by anyone else and acknowledges
     * writes only once applied: its state is already linearizable. */
    if ((sole_voter(sh) && sh->raft.configuration_uncommitted_index == 0) ||
        sh->node->opts.no_read_barrier) {
        p->read_index = raft_last_applied(&sh->raft);
        proposal_complete(p, 0, 0, NULL);
        return;
    }
    p->rw.done = read_done;
    reads_add(&sh->reads, &p->rw);
}

static void
restored_one(struct proposal *p)
{
    struct node_shard *sh = p->sh;
    struct node_fsm *f = &sh->fsm;
    uint64_t applied = 0;

    if (!atomic_load(&sh->active) || !atomic_load(&f->restoring)) {
        atomic_store(&sh->fetch_wanted, false);
        atomic_store(&sh->fetch_finishing, false);
        node_task_complete(p, 0, 0);
        return;
    }
    /* A newer snapshot arrived while copying: copy again. */
    if (store_read_applied(f->st, f->cf, NULL, &applied) != 0 ||
        applied < atomic_load(&f->restore_index) ||
        fsm_restore_finish(f) != 0) {
        tl_warn("node",
                "event=restore_again shard=%u fetched=%llu "
                "target=%llu",
                sh->shard, (unsigned long long)applied,
                (unsigned long long)atomic_load(&f->restore_index));
        atomic_store(&sh->fetch_finishing, false);
        restore_wake(sh);
    } else {
        /* Done: wake-ups from snapshots received meanwhile are stale.
         * Cleared before fetch_finishing so the fetcher never starts a
         * copy over a shard that applies normally again. */
        atomic_store(&sh->fetch_wanted, false);
        atomic_store(&sh->fetch_finishing, false);
    }
    node_task_complete(p, 0, 0);
}

/* Take the whole queue (and whether we were asked to stop). */
static struct proposal *
take_queue(struct node *n, bool stop)
{
    struct proposal *head;
    pthread_mutex_lock(&n->qmu);
    head = n->qhead;
    n->qhead = n->qtail = NULL;
    if (stop)
        n->stopping = true;
    pthread_mutex_unlock(&n->qmu);
    return head;
}

static void
run_task(struct node *n, struct proposal *p)
{
    switch (p->kind) {
    case TASK_WRITE:
        propose_one(p);
        break;
    case TASK_READ:
        read_one(p);
        break;
    case TASK_MEMBERSHIP:
        membership_start(n, p);
        break;
    case TASK_RESTORED:
        restored_one(p);
        break;
    }
}

/* Fail task @p because the node is shutting down. */
static void
fail_task(struct proposal *p)
{
    if (p->kind == TASK_WRITE)
        raft_free(p->buf.base);
    if (p->kind == TASK_RESTORED)
        atomic_store(&p->sh->fetch_finishing, false);
    proposal_complete(p, TL_ESHUTDOWN, RAFT_SHUTDOWN, NULL);
}

static void
async_cb(uv_async_t *h)
{
    struct node *n = h->data;
    struct proposal *p = take_queue(n, false);
    while (p != NULL) {
        struct proposal *next = p->next;
        p->next = NULL;
        if (n->shutting_down)
            fail_task(p);
        else
            run_task(n, p);
        p = next;
    }
    if (atomic_load(&n->stop_requested))
        begin_shutdown(n);
}

struct proposal *
node_task_create(enum task_kind kind, struct node_shard *sh, uint32_t shard)
{
    struct proposal *p = calloc(1, sizeof *p);
    pthread_condattr_t ca;

    if (p == NULL)
        abort();
    p->kind = kind;
    p->sh = sh;
    p->shard = shard;
    p->refs = 2;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    return p;
}

bool
node_enqueue(struct node *n, struct proposal *p)
{
    pthread_mutex_lock(&n->qmu);
    if (n->stopping) {
        pthread_mutex_unlock(&n->qmu);
        return false;
    }
    if (n->qtail != NULL)
        n->qtail->next = p;
    else
        n->qhead = p;
    n->qtail = p;
    /* Under qmu: the loop closes the async only after setting stopping. */
    uv_async_send(&n->async);
    pthread_mutex_unlock(&n->qmu);
    return true;
}

/* Wait for @p at most @ms; true if it completed. */
static bool
wait_done(struct proposal *p, uint32_t ms)
{
    struct timespec ts = tl_clock_after_ms(ms);
    int rv = 0;

    pthread_mutex_lock(&p->mu);
    while (!p->done && rv != ETIMEDOUT)
        rv = pthread_cond_timedwait(&p->cv, &p->mu, &ts);
    pthread_mutex_unlock(&p->mu);
    return p->done;
}

/* Enqueue @p and wait at most @ms: its status, or TL_ESHUTDOWN /
 * TL_ETIMEOUT. Drops the worker's reference unless it returns
 * TL_ESHUTDOWN before enqueueing (then @p is freed here too). */
static int
submit_wait(struct node *n, struct proposal *p, uint32_t ms)
{
    if (!node_enqueue(n, p)) {
        if (p->kind == TASK_WRITE) {
            inflight_unlink(n, p);
            raft_free(p->buf.base);
        }
        p->refs = 1;
        return TL_ESHUTDOWN;
    }
    if (!wait_done(p, ms))
        return TL_ETIMEOUT;
    return p->status;
}

/* Fill @err for a not-leader outcome of @sh. */
static int
not_leader_error(struct node_shard *sh, int code, const char *what,
                 struct tl_error *err)
{
    uint64_t hint = atomic_load(&sh->leader_id);
    if (hint == sh->node->opts.id)
        hint = 0;
    if (code == TL_ENOTLEADER && hint == 0)
        code = TL_EUNAVAILABLE;
    tl_error_set(err, code, TL_SQLSTATE_CONNECTION_FAILURE,
                 "shard %u is not served by node %u%s", sh->shard,
                 sh->node->opts.id, what);
    if (hint != 0)
        tl_error_detail(err, "leader is node %llu", (unsigned long long)hint);
    else
        tl_error_detail(err, "no leader known");
    return code;
}

static int
proposal_error(struct node_shard *sh, const struct proposal *p,
               struct tl_error *err)
{
    if (p->raft_rv == RAFT_LEADERSHIPLOST) {
        /* The entry may still commit under the next leader. */
        int code = not_leader_error(sh, TL_ENOTLEADER,
                                    ": leadership lost, outcome unknown "
                                    "(retry with the same request id)",
                                    err);
        err->outcome_unknown = true;
        return code;
    }
    if (p->status == TL_ENOTLEADER)
        return not_leader_error(sh, TL_ENOTLEADER, "", err);
    tl_error_set(err, p->status, TL_SQLSTATE_CONNECTION_FAILURE,
                 "write to shard %u failed", sh->shard);
    tl_error_detail(err, "raft: %s", raft_strerror(p->raft_rv));
    return p->status;
}

int
node_propose(void *ctx, const Talus__WriteBatch *wb, struct fsm_result *res,
             struct tl_error *err)
{
    const struct node_write_ctx *w = ctx;
    struct raft_buffer buf;

    fsm_entry_encode(wb, &buf);
    return node_propose_buf(w->sh, buf, wb->has_request_id ? wb->request_id : 0,
                            w->answer_by_ms, res, err);
}

/* The outcome of write @p, waited for with status @rv, as node_propose()
 * answers it. */
static int
write_outcome(struct node_shard *sh, struct proposal *p, int rv,
              struct fsm_result *res, struct tl_error *err)
{
    struct node *n = sh->node;

    if (rv == TL_ESHUTDOWN) {
        tl_error_set(err, TL_ESHUTDOWN, TL_SQLSTATE_CONNECTION_FAILURE,
                     "shard %u is not served by node %u: shutting down",
                     sh->shard, n->opts.id);
        /* The proposal may already be in the log (shutdown cancels
         * pending applies, not entries), so it may commit later. */
        err->outcome_unknown = true;
    } else if (rv == TL_ETIMEOUT) {
        tl_error_set(err, TL_ETIMEOUT, TL_SQLSTATE_CONNECTION_FAILURE,
                     "write to shard %u timed out (outcome unknown)",
                     sh->shard);
        err->outcome_unknown = true;
        /* Still proposed here and we still lead: a retry with the same id
         * waits for this one, it is not a failover. */
        err->in_progress = atomic_load(&sh->is_leader);
    } else if (rv != 0) {
        rv = proposal_error(sh, p, err);
    } else {
        *res = p->res;
    }
    return rv;
}

/* The write of @sh under @request_id in flight, with a reference taken,
 * or NULL. */
static struct proposal *
find_inflight(struct node_shard *sh, uint64_t request_id)
{
    struct node *n = sh->node;
    struct proposal *p;

    pthread_mutex_lock(&n->inflight_mu);
    for (p = n->inflight; p != NULL; p = p->inflight_next)
        if (p->request_id == request_id && p->sh == sh)
            break;
    if (p != NULL) {
        pthread_mutex_lock(&p->mu);
        p->refs++;
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_unlock(&n->inflight_mu);
    return p;
}

/* How long a write's proposer waits: the request timeout, bounded by
 * @answer_by_ms (exec_now_ms() clock, 0: none), at least 1 ms. */
static uint32_t
write_wait_ms(const struct node *n, int64_t answer_by_ms)
{
    uint32_t ms = n->cfg.request_timeout_ms;
    if (answer_by_ms != 0) {
        int64_t left = answer_by_ms - exec_now_ms();
        if (left < (int64_t)ms)
            ms = left > 1 ? (uint32_t)left : 1;
    }
    return ms;
}

int
node_wait_inflight(struct node_shard *sh, uint64_t request_id,
                   int64_t answer_by_ms, struct fsm_result *res,
                   struct tl_error *err)
{
    struct proposal *p;
    int rv;

    if (request_id == 0 || (p = find_inflight(sh, request_id)) == NULL)
        return 1;
    rv = wait_done(p, write_wait_ms(sh->node, answer_by_ms)) ? p->status
                                                             : TL_ETIMEOUT;
    rv = write_outcome(sh, p, rv, res, err);
    node_task_unref(p);
    return rv;
}

int
node_propose_buf(struct node_shard *sh, struct raft_buffer buf,
                 uint64_t request_id, int64_t answer_by_ms,
                 struct fsm_result *res, struct tl_error *err)
{
    struct node *n = sh->node;
    struct proposal *p;
    int rv;

    if (buf.len > n->cfg.max_entry_bytes) {
        size_t len = buf.len;
        raft_free(buf.base);
        return tl_cluster_entry_too_large(sh->shard, len,
                                          n->cfg.max_entry_bytes, err);
    }
    rv = node_wait_inflight(sh, request_id, answer_by_ms, res, err);
    if (rv != 1) {
        raft_free(buf.base);
        return rv;
    }
    p = node_task_create(TASK_WRITE, sh, sh->shard);
    p->buf = buf;
    p->request_id = request_id;
    if (request_id != 0) {
        pthread_mutex_lock(&n->inflight_mu);
        p->in_flight = true;
        p->inflight_next = n->inflight;
        n->inflight = p;
        pthread_mutex_unlock(&n->inflight_mu);
    }
    rv = submit_wait(n, p, write_wait_ms(n, answer_by_ms));
    rv = write_outcome(sh, p, rv, res, err);
    node_task_unref(p);
    return rv;
}

int
node_read_barrier(struct node_shard *sh, struct tl_error *err)
{
    struct node *n = sh->node;
    struct proposal *p = node_task_create(TASK_READ, sh, sh->shard);
    double t0 = node_now();
    int rv = submit_wait(n, p, n->cfg.request_timeout_ms);

    if (rv == 0) {
        /* Confirmed: wait (in this worker) for the applier to catch up
         * with what raft had applied, within the same budget. */
        double used_ms = (node_now() - t0) * 1000.0;
        uint32_t left = used_ms >= n->cfg.request_timeout_ms
                            ? 0
                            : n->cfg.request_timeout_ms - (uint32_t)used_ms;
        if (applier_wait(&sh->fsm, p->read_index, left) != 0) {
            tl_error_set(err, TL_ETIMEOUT, TL_SQLSTATE_CONNECTION_FAILURE,
                         "read of shard %u timed out waiting for its "
                         "committed writes to be applied",
                         sh->shard);
            rv = TL_ETIMEOUT;
        }
    } else if (rv == TL_ESHUTDOWN)
        tl_error_set(err, TL_ESHUTDOWN, TL_SQLSTATE_CONNECTION_FAILURE,
                     "shard %u is not served by node %u: shutting down",
                     sh->shard, n->opts.id);
    else if (rv == TL_ETIMEOUT)
        tl_error_set(err, TL_ETIMEOUT, TL_SQLSTATE_CONNECTION_FAILURE,
                     "read of shard %u timed out waiting for a quorum",
                     sh->shard);
    else if (rv != 0)
        rv = not_leader_error(sh, TL_ENOTLEADER, "", err);
    node_task_unref(p);
    return rv;
}

int
node_membership(struct node *n, int op, uint32_t shard, uint32_t target,
                uint32_t timeout_ms, uint64_t *hint, struct tl_error *err)
{
    struct node_shard *sh =
        shard < TL_MAX_SHARDS ? atomic_load(&n->by_shard[shard]) : NULL;
    struct proposal *p = node_task_create(TASK_MEMBERSHIP, sh, shard);
    int rv;

    p->op = op;
    p->target = target;
    *hint = 0;
    rv = submit_wait(n, p, timeout_ms);
    if (rv == TL_ESHUTDOWN)
        tl_error_set(err, rv, TL_SQLSTATE_CONNECTION_FAILURE,
                     "node %u is shutting down", n->opts.id);
    else if (rv == TL_ETIMEOUT)
        tl_error_set(err, rv, TL_SQLSTATE_CONNECTION_FAILURE,
                     "membership change of shard %u timed out after %u ms "
                     "(it may still complete)",
                     shard, timeout_ms);
    else if (rv != 0) {
        *hint = p->leader_hint;
        tl_error_set(err, rv, TL_SQLSTATE_CONNECTION_FAILURE, "%s",
                     p->msg[0] ? p->msg : tl_strerror(rv));
    }
    node_task_unref(p);
    return rv;
}

/* ------------------------------------------------------------ leader poll */

/* Publish what workers may show of @sh's group (status). */
static void
publish_info(struct node_shard *sh)
{
    struct raft *r = &sh->raft;
    struct shard_info info;

    memset(&info, 0, sizeof info);
    for (unsigned i = 0; i < r->configuration.n; i++) {
        const struct raft_server *srv = &r->configuration.servers[i];
        if (srv->role == RAFT_VOTER && info.n_voters < TL_MAX_NODES)
            info.voters[info.n_voters++] = srv->id;
        else if (srv->role != RAFT_VOTER && info.n_standbys < TL_MAX_NODES)
            info.standbys[info.n_standbys++] = srv->id;
    }
    info.term = r->current_term;
    info.commit_index = r->commit_index;
    info.last_index = raft_last_index(r);
    pthread_mutex_lock(&sh->info_mu);
    sh->info = info;
    pthread_mutex_unlock(&sh->info_mu);
}

/* The loop runs every timer late when something blocks it; past a
 * quarter of the election timeout that costs heartbeats. Say so. */
static void
check_stall(struct node *n)
{
    double now = node_now(), late_ms;

    if (n->last_poll > 0) {
        late_ms = (now - n->last_poll) * 1000.0 - LEADER_POLL_MS;
        if (late_ms >= n->opts.election_timeout_ms / 4.0)
            tl_warn("node", "event=loop_stall ms=%.0f", late_ms);
    }
    n->last_poll = now;
}

static void
poll_leaders(uv_timer_t *t)
{
    struct node *n = t->data;
    size_t n_leading = 0, n_hosted = 0, n_with_leader = 0;

    check_stall(n);
    /* Every shard, then the meta group. */
    for (uint32_t k = 0; k <= n->cfg.n_shards && k < TL_MAX_SHARDS; k++) {
        uint32_t s = k == n->cfg.n_shards ? TL_META_GROUP : k;
        struct node_shard *sh = atomic_load(&n->by_shard[s]);
        raft_id id = 0;
        const char *addr = NULL;
        bool lead;
        if (sh == NULL || !sh->raft_inited || sh->dropping)
            continue;
        n_hosted++;
        raft_leader(&sh->raft, &id, &addr);
        lead = raft_state(&sh->raft) == RAFT_LEADER;
        if (lead != atomic_load(&sh->is_leader) ||
            id != atomic_load(&sh->leader_id))
            tl_info("node",
                    "event=leader shard=%u leader=%llu is_leader=%d "
                    "term=%llu",
                    sh->shard, (unsigned long long)id, lead,
                    (unsigned long long)sh->raft.current_term);
        if (lead && !atomic_load(&sh->is_leader))
            sh->lead_index = raft_last_index(&sh->raft);
        atomic_store(&sh->leader_id, id);
        atomic_store(&sh->is_leader, lead);
        n_leading += lead;
        n_with_leader += id != 0;
        publish_info(sh);
        membership_poll(sh);
        fsm_log_check(&sh->fsm);
    }
    if (!n->ready_logged && n_with_leader == n_hosted && n->rpc.started) {
        n->ready_logged = true;
        tl_info("node", "event=ready id=%u shards=%zu leading=%zu", n->opts.id,
                n_hosted, n_leading);
    }
}

/* ------------------------------------------------------------ shutdown */

static void
finish_shutdown(struct node *n)
{
    run_deferred(n); /* deferred by callbacks of the closing groups */
    rpc_server_stop(&n->rpc);
    restore_stop(n);
    restore_sessions_close(n);
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++) {
        struct node_shard *sh = atomic_load(&n->by_shard[s]);
        if (sh == NULL)
            continue;
        if (sh->io_inited)
            raft_uv_close(&sh->io);
        if (sh->transport_inited)
            rt_transport_close(&sh->transport);
        sh->io_inited = sh->transport_inited = false;
    }
    if (n->listener_inited)
        rt_listener_close(&n->listener, NULL);
    if (n->handles_inited) {
        uv_close((uv_handle_t *)&n->async, NULL);
        uv_close((uv_handle_t *)&n->leader_timer, NULL);
        uv_close((uv_handle_t *)&n->defer_timer, NULL);
        uv_close((uv_handle_t *)&n->sigterm, NULL);
        uv_close((uv_handle_t *)&n->sigint, NULL);
    }
    tl_info("node", "event=stopped id=%u", n->opts.id);
}

void
node_closing_done(struct node *n)
{
    if (--n->n_closing == 0 && n->shutting_down)
        finish_shutdown(n);
}

static void
group_closed_cb(struct raft *r)
{
    struct node_shard *sh = r->data;
    node_closing_done(sh->node);
}

static void
begin_shutdown(struct node *n)
{
    struct proposal *p;

    if (n->shutting_down)
        return;
    n->shutting_down = true;
    tl_info("node", "event=shutdown id=%u", n->opts.id);
    registry_request_stop(n); /* joined by node_destroy(), off the loop */
    /* New proposals now fail at once; queued ones never reach raft. */
    p = take_queue(n, true);
    while (p != NULL) {
        struct proposal *next = p->next;
        fail_task(p);
        p = next;
    }
    if (n->handles_inited) {
        uv_timer_stop(&n->leader_timer);
        uv_timer_stop(&n->defer_timer);
    }
    n->n_closing++; /* held until every raft_close() is issued */
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++) {
        struct node_shard *sh = atomic_load(&n->by_shard[s]);
        if (sh == NULL)
            continue;
        atomic_store(&sh->is_leader, false);
        atomic_store(&sh->active, false);
        /* Reads waiting for a barrier that was never issued (those of the
         * barrier in flight fail when raft_close cancels it). */
        reads_fail_waiting(&sh->reads, RAFT_SHUTDOWN);
        if (sh->raft_inited) {
            n->n_closing++;
            sh->raft_inited = false;
            raft_close(&sh->raft, group_closed_cb);
        }
    }
    run_deferred(n); /* every group is closing: fails what waited */
    node_closing_done(n);
}

static void
signal_cb(uv_signal_t *h, int signum)
{
    struct node *n = h->data;
    tl_info("node", "event=signal signal=%d", signum);
    begin_shutdown(n);
}

void
node_stop(struct node *n)
{
    atomic_store(&n->stop_requested, true);
    pthread_mutex_lock(&n->qmu);
    if (!n->stopping && n->handles_inited)
        uv_async_send(&n->async);
    pthread_mutex_unlock(&n->qmu);
}

/* ------------------------------------------------------------ startup */

struct node_shard *
node_shard_alloc(struct node *n, uint32_t shard)
{
    struct node_shard *sh = atomic_load(&n->by_shard[shard]);
    if (sh != NULL)
        return sh;
    sh = calloc(1, sizeof *sh);
    if (sh == NULL)
        abort();
    sh->node = n;
    sh->shard = shard;
    pthread_mutex_init(&sh->info_mu, NULL);
    atomic_store(&n->by_shard[shard], sh);
    return sh;
}

#define HOSTED_KEY "hosted"

int
node_save_hosted(struct node *n)
{
    uint8_t *buf = malloc(TL_MAX_SHARDS * 5);
    size_t len = 0;
    int rv;

    if (buf == NULL)
        abort();
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++) {
        struct node_shard *sh = atomic_load(&n->by_shard[s]);
        if (sh == NULL || !sh->hosted)
            continue;
        buf[len++] = (uint8_t)(s >> 24);
        buf[len++] = (uint8_t)(s >> 16);
        buf[len++] = (uint8_t)(s >> 8);
        buf[len++] = (uint8_t)s;
        buf[len++] = sh->initial;
    }
    rv = store_meta_put(n->st, HOSTED_KEY, buf, len);
    free(buf);
    return rv;
}

/* A data dir persisted before the meta group existed: host the meta
 * group if the placement says so and this node never had raft state for
 * it (no release has shipped; nothing subtler is needed). */
static int
add_meta_group(struct node *n)
{
    char dir[PATH_MAX + 32];
    uint32_t ids[8];
    int k = tl_cluster_shard_replicas(&n->cfg, TL_META_GROUP, ids, 8);
    bool mine = false;
    struct stat stbuf;

    if (atomic_load(&n->by_shard[TL_META_GROUP]) != NULL)
        return 0;
    for (int i = 0; i < k; i++)
        mine = mine || ids[i] == n->opts.id;
    snprintf(dir, sizeof dir, "%s/raft/shard-%u", n->self->dir, TL_META_GROUP);
    if (!mine || stat(dir, &stbuf) == 0)
        return 0;
    struct node_shard *sh = node_shard_alloc(n, TL_META_GROUP);
    sh->hosted = true;
    sh->initial = true;
    tl_info("node", "event=meta_group_added dir=%s", n->self->dir);
    return node_save_hosted(n);
}

/* The hosted set: persisted, else computed from the initial placement
 * (and persisted), the meta group included. */
static int
collect_shards(struct node *n)
{
    char *v;
    size_t len;
    int rv = store_meta_get(n->st, HOSTED_KEY, &v, &len);

    if (rv != 0)
        return rv;
    if (v != NULL) {
        for (size_t i = 0; i + 5 <= len; i += 5) {
            uint32_t s = tl_load_be32((const uint8_t *)v + i);
            struct node_shard *sh;
            if (s >= TL_MAX_SHARDS)
                continue;
            sh = node_shard_alloc(n, s);
            sh->hosted = true;
            sh->initial = v[i + 4] != 0;
        }
        free(v);
        return add_meta_group(n);
    }
    if (n->opts.id <= n->cfg.n_initial_nodes || n->cfg.n_initial_nodes == 0) {
        for (uint32_t g = 0; g <= n->cfg.n_shards; g++) {
            uint32_t s = g == n->cfg.n_shards ? TL_META_GROUP : g;
            uint32_t ids[8];
            int k = tl_cluster_shard_replicas(&n->cfg, s, ids, 8);
            for (int i = 0; i < k; i++) {
                if (ids[i] != n->opts.id)
                    continue;
                struct node_shard *sh = node_shard_alloc(n, s);
                sh->hosted = true;
                sh->initial = true;
            }
        }
    }
    return node_save_hosted(n);
}

static int
open_storage(struct node *n)
{
    char path[PATH_MAX + 8], errbuf[512];
    int rv;

    snprintf(path, sizeof path, "%s/db", n->self->dir);
    rv = store_open(path, NULL, 0, &n->st, errbuf, sizeof errbuf);
    if (rv != 0)
        tl_error("node", "event=storage_open_failed path=%s err=\"%s\"", path,
                 errbuf);
    if (rv == 0) {
        mvcc_gc_install(n->st); /* collects once gc.c learns a safe point */
        gc_load(n);
    }
    return rv;
}

/* Every initial replica bootstraps the same R-voter configuration. */
static int
bootstrap(struct node_shard *sh)
{
    struct node *n = sh->node;
    struct raft_configuration conf;
    uint32_t ids[8];
    int k = tl_cluster_shard_replicas(&n->cfg, sh->shard, ids, 8);
    int rv = 0;

    raft_configuration_init(&conf);
    for (int i = 0; i < k && rv == 0; i++)
        rv = raft_configuration_add(&conf, ids[i],
                                    tl_cluster_node(&n->cfg, ids[i])->raft_addr,
                                    RAFT_VOTER);
    if (rv == 0)
        rv = raft_bootstrap(&sh->raft, &conf);
    raft_configuration_close(&conf);
    if (rv == RAFT_CANTBOOTSTRAP)
        return 0; /* state exists: not the first start */
    if (rv == 0)
        tl_info("node", "event=bootstrap shard=%u voters=%d", sh->shard, k);
    return rv;
}

static void
tune_raft(struct node_shard *sh)
{
    const struct node_options *o = &sh->node->opts;
    raft_set_election_timeout(&sh->raft, o->election_timeout_ms);
    raft_set_heartbeat_timeout(&sh->raft, o->heartbeat_timeout_ms);
    raft_set_snapshot_threshold(&sh->raft, o->snapshot_threshold);
    raft_set_snapshot_trailing(&sh->raft, o->snapshot_trailing);
    fsm_set_retention(&sh->fsm, o->snapshot_threshold, o->snapshot_trailing,
                      NODE_LOG_RETAIN_BYTES);
    raft_set_pre_vote(&sh->raft, true);
}

static void
fsm_restore_recorded(struct node_fsm *f)
{
    restore_wake(f->restore_data);
}

/* The meta group applied a catalog batch: learn its map version. */
static void
meta_batch_applied(struct node_fsm *f, const Talus__WriteBatch *b)
{
    node_learn_catalog_batch(f->applied_data, b);
}

int
node_start_group(struct node_shard *sh)
{
    struct node *n = sh->node;
    int rv;

    snprintf(sh->dir, sizeof sh->dir, "%s/raft/shard-%u", n->self->dir,
             sh->shard);
    if (store_mkdir_p(sh->dir) != 0) {
        tl_error("node", "event=mkdir_failed path=%s err=\"%s\"", sh->dir,
                 strerror(errno));
        return TL_EIO;
    }
    rv = fsm_init(&sh->fsm, n->st, sh->shard);
    if (rv != 0) {
        tl_error("node", "event=fsm_init_failed shard=%u err=\"%s\"", sh->shard,
                 tl_strerror(rv));
        fsm_close(&sh->fsm);
        return rv;
    }
    sh->fsm_inited = true;
    applier_attach(&n->applier, &sh->fsm);
    sh->fsm.node_id = n->opts.id;
    sh->fsm.restore_cb = fsm_restore_recorded;
    sh->fsm.restore_data = sh;
    if (sh->shard == TL_META_GROUP) {
        sh->fsm.applied_cb = meta_batch_applied;
        sh->fsm.applied_data = n;
    }
    if (rt_transport_init(&sh->transport, &n->listener, sh->shard) != 0)
        return TL_ENOMEM;
    sh->transport_inited = true;
    rv = raft_uv_init(&sh->io, &n->loop, sh->dir, &sh->transport);
    if (rv != 0)
        goto err_raft;
    sh->io_inited = true;
    fsm_setup_raft(&sh->fsm, &sh->raft);
    rv = raft_init(&sh->raft, &sh->io, &sh->fsm.raft_fsm, n->opts.id,
                   n->self->raft_addr);
    if (rv != 0)
        goto err_raft;
    sh->raft.data = sh;
    sh->raft_inited = true;
    reads_init(&sh->reads, &sh->raft, reads_defer, sh);
    tune_raft(sh);
    if (sh->initial)
        rv = bootstrap(sh);
    if (rv == 0)
        rv = raft_start(&sh->raft);
    if (rv != 0)
        goto err_raft;
    atomic_store(&sh->active, true);
    if (atomic_load(&sh->fsm.restoring))
        restore_wake(sh);
    tl_info("node", "event=group_started shard=%u applied=%llu initial=%d",
            sh->shard, (unsigned long long)fsm_applied(&sh->fsm), sh->initial);
    return 0;

err_raft:
    tl_error("node",
             "event=raft_start_failed shard=%u rv=%d err=\"%s\" msg=\"%s\"",
             sh->shard, rv, raft_strerror(rv),
             sh->raft_inited ? raft_errmsg(&sh->raft)
             : sh->io_inited ? ""
                             : sh->io.errmsg);
    return TL_EIO;
}

static void
init_handles(struct node *n)
{
    uv_async_init(&n->loop, &n->async, async_cb);
    n->async.data = n;
    uv_timer_init(&n->loop, &n->leader_timer);
    n->leader_timer.data = n;
    uv_timer_init(&n->loop, &n->defer_timer);
    n->defer_timer.data = n;
    uv_signal_init(&n->loop, &n->sigterm);
    n->sigterm.data = n;
    uv_signal_init(&n->loop, &n->sigint);
    n->sigint.data = n;
    uv_signal_start(&n->sigterm, signal_cb, SIGTERM);
    uv_signal_start(&n->sigint, signal_cb, SIGINT);
    uv_timer_start(&n->leader_timer, poll_leaders, LEADER_POLL_MS,
                   LEADER_POLL_MS);
    n->handles_inited = true;
}

static int
start_rpc(struct node *n)
{
    char errbuf[512];
    int rv = rpc_server_start(&n->rpc, n->self->rpc_addr, n->opts.n_workers,
                              node_rpc_handle, n, errbuf, sizeof errbuf);
    if (rv != 0)
        tl_error("node", "event=rpc_listen_failed addr=%s err=\"%s\"",
                 n->self->rpc_addr, errbuf);
    else
        tl_info("node", "event=rpc_listening addr=%s workers=%d",
                n->self->rpc_addr, n->opts.n_workers);
    return rv;
}

static int
start_all(struct node *n)
{
    size_t n_hosted = 0;
    int rv;

    if (store_mkdir_p(n->self->dir) != 0) {
        tl_error("node", "event=mkdir_failed path=%s err=\"%s\"", n->self->dir,
                 strerror(errno));
        return TL_EIO;
    }
    rv = open_storage(n);
    if (rv != 0)
        return rv;
    rv = collect_shards(n);
    if (rv != 0)
        return rv;
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++) {
        struct node_shard *sh = atomic_load(&n->by_shard[s]);
        struct store_cf *cf;
        if (sh == NULL)
            continue;
        rv = store_ensure_shard_cf(n->st, s, &cf);
        if (rv != 0)
            return rv;
        n_hosted++;
    }
    tl_info("node", "event=starting id=%u shards=%zu replicas=%u dir=%s",
            n->opts.id, n_hosted, n->cfg.n_replicas, n->self->dir);
    rv = restore_start(n);
    if (rv != 0)
        return rv;
    rv = applier_start(&n->applier);
    if (rv != 0)
        return rv;
    rv = rt_listener_init(&n->listener, &n->loop, n->self->raft_addr);
    if (rv != 0)
        return rv; /* logged by the listener */
    n->listener_inited = true;
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++) {
        struct node_shard *sh = atomic_load(&n->by_shard[s]);
        if (sh == NULL)
            continue;
        rv = node_start_group(sh);
        if (rv != 0)
            return rv;
    }
    rv = start_rpc(n);
    if (rv == 0)
        rv = registry_start(n);
    return rv;
}

int
node_start(struct node *n)
{
    int rv;

    if (uv_loop_init(&n->loop) != 0) {
        tl_error("node", "event=loop_init_failed");
        return TL_EIO;
    }
    n->loop_inited = true;
    init_handles(n);
    rv = start_all(n);
    if (rv != 0)
        begin_shutdown(n);
    return rv;
}

void
node_run(struct node *n)
{
    if (n->loop_inited)
        uv_run(&n->loop, UV_RUN_DEFAULT);
}

void
node_destroy(struct node *n)
{
    if (n == NULL)
        return;
    if (n->loop_inited) {
        /* Drain close callbacks, then release the loop. */
        uv_run(&n->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&n->loop) != 0)
            tl_warn("node", "event=loop_busy_at_exit");
    }
    registry_destroy(n);
    restore_stop(n);
    restore_sessions_close(n);
    applier_stop(&n->applier); /* applies what raft committed, then joins */
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++) {
        struct node_shard *sh = atomic_load(&n->by_shard[s]);
        if (sh == NULL)
            continue;
        fsm_close(&sh->fsm);
        pthread_mutex_destroy(&sh->info_mu);
        free(sh);
    }
    store_close(n->st);
    prepared_close(&n->prepared);
    pthread_mutex_destroy(&n->inflight_mu);
    pthread_mutex_destroy(&n->qmu);
    pthread_mutex_destroy(&n->fmu);
    pthread_cond_destroy(&n->fcv);
    tso_close(&n->tso);
    txn_waits_close(&n->waits);
    lock_queue_close(&n->locks);
    free(n);
}
