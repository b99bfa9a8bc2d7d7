/* tcop — run Query messages and the extended query protocol. */
#include "router/session/tcop.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "log.h"
#include "router/core/catalog.h"
#include "router/core/router_int.h"
#include "router/core/router_metrics.h"
#include "router/exec/alter.h"
#include "router/exec/dml.h"
#include "router/exec/explain.h"
#include "router/exec/gather.h"
#include "router/exec/index_ddl.h"
#include "router/exec/plancache.h"
#include "router/exec/select.h"
#include "router/session/backends.h"
#include "router/session/client_dest.h"
#include "router/session/copy.h"
#include "router/session/settings.h"
#include "router/sql/sql_int.h"
#include "router/txn/txn.h"
#include "router/wire/pgwire.h"

#define MOD "tcop"
#define TCOP_STALE_RERUNS 3
/* Rows a portal keeps for Execute with a row limit. */
/* The rows a portal keeps in memory; more go to a temporary file. */
#define TCOP_PORTAL_MEM_BYTES ((size_t)8 << 20)

/* A prepared statement (Parse). */
struct prep {
    char *name;   /* "" for the unnamed statement */
    char *query;  /* the text, owned */
    char *source; /* PREPARE: the whole text it came in, owned; else NULL */
    PgQueryProtobufParseResult pr;
    PgQuery__ParseResult *tree; /* at most one statement */
    /* The statement run: tree's, or the query of a PREPARE; NULL for an
     * empty query. */
    const PgQuery__RawStmt *raw;
    PgQuery__RawStmt inner; /* PREPARE: the RawStmt raw points to */
    size_t n_params;
    uint32_t *oids; /* n_params: declared, else as inferred (0: unknown) */
    uint8_t *types; /* n_params: Talus types, TL_TYPE_UNKNOWN if none */
    bool analysed;  /* the types of the $n were inferred */
    /* The result columns, once described at catalog cols_version. */
    bool has_cols;
    bool no_data; /* the statement returns no rows */
    uint64_t cols_version;
    struct dest_column *cols; /* n_cols, names owned */
    size_t n_cols;
    /* The generic plan (exec/plancache.h), NULL until the first run
     * makes one; none_version: the catalog version at which the statement
     * was found to have none (0: not tried), so that it is not tried
     * again until the catalog changes. */
    struct cached_plan *plan;
    uint64_t none_version;
    /* pg_prepared_statements: when it was prepared, whether by PREPARE,
     * and how many runs used the generic plan and how many were bound
     * and planned afresh (custom plans); plans: generic plans built. */
    int64_t prepare_time_us;
    bool from_sql;
    int64_t generic_runs, custom_runs, plans;
    int refs; /* the registry and each portal on it */
    struct prep *next;
};

/* A portal (Bind). */
struct portal {
    char *name; /* "" for the unnamed portal */
    struct prep *stmt;
    struct tl_arena arena;   /* parameter values */
    struct tl_value *values; /* stmt->n_params */
    int16_t *formats;        /* result formats as Bind gave them */
    size_t n_formats;
    bool started;         /* run: its rows are in rows, or it completed */
    bool done;            /* every row sent and CommandComplete too */
    struct rowstore rows; /* DataRow messages not sent yet (row limit) */
    char tag[64];         /* the command tag once run */
    struct portal *next;
};

struct tcop {
    struct router *r;
    struct pgw_conn *c;
    struct sql_session *sql;
    atomic_bool *cancel;
    struct prep *preps;
    struct portal *portals;
};

/* pg_prepared_statements: the named statements of the session. */
static size_t
list_prepared(void *arg, struct tl_arena *a, struct sql_prepared_info **out)
{
    struct tcop *t = arg;
    size_t n = 0;
    for (const struct prep *p = t->preps; p != NULL; p = p->next)
        n += p->name[0] != '\0';
    struct sql_prepared_info *v = tl_arena_calloc(a, (n + 1) * sizeof(*v));
    size_t i = 0;
    for (const struct prep *p = t->preps; p != NULL; p = p->next) {
        if (p->name[0] == '\0')
            continue;
        v[i].name = p->name;
        /* As PostgreSQL: the text of the message the statement came in. */
        v[i].statement = p->source != NULL ? p->source : p->query;
        v[i].prepare_time_us = p->prepare_time_us;
        v[i].param_types = p->types;
        v[i].n_params = p->n_params;
        v[i].from_sql = p->from_sql;
        v[i].generic_plans = p->generic_runs;
        v[i].custom_plans = p->custom_runs;
        v[i].plans_built = p->plans;
        v[i].plan_version = p->plan != NULL ? plancache_version(p->plan) : 0;
        i++;
    }
    *out = v;
    return n;
}

struct tcop *
tcop_create(struct router *r, struct pgw_conn *c, atomic_bool *cancel)
{
    struct tcop *t = calloc(1, sizeof(*t));
    if (t == NULL)
        abort(); /* the header promises this cannot fail */
    t->r = r;
    t->c = c;
    t->cancel = cancel;
    t->sql = sql_session_create(r);
    struct sql_identity id = {.user = c->user,
                              .database = c->database,
                              .application_name = c->application_name,
                              .backend_pid = c->backend_pid,
                              .superuser = c->superuser};
    if (r->backends != NULL) {
        const struct backend_limits *l = backends_limits(r->backends);
        id.max_connections = l->max_connections;
        id.reserved_connections = l->reserved;
    }
    sql_session_set_identity(t->sql, &id);
    sql_session_set_cancel(t->sql, cancel);
    t->sql->prepared_list = list_prepared;
    t->sql->prepared_arg = t;
    return t;
}

static void
prep_release(struct prep *p)
{
    if (p == NULL || --p->refs > 0)
        return;
    plancache_destroy(p->plan);
    if (p->tree != NULL)
        pg_query__parse_result__free_unpacked(p->tree, NULL);
    pg_query_free_protobuf_parse_result(p->pr);
    for (size_t i = 0; i < p->n_cols; i++)
        free((char *)p->cols[i].name);
    free(p->cols);
    free(p->oids);
    free(p->types);
    free(p->query);
    free(p->source);
    free(p->name);
    free(p);
}

static void
portal_free(struct portal *p)
{
    prep_release(p->stmt);
    tl_arena_close(&p->arena);
    rowstore_reset(&p->rows);
    free(p->formats);
    free(p->name);
    free(p);
}

/* Unlink and free the statement (or portal) named @name, if any. */
static void
drop_prep(struct tcop *t, const char *name)
{
    for (struct prep **pp = &t->preps; *pp != NULL; pp = &(*pp)->next)
        if (strcmp((*pp)->name, name) == 0) {
            struct prep *p = *pp;
            *pp = p->next;
            prep_release(p);
            return;
        }
}

static void
drop_portal(struct tcop *t, const char *name)
{
    for (struct portal **pp = &t->portals; *pp != NULL; pp = &(*pp)->next)
        if (strcmp((*pp)->name, name) == 0) {
            struct portal *p = *pp;
            *pp = p->next;
            portal_free(p);
            return;
        }
}

