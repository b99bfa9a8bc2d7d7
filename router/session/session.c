/* session — the per-connection loop of a router: startup, then each
 * message handed to the traffic cop (tcop.h).
 *
 * Message handling follows PostgreSQL's PostgresMain()/SocketBackend(): an
 * extended-protocol message that fails gets one ErrorResponse and the
 * rest up to Sync is skipped; an unknown type or
 * a bad length cannot be recovered from (the stream can no longer be
 * framed), so it is answered with FATAL and the connection closed. */
#include "router/session/session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/base/sqlstate.h"
#include "log.h"
#include "router/core/router.h"
#include "router/core/router_metrics.h"
#include "router/session/auth.h"
#include "router/session/backends.h"
#include "router/session/tcop.h"
#include "router/wire/pgwire.h"
#include "router/wire/tls.h"

#define MOD "session"

/* Backend "process ids" handed out in BackendKeyData: unique per router
 * process, never 0. */
static atomic_uint_fast32_t next_backend_pid = 1;

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t
make_secret(void)
{
    uint32_t v;

    if (getrandom(&v, sizeof(v), 0) == (ssize_t)sizeof(v))
        return v;
    /* getrandom() only fails before the entropy pool is initialised;
     * a cancel secret is then merely hard to guess, not unguessable. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)ts.tv_nsec ^ (uint32_t)(uintptr_t)&v;
}

static void
format_peer(int fd, char *out, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;

    snprintf(out, size, "unknown");
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
    } else {
        snprintf(out, size, "local");
        return;
    }
    snprintf(out, size, "%s:%u", host, port);
}

/* Read startup-phase packets until a StartupMessage or CancelRequest,
 * answering one SSLRequest and one GSSENCRequest on the way (a second one
 * is a protocol violation, as in PostgreSQL), all by @deadline_ms (0: no
 * limit). An SSLRequest gets 'S' and the TLS handshake when @tls is set
 * (the rest of the startup then comes through TLS), else 'N'; a
 * GSSENCRequest always 'N'. 0 with *@st filled; TL_EIO when the client
 * went away or the handshake failed, or TL_ETIMEOUT when it was too slow
 * (nothing to report); any other code with @err holding the FATAL to
 * send. */
static int
read_startup(struct pgw_conn *c, struct tls_server *tls, const char *peer,
             struct tl_buf *pkt, struct pgw_startup *st, struct tl_error *err,
             int64_t deadline_ms)
{
    bool ssl_done = false;
    bool gss_done = false;
    int rv;

    for (;;) {
        uint8_t lenw[4];
        uint32_t len;

        rv = pgw_read_conn(c, lenw, sizeof(lenw), deadline_ms);
        if (rv != 0)
            return rv;
        len = tl_load_be32(lenw);
        rv = pgw_check_startup_length(len, err);
        if (rv != 0)
            return rv;
        tl_buf_reset(pkt);
        tl_buf_append(pkt, lenw, sizeof(lenw));
        rv = pgw_read_conn(c, tl_buf_reserve(pkt, len - 4), len - 4,
                           deadline_ms);
        if (rv != 0)
            return rv;
        pkt->len += len - 4;
        rv = pgw_parse_startup(pkt->data, pkt->len, st, err);
        if (rv != 0)
            return rv;
        if (st->code == PGW_SSL_REQUEST_CODE && !ssl_done) {
            ssl_done = true;
        } else if (st->code == PGW_GSSENC_REQUEST_CODE && !gss_done) {
            gss_done = true;
        } else if (st->code == PGW_SSL_REQUEST_CODE ||
                   st->code == PGW_GSSENC_REQUEST_CODE) {
            return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                                "unsupported frontend protocol %u.%u: "
                                "server supports 3.0 to 3.0",
                                st->code >> 16, st->code & 0xffff);
        } else {
            return 0;
        }
        if (st->code == PGW_SSL_REQUEST_CODE && tls != NULL) {
            /* Bytes behind the SSLRequest would be read as if they came
             * through TLS: refused, as PostgreSQL does (CVE-2021-23214). */
            if (pgw_has_pending(c))
                return tl_error_set(err, TL_EPROTO,
                                    TL_SQLSTATE_PROTOCOL_VIOLATION,
                                    "received unencrypted data after SSL "
                                    "request");
            char why[256];
            pgw_send_ssl_accept(c);
            rv = pgw_flush(c);
            if (rv == 0)
                rv = pgw_start_tls(c, tls, deadline_ms, why, sizeof(why));
            if (rv != 0) {
                tl_info(MOD, "event=tls_failed peer=%s error=\"%s\"", peer,
                        rv == 0 ? "write failed" : why);
                return rv == TL_ETIMEOUT ? TL_ETIMEOUT : TL_EIO;
            }
            continue;
        }
        pgw_send_ssl_refusal(c);
        rv = pgw_flush(c);
        if (rv != 0)
            return rv;
    }
}

