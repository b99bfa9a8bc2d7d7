/* scram — SCRAM-SHA-256 verifiers and the server side of an exchange.
 *
 * Message syntax (RFC 5802 section 7), as PostgreSQL's auth-scram.c reads
 * it: client-first = gs2-header client-first-bare, gs2-header = cbind-flag
 * "," [authzid] ",", cbind-flag = "n" | "y" | "p=" name; client-first-bare
 * = "n=" user ",r=" nonce ["," extensions]; client-final = "c=" base64
 * (gs2-header + cbind data) ",r=" nonce ["," extensions] ",p=" proof.
 * PostgreSQL ignores the user name in the message (the startup packet
 * named the role), and so does this. */
#include "scram.h"

#include <assert.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl_error.h"

/* ---- primitives -------------------------------------------------------- */

void
scram_salted_password(const char *password, const uint8_t *salt,
                      size_t salt_len, int iterations,
                      uint8_t out[SCRAM_KEY_LEN])
{
    int ok =
        PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len,
                          iterations, EVP_sha256(), SCRAM_KEY_LEN, out);
    assert(ok == 1);
    (void)ok;
}

static void
hmac(const uint8_t *key, size_t key_len, const void *msg, size_t len,
     uint8_t out[SCRAM_KEY_LEN])
{
    unsigned int n = SCRAM_KEY_LEN;
    uint8_t *r = HMAC(EVP_sha256(), key, (int)key_len, msg, len, out, &n);
    assert(r != NULL && n == SCRAM_KEY_LEN);
    (void)r;
}

bool
scram_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void
scram_b64_encode(const uint8_t *p, size_t len, struct tl_buf *out)
{
    size_t need = 4 * ((len + 2) / 3) + 1;
    uint8_t *dst = tl_buf_reserve(out, need);
    int n = EVP_EncodeBlock(dst, p, (int)len);
    out->len += (size_t)n;
    dst[n] = '\0';
}

int
scram_b64_decode(const char *s, size_t len, uint8_t *out, size_t size)
{
    if (len == 0)
        return 0;
    if (len % 4 != 0 || len / 4 * 3 > size + 2)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '+' || ch == '/' ||
                  (ch == '=' && i >= len - 2);
        if (!ok)
            return -1;
    }
    if (s[len - 2] == '=' && s[len - 1] != '=')
        return -1;
    uint8_t tmp[512];
    if (len / 4 * 3 > sizeof(tmp))
        return -1;
    /* EVP_DecodeBlock counts padding as zero bytes: take them off. */
    int n = EVP_DecodeBlock(tmp, (const uint8_t *)s, (int)len);
    if (n < 0)
        return -1;
    if (s[len - 1] == '=')
        n--;
    if (s[len - 2] == '=')
        n--;
    if ((size_t)n > size)
        return -1;
    memcpy(out, tmp, (size_t)n);
    return n;
}

/* StoredKey and ServerKey of @salted. */
static void
derive_keys(const uint8_t salted[SCRAM_KEY_LEN],
            uint8_t stored_key[SCRAM_KEY_LEN],
            uint8_t server_key[SCRAM_KEY_LEN])
{
    uint8_t client_key[SCRAM_KEY_LEN];
    hmac(salted, SCRAM_KEY_LEN, "Client Key", 10, client_key);
    SHA256(client_key, SCRAM_KEY_LEN, stored_key);
    hmac(salted, SCRAM_KEY_LEN, "Server Key", 10, server_key);
    OPENSSL_cleanse(client_key, sizeof(client_key));
}

/* ---- verifiers --------------------------------------------------------- */

int
scram_verifier_make(const char *password, const uint8_t *salt, size_t salt_len,
                    int iterations, char *out, size_t size)
{
    uint8_t rnd[SCRAM_SALT_LEN];
    uint8_t salted[SCRAM_KEY_LEN], stored[SCRAM_KEY_LEN], server[SCRAM_KEY_LEN];

    assert(size >= SCRAM_VERIFIER_MAX);
    if (salt == NULL) {
        if (RAND_bytes(rnd, sizeof(rnd)) != 1)
            return TL_EIO;
        salt = rnd;
        salt_len = sizeof(rnd);
    }
    assert(salt_len > 0 && salt_len <= 64);
    scram_salted_password(password, salt, salt_len, iterations, salted);
    derive_keys(salted, stored, server);
    OPENSSL_cleanse(salted, sizeof(salted));

    struct tl_buf b;
    tl_buf_init(&b);
    char head[64];
    int n = snprintf(head, sizeof(head), "SCRAM-SHA-256$%d:", iterations);
    tl_buf_append(&b, head, (size_t)n);
    scram_b64_encode(salt, salt_len, &b);
    tl_buf_append(&b, "$", 1);
    scram_b64_encode(stored, sizeof(stored), &b);
    tl_buf_append(&b, ":", 1);
    scram_b64_encode(server, sizeof(server), &b);
    assert(b.len < size);
    memcpy(out, b.data, b.len);
    out[b.len] = '\0';
    tl_buf_close(&b);
    return 0;
}

