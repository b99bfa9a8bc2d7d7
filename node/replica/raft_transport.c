#include "node/replica/raft_transport.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "tl_error.h"

#define PREAMBLE_LEN 32

/* Per-group transport state. */
struct rt_impl {
    struct raft_uv_transport *t;
    struct rt_listener *l;
    uint32_t group;
    raft_id id;
    char address[RT_ADDR_MAX];
    raft_uv_accept_cb accept_cb;
    bool listening;
    struct rt_impl *next; /* in l->groups */
    struct rt_connect *connects;
    unsigned n_connects; /* connect requests whose callback is pending */
    bool closing;
    bool closer_fired;
    uv_timer_t *closer;
    raft_uv_transport_close_cb close_cb;
};

/* An outgoing connection being set up. */
struct rt_connect {
    struct rt_impl *impl;
    struct raft_uv_connect *req;
    uv_tcp_t *tcp;
    uv_connect_t connect;
    uv_write_t write;
    uv_buf_t hs;
    int status;
    struct rt_connect *prev, *next;
};

/* An accepted connection still reading its handshake. */
struct rt_incoming {
    struct rt_listener *l;
    uv_tcp_t *tcp;
    uint8_t preamble[PREAMBLE_LEN];
    char *addr;
    size_t addr_len;
    size_t nread; /* of the current part (preamble, then address) */
    struct rt_incoming *prev, *next;
};

/* ------------------------------------------------------------ helpers */

int
rt_parse_addr(const char *addr, struct sockaddr_storage *sa)
{
    char host[RT_ADDR_MAX];
    const char *colon = strrchr(addr, ':');
    size_t hlen;
    char *end;
    long port;

    if (colon == NULL || colon == addr)
        return TL_EINVAL;
    port = strtol(colon + 1, &end, 10);
    /* Port 0 (any) is for listeners in tests. */
    if (*end != '\0' || end == colon + 1 || port < 0 || port > 65535)
        return TL_EINVAL;
    hlen = (size_t)(colon - addr);
    if (addr[0] == '[' && hlen >= 2 && addr[hlen - 1] == ']') {
        addr++;
        hlen -= 2;
    }
    if (hlen >= sizeof host)
        return TL_EINVAL;
    memcpy(host, addr, hlen);
    host[hlen] = '\0';
    if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)sa) == 0)
        return 0;
    if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)sa) == 0)
        return 0;
    return TL_EINVAL;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xFF);
        v >>= 8;
    }
}

static struct rt_impl *
find_group(struct rt_listener *l, uint32_t group)
{
    for (struct rt_impl *g = l->groups; g != NULL; g = g->next)
        if (g->group == group)
            return g;
    return NULL;
}

static void
unregister_group(struct rt_impl *impl)
{
    struct rt_impl **pp = &impl->l->groups;
    while (*pp != NULL && *pp != impl)
        pp = &(*pp)->next;
    if (*pp == impl)
        *pp = impl->next;
    impl->next = NULL;
    impl->listening = false;
}

/* ------------------------------------------------------------ incoming */

static void
maybe_fire_listener_close(struct rt_listener *l)
{
    if (l->closing && l->tcp_closed && l->incoming == NULL &&
        l->close_cb != NULL) {
        rt_listener_close_cb cb = l->close_cb;
        l->close_cb = NULL;
        cb(l);
    }
}

static void
incoming_unlink(struct rt_incoming *in)
{
    if (in->prev != NULL)
        in->prev->next = in->next;
    else if (in->l->incoming == in)
        in->l->incoming = in->next;
    if (in->next != NULL)
        in->next->prev = in->prev;
    in->prev = in->next = NULL;
}

static void
incoming_close_cb(uv_handle_t *h)
{
    struct rt_incoming *in = h->data;
    struct rt_listener *l = in->l;
    raft_free(in->tcp);
    free(in->addr);
    free(in);
    maybe_fire_listener_close(l);
}

