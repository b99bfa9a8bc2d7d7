/* pgwire — PostgreSQL frontend/backend protocol v3: the simple and the
 * extended query flow, and the text and binary formats of values.
 *
 * A struct pgw_conn is one client connection: its socket, its buffered
 * output and what the startup packet said. Messages to the client are
 * appended to the output buffer by the pgw_send_* functions and written
 * by pgw_flush(); output is also flushed whenever the buffer passes
 * PGW_FLUSH_AT, so a large result streams. A write failure marks the
 * connection broken and later sends are dropped: the caller notices at the
 * next flush or read and ends the session.
 *
 * Limits (a message beyond them is a protocol violation; the connection
 * is answered with an ErrorResponse and closed): startup packet 10,000
 * bytes, any other message PGW_MAX_MESSAGE bytes.
 *
 * Parsing (pgw_parse_startup, pgw_parse_header) is pure: it reads bytes
 * and fills structs, so it is tested without sockets. A struct pgw_conn is
 * used by one thread at a time. */
#ifndef TL_PGWIRE_H
#define TL_PGWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "tl_error.h"
#include "value.h"

#define PGW_MAX_MESSAGE (64u << 20)
#define PGW_FLUSH_AT (64u << 10)
#define PGW_MAX_STARTUP 10000u

/* The first word after the length of a startup-phase packet. */
#define PGW_PROTOCOL_3_0 196608u          /* 3 << 16 | 0 */
#define PGW_CANCEL_REQUEST_CODE 80877102u /* 1234 << 16 | 5678 */
#define PGW_SSL_REQUEST_CODE 80877103u    /* 1234 << 16 | 5679 */
#define PGW_GSSENC_REQUEST_CODE 80877104u /* 1234 << 16 | 5680 */

/* Bytes pgw_read_message() reads ahead per receive: a Bind, Execute and
 * Sync sent together cost one recv(), not two per message. */
#define PGW_READ_AHEAD 8192

struct ssl_st;     /* OpenSSL's SSL */
struct tls_server; /* router/wire/tls.h */

struct pgw_conn {
    int fd;
    /* The TLS session once pgw_start_tls() succeeded (owned), else NULL:
     * every read and write then goes through it, and the socket is
     * non-blocking. */
    struct ssl_st *ssl;
    /* tls-server-end-point channel binding data of the connection (the
     * hash of the server's certificate), cbind_len 0 without TLS. */
    uint8_t cbind[64];
    size_t cbind_len;
    struct tl_buf out;
    /* Received but not yet read as messages: in[in_off, in_len). Only
     * pgw_read_message() reads through it; the startup phase, which
     * reads the socket itself, ends before its first call. */
    uint8_t in[PGW_READ_AHEAD];
    size_t in_off, in_len;
    bool broken;
    /* Once a message's first byte arrived, the rest must follow within
     * this many milliseconds (0: no limit); set by the session. */
    int message_timeout_ms;
    uint32_t backend_pid;
    uint32_t backend_secret;
    bool superuser; /* the router's superuser (is_superuser) */
    char user[64];
    char database[64];
    char application_name[64];
};

/* What a startup-phase packet said. For a 3.x StartupMessage, user is
 * never empty, database defaults to user, and the strings are truncated to
 * 63 bytes as PostgreSQL truncates names (NAMEDATALEN). For a
 * CancelRequest only cancel_pid and cancel_secret are set; for an
 * SSLRequest or GSSENCRequest only code. */
struct pgw_startup {
    uint32_t code; /* PGW_PROTOCOL_3_0 (or 3.x), or a *_REQUEST_CODE */
    char user[64];
    char database[64];
    char application_name[64];
    uint32_t cancel_pid;
    uint32_t cancel_secret;
};

