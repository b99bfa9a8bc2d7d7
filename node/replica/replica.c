/* replica — one raft group of this node: the workers' side (propose a
 * write, confirm a read, ask for a membership change: each a task for the
 * loop, replica_task.c) and the loop's side (run the tasks, commit and
 * apply callbacks, work deferred out of raft callbacks, the leader poll,
 * starting a group). */
#include "node/replica/replica_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "common/admin/metrics.h"
#include "common/base/sqlstate.h"
#include "log.h"

#define LEADER_POLL_MS 50
/* Entry bytes a group keeps in raft's in-memory log before a snapshot,
 * and about as much trailing after one (fsm_set_retention). */
#define NODE_LOG_RETAIN_BYTES ((uint64_t)32 << 20)

/* Milliseconds on the monotonic clock: the clock of answer_by_ms (the
 * executors' now_ms(), node/exec/exec.h). */
static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the loop's side: tasks, commits, applies */

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
        replica_task_finish(p, TL_ENOTLEADER, RAFT_LEADERSHIPLOST, NULL);
    else
        replica_task_finish(p, 0, 0, res);
}

/* Committed (raft's callback, on the loop): the worker is answered once
 * the applier wrote it, so an acknowledged write is visible to reads. */
static void
apply_cb(struct raft_apply *req, int status, void *result)
{
    struct proposal *p = req->data;
    if (status != 0) {
        /* After LEADERSHIPLOST the entry may still commit: unknown. */
        replica_task_finish(p, raft_status_code(status), status, NULL);
        return;
    }
    p->aw.done = applied_cb;
    applier_claim(&p->sh->fsm, result, &p->aw);
}

static bool
leading(struct replica *sh)
{
    return sh->raft_inited && !sh->dropping &&
           raft_state(&sh->raft) == RAFT_LEADER;
}

