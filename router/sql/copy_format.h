/* copy_format — the COPY text and CSV formats of PostgreSQL 15, without I/O.
 *
 * Three parts, used by COPY FROM STDIN and COPY TO STDOUT:
 *
 *  - options: copy_format_options_parse() validates the option list and
 *    column list of a CopyStmt as PostgreSQL 15's ProcessCopyOptions(),
 *    CopyGetAttnums() and BeginCopyFrom()/BeginCopyTo() do, with their
 *    SQLSTATEs and messages, and fills in the defaults (text: delimiter
 *    tab, null "\N"; CSV: delimiter ',', null "", quote '"', escape =
 *    quote).
 *  - input: a reader that takes CopyData payloads cut at any byte
 *    (copy_format_feed()), splits them into lines as CopyReadLineText()
 *    does (\n, \r\n or \r, fixed by the first line; "\." ends the data)
 *    and each line into fields as CopyReadAttributesText() (de-escaping)
 *    or CopyReadAttributesCSV() (quoting) do. Input must be UTF-8 (the
 *    only encoding Talus speaks); invalid bytes are refused with 22021 as
 *    PostgreSQL refuses them.
 *  - output: copy_format_write_row() and copy_format_write_header()
 *    append one line in text (CopyAttributeOutText()) or CSV
 *    (CopyAttributeOutCSV()) form to a struct tl_buf.
 *
 * Errors of the reader carry the line number they belong to, so that the
 * caller can add PostgreSQL's CONTEXT line with copy_format_context().
 *
 * Invariants: the reader holds at most the unconsumed input plus the
 * current line and its fields, so when the caller pulls the complete rows
 * after each feed its memory is bounded by the longest line plus one
 * CopyData payload, not by the size of the input. Nothing here does I/O,
 * logs, or keeps global state. */
#ifndef TL_COPY_FORMAT_H
#define TL_COPY_FORMAT_H

#include <pg_query/pg_query.pb-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "tl_error.h"

/* PostgreSQL's MAX_COPY_DATA_DISPLAY: longest value or line quoted in a
 * CONTEXT line before it is cut and followed by "...". */
#define COPY_FORMAT_CONTEXT_MAX 100

enum copy_format_kind {
    COPY_FORMAT_TEXT = 0,
    COPY_FORMAT_CSV = 1,
    COPY_FORMAT_BINARY = 2, /* framing in copy_binary.h */
};

enum copy_format_header {
    COPY_FORMAT_HEADER_NONE = 0,
    COPY_FORMAT_HEADER_TRUE = 1,  /* FROM: skip the first line; TO: write */
    COPY_FORMAT_HEADER_MATCH = 2, /* FROM only: first line must name the
                                     columns, in order */
};

/* The validated options of one COPY. Strings are NUL-terminated copies
 * owned by the struct; release with copy_format_options_close().
 *
 * columns[i] (a copy) is the name of the i-th column copied, in the order
 * of the data; column_index[i] its position in the table's columns given
 * to copy_format_options_parse(). The force_* arrays have n_columns
 * entries (all false in text format). */
struct copy_format_options {
    enum copy_format_kind format;
    bool is_from;
    enum copy_format_header header;
    char delim;     /* one byte */
    char quote;     /* CSV only, else '\0' */
    char escape;    /* CSV only, else '\0' */
    char *null_str; /* NULL marker, null_len bytes */
    size_t null_len;
    char *encoding; /* as given in ENCODING, NULL if absent */
    bool freeze;
    size_t n_columns;
    char **columns;
    size_t *column_index;
    bool *force_quote;    /* TO, CSV: quote every non-NULL value */
    bool *force_not_null; /* FROM, CSV: unquoted null marker is a value */
    bool *force_null;     /* FROM, CSV: quoted null marker is NULL too */
};

