/* bind — turn libpg_query expression trees into typed tl_expr trees.
 *
 * Types follow PostgreSQL's resolution for the types Talus has: integer
 * arithmetic takes the wider operand width, any float8 operand makes the
 * result float8, quoted literals (type unknown) take the type of the other
 * operand (and are converted at once, so bad input fails at bind time with
 * 22P02 as in PostgreSQL), comparisons need comparable families. Constant
 * subtrees are evaluated here, so nodes only see columns and constants. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "interval.h"
#include "json.h"
#include "numeric.h"
#include "router/sql/sql_int.h"
#include "scalar.h"

static const char *const aggregates[] = {"count", "sum", "min",
                                         "max",   "avg", NULL};

static int bind_node(struct sql_stmt *st, const struct bind_scope *sc,
                     const PgQuery__Node *n, struct tl_expr **out);

/* Where @n starts in the query (0-based), or -1: errors about a literal
 * point at the literal, as PostgreSQL's do. */
static int
node_loc(const PgQuery__Node *n)
{
    if (n == NULL)
        return -1;
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_A_CONST:
        return n->a_const->location;
    case PG_QUERY__NODE__NODE_TYPE_CAST:
        return n->type_cast->location;
    case PG_QUERY__NODE__NODE_COLUMN_REF:
        return n->column_ref->location;
    case PG_QUERY__NODE__NODE_A_EXPR:
        return n->a_expr->location;
    default:
        return -1;
    }
}

int
bind_node_location(const PgQuery__Node *n)
{
    return node_loc(n);
}

static const char *
type_label(uint8_t t)
{
    return t == TL_TYPE_UNKNOWN ? "unknown" : tl_type_name(t);
}

const char *
bind_type_display(struct sql_stmt *st, uint8_t type, int32_t typmod)
{
    if ((type == TL_TYPE_VARCHAR || type == TL_TYPE_BPCHAR) && typmod >= 0)
        return tl_arena_printf(st->a, "%s(%d)", tl_type_name(type), typmod);
    if (type == TL_TYPE_NUMERIC && typmod >= 0) {
        int32_t precision, scale;
        tl_numeric_typmod_split(typmod, &precision, &scale);
        return tl_arena_printf(st->a, "numeric(%d,%d)", (int)precision,
                               (int)scale);
    }
    if (type == TL_TYPE_INTERVAL && typmod >= 0) {
        struct tl_buf b;
        tl_buf_init(&b);
        tl_interval_typmod_format(typmod, &b);
        const char *s = tl_arena_printf(st->a, "interval%.*s", (int)b.len,
                                        b.data ? (const char *)b.data : "");
        tl_buf_close(&b);
        return s;
    }
    return type_label(type);
}

/* A column or cast type as PostgreSQL's messages name it
 * (format_type_be): numeric without its precision and scale. */
static const char *
message_type(struct sql_stmt *st, uint8_t type, int32_t typmod)
{
    return bind_type_display(st, type, type == TL_TYPE_NUMERIC ? -1 : typmod);
}

bool
bind_is_aggregate(const PgQuery__Node *n)
{
    if (n == NULL || n->node_case != PG_QUERY__NODE__NODE_FUNC_CALL)
        return false;
    const PgQuery__FuncCall *f = n->func_call;
    if (f->n_funcname == 0)
        return false;
    const char *name = sql_node_str(f->funcname[f->n_funcname - 1]);
    for (int i = 0; name != NULL && aggregates[i] != NULL; i++)
        if (strcmp(name, aggregates[i]) == 0)
            return true;
    return false;
}

/* Evaluate @e now if all its arguments are constants. */
static int
fold(struct sql_stmt *st, struct tl_expr **e)
{
    struct tl_expr *x = *e;
    if (x->kind == TL_EXPR_CONST || x->kind == TL_EXPR_COLUMN ||
        x->kind == TL_EXPR_EXT)
        return 0;
    for (uint32_t i = 0; i < x->n_args; i++)
        if (x->args[i]->kind != TL_EXPR_CONST)
            return 0;
    struct tl_value v;
    int rv = tl_expr_eval(x, NULL, 0, st->a, &v, &st->err);
    if (rv != 0)
        return rv;
    if (v.is_null)
        v.type = x->type;
    struct tl_expr *c = tl_expr_const(st->a, &v);
    c->type = x->type;
    *e = c;
    return 0;
}

/* Remember that the constant @e stands for parameter @index, of unknown
 * type so far. */
static int
note_param_ref(struct sql_stmt *st, const struct tl_expr *e, uint32_t index)
{
    if (st->n_param_refs == st->cap_param_refs) {
        size_t cap = st->cap_param_refs ? 2 * st->cap_param_refs : 8;
        struct sql_param_ref *v = tl_arena_alloc(st->a, cap * sizeof(*v));
        if (st->n_param_refs > 0)
            memcpy(v, st->param_refs, st->n_param_refs * sizeof(*v));
        st->param_refs = v;
        st->cap_param_refs = cap;
    }
    st->param_refs[st->n_param_refs].e = e;
    st->param_refs[st->n_param_refs].index = index;
    st->n_param_refs++;
    return 0;
}

/* The constant @e of unknown type becomes @type: a parameter it stands for
 * takes that type (PostgreSQL's variable_coerce_param_hook). */
static void
infer_param_type(struct sql_stmt *st, const struct tl_expr *e, uint8_t type)
{
    for (size_t i = 0; i < st->n_param_refs; i++)
        if (st->param_refs[i].e == e &&
            st->params->types[st->param_refs[i].index] == TL_TYPE_UNKNOWN)
            st->params->types[st->param_refs[i].index] = type;
}

/* A parameter node of a generic plan evaluated while binding: the plan
 * depends on the value (sql_params.fixed). The value is a NULL. */
static int
eval_param_node(const struct tl_expr *e, const struct tl_value *row,
                size_t n_cols, struct tl_arena *a, struct tl_value *out,
                struct tl_error *err)
{
    (void)row, (void)n_cols, (void)a, (void)err;
    ((struct sql_params *)e->ext)->fixed = true;
    *out = tl_value_null(e->type);
    return 0;
}

/* $n of a generic plan: a node its runs give the value. */
static int
bind_param_node(struct sql_stmt *st, uint32_t i, struct tl_expr **out)
{
    struct sql_params *p = st->params;
    if (p->n_nodes == p->cap_nodes) {
        size_t cap = p->cap_nodes ? 2 * p->cap_nodes : 8;
        struct sql_param_node *v = tl_arena_alloc(st->a, cap * sizeof(*v));
        if (p->n_nodes > 0)
            memcpy(v, p->nodes, p->n_nodes * sizeof(*v));
        p->nodes = v;
        p->cap_nodes = cap;
    }
    *out = tl_expr_ext(st->a, p->types[i], eval_param_node, p, NULL, 0);
    p->nodes[p->n_nodes].e = *out;
    p->nodes[p->n_nodes].index = i;
    p->n_nodes++;
    return 0;
}

/* Binding gave something a value now (a function run once per
 * statement): a generic plan cannot hold it. */
static void
note_fixed(struct sql_stmt *st)
{
    if (st->params != NULL)
        st->params->fixed = true;
}

/* $n: its value as a constant (a NULL of its type while describing). A
 * value of unknown type is text, bound like a quoted literal, and the
 * type it is coerced to becomes the parameter's type. */
static int
bind_param(struct sql_stmt *st, const PgQuery__ParamRef *pr,
           struct tl_expr **out)
{
    int number = pr->number;
    if (st->params == NULL || number < 1 || (size_t)number > st->params->n) {
        sql_error(st, TL_EINVAL, TL_SQLSTATE_UNDEFINED_PARAMETER,
                  "there is no parameter $%d", number);
        return sql_error_at(st, TL_EINVAL, pr->location);
    }
    uint32_t i = (uint32_t)number - 1;
    uint8_t type = st->params->types[i];
    if (st->params->used != NULL)
        st->params->used[i] = true;
    if (st->params->generic)
        return bind_param_node(st, i, out);
    struct tl_value v = st->params->values != NULL ? st->params->values[i]
                                                   : tl_value_null(type);
    if (v.is_null)
        v.type = type;
    *out = tl_expr_const(st->a, &v);
    (*out)->type = v.type;
    if (v.type == TL_TYPE_UNKNOWN)
        return note_param_ref(st, *out, i);
    return 0;
}

/* Convert the constant @e to @type now, as an explicit cast when
 * @explicit (a too-long varchar/char value is cut, not refused). */
static int
coerce_const_as(struct sql_stmt *st, struct tl_expr **e, uint8_t type,
                int32_t typmod, bool explicit, int location)
{
    struct tl_value v;
    if ((*e)->type == TL_TYPE_UNKNOWN && st->n_param_refs > 0)
        infer_param_type(st, *e, type);
    if ((*e)->type == TL_TYPE_UNKNOWN && type == TL_TYPE_NUMERIC &&
        typmod >= 0) {
        /* PostgreSQL reads the literal as numeric first (an input error
         * points at it), then applies numeric(p,s) as a separate
         * coercion, whose overflow has no position. */
        int rv = coerce_const_as(st, e, type, -1, explicit, location);
        if (rv != 0)
            return rv;
    }
    int rv = explicit ? tl_value_cast_explicit(&(*e)->value, type, typmod,
                                               st->a, &v, &st->err)
                      : tl_value_cast(&(*e)->value, type, typmod, st->a, &v,
                                      &st->err);
    /* PostgreSQL points at a quoted literal its input function rejects;
     * a typed constant failing a cast fails later, without a position,
     * and so does a length check (a separate coercion after input). */
    if (rv != 0 && (*e)->type == TL_TYPE_UNKNOWN && rv != TL_ETOOLONG)
        return sql_error_at(st, rv, location);
    if (rv != 0)
        return rv;
    if (v.is_null)
        v.type = type;
    *e = tl_expr_const(st->a, &v);
    (*e)->type = type;
    return 0;
}

int
bind_coerce_unknown(struct sql_stmt *st, struct tl_expr **e, uint8_t type,
                    int32_t typmod, int location)
{
    if ((*e)->kind != TL_EXPR_CONST || (*e)->type != TL_TYPE_UNKNOWN)
        return 0;
    return coerce_const_as(st, e, type, typmod, false, location);
}

/* Convert the unknown-typed constant @e to @type now. */
static int
coerce_const(struct sql_stmt *st, struct tl_expr **e, uint8_t type,
             int32_t typmod, int location)
{
    return coerce_const_as(st, e, type, typmod, false, location);
}

static struct tl_expr *
wrap_cast(struct sql_stmt *st, struct tl_expr *e, uint8_t type, int32_t typmod)
{
    struct tl_expr *c = tl_expr_node(st->a, TL_EXPR_CAST, type, &e, 1);
    c->typmod = typmod;
    return c;
}

static int
no_operator(struct sql_stmt *st, const char *op, const struct tl_expr *l,
            const struct tl_expr *r, int location)
{
    if (l == NULL)
        sql_error(st, TL_ETYPE, TL_SQLSTATE_UNDEFINED_FUNCTION,
                  "operator does not exist: %s %s", op, type_label(r->type));
    else
        sql_error(st, TL_ETYPE, TL_SQLSTATE_UNDEFINED_FUNCTION,
                  "operator does not exist: %s %s %s", type_label(l->type), op,
                  type_label(r->type));
    tl_error_hint(&st->err, "No operator matches the given name and argument "
                            "types. You might need to add explicit type "
                            "casts.");
    return sql_error_at(st, TL_ETYPE, location);
}

/* The type an unknown literal compared with a value of @other takes: text
 * for varchar (so no length check applies), unlimited bpchar for
 * character(n), so that trailing spaces do not count on either side, as
 * PostgreSQL resolves bpchar = unknown. */
static uint8_t
literal_type(uint8_t other)
{
    if (other == TL_TYPE_BPCHAR)
        return TL_TYPE_BPCHAR;
    return tl_type_is_text(other) ? TL_TYPE_TEXT : other;
}

