/* Unit tests of node/replica/fsm.c and node/store/store.c: applying write
 * batches to a shard's column family without raft. */
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

struct fixture {
    char dir[64];
    struct store *st;
    struct node_fsm fsm;
};

static const uint32_t shards[] = {3};

static void
open_fixture(struct fixture *f)
{
    char err[256];
    assert_int_equal(store_open(f->dir, shards, 1, &f->st, err, sizeof err), 0);
    assert_int_equal(fsm_init(&f->fsm, f->st, 3), 0);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/test_node_fsm.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    open_fixture(f);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    fsm_close(&f->fsm);
    store_close(f->st);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* A mutation over NUL-terminated strings (NULL: field absent). */
static Talus__Mutation *
mut(int kind, const char *key, const char *value, int cond, const char *expect)
{
    Talus__Mutation *m = calloc(1, sizeof *m);
    talus__mutation__init(m);
    m->kind = kind;
    m->key.data = (uint8_t *)key;
    m->key.len = strlen(key);
    if (value != NULL) {
        m->has_value = true;
        m->value.data = (uint8_t *)value;
        m->value.len = strlen(value);
        if (kind == TALUS__MUTATION__KIND__DELETE_RANGE) {
            m->has_value = false;
            m->has_end_key = true;
            m->end_key = m->value;
        }
    }
    m->has_cond = cond != 0;
    m->cond = cond;
    if (expect != NULL) {
        m->has_expect = true;
        m->expect.data = (uint8_t *)expect;
        m->expect.len = strlen(expect);
    }
    return m;
}

/* Pack the batch of @n mutations (freed here) and apply it at @index. */
static struct fsm_result
apply(struct fixture *f, uint64_t index, size_t n, ...)
{
    Talus__Mutation *ms[16];
    Talus__WriteBatch wb;
    struct fsm_result res;
    struct raft_buffer buf;
    va_list ap;

    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        ms[i] = va_arg(ap, Talus__Mutation *);
    va_end(ap);
    talus__write_batch__init(&wb);
    wb.mutations = ms;
    wb.n_mutations = n;
    fsm_entry_encode(&wb, &buf);
    assert_int_equal(buf.len % 8, 0); /* raft needs 8-byte multiples */
    for (size_t i = 0; i < n; i++)
        free(ms[i]);
    assert_int_equal(fsm_apply_batch(&f->fsm, index, buf.base, buf.len, &res),
                     0);
    raft_free(buf.base);
    return res;
}

/* Apply a one-mutation batch read at @read_index, at @index. */
static struct fsm_result
apply_read_at(struct fixture *f, uint64_t index, uint64_t read_index,
              Talus__Mutation *m)
{
    Talus__WriteBatch wb;
    struct fsm_result res;
    struct raft_buffer buf;

    talus__write_batch__init(&wb);
    wb.mutations = &m;
    wb.n_mutations = 1;
    wb.has_read_index = true;
    wb.read_index = read_index;
    fsm_entry_encode(&wb, &buf);
    free(m);
    assert_int_equal(fsm_apply_batch(&f->fsm, index, buf.base, buf.len, &res),
                     0);
    raft_free(buf.base);
    return res;
}

/* Apply a one-mutation batch with request id @rid at @index. */
static struct fsm_result
apply_rid(struct fixture *f, uint64_t index, uint64_t rid, Talus__Mutation *m)
{
    Talus__WriteBatch wb;
    struct fsm_result res;
    struct raft_buffer buf;

    talus__write_batch__init(&wb);
    wb.mutations = &m;
    wb.n_mutations = 1;
    wb.has_request_id = true;
    wb.request_id = rid;
    fsm_entry_encode(&wb, &buf);
    free(m);
    assert_int_equal(fsm_apply_batch(&f->fsm, index, buf.base, buf.len, &res),
                     0);
    raft_free(buf.base);
    return res;
}

/* The value of @key, or NULL; caller frees. */
static char *
get(struct fixture *f, const char *key)
{
    size_t len;
    char *v;
    struct mvcc_read r = mvcc_read_at(MVCC_TS_LATEST);
    struct mvcc_lock lk;
    uint8_t *lb = NULL;
    r.raw = !f->fsm.versioned;
    assert_int_equal(mvcc_read_get(f->st, f->fsm.cf, &r, key, strlen(key), &v,
                                   &len, &lk, &lb),
                     MVCC_OK);
    if (v == NULL)
        return NULL;
    char *s = strndup(v, len);
    free(v);
    return s;
}

static void
assert_value(struct fixture *f, const char *key, const char *want)
{
    char *v = get(f, key);
    if (want == NULL) {
        assert_null(v);
        return;
    }
    assert_non_null(v);
    assert_string_equal(v, want);
    free(v);
}

static uint64_t
stored_applied(struct fixture *f)
{
    uint64_t v;
    assert_int_equal(store_read_applied(f->st, f->fsm.cf, NULL, &v), 0);
    return v;
}

/* PUT, DELETE and DELETE_RANGE are applied and the applied index stored. */
static void
test_put_delete_range(void **state)
{
    struct fixture *f = *state;
    struct fsm_result r;

    r = apply(f, 1, 4, mut(0, "a", "1", 0, NULL), mut(0, "b", "2", 0, NULL),
              mut(0, "c", "3", 0, NULL), mut(0, "d", "4", 0, NULL));
    assert_int_equal(r.outcome, FSM_OK);
    assert_value(f, "b", "2");
    r = apply(f, 2, 2, mut(TALUS__MUTATION__KIND__DELETE, "a", NULL, 0, NULL),
              mut(TALUS__MUTATION__KIND__DELETE_RANGE, "b", "d", 0, NULL));
    assert_int_equal(r.outcome, FSM_OK);
    assert_value(f, "a", NULL);
    assert_value(f, "b", NULL);
    assert_value(f, "c", NULL);
    assert_value(f, "d", "4");
    assert_int_equal(stored_applied(f), 2);
    assert_int_equal(fsm_applied(&f->fsm), 2);
    uint64_t n;
    assert_int_equal(mvcc_count_rows(f->st, f->fsm.cf, UINT64_MAX, 0, &n), 0);
    assert_int_equal(n, 1); /* d: the reserved keys are not counted */
}

/* A failed ABSENT condition writes nothing but the applied index. */
static void
test_absent_fails(void **state)
{
    struct fixture *f = *state;
    struct fsm_result r;

    apply(f, 1, 1, mut(0, "k", "old", 0, NULL));
    r = apply(f, 2, 2, mut(0, "x", "new", 0, NULL),
              mut(0, "k", "dup", TALUS__MUTATION__COND__ABSENT, NULL));
    assert_int_equal(r.outcome, FSM_COND_FAILED);
    assert_int_equal(r.mutation, 1);
    assert_int_equal(r.cond, TALUS__MUTATION__COND__ABSENT);
    assert_value(f, "x", NULL);
    assert_value(f, "k", "old");
    assert_int_equal(stored_applied(f), 2);
    r = apply(f, 3, 1, mut(0, "y", "v", TALUS__MUTATION__COND__ABSENT, NULL));
    assert_int_equal(r.outcome, FSM_OK);
    assert_value(f, "y", "v");
}

/* EQUALS passes on the exact current value and fails otherwise. */
static void
test_equals(void **state)
{
    struct fixture *f = *state;
    struct fsm_result r;

    apply(f, 1, 1, mut(0, "k", "v1", 0, NULL));
    r = apply(f, 2, 1, mut(0, "k", "v2", TALUS__MUTATION__COND__EQUALS, "v1"));
    assert_int_equal(r.outcome, FSM_OK);
    assert_value(f, "k", "v2");
    r = apply(f, 3, 2, mut(TALUS__MUTATION__KIND__DELETE, "z", NULL, 0, NULL),
              mut(TALUS__MUTATION__KIND__DELETE, "k", NULL,
                  TALUS__MUTATION__COND__EQUALS, "v1"));
    assert_int_equal(r.outcome, FSM_COND_FAILED);
    assert_int_equal(r.mutation, 1);
    assert_int_equal(r.cond, TALUS__MUTATION__COND__EQUALS);
    assert_value(f, "k", "v2");
    /* A missing key never equals anything. */
    r = apply(f, 4, 1, mut(0, "nokey", "v", TALUS__MUTATION__COND__EQUALS, ""));
    assert_int_equal(r.outcome, FSM_COND_FAILED);
    assert_int_equal(stored_applied(f), 4);
}

/* A batch read at an index no later batch changed the shard after does not
 * read its EQUALS conditions again (they hold by construction: here a
 * deliberately wrong expectation passes, which shows the read was
 * skipped); once a batch changed the shard after the read index they are
 * read, and ABSENT conditions always are. */
static void
test_read_index_skips_equals_reads(void **state)
{
    struct fixture *f = *state;
    struct fsm_result r;

    apply(f, 1, 1, mut(0, "k", "v1", 0, NULL));
    /* Read at 1; nothing changed since. */
    r = apply_read_at(f, 2, 1,
                      mut(0, "k", "v2", TALUS__MUTATION__COND__EQUALS, "??"));
    assert_int_equal(r.outcome, FSM_OK);
    assert_value(f, "k", "v2");
    /* Read at 1, but index 2 changed the shard: read, and it fails. */
    r = apply_read_at(f, 3, 1,
                      mut(0, "k", "v3", TALUS__MUTATION__COND__EQUALS, "v1"));
    assert_int_equal(r.outcome, FSM_COND_FAILED);
    assert_value(f, "k", "v2");
    /* A failed batch changed nothing: read at 2 still skips. */
    r = apply_read_at(f, 4, 2,
                      mut(0, "k", "v4", TALUS__MUTATION__COND__EQUALS, "v2"));
    assert_int_equal(r.outcome, FSM_OK);
    /* ABSENT is read whatever the read index. */
    r = apply_read_at(f, 5, 4,
                      mut(0, "k", "v5", TALUS__MUTATION__COND__ABSENT, NULL));
    assert_int_equal(r.outcome, FSM_COND_FAILED);
    assert_value(f, "k", "v4");
}

/* Replaying an entry at or below the applied index changes nothing. */
static void
test_replay_skipped(void **state)
{
    struct fixture *f = *state;
    struct fsm_result r;

    apply(f, 5, 1, mut(0, "k", "five", 0, NULL));
    r = apply(f, 5, 1, mut(0, "k", "again", 0, NULL));
    assert_int_equal(r.outcome, FSM_OK);
    r = apply(f, 3, 1, mut(0, "j", "three", 0, NULL));
    assert_int_equal(r.outcome, FSM_OK);
    assert_value(f, "k", "five");
    assert_value(f, "j", NULL);
    assert_int_equal(stored_applied(f), 5);
}

/* Reopening the database keeps the data and the applied index. */
static void
test_reopen(void **state)
{
    struct fixture *f = *state;

    apply(f, 7, 1, mut(0, "k", "kept", 0, NULL));
    store_close(f->st);
    open_fixture(f);
    assert_int_equal(fsm_applied(&f->fsm), 7);
    assert_value(f, "k", "kept");
    apply(f, 7, 1, mut(0, "k", "replayed", 0, NULL));
    assert_value(f, "k", "kept");
}

/* An undecodable payload is skipped but still advances the index. */
static void
test_bad_batch(void **state)
{
    struct fixture *f = *state;
    struct fsm_result r;
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0x0f};
    const uint8_t framed[] = {'T',  'L',  'W',  '1',  0, 0, 0, 4,
                              0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0};
    const uint8_t too_long[] = {'T', 'L', 'W', '1', 0, 0, 0, 99};

    assert_int_equal(fsm_apply_batch(&f->fsm, 1, junk, sizeof junk, &r), 0);
    assert_int_equal(r.outcome, FSM_BAD_BATCH);
    assert_int_equal(fsm_apply_batch(&f->fsm, 2, framed, sizeof framed, &r), 0);
    assert_int_equal(r.outcome, FSM_BAD_BATCH);
    assert_int_equal(fsm_apply_batch(&f->fsm, 3, too_long, sizeof too_long, &r),
                     0);
    assert_int_equal(r.outcome, FSM_BAD_BATCH);
    assert_int_equal(stored_applied(f), 3);
}

