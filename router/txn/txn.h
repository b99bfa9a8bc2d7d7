/* txn — the transaction state of one session: PostgreSQL 15's
 * transaction-block state machine (src/backend/access/transam/xact.c,
 * TBLOCK_*), its characteristics and its savepoints.
 *
 * A session is in one of four block states:
 *
 *   TXN_IDLE        no block (TBLOCK_DEFAULT / TBLOCK_STARTED): each
 *                   statement, or the messages of the extended protocol up
 *                   to Sync, is a transaction of its own;
 *   TXN_IMPLICIT    the statements of a multi-statement Query message
 *                   (TBLOCK_IMPLICIT_INPROGRESS): they commit together at
 *                   its end; BEGIN among them turns it into a real block;
 *   TXN_INPROGRESS  after BEGIN (TBLOCK_INPROGRESS, TBLOCK_SUBINPROGRESS
 *                   while savepoints are defined), until COMMIT or ROLLBACK;
 *   TXN_FAILED      a statement of the block failed (TBLOCK_ABORT,
 *                   TBLOCK_SUBABORT): everything but COMMIT, ROLLBACK,
 *                   ROLLBACK TO and PREPARE TRANSACTION fails with 25P02
 *                   until the block ends or ROLLBACK TO a savepoint
 *                   defined before the failure revives it.
 *
 * ReadyForQuery reports 'I' for the first two, 'T' and 'E' for the
 * others (txn_status_char()).
 *
 * A transaction's characteristics (isolation level, read-only,
 * deferrable) are taken from the session's defaults when it starts
 * (default_transaction_*, SET SESSION CHARACTERISTICS), may be changed by
 * BEGIN's options and SET TRANSACTION until its first statement that
 * takes a snapshot (txn_snapshot()), and are forgotten when it ends.
 *
 * Storage. The hooks txn_hook_begin(), txn_hook_commit(),
 * txn_hook_rollback() and txn_hook_rollback_to_savepoint() start, commit
 * and undo the distributed transaction (coord.h); a block's first
 * statement that reads or writes takes its snapshot
 * (txn_statement_coord()). A statement of a block is never re-run on the
 * client's behalf (txn_in_block()).
 *
 * One struct txn_state per session, used by the session's thread only.
 * Functions that fail fill @err (PostgreSQL's SQLSTATE and message) and
 * return a negative TL_E* code; those that may warn fill @warn (left
 * clear when there is nothing to say). */
#ifndef TL_TXN_H
#define TL_TXN_H

#include <stdbool.h>
#include <stddef.h>

#include "router/txn/coord.h"
#include "tl_error.h"

enum txn_block {
    TXN_IDLE,
    TXN_IMPLICIT,
    TXN_INPROGRESS,
    TXN_FAILED,
};

/* PostgreSQL's XACT_* order. READ UNCOMMITTED runs as READ COMMITTED (as
 * in PostgreSQL); SERIALIZABLE is refused where it would be used. */
enum txn_isolation {
    TXN_READ_UNCOMMITTED,
    TXN_READ_COMMITTED,
    TXN_REPEATABLE_READ,
    TXN_SERIALIZABLE,
};

struct txn_characteristics {
    enum txn_isolation isolation;
    bool read_only;
    bool deferrable;
};

struct txn_state {
    enum txn_block block;
    /* A transaction is open: always in a block; in TXN_IDLE between a
     * statement's start and the end of its transaction. */
    bool open;
    /* The open transaction's characteristics, and the session's defaults
     * new transactions take. */
    struct txn_characteristics cur;
    struct txn_characteristics dflt;
    /* The defaults when the transaction started: a rollback restores
     * them (SET SESSION CHARACTERISTICS is transactional, as any SET). */
    struct txn_characteristics dflt_at_start;
    /* How the last transaction ended: rolled back (explicitly, by an
     * error, or a failed block's COMMIT), else committed. Settings made
     * in it are undone or kept accordingly. */
    bool rolled_back;
    /* The open transaction ran a statement that took a snapshot: its
     * isolation level (and read-write mode) can no longer change. */
    bool snapshot_taken;
    /* Savepoint names (owned), oldest first; only in a block. Beside
     * each, the number of the transaction's last statement before it
     * (coord.seq then): going back undoes the writes of later ones. */
    char **savepoints;
    uint32_t *savepoint_seqs;
    size_t n_savepoints, cap_savepoints;
    /* The block failed after it wrote and its writes were all rolled
     * back then (txn_mark_failed(): no savepoint to go back to, or going
     * back failed), so it cannot go back to a savepoint. */
    bool writes_lost;
    /* The storage side of the open block's transaction (coord.h):
     * active from the block's first statement that reads or writes. */
    struct txn_coord coord;
};