/* Give two comparison operands one family: unknown literals take the
 * other side's type (text for varchar, so no length check applies). */
static int
unify(struct sql_stmt *st, const char *op, struct tl_expr **l,
      struct tl_expr **r, const int loc[3])
{
    uint8_t lt = (*l)->type, rt = (*r)->type;
    int location = loc[0];
    /* json has no comparison operators: checked before an unknown literal
     * takes its type, as PostgreSQL names it "unknown". */
    if ((lt == TL_TYPE_JSON && (rt == TL_TYPE_UNKNOWN || rt == TL_TYPE_JSON)) ||
        (rt == TL_TYPE_JSON && lt == TL_TYPE_UNKNOWN))
        return no_operator(st, op, *l, *r, location);
    int lloc = loc[1] >= 0 ? loc[1] : location;
    int rloc = loc[2] >= 0 ? loc[2] : location;
    int rv = 0;
    if (lt == TL_TYPE_UNKNOWN && rt == TL_TYPE_UNKNOWN) {
        rv = coerce_const(st, l, TL_TYPE_TEXT, -1, lloc);
        if (rv == 0)
            rv = coerce_const(st, r, TL_TYPE_TEXT, -1, rloc);
        return rv;
    }
    if (lt == TL_TYPE_UNKNOWN)
        return coerce_const(st, l, literal_type(rt), -1, lloc);
    if (rt == TL_TYPE_UNKNOWN)
        return coerce_const(st, r, literal_type(lt), -1, rloc);
    if (!tl_type_comparable(lt, rt))
        return no_operator(st, op, *l, *r, location);
    /* A numeric constant against a float operand becomes float8, as
     * PostgreSQL casts numeric to float8 there. */
    if (tl_type_is_float(lt) && rt == TL_TYPE_NUMERIC &&
        (*r)->kind == TL_EXPR_CONST)
        return coerce_const(st, r, TL_TYPE_FLOAT8, -1, rloc);
    if (tl_type_is_float(rt) && lt == TL_TYPE_NUMERIC &&
        (*l)->kind == TL_EXPR_CONST)
        return coerce_const(st, l, TL_TYPE_FLOAT8, -1, lloc);
    /* An integer constant against a float8 operand becomes float8, so a
     * float key column can still be routed on. */
    if (lt == TL_TYPE_FLOAT8 && tl_type_is_int(rt) &&
        (*r)->kind == TL_EXPR_CONST)
        return coerce_const(st, r, TL_TYPE_FLOAT8, -1, rloc);
    if (rt == TL_TYPE_FLOAT8 && tl_type_is_int(lt) &&
        (*l)->kind == TL_EXPR_CONST)
        return coerce_const(st, l, TL_TYPE_FLOAT8, -1, lloc);
    return 0;
}

static int
bind_compare(struct sql_stmt *st, uint8_t op, const char *opname,
             struct tl_expr *l, struct tl_expr *r, const int loc[3],
             struct tl_expr **out)
{
    int rv = unify(st, opname, &l, &r, loc);
    if (rv != 0)
        return rv;
    /* json has no comparison operators; jsonb has PostgreSQL's order
     * (tl_json_cmp). */
    if (l->type == TL_TYPE_JSON || r->type == TL_TYPE_JSON)
        return no_operator(st, opname, l, r, loc[0]);
    *out = tl_expr_op(st->a, op, TL_TYPE_BOOL, l, r);
    return fold(st, out);
}

static uint8_t
int_wider(uint8_t a, uint8_t b)
{
    return a > b ? a : b; /* INT2 < INT4 < INT8 in enum tl_type */
}

static bool
is_temporal(uint8_t t)
{
    return tl_type_is_datetime(t) || t == TL_TYPE_INTERVAL;
}

/* The type an unknown literal takes beside @known (a date/time type or
 * interval) under @op, as PostgreSQL's operator resolution picks it; 0
 * when PostgreSQL finds the choice ambiguous (date + unknown). */
static uint8_t
temporal_literal_type(uint8_t op, uint8_t known, bool literal_left)
{
    if (known == TL_TYPE_INTERVAL)
        return (op == TL_OP_MUL || (op == TL_OP_DIV && !literal_left))
                   ? TL_TYPE_FLOAT8
                   : TL_TYPE_INTERVAL;
    if (op == TL_OP_ADD)
        return known == TL_TYPE_DATE ? 0 : TL_TYPE_INTERVAL;
    return known;
}

/* Arithmetic with dates, timestamps and intervals (PostgreSQL's
 * timestamp_pl_interval, timestamp_mi, interval_mul, date_pli, ...): the
 * result type, or no operator. */
static int
bind_temporal_arith(struct sql_stmt *st, uint8_t op, const char *opname,
                    struct tl_expr *l, struct tl_expr *r, int location,
                    const int side_loc[2], struct tl_expr **out)
{
    int rv = 0;
    if (l->type == TL_TYPE_UNKNOWN || r->type == TL_TYPE_UNKNOWN) {
        bool left = l->type == TL_TYPE_UNKNOWN;
        uint8_t want =
            temporal_literal_type(op, left ? r->type : l->type, left);
        if (want == 0) {
            sql_error(st, TL_ETYPE, TL_SQLSTATE_AMBIGUOUS_FUNCTION,
                      "operator is not unique: %s %s %s", type_label(l->type),
                      opname, type_label(r->type));
            tl_error_hint(&st->err, "Could not choose a best candidate "
                                    "operator. You might need to add "
                                    "explicit type casts.");
            return sql_error_at(st, TL_ETYPE, location);
        }
        int loc = side_loc[left ? 0 : 1];
        rv = coerce_const(st, left ? &l : &r, want, -1,
                          loc >= 0 ? loc : location);
        if (rv != 0)
            return rv;
    }
    uint8_t lt = l->type, rt = r->type, type = 0;
    bool ldt = tl_type_is_datetime(lt), rdt = tl_type_is_datetime(rt);
    bool liv = lt == TL_TYPE_INTERVAL, riv = rt == TL_TYPE_INTERVAL;
    switch (op) {
    case TL_OP_ADD:
        if ((ldt && riv) || (liv && rdt)) {
            uint8_t d = ldt ? lt : rt;
            type = d == TL_TYPE_DATE ? TL_TYPE_TIMESTAMP : d;
        } else if (liv && riv) {
            type = TL_TYPE_INTERVAL;
        } else if ((lt == TL_TYPE_DATE && tl_type_is_int(rt)) ||
                   (tl_type_is_int(lt) && rt == TL_TYPE_DATE)) {
            type = TL_TYPE_DATE;
        }
        break;
    case TL_OP_SUB:
        if (ldt && riv)
            type = lt == TL_TYPE_DATE ? TL_TYPE_TIMESTAMP : lt;
        else if (liv && riv)
            type = TL_TYPE_INTERVAL;
        else if (lt == TL_TYPE_DATE && tl_type_is_int(rt))
            type = TL_TYPE_DATE;
        else if (lt == TL_TYPE_DATE && rt == TL_TYPE_DATE)
            type = TL_TYPE_INT4;
        else if (ldt && rdt)
            type = TL_TYPE_INTERVAL;
        break;
    case TL_OP_MUL:
        if ((liv && tl_type_is_numeric(rt)) || (tl_type_is_numeric(lt) && riv))
            type = TL_TYPE_INTERVAL;
        break;
    case TL_OP_DIV:
        if (liv && tl_type_is_numeric(rt))
            type = TL_TYPE_INTERVAL;
        break;
    default:
        break;
    }
    if (type == 0)
        return no_operator(st, opname, l, r, location);
    *out = tl_expr_op(st->a, op, type, l, r);
    return fold(st, out);
}

static int
bind_arith(struct sql_stmt *st, uint8_t op, const char *opname,
           struct tl_expr *l, struct tl_expr *r, int location,
           const int side_loc[2], struct tl_expr **out)
{
    int rv = 0;
    if (is_temporal(l->type) || is_temporal(r->type))
        return bind_temporal_arith(st, op, opname, l, r, location, side_loc,
                                   out);
    if (l->type == TL_TYPE_UNKNOWN && r->type == TL_TYPE_UNKNOWN) {
        sql_error(st, TL_ETYPE, TL_SQLSTATE_AMBIGUOUS_FUNCTION,
                  "operator is not unique: unknown %s "
                  "unknown",
                  opname);
        return sql_error_at(st, TL_ETYPE, location);
    }
    if (l->type == TL_TYPE_UNKNOWN && tl_type_is_numeric(r->type))
        rv = coerce_const(st, &l, r->type, -1, location);
    else if (r->type == TL_TYPE_UNKNOWN && tl_type_is_numeric(l->type))
        rv = coerce_const(st, &r, l->type, -1, location);
    if (rv != 0)
        return rv;
    if (!tl_type_is_numeric(l->type) || !tl_type_is_numeric(r->type) ||
        (op == TL_OP_MOD &&
         (tl_type_is_float(l->type) || tl_type_is_float(r->type))))
        return no_operator(st, opname, l, r, location);
    uint8_t type;
    /* PostgreSQL: real op real is real; real with double precision or an
     * integer is double precision (there is no real op integer). */
    if (l->type == TL_TYPE_FLOAT4 && r->type == TL_TYPE_FLOAT4) {
        type = TL_TYPE_FLOAT4;
    } else if (tl_type_is_float(l->type) || tl_type_is_float(r->type)) {
        type = TL_TYPE_FLOAT8;
        if (l->type != TL_TYPE_FLOAT8)
            l = wrap_cast(st, l, TL_TYPE_FLOAT8, -1);
        if (r->type != TL_TYPE_FLOAT8)
            r = wrap_cast(st, r, TL_TYPE_FLOAT8, -1);
    } else if (l->type == TL_TYPE_NUMERIC || r->type == TL_TYPE_NUMERIC) {
        /* integer with numeric is numeric (the integer is cast). */
        type = TL_TYPE_NUMERIC;
        if (l->type != TL_TYPE_NUMERIC)
            l = wrap_cast(st, l, TL_TYPE_NUMERIC, -1);
        if (r->type != TL_TYPE_NUMERIC)
            r = wrap_cast(st, r, TL_TYPE_NUMERIC, -1);
    } else {
        type = int_wider(l->type, r->type);
    }
    *out = tl_expr_op(st->a, op, type, l, r);
    return fold(st, out);
}

static int
to_text(struct sql_stmt *st, struct tl_expr **e, int location)
{
    if ((*e)->type == TL_TYPE_UNKNOWN)
        return coerce_const(st, e, TL_TYPE_TEXT, -1, location);
    /* bpchar becomes text without its padding, as PostgreSQL's cast. */
    if (!tl_type_is_text((*e)->type) || (*e)->type == TL_TYPE_BPCHAR) {
        *e = wrap_cast(st, *e, TL_TYPE_TEXT, -1);
        return fold(st, e);
    }
    return 0;
}

/* @l || @r: bytea || bytea (an unknown literal on one side read as a
 * bytea) is byteacat; otherwise one side must be text (or unknown) and
 * the other is cast to text (textcat, textanycat). */
static int
bind_concat(struct sql_stmt *st, struct tl_expr *l, struct tl_expr *r,
            int location, struct tl_expr **out)
{
    if ((l->type == TL_TYPE_BYTEA &&
         (r->type == TL_TYPE_BYTEA || r->type == TL_TYPE_UNKNOWN)) ||
        (r->type == TL_TYPE_BYTEA && l->type == TL_TYPE_UNKNOWN)) {
        int rv = 0;
        if (l->type == TL_TYPE_UNKNOWN)
            rv = coerce_const(st, &l, TL_TYPE_BYTEA, -1, location);
        else if (r->type == TL_TYPE_UNKNOWN)
            rv = coerce_const(st, &r, TL_TYPE_BYTEA, -1, location);
        if (rv != 0)
            return rv;
        *out = tl_expr_op(st->a, TL_OP_CONCAT, TL_TYPE_BYTEA, l, r);
        return fold(st, out);
    }
    bool lt = l->type == TL_TYPE_UNKNOWN || tl_type_is_text(l->type);
    bool rt = r->type == TL_TYPE_UNKNOWN || tl_type_is_text(r->type);
    if (!lt && !rt)
        return no_operator(st, "||", l, r, location);
    int rv = to_text(st, &l, location);
    if (rv == 0)
        rv = to_text(st, &r, location);
    if (rv != 0)
        return rv;
    *out = tl_expr_op(st->a, TL_OP_CONCAT, TL_TYPE_TEXT, l, r);
    return fold(st, out);
}

