/* mvcc — multi-version rows over the store: versions per key with commit
 * timestamps, lock records, reads at a snapshot timestamp, and garbage
 * collection below a safe point (../../../shared/DESIGN.md "Transactions",
 * TiKV's Percolator layout).
 *
 * Inside a shard's column family, for a user key K (the memcomparable row
 * key of common/keycodec.h, self-delimiting, so no key of a table is a
 * proper prefix of another):
 *
 *   'L' K               lock: the transaction writing K now (struct
 *                       mvcc_lock), with the number of the statement
 *                       that wrote and the pending writes it replaced
 *                       that a savepoint may need back
 *   'W' K ~commit_ts    write record: which transaction (its start_ts)
 *                       committed what (PUT, DELETE, LOCK, ROLLBACK) at
 *                       commit_ts; a PUT's value inline when at most
 *                       MVCC_INLINE_MAX bytes
 *   'D' K ~start_ts     the value of a larger PUT, written at prewrite
 *   'T' start_ts K      the index of a transaction's locks: one empty
 *                       entry per lock record, written and deleted with
 *                       it, so mvcc_end_txn() visits that transaction's
 *                       locks only (never the deleted lock records of
 *                       every transaction before it)
 *
 * Timestamps are 8 bytes big-endian, bit-inverted (~ts), so the newest
 * version of a key sorts first under RocksDB's default comparator. The
 * reserved keys of store.h (first byte 0xFF) sort after all three
 * prefixes.
 *
 * Visibility (Percolator): a read at timestamp R sees, for each key, the
 * newest write record with commit_ts <= R whose kind is PUT or DELETE
 * (LOCK and ROLLBACK records are skipped); a PUT gives its value, a DELETE
 * or no record gives nothing. A lock on K whose start_ts <= R means a
 * transaction that may commit below R is in flight: the read cannot
 * decide and answers MVCC_LOCKED with the lock, for the caller to wait or
 * resolve it. A lock with start_ts > R is invisible to the read.
 *
 * Writes (each one call into a store batch, applied atomically with the
 * rest of a Raft entry by the caller):
 *   prewrite  K for transaction start_ts: refused when another lock holds
 *             K (MVCC_LOCKED) or a write committed at or after start_ts
 *             (MVCC_WRITE_CONFLICT: first committer wins); else the lock
 *             and, for a PUT, the value's data record.
 *   commit    K of start_ts at commit_ts: the lock becomes a write
 *             record (a small value moves inline and its data record
 *             goes). Idempotent: committing again finds the record.
 *   rollback  K of start_ts: drops the lock and data, and leaves a
 *             ROLLBACK record at start_ts so a late prewrite of the same
 *             transaction is refused.
 *   put/del   one-phase: the write record (and data) at commit_ts, with
 *             the same conflict check as a prewrite at start_ts.
 *
 * GC: mvcc_gc_key() removes, below a safe point S, every version a read
 * at S or later can no longer see: of the records with commit_ts <= S it
 * keeps only the newest, and that one too when it is a DELETE (or LOCK /
 * ROLLBACK: those are needed only above S). Locks are never collected
 * here (resolving them is the transaction layer's), nor are the records
 * of transactions (user keys of MVCC_RECORD_KEY_LEN bytes starting with
 * MVCC_RECORD_PREFIX: router/txn/coord.h): a lock left below S by a
 * coordinator that died is resolved through its record, which must still
 * say how the transaction ended. (Collecting records needs every lock
 * below S resolved first, as TiKV's GC does: not done yet, so records
 * stay, a few bytes per transaction.)
 *
 * Reads of one key walk its write records newest first from R: the cost
 * is the number of LOCK/ROLLBACK records between R and the visible
 * version, not the length of the key's history.
 *
 * All functions are safe on any thread for distinct batches and
 * iterators, like store.h. */
#ifndef NODE_STORE_MVCC_H
#define NODE_STORE_MVCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/store/store.h"

#define MVCC_INLINE_MAX 255

/* A transaction's record key (router/txn/coord.h): 0xFE, the shard (4
 * bytes), the start timestamp (8). */
#define MVCC_RECORD_PREFIX 0xFE
#define MVCC_RECORD_KEY_LEN 13

