/* storage — the node's one RocksDB instance, a column family per shard.
 *
 * Layout: <dir>/db holds column families "default" and "shard-<s>" for
 * every shard this node hosts (column families of shards it no longer
 * hosts are opened too, since RocksDB insists, but are left alone). Inside
 * a shard's column family, table rows live under their memcomparable keys
 * (common/keycodec.h) and one reserved key, STORAGE_APPLIED_KEY, holds the
 * raft index of the last applied log entry. The reserved key sorts after
 * every table key (its first eight bytes are 0xFF), so table scans and key
 * counts stop before it.
 *
 * RocksDB is thread-safe: worker threads read while the loop writes. */
#ifndef NODE_STORAGE_H
#define NODE_STORAGE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rocksdb/c.h>

/* 0xFF x 8 then "applied": above every (table id, index id) prefix. */
#define STORAGE_APPLIED_KEY                                                    \
    "\xff\xff\xff\xff\xff\xff\xff\xff"                                         \
    "applied"
#define STORAGE_APPLIED_KEY_LEN 15
/* 0xFF x 8 then "dedup" then the request id (8 bytes BE): fsm.h. */
#define STORAGE_DEDUPE_PREFIX                                                  \
    "\xff\xff\xff\xff\xff\xff\xff\xff"                                         \
    "dedup"
#define STORAGE_DEDUPE_PREFIX_LEN 13
/* 0xFF x 8 then "preferred": the operator's preferred leader (4 bytes). */
#define STORAGE_PREFERRED_KEY                                                  \
    "\xff\xff\xff\xff\xff\xff\xff\xff"                                         \
    "preferred"
#define STORAGE_PREFERRED_KEY_LEN 17
/* Above every key we ever write in a shard's column family. */
#define STORAGE_MAX_KEY                                                        \
    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
#define STORAGE_MAX_KEY_LEN 16

struct storage {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_writeoptions_t *wopts; /* WAL on, no sync: raft's log is */
    rocksdb_readoptions_t *ropts;
    size_t n_cfs;
    char **cf_names;                      /* owned */
    rocksdb_column_family_handle_t **cfs; /* owned, parallel to cf_names */
    pthread_mutex_t mu; /* guards n_cfs, cf_names, cfs (they grow) */
};

/** Open (creating if needed) the database at @path with a column family
 * for each of @shards[0..n_shards). On success *@out is owned by the
 * caller: release with storage_close(). TL_EIO with @errbuf saying why
 * (RocksDB only gives strings). */
int storage_open(const char *path, const uint32_t *shards, size_t n_shards,
                 struct storage **out, char *errbuf, size_t errlen);

/** Close the database and free @st. NULL is a no-op. Every iterator and
 * reader must be gone. */
void storage_close(struct storage *st);

/** The column family of @shard (borrowed from @st), or NULL if it was not
 * opened. Cannot fail. */
rocksdb_column_family_handle_t *storage_shard_cf(struct storage *st,
                                                 uint32_t shard);

/** The column family of @shard, created if missing, in *@out (borrowed).
 * TL_EIO if RocksDB refuses (logged). Handles are never destroyed before
 * storage_close(), so workers may keep using one. */
int storage_ensure_shard_cf(struct storage *st, uint32_t shard,
                            rocksdb_column_family_handle_t **out);

/** Delete every key of @cf (data, applied index, dedupe table) in one
 * write. TL_EIO. */
int storage_clear_cf(struct storage *st, rocksdb_column_family_handle_t *cf);

/** Node metadata (the "default" column family): get @key into *@val
 * (malloc'd, caller frees; NULL when absent) and *@len. TL_EIO. */
int storage_meta_get(struct storage *st, const char *key, char **val,
                     size_t *len);
/** Put (@val != NULL) or delete @key in the metadata, synced. TL_EIO. */
int storage_meta_put(struct storage *st, const char *key, const void *val,
                     size_t len);

/** Read the applied index stored in @cf into *@out (0 when absent).
 * TL_EIO on a read error, TL_ECORRUPT on a malformed value. */
int storage_read_applied(struct storage *st, rocksdb_column_family_handle_t *cf,
                         uint64_t *out);

/** Make every write issued so far durable (sync the WAL). TL_EIO. */
int storage_sync(struct storage *st);

/** Count the table keys of @cf (the applied key excluded) into *@out.
 * TL_EIO on an iterator error. Reads the whole column family: slow (about
 * a second per million keys on an idle node); tests and diagnostics only,
 * never on a path an operator waits on. */
int storage_count_keys(struct storage *st, rocksdb_column_family_handle_t *cf,
                       uint64_t *out);

/* Up to this many keys (by RocksDB's estimate) storage_estimate_keys()
 * tries an exact count; $TALUS_KEYS_EXACT_MAX overrides it (0: always
 * estimate). */
#define STORAGE_KEYS_EXACT_MAX 2000000

/** The table keys of @cf into *@out, never working past @deadline_ns
 * (CLOCK_MONOTONIC, nanoseconds) by much; *@estimated says whether the
 * number is an estimate.
 *
 * RocksDB's "rocksdb.estimate-num-keys" for the column family comes from
 * file and memtable metadata, no data read. When it is at most
 * STORAGE_KEYS_EXACT_MAX the keys are counted exactly, unless the count
 * reaches @deadline_ns (checked every 4,096 keys) or twice that bound: the
 * caller shares one time budget over its shards, so a small shard is
 * counted and a big or busy one is estimated, at a bounded cost.
 * Otherwise *@out is that estimate less the reserved keys above
 * STORAGE_APPLIED_KEY (applied index, preferred leader, the dedupe table:
 * at most one per request id of the dedupe window), which are counted.
 * The estimate counts every version of a key that is still in the
 * memtable or not yet compacted — rows overwritten by an UPDATE, and the
 * applied index that every raft entry rewrites — and subtracts deletes
 * roughly, so it runs above the real count after many small writes or
 * large UPDATEs and settles as RocksDB flushes and compacts; on a table
 * loaded in batches it is close. TL_EIO on a RocksDB error (logged). */
int storage_estimate_keys(struct storage *st,
                          rocksdb_column_family_handle_t *cf,
                          uint64_t deadline_ns, uint64_t *out, bool *estimated);

/** Create directory @path and its missing parents (mode 0755). TL_EIO
 * with errno set if one cannot be created. */
int storage_mkdir_p(const char *path);

/** Store @v as 8 bytes big-endian in @out[8]. Cannot fail. */
void storage_encode_u64(uint64_t v, char out[8]);

#endif