/** Validate the options and column list of @stmt (borrowed) for a COPY of
 * a table (or query result) whose columns are @table_columns[0 ..
 * @n_table_columns) (borrowed; names compared byte for byte, as
 * PostgreSQL compares identifiers after the parser folded them), and fill
 * *@out (which then owns copies of everything it needs; release with
 * copy_format_options_close()). Without an attlist every column is
 * copied, in table order. @relname names the relation in messages
 * (stmt->relation->relname when NULL).
 *
 * Errors, as PostgreSQL 15 reports them (message, SQLSTATE in @err, which
 * may be NULL). Where PostgreSQL gives a cursor position, err->position is
 * the option's byte offset in the query plus one: the same as PostgreSQL's
 * character position for ASCII queries; otherwise convert it with
 * sql_error_at(st, rv, err->position - 1).
 *  - TL_ESYNTAX, 42601: "conflicting or redundant options", "option "x"
 *    not recognized", "x requires a parameter", "x requires a Boolean
 *    value", "header requires a Boolean value or "match"", "cannot
 *    specify DELIMITER|NULL in BINARY mode";
 *  - TL_EINVAL, 22023: "COPY format "x" not recognized", "COPY delimiter
 *    cannot be newline or carriage return", "COPY delimiter cannot be
 *    "x"", "COPY null representation cannot use newline or carriage
 *    return", "COPY delimiter and quote must be different", "argument to
 *    option "x" must be a list of column names", "argument to option
 *    "encoding" must be a valid encoding name";
 *  - TL_EUNSUPPORTED, 0A000: "COPY delimiter|quote|escape must be a single
 *    one-byte character", "COPY quote|escape|force quote|force not
 *    null|force null available only in CSV mode", "COPY force quote only
 *    available using COPY TO", "COPY force (not) null only available
 *    using COPY FROM", "COPY delimiter must not appear in the NULL
 *    specification", "CSV quote character must not appear in the NULL
 *    specification", "cannot specify HEADER in BINARY mode", "cannot use
 *    "match" with HEADER in COPY TO"; and, Talus' own, "COPY encoding
 *    "x" is not supported yet" (any valid encoding but UTF8);
 *  - TL_ENOTFOUND, 42703: column "x" of relation "t" does not exist
 *    (column "x" does not exist, without a relation name);
 *  - TL_EEXISTS, 42701: column "x" specified more than once;
 *  - TL_EINVAL, 42P10: FORCE_QUOTE|FORCE_NOT_NULL|FORCE_NULL column "x"
 *    not referenced by COPY.
 * On error *@out is left empty (closing it is harmless). */
int copy_format_options_parse(const PgQuery__CopyStmt *stmt,
                              const char *relname,
                              const char *const *table_columns,
                              size_t n_table_columns,
                              struct copy_format_options *out,
                              struct tl_error *err);

/** Release what @o owns; @o is then empty. Cannot fail. */
void copy_format_options_close(struct copy_format_options *o);

/* One field of a row read by the reader: p[0..len) is the de-escaped or
 * unquoted value, followed by a NUL (so p is also a C string when the
 * value has no NUL byte, which valid input never has); p is NULL when
 * is_null. */
struct copy_format_field {
    const char *p;
    size_t len;
    bool is_null;
};

struct copy_format_reader;

/** A reader for COPY FROM with options @opts (borrowed; must outlive the
 * reader and have is_from set and a text or CSV format). *@out owns it;
 * release with copy_format_reader_destroy(). Cannot fail (allocation
 * failure aborts, as everywhere in Talus). */
void copy_format_reader_create(const struct copy_format_options *opts,
                               struct copy_format_reader **out);

/** Free @r; NULL is a no-op. */
void copy_format_reader_destroy(struct copy_format_reader *r);

/** Append @len bytes of one CopyData payload (copied) to the input of @r.
 * Bytes after the end-of-data marker "\." are dropped, as PostgreSQL drops
 * them, and so are bytes fed after copy_format_finish(). Cannot fail. */
void copy_format_feed(struct copy_format_reader *r, const void *p, size_t len);

/** Tell @r that the input is complete (CopyDone): a last line without a
 * line ending is then still a row. Cannot fail. */
void copy_format_finish(struct copy_format_reader *r);

