/* shardctl — the operator's command line for a Talus cluster.
 *
 * It reads the cluster configuration (--config, $TALUS_CONFIG, or
 * data/cluster.conf) and talks to the storage nodes over their RPC port
 * and to a router over the PostgreSQL protocol. Human-readable tables by
 * default, --json for scripts; exit status 0 on success, 1 when the
 * cluster is unhealthy or unreachable, 2 for bad usage. */
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster_config.h"
#include "rpc.h"
#include "tl_error.h"

#define STATUS_TIMEOUT_MS 2000

struct shard_view {
    bool seen; /* the hosting node answered for it */
    uint32_t node;
    Talus__ShardStatus st;
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: shardctl [--config FILE] [--json] COMMAND [options]\n"
               "\n"
               "commands:\n"
               "  status                 every shard: node, leader, applied "
               "index, keys,\n"
               "                         requests served; exit 1 if a shard "
               "has no leader\n"
               "  wait [--timeout S] [--router HOST:PORT]\n"
               "                         wait until every shard has a leader "
               "(and the\n"
               "                         router answers queries); exit 1 on "
               "timeout\n"
               "  help                   this text\n"
               "\n"
               "The configuration defaults to $TALUS_CONFIG, else "
               "data/cluster.conf.\n");
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Ask every node for its shards' status; fills @views (n_shards long).
 * Returns the number of nodes that answered. */
static uint32_t
collect_status(const struct tl_cluster_config *cfg, bool count_keys,
               struct shard_view *views, bool *node_up)
{
    struct tl_rpc_client *clients[TL_MAX_NODES] = {0};
    struct tl_rpc_call *calls[TL_MAX_NODES] = {0};
    uint32_t n_up = 0;

    memset(views, 0, sizeof(*views) * cfg->n_shards);
    for (uint32_t i = 0; i < cfg->n_nodes; i++) {
        Talus__Request req = TALUS__REQUEST__INIT;
        Talus__StatusRequest sr = TALUS__STATUS_REQUEST__INIT;
        node_up[i] = false;
        sr.has_count_keys = true;
        sr.count_keys = count_keys;
        req.request_id = tl_rpc_next_id();
        req.body_case = TALUS__REQUEST__BODY_STATUS;
        req.status = &sr;
        if (tl_rpc_client_create(cfg->nodes[i].rpc_addr, &clients[i]) != 0)
            continue;
        if (tl_rpc_call_start(clients[i], &req, STATUS_TIMEOUT_MS, &calls[i]) !=
            0)
            calls[i] = NULL;
    }
    for (uint32_t i = 0; i < cfg->n_nodes; i++) {
        Talus__Response *resp = NULL;
        if (calls[i] == NULL || tl_rpc_call_wait(calls[i], &resp) != 0 ||
            resp->error != NULL) {
            if (resp != NULL)
                talus__response__free_unpacked(resp, NULL);
            tl_rpc_client_destroy(clients[i]);
            continue;
        }
        node_up[i] = true;
        n_up++;
        for (size_t k = 0; k < resp->n_shards; k++) {
            const Talus__ShardStatus *s = resp->shards[k];
            if (s->shard >= cfg->n_shards)
                continue;
            struct shard_view *v = &views[s->shard];
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
            v->st.n_keys = s->n_keys;
        }
        talus__response__free_unpacked(resp, NULL);
        tl_rpc_client_destroy(clients[i]);
    }
    return n_up;
}

