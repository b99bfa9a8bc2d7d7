/* shardctl on a 3-node cluster: status, nodes, shards, tables and route in
 * human and --json form, vschema apply/show and a plain CREATE TABLE that
 * takes its vschema entry, bad vschema files rejected with the catalog
 * unchanged, an unreachable cluster, and --help on every command. */
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static struct th_cluster cluster;
static PGconn *conn;

static int
setup(void **state)
{
    (void)state;
    struct th_options o = {.n_nodes = 3, .n_shards = 6, .n_replicas = 3};
    if (th_cluster_start(&cluster, &o) != 0)
        return -1;
    conn = th_connect(&cluster);
    return conn == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    (void)state;
    PQfinish(conn);
    return th_cluster_stop(&cluster);
}

#define SCRATCH_MAX (PATH_MAX + 64)

/* Path of scratch file @name in the cluster's directory, into @buf
 * (SCRATCH_MAX bytes). */
static const char *
scratch(char *buf, const char *name)
{
    snprintf(buf, SCRATCH_MAX, "%.*s/%s", PATH_MAX - 1, cluster.dir, name);
    return buf;
}

/* The whole of file @path (caller frees). */
static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return s;
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Run shardctl with the args (NULL-terminated); *@out gets its output
 * (stdout and stderr; caller frees); returns the exit status. */
static int
run(char **out, ...)
{
    char *argv[16];
    char bin[PATH_MAX];
    int argc = 0;
    va_list ap;
    char path_buf[SCRATCH_MAX];
    const char *path = scratch(path_buf, "shardctl.out");
    snprintf(bin, sizeof bin, "%s", TALUS_BIN_DIR "/shardctl/shardctl");
    argv[argc++] = bin;
    argv[argc++] = "--config";
    argv[argc++] = cluster.conf;
    va_start(ap, out);
    for (char *a = va_arg(ap, char *); a != NULL && argc < 15;
         a = va_arg(ap, char *))
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    int rv = th_run(argv, path);
    *out = slurp(path);
    /* TALUS_TEST_VERBOSE=1 shows each command and its output. */
    if (getenv("TALUS_TEST_VERBOSE") != NULL) {
        fprintf(stderr, "$ shardctl");
        for (int i = 3; i < argc; i++)
            fprintf(stderr, " %s", argv[i]);
        fprintf(stderr, "  (exit %d)\n%s\n", rv, *out);
    }
    return rv;
}

/* Parse @text as JSON; fails the test if it is not. */
static json_t *
parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (j == NULL)
        fail_msg("not JSON (%s): %s", e.text, text);
    return j;
}

/* `status` lists every shard and ends with the node and quorum summary;
 * --json has nodes, shards, meta and a summary with 3 nodes up. */
static void
test_status(void **state)
{
    char *out;
    (void)state;
    assert_int_equal(run(&out, "status", NULL), 0);
    assert_non_null(strstr(out, "SHARD"));
    assert_non_null(strstr(out, "nodes: 3 up, 0 down"));
    assert_non_null(strstr(out, "groups without quorum (no leader): 0 of 7"));
    free(out);
    assert_int_equal(run(&out, "--json", "status", NULL), 0);
    json_t *j = parse(out);
    assert_int_equal(json_array_size(json_object_get(j, "shards")), 6);
    json_t *sum = json_object_get(j, "summary");
    assert_int_equal(json_integer_value(json_object_get(sum, "nodes_up")), 3);
    assert_int_equal(
        json_integer_value(json_object_get(sum, "groups_without_quorum")), 0);
    json_decref(j);
    free(out);
}

/* `nodes` shows every node up with the shards it hosts and leads; with 3
 * replicas each node hosts all 6 shards and the leaders add up to 6. */
static void
test_nodes(void **state)
{
    char *out;
    (void)state;
    assert_int_equal(run(&out, "nodes", NULL), 0);
    assert_non_null(strstr(out, "RAFT"));
    assert_non_null(strstr(out, "3 of 3 nodes up"));
    free(out);
    assert_int_equal(run(&out, "nodes", "--json", NULL), 0);
    json_t *j = parse(out);
    json_t *nodes = json_object_get(j, "nodes");
    size_t i, led = 0;
    json_t *n;
    assert_int_equal(json_array_size(nodes), 3);
    json_array_foreach(nodes, i, n)
    {
        assert_true(json_is_true(json_object_get(n, "up")));
        /* 6 shards and the meta group */
        assert_int_equal(json_array_size(json_object_get(n, "hosts")), 7);
        led += json_array_size(json_object_get(n, "leads"));
    }
    assert_int_equal(led, 7);
    json_decref(j);
    free(out);
}