/* A payload carries its kind: the framing round-trips, a write payload
 * written as "TLW1" by earlier versions is still a write, and a kind this
 * node does not know writes nothing but the applied index. */
static void
test_entry_kinds(void **state)
{
    struct fixture *f = *state;
    struct fsm_result r;
    struct raft_buffer buf;
    enum fsm_entry_kind kind;
    const void *body;
    size_t n;

    fsm_entry_encode_raw((enum fsm_entry_kind)'Z', "abc", 3, &buf);
    assert_int_equal(buf.len % 8, 0);
    assert_int_equal(fsm_entry_decode(buf.base, buf.len, &kind, &body, &n), 0);
    assert_int_equal(kind, 'Z');
    assert_int_equal(n, 3);
    assert_memory_equal(body, "abc", 3);
    assert_memory_equal(buf.base, "TLZ1", 4);
    assert_int_equal(fsm_apply_batch(&f->fsm, 1, buf.base, buf.len, &r), 0);
    assert_int_equal(r.outcome, FSM_BAD_BATCH);
    assert_int_equal(stored_applied(f), 1);
    raft_free(buf.base);

    apply(f, 2, 1, mut(0, "k", "v", 0, NULL));
    assert_value(f, "k", "v");
    {
        Talus__WriteBatch wb = TALUS__WRITE_BATCH__INIT;
        fsm_entry_encode(&wb, &buf);
        assert_memory_equal(buf.base, "TLW1", 4);
        assert_int_equal(fsm_entry_decode(buf.base, buf.len, &kind, &body, &n),
                         0);
        assert_int_equal(kind, FSM_ENTRY_WRITE);
        raft_free(buf.base);
    }
    assert_int_equal(fsm_entry_decode("TLW2\0\0\0\0", 8, &kind, &body, &n),
                     TL_EPROTO);
}

