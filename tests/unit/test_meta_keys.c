/* Unit tests for common/meta/meta_keys.c: the stored bytes of every system
 * key and row of the meta keyspace (a change of the stored format fails
 * here), the order of the keys, and the round trip of every record codec
 * and of a registry scan's reply into a ClusterMap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_config.h"
#include "common/meta/meta_keys.h"
#include "common/meta/meta_routers.h"
#include "keycodec.h"
#include "row.h"

/* Whether @b holds exactly the @n bytes of @want; prints both if not. */
static void
assert_bytes(const struct tl_buf *b, const char *want, size_t n)
{
    if (b->len != n || memcmp(b->data, want, n) != 0) {
        fprintf(stderr, "got  ");
        for (size_t i = 0; i < b->len; i++)
            fprintf(stderr, "%02x", b->data[i]);
        fprintf(stderr, "\nwant ");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "%02x", (uint8_t)want[i]);
        fprintf(stderr, "\n");
        fail();
    }
}
#define ASSERT_BYTES(b, lit) assert_bytes((b), (lit), sizeof(lit) - 1)

static int
key_cmp(const struct tl_buf *a, const struct tl_buf *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->data, b->data, n);
    return c != 0 ? c : (a->len > b->len) - (a->len < b->len);
}

/* The index ids are the stored ones: 1..4 for the catalog, 16..18 for the
 * registry. */
static void
test_index_ids(void **state)
{
    (void)state;
    assert_int_equal(TL_META_TABLE_ID, 0);
    assert_int_equal(TL_META_FIRST_TABLE_ID, 1000);
    assert_int_equal(TL_META_INDEX_TABLE, 1);
    assert_int_equal(TL_META_INDEX_NEXT_ID, 2);
    assert_int_equal(TL_META_INDEX_MAP_VERSION, 3);
    assert_int_equal(TL_META_INDEX_VSCHEMA, 4);
    assert_int_equal(TL_META_INDEX_SEQUENCE, 5);
    assert_int_equal(TL_META_INDEX_SEQ_VALUE, 6);
    assert_int_equal(TL_META_INDEX_ROLE, 7);
    assert_int_equal(TL_META_INDEX_AUTH_SECRET, 8);
    assert_int_equal(TL_META_INDEX_NODE, 16);
    assert_int_equal(TL_META_INDEX_SHARD, 17);
    assert_int_equal(TL_META_INDEX_SETTINGS, 18);
    assert_int_equal(TL_META_REGISTRY_END, 19);
}

/* Every system key has the bytes data directories hold: prefix (table id
 * 0, index id, both 4 bytes big-endian), then the memcomparable key column
 * (text: 0x02, bytes, 0x00 0x01; int8: 0x02, 8 bytes big-endian with the
 * sign bit flipped). */
static void
test_key_bytes(void **state)
{
    (void)state;
    struct tl_buf k;
    tl_buf_init(&k);

    tl_meta_key_table(&k, "t1");
    ASSERT_BYTES(&k, "\0\0\0\0\0\0\0\x01"
                     "\x02t1\x00\x01");
    tl_buf_reset(&k);
    tl_meta_key_next_id(&k);
    ASSERT_BYTES(&k, "\0\0\0\0\0\0\0\x02");
    tl_buf_reset(&k);
    tl_meta_key_map_version(&k);
    ASSERT_BYTES(&k, "\0\0\0\0\0\0\0\x03");
    tl_buf_reset(&k);
    tl_meta_key_vschema(&k, "t1");
    ASSERT_BYTES(&k, "\0\0\0\0\0\0\0\x04"
                     "\x02t1\x00\x01");
    tl_buf_reset(&k);
    tl_meta_key_sequence(&k, "s1");
    ASSERT_BYTES(&k, "\0\0\0\0\0\0\0\x05"
                     "\x02s1\x00\x01");
    tl_buf_reset(&k);
    tl_meta_key_role(&k, "r1");
    ASSERT_BYTES(&k, "\0\0\0\0\0\0\0\x07"
                     "\x02r1\x00\x01");
    tl_buf_reset(&k);
    tl_meta_key_seq_value(&k, 1001);
    ASSERT_BYTES(&k, "\0\0\0\0\0\0\0\x06"
                     "\x02\x80\0\0\0\0\0\x03\xe9");
    tl_buf_reset(&k);
    tl_meta_key_registry(&k, TL_META_INDEX_NODE, 5);
    ASSERT_BYTES(&k, "\0\0\0\0\0\0\0\x10"
                     "\x02\x80\0\0\0\0\0\0\x05");
    tl_buf_reset(&k);
    tl_meta_key_registry(&k, TL_META_INDEX_SHARD, TL_META_GROUP);
    ASSERT_BYTES(&k, "\0\0\0\0\0\0\0\x11"
                     "\x02\x80\0\0\0\0\0\x03\xff");
    tl_buf_reset(&k);
    tl_meta_key_registry(&k, TL_META_INDEX_SETTINGS, 99); /* no id */
    ASSERT_BYTES(&k, "\0\0\0\0\0\0\0\x12");
    tl_buf_reset(&k);
    tl_meta_key_index(&k, TL_META_INDEX_TABLE);
    ASSERT_BYTES(&k, "\0\0\0\0\0\0\0\x01");
    /* An empty name is still a key column. */
    tl_buf_reset(&k);
    tl_meta_key_table(&k, "");
    ASSERT_BYTES(&k, "\0\0\0\0\0\0\0\x01"
                     "\x02\x00\x01");
    tl_buf_close(&k);
}

