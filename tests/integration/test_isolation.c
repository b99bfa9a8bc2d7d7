/* Isolation anomalies, schedule by schedule, against PostgreSQL 15: each
 * schedule interleaves the statements of two or three sessions step by
 * step, once on a Talus cluster and once on a PostgreSQL 15 server, under
 * READ COMMITTED and under REPEATABLE READ, and the outcome of every step
 * (its rows, its command tag or SQLSTATE, whether it blocked, and when a
 * blocked step finished) must be the same on both: lost update, write
 * skew, read skew, non-repeatable read, phantom, and SELECT ... FOR
 * UPDATE / NOWAIT / SKIP LOCKED. Rows 1 and 101 of every table live on
 * two different shards. Where Talus cannot match PostgreSQL the schedule
 * says so and lists Talus's own outcome (docs/transactions.md, "Differences
 * from PostgreSQL"). SERIALIZABLE, which Talus refuses, is checked apart.
 *
 * PostgreSQL: a private server started from /usr/lib/postgresql/15/bin
 * (Debian's postgresql-15, scripts/install-deps; as the postgres user
 * when the test runs as root), else $TALUS_PG_ORACLE (a libpq conninfo),
 * else 127.0.0.1:25440 user regress; with none reachable the comparison
 * is skipped with a message (the Talus-only checks still run). */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define PG_BIN "/usr/lib/postgresql/15/bin"
#define N_SESSIONS 3
#define MAX_STEPS 24
#define OUT_MAX 256
#define LOG_MAX 8192

static struct th_cluster cluster;
static char pg_conninfo[PATH_MAX + 256]; /* "" when no PostgreSQL */
static char pg_dir[PATH_MAX]; /* the private server's data, "" if none */
static bool pg_as_postgres;   /* run pg_ctl as the postgres user */

/* ------------------------------------------------------------ schedules */

/* A step: session 1..3 runs @sql. "begin" stands for BEGIN ISOLATION
 * LEVEL of the run. */
struct step {
    int s;
    const char *sql;
};

struct schedule {
    const char *name;
    const char *rows; /* the rows of every table, reset before each run */
    struct step steps[MAX_STEPS];
    /* Where Talus cannot do what PostgreSQL does: why, and the log Talus
     * must give instead (per isolation level; NULL: as PostgreSQL). */
    const char *differs;
    const char *talus_rc;
    const char *talus_rr;
};

/* FOR SHARE in Talus: the second holder waits for the first. */
#define TALUS_FOR_SHARE                                                        \
    "1: begin -> BEGIN\n"                                                      \
    "2: begin -> BEGIN\n"                                                      \
    "1: select v from acc where id = 1 for share -> 10\n"                      \
    "2: select v from acc where id = 1 for share -> blocked\n"                 \
    "1: commit -> COMMIT\n"                                                    \
    "   2 -> 10\n"                                                             \
    "2: commit -> COMMIT\n"

#define RESET_ACC "insert into acc values (1, 10), (2, 20), (101, 50)"

