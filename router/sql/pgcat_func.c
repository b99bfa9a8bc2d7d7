/* pgcat_func — the catalog functions and casts of router-side queries:
 * format_type, pg_get_userbyid, pg_table_is_visible, pg_get_expr,
 * pg_get_indexdef, pg_get_constraintdef, the *_description functions,
 * privilege checks, array_to_string and friends over the text form of
 * arrays, and casts to regclass, regtype, regnamespace, oid, name, "char"
 * and array types. Each call binds into a TL_EXPR_EXT node whose data is
 * the statement's catalog snapshot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base/sqlstate.h"
#include "router/sql/pgcat.h"
#include "router/sql/query.h"
#include "router/sql/sql_int.h"
#include "router/txn/txn.h"
#include "sequence.h"

typedef int (*fn_impl)(struct pgcat *cat, const struct tl_value *args,
                       uint32_t n, struct tl_arena *a, struct tl_value *out,
                       struct tl_error *err);

struct fn_def {
    const char *name;
    uint32_t min_args, max_args;
    uint8_t type;     /* result */
    const char *args; /* argument types, one letter each: o oid (bigint),
                         t text, i integer, b bool, a array (text), '*'
                         any */
    bool strict;      /* NULL in, NULL out */
    fn_impl impl;
};

/* The data of one bound call. */
struct fn_call {
    const struct fn_def *def;
    struct pgcat *cat;
};

static struct tl_value
text_value(struct tl_arena *a, const char *s)
{
    if (s == NULL)
        return tl_value_null(TL_TYPE_TEXT);
    return tl_value_text(TL_TYPE_TEXT, tl_arena_strdup(a, s),
                         (uint32_t)strlen(s));
}

/* The sequence whose OID is @oid, or NULL. */
static const struct tl_sequence *
find_seq_oid(const struct pgcat *cat, int64_t oid)
{
    for (size_t i = 0; i < cat->n_seqs; i++)
        if (PGCAT_USER_OID_BASE + 4 * (int64_t)cat->seqs[i].id == oid)
            return &cat->seqs[i];
    return NULL;
}

/* The relation (table or view) whose OID is @oid, or NULL; indexes are
 * pgcat_index_by_oid()'s. */
static const struct pgcat_rel *
find_rel_oid(struct pgcat *cat, int64_t oid)
{
    struct pgcat_rel *rels;
    size_t n = pgcat_relations(cat, &rels);
    for (size_t i = 0; i < n; i++)
        if (rels[i].oid == oid)
            return &rels[i];
    return NULL;
}

static int
fn_userbyid(struct pgcat *cat, const struct tl_value *args, uint32_t n,
            struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)n;
    (void)err;
    if (args[0].u.i == PGCAT_ROLE_DATABASE_OWNER)
        *out = text_value(a, "pg_database_owner");
    else if (args[0].u.i == PGCAT_ROLE_BOOTSTRAP)
        *out = text_value(a, cat->user);
    else
        *out = text_value(a, tl_arena_printf(a, "unknown (OID=%lld)",
                                             (long long)args[0].u.i));
    return 0;
}

/* Visible through the search path (pg_catalog, public). */
static int
fn_table_visible(struct pgcat *cat, const struct tl_value *args, uint32_t n,
                 struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)n, (void)a, (void)err;
    const struct pgcat_rel *rl = find_rel_oid(cat, args[0].u.i);
    *out = tl_value_bool((rl != NULL && (rl->nsp == PGCAT_NS_PUBLIC ||
                                         rl->nsp == PGCAT_NS_PG_CATALOG)) ||
                         pgcat_index_by_oid(cat, args[0].u.i) != NULL ||
                         find_seq_oid(cat, args[0].u.i) != NULL);
    return 0;
}

static int
fn_true(struct pgcat *cat, const struct tl_value *args, uint32_t n,
        struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)cat, (void)args, (void)n, (void)a, (void)err;
    *out = tl_value_bool(true);
    return 0;
}

static int
fn_false(struct pgcat *cat, const struct tl_value *args, uint32_t n,
         struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)cat, (void)args, (void)n, (void)a, (void)err;
    *out = tl_value_bool(false);
    return 0;
}

static int
fn_null_text(struct pgcat *cat, const struct tl_value *args, uint32_t n,
             struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)cat, (void)args, (void)n, (void)a, (void)err;
    *out = tl_value_null(TL_TYPE_TEXT);
    return 0;
}

