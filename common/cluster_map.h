/* cluster_map — the node registry in the meta group and the ClusterMap
 * every node answers.
 *
 * The registry lives next to the catalog in the meta group's keyspace,
 * under system table id 0 with index ids the catalog does not use
 * (router/catalog.h uses 1..4):
 *
 *   prefix(0, 16) | key(int8 id)     -> node record (talus.NodeRecord)
 *   prefix(0, 17) | key(int8 shard)  -> shard record (talus.ShardRecord);
 *                                       shard TL_META_GROUP is the meta
 *                                       group itself
 *   prefix(0, 18)                    -> cluster settings
 *                                       (talus.ClusterSettings)
 *
 * Each value is a two-column row (common/row.h): column 0 the packed
 * record as text bytes, column 1 the index id (int8), so one scan of
 * [prefix(0, 16), prefix(0, 19)) says what each row is. Registry writes
 * never change the catalog's map version: the map version says which
 * table descriptions a plan used, and leaders and replicas already reach
 * routers through not-leader hints; a router that meets a node id it does
 * not know fetches a new ClusterMap.
 *
 * Everything here is pure encoding except tl_cluster_map_fetch(), which
 * asks nodes over RPC. */
#ifndef TL_CLUSTER_MAP_H
#define TL_CLUSTER_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "cluster_config.h"
#include "talus.pb-c.h"

#define TL_REG_INDEX_NODE 16
#define TL_REG_INDEX_SHARD 17
#define TL_REG_INDEX_SETTINGS 18
#define TL_REG_INDEX_END 19
/** Index id of the catalog's map version (router/catalog.h). */
#define TL_REG_INDEX_MAP_VERSION 3

/** Append the key of record @id under @index (the settings ignore @id).
 * Cannot fail. */
void tl_reg_key(struct tl_buf *key, uint32_t index, uint32_t id);

/** Append the stored row of a record: @packed (@len bytes, copied) and
 * @index. Cannot fail. */
void tl_reg_value(struct tl_buf *row, uint32_t index, const uint8_t *packed,
                  size_t len);

/** The inclusive hash range [*lo, *hi] that shard @s of @n owns under the
 * hash vindex (tl_vindex_hash_shard: floor(h * n / 2^64) == s). Cannot
 * fail. */
void tl_reg_hash_range(uint32_t s, uint32_t n, uint64_t *lo, uint64_t *hi);

/** A scan of the meta group that reads the registry and the map version
 * (allocated in @a). Cannot fail. */
Talus__ScanFragment *tl_reg_scan(struct tl_arena *a);

/** Add the records in the rows of scan reply @resp to @m (allocated in
 * @a; records are copied). Rows that are not registry rows are skipped;
 * a record that cannot be decoded is skipped too and counted in the
 * return value. Cannot fail otherwise. */
int tl_reg_collect(const Talus__Response *resp, struct tl_arena *a,
                   Talus__ClusterMap *m);

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
