/* store — the node's one RocksDB instance: the only code of Talus that
 * includes <rocksdb/c.h>.
 *
 * Layout: <dir>/db holds column families "default" and "shard-<s>" for
 * every shard this node hosts (column families of shards it no longer
 * hosts are opened too, since RocksDB insists, but are left alone). Inside
 * a shard's column family, table rows live under their memcomparable keys
 * (common/keycodec.h) and reserved keys (STORE_APPLIED_KEY and the others
 * below, first eight bytes 0xFF) hold the shard's replication state; they
 * sort after every table key, so table scans and key counts stop before
 * them. The "default" column family holds node metadata (hosted set,
 * restore records, the spill of a restoring replica).
 *
 * Everything else reaches RocksDB through the handles of this header:
 * column families (struct store_cf), write batches applied atomically
 * (struct store_batch), point reads, iterators (struct store_iter) and
 * consistent snapshots (struct store_snap). Reads name a read timestamp
 * (struct store_read.ts): the seam through which multi-version reads
 * arrive. The store keeps one version per key today, so the only read
 * timestamp it serves is STORE_TS_LATEST (asserted).
 *
 * Threads: RocksDB is thread-safe; so are all functions here on distinct
 * iterators and batches (an iterator or a batch belongs to one thread at a
 * time). The list of column families grows under the store's mutex;
 * handles are never freed before store_close(), so a worker may keep one. */
#ifndef NODE_STORE_STORE_H
#define NODE_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 0xFF x 8 then "applied": above every (table id, index id) prefix. Its
 * value is the applied index (8 bytes big-endian), on a versioned shard
 * followed by the highest commit timestamp applied (8 more). */
#define STORE_APPLIED_KEY                                                      \
    "\xff\xff\xff\xff\xff\xff\xff\xff"                                         \
    "applied"
#define STORE_APPLIED_KEY_LEN 15
/* 0xFF x 8 then "dedup" then the request id (8 bytes BE): fsm.h. */
#define STORE_DEDUPE_PREFIX                                                    \
    "\xff\xff\xff\xff\xff\xff\xff\xff"                                         \
    "dedup"
#define STORE_DEDUPE_PREFIX_LEN 13
/* 0xFF x 8 then "preferred": the operator's preferred leader (4 bytes). */
#define STORE_PREFERRED_KEY                                                    \
    "\xff\xff\xff\xff\xff\xff\xff\xff"                                         \
    "preferred"
#define STORE_PREFERRED_KEY_LEN 17
/* 0xFF x 8 then "fence": the catalog fence (8 bytes BE), the newest
 * map version an index build raised it to (node/replica/fsm.h). */
#define STORE_FENCE_KEY                                                        \
    "\xff\xff\xff\xff\xff\xff\xff\xff"                                         \
    "fence"
#define STORE_FENCE_KEY_LEN 13
/* Above every key we ever write in a shard's column family. */
#define STORE_MAX_KEY                                                          \
    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
#define STORE_MAX_KEY_LEN 16

/* The read timestamp of a read that sees every write applied so far. */
#define STORE_TS_LATEST UINT64_MAX

struct store;       /* the database */
struct store_cf;    /* one column family (a shard's, or the metadata's) */
struct store_batch; /* mutations written together, atomically */
struct store_iter;  /* an ordered cursor over one column family */
struct store_snap;  /* a consistent view of the whole database */

/* How a read sees the store. A zeroed struct is not valid: start from
 * store_read_latest(). */
struct store_read {
    uint64_t ts; /* read timestamp: STORE_TS_LATEST (see above) */
    /* Read from this snapshot (borrowed; NULL: the current state). */
    const struct store_snap *snap;
    /* Iterators stop before this key (copied; NULL: no bound). */
    const void *upper;
    size_t upper_len;
    bool fill_cache; /* false for bulk reads that would evict hot data */
};

/** A read of the current state at STORE_TS_LATEST, no bound, filling the
 * block cache. Cannot fail. */
struct store_read store_read_latest(void);

/** Open (creating if needed) the database at @path with a column family
 * for each of @shards[0..n_shards). On success *@out is owned by the
 * caller: release with store_close(). TL_EIO with @errbuf saying why
 * (RocksDB only gives strings). */
int store_open(const char *path, const uint32_t *shards, size_t n_shards,
               struct store **out, char *errbuf, size_t errlen);

/** Close the database and free @st. NULL is a no-op. Every iterator,
 * snapshot and batch must be gone. */
void store_close(struct store *st);

/** The column family of @shard (borrowed from @st), or NULL if it was not
 * opened. Cannot fail. */
struct store_cf *store_shard_cf(struct store *st, uint32_t shard);

/** The column family of @shard, created if missing, in *@out (borrowed).
 * TL_EIO if RocksDB refuses (logged). */
int store_ensure_shard_cf(struct store *st, uint32_t shard,
                          struct store_cf **out);