/* LIKE, ILIKE, ~ and ~* (@op), negated for the ! forms. */
static int
bind_like(struct sql_stmt *st, uint8_t op, bool negate, const char *opname,
          struct tl_expr *l, struct tl_expr *r, int location,
          struct tl_expr **out)
{
    /* bytea LIKE bytea (an unknown pattern read as a bytea): bytealike. */
    if (op == TL_OP_LIKE && l->type == TL_TYPE_BYTEA &&
        (r->type == TL_TYPE_BYTEA || r->type == TL_TYPE_UNKNOWN)) {
        int rv = r->type == TL_TYPE_UNKNOWN
                     ? coerce_const(st, &r, TL_TYPE_BYTEA, -1, location)
                     : 0;
        if (rv != 0)
            return rv;
        *out = tl_expr_op(st->a, op, TL_TYPE_BOOL, l, r);
        if (negate)
            *out = tl_expr_node(st->a, TL_EXPR_NOT, TL_TYPE_BOOL, out, 1);
        return fold(st, out);
    }
    bool lt = l->type == TL_TYPE_UNKNOWN || tl_type_is_text(l->type);
    bool rt = r->type == TL_TYPE_UNKNOWN || tl_type_is_text(r->type);
    if (!lt || !rt)
        return no_operator(st, opname, l, r, location);
    int rv = to_text(st, &l, location);
    if (rv == 0)
        rv = to_text(st, &r, location);
    if (rv != 0)
        return rv;
    *out = tl_expr_op(st->a, op, TL_TYPE_BOOL, l, r);
    if (negate)
        *out = tl_expr_node(st->a, TL_EXPR_NOT, TL_TYPE_BOOL, out, 1);
    return fold(st, out);
}

static int
bind_unary(struct sql_stmt *st, const char *opname, struct tl_expr *r,
           int location, struct tl_expr **out)
{
    if (r->type == TL_TYPE_UNKNOWN) {
        int rv = coerce_const(st, &r, TL_TYPE_FLOAT8, -1, location);
        if (rv != 0)
            return rv;
    }
    if (r->type == TL_TYPE_INTERVAL && strcmp(opname, "-") == 0) {
        *out = tl_expr_node(st->a, TL_EXPR_OP, r->type, &r, 1);
        (*out)->op = TL_OP_NEG;
        return fold(st, out);
    }
    if (!tl_type_is_numeric(r->type))
        return no_operator(st, opname, NULL, r, location);
    if (strcmp(opname, "+") == 0) {
        *out = r;
        return 0;
    }
    *out = tl_expr_node(st->a, TL_EXPR_OP, r->type, &r, 1);
    (*out)->op = TL_OP_NEG;
    return fold(st, out);
}

/* The json operators -> ->> #> #>> (json or jsonb on the left) and @> ?
 * (jsonb only): an unknown literal on the right is read as the key type
 * (text, or jsonb for @>), one on the left as jsonb for @> and ?. */
static int
bind_json_op(struct sql_stmt *st, uint8_t op, const char *opname,
             struct tl_expr *l, struct tl_expr *r, const int side_loc[2],
             int location, struct tl_expr **out)
{
    bool jsonb_only = op == TL_OP_JSON_CONTAINS || op == TL_OP_JSON_EXISTS;
    int rv = 0;
    if (l->type != TL_TYPE_UNKNOWN &&
        !(jsonb_only ? l->type == TL_TYPE_JSONB : tl_type_is_json(l->type)))
        return no_operator(st, opname, l, r, location);
    if (l->type == TL_TYPE_UNKNOWN && r->type == TL_TYPE_UNKNOWN &&
        !jsonb_only) {
        sql_error(st, TL_ETYPE, TL_SQLSTATE_AMBIGUOUS_FUNCTION,
                  "operator is not unique: unknown %s unknown", opname);
        tl_error_hint(&st->err, "Could not choose a best candidate operator. "
                                "You might need to add explicit type casts.");
        return sql_error_at(st, TL_ETYPE, location);
    }
    if (l->type == TL_TYPE_UNKNOWN)
        rv = coerce_const(st, &l, jsonb_only ? TL_TYPE_JSONB : r->type, -1,
                          side_loc[0] >= 0 ? side_loc[0] : location);
    if (rv == 0 && r->type == TL_TYPE_UNKNOWN)
        rv = coerce_const(
            st, &r, op == TL_OP_JSON_CONTAINS ? TL_TYPE_JSONB : TL_TYPE_TEXT,
            -1, side_loc[1] >= 0 ? side_loc[1] : location);
    if (rv == 0 && r->type == TL_TYPE_BPCHAR)
        rv = to_text(st, &r, location);
    /* A constant path is read now, so that a malformed one is reported
     * at its position, as PostgreSQL's array input does. */
    if (rv == 0 && (op == TL_OP_JSON_PATH || op == TL_OP_JSON_PATH_TEXT) &&
        r->kind == TL_EXPR_CONST && !r->value.is_null &&
        tl_json_check_path(&r->value, st->a, &st->err) != 0)
        return sql_error_at(st, TL_ETYPE,
                            side_loc[1] >= 0 ? side_loc[1] : location);
    if (rv != 0)
        return rv;
    bool key_ok = op == TL_OP_JSON_CONTAINS ? r->type == TL_TYPE_JSONB
                  : op == TL_OP_JSON_GET || op == TL_OP_JSON_GET_TEXT
                      ? r->type == TL_TYPE_INT4 || r->type == TL_TYPE_INT2 ||
                            tl_type_is_text(r->type)
                      : tl_type_is_text(r->type);
    if (!(jsonb_only ? l->type == TL_TYPE_JSONB : tl_type_is_json(l->type)) ||
        !key_ok)
        return no_operator(st, opname, l, r, location);
    uint8_t type = op == TL_OP_JSON_GET || op == TL_OP_JSON_PATH ? l->type
                   : op == TL_OP_JSON_GET_TEXT || op == TL_OP_JSON_PATH_TEXT
                       ? TL_TYPE_TEXT
                       : TL_TYPE_BOOL;
    *out = tl_expr_op(st->a, op, type, l, r);
    return fold(st, out);
}

/* Integer bit operators: & | # and the shifts take the left operand's
 * type for shifts, the wider one otherwise; ~ is unary. */
static int
bind_bitwise(struct sql_stmt *st, uint8_t op, const char *opname,
             struct tl_expr *l, struct tl_expr *r, int location,
             const int side_loc[2], struct tl_expr **out)
{
    struct tl_expr **sides[2] = {&l, &r};
    for (int i = 0; i < 2; i++) {
        if (*sides[i] == NULL || (*sides[i])->type != TL_TYPE_UNKNOWN)
            continue;
        int rv = coerce_const(st, sides[i], TL_TYPE_INT4, -1,
                              side_loc[i] >= 0 ? side_loc[i] : location);
        if (rv != 0)
            return rv;
    }
    if ((l != NULL && !tl_type_is_int(l->type)) || !tl_type_is_int(r->type))
        return no_operator(st, opname, l, r, location);
    uint8_t type = l == NULL ? r->type
                   : op == TL_OP_SHL || op == TL_OP_SHR
                       ? l->type
                       : int_wider(l->type, r->type);
    if (l == NULL) {
        *out = tl_expr_node(st->a, TL_EXPR_OP, type, &r, 1);
        (*out)->op = op;
    } else {
        *out = tl_expr_op(st->a, op, type, l, r);
    }
    return fold(st, out);
}

struct op_map {
    const char *name;
    uint8_t op;
    int kind; /* 0 compare, 1 arithmetic */
};

static const struct op_map op_table[] = {
    {"=", TL_OP_EQ, 0},  {"<>", TL_OP_NE, 0}, {"!=", TL_OP_NE, 0},
    {"<", TL_OP_LT, 0},  {"<=", TL_OP_LE, 0}, {">", TL_OP_GT, 0},
    {">=", TL_OP_GE, 0}, {"+", TL_OP_ADD, 1}, {"-", TL_OP_SUB, 1},
    {"*", TL_OP_MUL, 1}, {"/", TL_OP_DIV, 1}, {"%", TL_OP_MOD, 1},
    {NULL, 0, 0},
};

static const char *
op_name(const PgQuery__AExpr *e)
{
    if (e->n_name == 0)
        return "?";
    const char *s = sql_node_str(e->name[e->n_name - 1]);
    return s != NULL ? s : "?";
}

/* A binary or unary operator `l op r`. */
static int
bind_operator(struct sql_stmt *st, const struct bind_scope *sc,
              const PgQuery__AExpr *e, struct tl_expr **out)
{
    const char *name = op_name(e);
    struct tl_expr *l = NULL, *r = NULL;
    int rv = 0;
    if (e->lexpr != NULL)
        rv = bind_node(st, sc, e->lexpr, &l);
    if (rv == 0 && e->rexpr != NULL)
        rv = bind_node(st, sc, e->rexpr, &r);
    if (rv != 0)
        return rv;
    if (r == NULL)
        return sql_unsupported(st, tl_arena_printf(st->a,
                                                   "postfix operator "
                                                   "%s",
                                                   name));
    int side_loc[2] = {node_loc(e->lexpr), node_loc(e->rexpr)};
    if (l == NULL && strcmp(name, "~") == 0)
        return bind_bitwise(st, TL_OP_BITNOT, name, NULL, r, e->location,
                            side_loc, out);
    if (l == NULL)
        return bind_unary(st, name, r, e->location, out);
    static const struct {
        const char *name;
        uint8_t op;
    } bit_ops[] = {{"&", TL_OP_BITAND},
                   {"|", TL_OP_BITOR},
                   {"#", TL_OP_BITXOR},
                   {"<<", TL_OP_SHL},
                   {">>", TL_OP_SHR}};
    for (size_t i = 0; i < sizeof(bit_ops) / sizeof(bit_ops[0]); i++)
        if (strcmp(name, bit_ops[i].name) == 0)
            return bind_bitwise(st, bit_ops[i].op, name, l, r, e->location,
                                side_loc, out);
    static const struct {
        const char *name;
        uint8_t op;
    } json_ops[] = {{"->", TL_OP_JSON_GET},      {"->>", TL_OP_JSON_GET_TEXT},
                    {"#>", TL_OP_JSON_PATH},     {"#>>", TL_OP_JSON_PATH_TEXT},
                    {"@>", TL_OP_JSON_CONTAINS}, {"?", TL_OP_JSON_EXISTS}};
    for (size_t i = 0; i < sizeof(json_ops) / sizeof(json_ops[0]); i++)
        if (strcmp(name, json_ops[i].name) == 0)
            return bind_json_op(st, json_ops[i].op, name, l, r, side_loc,
                                e->location, out);
    if (strcmp(name, "<@") == 0) /* x <@ y is y @> x */
        return bind_json_op(st, TL_OP_JSON_CONTAINS, name, r, l,
                            (int[2]){side_loc[1], side_loc[0]}, e->location,
                            out);
    if (strcmp(name, "||") == 0)
        return bind_concat(st, l, r, e->location, out);
    if (strcmp(name, "~~") == 0 || strcmp(name, "!~~") == 0)
        return bind_like(st, TL_OP_LIKE, name[0] == '!', name, l, r,
                         e->location, out);
    if (strcmp(name, "~~*") == 0 || strcmp(name, "!~~*") == 0)
        return bind_like(st, TL_OP_ILIKE, name[0] == '!', name, l, r,
                         e->location, out);
    if (strcmp(name, "~") == 0 || strcmp(name, "!~") == 0)
        return bind_like(st, TL_OP_REGEX, name[0] == '!', name, l, r,
                         e->location, out);
    if (strcmp(name, "~*") == 0 || strcmp(name, "!~*") == 0)
        return bind_like(st, TL_OP_IREGEX, name[0] == '!', name, l, r,
                         e->location, out);
    for (const struct op_map *m = op_table; m->name != NULL; m++) {
        if (strcmp(m->name, name) != 0)
            continue;
        int loc[3] = {e->location, node_loc(e->lexpr), node_loc(e->rexpr)};
        if (m->kind == 0)
            return bind_compare(st, m->op, name, l, r, loc, out);
        return bind_arith(st, m->op, name, l, r, e->location, side_loc, out);
    }
    sql_unsupported(st, tl_arena_printf(st->a, "operator %s", name));
    return sql_error_at(st, TL_EUNSUPPORTED, e->location);
}

