/* Unit tests for the uuid and bytea types across the modules that hold
 * them: text input and output (common/value.c, expected strings and errors
 * from PostgreSQL 15), comparison, casts, the row codec (common/row.c),
 * memcomparable keys (common/keycodec.c), hashing (common/vindex.c),
 * scalar functions (common/scalar.c), || (common/expr.c) and the binary
 * wire format (router/wire/pgwire.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "expr.h"
#include "keycodec.h"
#include "router/wire/pgwire.h"
#include "row.h"
#include "scalar.h"
#include "value.h"
#include "vindex.h"

static struct tl_arena arena;

static int
setup(void **state)
{
    (void)state;
    tl_arena_init(&arena);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    tl_arena_close(&arena);
    return 0;
}

static struct tl_value
parse_ok(uint8_t type, const char *s)
{
    struct tl_value v;
    struct tl_error err;
    tl_error_clear(&err);
    int rv = tl_value_from_text(type, -1, s, strlen(s), &arena, &v, &err);
    if (rv != 0)
        fail_msg("parsing \"%s\": %s", s, err.message);
    assert_int_equal(v.type, type);
    assert_false(v.is_null);
    return v;
}

/* The text output of @v as a string in the arena. */
static const char *
out(const struct tl_value *v)
{
    struct tl_buf b;
    tl_buf_init(&b);
    tl_value_to_text(v, &b);
    char *s =
        tl_arena_strndup(&arena, b.data ? (const char *)b.data : "", b.len);
    tl_buf_close(&b);
    return s;
}

static void
expect_io(uint8_t type, const char *in, const char *want)
{
    struct tl_value v = parse_ok(type, in);
    assert_string_equal(out(&v), want);
}

static void
expect_error(uint8_t type, const char *in, const char *state, const char *msg)
{
    struct tl_value v;
    struct tl_error err;
    tl_error_clear(&err);
    assert_int_equal(
        tl_value_from_text(type, -1, in, strlen(in), &arena, &v, &err),
        TL_ETYPE);
    assert_string_equal(err.sqlstate, state);
    assert_string_equal(err.message, msg);
}

/* uuid_in accepts hyphens after any group of four digits, braces and
 * either case; uuid_out writes lowercase 8-4-4-4-12. */
