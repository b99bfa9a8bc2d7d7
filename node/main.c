/* talus-node — the storage node binary: CLI over node.c. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "cluster_config.h"
#include "cluster_map.h"
#include "crash.h"
#include "log.h"
#include "node.h"
#include "tl_error.h"

static void
usage(void)
{
    fprintf(
        stderr,
        "usage: talus-node [--config FILE] [--join HOST:PORT[,...]] "
        "--id N\n"
        "                  [--rpc HOST:PORT] [--raft HOST:PORT] "
        "[--dir DIR]\n"
        "                  [--log-level debug|info|warn|error] "
        "[--workers K]\n"
        "                  [--snapshot-threshold N] "
        "[--snapshot-trailing N]\n"
        "                  [--fetch-page-bytes N] "
        "[--unsafe-no-read-barrier] [--test-scan-row-delay-us N]\n"
        "                  [--test-tso-skew ID:MS] [--admin-addr HOST:PORT]\n");
}

/* Parse a positive integer option; 0 if malformed. */
static unsigned long
parse_pos(const char *s)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    return *s != '\0' && *end == '\0' ? v : 0;
}

struct args {
    const char *config, *join, *rpc, *raft, *dir, *admin;
    unsigned long id;
    long workers;
    unsigned long snap_threshold, snap_trailing, page_bytes;
    bool no_read_barrier;
    unsigned long scan_row_delay_us;
    unsigned long skew_node; /* --test-tso-skew: the node it applies to */
    long long skew_ms;
};

static int
parse_args(int argc, char **argv, struct args *a)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"id", required_argument, NULL, 'i'},
        {"log-level", required_argument, NULL, 'l'},
        {"workers", required_argument, NULL, 'w'},
        {"snapshot-threshold", required_argument, NULL, 't'},
        {"snapshot-trailing", required_argument, NULL, 'T'},
        {"fetch-page-bytes", required_argument, NULL, 'P'},
        {"unsafe-no-read-barrier", no_argument, NULL, 'U'},
        {"test-scan-row-delay-us", required_argument, NULL, 'D'},
        {"test-tso-skew", required_argument, NULL, 'S'},
        {"join", required_argument, NULL, 'j'},
        {"rpc", required_argument, NULL, 'r'},
        {"raft", required_argument, NULL, 'R'},
        {"dir", required_argument, NULL, 'd'},
        {"admin-addr", required_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    memset(a, 0, sizeof *a);
    while ((c = getopt_long(argc, argv, "c:i:l:w:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case 'i':
            a->id = parse_pos(optarg);
            break;
        case 'j':
            a->join = optarg;
            break;
        case 'r':
            a->rpc = optarg;
            break;
        case 'R':
            a->raft = optarg;
            break;
        case 'd':
            a->dir = optarg;
            break;
        case 'A':
            a->admin = optarg;
            break;
        case 'l':
            if (tl_log_level_parse(optarg) < 0) {
                fprintf(stderr, "talus-node: bad log level %s\n", optarg);
                return -1;
            }
            tl_log_set_level(tl_log_level_parse(optarg));
            break;
        case 'w':
            a->workers = (long)parse_pos(optarg);
            if (a->workers <= 0 || a->workers > 1024)
                return -1;
            break;
        case 't':
            a->snap_threshold = parse_pos(optarg);
            break;
        case 'T':
            a->snap_trailing = parse_pos(optarg);
            break;
        case 'U':
            a->no_read_barrier = true;
            break;
        case 'D':
            /* Tests only: makes scans slow without a big table. */
            a->scan_row_delay_us = parse_pos(optarg);
            if (a->scan_row_delay_us == 0 || a->scan_row_delay_us > 100000)
                return -1;
            break;
        case 'S': {
            /* Tests only: node ID's oracle clock runs MS ahead (or behind,
             * negative), the clock skew the high-water mark must absorb. */
            unsigned long id;
            long long ms;
            if (sscanf(optarg, "%lu:%lld", &id, &ms) != 2 || id == 0 ||
                ms < -86400000LL || ms > 86400000LL)
                return -1;
            a->skew_node = id;
            a->skew_ms = ms;
            break;
        }
        case 'P':
            a->page_bytes = parse_pos(optarg);
            if (a->page_bytes == 0 || a->page_bytes > (16ul << 20))
                return -1;
            break;
        default:
            return -1;
        }
    }
    return (a->config != NULL || a->join != NULL) && a->id > 0 &&
                   a->id <= TL_MAX_NODES && optind == argc
               ? 0
               : -1;
}

/* SIGTERM/SIGINT while joining (before the loop handles signals). */
static volatile sig_atomic_t join_stop;

static void
on_join_signal(int sig)
{
    (void)sig;
    join_stop = 1;
}

/* The cluster map this node last joined with, kept in its data directory
 * so that it restarts even while the meta group is unreachable (its own
 * shards may still have a majority with it). */
#define JOIN_MAP_FILE "cluster-map.pb"

/* The data directory of node @a->id: --dir, else the file's. */
static const char *
data_dir(const struct args *a, const struct tl_cluster_config *cfg)
{
    if (a->dir != NULL)
        return a->dir;
    return cfg->nodes[a->id - 1].dir[0] != '\0' ? cfg->nodes[a->id - 1].dir
                                                : NULL;
}

/* Read the saved map, or NULL. */
static Talus__ClusterMap *
read_saved_map(const char *dir)
{
    char path[PATH_MAX + 32];
    uint8_t buf[1 << 16];
    size_t n;
    FILE *f;

    if (dir == NULL)
        return NULL;
    snprintf(path, sizeof path, "%s/" JOIN_MAP_FILE, dir);
    f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return n > 0 && n < sizeof buf ? talus__cluster_map__unpack(NULL, n, buf)
                                   : NULL;
}

/* Save @m (packed, written to a temporary file and renamed). Best effort:
 * a node that cannot save it only loses the fallback. */
static void
save_map(const char *dir, const Talus__ClusterMap *m)
{
    char path[PATH_MAX + 32], tmp[PATH_MAX + 40];
    size_t len = talus__cluster_map__get_packed_size(m);
    uint8_t *buf = malloc(len + 1);
    FILE *f;
    bool ok;

    if (buf == NULL)
        abort();
    talus__cluster_map__pack(m, buf);
    snprintf(path, sizeof path, "%s/" JOIN_MAP_FILE, dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "wb");
    ok = f != NULL && fwrite(buf, 1, len, f) == len;
    if (f != NULL)
        ok = fclose(f) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok)
        tl_warn("node", "event=join_map_not_saved path=%s", path);
    free(buf);
}

