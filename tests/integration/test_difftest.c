/* Differential test against PostgreSQL 15: random schemas, rows and
 * SELECTs (tests/difftest/difftest.py) run on a Talus cluster and on a
 * real PostgreSQL, and every query must give the same rows, or an error
 * of the same SQLSTATE class, on both (or a difference listed in
 * tests/difftest/known.txt).
 *
 * By default (ctest) it runs six fixed seeds, 4,000 queries each, over
 * the features listed in tests/difftest/features-ci.txt. The queries of a
 * seed are always the same, so the run is deterministic; each seed is
 * also bounded to 25 s (150 s in all), which on a slow machine (a
 * sanitizer build) only cuts the run short. `make difftest` sets the
 * environment for a long run:
 *   DIFFTEST_SEED      one seed (default: the CI seeds)
 *   DIFFTEST_N         queries per seed (default 4000)
 *   DIFFTEST_TIME      seconds per seed (default: 25 for the CI seeds, no
 *                      limit for DIFFTEST_SEED)
 *   DIFFTEST_FEATURES  "all" or a comma list (default: features-ci.txt)
 *   DIFFTEST_OUT       a directory for the minimised mismatch files */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static struct th_cluster cluster;
static struct th_pg pg;

static int
setup(void **state)
{
    char dir[PATH_MAX + 8];

    if (th_cluster_start(&cluster, NULL) != 0)
        return -1;
    snprintf(dir, sizeof(dir), "%s/pg", cluster.dir);
    if (th_pg_start(&pg, dir, 0) != 0) {
        th_cluster_stop(&cluster);
        return -1;
    }
    return 0;
}

static int
teardown(void **state)
{
    int bad_pg = th_pg_stop(&pg);
    int bad = th_cluster_stop(&cluster);
    return bad == 0 && bad_pg == 0 ? 0 : -1;
}

static const char *
env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : dflt;
}

/* Run difftest.py for @seed; its exit status. */
static int
run_seed(const char *seed, const char *queries, const char *time_limit)
{
    char script[PATH_MAX], known[PATH_MAX], features[PATH_MAX + 8];
    char talus_port[16], pg_port[16];
    char *argv[32];
    int argc = 0;

    snprintf(script, sizeof(script), "%s/tests/difftest/difftest.py",
             TALUS_SOURCE_DIR);
    snprintf(known, sizeof(known), "%s/tests/difftest/known.txt",
             TALUS_SOURCE_DIR);
    snprintf(features, sizeof(features), "@%s/tests/difftest/features-ci.txt",
             TALUS_SOURCE_DIR);
    snprintf(talus_port, sizeof(talus_port), "%u", th_router_port(&cluster));
    snprintf(pg_port, sizeof(pg_port), "%u", pg.port);

    /* Debian's python3, whose dist-packages hold python3-psycopg2 (a
     * python3 earlier in PATH may not see them). */
    argv[argc++] = "/usr/bin/python3";
    argv[argc++] = script;
    argv[argc++] = "--talus";
    argv[argc++] = talus_port;
    argv[argc++] = "--pg";
    argv[argc++] = pg_port;
    argv[argc++] = "--seed";
    argv[argc++] = (char *)seed;
    argv[argc++] = "--queries";
    argv[argc++] = (char *)queries;
    argv[argc++] = "--features";
    argv[argc++] = (char *)env_or("DIFFTEST_FEATURES", features);
    argv[argc++] = "--known";
    argv[argc++] = known;
    if (time_limit != NULL) {
        argv[argc++] = "--time-limit";
        argv[argc++] = (char *)time_limit;
    }
    if (getenv("DIFFTEST_OUT") != NULL) {
        argv[argc++] = "--out";
        argv[argc++] = getenv("DIFFTEST_OUT");
    }
    argv[argc] = NULL;

    /* The script stops itself at its time limit (and the minimising of
     * mismatches has its own); this bound only catches a hang. */
    double limit = time_limit != NULL ? atof(time_limit) + 300 : 7 * 86400;
    int rv = th_run_limited(argv, NULL, limit);
    printf("difftest: seed %s exited %d\n", seed, rv);
    return rv;
}

/* The same random queries give the same results (or errors of the same
 * SQLSTATE class) on Talus and on PostgreSQL 15, for every feature of
 * features-ci.txt; Talus never loses a connection. */
static void
test_difftest(void **state)
{
    static const char *const ci_seeds[] = {"1", "2", "3", "4", "5", "6"};
    const char *seed = getenv("DIFFTEST_SEED");
    const char *n = getenv("DIFFTEST_N");
    const char *time_limit = getenv("DIFFTEST_TIME");
    int failed = 0;

    if (seed != NULL && seed[0] != '\0') {
        failed += run_seed(seed, n != NULL ? n : "4000", time_limit) != 0;
    } else {
        for (size_t i = 0; i < sizeof(ci_seeds) / sizeof(ci_seeds[0]); i++)
            failed += run_seed(ci_seeds[i], n != NULL ? n : "4000",
                               time_limit != NULL ? time_limit : "25") != 0;
    }
    /* A server that crashed fails the teardown as well. */
    assert_int_equal(failed, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_difftest),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
