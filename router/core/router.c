/* router — process-wide state: the cluster client and its hooks, catalog
 * cache, router id. */
#include "router/core/router.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cluster_map.h"
#include "common/base/sqlstate.h"
#include "common/meta/meta_keys.h"
#include "log.h"
#include "router/core/catalog.h"
#include "router/core/incarnation.h"
#include "router/core/roles.h"
#include "router/core/router_int.h"
#include "router/core/router_metrics.h"
#include "router/core/sequences.h"
#include "router/core/tso_client.h"

#define MOD "router"
/* How often a leader hint naming an unknown node may fetch the map. */
#define ROUTER_MAP_MIN_MS 1000
/* Per address: a session thread waits for it (nodes answer from their
 * cache when the meta group is slow). */
#define ROUTER_MAP_CALL_MS 2000

/* Row ids: bits 63..22 milliseconds, 21..12 router id, 11..0 counter. The
 * state is per process, as is the router. */
static pthread_mutex_t rowid_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t rowid_last_ms;
static uint32_t rowid_seq;

/* learn_cb of the cluster client: a node without an address, or a hint
 * naming a node this router does not know yet (it may have registered
 * since the router started): ask the registry, at most every
 * ROUTER_MAP_MIN_MS. */
static void
learn_cb(void *arg)
{
    router_learn_nodes(arg, ROUTER_MAP_MIN_MS);
}

/* stale_cb of the cluster client: a node refused a request planned with
 * an older catalog (nothing was done). Reload the catalog to at least the
 * node's @version; the request is sent again at once if its table still
 * exists, else the call fails with 42P01. */
static int
stale_cb(void *arg, const struct tl_client_retry *t, uint64_t version,
         struct tl_error *err)
{
    struct router *r = arg;
    int rv = catalog_refresh(r->catalog, version, err);
    if (rv != 0)
        return rv == TL_ENOTFOUND ? TL_EIO : rv;
    uint32_t schema = 0;
    if (t->table_id >= TL_META_FIRST_TABLE_ID &&
        !catalog_table_schema(r->catalog, t->table_id, &schema))
        return TL_ENOTFOUND;
    /* Changed since the plan (a new column, an index): the plan may read
     * or write what the table no longer is. */
    if (t->table_id >= TL_META_FIRST_TABLE_ID && t->table_schema != 0 &&
        schema != t->table_schema)
        return TL_ENOTFOUND;
    return 0;
}

/* attempt_cb of the cluster client, for router_call(): every attempt
 * carries a catalog version. A request with its own (the version its
 * statement planned with, or a DROP's range delete) keeps it until a
 * stale refusal reloaded the catalog; then, and for a request without
 * one, it carries the catalog's. */
static void
attempt_cb(void *arg, const struct tl_client_retry *t,
           const Talus__Request *req, Talus__Request *copy)
{
    struct router *r = arg;
    uint64_t mv = catalog_version(r->catalog);
    copy->has_map_version = 1;
    copy->map_version = req->has_map_version && req->map_version > 0 &&
                                (t->n_stale == 0 || req->map_version > mv)
                            ? req->map_version
                            : mv;
}

int
router_init(struct router *r, const struct tl_cluster_config *cfg)
{
    int rv;
    memset(r, 0, sizeof(*r));
    r->cfg = *cfg;
    r->limits.startup_timeout_ms = ROUTER_STARTUP_TIMEOUT_MS;
    r->limits.message_timeout_ms = ROUTER_MESSAGE_TIMEOUT_MS;
    r->limits.sort_max_bytes = ROUTER_SORT_MAX_BYTES;
    atomic_init(&r->n_queries, 0);
    if (getrandom(&r->router_id, sizeof(r->router_id), 0) !=
        sizeof(r->router_id))
        r->router_id = (uint32_t)time(NULL) ^ (uint32_t)getpid();
    pthread_mutex_init(&r->map_mu, NULL);
    struct tl_client_opts opts = {
        .log_mod = MOD,
        .connect_timeout_ms = TL_CLIENT_CONNECT_TIMEOUT_MS,
        .hooks = {.arg = r,
                  .learn_cb = learn_cb,
                  .stale_cb = stale_cb,
                  .attempt_cb = attempt_cb},
    };
    rv = tl_client_init(&r->client, &r->cfg, &opts);
    if (rv != 0)
        goto err_mu;
    rv = catalog_create(r, &r->catalog);
    if (rv != 0)
        goto err_client;
    rv = sequences_create(r, &r->sequences);
    if (rv != 0)
        goto err_catalog;
    struct tso_client_ops tso_ops = {
        .arg = r,
        .fetch_cb = tso_client_rpc_fetch,
        .default_budget_ms =
            (int)(router_default_deadline(r) - router_now_ms()),
    };
    rv = tso_client_create(&tso_ops, &r->tso);
    if (rv != 0)
        goto err_sequences;
    rv = roles_create(r, &r->roles);
    if (rv != 0) {
        tso_client_destroy(r->tso);
        r->tso = NULL;
        goto err_sequences;
    }
    if (getrandom(r->auth_secret, sizeof(r->auth_secret), 0) !=
        (ssize_t)sizeof(r->auth_secret)) {
        /* Only before the entropy pool is ready: unknown roles' salts are
         * then merely harder to tell apart from real ones. */
        for (size_t i = 0; i < sizeof(r->auth_secret); i++)
            r->auth_secret[i] = (uint8_t)(r->router_id >> (8 * (i % 4)) ^ i);
    }
    return 0;

err_sequences:
    sequences_destroy(r->sequences);
    r->sequences = NULL;
err_catalog:
    catalog_destroy(r->catalog);
    r->catalog = NULL;

err_client:
    tl_client_close(&r->client);
err_mu:
    pthread_mutex_destroy(&r->map_mu);
    return rv;
}

