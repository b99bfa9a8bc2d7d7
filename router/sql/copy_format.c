/* copy_format — COPY text and CSV formats (see copy_format.h).
 *
 * The code follows PostgreSQL 15's src/backend/commands/copy.c,
 * copyfromparse.c and copyto.c step by step, because clients (pg_dump,
 * psql's \copy, drivers) depend on its exact behaviour, errors included:
 * the order of checks below is the order of checks there. */
#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base/sqlstate.h"
#include "router/sql/copy_format.h"
#include "router/sql/sql_int.h"

/* ---------------------------------------------------------------- options
 */

/* The valid encoding names of PostgreSQL 15 (pg_encname_tbl in
 * src/common/encnames.c) after clean_encoding_name() (lower case, only
 * letters and digits), each between spaces. */
static const char encoding_names[] =
    " abc alt big5 euccn eucjis2004 eucjp euckr euctw gb18030 gbk"
    " iso88591 iso885910 iso885913 iso885914 iso885915 iso885916 iso88592"
    " iso88593 iso88594 iso88595 iso88596 iso88597 iso88598 iso88599 johab"
    " koi8 koi8r koi8u latin1 latin10 latin2 latin3 latin4 latin5 latin6"
    " latin7 latin8 latin9 mskanji muleinternal shiftjis shiftjis2004 sjis"
    " sqlascii tcvn tcvn5712 uhc unicode utf8 vscii win win1250 win1251"
    " win1252 win1253 win1254 win1255 win1256 win1257 win1258 win866 win874"
    " win932 win936 win949 win950 windows1250 windows1251 windows1252"
    " windows1253 windows1254 windows1255 windows1256 windows1257"
    " windows1258 windows866 windows874 windows932 windows936 windows949"
    " windows950 ";

/* The options whose argument is a string. */
enum str_opt { O_DELIM, O_NULL, O_QUOTE, O_ESCAPE, O_ENCODING, N_STR_OPTS };
static const char *const str_opt_names[N_STR_OPTS] = {
    "delimiter", "null", "quote", "escape", "encoding"};

/* What the options list said, before defaults (ProcessCopyOptions' view
 * of CopyFormatOptions). */
struct raw_opts {
    bool format_specified, freeze_specified, header_specified;
    enum copy_format_kind format;
    bool freeze;
    enum copy_format_header header;
    const char *str[N_STR_OPTS]; /* indexed by enum str_opt; NULL absent */
    bool force_quote_all;
    const PgQuery__List *force_quote, *force_not_null, *force_null;
    char held[N_STR_OPTS][32]; /* printed integer arguments of str[] */
};

static int
set_pos(struct tl_error *err, int rv, int location)
{
    if (err != NULL && location >= 0)
        err->position = location + 1;
    return rv;
}

static int
conflicting(const PgQuery__DefElem *d, struct tl_error *err)
{
    int rv = tl_error_set(err, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                          "conflicting or redundant options");
    return set_pos(err, rv, d->location);
}

/* Strings made while reading options, freed when parsing ends. */
struct owned {
    char *p[16];
    size_t n;
};

/* NameListToString(): the names of @l joined by '.', into @own. */
static const char *
join_names(const PgQuery__List *l, struct owned *own)
{
    size_t len = 1;
    char *s;

    for (size_t i = 0; i < l->n_items; i++) {
        const PgQuery__Node *n = l->items[i];
        len += 1 + (n->node_case == PG_QUERY__NODE__NODE_STRING
                        ? strlen(n->string->sval)
                        : 1);
    }
    /* A statement has a bounded number of options, each read once, so
     * 16 slots hold every string made; past that the name is cut. */
    if (own->n == sizeof(own->p) / sizeof(own->p[0]))
        return "";
    s = malloc(len);
    if (s == NULL)
        abort();
    own->p[own->n++] = s;
    s[0] = '\0';
    for (size_t i = 0; i < l->n_items; i++) {
        const PgQuery__Node *n = l->items[i];
        if (i > 0)
            strcat(s, ".");
        strcat(s, n->node_case == PG_QUERY__NODE__NODE_STRING ? n->string->sval
                                                              : "*");
    }
    return s;
}

/* defGetString(): the argument of @d as text, borrowed from the tree, or
 * printed into @tmp (32 bytes) or @own. */
static int
def_string(const PgQuery__DefElem *d, char *tmp, struct owned *own,
           const char **out, struct tl_error *err)
{
    const PgQuery__Node *a = d->arg;

    if (a == NULL)
        return tl_error_set(err, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                            "%s requires a parameter", d->defname);
    switch (a->node_case) {
    case PG_QUERY__NODE__NODE_INTEGER:
        snprintf(tmp, 32, "%d", (int)a->integer->ival);
        *out = tmp;
        return 0;
    case PG_QUERY__NODE__NODE_FLOAT:
        *out = a->float_->fval;
        return 0;
    case PG_QUERY__NODE__NODE_BOOLEAN:
        *out = a->boolean->boolval ? "true" : "false";
        return 0;
    case PG_QUERY__NODE__NODE_STRING:
        *out = a->string->sval;
        return 0;
    case PG_QUERY__NODE__NODE_A_STAR:
        *out = "*";
        return 0;
    case PG_QUERY__NODE__NODE_LIST:
        *out = join_names(a->list, own);
        return 0;
    default:
        /* COPY's option grammar makes nothing else. */
        return tl_error_set(err, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                            "%s requires a parameter", d->defname);
    }
}

/* defGetBoolean(), and with @allow_match defGetCopyHeaderChoice().
 * *@out is 0 false, 1 true, 2 match. */
static int
def_bool(const PgQuery__DefElem *d, bool allow_match, bool is_from,
         struct owned *own, int *out, struct tl_error *err)
{
    const PgQuery__Node *a = d->arg;
    char tmp[32];
    const char *s;

    if (a == NULL) {
        *out = 1;
        return 0;
    }
    if (a->node_case == PG_QUERY__NODE__NODE_INTEGER) {
        if (a->integer->ival == 0 || a->integer->ival == 1) {
            *out = a->integer->ival;
            return 0;
        }
    } else if (a->node_case == PG_QUERY__NODE__NODE_BOOLEAN) {
        *out = a->boolean->boolval ? 1 : 0;
        return 0;
    } else {
        int rv = def_string(d, tmp, own, &s, err);
        if (rv < 0)
            return rv;
        if (strcasecmp(s, "true") == 0 || strcasecmp(s, "on") == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, "false") == 0 || strcasecmp(s, "off") == 0) {
            *out = 0;
            return 0;
        }
        if (allow_match && strcasecmp(s, "match") == 0) {
            if (!is_from)
                return tl_error_set(
                    err, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                    "cannot use \"%s\" with HEADER in COPY TO", s);
            *out = 2;
            return 0;
        }
    }
    if (allow_match)
        return tl_error_set(err, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                            "%s requires a Boolean value or \"match\"",
                            d->defname);
    return tl_error_set(err, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                        "%s requires a Boolean value", d->defname);
}

