/* replica_set — the node's raft groups and the loop that runs them:
 * initialisation, the hosted set (persisted in the store's metadata, else
 * computed from the initial placement), start-up, the task queue's async
 * handle, and shutdown (every group closed before the loop's handles). */
#include "node/replica/replica_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "common/admin/metrics.h"
#include "log.h"

#define LEADER_POLL_MS 50

struct replica *
replica_get(struct replica_set *rs, uint32_t shard)
{
    struct replica *sh =
        shard < TL_MAX_SHARDS ? atomic_load(&rs->by_shard[shard]) : NULL;
    return sh != NULL && atomic_load(&sh->active) ? sh : NULL;
}

static void
async_cb(uv_async_t *h)
{
    struct replica_set *rs = h->data;
    REPLICA_ASSERT_LOOP(rs);
    struct proposal *p = replica_task_take(rs, false);
    while (p != NULL) {
        struct proposal *next = p->next;
        p->next = NULL;
        if (rs->shutting_down)
            replica_fail_task(p);
        else
            replica_run_task(rs, p);
        p = next;
    }
    if (atomic_load(&rs->stop_requested))
        replica_set_shutdown(rs);
}

void
replica_shard_label(uint32_t shard, char *out, size_t len)
{
    if (shard == TL_META_GROUP)
        snprintf(out, len, "meta");
    else
        snprintf(out, len, "%u", shard);
}

struct replica *
replica_alloc(struct replica_set *rs, uint32_t shard)
{
    REPLICA_ASSERT_LOOP(rs);
    struct replica *sh = atomic_load(&rs->by_shard[shard]);
    if (sh != NULL)
        return sh;
    sh = calloc(1, sizeof *sh);
    if (sh == NULL)
        abort();
    sh->rs = rs;
    sh->shard = shard;
    pthread_mutex_init(&sh->info_mu, NULL);
    if (rs->propose_seconds != NULL) {
        char label[16];
        const char *v[] = {label};
        replica_shard_label(shard, label, sizeof label);
        sh->propose_seconds = tl_metrics_series(rs->propose_seconds, v);
    }
    atomic_store(&rs->by_shard[shard], sh);
    return sh;
}

#define HOSTED_KEY "hosted"

int
replica_save_hosted(struct replica_set *rs)
{
    uint8_t *buf = malloc(TL_MAX_SHARDS * 5);
    size_t len = 0;
    int rv;

    if (buf == NULL)
        abort();
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++) {
        struct replica *sh = atomic_load(&rs->by_shard[s]);
        if (sh == NULL || !sh->hosted)
            continue;
        buf[len++] = (uint8_t)(s >> 24);
        buf[len++] = (uint8_t)(s >> 16);
        buf[len++] = (uint8_t)(s >> 8);
        buf[len++] = (uint8_t)s;
        buf[len++] = sh->initial;
    }
    rv = store_meta_put(rs->st, HOSTED_KEY, buf, len);
    free(buf);
    return rv;
}

/* A data dir persisted before the meta group existed: host the meta
 * group if the placement says so and this node never had raft state for
 * it (no release has shipped; nothing subtler is needed). */
static int
add_meta_group(struct replica_set *rs)
{
    char dir[PATH_MAX + 32];
    uint32_t ids[8];
    int k = tl_cluster_shard_replicas(&rs->cfg, TL_META_GROUP, ids, 8);
    bool mine = false;
    struct stat stbuf;

    if (atomic_load(&rs->by_shard[TL_META_GROUP]) != NULL)
        return 0;
    for (int i = 0; i < k; i++)
        mine = mine || ids[i] == rs->opts.id;
    snprintf(dir, sizeof dir, "%s/raft/shard-%u", rs->self->dir, TL_META_GROUP);
    if (!mine || stat(dir, &stbuf) == 0)
        return 0;
    struct replica *sh = replica_alloc(rs, TL_META_GROUP);
    sh->hosted = true;
    sh->initial = true;
    tl_info("node", "event=meta_group_added dir=%s", rs->self->dir);
    return replica_save_hosted(rs);
}

/* The hosted set: persisted, else computed from the initial placement
 * (and persisted), the meta group included. */
