#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../test_ports.h"
#include "rpc.h"

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static pid_t
spawn(const char *log_path, char *const argv[])
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* A test that crashes never reaches th_cluster_stop(): have the
         * kernel kill its servers with it (servers are only started from
         * a test's main thread, which lives as long as the test). */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(127);
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
            close(devnull);
        }
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

/* Wait for @pid to exit, at most @timeout_s; returns its wait status or
 * -1 if it is still running. */
static int
wait_exit(pid_t pid, double timeout_s)
{
    double deadline = now_s() + timeout_s;
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0)
            return 0;
        if (now_s() >= deadline)
            return -1;
        /* Polling a child's exit; nothing to wait on but the pid. */
        usleep(10 * 1000);
    }
}

/* Stop @pid with @sig and reap it; count an exit that is not the clean
 * answer to @sig. */
static void
stop_pid(struct th_cluster *c, pid_t *pid, int sig, const char *name)
{
    int status;

    if (*pid <= 0)
        return;
    kill(*pid, sig);
    status = wait_exit(*pid, 15);
    if (status == -1) {
        fprintf(stderr, "harness: %s (pid %d) ignored signal %d; killing\n",
                name, (int)*pid, sig);
        kill(*pid, SIGKILL);
        status = wait_exit(*pid, 15);
        c->n_bad_exits++;
    } else if (sig == SIGKILL) {
        /* Killed on purpose: any status is expected. */
    } else if (WIFSIGNALED(status) ||
               (WIFEXITED(status) && WEXITSTATUS(status) != 0)) {
        fprintf(stderr, "harness: %s (pid %d) exited badly (status 0x%x)\n",
                name, (int)*pid, status);
        c->n_bad_exits++;
    }
    /* Test threads poll node pids (repl_util.h) while this runs. */
    __atomic_store_n(pid, 0, __ATOMIC_RELEASE);
}

static char *
bin_path(const char *rel)
{
    static __thread char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", TALUS_BIN_DIR, rel);
    return path;
}

/* A joined node (th_node_join_start): started from flags, not the file. */
static bool joined[TL_MAX_NODES];
static char join_of[TL_MAX_NODES][512];

int
th_node_join_start(struct th_cluster *c, uint32_t id, const char *join)
{
    struct tl_node_config *n = &c->cfg.nodes[id - 1];
    char log[PATH_MAX + 32], ids[16], bin[PATH_MAX];

    if (c->nodes[id - 1] > 0)
        return 0;
    if (n->rpc_addr[0] == '\0') {
        snprintf(n->rpc_addr, sizeof n->rpc_addr, "127.0.0.1:%u", free_port());
        snprintf(n->raft_addr, sizeof n->raft_addr, "127.0.0.1:%u",
                 free_port());
        snprintf(n->dir, sizeof n->dir, "%.*s/node%u",
                 (int)(sizeof n->dir - 16), c->dir, id);
        n->id = id;
        if (id > c->cfg.n_nodes)
            c->cfg.n_nodes = id;
    }
    joined[id - 1] = true;
    if (join != join_of[id - 1]) /* a restart passes its own list */
        snprintf(join_of[id - 1], sizeof join_of[id - 1], "%s",
                 join != NULL ? join : c->cfg.nodes[0].rpc_addr);
    snprintf(log, sizeof(log), "%s/node%u.log", c->dir, id);
    snprintf(ids, sizeof(ids), "%u", id);
    snprintf(bin, sizeof(bin), "%s", bin_path("node/talus-node"));
    char *argv[64] = {
        bin,          "--id",  ids,    "--rpc",  n->rpc_addr,     "--raft",
        n->raft_addr, "--dir", n->dir, "--join", join_of[id - 1], NULL};
    char extra[sizeof c->node_args];
    int argc = 11;
    snprintf(extra, sizeof extra, "%s", c->node_args);
    for (char *tok = strtok(extra, " "); tok != NULL && argc < 63;
         tok = strtok(NULL, " "))
        argv[argc++] = tok;
    argv[argc] = NULL;
    __atomic_store_n(&c->nodes[id - 1], spawn(log, argv), __ATOMIC_RELEASE);
    return c->nodes[id - 1] > 0 ? 0 : -1;
}

