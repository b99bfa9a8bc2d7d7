/* SCRAM-SHA-256 (common/scram.h): the server side of an exchange
 * reproduces RFC 7677's test vector byte for byte, verifiers round-trip
 * in PostgreSQL's format, and every way a client can cheat (wrong proof,
 * replayed or altered nonce, channel binding for another certificate, a
 * downgrade from -PLUS) ends the exchange. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "scram.h"
#include "tl_error.h"

#define CFIRST "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define SFIRST                                                                 \
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"                    \
    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define CFINAL                                                                 \
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"             \
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define SFINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

/* The verifier of "pencil" with RFC 7677's salt. */
static void
rfc_verifier(struct scram_verifier *v)
{
    uint8_t salt[16];
    char text[SCRAM_VERIFIER_MAX];
    int n =
        scram_b64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt, sizeof(salt));
    assert_int_equal(n, 16);
    assert_int_equal(
        scram_verifier_make("pencil", salt, 16, 4096, text, sizeof(text)), 0);
    assert_int_equal(scram_verifier_parse(text, v), 0);
}

static int
run_first(struct scram_server *s, const char *mech, const char *msg,
          struct tl_buf *out)
{
    return scram_server_first(s, mech, (const uint8_t *)msg, strlen(msg), out);
}

static int
run_final(struct scram_server *s, const char *msg, struct tl_buf *out)
{
    return scram_server_final(s, (const uint8_t *)msg, strlen(msg), out);
}

/* RFC 7677 section 3: the server's two messages are exactly the RFC's. */
static void
test_rfc7677_vector(void **state)
{
    (void)state;
    struct scram_verifier v;
    struct scram_server s;
    struct tl_buf out;
    rfc_verifier(&v);
    tl_buf_init(&out);
    scram_server_init(&s, &v, NULL, 0, SNONCE);
    assert_int_equal(run_first(&s, SCRAM_MECH, CFIRST, &out), 0);
    assert_int_equal(out.len, strlen(SFIRST));
    assert_memory_equal(out.data, SFIRST, out.len);
    tl_buf_reset(&out);
    assert_int_equal(run_final(&s, CFINAL, &out), 0);
    assert_int_equal(out.len, strlen(SFINAL));
    assert_memory_equal(out.data, SFINAL, out.len);
    assert_int_equal(s.state, SCRAM_DONE_OK);
    scram_server_close(&s);
    tl_buf_close(&out);
}

/* A verifier is PostgreSQL's text and parses back to the same keys. */
static void
test_verifier_format(void **state)
{
    (void)state;
    char text[SCRAM_VERIFIER_MAX];
    struct scram_verifier v;
    assert_int_equal(
        scram_verifier_make("secret", NULL, 0, 4096, text, sizeof(text)), 0);
    assert_true(strncmp(text, "SCRAM-SHA-256$4096:", 19) == 0);
    assert_true(scram_is_verifier(text));
    assert_int_equal(scram_verifier_parse(text, &v), 0);
    assert_int_equal(v.iterations, 4096);
    assert_int_equal(v.salt_len, 16);
    assert_false(scram_is_verifier("secret"));
    assert_false(scram_is_verifier("SCRAM-SHA-256$4096:abc$def:ghi"));
    assert_false(scram_is_verifier("md5abcdef"));
}

/* A wrong proof is TL_EAUTH, and writes no server-final-message. */
static void
test_wrong_proof(void **state)
{
    (void)state;
    struct scram_verifier v;
    struct scram_server s;
    struct tl_buf out;
    rfc_verifier(&v);
    tl_buf_init(&out);
    scram_server_init(&s, &v, NULL, 0, SNONCE);
    assert_int_equal(run_first(&s, SCRAM_MECH, CFIRST, &out), 0);
    tl_buf_reset(&out);
    assert_int_equal(
        run_final(&s,
                  "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                  "p=AHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                  &out),
        TL_EAUTH);
    assert_int_equal(out.len, 0);
    assert_int_equal(s.state, SCRAM_DONE_FAILED);
    scram_server_close(&s);
    tl_buf_close(&out);
}

/* A mock exchange fails even with the right proof, after the same two
 * steps; the same user always gets the same salt. */
