/* client — leader following and retries of calls to raft groups. */
#include "common/client/client.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/base/sqlstate.h"
#include "log.h"

/* The address of a node whose address is not known yet: nothing listens
 * on TCP port 1 of loopback, so calls fail as unreachable. */
#define CLIENT_NO_ADDR "127.0.0.1:1"

/* The module name of @c's log lines. */
static const char *
mod_of(const struct tl_client *c)
{
    return c->opts.log_mod != NULL ? c->opts.log_mod : "client";
}

/* A client for @addr, or for a node whose address is not known yet (an
 * empty @addr: a placeholder that never connects, so calls to it fail as
 * unreachable until tl_client_add_nodes() replaces it). */
static int
make_rpc(const struct tl_client *c, const char *addr,
         struct tl_rpc_client **out)
{
    int rv = tl_rpc_client_create(addr[0] != '\0' ? addr : CLIENT_NO_ADDR, out);
    if (rv == 0)
        tl_rpc_client_set_connect_timeout(*out,
                                          c->opts.connect_timeout_ms > 0
                                              ? c->opts.connect_timeout_ms
                                              : TL_CLIENT_CONNECT_TIMEOUT_MS);
    return rv;
}

int
tl_client_init(struct tl_client *c, struct tl_cluster_config *cfg,
               const struct tl_client_opts *opts)
{
    int rv;
    memset(c, 0, sizeof(*c));
    c->cfg = cfg;
    if (opts != NULL)
        c->opts = *opts;
    atomic_init(&c->n_leader_changes, 0);
    atomic_init(&c->n_retries, 0);
    for (uint32_t s = 0; s < TL_MAX_SHARDS; s++)
        atomic_init(&c->leader[s], 0);
    for (uint32_t i = 0; i < TL_MAX_NODES; i++)
        atomic_init(&c->down_until_ms[i], 0);
    pthread_mutex_init(&c->mu, NULL);
    for (uint32_t i = 0; i < cfg->n_nodes; i++) {
        struct tl_rpc_client *r = NULL;
        rv = make_rpc(c, cfg->nodes[i].rpc_addr, &r);
        if (rv != 0) {
            tl_error(mod_of(c), "event=bad_node_addr node=%u addr=%s", i + 1,
                     cfg->nodes[i].rpc_addr);
            goto err_nodes;
        }
        c->nodes[i] = r;
    }
    return 0;

err_nodes:
    for (uint32_t i = 0; i < cfg->n_nodes; i++) {
        tl_rpc_client_destroy(c->nodes[i]);
        c->nodes[i] = NULL;
    }
    pthread_mutex_destroy(&c->mu);
    return rv;
}

void
tl_client_close(struct tl_client *c)
{
    for (uint32_t i = 0; i < TL_MAX_NODES; i++) {
        tl_rpc_client_destroy(c->nodes[i]);
        c->nodes[i] = NULL;
    }
    for (uint32_t i = 0; i < c->n_retired; i++)
        tl_rpc_client_destroy(c->retired[i]);
    c->n_retired = 0;
    pthread_mutex_destroy(&c->mu);
}

uint32_t
tl_client_add_nodes(struct tl_client *c, const Talus__ClusterMap *m)
{
    pthread_mutex_lock(&c->mu);
    struct tl_cluster_config *cfg = c->cfg;
    uint32_t n_nodes = cfg->n_nodes, max = n_nodes, n_learned = 0;
    for (size_t i = 0; i < m->n_nodes; i++) {
        const Talus__NodeRecord *rec = m->nodes[i];
        struct tl_rpc_client *r = NULL;
        if (rec->id < 1 || rec->id > TL_MAX_NODES ||
            strlen(rec->rpc_addr) >= TL_ADDR_MAX ||
            strlen(rec->raft_addr) >= TL_ADDR_MAX)
            continue;
        struct tl_node_config *nc = &cfg->nodes[rec->id - 1];
        bool known = rec->id <= n_nodes && nc->rpc_addr[0] != '\0';
        if (known || make_rpc(c, rec->rpc_addr, &r) != 0)
            continue;
        snprintf(nc->rpc_addr, sizeof nc->rpc_addr, "%s", rec->rpc_addr);
        snprintf(nc->raft_addr, sizeof nc->raft_addr, "%s", rec->raft_addr);
        nc->id = rec->id;
        struct tl_rpc_client *old = atomic_exchange(&c->nodes[rec->id - 1], r);
        if (old != NULL && c->n_retired < TL_MAX_NODES)
            c->retired[c->n_retired++] = old;
        else if (old != NULL)
            tl_warn(mod_of(c), "event=client_leaked node=%u", rec->id);
        tl_info(mod_of(c), "event=node_learned node=%u rpc=%s", rec->id,
                rec->rpc_addr);
        n_learned++;
        if (rec->id > max)
            max = rec->id;
    }
    /* Ids in between get an unreachable placeholder until they register. */
    for (uint32_t id = n_nodes + 1; id < max; id++) {
        struct tl_rpc_client *r = NULL;
        if (c->nodes[id - 1] == NULL && make_rpc(c, CLIENT_NO_ADDR, &r) == 0) {
            cfg->nodes[id - 1].id = id;
            c->nodes[id - 1] = r;
        }
    }
    if (max > n_nodes)
        __atomic_store_n(&cfg->n_nodes, max, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&c->mu);
    return n_learned;
}

