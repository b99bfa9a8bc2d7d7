/* router — process-wide state: node clients, catalog cache, router id. */
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
#include "router/core/router_int.h"

#define MOD "router"
/* The address of a node whose address is not known yet: nothing listens
 * on TCP port 1 of loopback, so calls fail as unreachable. */
#define ROUTER_NO_ADDR "127.0.0.1:1"
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

/* A client for @addr, or for a node whose address is not known yet (an
 * empty @addr: a placeholder that never connects, so calls to it fail as
 * unreachable until router_learn_nodes() replaces it). */
static int
make_client(const char *addr, struct tl_rpc_client **out)
{
    int rv = tl_rpc_client_create(addr[0] != '\0' ? addr : ROUTER_NO_ADDR, out);
    if (rv == 0)
        tl_rpc_client_set_connect_timeout(*out, ROUTER_CONNECT_TIMEOUT_MS);
    return rv;
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
    atomic_init(&r->n_leader_changes, 0);
    atomic_init(&r->n_retries, 0);
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++)
        atomic_init(&r->leader[s], 0);
    for (uint32_t i = 0; i < TL_MAX_NODES; i++)
        atomic_init(&r->down_until_ms[i], 0);
    if (getrandom(&r->router_id, sizeof(r->router_id), 0) !=
        sizeof(r->router_id))
        r->router_id = (uint32_t)time(NULL) ^ (uint32_t)getpid();
    pthread_mutex_init(&r->map_mu, NULL);
    for (uint32_t i = 0; i < cfg->n_nodes; i++) {
        struct tl_rpc_client *c = NULL;
        rv = make_client(cfg->nodes[i].rpc_addr, &c);
        if (rv != 0) {
            tl_error(MOD, "event=bad_node_addr node=%u addr=%s", i + 1,
                     cfg->nodes[i].rpc_addr);
            goto err_nodes;
        }
        r->nodes[i] = c;
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
    pthread_mutex_destroy(&r->map_mu);
    return rv;
}

void
router_close(struct router *r)
{
    tl_info(MOD, "event=router_stats leader_changes=%llu retries=%llu",
            (unsigned long long)atomic_load(&r->n_leader_changes),
            (unsigned long long)atomic_load(&r->n_retries));
    catalog_destroy(r->catalog);
    r->catalog = NULL;
    for (uint32_t i = 0; i < r->cfg.n_nodes; i++) {
        tl_rpc_client_destroy(r->nodes[i]);
        r->nodes[i] = NULL;
    }
    for (uint32_t i = 0; i < r->n_retired; i++)
        tl_rpc_client_destroy(r->retired[i]);
    r->n_retired = 0;
    pthread_mutex_destroy(&r->map_mu);
}

void
router_seed_leaders(struct router *r, const Talus__ClusterMap *m)
{
    uint32_t n_nodes = __atomic_load_n(&r->cfg.n_nodes, __ATOMIC_ACQUIRE);
    for (size_t i = 0; i < m->n_shards; i++) {
        const Talus__ShardRecord *s = m->shards[i];
        uint32_t none = 0;
        if (s->shard >= TL_MAX_SHARDS || !s->has_leader || s->leader == 0 ||
            s->leader > n_nodes)
            continue;
        atomic_compare_exchange_strong(&r->leader[s->shard], &none, s->leader);
    }
    if (m->has_meta_leader && m->meta_leader != 0 &&
        m->meta_leader <= n_nodes) {
        uint32_t none = 0;
        atomic_compare_exchange_strong(&r->leader[TL_META_GROUP], &none,
                                       m->meta_leader);
    }
}

