/* gc — the GC safe point on this node: learned from the meta group and,
 * on the meta group's leader, raised there (gc.c says how). */
#ifndef NODE_GC_H
#define NODE_GC_H

#include <stddef.h>
#include <stdint.h>

struct node_meta;
struct tl_meta_router;

/** One GC round (registry thread, once a second): learn the meta
 * group's safe point into n->gc_safe_point (kept in the node's metadata)
 * and the filter floor of every data shard; as the meta group's leader,
 * first raise it. Errors are retried at the next round. */
void gc_tick(struct node_meta *n);

/** Load the safe point this node kept last (before serving reads).
 * Cannot fail (none kept: 0). */
void gc_load(struct node_meta *n);

/** The safe point the meta leader may set at wall clock @now_ms: the
 * oracle timestamp of now - @window_ms, lowered to the oldest open
 * transaction of every router in @routers alive at @now_ms and to every
 * hold (0s ignored). Cannot fail. */
uint64_t gc_compute_safe_point(int64_t now_ms, uint64_t window_ms,
                               const struct tl_meta_router *routers,
                               size_t n_routers, const uint64_t *holds,
                               size_t n_holds);

#endif