static int
collect_shards(struct replica_set *rs)
{
    char *v;
    size_t len;
    int rv = store_meta_get(rs->st, HOSTED_KEY, &v, &len);

    if (rv != 0)
        return rv;
    if (v != NULL) {
        for (size_t i = 0; i + 5 <= len; i += 5) {
            uint32_t s = tl_load_be32((const uint8_t *)v + i);
            struct replica *sh;
            if (s >= TL_MAX_SHARDS)
                continue;
            sh = replica_alloc(rs, s);
            sh->hosted = true;
            sh->initial = v[i + 4] != 0;
        }
        free(v);
        return add_meta_group(rs);
    }
    if (rs->opts.id <= rs->cfg.n_initial_nodes ||
        rs->cfg.n_initial_nodes == 0) {
        for (uint32_t g = 0; g <= rs->cfg.n_shards; g++) {
            uint32_t s = g == rs->cfg.n_shards ? TL_META_GROUP : g;
            uint32_t ids[8];
            int k = tl_cluster_shard_replicas(&rs->cfg, s, ids, 8);
            for (int i = 0; i < k; i++) {
                if (ids[i] != rs->opts.id)
                    continue;
                struct replica *sh = replica_alloc(rs, s);
                sh->hosted = true;
                sh->initial = true;
            }
        }
    }
    return replica_save_hosted(rs);
}

static void
finish_shutdown(struct replica_set *rs)
{
    replica_run_deferred(rs); /* deferred by callbacks of the closing groups */
    if (rs->stopped_cb != NULL)
        rs->stopped_cb(rs->cb_data); /* stops the RPC workers */
    restore_stop(rs);
    restore_sessions_close(rs);
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++) {
        struct replica *sh = atomic_load(&rs->by_shard[s]);
        if (sh == NULL)
            continue;
        if (sh->io_inited)
            raft_uv_close(&sh->io);
        if (sh->transport_inited)
            rt_transport_close(&sh->transport);
        sh->io_inited = sh->transport_inited = false;
    }
    if (rs->listener_inited)
        rt_listener_close(&rs->listener, NULL);
    if (rs->handles_inited) {
        uv_close((uv_handle_t *)&rs->async, NULL);
        uv_close((uv_handle_t *)&rs->leader_timer, NULL);
        uv_close((uv_handle_t *)&rs->defer_timer, NULL);
    }
    tl_info("node", "event=stopped id=%u", rs->opts.id);
}

void
replica_closing_done(struct replica_set *rs)
{
    REPLICA_ASSERT_LOOP(rs);
    if (--rs->n_closing == 0 && rs->shutting_down)
        finish_shutdown(rs);
}

static void
group_closed_cb(struct raft *r)
{
    struct replica *sh = r->data;
    replica_closing_done(sh->rs);
}

void
replica_set_shutdown(struct replica_set *rs)
{
    struct proposal *p;

    REPLICA_ASSERT_LOOP(rs);
    if (rs->shutting_down)
        return;
    rs->shutting_down = true;
    tl_info("node", "event=shutdown id=%u", rs->opts.id);
    if (rs->shutdown_cb != NULL)
        rs->shutdown_cb(rs->cb_data); /* the registry thread, joined later */
    /* New proposals now fail at once; queued ones never reach raft. */
    p = replica_task_take(rs, true);
    while (p != NULL) {
        struct proposal *next = p->next;
        replica_fail_task(p);
        p = next;
    }
    if (rs->handles_inited) {
        uv_timer_stop(&rs->leader_timer);
        uv_timer_stop(&rs->defer_timer);
    }
    rs->n_closing++; /* held until every raft_close() is issued */
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++) {
        struct replica *sh = atomic_load(&rs->by_shard[s]);
        if (sh == NULL)
            continue;
        atomic_store(&sh->is_leader, false);
        atomic_store(&sh->active, false);
        /* Reads waiting for a barrier that was never issued (those of the
         * barrier in flight fail when raft_close cancels it). */
        reads_fail_waiting(&sh->reads, RAFT_SHUTDOWN);
        if (sh->raft_inited) {
            rs->n_closing++;
            sh->raft_inited = false;
            raft_close(&sh->raft, group_closed_cb);
        }
    }
    replica_run_deferred(rs); /* every group is closing: fails what waited */
    replica_closing_done(rs);
}

void
replica_set_stop(struct replica_set *rs)
{
    atomic_store(&rs->stop_requested, true);
    pthread_mutex_lock(&rs->qmu);
    if (!rs->stopping && rs->handles_inited)
        uv_async_send(&rs->async);
    pthread_mutex_unlock(&rs->qmu);
}

void
replica_set_init(struct replica_set *rs, const struct tl_cluster_config *cfg,
                 const struct replica_options *opts)
{
    memset(rs, 0, sizeof *rs);
    rs->cfg = *cfg;
    rs->opts = *opts;
    rs->self = tl_cluster_node(&rs->cfg, opts->id);
    assert(rs->self != NULL);
    pthread_mutex_init(&rs->qmu, NULL);
    pthread_mutex_init(&rs->inflight_mu, NULL);
    pthread_mutex_init(&rs->fmu, NULL);
    pthread_cond_init(&rs->fcv, NULL);
}