/* clean_encoding_name(): @name in lower case without other characters
 * than letters and digits, between spaces, into @out (@size bytes); false
 * when it does not fit (no valid name is that long). */
static bool
clean_encoding_name(const char *name, char *out, size_t size)
{
    size_t n = 0;

    out[n++] = ' ';
    for (const char *p = name; *p != '\0'; p++) {
        if (!isalnum((unsigned char)*p))
            continue;
        if (n + 2 >= size)
            return false;
        out[n++] = (char)tolower((unsigned char)*p);
    }
    out[n++] = ' ';
    out[n] = '\0';
    return true;
}

static bool
encoding_valid(const char *name)
{
    char clean[64];

    return clean_encoding_name(name, clean, sizeof(clean)) && clean[1] != ' ' &&
           strstr(encoding_names, clean) != NULL;
}

static bool
encoding_is_utf8(const char *name)
{
    char clean[64];

    return clean_encoding_name(name, clean, sizeof(clean)) &&
           (strcmp(clean, " utf8 ") == 0 || strcmp(clean, " unicode ") == 0);
}

static int
def_column_list(const PgQuery__DefElem *d, bool allow_star, bool *star,
                const PgQuery__List **list, struct tl_error *err)
{
    const PgQuery__Node *a = d->arg;

    if (a != NULL && allow_star &&
        a->node_case == PG_QUERY__NODE__NODE_A_STAR) {
        *star = true;
        return 0;
    }
    if (a != NULL && a->node_case == PG_QUERY__NODE__NODE_LIST) {
        *list = a->list;
        return 0;
    }
    int rv = tl_error_set(
        err, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
        "argument to option \"%s\" must be a list of column names", d->defname);
    return set_pos(err, rv, d->location);
}

/* The first loop of ProcessCopyOptions(): one DefElem. */
static int
read_option(const PgQuery__DefElem *d, bool is_from, struct raw_opts *ro,
            struct owned *own, struct tl_error *err)
{
    const char *name = d->defname;
    char tmp[32];
    const char *s;
    int rv, b;

    if (strcmp(name, "format") == 0) {
        if ((rv = def_string(d, tmp, own, &s, err)) < 0)
            return rv;
        if (ro->format_specified)
            return conflicting(d, err);
        ro->format_specified = true;
        if (strcmp(s, "text") == 0)
            ro->format = COPY_FORMAT_TEXT;
        else if (strcmp(s, "csv") == 0)
            ro->format = COPY_FORMAT_CSV;
        else if (strcmp(s, "binary") == 0)
            ro->format = COPY_FORMAT_BINARY;
        else {
            rv = tl_error_set(err, TL_EINVAL,
                              TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                              "COPY format \"%s\" not recognized", s);
            return set_pos(err, rv, d->location);
        }
        return 0;
    }
    if (strcmp(name, "freeze") == 0) {
        if (ro->freeze_specified)
            return conflicting(d, err);
        ro->freeze_specified = true;
        if ((rv = def_bool(d, false, is_from, own, &b, err)) < 0)
            return rv;
        ro->freeze = b != 0;
        return 0;
    }
    if (strcmp(name, "header") == 0) {
        if (ro->header_specified)
            return conflicting(d, err);
        ro->header_specified = true;
        if ((rv = def_bool(d, true, is_from, own, &b, err)) < 0)
            return rv;
        ro->header = (enum copy_format_header)b;
        return 0;
    }
    for (int k = 0; k < N_STR_OPTS; k++) {
        if (strcmp(name, str_opt_names[k]) != 0)
            continue;
        if (ro->str[k] != NULL)
            return conflicting(d, err);
        if ((rv = def_string(d, ro->held[k], own, &s, err)) < 0)
            return rv;
        ro->str[k] = s;
        if (k == O_ENCODING && !encoding_valid(s)) {
            rv = tl_error_set(
                err, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                "argument to option \"%s\" must be a valid encoding name",
                name);
            return set_pos(err, rv, d->location);
        }
        return 0;
    }
    if (strcmp(name, "force_quote") == 0) {
        if (ro->force_quote != NULL || ro->force_quote_all)
            return conflicting(d, err);
        return def_column_list(d, true, &ro->force_quote_all, &ro->force_quote,
                               err);
    }
    if (strcmp(name, "force_not_null") == 0) {
        if (ro->force_not_null != NULL)
            return conflicting(d, err);
        return def_column_list(d, false, NULL, &ro->force_not_null, err);
    }
    if (strcmp(name, "force_null") == 0) {
        if (ro->force_null != NULL)
            return conflicting(d, err);
        return def_column_list(d, false, NULL, &ro->force_null, err);
    }
    rv = tl_error_set(err, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                      "option \"%s\" not recognized", name);
    return set_pos(err, rv, d->location);
}

static int
unsupported(struct tl_error *err, const char *msg)
{
    return tl_error_set(err, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                        "%s", msg);
}

static int
invalid(struct tl_error *err, const char *msg)
{
    return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                        "%s", msg);
}

