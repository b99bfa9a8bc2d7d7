/* tls — the router's TLS server context for clients (OpenSSL).
 *
 * One struct tls_server per router: the certificate and key of the
 * cluster file (ssl_cert_file, ssl_key_file) and, when ssl_ca_file is
 * set, the CAs that client certificates are checked against (a client
 * that sends none is still accepted, as PostgreSQL does without
 * clientcert). TLS 1.2 or newer; no session resumption (every connection
 * makes a full handshake, which is what channel binding expects).
 *
 * tls_server_reload() reads the files again (SIGHUP): connections that
 * start afterwards use the new certificate, connections already open keep
 * theirs (each SSL holds a reference to the context it was made from). A
 * reload that fails keeps the old context. Thread-safe. */
#ifndef TL_TLS_H
#define TL_TLS_H

#include <stddef.h>

struct tls_server;
struct ssl_st; /* OpenSSL's SSL */

/** Load @cert (a PEM chain), @key and @ca (may be NULL or "": no client
 * certificates asked) into a new server context *@out. 0, or TL_EINVAL
 * with @errbuf saying which file and why. Release with
 * tls_server_destroy(). */
int tls_server_create(const char *cert, const char *key, const char *ca,
                      struct tls_server **out, char *errbuf, size_t errlen);

/** Read the files of @t again and use them for new connections. 0, or
 * TL_EINVAL with @errbuf filled (the old context stays in use). */
int tls_server_reload(struct tls_server *t, char *errbuf, size_t errlen);

/** A new SSL (server side) from the current context, or NULL when out of
 * memory. The caller frees it (pgw_conn_close() does). */
struct ssl_st *tls_server_new_ssl(struct tls_server *t);

/** Free @t; NULL is a no-op. SSLs made from it stay valid. */
void tls_server_destroy(struct tls_server *t);

#endif
