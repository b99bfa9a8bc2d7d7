/* ddl_seq — CREATE SEQUENCE, sequence options, and the sequences serial
 * and identity columns own. DROP SEQUENCE is in ddl.c, beside DROP
 * TABLE. Options are checked in the order and with the messages of
 * PostgreSQL's init_params() (src/backend/commands/sequence.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "router/core/catalog.h"
#include "router/core/sequences.h"
#include "router/sql/sql_int.h"

static const char *
int_type_name(uint8_t type)
{
    switch (type) {
    case TL_TYPE_INT2:
        return "smallint";
    case TL_TYPE_INT4:
        return "integer";
    default:
        return "bigint";
    }
}

/* The integer value of option @d (Integer, or Float for values past
 * int32); 22023 when it has none. */
static int
option_int64(struct sql_stmt *st, const PgQuery__DefElem *d, int64_t *out)
{
    const PgQuery__Node *a = d->arg;
    if (a != NULL && a->node_case == PG_QUERY__NODE__NODE_INTEGER) {
        *out = a->integer->ival;
        return 0;
    }
    if (a != NULL && a->node_case == PG_QUERY__NODE__NODE_FLOAT) {
        char *end;
        errno = 0;
        long long v = strtoll(a->float_->fval, &end, 10);
        if (errno == 0 && *end == '\0') {
            *out = v;
            return 0;
        }
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                         "invalid input syntax for type bigint: \"%s\"",
                         a->float_->fval);
    }
    return sql_error(st, TL_EINVAL, TL_SQLSTATE_SYNTAX_ERROR,
                     "%s requires a numeric value", d->defname);
}

/* The options as given: NULL where absent. */
struct seq_opts {
    const PgQuery__DefElem *as, *increment, *minvalue, *maxvalue, *start,
        *cache, *cycle;
};

static int
collect_options(struct sql_stmt *st, PgQuery__Node **opts, size_t n_opts,
                struct seq_opts *o)
{
    memset(o, 0, sizeof(*o));
    for (size_t i = 0; i < n_opts; i++) {
        if (opts[i]->node_case != PG_QUERY__NODE__NODE_DEF_ELEM)
            return sql_unsupported(st, "this sequence option");
        const PgQuery__DefElem *d = opts[i]->def_elem;
        const PgQuery__DefElem **slot = NULL;
        if (strcmp(d->defname, "as") == 0)
            slot = &o->as;
        else if (strcmp(d->defname, "increment") == 0)
            slot = &o->increment;
        else if (strcmp(d->defname, "minvalue") == 0)
            slot = &o->minvalue;
        else if (strcmp(d->defname, "maxvalue") == 0)
            slot = &o->maxvalue;
        else if (strcmp(d->defname, "start") == 0)
            slot = &o->start;
        else if (strcmp(d->defname, "cache") == 0)
            slot = &o->cache;
        else if (strcmp(d->defname, "cycle") == 0)
            slot = &o->cycle;
        if (slot == NULL) {
            sql_unsupported(st, tl_arena_printf(st->a, "sequence option \"%s\"",
                                                d->defname));
            return sql_error_at(st, TL_EUNSUPPORTED, d->location);
        }
        if (*slot != NULL) {
            sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                      "conflicting or redundant options");
            return sql_error_at(st, TL_ESYNTAX, d->location);
        }
        *slot = d;
    }
    return 0;
}

/* MINVALUE or MAXVALUE @d (NULL or NO ...: *@set false). */
static int
bound_option(struct sql_stmt *st, const PgQuery__DefElem *d, int64_t *v,
             bool *set)
{
    *set = d != NULL && d->arg != NULL;
    return *set ? option_int64(st, d, v) : 0;
}

