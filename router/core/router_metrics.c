/* router_metrics — the router's series and its readiness
 * (router_metrics.h). */
#include "router/core/router_metrics.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/admin/metrics.h"
#include "router/core/catalog.h"
#include "router/core/router.h"
#include "router/core/router_int.h"

/* Slots of the lock-free cache of error series by SQLSTATE: more than
 * the distinct codes a router reports in practice; past it, codes are
 * looked up under the family's lock. */
#define ERROR_SLOTS 64

/* Series pointers, written by router_metrics_create() before the first
 * connection and read-only after; the error cache's slots are claimed
 * with a CAS on `key` (0: free) and published with a release store of
 * `series`. */
struct router_metrics {
    struct tl_metrics *reg; /* borrowed */
    struct tl_metric_series *connections, *connections_total;
    struct tl_metric_series *stmts[ROUTER_STMT_N];
    struct tl_metric_series *stmt_seconds[ROUTER_STMT_N];
    struct tl_metric_family *errors;
    struct {
        _Atomic uint64_t key; /* the 5 characters of the SQLSTATE */
        struct tl_metric_series *_Atomic series;
    } error_cache[ERROR_SLOTS];
    struct tl_metric_series *shard_calls, *retries, *leader_changes;
    struct tl_metric_series *catalog_reloads, *catalog_version;
};

static const char *const kind_names[ROUTER_STMT_N] = {
    "select", "insert", "update", "delete", "ddl", "other"};

/* Publish the cluster client's own counters (at each scrape). */
static void
collect(struct tl_metrics *reg, void *data)
{
    struct router *r = data;
    struct router_metrics *m = r->metrics;

    (void)reg;
    tl_metrics_counter_set(m->retries, atomic_load(&r->client.n_retries));
    tl_metrics_counter_set(m->leader_changes,
                           atomic_load(&r->client.n_leader_changes));
    tl_metrics_set(m->catalog_version, (double)catalog_version(r->catalog));
}

void
router_metrics_create(struct router *r, struct tl_metrics *reg)
{
    static const char *const kind_label[] = {"kind"};
    static const char *const code_label[] = {"sqlstate"};
    struct router_metrics *m = calloc(1, sizeof *m);
    struct tl_metric_family *f, *h;

    if (m == NULL)
        abort();
    m->reg = reg;
    m->connections =
        tl_metrics_gauge(reg, "talus_router_connections",
                         "Client connections open now (past accept).");
    m->connections_total = tl_metrics_counter(
        reg, "talus_router_connections_total", "Client connections accepted.");
    f = tl_metrics_family(reg, "talus_router_statements_total",
                          "Statements run, by kind.", TL_METRIC_COUNTER,
                          kind_label, 1, NULL, 0);
    h = tl_metrics_family(
        reg, "talus_router_statement_duration_seconds",
        "Time from a statement's start to its completion or error, by kind.",
        TL_METRIC_HISTOGRAM, kind_label, 1, NULL, 0);
    for (int k = 0; k < ROUTER_STMT_N; k++) {
        const char *v[] = {kind_names[k]};
        m->stmts[k] = tl_metrics_series(f, v);
        m->stmt_seconds[k] = tl_metrics_series(h, v);
    }
    m->errors =
        tl_metrics_family(reg, "talus_router_errors_total",
                          "ErrorResponses sent to clients, by SQLSTATE.",
                          TL_METRIC_COUNTER, code_label, 1, NULL, 0);
    m->shard_calls = tl_metrics_counter(
        reg, "talus_router_shard_calls_total",
        "Calls to a shard or the meta group (each may take several "
        "attempts).");
    m->retries = tl_metrics_counter(
        reg, "talus_router_shard_retries_total",
        "Requests sent again to a shard (another replica, a new leader, "
        "after a backoff).");
    m->leader_changes = tl_metrics_counter(
        reg, "talus_router_leader_changes_total",
        "Times the router learnt that a shard has a new leader.");
    m->catalog_reloads =
        tl_metrics_counter(reg, "talus_router_catalog_reloads_total",
                           "Times the catalog was read from the meta group.");
    m->catalog_version =
        tl_metrics_gauge(reg, "talus_router_catalog_version",
                         "Map version of the router's catalog cache.");
    r->metrics = m;
    tl_metrics_on_collect(reg, collect, r);
}

void
router_metrics_connection(struct router *r, int delta)
{
    if (r->metrics == NULL)
        return;
    tl_metrics_add(r->metrics->connections, delta);
    if (delta > 0)
        tl_metrics_inc(r->metrics->connections_total, (uint64_t)delta);
}

void
router_metrics_statement(struct router *r, enum router_stmt_kind kind,
                         double seconds)
{
    if (r->metrics == NULL || kind >= ROUTER_STMT_N)
        return;
    tl_metrics_inc(r->metrics->stmts[kind], 1);
    tl_metrics_observe(r->metrics->stmt_seconds[kind], seconds);
}

void
router_metrics_error(struct router *r, const char *sqlstate)
{
    struct router_metrics *m = r->metrics;
    uint64_t key = 0;
    char code[6];

    if (m == NULL || sqlstate == NULL || sqlstate[0] == '\0')
        return;
    snprintf(code, sizeof code, "%s", sqlstate);
    memcpy(&key, code, strlen(code));
    for (size_t i = 0, slot = key % ERROR_SLOTS; i < ERROR_SLOTS;
         i++, slot = (slot + 1) % ERROR_SLOTS) {
        uint64_t k = atomic_load(&m->error_cache[slot].key);
        if (k == 0) {
            uint64_t expect = 0;
            if (!atomic_compare_exchange_strong(&m->error_cache[slot].key,
                                                &expect, key) &&
                expect != key)
                continue; /* another code took the slot */
            k = key;
            if (expect == 0) {
                const char *v[] = {code};
                atomic_store(&m->error_cache[slot].series,
                             tl_metrics_series(m->errors, v));
            }
        }
        if (k != key)
            continue;
        struct tl_metric_series *s = atomic_load(&m->error_cache[slot].series);
        if (s == NULL)
            break; /* its first thread is publishing it: count below */
        tl_metrics_inc(s, 1);
        return;
    }
    const char *v[] = {code};
    tl_metrics_inc(tl_metrics_series(m->errors, v), 1);
}

void
router_metrics_shard_call(struct router *r)
{
    if (r->metrics != NULL)
        tl_metrics_inc(r->metrics->shard_calls, 1);
}

void
router_metrics_catalog_reload(struct router *r)
{
    if (r->metrics != NULL)
        tl_metrics_inc(r->metrics->catalog_reloads, 1);
}

bool
router_ready(struct router *r, char *reason, size_t len)
{
    int64_t now = router_now_ms();

    if (!catalog_loaded(r->catalog)) {
        snprintf(reason, len, "catalog not loaded");
        return false;
    }
    for (uint32_t s = 0; s < r->cfg.n_shards; s++) {
        uint32_t id = atomic_load(&r->client.leader[s]);
        if (id == 0) {
            snprintf(reason, len, "no known leader for shard %u", s);
            return false;
        }
        if (id <= TL_MAX_NODES &&
            atomic_load(&r->client.down_until_ms[id - 1]) > now) {
            snprintf(reason, len,
                     "the leader of shard %u (node %u) is unreachable", s, id);
            return false;
        }
    }
    return true;
}