/* The display name of type @oid with PostgreSQL typmod @typmod. */
static const char *
format_type(struct pgcat *cat, struct tl_arena *a, int64_t oid, int64_t typmod)
{
    uint8_t t;
    if (oid < 0 || oid > UINT32_MAX ||
        tl_type_from_oid((uint32_t)oid, &t) != 0 || t == TL_TYPE_UNKNOWN) {
        switch (oid) {
        case 26:
            return "oid";
        case 19:
            return "name";
        case 18:
            return "\"char\"";
        case 2205:
            return "regclass";
        case 2206:
            return "regtype";
        case 24:
            return "regproc";
        case 705:
            return "unknown";
        case 1009:
            return "text[]";
        case 199:
            return "json[]";
        case 3807:
            return "jsonb[]";
        default:
            return "???";
        }
    }
    int32_t tm = typmod >= 4 && (t == TL_TYPE_VARCHAR || t == TL_TYPE_BPCHAR)
                     ? (int32_t)typmod - 4
                 : typmod >= 4 && typmod <= INT32_MAX && t == TL_TYPE_NUMERIC
                     ? (int32_t)typmod /* numeric(p,s) */
                 : typmod >= 0 && typmod <= INT32_MAX && t == TL_TYPE_INTERVAL
                     ? (int32_t)typmod
                     : -1;
    if (t == TL_TYPE_BPCHAR && tm < 0)
        return "bpchar";
    return bind_type_display(cat->st, t, tm);
}

static int
fn_format_type(struct pgcat *cat, const struct tl_value *args, uint32_t n,
               struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)n;
    (void)err;
    if (args[0].is_null) {
        *out = tl_value_null(TL_TYPE_TEXT);
        return 0;
    }
    int64_t typmod = args[1].is_null ? -1 : args[1].u.i;
    *out = text_value(a, format_type(cat, a, args[0].u.i, typmod));
    return 0;
}

static int
fn_get_expr(struct pgcat *cat, const struct tl_value *args, uint32_t n,
            struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)cat, (void)n, (void)a, (void)err;
    *out = args[0];
    return 0;
}

/* pg_get_indexdef(index [, column, pretty]): the CREATE INDEX (pretty:
 * with the table unqualified), or with a column number > 0 that key
 * column's name quoted as an identifier ('' past the last); NULL for an
 * OID that is no index. */
static int
fn_indexdef(struct pgcat *cat, const struct tl_value *args, uint32_t n,
            struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)err;
    const struct pgcat_index *ix = pgcat_index_by_oid(cat, args[0].u.i);
    if (ix == NULL) {
        *out = tl_value_null(TL_TYPE_TEXT);
        return 0;
    }
    int64_t column = n > 1 && !args[1].is_null ? args[1].u.i : 0;
    bool pretty = n > 2 && !args[2].is_null && args[2].u.b;
    if (column > 0) {
        *out = text_value(
            a, column <= ix->n_cols
                   ? pgcat_quote_ident(
                         a, ix->t->columns[ix->cols[column - 1]].name)
                   : "");
        return 0;
    }
    *out = text_value(a, pgcat_index_def(a, ix, pretty));
    return 0;
}

/* pg_get_constraintdef: the only constraints are primary keys, whose OID
 * is their index's plus one. */
static int
fn_constraintdef(struct pgcat *cat, const struct tl_value *args, uint32_t n,
                 struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)n;
    (void)err;
    const struct pgcat_index *ix = pgcat_index_by_oid(cat, args[0].u.i - 1);
    if (ix == NULL || !ix->primary) {
        *out = tl_value_null(TL_TYPE_TEXT);
        return 0;
    }
    struct tl_buf b;
    tl_buf_init(&b);
    tl_buf_printf(&b, "PRIMARY KEY (");
    for (uint32_t k = 0; k < ix->n_cols; k++)
        tl_buf_printf(&b, "%s%s", k ? ", " : "",
                      pgcat_quote_ident(a, ix->t->columns[ix->cols[k]].name));
    tl_buf_printf(&b, ")");
    *out = tl_value_text_dup(a, TL_TYPE_TEXT, b.data, b.len);
    tl_buf_close(&b);
    return 0;
}

static int
fn_encoding(struct pgcat *cat, const struct tl_value *args, uint32_t n,
            struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)cat, (void)n, (void)err;
    *out = text_value(a, args[0].u.i == 6   ? "UTF8"
                         : args[0].u.i == 0 ? "SQL_ASCII"
                                            : "");
    return 0;
}

static int
fn_quote_ident(struct pgcat *cat, const struct tl_value *args, uint32_t n,
               struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)cat, (void)n, (void)err;
    const char *s = tl_arena_strndup(a, args[0].u.s.p, args[0].u.s.len);
    const char *q = pgcat_quote_ident(a, s);
    if (q == s)
        *out = args[0];
    else
        *out = text_value(a, q);
    return 0;
}