/* `shards` gives each shard the hash range tl_vindex_hash_shard assigns
 * it: contiguous, from 0 to 2^64, with a leader and three replicas. */
static void
test_shards(void **state)
{
    char *out;
    (void)state;
    assert_int_equal(run(&out, "shards", NULL), 0);
    assert_non_null(strstr(out, "[0000000000000000, 2aaaaaaaaaaaaaab)"));
    free(out);
    assert_int_equal(run(&out, "shards", "--json", NULL), 0);
    json_t *j = parse(out);
    json_t *shards = json_object_get(j, "shards");
    assert_int_equal(json_array_size(shards), 6);
    const char *prev_end = "0000000000000000";
    size_t i;
    json_t *s;
    json_array_foreach(shards, i, s)
    {
        assert_string_equal(json_string_value(json_object_get(s, "hash_start")),
                            prev_end);
        prev_end = json_string_value(json_object_get(s, "hash_end"));
        assert_true(json_integer_value(json_object_get(s, "leader")) > 0);
        assert_int_equal(json_array_size(json_object_get(s, "replicas")), 3);
    }
    assert_string_equal(prev_end, "10000000000000000");
    json_decref(j);
    free(out);
}

/* `tables` lists each table with its kind, vindex, column, boundaries
 * and column count, in human and JSON form. */
static void
test_tables(void **state)
{
    char *out;
    (void)state;
    assert_true(th_ok(conn, "CREATE TABLE t_hash (id int PRIMARY KEY, v text) "
                            "PARTITION BY HASH (id)"));
    assert_true(th_ok(conn, "CREATE TABLE t_range (n int PRIMARY KEY) "
                            "PARTITION BY RANGE (n) WITH (boundaries = "
                            "'10,20')"));
    assert_true(th_ok(conn, "CREATE TABLE t_ref (code text PRIMARY KEY) WITH "
                            "(distribution = 'reference')"));
    assert_int_equal(run(&out, "tables", NULL), 0);
    assert_non_null(strstr(out, "t_hash"));
    assert_non_null(strstr(out, "reference"));
    assert_non_null(strstr(out, "10,20"));
    free(out);
    assert_int_equal(run(&out, "tables", "--json", NULL), 0);
    json_t *j = parse(out);
    size_t i, seen = 0;
    json_t *t;
    json_array_foreach(json_object_get(j, "tables"), i, t)
    {
        const char *name = json_string_value(json_object_get(t, "name"));
        const char *kind = json_string_value(json_object_get(t, "kind"));
        if (strcmp(name, "t_hash") == 0) {
            assert_string_equal(kind, "sharded");
            assert_string_equal(json_string_value(json_object_get(t, "vindex")),
                                "hash");
            assert_int_equal(json_integer_value(json_object_get(t, "columns")),
                             2);
            seen++;
        } else if (strcmp(name, "t_range") == 0) {
            json_t *b = json_object_get(t, "boundaries");
            assert_int_equal(json_array_size(b), 2);
            assert_string_equal(json_string_value(json_array_get(b, 1)), "20");
            seen++;
        } else if (strcmp(name, "t_ref") == 0) {
            assert_string_equal(kind, "reference");
            seen++;
        }
    }
    assert_int_equal(seen, 3);
    json_decref(j);
    free(out);
}

/* After `vschema apply`, a plain CREATE TABLE pgbench_accounts takes the
 * hash vindex on aid (a point query routes to one shard), countries
 * becomes a reference table and events a range table; explicit DDL
 * clauses win over the entry; an entry the table's DDL cannot take is
 * refused like the equivalent clause; `vschema show` lists the entries
 * with what the catalog says. */
