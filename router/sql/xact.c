/* xact — the SQL of transactions: BEGIN, COMMIT, ROLLBACK, SAVEPOINT,
 * RELEASE, ROLLBACK TO, PREPARE TRANSACTION and COMMIT/ROLLBACK PREPARED,
 * SET TRANSACTION and SET SESSION CHARACTERISTICS, the transaction_* and
 * default_transaction_* parameters, and the checks a statement passes
 * before it runs in the session's transaction (25P02 in a failed block,
 * 25006 in a read-only transaction, 25001 for what cannot run inside a
 * block). The state machine itself is router/txn/txn.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base/sqlstate.h"
#include "router/sql/sql_int.h"
#include "router/txn/txn.h"

/* Send the warning @w (if any) to the client before the statement's
 * result, as PostgreSQL's ereport(WARNING) does. */
static void
send_warning(struct sql_stmt *st, const struct tl_error *w)
{
    if (tl_error_is_set(w))
        dest_notice(st->dest, w, true);
}

/* The report of a txn function that failed with @rv into st->err. */
static int
txn_failed_with(struct sql_stmt *st, int rv, const struct tl_error *e)
{
    st->err = *e;
    return rv;
}

static void
report_param(void *arg, const char *name, const char *value)
{
    dest_param_status(arg, name, value);
}

/* COMMIT / ROLLBACK AND CHAIN ended a transaction and began the next at
 * once: settings end with the first (the session's traffic cop sees the
 * end of the others). */
static void
end_chained(struct sql_stmt *st)
{
    sql_guc_xact_end(st->s, st->a, st->s->txn->rolled_back, report_param,
                     st->dest);
}

/* The value of option or SET TRANSACTION item @de: the isolation level's
 * name, or the boolean of READ ONLY / DEFERRABLE. */
static const char *
defelem_str(const PgQuery__DefElem *de)
{
    const PgQuery__Node *a = de->arg;
    if (a == NULL || a->node_case != PG_QUERY__NODE__NODE_A_CONST)
        return NULL;
    if (a->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL)
        return a->a_const->sval->sval;
    return NULL;
}

static bool
defelem_bool(const PgQuery__DefElem *de)
{
    const PgQuery__Node *a = de->arg;
    if (a == NULL || a->node_case != PG_QUERY__NODE__NODE_A_CONST)
        return false;
    if (a->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL)
        return a->a_const->ival->ival != 0;
    if (a->a_const->val_case == PG_QUERY__A__CONST__VAL_BOOLVAL)
        return a->a_const->boolval->boolval;
    return false;
}

/* Apply the transaction modes @opts (BEGIN's, SET TRANSACTION's) to the
 * open transaction, or (@session) to the session's defaults. */
static int
apply_modes(struct sql_stmt *st, PgQuery__Node **opts, size_t n, bool session)
{
    struct txn_state *x = st->s->txn;
    struct tl_error e;
    for (size_t i = 0; i < n; i++) {
        if (opts[i]->node_case != PG_QUERY__NODE__NODE_DEF_ELEM)
            continue;
        const PgQuery__DefElem *de = opts[i]->def_elem;
        int rv = 0;
        if (strcmp(de->defname, "transaction_isolation") == 0) {
            enum txn_isolation iso;
            const char *name = defelem_str(de);
            if (name == NULL || txn_isolation_parse(name, &iso) != 0)
                return sql_error(st, TL_EINVAL,
                                 TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                                 "invalid transaction isolation level");
            if (session) {
                rv = txn_check_isolation(iso, &e);
                if (rv == 0)
                    x->dflt.isolation = iso;
            } else {
                rv = txn_set_isolation(x, iso, &e);
            }
        } else if (strcmp(de->defname, "transaction_read_only") == 0) {
            if (session)
                x->dflt.read_only = defelem_bool(de);
            else
                rv = txn_set_read_only(x, defelem_bool(de), &e);
        } else if (strcmp(de->defname, "transaction_deferrable") == 0) {
            if (session)
                x->dflt.deferrable = defelem_bool(de);
            else
                rv = txn_set_deferrable(x, defelem_bool(de), &e);
        } else {
            return sql_error(st, TL_EINVAL, TL_SQLSTATE_SYNTAX_ERROR,
                             "unrecognized transaction mode \"%s\"",
                             de->defname);
        }
        if (rv != 0)
            return txn_failed_with(st, rv, &e);
    }
    return 0;
}

