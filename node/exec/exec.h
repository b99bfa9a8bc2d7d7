/* exec — runs plan fragments against a shard's column family.
 *
 * Scans read RocksDB directly on the calling (worker) thread: RocksDB is
 * thread-safe and a scan never touches raft or loop state. Modifications
 * scan, build one conditional WriteBatch, and hand it to a caller-supplied
 * propose function (which goes through raft); optimistic conditions make
 * a concurrent writer visible as a failed EQUALS, and the fragment is then
 * re-run from a fresh scan.
 *
 * Everything a result points to lives in the caller's arena. */
#ifndef NODE_EXEC_H
#define NODE_EXEC_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "arena.h"
#include "node/store/fsm_result.h"
#include "node/store/mvcc.h"
#include "node/store/store.h"
#include "talus.pb-c.h"
#include "tl_error.h"

#define EXEC_PAGE_ROWS 1000
#define EXEC_PAGE_BYTES (4u << 20)
#define EXEC_MODIFY_RETRIES 20
#define EXEC_CHECK_ROWS 64

struct exec_scan_result {
    ProtobufCBinaryData *rows; /* in the arena */
    size_t n_rows;
    bool has_count;
    uint64_t count;
    bool has_resume;
    ProtobufCBinaryData resume_key; /* in the arena */
};

/* How long a scan may run, from the request's timeout_ms (talus.proto).
 * Times are CLOCK_MONOTONIC milliseconds (exec_now_ms), 0: none. */
struct exec_limits {
    int64_t deadline_ms;   /* nobody waits after this: give up (57014) */
    int64_t page_until_ms; /* a plain scan ends its page here (resume) */
    int64_t answer_by_ms;  /* a write still pending then is answered "in
                              progress", before the router gives up */
    unsigned row_delay_us; /* tests only: sleep per row visited */
};

/** Milliseconds on the monotonic clock. Cannot fail. */
int64_t exec_now_ms(void);

/** Propose @wb to the shard's raft group and wait for it to be applied:
 * 0 with *@res filled, or a TL_E* code with @err filled (timeout, not
 * leader, shutting down). */
typedef int (*exec_propose_fn)(void *ctx, const Talus__WriteBatch *wb,
                               struct fsm_result *res, struct tl_error *err);

/** Fill @err with XX000 "storage error during @what" and RocksDB's
 * message @msg (borrowed). Returns TL_EIO. */
int exec_storage_error(struct tl_error *err, const char *what, const char *msg);

/** Fill @err for a read that met the lock @lk of a transaction it must
 * not read past: TL_ELOCKED, 55P03. Returns TL_ELOCKED. */
int exec_locked_error(struct tl_error *err, const struct mvcc_lock *lk);

/** Note in @err which transaction holds lock @lk (err->lock_ts, the
 * shard of its record in err->lock_shard). Cannot fail. */
void exec_note_lock(struct tl_error *err, const struct mvcc_lock *lk);

/** Note in @err the transaction whose lock holds @key, if any. Returns
 * TL_ELOCKED. */
int exec_note_lock_of(struct store *st, struct store_cf *cf, const void *key,
                      size_t key_len, struct tl_error *err);

/** Run scan fragment @sf over @cf through view @view (see talus.proto
 * ScanFragment: ranges in order, resume_key, filter, projection, limit,
 * order/top-N, count_only, paging by page_size rows or EXEC_PAGE_BYTES).
 * Results go to *@out, in
 * @a. @lim (NULL: none) bounds its time: a scan still running at
 * lim->page_until_ms ends its page after the row it is at, with a
 * resume_key, even if it found no row (a top-N scan then answers the
 * top-N of the rows it visited); any scan still running at
 * lim->deadline_ms gives up with TL_ETIMEOUT (57014). Rows are counted
 * and the clock read every EXEC_CHECK_ROWS rows visited. On error returns
 * a TL_E* code with @err filled (table or expression errors carry their
 * SQLSTATE; storage errors are XX000). */
int exec_scan(struct store *st, struct store_cf *cf,
              const struct mvcc_read *view, const Talus__ScanFragment *sf,
              const struct exec_limits *lim, struct tl_arena *a,
              struct exec_scan_result *out, struct tl_error *err);

/** Run modify fragment @mf over @cf (its scan through @view; with @txn,
 * borrowed, its batch prewrites for that transaction): UPDATE
 * (assignments) or DELETE of the rows its scan selects, as one atomic
 * conditional WriteBatch proposed through @propose(@ctx, ...). Re-scans and
 * retries when a concurrent writer changed a row, up to EXEC_MODIFY_RETRIES
 * times (then 40001).
 * *@count gets the rows affected. The batch carries @request_id (0:
 * none), so it applies at most once however often the modify is resent;
 * a resend (mf->retry) of one already applied answers the first count.
 * @read_index (0: unknown) is the shard's applied index read before the
 * scan starts: the batch carries it (WriteBatch.read_index).
 * Errors: 23505 (new primary key exists), 23502, cast and expression
 * errors, whatever @propose reports. On TL_ELOCKED *@locked_key (if not
 * NULL) is the key of the row whose lock stopped it (in the arena). */
int exec_modify(struct store *st, struct store_cf *cf,
                const struct mvcc_read *view, const Talus__TxnInfo *txn,
                const Talus__ModifyFragment *mf, uint64_t request_id,
                uint64_t read_index, exec_propose_fn propose, void *ctx,
                struct tl_arena *a, uint64_t *count,
                ProtobufCBinaryData *locked_key, struct tl_error *err);

/** Run a row-locking modify fragment @mf (mf->lock_strength set: SELECT
 * ... FOR UPDATE/SHARE, see talus.proto) over @cf: the rows its scan
 * selects through @view, ordered and limited as the scan fragment says,
 * go to *@out (projected, in the arena). With @txn (borrowed) each is
 * locked by a prewrite of kind LOCK, all in one entry proposed through
 * @propose(@ctx, ...); without, nothing is written. A row another
 * transaction locks: TL_ELOCKED (55P03, err->lock_ts set: the caller
 * waits and asks again), or with NOWAIT TL_ESQL 55P03 `could not obtain
 * lock on row in relation "t"`, or with SKIP_LOCKED the row is left out.
 * With mf->lock_dry_run nothing is locked (the rows are only selected).
 * A row committed after the snapshot: under READ COMMITTED its newest
 * version is scanned again (and kept if it still passes the filter);
 * else 40001. On TL_ELOCKED *@locked_key (if not NULL) is the key of the
 * row whose lock stopped it (in the arena). */
int exec_lock(struct store *st, struct store_cf *cf,
              const struct mvcc_read *view, const Talus__TxnInfo *txn,
              const Talus__ModifyFragment *mf, uint64_t request_id,
              uint64_t read_index, exec_propose_fn propose, void *ctx,
              struct tl_arena *a, struct exec_scan_result *out,
              ProtobufCBinaryData *locked_key, struct tl_error *err);

/** Fill @err for a batch the shard's catalog fence refused (FSM_STALE:
 * planned before an index build began): TL_ESTALE, 40001. Returns
 * TL_ESTALE. */
int exec_stale_error(struct tl_error *err);

#endif
