#include "node_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "tl_error.h"

#define LEADER_POLL_MS 50

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
    *out = n;
    return 0;
}

/* ------------------------------------------------------------ proposals */

static void
proposal_unref(struct proposal *p)
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

/* On the loop: record the outcome, wake the worker, drop our reference. */
static void
proposal_complete(struct proposal *p, int status, int raft_rv,
                  const struct fsm_result *res)
{
    pthread_mutex_lock(&p->mu);
    p->done = true;
    p->status = status;
    p->raft_rv = raft_rv;
    if (res != NULL)
        p->res = *res;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    proposal_unref(p);
}

static void
apply_cb(struct raft_apply *req, int status, void *result)
{
    struct proposal *p = req->data;
    struct fsm_result res;
    if (status != 0) {
        /* After LEADERSHIPLOST the entry may still commit: unknown. */
        proposal_complete(p, TL_EUNAVAILABLE, status, NULL);
        return;
    }
    fsm_result_unpack(result, &res);
    proposal_complete(p, 0, 0, &res);
}

static void
propose_one(struct proposal *p)
{
    struct node_shard *sh = p->sh;
    int rv;

    if (!sh->raft_inited || raft_state(&sh->raft) != RAFT_LEADER) {
        raft_free(p->buf.base);
        proposal_complete(p, TL_ENOTLEADER, RAFT_NOTLEADER, NULL);
        return;
    }
    p->req.data = p;
    rv = raft_apply(&sh->raft, &p->req, &p->buf, 1, apply_cb);
    if (rv != 0) {
        /* On failure raft did not take the buffer. */
        raft_free(p->buf.base);
        proposal_complete(
            p, rv == RAFT_NOTLEADER ? TL_ENOTLEADER : TL_EUNAVAILABLE, rv,
            NULL);
    }
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
async_cb(uv_async_t *h)
{
    struct node *n = h->data;
    struct proposal *p = take_queue(n, false);
    while (p != NULL) {
        struct proposal *next = p->next;
        propose_one(p);
        p = next;
    }
    if (atomic_load(&n->stop_requested))
        begin_shutdown(n);
}

/* Encode @wb into a raft buffer inside a new proposal with two refs. */
static struct proposal *
proposal_create(struct node_shard *sh, const Talus__WriteBatch *wb)
{
    struct proposal *p = calloc(1, sizeof *p);
    pthread_condattr_t ca;

    if (p == NULL)
        abort();
    fsm_entry_encode(wb, &p->buf);
    p->sh = sh;
    p->refs = 2;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    return p;
}

/* Queue @p for the loop; false if the node is stopping (p untouched). */
static bool
enqueue(struct node *n, struct proposal *p)
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

/* Wait for @p until the request timeout; true if it completed. */
static bool
wait_done(struct node *n, struct proposal *p)
{
    struct timespec ts;
    uint32_t ms = n->cfg.request_timeout_ms;
    int rv = 0;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    while (!p->done && rv != ETIMEDOUT)
        rv = pthread_cond_timedwait(&p->cv, &p->mu, &ts);
    pthread_mutex_unlock(&p->mu);
    return p->done;
}

static int
proposal_error(struct node_shard *sh, const struct proposal *p,
               struct tl_error *err)
{
    struct node *n = sh->node;
    if (p->status == TL_ENOTLEADER)
        return tl_error_set(err, TL_ENOTLEADER, "08006",
                            "shard %u is not served by node %u", sh->shard,
                            n->opts.id);
    tl_error_set(err, p->status, "08006", "write to shard %u failed",
                 sh->shard);
    tl_error_detail(err, "raft: %s", raft_strerror(p->raft_rv));
    return p->status;
}

int
node_propose(void *ctx, const Talus__WriteBatch *wb, struct fsm_result *res,
             struct tl_error *err)
{
    struct node_shard *sh = ctx;
    struct node *n = sh->node;
    struct proposal *p = proposal_create(sh, wb);
    int rv = 0;

    if (!enqueue(n, p)) {
        raft_free(p->buf.base);
        p->refs = 1;
        proposal_unref(p);
        return tl_error_set(err, TL_ESHUTDOWN, "08006",
                            "shard %u is not served by node %u", sh->shard,
                            n->opts.id);
    }
    if (!wait_done(n, p))
        rv = tl_error_set(err, TL_ETIMEOUT, "08006",
                          "write to shard %u timed out", sh->shard);
    else if (p->status != 0)
        rv = proposal_error(sh, p, err);
    else
        *res = p->res;
    proposal_unref(p);
    return rv;
}

/* ------------------------------------------------------------ leader poll */

static void
poll_leaders(uv_timer_t *t)
{
    struct node *n = t->data;
    size_t n_leading = 0;

    for (size_t i = 0; i < n->n_shards; i++) {
        struct node_shard *sh = &n->shards[i];
        raft_id id = 0;
        const char *addr = NULL;
        bool leading;
        if (!sh->raft_inited)
            continue;
        raft_leader(&sh->raft, &id, &addr);
        leading = raft_state(&sh->raft) == RAFT_LEADER;
        if (leading != atomic_load(&sh->is_leader) ||
            id != atomic_load(&sh->leader_id))
            tl_info("node", "event=leader shard=%u leader=%llu is_leader=%d",
                    sh->shard, (unsigned long long)id, leading);
        atomic_store(&sh->leader_id, id);
        atomic_store(&sh->is_leader, leading);
        n_leading += leading;
    }
    if (!n->ready_logged && n_leading == n->n_shards && n->rpc.started) {
        n->ready_logged = true;
        tl_info("node", "event=ready id=%u shards=%zu", n->opts.id,
                n->n_shards);
    }
}

/* ------------------------------------------------------------ shutdown */

static void
finish_shutdown(struct node *n)
{
    rpc_server_stop(&n->rpc);
    for (size_t i = 0; i < n->n_shards; i++) {
        struct node_shard *sh = &n->shards[i];
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
        uv_close((uv_handle_t *)&n->sigterm, NULL);
        uv_close((uv_handle_t *)&n->sigint, NULL);
    }
    tl_info("node", "event=stopped id=%u", n->opts.id);
}

static void
group_closed_cb(struct raft *r)
{
    struct node_shard *sh = r->data;
    struct node *n = sh->node;
    if (--n->n_closing == 0)
        finish_shutdown(n);
}

static void
begin_shutdown(struct node *n)
{
    struct proposal *p;

    if (n->shutting_down)
        return;
    n->shutting_down = true;
    tl_info("node", "event=shutdown id=%u", n->opts.id);
    /* New proposals now fail at once; queued ones never reach raft. */
    p = take_queue(n, true);
    while (p != NULL) {
        struct proposal *next = p->next;
        raft_free(p->buf.base);
        proposal_complete(p, TL_ESHUTDOWN, RAFT_SHUTDOWN, NULL);
        p = next;
    }
    if (n->handles_inited)
        uv_timer_stop(&n->leader_timer);
    n->n_closing = 1; /* held until every raft_close() is issued */
    for (size_t i = 0; i < n->n_shards; i++) {
        struct node_shard *sh = &n->shards[i];
        atomic_store(&sh->is_leader, false);
        if (sh->raft_inited) {
            n->n_closing++;
            sh->raft_inited = false;
            raft_close(&sh->raft, group_closed_cb);
        }
    }
    if (--n->n_closing == 0)
        finish_shutdown(n);
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

static int
collect_shards(struct node *n)
{
    n->shards = calloc(n->cfg.n_shards + 1, sizeof *n->shards);
    if (n->shards == NULL)
        abort();
    for (uint32_t s = 0; s < n->cfg.n_shards; s++) {
        struct node_shard *sh;
        if (tl_cluster_shard_node(&n->cfg, s) != n->opts.id)
            continue;
        sh = &n->shards[n->n_shards++];
        sh->node = n;
        sh->shard = s;
        n->by_shard[s] = sh;
    }
    return 0;
}

static int
open_storage(struct node *n)
{
    char path[PATH_MAX + 8], errbuf[512];
    uint32_t *ids = calloc(n->n_shards + 1, sizeof *ids);
    int rv;

    if (ids == NULL)
        abort();
    for (size_t i = 0; i < n->n_shards; i++)
        ids[i] = n->shards[i].shard;
    snprintf(path, sizeof path, "%s/db", n->self->dir);
    rv = storage_open(path, ids, n->n_shards, &n->st, errbuf, sizeof errbuf);
    free(ids);
    if (rv != 0)
        tl_error("node", "event=storage_open_failed path=%s err=\"%s\"", path,
                 errbuf);
    return rv;
}

static int
bootstrap(struct node_shard *sh)
{
    struct node *n = sh->node;
    struct raft_configuration conf;
    int rv;

    raft_configuration_init(&conf);
    rv = raft_configuration_add(&conf, n->opts.id, n->self->raft_addr,
                                RAFT_VOTER);
    if (rv == 0)
        rv = raft_bootstrap(&sh->raft, &conf);
    raft_configuration_close(&conf);
    if (rv == RAFT_CANTBOOTSTRAP)
        return 0; /* state exists: not the first start */
    if (rv == 0)
        tl_info("node", "event=bootstrap shard=%u", sh->shard);
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
    raft_set_pre_vote(&sh->raft, true);
}

static int
start_group(struct node_shard *sh)
{
    struct node *n = sh->node;
    int rv;

    snprintf(sh->dir, sizeof sh->dir, "%s/raft/shard-%u", n->self->dir,
             sh->shard);
    if (storage_mkdir_p(sh->dir) != 0) {
        tl_error("node", "event=mkdir_failed path=%s err=\"%s\"", sh->dir,
                 strerror(errno));
        return TL_EIO;
    }
    rv = fsm_init(&sh->fsm, n->st, sh->shard);
    if (rv != 0) {
        tl_error("node", "event=fsm_init_failed shard=%u err=\"%s\"", sh->shard,
                 tl_strerror(rv));
        return rv;
    }
    if (rt_transport_init(&sh->transport, &n->listener, sh->shard) != 0)
        return TL_ENOMEM;
    sh->transport_inited = true;
    rv = raft_uv_init(&sh->io, &n->loop, sh->dir, &sh->transport);
    if (rv != 0)
        goto err_raft;
    sh->io_inited = true;
    /* Debian's raft 0.15 uv io may lack async_work: fall back. */
    fsm_setup_raft(&sh->fsm, &sh->raft,
                   sh->io.version > 1 && sh->io.async_work != NULL);
    rv = raft_init(&sh->raft, &sh->io, &sh->fsm.raft_fsm, n->opts.id,
                   n->self->raft_addr);
    if (rv != 0)
        goto err_raft;
    sh->raft.data = sh;
    sh->raft_inited = true;
    tune_raft(sh);
    rv = bootstrap(sh);
    if (rv == 0)
        rv = raft_start(&sh->raft);
    if (rv != 0)
        goto err_raft;
    tl_info("node", "event=group_started shard=%u applied=%llu", sh->shard,
            (unsigned long long)fsm_applied(&sh->fsm));
    return 0;

err_raft:
    tl_error("node",
             "event=raft_start_failed shard=%u rv=%d err=\"%s\" msg=\"%s\"",
             sh->shard, rv, raft_strerror(rv),
             sh->raft_inited ? raft_errmsg(&sh->raft) : "");
    return TL_EIO;
}

static void
init_handles(struct node *n)
{
    uv_async_init(&n->loop, &n->async, async_cb);
    n->async.data = n;
    uv_timer_init(&n->loop, &n->leader_timer);
    n->leader_timer.data = n;
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
    int rv;

    collect_shards(n);
    tl_info("node", "event=starting id=%u shards=%zu dir=%s", n->opts.id,
            n->n_shards, n->self->dir);
    if (storage_mkdir_p(n->self->dir) != 0) {
        tl_error("node", "event=mkdir_failed path=%s err=\"%s\"", n->self->dir,
                 strerror(errno));
        return TL_EIO;
    }
    rv = open_storage(n);
    if (rv != 0)
        return rv;
    rv = rt_listener_init(&n->listener, &n->loop, n->self->raft_addr);
    if (rv != 0)
        return rv; /* logged by the listener */
    n->listener_inited = true;
    for (size_t i = 0; i < n->n_shards; i++) {
        rv = start_group(&n->shards[i]);
        if (rv != 0)
            return rv;
    }
    return start_rpc(n);
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
    storage_close(n->st);
    free(n->shards);
    pthread_mutex_destroy(&n->qmu);
    free(n);
}