/* An index's range covers exactly its keys: [prefix(0, i), prefix(0, i+1)),
 * whatever the buffers held before. */
static void
test_range_index(void **state)
{
    (void)state;
    struct tl_buf s, e, k;
    tl_buf_init(&s);
    tl_buf_init(&e);
    tl_buf_init(&k);
    tl_buf_append(&s, "junk", 4);
    tl_buf_append(&e, "junk", 4);
    tl_meta_range_index(&s, &e, TL_META_INDEX_VSCHEMA);
    ASSERT_BYTES(&s, "\0\0\0\0\0\0\0\x04");
    ASSERT_BYTES(&e, "\0\0\0\0\0\0\0\x05");
    tl_meta_key_vschema(&k, "\xff\xff");
    assert_true(key_cmp(&s, &k) < 0 && key_cmp(&k, &e) < 0);
    tl_meta_range_index(&s, &e, TL_META_INDEX_MAP_VERSION);
    ASSERT_BYTES(&s, "\0\0\0\0\0\0\0\x03");
    ASSERT_BYTES(&e, "\0\0\0\0\0\0\0\x04");
    tl_buf_close(&s);
    tl_buf_close(&e);
    tl_buf_close(&k);
}

/* Keys sort by index, then key column: catalog keys before the registry,
 * registry keys inside the scanned range [prefix(0, 16), prefix(0, 19)),
 * node ids in numeric order. */
static void
test_key_order(void **state)
{
    (void)state;
    struct tl_buf lo, hi, cat, k1, k2, k10, sh, st;
    tl_buf_init(&lo);
    tl_buf_init(&hi);
    tl_buf_init(&cat);
    tl_buf_init(&k1);
    tl_buf_init(&k2);
    tl_buf_init(&k10);
    tl_buf_init(&sh);
    tl_buf_init(&st);
    tl_meta_key_index(&lo, TL_META_INDEX_NODE);
    tl_key_encode_prefix(&hi, TL_META_TABLE_ID, TL_META_REGISTRY_END);
    tl_meta_key_vschema(&cat, "zzz");
    tl_meta_key_registry(&k1, TL_META_INDEX_NODE, 1);
    tl_meta_key_registry(&k2, TL_META_INDEX_NODE, 2);
    tl_meta_key_registry(&k10, TL_META_INDEX_NODE, 10);
    tl_meta_key_registry(&sh, TL_META_INDEX_SHARD, 0);
    tl_meta_key_registry(&st, TL_META_INDEX_SETTINGS, 0);
    assert_true(key_cmp(&cat, &lo) < 0);
    assert_true(key_cmp(&lo, &k1) < 0);
    assert_true(key_cmp(&k1, &k2) < 0);
    assert_true(key_cmp(&k2, &k10) < 0);
    assert_true(key_cmp(&k10, &sh) < 0);
    assert_true(key_cmp(&sh, &st) < 0);
    assert_true(key_cmp(&st, &hi) < 0);
    tl_buf_close(&lo);
    tl_buf_close(&hi);
    tl_buf_close(&cat);
    tl_buf_close(&k1);
    tl_buf_close(&k2);
    tl_buf_close(&k10);
    tl_buf_close(&sh);
    tl_buf_close(&st);
}

/* A counter row is one int8 column (format 1, schema version 1, one
 * column, tag 4, zigzag varint) and decodes back; a NULL, a text column or
 * garbage is refused, a longer row is read by its first column. */
static void
test_counter_codec(void **state)
{
    (void)state;
    struct tl_buf r;
    int64_t v = -1;
    tl_buf_init(&r);
    tl_meta_counter_encode(&r, 7);
    ASSERT_BYTES(&r, "\x01\x01\x01\x04\x0e");
    assert_int_equal(tl_meta_counter_decode(r.data, r.len, &v), 0);
    assert_int_equal(v, 7);
    tl_buf_reset(&r);
    tl_meta_counter_encode(&r, 1000);
    ASSERT_BYTES(&r, "\x01\x01\x01\x04\xd0\x0f");
    assert_int_equal(tl_meta_counter_decode(r.data, r.len, &v), 0);
    assert_int_equal(v, 1000);

    struct tl_value two[2] = {tl_value_int(TL_TYPE_INT8, 9),
                              tl_value_text(TL_TYPE_TEXT, "x", 1)};
    tl_buf_reset(&r);
    tl_row_encode(two, 2, 1, &r);
    assert_int_equal(tl_meta_counter_decode(r.data, r.len, &v), 0);
    assert_int_equal(v, 9);
    tl_buf_reset(&r);
    tl_row_encode(&two[1], 1, 1, &r);
    v = 5;
    assert_int_equal(tl_meta_counter_decode(r.data, r.len, &v), TL_ECORRUPT);
    assert_int_equal(v, 5);
    struct tl_value null = tl_value_null(TL_TYPE_INT8);
    tl_buf_reset(&r);
    tl_row_encode(&null, 1, 1, &r);
    assert_int_equal(tl_meta_counter_decode(r.data, r.len, &v), TL_ECORRUPT);
    assert_int_equal(tl_meta_counter_decode((const uint8_t *)"\x07", 1, &v),
                     TL_ECORRUPT);
    tl_buf_close(&r);
}

