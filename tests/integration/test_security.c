/* Client security of the router, as PostgreSQL clients see it: roles in
 * the catalog (CREATE/ALTER/DROP ROLE with PostgreSQL's errors, pg_roles),
 * SCRAM-SHA-256 with psql and libpq (right password in, wrong password and
 * unknown role both 28P01 with the same message after a full exchange,
 * NOLOGIN 28000, CONNECTION LIMIT 53300), TLS with sslmode require,
 * verify-ca and verify-full against a CA made here with the openssl CLI
 * (a wrong CA refused), channel binding (channel_binding=require), a
 * certificate reload on SIGHUP, and ssl = required refusing a plain
 * connection.
 *
 * The cluster file trusts talus, test and shardctl on loopback (the
 * harness and the admin connection) and asks everyone else for SCRAM. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/base/sqlstate.h"
#include "harness.h"
#include "scram.h"

static struct th_cluster cluster;
static char certs[64];
static PGconn *admin;

static int
sh(const char *cmd)
{
    char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
    return th_run(argv, "/dev/null");
}

/* A CA, a server certificate it signs for localhost and 127.0.0.1, and
 * another CA that signed nothing. */
static int
make_certs(void)
{
    snprintf(certs, sizeof(certs), "/tmp/talus-certs-XXXXXX");
    if (mkdtemp(certs) == NULL)
        return -1;
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "set -e; cd %s; "
             "K='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'; "
             "openssl req -x509 $K -keyout ca.key -out ca.crt -days 30 "
             "  -subj '/CN=Talus test CA'; "
             "openssl req $K -keyout server.key -out server.csr "
             "  -subj '/CN=localhost'; "
             "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext; "
             "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key "
             "  -CAcreateserial -out server.crt -days 30 -extfile san.ext; "
             "openssl req -x509 $K -keyout wrong.key -out wrong.crt -days 30 "
             "  -subj '/CN=Wrong CA'; "
             "chmod 600 server.key",
             certs);
    return sh(cmd) == 0 ? 0 : -1;
}

static int
setup(void **state)
{
    (void)state;
    static char extra[1024];
    if (make_certs() != 0)
        return -1;
    snprintf(extra, sizeof(extra),
             "ssl = on\n"
             "ssl_cert_file = %s/server.crt\n"
             "ssl_key_file = %s/server.key\n"
             "auth.10 = trust 127.0.0.1/32 talus\n"
             "auth.20 = trust 127.0.0.1/32 test\n"
             "auth.30 = trust 127.0.0.1/32 shardctl\n"
             "auth.40 = reject 127.0.0.1/32 mallory\n"
             "auth.50 = scram-sha-256 all all\n",
             certs, certs);
    struct th_options o = {.n_nodes = 1,
                           .n_shards = 2,
                           .router_config = true,
                           .extra_conf = extra};
    if (th_cluster_start(&cluster, &o) != 0)
        return -1;
    char conninfo[256];
    snprintf(conninfo, sizeof(conninfo),
             "host=127.0.0.1 port=%u user=talus dbname=talus sslmode=disable",
             th_router_port(&cluster));
    admin = PQconnectdb(conninfo);
    return PQstatus(admin) == CONNECTION_OK ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    char cmd[128];
    PQfinish(admin);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", certs);
    sh(cmd);
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

/* Connect with @extra conninfo (user, password, sslmode...): the
 * connection, or NULL with the FATAL's text in @msg. */
static PGconn *
try_connect(const char *extra, char *msg, size_t len)
{
    char conninfo[1024];
    snprintf(conninfo, sizeof(conninfo),
             "host=127.0.0.1 port=%u dbname=talus connect_timeout=10 %s",
             th_router_port(&cluster), extra);
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) == CONNECTION_OK)
        return c;
    const char *e = PQerrorMessage(c);
    const char *m = strstr(e, "FATAL:  ");
    snprintf(msg, len, "%s", m != NULL ? m + 8 : e);
    msg[strcspn(msg, "\n")] = '\0';
    PQfinish(c);
    return NULL;
}

