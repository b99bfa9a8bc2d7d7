/* client — the one cluster client: leader following and retries of every
 * call to a raft group (a shard, or the meta group TL_META_GROUP).
 *
 * A struct tl_client holds one RPC client (common/rpc.h) per node and the
 * node last seen leading each group, shared by every thread that calls
 * through it. Every call goes through a struct tl_client_retry, which
 * picks the node for each attempt (the group's known leader first), reads
 * the node's answer from its structured fields (Error.code,
 * Response.leader_hint) and decides whether to send again, where, and
 * after what pause, until the call's deadline:
 *
 * - a not-leader reply naming the leader: switch to it at once;
 * - no leader named, a node that does not host the group, a node that
 *   cannot be reached or does not answer: try the group's other replicas,
 *   then every other node, pausing 25, 50, 100, 200, 200... ms; a node
 *   that could not be reached is passed over for TL_CLIENT_DOWN_MS.
 *
 * - a stale map version (TL_ESTALE: the node saw a newer catalog than the
 *   request was planned with; it did nothing): the stale_cb hook decides
 *   (the router reloads its catalog and sends again at once if the
 *   request's table, t->table_id, still exists, else fails with 42P01);
 *   without the hook the refusal is the call's answer.
 *
 * Reads are sent again freely. Writes (a WriteBatch, or a ModifyFragment
 * whose batch the node proposes under the request id) are sent again with
 * the same request id, which the node's state machine deduplicates, even
 * when an attempt's outcome is unknown. A request without an id is sent
 * again only while every attempt was refused before it ran. When the
 * deadline passes, the call fails with 40001 if nothing can have been
 * applied (08006 with one replica per group: no election can help), 08007
 * (transaction_resolution_unknown) if a write may have been: a write is
 * never reported done unless a node confirmed it.
 *
 * What is particular to one user is a hook (struct tl_client_hooks):
 * learning nodes that joined later, the stale-map policy, fields set on
 * each attempt (the router's catalog version), and stopping early. */
#ifndef TL_CLIENT_H
#define TL_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cluster_config.h"
#include "rpc.h"
#include "talus.pb-c.h"
#include "tl_error.h"

/** How long a call may keep looking for a leader when its caller sets no
 * deadline of its own and groups have several replicas. With one replica
 * the budget is request_timeout_ms: no election can bring the group back
 * sooner than its node, and that is the documented bound. */
#define TL_CLIENT_RETRY_BUDGET_MS 10000
/** How long a request may wait for a connection to its node before the
 * node counts as unreachable (common/rpc.h connect timeout). */
#define TL_CLIENT_CONNECT_TIMEOUT_MS 300
/** How long retries pass over a node found unreachable (they still try it
 * when a leader hint names it, or when every candidate is passed over). */
#define TL_CLIENT_DOWN_MS 1000
/** Pauses between attempts on other nodes: doubled from the first, capped. */
#define TL_CLIENT_BACKOFF_FIRST_MS 25
#define TL_CLIENT_BACKOFF_MAX_MS 200
/** How many stale-version refusals one call follows before giving up. */
#define TL_CLIENT_STALE_MAX 8
/** How many "still in progress" answers (a leader applying a large write)
 * one call follows, each extending a default deadline by up to
 * request_timeout_ms: about 5 minutes with the default 5 s. */
#define TL_CLIENT_PROGRESS_MAX 60

/* How a request may be repeated. */
enum tl_client_op {
    TL_CLIENT_READ,   /* no effect: repeat after any failure */
    TL_CLIENT_WRITE,  /* write or modify with a request id: repeat with it */
    TL_CLIENT_MODIFY, /* no dedupe on the node: repeat only if refused */
};

enum tl_client_verdict {
    TL_CLIENT_DONE,   /* the attempt's rv/resp are the answer */
    TL_CLIENT_RETRY,  /* send again to retry->node at retry->next_at_ms */
    TL_CLIENT_FAILED, /* give up: tl_client_retry_error() says why */
};

/* The retry state of one call to one group. Plain data, owned by the
 * caller; tl_client_retry_init() fills it. */
struct tl_client_retry {
    uint32_t group; /* shard id, or TL_META_GROUP */
    enum tl_client_op op;
    int64_t deadline_ms;   /* tl_client_now_ms() clock */
    int attempt_ms;        /* longest attempt; 0: request_timeout_ms */
    uint32_t node;         /* node of the next (or current) attempt */
    uint32_t n_attempts;   /* attempts judged so far */
    uint32_t n_hops;       /* consecutive leader hints followed */
    int backoff_ms;        /* next pause before trying another node */
    int64_t next_at_ms;    /* earliest start of the next attempt */
    uint32_t table_id;     /* table the request touches, 0: not checked */
    uint32_t table_schema; /* its schema version the request was planned
                              with (0: not checked): a stale refusal after
                              the table changed (ALTER, CREATE INDEX) fails
                              as if it were gone, to be planned again */
    uint32_t n_stale;      /* stale-version refusals followed */
    bool gone;             /* refused as stale, and the table is gone */
    bool unknown;          /* a write attempt may have been applied */
    bool failed;           /* TL_CLIENT_FAILED was returned */
    bool stmt_deadline;    /* the deadline is the statement_timeout */
    uint32_t n_silent;     /* attempts sent and not answered in time: a
                              node was working on them, or stuck */
    uint32_t n_progress;   /* "still in progress" answers followed */
    bool no_leader;        /* the latest attempt found no leader known
                              (refused without a hint, or unreachable) */
    char why[200];         /* the last failure, for the error detail */
    char why_unknown[200]; /* the failure that made the outcome unknown */
};

