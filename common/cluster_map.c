#include "cluster_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keycodec.h"
#include "row.h"
#include "rpc.h"
#include "tl_error.h"
#include "value.h"

void
tl_reg_key(struct tl_buf *key, uint32_t index, uint32_t id)
{
    tl_key_encode_prefix(key, 0, index);
    if (index != TL_REG_INDEX_SETTINGS) {
        struct tl_value v = tl_value_int(TL_TYPE_INT8, (int64_t)id);
        tl_key_encode_value(key, &v);
    }
}

void
tl_reg_value(struct tl_buf *row, uint32_t index, const uint8_t *packed,
             size_t len)
{
    struct tl_value vals[2];
    vals[0] = tl_value_text(TL_TYPE_TEXT, (const char *)packed, (uint32_t)len);
    vals[1] = tl_value_int(TL_TYPE_INT8, (int64_t)index);
    tl_row_encode(vals, 2, 1, row);
}

void
tl_reg_hash_range(uint32_t s, uint32_t n, uint64_t *lo, uint64_t *hi)
{
    /* The first hash h with floor(h * n / 2^64) >= s is ceil(s * 2^64 /
     * n); the last shard ends at 2^64 - 1. */
    unsigned __int128 a = (((unsigned __int128)s << 64) + n - 1) / n;
    unsigned __int128 b = (((unsigned __int128)(s + 1) << 64) + n - 1) / n;
    *lo = (uint64_t)a;
    *hi = (uint64_t)(b - 1);
}

static Talus__KeyRange *
make_range(struct tl_arena *a, uint32_t from, uint32_t to)
{
    struct tl_buf s, e;
    Talus__KeyRange *r = tl_arena_alloc(a, sizeof(*r));
    talus__key_range__init(r);
    tl_buf_init(&s);
    tl_buf_init(&e);
    tl_key_encode_prefix(&s, 0, from);
    tl_key_encode_prefix(&e, 0, to);
    r->start.data = tl_arena_alloc(a, s.len);
    memcpy(r->start.data, s.data, s.len);
    r->start.len = s.len;
    r->end.data = tl_arena_alloc(a, e.len);
    memcpy(r->end.data, e.data, e.len);
    r->end.len = e.len;
    tl_buf_close(&s);
    tl_buf_close(&e);
    return r;
}

Talus__ScanFragment *
tl_reg_scan(struct tl_arena *a)
{
    static const char *names[2] = {"record", "kind"};
    static const uint32_t types[2] = {TL_TYPE_TEXT, TL_TYPE_INT8};
    Talus__TableDesc *d = tl_arena_alloc(a, sizeof(*d));
    talus__table_desc__init(d);
    d->id = 0;
    d->name = "talus_registry";
    d->n_columns = 2;
    d->columns = tl_arena_alloc(a, 2 * sizeof(Talus__Column *));
    for (int i = 0; i < 2; i++) {
        Talus__Column *col = tl_arena_alloc(a, sizeof(*col));
        talus__column__init(col);
        col->name = (char *)names[i];
        col->type = types[i];
        d->columns[i] = col;
    }
    d->n_pk = 1;
    d->pk = tl_arena_calloc(a, sizeof(uint32_t));
    Talus__ScanFragment *sf = tl_arena_alloc(a, sizeof(*sf));
    talus__scan_fragment__init(sf);
    sf->table = d;
    sf->n_ranges = 2;
    sf->ranges = tl_arena_alloc(a, 2 * sizeof(Talus__KeyRange *));
    sf->ranges[0] =
        make_range(a, TL_REG_INDEX_MAP_VERSION, TL_REG_INDEX_MAP_VERSION + 1);
    sf->ranges[1] = make_range(a, TL_REG_INDEX_NODE, TL_REG_INDEX_END);
    return sf;
}

/* Append @p to the array *@v of *@n pointers (arena-grown). */
static void
push(struct tl_arena *a, void ***v, size_t *n, void *p)
{
    void **nv = tl_arena_alloc(a, (*n + 1) * sizeof(void *));
    if (*n > 0)
        memcpy(nv, *v, *n * sizeof(void *));
    nv[(*n)++] = p;
    *v = nv;
}

