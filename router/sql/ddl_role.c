/* ddl_role — CREATE ROLE / USER, ALTER ROLE, DROP ROLE.
 *
 * Options, checks and messages follow PostgreSQL 15's CreateRole(),
 * AlterRole() and DropRole() (src/backend/commands/user.c), for the
 * attributes Talus keeps: LOGIN, SUPERUSER, PASSWORD, CONNECTION LIMIT.
 * A password is stored as its SCRAM-SHA-256 verifier (common/scram.h);
 * a string that already is a verifier is stored as given, as PostgreSQL
 * does. Only a superuser creates, alters or drops roles; any role may
 * change its own password. Role changes are not transactional: they are
 * written when the statement runs, as a sequence's are. */
#include <stdio.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "router/core/roles.h"
#include "router/sql/sql_int.h"
#include "scram.h"

/* The options as given: NULL where absent. */
struct role_opts {
    const PgQuery__DefElem *password, *superuser, *login, *connlimit;
};

static int
redundant(struct sql_stmt *st, const PgQuery__DefElem *d)
{
    sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
              "conflicting or redundant options");
    return sql_error_at(st, TL_ESYNTAX, d->location);
}

static int
collect(struct sql_stmt *st, PgQuery__Node **opts, size_t n,
        struct role_opts *o)
{
    memset(o, 0, sizeof(*o));
    for (size_t i = 0; i < n; i++) {
        if (opts[i]->node_case != PG_QUERY__NODE__NODE_DEF_ELEM)
            return sql_unsupported(st, "this role option");
        const PgQuery__DefElem *d = opts[i]->def_elem;
        const PgQuery__DefElem **slot = NULL;
        if (strcmp(d->defname, "password") == 0)
            slot = &o->password;
        else if (strcmp(d->defname, "superuser") == 0)
            slot = &o->superuser;
        else if (strcmp(d->defname, "canlogin") == 0)
            slot = &o->login;
        else if (strcmp(d->defname, "connectionlimit") == 0)
            slot = &o->connlimit;
        else if (strcmp(d->defname, "sysid") == 0) {
            sql_notice(st, TL_SQLSTATE_SUCCESSFUL_COMPLETION,
                       "SYSID can no longer be specified");
            continue;
        }
        if (slot == NULL) {
            static const struct {
                const char *defname, *what;
            } names[] = {
                {"inherit", "INHERIT"},       {"createdb", "CREATEDB"},
                {"createrole", "CREATEROLE"}, {"isreplication", "REPLICATION"},
                {"bypassrls", "BYPASSRLS"},   {"validUntil", "VALID UNTIL"},
                {"addroleto", "IN ROLE"},     {"rolemembers", "ROLE"},
                {"adminmembers", "ADMIN"},
            };
            const char *what = d->defname;
            for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
                if (strcmp(names[k].defname, d->defname) == 0)
                    what = names[k].what;
            sql_unsupported(st, tl_arena_printf(st->a, "role option %s", what));
            return sql_error_at(st, TL_EUNSUPPORTED, d->location);
        }
        if (*slot != NULL)
            return redundant(st, d);
        *slot = d;
    }
    return 0;
}

static bool
bool_option(const PgQuery__DefElem *d)
{
    return d->arg != NULL &&
           d->arg->node_case == PG_QUERY__NODE__NODE_BOOLEAN &&
           d->arg->boolean->boolval;
}

/* Whether @pw is PostgreSQL's MD5 hash format: "md5" and 32 hex digits. */
static bool
is_md5_hash(const char *pw)
{
    if (strncmp(pw, "md5", 3) != 0 || strlen(pw) != 35)
        return false;
    for (int i = 3; i < 35; i++)
        if (!((pw[i] >= '0' && pw[i] <= '9') || (pw[i] >= 'a' && pw[i] <= 'f')))
            return false;
    return true;
}