static void
test_vschema_apply_and_create(void **state)
{
    char *out;
    (void)state;
    char file_buf[SCRATCH_MAX];
    const char *file = scratch(file_buf, "vschema.json");
    write_file(file,
               "{\"tables\": {\n"
               "  \"pgbench_accounts\": {\"vindex\": \"hash\", \"column\": "
               "\"aid\"},\n"
               "  \"events\": {\"vindex\": \"range\", \"column\": \"at\", "
               "\"boundaries\": [\"2026-01-01\", \"2026-07-01\"]},\n"
               "  \"carts\": {\"vindex\": \"consistent_hash\", \"column\": "
               "\"user_id\"},\n"
               "  \"countries\": {\"distribution\": \"reference\"},\n"
               "  \"settings\": {\"distribution\": \"unsharded\"},\n"
               "  \"explicit\": {\"distribution\": \"reference\"},\n"
               "  \"orders\": {\"vindex\": \"hash\", \"column\": "
               "\"customer\"}}}\n");
    assert_int_equal(run(&out, "vschema", "apply", file, NULL), 0);
    assert_non_null(strstr(out, "vschema applied: 7 tables"));
    free(out);

    assert_true(th_ok(conn, "CREATE TABLE pgbench_accounts (aid int NOT NULL "
                            "PRIMARY KEY, bid int, abalance int)"));
    assert_true(th_ok(conn, "CREATE TABLE events (at date PRIMARY KEY, body "
                            "text)"));
    assert_true(th_ok(conn, "CREATE TABLE carts (user_id int, item text)"));
    assert_true(th_ok(conn, "CREATE TABLE countries (code text PRIMARY KEY)"));
    assert_true(th_ok(conn, "CREATE TABLE explicit (id int PRIMARY KEY) "
                            "PARTITION BY HASH (id)"));
    /* The entry's key is not in the primary key: the DDL's own check
     * refuses it, as it would refuse PARTITION BY HASH (customer). */
    assert_string_equal(th_sqlstate(conn, "CREATE TABLE orders (id int "
                                          "PRIMARY KEY, customer int)"),
                        "0A000");

    assert_int_equal(run(&out, "route", "--json",
                         "SELECT * FROM pgbench_accounts WHERE aid = 1", NULL),
                     0);
    json_t *j = parse(out);
    assert_int_equal(json_array_size(json_object_get(j, "shards")), 1);
    json_decref(j);
    free(out);

    assert_int_equal(run(&out, "tables", "--json", NULL), 0);
    j = parse(out);
    size_t i, seen = 0;
    json_t *t;
    json_array_foreach(json_object_get(j, "tables"), i, t)
    {
        const char *name = json_string_value(json_object_get(t, "name"));
        const char *kind = json_string_value(json_object_get(t, "kind"));
        const char *vindex = json_string_value(json_object_get(t, "vindex"));
        if (strcmp(name, "pgbench_accounts") == 0) {
            assert_string_equal(vindex, "hash");
            assert_string_equal(json_string_value(json_object_get(t, "column")),
                                "aid");
            seen++;
        } else if (strcmp(name, "events") == 0) {
            assert_string_equal(vindex, "range");
            assert_int_equal(json_array_size(json_object_get(t, "boundaries")),
                             2);
            seen++;
        } else if (strcmp(name, "carts") == 0) {
            assert_string_equal(vindex, "consistent_hash");
            seen++;
        } else if (strcmp(name, "countries") == 0) {
            assert_string_equal(kind, "reference");
            seen++;
        } else if (strcmp(name, "explicit") == 0) {
            assert_string_equal(kind, "sharded"); /* its DDL wins */
            seen++;
        }
    }
    assert_int_equal(seen, 5);
    json_decref(j);
    free(out);

    assert_int_equal(run(&out, "vschema", "show", NULL), 0);
    assert_non_null(strstr(out, "sharded hash(aid)"));
    assert_non_null(strstr(out, "(not created yet)")); /* settings */
    free(out);
    assert_int_equal(run(&out, "vschema", "show", "--json", NULL), 0);
    j = parse(out);
    json_t *tabs = json_object_get(j, "tables");
    assert_int_equal(json_object_size(tabs), 7);
    json_t *acc = json_object_get(tabs, "pgbench_accounts");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(acc, "catalog"), "vindex")),
                        "hash");
    assert_true(json_is_null(
        json_object_get(json_object_get(tabs, "settings"), "catalog")));
    json_decref(j);
    free(out);
}

