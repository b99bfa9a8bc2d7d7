/* talus-node — the storage node binary: CLI over node.c. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_config.h"
#include "log.h"
#include "node.h"

static void
usage(void)
{
    fprintf(stderr, "usage: talus-node --config FILE --id N "
                    "[--log-level debug|info|warn|error] [--workers K]\n"
                    "                  [--snapshot-threshold N] "
                    "[--snapshot-trailing N]\n"
                    "                  [--fetch-page-bytes N] "
                    "[--unsafe-no-read-barrier]\n");
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
    const char *config;
    unsigned long id;
    long workers;
    unsigned long snap_threshold, snap_trailing, page_bytes;
    bool no_read_barrier;
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
        case 'P':
            a->page_bytes = parse_pos(optarg);
            if (a->page_bytes == 0 || a->page_bytes > (16ul << 20))
                return -1;
            break;
        default:
            return -1;
        }
    }
    return a->config != NULL && a->id > 0 && optind == argc ? 0 : -1;
}

int
main(int argc, char **argv)
{
    struct tl_cluster_config cfg;
    struct node_options o;
    struct node *n = NULL;
    struct args a;
    char errbuf[512] = "";
    int rv;

    if (parse_args(argc, argv, &a) != 0) {
        usage();
        return 2;
    }
    /* Peers vanish; a write to a dead socket must be an error, not death. */
    signal(SIGPIPE, SIG_IGN);
    tl_cluster_config_defaults(&cfg);
    rv = tl_cluster_config_load(a.config, &cfg, errbuf, sizeof errbuf);
    if (rv != 0) {
        tl_error("node", "event=bad_config path=%s err=\"%s\"", a.config,
                 errbuf);
        return 1;
    }
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
    if (o.no_read_barrier)
        tl_warn("node", "event=unsafe_reads msg=\"reads skip the raft "
                        "barrier: stale reads possible after a leader "
                        "change\"");
    if (node_create(&cfg, &o, &n) != 0)
        return 1;
    rv = node_start(n);
    node_run(n);
    node_destroy(n);
    return rv == 0 ? 0 : 1;
}
