/* node_int — the node's wiring (struct node) and the declarations shared
 * by the layers above node/replica/ that still take the whole node:
 * node.c, node_rpc.c, registry.c, tso.c, gc.c. */
#ifndef NODE_NODE_INT_H
#define NODE_NODE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "cluster_config.h"
#include "node.h"
#include "node/exec/exec.h"
#include "node/exec/prepared.h"
#include "node/replica/replica.h"
#include "node/store/store.h"
#include "rpc_server.h"
#include "tso.h"
#include "txn_waits.h"

/* The node: the wiring of its layers (node.c). Each layer owns its state;
 * this struct only holds them side by side.
 *
 * Guards: cfg, opts, self are set by node_create() and read-only after;
 * st is set by node_start() before any thread but the caller runs, and
 * read-only after (closed by node_destroy()); the signal handles belong to
 * the loop thread; the rest say their own. */
struct node {
    struct tl_cluster_config cfg;
    struct node_options opts;
    const struct tl_node_config *self;
    struct store *st;
    /* The raft groups and the loop (node/replica/replica.h). */
    struct replica_set rs;
    uv_signal_t sigterm, sigint;    /* (loop) */
    bool signals_inited;            /* (loop) */
    struct prepared_store prepared; /* modify batches of a first phase */
    struct rpc_server rpc;
    /* The newest catalog (map) version seen: in requests, and in catalog
     * batches this node applied as a meta group replica. Only grows; lost
     * on restart until a request (or, on a meta replica, the log replay
     * of catalog batches not yet in RocksDB) teaches it again. */
    _Atomic uint64_t map_version;
    /* The node registry thread and its cache (registry.c). */
    /* Published once started (RPC workers serve ClusterMap requests
     * from the start, and may find NULL); cleared at shutdown after the
     * workers stopped. */
    struct registry *_Atomic reg;
    /* The timestamp oracle, served while this node leads the meta group
     * (tso.h; its own mutex). */
    struct tso tso;
    /* Wait-for edges registered by waiters whose record is on a shard
     * this node leads (txn_waits.h; its own mutex). */
    struct txn_waits waits;
    /* The GC safe point this node learned from the meta group (gc.c):
     * only grows; any thread reads it. Reads below it are refused. */
    _Atomic uint64_t gc_safe_point;
};

/** The node whose replica set holds @sh (the set is embedded in struct
 * node). Cannot fail. */
static inline struct node *
node_of(const struct replica *sh)
{
    return (struct node *)((char *)sh->rs - offsetof(struct node, rs));
}

/** Raise the newest catalog (map) version this node has seen to @v (any
 * thread). Requests planned with an older one are refused (TL_ESTALE). */
void node_learn_version(struct node *n, uint64_t v);

/** A catalog batch the meta group applied on this node (leader or
 * follower): raise n->map_version to the map version it writes (the
 * map version key and counter row of common/meta/meta_keys.h), if any. Any
 * thread; cannot fail. */
void node_learn_catalog_batch(struct node *n, const Talus__WriteBatch *wb);

/** RPC entry point (rpc_handler_fn): decode, dispatch, encode. */
void node_rpc_handle(void *arg, const uint8_t *req, size_t len,
                     struct tl_buf *reply);

/* ---- registry.c */

/** Start the registry thread: registers this node, bootstraps the
 * registry (as meta leader) and keeps the records of the groups this node
 * leads current, never on the loop. TL_EIO. */
int registry_start(struct node *n);
/** Ask the registry thread to stop, without waiting. Any thread. */
void registry_request_stop(struct node *n);
/** Stop and join the registry thread. Safe if never started. */
void registry_stop(struct node *n);
/** registry_stop(), then free the registry. Safe if never started. */
void registry_destroy(struct node *n);
/** The rpc (or, with @raft, raft) address of node @id: the configuration
 * first, else the registry's cache. TL_ENOTFOUND when neither knows it.
 * Any thread. */
int registry_node_addr(struct node *n, uint32_t id, bool raft, char *out,
                       size_t len);
/** The highest node id known (configuration or registry). Any thread. */
uint32_t registry_max_node(struct node *n);
/** Answer a ClusterMapRequest (worker thread): resp->cluster_map, or
 * *@code and @err when the registry is unreachable and not cached. */
void registry_serve(struct node *n, const Talus__Request *req,
                    struct tl_arena *a, Talus__Response *resp,
                    struct tl_error *err, int *code);

/** Send @req to the meta group's leader (a request id is set) through
 * the registry's cluster client: 0 with *@resp (caller frees; it may
 * hold the group's own error), or a TL_E* code. Registry thread. */
int registry_meta_call(struct node *n, Talus__Request *req,
                       Talus__Response **resp);
/** The cached cluster map (caller frees with
 * talus__cluster_map__free_unpacked()), or NULL. Any thread. */
Talus__ClusterMap *registry_cached_map(struct node *n);

#endif
