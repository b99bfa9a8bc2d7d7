/* pgwire — PostgreSQL protocol v3 codec and socket I/O.
 *
 * Message layouts follow the PostgreSQL documentation, "Frontend/Backend
 * Protocol", section "Message Formats". Every backend message is built in
 * c->out as: type byte, a length word patched once the body is known
 * (begin_message/end_message), body. */
#include "router/wire/pgwire.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/base/sqlstate.h"
#include "json.h"
#include "log.h"
#include "numeric.h"
#include "router/wire/tls.h"

#define MOD "pgwire"

/* Grow a message payload by at most this much per read, so the buffer
 * follows the bytes actually received rather than the length claimed. */
#define READ_CHUNK (256u << 10)

/* Beyond this, a buffer is freed after use instead of kept for the next
 * message: an idle connection should not pin a 64 MB query's memory. */
#define KEEP_CAP (1u << 20)

void
pgw_conn_init(struct pgw_conn *c, int fd)
{
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    tl_buf_init(&c->out);
}

void
pgw_conn_close(struct pgw_conn *c)
{
    if (c->ssl != NULL) {
        /* close_notify, best effort: the socket is non-blocking. */
        if (!c->broken)
            SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
        c->ssl = NULL;
        ERR_clear_error();
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    tl_buf_close(&c->out);
}

/* ---- parsing ---------------------------------------------------------- */

int
pgw_check_startup_length(uint32_t len, struct tl_error *err)
{
    if (len < 8 || len > PGW_MAX_STARTUP)
        return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                            "invalid length of startup packet");
    return 0;
}

static void
copy_name(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);

    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The key/value list of a StartupMessage: pairs of NUL-terminated strings
 * ended by one more NUL, which must be the last byte. */
static int
parse_parameters(const char *p, size_t len, struct pgw_startup *out,
                 struct tl_error *err)
{
    size_t i = 0;

    if (len == 0 || p[len - 1] != '\0')
        return tl_error_set(
            err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
            "invalid startup packet layout: expected terminator as last byte");
    while (i < len - 1) {
        const char *key = p + i;
        const char *val;
        size_t klen = strlen(key);

        i += klen + 1;
        if (i >= len - 1)
            return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                                "invalid startup packet layout: expected "
                                "terminator as last byte");
        val = p + i;
        i += strlen(val) + 1;
        if (strcmp(key, "user") == 0)
            copy_name(out->user, sizeof(out->user), val);
        else if (strcmp(key, "database") == 0)
            copy_name(out->database, sizeof(out->database), val);
        else if (strcmp(key, "application_name") == 0)
            copy_name(out->application_name, sizeof(out->application_name),
                      val);
        /* Other settings (client_encoding, DateStyle, options, _pq_.*)
         * are accepted and ignored: the session reports its fixed values
         * in ParameterStatus, which is what clients go by. */
    }
    return 0;
}

int
pgw_parse_startup(const uint8_t *p, size_t len, struct pgw_startup *out,
                  struct tl_error *err)
{
    uint32_t declared;
    int rv;

    memset(out, 0, sizeof(*out));
    if (len < 8)
        return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                            "invalid length of startup packet");
    declared = tl_load_be32(p);
    rv = pgw_check_startup_length(declared, err);
    if (rv != 0)
        return rv;
    if (declared != len)
        return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                            "incomplete startup packet");
    out->code = tl_load_be32(p + 4);

    switch (out->code) {
    case PGW_SSL_REQUEST_CODE:
    case PGW_GSSENC_REQUEST_CODE:
        if (len != 8)
            return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                                "invalid length of startup packet");
        return 0;
    case PGW_CANCEL_REQUEST_CODE:
        if (len != 16)
            return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                                "invalid length of cancel request packet");
        out->cancel_pid = tl_load_be32(p + 8);
        out->cancel_secret = tl_load_be32(p + 12);
        return 0;
    default:
        break;
    }

    if (out->code >> 16 != 3) {
        rv = tl_error_set(err, TL_EUNSUPPORTED,
                          TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                          "unsupported frontend protocol %u.%u: server "
                          "supports 3.0 to 3.0",
                          out->code >> 16, out->code & 0xffff);
        return rv;
    }
    rv = parse_parameters((const char *)p + 8, len - 8, out, err);
    if (rv != 0)
        return rv;
    if (out->user[0] == '\0')
        return tl_error_set(
            err, TL_EINVAL, TL_SQLSTATE_INVALID_AUTHORIZATION_SPECIFICATION,
            "no PostgreSQL user name specified in startup packet");
    if (out->database[0] == '\0')
        memcpy(out->database, out->user, sizeof(out->database));
    return 0;
}

