/* roles — roles in the meta group and the router's cache of them. */
#include "router/core/roles.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "common/meta/meta_keys.h"
#include "log.h"
#include "router/core/catalog_int.h"
#include "router/core/router_int.h"

#define MOD "roles"
#define ROLES_RETRIES 32

struct roles {
    struct router *r;
    /* Held while the cache is reloaded (meta-group I/O): connections that
     * find it old at once wait for one scan instead of each making one. */
    pthread_mutex_t reload;
    pthread_mutex_t lock; /* guards the fields below */
    struct tl_role *v;
    size_t n;
    bool loaded;
    int64_t loaded_at_ms;
    /* When the last reload failed (0: it did not): none is tried again
     * for ROLES_MAX_AGE_MS, so while the meta group cannot be reached one
     * connection a second waits for it, not every one. */
    int64_t failed_at_ms;
    bool have_secret; /* the mock secret below is the cluster's */
    uint8_t secret[32];
};

int
roles_create(struct router *r, struct roles **out)
{
    struct roles *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return TL_ENOMEM;
    s->r = r;
    pthread_mutex_init(&s->reload, NULL);
    pthread_mutex_init(&s->lock, NULL);
    *out = s;
    return 0;
}

void
roles_destroy(struct roles *s)
{
    if (s == NULL)
        return;
    free(s->v);
    pthread_mutex_destroy(&s->reload);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int
roles_list(struct router *r, struct tl_arena *a, struct tl_role **out,
           size_t *n, struct tl_error *err)
{
    struct catalog_row *rows;
    size_t n_rows;
    int rv = catalog_scan_index(r->catalog, TL_META_INDEX_ROLE, a, &rows,
                                &n_rows, err);
    if (rv != 0)
        return rv;
    *out = tl_arena_calloc(a, (n_rows + 1) * sizeof(**out));
    *n = 0;
    for (size_t i = 0; i < n_rows; i++) {
        struct tl_role *role = &(*out)[*n];
        if (tl_meta_role_decode(rows[i].p, rows[i].len, role) != 0) {
            tl_warn(MOD, "event=bad_role_record");
            continue;
        }
        (*n)++;
    }
    return 0;
}

/* Drop the cache: the next roles_get() reloads it. */
static void
invalidate(struct roles *s)
{
    pthread_mutex_lock(&s->lock);
    s->loaded = false;
    pthread_mutex_unlock(&s->lock);
}

/* Under s->lock: role @name of the cache into *@out; false if absent. */
static bool
find_locked(struct roles *s, const char *name, struct tl_role *out)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0) {
            *out = s->v[i];
            return true;
        }
    return false;
}

/* Whether no reload is due: the cache is loaded and young enough, or a
 * reload failed too recently to try another. */
static bool
fresh(struct roles *s)
{
    int64_t now = router_now_ms();
    pthread_mutex_lock(&s->lock);
    bool ok =
        (s->loaded && now - s->loaded_at_ms < ROLES_MAX_AGE_MS) ||
        (s->failed_at_ms != 0 && now - s->failed_at_ms < ROLES_MAX_AGE_MS);
    pthread_mutex_unlock(&s->lock);
    return ok;
}

/* Reload the cache from the meta group. */
static int
reload(struct roles *s, struct tl_error *err)
{
    struct tl_arena a;
    struct tl_role *v;
    size_t n;
    tl_arena_init(&a);
    int rv = roles_list(s->r, &a, &v, &n, err);
    if (rv == 0) {
        struct tl_role *copy = malloc((n + 1) * sizeof(*copy));
        if (copy == NULL) {
            rv = tl_error_set(err, TL_ENOMEM, TL_SQLSTATE_OUT_OF_MEMORY,
                              "out of memory");
        } else {
            memcpy(copy, v, n * sizeof(*copy));
            pthread_mutex_lock(&s->lock);
            free(s->v);
            s->v = copy;
            s->n = n;
            s->loaded = true;
            s->loaded_at_ms = router_now_ms();
            s->failed_at_ms = 0;
            pthread_mutex_unlock(&s->lock);
        }
    }
    tl_arena_close(&a);
    return rv;
}

