/* node_admin — the node's metrics, readiness and admin server
 * (node_admin.h). */
#include "node/admin/node_admin.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/admin/admin_http.h"
#include "common/admin/metrics.h"
#include "node/replica/replica.h"
#include "node/store/store.h"
#include "tl_error.h"

/* A per-shard gauge fed from a RocksDB integer property. */
struct cf_prop {
    const char *name, *prop, *help;
    struct tl_metric_family *f;
};

/* A node-wide gauge fed from a RocksDB integer property. */
struct db_prop {
    const char *name, *prop, *help;
    struct tl_metric_series *s;
};

static struct cf_prop cf_props_init[] = {
    {"talus_node_rocksdb_sst_bytes", "rocksdb.total-sst-files-size",
     "Size of every SST file of the shard's column family (live and "
     "obsolete not yet deleted).",
     NULL},
    {"talus_node_rocksdb_live_sst_bytes", "rocksdb.live-sst-files-size",
     "Size of the SST files of the shard's current version.", NULL},
    {"talus_node_rocksdb_live_data_bytes", "rocksdb.estimate-live-data-size",
     "RocksDB's estimate of the shard's live data size.", NULL},
    {"talus_node_rocksdb_memtable_bytes", "rocksdb.cur-size-all-mem-tables",
     "Size of the shard's memtables (active and unflushed).", NULL},
    {"talus_node_rocksdb_keys_estimate", "rocksdb.estimate-num-keys",
     "RocksDB's estimate of the shard's keys (every MVCC version).", NULL},
    {"talus_node_rocksdb_pending_compaction_bytes",
     "rocksdb.estimate-pending-compaction-bytes",
     "Bytes RocksDB estimates compaction must rewrite for the shard.", NULL},
    {"talus_node_rocksdb_level0_files", "rocksdb.num-files-at-level0",
     "SST files at level 0 of the shard's column family.", NULL},
};
#define N_CF_PROPS (sizeof cf_props_init / sizeof cf_props_init[0])

static struct db_prop db_props_init[] = {
    {"talus_node_rocksdb_running_compactions",
     "rocksdb.num-running-compactions", "Compactions running now.", NULL},
    {"talus_node_rocksdb_running_flushes", "rocksdb.num-running-flushes",
     "Memtable flushes running now.", NULL},
    {"talus_node_rocksdb_compaction_pending", "rocksdb.compaction-pending",
     "1 when at least one compaction is pending.", NULL},
    {"talus_node_rocksdb_background_errors", "rocksdb.background-errors",
     "Background errors RocksDB has met (flush, compaction) since it "
     "opened.",
     NULL},
    {"talus_node_rocksdb_block_cache_bytes", "rocksdb.block-cache-usage",
     "Memory used by the block cache.", NULL},
};
#define N_DB_PROPS (sizeof db_props_init / sizeof db_props_init[0])

/* The series of one shard, found once (a lookup takes its family's lock
 * and scans its series) and kept for the registry's life. */
struct shard_series {
    struct tl_metric_series *term, *leader, *leader_id, *role[3], *commit,
        *applied, *last, *voters, *restoring;
    struct tl_metric_series *leader_changes, *proposals, *scans, *writes,
        *rows_read, *expired;
    struct tl_metric_series *cf_props[N_CF_PROPS];
};

/* Guards: everything is set by node_admin_create() (families) and
 * node_admin_start() (st, http) before the server serves, and read-only
 * while it does; `shards` belongs to the collector, which runs one
 * scrape at a time (metrics.h). */
struct node_admin {
    struct replica_set *rs; /* borrowed */
    struct store *st;       /* borrowed; NULL until started */
    struct tl_metrics *reg;
    struct tl_admin *http;
    struct tl_metric_family *term, *leader, *leader_id, *role, *commit,
        *applied, *last, *voters, *restoring;
    struct tl_metric_family *leader_changes, *proposals, *scans, *writes,
        *rows_read, *expired;
    struct tl_metric_series *hosted, *leading;
    struct cf_prop cf_props[N_CF_PROPS];
    struct db_prop db_props[N_DB_PROPS];
    struct shard_series *shards[TL_MAX_SHARDS]; /* by shard id, or NULL */
};

static const char *const roles[] = {"leader", "follower", "no_leader"};

static const char *const shard_label[] = {"shard"};

static struct tl_metric_family *
gauge(struct tl_metrics *reg, const char *name, const char *help)
{
    return tl_metrics_family(reg, name, help, TL_METRIC_GAUGE, shard_label, 1,
                             NULL, 0);
}

static struct tl_metric_family *
counter(struct tl_metrics *reg, const char *name, const char *help)
{
    return tl_metrics_family(reg, name, help, TL_METRIC_COUNTER, shard_label, 1,
                             NULL, 0);
}

