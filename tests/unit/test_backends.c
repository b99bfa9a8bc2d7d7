/* Unit tests of router/backends: startup slots with eviction of the oldest,
 * session slots with superuser-reserved ones, and cancel keys. Sockets
 * are socketpairs, so an eviction is seen as the peer's EOF. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "router/session/backends.h"

static struct backends *
make(int max, int reserved, int max_startup)
{
    struct backend_limits l = {.max_connections = max,
                               .reserved = reserved,
                               .max_startup = max_startup};
    struct backends *b = NULL;
    strcpy(l.superuser, "talus");
    assert_int_equal(backends_create(&l, &b), 0);
    return b;
}

/* A backend on one end of a socketpair; *@peer gets the other end. */
static void
make_backend(struct backend *be, int *peer)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    memset(be, 0, sizeof(*be));
    be->fd = sv[0];
    atomic_init(&be->cancel, false);
    *peer = sv[1];
}

/* Whether the backend's socket was shut down (its peer reads EOF). */
static bool
shut_down(int peer)
{
    char c;
    return recv(peer, &c, 1, MSG_DONTWAIT) == 0;
}

/* When every startup slot is taken, a new connection evicts the oldest
 * starting one, and only it; the evicted one may still leave. */
static void
test_startup_eviction(void **state)
{
    struct backends *b = make(10, 0, 3);
    struct backend be[4];
    int peer[4], sessions, starting;
    (void)state;
    for (int i = 0; i < 4; i++) {
        make_backend(&be[i], &peer[i]);
        backends_start(b, &be[i]);
    }
    assert_true(shut_down(peer[0]));
    for (int i = 1; i < 4; i++)
        assert_false(shut_down(peer[i]));
    backends_count(b, &sessions, &starting);
    assert_int_equal(starting, 3);
    for (int i = 0; i < 4; i++) {
        backends_leave(b, &be[i]);
        close(be[i].fd);
        close(peer[i]);
    }
    backends_count(b, &sessions, &starting);
    assert_int_equal(starting, 0);
    backends_destroy(b);
}

/* Past max_connections - reserved only the superuser is admitted, past
 * max_connections nobody, with PostgreSQL's messages; a slot left is
 * free again. */
static void
test_reserved_slots(void **state)
{
    struct backends *b = make(3, 1, 10);
    struct backend be[5];
    int peer[5];
    struct tl_error err;
    const char *users[5] = {"app", "app", "app", "talus", "talus"};
    (void)state;
    for (int i = 0; i < 5; i++) {
        make_backend(&be[i], &peer[i]);
        backends_start(b, &be[i]);
    }
    assert_int_equal(backends_admit(b, &be[0], users[0], &err), 0);
    assert_int_equal(backends_admit(b, &be[1], users[1], &err), 0);
    tl_error_clear(&err);
    assert_int_equal(backends_admit(b, &be[2], users[2], &err),
                     TL_EUNAVAILABLE);
    assert_string_equal(err.sqlstate, "53300");
    assert_string_equal(err.message, "remaining connection slots are reserved "
                                     "for non-replication superuser "
                                     "connections");
    assert_int_equal(backends_admit(b, &be[3], users[3], &err), 0);
    assert_true(be[3].superuser);
    tl_error_clear(&err);
    assert_int_equal(backends_admit(b, &be[4], users[4], &err),
                     TL_EUNAVAILABLE);
    assert_string_equal(err.message, "sorry, too many clients already");
    backends_leave(b, &be[0]);
    assert_int_equal(backends_admit(b, &be[4], users[4], &err), 0);
    for (int i = 0; i < 5; i++) {
        backends_leave(b, &be[i]);
        close(be[i].fd);
        close(peer[i]);
    }
    backends_destroy(b);
}

/* A cancel with a session's pid and secret sets its flag; a wrong
 * secret, an unknown pid or a connection still in startup do nothing. */
static void
test_cancel_keys(void **state)
{
    struct backends *b = make(10, 0, 10);
    struct backend s, t;
    int ps, pt;
    struct tl_error err;
    (void)state;
    make_backend(&s, &ps);
    make_backend(&t, &pt);
    s.pid = 7;
    s.secret = 0x1234;
    t.pid = 8;
    t.secret = 0x5678;
    backends_start(b, &s);
    backends_start(b, &t);
    assert_false(backends_cancel(b, 7, 0x1234)); /* still starting */
    assert_int_equal(backends_admit(b, &s, "app", &err), 0);
    assert_false(backends_cancel(b, 7, 0x1235));
    assert_false(backends_cancel(b, 9, 0x1234));
    assert_false(atomic_load(&s.cancel));
    assert_true(backends_cancel(b, 7, 0x1234));
    assert_true(atomic_load(&s.cancel));
    assert_false(atomic_load(&t.cancel));
    backends_leave(b, &s);
    backends_leave(b, &t);
    assert_false(backends_cancel(b, 7, 0x1234)); /* gone */
    close(s.fd);
    close(t.fd);
    close(ps);
    close(pt);
    backends_destroy(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_startup_eviction),
        cmocka_unit_test(test_reserved_slots),
        cmocka_unit_test(test_cancel_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