/* Everything a client expects between the StartupMessage and the first
 * ReadyForQuery (PostgreSQL sends the same parameters, GUC_REPORT). */
static void
send_welcome(struct pgw_conn *c, const struct pgw_startup *st)
{
    if ((st->code & 0xffff) != 0)
        pgw_send_negotiate_version(c, 0);
    pgw_send_auth_ok(c); /* after the SASL exchange, if there was one */
    pgw_send_parameter_status(c, "application_name", c->application_name);
    pgw_send_parameter_status(c, "client_encoding", "UTF8");
    pgw_send_parameter_status(c, "DateStyle", "ISO, MDY");
    pgw_send_parameter_status(c, "integer_datetimes", "on");
    pgw_send_parameter_status(c, "IntervalStyle", "postgres");
    pgw_send_parameter_status(c, "is_superuser", c->superuser ? "on" : "off");
    pgw_send_parameter_status(c, "server_encoding", "UTF8");
    pgw_send_parameter_status(c, "server_version", "15.0");
    pgw_send_parameter_status(c, "session_authorization", c->user);
    pgw_send_parameter_status(c, "standard_conforming_strings", "on");
    pgw_send_parameter_status(c, "TimeZone", "UTC");
    pgw_send_backend_key_data(c);
    pgw_send_ready(c, 'I');
}

/* Send FATAL @sqlstate @msg on @c (counted in @r's metrics) and flush. */
static void
send_fatal(struct router *r, struct pgw_conn *c, int rv, const char *sqlstate,
           const char *msg)
{
    struct tl_error err;

    router_metrics_error(r, sqlstate);
    tl_error_set(&err, rv, sqlstate, "%s", msg);
    pgw_send_fatal(c, &err);
    pgw_flush(c);
}

/* A Query body is one string: exactly one NUL, at the end. */
static bool
is_cstring(const struct tl_buf *b)
{
    return b->len > 0 && memchr(b->data, '\0', b->len) == b->data + b->len - 1;
}

/* Wait up to @timeout_ms for the client's next message to begin: 0 when
 * it did (or is already buffered), TL_ETIMEOUT when it did not. */
static int
wait_for_message(struct pgw_conn *c, int64_t timeout_ms)
{
    if (pgw_has_pending(c))
        return 0;
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return TL_ETIMEOUT;
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
        if (n > 0)
            return 0; /* data, EOF or an error: the read tells */
        if (pgw_has_pending(c))
            return 0;
        if (n < 0 && errno != EINTR)
            return 0;
    }
}

/* Serve messages until the client leaves. Returns the reason, for the
 * disconnect log line. */
