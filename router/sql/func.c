/* func — the functions the router answers itself, once per statement:
 * version(), the session's identity (current_user, current_database(),
 * current_schema, pg_backend_pid()) and the clock (now(),
 * CURRENT_TIMESTAMP, CURRENT_DATE, ...).
 *
 * None of them reads a row, so each call is bound straight into a
 * constant: it then works wherever an expression does (a SELECT list,
 * WHERE, INSERT VALUES, UPDATE SET) and the nodes only ever see its value.
 * The session time zone is always UTC, so a timestamp and a timestamptz of
 * the same instant hold the same microseconds and CURRENT_DATE is the UTC
 * day. PostgreSQL returns type name (OID 19) for the identity functions;
 * Talus has no name type and returns text (OID 25). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/base/sqlstate.h"
#include "router/sql/sql_int.h"

/* Seconds from 1970-01-01 to 2000-01-01 (PostgreSQL's epoch). */
#define EPOCH_2000_S INT64_C(946684800)
#define USECS_PER_DAY INT64_C(86400000000)

#if defined(__x86_64__)
#define FUNC_ARCH "x86_64-pc-linux-gnu"
#elif defined(__aarch64__)
#define FUNC_ARCH "aarch64-unknown-linux-gnu"
#else
#define FUNC_ARCH "unknown-linux-gnu"
#endif

#if defined(__clang__)
#define FUNC_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define FUNC_COMPILER "gcc " __VERSION__
#else
#define FUNC_COMPILER "cc"
#endif

/* "PostgreSQL X.Y" first, as drivers parse it; SHOW server_version says
 * the same 15.0. */
static const char version_text[] =
    "PostgreSQL 15.0 (Talus) on " FUNC_ARCH ", compiled by " FUNC_COMPILER ", "
    "64-bit";

enum func_id {
    FUNC_VERSION,
    FUNC_CURRENT_DATABASE,
    FUNC_CURRENT_SCHEMA,
    FUNC_NOW,
    FUNC_STATEMENT_TIMESTAMP,
    FUNC_CLOCK_TIMESTAMP,
    FUNC_BACKEND_PID,
};

static const struct {
    const char *name;
    enum func_id id;
} funcs[] = {
    {"version", FUNC_VERSION},
    {"current_database", FUNC_CURRENT_DATABASE},
    {"current_schema", FUNC_CURRENT_SCHEMA},
    {"now", FUNC_NOW},
    {"transaction_timestamp", FUNC_NOW},
    {"statement_timestamp", FUNC_STATEMENT_TIMESTAMP},
    {"clock_timestamp", FUNC_CLOCK_TIMESTAMP},
    {"pg_backend_pid", FUNC_BACKEND_PID},
};

int64_t
func_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((int64_t)ts.tv_sec - EPOCH_2000_S) * 1000000 +
           (int64_t)ts.tv_nsec / 1000;
}

/* The instant the statement's Query message began to run. */
static int64_t
start_us(const struct sql_stmt *st)
{
    return st->start_us != 0 ? st->start_us : func_now_us();
}

/* PostgreSQL's AdjustTimestampForTypmod(): round @us to @precision
 * fractional digits, halves away from zero. */
static int64_t
round_us(int64_t us, int32_t precision)
{
    static const int64_t scale[] = {1000000, 100000, 10000, 1000, 100, 10, 1};
    if (precision < 0 || precision >= 6)
        return us;
    int64_t sc = scale[precision], half = sc / 2;
    if (us >= 0)
        return (us + half) / sc * sc;
    return -((half - us) / sc * sc);
}

/* Floor division: days before 2000-01-01 round down. */
static int64_t
day_of(int64_t us)
{
    int64_t d = us / USECS_PER_DAY;
    return us % USECS_PER_DAY < 0 ? d - 1 : d;
}

static struct tl_expr *
const_int(struct sql_stmt *st, uint8_t type, int64_t i)
{
    struct tl_value v = tl_value_int(type, i);
    struct tl_expr *e = tl_expr_const(st->a, &v);
    e->type = type;
    return e;
}

/* A text constant of @s, copied into st->a. */
static struct tl_expr *
const_text(struct sql_stmt *st, const char *s)
{
    const char *p = tl_arena_strdup(st->a, s);
    struct tl_value v = tl_value_text(TL_TYPE_TEXT, p, (uint32_t)strlen(p));
    struct tl_expr *e = tl_expr_const(st->a, &v);
    e->type = TL_TYPE_TEXT;
    return e;
}

static const char *
session_user(const struct sql_stmt *st)
{
    return st->s != NULL ? st->s->user : "";
}