int
th_node_start(struct th_cluster *c, uint32_t id)
{
    char log[PATH_MAX + 32], ids[16];
    if (c->nodes[id - 1] > 0)
        return 0;
    if (joined[id - 1])
        return th_node_join_start(c, id, join_of[id - 1]);
    snprintf(log, sizeof(log), "%s/node%u.log", c->dir, id);
    snprintf(ids, sizeof(ids), "%u", id);
    char bin[PATH_MAX];
    snprintf(bin, sizeof(bin), "%s", bin_path("node/talus-node"));
    char *argv[64] = {bin, "--config", c->conf, "--id", ids, NULL};
    char extra[sizeof c->node_args];
    int argc = 5;
    snprintf(extra, sizeof extra, "%s", c->node_args);
    for (char *tok = strtok(extra, " "); tok != NULL && argc < 63;
         tok = strtok(NULL, " "))
        argv[argc++] = tok;
    argv[argc] = NULL;
    __atomic_store_n(&c->nodes[id - 1], spawn(log, argv), __ATOMIC_RELEASE);
    return c->nodes[id - 1] > 0 ? 0 : -1;
}

void
th_node_signal(struct th_cluster *c, uint32_t id, int sig)
{
    char name[32];
    snprintf(name, sizeof(name), "node %u", id);
    if (sig == SIGTERM || sig == SIGKILL)
        stop_pid(c, &c->nodes[id - 1], sig, name);
    else if (c->nodes[id - 1] > 0)
        kill(c->nodes[id - 1], sig);
}

/* What a router is started from: the file, or the --join list (the
 * cluster's, else every node's rpc address, written to @buf). Borrowed
 * from @c or @buf. */
static char *
router_source(struct th_cluster *c, char *buf, size_t len)
{
    size_t off = 0;
    if (c->router_config)
        return c->conf;
    if (c->router_join[0] != '\0')
        return c->router_join;
    buf[0] = '\0';
    for (uint32_t i = 0; i < c->cfg.n_nodes && off + TL_ADDR_MAX + 2 < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "",
                                c->cfg.nodes[i].rpc_addr);
    return buf;
}

int
th_router_start(struct th_cluster *c)
{
    char log[PATH_MAX + 32], bin[PATH_MAX];
    if (c->router > 0)
        return 0;
    snprintf(log, sizeof(log), "%s/router.log", c->dir);
    snprintf(bin, sizeof(bin), "%s", bin_path("router/talus-router"));
    char buf[1024];
    char *join = router_source(c, buf, sizeof buf);
    char *argv[64] = {bin,
                      c->router_config ? "--config" : "--join",
                      join,
                      "--listen",
                      c->cfg.router_listen,
                      NULL};
    char extra[sizeof c->router_args];
    int argc = 5;
    if (c->router_admin[0] != '\0') {
        argv[argc++] = "--admin-addr";
        argv[argc++] = c->router_admin;
    }
    snprintf(extra, sizeof extra, "%s", c->router_args);
    for (char *save = NULL, *tok = strtok_r(extra, " ", &save);
         tok != NULL && argc < 63; tok = strtok_r(NULL, " ", &save))
        argv[argc++] = tok;
    argv[argc] = NULL;
    c->router = spawn(log, argv);
    return c->router > 0 ? 0 : -1;
}

int
th_router2_start(struct th_cluster *c)
{
    char log[PATH_MAX + 32], bin[PATH_MAX], listen[64], t[8] = "30";
    if (c->router2 > 0)
        return 0;
    if (c->router2_port == 0)
        c->router2_port = free_port();
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", c->router2_port);
    snprintf(log, sizeof(log), "%s/router2.log", c->dir);
    snprintf(bin, sizeof(bin), "%s", bin_path("router/talus-router"));
    char buf[1024];
    char *join = router_source(c, buf, sizeof buf);
    char *argv[] = {bin,    c->router_config ? "--config" : "--join",
                    join,   "--listen",
                    listen, NULL,
                    NULL,   NULL};
    if (c->router2_admin[0] != '\0') {
        argv[5] = "--admin-addr";
        argv[6] = c->router2_admin;
    }
    c->router2 = spawn(log, argv);
    if (c->router2 <= 0)
        return -1;
    snprintf(bin, sizeof(bin), "%s", bin_path("shardctl/shardctl"));
    char *wait[] = {bin, "--config", c->conf, "wait", "--timeout",
                    t,   "--router", listen,  NULL};
    return th_run(wait, NULL) == 0 ? 0 : -1;
}