/* Learn the cluster from the nodes at a->join (ClusterMap): the settings
 * when there is no file, and the nodes the file does not list. Retried
 * for a minute: the cluster may be starting too. A node that joined
 * before tries once, then starts from the map it saved then. The map
 * used is packed into *@save (free()) for the data directory. */
static int
join_cluster(const struct args *a, struct tl_cluster_config *cfg,
             Talus__ClusterMap **save)
{
    char errbuf[512] = "";
    Talus__Response *resp = NULL;
    Talus__ClusterMap *saved = read_saved_map(data_dir(a, cfg));
    const Talus__ClusterMap *m;
    int rv = TL_EUNAVAILABLE;

    *save = NULL;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_join_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    for (int i = 0; i < (saved != NULL ? 1 : 120) && rv != 0 && !join_stop;
         i++) {
        rv = tl_cluster_map_fetch(a->join, 2000, &resp, NULL, 0, errbuf,
                                  sizeof errbuf);
        if (rv == TL_EINVAL)
            break;
        if (rv != 0) {
            if (i == 0)
                tl_warn("node", "event=join_waiting join=%s err=\"%s\"",
                        a->join, errbuf);
            else
                tl_debug("node", "event=join_waiting join=%s err=\"%s\"",
                         a->join, errbuf);
            if (saved == NULL)
                usleep(500 * 1000);
        }
    }
    if (join_stop) {
        if (rv == 0)
            talus__response__free_unpacked(resp, NULL);
        if (saved != NULL)
            talus__cluster_map__free_unpacked(saved, NULL);
        tl_info("node", "event=stopped_while_joining id=%lu", a->id);
        return 1;
    }
    if (rv != 0 && rv != TL_EINVAL && saved != NULL) {
        tl_warn("node", "event=join_from_saved_map join=%s err=\"%s\"", a->join,
                errbuf);
        rv = 0;
    }
    if (rv != 0) {
        if (saved != NULL)
            talus__cluster_map__free_unpacked(saved, NULL);
        tl_error("node", "event=join_failed join=%s err=\"%s\"", a->join,
                 errbuf);
        return rv;
    }
    m = resp != NULL ? resp->cluster_map : saved;
    /* Without a file the settings come from the registry; with one, only
     * the nodes the file does not name. */
    if (a->config == NULL)
        rv = tl_cluster_map_to_config(m, cfg, errbuf, sizeof errbuf);
    else
        tl_cluster_map_add_nodes(m, cfg);
    if (rv == 0 && resp != NULL) {
        /* Keep the fresh map (stolen from the reply) for the next start. */
        *save = resp->cluster_map;
        resp->cluster_map = NULL;
    }
    if (resp != NULL)
        talus__response__free_unpacked(resp, NULL);
    if (saved != NULL)
        talus__cluster_map__free_unpacked(saved, NULL);
    if (rv != 0)
        tl_error("node", "event=join_failed join=%s err=\"%s\"", a->join,
                 errbuf);
    else
        tl_info("node", "event=joined join=%s nodes=%u shards=%u", a->join,
                cfg->n_nodes, cfg->n_shards);
    return rv;
}

