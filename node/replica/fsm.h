/* fsm — the raft state machine of one shard, stored in its column family.
 *
 * A log entry's payload is a packed talus.WriteBatch, framed (see
 * fsm_entry_encode) and padded to a multiple of 8 bytes for raft's
 * segment format. Applying it checks
 * every mutation's condition against the column family first (ABSENT: the
 * key must not exist; EQUALS: its value must equal `expect`); if one fails
 * nothing but the new applied index is written, else every mutation and
 * the applied index go into ONE RocksDB write batch. Raft re-applies every
 * entry after its last snapshot on restart, so entries at or below the
 * stored applied index are skipped: applying is idempotent per index.
 *
 * Deduplication: a batch with a non-zero request_id is applied at most
 * once. The FSM keeps request_id -> (index, result) for the entries of the
 * last FSM_DEDUPE_WINDOW log indexes that were applied (a batch whose
 * condition failed changed nothing and is not remembered: proposing it
 * again re-evaluates it, which is how a modify re-scans after a concurrent
 * change and how a retry takes effect once), in memory (a hash table plus a
 * FIFO in index order) and in the shard's column family under
 * STORE_DEDUPE_PREFIX, written in the same RocksDB batch as the data and
 * pruned in the same batches; a duplicate returns the stored result and
 * writes nothing but the applied index. The table is rebuilt from RocksDB
 * by fsm_init(). Routers retry with the same id, so a write whose outcome
 * was unknown (leadership lost) is never applied twice.
 *
 * Snapshots are a 32-byte descriptor (magic, shard, applied index, source
 * node), never the data: the data already sits in RocksDB, and the WAL is
 * synced before raft truncates its log. A replica whose data is older than
 * a descriptor it receives restores out of band (below).
 *
 * With an applier attached (applier.h), apply() only queues the entry and
 * the applier thread runs fsm_apply_entry(); snapshot() answers RAFT_BUSY
 * (raft tries again after a later entry) until the queue is empty, and a
 * restore starts or finishes only once it is.
 *
 * fsm_apply_entry() and fsm_apply_batch() run on the loop or, with an
 * applier, on its thread; fsm_applied() and fsm_restore_write_page() on
 * any thread; the rest on the loop thread (or a test). */
#ifndef NODE_FSM_H
#define NODE_FSM_H

#include <raft.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "node/store/fsm_result.h"
#include "node/store/store.h"
#include "talus.pb-c.h"

#define FSM_SNAPSHOT_LEN 32
#define FSM_SNAPSHOT_LEN_V1 24 /* without the source node: still read */
#define FSM_DEDUPE_WINDOW 100000
#define FSM_AFFECTED_MAX ((UINT64_C(1) << 28) - 1) /* fits fsm_result_pack */

/* The dedupe table (see above). Invariant: every id in the hash table is
 * in the FIFO exactly once, FIFO indexes ascend. */
struct fsm_dedupe_entry {
    uint64_t request_id; /* 0: empty slot */
    uint64_t index;
    uint64_t result; /* fsm_result_pack() */
};

struct fsm_dedupe {
    struct fsm_dedupe_entry *slots; /* open addressing, linear probing */
    size_t cap, n;                  /* cap: power of two, or 0 */
    uint64_t *fifo;                 /* request ids, ring buffer */
    uint64_t *fifo_index;           /* their indexes */
    size_t fifo_cap, fifo_head, fifo_n;
};

struct applier;
struct applier_waiter;
struct fsm_queued;
struct fsm_done_slot;

struct tl_metric_series; /* common/admin/metrics.h */

