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

struct param_default {
    const char *name; /* canonical spelling */
    const char *value;
    bool report; /* sent as ParameterStatus when set */
};

static const struct param_default defaults[] = {
    {"server_version", "15.0", false},
    {"server_version_num", "150000", false},
    {"server_encoding", "UTF8", false},
    {"client_encoding", "UTF8", true},
    {"DateStyle", "ISO, MDY", true},
    {"IntervalStyle", "postgres", true},
    {"TimeZone", "UTC", true},
    {"standard_conforming_strings", "on", true},
    {"integer_datetimes", "on", false},
    {"transaction_isolation", "read committed", false},
    {"default_transaction_isolation", "read committed", false},
    {"transaction_read_only", "off", false},
    {"default_transaction_read_only", "off", false},
    {"application_name", "", true},
    {"search_path", "\"$user\", public", false},
    {"extra_float_digits", "1", false},
    {"statement_timeout", "0", false},
    {"lock_timeout", "0", false},
    {"idle_in_transaction_session_timeout", "0", false},
    {"max_identifier_length", "63", false},
    {"is_superuser", "on", false},
    {"lc_messages", "C", false},
    {"lc_monetary", "C", false},
    {"lc_numeric", "C", false},
    {"lc_time", "C", false},
    {"bytea_output", "hex", false},
    {"max_connections", "1000", false}, /* the router's, when it has one */
    {"superuser_reserved_connections", "3", false},
    {"block_size", "8192", false},
    {NULL, NULL, false},
};

static const struct param_default *
find_default(const char *name)
{
    for (const struct param_default *d = defaults; d->name != NULL; d++)
        if (strcasecmp(d->name, name) == 0)
            return d;
    return NULL;
}

static struct sql_setting *
find_setting(struct sql_session *s, const char *name)
{
    for (size_t i = 0; i < s->n_settings; i++)
        if (strcasecmp(s->settings[i].name, name) == 0)
            return &s->settings[i];
    return NULL;
}

static void
remove_setting(struct sql_session *s, const char *name)
{
    struct sql_setting *v = find_setting(s, name);
    if (v == NULL)
        return;
    free(v->name);
    free(v->value);
    *v = s->settings[--s->n_settings];
}

static int
store_setting(struct sql_stmt *st, const char *name, const char *value)
{
    struct sql_session *s = st->s;
    struct sql_setting *v = find_setting(s, name);
    char *copy = strdup(value);
    if (copy == NULL)
        return sql_error(st, TL_ENOMEM, TL_SQLSTATE_OUT_OF_MEMORY,
                         "out of memory");
    if (v != NULL) {
        free(v->value);
        v->value = copy;
        return 0;
    }
    struct sql_setting *arr =
        realloc(s->settings, (s->n_settings + 1) * sizeof(*arr));
    char *ncopy = strdup(name);
    if (arr == NULL || ncopy == NULL) {
        if (arr != NULL)
            s->settings = arr;
        free(copy);
        free(ncopy);
        return sql_error(st, TL_ENOMEM, TL_SQLSTATE_OUT_OF_MEMORY,
                         "out of memory");
    }
    for (char *p = ncopy; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    s->settings = arr;
    s->settings[s->n_settings].name = ncopy;
    s->settings[s->n_settings].value = copy;
    s->n_settings++;
    return 0;
}

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

int64_t
settings_statement_timeout_ms(struct sql_session *s)
{
    const struct sql_setting *v = find_setting(s, "statement_timeout");
    int64_t ms = v != NULL ? parse_ms(v->value) : 0;
    return ms > 0 ? ms : 0;
}

static int
set_value(struct sql_stmt *st, const PgQuery__VariableSetStmt *vs)
{
    const char *value;
    int rv = value_text(st, vs, &value);
    if (rv != 0)
        return rv;
    const struct param_default *d = find_default(vs->name);
    if (d != NULL && strcmp(d->name, "statement_timeout") == 0 &&
        parse_ms(value) < 0)
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                         "invalid value for parameter \"statement_timeout\": "
                         "\"%s\"",
                         value);
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
                      strcmp(d->name, "superuser_reserved_connections") == 0))
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_CANT_CHANGE_RUNTIME_PARAM,
                         "parameter \"%s\" cannot be changed without "
                         "restarting the server",
                         d->name);
    if (d != NULL && (strncmp(d->name, "server_", 7) == 0 ||
                      strcmp(d->name, "max_identifier_length") == 0 ||
                      strcmp(d->name, "is_superuser") == 0 ||
                      strcmp(d->name, "block_size") == 0))
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_CANT_CHANGE_RUNTIME_PARAM,
                         "parameter \"%s\" cannot be changed", d->name);
    rv = store_setting(st, vs->name, value);
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
        if (vs->is_local) {
            struct tl_error w;
            tl_error_set(&w, 0, TL_SQLSTATE_NO_ACTIVE_SQL_TRANSACTION,
                         "SET LOCAL can only be used in transaction blocks");
            dest_notice(st->dest, &w, true);
            break;
        }
        rv = set_value(st, vs);
        break;
    case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT:
    case PG_QUERY__VARIABLE_SET_KIND__VAR_RESET:
        remove_setting(st->s, vs->name);
        break;
    case PG_QUERY__VARIABLE_SET_KIND__VAR_RESET_ALL:
        sql_settings_free(st->s);
        break;
    default:
        /* SET TRANSACTION / SET SESSION CHARACTERISTICS: nothing to keep
         * while Talus runs every statement on its own. */
        break;
    }
    if (rv != 0)
        return rv;
    bool reset = vs->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET ||
                 vs->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET_ALL;
    dest_complete(st->dest, reset ? "RESET" : "SET");
    return 0;
}

/* The connection limits this router enforces (backends.h), as text in the
 * statement arena; NULL for another parameter, or without a table. */
static const char *
server_limit(struct sql_stmt *st, const char *name)
{
    if (st->r->backends == NULL)
        return NULL;
    const struct backend_limits *l = backends_limits(st->r->backends);
    int v;
    if (strcmp(name, "max_connections") == 0)
        v = l->max_connections;
    else if (strcmp(name, "superuser_reserved_connections") == 0)
        v = l->reserved;
    else
        return NULL;
    char *out = tl_arena_alloc(st->a, 16);
    snprintf(out, 16, "%d", v);
    return out;
}

int
settings_exec_show(struct sql_stmt *st, const PgQuery__VariableShowStmt *vs)
{
    const char *name = vs->name;
    if (strcasecmp(name, "all") == 0)
        return sql_unsupported(st, "SHOW ALL");
    const struct param_default *d = find_default(name);
    const struct sql_setting *set = find_setting(st->s, name);
    const char *value = NULL;
    if (set != NULL)
        value = set->value;
    else if (d != NULL && strcmp(d->name, "application_name") == 0)
        value = st->s->application_name;
    else if (d != NULL && strcmp(d->name, "is_superuser") == 0)
        value = st->s->superuser ? "on" : "off";
    else if (d != NULL && (value = server_limit(st, d->name)) != NULL)
        ;
    else if (d != NULL)
        value = d->value;
    if (value == NULL)
        return sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_OBJECT,
                         "unrecognized configuration parameter \"%s\"", name);
    const char *col = d != NULL ? d->name : name;
    /* PostgreSQL names the column as the parameter is spelled in its
     * catalog, lowercase for most. */
    sql_send_text_rows(st, col, &value, 1, "SHOW");
    return 0;
}