/* A vschema row is one text column holding the JSON as given, and decodes
 * back to the same bytes. */
static void
test_vschema_codec(void **state)
{
    (void)state;
    struct tl_buf r;
    const char *json = NULL;
    size_t len = 0;
    tl_buf_init(&r);
    tl_meta_vschema_encode(&r, "{\"table\":\"t\"}", 13);
    ASSERT_BYTES(&r, "\x01\x01\x01\x06\x0d{\"table\":\"t\"}");
    assert_int_equal(tl_meta_vschema_decode(r.data, r.len, &json, &len), 0);
    assert_int_equal(len, 13);
    assert_memory_equal(json, "{\"table\":\"t\"}", 13);
    tl_buf_reset(&r);
    tl_meta_counter_encode(&r, 3);
    assert_int_equal(tl_meta_vschema_decode(r.data, r.len, &json, &len),
                     TL_ECORRUPT);
    tl_buf_close(&r);
}

/* A table row is one text column holding the packed TableDesc of
 * tl_table_to_proto(), and decodes back to the same table. */
static void
test_table_codec(void **state)
{
    (void)state;
    struct tl_table t;
    struct tl_column cols[2];
    memset(&t, 0, sizeof t);
    memset(cols, 0, sizeof cols);
    t.id = 1001;
    snprintf(t.name, sizeof t.name, "users");
    snprintf(cols[0].name, sizeof cols[0].name, "id");
    cols[0].type = TL_TYPE_INT8;
    cols[0].typmod = -1;
    cols[0].not_null = true;
    snprintf(cols[1].name, sizeof cols[1].name, "name");
    cols[1].type = TL_TYPE_VARCHAR;
    cols[1].typmod = 20;
    t.n_columns = 2;
    t.columns = cols;
    t.n_pk = 1;
    t.pk[0] = 0;
    t.shard_key = 0;
    t.vindex = 0;
    t.schema_version = 1;

    struct tl_buf r, want;
    struct tl_arena a;
    Talus__TableDesc pb;
    tl_buf_init(&r);
    tl_buf_init(&want);
    tl_arena_init(&a);
    tl_meta_table_encode(&r, &t);
    tl_table_to_proto(&t, &a, &pb);
    size_t len = talus__table_desc__get_packed_size(&pb);
    uint8_t *packed = tl_arena_alloc(&a, len);
    talus__table_desc__pack(&pb, packed);
    tl_buf_append(&want, "\x01\x01\x01\x06", 4);
    tl_buf_append_varint(&want, len);
    tl_buf_append(&want, packed, len);
    assert_bytes(&r, (const char *)want.data, want.len);

    struct tl_table *back = NULL;
    assert_int_equal(tl_meta_table_decode(r.data, r.len, &back), 0);
    assert_int_equal(back->id, 1001);
    assert_string_equal(back->name, "users");
    assert_int_equal(back->n_columns, 2);
    assert_string_equal(back->columns[1].name, "name");
    assert_int_equal(back->columns[1].type, TL_TYPE_VARCHAR);
    assert_int_equal(back->columns[1].typmod, 20);
    assert_true(back->columns[0].not_null);
    assert_int_equal(back->n_pk, 1);
    assert_int_equal(back->shard_key, 0);
    assert_int_equal(back->schema_version, 1);
    tl_table_destroy(back);

    /* Not a description: refused. */
    tl_buf_reset(&r);
    tl_meta_vschema_encode(&r, "\xff\xff\xff", 3);
    back = NULL;
    assert_int_equal(tl_meta_table_decode(r.data, r.len, &back), TL_ECORRUPT);
    assert_null(back);
    tl_buf_reset(&r);
    tl_meta_counter_encode(&r, 1);
    assert_int_equal(tl_meta_table_decode(r.data, r.len, &back), TL_ECORRUPT);
    tl_buf_close(&r);
    tl_buf_close(&want);
    tl_arena_close(&a);
}

/* A registry row is two columns, the packed record (text) and the index
 * id (int8), and decodes back to the same record and index. */