static void
incoming_abort(struct rt_incoming *in)
{
    incoming_unlink(in);
    uv_close((uv_handle_t *)in->tcp, incoming_close_cb);
}

static void
incoming_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct rt_incoming *in = h->data;
    (void)suggested;
    /* Never read past the handshake: the rest of the stream is raft's. */
    if (in->addr == NULL) {
        buf->base = (char *)in->preamble + in->nread;
        buf->len = PREAMBLE_LEN - in->nread;
    } else {
        buf->base = in->addr + in->nread;
        buf->len = in->addr_len - in->nread;
    }
}

/* The handshake is complete: hand the stream to its group. */
static void
incoming_deliver(struct rt_incoming *in)
{
    uint32_t group = (uint32_t)tl_load_be64(in->preamble + 8);
    raft_id id = tl_load_be64(in->preamble + 16);
    struct rt_impl *g = find_group(in->l, group);

    if (g == NULL || g->closing || g->accept_cb == NULL) {
        tl_warn("transport", "event=unknown_group group=%u from=%llu", group,
                (unsigned long long)id);
        incoming_abort(in);
        return;
    }
    uv_read_stop((uv_stream_t *)in->tcp);
    incoming_unlink(in);
    in->addr[in->addr_len] = '\0';
    tl_debug("transport", "event=accepted group=%u from=%llu addr=%s", group,
             (unsigned long long)id, in->addr);
    in->tcp->data = NULL;
    g->accept_cb(g->t, id, in->addr, (uv_stream_t *)in->tcp);
    free(in->addr);
    free(in);
}

/* The preamble is in: check it and start reading the address. */
static int
incoming_parse_preamble(struct rt_incoming *in)
{
    uint64_t len;
    if (memcmp(in->preamble, RT_MAGIC, 8) != 0)
        return TL_EPROTO;
    len = tl_load_be64(in->preamble + 24);
    if (len == 0 || len >= RT_ADDR_MAX)
        return TL_EPROTO;
    in->addr_len = (size_t)len;
    in->addr = malloc(in->addr_len + 1);
    if (in->addr == NULL)
        return TL_ENOMEM;
    in->nread = 0;
    return 0;
}

static void
incoming_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct rt_incoming *in = s->data;
    (void)buf;
    if (nread == 0)
        return;
    if (nread < 0) {
        incoming_abort(in);
        return;
    }
    in->nread += (size_t)nread;
    if (in->addr == NULL) {
        if (in->nread < PREAMBLE_LEN)
            return;
        if (incoming_parse_preamble(in) != 0) {
            tl_warn("transport", "event=bad_handshake");
            incoming_abort(in);
        }
        return;
    }
    if (in->nread == in->addr_len)
        incoming_deliver(in);
}

static void
listen_cb(uv_stream_t *server, int status)
{
    struct rt_listener *l = server->data;
    struct rt_incoming *in;

    if (status != 0 || l->closing)
        return;
    in = calloc(1, sizeof *in);
    if (in == NULL || (in->tcp = raft_malloc(sizeof *in->tcp)) == NULL)
        abort();
    in->l = l;
    uv_tcp_init(l->loop, in->tcp);
    in->tcp->data = in;
    in->next = l->incoming;
    if (l->incoming != NULL)
        l->incoming->prev = in;
    l->incoming = in;
    if (uv_accept(server, (uv_stream_t *)in->tcp) != 0 ||
        uv_read_start((uv_stream_t *)in->tcp, incoming_alloc_cb,
                      incoming_read_cb) != 0)
        incoming_abort(in);
}

