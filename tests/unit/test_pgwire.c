/* Unit tests of router/pgwire: startup parsing, message framing,
 * byte-exact encoding of backend messages, and socket reads over a
 * socketpair. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/base/sqlstate.h"
#include "router/wire/pgwire.h"

/* ---- helpers ---------------------------------------------------------- */

/* Build a startup packet: length word, @code, then @n_kv NUL-terminated
 * strings (keys and values alternating) and the final NUL. */
static size_t
build_startup(uint8_t *out, uint32_t code, const char *const *kv, int n_kv)
{
    struct tl_buf b;
    size_t len;

    tl_buf_init(&b);
    tl_buf_append_be32(&b, 0);
    tl_buf_append_be32(&b, code);
    for (int i = 0; i < n_kv; i++)
        tl_buf_append_cstr(&b, kv[i]);
    tl_buf_append_u8(&b, 0);
    len = b.len;
    b.data[0] = (uint8_t)(len >> 24);
    b.data[1] = (uint8_t)(len >> 16);
    b.data[2] = (uint8_t)(len >> 8);
    b.data[3] = (uint8_t)len;
    memcpy(out, b.data, len);
    tl_buf_close(&b);
    return len;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A connection whose output is inspected, never written (fd -1). */
static void
init_mem_conn(struct pgw_conn *c)
{
    pgw_conn_init(c, -1);
}

/* Compare c->out with the string literal @want (its final NUL excluded). */
#define assert_out(c, want) assert_out_n((c), (want), sizeof(want) - 1)

static void
assert_out_n(const struct pgw_conn *c, const void *want, size_t n)
{
    assert_int_equal(c->out.len, n);
    assert_memory_equal(c->out.data, want, n);
}

/* ---- startup parsing -------------------------------------------------- */

/* A 3.0 StartupMessage yields user, database and application_name, and
 * ignores other parameters. */
static void
test_startup_normal(void **state)
{
    static const char *const kv[] = {"user",
                                     "alice",
                                     "database",
                                     "shop",
                                     "options",
                                     "-c geqo=off",
                                     "application_name",
                                     "psql",
                                     "client_encoding",
                                     "UTF8"};
    uint8_t pkt[512];
    size_t len = build_startup(pkt, PGW_PROTOCOL_3_0, kv, 10);
    struct pgw_startup st;
    struct tl_error err;

    tl_error_clear(&err);
    assert_int_equal(pgw_parse_startup(pkt, len, &st, &err), 0);
    assert_int_equal(st.code, PGW_PROTOCOL_3_0);
    assert_string_equal(st.user, "alice");
    assert_string_equal(st.database, "shop");
    assert_string_equal(st.application_name, "psql");
    assert_false(tl_error_is_set(&err));
}

/* Without a database parameter the database is the user name. */
static void
test_startup_database_defaults_to_user(void **state)
{
    static const char *const kv[] = {"user", "bob"};
    uint8_t pkt[128];
    size_t len = build_startup(pkt, PGW_PROTOCOL_3_0, kv, 2);
    struct pgw_startup st;

    assert_int_equal(pgw_parse_startup(pkt, len, &st, NULL), 0);
    assert_string_equal(st.database, "bob");
    assert_string_equal(st.application_name, "");
}

/* A user name longer than 63 bytes is truncated, as PostgreSQL truncates
 * names. */
static void
test_startup_long_user_truncated(void **state)
{
    char user[100];
    const char *kv[] = {"user", user};
    uint8_t pkt[256];
    size_t len;
    struct pgw_startup st;

    memset(user, 'u', sizeof(user) - 1);
    user[sizeof(user) - 1] = '\0';
    len = build_startup(pkt, PGW_PROTOCOL_3_0, kv, 2);
    assert_int_equal(pgw_parse_startup(pkt, len, &st, NULL), 0);
    assert_int_equal(strlen(st.user), 63);
}

/* A startup packet without user is refused with SQLSTATE 28000. */
static void
test_startup_missing_user(void **state)
{
    static const char *const kv[] = {"database", "shop"};
    uint8_t pkt[128];
    size_t len = build_startup(pkt, PGW_PROTOCOL_3_0, kv, 2);
    struct pgw_startup st;
    struct tl_error err;

    assert_int_equal(pgw_parse_startup(pkt, len, &st, &err), TL_EINVAL);
    assert_string_equal(err.sqlstate, "28000");
    assert_string_equal(err.message,
                        "no PostgreSQL user name specified in startup packet");
}

/* A packet shorter than its length word says is a protocol violation. */
static void
test_startup_truncated(void **state)
{
    static const char *const kv[] = {"user", "alice"};
    uint8_t pkt[128];
    size_t len = build_startup(pkt, PGW_PROTOCOL_3_0, kv, 2);
    struct pgw_startup st;
    struct tl_error err;

    assert_int_equal(pgw_parse_startup(pkt, len - 3, &st, &err), TL_EPROTO);
    assert_string_equal(err.sqlstate, "08P01");
    assert_int_equal(pgw_parse_startup(pkt, 5, &st, &err), TL_EPROTO);
}

/* A parameter list whose last byte is not NUL, or a key without a value,
 * is a protocol violation. */
static void
test_startup_no_terminator(void **state)
{
    uint8_t pkt[64];
    struct pgw_startup st;
    struct tl_error err;

    /* "user\0alice" and no terminator */
    put_be32(pkt, 4 + 4 + 10);
    put_be32(pkt + 4, PGW_PROTOCOL_3_0);
    memcpy(pkt + 8, "user\0alice", 10);
    assert_int_equal(pgw_parse_startup(pkt, 18, &st, &err), TL_EPROTO);
    assert_string_equal(err.sqlstate, "08P01");

    /* "user\0" then the terminator: a key with no value */
    put_be32(pkt, 4 + 4 + 6);
    memcpy(pkt + 8, "user\0\0", 6);
    assert_int_equal(pgw_parse_startup(pkt, 14, &st, &err), TL_EPROTO);

    /* no parameters at all, not even the terminator */
    put_be32(pkt, 8);
    assert_int_equal(pgw_parse_startup(pkt, 8, &st, &err), TL_EPROTO);
}

/* Startup length words below 8 or above 10,000 bytes are refused. */
static void
test_startup_oversized(void **state)
{
    static uint8_t pkt[PGW_MAX_STARTUP + 16];
    struct pgw_startup st;
    struct tl_error err;

    assert_int_equal(pgw_check_startup_length(8, NULL), 0);
    assert_int_equal(pgw_check_startup_length(PGW_MAX_STARTUP, NULL), 0);
    assert_int_equal(pgw_check_startup_length(7, &err), TL_EPROTO);
    assert_int_equal(pgw_check_startup_length(PGW_MAX_STARTUP + 1, &err),
                     TL_EPROTO);
    assert_string_equal(err.sqlstate, "08P01");

    memset(pkt, 'a', sizeof(pkt));
    put_be32(pkt, PGW_MAX_STARTUP + 1);
    put_be32(pkt + 4, PGW_PROTOCOL_3_0);
    pkt[PGW_MAX_STARTUP] = 0;
    assert_int_equal(pgw_parse_startup(pkt, PGW_MAX_STARTUP + 1, &st, &err),
                     TL_EPROTO);
}

/* SSLRequest, GSSENCRequest and CancelRequest are recognised by their
 * codes, and a CancelRequest carries the backend pid and secret. */
static void
test_startup_special_codes(void **state)
{
    uint8_t pkt[16];
    struct pgw_startup st;

    put_be32(pkt, 8);
    put_be32(pkt + 4, PGW_SSL_REQUEST_CODE);
    assert_int_equal(pgw_parse_startup(pkt, 8, &st, NULL), 0);
    assert_int_equal(st.code, 80877103);

    put_be32(pkt + 4, PGW_GSSENC_REQUEST_CODE);
    assert_int_equal(pgw_parse_startup(pkt, 8, &st, NULL), 0);
    assert_int_equal(st.code, 80877104);

    put_be32(pkt, 16);
    put_be32(pkt + 4, PGW_CANCEL_REQUEST_CODE);
    put_be32(pkt + 8, 4242);
    put_be32(pkt + 12, 0xdeadbeef);
    assert_int_equal(pgw_parse_startup(pkt, 16, &st, NULL), 0);
    assert_int_equal(st.code, 80877102);
    assert_int_equal(st.cancel_pid, 4242);
    assert_int_equal(st.cancel_secret, 0xdeadbeef);

    /* a CancelRequest of the wrong size */
    put_be32(pkt, 12);
    assert_int_equal(pgw_parse_startup(pkt, 12, &st, NULL), TL_EPROTO);
}

/* Protocol 2.0 is refused with 0A000; a 3.x minor version is accepted
 * (the session then negotiates down to 3.0). */
static void
test_startup_protocol_versions(void **state)
{
    static const char *const kv[] = {"user", "alice"};
    uint8_t pkt[128];
    size_t len;
    struct pgw_startup st;
    struct tl_error err;

    len = build_startup(pkt, 2u << 16, kv, 2);
    assert_int_equal(pgw_parse_startup(pkt, len, &st, &err), TL_EUNSUPPORTED);
    assert_string_equal(err.sqlstate, "0A000");
    assert_non_null(strstr(err.message, "unsupported frontend protocol"));

    len = build_startup(pkt, (3u << 16) | 2, kv, 2);
    assert_int_equal(pgw_parse_startup(pkt, len, &st, &err), 0);
    assert_int_equal(st.code & 0xffff, 2);
}

/* ---- framing ---------------------------------------------------------- */

/* A header's length must be between 4 and PGW_MAX_MESSAGE (inclusive);
 * the payload length excludes the length word. */
static void
test_header_lengths(void **state)
{
    uint8_t hdr[5] = {'Q'};
    char type = 0;
    uint32_t n = 99;

    put_be32(hdr + 1, 4);
    assert_int_equal(pgw_parse_header(hdr, &type, &n), 0);
    assert_int_equal(type, 'Q');
    assert_int_equal(n, 0);

    put_be32(hdr + 1, PGW_MAX_MESSAGE);
    assert_int_equal(pgw_parse_header(hdr, &type, &n), 0);
    assert_int_equal(n, PGW_MAX_MESSAGE - 4);

    n = 99;
    type = 0;
    put_be32(hdr + 1, 3);
    assert_int_equal(pgw_parse_header(hdr, &type, &n), TL_EPROTO);
    put_be32(hdr + 1, 0);
    assert_int_equal(pgw_parse_header(hdr, &type, &n), TL_EPROTO);
    put_be32(hdr + 1, PGW_MAX_MESSAGE + 1);
    assert_int_equal(pgw_parse_header(hdr, &type, &n), TL_EPROTO);
    put_be32(hdr + 1, UINT32_MAX);
    assert_int_equal(pgw_parse_header(hdr, &type, &n), TL_EPROTO);
    assert_int_equal(n, 99); /* untouched on error */
    assert_int_equal(type, 0);
}

/* ---- encoding --------------------------------------------------------- */

/* RowDescription carries name, table oid 0, attnum 0, type oid, typlen,
 * typmod (n + 4 for varchar(n)) and text format for each column. */
static void
test_encode_row_description(void **state)
{
    /* String literals keep the layout readable: one piece per field. */
    static const char want[] = "T\0\0\0\x32"
                               "\0\x02"
                               "id\0"
                               "\0\0\0\0"
                               "\0\0"
                               "\0\0\0\x14" /* oid 20 (int8) */
                               "\0\x08"
                               "\xff\xff\xff\xff"
                               "\0\0"
                               "name\0"
                               "\0\0\0\0"
                               "\0\0"
                               "\0\0\x04\x13" /* oid 1043 (varchar) */
                               "\xff\xff"
                               "\0\0\0\x0e"
                               "\0\0";
    struct pgw_field f[] = {
        {.name = "id", .type = TL_TYPE_INT8, .typmod = -1},
        {.name = "name", .type = TL_TYPE_VARCHAR, .typmod = 10},
    };
    struct pgw_conn c;

    init_mem_conn(&c);
    pgw_send_row_description(&c, f, 2);
    assert_out(&c, want);
    pgw_conn_close(&c);
}

/* DataRow sends each value as text with its length, and a NULL as length
 * -1 with no bytes. */
static void
test_encode_data_row(void **state)
{
    static const char want[] = "D\0\0\0\x1b"
                               "\0\x04"
                               "\0\0\0\x02"
                               "42"
                               "\xff\xff\xff\xff"
                               "\0\0\0\x02"
                               "hi"
                               "\0\0\0\x01"
                               "t";
    struct tl_value v[] = {
        tl_value_int(TL_TYPE_INT8, 42),
        tl_value_null(TL_TYPE_TEXT),
        tl_value_text(TL_TYPE_TEXT, "hi", 2),
        tl_value_bool(true),
    };
    struct pgw_conn c;

    init_mem_conn(&c);
    pgw_send_data_row(&c, v, 4);
    assert_out(&c, want);
    pgw_conn_close(&c);
}

/* CommandComplete is the tag as a C string; EmptyQueryResponse,
 * ReadyForQuery and ParameterStatus have their fixed layouts. */
static void
test_encode_simple_messages(void **state)
{
    static const char want[] = "C\0\0\0\x0d"
                               "SELECT 1\0"
                               "I\0\0\0\x04"
                               "Z\0\0\0\x05"
                               "I"
                               "Z\0\0\0\x05"
                               "E"
                               "S\0\0\0\x11"
                               "TimeZone\0"
                               "UTC\0";
    struct pgw_conn c;

    init_mem_conn(&c);
    pgw_send_command_complete(&c, "SELECT 1");
    pgw_send_empty_query(&c);
    pgw_send_ready(&c, 'I');
    pgw_send_ready(&c, 'E');
    pgw_send_parameter_status(&c, "TimeZone", "UTC");
    assert_out(&c, want);
    pgw_conn_close(&c);
}

/* Startup-phase messages: the SSL refusal byte, AuthenticationOk,
 * BackendKeyData and NegotiateProtocolVersion. */
static void
test_encode_startup_messages(void **state)
{
    static const char want[] = "N"
                               "R\0\0\0\x08"
                               "\0\0\0\0"
                               "K\0\0\0\x0c"
                               "\0\0\0\x07"
                               "\x12\x34\x56\x78"
                               "v\0\0\0\x0c"
                               "\0\x03\0\0"
                               "\0\0\0\0";
    struct pgw_conn c;

    init_mem_conn(&c);
    c.backend_pid = 7;
    c.backend_secret = 0x12345678;
    pgw_send_ssl_refusal(&c);
    pgw_send_auth_ok(&c);
    pgw_send_backend_key_data(&c);
    pgw_send_negotiate_version(&c, 0);
    assert_out(&c, want);
    pgw_conn_close(&c);
}

/* ErrorResponse carries S, V, C, M and only those of D, H, P that are
 * set, ended by a zero byte; FATAL and NOTICE/WARNING differ only in
 * severity and type. */
static void
test_encode_error_fields(void **state)
{
    static const char want_full[] = "E\0\0\0\x2e"
                                    "SERROR\0"
                                    "VERROR\0"
                                    "C42601\0"
                                    "Mbad\0"
                                    "Ddet\0"
                                    "Hhint\0"
                                    "P12\0"
                                    "\0";
    static const char want_fatal[] = "E\0\0\0\x1d"
                                     "SFATAL\0"
                                     "VFATAL\0"
                                     "C08P01\0"
                                     "Mx\0"
                                     "\0";
    static const char want_warning[] = "N\0\0\0\x21"
                                       "SWARNING\0"
                                       "VWARNING\0"
                                       "C01000\0"
                                       "Mw\0"
                                       "\0";
    struct pgw_conn c;
    struct tl_error e;

    init_mem_conn(&c);
    tl_error_set(&e, TL_ESQL, TL_SQLSTATE_SYNTAX_ERROR, "bad");
    tl_error_detail(&e, "det");
    tl_error_hint(&e, "hint");
    e.position = 12;
    pgw_send_error(&c, &e);
    assert_out(&c, want_full);

    tl_buf_reset(&c.out);
    tl_error_set(&e, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION, "x");
    pgw_send_fatal(&c, &e);
    assert_out(&c, want_fatal);

    tl_buf_reset(&c.out);
    tl_error_clear(&e); /* no SQLSTATE: a warning gets 01000 */
    snprintf(e.message, sizeof(e.message), "w");
    pgw_send_notice(&c, &e, true);
    assert_out(&c, want_warning);
    pgw_conn_close(&c);
}

/* ---- socket I/O ------------------------------------------------------- */

struct writer {
    int fd;
    const uint8_t *data;
    const size_t *cuts; /* write boundaries, ascending, last = total */
    size_t n_cuts;
    bool close_after;
    bool failed; /* cmocka asserts belong to the test's own thread */
};

static void *
run_writer(void *p)
{
    struct writer *w = p;
    size_t off = 0;

    for (size_t i = 0; i < w->n_cuts; i++) {
        struct timespec ts = {0, 2 * 1000 * 1000};

        /* The pauses make the reader see the pieces in separate reads:
         * what is tested is reassembly, which no readiness check can
         * force. */
        nanosleep(&ts, NULL);
        if (write(w->fd, w->data + off, w->cuts[i] - off) !=
            (ssize_t)(w->cuts[i] - off))
            w->failed = true;
        off = w->cuts[i];
    }
    if (w->close_after)
        close(w->fd);
    return NULL;
}

/* A message written in pieces that split its header and body is read
 * whole, and the next message follows. */
static void
test_read_message_split(void **state)
{
    static const uint8_t msgs[] = {
        'Q', 0,   0,   0, 13,  's', 'e', 'l', 'e', 'c',
        't', ' ', '1', 0, 'X', 0,   0,   0,   4,
    };
    static const size_t cuts[] = {1, 3, 7, 12, 16, sizeof(msgs)};
    int sv[2];
    struct pgw_conn c;
    struct tl_buf payload;
    struct writer w;
    pthread_t t;
    char type;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    w = (struct writer){sv[1], msgs, cuts, 6, true, false};
    pgw_conn_init(&c, sv[0]);
    tl_buf_init(&payload);
    assert_int_equal(pthread_create(&t, NULL, run_writer, &w), 0);

    assert_int_equal(pgw_read_message(&c, &type, &payload), 0);
    assert_int_equal(type, 'Q');
    assert_int_equal(payload.len, 9);
    assert_memory_equal(payload.data, "select 1", 9);
    assert_int_equal(pgw_read_message(&c, &type, &payload), 0);
    assert_int_equal(type, 'X');
    assert_int_equal(payload.len, 0);
    /* then the writer closed: EOF */
    assert_int_equal(pgw_read_message(&c, &type, &payload), TL_EIO);

    pthread_join(t, NULL);
    assert_false(w.failed);
    tl_buf_close(&payload);
    pgw_conn_close(&c);
}

/* A peer that closes in the middle of a header or a body ends the read
 * with TL_EIO. */
static void
test_read_message_early_eof(void **state)
{
    static const uint8_t partial_body[] = {'Q', 0, 0, 0, 14, 'a', 'b'};
    static const uint8_t partial_header[] = {'Q', 0, 0};
    int sv[2];
    struct pgw_conn c;
    struct tl_buf payload;
    char type;

    tl_buf_init(&payload);

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pgw_conn_init(&c, sv[0]);
    assert_int_equal(write(sv[1], partial_body, sizeof(partial_body)),
                     (ssize_t)sizeof(partial_body));
    close(sv[1]);
    assert_int_equal(pgw_read_message(&c, &type, &payload), TL_EIO);
    pgw_conn_close(&c);

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pgw_conn_init(&c, sv[0]);
    assert_int_equal(write(sv[1], partial_header, sizeof(partial_header)),
                     (ssize_t)sizeof(partial_header));
    close(sv[1]);
    assert_int_equal(pgw_read_message(&c, &type, &payload), TL_EIO);
    pgw_conn_close(&c);

    tl_buf_close(&payload);
}

/* Messages sent together (Bind, Execute, Sync), then one larger than the
 * read-ahead buffer, come out whole and in order from what was read
 * ahead, even after the peer closed. */
static void
test_read_message_pipelined(void **state)
{
    enum { BIG = 3 * PGW_READ_AHEAD + 17 };
    static uint8_t data[17 + 5 + BIG];
    static const uint8_t head[] = {'B', 0, 0, 0,   6, 'x', 0, 'E', 0,
                                   0,   0, 4, 'S', 0, 0,   0, 4};
    int sv[2];
    struct pgw_conn c;
    struct tl_buf payload;
    char type;

    memcpy(data, head, sizeof(head));
    uint8_t *big = data + sizeof(head);
    big[0] = 'd';
    put_be32(big + 1, BIG + 4);
    for (size_t i = 0; i < BIG; i++)
        big[5 + i] = (uint8_t)(i % 251);
    size_t total = sizeof(head) + 5 + BIG;
    assert_true(total <= sizeof(data));
    tl_buf_init(&payload);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pgw_conn_init(&c, sv[0]);
    c.message_timeout_ms = 5000;
    struct writer w = {sv[1], data, (const size_t[]){total}, 1, true, false};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_writer, &w), 0);
    assert_int_equal(pgw_read_message(&c, &type, &payload), 0);
    assert_int_equal(type, 'B');
    assert_int_equal(payload.len, 2);
    assert_memory_equal(payload.data, "x", 2);
    assert_int_equal(pgw_read_message(&c, &type, &payload), 0);
    assert_int_equal(type, 'E');
    assert_int_equal(payload.len, 0);
    assert_int_equal(pgw_read_message(&c, &type, &payload), 0);
    assert_int_equal(type, 'S');
    assert_int_equal(pgw_read_message(&c, &type, &payload), 0);
    assert_int_equal(type, 'd');
    assert_int_equal(payload.len, BIG);
    assert_memory_equal(payload.data, big + 5, BIG);
    assert_int_equal(pgw_read_message(&c, &type, &payload), TL_EIO);
    pthread_join(t, NULL);
    assert_false(w.failed);
    tl_buf_close(&payload);
    pgw_conn_close(&c);
}