void
th_router2_signal(struct th_cluster *c, int sig)
{
    if (sig == SIGTERM || sig == SIGKILL)
        stop_pid(c, &c->router2, sig, "router2");
    else if (c->router2 > 0)
        kill(c->router2, sig);
}

PGconn *
th_connect2(struct th_cluster *c)
{
    char conninfo[256];
    snprintf(conninfo, sizeof(conninfo),
             "host=127.0.0.1 port=%u user=test dbname=test connect_timeout=10",
             c->router2_port);
    PGconn *conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "harness: connect2: %s", PQerrorMessage(conn));
        abort();
    }
    return conn;
}

void
th_router_signal(struct th_cluster *c, int sig)
{
    if (sig == SIGTERM || sig == SIGKILL)
        stop_pid(c, &c->router, sig, "router");
    else if (c->router > 0)
        kill(c->router, sig);
}

/* Run @argv like th_run(), but stop it with SIGKILL after @limit_s
 * seconds: TH_RUN_HUNG then. */
#define TH_RUN_HUNG (-2)

int
th_run_limited(char *const argv[], const char *out_path, double limit_s)
{
    pid_t pid = fork();
    int status;
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (out_path != NULL) {
            int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
                close(fd);
            }
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    double deadline = th_now() + limit_s;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0)
            return -1;
        if (th_now() >= deadline) {
            fprintf(stderr, "harness: %s did not exit in %.0f s: killed\n",
                    argv[0], limit_s);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return TH_RUN_HUNG;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (!WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

int
th_run(char *const argv[], const char *out_path)
{
    /* No command of a test takes this long; one that does is stuck. */
    return th_run_limited(argv, out_path, 300);
}

int
th_wait_ready(struct th_cluster *c, double timeout_s)
{
    char t[32], bin[PATH_MAX];
    snprintf(t, sizeof(t), "%.0f", timeout_s);
    snprintf(bin, sizeof(bin), "%s", bin_path("shardctl/shardctl"));
    char *argv[] = {bin,        "--config",           c->conf,
                    "wait",     "--timeout",          t,
                    "--router", c->cfg.router_listen, NULL};
    if (c->no_router)
        argv[6] = NULL;
    /* shardctl can hang in nng_close() (nng 1.5.2, nanomsg/nng#1543):
     * a wait that outlives its own timeout is stuck there, and is run
     * again rather than holding the test until ctest's limit. */
    for (int attempt = 0; attempt < 3; attempt++) {
        int rv = th_run_limited(argv, NULL, timeout_s + 20);
        if (rv != TH_RUN_HUNG)
            return rv == 0 ? 0 : -1;
    }
    return -1;
}

int
th_cluster_start(struct th_cluster *c, const struct th_options *opt)
{
    struct th_options o = {3,    6,     5000,  1,     0,    NULL,
                           NULL, false, false, false, NULL, false};
    char err[256];
    FILE *f;

    if (opt != NULL) {
        if (opt->n_nodes)
            o.n_nodes = opt->n_nodes;
        if (opt->n_shards)
            o.n_shards = opt->n_shards;
        if (opt->request_timeout_ms)
            o.request_timeout_ms = opt->request_timeout_ms;
        if (opt->n_replicas)
            o.n_replicas = opt->n_replicas;
        o.initial_nodes = opt->initial_nodes;
        o.extra_conf = opt->extra_conf;
        o.node_args = opt->node_args;
        o.router_args = opt->router_args;
        o.no_router = opt->no_router;
        o.router_config = opt->router_config;
        o.router_join_one = opt->router_join_one;
        o.admin = opt->admin;
    }
    memset(c, 0, sizeof(*c));
    if (o.node_args != NULL)
        snprintf(c->node_args, sizeof(c->node_args), "%s", o.node_args);
    if (o.router_args != NULL)
        snprintf(c->router_args, sizeof(c->router_args), "%s", o.router_args);
    c->no_router = o.no_router;
    c->router_config = o.router_config;
    memset(joined, 0, sizeof joined);
    snprintf(c->dir, sizeof(c->dir), "/tmp/talus-test-XXXXXX");
    if (mkdtemp(c->dir) == NULL)
        return -1;
    if (snprintf(c->conf, sizeof(c->conf), "%.*s/cluster.conf",
                 (int)(sizeof(c->conf) - 16), c->dir) >= (int)sizeof(c->conf))
        return -1;
    f = fopen(c->conf, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "shards = %u\nreplicas = %u\nrequest_timeout_ms = %u\n",
            o.n_shards, o.n_replicas, o.request_timeout_ms);
    if (o.initial_nodes)
        fprintf(f, "initial_nodes = %u\n", o.initial_nodes);
    if (o.extra_conf != NULL)
        fprintf(f, "%s\n", o.extra_conf);
    fprintf(f, "router.listen = 127.0.0.1:%u\n", free_port());
    for (uint32_t i = 1; i <= o.n_nodes; i++) {
        fprintf(f, "node.%u.rpc = 127.0.0.1:%u\n", i, free_port());
        fprintf(f, "node.%u.raft = 127.0.0.1:%u\n", i, free_port());
        fprintf(f, "node.%u.dir = %s/node%u\n", i, c->dir, i);
        if (o.admin)
            fprintf(f, "node.%u.admin = 127.0.0.1:%u\n", i, free_port());
    }
    fclose(f);
    if (o.admin) {
        snprintf(c->router_admin, sizeof c->router_admin, "127.0.0.1:%u",
                 free_port());
        snprintf(c->router2_admin, sizeof c->router2_admin, "127.0.0.1:%u",
                 free_port());
    }
    tl_cluster_config_defaults(&c->cfg);
    if (tl_cluster_config_load(c->conf, &c->cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "harness: %s\n", err);
        return -1;
    }
    if (o.router_join_one)
        snprintf(c->router_join, sizeof(c->router_join), "%s",
                 c->cfg.nodes[0].rpc_addr);
    for (uint32_t i = 1; i <= o.n_nodes; i++)
        if (th_node_start(c, i) != 0)
            goto fail;
    if (!c->no_router && th_router_start(c) != 0)
        goto fail;
    if (th_wait_ready(c, 60) != 0)
        goto fail;
    return 0;

fail:
    fprintf(stderr, "harness: cluster did not become ready\n");
    th_dump_logs(c);
    th_cluster_stop(c);
    return -1;
}

int
th_cluster_stop(struct th_cluster *c)
{
    th_router_signal(c, SIGTERM);
    th_router2_signal(c, SIGTERM);
    for (uint32_t i = 1; i <= c->cfg.n_nodes; i++) {
        if (c->nodes[i - 1] > 0)
            kill(c->nodes[i - 1], SIGCONT);
        th_node_signal(c, i, SIGTERM);
    }
    if (c->n_bad_exits > 0)
        th_dump_logs(c);
    const char *keep = getenv("TALUS_TEST_KEEP");
    if (c->dir[0] != '\0' && (keep == NULL || strcmp(keep, "1") != 0)) {
        char *argv[] = {"rm", "-rf", c->dir, NULL};
        th_run(argv, NULL);
    }
    return c->n_bad_exits;
}

void
th_dump_logs(struct th_cluster *c)
{
    char path[PATH_MAX + 32];
    for (uint32_t i = 0; i <= c->cfg.n_nodes; i++) {
        if (i == 0)
            snprintf(path, sizeof(path), "%s/router.log", c->dir);
        else
            snprintf(path, sizeof(path), "%s/node%u.log", c->dir, i);
        fprintf(stderr, "---- %s (last 40 lines)\n", path);
        char *argv[] = {"tail", "-n", "40", path, NULL};
        th_run(argv, NULL);
    }
    if (c->router2_port != 0) {
        snprintf(path, sizeof(path), "%s/router2.log", c->dir);
        fprintf(stderr, "---- %s (last 40 lines)\n", path);
        char *argv[] = {"tail", "-n", "40", path, NULL};
        th_run(argv, NULL);
    }
}

const char *
th_admin_addr(const struct th_cluster *c, int id)
{
    if (id == 0)
        return c->router_admin;
    if (id < 0)
        return c->router2_admin;
    return c->cfg.nodes[id - 1].admin_addr;
}

uint16_t
th_router_port(const struct th_cluster *c)
{
    char host[TL_ADDR_MAX];
    uint16_t port = 0;
    tl_addr_split(c->cfg.router_listen, host, sizeof(host), &port);
    return port;
}

PGconn *
th_connect(struct th_cluster *c)
{
    char conninfo[256];
    snprintf(conninfo, sizeof(conninfo),
             "host=127.0.0.1 port=%u user=test dbname=test connect_timeout=10",
             th_router_port(c));
    PGconn *conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "harness: connect: %s", PQerrorMessage(conn));
        abort();
    }
    return conn;
}

