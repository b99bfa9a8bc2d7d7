/* Unit tests of the router's leader following (common/client/client.c, as
 * the router configures it in router/core/router.c): where
 * each retry goes, after what pause, and what a client is told when the
 * deadline passes; plus the RPC client's fast failure on a dead node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "common/client/client.h"
#include "router/core/router_int.h"
#include "rpc.h"

/* A router config whose cluster client has no node clients (no call is
 * sent) and no hooks. */
static void
make_router(struct router *r, uint32_t n_nodes, uint32_t replicas)
{
    memset(r, 0, sizeof(*r));
    r->client.cfg = &r->cfg;
    r->client.opts.log_mod = "router";
    tl_cluster_config_defaults(&r->cfg);
    r->cfg.n_nodes = n_nodes;
    r->cfg.n_replicas = replicas;
    r->cfg.n_shards = 6;
    r->cfg.request_timeout_ms = 5000;
    for (uint32_t i = 0; i < n_nodes; i++) {
        r->cfg.nodes[i].id = i + 1;
        snprintf(r->cfg.nodes[i].rpc_addr, TL_ADDR_MAX, "127.0.0.1:%u",
                 7100 + i);
    }
}

/* A node's Error reply with @code, @msg and @hint. */
struct reply {
    Talus__Response resp;
    Talus__Error err;
};

static const Talus__Response *
error_reply(struct reply *rp, int code, const char *sqlstate, const char *msg,
            uint64_t hint)
{
    talus__response__init(&rp->resp);
    talus__error__init(&rp->err);
    rp->err.sqlstate = (char *)sqlstate;
    rp->err.message = (char *)msg;
    if (code != 0) {
        rp->err.has_code = 1;
        rp->err.code = code;
    }
    rp->resp.error = &rp->err;
    rp->resp.has_leader_hint = hint != 0;
    rp->resp.leader_hint = hint;
    return &rp->resp;
}

static const char *NOT_SERVED = "shard 0 is not served by node 1";

/* Mark @rp's error as a write that may still commit. */
static const Talus__Response *
unknown_outcome(struct reply *rp)
{
    rp->err.has_outcome_unknown = 1;
    rp->err.outcome_unknown = 1;
    return &rp->resp;
}

/* A not-leader reply naming the leader sends the retry there at once and
 * moves the shard's shared leader to it. */
static void
test_hint_switches_leader_at_once(void **state)
{
    struct router r;
    struct tl_client_retry t;
    struct reply rp;
    (void)state;
    make_router(&r, 3, 3);
    tl_client_retry_init(&r.client, &t, 0, TL_CLIENT_WRITE,
                         router_now_ms() + 5000);
    assert_int_equal(t.node, 1); /* the preferred leader of shard 0 */
    assert_int_equal(
        tl_client_retry_next(&r.client, &t, 0,
                             error_reply(&rp, TL_ENOTLEADER,
                                         TL_SQLSTATE_CONNECTION_FAILURE,
                                         NOT_SERVED, 3)),
        TL_CLIENT_RETRY);
    assert_int_equal(t.node, 3);
    assert_true(t.next_at_ms <= router_now_ms()); /* no pause */
    assert_false(t.unknown);
    assert_int_equal(atomic_load(&r.client.leader[0]), 3);
    /* A new call starts at the new leader. */
    tl_client_retry_init(&r.client, &t, 0, TL_CLIENT_READ,
                         router_now_ms() + 5000);
    assert_int_equal(t.node, 3);
}

/* Without a hint the retries walk the shard's replicas, then the other
 * nodes, pausing 25, 50, 100, 200, 200 ms. */
