/* dml — INSERT, UPDATE and DELETE.
 *
 * INSERT evaluates its VALUES at the router, groups the rows by shard and
 * writes one conditional batch per shard (PUT if absent), all shards in
 * parallel. UPDATE and DELETE send one ModifyFragment per target shard.
 *
 * Every statement is atomic, as in PostgreSQL. Inside a transaction its
 * writes are the transaction's. Outside one, a write that reaches one
 * shard in one request (an INSERT whose rows all hash there, a point
 * UPDATE or DELETE) commits as one Raft entry; anything else runs as a
 * transaction of its own (gather_txn_begin()): prewrites on every shard,
 * then one commit, so a duplicate key on any shard, a node or router
 * crash at any step, leaves none of the statement's rows.
 *
 * A reference table has a copy on every shard: INSERT sends the same batch
 * (same keys, same router-made rowids) to every shard; UPDATE and DELETE
 * run on every copy and report the count of one copy (the largest, with a
 * warning, if copies disagree), all in one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "log.h"
#include "router/core/router_int.h"
#include "router/core/sequences.h"
#include "router/exec/dml.h"
#include "router/exec/dml_int.h"
#include "router/exec/explain.h"
#include "router/exec/gather.h"
#include "router/exec/insert_select.h"
#include "router/plan/plan.h"
#include "router/sql/sql_int.h"
#include "row.h"
#include "secindex.h"

#define MOD "sql"

static int
refuse_insert(struct sql_stmt *st, const PgQuery__InsertStmt *is)
{
    if (is->with_clause != NULL)
        return sql_unsupported(st, "WITH (common table expressions)");
    if (is->on_conflict_clause != NULL)
        return sql_unsupported(st, "ON CONFLICT");
    if (is->n_returning_list > 0)
        return sql_unsupported(st, "RETURNING");
    if (is->select_stmt == NULL)
        return 0; /* DEFAULT VALUES */
    const PgQuery__SelectStmt *ss = is->select_stmt->select_stmt;
    if (is->select_stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
        return sql_unsupported(st, "INSERT ... SELECT");
    if (ss->n_sort_clause > 0 || ss->limit_count != NULL ||
        ss->limit_offset != NULL || ss->with_clause != NULL)
        return sql_unsupported(st, "ORDER BY/LIMIT/WITH on VALUES");
    return 0;
}

static int
no_column(struct sql_stmt *st, const struct tl_table *t, const char *name,
          int location)
{
    sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_COLUMN,
              "column \"%s\" of relation \"%s\" does not exist", name, t->name);
    return sql_error_at(st, TL_ENOTFOUND, location);
}

int
dml_generated_always(struct sql_stmt *st, const struct tl_column *col)
{
    sql_error(st, TL_EINVAL, TL_SQLSTATE_GENERATED_ALWAYS,
              "cannot insert a non-DEFAULT value into column \"%s\"",
              col->name);
    tl_error_detail(&st->err,
                    "Column \"%s\" is an identity column defined as "
                    "GENERATED ALWAYS.",
                    col->name);
    tl_error_hint(&st->err, "Use OVERRIDING SYSTEM VALUE to override.");
    return TL_EINVAL;
}

int
dml_bind_target_columns(struct sql_stmt *st, const PgQuery__InsertStmt *is,
                        struct ins *in)
{
    const struct tl_table *t = in->t;
    in->target = tl_arena_alloc(st->a, (t->n_columns + is->n_cols + 1) *
                                           sizeof(int32_t));
    if (is->n_cols == 0) {
        for (uint32_t c = 0; c < t->n_columns; c++)
            if (!t->columns[c].hidden)
                in->target[in->n_target++] = (int32_t)c;
        return 0;
    }
    for (size_t i = 0; i < is->n_cols; i++) {
        const PgQuery__ResTarget *rt = is->cols[i]->res_target;
        if (rt->n_indirection > 0)
            return sql_unsupported(st, "subscripts in INSERT column lists");
        int c = tl_table_find_column(t, rt->name);
        if (c < 0 || t->columns[c].hidden)
            return no_column(st, t, rt->name, rt->location);
        for (size_t k = 0; k < in->n_target; k++)
            if (in->target[k] == c) {
                sql_error(st, TL_EEXISTS, TL_SQLSTATE_DUPLICATE_COLUMN,
                          "column \"%s\" specified more than once", rt->name);
                return sql_error_at(st, TL_EEXISTS, rt->location);
            }
        in->target[in->n_target++] = c;
    }
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
    case PG_QUERY__NODE__NODE_A_EXPR:
        return n->a_expr->location;
    case PG_QUERY__NODE__NODE_COLUMN_REF:
        return n->column_ref->location;
    default:
        return -1;
    }
}

