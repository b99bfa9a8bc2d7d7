/* registry — this node's part of the node registry in the meta group,
 * on a thread of its own (registry.c says how), and the addresses of
 * nodes beyond the configuration it learns. */
#ifndef NODE_META_REGISTRY_H
#define NODE_META_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "node/meta/node_meta.h"
#include "talus.pb-c.h"
#include "tl_error.h"

/** Start the registry thread: registers this node, bootstraps the
 * registry (as meta leader) and keeps the records of the groups this node
 * leads current, never on the loop. TL_EIO. */
int registry_start(struct node_meta *m);
/** Ask the registry thread to stop, without waiting. Any thread. */
void registry_request_stop(struct node_meta *m);
/** Stop and join the registry thread. Safe if never started. */
void registry_stop(struct node_meta *m);
/** registry_stop(), then free the registry. Safe if never started. */
void registry_destroy(struct node_meta *m);
/** The rpc (or, with @raft, raft) address of node @id: the configuration
 * first, else the registry's cache. TL_ENOTFOUND when neither knows it.
 * Any thread. */
int registry_node_addr(struct node_meta *m, uint32_t id, bool raft, char *out,
                       size_t len);
/** The highest node id known (configuration or registry). Any thread. */
uint32_t registry_max_node(struct node_meta *m);
/** Answer a ClusterMapRequest (worker thread): resp->cluster_map, or
 * *@code and @err when the registry is unreachable and not cached. */
void registry_serve(struct node_meta *m, const Talus__Request *req,
                    struct tl_arena *a, Talus__Response *resp,
                    struct tl_error *err, int *code);

/** Send @req to the meta group's leader (a request id is set) through
 * the registry's cluster client: 0 with *@resp (caller frees; it may
 * hold the group's own error), or a TL_E* code. Registry thread. */
int registry_meta_call(struct node_meta *m, Talus__Request *req,
                       Talus__Response **resp);
/** The cached cluster map (caller frees with
 * talus__cluster_map__free_unpacked()), or NULL. Any thread. */
Talus__ClusterMap *registry_cached_map(struct node_meta *m);

#endif
