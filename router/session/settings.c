/* settings — SET, RESET and SHOW of per-session parameters.
 *
 * Talus keeps what a session sets and shows it back; the parameters a
 * server reports (server_version, DateStyle, ...) have PostgreSQL's
 * defaults. Names are case-insensitive; SHOW answers under the canonical
 * spelling when the parameter is known. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base/sqlstate.h"
#include "router/core/router.h"
#include "router/session/backends.h"
#include "router/session/settings.h"
#include "router/sql/sql_int.h"
#include "router/txn/txn.h"

/* The text of SET's value list: "a, b". */
static int
value_text(struct sql_stmt *st, const PgQuery__VariableSetStmt *vs,
           const char **out)
{
    struct tl_buf b;
    tl_buf_init(&b);
    int rv = 0;
    for (size_t i = 0; i < vs->n_args && rv == 0; i++) {
        const PgQuery__Node *n = vs->args[i];
        struct tl_value v;
        rv = bind_const(st, n, &v);
        if (rv != 0)
            break;
        if (i > 0)
            tl_buf_printf(&b, ", ");
        if (!v.is_null)
            tl_value_to_text(&v, &b);
    }
    *out = tl_arena_strndup(st->a, b.len ? (const char *)b.data : "", b.len);
    tl_buf_close(&b);
    return rv;
}

static bool
is_utf8_name(const char *v)
{
    return strcasecmp(v, "UTF8") == 0 || strcasecmp(v, "UTF-8") == 0 ||
           strcasecmp(v, "UNICODE") == 0;
}

/* A duration as PostgreSQL reads statement_timeout: a number with an
 * optional unit (ms, s, min, h, d), milliseconds without one. -1 if
 * malformed or out of range. */
static int64_t
parse_ms(const char *v)
{
    static const struct {
        const char *unit;
        double ms;
    } units[] = {{"", 1},      {"ms", 1},    {"s", 1000},
                 {"min", 6e4}, {"h", 3.6e6}, {"d", 8.64e7}};
    char *end;
    double x = strtod(v, &end);
    if (end == v || x < 0)
        return -1;
    while (*end == ' ')
        end++;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(end, units[i].unit) == 0 && x * units[i].ms <= INT32_MAX)
            return (int64_t)(x * units[i].ms + 0.5);
    return -1;
}

/* A duration in milliseconds as SHOW prints it: in the largest unit that
 * holds it whole (PostgreSQL's _ShowOption() for GUC_UNIT_MS). */
static const char *
format_ms(struct sql_stmt *st, int64_t ms)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"d", 86400000},
                 {"h", 3600000},
                 {"min", 60000},
                 {"s", 1000},
                 {"ms", 1}};
    if (ms == 0)
        return "0";
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (ms % units[i].ms == 0)
            return tl_arena_printf(
                st->a, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
    return "0";
}

int64_t
settings_statement_timeout_ms(struct sql_session *s)
{
    const struct sql_setting *v = sql_guc_setting(s, "statement_timeout");
    int64_t ms = v != NULL ? parse_ms(v->value) : 0;
    return ms > 0 ? ms : 0;
}

int64_t
settings_lock_timeout_ms(struct sql_session *s)
{
    const struct sql_setting *v = sql_guc_setting(s, "lock_timeout");
    int64_t ms = v != NULL ? parse_ms(v->value) : 0;
    return ms > 0 ? ms : 0;
}

int64_t
settings_idle_in_transaction_timeout_ms(struct sql_session *s)
{
    const struct sql_setting *v =
        sql_guc_setting(s, "idle_in_transaction_session_timeout");
    int64_t ms = v != NULL ? parse_ms(v->value) : 0;
    return ms > 0 ? ms : 0;
}

