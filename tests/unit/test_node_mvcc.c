/* node/store/mvcc: visibility of versions at read timestamps (table
 * driven), locks, first-committer-wins conflicts, commit and rollback
 * idempotence, scans, and GC that never removes a version a read at or
 * above the safe point can see. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "node/store/mvcc.h"
#include "node/store/store.h"
#include "tl_error.h"

struct fixture {
    char dir[64];
    struct store *st;
    struct store_cf *cf;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    uint32_t shards[] = {0};
    char err[256];
    snprintf(f->dir, sizeof f->dir, "/tmp/talus-mvcc-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, shards, 1, &f->st, err, sizeof err), 0);
    f->cf = store_shard_cf(f->st, 0);
    assert_non_null(f->cf);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    store_close(f->st);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void
write_batch(struct fixture *f, struct store_batch *b)
{
    assert_int_equal(store_write(f->st, b, false, NULL, 0), 0);
    store_batch_destroy(b);
}

/* One-phase PUT (@val) or DELETE (@val NULL) of @key at @ts. */
static int
put1(struct fixture *f, const char *key, const char *val, uint64_t ts)
{
    struct store_batch *b = store_batch_create();
    int rv = mvcc_write_1pc(f->st, f->cf, b, key, strlen(key),
                            val ? MVCC_PUT : MVCC_DELETE, val,
                            val ? strlen(val) : 0, ts, ts);
    write_batch(f, b);
    return rv;
}

static struct mvcc_lock
lock_of(uint64_t start_ts, enum mvcc_kind kind, const char *primary)
{
    struct mvcc_lock lk = {.start_ts = start_ts,
                           .ttl_ms = 3000,
                           .owner = 7,
                           .kind = kind,
                           .primary = (const uint8_t *)primary,
                           .primary_len = strlen(primary)};
    return lk;
}

static int
prewrite(struct fixture *f, const char *key, const char *val, uint64_t start_ts)
{
    struct store_batch *b = store_batch_create();
    struct mvcc_lock lk = lock_of(start_ts, val ? MVCC_PUT : MVCC_DELETE, key);
    struct mvcc_lock other;
    uint8_t *obuf = NULL;
    int rv = mvcc_prewrite(f->st, f->cf, b, key, strlen(key), &lk, val,
                           val ? strlen(val) : 0, &other, &obuf);
    free(obuf);
    write_batch(f, b);
    return rv;
}

static int
commit(struct fixture *f, const char *key, uint64_t start_ts,
       uint64_t commit_ts)
{
    struct store_batch *b = store_batch_create();
    int rv =
        mvcc_commit(f->st, f->cf, b, key, strlen(key), start_ts, commit_ts);
    write_batch(f, b);
    return rv;
}

static int
rollback(struct fixture *f, const char *key, uint64_t start_ts)
{
    struct store_batch *b = store_batch_create();
    int rv = mvcc_rollback(f->st, f->cf, b, key, strlen(key), start_ts);
    write_batch(f, b);
    return rv;
}

/* What a read of @key at @ts gives: the value, "<none>", or "<locked>". */
static char *
read_at(struct fixture *f, const char *key, uint64_t ts)
{
    char *v, *out;
    size_t len;
    struct mvcc_lock lk;
    uint8_t *lbuf = NULL;
    int rv = mvcc_get(f->st, f->cf, key, strlen(key), ts, &v, &len, NULL, &lk,
                      &lbuf);
    if (rv == MVCC_LOCKED) {
        free(lbuf);
        return strdup("<locked>");
    }
    assert_int_equal(rv, MVCC_OK);
    if (v == NULL)
        return strdup("<none>");
    out = strndup(v, len);
    free(v);
    return out;
}

static void
assert_read(struct fixture *f, const char *key, uint64_t ts, const char *want)
{
    char *got = read_at(f, key, ts);
    if (strcmp(got, want) != 0)
        fail_msg("read %s at %llu: got %s, want %s", key,
                 (unsigned long long)ts, got, want);
    free(got);
}

/* A long value (stored apart from its write record). */
static char *
long_value(char c)
{
    char *v = malloc(MVCC_INLINE_MAX + 101);
    memset(v, c, MVCC_INLINE_MAX + 100);
    v[MVCC_INLINE_MAX + 100] = '\0';
    return v;
}

/* Table: a history of one key, then what reads at each timestamp see. */
static void
test_visibility_table(void **state)
{
    struct fixture *f = *state;
    char *big = long_value('b');
    struct {
        uint64_t ts;
        const char *want;
    } reads[] = {
        {5, "<none>"},  {10, "v10"},
        {15, "v10"},    {20, "<none>"},
        {29, "<none>"}, {30, "big"},
        {39, "big"},    {40, "big"},
        {45, "big"},    {50, "v50"},
        {59, "v50"},    {60, "v50"},
        {70, "v50"},    {UINT64_MAX - 1, "v50"},
    };

    assert_int_equal(put1(f, "k", "v10", 10), MVCC_OK); /* PUT @10 */
    assert_int_equal(put1(f, "k", NULL, 20), MVCC_OK);  /* DELETE @20 */
    assert_int_equal(put1(f, "k", big, 30), MVCC_OK);   /* long PUT @30 */
    assert_int_equal(prewrite(f, "k", "rolled", 40), MVCC_OK);
    assert_int_equal(rollback(f, "k", 40), MVCC_OK); /* ROLLBACK @40 */
    assert_int_equal(prewrite(f, "k", "v50", 45), MVCC_OK);
    assert_int_equal(commit(f, "k", 45, 50), MVCC_OK); /* 2PC @45->50 */
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        const char *want =
            strcmp(reads[i].want, "big") == 0 ? big : reads[i].want;
        assert_read(f, "k", reads[i].ts, want);
    }
    /* Other keys are untouched: a key is never a prefix match. */
    assert_read(f, "k2", 100, "<none>");
    assert_read(f, "", 100, "<none>");
    free(big);
}