static int
cmd_status(const struct tl_cluster_config *cfg, bool json)
{
    struct shard_view *views = calloc(cfg->n_shards, sizeof(*views));
    bool node_up[TL_MAX_NODES];
    uint32_t n_bad = 0;

    if (views == NULL)
        return 1;
    collect_status(cfg, true, views, node_up);
    if (json) {
        printf("{\"nodes\":[");
        for (uint32_t i = 0; i < cfg->n_nodes; i++)
            printf("%s{\"id\":%u,\"rpc\":\"%s\",\"up\":%s}", i ? "," : "",
                   cfg->nodes[i].id, cfg->nodes[i].rpc_addr,
                   node_up[i] ? "true" : "false");
        printf("],\"shards\":[");
    } else {
        printf("%-6s %-5s %-8s %-8s %10s %10s %10s %10s\n", "SHARD", "NODE",
               "STATE", "LEADER", "APPLIED", "KEYS", "SCANS", "WRITES");
    }
    for (uint32_t s = 0; s < cfg->n_shards; s++) {
        const struct shard_view *v = &views[s];
        uint32_t node = tl_cluster_shard_node(cfg, s);
        bool ok = v->seen && v->st.is_leader;
        if (!ok)
            n_bad++;
        if (json) {
            printf("%s{\"shard\":%u,\"node\":%u,\"up\":%s,\"leader\":%s,"
                   "\"applied_index\":%llu,\"keys\":%llu,\"scans\":%llu,"
                   "\"writes\":%llu}",
                   s ? "," : "", s, node, v->seen ? "true" : "false",
                   ok ? "true" : "false",
                   (unsigned long long)v->st.applied_index,
                   (unsigned long long)v->st.n_keys,
                   (unsigned long long)v->st.n_scans,
                   (unsigned long long)v->st.n_writes);
        } else if (!v->seen) {
            printf("%-6u %-5u %-8s %-8s %10s %10s %10s %10s\n", s, node, "down",
                   "-", "-", "-", "-", "-");
        } else {
            printf("%-6u %-5u %-8s %-8s %10llu %10llu %10llu %10llu\n", s,
                   v->node, ok ? "ok" : "noquorum",
                   v->st.leader_id ? "" : "none",
                   (unsigned long long)v->st.applied_index,
                   (unsigned long long)v->st.n_keys,
                   (unsigned long long)v->st.n_scans,
                   (unsigned long long)v->st.n_writes);
        }
    }
    if (json)
        printf("]}\n");
    else if (n_bad > 0)
        printf("\n%u of %u shards have no leader\n", n_bad, cfg->n_shards);
    free(views);
    return n_bad == 0 ? 0 : 1;
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

static int
cmd_wait(const struct tl_cluster_config *cfg, double timeout_s,
         const char *router)
{
    struct shard_view *views = calloc(cfg->n_shards, sizeof(*views));
    bool node_up[TL_MAX_NODES];
    double deadline = now_s() + timeout_s;
    int rv = 1;

    if (views == NULL)
        return 1;
    for (;;) {
        uint32_t ready = 0;
        collect_status(cfg, false, views, node_up);
        for (uint32_t s = 0; s < cfg->n_shards; s++)
            ready += views[s].seen && views[s].st.is_leader;
        if (ready == cfg->n_shards &&
            (router == NULL || router_answers(router))) {
            rv = 0;
            break;
        }
        if (now_s() >= deadline) {
            fprintf(stderr,
                    "shardctl: not ready after %.0f s: %u of %u shards have "
                    "a leader%s\n",
                    timeout_s, ready, cfg->n_shards,
                    ready == cfg->n_shards ? ", router not answering" : "");
            break;
        }
        /* Poll interval while processes start. */
        usleep(100 * 1000);
    }
    free(views);
    return rv;
}

int
main(int argc, char **argv)
{
    const char *config = getenv("TALUS_CONFIG");
    const char *router = NULL;
    double timeout_s = 30;
    bool json = false;
    const char *cmd = NULL;
    struct tl_cluster_config cfg;
    char err[512];
    int i;

    if (config == NULL)
        config = "data/cluster.conf";
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            timeout_s = atof(argv[++i]);
        } else if (strcmp(argv[i], "--router") == 0 && i + 1 < argc) {
            router = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "help") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "shardctl: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (cmd == NULL) {
            cmd = argv[i];
        } else {
            fprintf(stderr, "shardctl: unexpected argument %s\n", argv[i]);
            return 2;
        }
    }
    if (cmd == NULL) {
        usage(stderr);
        return 2;
    }
    tl_cluster_config_defaults(&cfg);
    if (tl_cluster_config_load(config, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "shardctl: cannot read cluster configuration: %s\n",
                err);
        return 1;
    }
    if (strcmp(cmd, "status") == 0)
        return cmd_status(&cfg, json);
    if (strcmp(cmd, "wait") == 0)
        return cmd_wait(&cfg, timeout_s, router);
    fprintf(stderr, "shardctl: unknown command %s\n", cmd);
    usage(stderr);
    return 2;
}