/** Initialise @x: idle, PostgreSQL's defaults (read committed, read
 * write, not deferrable). Cannot fail. */
void txn_init(struct txn_state *x);
/** Free what @x holds. */
void txn_close(struct txn_state *x);

/** 'I' (idle or implicit), 'T' (in a block) or 'E' (failed block): the
 * status byte of ReadyForQuery. */
char txn_status_char(const struct txn_state *x);
/** Whether a transaction block is open (PostgreSQL's IsTransactionBlock():
 * implicit, in progress or failed). */
bool txn_in_block(const struct txn_state *x);
/** Whether the block failed and waits for ROLLBACK (25P02 for the rest). */
bool txn_failed(const struct txn_state *x);

/* ------------------------------------------------ statement lifecycle */

/** A statement starts (StartTransactionCommand): opens a transaction with
 * the default characteristics when none is open; @implicit (a statement
 * of a multi-statement Query) makes an idle session's transaction an
 * implicit block. */
void txn_statement_start(struct txn_state *x, bool implicit);
/** The statement took a snapshot: the transaction's isolation level is
 * fixed from now on. */
void txn_snapshot(struct txn_state *x);
/** End the transaction of an idle session (after the last statement of
 * a Query, a transaction statement, or at Sync): it commits. In a block,
 * nothing happens. */
void txn_statement_end(struct txn_state *x);
/** The end of a Query message or a Sync (finish_xact_command): an
 * implicit block commits and an idle transaction ends. An explicit block
 * stays open. */
void txn_query_end(struct txn_state *x);
/** The last statement of an implicit block (a multi-statement Query)
 * ran: commit the block's transaction, before that statement reports its
 * completion (exec_simple_query()'s finish_xact_command()). 0, or the
 * commit's error (@err; the block is over, rolled back or with its
 * outcome unknown, as txn_coord_commit()). Outside an implicit block,
 * nothing. */
int txn_query_commit(struct txn_state *x, struct tl_error *err);
/** A statement failed (AbortCurrentTransaction): an open block becomes
 * failed; an idle or implicit transaction is rolled back. */
void txn_mark_failed(struct txn_state *x);

/* ---------------------------------------------- transaction statements */

/** BEGIN / START TRANSACTION (BeginTransactionBlock): starts a block,
 * turning an implicit one into a real one; inside a block only warns 25001
 * "there is already a transaction in progress". 0, or the hook's error. */
int txn_begin(struct txn_state *x, struct tl_error *warn, struct tl_error *err);
/** COMMIT / END [AND [NO] CHAIN] (EndTransactionBlock). *@committed false
 * when a failed block was rolled back instead (its tag is ROLLBACK).
 * Outside a block: warning 25P01 "there is no transaction in progress",
 * or with @chain 25P01 "COMMIT AND CHAIN can only be used in transaction
 * blocks". With @chain a new block starts with the same
 * characteristics. */
int txn_commit(struct txn_state *x, bool chain, bool *committed,
               struct tl_error *warn, struct tl_error *err);
/** ROLLBACK / ABORT [AND [NO] CHAIN] (UserAbortTransactionBlock); warns
 * or fails outside a block as txn_commit() does. */
int txn_rollback(struct txn_state *x, bool chain, struct tl_error *warn,
                 struct tl_error *err);
/** PREPARE TRANSACTION @gid: Talus has no prepared transactions
 * (max_prepared_transactions = 0). In a block that has not failed: 55000
 * "prepared transactions are disabled" and the block is rolled back; in a
 * failed one the block is rolled back (*@prepared false: tag ROLLBACK);
 * outside one the 25P01 warning, *@prepared false. */
int txn_prepare(struct txn_state *x, const char *gid, bool *prepared,
                struct tl_error *warn, struct tl_error *err);