void
tl_client_seed_leaders(struct tl_client *c, const Talus__ClusterMap *m)
{
    uint32_t n_nodes = __atomic_load_n(&c->cfg->n_nodes, __ATOMIC_ACQUIRE);
    for (size_t i = 0; i < m->n_shards; i++) {
        const Talus__ShardRecord *s = m->shards[i];
        uint32_t none = 0;
        if (s->shard >= TL_MAX_SHARDS || !s->has_leader || s->leader == 0 ||
            s->leader > n_nodes)
            continue;
        atomic_compare_exchange_strong(&c->leader[s->shard], &none, s->leader);
    }
    if (m->has_meta_leader && m->meta_leader != 0 &&
        m->meta_leader <= n_nodes) {
        uint32_t none = 0;
        atomic_compare_exchange_strong(&c->leader[TL_META_GROUP], &none,
                                       m->meta_leader);
    }
}

uint32_t
tl_client_leader(const struct tl_client *c, uint32_t group)
{
    uint32_t node = group < TL_MAX_SHARDS ? atomic_load(&c->leader[group]) : 0;
    if (node == 0 || node > c->cfg->n_nodes)
        node = tl_cluster_shard_node(c->cfg, group);
    return node;
}

struct tl_rpc_client *
tl_client_node(struct tl_client *c, uint32_t id)
{
    return c->nodes[id - 1];
}

int64_t
tl_client_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Record that @node leads @group, as @why says, unless another thread
 * moved the leader since @seen was read; logs each change once. */
static void
move_leader(struct tl_client *c, uint32_t group, uint32_t seen, uint32_t node,
            const char *why)
{
    if (group >= TL_MAX_SHARDS || node == seen)
        return;
    uint32_t old = atomic_load(&c->leader[group]);
    uint32_t eff = old == 0 || old > c->cfg->n_nodes
                       ? tl_cluster_shard_node(c->cfg, group)
                       : old;
    if (eff != seen || eff == node ||
        !atomic_compare_exchange_strong(&c->leader[group], &old, node))
        return;
    atomic_fetch_add(&c->n_leader_changes, 1);
    tl_info(mod_of(c), "event=leader_changed shard=%u from=%u to=%u reason=%s",
            group, eff, node, why);
}

void
tl_client_note_leader(struct tl_client *c, uint32_t group, uint32_t id,
                      const char *why)
{
    if (id < 1 || id > c->cfg->n_nodes)
        return;
    move_leader(c, group, tl_client_leader(c, group), id, why);
}

/* The nodes to try for @group, in order: its replicas (preferred leader
 * first), then every other node, in case membership moved the group.
 * Returns how many (at least one). */
static uint32_t
group_candidates(const struct tl_client *c, uint32_t group, uint32_t *ids)
{
    uint32_t n =
        (uint32_t)tl_cluster_shard_replicas(c->cfg, group, ids, TL_MAX_NODES);
    for (uint32_t id = 1; id <= c->cfg->n_nodes; id++) {
        bool seen = false;
        for (uint32_t k = 0; k < n && !seen; k++)
            seen = ids[k] == id;
        if (!seen)
            ids[n++] = id;
    }
    return n;
}

bool
tl_client_node_down(const struct tl_client *c, uint32_t id, int64_t now)
{
    return atomic_load(&c->down_until_ms[id - 1]) > now;
}

/* The candidate after @node in @group's order (wrapping around), passing
 * over nodes found unreachable lately. When every replica of the group
 * looks unreachable, the next replica is retried anyway (after the
 * caller's backoff): a node that merely reconnects, or restarts, is the
 * only one that can answer, and the other nodes would just say they do
 * not host the group until the deadline passed. */