static void
test_record_codec(void **state)
{
    (void)state;
    Talus__NodeRecord n = TALUS__NODE_RECORD__INIT;
    Talus__ShardRecord s = TALUS__SHARD_RECORD__INIT;
    Talus__ClusterSettings st = TALUS__CLUSTER_SETTINGS__INIT;
    uint32_t reps[3] = {1, 2, 3};
    uint8_t packed[256];
    struct tl_buf r, want;
    int64_t index;
    const uint8_t *p;
    size_t len, plen;

    tl_buf_init(&r);
    tl_buf_init(&want);
    n.id = 2;
    n.rpc_addr = "127.0.0.1:7102";
    n.raft_addr = "127.0.0.1:7202";
    tl_meta_record_encode(&r, TL_META_INDEX_NODE, &n.base);
    plen = talus__node_record__pack(&n, packed);
    tl_buf_append(&want, "\x01\x01\x02\x06", 4);
    tl_buf_append_varint(&want, plen);
    tl_buf_append(&want, packed, plen);
    tl_buf_append(&want, "\x04\x20", 2); /* int8 16 */
    assert_bytes(&r, (const char *)want.data, want.len);
    assert_int_equal(tl_meta_record_decode(r.data, r.len, &index, &p, &len), 0);
    assert_int_equal(index, TL_META_INDEX_NODE);
    Talus__NodeRecord *nb = talus__node_record__unpack(NULL, len, p);
    assert_non_null(nb);
    assert_int_equal(nb->id, 2);
    assert_string_equal(nb->raft_addr, "127.0.0.1:7202");
    talus__node_record__free_unpacked(nb, NULL);

    s.shard = 4;
    s.n_replicas = 3;
    s.replicas = reps;
    s.has_leader = 1;
    s.leader = 3;
    tl_buf_reset(&r);
    tl_meta_record_encode(&r, TL_META_INDEX_SHARD, &s.base);
    assert_memory_equal(r.data + r.len - 2, "\x04\x22", 2); /* int8 17 */
    assert_int_equal(tl_meta_record_decode(r.data, r.len, &index, &p, &len), 0);
    assert_int_equal(index, TL_META_INDEX_SHARD);
    Talus__ShardRecord *sb = talus__shard_record__unpack(NULL, len, p);
    assert_non_null(sb);
    assert_int_equal(sb->shard, 4);
    assert_int_equal(sb->n_replicas, 3);
    assert_int_equal(sb->leader, 3);
    talus__shard_record__free_unpacked(sb, NULL);

    st.n_shards = 6;
    st.replicas = 3;
    st.initial_nodes = 3;
    tl_buf_reset(&r);
    tl_meta_record_encode(&r, TL_META_INDEX_SETTINGS, &st.base);
    assert_memory_equal(r.data + r.len - 2, "\x04\x24", 2); /* int8 18 */
    assert_int_equal(tl_meta_record_decode(r.data, r.len, &index, &p, &len), 0);
    assert_int_equal(index, TL_META_INDEX_SETTINGS);
    Talus__ClusterSettings *cb = talus__cluster_settings__unpack(NULL, len, p);
    assert_non_null(cb);
    assert_int_equal(cb->n_shards, 6);
    talus__cluster_settings__free_unpacked(cb, NULL);

    /* One column (the map version) is not a record. */
    tl_buf_reset(&r);
    tl_meta_counter_encode(&r, 3);
    assert_int_equal(tl_meta_record_decode(r.data, r.len, &index, &p, &len),
                     TL_ECORRUPT);
    tl_buf_close(&r);
    tl_buf_close(&want);
}

/* Scans of the meta keyspace: the catalog's two-text-column description,
 * and the registry scan's two ranges [prefix(0, 3), prefix(0, 4)) and
 * [prefix(0, 16), prefix(0, 19)). */
static void
test_scans(void **state)
{
    (void)state;
    struct tl_arena a;
    tl_arena_init(&a);
    Talus__TableDesc *d = tl_meta_catalog_desc(&a);
    assert_int_equal(d->id, 0);
    assert_string_equal(d->name, "talus_catalog");
    assert_int_equal(d->n_columns, 2);
    assert_int_equal(d->columns[0]->type, TL_TYPE_TEXT);
    assert_int_equal(d->columns[1]->type, TL_TYPE_TEXT);
    assert_int_equal(d->n_pk, 1);
    assert_int_equal(d->pk[0], 0);

    Talus__ScanFragment *sf = tl_meta_registry_scan(&a);
    assert_int_equal(sf->table->id, 0);
    assert_string_equal(sf->table->name, "talus_registry");
    assert_int_equal(sf->table->columns[1]->type, TL_TYPE_INT8);
    assert_int_equal(sf->n_ranges, 2);
    assert_int_equal(sf->ranges[0]->start.len, 8);
    assert_memory_equal(sf->ranges[0]->start.data, "\0\0\0\0\0\0\0\x03", 8);
    assert_memory_equal(sf->ranges[0]->end.data, "\0\0\0\0\0\0\0\x04", 8);
    assert_memory_equal(sf->ranges[1]->start.data, "\0\0\0\0\0\0\0\x10", 8);
    assert_memory_equal(sf->ranges[1]->end.data, "\0\0\0\0\0\0\0\x13", 8);
    tl_arena_close(&a);
}

/* A reply with the map version row, node, shard, meta and settings rows,
 * a record that does not unpack and a foreign row collects into one
 * ClusterMap; the bad record is counted. */
