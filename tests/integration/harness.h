/* harness — runs a real Talus cluster on loopback for integration tests.
 *
 * th_cluster_start() writes a cluster configuration with free ephemeral
 * ports into a fresh temporary directory, starts the talus-node processes
 * from it and one talus-router from the build tree (with --join and the
 * nodes' RPC addresses, so it learns the cluster from the registry; with
 * th_options.router_config, from the file), and waits until every shard
 * has a leader and the router answers a query (through `shardctl wait`,
 * never a fixed sleep). Processes are stopped by PID; a process that exits
 * with a non-zero status (a crash, or a sanitizer report) is counted, so
 * tests can assert that everything shut down cleanly. Each process's
 * stderr goes to <dir>/<name>.log; set TALUS_TEST_KEEP=1 to keep the
 * directory. Servers die with the test process (PR_SET_PDEATHSIG), so a
 * crashed test leaves nothing running; start them from the test's main
 * thread. */
#ifndef TL_HARNESS_H
#define TL_HARNESS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cluster_config.h"
#include "talus.pb-c.h"

struct th_options {
    uint32_t n_nodes;            /* default 3 */
    uint32_t n_shards;           /* default 6 */
    uint32_t request_timeout_ms; /* default 5000 */
    uint32_t n_replicas;         /* default 1 */
    uint32_t initial_nodes;      /* default 0: every node */
    const char *extra_conf;      /* appended to the config file, or NULL */
    const char *node_args;       /* extra talus-node arguments, space
                                    separated (e.g. "--snapshot-threshold
                                    64"), or NULL */
    bool no_router;              /* do not start (or wait for) a router */
    bool router_config;          /* routers read the file (--config)
                                    instead of --join */
    bool router_join_one;        /* routers --join node 1's rpc address
                                    only (default: every node's) */
    const char *router_args;     /* extra talus-router arguments of the
                                    first router, space separated (e.g.
                                    "--max-connections 5"), or NULL */
    bool admin;                  /* every node and router serves its admin
                                    HTTP plane on a free port (node.N.admin
                                    in the file, --admin-addr for routers;
                                    th_admin_addr()) */
};

struct th_cluster {
    char node_args[512];   /* th_options.node_args, kept for restarts */
    char router_args[512]; /* th_options.router_args, kept for restarts */
    bool no_router;
    bool router_config;
    /* The routers' --join list; "" for every node's rpc address. Set by
     * th_options.router_join_one; tests may change it between starts. */
    char router_join[1024];
    char dir[PATH_MAX];
    char conf[PATH_MAX];
    struct tl_cluster_config cfg;
    pid_t nodes[TL_MAX_NODES]; /* by node index; 0 when not running */
    pid_t router;
    pid_t router2;         /* second router (th_router2_start), 0: none */
    uint16_t router2_port; /* chosen at its first start, kept for restarts */
    int n_bad_exits;       /* processes that exited non-zero or by a signal
                              other than the one we sent */
    /* With th_options.admin: the routers' admin addresses (host:port),
     * chosen at start and kept for restarts; "" without. The nodes' are
     * cfg.nodes[i].admin_addr. */
    char router_admin[64];
    char router2_admin[64];
};

/** Start a cluster with @opt (NULL for defaults). 0 on success; on failure
 * everything started is stopped and -1 is returned (logs are printed). */
int th_cluster_start(struct th_cluster *c, const struct th_options *opt);

/** Stop every process (SIGTERM, then SIGKILL after 15 s) and remove the
 * directory. Returns the number of bad exits over the cluster's life. */
int th_cluster_stop(struct th_cluster *c);

/** Start node @id (1-based) if it is not running. 0 or -1. */
int th_node_start(struct th_cluster *c, uint32_t id);
/** Start node @id, beyond the configuration file, the way an operator
 * adds a machine: `talus-node --id ID --rpc --raft --dir --join ADDRS`
 * with fresh ports (chosen once, kept across restarts) and no file;
 * @join is the --join list (NULL: node 1's rpc address). Its addresses are
 * added to c->cfg so the other helpers reach it. 0 or -1. */
int th_node_join_start(struct th_cluster *c, uint32_t id, const char *join);
/** Send @sig to node @id and, for SIGTERM/SIGKILL, wait until it exited.
 * SIGSTOP/SIGCONT just send. */
void th_node_signal(struct th_cluster *c, uint32_t id, int sig);
int th_router_start(struct th_cluster *c);
void th_router_signal(struct th_cluster *c, int sig);

/** Start a second router on its own port (chosen once, kept across
 * restarts; log router2.log) and wait at most 30 s until it answers. It
 * shares the cluster (and its catalog in the meta group) with the first.
 * 0 or -1. */
int th_router2_start(struct th_cluster *c);
/** Send @sig to the second router; for SIGTERM/SIGKILL wait for its exit. */
void th_router2_signal(struct th_cluster *c, int sig);
/** A new connection to the second router (asserts success). */
PGconn *th_connect2(struct th_cluster *c);

/** Wait until every shard has a leader and the router answers, at most
 * @timeout_s seconds. 0 or -1. */
int th_wait_ready(struct th_cluster *c, double timeout_s);

