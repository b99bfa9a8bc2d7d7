/* sql_int — the statement being run and the SQL layer's functions over it
 * (sql.c, sql_guard.c, ddl.c, ddl_seq.c, default.c, seqfunc.c, bind.c), used
 * by router/plan, router/exec and router/session.
 *
 * A statement is executed with one struct sql_stmt: it carries the
 * session, the per-statement arena (every binding and planning allocation,
 * released when the statement ends) and the error report. Functions that
 * fail fill st->err and return a negative TL_E* code; the caller of the
 * statement sends the report. Parse trees are libpg_query's protobuf form
 * and stay borrowed from the parse result for the statement's life. */
#ifndef TL_SQL_INT_H
#define TL_SQL_INT_H

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "expr.h"
#include "router/sql/dest.h"
#include "router/sql/sql.h"
#include "sequence.h"
#include "table.h"
#include "tl_error.h"

/* Deepest expression the binder accepts: deeper trees would risk the
 * stacks of the recursive evaluators in routers and nodes. */
#define SQL_MAX_DEPTH 512
/* Refuse a statement whose write batches would pass this many bytes. */
#define SQL_MAX_BATCH_BYTES (64u << 20)

struct sql_setting {
    char *name;  /* lowercase, owned */
    char *value; /* owned */
};

/* The value nextval() or setval() last gave a sequence in this session:
 * what currval() answers. Keyed by the sequence's id, so a sequence
 * dropped and created again is not yet defined. */
struct sql_seqval {
    uint32_t id;
    int64_t value;
};

/* A prepared statement as pg_prepared_statements and
 * talus.prepared_statements show it. */
struct sql_prepared_info {
    const char *name;
    const char *statement;
    int64_t prepare_time_us;    /* a timestamptz */
    const uint8_t *param_types; /* n_params, enum tl_type */
    size_t n_params;
    bool from_sql;         /* PREPARE, not a Parse message */
    int64_t generic_plans; /* runs through the generic plan */
    int64_t custom_plans;  /* runs bound and planned for themselves */
    int64_t plans_built;   /* generic plans made (again after DDL) */
    uint64_t plan_version; /* the generic plan's catalog version, 0: none */
};

/* The session's named prepared statements into *@out (in @a, borrowing
 * the session's strings for the statement's life); returns how many. */
typedef size_t (*sql_prepared_list_fn)(void *arg, struct tl_arena *a,
                                       struct sql_prepared_info **out);

struct txn_state; /* router/txn/txn.h */

/* The settings when a savepoint was defined (ROLLBACK TO puts them
 * back). */
struct sql_settings_copy {
    struct sql_setting *settings; /* owned, n_settings */
    size_t n_settings;
    struct sql_setting *local; /* owned, n_local: SET LOCAL values */
    size_t n_local;
};

struct sql_session {
    struct router *r;
    /* The transaction-block state (owned): BEGIN, COMMIT, savepoints,
     * the transaction's characteristics (xact.c). */
    struct txn_state *txn;
    struct sql_seqval *seqvals; /* owned array, n_seqvals */
    size_t n_seqvals;
    bool has_lastval; /* lastval(): the last nextval() of the session */
    int64_t lastval;
    struct sql_setting *settings; /* owned array */
    size_t n_settings;
    /* SET LOCAL values of the open transaction block (owned array),
     * read before settings and forgotten when the transaction ends. */
    struct sql_setting *local_settings;
    size_t n_local_settings;
    /* The settings as the open transaction found them, taken before its
     * first change: a rollback puts them back (PostgreSQL's GUC stack). */
    struct sql_setting *saved_settings;
    size_t n_saved_settings;
    bool has_saved_settings;
    /* One copy per savepoint of the block, oldest first (owned). */
    struct sql_settings_copy *sp_settings;
    size_t n_sp_settings;
    struct tl_arena arena; /* per statement; reset after each */
    atomic_bool *cancel;   /* set by a CancelRequest (borrowed), or NULL */
    /* Who the session is (sql_session_set_identity()). */
    char user[64];
    char database[64];
    char application_name[64]; /* as the StartupMessage said */
    uint32_t backend_pid;
    bool superuser;
    /* The router's connection limits, for SHOW max_connections (0:
     * unknown; the defaults are shown). */
    int max_connections;
    int reserved_connections;
    /* The session's prepared statements, for pg_prepared_statements
     * (NULL: none to show): set by the traffic cop. */
    sql_prepared_list_fn prepared_list;
    void *prepared_arg;
};

/* The $n parameters of a statement (extended query protocol). While a
 * statement is only described, values is NULL and every $n binds as a
 * NULL of its type; the binder then writes into types the type each $n
 * of unknown type is coerced to (PostgreSQL's parameter type inference).
 * A value of unknown type is text, bound as a quoted literal would be. */