/* A lock hides nothing from reads below its start_ts and blocks reads at
 * or above it until committed or rolled back. */
static void
test_locks_block_reads_at_or_above(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(put1(f, "a", "old", 10), MVCC_OK);
    assert_int_equal(prewrite(f, "a", "new", 20), MVCC_OK);
    assert_read(f, "a", 15, "old");
    assert_read(f, "a", 20, "<locked>");
    assert_read(f, "a", 25, "<locked>");
    assert_int_equal(commit(f, "a", 20, 30), MVCC_OK);
    assert_read(f, "a", 25, "old"); /* committed after 25 */
    assert_read(f, "a", 30, "new");
    /* Committing again is a no-op: the record is there. */
    assert_int_equal(commit(f, "a", 20, 30), MVCC_OK);
    assert_read(f, "a", 30, "new");
}

/* First committer wins; a second writer meets the lock; a rolled-back
 * transaction cannot prewrite again; a commit cannot be rolled back. */
static void
test_conflicts(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(put1(f, "x", "1", 10), MVCC_OK);
    /* T1 started at 5 and writes x, but x was committed at 10. */
    assert_int_equal(prewrite(f, "x", "t1", 5), MVCC_WRITE_CONFLICT);
    assert_int_equal(put1(f, "x", "t1", 5), MVCC_WRITE_CONFLICT);
    /* T2 at 20 locks x; T3 at 25 meets the lock. */
    assert_int_equal(prewrite(f, "x", "t2", 20), MVCC_OK);
    assert_int_equal(prewrite(f, "x", "t2", 20), MVCC_OK); /* retry */
    assert_int_equal(prewrite(f, "x", "t3", 25), MVCC_LOCKED);
    assert_int_equal(put1(f, "x", "t3", 25), MVCC_LOCKED);
    assert_int_equal(rollback(f, "x", 20), MVCC_OK);
    assert_int_equal(rollback(f, "x", 20), MVCC_OK); /* idempotent */
    assert_int_equal(prewrite(f, "x", "t2", 20), MVCC_ROLLED_BACK);
    assert_int_equal(commit(f, "x", 20, 30), MVCC_ROLLED_BACK);
    /* T3 now prewrites and commits; its commit cannot be undone. */
    assert_int_equal(prewrite(f, "x", "t3", 25), MVCC_OK);
    assert_int_equal(commit(f, "x", 25, 35), MVCC_OK);
    assert_int_equal(rollback(f, "x", 25), MVCC_WRITE_CONFLICT);
    assert_read(f, "x", 40, "t3");
    /* A commit whose lock was resolved away reports it. */
    assert_int_equal(commit(f, "x", 33, 36), MVCC_NO_LOCK);
    /* A transaction that read at 30 conflicts with T3's commit at 35. */
    assert_int_equal(prewrite(f, "x", "t4", 30), MVCC_WRITE_CONFLICT);
    assert_int_equal(prewrite(f, "x", "t5", 36), MVCC_OK);
}

/* A scan at a timestamp yields the visible rows in key order, skips
 * deleted and future rows, and stops at a lock it must not read past. */
static void
test_scan(void **state)
{
    struct fixture *f = *state;
    struct mvcc_scan *s;
    struct mvcc_row row;
    char *big = long_value('z');
    char got[256] = "";

    assert_int_equal(put1(f, "a", "a1", 10), MVCC_OK);
    assert_int_equal(put1(f, "b", "b1", 10), MVCC_OK);
    assert_int_equal(put1(f, "b", NULL, 20), MVCC_OK);
    assert_int_equal(put1(f, "c", "c1", 10), MVCC_OK);
    assert_int_equal(put1(f, "c", "c2", 30), MVCC_OK);
    assert_int_equal(put1(f, "d", "d1", 40), MVCC_OK);
    assert_int_equal(put1(f, "e", big, 10), MVCC_OK);
    assert_int_equal(prewrite(f, "f", "f1", 50), MVCC_OK);

    s = mvcc_scan_create(
        f->st, f->cf, "", 0, NULL, 0,
        &(struct mvcc_read){.read_ts = 25, .fill_cache = true});
    while (mvcc_scan_next(s, &row) == MVCC_OK) {
        strncat(got, row.key, row.key_len);
        strcat(got, "=");
        strcat(got, row.val_len > 10 ? "big" : "");
        if (row.val_len <= 10)
            strncat(got, row.val, row.val_len);
        strcat(got, " ");
    }
    mvcc_scan_destroy(s);
    assert_string_equal(got, "a=a1 c=c1 e=big ");

    /* At 60 the scan meets f's lock (start 50 <= 60). */
    s = mvcc_scan_create(
        f->st, f->cf, "c", 1, "g", 1,
        &(struct mvcc_read){.read_ts = 60, .fill_cache = true});
    assert_int_equal(mvcc_scan_next(s, &row), MVCC_OK);
    assert_memory_equal(row.key, "c", 1);
    assert_memory_equal(row.val, "c2", 2);
    assert_int_equal(row.ver.commit_ts, 30);
    assert_int_equal(mvcc_scan_next(s, &row), MVCC_OK);
    assert_memory_equal(row.key, "d", 1);
    assert_int_equal(mvcc_scan_next(s, &row), MVCC_OK);
    assert_memory_equal(row.key, "e", 1);
    assert_int_equal(mvcc_scan_next(s, &row), MVCC_LOCKED);
    assert_memory_equal(row.key, "f", 1);
    assert_int_equal(row.lock.start_ts, 50);
    mvcc_scan_destroy(s);

    /* Bounds: [b, d) at 100 sees only c. */
    s = mvcc_scan_create(
        f->st, f->cf, "b", 1, "d", 1,
        &(struct mvcc_read){.read_ts = 100, .fill_cache = true});
    assert_int_equal(mvcc_scan_next(s, &row), MVCC_OK);
    assert_memory_equal(row.key, "c", 1);
    assert_int_equal(mvcc_scan_next(s, &row), MVCC_END);
    mvcc_scan_destroy(s);
    free(big);
}