/* Apply the options @o to @role. */
static int
apply(struct sql_stmt *st, const struct role_opts *o, struct tl_role *role)
{
    if (o->connlimit != NULL) {
        const PgQuery__Node *a = o->connlimit->arg;
        if (a == NULL || a->node_case != PG_QUERY__NODE__NODE_INTEGER)
            return sql_error(st, TL_EINVAL, TL_SQLSTATE_SYNTAX_ERROR,
                             "connectionlimit requires an integer value");
        if (a->integer->ival < -1)
            return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                             "invalid connection limit: %d", a->integer->ival);
        role->conn_limit = a->integer->ival;
    }
    if (o->superuser != NULL)
        role->superuser = bool_option(o->superuser);
    if (o->login != NULL)
        role->login = bool_option(o->login);
    if (o->password != NULL) {
        const PgQuery__Node *a = o->password->arg;
        const char *pw =
            a != NULL && a->node_case == PG_QUERY__NODE__NODE_STRING
                ? a->string->sval
                : NULL;
        role->verifier[0] = '\0';
        if (pw != NULL && pw[0] == '\0') {
            sql_notice(st, TL_SQLSTATE_SUCCESSFUL_COMPLETION,
                       "empty string is not a valid password, clearing "
                       "password");
        } else if (pw != NULL && is_md5_hash(pw)) {
            /* PostgreSQL would store it and authenticate with MD5, which
             * Talus does not speak: taking it for a password would lock
             * the role out without a word. */
            return sql_unsupported(st, "an MD5 password hash");
        } else if (pw != NULL && scram_is_verifier(pw)) {
            if (strlen(pw) >= sizeof(role->verifier))
                return sql_unsupported(st, "a verifier this long");
            snprintf(role->verifier, sizeof(role->verifier), "%s", pw);
        } else if (pw != NULL) {
            if (scram_verifier_make(pw, NULL, 0, SCRAM_ITERATIONS,
                                    role->verifier,
                                    sizeof(role->verifier)) != 0)
                return sql_error(st, TL_EIO, TL_SQLSTATE_INTERNAL_ERROR,
                                 "could not generate random salt");
        }
    }
    return 0;
}

static int
check_name(struct sql_stmt *st, const char *name)
{
    if (strncmp(name, "pg_", 3) == 0) {
        sql_error(st, TL_EINVAL, TL_SQLSTATE_RESERVED_NAME,
                  "role name \"%s\" is reserved", name);
        tl_error_detail(&st->err,
                        "Role names starting with \"pg_\" are reserved.");
        return TL_EINVAL;
    }
    if (strlen(name) >= TL_NAME_MAX)
        return sql_unsupported(st, "a role name of 64 bytes or more");
    return 0;
}

int
ddl_exec_create_role(struct sql_stmt *st, const PgQuery__CreateRoleStmt *cs)
{
    struct role_opts o;
    int rv = collect(st, cs->options, cs->n_options, &o);
    if (rv != 0)
        return rv;
    if (!st->s->superuser)
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_INSUFFICIENT_PRIVILEGE,
                         "permission denied to create role");
    rv = check_name(st, cs->role);
    if (rv != 0)
        return rv;
    struct tl_role role;
    memset(&role, 0, sizeof(role));
    snprintf(role.name, sizeof(role.name), "%s", cs->role);
    role.conn_limit = -1;
    /* CREATE USER logs in by default, CREATE ROLE and GROUP do not. */
    role.login = cs->stmt_type == PG_QUERY__ROLE_STMT_TYPE__ROLESTMT_USER;
    rv = apply(st, &o, &role);
    if (rv != 0)
        return rv;
    rv = roles_create_role(st->r, &role, &st->err);
    if (rv == TL_EEXISTS)
        return sql_error(st, rv, TL_SQLSTATE_DUPLICATE_OBJECT,
                         "role \"%s\" already exists", role.name);
    if (rv != 0)
        return rv;
    dest_complete(st->dest, "CREATE ROLE");
    return 0;
}

/* The name @spec (a RoleSpec) stands for: a name, or the session's user
 * for CURRENT_USER and the like; NULL with 0A000 for PUBLIC. */
static const char *
role_spec_name(struct sql_stmt *st, const PgQuery__RoleSpec *spec)
{
    switch (spec->roletype) {
    case PG_QUERY__ROLE_SPEC_TYPE__ROLESPEC_CSTRING:
        return spec->rolename;
    case PG_QUERY__ROLE_SPEC_TYPE__ROLESPEC_CURRENT_ROLE:
    case PG_QUERY__ROLE_SPEC_TYPE__ROLESPEC_CURRENT_USER:
    case PG_QUERY__ROLE_SPEC_TYPE__ROLESPEC_SESSION_USER:
        return st->s->user;
    default:
        sql_error(st, TL_EINVAL, TL_SQLSTATE_UNDEFINED_OBJECT,
                  "role \"public\" does not exist");
        return NULL;
    }
}

