/* Unit tests of COPY's binary format: the framing (router/sql/copy_binary.c)
 * and the decoding of field values (copy_binary_value() in
 * router/session/copy.c).
 *
 * The messages, line and column numbers were produced by PostgreSQL 15.18
 * itself: each input was sent with PQputCopyData to COPY t FROM STDIN
 * (FORMAT binary) and the error's message and CONTEXT line pasted here;
 * the value bytes are those PostgreSQL's COPY TO STDOUT (FORMAT binary)
 * sent for the values named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "router/session/copy.h"
#include "router/sql/copy_binary.h"
#include "router/wire/pgwire.h"

/* Signature, flags 0, extension length 0. */
#define SIG "5047434f50590aff0d0a00"
#define HDR                                                                    \
    SIG "00000000"                                                             \
        "00000000"

/* @hex (pairs of hex digits) as bytes into @out; their number. */
static size_t
unhex(const char *hex, uint8_t *out)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned x;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &x), 1);
        out[i] = (uint8_t)x;
    }
    return n;
}

/* What a reader made of an input: its rows as '"text"' or 'N' fields
 * separated by '|', each row ended by ';'; then the error if any. */
struct outcome {
    char rows[512];
    char message[TL_ERROR_MSG_MAX];
    uint64_t line;
    int column;
    size_t partial;
    bool done;
};

static void
take_rows(struct copy_binary_reader *r, size_t n_cols, struct outcome *o)
{
    const struct copy_format_field *f;
    struct tl_error err;
    int rv;
    tl_error_clear(&err);
    while ((rv = copy_binary_next_row(r, &f, &err)) == 1) {
        for (size_t i = 0; i < n_cols; i++) {
            size_t at = strlen(o->rows);
            if (f[i].is_null)
                snprintf(o->rows + at, sizeof(o->rows) - at, "%sN",
                         i ? "|" : "");
            else
                snprintf(o->rows + at, sizeof(o->rows) - at, "%s\"%.*s\"",
                         i ? "|" : "", (int)f[i].len, f[i].p);
        }
        strcat(o->rows, ";");
    }
    if (rv < 0 && o->message[0] == '\0') {
        assert_string_equal(err.sqlstate, "22P04");
        snprintf(o->message, sizeof(o->message), "%s", err.message);
        o->line = copy_binary_reader_line(r);
        o->column = copy_binary_reader_column(r);
        o->partial = copy_binary_reader_partial(r, &f);
        /* The failure sticks. */
        assert_int_equal(copy_binary_next_row(r, &f, NULL), rv);
    }
}

/* Run @hex through a reader of @n_cols fields, cut at @cut and then in
 * pieces of @piece bytes (0: whole). */
static void
run(const char *hex, size_t n_cols, size_t cut, size_t piece, struct outcome *o)
{
    uint8_t in[1024];
    size_t len = unhex(hex, in);
    struct copy_binary_reader *r;
    memset(o, 0, sizeof(*o));
    o->column = -1;
    copy_binary_reader_create(n_cols, &r);
    size_t at = 0;
    if (cut > 0 && cut <= len) {
        copy_binary_feed(r, in, cut);
        take_rows(r, n_cols, o);
        at = cut;
    }
    while (at < len) {
        size_t n = piece == 0 || len - at < piece ? len - at : piece;
        copy_binary_feed(r, in + at, n);
        take_rows(r, n_cols, o);
        at += n;
    }
    copy_binary_finish(r);
    take_rows(r, n_cols, o);
    o->done = copy_binary_reader_done(r);
    /* Input after the end changes nothing. */
    copy_binary_feed(r, in, len);
    take_rows(r, n_cols, o);
    copy_binary_reader_destroy(r);
}

struct reader_case {
    const char *hex;
    const char *rows;    /* rows before the error, or all of them */
    const char *message; /* NULL: no error */
    uint64_t line;       /* of the error (0: the header, no CONTEXT) */
    int column;          /* of the error, -1: none */
};

/* Two columns. As PostgreSQL 15 answered each (the CONTEXT line is "COPY
 * t, line <line>[, column <column's name>]"). */
