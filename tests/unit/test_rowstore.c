/* rowstore: a portal's kept DataRow messages come back in order, whole,
 * whether they stayed in memory or went to the temporary file past the
 * memory limit (and a message is never split across the two). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "router/session/rowstore.h"

/* Append a DataRow-shaped message: 'D', length, then @n bytes of @fill. */
static void
append_msg(struct rowstore *rs, size_t n, uint8_t fill)
{
    struct tl_error e;
    tl_error_clear(&e);
    tl_buf_append_u8(&rs->mem, 'D');
    tl_buf_append_be32(&rs->mem, (uint32_t)(n + 4));
    for (size_t i = 0; i < n; i++)
        tl_buf_append_u8(&rs->mem, fill);
    assert_int_equal(rowstore_appended(rs, &e), 0);
}

/* Read back @count messages; message i has (i % 97) + 1 bytes of i. */
static void
read_back(struct rowstore *rs, int count)
{
    struct tl_error e;
    const uint8_t *msg;
    size_t len;
    tl_error_clear(&e);
    for (int i = 0; i < count; i++) {
        size_t n = (size_t)(i % 97) + 1;
        assert_int_equal(rowstore_next(rs, &msg, &len, &e), 1);
        assert_int_equal(len, n + 5);
        assert_int_equal(msg[0], 'D');
        assert_int_equal(tl_load_be32(msg + 1), n + 4);
        for (size_t k = 0; k < n; k++)
            assert_int_equal(msg[5 + k], (uint8_t)i);
    }
    assert_true(rowstore_empty(rs));
    assert_int_equal(rowstore_next(rs, &msg, &len, &e), 0);
}

static void
test_in_memory(void **state)
{
    (void)state;
    struct rowstore rs;
    rowstore_init(&rs, 1 << 20);
    for (int i = 0; i < 100; i++)
        append_msg(&rs, (size_t)(i % 97) + 1, (uint8_t)i);
    assert_null(rs.file);
    read_back(&rs, 100);
    rowstore_reset(&rs);
}

static void
test_spills_past_memory(void **state)
{
    (void)state;
    struct rowstore rs;
    rowstore_init(&rs, 1000);
    for (int i = 0; i < 5000; i++) {
        append_msg(&rs, (size_t)(i % 97) + 1, (uint8_t)i);
        assert_true(rs.mem.len <= 1000 + 102);
    }
    assert_non_null(rs.file);
    assert_true(rs.file_len > 0);
    read_back(&rs, 5000);
    rowstore_reset(&rs);
    assert_null(rs.file);
    /* Reused after a reset. */
    for (int i = 0; i < 300; i++)
        append_msg(&rs, (size_t)(i % 97) + 1, (uint8_t)i);
    read_back(&rs, 300);
    rowstore_reset(&rs);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_memory),
        cmocka_unit_test(test_spills_past_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
