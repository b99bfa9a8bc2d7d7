/* copy — the COPY sub-protocol of a session. */
#include "router/session/copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "datetime.h"
#include "router/exec/copy_in.h"
#include "router/sql/copy_binary.h"
#include "router/wire/pgwire.h"

/* PostgreSQL's range of finite dates (IS_VALID_DATE: Julian day 0 to
 * DATE_END_JULIAN, in days since 2000-01-01) and timestamps
 * (IS_VALID_TIMESTAMP: MIN_TIMESTAMP to END_TIMESTAMP, microseconds). */
#define COPY_DATE_MIN INT64_C(-2451545)
#define COPY_DATE_END INT64_C(2145031949)
#define COPY_TS_MIN INT64_C(-211813488000000000)
#define COPY_TS_END INT64_C(9223371331200000000)

int
copy_check(struct sql_stmt *st, const PgQuery__CopyStmt *cs, bool extended)
{
    if (cs->filename != NULL && cs->filename[0] != '\0') {
        sql_error(st, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                  "COPY %s a %s is not supported", cs->is_from ? "from" : "to",
                  cs->is_program ? "program" : "file");
        tl_error_hint(&st->err, "Use COPY %s (psql's \\copy) instead.",
                      cs->is_from ? "FROM STDIN" : "TO STDOUT");
        return TL_EUNSUPPORTED;
    }
    if (cs->where_clause != NULL)
        return sql_unsupported(st, "COPY FROM ... WHERE");
    if (extended && cs->is_from)
        return sql_unsupported(
            st, "COPY FROM STDIN in the extended query protocol");
    return 0;
}

/* The visible columns of @t: their names (in st->a) and table indexes. */
static size_t
visible_columns(struct sql_stmt *st, const struct tl_table *t,
                const char ***names, size_t **index)
{
    *names = tl_arena_alloc(st->a, (t->n_columns + 1) * sizeof(**names));
    *index = tl_arena_alloc(st->a, (t->n_columns + 1) * sizeof(**index));
    size_t n = 0;
    for (uint32_t c = 0; c < t->n_columns; c++) {
        if (t->columns[c].hidden)
            continue;
        (*names)[n] = t->columns[c].name;
        (*index)[n] = c;
        n++;
    }
    return n;
}

/* Look up the table of @cs into *@t and read its options for the
 * table's visible columns (*@index: their column numbers), position
 * errors mapped into the query. */
static int
open_table(struct sql_stmt *st, const PgQuery__CopyStmt *cs,
           struct tl_table **t, struct copy_format_options *opts,
           size_t **index)
{
    const char **names;
    memset(opts, 0, sizeof(*opts));
    int rv = sql_lookup_table(st, cs->relation, t);
    if (rv != 0)
        return rv;
    size_t n = visible_columns(st, *t, &names, index);
    rv = copy_format_options_parse(cs, (*t)->name, names, n, opts, &st->err);
    if (rv != 0 && st->err.position > 0) {
        int at = st->err.position - 1;
        st->err.position = 0;
        sql_error_at(st, rv, at);
    }
    return rv;
}

/* Put @copy_ctx under a context the error already has (a json input
 * error's "JSON data, line 1: ..."), as PostgreSQL stacks them. */
static void
stack_context(struct sql_stmt *st, const char *copy_ctx)
{
    char *c = st->err.context;
    size_t cap = sizeof(st->err.context), n = strlen(c);
    if (n > 0 && n + 1 < cap)
        c[n++] = '\n';
    size_t m = strlen(copy_ctx);
    if (m > cap - n - 1)
        m = cap - n - 1;
    memcpy(c + n, copy_ctx, m);
    c[n + m] = '\0';
}

/* PostgreSQL's CONTEXT line for an error at @line of the COPY. */
static void
set_context(struct sql_stmt *st, const char *relname, uint64_t line,
            const char *column, const char *value, const char *line_text)
{
    char ctx[sizeof(st->err.context)];
    copy_format_context(ctx, sizeof(ctx), relname, line, column, value,
                        line_text);
    stack_context(st, ctx);
}