/* The checks after the loop of ProcessCopyOptions(), in its order. */
static int
check_options(const struct raw_opts *ro, bool is_from, struct tl_error *err)
{
    bool csv = ro->format == COPY_FORMAT_CSV;
    bool binary = ro->format == COPY_FORMAT_BINARY;

    if (binary && ro->str[O_DELIM] != NULL)
        return tl_error_set(err, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                            "cannot specify DELIMITER in BINARY mode");
    if (binary && ro->str[O_NULL] != NULL)
        return tl_error_set(err, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                            "cannot specify NULL in BINARY mode");

    const char *delim = ro->str[O_DELIM] ? ro->str[O_DELIM] : csv ? "," : "\t";
    const char *null_str = ro->str[O_NULL] ? ro->str[O_NULL] : csv ? "" : "\\N";
    const char *quote = ro->str[O_QUOTE] ? ro->str[O_QUOTE] : "\"";
    const char *escape = ro->str[O_ESCAPE] ? ro->str[O_ESCAPE] : quote;

    if (strlen(delim) != 1)
        return unsupported(
            err, "COPY delimiter must be a single one-byte character");
    if (strchr(delim, '\r') != NULL || strchr(delim, '\n') != NULL)
        return invalid(err,
                       "COPY delimiter cannot be newline or carriage return");
    if (strchr(null_str, '\r') != NULL || strchr(null_str, '\n') != NULL)
        return invalid(err, "COPY null representation cannot use newline or "
                            "carriage return");
    if (!csv &&
        strchr("\\.abcdefghijklmnopqrstuvwxyz0123456789", delim[0]) != NULL)
        return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                            "COPY delimiter cannot be \"%s\"", delim);
    if (binary && ro->header != COPY_FORMAT_HEADER_NONE)
        return unsupported(err, "cannot specify HEADER in BINARY mode");
    if (!csv && ro->str[O_QUOTE] != NULL)
        return unsupported(err, "COPY quote available only in CSV mode");
    if (csv && strlen(quote) != 1)
        return unsupported(err,
                           "COPY quote must be a single one-byte character");
    if (csv && delim[0] == quote[0])
        return invalid(err, "COPY delimiter and quote must be different");
    if (!csv && ro->str[O_ESCAPE] != NULL)
        return unsupported(err, "COPY escape available only in CSV mode");
    if (csv && strlen(escape) != 1)
        return unsupported(err,
                           "COPY escape must be a single one-byte character");
    if (!csv && (ro->force_quote != NULL || ro->force_quote_all))
        return unsupported(err, "COPY force quote available only in CSV mode");
    if ((ro->force_quote != NULL || ro->force_quote_all) && is_from)
        return unsupported(err,
                           "COPY force quote only available using COPY TO");
    if (!csv && ro->force_not_null != NULL)
        return unsupported(err,
                           "COPY force not null available only in CSV mode");
    if (ro->force_not_null != NULL && !is_from)
        return unsupported(
            err, "COPY force not null only available using COPY FROM");
    if (!csv && ro->force_null != NULL)
        return unsupported(err, "COPY force null available only in CSV mode");
    if (ro->force_null != NULL && !is_from)
        return unsupported(err,
                           "COPY force null only available using COPY FROM");
    if (strchr(null_str, delim[0]) != NULL)
        return unsupported(
            err, "COPY delimiter must not appear in the NULL specification");
    if (csv && strchr(null_str, quote[0]) != NULL)
        return unsupported(
            err,
            "CSV quote character must not appear in the NULL specification");
    return 0;
}

static char *
dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);

    if (p == NULL)
        abort();
    memcpy(p, s, n);
    return p;
}

static void *
zalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);

    if (p == NULL)
        abort();
    return p;
}

static const char *
node_name(const PgQuery__Node *n)
{
    if (n != NULL && n->node_case == PG_QUERY__NODE__NODE_STRING)
        return n->string->sval;
    return "";
}

/* CopyGetAttnums(): the position of @name in the table, or an error. */
static int
find_column(const char *name, const char *relname,
            const char *const *table_columns, size_t n_table_columns,
            size_t *out, struct tl_error *err)
{
    for (size_t i = 0; i < n_table_columns; i++) {
        if (strcmp(table_columns[i], name) == 0) {
            *out = i;
            return 0;
        }
    }
    if (relname != NULL && relname[0] != '\0')
        return tl_error_set(err, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_COLUMN,
                            "column \"%s\" of relation \"%s\" does not exist",
                            name, relname);
    return tl_error_set(err, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_COLUMN,
                        "column \"%s\" does not exist", name);
}

/* BeginCopyTo()/BeginCopyFrom(): each FORCE_* column must exist and be
 * one of the columns copied. */
static int
resolve_force(const PgQuery__List *list, const char *what, const char *relname,
              const char *const *table_columns, size_t n_table_columns,
              struct copy_format_options *o, bool *flags, struct tl_error *err)
{
    size_t *idx = zalloc(list->n_items, sizeof(*idx));
    int rv = 0;

    /* CopyGetAttnums() looks every name up before any is checked. */
    for (size_t i = 0; i < list->n_items; i++) {
        const char *name = node_name(list->items[i]);
        if ((rv = find_column(name, relname, table_columns, n_table_columns,
                              &idx[i], err)) < 0)
            goto out;
        for (size_t j = 0; j < i; j++) {
            if (idx[j] == idx[i]) {
                rv = tl_error_set(err, TL_EEXISTS, TL_SQLSTATE_DUPLICATE_COLUMN,
                                  "column \"%s\" specified more than once",
                                  name);
                goto out;
            }
        }
    }
    for (size_t i = 0; i < list->n_items; i++) {
        size_t k;
        for (k = 0; k < o->n_columns; k++)
            if (o->column_index[k] == idx[i])
                break;
        if (k == o->n_columns) {
            rv = tl_error_set(err, TL_EINVAL,
                              TL_SQLSTATE_INVALID_COLUMN_REFERENCE,
                              "%s column \"%s\" not referenced by COPY", what,
                              table_columns[idx[i]]);
            goto out;
        }
        flags[k] = true;
    }
out:
    free(idx);
    return rv;
}

/* CopyGetAttnums() for the attlist of @stmt (every column of the table
 * without one) into out->columns and out->column_index, with the force
 * flags allocated. */
static int
resolve_columns(const PgQuery__CopyStmt *stmt, const char *relname,
                const char *const *table_columns, size_t n_table_columns,
                struct copy_format_options *out, struct tl_error *err)
{
    size_t n = stmt->n_attlist ? stmt->n_attlist : n_table_columns;
    int rv;

    out->n_columns = n;
    out->columns = zalloc(n, sizeof(*out->columns));
    out->column_index = zalloc(n, sizeof(*out->column_index));
    out->force_quote = zalloc(n, sizeof(bool));
    out->force_not_null = zalloc(n, sizeof(bool));
    out->force_null = zalloc(n, sizeof(bool));
    for (size_t i = 0; i < n; i++) {
        size_t idx = i;
        if (stmt->n_attlist) {
            const char *name = node_name(stmt->attlist[i]);
            if ((rv = find_column(name, relname, table_columns, n_table_columns,
                                  &idx, err)) < 0)
                return rv;
            for (size_t j = 0; j < i; j++)
                if (out->column_index[j] == idx)
                    return tl_error_set(
                        err, TL_EEXISTS, TL_SQLSTATE_DUPLICATE_COLUMN,
                        "column \"%s\" specified more than once", name);
        }
        out->column_index[i] = idx;
        out->columns[i] = dup_str(table_columns[idx]);
    }
    return 0;
}

