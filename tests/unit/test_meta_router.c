/* Router side of map versions: which table a request touches (the table
 * whose existence decides between a retry and 42P01 after a stale-version
 * refusal), and the statement version kept per thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "common/meta/meta_keys.h"
#include "keycodec.h"
#include "router/core/catalog.h"
#include "router/core/router_int.h"

/* Scans and modifies name their table by descriptor, writes by the prefix
 * of their first key; system keys (table 0) and bodies without a table
 * give 0. */
static void
test_request_table(void **state)
{
    (void)state;
    Talus__TableDesc d = TALUS__TABLE_DESC__INIT;
    d.id = 1234;
    Talus__ScanFragment sf = TALUS__SCAN_FRAGMENT__INIT;
    sf.table = &d;
    Talus__Request req = TALUS__REQUEST__INIT;
    req.body_case = TALUS__REQUEST__BODY_SCAN;
    req.scan = &sf;
    assert_int_equal(router_request_table(&req), 1234);

    Talus__ModifyFragment mf = TALUS__MODIFY_FRAGMENT__INIT;
    mf.scan = &sf;
    req.body_case = TALUS__REQUEST__BODY_MODIFY;
    req.modify = &mf;
    assert_int_equal(router_request_table(&req), 1234);

    struct tl_buf key;
    tl_buf_init(&key);
    tl_key_encode_prefix(&key, 1001, 0);
    Talus__Mutation m = TALUS__MUTATION__INIT;
    m.key.data = key.data;
    m.key.len = key.len;
    Talus__Mutation *ms[1] = {&m};
    Talus__WriteBatch wb = TALUS__WRITE_BATCH__INIT;
    wb.mutations = ms;
    wb.n_mutations = 1;
    req.body_case = TALUS__REQUEST__BODY_WRITE;
    req.write = &wb;
    assert_int_equal(router_request_table(&req), 1001);
    tl_buf_reset(&key);
    tl_meta_key_table(&key, "t"); /* a system key */
    m.key.data = key.data;
    m.key.len = key.len;
    assert_int_equal(router_request_table(&req), 0);
    wb.n_mutations = 0;
    assert_int_equal(router_request_table(&req), 0);
    tl_buf_close(&key);

    req.body_case = TALUS__REQUEST__BODY_STATUS;
    assert_int_equal(router_request_table(&req), 0);
}

/* Outside a statement a request carries the cache's version (0 for a
 * catalog never loaded), and a statement that copied no table too. */
static void
test_request_version_without_statement(void **state)
{
    (void)state;
    struct catalog *c;
    assert_int_equal(catalog_create(NULL, &c), 0);
    assert_int_equal(catalog_version(c), 0);
    assert_false(catalog_has_id(c, 1000, NULL, 0));
    catalog_destroy(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_table),
        cmocka_unit_test(test_request_version_without_statement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