static void
test_registry_collect(void **state)
{
    (void)state;
    struct tl_arena a;
    struct tl_buf rows[7];
    ProtobufCBinaryData bins[7];
    Talus__NodeRecord n1 = TALUS__NODE_RECORD__INIT;
    Talus__ShardRecord s0 = TALUS__SHARD_RECORD__INIT, meta = s0;
    Talus__ClusterSettings st = TALUS__CLUSTER_SETTINGS__INIT;
    uint32_t reps[3] = {1, 2, 3};

    tl_arena_init(&a);
    for (int i = 0; i < 7; i++)
        tl_buf_init(&rows[i]);
    tl_meta_counter_encode(&rows[0], 42);
    n1.id = 1;
    n1.rpc_addr = "127.0.0.1:7101";
    n1.raft_addr = "127.0.0.1:7201";
    tl_meta_record_encode(&rows[1], TL_META_INDEX_NODE, &n1.base);
    s0.shard = 0;
    s0.n_replicas = 3;
    s0.replicas = reps;
    s0.has_leader = 1;
    s0.leader = 2;
    tl_meta_record_encode(&rows[2], TL_META_INDEX_SHARD, &s0.base);
    meta.shard = TL_META_GROUP;
    meta.n_replicas = 3;
    meta.replicas = reps;
    meta.has_leader = 1;
    meta.leader = 1;
    tl_meta_record_encode(&rows[3], TL_META_INDEX_SHARD, &meta.base);
    st.n_shards = 6;
    st.replicas = 3;
    st.initial_nodes = 3;
    tl_meta_record_encode(&rows[4], TL_META_INDEX_SETTINGS, &st.base);
    struct tl_value bad[2] = {tl_value_text(TL_TYPE_TEXT, "\xff\xff", 2),
                              tl_value_int(TL_TYPE_INT8, TL_META_INDEX_NODE)};
    tl_row_encode(bad, 2, 1, &rows[5]);
    tl_meta_vschema_encode(&rows[6], "{}", 2);
    for (int i = 0; i < 7; i++) {
        bins[i].data = rows[i].data;
        bins[i].len = rows[i].len;
    }
    Talus__Response resp = TALUS__RESPONSE__INIT;
    resp.n_rows = 7;
    resp.rows = bins;
    Talus__ClusterMap m = TALUS__CLUSTER_MAP__INIT;
    assert_int_equal(tl_meta_registry_collect(&resp, &a, &m), 1);
    assert_true(m.has_map_version);
    assert_int_equal(m.map_version, 42);
    assert_int_equal(m.n_nodes, 1);
    assert_string_equal(m.nodes[0]->raft_addr, "127.0.0.1:7201");
    assert_int_equal(m.n_shards, 1);
    assert_int_equal(m.shards[0]->leader, 2);
    assert_int_equal(m.n_meta_voters, 3);
    assert_true(m.has_meta_leader);
    assert_int_equal(m.meta_leader, 1);
    assert_non_null(m.settings);
    assert_int_equal(m.settings->n_shards, 6);
    for (int i = 0; i < 7; i++)
        tl_buf_close(&rows[i]);
    tl_arena_close(&a);
}

/* A sequence state row is (int8 last_value, bool is_called) and decodes
 * back; a row with one column, a NULL or a text column is refused. */
/* A role row round-trips, with and without a verifier; a row of another
 * shape is corrupt. */
static void
test_role_codec(void **state)
{
    (void)state;
    struct tl_buf r;
    struct tl_role in, out;
    memset(&in, 0, sizeof(in));
    snprintf(in.name, sizeof(in.name), "alice");
    in.oid = 1234;
    snprintf(in.verifier, sizeof(in.verifier), "SCRAM-SHA-256$4096:x$y:z");
    in.superuser = true;
    in.login = false;
    in.conn_limit = 7;
    tl_buf_init(&r);
    tl_meta_role_encode(&r, &in);
    memset(&out, 0xff, sizeof(out));
    assert_int_equal(tl_meta_role_decode(r.data, r.len, &out), 0);
    assert_string_equal(out.name, "alice");
    assert_int_equal(out.oid, 1234);
    assert_string_equal(out.verifier, in.verifier);
    assert_true(out.superuser);
    assert_false(out.login);
    assert_int_equal(out.conn_limit, 7);

    in.verifier[0] = '\0';
    in.conn_limit = -1;
    tl_buf_reset(&r);
    tl_meta_role_encode(&r, &in);
    assert_int_equal(tl_meta_role_decode(r.data, r.len, &out), 0);
    assert_string_equal(out.verifier, "");
    assert_int_equal(out.conn_limit, -1);

    tl_buf_reset(&r);
    tl_meta_seq_value_encode(&r, 7, true);
    assert_int_equal(tl_meta_role_decode(r.data, r.len, &out), TL_ECORRUPT);

    uint8_t secret[32], back[32];
    for (int i = 0; i < 32; i++)
        secret[i] = (uint8_t)(i * 37);
    tl_buf_reset(&r);
    tl_meta_auth_secret_encode(&r, secret);
    assert_int_equal(tl_meta_auth_secret_decode(r.data, r.len, back), 0);
    assert_memory_equal(secret, back, 32);
    tl_buf_reset(&r);
    tl_meta_vschema_encode(&r, "xyz", 3);
    assert_int_equal(tl_meta_auth_secret_decode(r.data, r.len, back),
                     TL_ECORRUPT);
    tl_buf_close(&r);
}

