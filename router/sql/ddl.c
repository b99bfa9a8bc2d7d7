/* ddl — CREATE TABLE and DROP TABLE. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/base/sqlstate.h"
#include "router/core/catalog.h"
#include "router/core/sequences.h"
#include "router/sql/sql_int.h"
#include "row.h"
#include "secindex.h"
#include "vindex.h"

/* The WITH (...) options of CREATE TABLE that Talus knows; NULL when
 * absent. */
struct table_options {
    const char *vindex;       /* hash, consistent_hash, range */
    const char *boundaries;   /* range: "b1,b2,..." */
    const char *distribution; /* reference */
};

/* A sequence a serial or identity column owns: named, and the column's
 * default written, once the table is stored (the name must be free). */
struct owned_seq {
    uint32_t col;
    struct tl_sequence seq;
};

/* What CREATE TABLE collects while walking the column list. */
struct table_builder {
    struct tl_table *t;
    uint32_t cap;
    bool has_pk;
    const char *pk_names[TL_MAX_PK];
    uint32_t n_pk_names;
    int pk_location;
    struct owned_seq *owned; /* in st->a */
    size_t n_owned;
};

/* The type of a serial pseudo-type name (serial, bigserial, smallserial,
 * serial2/4/8), or 0. */
static uint8_t
serial_type(const PgQuery__TypeName *tn)
{
    static const struct {
        const char *name;
        uint8_t type;
    } names[] = {{"smallserial", TL_TYPE_INT2}, {"serial2", TL_TYPE_INT2},
                 {"serial", TL_TYPE_INT4},      {"serial4", TL_TYPE_INT4},
                 {"bigserial", TL_TYPE_INT8},   {"serial8", TL_TYPE_INT8}};
    if (tn == NULL || tn->n_names != 1 || tn->n_typmods > 0 ||
        tn->n_array_bounds > 0 || tn->setof || tn->pct_type)
        return 0;
    const char *name = sql_node_str(tn->names[0]);
    for (size_t i = 0; name != NULL && i < sizeof(names) / sizeof(names[0]);
         i++)
        if (strcmp(name, names[i].name) == 0)
            return names[i].type;
    return 0;
}

static int
node_location(const PgQuery__Node *n)
{
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_A_CONST:
        return n->a_const->location;
    case PG_QUERY__NODE__NODE_TYPE_CAST:
        return n->type_cast->location;
    case PG_QUERY__NODE__NODE_FUNC_CALL:
        return n->func_call->location;
    default:
        return -1;
    }
}

/* Column @col of @b's table owns a new sequence: options @opts (an
 * identity column's), values of the column's type. */
static int
add_owned(struct sql_stmt *st, struct table_builder *b, uint32_t col,
          PgQuery__Node **opts, size_t n_opts, bool for_identity)
{
    struct owned_seq *v = tl_arena_alloc(st->a, (b->n_owned + 1) * sizeof(*v));
    if (b->n_owned > 0)
        memcpy(v, b->owned, b->n_owned * sizeof(*v));
    b->owned = v;
    struct owned_seq *o = &b->owned[b->n_owned];
    memset(o, 0, sizeof(*o));
    o->col = col;
    int rv = ddl_sequence_options(st, opts, n_opts, b->t->columns[col].type,
                                  for_identity, &o->seq);
    if (rv != 0)
        return rv;
    snprintf(o->seq.owner_column, sizeof(o->seq.owner_column), "%s",
             b->t->columns[col].name);
    b->n_owned++;
    return 0;
}

/* Check the DEFAULT @c of column @col now, as PostgreSQL does at CREATE
 * TABLE (without running nextval()), and keep its text. */
static int
set_default(struct sql_stmt *st, struct table_builder *b, uint32_t col,
            const PgQuery__Constraint *c)
{
    struct tl_value v;
    st->dry_run = true;
    int rv = default_eval(st, b->t, col, c->raw_expr,
                          node_location(c->raw_expr), &v);
    st->dry_run = false;
    if (rv == 0)
        rv = default_deparse(st, c->raw_expr, &b->t->columns[col].default_expr);
    return rv;
}

static const char *
constraint_name(PgQuery__ConstrType c)
{
    switch (c) {
    case PG_QUERY__CONSTR_TYPE__CONSTR_DEFAULT:
        return "DEFAULT";
    case PG_QUERY__CONSTR_TYPE__CONSTR_IDENTITY:
        return "identity columns";
    case PG_QUERY__CONSTR_TYPE__CONSTR_GENERATED:
        return "generated columns";
    case PG_QUERY__CONSTR_TYPE__CONSTR_CHECK:
        return "CHECK constraints";
    case PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE:
        return "UNIQUE constraints";
    case PG_QUERY__CONSTR_TYPE__CONSTR_EXCLUSION:
        return "EXCLUDE constraints";
    case PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN:
        return "REFERENCES (foreign keys)";
    default:
        return "constraint attributes (DEFERRABLE)";
    }
}

static int
set_pk(struct sql_stmt *st, struct table_builder *b, PgQuery__Node **keys,
       size_t n_keys, const char *single, int location)
{
    if (b->has_pk) {
        sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_TABLE_DEFINITION,
                  "multiple primary keys for table \"%s\" are not allowed",
                  b->t->name);
        return sql_error_at(st, TL_EINVAL, location);
    }
    b->has_pk = true;
    b->pk_location = location;
    if (single != NULL) {
        b->pk_names[b->n_pk_names++] = single;
        return 0;
    }
    if (n_keys > TL_MAX_PK)
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_TOO_MANY_COLUMNS,
                         "cannot use more than %d columns in an index",
                         TL_MAX_PK);
    for (size_t i = 0; i < n_keys; i++) {
        const char *k = sql_node_str(keys[i]);
        if (k == NULL)
            return sql_unsupported(st, "expressions in PRIMARY KEY");
        b->pk_names[b->n_pk_names++] = k;
    }
    return 0;
}

