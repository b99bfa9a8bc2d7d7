/* registry — this node's part of the node registry in the meta group
 * (common/meta/meta_keys.h), on a thread of its own so that neither the
 * loop nor an RPC worker ever waits for the meta group on its behalf.
 *
 * Every REGISTRY_PERIOD_MS the thread checks its cached copy against what
 * it would write (its own record, the records of the groups it leads);
 * when something differs, when an address was missing (a node joined), or
 * every REGISTRY_REFRESH_S, it reads the registry (one scan of the meta
 * group through its leader, through the cluster client of
 * common/client/client.h: the local meta replica's view of the leader
 * first, then hints, replicas and every node) into the cache, then:
 *   - if the settings are absent and this node leads the meta group, it
 *     writes the settings, the initial shard records and the meta group's
 *     record in one batch, every mutation conditional on ABSENT, so two
 *     bootstraps cannot both apply;
 *   - if its own node record is absent or names other addresses, it
 *     writes it (ABSENT, or an overwrite: only this node writes it);
 *   - for every group it leads whose record differs from what it knows
 *     (voters, leader), it rewrites the record, at most once a second per
 *     group and never over a record of a higher term.
 * A failed cycle is retried with a doubling backoff up to 2 s. Workers
 * answer ClusterMapRequest from a fresh read (the meta leader) or, when
 * the meta group cannot be reached, from the cache. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "cluster_map.h"
#include "common/base/sqlstate.h"
#include "common/client/client.h"
#include "common/meta/meta_keys.h"
#include "crash.h"
#include "log.h"
#include "node/meta/gc.h"
#include "node/meta/node_meta.h"
#include "node/meta/registry.h"
#include "rpc.h"
#include "tl_error.h"

#define MOD "registry"
#define REGISTRY_PERIOD_MS 1000
#define REGISTRY_REFRESH_S 10.0 /* re-read an unchanged registry this often */
#define REGISTRY_MAX_BACKOFF_MS 2000
#define REGISTRY_CALL_MS 2000
#define REGISTRY_QUICK_CALL_MS 1000
#define REGISTRY_CONNECT_MS 500
#define SHARD_WRITE_MIN_S 1.0

struct registry {
    struct node_meta *n;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu; /* guards everything below but the thread's own */
    pthread_cond_t cv;
    bool stop;
    uint8_t *cache; /* packed ClusterMap, NULL until the first read */
    size_t cache_len;
    double cache_at;
    uint32_t meta_leader; /* the node that answered the last read */
    bool want_read;       /* an address was missing: read without waiting */
    /* Calls to the meta group (thread-safe; its own lock). It learns the
     * nodes beyond the configuration from every registry read. */
    struct tl_cluster_config cfg; /* the client's: n->cfg, then learned */
    struct tl_client client;
    /* Registry thread only. */
    double last_write[TL_MAX_SHARDS];
};

static double
wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------ addresses */

/* The address of node @id from the cache (rpc or raft). Under mu. */
static bool
cached_addr_locked(struct registry *g, uint32_t id, bool raft, char *out,
                   size_t len)
{
    bool found = false;

    assert(pthread_mutex_trylock(&g->mu) == EBUSY); /* mu held */
    if (g->cache == NULL)
        return false;
    Talus__ClusterMap *m =
        talus__cluster_map__unpack(NULL, g->cache_len, g->cache);
    if (m == NULL)
        return false;
    const Talus__NodeRecord *r = tl_cluster_map_node(m, id);
    if (r != NULL) {
        snprintf(out, len, "%s", raft ? r->raft_addr : r->rpc_addr);
        found = true;
    }
    talus__cluster_map__free_unpacked(m, NULL);
    return found;
}

int
registry_node_addr(struct node_meta *n, uint32_t id, bool raft, char *out,
                   size_t len)
{
    const struct tl_node_config *nc = tl_cluster_node(&n->cfg, id);
    struct registry *g = atomic_load(&n->reg);
    bool found = false;

    if (nc != NULL && nc->rpc_addr[0] != '\0') {
        snprintf(out, len, "%s", raft ? nc->raft_addr : nc->rpc_addr);
        return 0;
    }
    if (g == NULL || id < 1 || id > TL_MAX_NODES)
        return TL_ENOTFOUND;
    pthread_mutex_lock(&g->mu);
    found = cached_addr_locked(g, id, raft, out, len);
    if (!found) {
        /* A node that registered since the last read: read again now. */
        g->want_read = true;
        pthread_cond_signal(&g->cv);
    }
    pthread_mutex_unlock(&g->mu);
    return found ? 0 : TL_ENOTFOUND;
}