struct node_fsm {
    struct raft_fsm raft_fsm; /* handed to raft_init(); data == this */
    struct store *st;         /* borrowed */
    struct store_cf *cf;      /* borrowed */
    uint32_t shard;
    struct raft *raft;        /* borrowed; set before raft_start() */
    _Atomic uint64_t applied; /* last applied index, as stored */
    /* Histogram of the time an entry's apply takes (common/admin), or
     * NULL: set on the loop after fsm_init(), before raft starts, and
     * read by the applier thread after (the applier's queue orders it). */
    struct tl_metric_series *apply_seconds;
    /* The last index whose batch changed the shard's rows (at most
     * `applied`; at start, and after a restore, `applied` itself). Read
     * and written by whoever applies (the applier, or the loop while the
     * applier is drained). */
    uint64_t last_write;
    /* Versioned (every data shard; not the meta group, whose keys are
     * plain): batches write MVCC versions (node/store/mvcc.h), each
     * committing at max(WriteBatch.commit_ts, last_commit_ts + 1), so
     * commit timestamps grow with the log on every replica alike.
     * last_commit_ts is stored with the applied index (STORE_APPLIED_KEY);
     * guarded like last_write. */
    bool versioned;
    /* The commit floor: also raised by TxnEnd commits and
     * FSM_ENTRY_READ_TS entries. Written by whoever applies; read by
     * workers too (a snapshot read it covers needs no entry of its own). */
    _Atomic uint64_t last_commit_ts;
    /* Lock records in the column family (counted at start and after a
     * restore, then kept by apply): while none, a one-phase write skips
     * reading its key's lock. Guarded like last_write. */
    uint64_t n_locks;
    /* The restore source's last commit timestamp, from its applied key
     * in a fetched page (the fetcher thread only). */
    uint64_t restore_last_commit;
    uint32_t node_id;           /* this node: source of our snapshots */
    _Atomic uint32_t preferred; /* operator's preferred leader, 0: none */
    /* The catalog fence: the newest map version an index build raised
     * it to (IndexBuildRequest.map_version; stored, STORE_FENCE_KEY). A
     * batch planned with an older catalog (WriteBatch.map_version) is
     * refused, FSM_STALE: from the build on, every write maintains the
     * index. Guarded like last_write. */
    uint64_t fence;
    struct fsm_dedupe dedupe;
    /* Out-of-band restore (see fsm_restore_*): while restoring, applied
     * entries are spilled to the node's metadata column family instead of
     * touching the shard's. */
    _Atomic bool restoring;
    _Atomic uint64_t restore_index;  /* raft snapshot index being restored */
    _Atomic uint32_t restore_source; /* node that sent the snapshot */
    uint64_t spill_last;             /* highest spilled index */
    void (*restore_cb)(struct node_fsm *f); /* a restore was recorded */
    void *restore_data;
    /* Optional: called on the loop after batch @b was applied (its
     * conditions held and it is committed to RocksDB); borrows @b. */
    void (*applied_cb)(struct node_fsm *f, const Talus__WriteBatch *b);
    void *applied_data;
    /* Log retention by bytes (loop only): raft counts a snapshot's
     * threshold and trailing entries in entries, so large entries would
     * stay in raft's in-memory log for thousands of entries. With
     * retain_bytes set, fsm_log_check() asks for a snapshot once the
     * entries since the last one reach retain_bytes, and a snapshot keeps
     * about retain_bytes of trailing entries (at least 16, at most
     * trailing). 0: entries only. */
    uint64_t retain_bytes;
    unsigned threshold, trailing; /* the group's settings in entries */
    uint64_t log_bytes;           /* entry bytes applied since a snapshot */
    uint64_t log_entries;         /* entries applied since a snapshot */
    bool threshold_lowered;       /* raft's threshold set to log_entries */
    /* Applying off the loop (applier.h): NULL applies inside apply().
     * Everything below is guarded by applier->mu. */
    struct applier *applier;
    struct fsm_queued *q_head, *q_tail; /* committed, not yet applied */
    size_t q_bytes;                     /* payload bytes queued */
    uint64_t q_last;                    /* highest index queued */
    bool q_busy;                        /* the applier is applying ... */
    uint64_t q_busy_index;              /* ... this entry */
    uint64_t q_done;                    /* highest index applied */
    bool q_ready;                       /* on the applier's ready list */
    struct node_fsm *q_next_ready;
    struct applier_waiter *q_waiters; /* proposals waiting for an index */
    struct fsm_done_slot *q_ring;     /* recent results by index */
};

