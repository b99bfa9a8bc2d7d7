/* meta_keys — keys and rows of the meta keyspace (meta_keys.h). */
#include "common/meta/meta_keys.h"

#include <assert.h>
#include <string.h>

#include "cluster_config.h"
#include "keycodec.h"
#include "row.h"
#include "tl_error.h"
#include "value.h"

/* The schema version of every system row. Stored. */
#define META_ROW_VERSION 1

/* ------------------------------------------------------------ keys */

void
tl_meta_key_index(struct tl_buf *key, enum tl_meta_index index)
{
    tl_key_encode_prefix(key, TL_META_TABLE_ID, (uint32_t)index);
}

/* prefix(0, @index) | text @name. */
static void
append_named_key(struct tl_buf *key, enum tl_meta_index index, const char *name)
{
    struct tl_value v =
        tl_value_text(TL_TYPE_TEXT, name, (uint32_t)strlen(name));
    tl_meta_key_index(key, index);
    tl_key_encode_value(key, &v);
}

void
tl_meta_key_table(struct tl_buf *key, const char *name)
{
    append_named_key(key, TL_META_INDEX_TABLE, name);
}

void
tl_meta_key_next_id(struct tl_buf *key)
{
    tl_meta_key_index(key, TL_META_INDEX_NEXT_ID);
}

void
tl_meta_key_auth_secret(struct tl_buf *key)
{
    tl_meta_key_index(key, TL_META_INDEX_AUTH_SECRET);
}

void
tl_meta_key_map_version(struct tl_buf *key)
{
    tl_meta_key_index(key, TL_META_INDEX_MAP_VERSION);
}

void
tl_meta_key_vschema(struct tl_buf *key, const char *name)
{
    append_named_key(key, TL_META_INDEX_VSCHEMA, name);
}

void
tl_meta_key_sequence(struct tl_buf *key, const char *name)
{
    append_named_key(key, TL_META_INDEX_SEQUENCE, name);
}

void
tl_meta_key_role(struct tl_buf *key, const char *name)
{
    append_named_key(key, TL_META_INDEX_ROLE, name);
}

void
tl_meta_key_seq_value(struct tl_buf *key, uint32_t id)
{
    struct tl_value v = tl_value_int(TL_TYPE_INT8, (int64_t)id);
    tl_meta_key_index(key, TL_META_INDEX_SEQ_VALUE);
    tl_key_encode_value(key, &v);
}

void
tl_meta_key_registry(struct tl_buf *key, enum tl_meta_index index, uint32_t id)
{
    assert(index == TL_META_INDEX_NODE || index == TL_META_INDEX_SHARD ||
           index == TL_META_INDEX_SETTINGS);
    tl_meta_key_index(key, index);
    if (index != TL_META_INDEX_SETTINGS) {
        struct tl_value v = tl_value_int(TL_TYPE_INT8, (int64_t)id);
        tl_key_encode_value(key, &v);
    }
}

void
tl_meta_range_index(struct tl_buf *start, struct tl_buf *end,
                    enum tl_meta_index index)
{
    tl_buf_reset(start);
    tl_buf_reset(end);
    tl_meta_key_index(start, index);
    tl_meta_key_index(end, index);
    /* An 8-byte prefix is never all 0xFF: this cannot fail. */
    int rv = tl_key_prefix_end(end);
    assert(rv == 0);
    (void)rv;
}

/* ------------------------------------------------------------ records */

void
tl_meta_key_gc_safe_point(struct tl_buf *key)
{
    tl_meta_key_index(key, TL_META_INDEX_GC_SAFE_POINT);
}

void
tl_meta_key_gc_hold(struct tl_buf *key, const char *holder)
{
    append_named_key(key, TL_META_INDEX_GC_HOLD, holder);
}

void
tl_meta_counter_encode(struct tl_buf *row, int64_t value)
{
    struct tl_value v = tl_value_int(TL_TYPE_INT8, value);
    tl_row_encode(&v, 1, META_ROW_VERSION, row);
}

int
tl_meta_counter_decode(const uint8_t *p, size_t len, int64_t *value)
{
    struct tl_value v;
    if (tl_row_decode(p, len, &v, 1, NULL) != 0 || v.is_null ||
        !tl_type_is_int(v.type))
        return TL_ECORRUPT;
    *value = v.u.i;
    return 0;
}