int
scram_verifier_parse(const char *s, struct scram_verifier *v)
{
    const char *prefix = "SCRAM-SHA-256$";
    size_t plen = strlen(prefix);
    if (strncmp(s, prefix, plen) != 0)
        return TL_EINVAL;
    const char *p = s + plen;
    char *end;
    long iter = strtol(p, &end, 10);
    if (end == p || *end != ':' || iter < 1 || iter > 10000000)
        return TL_EINVAL;
    const char *salt = end + 1;
    const char *dollar = strchr(salt, '$');
    if (dollar == NULL)
        return TL_EINVAL;
    const char *stored = dollar + 1;
    const char *colon = strchr(stored, ':');
    if (colon == NULL)
        return TL_EINVAL;
    const char *server = colon + 1;
    int n = scram_b64_decode(salt, (size_t)(dollar - salt), v->salt,
                             sizeof(v->salt));
    if (n <= 0)
        return TL_EINVAL;
    v->salt_len = (size_t)n;
    if (scram_b64_decode(stored, (size_t)(colon - stored), v->stored_key,
                         SCRAM_KEY_LEN) != SCRAM_KEY_LEN ||
        scram_b64_decode(server, strlen(server), v->server_key,
                         SCRAM_KEY_LEN) != SCRAM_KEY_LEN)
        return TL_EINVAL;
    v->iterations = (int)iter;
    return 0;
}

bool
scram_is_verifier(const char *s)
{
    struct scram_verifier v;
    return scram_verifier_parse(s, &v) == 0;
}

void
scram_mock_verifier(const uint8_t secret[SCRAM_KEY_LEN], const char *user,
                    struct scram_verifier *v)
{
    uint8_t h[SCRAM_KEY_LEN];
    memset(v, 0, sizeof(*v));
    hmac(secret, SCRAM_KEY_LEN, user, strlen(user), h);
    v->iterations = SCRAM_ITERATIONS;
    memcpy(v->salt, h, SCRAM_SALT_LEN);
    v->salt_len = SCRAM_SALT_LEN;
    /* The keys do not matter: a mock exchange fails whatever the proof. */
    hmac(secret, SCRAM_KEY_LEN, "stored", 6, v->stored_key);
    hmac(secret, SCRAM_KEY_LEN, "server", 6, v->server_key);
}

/* ---- the exchange ------------------------------------------------------ */

void
scram_server_init(struct scram_server *s, const struct scram_verifier *v,
                  const uint8_t *cbind, size_t cbind_len,
                  const char *server_nonce)
{
    memset(s, 0, sizeof(*s));
    tl_buf_init(&s->client_first_bare);
    tl_buf_init(&s->server_first);
    if (v != NULL) {
        s->v = *v;
    } else {
        s->mock = true;
        s->v.iterations = SCRAM_ITERATIONS;
        s->v.salt_len = SCRAM_SALT_LEN;
        RAND_bytes(s->v.salt, SCRAM_SALT_LEN);
    }
    if (cbind != NULL) {
        assert(cbind_len <= sizeof(s->cbind));
        s->tls = true;
        memcpy(s->cbind, cbind, cbind_len);
        s->cbind_len = cbind_len;
    }
    if (server_nonce != NULL) {
        snprintf(s->nonce, sizeof(s->nonce), "%s", server_nonce);
    } else {
        uint8_t raw[SCRAM_NONCE_LEN];
        struct tl_buf b;
        if (RAND_bytes(raw, sizeof(raw)) != 1)
            memset(raw, 0x5a, sizeof(raw)); /* then the exchange fails */
        tl_buf_init(&b);
        scram_b64_encode(raw, sizeof(raw), &b);
        snprintf(s->nonce, sizeof(s->nonce), "%s", (const char *)b.data);
        tl_buf_close(&b);
    }
}