static const struct schedule schedules[] = {
    {"lost update: two x = x + 1",
     RESET_ACC,
     {{1, "begin"},
      {2, "begin"},
      {1, "update acc set v = v + 1 where id = 1"},
      {2, "update acc set v = v + 1 where id = 1"},
      {1, "commit"},
      {2, "commit"},
      {3, "select v from acc where id = 1"}},
     NULL,
     NULL,
     NULL},
    {"lost update: SELECT, then UPDATE with the value read",
     RESET_ACC,
     {{1, "begin"},
      {2, "begin"},
      {1, "select v from acc where id = 101"},
      {2, "select v from acc where id = 101"},
      {1, "update acc set v = 60 where id = 101"},
      {1, "commit"},
      {2, "update acc set v = 70 where id = 101"},
      {2, "commit"},
      {3, "select v from acc where id = 101"}},
     NULL,
     NULL,
     NULL},
    {"lost update prevented: SELECT ... FOR UPDATE, then UPDATE",
     RESET_ACC,
     {{1, "begin"},
      {2, "begin"},
      {2, "select v from acc where id = 2"},
      {1, "select v from acc where id = 101 for update"},
      {2, "select v from acc where id = 101 for update"},
      {1, "update acc set v = 60 where id = 101"},
      {1, "commit"},
      {2, "update acc set v = v + 10 where id = 101"},
      {2, "commit"},
      {3, "select v from acc where id = 101"}},
     NULL,
     NULL,
     NULL},
    {"write skew: two doctors on call",
     "insert into doc values (1, 'alice', true), (101, 'bob', true)",
     {{1, "begin"},
      {2, "begin"},
      {1, "select count(*) from doc where on_call"},
      {2, "select count(*) from doc where on_call"},
      {1, "update doc set on_call = false where id = 1"},
      {2, "update doc set on_call = false where id = 101"},
      {1, "commit"},
      {2, "commit"},
      {3, "select id, on_call from doc order by id"}},
     NULL,
     NULL,
     NULL},
    {"write skew prevented: FOR UPDATE on both doctors",
     "insert into doc values (1, 'alice', true), (101, 'bob', true)",
     {{1, "begin"},
      {2, "begin"},
      {1, "select id from doc where on_call order by id for update"},
      {2, "select id from doc where on_call order by id for update"},
      {1, "update doc set on_call = false where id = 1"},
      {1, "commit"},
      {2, "rollback"},
      {3, "select id, on_call from doc order by id"}},
     NULL,
     NULL,
     NULL},
    {"read skew: two reads across a transfer over two shards",
     "insert into acc values (1, 50), (101, 50)",
     {{1, "begin"},
      {1, "select v from acc where id = 1"},
      {2, "begin"},
      {2, "update acc set v = v - 10 where id = 1"},
      {2, "update acc set v = v + 10 where id = 101"},
      {2, "commit"},
      {1, "select v from acc where id = 101"},
      {1, "select sum(v) from acc"},
      {1, "commit"}},
     NULL,
     NULL,
     NULL},
    {"non-repeatable read",
     RESET_ACC,
     {{1, "begin"},
      {1, "select v from acc where id = 101"},
      {2, "update acc set v = 55 where id = 101"},
      {1, "select v from acc where id = 101"},
      {1, "commit"}},
     NULL,
     NULL,
     NULL},
    {"phantom: INSERT in the range read",
     RESET_ACC,
     {{1, "begin"},
      {1, "select count(*) from acc where v between 10 and 100"},
      {2, "insert into acc values (150, 70)"},
      {1, "select count(*) from acc where v between 10 and 100"},
      {1, "select id from acc where v between 10 and 100 order by id "
          "for update"},
      {1, "commit"}},
     NULL,
     NULL,
     NULL},
    {"FOR UPDATE waits for a writer, then sees its commit",
     RESET_ACC,
     {{1, "begin"},
      {2, "begin"},
      {2, "select 1 from acc where id = 2"},
      {1, "update acc set v = v + 5 where id = 101"},
      {2, "select id, v from acc where id in (1, 101) order by id "
          "for update"},
      {1, "commit"},
      {2, "commit"}},
     NULL,
     NULL,
     NULL},
    {"FOR UPDATE: a row changed to fail the WHERE is left out",
     RESET_ACC,
     {{1, "begin"},
      {2, "begin"},
      {2, "select 1 from acc where id = 2"},
      {1, "update acc set v = 500 where id = 101"},
      {2, "select id from acc where v < 100 order by id for update"},
      {1, "commit"},
      {2, "commit"}},
     NULL,
     NULL,
     NULL},
    {"FOR UPDATE: a deleted row is left out",
     RESET_ACC,
     {{1, "begin"},
      {2, "begin"},
      {2, "select 1 from acc where id = 2"},
      {1, "delete from acc where id = 1"},
      {2, "select id from acc where id in (1, 101) order by id for update"},
      {1, "commit"},
      {2, "commit"}},
     NULL,
     NULL,
     NULL},
    {"FOR UPDATE waits for a row lock, then locks the row",
     RESET_ACC,
     {{1, "begin"},
      {2, "begin"},
      {1, "select v from acc where id = 101 for update"},
      {2, "select v from acc where id = 101 for update"},
      {1, "commit"},
      {2, "update acc set v = v + 1 where id = 101"},
      {2, "commit"},
      {3, "select v from acc where id = 101"}},
     NULL,
     NULL,
     NULL},
    {"a plain read never waits for FOR UPDATE; a writer does",
     RESET_ACC,
     {{1, "begin"},
      {1, "select v from acc where id = 1 for update"},
      {2, "select v from acc where id = 1"},
      {2, "update acc set v = 11 where id = 1"},
      {1, "rollback"},
      {3, "select v from acc where id = 1"}},
     NULL,
     NULL,
     NULL},
    {"NOWAIT",
     RESET_ACC,
     {{1, "begin"},
      {1, "select v from acc where id = 101 for update"},
      {2, "begin"},
      {2, "select v from acc where id = 101 for update nowait"},
      {2, "rollback"},
      {2, "begin"},
      {2, "select v from acc where id = 1 for no key update nowait"},
      {2, "commit"},
      {1, "commit"},
      {2, "select v from acc where id = 101 for update nowait"}},
     NULL,
     NULL,
     NULL},
    {"SKIP LOCKED: a queue of jobs",
     "insert into acc values (1, 0), (2, 0), (101, 0), (102, 0)",
     {{1, "begin"},
      {1, "select id from acc where v = 0 order by id limit 1 "
          "for update skip locked"},
      {2, "begin"},
      {2, "select id from acc where v = 0 order by id limit 1 "
          "for update skip locked"},
      {3, "select id from acc where v = 0 order by id for update "
          "skip locked"},
      {1, "update acc set v = 1 where id = 1"},
      {2, "update acc set v = 1 where id = 2"},
      {1, "commit"},
      {2, "commit"},
      {3, "select id, v from acc order by id"}},
     NULL,
     NULL,
     NULL},
    {"FOR SHARE holders",
     RESET_ACC,
     {{1, "begin"},
      {2, "begin"},
      {1, "select v from acc where id = 1 for share"},
      {2, "select v from acc where id = 1 for share"},
      {1, "commit"},
      {2, "commit"}},
     "FOR SHARE takes an exclusive row lock in Talus: a second FOR SHARE "
     "waits for the first holder",
     TALUS_FOR_SHARE,
     TALUS_FOR_SHARE},
    {"FOR UPDATE of a reference table",
     "insert into ref values (1, 10)",
     {{1, "begin"},
      {2, "begin"},
      {3, "begin"},
      {1, "select v from ref where id = 1 for update"},
      {2, "select v from ref where id = 1 for update"},
      {3, "select v from ref where id = 1 for update nowait"},
      {1, "update ref set v = 11 where id = 1"},
      {1, "commit"},
      {2, "commit"},
      {3, "rollback"}},
     NULL,
     NULL,
     NULL},
    {"a committed FOR UPDATE is no write: no 40001 for a later writer",
     RESET_ACC,
     {{1, "begin"},
      {2, "begin"},
      {1, "select v from acc where id = 2"},
      {2, "select v from acc where id = 101 for update"},
      {2, "commit"},
      {1, "update acc set v = v + 1 where id = 101"},
      {1, "commit"},
      {3, "select v from acc where id = 101"}},
     NULL,
     NULL,
     NULL},
};