/* Feed the rows @rd holds to @ci. */
static int
drain_rows(struct sql_stmt *st, struct copy_format_reader *rd,
           const struct copy_format_options *opts, struct copy_in *ci,
           const char *relname)
{
    const struct copy_format_field *fields;
    int rv;
    while ((rv = copy_format_next_row(rd, &fields, &st->err)) == 1) {
        uint64_t line = copy_format_reader_line(rd), bad_line;
        int bad_field;
        rv = copy_in_row(ci, (const struct copy_in_field *)fields, line,
                         &bad_field, &bad_line);
        if (rv == 0)
            continue;
        /* As PostgreSQL: a value its type rejects names its column; a
         * constraint checked when the row is stored, only the line. */
        if (bad_field >= 0)
            set_context(st, relname, line, opts->columns[bad_field],
                        fields[bad_field].p, NULL);
        else
            set_context(st, relname, bad_line > 0 ? bad_line : line, NULL, NULL,
                        NULL);
        return rv;
    }
    if (rv < 0)
        set_context(st, relname, copy_format_reader_line(rd), NULL, NULL,
                    copy_format_reader_line_text(rd));
    return rv;
}

int
copy_binary_value(uint8_t type, int32_t typmod, const char *p, size_t len,
                  struct tl_arena *a, struct tl_value *out,
                  struct tl_error *err)
{
    /* Too few bytes fail where PostgreSQL's typreceive reads past the end
     * of its buffer (pq_getmsgbyte() for bool, pq_copymsgbytes() for the
     * others); too many where CopyReadBinaryAttribute() finds bytes left. */
    int16_t want = tl_type_len(type);
    if (want > 0 && len < (size_t)want)
        return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                            type == TL_TYPE_BOOL
                                ? "no data left in message"
                                : "insufficient data left in message");
    if (tl_type_is_text(type) || tl_type_is_json(type)) {
        char bad[48];
        if (!sql_guard_utf8_ok(p, len, bad, sizeof(bad)))
            return tl_error_set(err, TL_ETYPE,
                                TL_SQLSTATE_CHARACTER_NOT_IN_REPERTOIRE,
                                "invalid byte sequence for encoding "
                                "\"UTF8\": %s",
                                bad);
    }
    int rv = pgw_value_from_binary(type, (const uint8_t *)p, len, a, out, err);
    if (rv != 0)
        return rv;
    out->type = type;
    if (type == TL_TYPE_DATE && out->u.i != TL_DATE_NOBEGIN &&
        out->u.i != TL_DATE_NOEND &&
        (out->u.i < COPY_DATE_MIN || out->u.i >= COPY_DATE_END))
        return tl_error_set(err, TL_EOVERFLOW,
                            TL_SQLSTATE_DATETIME_FIELD_OVERFLOW,
                            "date out of range");
    if ((type == TL_TYPE_TIMESTAMP || type == TL_TYPE_TIMESTAMPTZ) &&
        out->u.i != TL_TS_NOBEGIN && out->u.i != TL_TS_NOEND &&
        (out->u.i < COPY_TS_MIN || out->u.i >= COPY_TS_END))
        return tl_error_set(err, TL_EOVERFLOW,
                            TL_SQLSTATE_DATETIME_FIELD_OVERFLOW,
                            "timestamp out of range");
    if ((tl_type_is_text(type) || type == TL_TYPE_NUMERIC ||
         type == TL_TYPE_INTERVAL) &&
        typmod >= 0) {
        /* varchar_recv() and bpchar_recv() apply the typmod: 22001 past
         * n characters (but for trailing spaces, cut), padding to n;
         * numeric_recv() rounds to numeric(p,s) (22003 past it);
         * interval_recv() keeps the typmod's fields and precision. */
        struct tl_value v = *out;
        return tl_value_cast(&v, type, typmod, a, out, err);
    }
    return 0;
}

/* What COPY FROM in the binary format needs besides the reader. */
struct binary_in {
    struct copy_binary_reader *rd;
    const struct tl_table *t;
    const size_t *cols;       /* table column of each field */
    const char *const *names; /* column name of each field */
    size_t n;
    struct tl_value *vals; /* n: the tuple decoded */
    struct tl_arena a;     /* of one tuple */
};

/* PostgreSQL's CONTEXT line for binary data, which it does not show:
 * "COPY t, line N[, column c]" (CopyFromErrorCallback()). */
static void
set_binary_context(struct sql_stmt *st, const char *relname, uint64_t line,
                   const char *column)
{
    char ctx[sizeof(st->err.context)];
    if (column != NULL)
        snprintf(ctx, sizeof(ctx), "COPY %s, line %llu, column %s", relname,
                 (unsigned long long)line, column);
    else
        snprintf(ctx, sizeof(ctx), "COPY %s, line %llu", relname,
                 (unsigned long long)line);
    stack_context(st, ctx);
}

/* Decode fields[0 .. n) of @bi into bi->vals: 0, or the error of the first
 * bad one (its index in *@bad). */