/** Initialise @f for @shard over @st: reads the stored applied index,
 * the dedupe table and a pending restore. TL_ENOTFOUND if the shard has
 * no column family, TL_EIO/TL_ECORRUPT if the state cannot be read.
 * Release with fsm_close(). */
int fsm_init(struct node_fsm *f, struct store *st, uint32_t shard);

/** Free the memory of @f (not its data). Safe after a failed init. */
void fsm_close(struct node_fsm *f);

/** The stored result of request @request_id if it is in the dedupe
 * window: true and *@res, *@index filled. Loop thread only. */
bool fsm_dedupe_lookup(struct node_fsm *f, uint64_t request_id,
                       struct fsm_result *res, uint64_t *index);

/* A log entry payload: "TL", its kind (one byte), '1', the body length
 * (4 bytes BE), the body, zero padding to a multiple of 8. Apply
 * dispatches on the kind. Kinds are stored in raft logs: never renumber
 * one, never reuse a retired one. */
enum fsm_entry_kind {
    FSM_ENTRY_WRITE = 'W',       /* a packed talus.WriteBatch (data, control) */
    FSM_ENTRY_PREWRITE = 'P',    /* a packed talus.WriteBatch with txn set */
    FSM_ENTRY_TXN_END = 'E',     /* a packed talus.TxnEndRequest */
    FSM_ENTRY_READ_TS = 'T',     /* 8 bytes: a snapshot read's timestamp */
    FSM_ENTRY_PUSH = 'U',        /* a packed talus.TxnStatusRequest: push */
    FSM_ENTRY_INDEX_BUILD = 'I', /* a packed talus.IndexBuildRequest */
};
#define FSM_ENTRY_HEADER 8

/** Encode a payload of @kind with body @body/@len into @out (raft_malloc'd:
 * pass it to raft_apply(), or free with raft_free()). Aborts if out of
 * memory. */
void fsm_entry_encode_raw(enum fsm_entry_kind kind, const void *body,
                          size_t len, struct raft_buffer *out);

/** Encode @wb as a FSM_ENTRY_WRITE payload (FSM_ENTRY_PREWRITE when it
 * carries a transaction) into @out (as fsm_entry_encode_raw()). */
void fsm_entry_encode(const Talus__WriteBatch *wb, struct raft_buffer *out);

/** The kind of payload @data/@len and its body (*@body, *@body_len,
 * borrowed from @data): 0, or TL_EPROTO when it is not a framed payload
 * (too short, bad magic, body past the end). The kind is returned as
 * found, known or not. */
int fsm_entry_decode(const void *data, size_t len, enum fsm_entry_kind *kind,
                     const void **body, size_t *body_len);

/** Apply the entry payload @data/@len (fsm_entry_encode) as log entry
 * @index, by its kind. Entries at or below the applied index are skipped
 * (outcome FSM_OK). FSM_ENTRY_WRITE: a batch whose request id was already
 * applied within the window is not applied again: *@res is the first
 * application's result (with its `affected`). A payload that does not
 * decode, or of a kind this node does not know, writes nothing but the
 * applied index (FSM_BAD_BATCH, logged): a bad entry must not wedge the
 * shard. *@res says what happened. TL_EIO if RocksDB refused the write
 * (nothing applied). */
int fsm_apply_batch(struct node_fsm *f, uint64_t index, const void *data,
                    size_t len, struct fsm_result *res);

/** Pack @r into the opaque pointer raft hands to the apply callback (no
 * allocation, so entries applied on followers, whose result raft drops,
 * leak nothing). */
