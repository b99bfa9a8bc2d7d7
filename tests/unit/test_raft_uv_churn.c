/* Raft's real libuv I/O (raft_uv with its TCP transport, three servers on
 * one loop, data on disk) under leadership changes while followers have
 * large appends on their disks: the leader proposes 1 MiB entries without
 * pause and leadership moves every few entries, so followers keep seeing
 * a new term, and losing their leader, with appends in flight. raft 0.15
 * crashed there (a follower answered its append to a leader whose address
 * was gone: strlen(NULL) in uvClientInit, canonical/raft #350); 0.22.1
 * must not. Every entry acknowledged to the proposer is applied on all
 * three servers, and each server applies every index once, in order. */
#include <raft.h>
#include <raft/uv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include <cmocka.h>

#include "../test_ports.h"

#define N 3
#define ENTRY_BYTES (1u << 20)
#define N_TRANSFERS 40

struct server {
    struct raft raft;
    struct raft_io io;
    struct raft_uv_transport transport;
    struct raft_fsm fsm;
    char dir[64];
    char addr[32];
    uint64_t n_applied;
    uint64_t last_seq; /* sequence number in the last applied entry */
    bool out_of_order; /* a sequence number skipped or went back */
};

struct env {
    uv_loop_t loop;
    uv_timer_t timer;
    struct server s[N];
    int n_closed;
    /* The proposer. */
    struct raft_apply req;
    bool in_flight;
    uint64_t next_seq, n_acked, acked_seq; /* acked_seq: last acknowledged */
    struct raft_transfer xfer;
    bool xfer_busy;
    unsigned n_transfers;
    uint64_t since_transfer;
    double deadline;
    bool done;
};

static int
fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
    struct server *s = fsm->data;
    uint64_t seq;
    memcpy(&seq, buf->base, sizeof seq);
    /* A proposal that failed (leadership lost) is proposed again with the
     * same number, yet may have committed: a number may repeat, never
     * skip or go back. */
    if (seq != s->last_seq && seq != s->last_seq + 1)
        s->out_of_order = true;
    s->last_seq = seq;
    s->n_applied++;
    *result = NULL;
    return 0;
}

static struct server *
leader_of(struct env *e)
{
    for (int i = 0; i < N; i++)
        if (raft_state(&e->s[i].raft) == RAFT_LEADER)
            return &e->s[i];
    return NULL;
}

static void propose(struct env *e);

static void
apply_cb(struct raft_apply *req, int status, void *result)
{
    struct env *e = req->data;
    (void)result;
    e->in_flight = false;
    if (status == 0) {
        e->n_acked++;
        e->acked_seq = e->next_seq;
        e->since_transfer++;
    } else {
        e->next_seq--; /* proposed again (see fsm_apply) */
    }
}

static void
xfer_cb(struct raft_transfer *req)
{
    struct env *e = req->data;
    e->xfer_busy = false;
}

static void
propose(struct env *e)
{
    struct server *l = leader_of(e);
    struct raft_buffer buf;

    if (l == NULL || e->in_flight)
        return;
    buf.len = ENTRY_BYTES;
    buf.base = raft_calloc(1, buf.len);
    assert_non_null(buf.base);
    e->next_seq++;
    memcpy(buf.base, &e->next_seq, sizeof e->next_seq);
    e->req.data = e;
    if (raft_apply(&l->raft, &e->req, &buf, 1, apply_cb) != 0) {
        raft_free(buf.base);
        e->next_seq--;
        return;
    }
    e->in_flight = true;
}

static void
close_cb(struct raft *r)
{
    struct env *e = r->data;
    e->n_closed++;
}

static void
tick(uv_timer_t *t)
{
    struct env *e = t->data;
    struct server *l = leader_of(e);

    if (e->done)
        return;
    /* Not from a raft callback: this runs from the timer. */
    propose(e);
    if (l != NULL && !e->xfer_busy && e->since_transfer >= 1 &&
        e->n_transfers < N_TRANSFERS) {
        memset(&e->xfer, 0, sizeof e->xfer);
        e->xfer.data = e;
        if (raft_transfer(&l->raft, &e->xfer, 0, xfer_cb) == 0) {
            e->xfer_busy = true;
            e->n_transfers++;
            e->since_transfer = 0;
        }
    }
    if ((e->n_transfers >= N_TRANSFERS && !e->xfer_busy &&
         e->since_transfer >= 1) ||
        uv_now(&e->loop) / 1000.0 > e->deadline) {
        e->done = true;
        uv_timer_stop(&e->timer);
        for (int i = 0; i < N; i++)
            raft_close(&e->s[i].raft, close_cb);
    }
}

static void
test_leader_changes_with_appends_in_flight(void **state)
{
    struct env *e = calloc(1, sizeof *e);
    struct raft_configuration conf;
    uint16_t ports[N];

    (void)state;
    assert_int_equal(uv_loop_init(&e->loop), 0);
    for (int i = 0; i < N; i++)
        ports[i] = free_port();
    raft_configuration_init(&conf);
    for (int i = 0; i < N; i++) {
        snprintf(e->s[i].addr, sizeof e->s[i].addr, "127.0.0.1:%u", ports[i]);
        assert_int_equal(raft_configuration_add(&conf, (raft_id)i + 1,
                                                e->s[i].addr, RAFT_VOTER),
                         0);
    }
    for (int i = 0; i < N; i++) {
        struct server *s = &e->s[i];
        strcpy(s->dir, "/tmp/test_raft_uv_churn.XXXXXX");
        assert_non_null(mkdtemp(s->dir));
        s->transport.version = 1;
        assert_int_equal(raft_uv_tcp_init(&s->transport, &e->loop), 0);
        assert_int_equal(raft_uv_init(&s->io, &e->loop, s->dir, &s->transport),
                         0);
        s->fsm.version = 1;
        s->fsm.data = s;
        s->fsm.apply = fsm_apply;
        assert_int_equal(
            raft_init(&s->raft, &s->io, &s->fsm, (raft_id)i + 1, s->addr), 0);
        s->raft.data = e;
        raft_set_election_timeout(&s->raft, 300);
        raft_set_heartbeat_timeout(&s->raft, 50);
        raft_set_pre_vote(&s->raft, true);
        assert_int_equal(raft_bootstrap(&s->raft, &conf), 0);
        assert_int_equal(raft_start(&s->raft), 0);
    }
    raft_configuration_close(&conf);
    e->deadline = uv_now(&e->loop) / 1000.0 + 60;
    uv_timer_init(&e->loop, &e->timer);
    e->timer.data = e;
    uv_timer_start(&e->timer, tick, 5, 5);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&e->timer, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(e->n_closed, N);

    printf("# %u transfers, %llu entries of %u bytes acknowledged\n",
           e->n_transfers, (unsigned long long)e->n_acked, ENTRY_BYTES);
    assert_int_equal(e->n_transfers, N_TRANSFERS);
    for (int i = 0; i < N; i++) {
        char cmd[96];
        assert_false(e->s[i].out_of_order);
        raft_uv_close(&e->s[i].io);
        raft_uv_tcp_close(&e->s[i].transport);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->s[i].dir);
        assert_int_equal(system(cmd), 0);
    }
    /* The last acknowledged entry was applied where it was acknowledged;
     * the others may close before they learn it is committed. */
    {
        bool applied = false;
        for (int i = 0; i < N; i++)
            applied |= e->s[i].last_seq >= e->acked_seq;
        assert_true(applied);
    }
    assert_int_equal(uv_loop_close(&e->loop), 0);
    free(e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leader_changes_with_appends_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