static void
test_no_hint_walks_replicas_with_backoff(void **state)
{
    struct router r;
    struct tl_client_retry t;
    struct reply rp;
    (void)state;
    make_router(&r, 4, 3);
    r.cfg.n_initial_nodes = 3;
    tl_client_retry_init(&r.client, &t, 1, TL_CLIENT_READ,
                         router_now_ms() + 60000);
    assert_int_equal(t.node, 2);
    static const uint32_t order[] = {3, 1, 4, 2, 3};
    static const int pause[] = {25, 50, 100, 200, 200};
    for (int i = 0; i < 5; i++) {
        int64_t before = router_now_ms();
        assert_int_equal(
            tl_client_retry_next(&r.client, &t, 0,
                                 error_reply(&rp, TL_EUNAVAILABLE,
                                             TL_SQLSTATE_CONNECTION_FAILURE,
                                             NOT_SERVED, 0)),
            TL_CLIENT_RETRY);
        int64_t after = router_now_ms();
        assert_int_equal(t.node, order[i]);
        assert_true(t.next_at_ms >= before + pause[i]);
        assert_true(t.next_at_ms <= after + pause[i]);
    }
    /* Refusals never move the shared leader. */
    assert_int_equal(atomic_load(&r.client.leader[1]), 0);
}

/* With one replica per shard, an unreachable replica is retried (after a
 * backoff) rather than abandoned for nodes that do not host the shard: it
 * may only be reconnecting or restarting, and no other node can answer. */
static void
test_only_replica_unreachable_is_retried(void **state)
{
    struct router r;
    struct tl_client_retry t;
    (void)state;
    make_router(&r, 3, 1);
    tl_client_retry_init(&r.client, &t, 2, TL_CLIENT_WRITE,
                         router_now_ms() + 60000);
    assert_int_equal(t.node, 3);
    assert_int_equal(tl_client_retry_next(&r.client, &t, TL_EUNAVAILABLE, NULL),
                     TL_CLIENT_RETRY);
    assert_int_equal(t.node, 3);
    assert_true(t.next_at_ms > router_now_ms() - 1);
    assert_int_equal(tl_client_retry_next(&r.client, &t, TL_EUNAVAILABLE, NULL),
                     TL_CLIENT_RETRY);
    assert_int_equal(t.node, 3);
    assert_false(t.unknown);
}

/* A node that says it does not host the shard sends the retry back to the
 * shard's replica even while that replica is marked unreachable. */
static void
test_not_hosted_returns_to_replica(void **state)
{
    struct router r;
    struct tl_client_retry t;
    struct reply rp;
    (void)state;
    make_router(&r, 3, 1);
    tl_client_retry_init(&r.client, &t, 2, TL_CLIENT_READ,
                         router_now_ms() + 60000);
    assert_int_equal(tl_client_retry_next(&r.client, &t, TL_EUNAVAILABLE, NULL),
                     TL_CLIENT_RETRY);
    t.node = 1; /* as if a membership change had been guessed */
    assert_int_equal(
        tl_client_retry_next(&r.client, &t, 0,
                             error_reply(&rp, TL_EUNAVAILABLE,
                                         TL_SQLSTATE_CONNECTION_FAILURE,
                                         NOT_SERVED, 0)),
        TL_CLIENT_RETRY);
    assert_int_equal(t.node, 3);
}

/* A node found unreachable is passed over by the next calls (for a
 * while), unless a leader hint names it. */
static void
test_unreachable_node_passed_over(void **state)
{
    struct router r;
    struct tl_client_retry t;
    struct reply rp;
    (void)state;
    make_router(&r, 3, 3);
    tl_client_retry_init(&r.client, &t, 0, TL_CLIENT_READ,
                         router_now_ms() + 60000);
    assert_int_equal(t.node, 1);
    assert_int_equal(tl_client_retry_next(&r.client, &t, TL_EUNAVAILABLE, NULL),
                     TL_CLIENT_RETRY);
    tl_client_retry_init(&r.client, &t, 0, TL_CLIENT_READ,
                         router_now_ms() + 60000);
    assert_int_equal(t.node, 2);
    assert_int_equal(
        tl_client_retry_next(&r.client, &t, 0,
                             error_reply(&rp, TL_EUNAVAILABLE,
                                         TL_SQLSTATE_CONNECTION_FAILURE,
                                         NOT_SERVED, 0)),
        TL_CLIENT_RETRY);
    assert_int_equal(t.node, 3); /* not 1 */
    assert_int_equal(
        tl_client_retry_next(&r.client, &t, 0,
                             error_reply(&rp, TL_ENOTLEADER,
                                         TL_SQLSTATE_CONNECTION_FAILURE,
                                         NOT_SERVED, 1)),
        TL_CLIENT_RETRY);
    assert_int_equal(t.node, 1); /* the hint wins */
}