/* GC below a safe point keeps every version visible at or above it, for
 * every history shape of the table. */
static void
test_gc_keeps_visible(void **state)
{
    struct fixture *f = *state;
    const uint64_t safe_points[] = {5, 10, 15, 20, 25, 30, 35, 40, 55, 60};
    const uint64_t probe[] = {5,  10, 15, 20, 25, 30, 35,
                              40, 45, 50, 55, 60, 100};
    char *big = long_value('g');

    for (size_t sp = 0; sp < sizeof safe_points / sizeof *safe_points; sp++) {
        char key[16];
        char *before[sizeof probe / sizeof *probe];
        struct store_batch *b;
        uint64_t n = 0;
        snprintf(key, sizeof key, "g%zu", sp);
        assert_int_equal(put1(f, key, "v10", 10), MVCC_OK);
        assert_int_equal(put1(f, key, big, 20), MVCC_OK);
        assert_int_equal(put1(f, key, NULL, 30), MVCC_OK);
        assert_int_equal(prewrite(f, key, "r", 35), MVCC_OK);
        assert_int_equal(rollback(f, key, 35), MVCC_OK);
        assert_int_equal(put1(f, key, "v40", 40), MVCC_OK);
        assert_int_equal(put1(f, key, "v50", 50), MVCC_OK);
        for (size_t i = 0; i < sizeof probe / sizeof *probe; i++)
            before[i] = read_at(f, key, probe[i]);
        b = store_batch_create();
        assert_int_equal(
            mvcc_gc_key(f->st, f->cf, b, key, strlen(key), safe_points[sp], &n),
            0);
        write_batch(f, b);
        for (size_t i = 0; i < sizeof probe / sizeof *probe; i++) {
            if (probe[i] >= safe_points[sp]) {
                char *after = read_at(f, key, probe[i]);
                if (strcmp(after, before[i]) != 0)
                    fail_msg("gc at %llu changed the read at %llu",
                             (unsigned long long)safe_points[sp],
                             (unsigned long long)probe[i]);
                free(after);
            }
            free(before[i]);
        }
        /* Something older than the safe point's visible version went. */
        if (safe_points[sp] >= 20)
            assert_true(n > 0);
        if (safe_points[sp] < 10)
            assert_int_equal(n, 0);
    }
    free(big);
}

/* ---- GC over generated histories: mvcc_gc_key() and the compaction
 * filter must agree with the reads before them at and above S. */

#define GEN_KEYS 24
#define GEN_OPS 14
#define GEN_STEP 10
#define GEN_MAX_TS (GEN_OPS * GEN_STEP + 50)

static uint64_t gen_seed;

static uint32_t
gen_rand(void)
{
    gen_seed = gen_seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(gen_seed >> 33);
}

/* Write a random history of puts (short and long), deletes, rollbacks,
 * LOCK records and two-phase commits to keys "h0".."h<n>"; every third key
 * ends with a pending lock above every timestamp of the history. */
static void
gen_history(struct fixture *f, uint64_t seed)
{
    char *big = long_value('h');
    gen_seed = seed;
    for (int k = 0; k < GEN_KEYS; k++) {
        char key[16], val[32];
        snprintf(key, sizeof key, "h%02d", k);
        for (int i = 1; i <= GEN_OPS; i++) {
            uint64_t ts = (uint64_t)i * GEN_STEP;
            struct store_batch *b;
            struct mvcc_lock lk, other;
            uint8_t *obuf = NULL;
            snprintf(val, sizeof val, "%s@%llu", key, (unsigned long long)ts);
            switch (gen_rand() % 7) {
            case 0:
            case 1:
                assert_int_equal(put1(f, key, val, ts), MVCC_OK);
                break;
            case 2:
                assert_int_equal(put1(f, key, big, ts), MVCC_OK);
                break;
            case 3:
                assert_int_equal(put1(f, key, NULL, ts), MVCC_OK);
                break;
            case 4:
                assert_int_equal(prewrite(f, key, val, ts), MVCC_OK);
                assert_int_equal(rollback(f, key, ts), MVCC_OK);
                break;
            case 5: /* a row lock that wrote nothing: a LOCK record */
                lk = lock_of(ts, MVCC_LOCK, key);
                b = store_batch_create();
                assert_int_equal(mvcc_prewrite(f->st, f->cf, b, key,
                                               strlen(key), &lk, NULL, 0,
                                               &other, &obuf),
                                 MVCC_OK);
                free(obuf);
                obuf = NULL;
                write_batch(f, b);
                assert_int_equal(commit(f, key, ts, ts + 5), MVCC_OK);
                break;
            default: /* two-phase, long value */
                assert_int_equal(
                    prewrite(f, key, gen_rand() % 2 ? big : val, ts), MVCC_OK);
                assert_int_equal(commit(f, key, ts, ts + 5), MVCC_OK);
                break;
            }
        }
        if (k % 3 == 0)
            assert_int_equal(prewrite(f, key, "pending", GEN_MAX_TS - 20),
                             MVCC_OK);
    }
    free(big);
}