/* Append a one-column text row holding @p/@len. */
static void
encode_text_row(struct tl_buf *row, const void *p, size_t len)
{
    struct tl_value v =
        tl_value_text(TL_TYPE_TEXT, (const char *)p, (uint32_t)len);
    tl_row_encode(&v, 1, META_ROW_VERSION, row);
}

/* The first column of the row at @p/@len when it is non-NULL text
 * (borrowed from @p). */
static int
decode_text_col0(const uint8_t *p, size_t len, struct tl_value *v)
{
    if (tl_row_decode(p, len, v, 1, NULL) != 0 || v->is_null ||
        !tl_type_has_text(v->type))
        return TL_ECORRUPT;
    return 0;
}

void
tl_meta_table_encode(struct tl_buf *row, const struct tl_table *t)
{
    struct tl_arena a;
    Talus__TableDesc pb;

    tl_arena_init(&a);
    tl_table_to_proto(t, &a, &pb);
    size_t len = talus__table_desc__get_packed_size(&pb);
    uint8_t *packed = tl_arena_alloc(&a, len + 1);
    talus__table_desc__pack(&pb, packed);
    encode_text_row(row, packed, len);
    tl_arena_close(&a);
}

int
tl_meta_table_decode(const uint8_t *p, size_t len, struct tl_table **out)
{
    struct tl_value v;
    if (decode_text_col0(p, len, &v) != 0)
        return TL_ECORRUPT;
    Talus__TableDesc *d =
        talus__table_desc__unpack(NULL, v.u.s.len, (const uint8_t *)v.u.s.p);
    if (d == NULL)
        return TL_ECORRUPT;
    int rv = tl_table_from_proto(d, out, NULL);
    talus__table_desc__free_unpacked(d, NULL);
    return rv;
}

void
tl_meta_sequence_encode(struct tl_buf *row, const struct tl_sequence *s)
{
    struct tl_arena a;
    Talus__SequenceDesc pb;

    tl_arena_init(&a);
    tl_sequence_to_proto(s, &a, &pb);
    size_t len = talus__sequence_desc__get_packed_size(&pb);
    uint8_t *packed = tl_arena_alloc(&a, len + 1);
    talus__sequence_desc__pack(&pb, packed);
    encode_text_row(row, packed, len);
    tl_arena_close(&a);
}

int
tl_meta_sequence_decode(const uint8_t *p, size_t len, struct tl_sequence *s)
{
    struct tl_value v;
    if (decode_text_col0(p, len, &v) != 0)
        return TL_ECORRUPT;
    Talus__SequenceDesc *d =
        talus__sequence_desc__unpack(NULL, v.u.s.len, (const uint8_t *)v.u.s.p);
    if (d == NULL)
        return TL_ECORRUPT;
    int rv = tl_sequence_from_proto(d, s, NULL);
    talus__sequence_desc__free_unpacked(d, NULL);
    return rv;
}

void
tl_meta_seq_value_encode(struct tl_buf *row, int64_t last_value, bool is_called)
{
    struct tl_value v[2] = {tl_value_int(TL_TYPE_INT8, last_value),
                            tl_value_bool(is_called)};
    tl_row_encode(v, 2, META_ROW_VERSION, row);
}

int
tl_meta_seq_value_decode(const uint8_t *p, size_t len, int64_t *last_value,
                         bool *is_called)
{
    struct tl_value v[2];
    size_t got;
    if (tl_row_decode(p, len, v, 2, &got) != 0 || got != 2 || v[0].is_null ||
        !tl_type_is_int(v[0].type) || v[1].is_null || v[1].type != TL_TYPE_BOOL)
        return TL_ECORRUPT;
    *last_value = v[0].u.i;
    *is_called = v[1].u.b;
    return 0;
}

void
tl_meta_role_encode(struct tl_buf *row, const struct tl_role *r)
{
    struct tl_value v[6] = {
        tl_value_text(TL_TYPE_TEXT, r->name, (uint32_t)strlen(r->name)),
        tl_value_int(TL_TYPE_INT8, (int64_t)r->oid),
        r->verifier[0] != '\0' ? tl_value_text(TL_TYPE_TEXT, r->verifier,
                                               (uint32_t)strlen(r->verifier))
                               : tl_value_null(TL_TYPE_TEXT),
        tl_value_bool(r->superuser),
        tl_value_bool(r->login),
        tl_value_int(TL_TYPE_INT8, r->conn_limit),
    };
    tl_row_encode(v, 6, META_ROW_VERSION, row);
}