/* Evaluate one VALUES list into a full row of the table. */
static int
build_row(struct sql_stmt *st, struct ins *in, const PgQuery__List *l,
          bool explicit_cols, struct ins_row *r)
{
    const struct tl_table *t = in->t;
    if (l->n_items > in->n_target) {
        sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                  "INSERT has more expressions than target columns");
        return sql_error_at(st, TL_ESYNTAX,
                            node_location(l->items[in->n_target]));
    }
    if (explicit_cols && l->n_items < in->n_target)
        return sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                         "INSERT has more target columns than expressions");
    r->vals = tl_arena_alloc(st->a, t->n_columns * sizeof(*r->vals));
    bool *given = tl_arena_calloc(st->a, t->n_columns + 1);
    for (uint32_t c = 0; c < t->n_columns; c++)
        r->vals[c] = tl_value_null(t->columns[c].type);
    for (size_t i = 0; i < l->n_items; i++) {
        const PgQuery__Node *n = l->items[i];
        if (n->node_case == PG_QUERY__NODE__NODE_SET_TO_DEFAULT)
            continue; /* takes the column's default below */
        const struct tl_column *col = &t->columns[in->target[i]];
        /* OVERRIDING USER VALUE: identity columns take their default. */
        if (col->identity != TL_IDENTITY_NONE &&
            in->override == PG_QUERY__OVERRIDING_KIND__OVERRIDING_USER_VALUE)
            continue;
        if (col->identity == TL_IDENTITY_ALWAYS &&
            in->override !=
                PG_QUERY__OVERRIDING_KIND__OVERRIDING_SYSTEM_VALUE) {
            return dml_generated_always(st, col);
        }
        struct tl_expr *e;
        int rv = bind_expr(st, NULL, n, &e);
        if (rv == 0)
            rv = bind_assign(st, &e, col->name, col->type, col->typmod,
                             node_location(n));
        if (rv != 0)
            return rv;
        if (e->kind != TL_EXPR_CONST) {
            /* Binding folds every expression of constants into one, so
             * what is left calls a volatile function (gen_random_uuid()):
             * evaluate it here, once per row, as PostgreSQL does. It reads
             * no column (VALUES has none in scope). */
            struct tl_value v;
            given[in->target[i]] = true;
            if (st->describe_only)
                continue;
            rv = tl_expr_eval(e, NULL, 0, st->a, &v, &st->err);
            if (rv == 0)
                rv = tl_value_cast(&v, col->type, col->typmod, st->a,
                                   &r->vals[in->target[i]], &st->err);
            if (rv != 0)
                return rv;
            continue;
        }
        r->vals[in->target[i]] = e->value;
        r->vals[in->target[i]].type = col->type;
        given[in->target[i]] = true;
    }
    for (uint32_t c = 0; c < t->n_columns; c++) {
        if (given[c] || t->columns[c].hidden)
            continue;
        int rv = dml_default_value(st, in, c, &r->vals[c]);
        if (rv != 0)
            return rv;
    }
    if (st->describe_only)
        return 0; /* the $n are NULL: no constraint to check yet */
    for (uint32_t c = 0; c < t->n_columns; c++)
        if (t->columns[c].hidden && !t->columns[c].dropped)
            r->vals[c] = tl_value_int(TL_TYPE_INT8, router_next_rowid(st->r));
    return tl_table_check_row(t, r->vals, &st->err);
}

void
dml_encode_row(struct sql_stmt *st, const struct tl_table *t, struct ins_row *r,
               struct tl_buf *tmp)
{
    tl_buf_reset(tmp);
    tl_table_row_key(t, r->vals, tmp);
    r->key = tl_arena_alloc(st->a, tmp->len + 1);
    memcpy(r->key, tmp->data, tmp->len);
    r->key_len = tmp->len;
    tl_buf_reset(tmp);
    tl_row_encode(r->vals, t->n_columns, t->schema_version, tmp);
    r->value = tl_arena_alloc(st->a, tmp->len + 1);
    memcpy(r->value, tmp->data, tmp->len);
    r->value_len = tmp->len;
    r->shard = route_row_shard(t, r->vals, st->r->cfg.n_shards);
}

static int
cmp_key_rows(const void *a, const void *b)
{
    const struct ins_row *x = *(const struct ins_row *const *)a;
    const struct ins_row *y = *(const struct ins_row *const *)b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c != 0)
        return c;
    if (x->key_len != y->key_len)
        return x->key_len < y->key_len ? -1 : 1;
    return x < y ? -1 : x > y; /* later rows after earlier ones */
}

/* Index of the first row whose key in @keys repeats an earlier row's
 * (NULL keys skipped), or SIZE_MAX. */