static int
add_column(struct sql_stmt *st, struct table_builder *b,
           const PgQuery__ColumnDef *cd)
{
    struct tl_table *t = b->t;
    if (t->n_columns >= TL_MAX_COLUMNS - 1)
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_TOO_MANY_COLUMNS,
                         "tables can have at most %d columns", TL_MAX_COLUMNS);
    if (tl_table_find_column(t, cd->colname) >= 0) {
        sql_error(st, TL_EEXISTS, TL_SQLSTATE_DUPLICATE_COLUMN,
                  "column \"%s\" specified more than once", cd->colname);
        return sql_error_at(st, TL_EEXISTS, cd->location);
    }
    if (t->n_columns == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 8;
        struct tl_column *c = tl_arena_calloc(st->a, b->cap * sizeof(*c));
        if (t->n_columns > 0)
            memcpy(c, t->columns, t->n_columns * sizeof(*c));
        t->columns = c;
    }
    struct tl_column *col = &t->columns[t->n_columns];
    memset(col, 0, sizeof(*col));
    snprintf(col->name, sizeof(col->name), "%s", cd->colname);
    uint8_t serial = serial_type(cd->type_name);
    int rv = 0;
    if (serial != 0) {
        col->type = serial;
        col->typmod = -1;
    } else {
        rv = bind_type_name(st, cd->type_name, &col->type, &col->typmod);
    }
    if (rv != 0)
        return rv;
    if (cd->coll_clause != NULL)
        return sql_unsupported(st, "COLLATE");
    bool said_null = false;
    const PgQuery__Constraint *def = NULL, *ident = NULL;
    for (size_t i = 0; i < cd->n_constraints; i++) {
        const PgQuery__Constraint *c = cd->constraints[i]->constraint;
        if (cd->constraints[i]->node_case != PG_QUERY__NODE__NODE_CONSTRAINT)
            return sql_unsupported(st, "this column option");
        switch (c->contype) {
        case PG_QUERY__CONSTR_TYPE__CONSTR_NULL:
            said_null = true;
            break;
        case PG_QUERY__CONSTR_TYPE__CONSTR_NOTNULL:
            col->not_null = true;
            break;
        case PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY:
            rv = set_pk(st, b, NULL, 0, col->name, c->location);
            if (rv != 0)
                return rv;
            break;
        case PG_QUERY__CONSTR_TYPE__CONSTR_DEFAULT:
            if (def != NULL || serial != 0) {
                sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                          "multiple default values specified for column "
                          "\"%s\" of table \"%s\"",
                          col->name, t->name);
                /* PostgreSQL places the second DEFAULT, not serial's. */
                return def != NULL ? sql_error_at(st, TL_ESYNTAX, c->location)
                                   : TL_ESYNTAX;
            }
            if (ident != NULL) {
                sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                          "both default and identity specified for column "
                          "\"%s\" of table \"%s\"",
                          col->name, t->name);
                return sql_error_at(st, TL_ESYNTAX, c->location);
            }
            def = c;
            break;
        case PG_QUERY__CONSTR_TYPE__CONSTR_IDENTITY:
            if (ident != NULL) {
                sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                          "multiple identity specifications for column "
                          "\"%s\" of table \"%s\"",
                          col->name, t->name);
                return sql_error_at(st, TL_ESYNTAX, c->location);
            }
            if (def != NULL || serial != 0) {
                sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                          "both default and identity specified for column "
                          "\"%s\" of table \"%s\"",
                          col->name, t->name);
                return sql_error_at(st, TL_ESYNTAX, c->location);
            }
            ident = c;
            break;
        default:
            sql_unsupported(st, constraint_name(c->contype));
            return sql_error_at(st, TL_EUNSUPPORTED, c->location);
        }
    }
    if (said_null && col->not_null) {
        sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                  "conflicting NULL/NOT NULL declarations for column \"%s\" "
                  "of table \"%s\"",
                  col->name, t->name);
        return sql_error_at(st, TL_ESYNTAX, cd->location);
    }
    if (serial != 0 && said_null)
        return sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                         "conflicting NULL/NOT NULL declarations for column "
                         "\"%s\" of table \"%s\"",
                         col->name, t->name);
    if (ident != NULL) {
        if (said_null) {
            sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                      "conflicting NULL/NOT NULL declarations for column "
                      "\"%s\" of table \"%s\"",
                      col->name, t->name);
            return sql_error_at(st, TL_ESYNTAX, cd->location);
        }
        if (col->type != TL_TYPE_INT2 && col->type != TL_TYPE_INT4 &&
            col->type != TL_TYPE_INT8)
            return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                             "identity column type must be smallint, "
                             "integer, or bigint");
        col->identity =
            ident->generated_when != NULL && ident->generated_when[0] == 'a'
                ? TL_IDENTITY_ALWAYS
                : TL_IDENTITY_BY_DEFAULT;
        col->not_null = true;
        rv = add_owned(st, b, t->n_columns, ident->options, ident->n_options,
                       true);
    } else if (serial != 0) {
        col->not_null = true;
        rv = add_owned(st, b, t->n_columns, NULL, 0, false);
    } else if (def != NULL) {
        rv = set_default(st, b, t->n_columns, def);
    }
    if (rv != 0)
        return rv;
    t->n_columns++;
    return 0;
}

int
ddl_add_column(struct sql_stmt *st, struct tl_table *t,
               const PgQuery__ColumnDef *cd)
{
    struct table_builder b = {.t = t, .cap = t->n_columns};
    int rv = add_column(st, &b, cd);
    if (rv != 0)
        return rv;
    if (b.has_pk || b.n_owned > 0)
        return sql_unsupported(st, b.has_pk ? "ADD COLUMN ... PRIMARY KEY"
                                            : "ADD COLUMN with serial or "
                                              "identity");
    return 0;
}

int
ddl_set_default(struct sql_stmt *st, struct tl_table *t, uint32_t col,
                const PgQuery__Node *expr)
{
    if (expr == NULL) {
        t->columns[col].default_expr = NULL;
        return 0;
    }
    struct table_builder b = {.t = t, .cap = t->n_columns};
    PgQuery__Constraint c = PG_QUERY__CONSTRAINT__INIT;
    c.raw_expr = (PgQuery__Node *)expr;
    return set_default(st, &b, col, &c);
}

