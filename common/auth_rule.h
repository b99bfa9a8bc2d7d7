/* auth_rule — who may connect to a router, and how they authenticate:
 * rules in the spirit of PostgreSQL's pg_hba.conf, written in the
 * cluster file (common/cluster_config.h) as
 *
 *     auth.10 = trust          127.0.0.1/32  all
 *     auth.20 = scram-sha-256  10.0.0.0/8    app
 *     auth.30 = reject         all           all
 *
 * auth.N = METHOD ADDRESS USER. Rules are tried in the order of N; the
 * first whose address range holds the client's address and whose user is
 * the client's (or "all") decides. METHOD is trust (no password),
 * scram-sha-256 (a SCRAM exchange against the role's verifier) or reject.
 * ADDRESS is "all", an IPv4 or IPv6 address, or a CIDR range; an
 * IPv4-mapped IPv6 client address matches IPv4 rules. A client that no
 * rule matches is refused. A file without auth lines has the default
 * rules: trust from loopback (127.0.0.0/8, ::1), scram-sha-256 from
 * anywhere else: the local development mode of `make up`.
 *
 * Pure functions; no I/O. */
#ifndef TL_AUTH_RULE_H
#define TL_AUTH_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define TL_MAX_AUTH_RULES 64

/* Stored only in files: the numbers are free to change, not the names. */
enum tl_auth_method {
    TL_AUTH_TRUST = 1,
    TL_AUTH_SCRAM = 2,
    TL_AUTH_REJECT = 3,
};

struct tl_auth_rule {
    uint32_t number; /* N of auth.N: rules apply in increasing order */
    uint8_t method;  /* enum tl_auth_method */
    int family;      /* AF_INET, AF_INET6, or 0 for "all" */
    uint8_t addr[16];
    uint8_t prefix; /* bits of addr that must match */
    char user[64];  /* "" for all */
};

/** Parse the value of line auth.@number ("METHOD ADDRESS USER") into
 * *@out. 0, or TL_EINVAL with *@why saying what is wrong. */
int tl_auth_rule_parse(uint32_t number, const char *value,
                       struct tl_auth_rule *out, const char **why);

/** The rule of @rules (@n of them, sorted by number; 0: the default
 * rules) that decides for a client at @sa (NULL or not an IP address: a
 * local socket, taken as 127.0.0.1) connecting as @user; NULL when none
 * matches (refused). The result is borrowed from @rules or static.
 * Cannot fail. */
const struct tl_auth_rule *tl_auth_rule_match(const struct tl_auth_rule *rules,
                                              size_t n,
                                              const struct sockaddr *sa,
                                              const char *user);

/** "trust", "scram-sha-256" or "reject". Cannot fail. */
const char *tl_auth_method_name(uint8_t method);

#endif
