/* Unit tests of the cluster client's hooks and node set
 * (common/client/client.c); the retry state machine itself is pinned by
 * test_router_retry.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "common/client/client.h"

static struct tl_cluster_config cfg;

/* A client of three nodes with three replicas per group, without node
 * connections, with @hooks. */
static void
make_client(struct tl_client *c, const struct tl_client_hooks *hooks)
{
    tl_cluster_config_defaults(&cfg);
    cfg.n_nodes = 3;
    cfg.n_replicas = 3;
    cfg.n_shards = 6;
    cfg.request_timeout_ms = 5000;
    for (uint32_t i = 0; i < cfg.n_nodes; i++) {
        cfg.nodes[i].id = i + 1;
        snprintf(cfg.nodes[i].rpc_addr, TL_ADDR_MAX, "127.0.0.1:%u", 7100 + i);
    }
    memset(c, 0, sizeof(*c));
    c->cfg = &cfg;
    if (hooks != NULL)
        c->opts.hooks = *hooks;
}

/* A node's Error reply with @code, and the map version it has. */
struct reply {
    Talus__Response resp;
    Talus__Error err;
};

static const Talus__Response *
error_reply(struct reply *rp, int code, uint64_t hint, uint64_t version)
{
    talus__response__init(&rp->resp);
    talus__error__init(&rp->err);
    rp->err.message = (char *)"refused";
    rp->err.has_code = 1;
    rp->err.code = code;
    rp->resp.error = &rp->err;
    rp->resp.has_leader_hint = hint != 0;
    rp->resp.leader_hint = hint;
    rp->resp.has_map_version = version != 0;
    rp->resp.map_version = version;
    return &rp->resp;
}

static int stale_answer;
static uint64_t stale_version;
static int n_learn;

static int
stale_cb(void *arg, const struct tl_client_retry *t, uint64_t version,
         struct tl_error *err)
{
    (void)arg;
    (void)t;
    (void)err;
    stale_version = version;
    return stale_answer;
}

static void
learn_cb(void *arg)
{
    (void)arg;
    n_learn++;
}

static bool
stop_cb(void *arg)
{
    (void)arg;
    return true;
}

/* Without a stale_cb a stale-version refusal is the call's answer; with
 * one, the hook hears the node's version and the call is sent again at
 * once, or fails with 42P01 when the hook says the table is gone. */
static void
test_stale_policy_is_the_hook(void **state)
{
    struct tl_client c;
    struct tl_client_retry t;
    struct tl_error err;
    struct reply rp;
    struct tl_client_hooks hooks = {.stale_cb = stale_cb};
    (void)state;
    make_client(&c, NULL);
    tl_client_retry_init(&c, &t, 0, TL_CLIENT_READ, tl_client_now_ms() + 5000);
    assert_int_equal(
        tl_client_retry_next(&c, &t, 0, error_reply(&rp, TL_ESTALE, 0, 7)),
        TL_CLIENT_DONE);

    make_client(&c, &hooks);
    stale_answer = 0;
    tl_client_retry_init(&c, &t, 0, TL_CLIENT_READ, tl_client_now_ms() + 5000);
    assert_int_equal(
        tl_client_retry_next(&c, &t, 0, error_reply(&rp, TL_ESTALE, 0, 7)),
        TL_CLIENT_RETRY);
    assert_int_equal(stale_version, 7);
    assert_int_equal(t.node, 1); /* the same node, at once */
    assert_true(t.next_at_ms <= tl_client_now_ms());

    stale_answer = TL_ENOTFOUND;
    t.table_id = 1234;
    assert_int_equal(
        tl_client_retry_next(&c, &t, 0, error_reply(&rp, TL_ESTALE, 0, 8)),
        TL_CLIENT_FAILED);
    assert_int_equal(tl_client_retry_error(&c, &t, &err), TL_ESTALE);
    assert_string_equal(err.sqlstate, "42P01");
}

/* A hint naming a node the configuration lacks asks learn_cb for nodes,
 * and the retry goes on among the known ones. */
static void
test_unknown_hint_learns_nodes(void **state)
{
    struct tl_client c;
    struct tl_client_retry t;
    struct reply rp;
    struct tl_client_hooks hooks = {.learn_cb = learn_cb};
    (void)state;
    make_client(&c, &hooks);
    n_learn = 0;
    tl_client_retry_init(&c, &t, 0, TL_CLIENT_READ, tl_client_now_ms() + 5000);
    assert_int_equal(
        tl_client_retry_next(&c, &t, 0, error_reply(&rp, TL_ENOTLEADER, 5, 0)),
        TL_CLIENT_RETRY);
    assert_int_equal(n_learn, 1);
    assert_int_equal(t.node, 2);
}

/* A leader noted from elsewhere (a node's own raft view) is where the
 * next call starts; a node outside the configuration is ignored. */
static void
test_noted_leader_starts_calls(void **state)
{
    struct tl_client c;
    struct tl_client_retry t;
    (void)state;
    make_client(&c, NULL);
    tl_client_note_leader(&c, TL_META_GROUP, 3, "raft");
    tl_client_note_leader(&c, TL_META_GROUP, 9, "raft");
    tl_client_retry_init(&c, &t, TL_META_GROUP, TL_CLIENT_READ,
                         tl_client_now_ms() + 5000);
    assert_int_equal(t.node, 3);
    assert_int_equal(tl_client_leader(&c, TL_META_GROUP), 3);
}

/* A node set learned from a ClusterMap: the new node gets a client and
 * an address, the ids in between placeholders, and n_nodes grows; a call
 * whose stop_cb says so ends with TL_ESHUTDOWN before sending anything. */
static void
test_add_nodes_and_stop(void **state)
{
    struct tl_client c;
    struct tl_client_retry t;
    struct tl_client_opts opts = {.hooks = {.stop_cb = stop_cb}};
    Talus__ClusterMap m = TALUS__CLUSTER_MAP__INIT;
    Talus__NodeRecord five = TALUS__NODE_RECORD__INIT;
    Talus__NodeRecord *recs[1] = {&five};
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__Response *resp = (void *)1;
    (void)state;
    make_client(&c, NULL);
    assert_int_equal(tl_client_init(&c, &cfg, &opts), 0);
    five.id = 5;
    five.rpc_addr = (char *)"127.0.0.1:1";
    five.raft_addr = (char *)"127.0.0.1:2";
    m.n_nodes = 1;
    m.nodes = recs;
    assert_int_equal(tl_client_add_nodes(&c, &m), 1);
    assert_int_equal(cfg.n_nodes, 5);
    assert_string_equal(cfg.nodes[4].rpc_addr, "127.0.0.1:1");
    assert_non_null(tl_client_node(&c, 4)); /* a placeholder */
    assert_non_null(tl_client_node(&c, 5));
    assert_int_equal(tl_client_add_nodes(&c, &m), 0);

    tl_client_retry_init(&c, &t, 0, TL_CLIENT_READ, tl_client_now_ms() + 5000);
    assert_int_equal(tl_client_call(&c, &t, &req, &resp), TL_ESHUTDOWN);
    assert_null(resp);
    assert_int_equal(t.n_attempts, 0);
    tl_client_close(&c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stale_policy_is_the_hook),
        cmocka_unit_test(test_unknown_hint_learns_nodes),
        cmocka_unit_test(test_noted_leader_starts_calls),
        cmocka_unit_test(test_add_nodes_and_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