#define N_SCHEDULES (sizeof(schedules) / sizeof(schedules[0]))

/* ------------------------------------------------------------ running */

/* One server (Talus or PostgreSQL) running a schedule. */
struct run {
    const char *who;
    PGconn *admin;
    PGconn *s[N_SESSIONS];
    bool busy[N_SESSIONS];
    int block_ms; /* a step not done by then is blocked */
    /* How long a blocked step is given to finish after a step that ends
     * a transaction (which releases its locks), and after any other. The
     * sum over the steps it stays blocked must stay well under Talus's
     * 5 s wait for a row lock. */
    int unblock_end_ms;
    int unblock_ms;
    char log[LOG_MAX];
};

static void
logf_(struct run *r, const char *fmt, ...)
{
    size_t n = strlen(r->log);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->log + n, sizeof(r->log) - n, fmt, ap);
    va_end(ap);
}

/* The outcome of a finished query: its rows ("a,b|c,d"; "(none)" for
 * none), its command tag, or "ERROR <sqlstate>". */
static void
collect(PGconn *c, char *out, size_t n)
{
    PGresult *res;
    snprintf(out, n, "(no result)");
    while ((res = PQgetResult(c)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK) {
            size_t k = 0;
            out[0] = 0;
            for (int i = 0; i < PQntuples(res); i++)
                for (int j = 0; j < PQnfields(res); j++)
                    k += (size_t)snprintf(out + k, k < n ? n - k : 0, "%s%s",
                                          j > 0 ? "," : (i > 0 ? "|" : ""),
                                          PQgetisnull(res, i, j)
                                              ? "NULL"
                                              : PQgetvalue(res, i, j));
            if (PQntuples(res) == 0)
                snprintf(out, n, "(none)");
        } else if (st == PGRES_COMMAND_OK) {
            snprintf(out, n, "%s", PQcmdStatus(res));
        } else {
            const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            snprintf(out, n, "ERROR %s", s != NULL ? s : "?");
        }
        PQclear(res);
    }
}