/* A read of the newest committed version of every key. It reports no
 * lock: on one shard it orders itself before every commit not yet
 * applied, which is what a single-shard statement outside a transaction
 * needs (a read across shards needs a timestamp from the oracle). */
#define MVCC_TS_LATEST STORE_TS_LATEST

/* Outcomes (>= 0); errors are negative TL_E* codes. */
enum {
    MVCC_OK = 0,
    MVCC_LOCKED = 1,         /* a lock holds the key (read or write) */
    MVCC_WRITE_CONFLICT = 2, /* committed at or after our start_ts */
    MVCC_NO_LOCK = 3,        /* commit: the lock is gone, not committed */
    MVCC_ROLLED_BACK = 4,    /* prewrite/commit of a rolled-back txn */
    MVCC_END = 5,            /* a scan is past its last row */
    MVCC_TS_TOO_LOW = 6,     /* a commit below the record's pushed minimum */
};

enum mvcc_kind {
    MVCC_PUT = 'P',
    MVCC_DELETE = 'D',
    MVCC_LOCK = 'L', /* a row lock (SELECT ... FOR UPDATE) that wrote
                        nothing */
    MVCC_ROLLBACK = 'R',
};

/* A lock record. The primary is the key whose write record decides the
 * transaction's fate (the commit point). */
struct mvcc_lock {
    uint64_t start_ts;
    uint64_t ttl_ms;
    uint64_t owner; /* the coordinating router's incarnation */
    enum mvcc_kind kind;
    const uint8_t *primary; /* borrowed from the decode buffer */
    size_t primary_len;
    /* On the record: the lowest commit timestamp the transaction may
     * still take (raised by readers that read below it: mvcc_push()). */
    uint64_t min_commit_ts;
    /* The statement of the transaction that made the pending write (0:
     * not numbered), and the writes it replaced that a savepoint may
     * need back: entries (seq, kind, value) oldest first, borrowed from
     * the decode buffer (mvcc_rollback_to()). */
    uint32_t seq;
    const uint8_t *history;
    size_t history_len;
    /* A prewrite's input only, never stored: the newest savepoint's
     * statement number (0: none). A write replacing one made at or
     * before it keeps the replaced one in the history. */
    uint32_t savepoint_seq;
};

/* A version as read: what a read at some timestamp sees of a key. */
struct mvcc_version {
    uint64_t commit_ts;
    uint64_t start_ts;
    enum mvcc_kind kind;
};

/* How a read sees a shard (a view):
 * - read_ts: the snapshot timestamp, or MVCC_TS_LATEST;
 * - own_ts: the start_ts of the transaction reading (0: none): its own
 *   pending writes (locks with that start_ts) are visible, a PUT as its
 *   value, a DELETE as no row, a LOCK as the committed version below;
 * - raw: the column family holds unversioned keys (the meta group's):
 *   plain keys and values, no timestamps, no locks;
 * - fill_cache: false for bulk reads that would evict hot data;
 * - ignore: transactions whose pending writes the read skips (pushed
 *   above its timestamp, mvcc_push()). */
struct mvcc_read {
    uint64_t read_ts;
    uint64_t own_ts;
    bool raw;
    bool fill_cache;
    /* Transactions whose locks this read may read below (their commit
     * was pushed above read_ts, or they ended above it): borrowed. */
    const uint64_t *ignore;
    size_t n_ignore;
};

/** A view at @ts of no transaction, filling the cache. Cannot fail. */
struct mvcc_read mvcc_read_at(uint64_t ts);

/** Read @key through view @r: MVCC_OK with *@val (malloc'd, caller frees;
 * NULL: no row) and *@len; MVCC_LOCKED with *@lock (primary in
 * *@lock_buf, malloc'd, caller frees) when another transaction's lock the
 * view must not read past holds the key; TL_EIO, TL_ECORRUPT. */
int mvcc_read_get(struct store *st, struct store_cf *cf,
                  const struct mvcc_read *r, const void *key, size_t key_len,
                  char **val, size_t *len, struct mvcc_lock *lock,
                  uint8_t **lock_buf);