/* A write whose attempt timed out is retried (same request id) but, if
 * the deadline passes, is reported as 08007, never as applied or as a
 * plain refusal. */
static void
test_unknown_write_reports_08007(void **state)
{
    struct router r;
    struct tl_client_retry t;
    struct reply rp;
    struct tl_error err;
    (void)state;
    make_router(&r, 3, 3);
    tl_client_retry_init(&r.client, &t, 0, TL_CLIENT_WRITE,
                         router_now_ms() + 60);
    assert_int_equal(tl_client_retry_next(&r.client, &t, TL_ETIMEOUT, NULL),
                     TL_CLIENT_RETRY);
    assert_true(t.unknown);
    enum tl_client_verdict v = TL_CLIENT_RETRY;
    for (int i = 0; i < 10 && v == TL_CLIENT_RETRY; i++)
        v = tl_client_retry_next(&r.client, &t, 0,
                                 error_reply(&rp, TL_EUNAVAILABLE,
                                             TL_SQLSTATE_CONNECTION_FAILURE,
                                             NOT_SERVED, 0));
    assert_int_equal(v, TL_CLIENT_FAILED);
    assert_int_equal(tl_client_retry_error(&r.client, &t, &err), TL_ETIMEOUT);
    assert_string_equal(err.sqlstate, "08007");
    assert_non_null(strstr(err.message, "shard 0 did not confirm the write"));
}

/* Leadership lost after proposing (Error.outcome_unknown) makes a write
 * unknown even though the node names a new leader; the wording of the
 * message plays no part. */
static void
test_leadership_lost_is_unknown(void **state)
{
    struct router r;
    struct tl_client_retry t;
    struct reply rp;
    (void)state;
    make_router(&r, 3, 3);
    tl_client_retry_init(&r.client, &t, 0, TL_CLIENT_WRITE,
                         router_now_ms() + 5000);
    error_reply(&rp, TL_ENOTLEADER, TL_SQLSTATE_CONNECTION_FAILURE,
                "leadership lost", 2);
    assert_int_equal(
        tl_client_retry_next(&r.client, &t, 0, unknown_outcome(&rp)),
        TL_CLIENT_RETRY);
    assert_true(t.unknown);
    assert_int_equal(t.node, 2);

    /* Without the flag the same reply is a refusal, whatever it says. */
    tl_client_retry_init(&r.client, &t, 0, TL_CLIENT_WRITE,
                         router_now_ms() + 5000);
    assert_int_equal(
        tl_client_retry_next(&r.client, &t, 0,
                             error_reply(&rp, TL_ENOTLEADER,
                                         TL_SQLSTATE_CONNECTION_FAILURE,
                                         "outcome unknown, said in words", 2)),
        TL_CLIENT_RETRY);
    assert_false(t.unknown);
}

/* A request without a request id (nothing the node can deduplicate) whose
 * write timed out on the node (outcome unknown) fails at once with 08007:
 * a retry could apply it twice. A node-side read-barrier timeout, which
 * applied nothing, is retried. */
