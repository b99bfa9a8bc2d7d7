#include "cluster_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "tl_error.h"

size_t
tl_cluster_entry_bytes(size_t packed)
{
    return (8 + packed + 7) & ~(size_t)7;
}

int
tl_cluster_entry_too_large(uint32_t shard, size_t len, uint32_t max,
                           struct tl_error *err)
{
    tl_error_set(err, TL_ETOOBIG, TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
                 "statement writes %zu bytes to shard %u, more than "
                 "max_entry_bytes (%u) allows",
                 len, shard, max);
    tl_error_detail(err, "What one statement writes to one shard is one Raft "
                         "entry, applied atomically; nothing was written.");
    tl_error_hint(err, "Change fewer rows per statement (for example by "
                       "ranges of the primary key), or raise max_entry_bytes "
                       "in the cluster configuration.");
    return TL_ETOOBIG;
}

void
tl_cluster_config_defaults(struct tl_cluster_config *c)
{
    memset(c, 0, sizeof(*c));
    c->n_shards = 6;
    c->n_replicas = 1;
    c->request_timeout_ms = 5000;
    c->max_entry_bytes = TL_MAX_ENTRY_BYTES_DEFAULT;
    c->gc_window_ms = 600000; /* TL_META_GC_WINDOW_DEFAULT_MS */
    c->election_timeout_ms = 1000;
    c->heartbeat_ms = 100;
    snprintf(c->router_listen, sizeof(c->router_listen), "127.0.0.1:5433");
}

static char *
trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static int
parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return TL_EINVAL;
    *out = (uint32_t)v;
    return 0;
}

int
tl_addr_split(const char *addr, char *host, size_t hostlen, uint16_t *port)
{
    const char *colon = strrchr(addr, ':');
    uint32_t p;

    if (colon == NULL || colon == addr || (size_t)(colon - addr) >= hostlen)
        return TL_EINVAL;
    if (parse_u32(colon + 1, 0, 65535, &p) != 0)
        return TL_EINVAL;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    *port = (uint16_t)p;
    return 0;
}

static int
set_addr(char *dst, const char *val)
{
    char host[TL_ADDR_MAX];
    uint16_t port;

    if (strlen(val) >= TL_ADDR_MAX ||
        tl_addr_split(val, host, sizeof(host), &port) != 0)
        return TL_EINVAL;
    snprintf(dst, TL_ADDR_MAX, "%s", val);
    return 0;
}

