/* Unit tests of router/session: the startup handshake and the message
 * loop, driven over a socketpair against session_run() on its own thread.
 * Nothing here reaches the storage nodes: the router is left empty and
 * only messages that never touch a table are sent. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "router/core/router.h"
#include "router/session/session.h"
#include "router/wire/pgwire.h"

struct server {
    struct router r;
    int fd;
    bool reject;
    pthread_t thread;
};

struct msg {
    char type;
    uint32_t len;
    uint8_t body[1024];
};

static void *
run_session(void *p)
{
    struct server *s = p;

    session_run(&s->r, s->fd, s->reject);
    return NULL;
}

/* Start a session on one end of a socketpair; returns the client end. */
static int
start_session(struct server *s, bool reject)
{
    int sv[2];
    struct timeval tv = {.tv_sec = 10};

    memset(s, 0, sizeof(*s));
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    /* a broken session must fail the test, not hang it */
    setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    s->fd = sv[0];
    s->reject = reject;
    assert_int_equal(pthread_create(&s->thread, NULL, run_session, s), 0);
    return sv[1];
}

static void
finish_session(struct server *s, int client)
{
    close(client);
    pthread_join(s->thread, NULL);
}

static void
send_all(int fd, const void *p, size_t n)
{
    assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void
send_msg(int fd, char type, const void *body, uint32_t n)
{
    uint8_t hdr[5] = {(uint8_t)type, (uint8_t)((n + 4) >> 24),
                      (uint8_t)((n + 4) >> 16), (uint8_t)((n + 4) >> 8),
                      (uint8_t)(n + 4)};

    send_all(fd, hdr, sizeof(hdr));
    if (n > 0)
        send_all(fd, body, n);
}

static void
send_startup(int fd, uint32_t code, const char *params, size_t n)
{
    struct tl_buf b;

    tl_buf_init(&b);
    tl_buf_append_be32(&b, (uint32_t)(8 + n));
    tl_buf_append_be32(&b, code);
    tl_buf_append(&b, params, n);
    send_all(fd, b.data, b.len);
    tl_buf_close(&b);
}

/* Read one backend message; false on EOF. */
static bool
read_msg(int fd, struct msg *m)
{
    uint8_t hdr[5];

    if (pgw_read_exact(fd, hdr, sizeof(hdr)) != 0)
        return false;
    m->type = (char)hdr[0];
    m->len = tl_load_be32(hdr + 1) - 4;
    assert_true(m->len <= sizeof(m->body));
    assert_int_equal(pgw_read_exact(fd, m->body, m->len), 0);
    return true;
}

static void
expect_eof(int fd)
{
    uint8_t b;

    assert_int_equal(pgw_read_exact(fd, &b, 1), TL_EIO);
}

/* The value of field @code in an ErrorResponse body, or "". */
static const char *
error_field(const struct msg *m, char code)
{
    size_t i = 0;

    while (i < m->len && m->body[i] != 0) {
        const char *v = (const char *)m->body + i + 1;
        if ((char)m->body[i] == code)
            return v;
        i += 2 + strlen(v);
    }
    return "";
}

static void
expect_error(int fd, const char *severity, const char *sqlstate)
{
    struct msg m;

    assert_true(read_msg(fd, &m));
    assert_int_equal(m.type, 'E');
    assert_string_equal(error_field(&m, 'S'), severity);
    assert_string_equal(error_field(&m, 'C'), sqlstate);
}

static void
expect_ready(int fd, char status)
{
    struct msg m;

    assert_true(read_msg(fd, &m));
    assert_int_equal(m.type, 'Z');
    assert_int_equal(m.len, 1);
    assert_int_equal(m.body[0], status);
}

static const char user_params[] = "user\0alice\0application_name\0t\0";

/* Read the handshake up to ReadyForQuery, checking its messages. */
static void
expect_handshake(int fd)
{
    struct msg m;
    bool saw_version = false, saw_auth_user = false, saw_key = false;

    assert_true(read_msg(fd, &m));
    assert_int_equal(m.type, 'R');
    assert_int_equal(tl_load_be32(m.body), 0);
    for (;;) {
        assert_true(read_msg(fd, &m));
        if (m.type == 'Z')
            break;
        if (m.type == 'K') {
            saw_key = true;
            assert_int_not_equal(tl_load_be32(m.body), 0);
            continue;
        }
        assert_int_equal(m.type, 'S');
        if (strcmp((char *)m.body, "server_version") == 0)
            saw_version = strcmp((char *)m.body + 15, "15.0") == 0;
        if (strcmp((char *)m.body, "session_authorization") == 0)
            saw_auth_user = strcmp((char *)m.body + 22, "alice") == 0;
    }
    assert_int_equal(m.body[0], 'I');
    assert_true(saw_version && saw_auth_user && saw_key);
}

static int
connect_client(struct server *s)
{
    int fd = start_session(s, false);

    send_startup(fd, PGW_PROTOCOL_3_0, user_params, sizeof(user_params));
    expect_handshake(fd);
    return fd;
}

/* An SSLRequest is refused with 'N' and the startup that follows gets
 * the full handshake; Terminate ends the session. */
static void
test_ssl_refused_then_handshake(void **state)
{
    struct server s;
    int fd = start_session(&s, false);
    uint8_t answer = 0;

    send_startup(fd, PGW_SSL_REQUEST_CODE, NULL, 0);
    assert_int_equal(pgw_read_exact(fd, &answer, 1), 0);
    assert_int_equal(answer, 'N');
    send_startup(fd, PGW_PROTOCOL_3_0, user_params, sizeof(user_params));
    expect_handshake(fd);
    send_msg(fd, 'X', NULL, 0);
    expect_eof(fd);
    finish_session(&s, fd);
}

/* Read the next message, which must be of @type. */
static void
expect_type(int fd, char type, struct msg *m)
{
    assert_true(read_msg(fd, m));
    assert_int_equal(m->type, type);
}

/* Parse (no declared types), Bind with a text parameter, Describe of the
 * portal and Execute answer ParseComplete, BindComplete, RowDescription
 * of the inferred type, the row and CommandComplete, all at Sync. */
static void
test_extended_protocol_runs_a_statement(void **state)
{
    struct server s;
    int fd = connect_client(&s);
    struct msg m;

    send_msg(fd, 'P', "\0select $1::int + 1 AS n\0\0\0", 27);
    /* portal "", statement "", 0 formats, 1 value "41", 0 formats */
    send_msg(fd, 'B', "\0\0\0\0\0\1\0\0\0\00241\0\0", 14);
    send_msg(fd, 'D', "P\0", 2);
    send_msg(fd, 'E', "\0\0\0\0\0", 5);
    send_msg(fd, 'S', NULL, 0);
    expect_type(fd, '1', &m);
    expect_type(fd, '2', &m);
    expect_type(fd, 'T', &m);
    assert_int_equal(tl_load_be16(m.body), 1);
    assert_string_equal((const char *)m.body + 2, "n");
    assert_int_equal(tl_load_be32(m.body + 2 + 2 + 6), 23); /* int4 */
    expect_type(fd, 'D', &m);
    assert_int_equal(tl_load_be16(m.body), 1);
    assert_int_equal(tl_load_be32(m.body + 2), 2);
    assert_memory_equal(m.body + 6, "42", 2);
    expect_type(fd, 'C', &m);
    assert_string_equal((const char *)m.body, "SELECT 1");
    expect_ready(fd, 'I');
    finish_session(&s, fd);
}

/* Execute with a row limit sends that many rows and PortalSuspended; the
 * next Execute of the portal completes it with "SELECT 0", as PostgreSQL
 * does when the last fetch ended exactly at the end. A binary result
 * format sends the int4 as four bytes. */
static void
test_extended_protocol_row_limit(void **state)
{
    struct server s;
    int fd = connect_client(&s);
    struct msg m;

    send_msg(fd, 'P', "s1\0select 7 AS n\0\0\0", 19);
    /* portal "p1", statement "s1", no params, 1 result format: binary */
    send_msg(fd, 'B', "p1\0s1\0\0\0\0\0\0\1\0\1", 14);
    send_msg(fd, 'E', "p1\0\0\0\0\1", 7);
    send_msg(fd, 'E', "p1\0\0\0\0\1", 7);
    send_msg(fd, 'S', NULL, 0);
    expect_type(fd, '1', &m);
    expect_type(fd, '2', &m);
    expect_type(fd, 'D', &m);
    assert_int_equal(tl_load_be32(m.body + 2), 4);
    assert_int_equal(tl_load_be32(m.body + 6), 7);
    expect_type(fd, 's', &m);
    expect_type(fd, 'C', &m);
    assert_string_equal((const char *)m.body, "SELECT 0");
    expect_ready(fd, 'I');
    /* Sync ended the portal; the statement lives on. */
    send_msg(fd, 'E', "p1\0\0\0\0\0", 7);
    send_msg(fd, 'S', NULL, 0);
    expect_error(fd, "ERROR", "34000");
    expect_ready(fd, 'I');
    send_msg(fd, 'P', "s1\0select 1\0\0\0", 14);
    send_msg(fd, 'S', NULL, 0);
    expect_error(fd, "ERROR", "42P05");
    expect_ready(fd, 'I');
    finish_session(&s, fd);
}

/* A Parse that fails gets one error, the Bind and Execute after it are
 * skipped up to Sync, and the connection keeps working afterwards. */
static void
test_extended_protocol_error_skips_until_sync(void **state)
{
    struct server s;
    int fd = connect_client(&s);

    send_msg(fd, 'P', "\0selec 1\0\0\0", 11);
    send_msg(fd, 'B', "\0\0\0\0\0\0\0\0", 8);
    send_msg(fd, 'E', "\0\0\0\0\0", 5);
    send_msg(fd, 'S', NULL, 0);
    expect_error(fd, "ERROR", "42601");
    expect_ready(fd, 'I');
    send_msg(fd, 'S', NULL, 0);
    expect_ready(fd, 'I');
    /* Binding a statement that does not exist is 26000. */
    send_msg(fd, 'B', "\0nope\0\0\0\0\0\0\0", 12);
    send_msg(fd, 'S', NULL, 0);
    expect_error(fd, "ERROR", "26000");
    expect_ready(fd, 'I');
    send_msg(fd, 'Q', "", 1); /* empty query: no table involved */
    {
        struct msg m;
        assert_true(read_msg(fd, &m));
        assert_int_equal(m.type, 'I');
    }
    expect_ready(fd, 'I');
    finish_session(&s, fd);
}

/* An unknown message type is answered with FATAL 08P01 and the
 * connection is closed. */
static void
test_unknown_type_fatal(void **state)
{
    struct server s;
    int fd = connect_client(&s);

    send_msg(fd, 'y', NULL, 0);
    expect_error(fd, "FATAL", "08P01");
    expect_eof(fd);
    finish_session(&s, fd);
}

/* A message length below 4 is answered with FATAL 08P01 and the
 * connection is closed. */
static void
test_bad_length_fatal(void **state)
{
    struct server s;
    int fd = connect_client(&s);

    send_all(fd, "Q\0\0\0\2", 5);
    expect_error(fd, "FATAL", "08P01");
    expect_eof(fd);
    finish_session(&s, fd);
}

/* A Query whose text has a NUL before its end is a protocol violation. */
static void
test_query_embedded_nul_fatal(void **state)
{
    struct server s;
    int fd = connect_client(&s);

    send_msg(fd, 'Q', "sel\0ect\0", 8);
    expect_error(fd, "FATAL", "08P01");
    expect_eof(fd);
    finish_session(&s, fd);
}

/* A startup packet without a user is refused with FATAL 28000, and an
 * unsupported protocol version with FATAL 0A000. */
static void
test_startup_errors(void **state)
{
    static const char no_user[] = "database\0d\0";
    struct server s;
    int fd = start_session(&s, false);

    send_startup(fd, PGW_PROTOCOL_3_0, no_user, sizeof(no_user));
    expect_error(fd, "FATAL", "28000");
    expect_eof(fd);
    finish_session(&s, fd);

    fd = start_session(&s, false);
    send_startup(fd, 2u << 16, user_params, sizeof(user_params));
    expect_error(fd, "FATAL", "0A000");
    expect_eof(fd);
    finish_session(&s, fd);
}

/* A session started as over the limit reads the startup packet and
 * answers FATAL 53300. */
static void
test_too_many_clients(void **state)
{
    struct server s;
    int fd = start_session(&s, true);
    struct msg m;

    send_startup(fd, PGW_PROTOCOL_3_0, user_params, sizeof(user_params));
    assert_true(read_msg(fd, &m));
    assert_int_equal(m.type, 'E');
    assert_string_equal(error_field(&m, 'C'), "53300");
    assert_string_equal(error_field(&m, 'M'),
                        "sorry, too many clients already");
    expect_eof(fd);
    finish_session(&s, fd);
}

/* A CancelRequest is read and the connection closed without a reply. */
static void
test_cancel_request_closed_silently(void **state)
{
    struct server s;
    int fd = start_session(&s, false);
    uint8_t body[8] = {0, 0, 0, 1, 0, 0, 0, 2};

    send_startup(fd, PGW_CANCEL_REQUEST_CODE, (const char *)body, 8);
    expect_eof(fd);
    finish_session(&s, fd);
}

/* A client that disconnects in the middle of a message just ends its
 * session (the thread returns, nothing leaks). */
static void
test_disconnect_mid_message(void **state)
{
    struct server s;
    int fd = connect_client(&s);

    send_all(fd, "Q\0\0\0\x20sel", 8);
    finish_session(&s, fd);

    fd = start_session(&s, false);
    send_all(fd, "\0\0\0\x40\0\3", 6); /* half a startup packet */
    finish_session(&s, fd);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ssl_refused_then_handshake),
        cmocka_unit_test(test_extended_protocol_runs_a_statement),
        cmocka_unit_test(test_extended_protocol_row_limit),
        cmocka_unit_test(test_extended_protocol_error_skips_until_sync),
        cmocka_unit_test(test_unknown_type_fatal),
        cmocka_unit_test(test_bad_length_fatal),
        cmocka_unit_test(test_query_embedded_nul_fatal),
        cmocka_unit_test(test_startup_errors),
        cmocka_unit_test(test_too_many_clients),
        cmocka_unit_test(test_cancel_request_closed_silently),
        cmocka_unit_test(test_disconnect_mid_message),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