static size_t
first_repeat(struct sql_stmt *st, struct ins *in, struct ins_row *keys)
{
    struct ins_row **v = malloc((in->n_rows + 1) * sizeof(*v));
    size_t n = 0, bad = SIZE_MAX;
    if (v == NULL)
        return SIZE_MAX;
    for (size_t i = 0; i < in->n_rows; i++)
        if (keys[i].key != NULL)
            v[n++] = &keys[i];
    qsort(v, n, sizeof(*v), cmp_key_rows);
    for (size_t i = 1; i < n; i++)
        if (v[i]->key_len == v[i - 1]->key_len &&
            memcmp(v[i]->key, v[i - 1]->key, v[i]->key_len) == 0) {
            bad = (size_t)(v[i] - keys);
            break;
        }
    (void)st;
    free(v);
    return bad;
}

int
dml_check_duplicates(struct sql_stmt *st, struct ins *in, size_t *bad_row)
{
    size_t bad = first_repeat(st, in, in->rows);
    if (bad != SIZE_MAX) {
        *bad_row = bad;
        return tl_table_dup_key_error(in->t, in->rows[bad].vals, &st->err);
    }
    /* A UNIQUE index: two rows of one statement with equal values (the
     * state machine checks each against the stored entries only). */
    for (uint32_t x = 0; x < in->t->n_indexes && in->n_rows > 1; x++) {
        const struct tl_index *ix = &in->t->indexes[x];
        if (!ix->unique)
            continue;
        struct ins_row *keys =
            tl_arena_calloc(st->a, (in->n_rows + 1) * sizeof(*keys));
        struct tl_buf b;
        tl_buf_init(&b);
        for (size_t i = 0; i < in->n_rows; i++) {
            if (!tl_index_unique_key(ix, in->rows[i].vals))
                continue;
            tl_buf_reset(&b);
            tl_index_key(in->t, ix, in->rows[i].vals, in->rows[i].key,
                         in->rows[i].key_len, &b);
            keys[i].key = tl_arena_alloc(st->a, b.len + 1);
            memcpy(keys[i].key, b.data, b.len);
            keys[i].key_len = b.len;
        }
        tl_buf_close(&b);
        bad = first_repeat(st, in, keys);
        if (bad != SIZE_MAX) {
            *bad_row = bad;
            return tl_index_dup_error(in->t, ix, in->rows[bad].vals, false,
                                      &st->err);
        }
    }
    return 0;
}

int
dml_default_value(struct sql_stmt *st, const struct ins *in, uint32_t c,
                  struct tl_value *out)
{
    if (in->defaults == NULL || in->defaults[c] == NULL) {
        *out = tl_value_null(in->t->columns[c].type);
        return 0;
    }
    return default_eval(st, in->t, c, in->defaults[c], -1, out);
}

static int
build_rows(struct sql_stmt *st, const PgQuery__InsertStmt *is, struct ins *in)
{
    /* DEFAULT VALUES: one row of an empty list (every column defaulted). */
    static PgQuery__Node *none[1];
    PgQuery__List empty = PG_QUERY__LIST__INIT;
    PgQuery__Node empty_node = PG_QUERY__NODE__INIT;
    PgQuery__Node *empty_rows[1] = {&empty_node};
    PgQuery__SelectStmt dv = PG_QUERY__SELECT_STMT__INIT;
    empty.items = none;
    empty_node.node_case = PG_QUERY__NODE__NODE_LIST;
    empty_node.list = &empty;
    dv.n_values_lists = 1;
    dv.values_lists = empty_rows;
    const PgQuery__SelectStmt *ss =
        is->select_stmt != NULL ? is->select_stmt->select_stmt : &dv;
    in->n_rows = ss->n_values_lists;
    in->rows = tl_arena_calloc(st->a, in->n_rows * sizeof(*in->rows));
    struct tl_buf tmp;
    tl_buf_init(&tmp);
    size_t bytes = 0;
    int rv = 0;
    for (size_t i = 0; i < in->n_rows && rv == 0; i++) {
        const PgQuery__Node *n = ss->values_lists[i];
        if (n->node_case != PG_QUERY__NODE__NODE_LIST) {
            rv = sql_unsupported(st, "this VALUES form");
            break;
        }
        rv = build_row(st, in, n->list, is->n_cols > 0, &in->rows[i]);
        if (rv != 0)
            break;
        if (st->describe_only)
            continue;
        dml_encode_row(st, in->t, &in->rows[i], &tmp);
        bytes += in->rows[i].key_len + in->rows[i].value_len + 16;
        if (bytes > SQL_MAX_BATCH_BYTES)
            rv = sql_error(st, TL_ETOOBIG, TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
                           "INSERT is too large: its rows pass the %u MiB "
                           "limit of one statement",
                           SQL_MAX_BATCH_BYTES >> 20);
    }
    tl_buf_close(&tmp);
    size_t bad_row;
    if (rv == 0 && !st->describe_only)
        rv = dml_check_duplicates(st, in, &bad_row);
    return rv;
}

