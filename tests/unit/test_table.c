/* Unit tests for common/table.c: descriptions, keys and constraint
 * reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <string.h>

#include "keycodec.h"
#include "row.h"
#include "secindex.h"
#include "table.h"
#include "vindex.h"

/* A description of t(a int8, b text, c varchar(10) NOT NULL, d float8)
 * with primary key (a, b), sharded by hash of a. Lives in @ar. */
static Talus__TableDesc *
make_desc(struct tl_arena *ar)
{
    static const struct {
        const char *name;
        uint32_t type;
        int32_t typmod;
        bool not_null;
    } cols[] = {{"a", TL_TYPE_INT8, -1, false},
                {"b", TL_TYPE_TEXT, -1, false},
                {"c", TL_TYPE_VARCHAR, 10, true},
                {"d", TL_TYPE_FLOAT8, -1, false}};
    Talus__TableDesc *pb = tl_arena_alloc(ar, sizeof(*pb));

    talus__table_desc__init(pb);
    pb->id = 42;
    pb->name = "t";
    pb->n_columns = 4;
    pb->columns = tl_arena_alloc(ar, 4 * sizeof(*pb->columns));
    for (size_t i = 0; i < 4; i++) {
        Talus__Column *c = tl_arena_alloc(ar, sizeof(*c));
        talus__column__init(c);
        c->name = (char *)cols[i].name;
        c->type = cols[i].type;
        c->has_typmod = cols[i].typmod != -1;
        c->typmod = cols[i].typmod;
        c->has_not_null = cols[i].not_null;
        c->not_null = cols[i].not_null;
        pb->columns[i] = c;
    }
    pb->n_pk = 2;
    pb->pk = tl_arena_alloc(ar, 2 * sizeof(*pb->pk));
    pb->pk[0] = 0;
    pb->pk[1] = 1;
    pb->has_shard_key = true;
    pb->shard_key = 0;
    pb->has_vindex = true;
    pb->vindex = TL_VINDEX_HASH;
    pb->has_schema_version = true;
    pb->schema_version = 3;
    return pb;
}

/* A character(n) column keeps its type and length through the catalog's
 * protobuf form; character(0) is refused. */
static void
test_bpchar_column(void **state)
{
    struct tl_arena ar;
    struct tl_table *t, *t2;
    struct tl_error err;
    Talus__TableDesc pb2, *pb;
    uint8_t *wire;
    size_t n;
    (void)state;

    tl_arena_init(&ar);
    pb = make_desc(&ar);
    pb->columns[1]->type = TL_TYPE_BPCHAR;
    pb->columns[1]->has_typmod = true;
    pb->columns[1]->typmod = 8;
    assert_int_equal(tl_table_from_proto(pb, &t, &err), 0);
    assert_int_equal(t->columns[1].type, TL_TYPE_BPCHAR);
    assert_int_equal(t->columns[1].typmod, 8);
    tl_table_to_proto(t, &ar, &pb2);
    n = talus__table_desc__get_packed_size(&pb2);
    wire = tl_arena_alloc(&ar, n);
    talus__table_desc__pack(&pb2, wire);
    Talus__TableDesc *pb3 =
        talus__table_desc__unpack(tl_arena_protobuf(&ar), n, wire);
    assert_non_null(pb3);
    assert_int_equal(tl_table_from_proto(pb3, &t2, &err), 0);
    assert_int_equal(t2->columns[1].type, TL_TYPE_BPCHAR);
    assert_int_equal(t2->columns[1].typmod, 8);
    tl_table_destroy(t);
    tl_table_destroy(t2);

    pb->columns[1]->typmod = 0;
    assert_int_equal(tl_table_from_proto(pb, &t, &err), TL_EPROTO);
    tl_arena_close(&ar);
}

/* A description round-trips through tl_table and the protobuf wire form,
 * with primary-key columns made NOT NULL. */
