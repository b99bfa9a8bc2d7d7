/* Unit tests of node/replica/raft_transport.c: many raft groups behind one TCP
 * listener, demultiplexed by the handshake's group id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/replica/raft_transport.h"
#include "tl_error.h"

/* What one server-side group saw. */
struct accepted {
    int n;
    raft_id id;
    char address[64];
};

struct env {
    uv_loop_t loop;
    struct rt_listener l;
    char addr[64];
    struct raft_uv_transport srv[2]; /* groups 1 and 2 */
    struct accepted acc[2];
    int n_connected;
    int n_closed;
    int last_status;
    int eof;
};

static struct env *the_env;

static void
accept_cb(struct raft_uv_transport *t, raft_id id, const char *address,
          uv_stream_t *stream)
{
    struct accepted *a = t->data;
    a->n++;
    a->id = id;
    snprintf(a->address, sizeof a->address, "%s", address);
    uv_close((uv_handle_t *)stream, (uv_close_cb)raft_free);
}

static void
connect_cb(struct raft_uv_connect *req, uv_stream_t *stream, int status)
{
    struct env *e = req->data;
    e->last_status = status;
    if (status == 0) {
        e->n_connected++;
        uv_close((uv_handle_t *)stream, (uv_close_cb)raft_free);
    }
}

static void
transport_closed_cb(struct raft_uv_transport *t)
{
    (void)t;
    the_env->n_closed++;
}

/* Run the loop until *@flag reaches @want (or ~5 s pass). */
static void
run_until(struct env *e, const int *flag, int want)
{
    for (int i = 0; i < 5000 && *flag < want; i++) {
        uv_run(&e->loop, UV_RUN_NOWAIT);
        if (*flag < want)
            uv_sleep(1);
    }
    assert_true(*flag >= want);
}

static int
setup(void **state)
{
    struct env *e = calloc(1, sizeof *e);
    struct sockaddr_in sa;
    int len = sizeof sa;

    the_env = e;
    assert_int_equal(uv_loop_init(&e->loop), 0);
    /* Port 0: the kernel picks a free one, read back below. */
    assert_int_equal(rt_listener_init(&e->l, &e->loop, "127.0.0.1:0"), 0);
    assert_int_equal(
        uv_tcp_getsockname(&e->l.tcp, (struct sockaddr *)&sa, &len), 0);
    snprintf(e->addr, sizeof e->addr, "127.0.0.1:%d", ntohs(sa.sin_port));
    for (int i = 0; i < 2; i++) {
        struct raft_uv_transport *t = &e->srv[i];
        assert_int_equal(rt_transport_init(t, &e->l, (uint32_t)i + 1), 0);
        t->data = &e->acc[i];
        assert_int_equal(t->init(t, 1, e->addr), 0);
        assert_int_equal(t->listen(t, accept_cb), 0);
    }
    *state = e;
    return 0;
}

static int
teardown(void **state)
{
    struct env *e = *state;
    int closed = 0, want = e->n_closed + 2;
    for (int i = 0; i < 2; i++)
        e->srv[i].close(&e->srv[i], transport_closed_cb);
    run_until(e, &e->n_closed, want);
    for (int i = 0; i < 2; i++)
        rt_transport_close(&e->srv[i]);
    rt_listener_close(&e->l, NULL);
    while (uv_run(&e->loop, UV_RUN_NOWAIT) != 0 && closed++ < 1000)
        ;
    assert_int_equal(uv_loop_close(&e->loop), 0);
    free(e);
    return 0;
}

/* A client transport of @group with server id @id. */
static void
client_init(struct env *e, struct raft_uv_transport *c, uint32_t group,
            raft_id id, const char *addr)
{
    assert_int_equal(rt_transport_init(c, &e->l, group), 0);
    assert_int_equal(c->init(c, id, addr), 0);
}

static void
client_close(struct env *e, struct raft_uv_transport *c)
{
    int want = e->n_closed + 1;
    c->close(c, transport_closed_cb);
    run_until(e, &e->n_closed, want);
    rt_transport_close(c);
}

/* Two groups on one listener: each connection reaches its own group's
 * accept callback with the connecting server's id and address. */