static void
test_node_timeout_of_modify(void **state)
{
    struct router r;
    struct tl_client_retry t;
    struct tl_error err;
    struct reply rp;
    (void)state;
    make_router(&r, 3, 3);
    tl_client_retry_init(&r.client, &t, 0, TL_CLIENT_MODIFY,
                         router_now_ms() + 5000);
    assert_int_equal(
        tl_client_retry_next(&r.client, &t, 0,
                             error_reply(&rp, TL_ETIMEOUT,
                                         TL_SQLSTATE_CONNECTION_FAILURE,
                                         "read of shard 0 timed out", 0)),
        TL_CLIENT_RETRY);
    error_reply(&rp, TL_ETIMEOUT, TL_SQLSTATE_CONNECTION_FAILURE,
                "write to shard 0 timed out", 0);
    assert_int_equal(
        tl_client_retry_next(&r.client, &t, 0, unknown_outcome(&rp)),
        TL_CLIENT_FAILED);
    assert_int_equal(tl_client_retry_error(&r.client, &t, &err), TL_ETIMEOUT);
    assert_string_equal(err.sqlstate, "08007");
}

/* A leader still applying a large write ("in progress") is asked again at
 * once, on the same node; without a statement_timeout the answer extends
 * the call's deadline (a working leader is not a failover), with one it
 * does not; the extensions are bounded. */
static void
test_in_progress_write_waits_at_the_leader(void **state)
{
    struct router r;
    struct tl_client_retry t;
    struct reply rp;
    int64_t deadline;
    (void)state;
    make_router(&r, 3, 3);
    deadline = router_now_ms() + 100;
    tl_client_retry_init(&r.client, &t, 0, TL_CLIENT_WRITE, deadline);
    error_reply(&rp, TL_ETIMEOUT, TL_SQLSTATE_CONNECTION_FAILURE,
                "write to shard 0 timed out", 0);
    rp.err.has_in_progress = rp.err.in_progress = 1;
    assert_int_equal(
        tl_client_retry_next(&r.client, &t, 0, unknown_outcome(&rp)),
        TL_CLIENT_RETRY);
    assert_int_equal(t.node, 1);                   /* the same node */
    assert_true(t.next_at_ms <= router_now_ms());  /* no pause */
    assert_true(t.deadline_ms >= deadline + 4000); /* + request timeout */
    /* Under a statement_timeout the deadline stays. */
    tl_client_retry_init(&r.client, &t, 0, TL_CLIENT_WRITE, deadline);
    t.stmt_deadline = true;
    assert_int_equal(tl_client_retry_next(&r.client, &t, 0, &rp.resp),
                     TL_CLIENT_RETRY);
    assert_int_equal(t.deadline_ms, deadline);
    /* Bounded: after TL_CLIENT_PROGRESS_MAX answers it is a timeout again. */
    tl_client_retry_init(&r.client, &t, 0, TL_CLIENT_WRITE,
                         router_now_ms() + 100000);
    for (int i = 0; i < TL_CLIENT_PROGRESS_MAX; i++)
        assert_int_equal(tl_client_retry_next(&r.client, &t, 0, &rp.resp),
                         TL_CLIENT_RETRY);
    assert_int_equal(t.n_progress, TL_CLIENT_PROGRESS_MAX);
    tl_client_retry_next(&r.client, &t, 0, &rp.resp);
    assert_int_equal(t.n_progress, TL_CLIENT_PROGRESS_MAX);
}

/* A request without an id with an unknown outcome fails at once with
 * 08007 instead of risking a second application. */
static void
test_unknown_modify_fails_at_once(void **state)
{
    struct router r;
    struct tl_client_retry t;
    struct tl_error err;
    struct reply rp;
    (void)state;
    make_router(&r, 3, 3);
    tl_client_retry_init(&r.client, &t, 0, TL_CLIENT_MODIFY,
                         router_now_ms() + 5000);
    /* A refusal is safe to retry... */
    assert_int_equal(
        tl_client_retry_next(&r.client, &t, 0,
                             error_reply(&rp, TL_ENOTLEADER,
                                         TL_SQLSTATE_CONNECTION_FAILURE,
                                         NOT_SERVED, 2)),
        TL_CLIENT_RETRY);
    /* ...a lost reply is not. */
    assert_int_equal(tl_client_retry_next(&r.client, &t, TL_ETIMEOUT, NULL),
                     TL_CLIENT_FAILED);
    assert_int_equal(tl_client_retry_error(&r.client, &t, &err), TL_ETIMEOUT);
    assert_string_equal(err.sqlstate, "08007");
}