static void
test_seq_value_codec(void **state)
{
    (void)state;
    struct tl_buf r;
    int64_t last = 0;
    bool called = false;
    tl_buf_init(&r);
    tl_meta_seq_value_encode(&r, 7, true);
    ASSERT_BYTES(&r, "\x01\x01\x02\x04\x0e\x01\x01");
    assert_int_equal(tl_meta_seq_value_decode(r.data, r.len, &last, &called),
                     0);
    assert_int_equal(last, 7);
    assert_true(called);
    tl_buf_reset(&r);
    tl_meta_seq_value_encode(&r, INT64_MIN, false);
    assert_int_equal(tl_meta_seq_value_decode(r.data, r.len, &last, &called),
                     0);
    assert_true(last == INT64_MIN);
    assert_false(called);

    tl_buf_reset(&r);
    tl_meta_counter_encode(&r, 5);
    last = 1;
    assert_int_equal(tl_meta_seq_value_decode(r.data, r.len, &last, &called),
                     TL_ECORRUPT);
    assert_int_equal(last, 1);
    struct tl_value bad[2] = {tl_value_null(TL_TYPE_INT8), tl_value_bool(1)};
    tl_buf_reset(&r);
    tl_row_encode(bad, 2, 1, &r);
    assert_int_equal(tl_meta_seq_value_decode(r.data, r.len, &last, &called),
                     TL_ECORRUPT);
    bad[0] = tl_value_int(TL_TYPE_INT8, 1);
    bad[1] = tl_value_text(TL_TYPE_TEXT, "t", 1);
    tl_buf_reset(&r);
    tl_row_encode(bad, 2, 1, &r);
    assert_int_equal(tl_meta_seq_value_decode(r.data, r.len, &last, &called),
                     TL_ECORRUPT);
    tl_buf_close(&r);
}

/* A sequence description is one text column holding the packed
 * talus.SequenceDesc and decodes back with every option; a description
 * that breaks an invariant (increment 0, start past the bounds, bounds
 * outside the type) is refused. */
static void
test_sequence_codec(void **state)
{
    (void)state;
    struct tl_sequence s, back;
    memset(&s, 0, sizeof(s));
    s.id = 1005;
    snprintf(s.name, sizeof(s.name), "t_id_seq");
    s.type = TL_TYPE_INT4;
    s.increment = -2;
    s.min_value = -100;
    s.max_value = 50;
    s.start = 40;
    s.cache = 20;
    s.cycle = true;
    s.owner_table = 1004;
    snprintf(s.owner_column, sizeof(s.owner_column), "id");

    struct tl_buf r, want;
    struct tl_arena a;
    Talus__SequenceDesc pb;
    tl_buf_init(&r);
    tl_buf_init(&want);
    tl_arena_init(&a);
    tl_meta_sequence_encode(&r, &s);
    tl_sequence_to_proto(&s, &a, &pb);
    size_t len = talus__sequence_desc__get_packed_size(&pb);
    uint8_t *packed = tl_arena_alloc(&a, len);
    talus__sequence_desc__pack(&pb, packed);
    tl_buf_append(&want, "\x01\x01\x01\x06", 4);
    tl_buf_append_varint(&want, len);
    tl_buf_append(&want, packed, len);
    assert_bytes(&r, (const char *)want.data, want.len);

    assert_int_equal(tl_meta_sequence_decode(r.data, r.len, &back), 0);
    assert_int_equal(back.id, 1005);
    assert_string_equal(back.name, "t_id_seq");
    assert_int_equal(back.type, TL_TYPE_INT4);
    assert_int_equal(back.increment, -2);
    assert_int_equal(back.min_value, -100);
    assert_int_equal(back.max_value, 50);
    assert_int_equal(back.start, 40);
    assert_int_equal(back.cache, 20);
    assert_true(back.cycle);
    assert_int_equal(back.owner_table, 1004);
    assert_string_equal(back.owner_column, "id");

    struct tl_sequence bad = s;
    bad.increment = 0;
    tl_buf_reset(&r);
    tl_meta_sequence_encode(&r, &bad);
    assert_int_equal(tl_meta_sequence_decode(r.data, r.len, &back), TL_EPROTO);
    bad = s;
    bad.start = 51;
    tl_buf_reset(&r);
    tl_meta_sequence_encode(&r, &bad);
    assert_int_equal(tl_meta_sequence_decode(r.data, r.len, &back), TL_EPROTO);
    bad = s;
    bad.max_value = INT64_C(1) << 40; /* past int4 */
    tl_buf_reset(&r);
    tl_meta_sequence_encode(&r, &bad);
    assert_int_equal(tl_meta_sequence_decode(r.data, r.len, &back), TL_EPROTO);
    tl_buf_reset(&r);
    tl_meta_vschema_encode(&r, "\xff\xff\xff", 3);
    assert_int_equal(tl_meta_sequence_decode(r.data, r.len, &back),
                     TL_ECORRUPT);
    tl_buf_close(&r);
    tl_buf_close(&want);
    tl_arena_close(&a);
}

/* Column defaults and identity kinds round-trip through a table
 * description; a description written before they existed (no field 6 or
 * 7) decodes with no default, and a column without them packs no such
 * field, so older descriptions keep their bytes. */