int
func_bind_call(struct sql_stmt *st, const PgQuery__FuncCall *f,
               struct tl_expr **out)
{
    const char *name = NULL, *schema = NULL;
    if (f->n_funcname == 1 || f->n_funcname == 2)
        name = sql_node_str(f->funcname[f->n_funcname - 1]);
    if (f->n_funcname == 2)
        schema = sql_node_str(f->funcname[0]);
    if (name == NULL || (f->n_funcname == 2 &&
                         (schema == NULL || strcmp(schema, "pg_catalog") != 0)))
        return 1;
    size_t i = 0;
    while (i < sizeof(funcs) / sizeof(funcs[0]) &&
           strcmp(funcs[i].name, name) != 0)
        i++;
    /* All of them take no argument: any other call is PostgreSQL's
     * "function now(integer) does not exist", which the caller reports. */
    if (i == sizeof(funcs) / sizeof(funcs[0]) || f->n_args != 0 ||
        f->agg_star || f->agg_distinct || f->func_variadic)
        return 1;
    if (f->over != NULL) {
        sql_error(st, TL_ETYPE, TL_SQLSTATE_WRONG_OBJECT_TYPE,
                  "OVER specified, but %s is not a window function nor an "
                  "aggregate function",
                  name);
        return sql_error_at(st, TL_ETYPE, f->location);
    }
    if (f->agg_filter != NULL || f->n_agg_order > 0) {
        sql_error(st, TL_ETYPE, TL_SQLSTATE_WRONG_OBJECT_TYPE,
                  "%s specified, but %s is not an aggregate function",
                  f->agg_filter != NULL ? "FILTER" : "ORDER BY", name);
        return sql_error_at(st, TL_ETYPE, f->location);
    }
    switch (funcs[i].id) {
    case FUNC_VERSION:
        *out = const_text(st, version_text);
        return 0;
    case FUNC_CURRENT_DATABASE:
        *out = const_text(st, st->s != NULL ? st->s->database : "");
        return 0;
    case FUNC_CURRENT_SCHEMA:
        *out = const_text(st, "public");
        return 0;
    case FUNC_NOW:
    case FUNC_STATEMENT_TIMESTAMP:
        *out = const_int(st, TL_TYPE_TIMESTAMPTZ, start_us(st));
        return 0;
    case FUNC_CLOCK_TIMESTAMP:
        *out = const_int(st, TL_TYPE_TIMESTAMPTZ, func_now_us());
        return 0;
    case FUNC_BACKEND_PID:
        *out = const_int(st, TL_TYPE_INT4,
                         st->s != NULL ? (int64_t)st->s->backend_pid : 0);
        return 0;
    }
    return 1;
}

int
func_bind_sqlvalue(struct sql_stmt *st, const PgQuery__SQLValueFunction *f,
                   struct tl_expr **out)
{
    int64_t now = start_us(st);
    switch (f->op) {
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_DATE:
        *out = const_int(st, TL_TYPE_DATE, day_of(now));
        return 0;
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP_N:
        *out = const_int(st, TL_TYPE_TIMESTAMPTZ, round_us(now, f->typmod));
        (*out)->typmod = f->typmod;
        return 0;
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP_N:
        *out = const_int(st, TL_TYPE_TIMESTAMP, round_us(now, f->typmod));
        (*out)->typmod = f->typmod;
        return 0;
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_ROLE:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_USER:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_USER:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_SESSION_USER:
        *out = const_text(st, session_user(st));
        return 0;
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_CATALOG:
        *out = const_text(st, st->s != NULL ? st->s->database : "");
        return 0;
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_SCHEMA:
        *out = const_text(st, "public");
        return 0;
    default:
        /* CURRENT_TIME and LOCALTIME: Talus has no time type. */
        sql_unsupported(
            st,
            f->op == PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIME ||
                    f->op == PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIME_N
                ? "LOCALTIME"
                : "CURRENT_TIME");
        return sql_error_at(st, TL_EUNSUPPORTED, f->location);
    }
}

const char *
func_sqlvalue_name(const PgQuery__SQLValueFunction *f)
{
    switch (f->op) {
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_DATE:
        return "current_date";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIME:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIME_N:
        return "current_time";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP_N:
        return "current_timestamp";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIME:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIME_N:
        return "localtime";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP_N:
        return "localtimestamp";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_ROLE:
        return "current_role";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_USER:
        return "current_user";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_USER:
        return "user";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_SESSION_USER:
        return "session_user";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_CATALOG:
        return "current_catalog";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_SCHEMA:
        return "current_schema";
    default:
        return "?column?";
    }
}