static void
test_demux(void **state)
{
    struct env *e = *state;
    struct raft_uv_transport c2, c1;
    struct raft_uv_connect r2 = {.data = e}, r1 = {.data = e};

    client_init(e, &c2, 2, 7, "10.0.0.7:7207");
    client_init(e, &c1, 1, 8, "10.0.0.8:7208");
    assert_int_equal(c2.connect(&c2, &r2, 1, e->addr, connect_cb), 0);
    run_until(e, &e->acc[1].n, 1);
    assert_int_equal(e->acc[0].n, 0);
    assert_int_equal(e->acc[1].id, 7);
    assert_string_equal(e->acc[1].address, "10.0.0.7:7207");

    assert_int_equal(c1.connect(&c1, &r1, 1, e->addr, connect_cb), 0);
    run_until(e, &e->acc[0].n, 1);
    assert_int_equal(e->acc[0].id, 8);
    assert_string_equal(e->acc[0].address, "10.0.0.8:7208");
    assert_int_equal(e->acc[1].n, 1);
    run_until(e, &e->n_connected, 2);
    client_close(e, &c2);
    client_close(e, &c1);
}

static void
eof_alloc_cb(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    static char b[64];
    (void)h;
    (void)size;
    buf->base = b;
    buf->len = sizeof b;
}

static void
eof_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    if (nread < 0) {
        the_env->eof++;
        uv_close((uv_handle_t *)s, (uv_close_cb)raft_free);
    }
}

static void
eof_connect_cb(struct raft_uv_connect *req, uv_stream_t *stream, int status)
{
    struct env *e = req->data;
    e->last_status = status;
    assert_int_equal(status, 0);
    uv_read_start(stream, eof_alloc_cb, eof_read_cb);
}

/* A connection naming a group nobody registered is closed by the node. */
static void
test_unknown_group(void **state)
{
    struct env *e = *state;
    struct raft_uv_transport c;
    struct raft_uv_connect r = {.data = e};

    client_init(e, &c, 99, 5, "10.0.0.5:1");
    assert_int_equal(c.connect(&c, &r, 1, e->addr, eof_connect_cb), 0);
    run_until(e, &e->eof, 1);
    assert_int_equal(e->acc[0].n + e->acc[1].n, 0);
    client_close(e, &c);
}

/* A group cannot listen twice on the same listener. */
static void
test_duplicate_group(void **state)
{
    struct env *e = *state;
    struct raft_uv_transport t;

    assert_int_equal(rt_transport_init(&t, &e->l, 2), 0);
    assert_int_equal(t.init(&t, 1, e->addr), 0);
    assert_int_equal(t.listen(&t, accept_cb), RAFT_DUPLICATEID);
    rt_transport_close(&t);
}

/* Closing a transport cancels its pending connects: their callbacks fire
 * with RAFT_CANCELED before the close callback. */
static void
test_close_cancels_connect(void **state)
{
    struct env *e = *state;
    struct raft_uv_transport c;
    struct raft_uv_connect r = {.data = e};

    client_init(e, &c, 1, 9, "10.0.0.9:1");
    assert_int_equal(c.connect(&c, &r, 1, e->addr, connect_cb), 0);
    e->last_status = -1;
    client_close(e, &c);
    assert_int_equal(e->last_status, RAFT_CANCELED);
    assert_int_equal(e->n_connected, 0);
}

/* A peer that is down: connect fails with RAFT_NOCONNECTION (raft will
 * retry); once the peer listens on that address (it restarted), the next
 * connect reaches it. */
static void
test_peer_down_then_up(void **state)
{
    struct env *e = *state;
    struct raft_uv_transport c, peer;
    struct raft_uv_connect r1 = {.data = e}, r2 = {.data = e};
    struct rt_listener l2;
    struct accepted acc = {0};
    struct sockaddr_in sa;
    int len = sizeof sa;
    char addr[64];
    uv_tcp_t probe;

    /* A port that was free a moment ago: bind, read it, close. */
    uv_tcp_init(&e->loop, &probe);
    uv_ip4_addr("127.0.0.1", 0, &sa);
    assert_int_equal(uv_tcp_bind(&probe, (struct sockaddr *)&sa, 0), 0);
    assert_int_equal(uv_tcp_getsockname(&probe, (struct sockaddr *)&sa, &len),
                     0);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", ntohs(sa.sin_port));
    uv_close((uv_handle_t *)&probe, NULL);
    uv_run(&e->loop, UV_RUN_NOWAIT);

    client_init(e, &c, 5, 9, "10.0.0.9:7209");
    e->last_status = 0;
    assert_int_equal(c.connect(&c, &r1, 2, addr, connect_cb), 0);
    for (int i = 0; i < 5000 && e->last_status == 0; i++) {
        uv_run(&e->loop, UV_RUN_NOWAIT);
        uv_sleep(1);
    }
    assert_int_equal(e->last_status, RAFT_NOCONNECTION);

    /* The peer comes back on the same address with group 5. */
    assert_int_equal(rt_listener_init(&l2, &e->loop, addr), 0);
    assert_int_equal(rt_transport_init(&peer, &l2, 5), 0);
    peer.data = &acc;
    assert_int_equal(peer.init(&peer, 2, addr), 0);
    assert_int_equal(peer.listen(&peer, accept_cb), 0);
    assert_int_equal(c.connect(&c, &r2, 2, addr, connect_cb), 0);
    run_until(e, &acc.n, 1);
    assert_int_equal(acc.id, 9);
    run_until(e, &e->n_connected, 1);

    client_close(e, &c);
    {
        int want = e->n_closed + 1;
        peer.close(&peer, transport_closed_cb);
        run_until(e, &e->n_closed, want);
        rt_transport_close(&peer);
        rt_listener_close(&l2, NULL);
        for (int i = 0; i < 100; i++)
            uv_run(&e->loop, UV_RUN_NOWAIT);
    }
}