static int
bind_list(struct sql_stmt *st, const struct bind_scope *sc,
          const PgQuery__Node *n, struct tl_expr ***items, uint32_t *count)
{
    if (n == NULL || n->node_case != PG_QUERY__NODE__NODE_LIST)
        return sql_unsupported(st, "this form of IN/BETWEEN");
    const PgQuery__List *l = n->list;
    *items = tl_arena_alloc(st->a, (l->n_items + 1) * sizeof(**items));
    for (size_t i = 0; i < l->n_items; i++) {
        int rv = bind_node(st, sc, l->items[i], &(*items)[i]);
        if (rv != 0)
            return rv;
    }
    *count = (uint32_t)l->n_items;
    return 0;
}

/* x IN (a, b, ...), or NOT IN for "<>". */
static int
bind_in(struct sql_stmt *st, const struct bind_scope *sc,
        const PgQuery__AExpr *e, struct tl_expr **out)
{
    struct tl_expr *x, **items = NULL;
    uint32_t n = 0;
    int rv = bind_node(st, sc, e->lexpr, &x);
    if (rv == 0)
        rv = bind_list(st, sc, e->rexpr, &items, &n);
    if (rv != 0)
        return rv;
    const PgQuery__List *list = e->rexpr->list;
    int loc[3] = {e->location, node_loc(e->lexpr), -1};
    /* An unknown left side takes the type of the first typed element. */
    for (uint32_t i = 0; x->type == TL_TYPE_UNKNOWN && i < n; i++)
        if (items[i]->type != TL_TYPE_UNKNOWN) {
            loc[2] = node_loc(list->items[i]);
            rv = unify(st, "=", &x, &items[i], loc);
        }
    struct tl_expr **args = tl_arena_alloc(st->a, (n + 1) * sizeof(*args));
    bool all_const = x->kind == TL_EXPR_CONST;
    for (uint32_t i = 0; rv == 0 && i < n; i++) {
        loc[2] = node_loc(list->items[i]);
        rv = unify(st, "=", &x, &items[i], loc);
        args[i + 1] = items[i];
        all_const = all_const && items[i]->kind == TL_EXPR_CONST;
    }
    if (rv != 0)
        return rv;
    args[0] = x;
    *out = tl_expr_node(st->a, TL_EXPR_IN, TL_TYPE_BOOL, args, n + 1);
    if (strcmp(op_name(e), "<>") == 0)
        *out = tl_expr_node(st->a, TL_EXPR_NOT, TL_TYPE_BOOL, out, 1);
    return all_const ? fold(st, out) : 0;
}

/* x BETWEEN a AND b is x >= a AND x <= b; NOT BETWEEN is x < a OR x > b. */
static int
bind_between(struct sql_stmt *st, const struct bind_scope *sc,
             const PgQuery__AExpr *e, bool negate, struct tl_expr **out)
{
    struct tl_expr *x, **items = NULL, *c[2];
    uint32_t n = 0;
    int rv = bind_node(st, sc, e->lexpr, &x);
    if (rv == 0)
        rv = bind_list(st, sc, e->rexpr, &items, &n);
    if (rv != 0)
        return rv;
    if (n != 2)
        return sql_unsupported(st, "this form of BETWEEN");
    const PgQuery__List *list = e->rexpr->list;
    int loc0[3] = {e->location, node_loc(e->lexpr), node_loc(list->items[0])};
    int loc1[3] = {e->location, node_loc(e->lexpr), node_loc(list->items[1])};
    rv = bind_compare(st, negate ? TL_OP_LT : TL_OP_GE, negate ? "<" : ">=", x,
                      items[0], loc0, &c[0]);
    if (rv == 0)
        rv = bind_compare(st, negate ? TL_OP_GT : TL_OP_LE,
                          negate ? ">" : "<=", x, items[1], loc1, &c[1]);
    if (rv != 0)
        return rv;
    *out = tl_expr_node(st->a, negate ? TL_EXPR_OR : TL_EXPR_AND, TL_TYPE_BOOL,
                        c, 2);
    return fold(st, out);
}

/* Both operands of @e, given one type as `=` gives them. */
static int
bind_comparable_pair(struct sql_stmt *st, const struct bind_scope *sc,
                     const PgQuery__AExpr *e, struct tl_expr **l,
                     struct tl_expr **r)
{
    int rv = bind_node(st, sc, e->lexpr, l);
    if (rv == 0)
        rv = bind_node(st, sc, e->rexpr, r);
    int loc[3] = {e->location, node_loc(e->lexpr), node_loc(e->rexpr)};
    if (rv == 0)
        rv = unify(st, "=", l, r, loc);
    return rv;
}

/* x IS [NOT] DISTINCT FROM y. */
static int
bind_distinct(struct sql_stmt *st, const struct bind_scope *sc,
              const PgQuery__AExpr *e, struct tl_expr **out)
{
    struct tl_expr *l, *r;
    int rv = bind_comparable_pair(st, sc, e, &l, &r);
    if (rv != 0)
        return rv;
    *out = tl_expr_op(st->a,
                      e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT
                          ? TL_OP_DISTINCT
                          : TL_OP_NOT_DISTINCT,
                      TL_TYPE_BOOL, l, r);
    return fold(st, out);
}

/* NULLIF(a, b) is CASE WHEN a = b THEN NULL ELSE a END, of the type of
 * the = operator's left operand: a's, unless the operator PostgreSQL
 * picks promotes it (NULLIF(1, 2.5) is numeric, NULLIF(1, 2.5::real)
 * double precision). */
static int
bind_nullif(struct sql_stmt *st, const struct bind_scope *sc,
            const PgQuery__AExpr *e, struct tl_expr **out)
{
    struct tl_expr *l, *r;
    int rv = bind_comparable_pair(st, sc, e, &l, &r);
    if (rv != 0)
        return rv;
    if (tl_type_is_numeric(l->type) && tl_type_is_numeric(r->type) &&
        !tl_type_is_float(l->type)) {
        uint8_t t = tl_type_is_float(r->type) ? TL_TYPE_FLOAT8
                    : tl_type_is_int(l->type) && r->type == TL_TYPE_NUMERIC
                        ? TL_TYPE_NUMERIC
                        : l->type;
        if (t != l->type)
            l = tl_expr_node(st->a, TL_EXPR_CAST, t, &l, 1);
        rv = fold(st, &l);
        if (rv != 0)
            return rv;
    }
    struct tl_value null = tl_value_null(l->type);
    struct tl_expr *args[3] = {tl_expr_op(st->a, TL_OP_EQ, TL_TYPE_BOOL, l, r),
                               tl_expr_const(st->a, &null), l};
    args[1]->type = l->type;
    *out = tl_expr_node(st->a, TL_EXPR_CASE, l->type, args, 3);
    return 0;
}

static int
bind_aexpr(struct sql_stmt *st, const struct bind_scope *sc,
           const PgQuery__AExpr *e, struct tl_expr **out)
{
    switch (e->kind) {
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP:
        return bind_operator(st, sc, e, out);
    case PG_QUERY__A__EXPR__KIND__AEXPR_LIKE:
        return bind_operator(st, sc, e, out);
    case PG_QUERY__A__EXPR__KIND__AEXPR_IN:
        return bind_in(st, sc, e, out);
    case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN:
        return bind_between(st, sc, e, false, out);
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN:
        return bind_between(st, sc, e, true, out);
    case PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE:
        return bind_operator(st, sc, e, out);
    case PG_QUERY__A__EXPR__KIND__AEXPR_SIMILAR:
        return sql_unsupported(st, "SIMILAR TO");
    case PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT:
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT:
        return bind_distinct(st, sc, e, out);
    case PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF:
        return bind_nullif(st, sc, e, out);
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY:
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ALL:
        if (sc->local != NULL)
            return query_bind_any(st, sc, e, out);
        return sql_unsupported(st, "ANY/ALL");
    default:
        return sql_unsupported(st, "BETWEEN SYMMETRIC");
    }
}

static int
require_bool(struct sql_stmt *st, const char *what, struct tl_expr **e,
             int location)
{
    if ((*e)->type == TL_TYPE_UNKNOWN)
        return coerce_const(st, e, TL_TYPE_BOOL, -1, location);
    if ((*e)->type != TL_TYPE_BOOL) {
        sql_error(st, TL_ETYPE, TL_SQLSTATE_DATATYPE_MISMATCH,
                  "argument of %s must be type boolean, not type %s", what,
                  type_label((*e)->type));
        return sql_error_at(st, TL_ETYPE, location);
    }
    return 0;
}

static int
bind_bool(struct sql_stmt *st, const struct bind_scope *sc,
          const PgQuery__BoolExpr *b, struct tl_expr **out)
{
    static const char *names[] = {"?", "AND", "OR", "NOT"};
    uint8_t kind = b->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR ? TL_EXPR_AND
                   : b->boolop == PG_QUERY__BOOL_EXPR_TYPE__OR_EXPR
                       ? TL_EXPR_OR
                       : TL_EXPR_NOT;
    const char *name = names[b->boolop <= 3 ? b->boolop : 0];
    if (b->n_args == 0 || (kind == TL_EXPR_NOT && b->n_args != 1))
        return sql_unsupported(st, "this boolean expression");
    struct tl_expr **args = tl_arena_alloc(st->a, b->n_args * sizeof(*args));
    bool all_const = true;
    for (size_t i = 0; i < b->n_args; i++) {
        int rv = bind_node(st, sc, b->args[i], &args[i]);
        if (rv == 0)
            rv = require_bool(st, name, &args[i], b->location);
        if (rv != 0)
            return rv;
        all_const = all_const && args[i]->kind == TL_EXPR_CONST;
    }
    *out = tl_expr_node(st->a, kind, TL_TYPE_BOOL, args, (uint32_t)b->n_args);
    return all_const ? fold(st, out) : 0;
}

static int
bind_null_test(struct sql_stmt *st, const struct bind_scope *sc,
               const PgQuery__NullTest *t, struct tl_expr **out)
{
    struct tl_expr *x;
    int rv = bind_node(st, sc, t->arg, &x);
    if (rv != 0)
        return rv;
    uint8_t kind = t->nulltesttype == PG_QUERY__NULL_TEST_TYPE__IS_NULL
                       ? TL_EXPR_IS_NULL
                       : TL_EXPR_IS_NOT_NULL;
    *out = tl_expr_node(st->a, kind, TL_TYPE_BOOL, &x, 1);
    return fold(st, out);
}

/* The integer constants of @tn's type modifiers into @v[0..1] (left as
 * they are when absent), as PostgreSQL's grammar gives them to a type's
 * typmodin: 42601 for anything else, 22023 "invalid @what type modifier"
 * for more than two. */
