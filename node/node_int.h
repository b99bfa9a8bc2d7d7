/* node_int — private declarations shared by node.c, node_rpc.c,
 * membership.c and restore.c. */
#ifndef NODE_NODE_INT_H
#define NODE_NODE_INT_H

#include <limits.h>
#include <pthread.h>
#include <raft.h>
#include <raft/uv.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <uv.h>

#include "applier.h"
#include "cluster_config.h"
#include "exec.h"
#include "fsm.h"
#include "lock_queue.h"
#include "node.h"
#include "node/store/store.h"
#include "prepared.h"
#include "raft_transport.h"
#include "reads.h"
#include "rpc_server.h"
#include "tso.h"
#include "txn_waits.h"

struct proposal;

/* What this node knows of a shard's raft group, published by the loop
 * (leader poll) for workers under info_mu. */
struct shard_info {
    uint64_t voters[TL_MAX_NODES], standbys[TL_MAX_NODES];
    size_t n_voters, n_standbys;
    uint64_t term, commit_index, last_index;
};

/* One shard this node hosts (or hosted: structs live until node_destroy,
 * so a worker holding one never sees it freed; `active` says whether the
 * group runs). Everything not atomic or under info_mu is loop-only. */
struct node_shard {
    struct node *node;
    uint32_t shard;
    char dir[PATH_MAX + 32]; /* raft directory */
    struct raft raft;
    struct raft_io io;
    struct raft_uv_transport transport;
    struct node_fsm fsm;
    bool fsm_inited, transport_inited, io_inited, raft_inited;
    bool hosted;         /* in the persisted hosted set */
    bool initial;        /* from the initial placement: bootstrap it */
    bool dropping;       /* raft_close issued by DROP_SHARD */
    _Atomic bool active; /* group started and not dropped: may serve */
    /* Written by the loop (leader timer), read by workers. */
    _Atomic bool is_leader;
    _Atomic uint64_t leader_id;
    _Atomic uint64_t n_scans, n_writes;
    _Atomic uint64_t n_expired; /* requests given up past their timeout */
    pthread_mutex_t info_mu;
    struct shard_info info;
    /* Read confirmation (reads.h): one barrier in flight. */
    struct reads reads;
    /* Work a raft callback asked for, run by the loop's defer timer on a
     * later turn (never inside raft): DEFER_* bits, and the link in the
     * node's defer list while queued. */
    unsigned deferred;
    raft_term deferred_term; /* the term the membership work was asked in */
    bool defer_queued;
    struct node_shard *defer_next;
    /* Leadership transfer (operator or automatic), one at a time. */
    struct raft_transfer xfer;
    bool xfer_busy;
    struct proposal *xfer_p;      /* operator request waiting, or NULL */
    struct raft_apply pref_apply; /* records the operator's preference */
    double last_auto_xfer;        /* seconds, monotonic */
    raft_index lead_index;        /* last log index when the poll saw us lead */
    /* Membership change, one at a time. */
    struct raft_change chg;
    bool chg_busy;
    struct proposal *chg_p;
    struct proposal *drop_p; /* DROP_SHARD waiting for raft_close */
    /* Out-of-band restore: the fetcher thread's work flag. */
    _Atomic bool fetch_wanted;
    _Atomic bool fetch_finishing; /* TASK_RESTORED queued to the loop */
};

enum task_kind {
    TASK_WRITE,      /* raft_apply of buf */
    TASK_READ,       /* wait for a barrier (linearizable read) */
    TASK_MEMBERSHIP, /* op/target on shard */
    TASK_RESTORED,   /* the fetcher copied the shard: finish on the loop */
};

/* Work handed from a worker (or the fetcher) to the loop. Two references:
 * the worker's (dropped after waiting, or on timeout) and the loop's
 * (dropped when the outcome is known); the last one frees it, so a worker
 * that gave up never leaves the loop with a dangling pointer. */
