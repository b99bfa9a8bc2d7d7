/* auth — client authentication: rules, SCRAM-SHA-256, LOGIN. */
#include "router/session/auth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "auth_rule.h"
#include "common/base/sqlstate.h"
#include "log.h"
#include "router/core/roles.h"
#include "scram.h"

#define MOD "auth"

/* A SASL message larger than this is not SCRAM. */
#define AUTH_MAX_MESSAGE 4096

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The client's address into @ss and its host as text into @host. */
static void
peer_address(int fd, struct sockaddr_storage *ss, char *host, size_t len)
{
    socklen_t sl = sizeof(*ss);
    memset(ss, 0, sizeof(*ss));
    snprintf(host, len, "[local]");
    if (getpeername(fd, (struct sockaddr *)ss, &sl) != 0)
        return;
    if (ss->ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)ss)->sin_addr, host,
                  (socklen_t)len);
    else if (ss->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ss)->sin6_addr, host,
                  (socklen_t)len);
}

/* Read the client's next message into @type/@payload, its first byte by
 * @deadline_ms. 0, TL_EIO, TL_ETIMEOUT, or TL_EPROTO (bad framing). */
static int
read_message(struct pgw_conn *c, int64_t deadline_ms, char *type,
             struct tl_buf *payload)
{
    while (deadline_ms > 0 && !pgw_has_pending(c)) {
        int64_t left = deadline_ms - now_ms();
        if (left <= 0)
            return TL_ETIMEOUT;
        struct pollfd pf = {.fd = c->fd, .events = POLLIN};
        int n = poll(&pf, 1, left > INT32_MAX ? INT32_MAX : (int)left);
        if (n > 0)
            break;
        if (n < 0 && errno != EINTR)
            return TL_EIO;
    }
    return pgw_read_message(c, type, payload);
}

/* The 28000 of a connection no rule lets in. */
static int
no_rule(struct tl_error *err, const char *verb, const char *host,
        const struct pgw_conn *c)
{
    return tl_error_set(err, TL_EINVAL,
                        TL_SQLSTATE_INVALID_AUTHORIZATION_SPECIFICATION,
                        "%s for host \"%s\", user \"%s\", database \"%s\", %s",
                        verb, host, c->user, c->database,
                        c->ssl != NULL ? "SSL encryption" : "no encryption");
}

static int
scram_failed(struct tl_error *err, const struct scram_server *s)
{
    const char *why = s->why != NULL ? s->why : "malformed SCRAM message";
    if (strcmp(why, "channel binding check failed") == 0)
        return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                            "SCRAM channel binding check failed");
    if (strcmp(why, "nonce mismatch") == 0) {
        tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                     "invalid SCRAM response");
        tl_error_detail(err, "Nonce does not match.");
        return TL_EPROTO;
    }
    if (strcmp(why, "unknown SASL mechanism") == 0)
        return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                            "client selected an invalid SASL authentication "
                            "mechanism");
    tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                 "malformed SCRAM message");
    tl_error_detail(err, "%s.", why);
    return TL_EPROTO;
}

/* The SCRAM exchange for @c against @role (NULL: mock). 0 when the
 * client proved the password. */