static const struct reader_case reader_cases[] = {
    {"", "", "COPY file signature not recognized", 0, -1},
    {"5047434f5059", "", "COPY file signature not recognized", 0, -1},
    {"5047434f50590aff0d0a01", "", "COPY file signature not recognized", 0, -1},
    {"5147434f50590aff0d0a00"
     "0000000000000000",
     "", "COPY file signature not recognized", 0, -1},
    {SIG "00010000"
         "00000000",
     "", "invalid COPY file header (WITH OIDS)", 0, -1},
    {SIG "00020000"
         "00000000",
     "", "unrecognized critical flags in COPY file header", 0, -1},
    {SIG "80000000"
         "00000000",
     "", "unrecognized critical flags in COPY file header", 0, -1},
    {SIG "0000ffff"
         "00000000"
         "ffff",
     "", NULL, 0, -1}, /* not critical */
    {SIG "000000", "", "invalid COPY file header (missing flags)", 0, -1},
    {SIG "00000000", "", "invalid COPY file header (missing length)", 0, -1},
    {SIG "00000000"
         "000000",
     "", "invalid COPY file header (missing length)", 0, -1},
    {SIG "00000000"
         "ffffffff",
     "", "invalid COPY file header (missing length)", 0, -1},
    {SIG "00000000"
         "00000005"
         "aabb",
     "", "invalid COPY file header (wrong length)", 0, -1},
    {SIG "00000000"
         "00000002"
         "aabb"
         "ffff",
     "", NULL, 0, -1},
    {SIG "00000000"
         "00000003"
         "ffffff"
         "0002"
         "00000001"
         "61"
         "ffffffff"
         "ffff",
     "\"a\"|N;", NULL, 0, -1},
    /* The data may end without a trailer, even after one byte of a field
     * count. */
    {HDR, "", NULL, 0, -1},
    {HDR "00", "", NULL, 0, -1},
    {HDR "ffff", "", NULL, 0, -1},
    {HDR "0002"
         "00000001"
         "61"
         "00000000",
     "\"a\"|\"\";", NULL, 0, -1},
    {HDR "0002"
         "00000001"
         "61"
         "ffffffff"
         "0002"
         "ffffffff"
         "00000002"
         "6263"
         "ffff",
     "\"a\"|N;N|\"bc\";", NULL, 0, -1},
    {HDR "0001", "", "row field count is 1, expected 2", 1, -1},
    {HDR "0000", "", "row field count is 0, expected 2", 1, -1},
    {HDR "fffe", "", "row field count is -2, expected 2", 1, -1},
    {HDR "0002"
         "ffffffff"
         "ffffffff"
         "0003",
     "N|N;", "row field count is 3, expected 2", 2, -1},
    {HDR "0002"
         "000000",
     "", "unexpected EOF in COPY data", 1, 0},
    {HDR "0002"
         "00000004"
         "000000",
     "", "unexpected EOF in COPY data", 1, 0},
    {HDR "0002"
         "00000001"
         "61",
     "", "unexpected EOF in COPY data", 1, 1},
    {HDR "0002"
         "00000001"
         "61"
         "00000005"
         "6162",
     "", "unexpected EOF in COPY data", 1, 1},
    {HDR "0002"
         "fffffffe",
     "", "invalid field size", 1, 0},
    {HDR "0002"
         "ffffffff"
         "80000000",
     "", "invalid field size", 1, 1},
    {HDR "ffff"
         "00",
     "", "received copy data after EOF marker", 1, -1},
    {HDR "0002"
         "00000000"
         "ffffffff"
         "ffff"
         "0002",
     "\"\"|N;", "received copy data after EOF marker", 2, -1},
};

