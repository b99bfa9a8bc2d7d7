/* Router incarnations in the meta group: two running routers both appear
 * in `shardctl routers` with a live lease; a router killed by signal 9
 * keeps its record until the lease runs out, and restarting it with the
 * same --router-id registers a higher incarnation; a router stopped
 * cleanly (SIGTERM) removes its record, and stops promptly even when the
 * meta group is gone. */
#include <jansson.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"

#define ROUTER_ID 7
/* Bounds of the polls below: a lease is 5 s, renewed every second. */
#define APPEAR_S 30
#define EXPIRE_S 20

static struct th_cluster cluster;

static int
setup(void **state)
{
    struct th_options o = {.n_nodes = 3,
                           .n_shards = 2,
                           .n_replicas = 3,
                           .router_args = "--router-id 7"};
    (void)state;
    if (th_cluster_start(&cluster, &o) != 0)
        return -1;
    return th_router2_start(&cluster);
}

static int
teardown(void **state)
{
    (void)state;
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

/* The contents of @path (malloc'd, NUL-terminated; "" if unreadable). */
static char *
slurp_file(const char *path)
{
    FILE *f = fopen(path, "r");
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    if (f != NULL) {
        size_t got;
        while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
            n += got;
            if (n + 1 == cap) {
                cap *= 2;
                buf = realloc(buf, cap);
                assert_non_null(buf);
            }
        }
        fclose(f);
    }
    buf[n] = '\0';
    return buf;
}

/* One router as `shardctl routers --json` shows it. */
struct seen {
    bool present;
    bool alive;
    uint64_t incarnation;
    int64_t lease_remaining_ms;
};

/* The routers shardctl lists: *@n of them (alive or not) and @id's entry
 * in *@r, @other_port's (the router listening there) in *@other. false if
 * shardctl failed. */
static bool
list_routers(uint32_t id, uint16_t other_port, size_t *n, struct seen *r,
             struct seen *other)
{
    char path[PATH_MAX + 32], addr[64];
    snprintf(path, sizeof path, "%s/routers.json", cluster.dir);
    snprintf(addr, sizeof addr, "127.0.0.1:%u", other_port);
    memset(r, 0, sizeof *r);
    memset(other, 0, sizeof *other);
    *n = 0;
    if (th_shardctl(&cluster, path, "routers", "--json", NULL) != 0)
        return false;
    /* The file holds shardctl's stderr too (a retry it logged): the
     * JSON is the line that starts with '{' and what follows. */
    json_error_t e;
    char *text = slurp_file(path);
    const char *start = text;
    while (start != NULL && *start != '\0' && *start != '{') {
        start = strchr(start, '\n');
        if (start != NULL)
            start++;
    }
    json_t *j = start != NULL && *start == '{'
                    ? json_loads(start, JSON_DISABLE_EOF_CHECK, &e)
                    : NULL;
    if (j == NULL)
        fail_msg("shardctl routers --json printed no JSON: %s", text);
    free(text);
    json_t *list = json_object_get(j, "routers");
    assert_true(json_is_array(list));
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o)
    {
        struct seen s = {
            .present = true,
            .alive = json_is_true(json_object_get(o, "alive")),
            .incarnation =
                (uint64_t)json_integer_value(json_object_get(o, "incarnation")),
            .lease_remaining_ms =
                json_integer_value(json_object_get(o, "lease_remaining_ms")),
        };
        const char *a = json_string_value(json_object_get(o, "address"));
        assert_non_null(a);
        assert_true(s.incarnation > 0);
        if (json_integer_value(json_object_get(o, "id")) == id)
            *r = s;
        if (strcmp(a, addr) == 0)
            *other = s;
    }
    *n = json_array_size(list);
    json_decref(j);
    return true;
}

static void
pause_ms(long ms)
{
    struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&d, NULL); /* between polls of shardctl */
}

/* Both routers register with a live lease: the first under its
 * --router-id, the second under a generated one, each with an incarnation
 * taken from the oracle (near the wall clock); `shardctl routers` prints
 * them as a table too. */
