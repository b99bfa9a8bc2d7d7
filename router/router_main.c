/* talus-router — accepts PostgreSQL clients and runs a session thread for
 * each (a PostgreSQL backend is a process per connection; here it is a
 * detached thread).
 *
 * The main thread only accepts. SIGTERM/SIGINT wake it through a
 * self-pipe; it then stops accepting, removes the router's record from the
 * meta group (router/core/incarnation.h) and exits: sessions may be
 * mid-query, and a client sees its connection close as it would when a
 * PostgreSQL server shuts down immediately. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cluster_config.h"
#include "cluster_map.h"
#include "common/admin/admin_http.h"
#include "common/admin/metrics.h"
#include "crash.h"
#include "log.h"
#include "router/core/catalog.h"
#include "router/core/incarnation.h"
#include "router/core/router.h"
#include "router/core/router_metrics.h"
#include "router/session/backends.h"
#include "router/session/session.h"
#include "router/wire/tls.h"
#include "tl_error.h"

#define MOD "router"

/* Connection threads beyond the session and startup slots (backends.h)
 * are there to read a startup packet and answer FATAL 53300 as PostgreSQL
 * does; past this many such threads at once a connection is simply
 * closed. */
#define MAX_REJECTING 64
/* Default slots for connections still in the startup phase. */
#define DEFAULT_MAX_STARTUP 64

/* Static so that it stays reachable (for LeakSanitizer) when the process
 * exits while sessions still use it. */
static struct router router;
static struct tl_cluster_config cfg;
/* The registry behind /metrics and the admin server; static for the same
 * reason (the process exits with them in use). */
static struct tl_metrics *metrics;
static struct tl_admin *admin;

static atomic_int n_threads;   /* connection threads, but rejecting ones */
static atomic_int n_rejecting; /* threads that only answer 53300 */
static int signal_pipe[2] = {-1, -1};

struct conn_arg {
    int fd;
    bool reject;
    struct backend be; /* registered by the accept loop unless reject */
};

/* Parse @s as a decimal in [@lo, @hi] into *@out: 0, or -1. */
static int
parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: talus-router (--join HOST:PORT[,HOST:PORT...] | "
               "--config FILE)\n"
               "                    [--listen host:port] "
               "[--log-level debug|info|warn|error]\n"
               "                    [--max-connections N] "
               "[--superuser-reserved-connections N]\n"
               "                    [--superuser NAME] [--max-startup N]\n"
               "                    [--startup-timeout-ms MS] "
               "[--message-timeout-ms MS]\n"
               "                    [--sort-max-bytes N] [--router-id N]\n"
               "                    [--admin-addr host:port]\n"
               "--join asks the first node that answers for the cluster map "
               "(nodes, shards,\nsettings); --config reads a cluster "
               "file (with --join too: then only its\nclient security "
               "settings, ssl and auth rules). SIGHUP reloads the TLS\n"
               "certificate and key. --router-id (1..4294967295, "
               "default\nrandom) names the "
               "router's record in the meta group; a restart with the same\n"
               "id takes a new incarnation. --admin-addr serves /health, "
               "/ready and /metrics\nover HTTP (default: the file's "
               "router.admin, else none).\n");
}

static void
on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;

    (void)!write(signal_pipe[1], &b, 1);
    errno = saved;
}

static int
install_signals(void)
{
    struct sigaction sa;

    if (pipe2(signal_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    return 0;
}

/* Bind and listen on @addr ("host:port"); *@fd is the socket and @shown
 * the address actually bound (port 0 picks a free port). 0 or -1, logged
 * once here. */
static int
open_listener(const char *addr, int *fd, char *shown, size_t shown_len)
{
    char host[TL_ADDR_MAX];
    char port_s[8];
    uint16_t port;
    struct addrinfo hints, *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int one = 1;
    int s = -1;
    int rv;

    if (tl_addr_split(addr, host, sizeof(host), &port) != 0) {
        tl_error(MOD,
                 "event=listen_failed listen=%s error=\"malformed "
                 "address, expected host:port\"",
                 addr);
        return -1;
    }
    snprintf(port_s, sizeof(port_s), "%u", port);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rv = getaddrinfo(host[0] ? host : NULL, port_s, &hints, &ai);
    if (rv != 0) {
        tl_error(MOD, "event=listen_failed listen=%s error=\"%s\"", addr,
                 gai_strerror(rv));
        return -1;
    }
    s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (s < 0)
        goto err;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(s, ai->ai_addr, ai->ai_addrlen) != 0 || listen(s, 512) != 0)
        goto err;
    freeaddrinfo(ai);

    if (getsockname(s, (struct sockaddr *)&ss, &sl) == 0) {
        char h[INET6_ADDRSTRLEN], p[NI_MAXSERV];
        if (getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p, sizeof(p),
                        NI_NUMERICHOST | NI_NUMERICSERV) == 0)
            snprintf(shown, shown_len, "%s:%s", h, p);
        else
            snprintf(shown, shown_len, "%s", addr);
    }
    *fd = s;
    return 0;

err:
    tl_error(MOD, "event=listen_failed listen=%s error=\"%s\"", addr,
             strerror(errno));
    if (s >= 0)
        close(s);
    freeaddrinfo(ai);
    return -1;
}