static void
test_uuid_text(void **state)
{
    (void)state;
    const char *want = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
    expect_io(TL_TYPE_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", want);
    expect_io(TL_TYPE_UUID, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", want);
    expect_io(TL_TYPE_UUID, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", want);
    expect_io(TL_TYPE_UUID, "a0eebc999c0b4ef8bb6d6bb9bd380a11", want);
    expect_io(TL_TYPE_UUID, "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11", want);
    expect_io(TL_TYPE_UUID, "{a0eebc999c0b4ef8bb6d6bb9bd380a11}", want);
    struct tl_value v = parse_ok(TL_TYPE_UUID, want);
    assert_int_equal(v.u.s.len, 16);
    assert_int_equal((uint8_t)v.u.s.p[0], 0xa0);
    assert_int_equal((uint8_t)v.u.s.p[15], 0x11);

    static const char *bad[] = {
        "",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g",
        " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 ",
        "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
        "a0eebc9-99c0b-4ef8-bb6d-6bb9bd380a11",
        "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char msg[128];
        snprintf(msg, sizeof(msg), "invalid input syntax for type uuid: \"%s\"",
                 bad[i]);
        expect_error(TL_TYPE_UUID, bad[i], "22P02", msg);
    }
}

/* byteain reads the hex format and the escape format; byteaout writes
 * hex. Errors as PostgreSQL 15's. */
static void
test_bytea_text(void **state)
{
    (void)state;
    expect_io(TL_TYPE_BYTEA, "\\x", "\\x");
    expect_io(TL_TYPE_BYTEA, "\\x0a0b", "\\x0a0b");
    expect_io(TL_TYPE_BYTEA, "\\xDEADbeef", "\\xdeadbeef");
    expect_io(TL_TYPE_BYTEA, "\\x de ad be ef ", "\\xdeadbeef");
    expect_io(TL_TYPE_BYTEA, "abc", "\\x616263");
    expect_io(TL_TYPE_BYTEA, "", "\\x");
    expect_io(TL_TYPE_BYTEA, "a\\\\b", "\\x615c62");
    expect_io(TL_TYPE_BYTEA, "\\101\\102\\000z", "\\x4142007a");
    expect_io(TL_TYPE_BYTEA, "\\\\x\\001\\377", "\\x5c7801ff");
    struct tl_value v = parse_ok(TL_TYPE_BYTEA, "\\x00ff00");
    assert_int_equal(v.u.s.len, 3);
    assert_memory_equal(v.u.s.p, "\x00\xff\x00", 3);

    expect_error(TL_TYPE_BYTEA, "\\xg0", "22023",
                 "invalid hexadecimal digit: \"g\"");
    expect_error(TL_TYPE_BYTEA, "\\x0g", "22023",
                 "invalid hexadecimal digit: \"g\"");
    expect_error(TL_TYPE_BYTEA,
                 "\\x\xc3\xa9"
                 "1",
                 "22023", "invalid hexadecimal digit: \"\xc3\xa9\"");
    expect_error(TL_TYPE_BYTEA, "\\x123", "22023",
                 "invalid hexadecimal data: odd number of digits");
    expect_error(TL_TYPE_BYTEA, "a\\b", "22P02",
                 "invalid input syntax for type bytea");
    expect_error(TL_TYPE_BYTEA, "\\400", "22P02",
                 "invalid input syntax for type bytea");
    expect_error(TL_TYPE_BYTEA, "ab\\", "22P02",
                 "invalid input syntax for type bytea");
    expect_error(TL_TYPE_BYTEA, "\\X01", "22P02",
                 "invalid input syntax for type bytea");
}

/* The catalog facts: names, OIDs, lengths, and that 13 is no type yet. */
static void
test_type_facts(void **state)
{
    (void)state;
    uint8_t t;
    assert_int_equal(TL_TYPE_UUID, 14);
    assert_int_equal(TL_TYPE_BYTEA, 15);
    assert_string_equal(tl_type_name(TL_TYPE_UUID), "uuid");
    assert_string_equal(tl_type_name(TL_TYPE_BYTEA), "bytea");
    assert_int_equal(tl_type_oid(TL_TYPE_UUID), 2950);
    assert_int_equal(tl_type_oid(TL_TYPE_BYTEA), 17);
    assert_int_equal(tl_type_len(TL_TYPE_UUID), 16);
    assert_int_equal(tl_type_len(TL_TYPE_BYTEA), -1);
    assert_int_equal(tl_type_from_oid(2950, &t), 0);
    assert_int_equal(t, TL_TYPE_UUID);
    assert_int_equal(tl_type_from_oid(17, &t), 0);
    assert_int_equal(t, TL_TYPE_BYTEA);
    assert_int_equal(tl_type_from_name("uuid", &t), 0);
    assert_int_equal(t, TL_TYPE_UUID);
    assert_int_equal(tl_type_from_name("pg_catalog.bytea", &t), 0);
    assert_int_equal(t, TL_TYPE_BYTEA);
    assert_true(tl_type_is_known(TL_TYPE_UUID));
    assert_true(tl_type_is_known(TL_TYPE_BYTEA));
    assert_true(tl_type_is_known(TL_TYPE_NUMERIC));
    assert_false(tl_type_is_known(TL_TYPE_MAX + 1));
    assert_true(tl_type_has_text(TL_TYPE_UUID));
    assert_false(tl_type_is_text(TL_TYPE_BYTEA));
}

/* uuid and bytea compare bytewise, a shorter bytea first on a common
 * prefix; each compares only with itself. */
static void
test_compare_and_cast(void **state)
{
    (void)state;
    struct tl_value a =
        parse_ok(TL_TYPE_UUID, "00000000-0000-0000-0000-000000000001");
    struct tl_value b =
        parse_ok(TL_TYPE_UUID, "ffffffff-0000-0000-0000-000000000000");
    assert_true(tl_value_cmp(&a, &b) < 0);
    assert_true(tl_value_cmp(&b, &a) > 0);
    assert_int_equal(tl_value_cmp(&a, &a), 0);
    struct tl_value x = parse_ok(TL_TYPE_BYTEA, "\\x01");
    struct tl_value y = parse_ok(TL_TYPE_BYTEA, "\\x0100");
    struct tl_value z = parse_ok(TL_TYPE_BYTEA, "\\x00ff");
    assert_true(tl_value_cmp(&x, &y) < 0);
    assert_true(tl_value_cmp(&z, &x) < 0);
    assert_true(tl_type_comparable(TL_TYPE_UUID, TL_TYPE_UUID));
    assert_false(tl_type_comparable(TL_TYPE_UUID, TL_TYPE_TEXT));
    assert_false(tl_type_comparable(TL_TYPE_BYTEA, TL_TYPE_UUID));

    /* bytea to text is its hex output; text to bytea reads it. */
    struct tl_value t, back;
    struct tl_error err;
    assert_int_equal(tl_value_cast(&y, TL_TYPE_TEXT, -1, &arena, &t, &err), 0);
    assert_int_equal(t.type, TL_TYPE_TEXT);
    assert_memory_equal(t.u.s.p, "\\x0100", 6);
    assert_int_equal(tl_value_cast(&t, TL_TYPE_BYTEA, -1, &arena, &back, &err),
                     0);
    assert_int_equal(tl_value_cmp(&back, &y), 0);
    assert_int_equal(tl_value_cast(&a, TL_TYPE_TEXT, -1, &arena, &t, &err), 0);
    assert_int_equal(t.u.s.len, 36);
    assert_int_equal(tl_value_cast(&x, TL_TYPE_UUID, -1, &arena, &t, &err),
                     TL_ETYPE);
    assert_string_equal(err.message, "cannot cast type bytea to uuid");
}

/* The row codec keeps both types' bytes; a stored uuid of another length
 * is corrupt, and so is the unused type number 13. */
static void
test_row_codec(void **state)
{
    (void)state;
    struct tl_value in[4] = {
        parse_ok(TL_TYPE_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        parse_ok(TL_TYPE_BYTEA, "\\x00ff0001"),
        tl_value_null(TL_TYPE_BYTEA),
        parse_ok(TL_TYPE_BYTEA, "\\x"),
    };
    struct tl_value o[4];
    struct tl_buf b;
    size_t n;
    tl_buf_init(&b);
    tl_row_encode(in, 4, 7, &b);
    assert_int_equal(tl_row_decode(b.data, b.len, o, 4, &n), 0);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(o[i].type, in[i].type);
        assert_int_equal(o[i].is_null, in[i].is_null);
        if (!in[i].is_null)
            assert_int_equal(tl_value_cmp(&o[i], &in[i]), 0);
    }
    tl_buf_close(&b);

    /* A uuid column of 15 bytes. */
    struct tl_value short_uuid = in[0];
    short_uuid.u.s.len = 15;
    tl_buf_init(&b);
    tl_row_encode(&short_uuid, 1, 0, &b);
    assert_int_equal(tl_row_decode(b.data, b.len, o, 1, &n), TL_ECORRUPT);
    tl_buf_close(&b);

    /* A type number Talus has no type for (a NULL of it, so no payload
     * to mistake). */
    const uint8_t bad[] = {TL_ROW_FORMAT, 0, 1, 0x80 | (TL_TYPE_MAX + 1)};
    assert_int_equal(tl_row_decode(bad, sizeof(bad), o, 1, &n), TL_ECORRUPT);
}

static void
key_of(const struct tl_value *v, struct tl_buf *b)
{
    tl_buf_reset(b);
    tl_key_encode_value(b, v);
}

static int
key_cmp(const struct tl_value *x, const struct tl_value *y)
{
    struct tl_buf a, b;
    tl_buf_init(&a);
    tl_buf_init(&b);
    key_of(x, &a);
    key_of(y, &b);
    size_t n = a.len < b.len ? a.len : b.len;
    int c = memcmp(a.data, b.data, n);
    if (c == 0)
        c = (a.len > b.len) - (a.len < b.len);
    tl_buf_close(&a);
    tl_buf_close(&b);
    return c < 0 ? -1 : c > 0;
}

/* Keys order as the values do (bytea: prefixes first, zero bytes
 * escaped), decode back, and NULL sorts last. */
static void
test_keys(void **state)
{
    (void)state;
    static const char *bytea_sorted[] = {"\\x",     "\\x00",  "\\x0000",
                                         "\\x0001", "\\x01",  "\\x0100",
                                         "\\xff",   "\\xff00"};
    size_t nb = sizeof(bytea_sorted) / sizeof(bytea_sorted[0]);
    for (size_t i = 0; i + 1 < nb; i++) {
        struct tl_value x = parse_ok(TL_TYPE_BYTEA, bytea_sorted[i]);
        struct tl_value y = parse_ok(TL_TYPE_BYTEA, bytea_sorted[i + 1]);
        assert_int_equal(key_cmp(&x, &y), -1);
        assert_true(tl_value_cmp(&x, &y) < 0);
    }
    static const char *uuid_sorted[] = {"00000000-0000-0000-0000-000000000000",
                                        "00000000-0000-0000-0000-000000000001",
                                        "0fffffff-ffff-ffff-ffff-ffffffffffff",
                                        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                                        "ffffffff-ffff-ffff-ffff-ffffffffffff"};
    for (size_t i = 0; i + 1 < 5; i++) {
        struct tl_value x = parse_ok(TL_TYPE_UUID, uuid_sorted[i]);
        struct tl_value y = parse_ok(TL_TYPE_UUID, uuid_sorted[i + 1]);
        assert_int_equal(key_cmp(&x, &y), -1);
    }
    struct tl_value u = parse_ok(TL_TYPE_UUID, uuid_sorted[4]);
    struct tl_value nul = tl_value_null(TL_TYPE_UUID);
    assert_int_equal(key_cmp(&u, &nul), -1);

    /* Round trips, two columns in a row so the ends are found. */
    struct tl_value cols[2] = {
        parse_ok(TL_TYPE_UUID, uuid_sorted[3]),
        parse_ok(TL_TYPE_BYTEA, "\\x00ff0000"),
    };
    struct tl_buf b;
    tl_buf_init(&b);
    tl_key_encode_value(&b, &cols[0]);
    tl_key_encode_value(&b, &cols[1]);
    assert_int_equal(b.len, 1 + 16 + 1 + 4 + 3 + 2);
    const uint8_t *p = b.data, *end = b.data + b.len;
    struct tl_value o;
    assert_int_equal(tl_key_decode_value(&p, end, TL_TYPE_UUID, &arena, &o), 0);
    assert_int_equal(o.type, TL_TYPE_UUID);
    assert_int_equal(tl_value_cmp(&o, &cols[0]), 0);
    assert_int_equal(tl_key_decode_value(&p, end, TL_TYPE_BYTEA, &arena, &o),
                     0);
    assert_int_equal(o.type, TL_TYPE_BYTEA);
    assert_int_equal(tl_value_cmp(&o, &cols[1]), 0);
    assert_ptr_equal(p, end);
    /* A truncated uuid, and the unused type 13. */
    p = b.data;
    assert_int_equal(
        tl_key_decode_value(&p, b.data + 10, TL_TYPE_UUID, &arena, &o),
        TL_ECORRUPT);
    p = b.data;
    assert_int_equal(tl_key_decode_value(&p, end, 13, &arena, &o), TL_ECORRUPT);
    tl_buf_close(&b);
}

/* Equal values hash alike whichever input form they came from, so a uuid
 * or bytea shard key routes one value to one shard. */
static void
test_hash(void **state)
{
    (void)state;
    struct tl_value a =
        parse_ok(TL_TYPE_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    struct tl_value b =
        parse_ok(TL_TYPE_UUID, "{A0EEBC999C0B4EF8BB6D6BB9BD380A11}");
    struct tl_value c =
        parse_ok(TL_TYPE_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12");
    assert_true(tl_vindex_hash(&a) == tl_vindex_hash(&b));
    assert_true(tl_vindex_hash(&a) != tl_vindex_hash(&c));
    struct tl_value x = parse_ok(TL_TYPE_BYTEA, "abc");
    struct tl_value y = parse_ok(TL_TYPE_BYTEA, "\\x616263");
    struct tl_value z =
        parse_ok(TL_TYPE_BYTEA, "\\x6162630000000000000000000000000000000000"
                                "00000000");
    assert_true(tl_vindex_hash(&x) == tl_vindex_hash(&y));
    assert_true(tl_vindex_hash(&x) != tl_vindex_hash(&z));
}

/* length() and octet_length() of a bytea count bytes; gen_random_uuid()
 * gives a version 4, RFC 4122 variant value, new on every call. */
static void
test_functions(void **state)
{
    (void)state;
    struct tl_value v = parse_ok(TL_TYPE_BYTEA, "\\xc3a9c3a9"), o;
    struct tl_error err;
    assert_int_equal(
        tl_func_eval(TL_FUNC_LENGTH, TL_TYPE_INT4, &v, 1, &arena, &o, &err), 0);
    assert_int_equal(o.u.i, 4);
    struct tl_value t = tl_value_text(TL_TYPE_TEXT, "\xc3\xa9\xc3\xa9", 4);
    assert_int_equal(
        tl_func_eval(TL_FUNC_LENGTH, TL_TYPE_INT4, &t, 1, &arena, &o, &err), 0);
    assert_int_equal(o.u.i, 2);
    assert_int_equal(tl_func_eval(TL_FUNC_OCTET_LENGTH, TL_TYPE_INT4, &v, 1,
                                  &arena, &o, &err),
                     0);
    assert_int_equal(o.u.i, 4);

    const struct tl_func_sig *sig = tl_func_find("gen_random_uuid", 0);
    assert_non_null(sig);
    assert_true(sig->is_volatile);
    assert_int_equal(sig->result, TL_TYPE_UUID);
    assert_null(tl_func_find("gen_random_uuid", 1));
    struct tl_value u1, u2;
    assert_int_equal(tl_func_eval(TL_FUNC_GEN_RANDOM_UUID, TL_TYPE_UUID, NULL,
                                  0, &arena, &u1, &err),
                     0);
    assert_int_equal(tl_func_eval(TL_FUNC_GEN_RANDOM_UUID, TL_TYPE_UUID, NULL,
                                  0, &arena, &u2, &err),
                     0);
    assert_int_equal(u1.type, TL_TYPE_UUID);
    assert_int_equal(u1.u.s.len, 16);
    assert_int_equal((uint8_t)u1.u.s.p[6] >> 4, 4);
    assert_int_equal((uint8_t)u1.u.s.p[8] >> 6, 2);
    assert_int_not_equal(tl_value_cmp(&u1, &u2), 0);
    const char *s = out(&u1);
    assert_int_equal(strlen(s), 36);
    assert_int_equal(s[14], '4');
}

/* bytea || bytea joins the bytes, and the result is a bytea. */
static void
test_concat(void **state)
{
    (void)state;
    struct tl_value l = parse_ok(TL_TYPE_BYTEA, "\\x0100");
    struct tl_value r = parse_ok(TL_TYPE_BYTEA, "\\x02");
    struct tl_expr *e =
        tl_expr_op(&arena, TL_OP_CONCAT, TL_TYPE_BYTEA,
                   tl_expr_const(&arena, &l), tl_expr_const(&arena, &r));
    struct tl_value o;
    struct tl_error err;
    assert_int_equal(tl_expr_eval(e, NULL, 0, &arena, &o, &err), 0);
    assert_int_equal(o.type, TL_TYPE_BYTEA);
    assert_string_equal(out(&o), "\\x010002");
}

/* The binary format of a uuid is its 16 bytes, of a bytea its bytes; a
 * uuid of another length is 22P03. */
static void
test_wire_binary(void **state)
{
    (void)state;
    struct tl_value u =
        parse_ok(TL_TYPE_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    struct tl_value b = parse_ok(TL_TYPE_BYTEA, "\\x00ff10");
    struct tl_buf w;
    struct tl_value o;
    struct tl_error err;
    tl_buf_init(&w);
    pgw_value_to_binary(&u, &w);
    assert_int_equal(w.len, 16);
    assert_memory_equal(w.data,
                        "\xa0\xee\xbc\x99\x9c\x0b\x4e\xf8\xbb\x6d\x6b\xb9\xbd"
                        "\x38\x0a\x11",
                        16);
    assert_int_equal(
        pgw_value_from_binary(TL_TYPE_UUID, w.data, w.len, NULL, &o, &err), 0);
    assert_int_equal(o.type, TL_TYPE_UUID);
    assert_int_equal(tl_value_cmp(&o, &u), 0);
    assert_int_equal(
        pgw_value_from_binary(TL_TYPE_UUID, w.data, 15, NULL, &o, &err),
        TL_EINVAL);
    assert_string_equal(err.sqlstate, "22P03");
    tl_buf_reset(&w);
    pgw_value_to_binary(&b, &w);
    assert_int_equal(w.len, 3);
    assert_memory_equal(w.data, "\x00\xff\x10", 3);
    assert_int_equal(
        pgw_value_from_binary(TL_TYPE_BYTEA, w.data, w.len, NULL, &o, &err), 0);
    assert_int_equal(o.type, TL_TYPE_BYTEA);
    assert_int_equal(tl_value_cmp(&o, &b), 0);
    tl_buf_close(&w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid_text),
        cmocka_unit_test(test_bytea_text),
        cmocka_unit_test(test_type_facts),
        cmocka_unit_test(test_compare_and_cast),
        cmocka_unit_test(test_row_codec),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_functions),
        cmocka_unit_test(test_concat),
        cmocka_unit_test(test_wire_binary),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
