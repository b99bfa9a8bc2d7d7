/* shardctl_int — what the shardctl source files share.
 *
 * meta.c reads and writes the catalog in the meta group (raft group
 * TL_META_GROUP) over the node RPC port, the way router/core/catalog.c
 * does, with the keys and rows of common/meta/meta_keys.h: table
 * descriptions, the map version, and the vschema entries it writes; every
 * vschema change bumps the map version in the same conditional
 * WriteBatch, like every catalog change. Every call to the meta group or
 * to a shard's leader goes through the one cluster client of this run
 * (shardctl_client(), common/client/client.h), which follows leader hints
 * and retries. */
#ifndef TL_SHARDCTL_INT_H
#define TL_SHARDCTL_INT_H

#include <stdbool.h>

#include "cluster_config.h"
#include "common/client/client.h"

/** The cluster client of this run, made on first use from @cfg (copied)
 * with the leaders the cluster map named; borrowed (shardctl_client_close()
 * releases it before exit). NULL, with a message on stderr, when it cannot
 * be made. */
struct tl_client *shardctl_client(const struct tl_cluster_config *cfg);

/** Release the client of shardctl_client(), if one was made. */
void shardctl_client_close(void);

/** `shardctl tables`: every table of the catalog. 0, or 1 (message on
 * stderr) when the meta group cannot be read. */
int shardctl_tables(const struct tl_cluster_config *cfg, bool json);

/** `shardctl vschema apply FILE | show`: @args[0] is the subcommand. 0,
 * 1 on failure (message on stderr, catalog unchanged), 2 for bad usage. */
int shardctl_vschema(const struct tl_cluster_config *cfg, int argc, char **args,
                     bool json);

/** `shardctl tso [N]`: N timestamps from the meta group's oracle. 0, 1
 * when the meta group cannot be reached (message on stderr), 2 for bad
 * usage. */
int shardctl_tso(const struct tl_cluster_config *cfg, int argc, char **args,
                 bool json);

/** `shardctl routers`: every router record of the meta group (id,
 * incarnation, address, lease left). 0, or 1 when the meta group cannot
 * be read (message on stderr). */
int shardctl_routers(const struct tl_cluster_config *cfg, bool json);

#endif