int
sql_exec_transaction(struct sql_stmt *st, const PgQuery__TransactionStmt *ts)
{
    struct txn_state *x = st->s->txn;
    struct tl_error w, e;
    tl_error_clear(&w);
    tl_error_clear(&e);
    const char *tag = NULL;
    int rv = 0;
    bool ok = true;
    switch (ts->kind) {
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_BEGIN:
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_START:
        rv = txn_begin(x, &w, &e);
        send_warning(st, &w);
        tl_error_clear(&w);
        if (rv != 0)
            return txn_failed_with(st, rv, &e);
        /* As PostgreSQL: the block is open before its modes are set, so
         * a refused mode leaves a failed block. */
        rv = apply_modes(st, ts->options, ts->n_options, false);
        if (rv != 0)
            return rv;
        tag = ts->kind == PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_BEGIN
                  ? "BEGIN"
                  : "START TRANSACTION";
        break;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT:
        rv = txn_commit(x, ts->chain, &ok, &w, &e);
        if (rv == 0 && ts->chain)
            end_chained(st);
        tag = ok ? "COMMIT" : "ROLLBACK";
        break;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK:
        rv = txn_rollback(x, ts->chain, &w, &e);
        if (rv == 0 && ts->chain)
            end_chained(st);
        tag = "ROLLBACK";
        break;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_SAVEPOINT:
        rv = txn_savepoint(x, ts->savepoint_name, &e);
        if (rv == 0)
            sql_guc_savepoint_push(st->s);
        tag = "SAVEPOINT";
        break;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_RELEASE:
        rv = txn_release(x, ts->savepoint_name, &e);
        if (rv == 0)
            sql_guc_savepoint_truncate(st->s, x->n_savepoints);
        tag = "RELEASE";
        break;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_TO:
        rv = txn_rollback_to(x, ts->savepoint_name, &e);
        if (rv == 0)
            sql_guc_savepoint_restore(st, x->n_savepoints - 1, report_param,
                                      st->dest);
        tag = "ROLLBACK";
        break;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_PREPARE:
        rv = txn_prepare(x, ts->gid, &ok, &w, &e);
        tag = ok ? "PREPARE TRANSACTION" : "ROLLBACK";
        break;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT_PREPARED:
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_PREPARED: {
        bool commit =
            ts->kind ==
            PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT_PREPARED;
        rv = sql_xact_prevent_in_block(st, commit ? "COMMIT PREPARED"
                                                  : "ROLLBACK PREPARED");
        if (rv != 0)
            return rv;
        /* No transaction is ever prepared (max_prepared_transactions is
         * 0): none has this identifier. */
        return sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_OBJECT,
                         "prepared transaction with identifier \"%s\" does "
                         "not exist",
                         ts->gid);
    }
    default:
        return sql_unsupported(st, "this transaction statement");
    }
    send_warning(st, &w);
    if (rv != 0)
        return txn_failed_with(st, rv, &e);
    dest_complete(st->dest, tag);
    return 0;
}

int
sql_xact_set(struct sql_stmt *st, const PgQuery__VariableSetStmt *vs)
{
    struct txn_state *x = st->s->txn;
    if (strcmp(vs->name, "TRANSACTION") == 0) {
        if (!txn_in_block(x)) {
            struct tl_error w;
            tl_error_set(&w, 0, TL_SQLSTATE_NO_ACTIVE_SQL_TRANSACTION,
                         "SET TRANSACTION can only be used in transaction "
                         "blocks");
            dest_notice(st->dest, &w, true);
        }
        return apply_modes(st, vs->args, vs->n_args, false);
    }
    if (strcmp(vs->name, "SESSION CHARACTERISTICS") == 0)
        return apply_modes(st, vs->args, vs->n_args, true);
    return sql_unsupported(st, "SET TRANSACTION SNAPSHOT");
}

int
sql_xact_prevent_in_block(struct sql_stmt *st, const char *what)
{
    if (!txn_in_block(st->s->txn))
        return 0;
    return sql_error(st, TL_ESQL, TL_SQLSTATE_ACTIVE_SQL_TRANSACTION,
                     "%s cannot run inside a transaction block", what);
}

