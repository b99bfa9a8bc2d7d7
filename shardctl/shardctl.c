/* shardctl — the operator's command line for a Talus cluster.
 *
 * It learns the cluster from any one node (--node HOST:PORT, else
 * $TALUS_NODE, else 127.0.0.1:7101: `make up`'s node 1), which answers a
 * ClusterMap from the registry in the meta group; a configuration file
 * (--config FILE or $TALUS_CONFIG) still works. It talks to the storage
 * nodes over their RPC port and to a router over the PostgreSQL protocol.
 * Human-readable tables by default, --json for scripts; exit status 0 on
 * success, 1 when the cluster is unhealthy or unreachable, 2 for bad usage. */
#include <libpq-fe.h>
#include <nng/nng.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster_config.h"
#include "cluster_map.h"
#include "crash.h"
#include "log.h"
#include "rpc.h"
#include "shardctl_int.h"
#include "tl_error.h"

/* A node's status answer: within STATUS_SOFT_MS it is up; later, but
 * within STATUS_HARD_MS, it is slow (busy, but it answers: not down);
 * with no connection after STATUS_CONNECT_MS (dead, frozen or
 * unreachable) or no answer by STATUS_HARD_MS it is down. */
#define STATUS_SOFT_MS 1000
#define STATUS_HARD_MS 5000
#define STATUS_CONNECT_MS 2000
/* Per node asked for the cluster map: the node reads the registry through
 * the meta group's leader, which a busy cluster may take seconds to
 * confirm; a dead node is skipped after the connect timeout (1 s). */
#define MAP_TIMEOUT_MS STATUS_HARD_MS
#define DEFAULT_NODE "127.0.0.1:7101"

/* The ClusterMap the cluster answered (registry view), or NULL. */
static Talus__Response *g_map;

/* The cluster client of this run (shardctl_client()) and its copy of the
 * configuration. */
static struct tl_cluster_config g_client_cfg;
static struct tl_client g_client;
static bool g_client_ready;

/* A shard as the nodes that answered see it: the leader's view (the
 * node reporting is_leader) wins over a follower's; replicas lists every
 * node that reported hosting it. */
struct shard_view {
    bool seen;     /* some node answered for it */
    uint32_t node; /* node whose view this is */
    Talus__ShardStatus st;
    uint64_t voters[TL_MAX_NODES], standbys[TL_MAX_NODES];
    size_t n_voters, n_standbys;
    uint32_t replicas[TL_MAX_NODES];
    size_t n_replicas;
    bool restoring_any;
};

enum node_state { NODE_DOWN, NODE_UP, NODE_SLOW };

/* How one node answered a status request (collect_status). */
struct node_answer {
    enum node_state state;
    double ms;     /* from request to answer (or to giving up) */
    char why[128]; /* NODE_DOWN: "unavailable", "timeout", the error */
    /* Private to collect_status: */
    const struct tl_node_config *node;
    const Talus__Request *req;
    Talus__Response *resp;
};

static const char *const node_state_names[] = {"down", "up", "slow"};

