/* fsm — the raft state machine of one shard, stored in its column family.
 *
 * A log entry's payload is a packed talus.WriteBatch, framed (see
 * fsm_entry_encode) because raft 0.15's segment format needs payloads
 * padded to a multiple of 8 bytes. Applying it checks
 * every mutation's condition against the column family first (ABSENT: the
 * key must not exist; EQUALS: its value must equal `expect`); if one fails
 * nothing but the new applied index is written, else every mutation and
 * the applied index go into ONE RocksDB write batch. Raft re-applies every
 * entry after its last snapshot on restart, so entries at or below the
 * stored applied index are skipped: applying is idempotent per index.
 *
 * Snapshots are a 24-byte descriptor (magic, shard, applied index), never
 * the data: the data already sits in RocksDB, and the WAL is synced off the
 * loop (snapshot_async) before raft truncates its log.
 *
 * All functions but fsm_applied() run on the loop thread (or a test). */
#ifndef NODE_FSM_H
#define NODE_FSM_H

#include <raft.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "storage.h"
#include "talus.pb-c.h"

#define FSM_SNAPSHOT_LEN 24

enum fsm_outcome {
    FSM_OK = 0,          /* applied (or a replay, skipped) */
    FSM_COND_FAILED = 1, /* a condition failed: mutation, cond say which */
    FSM_BAD_BATCH = 2,   /* the payload does not decode: nothing written */
};

struct fsm_result {
    int outcome;      /* enum fsm_outcome */
    int32_t mutation; /* index of the failed mutation, else -1 */
    int cond;         /* its TALUS__MUTATION__COND__*, else 0 */
};

struct node_fsm {
    struct raft_fsm raft_fsm; /* handed to raft_init(); data == this */
    struct storage *st;       /* borrowed */
    rocksdb_column_family_handle_t *cf; /* borrowed */
    uint32_t shard;
    struct raft *raft;        /* borrowed; set before raft_start() */
    _Atomic uint64_t applied; /* last applied index, as stored */
};

/** Initialise @f for @shard over @st: reads the stored applied index.
 * TL_ENOTFOUND if the shard has no column family, TL_EIO/TL_ECORRUPT if
 * the index cannot be read. */
int fsm_init(struct node_fsm *f, struct storage *st, uint32_t shard);

#define FSM_ENTRY_MAGIC "TLW1"
#define FSM_ENTRY_HEADER 8

/** Encode @wb as a raft entry payload into @out (raft_malloc'd: pass it
 * to raft_apply(), or free with raft_free()): "TLW1", the packed length
 * (4 bytes BE), the packed batch, zero padding to a multiple of 8. */
void fsm_entry_encode(const Talus__WriteBatch *wb, struct raft_buffer *out);

/** Apply the entry payload @data/@len (fsm_entry_encode) as log entry
 * @index. Entries at
 * or below the applied index are skipped (outcome FSM_OK). *@res says
 * what happened. TL_EIO if RocksDB refused the write (nothing applied). */
int fsm_apply_batch(struct node_fsm *f, uint64_t index, const void *data,
                    size_t len, struct fsm_result *res);

/** Pack @r into the opaque pointer raft hands to the apply callback (no
 * allocation, so entries applied on followers, whose result raft drops,
 * leak nothing). */
void *fsm_result_pack(const struct fsm_result *r);
/** Inverse of fsm_result_pack(). */
void fsm_result_unpack(void *p, struct fsm_result *r);

/** Fill @f->raft_fsm for raft_init() and remember @r, whose last applied
 * index tells apply() the entry's index. With @async (the io supports
 * async_work) the WAL sync of a snapshot runs in the thread pool (fsm
 * version 3), else inside snapshot() on the loop (version 2). Cannot
 * fail. */
void fsm_setup_raft(struct node_fsm *f, struct raft *r, bool async);

/** The applied index; callable from any thread. */
uint64_t fsm_applied(struct node_fsm *f);

/** Fill @out with the snapshot descriptor of the current state. */
void fsm_snapshot_encode(struct node_fsm *f, uint8_t out[FSM_SNAPSHOT_LEN]);

/** Check descriptor @p/@len against the stored state: 0 if our data
 * already covers it, TL_ECORRUPT if malformed or for another shard,
 * TL_EUNAVAILABLE if our applied index is below it (logged). */
int fsm_snapshot_check(struct node_fsm *f, const void *p, size_t len);

#endif