int
pgw_parse_header(const uint8_t hdr[5], char *type, uint32_t *payload_len)
{
    uint32_t len = tl_load_be32(hdr + 1);

    if (len < 4 || len > PGW_MAX_MESSAGE)
        return TL_EPROTO;
    *type = (char)hdr[0];
    *payload_len = len - 4;
    return 0;
}

/* ---- socket input ----------------------------------------------------- */

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
pgw_read_until(int fd, void *p, size_t n, int64_t deadline_ms)
{
    uint8_t *q = p;

    while (n > 0) {
        if (deadline_ms > 0) {
            /* Wait for bytes no later than the deadline: a receive
             * timeout would restart with every byte that trickles in. */
            int64_t left = deadline_ms - now_ms();
            struct pollfd pf = {.fd = fd, .events = POLLIN};
            if (left <= 0)
                return TL_ETIMEOUT;
            int r = poll(&pf, 1, left > INT32_MAX ? INT32_MAX : (int)left);
            if (r < 0 && errno == EINTR)
                continue;
            if (r == 0)
                return TL_ETIMEOUT;
            if (r < 0)
                return TL_EIO;
        }
        ssize_t got = recv(fd, q, n, 0);

        if (got > 0) {
            q += got;
            n -= (size_t)got;
        } else if (got == 0) {
            return TL_EIO;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return TL_ETIMEOUT;
        } else {
            return TL_EIO;
        }
    }
    return 0;
}

int
pgw_read_exact(int fd, void *p, size_t n)
{
    return pgw_read_until(fd, p, n, 0);
}

/* Wait until @fd is ready for @events, no later than @deadline_ms (0:
 * no limit). 0, TL_ETIMEOUT, or TL_EIO. */
static int
wait_fd(int fd, short events, int64_t deadline_ms)
{
    for (;;) {
        int timeout = -1;
        if (deadline_ms > 0) {
            int64_t left = deadline_ms - now_ms();
            if (left <= 0)
                return TL_ETIMEOUT;
            timeout = left > INT32_MAX ? INT32_MAX : (int)left;
        }
        struct pollfd pf = {.fd = fd, .events = events};
        int r = poll(&pf, 1, timeout);
        if (r > 0)
            return 0; /* ready, or an error the next call reports */
        if (r == 0)
            return TL_ETIMEOUT;
        if (errno != EINTR)
            return TL_EIO;
    }
}

/* The transport: up to @n bytes of the connection's stream into @p, from
 * the socket or through TLS. Waits no later than @deadline_ms (0: none)
 * for the first byte. The number of bytes (> 0), or TL_EIO (end of
 * stream, error), or TL_ETIMEOUT. */