static struct prep *
find_prep(struct tcop *t, const char *name)
{
    for (struct prep *p = t->preps; p != NULL; p = p->next)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

static struct portal *
find_portal(struct tcop *t, const char *name)
{
    for (struct portal *p = t->portals; p != NULL; p = p->next)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

/* 26000 for the statement @name that does not exist (@err), as
 * PostgreSQL words it for the unnamed one and named ones. */
static int
no_statement_error(const char *name, struct tl_error *err)
{
    if (name[0] == '\0')
        return tl_error_set(err, TL_ENOTFOUND,
                            TL_SQLSTATE_INVALID_SQL_STATEMENT_NAME,
                            "unnamed prepared statement does not exist");
    return tl_error_set(err, TL_ENOTFOUND,
                        TL_SQLSTATE_INVALID_SQL_STATEMENT_NAME,
                        "prepared statement \"%s\" does not exist", name);
}

/* 34000 for the portal @name that does not exist. */
static int
no_portal_error(const char *name, struct tl_error *err)
{
    return tl_error_set(err, TL_ENOTFOUND, TL_SQLSTATE_INVALID_CURSOR_NAME,
                        "portal \"%s\" does not exist", name);
}

static void
drop_all_preps(struct tcop *t)
{
    while (t->preps != NULL) {
        struct prep *p = t->preps;
        t->preps = p->next;
        prep_release(p);
    }
}

static void
drop_all_portals(struct tcop *t)
{
    while (t->portals != NULL) {
        struct portal *p = t->portals;
        t->portals = p->next;
        portal_free(p);
    }
}

void
tcop_destroy(struct tcop *t)
{
    if (t == NULL)
        return;
    drop_all_portals(t);
    drop_all_preps(t);
    sql_session_destroy(t->sql);
    free(t);
}

/* ------------------------------------------------------------ statements */

/* Run one parsed statement. */
static int
exec_stmt(struct sql_stmt *st, const PgQuery__RawStmt *raw)
{
    const PgQuery__Node *n = raw->stmt;
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_SELECT_STMT:
        return select_exec(st, n->select_stmt, false);
    case PG_QUERY__NODE__NODE_INSERT_STMT:
        return dml_exec_insert(st, n->insert_stmt, false);
    case PG_QUERY__NODE__NODE_UPDATE_STMT:
        return dml_exec_update(st, n->update_stmt, false);
    case PG_QUERY__NODE__NODE_DELETE_STMT:
        return dml_exec_delete(st, n->delete_stmt, false);
    case PG_QUERY__NODE__NODE_CREATE_STMT:
        return ddl_exec_create(st, n->create_stmt);
    case PG_QUERY__NODE__NODE_DROP_STMT:
        if (n->drop_stmt->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE)
            return ddl_exec_drop(st, n->drop_stmt);
        if (n->drop_stmt->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_SEQUENCE)
            return ddl_exec_drop_sequence(st, n->drop_stmt);
        if (n->drop_stmt->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_INDEX)
            return index_exec_drop(st, n->drop_stmt);
        break;
    case PG_QUERY__NODE__NODE_INDEX_STMT:
        return index_exec_create(st, n->index_stmt);
    case PG_QUERY__NODE__NODE_CREATE_SEQ_STMT:
        return ddl_exec_create_sequence(st, n->create_seq_stmt);
    case PG_QUERY__NODE__NODE_CREATE_ROLE_STMT:
        return ddl_exec_create_role(st, n->create_role_stmt);
    case PG_QUERY__NODE__NODE_ALTER_ROLE_STMT:
        return ddl_exec_alter_role(st, n->alter_role_stmt);
    case PG_QUERY__NODE__NODE_DROP_ROLE_STMT:
        return ddl_exec_drop_role(st, n->drop_role_stmt);
    case PG_QUERY__NODE__NODE_EXPLAIN_STMT:
        return explain_exec(st, n->explain_stmt);
    case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT:
        return settings_exec_set(st, n->variable_set_stmt);
    case PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT:
        return settings_exec_show(st, n->variable_show_stmt);
    case PG_QUERY__NODE__NODE_TRANSACTION_STMT:
        return sql_exec_transaction(st, n->transaction_stmt);
    case PG_QUERY__NODE__NODE_DISCARD_STMT:
        return sql_exec_discard(st);
    case PG_QUERY__NODE__NODE_VACUUM_STMT:
        return sql_exec_vacuum(st, n->vacuum_stmt);
    case PG_QUERY__NODE__NODE_TRUNCATE_STMT:
        return dml_exec_truncate(st, n->truncate_stmt);
    case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
        return sql_unsupported(st, "CREATE TABLE ... AS");
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
        return alter_exec_table(st, n->alter_table_stmt);
    case PG_QUERY__NODE__NODE_RENAME_STMT:
        return alter_exec_rename(st, n->rename_stmt);
    default:
        break;
    }
    int len = raw->stmt_len > 0 ? raw->stmt_len
                                : (int)strlen(st->query + raw->stmt_location);
    return sql_unsupported(
        st, sql_leading_keywords(st, st->query + raw->stmt_location, len));
}

/* Whether @raw only reads: it may run again after a stale catalog. */
static bool
is_read(const PgQuery__RawStmt *raw)
{
    const PgQuery__Node *n = raw->stmt;
    if (n->node_case == PG_QUERY__NODE__NODE_SELECT_STMT)
        return n->select_stmt->into_clause == NULL;
    return n->node_case == PG_QUERY__NODE__NODE_EXPLAIN_STMT;
}

/* The kind @raw is counted under in talus_router_statements_total. */
static enum router_stmt_kind
stmt_kind(const PgQuery__RawStmt *raw)
{
    if (raw == NULL || raw->stmt == NULL)
        return ROUTER_STMT_OTHER;
    switch (raw->stmt->node_case) {
    case PG_QUERY__NODE__NODE_SELECT_STMT:
        return ROUTER_STMT_SELECT;
    case PG_QUERY__NODE__NODE_INSERT_STMT:
        return ROUTER_STMT_INSERT;
    case PG_QUERY__NODE__NODE_UPDATE_STMT:
        return ROUTER_STMT_UPDATE;
    case PG_QUERY__NODE__NODE_DELETE_STMT:
        return ROUTER_STMT_DELETE;
    case PG_QUERY__NODE__NODE_CREATE_STMT:
    case PG_QUERY__NODE__NODE_DROP_STMT:
    case PG_QUERY__NODE__NODE_INDEX_STMT:
    case PG_QUERY__NODE__NODE_CREATE_SEQ_STMT:
    case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
    case PG_QUERY__NODE__NODE_RENAME_STMT:
    case PG_QUERY__NODE__NODE_TRUNCATE_STMT:
        return ROUTER_STMT_DDL;
    default:
        return ROUTER_STMT_OTHER;
    }
}

/* Count statement @raw of session @t, begun at @start_ms
 * (router_now_ms()), as ended now. */
static void
count_stmt(struct tcop *t, const PgQuery__RawStmt *raw, int64_t start_ms)
{
    router_metrics_statement(t->r, stmt_kind(raw),
                             (double)(router_now_ms() - start_ms) / 1000.0);
}

/* Whether describing @raw binds it: the statements that may return rows
 * or take $n. EXPLAIN is described as its one text column; others as
 * returning no rows. */
static bool
is_explain(const PgQuery__RawStmt *raw)
{
    return raw->stmt != NULL &&
           raw->stmt->node_case == PG_QUERY__NODE__NODE_EXPLAIN_STMT;
}

static bool
is_described_by_binding(const PgQuery__RawStmt *raw)
{
    if (raw->stmt == NULL)
        return false;
    switch (raw->stmt->node_case) {
    case PG_QUERY__NODE__NODE_SELECT_STMT:
    case PG_QUERY__NODE__NODE_INSERT_STMT:
    case PG_QUERY__NODE__NODE_UPDATE_STMT:
    case PG_QUERY__NODE__NODE_DELETE_STMT:
    case PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT:
        return true;
    default:
        return false;
    }
}

/* A statement that started a transaction of its own ends it before it
 * reports completion (gather_txn_end()); one that failed on a path that
 * did not is rolled back here. */
static int
end_own_txn(struct sql_stmt *st, int rv)
{
    if (!st->txn_implicit)
        return rv;
    assert(rv != 0);
    return gather_txn_end(st, rv != 0 ? rv : TL_EIO);
}

/* Run @raw into st->dest; a statement refused because another router
 * changed its table (TL_ESTALE, after the catalog reloaded: a table
 * dropped or recreated, or an index created) is bound, planned and run
 * again while no row reached the destination (which holds back the
 * result's columns until the first row): a read, or a write outside a
 * transaction block (its own transaction rolled back first: a refused
 * batch wrote nothing, the others are undone). */
static int
run_stmt(struct sql_stmt *st, const PgQuery__RawStmt *raw)
{
    int rv = 0;
    bool in_block = st->txn != NULL;
    if (raw->stmt == NULL)
        return 0;
    for (int attempt = 0; attempt < TCOP_STALE_RERUNS; attempt++) {
        tl_error_clear(&st->err);
        st->catalog_version = 0;
        st->n_param_refs = st->cap_param_refs = 0;
        st->param_refs = NULL;
        rv = exec_stmt(st, raw);
        if (rv != TL_ESTALE || st->dest->n_rows > 0 ||
            (!is_read(raw) && in_block))
            break;
        if (!is_read(raw))
            gather_txn_end(st, rv);
        tl_arena_reset(st->a);
        tl_debug(MOD, "event=stale_rerun attempt=%d", attempt + 1);
    }
    return end_own_txn(st, rv);
}

/* Whether generic plan @cp returns the columns @p was described with (if
 * it was): their types, as PostgreSQL's RevalidateCachedQuery() checks a
 * plan made again. */
static bool
plan_keeps_cols(const struct prep *p, const struct cached_plan *cp)
{
    if (!p->has_cols)
        return true;
    if (p->no_data || plancache_n_columns(cp) != p->n_cols)
        return false;
    for (size_t i = 0; i < p->n_cols; i++) {
        uint8_t type;
        int32_t typmod;
        plancache_column(cp, i, &type, &typmod);
        if (type != p->cols[i].type || typmod != p->cols[i].typmod)
            return false;
    }
    return true;
}

/* Run prepared statement @p with @values into st->dest through its
 * generic plan, made now if it has none or the catalog changed since it
 * was made (before any output, as PostgreSQL replans a stale
 * CachedPlanSource); a node refusing the plan's catalog version as stale
 * has it made again while no row reached the destination. *@ran false:
 * the statement has no generic plan (nothing was done; the caller binds
 * and plans it for this run). */
static int
run_generic(struct tcop *t, struct prep *p, struct sql_stmt *st,
            const struct tl_value *values, bool *ran)
{
    *ran = false;
    int rv = 0;
    for (int attempt = 0; attempt < TCOP_STALE_RERUNS; attempt++) {
        uint64_t version = catalog_version(t->r->catalog);
        if (p->plan != NULL && plancache_version(p->plan) != version) {
            plancache_destroy(p->plan);
            p->plan = NULL;
        }
        if (p->plan == NULL) {
            if (p->none_version != 0 && p->none_version == version)
                return 0;
            plancache_build(st, p->raw, p->n_params, p->types, &p->plan);
            if (p->plan == NULL) {
                p->none_version = version != 0 ? version : 1;
                return 0;
            }
            p->plans++;
            tl_debug(MOD, "event=generic_plan name=\"%s\" version=%llu",
                     p->name, (unsigned long long)plancache_version(p->plan));
        }
        *ran = true;
        tl_error_clear(&st->err);
        /* A plan made again after DDL whose result changed stays: every
         * run fails alike, as in PostgreSQL, until DEALLOCATE. */
        if (!plan_keeps_cols(p, p->plan))
            return sql_error(st, TL_EUNSUPPORTED,
                             TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                             "cached plan must not change result type");
        rv = plancache_run(st, p->plan, values);
        if (rv != TL_ESTALE || st->dest->n_rows > 0)
            break;
        /* The catalog was reloaded: plan again. */
        tl_arena_reset(st->a);
        plancache_destroy(p->plan);
        p->plan = NULL;
        tl_debug(MOD, "event=stale_replan attempt=%d", attempt + 1);
    }
    return rv;
}

/* Run @p with @params into st->dest: through its generic plan when it
 * has one, else bound and planned for this run (@from_sql: an EXECUTE
 * statement, else an Execute message). */
static int run_tcop_stmt(struct tcop *t, struct sql_stmt *st,
                         const PgQuery__RawStmt *raw, bool extended,
                         bool *gone);

static int
run_prepared(struct tcop *t, struct prep *p, struct sql_stmt *st,
             struct sql_params *params, bool from_sql, bool *gone)
{
    bool ran;
    *gone = false;
    int rv = run_generic(t, p, st, params->values, &ran);
    if (ran) {
        p->generic_runs++;
        return rv;
    }
    p->custom_runs++;
    st->params = params;
    rv = from_sql ? run_stmt(st, p->raw)
                  : run_tcop_stmt(t, st, p->raw, true, gone);
    st->params = NULL;
    return rv;
}

/* A statement of session @t on @dest, for @query. */
static void
stmt_init(struct tcop *t, struct sql_stmt *st, struct dest *dest,
          const char *query, int64_t start_us)
{
    memset(st, 0, sizeof(*st));
    st->s = t->sql;
    st->r = t->r;
    st->dest = dest;
    st->a = &t->sql->arena;
    st->query = query;
    st->start_us = start_us;
    int64_t timeout_ms = settings_statement_timeout_ms(t->sql);
    st->deadline_ms = timeout_ms > 0 ? router_now_ms() + timeout_ms : 0;
    st->lock_timeout_ms = settings_lock_timeout_ms(t->sql);
}

/* The report of statement @st that failed with @rv: st->err, else its
 * destination's, else the code's. */
static void
stmt_report(struct sql_stmt *st, int rv)
{
    if (!tl_error_is_set(&st->err) && tl_error_is_set(&st->dest->err))
        st->err = st->dest->err;
    if (!tl_error_is_set(&st->err))
        tl_error_set(&st->err, rv, tl_errno_sqlstate(rv), "%s",
                     tl_strerror(rv));
}

/* Send the report of a failed statement. */
static int
send_stmt_error(struct tcop *t, struct sql_stmt *st, int rv)
{
    stmt_report(st, rv);
    router_metrics_error(t->r, st->err.sqlstate);
    pgw_send_error(t->c, &st->err);
    return rv;
}

/* Send the report @e of a message that failed; returns TL_EINVAL. */
static int
send_error(struct tcop *t, struct tl_error *e)
{
    router_metrics_error(t->r, e->sqlstate);
    pgw_send_error(t->c, e);
    return TL_EINVAL;
}

/* 25P02 for a message that cannot run in the failed block. */
static int
send_aborted(struct tcop *t)
{
    struct tl_error e;
    tl_error_set(&e, TL_ESQL, TL_SQLSTATE_IN_FAILED_SQL_TRANSACTION,
                 "current transaction is aborted, commands ignored until end "
                 "of transaction block");
    return send_error(t, &e);
}

/* ---------------------------------------------------------------- parsing */

static void
syntax_error(const PgQueryError *pe, struct tl_error *e)
{
    tl_error_set(e, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR, "%s", pe->message);
    /* libpg_query reports scanner limits (stack depth, memory) through the
     * same channel; they are still syntax-level failures to the client. */
    if (strstr(pe->message, "stack depth") != NULL)
        memcpy(e->sqlstate, TL_SQLSTATE_STATEMENT_TOO_COMPLEX, 6);
    e->position = pe->cursorpos;
}

/* Check and parse @query: 0 with *@pr and *@tree set (free both), or an
 * error in @e (nothing to free). */
static int
parse_query(const char *query, PgQueryProtobufParseResult *pr,
            PgQuery__ParseResult **tree, struct tl_error *e)
{
    /* PostgreSQL verifies the whole message in the server encoding before
     * parsing (pg_client_to_server), so strings, identifiers and comments
     * alike are checked, and the error carries no position. */
    char bad[48];
    size_t len = strlen(query);
    if (!sql_guard_utf8_ok(query, len, bad, sizeof(bad)))
        return tl_error_set(
            e, TL_EINVAL, TL_SQLSTATE_CHARACTER_NOT_IN_REPERTOIRE,
            "invalid byte sequence for encoding \"UTF8\": %s", bad);
    if (!sql_guard_depth_ok(query, len, SQL_MAX_CHAIN, SQL_MAX_NESTING)) {
        tl_error_set(e, TL_EOVERFLOW, TL_SQLSTATE_STATEMENT_TOO_COMPLEX,
                     "stack depth limit exceeded");
        tl_error_hint(e,
                      "The statement chains more than %d operators or nests "
                      "more than %d levels of parentheses.",
                      SQL_MAX_CHAIN, SQL_MAX_NESTING);
        return TL_EOVERFLOW;
    }
    *pr = pg_query_parse_protobuf(query);
    if (pr->error != NULL) {
        syntax_error(pr->error, e);
        pg_query_free_protobuf_parse_result(*pr);
        return TL_ESYNTAX;
    }
    *tree = pg_query__parse_result__unpack(
        NULL, pr->parse_tree.len, (const uint8_t *)pr->parse_tree.data);
    if (*tree == NULL) {
        pg_query_free_protobuf_parse_result(*pr);
        return tl_error_set(e, TL_EPROTO, TL_SQLSTATE_INTERNAL_ERROR,
                            "could not decode parse tree");
    }
    return 0;
}

/* ------------------------------------------------------------------- COPY */

/* Run COPY @cs of statement @st (whose destination is the client's, for
 * the command tag); *@gone when the client went away during COPY FROM. */
static int
run_copy(struct tcop *t, struct sql_stmt *st, const PgQuery__CopyStmt *cs,
         bool extended, bool *gone)
{
    *gone = false;
    int rv = copy_check(st, cs, extended);
    if (rv != 0)
        return rv;
    if (cs->is_from)
        return copy_from_stdin(st, t->c, cs, gone);
    struct copy_out_dest od;
    struct dest *client = st->dest;
    copy_out_dest_init(&od, t->c, cs,
                       cs->relation != NULL ? cs->relation->relname : NULL);
    st->dest = &od.base;
    if (cs->query != NULL) {
        PgQuery__RawStmt raw = PG_QUERY__RAW_STMT__INIT;
        raw.stmt = cs->query;
        rv = run_stmt(st, &raw);
    } else {
        char *sql = NULL;
        PgQueryProtobufParseResult pr;
        PgQuery__ParseResult *tree = NULL;
        rv = copy_to_select(st, cs, &sql);
        if (rv == 0) {
            rv = parse_query(sql, &pr, &tree, &st->err);
            if (rv == 0) {
                const char *query = st->query;
                st->query = sql;
                rv = run_stmt(st, tree->stmts[0]);
                st->query = query;
                /* Positions point into the SELECT Talus wrote. */
                st->err.position = 0;
                pg_query__parse_result__free_unpacked(tree, NULL);
                pg_query_free_protobuf_parse_result(pr);
            }
            free(sql);
        }
    }
    if (rv != 0 && !tl_error_is_set(&st->err) && tl_error_is_set(&od.base.err))
        st->err = od.base.err;
    st->dest = client;
    copy_out_dest_close(&od);
    return rv;
}

/* ---------------------------------------------------------- simple query */

static void
report_param(void *arg, const char *name, const char *value)
{
    pgw_send_parameter_status(arg, name, value);
}

/* Once the transaction is over, its SET LOCAL values are forgotten and,
 * if it was rolled back, the settings it changed are put back; the client
 * hears the new value of each reported parameter that changed
 * (ParameterStatus), as PostgreSQL's AtEOXact_GUC() reports it. */
static void
end_xact_settings(struct tcop *t)
{
    if (t->sql->txn->open)
        return;
    sql_guc_xact_end(t->sql, &t->sql->arena, t->sql->txn->rolled_back,
                     report_param, t->c);
    tl_arena_reset(&t->sql->arena);
}

static int run_tcop_stmt(struct tcop *t, struct sql_stmt *st,
                         const PgQuery__RawStmt *raw, bool extended,
                         bool *gone);

char
tcop_simple_query(struct tcop *t, const char *query)
{
    atomic_fetch_add(&t->r->n_queries, 1);
    drop_prep(t, "");
    drop_portal(t, "");
    PgQueryProtobufParseResult pr;
    PgQuery__ParseResult *tree;
    struct tl_error e;
    struct txn_state *x = t->sql->txn;
    if (parse_query(query, &pr, &tree, &e) != 0) {
        /* As any error, a syntax error fails an open block. */
        router_metrics_error(t->r, e.sqlstate);
        pgw_send_error(t->c, &e);
        txn_mark_failed(x);
        return txn_status_char(x);
    }
    if (tree->n_stmts == 0)
        pgw_send_empty_query(t->c);
    /* PostgreSQL runs a Query message as one implicit transaction: now()
     * and statement_timestamp() are the same for all its statements. */
    int64_t start_us = func_now_us();
    bool implicit = tree->n_stmts > 1;
    for (size_t i = 0; i < tree->n_stmts; i++) {
        const PgQuery__RawStmt *raw = tree->stmts[i];
        struct client_dest cd;
        struct sql_stmt st;
        client_dest_init(&cd, t->c, true, NULL, 0);
        stmt_init(t, &st, &cd.base, query, start_us);
        bool gone = false;
        txn_statement_start(x, implicit);
        /* The implicit block commits before its last statement says it
         * completed. */
        bool last = i + 1 == tree->n_stmts;
        cd.hold_complete = last && x->block == TXN_IMPLICIT;
        int64_t began_ms = router_now_ms();
        int rv = sql_xact_check_stmt(&st, raw);
        if (rv == 0 && sql_xact_takes_snapshot(raw)) {
            txn_snapshot(x);
            rv = txn_statement_coord(x, st.deadline_ms, &st.txn, &st.err);
        }
        if (rv == 0)
            rv = run_tcop_stmt(t, &st, raw, false, &gone);
        if (rv == 0 && cd.hold_complete) {
            rv = txn_query_commit(x, &st.err);
            if (rv == 0 && cd.tag[0] != '\0')
                pgw_send_command_complete(t->c, cd.tag);
        }
        count_stmt(t, raw, began_ms);
        tl_arena_reset(&t->sql->arena);
        client_dest_close(&cd);
        if (rv != 0 && !gone)
            send_stmt_error(t, &st, rv);
        if (rv != 0) {
            txn_mark_failed(x);
            end_xact_settings(t);
            break;
        }
        /* As exec_simple_query(): the last statement ends the implicit
         * block, a transaction statement its own transaction. */
        if (i + 1 == tree->n_stmts)
            txn_query_end(x);
        else if (sql_xact_is_control(raw))
            txn_statement_end(x);
        end_xact_settings(t);
    }
    pg_query__parse_result__free_unpacked(tree, NULL);
    pg_query_free_protobuf_parse_result(pr);
    return txn_status_char(x);
}

/* ------------------------------------------------------------------ Parse */

static int analyse_params(struct tcop *t, struct prep *p, struct tl_error *err);

/* The highest $n in @query (its tokens, so strings and comments do not
 * count); 0 when none or when it cannot be scanned. */
static size_t
highest_param(const char *query)
{
    if (strchr(query, '$') == NULL)
        return 0;
    PgQueryScanResult sr = pg_query_scan(query);
    size_t max = 0;
    if (sr.error == NULL) {
        PgQuery__ScanResult *scan = pg_query__scan_result__unpack(
            NULL, sr.pbuf.len, (const uint8_t *)sr.pbuf.data);
        for (size_t i = 0; scan != NULL && i < scan->n_tokens; i++) {
            const PgQuery__ScanToken *tok = scan->tokens[i];
            if (tok->token != PG_QUERY__TOKEN__PARAM || tok->start < 0 ||
                tok->end <= tok->start + 1)
                continue;
            size_t n = strtoul(query + tok->start + 1, NULL, 10);
            if (n > max)
                max = n;
        }
        if (scan != NULL)
            pg_query__scan_result__free_unpacked(scan, NULL);
    }
    pg_query_free_scan_result(sr);
    return max;
}

/* Parse: name, query, declared parameter types. */
static int
handle_parse(struct tcop *t, struct pgw_reader *m)
{
    struct tl_error e;
    const char *name, *query;
    int16_t n_types;
    int rv = pgw_get_cstring(m, &name, &e);
    if (rv == 0)
        rv = pgw_get_cstring(m, &query, &e);
    if (rv == 0)
        rv = pgw_get_int16(m, &n_types, &e);
    if (rv == 0 && n_types < 0)
        rv = tl_error_set(&e, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                          "invalid message format");
    uint32_t *declared = calloc((size_t)(n_types > 0 ? n_types : 1), 4);
    if (declared == NULL)
        abort();
    for (int i = 0; rv == 0 && i < n_types; i++) {
        int32_t oid;
        rv = pgw_get_int32(m, &oid, &e);
        declared[i] = (uint32_t)oid;
    }
    if (rv == 0)
        rv = pgw_get_end(m, &e);
    if (rv != 0) {
        free(declared);
        return send_error(t, &e);
    }
    if (name[0] != '\0' && find_prep(t, name) != NULL) {
        free(declared);
        tl_error_set(&e, TL_EEXISTS, TL_SQLSTATE_DUPLICATE_PREPARED_STATEMENT,
                     "prepared statement \"%s\" already exists", name);
        return send_error(t, &e);
    }
    struct prep *p = calloc(1, sizeof(*p));
    if (p == NULL)
        abort();
    rv = parse_query(query, &p->pr, &p->tree, &e);
    if (rv != 0) {
        free(declared);
        free(p);
        return send_error(t, &e);
    }
    struct txn_state *x = t->sql->txn;
    txn_statement_start(x, false);
    if (txn_failed(x) &&
        (p->tree->n_stmts == 0 || !sql_xact_is_exit(p->tree->stmts[0]))) {
        pg_query__parse_result__free_unpacked(p->tree, NULL);
        pg_query_free_protobuf_parse_result(p->pr);
        free(declared);
        free(p);
        return send_aborted(t);
    }
    if (p->tree->n_stmts > 1) {
        pg_query__parse_result__free_unpacked(p->tree, NULL);
        pg_query_free_protobuf_parse_result(p->pr);
        free(declared);
        free(p);
        tl_error_set(&e, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                     "cannot insert multiple commands into a prepared "
                     "statement");
        return send_error(t, &e);
    }
    size_t n = highest_param(query);
    if ((size_t)n_types > n)
        n = (size_t)n_types;
    p->n_params = n;
    p->oids = calloc(n + 1, sizeof(*p->oids));
    p->types = calloc(n + 1, sizeof(*p->types));
    if (p->oids == NULL || p->types == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        p->oids[i] = i < (size_t)n_types ? declared[i] : 0;
        uint8_t type;
        /* A type Talus lacks is taken as text the binder converts. */
        p->types[i] =
            tl_type_from_oid(p->oids[i], &type) == 0 ? type : TL_TYPE_UNKNOWN;
    }
    free(declared);
    p->name = strdup(name);
    p->query = strdup(query);
    if (p->name == NULL || p->query == NULL)
        abort();
    p->refs = 1;
    p->prepare_time_us = func_now_us();
    /* As PostgreSQL, Parse binds the statement: a missing table or column
     * fails here, and the types of the $n are fixed now. */
    p->raw = p->tree->n_stmts > 0 ? p->tree->stmts[0] : NULL;
    rv = analyse_params(t, p, &e);
    if (rv != 0) {
        prep_release(p);
        return send_error(t, &e);
    }
    drop_prep(t, name); /* the unnamed statement is replaced */
    p->next = t->preps;
    t->preps = p;
    pgw_send_parse_complete(t->c);
    return 0;
}

/* --------------------------------------------------------------- Describe */

/* Whether the columns @dd found are those @p was described with (the
 * types; names may change). */
static bool
same_cols(const struct prep *p, const struct describe_dest *dd)
{
    if (p->no_data != !dd->has_cols || p->n_cols != dd->n_cols)
        return false;
    for (size_t i = 0; i < p->n_cols; i++)
        if (p->cols[i].type != dd->cols[i].type ||
            p->cols[i].typmod != dd->cols[i].typmod)
            return false;
    return true;
}

/* Bind @p's statement (values NULL: with every $n NULL) without running
 * it: infer the types of its $n into @types and learn its result columns
 * into @p. Once described, a statement keeps its result's types, as a
 * PostgreSQL prepared statement does: 0A000 "cached plan must not change
 * result type" when they changed. 0, or a negative code with @err
 * filled. */
static int
analyse(struct tcop *t, struct prep *p, uint8_t *types, bool *used,
        const struct tl_value *values, struct tl_error *err)
{
    struct sql_params params = {
        .n = p->n_params, .types = types, .values = values, .used = used};
    if (p->raw == NULL ||
        (!is_described_by_binding(p->raw) && !is_explain(p->raw))) {
        p->has_cols = true;
        p->no_data = true;
        p->cols_version = catalog_version(t->r->catalog);
        return 0;
    }
    struct describe_dest dd;
    struct sql_stmt st;
    describe_dest_init(&dd);
    stmt_init(t, &st, &dd.base, p->query, func_now_us());
    st.params = &params;
    st.describe_only = true;
    int rv = 0;
    if (is_explain(p->raw)) {
        static const struct dest_column plan = {
            .name = "QUERY PLAN", .type = TL_TYPE_TEXT, .typmod = -1};
        rv = dest_startup(&dd.base, &plan, 1);
    } else {
        rv = run_stmt(&st, p->raw);
    }
    if (rv == 0 && p->has_cols && !same_cols(p, &dd))
        rv = sql_error(&st, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                       "cached plan must not change result type");
    if (rv == 0) {
        for (size_t i = 0; i < p->n_cols; i++)
            free((char *)p->cols[i].name);
        free(p->cols);
        p->cols = NULL;
        p->n_cols = 0;
        p->no_data = !dd.has_cols;
        if (dd.has_cols) {
            p->cols = calloc(dd.n_cols + 1, sizeof(*p->cols));
            if (p->cols == NULL)
                abort();
            for (size_t i = 0; i < dd.n_cols; i++) {
                p->cols[i] = dd.cols[i];
                p->cols[i].name = strdup(dd.cols[i].name);
                if (p->cols[i].name == NULL)
                    abort();
            }
            p->n_cols = dd.n_cols;
        }
        p->has_cols = true;
        p->cols_version = st.catalog_version != 0
                              ? st.catalog_version
                              : catalog_version(t->r->catalog);
    }
    if (rv != 0) {
        stmt_report(&st, rv);
        *err = st.err;
    }
    describe_dest_close(&dd);
    tl_arena_reset(&t->sql->arena);
    return rv;
}

/* Infer the types of @p's $n once (Parse, PREPARE). 0, or a negative
 * code with @err filled. */
static int
analyse_params(struct tcop *t, struct prep *p, struct tl_error *err)
{
    if (p->analysed)
        return 0;
    uint8_t *types = malloc(p->n_params + 1);
    if (types == NULL)
        abort();
    memcpy(types, p->types, p->n_params);
    bool *used = calloc(p->n_params + 1, sizeof(*used));
    if (used == NULL)
        abort();
    int rv = analyse(t, p, types, used, NULL, err);
    for (size_t i = 0; rv == 0 && i < p->n_params; i++) {
        /* As PostgreSQL: a $n neither declared nor used cannot be
         * described; one used where nothing gives it a type is text. */
        if (types[i] == TL_TYPE_UNKNOWN && p->oids[i] == 0 && !used[i] &&
            p->raw != NULL && is_described_by_binding(p->raw))
            rv = tl_error_set(err, TL_ETYPE, TL_SQLSTATE_INDETERMINATE_DATATYPE,
                              "could not determine data type of parameter "
                              "$%zu",
                              i + 1);
    }
    free(used);
    if (rv != 0) {
        free(types);
        return rv;
    }
    for (size_t i = 0; i < p->n_params; i++) {
        p->types[i] = types[i];
        if (p->oids[i] == 0)
            p->oids[i] = tl_type_oid(types[i]);
    }
    free(types);
    p->analysed = true;
    return 0;
}

/* Whether @p's result columns are known for the current catalog. */
static bool
cols_fresh(struct tcop *t, const struct prep *p)
{
    return p->has_cols && p->cols_version == catalog_version(t->r->catalog);
}

/* RowDescription of @p's columns in @formats (n_formats 0: text, 1: all
 * alike), or NoData. */
static int
send_description(struct tcop *t, const struct prep *p, const int16_t *formats,
                 size_t n_formats)
{
    if (p->no_data) {
        pgw_send_no_data(t->c);
        return 0;
    }
    struct tl_error e;
    if (n_formats > 1 && n_formats != p->n_cols) {
        tl_error_set(&e, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                     "bind message has %zu result formats but query has %zu "
                     "columns",
                     n_formats, p->n_cols);
        return send_error(t, &e);
    }
    struct pgw_field *f = calloc(p->n_cols + 1, sizeof(*f));
    if (f == NULL)
        abort();
    for (size_t i = 0; i < p->n_cols; i++) {
        f[i].name = p->cols[i].name;
        f[i].type = p->cols[i].type;
        f[i].typmod = p->cols[i].typmod;
        f[i].format = n_formats == 0 ? 0 : formats[n_formats == 1 ? 0 : i];
    }
    pgw_send_row_description(t->c, f, p->n_cols);
    free(f);
    return 0;
}

static int
handle_describe(struct tcop *t, struct pgw_reader *m)
{
    struct tl_error e;
    int16_t kind;
    const char *name;
    uint8_t k;
    const uint8_t *kp;
    int rv = pgw_get_bytes(m, 1, &kp, &e);
    if (rv == 0)
        rv = pgw_get_cstring(m, &name, &e);
    if (rv == 0)
        rv = pgw_get_end(m, &e);
    if (rv != 0)
        return send_error(t, &e);
    k = kp[0];
    kind = k;
    if (kind == 'S') {
        struct prep *p = find_prep(t, name);
        if (p == NULL) {
            no_statement_error(name, &e);
            return send_error(t, &e);
        }
        /* A statement that returns rows cannot be described in a failed
         * block (exec_describe_statement_message()). */
        if (txn_failed(t->sql->txn) && p->raw != NULL &&
            is_described_by_binding(p->raw))
            return send_aborted(t);
        rv = analyse_params(t, p, &e);
        if (rv == 0 && !cols_fresh(t, p))
            rv = analyse(t, p, p->types, NULL, NULL, &e);
        if (rv != 0)
            return send_error(t, &e);
        pgw_send_parameter_description(t->c, p->oids, p->n_params);
        return send_description(t, p, NULL, 0);
    }
    if (kind == 'P') {
        struct portal *po = find_portal(t, name);
        if (po == NULL) {
            no_portal_error(name, &e);
            return send_error(t, &e);
        }
        if (txn_failed(t->sql->txn) && po->stmt->raw != NULL &&
            is_described_by_binding(po->stmt->raw))
            return send_aborted(t);
        if (!cols_fresh(t, po->stmt)) {
            uint8_t *types = malloc(po->stmt->n_params + 1);
            if (types == NULL)
                abort();
            memcpy(types, po->stmt->types, po->stmt->n_params);
            rv = analyse(t, po->stmt, types, NULL, po->values, &e);
            free(types);
            if (rv != 0)
                return send_error(t, &e);
        }
        return send_description(t, po->stmt, po->formats, po->n_formats);
    }
    tl_error_set(&e, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                 "invalid DESCRIBE message subtype %d", (int)k);
    return send_error(t, &e);
}

/* ------------------------------------------- PREPARE, EXECUTE, DEALLOCATE */

/* PREPARE name [(types)] AS statement: a prepared statement as Parse
 * makes it, from the text of the PREPARE. */
static int
sql_prepare(struct tcop *t, struct sql_stmt *st, const PgQuery__RawStmt *raw)
{
    const PgQuery__PrepareStmt *ps = raw->stmt->prepare_stmt;
    if (find_prep(t, ps->name) != NULL)
        return sql_error(st, TL_EEXISTS,
                         TL_SQLSTATE_DUPLICATE_PREPARED_STATEMENT,
                         "prepared statement \"%s\" already exists", ps->name);
    struct prep *p = calloc(1, sizeof(*p));
    if (p == NULL)
        abort();
    p->refs = 1;
    p->from_sql = true;
    p->source = strdup(st->query);
    if (p->source == NULL)
        abort();
    p->prepare_time_us = st->start_us != 0 ? st->start_us : func_now_us();
    size_t len = raw->stmt_len > 0 ? (size_t)raw->stmt_len
                                   : strlen(st->query + raw->stmt_location);
    p->query = strndup(st->query + raw->stmt_location, len);
    p->name = strdup(ps->name);
    if (p->query == NULL || p->name == NULL)
        abort();
    int rv = parse_query(p->query, &p->pr, &p->tree, &st->err);
    if (rv != 0) {
        free(p->query);
        free(p->source);
        free(p->name);
        free(p);
        return rv;
    }
    p->inner.stmt = p->tree->stmts[0]->stmt->prepare_stmt->query;
    p->raw = &p->inner;
    size_t n = highest_param(p->query);
    if (ps->n_argtypes > n)
        n = ps->n_argtypes;
    p->n_params = n;
    p->oids = calloc(n + 1, sizeof(*p->oids));
    p->types = calloc(n + 1, sizeof(*p->types));
    if (p->oids == NULL || p->types == NULL)
        abort();
    for (size_t i = 0; i < ps->n_argtypes && rv == 0; i++) {
        int32_t typmod;
        rv = bind_type_name(st, ps->argtypes[i]->type_name, &p->types[i],
                            &typmod);
        p->oids[i] = tl_type_oid(p->types[i]);
    }
    if (rv == 0)
        rv = analyse_params(t, p, &st->err);
    if (rv != 0) {
        prep_release(p);
        return rv;
    }
    p->next = t->preps;
    t->preps = p;
    dest_complete(st->dest, "PREPARE");
    return 0;
}

/* EXECUTE name [(values)]: the statement run with the values, cast to the
 * types of its parameters, its rows sent as a Query's are. */
static int
sql_execute(struct tcop *t, struct sql_stmt *st, const PgQuery__RawStmt *raw)
{
    const PgQuery__ExecuteStmt *es = raw->stmt->execute_stmt;
    struct prep *p = find_prep(t, es->name);
    if (p == NULL)
        return no_statement_error(es->name, &st->err);
    int crv = sql_xact_check_stmt(st, p->raw);
    if (crv != 0)
        return crv;
    if (es->n_params != p->n_params) {
        sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                  "wrong number of parameters for prepared statement "
                  "\"%s\"",
                  es->name);
        tl_error_detail(&st->err, "Expected %zu parameters but got %zu.",
                        p->n_params, es->n_params);
        return TL_ESYNTAX;
    }
    /* The values outlive a re-run of the statement, which resets st->a. */
    struct tl_arena pa;
    tl_arena_init(&pa);
    struct tl_value *values =
        tl_arena_calloc(&pa, (p->n_params + 1) * sizeof(*values));
    int rv = 0;
    for (size_t i = 0; i < p->n_params && rv == 0; i++) {
        struct tl_value v;
        rv = bind_const(st, es->params[i], &v);
        if (rv == 0 && p->types[i] != TL_TYPE_UNKNOWN &&
            v.type != p->types[i]) {
            rv =
                tl_value_cast(&v, p->types[i], -1, st->a, &values[i], &st->err);
            /* PostgreSQL points at a quoted literal its type rejects. */
            const PgQuery__Node *n = es->params[i];
            if (rv != 0 && v.type == TL_TYPE_UNKNOWN &&
                n->node_case == PG_QUERY__NODE__NODE_A_CONST)
                sql_error_at(st, rv, n->a_const->location);
        } else {
            values[i] = v;
        }
        if (rv == 0 && !values[i].is_null && tl_type_has_bytes(values[i].type))
            values[i].u.s.p =
                tl_arena_strndup(&pa, values[i].u.s.p, values[i].u.s.len);
    }
    if (rv == 0 && p->raw == NULL)
        dest_complete(st->dest, "");
    if (rv != 0 || p->raw == NULL) {
        tl_arena_close(&pa);
        return rv;
    }
    uint8_t *types = tl_arena_alloc(&pa, p->n_params + 1);
    memcpy(types, p->types, p->n_params);
    struct sql_params params = {
        .n = p->n_params, .types = types, .values = values};
    /* Positions of errors point into the PREPARE's text. */
    const char *query = st->query;
    st->query = p->query;
    p->refs++;
    bool gone;
    rv = run_prepared(t, p, st, &params, true, &gone);
    st->query = query;
    if (rv != 0)
        stmt_report(st, rv);
    prep_release(p);
    tl_arena_close(&pa);
    return rv;
}