static void
check_outcome(const struct reader_case *c, const struct outcome *o, size_t cut,
              size_t piece)
{
    char where[96];
    snprintf(where, sizeof(where), "%s (cut %zu, pieces of %zu)", c->hex, cut,
             piece);
    if (strcmp(o->rows, c->rows) != 0)
        fail_msg("%s: rows %s, expected %s", where, o->rows, c->rows);
    if (c->message == NULL) {
        if (o->message[0] != '\0')
            fail_msg("%s: error %s", where, o->message);
        if (!o->done)
            fail_msg("%s: not done", where);
        return;
    }
    if (strcmp(o->message, c->message) != 0)
        fail_msg("%s: error \"%s\", expected \"%s\"", where, o->message,
                 c->message);
    if (o->line != c->line || o->column != c->column)
        fail_msg("%s: line %llu column %d, expected %llu, %d", where,
                 (unsigned long long)o->line, o->column,
                 (unsigned long long)c->line, c->column);
    if (o->done)
        fail_msg("%s: done after an error", where);
}

/* Each input, fed whole, gives PostgreSQL's rows or error, line and
 * column. */
static void
test_reader_as_postgres(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(reader_cases) / sizeof(reader_cases[0]);
         i++) {
        struct outcome o;
        run(reader_cases[i].hex, 2, 0, 0, &o);
        check_outcome(&reader_cases[i], &o, 0, 0);
    }
}

/* The same outcome whatever the CopyData messages cut: at every byte
 * into two pieces, and one byte per message. */
static void
test_reader_any_split(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(reader_cases) / sizeof(reader_cases[0]);
         i++) {
        const struct reader_case *c = &reader_cases[i];
        size_t len = strlen(c->hex) / 2;
        struct outcome o;
        for (size_t cut = 1; cut < len; cut++) {
            run(c->hex, 2, cut, 0, &o);
            check_outcome(c, &o, cut, 0);
        }
        run(c->hex, 2, 0, 1, &o);
        check_outcome(c, &o, 0, 1);
    }
}

/* An error inside a tuple leaves the fields before it readable, so that
 * their values can be checked first, as PostgreSQL decodes each field as
 * it reads it. */
static void
test_reader_partial(void **state)
{
    (void)state;
    struct outcome o;
    run(HDR "0003"
            "00000001"
            "78"
            "00000000"
            "0000",
        3, 0, 0, &o);
    assert_string_equal(o.message, "unexpected EOF in COPY data");
    assert_int_equal(o.column, 2);
    assert_int_equal(o.partial, 2);

    uint8_t in[64];
    size_t len = unhex(HDR "0003"
                           "00000001"
                           "78"
                           "ffffffff"
                           "fffffff0",
                       in);
    struct copy_binary_reader *r;
    const struct copy_format_field *f;
    copy_binary_reader_create(3, &r);
    copy_binary_feed(r, in, len);
    assert_int_equal(copy_binary_next_row(r, &f, NULL), TL_ECORRUPT);
    assert_int_equal(copy_binary_reader_partial(r, &f), 2);
    assert_int_equal(f[0].len, 1);
    assert_memory_equal(f[0].p, "x", 1);
    assert_true(f[1].is_null);
    copy_binary_reader_destroy(r);

    /* No fields for errors of the whole tuple. */
    run(HDR "0001", 3, 0, 0, &o);
    assert_int_equal(o.partial, 0);
}

/* A long header extension is skipped as it arrives, and many tuples
 * stream through a reader that is drained after every message. */
static void
test_reader_streaming(void **state)
{
    (void)state;
    uint8_t hdr[19], chunk[4096];
    unhex(SIG "00000000"
              "00100000",
          hdr); /* 1 MiB of extension */
    struct copy_binary_reader *r;
    const struct copy_format_field *f;
    copy_binary_reader_create(1, &r);
    copy_binary_feed(r, hdr, sizeof(hdr));
    memset(chunk, 0xab, sizeof(chunk));
    for (size_t i = 0; i < 256; i++) {
        copy_binary_feed(r, chunk, sizeof(chunk));
        assert_int_equal(copy_binary_next_row(r, &f, NULL), 0);
    }
    /* 10,000 tuples of one int4 field, cut into pieces of 7 bytes. */
    struct tl_buf b;
    tl_buf_init(&b);
    for (uint32_t i = 0; i < 10000; i++) {
        copy_binary_write_tuple_start(&b, 1);
        size_t at = copy_binary_write_field_start(&b);
        tl_buf_append_be32(&b, i);
        copy_binary_write_field_end(&b, at);
    }
    copy_binary_write_trailer(&b);
    uint32_t next = 0;
    for (size_t at = 0; at < b.len; at += 7) {
        copy_binary_feed(r, b.data + at, b.len - at < 7 ? b.len - at : 7);
        int rv;
        while ((rv = copy_binary_next_row(r, &f, NULL)) == 1) {
            assert_int_equal(f[0].len, 4);
            assert_int_equal(tl_load_be32((const uint8_t *)f[0].p), next);
            next++;
            assert_int_equal(copy_binary_reader_line(r), next);
        }
        assert_int_equal(rv, 0);
    }
    assert_int_equal(next, 10000);
    assert_false(copy_binary_reader_done(r));
    copy_binary_finish(r);
    assert_int_equal(copy_binary_next_row(r, &f, NULL), 0);
    assert_true(copy_binary_reader_done(r));
    tl_buf_close(&b);
    copy_binary_reader_destroy(r);
}

