/* coord — the storage side of one session's transaction: the coordinator
 * of DESIGN.md "Transactions" (Percolator over the shards' Raft groups).
 *
 * A transaction is named by its start timestamp, taken from the oracle
 * when its first statement starts. Every request a statement of the
 * transaction sends to a shard carries Talus__TxnInfo (txn_coord_info()):
 * reads see the versions committed at or before the statement's read
 * timestamp (the start timestamp under REPEATABLE READ, a fresh one per
 * statement under READ COMMITTED) and the transaction's own pending
 * writes; writes prewrite: locks with pending values, which no other
 * reader sees and another writer finds locked.
 *
 * The transaction's record is a key of the shard it first writes to (the
 * primary shard): 0xFE, that shard (4 bytes) and the start timestamp (8,
 * both big-endian), locked by that first write, so a lock names where
 * its transaction's fate is decided. Commit takes a commit timestamp from the
 * oracle after every prewrite, then ends the transaction on the primary shard
 * first — one Raft entry that commits its record and its rows: the commit point
 * — then on every other shard it wrote. Rollback ends it the same way without a
 * timestamp. A transaction that wrote one shard commits with one entry.
 *
 * One struct txn_coord per session, used by the session's thread only
 * (requests of one statement are built on that thread too). */
#ifndef TL_TXN_COORD_H
#define TL_TXN_COORD_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster_config.h"
#include "talus.pb-c.h"
#include "tl_error.h"

struct router;
struct tl_arena;

#define TXN_RECORD_KEY_LEN 13
/* A pending transaction whose coordinator is not known (no incarnation
 * in its record) is taken as abandoned after this long. */
#define TXN_LOCK_TTL_MS 10000
/* How long a resolver waits for the meta group's router records. */
#define TXN_LIVENESS_BUDGET_MS 2000
/* The longest wait-for chain the deadlock detector follows. */
#define TXN_DEADLOCK_MAX_HOPS 16

struct txn_coord {
    struct router *r; /* borrowed */
    bool active;      /* a transaction has a start timestamp */
    bool read_committed;
    uint64_t start_ts;
    uint64_t read_ts; /* the current statement's snapshot */
    uint8_t record[TXN_RECORD_KEY_LEN];
    bool has_primary; /* the record's shard is chosen (first write) */
    uint32_t primary_shard;
    uint64_t wrote[(TL_MAX_SHARDS + 63) / 64]; /* shards written to */
    /* The current statement's number (TxnInfo.seq), and the newest
     * savepoint's (the number of the last statement before it; 0: none),
     * set by the block (txn.c). */
    uint32_t seq;
    uint32_t savepoint_seq;
};

/** Initialise @c for router @r (borrowed). Cannot fail. */
void txn_coord_init(struct txn_coord *c, struct router *r);

/** A statement of the transaction starts: the first takes the start
 * timestamp; under READ COMMITTED each takes a fresh read timestamp
 * (waiting for the oracle until @deadline_ms, the statement_timeout on
 * router_now_ms()'s clock, 0: the default budget).
 * 0, or an error from the oracle (@err filled). */
int txn_coord_statement(struct txn_coord *c, bool read_committed,
                        int64_t deadline_ms, struct tl_error *err);

/** The TxnInfo for a request of the current statement to @shard (in
 * @a): a write (@is_write) marks the shard written; the first write
 * names the primary shard and its request also locks the record. NULL
 * for the meta group, or when no transaction is active. */
Talus__TxnInfo *txn_coord_info(struct txn_coord *c, uint32_t shard,
                               bool is_write, struct tl_arena *a);

/** Commit: a commit timestamp from the oracle, the primary shard's end,
 * then the others'. 0 once the primary committed (a later shard's
 * failure leaves locks its readers resolve through the record), or an
 * error with @err filled (the transaction then rolled back, or its
 * outcome unknown: 40003 when the primary's end did not answer). The
 * coordinator is idle afterwards either way. */
int txn_coord_commit(struct txn_coord *c, struct tl_error *err);

/** ROLLBACK TO SAVEPOINT: undo on every shard written the pending writes
 * of the statements after statement @seq (TxnEndRequest.rollback_to_seq,
 * all shards at once); the transaction goes on. 0, or an error with
 * @err filled (the caller then rolls the whole transaction back: what
 * a shard kept is unknown). */
int txn_coord_rollback_to(struct txn_coord *c, uint32_t seq,
                          struct tl_error *err);

/** Resolve the lock of transaction @start_ts (its record on
 * @record_shard) that stopped a request to @lock_shard: a committed
 * transaction's locks there are committed, a rolled back one's rolled
 * back; a pending one whose coordinating router is dead (its
 * incarnation's lease expired or the router restarted:
 * incarnation_liveness()) — or, with no coordinator named, one older
 * than TXN_LOCK_TTL_MS — is rolled back, record first. 1 when something
 * was resolved (ask again), 0 when the transaction is alive (wait), or
 * an error. */
int txn_resolve(struct router *r, uint64_t start_ts, uint32_t record_shard,
                uint32_t lock_shard, struct tl_error *err);

/** A read at @read_ts met a pending write of transaction @start_ts (its
 * record on @record_shard) on @lock_shard. Push the transaction's commit
 * above the reader (one entry on its record's shard): 2 when it is still
 * pending or committed above @read_ts (the read may skip its locks:
 * TxnInfo.ignore_locks), 1 when it ended at or below (its lock there was
 * settled: read again), or an error. Readers therefore never wait for a
 * transaction to end. */
int txn_read_past(struct router *r, uint64_t start_ts, uint32_t record_shard,
                  uint32_t lock_shard, uint64_t read_ts, struct tl_error *err);

/** Our transaction @c waits for the lock of transaction @holder_ts
 * (record on @holder_shard): register the wait with our record's shard
 * (TxnStatusRequest.register_wait; @holder_ts 0: the wait ended), so
 * that a deadlock detector can follow it. A transaction that wrote
 * nothing yet holds no lock and registers nothing. 0 or an error. */
int txn_wait_register(struct txn_coord *c, uint64_t holder_ts,
                      uint32_t holder_shard, struct tl_error *err);

/** Deadlock detection for @c waiting for @holder_ts (record on
 * @holder_shard): registers the wait, then follows the registered waits
 * from transaction to transaction (up to TXN_DEADLOCK_MAX_HOPS, one
 * status request to each record's shard). When the chain comes back to
 * @c and @c is the youngest (largest start timestamp) of the cycle, @c
 * is the victim: 40P01 "deadlock detected" (TL_ECONFLICT, @err filled,
 * PostgreSQL's hint; the detail names the cycle). Otherwise 0: keep
 * waiting (the victim breaks the cycle). Or an error of a request. */
int txn_wait_check(struct txn_coord *c, uint64_t holder_ts,
                   uint32_t holder_shard, struct tl_error *err);

/** Roll back every shard written (primary first); errors are logged
 * (the locks left are resolved by their readers). Idle afterwards.
 * Cannot fail. */
void txn_coord_rollback(struct txn_coord *c);

#endif