/* DEALLOCATE [PREPARE] name | ALL. */
static int
sql_deallocate(struct tcop *t, struct sql_stmt *st, const PgQuery__RawStmt *raw)
{
    const PgQuery__DeallocateStmt *ds = raw->stmt->deallocate_stmt;
    if (ds->name == NULL || ds->name[0] == '\0') {
        drop_all_preps(t);
        dest_complete(st->dest, "DEALLOCATE ALL");
        return 0;
    }
    if (find_prep(t, ds->name) == NULL)
        return no_statement_error(ds->name, &st->err);
    drop_prep(t, ds->name);
    dest_complete(st->dest, "DEALLOCATE");
    return 0;
}

/* Run @raw: the statements that need the traffic cop's state (COPY and
 * its connection, PREPARE, EXECUTE, DEALLOCATE) here, the rest by the
 * layers below. */
static int
run_tcop_stmt(struct tcop *t, struct sql_stmt *st, const PgQuery__RawStmt *raw,
              bool extended, bool *gone)
{
    *gone = false;
    switch (raw->stmt != NULL ? raw->stmt->node_case : 0) {
    case PG_QUERY__NODE__NODE_COPY_STMT:
        return end_own_txn(
            st, run_copy(t, st, raw->stmt->copy_stmt, extended, gone));
    case PG_QUERY__NODE__NODE_PREPARE_STMT:
        return sql_prepare(t, st, raw);
    case PG_QUERY__NODE__NODE_EXECUTE_STMT:
        return sql_execute(t, st, raw);
    case PG_QUERY__NODE__NODE_DEALLOCATE_STMT:
        return sql_deallocate(t, st, raw);
    default:
        return run_stmt(st, raw);
    }
}