static void *
run_connection(void *p)
{
    struct conn_arg a = *(struct conn_arg *)p;

    router_metrics_connection(&router, 1);
    /* Parsing and planning recurse: an overflow here is logged too. */
    tl_crash_thread_init();
    if (a.reject) {
        free(p);
        session_run(&router, a.fd, true);
    } else {
        /* The table links the backend itself: it stays where it is. */
        session_run_started(&router, &((struct conn_arg *)p)->be);
        free(p);
    }
    router_metrics_connection(&router, -1);
    atomic_fetch_sub(a.reject ? &n_rejecting : &n_threads, 1);
    return NULL;
}

/* Start a detached thread for @fd, with the termination signals blocked
 * so that they always reach the main thread. */
static void
start_connection(int fd, bool reject)
{
    struct conn_arg *a = malloc(sizeof(*a));
    pthread_attr_t attr;
    pthread_t t;
    sigset_t block, old;
    int rv;

    if (a == NULL) {
        close(fd);
        return;
    }
    memset(a, 0, sizeof(*a));
    a->fd = fd;
    a->reject = reject;
    a->be.fd = fd;
    atomic_init(&a->be.cancel, false);
    /* Registered here, in accept order: evictions then take the oldest
     * connection for sure, whatever order the threads start in. */
    if (!reject)
        backends_start(router.backends, &a->be);
    atomic_fetch_add(reject ? &n_rejecting : &n_threads, 1);
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    rv = pthread_create(&t, &attr, run_connection, a);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rv != 0) {
        tl_warn(MOD, "event=thread_create_failed error=\"%s\"", strerror(rv));
        atomic_fetch_sub(reject ? &n_rejecting : &n_threads, 1);
        if (!reject)
            backends_leave(router.backends, &a->be);
        free(a);
        close(fd);
    }
}

static void
tune_socket(int fd)
{
    int one = 1;

    /* Small request/response messages: do not wait for Nagle. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
}

/* Accept until a termination signal arrives; returns the signal. */
static int
accept_loop(int lfd, int max_threads)
{
    struct pollfd pf[2] = {{.fd = lfd, .events = POLLIN},
                           {.fd = signal_pipe[0], .events = POLLIN}};

    for (;;) {
        int fd;

        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            tl_error(MOD, "event=poll_failed error=\"%s\"", strerror(errno));
            return 0;
        }
        if (pf[1].revents & POLLIN) {
            unsigned char sig = 0;
            (void)!read(signal_pipe[0], &sig, 1);
            if (sig != SIGHUP)
                return sig;
            /* SIGHUP: new connections get the certificate and key as
             * the files now hold them (PostgreSQL reloads them too). */
            char errbuf[512];
            if (router.tls != NULL &&
                tls_server_reload(router.tls, errbuf, sizeof(errbuf)) != 0)
                tl_error(MOD, "event=tls_reload_failed error=\"%s\"", errbuf);
            continue;
        }
        if (!(pf[0].revents & POLLIN))
            continue;
        fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM) {
                /* Out of descriptors: back off instead of spinning on a
                 * listener that stays readable. */
                struct timespec ts = {0, 100 * 1000 * 1000};
                tl_warn(MOD, "event=accept_failed error=\"%s\"",
                        strerror(errno));
                nanosleep(&ts, NULL);
            }
            continue;
        }
        tune_socket(fd);
        /* Sessions and starting connections are limited by the backends
         * table (a new starting connection evicts the oldest silent one);
         * this only bounds the threads, should evicted ones be slow to
         * end. Threads that only refuse are counted apart: they must not
         * crowd out the slots of real clients. */
        if (atomic_load(&n_threads) < max_threads) {
            start_connection(fd, false);
        } else if (atomic_load(&n_rejecting) < MAX_REJECTING) {
            tl_warn(MOD,
                    "event=connection_rejected reason=too_many_threads "
                    "threads=%d",
                    atomic_load(&n_threads));
            start_connection(fd, true);
        } else {
            close(fd);
        }
    }
}