/* Wait up to @ms for session @i's query: true when it finished. */
static bool
wait_done(PGconn *c, int ms)
{
    double until = th_now() + ms / 1000.0;
    for (;;) {
        if (!PQconsumeInput(c))
            return true; /* connection lost: collect() reports it */
        if (!PQisBusy(c))
            return true;
        double left = until - th_now();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = PQsocket(c), .events = POLLIN};
        poll(&p, 1, (int)(left * 1000) + 1);
    }
}

/* After a step (@ended: it ended a transaction): every blocked session
 * that finished now. */
static void
check_blocked(struct run *r, bool ended)
{
    int ms = ended ? r->unblock_end_ms : r->unblock_ms;
    for (int i = 0; i < N_SESSIONS; i++) {
        if (!r->busy[i] || !wait_done(r->s[i], ms))
            continue;
        char out[OUT_MAX];
        collect(r->s[i], out, sizeof out);
        r->busy[i] = false;
        logf_(r, "   %d -> %s\n", i + 1, out);
    }
}

static void
run_step(struct run *r, const struct step *st, const char *level)
{
    char sql[512];
    int i = st->s - 1;
    if (strcmp(st->sql, "begin") == 0)
        snprintf(sql, sizeof sql, "begin isolation level %s", level);
    else
        snprintf(sql, sizeof sql, "%s", st->sql);
    if (r->busy[i]) {
        logf_(r, "%d: %s -> session still blocked\n", st->s, st->sql);
        return;
    }
    if (!PQsendQuery(r->s[i], sql)) {
        logf_(r, "%d: %s -> send failed\n", st->s, st->sql);
        return;
    }
    if (!wait_done(r->s[i], r->block_ms)) {
        r->busy[i] = true;
        logf_(r, "%d: %s -> blocked\n", st->s, st->sql);
        return;
    }
    char out[OUT_MAX];
    collect(r->s[i], out, sizeof out);
    logf_(r, "%d: %s -> %s\n", st->s, st->sql, out);
    check_blocked(r, strcmp(st->sql, "commit") == 0 ||
                         strcmp(st->sql, "rollback") == 0);
}

/* Run @sc under @level on @r; the log in r->log. */
static void
run_schedule(struct run *r, const struct schedule *sc, const char *level)
{
    r->log[0] = 0;
    assert_true(th_ok(r->admin, "delete from acc"));
    assert_true(th_ok(r->admin, "delete from doc"));
    assert_true(th_ok(r->admin, "delete from ref"));
    assert_true(th_ok(r->admin, sc->rows));
    for (int k = 0; k < MAX_STEPS && sc->steps[k].s != 0; k++)
        run_step(r, &sc->steps[k], level);
    /* Let what is still blocked end, and leave every session idle. */
    for (int i = 0; i < N_SESSIONS; i++) {
        if (r->busy[i]) {
            char out[OUT_MAX];
            if (wait_done(r->s[i], 15000))
                collect(r->s[i], out, sizeof out);
            else
                logf_(r, "   %d never finished\n", i + 1);
            r->busy[i] = false;
        }
        PQclear(PQexec(r->s[i], "rollback"));
    }
}

