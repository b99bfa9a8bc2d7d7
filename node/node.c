/* node — the wiring of a storage node's layers: storage (node/store), the
 * raft groups and their loop (node/replica), the executors (node/exec),
 * the registry, oracle and GC (meta), the RPC server; start-up order,
 * signals and shutdown. Each layer owns its state; this file only
 * connects them. */
#include "node.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "node/admin/node_admin.h"
#include "node/meta/gc.h"
#include "node/meta/node_meta.h"
#include "node/meta/registry.h"
#include "node/replica/replica.h"
#include "node/rpc/node_rpc.h"
#include "node/store/mvcc.h"
#include "tl_error.h"

void
node_options_defaults(struct node_options *o, uint32_t id)
{
    memset(o, 0, sizeof *o);
    o->id = id;
    o->n_workers = 16;
    o->snapshot_threshold = 1024;
    o->snapshot_trailing = 2048;
    o->election_timeout_ms = 1000;
    o->heartbeat_timeout_ms = 100;
    o->fetch_page_bytes = 1u << 20;
}

/* ---- what node/replica asks of the layers above it */

static int
lookup_node_addr(void *data, uint32_t id, bool raft, char *out, size_t len)
{
    struct node *n = data;
    return registry_node_addr(&n->meta, id, raft, out, len);
}

static uint32_t
find_max_node(void *data)
{
    struct node *n = data;
    return registry_max_node(&n->meta);
}

/* The meta group applied a catalog batch: learn its map version. */
static void
learn_catalog_batch(void *data, const Talus__WriteBatch *wb)
{
    struct node *n = data;
    node_meta_learn_catalog_batch(&n->meta, wb);
}

/* Shutdown began (loop): the registry thread stops, joined by
 * node_destroy() off the loop. */
static void
stop_registry(void *data)
{
    struct node *n = data;
    registry_request_stop(&n->meta);
}

/* Every group closed (loop): stop the RPC workers, close the signals. */
static void
stop_serving(void *data)
{
    struct node *n = data;
    rpc_server_stop(&n->rpc);
    if (n->signals_inited) {
        uv_close((uv_handle_t *)&n->sigterm, NULL);
        uv_close((uv_handle_t *)&n->sigint, NULL);
    }
}

int
node_create(const struct tl_cluster_config *cfg,
            const struct node_options *opts, struct node **out)
{
    struct replica_options ro;
    struct node *n;

    if (tl_cluster_node(cfg, opts->id) == NULL) {
        tl_error("node", "event=bad_id id=%u n_nodes=%u", opts->id,
                 cfg->n_nodes);
        return TL_EINVAL;
    }
    n = calloc(1, sizeof *n);
    if (n == NULL)
        abort();
    n->cfg = *cfg;
    n->opts.id = opts->id;
    n->opts.n_workers = opts->n_workers;
    n->opts.scan_row_delay_us = opts->scan_row_delay_us;
    n->self = tl_cluster_node(&n->cfg, opts->id);
    memset(&ro, 0, sizeof ro);
    ro.id = opts->id;
    ro.snapshot_threshold = opts->snapshot_threshold;
    ro.snapshot_trailing = opts->snapshot_trailing;
    ro.election_timeout_ms = opts->election_timeout_ms;
    ro.heartbeat_timeout_ms = opts->heartbeat_timeout_ms;
    ro.fetch_page_bytes = opts->fetch_page_bytes;
    ro.no_read_barrier = opts->no_read_barrier;
    replica_set_init(&n->rs, cfg, &ro);
    node_admin_create(&n->rs, &n->admin);
    n->rs.cb_data = n;
    n->rs.node_addr_cb = lookup_node_addr;
    n->rs.max_node_cb = find_max_node;
    n->rs.catalog_cb = learn_catalog_batch;
    n->rs.shutdown_cb = stop_registry;
    n->rs.stopped_cb = stop_serving;
    prepared_init(&n->prepared);
    node_meta_init(&n->meta, cfg, opts->id, &n->rs, opts->tso_skew_ms);
    txn_waits_init(&n->waits);
    lock_queue_init(&n->locks);
    *out = n;
    return 0;
}