uint32_t
registry_max_node(struct node_meta *n)
{
    struct registry *g = atomic_load(&n->reg);
    uint32_t max = n->cfg.n_nodes;
    if (g == NULL)
        return max;
    pthread_mutex_lock(&g->mu);
    if (g->cache != NULL) {
        Talus__ClusterMap *m =
            talus__cluster_map__unpack(NULL, g->cache_len, g->cache);
        for (size_t i = 0; m != NULL && i < m->n_nodes; i++)
            if (m->nodes[i]->id > max && m->nodes[i]->id <= TL_MAX_NODES)
                max = m->nodes[i]->id;
        if (m != NULL)
            talus__cluster_map__free_unpacked(m, NULL);
    }
    pthread_mutex_unlock(&g->mu);
    return max;
}

/* ------------------------------------------------------------ meta calls */

/* Whether the node is shutting down: the thread gives up at once. */
static bool
stopping(struct registry *g)
{
    pthread_mutex_lock(&g->mu);
    bool stop = g->stop;
    pthread_mutex_unlock(&g->mu);
    return stop;
}

/* stop_cb of the cluster client: a stopping node gives up at once. */
static bool
stop_cb(void *arg)
{
    return stopping(arg);
}

/* learn_cb of the cluster client: a node without an address, or a hint
 * naming a node the client does not know. Teach it the nodes of the
 * cached registry; read the registry again soon for the others. */
static void
learn_cb(void *arg)
{
    struct registry *g = arg;
    Talus__ClusterMap *m = NULL;
    pthread_mutex_lock(&g->mu);
    if (g->cache != NULL)
        m = talus__cluster_map__unpack(NULL, g->cache_len, g->cache);
    g->want_read = true;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    if (m != NULL) {
        tl_client_add_nodes(&g->client, m);
        talus__cluster_map__free_unpacked(m, NULL);
    }
}

/* Send @req to the meta group's leader through the cluster client: the
 * local meta replica's leader first (else the last one seen), following
 * hints, then the meta replicas and every known node, the same request id
 * on every attempt. A worker answering a ClusterMap (@quick) gives it
 * REGISTRY_QUICK_CALL_MS in all and falls back to the cache: its client
 * waits too. 0 with *@resp set (a reply without error, or the group's own
 * error such as a failed condition); else a TL_E* code. */
static int
meta_call(struct registry *g, Talus__Request *req, bool quick,
          Talus__Response **resp)
{
    struct replica *msh = replica_get(g->n->rs, TL_META_GROUP);
    struct tl_client_retry t;
    int call_ms = quick ? REGISTRY_QUICK_CALL_MS : REGISTRY_CALL_MS;
    int64_t deadline = quick ? tl_client_now_ms() + REGISTRY_QUICK_CALL_MS
                             : tl_client_default_deadline(&g->client);
    int rv;

    if (msh != NULL && atomic_load(&msh->leader_id) != 0)
        tl_client_note_leader(&g->client, TL_META_GROUP,
                              (uint32_t)atomic_load(&msh->leader_id), "raft");
    req->has_shard = 1;
    req->shard = TL_META_GROUP;
    req->request_id = tl_rpc_next_id();
    if (req->body_case == TALUS__REQUEST__BODY_WRITE) {
        req->write->has_request_id = 1;
        req->write->request_id = req->request_id;
    }
    tl_client_retry_init(&g->client, &t, TL_META_GROUP, tl_client_op_of(req),
                         deadline);
    t.attempt_ms = call_ms;
    rv = tl_client_call(&g->client, &t, req, resp);
    if (rv != 0)
        return rv;
    pthread_mutex_lock(&g->mu);
    g->meta_leader = t.node;
    pthread_mutex_unlock(&g->mu);
    return 0;
}

int
registry_meta_call(struct node_meta *n, Talus__Request *req,
                   Talus__Response **resp)
{
    struct registry *g = atomic_load(&n->reg);
    if (g == NULL)
        return TL_EUNAVAILABLE;
    return meta_call(g, req, false, resp);
}

