/* node_rpc — the requests a storage node serves, decoded on RPC worker
 * threads and dispatched to the layers below (node/exec, node/replica,
 * node/meta), and `struct node`: the state of every layer side by side,
 * which the handlers reach through and node/node.c wires. */
#ifndef NODE_RPC_NODE_RPC_H
#define NODE_RPC_NODE_RPC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "buf.h"
#include "cluster_config.h"
#include "node/exec/exec.h"
#include "node/meta/node_meta.h"
#include "node/replica/replica.h"
#include "node/rpc/lock_queue.h"
#include "node/rpc/prepared.h"
#include "node/rpc/rpc_server.h"
#include "node/rpc/txn_waits.h"
#include "node/store/store.h"

struct node_admin; /* node/admin/node_admin.h */

/* What the handlers read of the node's options (node/node.h). */
struct node_rpc_options {
    uint32_t id;
    int n_workers;              /* RPC threads */
    unsigned scan_row_delay_us; /* tests only: sleep per row a scan visits */
};

/* The node: the wiring of its layers (node.c). Each layer owns its state;
 * this struct only holds them side by side.
 *
 * Guards: cfg, opts, self are set by node_create() and read-only after;
 * st is set by node_start() before any thread but the caller runs, and
 * read-only after (closed by node_destroy()); the signal handles belong to
 * the loop thread; the rest say their own. */
struct node {
    struct tl_cluster_config cfg;
    struct node_rpc_options opts;
    const struct tl_node_config *self;
    struct store *st;
    /* The raft groups and the loop (node/replica/replica.h). */
    struct replica_set rs;
    uv_signal_t sigterm, sigint;    /* (loop) */
    bool signals_inited;            /* (loop) */
    struct prepared_store prepared; /* modify batches of a first phase */
    struct rpc_server rpc;
    /* Catalog version, registry, oracle, GC safe point (node_meta.h). */
    struct node_meta meta;
    /* Wait-for edges registered by waiters whose record is on a shard
     * this node leads (txn_waits.h; its own mutex). */
    struct txn_waits waits;
    /* Transactions waiting for row locks of the shards this node leads,
     * in arrival order (lock_queue.h, lock_gate.h; its own mutex). */
    struct lock_queue locks;
    /* The admin plane (node/admin/node_admin.h): created by
     * node_create(), served from node_start() when the node has an admin
     * address, stopped first and freed last by node_destroy(). Only
     * node.c touches it. */
    struct node_admin *admin;
};

/** The node whose replica set holds @sh (the set is embedded in struct
 * node). Cannot fail. */
static inline struct node *
node_of(const struct replica *sh)
{
    return (struct node *)((char *)sh->rs - offsetof(struct node, rs));
}

/** RPC entry point (rpc_handler_fn): decode, dispatch, encode. */
void node_rpc_handle(void *arg, const uint8_t *req, size_t len,
                     struct tl_buf *reply);

#endif