void
router_close(struct router *r)
{
    struct tso_client_stats ts = {0};
    incarnation_stop(r->incarnation);
    r->incarnation = NULL;
    if (r->tso != NULL)
        tso_client_stats(r->tso, &ts);
    tl_info(MOD,
            "event=router_stats leader_changes=%llu retries=%llu "
            "tso_requests=%llu timestamps=%llu",
            (unsigned long long)atomic_load(&r->client.n_leader_changes),
            (unsigned long long)atomic_load(&r->client.n_retries),
            (unsigned long long)ts.n_requests,
            (unsigned long long)ts.n_timestamps);
    tso_client_destroy(r->tso);
    r->tso = NULL;
    roles_destroy(r->roles);
    r->roles = NULL;
    sequences_destroy(r->sequences);
    r->sequences = NULL;
    catalog_destroy(r->catalog);
    r->catalog = NULL;
    tl_client_close(&r->client);
    pthread_mutex_destroy(&r->map_mu);
}

void
router_seed_leaders(struct router *r, const Talus__ClusterMap *m)
{
    tl_client_seed_leaders(&r->client, m);
}

int
router_learn_nodes(struct router *r, int min_interval_ms)
{
    char addrs[4096], errbuf[512];
    size_t off = 0;
    Talus__Response *resp = NULL;
    int rv;

    pthread_mutex_lock(&r->map_mu);
    int64_t now = router_now_ms();
    if (min_interval_ms > 0 && r->map_at_ms != 0 &&
        now - r->map_at_ms < min_interval_ms) {
        pthread_mutex_unlock(&r->map_mu);
        return 0;
    }
    r->map_at_ms = now;
    /* Nodes that answered lately first (a node that is down costs a
     * connect timeout), then --join's list, then the others. */
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 1 && r->join[0] != '\0' &&
            off + strlen(r->join) + 2 < sizeof addrs)
            off += (size_t)snprintf(addrs + off, sizeof addrs - off, "%s%s",
                                    off ? "," : "", r->join);
        if (pass == 1)
            continue;
        for (uint32_t i = 0; i < r->cfg.n_nodes; i++)
            if (r->cfg.nodes[i].rpc_addr[0] != '\0' &&
                tl_client_node_down(&r->client, i + 1, now) == (pass == 2) &&
                off + TL_ADDR_MAX + 2 < sizeof addrs)
                off +=
                    (size_t)snprintf(addrs + off, sizeof addrs - off, "%s%s",
                                     off ? "," : "", r->cfg.nodes[i].rpc_addr);
    }
    rv = off == 0 ? TL_EUNAVAILABLE
                  : tl_cluster_map_fetch(addrs, ROUTER_MAP_CALL_MS, &resp, NULL,
                                         0, errbuf, sizeof errbuf);
    if (rv == 0) {
        tl_client_add_nodes(&r->client, resp->cluster_map);
        router_seed_leaders(r, resp->cluster_map);
        talus__response__free_unpacked(resp, NULL);
    } else {
        tl_warn(MOD, "event=cluster_map_failed err=\"%s\"",
                off == 0 ? "no address" : errbuf);
    }
    pthread_mutex_unlock(&r->map_mu);
    return rv;
}