static int
fn_array_to_string(struct pgcat *cat, const struct tl_value *args, uint32_t n,
                   struct tl_arena *a, struct tl_value *out,
                   struct tl_error *err)
{
    (void)cat;
    const char **el;
    size_t *lens, cnt;
    int rv = pgcat_array_parse(args[0].u.s.p, args[0].u.s.len, a, &el, &lens,
                               &cnt, err);
    if (rv != 0)
        return rv;
    struct tl_buf b;
    tl_buf_init(&b);
    bool first = true;
    for (size_t i = 0; i < cnt; i++) {
        const char *s = el[i];
        size_t len = lens[i];
        if (s == NULL) {
            if (n < 3 || args[2].is_null)
                continue;
            s = args[2].u.s.p;
            len = args[2].u.s.len;
        }
        if (!first)
            tl_buf_append(&b, args[1].u.s.p, args[1].u.s.len);
        tl_buf_append(&b, s, len);
        first = false;
    }
    *out = tl_value_text_dup(a, TL_TYPE_TEXT, b.data, b.len);
    tl_buf_close(&b);
    return 0;
}

static int
fn_array_length(struct pgcat *cat, const struct tl_value *args, uint32_t n,
                struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)cat;
    const char **el;
    size_t *lens, cnt;
    int rv = pgcat_array_parse(args[0].u.s.p, args[0].u.s.len, a, &el, &lens,
                               &cnt, err);
    if (rv != 0)
        return rv;
    if (cnt == 0 || (n > 1 && args[1].u.i != 1))
        *out = tl_value_null(TL_TYPE_INT4);
    else
        *out = tl_value_int(TL_TYPE_INT4, (int64_t)cnt);
    return 0;
}

static int
fn_array_lower(struct pgcat *cat, const struct tl_value *args, uint32_t n,
               struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    int rv = fn_array_length(cat, args, n, a, out, err);
    if (rv == 0 && !out->is_null)
        *out = tl_value_int(TL_TYPE_INT4, 1);
    return rv;
}

/* array_position(arr, x): the first element equal to @x, from 1. */
static int
fn_array_position(struct pgcat *cat, const struct tl_value *args, uint32_t n,
                  struct tl_arena *a, struct tl_value *out,
                  struct tl_error *err)
{
    (void)cat, (void)n;
    const char **el;
    size_t *lens, cnt;
    if (args[0].is_null) {
        *out = tl_value_null(TL_TYPE_INT4);
        return 0;
    }
    int rv = pgcat_array_parse(args[0].u.s.p, args[0].u.s.len, a, &el, &lens,
                               &cnt, err);
    if (rv != 0)
        return rv;
    struct tl_buf t;
    tl_buf_init(&t);
    if (!args[1].is_null)
        tl_value_to_text(&args[1], &t);
    *out = tl_value_null(TL_TYPE_INT4);
    for (size_t i = 0; i < cnt; i++) {
        bool eq = args[1].is_null ? el[i] == NULL
                                  : el[i] != NULL && lens[i] == t.len &&
                                        memcmp(el[i], t.data, t.len) == 0;
        if (eq) {
            *out = tl_value_int(TL_TYPE_INT4, (int64_t)i + 1);
            break;
        }
    }
    tl_buf_close(&t);
    return 0;
}

static int
fn_cardinality(struct pgcat *cat, const struct tl_value *args, uint32_t n,
               struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)n;
    int rv = fn_array_length(cat, args, 1, a, out, err);
    if (rv == 0 && out->is_null)
        *out = tl_value_int(TL_TYPE_INT4, 0);
    return rv;
}

static int
fn_current_schemas(struct pgcat *cat, const struct tl_value *args, uint32_t n,
                   struct tl_arena *a, struct tl_value *out,
                   struct tl_error *err)
{
    (void)cat, (void)n, (void)err;
    *out = text_value(a, args[0].u.b ? "{pg_catalog,public}" : "{public}");
    return 0;
}

static int
fn_size_pretty(struct pgcat *cat, const struct tl_value *args, uint32_t n,
               struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)cat, (void)n, (void)err;
    static const char *const units[] = {"bytes", "kB", "MB", "GB", "TB", "PB"};
    int64_t size = args[0].u.i;
    int u = 0;
    /* PostgreSQL: a unit until the number passes 10 * 1024 - 0.5, rounded
     * half up at each step. */
    while (u < 5 && (size >= 10 * 1024 || size <= -10 * 1024)) {
        size = size >= 0 ? (size + 512) / 1024 : (size - 512) / 1024;
        u++;
    }
    *out =
        text_value(a, tl_arena_printf(a, "%lld %s", (long long)size, units[u]));
    return 0;
}

static int
fn_zero(struct pgcat *cat, const struct tl_value *args, uint32_t n,
        struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)cat, (void)args, (void)n, (void)a, (void)err;
    *out = tl_value_int(TL_TYPE_INT8, 0);
    return 0;
}

static void
json_string(struct tl_buf *b, const char *s, size_t len)
{
    tl_buf_append_u8(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        switch (ch) {
        case '"':
            tl_buf_append(b, "\\\"", 2);
            break;
        case '\\':
            tl_buf_append(b, "\\\\", 2);
            break;
        case '\n':
            tl_buf_append(b, "\\n", 2);
            break;
        case '\t':
            tl_buf_append(b, "\\t", 2);
            break;
        case '\r':
            tl_buf_append(b, "\\r", 2);
            break;
        default:
            if (ch < 0x20)
                tl_buf_printf(b, "\\u%04x", ch);
            else
                tl_buf_append_u8(b, ch);
        }
    }
    tl_buf_append_u8(b, '"');
}

