/* seqfunc — nextval(), currval(), setval(), lastval() and
 * pg_get_serial_sequence().
 *
 * Each call is bound straight into a bigint constant, running when it is
 * bound, as func.c's functions do: every VALUES row and every default of
 * a row binds (so runs) its own call, which gives PostgreSQL's one value
 * per row there. Where one binding would stand for many rows (a SELECT,
 * UPDATE or DELETE over a table) bind.c refuses nextval() and setval()
 * rather than give every row the same value.
 *
 * The sequence is named by text ('s', 'public.s', '"S"') or by
 * 's'::regclass, read as PostgreSQL reads a regclass: unquoted names fold
 * to lower case. Values come from the router's block of the sequence
 * (router/core/sequences.h); currval() and lastval() are the session's
 * own. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "router/core/catalog.h"
#include "router/core/sequences.h"
#include "router/sql/sql_int.h"

enum seqfunc_id {
    SEQFUNC_NEXTVAL,
    SEQFUNC_CURRVAL,
    SEQFUNC_SETVAL,
    SEQFUNC_LASTVAL,
    SEQFUNC_SERIAL_SEQUENCE,
};

static const struct {
    const char *name;
    enum seqfunc_id id;
    size_t min_args, max_args;
} seqfuncs[] = {
    {"nextval", SEQFUNC_NEXTVAL, 1, 1},
    {"currval", SEQFUNC_CURRVAL, 1, 1},
    {"setval", SEQFUNC_SETVAL, 2, 3},
    {"lastval", SEQFUNC_LASTVAL, 0, 0},
    {"pg_get_serial_sequence", SEQFUNC_SERIAL_SEQUENCE, 2, 2},
};

/* The entry of @f in seqfuncs with a fitting argument count, or -1. */
static int
find(const PgQuery__FuncCall *f)
{
    const char *name = NULL, *schema = NULL;
    if (f->n_funcname == 1 || f->n_funcname == 2)
        name = sql_node_str(f->funcname[f->n_funcname - 1]);
    if (f->n_funcname == 2)
        schema = sql_node_str(f->funcname[0]);
    if (name == NULL || (f->n_funcname == 2 &&
                         (schema == NULL || strcmp(schema, "pg_catalog") != 0)))
        return -1;
    if (f->agg_star || f->agg_distinct || f->func_variadic)
        return -1;
    for (size_t i = 0; i < sizeof(seqfuncs) / sizeof(seqfuncs[0]); i++)
        if (strcmp(seqfuncs[i].name, name) == 0 &&
            f->n_args >= seqfuncs[i].min_args &&
            f->n_args <= seqfuncs[i].max_args)
            return (int)i;
    return -1;
}

bool
seqfunc_has_effect(const PgQuery__FuncCall *f)
{
    int i = find(f);
    return i >= 0 && (seqfuncs[i].id == SEQFUNC_NEXTVAL ||
                      seqfuncs[i].id == SEQFUNC_SETVAL);
}

void
seqfunc_reset(struct sql_session *s)
{
    free(s->seqvals);
    s->seqvals = NULL;
    s->n_seqvals = 0;
    s->has_lastval = false;
}

/* Remember @value as the session's currval of sequence @id. */
static void
remember(struct sql_session *s, uint32_t id, int64_t value)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_seqvals; i++)
        if (s->seqvals[i].id == id) {
            s->seqvals[i].value = value;
            return;
        }
    struct sql_seqval *v = realloc(s->seqvals, (s->n_seqvals + 1) * sizeof(*v));
    if (v == NULL)
        abort();
    s->seqvals = v;
    s->seqvals[s->n_seqvals].id = id;
    s->seqvals[s->n_seqvals++].value = value;
}

/* The relation name of a regclass text: "public.s" -> s, "S" -> s,
 * "\"S\"" -> S. NULL when it is not a (schema-qualified) name, or names
 * another schema. */