static void
test_table_defaults_codec(void **state)
{
    (void)state;
    struct tl_table t;
    struct tl_column cols[2];
    memset(&t, 0, sizeof t);
    memset(cols, 0, sizeof cols);
    t.id = 1002;
    snprintf(t.name, sizeof t.name, "d");
    snprintf(cols[0].name, sizeof cols[0].name, "id");
    cols[0].type = TL_TYPE_INT4;
    cols[0].typmod = -1;
    cols[0].not_null = true;
    cols[0].identity = TL_IDENTITY_ALWAYS;
    cols[0].default_expr = "nextval('d_id_seq'::regclass)";
    snprintf(cols[1].name, sizeof cols[1].name, "v");
    cols[1].type = TL_TYPE_TEXT;
    cols[1].typmod = -1;
    t.n_columns = 2;
    t.columns = cols;
    t.n_pk = 1;
    t.shard_key = -1;
    t.schema_version = 1;

    struct tl_buf r;
    struct tl_arena a;
    Talus__TableDesc pb;
    tl_buf_init(&r);
    tl_arena_init(&a);
    tl_table_to_proto(&t, &a, &pb);
    assert_null(pb.columns[1]->default_expr);
    assert_false(pb.columns[1]->has_identity);
    tl_meta_table_encode(&r, &t);
    struct tl_table *back = NULL;
    assert_int_equal(tl_meta_table_decode(r.data, r.len, &back), 0);
    assert_string_equal(back->columns[0].default_expr,
                        "nextval('d_id_seq'::regclass)");
    assert_int_equal(back->columns[0].identity, TL_IDENTITY_ALWAYS);
    assert_null(back->columns[1].default_expr);
    assert_int_equal(back->columns[1].identity, TL_IDENTITY_NONE);
    struct tl_table *copy = tl_table_copy(back);
    tl_table_destroy(back);
    assert_string_equal(copy->columns[0].default_expr,
                        "nextval('d_id_seq'::regclass)");
    tl_table_destroy(copy);

    /* An older description: the columns carry only fields 1..5. */
    cols[0].identity = TL_IDENTITY_NONE;
    cols[0].default_expr = NULL;
    tl_table_to_proto(&t, &a, &pb);
    assert_false(pb.columns[0]->has_identity);
    size_t len = talus__table_desc__get_packed_size(&pb);
    uint8_t *packed = tl_arena_alloc(&a, len);
    talus__table_desc__pack(&pb, packed);
    Talus__TableDesc *old = talus__table_desc__unpack(NULL, len, packed);
    assert_non_null(old);
    assert_int_equal(tl_table_from_proto(old, &back, NULL), 0);
    assert_null(back->columns[0].default_expr);
    assert_int_equal(back->columns[0].identity, TL_IDENTITY_NONE);
    tl_table_destroy(back);
    /* An identity kind this version does not know is refused. */
    old->columns[0]->has_identity = 1;
    old->columns[0]->identity = 3;
    back = NULL;
    assert_int_equal(tl_table_from_proto(old, &back, NULL), TL_EPROTO);
    assert_null(back);
    talus__table_desc__free_unpacked(old, NULL);
    tl_buf_close(&r);
    tl_arena_close(&a);
}

/* A router record's key is prefix(0, 20) | int8 id; its row (id,
 * incarnation, address, expiry) decodes back; rows with a NULL, a
 * missing column, a zero incarnation or an id beyond 32 bits are
 * refused. */
static void
test_router_codec(void **state)
{
    (void)state;
    struct tl_buf k, r;
    tl_buf_init(&k);
    tl_buf_init(&r);
    tl_meta_key_router(&k, 7);
    ASSERT_BYTES(&k, "\0\0\0\0\0\0\0\x14"
                     "\x02\x80\0\0\0\0\0\0\x07");
    struct tl_meta_router in = {.id = 7,
                                .incarnation = 0x123456789aULL,
                                .lease_expires_ms = 1700000000000LL};
    snprintf(in.addr, sizeof in.addr, "127.0.0.1:5432");
    tl_meta_router_encode(&r, &in);
    ASSERT_BYTES(&r, "\x01\x01\x05\x04\x0e\x04\xb4\xe2\xb3\xc5\xc6\x04\x06\x0e"
                     "127.0.0.1:5432"
                     "\x04\x80\xa0\xab\xfe\xf9\x62"
                     "\x04\x00"); /* no open transaction */
    struct tl_meta_router out;
    memset(&out, 0xAB, sizeof out);
    assert_int_equal(tl_meta_router_decode(r.data, r.len, &out), 0);
    assert_int_equal(out.id, 7);
    assert_true(out.incarnation == in.incarnation);
    assert_true(out.lease_expires_ms == in.lease_expires_ms);
    assert_string_equal(out.addr, "127.0.0.1:5432");
    assert_true(out.oldest_txn_ts == 0);
    in.oldest_txn_ts = 0x77777777ULL;
    tl_buf_reset(&r);
    tl_meta_router_encode(&r, &in);
    assert_int_equal(tl_meta_router_decode(r.data, r.len, &out), 0);
    assert_true(out.oldest_txn_ts == 0x77777777ULL);

    /* Refused rows leave the output alone. */
    struct tl_value bad[4] = {
        tl_value_int(TL_TYPE_INT8, 7), tl_value_int(TL_TYPE_INT8, 5),
        tl_value_text(TL_TYPE_TEXT, "a:1", 3), tl_value_int(TL_TYPE_INT8, 9)};
    struct tl_value keep;
    for (int col = 0; col < 6; col++) {
        tl_buf_reset(&r);
        if (col < 4) {
            keep = bad[col];
            bad[col] = tl_value_null(keep.type);
            tl_row_encode(bad, 4, 1, &r);
            bad[col] = keep;
        } else if (col == 4) {
            tl_row_encode(bad, 3, 1, &r); /* no expiry */
        } else {
            keep = bad[1];
            bad[1] = tl_value_int(TL_TYPE_INT8, 0); /* incarnation 0 */
            tl_row_encode(bad, 4, 1, &r);
            bad[1] = keep;
        }
        memset(&out, 0, sizeof out);
        assert_int_equal(tl_meta_router_decode(r.data, r.len, &out),
                         TL_ECORRUPT);
        assert_int_equal(out.incarnation, 0);
    }
    /* A row of a router before the oldest-transaction column: 0. */
    tl_buf_reset(&r);
    tl_row_encode(bad, 4, 1, &r);
    out.oldest_txn_ts = 99;
    assert_int_equal(tl_meta_router_decode(r.data, r.len, &out), 0);
    assert_true(out.oldest_txn_ts == 0);
    /* A fifth column must be a non-negative integer. */
    struct tl_value five[5] = {bad[0], bad[1], bad[2], bad[3],
                               tl_value_int(TL_TYPE_INT8, -1)};
    tl_buf_reset(&r);
    tl_row_encode(five, 5, 1, &r);
    assert_int_equal(tl_meta_router_decode(r.data, r.len, &out), TL_ECORRUPT);
    five[4] = tl_value_null(TL_TYPE_INT8);
    tl_buf_reset(&r);
    tl_row_encode(five, 5, 1, &r);
    assert_int_equal(tl_meta_router_decode(r.data, r.len, &out), TL_ECORRUPT);
    /* The GC keys: prefix(0, 21) and prefix(0, 22) | text holder. */
    tl_buf_reset(&k);
    tl_meta_key_gc_safe_point(&k);
    ASSERT_BYTES(&k, "\0\0\0\0\0\0\0\x15");
    tl_buf_reset(&k);
    tl_meta_key_gc_hold(&k, "cdc");
    assert_int_equal(k.len > 8, 1);
    assert_memory_equal(k.data, "\0\0\0\0\0\0\0\x16", 8);
    bad[0] = tl_value_int(TL_TYPE_INT8, (int64_t)UINT32_MAX + 1);
    tl_buf_reset(&r);
    tl_row_encode(bad, 4, 1, &r);
    assert_int_equal(tl_meta_router_decode(r.data, r.len, &out), TL_ECORRUPT);
    tl_buf_close(&k);
    tl_buf_close(&r);
}

