/* scram — SCRAM-SHA-256 (RFC 5802, RFC 7677) as a PostgreSQL server
 * speaks it: verifiers, and the server side of one exchange.
 *
 * A verifier is what the catalog stores instead of a password, in
 * PostgreSQL's format:
 *
 *     SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
 *
 * salt, StoredKey and ServerKey in base64. SaltedPassword =
 * PBKDF2-HMAC-SHA-256(password, salt, iterations), ClientKey =
 * HMAC(SaltedPassword, "Client Key"), StoredKey = SHA-256(ClientKey),
 * ServerKey = HMAC(SaltedPassword, "Server Key"). Passwords are used as
 * given (no SASLprep: PostgreSQL also falls back to the raw bytes when a
 * password is not valid UTF-8 or prep fails; for ASCII passwords both
 * agree).
 *
 * An exchange (struct scram_server) is two steps: the client-first-message
 * gets the server-first-message, the client-final-message the
 * server-final-message. The server checks that the client's final nonce is
 * the one it answered (client nonce + its own), that the channel binding
 * it echoes is what this connection's gs2 header and TLS certificate
 * hash say, and the proof in constant time. A mock exchange (unknown
 * role) runs the same steps with a verifier derived from a server secret
 * and the user name, so the same user always gets the same salt, and
 * fails at the end exactly as a wrong password does.
 *
 * Used by the router: its wire layer runs exchanges, its SQL layer makes
 * verifiers (CREATE ROLE ... PASSWORD). Pure computation over OpenSSL's
 * libcrypto: no I/O, any thread; one
 * struct scram_server belongs to one connection. */
#ifndef TL_SCRAM_H
#define TL_SCRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define SCRAM_KEY_LEN 32 /* SHA-256 */
#define SCRAM_SALT_LEN 16
#define SCRAM_ITERATIONS 4096
#define SCRAM_NONCE_LEN 18 /* raw bytes of the server's nonce part */
/* A verifier's text is at most this long (with its NUL). */
#define SCRAM_VERIFIER_MAX 256
#define SCRAM_MECH "SCRAM-SHA-256"
#define SCRAM_MECH_PLUS "SCRAM-SHA-256-PLUS"

/* A parsed verifier. */
struct scram_verifier {
    int iterations;
    uint8_t salt[64];
    size_t salt_len;
    uint8_t stored_key[SCRAM_KEY_LEN];
    uint8_t server_key[SCRAM_KEY_LEN];
};

/** Write the verifier of @password (borrowed, NUL-terminated) with @salt
 * (@salt_len bytes, 1..64; NULL: SCRAM_SALT_LEN random bytes) and
 * @iterations into @out (size @size >= SCRAM_VERIFIER_MAX). 0, or
 * TL_EIO when libcrypto fails (no randomness). */
int scram_verifier_make(const char *password, const uint8_t *salt,
                        size_t salt_len, int iterations, char *out,
                        size_t size);

/** Parse verifier text @s into *@v. 0, or TL_EINVAL when @s is not a
 * well-formed SCRAM-SHA-256 verifier (PostgreSQL then stores the string
 * as a password to hash; callers decide). */
int scram_verifier_parse(const char *s, struct scram_verifier *v);

/** Whether @s looks like a verifier (scram_verifier_parse() accepts it).
 * Cannot fail. */
bool scram_is_verifier(const char *s);

/** The mock verifier of @user: salt from HMAC-SHA-256(@secret, user),
 * keys that no password matches. Cannot fail. */
void scram_mock_verifier(const uint8_t secret[SCRAM_KEY_LEN], const char *user,
                         struct scram_verifier *v);

/* Where an exchange stands. */
enum scram_state {
    SCRAM_INIT = 0,   /* waiting for the client-first-message */
    SCRAM_CONTINUE,   /* server-first sent; waiting for client-final */
    SCRAM_DONE_OK,    /* proof verified; server-final written */
    SCRAM_DONE_FAILED /* any failure: the connection is refused */
};

struct scram_server {
    enum scram_state state;
    struct scram_verifier v;
    bool mock; /* no such role (or no verifier): always fails */
    bool tls;  /* the connection is TLS: -PLUS is offered */
    bool plus; /* the client chose SCRAM-SHA-256-PLUS */
    /* tls-server-end-point data: the hash of the server's certificate
     * (RFC 5929), when tls. */
    uint8_t cbind[64];
    size_t cbind_len;
    char gs2_header[128]; /* as the client sent it, "n,," etc. */
    char nonce[160];      /* client nonce + server nonce */
    struct tl_buf client_first_bare;
    struct tl_buf server_first;
    /* Why the exchange failed, for the log (never for the client, who
     * sees only 28P01 or 08P01). */
    const char *why;
};

/** Begin an exchange against verifier @v (copied; NULL: mock, which
 * always fails) for a connection that is TLS when @cbind (the
 * tls-server-end-point hash, @cbind_len bytes, copied) is not NULL.
 * @server_nonce (NULL: SCRAM_NONCE_LEN random bytes, base64) is the
 * server's part of the nonce; tests fix it. Cannot fail; end with
 * scram_server_close(). */
void scram_server_init(struct scram_server *s, const struct scram_verifier *v,
                       const uint8_t *cbind, size_t cbind_len,
                       const char *server_nonce);

/** Free what @s holds. */
void scram_server_close(struct scram_server *s);

/** The SASLInitialResponse: mechanism @mech and the client-first-message
 * @msg (@len bytes). On success appends the server-first-message to @out
 * and returns 0. TL_EPROTO (08P01: malformed message, a mechanism or
 * channel binding the connection does not allow, a reserved extension)
 * otherwise, with s->why set; the exchange is then over. */
int scram_server_first(struct scram_server *s, const char *mech,
                       const uint8_t *msg, size_t len, struct tl_buf *out);

/** The client-final-message @msg (@len bytes). Returns 0 with the
 * server-final-message ("v=...") appended to @out when the proof is right;
 * TL_EAUTH when it is wrong (or the exchange is a mock): the client gets
 * 28P01; TL_EPROTO (08P01) for a malformed message, a nonce that is not
 * the one answered, or channel binding data that do not match this
 * connection. s->why says which. */
int scram_server_final(struct scram_server *s, const uint8_t *msg, size_t len,
                       struct tl_buf *out);

/* ---- primitives, exposed for tests ------------------------------------ */

/** SaltedPassword = PBKDF2-HMAC-SHA-256(@password, @salt, @iterations).
 * Cannot fail (asserted). */
void scram_salted_password(const char *password, const uint8_t *salt,
                           size_t salt_len, int iterations,
                           uint8_t out[SCRAM_KEY_LEN]);

/** Base64 of @p (@len bytes) appended to @out, NUL-terminated (the NUL
 * is not counted in out->len). Cannot fail. */
void scram_b64_encode(const uint8_t *p, size_t len, struct tl_buf *out);

/** Decode base64 @s (@len chars) into @out (size @size): the number of
 * bytes, or -1 when @s is not valid base64 or does not fit. */
int scram_b64_decode(const char *s, size_t len, uint8_t *out, size_t size);

/** Compare @a and @b (@n bytes each) in time independent of where they
 * differ. Cannot fail. */
bool scram_equal(const uint8_t *a, const uint8_t *b, size_t n);

#endif