/* Tables with rows 1..99 and 100.. on two shards, and a reference
 * table. */
static void
create_tables(PGconn *c, bool talus)
{
    const char *part =
        talus ? " partition by range (id) with (boundaries = '100')" : "";
    char sql[512];
    PQclear(PQexec(c, "drop table if exists acc"));
    PQclear(PQexec(c, "drop table if exists doc"));
    PQclear(PQexec(c, "drop table if exists ref"));
    snprintf(sql, sizeof sql, "create table acc (id int primary key, v int)%s",
             part);
    assert_true(th_ok(c, sql));
    snprintf(sql, sizeof sql,
             "create table doc (id int primary key, name text, on_call "
             "boolean)%s",
             part);
    assert_true(th_ok(c, sql));
    /* A full copy on every shard in Talus. */
    snprintf(sql, sizeof sql, "create table ref (id int primary key, v int)%s",
             talus ? " with (distribution = 'reference')" : "");
    assert_true(th_ok(c, sql));
}

/* Notices (the final ROLLBACK's "no transaction in progress") are not
 * part of an outcome. */
static void
quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void
run_open(struct run *r, const char *who, PGconn *(*connect)(void), bool talus)
{
    memset(r, 0, sizeof *r);
    r->who = who;
    r->admin = connect();
    PQsetNoticeProcessor(r->admin, quiet, NULL);
    for (int i = 0; i < N_SESSIONS; i++) {
        r->s[i] = connect();
        PQsetNoticeProcessor(r->s[i], quiet, NULL);
    }
    /* Talus resends a waiting request every 10 ms; under the sanitizers
     * a statement takes tens of milliseconds. */
    /* Generous for both: a loaded machine (the suite runs two tests at
     * once, under sanitizers) must not turn a slow wake-up into a
     * different schedule. Only a step that stays blocked pays them. */
    r->block_ms = talus ? 1000 : 600;
    r->unblock_end_ms = 2000;
    r->unblock_ms = 300;
    create_tables(r->admin, talus);
}

static void
run_close(struct run *r)
{
    PQfinish(r->admin);
    for (int i = 0; i < N_SESSIONS; i++)
        PQfinish(r->s[i]);
}

static PGconn *
connect_talus(void)
{
    return th_connect(&cluster);
}

static PGconn *
connect_pg(void)
{
    PGconn *c = PQconnectdb(pg_conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "postgres: %s", PQerrorMessage(c));
        abort();
    }
    PQclear(PQexec(c, "set client_min_messages = warning"));
    return c;
}

/* ------------------------------------------------------------ PostgreSQL */

/* Run a command of PostgreSQL's (as the postgres user when we are root,
 * which PostgreSQL refuses to run as). Its exit status. */
static int
pg_cmd(const char *fmt, ...)
{
    char cmd[2048], line[2300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (pg_as_postgres)
        snprintf(line, sizeof line, "runuser -u postgres -- %s", cmd);
    else
        snprintf(line, sizeof line, "%s", cmd);
    return system(line);
}

static bool
pg_reachable(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    bool ok = PQstatus(c) == CONNECTION_OK;
    PQfinish(c);
    return ok;
}

/* A test killed before its teardown leaves its private server running
 * (pg_ctl detaches it): stop and remove those whose test (the pid in
 * their "owner" file) is gone. */
static void
pg_reap_stale(void)
{
    DIR *d = opendir("/tmp");
    struct dirent *e;
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        char dir[PATH_MAX], path[PATH_MAX + 16];
        long owner = 0;
        if (strncmp(e->d_name, "talus-isolation-pg-", 19) != 0)
            continue;
        snprintf(dir, sizeof dir, "/tmp/%s", e->d_name);
        snprintf(path, sizeof path, "%s/owner", dir);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        if (fscanf(f, "%ld", &owner) != 1)
            owner = 0;
        fclose(f);
        if (owner <= 0 || kill((pid_t)owner, 0) == 0 || errno != ESRCH)
            continue;
        pg_cmd(PG_BIN "/pg_ctl -D %s/data -m immediate -w stop >/dev/null "
                      "2>&1",
               dir);
        snprintf(path, sizeof path, "rm -rf %s", dir);
        if (system(path) != 0)
            fprintf(stderr, "isolation: could not remove %s\n", dir);
    }
    closedir(d);
}