static void
test_proto_round_trip(void **state)
{
    struct tl_arena ar;
    struct tl_table *t, *t2, *t3;
    struct tl_error err;
    Talus__TableDesc pb2;
    uint8_t *wire;
    size_t n;
    (void)state;

    tl_arena_init(&ar);
    assert_int_equal(tl_table_from_proto(make_desc(&ar), &t, &err), 0);
    assert_int_equal(t->id, 42);
    assert_string_equal(t->name, "t");
    assert_int_equal(t->n_columns, 4);
    assert_int_equal(t->columns[2].typmod, 10);
    assert_int_equal(t->columns[0].typmod, -1);
    assert_true(t->columns[0].not_null && t->columns[1].not_null);
    assert_true(t->columns[2].not_null && !t->columns[3].not_null);
    assert_int_equal(t->n_pk, 2);
    assert_int_equal(t->shard_key, 0);
    assert_int_equal(t->vindex, TL_VINDEX_HASH);
    assert_int_equal(t->schema_version, 3);

    tl_table_to_proto(t, &ar, &pb2);
    n = talus__table_desc__get_packed_size(&pb2);
    wire = tl_arena_alloc(&ar, n);
    talus__table_desc__pack(&pb2, wire);
    Talus__TableDesc *pb3 =
        talus__table_desc__unpack(tl_arena_protobuf(&ar), n, wire);
    assert_non_null(pb3);
    assert_int_equal(tl_table_from_proto(pb3, &t2, &err), 0);
    assert_int_equal(t2->n_columns, t->n_columns);
    assert_memory_equal(t2->columns, t->columns,
                        t->n_columns * sizeof(*t->columns));
    assert_int_equal(t2->n_pk, 2);
    assert_int_equal(t2->pk[1], 1);
    assert_int_equal(t2->shard_key, 0);
    assert_int_equal(t2->schema_version, 3);

    t3 = tl_table_copy(t2);
    assert_ptr_not_equal(t3->columns, t2->columns);
    assert_string_equal(t3->columns[3].name, "d");
    assert_int_equal(tl_table_find_column(t3, "c"), 2);
    assert_int_equal(tl_table_find_column(t3, "C"), -1);
    assert_int_equal(tl_table_find_column(t3, "zz"), -1);

    tl_table_destroy(t);
    tl_table_destroy(t2);
    tl_table_destroy(t3);
    tl_table_destroy(NULL);
    tl_arena_close(&ar);
}

/* Absent optional fields take the proto defaults: unsharded, version 1. */
static void
test_proto_defaults(void **state)
{
    struct tl_arena ar;
    struct tl_table *t;
    Talus__TableDesc *pb;
    (void)state;

    tl_arena_init(&ar);
    pb = make_desc(&ar);
    pb->has_shard_key = false;
    pb->shard_key = -1;
    pb->has_vindex = false;
    pb->vindex = 0;
    pb->has_schema_version = false;
    pb->schema_version = 1;
    assert_int_equal(tl_table_from_proto(pb, &t, NULL), 0);
    assert_int_equal(t->shard_key, -1);
    assert_int_equal(t->vindex, TL_VINDEX_NONE);
    assert_int_equal(t->schema_version, 1);
    tl_table_destroy(t);
    tl_arena_close(&ar);
}

/* Inconsistent descriptions are rejected with 08P01 and nothing leaks. */
static void
test_proto_invalid(void **state)
{
    struct tl_arena ar;
    struct tl_table *t = NULL;
    struct tl_error err;
    Talus__TableDesc *pb;
    (void)state;

    tl_arena_init(&ar);
    for (int c = 0; c < 12; c++) {
        pb = make_desc(&ar);
        switch (c) {
        case 0:
            pb->n_columns = 0;
            break;
        case 1:
            pb->columns[1]->type = 0;
            break;
        case 2:
            pb->columns[1]->type = 99;
            break;
        case 3:
            pb->columns[1]->name = "a";
            break;
        case 4:
            pb->columns[1]->name = "";
            break;
        case 5:
            pb->n_pk = 0;
            break;
        case 6:
            pb->pk[1] = 4;
            break;
        case 7:
            pb->pk[1] = 0;
            break;
        case 8:
            pb->shard_key = 4;
            break;
        case 9:
            pb->vindex = 7;
            break;
        case 10:
            pb->shard_key = -1;
            break;
        case 11:
            pb->name = "a_name_that_is_far_too_long_for_namedatalen_which_is_"
                       "sixty_four_bytes_with_the_nul";
            break;
        }
        tl_error_clear(&err);
        if (tl_table_from_proto(pb, &t, &err) != TL_EPROTO)
            fail_msg("case %d accepted", c);
        assert_string_equal(err.sqlstate, "08P01");
    }
    tl_arena_close(&ar);
}