/* The apply result survives the trip through raft's opaque pointer. */
static void
test_result_pack(void **state)
{
    struct fsm_result in = {FSM_COND_FAILED, 12345,
                            TALUS__MUTATION__COND__EQUALS, 0, 0};
    struct fsm_result out;
    (void)state;
    fsm_result_unpack(fsm_result_pack(&in), &out);
    assert_int_equal(out.outcome, in.outcome);
    assert_int_equal(out.mutation, in.mutation);
    assert_int_equal(out.cond, in.cond);
    assert_int_equal(out.affected, 0);
    in = (struct fsm_result){FSM_OK, -1, 0, FSM_AFFECTED_MAX, 0};
    fsm_result_unpack(fsm_result_pack(&in), &out);
    assert_int_equal(out.mutation, -1);
    assert_int_equal(out.outcome, FSM_OK);
    assert_int_equal(out.affected, FSM_AFFECTED_MAX);
}

/* A snapshot descriptor is accepted only when our data covers it. */
static void
test_snapshot_descriptor(void **state)
{
    struct fixture *f = *state;
    uint8_t d[FSM_SNAPSHOT_LEN];

    apply(f, 4, 1, mut(0, "k", "v", 0, NULL));
    fsm_snapshot_encode(&f->fsm, d);
    assert_int_equal(fsm_snapshot_check(&f->fsm, d, sizeof d), 0);
    d[23] = 9; /* index 9 > applied 4 */
    assert_int_equal(fsm_snapshot_check(&f->fsm, d, sizeof d), TL_EUNAVAILABLE);
    d[15] = 1; /* another shard */
    assert_int_equal(fsm_snapshot_check(&f->fsm, d, sizeof d), TL_ECORRUPT);
    assert_int_equal(fsm_snapshot_check(&f->fsm, d, 3), TL_ECORRUPT);
}