static void
usage(FILE *f)
{
    fprintf(f, "usage: shardctl [--node HOST:PORT[,...] | --config FILE] "
               "[--json] COMMAND\n"
               "                [options]\n"
               "\n"
               "commands:\n"
               "  status                 every shard: node, leader, applied "
               "index, keys,\n"
               "                         requests served; exit 1 if a shard "
               "has no leader\n"
               "  nodes                  every node: addresses, up/down, "
               "shards hosted and led\n"
               "  shards                 every shard: hash range, replicas, "
               "leader, applied, keys\n"
               "  tables                 every table: id, kind, vindex, "
               "column, boundaries\n"
               "  route SQL              the shards SQL touches (EXPLAIN "
               "through a router)\n"
               "  vschema apply FILE     store the vschema (JSON) in the "
               "meta group\n"
               "  vschema show           the stored vschema next to the "
               "catalog\n"
               "  wait [--timeout S] [--router HOST:PORT]\n"
               "                         wait until every shard has a leader "
               "(and the\n"
               "                         router answers queries); exit 1 on "
               "timeout\n"
               "  replica add SHARD NODE make NODE host SHARD and add it as a "
               "voter\n"
               "                         (waits until it caught up)\n"
               "  replica remove SHARD NODE\n"
               "                         remove NODE from SHARD's group "
               "(moving leadership\n"
               "                         away first) and drop its copy\n"
               "  leader transfer SHARD|meta NODE\n"
               "                         make NODE lead SHARD; waits until it "
               "does\n"
               "  tso [N]                N timestamps (default 1) from the "
               "meta group's\n"
               "                         timestamp oracle\n"
               "  routers                every running router: id, "
               "incarnation, address,\n"
               "                         lease left\n"
               "  help                   this text\n"
               "\n"
               "--timeout S bounds wait and the replica/leader commands "
               "(default 30).\n"
               "--router HOST:PORT (or $TALUS_ROUTER) for wait and route; "
               "route defaults to\n"
               "the configuration's router.listen.\n"
               "`shardctl COMMAND --help` describes one command.\n"
               "\n"
               "shardctl asks one node for the cluster map: --node, else "
               "$TALUS_NODE, else\n"
               "127.0.0.1:7101; --config FILE (or $TALUS_CONFIG) reads a "
               "cluster file instead.\n");
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One node's status call, on its own thread so that every node's answer
 * time is its own (a slow node does not make the others look slow). */
static void *
status_call_main(void *arg)
{
    struct node_answer *a = arg;
    struct tl_rpc_client *cl;
    double start = now_s();
    int rv;

    a->resp = NULL;
    rv = tl_rpc_client_create(a->node->rpc_addr, &cl);
    if (rv == 0) {
        /* No connection in time (dead, frozen, unreachable): down, without
         * waiting for the whole hard deadline. */
        tl_rpc_client_set_connect_timeout(cl, STATUS_CONNECT_MS);
        rv = tl_rpc_call(cl, a->req, STATUS_HARD_MS, &a->resp);
        tl_rpc_client_destroy(cl);
    }
    a->ms = (now_s() - start) * 1000.0;
    if (rv != 0) {
        a->state = NODE_DOWN;
        snprintf(a->why, sizeof a->why, "%s", tl_strerror(rv));
    } else if (a->resp->error != NULL) {
        a->state = NODE_DOWN;
        snprintf(a->why, sizeof a->why, "%s", a->resp->error->message);
        talus__response__free_unpacked(a->resp, NULL);
        a->resp = NULL;
    } else {
        a->state = a->ms > STATUS_SOFT_MS ? NODE_SLOW : NODE_UP;
    }
    return NULL;
}

/* Ask every node for its shards' status, all at once; fills @views
 * (n_shards + 1 long: the meta group's view comes last, at index
 * n_shards), @node_up (answered, slow or not) and, when not NULL, @ans
 * (n_nodes long). @keys asks for key estimates. Returns the number of
 * nodes that answered. Takes at most STATUS_HARD_MS. */
static uint32_t
collect_status(const struct tl_cluster_config *cfg, bool keys,
               struct shard_view *views, bool *node_up, struct node_answer *ans)
{
    struct node_answer local[TL_MAX_NODES];
    pthread_t threads[TL_MAX_NODES];
    bool started[TL_MAX_NODES] = {0};
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__StatusRequest sr = TALUS__STATUS_REQUEST__INIT;
    uint32_t n_up = 0;

    if (ans == NULL)
        ans = local;
    memset(views, 0, sizeof(*views) * (cfg->n_shards + 1));
    memset(ans, 0, sizeof(*ans) * cfg->n_nodes);
    /* Estimates only: an exact count reads every key of every shard and
     * took longer than any deadline on big shards. */
    sr.has_estimate_keys = true;
    sr.estimate_keys = keys;
    req.request_id = tl_rpc_next_id();
    req.body_case = TALUS__REQUEST__BODY_STATUS;
    req.status = &sr;
    for (uint32_t i = 0; i < cfg->n_nodes; i++) {
        ans[i].node = &cfg->nodes[i];
        ans[i].req = &req;
        started[i] =
            pthread_create(&threads[i], NULL, status_call_main, &ans[i]) == 0;
        if (!started[i]) /* no thread: ask in line */
            status_call_main(&ans[i]);
    }
    for (uint32_t i = 0; i < cfg->n_nodes; i++) {
        if (started[i])
            pthread_join(threads[i], NULL);
        Talus__Response *resp = ans[i].resp;
        ans[i].resp = NULL;
        node_up[i] = resp != NULL;
        if (resp == NULL)
            continue;
        n_up++;
        for (size_t k = 0; k < resp->n_shards; k++) {
            const Talus__ShardStatus *s = resp->shards[k];
            if (s->shard >= cfg->n_shards && s->shard != TL_META_GROUP)
                continue;
            struct shard_view *v =
                &views[s->shard == TL_META_GROUP ? cfg->n_shards : s->shard];
            if (v->n_replicas < TL_MAX_NODES)
                v->replicas[v->n_replicas++] = cfg->nodes[i].id;
            v->restoring_any |= s->restoring;
            /* A leader's view wins over a follower's. */
            if (v->seen && v->st.is_leader)
                continue;
            v->seen = true;
            v->node = cfg->nodes[i].id;
            talus__shard_status__init(&v->st);
            v->st.shard = s->shard;
            v->st.is_leader = s->is_leader;
            v->st.leader_id = s->leader_id;
            v->st.applied_index = s->applied_index;
            v->st.n_scans = s->n_scans;
            v->st.n_writes = s->n_writes;
            v->st.has_n_keys = s->has_n_keys;
            v->st.n_keys = s->n_keys;
            v->st.keys_estimated = s->keys_estimated;
            v->st.term = s->term;
            v->st.commit_index = s->commit_index;
            v->st.last_index = s->last_index;
            v->n_voters =
                s->n_voters < TL_MAX_NODES ? s->n_voters : TL_MAX_NODES;
            if (v->n_voters > 0)
                memcpy(v->voters, s->voters, v->n_voters * sizeof *v->voters);
            v->n_standbys =
                s->n_standbys < TL_MAX_NODES ? s->n_standbys : TL_MAX_NODES;
            if (v->n_standbys > 0)
                memcpy(v->standbys, s->standbys,
                       v->n_standbys * sizeof *v->standbys);
        }
        talus__response__free_unpacked(resp, NULL);
    }
    return n_up;
}

/* The keys of @v for a table: "~1234" when estimated, "-" when unknown. */
static const char *
keys_text(const struct shard_view *v, char *buf, size_t len)
{
    if (!v->seen || !v->st.has_n_keys)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%s%llu", v->st.keys_estimated ? "~" : "",
                 (unsigned long long)v->st.n_keys);
    return buf;
}

/* "1,2,3" into @buf. */
static const char *
id_list(const uint64_t *ids, size_t n, char *buf, size_t len)
{
    uint64_t sorted[TL_MAX_NODES];
    size_t off = 0;
    buf[0] = '\0';
    if (n > TL_MAX_NODES)
        n = TL_MAX_NODES;
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        for (; j > 0 && sorted[j - 1] > ids[i]; j--)
            sorted[j] = sorted[j - 1];
        sorted[j] = ids[i];
    }
    for (size_t i = 0; i < n && off + 24 < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%llu", i ? "," : "",
                                (unsigned long long)sorted[i]);
    if (n == 0)
        snprintf(buf, len, "-");
    return buf;
}

/* The message every command gives when no node answers. */
static void
report_unreachable(const struct tl_cluster_config *cfg)
{
    fprintf(stderr,
            "shardctl: cannot reach the cluster: none of its %u nodes "
            "answered (first: %s); is it running?\n",
            cfg->n_nodes, cfg->n_nodes > 0 ? cfg->nodes[0].rpc_addr : "-");
}