/* Row keys are prefix + pk columns and fall inside the table's range. */
static void
test_row_key(void **state)
{
    struct tl_arena ar;
    struct tl_table *t;
    struct tl_buf key, want, start, end;
    struct tl_value row[4] = {
        tl_value_int(TL_TYPE_INT8, 5), tl_value_text(TL_TYPE_TEXT, "x", 1),
        tl_value_text(TL_TYPE_VARCHAR, "c", 1), tl_value_float(1.5)};
    (void)state;

    tl_arena_init(&ar);
    assert_int_equal(tl_table_from_proto(make_desc(&ar), &t, NULL), 0);
    tl_buf_init(&key);
    tl_buf_init(&want);
    tl_buf_init(&start);
    tl_buf_init(&end);
    tl_table_row_key(t, row, &key);
    tl_key_encode_prefix(&want, 42, TL_INDEX_PRIMARY);
    tl_key_encode_value(&want, &row[0]);
    tl_key_encode_value(&want, &row[1]);
    assert_int_equal(key.len, want.len);
    assert_memory_equal(key.data, want.data, key.len);

    tl_table_key_range(t, &start, &end);
    assert_true(memcmp(start.data, key.data, start.len) == 0);
    assert_true(memcmp(key.data, end.data, end.len) < 0);
    assert_int_equal(end.len, 8);
    assert_true(tl_load_be32(end.data) == 42 &&
                tl_load_be32(end.data + 4) == 2);

    tl_buf_close(&key);
    tl_buf_close(&want);
    tl_buf_close(&start);
    tl_buf_close(&end);
    tl_table_destroy(t);
    tl_arena_close(&ar);
}

/* The duplicate-key report is PostgreSQL's, word for word. */
static void
test_dup_key_error(void **state)
{
    struct tl_arena ar;
    struct tl_table *t;
    struct tl_error err;
    struct tl_value row[4] = {
        tl_value_int(TL_TYPE_INT8, 1), tl_value_text(TL_TYPE_TEXT, "x", 1),
        tl_value_text(TL_TYPE_VARCHAR, "c", 1), tl_value_float(1.5)};
    (void)state;

    tl_arena_init(&ar);
    assert_int_equal(tl_table_from_proto(make_desc(&ar), &t, NULL), 0);
    assert_int_equal(tl_table_dup_key_error(t, row, &err), TL_EDUPKEY);
    assert_string_equal(err.sqlstate, "23505");
    assert_string_equal(err.message,
                        "duplicate key value violates unique constraint "
                        "\"t_pkey\"");
    assert_string_equal(err.detail, "Key (a, b)=(1, x) already exists.");
    assert_int_equal(tl_table_dup_key_error(t, row, NULL), TL_EDUPKEY);
    tl_table_destroy(t);
    tl_arena_close(&ar);
}

