/* node_int — private declarations shared by node.c and node_rpc.c. */
#ifndef NODE_NODE_INT_H
#define NODE_NODE_INT_H

#include <limits.h>
#include <pthread.h>
#include <raft.h>
#include <raft/uv.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <uv.h>

#include "cluster_config.h"
#include "exec.h"
#include "fsm.h"
#include "node.h"
#include "raft_transport.h"
#include "rpc_server.h"
#include "storage.h"

/* One hosted shard: its raft group and the counters workers read. */
struct node_shard {
    struct node *node;
    uint32_t shard;
    char dir[PATH_MAX + 32]; /* raft directory */
    struct raft raft;
    struct raft_io io;
    struct raft_uv_transport transport;
    struct node_fsm fsm;
    bool transport_inited, io_inited, raft_inited;
    /* Written by the loop (leader timer), read by workers. */
    _Atomic bool is_leader;
    _Atomic uint64_t leader_id;
    _Atomic uint64_t n_scans, n_writes;
};

/* A write handed from a worker to the loop. Two references: the worker's
 * (dropped after waiting, or on timeout) and the loop's (dropped when the
 * outcome is known); the last one frees it, so a worker that gave up never
 * leaves the loop with a dangling pointer. */
struct proposal {
    struct node_shard *sh;
    struct raft_apply req;
    struct raft_buffer buf; /* raft_malloc'd; raft's once applied */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;
    bool done;
    int status; /* TL_E* code, 0 when applied */
    int raft_rv;
    struct fsm_result res;
    struct proposal *next; /* in node's queue */
};

struct node {
    struct tl_cluster_config cfg;
    struct node_options opts;
    const struct tl_node_config *self;
    uv_loop_t loop;
    bool loop_inited;
    uv_async_t async;
    uv_timer_t leader_timer;
    uv_signal_t sigterm, sigint;
    bool handles_inited;
    struct rt_listener listener;
    bool listener_inited;
    struct storage *st;
    struct node_shard *shards;
    size_t n_shards;
    struct node_shard *by_shard[TL_MAX_SHARDS];
    struct rpc_server rpc;
    /* Proposal queue, guarded by qmu. */
    pthread_mutex_t qmu;
    struct proposal *qhead, *qtail;
    bool stopping;
    _Atomic bool stop_requested;
    bool shutting_down;
    bool ready_logged;
    unsigned n_closing;
};

/** RPC entry point (rpc_handler_fn): decode, dispatch, encode. */
void node_rpc_handle(void *arg, const uint8_t *req, size_t len,
                     struct tl_buf *reply);

/** Propose @wb to shard @ctx (struct node_shard *) and wait at most the
 * request timeout for it to be applied (exec_propose_fn). */
int node_propose(void *ctx, const Talus__WriteBatch *wb, struct fsm_result *res,
                 struct tl_error *err);

#endif
