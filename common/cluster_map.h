/* cluster_map — the ClusterMap every node answers: the node registry of
 * the meta group (node, shard and settings records and the catalog's map
 * version, read by the scan of common/meta/meta_keys.h) as one message.
 *
 * Registry writes never change the catalog's map version: the map version
 * says which table descriptions a plan used, and leaders and replicas
 * already reach routers through not-leader hints; a router that meets a
 * node id it does not know fetches a new ClusterMap.
 *
 * Everything here is pure computation except tl_cluster_map_fetch(),
 * which asks nodes over RPC. */
#ifndef TL_CLUSTER_MAP_H
#define TL_CLUSTER_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster_config.h"
#include "talus.pb-c.h"

/** The inclusive hash range [*lo, *hi] that shard @s of @n owns under the
 * hash vindex (tl_vindex_hash_shard: floor(h * n / 2^64) == s). Cannot
 * fail. */
void tl_cluster_map_hash_range(uint32_t s, uint32_t n, uint64_t *lo,
                               uint64_t *hi);

/** The node record of @id in @m, or NULL. */
const Talus__NodeRecord *tl_cluster_map_node(const Talus__ClusterMap *m,
                                             uint32_t id);
/** The shard record of @shard in @m (the meta group: TL_META_GROUP), or
 * NULL. */
const Talus__ShardRecord *tl_cluster_map_shard(const Talus__ClusterMap *m,
                                               uint32_t shard);

/** Add to *@c the nodes of @m it has no address for (a node that joined
 * after @c was made), raising n_nodes; ids in between get empty
 * addresses. Records with an id beyond TL_MAX_NODES or an oversized
 * address are skipped. Returns how many nodes were added. */
uint32_t tl_cluster_map_add_nodes(const Talus__ClusterMap *m,
                                  struct tl_cluster_config *c);

/** Fill *@c (over its current contents: call tl_cluster_config_defaults()
 * first) from @m: settings, and the addresses of every node @c has none
 * for (tl_cluster_map_add_nodes(); data directories stay empty).
 * TL_EINVAL, with @errbuf saying why, when @m has no settings or no
 * nodes. */
int tl_cluster_map_to_config(const Talus__ClusterMap *m,
                             struct tl_cluster_config *c, char *errbuf,
                             size_t errlen);

/** Ask the nodes at @addrs ("host:port[,host:port...]"), in order, for a
 * ClusterMap, each for at most @timeout_ms; the first answer with
 * settings wins. On success *@out owns the reply ((*out)->cluster_map is
 * set; free with talus__response__free_unpacked(*out, NULL)) and @used
 * (may be NULL) gets the address that answered. TL_EUNAVAILABLE when no
 * address answered, TL_EINVAL for a malformed list; @errbuf says why. */
int tl_cluster_map_fetch(const char *addrs, int timeout_ms,
                         Talus__Response **out, char *used, size_t usedlen,
                         char *errbuf, size_t errlen);

#endif
