/* replica — the raft groups of one node: one `struct replica` per shard
 * (and the meta group) this node hosts, all run by one libuv loop that a
 * `struct replica_set` owns.
 *
 * Threads. The loop thread owns every `struct raft`, the transport, the
 * timers and the task queue's consumer side; workers (RPC threads, the
 * registry thread) never touch raft: they hand tasks to the loop
 * (replica_propose(), replica_read_barrier(), replica_membership()) and
 * wait. A `struct replica` is allocated once per shard id and freed only by
 * replica_set_close(), so a worker never holds a freed one (`active` says
 * whether the group runs); workers read only its atomics, the fields under
 * `info_mu`, and RocksDB. Loop-only functions assert that they run on the
 * loop thread (replica_set_on_loop()).
 *
 * Never re-enter raft from a raft callback: work a callback wants to start
 * is recorded on the replica (DEFER_* bits) and run by the set's defer
 * timer on a later loop turn, only if the replica still leads in the term
 * the callback saw.
 *
 * What the layers above provide (addresses of nodes beyond the cluster
 * configuration, catalog batches applied by the meta group, shutdown
 * hooks) comes in through the callbacks of `struct replica_set`, set by the
 * node's wiring (node/node.c) before replica_set_start(). */
#ifndef NODE_REPLICA_REPLICA_H
#define NODE_REPLICA_REPLICA_H

#include <limits.h>
#include <pthread.h>
#include <raft.h>
#include <raft/uv.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <uv.h>

#include "arena.h"
#include "cluster_config.h"
#include "node/replica/applier.h"
#include "node/replica/fsm.h"
#include "node/replica/raft_transport.h"
#include "node/replica/reads.h"
#include "node/store/fsm_result.h"
#include "node/store/store.h"
#include "talus.pb-c.h"
#include "tl_error.h"

struct proposal;
struct replica_set;
struct tl_metric_family; /* common/admin/metrics.h */
struct tl_metric_series;

/* What this node knows of a shard's raft group, published by the loop
 * (leader poll) for workers under info_mu. */
struct shard_info {
    uint64_t voters[TL_MAX_NODES], standbys[TL_MAX_NODES];
    size_t n_voters, n_standbys;
    uint64_t term, commit_index, last_index;
};

/* One shard this node hosts (or hosted: structs live until
 * replica_set_close(), so a worker holding one never sees it freed;
 * `active` says whether the group runs).
 *
 * Guards: fields marked (loop) are read and written by the loop thread
 * only; (atomic) fields by any thread; `info` under `info_mu`; `shard`,
 * `rs` and `dir` are set once before the group starts. */