static int
run_scram(struct router *r, struct pgw_conn *c, const struct tl_role *role,
          int64_t deadline_ms, const char **why, struct tl_error *err)
{
    struct scram_verifier v;
    bool mock = role == NULL || role->verifier[0] == '\0' ||
                scram_verifier_parse(role->verifier, &v) != 0;
    struct scram_server s;
    struct tl_buf payload, out;
    char type;
    int rv;

    if (mock) {
        /* The cluster's secret, so that every router offers an unknown
         * role the same salt; this process's own only when the meta group
         * cannot say (the exchange fails anyway). */
        uint8_t secret[32];
        struct tl_error scratch;
        tl_error_clear(&scratch);
        if (r->roles == NULL || roles_mock_secret(r, secret, &scratch) != 0) {
            if (r->roles != NULL)
                tl_warn(MOD, "event=mock_secret_unavailable error=\"%s\"",
                        scratch.message);
            memcpy(secret, r->auth_secret, sizeof(secret));
        }
        scram_mock_verifier(secret, c->user, &v);
    }
    scram_server_init(&s, &v, c->cbind_len > 0 ? c->cbind : NULL, c->cbind_len,
                      NULL);
    s.mock = mock;
    tl_buf_init(&payload);
    tl_buf_init(&out);
    *why =
        mock ? (role == NULL ? "no such role" : "role has no password") : NULL;

    pgw_send_auth_sasl(c, c->cbind_len > 0);
    rv = pgw_flush(c);
    if (rv != 0)
        goto out;
    /* SASLInitialResponse: mechanism, length (-1: none), data. */
    rv = read_message(c, deadline_ms, &type, &payload);
    if (rv == TL_EPROTO || (rv == 0 && type != 'p')) {
        rv = tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                          "expected SASL response, got message type %d",
                          rv == 0 ? (int)(unsigned char)type : 0);
        goto out;
    }
    if (rv != 0)
        goto out;
    struct pgw_reader rd = {.p = payload.data, .len = payload.len};
    const char *mech;
    int32_t len;
    const uint8_t *data;
    if (payload.len > AUTH_MAX_MESSAGE ||
        pgw_get_cstring(&rd, &mech, err) != 0 ||
        pgw_get_int32(&rd, &len, err) != 0 || len < 0 ||
        pgw_get_bytes(&rd, (size_t)len, &data, err) != 0 ||
        pgw_get_end(&rd, err) != 0) {
        tl_error_clear(err);
        rv = tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                          "malformed SASL message");
        goto out;
    }
    rv = scram_server_first(&s, mech, data, (size_t)len, &out);
    if (rv != 0) {
        rv = scram_failed(err, &s);
        *why = s.why;
        goto out;
    }
    pgw_send_auth_sasl_data(c, false, out.data, out.len);
    rv = pgw_flush(c);
    if (rv != 0)
        goto out;
    /* SASLResponse: the client-final-message. */
    rv = read_message(c, deadline_ms, &type, &payload);
    if (rv == TL_EPROTO || (rv == 0 && type != 'p')) {
        rv = tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                          "expected SASL response, got message type %d",
                          rv == 0 ? (int)(unsigned char)type : 0);
        goto out;
    }
    if (rv != 0)
        goto out;
    if (payload.len > AUTH_MAX_MESSAGE) {
        rv = tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                          "malformed SASL message");
        goto out;
    }
    tl_buf_reset(&out);
    rv = scram_server_final(&s, payload.data, payload.len, &out);
    if (rv == TL_EAUTH) {
        if (*why == NULL)
            *why = s.why;
        rv = tl_error_set(err, TL_EAUTH, TL_SQLSTATE_INVALID_PASSWORD,
                          "password authentication failed for user \"%s\"",
                          c->user);
        goto out;
    }
    if (rv != 0) {
        rv = scram_failed(err, &s);
        *why = s.why;
        goto out;
    }
    pgw_send_auth_sasl_data(c, true, out.data, out.len);
out:
    tl_buf_close(&payload);
    tl_buf_close(&out);
    scram_server_close(&s);
    return rv;
}

int
auth_client(struct router *r, struct pgw_conn *c, int64_t deadline_ms,
            struct auth_result *out, struct tl_error *err)
{
    struct sockaddr_storage ss;
    char host[INET6_ADDRSTRLEN];
    const char *why = NULL;
    int rv;

    memset(out, 0, sizeof(*out));
    peer_address(c->fd, &ss, host, sizeof(host));
    if (r->cfg.ssl_mode == TL_SSL_REQUIRED && c->ssl == NULL) {
        rv = no_rule(err, "no auth rule", host, c);
        tl_error_detail(err, "The router requires TLS (ssl = required).");
        why = "tls required";
        goto failed;
    }
    const struct tl_auth_rule *rule =
        tl_auth_rule_match(r->cfg.auth_rules, r->cfg.n_auth_rules,
                           (const struct sockaddr *)&ss, c->user);
    if (rule == NULL) {
        rv = no_rule(err, "no auth rule", host, c);
        why = "no rule";
        goto failed;
    }
    out->method = tl_auth_method_name(rule->method);
    if (rule->method == TL_AUTH_REJECT) {
        rv = no_rule(err, "auth rules reject connection", host, c);
        why = "rule rejects";
        goto failed;
    }

    struct tl_error lookup;
    tl_error_clear(&lookup);
    rv = r->roles != NULL ? roles_get(r, c->user, &out->role, &lookup)
                          : TL_ENOTFOUND;
    out->has_role = rv == 0;
    if (rv != 0 && rv != TL_ENOTFOUND) {
        if (rule->method == TL_AUTH_SCRAM) {
            /* No verifier to check against: the client cannot be let in,
             * and should try again. */
            *err = lookup;
            why = "roles unavailable";
            goto failed;
        }
        tl_warn(MOD, "event=roles_unavailable user=%s error=\"%s\"", c->user,
                lookup.message);
    }
    if (rule->method == TL_AUTH_SCRAM) {
        rv = run_scram(r, c, out->has_role ? &out->role : NULL, deadline_ms,
                       &why, err);
        if (rv == TL_EIO || rv == TL_ETIMEOUT)
            return rv;
        if (rv != 0)
            goto failed;
    }
    if (out->has_role && !out->role.login) {
        rv = tl_error_set(err, TL_EINVAL,
                          TL_SQLSTATE_INVALID_AUTHORIZATION_SPECIFICATION,
                          "role \"%s\" is not permitted to log in", c->user);
        why = "nologin";
        goto failed;
    }
    return 0;

failed:
    tl_info(MOD,
            "event=auth_failed host=%s user=%s database=%s method=%s "
            "tls=%s reason=\"%s\"",
            host, c->user, c->database,
            out->method != NULL ? out->method : "none",
            c->ssl != NULL ? "true" : "false", why != NULL ? why : "unknown");
    return rv;
}