/** Read @key at @read_ts from @cf (no transaction's view). MVCC_OK with *@val
 * (malloc'd, caller frees; NULL when the key has no visible PUT) and *@len, and
 * *@ver (if not NULL) the version seen (kind DELETE and commit_ts 0 when none);
 * MVCC_LOCKED with *@lock filled (@lock->primary malloc'd in
 * *@lock_buf, caller frees) when a lock with start_ts <= @read_ts holds
 * the key (never at MVCC_TS_LATEST); TL_EIO (logged) or TL_ECORRUPT on a
 * malformed record. */
int mvcc_get(struct store *st, struct store_cf *cf, const void *key,
             size_t key_len, uint64_t read_ts, char **val, size_t *len,
             struct mvcc_version *ver, struct mvcc_lock *lock,
             uint8_t **lock_buf);

/** Add to @b the prewrite of @key by the transaction @lk (its start_ts,
 * primary, ttl, owner, kind PUT / DELETE / LOCK) with value @val/@len
 * (PUT only). MVCC_OK once added; MVCC_LOCKED when another transaction
 * locks the key (*@other filled as in mvcc_get() if not NULL);
 * MVCC_WRITE_CONFLICT when a write committed at or after start_ts;
 * MVCC_ROLLED_BACK when this transaction was rolled back. A prewrite
 * that finds its own lock replaces its pending write (the same write
 * again changes nothing: retries are safe).
 * Reads the store; the caller serialises writers of a key (one applier
 * per shard). TL_EIO, TL_ECORRUPT. */
int mvcc_prewrite(struct store *st, struct store_cf *cf, struct store_batch *b,
                  const void *key, size_t key_len, const struct mvcc_lock *lk,
                  const void *val, size_t len, struct mvcc_lock *other,
                  uint8_t **other_buf);

/** As mvcc_prewrite(), for a statement that read at snapshot @seen (>=
 * lk->start_ts - 1): only a version committed after @seen conflicts. A
 * transaction's second write of a key replaces its pending write (a LOCK
 * never replaces a PUT or DELETE). *@fresh (if not NULL) says whether a
 * new lock record was added (the key was not locked by us before). */
int mvcc_prewrite_seen(struct store *st, struct store_cf *cf,
                       struct store_batch *b, const void *key, size_t key_len,
                       const struct mvcc_lock *lk, uint64_t seen,
                       const void *val, size_t len, struct mvcc_lock *other,
                       uint8_t **other_buf, bool *fresh);

/** Add to @b the commit at @commit_ts (> start_ts) of @key's lock of the
 * transaction @start_ts. MVCC_OK when added or already committed;
 * MVCC_NO_LOCK when neither the lock nor a commit record exists (the
 * lock was resolved away); MVCC_ROLLED_BACK when a rollback record of
 * start_ts exists. TL_EIO, TL_ECORRUPT. */
int mvcc_commit(struct store *st, struct store_cf *cf, struct store_batch *b,
                const void *key, size_t key_len, uint64_t start_ts,
                uint64_t commit_ts);

/** Add to @b the rollback of @key for the transaction @start_ts: its lock
 * and data (if present) go, a ROLLBACK record at start_ts stays.
 * MVCC_OK; MVCC_WRITE_CONFLICT when the transaction already committed
 * @key (a rollback must not undo a commit). TL_EIO, TL_ECORRUPT. */
int mvcc_rollback(struct store *st, struct store_cf *cf, struct store_batch *b,
                  const void *key, size_t key_len, uint64_t start_ts);

/** Add to @b a one-phase write of @key (PUT of @val/@len, or DELETE) by a
 * transaction that read at @start_ts and commits at @commit_ts (>=
 * start_ts). MVCC_LOCKED / MVCC_WRITE_CONFLICT as mvcc_prewrite(). */
int mvcc_write_1pc(struct store *st, struct store_cf *cf, struct store_batch *b,
                   const void *key, size_t key_len, enum mvcc_kind kind,
                   const void *val, size_t len, uint64_t start_ts,
                   uint64_t commit_ts);

/** Add to @b a version of @key (PUT of @val/@len, or DELETE) committed at
 * @commit_ts by a writer that checked its own conditions against the
 * newest committed state (a statement outside any transaction, applied
 * in log order): no write-conflict check. With @check_lock, MVCC_LOCKED
 * when a transaction locks the key (a caller that knows the column family
 * holds no lock skips the read); TL_EIO, TL_ECORRUPT. */