static ssize_t
conn_recv(struct pgw_conn *c, void *p, size_t n, int64_t deadline_ms)
{
    if (c->ssl == NULL) {
        for (;;) {
            if (deadline_ms > 0) {
                int rv = wait_fd(c->fd, POLLIN, deadline_ms);
                if (rv != 0)
                    return rv;
            }
            ssize_t got = recv(c->fd, p, n, 0);
            if (got > 0)
                return got;
            if (got == 0)
                return TL_EIO;
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return TL_ETIMEOUT;
            return TL_EIO;
        }
    }
    /* TLS: the socket is non-blocking; OpenSSL says what it waits for. */
    for (;;) {
        int got = SSL_read(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
        if (got > 0)
            return got;
        int e = SSL_get_error(c->ssl, got);
        int rv;
        if (e == SSL_ERROR_WANT_READ)
            rv = wait_fd(c->fd, POLLIN, deadline_ms);
        else if (e == SSL_ERROR_WANT_WRITE)
            rv = wait_fd(c->fd, POLLOUT, deadline_ms);
        else
            rv = TL_EIO; /* close_notify, reset, or a TLS error */
        if (rv != 0) {
            ERR_clear_error();
            if (rv == TL_EIO)
                c->broken = c->broken || e != SSL_ERROR_ZERO_RETURN;
            return rv;
        }
    }
}

/* Write all @n bytes of @p to the connection: 0, or TL_EIO. */
static int
conn_send(struct pgw_conn *c, const uint8_t *p, size_t n)
{
    while (n > 0) {
        if (c->ssl == NULL) {
            ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);
            if (k > 0) {
                p += k;
                n -= (size_t)k;
            } else if (k < 0 && errno == EINTR) {
                continue;
            } else {
                tl_debug(MOD, "event=write_failed fd=%d error=\"%s\"", c->fd,
                         k < 0 ? strerror(errno) : "short write");
                return TL_EIO;
            }
            continue;
        }
        int k = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
        if (k > 0) {
            p += k;
            n -= (size_t)k;
            continue;
        }
        int e = SSL_get_error(c->ssl, k);
        int rv = TL_EIO;
        if (e == SSL_ERROR_WANT_WRITE)
            rv = wait_fd(c->fd, POLLOUT, 0);
        else if (e == SSL_ERROR_WANT_READ)
            rv = wait_fd(c->fd, POLLIN, 0);
        if (rv != 0) {
            tl_debug(MOD, "event=write_failed fd=%d error=\"tls error %d\"",
                     c->fd, e);
            ERR_clear_error();
            return TL_EIO;
        }
    }
    return 0;
}

/* Read @n bytes of the stream of @c into @p: first what was read ahead,
 * then from the transport (waiting for each part no later than
 * @deadline_ms, 0: none), reading ahead whatever else has arrived when
 * @n is small. Errors as pgw_read_until(). */
static int
read_buffered(struct pgw_conn *c, void *p, size_t n, int64_t deadline_ms)
{
    uint8_t *q = p;
    while (n > 0) {
        if (c->in_off < c->in_len) {
            size_t k = c->in_len - c->in_off;
            if (k > n)
                k = n;
            memcpy(q, c->in + c->in_off, k);
            c->in_off += k;
            q += k;
            n -= k;
            continue;
        }
        c->in_off = c->in_len = 0;
        ssize_t got;
        if (n >= sizeof(c->in)) {
            got = conn_recv(c, q, n, deadline_ms);
            if (got < 0)
                return (int)got;
            q += got;
            n -= (size_t)got;
            continue;
        }
        got = conn_recv(c, c->in, sizeof(c->in), deadline_ms);
        if (got < 0)
            return (int)got;
        c->in_len = (size_t)got;
    }
    return 0;
}

int
pgw_read_conn(struct pgw_conn *c, void *p, size_t n, int64_t deadline_ms)
{
    return read_buffered(c, p, n, deadline_ms);
}

bool
pgw_has_pending(const struct pgw_conn *c)
{
    return c->in_off < c->in_len || (c->ssl != NULL && SSL_pending(c->ssl) > 0);
}

/* The tls-server-end-point channel binding data of @cert (RFC 5929
 * section 4.1): its hash with the digest of its signature algorithm,
 * SHA-256 for MD5 and SHA-1. 0 or -1. */
static int
end_point_hash(X509 *cert, uint8_t *out, size_t *len)
{
    int md_nid, pk_nid;
    const EVP_MD *md = NULL;
    unsigned int n = 0;
    if (!OBJ_find_sigid_algs(X509_get_signature_nid(cert), &md_nid, &pk_nid))
        return -1;
    if (md_nid == NID_md5 || md_nid == NID_sha1 || md_nid == NID_undef)
        md = EVP_sha256();
    else
        md = EVP_get_digestbynid(md_nid);
    if (md == NULL || EVP_MD_get_size(md) > 64 ||
        X509_digest(cert, md, out, &n) != 1)
        return -1;
    *len = n;
    return 0;
}