PGresult *
th_exec(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
        st != PGRES_EMPTY_QUERY)
        fprintf(stderr, "harness: query failed: %.200s: %s", sql,
                PQresultErrorMessage(res));
    return res;
}

bool
th_ok(PGconn *conn, const char *sql)
{
    PGresult *res = th_exec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    PQclear(res);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

const char *
th_sqlstate(PGconn *conn, const char *sql)
{
    static __thread char state[8];
    PGresult *res = PQexec(conn, sql);
    const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    snprintf(state, sizeof(state), "%s", s ? s : "");
    PQclear(res);
    return state;
}

long long
th_scalar(PGconn *conn, const char *sql)
{
    PGresult *res = th_exec(conn, sql);
    long long v = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
        !PQgetisnull(res, 0, 0))
        v = atoll(PQgetvalue(res, 0, 0));
    else
        fprintf(stderr, "harness: %s: expected one value\n", sql);
    PQclear(res);
    return v;
}

int
th_shard_counters(struct th_cluster *c, unsigned long long *scans,
                  unsigned long long *writes, unsigned long long *keys)
{
    for (uint32_t i = 0; i < c->cfg.n_nodes; i++) {
        struct tl_rpc_client *cl;
        Talus__Request req = TALUS__REQUEST__INIT;
        Talus__StatusRequest sr = TALUS__STATUS_REQUEST__INIT;
        Talus__Response *resp;

        sr.has_count_keys = true;
        sr.count_keys = keys != NULL;
        req.request_id = tl_rpc_next_id();
        req.body_case = TALUS__REQUEST__BODY_STATUS;
        req.status = &sr;
        if (tl_rpc_client_create(c->cfg.nodes[i].rpc_addr, &cl) != 0)
            return -1;
        int rv = tl_rpc_call(cl, &req, 5000, &resp);
        tl_rpc_client_destroy(cl);
        if (rv != 0)
            return -1;
        for (size_t k = 0; k < resp->n_shards; k++) {
            const Talus__ShardStatus *s = resp->shards[k];
            if (s->shard >= c->cfg.n_shards)
                continue;
            scans[s->shard] = s->n_scans;
            writes[s->shard] = s->n_writes;
            if (keys != NULL)
                keys[s->shard] = s->n_keys;
        }
        talus__response__free_unpacked(resp, NULL);
    }
    return 0;
}