void
scram_server_close(struct scram_server *s)
{
    tl_buf_close(&s->client_first_bare);
    tl_buf_close(&s->server_first);
    OPENSSL_cleanse(&s->v, sizeof(s->v));
}

static int
fail(struct scram_server *s, int rv, const char *why)
{
    s->state = SCRAM_DONE_FAILED;
    s->why = why;
    return rv;
}

/* A printable nonce: ASCII 0x21..0x7e except ','. */
static bool
valid_nonce(const char *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x21 || p[i] > 0x7e || p[i] == ',')
            return false;
    return true;
}

int
scram_server_first(struct scram_server *s, const char *mech, const uint8_t *msg,
                   size_t len, struct tl_buf *out)
{
    char buf[1024];
    if (s->state != SCRAM_INIT)
        return fail(s, TL_EPROTO, "unexpected client-first-message");
    if (strcmp(mech, SCRAM_MECH_PLUS) == 0) {
        if (!s->tls)
            return fail(s, TL_EPROTO, "SCRAM-SHA-256-PLUS without TLS");
        s->plus = true;
    } else if (strcmp(mech, SCRAM_MECH) != 0) {
        return fail(s, TL_EPROTO, "unknown SASL mechanism");
    }
    if (len == 0 || len >= sizeof(buf) || memchr(msg, '\0', len) != NULL)
        return fail(s, TL_EPROTO, "malformed client-first-message");
    memcpy(buf, msg, len);
    buf[len] = '\0';

    /* gs2-header */
    const char *p = buf;
    if (p[0] == 'p') {
        if (!s->plus || strncmp(p, "p=tls-server-end-point,", 23) != 0)
            return fail(s, TL_EPROTO, "unsupported channel binding");
        p += 23;
    } else if (p[0] == 'y' || p[0] == 'n') {
        if (s->plus)
            return fail(s, TL_EPROTO, "-PLUS chosen without channel binding");
        /* "y": the client could bind but thinks the server cannot; over
         * TLS the server can, so a downgrade is under way. */
        if (p[0] == 'y' && s->tls)
            return fail(s, TL_EPROTO, "channel binding downgrade (y over TLS)");
        if (p[1] != ',')
            return fail(s, TL_EPROTO, "malformed gs2 header");
        p += 2;
    } else {
        return fail(s, TL_EPROTO, "malformed gs2 header");
    }
    if (p[0] == 'a')
        return fail(s, TL_EPROTO, "authzid not supported");
    if (p[0] != ',')
        return fail(s, TL_EPROTO, "malformed gs2 header");
    p++;
    size_t gs2_len = (size_t)(p - buf);
    if (gs2_len >= sizeof(s->gs2_header))
        return fail(s, TL_EPROTO, "malformed gs2 header");
    memcpy(s->gs2_header, buf, gs2_len);
    s->gs2_header[gs2_len] = '\0';

    /* client-first-bare: n=user,r=nonce[,ext] */
    const char *bare = p;
    if (p[0] == 'm')
        return fail(s, TL_EPROTO, "reserved extension m");
    if (strncmp(p, "n=", 2) != 0)
        return fail(s, TL_EPROTO, "malformed client-first-message");
    p = strchr(p, ',');
    if (p == NULL || strncmp(p, ",r=", 3) != 0)
        return fail(s, TL_EPROTO, "malformed client-first-message");
    const char *cnonce = p + 3;
    const char *cend = strchr(cnonce, ',');
    size_t cnonce_len = cend != NULL ? (size_t)(cend - cnonce) : strlen(cnonce);
    if (!valid_nonce(cnonce, cnonce_len))
        return fail(s, TL_EPROTO, "malformed client nonce");
    size_t snonce_len = strlen(s->nonce);
    if (cnonce_len + snonce_len >= sizeof(s->nonce))
        return fail(s, TL_EPROTO, "client nonce too long");
    memmove(s->nonce + cnonce_len, s->nonce, snonce_len + 1);
    memcpy(s->nonce, cnonce, cnonce_len);

    tl_buf_append(&s->client_first_bare, bare, strlen(bare));
    char head[224];
    int n = snprintf(head, sizeof(head), "r=%s,s=", s->nonce);
    tl_buf_append(&s->server_first, head, (size_t)n);
    scram_b64_encode(s->v.salt, s->v.salt_len, &s->server_first);
    n = snprintf(head, sizeof(head), ",i=%d", s->v.iterations);
    tl_buf_append(&s->server_first, head, (size_t)n);
    tl_buf_append(out, s->server_first.data, s->server_first.len);
    s->state = SCRAM_CONTINUE;
    return 0;
}