Talus__ClusterMap *
registry_cached_map(struct node_meta *n)
{
    struct registry *g = atomic_load(&n->reg);
    Talus__ClusterMap *m = NULL;
    if (g == NULL)
        return NULL;
    pthread_mutex_lock(&g->mu);
    if (g->cache != NULL)
        m = talus__cluster_map__unpack(NULL, g->cache_len, g->cache);
    pthread_mutex_unlock(&g->mu);
    return m;
}

/* Read the registry into @m (allocated in @a) and the cache. */
static int
read_registry(struct registry *g, bool quick, struct tl_arena *a,
              Talus__ClusterMap *m)
{
    Talus__ScanFragment *sf = tl_meta_registry_scan(a);
    talus__cluster_map__init(m);
    for (;;) {
        Talus__Request req = TALUS__REQUEST__INIT;
        Talus__Response *resp = NULL;
        req.body_case = TALUS__REQUEST__BODY_SCAN;
        req.scan = sf;
        int rv = meta_call(g, &req, quick, &resp);
        if (rv != 0)
            return rv;
        if (resp->error != NULL) {
            talus__response__free_unpacked(resp, NULL);
            return TL_EUNAVAILABLE;
        }
        tl_meta_registry_collect(resp, a, m);
        bool more = resp->has_resume_key && resp->resume_key.len > 0;
        if (more) {
            uint8_t *rk = tl_arena_alloc(a, resp->resume_key.len);
            memcpy(rk, resp->resume_key.data, resp->resume_key.len);
            sf->has_resume_key = 1;
            sf->resume_key.data = rk;
            sf->resume_key.len = resp->resume_key.len;
        }
        talus__response__free_unpacked(resp, NULL);
        if (!more)
            break;
    }
    /* The catalog's version too: after a restart the node refuses work
     * planned on an older catalog from its first read on, not only once
     * a newer request reaches it. */
    node_meta_learn_version(g->n, m->map_version);
    size_t len = talus__cluster_map__get_packed_size(m);
    uint8_t *buf = malloc(len + 1);
    if (buf == NULL)
        abort();
    talus__cluster_map__pack(m, buf);
    pthread_mutex_lock(&g->mu);
    free(g->cache);
    g->cache = buf;
    g->cache_len = len;
    g->cache_at = tl_clock_now_s();
    pthread_mutex_unlock(&g->mu);
    /* Nodes that joined since: the next calls may try them. */
    tl_client_add_nodes(&g->client, m);
    return 0;
}

/* ------------------------------------------------------------ writes */

struct batch {
    Talus__Mutation *muts[TL_MAX_SHARDS + TL_MAX_NODES + 4];
    size_t n;
};

/* Add a PUT of registry record @msg under (@index, @id) with condition
 * @cond. */
static void
add_put(struct tl_arena *a, struct batch *b, enum tl_meta_index index,
        uint32_t id, const ProtobufCMessage *msg, int cond)
{
    struct tl_buf key, row;
    Talus__Mutation *m = tl_arena_alloc(a, sizeof(*m));

    tl_buf_init(&key);
    tl_buf_init(&row);
    tl_meta_key_registry(&key, index, id);
    tl_meta_record_encode(&row, index, msg);
    talus__mutation__init(m);
    m->kind = TALUS__MUTATION__KIND__PUT;
    m->key.data = tl_arena_alloc(a, key.len);
    memcpy(m->key.data, key.data, key.len);
    m->key.len = key.len;
    m->has_value = 1;
    m->value.data = tl_arena_alloc(a, row.len);
    memcpy(m->value.data, row.data, row.len);
    m->value.len = row.len;
    if (cond != TALUS__MUTATION__COND__NONE) {
        m->has_cond = 1;
        m->cond = cond;
    }
    tl_buf_close(&key);
    tl_buf_close(&row);
    b->muts[b->n++] = m;
}

/* Write @b to the meta group. 0, TL_ECONFLICT (a condition failed), the
 * meta group's own error, or the call's. */
static int
write_batch(struct registry *g, struct batch *b)
{
    Talus__WriteBatch wb = TALUS__WRITE_BATCH__INIT;
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__Response *resp = NULL;
    int rv;

    if (b->n == 0)
        return 0;
    wb.n_mutations = b->n;
    wb.mutations = b->muts;
    req.body_case = TALUS__REQUEST__BODY_WRITE;
    req.write = &wb;
    rv = meta_call(g, &req, false, &resp);
    if (rv != 0)
        return rv;
    if (resp->error != NULL && resp->error->has_mutation)
        rv = TL_ECONFLICT;
    else if (resp->error != NULL)
        rv = resp->error->has_code && resp->error->code != 0 ? resp->error->code
                                                             : TL_EIO;
    talus__response__free_unpacked(resp, NULL);
    return rv;
}

