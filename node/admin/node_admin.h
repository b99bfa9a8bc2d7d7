/* node_admin — the storage node's admin plane: its metrics registry, the
 * per-shard series read from the raft groups and RocksDB at each scrape,
 * its readiness, and the HTTP server of common/admin that serves them
 * (/health, /ready, /metrics; docs/monitoring.md lists every series).
 *
 * Threads. Scrapes and /ready run on nng's threads and never touch the
 * loop's state: they read what the replica layer publishes for any
 * thread (node/replica/replica.h): the atomics of a `struct replica`
 * (active, is_leader, leader_id, the counters, fsm.applied,
 * fsm.restoring), its `info` under `info_mu` (term, commit and last
 * index, voters; published by the loop's leader poll every 50 ms), and
 * RocksDB's in-memory properties through node/store. Replica structs are
 * never freed before replica_set_close(), which runs after
 * node_admin_stop(). Histograms are observed directly by the threads that
 * time the work (the applier, the proposing worker) into series made
 * from the families this layer gives the replica set. */
#ifndef NODE_ADMIN_NODE_ADMIN_H
#define NODE_ADMIN_NODE_ADMIN_H

#include <stddef.h>

struct node_admin;
struct replica_set;
struct store;

/** Create the node's registry and its families, and give the replica set
 * @rs (borrowed: it must outlive the result) the histogram families it
 * makes each group's series in (rs->apply_seconds, rs->propose_seconds).
 * Call before replica_set_start(). Cannot fail; release with
 * node_admin_destroy(). */
void node_admin_create(struct replica_set *rs, struct node_admin **out);

/** Serve the admin plane on @addr (host:port) over the open store @st
 * (borrowed until node_admin_stop()). TL_EINVAL / TL_EIO with @errbuf
 * saying why (common/admin/admin_http.h). */
int node_admin_start(struct node_admin *a, const char *addr, struct store *st,
                     char *errbuf, size_t errlen);

/** Stop serving (a scrape in flight finishes first). Idempotent; call
 * before the store and the replicas are closed. */
void node_admin_stop(struct node_admin *a);

/** Stop and free @a and its registry. NULL is a no-op. */
void node_admin_destroy(struct node_admin *a);

#endif