/** Parse one whole startup-phase packet @p of @len bytes, its leading
 * length word included (which must equal @len). Fills *@out. Returns 0;
 * TL_EPROTO (08P01) for a bad length, a truncated packet or a parameter
 * list not ended by NUL; TL_EINVAL (28000) when a 3.x startup names no
 * user; TL_EUNSUPPORTED (0A000) for a protocol other than 3.x. @err (may
 * be NULL) then holds the report to send as FATAL. */
int pgw_parse_startup(const uint8_t *p, size_t len, struct pgw_startup *out,
                      struct tl_error *err);

/** Check the length word @len of a startup-phase packet (it counts
 * itself): 0 when 8 <= @len <= PGW_MAX_STARTUP, else TL_EPROTO (08P01
 * invalid length of startup packet) with @err (may be NULL) filled. */
int pgw_check_startup_length(uint32_t len, struct tl_error *err);

/** Decode the 5-byte header of a regular message @hdr: *@type is its
 * type byte and *@payload_len the bytes that follow the header. Returns 0,
 * or TL_EPROTO when the length word is below 4 or above PGW_MAX_MESSAGE;
 * the outputs are then untouched. Cannot fail otherwise. */
int pgw_parse_header(const uint8_t hdr[5], char *type, uint32_t *payload_len);

/** Initialise @c on socket @fd; @c takes ownership of @fd (closed by
 * pgw_conn_close). Cannot fail. */
void pgw_conn_init(struct pgw_conn *c, int fd);

/** Close @c's socket (if still open) and free its buffers. */
void pgw_conn_close(struct pgw_conn *c);

/** Read exactly @n bytes from @fd into @p, retrying on EINTR. 0; TL_EIO on
 * EOF before @n bytes or a socket error (ECONNRESET...); TL_ETIMEOUT when a
 * receive timeout (SO_RCVTIMEO) expired. */
int pgw_read_exact(int fd, void *p, size_t n);

/** Read exactly @n bytes from @fd into @p, as pgw_read_exact(), but give
 * up with TL_ETIMEOUT at @deadline_ms (CLOCK_MONOTONIC milliseconds; 0:
 * none) however the bytes trickle in. */
int pgw_read_until(int fd, void *p, size_t n, int64_t deadline_ms);

/** Read exactly @n bytes of @c's stream (through TLS once started) into
 * @p, waiting no later than @deadline_ms (0: no limit), reading ahead
 * what else arrived (pgw_has_pending()). Errors as pgw_read_until(). */
int pgw_read_conn(struct pgw_conn *c, void *p, size_t n, int64_t deadline_ms);

/** Whether bytes of @c's stream are already received and not yet read
 * (read ahead, or decrypted by TLS): a poll() of the socket would not
 * see them. Cannot fail. */
bool pgw_has_pending(const struct pgw_conn *c);

/** Make @c a TLS connection: the server handshake with a new SSL of @t
 * (borrowed), finished by @deadline_ms (0: no limit). Nothing may be
 * read ahead (asserted: the caller refuses unencrypted bytes that follow
 * an SSLRequest). 0, with c->cbind set; TL_EIO (a failed handshake,
 * reason in @why) or TL_ETIMEOUT: the connection is then unusable. */
int pgw_start_tls(struct pgw_conn *c, struct tls_server *t, int64_t deadline_ms,
                  char *why, size_t why_len);

/** Read one regular message from @c: *@type is its type byte and @payload
 * (reset first, then grown as bytes arrive, so a lying length costs no
 * memory up front) its body without the header. Waiting for the first
 * byte has no limit (an idle client); the rest of the message must arrive
 * within c->message_timeout_ms of it. Returns 0; TL_EIO when the
 * client is gone; TL_ETIMEOUT when the message did not arrive whole in
 * time (or on a receive timeout); TL_EPROTO when the
 * length is below 4 or above PGW_MAX_MESSAGE (nothing more is read: the
 * stream can no longer be framed). */
int pgw_read_message(struct pgw_conn *c, char *type, struct tl_buf *payload);