/* The same batch (one request id) applied at two indexes takes effect
 * once and answers the first result both times. A failed condition
 * changed nothing and is not remembered: the same id proposed again is
 * evaluated again (a modify re-scans after a concurrent change). */
static void
test_dedupe_same_batch_twice(void **state)
{
    struct fixture *f = *state;
    struct fsm_result r;

    r = apply_rid(f, 1, 42, mut(0, "k", "first", 1, NULL));
    assert_int_equal(r.outcome, FSM_OK);
    /* Re-proposed by a retry: ABSENT would now fail, but it is a dup. */
    r = apply_rid(f, 2, 42, mut(0, "k", "first", 1, NULL));
    assert_int_equal(r.outcome, FSM_OK);
    assert_value(f, "k", "first");
    assert_int_equal(stored_applied(f), 2);
    /* A failed condition is not remembered. */
    r = apply_rid(f, 3, 43, mut(0, "k", "other", 1, NULL));
    assert_int_equal(r.outcome, FSM_COND_FAILED);
    assert_int_equal(r.mutation, 0);
    apply(f, 4, 1, mut(1, "k", NULL, 0, NULL)); /* delete k */
    r = apply_rid(f, 5, 43, mut(0, "k", "other", 1, NULL));
    assert_int_equal(r.outcome, FSM_OK);
    assert_value(f, "k", "other");
    /* ... and once applied, it is. */
    r = apply_rid(f, 6, 43, mut(1, "k", NULL, 0, NULL));
    assert_int_equal(r.outcome, FSM_OK);
    assert_value(f, "k", "other");
}