static int
bind_typmod_consts(struct sql_stmt *st, const PgQuery__TypeName *tn,
                   const char *what, int32_t v[2])
{
    for (size_t i = 0; i < tn->n_typmods && i < 2; i++) {
        const PgQuery__Node *m = tn->typmods[i];
        if (m->node_case != PG_QUERY__NODE__NODE_A_CONST ||
            m->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL) {
            sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                      "type modifiers must be simple constants or "
                      "identifiers");
            return sql_error_at(st, TL_ESYNTAX, tn->location);
        }
        v[i] = m->a_const->ival->ival;
    }
    if (tn->n_typmods > 2) {
        sql_error(st, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                  "invalid %s type modifier", what);
        return sql_error_at(st, TL_EINVAL, tn->location);
    }
    return 0;
}

/* numeric(p) or numeric(p,s): PostgreSQL's numerictypmodin. */
static int
bind_numeric_typmod(struct sql_stmt *st, const PgQuery__TypeName *tn,
                    int32_t *typmod)
{
    int32_t v[2] = {0, 0};
    int rv = bind_typmod_consts(st, tn, "NUMERIC", v);
    if (rv != 0)
        return rv;
    rv = tl_numeric_typmod(v[0], v[1], typmod, &st->err);
    if (rv != 0)
        return sql_error_at(st, rv, tn->location);
    return 0;
}

/* interval fields and precision: PostgreSQL's intervaltypmodin over the
 * constants its grammar makes of `interval day to second(3)`. */
static int
bind_interval_typmod(struct sql_stmt *st, const PgQuery__TypeName *tn,
                     int32_t *typmod)
{
    int32_t v[2] = {TL_INTERVAL_FULL_RANGE, -1};
    int rv = bind_typmod_consts(st, tn, "INTERVAL", v);
    if (rv != 0)
        return rv;
    rv = tl_interval_typmod(v[0], v[1], typmod, &st->err);
    if (rv != 0)
        return sql_error_at(st, rv, tn->location);
    return 0;
}

int
bind_type_name(struct sql_stmt *st, const PgQuery__TypeName *tn, uint8_t *type,
               int32_t *typmod)
{
    const char *name = NULL;
    if (tn->n_names > 0)
        name = sql_node_str(tn->names[tn->n_names - 1]);
    if (name == NULL)
        name = "?";
    *typmod = -1;
    if (tn->n_array_bounds > 0 || tn->setof || tn->pct_type ||
        tl_type_from_name(name, type) != 0) {
        sql_error(st, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                  "type \"%s%s\" is not supported", name,
                  tn->n_array_bounds > 0 ? "[]" : "");
        return sql_error_at(st, TL_EUNSUPPORTED, tn->location);
    }
    if (tn->n_typmods > 0 && *type == TL_TYPE_NUMERIC)
        return bind_numeric_typmod(st, tn, typmod);
    if (tn->n_typmods > 0 && *type == TL_TYPE_INTERVAL)
        return bind_interval_typmod(st, tn, typmod);
    if (tn->n_typmods > 0) {
        const PgQuery__Node *m = tn->typmods[0];
        if ((*type != TL_TYPE_VARCHAR && *type != TL_TYPE_BPCHAR) ||
            tn->n_typmods != 1 ||
            m->node_case != PG_QUERY__NODE__NODE_A_CONST ||
            m->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL) {
            sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                      "type modifier is not allowed for type \"%s\"", name);
            return sql_error_at(st, TL_ESYNTAX, tn->location);
        }
        *typmod = m->a_const->ival->ival;
        if (*typmod < 1) {
            sql_error(st, TL_ESYNTAX, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                      "length for type %s must be at least 1",
                      *type == TL_TYPE_BPCHAR ? "char" : "varchar");
            return sql_error_at(st, TL_ESYNTAX, tn->location);
        }
    }
    return 0;
}

/* Whether PostgreSQL has a cast from @from to @to among Talus' types. */
static bool
castable(uint8_t from, uint8_t to)
{
    if (from == to || from == TL_TYPE_UNKNOWN)
        return true;
    if (tl_type_is_text(from) || tl_type_is_text(to))
        return true;
    if (tl_type_is_numeric(from) && tl_type_is_numeric(to))
        return true;
    if (tl_type_is_json(from) && tl_type_is_json(to))
        return true;
    /* Every pair of date/time types has a cast (tl_value_cast). */
    return tl_type_is_datetime(from) && tl_type_is_datetime(to);
}

static int
bind_cast(struct sql_stmt *st, const struct bind_scope *sc,
          const PgQuery__TypeCast *c, struct tl_expr **out)
{
    struct tl_expr *x;
    uint8_t type;
    int32_t typmod;
    int rv = bind_node(st, sc, c->arg, &x);
    if (rv == 0 && sc->local != NULL) {
        int local = pgcat_bind_cast(st, sc, c->type_name, &x, c->location);
        if (local <= 0) {
            *out = x;
            return local;
        }
    }
    if (rv == 0)
        rv = bind_type_name(st, c->type_name, &type, &typmod);
    if (rv != 0)
        return rv;
    if (!castable(x->type, type)) {
        sql_error(st, TL_ETYPE, TL_SQLSTATE_CANNOT_COERCE,
                  "cannot cast type %s to %s", type_label(x->type),
                  message_type(st, type, typmod));
        return sql_error_at(st, TL_ETYPE, c->location);
    }
    if (x->kind == TL_EXPR_CONST) {
        int loc = c->arg->node_case == PG_QUERY__NODE__NODE_A_CONST
                      ? c->arg->a_const->location
                      : c->location;
        *out = x;
        return coerce_const_as(st, out, type, typmod, true, loc);
    }
    *out = wrap_cast(st, x, type, typmod);
    return 0;
}

static int
bind_aconst(struct sql_stmt *st, const PgQuery__AConst *c, struct tl_expr **out)
{
    struct tl_value v = tl_value_null(TL_TYPE_UNKNOWN);
    if (c->isnull) {
        /* untyped NULL */
    } else if (c->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
        v = tl_value_int(TL_TYPE_INT4, c->ival->ival);
    } else if (c->val_case == PG_QUERY__A__CONST__VAL_FVAL) {
        const char *s = c->fval->fval;
        char *end;
        errno = 0;
        long long i = strtoll(s, &end, 10);
        if (*end == '\0' && errno == 0) {
            v = tl_value_int(TL_TYPE_INT8, i);
        } else {
            /* A decimal literal (1.5, 1e3) or an integer past bigint is
             * numeric, as in PostgreSQL. */
            int rv =
                tl_numeric_from_text(s, strlen(s), -1, st->a, &v, &st->err);
            if (rv != 0)
                return sql_error_at(st, rv, c->location);
        }
    } else if (c->val_case == PG_QUERY__A__CONST__VAL_BOOLVAL) {
        v = tl_value_bool(c->boolval->boolval);
    } else if (c->val_case == PG_QUERY__A__CONST__VAL_SVAL) {
        const char *s = c->sval->sval;
        v = tl_value_text(TL_TYPE_UNKNOWN, s, (uint32_t)strlen(s));
    } else {
        sql_unsupported(st, "bit string literal");
        return sql_error_at(st, TL_EUNSUPPORTED, c->location);
    }
    *out = tl_expr_const(st->a, &v);
    (*out)->type = v.type;
    return 0;
}

static int
unknown_column(struct sql_stmt *st, const char *qual, const char *name,
               int location)
{
    if (qual != NULL)
        sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_COLUMN,
                  "column %s.%s does not exist", qual, name);
    else
        sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_COLUMN,
                  "column \"%s\" does not exist", name);
    return sql_error_at(st, TL_ENOTFOUND, location);
}

int
bind_find_rel(struct sql_stmt *st, const struct bind_scope *sc,
              const char *qual, int location, const struct bind_rel **out)
{
    const struct bind_rel *rel = NULL;
    for (size_t i = 0; i < sc->n_rels; i++)
        if (strcmp(sc->rels[i].alias, qual) == 0)
            rel = &sc->rels[i];
    if (rel != NULL && rel->visible) {
        *out = rel;
        return 0;
    }
    const struct bind_rel *named = rel;
    for (size_t i = 0; named == NULL && i < sc->n_rels; i++)
        if (sc->rels[i].aliased && strcmp(sc->rels[i].table->name, qual) == 0)
            named = &sc->rels[i];
    if (named == NULL) {
        sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_TABLE,
                  "missing FROM-clause entry for table \"%s\"", qual);
        return sql_error_at(st, TL_ENOTFOUND, location);
    }
    sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_TABLE,
              "invalid reference to FROM-clause entry for table \"%s\"", qual);
    if (named->visible)
        tl_error_hint(&st->err,
                      "Perhaps you meant to reference the table alias \"%s\".",
                      named->alias);
    else
        tl_error_hint(&st->err,
                      "There is an entry for table \"%s\", but it cannot be "
                      "referenced from this part of the query.",
                      qual);
    return sql_error_at(st, TL_ENOTFOUND, location);
}

/* A qualified reference @qual.@name in a join. */
static int
bind_rel_qualified(struct sql_stmt *st, const struct bind_scope *sc,
                   const char *qual, const char *name, int location,
                   struct tl_expr **out)
{
    const struct bind_rel *rel;
    int rv = bind_find_rel(st, sc, qual, location, &rel);
    if (rv != 0)
        return rv;
    int col = tl_table_find_column(rel->table, name);
    if (col < 0)
        return unknown_column(st, qual, name, location);
    *out = tl_expr_column(st->a, rel->offset + (uint32_t)col,
                          rel->table->columns[col].type);
    return 0;
}

/* An unqualified @name in a join: exactly one visible table has it. */
static int
bind_rel_column(struct sql_stmt *st, const struct bind_scope *sc,
                const char *qual, const char *name, int location,
                struct tl_expr **out)
{
    if (qual != NULL)
        return bind_rel_qualified(st, sc, qual, name, location, out);
    const struct bind_colref *found = NULL;
    for (size_t i = 0; i < sc->n_ns; i++)
        for (size_t k = 0; k < sc->ns[i].n; k++) {
            const struct bind_colref *cr = &sc->ns[i].cols[k];
            if (strcmp(cr->name, name) != 0)
                continue;
            if (found != NULL) {
                sql_error(st, TL_EINVAL, TL_SQLSTATE_AMBIGUOUS_COLUMN,
                          "column reference \"%s\" is ambiguous", name);
                return sql_error_at(st, TL_EINVAL, location);
            }
            found = cr;
        }
    if (sc->ns != NULL) {
        if (found == NULL)
            return unknown_column(st, NULL, name, location);
        *out = found->expr;
        return 0;
    }
    const struct bind_rel *rel = NULL;
    int col = -1;
    for (size_t i = 0; i < sc->n_rels; i++) {
        if (!sc->rels[i].visible)
            continue;
        int c = tl_table_find_column(sc->rels[i].table, name);
        if (c < 0)
            continue;
        if (rel != NULL) {
            sql_error(st, TL_EINVAL, TL_SQLSTATE_AMBIGUOUS_COLUMN,
                      "column reference \"%s\" is ambiguous", name);
            return sql_error_at(st, TL_EINVAL, location);
        }
        rel = &sc->rels[i];
        col = c;
    }
    if (rel == NULL)
        return unknown_column(st, NULL, name, location);
    *out = tl_expr_column(st->a, rel->offset + (uint32_t)col,
                          rel->table->columns[col].type);
    return 0;
}