int
rt_listener_init(struct rt_listener *l, uv_loop_t *loop, const char *addr)
{
    struct sockaddr_storage sa;
    int rv;

    memset(l, 0, sizeof *l);
    if (rt_parse_addr(addr, &sa) != 0)
        return TL_EINVAL;
    l->loop = loop;
    uv_tcp_init(loop, &l->tcp);
    l->tcp.data = l;
    rv = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&sa, 0);
    if (rv == 0)
        rv = uv_listen((uv_stream_t *)&l->tcp, 128, listen_cb);
    if (rv != 0) {
        tl_error("transport", "event=listen_failed addr=%s err=\"%s\"", addr,
                 uv_strerror(rv));
        /* Closing needs a loop turn; the caller runs the loop to finish. */
        uv_close((uv_handle_t *)&l->tcp, NULL);
        return TL_EIO;
    }
    return 0;
}

static void
listener_tcp_close_cb(uv_handle_t *h)
{
    struct rt_listener *l = h->data;
    l->tcp_closed = true;
    maybe_fire_listener_close(l);
}

void
rt_listener_close(struct rt_listener *l, rt_listener_close_cb cb)
{
    l->closing = true;
    l->close_cb = cb;
    while (l->incoming != NULL)
        incoming_abort(l->incoming);
    uv_close((uv_handle_t *)&l->tcp, listener_tcp_close_cb);
}

/* ------------------------------------------------------------ connect */

static void
maybe_fire_transport_close(struct rt_impl *impl)
{
    if (impl->closing && impl->closer_fired && impl->n_connects == 0 &&
        impl->close_cb != NULL) {
        raft_uv_transport_close_cb cb = impl->close_cb;
        impl->close_cb = NULL;
        cb(impl->t);
    }
}

static void
connect_unlink(struct rt_connect *c)
{
    struct rt_impl *impl = c->impl;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else if (impl->connects == c)
        impl->connects = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* The handle of a failed or canceled connect is closed: report it. */
static void
connect_close_cb(uv_handle_t *h)
{
    struct rt_connect *c = h->data;
    struct rt_impl *impl = c->impl;
    c->req->cb(c->req, NULL, c->status);
    raft_free(c->tcp);
    free(c->hs.base);
    free(c);
    impl->n_connects--;
    maybe_fire_transport_close(impl);
}

static void
connect_fail(struct rt_connect *c, int status)
{
    connect_unlink(c);
    c->status = status;
    uv_close((uv_handle_t *)c->tcp, connect_close_cb);
}

static void
connect_write_cb(uv_write_t *w, int status)
{
    struct rt_connect *c = w->data;
    struct rt_impl *impl = c->impl;

    if (c->status == RAFT_CANCELED)
        return; /* the close callback reports it */
    if (status != 0) {
        connect_fail(c, RAFT_NOCONNECTION);
        return;
    }
    connect_unlink(c);
    c->tcp->data = NULL;
    c->req->cb(c->req, (uv_stream_t *)c->tcp, 0);
    free(c->hs.base);
    free(c);
    impl->n_connects--;
    maybe_fire_transport_close(impl);
}

static void
encode_handshake(struct rt_impl *impl, uv_buf_t *buf)
{
    size_t alen = strlen(impl->address);
    uint8_t *p = malloc(PREAMBLE_LEN + alen);
    if (p == NULL)
        abort();
    memcpy(p, RT_MAGIC, 8);
    put_be64(p + 8, impl->group);
    put_be64(p + 16, impl->id);
    put_be64(p + 24, alen);
    memcpy(p + PREAMBLE_LEN, impl->address, alen);
    buf->base = (char *)p;
    buf->len = PREAMBLE_LEN + alen;
}

static void
connect_cb(uv_connect_t *req, int status)
{
    struct rt_connect *c = req->data;

    if (c->status == RAFT_CANCELED)
        return;
    if (status != 0) {
        connect_fail(c, RAFT_NOCONNECTION);
        return;
    }
    encode_handshake(c->impl, &c->hs);
    c->write.data = c;
    if (uv_write(&c->write, (uv_stream_t *)c->tcp, &c->hs, 1,
                 connect_write_cb) != 0)
        connect_fail(c, RAFT_NOCONNECTION);
}

static int
t_connect(struct raft_uv_transport *t, struct raft_uv_connect *req, raft_id id,
          const char *address, raft_uv_connect_cb cb)
{
    struct rt_impl *impl = t->impl;
    struct sockaddr_storage sa;
    struct rt_connect *c;
    int rv;

    (void)id;
    if (impl->closing)
        return RAFT_CANCELED;
    if (rt_parse_addr(address, &sa) != 0)
        return RAFT_NOCONNECTION;
    c = calloc(1, sizeof *c);
    if (c == NULL || (c->tcp = raft_malloc(sizeof *c->tcp)) == NULL)
        abort();
    c->impl = impl;
    c->req = req;
    req->cb = cb;
    uv_tcp_init(impl->l->loop, c->tcp);
    c->tcp->data = c;
    c->connect.data = c;
    rv = uv_tcp_connect(&c->connect, c->tcp, (const struct sockaddr *)&sa,
                        connect_cb);
    if (rv != 0) {
        /* The callback must not run when we return an error. */
        uv_close((uv_handle_t *)c->tcp, (uv_close_cb)raft_free);
        free(c);
        return RAFT_NOCONNECTION;
    }
    c->next = impl->connects;
    if (impl->connects != NULL)
        impl->connects->prev = c;
    impl->connects = c;
    impl->n_connects++;
    return 0;
}

/* ------------------------------------------------------------ transport */

static int
t_init(struct raft_uv_transport *t, raft_id id, const char *address)
{
    struct rt_impl *impl = t->impl;
    if (strlen(address) >= sizeof impl->address)
        return RAFT_NAMETOOLONG;
    impl->id = id;
    strcpy(impl->address, address);
    return 0;
}

static int
t_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
    struct rt_impl *impl = t->impl;
    if (find_group(impl->l, impl->group) != NULL) {
        snprintf(t->errmsg, sizeof t->errmsg, "group %u already listening",
                 impl->group);
        return RAFT_DUPLICATEID;
    }
    impl->accept_cb = cb;
    impl->listening = true;
    impl->next = impl->l->groups;
    impl->l->groups = impl;
    return 0;
}