/* A modify's batch carries the rows it affects; a duplicate (a resent
 * modify whose first attempt was applied) answers that count, also after
 * the shard reopens, while its own mutations are not applied. */
static void
test_dedupe_remembers_affected(void **state)
{
    struct fixture *f = *state;
    Talus__Mutation *m = mut(0, "r", "1", 0, NULL);
    Talus__WriteBatch wb;
    struct fsm_result res;
    struct raft_buffer buf;

    talus__write_batch__init(&wb);
    wb.mutations = &m;
    wb.n_mutations = 1;
    wb.has_request_id = true;
    wb.request_id = 77;
    wb.has_affected = true;
    wb.affected = 5;
    fsm_entry_encode(&wb, &buf);
    assert_int_equal(fsm_apply_batch(&f->fsm, 1, buf.base, buf.len, &res), 0);
    raft_free(buf.base);
    assert_int_equal(res.outcome, FSM_OK);
    assert_int_equal(res.affected, 5);
    fsm_close(&f->fsm);
    store_close(f->st);
    open_fixture(f);
    /* The resend found nothing left to change: an empty batch, 0 rows. */
    wb.n_mutations = 0;
    wb.affected = 0;
    fsm_entry_encode(&wb, &buf);
    assert_int_equal(fsm_apply_batch(&f->fsm, 2, buf.base, buf.len, &res), 0);
    raft_free(buf.base);
    assert_int_equal(res.outcome, FSM_OK);
    assert_int_equal(res.affected, 5);
    /* A modify without a request id is never a duplicate. */
    wb.has_request_id = false;
    wb.affected = 3;
    fsm_entry_encode(&wb, &buf);
    assert_int_equal(fsm_apply_batch(&f->fsm, 3, buf.base, buf.len, &res), 0);
    raft_free(buf.base);
    assert_int_equal(res.affected, 3);
    free(m);
    assert_value(f, "r", "1");
    fsm_close(&f->fsm);
}

/* The dedupe table is rebuilt from RocksDB when the shard reopens. */
static void
test_dedupe_survives_reopen(void **state)
{
    struct fixture *f = *state;
    struct fsm_result r;

    apply_rid(f, 1, 7, mut(0, "a", "1", 0, NULL));
    apply(f, 2, 1, mut(1, "a", NULL, 0, NULL));
    fsm_close(&f->fsm);
    store_close(f->st);
    open_fixture(f);
    r = apply_rid(f, 3, 7, mut(0, "a", "1", 0, NULL));
    assert_int_equal(r.outcome, FSM_OK);
    assert_value(f, "a", NULL); /* not re-applied */
    fsm_close(&f->fsm);
}

/* Ids older than the window are forgotten (memory and disk stay
 * bounded): the same id far later applies again. */
static void
test_dedupe_window_prunes(void **state)
{
    struct fixture *f = *state;
    uint64_t far = FSM_DEDUPE_WINDOW + 10;

    apply_rid(f, 1, 9, mut(0, "w", "1", 0, NULL));
    apply(f, 2, 1, mut(1, "w", NULL, 0, NULL));
    apply_rid(f, far, 10, mut(0, "x", "1", 0, NULL));
    apply_rid(f, far + 1, 9, mut(0, "w", "2", 0, NULL));
    assert_value(f, "w", "2");
    fsm_close(&f->fsm);
}

/* Encode a one-PUT batch of @key=@val as an entry payload (raft_free). */
static struct raft_buffer
entry_put(const char *key, const char *val)
{
    Talus__Mutation *m = mut(0, key, val, 0, NULL);
    Talus__WriteBatch wb;
    struct raft_buffer buf;
    talus__write_batch__init(&wb);
    wb.mutations = &m;
    wb.n_mutations = 1;
    fsm_entry_encode(&wb, &buf);
    free(m);
    return buf;
}

static void
apply_entry(struct fixture *f, uint64_t index, const char *key, const char *val)
{
    struct raft_buffer b = entry_put(key, val);
    struct fsm_result r;
    assert_int_equal(fsm_apply_entry(&f->fsm, index, b.base, b.len, &r), 0);
    raft_free(b.base);
}