static int
add_table_constraint(struct sql_stmt *st, struct table_builder *b,
                     const PgQuery__Constraint *c)
{
    if (c->contype != PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY) {
        sql_unsupported(st, constraint_name(c->contype));
        return sql_error_at(st, TL_EUNSUPPORTED, c->location);
    }
    if (c->n_including > 0 || c->n_options > 0)
        return sql_unsupported(st, "PRIMARY KEY options");
    return set_pk(st, b, c->keys, c->n_keys, NULL, c->location);
}

/* json and jsonb have no key encoding in Talus (jsonb's equality is not
 * bytewise: 1.0 = 1): neither can be a primary key or shard key column.
 * json has no btree class in PostgreSQL either (its 42704). */
static int
refuse_json_key(struct sql_stmt *st, const struct tl_column *c,
                const char *what, int location)
{
    if (c->type == TL_TYPE_JSON) {
        sql_error(st, TL_EUNSUPPORTED, TL_SQLSTATE_UNDEFINED_OBJECT,
                  "data type json has no default operator class for access "
                  "method \"btree\"");
        tl_error_hint(&st->err, "You must specify an operator class for the "
                                "index or define a default operator class for "
                                "the data type.");
        return TL_EUNSUPPORTED; /* PostgreSQL gives no position here */
    }
    if (c->type != TL_TYPE_JSONB)
        return 0;
    sql_error(st, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
              "column \"%s\" of type jsonb cannot be part of a %s in Talus",
              c->name, what);
    return sql_error_at(st, TL_EUNSUPPORTED, location);
}

/* Resolve the primary key names, or add the hidden rowid key. */
static int
finish_pk(struct sql_stmt *st, struct table_builder *b)
{
    struct tl_table *t = b->t;
    for (uint32_t i = 0; i < b->n_pk_names; i++) {
        int col = tl_table_find_column(t, b->pk_names[i]);
        if (col < 0) {
            sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_COLUMN,
                      "column \"%s\" named in key does not exist",
                      b->pk_names[i]);
            return sql_error_at(st, TL_ENOTFOUND, b->pk_location);
        }
        for (uint32_t k = 0; k < t->n_pk; k++)
            if (t->pk[k] == (uint32_t)col) {
                sql_error(st, TL_EEXISTS, TL_SQLSTATE_DUPLICATE_COLUMN,
                          "column \"%s\" appears twice in primary key "
                          "constraint",
                          b->pk_names[i]);
                return sql_error_at(st, TL_EEXISTS, b->pk_location);
            }
        int rv = refuse_json_key(st, &t->columns[col], "primary key",
                                 b->pk_location);
        if (rv != 0)
            return rv;
        t->pk[t->n_pk++] = (uint32_t)col;
        t->columns[col].not_null = true;
    }
    if (b->has_pk)
        return 0;
    if (tl_table_find_column(t, "rowid") >= 0)
        return sql_unsupported(st, "a column named \"rowid\" in a table "
                                   "without a primary key");
    struct tl_column *c =
        tl_arena_calloc(st->a, (t->n_columns + 1) * sizeof(*c));
    if (t->n_columns > 0)
        memcpy(c, t->columns, t->n_columns * sizeof(*c));
    t->columns = c;
    struct tl_column *rid = &c[t->n_columns];
    snprintf(rid->name, sizeof(rid->name), "rowid");
    rid->type = TL_TYPE_INT8;
    rid->typmod = -1;
    rid->not_null = true;
    rid->hidden = true;
    t->pk[0] = t->n_columns++;
    t->n_pk = 1;
    return 0;
}

/* The value of a WITH option as text: 'x', x or a number. */
static const char *
option_text(struct sql_stmt *st, const PgQuery__Node *arg)
{
    if (arg == NULL)
        return NULL;
    switch (arg->node_case) {
    case PG_QUERY__NODE__NODE_STRING:
        return arg->string->sval;
    case PG_QUERY__NODE__NODE_TYPE_NAME:
        return arg->type_name->n_names > 0
                   ? sql_node_str(
                         arg->type_name->names[arg->type_name->n_names - 1])
                   : NULL;
    case PG_QUERY__NODE__NODE_INTEGER:
        return tl_arena_printf(st->a, "%d", arg->integer->ival);
    case PG_QUERY__NODE__NODE_FLOAT:
        return arg->float_->fval;
    default:
        return NULL;
    }
}

/* PostgreSQL's own table storage parameters: valid there, not here. */
static bool
is_storage_parameter(const PgQuery__DefElem *d)
{
    static const char *const names[] = {"fillfactor",
                                        "toast_tuple_target",
                                        "parallel_workers",
                                        "user_catalog_table",
                                        "vacuum_index_cleanup",
                                        "vacuum_truncate",
                                        "oids",
                                        NULL};
    if (d->defnamespace != NULL && strcmp(d->defnamespace, "toast") == 0)
        return true;
    if (strncmp(d->defname, "autovacuum_", 11) == 0 ||
        strcmp(d->defname, "log_autovacuum_min_duration") == 0)
        return true;
    for (int i = 0; names[i] != NULL; i++)
        if (strcmp(d->defname, names[i]) == 0)
            return true;
    return false;
}

/* fillfactor must be an integer from 10 to 100, as in PostgreSQL
 * (22023 otherwise); other storage parameters are taken as given. */
static int
check_storage_parameter(struct sql_stmt *st, const PgQuery__DefElem *d)
{
    const char *v;
    char *end;
    long n;

    if (strcmp(d->defname, "fillfactor") != 0 ||
        (d->defnamespace != NULL && d->defnamespace[0] != '\0'))
        return 0;
    v = d->arg != NULL ? option_text(st, d->arg) : "true";
    if (v == NULL)
        v = "";
    n = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0')
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                         "invalid value for integer option \"fillfactor\": %s",
                         v);
    if (n < 10 || n > 100) {
        sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                  "value %s out of bounds for option \"fillfactor\"", v);
        tl_error_detail(&st->err, "Valid values are between \"10\" and "
                                  "\"100\".");
        return TL_EINVAL;
    }
    return 0;
}