void *fsm_result_pack(const struct fsm_result *r);
/** Inverse of fsm_result_pack(). */
void fsm_result_unpack(void *p, struct fsm_result *r);

/* ---- out-of-band snapshot restore ----
 *
 * restore(descriptor) on a replica whose data is older than the
 * descriptor's index X cannot copy the data inside the callback (it runs
 * on the loop shared by every group). It records "restoring shard to >= X
 * from node N" in the node metadata (synced), sets f->restoring, calls
 * f->restore_cb and returns. From then on apply() spills each entry
 * payload to the metadata column family under "spill/<shard>/<index BE>"
 * instead of touching the shard's column family. A background fetcher
 * copies the shard from a replica whose applied index Y >= X (pages
 * written with fsm_restore_write_page(), the last one setting applied to
 * Y), then the loop calls fsm_restore_finish(): replay spilled entries
 * above Y in order, delete the spill and the record. A crash at any point
 * restarts the copy from scratch (the record survives). */

/** What raft's apply() does with entry @index: spill it while restoring,
 * else fsm_apply_batch(). TL_EIO. */
int fsm_apply_entry(struct node_fsm *f, uint64_t index, const void *data,
                    size_t len, struct fsm_result *res);

/** What raft's restore() does with descriptor @data/@len: nothing if our
 * data covers it, else record a restore (see above). TL_ECORRUPT for a
 * bad descriptor, TL_EIO. */
int fsm_restore_descriptor(struct node_fsm *f, const void *data, size_t len);

/** Read a pending restore record of @f (called by fsm_init). */
int fsm_restore_load(struct node_fsm *f);

/** Write one fetched page (every key as the source holds it, but its
 * applied key, whose commit timestamp is kept): with @first, clear the
 * column family first; with @last, also store applied index @applied
 * (atomically with the page). Any thread (RocksDB is thread-safe; apply() does
 * not touch the column family while restoring). TL_EIO. */
int fsm_restore_write_page(struct node_fsm *f, bool first, bool last,
                           uint64_t applied, const ProtobufCBinaryData *keys,
                           const ProtobufCBinaryData *values, size_t n);

/** On the loop, after the last page: reload the dedupe table, replay the
 * spilled entries above the fetched index, drop the spill and the record,
 * clear f->restoring. TL_EIO (still restoring: retry the fetch). */
int fsm_restore_finish(struct node_fsm *f);

/** Fill @f->raft_fsm for raft_init() and remember @r, whose last applied
 * index tells apply() the entry's index. snapshot() syncs the RocksDB WAL
 * (on the loop) before answering the descriptor. Cannot fail. */
void fsm_setup_raft(struct node_fsm *f, struct raft *r);

/** Set the byte-based log retention of @f (see struct node_fsm): raft's
 * @threshold and @trailing in entries, and @retain_bytes. Before
 * raft_start(). Cannot fail. */
void fsm_set_retention(struct node_fsm *f, unsigned threshold,
                       unsigned trailing, uint64_t retain_bytes);

/** On the loop, outside raft callbacks (the node's poll): once the entries
 * applied since the last snapshot reach retain_bytes, lower raft's
 * snapshot threshold so the next check takes one. Cannot fail. */
void fsm_log_check(struct node_fsm *f);

/** The applied index; callable from any thread. */
uint64_t fsm_applied(struct node_fsm *f);

/** Fill @out with the snapshot descriptor of the current state (source:
 * f->node_id). */
void fsm_snapshot_encode(struct node_fsm *f, uint8_t out[FSM_SNAPSHOT_LEN]);

/** Check descriptor @p/@len against the stored state: 0 if our data
 * already covers it, TL_ECORRUPT if malformed or for another shard,
 * TL_EUNAVAILABLE if our applied index is below it (logged). */
int fsm_snapshot_check(struct node_fsm *f, const void *p, size_t len);

#endif
