/* Golden SQL tests, as PostgreSQL's pg_regress runs them: every
 * tests/sql/NAME.sql is fed to psql against a fresh cluster, and psql's
 * output (statements echoed, results, errors with their position) must
 * equal tests/sql/expected/NAME.out byte for byte. Actual outputs are
 * kept in <build>/sql-results/ for review. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "harness.h"

static struct th_cluster cluster;

static int
setup(void **state)
{
    return th_cluster_start(&cluster, NULL);
}

static int
teardown(void **state)
{
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every golden file produces exactly its expected output. */
static void
test_golden_files(void **state)
{
    char sqldir[PATH_MAX], outdir[PATH_MAX], port[16];
    char *names[256];
    int n = 0, failed = 0;
    struct dirent *e;

    snprintf(sqldir, sizeof(sqldir), "%s/tests/sql", TALUS_SOURCE_DIR);
    snprintf(outdir, sizeof(outdir), "%s/sql-results", TALUS_BIN_DIR);
    mkdir(outdir, 0755);
    snprintf(port, sizeof(port), "%u", th_router_port(&cluster));

    DIR *d = opendir(sqldir);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL && n < 256) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".sql") == 0)
            names[n++] = strndup(e->d_name, len - 4);
    }
    closedir(d);
    assert_true(n > 0);
    qsort(names, (size_t)n, sizeof(names[0]), cmp_names);

    for (int i = 0; i < n; i++) {
        char cmd[4 * PATH_MAX], out[PATH_MAX + 300], want[PATH_MAX + 300];
        snprintf(out, sizeof(out), "%s/%s.out", outdir, names[i]);
        snprintf(want, sizeof(want), "%s/expected/%s.out", sqldir, names[i]);
        snprintf(cmd, sizeof(cmd),
                 "PGOPTIONS= PGTZ=UTC psql -X -a -q -h 127.0.0.1 -p %s -U "
                 "regress -d regress < '%s/%s.sql' > '%s' 2>&1",
                 port, sqldir, names[i], out);
        char *argv[] = {"sh", "-c", cmd, NULL};
        th_run(argv, NULL);
        char *diff[] = {"diff", "-u", want, out, NULL};
        if (th_run(diff, NULL) != 0) {
            fprintf(stderr, "golden: %s differs (actual output in %s)\n",
                    names[i], out);
            failed++;
        } else {
            printf("golden: %s ok\n", names[i]);
        }
        free(names[i]);
    }
    assert_int_equal(failed, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