static int
cmd_status(const struct tl_cluster_config *cfg, bool json)
{
    struct shard_view *views = calloc(cfg->n_shards + 1, sizeof(*views));
    struct node_answer *ans = calloc(cfg->n_nodes + 1, sizeof(*ans));
    bool node_up[TL_MAX_NODES];
    uint32_t n_bad = 0, n_slow = 0, n_estimated = 0;
    _Static_assert(STATUS_SOFT_MS == 1000, "the summary line says 1 s");
    char vbuf[256], sbuf[256], kbuf[32];

    if (views == NULL || ans == NULL) {
        free(views);
        free(ans);
        return 1;
    }
    uint32_t n_up = collect_status(cfg, true, views, node_up, ans);
    if (n_up == 0)
        report_unreachable(cfg);
    for (uint32_t i = 0; i < cfg->n_nodes; i++)
        n_slow += ans[i].state == NODE_SLOW;
    if (json) {
        printf("{\"nodes\":[");
        for (uint32_t i = 0; i < cfg->n_nodes; i++)
            printf("%s{\"id\":%u,\"rpc\":\"%s\",\"up\":%s,\"state\":\"%s\","
                   "\"ms\":%.0f}",
                   i ? "," : "", cfg->nodes[i].id, cfg->nodes[i].rpc_addr,
                   node_up[i] ? "true" : "false",
                   node_state_names[ans[i].state], ans[i].ms);
        printf("],\"shards\":[");
    } else {
        printf("%-6s %-8s %-6s %-12s %-8s %6s %10s %10s %10s %10s %10s\n",
               "SHARD", "STATE", "LEADER", "VOTERS", "STANDBY", "TERM",
               "COMMIT", "APPLIED", "KEYS", "SCANS", "WRITES");
    }
    /* Every shard, then the meta group (row "meta"; "meta" in JSON). */
    for (uint32_t s = 0; s <= cfg->n_shards; s++) {
        const struct shard_view *v = &views[s];
        bool meta = s == cfg->n_shards;
        char name[16];
        snprintf(name, sizeof name, meta ? "meta" : "%u", s);
        if (json && meta)
            printf("],\"meta\":{\"group\":%u,\"up\":%s,\"leader\":%s,"
                   "\"leader_node\":%u,\"voters\":[%s],\"term\":%llu,"
                   "\"applied_index\":%llu}",
                   TL_META_GROUP, v->seen ? "true" : "false",
                   v->seen && v->st.is_leader ? "true" : "false",
                   v->seen && v->st.is_leader ? v->node : 0,
                   v->n_voters
                       ? id_list(v->voters, v->n_voters, vbuf, sizeof vbuf)
                       : "",
                   (unsigned long long)v->st.term,
                   (unsigned long long)v->st.applied_index);
        if (json && meta) {
            if (!(v->seen && v->st.is_leader))
                n_bad++;
            continue;
        }
        /* Healthy: one of its replicas says it leads. */
        bool ok = v->seen && v->st.is_leader;
        uint32_t leader = ok ? v->node : 0;
        if (!ok)
            n_bad++;
        id_list(v->voters, v->n_voters, vbuf, sizeof vbuf);
        id_list(v->standbys, v->n_standbys, sbuf, sizeof sbuf);
        if (json) {
            printf("%s{\"shard\":%u,\"node\":%u,\"up\":%s,\"leader\":%s,"
                   "\"leader_node\":%u,\"voters\":[%s],\"standbys\":[%s],"
                   "\"term\":%llu,\"commit_index\":%llu,\"last_index\":%llu,"
                   "\"restoring\":%s,"
                   "\"applied_index\":%llu,\"keys\":%llu,"
                   "\"keys_estimated\":%s,\"scans\":%llu,"
                   "\"writes\":%llu}",
                   s ? "," : "", s,
                   leader ? leader : tl_cluster_shard_node(cfg, s),
                   v->seen ? "true" : "false", ok ? "true" : "false", leader,
                   v->n_voters ? vbuf : "", v->n_standbys ? sbuf : "",
                   (unsigned long long)v->st.term,
                   (unsigned long long)v->st.commit_index,
                   (unsigned long long)v->st.last_index,
                   v->restoring_any ? "true" : "false",
                   (unsigned long long)v->st.applied_index,
                   (unsigned long long)v->st.n_keys,
                   v->st.keys_estimated ? "true" : "false",
                   (unsigned long long)v->st.n_scans,
                   (unsigned long long)v->st.n_writes);
        } else if (!v->seen) {
            printf("%-6s %-8s %-6s %-12s %-8s %6s %10s %10s %10s %10s %10s\n",
                   name, "down", "-", "-", "-", "-", "-", "-", "-", "-", "-");
        } else {
            char lbuf[16];
            snprintf(lbuf, sizeof lbuf, "%u", leader);
            n_estimated += v->st.keys_estimated;
            printf(
                "%-6s %-8s %-6s %-12s %-8s %6llu %10llu %10llu %10s "
                "%10llu %10llu\n",
                name, ok ? (v->restoring_any ? "restore" : "ok") : "noleader",
                ok ? lbuf : "none", vbuf, sbuf, (unsigned long long)v->st.term,
                (unsigned long long)v->st.commit_index,
                (unsigned long long)v->st.applied_index,
                keys_text(v, kbuf, sizeof kbuf),
                (unsigned long long)v->st.n_scans,
                (unsigned long long)v->st.n_writes);
        }
    }
    if (json) {
        printf(",\"summary\":{\"nodes_up\":%u,\"nodes_slow\":%u,"
               "\"nodes_down\":%u,\"groups_without_quorum\":%u}}\n",
               n_up, n_slow, cfg->n_nodes - n_up, n_bad);
    } else {
        if (n_estimated > 0)
            printf("(~: RocksDB's estimate, not a count; see "
                   "docs/shardctl.md)\n");
        /* Every node with how it answered: slow is not down. */
        printf("\n%-4s %-22s %-5s %s\n", "NODE", "RPC", "STATE", "ANSWER");
        for (uint32_t i = 0; i < cfg->n_nodes; i++) {
            const struct node_answer *a = &ans[i];
            char what[192];
            if (a->state == NODE_DOWN)
                snprintf(what, sizeof what, "none after %.0f ms (%s)", a->ms,
                         a->why);
            else
                snprintf(what, sizeof what, "%.0f ms", a->ms);
            printf("%-4u %-22s %-5s %s\n", cfg->nodes[i].id,
                   cfg->nodes[i].rpc_addr, node_state_names[a->state], what);
        }
        /* "up" counts the slow ones: they answered. */
        printf("\nnodes: %u up, %u down", n_up, cfg->n_nodes - n_up);
        for (uint32_t i = 0, first = 1; i < cfg->n_nodes; i++)
            if (!node_up[i]) {
                printf("%s%u", first ? " (down: " : ",", cfg->nodes[i].id);
                first = 0;
            }
        printf("%s", n_up < cfg->n_nodes ? ")" : "");
        for (uint32_t i = 0, first = 1; i < cfg->n_nodes; i++)
            if (ans[i].state == NODE_SLOW) {
                printf("%s%u", first ? "; slow (answered after 1 s): " : ",",
                       cfg->nodes[i].id);
                first = 0;
            }
        printf("\n");
        printf("groups without quorum (no leader): %u of %u (shards and "
               "meta)\n",
               n_bad, cfg->n_shards + 1);
    }
    free(views);
    free(ans);
    return n_bad == 0 ? 0 : 1;
}

/* ------------------------------------------------------------ membership */

/* Send a MembershipRequest to node @to; 0, or the node's error code
 * (message in @msg, leader hint in *@hint), or TL_ETIMEOUT/UNAVAILABLE
 * when the node does not answer. */