/* What one user of the client adds. Every hook may be NULL; each is
 * called with @arg, from any thread that calls through the client. */
struct tl_client_hooks {
    void *arg;
    /** A node has no address yet, or a hint names a node the
     * configuration lacks: look for new nodes (tl_client_add_nodes()).
     * Rate-limit it yourself: it may be called on every attempt. */
    void (*learn_cb)(void *arg);
    /** A TL_ESTALE refusal: the node has catalog @version (0: unknown)
     * and did nothing. 0: send again at once (the catalog was reloaded);
     * TL_ENOTFOUND: the table t->table_id is gone (42P01); another code:
     * give up, with @err (may be left empty) saying why. */
    int (*stale_cb)(void *arg, const struct tl_client_retry *t,
                    uint64_t version, struct tl_error *err);
    /** Before each attempt of tl_client_call(): set per-attempt fields of
     * @copy (a shallow copy of the caller's @req, whose request id it
     * keeps), e.g. the map version. */
    void (*attempt_cb)(void *arg, const struct tl_client_retry *t,
                       const Talus__Request *req, Talus__Request *copy);
    /** Whether tl_client_call() should give up before its next attempt
     * (the process is stopping): it then fails with TL_ESHUTDOWN. */
    bool (*stop_cb)(void *arg);
};

struct tl_client_opts {
    const char *log_mod;    /* module name of its log lines; "client" */
    int connect_timeout_ms; /* 0: TL_CLIENT_CONNECT_TIMEOUT_MS */
    struct tl_client_hooks hooks;
};

/* A cluster client. Thread-safe after tl_client_init(). A zeroed struct
 * whose cfg is set (and opts, if wanted) is a client without
 * connections: the retry state machine works, calls cannot be sent (unit
 * tests). */
struct tl_client {
    /* Borrowed from the owner, which keeps it alive until
     * tl_client_close(). tl_client_add_nodes() fills the entry of a new
     * node before cfg->n_nodes grows (a release store); everything else
     * only reads it. */
    struct tl_cluster_config *cfg;
    struct tl_client_opts opts;
    /* By node id - 1. A client is replaced only for a node whose address
     * was unknown; the replaced one is kept until tl_client_close(). */
    struct tl_rpc_client *_Atomic nodes[TL_MAX_NODES];
    pthread_mutex_t mu; /* serializes tl_client_add_nodes() */
    struct tl_rpc_client *retired[TL_MAX_NODES]; /* under mu */
    uint32_t n_retired;
    /* Node (1-based id) last seen leading each group, 0 for the
     * preferred one; set from leader hints and successful replies. */
    _Atomic uint32_t leader[TL_MAX_SHARDS];
    /* Per node (id - 1): until when (tl_client_now_ms clock) retries pass
     * it over, after a request could not even be sent to it. */
    _Atomic int64_t down_until_ms[TL_MAX_NODES];
    atomic_uint_fast64_t n_leader_changes; /* leader[] moved */
    atomic_uint_fast64_t n_retries;        /* requests sent again */
};

/** Make @c a client of the nodes of @cfg (borrowed, see struct tl_client;
 * a node without an address gets a placeholder that fails as unreachable
 * until tl_client_add_nodes() learns it) with @opts (copied; NULL: the
 * defaults). Nodes need not be up. TL_EINVAL for a bad address; nothing
 * is left to close then. */
int tl_client_init(struct tl_client *c, struct tl_cluster_config *cfg,
                   const struct tl_client_opts *opts);

/** Release the node clients of @c (calls must have ended). */
void tl_client_close(struct tl_client *c);

/** Add the nodes of @m that @c lacks (or knew without an address) to the
 * configuration and open clients for them; ids in between get
 * placeholders. Returns how many nodes were learned. Thread-safe. */
uint32_t tl_client_add_nodes(struct tl_client *c, const Talus__ClusterMap *m);

/** Seed the known leaders from the shard records of @m (and its meta
 * leader) where none is known yet. Cannot fail. */
void tl_client_seed_leaders(struct tl_client *c, const Talus__ClusterMap *m);

/** Record that node @id leads @group, as someone who knows says (e.g. a
 * node's own raft view), logged as @why. Cannot fail. */