/* A length word beyond the limit is reported as TL_EPROTO before any body
 * is read or allocated. */
static void
test_read_message_oversized(void **state)
{
    uint8_t hdr[5] = {'Q'};
    int sv[2];
    struct pgw_conn c;
    struct tl_buf payload;
    char type;

    put_be32(hdr + 1, PGW_MAX_MESSAGE + 1);
    tl_buf_init(&payload);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pgw_conn_init(&c, sv[0]);
    assert_int_equal(write(sv[1], hdr, 5), 5);
    assert_int_equal(pgw_read_message(&c, &type, &payload), TL_EPROTO);
    assert_int_equal(payload.cap, 0);
    close(sv[1]);
    pgw_conn_close(&c);
    tl_buf_close(&payload);
}

/* Output is flushed by itself once it passes PGW_FLUSH_AT, and a write to
 * a closed peer marks the connection broken (no SIGPIPE) and drops later
 * sends. */
static void
test_flush_threshold_and_broken_peer(void **state)
{
    static char big[1000];
    int sv[2];
    struct pgw_conn c;
    struct tl_value v;
    uint8_t hdr[7];
    int n_rows = 0;

    memset(big, 'x', sizeof(big));
    v = tl_value_text(TL_TYPE_TEXT, big, sizeof(big));
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pgw_conn_init(&c, sv[0]);
    /* 1,011-byte rows: the buffer passes 64 KiB within 65 rows and is
     * then written out and emptied by the send itself. */
    for (int i = 0; i < 100; i++) {
        pgw_send_data_row(&c, &v, 1);
        if (c.out.len == 0) {
            n_rows = i + 1;
            break;
        }
    }
    assert_int_equal(n_rows, PGW_FLUSH_AT / 1011 + 1);
    assert_int_equal(pgw_read_exact(sv[1], hdr, sizeof(hdr)), 0);
    assert_int_equal(hdr[0], 'D');

    close(sv[1]);
    pgw_send_command_complete(&c, "SELECT 1");
    assert_int_equal(pgw_flush(&c), TL_EIO);
    assert_true(c.broken);
    pgw_send_command_complete(&c, "SELECT 1");
    assert_int_equal(c.out.len, 0);
    assert_int_equal(pgw_flush(&c), TL_EIO);
    pgw_conn_close(&c);
}