/* Each bad vschema file exits 1 with a message naming the problem, and
 * `vschema show --json` is byte-for-byte what it was before. */
static void
test_vschema_bad_input(void **state)
{
    static const struct {
        const char *json;
        const char *message;
    } bad[] = {
        {"{\"tables\": {\"a\": {\"vindex\": \"md5\", \"column\": \"x\"}}}",
         "unknown vindex \"md5\""},
        {"{\"tables\": {\"a\": {\"vindex\": \"hash\"}}}",
         "missing column name"},
        {"{\"tables\": {\"pgbench_accounts\": {\"vindex\": \"hash\", "
         "\"column\": \"nope\"}}}",
         "table \"pgbench_accounts\" has no column \"nope\""},
        {"{\"tables\": {\"a\": {\"vindex\": 7, \"column\": \"x\"}}}",
         "\"vindex\" must be a string"},
        {"{\"tables\": {\"a\": {\"vindex\": \"range\", \"column\": \"x\", "
         "\"boundaries\": [\"b\", \"a\"]}}}",
         "strictly increasing"},
        {"{\"tables\": {\"a\": {\"vindex\": \"range\", \"column\": \"x\", "
         "\"boundaries\": [5, 5]}}}",
         "strictly increasing"},
        {"{\"tables\": {\"a\": {\"distribution\": \"mirrored\"}}}",
         "unknown table kind"},
        {"{\"tables\": {\"a\": {\"vindex\": \"hash\",\n \"column\": }}}",
         ":2:"},
        {"{\"tables\": []}", "expected an object"},
    };
    char *before, *out, *after;
    char file_buf[SCRATCH_MAX];
    const char *file = scratch(file_buf, "bad.json");
    (void)state;
    assert_int_equal(run(&before, "vschema", "show", "--json", NULL), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(file, bad[i].json);
        assert_int_equal(run(&out, "vschema", "apply", file, NULL), 1);
        if (strstr(out, bad[i].message) == NULL)
            fail_msg("case %zu: no \"%s\" in: %s", i, bad[i].message, out);
        free(out);
        assert_int_equal(run(&after, "vschema", "show", "--json", NULL), 0);
        assert_string_equal(after, before);
        free(after);
    }
    free(before);
}

/* `route` prints the router's EXPLAIN: a point query on a hash table
 * names one shard, a full scan names every shard. */
static void
test_route(void **state)
{
    char *out;
    (void)state;
    assert_int_equal(
        run(&out, "route", "SELECT * FROM t_hash WHERE id = 7", NULL), 0);
    assert_non_null(strstr(out, "Route: single shard"));
    free(out);
    assert_int_equal(run(&out, "--json", "route", "SELECT * FROM t_hash", NULL),
                     0);
    json_t *j = parse(out);
    assert_int_equal(json_array_size(json_object_get(j, "shards")), 6);
    assert_true(json_array_size(json_object_get(j, "lines")) > 0);
    json_decref(j);
    free(out);
    /* A statement the router refuses: exit 1 with its message. */
    assert_int_equal(run(&out, "route", "SELECT * FROM no_such_table", NULL),
                     1);
    assert_non_null(strstr(out, "no_such_table"));
    free(out);
}

/* With no node or router listening, every command that needs the cluster
 * exits 1 with a message saying the cluster cannot be reached. */
static void
test_unreachable(void **state)
{
    char conf_buf[SCRATCH_MAX];
    const char *conf = scratch(conf_buf, "dead.conf");
    char bin[PATH_MAX];
    (void)state;
    write_file(conf, "shards = 2\nreplicas = 1\n"
                     "router.listen = 127.0.0.1:1\n"
                     "node.1.rpc = 127.0.0.1:1\nnode.1.raft = 127.0.0.1:2\n"
                     "node.1.dir = /nonexistent\n");
    snprintf(bin, sizeof bin, "%s", TALUS_BIN_DIR "/shardctl/shardctl");
    static const char *cmds[][3] = {
        {"status", NULL}, {"nodes", NULL},     {"shards", NULL},
        {"tables", NULL}, {"vschema", "show"}, {"route", "SELECT 1"},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char *argv[] = {bin,
                        "--config",
                        (char *)conf,
                        (char *)cmds[i][0],
                        (char *)cmds[i][1],
                        NULL};
        char path_buf[SCRATCH_MAX];
        const char *path = scratch(path_buf, "dead.out");
        assert_int_equal(th_run(argv, path), 1);
        char *out = slurp(path);
        if (strstr(out, "cannot reach") == NULL)
            fail_msg("%s: %s", cmds[i][0], out);
        free(out);
    }
}