static int
decode_fields(struct sql_stmt *st, struct binary_in *bi,
              const struct copy_format_field *fields, size_t n, int *bad)
{
    tl_arena_reset(&bi->a);
    for (size_t i = 0; i < n; i++) {
        const struct tl_column *col = &bi->t->columns[bi->cols[i]];
        if (fields[i].is_null) {
            bi->vals[i] = tl_value_null(col->type);
            continue;
        }
        int rv =
            copy_binary_value(col->type, col->typmod, fields[i].p,
                              fields[i].len, &bi->a, &bi->vals[i], &st->err);
        if (rv != 0) {
            *bad = (int)i;
            return rv;
        }
    }
    return 0;
}

/* Feed the tuples bi->rd holds to @ci. As PostgreSQL reads a tuple field
 * by field, decoding each as it comes, a bad value is reported before a
 * framing error later in its tuple. */
static int
drain_tuples(struct sql_stmt *st, struct binary_in *bi, struct copy_in *ci)
{
    const struct copy_format_field *fields;
    const char *relname = bi->t->name;
    int rv;
    while ((rv = copy_binary_next_row(bi->rd, &fields, &st->err)) == 1) {
        uint64_t line = copy_binary_reader_line(bi->rd), bad_line = 0;
        int bad = -1;
        rv = decode_fields(st, bi, fields, bi->n, &bad);
        if (rv == 0)
            rv = copy_in_row_values(ci, bi->vals, line, &bad, &bad_line);
        if (rv == 0)
            continue;
        if (bad >= 0)
            set_binary_context(st, relname, line, bi->names[bad]);
        else
            set_binary_context(st, relname, bad_line > 0 ? bad_line : line,
                               NULL);
        return rv;
    }
    if (rv == 0)
        return 0;
    uint64_t line = copy_binary_reader_line(bi->rd);
    int col = copy_binary_reader_column(bi->rd);
    if (col > 0) {
        struct tl_error frame = st->err;
        int bad = -1;
        size_t n = copy_binary_reader_partial(bi->rd, &fields);
        int rv2 = decode_fields(st, bi, fields, n, &bad);
        if (rv2 != 0) {
            set_binary_context(st, relname, line, bi->names[bad]);
            return rv2;
        }
        st->err = frame;
    }
    if (line > 0) /* errors of the header have no CONTEXT */
        set_binary_context(st, relname, line, col >= 0 ? bi->names[col] : NULL);
    return rv;
}

int
copy_from_stdin(struct sql_stmt *st, struct pgw_conn *c,
                const PgQuery__CopyStmt *cs, bool *gone)
{
    struct tl_table *t;
    struct copy_format_options opts;
    size_t *index;
    *gone = false;
    int rv = open_table(st, cs, &t, &opts, &index);
    if (rv != 0)
        return rv;
    size_t *cols = tl_arena_alloc(st->a, (opts.n_columns + 1) * sizeof(*cols));
    for (size_t i = 0; i < opts.n_columns; i++)
        cols[i] = index[opts.column_index[i]];
    struct copy_in *ci;
    rv = copy_in_begin(st, t, cols, opts.n_columns, &ci);
    if (rv != 0) {
        copy_format_options_close(&opts);
        return rv;
    }
    bool binary = opts.format == COPY_FORMAT_BINARY;
    struct copy_format_reader *rd = NULL;
    struct binary_in bi = {.t = t, .cols = cols, .n = opts.n_columns};
    tl_arena_init(&bi.a);
    if (binary) {
        copy_binary_reader_create(opts.n_columns, &bi.rd);
        bi.vals =
            tl_arena_alloc(st->a, (opts.n_columns + 1) * sizeof(*bi.vals));
        bi.names = (const char *const *)opts.columns;
    } else {
        copy_format_reader_create(&opts, &rd);
    }
    pgw_send_copy_in_response(c, opts.n_columns, binary ? 1 : 0);
    if (pgw_flush(c) != 0)
        *gone = true;
    struct tl_buf msg;
    tl_buf_init(&msg);
    bool done = false;
    while (rv == 0 && !done && !*gone) {
        char type;
        int r = pgw_read_message(c, &type, &msg);
        if (r != 0) {
            *gone = true;
            rv = TL_EIO;
            break;
        }
        switch (type) {
        case 'd':
            if (binary) {
                copy_binary_feed(bi.rd, msg.data, msg.len);
                rv = drain_tuples(st, &bi, ci);
            } else {
                copy_format_feed(rd, msg.data, msg.len);
                rv = drain_rows(st, rd, &opts, ci, t->name);
            }
            break;
        case 'c':
            if (binary) {
                copy_binary_finish(bi.rd);
                rv = drain_tuples(st, &bi, ci);
            } else {
                copy_format_finish(rd);
                rv = drain_rows(st, rd, &opts, ci, t->name);
            }
            done = true;
            break;
        case 'f':
            rv = sql_error(st, TL_ESQL, TL_SQLSTATE_QUERY_CANCELED,
                           "COPY from stdin failed: %.*s", (int)msg.len,
                           msg.len > 0 ? (const char *)msg.data : "");
            break;
        case 'H':
        case 'S':
            break; /* PostgreSQL ignores Flush and Sync during COPY */
        default:
            rv = sql_error(st, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                           "unexpected message type 0x%02X during COPY from "
                           "stdin",
                           (unsigned)(unsigned char)type);
            break;
        }
    }
    tl_buf_close(&msg);
    uint64_t n = 0, bad_line = 0;
    if (rv == 0)
        rv = copy_in_finish(ci, &n, &bad_line);
    if (rv != 0 && bad_line > 0 && st->err.context[0] == '\0')
        set_context(st, t->name, bad_line, NULL, NULL, NULL);
    if (rv != 0)
        copy_in_abort(ci);
    copy_in_destroy(ci);
    copy_format_reader_destroy(rd);
    copy_binary_reader_destroy(bi.rd);
    tl_arena_close(&bi.a);
    copy_format_options_close(&opts);
    if (rv == 0) {
        char tag[32];
        snprintf(tag, sizeof(tag), "COPY %llu", (unsigned long long)n);
        dest_complete(st->dest, tag);
    }
    return rv;
}