int
pgw_start_tls(struct pgw_conn *c, struct tls_server *t, int64_t deadline_ms,
              char *why, size_t why_len)
{
    int flags = fcntl(c->fd, F_GETFL);
    snprintf(why, why_len, "handshake failed");
    assert(c->ssl == NULL && c->in_off == c->in_len);
    if (flags < 0 || fcntl(c->fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        snprintf(why, why_len, "fcntl: %s", strerror(errno));
        return TL_EIO;
    }
    c->ssl = tls_server_new_ssl(t);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
        snprintf(why, why_len, "out of memory");
        return TL_ENOMEM;
    }
    for (;;) {
        int r = SSL_accept(c->ssl);
        if (r == 1)
            break;
        int e = SSL_get_error(c->ssl, r);
        int rv = TL_EIO;
        if (e == SSL_ERROR_WANT_READ)
            rv = wait_fd(c->fd, POLLIN, deadline_ms);
        else if (e == SSL_ERROR_WANT_WRITE)
            rv = wait_fd(c->fd, POLLOUT, deadline_ms);
        if (rv != 0) {
            unsigned long err = ERR_peek_error();
            if (rv == TL_ETIMEOUT)
                snprintf(why, why_len, "handshake timed out");
            else if (err != 0)
                ERR_error_string_n(err, why, why_len);
            ERR_clear_error();
            c->broken = true; /* no close_notify on a failed handshake */
            return rv;
        }
    }
    X509 *cert = SSL_get_certificate(c->ssl); /* borrowed */
    if (cert == NULL || end_point_hash(cert, c->cbind, &c->cbind_len) != 0)
        c->cbind_len = 0;
    return 0;
}

int
pgw_read_message(struct pgw_conn *c, char *type, struct tl_buf *payload)
{
    uint8_t hdr[5];
    uint32_t left;
    int64_t deadline = 0;
    int rv;

    if (payload->cap > KEEP_CAP)
        tl_buf_close(payload);
    tl_buf_reset(payload);
    /* Idle between messages costs nothing and may last; once a message
     * has begun, all of it must arrive within message_timeout_ms, so a
     * client that stops halfway does not pin its buffer forever. */
    rv = read_buffered(c, hdr, 1, 0);
    if (rv != 0)
        return rv;
    /* The rest was read ahead with the first byte: no clock to read. */
    if (c->message_timeout_ms > 0 && c->in_len - c->in_off < sizeof(hdr) - 1)
        deadline = now_ms() + c->message_timeout_ms;
    rv = read_buffered(c, hdr + 1, sizeof(hdr) - 1, deadline);
    if (rv != 0)
        return rv;
    rv = pgw_parse_header(hdr, type, &left);
    if (rv != 0)
        return rv;
    while (left > 0) {
        uint32_t n = left < READ_CHUNK ? left : READ_CHUNK;

        if (deadline == 0 && c->message_timeout_ms > 0 &&
            c->in_len - c->in_off < n)
            deadline = now_ms() + c->message_timeout_ms;
        rv = read_buffered(c, tl_buf_reserve(payload, n), n, deadline);
        if (rv != 0)
            return rv;
        payload->len += n;
        left -= n;
    }
    return 0;
}

/* ---- socket output ---------------------------------------------------- */

int
pgw_flush(struct pgw_conn *c)
{
    if (c->broken)
        return TL_EIO;
    if (c->out.len > 0 && conn_send(c, c->out.data, c->out.len) != 0) {
        c->broken = true;
        tl_buf_close(&c->out);
        return TL_EIO;
    }
    if (c->out.cap > KEEP_CAP)
        tl_buf_close(&c->out);
    tl_buf_reset(&c->out);
    return 0;
}

static void
store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Start a message of @type; returns the offset of its length word. */
static size_t
begin_message(struct pgw_conn *c, char type)
{
    size_t at;

    tl_buf_append_u8(&c->out, (uint8_t)type);
    at = c->out.len;
    tl_buf_append_be32(&c->out, 0);
    return at;
}

/* Patch the length word at @at and flush if the buffer grew large. */
static void
end_message(struct pgw_conn *c, size_t at)
{
    store_be32(c->out.data + at, (uint32_t)(c->out.len - at));
    if (c->out.len >= PGW_FLUSH_AT)
        pgw_flush(c);
}

void
pgw_send_ssl_refusal(struct pgw_conn *c)
{
    if (c->broken)
        return;
    tl_buf_append_u8(&c->out, 'N');
}

void
pgw_send_ssl_accept(struct pgw_conn *c)
{
    if (c->broken)
        return;
    tl_buf_append_u8(&c->out, 'S');
}