/* A private PostgreSQL 15 from the Debian binaries, on a Unix socket in
 * its own directory. */
static bool
pg_start_private(void)
{
    if (access(PG_BIN "/initdb", X_OK) != 0)
        return false;
    if (geteuid() == 0 && getpwnam("postgres") != NULL)
        pg_as_postgres = true;
    pg_reap_stale();
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("postgres");
        if (pw == NULL)
            return false;
        pg_as_postgres = true;
        snprintf(pg_dir, sizeof pg_dir, "/tmp/talus-isolation-pg-XXXXXX");
        if (mkdtemp(pg_dir) == NULL)
            return false;
        if (chown(pg_dir, pw->pw_uid, pw->pw_gid) != 0) {
            rmdir(pg_dir);
            pg_dir[0] = 0;
            return false;
        }
    } else {
        snprintf(pg_dir, sizeof pg_dir, "/tmp/talus-isolation-pg-XXXXXX");
        if (mkdtemp(pg_dir) == NULL)
            return false;
    }
    {
        char path[PATH_MAX + 8];
        snprintf(path, sizeof path, "%s/owner", pg_dir);
        FILE *f = fopen(path, "w");
        if (f != NULL) {
            fprintf(f, "%ld\n", (long)getpid());
            fclose(f);
        }
    }
    unsigned port = 20000 + (unsigned)(getpid() % 20000);
    if (pg_cmd(PG_BIN "/initdb -D %s/data -U regress --auth=trust "
                      "--no-sync -E UTF8 --locale=C >%s/initdb.log 2>&1",
               pg_dir, pg_dir) != 0 ||
        pg_cmd(PG_BIN "/pg_ctl -D %s/data -l %s/pg.log -w -t 60 -o "
                      "\"-p %u -k %s -c listen_addresses='' -c fsync=off\" "
                      "start >/dev/null 2>&1",
               pg_dir, pg_dir, port, pg_dir) != 0) {
        fprintf(stderr,
                "isolation: could not start a private PostgreSQL "
                "(logs in %s)\n",
                pg_dir);
        return false;
    }
    snprintf(pg_conninfo, sizeof pg_conninfo,
             "host=%s port=%u user=regress dbname=postgres "
             "connect_timeout=10",
             pg_dir, port);
    return pg_reachable(pg_conninfo);
}

static void
pg_stop_private(void)
{
    if (pg_dir[0] == 0)
        return;
    pg_cmd(PG_BIN "/pg_ctl -D %s/data -m immediate -w stop >/dev/null 2>&1",
           pg_dir);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", pg_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "isolation: could not remove %s\n", pg_dir);
    pg_dir[0] = 0;
}

static void
pg_find(void)
{
    const char *env = getenv("TALUS_PG_ORACLE");
    pg_conninfo[0] = 0;
    if (env != NULL && *env != 0) {
        snprintf(pg_conninfo, sizeof pg_conninfo, "%s", env);
        if (!pg_reachable(pg_conninfo))
            pg_conninfo[0] = 0;
        return;
    }
    if (pg_start_private())
        return;
    pg_stop_private();
    pg_conninfo[0] = 0;
    const char *shared = "host=127.0.0.1 port=25440 user=regress "
                         "dbname=regress connect_timeout=5";
    if (pg_reachable(shared))
        snprintf(pg_conninfo, sizeof pg_conninfo, "%s", shared);
}

/* ------------------------------------------------------------ tests */