/* The stored records of k2 = x and s11 = a, written through the MVCC
 * layer into a scratch column family: ks[0..1], vs[0..1] (malloc'd). */
static void
source_records(struct fixture *f, ProtobufCBinaryData ks[2],
               ProtobufCBinaryData vs[2])
{
    struct store_cf *cf;
    struct store_batch *b = store_batch_create();
    struct store_iter *it;
    int n = 0;

    assert_int_equal(store_ensure_shard_cf(f->st, 9, &cf), 0);
    assert_int_equal(
        mvcc_write_at(f->st, cf, b, "k2", 2, MVCC_PUT, "x", 1, 5, true),
        MVCC_OK);
    assert_int_equal(
        mvcc_write_at(f->st, cf, b, "s11", 3, MVCC_PUT, "a", 1, 6, true),
        MVCC_OK);
    assert_int_equal(store_write(f->st, b, false, NULL, 0), 0);
    store_batch_destroy(b);
    it = store_iter_create(f->st, cf, NULL);
    for (store_iter_seek_first(it); store_iter_valid(it); store_iter_next(it)) {
        size_t kl, vl;
        const char *k = store_iter_key(it, &kl);
        const char *v = store_iter_value(it, &vl);
        assert_true(n < 2);
        ks[n].data = malloc(kl);
        memcpy(ks[n].data, k, kl);
        ks[n].len = kl;
        vs[n].data = malloc(vl);
        memcpy(vs[n].data, v, vl);
        vs[n].len = vl;
        n++;
    }
    store_iter_destroy(it);
    assert_int_equal(n, 2);
}

/* A descriptor ahead of our data starts an out-of-band restore that
 * survives a reopen; entries applied meanwhile are spilled, not written;
 * after the copied pages (applied index Y) the spill above Y is replayed
 * in order and the old data is gone. */
static void
test_restore_spill_replay(void **state)
{
    struct fixture *f = *state;
    uint8_t d[FSM_SNAPSHOT_LEN];
    ProtobufCBinaryData ks[2], vs[2];
    struct fsm_result r;

    apply(f, 1, 1, mut(0, "old", "1", 0, NULL));
    fsm_snapshot_encode(&f->fsm, d);
    d[23] = 10; /* index 10 */
    d[31] = 2;  /* from node 2 */
    assert_int_equal(fsm_restore_descriptor(&f->fsm, d, sizeof d), 0);
    assert_true(atomic_load(&f->fsm.restoring));
    apply_entry(f, 11, "s11", "a");
    fsm_close(&f->fsm);
    store_close(f->st);
    open_fixture(f);
    assert_true(atomic_load(&f->fsm.restoring));
    assert_int_equal(f->fsm.restore_index, 10);
    assert_int_equal(f->fsm.restore_source, 2);
    apply_entry(f, 11, "s11", "a"); /* raft replays after restart */
    apply_entry(f, 12, "s12", "b");
    assert_value(f, "s11", NULL);
    assert_value(f, "s12", NULL);
    assert_value(f, "old", "1");
    /* The source's snapshot at Y = 11 holds k2 and entry 11's write: its
     * records, as a source replica's column family holds them. */
    source_records(f, ks, vs);
    assert_int_equal(fsm_restore_write_page(&f->fsm, true, false, 0, ks, vs, 1),
                     0);
    assert_int_equal(
        fsm_restore_write_page(&f->fsm, false, true, 11, ks + 1, vs + 1, 1), 0);
    for (int i = 0; i < 2; i++) {
        free(ks[i].data);
        free(vs[i].data);
    }
    assert_int_equal(fsm_restore_finish(&f->fsm), 0);
    assert_false(atomic_load(&f->fsm.restoring));
    assert_int_equal(fsm_applied(&f->fsm), 12);
    assert_value(f, "old", NULL);
    assert_value(f, "k2", "x");
    assert_value(f, "s11", "a");
    assert_value(f, "s12", "b");
    /* Normal applies again, and nothing pending after a reopen. */
    assert_int_equal(fsm_apply_entry(&f->fsm, 13, NULL, 0, &r), 0);
    assert_int_equal(r.outcome, FSM_BAD_BATCH);
    fsm_close(&f->fsm);
    store_close(f->st);
    open_fixture(f);
    assert_false(atomic_load(&f->fsm.restoring));
    assert_int_equal(fsm_applied(&f->fsm), 13);
}