static const char *
regclass_name(struct sql_stmt *st, const char *text)
{
    char *out = tl_arena_alloc(st->a, strlen(text) + 1);
    const char *p = text;
    size_t parts = 0;
    for (;;) {
        char *w = out;
        if (*p == '"') {
            for (p++; *p != '\0'; p++) {
                if (*p == '"' && p[1] == '"')
                    *w++ = *p++;
                else if (*p == '"')
                    break;
                else
                    *w++ = *p;
            }
            if (*p != '"')
                return NULL;
            p++;
        } else {
            while (*p != '\0' && *p != '.' && !isspace((unsigned char)*p))
                *w++ = (char)tolower((unsigned char)*p++);
        }
        *w = '\0';
        if (w == out)
            return NULL;
        parts++;
        if (*p != '.')
            break;
        if (parts > 1 || strcmp(out, "public") != 0)
            return NULL;
        p++;
    }
    if (*p != '\0')
        return NULL;
    return out;
}

/* The sequence name argument @n: a text constant, or one cast to
 * regclass (or text). */
static int
bind_seq_name(struct sql_stmt *st, const PgQuery__Node *n, const char **name,
              int *location)
{
    const PgQuery__Node *arg = n;
    *location = -1;
    if (arg->node_case == PG_QUERY__NODE__NODE_TYPE_CAST) {
        const PgQuery__TypeName *tn = arg->type_cast->type_name;
        const char *tname = tn != NULL && tn->n_names > 0
                                ? sql_node_str(tn->names[tn->n_names - 1])
                                : NULL;
        if (tname != NULL && strcmp(tname, "regclass") == 0)
            arg = arg->type_cast->arg;
    }
    if (arg->node_case == PG_QUERY__NODE__NODE_A_CONST)
        *location = arg->a_const->location;
    struct tl_value v;
    int rv = bind_const(st, arg, &v);
    if (rv != 0)
        return rv;
    if (v.is_null) {
        *name = NULL;
        return 0;
    }
    if (!tl_type_has_text(v.type))
        return sql_unsupported(st, "a sequence named other than by text");
    char *text = tl_arena_strndup(st->a, v.u.s.p, v.u.s.len);
    *name = regclass_name(st, text);
    if (*name == NULL) {
        sql_error(st, TL_EINVAL, TL_SQLSTATE_UNDEFINED_TABLE,
                  "relation \"%s\" does not exist", text);
        return sql_error_at(st, TL_EINVAL, *location);
    }
    return 0;
}

/* The report of a sequence call that failed: 42P01 when there is no such
 * sequence (42809 when it is a table), else what the lower layer said. */
static int
seq_error(struct sql_stmt *st, int rv, const char *name, int location)
{
    if (rv != TL_ENOTFOUND)
        return rv;
    struct tl_table *t;
    struct tl_error scratch;
    if (catalog_lookup(st->r->catalog, name, st->a, &t, NULL, &scratch) == 0)
        return sql_error(st, TL_ETYPE, TL_SQLSTATE_WRONG_OBJECT_TYPE,
                         "\"%s\" is not a sequence", name);
    sql_error(st, rv, TL_SQLSTATE_UNDEFINED_TABLE,
              "relation \"%s\" does not exist", name);
    return sql_error_at(st, rv, location);
}

static struct tl_expr *
const_int8(struct sql_stmt *st, int64_t i, bool is_null)
{
    struct tl_value v =
        is_null ? tl_value_null(TL_TYPE_INT8) : tl_value_int(TL_TYPE_INT8, i);
    struct tl_expr *e = tl_expr_const(st->a, &v);
    e->type = TL_TYPE_INT8;
    return e;
}

static int
bind_nextval(struct sql_stmt *st, const char *name, int location,
             struct tl_expr **out)
{
    struct tl_sequence seq;
    int64_t v = 0;
    int rv;
    if (st->describe_only || st->dry_run) {
        rv = sequence_lookup(st->r, name, &seq, &st->err);
        if (rv != 0)
            return seq_error(st, rv, name, location);
        *out = const_int8(st, 0, true);
        return 0;
    }
    /* As nextval_internal(): the sequence must exist (42P01), then the
     * transaction may write (25006). */
    if (st->s != NULL && sql_xact_check_writable(st, "nextval()") != 0) {
        rv = sequence_lookup(st->r, name, &seq, &st->err);
        if (rv != 0)
            return seq_error(st, rv, name, location);
        return sql_xact_check_writable(st, "nextval()");
    }
    rv = sequence_nextval(st->r, name, &v, &seq, &st->err);
    if (rv != 0)
        return seq_error(st, rv, name, location);
    remember(st->s, seq.id, v);
    if (st->s != NULL) {
        st->s->has_lastval = true;
        st->s->lastval = v;
    }
    *out = const_int8(st, v, false);
    return 0;
}