/* Connect with @extra and expect success; returns current_user. */
static void
assert_login(const char *extra, const char *user, bool tls)
{
    char msg[512];
    PGconn *c = try_connect(extra, msg, sizeof(msg));
    if (c == NULL)
        fail_msg("connect %s: %s", extra, msg);
    PGresult *r = th_exec(c, "SELECT current_user");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), user);
    PQclear(r);
    assert_int_equal(PQsslInUse(c), tls ? 1 : 0);
    PQfinish(c);
}

static void
assert_refused(const char *extra, const char *want)
{
    char msg[512];
    PGconn *c = try_connect(extra, msg, sizeof(msg));
    if (c != NULL) {
        PQfinish(c);
        fail_msg("connect %s succeeded", extra);
    }
    if (strstr(msg, want) == NULL)
        fail_msg("connect %s: got \"%s\", want \"%s\"", extra, msg, want);
}

/* CREATE/ALTER/DROP ROLE fail with PostgreSQL's SQLSTATEs and messages,
 * and pg_roles shows the roles without their passwords. */
static void
test_role_ddl(void **state)
{
    (void)state;
    assert_true(th_ok(admin, "CREATE ROLE alice LOGIN PASSWORD 'secret'"));
    assert_true(th_ok(admin, "CREATE USER bob PASSWORD 'bobpw' "
                             "CONNECTION LIMIT 1"));
    assert_true(th_ok(admin, "CREATE ROLE carol PASSWORD 'carolpw'"));
    assert_string_equal(th_sqlstate(admin, "CREATE ROLE alice"), "42710");
    PGresult *r = PQexec(admin, "CREATE USER alice");
    assert_string_equal(PQresultErrorMessage(r),
                        "ERROR:  role \"alice\" already exists\n");
    PQclear(r);
    assert_string_equal(th_sqlstate(admin, "ALTER ROLE nobody LOGIN"), "42704");
    assert_string_equal(th_sqlstate(admin, "DROP ROLE nobody"), "42704");
    assert_string_equal(th_sqlstate(admin, "DROP ROLE IF EXISTS nobody"), "");
    assert_string_equal(th_sqlstate(admin, "CREATE ROLE pg_x"), "42939");
    assert_string_equal(th_sqlstate(admin, "CREATE ROLE x CONNECTION LIMIT -5"),
                        "22023");
    assert_string_equal(
        th_sqlstate(admin, "CREATE ROLE x SUPERUSER NOSUPERUSER"), "42601");
    assert_string_equal(th_sqlstate(admin, "CREATE ROLE x CREATEDB"), "0A000");
    assert_string_equal(th_sqlstate(admin,
                                    "CREATE ROLE x PASSWORD "
                                    "'md5a3556571e93b0d20722ba62be61e8c2d'"),
                        "0A000");
    assert_string_equal(th_sqlstate(admin, "DROP ROLE talus_missing, alice"),
                        "42704");
    /* A non-superuser may not create roles. */
    PGconn *t = th_connect(&cluster);
    assert_string_equal(th_sqlstate(t, "CREATE ROLE y"), "42501");
    PQfinish(t);

    r = th_exec(admin, "SELECT rolname, rolsuper, rolcanlogin, rolconnlimit, "
                       "rolpassword FROM pg_roles WHERE rolname IN "
                       "('alice', 'bob', 'carol') ORDER BY rolname");
    assert_int_equal(PQntuples(r), 3);
    assert_string_equal(PQgetvalue(r, 0, 0), "alice");
    assert_string_equal(PQgetvalue(r, 0, 2), "t");
    assert_string_equal(PQgetvalue(r, 0, 3), "-1");
    assert_string_equal(PQgetvalue(r, 0, 4), "********");
    assert_string_equal(PQgetvalue(r, 1, 2), "t"); /* CREATE USER logs in */
    assert_string_equal(PQgetvalue(r, 1, 3), "1");
    assert_string_equal(PQgetvalue(r, 2, 2), "f"); /* CREATE ROLE does not */
    assert_string_equal(PQgetvalue(r, 2, 1), "f");
    PQclear(r);
}

/* The right password logs in with libpq (over TLS by default: sslmode
 * prefer) and without TLS. */
static void
test_scram_libpq(void **state)
{
    (void)state;
    assert_login("user=alice password=secret", "alice", true);
    assert_login("user=alice password=secret sslmode=disable", "alice", false);
}