/* A modify carries a request id under which the node proposes its batch:
 * it is retried like a write, also after an unknown outcome. */
static void
test_unknown_modify_is_retried(void **state)
{
    struct router r;
    struct tl_client_retry t;
    struct reply rp;
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__ModifyFragment mf = TALUS__MODIFY_FRAGMENT__INIT;
    (void)state;
    req.body_case = TALUS__REQUEST__BODY_MODIFY;
    req.modify = &mf;
    assert_int_equal(tl_client_op_of(&req), TL_CLIENT_MODIFY); /* no id */
    req.request_id = 99;
    assert_int_equal(tl_client_op_of(&req), TL_CLIENT_WRITE);
    make_router(&r, 3, 3);
    tl_client_retry_init(&r.client, &t, 0, tl_client_op_of(&req),
                         router_now_ms() + 5000);
    error_reply(&rp, TL_ETIMEOUT, TL_SQLSTATE_CONNECTION_FAILURE,
                "write to shard 0 timed out", 0);
    assert_int_equal(
        tl_client_retry_next(&r.client, &t, 0, unknown_outcome(&rp)),
        TL_CLIENT_RETRY);
    assert_true(t.unknown);
    assert_int_equal(tl_client_retry_next(&r.client, &t, TL_ETIMEOUT, NULL),
                     TL_CLIENT_RETRY);
}

/* A read that found no leader before its deadline fails with 40001 and a
 * hint to retry. */
static void
test_leaderless_read_reports_40001(void **state)
{
    struct router r;
    struct tl_client_retry t;
    struct tl_error err;
    struct reply rp;
    (void)state;
    make_router(&r, 3, 3);
    tl_client_retry_init(&r.client, &t, 4, TL_CLIENT_READ,
                         router_now_ms() + 30);
    enum tl_client_verdict v = TL_CLIENT_RETRY;
    for (int i = 0; i < 10 && v == TL_CLIENT_RETRY; i++)
        v = tl_client_retry_next(&r.client, &t, 0,
                                 error_reply(&rp, TL_EUNAVAILABLE,
                                             TL_SQLSTATE_CONNECTION_FAILURE,
                                             "no leader known", 0));
    assert_int_equal(v, TL_CLIENT_FAILED);
    assert_false(t.unknown);
    assert_int_equal(tl_client_retry_error(&r.client, &t, &err),
                     TL_EUNAVAILABLE);
    assert_string_equal(err.sqlstate, "40001");
    assert_string_equal(err.message, "could not reach the leader of shard 4");
    assert_string_equal(err.hint,
                        "the shard is electing a leader; retry the statement");
}

/* A read whose node took it and did not answer in time is not an
 * election: without a statement_timeout 08006 "shard S did not answer in
 * time", with one 57014 as PostgreSQL's statement_timeout. */
static void
test_silent_read_is_not_an_election(void **state)
{
    struct router r;
    struct tl_client_retry t;
    struct tl_error err;
    (void)state;
    make_router(&r, 3, 3);
    struct reply rp;
    for (int with_timeout = 0; with_timeout < 2; with_timeout++) {
        tl_client_retry_init(&r.client, &t, 4, TL_CLIENT_READ,
                             router_now_ms() + 30);
        t.stmt_deadline = with_timeout;
        enum tl_client_verdict v = TL_CLIENT_RETRY;
        /* Silence, and replicas naming a leader: a leader is known. */
        for (int i = 0; i < 10 && v == TL_CLIENT_RETRY; i++)
            v = i % 2 == 0
                    ? tl_client_retry_next(&r.client, &t, TL_ETIMEOUT, NULL)
                    : tl_client_retry_next(
                          &r.client, &t, 0,
                          error_reply(&rp, TL_ENOTLEADER,
                                      TL_SQLSTATE_CONNECTION_FAILURE,
                                      NOT_SERVED, 3));
        assert_int_equal(v, TL_CLIENT_FAILED);
        assert_int_equal(tl_client_retry_error(&r.client, &t, &err),
                         TL_ETIMEOUT);
        if (with_timeout) {
            assert_string_equal(err.sqlstate, "57014");
            assert_string_equal(err.message,
                                "canceling statement due to statement timeout");
        } else {
            assert_string_equal(err.sqlstate, "08006");
            assert_string_equal(err.message, "shard 4 did not answer in time");
        }
    }
}

