/* txn — the transaction-block state machine of a session, after
 * PostgreSQL 15's xact.c (BeginTransactionBlock, EndTransactionBlock,
 * UserAbortTransactionBlock, DefineSavepoint, ReleaseSavepoint,
 * RollbackToSavepoint) and the GUC check hooks of the transaction
 * characteristics (variable.c). */
#include "router/txn/txn.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base/sqlstate.h"
#include "log.h"

#define MOD "txn"

void
txn_init(struct txn_state *x)
{
    memset(x, 0, sizeof(*x));
    x->dflt.isolation = TXN_READ_COMMITTED;
    x->cur = x->dflt;
}

static void
drop_savepoints(struct txn_state *x, size_t keep)
{
    while (x->n_savepoints > keep)
        free(x->savepoints[--x->n_savepoints]);
    /* Writes keep what the newest savepoint may need back. */
    x->coord.savepoint_seq =
        x->n_savepoints > 0 ? x->savepoint_seqs[x->n_savepoints - 1] : 0;
}

void
txn_close(struct txn_state *x)
{
    if (x->coord.active)
        txn_hook_rollback(x);
    drop_savepoints(x, 0);
    free(x->savepoints);
    free(x->savepoint_seqs);
    x->savepoints = NULL;
    x->savepoint_seqs = NULL;
    x->cap_savepoints = 0;
}

char
txn_status_char(const struct txn_state *x)
{
    switch (x->block) {
    case TXN_INPROGRESS:
        return 'T';
    case TXN_FAILED:
        return 'E';
    default:
        return 'I';
    }
}

bool
txn_in_block(const struct txn_state *x)
{
    return x->block != TXN_IDLE;
}

bool
txn_failed(const struct txn_state *x)
{
    return x->block == TXN_FAILED;
}

/* ---------------------------------------------------- the transaction */

/* Open a transaction with the session's default characteristics
 * (StartTransaction()). */
static void
open_xact(struct txn_state *x)
{
    x->open = true;
    x->cur = x->dflt;
    x->dflt_at_start = x->dflt;
    x->snapshot_taken = false;
}

/* The transaction is over, committed or (@rollback) not: back to idle. */
static void
end_xact(struct txn_state *x, bool rollback)
{
    if (x->open) {
        if (rollback)
            x->dflt = x->dflt_at_start;
        x->rolled_back = rollback;
    }
    drop_savepoints(x, 0);
    x->block = TXN_IDLE;
    x->open = false;
    x->writes_lost = false;
    x->snapshot_taken = false;
    x->cur = x->dflt;
}

static void
close_xact(struct txn_state *x)
{
    end_xact(x, false);
}

static void
abort_xact(struct txn_state *x)
{
    end_xact(x, true);
}

/* The new block of COMMIT/ROLLBACK AND CHAIN: the characteristics of the
 * one that ended (PostgreSQL's SaveTransactionCharacteristics()). */
static int
chain_xact(struct txn_state *x, bool rollback, struct tl_error *err)
{
    struct txn_characteristics c = x->cur;
    end_xact(x, rollback);
    open_xact(x);
    x->cur = c;
    x->block = TXN_INPROGRESS;
    return txn_hook_begin(x, err);
}

void
txn_statement_start(struct txn_state *x, bool implicit)
{
    if (!x->open)
        open_xact(x);
    if (implicit && x->block == TXN_IDLE)
        x->block = TXN_IMPLICIT;
}

void
txn_snapshot(struct txn_state *x)
{
    if (x->open)
        x->snapshot_taken = true;
}

void
txn_statement_end(struct txn_state *x)
{
    if (x->block == TXN_IDLE)
        close_xact(x);
}

void
txn_query_end(struct txn_state *x)
{
    if (x->block == TXN_IDLE || x->block == TXN_IMPLICIT)
        close_xact(x);
}

void
txn_mark_failed(struct txn_state *x)
{
    switch (x->block) {
    case TXN_INPROGRESS:
        x->block = TXN_FAILED;
        tl_debug(MOD, "event=block_failed savepoints=%zu", x->n_savepoints);
        /* As PostgreSQL's AbortTransaction() (AbortSubTransaction()
         * inside a savepoint): the writes since the newest savepoint, or
         * all of them, are undone and their row locks released now, not
         * at the client's ROLLBACK [TO], so a deadlock's victim frees
         * the others at once. */
        if (x->coord.active && x->coord.has_primary) {
            struct tl_error e;
            tl_error_clear(&e);
            if (x->n_savepoints > 0 &&
                txn_coord_rollback_to(
                    &x->coord, x->savepoint_seqs[x->n_savepoints - 1], &e) == 0)
                break;
            txn_hook_rollback(x);
            x->writes_lost = true;
        }
        break;
    case TXN_FAILED:
        break;
    default:
        /* An implicit block's statements are undone with it. */
        if (x->coord.active)
            txn_hook_rollback(x);
        abort_xact(x);
        break;
    }
}

