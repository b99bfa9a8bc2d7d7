/* copy — COPY FROM STDIN and COPY TO STDOUT in the simple query protocol.
 *
 * COPY FROM reads CopyData messages from the client, splits them into rows
 * with router/sql/copy_format.h and hands the rows to the write side
 * (router/exec/copy_in.h), which writes them in batches and takes them all
 * back if one fails: a bad row fails the statement with PostgreSQL's
 * message and CONTEXT ("COPY t, line 3, column id: "x""), and nothing of
 * the COPY stays. COPY TO runs the table's SELECT (or the query given)
 * into a destination that sends each row as CopyData in text, CSV or
 * PostgreSQL's binary format (router/sql/copy_binary.h: the header
 * with the first tuple, one tuple per CopyData, the trailer alone). COPY
 * FROM takes the binary format too: its tuples are split by
 * copy_binary.h, their fields decoded with the wire layer's receive
 * functions (copy_binary_value()) and written by the same batching as
 * text rows.
 *
 * Files and programs on the router's host (COPY t FROM '/path') are
 * refused with 0A000: use COPY FROM STDIN (psql's \copy). */
#ifndef TL_COPY_H
#define TL_COPY_H

#include <pg_query/pg_query.pb-c.h>
#include <stdbool.h>

#include "arena.h"
#include "buf.h"
#include "router/sql/copy_format.h"
#include "router/sql/dest.h"
#include "router/sql/sql_int.h"

struct pgw_conn;

/** Refuse what COPY @cs asks that Talus does not do (files, programs,
 * WHERE, COPY FROM in the extended protocol when @extended): 0, or
 * 0A000 in st->err. */
int copy_check(struct sql_stmt *st, const PgQuery__CopyStmt *cs, bool extended);

/** Run COPY @cs ... FROM STDIN on connection @c: CopyInResponse, the
 * client's CopyData up to CopyDone, the rows written, CommandComplete
 * "COPY n". 0, or a negative code with st->err filled (the caller sends
 * it); *@gone is set when the client went away meanwhile. */
int copy_from_stdin(struct sql_stmt *st, struct pgw_conn *c,
                    const PgQuery__CopyStmt *cs, bool *gone);

/** Decode field bytes @p (@len bytes; borrowed, and borrowed by a text
 * *@out) of COPY's binary format as a value of @type for a column of
 * @typmod, as PostgreSQL 15's receive functions do inside
 * CopyReadBinaryAttribute(); a character(n) value padded to n lives in
 * @a. Errors in @err (may be NULL), PostgreSQL's:
 *  - TL_EPROTO, 08P01: "insufficient data left in message" (fewer bytes
 *    than a fixed-size type has; "no data left in message" for a bool);
 *  - TL_EINVAL, 22P03: "incorrect binary data format" (more bytes);
 *  - TL_ETYPE, 22021: "invalid byte sequence for encoding "UTF8": 0x.."
 *    for text that is not UTF-8 or holds NUL;
 *  - TL_EOVERFLOW, 22008: "date out of range", "timestamp out of range"
 *    for finite values beyond PostgreSQL's ranges;
 *  - TL_ETOOLONG, 22001: "value too long for type character varying(n)"
 *    (or character(n)). */
int copy_binary_value(uint8_t type, int32_t typmod, const char *p, size_t len,
                      struct tl_arena *a, struct tl_value *out,
                      struct tl_error *err);

/** The SELECT that COPY @cs (of a table) TO STDOUT reads, into *@sql
 * (malloc'd; caller frees): its columns checked as PostgreSQL checks them
 * (42703, 42701). 0, or a negative code with st->err filled. */
int copy_to_select(struct sql_stmt *st, const PgQuery__CopyStmt *cs,
                   char **sql);

/* A destination that sends a result as COPY TO STDOUT does. */
struct copy_out_dest {
    struct dest base;
    struct pgw_conn *c;
    const PgQuery__CopyStmt *cs; /* borrowed */
    const char *relname;         /* for messages, or NULL */
    struct copy_format_options opts;
    bool has_opts;
    bool started; /* CopyOutResponse sent */
    size_t n_cols;
    uint8_t *types; /* n_cols column types (binary format) */
    struct tl_buf line, text;
    struct tl_arena arena; /* casts of one binary tuple */
    uint64_t n;
};

/** Init @d for COPY @cs (borrowed) to @c; close with
 * copy_out_dest_close(). Cannot fail. */
void copy_out_dest_init(struct copy_out_dest *d, struct pgw_conn *c,
                        const PgQuery__CopyStmt *cs, const char *relname);
void copy_out_dest_close(struct copy_out_dest *d);

#endif