/** SAVEPOINT @name (copied): 25P01 outside a block. */
int txn_savepoint(struct txn_state *x, const char *name, struct tl_error *err);
/** RELEASE [SAVEPOINT] @name: forget the newest savepoint so named and
 * those defined after it; 25P01 outside a block, 3B001 "savepoint \"x\"
 * does not exist". */
int txn_release(struct txn_state *x, const char *name, struct tl_error *err);
/** ROLLBACK TO [SAVEPOINT] @name: back to the newest savepoint so named
 * (kept; later ones are forgotten), reviving a failed block; 25P01 outside
 * a block, 3B001 when there is no such savepoint (a block that failed
 * stays failed). */
int txn_rollback_to(struct txn_state *x, const char *name,
                    struct tl_error *err);

/* --------------------------------------------------- characteristics */

/** The name of @iso as SHOW transaction_isolation spells it. */
const char *txn_isolation_name(enum txn_isolation iso);
/** Parse an isolation level name as SET spells it ("repeatable read",
 * any case). 0, or TL_EINVAL. */
int txn_isolation_parse(const char *name, enum txn_isolation *out);
/** SET TRANSACTION ISOLATION LEVEL / SET transaction_isolation: 25001
 * "SET TRANSACTION ISOLATION LEVEL must be called before any query" after
 * a snapshot was taken; 25001 "... must not be called in a
 * subtransaction" after a savepoint (PostgreSQL's check_XactIsoLevel()).
 * SERIALIZABLE is refused with 0A000 (Talus never runs snapshot
 * isolation under that name). */
int txn_set_isolation(struct txn_state *x, enum txn_isolation iso,
                      struct tl_error *err);
/** SET TRANSACTION READ ONLY / READ WRITE: going read-write in a
 * read-only transaction fails (25001) once a snapshot was taken or
 * inside a savepoint (check_transaction_read_only()). */
int txn_set_read_only(struct txn_state *x, bool read_only,
                      struct tl_error *err);
/** SET TRANSACTION [NOT] DEFERRABLE: 25001 inside a savepoint or once a
 * snapshot was taken (check_transaction_deferrable()). */
int txn_set_deferrable(struct txn_state *x, bool deferrable,
                       struct tl_error *err);
/** SERIALIZABLE as a default (SET SESSION CHARACTERISTICS,
 * default_transaction_isolation): 0A000 as txn_set_isolation(). */
int txn_check_isolation(enum txn_isolation iso, struct tl_error *err);

/** 25006 "cannot execute @what in a read-only transaction" when the
 * open transaction is read-only (PreventCommandIfReadOnly()), else 0. */
int txn_check_writable(const struct txn_state *x, const char *what,
                       struct tl_error *err);

/* ---------------------------------------------------- storage */

/** Attach router @r (borrowed): blocks then run as distributed
 * transactions (coord.h). Without it (unit tests) statements in a block
 * run with autocommit storage. Cannot fail. */
void txn_set_router(struct txn_state *x, struct router *r);

/** A statement that reads or writes shards starts: inside an explicit
 * block (in progress) the transaction's coordinator, ready for it (its
 * snapshot taken: txn_coord_statement()), in *@out; NULL outside one.
 * 0, or the oracle's error (@err). */
int txn_statement_coord(struct txn_state *x, int64_t deadline_ms,
                        struct txn_coord **out, struct tl_error *err);

/* ---------------------------------------------------- storage hooks */

/** A block begins (BEGIN, or the new block of AND CHAIN). */
int txn_hook_begin(struct txn_state *x, struct tl_error *err);
/** A block commits. A failure turns the commit into an error. */
int txn_hook_commit(struct txn_state *x, struct tl_error *err);
/** A block is rolled back (ROLLBACK, COMMIT of a failed block, PREPARE
 * TRANSACTION refused, the session ending inside a block). Cannot fail
 * in a way the client sees; returns 0. */
int txn_hook_rollback(struct txn_state *x);
/** The block goes back to savepoint @level (0-based index into
 * x->savepoints, which is kept). */
int txn_hook_rollback_to_savepoint(struct txn_state *x, size_t level,
                                   struct tl_error *err);

#endif