int
sql_xact_check_writable(struct sql_stmt *st, const char *what)
{
    struct tl_error e;
    int rv = txn_check_writable(st->s->txn, what, &e);
    if (rv == 0 && sql_stmt_as_of(st) != 0) {
        /* Reading the past: nothing may be written at the present. */
        rv = tl_error_set(&e, TL_ESQL, TL_SQLSTATE_READ_ONLY_SQL_TRANSACTION,
                          "cannot execute %s while %s is set", what,
                          SQL_GUC_AS_OF);
        tl_error_hint(&e, "RESET %s to write.", SQL_GUC_AS_OF);
    }
    return rv != 0 ? txn_failed_with(st, rv, &e) : 0;
}

/* ------------------------------------------------------------ parameters */

static const char *const xact_gucs[] = {
    "transaction_isolation",         "transaction_read_only",
    "transaction_deferrable",        "default_transaction_isolation",
    "default_transaction_read_only", "default_transaction_deferrable",
};

/* The index of @name in xact_gucs, or -1. */
static int
find_xact_guc(const char *name)
{
    for (size_t i = 0; i < sizeof(xact_gucs) / sizeof(xact_gucs[0]); i++)
        if (strcasecmp(name, xact_gucs[i]) == 0)
            return (int)i;
    return -1;
}

const char *
sql_xact_guc_value(const struct sql_session *s, const char *name)
{
    const struct txn_state *x = s->txn;
    switch (find_xact_guc(name)) {
    case 0:
        return txn_isolation_name(x->cur.isolation);
    case 1:
        return x->cur.read_only ? "on" : "off";
    case 2:
        return x->cur.deferrable ? "on" : "off";
    case 3:
        return txn_isolation_name(x->dflt.isolation);
    case 4:
        return x->dflt.read_only ? "on" : "off";
    case 5:
        return x->dflt.deferrable ? "on" : "off";
    default:
        return NULL;
    }
}

/* @value as a GUC boolean (PostgreSQL's parse_bool()): 22023 "parameter
 * \"x\" requires a Boolean value". */
static int
guc_bool(struct sql_stmt *st, const char *name, const char *value, bool *out)
{
    struct tl_value v;
    struct tl_error e;
    if (tl_value_from_text(TL_TYPE_BOOL, -1, value, strlen(value), st->a, &v,
                           &e) != 0 ||
        v.is_null)
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                         "parameter \"%s\" requires a Boolean value", name);
    *out = v.u.b;
    return 0;
}

int
sql_xact_guc_set(struct sql_stmt *st, const char *name, const char *value)
{
    struct txn_state *x = st->s->txn;
    int i = find_xact_guc(name);
    if (i < 0)
        return 1;
    struct tl_error e;
    int rv = 0;
    bool b = false;
    if (i == 0 || i == 3) {
        enum txn_isolation iso;
        if (txn_isolation_parse(value, &iso) != 0) {
            sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                      "invalid value for parameter \"%s\": \"%s\"",
                      xact_gucs[i], value);
            tl_error_hint(&st->err, "Available values: serializable, "
                                    "repeatable read, read committed, read "
                                    "uncommitted.");
            return TL_EINVAL;
        }
        if (i == 0) {
            rv = txn_set_isolation(x, iso, &e);
        } else {
            rv = txn_check_isolation(iso, &e);
            if (rv == 0)
                x->dflt.isolation = iso;
        }
        return rv != 0 ? txn_failed_with(st, rv, &e) : 0;
    }
    rv = guc_bool(st, xact_gucs[i], value, &b);
    if (rv != 0)
        return rv;
    switch (i) {
    case 1:
        rv = txn_set_read_only(x, b, &e);
        break;
    case 2:
        rv = txn_set_deferrable(x, b, &e);
        break;
    case 4:
        x->dflt.read_only = b;
        break;
    default:
        x->dflt.deferrable = b;
        break;
    }
    return rv != 0 ? txn_failed_with(st, rv, &e) : 0;
}

void
sql_xact_guc_reset(struct sql_session *s, const char *name)
{
    struct txn_state *x = s->txn;
    int i = name != NULL ? find_xact_guc(name) : -1;
    if (name == NULL || i == 3)
        x->dflt.isolation = TXN_READ_COMMITTED;
    if (name == NULL || i == 4)
        x->dflt.read_only = false;
    if (name == NULL || i == 5)
        x->dflt.deferrable = false;
}