static int
bind_currval(struct sql_stmt *st, const char *name, int location,
             struct tl_expr **out)
{
    struct tl_sequence seq;
    int rv = sequence_lookup(st->r, name, &seq, &st->err);
    if (rv != 0)
        return seq_error(st, rv, name, location);
    for (size_t i = 0; st->s != NULL && i < st->s->n_seqvals; i++)
        if (st->s->seqvals[i].id == seq.id) {
            *out = const_int8(st, st->s->seqvals[i].value, false);
            return 0;
        }
    if (st->describe_only) {
        *out = const_int8(st, 0, true);
        return 0;
    }
    return sql_error(st, TL_EINVAL,
                     TL_SQLSTATE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                     "currval of sequence \"%s\" is not yet defined in this "
                     "session",
                     name);
}

static int
bind_setval(struct sql_stmt *st, const PgQuery__FuncCall *f, const char *name,
            int location, struct tl_expr **out)
{
    struct tl_value v, in, called = tl_value_bool(true);
    int rv = bind_const(st, f->args[1], &v);
    in = v;
    if (rv == 0 && !v.is_null && v.type == TL_TYPE_UNKNOWN)
        rv = tl_value_cast(&in, TL_TYPE_INT8, -1, st->a, &v, &st->err);
    if (rv == 0 && !v.is_null && !tl_type_is_int(v.type))
        rv = sql_unsupported(st, "setval() of a value that is not an "
                                 "integer");
    if (rv == 0 && f->n_args == 3) {
        rv = bind_const(st, f->args[2], &called);
        in = called;
        if (rv == 0 && !called.is_null && called.type == TL_TYPE_UNKNOWN)
            rv = tl_value_cast(&in, TL_TYPE_BOOL, -1, st->a, &called, &st->err);
        if (rv == 0 && !called.is_null && called.type != TL_TYPE_BOOL)
            rv = sql_unsupported(st, "setval() whose third argument is not "
                                     "a boolean");
    }
    if (rv != 0)
        return rv;
    /* setval is strict: a NULL argument gives NULL and does nothing. */
    if (v.is_null || called.is_null) {
        *out = const_int8(st, 0, true);
        return 0;
    }
    struct tl_sequence seq;
    if (st->describe_only || st->dry_run) {
        rv = sequence_lookup(st->r, name, &seq, &st->err);
        if (rv != 0)
            return seq_error(st, rv, name, location);
        *out = const_int8(st, 0, true);
        return 0;
    }
    if (st->s != NULL && sql_xact_check_writable(st, "setval()") != 0) {
        rv = sequence_lookup(st->r, name, &seq, &st->err);
        if (rv != 0)
            return seq_error(st, rv, name, location);
        return sql_xact_check_writable(st, "setval()");
    }
    rv = sequence_setval(st->r, name, v.u.i, called.u.b, &seq, &st->err);
    if (rv != 0)
        return seq_error(st, rv, name, location);
    /* As in PostgreSQL, currval() is set (lastval() is not). */
    if (called.u.b)
        remember(st->s, seq.id, v.u.i);
    *out = const_int8(st, v.u.i, false);
    return 0;
}

/* A text argument of a constant expression into *@text (NULL for NULL). */
static int
bind_text_arg(struct sql_stmt *st, const PgQuery__Node *n, const char **text)
{
    struct tl_value v;
    int rv = bind_const(st, n, &v);
    if (rv != 0)
        return rv;
    if (!v.is_null && !tl_type_has_text(v.type))
        return sql_unsupported(st, "a name that is not text");
    *text = v.is_null ? NULL : tl_arena_strndup(st->a, v.u.s.p, v.u.s.len);
    return 0;
}