/* The shard record of group @s as this leader sees it, in @a. */
static Talus__ShardRecord *
leader_record(struct tl_arena *a, struct replica *sh, uint32_t n_shards)
{
    Talus__ShardRecord *r = tl_arena_alloc(a, sizeof(*r));
    talus__shard_record__init(r);
    r->shard = sh->shard;
    if (sh->shard != TL_META_GROUP) {
        r->has_hash_lo = r->has_hash_hi = 1;
        tl_cluster_map_hash_range(sh->shard, n_shards, &r->hash_lo,
                                  &r->hash_hi);
    }
    pthread_mutex_lock(&sh->info_mu);
    r->replicas = tl_arena_alloc(a, (sh->info.n_voters + 1) * sizeof(uint32_t));
    for (size_t i = 0; i < sh->info.n_voters; i++)
        r->replicas[r->n_replicas++] = (uint32_t)sh->info.voters[i];
    r->has_term = 1;
    r->term = sh->info.term;
    pthread_mutex_unlock(&sh->info_mu);
    r->has_leader = 1;
    r->leader = sh->rs->opts.id;
    return r;
}

static bool
same_record(const Talus__ShardRecord *a, const Talus__ShardRecord *b)
{
    if (a->leader != b->leader || a->n_replicas != b->n_replicas)
        return false;
    for (size_t i = 0; i < a->n_replicas; i++) {
        bool found = false;
        for (size_t k = 0; k < b->n_replicas && !found; k++)
            found = a->replicas[i] == b->replicas[k];
        if (!found)
            return false;
    }
    return true;
}

/* The record of group @s in @m (the meta group's is assembled in
 * @meta_old), or NULL. */
static const Talus__ShardRecord *
stored_record(const Talus__ClusterMap *m, uint32_t s,
              Talus__ShardRecord *meta_old)
{
    if (s != TL_META_GROUP)
        return tl_cluster_map_shard(m, s);
    talus__shard_record__init(meta_old);
    meta_old->replicas = m->meta_voters;
    meta_old->n_replicas = m->n_meta_voters;
    meta_old->leader = m->has_meta_leader ? m->meta_leader : 0;
    return meta_old;
}

/* The settings and the initial shard records, all conditional on ABSENT
 * (this node leads the meta group and read no settings). */
