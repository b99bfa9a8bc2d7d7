/* replica_int — declarations shared by the files of node/replica/ only:
 * the task queue (replica_task.c), the loop's side of a group
 * (replica.c), the set's lifecycle (replica_set.c), membership.c and
 * restore.c. */
#ifndef NODE_REPLICA_REPLICA_INT_H
#define NODE_REPLICA_REPLICA_INT_H

#include <assert.h>

#include "node/replica/replica.h"

/** Assert that the caller runs on @rs's loop thread. */
#define REPLICA_ASSERT_LOOP(rs) assert(replica_set_on_loop(rs))

/* ---- replica_task.c: tasks handed from workers to the loop */

/** A new task with two references (worker + loop). Cannot fail. */
struct proposal *replica_task_create(enum task_kind kind, struct replica *sh,
                                     uint32_t shard);
/** Drop one reference of @p; the last frees it. */
void replica_task_unref(struct proposal *p);
/** On the loop (or the applier): record the outcome (@res may be NULL),
 * wake the waiter, drop the loop's reference. */
void replica_task_finish(struct proposal *p, int status, int raft_rv,
                         const struct fsm_result *res);
/** On the loop: replica_task_finish() without a result. */
void replica_task_complete(struct proposal *p, int status, int raft_rv);
/** Hand @p to the loop; false if the set is stopping (p untouched). Any
 * thread. */
bool replica_task_enqueue(struct replica_set *rs, struct proposal *p);
/** Take the whole queue; with @stop, no task is accepted any more. */
struct proposal *replica_task_take(struct replica_set *rs, bool stop);
/** Wait for @p at most @ms; true if it completed. */
bool replica_task_wait(struct proposal *p, uint32_t ms);
/** Enqueue @p and wait at most @ms: its status, or TL_ESHUTDOWN /
 * TL_ETIMEOUT. Drops the worker's reference unless it returns
 * TL_ESHUTDOWN before enqueueing (then @p is freed here too). */
int replica_task_submit_wait(struct replica_set *rs, struct proposal *p,
                             uint32_t ms);
/** Record write @p as in flight under its request id. */
void replica_task_inflight_add(struct replica_set *rs, struct proposal *p);
/** Take @p out of the in-flight writes (no-op if it is not there). */
void replica_task_inflight_unlink(struct replica_set *rs, struct proposal *p);
/** The write of @sh under @request_id in flight, with a reference taken,
 * or NULL. */
struct proposal *replica_task_find_inflight(struct replica *sh,
                                            uint64_t request_id);

/* ---- replica.c: the loop's side of a group */

/** Run task @p on the loop. */
void replica_run_task(struct replica_set *rs, struct proposal *p);
/** Fail task @p because the node is shutting down. */
void replica_fail_task(struct proposal *p);
/** On the loop, from a raft callback: run @what (DEFER_*) for @sh on a
 * later loop turn, outside raft. The term now is recorded for
 * membership work (sh->deferred_term). Cannot fail. */
void replica_defer(struct replica *sh, unsigned what);
/** Run every replica's deferred work, outside raft (loop). */
void replica_run_deferred(struct replica_set *rs);
/** The leader poll's timer callback (loop). */
void replica_poll_leaders(uv_timer_t *t);
/** Start raft group @sh (fsm, transport, io, raft; bootstrap when
 * sh->initial). TL_EIO (logged). */
int replica_start(struct replica *sh);

/* ---- replica_set.c */

/** The struct of @shard, allocated (inactive) if missing. Loop only. */
struct replica *replica_alloc(struct replica_set *rs, uint32_t shard);
/** Persist the hosted set. TL_EIO. */
int replica_save_hosted(struct replica_set *rs);
/** A raft_close() counted in n_closing completed (loop). */
void replica_closing_done(struct replica_set *rs);
/** The rpc (or, with @raft, raft) address of node @id: rs->node_addr_cb,
 * else the configuration. TL_ENOTFOUND when unknown. Any thread. */
int replica_set_node_addr(struct replica_set *rs, uint32_t id, bool raft,
                          char *out, size_t len);
/** The highest node id known: rs->max_node_cb, else the configuration's.
 * Any thread. */
uint32_t replica_set_max_node(struct replica_set *rs);

/* ---- membership.c (loop thread) */

/** Start membership task @p; completes it now or from a raft callback. */
void membership_start(struct replica_set *rs, struct proposal *p);
/** The loop's leader poll extras: preferred-leader and restoring-leader
 * transfers of @sh. */
void membership_poll(struct replica *sh);
/** The deferred step of a change or transfer (DEFER_ASSIGN / DEFER_XFER
 * in @what), on the loop outside raft: continue if @sh still leads in
 * sh->deferred_term, else fail the operator's request as not led here. */
void membership_run_deferred(struct replica *sh, unsigned what);

/* ---- restore.c */

/** Start the fetcher thread (restores shards out of band). TL_EIO. */
int restore_start(struct replica_set *rs);
/** Stop and join it. Safe if never started. */
void restore_stop(struct replica_set *rs);
/** Ask the fetcher to (re)copy @sh (any thread). */
void restore_wake(struct replica *sh);
/** Release every fetch session (shutdown). */
void restore_sessions_close(struct replica_set *rs);

#endif