static int
membership_call(const struct tl_cluster_config *cfg, uint32_t to, int op,
                uint32_t shard, uint32_t node, uint32_t timeout_ms,
                uint64_t *hint, char *msg, size_t msglen)
{
    const struct tl_node_config *nc = tl_cluster_node(cfg, to);
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__MembershipRequest mr = TALUS__MEMBERSHIP_REQUEST__INIT;
    struct tl_rpc_client *cl;
    Talus__Response *resp;
    int rv;

    *hint = 0;
    snprintf(msg, msglen, "node %u did not answer", to);
    if (nc == NULL || tl_rpc_client_create(nc->rpc_addr, &cl) != 0)
        return TL_EINVAL;
    mr.op = (Talus__MembershipRequest__Op)op;
    mr.shard = shard;
    mr.node_id = node;
    mr.has_timeout_ms = true;
    mr.timeout_ms = timeout_ms;
    req.request_id = tl_rpc_next_id();
    req.has_shard = true;
    req.shard = shard;
    req.body_case = TALUS__REQUEST__BODY_MEMBERSHIP;
    req.membership = &mr;
    rv = tl_rpc_call(cl, &req, (int)timeout_ms + 2000, &resp);
    tl_rpc_client_destroy(cl);
    if (rv != 0)
        return rv;
    if (resp->error != NULL) {
        rv = resp->error->has_code ? resp->error->code : TL_EIO;
        if (rv == 0)
            rv = TL_EIO;
        *hint = resp->leader_hint;
        snprintf(msg, msglen, "%s", resp->error->message);
    }
    talus__response__free_unpacked(resp, NULL);
    return rv;
}

/* The current leader of @shard (0 if none) and, from its view, whether
 * @node is a voter. */
static uint32_t
find_leader(const struct tl_cluster_config *cfg, uint32_t shard,
            struct shard_view *views, bool *node_up)
{
    uint32_t i = shard == TL_META_GROUP ? cfg->n_shards : shard;
    collect_status(cfg, false, views, node_up, NULL);
    return views[i].seen && views[i].st.is_leader ? views[i].node : 0;
}

struct tl_client *
shardctl_client(const struct tl_cluster_config *cfg)
{
    struct tl_client_opts opts = {.log_mod = "shardctl"};
    if (g_client_ready)
        return &g_client;
    g_client_cfg = *cfg;
    if (tl_client_init(&g_client, &g_client_cfg, &opts) != 0) {
        fprintf(stderr, "shardctl: bad node address in the configuration\n");
        return NULL;
    }
    if (g_map != NULL && g_map->cluster_map != NULL)
        tl_client_seed_leaders(&g_client, g_map->cluster_map);
    g_client_ready = true;
    return &g_client;
}

void
shardctl_client_close(void)
{
    if (g_client_ready)
        tl_client_close(&g_client);
    g_client_ready = false;
}

/* Run a leader operation through the cluster client, which follows leader
 * hints (from the leader the cluster map named, or the shard's preferred
 * one) and walks the replicas of a leaderless shard; an answer that the
 * shard is busy (any refusal but TL_EINVAL) is asked again after 200 ms,
 * until @deadline. The operation may be repeated: a node applies a
 * membership change that is already in place as a no-op or refuses it. */
static int
leader_call(const struct tl_cluster_config *cfg, int op, uint32_t shard,
            uint32_t node, double deadline, char *msg, size_t msglen)
{
    struct tl_client *c = shardctl_client(cfg);
    int rv = TL_EUNAVAILABLE;

    snprintf(msg, msglen, "shard %u has no leader", shard);
    while (c != NULL && now_s() < deadline) {
        Talus__Request req = TALUS__REQUEST__INIT;
        Talus__MembershipRequest mr = TALUS__MEMBERSHIP_REQUEST__INIT;
        Talus__Response *resp = NULL;
        struct tl_client_retry t;
        uint32_t left_ms = (uint32_t)((deadline - now_s()) * 1000) + 1;

        mr.op = (Talus__MembershipRequest__Op)op;
        mr.shard = shard;
        mr.node_id = node;
        mr.has_timeout_ms = true;
        mr.timeout_ms = left_ms;
        req.request_id = tl_rpc_next_id();
        req.has_shard = true;
        req.shard = shard;
        req.body_case = TALUS__REQUEST__BODY_MEMBERSHIP;
        req.membership = &mr;
        /* The node works until mr.timeout_ms: wait for it a little
         * longer. */
        tl_client_retry_init(c, &t, shard, TL_CLIENT_READ,
                             tl_client_now_ms() + left_ms + 2000);
        t.attempt_ms = (int)left_ms + 2000;
        rv = tl_client_call(c, &t, &req, &resp);
        if (rv != 0) {
            snprintf(msg, msglen, "%s",
                     t.why[0] != '\0' ? t.why : "no node answered");
        } else if (resp->error != NULL) {
            rv = resp->error->has_code && resp->error->code != 0
                     ? resp->error->code
                     : TL_EIO;
            snprintf(msg, msglen, "%s", resp->error->message);
        }
        if (resp != NULL)
            talus__response__free_unpacked(resp, NULL);
        if (rv == 0 || rv == TL_EINVAL)
            break;
        /* Busy, or no leader yet: ask again. */
        usleep(200 * 1000);
    }
    return rv;
}

/* Wait until @node leads @shard. */
static bool
wait_leader_is(const struct tl_cluster_config *cfg, uint32_t shard,
               uint32_t node, double deadline)
{
    struct shard_view *views = calloc(cfg->n_shards + 1, sizeof(*views));
    bool node_up[TL_MAX_NODES], ok = false;
    while (!ok && now_s() < deadline) {
        ok = find_leader(cfg, shard, views, node_up) == node;
        if (!ok)
            usleep(100 * 1000);
    }
    free(views);
    return ok;
}

