/* router — process-wide state of a talus-router.
 *
 * Everything here can be rebuilt from the cluster configuration and the
 * storage nodes: the catalog cache is refreshed from shard 0, the node
 * clients reconnect by themselves. Shared by every connection thread. */
#ifndef TL_ROUTER_H
#define TL_ROUTER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "cluster_config.h"
#include "rpc.h"

struct catalog; /* router/catalog.h */

struct router {
    struct tl_cluster_config cfg;
    struct tl_rpc_client *nodes[TL_MAX_NODES]; /* by node index (id - 1) */
    struct catalog *catalog;
    /* Node (1-based id) last seen leading each shard, 0 for the preferred
     * one; set from the nodes' leader hints and successful replies
     * (router_int.h). */
    _Atomic uint32_t leader[TL_MAX_SHARDS];
    /* Per node (index id - 1): until when (router_now_ms clock) retries
     * pass it over, after a request could not even be sent to it. */
    _Atomic int64_t down_until_ms[TL_MAX_NODES];
    uint32_t router_id; /* random, for row ids and backend keys */
    atomic_uint_fast64_t n_queries;
    atomic_uint_fast64_t n_leader_changes; /* leader[] moved */
    atomic_uint_fast64_t n_retries;        /* requests sent again */
};

/** Connect clients to every node of @cfg (copied) and create the catalog
 * cache (loaded lazily on first use). Nodes need not be up. TL_EINVAL for
 * a bad address. */
int router_init(struct router *r, const struct tl_cluster_config *cfg);

/** Release everything router_init() made (logs the retry counters). */
void router_close(struct router *r);

/** The client for the node believed to lead @shard: the last leader a
 * node named, else the preferred one. Cannot fail. */
struct tl_rpc_client *router_shard_client(struct router *r, uint32_t shard);

#endif