void
pgw_send_auth_sasl(struct pgw_conn *c, bool plus)
{
    if (c->broken)
        return;
    size_t at = begin_message(c, 'R');
    tl_buf_append_be32(&c->out, 10);
    /* Preferred first, as PostgreSQL lists them. */
    if (plus)
        tl_buf_append(&c->out, "SCRAM-SHA-256-PLUS", 19);
    tl_buf_append(&c->out, "SCRAM-SHA-256", 14);
    tl_buf_append_u8(&c->out, 0);
    end_message(c, at);
}

void
pgw_send_auth_sasl_data(struct pgw_conn *c, bool final, const void *p,
                        size_t len)
{
    if (c->broken)
        return;
    size_t at = begin_message(c, 'R');
    tl_buf_append_be32(&c->out, final ? 12 : 11);
    tl_buf_append(&c->out, p, len);
    end_message(c, at);
}

void
pgw_send_auth_ok(struct pgw_conn *c)
{
    size_t at;

    if (c->broken)
        return;
    at = begin_message(c, 'R');
    tl_buf_append_be32(&c->out, 0);
    end_message(c, at);
}

void
pgw_send_backend_key_data(struct pgw_conn *c)
{
    size_t at;

    if (c->broken)
        return;
    at = begin_message(c, 'K');
    tl_buf_append_be32(&c->out, c->backend_pid);
    tl_buf_append_be32(&c->out, c->backend_secret);
    end_message(c, at);
}

void
pgw_send_negotiate_version(struct pgw_conn *c, uint32_t newest_minor)
{
    size_t at;

    if (c->broken)
        return;
    at = begin_message(c, 'v');
    tl_buf_append_be32(&c->out, (3u << 16) | newest_minor);
    tl_buf_append_be32(&c->out, 0);
    end_message(c, at);
}

void
pgw_encode_row_description(struct tl_buf *out, const struct pgw_field *f,
                           size_t n)
{
    assert(n <= UINT16_MAX);
    tl_buf_append_u8(out, 'T');
    size_t at = out->len;
    tl_buf_append_be32(out, 0);
    tl_buf_append_be16(out, (uint16_t)n);
    for (size_t i = 0; i < n; i++) {
        tl_buf_append_cstr(out, f[i].name);
        tl_buf_append_be32(out, 0); /* table oid */
        tl_buf_append_be16(out, 0); /* column attnum */
        tl_buf_append_be32(out, tl_type_oid(f[i].type));
        tl_buf_append_be16(out, (uint16_t)tl_type_len(f[i].type));
        int32_t typmod = f[i].typmod;
        if ((f[i].type == TL_TYPE_VARCHAR || f[i].type == TL_TYPE_BPCHAR) &&
            typmod >= 0)
            typmod += 4; /* VARHDRSZ */
        tl_buf_append_be32(out, (uint32_t)typmod);
        tl_buf_append_be16(out, (uint16_t)f[i].format);
    }
    store_be32(out->data + at, (uint32_t)(out->len - at));
}

void
pgw_send_row_description(struct pgw_conn *c, const struct pgw_field *f,
                         size_t n)
{
    if (c->broken)
        return;
    pgw_encode_row_description(&c->out, f, n);
    if (c->out.len >= PGW_FLUSH_AT)
        pgw_flush(c);
}

/* Append one DataRow message of @v in @formats to @out. */
void
pgw_encode_data_row(struct tl_buf *out, const struct tl_value *v, size_t n,
                    const int16_t *formats)
{
    assert(n <= UINT16_MAX);
    tl_buf_append_u8(out, 'D');
    size_t at = out->len;
    tl_buf_append_be32(out, 0);
    tl_buf_append_be16(out, (uint16_t)n);
    for (size_t i = 0; i < n; i++) {
        if (v[i].is_null) {
            tl_buf_append_be32(out, UINT32_MAX); /* -1 */
            continue;
        }
        /* Write the value straight into the output, then its length. */
        size_t len_at = out->len;
        tl_buf_append_be32(out, 0);
        if (formats != NULL && formats[i] == 1)
            pgw_value_to_binary(&v[i], out);
        else
            tl_value_to_text(&v[i], out);
        store_be32(out->data + len_at, (uint32_t)(out->len - len_at - 4));
    }
    store_be32(out->data + at, (uint32_t)(out->len - at));
}