/* Per-shard batches. */
struct shard_batch {
    uint32_t shard;
    Talus__Mutation **muts;
    size_t n;
    size_t *row_of; /* mutation index -> row index */
    int32_t *ix_of; /* mutation index -> its index in t->indexes, -1:
                       the row itself */
};

static Talus__Mutation *
row_mutation(struct sql_stmt *st, const struct ins_row *r)
{
    Talus__Mutation *m = tl_arena_alloc(st->a, sizeof(*m));
    talus__mutation__init(m);
    m->key.data = r->key;
    m->key.len = r->key_len;
    m->has_cond = 1;
    m->kind = TALUS__MUTATION__KIND__PUT;
    m->cond = TALUS__MUTATION__COND__ABSENT;
    m->has_value = 1;
    m->value.data = r->value;
    m->value.len = r->value_len;
    return m;
}

/* Append row @i of @in to batch @sb: its PUT, then its secondary index
 * entries (common/secindex.h). */
static void
add_row(struct sql_stmt *st, struct ins *in, size_t i, struct shard_batch *sb)
{
    const struct ins_row *r = &in->rows[i];
    size_t first = sb->n;
    sb->row_of[sb->n] = i;
    sb->ix_of[sb->n] = -1;
    sb->muts[sb->n++] = row_mutation(st, r);
    if (in->t->n_indexes == 0)
        return;
    uint32_t ix[2 * TL_MAX_INDEXES];
    tl_index_mutations(in->t, NULL, NULL, 0, r->vals, r->key, r->key_len, st->a,
                       sb->muts, ix, &sb->n);
    for (size_t k = first + 1; k < sb->n; k++) {
        sb->row_of[k] = i;
        sb->ix_of[k] = (int32_t)ix[k - first - 1];
    }
}

/* Room in @sb for @rows rows of @t. */
static void
batch_alloc(struct sql_stmt *st, const struct tl_table *t, size_t rows,
            struct shard_batch *sb)
{
    size_t cap = rows * (1 + (size_t)t->n_indexes) + 1;
    sb->muts = tl_arena_alloc(st->a, cap * sizeof(void *));
    sb->row_of = tl_arena_alloc(st->a, cap * sizeof(size_t));
    sb->ix_of = tl_arena_alloc(st->a, cap * sizeof(int32_t));
}

/* A reference table: every row to every shard, in the same order. */
static size_t
group_every_copy(struct sql_stmt *st, struct ins *in, struct shard_batch **out)
{
    uint32_t ns = st->r->cfg.n_shards;
    struct shard_batch *b = tl_arena_calloc(st->a, (ns + 1) * sizeof(*b));
    struct shard_batch one = {0};
    batch_alloc(st, in->t, in->n_rows, &one);
    for (size_t i = 0; i < in->n_rows; i++)
        add_row(st, in, i, &one);
    /* The batches are only read (and packed) by exec: they can share. */
    for (uint32_t s = 0; s < ns; s++) {
        b[s] = one;
        b[s].shard = s;
    }
    *out = b;
    return ns;
}

/* The rows of @in as one batch per shard. */
static size_t
group_by_shard(struct sql_stmt *st, struct ins *in, struct shard_batch **out)
{
    if (route_is_reference(in->t))
        return group_every_copy(st, in, out);
    uint32_t ns = st->r->cfg.n_shards;
    size_t *count = tl_arena_calloc(st->a, ns * sizeof(size_t));
    for (size_t i = 0; i < in->n_rows; i++)
        count[in->rows[i].shard]++;
    struct shard_batch *b = tl_arena_calloc(st->a, (ns + 1) * sizeof(*b));
    size_t *slot = tl_arena_calloc(st->a, ns * sizeof(size_t));
    size_t nb = 0;
    for (uint32_t s = 0; s < ns; s++) {
        if (count[s] == 0)
            continue;
        slot[s] = nb;
        b[nb].shard = s;
        batch_alloc(st, in->t, count[s], &b[nb]);
        nb++;
    }
    for (size_t i = 0; i < in->n_rows; i++)
        add_row(st, in, i, &b[slot[in->rows[i].shard]]);
    *out = b;
    return nb;
}

static struct gather_call *
make_write_calls(struct sql_stmt *st, const struct tl_table *t,
                 const struct shard_batch *b, size_t n)
{
    struct gather_call *calls =
        tl_arena_calloc(st->a, (n + 1) * sizeof(*calls));
    for (size_t i = 0; i < n; i++) {
        Talus__WriteBatch *wb = tl_arena_alloc(st->a, sizeof(*wb));
        talus__write_batch__init(wb);
        wb->mutations = b[i].muts;
        wb->n_mutations = b[i].n;
        talus__request__init(&calls[i].req);
        calls[i].shard = b[i].shard;
        calls[i].schema_version = t->schema_version;
        calls[i].req.body_case = TALUS__REQUEST__BODY_WRITE;
        calls[i].req.write = wb;
    }
    return calls;
}