/* NULL in a NOT NULL column (or a pk column) is 23502 naming the column. */
static void
test_not_null(void **state)
{
    struct tl_arena ar;
    struct tl_table *t;
    struct tl_error err;
    struct tl_value row[4] = {
        tl_value_int(TL_TYPE_INT8, 1), tl_value_text(TL_TYPE_TEXT, "x", 1),
        tl_value_text(TL_TYPE_VARCHAR, "c", 1), tl_value_null(TL_TYPE_FLOAT8)};
    (void)state;

    tl_arena_init(&ar);
    assert_int_equal(tl_table_from_proto(make_desc(&ar), &t, NULL), 0);
    tl_error_clear(&err);
    assert_int_equal(tl_table_check_row(t, row, &err), 0);
    assert_false(tl_error_is_set(&err));

    row[2] = tl_value_null(TL_TYPE_VARCHAR);
    assert_int_equal(tl_table_check_row(t, row, &err), TL_ENOTNULL);
    assert_string_equal(err.sqlstate, "23502");
    assert_string_equal(err.message, "null value in column \"c\" of relation "
                                     "\"t\" violates not-null constraint");
    assert_string_equal(err.detail, "Failing row contains (1, x, null, null).");

    row[2] = tl_value_text(TL_TYPE_VARCHAR, "c", 1);
    row[1] = tl_value_null(TL_TYPE_TEXT);
    assert_int_equal(tl_table_check_row(t, row, &err), TL_ENOTNULL);
    assert_string_equal(err.message, "null value in column \"b\" of relation "
                                     "\"t\" violates not-null constraint");
    assert_int_equal(tl_table_check_row(t, row, NULL), TL_ENOTNULL);
    tl_table_destroy(t);
    tl_arena_close(&ar);
}

/* Range and consistent-hash parameters survive the wire form and copies,
 * build the map they describe, and broken ones are refused. */
static void
test_vindex_params(void **state)
{
    struct tl_arena ar;
    struct tl_table *t, *t2, *c;
    struct tl_error err;
    Talus__TableDesc pb2;
    tl_arena_init(&ar);
    Talus__TableDesc *pb = make_desc(&ar);
    struct tl_value b[2] = {tl_value_int(TL_TYPE_INT8, 10),
                            tl_value_int(TL_TYPE_INT8, 20)};
    struct tl_buf row;
    tl_buf_init(&row);
    tl_row_encode(b, 2, 1, &row);
    uint32_t shards[3] = {0, 2, 1};
    pb->vindex = TL_VINDEX_RANGE;
    pb->has_range_bounds = true;
    pb->range_bounds.data = row.data;
    pb->range_bounds.len = row.len;
    pb->n_range_shards = 3;
    pb->range_shards = shards;
    assert_int_equal(tl_table_from_proto(pb, &t, &err), 0);
    assert_int_equal(t->n_range_shards, 3);
    tl_table_to_proto(t, &ar, &pb2);
    assert_int_equal(tl_table_from_proto(&pb2, &t2, &err), 0);
    c = tl_table_copy(t2);
    tl_table_destroy(t);
    tl_table_destroy(t2);
    struct tl_ring *ring;
    struct tl_range_map *map;
    assert_int_equal(tl_table_vindex_build(c, &ring, &map, &err), 0);
    assert_null(ring);
    struct tl_value k = tl_value_int(TL_TYPE_INT8, 15);
    assert_int_equal(tl_range_map_lookup(map, &k), 2);
    k.u.i = 25;
    assert_int_equal(tl_range_map_lookup(map, &k), 1);
    tl_range_map_destroy(map);
    tl_table_destroy(c);

    /* Boundaries that are not n_range_shards - 1 values. */
    pb->n_range_shards = 2;
    tl_error_clear(&err);
    assert_int_equal(tl_table_from_proto(pb, &t, &err), TL_EPROTO);
    pb->n_range_shards = 0;
    assert_int_equal(tl_table_from_proto(pb, &t, &err), TL_EPROTO);
    tl_buf_close(&row);

    pb = make_desc(&ar);
    pb->vindex = TL_VINDEX_CONSISTENT_HASH;
    assert_int_equal(tl_table_from_proto(pb, &t, &err), TL_EPROTO);
    pb->has_ring_shards = true;
    pb->ring_shards = 4;
    pb->has_distribution = true;
    pb->distribution = TL_DIST_REFERENCE;
    assert_int_equal(tl_table_from_proto(pb, &t, &err), 0);
    assert_int_equal(t->distribution, TL_DIST_REFERENCE);
    tl_table_to_proto(t, &ar, &pb2);
    assert_int_equal(pb2.ring_shards, 4);
    assert_int_equal(pb2.distribution, TL_DIST_REFERENCE);
    assert_int_equal(tl_table_vindex_build(t, &ring, &map, &err), 0);
    assert_null(map);
    assert_int_equal(tl_ring_n_points(ring), 4 * TL_RING_DEFAULT_VNODES);
    tl_ring_destroy(ring);
    tl_table_destroy(t);
    pb->distribution = 2;
    assert_int_equal(tl_table_from_proto(pb, &t, &err), TL_EPROTO);
    tl_arena_close(&ar);
}