/* ------------------------------------------------------------ replication */

double
th_now(void)
{
    return now_s();
}

int
th_node_call(struct th_cluster *c, uint32_t id, const Talus__Request *req,
             int timeout_ms, Talus__Response **resp)
{
    struct tl_rpc_client *cl;
    int rv;
    if (id < 1 || id > c->cfg.n_nodes ||
        tl_rpc_client_create(c->cfg.nodes[id - 1].rpc_addr, &cl) != 0)
        return -1;
    rv = tl_rpc_call(cl, req, timeout_ms, resp);
    tl_rpc_client_destroy(cl);
    return rv;
}

bool
th_shard_status(struct th_cluster *c, uint32_t id, uint32_t shard,
                Talus__ShardStatus *out)
{
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__StatusRequest sr = TALUS__STATUS_REQUEST__INIT;
    Talus__Response *resp;
    bool found = false;

    if (c->nodes[id - 1] <= 0)
        return false;
    req.request_id = tl_rpc_next_id();
    req.body_case = TALUS__REQUEST__BODY_STATUS;
    req.status = &sr;
    if (th_node_call(c, id, &req, 2000, &resp) != 0)
        return false;
    for (size_t k = 0; k < resp->n_shards; k++) {
        if (resp->shards[k]->shard != shard)
            continue;
        *out = *resp->shards[k];
        /* Repeated fields would dangle: keep scalars only. */
        out->n_voters = out->n_standbys = 0;
        out->voters = out->standbys = NULL;
        found = true;
    }
    talus__response__free_unpacked(resp, NULL);
    return found;
}

