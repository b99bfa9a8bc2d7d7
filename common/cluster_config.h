/* cluster_config — the cluster's static configuration, in one place.
 *
 * The catalog and the node registry live in a replicated meta group
 * (raft group TL_META_GROUP, hosted like a shard). The nodes of the first
 * start read this text file; the meta leader copies its settings, the
 * initial placement and the initial nodes into the registry, and routers,
 * shardctl and nodes added later build the same struct from a ClusterMap
 * instead (common/cluster_map.h, tl_cluster_map_to_config()):
 *
 *     # talus cluster
 *     shards = 6
 *     replicas = 1
 *     request_timeout_ms = 5000
 *     router.listen = 127.0.0.1:5433
 *     node.1.rpc = 127.0.0.1:7101
 *     node.1.raft = 127.0.0.1:7201
 *     node.1.dir = data/node1
 *     node.1.admin = 127.0.0.1:9101   # optional: /health, /ready, /metrics
 *     node.2.rpc = ...
 *     router.admin = 127.0.0.1:9201   # optional
 *
 *     replicas = 3             # R: voters per shard
 *     initial_nodes = 3        # M: nodes that host shards at first start
 *     election_timeout_ms = 1000
 *     heartbeat_ms = 100
 *     max_entry_bytes = 8388608  # a statement's write to one shard
 *     gc_window_ms = 600000    # MVCC history kept for time travel
 *
 *     ssl = on                 # client TLS: off (default), on, required
 *     ssl_cert_file = certs/server.crt
 *     ssl_key_file = certs/server.key
 *     ssl_ca_file = certs/ca.crt   # optional: client certificates
 *     auth.10 = trust 127.0.0.1/32 all   # common/auth_rule.h
 *     auth.20 = scram-sha-256 all all
 *
 * Node ids are 1..n and dense. Initial placement: the k-th replica
 * (k = 0..R-1) of shard s lives on node ((s + k) mod M) + 1, so no node
 * holds two replicas of a shard and the first replica (the preferred
 * leader) rotates over the nodes. tl_cluster_shard_replicas() is the only
 * place that decides it; tl_cluster_shard_node() is the first replica.
 * The meta group (group id TL_META_GROUP, never a shard: shards are at
 * most TL_META_GROUP, ids 0..TL_META_GROUP - 1, more is rejected) has
 * min(TL_META_REPLICAS, M) voters, nodes 1..min(3, M), node 1 preferred;
 * tl_cluster_shard_replicas() and tl_cluster_shard_node() answer for it too.
 * After its first start a node trusts only the set of shards it persisted
 * (membership changes edit it), not this placement. */
#ifndef TL_CLUSTER_CONFIG_H
#define TL_CLUSTER_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_rule.h"

#define TL_MAX_NODES 64
#define TL_MAX_SHARDS 1024
#define TL_ADDR_MAX 128
/** Raft group id of the meta group (the cluster catalog). */
#define TL_META_GROUP (TL_MAX_SHARDS - 1)
/** Voters of the meta group, at most (fewer with fewer initial nodes). */
#define TL_META_REPLICAS 3

struct tl_node_config {
    uint32_t id;
    char rpc_addr[TL_ADDR_MAX];  /* host:port of the nng RPC listener */
    char raft_addr[TL_ADDR_MAX]; /* host:port of the raft listener */
    char dir[PATH_MAX];          /* data directory */
    /* host:port of the admin HTTP server (/health, /ready, /metrics;
     * common/admin/admin_http.h), "" for none; --admin-addr overrides. */
    char admin_addr[TL_ADDR_MAX];
};

#define TL_MAX_ENTRY_BYTES_DEFAULT (8u << 20)
#define TL_MAX_ENTRY_BYTES_MIN (64u << 10)
#define TL_MAX_ENTRY_BYTES_MAX (256u << 20)

/* ssl = off | on | required. Read from files only. */
enum tl_ssl_mode {
    TL_SSL_OFF = 0,
    TL_SSL_ON = 1,      /* TLS offered: SSLRequest answered 'S' */
    TL_SSL_REQUIRED = 2 /* and a connection without it is refused */
};