static int
parse_options(struct sql_stmt *st, const PgQuery__CreateStmt *cs,
              struct table_options *o)
{
    memset(o, 0, sizeof(*o));
    for (size_t i = 0; i < cs->n_options; i++) {
        const PgQuery__Node *n = cs->options[i];
        if (n->node_case != PG_QUERY__NODE__NODE_DEF_ELEM)
            return sql_unsupported(st, "this WITH option");
        const PgQuery__DefElem *d = n->def_elem;
        const char **slot = NULL;
        bool plain = d->defnamespace == NULL || d->defnamespace[0] == '\0';
        if (plain && strcmp(d->defname, "vindex") == 0)
            slot = &o->vindex;
        else if (plain && strcmp(d->defname, "boundaries") == 0)
            slot = &o->boundaries;
        else if (plain && strcmp(d->defname, "distribution") == 0)
            slot = &o->distribution;
        if (slot == NULL && is_storage_parameter(d)) {
            /* PostgreSQL's heap storage parameters have no meaning for a
             * RocksDB table: checked as PostgreSQL checks them, then
             * ignored (tools such as pgbench send fillfactor). */
            int rv = check_storage_parameter(st, d);
            if (rv != 0)
                return rv;
            continue;
        }
        if (slot == NULL)
            return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                             "unrecognized parameter \"%s%s%s\"",
                             plain ? "" : d->defnamespace, plain ? "" : ".",
                             d->defname);
        if (*slot != NULL)
            return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                             "parameter \"%s\" specified more than once",
                             d->defname);
        *slot = option_text(st, d->arg);
        if (*slot == NULL)
            return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                             "parameter \"%s\" needs a value", d->defname);
    }
    return 0;
}

/* The vindex named by WITH (vindex = ...), or 22023. */
static int
vindex_by_name(struct sql_stmt *st, const char *name, uint32_t *kind)
{
    static const struct {
        const char *name;
        uint32_t kind;
    } names[] = {{"hash", TL_VINDEX_HASH},
                 {"consistent_hash", TL_VINDEX_CONSISTENT_HASH},
                 {"range", TL_VINDEX_RANGE}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(name, names[i].name) == 0) {
            *kind = names[i].kind;
            return 0;
        }
    sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
              "unrecognized vindex \"%s\"", name);
    tl_error_hint(&st->err, "Valid vindexes are hash, consistent_hash and "
                            "range.");
    return TL_EINVAL;
}

/* Split "a, b,c" at commas into unknown-typed values (spaces trimmed). */
static struct tl_value *
split_bounds(struct sql_stmt *st, const char *s, size_t *n_out)
{
    size_t n = 1;
    for (const char *p = s; *p; p++)
        n += *p == ',';
    struct tl_value *v = tl_arena_alloc(st->a, n * sizeof(*v));
    size_t i = 0;
    for (const char *p = s;; p++) {
        const char *e = strchr(p, ',');
        if (e == NULL)
            e = p + strlen(p);
        const char *q = e;
        while (p < q && (*p == ' ' || *p == '\t' || *p == '\n'))
            p++;
        while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\n'))
            q--;
        char *copy = tl_arena_strndup(st->a, p, (size_t)(q - p));
        v[i++] = tl_value_text(TL_TYPE_UNKNOWN, copy, (uint32_t)(q - p));
        if (*e == '\0')
            break;
        p = e;
    }
    *n_out = i;
    return v;
}

/* PARTITION BY RANGE: range i of the n+1 goes to shard i. The boundaries
 * are checked by building the map, then stored cast to the key's type. */
static int
set_range(struct sql_stmt *st, struct tl_table *t, const char *boundaries)
{
    const struct tl_column *key = &t->columns[t->shard_key];
    if (!tl_type_is_int(key->type) && !tl_type_is_text(key->type) &&
        !tl_type_is_datetime(key->type))
        return sql_error(st, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                         "PARTITION BY RANGE on a column of type %s is not "
                         "supported yet",
                         tl_type_name(key->type));
    if (boundaries == NULL) {
        sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                  "PARTITION BY RANGE needs WITH (boundaries = ...)");
        tl_error_hint(&st->err, "Give the strictly increasing values where "
                                "each range after the first starts, as in "
                                "WITH (boundaries = '100,200').");
        return TL_EINVAL;
    }
    size_t n;
    struct tl_value *b = split_bounds(st, boundaries, &n);
    uint32_t n_shards = st->r->cfg.n_shards;
    if (n + 1 > n_shards)
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                         "too many ranges: %zu ranges for %u shards", n + 1,
                         n_shards);
    uint32_t *shards = tl_arena_alloc(st->a, (n + 1) * sizeof(uint32_t));
    for (size_t i = 0; i <= n; i++)
        shards[i] = (uint32_t)i;
    struct tl_range_map *m;
    int rv = tl_range_map_create(key->type, b, n, shards, &m, &st->err);
    if (rv != 0)
        return rv;
    tl_range_map_destroy(m);
    struct tl_value *cast = tl_arena_alloc(st->a, n * sizeof(*cast));
    for (size_t i = 0; i < n && rv == 0; i++)
        rv = tl_value_cast(&b[i], key->type, -1, st->a, &cast[i], &st->err);
    if (rv != 0)
        return rv; /* the map accepted them: cannot happen */
    struct tl_buf row;
    tl_buf_init(&row);
    tl_row_encode(cast, n, 1, &row);
    t->range_bounds = tl_arena_alloc(st->a, row.len + 1);
    memcpy(t->range_bounds, row.data, row.len);
    t->range_bounds_len = row.len;
    tl_buf_close(&row);
    t->range_shards = shards;
    t->n_range_shards = (uint32_t)(n + 1);
    return 0;
}