/** The node metadata column family ("default"), borrowed. Cannot fail. */
struct store_cf *store_meta_cf(struct store *st);

/** RocksDB's integer property @name (e.g. "rocksdb.total-sst-files-size")
 * of @cf, or of the whole database when @cf is NULL, in *@out.
 * TL_ENOTFOUND when RocksDB has no such integer property. Thread-safe; it
 * reads in-memory figures only (for /metrics). */
int store_property_int(struct store *st, struct store_cf *cf, const char *name,
                       uint64_t *out);

/** Delete every key of @cf (data, applied index, dedupe table) in one
 * write. TL_EIO (logged). */
int store_clear_cf(struct store *st, struct store_cf *cf);

/** Point read of @key in @cf as @r says (NULL: store_read_latest()). On
 * success *@val is malloc'd (caller frees with free(); NULL when the key
 * is absent) and *@len its length. TL_EIO (logged with @what). */
int store_get(struct store *st, struct store_cf *cf, const struct store_read *r,
              const void *key, size_t key_len, char **val, size_t *len,
              const char *what);

/** Node metadata (the "default" column family): get @key into *@val
 * (malloc'd and NUL-terminated, caller frees; NULL when absent) and
 * *@len. TL_EIO. */
int store_meta_get(struct store *st, const char *key, char **val, size_t *len);
/** Put (@val != NULL) or delete @key in the metadata, synced. TL_EIO. */
int store_meta_put(struct store *st, const char *key, const void *val,
                   size_t len);

/** Read the applied index stored in @cf as @r says (NULL: latest) into
 * *@out (0 when absent). TL_EIO on a read error, TL_ECORRUPT on a
 * malformed value. */
int store_read_applied(struct store *st, struct store_cf *cf,
                       const struct store_read *r, uint64_t *out);

/** Make every write issued so far durable (sync the WAL). TL_EIO. */
int store_sync(struct store *st);

/* ---- write batches */

/** A new empty batch; caller frees with store_batch_destroy(). Aborts if
 * out of memory. */
struct store_batch *store_batch_create(void);
/** Free @b. NULL is a no-op. */
void store_batch_destroy(struct store_batch *b);
/** Add a put of @key -> @val to @b (both copied). Cannot fail. */
/** Drop every mutation added to @b so far. Cannot fail. */
void store_batch_clear(struct store_batch *b);
void store_batch_put(struct store_batch *b, struct store_cf *cf,
                     const void *key, size_t key_len, const void *val,
                     size_t val_len);
/** Add a delete of @key to @b (copied). Cannot fail. */
void store_batch_delete(struct store_batch *b, struct store_cf *cf,
                        const void *key, size_t key_len);
/** Add a delete of every key in [@lo, @hi) to @b (copied). Cannot fail. */
void store_batch_delete_range(struct store_batch *b, struct store_cf *cf,
                              const void *lo, size_t lo_len, const void *hi,
                              size_t hi_len);
/** Write @b atomically (WAL on; fsync'd when @sync). @b is unchanged and
 * may be destroyed or written again. TL_EIO with @errbuf saying why (not
 * logged: the caller knows what failed). */
int store_write(struct store *st, struct store_batch *b, bool sync,
                char *errbuf, size_t errlen);

/* ---- iterators */

/** An iterator over @cf as @r says (NULL: store_read_latest(); copied),
 * not positioned: seek first. Caller frees with store_iter_destroy().
 * Aborts if out of memory. */
struct store_iter *store_iter_create(struct store *st, struct store_cf *cf,
                                     const struct store_read *r);
/** Free @it. NULL is a no-op. */
void store_iter_destroy(struct store_iter *it);
/** Position @it at the first key >= @key. */
void store_iter_seek(struct store_iter *it, const void *key, size_t key_len);
/** Position @it at the first key. */
void store_iter_seek_first(struct store_iter *it);
/** Whether @it is at a key (false past the end, the bound, or on an
 * error: check store_iter_status()). */
bool store_iter_valid(const struct store_iter *it);
/** Move to the next key. @it must be valid. */
void store_iter_next(struct store_iter *it);
/** The key / value @it is at (borrowed until it moves). @it must be
 * valid. */
const char *store_iter_key(const struct store_iter *it, size_t *len);
const char *store_iter_value(const struct store_iter *it, size_t *len);
/** 0, or TL_EIO with @errbuf saying why when the iteration stopped on an
 * error (not logged). */
int store_iter_status(const struct store_iter *it, char *errbuf, size_t errlen);

/* ---- snapshots */

/** A consistent view of the database as it is now; release with
 * store_snap_release(). Aborts if out of memory. */
struct store_snap *store_snap_create(struct store *st);
/** Release @snap (taken from @st). NULL is a no-op. */
void store_snap_release(struct store *st, struct store_snap *snap);

/* ---- key counts */

/** Count the table keys of @cf (the applied key excluded) into *@out.
 * TL_EIO on an iterator error. Reads the whole column family: slow (about
 * a second per million keys on an idle node); tests and diagnostics only,
 * never on a path an operator waits on. */