static void
append_str(struct tl_buf *b, const char *s)
{
    tl_buf_append(b, s, strlen(s));
}

/* @name as a quoted identifier in @b. */
static void
append_ident(struct tl_buf *b, const char *name)
{
    tl_buf_append_u8(b, '"');
    for (const char *p = name; *p != '\0'; p++) {
        if (*p == '"')
            tl_buf_append_u8(b, '"');
        tl_buf_append_u8(b, (uint8_t)*p);
    }
    tl_buf_append_u8(b, '"');
}

int
copy_to_select(struct sql_stmt *st, const PgQuery__CopyStmt *cs, char **sql)
{
    struct tl_table *t;
    struct copy_format_options opts;
    size_t *index;
    int rv = open_table(st, cs, &t, &opts, &index);
    if (rv != 0)
        return rv;
    struct tl_buf b;
    tl_buf_init(&b);
    append_str(&b, "SELECT ");
    for (size_t i = 0; i < opts.n_columns; i++) {
        if (i > 0)
            append_str(&b, ", ");
        append_ident(&b, opts.columns[i]);
    }
    append_str(&b, " FROM ");
    append_ident(&b, t->name);
    tl_buf_append_u8(&b, 0);
    copy_format_options_close(&opts);
    *sql = strdup((const char *)b.data);
    tl_buf_close(&b);
    if (*sql == NULL)
        abort();
    return 0;
}

/* ------------------------------------------------------------ COPY TO */

static void
out_start(struct copy_out_dest *d)
{
    if (d->started)
        return;
    d->started = true;
    bool binary = d->opts.format == COPY_FORMAT_BINARY;
    pgw_send_copy_out_response(d->c, d->n_cols, binary ? 1 : 0);
    if (binary) {
        /* As PostgreSQL, the header goes in one CopyData with the first
         * tuple (or the trailer): out_row() and out_complete() send it. */
        tl_buf_reset(&d->line);
        copy_binary_write_header(&d->line);
        return;
    }
    if (d->opts.header != COPY_FORMAT_HEADER_NONE) {
        tl_buf_reset(&d->line);
        copy_format_write_header(&d->opts, &d->line);
        pgw_send_copy_data(d->c, d->line.data, d->line.len);
    }
}