static int
parse_id(const char *s, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int
cmd_replica(const struct tl_cluster_config *cfg, int argc, char **args,
            double timeout_s)
{
    double deadline = now_s() + timeout_s;
    uint32_t shard, node;
    uint64_t hint;
    char msg[512];
    int rv;

    if (argc != 3 || parse_id(args[1], cfg->n_shards - 1, &shard) != 0 ||
        parse_id(args[2], cfg->n_nodes, &node) != 0 || node == 0 ||
        (strcmp(args[0], "add") != 0 && strcmp(args[0], "remove") != 0)) {
        fprintf(stderr,
                "usage: shardctl replica add|remove SHARD NODE "
                "(shards 0..%u, nodes 1..%u)\n",
                cfg->n_shards - 1, cfg->n_nodes);
        return 2;
    }
    if (strcmp(args[0], "add") == 0) {
        rv = membership_call(cfg, node,
                             TALUS__MEMBERSHIP_REQUEST__OP__HOST_SHARD, shard,
                             node, 10000, &hint, msg, sizeof msg);
        if (rv != 0) {
            fprintf(stderr, "shardctl: node %u cannot host shard %u: %s\n",
                    node, shard, msg);
            return 1;
        }
        printf("node %u hosts an empty replica of shard %u\n", node, shard);
        rv = leader_call(cfg, TALUS__MEMBERSHIP_REQUEST__OP__ADD_REPLICA, shard,
                         node, deadline, msg, sizeof msg);
        if (rv != 0) {
            fprintf(stderr, "shardctl: adding node %u to shard %u failed: %s\n",
                    node, shard, msg);
            return 1;
        }
        printf("shard %u: node %u is a voter (caught up)\n", shard, node);
        return 0;
    }
    /* remove: move leadership away first if the node leads. */
    {
        struct shard_view *views = calloc(cfg->n_shards + 1, sizeof(*views));
        bool node_up[TL_MAX_NODES];
        uint32_t leader = find_leader(cfg, shard, views, node_up);
        uint32_t other = 0;
        for (size_t i = 0; i < views[shard].n_voters && other == 0; i++)
            if (views[shard].voters[i] != node)
                other = (uint32_t)views[shard].voters[i];
        free(views);
        if (leader == node) {
            if (other == 0) {
                fprintf(stderr,
                        "shardctl: node %u is the only voter of "
                        "shard %u\n",
                        node, shard);
                return 1;
            }
            rv =
                leader_call(cfg, TALUS__MEMBERSHIP_REQUEST__OP__TRANSFER_LEADER,
                            shard, other, deadline, msg, sizeof msg);
            if (rv != 0 || !wait_leader_is(cfg, shard, other, deadline)) {
                fprintf(stderr,
                        "shardctl: moving leadership of shard %u off node %u "
                        "failed: %s\n",
                        shard, node, rv ? msg : "timed out");
                return 1;
            }
            printf("shard %u: leadership moved to node %u\n", shard, other);
        }
    }
    rv = leader_call(cfg, TALUS__MEMBERSHIP_REQUEST__OP__REMOVE_REPLICA, shard,
                     node, deadline, msg, sizeof msg);
    if (rv != 0) {
        fprintf(stderr, "shardctl: removing node %u from shard %u failed: %s\n",
                node, shard, msg);
        return 1;
    }
    printf("shard %u: node %u removed from the raft group\n", shard, node);
    rv = membership_call(cfg, node, TALUS__MEMBERSHIP_REQUEST__OP__DROP_SHARD,
                         shard, node, 10000, &hint, msg, sizeof msg);
    if (rv != 0) {
        fprintf(stderr,
                "shardctl: warning: node %u did not drop its copy of shard "
                "%u (%s); run `shardctl replica remove %u %u` again when it "
                "is up\n",
                node, shard, msg, shard, node);
        return 1;
    }
    printf("node %u dropped its replica of shard %u\n", node, shard);
    return 0;
}

static int
cmd_leader(const struct tl_cluster_config *cfg, int argc, char **args,
           double timeout_s)
{
    double deadline = now_s() + timeout_s;
    uint32_t shard, node;
    char msg[512];
    int rv;

    /* The meta group by name or by its id, else a shard. */
    bool meta = argc == 3 && (strcmp(args[1], "meta") == 0 ||
                              (parse_id(args[1], TL_META_GROUP, &shard) == 0 &&
                               shard == TL_META_GROUP));
    if (argc != 3 || strcmp(args[0], "transfer") != 0 ||
        (!meta && parse_id(args[1], cfg->n_shards - 1, &shard) != 0) ||
        parse_id(args[2], cfg->n_nodes, &node) != 0 || node == 0) {
        fprintf(stderr, "usage: shardctl leader transfer SHARD|meta NODE\n");
        return 2;
    }
    if (meta)
        shard = TL_META_GROUP;
    rv = leader_call(cfg, TALUS__MEMBERSHIP_REQUEST__OP__TRANSFER_LEADER, shard,
                     node, deadline, msg, sizeof msg);
    if (rv != 0 || !wait_leader_is(cfg, shard, node, deadline)) {
        fprintf(stderr,
                "shardctl: transferring leadership of shard %u to node %u "
                "failed: %s\n",
                shard, node, rv ? msg : "timed out");
        return 1;
    }
    printf("shard %u: node %u is the leader\n", shard, node);
    return 0;
}

static bool
router_answers(const char *hostport)
{
    char host[TL_ADDR_MAX], conninfo[512];
    uint16_t port;
    bool ok = false;

    if (tl_addr_split(hostport, host, sizeof(host), &port) != 0)
        return false;
    snprintf(conninfo, sizeof(conninfo),
             "host=%s port=%u user=shardctl dbname=talus connect_timeout=2",
             host, port);
    PGconn *conn = PQconnectdb(conninfo);
    if (PQstatus(conn) == CONNECTION_OK) {
        PGresult *res = PQexec(conn, "SELECT 1");
        ok = PQresultStatus(res) == PGRES_TUPLES_OK;
        PQclear(res);
    }
    PQfinish(conn);
    return ok;
}

static void merge_registry(struct tl_cluster_config *cfg);

/* With @merge (a cluster file), the registry's nodes are merged in while
 * waiting: a node beyond the file may lead a shard. */
static int
cmd_wait(struct tl_cluster_config *cfg, double timeout_s, const char *router,
         bool merge)
{
    double next_merge = 0;
    struct shard_view *views = calloc(cfg->n_shards + 1, sizeof(*views));
    bool node_up[TL_MAX_NODES];
    double deadline = now_s() + timeout_s;
    int rv = 1;

    if (views == NULL)
        return 1;
    for (;;) {
        uint32_t ready = 0;
        if (merge && g_map == NULL && now_s() >= next_merge) {
            merge_registry(cfg);
            next_merge = now_s() + 1;
        }
        collect_status(cfg, false, views, node_up, NULL);
        /* The shards and the meta group (the catalog). */
        for (uint32_t s = 0; s <= cfg->n_shards; s++)
            ready += views[s].seen && views[s].st.is_leader;
        if (ready == cfg->n_shards + 1 &&
            (router == NULL || router_answers(router))) {
            rv = 0;
            break;
        }
        if (now_s() >= deadline) {
            fprintf(stderr,
                    "shardctl: not ready after %.0f s: %u of %u groups "
                    "(shards and meta) have a leader%s\n",
                    timeout_s, ready, cfg->n_shards + 1,
                    ready == cfg->n_shards + 1 ? ", router not answering" : "");
            break;
        }
        /* Poll interval while processes start. */
        usleep(100 * 1000);
    }
    free(views);
    return rv;
}

/* ----------------------------------------------------- nodes and shards */

static int
cmd_nodes(const struct tl_cluster_config *cfg, bool json)
{
    struct shard_view *views = calloc(cfg->n_shards + 1, sizeof(*views));
    struct node_answer *ans = calloc(cfg->n_nodes + 1, sizeof(*ans));
    bool node_up[TL_MAX_NODES];
    if (views == NULL || ans == NULL) {
        free(views);
        free(ans);
        return 1;
    }
    uint32_t n_up = collect_status(cfg, false, views, node_up, ans);
    if (n_up == 0)
        report_unreachable(cfg);
    if (json)
        printf("{\"nodes\":[");
    else
        printf("%-4s %-22s %-22s %-5s %-4s %-20s %s\n", "NODE", "RPC", "RAFT",
               "STATE", "REG", "HOSTS", "LEADS");
    for (uint32_t i = 0; i < cfg->n_nodes; i++) {
        uint32_t id = cfg->nodes[i].id;
        bool reg = g_map != NULL &&
                   tl_cluster_map_node(g_map->cluster_map, id) != NULL;
        char hosts[512] = "", leads[512] = "";
        size_t ho = 0, lo = 0;
        /* Shards, then the meta group ("meta"). */
        for (uint32_t s = 0; s <= cfg->n_shards; s++) {
            const struct shard_view *v = &views[s];
            bool meta = s == cfg->n_shards;
            char name[16];
            snprintf(name, sizeof name, json ? "%u" : "%u", s);
            if (meta)
                snprintf(name, sizeof name, json ? "\"meta\"" : "meta");
            for (size_t k = 0; k < v->n_replicas; k++)
                if (v->replicas[k] == id && ho + 20 < sizeof hosts)
                    ho += (size_t)snprintf(hosts + ho, sizeof hosts - ho,
                                           "%s%s", ho ? "," : "", name);
            if (v->seen && v->st.is_leader && v->node == id &&
                lo + 20 < sizeof leads)
                lo += (size_t)snprintf(leads + lo, sizeof leads - lo, "%s%s",
                                       lo ? "," : "", name);
        }
        if (json)
            printf("%s{\"id\":%u,\"rpc\":\"%s\",\"raft\":\"%s\",\"up\":%s,"
                   "\"state\":\"%s\",\"ms\":%.0f,"
                   "\"registered\":%s,\"hosts\":[%s],\"leads\":[%s]}",
                   i ? "," : "", id, cfg->nodes[i].rpc_addr,
                   cfg->nodes[i].raft_addr, node_up[i] ? "true" : "false",
                   node_state_names[ans[i].state], ans[i].ms,
                   reg ? "true" : "false", hosts, leads);
        else
            printf("%-4u %-22s %-22s %-5s %-4s %-20s %s\n", id,
                   cfg->nodes[i].rpc_addr, cfg->nodes[i].raft_addr,
                   node_state_names[ans[i].state],
                   g_map == NULL ? "?" : (reg ? "yes" : "no"), ho ? hosts : "-",
                   lo ? leads : "-");
    }
    if (json)
        printf("],\"up\":%u,\"down\":%u}\n", n_up, cfg->n_nodes - n_up);
    else
        printf("\n%u of %u nodes up%s\n", n_up, cfg->n_nodes,
               g_map == NULL ? " (registry not readable: REG unknown)" : "");
    free(views);
    free(ans);
    return n_up == 0 ? 1 : 0;
}

/* First hash of the range shard @s of @n owns under tl_vindex_hash_shard
 * (floor(hash * n / 2^64) == s), as 17 hex digits at most: the end of
 * the last shard is 2^64. */
static void
hash_start(uint32_t s, uint32_t n, char *buf, size_t len)
{
    unsigned __int128 x =
        (((unsigned __int128)s << 64) + (unsigned __int128)(n - 1)) / n;
    if (x >> 64)
        snprintf(buf, len, "10000000000000000");
    else
        snprintf(buf, len, "%016llx", (unsigned long long)x);
}

static int
cmd_shards(const struct tl_cluster_config *cfg, bool json)
{
    struct shard_view *views = calloc(cfg->n_shards + 1, sizeof(*views));
    bool node_up[TL_MAX_NODES];
    char vbuf[256], kbuf[32];
    if (views == NULL)
        return 1;
    uint32_t n_up = collect_status(cfg, true, views, node_up, NULL);
    if (n_up == 0)
        report_unreachable(cfg);
    if (json)
        printf("{\"shards\":[");
    else
        printf("%-5s %-37s %-10s %-6s %-10s %-6s %10s %10s\n", "SHARD",
               "HASH RANGE [start, end)", "REPLICAS", "LEADER", "REG-REPL",
               "REG-LD", "APPLIED", "KEYS");
    for (uint32_t s = 0; s < cfg->n_shards; s++) {
        const struct shard_view *v = &views[s];
        char start[24], end[24], lbuf[16];
        uint64_t reps[TL_MAX_NODES];
        for (size_t k = 0; k < v->n_replicas; k++)
            reps[k] = v->replicas[k];
        id_list(reps, v->n_replicas, vbuf, sizeof vbuf);
        hash_start(s, cfg->n_shards, start, sizeof start);
        hash_start(s + 1, cfg->n_shards, end, sizeof end);
        bool ok = v->seen && v->st.is_leader;
        snprintf(lbuf, sizeof lbuf, "%u", v->node);
        /* The registry's record (meta group) next to the live view. */
        const Talus__ShardRecord *rec =
            g_map != NULL ? tl_cluster_map_shard(g_map->cluster_map, s) : NULL;
        char rbuf[256] = "-", rlbuf[16] = "-";
        if (rec != NULL) {
            uint64_t rr[TL_MAX_NODES];
            size_t nr =
                rec->n_replicas < TL_MAX_NODES ? rec->n_replicas : TL_MAX_NODES;
            for (size_t k = 0; k < nr; k++)
                rr[k] = rec->replicas[k];
            id_list(rr, nr, rbuf, sizeof rbuf);
            if (rec->has_leader && rec->leader != 0)
                snprintf(rlbuf, sizeof rlbuf, "%u", rec->leader);
        }
        if (json)
            printf("%s{\"shard\":%u,\"hash_start\":\"%s\",\"hash_end\":\"%s\","
                   "\"replicas\":[%s],\"leader\":%u,\"applied_index\":%llu,"
                   "\"keys\":%llu,\"keys_estimated\":%s,"
                   "\"registry\":{\"replicas\":[%s],"
                   "\"leader\":%u}}",
                   s ? "," : "", s, start, end, v->n_replicas ? vbuf : "",
                   ok ? v->node : 0, (unsigned long long)v->st.applied_index,
                   (unsigned long long)v->st.n_keys,
                   v->st.keys_estimated ? "true" : "false",
                   rec != NULL && rec->n_replicas ? rbuf : "",
                   rec != NULL && rec->has_leader ? rec->leader : 0);
        else
            printf("%-5u [%s, %s) %-10s %-6s %-10s %-6s %10llu %10s\n", s,
                   start, end, vbuf, ok ? lbuf : "none", rbuf, rlbuf,
                   (unsigned long long)v->st.applied_index,
                   keys_text(v, kbuf, sizeof kbuf));
    }
    if (json)
        printf("]}\n");
    else
        printf("\nhash ranges are the hash vindex's (consistent_hash and "
               "range tables map\nkeys differently: see `shardctl "
               "tables`); ~ marks RocksDB's key estimate (not a count);\n"
               "REG-REPL and REG-LD are "
               "the registry's record (meta group), the others live status\n");
    free(views);
    return n_up == 0 ? 1 : 0;
}

/* ----------------------------------------------------------------- route */

/* Append the shard numbers of an EXPLAIN "Shards: 1, 2" line to @set. */
static void
parse_shards_line(const char *line, bool *set, uint32_t n_shards)
{
    const char *p = strstr(line, "Shards: ");
    if (p == NULL)
        return;
    p += strlen("Shards: ");
    while (*p >= '0' && *p <= '9') {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (v < n_shards)
            set[v] = true;
        p = end;
        while (*p == ',' || *p == ' ')
            p++;
    }
}

static int
cmd_route(const struct tl_cluster_config *cfg, const char *router,
          const char *sql, bool json)
{
    char host[TL_ADDR_MAX], conninfo[512];
    uint16_t port;
    bool *set = calloc(cfg->n_shards + 1, sizeof(*set));
    int rv = 1;

    if (set == NULL)
        return 1;
    if (tl_addr_split(router, host, sizeof(host), &port) != 0) {
        fprintf(stderr, "shardctl: bad router address %s\n", router);
        free(set);
        return 2;
    }
    snprintf(conninfo, sizeof(conninfo),
             "host=%s port=%u user=shardctl dbname=talus connect_timeout=3",
             host, port);
    PGconn *conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "shardctl: cannot reach the router at %s: %s", router,
                PQerrorMessage(conn));
        PQfinish(conn);
        free(set);
        return 1;
    }
    size_t len = strlen(sql) + 16;
    char *q = malloc(len);
    snprintf(q, len, "EXPLAIN %s", sql);
    PGresult *res = PQexec(conn, q);
    free(q);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "shardctl: %s", PQresultErrorMessage(res));
    } else {
        int n = PQntuples(res);
        if (json)
            printf("{\"lines\":[");
        for (int i = 0; i < n; i++) {
            const char *line = PQgetvalue(res, i, 0);
            parse_shards_line(line, set, cfg->n_shards);
            if (!json) {
                printf("%s\n", line);
                continue;
            }
            printf("%s\"", i ? "," : "");
            for (const char *p = line; *p; p++) {
                if (*p == '"' || *p == '\\')
                    printf("\\%c", *p);
                else if ((unsigned char)*p < 0x20)
                    printf("\\u%04x", *p);
                else
                    putchar(*p);
            }
            putchar('"');
        }
        if (json) {
            printf("],\"shards\":[");
            for (uint32_t s = 0, first = 1; s < cfg->n_shards; s++)
                if (set[s]) {
                    printf("%s%u", first ? "" : ",", s);
                    first = 0;
                }
            printf("]}\n");
        }
        rv = 0;
    }
    PQclear(res);
    PQfinish(conn);
    free(set);
    return rv;
}