/* The node @id (1-based) of `status --json` output @j. */
static json_t *
json_node(json_t *j, uint32_t id)
{
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(j, "nodes"), i, n)
    {
        if (json_integer_value(json_object_get(n, "id")) == (json_int_t)id)
            return n;
    }
    fail_msg("node %u not in the status", id);
    return NULL;
}

/* Key counts in `status` come from each shard leader's cheap estimate
 * (the nodes run with TALUS_KEYS_EXACT_MAX=0, so every shard is
 * estimated, as a shard of millions would be), are labelled as estimates
 * and are close to the real count of a table of thousands of rows. */
static void
test_key_estimates(void **state)
{
    unsigned long long scans[6], writes[6], exact[6];
    char sql[8192];
    char *out;
    (void)state;

    assert_true(th_ok(conn, "CREATE TABLE est (id bigint PRIMARY KEY, "
                            "v text) PARTITION BY HASH (id)"));
    /* 3,000 rows, 100 per INSERT, as a loader batches them. */
    for (int b = 0; b < 30; b++) {
        size_t off =
            (size_t)snprintf(sql, sizeof sql, "INSERT INTO est VALUES ");
        for (int i = 0; i < 100; i++)
            off += (size_t)snprintf(sql + off, sizeof sql - off,
                                    "%s(%d, 'row %d')", i ? ", " : "",
                                    b * 100 + i, b * 100 + i);
        assert_true(th_ok(conn, sql));
    }
    /* The real count per shard (every key read: the test may), once the
     * last node asked (a follower) has applied the last INSERT. */
    unsigned long long real = 0, shown = 0;
    double deadline = th_now() + 30;
    do {
        if (real > 0)
            usleep(50 * 1000); /* followers apply within milliseconds */
        assert_int_equal(th_shard_counters(&cluster, scans, writes, exact), 0);
        real = 0;
        for (int s = 0; s < 6; s++)
            real += exact[s];
    } while (real < 3000 && th_now() < deadline);
    if (real < 3000)
        fail_msg("exact keys add up to %llu, not 3000 or more", real);

    assert_int_equal(run(&out, "status", NULL), 0);
    assert_non_null(strstr(out, " ~"));
    assert_non_null(strstr(out, "RocksDB's estimate"));
    free(out);
    assert_int_equal(run(&out, "--json", "status", NULL), 0);
    json_t *j = parse(out);
    size_t i;
    json_t *sh;
    json_array_foreach(json_object_get(j, "shards"), i, sh)
    {
        unsigned long long k =
            (unsigned long long)json_integer_value(json_object_get(sh, "keys"));
        /* An empty shard is counted exactly, for free. */
        if (exact[i] > 0)
            assert_true(json_is_true(json_object_get(sh, "keys_estimated")));
        /* Never above the real count by more than the applied-index
         * rewrites still in the memtable (one per INSERT) and RocksDB's
         * sampling. It may be far below it until a compaction: each
         * multi-shard INSERT is a transaction whose lock and lock-index
         * records are written and deleted again, and RocksDB's estimate
         * subtracts deletes (docs/operations.md). */
        if (k > exact[i] + exact[i] / 5 + 50)
            fail_msg("shard %zu: estimate %llu, real %llu", i, k, exact[i]);
        shown += k;
    }
    if (shown > real + real / 5)
        fail_msg("estimates add up to %llu, real %llu", shown, real);
    json_decref(j);
    free(out);
}

/* A node frozen with SIGSTOP (it accepts connections but never answers)
 * is shown down in `status` and `nodes` while the others are shown up,
 * and both commands come back within seconds. */