/* SET [LOCAL] name = value. */
static int
set_value(struct sql_stmt *st, const PgQuery__VariableSetStmt *vs, bool local)
{
    const char *value;
    int rv = value_text(st, vs, &value);
    if (rv != 0)
        return rv;
    /* transaction_isolation and its kin live in the transaction state. */
    rv = sql_xact_guc_set(st, vs->name, value);
    if (rv <= 0)
        return rv;
    const struct sql_guc *d = sql_guc_find(vs->name);
    if (d != NULL &&
        (strcmp(d->name, "statement_timeout") == 0 ||
         strcmp(d->name, "idle_in_transaction_session_timeout") == 0)) {
        int64_t ms = parse_ms(value);
        char *end;
        long long neg = strtoll(value, &end, 10);
        if (ms < 0 && end != value && *end == '\0' && neg < 0)
            return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                             "%lld ms is outside the valid range for "
                             "parameter \"%s\" (0 .. 2147483647)",
                             neg, d->name);
        if (ms < 0)
            return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                             "invalid value for parameter \"%s\": \"%s\"",
                             d->name, value);
        value = format_ms(st, ms);
    }
    if (d != NULL && strcmp(d->name, "client_encoding") == 0) {
        if (!is_utf8_name(value))
            return sql_error(st, TL_EUNSUPPORTED,
                             TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                             "client_encoding \"%s\" is not supported; "
                             "Talus speaks UTF8",
                             value);
        value = "UTF8";
    }
    if (d != NULL && (strcmp(d->name, "max_connections") == 0 ||
                      strcmp(d->name, "superuser_reserved_connections") == 0 ||
                      strcmp(d->name, "max_prepared_transactions") == 0))
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_CANT_CHANGE_RUNTIME_PARAM,
                         "parameter \"%s\" cannot be changed without "
                         "restarting the server",
                         d->name);
    if (d != NULL && sql_guc_readonly(d))
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_CANT_CHANGE_RUNTIME_PARAM,
                         "parameter \"%s\" cannot be changed", d->name);
    if (strcasecmp(vs->name, SQL_GUC_AS_OF) == 0) {
        uint64_t ts;
        rv = sql_guc_as_of_check(st, value, &ts);
        if (rv != 0)
            return rv;
    }
    rv = local ? sql_guc_store_local(st, vs->name, value)
               : sql_guc_store(st, vs->name, value);
    if (rv == 0 && d != NULL && d->report)
        dest_param_status(st->dest, d->name, value);
    return rv;
}

int
settings_exec_set(struct sql_stmt *st, const PgQuery__VariableSetStmt *vs)
{
    int rv = 0;
    switch (vs->kind) {
    case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE:
        if (vs->is_local && !txn_in_block(st->s->txn)) {
            /* Outside a block the transaction is the statement: the value
             * would be gone at once (WarnNoTransactionBlock()). */
            struct tl_error w;
            tl_error_set(&w, 0, TL_SQLSTATE_NO_ACTIVE_SQL_TRANSACTION,
                         "SET LOCAL can only be used in transaction blocks");
            dest_notice(st->dest, &w, true);
            break;
        }
        rv = set_value(st, vs, vs->is_local);
        break;
    case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT:
    case PG_QUERY__VARIABLE_SET_KIND__VAR_RESET:
        sql_guc_remove(st->s, vs->name);
        sql_xact_guc_reset(st->s, vs->name);
        break;
    case PG_QUERY__VARIABLE_SET_KIND__VAR_RESET_ALL:
        sql_settings_free(st->s);
        sql_xact_guc_reset(st->s, NULL);
        break;
    case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_MULTI:
        /* SET TRANSACTION / SET SESSION CHARACTERISTICS AS TRANSACTION. */
        rv = sql_xact_set(st, vs);
        break;
    default:
        break;
    }
    if (rv != 0)
        return rv;
    bool reset = vs->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET ||
                 vs->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET_ALL;
    dest_complete(st->dest, reset ? "RESET" : "SET");
    return 0;
}

/* SHOW ALL: name, setting, description of every known parameter, and
 * the session's settings of parameters Talus does not know. */
static int
show_all(struct sql_stmt *st)
{
    struct dest_column cols[3] = {
        {.name = "name", .type = TL_TYPE_TEXT, .typmod = -1},
        {.name = "setting", .type = TL_TYPE_TEXT, .typmod = -1},
        {.name = "description", .type = TL_TYPE_TEXT, .typmod = -1},
    };
    int rv = dest_startup(st->dest, cols, 3);
    if (rv != 0 || st->describe_only)
        return rv;
    uint64_t n = 0;
    const struct sql_guc *g;
    for (size_t i = 0; (g = sql_guc_at(i)) != NULL && !st->dest->stop; i++) {
        const char *v = sql_guc_value(st, g->name);
        struct tl_value row[3] = {
            tl_value_text(TL_TYPE_TEXT, g->name, (uint32_t)strlen(g->name)),
            tl_value_text(TL_TYPE_TEXT, v, (uint32_t)strlen(v)),
            tl_value_text(TL_TYPE_TEXT, g->description,
                          (uint32_t)strlen(g->description)),
        };
        if ((rv = dest_row(st->dest, row, 3)) != 0)
            return rv;
        n++;
    }
    char tag[32];
    snprintf(tag, sizeof(tag), "SHOW");
    (void)n;
    dest_complete(st->dest, tag);
    return 0;
}

int
settings_exec_show(struct sql_stmt *st, const PgQuery__VariableShowStmt *vs)
{
    const char *name = vs->name;
    if (strcasecmp(name, "all") == 0)
        return show_all(st);
    const struct sql_guc *d = sql_guc_find(name);
    const char *value = sql_guc_value(st, name);
    if (value == NULL)
        return sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_OBJECT,
                         "unrecognized configuration parameter \"%s\"", name);
    const char *col = d != NULL ? d->name : name;
    /* PostgreSQL names the column as the parameter is spelled in its
     * catalog, lowercase for most. */
    sql_send_text_rows(st, col, &value, 1, "SHOW");
    return 0;
}