uint32_t
th_shard_leader(struct th_cluster *c, uint32_t shard)
{
    for (uint32_t id = 1; id <= c->cfg.n_nodes; id++) {
        Talus__ShardStatus st;
        if (th_shard_status(c, id, shard, &st) && st.is_leader)
            return id;
    }
    return 0;
}

uint32_t
th_wait_leader(struct th_cluster *c, uint32_t shard, uint32_t not_node,
               double timeout_s)
{
    double deadline = now_s() + timeout_s;
    while (now_s() < deadline) {
        uint32_t l = th_shard_leader(c, shard);
        if (l != 0 && l != not_node)
            return l;
        /* Polling for an election; nothing to wait on. */
        usleep(20 * 1000);
    }
    return 0;
}

int
th_shardctl(struct th_cluster *c, const char *out_path, ...)
{
    char *argv[32];
    char bin[PATH_MAX];
    int argc = 0;
    va_list ap;

    snprintf(bin, sizeof(bin), "%s", bin_path("shardctl/shardctl"));
    argv[argc++] = bin;
    argv[argc++] = "--config";
    argv[argc++] = c->conf;
    va_start(ap, out_path);
    for (char *a = va_arg(ap, char *); a != NULL && argc < 31;
         a = va_arg(ap, char *))
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    return th_run(argv, out_path);
}

int
th_shardctl_node(struct th_cluster *c, const char *addrs, const char *out_path,
                 ...)
{
    char *argv[32];
    char bin[PATH_MAX], node[1024];
    int argc = 0;
    va_list ap;

    snprintf(bin, sizeof(bin), "%s", bin_path("shardctl/shardctl"));
    snprintf(node, sizeof(node), "%s",
             addrs != NULL ? addrs : c->cfg.nodes[0].rpc_addr);
    argv[argc++] = bin;
    argv[argc++] = "--node";
    argv[argc++] = node;
    va_start(ap, out_path);
    for (char *a = va_arg(ap, char *); a != NULL && argc < 31;
         a = va_arg(ap, char *))
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    return th_run(argv, out_path);
}

/* ------------------------------------------------------------ PostgreSQL */

/* Fork and exec @argv with stdout and stderr appended to @log_path, as
 * the user @pw when it is not NULL. The child dies with the test process.
 * The child's pid, or -1. */
static pid_t
spawn_as(const struct passwd *pw, const char *log_path, char *const argv[])
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
            close(devnull);
        }
        if (pw != NULL && (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 ||
                           setuid(pw->pw_uid) != 0)) {
            fprintf(stderr, "harness: become %s: %s\n", pw->pw_name,
                    strerror(errno));
            _exit(127);
        }
        /* After setuid: a change of credentials clears the setting. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(127);
        if (pw != NULL) {
            setenv("HOME", pw->pw_dir, 1);
            setenv("USER", pw->pw_name, 1);
        }
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

/* Whether a libpq connection to @pg succeeds now. */
static bool
pg_answers(const struct th_pg *pg)
{
    char conninfo[128];
    snprintf(conninfo, sizeof(conninfo),
             "host=127.0.0.1 port=%u user=postgres dbname=postgres "
             "connect_timeout=5",
             pg->port);
    PGconn *conn = PQconnectdb(conninfo);
    bool ok = PQstatus(conn) == CONNECTION_OK;
    PQfinish(conn);
    return ok;
}

static void
pg_dump_log(const struct th_pg *pg)
{
    fprintf(stderr, "---- %s (last 40 lines)\n", pg->log);
    char *argv[] = {"tail", "-n", "40", (char *)pg->log, NULL};
    th_run(argv, NULL);
}