static int
parse_into(const PgQuery__CopyStmt *stmt, const char *relname,
           const char *const *table_columns, size_t n_table_columns,
           struct copy_format_options *out, struct owned *own,
           struct tl_error *err)
{
    struct raw_opts ro = {0};
    bool is_from = stmt->is_from;
    int rv;

    memset(out, 0, sizeof(*out));
    if (relname == NULL && stmt->relation != NULL)
        relname = stmt->relation->relname;

    /* DoCopy() checks the column list before it reads the options. */
    if ((rv = resolve_columns(stmt, relname, table_columns, n_table_columns,
                              out, err)) < 0)
        goto err_out;
    for (size_t i = 0; i < stmt->n_options; i++) {
        const PgQuery__Node *n = stmt->options[i];
        if (n == NULL || n->node_case != PG_QUERY__NODE__NODE_DEF_ELEM)
            continue;
        if ((rv = read_option(n->def_elem, is_from, &ro, own, err)) < 0)
            goto err_out;
    }
    if ((rv = check_options(&ro, is_from, err)) < 0)
        goto err_out;

    bool csv = ro.format == COPY_FORMAT_CSV;
    out->format = ro.format;
    out->is_from = is_from;
    out->header = ro.header;
    out->freeze = ro.freeze;
    out->delim = ro.str[O_DELIM] ? ro.str[O_DELIM][0] : csv ? ',' : '\t';
    out->null_str = dup_str(ro.str[O_NULL] ? ro.str[O_NULL] : csv ? "" : "\\N");
    out->null_len = strlen(out->null_str);
    if (csv) {
        out->quote = ro.str[O_QUOTE] ? ro.str[O_QUOTE][0] : '"';
        out->escape = ro.str[O_ESCAPE] ? ro.str[O_ESCAPE][0] : out->quote;
    }
    if (ro.str[O_ENCODING] != NULL)
        out->encoding = dup_str(ro.str[O_ENCODING]);

    if (ro.force_quote_all) {
        for (size_t i = 0; i < out->n_columns; i++)
            out->force_quote[i] = true;
    } else if (ro.force_quote != NULL &&
               (rv = resolve_force(ro.force_quote, "FORCE_QUOTE", relname,
                                   table_columns, n_table_columns, out,
                                   out->force_quote, err)) < 0) {
        goto err_out;
    }
    if (ro.force_not_null != NULL &&
        (rv = resolve_force(ro.force_not_null, "FORCE_NOT_NULL", relname,
                            table_columns, n_table_columns, out,
                            out->force_not_null, err)) < 0)
        goto err_out;
    if (ro.force_null != NULL &&
        (rv = resolve_force(ro.force_null, "FORCE_NULL", relname, table_columns,
                            n_table_columns, out, out->force_null, err)) < 0)
        goto err_out;

    /* Talus' own limits, after everything PostgreSQL would refuse. */
    if (ro.str[O_ENCODING] != NULL && !encoding_is_utf8(ro.str[O_ENCODING])) {
        rv = tl_error_set(
            err, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
            "COPY encoding \"%s\" is not supported yet", ro.str[O_ENCODING]);
        goto err_out;
    }
    return 0;

err_out:
    copy_format_options_close(out);
    return rv;
}

int
copy_format_options_parse(const PgQuery__CopyStmt *stmt, const char *relname,
                          const char *const *table_columns,
                          size_t n_table_columns,
                          struct copy_format_options *out, struct tl_error *err)
{
    struct owned own = {.n = 0};
    int rv = parse_into(stmt, relname, table_columns, n_table_columns, out,
                        &own, err);

    for (size_t i = 0; i < own.n; i++)
        free(own.p[i]);
    return rv;
}

void
copy_format_options_close(struct copy_format_options *o)
{
    if (o->columns != NULL)
        for (size_t i = 0; i < o->n_columns; i++)
            free(o->columns[i]);
    free(o->columns);
    free(o->column_index);
    free(o->force_quote);
    free(o->force_not_null);
    free(o->force_null);
    free(o->null_str);
    free(o->encoding);
    memset(o, 0, sizeof(*o));
}

/* ----------------------------------------------------------------- UTF-8
 */

/* report_invalid_encoding(): the bad character at s[0..len) (len >= 1). */
static int
invalid_utf8(struct tl_error *err, const unsigned char *s, size_t len)
{
    char hex[8 * 5 + 1];
    sql_guard_utf8_describe((const char *)s, len, hex, sizeof(hex));
    return tl_error_set(err, TL_ETYPE, TL_SQLSTATE_CHARACTER_NOT_IN_REPERTOIRE,
                        "invalid byte sequence for encoding \"UTF8\": %s", hex);
}

/* ---------------------------------------------------------------- reader
 */

enum eol { EOL_UNKNOWN, EOL_NL, EOL_CR, EOL_CRNL };

struct copy_format_reader {
    const struct copy_format_options *o;

    /* Raw input. [pos, in.len) is unconsumed; the current line starts at
     * pos and was scanned up to scan (pos <= scan <= verified <= in.len);
     * [0, verified) is valid UTF-8. bad_utf8: in[verified] starts an
     * invalid character (or an incomplete one at the end of the input). */
    struct tl_buf in;
    size_t pos, scan, verified;
    bool bad_utf8;

    /* CopyReadLineText()'s state at scan, so a scan resumes where more
     * input arrived. */
    bool in_quote, last_was_esc, first_char;
    enum eol eol;

    bool finished;    /* CopyDone: no more input */
    bool eof;         /* input ended ("\." or finished and all consumed) */
    bool line_open;   /* lineno counts the line being scanned */
    bool header_done; /* the header line is behind us (or there is none) */
    bool ended;       /* the last row has been returned */
    uint64_t lineno;

    /* The current line (NUL-terminated, EOL stripped) and its fields. */
    struct tl_buf line;
    bool line_valid;
    struct tl_buf attr;
    size_t *starts; /* offsets of fields in attr, SIZE_MAX null */
    size_t *lens;
    size_t n_fields, cap_fields;
    struct copy_format_field *fields; /* n_columns of them */

    int failed; /* 0, or the error every call now returns */
    struct tl_error saved;
};

void
copy_format_reader_create(const struct copy_format_options *opts,
                          struct copy_format_reader **out)
{
    struct copy_format_reader *r = zalloc(1, sizeof(*r));