struct proposal {
    enum task_kind kind;
    struct node_shard *sh; /* NULL for HOST_SHARD of a new shard */
    uint32_t shard;
    int op;          /* TASK_MEMBERSHIP: TALUS__MEMBERSHIP_REQUEST__OP__* */
    uint32_t target; /* TASK_MEMBERSHIP: node id */
    struct raft_apply req;
    struct raft_buffer buf; /* raft_malloc'd; raft's once applied */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;
    bool done;
    int status; /* TL_E* code, 0 when applied */
    int raft_rv;
    uint64_t leader_hint;
    char msg[256]; /* why, when status != 0 (membership) */
    struct fsm_result res;
    struct applier_waiter aw; /* TASK_WRITE: waiting for the applier */
    struct read_waiter rw;    /* TASK_READ: in the shard's reads */
    uint64_t read_index;      /* TASK_READ: raft's applied index when the
                                 read was confirmed */
    uint64_t request_id;      /* TASK_WRITE: the batch's, 0: none */
    bool in_flight;           /* in node.inflight (under inflight_mu) */
    struct proposal *inflight_next;
    struct proposal *next; /* in node's queue */
};

/* Work deferred from a raft callback to a later loop turn. */
enum {
    DEFER_READS = 1u << 0,  /* reads_run_deferred() */
    DEFER_ASSIGN = 1u << 1, /* promote the added replica (membership.c) */
    DEFER_XFER = 1u << 2,   /* transfer after the preference applied */
};

struct node {
    struct tl_cluster_config cfg;
    struct node_options opts;
    const struct tl_node_config *self;
    uv_loop_t loop;
    bool loop_inited;
    uv_async_t async;
    uv_timer_t leader_timer;
    double last_poll;       /* node_now() of the last leader poll (loop) */
    uv_timer_t defer_timer; /* runs deferred raft work, timeout 0 */
    struct node_shard *defer_head; /* shards with deferred work (loop) */
    uv_signal_t sigterm, sigint;
    bool handles_inited;
    struct rt_listener listener;
    bool listener_inited;
    struct store *st;
    struct applier applier;         /* applies committed entries off the loop */
    struct prepared_store prepared; /* modify batches of a first phase */
    /* Every shard this node hosts or hosted, by id (allocated once). */
    struct node_shard *_Atomic by_shard[TL_MAX_SHARDS];
    struct rpc_server rpc;
    /* Writes with a request id proposed and not complete, so a retry of
     * one waits for it instead of proposing it again; guarded by
     * inflight_mu (taken before a proposal's mu, never after). */
    pthread_mutex_t inflight_mu;
    struct proposal *inflight;
    /* Proposal queue, guarded by qmu. */
    pthread_mutex_t qmu;
    struct proposal *qhead, *qtail;
    bool stopping;
    _Atomic bool stop_requested;
    bool shutting_down;
    bool ready_logged;
    unsigned n_closing;
    /* Out-of-band snapshot copies: the fetcher thread (restore.c) and
     * the sessions served to other nodes (fetch sessions). */
    pthread_t fetcher;
    bool fetcher_started;
    pthread_mutex_t fmu;
    pthread_cond_t fcv;
    /* Set under fmu (with a broadcast of fcv, so a waiter never misses
     * it); atomic because the fetcher also polls it between pages
     * without the lock. */
    _Atomic bool fetcher_stop;
    struct fetch_session *sessions; /* guarded by fmu */
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
    /* Transactions waiting for row locks of the shards this node leads,
     * in arrival order (lock_queue.h, lock_gate.h; its own mutex). */
    struct lock_queue locks;
    /* The GC safe point this node learned from the meta group (gc.c):
     * only grows; any thread reads it. Reads below it are refused. */
    _Atomic uint64_t gc_safe_point;
};

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

/** Where a write goes and how long its proposer waits: the request
 * timeout, or less when the request must be answered earlier
 * (answer_by_ms, exec_now_ms() clock, 0: no bound). */
struct node_write_ctx {
    struct node_shard *sh;
    int64_t answer_by_ms;
};

/** Propose @wb to the shard of @ctx (struct node_write_ctx *) and wait for
 * it to be applied (exec_propose_fn). Errors carry the TL_E* code as
 * return value. */
int node_propose(void *ctx, const Talus__WriteBatch *wb, struct fsm_result *res,
                 struct tl_error *err);

/** node_propose() of an entry already encoded (fsm_entry_encode) whose
 * batch carries @request_id (0: none): takes ownership of @buf. TL_ETOOBIG
 * (54000, nothing proposed) when it is larger than max_entry_bytes. A
 * write under the same request id still in flight on @sh is waited for
 * instead (its outcome is this one's). */
