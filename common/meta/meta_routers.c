/* meta_routers — router records of the meta keyspace (meta_routers.h). */
#include "common/meta/meta_routers.h"

#include <assert.h>
#include <string.h>

#include "common/meta/meta_keys.h"
#include "keycodec.h"
#include "row.h"
#include "tl_error.h"
#include "value.h"

/* The schema version of the row (meta_keys.c's META_ROW_VERSION). */
#define ROUTER_ROW_VERSION 1
#define ROUTER_ROW_COLUMNS 5
#define ROUTER_ROW_MIN_COLUMNS 4 /* rows of routers before the fifth */

void
tl_meta_key_router(struct tl_buf *key, uint32_t id)
{
    struct tl_value v = tl_value_int(TL_TYPE_INT8, (int64_t)id);
    tl_meta_key_index(key, TL_META_INDEX_ROUTER);
    tl_key_encode_value(key, &v);
}

void
tl_meta_router_encode(struct tl_buf *row, const struct tl_meta_router *r)
{
    size_t len = strnlen(r->addr, sizeof r->addr);
    assert(len <= TL_META_ROUTER_ADDR_MAX);
    assert(r->incarnation > 0 && r->incarnation <= INT64_MAX);
    struct tl_value v[ROUTER_ROW_COLUMNS] = {
        tl_value_int(TL_TYPE_INT8, (int64_t)r->id),
        tl_value_int(TL_TYPE_INT8, (int64_t)r->incarnation),
        tl_value_text(TL_TYPE_TEXT, r->addr, (uint32_t)len),
        tl_value_int(TL_TYPE_INT8, r->lease_expires_ms),
        tl_value_int(TL_TYPE_INT8, (int64_t)r->oldest_txn_ts),
    };
    assert(r->oldest_txn_ts <= INT64_MAX);
    tl_row_encode(v, ROUTER_ROW_COLUMNS, ROUTER_ROW_VERSION, row);
}

int
tl_meta_router_decode(const uint8_t *p, size_t len, struct tl_meta_router *r)
{
    struct tl_value v[ROUTER_ROW_COLUMNS];
    size_t got;
    if (tl_row_decode(p, len, v, ROUTER_ROW_COLUMNS, &got) != 0 ||
        got < ROUTER_ROW_MIN_COLUMNS)
        return TL_ECORRUPT;
    for (size_t i = 0; i < got && i < ROUTER_ROW_COLUMNS; i++)
        if (v[i].is_null)
            return TL_ECORRUPT;
    if (got >= 5 && (!tl_type_is_int(v[4].type) || v[4].u.i < 0))
        return TL_ECORRUPT;
    if (!tl_type_is_int(v[0].type) || v[0].u.i < 0 ||
        v[0].u.i > (int64_t)UINT32_MAX || !tl_type_is_int(v[1].type) ||
        v[1].u.i <= 0 || !tl_type_has_text(v[2].type) ||
        v[2].u.s.len > TL_META_ROUTER_ADDR_MAX || !tl_type_is_int(v[3].type))
        return TL_ECORRUPT;
    r->id = (uint32_t)v[0].u.i;
    r->incarnation = (uint64_t)v[1].u.i;
    memcpy(r->addr, v[2].u.s.p, v[2].u.s.len);
    r->addr[v[2].u.s.len] = '\0';
    r->lease_expires_ms = v[3].u.i;
    r->oldest_txn_ts = got >= 5 ? (uint64_t)v[4].u.i : 0;
    return 0;
}

enum tl_meta_router_liveness
tl_meta_router_liveness(const struct tl_meta_router *rec, uint64_t incarnation,
                        int64_t now_ms)
{
    if (rec == NULL || rec->incarnation < incarnation)
        return TL_META_ROUTER_DEAD;
    if (rec->incarnation > incarnation)
        return TL_META_ROUTER_SUPERSEDED;
    return now_ms < rec->lease_expires_ms ? TL_META_ROUTER_ALIVE
                                          : TL_META_ROUTER_DEAD;
}

enum tl_meta_router_liveness
tl_meta_router_row_liveness(const uint8_t *p, size_t len, uint64_t incarnation,
                            int64_t now_ms)
{
    struct tl_meta_router rec;
    if (p == NULL || tl_meta_router_decode(p, len, &rec) != 0)
        return TL_META_ROUTER_DEAD;
    return tl_meta_router_liveness(&rec, incarnation, now_ms);
}

const char *
tl_meta_router_liveness_name(enum tl_meta_router_liveness l)
{
    switch (l) {
    case TL_META_ROUTER_ALIVE:
        return "alive";
    case TL_META_ROUTER_SUPERSEDED:
        return "superseded";
    case TL_META_ROUTER_DEAD:
        break;
    }
    return "dead";
}