#define BIG (8u << 20)

static size_t big_received;
static uv_stream_t *big_server_stream;

static void
big_alloc_cb(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    static char b[65536];
    (void)h;
    (void)size;
    buf->base = b;
    buf->len = sizeof b;
}

static void
big_read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    if (nread > 0) {
        big_received += (size_t)nread;
        the_env->eof = (int)(big_received >> 20);
    } else if (nread < 0) {
        uv_close((uv_handle_t *)st, (uv_close_cb)raft_free);
        big_server_stream = NULL;
    }
}

static void
big_accept_cb(struct raft_uv_transport *t, raft_id id, const char *address,
              uv_stream_t *stream)
{
    (void)t;
    (void)id;
    (void)address;
    big_server_stream = stream;
    uv_read_start(stream, big_alloc_cb, big_read_cb);
}

static uv_stream_t *big_client_stream;

static void
big_connect_cb(struct raft_uv_connect *req, uv_stream_t *stream, int status)
{
    struct env *e = req->data;
    e->last_status = status;
    if (status == 0) {
        e->n_connected++;
        big_client_stream = stream;
    }
}

static void
big_write_cb(uv_write_t *w, int status)
{
    assert_int_equal(status, 0);
    the_env->n_connected++;
    (void)w;
}

/* After the handshake the stream is raft's alone: an 8 MiB write (a
 * large append) arrives intact, with no handshake bytes left over. */
static void
test_large_append(void **state)
{
    struct env *e = *state;
    struct raft_uv_transport c, srv3;
    struct raft_uv_connect r = {.data = e};
    uv_write_t w;
    uv_buf_t b;
    char *data = malloc(BIG);

    memset(data, 0x5a, BIG);
    assert_int_equal(rt_transport_init(&srv3, &e->l, 3), 0);
    assert_int_equal(srv3.init(&srv3, 1, e->addr), 0);
    assert_int_equal(srv3.listen(&srv3, big_accept_cb), 0);
    client_init(e, &c, 3, 4, "10.0.0.4:7204");
    big_received = 0;
    assert_int_equal(c.connect(&c, &r, 1, e->addr, big_connect_cb), 0);
    run_until(e, &e->n_connected, 1);
    b = uv_buf_init(data, BIG);
    assert_int_equal(uv_write(&w, big_client_stream, &b, 1, big_write_cb), 0);
    run_until(e, &e->n_connected, 2);
    run_until(e, &e->eof, (int)(BIG >> 20));
    assert_int_equal(big_received, BIG);
    uv_close((uv_handle_t *)big_client_stream, (uv_close_cb)raft_free);
    for (int i = 0; i < 1000 && big_server_stream != NULL; i++) {
        uv_run(&e->loop, UV_RUN_NOWAIT);
        uv_sleep(1);
    }
    client_close(e, &c);
    {
        int want = e->n_closed + 1;
        srv3.close(&srv3, transport_closed_cb);
        run_until(e, &e->n_closed, want);
        rt_transport_close(&srv3);
    }
    free(data);
}

/* Addresses are numeric host:port; anything else is refused. */
static void
test_parse_addr(void **state)
{
    struct sockaddr_storage sa;
    (void)state;
    assert_int_equal(rt_parse_addr("127.0.0.1:7201", &sa), 0);
    assert_int_equal(rt_parse_addr("[::1]:7201", &sa), 0);
    assert_int_equal(rt_parse_addr("127.0.0.1", &sa), TL_EINVAL);
    assert_int_equal(rt_parse_addr("127.0.0.1:x", &sa), TL_EINVAL);
    assert_int_equal(rt_parse_addr("localhost:7201", &sa), TL_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_demux, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_cancels_connect, setup,
                                        teardown),
        cmocka_unit_test(test_parse_addr),
        cmocka_unit_test_setup_teardown(test_peer_down_then_up, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_large_append, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