/* ----------------------------------------------------- statement checks */

/* The name PostgreSQL's CreateCommandName() gives the utility statement
 * @n, for "cannot execute X in a read-only transaction" and "X cannot run
 * inside a transaction block"; NULL for statements that change nothing. */
static const char *
utility_name(struct sql_stmt *st, const PgQuery__RawStmt *raw)
{
    const PgQuery__Node *n = raw->stmt;
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_TRANSACTION_STMT:
    case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT:
    case PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT:
    case PG_QUERY__NODE__NODE_PREPARE_STMT:
    case PG_QUERY__NODE__NODE_EXECUTE_STMT:
    case PG_QUERY__NODE__NODE_DEALLOCATE_STMT:
    case PG_QUERY__NODE__NODE_VACUUM_STMT:
        return NULL;
    case PG_QUERY__NODE__NODE_CREATE_STMT:
        return "CREATE TABLE";
    case PG_QUERY__NODE__NODE_CREATE_SEQ_STMT:
        return "CREATE SEQUENCE";
    case PG_QUERY__NODE__NODE_ALTER_SEQ_STMT:
        return "ALTER SEQUENCE";
    case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
        return "CREATE TABLE AS";
    case PG_QUERY__NODE__NODE_TRUNCATE_STMT:
        return "TRUNCATE TABLE";
    case PG_QUERY__NODE__NODE_INDEX_STMT:
        return "CREATE INDEX";
    case PG_QUERY__NODE__NODE_VIEW_STMT:
        return "CREATE VIEW";
    case PG_QUERY__NODE__NODE_CREATE_SCHEMA_STMT:
        return "CREATE SCHEMA";
    case PG_QUERY__NODE__NODE_DROP_STMT:
        switch (n->drop_stmt->remove_type) {
        case PG_QUERY__OBJECT_TYPE__OBJECT_TABLE:
            return "DROP TABLE";
        case PG_QUERY__OBJECT_TYPE__OBJECT_SEQUENCE:
            return "DROP SEQUENCE";
        case PG_QUERY__OBJECT_TYPE__OBJECT_INDEX:
            return "DROP INDEX";
        case PG_QUERY__OBJECT_TYPE__OBJECT_VIEW:
            return "DROP VIEW";
        case PG_QUERY__OBJECT_TYPE__OBJECT_SCHEMA:
            return "DROP SCHEMA";
        default:
            break;
        }
        break;
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
        return n->alter_table_stmt->objtype ==
                       PG_QUERY__OBJECT_TYPE__OBJECT_SEQUENCE
                   ? "ALTER SEQUENCE"
                   : "ALTER TABLE";
    case PG_QUERY__NODE__NODE_RENAME_STMT:
        return n->rename_stmt->rename_type ==
                       PG_QUERY__OBJECT_TYPE__OBJECT_SEQUENCE
                   ? "ALTER SEQUENCE"
                   : "ALTER TABLE";
    default:
        break;
    }
    /* Any other CREATE, ALTER or DROP: its leading keywords. */
    int len = raw->stmt_len > 0 ? raw->stmt_len
                                : (int)strlen(st->query + raw->stmt_location);
    const char *kw =
        sql_leading_keywords(st, st->query + raw->stmt_location, len);
    if (strncmp(kw, "CREATE", 6) == 0 || strncmp(kw, "ALTER", 5) == 0 ||
        strncmp(kw, "DROP", 4) == 0)
        return kw;
    return NULL;
}

/* The kind of write @n is, for 25006: "INSERT", "UPDATE", "DELETE",
 * "SELECT FOR UPDATE", ...; NULL for a read. */