/* Every read of every key at every timestamp 0..GEN_MAX_TS. */
static char **
gen_reads(struct fixture *f)
{
    char **r = calloc(GEN_KEYS * (GEN_MAX_TS + 1), sizeof *r);
    for (int k = 0; k < GEN_KEYS; k++) {
        char key[16];
        snprintf(key, sizeof key, "h%02d", k);
        for (uint64_t ts = 0; ts <= GEN_MAX_TS; ts++)
            r[k * (GEN_MAX_TS + 1) + ts] = read_at(f, key, ts);
    }
    return r;
}

static void
free_reads(char **r)
{
    for (size_t i = 0; i < GEN_KEYS * (GEN_MAX_TS + 1); i++)
        free(r[i]);
    free(r);
}

/* The raw records of @cf: per key, the write records at or below @sp
 * (*@w_below), LOCK/ROLLBACK ones among them (*@lr_below), locks
 * (*@locks), data records (*@data), write records in all (*@writes). */
struct census {
    uint64_t w_below[GEN_KEYS], lr_below, locks, data, writes;
};

static void
take_census(struct fixture *f, uint64_t sp, struct census *c)
{
    struct store_iter *it = store_iter_create(f->st, f->cf, NULL);
    memset(c, 0, sizeof *c);
    for (store_iter_seek_first(it); store_iter_valid(it); store_iter_next(it)) {
        size_t kl, vl;
        const char *k = store_iter_key(it, &kl);
        const char *v = store_iter_value(it, &vl);
        if (k[0] == 'L')
            c->locks++;
        else if (k[0] == 'D')
            c->data++;
        if (k[0] != 'W')
            continue;
        c->writes++;
        uint64_t ts = 0;
        for (int i = 0; i < 8; i++)
            ts = ts << 8 | (uint8_t)k[kl - 8 + i];
        ts = ~ts;
        int key_no = (k[2] - '0') * 10 + (k[3] - '0'); /* 'W' "h<nn>" */
        assert_true(vl >= 9);
        if (ts <= sp && key_no >= 0 && key_no < GEN_KEYS) {
            c->w_below[key_no]++;
            if (v[8] == MVCC_LOCK || v[8] == MVCC_ROLLBACK)
                c->lr_below++;
        }
    }
    assert_int_equal(store_iter_status(it, NULL, 0), 0);
    store_iter_destroy(it);
}

/* After GC at @sp: reads at or above it unchanged, at most one version at
 * or below it per key, no LOCK/ROLLBACK record there, locks untouched. */
static void
check_gc(struct fixture *f, char **before, uint64_t sp, uint64_t locks_before,
         const char *how)
{
    struct census c;
    for (int k = 0; k < GEN_KEYS; k++) {
        char key[16];
        snprintf(key, sizeof key, "h%02d", k);
        for (uint64_t ts = sp; ts <= GEN_MAX_TS; ts++) {
            char *after = read_at(f, key, ts);
            const char *want = before[k * (GEN_MAX_TS + 1) + ts];
            if (strcmp(after, want) != 0)
                fail_msg("%s at %llu changed the read of %s at %llu: %.20s, "
                         "was %.20s",
                         how, (unsigned long long)sp, key,
                         (unsigned long long)ts, after, want);
            free(after);
        }
    }
    take_census(f, sp, &c);
    for (int k = 0; k < GEN_KEYS; k++)
        if (c.w_below[k] > 1)
            fail_msg("%s at %llu left %llu versions of h%02d at or below it",
                     how, (unsigned long long)sp,
                     (unsigned long long)c.w_below[k], k);
    assert_int_equal(c.lr_below, 0);
    assert_int_equal(c.locks, locks_before);
}

static const uint64_t gen_safe_points[] = {25, 62, 95, 141, 150};

/* Transaction records (0xFE, shard, start ts): one committed with a
 * commit record alone (a LOCK write record at 30), one rolled back at
 * 40 (a ROLLBACK record), each the only version of its key. */
static const char rec_committed[13] = "\xfe\0\0\0\1\0\0\0\0\0\0\0\x14";
static const char rec_rolled_back[13] = "\xfe\0\0\0\1\0\0\0\0\0\0\0\x28";

static void
gen_records(struct fixture *f)
{
    struct store_batch *b = store_batch_create();
    uint64_t min = 0;
    assert_int_equal(
        mvcc_commit_record(f->st, f->cf, b, rec_committed, 13, 20, 30, &min),
        MVCC_OK);
    write_batch(f, b);
    b = store_batch_create();
    assert_int_equal(mvcc_rollback(f->st, f->cf, b, rec_rolled_back, 13, 40),
                     MVCC_OK);
    write_batch(f, b);
}

/* GC keeps what the records say: a lock a dead coordinator left below
 * the safe point is still resolved right. */
static void
check_records(struct fixture *f)
{
    uint64_t c = 0;
    assert_int_equal(mvcc_txn_status(f->st, f->cf, rec_committed, 13, 20, &c),
                     MVCC_OK);
    assert_true(c == 30);
    assert_int_equal(mvcc_txn_status(f->st, f->cf, rec_rolled_back, 13, 40, &c),
                     MVCC_ROLLED_BACK);
}