struct replica {
    struct replica_set *rs;
    uint32_t shard;
    char dir[PATH_MAX + 32]; /* raft directory */
    /* (loop) the raft group and its I/O. */
    struct raft raft;
    struct raft_io io;
    struct raft_uv_transport transport;
    struct node_fsm fsm; /* fsm.h says which of its fields any thread reads */
    bool fsm_inited, transport_inited, io_inited, raft_inited;
    bool hosted;         /* (loop) in the persisted hosted set */
    bool initial;        /* (loop) from the initial placement: bootstrap it */
    bool dropping;       /* (loop) raft_close issued by DROP_SHARD */
    _Atomic bool active; /* group started and not dropped: may serve */
    /* (atomic) Written by the loop (leader timer), read by workers. */
    _Atomic bool is_leader;
    _Atomic uint64_t leader_id;
    _Atomic uint64_t n_scans, n_writes;
    _Atomic uint64_t n_expired; /* requests given up past their timeout */
    /* (atomic) For /metrics (node/admin): rows scans returned, writes
     * proposed by workers, leaders seen by the poll (a leader id other
     * than the last one known). */
    _Atomic uint64_t n_rows_read, n_proposals, n_leader_changes;
    /* Histogram (common/admin/metrics.h) of a proposal's time from
     * submission to its outcome, or NULL; set by replica_alloc() before
     * the replica is published, read-only after. */
    struct tl_metric_series *propose_seconds;
    pthread_mutex_t info_mu;
    struct shard_info info; /* under info_mu */
    /* (loop) Read confirmation (reads.h): one barrier in flight. */
    struct reads reads;
    /* (loop) Work a raft callback asked for, run by the loop's defer timer
     * on a later turn (never inside raft): DEFER_* bits, and the link in
     * the set's defer list while queued. */
    unsigned deferred;
    raft_term deferred_term; /* the term the membership work was asked in */
    bool defer_queued;
    struct replica *defer_next;
    /* (loop) Leadership transfer (operator or automatic), one at a time. */
    struct raft_transfer xfer;
    bool xfer_busy;
    struct proposal *xfer_p;      /* operator request waiting, or NULL */
    struct raft_apply pref_apply; /* records the operator's preference */
    double last_auto_xfer;        /* seconds, monotonic */
    raft_index lead_index;        /* last log index when the poll saw us lead */
    /* (loop) Membership change, one at a time. */
    struct raft_change chg;
    bool chg_busy;
    struct proposal *chg_p;
    struct proposal *drop_p; /* DROP_SHARD waiting for raft_close */
    /* (atomic) Out-of-band restore: the fetcher thread's work flag. */
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
 * that gave up never leaves the loop with a dangling pointer.
 *
 * Guards: the request fields (kind ... target, buf, request_id) are
 * written by the creator before the task is enqueued and read-only after;
 * refs, done and the outcome (status ... res, read_index) under `mu`
 * (the outcome is written before done is set, read after it is seen);
 * req, aw, rw belong to the loop (and the applier, for aw) while queued;
 * in_flight and inflight_next under the set's inflight_mu; next under the
 * set's qmu while queued, then the loop's. */
struct proposal {
    enum task_kind kind;
    struct replica *sh; /* NULL for HOST_SHARD of a new shard */
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
    bool in_flight;           /* in the set's inflight (under inflight_mu) */
    struct proposal *inflight_next;
    struct proposal *next; /* in the set's queue */
};

/* Work deferred from a raft callback to a later loop turn. */
enum {
    DEFER_READS = 1u << 0,  /* reads_run_deferred() */
    DEFER_ASSIGN = 1u << 1, /* promote the added replica (membership.c) */
    DEFER_XFER = 1u << 2,   /* transfer after the preference applied */
};

/* The raft settings of every group (the node's options, node/node.h). */
struct replica_options {
    uint32_t id;
    unsigned snapshot_threshold; /* raft entries between snapshots */
    unsigned snapshot_trailing;  /* entries kept after a snapshot */
    unsigned election_timeout_ms;
    unsigned heartbeat_timeout_ms;
    unsigned fetch_page_bytes; /* out-of-band snapshot page */
    bool no_read_barrier;      /* UNSAFE, benchmarks only */
};

/* The node's raft groups and the loop that runs them.
 *
 * Guards: cfg, opts, self, st and the callbacks are set before
 * replica_set_start() and read-only after; fields marked (loop) belong to
 * the loop thread; by_shard entries are written once (loop, or before the
 * loop runs) and read by any thread; the queue under qmu; the in-flight
 * writes under inflight_mu (taken before a proposal's mu, never after);
 * the fetcher's sessions under fmu. */
struct replica_set {
    struct tl_cluster_config cfg;
    struct replica_options opts;
    const struct tl_node_config *self; /* in cfg */
    struct store *st;                  /* borrowed: the wiring's */
    uv_loop_t loop;
    bool loop_inited;
    pthread_t loop_thread;  /* set by replica_set_run() */
    _Atomic bool loop_runs; /* loop_thread is valid */
    uv_async_t async;
    uv_timer_t leader_timer;
    double last_poll;           /* (loop) time of the last leader poll */
    uv_timer_t defer_timer;     /* runs deferred raft work, timeout 0 */
    struct replica *defer_head; /* (loop) replicas with deferred work */
    bool handles_inited;
    struct rt_listener listener; /* (loop) */
    bool listener_inited;
    bool serving;           /* the wiring's RPC server runs (ready log) */
    struct applier applier; /* applies committed entries off the loop */
    /* Families (common/admin/metrics.h) each replica's histograms are
     * made in, labelled by shard; set by the wiring before
     * replica_set_start() (NULL: none, as in tests), read-only after. */
    struct tl_metric_family *apply_seconds, *propose_seconds;
    /* The meta group's own applier: its entries (timestamps, leases, the
     * catalog) never queue behind a data shard's large batch. */
    struct applier meta_applier;
    /* Every shard this node hosts or hosted, by id (allocated once). */
    struct replica *_Atomic by_shard[TL_MAX_SHARDS];
    /* Writes with a request id proposed and not complete, so a retry of
     * one waits for it instead of proposing it again; guarded by
     * inflight_mu (taken before a proposal's mu, never after). */
    pthread_mutex_t inflight_mu;
    struct proposal *inflight;
    /* Task queue, guarded by qmu. */
    pthread_mutex_t qmu;
    struct proposal *qhead, *qtail;
    bool stopping; /* under qmu */
    _Atomic bool stop_requested;
    bool shutting_down; /* (loop) */
    bool ready_logged;  /* (loop) */
    unsigned n_closing; /* (loop) raft_close()s not yet completed */
    /* Out-of-band snapshot copies: the fetcher thread (restore.c) and
     * the sessions served to other nodes (fetch sessions). */
    pthread_t fetcher;
    bool fetcher_started; /* the thread that starts and stops it */
    pthread_mutex_t fmu;
    pthread_cond_t fcv;
    /* Set under fmu (with a broadcast of fcv, so a waiter never misses
     * it); atomic because the fetcher also polls it between pages
     * without the lock. */
    _Atomic bool fetcher_stop;
    struct fetch_session *sessions; /* guarded by fmu */
    /* From the wiring (any may be NULL), each called with cb_data. */
    void *cb_data;
    /* The rpc (or, with @raft, raft) address of node @id: TL_ENOTFOUND
     * when unknown. Any thread. */
    int (*node_addr_cb)(void *data, uint32_t id, bool raft, char *out,
                        size_t len);
    /* The highest node id known. Any thread. */
    uint32_t (*max_node_cb)(void *data);
    /* The meta group applied catalog batch @wb (leader or follower). The
     * applying thread. */
    void (*catalog_cb)(void *data, const Talus__WriteBatch *wb);
    /* Shutdown began (loop): stop what feeds the groups. */
    void (*shutdown_cb)(void *data);
    /* Every group closed (loop): stop serving, close the wiring's handles
     * on the loop. */
    void (*stopped_cb)(void *data);
};

/* ---- the set (replica_set.c) */

/** Initialise @rs for @cfg (copied) and @opts (copied); the node is the
 * configuration's node opts->id (asserted). Cannot fail. */
void replica_set_init(struct replica_set *rs,
                      const struct tl_cluster_config *cfg,
                      const struct replica_options *opts);

/** Initialise the loop and its handles (task queue, leader poll, defer
 * timer). TL_EIO (logged) if the loop cannot be created. */
int replica_set_init_loop(struct replica_set *rs);

/** With rs->st open: read (or compute and persist) the hosted set, start
 * the fetcher, the applier, the raft listener and every hosted group.
 * TL_E* code (logged). */
int replica_set_start(struct replica_set *rs);

/** Run the loop until every group has closed (the calling thread becomes
 * the loop thread). */
void replica_set_run(struct replica_set *rs);

/** Begin shutdown on the loop: new tasks fail at once, queued ones are
 * failed, every group is closed; rs->stopped_cb runs once all closed. */
void replica_set_shutdown(struct replica_set *rs);

/** Ask for replica_set_shutdown() from any thread. */
void replica_set_stop(struct replica_set *rs);

/** After the loop returned: drain close callbacks and release the loop. */
void replica_set_close_loop(struct replica_set *rs);

/** After replica_set_close_loop(): stop the fetcher and the applier (which
 * applies what raft committed first), free every replica. The store is
 * the caller's. */
void replica_set_close(struct replica_set *rs);

/** Whether the caller runs on the loop thread (true before the loop
 * runs: start-up and tests). For asserts. */
bool replica_set_on_loop(struct replica_set *rs);

/** The shard label of group @shard in /metrics: its number, or "meta"
 * for the meta group. Cannot fail. */
void replica_shard_label(uint32_t shard, char *out, size_t len);

/** The replica of @shard if it exists and is active, else NULL. Any
 * thread. */
struct replica *replica_get(struct replica_set *rs, uint32_t shard);

/* ---- one group (replica.c): the workers' side, any thread but the loop */

/** Where a write goes and how long its proposer waits: the request
 * timeout, or less when the request must be answered earlier
 * (answer_by_ms, exec_now_ms() clock, 0: no bound). */
struct replica_write_ctx {
    struct replica *sh;
    int64_t answer_by_ms;
};

/** Propose @wb to the shard of @ctx (struct replica_write_ctx *) and wait
 * for it to be applied (exec_propose_fn). Errors carry the TL_E* code as
 * return value. */
int replica_propose(void *ctx, const Talus__WriteBatch *wb,
                    struct fsm_result *res, struct tl_error *err);

/** replica_propose() of an entry already encoded (fsm_entry_encode) whose
 * batch carries @request_id (0: none): takes ownership of @buf. TL_ETOOBIG
 * (54000, nothing proposed) when it is larger than max_entry_bytes. A
 * write under the same request id still in flight on @sh is waited for
 * instead (its outcome is this one's). */
int replica_propose_buf(struct replica *sh, struct raft_buffer buf,
                        uint64_t request_id, int64_t answer_by_ms,
                        struct fsm_result *res, struct tl_error *err);

/** If a write of @sh under @request_id is still in flight (proposed here,
 * not complete), wait for it at most the request timeout: its status, with
 * *@res on success (errors as replica_propose()). 1 when none is in
 * flight. */
int replica_wait_inflight(struct replica *sh, uint64_t request_id,
                          int64_t answer_by_ms, struct fsm_result *res,
                          struct tl_error *err);

/** Wait until a read of @sh is linearizable: a raft barrier issued after
 * this call committed while this node leads (batched with other reads).
 * 0, or TL_ENOTLEADER / TL_EUNAVAILABLE / TL_ETIMEOUT with @err filled. */
int replica_read_barrier(struct replica *sh, struct tl_error *err);

/** Run membership operation @op (TALUS__MEMBERSHIP_REQUEST__OP__*) on
 * @shard for node @target on the loop, waiting at most @timeout_ms. 0, or
 * a TL_E* code with @err filled; *@hint gets the known leader on
 * TL_ENOTLEADER. */
int replica_membership(struct replica_set *rs, int op, uint32_t shard,
                       uint32_t target, uint32_t timeout_ms, uint64_t *hint,
                       struct tl_error *err);

/** Serve a FetchShardRequest (worker thread, restore.c): fills
 * resp->fetch or an error. */
void restore_serve_fetch(struct replica_set *rs, const Talus__Request *req,
                         struct tl_arena *a, Talus__Response *resp,
                         struct tl_error *err, int *code);

#endif