/* ---- start-up */

static void
signal_cb(uv_signal_t *h, int signum)
{
    struct node *n = h->data;
    tl_info("node", "event=signal signal=%d", signum);
    replica_set_shutdown(&n->rs);
}

static void
init_signals(struct node *n)
{
    uv_signal_init(&n->rs.loop, &n->sigterm);
    n->sigterm.data = n;
    uv_signal_init(&n->rs.loop, &n->sigint);
    n->sigint.data = n;
    uv_signal_start(&n->sigterm, signal_cb, SIGTERM);
    uv_signal_start(&n->sigint, signal_cb, SIGINT);
    n->signals_inited = true;
}

static int
open_storage(struct node *n)
{
    char path[PATH_MAX + 8], errbuf[512];
    int rv;

    snprintf(path, sizeof path, "%s/db", n->self->dir);
    rv = store_open(path, NULL, 0, &n->st, errbuf, sizeof errbuf);
    if (rv != 0)
        tl_error("node", "event=storage_open_failed path=%s err=\"%s\"", path,
                 errbuf);
    if (rv == 0) {
        mvcc_gc_install(n->st); /* collects once gc.c learns a safe point */
        n->meta.st = n->st;
        gc_load(&n->meta);
    }
    return rv;
}

static int
start_rpc(struct node *n)
{
    char errbuf[512];
    int rv = rpc_server_start(&n->rpc, n->self->rpc_addr, n->opts.n_workers,
                              node_rpc_handle, n, errbuf, sizeof errbuf);
    if (rv != 0)
        tl_error("node", "event=rpc_listen_failed addr=%s err=\"%s\"",
                 n->self->rpc_addr, errbuf);
    else
        tl_info("node", "event=rpc_listening addr=%s workers=%d",
                n->self->rpc_addr, n->opts.n_workers);
    return rv;
}

/* Serve /health, /ready and /metrics when the node has an admin address
 * (node.N.admin or --admin-addr). */
static int
start_admin(struct node *n)
{
    char errbuf[256];
    int rv;

    if (n->self->admin_addr[0] == '\0')
        return 0;
    rv = node_admin_start(n->admin, n->self->admin_addr, n->st, errbuf,
                          sizeof errbuf);
    if (rv != 0)
        tl_error("node", "event=admin_failed addr=%s err=\"%s\"",
                 n->self->admin_addr, errbuf);
    return rv;
}

static int
start_all(struct node *n)
{
    int rv;

    if (store_mkdir_p(n->self->dir) != 0) {
        tl_error("node", "event=mkdir_failed path=%s err=\"%s\"", n->self->dir,
                 strerror(errno));
        return TL_EIO;
    }
    rv = open_storage(n);
    if (rv != 0)
        return rv;
    n->rs.st = n->st;
    rv = replica_set_start(&n->rs);
    if (rv != 0)
        return rv;
    rv = start_rpc(n);
    if (rv != 0)
        return rv;
    rv = start_admin(n);
    if (rv != 0)
        return rv;
    n->rs.serving = n->rpc.started;
    return registry_start(&n->meta);
}

int
node_start(struct node *n)
{
    int rv = replica_set_init_loop(&n->rs);

    if (rv != 0)
        return rv;
    init_signals(n);
    rv = start_all(n);
    if (rv != 0)
        replica_set_shutdown(&n->rs);
    return rv;
}

void
node_run(struct node *n)
{
    replica_set_run(&n->rs);
}

void
node_stop(struct node *n)
{
    replica_set_stop(&n->rs);
}

void
node_destroy(struct node *n)
{
    if (n == NULL)
        return;
    /* Scrapes read the replicas and the store: stop them first. */
    node_admin_stop(n->admin);
    replica_set_close_loop(&n->rs);
    registry_destroy(&n->meta);
    replica_set_close(&n->rs);
    store_close(n->st);
    prepared_close(&n->prepared);
    node_meta_close(&n->meta);
    txn_waits_close(&n->waits);
    lock_queue_close(&n->locks);
    /* Last: the replicas' histograms live in its registry. */
    node_admin_destroy(n->admin);
    free(n);
}