/* The writer gives PostgreSQL's header, tuple framing and trailer. */
static void
test_writer(void **state)
{
    (void)state;
    struct tl_buf b;
    uint8_t want[64];
    tl_buf_init(&b);
    copy_binary_write_header(&b);
    assert_int_equal(b.len, COPY_BINARY_HEADER_LEN);
    copy_binary_write_tuple_start(&b, 2);
    size_t at = copy_binary_write_field_start(&b);
    tl_buf_append(&b, "ab", 2);
    copy_binary_write_field_end(&b, at);
    copy_binary_write_null(&b);
    copy_binary_write_trailer(&b);
    size_t n = unhex(HDR "0002"
                         "00000002"
                         "6162"
                         "ffffffff"
                         "ffff",
                     want);
    assert_int_equal(b.len, n);
    assert_memory_equal(b.data, want, n);
    tl_buf_close(&b);
}

struct value_case {
    uint8_t type;
    int32_t typmod;
    const char *hex;  /* the field's bytes */
    const char *text; /* the value as text, or NULL */
    const char *sqlstate;
    const char *message;
};

/* Bytes as PostgreSQL 15 sent them for COPY TO (FORMAT binary) of
 * 1, 'héllo', -2::int2, 3::int8, true, 1.5::real, -2.25::float8,
 * '2024-02-29', '2024-02-29 12:34:56.789' (timestamp and timestamptz),
 * 'ab'::varchar(3), 'x'::char(3); and the errors PostgreSQL gave for
 * the bytes that follow. */