static int
bind_column(struct sql_stmt *st, const struct bind_scope *sc,
            const PgQuery__ColumnRef *cr, struct tl_expr **out)
{
    const char *qual = NULL, *name;
    if (cr->n_fields == 2) {
        qual = sql_node_str(cr->fields[0]);
        name = sql_node_str(cr->fields[1]);
    } else if (cr->n_fields == 1) {
        name = sql_node_str(cr->fields[0]);
    } else {
        sql_error(st, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                  "cross-database references are not implemented");
        return sql_error_at(st, TL_EUNSUPPORTED, cr->location);
    }
    if (name == NULL) {
        sql_unsupported(st, "* in this position");
        return sql_error_at(st, TL_EUNSUPPORTED, cr->location);
    }
    if (sc->no_columns != NULL) {
        sql_error(st, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED, "%s",
                  sc->no_columns);
        return sql_error_at(st, TL_EUNSUPPORTED, cr->location);
    }
    if (sc->rels != NULL)
        return bind_rel_column(st, sc, qual, name, cr->location, out);
    if (qual != NULL && (sc->table == NULL || strcmp(qual, sc->alias) != 0)) {
        if (sc->table != NULL && strcmp(qual, sc->table->name) == 0) {
            sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_TABLE,
                      "invalid reference to FROM-clause entry for table "
                      "\"%s\"",
                      qual);
            tl_error_hint(&st->err,
                          "Perhaps you meant to reference the table alias "
                          "\"%s\".",
                          sc->alias);
        } else {
            sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_TABLE,
                      "missing FROM-clause entry for table \"%s\"", qual);
        }
        return sql_error_at(st, TL_ENOTFOUND, cr->location);
    }
    int col = sc->table != NULL ? tl_table_find_column(sc->table, name) : -1;
    if (col < 0)
        return unknown_column(st, qual, name, cr->location);
    *out = tl_expr_column(st->a, (uint32_t)col, sc->table->columns[col].type);
    return 0;
}

/* Functions PostgreSQL has that Talus does not answer yet: a call gets
 * 0A000 rather than PostgreSQL's 42883 for a function that does not
 * exist. */
static bool
pg_lacks(const char *name)
{
    static const char *const names[] = {
        "current_schemas", "current_setting", "set_config", "pg_typeof",
        "format_type", "pg_get_userbyid", "coalesce", "date_trunc", "extract",
        "date_part", "to_char", "inet_server_port", "random",
        /* Router-side only for now (sql/query.c, sql/pgcat_func.c): over
         * a user table they are not supported yet. */
        "generate_series", "generate_subscripts", "unnest", "string_agg",
        "array_agg", "bool_and", "bool_or", "json_build_object",
        "array_to_string", "array_length", "array_upper", "array_lower",
        "array_position", "cardinality", "quote_ident", "pg_size_pretty", NULL};
    for (int i = 0; names[i] != NULL; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* PostgreSQL's 42883 for a call no function matches, or with @ambiguous
 * its 42725 for a call several match equally well: the arguments are
 * bound first (their errors come first, as in PostgreSQL) for the types
 * the message lists. */
static int
call_error(struct sql_stmt *st, const struct bind_scope *sc,
           const PgQuery__FuncCall *f, bool ambiguous)
{
    struct tl_buf sig;
    tl_buf_init(&sig);
    for (size_t i = 0; i < f->n_funcname; i++) {
        const char *part = sql_node_str(f->funcname[i]);
        if (i > 0)
            tl_buf_append(&sig, ".", 1);
        if (part != NULL)
            tl_buf_append(&sig, part, strlen(part));
    }
    tl_buf_append(&sig, "(", 1);
    for (size_t i = 0; i < f->n_args; i++) {
        struct tl_expr *arg;
        int rv = bind_node(st, sc, f->args[i], &arg);
        if (rv != 0) {
            tl_buf_close(&sig);
            return rv;
        }
        const char *t = type_label(arg->type);
        if (i > 0)
            tl_buf_append(&sig, ", ", 2);
        tl_buf_append(&sig, t, strlen(t));
    }
    if (f->agg_star)
        tl_buf_append(&sig, "*", 1);
    tl_buf_append(&sig, ")", 1);
    if (ambiguous) {
        sql_error(st, TL_ETYPE, TL_SQLSTATE_AMBIGUOUS_FUNCTION,
                  "function %.*s is not unique", (int)sig.len,
                  (const char *)sig.data);
        tl_buf_close(&sig);
        tl_error_hint(&st->err, "Could not choose a best candidate function. "
                                "You might need to add explicit type casts.");
        return sql_error_at(st, TL_ETYPE, f->location);
    }
    sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_FUNCTION,
              "function %.*s does not exist", (int)sig.len,
              (const char *)sig.data);
    tl_buf_close(&sig);
    tl_error_hint(&st->err, "No function matches the given name and argument "
                            "types. You might need to add explicit type "
                            "casts.");
    return sql_error_at(st, TL_ENOTFOUND, f->location);
}

static int
no_function(struct sql_stmt *st, const struct bind_scope *sc,
            const PgQuery__FuncCall *f)
{
    return call_error(st, sc, f, false);
}

/* Give argument *@e of a built-in function @type: a constant converted
 * now, anything else under an implicit cast. */
static int
cast_arg(struct sql_stmt *st, struct tl_expr **e, uint8_t type, int location)
{
    if ((*e)->type == type)
        return 0;
    if ((*e)->kind == TL_EXPR_CONST)
        return coerce_const(st, e, type, -1, location);
    *e = wrap_cast(st, *e, type, -1);
    return 0;
}

/* The one type of the numeric arguments (argument codes 'f', 'm', 'g' of
 * scalar.h) of a call, as PostgreSQL's overload resolution picks it from
 * the typed ones: 0 when it picks none (42725). */
static uint8_t
numeric_family_type(char want, struct tl_expr *const *args, uint32_t n,
                    const char *codes)
{
    bool any_float = false, any_numeric = false, any_typed = false;
    uint8_t widest = TL_TYPE_INT2;
    for (uint32_t i = 0; i < n; i++) {
        char c = codes[i < strlen(codes) ? i : strlen(codes) - 1];
        uint8_t t = args[i]->type;
        if (c != want || t == TL_TYPE_UNKNOWN)
            continue;
        any_typed = true;
        any_float = any_float || tl_type_is_float(t);
        any_numeric = any_numeric || t == TL_TYPE_NUMERIC;
        if (tl_type_is_int(t))
            widest = int_wider(widest, t);
    }
    if (want == 'f')
        return any_numeric && !any_float ? TL_TYPE_NUMERIC : TL_TYPE_FLOAT8;
    if (!any_typed)
        return 0; /* mod('5', '2') */
    if (any_numeric)
        return TL_TYPE_NUMERIC;
    if (want == 'g' && widest == TL_TYPE_INT2)
        return 0; /* gcd(smallint, smallint): int4 and int8 tie */
    return widest;
}

/* Bring the arguments of a math function call to the types of the
 * version PostgreSQL resolves it to (see the argument codes in
 * scalar.h); 1 when it resolves to none, 2 when to several. */
static int
resolve_numeric_args(struct sql_stmt *st, const struct tl_func_sig *sig,
                     const PgQuery__FuncCall *f, struct tl_expr **args)
{
    uint32_t n = (uint32_t)f->n_args;
    const char *codes = sig->args;
    uint8_t family[2] = {numeric_family_type('f', args, n, codes), 0};
    for (uint32_t i = 0; i < n; i++) {
        char c = codes[i < strlen(codes) ? i : strlen(codes) - 1];
        int loc = node_loc(f->args[i]);
        uint8_t t = args[i]->type, to;
        switch (c) {
        case 'f':
            if (sig->id == TL_FUNC_TRUNC && t == TL_TYPE_UNKNOWN)
                return 2; /* trunc(macaddr) is a candidate too */
            to = family[0];
            break;
        case 'd':
            to = TL_TYPE_FLOAT8;
            break;
        case 'N':
            if (tl_type_is_float(t))
                return 1; /* no implicit cast from a float to numeric */
            to = TL_TYPE_NUMERIC;
            break;
        case 'm':
        case 'g':
            if (family[1] == 0 &&
                (family[1] = numeric_family_type(c, args, n, codes)) == 0)
                return 2;
            if (tl_type_is_float(t))
                return 1;
            to = family[1];
            if (c == 'g' && to == TL_TYPE_INT2)
                to = TL_TYPE_INT4;
            break;
        case 'h':
            if (t == TL_TYPE_INT2)
                return 2; /* to_hex(integer) and to_hex(bigint) tie */
            continue;
        default:
            continue;
        }
        int rv = cast_arg(st, &args[i], to, loc);
        if (rv != 0)
            return rv;
    }
    return 0;
}

/* A built-in scalar function (common/scalar.h): 1 when @f names none. */
static int
bind_scalar(struct sql_stmt *st, const struct bind_scope *sc,
            const PgQuery__FuncCall *f, struct tl_expr **out)
{
    if (f->n_funcname == 0 || f->n_funcname > 2 || f->agg_star ||
        f->agg_distinct || f->over != NULL || f->n_agg_order > 0)
        return 1;
    if (f->n_funcname == 2) {
        const char *schema = sql_node_str(f->funcname[0]);
        if (schema == NULL || strcmp(schema, "pg_catalog") != 0)
            return 1;
    }
    const char *name = sql_node_str(f->funcname[f->n_funcname - 1]);
    const struct tl_func_sig *sig =
        name != NULL ? tl_func_find(name, (uint32_t)f->n_args) : NULL;
    if (sig == NULL)
        return 1;
    struct tl_expr **args =
        tl_arena_alloc(st->a, (f->n_args + 1) * sizeof(*args));
    bool fits = true;
    for (size_t i = 0; i < f->n_args; i++) {
        int rv = bind_node(st, sc, f->args[i], &args[i]);
        if (rv != 0)
            return rv;
        char want =
            sig->args[i < strlen(sig->args) ? i : strlen(sig->args) - 1];
        int loc = node_loc(f->args[i]);
        /* A bytea argument of a 'b' function stays a bytea; anything
         * else there is text, as for 't'. */
        if (want == 'b' && args[i]->type == TL_TYPE_BYTEA)
            continue;
        if (want == 't' || want == 'b')
            rv = args[i]->type == TL_TYPE_UNKNOWN ||
                         args[i]->type == TL_TYPE_BPCHAR
                     ? to_text(st, &args[i], loc)
                     : 0;
        else if (want == 'i' || want == 'n' || want == 'h')
            rv = bind_coerce_unknown(
                st, &args[i], want == 'n' ? TL_TYPE_FLOAT8 : TL_TYPE_INT4, -1,
                loc);
        else if (want == 'a' && args[i]->type == TL_TYPE_UNKNOWN) {
            sql_error(st, TL_ETYPE, TL_SQLSTATE_DATATYPE_MISMATCH,
                      "could not determine polymorphic type because input "
                      "has type unknown");
            return TL_ETYPE; /* PostgreSQL gives no position here */
        } else if (want == 'j' || want == 'J')
            rv = bind_coerce_unknown(st, &args[i],
                                     want == 'j' ? TL_TYPE_JSON : TL_TYPE_JSONB,
                                     -1, loc);
        else if (want == 'v' || want == 'T' || want == 'X')
            rv = bind_coerce_unknown(
                st, &args[i],
                want == 'v' ? TL_TYPE_INTERVAL : TL_TYPE_TIMESTAMPTZ, -1, loc);
        if (rv != 0)
            return rv;
        uint8_t t = args[i]->type;
        if (((want == 't' || want == 'b') && !tl_type_is_text(t)) ||
            ((want == 'i' || want == 'h') && !tl_type_is_int(t)) ||
            (want == 'n' && !tl_type_is_numeric(t)) ||
            (strchr("fdNmg", want) != NULL && t != TL_TYPE_UNKNOWN &&
             !tl_type_is_numeric(t)) ||
            (want == 'j' && t != TL_TYPE_JSON) ||
            (want == 'J' && t != TL_TYPE_JSONB) ||
            (want == 'v' && t != TL_TYPE_INTERVAL) ||
            (want == 'T' && !tl_type_is_datetime(t)) ||
            (want == 'X' && !tl_type_is_datetime(t) && t != TL_TYPE_INTERVAL))
            fits = false;
    }
    if (!fits)
        return no_function(st, sc, f);
    int rv = resolve_numeric_args(st, sig, f, args);
    if (rv < 0)
        return rv;
    if (rv > 0)
        return call_error(st, sc, f, rv == 2);
    uint8_t type = sig->result != TL_TYPE_UNKNOWN ? sig->result : args[0]->type;
    /* date_trunc() keeps a timestamp's type; a date becomes timestamptz
     * (PostgreSQL picks date_trunc(text, timestamptz) for it). */
    if (sig->id == TL_FUNC_DATE_TRUNC && (args[1]->type == TL_TYPE_TIMESTAMP ||
                                          args[1]->type == TL_TYPE_INTERVAL))
        type = args[1]->type;
    *out = tl_expr_node(st->a, TL_EXPR_FUNC, type, args, (uint32_t)f->n_args);
    (*out)->op = sig->id;
    /* A volatile function (gen_random_uuid) is evaluated wherever its
     * expression is, once per row: never folded into one constant. */
    bool all_const = !sig->is_volatile;
    for (size_t i = 0; i < f->n_args; i++)
        all_const = all_const && args[i]->kind == TL_EXPR_CONST;
    return all_const ? fold(st, out) : 0;
}

static int
bind_func(struct sql_stmt *st, const struct bind_scope *sc,
          const PgQuery__FuncCall *f, const PgQuery__Node *n,
          struct tl_expr **out)
{
    const char *name =
        f->n_funcname > 0 ? sql_node_str(f->funcname[f->n_funcname - 1]) : "";
    if (sc->local != NULL) {
        int rv = query_bind_call(st, sc, f, out);
        if (rv <= 0)
            return rv;
    }
    if (bind_is_aggregate(n)) {
        if (sc->agg_cb != NULL)
            return sc->agg_cb(st, sc->cb_arg, f, out);
        if (sc->clause != NULL) {
            /* PostgreSQL names the clause differently here. */
            const char *where = strcmp(sc->clause, "JOIN/ON") == 0
                                    ? "JOIN conditions"
                                    : sc->clause;
            sql_error(st, TL_EUNSUPPORTED, TL_SQLSTATE_GROUPING_ERROR,
                      "aggregate functions are not allowed in %s", where);
            return sql_error_at(st, TL_EUNSUPPORTED, f->location);
        }
        sql_unsupported(st, "aggregate functions inside expressions");
        return sql_error_at(st, TL_EUNSUPPORTED, f->location);
    }
    if (seqfunc_has_effect(f) && (sc->table != NULL || sc->n_rels > 0)) {
        /* Bound into a constant, it would run once for all the rows. */
        sql_unsupported(st, tl_arena_printf(st->a,
                                            "%s() in a statement over the "
                                            "rows of a table",
                                            name));
        return sql_error_at(st, TL_EUNSUPPORTED, f->location);
    }
    int rv = func_bind_call(st, f, out);
    /* Over catalog relations pg_get_serial_sequence() may get names read
     * from rows: the catalog's version evaluates it per row. */
    bool all_const = true;
    for (size_t i = 0; i < f->n_args; i++)
        all_const =
            all_const && f->args[i]->node_case == PG_QUERY__NODE__NODE_A_CONST;
    bool per_row = sc->local != NULL && name != NULL && !all_const &&
                   strcmp(name, "pg_get_serial_sequence") == 0;
    if (rv > 0 && !per_row)
        rv = seqfunc_bind_call(st, f, out);
    if (rv == 0)
        note_fixed(st);
    if (rv <= 0)
        return rv;
    if ((rv = bind_scalar(st, sc, f, out)) <= 0)
        return rv;
    if (sc->local != NULL && (rv = pgcat_bind_func(st, sc, f, out)) <= 0)
        return rv;
    if (name != NULL && strcmp(name, "pg_typeof") == 0 && f->n_args == 1) {
        /* The argument's type, known when binding: a constant. */
        struct tl_expr *arg;
        if ((rv = bind_node(st, sc, f->args[0], &arg)) != 0)
            return rv;
        const char *tn =
            arg->type == TL_TYPE_UNKNOWN ? "unknown" : type_label(arg->type);
        struct tl_value v =
            tl_value_text(TL_TYPE_TEXT, tn, (uint32_t)strlen(tn));
        *out = tl_expr_const(st->a, &v);
        return 0;
    }
    if (f->over != NULL) {
        sql_unsupported(st, "a window function over a table");
        return sql_error_at(st, TL_EUNSUPPORTED, f->location);
    }
    if (name != NULL && pg_lacks(name)) {
        sql_unsupported(st, tl_arena_printf(st->a, "function %s()", name));
        return sql_error_at(st, TL_EUNSUPPORTED, f->location);
    }
    return no_function(st, sc, f);
}

/* The type PostgreSQL's select_common_type() picks for the results of a
 * CASE, COALESCE, GREATEST or LEAST (@what), and every one converted to
 * it: unknown literals become it, numbers widen, text kinds become text,
 * date/time kinds the richer one; 42804 "CASE types x and y cannot be
 * matched" otherwise. All unknown: text. */
static int
unify_common(struct sql_stmt *st, const char *what, struct tl_expr **es,
             uint32_t n, const int *locs, int location, uint8_t *out)
{
    uint8_t t = TL_TYPE_UNKNOWN;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t u = es[i]->type;
        if (u == TL_TYPE_UNKNOWN || u == t)
            continue;
        if (t == TL_TYPE_UNKNOWN) {
            t = u;
        } else if (tl_type_is_numeric(t) && tl_type_is_numeric(u)) {
            t = tl_type_is_float(t) || tl_type_is_float(u) ? TL_TYPE_FLOAT8
                : t == TL_TYPE_NUMERIC || u == TL_TYPE_NUMERIC
                    ? TL_TYPE_NUMERIC
                    : int_wider(t, u);
        } else if (tl_type_is_text(t) && tl_type_is_text(u)) {
            t = TL_TYPE_TEXT;
        } else if (tl_type_is_datetime(t) && tl_type_is_datetime(u)) {
            t = t == TL_TYPE_TIMESTAMPTZ || u == TL_TYPE_TIMESTAMPTZ
                    ? TL_TYPE_TIMESTAMPTZ
                    : TL_TYPE_TIMESTAMP;
        } else {
            sql_error(st, TL_ETYPE, TL_SQLSTATE_DATATYPE_MISMATCH,
                      "%s types %s and %s cannot be matched", what,
                      type_label(t), type_label(u));
            return sql_error_at(st, TL_ETYPE, location);
        }
    }
    if (t == TL_TYPE_UNKNOWN)
        t = TL_TYPE_TEXT;
    for (uint32_t i = 0; i < n; i++) {
        if (es[i]->type == t)
            continue;
        if (es[i]->kind == TL_EXPR_CONST) {
            int rv =
                coerce_const(st, &es[i], t, -1,
                             locs != NULL && locs[i] >= 0 ? locs[i] : location);
            if (rv != 0)
                return rv;
        } else {
            es[i] = wrap_cast(st, es[i], t, -1);
        }
    }
    *out = t;
    return 0;
}