int
tl_meta_role_decode(const uint8_t *p, size_t len, struct tl_role *r)
{
    struct tl_value v[6];
    size_t got;
    if (tl_row_decode(p, len, v, 6, &got) != 0 || got != 6 || v[0].is_null ||
        v[0].type != TL_TYPE_TEXT || v[0].u.s.len >= sizeof(r->name) ||
        v[1].is_null || !tl_type_is_int(v[1].type) ||
        (!v[2].is_null &&
         (v[2].type != TL_TYPE_TEXT || v[2].u.s.len >= sizeof(r->verifier))) ||
        v[3].is_null || v[3].type != TL_TYPE_BOOL || v[4].is_null ||
        v[4].type != TL_TYPE_BOOL || v[5].is_null || !tl_type_is_int(v[5].type))
        return TL_ECORRUPT;
    memcpy(r->name, v[0].u.s.p, v[0].u.s.len);
    r->name[v[0].u.s.len] = '\0';
    r->oid = (uint32_t)v[1].u.i;
    r->verifier[0] = '\0';
    if (!v[2].is_null) {
        memcpy(r->verifier, v[2].u.s.p, v[2].u.s.len);
        r->verifier[v[2].u.s.len] = '\0';
    }
    r->superuser = v[3].u.b;
    r->login = v[4].u.b;
    r->conn_limit = (int32_t)v[5].u.i;
    return 0;
}

void
tl_meta_auth_secret_encode(struct tl_buf *row, const uint8_t secret[32])
{
    static const char hex[] = "0123456789abcdef";
    char text[64];
    for (int i = 0; i < 32; i++) {
        text[2 * i] = hex[secret[i] >> 4];
        text[2 * i + 1] = hex[secret[i] & 15];
    }
    encode_text_row(row, text, sizeof(text));
}

static int
hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