/* Build cfg from the cluster map of the first node of @join that answers,
 * retrying for a minute (the cluster may be starting too). On success
 * *@map owns the reply. */
static int
join_cluster(const char *join, Talus__Response **map)
{
    char errbuf[512] = "", used[TL_ADDR_MAX] = "";
    int rv = TL_EUNAVAILABLE;

    for (int i = 0; i < 120 && rv != 0; i++) {
        rv = tl_cluster_map_fetch(join, 2000, map, used, sizeof used, errbuf,
                                  sizeof errbuf);
        if (rv == TL_EINVAL)
            break;
        if (rv != 0) {
            if (i == 0)
                tl_warn(MOD, "event=join_waiting join=%s err=\"%s\"", join,
                        errbuf);
            usleep(500 * 1000);
        }
    }
    if (rv == 0)
        rv = tl_cluster_map_to_config((*map)->cluster_map, &cfg, errbuf,
                                      sizeof errbuf);
    if (rv != 0) {
        tl_error(MOD, "event=join_failed join=%s error=\"%s\"", join, errbuf);
        if (*map != NULL)
            talus__response__free_unpacked(*map, NULL);
        *map = NULL;
        return rv;
    }
    tl_info(MOD, "event=joined join=%s from=%s nodes=%u shards=%u", join, used,
            cfg.n_nodes, cfg.n_shards);
    return 0;
}

static bool
ready_cb(void *data, char *reason, size_t len)
{
    return router_ready(data, reason, len);
}

/* Until the router is ready (router_ready()), once a second: load the
 * catalog and learn the shards' leaders from the registry, so that /ready
 * turns true without waiting for a client's first statement. Then the
 * thread ends; traffic keeps both fresh. */
static void *
warm_up(void *arg)
{
    struct router *r = arg;
    char reason[128];

    while (!router_ready(r, reason, sizeof reason)) {
        if (!catalog_loaded(r->catalog))
            catalog_refresh(r->catalog, 0, NULL);
        router_learn_nodes(r, 1000);
        sleep(1);
    }
    tl_info(MOD, "event=admin_ready");
    return NULL;
}

/* Serve the admin HTTP plane on @addr and warm up in the background. 0,
 * or -1 (logged). */