/* Apply one-mutation prewrite @m (freed) of the transaction @start_ts,
 * read at @read_ts (0: start_ts), at @index; with @lock_primary also lock
 * the record "rec". */
static struct fsm_result
apply_txn(struct fixture *f, uint64_t index, uint64_t start_ts,
          uint64_t read_ts, bool lock_primary, Talus__Mutation *m)
{
    Talus__WriteBatch wb;
    Talus__TxnInfo t;
    struct fsm_result res;
    struct raft_buffer buf;

    talus__write_batch__init(&wb);
    talus__txn_info__init(&t);
    t.start_ts = start_ts;
    t.has_read_ts = read_ts != 0;
    t.read_ts = read_ts;
    t.has_primary = true;
    t.primary.data = (uint8_t *)"rec";
    t.primary.len = 3;
    t.has_lock_primary = lock_primary;
    t.lock_primary = lock_primary;
    wb.mutations = &m;
    wb.n_mutations = 1;
    wb.txn = &t;
    fsm_entry_encode(&wb, &buf);
    free(m);
    assert_int_equal(((uint8_t *)buf.base)[2], FSM_ENTRY_PREWRITE);
    assert_int_equal(fsm_apply_batch(&f->fsm, index, buf.base, buf.len, &res),
                     0);
    raft_free(buf.base);
    return res;
}

/* Apply the end of transaction @start_ts (commit at @commit_ts, 0: roll
 * back) at @index. */
static struct fsm_result
apply_end(struct fixture *f, uint64_t index, uint64_t start_ts,
          uint64_t commit_ts)
{
    Talus__TxnEndRequest e;
    struct fsm_result res;
    struct raft_buffer buf;
    uint8_t body[64];
    size_t n;

    talus__txn_end_request__init(&e);
    e.start_ts = start_ts;
    e.has_commit_ts = true;
    e.commit_ts = commit_ts;
    n = talus__txn_end_request__pack(&e, body);
    fsm_entry_encode_raw(FSM_ENTRY_TXN_END, body, n, &buf);
    assert_int_equal(fsm_apply_batch(&f->fsm, index, buf.base, buf.len, &res),
                     0);
    raft_free(buf.base);
    return res;
}

/* A transaction's writes stay pending (invisible to the newest committed
 * state, visible to itself) until its end entry commits them all at one
 * timestamp; a rollback leaves nothing; a plain write to a locked key is
 * refused (FSM_LOCKED), and a prewrite over a version committed after its
 * snapshot conflicts (FSM_CONFLICT). */