/* psql with PGPASSWORD logs in and runs a statement. */
static void
test_scram_psql(void **state)
{
    (void)state;
    char conninfo[256], out[PATH_MAX + 16];
    snprintf(conninfo, sizeof(conninfo),
             "host=127.0.0.1 port=%u user=alice dbname=talus sslmode=require",
             th_router_port(&cluster));
    snprintf(out, sizeof(out), "%s/psql.out", cluster.dir);
    setenv("PGPASSWORD", "secret", 1);
    char *argv[] = {"psql", "-X",
                    "-A",   "-t",
                    "-v",   "ON_ERROR_STOP=1",
                    "-d",   conninfo,
                    "-c",   "SELECT current_user",
                    NULL};
    int rv = th_run(argv, out);
    setenv("PGPASSWORD", "wrong", 1);
    int bad = th_run(argv, "/dev/null");
    unsetenv("PGPASSWORD");
    assert_int_equal(rv, 0);
    assert_int_not_equal(bad, 0);
    FILE *f = fopen(out, "r");
    char line[64] = "";
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_string_equal(line, "alice\n");
}

/* ---- a raw SCRAM exchange, to see the SQLSTATE of the refusal ---------- */

static int
tcp_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void
send_msg(int fd, char type, const void *body, size_t len)
{
    uint8_t hdr[5];
    hdr[0] = (uint8_t)type;
    put32(hdr + 1, (uint32_t)len + 4);
    assert_int_equal(send(fd, hdr, 5, 0), 5);
    if (len > 0)
        assert_int_equal(send(fd, body, len, 0), (ssize_t)len);
}

/* The next message: its type, body in @body (NUL-terminated), length. */
static size_t
recv_msg(int fd, char *type, char *body, size_t size)
{
    uint8_t hdr[5];
    assert_int_equal(recv(fd, hdr, 5, MSG_WAITALL), 5);
    *type = (char)hdr[0];
    size_t len = ((size_t)hdr[1] << 24 | (size_t)hdr[2] << 16 |
                  (size_t)hdr[3] << 8 | hdr[4]) -
                 4;
    assert_true(len < size);
    if (len > 0)
        assert_int_equal(recv(fd, body, len, MSG_WAITALL), (ssize_t)len);
    body[len] = '\0';
    return len;
}

/* The value of field @code of ErrorResponse @body (@len bytes). */
static const char *
error_field(const char *body, size_t len, char code)
{
    size_t i = 0;
    while (i < len && body[i] != '\0') {
        if (body[i] == code)
            return body + i + 1;
        i += strlen(body + i) + 1;
    }
    return "";
}

/* A SCRAM exchange as @user with a wrong proof, without TLS, with the
 * router on @port: the refusal's SQLSTATE and message into @ss/@msg, the
 * salt the server offered into @salt. */
static void
raw_scram_fail(uint16_t port, const char *user, char *ss, char *msg, char *salt)
{
    int fd = tcp_connect(port);
    uint8_t pkt[256];
    size_t n = 8;
    put32(pkt + 4, 196608);
    n += (size_t)snprintf((char *)pkt + n, sizeof(pkt) - n, "user") + 1;
    n += (size_t)snprintf((char *)pkt + n, sizeof(pkt) - n, "%s", user) + 1;
    n += (size_t)snprintf((char *)pkt + n, sizeof(pkt) - n, "database") + 1;
    n += (size_t)snprintf((char *)pkt + n, sizeof(pkt) - n, "talus") + 1;
    pkt[n++] = 0;
    put32(pkt, (uint32_t)n);
    assert_int_equal(send(fd, pkt, n, 0), (ssize_t)n);

    char type, body[1024];
    size_t len = recv_msg(fd, &type, body, sizeof(body));
    assert_int_equal(type, 'R');
    assert_int_equal(body[3], 10); /* AuthenticationSASL */
    assert_string_equal(body + 4, "SCRAM-SHA-256");

    const char *first = "n,,n=,r=clientnonce";
    uint8_t init[128];
    size_t k =
        (size_t)snprintf((char *)init, sizeof(init), "SCRAM-SHA-256") + 1;
    put32(init + k, (uint32_t)strlen(first));
    memcpy(init + k + 4, first, strlen(first));
    send_msg(fd, 'p', init, k + 4 + strlen(first));

    len = recv_msg(fd, &type, body, sizeof(body));
    assert_int_equal(type, 'R');
    assert_int_equal(body[3], 11); /* AuthenticationSASLContinue */
    const char *sfirst = body + 4;
    assert_true(strncmp(sfirst, "r=clientnonce", 13) == 0);
    const char *s = strstr(sfirst, ",s=");
    const char *i = strstr(sfirst, ",i=4096");
    assert_non_null(s);
    assert_non_null(i);
    snprintf(salt, 64, "%.*s", (int)(i - s - 3), s + 3);
    char nonce[128];
    snprintf(nonce, sizeof(nonce), "%.*s", (int)(s - sfirst - 2), sfirst + 2);

    char final[256];
    int fl = snprintf(
        final, sizeof(final),
        "c=biws,r=%s,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", nonce);
    send_msg(fd, 'p', final, (size_t)fl);
    len = recv_msg(fd, &type, body, sizeof(body));
    assert_int_equal(type, 'E');
    snprintf(ss, 8, "%s", error_field(body, len, 'C'));
    snprintf(msg, 256, "%s", error_field(body, len, 'M'));
    assert_string_equal(error_field(body, len, 'S'), "FATAL");
    close(fd);
}