static int
set_partitioning(struct sql_stmt *st, struct table_builder *b,
                 const PgQuery__PartitionSpec *ps,
                 const struct table_options *o)
{
    struct tl_table *t = b->t;
    bool range = strcasecmp(ps->strategy, "range") == 0;
    if (strcasecmp(ps->strategy, "hash") != 0 && !range) {
        char what[64];
        snprintf(what, sizeof(what), "PARTITION BY %s", ps->strategy);
        for (char *p = what; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        return sql_unsupported(st, tl_arena_strdup(st->a, what));
    }
    uint32_t kind = range ? TL_VINDEX_RANGE : TL_VINDEX_HASH;
    if (o->vindex != NULL) {
        int rv = vindex_by_name(st, o->vindex, &kind);
        if (rv != 0)
            return rv;
        if ((kind == TL_VINDEX_RANGE) != range)
            return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                             "vindex \"%s\" needs PARTITION BY %s", o->vindex,
                             range ? "HASH" : "RANGE");
    }
    if (!range && o->boundaries != NULL)
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                         "boundaries need PARTITION BY RANGE");
    if (ps->n_part_params != 1)
        return sql_unsupported(st, "partitioning by more than one column");
    const PgQuery__Node *pn = ps->part_params[0];
    const PgQuery__PartitionElem *pe =
        pn->node_case == PG_QUERY__NODE__NODE_PARTITION_ELEM
            ? pn->partition_elem
            : NULL;
    if (pe == NULL || pe->name == NULL || pe->name[0] == '\0')
        return sql_unsupported(st, "partitioning by an expression");
    int col = tl_table_find_column(t, pe->name);
    if (col < 0 || t->columns[col].hidden) {
        sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_COLUMN,
                  "column \"%s\" named in partition key does not exist",
                  pe->name);
        return sql_error_at(st, TL_ENOTFOUND, pe->location);
    }
    int rv = refuse_json_key(st, &t->columns[col], "shard key", pe->location);
    if (rv != 0)
        return rv;
    bool in_pk = !b->has_pk;
    for (uint32_t k = 0; k < t->n_pk; k++)
        in_pk = in_pk || t->pk[k] == (uint32_t)col;
    if (!in_pk) {
        sql_error(st, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                  "unique constraint on partitioned table must include all "
                  "partitioning columns");
        tl_error_detail(&st->err,
                        "PRIMARY KEY constraint on table \"%s\" lacks "
                        "column \"%s\" which is part of the partition key.",
                        t->name, pe->name);
        return TL_EUNSUPPORTED; /* PostgreSQL gives no position here */
    }
    t->shard_key = col;
    t->vindex = kind;
    if (kind == TL_VINDEX_CONSISTENT_HASH) {
        t->ring_vnodes = TL_RING_DEFAULT_VNODES;
        t->ring_shards = st->r->cfg.n_shards;
    }
    if (kind == TL_VINDEX_RANGE)
        return set_range(st, t, o->boundaries);
    return 0;
}

/* WITH options of a table without PARTITION BY. */
static int
check_unpartitioned(struct sql_stmt *st, struct tl_table *t,
                    const struct table_options *o)
{
    /* A reference table has no shard key: vindex options contradict it. */
    if (o->distribution != NULL &&
        strcasecmp(o->distribution, "reference") == 0 &&
        (o->vindex != NULL || o->boundaries != NULL))
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                         "WITH (distribution = '%s') conflicts with %s",
                         o->distribution,
                         o->vindex != NULL ? "vindex" : "boundaries");
    if (o->vindex != NULL) {
        uint32_t kind;
        int rv = vindex_by_name(st, o->vindex, &kind);
        if (rv != 0)
            return rv;
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                         "vindex \"%s\" needs PARTITION BY %s", o->vindex,
                         kind == TL_VINDEX_RANGE ? "RANGE" : "HASH");
    }
    if (o->boundaries != NULL)
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                         "boundaries need PARTITION BY RANGE");
    if (o->distribution == NULL)
        return 0;
    if (strcasecmp(o->distribution, "reference") != 0) {
        sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                  "unrecognized distribution \"%s\"", o->distribution);
        tl_error_hint(&st->err, "The only distribution is reference; "
                                "sharded tables use PARTITION BY.");
        return TL_EINVAL;
    }
    t->distribution = TL_DIST_REFERENCE;
    return 0;
}

/* Refuse the CREATE TABLE clauses Talus has no meaning for. */
static int
check_create_clauses(struct sql_stmt *st, const PgQuery__CreateStmt *cs)
{
    const PgQuery__RangeVar *rv = cs->relation;
    if (rv->relpersistence != NULL && rv->relpersistence[0] == 't')
        return sql_unsupported(st, "CREATE TEMPORARY TABLE");
    if (rv->relpersistence != NULL && rv->relpersistence[0] == 'u')
        sql_notice(st, TL_SQLSTATE_SUCCESSFUL_COMPLETION,
                   "UNLOGGED is ignored: Talus tables are always logged and "
                   "replicated");
    if (rv->schemaname != NULL && rv->schemaname[0] != '\0' &&
        strcmp(rv->schemaname, "public") != 0) {
        sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_INVALID_SCHEMA_NAME,
                  "schema \"%s\" does not exist", rv->schemaname);
        return sql_error_at(st, TL_ENOTFOUND, rv->location);
    }
    if (cs->n_inh_relations > 0)
        return sql_unsupported(st, "INHERITS");
    if (cs->partbound != NULL)
        return sql_unsupported(st, "CREATE TABLE ... PARTITION OF");
    if (cs->of_typename != NULL)
        return sql_unsupported(st, "CREATE TABLE ... OF type");
    if (cs->tablespacename != NULL && cs->tablespacename[0] != '\0')
        return sql_unsupported(st, "TABLESPACE");
    if (cs->access_method != NULL && cs->access_method[0] != '\0')
        return sql_unsupported(st, "USING access method");
    if (cs->oncommit > PG_QUERY__ON_COMMIT_ACTION__ONCOMMIT_NOOP)
        return sql_unsupported(st, "ON COMMIT");
    return 0;
}

/* What a vschema entry (shardctl vschema apply) stands in for: the
 * PARTITION BY and WITH (...) of a CREATE TABLE that has neither. */
struct vschema_clauses {
    PgQuery__PartitionSpec spec;
    PgQuery__Node node;
    PgQuery__Node *params[1];
    PgQuery__PartitionElem elem;
    struct table_options o;
    bool partitioned;
};