static int
setup(void **state)
{
    (void)state;
    pg_find();
    if (pg_conninfo[0] != 0)
        printf("isolation: PostgreSQL: %s\n",
               pg_dir[0] != 0 ? "a private server from " PG_BIN : pg_conninfo);
    else
        fprintf(stderr,
                "isolation: no PostgreSQL 15 reachable (no %s, no "
                "TALUS_PG_ORACLE, nothing on 127.0.0.1:25440): the "
                "comparison with PostgreSQL is skipped\n",
                PG_BIN);
    return th_cluster_start(&cluster, NULL) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    pg_stop_private();
    return th_cluster_stop(&cluster) == 0 ? 0 : -1;
}

/* Every schedule gives, step by step, the outcome PostgreSQL 15 gives
 * (or, where a schedule says Talus differs, the outcome it lists), under
 * READ COMMITTED and under REPEATABLE READ. */
static void
test_schedules_as_postgres(void **state)
{
    (void)state;
    if (pg_conninfo[0] == 0) {
        fprintf(stderr, "isolation: skipped, no PostgreSQL to compare with\n");
        skip();
    }
    struct run *talus = calloc(1, sizeof *talus);
    struct run *pg = calloc(1, sizeof *pg);
    assert_non_null(talus);
    assert_non_null(pg);
    run_open(talus, "talus", connect_talus, true);
    run_open(pg, "postgres", connect_pg, false);
    const char *levels[] = {"read committed", "repeatable read"};
    int n_bad = 0;
    for (size_t k = 0; k < N_SCHEDULES; k++) {
        const struct schedule *sc = &schedules[k];
        for (int l = 0; l < 2; l++) {
            run_schedule(pg, sc, levels[l]);
            run_schedule(talus, sc, levels[l]);
            const char *want = pg->log;
            const char *own = l == 0 ? sc->talus_rc : sc->talus_rr;
            if (sc->differs != NULL && own != NULL) {
                printf("isolation: %s (%s): Talus differs: %s\n", sc->name,
                       levels[l], sc->differs);
                want = own;
            }
            if (strcmp(want, talus->log) == 0) {
                printf("isolation: %s (%s): ok\n", sc->name, levels[l]);
                continue;
            }
            n_bad++;
            printf("isolation: %s (%s): MISMATCH\n-- %s:\n%s-- talus:\n%s",
                   sc->name, levels[l],
                   want == pg->log ? "postgres" : "expected", want, talus->log);
        }
    }
    fflush(stdout);
    run_close(talus);
    run_close(pg);
    free(talus);
    free(pg);
    assert_int_equal(n_bad, 0);
}

/* SERIALIZABLE is refused by Talus (0A000), never run as snapshot
 * isolation; not compared with PostgreSQL, which runs it. */
static void
test_serializable_refused(void **state)
{
    (void)state;
    PGconn *c = th_connect(&cluster);
    assert_string_equal(th_sqlstate(c, "begin isolation level serializable"),
                        "0A000");
    PQclear(PQexec(c, "rollback"));
    PQfinish(c);
}

/* A locking SELECT refuses what PostgreSQL refuses, with its words. */
static void
test_locking_errors(void **state)
{
    (void)state;
    PGconn *c = th_connect(&cluster);
    create_tables(c, true);
    assert_string_equal(th_sqlstate(c, "select count(*) from acc for update"),
                        "0A000");
    assert_string_equal(
        th_sqlstate(c, "select v from acc group by v for share"), "0A000");
    assert_string_equal(th_sqlstate(c, "select distinct v from acc for update"),
                        "0A000");
    assert_string_equal(th_sqlstate(c, "select v from acc union select v "
                                       "from acc for update"),
                        "0A000");
    assert_string_equal(th_sqlstate(c, "select * from acc for update of x"),
                        "42P01");
    assert_string_equal(th_sqlstate(c, "select * from acc a for update of a"),
                        "");
    assert_string_equal(th_sqlstate(c, "select 1 for update"), "");
    /* More than Talus does yet: a clear 0A000. */
    assert_string_equal(
        th_sqlstate(c, "select * from acc, doc where acc.id = doc.id "
                       "for update"),
        "0A000");
    PQfinish(c);
}

static void
expect_error(PGresult *res, const char *sqlstate, const char *message)
{
    const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    assert_string_equal(s != NULL ? s : "", sqlstate);
    assert_string_equal(m != NULL ? m : "", message);
    PQclear(res);
}

