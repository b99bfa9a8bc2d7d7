/* guc — the run-time parameters a session can SET and SHOW: their
 * PostgreSQL defaults, the session's own values, and what SHOW, SHOW ALL,
 * pg_settings, current_setting() and set_config() read and write.
 *
 * Names are case-insensitive; a known parameter answers under its
 * canonical spelling. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <time.h>

#include "common/base/sqlstate.h"
#include "datetime.h"
#include "router/sql/sql_int.h"
#include "router/txn/txn.h"

/* clang-format off */
static const struct sql_guc gucs[] = {
    {"application_name", "", true, "Sets the application name to be reported in statistics and logs."},
    {"block_size", "8192", false, "Shows the size of a disk block."},
    {"bytea_output", "hex", false, "Sets the output format for bytea."},
    {"client_encoding", "UTF8", true, "Sets the client's character set encoding."},
    {"DateStyle", "ISO, MDY", true, "Sets the display format for date and time values."},
    {"default_transaction_deferrable", "off", false, "Sets the default deferrable status of new transactions."},
    {"default_transaction_isolation", "read committed", false, "Sets the transaction isolation level of each new transaction."},
    {"default_transaction_read_only", "off", false, "Sets the default read-only status of new transactions."},
    {"extra_float_digits", "1", false, "Sets the number of digits displayed for floating-point values."},
    {"idle_in_transaction_session_timeout", "0", false, "Sets the maximum allowed idle time between queries, when in a transaction."},
    {"integer_datetimes", "on", false, "Shows whether datetimes are integer based."},
    {"IntervalStyle", "postgres", true, "Sets the display format for interval values."},
    {"is_superuser", "on", false, "Shows whether the current user is a superuser."},
    {"lc_messages", "C", false, "Sets the language in which messages are displayed."},
    {"lc_monetary", "C", false, "Sets the locale for formatting monetary amounts."},
    {"lc_numeric", "C", false, "Sets the locale for formatting numbers."},
    {"lc_time", "C", false, "Sets the locale for formatting date and time values."},
    {"lock_timeout", "0", false, "Sets the maximum allowed duration of any wait for a lock."},
    {"max_connections", "1000", false, "Sets the maximum number of concurrent connections."},
    {"max_identifier_length", "63", false, "Shows the maximum identifier length."},
    {"max_prepared_transactions", "0", false, "Sets the maximum number of simultaneously prepared transactions."},
    {"search_path", "\"$user\", public", false, "Sets the schema search order for names that are not schema-qualified."},
    {"server_encoding", "UTF8", false, "Shows the server (database) character set encoding."},
    {"server_version", "15.0", false, "Shows the server version."},
    {"server_version_num", "150000", false, "Shows the server version as an integer."},
    {"standard_conforming_strings", "on", true, "Causes '...' strings to treat backslashes literally."},
    {"statement_timeout", "0", false, "Sets the maximum allowed duration of any statement."},
    {"superuser_reserved_connections", "3", false, "Sets the number of connection slots reserved for superusers."},
    {"TimeZone", "UTC", true, "Sets the time zone for displaying and interpreting time stamps."},
    {"transaction_deferrable", "off", false, "Whether to defer a read-only serializable transaction until it can be executed with no possible serialization failures."},
    {"transaction_isolation", "read committed", false, "Sets the current transaction's isolation level."},
    {"transaction_read_only", "off", false, "Sets the current transaction's read-only status."},
    {NULL, NULL, false, NULL},
};
/* clang-format on */

const struct sql_guc *
sql_guc_find(const char *name)
{
    for (const struct sql_guc *g = gucs; g->name != NULL; g++)
        if (strcasecmp(g->name, name) == 0)
            return g;
    return NULL;
}

const struct sql_guc *
sql_guc_at(size_t i)
{
    return i < sizeof(gucs) / sizeof(gucs[0]) - 1 ? &gucs[i] : NULL;
}