struct sql_params {
    size_t n;
    uint8_t *types;                /* n: enum tl_type, TL_TYPE_UNKNOWN */
    const struct tl_value *values; /* n, or NULL (describing) */
    bool *used; /* n, or NULL: set for each $n the statement refers to */
    /* A generic plan (exec/plancache.h): every $n binds as a parameter
     * node (a TL_EXPR_EXT of the $n's type, never folded) recorded in
     * nodes (st->a); types must all be known. fixed is set when binding
     * needed a value now (a $n evaluated, or now(), nextval(), ... bound
     * into a constant): such a plan holds for one run only. */
    bool generic;
    bool fixed;
    struct sql_param_node *nodes;
    size_t n_nodes, cap_nodes;
};

/* A $n left in a generic plan: node e stands for parameter index
 * (0-based) until a run gives it its value. */
struct sql_param_node {
    struct tl_expr *e;
    uint32_t index;
};

/* A $n of unknown type bound into a constant: if the binder converts that
 * constant to a type, the parameter takes that type. */
struct sql_param_ref {
    const struct tl_expr *e;
    uint32_t index; /* 0-based */
};

struct txn_coord;

struct sql_stmt {
    struct sql_session *s;
    struct router *r;
    struct dest *dest; /* where results go (borrowed) */
    struct tl_arena *a;
    const char *query;   /* the whole query text (error positions) */
    int64_t deadline_ms; /* statement_timeout (router_now_ms clock), 0: none */
    struct tl_error err;
    int depth; /* binder recursion depth */
    /* The catalog version the statement plans with: the oldest cache
     * version a table it looked up was copied from (0: none yet). Its
     * requests carry it, so a node that has seen a newer catalog refuses
     * them as stale. */
    uint64_t catalog_version;
    /* The $n of the statement (NULL: none may appear, 42P02). */
    struct sql_params *params;
    struct sql_param_ref *param_refs; /* in a, n_param_refs of them */
    size_t n_param_refs, cap_param_refs;
    /* Describe only: bind (inferring the types of the $n), report the
     * result's columns to the destination, run nothing. */
    bool describe_only;
    /* sql_check_interrupts() stopped the statement (st->err holds 57014):
     * gather_run() then starts nothing and resends nothing. */
    bool interrupted;
    /* Bind without side effects (a DEFAULT checked at CREATE TABLE):
     * nextval() and setval() check their sequence and bind as a NULL
     * bigint, as they do while a statement is only described. */
    bool dry_run;
    /* When the Query message that holds the statement began to run, in
     * microseconds since 2000-01-01 UTC (a timestamptz): now(),
     * CURRENT_TIMESTAMP and statement_timestamp(). 0 until set (unit
     * tests): the functions then read the clock. */
    int64_t start_us;
    /* The transaction the statement runs in (router/txn/coord.h), or NULL
     * outside one: every shard request carries its TxnInfo. */
    struct txn_coord *txn;
    /* st->txn is the statement's own transaction (gather_txn_begin()):
     * outside a block, a statement whose writes reach several shards,
     * or take several rounds, commits them atomically at its end. */
    bool txn_implicit;
    /* Outside a transaction, a read of several shards reads them all at
     * one snapshot timestamp from the oracle (taken at its first such
     * scan, 0 until then): no reader sees half of a transaction. */
    uint64_t snapshot_ts;
    /* A statement that scans more than once (a query the router runs
     * over several tables or subqueries): every scan reads at the
     * snapshot, even of one shard. */
    bool snapshot_always;
    /* lock_timeout (ms, 0: none): how long a request waits for a row
     * lock before 55P03 "canceling statement due to lock timeout". */
    int64_t lock_timeout_ms;
};

/* ---------------------------------------------------------------- sql.c */

