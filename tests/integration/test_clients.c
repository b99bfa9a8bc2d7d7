/* The PostgreSQL clients people use, against a real cluster: every case
 * listed in tests/clients/enabled.txt (`<client> <case>` per line) is run
 * through tests/clients/run with PGHOST/PGPORT/PGUSER/PGDATABASE naming
 * the router, and must print `ok <case>`. Every client program must be
 * able to run (its driver installed), enabled cases or not: a missing tool
 * fails the test, it is never skipped. Outputs are kept in
 * <build>/clients-results/CLIENT.out. With TALUS_CLIENTS_ALL=1 every case
 * of every client is run and reported, and only the enabled ones must
 * pass: the way to see which cases the router has grown to pass. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "harness.h"

#define MAX_ENABLED 256
#define NAME_MAX_LEN 64

/* The client programs, in the order they run (tests/clients/run --list). */
static const char *const clients[] = {"node-pg",    "asyncpg", "psycopg2",
                                      "sqlalchemy", "jdbc",    "psql"};
#define N_CLIENTS (sizeof(clients) / sizeof(clients[0]))

struct enabled_case {
    char client[NAME_MAX_LEN];
    char name[NAME_MAX_LEN];
    bool passed;
};

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

static bool
is_client(const char *name)
{
    for (size_t i = 0; i < N_CLIENTS; i++)
        if (strcmp(clients[i], name) == 0)
            return true;
    return false;
}

/* Read enabled.txt into @cases (at most MAX_ENABLED); blank lines and
 * lines starting with '#' are skipped. The number read, or -1 when the
 * file cannot be read or a line is not `<known client> <case>`. */
static int
read_enabled(const char *path, struct enabled_case *cases)
{
    char line[256];
    int n = 0, lineno = 0;
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        fprintf(stderr, "clients: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char client[NAME_MAX_LEN], name[NAME_MAX_LEN], extra[2];
        int k;
        lineno++;
        if (line[strspn(line, " \t\r\n")] == '\0' || line[0] == '#')
            continue;
        k = sscanf(line, "%63s %63s %1s", client, name, extra);
        if (k != 2 || !is_client(client) || n == MAX_ENABLED) {
            fprintf(stderr,
                    "clients: %s:%d: want `<client> <case>` with a client "
                    "of tests/clients/run --list\n",
                    path, lineno);
            fclose(f);
            return -1;
        }
        snprintf(cases[n].client, NAME_MAX_LEN, "%s", client);
        snprintf(cases[n].name, NAME_MAX_LEN, "%s", name);
        cases[n].passed = false;
        n++;
    }
    fclose(f);
    return n;
}

/* Mark the cases of @client that @out_path reports as `ok`; print every
 * line of it. */
static void
read_results(const char *out_path, const char *client,
             struct enabled_case *cases, int n)
{
    char line[4096];
    FILE *f = fopen(out_path, "r");

    if (f == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL) {
        printf("clients: %s: %s", client, line);
        if (strncmp(line, "ok ", 3) != 0)
            continue;
        line[strcspn(line, "\r\n")] = '\0';
        for (int i = 0; i < n; i++)
            if (strcmp(cases[i].client, client) == 0 &&
                strcmp(cases[i].name, line + 3) == 0)
                cases[i].passed = true;
    }
    fclose(f);
}

/* Every client program can run, and every enabled case passes against the
 * router. */
static void
test_enabled_cases_pass(void **state)
{
    static struct enabled_case cases[MAX_ENABLED];
    char run[PATH_MAX], enabled[PATH_MAX], outdir[PATH_MAX];
    char env_host[64], env_port[64], env_build[PATH_MAX + 32];
    bool all = getenv("TALUS_CLIENTS_ALL") != NULL;
    int n, failed = 0;

    snprintf(run, sizeof(run), "%s/tests/clients/run", TALUS_SOURCE_DIR);
    snprintf(enabled, sizeof(enabled), "%s/tests/clients/enabled.txt",
             TALUS_SOURCE_DIR);
    snprintf(outdir, sizeof(outdir), "%s/clients-results", TALUS_BIN_DIR);
    mkdir(outdir, 0755);
    snprintf(env_host, sizeof(env_host), "PGHOST=127.0.0.1");
    snprintf(env_port, sizeof(env_port), "PGPORT=%u", th_router_port(&cluster));
    snprintf(env_build, sizeof(env_build), "CLIENTS_BUILD_DIR=%s/clients",
             TALUS_BIN_DIR);

    n = read_enabled(enabled, cases);
    assert_true(n >= 0);

    /* Every tool first: a missing driver is an error, not a skip. */
    for (size_t c = 0; c < N_CLIENTS; c++) {
        char *argv[] = {run, "--check", (char *)clients[c], NULL};
        int rv = th_run(argv, NULL);
        if (rv != 0) {
            fprintf(stderr,
                    "clients: %s cannot run (status %d); run "
                    "scripts/install-deps\n",
                    clients[c], rv);
            failed++;
        }
    }
    assert_int_equal(failed, 0);

    for (size_t c = 0; c < N_CLIENTS; c++) {
        char *argv[9 + MAX_ENABLED] = {
            "env",         env_host,          env_port,
            "PGUSER=test", "PGDATABASE=test", env_build,
            run,           (char *)clients[c]};
        char out[PATH_MAX + 80];
        int argc = 8, n_mine = 0, rv;

        for (int i = 0; i < n; i++)
            if (strcmp(cases[i].client, clients[c]) == 0) {
                argv[argc++] = cases[i].name;
                n_mine++;
            }
        if (all)
            argc = 8; /* no case names: every case */
        else if (n_mine == 0)
            continue;
        argv[argc] = NULL;
        snprintf(out, sizeof(out), "%s/%s.out", outdir, clients[c]);
        rv = th_run(argv, out);
        read_results(out, clients[c], cases, n);
        printf("clients: %s exited with status %d (output in %s)\n", clients[c],
               rv, out);
        if (rv != 0 && rv != 1) {
            /* 1 is "some case failed", judged case by case below; any other
             * status means the program itself did not run through. */
            fprintf(stderr, "clients: %s did not run (status %d)\n", clients[c],
                    rv);
            failed++;
        }
    }

    for (int i = 0; i < n; i++)
        if (!cases[i].passed) {
            fprintf(stderr, "clients: enabled case %s %s did not pass\n",
                    cases[i].client, cases[i].name);
            failed++;
        }
    assert_int_equal(failed, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enabled_cases_pass),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