/* ------------------------------------------------------------------ help */

static const struct {
    const char *name;
    const char *text;
} command_help[] = {
    {"status", "usage: shardctl status [--json]\n"
               "Every shard and the meta group: state, leader, voters, "
               "standbys, term,\ncommit and applied index, keys (~: an "
               "estimate), scans, writes; then\nevery node: up (answered "
               "within 1 s), slow (within 5 s) or down (no\nconnection "
               "after 2 s or no answer after 5 s), with the time it took;\n"
               "the groups without quorum. Exit 1 if a group has no "
               "leader.\n"},
    {"nodes", "usage: shardctl nodes [--json]\n"
              "Every node: id, RPC and raft address, up/slow/down, the "
              "shards it hosts\nand the shards it leads. Exit 1 if no node "
              "answers.\n"},
    {"shards", "usage: shardctl shards [--json]\n"
               "Every shard: the hash range [start, end) it owns for hash "
               "tables,\nreplicas, leader, applied index, number of keys "
               "(~: an estimate).\n"},
    {"tables", "usage: shardctl tables [--json]\n"
               "Every table of the catalog (meta group): name, id, kind, "
               "vindex and\ncolumn, range boundaries, number of columns.\n"},
    {"route", "usage: shardctl route [--router HOST:PORT] [--json] \"SQL\"\n"
              "The shards SQL touches and why: EXPLAIN SQL through a router "
              "(default:\n$TALUS_ROUTER, else the configuration's "
              "router.listen).\n"},
    {"vschema", "usage: shardctl vschema apply FILE.json\n"
                "       shardctl vschema show [--json]\n"
                "apply stores FILE as the whole vschema (one conditional "
                "batch that bumps\nthe map version); tables created later "
                "without PARTITION BY or WITH\ntake their entry. show prints "
                "the entries next to the catalog.\nSee docs/sharding.md for "
                "the format.\n"},
    {"wait", "usage: shardctl wait [--timeout S] [--router HOST:PORT]\n"
             "Wait until every shard and the meta group have a leader (and "
             "the router\nanswers). Exit 1 on timeout.\n"},
    {"replica", "usage: shardctl replica add|remove SHARD NODE [--timeout "
                "S]\n"
                "add: NODE hosts an empty replica of SHARD, then joins as a "
                "voter once\ncaught up. remove: move leadership off NODE, "
                "remove it, drop its copy.\n"},
    {"leader", "usage: shardctl leader transfer SHARD|meta NODE [--timeout "
               "S]\n"
               "Make NODE lead SHARD (or the meta group); waits until it "
               "does.\n"},
    {"tso", "usage: shardctl tso [N] [--json]\n"
            "N consecutive timestamps (1..65536, default 1) from the "
            "timestamp oracle\non the meta group's leader, one per line: "
            "physical milliseconds since\nthe epoch << 18 | a logical "
            "counter, each greater than every timestamp\nthe cluster "
            "issued before. --json prints the first, the count and the\n"
            "physical time.\n"},
    {"routers", "usage: shardctl routers [--json]\n"
                "The routers registered in the meta group: id (--router-id), "
                "incarnation\n(a timestamp taken when it started, greater "
                "after every restart), the\naddress clients use, and the "
                "lease left (renewed every second, 5 s\nlong). A router that "
                "stops cleanly removes its record; one that died\nshows an "
                "expired lease until it restarts with the same id.\n"},
};