bool
sql_guc_readonly(const struct sql_guc *g)
{
    return strncmp(g->name, "server_", 7) == 0 ||
           strcmp(g->name, "max_identifier_length") == 0 ||
           strcmp(g->name, "is_superuser") == 0 ||
           strcmp(g->name, "block_size") == 0 ||
           strcmp(g->name, "integer_datetimes") == 0 ||
           strcmp(g->name, "max_connections") == 0 ||
           strcmp(g->name, "max_prepared_transactions") == 0 ||
           strcmp(g->name, "superuser_reserved_connections") == 0;
}

static struct sql_setting *
find_in(struct sql_setting *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

struct sql_setting *
sql_guc_setting(struct sql_session *s, const char *name)
{
    /* A SET LOCAL value hides the session's until the transaction ends. */
    struct sql_setting *v =
        find_in(s->local_settings, s->n_local_settings, name);
    return v != NULL ? v : find_in(s->settings, s->n_settings, name);
}

/* Forget @name in the list @v of *@n. */
static void
remove_in(struct sql_setting *v, size_t *n, const char *name)
{
    struct sql_setting *e = find_in(v, *n, name);
    if (e == NULL)
        return;
    free(e->name);
    free(e->value);
    *e = v[--*n];
}

static void
free_list(struct sql_setting *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
}

/* A copy of the list @v of @n settings (the few a session has: a
 * failure to allocate them is fatal, as for the session itself). */
static struct sql_setting *
copy_list(const struct sql_setting *v, size_t n)
{
    struct sql_setting *copy = calloc(n + 1, sizeof(*copy));
    if (copy == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        copy[i].name = strdup(v[i].name);
        copy[i].value = strdup(v[i].value);
        if (copy[i].name == NULL || copy[i].value == NULL)
            abort();
    }
    return copy;
}

/* The values of the reported parameters into @out (in @st's arena), as
 * many as there are reported parameters (at most @max). */
static size_t
reported_values(struct sql_stmt *st, const char **out, size_t max)
{
    size_t n = 0;
    for (const struct sql_guc *g = gucs; g->name != NULL && n < max; g++)
        if (g->report)
            out[n++] = tl_arena_strdup(st->a, sql_guc_value(st, g->name));
    return n;
}

/* Pass each reported parameter whose value is no longer @before's to
 * @report. */
static void
report_changes(struct sql_stmt *st, const char **before, size_t n,
               sql_guc_report_fn report, void *arg)
{
    size_t i = 0;
    for (const struct sql_guc *g = gucs; g->name != NULL && i < n; g++) {
        if (!g->report)
            continue;
        const char *now = sql_guc_value(st, g->name);
        if (strcmp(before[i++], now) != 0)
            report(arg, g->name, now);
    }
}

static void
stmt_of(struct sql_stmt *st, struct sql_session *s, struct tl_arena *a)
{
    memset(st, 0, sizeof(*st));
    st->s = s;
    st->r = s->r;
    st->a = a;
}

void
sql_guc_save_for_rollback(struct sql_session *s)
{
    if (s->txn == NULL || !s->txn->open || s->has_saved_settings)
        return;
    s->saved_settings = copy_list(s->settings, s->n_settings);
    s->n_saved_settings = s->n_settings;
    s->has_saved_settings = true;
}

void
sql_guc_savepoint_push(struct sql_session *s)
{
    struct sql_settings_copy *v =
        realloc(s->sp_settings, (s->n_sp_settings + 1) * sizeof(*v));
    if (v == NULL)
        abort();
    s->sp_settings = v;
    struct sql_settings_copy *c = &v[s->n_sp_settings++];
    c->settings = copy_list(s->settings, s->n_settings);
    c->n_settings = s->n_settings;
    c->local = copy_list(s->local_settings, s->n_local_settings);
    c->n_local = s->n_local_settings;
}

void
sql_guc_savepoint_truncate(struct sql_session *s, size_t keep)
{
    while (s->n_sp_settings > keep) {
        struct sql_settings_copy *c = &s->sp_settings[--s->n_sp_settings];
        free_list(c->settings, c->n_settings);
        free_list(c->local, c->n_local);
    }
    if (s->n_sp_settings == 0) {
        free(s->sp_settings);
        s->sp_settings = NULL;
    }
}

void
sql_guc_savepoint_restore(struct sql_stmt *st, size_t level,
                          sql_guc_report_fn report, void *arg)
{
    struct sql_session *s = st->s;
    if (level >= s->n_sp_settings)
        return;
    const char *before[32];
    size_t n = reported_values(st, before, 32);
    sql_guc_savepoint_truncate(s, level + 1);
    const struct sql_settings_copy *c = &s->sp_settings[level];
    sql_guc_save_for_rollback(s);
    free_list(s->settings, s->n_settings);
    free_list(s->local_settings, s->n_local_settings);
    s->settings = copy_list(c->settings, c->n_settings);
    s->n_settings = c->n_settings;
    s->local_settings = copy_list(c->local, c->n_local);
    s->n_local_settings = c->n_local;
    report_changes(st, before, n, report, arg);
}

void
sql_guc_xact_end(struct sql_session *s, struct tl_arena *a, bool rolled_back,
                 sql_guc_report_fn report, void *arg)
{
    if (s->n_local_settings == 0 && s->n_sp_settings == 0 &&
        !s->has_saved_settings)
        return;
    struct sql_stmt st;
    const char *before[32];
    size_t n = 0;
    stmt_of(&st, s, a);
    if (report != NULL)
        n = reported_values(&st, before, 32);
    sql_guc_local_clear(s);
    sql_guc_savepoint_truncate(s, 0);
    if (s->has_saved_settings && rolled_back) {
        free_list(s->settings, s->n_settings);
        s->settings = s->saved_settings;
        s->n_settings = s->n_saved_settings;
    } else if (s->has_saved_settings) {
        free_list(s->saved_settings, s->n_saved_settings);
    }
    s->saved_settings = NULL;
    s->n_saved_settings = 0;
    s->has_saved_settings = false;
    if (report != NULL)
        report_changes(&st, before, n, report, arg);
}

void
sql_guc_remove(struct sql_session *s, const char *name)
{
    sql_guc_save_for_rollback(s);
    remove_in(s->settings, &s->n_settings, name);
    remove_in(s->local_settings, &s->n_local_settings, name);
}

/* Keep @name = @value in the list *@arr of *@n (copied). */
static int
store_in(struct sql_stmt *st, struct sql_setting **arr, size_t *n,
         const char *name, const char *value)
{
    struct sql_setting *v = find_in(*arr, *n, name);
    char *copy = strdup(value);
    if (copy == NULL)
        return sql_error(st, TL_ENOMEM, TL_SQLSTATE_OUT_OF_MEMORY,
                         "out of memory");
    if (v != NULL) {
        free(v->value);
        v->value = copy;
        return 0;
    }
    struct sql_setting *grown = realloc(*arr, (*n + 1) * sizeof(*grown));
    char *ncopy = strdup(name);
    if (grown == NULL || ncopy == NULL) {
        if (grown != NULL)
            *arr = grown;
        free(copy);
        free(ncopy);
        return sql_error(st, TL_ENOMEM, TL_SQLSTATE_OUT_OF_MEMORY,
                         "out of memory");
    }
    for (char *p = ncopy; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    *arr = grown;
    (*arr)[*n].name = ncopy;
    (*arr)[*n].value = copy;
    (*n)++;
    return 0;
}

int
sql_guc_store(struct sql_stmt *st, const char *name, const char *value)
{
    struct sql_session *s = st->s;
    sql_guc_save_for_rollback(s);
    /* A plain SET outlives the transaction: it replaces a SET LOCAL. */
    remove_in(s->local_settings, &s->n_local_settings, name);
    return store_in(st, &s->settings, &s->n_settings, name, value);
}

int
sql_guc_store_local(struct sql_stmt *st, const char *name, const char *value)
{
    struct sql_session *s = st->s;
    return store_in(st, &s->local_settings, &s->n_local_settings, name, value);
}

void
sql_guc_local_clear(struct sql_session *s)
{
    free_list(s->local_settings, s->n_local_settings);
    s->local_settings = NULL;
    s->n_local_settings = 0;
}

const char *
sql_guc_value(struct sql_stmt *st, const char *name)
{
    const char *xv = sql_xact_guc_value(st->s, name);
    if (xv != NULL)
        return xv;
    const struct sql_setting *set = sql_guc_setting(st->s, name);
    if (set != NULL)
        return set->value;
    const struct sql_guc *g = sql_guc_find(name);
    if (g == NULL)
        return NULL;
    if (strcmp(g->name, "application_name") == 0)
        return st->s->application_name;
    if (strcmp(g->name, "is_superuser") == 0)
        return st->s->superuser ? "on" : "off";
    if (strcmp(g->name, "max_connections") == 0 && st->s->max_connections > 0)
        return tl_arena_printf(st->a, "%d", st->s->max_connections);
    if (strcmp(g->name, "superuser_reserved_connections") == 0 &&
        st->s->max_connections > 0)
        return tl_arena_printf(st->a, "%d", st->s->reserved_connections);
    return g->value;
}

/* ------------------------------------------------------ talus.as_of */

/* Microseconds from the Unix epoch to PostgreSQL's (2000-01-01). */
#define PG_EPOCH_UNIX_US INT64_C(946684800000000)
/* Oracle timestamps: physical milliseconds << 18 | logical. */
#define AS_OF_LOGICAL_BITS 18

static int64_t
wall_unix_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* The oracle timestamp of Unix microseconds @us: the last one of its
 * millisecond, so every commit at or before that time is seen. */
static uint64_t
oracle_ts_of(int64_t us)
{
    uint64_t ms = (uint64_t)(us / 1000);
    return ms << AS_OF_LOGICAL_BITS | ((UINT64_C(1) << AS_OF_LOGICAL_BITS) - 1);
}

int
sql_guc_as_of_check(struct sql_stmt *st, const char *value, uint64_t *ts)
{
    struct tl_error perr;
    int64_t pg_us;

    *ts = 0;
    if (value[0] == '\0')
        return 0; /* SET talus.as_of = '': reads at the present */
    tl_error_clear(&perr);
    if (tl_datetime_parse(TL_TYPE_TIMESTAMPTZ, value, strlen(value), &pg_us,
                          &perr) != 0 ||
        pg_us == TL_TS_NOBEGIN || pg_us == TL_TS_NOEND) {
        sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                  "invalid value for parameter \"%s\": \"%s\"", SQL_GUC_AS_OF,
                  value);
        if (tl_error_is_set(&perr))
            tl_error_detail(&st->err, "%s", perr.message);
        tl_error_hint(&st->err, "Give a timestamp with time zone, such as "
                                "'2026-01-31 12:00:00+00'.");
        return TL_EINVAL;
    }
    int64_t us = pg_us + PG_EPOCH_UNIX_US;
    if (us <= 0) {
        sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                  "invalid value for parameter \"%s\": \"%s\"", SQL_GUC_AS_OF,
                  value);
        tl_error_detail(&st->err, "The time is before 1970.");
        return TL_EINVAL;
    }
    if (us > wall_unix_us()) {
        sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                  "invalid value for parameter \"%s\": \"%s\"", SQL_GUC_AS_OF,
                  value);
        tl_error_detail(&st->err, "The time is in the future.");
        tl_error_hint(&st->err,
                      "Reads as of a time see what was committed "
                      "by then; RESET %s reads the present.",
                      SQL_GUC_AS_OF);
        return TL_EINVAL;
    }
    *ts = oracle_ts_of(us);
    return 0;
}

uint64_t
sql_stmt_as_of(struct sql_stmt *st)
{
    if (st->s == NULL)
        return 0;
    const struct sql_setting *v = sql_guc_setting(st->s, SQL_GUC_AS_OF);
    int64_t pg_us;
    if (v == NULL || v->value[0] == '\0' ||
        tl_datetime_parse(TL_TYPE_TIMESTAMPTZ, v->value, strlen(v->value),
                          &pg_us, NULL) != 0 ||
        pg_us == TL_TS_NOBEGIN || pg_us == TL_TS_NOEND ||
        pg_us + PG_EPOCH_UNIX_US <= 0)
        return 0;
    return oracle_ts_of(pg_us + PG_EPOCH_UNIX_US);
}