int
tl_meta_auth_secret_decode(const uint8_t *p, size_t len, uint8_t secret[32])
{
    struct tl_value v;
    if (decode_text_col0(p, len, &v) != 0 || v.u.s.len != 64)
        return TL_ECORRUPT;
    for (int i = 0; i < 32; i++) {
        int hi = hex_digit(v.u.s.p[2 * i]), lo = hex_digit(v.u.s.p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return TL_ECORRUPT;
        secret[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

void
tl_meta_vschema_encode(struct tl_buf *row, const char *json, size_t len)
{
    encode_text_row(row, json, len);
}

int
tl_meta_vschema_decode(const uint8_t *p, size_t len, const char **json,
                       size_t *json_len)
{
    struct tl_value v;
    if (decode_text_col0(p, len, &v) != 0)
        return TL_ECORRUPT;
    *json = v.u.s.p;
    *json_len = v.u.s.len;
    return 0;
}

#ifndef NDEBUG /* only the encoder's assertion asks */
/* The message type stored under registry index @index. */
static const ProtobufCMessageDescriptor *
record_descriptor(enum tl_meta_index index)
{
    switch (index) {
    case TL_META_INDEX_NODE:
        return &talus__node_record__descriptor;
    case TL_META_INDEX_SHARD:
        return &talus__shard_record__descriptor;
    case TL_META_INDEX_SETTINGS:
        return &talus__cluster_settings__descriptor;
    default:
        return NULL;
    }
}
#endif

void
tl_meta_record_encode(struct tl_buf *row, enum tl_meta_index index,
                      const ProtobufCMessage *msg)
{
    assert(record_descriptor(index) != NULL &&
           msg->descriptor == record_descriptor(index));
    struct tl_arena a;
    tl_arena_init(&a);
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *packed = tl_arena_alloc(&a, len + 1);
    protobuf_c_message_pack(msg, packed);
    struct tl_value vals[2];
    vals[0] = tl_value_text(TL_TYPE_TEXT, (const char *)packed, (uint32_t)len);
    vals[1] = tl_value_int(TL_TYPE_INT8, (int64_t)index);
    tl_row_encode(vals, 2, META_ROW_VERSION, row);
    tl_arena_close(&a);
}

int
tl_meta_record_decode(const uint8_t *p, size_t len, int64_t *index,
                      const uint8_t **packed, size_t *packed_len)
{
    struct tl_value vals[2];
    size_t n_cols = 0;
    if (tl_row_decode(p, len, vals, 2, &n_cols) != 0 || n_cols != 2 ||
        vals[0].is_null || !tl_type_has_text(vals[0].type) || vals[1].is_null ||
        !tl_type_is_int(vals[1].type))
        return TL_ECORRUPT;
    *index = vals[1].u.i;
    *packed = (const uint8_t *)vals[0].u.s.p;
    *packed_len = vals[0].u.s.len;
    return 0;
}

/* ------------------------------------------------------------ scans */

/* A table description of TL_META_TABLE_ID named @name with two columns of
 * @names and @types, primary key column 0, in @a. */
static Talus__TableDesc *
make_desc(struct tl_arena *a, const char *name, const char *const names[2],
          const uint32_t types[2])
{
    Talus__TableDesc *d = tl_arena_alloc(a, sizeof(*d));
    talus__table_desc__init(d);
    d->id = TL_META_TABLE_ID;
    d->name = (char *)name;
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
    return d;
}

Talus__TableDesc *
tl_meta_catalog_desc(struct tl_arena *a)
{
    static const char *const names[2] = {"name", "desc"};
    static const uint32_t types[2] = {TL_TYPE_TEXT, TL_TYPE_TEXT};
    return make_desc(a, "talus_catalog", names, types);
}

/* The key range [prefix(0, @from), prefix(0, @to)) in @a. */
static Talus__KeyRange *
make_range(struct tl_arena *a, enum tl_meta_index from, uint32_t to)
{
    struct tl_buf s, e;
    Talus__KeyRange *r = tl_arena_alloc(a, sizeof(*r));
    talus__key_range__init(r);
    tl_buf_init(&s);
    tl_buf_init(&e);
    tl_meta_key_index(&s, from);
    tl_key_encode_prefix(&e, TL_META_TABLE_ID, to);
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
tl_meta_registry_scan(struct tl_arena *a)
{
    static const char *const names[2] = {"record", "kind"};
    static const uint32_t types[2] = {TL_TYPE_TEXT, TL_TYPE_INT8};
    Talus__ScanFragment *sf = tl_arena_alloc(a, sizeof(*sf));
    talus__scan_fragment__init(sf);
    sf->table = make_desc(a, "talus_registry", names, types);
    sf->n_ranges = 2;
    sf->ranges = tl_arena_alloc(a, 2 * sizeof(Talus__KeyRange *));
    sf->ranges[0] =
        make_range(a, TL_META_INDEX_MAP_VERSION, TL_META_INDEX_MAP_VERSION + 1);
    sf->ranges[1] = make_range(a, TL_META_INDEX_NODE, TL_META_REGISTRY_END);
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

/* Whether the row at @p/@len is the map version: exactly one non-NULL
 * integer column (registry rows have two). */
static bool
decode_map_version(const uint8_t *p, size_t len, uint64_t *version)
{
    struct tl_value vals[2];
    size_t n_cols = 0;
    if (tl_row_decode(p, len, vals, 2, &n_cols) != 0 || n_cols != 1 ||
        vals[0].is_null || !tl_type_is_int(vals[0].type))
        return false;
    *version = (uint64_t)vals[0].u.i;
    return true;
}

int
tl_meta_registry_collect(const Talus__Response *resp, struct tl_arena *a,
                         Talus__ClusterMap *m)
{
    ProtobufCAllocator *pa = tl_arena_protobuf(a);
    int bad = 0;

    for (size_t i = 0; i < resp->n_rows; i++) {
        const uint8_t *row = resp->rows[i].data, *p;
        size_t row_len = resp->rows[i].len, len;
        uint64_t version;
        int64_t index;
        if (decode_map_version(row, row_len, &version)) {
            m->has_map_version = 1;
            m->map_version = version;
            continue;
        }
        if (tl_meta_record_decode(row, row_len, &index, &p, &len) != 0)
            continue;
        switch (index) {
        case TL_META_INDEX_NODE: {
            Talus__NodeRecord *r = talus__node_record__unpack(pa, len, p);
            if (r == NULL)
                bad++;
            else
                push(a, (void ***)&m->nodes, &m->n_nodes, r);
            break;
        }
        case TL_META_INDEX_SHARD: {
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
        case TL_META_INDEX_SETTINGS: {
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