static void
test_frozen_node(void **state)
{
    char *out;
    (void)state;

    th_node_signal(&cluster, 2, SIGSTOP);
    double start = th_now();
    run(&out, "--json", "status", NULL);
    double took = th_now() - start;
    json_t *j = parse(out);
    assert_string_equal(
        json_string_value(json_object_get(json_node(j, 2), "state")), "down");
    assert_true(json_is_false(json_object_get(json_node(j, 2), "up")));
    for (uint32_t id = 1; id <= 3; id += 2)
        assert_true(json_is_true(json_object_get(json_node(j, id), "up")));
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(j, "summary"), "nodes_down")),
                     1);
    json_decref(j);
    free(out);
    if (took > 8)
        fail_msg("status took %.1f s with a frozen node", took);

    run(&out, "status", NULL);
    assert_non_null(strstr(out, "nodes: 2 up, 1 down (down: 2)"));
    free(out);
    run(&out, "nodes", NULL);
    assert_non_null(strstr(out, "2 of 3 nodes up"));
    free(out);

    th_node_signal(&cluster, 2, SIGCONT);
    assert_int_equal(th_wait_ready(&cluster, 60), 0);
    /* The thawed node first works through what queued while it was
     * frozen (and a group may hold one more election): status turns
     * clean within a deadline. */
    double until = th_now() + 30;
    while (run(&out, "status", NULL) != 0) {
        assert_true(th_now() < until);
        free(out);
        th_wait_ready(&cluster, 5);
    }
    assert_non_null(strstr(out, "nodes: 3 up, 0 down"));
    free(out);
}

static char *slow_out;
static int slow_rv;

static void *
status_thread(void *arg)
{
    (void)arg;
    slow_rv = run(&slow_out, "--json", "status", NULL);
    return NULL;
}

/* A node that answers late — frozen while `status` waits, as a node busy
 * for that long would be — is shown slow (up, with the time it took),
 * never down. The freeze is the stimulus, not a wait for readiness: past
 * the 1 s soft deadline, before the 2 s connect and 5 s hard ones. How
 * long `status` itself takes to start (a loaded machine, sanitizers) eats
 * into the freeze it sees, so a run it saw as merely up (under 1 s) is
 * tried again with a longer freeze; down is a failure at once. */
static void
test_slow_node(void **state)
{
    (void)state;
    static const double freezes[] = {1.3, 1.6, 1.9};
    json_t *j = NULL;
    json_t *n2 = NULL;
    for (size_t k = 0; k < sizeof(freezes) / sizeof(freezes[0]); k++) {
        pthread_t t;
        th_node_signal(&cluster, 2, SIGSTOP);
        double start = th_now();
        assert_int_equal(pthread_create(&t, NULL, status_thread, NULL), 0);
        while (th_now() - start < freezes[k])
            usleep(10 * 1000);
        th_node_signal(&cluster, 2, SIGCONT);
        pthread_join(t, NULL);
        j = parse(slow_out);
        n2 = json_node(j, 2);
        assert_true(json_is_true(json_object_get(n2, "up")));
        const char *state2 = json_string_value(json_object_get(n2, "state"));
        if (strcmp(state2, "slow") == 0)
            break;
        if (strcmp(state2, "up") != 0 || k + 1 == 3)
            fail_msg("node 2 not slow: %s", slow_out);
        printf("slow node: status saw %lld ms, freezing longer\n",
               (long long)json_integer_value(json_object_get(n2, "ms")));
        json_decref(j);
        free(slow_out);
        assert_int_equal(th_wait_ready(&cluster, 60), 0);
    }
    assert_true(json_integer_value(json_object_get(n2, "ms")) >= 1000);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(j, "summary"), "nodes_slow")),
                     1);
    json_decref(j);
    free(slow_out);
    (void)slow_rv;
    assert_int_equal(th_wait_ready(&cluster, 60), 0);
}

/* A node that takes a fatal signal leaves a `level=fatal mod=crash` line
 * with a backtrace in its log and dies by the signal (under ASan, by the
 * sanitizer's report that follows ours); `status` then shows it down
 * while the other two answer and lead every shard. A router that aborts
 * leaves the same lines. Runs last: both stay dead. */