static int
bootstrap_registry(struct registry *g, struct tl_arena *a,
                   const Talus__ClusterMap *m)
{
    const struct tl_cluster_config *c = &g->n->cfg;
    struct batch *b = tl_arena_calloc(a, sizeof(*b));
    Talus__ClusterSettings st = TALUS__CLUSTER_SETTINGS__INIT;
    int rv;

    st.n_shards = c->n_shards;
    st.replicas = c->n_replicas;
    st.initial_nodes = c->n_initial_nodes ? c->n_initial_nodes : c->n_nodes;
    st.has_request_timeout_ms = st.has_election_timeout_ms =
        st.has_heartbeat_ms = 1;
    st.request_timeout_ms = c->request_timeout_ms;
    st.election_timeout_ms = c->election_timeout_ms;
    st.heartbeat_ms = c->heartbeat_ms;
    st.has_max_entry_bytes = 1;
    st.max_entry_bytes = c->max_entry_bytes;
    st.has_gc_window_ms = 1;
    st.gc_window_ms = c->gc_window_ms;
    add_put(a, b, TL_META_INDEX_SETTINGS, 0, &st.base,
            TALUS__MUTATION__COND__ABSENT);
    for (uint32_t k = 0; k <= c->n_shards; k++) {
        uint32_t s = k == c->n_shards ? TL_META_GROUP : k;
        Talus__ShardRecord *r = tl_arena_alloc(a, sizeof(*r));
        uint32_t ids[TL_MAX_NODES];
        int nr = tl_cluster_shard_replicas(c, s, ids, TL_MAX_NODES);
        talus__shard_record__init(r);
        r->shard = s;
        if (s != TL_META_GROUP) {
            r->has_hash_lo = r->has_hash_hi = 1;
            tl_cluster_map_hash_range(s, c->n_shards, &r->hash_lo, &r->hash_hi);
        }
        r->replicas = tl_arena_alloc(a, (size_t)(nr + 1) * sizeof(uint32_t));
        memcpy(r->replicas, ids, (size_t)nr * sizeof(uint32_t));
        r->n_replicas = (size_t)nr;
        add_put(a, b, TL_META_INDEX_SHARD, s, &r->base,
                TALUS__MUTATION__COND__ABSENT);
    }
    /* The initial nodes too, from this node's configuration: a router
     * that starts before they registered still finds every replica. Each
     * node rewrites its own record if it differs. */
    for (uint32_t id = 1; id <= st.initial_nodes && id <= c->n_nodes; id++) {
        const struct tl_node_config *nc = tl_cluster_node(c, id);
        Talus__NodeRecord *r = tl_arena_alloc(a, sizeof(*r));
        if (nc == NULL || nc->rpc_addr[0] == '\0' ||
            tl_cluster_map_node(m, id) != NULL)
            continue;
        talus__node_record__init(r);
        r->id = id;
        r->has_registered_ms = 1;
        r->registered_ms = (uint64_t)wall_ms();
        r->rpc_addr = tl_arena_strdup(a, nc->rpc_addr);
        r->raft_addr = tl_arena_strdup(a, nc->raft_addr);
        add_put(a, b, TL_META_INDEX_NODE, id, &r->base,
                TALUS__MUTATION__COND__ABSENT);
    }
    rv = write_batch(g, b);
    if (rv == 0)
        tl_info(MOD, "event=bootstrapped shards=%u replicas=%u", c->n_shards,
                c->n_replicas);
    return rv == TL_ECONFLICT ? 0 : rv;
}

/* Write this node's record when absent or changed. */
static int
register_self(struct registry *g, struct tl_arena *a,
              const Talus__ClusterMap *m)
{
    struct node_meta *n = g->n;
    const Talus__NodeRecord *old = tl_cluster_map_node(m, n->id);
    Talus__NodeRecord r = TALUS__NODE_RECORD__INIT;
    struct batch *b;
    int rv;

    if (old != NULL && strcmp(old->rpc_addr, n->self->rpc_addr) == 0 &&
        strcmp(old->raft_addr, n->self->raft_addr) == 0)
        return 0;
    b = tl_arena_calloc(a, sizeof(*b));
    r.id = n->id;
    r.rpc_addr = tl_arena_strdup(a, n->self->rpc_addr);
    r.raft_addr = tl_arena_strdup(a, n->self->raft_addr);
    r.has_registered_ms = 1;
    r.registered_ms = old != NULL && old->has_registered_ms
                          ? old->registered_ms
                          : (uint64_t)wall_ms();
    add_put(a, b, TL_META_INDEX_NODE, n->id, &r.base,
            old == NULL ? TALUS__MUTATION__COND__ABSENT
                        : TALUS__MUTATION__COND__NONE);
    rv = write_batch(g, b);
    if (rv == 0)
        tl_info(MOD, "event=registered id=%u rpc=%s raft=%s", n->id,
                n->self->rpc_addr, n->self->raft_addr);
    return rv;
}

/* Rewrite the records of the groups this node leads that changed. */
static int
update_shards(struct registry *g, struct tl_arena *a,
              const Talus__ClusterMap *m)
{
    struct node_meta *n = g->n;
    uint32_t n_shards = m->settings->n_shards;
    struct batch *b = tl_arena_calloc(a, sizeof(*b));
    double now = tl_clock_now_s();

    for (uint32_t k = 0; k <= n_shards && k < TL_MAX_SHARDS; k++) {
        uint32_t s = k == n_shards ? TL_META_GROUP : k;
        struct replica *sh = replica_get(n->rs, s);
        if (sh == NULL || !atomic_load(&sh->is_leader) ||
            now - g->last_write[s] < SHARD_WRITE_MIN_S)
            continue;
        Talus__ShardRecord *r = leader_record(a, sh, n_shards);
        if (r->n_replicas == 0)
            continue; /* not published yet */
        Talus__ShardRecord meta_old;
        const Talus__ShardRecord *old = stored_record(m, s, &meta_old);
        if (old != NULL && same_record(old, r))
            continue;
        if (old != NULL && old->has_term && old->term > r->term)
            continue; /* a newer leader wrote it */
        if (old != NULL && old->has_hash_lo) {
            r->hash_lo = old->hash_lo;
            r->hash_hi = old->hash_hi;
        }
        g->last_write[s] = now;
        add_put(a, b, TL_META_INDEX_SHARD, s, &r->base,
                TALUS__MUTATION__COND__NONE);
    }
    int rv = write_batch(g, b);
    if (rv == 0 && b->n > 0)
        tl_debug(MOD, "event=shards_updated n=%zu", b->n);
    return rv;
}