void
pgw_send_data_row_fmt(struct pgw_conn *c, const struct tl_value *v, size_t n,
                      const int16_t *formats)
{
    if (c->broken)
        return;
    pgw_encode_data_row(&c->out, v, n, formats);
    if (c->out.len >= PGW_FLUSH_AT)
        pgw_flush(c);
}

void
pgw_send_data_row(struct pgw_conn *c, const struct tl_value *v, size_t n)
{
    pgw_send_data_row_fmt(c, v, n, NULL);
}

void
pgw_send_raw(struct pgw_conn *c, const void *p, size_t len)
{
    if (c->broken)
        return;
    tl_buf_append(&c->out, p, len);
    if (c->out.len >= PGW_FLUSH_AT)
        pgw_flush(c);
}

/* A message with no body. */
static void
send_empty(struct pgw_conn *c, char type)
{
    if (c->broken)
        return;
    end_message(c, begin_message(c, type));
}

void
pgw_send_parse_complete(struct pgw_conn *c)
{
    send_empty(c, '1');
}

void
pgw_send_bind_complete(struct pgw_conn *c)
{
    send_empty(c, '2');
}

void
pgw_send_close_complete(struct pgw_conn *c)
{
    send_empty(c, '3');
}

void
pgw_send_no_data(struct pgw_conn *c)
{
    send_empty(c, 'n');
}

void
pgw_send_portal_suspended(struct pgw_conn *c)
{
    send_empty(c, 's');
}

/* CopyInResponse ('G') or CopyOutResponse ('H'): overall format @format,
 * @n columns in the same format (PostgreSQL's ReceiveCopyBegin()). */
static void
send_copy_response(struct pgw_conn *c, char type, size_t n, int16_t format)
{
    assert(n <= UINT16_MAX);
    assert(format == 0 || format == 1);
    if (c->broken)
        return;
    size_t at = begin_message(c, type);
    tl_buf_append_u8(&c->out, (uint8_t)format);
    tl_buf_append_be16(&c->out, (uint16_t)n);
    for (size_t i = 0; i < n; i++)
        tl_buf_append_be16(&c->out, (uint16_t)format);
    end_message(c, at);
}

void
pgw_send_copy_in_response(struct pgw_conn *c, size_t n, int16_t format)
{
    send_copy_response(c, 'G', n, format);
}

void
pgw_send_copy_out_response(struct pgw_conn *c, size_t n, int16_t format)
{
    send_copy_response(c, 'H', n, format);
}

void
pgw_send_copy_data(struct pgw_conn *c, const void *p, size_t len)
{
    if (c->broken)
        return;
    size_t at = begin_message(c, 'd');
    tl_buf_append(&c->out, p, len);
    end_message(c, at);
}

void
pgw_send_copy_done(struct pgw_conn *c)
{
    send_empty(c, 'c');
}

void
pgw_send_parameter_description(struct pgw_conn *c, const uint32_t *oids,
                               size_t n)
{
    assert(n <= UINT16_MAX);
    if (c->broken)
        return;
    size_t at = begin_message(c, 't');
    tl_buf_append_be16(&c->out, (uint16_t)n);
    for (size_t i = 0; i < n; i++)
        tl_buf_append_be32(&c->out, oids[i]);
    end_message(c, at);
}

void
pgw_send_command_complete(struct pgw_conn *c, const char *tag)
{
    size_t at;

    if (c->broken)
        return;
    at = begin_message(c, 'C');
    tl_buf_append_cstr(&c->out, tag);
    end_message(c, at);
}

void
pgw_send_empty_query(struct pgw_conn *c)
{
    if (c->broken)
        return;
    end_message(c, begin_message(c, 'I'));
}

static void
append_field(struct tl_buf *b, char code, const char *value)
{
    tl_buf_append_u8(b, (uint8_t)code);
    tl_buf_append_cstr(b, value);
}

/* ErrorResponse ('E') or NoticeResponse ('N') with fields S, V, C, M and
 * D, H, P when set. A report without a SQLSTATE gets XX000 (internal
 * error) for errors, 00000 (or 01000 for a warning) for notices. */