/* A wrong password and a role that does not exist fail alike, after the
 * whole exchange: 28P01 "password authentication failed for user "x"",
 * and an unknown role's salt is the same at every attempt and from every
 * router (the secret it comes from is the cluster's). */
static void
test_wrong_password_and_unknown_role(void **state)
{
    (void)state;
    char ss[8], msg[256], salt[64], salt2[64];
    uint16_t port = th_router_port(&cluster);
    raw_scram_fail(port, "alice", ss, msg, salt);
    assert_string_equal(ss, "28P01");
    assert_string_equal(msg, "password authentication failed for user "
                             "\"alice\"");
    raw_scram_fail(port, "nobody", ss, msg, salt);
    assert_string_equal(ss, "28P01");
    assert_string_equal(msg, "password authentication failed for user "
                             "\"nobody\"");
    raw_scram_fail(port, "nobody", ss, msg, salt2);
    assert_string_equal(salt, salt2);
    assert_int_equal(th_router2_start(&cluster), 0);
    raw_scram_fail(cluster.router2_port, "nobody", ss, msg, salt2);
    assert_string_equal(ss, "28P01");
    assert_string_equal(salt, salt2);
    raw_scram_fail(cluster.router2_port, "alice", ss, msg, salt2);
    assert_string_equal(ss, "28P01");
    th_router2_signal(&cluster, SIGTERM);

    assert_refused("user=alice password=wrong",
                   "password authentication failed for user \"alice\"");
    assert_refused("user=nobody password=wrong",
                   "password authentication failed for user \"nobody\"");
    assert_refused("user=mallory password=x sslmode=disable",
                   "auth rules reject connection for host \"127.0.0.1\", "
                   "user \"mallory\", database \"talus\", no encryption");
}

/* A role without LOGIN is refused after a right password (28000); ALTER
 * ROLE ... LOGIN lets it in; a new password replaces the old; a dropped
 * role is an unknown one. */
static void
test_nologin_alter_drop(void **state)
{
    (void)state;
    assert_refused("user=carol password=carolpw",
                   "role \"carol\" is not permitted to log in");
    assert_true(th_ok(admin, "ALTER ROLE carol LOGIN"));
    assert_login("user=carol password=carolpw", "carol", true);
    assert_true(th_ok(admin, "ALTER ROLE carol WITH PASSWORD 'newpw'"));
    assert_refused("user=carol password=carolpw",
                   "password authentication failed for user \"carol\"");
    assert_login("user=carol password=newpw", "carol", true);
    /* A role changes its own password; not its other attributes. */
    char msg[256];
    PGconn *c = try_connect("user=carol password=newpw", msg, sizeof(msg));
    assert_non_null(c);
    assert_string_equal(th_sqlstate(c, "ALTER ROLE carol PASSWORD 'mine'"), "");
    assert_string_equal(th_sqlstate(c, "ALTER ROLE carol SUPERUSER"), "42501");
    assert_string_equal(th_sqlstate(c, "DROP ROLE alice"), "42501");
    PQfinish(c);
    assert_login("user=carol password=mine", "carol", true);
    assert_true(th_ok(admin, "DROP ROLE carol"));
    assert_refused("user=carol password=mine",
                   "password authentication failed for user \"carol\"");
    /* A verifier given as the password is stored as it is. */
    char verifier[SCRAM_VERIFIER_MAX], sql[512];
    assert_int_equal(
        scram_verifier_make("dpw", NULL, 0, 4096, verifier, sizeof(verifier)),
        0);
    snprintf(sql, sizeof(sql), "CREATE ROLE dave LOGIN PASSWORD '%s'",
             verifier);
    assert_true(th_ok(admin, sql));
    assert_login("user=dave password=dpw", "dave", true);
}

