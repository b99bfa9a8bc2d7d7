#include "cluster_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc.h"
#include "tl_error.h"

void
tl_cluster_map_hash_range(uint32_t s, uint32_t n, uint64_t *lo, uint64_t *hi)
{
    /* The first hash h with floor(h * n / 2^64) >= s is ceil(s * 2^64 /
     * n); the last shard ends at 2^64 - 1. */
    unsigned __int128 a = (((unsigned __int128)s << 64) + n - 1) / n;
    unsigned __int128 b = (((unsigned __int128)(s + 1) << 64) + n - 1) / n;
    *lo = (uint64_t)a;
    *hi = (uint64_t)(b - 1);
}

const Talus__NodeRecord *
tl_cluster_map_node(const Talus__ClusterMap *m, uint32_t id)
{
    for (size_t i = 0; i < m->n_nodes; i++)
        if (m->nodes[i]->id == id)
            return m->nodes[i];
    return NULL;
}

const Talus__ShardRecord *
tl_cluster_map_shard(const Talus__ClusterMap *m, uint32_t shard)
{
    for (size_t i = 0; i < m->n_shards; i++)
        if (m->shards[i]->shard == shard)
            return m->shards[i];
    return NULL;
}

uint32_t
tl_cluster_map_add_nodes(const Talus__ClusterMap *m,
                         struct tl_cluster_config *c)
{
    uint32_t added = 0;
    for (size_t i = 0; i < m->n_nodes; i++) {
        const Talus__NodeRecord *r = m->nodes[i];
        if (r->id < 1 || r->id > TL_MAX_NODES ||
            strlen(r->rpc_addr) >= TL_ADDR_MAX ||
            strlen(r->raft_addr) >= TL_ADDR_MAX)
            continue;
        struct tl_node_config *n = &c->nodes[r->id - 1];
        if (r->id <= c->n_nodes && n->rpc_addr[0] != '\0')
            continue;
        snprintf(n->rpc_addr, sizeof n->rpc_addr, "%s", r->rpc_addr);
        snprintf(n->raft_addr, sizeof n->raft_addr, "%s", r->raft_addr);
        if (r->id > c->n_nodes)
            c->n_nodes = r->id;
        added++;
    }
    /* Ids are dense in a config: name the gaps, with no address. */
    for (uint32_t i = 0; i < c->n_nodes; i++)
        c->nodes[i].id = i + 1;
    return added;
}

int
tl_cluster_map_to_config(const Talus__ClusterMap *m,
                         struct tl_cluster_config *c, char *errbuf,
                         size_t errlen)
{
    const Talus__ClusterSettings *s = m->settings;

    if (s == NULL || s->n_shards < 1 || s->n_shards > TL_META_GROUP ||
        s->replicas < 1 || s->initial_nodes < 1 ||
        s->initial_nodes > TL_MAX_NODES) {
        snprintf(errbuf, errlen, "the cluster map has no valid settings");
        return TL_EINVAL;
    }
    c->n_shards = s->n_shards;
    c->n_replicas = s->replicas;
    c->n_initial_nodes = s->initial_nodes;
    if (s->has_request_timeout_ms && s->request_timeout_ms > 0)
        c->request_timeout_ms = s->request_timeout_ms;
    if (s->has_election_timeout_ms && s->election_timeout_ms > 0)
        c->election_timeout_ms = s->election_timeout_ms;
    if (s->has_heartbeat_ms && s->heartbeat_ms > 0)
        c->heartbeat_ms = s->heartbeat_ms;
    if (s->has_max_entry_bytes &&
        s->max_entry_bytes >= TL_MAX_ENTRY_BYTES_MIN &&
        s->max_entry_bytes <= TL_MAX_ENTRY_BYTES_MAX)
        c->max_entry_bytes = s->max_entry_bytes;
    if (s->has_gc_window_ms && s->gc_window_ms >= 2000)
        c->gc_window_ms = s->gc_window_ms;
    tl_cluster_map_add_nodes(m, c);
    if (c->n_initial_nodes > c->n_nodes)
        c->n_nodes = c->n_initial_nodes;
    for (uint32_t i = 0; i < c->n_nodes; i++)
        c->nodes[i].id = i + 1;
    if (c->n_nodes == 0) {
        snprintf(errbuf, errlen, "the cluster map lists no nodes");
        return TL_EINVAL;
    }
    return 0;
}

int
tl_cluster_map_fetch(const char *addrs, int timeout_ms, Talus__Response **out,
                     char *used, size_t usedlen, char *errbuf, size_t errlen)
{
    char list[1024], why[256] = "no address given";
    char *save = NULL;

    if (strlen(addrs) >= sizeof list) {
        snprintf(errbuf, errlen, "address list too long");
        return TL_EINVAL;
    }
    snprintf(list, sizeof list, "%s", addrs);
    for (char *a = strtok_r(list, ",", &save); a != NULL;
         a = strtok_r(NULL, ",", &save)) {
        struct tl_rpc_client *cl;
        Talus__Request req = TALUS__REQUEST__INIT;
        Talus__ClusterMapRequest cm = TALUS__CLUSTER_MAP_REQUEST__INIT;
        Talus__Response *resp = NULL;
        char host[TL_ADDR_MAX];
        uint16_t port;

        while (*a == ' ')
            a++;
        if (tl_addr_split(a, host, sizeof host, &port) != 0 ||
            tl_rpc_client_create(a, &cl) != 0) {
            snprintf(errbuf, errlen, "bad address %s (expected host:port)", a);
            return TL_EINVAL;
        }
        /* An address that is down should not hold up the next one. */
        tl_rpc_client_set_connect_timeout(
            cl, timeout_ms / 2 < 1000 ? timeout_ms / 2 : 1000);
        req.request_id = tl_rpc_next_id();
        req.body_case = TALUS__REQUEST__BODY_CLUSTER_MAP;
        req.cluster_map = &cm;
        int rv = tl_rpc_call(cl, &req, timeout_ms, &resp);
        tl_rpc_client_destroy(cl);
        if (rv != 0) {
            snprintf(why, sizeof why, "%s: %s", a, tl_strerror(rv));
            continue;
        }
        if (resp->error != NULL || resp->cluster_map == NULL ||
            resp->cluster_map->settings == NULL) {
            snprintf(why, sizeof why, "%s: %s", a,
                     resp->error != NULL ? resp->error->message
                                         : "no registry yet");
            talus__response__free_unpacked(resp, NULL);
            continue;
        }
        if (used != NULL)
            snprintf(used, usedlen, "%s", a);
        *out = resp;
        return 0;
    }
    snprintf(errbuf, errlen, "no node answered (last: %s)", why);
    return TL_EUNAVAILABLE;
}