static void
send_report(struct pgw_conn *c, char type, const char *severity,
            const struct tl_error *e)
{
    const char *code = e->sqlstate;
    size_t at;

    if (c->broken)
        return;
    if (code[0] == '\0') {
        if (type == 'E')
            code = TL_SQLSTATE_INTERNAL_ERROR;
        else
            code = strcmp(severity, "WARNING") == 0
                       ? TL_SQLSTATE_WARNING
                       : TL_SQLSTATE_SUCCESSFUL_COMPLETION;
    }
    at = begin_message(c, type);
    append_field(&c->out, 'S', severity);
    append_field(&c->out, 'V', severity);
    append_field(&c->out, 'C', code);
    append_field(&c->out, 'M', e->message);
    if (e->detail[0] != '\0')
        append_field(&c->out, 'D', e->detail);
    if (e->hint[0] != '\0')
        append_field(&c->out, 'H', e->hint);
    if (e->position > 0) {
        char pos[16];

        snprintf(pos, sizeof(pos), "%d", e->position);
        append_field(&c->out, 'P', pos);
    }
    if (e->context[0] != '\0')
        append_field(&c->out, 'W', e->context);
    if (e->table[0] != '\0') {
        append_field(&c->out, 's', "public");
        append_field(&c->out, 't', e->table);
    }
    if (e->constraint[0] != '\0')
        append_field(&c->out, 'n', e->constraint);
    tl_buf_append_u8(&c->out, 0);
    end_message(c, at);
}

void
pgw_send_error(struct pgw_conn *c, const struct tl_error *e)
{
    send_report(c, 'E', "ERROR", e);
}

void
pgw_send_fatal(struct pgw_conn *c, const struct tl_error *e)
{
    send_report(c, 'E', "FATAL", e);
}

void
pgw_send_notice(struct pgw_conn *c, const struct tl_error *e, bool warning)
{
    send_report(c, 'N', warning ? "WARNING" : "NOTICE", e);
}

void
pgw_send_parameter_status(struct pgw_conn *c, const char *name,
                          const char *value)
{
    size_t at;

    if (c->broken)
        return;
    at = begin_message(c, 'S');
    tl_buf_append_cstr(&c->out, name);
    tl_buf_append_cstr(&c->out, value);
    end_message(c, at);
}

void
pgw_send_ready(struct pgw_conn *c, char status)
{
    size_t at;

    if (c->broken)
        return;
    at = begin_message(c, 'Z');
    tl_buf_append_u8(&c->out, (uint8_t)status);
    end_message(c, at);
}

/* ------------------------------------------------ values, binary format */

void
pgw_value_to_binary(const struct tl_value *v, struct tl_buf *out)
{
    switch (v->type) {
    case TL_TYPE_BOOL:
        tl_buf_append_u8(out, v->u.b ? 1 : 0);
        break;
    case TL_TYPE_INT2:
        tl_buf_append_be16(out, (uint16_t)(int16_t)v->u.i);
        break;
    case TL_TYPE_INT4:
    case TL_TYPE_DATE:
        tl_buf_append_be32(out, (uint32_t)(int32_t)v->u.i);
        break;
    case TL_TYPE_INT8:
    case TL_TYPE_TIMESTAMP:
    case TL_TYPE_TIMESTAMPTZ:
        tl_buf_append_be64(out, (uint64_t)v->u.i);
        break;
    case TL_TYPE_FLOAT4: {
        float f = (float)v->u.f;
        uint32_t bits;
        memcpy(&bits, &f, sizeof(bits));
        tl_buf_append_be32(out, bits);
        break;
    }
    case TL_TYPE_FLOAT8: {
        uint64_t bits;
        memcpy(&bits, &v->u.f, sizeof(bits));
        tl_buf_append_be64(out, bits);
        break;
    }
    case TL_TYPE_NUMERIC:
        tl_numeric_to_binary(v, out);
        break;
    case TL_TYPE_JSONB: /* jsonb_send: a version number, then the text */
        tl_buf_append_u8(out, 1);
        tl_buf_append(out, v->u.s.p, v->u.s.len);
        break;
    case TL_TYPE_INTERVAL: /* interval_send */
        tl_buf_append_be64(out, (uint64_t)v->u.iv.time);
        tl_buf_append_be32(out, (uint32_t)v->u.iv.day);
        tl_buf_append_be32(out, (uint32_t)v->u.iv.month);
        break;
    default: /* text, varchar, bpchar, unknown, uuid (16 bytes), bytea,
                json (its text) */
        tl_buf_append(out, v->u.s.p, v->u.s.len);
        break;
    }
}

