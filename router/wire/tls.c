/* tls — the router's TLS server context. */
#include "router/wire/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tl_error.h"

#define MOD "tls"

struct tls_server {
    pthread_mutex_t mu; /* guards ctx */
    SSL_CTX *ctx;
    char *cert, *key, *ca; /* owned copies of the paths */
};

/* The first error in OpenSSL's queue, for a message; clears the queue. */
static const char *
ssl_error_text(char *buf, size_t len)
{
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0)
        return "unknown error";
    ERR_error_string_n(e, buf, len);
    return buf;
}

/* A context from the files of @t, or NULL with @errbuf filled. */
static SSL_CTX *
make_ctx(const struct tls_server *t, char *errbuf, size_t errlen)
{
    char e[256];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL) {
        snprintf(errbuf, errlen, "cannot create a TLS context: %s",
                 ssl_error_text(e, sizeof(e)));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* As PostgreSQL: no session cache, no tickets; every connection
     * proves the certificate anew. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(ctx, t->cert) != 1) {
        snprintf(errbuf, errlen,
                 "could not load server certificate file "
                 "\"%s\": %s",
                 t->cert, ssl_error_text(e, sizeof(e)));
        goto err;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, t->key, SSL_FILETYPE_PEM) != 1) {
        snprintf(errbuf, errlen, "could not load private key file \"%s\": %s",
                 t->key, ssl_error_text(e, sizeof(e)));
        goto err;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(errbuf, errlen,
                 "check of private key \"%s\" failed: it does not match the "
                 "certificate \"%s\"",
                 t->key, t->cert);
        ERR_clear_error();
        goto err;
    }
    if (t->ca != NULL) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(t->ca);
        if (SSL_CTX_load_verify_locations(ctx, t->ca, NULL) != 1 ||
            names == NULL) {
            snprintf(errbuf, errlen,
                     "could not load root certificate file \"%s\": %s", t->ca,
                     ssl_error_text(e, sizeof(e)));
            if (names != NULL)
                sk_X509_NAME_pop_free(names, X509_NAME_free);
            goto err;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    return ctx;

err:
    SSL_CTX_free(ctx);
    return NULL;
}

int
tls_server_create(const char *cert, const char *key, const char *ca,
                  struct tls_server **out, char *errbuf, size_t errlen)
{
    struct tls_server *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return TL_ENOMEM;
    }
    pthread_mutex_init(&t->mu, NULL);
    t->cert = strdup(cert);
    t->key = strdup(key);
    t->ca = ca != NULL && ca[0] != '\0' ? strdup(ca) : NULL;
    if (t->cert == NULL || t->key == NULL ||
        (ca != NULL && ca[0] != '\0' && t->ca == NULL)) {
        snprintf(errbuf, errlen, "out of memory");
        tls_server_destroy(t);
        return TL_ENOMEM;
    }
    t->ctx = make_ctx(t, errbuf, errlen);
    if (t->ctx == NULL) {
        tls_server_destroy(t);
        return TL_EINVAL;
    }
    *out = t;
    return 0;
}

int
tls_server_reload(struct tls_server *t, char *errbuf, size_t errlen)
{
    SSL_CTX *ctx = make_ctx(t, errbuf, errlen);
    if (ctx == NULL)
        return TL_EINVAL;
    pthread_mutex_lock(&t->mu);
    SSL_CTX *old = t->ctx;
    t->ctx = ctx;
    pthread_mutex_unlock(&t->mu);
    SSL_CTX_free(old); /* SSLs made from it hold their own reference */
    tl_info(MOD, "event=tls_reloaded cert=%s key=%s", t->cert, t->key);
    return 0;
}

struct ssl_st *
tls_server_new_ssl(struct tls_server *t)
{
    pthread_mutex_lock(&t->mu);
    SSL *ssl = SSL_new(t->ctx);
    pthread_mutex_unlock(&t->mu);
    return ssl;
}

void
tls_server_destroy(struct tls_server *t)
{
    if (t == NULL)
        return;
    SSL_CTX_free(t->ctx);
    free(t->cert);
    free(t->key);
    free(t->ca);
    pthread_mutex_destroy(&t->mu);
    free(t);
}