int
tl_reg_collect(const Talus__Response *resp, struct tl_arena *a,
               Talus__ClusterMap *m)
{
    ProtobufCAllocator *pa = tl_arena_protobuf(a);
    int bad = 0;

    for (size_t i = 0; i < resp->n_rows; i++) {
        struct tl_value vals[2];
        size_t n_cols = 0;
        if (tl_row_decode(resp->rows[i].data, resp->rows[i].len, vals, 2,
                          &n_cols) != 0)
            continue;
        if (n_cols == 1 && !vals[0].is_null && tl_type_is_int(vals[0].type)) {
            m->has_map_version = 1;
            m->map_version = (uint64_t)vals[0].u.i;
            continue;
        }
        if (n_cols != 2 || vals[0].is_null || vals[1].is_null ||
            !tl_type_is_int(vals[1].type))
            continue;
        const uint8_t *p = (const uint8_t *)vals[0].u.s.p;
        size_t len = vals[0].u.s.len;
        switch (vals[1].u.i) {
        case TL_REG_INDEX_NODE: {
            Talus__NodeRecord *r = talus__node_record__unpack(pa, len, p);
            if (r == NULL)
                bad++;
            else
                push(a, (void ***)&m->nodes, &m->n_nodes, r);
            break;
        }
        case TL_REG_INDEX_SHARD: {
            Talus__ShardRecord *r = talus__shard_record__unpack(pa, len, p);
            if (r == NULL) {
                bad++;
            } else if (r->shard == TL_META_GROUP) {
                m->meta_voters = r->replicas;
                m->n_meta_voters = r->n_replicas;
                if (r->has_leader && !m->has_meta_leader) {
                    m->has_meta_leader = 1;
                    m->meta_leader = r->leader;
                }
            } else {
                push(a, (void ***)&m->shards, &m->n_shards, r);
            }
            break;
        }
        case TL_REG_INDEX_SETTINGS: {
            Talus__ClusterSettings *r =
                talus__cluster_settings__unpack(pa, len, p);
            if (r == NULL)
                bad++;
            else
                m->settings = r;
            break;
        }
        default:
            break;
        }
    }
    return bad;
}

const Talus__NodeRecord *
tl_cluster_map_node(const Talus__ClusterMap *m, uint32_t id)
{
    for (size_t i = 0; i < m->n_nodes; i++)
        if (m->nodes[i]->id == id)
            return m->nodes[i];
    return NULL;
}

const Talus__ShardRecord *
tl_cluster_map_shard(const Talus__ClusterMap *m, uint32_t shard)
{
    for (size_t i = 0; i < m->n_shards; i++)
        if (m->shards[i]->shard == shard)
            return m->shards[i];
    return NULL;
}

uint32_t
tl_cluster_map_add_nodes(const Talus__ClusterMap *m,
                         struct tl_cluster_config *c)
{
    uint32_t added = 0;
    for (size_t i = 0; i < m->n_nodes; i++) {
        const Talus__NodeRecord *r = m->nodes[i];
        if (r->id < 1 || r->id > TL_MAX_NODES ||
            strlen(r->rpc_addr) >= TL_ADDR_MAX ||
            strlen(r->raft_addr) >= TL_ADDR_MAX)
            continue;
        struct tl_node_config *n = &c->nodes[r->id - 1];
        if (r->id <= c->n_nodes && n->rpc_addr[0] != '\0')
            continue;
        snprintf(n->rpc_addr, sizeof n->rpc_addr, "%s", r->rpc_addr);
        snprintf(n->raft_addr, sizeof n->raft_addr, "%s", r->raft_addr);
        if (r->id > c->n_nodes)
            c->n_nodes = r->id;
        added++;
    }
    /* Ids are dense in a config: name the gaps, with no address. */
    for (uint32_t i = 0; i < c->n_nodes; i++)
        c->nodes[i].id = i + 1;
    return added;
}

