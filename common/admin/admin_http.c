/* admin_http — /health, /ready and /metrics over nng's HTTP server
 * (admin_http.h). */
#include "common/admin/admin_http.h"

#include <arpa/inet.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cluster_config.h"
#include "common/admin/metrics.h"
#include "log.h"
#include "tl_error.h"

#define MOD "admin"

/* Set once by tl_admin_start() and read-only while the server runs (the
 * handlers only read it); the handlers own nothing. */
struct tl_admin {
    nng_http_server *srv;
    struct tl_metrics *metrics; /* borrowed */
    tl_admin_ready_fn ready;
    void *ready_data;
    uint16_t port;
};

/* Answer @aio with @status and the text @body of @len bytes. */
static void
reply(nng_aio *aio, uint16_t status, const char *ctype, const void *body,
      size_t len)
{
    nng_http_res *res;
    int rv = nng_http_res_alloc(&res);

    if (rv == 0)
        rv = nng_http_res_set_status(res, status);
    if (rv == 0)
        rv = nng_http_res_set_header(res, "Content-Type", ctype);
    if (rv == 0)
        rv = nng_http_res_copy_data(res, body, len);
    if (rv != 0) {
        if (res != NULL)
            nng_http_res_free(res);
        nng_aio_finish(aio, rv);
        return;
    }
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

static struct tl_admin *
admin_of(nng_aio *aio)
{
    return nng_http_handler_get_data(nng_aio_get_input(aio, 1));
}

static void
health_cb(nng_aio *aio)
{
    reply(aio, NNG_HTTP_STATUS_OK, "text/plain; charset=utf-8", "ok\n", 3);
}

static void
ready_cb(nng_aio *aio)
{
    struct tl_admin *a = admin_of(aio);
    char reason[256] = "", body[300];

    if (a->ready == NULL || a->ready(a->ready_data, reason, sizeof reason)) {
        reply(aio, NNG_HTTP_STATUS_OK, "text/plain; charset=utf-8", "ready\n",
              6);
        return;
    }
    int n = snprintf(body, sizeof body, "not ready: %s\n",
                     reason[0] ? reason : "unknown");
    reply(aio, NNG_HTTP_STATUS_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8",
          body, n < (int)sizeof body ? (size_t)n : sizeof body - 1);
}

static void
metrics_cb(nng_aio *aio)
{
    struct tl_admin *a = admin_of(aio);
    struct tl_buf b;

    tl_buf_init(&b);
    tl_metrics_render(a->metrics, &b);
    reply(aio, NNG_HTTP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8",
          b.len ? (const char *)b.data : "", b.len);
    tl_buf_close(&b);
}

static int
add_handler(struct tl_admin *a, const char *path, void (*cb)(nng_aio *))
{
    nng_http_handler *h;
    int rv = nng_http_handler_alloc(&h, path, cb);

    if (rv != 0)
        return rv;
    rv = nng_http_handler_set_data(h, a, NULL);
    if (rv == 0)
        rv = nng_http_server_add_handler(a->srv, h);
    if (rv != 0)
        nng_http_handler_free(h);
    return rv;
}

int
tl_admin_start(const char *addr, struct tl_metrics *metrics,
               tl_admin_ready_fn ready, void *ready_data, struct tl_admin **out,
               char *errbuf, size_t errlen)
{
    char host[TL_ADDR_MAX], url_s[TL_ADDR_MAX + 32];
    uint16_t port;
    nng_url *url = NULL;
    nng_sockaddr sa;
    struct tl_admin *a;
    int rv;

    if (strlen(addr) >= TL_ADDR_MAX ||
        tl_addr_split(addr, host, sizeof host, &port) != 0) {
        snprintf(errbuf, errlen, "admin address '%s' is not host:port", addr);
        return TL_EINVAL;
    }
    snprintf(url_s, sizeof url_s, "http://%s:%u", host[0] ? host : "0.0.0.0",
             (unsigned)port);
    a = calloc(1, sizeof *a);
    if (a == NULL)
        abort();
    a->metrics = metrics;
    a->ready = ready;
    a->ready_data = ready_data;
    tl_procstat_register(metrics);
    rv = nng_url_parse(&url, url_s);
    if (rv != 0)
        goto err;
    rv = nng_http_server_hold(&a->srv, url);
    nng_url_free(url);
    if (rv != 0)
        goto err;
    if ((rv = add_handler(a, "/health", health_cb)) != 0 ||
        (rv = add_handler(a, "/ready", ready_cb)) != 0 ||
        (rv = add_handler(a, "/metrics", metrics_cb)) != 0 ||
        (rv = nng_http_server_start(a->srv)) != 0)
        goto err_srv;
    a->port = port;
    if (nng_http_server_get_addr(a->srv, &sa) == 0 &&
        sa.s_family == NNG_AF_INET)
        a->port = ntohs(sa.s_in.sa_port);
    else if (nng_http_server_get_addr(a->srv, &sa) == 0 &&
             sa.s_family == NNG_AF_INET6)
        a->port = ntohs(sa.s_in6.sa_port);
    tl_info(MOD, "event=admin_listening addr=%s:%u", host[0] ? host : "0.0.0.0",
            (unsigned)a->port);
    *out = a;
    return 0;

err_srv:
    nng_http_server_release(a->srv);
err:
    snprintf(errbuf, errlen, "cannot serve admin HTTP on %s: %s", addr,
             nng_strerror(rv));
    free(a);
    return TL_EIO;
}

uint16_t
tl_admin_port(const struct tl_admin *a)
{
    return a->port;
}

void
tl_admin_stop(struct tl_admin *a)
{
    if (a == NULL)
        return;
    nng_http_server_stop(a->srv);
    nng_http_server_release(a->srv);
    free(a);
}