/* Add the nodes of @m this router lacks. Under map_mu. */
static void
add_nodes_locked(struct router *r, const Talus__ClusterMap *m)
{
    uint32_t n_nodes = r->cfg.n_nodes, max = n_nodes;
    for (size_t i = 0; i < m->n_nodes; i++) {
        const Talus__NodeRecord *rec = m->nodes[i];
        struct tl_rpc_client *c = NULL;
        if (rec->id < 1 || rec->id > TL_MAX_NODES ||
            strlen(rec->rpc_addr) >= TL_ADDR_MAX ||
            strlen(rec->raft_addr) >= TL_ADDR_MAX)
            continue;
        struct tl_node_config *nc = &r->cfg.nodes[rec->id - 1];
        bool known = rec->id <= n_nodes && nc->rpc_addr[0] != '\0';
        if (known || make_client(rec->rpc_addr, &c) != 0)
            continue;
        snprintf(nc->rpc_addr, sizeof nc->rpc_addr, "%s", rec->rpc_addr);
        snprintf(nc->raft_addr, sizeof nc->raft_addr, "%s", rec->raft_addr);
        nc->id = rec->id;
        struct tl_rpc_client *old = atomic_exchange(&r->nodes[rec->id - 1], c);
        if (old != NULL && r->n_retired < TL_MAX_NODES)
            r->retired[r->n_retired++] = old;
        else if (old != NULL)
            tl_warn(MOD, "event=client_leaked node=%u", rec->id);
        tl_info(MOD, "event=node_learned node=%u rpc=%s", rec->id,
                rec->rpc_addr);
        if (rec->id > max)
            max = rec->id;
    }
    /* Ids in between get an unreachable placeholder until they register. */
    for (uint32_t id = n_nodes + 1; id < max; id++) {
        struct tl_rpc_client *c = NULL;
        if (r->nodes[id - 1] == NULL && make_client(ROUTER_NO_ADDR, &c) == 0) {
            r->cfg.nodes[id - 1].id = id;
            r->nodes[id - 1] = c;
        }
    }
    if (max > n_nodes)
        __atomic_store_n(&r->cfg.n_nodes, max, __ATOMIC_RELEASE);
}

static bool node_down(const struct router *r, uint32_t id, int64_t now);

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
                node_down(r, i + 1, now) == (pass == 2) &&
                off + TL_ADDR_MAX + 2 < sizeof addrs)
                off +=
                    (size_t)snprintf(addrs + off, sizeof addrs - off, "%s%s",
                                     off ? "," : "", r->cfg.nodes[i].rpc_addr);
    }
    rv = off == 0 ? TL_EUNAVAILABLE
                  : tl_cluster_map_fetch(addrs, ROUTER_MAP_CALL_MS, &resp, NULL,
                                         0, errbuf, sizeof errbuf);
    if (rv == 0) {
        add_nodes_locked(r, resp->cluster_map);
        router_seed_leaders(r, resp->cluster_map);
        talus__response__free_unpacked(resp, NULL);
    } else {
        tl_warn(MOD, "event=cluster_map_failed err=\"%s\"",
                off == 0 ? "no address" : errbuf);
    }
    pthread_mutex_unlock(&r->map_mu);
    return rv;
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

int64_t
router_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Record that @node leads @shard, as @why says, unless another thread
 * moved the leader since @seen was read; logs each change once. */
static void
move_leader(struct router *r, uint32_t shard, uint32_t seen, uint32_t node,
            const char *why)
{
    if (shard >= TL_MAX_SHARDS || node == seen)
        return;
    uint32_t old = atomic_load(&r->leader[shard]);
    uint32_t eff = old == 0 || old > r->cfg.n_nodes
                       ? tl_cluster_shard_node(&r->cfg, shard)
                       : old;
    if (eff != seen || eff == node ||
        !atomic_compare_exchange_strong(&r->leader[shard], &old, node))
        return;
    atomic_fetch_add(&r->n_leader_changes, 1);
    tl_info(MOD, "event=leader_changed shard=%u from=%u to=%u reason=%s", shard,
            eff, node, why);
}

/* The nodes to try for @shard, in order: its replicas (preferred leader
 * first), then every other node, in case membership moved the shard.
 * Returns how many (at least one). */
static uint32_t
shard_candidates(const struct router *r, uint32_t shard, uint32_t *ids)
{
    uint32_t n =
        (uint32_t)tl_cluster_shard_replicas(&r->cfg, shard, ids, TL_MAX_NODES);
    for (uint32_t id = 1; id <= r->cfg.n_nodes; id++) {
        bool seen = false;
        for (uint32_t k = 0; k < n && !seen; k++)
            seen = ids[k] == id;
        if (!seen)
            ids[n++] = id;
    }
    return n;
}