/* Liveness of incarnation X: alive while its record holds X and the lease
 * has not run out; dead once it ran out, with no record, or when the
 * record holds an older incarnation; superseded by a newer one. From a
 * row the same, an unreadable row counting as none. */
static void
test_router_liveness(void **state)
{
    (void)state;
    struct tl_meta_router rec = {
        .id = 3, .incarnation = 100, .lease_expires_ms = 5000};
    snprintf(rec.addr, sizeof rec.addr, "h:1");
    assert_int_equal(tl_meta_router_liveness(&rec, 100, 4999),
                     TL_META_ROUTER_ALIVE);
    assert_int_equal(tl_meta_router_liveness(&rec, 100, 5000),
                     TL_META_ROUTER_DEAD);
    assert_int_equal(tl_meta_router_liveness(&rec, 99, 0),
                     TL_META_ROUTER_SUPERSEDED);
    assert_int_equal(tl_meta_router_liveness(&rec, 99, 9999),
                     TL_META_ROUTER_SUPERSEDED);
    assert_int_equal(tl_meta_router_liveness(&rec, 101, 0),
                     TL_META_ROUTER_DEAD);
    assert_int_equal(tl_meta_router_liveness(NULL, 100, 0),
                     TL_META_ROUTER_DEAD);
    struct tl_buf r;
    tl_buf_init(&r);
    tl_meta_router_encode(&r, &rec);
    assert_int_equal(tl_meta_router_row_liveness(r.data, r.len, 100, 1),
                     TL_META_ROUTER_ALIVE);
    assert_int_equal(tl_meta_router_row_liveness(r.data, r.len, 7, 1),
                     TL_META_ROUTER_SUPERSEDED);
    assert_int_equal(tl_meta_router_row_liveness(NULL, 0, 100, 1),
                     TL_META_ROUTER_DEAD);
    assert_int_equal(tl_meta_router_row_liveness(r.data, 2, 100, 1),
                     TL_META_ROUTER_DEAD);
    assert_string_equal(tl_meta_router_liveness_name(TL_META_ROUTER_SUPERSEDED),
                        "superseded");
    assert_string_equal(tl_meta_router_liveness_name(TL_META_ROUTER_ALIVE),
                        "alive");
    assert_string_equal(tl_meta_router_liveness_name(TL_META_ROUTER_DEAD),
                        "dead");
    tl_buf_close(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_ids),
        cmocka_unit_test(test_key_bytes),
        cmocka_unit_test(test_range_index),
        cmocka_unit_test(test_key_order),
        cmocka_unit_test(test_counter_codec),
        cmocka_unit_test(test_vschema_codec),
        cmocka_unit_test(test_table_codec),
        cmocka_unit_test(test_seq_value_codec),
        cmocka_unit_test(test_role_codec),
        cmocka_unit_test(test_sequence_codec),
        cmocka_unit_test(test_table_defaults_codec),
        cmocka_unit_test(test_record_codec),
        cmocka_unit_test(test_scans),
        cmocka_unit_test(test_registry_collect),
        cmocka_unit_test(test_router_codec),
        cmocka_unit_test(test_router_liveness),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