/* A locking SELECT waits for lock_timeout (then PostgreSQL's 55P03), and
 * runs as a prepared statement too: NOWAIT's error, and the row when it
 * is free. */
static void
test_lock_timeout_and_prepared(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster), *b = th_connect(&cluster);
    PQsetNoticeProcessor(a, quiet, NULL);
    PQsetNoticeProcessor(b, quiet, NULL);
    create_tables(a, true);
    assert_true(th_ok(a, RESET_ACC));
    assert_true(th_ok(a, "begin"));
    assert_true(th_ok(a, "select v from acc where id = 1 for update"));
    assert_true(th_ok(b, "set lock_timeout = '200ms'"));
    assert_true(th_ok(b, "begin"));
    expect_error(PQexec(b, "select v from acc where id = 1 for update"),
                 "55P03", "canceling statement due to lock timeout");
    assert_true(th_ok(b, "rollback"));
    /* Without lock_timeout the wait is bounded too (5 s), then
     * PostgreSQL's NOWAIT words. */
    assert_true(th_ok(b, "set lock_timeout = 0"));
    expect_error(PQexec(b, "select v from acc where id = 1 for share"), "55P03",
                 "could not obtain lock on row in relation \"acc\"");
    PQclear(PQprepare(
        b, "p", "select v from acc where id = $1 for update nowait", 1, NULL));
    const char *one = "1", *two = "2";
    expect_error(PQexecPrepared(b, "p", 1, &one, NULL, NULL, 0), "55P03",
                 "could not obtain lock on row in relation \"acc\"");
    PGresult *res = PQexecPrepared(b, "p", 1, &two, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(res), 1);
    assert_string_equal(PQgetvalue(res, 0, 0), "20");
    PQclear(res);
    /* SKIP LOCKED outside a block: the locked row left out. */
    res = PQexec(b, "select id from acc order by id for update skip locked");
    assert_int_equal(PQntuples(res), 2);
    PQclear(res);
    assert_true(th_ok(a, "rollback"));
    PQfinish(a);
    PQfinish(b);
}

/* Two transactions that each hold a row the other's FOR UPDATE wants
 * are a deadlock: one of them fails with 40P01, the other gets its row
 * (which one differs from PostgreSQL: docs/transactions.md). */
static void
test_for_update_deadlock(void **state)
{
    (void)state;
    PGconn *a = th_connect(&cluster), *b = th_connect(&cluster);
    PQsetNoticeProcessor(a, quiet, NULL);
    PQsetNoticeProcessor(b, quiet, NULL);
    assert_true(th_ok(a, "delete from acc"));
    assert_true(th_ok(a, RESET_ACC));
    assert_true(th_ok(a, "begin"));
    assert_true(th_ok(b, "begin"));
    assert_true(th_ok(a, "select v from acc where id = 1 for update"));
    assert_true(th_ok(b, "select v from acc where id = 101 for update"));
    assert_true(PQsendQuery(a, "select v from acc where id = 101 for update"));
    assert_true(PQsendQuery(b, "select v from acc where id = 1 for update"));
    char oa[OUT_MAX], ob[OUT_MAX];
    assert_true(wait_done(a, 10000) && wait_done(b, 10000));
    collect(a, oa, sizeof oa);
    collect(b, ob, sizeof ob);
    printf("isolation: deadlock: a -> %s, b -> %s\n", oa, ob);
    bool a_lost = strcmp(oa, "ERROR 40P01") == 0;
    bool b_lost = strcmp(ob, "ERROR 40P01") == 0;
    assert_true(a_lost != b_lost);
    assert_string_equal(a_lost ? ob : oa, a_lost ? "10" : "50");
    PQclear(PQexec(a, "rollback"));
    PQclear(PQexec(b, "rollback"));
    PQfinish(a);
    PQfinish(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedules_as_postgres),
        cmocka_unit_test(test_serializable_refused),
        cmocka_unit_test(test_locking_errors),
        cmocka_unit_test(test_lock_timeout_and_prepared),
        cmocka_unit_test(test_for_update_deadlock),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