/* A leader that went silent (killed) while the others then say no
 * leader is known: that is an election, 40001. */
static void
test_silence_then_election_is_40001(void **state)
{
    struct router r;
    struct tl_client_retry t;
    struct tl_error err;
    struct reply rp;
    (void)state;
    make_router(&r, 3, 3);
    tl_client_retry_init(&r.client, &t, 4, TL_CLIENT_READ,
                         router_now_ms() + 30);
    t.stmt_deadline = true;
    enum tl_client_verdict v =
        tl_client_retry_next(&r.client, &t, TL_ETIMEOUT, NULL);
    for (int i = 0; i < 10 && v == TL_CLIENT_RETRY; i++)
        v = tl_client_retry_next(&r.client, &t, 0,
                                 error_reply(&rp, TL_EUNAVAILABLE,
                                             TL_SQLSTATE_CONNECTION_FAILURE,
                                             "no leader known", 0));
    assert_int_equal(v, TL_CLIENT_FAILED);
    assert_int_equal(tl_client_retry_error(&r.client, &t, &err),
                     TL_EUNAVAILABLE);
    assert_string_equal(err.sqlstate, "40001");
}

/* With one replica per shard, nothing applied and no node reached is
 * 08006 "shard S is unavailable" (no election can help). */
static void
test_single_replica_reports_08006(void **state)
{
    struct router r;
    struct tl_client_retry t;
    struct tl_error err;
    (void)state;
    make_router(&r, 3, 1);
    tl_client_retry_init(&r.client, &t, 1, TL_CLIENT_READ,
                         router_now_ms() + 20);
    enum tl_client_verdict v = TL_CLIENT_RETRY;
    for (int i = 0; i < 10 && v == TL_CLIENT_RETRY; i++)
        v = tl_client_retry_next(&r.client, &t, TL_EUNAVAILABLE, NULL);
    assert_int_equal(v, TL_CLIENT_FAILED);
    assert_int_equal(tl_client_retry_error(&r.client, &t, &err),
                     TL_EUNAVAILABLE);
    assert_string_equal(err.sqlstate, "08006");
    assert_string_equal(err.message, "shard 1 is unavailable");
}

/* A SQL answer (duplicate key) and a success end the call; a success on
 * another node than the known leader makes it the known leader. */
static void
test_answers_end_the_call(void **state)
{
    struct router r;
    struct tl_client_retry t;
    struct reply rp;
    Talus__Response ok = TALUS__RESPONSE__INIT;
    (void)state;
    make_router(&r, 3, 3);
    tl_client_retry_init(&r.client, &t, 0, TL_CLIENT_WRITE,
                         router_now_ms() + 5000);
    assert_int_equal(
        tl_client_retry_next(&r.client, &t, 0,
                             error_reply(&rp, 0, TL_SQLSTATE_UNIQUE_VIOLATION,
                                         "duplicate key", 0)),
        TL_CLIENT_DONE);
    tl_client_retry_init(&r.client, &t, 0, TL_CLIENT_READ,
                         router_now_ms() + 5000);
    assert_int_equal(tl_client_retry_next(&r.client, &t, TL_EUNAVAILABLE, NULL),
                     TL_CLIENT_RETRY);
    assert_int_equal(tl_client_retry_next(&r.client, &t, 0, &ok),
                     TL_CLIENT_DONE);
    assert_int_equal(atomic_load(&r.client.leader[0]), 2);
    assert_int_equal(atomic_load(&r.client.n_leader_changes), 1);
}