int
txn_query_commit(struct txn_state *x, struct tl_error *err)
{
    if (x->block != TXN_IMPLICIT || !x->coord.active)
        return 0;
    int rv = txn_hook_commit(x, err);
    if (rv != 0)
        abort_xact(x);
    return rv;
}

/* ------------------------------------------------ transaction statements */

static void
warn_no_transaction(struct tl_error *warn)
{
    tl_error_set(warn, 0, TL_SQLSTATE_NO_ACTIVE_SQL_TRANSACTION,
                 "there is no transaction in progress");
}

static int
only_in_blocks(const char *what, struct tl_error *err)
{
    return tl_error_set(err, TL_ESQL, TL_SQLSTATE_NO_ACTIVE_SQL_TRANSACTION,
                        "%s can only be used in transaction blocks", what);
}

int
txn_begin(struct txn_state *x, struct tl_error *warn, struct tl_error *err)
{
    if (!x->open)
        open_xact(x);
    switch (x->block) {
    case TXN_IDLE:
        x->block = TXN_INPROGRESS;
        return txn_hook_begin(x, err);
    case TXN_IMPLICIT:
        /* An implicit block's statements so far become the block's, with
         * their transaction. */
        x->block = TXN_INPROGRESS;
        return 0;
    case TXN_INPROGRESS:
    case TXN_FAILED:
        tl_error_set(warn, 0, TL_SQLSTATE_ACTIVE_SQL_TRANSACTION,
                     "there is already a transaction in progress");
        return 0;
    }
    return 0;
}

int
txn_commit(struct txn_state *x, bool chain, bool *committed,
           struct tl_error *warn, struct tl_error *err)
{
    *committed = true;
    switch (x->block) {
    case TXN_IDLE:
    case TXN_IMPLICIT:
        if (chain)
            return only_in_blocks("COMMIT AND CHAIN", err);
        warn_no_transaction(warn);
        /* COMMIT in an implicit block commits what it did so far. */
        if (x->coord.active) {
            int rv = txn_hook_commit(x, err);
            if (rv != 0) {
                abort_xact(x);
                return rv;
            }
        }
        close_xact(x);
        return 0;
    case TXN_INPROGRESS: {
        int rv = txn_hook_commit(x, err);
        if (rv != 0) {
            /* The commit failed: the transaction is over all the same. */
            txn_hook_rollback(x);
            abort_xact(x);
            return rv;
        }
        break;
    }
    case TXN_FAILED:
        *committed = false;
        txn_hook_rollback(x);
        break;
    }
    if (chain)
        return chain_xact(x, !*committed, err);
    end_xact(x, !*committed);
    return 0;
}

int
txn_rollback(struct txn_state *x, bool chain, struct tl_error *warn,
             struct tl_error *err)
{
    switch (x->block) {
    case TXN_IDLE:
    case TXN_IMPLICIT:
        if (chain)
            return only_in_blocks("ROLLBACK AND CHAIN", err);
        warn_no_transaction(warn);
        if (x->coord.active)
            txn_hook_rollback(x);
        abort_xact(x);
        return 0;
    case TXN_INPROGRESS:
    case TXN_FAILED:
        txn_hook_rollback(x);
        break;
    }
    if (chain)
        return chain_xact(x, true, err);
    abort_xact(x);
    return 0;
}

int
txn_prepare(struct txn_state *x, const char *gid, bool *prepared,
            struct tl_error *warn, struct tl_error *err)
{
    (void)gid;
    *prepared = false;
    switch (x->block) {
    case TXN_IDLE:
    case TXN_IMPLICIT:
        warn_no_transaction(warn);
        if (x->coord.active) {
            int rv = txn_hook_commit(x, err);
            if (rv != 0) {
                abort_xact(x);
                return rv;
            }
        }
        close_xact(x);
        return 0;
    case TXN_FAILED:
        txn_hook_rollback(x);
        abort_xact(x);
        return 0;
    case TXN_INPROGRESS:
        break;
    }
    /* PostgreSQL's MarkAsPreparing() with max_prepared_transactions = 0;
     * the transaction is rolled back and the session is idle after. */
    txn_hook_rollback(x);
    abort_xact(x);
    tl_error_set(err, TL_EUNSUPPORTED,
                 TL_SQLSTATE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                 "prepared transactions are disabled");
    tl_error_hint(err, "Set max_prepared_transactions to a nonzero value.");
    return TL_EUNSUPPORTED;
}