int
roles_get(struct router *r, const char *name, struct tl_role *out,
          struct tl_error *err)
{
    struct roles *s = r->roles;
    if (!fresh(s)) {
        pthread_mutex_lock(&s->reload);
        if (!fresh(s)) {
            struct tl_error scratch;
            tl_error_clear(&scratch);
            if (reload(s, &scratch) != 0) {
                pthread_mutex_lock(&s->lock);
                s->failed_at_ms = router_now_ms();
                bool have = s->v != NULL;
                pthread_mutex_unlock(&s->lock);
                tl_warn(MOD, "event=reload_failed using_old=%s error=\"%s\"",
                        have ? "true" : "false", scratch.message);
            }
        }
        pthread_mutex_unlock(&s->reload);
    }
    pthread_mutex_lock(&s->lock);
    bool have = s->v != NULL;
    bool found = have && find_locked(s, name, out);
    pthread_mutex_unlock(&s->lock);
    if (!have)
        return tl_error_set(err, TL_EUNAVAILABLE,
                            TL_SQLSTATE_CONNECTION_FAILURE,
                            "could not read the roles of the catalog");
    return found ? 0 : TL_ENOTFOUND;
}

/* Read the secret row into @secret: 0, TL_ENOTFOUND (absent), or an
 * error reported in @err. */
static int
read_secret(struct router *r, uint8_t secret[32], struct tl_error *err)
{
    struct tl_arena a;
    struct tl_buf key;
    struct catalog_row *rows;
    size_t n;
    tl_arena_init(&a);
    tl_buf_init(&key);
    tl_meta_key_auth_secret(&key);
    int rv = catalog_scan_key(r->catalog, &key, &a, &rows, &n, err);
    if (rv == 0 && n == 0)
        rv = TL_ENOTFOUND;
    if (rv == 0 &&
        tl_meta_auth_secret_decode(rows[0].p, rows[0].len, secret) != 0)
        rv = tl_error_set(err, TL_ECORRUPT, TL_SQLSTATE_DATA_CORRUPTED,
                          "the mock authentication secret is corrupt");
    tl_buf_close(&key);
    tl_arena_close(&a);
    return rv;
}

int
roles_mock_secret(struct router *r, uint8_t secret[32], struct tl_error *err)
{
    struct roles *s = r->roles;
    pthread_mutex_lock(&s->lock);
    bool have = s->have_secret;
    if (have)
        memcpy(secret, s->secret, 32);
    pthread_mutex_unlock(&s->lock);
    if (have)
        return 0;
    int rv = read_secret(r, secret, err);
    if (rv == TL_ENOTFOUND) {
        /* The first router to need it makes it; a race leaves one. */
        struct tl_arena a;
        struct tl_buf key, val;
        uint8_t mine[32];
        tl_arena_init(&a);
        tl_buf_init(&key);
        tl_buf_init(&val);
        if (RAND_bytes(mine, sizeof(mine)) != 1) {
            rv = tl_error_set(err, TL_EIO, TL_SQLSTATE_INTERNAL_ERROR,
                              "could not generate a random secret");
        } else {
            tl_meta_key_auth_secret(&key);
            tl_meta_auth_secret_encode(&val, mine);
            Talus__Mutation *m =
                catalog_make_mut(&a, TALUS__MUTATION__KIND__PUT, &key, &val,
                                 TALUS__MUTATION__COND__ABSENT, NULL);
            int failed;
            rv = catalog_write_batch(r->catalog, TL_META_GROUP, &m, 1, &failed,
                                     err);
            if (rv == 0 || rv == TL_ECONFLICT)
                rv = read_secret(r, secret, err);
        }
        tl_buf_close(&key);
        tl_buf_close(&val);
        tl_arena_close(&a);
    }
    if (rv == 0) {
        pthread_mutex_lock(&s->lock);
        memcpy(s->secret, secret, 32);
        s->have_secret = true;
        pthread_mutex_unlock(&s->lock);
    }
    return rv;
}

/* Fill the key and record of role with id @id. */
static void
encode_new(void *arg, int64_t id, struct tl_buf *key, struct tl_buf *val)
{
    struct tl_role *role = arg;
    role->oid = (uint32_t)id;
    tl_meta_key_role(key, role->name);
    tl_meta_role_encode(val, role);
}

/* One attempt at storing @role: the id counter moves, the name is taken. */
static int
create_once(struct router *r, struct tl_role *role, struct tl_arena *a,
            int *failed, struct tl_error *err)
{
    return catalog_create_with_id(r->catalog, a, encode_new, role, failed, err);
}

static int
too_much_ddl(struct tl_error *err, const char *what, const char *name)
{
    return tl_error_set(
        err, TL_ECONFLICT, TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
        "could not %s role \"%s\": too much concurrent DDL", what, name);
}