bool
replica_set_on_loop(struct replica_set *rs)
{
    return !atomic_load(&rs->loop_runs) ||
           pthread_equal(pthread_self(), rs->loop_thread);
}

int
replica_set_init_loop(struct replica_set *rs)
{
    if (uv_loop_init(&rs->loop) != 0) {
        tl_error("node", "event=loop_init_failed");
        return TL_EIO;
    }
    rs->loop_inited = true;
    uv_async_init(&rs->loop, &rs->async, async_cb);
    rs->async.data = rs;
    uv_timer_init(&rs->loop, &rs->leader_timer);
    rs->leader_timer.data = rs;
    uv_timer_init(&rs->loop, &rs->defer_timer);
    rs->defer_timer.data = rs;
    uv_timer_start(&rs->leader_timer, replica_poll_leaders, LEADER_POLL_MS,
                   LEADER_POLL_MS);
    rs->handles_inited = true;
    return 0;
}

int
replica_set_start(struct replica_set *rs)
{
    size_t n_hosted = 0;
    int rv;

    rv = collect_shards(rs);
    if (rv != 0)
        return rv;
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++) {
        struct replica *sh = atomic_load(&rs->by_shard[s]);
        struct store_cf *cf;
        if (sh == NULL)
            continue;
        rv = store_ensure_shard_cf(rs->st, s, &cf);
        if (rv != 0)
            return rv;
        n_hosted++;
    }
    tl_info("node", "event=starting id=%u shards=%zu replicas=%u dir=%s",
            rs->opts.id, n_hosted, rs->cfg.n_replicas, rs->self->dir);
    rv = restore_start(rs);
    if (rv != 0)
        return rv;
    rv = applier_start(&rs->applier);
    if (rv == 0)
        rv = applier_start(&rs->meta_applier);
    if (rv != 0)
        return rv;
    rv = rt_listener_init(&rs->listener, &rs->loop, rs->self->raft_addr);
    if (rv != 0)
        return rv; /* logged by the listener */
    rs->listener_inited = true;
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++) {
        struct replica *sh = atomic_load(&rs->by_shard[s]);
        if (sh == NULL)
            continue;
        rv = replica_start(sh);
        if (rv != 0)
            return rv;
    }
    return 0;
}

void
replica_set_run(struct replica_set *rs)
{
    if (!rs->loop_inited)
        return;
    rs->loop_thread = pthread_self();
    atomic_store(&rs->loop_runs, true);
    uv_run(&rs->loop, UV_RUN_DEFAULT);
}

void
replica_set_close_loop(struct replica_set *rs)
{
    if (!rs->loop_inited)
        return;
    /* Drain close callbacks (on this thread: it is the loop's now), then
     * release the loop. */
    rs->loop_thread = pthread_self();
    atomic_store(&rs->loop_runs, true);
    uv_run(&rs->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&rs->loop) != 0)
        tl_warn("node", "event=loop_busy_at_exit");
}

void
replica_set_close(struct replica_set *rs)
{
    restore_stop(rs);
    restore_sessions_close(rs);
    applier_stop(&rs->applier); /* applies what raft committed, then joins */
    applier_stop(&rs->meta_applier);
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++) {
        struct replica *sh = atomic_load(&rs->by_shard[s]);
        if (sh == NULL)
            continue;
        fsm_close(&sh->fsm);
        pthread_mutex_destroy(&sh->info_mu);
        free(sh);
    }
    pthread_mutex_destroy(&rs->inflight_mu);
    pthread_mutex_destroy(&rs->qmu);
    pthread_mutex_destroy(&rs->fmu);
    pthread_cond_destroy(&rs->fcv);
}

int
replica_set_node_addr(struct replica_set *rs, uint32_t id, bool raft, char *out,
                      size_t len)
{
    const struct tl_node_config *nc = tl_cluster_node(&rs->cfg, id);

    if (rs->node_addr_cb != NULL)
        return rs->node_addr_cb(rs->cb_data, id, raft, out, len);
    if (nc == NULL || nc->rpc_addr[0] == '\0')
        return TL_ENOTFOUND;
    snprintf(out, len, "%s", raft ? nc->raft_addr : nc->rpc_addr);
    return 0;
}

uint32_t
replica_set_max_node(struct replica_set *rs)
{
    return rs->max_node_cb != NULL ? rs->max_node_cb(rs->cb_data)
                                   : rs->cfg.n_nodes;
}