/* Apply one "key = value" line; returns 0 or TL_EINVAL with @why set. */
static int
apply_line(struct tl_cluster_config *c, const char *key, const char *val,
           const char **why)
{
    if (strcmp(key, "shards") == 0) {
        *why = "shards must be 1..1023 (group 1023 is the meta group)";
        /* Group TL_META_GROUP is the meta group, never a shard. */
        return parse_u32(val, 1, TL_META_GROUP, &c->n_shards);
    }
    if (strcmp(key, "replicas") == 0) {
        *why = "replicas must be 1..7";
        return parse_u32(val, 1, 7, &c->n_replicas);
    }
    if (strcmp(key, "initial_nodes") == 0) {
        *why = "initial_nodes must be 1..64";
        return parse_u32(val, 1, TL_MAX_NODES, &c->n_initial_nodes);
    }
    if (strcmp(key, "election_timeout_ms") == 0) {
        *why = "election_timeout_ms must be 50..60000";
        return parse_u32(val, 50, 60000, &c->election_timeout_ms);
    }
    if (strcmp(key, "heartbeat_ms") == 0) {
        *why = "heartbeat_ms must be 10..10000";
        return parse_u32(val, 10, 10000, &c->heartbeat_ms);
    }
    if (strcmp(key, "max_entry_bytes") == 0) {
        *why = "max_entry_bytes must be 65536..268435456";
        return parse_u32(val, TL_MAX_ENTRY_BYTES_MIN, TL_MAX_ENTRY_BYTES_MAX,
                         &c->max_entry_bytes);
    }
    if (strcmp(key, "gc_window_ms") == 0) {
        *why = "gc_window_ms must be 2000..2147483647";
        return parse_u32(val, 2000, INT32_MAX, &c->gc_window_ms);
    }
    if (strcmp(key, "request_timeout_ms") == 0) {
        *why = "request_timeout_ms must be 1..3600000";
        return parse_u32(val, 1, 3600000, &c->request_timeout_ms);
    }
    if (strcmp(key, "ssl") == 0) {
        *why = "ssl must be off, on or required";
        if (strcmp(val, "off") == 0)
            c->ssl_mode = TL_SSL_OFF;
        else if (strcmp(val, "on") == 0)
            c->ssl_mode = TL_SSL_ON;
        else if (strcmp(val, "required") == 0)
            c->ssl_mode = TL_SSL_REQUIRED;
        else
            return TL_EINVAL;
        return 0;
    }
    if (strcmp(key, "ssl_cert_file") == 0 || strcmp(key, "ssl_key_file") == 0 ||
        strcmp(key, "ssl_ca_file") == 0) {
        char *dst = c->ssl_ca_file;
        if (strcmp(key, "ssl_cert_file") == 0)
            dst = c->ssl_cert_file;
        else if (strcmp(key, "ssl_key_file") == 0)
            dst = c->ssl_key_file;
        *why = "ssl file path too long";
        if (strlen(val) >= PATH_MAX)
            return TL_EINVAL;
        snprintf(dst, PATH_MAX, "%s", val);
        return 0;
    }
    if (strncmp(key, "auth.", 5) == 0) {
        uint32_t number;
        *why = "auth.N: N must be 1..1000000";
        if (parse_u32(key + 5, 1, 1000000, &number) != 0)
            return TL_EINVAL;
        for (uint32_t i = 0; i < c->n_auth_rules; i++)
            if (c->auth_rules[i].number == number) {
                *why = "auth.N given twice";
                return TL_EINVAL;
            }
        *why = "too many auth rules (64 at most)";
        if (c->n_auth_rules >= TL_MAX_AUTH_RULES)
            return TL_EINVAL;
        int rv = tl_auth_rule_parse(number, val,
                                    &c->auth_rules[c->n_auth_rules], why);
        if (rv == 0)
            c->n_auth_rules++;
        return rv;
    }
    if (strcmp(key, "router.listen") == 0) {
        *why = "router.listen must be host:port";
        return set_addr(c->router_listen, val);
    }
    if (strcmp(key, "router.admin") == 0) {
        *why = "router.admin must be host:port";
        return set_addr(c->router_admin, val);
    }
    if (strncmp(key, "node.", 5) == 0) {
        char *end;
        errno = 0;
        unsigned long id = strtoul(key + 5, &end, 10);
        *why = "node ids must be 1..64";
        if (errno != 0 || end == key + 5 || *end != '.' || id < 1 ||
            id > TL_MAX_NODES)
            return TL_EINVAL;
        struct tl_node_config *n = &c->nodes[id - 1];
        n->id = (uint32_t)id;
        if (id > c->n_nodes)
            c->n_nodes = (uint32_t)id;
        const char *field = end + 1;
        if (strcmp(field, "rpc") == 0) {
            *why = "node.N.rpc must be host:port";
            return set_addr(n->rpc_addr, val);
        }
        if (strcmp(field, "raft") == 0) {
            *why = "node.N.raft must be host:port";
            return set_addr(n->raft_addr, val);
        }
        if (strcmp(field, "admin") == 0) {
            *why = "node.N.admin must be host:port";
            return set_addr(n->admin_addr, val);
        }
        if (strcmp(field, "dir") == 0) {
            *why = "node.N.dir is too long";
            if (strlen(val) >= sizeof(n->dir) || val[0] == '\0')
                return TL_EINVAL;
            snprintf(n->dir, sizeof(n->dir), "%s", val);
            return 0;
        }
        *why = "unknown node field (rpc, raft, dir, admin)";
        return TL_EINVAL;
    }
    *why = "unknown key";
    return TL_EINVAL;
}

static int
cmp_rule(const void *a, const void *b)
{
    const struct tl_auth_rule *x = a, *y = b;
    return (x->number > y->number) - (x->number < y->number);
}