/* ------------------------------------------------------------------- Bind */

/* Read the @n format codes of a Bind into *@out (malloc'd; NULL when 0):
 * each must be 0 or 1. */
static int
get_formats(struct pgw_reader *m, int16_t **out, size_t *n_out,
            struct tl_error *e)
{
    int16_t n;
    int rv = pgw_get_int16(m, &n, e);
    if (rv != 0)
        return rv;
    if (n < 0)
        return tl_error_set(e, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                            "invalid message format");
    int16_t *f = calloc((size_t)n + 1, sizeof(*f));
    if (f == NULL)
        abort();
    for (int i = 0; i < n; i++) {
        rv = pgw_get_int16(m, &f[i], e);
        if (rv == 0 && f[i] != 0 && f[i] != 1)
            rv = tl_error_set(e, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                              "unsupported format code: %d", f[i]);
        if (rv != 0) {
            free(f);
            return rv;
        }
    }
    *out = f;
    *n_out = (size_t)n;
    return 0;
}

/* Decode parameter @i (0-based) of @p from @bytes (@len bytes) in
 * @format into *@out, in @a. */
static int
decode_param(struct prep *p, size_t i, int16_t format, const uint8_t *bytes,
             size_t len, struct tl_arena *a, struct tl_value *out,
             struct tl_error *e)
{
    uint8_t type = p->types[i];
    char *copy = tl_arena_strndup(a, (const char *)bytes, len);
    int rv;
    if (format == 1 && type != TL_TYPE_UNKNOWN) {
        rv = pgw_value_from_binary(type, (const uint8_t *)copy, len, a, out, e);
        if (rv != 0 && (type == TL_TYPE_NUMERIC || tl_type_is_json(type)))
            return rv; /* its own report says what is wrong */
        if (rv != 0)
            return tl_error_set(e, rv,
                                TL_SQLSTATE_INVALID_BINARY_REPRESENTATION,
                                "incorrect binary data format in bind "
                                "parameter %zu",
                                i + 1);
        if (!tl_type_is_text(type))
            return 0;
    } else if (format == 1 && p->oids[i] != 0 &&
               p->oids[i] != tl_type_oid(TL_TYPE_UNKNOWN)) {
        return tl_error_set(e, TL_EUNSUPPORTED,
                            TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                            "binary format of type OID %u is not supported "
                            "yet (bind parameter %zu)",
                            p->oids[i], i + 1);
    }
    char bad[48];
    if (!sql_guard_utf8_ok(copy, len, bad, sizeof(bad)))
        return tl_error_set(
            e, TL_EINVAL, TL_SQLSTATE_CHARACTER_NOT_IN_REPERTOIRE,
            "invalid byte sequence for encoding \"UTF8\": %s", bad);
    if (type == TL_TYPE_UNKNOWN || format == 1) {
        *out = tl_value_text(format == 1 ? type : TL_TYPE_UNKNOWN, copy,
                             (uint32_t)len);
        return 0;
    }
    rv = tl_value_from_text(type, -1, copy, len, a, out, e);
    if (rv == 0 && tl_type_is_text(type))
        out->type = type;
    return rv;
}