static uint32_t
next_candidate(const struct tl_client *c, uint32_t group, uint32_t node)
{
    uint32_t ids[2 * TL_MAX_NODES];
    uint32_t reps[TL_MAX_NODES];
    uint32_t n = group_candidates(c, group, ids), at = n - 1;
    uint32_t n_reps =
        (uint32_t)tl_cluster_shard_replicas(c->cfg, group, reps, TL_MAX_NODES);
    int64_t now = tl_client_now_ms();
    bool replica_up = false;
    for (uint32_t i = 0; i < n_reps; i++)
        replica_up = replica_up || !tl_client_node_down(c, reps[i], now);
    for (uint32_t i = 0; i < n; i++)
        if (ids[i] == node)
            at = i;
    for (uint32_t k = 1; k <= n; k++) {
        uint32_t i = (at + k) % n;
        /* group_candidates() lists the replicas first. */
        if (replica_up ? !tl_client_node_down(c, ids[i], now) : i < n_reps)
            return ids[i];
    }
    return ids[(at + 1) % n];
}

int64_t
tl_client_default_deadline(const struct tl_client *c)
{
    uint32_t budget = c->cfg->n_replicas > 1 ? TL_CLIENT_RETRY_BUDGET_MS
                                             : c->cfg->request_timeout_ms;
    return tl_client_now_ms() + budget;
}

enum tl_client_op
tl_client_op_of(const Talus__Request *req)
{
    switch (req->body_case) {
    case TALUS__REQUEST__BODY_SCAN:
    case TALUS__REQUEST__BODY_STATUS:
    case TALUS__REQUEST__BODY_TSO: /* a lost answer only leaves a gap */
        return TL_CLIENT_READ;
    case TALUS__REQUEST__BODY_WRITE:
        return req->write->has_request_id && req->write->request_id != 0
                   ? TL_CLIENT_WRITE
                   : TL_CLIENT_MODIFY;
    case TALUS__REQUEST__BODY_MODIFY:
        /* The first phase of a modify only builds and keeps its batch: no
         * effect, so never an unknown outcome. */
        if (req->modify != NULL && req->modify->prepare)
            return TL_CLIENT_READ;
        /* The node proposes the modify's batch under the request id. */
        return req->request_id != 0 ? TL_CLIENT_WRITE : TL_CLIENT_MODIFY;
    default:
        return TL_CLIENT_MODIFY;
    }
}

/* A TL_ESTALE refusal (nothing was done): the stale_cb hook reloads what
 * the request was planned with; retry at once if its table still exists.
 * Without the hook the refusal is the answer. */
static enum tl_client_verdict
follow_stale(struct tl_client *c, struct tl_client_retry *t,
             const Talus__Response *resp)
{
    uint64_t newest = resp->has_map_version ? resp->map_version : 0;
    struct tl_error err;
    if (c->opts.hooks.stale_cb == NULL)
        return TL_CLIENT_DONE;
    tl_error_clear(&err);
    snprintf(t->why, sizeof(t->why), "node %u: %s", t->node,
             resp->error->message != NULL ? resp->error->message : "stale");
    int rv = TL_ESTALE;
    if (++t->n_stale > TL_CLIENT_STALE_MAX ||
        (rv = c->opts.hooks.stale_cb(c->opts.hooks.arg, t, newest, &err)) !=
            0) {
        if (rv == TL_ENOTFOUND) {
            t->gone = true;
            t->failed = true;
            return TL_CLIENT_FAILED;
        }
        if (err.message[0] != '\0')
            snprintf(t->why, sizeof(t->why),
                     "cannot reload the catalog: %.150s", err.message);
        t->failed = true;
        return TL_CLIENT_FAILED;
    }
    t->next_at_ms = tl_client_now_ms();
    atomic_fetch_add(&c->n_retries, 1);
    tl_debug(mod_of(c), "event=stale_retry shard=%u table=%u version=%llu",
             t->group, t->table_id, (unsigned long long)newest);
    return TL_CLIENT_RETRY;
}

void
tl_client_retry_init(struct tl_client *c, struct tl_client_retry *t,
                     uint32_t group, enum tl_client_op op, int64_t deadline_ms)
{
    memset(t, 0, sizeof(*t));
    t->group = group;
    t->op = op;
    t->deadline_ms = deadline_ms;
    t->node = tl_client_leader(c, group);
    if (tl_client_node_down(c, t->node, tl_client_now_ms()))
        t->node = next_candidate(c, group, t->node);
    t->backoff_ms = TL_CLIENT_BACKOFF_FIRST_MS;
}