/* Each attempt may take the request timeout or what is left of the
 * deadline; past the deadline no attempt starts (57014 if none did). */
static void
test_attempt_timeout_bounded_by_deadline(void **state)
{
    struct router r;
    struct tl_client_retry t;
    struct tl_error err;
    struct tl_rpc_client *fake[3] = {(void *)1, (void *)2, (void *)3};
    int ms = 0;
    (void)state;
    make_router(&r, 3, 3);
    memcpy(r.client.nodes, fake, sizeof(fake));
    tl_client_retry_init(&r.client, &t, 0, TL_CLIENT_READ,
                         router_now_ms() + 800);
    assert_ptr_equal(tl_client_retry_client(&r.client, &t, &ms), fake[0]);
    assert_true(ms > 700 && ms <= 800);
    tl_client_retry_init(&r.client, &t, 0, TL_CLIENT_READ,
                         router_now_ms() + 60000);
    assert_non_null(tl_client_retry_client(&r.client, &t, &ms));
    assert_int_equal(ms, 5000);
    tl_client_retry_init(&r.client, &t, 0, TL_CLIENT_READ, router_now_ms() - 1);
    assert_null(tl_client_retry_client(&r.client, &t, &ms));
    tl_client_retry_error(&r.client, &t, &err);
    assert_string_equal(err.sqlstate, "57014");
    memset(r.client.nodes, 0, sizeof(fake));
}

/* A call to a node nobody listens on fails with TL_EUNAVAILABLE after the
 * connect timeout, not after the call's whole timeout. */
static void
test_rpc_dead_node_fails_fast(void **state)
{
    struct tl_rpc_client *c;
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__StatusRequest sr = TALUS__STATUS_REQUEST__INIT;
    Talus__Response *resp = NULL;
    (void)state;
    /* Port 1 on loopback: connection refused. */
    assert_int_equal(tl_rpc_client_create("127.0.0.1:1", &c), 0);
    tl_rpc_client_set_connect_timeout(c, 300);
    req.request_id = tl_rpc_next_id();
    req.body_case = TALUS__REQUEST__BODY_STATUS;
    req.status = &sr;
    int64_t t0 = router_now_ms();
    assert_int_equal(tl_rpc_call(c, &req, 5000, &resp), TL_EUNAVAILABLE);
    int64_t took = router_now_ms() - t0;
    assert_null(resp);
    assert_true(took >= 250 && took < 2000);
    tl_rpc_client_destroy(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hint_switches_leader_at_once),
        cmocka_unit_test(test_no_hint_walks_replicas_with_backoff),
        cmocka_unit_test(test_only_replica_unreachable_is_retried),
        cmocka_unit_test(test_not_hosted_returns_to_replica),
        cmocka_unit_test(test_unreachable_node_passed_over),
        cmocka_unit_test(test_unknown_write_reports_08007),
        cmocka_unit_test(test_leadership_lost_is_unknown),
        cmocka_unit_test(test_node_timeout_of_modify),
        cmocka_unit_test(test_unknown_modify_fails_at_once),
        cmocka_unit_test(test_unknown_modify_is_retried),
        cmocka_unit_test(test_leaderless_read_reports_40001),
        cmocka_unit_test(test_silent_read_is_not_an_election),
        cmocka_unit_test(test_silence_then_election_is_40001),
        cmocka_unit_test(test_single_replica_reports_08006),
        cmocka_unit_test(test_answers_end_the_call),
        cmocka_unit_test(test_in_progress_write_waits_at_the_leader),
        cmocka_unit_test(test_attempt_timeout_bounded_by_deadline),
        cmocka_unit_test(test_rpc_dead_node_fails_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
