/* client_dest — destinations that answer the client (or describe). */
#include "router/session/client_dest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "router/wire/pgwire.h"

/* Send the RowDescription held back, if any. */
static void
flush_description(struct client_dest *d)
{
    if (d->desc.len == 0)
        return;
    pgw_send_raw(d->c, d->desc.data, d->desc.len);
    tl_buf_reset(&d->desc);
}

static int
client_startup(struct dest *base, const struct dest_column *cols, size_t n)
{
    struct client_dest *d = (struct client_dest *)base;
    bool same = d->n_expect == n;
    for (size_t i = 0; same && d->expect != NULL && i < n; i++)
        same = d->expect[i].type == cols[i].type &&
               d->expect[i].typmod == cols[i].typmod;
    if (d->expect != NULL && !same)
        return tl_error_set(&base->err, TL_EUNSUPPORTED,
                            TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                            "cached plan must not change result type");
    if (d->n_formats > 1 && d->n_formats != n)
        return tl_error_set(&base->err, TL_EPROTO,
                            TL_SQLSTATE_PROTOCOL_VIOLATION,
                            "bind message has %zu result formats but query "
                            "has %zu columns",
                            d->n_formats, n);
    free(d->col_formats);
    d->col_formats = calloc(n + 1, sizeof(*d->col_formats));
    if (d->col_formats == NULL)
        abort();
    d->n_cols = n;
    for (size_t i = 0; i < n; i++)
        d->col_formats[i] =
            d->n_formats == 0 ? 0 : d->formats[d->n_formats == 1 ? 0 : i];
    tl_buf_reset(&d->desc);
    if (!d->send_description)
        return 0;
    struct pgw_field *f = calloc(n + 1, sizeof(*f));
    if (f == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        f[i].name = cols[i].name;
        f[i].type = cols[i].type;
        f[i].typmod = cols[i].typmod;
        f[i].format = d->col_formats[i];
    }
    pgw_encode_row_description(&d->desc, f, n);
    free(f);
    return 0;
}

static int
client_row(struct dest *base, const struct tl_value *v, size_t n)
{
    struct client_dest *d = (struct client_dest *)base;
    const int16_t *formats = n == d->n_cols ? d->col_formats : NULL;
    if (d->keep != NULL) {
        pgw_encode_data_row(&d->keep->mem, v, n, formats);
        return rowstore_appended(d->keep, &base->err);
    }
    flush_description(d);
    pgw_send_data_row_fmt(d->c, v, n, formats);
    if (d->c->broken)
        base->stop = true; /* the client is gone: read no more */
    return 0;
}

static void
client_complete(struct dest *base, const char *tag)
{
    struct client_dest *d = (struct client_dest *)base;
    snprintf(d->tag, sizeof(d->tag), "%s", tag);
    if (d->keep != NULL || d->hold_complete) {
        flush_description(d);
        return;
    }
    flush_description(d);
    pgw_send_command_complete(d->c, tag);
}

static void
client_notice(struct dest *base, const struct tl_error *e, bool warning)
{
    struct client_dest *d = (struct client_dest *)base;
    pgw_send_notice(d->c, e, warning);
}

static void
client_param_status(struct dest *base, const char *name, const char *value)
{
    struct client_dest *d = (struct client_dest *)base;
    pgw_send_parameter_status(d->c, name, value);
}

void
client_dest_init(struct client_dest *d, struct pgw_conn *c,
                 bool send_description, const int16_t *formats,
                 size_t n_formats)
{
    memset(d, 0, sizeof(*d));
    d->base.startup_cb = client_startup;
    d->base.row_cb = client_row;
    d->base.complete_cb = client_complete;
    d->base.notice_cb = client_notice;
    d->base.param_status_cb = client_param_status;
    d->c = c;
    d->send_description = send_description;
    d->formats = formats;
    d->n_formats = n_formats;
    tl_buf_init(&d->desc);
}

void
client_dest_keep(struct client_dest *d, struct rowstore *rows)
{
    d->keep = rows;
}

void
client_dest_expect(struct client_dest *d, const struct dest_column *cols,
                   size_t n)
{
    d->expect = cols;
    d->n_expect = n;
}

void
client_dest_close(struct client_dest *d)
{
    free(d->col_formats);
    d->col_formats = NULL;
    tl_buf_close(&d->desc);
}

/* ------------------------------------------------------------- describe */

static void
free_cols(struct describe_dest *d)
{
    for (size_t i = 0; i < d->n_cols; i++)
        free((char *)d->cols[i].name);
    free(d->cols);
    d->cols = NULL;
    d->n_cols = 0;
}

static int
describe_startup(struct dest *base, const struct dest_column *cols, size_t n)
{
    struct describe_dest *d = (struct describe_dest *)base;
    free_cols(d);
    d->cols = calloc(n + 1, sizeof(*d->cols));
    if (d->cols == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        d->cols[i] = cols[i];
        d->cols[i].name = strdup(cols[i].name);
        if (d->cols[i].name == NULL)
            abort();
    }
    d->n_cols = n;
    d->has_cols = true;
    base->stop = true;
    return 0;
}

void
describe_dest_init(struct describe_dest *d)
{
    memset(d, 0, sizeof(*d));
    d->base.startup_cb = describe_startup;
}

void
describe_dest_close(struct describe_dest *d)
{
    free_cols(d);
}