static void
closer_close_cb(uv_handle_t *h)
{
    struct rt_impl *impl = h->data;
    free(h);
    impl->closer = NULL;
    impl->closer_fired = true;
    maybe_fire_transport_close(impl);
}

static void
t_close(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
    struct rt_impl *impl = t->impl;

    impl->closing = true;
    impl->close_cb = cb;
    if (impl->listening)
        unregister_group(impl);
    while (impl->connects != NULL) {
        struct rt_connect *c = impl->connects;
        connect_unlink(c);
        c->status = RAFT_CANCELED;
        uv_close((uv_handle_t *)c->tcp, connect_close_cb);
    }
    /* raft expects the close callback later, never from inside close():
     * closing a throwaway handle defers it by one loop turn. */
    impl->closer = malloc(sizeof *impl->closer);
    if (impl->closer == NULL)
        abort();
    uv_timer_init(impl->l->loop, impl->closer);
    impl->closer->data = impl;
    uv_close((uv_handle_t *)impl->closer, closer_close_cb);
}

int
rt_transport_init(struct raft_uv_transport *t, struct rt_listener *l,
                  uint32_t group)
{
    struct rt_impl *impl = calloc(1, sizeof *impl);
    if (impl == NULL)
        return TL_ENOMEM;
    impl->t = t;
    impl->l = l;
    impl->group = group;
    memset(t, 0, sizeof *t);
    t->version = 1; /* raft_uv_init() refuses version 0 (RAFT_INVALID) */
    t->impl = impl;
    t->init = t_init;
    t->listen = t_listen;
    t->connect = t_connect;
    t->close = t_close;
    return 0;
}

void
rt_transport_close(struct raft_uv_transport *t)
{
    struct rt_impl *impl = t->impl;
    if (impl == NULL)
        return;
    if (impl->listening)
        unregister_group(impl);
    free(impl);
    t->impl = NULL;
}