/* json_build_object(k1, v1, ...) as PostgreSQL prints it:
 * {"k1" : v1, "k2" : v2}. */
static int
fn_json_build_object(struct pgcat *cat, const struct tl_value *args, uint32_t n,
                     struct tl_arena *a, struct tl_value *out,
                     struct tl_error *err)
{
    (void)cat;
    if (n % 2 != 0)
        return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                            "argument list must have even number of "
                            "elements");
    struct tl_buf b, t;
    tl_buf_init(&b);
    tl_buf_init(&t);
    tl_buf_append_u8(&b, '{');
    for (uint32_t i = 0; i < n; i += 2) {
        if (args[i].is_null) {
            tl_buf_close(&b);
            tl_buf_close(&t);
            return tl_error_set(err, TL_EINVAL,
                                TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                                "argument %u cannot be null", i + 1);
        }
        if (i > 0)
            tl_buf_append(&b, ", ", 2);
        tl_buf_reset(&t);
        tl_value_to_text(&args[i], &t);
        json_string(&b, (const char *)t.data, t.len);
        tl_buf_append(&b, " : ", 3);
        const struct tl_value *v = &args[i + 1];
        tl_buf_reset(&t);
        if (v->is_null) {
            tl_buf_append(&b, "null", 4);
        } else if (v->type == TL_TYPE_BOOL) {
            tl_buf_printf(&b, "%s", v->u.b ? "true" : "false");
        } else if (tl_type_is_numeric(v->type)) {
            tl_value_to_text(v, &t);
            tl_buf_append(&b, t.data, t.len);
        } else {
            tl_value_to_text(v, &t);
            json_string(&b, (const char *)t.data, t.len);
        }
    }
    tl_buf_append_u8(&b, '}');
    *out = tl_value_text_dup(a, TL_TYPE_TEXT, b.data, b.len);
    tl_buf_close(&b);
    tl_buf_close(&t);
    return 0;
}

/* oid -> relation name (x::regclass), type name, schema name. */
static int
fn_regclass_out(struct pgcat *cat, const struct tl_value *args, uint32_t n,
                struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)n, (void)err;
    const struct pgcat_rel *rl = find_rel_oid(cat, args[0].u.i);
    const struct pgcat_index *ix =
        rl == NULL ? pgcat_index_by_oid(cat, args[0].u.i) : NULL;
    if (ix != NULL)
        *out = text_value(a, ix->name);
    else if (rl == NULL)
        *out =
            text_value(a, tl_arena_printf(a, "%lld", (long long)args[0].u.i));
    else if (rl->nsp == PGCAT_NS_PUBLIC || rl->nsp == PGCAT_NS_PG_CATALOG)
        *out = text_value(a, rl->t->name);
    else
        *out =
            text_value(a, tl_arena_printf(a, "%s.%s", rl->schema, rl->t->name));
    return 0;
}

static int
fn_regtype_out(struct pgcat *cat, const struct tl_value *args, uint32_t n,
               struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)n, (void)err;
    *out = text_value(a, format_type(cat, a, args[0].u.i, -1));
    return 0;
}

static int
fn_regnamespace_out(struct pgcat *cat, const struct tl_value *args, uint32_t n,
                    struct tl_arena *a, struct tl_value *out,
                    struct tl_error *err)
{
    (void)cat, (void)n, (void)err;
    *out = text_value(a, pgcat_nsp_name((uint32_t)args[0].u.i));
    return 0;
}

static int
fn_regrole_out(struct pgcat *cat, const struct tl_value *args, uint32_t n,
               struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    return fn_userbyid(cat, args, n, a, out, err);
}

/* current_setting(name [, missing_ok]). */
static int
fn_current_setting(struct pgcat *cat, const struct tl_value *args, uint32_t n,
                   struct tl_arena *a, struct tl_value *out,
                   struct tl_error *err)
{
    const char *name = tl_arena_strndup(a, args[0].u.s.p, args[0].u.s.len);
    const char *v = sql_guc_value(cat->st, name);
    if (v == NULL && n > 1 && !args[1].is_null && args[1].u.b) {
        *out = tl_value_null(TL_TYPE_TEXT);
        return 0;
    }
    if (v == NULL)
        return tl_error_set(err, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_OBJECT,
                            "unrecognized configuration parameter \"%s\"",
                            name);
    *out = text_value(a, v);
    return 0;
}

/* set_config(name, value, is_local): as SET (is_local needs a transaction
 * block: like SET LOCAL outside one, it changes nothing). */