/* numeric goes out as numeric_send's bytes and comes back from them
 * (PostgreSQL's numeric_send(1234.5678) is 000200000000000404d2162e); a
 * bad sign is 22P03. */
static void
test_numeric_binary(void **state)
{
    static const uint8_t want[] = {0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
                                   0x00, 0x04, 0x04, 0xd2, 0x16, 0x2e};
    struct tl_value v = tl_value_text(TL_TYPE_NUMERIC, "1234.5678", 9), back;
    struct tl_arena a;
    struct tl_error err;
    struct tl_buf b;
    (void)state;

    tl_arena_init(&a);
    tl_buf_init(&b);
    pgw_value_to_binary(&v, &b);
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    assert_int_equal(
        pgw_value_from_binary(TL_TYPE_NUMERIC, b.data, b.len, &a, &back, &err),
        0);
    assert_int_equal(back.type, TL_TYPE_NUMERIC);
    assert_int_equal(back.u.s.len, 9);
    assert_memory_equal(back.u.s.p, "1234.5678", 9);
    b.data[4] = 0x12;
    tl_error_clear(&err);
    assert_int_not_equal(
        pgw_value_from_binary(TL_TYPE_NUMERIC, b.data, b.len, &a, &back, &err),
        0);
    assert_string_equal(err.sqlstate, "22P03");
    tl_buf_close(&b);
    tl_arena_close(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_startup_normal),
        cmocka_unit_test(test_startup_database_defaults_to_user),
        cmocka_unit_test(test_startup_long_user_truncated),
        cmocka_unit_test(test_startup_missing_user),
        cmocka_unit_test(test_startup_truncated),
        cmocka_unit_test(test_startup_no_terminator),
        cmocka_unit_test(test_startup_oversized),
        cmocka_unit_test(test_startup_special_codes),
        cmocka_unit_test(test_startup_protocol_versions),
        cmocka_unit_test(test_header_lengths),
        cmocka_unit_test(test_encode_row_description),
        cmocka_unit_test(test_encode_data_row),
        cmocka_unit_test(test_encode_simple_messages),
        cmocka_unit_test(test_encode_startup_messages),
        cmocka_unit_test(test_encode_error_fields),
        cmocka_unit_test(test_read_message_split),
        cmocka_unit_test(test_read_message_early_eof),
        cmocka_unit_test(test_read_message_pipelined),
        cmocka_unit_test(test_read_message_oversized),
        cmocka_unit_test(test_flush_threshold_and_broken_peer),
        cmocka_unit_test(test_numeric_binary),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