int
roles_create_role(struct router *r, struct tl_role *role, struct tl_error *err)
{
    struct tl_arena a;
    tl_arena_init(&a);
    int rv = TL_ECONFLICT;
    for (int attempt = 0; attempt < ROLES_RETRIES; attempt++) {
        int failed = -1;
        tl_arena_reset(&a);
        rv = create_once(r, role, &a, &failed, err);
        if (rv == TL_ECONFLICT && failed == 1) {
            rv = TL_EEXISTS;
            break;
        }
        if (rv != TL_ECONFLICT)
            break; /* done, or a real error; a counter race retries */
    }
    tl_arena_close(&a);
    invalidate(r->roles);
    if (rv == 0)
        tl_info(MOD, "event=create_role name=%s oid=%u", role->name, role->oid);
    else if (rv == TL_ECONFLICT)
        too_much_ddl(err, "create", role->name);
    return rv;
}

/* Read role @name's record: its row bytes into @old and the role into
 * *@out. TL_ENOTFOUND (no report) when absent. */
static int
read_role(struct router *r, const char *name, struct tl_arena *a,
          struct tl_buf *old, struct tl_role *out, struct tl_error *err)
{
    struct tl_buf key;
    struct catalog_row *rows;
    size_t n;
    tl_buf_init(&key);
    tl_meta_key_role(&key, name);
    int rv = catalog_scan_key(r->catalog, &key, a, &rows, &n, err);
    tl_buf_close(&key);
    if (rv != 0)
        return rv;
    if (n == 0)
        return TL_ENOTFOUND;
    if (tl_meta_role_decode(rows[0].p, rows[0].len, out) != 0)
        return tl_error_set(err, TL_ECORRUPT, TL_SQLSTATE_DATA_CORRUPTED,
                            "the record of role \"%s\" is corrupt", name);
    tl_buf_reset(old);
    tl_buf_append(old, rows[0].p, rows[0].len);
    return 0;
}

int
roles_alter_role(struct router *r, const char *name, roles_edit_fn edit,
                 void *arg, struct tl_error *err)
{
    struct tl_arena a;
    struct tl_buf old, key, val;
    tl_arena_init(&a);
    tl_buf_init(&old);
    tl_buf_init(&key);
    tl_buf_init(&val);
    int rv = TL_ECONFLICT;
    for (int attempt = 0; attempt < ROLES_RETRIES && rv == TL_ECONFLICT;
         attempt++) {
        struct tl_role role;
        tl_arena_reset(&a);
        rv = read_role(r, name, &a, &old, &role, err);
        if (rv != 0)
            break;
        rv = edit(&role, arg, err);
        if (rv != 0)
            break;
        tl_buf_reset(&key);
        tl_buf_reset(&val);
        tl_meta_key_role(&key, name);
        tl_meta_role_encode(&val, &role);
        Talus__Mutation *m =
            catalog_make_mut(&a, TALUS__MUTATION__KIND__PUT, &key, &val,
                             TALUS__MUTATION__COND__EQUALS, &old);
        int failed;
        rv =
            catalog_write_batch(r->catalog, TL_META_GROUP, &m, 1, &failed, err);
    }
    tl_buf_close(&old);
    tl_buf_close(&key);
    tl_buf_close(&val);
    tl_arena_close(&a);
    invalidate(r->roles);
    if (rv == TL_ECONFLICT)
        return too_much_ddl(err, "alter", name);
    if (rv == 0)
        tl_info(MOD, "event=alter_role name=%s", name);
    return rv;
}

int
roles_drop_role(struct router *r, const char *name, struct tl_error *err)
{
    struct tl_arena a;
    struct tl_buf old, key;
    tl_arena_init(&a);
    tl_buf_init(&old);
    tl_buf_init(&key);
    int rv = TL_ECONFLICT;
    for (int attempt = 0; attempt < ROLES_RETRIES && rv == TL_ECONFLICT;
         attempt++) {
        struct tl_role role;
        tl_arena_reset(&a);
        rv = read_role(r, name, &a, &old, &role, err);
        if (rv != 0)
            break;
        tl_buf_reset(&key);
        tl_meta_key_role(&key, name);
        Talus__Mutation *m =
            catalog_make_mut(&a, TALUS__MUTATION__KIND__DELETE, &key, NULL,
                             TALUS__MUTATION__COND__EQUALS, &old);
        int failed;
        rv =
            catalog_write_batch(r->catalog, TL_META_GROUP, &m, 1, &failed, err);
    }
    tl_buf_close(&old);
    tl_buf_close(&key);
    tl_arena_close(&a);
    invalidate(r->roles);
    if (rv == TL_ECONFLICT)
        return too_much_ddl(err, "drop", name);
    if (rv == 0)
        tl_info(MOD, "event=drop_role name=%s", name);
    return rv;
}