struct alter_arg {
    struct sql_stmt *st;
    const struct role_opts *o;
};

static int
alter_cb(struct tl_role *role, void *p, struct tl_error *err)
{
    struct alter_arg *a = p;
    (void)err; /* apply() reports in st->err, which is err */
    return apply(a->st, a->o, role);
}

int
ddl_exec_alter_role(struct sql_stmt *st, const PgQuery__AlterRoleStmt *as)
{
    struct role_opts o;
    int rv = collect(st, as->options, as->n_options, &o);
    if (rv != 0)
        return rv;
    const char *name = role_spec_name(st, as->role);
    if (name == NULL)
        return TL_EINVAL;
    /* PostgreSQL lets any role change its own password, and only that. */
    bool own_password = strcmp(name, st->s->user) == 0 && o.superuser == NULL &&
                        o.login == NULL && o.connlimit == NULL;
    if (!st->s->superuser && !own_password) {
        if (o.superuser != NULL)
            return sql_error(st, TL_EINVAL, TL_SQLSTATE_INSUFFICIENT_PRIVILEGE,
                             "must be superuser to alter superuser roles or "
                             "change superuser attribute");
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_INSUFFICIENT_PRIVILEGE,
                         "permission denied");
    }
    struct alter_arg arg = {.st = st, .o = &o};
    rv = roles_alter_role(st->r, name, alter_cb, &arg, &st->err);
    if (rv == TL_ENOTFOUND)
        return sql_error(st, rv, TL_SQLSTATE_UNDEFINED_OBJECT,
                         "role \"%s\" does not exist", name);
    if (rv != 0)
        return rv;
    dest_complete(st->dest, "ALTER ROLE");
    return 0;
}

int
ddl_exec_drop_role(struct sql_stmt *st, const PgQuery__DropRoleStmt *ds)
{
    if (!st->s->superuser)
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_INSUFFICIENT_PRIVILEGE,
                         "permission denied to drop role");
    /* Every name is checked before any is dropped, as PostgreSQL fails the
     * whole statement. */
    for (size_t i = 0; i < ds->n_roles; i++) {
        const PgQuery__Node *n = ds->roles[i];
        if (n->node_case != PG_QUERY__NODE__NODE_ROLE_SPEC)
            return sql_unsupported(st, "this DROP ROLE");
        const char *name = role_spec_name(st, n->role_spec);
        if (name == NULL)
            return TL_EINVAL;
        if (n->role_spec->roletype ==
                PG_QUERY__ROLE_SPEC_TYPE__ROLESPEC_CSTRING &&
            strcmp(name, st->s->user) == 0)
            return sql_error(st, TL_EINVAL, TL_SQLSTATE_OBJECT_IN_USE,
                             "current user cannot be dropped");
        if (n->role_spec->roletype !=
            PG_QUERY__ROLE_SPEC_TYPE__ROLESPEC_CSTRING) {
            sql_error(st, TL_EINVAL, TL_SQLSTATE_SYNTAX_ERROR,
                      "cannot use special role specifier in DROP ROLE");
            return TL_EINVAL;
        }
    }
    if (!ds->missing_ok) {
        struct tl_role *all;
        size_t n_all;
        int rv = roles_list(st->r, st->a, &all, &n_all, &st->err);
        if (rv != 0)
            return rv;
        for (size_t i = 0; i < ds->n_roles; i++) {
            const char *name = ds->roles[i]->role_spec->rolename;
            size_t k = 0;
            while (k < n_all && strcmp(all[k].name, name) != 0)
                k++;
            if (k == n_all)
                return sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_OBJECT,
                                 "role \"%s\" does not exist", name);
        }
    }
    for (size_t i = 0; i < ds->n_roles; i++) {
        const char *name = ds->roles[i]->role_spec->rolename;
        int rv = roles_drop_role(st->r, name, &st->err);
        if (rv == TL_ENOTFOUND && ds->missing_ok) {
            sql_notice(st, TL_SQLSTATE_SUCCESSFUL_COMPLETION,
                       "role \"%s\" does not exist, skipping", name);
        } else if (rv == TL_ENOTFOUND) {
            return sql_error(st, rv, TL_SQLSTATE_UNDEFINED_OBJECT,
                             "role \"%s\" does not exist", name);
        } else if (rv != 0) {
            return rv;
        }
    }
    dest_complete(st->dest, "DROP ROLE");
    return 0;
}