int node_propose_buf(struct node_shard *sh, struct raft_buffer buf,
                     uint64_t request_id, int64_t answer_by_ms,
                     struct fsm_result *res, struct tl_error *err);

/** If a write of @sh under @request_id is still in flight (proposed here,
 * not complete), wait for it at most the request timeout: its status, with
 * *@res on success (errors as node_propose()). 1 when none is in flight. */
int node_wait_inflight(struct node_shard *sh, uint64_t request_id,
                       int64_t answer_by_ms, struct fsm_result *res,
                       struct tl_error *err);

/** Wait until a read of @sh is linearizable: a raft barrier issued after
 * this call committed while this node leads (batched with other reads).
 * 0, or TL_ENOTLEADER / TL_EUNAVAILABLE / TL_ETIMEOUT with @err filled. */
int node_read_barrier(struct node_shard *sh, struct tl_error *err);

/** Run membership operation @op (TALUS__MEMBERSHIP_REQUEST__OP__*) on
 * @shard for node @target on the loop, waiting at most @timeout_ms. 0, or
 * a TL_E* code with @err filled; *@hint gets the known leader on
 * TL_ENOTLEADER. */
int node_membership(struct node *n, int op, uint32_t shard, uint32_t target,
                    uint32_t timeout_ms, uint64_t *hint, struct tl_error *err);

/** The shard struct of @shard if it exists and is active, else NULL. Any
 * thread. */
struct node_shard *node_shard_get(struct node *n, uint32_t shard);

/** Hand @p to the loop; false if the node is stopping (p untouched). */
bool node_enqueue(struct node *n, struct proposal *p);

/** A new task with two references (worker + loop). */
struct proposal *node_task_create(enum task_kind kind, struct node_shard *sh,
                                  uint32_t shard);
/** Drop one reference of @p; the last frees it. */
void node_task_unref(struct proposal *p);
/** On the loop: record @status, wake the waiter, drop the loop's ref. */
void node_task_complete(struct proposal *p, int status, int raft_rv);

/** On the loop, from a raft callback: run @what (DEFER_*) for @sh on a
 * later loop turn, outside raft. The term now is recorded for
 * membership work (sh->deferred_term). Cannot fail. */
void node_defer(struct node_shard *sh, unsigned what);

/** The struct of @shard, allocated (inactive) if missing. Loop only. */
struct node_shard *node_shard_alloc(struct node *n, uint32_t shard);
/** A raft_close() counted in n_closing completed (loop). */
void node_closing_done(struct node *n);

/* ---- membership.c (loop thread) */

/** Start membership task @p; completes it now or from a raft callback. */
void membership_start(struct node *n, struct proposal *p);
/** Start raft group @sh (fsm, transport, io, raft; bootstrap when
 * sh->initial). TL_EIO (logged). */
int node_start_group(struct node_shard *sh);
/** Persist the hosted set. TL_EIO. */
int node_save_hosted(struct node *n);
/** The loop's leader poll extras: preferred-leader and restoring-leader
 * transfers of @sh. */
void membership_poll(struct node_shard *sh);
/** The deferred step of a change or transfer (DEFER_ASSIGN / DEFER_XFER
 * in @what), on the loop outside raft: continue if @sh still leads in
 * sh->deferred_term, else fail the operator's request as not led here. */
void membership_run_deferred(struct node_shard *sh, unsigned what);

/* ---- restore.c */

/** Start the fetcher thread (restores shards out of band). TL_EIO. */
int restore_start(struct node *n);
/** Stop and join it. Safe if never started. */
void restore_stop(struct node *n);
/** Ask the fetcher to (re)copy @sh (any thread). */
void restore_wake(struct node_shard *sh);
/** Serve a FetchShardRequest (worker thread): fills resp->fetch or an
 * error. */
void restore_serve_fetch(struct node *n, const Talus__Request *req,
                         struct tl_arena *a, Talus__Response *resp,
                         struct tl_error *err, int *code);
/** Release every fetch session (shutdown). */
void restore_sessions_close(struct node *n);

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

/* ---- gc.c: gc.h */

/** Seconds on the monotonic clock. */
double node_now(void);

#endif
