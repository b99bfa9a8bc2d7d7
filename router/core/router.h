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
#include "common/client/client.h"
#include "rpc.h"

struct catalog;        /* router/core/catalog.h */
struct sequences;      /* router/core/sequences.h */
struct tso_client;     /* router/core/tso_client.h */
struct incarnation;    /* router/core/incarnation.h */
struct backends;       /* router/session/backends.h */
struct router_metrics; /* router/core/router_metrics.h */
struct roles;          /* router/core/roles.h */
struct tls_server;     /* router/wire/tls.h */

/* Defaults of struct router_limits (router_init()). The startup timeout
 * is PostgreSQL's authentication_timeout idea, shorter: a client that
 * needs more than 10 s to send a startup packet is not a client. */
#define ROUTER_STARTUP_TIMEOUT_MS 10000
#define ROUTER_MESSAGE_TIMEOUT_MS 60000
#define ROUTER_SORT_MAX_BYTES ((size_t)64 << 20)

/* Limits a router enforces on its clients, set from the command line
 * before the first connection and read-only afterwards. */
struct router_limits {
    int startup_timeout_ms; /* to finish the startup phase */
    int message_timeout_ms; /* a begun message must arrive whole in this */
    size_t sort_max_bytes;  /* rows an ORDER BY may hold at the router */
};

struct router {
    /* Nodes may be added at run time (router_learn_nodes()): the cluster
     * client fills a new node's entry and client before cfg.n_nodes grows
     * (a release store); see common/client/client.h. */
    struct tl_cluster_config cfg;
    /* Node clients, the known leader of each shard, retries: every call to
     * a shard or the meta group goes through it (router_int.h). Its hooks
     * learn nodes from the registry, reload the catalog after a stale-map
     * refusal and stamp each attempt with the catalog version. */
    struct tl_client client;
    /* Where to ask for the cluster map: --join's list (may be empty: then
     * the configured nodes). */
    char join[1024];
    pthread_mutex_t map_mu; /* serializes router_learn_nodes() */
    int64_t map_at_ms;      /* last fetch (router_now_ms), under map_mu */
    struct catalog *catalog;
    struct sequences *sequences; /* cached blocks of sequence values */
    struct roles *roles;         /* cached roles, for authentication */
    /* Client TLS (ssl = on|required in the cluster file): set by main()
     * before the first connection, NULL when off; its certificate is
     * reloaded on SIGHUP (tls.h). */
    struct tls_server *tls;
    /* The secret mock authentication derives an unknown role's salt
     * from when the cluster's (roles_mock_secret()) cannot be read:
     * random per router process (router_init()). */
    uint8_t auth_secret[32];
    struct tso_client *tso; /* batched timestamps of the oracle */
    /* This router's record in the meta group (incarnation_start() from
     * main(); NULL in unit tests and until then). */
    struct incarnation *incarnation;
    /* Client connections: slots, cancel keys. Created by main() before
     * the first connection (NULL in unit tests: no limits, no cancel). */
    struct backends *backends;
    struct router_limits limits;
    /* --router-id, else random: names its record in the meta group, and
     * goes into row ids and backend keys. Set before the first
     * connection, read-only afterwards. */
    uint32_t router_id;
    atomic_uint_fast64_t n_queries;
    /* The series of /metrics (router_metrics_create() from main() before
     * the first connection; NULL in unit tests: nothing is counted). */
    struct router_metrics *metrics;
};

/** Connect the cluster client to every node of @cfg (copied) and create
 * the catalog cache (loaded lazily on first use). Nodes need not be up.
 * TL_EINVAL for a bad address. */
int router_init(struct router *r, const struct tl_cluster_config *cfg);

/** Fetch the cluster map (from r->join, then every known node) and add
 * the nodes it lists that this router does not know (or knew without an
 * address); seed the leader of each shard nobody named yet from its
 * record's hint. At most once per @min_interval_ms (0: always); several
 * threads may call it, one fetches. 0, or TL_EUNAVAILABLE when no node
 * answered. */
int router_learn_nodes(struct router *r, int min_interval_ms);

/** Seed the known leaders from the shard records of @m (a ClusterMap)
 * where none is known yet (tl_client_seed_leaders()). Cannot fail. */
void router_seed_leaders(struct router *r, const Talus__ClusterMap *m);

/** Release everything router_init() made, and stop r->incarnation if it
 * was started (logs the retry and timestamp counters). */
void router_close(struct router *r);

/** The client for the node believed to lead @shard: the last leader a
 * node named, else the preferred one. Cannot fail. */
struct tl_rpc_client *router_shard_client(struct router *r, uint32_t shard);

#endif