static int
fn_set_config(struct pgcat *cat, const struct tl_value *args, uint32_t n,
              struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    (void)n;
    if (args[0].is_null)
        return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                            "SET requires parameter name");
    struct sql_stmt *st = cat->st;
    const char *name = tl_arena_strndup(a, args[0].u.s.p, args[0].u.s.len);
    const char *value =
        args[1].is_null ? ""
                        : tl_arena_strndup(a, args[1].u.s.p, args[1].u.s.len);
    const struct sql_guc *g = sql_guc_find(name);
    if (g != NULL && sql_guc_readonly(g))
        return tl_error_set(err, TL_EINVAL,
                            TL_SQLSTATE_CANT_CHANGE_RUNTIME_PARAM,
                            "parameter \"%s\" cannot be changed", g->name);
    bool local = !args[2].is_null && args[2].u.b;
    int rv = sql_xact_guc_set(st, name, value);
    if (rv < 0) {
        *err = st->err;
        return rv;
    }
    if (rv == 0) { /* transaction_isolation and its kin */
        *out = text_value(a, sql_guc_value(st, name));
        return 0;
    }
    /* is_local outside a block: the value would end with the statement's
     * transaction. */
    bool keep = !local || txn_in_block(st->s->txn);
    if (keep) {
        rv = local ? sql_guc_store_local(st, name, value)
                   : sql_guc_store(st, name, value);
        if (rv != 0) {
            *err = st->err;
            return rv;
        }
        if (g != NULL && g->report)
            dest_param_status(st->dest, g->name, value);
    }
    *out = text_value(a, keep ? value : sql_guc_value(st, name));
    return 0;
}

/* clang-format off */
static const struct fn_def fns[] = {
    {"current_setting", 1, 2, TL_TYPE_TEXT, "tb", true, fn_current_setting},
    {"set_config", 3, 3, TL_TYPE_TEXT, "ttb", false, fn_set_config},
    {"pg_get_userbyid", 1, 1, TL_TYPE_TEXT, "o", true, fn_userbyid},
    {"pg_table_is_visible", 1, 1, TL_TYPE_BOOL, "o", true, fn_table_visible},
    {"pg_type_is_visible", 1, 1, TL_TYPE_BOOL, "o", true, fn_true},
    {"pg_function_is_visible", 1, 1, TL_TYPE_BOOL, "o", true, fn_true},
    {"pg_collation_is_visible", 1, 1, TL_TYPE_BOOL, "o", true, fn_true},
    {"pg_opclass_is_visible", 1, 1, TL_TYPE_BOOL, "o", true, fn_true},
    {"pg_statistics_obj_is_visible", 1, 1, TL_TYPE_BOOL, "o", true, fn_true},
    {"format_type", 2, 2, TL_TYPE_TEXT, "oi", false, fn_format_type},
    {"pg_get_expr", 2, 3, TL_TYPE_TEXT, "tob", true, fn_get_expr},
    {"pg_get_indexdef", 1, 3, TL_TYPE_TEXT, "oib", true, fn_indexdef},
    {"pg_get_constraintdef", 1, 2, TL_TYPE_TEXT, "ob", true,
     fn_constraintdef},
    {"obj_description", 1, 2, TL_TYPE_TEXT, "ot", false, fn_null_text},
    {"col_description", 2, 2, TL_TYPE_TEXT, "oi", false, fn_null_text},
    {"shobj_description", 2, 2, TL_TYPE_TEXT, "ot", false, fn_null_text},
    {"pg_get_viewdef", 1, 2, TL_TYPE_TEXT, "ob", true, fn_null_text},
    {"pg_get_triggerdef", 1, 2, TL_TYPE_TEXT, "ob", true, fn_null_text},
    {"pg_get_ruledef", 1, 2, TL_TYPE_TEXT, "ob", true, fn_null_text},
    {"pg_get_partkeydef", 1, 1, TL_TYPE_TEXT, "o", true, fn_null_text},
    {"pg_get_function_result", 1, 1, TL_TYPE_TEXT, "o", true, fn_null_text},
    {"pg_get_function_arguments", 1, 1, TL_TYPE_TEXT, "o", true,
     fn_null_text},
    {"pg_get_function_identity_arguments", 1, 1, TL_TYPE_TEXT, "o", true,
     fn_null_text},
    {"pg_get_statisticsobjdef_columns", 1, 1, TL_TYPE_TEXT, "o", true,
     fn_null_text},
    {"pg_get_serial_sequence", 2, 2, TL_TYPE_TEXT, "tt", true, fn_null_text},
    {"pg_relation_is_publishable", 1, 1, TL_TYPE_BOOL, "o", true, fn_false},
    {"pg_is_in_recovery", 0, 0, TL_TYPE_BOOL, "", false, fn_false},
    {"pg_encoding_to_char", 1, 1, TL_TYPE_TEXT, "i", true, fn_encoding},
    {"has_table_privilege", 2, 3, TL_TYPE_BOOL, "***", true, fn_true},
    {"has_schema_privilege", 2, 3, TL_TYPE_BOOL, "***", true, fn_true},
    {"has_database_privilege", 2, 3, TL_TYPE_BOOL, "***", true, fn_true},
    {"has_column_privilege", 3, 4, TL_TYPE_BOOL, "****", true, fn_true},
    {"has_sequence_privilege", 2, 3, TL_TYPE_BOOL, "***", true, fn_true},
    {"has_function_privilege", 2, 3, TL_TYPE_BOOL, "***", true, fn_true},
    {"pg_has_role", 2, 3, TL_TYPE_BOOL, "***", true, fn_true},
    {"quote_ident", 1, 1, TL_TYPE_TEXT, "t", true, fn_quote_ident},
    {"array_to_string", 2, 3, TL_TYPE_TEXT, "att", true,
     fn_array_to_string},
    {"array_length", 2, 2, TL_TYPE_INT4, "ai", true, fn_array_length},
    {"array_upper", 2, 2, TL_TYPE_INT4, "ai", true, fn_array_length},
    {"array_lower", 2, 2, TL_TYPE_INT4, "ai", true, fn_array_lower},
    {"cardinality", 1, 1, TL_TYPE_INT4, "a", true, fn_cardinality},
    {"array_position", 2, 2, TL_TYPE_INT4, "a*", false, fn_array_position},
    {"current_schemas", 1, 1, TL_TYPE_TEXT, "b", true, fn_current_schemas},
    {"pg_size_pretty", 1, 1, TL_TYPE_TEXT, "l", true, fn_size_pretty},
    {"pg_table_size", 1, 1, TL_TYPE_INT8, "o", true, fn_zero},
    {"pg_relation_size", 1, 2, TL_TYPE_INT8, "ot", true, fn_zero},
    {"pg_total_relation_size", 1, 1, TL_TYPE_INT8, "o", true, fn_zero},
    {"pg_indexes_size", 1, 1, TL_TYPE_INT8, "o", true, fn_zero},
    {"pg_database_size", 1, 1, TL_TYPE_INT8, "*", true, fn_zero},
    {"json_build_object", 0, 100, TL_TYPE_TEXT, "", false,
     fn_json_build_object},
    {NULL, 0, 0, 0, NULL, false, NULL},
};
/* clang-format on */