/* Send @sig (named @sig_name) to the server whose pid is *@pidp, reap it
 * (*@pidp becomes 0, so the harness does not count it) and check that it
 * died badly after writing the crash lines of process @proc to the log
 * file @log_name. */
static void
crash_and_check(pid_t *pidp, int sig, const char *sig_name, const char *proc,
                const char *log_name)
{
    char path[PATH_MAX + 32], want[128];
    int status = 0;
    pid_t pid = *pidp, r;

    assert_true(pid > 0);
    assert_int_equal(kill(pid, sig), 0);
    double deadline = th_now() + 30;
    while ((r = waitpid(pid, &status, WNOHANG)) == 0 && th_now() < deadline)
        usleep(10 * 1000); /* nothing to wait on but the child's exit */
    assert_int_equal(r, pid);
    *pidp = 0;
    assert_true(WIFSIGNALED(status) ||
                (WIFEXITED(status) && WEXITSTATUS(status) != 0));

    snprintf(path, sizeof path, "%s/%s", cluster.dir, log_name);
    snprintf(want, sizeof want,
             "level=fatal mod=crash event=signal proc=%s signal=%s", proc,
             sig_name);
    char *log = slurp(path);
    if (strstr(log, want) == NULL ||
        strstr(log, "level=fatal mod=crash event=frame n=0 at=") == NULL ||
        strstr(log, "level=fatal mod=crash event=end frames=") == NULL)
        fail_msg("no crash report in %s:\n%s", log_name, log);
    free(log);
}

static void
test_crashed_node(void **state)
{
    char *out;
    (void)state;

    crash_and_check(&cluster.nodes[2], SIGSEGV, "SIGSEGV", "talus-node",
                    "node3.log");

    run(&out, "status", NULL);
    assert_non_null(strstr(out, "nodes: 2 up, 1 down (down: 3)"));
    free(out);
    /* The two survivors elect leaders for the shards node 3 led. */
    assert_int_equal(
        th_shardctl(&cluster, NULL, "wait", "--timeout", "30", (char *)NULL),
        0);
    assert_int_equal(run(&out, "status", NULL), 0);
    assert_non_null(strstr(out, "groups without quorum (no leader): 0 of 7"));
    free(out);

    /* The router has the same handler (an abort: a failed assertion). */
    crash_and_check(&cluster.router, SIGABRT, "SIGABRT", "talus-router",
                    "router.log");
}

/* `--help` on every command and subcommand prints its usage and exits 0,
 * even without a configuration. */
static void
test_help(void **state)
{
    static const char *cmds[][2] = {
        {"status", NULL},     {"nodes", NULL},        {"shards", NULL},
        {"tables", NULL},     {"route", NULL},        {"vschema", NULL},
        {"vschema", "apply"}, {"vschema", "show"},    {"wait", NULL},
        {"replica", "add"},   {"leader", "transfer"}, {"help", NULL},
    };
    char bin[PATH_MAX];
    (void)state;
    snprintf(bin, sizeof bin, "%s", TALUS_BIN_DIR "/shardctl/shardctl");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char *argv[] = {bin,
                        "--config",
                        "/nonexistent",
                        (char *)cmds[i][0],
                        cmds[i][1] ? (char *)cmds[i][1] : "--help",
                        cmds[i][1] ? "--help" : NULL,
                        NULL};
        char path_buf[SCRATCH_MAX];
        const char *path = scratch(path_buf, "help.out");
        assert_int_equal(th_run(argv, path), 0);
        char *out = slurp(path);
        assert_non_null(strstr(out, "usage: shardctl"));
        free(out);
    }
}

int
main(void)
{
    /* The nodes (started by the harness, inheriting it) estimate the keys
     * of every shard, however small: test_key_estimates. */
    setenv("TALUS_KEYS_EXACT_MAX", "0", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_nodes),
        cmocka_unit_test(test_shards),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_vschema_apply_and_create),
        cmocka_unit_test(test_vschema_bad_input),
        cmocka_unit_test(test_route),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_key_estimates),
        cmocka_unit_test(test_frozen_node),
        cmocka_unit_test(test_slow_node),
        cmocka_unit_test(test_crashed_node),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