/* The report for a failed INSERT: a duplicate key names its row (its
 * index in @in to *@bad_row). */
static int
insert_failure(struct sql_stmt *st, struct ins *in, struct shard_batch *b,
               struct gather_call *calls, size_t n, size_t *bad_row)
{
    for (size_t i = 0; i < n; i++) {
        const Talus__Response *r = calls[i].resp;
        if (calls[i].rv == 0 && r != NULL && r->error != NULL &&
            strcmp(r->error->sqlstate, TL_SQLSTATE_UNIQUE_VIOLATION) == 0 &&
            r->error->has_mutation && r->error->mutation >= 0 &&
            (size_t)r->error->mutation < b[i].n) {
            *bad_row = b[i].row_of[r->error->mutation];
            int32_t x = b[i].ix_of[r->error->mutation];
            if (x >= 0)
                return tl_index_dup_error(in->t, &in->t->indexes[x],
                                          in->rows[*bad_row].vals, false,
                                          &st->err);
            return tl_table_dup_key_error(in->t, in->rows[*bad_row].vals,
                                          &st->err);
        }
    }
    for (size_t i = 0; i < n; i++) {
        int rv = gather_check(st, &calls[i]);
        if (rv != 0)
            return rv;
    }
    return TL_EIO;
}

/* Refuse (54000) before sending anything if a shard's batch would not fit
 * one raft entry (max_entry_bytes): nodes refuse it too, but by then the
 * other shards could have written. */
static int
insert_check_size(struct sql_stmt *st, const struct shard_batch *b, size_t n)
{
    uint32_t max = st->r->cfg.max_entry_bytes;
    for (size_t i = 0; i < n; i++) {
        Talus__WriteBatch wb = TALUS__WRITE_BATCH__INIT;
        size_t len;
        wb.n_mutations = b[i].n;
        wb.mutations = b[i].muts;
        /* + the request id the call adds */
        len = tl_cluster_entry_bytes(talus__write_batch__get_packed_size(&wb) +
                                     11);
        if (len > max)
            return tl_cluster_entry_too_large(b[i].shard, len, max, &st->err);
    }
    return 0;
}

int
dml_insert_rows(struct sql_stmt *st, struct ins *in, size_t *bad_row)
{
    struct shard_batch *b;
    *bad_row = SIZE_MAX;
    size_t n = group_by_shard(st, in, &b);
    int rv = insert_check_size(st, b, n);
    /* Rows for several shards are written in one transaction. */
    if (rv == 0 && n > 1)
        rv = gather_txn_begin(st);
    if (rv != 0)
        return rv;
    struct gather_call *calls = make_write_calls(st, in->t, b, n);
    gather_run(st, calls, n);
    bool failed = false;
    for (size_t i = 0; i < n; i++)
        failed = failed || calls[i].rv != 0 || calls[i].resp->error != NULL;
    if (failed)
        rv = insert_failure(st, in, b, calls, n, bad_row);
    gather_release(calls, n);
    return rv;
}

static int
insert_explain(struct sql_stmt *st, struct ins *in)
{
    struct plan p = {.table = in->t};
    uint32_t ns = st->r->cfg.n_shards;
    bool *hit = tl_arena_calloc(st->a, ns);
    p.shards = tl_arena_alloc(st->a, (ns + 1) * sizeof(uint32_t));
    for (size_t i = 0; i < in->n_rows; i++)
        hit[in->rows[i].shard] = true;
    for (uint32_t s = 0; s < ns; s++)
        if (hit[s])
            p.shards[p.n_shards++] = s;
    if (route_is_reference(in->t)) {
        for (uint32_t s = 0; s < ns; s++)
            p.shards[s] = s;
        p.n_shards = ns;
        p.route.ref = ROUTE_REF_WRITE;
    }
    p.route.all = ns > 1 && p.n_shards == ns;
    p.route.point = in->n_rows == 1;
    const char *extra = tl_arena_printf(st->a, "Rows: %zu", in->n_rows);
    explain_send(st, &p, &extra, 1);
    return 0;
}