bool
pgcat_is_function(const char *name)
{
    for (const struct fn_def *d = fns; d->name != NULL; d++)
        if (strcmp(d->name, name) == 0)
            return true;
    return false;
}

static int
eval_call(const struct tl_expr *e, const struct tl_value *row, size_t n_cols,
          struct tl_arena *a, struct tl_value *out, struct tl_error *err)
{
    const struct fn_call *c = e->ext;
    uint32_t cap = e->n_args > 4 ? e->n_args : 4;
    struct tl_value *args = tl_arena_alloc(a, cap * sizeof(*args));
    for (uint32_t i = 0; i < e->n_args; i++) {
        int rv = tl_expr_eval(e->args[i], row, n_cols, a, &args[i], err);
        if (rv != 0)
            return rv;
        if (args[i].is_null && c->def->strict) {
            *out = tl_value_null(e->type);
            return 0;
        }
    }
    for (uint32_t i = e->n_args; i < cap; i++)
        args[i] = tl_value_null(TL_TYPE_UNKNOWN);
    int rv = c->def->impl(c->cat, args, e->n_args, a, out, err);
    if (rv == 0 && out->is_null)
        out->type = e->type;
    return rv;
}

static uint8_t
arg_type(char c)
{
    switch (c) {
    case 'o':
    case 'l':
        return TL_TYPE_INT8;
    case 'i':
        return TL_TYPE_INT4;
    case 'b':
        return TL_TYPE_BOOL;
    case 't':
    case 'a':
        return TL_TYPE_TEXT;
    default:
        return TL_TYPE_UNKNOWN;
    }
}

/* Make @e fit argument type @t: unknown constants convert, integers
 * widen, anything becomes text for a text argument. */
static int
fit_arg(struct sql_stmt *st, struct tl_expr **e, uint8_t t, int location)
{
    if (t == TL_TYPE_UNKNOWN || (*e)->type == t)
        return 0;
    if ((*e)->type == TL_TYPE_UNKNOWN)
        return bind_coerce_unknown(st, e, t, -1, location);
    if ((tl_type_is_int(t) && tl_type_is_int((*e)->type)) ||
        (t == TL_TYPE_TEXT && tl_type_is_text((*e)->type))) {
        struct tl_expr *c = tl_expr_node(st->a, TL_EXPR_CAST, t, e, 1);
        *e = c;
        return 0;
    }
    sql_error(st, TL_ETYPE, TL_SQLSTATE_UNDEFINED_FUNCTION,
              "function argument of type %s does not match",
              tl_type_name((*e)->type));
    return sql_error_at(st, TL_ETYPE, location);
}

