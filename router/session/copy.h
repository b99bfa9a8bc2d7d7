/* copy — COPY FROM STDIN and COPY TO STDOUT in the simple query protocol.
 *
 * COPY FROM reads CopyData messages from the client, splits them into rows
 * with router/sql/copy_format.h and hands the rows to the write side
 * (router/exec/copy_in.h), which writes them in batches and takes them all
 * back if one fails: a bad row fails the statement with PostgreSQL's
 * message and CONTEXT ("COPY t, line 3, column id: "x""), and nothing of
 * the COPY stays. COPY TO runs the table's SELECT (or the query given)
 * into a destination that sends each row as CopyData in text or CSV.
 *
 * Files and programs on the router's host (COPY t FROM '/path') are
 * refused with 0A000: use COPY FROM STDIN (psql's \copy). */
#ifndef TL_COPY_H
#define TL_COPY_H

#include <pg_query/pg_query.pb-c.h>
#include <stdbool.h>

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
    struct tl_buf line, text;
    uint64_t n;
};

/** Init @d for COPY @cs (borrowed) to @c; close with
 * copy_out_dest_close(). Cannot fail. */
void copy_out_dest_init(struct copy_out_dest *d, struct pgw_conn *c,
                        const PgQuery__CopyStmt *cs, const char *relname);
void copy_out_dest_close(struct copy_out_dest *d);

#endif