static void
test_gc_generated_batch(void **state)
{
    struct fixture *f = *state;
    struct census c0, c1;
    gen_history(f, 42);
    gen_records(f);
    char **before = gen_reads(f);
    take_census(f, 0, &c0);
    for (size_t i = 0; i < sizeof gen_safe_points / sizeof *gen_safe_points;
         i++) {
        for (int k = 0; k < GEN_KEYS; k++) {
            char key[16];
            struct store_batch *b = store_batch_create();
            snprintf(key, sizeof key, "h%02d", k);
            assert_int_equal(mvcc_gc_key(f->st, f->cf, b, key, strlen(key),
                                         gen_safe_points[i], NULL),
                             0);
            write_batch(f, b);
        }
        const char *recs[] = {rec_committed, rec_rolled_back};
        for (int r = 0; r < 2; r++) {
            uint64_t n = 99;
            struct store_batch *b = store_batch_create();
            assert_int_equal(mvcc_gc_key(f->st, f->cf, b, recs[r], 13,
                                         gen_safe_points[i], &n),
                             0);
            assert_int_equal(n, 0);
            write_batch(f, b);
        }
        check_records(f);
        check_gc(f, before, gen_safe_points[i], c0.locks, "mvcc_gc_key");
    }
    take_census(f, 0, &c1);
    assert_true(c1.writes < c0.writes);
    assert_true(c1.data < c0.data);
    free_reads(before);
}

/* The same through the compaction filter, at safe points that only move
 * forward, the last one above the history (everything but the newest
 * version of each key goes). */
static void
test_gc_compaction_filter(void **state)
{
    struct fixture *f = *state;
    struct census c0, c1;
    mvcc_gc_install(f->st);
    gen_history(f, 7);
    gen_records(f);
    char **before = gen_reads(f);
    take_census(f, 0, &c0);
    /* No floor: a compaction keeps everything. */
    assert_int_equal(store_compact(f->st, f->cf), 0);
    take_census(f, 0, &c1);
    assert_int_equal(c1.writes, c0.writes);
    for (size_t i = 0; i < sizeof gen_safe_points / sizeof *gen_safe_points;
         i++) {
        store_cf_set_gc_floor(f->cf, gen_safe_points[i]);
        assert_int_equal(store_cf_gc_floor(f->cf), gen_safe_points[i]);
        assert_int_equal(store_compact(f->st, f->cf), 0);
        check_gc(f, before, gen_safe_points[i], c0.locks, "the filter");
        check_records(f);
    }
    /* The floor never moves back. */
    store_cf_set_gc_floor(f->cf, 10);
    assert_int_equal(store_cf_gc_floor(f->cf), 150);
    take_census(f, 0, &c1);
    assert_true(c1.writes < c0.writes);
    /* The data records of collected long PUTs went too: only those of the
     * kept versions and pending locks stay. */
    assert_true(c1.data < c0.data);
    assert_true(c1.data <= GEN_KEYS + GEN_KEYS / 3 + 1);
    free_reads(before);
}

/* Every row a scan through view @r yields: "key=value " each, or
 * "key=<locked>" where it stops at a lock. */
static void
scan_view(struct fixture *f, const struct mvcc_read *r, const char *start,
          const char *end, char *got, size_t cap)
{
    struct mvcc_scan *s = mvcc_scan_create(f->st, f->cf, start, strlen(start),
                                           end, end ? strlen(end) : 0, r);
    struct mvcc_row row;
    int rv;
    got[0] = '\0';
    while ((rv = mvcc_scan_next(s, &row)) == MVCC_OK) {
        size_t n = strlen(got);
        snprintf(got + n, cap - n, "%.*s=%.*s ", (int)row.key_len, row.key,
                 (int)row.val_len, row.val);
    }
    if (rv == MVCC_LOCKED) {
        size_t n = strlen(got);
        snprintf(got + n, cap - n, "%.*s=<locked>", (int)row.key_len, row.key);
    } else {
        assert_int_equal(rv, MVCC_END);
    }
    mvcc_scan_destroy(s);
}

/* A row lock (SELECT ... FOR UPDATE): prewritten as kind LOCK, it holds
 * the key against other writers and row locks; committed, it leaves a
 * LOCK record that reads skip and that is no write conflict for a writer
 * that started before it (PostgreSQL: a row only locked by a committed
 * transaction can be updated under REPEATABLE READ). */
static void
test_row_locks(void **state)
{
    struct fixture *f = *state;
    struct mvcc_lock lk = lock_of(20, MVCC_LOCK, "r");
    struct store_batch *b;

    assert_int_equal(put1(f, "r", "v1", 10), MVCC_OK);
    b = store_batch_create();
    assert_int_equal(
        mvcc_prewrite(f->st, f->cf, b, "r", 1, &lk, NULL, 0, NULL, NULL),
        MVCC_OK);
    write_batch(f, b);
    /* Another writer, and another row lock, meet it. */
    assert_int_equal(prewrite(f, "r", "t2", 25), MVCC_LOCKED);
    lk.start_ts = 26;
    b = store_batch_create();
    assert_int_equal(
        mvcc_prewrite(f->st, f->cf, b, "r", 1, &lk, NULL, 0, NULL, NULL),
        MVCC_LOCKED);
    store_batch_destroy(b);
    assert_int_equal(commit(f, "r", 20, 30), MVCC_OK);
    /* Reads skip the LOCK record: the value committed at 10 shows. */
    assert_read(f, "r", 35, "v1");
    /* T2 started at 25, before the lock's commit at 30: no conflict. */
    assert_int_equal(prewrite(f, "r", "t2", 25), MVCC_OK);
    assert_int_equal(commit(f, "r", 25, 40), MVCC_OK);
    assert_read(f, "r", 45, "t2");
    /* A write committed after a writer's start still conflicts. */
    assert_int_equal(prewrite(f, "r", "t3", 35), MVCC_WRITE_CONFLICT);
}