/* @name as PostgreSQL's quote_identifier() writes it: bare when it is
 * lower case letters, digits and underscores (not first a digit), else
 * in double quotes with inner quotes doubled. Keywords are not quoted. */
static const char *
quote_ident(struct sql_stmt *st, const char *name)
{
    bool plain = name[0] != '\0' && !isdigit((unsigned char)name[0]);
    for (const char *p = name; *p != '\0' && plain; p++)
        plain = islower((unsigned char)*p) || isdigit((unsigned char)*p) ||
                *p == '_';
    if (plain)
        return name;
    char *q = tl_arena_alloc(st->a, 2 * strlen(name) + 3), *w = q;
    *w++ = '"';
    for (const char *p = name; *p != '\0'; p++) {
        if (*p == '"')
            *w++ = '"';
        *w++ = *p;
    }
    *w++ = '"';
    *w = '\0';
    return q;
}

/* pg_get_serial_sequence(table, column): "public.<sequence>" of the
 * sequence the column owns (serial, identity), NULL when it owns none. */
static int
bind_serial_sequence(struct sql_stmt *st, const PgQuery__FuncCall *f,
                     struct tl_expr **out)
{
    const char *table = NULL, *column = NULL;
    int rv = bind_text_arg(st, f->args[0], &table);
    if (rv == 0)
        rv = bind_text_arg(st, f->args[1], &column);
    if (rv != 0)
        return rv;
    struct tl_value v = tl_value_null(TL_TYPE_TEXT);
    if (table != NULL && column != NULL) {
        const char *name = regclass_name(st, table);
        struct tl_table *t = NULL;
        struct tl_error scratch;
        if (name == NULL || catalog_lookup(st->r->catalog, name, st->a, &t,
                                           NULL, &scratch) != 0)
            return sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_TABLE,
                             "relation \"%s\" does not exist",
                             name != NULL ? name : table);
        int c = tl_table_find_column(t, column);
        if (c < 0 || t->columns[c].hidden)
            return sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_COLUMN,
                             "column \"%s\" of relation \"%s\" does not "
                             "exist",
                             column, name);
        struct tl_sequence *owned;
        size_t n;
        rv = sequence_list_owned(st->r, t->id, st->a, &owned, &n, &st->err);
        if (rv != 0)
            return rv;
        for (size_t k = 0; k < n; k++)
            if (strcmp(owned[k].owner_column, column) == 0) {
                const char *text = tl_arena_printf(
                    st->a, "public.%s", quote_ident(st, owned[k].name));
                v = tl_value_text(TL_TYPE_TEXT, text, (uint32_t)strlen(text));
            }
    }
    *out = tl_expr_const(st->a, &v);
    (*out)->type = TL_TYPE_TEXT;
    return 0;
}

int
seqfunc_bind_call(struct sql_stmt *st, const PgQuery__FuncCall *f,
                  struct tl_expr **out)
{
    int i = find(f);
    if (i < 0)
        return 1;
    if (seqfuncs[i].id == SEQFUNC_SERIAL_SEQUENCE)
        return bind_serial_sequence(st, f, out);
    if (seqfuncs[i].id == SEQFUNC_LASTVAL) {
        if (st->s != NULL && st->s->has_lastval) {
            *out = const_int8(st, st->s->lastval, false);
            return 0;
        }
        if (st->describe_only) {
            *out = const_int8(st, 0, true);
            return 0;
        }
        return sql_error(st, TL_EINVAL,
                         TL_SQLSTATE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                         "lastval is not yet defined in this session");
    }
    const char *name = NULL;
    int location = -1;
    int rv = bind_seq_name(st, f->args[0], &name, &location);
    if (rv != 0)
        return rv;
    if (name == NULL) { /* strict: NULL in, NULL out */
        *out = const_int8(st, 0, true);
        return 0;
    }
    switch (seqfuncs[i].id) {
    case SEQFUNC_NEXTVAL:
        return bind_nextval(st, name, location, out);
    case SEQFUNC_CURRVAL:
        return bind_currval(st, name, location, out);
    case SEQFUNC_SETVAL:
        return bind_setval(st, f, name, location, out);
    default:
        return 1;
    }
}