static int
out_startup(struct dest *base, const struct dest_column *cols, size_t n)
{
    struct copy_out_dest *d = (struct copy_out_dest *)base;
    if (d->has_opts)
        copy_format_options_close(&d->opts);
    d->has_opts = false;
    const char **names = calloc(n + 1, sizeof(*names));
    if (names == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        names[i] = cols[i].name;
    /* COPY (query) TO names its columns from the result: a column list
     * there is a syntax error PostgreSQL's parser already gave. */
    PgQuery__CopyStmt cs = *d->cs;
    cs.n_attlist = 0;
    int rv = copy_format_options_parse(&cs, d->relname, names, n, &d->opts,
                                       &base->err);
    free(names);
    if (rv != 0)
        return rv;
    d->has_opts = true;
    d->n_cols = n;
    free(d->types);
    d->types = calloc(n + 1, sizeof(*d->types));
    if (d->types == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        d->types[i] = cols[i].type;
    return 0;
}

/* One tuple of @v in the binary format, appended to d->line (which may
 * hold the header already). A value whose type is not its column's (a
 * result column of one type fed values of a narrower one) is cast first,
 * so the bytes are those of the type the client was told. */
static int
out_row_binary(struct copy_out_dest *d, const struct tl_value *v, size_t n)
{
    copy_binary_write_tuple_start(&d->line, n);
    tl_arena_reset(&d->arena);
    for (size_t i = 0; i < n; i++) {
        if (v[i].is_null) {
            copy_binary_write_null(&d->line);
            continue;
        }
        struct tl_value cv = v[i];
        if (i < d->n_cols && cv.type != d->types[i] &&
            d->types[i] != TL_TYPE_UNKNOWN) {
            int rv = tl_value_cast(&v[i], d->types[i], -1, &d->arena, &cv,
                                   &d->base.err);
            if (rv != 0)
                return rv;
        }
        size_t at = copy_binary_write_field_start(&d->line);
        pgw_value_to_binary(&cv, &d->line);
        copy_binary_write_field_end(&d->line, at);
    }
    pgw_send_copy_data(d->c, d->line.data, d->line.len);
    tl_buf_reset(&d->line);
    return 0;
}

static int
out_row(struct dest *base, const struct tl_value *v, size_t n)
{
    struct copy_out_dest *d = (struct copy_out_dest *)base;
    out_start(d);
    if (d->opts.format == COPY_FORMAT_BINARY) {
        int rv = out_row_binary(d, v, n);
        if (rv != 0)
            return rv;
        d->n++;
        if (d->c->broken)
            base->stop = true;
        return 0;
    }
    struct copy_format_value *vals = calloc(n + 1, sizeof(*vals));
    size_t *at = calloc(n + 1, sizeof(*at));
    if (vals == NULL || at == NULL)
        abort();
    tl_buf_reset(&d->text);
    for (size_t i = 0; i < n; i++) {
        at[i] = d->text.len;
        if (!v[i].is_null)
            tl_value_to_text(&v[i], &d->text);
    }
    for (size_t i = 0; i < n; i++) {
        size_t end = i + 1 < n ? at[i + 1] : d->text.len;
        vals[i].len = end - at[i];
        /* An empty value is "" (text.data may still be NULL), not NULL. */
        if (!v[i].is_null)
            vals[i].p =
                vals[i].len > 0 ? (const char *)d->text.data + at[i] : "";
    }
    tl_buf_reset(&d->line);
    copy_format_write_row(&d->opts, vals, &d->line);
    pgw_send_copy_data(d->c, d->line.data, d->line.len);
    free(vals);
    free(at);
    d->n++;
    if (d->c->broken)
        base->stop = true;
    return 0;
}

static void
out_complete(struct dest *base, const char *tag)
{
    struct copy_out_dest *d = (struct copy_out_dest *)base;
    (void)tag;
    out_start(d);
    if (d->opts.format == COPY_FORMAT_BINARY) {
        /* The header is still in d->line when no tuple was sent. */
        copy_binary_write_trailer(&d->line);
        pgw_send_copy_data(d->c, d->line.data, d->line.len);
        tl_buf_reset(&d->line);
    }
    pgw_send_copy_done(d->c);
    char t[32];
    snprintf(t, sizeof(t), "COPY %llu", (unsigned long long)d->n);
    pgw_send_command_complete(d->c, t);
}

static void
out_notice(struct dest *base, const struct tl_error *e, bool warning)
{
    struct copy_out_dest *d = (struct copy_out_dest *)base;
    pgw_send_notice(d->c, e, warning);
}

void
copy_out_dest_init(struct copy_out_dest *d, struct pgw_conn *c,
                   const PgQuery__CopyStmt *cs, const char *relname)
{
    memset(d, 0, sizeof(*d));
    d->base.startup_cb = out_startup;
    d->base.row_cb = out_row;
    d->base.complete_cb = out_complete;
    d->base.notice_cb = out_notice;
    d->c = c;
    d->cs = cs;
    d->relname = relname;
    tl_buf_init(&d->line);
    tl_buf_init(&d->text);
    tl_arena_init(&d->arena);
}

void
copy_out_dest_close(struct copy_out_dest *d)
{
    if (d->has_opts)
        copy_format_options_close(&d->opts);
    tl_buf_close(&d->line);
    tl_buf_close(&d->text);
    tl_arena_close(&d->arena);
    free(d->types);
}