/* Turn entry @json of table @name into clauses in @vc (strings in the
 * statement's arena). The entry was validated by shardctl; a malformed
 * one is refused with 22023 rather than guessed at. */
static int
vschema_to_clauses(struct sql_stmt *st, const char *name, const char *json,
                   struct vschema_clauses *vc)
{
    json_t *e = json_loads(json, 0, NULL);
    const char *dist = json_string_value(json_object_get(e, "distribution"));
    const char *vindex = json_string_value(json_object_get(e, "vindex"));
    const char *column = json_string_value(json_object_get(e, "column"));
    json_t *b = json_object_get(e, "boundaries");
    int rv = 0;

    memset(vc, 0, sizeof(*vc));
    if (e == NULL) {
        rv = TL_EINVAL;
    } else if (dist != NULL && strcmp(dist, "reference") == 0) {
        vc->o.distribution = "reference";
    } else if (dist != NULL && strcmp(dist, "unsharded") == 0) {
        /* the default: nothing to add */
    } else if (vindex == NULL || column == NULL) {
        rv = TL_EINVAL;
    } else {
        bool range = strcmp(vindex, "range") == 0;
        vc->o.vindex = tl_arena_strdup(st->a, vindex);
        if (json_is_array(b)) {
            struct tl_buf s;
            size_t i;
            json_t *x;
            tl_buf_init(&s);
            json_array_foreach(b, i, x)
            {
                if (json_is_integer(x))
                    tl_buf_printf(&s, "%s%lld", i ? "," : "",
                                  (long long)json_integer_value(x));
                else
                    tl_buf_printf(&s, "%s%s", i ? "," : "",
                                  json_string_value(x) ? json_string_value(x)
                                                       : "");
            }
            vc->o.boundaries =
                tl_arena_strndup(st->a, (const char *)s.data, s.len);
            tl_buf_close(&s);
        }
        pg_query__partition_spec__init(&vc->spec);
        pg_query__node__init(&vc->node);
        pg_query__partition_elem__init(&vc->elem);
        vc->spec.strategy = range ? "range" : "hash";
        vc->elem.name = tl_arena_strdup(st->a, column);
        vc->elem.location = -1;
        vc->node.node_case = PG_QUERY__NODE__NODE_PARTITION_ELEM;
        vc->node.partition_elem = &vc->elem;
        vc->params[0] = &vc->node;
        vc->spec.n_part_params = 1;
        vc->spec.part_params = vc->params;
        vc->partitioned = true;
    }
    json_decref(e);
    if (rv != 0)
        return sql_error(st, rv, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                         "the vschema entry of table \"%s\" is malformed",
                         name);
    return 0;
}

/* CREATE TABLE @cs, its PARTITION BY and WITH taken from @vc when not
 * NULL. */
static int
build_table(struct sql_stmt *st, const PgQuery__CreateStmt *cs,
            const struct vschema_clauses *vc, struct tl_table **out,
            struct owned_seq **owned, size_t *n_owned)
{
    int rv = check_create_clauses(st, cs);
    if (rv != 0)
        return rv;
    struct table_builder b = {0};
    b.pk_location = -1;
    b.t = tl_arena_calloc(st->a, sizeof(*b.t));
    snprintf(b.t->name, sizeof(b.t->name), "%s", cs->relation->relname);
    b.t->shard_key = -1;
    b.t->vindex = TL_VINDEX_NONE;
    b.t->schema_version = 1;
    for (size_t i = 0; i < cs->n_table_elts && rv == 0; i++) {
        const PgQuery__Node *n = cs->table_elts[i];
        if (n->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF)
            rv = add_column(st, &b, n->column_def);
        else if (n->node_case == PG_QUERY__NODE__NODE_CONSTRAINT)
            rv = add_table_constraint(st, &b, n->constraint);
        else
            rv = sql_unsupported(st, "LIKE in CREATE TABLE");
    }
    for (size_t i = 0; i < cs->n_constraints && rv == 0; i++)
        rv = add_table_constraint(st, &b, cs->constraints[i]->constraint);
    if (rv == 0)
        rv = finish_pk(st, &b);
    struct table_options o;
    const PgQuery__PartitionSpec *partspec = cs->partspec;
    if (rv == 0)
        rv = parse_options(st, cs, &o);
    if (rv == 0 && vc != NULL) {
        o = vc->o;
        partspec = vc->partitioned ? &vc->spec : NULL;
    }
    if (rv == 0 && partspec != NULL && o.distribution != NULL) {
        /* A reference table is copied whole to every shard: it has no
         * shard key to partition by. */
        rv = sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                       "WITH (distribution = '%s') conflicts with PARTITION BY",
                       o.distribution);
        tl_error_hint(&st->err,
                      "A reference table has a copy on every shard; drop "
                      "PARTITION BY, or drop the distribution to shard it.");
    }
    if (rv == 0 && partspec != NULL)
        rv = set_partitioning(st, &b, partspec, &o);
    else if (rv == 0)
        rv = check_unpartitioned(st, b.t, &o);
    /* The vschema was checked without the table, so these errors (the
     * key not in the primary key, a boundary of the wrong type) are
     * found here; the hint says where the clauses came from. */
    if (rv != 0 && vc != NULL)
        tl_error_hint(&st->err,
                      "The table takes its distribution from its vschema "
                      "entry (shardctl vschema show); fix the entry, or "
                      "give CREATE TABLE its own PARTITION BY or WITH.");
    if (rv == 0) {
        *out = b.t;
        *owned = b.owned;
        *n_owned = b.n_owned;
    }
    return rv;
}

int
ddl_build_table(struct sql_stmt *st, const PgQuery__CreateStmt *cs,
                struct tl_table **out)
{
    struct owned_seq *owned;
    size_t n_owned;
    return build_table(st, cs, NULL, out, &owned, &n_owned);
}