int
dml_exec_insert(struct sql_stmt *st, const PgQuery__InsertStmt *is,
                bool explain)
{
    struct ins in = {0};
    in.override = is->override;
    if (is->select_stmt != NULL &&
        is->select_stmt->node_case == PG_QUERY__NODE__NODE_SELECT_STMT &&
        is->select_stmt->select_stmt->n_values_lists == 0)
        return insert_select_exec(st, is, explain);
    int rv = refuse_insert(st, is);
    if (rv == 0)
        rv = sql_lookup_table(st, is->relation, &in.t);
    if (rv == 0)
        rv = default_parse_table(st, in.t, &in.defaults);
    if (rv == 0)
        rv = dml_bind_target_columns(st, is, &in);
    if (rv == 0)
        rv = build_rows(st, is, &in);
    if (rv != 0 || st->describe_only)
        return rv;
    if (explain)
        return insert_explain(st, &in);
    size_t bad_row;
    rv = gather_txn_end(st, dml_insert_rows(st, &in, &bad_row));
    if (rv != 0)
        return rv;
    char tag[48];
    snprintf(tag, sizeof(tag), "INSERT 0 %zu", in.n_rows);
    dest_complete(st->dest, tag);
    return 0;
}

static const char *
alias_of(const PgQuery__RangeVar *rv)
{
    return rv->alias != NULL ? rv->alias->aliasname : rv->relname;
}

/* SET c = DEFAULT: the column's default as one constant for every row
 * the UPDATE changes (NULL when it has none). A default that takes a
 * value per row (nextval(), a serial or identity column) would give all
 * of them the same one: refused. */
static int
bind_set_default(struct sql_stmt *st, const struct tl_table *t, uint32_t c,
                 struct tl_expr **out)
{
    const struct tl_column *col = &t->columns[c];
    struct tl_value v = tl_value_null(col->type);
    if (col->identity != TL_IDENTITY_NONE ||
        (col->default_expr != NULL &&
         strstr(col->default_expr, "nextval(") != NULL))
        return sql_unsupported(st, "SET to the DEFAULT of a column whose "
                                   "default calls nextval()");
    if (col->default_expr != NULL) {
        const PgQuery__Node *n;
        int rv = default_parse(st, col->default_expr, &n);
        if (rv == 0)
            rv = default_eval(st, t, c, n, -1, &v);
        if (rv != 0)
            return rv;
    }
    *out = tl_expr_const(st->a, &v);
    (*out)->type = col->type;
    return 0;
}

static int
bind_assignment(struct sql_stmt *st, const struct plan *p, const char *alias,
                const PgQuery__ResTarget *rt, bool *seen,
                Talus__Assignment **out)
{
    const struct tl_table *t = p->table;
    if (rt->n_indirection > 0)
        return sql_unsupported(st, "subscripts in SET");
    int c = tl_table_find_column(t, rt->name);
    if (c < 0 || t->columns[c].hidden)
        return no_column(st, t, rt->name, rt->location);
    if (c == t->shard_key) {
        sql_error(st, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                  "updating the shard key column \"%s\" is not supported",
                  rt->name);
        return sql_error_at(st, TL_EUNSUPPORTED, rt->location);
    }
    if (seen[c]) {
        sql_error(st, TL_ESYNTAX, TL_SQLSTATE_SYNTAX_ERROR,
                  "multiple assignments to same column \"%s\"", rt->name);
        return sql_error_at(st, TL_ESYNTAX, rt->location);
    }
    seen[c] = true;
    struct bind_scope sc = {.table = t, .alias = alias, .clause = "UPDATE"};
    struct tl_expr *e;
    const struct tl_column *col = &t->columns[c];
    int rv;
    if (rt->val->node_case == PG_QUERY__NODE__NODE_SET_TO_DEFAULT) {
        rv = bind_set_default(st, t, (uint32_t)c, &e);
    } else {
        rv = bind_expr(st, &sc, rt->val, &e);
    }
    if (rv == 0)
        rv = bind_assign(st, &e, col->name, col->type, col->typmod,
                         node_location(rt->val));
    if (rv != 0)
        return rv;
    Talus__Assignment *a = tl_arena_alloc(st->a, sizeof(*a));
    talus__assignment__init(a);
    a->column = (uint32_t)c;
    a->expr = tl_expr_to_proto(e, st->a);
    *out = a;
    return 0;
}

/* Run @mod on every copy of a reference table (the shards of @p), in
 * parallel, following resume keys; *@count gets the rows one copy
 * changed. Copies hold the same rows, so they agree unless a write is in
 * flight or an earlier statement failed midway (docs/sharding.md): then
 * the largest count is reported and the disagreement logged. */
static int
modify_every_copy(struct sql_stmt *st, const struct plan *p,
                  const Talus__ModifyFragment *mod, uint64_t *count)
{
    uint64_t total;
    uint64_t *per = tl_arena_calloc(st->a, (p->n_shards + 1) * sizeof(*per));
    int rv = gather_modify(st, p, mod, &total, per);

    *count = 0;
    if (rv != 0 || p->n_shards == 0)
        return rv;
    uint64_t lo = per[0], hi = per[0];
    for (size_t i = 1; i < p->n_shards; i++) {
        lo = per[i] < lo ? per[i] : lo;
        hi = per[i] > hi ? per[i] : hi;
    }
    if (lo != hi)
        tl_warn(MOD,
                "event=reference_copies_disagree table=%s min=%llu max=%llu",
                p->table->name, (unsigned long long)lo, (unsigned long long)hi);
    *count = hi;
    return 0;
}