int mvcc_write_at(struct store *st, struct store_cf *cf, struct store_batch *b,
                  const void *key, size_t key_len, enum mvcc_kind kind,
                  const void *val, size_t len, uint64_t commit_ts,
                  bool check_lock);

/** Add to @b the deletion of every version of @key a read at
 * @safe_point or later cannot see (see above); *@n_removed (if not NULL)
 * counts the write records removed. TL_EIO, TL_ECORRUPT. */
int mvcc_gc_key(struct store *st, struct store_cf *cf, struct store_batch *b,
                const void *key, size_t key_len, uint64_t safe_point,
                uint64_t *n_removed);

/** Install the GC compaction filter on every shard column family of @st:
 * once a column family has a safe point (store_cf_set_gc_floor(), raised
 * by the node as the meta group's GC safe point moves), each compaction
 * drops what mvcc_gc_key() would (a DELETE at the safe point only when
 * the compaction reads every file), and the data records of the PUTs it
 * drops after the compaction (store_flush_deferred()). A read at a
 * timestamp below the column family's safe point must be refused by the
 * caller: the versions it would see may be gone. Cannot fail. */
void mvcc_gc_install(struct store *st);

/* ---- scans */

struct mvcc_scan;

/* A row a scan yields (borrowed from the scan until its next call). */
struct mvcc_row {
    const char *key; /* the user key */
    size_t key_len;
    const char *val; /* MVCC_OK only */
    size_t val_len;
    struct mvcc_version ver;
    struct mvcc_lock lock; /* MVCC_LOCKED only */
};

/** A scan of the user keys in [@start, @end) (@end NULL: every user key)
 * through view @r (copied) over @cf; both bounds copied. The scan reads
 * one RocksDB snapshot taken here. Caller frees with mvcc_scan_destroy().
 * Aborts if out of memory. */
struct mvcc_scan *mvcc_scan_create(struct store *st, struct store_cf *cf,
                                   const void *start, size_t start_len,
                                   const void *end, size_t end_len,
                                   const struct mvcc_read *r);
/** Free @s. NULL is a no-op. */
void mvcc_scan_destroy(struct mvcc_scan *s);
/** The next visible row in key order: MVCC_OK with *@row; MVCC_END past
 * the last; MVCC_LOCKED when the next key in range is locked by a
 * transaction with start_ts <= read_ts (row->key and row->lock say which;
 * a scan reads the store as it was when it was created, so once the lock
 * is resolved the caller continues with a new scan from row->key);
 * TL_EIO or TL_ECORRUPT. */
int mvcc_scan_next(struct mvcc_scan *s, struct mvcc_row *row);

/** Add to @b the removal of every record (locks, versions, data) of the
 * user keys in [@start, @end) (@end NULL or empty: to the last user key):
 * DROP TABLE and TRUNCATE, which keep no history. Cannot fail (0). */
int mvcc_delete_range(struct store_batch *b, struct store_cf *cf,
                      const void *start, size_t start_len, const void *end,
                      size_t end_len);

/** Count the rows of @cf visible at MVCC_TS_LATEST into *@out, reading at
 * most @max and stopping at @deadline_ns (CLOCK_MONOTONIC ns, 0: none)
 * with TL_ETIMEOUT (a store_count_fn). TL_EIO, TL_ECORRUPT. */
int mvcc_count_rows(struct store *st, struct store_cf *cf, uint64_t max,
                    uint64_t deadline_ns, uint64_t *out);

/** Add to @b the end of transaction @start_ts on this column family:
 * every lock it holds committed at @commit_ts (> start_ts), or rolled
 * back when @commit_ts is 0; *@n_ended counts them. Reads the
 * transaction's index ('T'), and only when that names no lock every
 * lock record (locks written before the index). At most @max indexed
 * locks end (0: all of them): *@n_ended == @max says more may remain.
 * TL_EIO, TL_ECORRUPT. */
int mvcc_end_txn(struct store *st, struct store_cf *cf, struct store_batch *b,
                 uint64_t start_ts, uint64_t commit_ts, uint64_t max,
                 uint64_t *n_ended);