/** Fill st->err and return @rv (like tl_error_set). */
int sql_error(struct sql_stmt *st, int rv, const char *sqlstate,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/** Set the position of st->err from a 0-based byte @location in the
 * query (ignored when negative). Returns @rv. */
int sql_error_at(struct sql_stmt *st, int rv, int location);
/** Where expression @n starts in the query text (0-based) when it is a
 * literal, a cast, a column reference or an operator; -1 otherwise. */
int bind_node_location(const PgQuery__Node *n);
/** Whether the statement must stop now, as PostgreSQL's
 * CHECK_FOR_INTERRUPTS(): 0, or 57014 "canceling statement due to user
 * request" after a CancelRequest, or 57014 "canceling statement due to
 * statement timeout" once statement_timeout passed (TL_ETIMEOUT, st->err
 * filled). Called at every wait and between pages. */
int sql_check_interrupts(struct sql_stmt *st);
/** Whether a CancelRequest named this statement's session. */
bool sql_cancel_requested(const struct sql_stmt *st);
/** 0A000 "<what> is not supported yet". */
int sql_unsupported(struct sql_stmt *st, const char *what);
/** Send a NOTICE with @sqlstate and a printf-style message to the
 * statement's destination. */
void sql_notice(struct sql_stmt *st, const char *sqlstate, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Forget every setting of @s (RESET ALL, DISCARD ALL, session end). */
void sql_settings_free(struct sql_session *s);
/** The leading keywords of the statement text @text (@len bytes), for
 * "X is not supported yet": "CREATE INDEX", "ALTER TABLE", "TRUNCATE"; in
 * st->a. */
const char *sql_leading_keywords(struct sql_stmt *st, const char *text,
                                 int len);
/** VACUUM and ANALYZE: the tables named must exist (42P01); nothing else
 * to do (RocksDB compacts; no planner statistics yet). */
int sql_exec_vacuum(struct sql_stmt *st, const PgQuery__VacuumStmt *vs);
/** DISCARD ALL: forget the session's settings. */
int sql_exec_discard(struct sql_stmt *st);
/** The string of a String node, or NULL. */
const char *sql_node_str(const PgQuery__Node *n);
/** Look up table @rv (schema must be absent or "public") into *@out (a
 * copy in the statement arena); 42P01 "relation "x" does not exist". */
int sql_lookup_table(struct sql_stmt *st, const PgQuery__RangeVar *rv,
                     struct tl_table **out);

/* --------------------------------------------------------------- xact.c */

/** BEGIN / START TRANSACTION [modes], COMMIT / END [AND [NO] CHAIN],
 * ROLLBACK / ABORT [AND [NO] CHAIN], SAVEPOINT, RELEASE, ROLLBACK TO,
 * PREPARE TRANSACTION (55000: none can be prepared), COMMIT / ROLLBACK
 * PREPARED (42704: none exists) on the session's transaction, with
 * PostgreSQL's warnings, errors and command tags. */
int sql_exec_transaction(struct sql_stmt *st,
                         const PgQuery__TransactionStmt *ts);
/** SET TRANSACTION modes (a 25P01 warning outside a block) and SET
 * SESSION CHARACTERISTICS AS TRANSACTION modes. */
int sql_xact_set(struct sql_stmt *st, const PgQuery__VariableSetStmt *vs);
/** The checks before statement @raw runs in the session's transaction:
 * 25P02 in a failed block (but for COMMIT, ROLLBACK, ROLLBACK TO and
 * PREPARE TRANSACTION), 25006 for a write in a read-only transaction,
 * 25001 "X cannot run inside a transaction block" for DDL, VACUUM and
 * DISCARD ALL in an explicit block. 0 when it may run. */
int sql_xact_check_stmt(struct sql_stmt *st, const PgQuery__RawStmt *raw);
/** 25P02 "current transaction is aborted, ..." into st->err. */
int sql_xact_aborted_error(struct sql_stmt *st);
/** 25001 "@what cannot run inside a transaction block" when a block
 * (explicit or implicit) is open, else 0 (PreventInTransactionBlock()). */
int sql_xact_prevent_in_block(struct sql_stmt *st, const char *what);
/** 25006 "cannot execute @what in a read-only transaction" when the
 * transaction is read-only, else 0. */
int sql_xact_check_writable(struct sql_stmt *st, const char *what);
/** Whether @raw may run in a failed block (IsTransactionExitStmt()). */
bool sql_xact_is_exit(const PgQuery__RawStmt *raw);
/** Whether @raw is a transaction statement (BEGIN, COMMIT, ...): its
 * transaction ends with it (the extended protocol's is_xact_command). */
bool sql_xact_is_control(const PgQuery__RawStmt *raw);
/** Whether running @raw takes a snapshot (fixing the isolation level):
 * every statement but transaction statements, SET, SHOW, LOCK and
 * DEALLOCATE. */
bool sql_xact_takes_snapshot(const PgQuery__RawStmt *raw);
/** The value of the transaction parameter @name (transaction_isolation,
 * transaction_read_only, transaction_deferrable and their default_
 * forms) as SHOW prints it, or NULL for other names. */
const char *sql_xact_guc_value(const struct sql_session *s, const char *name);
/** SET @name = @value for a transaction parameter: 0 when set, 1 when
 * @name is not one (nothing done), or a negative code with st->err
 * (22023 for a bad value, 25001 too late in the transaction, 0A000 for
 * SERIALIZABLE). */
int sql_xact_guc_set(struct sql_stmt *st, const char *name, const char *value);
/** RESET @name (NULL: RESET ALL) of the default_transaction_*
 * parameters. Cannot fail. */
void sql_xact_guc_reset(struct sql_session *s, const char *name);

/* ---------------------------------------------------------- sql_guard.c */

/* Operator chains longer than this, or brackets nested deeper, are
 * refused before parsing (libpg_query and protobuf-c recurse over the
 * tree: a deep tree overflows a connection thread's stack). */
#define SQL_MAX_CHAIN (2 * SQL_MAX_DEPTH)
#define SQL_MAX_NESTING 256

/** Whether the query text @q (@len bytes) is safe to hand to libpg_query:
 * no stretch of it chains more than @max operators (a chain parses into a
 * tree as deep as it is long) and brackets/CASE nest at most @max_nest
 * deep. Cannot fail. */
bool sql_guard_depth_ok(const char *q, size_t len, size_t max, size_t max_nest);

/** Whether the query text @q (@len bytes) is valid UTF-8 as PostgreSQL's
 * pg_verify_mbstr() judges it (no NUL, no overlong form, no surrogate,
 * nothing above U+10FFFF). When not, @bad (@bad_size bytes, 40 suffice)
 * gets the offending bytes as report_invalid_encoding() prints them
 * ("0xc3 0x28"), for 22021 "invalid byte sequence for encoding "UTF8":
 * ...". Cannot fail. */
bool sql_guard_utf8_ok(const char *q, size_t len, char *bad, size_t bad_size);
/** The length a UTF-8 sequence starting with byte @c claims (1 for a byte
 * no sequence starts with): PostgreSQL's pg_utf_mblen(). */
size_t sql_guard_utf8_char_len(unsigned char c);
/** How many bytes of @q (@len bytes) are valid UTF-8 without NUL, up to
 * the first invalid or incomplete character (pg_utf8_verifystr()). Cannot
 * fail. */
size_t sql_guard_utf8_prefix(const char *q, size_t len);
/** The bytes of the invalid character at @q (@len >= 1 bytes left) into
 * @bad as report_invalid_encoding() prints them ("0xc3 0x28"). Cannot
 * fail. */
void sql_guard_utf8_describe(const char *q, size_t len, char *bad,
                             size_t bad_size);

/* ---------------------------------------------------------------- guc.c */

/* A run-time parameter Talus knows. */
struct sql_guc {
    const char *name;  /* canonical spelling */
    const char *value; /* PostgreSQL's default */
    bool report;       /* sent as ParameterStatus when set */
    const char *description;
};

/** The parameter @name (any case), or NULL. Cannot fail. */
const struct sql_guc *sql_guc_find(const char *name);
/** The @i-th known parameter in name order, NULL past the last. */
const struct sql_guc *sql_guc_at(size_t i);
/** Whether @g cannot be SET (server_version, max_connections, ...). */
bool sql_guc_readonly(const struct sql_guc *g);
/** The session's own value of @name, or NULL. */
struct sql_setting *sql_guc_setting(struct sql_session *s, const char *name);
/** Forget the session's value of @name (RESET), SET LOCAL's too. Cannot
 * fail. */
void sql_guc_remove(struct sql_session *s, const char *name);
/** SET LOCAL: keep @value as @name's until the transaction ends
 * (sql_guc_local_clear()); 53200 when out of memory. */
int sql_guc_store_local(struct sql_stmt *st, const char *name,
                        const char *value);
/** Forget every SET LOCAL value. Cannot fail. */
void sql_guc_local_clear(struct sql_session *s);
/** Before the first change of the settings in the open transaction: keep
 * them as they are, for a rollback. Nothing to do outside a transaction
 * or once kept. Cannot fail. */
void sql_guc_save_for_rollback(struct sql_session *s);
/** SAVEPOINT: keep a copy of the settings for ROLLBACK TO. Cannot
 * fail. */
void sql_guc_savepoint_push(struct sql_session *s);
/** Forget the copies of the savepoints past the first @keep (RELEASE).
 * Cannot fail. */
void sql_guc_savepoint_truncate(struct sql_session *s, size_t keep);
/* Told the new @value of reported parameter @name (ParameterStatus). */
typedef void (*sql_guc_report_fn)(void *arg, const char *name,
                                  const char *value);
/** ROLLBACK TO the savepoint at @level (0-based): its copy of the
 * settings becomes the settings (the copy is kept; later ones are
 * forgotten); each reported parameter that changed goes to @report.
 * Cannot fail. */
void sql_guc_savepoint_restore(struct sql_stmt *st, size_t level,
                               sql_guc_report_fn report, void *arg);
/** The transaction ended (@rolled_back or committed): SET LOCAL values
 * and savepoint copies are forgotten, and the settings it changed are
 * kept or put back; each reported parameter whose value changed goes to
 * @report (NULL: none is told), computed in @a. Cannot fail. */
void sql_guc_xact_end(struct sql_session *s, struct tl_arena *a,
                      bool rolled_back, sql_guc_report_fn report, void *arg);
/** Keep @value as the session's value of @name (copied). 53200 when out
 * of memory. */
int sql_guc_store(struct sql_stmt *st, const char *name, const char *value);
/* Time travel (docs/transactions.md "Time travel"): while the session
 * sets this parameter to a timestamptz, its statements read the data as
 * committed at that time and writes are refused (25006). */
#define SQL_GUC_AS_OF "talus.as_of"
/** Check @value for talus.as_of: '' (the present, *@ts 0) or a finite
 * timestamptz not in the future (*@ts: the oracle timestamp that sees
 * what was committed by then). 22023 with a detail otherwise. */
int sql_guc_as_of_check(struct sql_stmt *st, const char *value, uint64_t *ts);
/** The oracle timestamp the statement reads at under talus.as_of, 0 when
 * it is not set (a value set through set_config() that is not a valid
 * time counts as unset). Cannot fail. */
uint64_t sql_stmt_as_of(struct sql_stmt *st);
/** What SHOW @name answers: the session's value, else the server's
 * (connection limits, identity) or the default; NULL for an unknown
 * parameter. May be in st->a. */
const char *sql_guc_value(struct sql_stmt *st, const char *name);

/* ---------------------------------------------------------------- ddl.c */

/** Build the table described by @cs in st->a (id 0; the catalog assigns
 * it). Errors as PostgreSQL / 0A000 for what Talus lacks. */
int ddl_build_table(struct sql_stmt *st, const PgQuery__CreateStmt *cs,
                    struct tl_table **out);
/** Append column @cd (ALTER TABLE ADD COLUMN) to @t, whose columns
 * array must have room for one more (in st->a): type, NOT NULL and
 * DEFAULT as CREATE TABLE reads them; 0A000 for a PRIMARY KEY, serial or
 * identity column; 42701 when the name is taken. */
int ddl_add_column(struct sql_stmt *st, struct tl_table *t,
                   const PgQuery__ColumnDef *cd);
/** Give column @col of @t the DEFAULT @expr (checked as CREATE TABLE
 * checks it), or none when @expr is NULL. */
int ddl_set_default(struct sql_stmt *st, struct tl_table *t, uint32_t col,
                    const PgQuery__Node *expr);
/** CREATE TABLE [IF NOT EXISTS]: store the table, send the tag (and the
 * 42P07 notice when it exists and IF NOT EXISTS was given). */
int ddl_exec_create(struct sql_stmt *st, const PgQuery__CreateStmt *cs);
/** DROP TABLE [IF EXISTS] a, b: all names are checked before any drop;
 * the sequences each table owns (serial, identity) are dropped with it. */
int ddl_exec_drop(struct sql_stmt *st, const PgQuery__DropStmt *ds);

/* ------------------------------------------------------------ ddl_seq.c */

/** CREATE SEQUENCE [IF NOT EXISTS] s [AS type] [INCREMENT n] [MINVALUE n
 * | NO MINVALUE] [MAXVALUE n | NO MAXVALUE] [START n] [CACHE n] [[NO]
 * CYCLE]: options checked as PostgreSQL's init_params() (22023, 42601
 * for an option given twice), 42P07 when a table or sequence has the
 * name. */
int ddl_exec_create_sequence(struct sql_stmt *st,
                             const PgQuery__CreateSeqStmt *cs);
/** DROP SEQUENCE [IF EXISTS] a, b: 42P01 "sequence "s" does not exist";
 * 2BP01 for a sequence a column owns (serial, identity). */
int ddl_exec_drop_sequence(struct sql_stmt *st, const PgQuery__DropStmt *ds);
/** CREATE ROLE / USER name [WITH] [LOGIN | NOLOGIN] [PASSWORD 'x' | NULL]
 * [SUPERUSER | NOSUPERUSER] [CONNECTION LIMIT n] (ddl_role.c): 42710
 * "role "x" already exists", 42939 for a "pg_" name, 42501 unless the
 * session is a superuser, 0A000 naming any other option. */
int ddl_exec_create_role(struct sql_stmt *st,
                         const PgQuery__CreateRoleStmt *cs);
/** ALTER ROLE name [WITH] options: 42704 "role "x" does not exist";
 * 42501 for a non-superuser, but for its own password. */
int ddl_exec_alter_role(struct sql_stmt *st, const PgQuery__AlterRoleStmt *as);
/** DROP ROLE [IF EXISTS] a, b: 42704 (or a NOTICE with IF EXISTS), 55006
 * "current user cannot be dropped", 42501 for a non-superuser. */
int ddl_exec_drop_role(struct sql_stmt *st, const PgQuery__DropRoleStmt *ds);
/** Fill @seq (name, owner and id left alone) from the sequence options
 * @opts (DefElems, as CREATE SEQUENCE and GENERATED ... AS IDENTITY (...)
 * give them), for values of @type (0: bigint, or AS type). Errors as
 * ddl_exec_create_sequence(). */
int ddl_sequence_options(struct sql_stmt *st, PgQuery__Node **opts,
                         size_t n_opts, uint8_t type, bool for_identity,
                         struct tl_sequence *seq);
/** Create the sequences a table's serial and identity columns own
 * (@seqs, @n of them, owner_column set; owner_table is set to @table_id
 * here). On failure those already created are dropped again. */
int ddl_create_owned(struct sql_stmt *st, struct tl_sequence *seqs, size_t n,
                     uint32_t table_id);
/** Whether a relation (table or sequence) named @name exists. */
bool ddl_relation_exists(struct sql_stmt *st, const char *name);
/** PostgreSQL's ChooseRelationName(): "<name1>_<name2>_<label>" into
 * @out (TL_NAME_MAX), the longer part shortened first to fit 63 bytes,
 * with 1, 2, ... after the label while the name is taken by any
 * relation. Cannot fail. */
void ddl_choose_name(struct sql_stmt *st, const char *name1, const char *name2,
                     const char *label, char *out);

/* ------------------------------------------------------------ default.c */

/** The SQL text of expression @n as libpg_query's deparser writes it, in
 * st->a. 0A000 when it cannot be deparsed. */
int default_deparse(struct sql_stmt *st, const PgQuery__Node *n, char **out);
/** Parse the stored default @text back into an expression, in st->a (it
 * lives as long as the arena). TL_ECORRUPT (XX001) when it does not
 * parse. */
int default_parse(struct sql_stmt *st, const char *text,
                  const PgQuery__Node **out);
/** Bind default @n (no column may appear: 0A000 "cannot use column
 * reference in DEFAULT expression") and make it a value for column @col
 * of @t into *@out. Functions run now: nextval() takes a value, unless
 * st->dry_run. 42804 "column "c" is of type x but default expression is
 * of type y"; a literal the type rejects is reported at @location (-1:
 * none). */
int default_eval(struct sql_stmt *st, const struct tl_table *t, uint32_t col,
                 const PgQuery__Node *n, int location, struct tl_value *out);
/** The parsed defaults of every column of @t (NULL where none) in st->a,
 * indexed by column. */
int default_parse_table(struct sql_stmt *st, const struct tl_table *t,
                        const PgQuery__Node ***out);

/* ------------------------------------------------------------ seqfunc.c */

/** Bind nextval(), currval(), setval(), lastval() and
 * pg_get_serial_sequence() into a constant:
 * the call runs now (once per call bound: each VALUES row and each
 * default binds its own). Returns 1 when @f is none of them (nothing
 * done), 0 with *@out, or an error: 42P01 "relation "s" does not exist",
 * 55000 "currval of sequence "s" is not yet defined in this session",
 * 2200H, 22003 (sequences.h). */
int seqfunc_bind_call(struct sql_stmt *st, const PgQuery__FuncCall *f,
                      struct tl_expr **out);
/** Whether @f calls nextval() or setval(): functions with an effect,
 * refused where they would run once for many rows. */
bool seqfunc_has_effect(const PgQuery__FuncCall *f);
/** Forget the session's currval() and lastval() (DISCARD). */
void seqfunc_reset(struct sql_session *s);

/* ---------------------------------------------------------------- func.c */

/** The wall clock as a timestamptz: microseconds since 2000-01-01 UTC.
 * Cannot fail. */
int64_t func_now_us(void);
/** Bind a call of one of the functions the router answers once per
 * statement (version(), now(), current_database(), pg_backend_pid(), ...)
 * into a constant in st->a. Returns 1 when @f names none of them (nothing
 * is bound, st->err untouched), 0 when *@out holds the value, or a
 * negative TL_E* code with st->err filled (42883 for a wrong number of
 * arguments, as PostgreSQL reports it). */
int func_bind_call(struct sql_stmt *st, const PgQuery__FuncCall *f,
                   struct tl_expr **out);
/** Bind an SQL value function (CURRENT_TIMESTAMP[(p)], LOCALTIMESTAMP,
 * CURRENT_DATE, CURRENT_USER, SESSION_USER, USER, CURRENT_ROLE,
 * CURRENT_CATALOG, CURRENT_SCHEMA) into a constant in st->a; 0A000 for
 * CURRENT_TIME and LOCALTIME (Talus has no time type). */
int func_bind_sqlvalue(struct sql_stmt *st, const PgQuery__SQLValueFunction *f,
                       struct tl_expr **out);
/** PostgreSQL's column name of the SQL value function @f
 * ("current_timestamp", "current_user", ...). Cannot fail. */
const char *func_sqlvalue_name(const PgQuery__SQLValueFunction *f);

/* ---------------------------------------------------------------- bind.c */

/* One table of a FROM clause with several (a join). */
struct bind_rel {
    const struct tl_table *table;
    const char *alias; /* the name it is known by */
    bool aliased;      /* FROM t AS alias */
    uint32_t offset;   /* its first column in the combined row */
    bool visible;      /* may be referenced here (ON sees only its join) */
};

/* A column a join makes visible by its name alone: a table's column, or
 * the merged column of JOIN ... USING. */
struct bind_colref {
    const char *name;
    struct tl_expr *expr; /* over the combined row */
    bool hidden;          /* a generated rowid: not in SELECT * */
};

/* The columns one FROM item (a table or a whole join tree) shows, in
 * order: what `SELECT *` lists and unqualified names are looked up in. */
struct bind_ns {
    struct bind_colref *cols;
    size_t n;
};

struct bind_scope {
    const struct tl_table *table; /* NULL: no FROM clause (or rels) */
    const char *alias;            /* name the table is known by */
    const char *clause;           /* "WHERE", ... for error messages */
    /* A join: columns are found in these tables (borrowed), and bound to
     * rel->offset + column. Unqualified names must be unique (42702). */
    const struct bind_rel *rels;
    size_t n_rels;
    /* With rels: the FROM items whose columns unqualified names find. */
    const struct bind_ns *ns;
    size_t n_ns;
    /* GROUP BY binding (NULL otherwise): an aggregate call is bound by
     * agg_cb instead of refused, and every column reference bound is
     * reported to col_cb with its location (for 42803 positions). */
    int (*agg_cb)(struct sql_stmt *st, void *arg, const PgQuery__FuncCall *f,
                  struct tl_expr **out);
    void (*col_cb)(void *arg, const struct tl_expr *e, int location);
    void *cb_arg;
    /* Non-NULL: no column may appear (a DEFAULT); a column reference is
     * refused with 0A000 and this message. */
    const char *no_columns;
    /* A statement the router runs itself (sql/query.c), NULL otherwise:
     * subqueries, references to enclosing queries, catalog functions and
     * casts, arrays and aggregates of any kind bind through it. */
    const struct bind_local *local;
};

struct query;
struct query_ctx;

/* What a router-side query's scope adds (sql/query.c). */
struct bind_local {
    struct query_ctx *ctx;
    struct query *q;                /* the query being bound */
    const struct bind_scope *outer; /* the enclosing query's, or NULL */
    bool aggs_ok;                   /* aggregates allowed here */
    /* Binding a window function's arguments, PARTITION BY or ORDER BY
     * (window calls cannot nest there). */
    bool in_window;
    /* Binding an aggregate over a window: the scope of the query the
     * window belongs to, where aggregates in its arguments belong
     * (sum(sum(x)) OVER ()). */
    const struct bind_local *win_outer;
    /* The query's WINDOW clause (WindowDef nodes). */
    PgQuery__Node **window_defs;
    size_t n_window_defs;
};

/** Bind the SQL expression @n over @sc into a tl_expr tree in st->a.
 * Constant subtrees are folded (so `'x'::int` fails here with 22P02, as
 * PostgreSQL's planner does). */
int bind_expr(struct sql_stmt *st, const struct bind_scope *sc,
              const PgQuery__Node *n, struct tl_expr **out);
/** The table @qual names in the join scope @sc (sc->rels) into *@out;
 * PostgreSQL's 42P01 errors (missing, aliased, or out of scope) else. */
int bind_find_rel(struct sql_stmt *st, const struct bind_scope *sc,
                  const char *qual, int location, const struct bind_rel **out);
/** bind_expr() then require a boolean (42804 "argument of WHERE must be
 * type boolean, not type x"). */
int bind_predicate(struct sql_stmt *st, const struct bind_scope *sc,
                   const PgQuery__Node *n, struct tl_expr **out);
/** LIMIT or OFFSET @n (may be NULL: none) as PostgreSQL reads it: a
 * bigint constant ($n included), NULL meaning none (*@has false); @state
 * "@what must not be negative" for a negative one. */
int sql_bind_limit(struct sql_stmt *st, const PgQuery__Node *n,
                   const char *what, const char *state, bool *has,
                   uint64_t *out);
/** Whether values of @type can be sorted (@ordering: ORDER BY) or grouped
 * (GROUP BY) by the key @n: 0, or json's 42883 "could not identify an
 * ordering (equality) operator for type json", or 0A000 for jsonb (Talus
 * has no order of jsonb values, and groups by bytes), pointing at @n. */
int sql_check_sort_type(struct sql_stmt *st, uint8_t type, bool ordering,
                        const PgQuery__Node *n);
/** The direction of ORDER BY item @sb into *@desc and *@nulls_first
 * (PostgreSQL's defaults); 0A000 for USING. */
int sql_bind_sort_order(struct sql_stmt *st, const PgQuery__SortBy *sb,
                        bool *desc, bool *nulls_first);
/** Bind and evaluate a constant expression (no column references). */
int bind_const(struct sql_stmt *st, const PgQuery__Node *n,
               struct tl_value *out);
/** Make @e assignable to a column of @type/@typmod: unknown literals are
 * cast now, other families mismatching give 42804 "column "c" is of type
 * x but expression is of type y". @location for the error position. */
int bind_assign(struct sql_stmt *st, struct tl_expr **e, const char *colname,
                uint8_t type, int32_t typmod, int location);
/** bind_assign() for a DEFAULT: @what names the expression in the 42804
 * message ("default expression"). */
int bind_assign_what(struct sql_stmt *st, struct tl_expr **e,
                     const char *colname, uint8_t type, int32_t typmod,
                     int location, const char *what);
/** Convert @e to @type now if it is a constant of unknown type (a quoted
 * literal, or a $n whose type is then inferred); other expressions are
 * left alone. Errors as the type's input function. */
int bind_coerce_unknown(struct sql_stmt *st, struct tl_expr **e, uint8_t type,
                        int32_t typmod, int location);
/** Parse a TypeName into a Talus type and typmod (varchar(n), char(n),
 * numeric(p[,s])); 0A000 'type "x" is not supported', 22023 for a bad
 * numeric precision or scale. */
int bind_type_name(struct sql_stmt *st, const PgQuery__TypeName *tn,
                   uint8_t *type, int32_t *typmod);
/** True when @n is a call of an aggregate function Talus knows. */
bool bind_is_aggregate(const PgQuery__Node *n);
/** PostgreSQL's display name of @type with @typmod, as format_type()
 * ("character varying(5)", "numeric(10,2)"), in st->a. */
const char *bind_type_display(struct sql_stmt *st, uint8_t type,
                              int32_t typmod);

/* ------------------------------------------------------------ query.c */

/** PostgreSQL's name for an unnamed result column (FigureColname):
 * the column's or function's name, "case", "coalesce", "exists", ...,
 * else "?column?". Cannot fail. */
const char *sql_figure_colname(const PgQuery__Node *n);

/** A subquery in an expression (EXISTS, scalar, IN / op ANY / op ALL,
 * ARRAY) of a router-side query. */
int query_bind_sublink(struct sql_stmt *st, const struct bind_scope *sc,
                       const PgQuery__SubLink *sl, struct tl_expr **out);
/** A column reference @n that scope @sc lacks (bind failed with @rv):
 * look it up in the enclosing queries; on success a TL_EXPR_EXT node
 * reading that query's current row, else @rv with st->err as it was. */
int query_bind_outer(struct sql_stmt *st, const struct bind_scope *sc,
                     const PgQuery__Node *n, int rv, struct tl_expr **out);
/** x op ANY/ALL (array value). */
int query_bind_any(struct sql_stmt *st, const struct bind_scope *sc,
                   const PgQuery__AExpr *e, struct tl_expr **out);
/** ARRAY[a, b, ...]. */
int query_bind_array(struct sql_stmt *st, const struct bind_scope *sc,
                     const PgQuery__AArrayExpr *e, struct tl_expr **out);
/** x[i]. */
int query_bind_subscript(struct sql_stmt *st, const struct bind_scope *sc,
                         const PgQuery__AIndirection *e, struct tl_expr **out);
/** A call a router-side query evaluates over several rows: an aggregate
 * (count, sum, min, max, avg, string_agg, array_agg, bool_and, bool_or),
 * a window function (row_number, rank, dense_rank) or a set-returning
 * function in the SELECT list (unnest, generate_series,
 * generate_subscripts, _pg_expandarray): 1 when @f names none. */
int query_bind_call(struct sql_stmt *st, const struct bind_scope *sc,
                    const PgQuery__FuncCall *f, struct tl_expr **out);
/** GROUPING(a, b, ...): an integer whose bit i (from the right, for the
 * last argument first) is set when argument i is not grouped in the
 * current row's grouping set; the arguments must be GROUP BY keys. */
int query_bind_grouping(struct sql_stmt *st, const struct bind_scope *sc,
                        const PgQuery__GroupingFunc *g, struct tl_expr **out);

/* ------------------------------------------------------------ pgcat.c */

/** A call of a catalog function (format_type, pg_get_userbyid,
 * pg_table_is_visible, array_to_string, ...) in a router-side query into
 * a TL_EXPR_EXT node: 1 when @f names none of them (nothing bound). */
int pgcat_bind_func(struct sql_stmt *st, const struct bind_scope *sc,
                    const PgQuery__FuncCall *f, struct tl_expr **out);
/** x::regclass, ::regtype, ::oid, ::name, ::"char", arrays, ...: 1 when
 * @tn is none of the catalog types (*@x untouched), else 0 with *@x the
 * converted expression, or an error. */
int pgcat_bind_cast(struct sql_stmt *st, const struct bind_scope *sc,
                    const PgQuery__TypeName *tn, struct tl_expr **x,
                    int location);

/** Give the destination a one-text-column result named @name with @rows
 * and command tag @tag. */
void sql_send_text_rows(struct sql_stmt *st, const char *name,
                        const char **rows, size_t n, const char *tag);

#endif
