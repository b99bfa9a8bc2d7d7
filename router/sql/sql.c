/* sql — parse a simple-protocol query and dispatch each statement. */
#include "router/sql/sql.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "log.h"
#include "router/core/catalog.h"
#include "router/core/router_int.h"
#include "router/exec/dml.h"
#include "router/exec/explain.h"
#include "router/exec/select.h"
#include "router/session/settings.h"
#include "router/sql/sql_int.h"
#include "router/wire/pgwire.h"

#define MOD "sql"
#define SQL_STALE_RERUNS 3

struct sql_session *
sql_session_create(struct router *r, struct pgw_conn *c)
{
    struct sql_session *s = calloc(1, sizeof(*s));
    if (s == NULL)
        abort(); /* the header promises this cannot fail */
    s->r = r;
    s->c = c;
    tl_arena_init(&s->arena);
    return s;
}

void
sql_session_set_identity(struct sql_session *s, const char *user,
                         const char *database, uint32_t pid)
{
    snprintf(s->user, sizeof(s->user), "%s", user);
    snprintf(s->database, sizeof(s->database), "%s", database);
    s->backend_pid = pid;
}

void
sql_session_set_cancel(struct sql_session *s, atomic_bool *flag)
{
    s->cancel = flag;
}

bool
sql_cancel_requested(const struct sql_stmt *st)
{
    return st->s != NULL && st->s->cancel != NULL && atomic_load(st->s->cancel);
}

int
sql_check_interrupts(struct sql_stmt *st)
{
    if (sql_cancel_requested(st))
        return sql_error(st, TL_ETIMEOUT, TL_SQLSTATE_QUERY_CANCELED,
                         "canceling statement due to user request");
    if (st->deadline_ms > 0 && router_now_ms() >= st->deadline_ms)
        return sql_error(st, TL_ETIMEOUT, TL_SQLSTATE_QUERY_CANCELED,
                         "canceling statement due to statement timeout");
    return 0;
}

void
sql_session_destroy(struct sql_session *s)
{
    if (s == NULL)
        return;
    settings_free(s);
    tl_arena_close(&s->arena);
    free(s);
}

int
sql_error(struct sql_stmt *st, int rv, const char *sqlstate, const char *fmt,
          ...)
{
    va_list ap;
    va_start(ap, fmt);
    tl_error_clear(&st->err);
    snprintf(st->err.sqlstate, sizeof(st->err.sqlstate), "%s", sqlstate);
    vsnprintf(st->err.message, sizeof(st->err.message), fmt, ap);
    va_end(ap);
    return rv;
}

int
sql_error_at(struct sql_stmt *st, int rv, int location)
{
    if (location < 0 || st->query == NULL)
        return rv;
    /* PostgreSQL reports positions in characters, 1-based. */
    int chars = 1;
    for (int i = 0; i < location && st->query[i] != '\0'; i++)
        if (((unsigned char)st->query[i] & 0xC0) != 0x80)
            chars++;
    st->err.position = chars;
    return rv;
}

int
sql_unsupported(struct sql_stmt *st, const char *what)
{
    return sql_error(st, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                     "%s is not supported yet", what);
}

void
sql_notice(struct sql_stmt *st, const char *sqlstate, const char *fmt, ...)
{
    struct tl_error e;
    tl_error_clear(&e);
    snprintf(e.sqlstate, sizeof(e.sqlstate), "%s", sqlstate);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof(e.message), fmt, ap);
    va_end(ap);
    pgw_send_notice(st->c, &e, false);
}

const char *
sql_node_str(const PgQuery__Node *n)
{
    if (n == NULL || n->node_case != PG_QUERY__NODE__NODE_STRING ||
        n->string == NULL)
        return NULL;
    return n->string->sval;
}

int
sql_lookup_table(struct sql_stmt *st, const PgQuery__RangeVar *rv,
                 struct tl_table **out)
{
    if (rv->schemaname != NULL && rv->schemaname[0] != '\0' &&
        strcmp(rv->schemaname, "public") != 0) {
        sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_TABLE,
                  "relation \"%s.%s\" does not exist", rv->schemaname,
                  rv->relname);
        return sql_error_at(st, TL_ENOTFOUND, rv->location);
    }
    int r = catalog_lookup(st->r->catalog, rv->relname, st->a, out, &st->err);
    if (r == TL_ENOTFOUND) {
        sql_error(st, r, TL_SQLSTATE_UNDEFINED_TABLE,
                  "relation \"%s\" does not exist", rv->relname);
        return sql_error_at(st, r, rv->location);
    }
    return r;
}