/* Whether retries should pass over node @id for now. */
static bool
node_down(const struct router *r, uint32_t id, int64_t now)
{
    return atomic_load(&r->down_until_ms[id - 1]) > now;
}

/* The candidate after @node in @shard's order (wrapping around), passing
 * over nodes found unreachable lately. When every replica of the shard
 * looks unreachable, the next replica is retried anyway (after the
 * caller's backoff): a node that merely reconnects, or restarts, is the
 * only one that can answer, and the other nodes would just say they do
 * not host the shard until the deadline passed. */
static uint32_t
next_candidate(const struct router *r, uint32_t shard, uint32_t node)
{
    uint32_t ids[2 * TL_MAX_NODES];
    uint32_t reps[TL_MAX_NODES];
    uint32_t n = shard_candidates(r, shard, ids), at = n - 1;
    uint32_t n_reps =
        (uint32_t)tl_cluster_shard_replicas(&r->cfg, shard, reps, TL_MAX_NODES);
    int64_t now = router_now_ms();
    bool replica_up = false;
    for (uint32_t i = 0; i < n_reps; i++)
        replica_up = replica_up || !node_down(r, reps[i], now);
    for (uint32_t i = 0; i < n; i++)
        if (ids[i] == node)
            at = i;
    for (uint32_t k = 1; k <= n; k++) {
        uint32_t i = (at + k) % n;
        /* shard_candidates() lists the replicas first. */
        if (replica_up ? !node_down(r, ids[i], now) : i < n_reps)
            return ids[i];
    }
    return ids[(at + 1) % n];
}

int64_t
router_default_deadline(const struct router *r)
{
    uint32_t budget = r->cfg.n_replicas > 1 ? ROUTER_RETRY_BUDGET_MS
                                            : r->cfg.request_timeout_ms;
    return router_now_ms() + budget;
}