static void
test_transactions(void **state)
{
    struct fixture *f = *state;
    struct fsm_result r;

    r = apply(f, 1, 1, mut(0, "a", "a0", 0, NULL));
    assert_int_equal(r.outcome, FSM_OK);
    r = apply_txn(f, 2, 100, 0, true, mut(0, "a", "a1", 0, NULL));
    assert_int_equal(r.outcome, FSM_OK);
    assert_int_equal(f->fsm.n_locks, 2); /* a and the record */
    r = apply_txn(f, 3, 100, 0, false,
                  mut(0, "b", "b1", TALUS__MUTATION__COND__ABSENT, NULL));
    assert_int_equal(r.outcome, FSM_OK);
    /* Our own pending row satisfies EQUALS in our view. */
    r = apply_txn(f, 4, 100, 0, false,
                  mut(0, "a", "a2", TALUS__MUTATION__COND__EQUALS, "a1"));
    assert_int_equal(r.outcome, FSM_OK);
    assert_int_equal(f->fsm.n_locks, 3);
    assert_value(f, "a", "a0"); /* the newest committed state */
    assert_value(f, "b", NULL);
    /* A plain write to a locked key is refused, nothing written. */
    r = apply(f, 5, 2, mut(0, "c", "c0", 0, NULL), mut(0, "b", "x", 0, NULL));
    assert_int_equal(r.outcome, FSM_LOCKED);
    assert_int_equal(r.mutation, 1);
    assert_value(f, "c", NULL);
    /* Commit: every lock of 100 ends at 150, the floor rises to it. */
    r = apply_end(f, 6, 100, 150);
    assert_int_equal(r.outcome, FSM_OK);
    assert_int_equal(r.affected, 3);
    assert_int_equal(f->fsm.n_locks, 0);
    assert_int_equal(f->fsm.last_commit_ts, 150);
    assert_value(f, "a", "a2");
    assert_value(f, "b", "b1");
    /* A transaction that read at 120 conflicts with that commit. */
    r = apply_txn(f, 7, 120, 0, true, mut(0, "a", "a3", 0, NULL));
    assert_int_equal(r.outcome, FSM_CONFLICT);
    assert_int_equal(f->fsm.n_locks, 0);
    /* One that started at 120 but whose statement read at 160 does not
     * (read committed), and its rollback leaves nothing. */
    r = apply_txn(f, 8, 120, 160, true, mut(0, "a", "a3", 0, NULL));
    assert_int_equal(r.outcome, FSM_OK);
    r = apply_end(f, 9, 120, 0);
    assert_int_equal(r.affected, 2);
    assert_value(f, "a", "a2");
    assert_int_equal(f->fsm.n_locks, 0);
    /* A snapshot read at 500 raises the floor: a plain write commits
     * above it, whatever it asked for. */
    {
        char ts[8];
        struct raft_buffer buf;
        store_encode_u64(500, ts);
        fsm_entry_encode_raw(FSM_ENTRY_READ_TS, ts, 8, &buf);
        assert_int_equal(fsm_apply_batch(&f->fsm, 10, buf.base, buf.len, &r),
                         0);
        raft_free(buf.base);
    }
    assert_int_equal(f->fsm.last_commit_ts, 500);
    r = apply(f, 11, 1, mut(0, "c", "c1", 0, NULL));
    assert_int_equal(r.outcome, FSM_OK);
    assert_int_equal(f->fsm.last_commit_ts, 501);
    /* The floor and the lock count survive a reopen. */
    r = apply_txn(f, 12, 600, 0, true, mut(0, "d", "d1", 0, NULL));
    assert_int_equal(r.outcome, FSM_OK);
    fsm_close(&f->fsm);
    store_close(f->st);
    open_fixture(f);
    assert_int_equal(f->fsm.last_commit_ts, 501);
    assert_int_equal(f->fsm.n_locks, 2);
}

/* A row lock (SELECT ... FOR UPDATE) is a prewrite of kind LOCK: its
 * EQUALS condition is checked, it holds the key against plain writes and
 * other transactions, its commit changes no value and counts as no write
 * for a transaction that started before it. */
static void
test_row_lock_entries(void **state)
{
    struct fixture *f = *state;
    struct fsm_result r;
    const int lock = TALUS__MUTATION__KIND__LOCK;
    const int equals = TALUS__MUTATION__COND__EQUALS;

    r = apply(f, 1, 1, mut(0, "a", "a0", 0, NULL));
    assert_int_equal(r.outcome, FSM_OK);
    /* The row changed since it was read: the lock is not taken. */
    r = apply_txn(f, 2, 100, 0, true, mut(lock, "a", NULL, equals, "old"));
    assert_int_equal(r.outcome, FSM_COND_FAILED);
    assert_int_equal(f->fsm.n_locks, 0);
    r = apply_txn(f, 3, 100, 0, true, mut(lock, "a", NULL, equals, "a0"));
    assert_int_equal(r.outcome, FSM_OK);
    assert_int_equal(f->fsm.n_locks, 2); /* a and the record */
    r = apply(f, 4, 1, mut(0, "a", "x", 0, NULL));
    assert_int_equal(r.outcome, FSM_LOCKED);
    r = apply_txn(f, 5, 110, 0, true, mut(lock, "a", NULL, equals, "a0"));
    assert_int_equal(r.outcome, FSM_LOCKED);
    r = apply_end(f, 6, 100, 150);
    assert_int_equal(r.affected, 2);
    assert_value(f, "a", "a0");
    /* Transaction 120 read a0 before that commit and may still write. */
    r = apply_txn(f, 7, 120, 0, true, mut(0, "a", "a1", equals, "a0"));
    assert_int_equal(r.outcome, FSM_OK);
    r = apply_end(f, 8, 120, 160);
    assert_value(f, "a", "a1");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_delete_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absent_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_index_skips_equals_reads,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_equals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_entry_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_batch, setup, teardown),
        cmocka_unit_test(test_result_pack),
        cmocka_unit_test_setup_teardown(test_dedupe_same_batch_twice, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dedupe_remembers_affected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dedupe_survives_reopen, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dedupe_window_prunes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_row_lock_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_spill_replay, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_descriptor, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
