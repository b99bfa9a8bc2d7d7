/* client_dest — the destinations of the session layer (router/sql/dest.h):
 *
 * - struct client_dest sends a statement's result to the client:
 *   RowDescription (for a Query message; Execute sends none, Describe
 *   did), DataRow in the formats a Bind asked for, CommandComplete,
 *   notices and ParameterStatus. The RowDescription is held back until
 *   the first row or the command tag, so a statement that fails before
 *   either (or is run again after a stale catalog) has sent nothing but
 *   notices. With client_dest_keep() the DataRow messages are appended to
 *   a buffer instead (a portal's rows for Execute with a row limit) and
 *   the tag is only recorded.
 * - struct describe_dest keeps the columns of a statement described
 *   (Describe) and asks for no rows.
 *
 * Both live on the stack of one statement run; names of columns handed
 * over are copied. */
#ifndef TL_CLIENT_DEST_H
#define TL_CLIENT_DEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "router/session/rowstore.h"
#include "router/sql/dest.h"

struct pgw_conn;

struct client_dest {
    struct dest base;
    struct pgw_conn *c;
    bool send_description;  /* a Query message: RowDescription first */
    const int16_t *formats; /* as Bind gave them (borrowed), n_formats */
    size_t n_formats;
    int16_t *col_formats; /* per column, after startup (malloc'd) */
    size_t n_cols;
    struct tl_buf desc;    /* RowDescription not sent yet */
    struct rowstore *keep; /* client_dest_keep(): rows go here */
    char tag[64];          /* the command tag, once complete */
    bool hold_complete;    /* record the tag, send it later (the caller) */
    const struct dest_column *expect; /* client_dest_expect() */
    size_t n_expect;
};

/** A destination sending to @c (borrowed): with @send_description a
 * RowDescription precedes the rows; result column i is sent in format
 * @formats[i] (@n_formats 0: all text; 1: all alike; else one per column,
 * else 08P01 at startup). Cannot fail; close with client_dest_close(). */
void client_dest_init(struct client_dest *d, struct pgw_conn *c,
                      bool send_description, const int16_t *formats,
                      size_t n_formats);

/** Append DataRow messages to @rows (borrowed) instead of sending them
 * (spilled to a temporary file past its memory). */
void client_dest_keep(struct client_dest *d, struct rowstore *rows);

/** The client was told the result has the @n columns @cols (borrowed;
 * Describe): a result of other types fails with 0A000 "cached plan must
 * not change result type", as in PostgreSQL. */
void client_dest_expect(struct client_dest *d, const struct dest_column *cols,
                        size_t n);

/** Release what @d holds. Cannot fail. */
void client_dest_close(struct client_dest *d);

struct describe_dest {
    struct dest base;
    bool has_cols;
    struct dest_column *cols; /* n_cols; names malloc'd */
    size_t n_cols;
};

/** A destination that records the result's columns and stops the
 * statement there. Cannot fail; close with describe_dest_close(). */
void describe_dest_init(struct describe_dest *d);
void describe_dest_close(struct describe_dest *d);

#endif