void tl_client_note_leader(struct tl_client *c, uint32_t group, uint32_t id,
                           const char *why);

/** The node believed to lead @group: the last one seen leading it, else
 * its preferred leader. Cannot fail. */
uint32_t tl_client_leader(const struct tl_client *c, uint32_t group);

/** The RPC client of node @id (1..cfg->n_nodes), borrowed from @c. */
struct tl_rpc_client *tl_client_node(struct tl_client *c, uint32_t id);

/** Whether retries pass over node @id at time @now. Cannot fail. */
bool tl_client_node_down(const struct tl_client *c, uint32_t id, int64_t now);

/** Milliseconds on the monotonic clock. Cannot fail. */
int64_t tl_client_now_ms(void);

/** The deadline of a call started now without one of its own: now plus
 * TL_CLIENT_RETRY_BUDGET_MS, or request_timeout_ms with one replica per
 * group. Cannot fail. */
int64_t tl_client_default_deadline(const struct tl_client *c);

/** The kind of @req for retries: scans and status are TL_CLIENT_READ, a
 * WriteBatch with a request id (or a modify with one) TL_CLIENT_WRITE,
 * anything else TL_CLIENT_MODIFY. Cannot fail. */
enum tl_client_op tl_client_op_of(const Talus__Request *req);

/** Start the retry state @t of a call of kind @op to @group that may
 * last until @deadline_ms (tl_client_now_ms() clock). The first attempt
 * goes to the group's known leader. Cannot fail. */
void tl_client_retry_init(struct tl_client *c, struct tl_client_retry *t,
                          uint32_t group, enum tl_client_op op,
                          int64_t deadline_ms);

/** The client for the attempt @t is about to make, and in *@timeout_ms
 * the time it may take: t->attempt_ms (request_timeout_ms if 0), or what
 * is left before the deadline if less. NULL when the deadline has passed
 * (the caller then treats the call as TL_CLIENT_FAILED). Thread-safe. */
struct tl_rpc_client *tl_client_retry_client(struct tl_client *c,
                                             struct tl_client_retry *t,
                                             int *timeout_ms);

/** Judge the attempt @t made: @rv from tl_rpc_call_wait and its @resp
 * (may be NULL; borrowed). Updates the shared leader of the group (a
 * success confirms the node, a hint names another). On TL_CLIENT_RETRY
 * the caller frees @resp and sends the same request (same request id) to
 * tl_client_retry_client() no earlier than t->next_at_ms. Thread-safe. */
enum tl_client_verdict tl_client_retry_next(struct tl_client *c,
                                            struct tl_client_retry *t, int rv,
                                            const Talus__Response *resp);

/** The report of a call that failed (TL_CLIENT_FAILED, or an expired
 * deadline): 57014 if no attempt could be made in time, 08007
 * "transaction resolution unknown" when a write may have been applied
 * (returns TL_ETIMEOUT); when some attempt reached a node that did not
 * answer in time and the latest one did not find the group without a
 * leader (a leader busy or stuck, not an election), 57014 "canceling
 * statement due to statement timeout" under a statement_timeout, else
 * 08006 "shard S did not answer in time" (returns TL_ETIMEOUT);
 * otherwise no leader was known (returns TL_EUNAVAILABLE): 40001 "could
 * not reach the leader of shard S" with a hint to retry, or with one
 * replica per group 08006 "shard S is unavailable"; TL_ESTALE with 42P01
 * when the table was dropped or recreated meanwhile. @err may be NULL. */
int tl_client_retry_error(const struct tl_client *c,
                          const struct tl_client_retry *t,
                          struct tl_error *err);

/** Fill @err with the report of a call to @group that reached no leader
 * and applied nothing (40001, or 08006 with one replica per group, as
 * tl_client_retry_error() says). Returns TL_EUNAVAILABLE. */
int tl_client_unavailable_error(const struct tl_client *c, uint32_t group,
                                struct tl_error *err);

/** Send @req (borrowed; its request id is kept on every attempt) to the
 * group of @t (started by tl_client_retry_init(), with table_id,
 * attempt_ms and stmt_deadline set as wanted) and wait for the reply,
 * following leaders and retrying until t->deadline_ms. Each attempt tells
 * the node how long it is waited for (Request.timeout_ms). 0 with *@resp
 * (owned by the caller; may hold an Error reply: the group's answer), or,
 * with *@resp NULL, TL_ETIMEOUT when a write may have been applied,
 * TL_ESTALE when the table is gone, TL_ESHUTDOWN when stop_cb said so,
 * else TL_EUNAVAILABLE (nothing applied), or another code from
 * tl_rpc_call_wait; tl_client_retry_error(@t) then says why. */
int tl_client_call(struct tl_client *c, struct tl_client_retry *t,
                   const Talus__Request *req, Talus__Response **resp);

#endif