struct tl_rpc_client *
tl_client_retry_client(struct tl_client *c, struct tl_client_retry *t,
                       int *timeout_ms)
{
    int64_t left = t->deadline_ms - tl_client_now_ms();
    int64_t attempt =
        t->attempt_ms > 0 ? t->attempt_ms : (int64_t)c->cfg->request_timeout_ms;
    if (left <= 0)
        return NULL;
    if (left > INT32_MAX)
        left = INT32_MAX;
    *timeout_ms = left < attempt ? (int)left : (int)attempt;
    return c->nodes[t->node - 1];
}

/* Ask the learn_cb hook for nodes this client does not know yet. */
static void
learn_nodes(struct tl_client *c)
{
    if (c->opts.hooks.learn_cb != NULL)
        c->opts.hooks.learn_cb(c->opts.hooks.arg);
}

enum tl_client_verdict
tl_client_retry_next(struct tl_client *c, struct tl_client_retry *t, int rv,
                     const Talus__Response *resp)
{
    const struct tl_node_config *nc = tl_cluster_node(c->cfg, t->node);
    const char *addr = nc != NULL ? nc->rpc_addr : "?";
    bool maybe_applied = false;
    uint32_t hint = 0;

    t->n_attempts++;
    /* A node whose address this client does not know yet: ask the
     * registry (it may have registered since the client started). */
    if (rv == TL_EUNAVAILABLE && (nc == NULL || nc->rpc_addr[0] == '\0'))
        learn_nodes(c);
    if (rv == TL_EUNAVAILABLE)
        atomic_store(&c->down_until_ms[t->node - 1],
                     tl_client_now_ms() + TL_CLIENT_DOWN_MS);
    else if (rv == 0)
        atomic_store(&c->down_until_ms[t->node - 1], 0);
    if (rv == 0 && resp->error == NULL) {
        move_leader(c, t->group, tl_client_leader(c, t->group), t->node,
                    "answered");
        return TL_CLIENT_DONE;
    }
    if (rv == 0) {
        const Talus__Error *e = resp->error;
        int code = e->has_code ? e->code : 0;
        if (code == TL_ESTALE)
            return follow_stale(c, t, resp);
        if (code != TL_ENOTLEADER && code != TL_EUNAVAILABLE &&
            code != TL_ESHUTDOWN && code != TL_ETIMEOUT)
            return TL_CLIENT_DONE; /* the group's own answer */
        /* The node says whether the write may still commit; every other
         * failover reply was refused before anything ran. */
        maybe_applied = e->has_outcome_unknown && e->outcome_unknown;
        /* A node this client does not know yet (it joined after the
         * client started): learn it from the registry. */
        if (resp->has_leader_hint && resp->leader_hint > c->cfg->n_nodes &&
            resp->leader_hint <= TL_MAX_NODES)
            learn_nodes(c);
        if (resp->has_leader_hint && resp->leader_hint >= 1 &&
            resp->leader_hint <= c->cfg->n_nodes)
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
        return TL_CLIENT_DONE; /* not a failover: EPROTO, ENOMEM, ... */
    }
    /* What the attempt says about the group's leadership, for the report
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
    if (maybe_applied && t->op != TL_CLIENT_READ && !t->unknown) {
        t->unknown = true;
        memcpy(t->why_unknown, t->why, sizeof(t->why));
    }
    if (t->unknown && t->op == TL_CLIENT_MODIFY) {
        t->failed = true; /* running it again could apply it twice */
        return TL_CLIENT_FAILED;
    }
    /* The leader took the write and is still committing and applying it
     * (a large one): ask it again at once, the retry waits for the same
     * proposal. Without a statement_timeout a working leader is not a
     * failover and does not use up the retry budget, up to a bound. */
    if (rv == 0 && resp->error->has_in_progress && resp->error->in_progress &&
        t->n_progress < TL_CLIENT_PROGRESS_MAX) {
        int64_t now = tl_client_now_ms();
        t->n_progress++;
        if (!t->stmt_deadline &&
            t->deadline_ms < now + (int64_t)c->cfg->request_timeout_ms)
            t->deadline_ms = now + (int64_t)c->cfg->request_timeout_ms;
        t->next_at_ms = now;
        tl_debug(mod_of(c),
                 "event=retry_in_progress shard=%u node=%u attempt=%u",
                 t->group, t->node, t->n_attempts);
        return TL_CLIENT_RETRY;
    }

    uint32_t from = t->node;
    int pause = 0;
    if (hint != 0 && hint != from) {
        move_leader(c, t->group, from, hint, "hint");
        t->node = hint;
        /* Hints that chase each other (a stale one) get the backoff. */
        if (++t->n_hops > 3)
            pause = t->backoff_ms;
    } else {
        t->node = next_candidate(c, t->group, from);
        t->n_hops = 0;
        pause = t->backoff_ms;
    }
    if (pause > 0)
        t->backoff_ms = t->backoff_ms * 2 > TL_CLIENT_BACKOFF_MAX_MS
                            ? TL_CLIENT_BACKOFF_MAX_MS
                            : t->backoff_ms * 2;
    t->next_at_ms = tl_client_now_ms() + pause;
    if (t->next_at_ms >= t->deadline_ms) {
        t->failed = true;
        return TL_CLIENT_FAILED;
    }
    atomic_fetch_add(&c->n_retries, 1);
    tl_debug(mod_of(c),
             "event=retry shard=%u from=%u to=%u pause_ms=%d attempt=%u "
             "why=\"%s\"",
             t->group, from, t->node, pause, t->n_attempts, t->why);
    return TL_CLIENT_RETRY;
}