struct tl_cluster_config {
    uint32_t n_shards;
    uint32_t n_replicas;
    uint32_t n_initial_nodes;     /* M; 0 in the file means n_nodes */
    uint32_t request_timeout_ms;  /* router -> node, per request */
    uint32_t election_timeout_ms; /* raft election timeout (1000) */
    uint32_t heartbeat_ms;        /* raft heartbeat (100) */
    /* The largest write one shard takes in one raft entry (what a
     * statement writes to one shard is one entry, applied atomically):
     * larger writes are refused with 54000 before anything is written. */
    uint32_t max_entry_bytes;
    /* How much MVCC history GC keeps (ms; 2000..): reads as of a time
     * inside it work, older versions are collected (node/meta/gc.c). */
    uint32_t gc_window_ms;
    char router_listen[TL_ADDR_MAX];
    /* The first router's admin HTTP address ("router.admin"), "" for
     * none; a router started with --config serves it unless
     * --admin-addr says otherwise. */
    char router_admin[TL_ADDR_MAX];
    /* Client security of the routers (router/wire/tls.h, common/
     * auth_rule.h): only a router that reads the file has them; a router
     * that only joins has ssl off and the default auth rules. */
    uint8_t ssl_mode; /* enum tl_ssl_mode */
    char ssl_cert_file[PATH_MAX];
    char ssl_key_file[PATH_MAX];
    char ssl_ca_file[PATH_MAX]; /* "" when none */
    uint32_t n_auth_rules;      /* 0: the default rules */
    struct tl_auth_rule auth_rules[TL_MAX_AUTH_RULES]; /* by number */
    uint32_t n_nodes;
    struct tl_node_config nodes[TL_MAX_NODES]; /* nodes[i].id == i + 1 */
};

/** Defaults: 6 shards, 1 replica, initial_nodes = every node, 5000 ms
 * requests, 1000 ms election timeout, 100 ms heartbeat, 8 MiB raft
 * entries (TL_MAX_ENTRY_BYTES_DEFAULT), router on
 * 127.0.0.1:5433, no nodes. Cannot fail. */
void tl_cluster_config_defaults(struct tl_cluster_config *c);

/** The size of the raft entry that carries a packed WriteBatch of
 * @packed bytes (an 8-byte frame header, padded to a multiple of 8:
 * node/replica/fsm.h, fsm_entry_encode). Cannot fail. */
size_t tl_cluster_entry_bytes(size_t packed);

struct tl_error;
/** Fill @err with 54000 for a write of @len entry bytes to @shard over
 * the limit @max (max_entry_bytes), with a detail and a hint; returns
 * TL_ETOOBIG. */
int tl_cluster_entry_too_large(uint32_t shard, size_t len, uint32_t max,
                               struct tl_error *err);

/** Read the file at @path over the defaults in *@c. TL_EIO if it cannot
 * be read, TL_EINVAL for a malformed or inconsistent file (also ssl on
 * without ssl_cert_file and ssl_key_file, or an auth.N given twice);
 * @errbuf then says which line and why. Auth rules end sorted by N. */
int tl_cluster_config_load(const char *path, struct tl_cluster_config *c,
                           char *errbuf, size_t errlen);

/** Preferred leader (1-based node id) of shard @shard: its first replica
 * in the initial placement. With one replica, the node that hosts it.
 * Cannot fail. */
uint32_t tl_cluster_shard_node(const struct tl_cluster_config *c,
                               uint32_t shard);

/** The initial replicas of @shard, preferred leader first: node
 * ((shard + k) mod M) + 1 for k = 0..R-1, written to @ids (at most @max).
 * Returns the number written (min(R, max)). Cannot fail. */
int tl_cluster_shard_replicas(const struct tl_cluster_config *c, uint32_t shard,
                              uint32_t *ids, uint32_t max);

/** Voters of the meta group: min(TL_META_REPLICAS, initial nodes). Cannot
 * fail. */
uint32_t tl_cluster_meta_replicas(const struct tl_cluster_config *c);

/** The node with @id, or NULL. */
const struct tl_node_config *tl_cluster_node(const struct tl_cluster_config *c,
                                             uint32_t id);

/** Split "host:port" into @host (size @hostlen) and *@port. TL_EINVAL if
 * malformed. */
int tl_addr_split(const char *addr, char *host, size_t hostlen, uint16_t *port);

#endif