enum router_op
router_op_of(const Talus__Request *req)
{
    switch (req->body_case) {
    case TALUS__REQUEST__BODY_SCAN:
    case TALUS__REQUEST__BODY_STATUS:
        return ROUTER_READ;
    case TALUS__REQUEST__BODY_WRITE:
        return req->write->has_request_id && req->write->request_id != 0
                   ? ROUTER_WRITE
                   : ROUTER_MODIFY;
    case TALUS__REQUEST__BODY_MODIFY:
        /* The first phase of a modify only builds and keeps its batch: no
         * effect, so never an unknown outcome. */
        if (req->modify != NULL && req->modify->prepare)
            return ROUTER_READ;
        /* The node proposes the modify's batch under the request id. */
        return req->request_id != 0 ? ROUTER_WRITE : ROUTER_MODIFY;
    default:
        return ROUTER_MODIFY;
    }
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

/* A TL_ESTALE refusal (nothing was done): reload the catalog to at least
 * the node's version, then retry at once if the table still exists. */
static enum router_verdict
follow_stale(struct router *r, struct router_retry *t,
             const Talus__Response *resp)
{
    uint64_t newest = resp->has_map_version ? resp->map_version : 0;
    struct tl_error err;
    tl_error_clear(&err);
    snprintf(t->why, sizeof(t->why), "node %u: %s", t->node,
             resp->error->message != NULL ? resp->error->message : "stale");
    if (++t->n_stale > ROUTER_STALE_MAX ||
        catalog_refresh(r->catalog, newest, &err) != 0) {
        if (err.message[0] != '\0')
            snprintf(t->why, sizeof(t->why),
                     "cannot reload the catalog: %.150s", err.message);
        t->failed = true;
        return ROUTER_FAILED;
    }
    catalog_stmt_advance(r->catalog);
    if (t->table_id >= TL_META_FIRST_TABLE_ID &&
        !catalog_has_id(r->catalog, t->table_id, NULL, 0)) {
        t->gone = true;
        t->failed = true;
        return ROUTER_FAILED;
    }
    t->next_at_ms = router_now_ms();
    atomic_fetch_add(&r->n_retries, 1);
    tl_debug(MOD, "event=stale_retry shard=%u table=%u version=%llu", t->shard,
             t->table_id, (unsigned long long)newest);
    return ROUTER_RETRY;
}

void
router_retry_init(struct router *r, struct router_retry *t, uint32_t shard,
                  enum router_op op, int64_t deadline_ms)
{
    memset(t, 0, sizeof(*t));
    t->shard = shard;
    t->op = op;
    t->deadline_ms = deadline_ms;
    t->node = shard_leader(r, shard);
    if (node_down(r, t->node, router_now_ms()))
        t->node = next_candidate(r, shard, t->node);
    t->backoff_ms = ROUTER_BACKOFF_FIRST_MS;
}

struct tl_rpc_client *
router_retry_client(struct router *r, struct router_retry *t, int *timeout_ms)
{
    int64_t left = t->deadline_ms - router_now_ms();
    if (left <= 0)
        return NULL;
    if (left > INT32_MAX)
        left = INT32_MAX;
    *timeout_ms = left < (int64_t)r->cfg.request_timeout_ms
                      ? (int)left
                      : (int)r->cfg.request_timeout_ms;
    return r->nodes[t->node - 1];
}

enum router_verdict
router_retry_next(struct router *r, struct router_retry *t, int rv,
                  const Talus__Response *resp)
{
    const struct tl_node_config *nc = tl_cluster_node(&r->cfg, t->node);
    const char *addr = nc != NULL ? nc->rpc_addr : "?";
    bool maybe_applied = false;
    uint32_t hint = 0;

    t->n_attempts++;
    /* A node whose address this router does not know yet: ask the
     * registry (it may have registered since the router started). */
    if (rv == TL_EUNAVAILABLE && (nc == NULL || nc->rpc_addr[0] == '\0'))
        router_learn_nodes(r, ROUTER_MAP_MIN_MS);
    if (rv == TL_EUNAVAILABLE)
        atomic_store(&r->down_until_ms[t->node - 1],
                     router_now_ms() + ROUTER_DOWN_MS);
    else if (rv == 0)
        atomic_store(&r->down_until_ms[t->node - 1], 0);
    if (rv == 0 && resp->error == NULL) {
        move_leader(r, t->shard, shard_leader(r, t->shard), t->node,
                    "answered");
        return ROUTER_DONE;
    }
    if (rv == 0) {
        const Talus__Error *e = resp->error;
        int code = e->has_code ? e->code : 0;
        if (code == TL_ESTALE)
            return follow_stale(r, t, resp);
        if (code != TL_ENOTLEADER && code != TL_EUNAVAILABLE &&
            code != TL_ESHUTDOWN && code != TL_ETIMEOUT)
            return ROUTER_DONE; /* the statement's own answer */
        /* The node says whether the write may still commit; every other
         * failover reply was refused before anything ran. */
        maybe_applied = e->has_outcome_unknown && e->outcome_unknown;
        /* A node this router does not know yet (it joined after the
         * router started): learn it from the registry. */
        if (resp->has_leader_hint && resp->leader_hint > r->cfg.n_nodes &&
            resp->leader_hint <= TL_MAX_NODES)
            router_learn_nodes(r, ROUTER_MAP_MIN_MS);
        if (resp->has_leader_hint && resp->leader_hint >= 1 &&
            resp->leader_hint <= r->cfg.n_nodes)
            hint = (uint32_t)resp->leader_hint;
        snprintf(t->why, sizeof(t->why), "node %u: %s%s%s", t->node,
                 e->message != NULL ? e->message : "error",
                 e->detail != NULL ? "; " : "",
                 e->detail != NULL ? e->detail : "");
    } else if (rv == TL_EUNAVAILABLE) {
        snprintf(t->why, sizeof(t->why), "node %u at %s is unreachable",
                 t->node, addr);
    } else if (rv == TL_ETIMEOUT) {
        maybe_applied = true;
        snprintf(t->why, sizeof(t->why),
                 "node %u at %s did not answer (connection lost or timed out)",
                 t->node, addr);
    } else {
        return ROUTER_DONE; /* not a failover: EPROTO, ENOMEM, ... */
    }
    /* What the attempt says about the shard's leadership, for the report
     * at the deadline: a node that took the request and did not answer in
     * time (or said it gave up) was working, a hint names a leader; only
     * a refusal without one, or an unreachable node, means none is known
     * (an election). */
    bool node_gave_up =
        rv == 0 && resp->error->has_code && resp->error->code == TL_ETIMEOUT;
    if (rv == TL_ETIMEOUT || node_gave_up) {
        t->n_silent++;
        t->no_leader = false;
    } else {
        t->no_leader = rv == TL_EUNAVAILABLE || hint == 0;
    }
    if (maybe_applied && t->op != ROUTER_READ && !t->unknown) {
        t->unknown = true;
        memcpy(t->why_unknown, t->why, sizeof(t->why));
    }
    if (t->unknown && t->op == ROUTER_MODIFY) {
        t->failed = true; /* running it again could apply it twice */
        return ROUTER_FAILED;
    }
    /* The leader took the write and is still committing and applying it
     * (a large one): ask it again at once, the retry waits for the same
     * proposal. Without a statement_timeout a working leader is not a
     * failover and does not use up the retry budget, up to a bound. */
    if (rv == 0 && resp->error->has_in_progress && resp->error->in_progress &&
        t->n_progress < ROUTER_PROGRESS_MAX) {
        int64_t now = router_now_ms();
        t->n_progress++;
        if (!t->stmt_deadline &&
            t->deadline_ms < now + (int64_t)r->cfg.request_timeout_ms)
            t->deadline_ms = now + (int64_t)r->cfg.request_timeout_ms;
        t->next_at_ms = now;
        tl_debug(MOD, "event=retry_in_progress shard=%u node=%u attempt=%u",
                 t->shard, t->node, t->n_attempts);
        return ROUTER_RETRY;
    }

    uint32_t from = t->node;
    int pause = 0;
    if (hint != 0 && hint != from) {
        move_leader(r, t->shard, from, hint, "hint");
        t->node = hint;
        /* Hints that chase each other (a stale one) get the backoff. */
        if (++t->n_hops > 3)
            pause = t->backoff_ms;
    } else {
        t->node = next_candidate(r, t->shard, from);
        t->n_hops = 0;
        pause = t->backoff_ms;
    }
    if (pause > 0)
        t->backoff_ms = t->backoff_ms * 2 > ROUTER_BACKOFF_MAX_MS
                            ? ROUTER_BACKOFF_MAX_MS
                            : t->backoff_ms * 2;
    t->next_at_ms = router_now_ms() + pause;
    if (t->next_at_ms >= t->deadline_ms) {
        t->failed = true;
        return ROUTER_FAILED;
    }
    atomic_fetch_add(&r->n_retries, 1);
    tl_debug(MOD,
             "event=retry shard=%u from=%u to=%u pause_ms=%d attempt=%u "
             "why=\"%s\"",
             t->shard, from, t->node, pause, t->n_attempts, t->why);
    return ROUTER_RETRY;
}

/* The report for @shard when no attempt reached a leader and nothing was
 * applied. With replicas an election may be running: 40001, which clients
 * retry. With one replica only its node's return helps: 08006, as for any
 * unreachable server. */
static void
unavailable_error(const struct router *r, uint32_t shard, struct tl_error *err)
{
    if (r->cfg.n_replicas > 1) {
        tl_error_set(err, TL_EUNAVAILABLE,
                     TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                     "could not reach the leader of shard %u", shard);
        tl_error_hint(err,
                      "the shard is electing a leader; retry the statement");
    } else {
        tl_error_set(err, TL_EUNAVAILABLE, TL_SQLSTATE_CONNECTION_FAILURE,
                     "shard %u is unavailable", shard);
        tl_error_hint(err,
                      "node %u, its only replica, is down or restarting; "
                      "retry the statement",
                      tl_cluster_shard_node(&r->cfg, shard));
    }
}

int
router_retry_error(const struct router *r, const struct router_retry *t,
                   struct tl_error *err)
{
    (void)r;
    if (t->gone) {
        tl_error_set(err, TL_ESTALE, TL_SQLSTATE_UNDEFINED_TABLE,
                     "relation was dropped or recreated by another session");
        tl_error_detail(err, "table id %u no longer exists", t->table_id);
        return TL_ESTALE;
    }
    if (t->n_attempts == 0)
        return tl_error_set(err, TL_ETIMEOUT, TL_SQLSTATE_QUERY_CANCELED,
                            "canceling statement due to statement timeout");
    if (!t->unknown && !t->no_leader && t->n_silent > 0) {
        /* A node got the request and was still at it (or stuck) when the
         * time ran out: no election is involved, so no 40001. */
        if (t->stmt_deadline)
            return tl_error_set(err, TL_ETIMEOUT, TL_SQLSTATE_QUERY_CANCELED,
                                "canceling statement due to statement "
                                "timeout");
        tl_error_set(err, TL_ETIMEOUT, TL_SQLSTATE_CONNECTION_FAILURE,
                     "shard %u did not answer in time", t->shard);
        tl_error_detail(err, "%s", t->why);
        return TL_ETIMEOUT;
    }
    if (t->unknown) {
        tl_error_set(err, TL_ETIMEOUT,
                     TL_SQLSTATE_TRANSACTION_RESOLUTION_UNKNOWN,
                     "transaction resolution unknown: shard %u did not "
                     "confirm the write",
                     t->shard);
        if (strcmp(t->why, t->why_unknown) == 0)
            tl_error_detail(err, "%s", t->why);
        else
            tl_error_detail(err, "%s; then %s", t->why_unknown, t->why);
        tl_error_hint(err, "the write may or may not have been applied; "
                           "check before retrying it");
        return TL_ETIMEOUT;
    }
    unavailable_error(r, t->shard, err);
    tl_error_detail(err, "%s", t->why);
    return TL_EUNAVAILABLE;
}

int
router_call(struct router *r, uint32_t shard, const Talus__Request *req,
            bool idempotent, Talus__Response **resp)
{
    struct router_retry t;
    enum router_op op = router_op_of(req);
    if (idempotent && op == ROUTER_MODIFY)
        op = ROUTER_READ;
    /* A request with its own version (a DROP's range delete) keeps it,
     * raised to the catalog's after a stale refusal, and is not checked
     * against the catalog: its table is gone by design. */
    Talus__Request copy = *req;
    bool pinned = req->has_map_version;
    router_retry_init(r, &t, shard, op, router_default_deadline(r));
    t.table_id = pinned ? 0 : router_request_table(req);
    for (;;) {
        int timeout_ms, rv;
        struct tl_rpc_client *cl = router_retry_client(r, &t, &timeout_ms);
        *resp = NULL;
        if (cl == NULL)
            return t.unknown ? TL_ETIMEOUT : TL_EUNAVAILABLE;
        uint64_t mv = catalog_request_version(r->catalog);
        copy.has_map_version = 1;
        copy.map_version =
            pinned && req->map_version > mv ? req->map_version : mv;
        copy.has_timeout_ms = 1;
        copy.timeout_ms = (uint32_t)timeout_ms;
        rv = tl_rpc_call(cl, &copy, timeout_ms, resp);
        enum router_verdict v = router_retry_next(r, &t, rv, *resp);
        if (v == ROUTER_DONE)
            return rv;
        if (*resp != NULL)
            talus__response__free_unpacked(*resp, NULL);
        *resp = NULL;
        if (v == ROUTER_FAILED) {
            tl_info(MOD, "event=call_failed shard=%u unknown=%d why=\"%s\"",
                    shard, (int)t.unknown, t.why);
            if (t.gone)
                return TL_ESTALE;
            return t.unknown ? TL_ETIMEOUT : TL_EUNAVAILABLE;
        }
        int64_t wait = t.next_at_ms - router_now_ms();
        if (wait > 0)
            usleep((useconds_t)wait * 1000);
    }
}

int
router_call_result(const struct router *r, uint32_t shard, int rv,
                   const Talus__Response *resp, struct tl_error *err)
{
    (void)r;
    if (rv == TL_EUNAVAILABLE) {
        unavailable_error(r, shard, err);
        return rv;
    }
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