/** The admin HTTP address (host:port) of node @id (1-based), or of the
 * first router (@id 0) or the second (@id -1); "" when the cluster was
 * started without th_options.admin. Borrowed from @c. */
const char *th_admin_addr(const struct th_cluster *c, int id);

/** A new connection to the router (asserts success). */
PGconn *th_connect(struct th_cluster *c);
/** The router's port. */
uint16_t th_router_port(const struct th_cluster *c);

/** PQexec, printing the error message when the result is an error. */
PGresult *th_exec(PGconn *conn, const char *sql);
/** Run @sql; true if it succeeded (command or tuples). */
bool th_ok(PGconn *conn, const char *sql);
/** Run @sql and return its SQLSTATE ("" on success); static buffer. */
const char *th_sqlstate(PGconn *conn, const char *sql);
/** First column of the first row of @sql as a long long; asserts one row.
 */
long long th_scalar(PGconn *conn, const char *sql);

/** Run the command line @argv to completion, output to @out_path (or the
 * test's stdout when NULL); returns its exit status or -1. */
int th_run(char *const argv[], const char *out_path);

/** Per-shard request counters from every node: scans[s] and writes[s]
 * for s < n_shards, keys[s] when @keys is not NULL. 0 or -1. */
int th_shard_counters(struct th_cluster *c, unsigned long long *scans,
                      unsigned long long *writes, unsigned long long *keys);

/** Print the tail of every process log to stderr. */
void th_dump_logs(struct th_cluster *c);

/* ---- replication helpers (direct node RPC) */

/** Send @req to node @id and wait at most @timeout_ms. 0 with *@resp
 * (free with talus__response__free_unpacked) or a TL_E* code. */
int th_node_call(struct th_cluster *c, uint32_t id, const Talus__Request *req,
                 int timeout_ms, Talus__Response **resp);

/** The node that leads @shard according to the nodes that answer (a
 * node reporting is_leader), or 0. */
uint32_t th_shard_leader(struct th_cluster *c, uint32_t shard);

/** Wait at most @timeout_s until @shard has a leader other than
 * @not_node (0: any); returns it, or 0 on timeout. */
uint32_t th_wait_leader(struct th_cluster *c, uint32_t shard, uint32_t not_node,
                        double timeout_s);

/** Status of @shard as node @id reports it (copied into *@out); false if
 * the node does not answer or does not host it. */
bool th_shard_status(struct th_cluster *c, uint32_t id, uint32_t shard,
                     Talus__ShardStatus *out);

/** Run shardctl with `--node ADDRS` (NULL: node 1's rpc address) and the
 * NULL-terminated arguments after @out_path; its exit status or -1. */
int th_shardctl_node(struct th_cluster *c, const char *addrs,
                     const char *out_path, ...) __attribute__((sentinel));

/** Run shardctl with this cluster's config and the NULL-terminated
 * arguments after @out_path (output there, or the test's stdout when
 * NULL); its exit status or -1. */
int th_shardctl(struct th_cluster *c, const char *out_path, ...)
    __attribute__((sentinel));

/* ---- a reference PostgreSQL 15 (differential tests) */

/* One PostgreSQL server started from the Debian binaries in
 * TH_PG_BINDIR. Invariant: pid > 0 exactly while the server this struct
 * started is running; port and dir stay set after a stop. */
struct th_pg {
    char dir[PATH_MAX];     /* data directory, also the Unix socket's */
    char log[PATH_MAX + 8]; /* initdb's and the server's output: <dir>.log */
    uint16_t port;
    pid_t pid; /* the postmaster; 0 when not running */
};

#define TH_PG_BINDIR "/usr/lib/postgresql/15/bin"

/** Create a cluster with initdb in the fresh directory @dir (created; its
 * parent must exist) and start postgres on 127.0.0.1:@port (0: a free
 * port from test_ports.h) with fsync off, TimeZone UTC and DateStyle ISO,
 * superuser `postgres` with trust authentication, as a child process
 * (killed with the test, like the cluster's servers). Run as root, the
 * directory is given to the `postgres` user, the parent directory gains
 * o+x so that user can reach it, and both programs run as that user
 * (postgres refuses root). Waits at most 60 s until a libpq connection
 * succeeds. 0 on success; -1 otherwise (the log is printed and anything
 * started is stopped). */
int th_pg_start(struct th_pg *pg, const char *dir, uint16_t port);

/** Stop the server @pg started: SIGTERM (smart shutdown: close every
 * connection first), SIGKILL if it has not exited after 30 s. Returns 0
 * if it exited cleanly (or was not running), -1 otherwise. The data
 * directory is left for the caller (it lives in the test's directory). */
int th_pg_stop(struct th_pg *pg);

/** A new connection to @pg as `postgres` (asserts success). */
PGconn *th_pg_connect(const struct th_pg *pg);

/** th_run() with a limit of @limit_s seconds instead of 300: the command
 * is killed (SIGKILL) past it and -2 is returned. */
int th_run_limited(char *const argv[], const char *out_path, double limit_s);

/** Seconds on the monotonic clock. */
double th_now(void);

#endif
