/* copy_binary — PostgreSQL's binary COPY stream, split into tuples. */
#include "router/sql/copy_binary.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"

enum state {
    ST_SIGNATURE, /* waiting for the 11-byte signature */
    ST_FLAGS,     /* the int32 flags */
    ST_EXT_LEN,   /* the int32 extension length */
    ST_EXT,       /* skipping ext_left bytes of extension */
    ST_TUPLES,    /* a tuple or the trailer comes next */
    ST_TRAILER,   /* the trailer came: nothing more may */
    ST_DONE,
    ST_FAILED,
};

struct copy_binary_reader {
    size_t n_columns;
    struct copy_format_field *fields; /* n_columns */
    struct tl_buf in;                 /* unconsumed input from off */
    size_t off;
    enum state state;
    bool finished;     /* CopyDone came */
    uint32_t ext_left; /* ST_EXT: bytes of extension still to skip */
    uint64_t line;     /* tuples (and trailer) read */
    uint64_t err_line;
    int err_column;
    int rv;              /* of the failure, once ST_FAILED */
    struct tl_error err; /* the failure, repeated to later calls */
};

void
copy_binary_reader_create(size_t n_columns, struct copy_binary_reader **out)
{
    assert(n_columns <= INT16_MAX);
    struct copy_binary_reader *r = calloc(1, sizeof(*r));
    if (r == NULL)
        abort();
    r->n_columns = n_columns;
    r->fields = calloc(n_columns + 1, sizeof(*r->fields));
    if (r->fields == NULL)
        abort();
    tl_buf_init(&r->in);
    r->err_column = -1;
    *out = r;
}

void
copy_binary_reader_destroy(struct copy_binary_reader *r)
{
    if (r == NULL)
        return;
    tl_buf_close(&r->in);
    free(r->fields);
    free(r);
}

void
copy_binary_feed(struct copy_binary_reader *r, const void *p, size_t len)
{
    if (r->finished || r->state == ST_FAILED || r->state == ST_DONE || len == 0)
        return;
    /* Drop what was consumed, so the buffer holds one partial tuple plus
     * this payload. Fields handed out before are no longer valid. */
    if (r->off > 0) {
        size_t left = r->in.len - r->off;
        if (left > 0)
            memmove(r->in.data, r->in.data + r->off, left);
        r->in.len = left;
        r->off = 0;
    }
    tl_buf_append(&r->in, p, len);
}

void
copy_binary_finish(struct copy_binary_reader *r)
{
    r->finished = true;
}

bool
copy_binary_reader_done(const struct copy_binary_reader *r)
{
    return r->state == ST_DONE;
}

uint64_t
copy_binary_reader_line(const struct copy_binary_reader *r)
{
    return r->state == ST_FAILED ? r->err_line : r->line;
}

int
copy_binary_reader_column(const struct copy_binary_reader *r)
{
    return r->state == ST_FAILED ? r->err_column : -1;
}

size_t
copy_binary_reader_partial(const struct copy_binary_reader *r,
                           const struct copy_format_field **fields)
{
    *fields = r->fields;
    if (r->state != ST_FAILED || r->err_column < 0)
        return 0;
    return (size_t)r->err_column;
}

/* Fail @r with @msg (22P04) at @line, field @column (-1: none). */
static int
fail(struct copy_binary_reader *r, struct tl_error *err, uint64_t line,
     int column, const char *msg)
{
    r->state = ST_FAILED;
    r->err_line = line;
    r->err_column = column;
    tl_error_clear(&r->err);
    r->rv = tl_error_set(&r->err, TL_ECORRUPT, TL_SQLSTATE_BAD_COPY_FILE_FORMAT,
                         "%s", msg);
    if (err != NULL)
        *err = r->err;
    return r->rv;
}

static size_t
avail(const struct copy_binary_reader *r)
{
    return r->in.len - r->off;
}

static const uint8_t *
at(const struct copy_binary_reader *r)
{
    return r->in.data + r->off;
}

/* One step through the header. 1 when it moved on, 0 when it needs more
 * input, or a negative code. */
static int
read_header(struct copy_binary_reader *r, struct tl_error *err)
{
    switch (r->state) {
    case ST_SIGNATURE:
        if (avail(r) < COPY_BINARY_SIGNATURE_LEN) {
            if (r->finished)
                return fail(r, err, 0, -1,
                            "COPY file signature not recognized");
            return 0;
        }
        if (memcmp(at(r), COPY_BINARY_SIGNATURE, COPY_BINARY_SIGNATURE_LEN) !=
            0)
            return fail(r, err, 0, -1, "COPY file signature not recognized");
        r->off += COPY_BINARY_SIGNATURE_LEN;
        r->state = ST_FLAGS;
        return 1;
    case ST_FLAGS: {
        if (avail(r) < 4) {
            if (r->finished)
                return fail(r, err, 0, -1,
                            "invalid COPY file header (missing flags)");
            return 0;
        }
        uint32_t flags = tl_load_be32(at(r));
        if ((flags & (1u << 16)) != 0)
            return fail(r, err, 0, -1, "invalid COPY file header (WITH OIDS)");
        if ((flags >> 17) != 0)
            return fail(r, err, 0, -1,
                        "unrecognized critical flags in COPY file header");
        r->off += 4;
        r->state = ST_EXT_LEN;
        return 1;
    }
    case ST_EXT_LEN: {
        if (avail(r) < 4) {
            if (r->finished)
                return fail(r, err, 0, -1,
                            "invalid COPY file header (missing length)");
            return 0;
        }
        int32_t len = (int32_t)tl_load_be32(at(r));
        if (len < 0)
            return fail(r, err, 0, -1,
                        "invalid COPY file header (missing length)");
        r->off += 4;
        r->ext_left = (uint32_t)len;
        r->state = ST_EXT;
        return 1;
    }
    case ST_EXT: {
        size_t n = avail(r) < r->ext_left ? avail(r) : r->ext_left;
        r->off += n;
        r->ext_left -= (uint32_t)n;
        if (r->ext_left == 0) {
            r->state = ST_TUPLES;
            return 1;
        }
        if (r->finished)
            return fail(r, err, 0, -1,
                        "invalid COPY file header (wrong length)");
        return 0;
    }
    default:
        assert(0);
        return 0;
    }
}