/* CONNECTION LIMIT 1: a second session of the role is refused with 53300
 * "too many connections for role "bob""; once the first ends, a new one
 * is let in. */
static void
test_connection_limit(void **state)
{
    (void)state;
    char msg[256];
    PGconn *first = try_connect("user=bob password=bobpw", msg, sizeof(msg));
    if (first == NULL)
        fail_msg("bob: %s", msg);
    assert_refused("user=bob password=bobpw",
                   "too many connections for role \"bob\"");
    PQfinish(first);
    double until = th_now() + 10;
    PGconn *again;
    while ((again = try_connect("user=bob password=bobpw", msg, sizeof(msg))) ==
               NULL &&
           th_now() < until)
        usleep(20 * 1000);
    assert_non_null(again);
    PQfinish(again);
}

/* sslmode require, verify-ca and verify-full succeed with the right CA
 * (verify-full checks 127.0.0.1 and localhost against the certificate's
 * names); a CA that did not sign the certificate is refused. */
static void
test_tls_modes(void **state)
{
    (void)state;
    char extra[512];
    assert_login("user=alice password=secret sslmode=require", "alice", true);
    snprintf(extra, sizeof(extra),
             "user=alice password=secret sslmode=verify-ca "
             "sslrootcert=%s/ca.crt",
             certs);
    assert_login(extra, "alice", true);
    snprintf(extra, sizeof(extra),
             "user=alice password=secret sslmode=verify-full "
             "sslrootcert=%s/ca.crt",
             certs);
    assert_login(extra, "alice", true);
    snprintf(extra, sizeof(extra),
             "user=alice password=secret sslmode=verify-full host=localhost "
             "sslrootcert=%s/ca.crt",
             certs);
    assert_login(extra, "alice", true);
    snprintf(extra, sizeof(extra),
             "user=alice password=secret sslmode=verify-ca "
             "sslrootcert=%s/wrong.crt",
             certs);
    assert_refused(extra, "certificate verify failed");
}

/* channel_binding=require works over TLS (SCRAM-SHA-256-PLUS) and is
 * refused by libpq itself without TLS. */
static void
test_channel_binding(void **state)
{
    (void)state;
    assert_login("user=alice password=secret sslmode=require "
                 "channel_binding=require",
                 "alice", true);
    assert_refused("user=alice password=secret sslmode=disable "
                   "channel_binding=require",
                   "channel binding");
}

/* Connect with @extra until it works, for at most 10 s (a SIGHUP is
 * handled when the router's accept loop sees it). */
static bool
eventually_login(const char *extra)
{
    char msg[512];
    double until = th_now() + 10;
    do {
        PGconn *c = try_connect(extra, msg, sizeof(msg));
        if (c != NULL) {
            PQfinish(c);
            return true;
        }
        usleep(50 * 1000);
    } while (th_now() < until);
    return false;
}

/* SIGHUP reloads the certificate: after the files are replaced by a
 * certificate of another CA, new connections see the new one; putting
 * the old files back and SIGHUP again restores it. */
