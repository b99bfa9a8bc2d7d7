/* raft_transport — many raft groups, one TCP port per node.
 *
 * Each raft group (one per shard) gets its own struct raft_uv_transport,
 * but all of them share one struct rt_listener: a single libuv TCP
 * listener on the node's raft address. An outgoing connection starts with
 * a handshake naming the group, so the listener can hand the stream to
 * the right group's raft (its accept_cb):
 *
 *     [8] magic "TLRAFT01"   [8] group id (shard)   [8] sender's raft id
 *     [8] address length n   [n] sender's raft address (no NUL)
 *
 * all integers big-endian. Connections whose group is not registered, or
 * whose handshake is malformed, are closed. Streams handed to raft (both
 * directions) are allocated with raft_malloc() because raft frees them
 * with raft_free() after closing them.
 *
 * Addresses are numeric "ipv4:port" or "[ipv6]:port": resolving names
 * would block the loop. Everything here runs on the loop thread. */
#ifndef NODE_RAFT_TRANSPORT_H
#define NODE_RAFT_TRANSPORT_H

#include <raft.h>
#include <raft/uv.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define RT_MAGIC "TLRAFT01"
#define RT_ADDR_MAX 1024

struct rt_impl;
struct rt_incoming;
struct rt_listener;

typedef void (*rt_listener_close_cb)(struct rt_listener *l);

/* The node's shared raft listener. Invariant: every group in @groups has
 * called listen() and not yet close(). */
struct rt_listener {
    void *data; /* user data */
    uv_loop_t *loop;
    uv_tcp_t tcp;
    struct rt_impl *groups;       /* registered groups (list) */
    struct rt_incoming *incoming; /* connections still handshaking */
    bool closing;
    bool tcp_closed;
    rt_listener_close_cb close_cb;
};

/** Bind and listen on @addr ("host:port") with @loop. TL_EINVAL for a bad
 * address, TL_EIO if the port cannot be bound (in use); @l is then not
 * initialised. On success close with rt_listener_close(). */
int rt_listener_init(struct rt_listener *l, uv_loop_t *loop, const char *addr);

/** Stop listening, abort handshakes in progress, and call @cb (may be
 * NULL) once all handles are closed; @l may be released after @cb. Groups
 * should have been closed first. */
void rt_listener_close(struct rt_listener *l, rt_listener_close_cb cb);

/** Initialise @t as the transport of raft group @group, served by @l
 * (borrowed: must outlive @t). TL_ENOMEM. After raft has closed the
 * transport (its close callback fired) or if raft never used it, release
 * with rt_transport_close(). */
int rt_transport_init(struct raft_uv_transport *t, struct rt_listener *l,
                      uint32_t group);

/** Free the implementation of @t. Cannot fail. */
void rt_transport_close(struct raft_uv_transport *t);

/** Parse numeric "ip:port" into @sa. TL_EINVAL if malformed. */
int rt_parse_addr(const char *addr, struct sockaddr_storage *sa);

#endif