/* Print the help of @cmd; false if there is no such command. */
static bool
print_command_help(const char *cmd)
{
    for (size_t i = 0; i < sizeof command_help / sizeof command_help[0]; i++)
        if (strcmp(command_help[i].name, cmd) == 0) {
            fputs(command_help[i].text, stdout);
            return true;
        }
    return false;
}

/* Ask the nodes at @addrs for the cluster map, until @deadline (now_s
 * clock; 0: once); on success g_map holds it. */
static int
fetch_map(const char *addrs, int timeout_ms, double deadline, char *err,
          size_t errlen)
{
    for (;;) {
        int rv = tl_cluster_map_fetch(addrs, timeout_ms, &g_map, NULL, 0, err,
                                      errlen);
        if (rv == 0 || rv == TL_EINVAL || now_s() >= deadline)
            return rv;
        usleep(200 * 1000);
    }
}

/* The configuration from the cluster map of @addrs. */
static int
config_from_node(const char *addrs, double deadline,
                 struct tl_cluster_config *cfg)
{
    char err[512];
    int rv = fetch_map(addrs, MAP_TIMEOUT_MS, deadline, err, sizeof err);
    if (rv == 0)
        rv = tl_cluster_map_to_config(g_map->cluster_map, cfg, err, sizeof err);
    if (rv != 0)
        fprintf(stderr,
                "shardctl: cannot reach the cluster at %s: %s; is it "
                "running? (set --node or TALUS_NODE)\n",
                addrs, err);
    return rv;
}