static int
start_admin(const char *addr)
{
    char errbuf[256];
    pthread_attr_t attr;
    pthread_t t;
    sigset_t block, old;

    if (tl_admin_start(addr, metrics, ready_cb, &router, &admin, errbuf,
                       sizeof errbuf) != 0) {
        tl_error(MOD, "event=admin_failed addr=%s error=\"%s\"", addr, errbuf);
        return -1;
    }
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    if (pthread_create(&t, &attr, warm_up, &router) != 0)
        tl_warn(MOD, "event=thread_create_failed what=warm_up");
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return 0;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"join", required_argument, NULL, 'j'},
        {"listen", required_argument, NULL, 'l'},
        {"log-level", required_argument, NULL, 'L'},
        {"max-connections", required_argument, NULL, 'm'},
        {"superuser-reserved-connections", required_argument, NULL, 'R'},
        {"superuser", required_argument, NULL, 'U'},
        {"max-startup", required_argument, NULL, 'S'},
        {"startup-timeout-ms", required_argument, NULL, 'T'},
        {"message-timeout-ms", required_argument, NULL, 'M'},
        {"sort-max-bytes", required_argument, NULL, 'B'},
        {"router-id", required_argument, NULL, 'I'},
        {"admin-addr", required_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    const char *join = NULL;
    Talus__Response *map = NULL;
    const char *listen_addr = NULL;
    const char *admin_addr = NULL;
    long max_connections = 1000;
    long reserved = 3, max_startup = DEFAULT_MAX_STARTUP;
    long startup_timeout_ms = ROUTER_STARTUP_TIMEOUT_MS;
    long message_timeout_ms = ROUTER_MESSAGE_TIMEOUT_MS;
    long sort_max_bytes = (long)ROUTER_SORT_MAX_BYTES;
    long router_id = 0;
    const char *superuser = "talus";
    char errbuf[256] = "";
    char shown[TL_ADDR_MAX + 64];
    int lfd = -1;
    int opt;
    int sig;

    /* First, before any thread starts: a crash must leave a line in the
     * log (common/crash.h). */
    tl_crash_install("talus-router");
    while ((opt = getopt_long(argc, argv, "c:j:l:L:m:R:U:S:T:M:B:I:A:h", opts,
                              NULL)) != -1) {
        char *end;
        int level;

        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case 'j':
            join = optarg;
            break;
        case 'l':
            listen_addr = optarg;
            break;
        case 'L':
            level = tl_log_level_parse(optarg);
            if (level < 0) {
                fprintf(stderr, "talus-router: unknown log level '%s'\n",
                        optarg);
                return 2;
            }
            tl_log_set_level(level);
            break;
        case 'm':
            errno = 0;
            max_connections = strtol(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || max_connections < 1 ||
                max_connections > 1000000) {
                fprintf(stderr, "talus-router: bad --max-connections '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'R':
            if (parse_long(optarg, 0, 1000000, &reserved) != 0) {
                fprintf(stderr,
                        "talus-router: bad --superuser-reserved-connections "
                        "'%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'U':
            if (strlen(optarg) == 0 || strlen(optarg) >= 64) {
                fprintf(stderr, "talus-router: bad --superuser '%s'\n", optarg);
                return 2;
            }
            superuser = optarg;
            break;
        case 'S':
            if (parse_long(optarg, 1, 1000000, &max_startup) != 0) {
                fprintf(stderr, "talus-router: bad --max-startup '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'T':
            if (parse_long(optarg, 1, 3600000, &startup_timeout_ms) != 0) {
                fprintf(stderr, "talus-router: bad --startup-timeout-ms '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'M':
            if (parse_long(optarg, 1, 3600000, &message_timeout_ms) != 0) {
                fprintf(stderr, "talus-router: bad --message-timeout-ms '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'B':
            if (parse_long(optarg, 1, LONG_MAX, &sort_max_bytes) != 0) {
                fprintf(stderr, "talus-router: bad --sort-max-bytes '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'I':
            if (parse_long(optarg, 1, (long)UINT32_MAX, &router_id) != 0) {
                fprintf(stderr, "talus-router: bad --router-id '%s'\n", optarg);
                return 2;
            }
            break;
        case 'A':
            if (strlen(optarg) >= TL_ADDR_MAX) {
                fprintf(stderr, "talus-router: bad --admin-addr '%s'\n",
                        optarg);
                return 2;
            }
            admin_addr = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (reserved >= max_connections) {
        /* PostgreSQL refuses to start with this too. */
        fprintf(stderr, "talus-router: --superuser-reserved-connections "
                        "must be less than --max-connections\n");
        return 2;
    }
    if ((config_path == NULL && join == NULL) || optind != argc ||
        (join != NULL && strlen(join) >= sizeof(router.join))) {
        usage(stderr);
        return 2;
    }

    tl_cluster_config_defaults(&cfg);
    if (config_path != NULL && tl_cluster_config_load(config_path, &cfg, errbuf,
                                                      sizeof(errbuf)) != 0) {
        tl_error(MOD, "event=config_failed path=%s error=\"%s\"", config_path,
                 errbuf);
        return 1;
    }
    if (join != NULL) {
        /* With both, the cluster comes from the map and only the client
         * security settings (ssl, auth rules) from the file. */
        static struct tl_cluster_config file;
        file = cfg;
        if (join_cluster(join, &map) != 0)
            return 1;
        if (config_path != NULL) {
            cfg.ssl_mode = file.ssl_mode;
            memcpy(cfg.ssl_cert_file, file.ssl_cert_file,
                   sizeof(cfg.ssl_cert_file));
            memcpy(cfg.ssl_key_file, file.ssl_key_file,
                   sizeof(cfg.ssl_key_file));
            memcpy(cfg.ssl_ca_file, file.ssl_ca_file, sizeof(cfg.ssl_ca_file));
            cfg.n_auth_rules = file.n_auth_rules;
            memcpy(cfg.auth_rules, file.auth_rules, sizeof(cfg.auth_rules));
        }
    }
    if (listen_addr != NULL) {
        if (strlen(listen_addr) >= sizeof(cfg.router_listen)) {
            tl_error(MOD, "event=config_failed error=\"--listen too long\"");
            return 1;
        }
        snprintf(cfg.router_listen, sizeof(cfg.router_listen), "%s",
                 listen_addr);
    }
    if (install_signals() != 0) {
        tl_error(MOD, "event=signal_setup_failed error=\"%s\"",
                 strerror(errno));
        return 1;
    }
    if (router_init(&router, &cfg) != 0) {
        tl_error(MOD, "event=router_init_failed source=%s",
                 config_path != NULL ? config_path : join);
        if (map != NULL)
            talus__response__free_unpacked(map, NULL);
        return 1;
    }
    if (join != NULL)
        snprintf(router.join, sizeof(router.join), "%s", join);
    if (cfg.ssl_mode != TL_SSL_OFF &&
        tls_server_create(cfg.ssl_cert_file, cfg.ssl_key_file, cfg.ssl_ca_file,
                          &router.tls, errbuf, sizeof(errbuf)) != 0) {
        tl_error(MOD, "event=tls_failed error=\"%s\"", errbuf);
        router_close(&router);
        return 1;
    }
    if (router_id != 0)
        router.router_id = (uint32_t)router_id;
    router.limits.startup_timeout_ms = (int)startup_timeout_ms;
    router.limits.message_timeout_ms = (int)message_timeout_ms;
    router.limits.sort_max_bytes = (size_t)sort_max_bytes;
    struct backend_limits bl = {.max_connections = (int)max_connections,
                                .reserved = (int)reserved,
                                .max_startup = (int)max_startup};
    snprintf(bl.superuser, sizeof(bl.superuser), "%s", superuser);
    if (backends_create(&bl, &router.backends) != 0) {
        tl_error(MOD, "event=router_init_failed error=\"out of memory\"");
        return 1;
    }
    if (map != NULL) {
        /* Leader hints from the shard records spare the first requests
         * a hop through the preferred replica. */
        router_seed_leaders(&router, map->cluster_map);
        talus__response__free_unpacked(map, NULL);
    }
    tl_metrics_create(&metrics);
    router_metrics_create(&router, metrics);
    if (admin_addr == NULL && cfg.router_admin[0] != '\0')
        admin_addr = cfg.router_admin;
    if (admin_addr != NULL && start_admin(admin_addr) != 0) {
        router_close(&router);
        return 1;
    }
    if (open_listener(cfg.router_listen, &lfd, shown, sizeof(shown)) != 0) {
        router_close(&router);
        return 1;
    }
    if (incarnation_start(&router, shown, &router.incarnation) != 0) {
        tl_error(MOD, "event=router_init_failed error=\"cannot start the "
                      "lease thread\"");
        close(lfd);
        router_close(&router);
        return 1;
    }
    tl_info(MOD,
            "event=ready listen=%s router_id=%u max_connections=%ld "
            "reserved=%ld superuser=%s max_startup=%ld startup_timeout_ms=%ld "
            "message_timeout_ms=%ld shards=%u nodes=%u ssl=%s auth_rules=%u",
            shown, router.router_id, max_connections, reserved, superuser,
            max_startup, startup_timeout_ms, message_timeout_ms, cfg.n_shards,
            cfg.n_nodes,
            cfg.ssl_mode == TL_SSL_REQUIRED ? "required"
            : cfg.ssl_mode == TL_SSL_ON     ? "on"
                                            : "off",
            cfg.n_auth_rules);

    sig = accept_loop(lfd, (int)(max_connections + 4 * max_startup));
    close(lfd);
    tl_info(MOD, "event=shutdown signal=%s connections=%d",
            sig == SIGTERM  ? "TERM"
            : sig == SIGINT ? "INT"
                            : "none",
            atomic_load(&n_threads) + atomic_load(&n_rejecting));
    /* The record goes first: the lease thread is the router's own. */
    incarnation_stop(router.incarnation);
    router.incarnation = NULL;
    tl_admin_stop(admin);
    admin = NULL;
    /* Sessions may still be running on the router: exit without tearing
     * it down under them. */
    exit(sig != 0 ? 0 : 1);
}