/** The single byte 'N' that refuses an SSLRequest or GSSENCRequest. */
void pgw_send_ssl_refusal(struct pgw_conn *c);
/** The single byte 'S' that accepts an SSLRequest (the TLS handshake
 * follows: flush, then pgw_start_tls()). */
void pgw_send_ssl_accept(struct pgw_conn *c);
/** AuthenticationSASL offering SCRAM-SHA-256, and SCRAM-SHA-256-PLUS
 * first when @plus (a TLS connection). */
void pgw_send_auth_sasl(struct pgw_conn *c, bool plus);
/** AuthenticationSASLContinue (or AuthenticationSASLFinal when @final)
 * carrying @len bytes of @p. */
void pgw_send_auth_sasl_data(struct pgw_conn *c, bool final, const void *p,
                             size_t len);
/** AuthenticationOk (trust: no password asked). */
void pgw_send_auth_ok(struct pgw_conn *c);
/** BackendKeyData with c->backend_pid and c->backend_secret. */
void pgw_send_backend_key_data(struct pgw_conn *c);
/** NegotiateProtocolVersion: this server speaks 3.@newest_minor and
 * recognises none of the client's _pq_ options. */
void pgw_send_negotiate_version(struct pgw_conn *c, uint32_t newest_minor);

/* One column of a RowDescription. */
struct pgw_field {
    const char *name;
    uint8_t type;   /* enum tl_type; OID and length derive from it */
    int32_t typmod; /* n of varchar(n)/character(n), precision of a
                     * timestamp, else -1 */
    int16_t format; /* 0 text, 1 binary */
};

/** RowDescription of @n columns @f (borrowed): name, table oid 0, attnum
 * 0, type OID and length from the column's type, typmod (n + 4 for
 * varchar(n) and character(n), as PostgreSQL's atttypmod counts the
 * varlena header), format f[i].format. */
void pgw_send_row_description(struct pgw_conn *c, const struct pgw_field *f,
                              size_t n);
/** Append the RowDescription message of @f (as pgw_send_row_description)
 * to @out instead of the connection. */
void pgw_encode_row_description(struct tl_buf *out, const struct pgw_field *f,
                                size_t n);
/** DataRow in text format; NULLs as length -1. */
void pgw_send_data_row(struct pgw_conn *c, const struct tl_value *v, size_t n);
/** DataRow with column i in format @formats[i] (0 text, 1 binary;
 * @formats NULL: all text). */
void pgw_send_data_row_fmt(struct pgw_conn *c, const struct tl_value *v,
                           size_t n, const int16_t *formats);
/** Append the DataRow message of @v in @formats (as pgw_send_data_row_fmt)
 * to @out instead of the connection. */
void pgw_encode_data_row(struct tl_buf *out, const struct tl_value *v, size_t n,
                         const int16_t *formats);
/** Append already encoded messages (@p, @len bytes) to the output. */
void pgw_send_raw(struct pgw_conn *c, const void *p, size_t len);
/** ParseComplete, BindComplete, CloseComplete, NoData, PortalSuspended. */
void pgw_send_parse_complete(struct pgw_conn *c);
void pgw_send_bind_complete(struct pgw_conn *c);
void pgw_send_close_complete(struct pgw_conn *c);
void pgw_send_no_data(struct pgw_conn *c);
void pgw_send_portal_suspended(struct pgw_conn *c);
/** CopyInResponse / CopyOutResponse: @n columns, overall and per column
 * format @format (0 text or CSV, 1 binary). */
void pgw_send_copy_in_response(struct pgw_conn *c, size_t n, int16_t format);
void pgw_send_copy_out_response(struct pgw_conn *c, size_t n, int16_t format);
/** CopyData carrying @len bytes of @p; CopyDone. */
void pgw_send_copy_data(struct pgw_conn *c, const void *p, size_t len);
void pgw_send_copy_done(struct pgw_conn *c);
/** ParameterDescription of @n parameter type OIDs. */
void pgw_send_parameter_description(struct pgw_conn *c, const uint32_t *oids,
                                    size_t n);
