/* The wire layer's TLS transport (router/wire/tls.h, pgw_start_tls()):
 * messages a client pipelines in one TLS record are read one by one and
 * replies come back through TLS; the channel binding data are the hash of
 * the certificate the client saw; a client that never finishes the
 * handshake costs no more than the deadline; a key that does not match
 * the certificate is refused, and a failed reload keeps the old context.
 * The certificate is made here with OpenSSL's API. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "router/wire/pgwire.h"
#include "router/wire/tls.h"
#include "tl_error.h"

static char dir[64];
static char cert_path[128], key_path[128], other_key_path[128];

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
write_key(EVP_PKEY *k, const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
}

/* A self-signed P-256 certificate and its key, and another key. */
static int
setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/talus-tls-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(cert_path, sizeof(cert_path), "%s/server.crt", dir);
    snprintf(key_path, sizeof(key_path), "%s/server.key", dir);
    snprintf(other_key_path, sizeof(other_key_path), "%s/other.key", dir);
    EVP_PKEY *k = EVP_EC_gen("P-256");
    EVP_PKEY *other = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(x, name);
    if (X509_sign(x, k, EVP_sha256()) == 0)
        return -1;
    FILE *f = fopen(cert_path, "w");
    PEM_write_X509(f, x);
    fclose(f);
    write_key(k, key_path);
    write_key(other, other_key_path);
    X509_free(x);
    EVP_PKEY_free(k);
    EVP_PKEY_free(other);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    unlink(cert_path);
    unlink(key_path);
    unlink(other_key_path);
    rmdir(dir);
    return 0;
}

struct client {
    int fd;
    uint8_t cbind[64]; /* sha256 of the certificate the client saw */
    uint8_t reply[64];
    int n_reply;
    int ok;
};

/* A TLS client: handshake, then a Parse-less pipeline of two messages in
 * one SSL_write, then read what the server answers. */
static void *
run_client(void *p)
{
    struct client *cl = p;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, cl->fd);
    if (SSL_connect(ssl) == 1) {
        X509 *peer = SSL_get1_peer_certificate(ssl);
        unsigned int n = 0;
        X509_digest(peer, EVP_sha256(), cl->cbind, &n);
        X509_free(peer);
        /* 'Q' "SELECT 1" and 'S' (Sync) in one record. */
        uint8_t msgs[] = {'Q', 0,   0,   0, 13,  'S', 'E', 'L', 'E', 'C',
                          'T', ' ', '1', 0, 'S', 0,   0,   0,   4};
        if (SSL_write(ssl, msgs, sizeof(msgs)) == (int)sizeof(msgs)) {
            cl->n_reply = SSL_read(ssl, cl->reply, sizeof(cl->reply));
            cl->ok = 1;
        }
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return NULL;
}

/* Pipelined messages come out one by one through TLS, the reply goes
 * back, and the channel binding data match the client's view. */
static void
test_messages_through_tls(void **state)
{
    (void)state;
    char err[256];
    struct tls_server *t;
    assert_int_equal(
        tls_server_create(cert_path, key_path, NULL, &t, err, sizeof(err)), 0);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct client cl = {.fd = sv[1]};
    pthread_t th;
    pthread_create(&th, NULL, run_client, &cl);

    struct pgw_conn c;
    pgw_conn_init(&c, sv[0]);
    char why[256];
    assert_int_equal(pgw_start_tls(&c, t, now_ms() + 5000, why, sizeof(why)),
                     0);
    assert_non_null(c.ssl);
    assert_int_equal(c.cbind_len, 32);

    struct tl_buf payload;
    char type;
    tl_buf_init(&payload);
    assert_int_equal(pgw_read_message(&c, &type, &payload), 0);
    assert_int_equal(type, 'Q');
    assert_int_equal(payload.len, 9);
    assert_memory_equal(payload.data, "SELECT 1", 9);
    /* The Sync came in the same record: already here, poll() would not
     * see it. */
    assert_true(pgw_has_pending(&c));
    assert_int_equal(pgw_read_message(&c, &type, &payload), 0);
    assert_int_equal(type, 'S');
    pgw_send_ready(&c, 'I');
    assert_int_equal(pgw_flush(&c), 0);
    pthread_join(th, NULL);
    assert_int_equal(cl.ok, 1);
    assert_int_equal(cl.n_reply, 6);
    assert_memory_equal(cl.reply, "Z\0\0\0\5I", 6);
    assert_memory_equal(c.cbind, cl.cbind, 32);
    tl_buf_close(&payload);
    pgw_conn_close(&c);
    close(sv[1]);
    tls_server_destroy(t);
}

/* A client that connects and never sends its ClientHello is given up on
 * at the deadline. */
static void
test_silent_handshake_times_out(void **state)
{
    (void)state;
    char err[256], why[256];
    struct tls_server *t;
    assert_int_equal(
        tls_server_create(cert_path, key_path, NULL, &t, err, sizeof(err)), 0);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct pgw_conn c;
    pgw_conn_init(&c, sv[0]);
    int64_t start = now_ms();
    assert_int_equal(pgw_start_tls(&c, t, start + 200, why, sizeof(why)),
                     TL_ETIMEOUT);
    assert_true(now_ms() - start < 2000);
    assert_string_equal(why, "handshake timed out");
    pgw_conn_close(&c);
    close(sv[1]);
    tls_server_destroy(t);
}

/* A key that is not the certificate's is refused; a reload with it fails
 * and the old context stays in use. */
static void
test_bad_key_and_reload(void **state)
{
    (void)state;
    char err[512];
    struct tls_server *t;
    assert_int_equal(tls_server_create(cert_path, other_key_path, NULL, &t, err,
                                       sizeof(err)),
                     TL_EINVAL);
    assert_non_null(strstr(err, "private key")); /* OpenSSL: mismatch */
    assert_int_equal(
        tls_server_create(cert_path, key_path, NULL, &t, err, sizeof(err)), 0);
    assert_int_equal(tls_server_reload(t, err, sizeof(err)), 0);
    /* Swap the key file for the other key: the reload fails. */
    char saved[128];
    snprintf(saved, sizeof(saved), "%s/saved.key", dir);
    assert_int_equal(rename(key_path, saved), 0);
    assert_int_equal(link(other_key_path, key_path), 0);
    assert_int_equal(tls_server_reload(t, err, sizeof(err)), TL_EINVAL);
    unlink(key_path);
    assert_int_equal(rename(saved, key_path), 0);
    SSL *ssl = tls_server_new_ssl(t);
    assert_non_null(ssl);
    SSL_free(ssl);
    tls_server_destroy(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_messages_through_tls),
        cmocka_unit_test(test_silent_handshake_times_out),
        cmocka_unit_test(test_bad_key_and_reload),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