static int
handle_bind(struct tcop *t, struct pgw_reader *m)
{
    struct tl_error e;
    const char *portal_name, *stmt_name;
    int16_t *pformats = NULL, *rformats = NULL;
    size_t n_pformats = 0, n_rformats = 0;
    int16_t n_values = 0;
    struct portal *po = NULL;
    int rv = pgw_get_cstring(m, &portal_name, &e);
    if (rv == 0)
        rv = pgw_get_cstring(m, &stmt_name, &e);
    if (rv == 0)
        rv = get_formats(m, &pformats, &n_pformats, &e);
    if (rv == 0)
        rv = pgw_get_int16(m, &n_values, &e);
    if (rv != 0)
        goto err;
    struct prep *p = find_prep(t, stmt_name);
    if (p == NULL) {
        rv = no_statement_error(stmt_name, &e);
        goto err;
    }
    txn_statement_start(t->sql->txn, false);
    if (txn_failed(t->sql->txn) &&
        (!sql_xact_is_exit(p->raw) || n_values != 0)) {
        free(pformats);
        return send_aborted(t);
    }
    if (n_pformats > 1 && n_pformats != (size_t)n_values) {
        rv = tl_error_set(&e, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                          "bind message has %zu parameter formats but %d "
                          "parameters",
                          n_pformats, (int)n_values);
        goto err;
    }
    if (n_values < 0 || (size_t)n_values != p->n_params) {
        rv = tl_error_set(&e, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                          "bind message supplies %d parameters, but "
                          "prepared statement \"%s\" requires %zu",
                          (int)n_values, stmt_name, p->n_params);
        goto err;
    }
    if (portal_name[0] != '\0' && find_portal(t, portal_name) != NULL) {
        rv = tl_error_set(&e, TL_EEXISTS, TL_SQLSTATE_DUPLICATE_CURSOR,
                          "cursor \"%s\" already exists", portal_name);
        goto err;
    }
    bool binary = false;
    for (size_t i = 0; i < n_pformats; i++)
        binary |= pformats[i] == 1;
    /* A binary value is read by its type: learn the types first. */
    if (binary && !p->analysed) {
        rv = analyse_params(t, p, &e);
        if (rv != 0)
            goto err;
    }
    po = calloc(1, sizeof(*po));
    if (po == NULL)
        abort();
    tl_arena_init(&po->arena);
    rowstore_init(&po->rows, TCOP_PORTAL_MEM_BYTES);
    po->values =
        tl_arena_calloc(&po->arena, (p->n_params + 1) * sizeof(*po->values));
    for (size_t i = 0; i < p->n_params; i++) {
        int32_t len;
        rv = pgw_get_int32(m, &len, &e);
        if (rv != 0)
            goto err;
        if (len == -1) {
            po->values[i] = tl_value_null(p->types[i]);
            continue;
        }
        const uint8_t *bytes;
        rv = len < 0
                 ? tl_error_set(&e, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                                "invalid message format")
                 : pgw_get_bytes(m, (size_t)len, &bytes, &e);
        if (rv != 0)
            goto err;
        int16_t f = n_pformats == 0 ? 0 : pformats[n_pformats == 1 ? 0 : i];
        rv = decode_param(p, i, f, bytes, (size_t)len, &po->arena,
                          &po->values[i], &e);
        if (rv != 0)
            goto err;
    }
    rv = get_formats(m, &rformats, &n_rformats, &e);
    if (rv == 0)
        rv = pgw_get_end(m, &e);
    if (rv != 0)
        goto err;
    free(pformats);
    po->formats = rformats;
    po->n_formats = n_rformats;
    po->name = strdup(portal_name);
    if (po->name == NULL)
        abort();
    po->stmt = p;
    p->refs++;
    drop_portal(t, portal_name); /* the unnamed portal is replaced */
    po->next = t->portals;
    t->portals = po;
    pgw_send_bind_complete(t->c);
    return 0;
err:
    free(pformats);
    free(rformats);
    if (po != NULL) {
        tl_arena_close(&po->arena);
        rowstore_reset(&po->rows);
        free(po);
    }
    return send_error(t, &e);
}