int
th_pg_start(struct th_pg *pg, const char *dir, uint16_t port)
{
    const struct passwd *pw = NULL;
    char bin[PATH_MAX], parent[PATH_MAX], port_s[16];
    int status = 0;

    memset(pg, 0, sizeof(*pg));
    snprintf(pg->dir, sizeof(pg->dir), "%s", dir);
    snprintf(pg->log, sizeof(pg->log), "%s.log", dir);
    pg->port = port != 0 ? port : free_port();
    if (pg->port == 0 || mkdir(pg->dir, 0700) != 0) {
        fprintf(stderr, "harness: pg: %s: %s\n", pg->dir, strerror(errno));
        return -1;
    }
    if (geteuid() == 0) {
        /* postgres refuses to run as root: the server runs as the
         * `postgres` user, which must own its directory and be able to
         * reach it through the test's (mode 0700) directory. */
        struct stat st;
        char *slash;
        pw = getpwnam("postgres");
        snprintf(parent, sizeof(parent), "%s", pg->dir);
        slash = strrchr(parent, '/');
        if (slash != NULL && slash != parent)
            *slash = '\0';
        if (pw == NULL || chown(pg->dir, pw->pw_uid, pw->pw_gid) != 0 ||
            stat(parent, &st) != 0 ||
            chmod(parent, (st.st_mode & 07777) | S_IXOTH) != 0) {
            fprintf(stderr, "harness: pg: no postgres user for %s\n", pg->dir);
            return -1;
        }
    }

    snprintf(bin, sizeof(bin), "%s/initdb", TH_PG_BINDIR);
    /* Byte order for text (Talus's), C.UTF-8 case mapping (Talus's
     * upper/lower, docs/sql.md). */
    char *initdb[] = {bin,     "-D",   pg->dir,      "-A",
                      "trust", "-U",   "postgres",   "--no-sync",
                      "-E",    "UTF8", "--locale=C", "--lc-ctype=C.UTF-8",
                      NULL};
    pid_t pid = spawn_as(pw, pg->log, initdb);
    if (pid < 0 || (status = wait_exit(pid, 120)) == -1 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        if (pid > 0 && status == -1) {
            kill(pid, SIGKILL);
            wait_exit(pid, 15);
        }
        fprintf(stderr, "harness: pg: initdb failed\n");
        pg_dump_log(pg);
        return -1;
    }

    snprintf(bin, sizeof(bin), "%s/postgres", TH_PG_BINDIR);
    snprintf(port_s, sizeof(port_s), "%u", pg->port);
    char *server[] = {bin,
                      "-D",
                      pg->dir,
                      "-p",
                      port_s,
                      "-k",
                      pg->dir,
                      "-c",
                      "listen_addresses=127.0.0.1",
                      "-c",
                      "fsync=off",
                      "-c",
                      "TimeZone=UTC",
                      "-c",
                      "DateStyle=ISO, MDY",
                      NULL};
    pg->pid = spawn_as(pw, pg->log, server);
    if (pg->pid < 0) {
        pg->pid = 0;
        return -1;
    }
    double deadline = now_s() + 60;
    while (!pg_answers(pg)) {
        if (waitpid(pg->pid, &status, WNOHANG) == pg->pid) {
            fprintf(stderr, "harness: pg: postgres exited (status 0x%x)\n",
                    status);
            pg->pid = 0;
            pg_dump_log(pg);
            return -1;
        }
        if (now_s() >= deadline) {
            fprintf(stderr, "harness: pg: no connection after 60 s\n");
            pg_dump_log(pg);
            th_pg_stop(pg);
            return -1;
        }
        /* Polling a server that is starting; nothing to wait on. */
        usleep(50 * 1000);
    }
    return 0;
}

int
th_pg_stop(struct th_pg *pg)
{
    int status;

    if (pg->pid <= 0)
        return 0;
    kill(pg->pid, SIGTERM);
    status = wait_exit(pg->pid, 30);
    if (status == -1) {
        fprintf(stderr, "harness: postgres (pid %d) ignored SIGTERM; killing\n",
                (int)pg->pid);
        kill(pg->pid, SIGKILL);
        wait_exit(pg->pid, 15);
        pg->pid = 0;
        pg_dump_log(pg);
        return -1;
    }
    pg->pid = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "harness: postgres exited badly (status 0x%x)\n",
                status);
        pg_dump_log(pg);
        return -1;
    }
    return 0;
}

PGconn *
th_pg_connect(const struct th_pg *pg)
{
    char conninfo[128];
    snprintf(conninfo, sizeof(conninfo),
             "host=127.0.0.1 port=%u user=postgres dbname=postgres "
             "connect_timeout=10",
             pg->port);
    PGconn *conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "harness: pg connect: %s", PQerrorMessage(conn));
        abort();
    }
    return conn;
}