static const char *
serve(struct router *r, struct pgw_conn *c, atomic_bool *cancel)
{
    struct tcop *tc = tcop_create(r, c, cancel);
    struct tl_buf payload;
    bool skipping = false; /* after an extended-protocol error, until Sync */
    char status = 'I';
    bool ready = false; /* the last message sent was ReadyForQuery */
    const char *why;
    struct tl_error err;

    tl_buf_init(&payload);
    for (;;) {
        char type;
        /* idle_in_transaction_session_timeout runs from ReadyForQuery in
         * an open block to the next message, as in PostgreSQL. */
        int64_t idle_ms = ready && status != 'I' ? tcop_idle_timeout_ms(tc) : 0;
        if (idle_ms > 0 && wait_for_message(c, idle_ms) == TL_ETIMEOUT) {
            send_fatal(r, c, TL_ETIMEOUT,
                       TL_SQLSTATE_IDLE_IN_TRANSACTION_SESSION_TIMEOUT,
                       "terminating connection due to idle-in-transaction "
                       "timeout");
            tl_info(MOD,
                    "event=idle_in_transaction_timeout pid=%u "
                    "timeout_ms=%lld",
                    c->backend_pid, (long long)idle_ms);
            why = "idle_in_transaction_timeout";
            goto out;
        }
        int rv = pgw_read_message(c, &type, &payload);
        ready = false;

        if (rv == TL_EPROTO) {
            send_fatal(r, c, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                       "invalid message length");
            why = "bad_length";
            goto out;
        }
        if (rv != 0) {
            why = rv == TL_ETIMEOUT ? "message_timeout" : "eof";
            goto out;
        }
        switch (type) {
        case 'Q':
            if (skipping)
                continue;
            if (!is_cstring(&payload)) {
                send_fatal(r, c, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                           "invalid message format");
                why = "bad_query_message";
                goto out;
            }
            /* A cancel that arrived while idle is forgotten, as in
             * PostgreSQL: it was meant for a statement already over. */
            atomic_store(cancel, false);
            status = tcop_simple_query(tc, (const char *)payload.data);
            pgw_send_ready(c, status);
            ready = true;
            break;
        case 'X':
            why = "terminate";
            goto out;
        case 'S':
            skipping = false;
            status = tcop_sync(tc);
            pgw_send_ready(c, status);
            ready = true;
            break;
        case 'H':
            /* Flush: send what is buffered (the error while skipping). */
            break;
        case 'P':
        case 'B':
        case 'D':
        case 'E':
        case 'C':
            if (skipping)
                continue;
            if (type == 'P' || type == 'B')
                atomic_store(cancel, false);
            if (tcop_extended(tc, type, payload.data, payload.len) != 0)
                skipping = true;
            /* As PostgreSQL, answers are flushed at Sync or Flush (or when
             * the buffer passes PGW_FLUSH_AT), not after each message. */
            continue;
        case 'F':
            /* FunctionCall is answered like a failed simple query: the
             * client waits for ReadyForQuery, not for a Sync of its own. */
            if (skipping)
                continue;
            tl_error_set(&err, TL_EUNSUPPORTED,
                         TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                         "function call protocol is not supported");
            tl_error_hint(&err, "use the simple query protocol");
            router_metrics_error(r, err.sqlstate);
            pgw_send_error(c, &err);
            status = tcop_fail(tc);
            pgw_send_ready(c, status);
            ready = true;
            break;
        case 'd':
        case 'c':
        case 'f':
            /* CopyData/CopyDone/CopyFail outside COPY: ignored, as
             * PostgreSQL does (they may trail a COPY that failed). */
            continue;
        default: {
            char msg[64];

            snprintf(msg, sizeof(msg), "invalid frontend message type %d",
                     (int)(unsigned char)type);
            send_fatal(r, c, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION, msg);
            why = "bad_message_type";
            goto out;
        }
        }
        if (pgw_flush(c) != 0) {
            why = "write_failed";
            goto out;
        }
    }
out:
    tl_buf_close(&payload);
    tcop_destroy(tc);
    return why;
}

/* Answer a CancelRequest (the connection carries nothing else and gets
 * no reply, as in PostgreSQL): a matching key cancels that session's
 * running statement, a wrong one does nothing. */
static void
handle_cancel(struct router *r, const struct pgw_startup *st, const char *peer)
{
    bool found =
        r->backends != NULL &&
        backends_cancel(r->backends, st->cancel_pid, st->cancel_secret);
    tl_info(MOD, "event=cancel_request peer=%s pid=%u matched=%s", peer,
            st->cancel_pid, found ? "true" : "false");
}

static void run(struct router *r, struct backend *be, bool reject);

void
session_run(struct router *r, int fd, bool reject)
{
    struct backend be;

    memset(&be, 0, sizeof(be));
    be.fd = fd;
    atomic_init(&be.cancel, false);
    if (r->backends != NULL && !reject)
        backends_start(r->backends, &be);
    run(r, &be, reject);
}

void
session_run_started(struct router *r, struct backend *be)
{
    run(r, be, false);
}