/* Secondary indexes: a description keeps them through the protobuf
 * form (bad ones refused); an entry's key holds the index columns then
 * the primary key, unless UNIQUE without NULLs; a row change yields the
 * entry changes it needs and no more; a duplicate names the index. */
static void
test_secondary_indexes(void **state)
{
    struct tl_arena ar;
    struct tl_table *t, *t2;
    struct tl_error err;
    Talus__TableDesc pb2;
    (void)state;

    tl_arena_init(&ar);
    Talus__TableDesc *pb = make_desc(&ar);
    Talus__IndexDesc d[2];
    Talus__IndexDesc *dp[2] = {&d[0], &d[1]};
    uint32_t cols0[1] = {3}, cols1[2] = {2, 0};
    talus__index_desc__init(&d[0]);
    talus__index_desc__init(&d[1]);
    d[0].id = 2;
    d[0].name = "t_d_idx";
    d[0].n_columns = 1;
    d[0].columns = cols0;
    d[1].id = 5;
    d[1].name = "t_c_a_key";
    d[1].n_columns = 2;
    d[1].columns = cols1;
    d[1].has_unique = d[1].unique = true;
    d[1].has_state = true;
    d[1].state = TL_INDEX_VALID;
    d[1].has_valid_ts = true;
    d[1].valid_ts = 77;
    pb->n_indexes = 2;
    pb->indexes = dp;
    pb->has_next_index_id = true;
    pb->next_index_id = 6;
    assert_int_equal(tl_table_from_proto(pb, &t, &err), 0);
    assert_int_equal(t->n_indexes, 2);
    assert_int_equal(t->next_index_id, 6);
    tl_table_to_proto(t, &ar, &pb2);
    assert_int_equal(tl_table_from_proto(&pb2, &t2, &err), 0);
    assert_int_equal(t2->n_indexes, 2);
    assert_string_equal(t2->indexes[1].name, "t_c_a_key");
    assert_true(t2->indexes[1].unique);
    assert_int_equal(t2->indexes[1].state, TL_INDEX_VALID);
    assert_int_equal(t2->indexes[1].valid_ts, 77);
    assert_int_equal(t2->indexes[1].cols[0], 2);
    assert_ptr_equal(tl_table_find_index(t2, "t_d_idx"), &t2->indexes[0]);
    assert_ptr_equal(tl_table_index_by_id(t2, 5), &t2->indexes[1]);
    assert_null(tl_table_find_index(t2, "t_pkey"));
    struct tl_table *t3 = tl_table_copy(t2);
    assert_int_equal(t3->n_indexes, 2);
    tl_table_destroy(t3);
    tl_table_destroy(t2);

    /* id 1 is the primary key's; a column past the table's is refused */
    d[0].id = 1;
    assert_int_equal(tl_table_from_proto(pb, &t2, &err), TL_EPROTO);
    d[0].id = 2;
    cols0[0] = 9;
    assert_int_equal(tl_table_from_proto(pb, &t2, &err), TL_EPROTO);
    cols0[0] = 3;

    struct tl_value row[4] = {
        tl_value_int(TL_TYPE_INT8, 1), tl_value_text(TL_TYPE_TEXT, "x", 1),
        tl_value_text(TL_TYPE_VARCHAR, "c", 1), tl_value_float(1.5)};
    struct tl_buf rk, k, want;
    tl_buf_init(&rk);
    tl_buf_init(&k);
    tl_buf_init(&want);
    tl_table_row_key(t, row, &rk);
    /* plain: prefix(42, 2) | d | a b */
    tl_index_key(t, &t->indexes[0], row, rk.data, rk.len, &k);
    tl_key_encode_prefix(&want, 42, 2);
    tl_key_encode_value(&want, &row[3]);
    tl_buf_append(&want, rk.data + TL_KEY_PREFIX_LEN,
                  rk.len - TL_KEY_PREFIX_LEN);
    assert_int_equal(k.len, want.len);
    assert_memory_equal(k.data, want.data, k.len);
    /* unique: prefix(42, 5) | c a, and with a NULL the key too */
    assert_true(tl_index_unique_key(&t->indexes[1], row));
    tl_buf_reset(&k);
    tl_buf_reset(&want);
    tl_index_key(t, &t->indexes[1], row, rk.data, rk.len, &k);
    tl_key_encode_prefix(&want, 42, 5);
    tl_key_encode_value(&want, &row[2]);
    tl_key_encode_value(&want, &row[0]);
    assert_int_equal(k.len, want.len);
    assert_memory_equal(k.data, want.data, k.len);
    struct tl_value nulled[4];
    memcpy(nulled, row, sizeof(row));
    nulled[2] = tl_value_null(TL_TYPE_VARCHAR);
    assert_false(tl_index_unique_key(&t->indexes[1], nulled));

    /* INSERT: two PUTs, the unique one ABSENT */
    Talus__Mutation *m[8];
    uint32_t which[8];
    size_t n = 0;
    tl_index_mutations(t, NULL, NULL, 0, row, rk.data, rk.len, &ar, m, which,
                       &n);
    assert_int_equal(n, 2);
    assert_int_equal(m[0]->kind, TALUS__MUTATION__KIND__PUT);
    assert_int_equal(m[0]->cond, TALUS__MUTATION__COND__NONE);
    assert_int_equal(m[1]->cond, TALUS__MUTATION__COND__ABSENT);
    assert_int_equal(which[1], 1);
    assert_int_equal(m[1]->value.len, rk.len);
    assert_memory_equal(m[1]->value.data, rk.data, rk.len);
    /* UPDATE of d only: the plain entry moves, the unique one stays */
    struct tl_value upd[4];
    memcpy(upd, row, sizeof(row));
    upd[3] = tl_value_float(2.5);
    n = 0;
    tl_index_mutations(t, row, rk.data, rk.len, upd, rk.data, rk.len, &ar, m,
                       which, &n);
    assert_int_equal(n, 2);
    assert_int_equal(m[0]->kind, TALUS__MUTATION__KIND__DELETE);
    assert_int_equal(m[1]->kind, TALUS__MUTATION__KIND__PUT);
    assert_int_equal(which[0], 0);
    assert_int_equal(which[1], 0);
    /* DELETE: both entries go */
    n = 0;
    tl_index_mutations(t, row, rk.data, rk.len, NULL, NULL, 0, &ar, m, which,
                       &n);
    assert_int_equal(n, 2);
    assert_int_equal(m[0]->kind, TALUS__MUTATION__KIND__DELETE);
    assert_int_equal(m[1]->kind, TALUS__MUTATION__KIND__DELETE);

    assert_int_equal(tl_index_dup_error(t, &t->indexes[1], row, false, &err),
                     TL_EDUPKEY);
    assert_string_equal(err.message, "duplicate key value violates unique "
                                     "constraint \"t_c_a_key\"");
    assert_string_equal(err.detail, "Key (c, a)=(c, 1) already exists.");
    assert_string_equal(err.table, "t");
    assert_string_equal(err.constraint, "t_c_a_key");
    tl_index_dup_error(t, &t->indexes[1], row, true, &err);
    assert_string_equal(err.message,
                        "could not create unique index \"t_c_a_key\"");
    assert_string_equal(err.detail, "Key (c, a)=(c, 1) is duplicated.");

    tl_buf_close(&rk);
    tl_buf_close(&k);
    tl_buf_close(&want);
    tl_table_destroy(t);
    tl_arena_close(&ar);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proto_round_trip),
        cmocka_unit_test(test_bpchar_column),
        cmocka_unit_test(test_vindex_params),
        cmocka_unit_test(test_proto_defaults),
        cmocka_unit_test(test_proto_invalid),
        cmocka_unit_test(test_row_key),
        cmocka_unit_test(test_dup_key_error),
        cmocka_unit_test(test_secondary_indexes),
        cmocka_unit_test(test_not_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
