/* router — process-wide state: node clients, catalog cache, router id. */
#include "router.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "log.h"
#include "router_int.h"

#define MOD "router"

/* Row ids: bits 63..22 milliseconds, 21..12 router id, 11..0 counter. The
 * state is per process, as is the router. */
static pthread_mutex_t rowid_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t rowid_last_ms;
static uint32_t rowid_seq;

int
router_init(struct router *r, const struct tl_cluster_config *cfg)
{
    int rv;
    memset(r, 0, sizeof(*r));
    r->cfg = *cfg;
    atomic_init(&r->n_queries, 0);
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++)
        atomic_init(&r->leader[s], 0);
    if (getrandom(&r->router_id, sizeof(r->router_id), 0) !=
        sizeof(r->router_id))
        r->router_id = (uint32_t)time(NULL) ^ (uint32_t)getpid();
    for (uint32_t i = 0; i < cfg->n_nodes; i++) {
        rv = tl_rpc_client_create(cfg->nodes[i].rpc_addr, &r->nodes[i]);
        if (rv != 0) {
            tl_error(MOD, "event=bad_node_addr node=%u addr=%s", i + 1,
                     cfg->nodes[i].rpc_addr);
            goto err_nodes;
        }
    }
    rv = catalog_create(r, &r->catalog);
    if (rv != 0)
        goto err_nodes;
    return 0;

err_nodes:
    for (uint32_t i = 0; i < cfg->n_nodes; i++) {
        tl_rpc_client_destroy(r->nodes[i]);
        r->nodes[i] = NULL;
    }
    return rv;
}

void
router_close(struct router *r)
{
    catalog_destroy(r->catalog);
    r->catalog = NULL;
    for (uint32_t i = 0; i < r->cfg.n_nodes; i++) {
        tl_rpc_client_destroy(r->nodes[i]);
        r->nodes[i] = NULL;
    }
}

/* The node currently believed to lead @shard. */
static uint32_t
shard_leader(const struct router *r, uint32_t shard)
{
    uint32_t node = shard < TL_MAX_SHARDS ? atomic_load(&r->leader[shard]) : 0;
    if (node == 0 || node > r->cfg.n_nodes)
        node = tl_cluster_shard_node(&r->cfg, shard);
    return node;
}

struct tl_rpc_client *
router_shard_client(struct router *r, uint32_t shard)
{
    return r->nodes[shard_leader(r, shard) - 1];
}

bool
router_reroute(struct router *r, uint32_t shard, int rv,
               const Talus__Response *resp, bool idempotent, int *wait_ms)
{
    uint32_t cur = shard_leader(r, shard), next = 0;
    bool several = r->cfg.n_replicas > 1 && r->cfg.n_nodes > 1;
    *wait_ms = 0;
    if (shard >= TL_MAX_SHARDS)
        return false;
    if (rv == 0 && resp != NULL && resp->error != NULL) {
        const Talus__Error *e = resp->error;
        if (strcmp(e->sqlstate, "08006") != 0 ||
            strstr(e->message, "is not served by node") == NULL ||
            strstr(e->message, "outcome unknown") != NULL)
            return false;
        unsigned hint = 0;
        const char *d = e->detail != NULL ? e->detail : "";
        if (sscanf(d, "leader is node %u", &hint) == 1 && hint >= 1 &&
            hint <= r->cfg.n_nodes && hint != cur) {
            next = hint;
        } else if (strstr(d, "no leader known") != NULL) {
            next = cur; /* a replica mid-election: ask it again shortly */
            *wait_ms = 200;
        } else if (several) {
            next = cur % r->cfg.n_nodes + 1; /* not hosting: try the next */
        }
    } else if (several &&
               (rv == TL_EUNAVAILABLE || (rv == TL_ETIMEOUT && idempotent))) {
        next = cur % r->cfg.n_nodes + 1;
    }
    if (next == 0)
        return false;
    if (next != cur) {
        atomic_store(&r->leader[shard], next);
        tl_info(MOD, "event=reroute shard=%u from=%u to=%u", shard, cur, next);
    }
    return true;
}

int
router_call(struct router *r, uint32_t shard, const Talus__Request *req,
            bool idempotent, Talus__Response **resp)
{
    int rv;
    for (int attempt = 0;; attempt++) {
        *resp = NULL;
        rv = tl_rpc_call(router_shard_client(r, shard), req,
                         (int)r->cfg.request_timeout_ms, resp);
        int wait_ms;
        if (attempt == ROUTER_MAX_REROUTES ||
            (rv == 0 && (*resp)->error == NULL) ||
            !router_reroute(r, shard, rv, *resp, idempotent, &wait_ms))
            return rv;
        if (*resp != NULL)
            talus__response__free_unpacked(*resp, NULL);
        if (wait_ms > 0)
            usleep((useconds_t)wait_ms * 1000);
    }
}

int
router_call_result(const struct router *r, uint32_t shard, int rv,
                   const Talus__Response *resp, struct tl_error *err)
{
    if (rv == TL_ETIMEOUT || rv == TL_EUNAVAILABLE) {
        uint32_t node = tl_cluster_shard_node(&r->cfg, shard);
        const struct tl_node_config *nc = tl_cluster_node(&r->cfg, node);
        tl_error_set(err, rv, "08006", "shard %u is unavailable", shard);
        tl_error_detail(err, "node %u at %s did not answer within %u ms", node,
                        nc != NULL ? nc->rpc_addr : "?",
                        r->cfg.request_timeout_ms);
        return rv;
    }
    if (rv != 0)
        return tl_error_set(err, rv, "08P01", "invalid reply from shard %u: %s",
                            shard, tl_strerror(rv));
    if (resp != NULL && resp->error != NULL) {
        const Talus__Error *e = resp->error;
        tl_error_set(err, TL_ESQL, "XX000", "%s",
                     e->message != NULL ? e->message : "node error");
        if (e->sqlstate != NULL && strlen(e->sqlstate) == 5)
            memcpy(err->sqlstate, e->sqlstate, 6);
        if (e->detail != NULL && e->detail[0] != '\0')
            tl_error_detail(err, "%s", e->detail);
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