/** Add to @b the undo, on this column family, of every pending write of
 * transaction @start_ts made after statement @seq (ROLLBACK TO
 * SAVEPOINT): a key it wrote before gets back the write its lock's
 * history kept; one it did not write before is unlocked (its lock,
 * data and index entry go, and no rollback record stays, so the
 * transaction may write it again). The transaction's record keeps its
 * lock. *@n_removed counts the locks removed. TL_EIO, TL_ECORRUPT. */
int mvcc_rollback_to(struct store *st, struct store_cf *cf,
                     struct store_batch *b, uint64_t start_ts, uint32_t seq,
                     uint64_t *n_removed);

/** The fate of transaction @start_ts as @key (its record) tells it:
 * MVCC_LOCKED pending (its lock is there), MVCC_OK committed (at
 * *@commit_ts), MVCC_ROLLED_BACK, or MVCC_NO_LOCK (no trace: never
 * prewritten, or collected). TL_EIO, TL_ECORRUPT. */
int mvcc_txn_status(struct store *st, struct store_cf *cf, const void *key,
                    size_t key_len, uint64_t start_ts, uint64_t *commit_ts);

/** Add to @b the commit of transaction @start_ts's record @key at
 * @commit_ts: its lock committed, or, when it was never locked, a commit
 * record written; MVCC_OK (also when it committed before);
 * MVCC_ROLLED_BACK when a resolver rolled it back first (the
 * transaction must not commit anywhere); MVCC_TS_TOO_LOW with
 * *@min_commit when a reader pushed the record above @commit_ts (commit
 * again with a later timestamp). TL_EIO, TL_ECORRUPT. */
int mvcc_commit_record(struct store *st, struct store_cf *cf,
                       struct store_batch *b, const void *key, size_t key_len,
                       uint64_t start_ts, uint64_t commit_ts,
                       uint64_t *min_commit);

/** A reader at @push_ts meets a pending write of transaction @start_ts
 * and reads below it: add to @b the raise of its record @key's minimum
 * commit timestamp above @push_ts, so it can only commit where that
 * reader was right not to see it. MVCC_LOCKED when the record is still
 * locked (pushed), MVCC_OK when it is not (ended: ask its status).
 * TL_EIO, TL_ECORRUPT. */
int mvcc_push(struct store *st, struct store_cf *cf, struct store_batch *b,
              const void *key, size_t key_len, uint64_t start_ts,
              uint64_t push_ts);

/** The lock on @key, if any: 1 with *@lk (primary in *@buf, malloc'd,
 * caller frees), 0 when unlocked (*@buf NULL); TL_EIO, TL_ECORRUPT. */
int mvcc_read_lock(struct store *st, struct store_cf *cf, const void *key,
                   size_t key_len, struct mvcc_lock *lk, uint8_t **buf);

/* ---- readers: many point reads of the newest committed state through
 * one iterator (the conditions of a write batch). One thread at a time. */

struct mvcc_reader;

/** A reader of @cf (borrowed). Caller frees with mvcc_reader_destroy().
 * Aborts if out of memory. */
struct mvcc_reader *mvcc_reader_create(struct store *st, struct store_cf *cf);
/** Free @r. NULL is a no-op. */
void mvcc_reader_destroy(struct mvcc_reader *r);
/** The newest committed value of @key: MVCC_OK with *@val (malloc'd,
 * caller frees; NULL: no row), locks ignored. TL_EIO, TL_ECORRUPT. */
int mvcc_reader_latest(struct mvcc_reader *r, const void *key, size_t key_len,
                       char **val, size_t *len);

/** The number of lock records in @cf into *@out. TL_EIO. */
int mvcc_count_locks(struct store *st, struct store_cf *cf, uint64_t *out);

/* ---- key encoding (exposed for tests and tools) */

/** Append 'W' @key ~@ts (or 'D' with @prefix 'D'; 'L' without a ts when
 * @ts is 0 and @prefix is 'L') to @out (size at least key_len + 9).
 * The length written. Cannot fail. */
size_t mvcc_encode_key(char prefix, const void *key, size_t key_len,
                       uint64_t ts, char *out);

#endif