/* The report for @group when no attempt reached a leader and nothing was
 * applied. With replicas an election may be running: 40001, which clients
 * retry. With one replica only its node's return helps: 08006, as for any
 * unreachable server. */
int
tl_client_unavailable_error(const struct tl_client *c, uint32_t group,
                            struct tl_error *err)
{
    if (c->cfg->n_replicas > 1) {
        tl_error_set(err, TL_EUNAVAILABLE,
                     TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                     "could not reach the leader of shard %u", group);
        tl_error_hint(err,
                      "the shard is electing a leader; retry the statement");
    } else {
        tl_error_set(err, TL_EUNAVAILABLE, TL_SQLSTATE_CONNECTION_FAILURE,
                     "shard %u is unavailable", group);
        tl_error_hint(err,
                      "node %u, its only replica, is down or restarting; "
                      "retry the statement",
                      tl_cluster_shard_node(c->cfg, group));
    }
    return TL_EUNAVAILABLE;
}

int
tl_client_retry_error(const struct tl_client *c,
                      const struct tl_client_retry *t, struct tl_error *err)
{
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
                     "shard %u did not answer in time", t->group);
        tl_error_detail(err, "%s", t->why);
        return TL_ETIMEOUT;
    }
    if (t->unknown) {
        tl_error_set(err, TL_ETIMEOUT,
                     TL_SQLSTATE_TRANSACTION_RESOLUTION_UNKNOWN,
                     "transaction resolution unknown: shard %u did not "
                     "confirm the write",
                     t->group);
        if (strcmp(t->why, t->why_unknown) == 0)
            tl_error_detail(err, "%s", t->why);
        else
            tl_error_detail(err, "%s; then %s", t->why_unknown, t->why);
        tl_error_hint(err, "the write may or may not have been applied; "
                           "check before retrying it");
        return TL_ETIMEOUT;
    }
    tl_client_unavailable_error(c, t->group, err);
    tl_error_detail(err, "%s", t->why);
    return TL_EUNAVAILABLE;
}

int
tl_client_call(struct tl_client *c, struct tl_client_retry *t,
               const Talus__Request *req, Talus__Response **resp)
{
    const struct tl_client_hooks *h = &c->opts.hooks;
    Talus__Request copy = *req;
    for (;;) {
        int timeout_ms, rv;
        *resp = NULL;
        if (h->stop_cb != NULL && h->stop_cb(h->arg)) {
            snprintf(t->why, sizeof(t->why), "shutting down");
            t->failed = true;
            return TL_ESHUTDOWN;
        }
        struct tl_rpc_client *cl = tl_client_retry_client(c, t, &timeout_ms);
        if (cl == NULL)
            return t->unknown ? TL_ETIMEOUT : TL_EUNAVAILABLE;
        if (h->attempt_cb != NULL)
            h->attempt_cb(h->arg, t, req, &copy);
        copy.has_timeout_ms = 1;
        copy.timeout_ms = (uint32_t)timeout_ms;
        rv = tl_rpc_call(cl, &copy, timeout_ms, resp);
        enum tl_client_verdict v = tl_client_retry_next(c, t, rv, *resp);
        if (v == TL_CLIENT_DONE)
            return rv;
        if (*resp != NULL)
            talus__response__free_unpacked(*resp, NULL);
        *resp = NULL;
        if (v == TL_CLIENT_FAILED) {
            tl_info(mod_of(c),
                    "event=call_failed shard=%u unknown=%d why=\"%s\"",
                    t->group, (int)t->unknown, t->why);
            if (t->gone)
                return TL_ESTALE;
            return t->unknown ? TL_ETIMEOUT : TL_EUNAVAILABLE;
        }
        int64_t wait = t->next_at_ms - tl_client_now_ms();
        if (wait > 0)
            usleep((useconds_t)wait * 1000);
    }
}
