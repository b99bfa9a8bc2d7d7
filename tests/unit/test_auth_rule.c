/* The router's authentication rules (common/auth_rule.h) in the cluster
 * file: parsed and sorted by number, the first matching rule decides,
 * the defaults trust loopback only, and ssl settings are checked. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth_rule.h"
#include "cluster_config.h"
#include "tl_error.h"

#define NODES                                                                  \
    "node.1.rpc = 127.0.0.1:1\nnode.1.raft = 127.0.0.1:2\nnode.1.dir = a\n"

static int
load(const char *text, struct tl_cluster_config *c)
{
    char path[] = "/tmp/talus-auth-rule-XXXXXX";
    char err[256];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    tl_cluster_config_defaults(c);
    int rv = tl_cluster_config_load(path, c, err, sizeof(err));
    unlink(path);
    return rv;
}

static struct sockaddr_in
v4(const char *ip)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return a;
}

static struct sockaddr_in6
v6(const char *ip)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6};
    assert_int_equal(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
    return a;
}

static int
method(const struct tl_cluster_config *c, const struct sockaddr *sa,
       const char *user)
{
    const struct tl_auth_rule *r =
        tl_auth_rule_match(c->auth_rules, c->n_auth_rules, sa, user);
    return r == NULL ? 0 : r->method;
}

/* Without rules: trust on loopback, SCRAM elsewhere. */
static void
test_defaults(void **state)
{
    (void)state;
    struct tl_cluster_config c;
    assert_int_equal(load(NODES, &c), 0);
    assert_int_equal(c.n_auth_rules, 0);
    assert_int_equal(c.ssl_mode, TL_SSL_OFF);
    struct sockaddr_in lo = v4("127.0.0.1"), far = v4("10.1.2.3");
    struct sockaddr_in6 lo6 = v6("::1"), mapped = v6("::ffff:127.0.0.1");
    assert_int_equal(method(&c, (struct sockaddr *)&lo, "x"), TL_AUTH_TRUST);
    assert_int_equal(method(&c, (struct sockaddr *)&lo6, "x"), TL_AUTH_TRUST);
    assert_int_equal(method(&c, (struct sockaddr *)&mapped, "x"),
                     TL_AUTH_TRUST);
    assert_int_equal(method(&c, (struct sockaddr *)&far, "x"), TL_AUTH_SCRAM);
}

/* Rules apply in the order of N, whatever the order of the lines; user
 * and CIDR both must match; no match is a refusal. */
static void
test_first_match_wins(void **state)
{
    (void)state;
    struct tl_cluster_config c;
    assert_int_equal(load(NODES "auth.30 = scram-sha-256 10.0.0.0/8 all\n"
                                "auth.10 = reject 10.9.0.0/16 all\n"
                                "auth.20 = trust 10.0.0.0/8 ops\n",
                          &c),
                     0);
    assert_int_equal(c.n_auth_rules, 3);
    assert_int_equal(c.auth_rules[0].number, 10);
    struct sockaddr_in a = v4("10.9.1.1"), b = v4("10.1.1.1"),
                       d = v4("192.168.0.1");
    assert_int_equal(method(&c, (struct sockaddr *)&a, "ops"), TL_AUTH_REJECT);
    assert_int_equal(method(&c, (struct sockaddr *)&b, "ops"), TL_AUTH_TRUST);
    assert_int_equal(method(&c, (struct sockaddr *)&b, "app"), TL_AUTH_SCRAM);
    assert_int_equal(method(&c, (struct sockaddr *)&d, "app"), 0);
}

/* Malformed rules and ssl settings are refused with the line. */
static void
test_bad_lines(void **state)
{
    (void)state;
    struct tl_cluster_config c;
    assert_int_equal(load(NODES "auth.1 = md5 all all\n", &c), TL_EINVAL);
    assert_int_equal(load(NODES "auth.1 = trust 10.0.0.0/33 all\n", &c),
                     TL_EINVAL);
    assert_int_equal(load(NODES "auth.1 = trust all\n", &c), TL_EINVAL);
    assert_int_equal(load(NODES "auth.1 = trust all all\n"
                                "auth.1 = reject all all\n",
                          &c),
                     TL_EINVAL);
    assert_int_equal(load(NODES "ssl = maybe\n", &c), TL_EINVAL);
    assert_int_equal(load(NODES "ssl = on\n", &c), TL_EINVAL);
    assert_int_equal(load(NODES "ssl = required\nssl_cert_file = a.crt\n"
                                "ssl_key_file = a.key\n",
                          &c),
                     0);
    assert_int_equal(c.ssl_mode, TL_SSL_REQUIRED);
    assert_string_equal(c.ssl_cert_file, "a.crt");
    assert_string_equal(c.ssl_key_file, "a.key");
    assert_string_equal(c.ssl_ca_file, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_first_match_wins),
        cmocka_unit_test(test_bad_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