void
sql_send_text_rows(struct sql_stmt *st, const char *name, const char **rows,
                   size_t n, const char *tag)
{
    struct pgw_field f = {.name = name, .type = TL_TYPE_TEXT, .typmod = -1};
    pgw_send_row_description(st->c, &f, 1);
    for (size_t i = 0; i < n; i++) {
        struct tl_value v =
            tl_value_text(TL_TYPE_TEXT, rows[i], (uint32_t)strlen(rows[i]));
        pgw_send_data_row(st->c, &v, 1);
    }
    pgw_send_command_complete(st->c, tag);
}

/* The leading keywords of a statement, for "X is not supported yet":
 * "CREATE INDEX", "ALTER TABLE", "TRUNCATE". */
static const char *
leading_keywords(struct sql_stmt *st, const char *text, int len)
{
    static const char *skip[] = {"UNIQUE",    "OR",        "REPLACE",
                                 "TEMP",      "TEMPORARY", "UNLOGGED",
                                 "GLOBAL",    "LOCAL",     "MATERIALIZED",
                                 "RECURSIVE", "TRUSTED",   "PROCEDURAL",
                                 "DEFAULT",   NULL};
    char out[64];
    size_t o = 0;
    int words = 0, i = 0;
    while (i < len && words < 2) {
        while (i < len && !isalpha((unsigned char)text[i]))
            i++;
        char w[32];
        size_t wl = 0;
        while (i < len && (isalpha((unsigned char)text[i]) || text[i] == '_'))
            if (wl < sizeof(w) - 1)
                w[wl++] = (char)toupper((unsigned char)text[i++]);
            else
                i++;
        w[wl] = '\0';
        if (wl == 0)
            break;
        bool skipped = false;
        for (int k = 0; words > 0 && skip[k] != NULL; k++)
            if (strcmp(w, skip[k]) == 0)
                skipped = true;
        if (skipped)
            continue;
        if (o + wl + 2 >= sizeof(out))
            break;
        if (o > 0)
            out[o++] = ' ';
        memcpy(out + o, w, wl);
        o += wl;
        words++;
        if (words == 1 && strcmp(w, "CREATE") != 0 && strcmp(w, "ALTER") != 0 &&
            strcmp(w, "DROP") != 0)
            break;
    }
    out[o] = '\0';
    return o > 0 ? tl_arena_strdup(st->a, out) : "this statement";
}

static int
exec_transaction(struct sql_stmt *st, const PgQuery__TransactionStmt *ts)
{
    return sql_error(st, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                     "transaction blocks are not supported yet");
}

/* VACUUM and ANALYZE: Talus has nothing to vacuum (RocksDB compacts) and
 * no planner statistics yet, so they only check that the tables named
 * exist (42P01, without a position, as PostgreSQL reports it). */
static int
exec_vacuum(struct sql_stmt *st, const PgQuery__VacuumStmt *vs)
{
    for (size_t i = 0; i < vs->n_rels; i++) {
        const PgQuery__Node *n = vs->rels[i];
        const PgQuery__RangeVar *rv =
            n->node_case == PG_QUERY__NODE__NODE_VACUUM_RELATION
                ? n->vacuum_relation->relation
                : NULL;
        struct tl_table *t;
        int r;
        if (rv == NULL)
            continue;
        r = sql_lookup_table(st, rv, &t);
        if (r != 0) {
            st->err.position = 0;
            return r;
        }
    }
    pgw_send_command_complete(st->c, vs->is_vacuumcmd ? "VACUUM" : "ANALYZE");
    return 0;
}

static int
exec_discard(struct sql_stmt *st)
{
    settings_free(st->s);
    pgw_send_command_complete(st->c, "DISCARD ALL");
    return 0;
}

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
        break;
    case PG_QUERY__NODE__NODE_EXPLAIN_STMT:
        return explain_exec(st, n->explain_stmt);
    case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT:
        return settings_exec_set(st, n->variable_set_stmt);
    case PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT:
        return settings_exec_show(st, n->variable_show_stmt);
    case PG_QUERY__NODE__NODE_TRANSACTION_STMT:
        return exec_transaction(st, n->transaction_stmt);
    case PG_QUERY__NODE__NODE_DISCARD_STMT:
        return exec_discard(st);
    case PG_QUERY__NODE__NODE_VACUUM_STMT:
        return exec_vacuum(st, n->vacuum_stmt);
    case PG_QUERY__NODE__NODE_TRUNCATE_STMT:
        return dml_exec_truncate(st, n->truncate_stmt);
    case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
        return sql_unsupported(st, "CREATE TABLE ... AS");
    default:
        break;
    }
    int len = raw->stmt_len > 0 ? raw->stmt_len
                                : (int)strlen(st->query + raw->stmt_location);
    return sql_unsupported(
        st, leading_keywords(st, st->query + raw->stmt_location, len));
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

/* Run @raw; a read refused because another router dropped or recreated
 * its table (TL_ESTALE, after the catalog reloaded) is planned and run
 * again, unless it already fed rows to the client. */