/* Run UPDATE or DELETE @m over the shards of @p. Outside a transaction,
 * anything but a point write on one shard runs in a transaction of its
 * own, so the statement changes every row it matches or none. */
static int
modify_run(struct sql_stmt *st, const struct plan *p, Talus__ModifyFragment *m,
           const char *verb)
{
    uint64_t n;
    int rv = 0;
    if (p->n_shards > 1 || !p->route.point)
        rv = gather_txn_begin(st);
    if (rv == 0)
        rv = p->route.ref == ROUTE_REF_WRITE
                 ? modify_every_copy(st, p, m, &n)
                 : gather_modify(st, p, m, &n, NULL);
    rv = gather_txn_end(st, rv);
    if (rv != 0)
        return rv;
    char tag[48];
    snprintf(tag, sizeof(tag), "%s %llu", verb, (unsigned long long)n);
    dest_complete(st->dest, tag);
    return 0;
}

int
dml_exec_update(struct sql_stmt *st, const PgQuery__UpdateStmt *us,
                bool explain)
{
    if (us->with_clause != NULL)
        return sql_unsupported(st, "WITH (common table expressions)");
    if (us->n_returning_list > 0)
        return sql_unsupported(st, "RETURNING");
    if (us->n_from_clause > 0)
        return sql_unsupported(st, "UPDATE ... FROM");
    struct tl_table *t;
    int rv = sql_lookup_table(st, us->relation, &t);
    struct plan p;
    if (rv == 0)
        rv = plan_build(st, t, alias_of(us->relation), us->where_clause, &p);
    if (rv != 0)
        return rv;
    if (p.route.ref != ROUTE_REF_NONE)
        plan_every_copy(st, &p);
    Talus__ModifyFragment *m = tl_arena_alloc(st->a, sizeof(*m));
    talus__modify_fragment__init(m);
    m->set = tl_arena_alloc(st->a, (us->n_target_list + 1) * sizeof(void *));
    bool *seen = tl_arena_calloc(st->a, t->n_columns);
    for (size_t i = 0; i < us->n_target_list; i++) {
        const PgQuery__Node *n = us->target_list[i];
        if (n->res_target->val != NULL &&
            n->res_target->val->node_case ==
                PG_QUERY__NODE__NODE_MULTI_ASSIGN_REF)
            return sql_unsupported(st, "SET (a, b) = (...)");
        rv = bind_assignment(st, &p, alias_of(us->relation), n->res_target,
                             seen, &m->set[m->n_set]);
        if (rv != 0)
            return rv;
        m->n_set++;
    }
    if (st->describe_only)
        return 0;
    if (explain) {
        const char *extra = tl_arena_printf(st->a, "Update: %zu column%s",
                                            m->n_set, m->n_set == 1 ? "" : "s");
        explain_send(st, &p, &extra, 1);
        return 0;
    }
    m->scan = plan_fragment(st, &p);
    return modify_run(st, &p, m, "UPDATE");
}

int
dml_exec_delete(struct sql_stmt *st, const PgQuery__DeleteStmt *ds,
                bool explain)
{
    if (ds->with_clause != NULL)
        return sql_unsupported(st, "WITH (common table expressions)");
    if (ds->n_returning_list > 0)
        return sql_unsupported(st, "RETURNING");
    if (ds->n_using_clause > 0)
        return sql_unsupported(st, "DELETE ... USING");
    struct tl_table *t;
    int rv = sql_lookup_table(st, ds->relation, &t);
    struct plan p;
    if (rv == 0)
        rv = plan_build(st, t, alias_of(ds->relation), ds->where_clause, &p);
    if (rv != 0)
        return rv;
    if (p.route.ref != ROUTE_REF_NONE)
        plan_every_copy(st, &p);
    if (st->describe_only)
        return 0;
    if (explain) {
        const char *extra = "Delete: matching rows";
        explain_send(st, &p, &extra, 1);
        return 0;
    }
    Talus__ModifyFragment *m = tl_arena_alloc(st->a, sizeof(*m));
    talus__modify_fragment__init(m);
    m->has_is_delete = 1;
    m->is_delete = 1;
    m->scan = plan_fragment(st, &p);
    return modify_run(st, &p, m, "DELETE");
}

/* TRUNCATE inside a transaction block: every row of each table deleted
 * by the transaction (a rollback brings them back). RESTART IDENTITY
 * would restart sequences, which are not transactional: refused. */