/* With a file: also read the registry (best effort) and add the nodes it
 * knows beyond the file (a node that joined). */
static void
merge_registry(struct tl_cluster_config *cfg)
{
    char addrs[1024] = "", err[512];
    size_t off = 0;
    for (uint32_t i = 0;
         i < cfg->n_nodes && off + TL_ADDR_MAX + 2 < sizeof addrs; i++)
        off += (size_t)snprintf(addrs + off, sizeof addrs - off, "%s%s",
                                off ? "," : "", cfg->nodes[i].rpc_addr);
    /* Best effort, and quick: the file already names the nodes. */
    if (off == 0 || fetch_map(addrs, 800, 0, err, sizeof err) != 0)
        return;
    tl_cluster_map_add_nodes(g_map->cluster_map, cfg);
}

int
main(int argc, char **argv)
{
    const char *config = NULL, *node = NULL;
    bool merge_in_wait = false;
    const char *router = getenv("TALUS_ROUTER");
    bool want_help = false;
    double timeout_s = 30;
    bool json = false;
    const char *cmd = NULL;
    char *args[8];
    int n_args = 0;
    struct tl_cluster_config cfg;
    char err[512];
    int i;

    tl_crash_install("shardctl");
    /* shardctl speaks to its user in messages of its own; the event lines
     * of the cluster client show with TALUS_LOG_LEVEL=info. */
    if (getenv("TALUS_LOG_LEVEL") == NULL)
        tl_log_set_level(TL_LOG_WARN);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config = argv[++i];
        } else if (strcmp(argv[i], "--node") == 0 && i + 1 < argc) {
            node = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            timeout_s = atof(argv[++i]);
        } else if (strcmp(argv[i], "--router") == 0 && i + 1 < argc) {
            router = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0 ||
                   (cmd == NULL && strcmp(argv[i], "help") == 0)) {
            want_help = true;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "shardctl: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (cmd == NULL) {
            cmd = argv[i];
        } else if (n_args < 8) {
            args[n_args++] = argv[i];
        } else {
            fprintf(stderr, "shardctl: unexpected argument %s\n", argv[i]);
            return 2;
        }
    }
    if (want_help) {
        if (cmd == NULL || !print_command_help(cmd))
            usage(stdout);
        return 0;
    }
    if (cmd == NULL) {
        usage(stderr);
        return 2;
    }
    /* Flags first, then the environment ($TALUS_NODE before
     * $TALUS_CONFIG), then make up's node 1. */
    if (config == NULL && node == NULL) {
        node = getenv("TALUS_NODE");
        if (node != NULL && node[0] == '\0')
            node = NULL;
        if (node == NULL)
            config = getenv("TALUS_CONFIG");
        if (config != NULL && config[0] == '\0')
            config = NULL;
        if (node == NULL && config == NULL)
            node = DEFAULT_NODE;
    }
    tl_cluster_config_defaults(&cfg);
    if (config != NULL) {
        if (tl_cluster_config_load(config, &cfg, err, sizeof(err)) != 0) {
            fprintf(stderr, "shardctl: cannot read cluster configuration: %s\n",
                    err);
            return 1;
        }
        /* wait merges inside its loop: the cluster may be starting. */
        if (strcmp(cmd, "wait") != 0)
            merge_registry(&cfg);
        else
            merge_in_wait = true;
    } else {
        /* wait tolerates a cluster that is still starting. */
        double deadline = strcmp(cmd, "wait") == 0 ? now_s() + timeout_s : 0;
        if (config_from_node(node, deadline, &cfg) != 0) {
            if (g_map != NULL)
                talus__response__free_unpacked(g_map, NULL);
            nng_fini();
            return 1;
        }
    }
    bool no_args = strcmp(cmd, "status") == 0 || strcmp(cmd, "wait") == 0 ||
                   strcmp(cmd, "nodes") == 0 || strcmp(cmd, "shards") == 0 ||
                   strcmp(cmd, "tables") == 0 || strcmp(cmd, "routers") == 0;
    if (no_args && n_args > 0) {
        fprintf(stderr, "shardctl: unexpected argument %s\n", args[0]);
        return 2;
    }
    int rv = 2;
    if (strcmp(cmd, "status") == 0)
        rv = cmd_status(&cfg, json);
    else if (strcmp(cmd, "wait") == 0)
        rv = cmd_wait(&cfg, timeout_s, router, merge_in_wait);
    else if (strcmp(cmd, "replica") == 0)
        rv = cmd_replica(&cfg, n_args, args, timeout_s);
    else if (strcmp(cmd, "leader") == 0)
        rv = cmd_leader(&cfg, n_args, args, timeout_s);
    else if (strcmp(cmd, "nodes") == 0)
        rv = cmd_nodes(&cfg, json);
    else if (strcmp(cmd, "shards") == 0)
        rv = cmd_shards(&cfg, json);
    else if (strcmp(cmd, "tables") == 0)
        rv = shardctl_tables(&cfg, json);
    else if (strcmp(cmd, "vschema") == 0)
        rv = shardctl_vschema(&cfg, n_args, args, json);
    else if (strcmp(cmd, "tso") == 0)
        rv = shardctl_tso(&cfg, n_args, args, json);
    else if (strcmp(cmd, "routers") == 0)
        rv = shardctl_routers(&cfg, json);
    else if (strcmp(cmd, "route") == 0 && n_args == 1)
        rv = cmd_route(&cfg, router != NULL ? router : cfg.router_listen,
                       args[0], json);
    else if (strcmp(cmd, "route") == 0)
        fprintf(stderr, "usage: shardctl route [--router HOST:PORT] \"SQL\"\n");
    else {
        fprintf(stderr, "shardctl: unknown command %s\n", cmd);
        usage(stderr);
    }
    shardctl_client_close();
    if (g_map != NULL)
        talus__response__free_unpacked(g_map, NULL);
    /* Closed sockets are reaped by nng's threads in the background; wait
     * for them so a leak checker does not see half-freed dialers at exit. */
    nng_fini();
    return rv;
}