    assert(opts->is_from && opts->format != COPY_FORMAT_BINARY);
    r->o = opts;
    tl_buf_init(&r->in);
    tl_buf_init(&r->line);
    tl_buf_init(&r->attr);
    r->first_char = true;
    r->header_done = opts->header == COPY_FORMAT_HEADER_NONE;
    r->fields = zalloc(opts->n_columns, sizeof(*r->fields));
    *out = r;
}

void
copy_format_reader_destroy(struct copy_format_reader *r)
{
    if (r == NULL)
        return;
    tl_buf_close(&r->in);
    tl_buf_close(&r->line);
    tl_buf_close(&r->attr);
    free(r->starts);
    free(r->lens);
    free(r->fields);
    free(r);
}

/* Extend the verified prefix of the input as far as it goes. */
static void
verify_input(struct copy_format_reader *r)
{
    if (r->bad_utf8)
        return;
    size_t n = r->in.len - r->verified;
    size_t ok =
        sql_guard_utf8_prefix((const char *)r->in.data + r->verified, n);
    r->verified += ok;
    if (ok == n)
        return;
    /* Fewer bytes than the longest character: more input may complete
     * it (PostgreSQL waits the same way, so the error, if any, comes at
     * the same place). */
    if (!r->finished && n - ok < 4)
        return;
    r->bad_utf8 = true;
}

void
copy_format_feed(struct copy_format_reader *r, const void *p, size_t len)
{
    if (r->eof || r->finished || len == 0)
        return; /* PostgreSQL drops what follows "\." unread */
    /* Drop consumed input once it outweighs what is left, so the buffer
     * holds about one line and one payload, and moves each byte a bounded
     * number of times. */
    if (r->pos > 0 && r->pos >= r->in.len - r->pos) {
        size_t left = r->in.len - r->pos;
        memmove(r->in.data, r->in.data + r->pos, left);
        r->in.len = left;
        r->scan -= r->pos;
        r->verified -= r->pos;
        r->pos = 0;
    }
    tl_buf_append(&r->in, p, len);
    verify_input(r);
}

void
copy_format_finish(struct copy_format_reader *r)
{
    r->finished = true;
    verify_input(r);
}

bool
copy_format_reader_done(const struct copy_format_reader *r)
{
    return r->ended;
}

uint64_t
copy_format_reader_line(const struct copy_format_reader *r)
{
    return r->lineno;
}

const char *
copy_format_reader_line_text(const struct copy_format_reader *r)
{
    return r->line_valid ? (const char *)r->line.data : NULL;
}