/** CommandComplete with @tag ("SELECT 5", "INSERT 0 3", "CREATE TABLE"). */
void pgw_send_command_complete(struct pgw_conn *c, const char *tag);
/** EmptyQueryResponse, the answer to a query string with no statement. */
void pgw_send_empty_query(struct pgw_conn *c);
/** ErrorResponse, severity ERROR; fields S, V, C, M and D/H/P if set. */
void pgw_send_error(struct pgw_conn *c, const struct tl_error *e);
/** ErrorResponse with severity FATAL (the connection closes after). */
void pgw_send_fatal(struct pgw_conn *c, const struct tl_error *e);
/** NoticeResponse, severity NOTICE (or WARNING when @warning). */
void pgw_send_notice(struct pgw_conn *c, const struct tl_error *e,
                     bool warning);
/** ParameterStatus: run-time parameter @name now has @value. */
void pgw_send_parameter_status(struct pgw_conn *c, const char *name,
                               const char *value);
/** ReadyForQuery; @status is 'I' (idle), 'T' (in a block), 'E' (failed
 * block). */
void pgw_send_ready(struct pgw_conn *c, char status);
/* All pgw_send_* functions append to c->out (flushing it once it passes
 * PGW_FLUSH_AT), do nothing on a broken connection, and cannot fail. */
/* ------------------------------------------------ values, binary format */

/** Append the binary format (PostgreSQL's typsend) of @v (not NULL):
 * integers and floats big-endian, bool one byte, text and bytea their
 * bytes, uuid its 16 bytes, timestamps int64 microseconds and dates int32
 * days since 2000-01-01, numeric as numeric_send (tl_numeric_to_binary),
 * json its text, jsonb a version byte 1 and its text (jsonb_send).
 * Cannot fail. */
void pgw_value_to_binary(const struct tl_value *v, struct tl_buf *out);

/** Read the binary format @p (@len bytes) of a value of @type into *@out
 * (text, uuid and bytea borrow @p; a numeric's text is written into @a),
 * as PostgreSQL's typreceive. TL_EINVAL (22P03 "incorrect binary data
 * format") when the length is wrong for the type (a uuid that is not 16
 * bytes); a malformed numeric is 22P03 as tl_numeric_from_binary says; a
 * json or jsonb text is checked (and a jsonb's normalised into @a) as
 * tl_json_in says, a jsonb version other than 1 is XX000. */
int pgw_value_from_binary(uint8_t type, const uint8_t *p, size_t len,
                          struct tl_arena *a, struct tl_value *out,
                          struct tl_error *err);

/* ------------------------------------------------------ reading messages */

/* A cursor over the body of one message. */
struct pgw_reader {
    const uint8_t *p;
    size_t len;
    size_t off;
};

/** Each reads the next field of @r into *@out and advances: 0, or TL_EPROTO
 * with @err filled (08P01 "insufficient data left in message", or
 * "invalid string in message" for a string not ended by NUL). */
int pgw_get_int16(struct pgw_reader *r, int16_t *out, struct tl_error *err);
int pgw_get_int32(struct pgw_reader *r, int32_t *out, struct tl_error *err);
/** A NUL-terminated string; *@out borrows the message. */
int pgw_get_cstring(struct pgw_reader *r, const char **out,
                    struct tl_error *err);
/** @n bytes; *@out borrows the message. */
int pgw_get_bytes(struct pgw_reader *r, size_t n, const uint8_t **out,
                  struct tl_error *err);
/** 0 when @r is wholly read; TL_EPROTO (08P01 "invalid message format")
 * when bytes are left. */
int pgw_get_end(struct pgw_reader *r, struct tl_error *err);

/** Write the buffered output (through TLS once started), retrying on
 * EINTR and short writes (MSG_NOSIGNAL: a closed peer is an error, not a
 * SIGPIPE). 0, or TL_EIO when the client is gone (also for every later
 * call). */
int pgw_flush(struct pgw_conn *c);

#endif