static const char *
dml_name(const PgQuery__Node *n)
{
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_INSERT_STMT:
        return "INSERT";
    case PG_QUERY__NODE__NODE_UPDATE_STMT:
        return "UPDATE";
    case PG_QUERY__NODE__NODE_DELETE_STMT:
        return "DELETE";
    case PG_QUERY__NODE__NODE_COPY_STMT:
        return n->copy_stmt->is_from ? "COPY FROM" : NULL;
    case PG_QUERY__NODE__NODE_SELECT_STMT: {
        const PgQuery__SelectStmt *s = n->select_stmt;
        if (s->into_clause != NULL)
            return "SELECT INTO";
        for (size_t i = 0; i < s->n_locking_clause; i++) {
            const PgQuery__Node *l = s->locking_clause[i];
            if (l->node_case != PG_QUERY__NODE__NODE_LOCKING_CLAUSE)
                continue;
            switch (l->locking_clause->strength) {
            case PG_QUERY__LOCK_CLAUSE_STRENGTH__LCS_FORKEYSHARE:
                return "SELECT FOR KEY SHARE";
            case PG_QUERY__LOCK_CLAUSE_STRENGTH__LCS_FORSHARE:
                return "SELECT FOR SHARE";
            case PG_QUERY__LOCK_CLAUSE_STRENGTH__LCS_FORNOKEYUPDATE:
                return "SELECT FOR NO KEY UPDATE";
            default:
                return "SELECT FOR UPDATE";
            }
        }
        return NULL;
    }
    default:
        return NULL;
    }
}

bool
sql_xact_is_exit(const PgQuery__RawStmt *raw)
{
    if (raw == NULL || raw->stmt == NULL ||
        raw->stmt->node_case != PG_QUERY__NODE__NODE_TRANSACTION_STMT)
        return false;
    switch (raw->stmt->transaction_stmt->kind) {
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT:
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK:
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_TO:
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_PREPARE:
        return true;
    default:
        return false;
    }
}

bool
sql_xact_is_control(const PgQuery__RawStmt *raw)
{
    return raw != NULL && raw->stmt != NULL &&
           raw->stmt->node_case == PG_QUERY__NODE__NODE_TRANSACTION_STMT;
}

bool
sql_xact_takes_snapshot(const PgQuery__RawStmt *raw)
{
    if (raw == NULL || raw->stmt == NULL)
        return false;
    switch (raw->stmt->node_case) {
    case PG_QUERY__NODE__NODE_TRANSACTION_STMT:
    case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT:
    case PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT:
    case PG_QUERY__NODE__NODE_LOCK_STMT:
    case PG_QUERY__NODE__NODE_DEALLOCATE_STMT:
        return false;
    default:
        return true;
    }
}

int
sql_xact_aborted_error(struct sql_stmt *st)
{
    return sql_error(st, TL_ESQL, TL_SQLSTATE_IN_FAILED_SQL_TRANSACTION,
                     "current transaction is aborted, commands ignored until "
                     "end of transaction block");
}

int
sql_xact_check_stmt(struct sql_stmt *st, const PgQuery__RawStmt *raw)
{
    struct txn_state *x = st->s->txn;
    if (raw == NULL || raw->stmt == NULL)
        return 0;
    if (txn_failed(x) && !sql_xact_is_exit(raw))
        return sql_xact_aborted_error(st);
    const PgQuery__Node *n = raw->stmt;
    if (n->node_case == PG_QUERY__NODE__NODE_VACUUM_STMT &&
        n->vacuum_stmt->is_vacuumcmd)
        return sql_xact_prevent_in_block(st, "VACUUM");
    if (n->node_case == PG_QUERY__NODE__NODE_DISCARD_STMT)
        return sql_xact_prevent_in_block(st, "DISCARD ALL");
    const char *dml = dml_name(n);
    if (dml != NULL)
        return sql_xact_check_writable(st, dml);
    if (n->node_case == PG_QUERY__NODE__NODE_EXPLAIN_STMT ||
        n->node_case == PG_QUERY__NODE__NODE_SELECT_STMT ||
        n->node_case == PG_QUERY__NODE__NODE_COPY_STMT)
        return 0;
    const char *ddl = utility_name(st, raw);
    if (ddl == NULL)
        return 0;
    /* PostgreSQL runs DDL inside a block; Talus changes its catalog
     * outside any transaction, so it refuses DDL there rather than let
     * a ROLLBACK leave it in place. */
    int rv = sql_xact_check_writable(st, ddl);
    if (rv != 0)
        return rv;
    /* TRUNCATE deletes the rows in the transaction (dml.c). */
    if (x->block == TXN_INPROGRESS &&
        n->node_case != PG_QUERY__NODE__NODE_TRUNCATE_STMT)
        return sql_xact_prevent_in_block(st, ddl);
    return 0;
}
