/* auth_rule — parse and match the router's client authentication rules. */
#include "auth_rule.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl_error.h"

const char *
tl_auth_method_name(uint8_t method)
{
    switch (method) {
    case TL_AUTH_TRUST:
        return "trust";
    case TL_AUTH_SCRAM:
        return "scram-sha-256";
    default:
        return "reject";
    }
}

/* Parse ADDRESS ("all", an address, or address/bits) into @r. */
static int
parse_address(const char *s, struct tl_auth_rule *r)
{
    char host[INET6_ADDRSTRLEN + 8];
    const char *slash = strchr(s, '/');
    size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);

    if (strcmp(s, "all") == 0) {
        r->family = 0;
        r->prefix = 0;
        return 0;
    }
    if (len == 0 || len >= sizeof(host))
        return TL_EINVAL;
    memcpy(host, s, len);
    host[len] = '\0';
    int max;
    if (inet_pton(AF_INET, host, r->addr) == 1) {
        r->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, host, r->addr) == 1) {
        r->family = AF_INET6;
        max = 128;
    } else {
        return TL_EINVAL;
    }
    r->prefix = (uint8_t)max;
    if (slash != NULL) {
        char *end;
        errno = 0;
        long bits = strtol(slash + 1, &end, 10);
        if (errno != 0 || end == slash + 1 || *end != '\0' || bits < 0 ||
            bits > max)
            return TL_EINVAL;
        r->prefix = (uint8_t)bits;
    }
    return 0;
}

int
tl_auth_rule_parse(uint32_t number, const char *value, struct tl_auth_rule *out,
                   const char **why)
{
    char method[32], address[INET6_ADDRSTRLEN + 8], user[64], extra[2];
    struct tl_auth_rule r;

    memset(&r, 0, sizeof(r));
    r.number = number;
    *why = "auth.N must be: trust|scram-sha-256|reject ADDRESS USER";
    if (sscanf(value, "%31s %51s %63s %1s", method, address, user, extra) != 3)
        return TL_EINVAL;
    if (strcmp(method, "trust") == 0)
        r.method = TL_AUTH_TRUST;
    else if (strcmp(method, "scram-sha-256") == 0)
        r.method = TL_AUTH_SCRAM;
    else if (strcmp(method, "reject") == 0)
        r.method = TL_AUTH_REJECT;
    else
        return TL_EINVAL;
    if (parse_address(address, &r) != 0) {
        *why = "auth.N: ADDRESS must be all, an IP address or a CIDR range";
        return TL_EINVAL;
    }
    if (strcmp(user, "all") != 0)
        snprintf(r.user, sizeof(r.user), "%s", user);
    *out = r;
    return 0;
}

/* Whether the first @bits bits of @a and @b agree. */
static bool
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned bytes = bits / 8, rest = bits % 8;
    if (memcmp(a, b, bytes) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

static const struct tl_auth_rule default_rules[] = {
    {.number = 1,
     .method = TL_AUTH_TRUST,
     .family = AF_INET,
     .addr = {127, 0, 0, 0},
     .prefix = 8},
    {.number = 2,
     .method = TL_AUTH_TRUST,
     .family = AF_INET6,
     .addr = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
     .prefix = 128},
    {.number = 3, .method = TL_AUTH_SCRAM, .family = 0},
};

const struct tl_auth_rule *
tl_auth_rule_match(const struct tl_auth_rule *rules, size_t n,
                   const struct sockaddr *sa, const char *user)
{
    int family = AF_INET;
    uint8_t addr[16] = {127, 0, 0, 1};

    if (sa != NULL && sa->sa_family == AF_INET) {
        memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa != NULL && sa->sa_family == AF_INET6) {
        const uint8_t *a6 =
            ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
                                           0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a6, mapped, 12) == 0) {
            memcpy(addr, a6 + 12, 4);
        } else {
            family = AF_INET6;
            memcpy(addr, a6, 16);
        }
    }
    if (n == 0) {
        rules = default_rules;
        n = sizeof(default_rules) / sizeof(default_rules[0]);
    }
    for (size_t i = 0; i < n; i++) {
        const struct tl_auth_rule *r = &rules[i];
        if (r->user[0] != '\0' && strcmp(r->user, user) != 0)
            continue;
        if (r->family != 0 &&
            (r->family != family || !prefix_equal(r->addr, addr, r->prefix)))
            continue;
        return r;
    }
    return NULL;
}
