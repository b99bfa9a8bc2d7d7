/* copy — the COPY sub-protocol of a session. */
#include "router/session/copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "router/exec/copy_in.h"
#include "router/wire/pgwire.h"

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

/* PostgreSQL's CONTEXT line for an error at @line of the COPY. */
static void
set_context(struct sql_stmt *st, const char *relname, uint64_t line,
            const char *column, const char *value, const char *line_text)
{
    copy_format_context(st->err.context, sizeof(st->err.context), relname, line,
                        column, value, line_text);
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
    struct copy_format_reader *rd;
    copy_format_reader_create(&opts, &rd);
    pgw_send_copy_in_response(c, opts.n_columns);
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
            copy_format_feed(rd, msg.data, msg.len);
            rv = drain_rows(st, rd, &opts, ci, t->name);
            break;
        case 'c':
            copy_format_finish(rd);
            rv = drain_rows(st, rd, &opts, ci, t->name);
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
    pgw_send_copy_out_response(d->c, d->n_cols);
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
    return 0;
}

static int
out_row(struct dest *base, const struct tl_value *v, size_t n)
{
    struct copy_out_dest *d = (struct copy_out_dest *)base;
    out_start(d);
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
}

void
copy_out_dest_close(struct copy_out_dest *d)
{
    if (d->has_opts)
        copy_format_options_close(&d->opts);
    tl_buf_close(&d->line);
    tl_buf_close(&d->text);
}