static int
truncate_in_txn(struct sql_stmt *st, const PgQuery__TruncateStmt *ts,
                struct tl_table **tables)
{
    if (ts->restart_seqs)
        return sql_error(st, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                         "TRUNCATE ... RESTART IDENTITY cannot run inside a "
                         "transaction block");
    for (size_t i = 0; i < ts->n_relations; i++) {
        struct plan p;
        uint64_t n;
        Talus__ModifyFragment *m;
        int rv = plan_build(st, tables[i], tables[i]->name, NULL, &p);
        if (rv != 0)
            return rv;
        if (p.route.ref != ROUTE_REF_NONE)
            plan_every_copy(st, &p);
        m = tl_arena_alloc(st->a, sizeof(*m));
        talus__modify_fragment__init(m);
        m->has_is_delete = 1;
        m->is_delete = 1;
        m->scan = plan_fragment(st, &p);
        rv = p.route.ref == ROUTE_REF_WRITE
                 ? modify_every_copy(st, &p, m, &n)
                 : gather_modify(st, &p, m, &n, NULL);
        if (rv != 0)
            return rv;
    }
    dest_complete(st->dest, "TRUNCATE TABLE");
    return 0;
}

Talus__Mutation *
dml_delete_range(struct sql_stmt *st, const struct tl_buf *start,
                 const struct tl_buf *end)
{
    Talus__Mutation *m = tl_arena_alloc(st->a, sizeof(*m));
    talus__mutation__init(m);
    m->kind = TALUS__MUTATION__KIND__DELETE_RANGE;
    m->key.data = tl_arena_alloc(st->a, start->len + 1);
    memcpy(m->key.data, start->data, start->len);
    m->key.len = start->len;
    m->has_end_key = 1;
    m->end_key.data = tl_arena_alloc(st->a, end->len + 1);
    memcpy(m->end_key.data, end->data, end->len);
    m->end_key.len = end->len;
    return m;
}

int
dml_exec_truncate(struct sql_stmt *st, const PgQuery__TruncateStmt *ts)
{
    struct tl_table **tables =
        tl_arena_calloc(st->a, (ts->n_relations + 1) * sizeof(*tables));
    uint32_t n_shards = st->r->cfg.n_shards;
    struct gather_call *calls =
        tl_arena_calloc(st->a, (n_shards + 1) * sizeof(*calls));
    int rv;

    /* Every name first: a missing one truncates nothing. */
    for (size_t i = 0; i < ts->n_relations; i++) {
        const PgQuery__Node *n = ts->relations[i];
        if (n->node_case != PG_QUERY__NODE__NODE_RANGE_VAR)
            return sql_unsupported(st, "this TRUNCATE target");
        rv = sql_lookup_table(st, n->range_var, &tables[i]);
        if (rv != 0) {
            st->err.position = 0;
            return rv;
        }
    }
    if (st->txn != NULL)
        return truncate_in_txn(st, ts, tables);
    for (size_t i = 0; i < ts->n_relations; i++) {
        struct tl_buf start, end;
        Talus__Mutation **muts = tl_arena_alloc(st->a, sizeof(*muts));

        tl_buf_init(&start);
        tl_buf_init(&end);
        tl_table_all_keys_range(tables[i], &start, &end);
        muts[0] = dml_delete_range(st, &start, &end);
        tl_buf_close(&start);
        tl_buf_close(&end);
        /* Unsharded and reference tables live on shard 0 or on every
         * shard: a range delete where there are no rows is harmless. */
        for (uint32_t s = 0; s < n_shards; s++) {
            Talus__WriteBatch *wb = tl_arena_alloc(st->a, sizeof(*wb));
            talus__write_batch__init(wb);
            wb->mutations = muts;
            wb->n_mutations = 1;
            memset(&calls[s], 0, sizeof(calls[s]));
            talus__request__init(&calls[s].req);
            calls[s].shard = s;
            calls[s].req.body_case = TALUS__REQUEST__BODY_WRITE;
            calls[s].req.write = wb;
        }
        gather_run(st, calls, n_shards);
        rv = 0;
        for (uint32_t s = 0; s < n_shards && rv == 0; s++)
            rv = gather_check(st, &calls[s]);
        gather_release(calls, n_shards);
        if (rv != 0)
            return rv;
    }
    /* RESTART IDENTITY: the sequences the tables own start again. */
    for (size_t i = 0; i < ts->n_relations && ts->restart_seqs; i++) {
        struct tl_sequence *owned;
        size_t n_owned;
        rv = sequence_list_owned(st->r, tables[i]->id, st->a, &owned, &n_owned,
                                 &st->err);
        for (size_t k = 0; k < n_owned && rv == 0; k++)
            rv = sequence_restart(st->r, &owned[k], &st->err);
        if (rv != 0)
            return rv;
    }
    dest_complete(st->dest, "TRUNCATE TABLE");
    return 0;
}