/** The next row of @r. Returns 1 and sets *@fields (borrowed from @r,
 * valid until the next call on @r) to @r's n_columns fields; 0 when no
 * complete row is buffered: either more input is needed or, once
 * copy_format_reader_done() is true, there are no more rows. A header
 * line (HEADER true or match) is consumed, never returned.
 *
 * Errors (reported in @err, which may be NULL, with SQLSTATE 22P04 and
 * TL_ECORRUPT unless said otherwise; the reader is then failed and every
 * later call returns the same code): "literal carriage return found in
 * data", "literal newline found in data", "unquoted carriage return found
 * in data", "unquoted newline found in data" (each with PostgreSQL's
 * hint), "end-of-copy marker corrupt", "end-of-copy marker does not match
 * previous newline style", "unterminated CSV quoted field", "extra data
 * after last expected column", "missing data for column "x"", "wrong
 * number of fields in header line: got N, expected M", "column name
 * mismatch in header line field N: got "x", expected "y"" (or got null
 * value ("\N")), and TL_ETYPE with 22021 "invalid byte sequence for
 * encoding "UTF8": 0x.." for input that is not UTF-8.
 *
 * PostgreSQL converts the fields of a row to their types before it checks
 * for missing columns; the reader checks first, so a row that is both
 * short and holds a bad value reports the missing column. */
int copy_format_next_row(struct copy_format_reader *r,
                         const struct copy_format_field **fields,
                         struct tl_error *err);

/** True when @r has returned its last row: the input is finished or ended
 * with "\.", and no buffered line remains. */
bool copy_format_reader_done(const struct copy_format_reader *r);

/** The line number (1-based; the header is line 1) of the last row
 * returned by, or of the error reported by, copy_format_next_row(); 0
 * before the first line. Lines are counted as PostgreSQL counts them
 * (newlines inside CSV quotes count). */
uint64_t copy_format_reader_line(const struct copy_format_reader *r);

/** The text of the current line (borrowed, NUL-terminated, valid until the
 * next call on @r), or NULL when PostgreSQL would not show it: after a
 * line-splitting or encoding error of the raw input, where its CONTEXT
 * line has no text. */
const char *copy_format_reader_line_text(const struct copy_format_reader *r);

/** Append to @out (a NUL-terminated string of @size bytes, truncated to
 * fit) the CONTEXT line PostgreSQL 15 reports for an error in COPY FROM
 * (CopyFromErrorCallback):
 *   "COPY t, line N, column c: "value""   when @column and @value are set,
 *   "COPY t, line N, column c: null input" when @column is set and @value
 *                                          is NULL,
 *   "COPY t, line N: "line text""          when only @line_text is set,
 *   "COPY t, line N"                       otherwise.
 * Values and lines longer than COPY_FORMAT_CONTEXT_MAX bytes are cut at a
 * UTF-8 character boundary and followed by "...". @relname, @column,
 * @value, @line_text are borrowed. Cannot fail. */
void copy_format_context(char *out, size_t size, const char *relname,
                         uint64_t line, const char *column, const char *value,
                         const char *line_text);

/* One value to write: NULL p means SQL NULL. */
struct copy_format_value {
    const char *p;
    size_t len;
};

/** Append one line of COPY TO output to @out: @values[0 .. opts->n_columns)
 * (borrowed), separated by the delimiter, NULLs as the null marker, each
 * value escaped (text) or quoted when needed (CSV: when it holds the
 * delimiter, the quote, CR or LF, equals the null marker, or is "\." as
 * the only column; always for FORCE_QUOTE columns), then "\n". Cannot
 * fail. */
void copy_format_write_row(const struct copy_format_options *opts,
                           const struct copy_format_value *values,
                           struct tl_buf *out);

/** Append the header line (the names of the columns copied, written as
 * values; never forced into quotes) to @out. The caller writes it only
 * when opts->header is set. Cannot fail. */
void copy_format_write_header(const struct copy_format_options *opts,
                              struct tl_buf *out);

#endif
