/* dest — where a statement's results go: PostgreSQL's DestReceiver
 * (tcop/dest.h).
 *
 * A statement never writes to the client itself. Executors report to the
 * destination of their statement (struct sql_stmt's dest): the result's
 * columns once (dest_startup), then each row (dest_row), then the command
 * tag (dest_complete); notices and parameter changes may come at any time.
 * The session layer implements destinations: DataRow messages to the
 * client (text or binary per column), rows kept by a portal for Execute
 * with a row limit, the columns only for Describe, or nothing at all.
 *
 * A destination may ask for no more rows (the client is gone, a limit was
 * reached) by setting its `stop` field; executors check it between rows
 * and stop gathering. Rows handed to dest_row() are borrowed for the
 * call only. A callback that fails fills the destination's err, which
 * the statement then reports. */
#ifndef TL_DEST_H
#define TL_DEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tl_error.h"
#include "value.h"

/* One column of a result. */
struct dest_column {
    const char *name;
    uint8_t type;   /* enum tl_type */
    int32_t typmod; /* n of varchar(n)/character(n), precision of a
                     * timestamp, else -1 */
};

struct dest {
    /** The result's @n columns (borrowed for the call), once, before any
     * row. 0, or a negative TL_E* code that fails the statement. */
    int (*startup_cb)(struct dest *d, const struct dest_column *cols, size_t n);
    /** One row of @n values (borrowed for the call). 0, or a negative
     * TL_E* code that fails the statement. */
    int (*row_cb)(struct dest *d, const struct tl_value *v, size_t n);
    /** The statement ended with command tag @tag ("SELECT 5"). */
    void (*complete_cb)(struct dest *d, const char *tag);
    /** A notice (or a warning, with @warning) raised by the statement. */
    void (*notice_cb)(struct dest *d, const struct tl_error *e, bool warning);
    /** Run-time parameter @name now has @value (reported parameters). */
    void (*param_status_cb)(struct dest *d, const char *name,
                            const char *value);
    /* Set by the destination: it wants no more rows. */
    bool stop;
    /* What a callback that returned a negative code reports. */
    struct tl_error err;
    /* Rows the destination accepted (dest_row calls that returned 0). */
    uint64_t n_rows;
};

static inline int
dest_startup(struct dest *d, const struct dest_column *cols, size_t n)
{
    return d->startup_cb != NULL ? d->startup_cb(d, cols, n) : 0;
}

static inline int
dest_row(struct dest *d, const struct tl_value *v, size_t n)
{
    int rv = d->row_cb != NULL ? d->row_cb(d, v, n) : 0;
    if (rv == 0)
        d->n_rows++;
    return rv;
}

static inline void
dest_complete(struct dest *d, const char *tag)
{
    if (d->complete_cb != NULL)
        d->complete_cb(d, tag);
}

static inline void
dest_notice(struct dest *d, const struct tl_error *e, bool warning)
{
    if (d->notice_cb != NULL)
        d->notice_cb(d, e, warning);
}

static inline void
dest_param_status(struct dest *d, const char *name, const char *value)
{
    if (d->param_status_cb != NULL)
        d->param_status_cb(d, name, value);
}

#endif