int
txn_savepoint(struct txn_state *x, const char *name, struct tl_error *err)
{
    if (x->block != TXN_INPROGRESS) {
        /* A failed block never gets here (25P02 first). */
        assert(x->block != TXN_FAILED);
        return only_in_blocks("SAVEPOINT", err);
    }
    if (x->n_savepoints == x->cap_savepoints) {
        size_t cap = x->cap_savepoints > 0 ? 2 * x->cap_savepoints : 8;
        char **v = realloc(x->savepoints, cap * sizeof(*v));
        if (v != NULL)
            x->savepoints = v;
        uint32_t *q = realloc(x->savepoint_seqs, cap * sizeof(*q));
        if (q != NULL)
            x->savepoint_seqs = q;
        if (v == NULL || q == NULL)
            return tl_error_set(err, TL_ENOMEM, TL_SQLSTATE_OUT_OF_MEMORY,
                                "out of memory");
        x->cap_savepoints = cap;
    }
    char *copy = strdup(name);
    if (copy == NULL)
        return tl_error_set(err, TL_ENOMEM, TL_SQLSTATE_OUT_OF_MEMORY,
                            "out of memory");
    x->savepoint_seqs[x->n_savepoints] = x->coord.seq;
    x->savepoints[x->n_savepoints++] = copy;
    x->coord.savepoint_seq = x->coord.seq;
    return 0;
}

/* The newest savepoint called @name: 0 with *@level its index, or 3B001. */
static int
find_savepoint(const struct txn_state *x, const char *name, size_t *level,
               struct tl_error *err)
{
    for (size_t i = x->n_savepoints; i-- > 0;)
        if (strcmp(x->savepoints[i], name) == 0) {
            *level = i;
            return 0;
        }
    return tl_error_set(err, TL_ENOTFOUND,
                        TL_SQLSTATE_INVALID_SAVEPOINT_SPECIFICATION,
                        "savepoint \"%s\" does not exist", name);
}

int
txn_release(struct txn_state *x, const char *name, struct tl_error *err)
{
    if (x->block != TXN_INPROGRESS) {
        assert(x->block != TXN_FAILED);
        return only_in_blocks("RELEASE SAVEPOINT", err);
    }
    size_t level = 0;
    int rv = find_savepoint(x, name, &level, err);
    if (rv != 0)
        return rv;
    drop_savepoints(x, level);
    return 0;
}

int
txn_rollback_to(struct txn_state *x, const char *name, struct tl_error *err)
{
    if (x->block != TXN_INPROGRESS && x->block != TXN_FAILED)
        return only_in_blocks("ROLLBACK TO SAVEPOINT", err);
    size_t level = 0;
    int rv = find_savepoint(x, name, &level, err);
    if (rv != 0)
        return rv;
    rv = txn_hook_rollback_to_savepoint(x, level, err);
    if (rv != 0)
        return rv;
    drop_savepoints(x, level + 1);
    x->block = TXN_INPROGRESS;
    return 0;
}

/* ---------------------------------------------------- characteristics */

static const char *const iso_names[] = {
    [TXN_READ_UNCOMMITTED] = "read uncommitted",
    [TXN_READ_COMMITTED] = "read committed",
    [TXN_REPEATABLE_READ] = "repeatable read",
    [TXN_SERIALIZABLE] = "serializable",
};

const char *
txn_isolation_name(enum txn_isolation iso)
{
    return iso_names[iso];
}

int
txn_isolation_parse(const char *name, enum txn_isolation *out)
{
    for (size_t i = 0; i < sizeof(iso_names) / sizeof(iso_names[0]); i++)
        if (strcasecmp(name, iso_names[i]) == 0) {
            *out = (enum txn_isolation)i;
            return 0;
        }
    return TL_EINVAL;
}

int
txn_check_isolation(enum txn_isolation iso, struct tl_error *err)
{
    if (iso != TXN_SERIALIZABLE)
        return 0;
    tl_error_set(err, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                 "SERIALIZABLE isolation is not supported");
    tl_error_hint(err, "Use REPEATABLE READ, which Talus runs as snapshot "
                       "isolation.");
    return TL_EUNSUPPORTED;
}

/* Whether the open transaction is a subtransaction (IsSubTransaction()). */
static bool
in_savepoint(const struct txn_state *x)
{
    return x->n_savepoints > 0;
}