static int bad_format(struct copy_format_reader *r, struct tl_error *err,
                      bool line_valid, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* A 22P04 error; @line_valid says whether r->line holds the line. */
static int
bad_format(struct copy_format_reader *r, struct tl_error *err, bool line_valid,
           const char *hint, const char *fmt, ...)
{
    char msg[TL_ERROR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->line_valid = line_valid;
    tl_error_set(err, TL_ECORRUPT, TL_SQLSTATE_BAD_COPY_FILE_FORMAT, "%s", msg);
    if (hint != NULL)
        tl_error_hint(err, "%s", hint);
    return TL_ECORRUPT;
}

/* Is in[i] there? 1 yes; 0 not yet (more input may come); 2 the input
 * ends before it; or the encoding error PostgreSQL raises on reaching
 * bytes that are not UTF-8. */
static int
peek_at(struct copy_format_reader *r, size_t i, struct tl_error *err)
{
    if (i < r->verified)
        return 1;
    if (r->bad_utf8) {
        r->line_valid = false;
        return invalid_utf8(err, r->in.data + r->verified,
                            r->in.len - r->verified);
    }
    return r->finished ? 2 : 0;
}

static int
bad_cr(struct copy_format_reader *r, struct tl_error *err)
{
    if (r->o->format == COPY_FORMAT_CSV)
        return bad_format(r, err, false,
                          "Use quoted CSV field to represent carriage return.",
                          "unquoted carriage return found in data");
    return bad_format(r, err, false,
                      "Use \"\\r\" to represent carriage return.",
                      "literal carriage return found in data");
}

static int
bad_nl(struct copy_format_reader *r, struct tl_error *err)
{
    if (r->o->format == COPY_FORMAT_CSV)
        return bad_format(r, err, false,
                          "Use quoted CSV field to represent newline.",
                          "unquoted newline found in data");
    return bad_format(r, err, false, "Use \"\\n\" to represent newline.",
                      "literal newline found in data");
}

enum { MARKER_NO = 3, MARKER_YES = 4 };

/* After "\." at @i: the end-of-data marker (MARKER_YES), data (MARKER_NO,
 * CSV only), 0 to wait for input, or an error; as CopyReadLineText(). */
static int
check_marker(struct copy_format_reader *r, size_t i, struct tl_error *err)
{
    bool csv = r->o->format == COPY_FORMAT_CSV;
    int rc;
    unsigned char c2;

    if (r->eol == EOL_CRNL) {
        if ((rc = peek_at(r, i, err)) <= 0)
            return rc;
        c2 = rc == 1 ? r->in.data[i] : '\0';
        i++;
        if (c2 == '\n') {
            if (csv)
                return MARKER_NO;
            return bad_format(r, err, false, NULL,
                              "end-of-copy marker does not match previous "
                              "newline style");
        }
        if (c2 != '\r') {
            if (csv)
                return MARKER_NO;
            return bad_format(r, err, false, NULL,
                              "end-of-copy marker corrupt");
        }
    }
    if ((rc = peek_at(r, i, err)) <= 0)
        return rc;
    c2 = rc == 1 ? r->in.data[i] : '\0';
    if (c2 != '\r' && c2 != '\n') {
        if (csv)
            return MARKER_NO;
        return bad_format(r, err, false, NULL, "end-of-copy marker corrupt");
    }
    if ((r->eol == EOL_NL && c2 != '\n') ||
        (r->eol == EOL_CRNL && c2 != '\n') || (r->eol == EOL_CR && c2 != '\r'))
        return bad_format(r, err, false, NULL,
                          "end-of-copy marker does not match previous "
                          "newline style");
    return MARKER_YES;
}

/* CopyReadLine(): the next line into r->line, without its line ending.
 * Returns 1 with *@done set when the input ends with this line, 0 when
 * more input is needed, or an error. The scan resumes at r->scan with
 * the state saved there, so bytes are looked at about once. */
static int
read_line(struct copy_format_reader *r, bool *done, struct tl_error *err)
{
    bool csv = r->o->format == COPY_FORMAT_CSV;
    char quotec = r->o->quote;
    char escapec = r->o->escape;
    size_t end, next;
    bool eof = false;
    int rc;

    /* With quote and escape the same, the quote simply toggles. */
    if (csv && quotec == escapec)
        escapec = '\0';
    if (r->eof) {
        tl_buf_reset(&r->line);
        tl_buf_append_u8(&r->line, 0);
        r->line.len = 0;
        r->line_valid = true;
        *done = true;
        return 1;
    }
    for (;;) {
        size_t prev = r->scan, p = prev + 1;

        assert(r->pos <= r->scan && r->scan <= r->verified &&
               r->verified <= r->in.len);

        if ((rc = peek_at(r, prev, err)) <= 0)
            return rc;
        if (rc == 2) {
            end = next = r->in.len;
            eof = true;
            break;
        }
        char c = (char)r->in.data[prev];
        bool q = r->in_quote, esc = r->last_was_esc;
        uint64_t lines = 0;
        if (csv) {
            /* PostgreSQL fetches the next character before it looks at a
             * backslash or CR in CSV mode, so bad bytes after either are
             * reported before a quoted CR counts as a line. */
            if ((c == '\\' || c == '\r') && (rc = peek_at(r, p, err)) <= 0)
                return rc;
            if (q && c == escapec)
                esc = !esc;
            if (c == quotec && !esc)
                q = !q;
            if (c != escapec)
                esc = false;
            /* Newlines inside quotes count as lines, as PostgreSQL
             * counts them (only the kind the line endings use). */
            if (q && c == (r->eol == EOL_NL ? '\n' : '\r'))
                lines = 1;
        }
        if (c == '\r' && (!csv || !q)) {
            if (r->eol == EOL_UNKNOWN || r->eol == EOL_CRNL) {
                if ((rc = peek_at(r, p, err)) <= 0)
                    return rc;
                if (rc == 1 && r->in.data[p] == '\n') {
                    r->eol = EOL_CRNL;
                    end = prev;
                    next = p + 1;
                    break;
                }
                if (r->eol == EOL_CRNL)
                    return bad_cr(r, err);
                r->eol = EOL_CR;
            } else if (r->eol == EOL_NL) {
                return bad_cr(r, err);
            }
            end = prev;
            next = p;
            break;
        }
        if (c == '\n' && (!csv || !q)) {
            if (r->eol == EOL_CR || r->eol == EOL_CRNL)
                return bad_nl(r, err);
            r->eol = EOL_NL;
            end = prev;
            next = p;
            break;
        }
        if (c == '\\' && (!csv || r->first_char)) {
            if ((rc = peek_at(r, p, err)) <= 0)
                return rc;
            if (rc == 2) {
                /* A backslash just before the end is data. */
                end = next = p;
                eof = true;
                break;
            }
            if (r->in.data[p] == '.') {
                if ((rc = check_marker(r, p + 1, err)) <= 0)
                    return rc;
                if (rc == MARKER_YES) {
                    end = prev;
                    next = r->in.len;
                    eof = true;
                    break;
                }
                /* CSV: "\." followed by more is data; go on after the
                 * backslash. */
            } else if (!csv) {
                /* Text: the escaped character is data, even a newline;
                 * and "\\." is not the marker. */
                p++;
            }
        }
        r->first_char = false;
        r->in_quote = q;
        r->last_was_esc = esc;
        r->lineno += lines;
        r->scan = p;
    }

    tl_buf_reset(&r->line);
    tl_buf_append(&r->line, r->in.data + r->pos, end - r->pos);
    tl_buf_append_u8(&r->line, 0);
    r->line.len--; /* the NUL is not part of the line */
    r->line_valid = true;
    r->pos = r->scan = next;
    r->in_quote = r->last_was_esc = false;
    r->first_char = true;
    if (eof) {
        r->eof = true;
        r->pos = r->scan = r->verified = r->in.len;
        r->bad_utf8 = false;
    }
    *done = eof;
    return 1;
}

/* Start field number r->n_fields at the end of r->attr. */
static void
open_field(struct copy_format_reader *r)
{
    if (r->n_fields == r->cap_fields) {
        size_t cap = r->cap_fields ? 2 * r->cap_fields : 16;
        r->starts = realloc(r->starts, cap * sizeof(*r->starts));
        r->lens = realloc(r->lens, cap * sizeof(*r->lens));
        if (r->starts == NULL || r->lens == NULL)
            abort();
        r->cap_fields = cap;
    }
    r->starts[r->n_fields] = r->attr.len;
}

/* End the open field: NUL-terminate it, or mark it NULL. */
static void
close_field(struct copy_format_reader *r, bool is_null)
{
    size_t k = r->n_fields++;

    r->lens[k] = r->attr.len - r->starts[k];
    tl_buf_append_u8(&r->attr, 0);
    if (is_null)
        r->starts[k] = SIZE_MAX;
}

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

/* CopyReadAttributesText(): split r->line at the delimiter and undo the
 * backslash escapes. A field is NULL when its raw text is the null
 * marker. */
static int
split_text(struct copy_format_reader *r, struct tl_error *err)
{
    const struct copy_format_options *o = r->o;
    const char *cur = (const char *)r->line.data;
    const char *line_end = cur + r->line.len;

    for (;;) {
        const char *start = cur, *end;
        bool found_delim = false, saw_non_ascii = false;

        open_field(r);
        for (;;) {
            end = cur;
            if (cur >= line_end)
                break;
            char c = *cur++;
            if (c == o->delim) {
                found_delim = true;
                break;
            }
            if (c == '\\') {
                if (cur >= line_end)
                    break;
                c = *cur++;
                switch (c) {
                case '0':
                case '1':
                case '2':
                case '3':
                case '4':
                case '5':
                case '6':
                case '7': {
                    int val = c - '0';
                    if (cur < line_end && *cur >= '0' && *cur <= '7') {
                        val = (val << 3) + (*cur++ - '0');
                        if (cur < line_end && *cur >= '0' && *cur <= '7')
                            val = (val << 3) + (*cur++ - '0');
                    }
                    c = (char)(val & 0377);
                    if (c == '\0' || (c & 0x80))
                        saw_non_ascii = true;
                    break;
                }
                case 'x':
                    if (cur < line_end && isxdigit((unsigned char)*cur)) {
                        int val = hex_value(*cur++);
                        if (cur < line_end && isxdigit((unsigned char)*cur))
                            val = (val << 4) + hex_value(*cur++);
                        c = (char)(val & 0xff);
                        if (c == '\0' || (c & 0x80))
                            saw_non_ascii = true;
                    }
                    break;
                case 'b':
                    c = '\b';
                    break;
                case 'f':
                    c = '\f';
                    break;
                case 'n':
                    c = '\n';
                    break;
                case 'r':
                    c = '\r';
                    break;
                case 't':
                    c = '\t';
                    break;
                case 'v':
                    c = '\v';
                    break;
                default:
                    /* Any other character after a backslash is itself. */
                    break;
                }
            }
            tl_buf_append_u8(&r->attr, (uint8_t)c);
        }
        size_t input_len = (size_t)(end - start);
        if (input_len == o->null_len &&
            memcmp(start, o->null_str, input_len) == 0) {
            close_field(r, true);
        } else {
            if (saw_non_ascii) {
                /* Escapes may have made bytes that are not UTF-8. */
                size_t k = r->n_fields;
                const unsigned char *f = r->attr.data + r->starts[k];
                size_t len = r->attr.len - r->starts[k];
                size_t ok = sql_guard_utf8_prefix((const char *)f, len);
                if (ok < len) {
                    r->line_valid = true;
                    return invalid_utf8(err, f + ok, len - ok);
                }
            }
            close_field(r, false);
        }
        if (!found_delim)
            return 0;
    }
}

/* CopyReadAttributesCSV(): split r->line at unquoted delimiters and
 * remove the quotes. A field is NULL when it is the null marker and had
 * no quote at all. */
static int
split_csv(struct copy_format_reader *r, struct tl_error *err)
{
    const struct copy_format_options *o = r->o;
    const char *cur = (const char *)r->line.data;
    const char *line_end = cur + r->line.len;

    for (;;) {
        const char *start = cur, *end;
        bool found_delim = false, saw_quote = false;

        open_field(r);
        for (;;) {
            char c;
            /* Outside quotes. */
            for (;;) {
                end = cur;
                if (cur >= line_end)
                    goto endfield;
                c = *cur++;
                if (c == o->delim) {
                    found_delim = true;
                    goto endfield;
                }
                if (c == o->quote) {
                    saw_quote = true;
                    break;
                }
                tl_buf_append_u8(&r->attr, (uint8_t)c);
            }
            /* Inside quotes. */
            for (;;) {
                end = cur;
                if (cur >= line_end)
                    return bad_format(r, err, true, NULL,
                                      "unterminated CSV quoted field");
                c = *cur++;
                if (c == o->escape && cur < line_end &&
                    (*cur == o->escape || *cur == o->quote)) {
                    tl_buf_append_u8(&r->attr, (uint8_t)*cur++);
                    continue;
                }
                /* Tested after the escape: quote and escape are usually
                 * the same character. */
                if (c == o->quote)
                    break;
                tl_buf_append_u8(&r->attr, (uint8_t)c);
            }
        }
    endfield:;
        size_t input_len = (size_t)(end - start);
        close_field(r, !saw_quote && input_len == o->null_len &&
                           memcmp(start, o->null_str, input_len) == 0);
        if (!found_delim)
            return 0;
    }
}

/* Split r->line into r->n_fields fields. */
static int
split_line(struct copy_format_reader *r, struct tl_error *err)
{
    tl_buf_reset(&r->attr);
    r->n_fields = 0;
    if (r->o->n_columns == 0) {
        if (r->line.len != 0)
            return bad_format(r, err, true, NULL,
                              "extra data after last expected column");
        return 0;
    }
    if (r->o->format == COPY_FORMAT_CSV)
        return split_csv(r, err);
    return split_text(r, err);
}

static const char *
field_text(const struct copy_format_reader *r, size_t k)
{
    return r->starts[k] == SIZE_MAX ? NULL
                                    : (const char *)r->attr.data + r->starts[k];
}

/* HEADER MATCH: the header line must name the columns, in order. */
static int
check_header(struct copy_format_reader *r, struct tl_error *err)
{
    const struct copy_format_options *o = r->o;

    if (r->n_fields != o->n_columns)
        return bad_format(r, err, true, NULL,
                          "wrong number of fields in header line: got %zu, "
                          "expected %zu",
                          r->n_fields, o->n_columns);
    for (size_t k = 0; k < o->n_columns; k++) {
        const char *name = field_text(r, k);
        if (name == NULL)
            return bad_format(r, err, true, NULL,
                              "column name mismatch in header line field "
                              "%zu: got null value (\"%s\"), expected \"%s\"",
                              k + 1, o->null_str, o->columns[k]);
        if (strcmp(name, o->columns[k]) != 0)
            return bad_format(r, err, true, NULL,
                              "column name mismatch in header line field "
                              "%zu: got \"%s\", expected \"%s\"",
                              k + 1, name, o->columns[k]);
    }
    return 0;
}

/* NextCopyFrom()'s checks of the field count, and FORCE_NOT_NULL and
 * FORCE_NULL, into r->fields. */
static int
build_row(struct copy_format_reader *r, struct tl_error *err)
{
    const struct copy_format_options *o = r->o;

    if (o->n_columns > 0 && r->n_fields > o->n_columns)
        return bad_format(r, err, true, NULL,
                          "extra data after last expected column");
    for (size_t k = 0; k < o->n_columns; k++) {
        struct copy_format_field *f = &r->fields[k];
        if (k >= r->n_fields)
            return bad_format(r, err, true, NULL,
                              "missing data for column \"%s\"", o->columns[k]);
        f->p = field_text(r, k);
        f->len = f->p ? r->lens[k] : 0;
        f->is_null = f->p == NULL;
        if (o->format != COPY_FORMAT_CSV)
            continue;
        if (f->is_null && o->force_not_null[k]) {
            /* The value is then the null marker itself. */
            f->p = o->null_str;
            f->len = o->null_len;
            f->is_null = false;
        } else if (!f->is_null && o->force_null[k] && f->len == o->null_len &&
                   memcmp(f->p, o->null_str, f->len) == 0) {
            f->p = NULL;
            f->len = 0;
            f->is_null = true;
        }
    }
    return 0;
}

/* NextCopyFromRawFields() and NextCopyFrom(), for text and CSV. */
static int
next_row(struct copy_format_reader *r, const struct copy_format_field **fields,
         struct tl_error *err)
{
    int rv;
    bool done;

    for (;;) {
        if (r->ended)
            return 0;
        if (!r->line_open) {
            r->lineno++;
            r->line_open = true;
        }
        if ((rv = read_line(r, &done, err)) <= 0)
            return rv;
        r->line_open = false;
        if (!r->header_done) {
            r->header_done = true;
            if (r->o->header == COPY_FORMAT_HEADER_MATCH) {
                if ((rv = split_line(r, err)) < 0)
                    return rv;
                if ((rv = check_header(r, err)) < 0)
                    return rv;
            }
            if (done)
                r->ended = true;
            continue;
        }
        if (done && r->line.len == 0) {
            r->ended = true;
            return 0;
        }
        if ((rv = split_line(r, err)) < 0)
            return rv;
        if ((rv = build_row(r, err)) < 0)
            return rv;
        if (done)
            r->ended = true;
        *fields = r->fields;
        return 1;
    }
}

int
copy_format_next_row(struct copy_format_reader *r,
                     const struct copy_format_field **fields,
                     struct tl_error *err)
{
    int rv;

    if (r->failed) {
        if (err != NULL)
            *err = r->saved;
        return r->failed;
    }
    tl_error_clear(&r->saved);
    rv = next_row(r, fields, &r->saved);
    if (rv < 0) {
        r->failed = rv;
        if (err != NULL)
            *err = r->saved;
    }
    return rv;
}

/* ---------------------------------------------------------------- context
 */

/* limit_printout_length(): @s, or its first whole characters within
 * COPY_FORMAT_CONTEXT_MAX bytes followed by "...", appended to @out. */
static void
append_limited(char *out, size_t size, const char *s)
{
    size_t len = strlen(s), used = strlen(out);

    if (len > COPY_FORMAT_CONTEXT_MAX) {
        /* pg_mbcliplen(): stop before a character that would not fit. */
        size_t cut = 0;
        while (cut < len) {
            size_t l = sql_guard_utf8_char_len((unsigned char)s[cut]);
            if (cut + l > COPY_FORMAT_CONTEXT_MAX)
                break;
            cut += l;
        }
        snprintf(out + used, size - used, "%.*s...", (int)cut, s);
        return;
    }
    snprintf(out + used, size - used, "%s", s);
}

void
copy_format_context(char *out, size_t size, const char *relname, uint64_t line,
                    const char *column, const char *value,
                    const char *line_text)
{
    size_t used;

    if (size == 0)
        return;
    snprintf(out, size, "COPY %s, line %llu", relname,
             (unsigned long long)line);
    used = strlen(out);
    if (column != NULL && value != NULL) {
        snprintf(out + used, size - used, ", column %s: \"", column);
        append_limited(out, size, value);
    } else if (column != NULL) {
        snprintf(out + used, size - used, ", column %s: null input", column);
        return;
    } else if (line_text != NULL) {
        snprintf(out + used, size - used, ": \"");
        append_limited(out, size, line_text);
    } else {
        return;
    }
    used = strlen(out);
    snprintf(out + used, size - used, "\"");
}

/* ----------------------------------------------------------------- output
 */

/* CopyAttributeOutText(): backslash the delimiter, the backslash and the
 * control characters that have a letter; other bytes go as they are. */
static void
write_text_value(const struct copy_format_options *o, const char *p, size_t len,
                 struct tl_buf *out)
{
    size_t start = 0;

    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        char e;
        if ((unsigned char)c < 0x20) {
            switch (c) {
            case '\b':
                e = 'b';
                break;
            case '\f':
                e = 'f';
                break;
            case '\n':
                e = 'n';
                break;
            case '\r':
                e = 'r';
                break;
            case '\t':
                e = 't';
                break;
            case '\v':
                e = 'v';
                break;
            default:
                if (c != o->delim)
                    continue;
                e = c; /* a control-character delimiter, backslashed */
                break;
            }
        } else if (c == '\\' || c == o->delim) {
            e = c;
        } else {
            continue;
        }
        tl_buf_append(out, p + start, i - start);
        tl_buf_append_u8(out, '\\');
        tl_buf_append_u8(out, (uint8_t)e);
        start = i + 1;
    }
    tl_buf_append(out, p + start, len - start);
}

/* CopyAttributeOutCSV(): quote when @force, when the value is the null
 * marker, "\." as the only column, or holds the delimiter, the quote, CR
 * or LF; inside quotes, the quote and the escape are escaped. */
static void
write_csv_value(const struct copy_format_options *o, const char *p, size_t len,
                bool force, bool single, struct tl_buf *out)
{
    bool quote = force;

    if (!quote && len == o->null_len && memcmp(p, o->null_str, len) == 0)
        quote = true;
    if (!quote) {
        if (single && len == 2 && p[0] == '\\' && p[1] == '.') {
            quote = true;
        } else {
            for (size_t i = 0; i < len; i++) {
                char c = p[i];
                if (c == o->delim || c == o->quote || c == '\n' || c == '\r') {
                    quote = true;
                    break;
                }
            }
        }
    }
    if (!quote) {
        tl_buf_append(out, p, len);
        return;
    }
    tl_buf_append_u8(out, (uint8_t)o->quote);
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == o->quote || p[i] == o->escape) {
            tl_buf_append(out, p + start, i - start);
            tl_buf_append_u8(out, (uint8_t)o->escape);
            start = i; /* the character itself goes with the next run */
        }
    }
    tl_buf_append(out, p + start, len - start);
    tl_buf_append_u8(out, (uint8_t)o->quote);
}