int
tl_cluster_config_load(const char *path, struct tl_cluster_config *c,
                       char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char line[PATH_MAX + 256];
    int lineno = 0;

    if (f == NULL) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        return TL_EIO;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        char *s = trim(line);
        if (*s == '\0')
            continue;
        char *eq = strchr(s, '=');
        const char *why = "expected key = value";
        if (eq == NULL)
            goto bad;
        *eq = '\0';
        if (apply_line(c, trim(s), trim(eq + 1), &why) != 0)
            goto bad;
        continue;
    bad:
        snprintf(errbuf, errlen, "%s:%d: %s", path, lineno, why);
        fclose(f);
        return TL_EINVAL;
    }
    fclose(f);
    qsort(c->auth_rules, c->n_auth_rules, sizeof(c->auth_rules[0]), cmp_rule);
    if (c->ssl_mode != TL_SSL_OFF &&
        (c->ssl_cert_file[0] == '\0' || c->ssl_key_file[0] == '\0')) {
        snprintf(errbuf, errlen,
                 "%s: ssl = on or required needs ssl_cert_file and "
                 "ssl_key_file",
                 path);
        return TL_EINVAL;
    }
    for (uint32_t i = 0; i < c->n_nodes; i++) {
        const struct tl_node_config *n = &c->nodes[i];
        if (n->id != i + 1 || n->rpc_addr[0] == '\0' ||
            n->raft_addr[0] == '\0' || n->dir[0] == '\0') {
            snprintf(errbuf, errlen,
                     "%s: node %u needs rpc, raft and dir (ids are 1..n)", path,
                     i + 1);
            return TL_EINVAL;
        }
    }
    if (c->n_nodes == 0) {
        snprintf(errbuf, errlen, "%s: no nodes configured", path);
        return TL_EINVAL;
    }
    if (c->n_initial_nodes == 0)
        c->n_initial_nodes = c->n_nodes;
    if (c->n_initial_nodes > c->n_nodes) {
        snprintf(errbuf, errlen, "%s: initial_nodes (%u) exceed nodes (%u)",
                 path, c->n_initial_nodes, c->n_nodes);
        return TL_EINVAL;
    }
    if (c->n_replicas > c->n_initial_nodes) {
        snprintf(errbuf, errlen, "%s: replicas (%u) exceed initial nodes (%u)",
                 path, c->n_replicas, c->n_initial_nodes);
        return TL_EINVAL;
    }
    if (c->heartbeat_ms * 2 > c->election_timeout_ms) {
        snprintf(errbuf, errlen,
                 "%s: heartbeat_ms (%u) must be at most half of "
                 "election_timeout_ms (%u)",
                 path, c->heartbeat_ms, c->election_timeout_ms);
        return TL_EINVAL;
    }
    return 0;
}

uint32_t
tl_cluster_shard_node(const struct tl_cluster_config *c, uint32_t shard)
{
    uint32_t m = c->n_initial_nodes ? c->n_initial_nodes : c->n_nodes;
    if (shard == TL_META_GROUP)
        return 1;
    return shard % m + 1;
}

uint32_t
tl_cluster_meta_replicas(const struct tl_cluster_config *c)
{
    uint32_t m = c->n_initial_nodes ? c->n_initial_nodes : c->n_nodes;
    return m < TL_META_REPLICAS ? m : TL_META_REPLICAS;
}

int
tl_cluster_shard_replicas(const struct tl_cluster_config *c, uint32_t shard,
                          uint32_t *ids, uint32_t max)
{
    uint32_t m = c->n_initial_nodes ? c->n_initial_nodes : c->n_nodes;
    uint32_t r = c->n_replicas < m ? c->n_replicas : m;
    uint32_t k;

    if (shard == TL_META_GROUP) {
        for (k = 0; k < tl_cluster_meta_replicas(c) && k < max; k++)
            ids[k] = k + 1;
        return (int)k;
    }
    for (k = 0; k < r && k < max; k++)
        ids[k] = (shard + k) % m + 1;
    return (int)k;
}

const struct tl_node_config *
tl_cluster_node(const struct tl_cluster_config *c, uint32_t id)
{
    if (id < 1 || id > c->n_nodes)
        return NULL;
    return &c->nodes[id - 1];
}