/* This node's own entry: --rpc, --raft and --dir override the file's. */
static int
apply_self(const struct args *a, struct tl_cluster_config *cfg)
{
    struct tl_node_config *self = &cfg->nodes[a->id - 1];
    char host[TL_ADDR_MAX];
    uint16_t port;

    if ((a->rpc != NULL &&
         (strlen(a->rpc) >= TL_ADDR_MAX ||
          tl_addr_split(a->rpc, host, sizeof host, &port) != 0)) ||
        (a->raft != NULL &&
         (strlen(a->raft) >= TL_ADDR_MAX ||
          tl_addr_split(a->raft, host, sizeof host, &port) != 0)) ||
        (a->admin != NULL &&
         (strlen(a->admin) >= TL_ADDR_MAX ||
          tl_addr_split(a->admin, host, sizeof host, &port) != 0)) ||
        (a->dir != NULL && strlen(a->dir) >= sizeof self->dir)) {
        tl_error("node", "event=bad_args msg=\"--rpc, --raft and "
                         "--admin-addr are host:port\"");
        return TL_EINVAL;
    }
    self->id = (uint32_t)a->id;
    if (a->rpc != NULL)
        snprintf(self->rpc_addr, sizeof self->rpc_addr, "%s", a->rpc);
    if (a->raft != NULL)
        snprintf(self->raft_addr, sizeof self->raft_addr, "%s", a->raft);
    if (a->dir != NULL)
        snprintf(self->dir, sizeof self->dir, "%s", a->dir);
    if (a->admin != NULL)
        snprintf(self->admin_addr, sizeof self->admin_addr, "%s", a->admin);
    if (a->id > cfg->n_nodes) {
        for (uint32_t i = cfg->n_nodes; i < a->id; i++)
            cfg->nodes[i].id = i + 1;
        cfg->n_nodes = (uint32_t)a->id;
    }
    if (self->rpc_addr[0] == '\0' || self->raft_addr[0] == '\0' ||
        self->dir[0] == '\0') {
        tl_error("node",
                 "event=bad_args id=%lu msg=\"node needs an rpc and "
                 "raft address and a dir (file or --rpc/--raft/"
                 "--dir)\"",
                 a->id);
        return TL_EINVAL;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct tl_cluster_config cfg;
    Talus__ClusterMap *joined_map = NULL;
    struct node_options o;
    struct node *n = NULL;
    struct args a;
    char errbuf[512] = "";
    int rv;

    /* First, before any thread starts: a crash must leave a line in the
     * log (common/crash.h). */
    tl_crash_install("talus-node");
    if (parse_args(argc, argv, &a) != 0) {
        usage();
        return 2;
    }
    /* Peers vanish; a write to a dead socket must be an error, not death. */
    signal(SIGPIPE, SIG_IGN);
    tl_cluster_config_defaults(&cfg);
    if (a.config != NULL) {
        rv = tl_cluster_config_load(a.config, &cfg, errbuf, sizeof errbuf);
        if (rv != 0) {
            tl_error("node", "event=bad_config path=%s err=\"%s\"", a.config,
                     errbuf);
            return 1;
        }
    }
    if (a.join != NULL && (rv = join_cluster(&a, &cfg, &joined_map)) != 0)
        return join_stop ? 0 : 1;
    if (apply_self(&a, &cfg) != 0)
        return 1;
    node_options_defaults(&o, (uint32_t)a.id);
    o.election_timeout_ms = cfg.election_timeout_ms;
    o.heartbeat_timeout_ms = cfg.heartbeat_ms;
    if (a.workers > 0)
        o.n_workers = (int)a.workers;
    if (a.snap_threshold > 0)
        o.snapshot_threshold = (unsigned)a.snap_threshold;
    if (a.snap_trailing > 0)
        o.snapshot_trailing = (unsigned)a.snap_trailing;
    if (a.page_bytes > 0)
        o.fetch_page_bytes = (unsigned)a.page_bytes;
    o.no_read_barrier = a.no_read_barrier;
    o.scan_row_delay_us = (unsigned)a.scan_row_delay_us;
    if (a.skew_node == a.id && a.skew_ms != 0) {
        o.tso_skew_ms = a.skew_ms;
        tl_warn("node", "event=test_tso_skew skew_ms=%lld", a.skew_ms);
    }
    if (o.scan_row_delay_us > 0)
        tl_warn("node", "event=test_scan_row_delay delay_us=%u",
                o.scan_row_delay_us);
    if (o.no_read_barrier)
        tl_warn("node", "event=unsafe_reads msg=\"reads skip the raft "
                        "barrier: stale reads possible after a leader "
                        "change\"");
    if (node_create(&cfg, &o, &n) != 0) {
        if (joined_map != NULL)
            talus__cluster_map__free_unpacked(joined_map, NULL);
        return 1;
    }
    rv = node_start(n);
    if (joined_map != NULL) {
        if (rv == 0) /* the data directory exists now */
            save_map(cfg.nodes[a.id - 1].dir, joined_map);
        talus__cluster_map__free_unpacked(joined_map, NULL);
    }
    node_run(n);
    node_destroy(n);
    return rv == 0 ? 0 : 1;
}