static void
test_sighup_reload(void **state)
{
    (void)state;
    char cmd[1024], ok_ca[512], ok_wrong[512];
    snprintf(ok_ca, sizeof(ok_ca),
             "user=alice password=secret sslmode=verify-full "
             "sslrootcert=%s/ca.crt",
             certs);
    snprintf(ok_wrong, sizeof(ok_wrong),
             "user=alice password=secret sslmode=verify-full "
             "sslrootcert=%s/wrong.crt",
             certs);
    snprintf(cmd, sizeof(cmd),
             "set -e; cd %s; cp server.crt server.crt.bak; "
             "cp server.key server.key.bak; "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
             "  -nodes -keyout new.key -out new.csr -subj '/CN=localhost'; "
             "openssl x509 -req -in new.csr -CA wrong.crt -CAkey wrong.key "
             "  -CAcreateserial -out new.crt -days 30 -extfile san.ext; "
             "cp new.crt server.crt; cp new.key server.key",
             certs);
    assert_int_equal(sh(cmd), 0);
    th_router_signal(&cluster, SIGHUP);
    assert_true(eventually_login(ok_wrong));
    assert_refused(ok_ca, "certificate verify failed");
    snprintf(cmd, sizeof(cmd),
             "set -e; cd %s; cp server.crt.bak server.crt; "
             "cp server.key.bak server.key",
             certs);
    assert_int_equal(sh(cmd), 0);
    th_router_signal(&cluster, SIGHUP);
    assert_true(eventually_login(ok_ca));
}

/* psql's \du lists the roles of the catalog with their attributes. */
static void
test_psql_du(void **state)
{
    (void)state;
    char conninfo[256], out[PATH_MAX + 16];
    snprintf(conninfo, sizeof(conninfo),
             "host=127.0.0.1 port=%u user=talus dbname=talus",
             th_router_port(&cluster));
    snprintf(out, sizeof(out), "%s/du.out", cluster.dir);
    char *argv[] = {"psql", "-X", "-d", conninfo, "-c", "\\du", NULL};
    assert_int_equal(th_run(argv, out), 0);
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    char text[4096];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_non_null(strstr(text, "alice"));
    assert_non_null(strstr(text, "bob"));
    assert_non_null(strstr(text, "1 connection"));
    assert_non_null(strstr(text, "dave"));
}

/* node-pg (with and without channel binding) and pgjdbc connect with
 * verify-full and SCRAM, and get 28P01 for a wrong password
 * (tests/clients/node/secure_test.js, tests/clients/java/SecureTest.java). */
static void
test_drivers(void **state)
{
    (void)state;
    char port[16], ca[128];
    snprintf(port, sizeof(port), "%u", th_router_port(&cluster));
    snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
    setenv("TALUS_PORT", port, 1);
    setenv("TALUS_CA", ca, 1);
    setenv("TALUS_USER", "alice", 1);
    setenv("TALUS_PASSWORD", "secret", 1);
    char *node[] = {
        "node", TALUS_SOURCE_DIR "/tests/clients/node/secure_test.js", NULL};
    char *java[] = {"java", "-cp", "/usr/share/java/postgresql.jar",
                    TALUS_SOURCE_DIR "/tests/clients/java/SecureTest.java",
                    NULL};
    assert_int_equal(th_run(node, NULL), 0);
    assert_int_equal(th_run(java, NULL), 0);
    unsetenv("TALUS_PASSWORD");
}

/* ssl = required: a connection without TLS is refused with 28000, even
 * for a trusted user; with TLS it is let in. */
static void
test_ssl_required(void **state)
{
    (void)state;
    FILE *f = fopen(cluster.conf, "a");
    assert_non_null(f);
    fputs("ssl = required\n", f);
    fclose(f);
    th_router_signal(&cluster, SIGTERM);
    assert_int_equal(th_router_start(&cluster), 0);
    assert_int_equal(th_wait_ready(&cluster, 60), 0);
    assert_refused("user=talus sslmode=disable",
                   "no auth rule for host \"127.0.0.1\", user \"talus\", "
                   "database \"talus\", no encryption");
    assert_login("user=talus sslmode=require", "talus", true);
    assert_login("user=alice password=secret sslmode=require", "alice", true);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_role_ddl),
        cmocka_unit_test(test_scram_libpq),
        cmocka_unit_test(test_scram_psql),
        cmocka_unit_test(test_wrong_password_and_unknown_role),
        cmocka_unit_test(test_nologin_alter_drop),
        cmocka_unit_test(test_connection_limit),
        cmocka_unit_test(test_tls_modes),
        cmocka_unit_test(test_channel_binding),
        cmocka_unit_test(test_sighup_reload),
        cmocka_unit_test(test_psql_du),
        cmocka_unit_test(test_drivers),
        cmocka_unit_test(test_ssl_required),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