int
pgw_value_from_binary(uint8_t type, const uint8_t *p, size_t len,
                      struct tl_arena *a, struct tl_value *out,
                      struct tl_error *err)
{
    /* The binary form of a fixed-length type is its typlen bytes. */
    int16_t want = tl_type_len(type);
    if (want > 0 && len != (size_t)want)
        return tl_error_set(err, TL_EINVAL,
                            TL_SQLSTATE_INVALID_BINARY_REPRESENTATION,
                            "incorrect binary data format");
    switch (type) {
    case TL_TYPE_BOOL:
        *out = tl_value_bool(p[0] != 0);
        break;
    case TL_TYPE_INT2:
        *out = tl_value_int(type, (int16_t)tl_load_be16(p));
        break;
    case TL_TYPE_INT4:
    case TL_TYPE_DATE:
        *out = tl_value_int(type, (int32_t)tl_load_be32(p));
        break;
    case TL_TYPE_INT8:
    case TL_TYPE_TIMESTAMP:
    case TL_TYPE_TIMESTAMPTZ:
        *out = tl_value_int(type, (int64_t)tl_load_be64(p));
        break;
    case TL_TYPE_FLOAT4: {
        uint32_t bits = tl_load_be32(p);
        float f;
        memcpy(&f, &bits, sizeof(f));
        *out = tl_value_float4(f);
        break;
    }
    case TL_TYPE_FLOAT8: {
        uint64_t bits = tl_load_be64(p);
        double d;
        memcpy(&d, &bits, sizeof(d));
        *out = tl_value_float(d);
        break;
    }
    case TL_TYPE_NUMERIC:
        return tl_numeric_from_binary(p, len, -1, a, out, err);
    case TL_TYPE_JSON: /* json_recv: the text, checked */
        return tl_json_in(type, (const char *)p, len, a, out, err);
    case TL_TYPE_JSONB: /* jsonb_recv: version 1, then the text */
        if (len < 1 || p[0] != 1)
            return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_INTERNAL_ERROR,
                                "unsupported jsonb version number %d",
                                len < 1 ? 0 : (int)p[0]);
        return tl_json_in(type, (const char *)p + 1, len - 1, a, out, err);
    case TL_TYPE_INTERVAL: { /* interval_recv */
        struct tl_interval iv = {.time = (int64_t)tl_load_be64(p),
                                 .day = (int32_t)tl_load_be32(p + 8),
                                 .month = (int32_t)tl_load_be32(p + 12)};
        *out = tl_value_interval(&iv);
        break;
    }
    default:
        *out = tl_value_text(type, (const char *)p, (uint32_t)len);
        break;
    }
    return 0;
}

/* ------------------------------------------------------ reading messages */

static int
short_message(struct tl_error *err)
{
    return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                        "insufficient data left in message");
}

int
pgw_get_int16(struct pgw_reader *r, int16_t *out, struct tl_error *err)
{
    if (r->len - r->off < 2)
        return short_message(err);
    *out = (int16_t)tl_load_be16(r->p + r->off);
    r->off += 2;
    return 0;
}

int
pgw_get_int32(struct pgw_reader *r, int32_t *out, struct tl_error *err)
{
    if (r->len - r->off < 4)
        return short_message(err);
    *out = (int32_t)tl_load_be32(r->p + r->off);
    r->off += 4;
    return 0;
}

int
pgw_get_cstring(struct pgw_reader *r, const char **out, struct tl_error *err)
{
    const uint8_t *s = r->p + r->off;
    const uint8_t *nul = memchr(s, '\0', r->len - r->off);
    if (nul == NULL)
        return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                            "invalid string in message");
    *out = (const char *)s;
    r->off += (size_t)(nul - s) + 1;
    return 0;
}

int
pgw_get_bytes(struct pgw_reader *r, size_t n, const uint8_t **out,
              struct tl_error *err)
{
    if (r->len - r->off < n)
        return short_message(err);
    *out = r->p + r->off;
    r->off += n;
    return 0;
}

int
pgw_get_end(struct pgw_reader *r, struct tl_error *err)
{
    if (r->off != r->len)
        return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                            "invalid message format");
    return 0;
}
