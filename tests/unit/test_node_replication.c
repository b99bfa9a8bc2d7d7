/* Unit tests of node/replica/fsm.c under real raft replication: three servers
 * in-process (raft/fixture.h: simulated network and disk for the raft
 * log, a RocksDB per server for the state machine). A batch retried
 * across a leader change applies once on every replica; a follower cut
 * off while the log is compacted gets a snapshot descriptor, spills what
 * it applies, and after an out-of-band copy ends with the leader's data. */
#include <raft.h>
#include <raft/fixture.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/replica/fsm.h"
#include "node/store/mvcc.h"
#include "node/store/store.h"
#include "talus.pb-c.h"
#include "tl_error.h"

#define N 3
#define SHARD 3

struct env {
    char dir[64];
    struct raft_fixture f;
    struct store *st[N];
    struct node_fsm fsm[N];
};

static const uint32_t shards[] = {SHARD};

static int
setup(void **state)
{
    struct env *e = calloc(1, sizeof *e);
    struct raft_configuration conf;
    char err[256], path[96];

    strcpy(e->dir, "/tmp/test_node_replication.XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    assert_int_equal(raft_fixture_initialize(&e->f), 0);
    for (unsigned i = 0; i < N; i++) {
        snprintf(path, sizeof path, "%s/s%u", e->dir, i);
        assert_int_equal(
            store_open(path, shards, 1, &e->st[i], err, sizeof err), 0);
        assert_int_equal(fsm_init(&e->fsm[i], e->st[i], SHARD), 0);
        e->fsm[i].node_id = i + 1;
        fsm_setup_raft(&e->fsm[i], NULL);
        assert_int_equal(raft_fixture_grow(&e->f, &e->fsm[i].raft_fsm), 0);
        e->fsm[i].raft = raft_fixture_get(&e->f, i);
    }
    assert_int_equal(raft_fixture_configuration(&e->f, N, &conf), 0);
    assert_int_equal(raft_fixture_bootstrap(&e->f, &conf), 0);
    raft_configuration_close(&conf);
    assert_int_equal(raft_fixture_start(&e->f), 0);
    assert_true(raft_fixture_step_until_has_leader(&e->f, 10000));
    *state = e;
    return 0;
}

static int
teardown(void **state)
{
    struct env *e = *state;
    char cmd[128];
    raft_fixture_close(&e->f);
    for (unsigned i = 0; i < N; i++) {
        fsm_close(&e->fsm[i]);
        store_close(e->st[i]);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
    assert_int_equal(system(cmd), 0);
    free(e);
    return 0;
}

struct applied {
    bool done;
    int status;
    struct fsm_result res;
};

static void
apply_cb(struct raft_apply *req, int status, void *result)
{
    struct applied *a = req->data;
    a->done = true;
    a->status = status;
    if (status == 0)
        fsm_result_unpack(result, &a->res);
    free(req);
}

/* Propose PUT(@key=@val, ABSENT) with request id @rid on the leader and
 * step until every live server applied it; the leader's result. */
static struct fsm_result
propose(struct env *e, const char *key, const char *val, uint64_t rid,
        unsigned n_wait)
{
    unsigned l = raft_fixture_leader_index(&e->f);
    struct raft *r = raft_fixture_get(&e->f, l);
    struct raft_apply *req = calloc(1, sizeof *req);
    Talus__Mutation m = TALUS__MUTATION__INIT, *mp = &m;
    Talus__WriteBatch wb = TALUS__WRITE_BATCH__INIT;
    struct raft_buffer buf;
    struct applied a = {0};
    raft_index index;

    m.kind = TALUS__MUTATION__KIND__PUT;
    m.key.data = (uint8_t *)key;
    m.key.len = strlen(key);
    m.has_value = true;
    m.value.data = (uint8_t *)val;
    m.value.len = strlen(val);
    m.has_cond = true;
    m.cond = TALUS__MUTATION__COND__ABSENT;
    wb.mutations = &mp;
    wb.n_mutations = 1;
    wb.has_request_id = rid != 0;
    wb.request_id = rid;
    fsm_entry_encode(&wb, &buf);
    req->data = &a;
    assert_int_equal(raft_apply(r, req, &buf, 1, apply_cb), 0);
    index = raft_last_index(r);
    assert_true(raft_fixture_step_until_applied(&e->f, n_wait, index, 10000));
    if (!a.done)
        assert_true(raft_fixture_step_until_applied(&e->f, l, index, 10000));
    assert_true(a.done);
    assert_int_equal(a.status, 0);
    return a.res;
}

static char *
get(struct env *e, unsigned i, const char *key)
{
    char *v, *s;
    size_t len;
    struct mvcc_read r = mvcc_read_at(MVCC_TS_LATEST);
    struct mvcc_lock lk;
    uint8_t *lb = NULL;
    r.raw = !e->fsm[i].versioned;
    assert_int_equal(mvcc_read_get(e->st[i], e->fsm[i].cf, &r, key, strlen(key),
                                   &v, &len, &lk, &lb),
                     MVCC_OK);
    if (v == NULL)
        return NULL;
    s = strndup(v, len);
    free(v);
    return s;
}

static void
assert_value(struct env *e, unsigned i, const char *key, const char *want)
{
    char *v = get(e, i, key);
    if (want == NULL)
        assert_null(v);
    else
        assert_string_equal(v, want);
    free(v);
}

/* A write whose leader was deposed, retried with its request id on the
 * new leader, takes effect once on every replica and answers success
 * both times; another request for the same key fails its condition. */
static void
test_retry_across_leader_change(void **state)
{
    struct env *e = *state;
    unsigned first;
    struct fsm_result r;

    r = propose(e, "k", "v1", 4242, N);
    assert_int_equal(r.outcome, FSM_OK);
    first = raft_fixture_leader_index(&e->f);
    raft_fixture_depose(&e->f);
    assert_true(raft_fixture_step_until_has_leader(&e->f, 10000));
    r = propose(e, "k", "v1", 4242, N); /* the router's retry */
    assert_int_equal(r.outcome, FSM_OK);
    r = propose(e, "k", "v2", 4343, N);
    assert_int_equal(r.outcome, FSM_COND_FAILED);
    for (unsigned i = 0; i < N; i++) {
        assert_value(e, i, "k", "v1");
        assert_int_equal(fsm_applied(&e->fsm[i]), fsm_applied(&e->fsm[first]));
    }
}

/* Copy the shard of server @from into @to page by page, as the fetcher
 * does (pages of 3 pairs, applied key excluded, applied set last). */
static void
copy_shard(struct env *e, unsigned from, unsigned to)
{
    struct store_iter *it;
    ProtobufCBinaryData ks[3], vs[3];
    size_t n = 0;
    bool first = true;

    it = store_iter_create(e->st[from], e->fsm[from].cf, NULL);
    for (store_iter_seek_first(it);; store_iter_next(it)) {
        bool valid = store_iter_valid(it);
        if (valid) {
            size_t kl, vl;
            const char *k = store_iter_key(it, &kl);
            const char *v = store_iter_value(it, &vl);
            if (kl == STORE_APPLIED_KEY_LEN &&
                memcmp(k, STORE_APPLIED_KEY, kl) == 0)
                continue;
            ks[n] = (ProtobufCBinaryData){kl, malloc(kl)};
            memcpy(ks[n].data, k, kl);
            vs[n] = (ProtobufCBinaryData){vl, malloc(vl + 1)};
            memcpy(vs[n].data, v, vl);
            n++;
        }
        if (n == 3 || !valid) {
            assert_int_equal(fsm_restore_write_page(&e->fsm[to], first, !valid,
                                                    fsm_applied(&e->fsm[from]),
                                                    ks, vs, n),
                             0);
            for (size_t i = 0; i < n; i++) {
                free(ks[i].data);
                free(vs[i].data);
            }
            n = 0;
            first = false;
        }
        if (!valid)
            break;
    }
    store_iter_destroy(it);
}

/* A follower killed while the leader compacts its log receives a
 * snapshot descriptor on return: it records a restore, spills entries
 * without touching its data, and after the copy and the replay holds
 * exactly the leader's rows. */
static void
test_lagging_follower_restores(void **state)
{
    struct env *e = *state;
    unsigned l = raft_fixture_leader_index(&e->f);
    unsigned lag = (l + 1) % N, other = (l + 2) % N;
    char key[16];

    for (unsigned i = 0; i < N; i++) {
        raft_set_snapshot_threshold(raft_fixture_get(&e->f, i), 4);
        raft_set_snapshot_trailing(raft_fixture_get(&e->f, i), 1);
    }
    propose(e, "a", "0", 0, N);
    raft_fixture_kill(&e->f, lag);
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "b%02d", i);
        propose(e, key, "1", 0, l);
    }
    assert_true(raft_fixture_step_until_applied(
        &e->f, other, raft_last_index(raft_fixture_get(&e->f, l)), 10000));
    raft_fixture_revive(&e->f, lag);
    assert_true(raft_fixture_step_until_applied(
        &e->f, lag, raft_last_index(raft_fixture_get(&e->f, l)), 10000));
    assert_true(atomic_load(&e->fsm[lag].restoring));
    assert_value(e, lag, "b00", NULL); /* data not there yet */
    /* Entries applied while restoring are spilled. */
    propose(e, "c", "2", 0, N);
    assert_value(e, lag, "c", NULL);
    assert_true(e->fsm[lag].spill_last > 0);

    /* The fetcher's copy from a replica at an older index, then the loop's
     * finish: the spill above the copy's index is replayed. */
    copy_shard(e, other, lag);
    assert_int_equal(fsm_restore_finish(&e->fsm[lag]), 0);
    assert_false(atomic_load(&e->fsm[lag].restoring));
    assert_value(e, lag, "a", "0");
    assert_value(e, lag, "b19", "1");
    assert_value(e, lag, "c", "2");
    assert_int_equal(fsm_applied(&e->fsm[lag]), fsm_applied(&e->fsm[l]));
    /* Back to normal applies. */
    propose(e, "d", "3", 0, N);
    assert_value(e, lag, "d", "3");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_retry_across_leader_change, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lagging_follower_restores, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