/* A transaction's view shows its own pending writes over the committed
 * versions (PUT as the value, DELETE as no row, LOCK as the committed
 * row), other transactions' locks stop it, and a read of the latest
 * committed state reports no lock at all. */
static void
test_views(void **state)
{
    struct fixture *f = *state;
    struct mvcc_read own = {.read_ts = 100, .own_ts = 90, .fill_cache = true};
    struct mvcc_read latest = mvcc_read_at(MVCC_TS_LATEST);
    struct mvcc_lock lk = lock_of(90, MVCC_LOCK, "a");
    struct store_batch *b;
    char got[256], *v;
    size_t len;
    uint8_t *lbuf = NULL;

    assert_int_equal(put1(f, "a", "a1", 10), MVCC_OK);
    assert_int_equal(put1(f, "b", "b1", 10), MVCC_OK);
    assert_int_equal(put1(f, "c", "c1", 10), MVCC_OK);
    assert_int_equal(prewrite(f, "a", "a2", 90), MVCC_OK); /* ours: PUT */
    assert_int_equal(prewrite(f, "b", NULL, 90), MVCC_OK); /* ours: DELETE */
    assert_int_equal(prewrite(f, "d", "d9", 90), MVCC_OK); /* ours: new row */
    b = store_batch_create();
    assert_int_equal(
        mvcc_prewrite(f->st, f->cf, b, "c", 1, &lk, NULL, 0, NULL, NULL),
        MVCC_OK); /* ours: a row lock */
    write_batch(f, b);
    scan_view(f, &own, "", NULL, got, sizeof got);
    assert_string_equal(got, "a=a2 c=c1 d=d9 ");
    scan_view(f, &latest, "", NULL, got, sizeof got);
    assert_string_equal(got, "a=a1 b=b1 c=c1 ");
    /* Someone else reading at 95 stops at our lock on a. */
    own.own_ts = 80;
    own.read_ts = 95;
    scan_view(f, &own, "", NULL, got, sizeof got);
    assert_string_equal(got, "a=<locked>");
    /* ... but not at 85, before we started. */
    own.read_ts = 85;
    scan_view(f, &own, "", NULL, got, sizeof got);
    assert_string_equal(got, "a=a1 b=b1 c=c1 ");
    /* Point reads agree. */
    own.own_ts = 90;
    own.read_ts = 100;
    assert_int_equal(
        mvcc_read_get(f->st, f->cf, &own, "a", 1, &v, &len, &lk, &lbuf),
        MVCC_OK);
    assert_memory_equal(v, "a2", 2);
    free(v);
    assert_int_equal(
        mvcc_read_get(f->st, f->cf, &own, "b", 1, &v, &len, &lk, &lbuf),
        MVCC_OK);
    assert_null(v);
    assert_int_equal(
        mvcc_read_get(f->st, f->cf, &own, "c", 1, &v, &len, &lk, &lbuf),
        MVCC_OK);
    assert_memory_equal(v, "c1", 2);
    free(v);
    assert_int_equal(
        mvcc_read_get(f->st, f->cf, &latest, "a", 1, &v, &len, &lk, &lbuf),
        MVCC_OK);
    assert_memory_equal(v, "a1", 2);
    free(v);
    own.own_ts = 80;
    assert_int_equal(
        mvcc_read_get(f->st, f->cf, &own, "a", 1, &v, &len, &lk, &lbuf),
        MVCC_LOCKED);
    assert_int_equal(lk.start_ts, 90);
    free(lbuf);
}

/* Scan bounds are user keys, and need not be keys (row keys are
 * self-delimiting, a bound may extend one): a key that is a proper
 * prefix of the start bound is out of the range, one that is a proper
 * prefix of the end bound is in, whatever its versions' timestamps. */
static void
test_scan_bounds_are_user_keys(void **state)
{
    struct fixture *f = *state;
    struct mvcc_read r = mvcc_read_at(MVCC_TS_LATEST);
    char got[256];

    for (uint64_t ts = 10; ts <= 50; ts += 10) {
        char v[8];
        snprintf(v, sizeof v, "k%llu", (unsigned long long)ts);
        assert_int_equal(put1(f, "k", v, ts), MVCC_OK);
    }
    assert_int_equal(put1(f, "l", "l", 10), MVCC_OK);
    scan_view(f, &r, "k\x01", "m", got, sizeof got);
    assert_string_equal(got, "l=l ");
    scan_view(f, &r, "a", "k\x01", got, sizeof got);
    assert_string_equal(got, "k=k50 ");
    scan_view(f, &r, "k", "k\x01", got, sizeof got);
    assert_string_equal(got, "k=k50 ");
    r.read_ts = 25;
    scan_view(f, &r, "a", NULL, got, sizeof got);
    assert_string_equal(got, "k=k20 l=l ");
}

static uint64_t
end_txn_max(struct fixture *f, uint64_t start_ts, uint64_t commit_ts,
            uint64_t max)
{
    struct store_batch *b = store_batch_create();
    uint64_t n = 99;
    assert_int_equal(
        mvcc_end_txn(f->st, f->cf, b, start_ts, commit_ts, max, &n), 0);
    write_batch(f, b);
    return n;
}