static int
run_stmt(struct sql_stmt *st, const PgQuery__RawStmt *raw)
{
    size_t out_at = st->c->out.len;
    int rv = 0;
    if (raw->stmt == NULL)
        return 0;
    for (int attempt = 0; attempt < SQL_STALE_RERUNS; attempt++) {
        tl_error_clear(&st->err);
        catalog_stmt_begin();
        st->n_rows_fed = 0;
        rv = exec_stmt(st, raw);
        if (rv != TL_ESTALE || !is_read(raw) || st->n_rows_fed > 0 ||
            st->c->out.len < out_at)
            break;
        st->c->out.len = out_at; /* a row description not yet sent */
        tl_arena_reset(st->a);
        tl_debug(MOD, "event=stale_rerun attempt=%d", attempt + 1);
    }
    catalog_stmt_begin();
    return rv;
}

static void
send_syntax_error(struct sql_session *s, const PgQueryError *pe)
{
    struct tl_error e;
    tl_error_set(&e, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR, "%s", pe->message);
    /* libpg_query reports scanner limits (stack depth, memory) through the
     * same channel; they are still syntax-level failures to the client. */
    if (strstr(pe->message, "stack depth") != NULL)
        memcpy(e.sqlstate, TL_SQLSTATE_STATEMENT_TOO_COMPLEX, 6);
    e.position = pe->cursorpos;
    pgw_send_error(s->c, &e);
}

/* An empty parse (only spaces, comments, semicolons) is an empty query;
 * otherwise each statement runs with a fresh arena and error report. */
char
sql_exec_simple(struct sql_session *s, const char *query)
{
    atomic_fetch_add(&s->r->n_queries, 1);
    /* PostgreSQL verifies the whole message in the server encoding before
     * parsing (pg_client_to_server), so strings, identifiers and comments
     * alike are checked, and the error carries no position. */
    char bad[48];
    if (!sql_guard_utf8_ok(query, strlen(query), bad, sizeof(bad))) {
        struct tl_error e;
        tl_error_set(&e, TL_EINVAL, TL_SQLSTATE_CHARACTER_NOT_IN_REPERTOIRE,
                     "invalid byte sequence for encoding \"UTF8\": %s", bad);
        pgw_send_error(s->c, &e);
        return 'I';
    }
    if (!sql_guard_depth_ok(query, strlen(query), SQL_MAX_CHAIN,
                            SQL_MAX_NESTING)) {
        struct tl_error e;
        tl_error_set(&e, TL_EOVERFLOW, TL_SQLSTATE_STATEMENT_TOO_COMPLEX,
                     "stack depth limit exceeded");
        tl_error_hint(&e,
                      "The statement chains more than %d operators or nests "
                      "more than %d levels of parentheses.",
                      SQL_MAX_CHAIN, SQL_MAX_NESTING);
        pgw_send_error(s->c, &e);
        return 'I';
    }
    PgQueryProtobufParseResult pr = pg_query_parse_protobuf(query);
    if (pr.error != NULL) {
        send_syntax_error(s, pr.error);
        pg_query_free_protobuf_parse_result(pr);
        return 'I';
    }
    PgQuery__ParseResult *tree = pg_query__parse_result__unpack(
        NULL, pr.parse_tree.len, (const uint8_t *)pr.parse_tree.data);
    if (tree == NULL) {
        struct tl_error e;
        tl_error_set(&e, TL_EPROTO, TL_SQLSTATE_INTERNAL_ERROR,
                     "could not decode parse tree");
        pgw_send_error(s->c, &e);
        pg_query_free_protobuf_parse_result(pr);
        return 'I';
    }
    if (tree->n_stmts == 0)
        pgw_send_empty_query(s->c);
    /* PostgreSQL runs a Query message as one implicit transaction: now()
     * and statement_timestamp() are the same for all its statements. */
    int64_t start_us = func_now_us();
    for (size_t i = 0; i < tree->n_stmts; i++) {
        struct sql_stmt st = {.s = s,
                              .r = s->r,
                              .c = s->c,
                              .a = &s->arena,
                              .query = query,
                              .start_us = start_us};
        int64_t timeout_ms = settings_statement_timeout_ms(s);
        st.deadline_ms = timeout_ms > 0 ? router_now_ms() + timeout_ms : 0;
        int rv = run_stmt(&st, tree->stmts[i]);
        tl_arena_reset(&s->arena);
        if (rv != 0) {
            if (!tl_error_is_set(&st.err))
                tl_error_set(&st.err, rv, tl_errno_sqlstate(rv), "%s",
                             tl_strerror(rv));
            pgw_send_error(s->c, &st.err);
            break;
        }
    }
    pg_query__parse_result__free_unpacked(tree, NULL);
    pg_query_free_protobuf_parse_result(pr);
    return 'I';
}