static const struct value_case value_cases[] = {
    {TL_TYPE_INT4, -1, "00000001", "1", NULL, NULL},
    {TL_TYPE_TEXT, -1, "68c3a96c6c6f", "h\xc3\xa9llo", NULL, NULL},
    {TL_TYPE_INT2, -1, "fffe", "-2", NULL, NULL},
    {TL_TYPE_INT8, -1, "0000000000000003", "3", NULL, NULL},
    {TL_TYPE_BOOL, -1, "01", "t", NULL, NULL},
    {TL_TYPE_BOOL, -1, "00", "f", NULL, NULL},
    {TL_TYPE_BOOL, -1, "07", "t", NULL, NULL}, /* boolrecv(): b != 0 */
    {TL_TYPE_FLOAT4, -1, "3fc00000", "1.5", NULL, NULL},
    {TL_TYPE_FLOAT8, -1, "c002000000000000", "-2.25", NULL, NULL},
    {TL_TYPE_DATE, -1, "00002279", "2024-02-29", NULL, NULL},
    {TL_TYPE_TIMESTAMP, 6, "0002b58341728608", "2024-02-29 12:34:56.789", NULL,
     NULL},
    {TL_TYPE_TIMESTAMPTZ, -1, "0002b58341728608", "2024-02-29 12:34:56.789+00",
     NULL, NULL},
    {TL_TYPE_VARCHAR, 3, "6162", "ab", NULL, NULL},
    {TL_TYPE_BPCHAR, 3, "782020", "x  ", NULL, NULL},
    {TL_TYPE_BPCHAR, 3, "78", "x  ", NULL, NULL}, /* bpchar_recv() pads */
    {TL_TYPE_VARCHAR, 3, "61626320", "abc", NULL, NULL}, /* spaces cut */
    {TL_TYPE_TEXT, -1, "", "", NULL, NULL},
    {TL_TYPE_DATE, -1, "7fffffff", "infinity", NULL, NULL},
    {TL_TYPE_TIMESTAMP, -1, "7fffff0000000000", "294276-12-27 10:35:43.148032",
     NULL, NULL},
    {TL_TYPE_INT4, -1, "0001", NULL, "08P01",
     "insufficient data left in message"},
    {TL_TYPE_INT4, -1, "", NULL, "08P01", "insufficient data left in message"},
    {TL_TYPE_FLOAT8, -1, "00", NULL, "08P01",
     "insufficient data left in message"},
    {TL_TYPE_BOOL, -1, "", NULL, "08P01", "no data left in message"},
    {TL_TYPE_INT4, -1, "0000000000000001", NULL, "22P03",
     "incorrect binary data format"},
    {TL_TYPE_BOOL, -1, "0101", NULL, "22P03", "incorrect binary data format"},
    {TL_TYPE_VARCHAR, 3, "61626364", NULL, "22001",
     "value too long for type character varying(3)"},
    {TL_TYPE_BPCHAR, 3, "61626364", NULL, "22001",
     "value too long for type character(3)"},
    {TL_TYPE_TEXT, -1, "6180", NULL, "22021",
     "invalid byte sequence for encoding \"UTF8\": 0x80"},
    {TL_TYPE_TEXT, -1, "6100", NULL, "22021",
     "invalid byte sequence for encoding \"UTF8\": 0x00"},
    {TL_TYPE_DATE, -1, "7fff0000", NULL, "22008", "date out of range"},
    {TL_TYPE_TIMESTAMP, -1, "7ffffffffffffffe", NULL, "22008",
     "timestamp out of range"},
    {TL_TYPE_TIMESTAMPTZ, -1, "8000000000000001", NULL, "22008",
     "timestamp out of range"},
};

/* Field bytes decode as PostgreSQL's receive functions read them, or fail
 * with their errors. */
static void
test_values_as_postgres(void **state)
{
    (void)state;
    struct tl_arena a;
    tl_arena_init(&a);
    for (size_t i = 0; i < sizeof(value_cases) / sizeof(value_cases[0]); i++) {
        const struct value_case *c = &value_cases[i];
        uint8_t in[64];
        size_t len = unhex(c->hex, in);
        struct tl_value v;
        struct tl_error err;
        tl_error_clear(&err);
        int rv = copy_binary_value(c->type, c->typmod, (const char *)in, len,
                                   &a, &v, &err);
        if (c->sqlstate != NULL) {
            if (rv == 0)
                fail_msg("%s as type %d: no error", c->hex, c->type);
            assert_string_equal(err.sqlstate, c->sqlstate);
            assert_string_equal(err.message, c->message);
            continue;
        }
        if (rv != 0)
            fail_msg("%s as type %d: %s", c->hex, c->type, err.message);
        assert_int_equal(v.type, c->type);
        struct tl_buf b;
        tl_buf_init(&b);
        tl_value_to_text(&v, &b);
        tl_buf_append_u8(&b, 0);
        assert_string_equal((const char *)b.data, c->text);
        /* And the send format gives the bytes back (padded for bpchar). */
        if (c->type != TL_TYPE_BPCHAR && c->type != TL_TYPE_VARCHAR &&
            c->type != TL_TYPE_BOOL) {
            tl_buf_reset(&b);
            pgw_value_to_binary(&v, &b);
            assert_int_equal(b.len, len);
            if (len > 0)
                assert_memory_equal(b.data, in, len);
        }
        tl_buf_close(&b);
    }
    tl_arena_close(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_as_postgres),
        cmocka_unit_test(test_reader_any_split),
        cmocka_unit_test(test_reader_partial),
        cmocka_unit_test(test_reader_streaming),
        cmocka_unit_test(test_writer),
        cmocka_unit_test(test_values_as_postgres),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