void
node_admin_create(struct replica_set *rs, struct node_admin **out)
{
    struct node_admin *a = calloc(1, sizeof *a);
    struct tl_metrics *reg;
    static const char *const role_labels[] = {"shard", "role"};

    if (a == NULL)
        abort();
    a->rs = rs;
    tl_metrics_create(&a->reg);
    reg = a->reg;
    a->hosted = tl_metrics_gauge(reg, "talus_node_shards_hosted",
                                 "Raft groups (shards and the meta group) "
                                 "this node hosts and runs.");
    a->leading = tl_metrics_gauge(reg, "talus_node_shards_leading",
                                  "Raft groups this node leads.");
    a->term = gauge(reg, "talus_node_raft_term",
                    "Current Raft term of the shard's group on this node.");
    a->leader = gauge(reg, "talus_node_raft_is_leader",
                      "1 when this node leads the shard's group.");
    a->leader_id = gauge(reg, "talus_node_raft_leader_id",
                         "Node id of the leader this node knows for the "
                         "shard (0: none known).");
    a->role = tl_metrics_family(
        reg, "talus_node_raft_role",
        "1 for the shard's role on this node: leader, follower (a leader is "
        "known) or no_leader.",
        TL_METRIC_GAUGE, role_labels, 2, NULL, 0);
    a->commit = gauge(reg, "talus_node_raft_commit_index",
                      "Highest Raft log index known committed.");
    a->applied = gauge(reg, "talus_node_raft_applied_index",
                       "Raft log index applied to RocksDB.");
    a->last = gauge(reg, "talus_node_raft_last_index",
                    "Last index of this node's Raft log.");
    a->voters =
        gauge(reg, "talus_node_raft_voters", "Voters of the shard's group.");
    a->restoring = gauge(reg, "talus_node_shard_restoring",
                         "1 while the replica copies a snapshot out of band.");
    a->leader_changes =
        counter(reg, "talus_node_leader_changes_total",
                "Times this node saw the shard's group get a new leader.");
    a->proposals = counter(reg, "talus_node_proposals_total",
                           "Writes proposed to the shard's group here.");
    a->scans = counter(reg, "talus_node_scans_total",
                       "Scan requests the shard served here.");
    a->writes = counter(reg, "talus_node_writes_total",
                        "Write and modify requests the shard took here.");
    a->rows_read = counter(reg, "talus_node_rows_read_total",
                           "Rows the shard's scans returned.");
    a->expired = counter(reg, "talus_node_requests_expired_total",
                         "Requests given up because their sender stopped "
                         "waiting.");
    rs->propose_seconds = tl_metrics_family(
        reg, "talus_node_proposal_duration_seconds",
        "Time from a write's proposal to its outcome (committed by a "
        "majority, its log fsync included, and applied).",
        TL_METRIC_HISTOGRAM, shard_label, 1, NULL, 0);
    rs->apply_seconds =
        tl_metrics_family(reg, "talus_node_apply_duration_seconds",
                          "Time to apply one committed entry to RocksDB.",
                          TL_METRIC_HISTOGRAM, shard_label, 1, NULL, 0);
    for (size_t i = 0; i < N_CF_PROPS; i++) {
        a->cf_props[i] = cf_props_init[i];
        a->cf_props[i].f = gauge(reg, a->cf_props[i].name, a->cf_props[i].help);
    }
    for (size_t i = 0; i < N_DB_PROPS; i++) {
        a->db_props[i] = db_props_init[i];
        a->db_props[i].s =
            tl_metrics_gauge(reg, a->db_props[i].name, a->db_props[i].help);
    }
    *out = a;
}

/* The series of shard @shard, labelled @label, made at first use. */
static struct shard_series *
shard_series(struct node_admin *a, uint32_t shard, const char *label)
{
    struct shard_series *s = a->shards[shard];
    const char *v[] = {label};

    if (s != NULL)
        return s;
    s = calloc(1, sizeof *s);
    if (s == NULL)
        abort();
    s->term = tl_metrics_series(a->term, v);
    s->leader = tl_metrics_series(a->leader, v);
    s->leader_id = tl_metrics_series(a->leader_id, v);
    for (size_t i = 0; i < 3; i++) {
        const char *rv[] = {label, roles[i]};
        s->role[i] = tl_metrics_series(a->role, rv);
    }
    s->commit = tl_metrics_series(a->commit, v);
    s->applied = tl_metrics_series(a->applied, v);
    s->last = tl_metrics_series(a->last, v);
    s->voters = tl_metrics_series(a->voters, v);
    s->restoring = tl_metrics_series(a->restoring, v);
    s->leader_changes = tl_metrics_series(a->leader_changes, v);
    s->proposals = tl_metrics_series(a->proposals, v);
    s->scans = tl_metrics_series(a->scans, v);
    s->writes = tl_metrics_series(a->writes, v);
    s->rows_read = tl_metrics_series(a->rows_read, v);
    s->expired = tl_metrics_series(a->expired, v);
    for (size_t i = 0; i < N_CF_PROPS; i++)
        s->cf_props[i] = tl_metrics_series(a->cf_props[i].f, v);
    a->shards[shard] = s;
    return s;
}