/* CASE [x] WHEN a THEN r ... [ELSE d] END: a simple CASE compares x with
 * each WHEN value. */
static int
bind_case(struct sql_stmt *st, const struct bind_scope *sc,
          const PgQuery__CaseExpr *c, struct tl_expr **out)
{
    struct tl_expr *x = NULL;
    int rv = 0;
    if (c->arg != NULL && (rv = bind_node(st, sc, c->arg, &x)) != 0)
        return rv;
    uint32_t n_res = (uint32_t)c->n_args + (c->defresult != NULL);
    struct tl_expr **args =
        tl_arena_alloc(st->a, (2 * c->n_args + 1) * sizeof(*args));
    struct tl_expr **res = tl_arena_alloc(st->a, (n_res + 1) * sizeof(*res));
    int *locs = tl_arena_alloc(st->a, (n_res + 1) * sizeof(*locs));
    for (size_t i = 0; i < c->n_args; i++) {
        const PgQuery__CaseWhen *w = c->args[i]->case_when;
        struct tl_expr *cond;
        if ((rv = bind_node(st, sc, w->expr, &cond)) != 0)
            return rv;
        if (x != NULL) {
            struct tl_expr *l = x;
            int loc[3] = {w->location, node_loc(c->arg), node_loc(w->expr)};
            if ((rv = unify(st, "=", &l, &cond, loc)) != 0)
                return rv;
            cond = tl_expr_op(st->a, TL_OP_EQ, TL_TYPE_BOOL, l, cond);
        } else if ((rv = require_bool(st, "CASE/WHEN", &cond,
                                      node_loc(w->expr))) != 0) {
            return rv;
        }
        args[2 * i] = cond;
        locs[i] = node_loc(w->result);
        if ((rv = bind_node(st, sc, w->result, &res[i])) != 0)
            return rv;
    }
    if (c->defresult != NULL) {
        locs[c->n_args] = node_loc(c->defresult);
        if ((rv = bind_node(st, sc, c->defresult, &res[c->n_args])) != 0)
            return rv;
    }
    uint8_t type;
    if ((rv = unify_common(st, "CASE", res, n_res, locs, c->location, &type)) !=
        0)
        return rv;
    for (size_t i = 0; i < c->n_args; i++)
        args[2 * i + 1] = res[i];
    if (c->defresult != NULL)
        args[2 * c->n_args] = res[c->n_args];
    *out = tl_expr_node(st->a, TL_EXPR_CASE, type, args,
                        (uint32_t)(2 * c->n_args) + (c->defresult != NULL));
    return 0;
}

/* COALESCE(...) (@coalesce) or GREATEST/LEAST(...). */
static int
bind_varargs(struct sql_stmt *st, const struct bind_scope *sc,
             PgQuery__Node **list, size_t n, const char *what, int location,
             struct tl_expr **out, uint8_t kind, uint8_t op)
{
    struct tl_expr **args = tl_arena_alloc(st->a, (n + 1) * sizeof(*args));
    int *locs = tl_arena_alloc(st->a, (n + 1) * sizeof(*locs));
    for (size_t i = 0; i < n; i++) {
        locs[i] = node_loc(list[i]);
        int rv = bind_node(st, sc, list[i], &args[i]);
        if (rv != 0)
            return rv;
    }
    uint8_t type;
    int rv = unify_common(st, what, args, (uint32_t)n, locs, location, &type);
    if (rv != 0)
        return rv;
    /* GREATEST and LEAST need an order: json has none (PostgreSQL's
     * 42883). */
    if (kind == TL_EXPR_MINMAX && type == TL_TYPE_JSON) {
        sql_error(st, TL_ETYPE, TL_SQLSTATE_UNDEFINED_FUNCTION,
                  "could not identify a comparison function for type json");
        return TL_ETYPE; /* PostgreSQL gives no position here */
    }
    *out = tl_expr_node(st->a, kind, type, args, (uint32_t)n);
    (*out)->op = op;
    return 0;
}

/* x IS [NOT] TRUE / FALSE / UNKNOWN: never NULL. */
static int
bind_bool_test(struct sql_stmt *st, const struct bind_scope *sc,
               const PgQuery__BooleanTest *t, struct tl_expr **out)
{
    struct tl_expr *x;
    int rv = bind_node(st, sc, t->arg, &x);
    if (rv == 0)
        rv = require_bool(st, "IS TRUE", &x, t->location);
    if (rv != 0)
        return rv;
    switch (t->booltesttype) {
    case PG_QUERY__BOOL_TEST_TYPE__IS_UNKNOWN:
    case PG_QUERY__BOOL_TEST_TYPE__IS_NOT_UNKNOWN:
        *out =
            tl_expr_node(st->a,
                         t->booltesttype == PG_QUERY__BOOL_TEST_TYPE__IS_UNKNOWN
                             ? TL_EXPR_IS_NULL
                             : TL_EXPR_IS_NOT_NULL,
                         TL_TYPE_BOOL, &x, 1);
        return fold(st, out);
    default:
        break;
    }
    bool want = t->booltesttype == PG_QUERY__BOOL_TEST_TYPE__IS_TRUE ||
                t->booltesttype == PG_QUERY__BOOL_TEST_TYPE__IS_NOT_TRUE;
    bool negate = t->booltesttype == PG_QUERY__BOOL_TEST_TYPE__IS_NOT_TRUE ||
                  t->booltesttype == PG_QUERY__BOOL_TEST_TYPE__IS_NOT_FALSE;
    struct tl_value v = tl_value_bool(want);
    *out = tl_expr_op(st->a, negate ? TL_OP_DISTINCT : TL_OP_NOT_DISTINCT,
                      TL_TYPE_BOOL, x, tl_expr_const(st->a, &v));
    return fold(st, out);
}

