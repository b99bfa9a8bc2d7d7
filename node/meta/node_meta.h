/* node_meta — what the meta layer of a node owns: the catalog (map)
 * version it has seen, the registry thread (registry.h), the timestamp
 * oracle (tso.h) and the GC safe point (gc.h), with what they read of the
 * node (its configuration, its store, its raft groups).
 *
 * Guards: cfg, id, self, rs are set by node_meta_init() and st before
 * anything but the initialising thread runs; read-only after. The rest is
 * atomic or says its own lock. */
#ifndef NODE_META_NODE_META_H
#define NODE_META_NODE_META_H

#include <stdatomic.h>
#include <stdint.h>

#include "cluster_config.h"
#include "node/meta/tso.h"
#include "node/replica/replica.h"
#include "node/store/store.h"
#include "talus.pb-c.h"

struct registry;

struct node_meta {
    struct tl_cluster_config cfg;
    uint32_t id;                       /* this node's */
    const struct tl_node_config *self; /* in cfg */
    struct store *st;                  /* borrowed: the node's */
    struct replica_set *rs;            /* borrowed: the node's groups */
    /* The newest catalog (map) version seen: in requests, and in catalog
     * batches this node applied as a meta group replica. Only grows; lost
     * on restart until a request (or, on a meta replica, the log replay
     * of catalog batches not yet in RocksDB) teaches it again. */
    _Atomic uint64_t map_version;
    /* The node registry thread and its cache (registry.c). Published once
     * started (RPC workers serve ClusterMap requests from the start, and
     * may find NULL); cleared at shutdown after the workers stopped. */
    struct registry *_Atomic reg;
    /* The timestamp oracle, served while this node leads the meta group
     * (tso.h; its own mutex). */
    struct tso tso;
    /* The GC safe point this node learned from the meta group (gc.c):
     * only grows; any thread reads it. Reads below it are refused. */
    _Atomic uint64_t gc_safe_point;
};

/** Initialise @m for node @id of @cfg (copied; the node must be in it)
 * over the groups @rs (borrowed); @tso_skew_ms as tso_init(). Cannot
 * fail. */
void node_meta_init(struct node_meta *m, const struct tl_cluster_config *cfg,
                    uint32_t id, struct replica_set *rs, long long tso_skew_ms);

/** Release @m (the registry is released by registry_destroy()). */
void node_meta_close(struct node_meta *m);

/** Raise the newest catalog (map) version this node has seen to @v (any
 * thread). Requests planned with an older one are refused (TL_ESTALE). */
void node_meta_learn_version(struct node_meta *m, uint64_t v);

/** A catalog batch the meta group applied on this node (leader or
 * follower): raise m->map_version to the map version it writes (the
 * map version key and counter row of common/meta/meta_keys.h), if any. Any
 * thread; cannot fail. */
void node_meta_learn_catalog_batch(struct node_meta *m,
                                   const Talus__WriteBatch *wb);

#endif