bool
ddl_relation_exists(struct sql_stmt *st, const char *name)
{
    struct tl_table *t;
    struct tl_sequence seq;
    struct tl_error scratch;
    if (catalog_lookup(st->r->catalog, name, st->a, &t, NULL, &scratch) == 0 ||
        sequence_lookup(st->r, name, &seq, &scratch) == 0)
        return true;
    /* Indexes are relations too: secondary ones and primary keys'. */
    struct tl_table **all;
    size_t n;
    if (catalog_list(st->r->catalog, st->a, &all, &n, &scratch) != 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char pk[TL_NAME_MAX + 8];
        snprintf(pk, sizeof(pk), "%s_pkey", all[i]->name);
        if (tl_table_find_index(all[i], name) != NULL || strcmp(pk, name) == 0)
            return true;
    }
    return false;
}

void
ddl_choose_name(struct sql_stmt *st, const char *name1, const char *name2,
                const char *label, char *out)
{
    for (int n = 0; n < 1000; n++) {
        char suffix[24];
        if (n == 0)
            snprintf(suffix, sizeof(suffix), "%.8s", label);
        else
            snprintf(suffix, sizeof(suffix), "%.8s%d", label, n);
        size_t t = strlen(name1), c = strlen(name2);
        size_t room = TL_NAME_MAX - 1 - strlen(suffix) - 2;
        while (t + c > room) { /* makeObjectName(): the longer part first */
            if (t > c)
                t--;
            else
                c--;
        }
        char buf[3 * TL_NAME_MAX];
        snprintf(buf, sizeof(buf), "%.*s_%.*s_%s", (int)t, name1, (int)c, name2,
                 suffix);
        memcpy(out, buf, TL_NAME_MAX - 1);
        out[TL_NAME_MAX - 1] = '\0';
        if (!ddl_relation_exists(st, out))
            return;
    }
}

/* PostgreSQL's ChooseRelationName(): "<table>_<column>_seq", or with a
 * number after it when that is taken, the parts shortened to fit. */
static void
choose_seq_name(struct sql_stmt *st, const char *table, const char *column,
                char *out)
{
    ddl_choose_name(st, table, column, "seq", out);
}

/* The text of nextval('<name>'::regclass), the name quoted as an
 * identifier when it needs to be. */