/* ---------------------------------------------------------------- Execute */

/* Send the kept rows of @po, at most @max (0: all). As PostgreSQL, a
 * portal that sent @max rows is suspended (PortalSuspended) even when
 * none remain; the Execute that finds it at its end completes it, with
 * the rows that Execute sent in its tag. */
static int
send_kept_rows(struct tcop *t, struct portal *po, int32_t max)
{
    struct tl_error e;
    const uint8_t *msg;
    size_t len;
    int32_t n = 0;
    int rv = 0;

    tl_error_clear(&e);
    while ((max <= 0 || n < max) &&
           (rv = rowstore_next(&po->rows, &msg, &len, &e)) == 1) {
        pgw_send_raw(t->c, msg, len);
        n++;
    }
    if (rv < 0) {
        po->done = true;
        rowstore_reset(&po->rows);
        return send_error(t, &e);
    }
    if (max > 0 && n == max) {
        pgw_send_portal_suspended(t->c);
        return 0;
    }
    if (strncmp(po->tag, "SELECT ", 7) == 0)
        snprintf(po->tag, sizeof(po->tag), "SELECT %d", (int)n);
    pgw_send_command_complete(t->c, po->tag);
    po->done = true;
    rowstore_reset(&po->rows);
    return 0;
}

static int
handle_execute(struct tcop *t, struct pgw_reader *m)
{
    struct tl_error e;
    const char *name;
    int32_t max_rows;
    int rv = pgw_get_cstring(m, &name, &e);
    if (rv == 0)
        rv = pgw_get_int32(m, &max_rows, &e);
    if (rv == 0)
        rv = pgw_get_end(m, &e);
    if (rv != 0)
        return send_error(t, &e);
    struct portal *po = find_portal(t, name);
    if (po == NULL) {
        no_portal_error(name, &e);
        return send_error(t, &e);
    }
    if (po->done) {
        /* Run to completion already: nothing more to fetch. */
        if (strncmp(po->tag, "SELECT ", 7) == 0)
            snprintf(po->tag, sizeof(po->tag), "SELECT 0");
        pgw_send_command_complete(t->c, po->tag);
        return 0;
    }
    if (po->started)
        return send_kept_rows(t, po, max_rows);
    struct prep *p = po->stmt;
    struct txn_state *x = t->sql->txn;
    txn_statement_start(x, false);
    if (txn_failed(x) && !sql_xact_is_exit(p->raw))
        return send_aborted(t);
    if (p->raw == NULL) {
        pgw_send_empty_query(t->c);
        po->done = true;
        return 0;
    }
    atomic_fetch_add(&t->r->n_queries, 1);
    /* With a row limit the rows are kept by the portal and sent in parts;
     * without one they stream to the client. */
    struct client_dest cd;
    struct sql_stmt st;
    client_dest_init(&cd, t->c, false, po->formats, po->n_formats);
    if (p->has_cols && !p->no_data)
        client_dest_expect(&cd, p->cols, p->n_cols);
    if (max_rows > 0)
        client_dest_keep(&cd, &po->rows);
    uint8_t *types = malloc(p->n_params + 1);
    if (types == NULL)
        abort();
    memcpy(types, p->types, p->n_params);
    struct sql_params params = {
        .n = p->n_params, .types = types, .values = po->values};
    stmt_init(t, &st, &cd.base, p->query, func_now_us());
    bool gone;
    int64_t began_ms = router_now_ms();
    rv = sql_xact_check_stmt(&st, p->raw);
    if (rv == 0 && sql_xact_takes_snapshot(p->raw)) {
        txn_snapshot(x);
        rv = txn_statement_coord(x, st.deadline_ms, &st.txn, &st.err);
    }
    if (rv == 0)
        rv = run_prepared(t, p, &st, &params, false, &gone);
    count_stmt(t, p->raw, began_ms);
    free(types);
    tl_arena_reset(&t->sql->arena);
    po->started = true;
    snprintf(po->tag, sizeof(po->tag), "%s", cd.tag);
    bool kept = cd.keep != NULL;
    client_dest_close(&cd);
    if (rv != 0) {
        po->done = true;
        return send_stmt_error(t, &st, rv);
    }
    /* A transaction statement ends its transaction at once
     * (exec_execute_message()'s is_xact_command). */
    if (sql_xact_is_control(p->raw)) {
        txn_statement_end(x);
        end_xact_settings(t);
    }
    if (kept)
        return send_kept_rows(t, po, max_rows);
    po->done = true;
    return 0;
}