/* One pass; 0 when the registry is read and up to date. */
static int
cycle(struct registry *g)
{
    struct node_meta *n = g->n;
    struct tl_arena a;
    Talus__ClusterMap m;
    int rv;

    tl_arena_init(&a);
    rv = read_registry(g, false, &a, &m);
    if (rv == 0 && m.settings == NULL) {
        struct replica *msh = replica_get(n->rs, TL_META_GROUP);
        rv = msh != NULL && atomic_load(&msh->is_leader)
                 ? bootstrap_registry(g, &a, &m)
                 : TL_EUNAVAILABLE;
        if (rv == 0)
            rv = read_registry(g, false, &a, &m);
        if (rv == 0 && m.settings == NULL)
            rv = TL_EUNAVAILABLE;
    }
    if (rv == 0)
        rv = register_self(g, &a, &m);
    if (rv == 0)
        rv = update_shards(g, &a, &m);
    tl_arena_close(&a);
    return rv;
}

/* Whether a cycle has anything to do: no read yet, a read asked for or
 * older than REGISTRY_REFRESH_S, this node's record missing or stale, or
 * a group it leads whose record differs from its view. Checked against
 * the cache, without a call, so an idle cluster reads its registry every
 * REGISTRY_REFRESH_S only. Registry thread. */
static bool
cycle_needed(struct registry *g)
{
    struct node_meta *n = g->n;
    Talus__ClusterMap *m = NULL;
    struct tl_arena a;
    bool need;

    pthread_mutex_lock(&g->mu);
    need = g->want_read || g->cache == NULL ||
           tl_clock_now_s() - g->cache_at >= REGISTRY_REFRESH_S;
    g->want_read = false;
    if (!need)
        m = talus__cluster_map__unpack(NULL, g->cache_len, g->cache);
    pthread_mutex_unlock(&g->mu);
    if (need || m == NULL || m->settings == NULL) {
        if (m != NULL)
            talus__cluster_map__free_unpacked(m, NULL);
        return true;
    }
    const Talus__NodeRecord *self = tl_cluster_map_node(m, n->id);
    need = self == NULL || strcmp(self->rpc_addr, n->self->rpc_addr) != 0 ||
           strcmp(self->raft_addr, n->self->raft_addr) != 0;
    tl_arena_init(&a);
    uint32_t n_shards = m->settings->n_shards;
    for (uint32_t k = 0; !need && k <= n_shards && k < TL_MAX_SHARDS; k++) {
        uint32_t s = k == n_shards ? TL_META_GROUP : k;
        struct replica *sh = replica_get(n->rs, s);
        if (sh == NULL || !atomic_load(&sh->is_leader))
            continue;
        Talus__ShardRecord *r = leader_record(&a, sh, n_shards);
        Talus__ShardRecord meta_old;
        const Talus__ShardRecord *old = stored_record(m, s, &meta_old);
        need = r->n_replicas > 0 && (old == NULL || !same_record(old, r));
    }
    tl_arena_close(&a);
    talus__cluster_map__free_unpacked(m, NULL);
    return need;
}