int
ddl_sequence_options(struct sql_stmt *st, PgQuery__Node **opts, size_t n_opts,
                     uint8_t type, bool for_identity, struct tl_sequence *seq)
{
    struct seq_opts o;
    int rv = collect_options(st, opts, n_opts, &o);
    if (rv != 0)
        return rv;
    seq->type = type != 0 ? type : TL_TYPE_INT8;
    if (o.as != NULL) {
        uint8_t t = 0;
        int32_t typmod;
        if (o.as->arg == NULL ||
            o.as->arg->node_case != PG_QUERY__NODE__NODE_TYPE_NAME)
            return sql_unsupported(st, "this AS clause");
        rv = bind_type_name(st, o.as->arg->type_name, &t, &typmod);
        if (rv != 0 ||
            (t != TL_TYPE_INT2 && t != TL_TYPE_INT4 && t != TL_TYPE_INT8)) {
            tl_error_clear(&st->err);
            return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                             for_identity ? "identity column type must be "
                                            "smallint, integer, or bigint"
                                          : "sequence type must be "
                                            "smallint, integer, or bigint");
        }
        seq->type = t;
    }
    int64_t lo, hi;
    tl_sequence_type_range(seq->type, &lo, &hi);
    seq->increment = 1;
    if (o.increment != NULL) {
        rv = option_int64(st, o.increment, &seq->increment);
        if (rv != 0)
            return rv;
        if (seq->increment == 0)
            return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                             "INCREMENT must not be zero");
    }
    seq->cycle = false;
    if (o.cycle != NULL)
        seq->cycle = o.cycle->arg != NULL &&
                     o.cycle->arg->node_case == PG_QUERY__NODE__NODE_BOOLEAN &&
                     o.cycle->arg->boolean->boolval;
    bool set;
    rv = bound_option(st, o.maxvalue, &seq->max_value, &set);
    if (rv != 0)
        return rv;
    if (!set)
        seq->max_value = seq->increment > 0 ? hi : -1;
    if (seq->max_value < lo || seq->max_value > hi)
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                         "MAXVALUE (%lld) is out of range for sequence data "
                         "type %s",
                         (long long)seq->max_value, int_type_name(seq->type));
    rv = bound_option(st, o.minvalue, &seq->min_value, &set);
    if (rv != 0)
        return rv;
    if (!set)
        seq->min_value = seq->increment > 0 ? 1 : lo;
    if (seq->min_value < lo || seq->min_value > hi)
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                         "MINVALUE (%lld) is out of range for sequence data "
                         "type %s",
                         (long long)seq->min_value, int_type_name(seq->type));
    if (seq->min_value >= seq->max_value)
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                         "MINVALUE (%lld) must be less than MAXVALUE (%lld)",
                         (long long)seq->min_value, (long long)seq->max_value);
    if (o.start != NULL) {
        rv = option_int64(st, o.start, &seq->start);
        if (rv != 0)
            return rv;
    } else {
        seq->start = seq->increment > 0 ? seq->min_value : seq->max_value;
    }
    if (seq->start < seq->min_value)
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                         "START value (%lld) cannot be less than MINVALUE "
                         "(%lld)",
                         (long long)seq->start, (long long)seq->min_value);
    if (seq->start > seq->max_value)
        return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                         "START value (%lld) cannot be greater than MAXVALUE "
                         "(%lld)",
                         (long long)seq->start, (long long)seq->max_value);
    seq->cache = 1;
    if (o.cache != NULL) {
        rv = option_int64(st, o.cache, &seq->cache);
        if (rv != 0)
            return rv;
        if (seq->cache <= 0)
            return sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                             "CACHE (%lld) must be greater than zero",
                             (long long)seq->cache);
    }
    return 0;
}

int
ddl_exec_create_sequence(struct sql_stmt *st, const PgQuery__CreateSeqStmt *cs)
{
    const PgQuery__RangeVar *rv = cs->sequence;
    if (rv->relpersistence != NULL && rv->relpersistence[0] == 't')
        return sql_unsupported(st, "CREATE TEMPORARY SEQUENCE");
    if (rv->schemaname != NULL && rv->schemaname[0] != '\0' &&
        strcmp(rv->schemaname, "public") != 0) {
        sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_INVALID_SCHEMA_NAME,
                  "schema \"%s\" does not exist", rv->schemaname);
        return sql_error_at(st, TL_ENOTFOUND, rv->location);
    }
    const char *name = rv->relname;
    if (strlen(name) >= TL_NAME_MAX)
        return sql_unsupported(st, "a sequence name of 64 bytes or more");
    struct tl_sequence seq;
    memset(&seq, 0, sizeof(seq));
    snprintf(seq.name, sizeof(seq.name), "%s", name);
    int r =
        ddl_sequence_options(st, cs->options, cs->n_options, 0, false, &seq);
    if (r != 0)
        return r;
    struct tl_table *t;
    struct tl_error scratch;
    r = catalog_lookup(st->r->catalog, name, st->a, &t, NULL, &scratch) == 0
            ? TL_EEXISTS
            : sequence_create(st->r, &seq, &st->err);
    if (r == TL_EEXISTS && cs->if_not_exists) {
        sql_notice(st, TL_SQLSTATE_DUPLICATE_TABLE,
                   "relation \"%s\" already exists, skipping", name);
    } else if (r == TL_EEXISTS) {
        return sql_error(st, r, TL_SQLSTATE_DUPLICATE_TABLE,
                         "relation \"%s\" already exists", name);
    } else if (r != 0) {
        return r;
    }
    dest_complete(st->dest, "CREATE SEQUENCE");
    return 0;
}

int
ddl_create_owned(struct sql_stmt *st, struct tl_sequence *seqs, size_t n,
                 uint32_t table_id)
{
    for (size_t i = 0; i < n; i++) {
        seqs[i].owner_table = table_id;
        int rv = sequence_create(st->r, &seqs[i], &st->err);
        if (rv == TL_EEXISTS)
            rv = sql_error(st, rv, TL_SQLSTATE_DUPLICATE_TABLE,
                           "relation \"%s\" already exists", seqs[i].name);
        if (rv != 0) {
            struct tl_error scratch;
            for (size_t k = 0; k < i; k++)
                sequence_drop(st->r, seqs[k].name, &scratch);
            return rv;
        }
    }
    return 0;
}