/* Publish the series of shard @sh (labelled @label). */
static void
collect_shard(struct node_admin *a, struct replica *sh, const char *label)
{
    struct shard_series *s = shard_series(a, sh->shard, label);
    struct shard_info info;
    bool lead = atomic_load(&sh->is_leader);
    uint64_t leader = atomic_load(&sh->leader_id);
    size_t role = lead ? 0 : leader != 0 ? 1 : 2;

    pthread_mutex_lock(&sh->info_mu);
    info = sh->info;
    pthread_mutex_unlock(&sh->info_mu);
    tl_metrics_set(s->term, (double)info.term);
    tl_metrics_set(s->leader, lead ? 1 : 0);
    tl_metrics_set(s->leader_id, (double)leader);
    for (size_t i = 0; i < 3; i++)
        tl_metrics_set(s->role[i], i == role ? 1 : 0);
    tl_metrics_set(s->commit, (double)info.commit_index);
    tl_metrics_set(s->applied, (double)atomic_load(&sh->fsm.applied));
    tl_metrics_set(s->last, (double)info.last_index);
    tl_metrics_set(s->voters, (double)info.n_voters);
    tl_metrics_set(s->restoring, atomic_load(&sh->fsm.restoring) ? 1 : 0);
    tl_metrics_counter_set(s->leader_changes,
                           atomic_load(&sh->n_leader_changes));
    tl_metrics_counter_set(s->proposals, atomic_load(&sh->n_proposals));
    tl_metrics_counter_set(s->scans, atomic_load(&sh->n_scans));
    tl_metrics_counter_set(s->writes, atomic_load(&sh->n_writes));
    tl_metrics_counter_set(s->rows_read, atomic_load(&sh->n_rows_read));
    tl_metrics_counter_set(s->expired, atomic_load(&sh->n_expired));
    struct store_cf *cf =
        a->st != NULL ? store_shard_cf(a->st, sh->shard) : NULL;
    for (size_t i = 0; cf != NULL && i < N_CF_PROPS; i++) {
        uint64_t x;
        if (store_property_int(a->st, cf, a->cf_props[i].prop, &x) == 0)
            tl_metrics_set(s->cf_props[i], (double)x);
    }
}

/* Hide the per-shard series: a shard dropped since the last scrape must
 * not be shown with its last values. */
static void
hide_shard_series(struct node_admin *a)
{
    struct tl_metric_family *fams[] = {
        a->term,      a->leader, a->leader_id, a->role,      a->commit,
        a->applied,   a->last,   a->voters,    a->restoring, a->leader_changes,
        a->proposals, a->scans,  a->writes,    a->rows_read, a->expired};
    for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++)
        tl_metrics_family_hide(fams[i]);
    for (size_t i = 0; i < N_CF_PROPS; i++)
        tl_metrics_family_hide(a->cf_props[i].f);
}

static void
collect(struct tl_metrics *reg, void *data)
{
    struct node_admin *a = data;
    size_t n_hosted = 0, n_leading = 0;
    char label[16];

    (void)reg;
    hide_shard_series(a);
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++) {
        struct replica *sh = atomic_load(&a->rs->by_shard[s]);
        if (sh == NULL || !atomic_load(&sh->active))
            continue;
        n_hosted++;
        n_leading += atomic_load(&sh->is_leader);
        replica_shard_label(s, label, sizeof label);
        collect_shard(a, sh, label);
    }
    tl_metrics_set(a->hosted, (double)n_hosted);
    tl_metrics_set(a->leading, (double)n_leading);
    for (size_t i = 0; a->st != NULL && i < N_DB_PROPS; i++) {
        uint64_t x;
        if (store_property_int(a->st, NULL, a->db_props[i].prop, &x) == 0)
            tl_metrics_set(a->db_props[i].s, (double)x);
    }
}

/* /ready: every replica this node runs has a known leader and is not
 * restoring, and there is at least one. */
static bool
ready(void *data, char *reason, size_t len)
{
    struct node_admin *a = data;
    size_t n = 0;
    char label[16];

    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++) {
        struct replica *sh = atomic_load(&a->rs->by_shard[s]);
        if (sh == NULL || !atomic_load(&sh->active))
            continue;
        n++;
        replica_shard_label(s, label, sizeof label);
        if (atomic_load(&sh->leader_id) == 0) {
            snprintf(reason, len, "no known leader for shard %s", label);
            return false;
        }
        if (atomic_load(&sh->fsm.restoring)) {
            snprintf(reason, len, "shard %s is restoring a snapshot", label);
            return false;
        }
    }
    if (n == 0) {
        snprintf(reason, len, "no replica running yet");
        return false;
    }
    return true;
}

int
node_admin_start(struct node_admin *a, const char *addr, struct store *st,
                 char *errbuf, size_t errlen)
{
    a->st = st;
    tl_metrics_on_collect(a->reg, collect, a);
    return tl_admin_start(addr, a->reg, ready, a, &a->http, errbuf, errlen);
}

void
node_admin_stop(struct node_admin *a)
{
    if (a == NULL)
        return;
    tl_admin_stop(a->http);
    a->http = NULL;
}

void
node_admin_destroy(struct node_admin *a)
{
    if (a == NULL)
        return;
    node_admin_stop(a);
    for (uint32_t sh = 0; sh < TL_MAX_SHARDS; sh++)
        free(a->shards[sh]);
    tl_metrics_destroy(a->reg);
    free(a);
}