int
pgcat_bind_func(struct sql_stmt *st, const struct bind_scope *sc,
                const PgQuery__FuncCall *f, struct tl_expr **out)
{
    if (f->n_funcname == 0 || f->n_funcname > 2)
        return 1;
    if (f->n_funcname == 2) {
        const char *schema = sql_node_str(f->funcname[0]);
        if (schema == NULL || strcmp(schema, "pg_catalog") != 0)
            return 1;
    }
    const char *name = sql_node_str(f->funcname[f->n_funcname - 1]);
    const struct fn_def *d = NULL;
    for (const struct fn_def *x = fns; name != NULL && x->name != NULL; x++)
        if (strcmp(x->name, name) == 0)
            d = x;
    if (d == NULL || f->n_args < d->min_args || f->n_args > d->max_args ||
        f->agg_star || f->agg_distinct || f->over != NULL)
        return 1;
    struct tl_expr **args =
        tl_arena_alloc(st->a, (f->n_args + 1) * sizeof(*args));
    for (size_t i = 0; i < f->n_args; i++) {
        int rv = bind_expr(st, sc, f->args[i], &args[i]);
        if (rv == 0)
            rv = fit_arg(st, &args[i],
                         i < strlen(d->args) ? arg_type(d->args[i])
                                             : TL_TYPE_UNKNOWN,
                         f->location);
        if (rv != 0)
            return rv;
    }
    struct fn_call *c = tl_arena_alloc(st->a, sizeof(*c));
    c->def = d;
    c->cat = sc->local->ctx->cat;
    *out = tl_expr_ext(st->a, d->type, eval_call, c, args, (uint32_t)f->n_args);
    return 0;
}

/* --------------------------------------------------------------- casts */

static const struct fn_def cast_regclass = {
    "regclass", 1, 1, TL_TYPE_TEXT, "o", true, fn_regclass_out};
static const struct fn_def cast_regtype = {
    "regtype", 1, 1, TL_TYPE_TEXT, "o", true, fn_regtype_out};
static const struct fn_def cast_regnamespace = {
    "regnamespace", 1, 1, TL_TYPE_TEXT, "o", true, fn_regnamespace_out};
static const struct fn_def cast_regrole = {
    "regrole", 1, 1, TL_TYPE_TEXT, "o", true, fn_regrole_out};

/* The OID a constant name converts to: relation, type, schema or role;
 * PostgreSQL's errors for names that do not exist. */
static int
name_to_oid(struct sql_stmt *st, struct pgcat *cat, const char *kind,
            const char *s, int location, int64_t *oid)
{
    char *end;
    long long num = strtoll(s, &end, 10);
    if (*s != '\0' && *end == '\0') {
        *oid = num;
        return 0;
    }
    if (strcmp(kind, "regclass") == 0) {
        const char *dot = strchr(s, '.');
        const char *schema =
            dot ? tl_arena_strndup(st->a, s, (size_t)(dot - s)) : NULL;
        const char *name = dot ? dot + 1 : s;
        struct pgcat_rel *rels;
        size_t n = pgcat_relations(cat, &rels);
        for (size_t i = 0; i < n; i++) {
            bool visible = schema != NULL
                               ? strcmp(rels[i].schema, schema) == 0
                               : rels[i].nsp == PGCAT_NS_PUBLIC ||
                                     rels[i].nsp == PGCAT_NS_PG_CATALOG;
            if (!visible)
                continue;
            if (strcmp(rels[i].t->name, name) == 0) {
                *oid = rels[i].oid;
                return 0;
            }
        }
        struct pgcat_index *idx;
        size_t n_idx = pgcat_indexes(cat, &idx);
        for (size_t i = 0; i < n_idx; i++)
            if ((schema == NULL || strcmp(schema, "public") == 0) &&
                strcmp(idx[i].name, name) == 0) {
                *oid = idx[i].oid;
                return 0;
            }
        for (size_t i = 0; i < cat->n_seqs; i++)
            if ((schema == NULL || strcmp(schema, "public") == 0) &&
                strcmp(cat->seqs[i].name, name) == 0) {
                *oid = PGCAT_USER_OID_BASE + 4 * (int64_t)cat->seqs[i].id;
                return 0;
            }
        sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_TABLE,
                  "relation \"%s\" does not exist", s);
        return sql_error_at(st, TL_ENOTFOUND, location);
    }
    if (strcmp(kind, "regtype") == 0) {
        uint8_t t;
        if (tl_type_from_name(s, &t) == 0) {
            *oid = tl_type_oid(t);
            return 0;
        }
        sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_OBJECT,
                  "type \"%s\" does not exist", s);
        return sql_error_at(st, TL_ENOTFOUND, location);
    }
    if (strcmp(kind, "regnamespace") == 0) {
        if (strcmp(s, "pg_catalog") == 0 || strcmp(s, "public") == 0 ||
            strcmp(s, "information_schema") == 0 || strcmp(s, "talus") == 0) {
            *oid = pgcat_nsp_of(s);
            return 0;
        }
        sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_INVALID_SCHEMA_NAME,
                  "schema \"%s\" does not exist", s);
        return sql_error_at(st, TL_ENOTFOUND, location);
    }
    if (strcmp(s, cat->user) == 0) {
        *oid = PGCAT_ROLE_BOOTSTRAP;
        return 0;
    }
    sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_OBJECT,
              "role \"%s\" does not exist", s);
    return sql_error_at(st, TL_ENOTFOUND, location);
}