int store_count_keys(struct store *st, struct store_cf *cf, uint64_t *out);

/* Up to this many keys (by RocksDB's estimate) store_estimate_keys()
 * tries an exact count; $TALUS_KEYS_EXACT_MAX overrides it (0: always
 * estimate). */
#define STORE_KEYS_EXACT_MAX 2000000

/* Counts the rows of @cf, reading at most @max rows and stopping at
 * @deadline_ns (0: none) with TL_ETIMEOUT; *@out: the rows seen. */
typedef int (*store_count_fn)(struct store *st, struct store_cf *cf,
                              uint64_t max, uint64_t deadline_ns,
                              uint64_t *out);

/** The table keys of @cf (rows as @count counts them; NULL: one per plain
 * key) into *@out, never working past @deadline_ns
 * (CLOCK_MONOTONIC, nanoseconds) by much; *@estimated says whether the
 * number is an estimate.
 *
 * RocksDB's "rocksdb.estimate-num-keys" for the column family comes from
 * file and memtable metadata, no data read. When it is at most
 * STORE_KEYS_EXACT_MAX the keys are counted exactly, unless the count
 * reaches @deadline_ns (checked every 4,096 keys) or twice that bound: the
 * caller shares one time budget over its shards, so a small shard is
 * counted and a big or busy one is estimated, at a bounded cost.
 * Otherwise *@out is that estimate less the reserved keys above
 * STORE_APPLIED_KEY (applied index, preferred leader, the dedupe table:
 * at most one per request id of the dedupe window), which are counted.
 * The estimate counts every version of a key that is still in the
 * memtable or not yet compacted — rows overwritten by an UPDATE, and the
 * applied index that every raft entry rewrites — and subtracts deletes
 * roughly, so it runs above the real count after many small writes or
 * large UPDATEs and settles as RocksDB flushes and compacts; on a table
 * loaded in batches it is close. TL_EIO on a RocksDB error (logged). */
int store_estimate_keys(struct store *st, struct store_cf *cf,
                        uint64_t deadline_ns, store_count_fn count,
                        uint64_t *out, bool *estimated);

/* ---- compaction filter and manual compaction
 *
 * Every shard's column family ("shard-<s>") gets a compaction filter made
 * fresh for each compaction by a factory of its own (RocksDB runs one
 * (sub)compaction on one thread, keys in order), so the filter's per-key
 * state is per compaction. It asks the owner registered with
 * store_set_filter() (the MVCC layer: mvcc_gc_install()) about every key
 * once the column family has a floor (store_cf_set_gc_floor(); 0, the
 * start: keep everything). The filter sees one key at a time; deletions
 * of other keys it wants (MVCC data records of collected versions) are
 * queued and written by store_flush_deferred(). RocksDB runs filters
 * regardless of snapshots: a filter must drop only what no read that is
 * still allowed can see. Flushes do not filter. */

/* What a filter owner answers (any compaction thread). */
struct store_filter_ops {
    /** State for one compaction of @cf at floor @floor (> 0); @full: the
     * compaction reads every file of the column family. NULL: keep
     * everything in this compaction. */
    void *(*begin)(void *arg, struct store_cf *cf, uint64_t floor, bool full);
    /** Whether to drop @key/@val; deletions of other keys go into
     * @deferred (written after the compaction). */
    bool (*drop)(void *state, struct store_batch *deferred, const char *key,
                 size_t key_len, const char *val, size_t val_len);
    /** The compaction is over: free @state. */
    void (*end)(void *state);
};

/** Register @ops (static) with @arg as the filter owner of every shard
 * column family (NULL: none). Cannot fail. */
void store_set_filter(struct store *st, const struct store_filter_ops *ops,
                      void *arg);

/** Raise @cf's filter floor to @floor (never lowers it). Any thread;
 * cannot fail. */
void store_cf_set_gc_floor(struct store_cf *cf, uint64_t floor);
/** @cf's filter floor (0: none). Any thread; cannot fail. */
uint64_t store_cf_gc_floor(const struct store_cf *cf);

/** Write the deletions filters queued so far; *@n_written (if not NULL)
 * counts them. TL_EIO (logged; the rest are dropped: the records they
 * name are unreachable, a later GC of a key cannot find them again). */
int store_flush_deferred(struct store *st, uint64_t *n_written);

/** Compact all of @cf now (memtable flushed, every level rewritten
 * through the filter, the last one too), then store_flush_deferred().
 * Blocks until done: tests, benchmarks and operators. TL_EIO. */
int store_compact(struct store *st, struct store_cf *cf);

/* ---- helpers */

/** Create directory @path and its missing parents (mode 0755). TL_EIO
 * with errno set if one cannot be created. */
int store_mkdir_p(const char *path);

/** Store @v as 8 bytes big-endian in @out[8]. Cannot fail. */
void store_encode_u64(uint64_t v, char out[8]);

#endif