int
tl_cluster_map_to_config(const Talus__ClusterMap *m,
                         struct tl_cluster_config *c, char *errbuf,
                         size_t errlen)
{
    const Talus__ClusterSettings *s = m->settings;

    if (s == NULL || s->n_shards < 1 || s->n_shards > TL_META_GROUP ||
        s->replicas < 1 || s->initial_nodes < 1 ||
        s->initial_nodes > TL_MAX_NODES) {
        snprintf(errbuf, errlen, "the cluster map has no valid settings");
        return TL_EINVAL;
    }
    c->n_shards = s->n_shards;
    c->n_replicas = s->replicas;
    c->n_initial_nodes = s->initial_nodes;
    if (s->has_request_timeout_ms && s->request_timeout_ms > 0)
        c->request_timeout_ms = s->request_timeout_ms;
    if (s->has_election_timeout_ms && s->election_timeout_ms > 0)
        c->election_timeout_ms = s->election_timeout_ms;
    if (s->has_heartbeat_ms && s->heartbeat_ms > 0)
        c->heartbeat_ms = s->heartbeat_ms;
    if (s->has_max_entry_bytes &&
        s->max_entry_bytes >= TL_MAX_ENTRY_BYTES_MIN &&
        s->max_entry_bytes <= TL_MAX_ENTRY_BYTES_MAX)
        c->max_entry_bytes = s->max_entry_bytes;
    tl_cluster_map_add_nodes(m, c);
    if (c->n_initial_nodes > c->n_nodes)
        c->n_nodes = c->n_initial_nodes;
    for (uint32_t i = 0; i < c->n_nodes; i++)
        c->nodes[i].id = i + 1;
    if (c->n_nodes == 0) {
        snprintf(errbuf, errlen, "the cluster map lists no nodes");
        return TL_EINVAL;
    }
    return 0;
}

int
tl_cluster_map_fetch(const char *addrs, int timeout_ms, Talus__Response **out,
                     char *used, size_t usedlen, char *errbuf, size_t errlen)
{
    char list[1024], why[256] = "no address given";
    char *save = NULL;

    if (strlen(addrs) >= sizeof list) {
        snprintf(errbuf, errlen, "address list too long");
        return TL_EINVAL;
    }
    snprintf(list, sizeof list, "%s", addrs);
    for (char *a = strtok_r(list, ",", &save); a != NULL;
         a = strtok_r(NULL, ",", &save)) {
        struct tl_rpc_client *cl;
        Talus__Request req = TALUS__REQUEST__INIT;
        Talus__ClusterMapRequest cm = TALUS__CLUSTER_MAP_REQUEST__INIT;
        Talus__Response *resp = NULL;
        char host[TL_ADDR_MAX];
        uint16_t port;

        while (*a == ' ')
            a++;
        if (tl_addr_split(a, host, sizeof host, &port) != 0 ||
            tl_rpc_client_create(a, &cl) != 0) {
            snprintf(errbuf, errlen, "bad address %s (expected host:port)", a);
            return TL_EINVAL;
        }
        /* An address that is down should not hold up the next one. */
        tl_rpc_client_set_connect_timeout(
            cl, timeout_ms / 2 < 1000 ? timeout_ms / 2 : 1000);
        req.request_id = tl_rpc_next_id();
        req.body_case = TALUS__REQUEST__BODY_CLUSTER_MAP;
        req.cluster_map = &cm;
        int rv = tl_rpc_call(cl, &req, timeout_ms, &resp);
        tl_rpc_client_destroy(cl);
        if (rv != 0) {
            snprintf(why, sizeof why, "%s: %s", a, tl_strerror(rv));
            continue;
        }
        if (resp->error != NULL || resp->cluster_map == NULL ||
            resp->cluster_map->settings == NULL) {
            snprintf(why, sizeof why, "%s: %s", a,
                     resp->error != NULL ? resp->error->message
                                         : "no registry yet");
            talus__response__free_unpacked(resp, NULL);
            continue;
        }
        if (used != NULL)
            snprintf(used, usedlen, "%s", a);
        *out = resp;
        return 0;
    }
    snprintf(errbuf, errlen, "no node answered (last: %s)", why);
    return TL_EUNAVAILABLE;
}