static int
eval_name_to_oid(const struct tl_expr *e, const struct tl_value *row,
                 size_t n_cols, struct tl_arena *a, struct tl_value *out,
                 struct tl_error *err)
{
    const struct fn_call *c = e->ext;
    struct tl_value v;
    int rv = tl_expr_eval(e->args[0], row, n_cols, a, &v, err);
    if (rv != 0)
        return rv;
    if (v.is_null) {
        *out = tl_value_null(TL_TYPE_INT8);
        return 0;
    }
    int64_t oid;
    const char *name = tl_arena_strndup(a, v.u.s.p, v.u.s.len);
    rv = name_to_oid(c->cat->st, c->cat, c->def->name, name, -1, &oid);
    if (rv != 0) {
        *err = c->cat->st->err;
        return rv;
    }
    *out = tl_value_int(TL_TYPE_INT8, oid);
    return 0;
}

static bool
is_text_cast(const char *name, const PgQuery__TypeName *tn)
{
    static const char *const names[] = {
        "name",      "char",        "pg_node_tree", "int2vector",
        "oidvector", "aclitem",     "regproc",      "regprocedure",
        "regoper",   "regoperator", "regconfig",    "regdictionary",
        NULL};
    if (tn->n_array_bounds > 0)
        return true;
    for (int i = 0; names[i] != NULL; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

int
pgcat_bind_cast(struct sql_stmt *st, const struct bind_scope *sc,
                const PgQuery__TypeName *tn, struct tl_expr **x, int location)
{
    if (tn->n_names == 0)
        return 1;
    const char *name = sql_node_str(tn->names[tn->n_names - 1]);
    if (name == NULL)
        return 1;
    /* char(n) arrives as pg_catalog.bpchar; "char" as plain char. */
    if (strcmp(name, "char") == 0 && tn->n_names != 1)
        return 1;
    struct tl_expr *e = *x;
    if (strcmp(name, "oid") == 0 || strcmp(name, "xid") == 0) {
        if (e->type == TL_TYPE_UNKNOWN)
            return bind_coerce_unknown(st, x, TL_TYPE_INT8, -1, location);
        if (tl_type_is_int(e->type) || tl_type_is_text(e->type)) {
            *x = tl_expr_node(st->a, TL_EXPR_CAST, TL_TYPE_INT8, x, 1);
            return 0;
        }
        return 1;
    }
    if (is_text_cast(name, tn)) {
        if (e->type == TL_TYPE_UNKNOWN)
            return bind_coerce_unknown(st, x, TL_TYPE_TEXT, -1, location);
        if (e->type != TL_TYPE_TEXT)
            *x = tl_expr_node(st->a, TL_EXPR_CAST, TL_TYPE_TEXT, x, 1);
        return 0;
    }
    const struct fn_def *d = strcmp(name, "regclass") == 0  ? &cast_regclass
                             : strcmp(name, "regtype") == 0 ? &cast_regtype
                             : strcmp(name, "regnamespace") == 0
                                 ? &cast_regnamespace
                             : strcmp(name, "regrole") == 0 ? &cast_regrole
                                                            : NULL;
    if (d == NULL)
        return 1;
    struct pgcat *cat = sc->local->ctx->cat;
    /* A name becomes its OID now; an OID prints as a name. */
    if (e->kind == TL_EXPR_CONST &&
        (e->type == TL_TYPE_UNKNOWN || tl_type_is_text(e->type))) {
        struct tl_value v = tl_value_null(TL_TYPE_INT8);
        if (!e->value.is_null) {
            const char *text =
                tl_arena_strndup(st->a, e->value.u.s.p, e->value.u.s.len);
            int64_t oid;
            int rv = name_to_oid(st, cat, d->name, text, location, &oid);
            if (rv != 0)
                return rv;
            v = tl_value_int(TL_TYPE_INT8, oid);
        }
        *x = tl_expr_const(st->a, &v);
        (*x)->type = TL_TYPE_INT8;
        return 0;
    }
    struct fn_call *c = tl_arena_alloc(st->a, sizeof(*c));
    c->def = d;
    c->cat = cat;
    if (tl_type_is_text(e->type)) {
        /* A name computed per row: looked up when evaluated. */
        *x = tl_expr_ext(st->a, TL_TYPE_INT8, eval_name_to_oid, c, x, 1);
        return 0;
    }
    if (!tl_type_is_int(e->type))
        return 1;
    *x = tl_expr_ext(st->a, TL_TYPE_TEXT, eval_call, c, x, 1);
    return 0;
}