/* Read the tuple at the cursor: 1 with r->fields set and the cursor past
 * it, 0 when it is not complete yet (nothing consumed), or an error. */
static int
read_tuple(struct copy_binary_reader *r, struct tl_error *err)
{
    const uint8_t *p = at(r);
    size_t n = avail(r), pos = 2;
    uint64_t line = r->line + 1;
    int16_t count = (int16_t)tl_load_be16(p);
    if (count == -1) {
        r->line = line;
        r->off += 2;
        r->state = ST_TRAILER;
        return 0;
    }
    if (count < 0 || (size_t)count != r->n_columns) {
        char msg[64];
        snprintf(msg, sizeof(msg), "row field count is %d, expected %zu",
                 (int)count, r->n_columns);
        return fail(r, err, line, -1, msg);
    }
    for (size_t i = 0; i < r->n_columns; i++) {
        if (n - pos < 4) {
            if (r->finished)
                return fail(r, err, line, (int)i,
                            "unexpected EOF in COPY data");
            return 0;
        }
        int32_t len = (int32_t)tl_load_be32(p + pos);
        pos += 4;
        if (len == -1) {
            r->fields[i] = (struct copy_format_field){.is_null = true};
            continue;
        }
        if (len < 0)
            return fail(r, err, line, (int)i, "invalid field size");
        if (n - pos < (size_t)len) {
            if (r->finished)
                return fail(r, err, line, (int)i,
                            "unexpected EOF in COPY data");
            return 0;
        }
        r->fields[i] = (struct copy_format_field){.p = (const char *)p + pos,
                                                  .len = (size_t)len};
        pos += (size_t)len;
    }
    r->line = line;
    r->off += pos;
    return 1;
}

int
copy_binary_next_row(struct copy_binary_reader *r,
                     const struct copy_format_field **fields,
                     struct tl_error *err)
{
    int rv;
    if (r->state == ST_FAILED) {
        if (err != NULL)
            *err = r->err;
        return r->rv;
    }
    while (r->state < ST_TUPLES)
        if ((rv = read_header(r, err)) <= 0)
            return rv;
    if (r->state == ST_TUPLES) {
        if (avail(r) < 2) {
            /* As PostgreSQL's CopyGetInt16(): input that ends here, even
             * after one byte of a field count, ends the data. */
            if (r->finished)
                r->state = ST_DONE;
            return 0;
        }
        rv = read_tuple(r, err);
        if (rv == 1)
            *fields = r->fields;
        if (rv != 0 || r->state != ST_TRAILER)
            return rv;
    }
    if (r->state == ST_TRAILER) {
        /* PostgreSQL reads one more byte after the trailer: there must be
         * none, only the end of the input. */
        if (avail(r) > 0)
            return fail(r, err, r->line, -1,
                        "received copy data after EOF marker");
        if (r->finished)
            r->state = ST_DONE;
    }
    return 0;
}

/* ---------------------------------------------------------------- writer
 */

void
copy_binary_write_header(struct tl_buf *out)
{
    tl_buf_append(out, COPY_BINARY_SIGNATURE, COPY_BINARY_SIGNATURE_LEN);
    tl_buf_append_be32(out, 0); /* flags */
    tl_buf_append_be32(out, 0); /* header extension length */
}

void
copy_binary_write_tuple_start(struct tl_buf *out, size_t n)
{
    assert(n <= INT16_MAX);
    tl_buf_append_be16(out, (uint16_t)n);
}

void
copy_binary_write_null(struct tl_buf *out)
{
    tl_buf_append_be32(out, UINT32_MAX); /* -1 */
}

size_t
copy_binary_write_field_start(struct tl_buf *out)
{
    size_t at = out->len;
    tl_buf_append_be32(out, 0);
    return at;
}

void
copy_binary_write_field_end(struct tl_buf *out, size_t at)
{
    uint32_t len = (uint32_t)(out->len - at - 4);
    uint8_t *p = out->data + at;
    p[0] = (uint8_t)(len >> 24);
    p[1] = (uint8_t)(len >> 16);
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
}

void
copy_binary_write_trailer(struct tl_buf *out)
{
    tl_buf_append_be16(out, UINT16_MAX); /* -1 */
}