static void *
registry_main(void *arg)
{
    struct registry *g = arg;
    int backoff = REGISTRY_PERIOD_MS / 4;
    bool failing = false;

    tl_crash_thread_init(); /* a stack overflow here is logged too */

    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        pthread_mutex_unlock(&g->mu);
        int rv = failing || cycle_needed(g) ? cycle(g) : 0;
        int wait_ms = REGISTRY_PERIOD_MS;
        if (rv == 0)
            gc_tick(g->n); /* the GC safe point: gc.c */
        if (rv != 0) {
            if (!failing)
                tl_debug(MOD, "event=cycle_failed err=\"%s\"", tl_strerror(rv));
            failing = true;
            wait_ms = backoff;
            backoff = backoff * 2 > REGISTRY_MAX_BACKOFF_MS
                          ? REGISTRY_MAX_BACKOFF_MS
                          : backoff * 2;
        } else {
            failing = false;
            backoff = REGISTRY_PERIOD_MS / 4;
        }
        struct timespec ts = tl_clock_after_ms((uint32_t)wait_ms);
        pthread_mutex_lock(&g->mu);
        while (!g->stop && !g->want_read &&
               pthread_cond_timedwait(&g->cv, &g->mu, &ts) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

/* ------------------------------------------------------------ lifecycle */

int
registry_start(struct node_meta *n)
{
    struct registry *g = calloc(1, sizeof(*g));
    pthread_condattr_t ca;

    if (g == NULL)
        abort();
    g->n = n;
    g->cfg = n->cfg;
    struct tl_client_opts opts = {
        .log_mod = MOD,
        .connect_timeout_ms = REGISTRY_CONNECT_MS,
        .hooks = {.arg = g, .learn_cb = learn_cb, .stop_cb = stop_cb},
    };
    int rv = tl_client_init(&g->client, &g->cfg, &opts);
    if (rv != 0) {
        free(g);
        return rv;
    }
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_store(&n->reg, g);
    if (pthread_create(&g->thread, NULL, registry_main, g) != 0) {
        tl_error(MOD, "event=thread_failed");
        return TL_EIO;
    }
    g->started = true;
    return 0;
}

void
registry_request_stop(struct node_meta *n)
{
    struct registry *g = atomic_load(&n->reg);
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = true;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

void
registry_stop(struct node_meta *n)
{
    struct registry *g = atomic_load(&n->reg);
    if (g == NULL || !g->started)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = true;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    g->started = false;
}

void
registry_destroy(struct node_meta *n)
{
    struct registry *g = atomic_load(&n->reg);
    if (g == NULL)
        return;
    registry_stop(n);
    tl_client_close(&g->client);
    free(g->cache);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g);
    atomic_store(&n->reg, NULL);
}

/* ------------------------------------------------------------ serving */

void
registry_serve(struct node_meta *n, const Talus__Request *req,
               struct tl_arena *a, Talus__Response *resp, struct tl_error *err,
               int *code)
{
    struct registry *g = atomic_load(&n->reg);
    Talus__ClusterMap *m = tl_arena_alloc(a, sizeof(*m));
    bool cached_ok =
        req->cluster_map->has_cached_ok && req->cluster_map->cached_ok;
    int rv = TL_EUNAVAILABLE;

    *code = 0;
    if (g != NULL && !cached_ok)
        rv = read_registry(g, true, a, m);
    if (rv != 0 && g != NULL) {
        pthread_mutex_lock(&g->mu);
        Talus__ClusterMap *c =
            g->cache != NULL ? talus__cluster_map__unpack(
                                   tl_arena_protobuf(a), g->cache_len, g->cache)
                             : NULL;
        double age = tl_clock_now_s() - g->cache_at;
        pthread_mutex_unlock(&g->mu);
        if (c != NULL) {
            m = c;
            m->has_from_cache = m->has_age_ms = 1;
            m->from_cache = true;
            m->age_ms = (uint64_t)(age * 1000.0);
            rv = 0;
        }
    }
    if (rv != 0) {
        *code = TL_EUNAVAILABLE;
        tl_error_set(err, TL_EUNAVAILABLE, TL_SQLSTATE_CONNECTION_FAILURE,
                     "node %u cannot read the cluster registry yet", n->id);
        tl_error_detail(err, "the meta group has no leader it can reach");
        return;
    }
    /* The meta group as this node sees it, where the record lags. */
    struct replica *msh = replica_get(n->rs, TL_META_GROUP);
    if (msh != NULL && atomic_load(&msh->leader_id) != 0) {
        m->has_meta_leader = 1;
        m->meta_leader = (uint32_t)atomic_load(&msh->leader_id);
    } else if (g != NULL) {
        pthread_mutex_lock(&g->mu);
        if (g->meta_leader != 0 && !m->from_cache) {
            m->has_meta_leader = 1;
            m->meta_leader = g->meta_leader;
        }
        pthread_mutex_unlock(&g->mu);
    }
    uint64_t v = atomic_load(&n->map_version);
    if (v > m->map_version) {
        m->has_map_version = 1;
        m->map_version = v;
    }
    resp->cluster_map = m;
}
