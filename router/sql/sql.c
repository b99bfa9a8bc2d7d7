/* sql — the SQL state of a session and the helpers every statement uses:
 * errors, interrupts, notices, table lookup; utility statements. */
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
#include "router/core/sequences.h"
#include "router/sql/sql_int.h"
#include "router/txn/txn.h"

struct sql_session *
sql_session_create(struct router *r)
{
    struct sql_session *s = calloc(1, sizeof(*s));
    if (s == NULL)
        abort(); /* the header promises this cannot fail */
    s->r = r;
    s->txn = malloc(sizeof(*s->txn));
    if (s->txn == NULL)
        abort();
    txn_init(s->txn);
    txn_set_router(s->txn, r);
    tl_arena_init(&s->arena);
    return s;
}

void
sql_session_set_identity(struct sql_session *s, const struct sql_identity *id)
{
    snprintf(s->user, sizeof(s->user), "%s", id->user);
    snprintf(s->database, sizeof(s->database), "%s", id->database);
    snprintf(s->application_name, sizeof(s->application_name), "%s",
             id->application_name);
    s->backend_pid = id->backend_pid;
    s->superuser = id->superuser;
    s->max_connections = id->max_connections;
    s->reserved_connections = id->reserved_connections;
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
    sql_settings_free(s);
    sql_guc_xact_end(s, &s->arena, false, NULL, NULL);
    seqfunc_reset(s);
    txn_close(s->txn);
    free(s->txn);
    tl_arena_close(&s->arena);
    free(s);
}

void
sql_settings_free(struct sql_session *s)
{
    sql_guc_save_for_rollback(s);
    for (size_t i = 0; i < s->n_settings; i++) {
        free(s->settings[i].name);
        free(s->settings[i].value);
    }
    free(s->settings);
    s->settings = NULL;
    s->n_settings = 0;
    sql_guc_local_clear(s);
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
    dest_notice(st->dest, &e, false);
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
    int r = catalog_lookup(st->r->catalog, rv->relname, st->a, out,
                           &st->catalog_version, &st->err);
    if (r == TL_ENOTFOUND) {
        /* A sequence is a relation too, which Talus cannot read as one. */
        struct tl_sequence seq;
        struct tl_error scratch;
        if (st->r != NULL && st->r->sequences != NULL &&
            sequence_lookup(st->r, rv->relname, &seq, &scratch) == 0) {
            sql_unsupported(st, "using a sequence as a table");
            return sql_error_at(st, TL_EUNSUPPORTED, rv->location);
        }
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
    struct dest_column f = {.name = name, .type = TL_TYPE_TEXT, .typmod = -1};
    if (dest_startup(st->dest, &f, 1) != 0 || st->describe_only)
        return;
    for (size_t i = 0; i < n && !st->dest->stop; i++) {
        struct tl_value v =
            tl_value_text(TL_TYPE_TEXT, rows[i], (uint32_t)strlen(rows[i]));
        if (dest_row(st->dest, &v, 1) != 0)
            return;
    }
    dest_complete(st->dest, tag);
}

/* The leading keywords of a statement, for "X is not supported yet":
 * "CREATE INDEX", "ALTER TABLE", "TRUNCATE". */
const char *
sql_leading_keywords(struct sql_stmt *st, const char *text, int len)
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

/* VACUUM and ANALYZE: Talus has nothing to vacuum (RocksDB compacts) and
 * no planner statistics yet, so they only check that the tables named
 * exist (42P01, without a position, as PostgreSQL reports it). */
int
sql_exec_vacuum(struct sql_stmt *st, const PgQuery__VacuumStmt *vs)
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
    dest_complete(st->dest, vs->is_vacuumcmd ? "VACUUM" : "ANALYZE");
    return 0;
}

int
sql_exec_discard(struct sql_stmt *st)
{
    sql_settings_free(st->s);
    sql_xact_guc_reset(st->s, NULL);
    seqfunc_reset(st->s);
    dest_complete(st->dest, "DISCARD ALL");
    return 0;
}