/* x COLLATE c: Talus compares text bytewise (PostgreSQL's "C"), so only
 * the collations that do the same are accepted. */
static int
bind_collate(struct sql_stmt *st, const struct bind_scope *sc,
             const PgQuery__CollateClause *c, struct tl_expr **out)
{
    const char *name =
        c->n_collname > 0 ? sql_node_str(c->collname[c->n_collname - 1]) : "";
    if (name == NULL)
        name = "";
    if (strcmp(name, "default") != 0 && strcmp(name, "C") != 0 &&
        strcmp(name, "POSIX") != 0 && strcmp(name, "ucs_basic") != 0) {
        sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_OBJECT,
                  "collation \"%s\" for encoding \"UTF8\" does not exist",
                  name);
        return sql_error_at(st, TL_ENOTFOUND, c->location);
    }
    int rv = bind_node(st, sc, c->arg, out);
    if (rv == 0 && !tl_type_is_text((*out)->type) &&
        (*out)->type != TL_TYPE_UNKNOWN) {
        sql_error(st, TL_ETYPE, TL_SQLSTATE_DATATYPE_MISMATCH,
                  "collations are not supported by type %s",
                  type_label((*out)->type));
        return sql_error_at(st, TL_ETYPE, c->location);
    }
    return rv;
}

static int
bind_other(struct sql_stmt *st, const struct bind_scope *sc,
           const PgQuery__Node *n, struct tl_expr **out)
{
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_SUB_LINK:
        if (sc->local != NULL)
            return query_bind_sublink(st, sc, n->sub_link, out);
        return sql_unsupported(st, "subquery");
    case PG_QUERY__NODE__NODE_CASE_EXPR:
        return bind_case(st, sc, n->case_expr, out);
    case PG_QUERY__NODE__NODE_COALESCE_EXPR:
        return bind_varargs(
            st, sc, n->coalesce_expr->args, n->coalesce_expr->n_args,
            "COALESCE", n->coalesce_expr->location, out, TL_EXPR_COALESCE, 0);
    case PG_QUERY__NODE__NODE_MIN_MAX_EXPR:
        return bind_varargs(
            st, sc, n->min_max_expr->args, n->min_max_expr->n_args,
            n->min_max_expr->op == PG_QUERY__MIN_MAX_OP__IS_GREATEST
                ? "GREATEST"
                : "LEAST",
            n->min_max_expr->location, out, TL_EXPR_MINMAX,
            n->min_max_expr->op == PG_QUERY__MIN_MAX_OP__IS_GREATEST
                ? TL_OP_GT
                : TL_OP_LT);
    case PG_QUERY__NODE__NODE_BOOLEAN_TEST:
        return bind_bool_test(st, sc, n->boolean_test, out);
    case PG_QUERY__NODE__NODE_A_ARRAY_EXPR:
        if (sc->local != NULL)
            return query_bind_array(st, sc, n->a_array_expr, out);
        return sql_unsupported(st, "array expression");
    case PG_QUERY__NODE__NODE_ROW_EXPR:
        return sql_unsupported(st, "row expression");
    case PG_QUERY__NODE__NODE_COLLATE_CLAUSE:
        return bind_collate(st, sc, n->collate_clause, out);
    case PG_QUERY__NODE__NODE_A_INDIRECTION:
        if (sc->local != NULL)
            return query_bind_subscript(st, sc, n->a_indirection, out);
        return sql_unsupported(st, "subscripts and field selection");
    case PG_QUERY__NODE__NODE_SET_TO_DEFAULT:
        return sql_unsupported(st, "DEFAULT");
    default:
        return sql_unsupported(st, "this expression");
    }
}

static int
bind_node(struct sql_stmt *st, const struct bind_scope *sc,
          const PgQuery__Node *n, struct tl_expr **out)
{
    int rv;
    if (++st->depth > SQL_MAX_DEPTH) {
        st->depth--;
        sql_error(st, TL_EOVERFLOW, TL_SQLSTATE_STATEMENT_TOO_COMPLEX,
                  "stack depth limit exceeded");
        tl_error_hint(&st->err, "The expression is nested too deeply.");
        return TL_EOVERFLOW;
    }
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_A_CONST:
        rv = bind_aconst(st, n->a_const, out);
        break;
    case PG_QUERY__NODE__NODE_COLUMN_REF:
        rv = bind_column(st, sc, n->column_ref, out);
        if (rv == TL_ENOTFOUND && sc->local != NULL)
            rv = query_bind_outer(st, sc, n, rv, out);
        if (rv == 0 && sc->col_cb != NULL)
            sc->col_cb(sc->cb_arg, *out, n->column_ref->location);
        break;
    case PG_QUERY__NODE__NODE_A_EXPR:
        rv = bind_aexpr(st, sc, n->a_expr, out);
        break;
    case PG_QUERY__NODE__NODE_BOOL_EXPR:
        rv = bind_bool(st, sc, n->bool_expr, out);
        break;
    case PG_QUERY__NODE__NODE_NULL_TEST:
        rv = bind_null_test(st, sc, n->null_test, out);
        break;
    case PG_QUERY__NODE__NODE_TYPE_CAST:
        rv = bind_cast(st, sc, n->type_cast, out);
        break;
    case PG_QUERY__NODE__NODE_FUNC_CALL:
        rv = bind_func(st, sc, n->func_call, n, out);
        break;
    case PG_QUERY__NODE__NODE_GROUPING_FUNC:
        rv = sc->local != NULL
                 ? query_bind_grouping(st, sc, n->grouping_func, out)
                 : sql_unsupported(st, "GROUPING() here");
        break;
    case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION:
        rv = func_bind_sqlvalue(st, n->sqlvalue_function, out);
        note_fixed(st);
        break;
    case PG_QUERY__NODE__NODE_PARAM_REF:
        rv = bind_param(st, n->param_ref, out);
        break;
    default:
        rv = bind_other(st, sc, n, out);
        break;
    }
    st->depth--;
    return rv;
}

int
bind_expr(struct sql_stmt *st, const struct bind_scope *sc,
          const PgQuery__Node *n, struct tl_expr **out)
{
    static const struct bind_scope none = {0};
    return bind_node(st, sc != NULL ? sc : &none, n, out);
}

int
bind_predicate(struct sql_stmt *st, const struct bind_scope *sc,
               const PgQuery__Node *n, struct tl_expr **out)
{
    int rv = bind_expr(st, sc, n, out);
    if (rv != 0)
        return rv;
    return require_bool(st, sc->clause != NULL ? sc->clause : "WHERE", out,
                        node_loc(n));
}

int
bind_const(struct sql_stmt *st, const PgQuery__Node *n, struct tl_value *out)
{
    struct tl_expr *e;
    int rv = bind_expr(st, NULL, n, &e);
    if (rv != 0)
        return rv;
    if (e->kind != TL_EXPR_CONST)
        return sql_unsupported(st, "a non-constant expression here");
    *out = e->value;
    out->type = e->type;
    return 0;
}

static bool
assignable(uint8_t from, uint8_t to)
{
    if (from == TL_TYPE_UNKNOWN)
        return true;
    if (tl_type_is_numeric(from) && tl_type_is_numeric(to))
        return true;
    if (tl_type_is_text(from) && tl_type_is_text(to))
        return true;
    /* PostgreSQL's assignment casts among date, timestamp, timestamptz. */
    if (tl_type_is_datetime(from) && tl_type_is_datetime(to))
        return true;
    return from == to;
}

int
bind_assign(struct sql_stmt *st, struct tl_expr **e, const char *colname,
            uint8_t type, int32_t typmod, int location)
{
    return bind_assign_what(st, e, colname, type, typmod, location,
                            "expression");
}

int
bind_assign_what(struct sql_stmt *st, struct tl_expr **e, const char *colname,
                 uint8_t type, int32_t typmod, int location, const char *what)
{
    if (!assignable((*e)->type, type)) {
        sql_error(st, TL_ETYPE, TL_SQLSTATE_DATATYPE_MISMATCH,
                  "column \"%s\" is of type %s but %s is of type %s", colname,
                  message_type(st, type, typmod), what, type_label((*e)->type));
        tl_error_hint(&st->err,
                      "You will need to rewrite or cast the expression.");
        /* PostgreSQL places a VALUES item, not a DEFAULT. */
        if (strcmp(what, "expression") != 0)
            return TL_ETYPE;
        return sql_error_at(st, TL_ETYPE, location);
    }
    if ((*e)->kind == TL_EXPR_CONST)
        return coerce_const(st, e, type, typmod, location);
    /* Date/time values have different representations per type. */
    if (tl_type_is_datetime(type) && (*e)->type != type)
        *e = wrap_cast(st, *e, type, typmod);
    return 0;
}

int
sql_bind_limit(struct sql_stmt *st, const PgQuery__Node *n, const char *what,
               const char *state, bool *has, uint64_t *out)
{
    *has = false;
    *out = 0;
    if (n == NULL)
        return 0;
    /* As PostgreSQL, LIMIT and OFFSET are bigint: a $n there is one. */
    struct tl_expr *e;
    int rv = bind_expr(st, NULL, n, &e);
    if (rv == 0)
        rv = bind_coerce_unknown(st, &e, TL_TYPE_INT8, -1, -1);
    if (rv == 0 && e->kind != TL_EXPR_CONST)
        rv = sql_unsupported(st, "a non-constant expression here");
    if (rv != 0)
        return rv;
    struct tl_value v = e->value;
    v.type = e->type;
    if (v.is_null)
        return 0;
    struct tl_value i;
    rv = tl_value_cast(&v, TL_TYPE_INT8, -1, st->a, &i, &st->err);
    if (rv != 0)
        return rv;
    if (i.u.i < 0)
        return sql_error(st, TL_EINVAL, state, "%s must not be negative", what);
    *has = true;
    *out = (uint64_t)i.u.i;
    return 0;
}

/* Where the expression @n starts: its leftmost operand's position, as
 * PostgreSQL's exprLocation. */
static int
expr_start(const PgQuery__Node *n)
{
    int loc = node_loc(n);
    if (n != NULL && n->node_case == PG_QUERY__NODE__NODE_A_EXPR &&
        n->a_expr->lexpr != NULL) {
        int l = expr_start(n->a_expr->lexpr);
        if (l >= 0 && (loc < 0 || l < loc))
            loc = l;
    }
    return loc;
}

int
sql_check_sort_type(struct sql_stmt *st, uint8_t type, bool ordering,
                    const PgQuery__Node *n)
{
    if (type == TL_TYPE_JSON) {
        sql_error(st, TL_ETYPE, TL_SQLSTATE_UNDEFINED_FUNCTION,
                  "could not identify an %s operator for type json",
                  ordering ? "ordering" : "equality");
        if (ordering)
            tl_error_hint(&st->err, "Use an explicit ordering operator or "
                                    "modify the query.");
        return sql_error_at(st, TL_ETYPE, expr_start(n));
    }
    return 0;
}

int
sql_bind_sort_order(struct sql_stmt *st, const PgQuery__SortBy *sb, bool *desc,
                    bool *nulls_first)
{
    if (sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_USING)
        return sql_unsupported(st, "ORDER BY ... USING");
    *desc = sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
    /* PostgreSQL: NULLs sort last ascending, first descending. */
    *nulls_first =
        sb->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ||
        (*desc &&
         sb->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST);
    return 0;
}