struct tl_rpc_client *
router_shard_client(struct router *r, uint32_t shard)
{
    return tl_client_node(&r->client, tl_client_leader(&r->client, shard));
}

int64_t
router_now_ms(void)
{
    return tl_client_now_ms();
}

int64_t
router_default_deadline(const struct router *r)
{
    return tl_client_default_deadline(&r->client);
}

uint32_t
router_request_table(const Talus__Request *req)
{
    switch (req->body_case) {
    case TALUS__REQUEST__BODY_SCAN:
        return req->scan->table != NULL ? req->scan->table->id : 0;
    case TALUS__REQUEST__BODY_MODIFY:
        return req->modify->scan != NULL && req->modify->scan->table != NULL
                   ? req->modify->scan->table->id
                   : 0;
    case TALUS__REQUEST__BODY_WRITE:
        if (req->write->n_mutations == 0 ||
            req->write->mutations[0]->key.len < 4)
            return 0;
        return tl_load_be32(req->write->mutations[0]->key.data);
    default:
        return 0;
    }
}

uint32_t
router_request_schema(const Talus__Request *req)
{
    const Talus__ScanFragment *sf =
        req->body_case == TALUS__REQUEST__BODY_SCAN     ? req->scan
        : req->body_case == TALUS__REQUEST__BODY_MODIFY ? req->modify->scan
                                                        : NULL;
    return sf != NULL && sf->table != NULL ? sf->table->schema_version : 0;
}

int
router_call(struct router *r, uint32_t shard, const Talus__Request *req,
            bool idempotent, Talus__Response **resp)
{
    struct tl_client_retry t;
    enum tl_client_op op = tl_client_op_of(req);
    if (idempotent && op == TL_CLIENT_MODIFY)
        op = TL_CLIENT_READ;
    /* A request with its own version (a DROP's range delete) is not
     * checked against the catalog: its table is gone by design. */
    tl_client_retry_init(&r->client, &t, shard, op, router_default_deadline(r));
    router_metrics_shard_call(r);
    t.table_id = req->has_map_version ? 0 : router_request_table(req);
    return tl_client_call(&r->client, &t, req, resp);
}

int
router_call_result(const struct router *r, uint32_t shard, int rv,
                   const Talus__Response *resp, struct tl_error *err)
{
    if (rv == TL_EUNAVAILABLE)
        return tl_client_unavailable_error(&r->client, shard, err);
    if (rv == TL_ESTALE)
        return tl_error_set(err, rv, TL_SQLSTATE_UNDEFINED_TABLE,
                            "relation was dropped or recreated by another "
                            "session");
    if (rv == TL_ETIMEOUT)
        return tl_error_set(err, rv, TL_SQLSTATE_TRANSACTION_RESOLUTION_UNKNOWN,
                            "transaction resolution unknown: shard %u did not "
                            "confirm the write",
                            shard);
    if (rv != 0)
        return tl_error_set(err, rv, TL_SQLSTATE_PROTOCOL_VIOLATION,
                            "invalid reply from shard %u: %s", shard,
                            tl_strerror(rv));
    if (resp != NULL && resp->error != NULL) {
        const Talus__Error *e = resp->error;
        tl_error_set(err, TL_ESQL, TL_SQLSTATE_INTERNAL_ERROR, "%s",
                     e->message != NULL ? e->message : "node error");
        if (e->sqlstate != NULL && strlen(e->sqlstate) == 5)
            memcpy(err->sqlstate, e->sqlstate, 6);
        if (e->detail != NULL && e->detail[0] != '\0')
            tl_error_detail(err, "%s", e->detail);
        if (e->hint != NULL && e->hint[0] != '\0')
            tl_error_hint(err, "%s", e->hint);
        if (e->table_name != NULL || e->constraint_name != NULL)
            tl_error_object(err, e->table_name, e->constraint_name);
        return TL_ESQL;
    }
    return 0;
}

int64_t
router_next_rowid(struct router *r)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    pthread_mutex_lock(&rowid_lock);
    if (ms > rowid_last_ms) {
        rowid_last_ms = ms;
        rowid_seq = 0;
    } else if (++rowid_seq >= 4096) {
        /* Out of ids for this millisecond: borrow the next one, so ids
         * stay increasing and unique. */
        rowid_last_ms++;
        rowid_seq = 0;
    }
    int64_t id = (rowid_last_ms << 22) |
                 ((int64_t)(r->router_id & 0x3FF) << 12) | rowid_seq;
    pthread_mutex_unlock(&rowid_lock);
    return id;
}