static char *
nextval_text(struct sql_stmt *st, const char *name)
{
    bool plain = !(name[0] >= '0' && name[0] <= '9');
    for (const char *p = name; *p && plain; p++)
        plain =
            (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
    struct tl_buf b;
    tl_buf_init(&b);
    tl_buf_printf(&b, "nextval('%s", plain ? "" : "\"");
    for (const char *p = name; *p; p++) {
        if (*p == '\'')
            tl_buf_printf(&b, "''");
        else if (*p == '"')
            tl_buf_printf(&b, "\"\"");
        else
            tl_buf_printf(&b, "%c", *p);
    }
    tl_buf_printf(&b, "%s'::regclass)", plain ? "" : "\"");
    char *text = tl_arena_strndup(st->a, (const char *)b.data, b.len);
    tl_buf_close(&b);
    return text;
}

int
ddl_exec_create(struct sql_stmt *st, const PgQuery__CreateStmt *cs)
{
    const char *name = cs->relation->relname;
    /* Before the columns are looked at, as in PostgreSQL. */
    if (ddl_relation_exists(st, name)) {
        if (!cs->if_not_exists)
            return sql_error(st, TL_EEXISTS, TL_SQLSTATE_DUPLICATE_TABLE,
                             "relation \"%s\" already exists", name);
        sql_notice(st, TL_SQLSTATE_DUPLICATE_TABLE,
                   "relation \"%s\" already exists, skipping", name);
        dest_complete(st->dest, "CREATE TABLE");
        return 0;
    }
    /* A table without PARTITION BY or WITH of its own takes its vschema
     * entry, if any; explicit clauses win over the entry. */
    struct vschema_clauses vc;
    bool use_vschema = false;
    if (cs->partspec == NULL && cs->n_options == 0) {
        char *json;
        int r =
            catalog_vschema_entry(st->r->catalog, name, st->a, &json, &st->err);
        if (r != 0 && r != TL_ENOTFOUND)
            return r;
        if (r == 0) {
            r = vschema_to_clauses(st, name, json, &vc);
            if (r != 0)
                return r;
            use_vschema = true;
        }
    }
    struct tl_table *t;
    struct owned_seq *owned;
    size_t n_owned;
    int rv =
        build_table(st, cs, use_vschema ? &vc : NULL, &t, &owned, &n_owned);
    if (rv != 0)
        return rv;
    /* Tables and sequences share one namespace, as relations do. */
    struct tl_sequence same;
    struct tl_error scratch;
    if (sequence_lookup(st->r, name, &same, &scratch) == 0)
        rv = TL_EEXISTS;
    /* A serial or identity column's sequence is named now, so its
     * default can name it; it is created once the table exists. */
    struct tl_sequence *seqs =
        tl_arena_calloc(st->a, (n_owned + 1) * sizeof(*seqs));
    for (size_t i = 0; i < n_owned && rv == 0; i++) {
        seqs[i] = owned[i].seq;
        choose_seq_name(st, t->name, t->columns[owned[i].col].name,
                        seqs[i].name);
        for (size_t k = 0; k < i; k++)
            if (strcmp(seqs[k].name, seqs[i].name) == 0)
                snprintf(seqs[i].name, sizeof(seqs[i].name), "%.50s_seq%u",
                         t->name, (unsigned)(i % 10000));
        t->columns[owned[i].col].default_expr = nextval_text(st, seqs[i].name);
    }
    if (rv == 0)
        rv = catalog_create_table(st->r->catalog, t, &st->err);
    if (rv == TL_EEXISTS && cs->if_not_exists) {
        sql_notice(st, TL_SQLSTATE_DUPLICATE_TABLE,
                   "relation \"%s\" already exists, skipping", name);
    } else if (rv == TL_EEXISTS) {
        return sql_error(st, rv, TL_SQLSTATE_DUPLICATE_TABLE,
                         "relation \"%s\" already exists", name);
    } else if (rv != 0) {
        return rv;
    } else if (n_owned > 0) {
        rv = ddl_create_owned(st, seqs, n_owned, t->id);
        if (rv != 0) {
            /* No table whose default names a missing sequence. */
            struct tl_error scratch2;
            catalog_drop_table(st->r->catalog, name, &scratch2);
            return rv;
        }
    }
    dest_complete(st->dest, "CREATE TABLE");
    return 0;
}

/* The table name of one DROP object (a list of names); schema checked. */
static const char *
drop_name(struct sql_stmt *st, const PgQuery__Node *obj, bool *other_schema)
{
    *other_schema = false;
    if (obj->node_case != PG_QUERY__NODE__NODE_LIST || obj->list->n_items == 0)
        return NULL;
    const PgQuery__List *l = obj->list;
    if (l->n_items >= 2) {
        const char *schema = sql_node_str(l->items[l->n_items - 2]);
        *other_schema = schema == NULL || strcmp(schema, "public") != 0;
    }
    return sql_node_str(l->items[l->n_items - 1]);
}

int
ddl_exec_drop(struct sql_stmt *st, const PgQuery__DropStmt *ds)
{
    const char **names = tl_arena_calloc(st->a, ds->n_objects * sizeof(char *));
    uint32_t *ids = tl_arena_calloc(st->a, (ds->n_objects + 1) * sizeof(*ids));
    if (ds->concurrent)
        return sql_unsupported(st, "DROP TABLE CONCURRENTLY");
    /* Check every name first: PostgreSQL drops all or nothing. */
    for (size_t i = 0; i < ds->n_objects; i++) {
        bool other;
        const char *name = drop_name(st, ds->objects[i], &other);
        if (name == NULL)
            return sql_unsupported(st, "this DROP TABLE form");
        struct tl_table *t;
        int rv = other ? TL_ENOTFOUND
                       : catalog_lookup(st->r->catalog, name, st->a, &t, NULL,
                                        &st->err);
        if (rv == TL_ENOTFOUND && ds->missing_ok) {
            sql_notice(st, TL_SQLSTATE_SUCCESSFUL_COMPLETION,
                       "table \"%s\" does not exist, skipping", name);
            continue;
        }
        if (rv == TL_ENOTFOUND)
            return sql_error(st, rv, TL_SQLSTATE_UNDEFINED_TABLE,
                             "table \"%s\" does not exist", name);
        if (rv != 0)
            return rv;
        names[i] = name;
        ids[i] = t->id;
    }
    for (size_t i = 0; i < ds->n_objects; i++) {
        if (names[i] == NULL)
            continue;
        int rv = catalog_drop_table(st->r->catalog, names[i], &st->err);
        if (rv == TL_ENOTFOUND && !ds->missing_ok)
            return sql_error(st, rv, TL_SQLSTATE_UNDEFINED_TABLE,
                             "table \"%s\" does not exist", names[i]);
        if (rv != 0 && rv != TL_ENOTFOUND)
            return rv;
        /* The sequences of its serial and identity columns go with it. */
        struct tl_sequence *owned;
        size_t n_owned;
        rv = sequence_list_owned(st->r, ids[i], st->a, &owned, &n_owned,
                                 &st->err);
        for (size_t k = 0; k < n_owned && rv == 0; k++) {
            rv = sequence_drop(st->r, owned[k].name, &st->err);
            if (rv == TL_ENOTFOUND)
                rv = 0;
        }
        if (rv != 0)
            return rv;
    }
    dest_complete(st->dest, "DROP TABLE");
    return 0;
}

int
ddl_exec_drop_sequence(struct sql_stmt *st, const PgQuery__DropStmt *ds)
{
    const char **names = tl_arena_calloc(st->a, ds->n_objects * sizeof(char *));
    /* Check every name first: PostgreSQL drops all or nothing. */
    for (size_t i = 0; i < ds->n_objects; i++) {
        bool other;
        const char *name = drop_name(st, ds->objects[i], &other);
        if (name == NULL)
            return sql_unsupported(st, "this DROP SEQUENCE form");
        struct tl_sequence seq;
        int rv =
            other ? TL_ENOTFOUND : sequence_lookup(st->r, name, &seq, &st->err);
        if (rv == TL_ENOTFOUND && ds->missing_ok) {
            sql_notice(st, TL_SQLSTATE_SUCCESSFUL_COMPLETION,
                       "sequence \"%s\" does not exist, skipping", name);
            continue;
        }
        if (rv == TL_ENOTFOUND)
            return sql_error(st, rv, TL_SQLSTATE_UNDEFINED_TABLE,
                             "sequence \"%s\" does not exist", name);
        if (rv != 0)
            return rv;
        char table[TL_NAME_MAX];
        bool owned = false;
        if (seq.owner_table != 0) {
            /* The owner may be newer than this router's cache. */
            owned = catalog_has_id(st->r->catalog, seq.owner_table, table,
                                   sizeof(table));
            if (!owned && catalog_refresh(st->r->catalog, 0, &st->err) == 0)
                owned = catalog_has_id(st->r->catalog, seq.owner_table, table,
                                       sizeof(table));
            tl_error_clear(&st->err);
        }
        if (owned && ds->behavior != PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE) {
            sql_error(st, TL_EINVAL, TL_SQLSTATE_DEPENDENT_OBJECTS_STILL_EXIST,
                      "cannot drop sequence %s because other objects depend "
                      "on it",
                      name);
            tl_error_detail(&st->err,
                            "default value for column %s of table %s "
                            "depends on sequence %s",
                            seq.owner_column, table, name);
            tl_error_hint(&st->err, "Use DROP ... CASCADE to drop the "
                                    "dependent objects too.");
            return TL_EINVAL;
        }
        if (owned && ds->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE)
            return sql_unsupported(st, "DROP SEQUENCE ... CASCADE of a "
                                       "sequence a column uses");
        names[i] = name;
    }
    for (size_t i = 0; i < ds->n_objects; i++) {
        if (names[i] == NULL)
            continue;
        int rv = sequence_drop(st->r, names[i], &st->err);
        if (rv == TL_ENOTFOUND && !ds->missing_ok)
            return sql_error(st, rv, TL_SQLSTATE_UNDEFINED_TABLE,
                             "sequence \"%s\" does not exist", names[i]);
        if (rv != 0 && rv != TL_ENOTFOUND)
            return rv;
    }
    dest_complete(st->dest, "DROP SEQUENCE");
    return 0;
}
