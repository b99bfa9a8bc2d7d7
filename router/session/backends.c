/* backends — connection slots and cancel keys (see backends.h). */
#include "router/session/backends.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/base/sqlstate.h"
#include "log.h"

#define MOD "backends"

/* @mu guards both lists and every linked backend's state, prev and next.
 * Starting backends are kept oldest first, so eviction takes the head. */
struct backends {
    struct backend_limits lim;
    pthread_mutex_t mu;
    struct backend *starting; /* oldest first */
    struct backend *starting_tail;
    int n_starting;
    struct backend *sessions;
    int n_sessions;
};

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
backends_create(const struct backend_limits *lim, struct backends **out)
{
    struct backends *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return TL_ENOMEM;
    b->lim = *lim;
    pthread_mutex_init(&b->mu, NULL);
    *out = b;
    return 0;
}

void
backends_destroy(struct backends *b)
{
    if (b == NULL)
        return;
    pthread_mutex_destroy(&b->mu);
    free(b);
}

const struct backend_limits *
backends_limits(const struct backends *b)
{
    return &b->lim;
}

/* Unlink @be from whichever list holds it. Under mu. */
static void
unlink_locked(struct backends *b, struct backend *be)
{
    if (be->state == BACKEND_STARTING) {
        if (be->prev != NULL)
            be->prev->next = be->next;
        else
            b->starting = be->next;
        if (be->next != NULL)
            be->next->prev = be->prev;
        else
            b->starting_tail = be->prev;
        b->n_starting--;
    } else if (be->state == BACKEND_SESSION) {
        if (be->prev != NULL)
            be->prev->next = be->next;
        else
            b->sessions = be->next;
        if (be->next != NULL)
            be->next->prev = be->prev;
        b->n_sessions--;
    }
    be->prev = be->next = NULL;
    be->state = BACKEND_NONE;
}

void
backends_start(struct backends *b, struct backend *be)
{
    pthread_mutex_lock(&b->mu);
    if (b->n_starting >= b->lim.max_startup && b->starting != NULL) {
        struct backend *old = b->starting;
        tl_warn(MOD,
                "event=startup_evicted age_ms=%lld starting=%d "
                "max_startup=%d",
                (long long)(now_ms() - old->since_ms), b->n_starting,
                b->lim.max_startup);
        /* Its thread is blocked reading: shutting the socket down wakes
         * it with EOF; it then leaves and closes the fd itself. */
        shutdown(old->fd, SHUT_RDWR);
        unlink_locked(b, old);
    }
    be->state = BACKEND_STARTING;
    be->since_ms = now_ms();
    be->next = NULL;
    be->prev = b->starting_tail;
    if (b->starting_tail != NULL)
        b->starting_tail->next = be;
    else
        b->starting = be;
    b->starting_tail = be;
    b->n_starting++;
    pthread_mutex_unlock(&b->mu);
}

int
backends_admit(struct backends *b, struct backend *be, const char *user,
               struct tl_error *err)
{
    return backends_admit_role(b, be, user, false, -1, err);
}

/* Under the mutex: the sessions of @user. */
static int
count_user_locked(struct backends *b, const char *user)
{
    int n = 0;
    for (struct backend *s = b->sessions; s != NULL; s = s->next)
        n += strcmp(s->user, user) == 0;
    return n;
}

int
backends_admit_role(struct backends *b, struct backend *be, const char *user,
                    bool role_superuser, int conn_limit, struct tl_error *err)
{
    int rv = 0;
    pthread_mutex_lock(&b->mu);
    unlink_locked(b, be);
    snprintf(be->user, sizeof(be->user), "%s", user);
    be->superuser = role_superuser || strcmp(user, b->lim.superuser) == 0;
    /* PostgreSQL's InitializeSessionUserId() checks the role's limit,
     * InitPostgres() then the reserved slots, then the hard limit. */
    if (!be->superuser && conn_limit >= 0 &&
        count_user_locked(b, user) >= conn_limit) {
        rv =
            tl_error_set(err, TL_EUNAVAILABLE, TL_SQLSTATE_TOO_MANY_CONNECTIONS,
                         "too many connections for role \"%s\"", user);
    } else if (!be->superuser &&
               b->n_sessions >= b->lim.max_connections - b->lim.reserved) {
        rv =
            tl_error_set(err, TL_EUNAVAILABLE, TL_SQLSTATE_TOO_MANY_CONNECTIONS,
                         "remaining connection slots are reserved for "
                         "non-replication superuser connections");
    } else if (b->n_sessions >= b->lim.max_connections) {
        rv =
            tl_error_set(err, TL_EUNAVAILABLE, TL_SQLSTATE_TOO_MANY_CONNECTIONS,
                         "sorry, too many clients already");
    } else {
        be->state = BACKEND_SESSION;
        be->since_ms = now_ms();
        be->prev = NULL;
        be->next = b->sessions;
        if (b->sessions != NULL)
            b->sessions->prev = be;
        b->sessions = be;
        b->n_sessions++;
    }
    int n = b->n_sessions;
    pthread_mutex_unlock(&b->mu);
    if (rv != 0)
        tl_warn(MOD,
                "event=connection_rejected user=%s sessions=%d "
                "max_connections=%d reserved=%d error=\"%s\"",
                user, n, b->lim.max_connections, b->lim.reserved, err->message);
    return rv;
}

void
backends_leave(struct backends *b, struct backend *be)
{
    pthread_mutex_lock(&b->mu);
    unlink_locked(b, be);
    pthread_mutex_unlock(&b->mu);
}

bool
backends_cancel(struct backends *b, uint32_t pid, uint32_t secret)
{
    bool found = false;
    pthread_mutex_lock(&b->mu);
    for (struct backend *be = b->sessions; be != NULL; be = be->next) {
        if (be->pid == pid && be->secret == secret) {
            atomic_store(&be->cancel, true);
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&b->mu);
    return found;
}

void
backends_count(struct backends *b, int *sessions, int *starting)
{
    pthread_mutex_lock(&b->mu);
    *sessions = b->n_sessions;
    *starting = b->n_starting;
    pthread_mutex_unlock(&b->mu);
}
