/* node_meta — see node_meta.h. */
#include "node/meta/node_meta.h"

#include <assert.h>
#include <string.h>

#include "buf.h"
#include "common/meta/meta_keys.h"

void
node_meta_init(struct node_meta *m, const struct tl_cluster_config *cfg,
               uint32_t id, struct replica_set *rs, long long tso_skew_ms)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    m->id = id;
    m->self = tl_cluster_node(&m->cfg, id);
    assert(m->self != NULL);
    m->rs = rs;
    tso_init(&m->tso, tso_skew_ms);
}

void
node_meta_close(struct node_meta *m)
{
    tso_close(&m->tso);
}

void
node_meta_learn_version(struct node_meta *n, uint64_t v)
{
    uint64_t cur = atomic_load(&n->map_version);
    while (v > cur && !atomic_compare_exchange_weak(&n->map_version, &cur, v))
        ;
}

void
node_meta_learn_catalog_batch(struct node_meta *n, const Talus__WriteBatch *wb)
{
    struct tl_buf key;
    tl_buf_init(&key);
    tl_meta_key_map_version(&key);
    for (size_t i = 0; i < wb->n_mutations; i++) {
        const Talus__Mutation *m = wb->mutations[i];
        int64_t v;
        if (m->kind != TALUS__MUTATION__KIND__PUT || !m->has_value ||
            m->key.len != key.len || memcmp(m->key.data, key.data, key.len) ||
            tl_meta_counter_decode(m->value.data, m->value.len, &v) != 0)
            continue;
        node_meta_learn_version(n, (uint64_t)v);
    }
    tl_buf_close(&key);
}