static void
test_mock(void **state)
{
    (void)state;
    uint8_t secret[SCRAM_KEY_LEN] = {1, 2, 3};
    struct scram_verifier a, b, c;
    scram_mock_verifier(secret, "alice", &a);
    scram_mock_verifier(secret, "alice", &b);
    scram_mock_verifier(secret, "bob", &c);
    assert_memory_equal(a.salt, b.salt, SCRAM_SALT_LEN);
    assert_memory_not_equal(a.salt, c.salt, SCRAM_SALT_LEN);

    struct scram_verifier v;
    struct scram_server s;
    struct tl_buf out;
    rfc_verifier(&v);
    tl_buf_init(&out);
    scram_server_init(&s, &v, NULL, 0, SNONCE);
    s.mock = true;
    assert_int_equal(run_first(&s, SCRAM_MECH, CFIRST, &out), 0);
    tl_buf_reset(&out);
    assert_int_equal(run_final(&s, CFINAL, &out), TL_EAUTH);
    assert_int_equal(out.len, 0);
    scram_server_close(&s);
    tl_buf_close(&out);
}

/* The final nonce must be the one the server answered: a replay of a
 * final message from another exchange (another server nonce) fails. */
static void
test_replayed_nonce(void **state)
{
    (void)state;
    struct scram_verifier v;
    struct scram_server s;
    struct tl_buf out;
    rfc_verifier(&v);
    tl_buf_init(&out);
    scram_server_init(&s, &v, NULL, 0, NULL); /* a fresh random nonce */
    assert_int_equal(run_first(&s, SCRAM_MECH, CFIRST, &out), 0);
    tl_buf_reset(&out);
    assert_int_equal(run_final(&s, CFINAL, &out), TL_EPROTO);
    assert_string_equal(s.why, "nonce mismatch");
    scram_server_close(&s);
    tl_buf_close(&out);
}

/* Channel binding: -PLUS only over TLS, the binding data must be this
 * connection's certificate hash, and "y" over TLS is a downgrade. */
static void
test_channel_binding(void **state)
{
    (void)state;
    struct scram_verifier v;
    struct scram_server s;
    struct tl_buf out;
    uint8_t hash[32];
    memset(hash, 7, sizeof(hash));
    rfc_verifier(&v);
    tl_buf_init(&out);

    scram_server_init(&s, &v, NULL, 0, SNONCE);
    assert_int_equal(run_first(&s, SCRAM_MECH_PLUS,
                               "p=tls-server-end-point,,n=,r=abc", &out),
                     TL_EPROTO);
    scram_server_close(&s);

    scram_server_init(&s, &v, hash, sizeof(hash), SNONCE);
    assert_int_equal(run_first(&s, SCRAM_MECH, "y,,n=,r=abc", &out), TL_EPROTO);
    scram_server_close(&s);

    /* Binding data for another certificate. */
    scram_server_init(&s, &v, hash, sizeof(hash), SNONCE);
    tl_buf_reset(&out);
    assert_int_equal(run_first(&s, SCRAM_MECH_PLUS,
                               "p=tls-server-end-point,,n=,r=abc", &out),
                     0);
    struct tl_buf fin;
    tl_buf_init(&fin);
    uint8_t cb[23 + 32];
    memcpy(cb, "p=tls-server-end-point,,", 23);
    memset(cb + 23, 8, 32);
    tl_buf_append(&fin, "c=", 2);
    scram_b64_encode(cb, sizeof(cb), &fin);
    tl_buf_printf(
        &fin,
        ",r=abc%s,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", SNONCE);
    tl_buf_reset(&out);
    assert_int_equal(scram_server_final(&s, fin.data, fin.len, &out),
                     TL_EPROTO);
    assert_string_equal(s.why, "channel binding check failed");
    scram_server_close(&s);
    tl_buf_close(&fin);
    tl_buf_close(&out);
}

/* Base64 decoding refuses what is not base64. */
static void
test_base64(void **state)
{
    (void)state;
    uint8_t b[8];
    assert_int_equal(scram_b64_decode("YWJj", 4, b, sizeof(b)), 3);
    assert_memory_equal(b, "abc", 3);
    assert_int_equal(scram_b64_decode("YWI=", 4, b, sizeof(b)), 2);
    assert_int_equal(scram_b64_decode("YQ==", 4, b, sizeof(b)), 1);
    assert_int_equal(scram_b64_decode("YW=j", 4, b, sizeof(b)), -1);
    assert_int_equal(scram_b64_decode("YWJ", 3, b, sizeof(b)), -1);
    assert_int_equal(scram_b64_decode("Y!Jj", 4, b, sizeof(b)), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7677_vector),
        cmocka_unit_test(test_verifier_format),
        cmocka_unit_test(test_wrong_proof),
        cmocka_unit_test(test_mock),
        cmocka_unit_test(test_replayed_nonce),
        cmocka_unit_test(test_channel_binding),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