void
copy_format_write_row(const struct copy_format_options *opts,
                      const struct copy_format_value *values,
                      struct tl_buf *out)
{
    bool csv = opts->format == COPY_FORMAT_CSV;

    assert(opts->format != COPY_FORMAT_BINARY);
    for (size_t k = 0; k < opts->n_columns; k++) {
        const struct copy_format_value *v = &values[k];
        if (k > 0)
            tl_buf_append_u8(out, (uint8_t)opts->delim);
        if (v->p == NULL)
            tl_buf_append(out, opts->null_str, opts->null_len);
        else if (csv)
            write_csv_value(opts, v->p, v->len, opts->force_quote[k],
                            opts->n_columns == 1, out);
        else
            write_text_value(opts, v->p, v->len, out);
    }
    tl_buf_append_u8(out, '\n');
}

void
copy_format_write_header(const struct copy_format_options *opts,
                         struct tl_buf *out)
{
    bool csv = opts->format == COPY_FORMAT_CSV;

    for (size_t k = 0; k < opts->n_columns; k++) {
        const char *name = opts->columns[k];
        if (k > 0)
            tl_buf_append_u8(out, (uint8_t)opts->delim);
        if (csv)
            write_csv_value(opts, name, strlen(name), false,
                            opts->n_columns == 1, out);
        else
            write_text_value(opts, name, strlen(name), out);
    }
    tl_buf_append_u8(out, '\n');
}