/* The session of @be (registered as starting unless @reject). */
static void
run(struct router *r, struct backend *be, bool reject)
{
    struct pgw_conn c;
    struct pgw_startup st;
    struct tl_buf pkt;
    struct tl_error err;
    char peer[INET6_ADDRSTRLEN + 8];
    const char *why = "eof";
    int fd = be->fd;
    int rv;

    pgw_conn_init(&c, fd);
    tl_buf_init(&pkt);
    tl_error_clear(&err);
    format_peer(fd, peer, sizeof(peer));
    tl_debug(MOD, "event=connect peer=%s", peer);

    /* The whole startup phase, authentication included, ends by this
     * (PostgreSQL's authentication_timeout). */
    int64_t deadline = r->limits.startup_timeout_ms > 0
                           ? now_ms() + r->limits.startup_timeout_ms
                           : 0;
    rv = read_startup(&c, r->tls, peer, &pkt, &st, &err, deadline);
    tl_buf_close(&pkt);
    if (rv != 0) {
        if (tl_error_is_set(&err)) {
            router_metrics_error(r, err.sqlstate);
            pgw_send_fatal(&c, &err);
            pgw_flush(&c);
            why = "bad_startup";
            tl_info(MOD,
                    "event=startup_rejected peer=%s sqlstate=%s "
                    "error=\"%s\"",
                    peer, err.sqlstate, err.message);
        } else if (rv == TL_ETIMEOUT) {
            /* PostgreSQL logs nothing for a silent connection either,
             * but one line helps to see a flood of them. */
            why = "startup_timeout";
            tl_info(MOD, "event=startup_timeout peer=%s timeout_ms=%d", peer,
                    r->limits.startup_timeout_ms);
        }
        goto done;
    }
    if (st.code == PGW_CANCEL_REQUEST_CODE) {
        handle_cancel(r, &st, peer);
        why = "cancel_request";
        goto done;
    }
    if (reject) {
        send_fatal(r, &c, TL_EUNAVAILABLE, TL_SQLSTATE_TOO_MANY_CONNECTIONS,
                   "sorry, too many clients already");
        why = "too_many_clients";
        goto done;
    }

    memcpy(c.user, st.user, sizeof(c.user));
    memcpy(c.database, st.database, sizeof(c.database));
    memcpy(c.application_name, st.application_name, sizeof(c.application_name));
    c.backend_pid = (uint32_t)atomic_fetch_add(&next_backend_pid, 1);
    c.backend_secret = make_secret();
    c.message_timeout_ms = r->limits.message_timeout_ms;
    be->pid = c.backend_pid;
    be->secret = c.backend_secret;
    struct auth_result auth;
    rv = auth_client(r, &c, deadline, &auth, &err);
    if (rv != 0) {
        if (tl_error_is_set(&err)) {
            pgw_send_fatal(&c, &err);
            pgw_flush(&c);
        }
        why = rv == TL_ETIMEOUT ? "startup_timeout" : "auth_failed";
        goto done;
    }
    if (r->backends != NULL &&
        backends_admit_role(
            r->backends, be, c.user, auth.has_role && auth.role.superuser,
            auth.has_role ? auth.role.conn_limit : -1, &err) != 0) {
        router_metrics_error(r, err.sqlstate);
        pgw_send_fatal(&c, &err);
        pgw_flush(&c);
        why = "too_many_clients";
        goto done;
    }
    /* Without a table (unit tests) everyone is the superuser, as before
     * there was one. */
    c.superuser = r->backends == NULL || be->superuser;
    send_welcome(&c, &st);
    if (pgw_flush(&c) != 0) {
        why = "write_failed";
        goto done;
    }
    tl_debug(MOD,
             "event=session_start peer=%s pid=%u user=%s database=%s "
             "auth=%s tls=%s",
             peer, c.backend_pid, c.user, c.database,
             auth.method != NULL ? auth.method : "none",
             c.ssl != NULL ? "true" : "false");
    why = serve(r, &c, &be->cancel);
    if (strcmp(why, "message_timeout") == 0)
        tl_info(MOD, "event=message_timeout peer=%s pid=%u timeout_ms=%d", peer,
                c.backend_pid, c.message_timeout_ms);

done:
    /* Out of the table before the fd closes: an eviction only ever shuts
     * down the socket of a linked backend. */
    if (r->backends != NULL)
        backends_leave(r->backends, be);
    tl_debug(MOD, "event=disconnect peer=%s pid=%u reason=%s", peer,
             c.backend_pid, why);
    pgw_conn_close(&c);
}