static uint64_t
end_txn(struct fixture *f, uint64_t start_ts, uint64_t commit_ts)
{
    return end_txn_max(f, start_ts, commit_ts, 0);
}

/* Ending a transaction ends exactly its locks (through its own index,
 * whatever other transactions hold or held): a commit makes them
 * versions, a rollback drops them, and an index entry whose lock a
 * range delete removed is dropped without error. */
static void
test_end_txn_ends_its_own_locks(void **state)
{
    struct fixture *f = *state;
    struct mvcc_read r = mvcc_read_at(100);
    char got[256];
    uint64_t n;

    for (int i = 0; i < 200; i++) { /* deleted lock records before ours */
        char k[16];
        snprintf(k, sizeof k, "b%03d", i);
        assert_int_equal(prewrite(f, k, "x", 10), MVCC_OK);
    }
    /* In chunks: each ends at most max, the last fewer, then none. */
    assert_int_equal(end_txn_max(f, 10, 0, 64), 64);
    assert_int_equal(end_txn_max(f, 10, 0, 64), 64);
    assert_int_equal(mvcc_count_locks(f->st, f->cf, &n), 0);
    assert_int_equal(n, 200 - 128);
    assert_int_equal(end_txn_max(f, 10, 0, 64), 64);
    assert_int_equal(end_txn_max(f, 10, 0, 64), 8);
    assert_int_equal(end_txn_max(f, 10, 0, 64), 0);
    assert_int_equal(prewrite(f, "a", "1", 30), MVCC_OK);
    assert_int_equal(prewrite(f, "c", "3", 30), MVCC_OK);
    assert_int_equal(prewrite(f, "d", "4", 40), MVCC_OK);
    assert_int_equal(prewrite(f, "e", "5", 50), MVCC_OK);
    assert_int_equal(end_txn(f, 30, 35), 2);
    assert_int_equal(end_txn(f, 30, 35), 0); /* again: nothing left */
    assert_int_equal(mvcc_count_locks(f->st, f->cf, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(end_txn(f, 40, 0), 1);
    /* A range delete (DROP, TRUNCATE) takes e's lock but not its entry. */
    struct store_batch *b = store_batch_create();
    assert_int_equal(mvcc_delete_range(b, f->cf, "e", 1, "f", 1), 0);
    write_batch(f, b);
    assert_int_equal(end_txn(f, 50, 55), 0);
    assert_int_equal(mvcc_count_locks(f->st, f->cf, &n), 0);
    assert_int_equal(n, 0);
    scan_view(f, &r, "a", NULL, got, sizeof got);
    assert_string_equal(got, "a=1 c=3 ");
}

/* A prewrite of statement @seq of transaction @start_ts with the newest
 * savepoint after statement @sp (0: none). */
static int
prewrite_seq(struct fixture *f, const char *key, const char *val,
             uint64_t start_ts, uint32_t seq, uint32_t sp)
{
    struct store_batch *b = store_batch_create();
    struct mvcc_lock lk = lock_of(start_ts, val ? MVCC_PUT : MVCC_DELETE, "r");
    lk.seq = seq;
    lk.savepoint_seq = sp;
    int rv = mvcc_prewrite(f->st, f->cf, b, key, strlen(key), &lk, val,
                           val ? strlen(val) : 0, NULL, NULL);
    write_batch(f, b);
    return rv;
}

static uint64_t
rollback_to(struct fixture *f, uint64_t start_ts, uint32_t seq)
{
    struct store_batch *b = store_batch_create();
    uint64_t n = 99;
    assert_int_equal(mvcc_rollback_to(f->st, f->cf, b, start_ts, seq, &n), 0);
    write_batch(f, b);
    return n;
}

/* ROLLBACK TO SAVEPOINT: the writes of statements after the savepoint go
 * (a key first written after it is unlocked, one written before gets
 * back that write, through as many savepoints as lie between), the
 * transaction's record keeps its lock, and what stays commits. */
static void
test_rollback_to_savepoint(void **state)
{
    struct fixture *f = *state;
    struct mvcc_read own = {.read_ts = 100, .own_ts = 50, .fill_cache = true};
    struct mvcc_read after = mvcc_read_at(200);
    char got[256], rec[MVCC_RECORD_KEY_LEN] = {(char)MVCC_RECORD_PREFIX};
    uint64_t n;

    assert_int_equal(put1(f, "a", "a0", 10), MVCC_OK);
    assert_int_equal(put1(f, "b", "b0", 10), MVCC_OK);
    /* The record, locked by the first write (statement 1). */
    struct store_batch *b = store_batch_create();
    struct mvcc_lock lk = lock_of(50, MVCC_LOCK, "r");
    lk.seq = 1;
    assert_int_equal(mvcc_prewrite(f->st, f->cf, b, rec, sizeof rec, &lk, NULL,
                                   0, NULL, NULL),
                     MVCC_OK);
    write_batch(f, b);
    assert_int_equal(prewrite_seq(f, "a", "a1", 50, 1, 0), MVCC_OK);
    /* SAVEPOINT s1 after statement 1; statement 2 writes a, b, c. */
    assert_int_equal(prewrite_seq(f, "a", "a2", 50, 2, 1), MVCC_OK);
    assert_int_equal(prewrite_seq(f, "b", NULL, 50, 2, 1), MVCC_OK);
    assert_int_equal(prewrite_seq(f, "c", "c2", 50, 2, 1), MVCC_OK);
    /* SAVEPOINT s2 after statement 2; statement 3 writes a again. */
    assert_int_equal(prewrite_seq(f, "a", "a3", 50, 3, 2), MVCC_OK);
    assert_int_equal(prewrite_seq(f, "a", "a3b", 50, 3, 2), MVCC_OK);
    scan_view(f, &own, "", NULL, got, sizeof got);
    assert_string_equal(got, "a=a3b c=c2 ");
    /* ROLLBACK TO s2: a is back to statement 2's write. */
    assert_int_equal(rollback_to(f, 50, 2), 0);
    scan_view(f, &own, "", NULL, got, sizeof got);
    assert_string_equal(got, "a=a2 c=c2 ");
    assert_int_equal(rollback_to(f, 50, 2), 0); /* again: no change */
    scan_view(f, &own, "", NULL, got, sizeof got);
    assert_string_equal(got, "a=a2 c=c2 ");
    /* ROLLBACK TO s1: b and c unlocked (b's delete undone), a back to
     * a1. */
    assert_int_equal(rollback_to(f, 50, 1), 2);
    scan_view(f, &own, "", NULL, got, sizeof got);
    assert_string_equal(got, "a=a1 b=b0 ");
    assert_int_equal(mvcc_count_locks(f->st, f->cf, &n), 0);
    assert_int_equal(n, 2); /* the record, a */
    /* c can be written again by the same transaction. */
    assert_int_equal(prewrite_seq(f, "c", "c4", 50, 4, 1), MVCC_OK);
    /* Back to before every write: only the record stays locked. */
    assert_int_equal(rollback_to(f, 50, 0), 2);
    assert_int_equal(mvcc_count_locks(f->st, f->cf, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(prewrite_seq(f, "a", "a5", 50, 5, 0), MVCC_OK);
    assert_int_equal(end_txn(f, 50, 60), 2);
    scan_view(f, &after, "", NULL, got, sizeof got);
    assert_string_equal(got, "a=a5 b=b0 ");
}

/* DELETE_RANGE removes every record of the keys in range, and the row
 * count and lock count see what is there. */
static void
test_delete_range_and_counts(void **state)
{
    struct fixture *f = *state;
    struct store_batch *b;
    uint64_t n;

    assert_int_equal(put1(f, "a", "1", 10), MVCC_OK);
    assert_int_equal(put1(f, "b", "1", 10), MVCC_OK);
    assert_int_equal(put1(f, "b", "2", 20), MVCC_OK);
    assert_int_equal(put1(f, "c", NULL, 20), MVCC_OK);
    assert_int_equal(prewrite(f, "c", "3", 30), MVCC_OK);
    assert_int_equal(mvcc_count_rows(f->st, f->cf, UINT64_MAX, 0, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(mvcc_count_locks(f->st, f->cf, &n), 0);
    assert_int_equal(n, 1);
    b = store_batch_create();
    assert_int_equal(mvcc_delete_range(b, f->cf, "b", 1, "d", 1), 0);
    write_batch(f, b);
    assert_int_equal(mvcc_count_rows(f->st, f->cf, UINT64_MAX, 0, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(mvcc_count_locks(f->st, f->cf, &n), 0);
    assert_int_equal(n, 0);
    {
        struct mvcc_read r = mvcc_read_at(60);
        char got[64];
        scan_view(f, &r, "", NULL, got, sizeof got);
        assert_string_equal(got, "a=1 ");
    }
}

/* A transaction's record tells its fate: pending while locked, committed
 * with its timestamp, rolled back, or no trace. */
static void
test_txn_status(void **state)
{
    struct fixture *f = *state;
    uint64_t c;

    assert_int_equal(mvcc_txn_status(f->st, f->cf, "r", 1, 10, &c),
                     MVCC_NO_LOCK);
    assert_int_equal(prewrite(f, "r", "x", 10), MVCC_OK);
    assert_int_equal(mvcc_txn_status(f->st, f->cf, "r", 1, 10, &c),
                     MVCC_LOCKED);
    assert_int_equal(commit(f, "r", 10, 15), MVCC_OK);
    assert_int_equal(mvcc_txn_status(f->st, f->cf, "r", 1, 10, &c), MVCC_OK);
    assert_int_equal(c, 15);
    assert_int_equal(prewrite(f, "r", "y", 20), MVCC_OK);
    assert_int_equal(rollback(f, "r", 20), MVCC_OK);
    assert_int_equal(mvcc_txn_status(f->st, f->cf, "r", 1, 20, &c),
                     MVCC_ROLLED_BACK);
    assert_int_equal(mvcc_txn_status(f->st, f->cf, "r", 1, 10, &c), MVCC_OK);
    /* A rollback marks a record never prewritten: its late prewrite is
     * refused. */
    assert_int_equal(rollback(f, "q", 30), MVCC_OK);
    assert_int_equal(mvcc_txn_status(f->st, f->cf, "q", 1, 30, &c),
                     MVCC_ROLLED_BACK);
    assert_int_equal(prewrite(f, "q", "z", 30), MVCC_ROLLED_BACK);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_visibility_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locks_block_reads_at_or_above,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gc_keeps_visible, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gc_generated_batch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gc_compaction_filter, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_views, setup, teardown),
        cmocka_unit_test_setup_teardown(test_row_locks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_bounds_are_user_keys, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_delete_range_and_counts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_txn_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_to_savepoint, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_end_txn_ends_its_own_locks, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
