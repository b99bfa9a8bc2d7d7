/* shardctl_int — what the shardctl source files share.
 *
 * meta.c reads and writes the catalog in the meta group (raft group
 * TL_META_GROUP) over the node RPC port, the way router/catalog.c does:
 * system keys of table id 0, one-column rows. The vschema entries live
 * there too:
 *   prefix(0, 4) | key(text table name) -> one-column row: the entry as
 *                                          compact JSON (text)
 * and every vschema change bumps the map version (prefix(0, 3)) in the
 * same conditional WriteBatch, like every catalog change. */
#ifndef TL_SHARDCTL_INT_H
#define TL_SHARDCTL_INT_H

#include <stdbool.h>

#include "cluster_config.h"

#define SHARDCTL_KEY_VSCHEMA 4 /* index id of vschema entries */

/** `shardctl tables`: every table of the catalog. 0, or 1 (message on
 * stderr) when the meta group cannot be read. */
int shardctl_tables(const struct tl_cluster_config *cfg, bool json);

/** `shardctl vschema apply FILE | show`: @args[0] is the subcommand. 0,
 * 1 on failure (message on stderr, catalog unchanged), 2 for bad usage. */
int shardctl_vschema(const struct tl_cluster_config *cfg, int argc, char **args,
                     bool json);

#endif