/* ------------------------------------------------------------------ Close */

static int
handle_close(struct tcop *t, struct pgw_reader *m)
{
    struct tl_error e;
    const uint8_t *kp;
    const char *name;
    int rv = pgw_get_bytes(m, 1, &kp, &e);
    if (rv == 0)
        rv = pgw_get_cstring(m, &name, &e);
    if (rv == 0)
        rv = pgw_get_end(m, &e);
    if (rv != 0)
        return send_error(t, &e);
    if (kp[0] == 'S') {
        drop_prep(t, name);
    } else if (kp[0] == 'P') {
        drop_portal(t, name);
    } else {
        tl_error_set(&e, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                     "invalid CLOSE message subtype %d", (int)kp[0]);
        return send_error(t, &e);
    }
    /* Closing what does not exist is not an error (PostgreSQL). */
    pgw_send_close_complete(t->c);
    return 0;
}

static int
dispatch_extended(struct tcop *t, char type, struct pgw_reader *mp)
{
    struct pgw_reader m = *mp;
    switch (type) {
    case 'P':
        return handle_parse(t, &m);
    case 'B':
        return handle_bind(t, &m);
    case 'D':
        return handle_describe(t, &m);
    case 'E':
        return handle_execute(t, &m);
    case 'C':
        return handle_close(t, &m);
    default: {
        struct tl_error e;
        tl_error_set(&e, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                     "invalid frontend message type %d", (int)type);
        return send_error(t, &e);
    }
    }
}