static void
propose_one(struct proposal *p)
{
    struct replica *sh = p->sh;
    int rv;

    if (!leading(sh) || atomic_load(&sh->fsm.restoring)) {
        raft_free(p->buf.base);
        replica_task_finish(p, TL_ENOTLEADER, RAFT_NOTLEADER, NULL);
        return;
    }
    p->req.data = p;
    rv = raft_apply(&sh->raft, &p->req, &p->buf, 1, apply_cb);
    if (rv != 0) {
        /* On failure raft did not take the buffer. */
        raft_free(p->buf.base);
        replica_task_finish(p, raft_status_code(rv), rv, NULL);
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
    replica_task_finish(p, code, status, NULL);
}

static void
reads_defer(struct reads *r)
{
    replica_defer(r->data, DEFER_READS);
}

/* Run every shard's deferred work, outside raft. A shard whose group no
 * longer runs fails its waiting reads; membership work checks on its own. */
void
replica_run_deferred(struct replica_set *rs)
{
    REPLICA_ASSERT_LOOP(rs);
    while (rs->defer_head != NULL) {
        struct replica *sh = rs->defer_head;
        unsigned what = sh->deferred;
        rs->defer_head = sh->defer_next;
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
    replica_run_deferred(t->data);
}

void
replica_defer(struct replica *sh, unsigned what)
{
    struct replica_set *rs = sh->rs;

    REPLICA_ASSERT_LOOP(rs);
    if (what & (DEFER_ASSIGN | DEFER_XFER))
        sh->deferred_term = raft_current_term(&sh->raft);
    sh->deferred |= what;
    if (!sh->defer_queued) {
        sh->defer_queued = true;
        sh->defer_next = rs->defer_head;
        rs->defer_head = sh;
    }
    if (rs->handles_inited && !rs->shutting_down)
        uv_timer_start(&rs->defer_timer, defer_timer_cb, 0, 0);
}

/* Whether @sh's configuration has exactly one voter, this node. */
static bool
sole_voter(struct replica *sh)
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
    struct replica *sh = p->sh;

    if (!leading(sh) || atomic_load(&sh->fsm.restoring)) {
        replica_task_finish(p, TL_ENOTLEADER, RAFT_NOTLEADER, NULL);
        return;
    }
    /* A sole voter cannot be deposed by anyone else and acknowledges
     * writes only once applied: its state is already linearizable. */
    if ((sole_voter(sh) && sh->raft.configuration_uncommitted_index == 0) ||
        sh->rs->opts.no_read_barrier) {
        p->read_index = raft_last_applied(&sh->raft);
        replica_task_finish(p, 0, 0, NULL);
        return;
    }
    p->rw.done = read_done;
    reads_add(&sh->reads, &p->rw);
}

static void
restored_one(struct proposal *p)
{
    struct replica *sh = p->sh;
    struct node_fsm *f = &sh->fsm;
    uint64_t applied = 0;

    if (!atomic_load(&sh->active) || !atomic_load(&f->restoring)) {
        atomic_store(&sh->fetch_wanted, false);
        atomic_store(&sh->fetch_finishing, false);
        replica_task_complete(p, 0, 0);
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
    replica_task_complete(p, 0, 0);
}

void
replica_run_task(struct replica_set *rs, struct proposal *p)
{
    REPLICA_ASSERT_LOOP(rs);
    switch (p->kind) {
    case TASK_WRITE:
        propose_one(p);
        break;
    case TASK_READ:
        read_one(p);
        break;
    case TASK_MEMBERSHIP:
        membership_start(rs, p);
        break;
    case TASK_RESTORED:
        restored_one(p);
        break;
    }
}

/* Fail task @p because the node is shutting down. */
void
replica_fail_task(struct proposal *p)
{
    if (p->kind == TASK_WRITE)
        raft_free(p->buf.base);
    if (p->kind == TASK_RESTORED)
        atomic_store(&p->sh->fetch_finishing, false);
    replica_task_finish(p, TL_ESHUTDOWN, RAFT_SHUTDOWN, NULL);
}

/* ---- the workers' side */

/* Fill @err for a not-leader outcome of @sh. */
static int
not_leader_error(struct replica *sh, int code, const char *what,
                 struct tl_error *err)
{
    uint64_t hint = atomic_load(&sh->leader_id);
    if (hint == sh->rs->opts.id)
        hint = 0;
    if (code == TL_ENOTLEADER && hint == 0)
        code = TL_EUNAVAILABLE;
    tl_error_set(err, code, TL_SQLSTATE_CONNECTION_FAILURE,
                 "shard %u is not served by node %u%s", sh->shard,
                 sh->rs->opts.id, what);
    if (hint != 0)
        tl_error_detail(err, "leader is node %llu", (unsigned long long)hint);
    else
        tl_error_detail(err, "no leader known");
    return code;
}

static int
proposal_error(struct replica *sh, const struct proposal *p,
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
replica_propose(void *ctx, const Talus__WriteBatch *wb, struct fsm_result *res,
                struct tl_error *err)
{
    const struct replica_write_ctx *w = ctx;
    struct raft_buffer buf;

    fsm_entry_encode(wb, &buf);
    return replica_propose_buf(w->sh, buf,
                               wb->has_request_id ? wb->request_id : 0,
                               w->answer_by_ms, res, err);
}

/* The outcome of write @p, waited for with status @rv, as replica_propose()
 * answers it. */
static int
write_outcome(struct replica *sh, struct proposal *p, int rv,
              struct fsm_result *res, struct tl_error *err)
{
    struct replica_set *rs = sh->rs;

    if (rv == TL_ESHUTDOWN) {
        tl_error_set(err, TL_ESHUTDOWN, TL_SQLSTATE_CONNECTION_FAILURE,
                     "shard %u is not served by node %u: shutting down",
                     sh->shard, rs->opts.id);
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

/* How long a write's proposer waits: the request timeout, bounded by
 * @answer_by_ms (now_ms() clock, 0: none), at least 1 ms. */
static uint32_t
write_wait_ms(const struct replica_set *rs, int64_t answer_by_ms)
{
    uint32_t ms = rs->cfg.request_timeout_ms;
    if (answer_by_ms != 0) {
        int64_t left = answer_by_ms - now_ms();
        if (left < (int64_t)ms)
            ms = left > 1 ? (uint32_t)left : 1;
    }
    return ms;
}

int
replica_wait_inflight(struct replica *sh, uint64_t request_id,
                      int64_t answer_by_ms, struct fsm_result *res,
                      struct tl_error *err)
{
    struct proposal *p;
    int rv;

    if (request_id == 0 ||
        (p = replica_task_find_inflight(sh, request_id)) == NULL)
        return 1;
    rv = replica_task_wait(p, write_wait_ms(sh->rs, answer_by_ms))
             ? p->status
             : TL_ETIMEOUT;
    rv = write_outcome(sh, p, rv, res, err);
    replica_task_unref(p);
    return rv;
}

int
replica_propose_buf(struct replica *sh, struct raft_buffer buf,
                    uint64_t request_id, int64_t answer_by_ms,
                    struct fsm_result *res, struct tl_error *err)
{
    struct replica_set *rs = sh->rs;
    struct proposal *p;
    int rv;

    if (buf.len > rs->cfg.max_entry_bytes) {
        size_t len = buf.len;
        raft_free(buf.base);
        return tl_cluster_entry_too_large(sh->shard, len,
                                          rs->cfg.max_entry_bytes, err);
    }
    rv = replica_wait_inflight(sh, request_id, answer_by_ms, res, err);
    if (rv != 1) {
        raft_free(buf.base);
        return rv;
    }
    p = replica_task_create(TASK_WRITE, sh, sh->shard);
    p->buf = buf;
    p->request_id = request_id;
    if (request_id != 0)
        replica_task_inflight_add(rs, p);
    atomic_fetch_add(&sh->n_proposals, 1);
    double t0 = tl_clock_now_s();
    rv = replica_task_submit_wait(rs, p, write_wait_ms(rs, answer_by_ms));
    rv = write_outcome(sh, p, rv, res, err);
    if (sh->propose_seconds != NULL)
        tl_metrics_observe(sh->propose_seconds, tl_clock_now_s() - t0);
    replica_task_unref(p);
    return rv;
}

int
replica_read_barrier(struct replica *sh, struct tl_error *err)
{
    struct replica_set *rs = sh->rs;
    struct proposal *p = replica_task_create(TASK_READ, sh, sh->shard);
    double t0 = tl_clock_now_s();
    int rv = replica_task_submit_wait(rs, p, rs->cfg.request_timeout_ms);

    if (rv == 0) {
        /* Confirmed: wait (in this worker) for the applier to catch up
         * with what raft had applied, within the same budget. */
        double used_ms = (tl_clock_now_s() - t0) * 1000.0;
        uint32_t left = used_ms >= rs->cfg.request_timeout_ms
                            ? 0
                            : rs->cfg.request_timeout_ms - (uint32_t)used_ms;
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
                     sh->shard, rs->opts.id);
    else if (rv == TL_ETIMEOUT)
        tl_error_set(err, TL_ETIMEOUT, TL_SQLSTATE_CONNECTION_FAILURE,
                     "read of shard %u timed out waiting for a quorum",
                     sh->shard);
    else if (rv != 0)
        rv = not_leader_error(sh, TL_ENOTLEADER, "", err);
    replica_task_unref(p);
    return rv;
}

int
replica_membership(struct replica_set *rs, int op, uint32_t shard,
                   uint32_t target, uint32_t timeout_ms, uint64_t *hint,
                   struct tl_error *err)
{
    struct replica *sh =
        shard < TL_MAX_SHARDS ? atomic_load(&rs->by_shard[shard]) : NULL;
    struct proposal *p = replica_task_create(TASK_MEMBERSHIP, sh, shard);
    int rv;

    p->op = op;
    p->target = target;
    *hint = 0;
    rv = replica_task_submit_wait(rs, p, timeout_ms);
    if (rv == TL_ESHUTDOWN)
        tl_error_set(err, rv, TL_SQLSTATE_CONNECTION_FAILURE,
                     "node %u is shutting down", rs->opts.id);
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
    replica_task_unref(p);
    return rv;
}

/* ---- leader poll */

/* Publish what workers may show of @sh's group (status). */
static void
publish_info(struct replica *sh)
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
check_stall(struct replica_set *rs)
{
    double now = tl_clock_now_s(), late_ms;

    if (rs->last_poll > 0) {
        late_ms = (now - rs->last_poll) * 1000.0 - LEADER_POLL_MS;
        if (late_ms >= rs->opts.election_timeout_ms / 4.0)
            tl_warn("node", "event=loop_stall ms=%.0f", late_ms);
    }
    rs->last_poll = now;
}

void
replica_poll_leaders(uv_timer_t *t)
{
    struct replica_set *rs = t->data;
    size_t n_leading = 0, n_hosted = 0, n_with_leader = 0;

    REPLICA_ASSERT_LOOP(rs);
    check_stall(rs);
    /* Every shard, then the meta group. */
    for (uint32_t k = 0; k <= rs->cfg.n_shards && k < TL_MAX_SHARDS; k++) {
        uint32_t s = k == rs->cfg.n_shards ? TL_META_GROUP : k;
        struct replica *sh = atomic_load(&rs->by_shard[s]);
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
        if (id != 0 && id != atomic_load(&sh->leader_id))
            atomic_fetch_add(&sh->n_leader_changes, 1);
        atomic_store(&sh->leader_id, id);
        atomic_store(&sh->is_leader, lead);
        n_leading += lead;
        n_with_leader += id != 0;
        publish_info(sh);
        membership_poll(sh);
        fsm_log_check(&sh->fsm);
    }
    if (!rs->ready_logged && n_with_leader == n_hosted && rs->serving) {
        rs->ready_logged = true;
        tl_info("node", "event=ready id=%u shards=%zu leading=%zu", rs->opts.id,
                n_hosted, n_leading);
    }
}

/* ---- starting a group */

/* Every initial replica bootstraps the same R-voter configuration. */
static int
bootstrap(struct replica *sh)
{
    struct replica_set *rs = sh->rs;
    struct raft_configuration conf;
    uint32_t ids[8];
    int k = tl_cluster_shard_replicas(&rs->cfg, sh->shard, ids, 8);
    int rv = 0;

    raft_configuration_init(&conf);
    for (int i = 0; i < k && rv == 0; i++)
        rv = raft_configuration_add(
            &conf, ids[i], tl_cluster_node(&rs->cfg, ids[i])->raft_addr,
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
tune_raft(struct replica *sh)
{
    const struct replica_options *o = &sh->rs->opts;
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
    struct replica_set *rs = f->applied_data;
    if (rs->catalog_cb != NULL)
        rs->catalog_cb(rs->cb_data, b);
}

int
replica_start(struct replica *sh)
{
    struct replica_set *rs = sh->rs;
    int rv;

    REPLICA_ASSERT_LOOP(rs);
    snprintf(sh->dir, sizeof sh->dir, "%s/raft/shard-%u", rs->self->dir,
             sh->shard);
    if (store_mkdir_p(sh->dir) != 0) {
        tl_error("node", "event=mkdir_failed path=%s err=\"%s\"", sh->dir,
                 strerror(errno));
        return TL_EIO;
    }
    rv = fsm_init(&sh->fsm, rs->st, sh->shard);
    if (rv != 0) {
        tl_error("node", "event=fsm_init_failed shard=%u err=\"%s\"", sh->shard,
                 tl_strerror(rv));
        fsm_close(&sh->fsm);
        return rv;
    }
    sh->fsm_inited = true;
    if (rs->apply_seconds != NULL) {
        char label[16];
        const char *v[] = {label};
        replica_shard_label(sh->shard, label, sizeof label);
        sh->fsm.apply_seconds = tl_metrics_series(rs->apply_seconds, v);
    }
    applier_attach(sh->shard == TL_META_GROUP ? &rs->meta_applier
                                              : &rs->applier,
                   &sh->fsm);
    sh->fsm.node_id = rs->opts.id;
    sh->fsm.restore_cb = fsm_restore_recorded;
    sh->fsm.restore_data = sh;
    if (sh->shard == TL_META_GROUP) {
        sh->fsm.applied_cb = meta_batch_applied;
        sh->fsm.applied_data = rs;
    }
    if (rt_transport_init(&sh->transport, &rs->listener, sh->shard) != 0)
        return TL_ENOMEM;
    sh->transport_inited = true;
    rv = raft_uv_init(&sh->io, &rs->loop, sh->dir, &sh->transport);
    if (rv != 0)
        goto err_raft;
    sh->io_inited = true;
    fsm_setup_raft(&sh->fsm, &sh->raft);
    rv = raft_init(&sh->raft, &sh->io, &sh->fsm.raft_fsm, rs->opts.id,
                   rs->self->raft_addr);
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