int
txn_set_isolation(struct txn_state *x, enum txn_isolation iso,
                  struct tl_error *err)
{
    if (iso != x->cur.isolation && x->open) {
        if (x->snapshot_taken)
            return tl_error_set(err, TL_ESQL,
                                TL_SQLSTATE_ACTIVE_SQL_TRANSACTION,
                                "SET TRANSACTION ISOLATION LEVEL must be "
                                "called before any query");
        if (in_savepoint(x))
            return tl_error_set(err, TL_ESQL,
                                TL_SQLSTATE_ACTIVE_SQL_TRANSACTION,
                                "SET TRANSACTION ISOLATION LEVEL must not be "
                                "called in a subtransaction");
    }
    int rv = txn_check_isolation(iso, err);
    if (rv != 0)
        return rv;
    x->cur.isolation = iso;
    return 0;
}

int
txn_set_read_only(struct txn_state *x, bool read_only, struct tl_error *err)
{
    if (!read_only && x->cur.read_only && x->open) {
        if (in_savepoint(x))
            return tl_error_set(err, TL_ESQL,
                                TL_SQLSTATE_ACTIVE_SQL_TRANSACTION,
                                "cannot set transaction read-write mode "
                                "inside a read-only transaction");
        if (x->snapshot_taken)
            return tl_error_set(err, TL_ESQL,
                                TL_SQLSTATE_ACTIVE_SQL_TRANSACTION,
                                "transaction read-write mode must be set "
                                "before any query");
    }
    x->cur.read_only = read_only;
    return 0;
}

int
txn_set_deferrable(struct txn_state *x, bool deferrable, struct tl_error *err)
{
    if (in_savepoint(x))
        return tl_error_set(err, TL_ESQL, TL_SQLSTATE_ACTIVE_SQL_TRANSACTION,
                            "SET TRANSACTION [NOT] DEFERRABLE cannot be "
                            "called within a subtransaction");
    if (x->snapshot_taken)
        return tl_error_set(err, TL_ESQL, TL_SQLSTATE_ACTIVE_SQL_TRANSACTION,
                            "SET TRANSACTION [NOT] DEFERRABLE must be called "
                            "before any query");
    x->cur.deferrable = deferrable;
    return 0;
}

int
txn_check_writable(const struct txn_state *x, const char *what,
                   struct tl_error *err)
{
    if (!x->cur.read_only)
        return 0;
    return tl_error_set(err, TL_ESQL, TL_SQLSTATE_READ_ONLY_SQL_TRANSACTION,
                        "cannot execute %s in a read-only transaction", what);
}

/* ------------------------------------------------------ storage hooks */

/* The storage side (coord.h): a block's first statement that reads or
 * writes starts the distributed transaction; COMMIT commits it, ROLLBACK
 * (and a failed block's end) rolls it back. */

void
txn_set_router(struct txn_state *x, struct router *r)
{
    txn_coord_init(&x->coord, r);
}

int
txn_statement_coord(struct txn_state *x, int64_t deadline_ms,
                    struct txn_coord **out, struct tl_error *err)
{
    int rv;

    *out = NULL;
    if ((x->block != TXN_INPROGRESS && x->block != TXN_IMPLICIT) ||
        x->coord.r == NULL)
        return 0;
    rv = txn_coord_statement(&x->coord,
                             x->cur.isolation != TXN_REPEATABLE_READ &&
                                 x->cur.isolation != TXN_SERIALIZABLE,
                             deadline_ms, err);
    if (rv == 0)
        *out = &x->coord;
    return rv;
}

int
txn_hook_begin(struct txn_state *x, struct tl_error *err)
{
    (void)err;
    /* The snapshot is taken by the block's first statement, as in
     * PostgreSQL; a transaction left over (it cannot be) ends here. */
    if (x->coord.active)
        txn_coord_rollback(&x->coord);
    return 0;
}

int
txn_hook_commit(struct txn_state *x, struct tl_error *err)
{
    if (x->coord.r == NULL)
        return 0;
    return txn_coord_commit(&x->coord, err);
}

int
txn_hook_rollback(struct txn_state *x)
{
    if (x->coord.r != NULL)
        txn_coord_rollback(&x->coord);
    return 0;
}

int
txn_hook_rollback_to_savepoint(struct txn_state *x, size_t level,
                               struct tl_error *err)
{
    /* The writes were all undone when the block failed with no
     * savepoint to go back to (or going back failed): refused, the
     * block stays failed (ROLLBACK ends it). */
    if (x->writes_lost)
        return tl_error_set(err, TL_EUNSUPPORTED,
                            TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                            "cannot roll back to a savepoint: the "
                            "transaction's writes were already rolled back");
    if (!x->coord.active || !x->coord.has_primary)
        return 0;
    int rv = txn_coord_rollback_to(&x->coord, x->savepoint_seqs[level], err);
    if (rv != 0) {
        /* What each shard kept is unknown: the whole transaction goes. */
        txn_hook_rollback(x);
        x->writes_lost = true;
    }
    return rv;
}
