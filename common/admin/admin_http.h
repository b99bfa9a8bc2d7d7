/* admin_http — the admin HTTP server of a Talus process (nng's HTTP
 * server): /health, /ready and /metrics.
 *
 * - GET /health answers 200 "ok" while the process runs: nothing is
 *   checked, so an orchestrator restarts only a process that stopped
 *   answering at all.
 * - GET /ready asks the process's readiness callback: 200 "ready", or
 *   503 with the callback's reason ("not ready: ...").
 * - GET /metrics renders the registry (common/admin/metrics.h) in the
 *   Prometheus text format 0.0.4.
 *
 * Handlers run on nng's threads, several at once: the readiness callback
 * and the registry's collectors must be thread-safe and must not block
 * for long (they read atomics or take short locks). The server borrows
 * the registry and the callback's data: both must outlive
 * tl_admin_stop(). */
#ifndef TL_ADMIN_HTTP_H
#define TL_ADMIN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tl_metrics;
struct tl_admin;

/** Readiness: true when ready; otherwise false with a short reason
 * written to @reason (size @len, one line). Any nng thread. */
typedef bool (*tl_admin_ready_fn)(void *data, char *reason, size_t len);

/** Start serving on @addr ("host:port"; port 0 picks a free one) with the
 * registry @metrics (borrowed) and @ready(@ready_data) (NULL: always
 * ready). Also registers the process metrics (process_resident_memory_
 * bytes, process_open_fds, process_start_time_seconds) in @metrics. On
 * success *@out owns the server (tl_admin_stop()); TL_EINVAL for a bad
 * address, TL_EIO when it cannot listen, with @errbuf saying why; *@out
 * is then untouched. */
int tl_admin_start(const char *addr, struct tl_metrics *metrics,
                   tl_admin_ready_fn ready, void *ready_data,
                   struct tl_admin **out, char *errbuf, size_t errlen);

/** The port the server listens on (the one chosen for port 0). */
uint16_t tl_admin_port(const struct tl_admin *a);

/** Stop serving (requests in flight finish first) and free @a. NULL is a
 * no-op. */
void tl_admin_stop(struct tl_admin *a);

/** Register the process metrics in @reg (tl_admin_start() does): a
 * collector reads /proc/self/statm and counts /proc/self/fd at each
 * scrape. Cannot fail. */
void tl_procstat_register(struct tl_metrics *reg);

#endif