int
scram_server_final(struct scram_server *s, const uint8_t *msg, size_t len,
                   struct tl_buf *out)
{
    char buf[1024];
    if (s->state != SCRAM_CONTINUE)
        return fail(s, TL_EPROTO, "unexpected client-final-message");
    if (len == 0 || len >= sizeof(buf) || memchr(msg, '\0', len) != NULL)
        return fail(s, TL_EPROTO, "malformed client-final-message");
    memcpy(buf, msg, len);
    buf[len] = '\0';

    /* c=<base64 of gs2 header and, with -PLUS, the binding data> */
    if (strncmp(buf, "c=", 2) != 0)
        return fail(s, TL_EPROTO, "malformed client-final-message");
    const char *c = buf + 2;
    const char *comma = strchr(c, ',');
    if (comma == NULL)
        return fail(s, TL_EPROTO, "malformed client-final-message");
    uint8_t cb[256];
    int cb_len = scram_b64_decode(c, (size_t)(comma - c), cb, sizeof(cb));
    size_t gs2_len = strlen(s->gs2_header);
    size_t want = gs2_len + (s->plus ? s->cbind_len : 0);
    if (cb_len < 0 || (size_t)cb_len != want ||
        memcmp(cb, s->gs2_header, gs2_len) != 0 ||
        (s->plus && !scram_equal(cb + gs2_len, s->cbind, s->cbind_len)))
        return fail(s, TL_EPROTO, "channel binding check failed");

    /* r=<nonce> must be the whole nonce answered. */
    if (strncmp(comma, ",r=", 3) != 0)
        return fail(s, TL_EPROTO, "malformed client-final-message");
    const char *r = comma + 3;
    const char *rend = strchr(r, ',');
    if (rend == NULL || (size_t)(rend - r) != strlen(s->nonce) ||
        memcmp(r, s->nonce, strlen(s->nonce)) != 0)
        return fail(s, TL_EPROTO, "nonce mismatch");

    /* The proof is the last attribute; everything before it is signed. */
    const char *pp = strstr(rend, ",p=");
    if (pp == NULL || strchr(pp + 3, ',') != NULL)
        return fail(s, TL_EPROTO, "malformed client-final-message");
    uint8_t proof[SCRAM_KEY_LEN];
    if (scram_b64_decode(pp + 3, strlen(pp + 3), proof, sizeof(proof)) !=
        SCRAM_KEY_LEN)
        return fail(s, TL_EPROTO, "malformed client proof");

    /* AuthMessage = client-first-bare "," server-first ","
     * client-final-without-proof */
    struct tl_buf auth;
    tl_buf_init(&auth);
    tl_buf_append(&auth, s->client_first_bare.data, s->client_first_bare.len);
    tl_buf_append(&auth, ",", 1);
    tl_buf_append(&auth, s->server_first.data, s->server_first.len);
    tl_buf_append(&auth, ",", 1);
    tl_buf_append(&auth, buf, (size_t)(pp - buf));

    uint8_t sig[SCRAM_KEY_LEN], client_key[SCRAM_KEY_LEN],
        stored[SCRAM_KEY_LEN];
    hmac(s->v.stored_key, SCRAM_KEY_LEN, auth.data, auth.len, sig);
    for (int i = 0; i < SCRAM_KEY_LEN; i++)
        client_key[i] = proof[i] ^ sig[i];
    SHA256(client_key, SCRAM_KEY_LEN, stored);
    bool ok = scram_equal(stored, s->v.stored_key, SCRAM_KEY_LEN);
    if (ok && !s->mock) {
        uint8_t server_sig[SCRAM_KEY_LEN];
        hmac(s->v.server_key, SCRAM_KEY_LEN, auth.data, auth.len, server_sig);
        tl_buf_append(out, "v=", 2);
        scram_b64_encode(server_sig, sizeof(server_sig), out);
    }
    tl_buf_close(&auth);
    OPENSSL_cleanse(client_key, sizeof(client_key));
    if (!ok || s->mock)
        return fail(s, TL_EAUTH,
                    s->mock ? "no such role or no password" : "wrong password");
    s->state = SCRAM_DONE_OK;
    return 0;
}