static void
test_two_routers_appear(void **state)
{
    (void)state;
    struct seen r, other;
    size_t n = 0;
    double deadline = th_now() + APPEAR_S;
    while (th_now() < deadline) {
        if (list_routers(ROUTER_ID, cluster.router2_port, &n, &r, &other) &&
            r.alive && other.alive)
            break;
        pause_ms(200);
    }
    assert_true(r.alive);
    assert_true(other.alive);
    assert_int_equal(n, 2);
    assert_true(r.lease_remaining_ms > 0 && r.lease_remaining_ms <= 5000);
    assert_true(r.incarnation != other.incarnation);
    /* Incarnations are oracle timestamps: physical ms << 18. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t wall = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    int64_t phys = (int64_t)(r.incarnation >> 18);
    assert_true(phys <= wall + 1000 && phys > wall - 120000);

    /* The human table lists both, under their ids. */
    char path[PATH_MAX + 32], line[512], id[16];
    bool header = false, found_id = false, summary = false;
    snprintf(path, sizeof path, "%s/routers.txt", cluster.dir);
    snprintf(id, sizeof id, "%u ", ROUTER_ID);
    assert_int_equal(th_shardctl(&cluster, path, "routers", NULL), 0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f) != NULL) {
        header |= strncmp(line, "ROUTER ", 7) == 0;
        found_id |= strncmp(line, id, strlen(id)) == 0;
        summary |= strcmp(line, "2 routers, 2 alive\n") == 0;
    }
    fclose(f);
    assert_true(header);
    assert_true(found_id);
    assert_true(summary);
}

/* Killed by signal 9, router 7 leaves its record to expire; the other
 * stays alive. Restarted with the same id, it takes a higher
 * incarnation. */
static void
test_kill_expires_restart_supersedes(void **state)
{
    (void)state;
    struct seen r, other;
    size_t n = 0;
    assert_true(list_routers(ROUTER_ID, cluster.router2_port, &n, &r, &other));
    assert_true(r.alive);
    uint64_t first = r.incarnation;

    th_router_signal(&cluster, SIGKILL);
    double deadline = th_now() + EXPIRE_S;
    while (th_now() < deadline) {
        if (list_routers(ROUTER_ID, cluster.router2_port, &n, &r, &other) &&
            r.present && !r.alive)
            break;
        pause_ms(250);
    }
    assert_true(r.present);
    assert_false(r.alive);
    assert_true(r.incarnation == first);
    assert_true(other.alive); /* renewed meanwhile */

    assert_int_equal(th_router_start(&cluster), 0);
    deadline = th_now() + APPEAR_S;
    while (th_now() < deadline) {
        if (list_routers(ROUTER_ID, cluster.router2_port, &n, &r, &other) &&
            r.alive)
            break;
        pause_ms(200);
    }
    assert_true(r.alive);
    assert_true(r.incarnation > first);
    assert_int_equal(n, 2);
}

/* SIGTERM: the router deletes its own record before it exits. */
static void
test_clean_stop_removes_record(void **state)
{
    (void)state;
    struct seen r, other;
    size_t n = 0;
    th_router2_signal(&cluster, SIGTERM);
    assert_true(list_routers(ROUTER_ID, cluster.router2_port, &n, &r, &other));
    assert_false(other.present);
    assert_true(r.alive);
    assert_int_equal(n, 1);
}

/* With every node gone, a router still stops at once on SIGTERM (its
 * lease thread gives up on the meta group within its budget), exiting
 * cleanly. */
static void
test_stop_without_meta_group(void **state)
{
    (void)state;
    for (uint32_t id = 1; id <= 3; id++)
        th_node_signal(&cluster, id, SIGKILL);
    /* Let a renewal start against the dead group. */
    pause_ms(1500);
    double t0 = th_now();
    th_router_signal(&cluster, SIGTERM);
    assert_true(th_now() - t0 < 12);
    assert_int_equal(cluster.n_bad_exits, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_routers_appear),
        cmocka_unit_test(test_kill_expires_restart_supersedes),
        cmocka_unit_test(test_clean_stop_removes_record),
        cmocka_unit_test(test_stop_without_meta_group),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