int
tcop_extended(struct tcop *t, char type, const uint8_t *p, size_t len)
{
    struct pgw_reader m = {.p = p, .len = len, .off = 0};
    int rv = dispatch_extended(t, type, &m);
    /* As in PostgreSQL, any error aborts the transaction: a block fails,
     * the messages up to Sync are skipped. */
    if (rv != 0)
        txn_mark_failed(t->sql->txn);
    return rv;
}

char
tcop_sync(struct tcop *t)
{
    txn_query_end(t->sql->txn);
    end_xact_settings(t);
    char status = txn_status_char(t->sql->txn);
    /* Portals live until their transaction ends (PostgreSQL's
     * AtEOXact_Portals): inside a block a cursor is fetched from across
     * Syncs, as asyncpg's and JDBC's fetch-size cursors do. */
    if (status == 'I')
        drop_all_portals(t);
    return status;
}

char
tcop_fail(struct tcop *t)
{
    txn_mark_failed(t->sql->txn);
    end_xact_settings(t);
    return txn_status_char(t->sql->txn);
}

int64_t
tcop_idle_timeout_ms(struct tcop *t)
{
    if (txn_status_char(t->sql->txn) == 'I')
        return 0;
    return settings_idle_in_transaction_timeout_ms(t->sql);
}
