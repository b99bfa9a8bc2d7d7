#include "table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "keycodec.h"
#include "row.h"
#include "vindex.h"

static int
proto_error(struct tl_error *err, const char *what, const char *name)
{
    return tl_error_set(err, TL_EPROTO, TL_SQLSTATE_PROTOCOL_VIOLATION,
                        "invalid table description%s%s%s: %s",
                        name ? " \"" : "", name ? name : "", name ? "\"" : "",
                        what);
}

static bool
valid_name(const char *s)
{
    return s != NULL && s[0] != '\0' && strlen(s) < TL_NAME_MAX;
}

/* The boundaries of a range table, decoded into @vals (n_range_shards - 1
 * entries; text borrows t->range_bounds). TL_ECORRUPT when they do not
 * decode to that many values. */
static int
decode_bounds(const struct tl_table *t, struct tl_value *vals, size_t n)
{
    size_t got;
    int rv = tl_row_decode(t->range_bounds, t->range_bounds_len, vals, n, &got);
    if (rv == 0 && got != n)
        rv = TL_ECORRUPT;
    return rv;
}

/* Copy and check the consistent_hash / range parameters of @pb. */
static int
fill_vindex_params(const Talus__TableDesc *pb, struct tl_table *t,
                   const char *tname, struct tl_error *err)
{
    if (t->vindex == TL_VINDEX_CONSISTENT_HASH) {
        t->ring_vnodes = pb->ring_vnodes;
        t->ring_shards = pb->ring_shards;
        if (t->ring_shards == 0)
            return proto_error(err, "consistent_hash without shards", tname);
    }
    if (t->vindex != TL_VINDEX_RANGE)
        return 0;
    if (pb->n_range_shards == 0 || pb->n_range_shards > UINT32_MAX / 2)
        return proto_error(err, "range vindex without ranges", tname);
    t->n_range_shards = (uint32_t)pb->n_range_shards;
    t->range_shards = malloc(pb->n_range_shards * sizeof(uint32_t));
    t->range_bounds = malloc(pb->range_bounds.len + 1);
    if (t->range_shards == NULL || t->range_bounds == NULL)
        abort();
    memcpy(t->range_shards, pb->range_shards,
           pb->n_range_shards * sizeof(uint32_t));
    if (pb->range_bounds.len > 0)
        memcpy(t->range_bounds, pb->range_bounds.data, pb->range_bounds.len);
    t->range_bounds_len = pb->range_bounds.len;
    size_t n = t->n_range_shards - 1;
    struct tl_value *vals = malloc((n + 1) * sizeof(*vals));
    if (vals == NULL)
        abort();
    int rv = decode_bounds(t, vals, n);
    free(vals);
    if (rv != 0)
        return proto_error(err, "bad range boundaries", tname);
    return 0;
}

/* Check @pb's secondary indexes and copy them into @t. */
static int
fill_indexes(const Talus__TableDesc *pb, struct tl_table *t, const char *tname,
             struct tl_error *err)
{
    t->next_index_id = pb->next_index_id;
    if (pb->n_indexes == 0)
        return 0;
    if (pb->n_indexes > TL_MAX_INDEXES)
        return proto_error(err, "too many indexes", tname);
    t->indexes = calloc(pb->n_indexes, sizeof(*t->indexes));
    if (t->indexes == NULL)
        abort();
    t->n_indexes = (uint32_t)pb->n_indexes;
    for (size_t i = 0; i < pb->n_indexes; i++) {
        const Talus__IndexDesc *d = pb->indexes[i];
        struct tl_index *ix = &t->indexes[i];
        if (d == NULL || !valid_name(d->name))
            return proto_error(err, "bad index name", tname);
        if (d->id <= TL_INDEX_PRIMARY || d->n_columns == 0 ||
            d->n_columns > TL_MAX_INDEX_COLS || d->state > TL_INDEX_VALID)
            return proto_error(err, "bad index", tname);
        for (size_t j = 0; j < i; j++)
            if (t->indexes[j].id == d->id)
                return proto_error(err, "duplicate index id", tname);
        ix->id = d->id;
        strcpy(ix->name, d->name);
        ix->unique = d->unique;
        ix->state = (uint8_t)d->state;
        ix->valid_ts = d->valid_ts;
        ix->n_cols = (uint32_t)d->n_columns;
        for (size_t j = 0; j < d->n_columns; j++) {
            if (d->columns[j] >= pb->n_columns)
                return proto_error(err, "bad index column", tname);
            ix->cols[j] = d->columns[j];
        }
    }
    return 0;
}

/* Check @pb and copy it into @t (columns already allocated). */
static int
fill_from_proto(const Talus__TableDesc *pb, struct tl_table *t,
                struct tl_error *err)
{
    const char *tname = valid_name(pb->name) ? pb->name : NULL;

    if (tname == NULL)
        return proto_error(err, "bad table name", NULL);
    t->id = pb->id;
    strcpy(t->name, pb->name);
    for (size_t i = 0; i < pb->n_columns; i++) {
        const Talus__Column *c = pb->columns[i];
        struct tl_column *col = &t->columns[i];

        if (c == NULL || !valid_name(c->name))
            return proto_error(err, "bad column name", tname);
        if (c->type == TL_TYPE_UNKNOWN || c->type > UINT8_MAX ||
            !tl_type_is_known((uint8_t)c->type))
            return proto_error(err, "unknown column type", tname);
        for (size_t j = 0; j < i; j++)
            if (strcmp(t->columns[j].name, c->name) == 0)
                return proto_error(err, "duplicate column name", tname);
        strcpy(col->name, c->name);
        col->type = (uint8_t)c->type;
        col->typmod = -1;
        if ((col->type == TL_TYPE_VARCHAR || col->type == TL_TYPE_BPCHAR) &&
            c->has_typmod && c->typmod >= 0) {
            if (c->typmod == 0)
                return proto_error(err, "bad character length", tname);
            col->typmod = c->typmod;
        }
        if (col->type == TL_TYPE_INTERVAL && c->has_typmod && c->typmod >= 0)
            col->typmod = c->typmod; /* (range << 16) | precision */
        if (col->type == TL_TYPE_NUMERIC && c->has_typmod && c->typmod >= 0) {
            if (c->typmod < 4 + (1 << 16)) /* precision at least 1 */
                return proto_error(err, "bad numeric typmod", tname);
            col->typmod = c->typmod;
        }
        col->not_null = c->not_null;
        col->hidden = c->hidden;
        col->dropped = c->dropped;
        if (c->identity > TL_IDENTITY_BY_DEFAULT)
            return proto_error(err, "unknown identity kind", tname);
        col->identity = (uint8_t)c->identity;
        if (c->default_expr != NULL) {
            col->default_expr = strdup(c->default_expr);
            if (col->default_expr == NULL)
                abort();
        }
    }
    if (pb->n_pk == 0 || pb->n_pk > TL_MAX_PK)
        return proto_error(err, "bad primary key", tname);
    t->n_pk = (uint32_t)pb->n_pk;
    for (size_t i = 0; i < pb->n_pk; i++) {
        if (pb->pk[i] >= pb->n_columns)
            return proto_error(err, "bad primary key column", tname);
        for (size_t j = 0; j < i; j++)
            if (pb->pk[j] == pb->pk[i])
                return proto_error(err, "duplicate primary key column", tname);
        t->pk[i] = pb->pk[i];
        /* As in PostgreSQL, primary-key columns are NOT NULL. */
        t->columns[pb->pk[i]].not_null = true;
    }
    /* Fields hold their proto defaults when absent (init / unpack). */
    t->shard_key = pb->shard_key;
    if (t->shard_key < -1 || t->shard_key >= (int32_t)pb->n_columns)
        return proto_error(err, "bad shard key", tname);
    t->vindex = pb->vindex;
    if (t->vindex > TL_VINDEX_RANGE)
        return proto_error(err, "unknown vindex", tname);
    if (t->vindex != TL_VINDEX_NONE && t->shard_key < 0)
        return proto_error(err, "vindex without a shard key", tname);
    t->schema_version = pb->schema_version;
    t->distribution = pb->distribution;
    if (t->distribution > TL_DIST_REFERENCE)
        return proto_error(err, "unknown distribution", tname);
    int rv = fill_indexes(pb, t, tname, err);
    if (rv != 0)
        return rv;
    return fill_vindex_params(pb, t, tname, err);
}

int
tl_table_from_proto(const Talus__TableDesc *pb, struct tl_table **out,
                    struct tl_error *err)
{
    struct tl_table *t;
    int rv;

    if (pb->n_columns == 0 || pb->n_columns > TL_MAX_COLUMNS)
        return proto_error(err, "bad column count",
                           valid_name(pb->name) ? pb->name : NULL);
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        abort();
    t->columns = calloc(pb->n_columns, sizeof(*t->columns));
    if (t->columns == NULL)
        abort();
    t->n_columns = (uint32_t)pb->n_columns;
    rv = fill_from_proto(pb, t, err);
    if (rv != 0)
        goto err_table;
    *out = t;
    return 0;

err_table:
    tl_table_destroy(t);
    return rv;
}

void
tl_table_to_proto(const struct tl_table *t, struct tl_arena *a,
                  Talus__TableDesc *pb)
{
    talus__table_desc__init(pb);
    pb->id = t->id;
    pb->name = tl_arena_strdup(a, t->name);
    pb->n_columns = t->n_columns;
    pb->columns = tl_arena_alloc(a, t->n_columns * sizeof(*pb->columns));
    for (uint32_t i = 0; i < t->n_columns; i++) {
        const struct tl_column *col = &t->columns[i];
        Talus__Column *c = tl_arena_alloc(a, sizeof(*c));

        talus__column__init(c);
        c->name = tl_arena_strdup(a, col->name);
        c->type = col->type;
        c->has_typmod = col->typmod != -1;
        c->typmod = col->typmod;
        c->has_not_null = col->not_null;
        c->not_null = col->not_null;
        c->has_hidden = col->hidden;
        c->hidden = col->hidden;
        c->has_dropped = col->dropped;
        c->dropped = col->dropped;
        /* Absent when unset, so older descriptions stay byte-identical. */
        if (col->default_expr != NULL)
            c->default_expr = tl_arena_strdup(a, col->default_expr);
        c->has_identity = col->identity != TL_IDENTITY_NONE;
        c->identity = col->identity;
        pb->columns[i] = c;
    }
    pb->n_pk = t->n_pk;
    pb->pk = tl_arena_alloc(a, (t->n_pk ? t->n_pk : 1) * sizeof(*pb->pk));
    memcpy(pb->pk, t->pk, t->n_pk * sizeof(*pb->pk));
    pb->has_shard_key = true;
    pb->shard_key = t->shard_key;
    pb->has_vindex = true;
    pb->vindex = t->vindex;
    pb->has_schema_version = true;
    pb->schema_version = t->schema_version;
    /* Absent when default, so a hash table's description is unchanged. */
    pb->has_distribution = t->distribution != TL_DIST_VINDEX;
    pb->distribution = t->distribution;
    if (t->vindex == TL_VINDEX_CONSISTENT_HASH) {
        pb->has_ring_vnodes = true;
        pb->ring_vnodes = t->ring_vnodes;
        pb->has_ring_shards = true;
        pb->ring_shards = t->ring_shards;
    }
    if (t->vindex == TL_VINDEX_RANGE) {
        pb->has_range_bounds = true;
        pb->range_bounds.data = tl_arena_alloc(a, t->range_bounds_len + 1);
        memcpy(pb->range_bounds.data, t->range_bounds, t->range_bounds_len);
        pb->range_bounds.len = t->range_bounds_len;
        pb->n_range_shards = t->n_range_shards;
        pb->range_shards =
            tl_arena_alloc(a, (t->n_range_shards + 1) * sizeof(uint32_t));
        memcpy(pb->range_shards, t->range_shards,
               t->n_range_shards * sizeof(uint32_t));
    }
    /* Absent when none, so older descriptions stay byte-identical. */
    pb->has_next_index_id = t->next_index_id != 0;
    pb->next_index_id = t->next_index_id;
    pb->n_indexes = t->n_indexes;
    pb->indexes = tl_arena_alloc(a, (t->n_indexes + 1) * sizeof(*pb->indexes));
    for (uint32_t i = 0; i < t->n_indexes; i++) {
        const struct tl_index *ix = &t->indexes[i];
        Talus__IndexDesc *d = tl_arena_alloc(a, sizeof(*d));
        talus__index_desc__init(d);
        d->id = ix->id;
        d->name = tl_arena_strdup(a, ix->name);
        d->n_columns = ix->n_cols;
        d->columns = tl_arena_alloc(a, ix->n_cols * sizeof(*d->columns));
        memcpy(d->columns, ix->cols, ix->n_cols * sizeof(*d->columns));
        d->has_unique = ix->unique;
        d->unique = ix->unique;
        d->has_state = ix->state != TL_INDEX_BUILDING;
        d->state = ix->state;
        d->has_valid_ts = ix->valid_ts != 0;
        d->valid_ts = ix->valid_ts;
        pb->indexes[i] = d;
    }
}

int
tl_table_vindex_build(const struct tl_table *t, struct tl_ring **ring,
                      struct tl_range_map **map, struct tl_error *err)
{
    int rv = 0;
    if (t->vindex == TL_VINDEX_CONSISTENT_HASH) {
        if (t->ring_shards == 0)
            return proto_error(err, "consistent_hash without shards", t->name);
        uint32_t *ids = malloc(t->ring_shards * sizeof(*ids));
        if (ids == NULL)
            abort();
        for (uint32_t i = 0; i < t->ring_shards; i++)
            ids[i] = i;
        struct tl_ring *r;
        rv = tl_ring_create(ids, t->ring_shards, t->ring_vnodes, &r);
        free(ids);
        if (rv != 0)
            return tl_error_set(err, rv, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                                "cannot build the hash ring of table \"%s\"",
                                t->name);
        *ring = r;
        *map = NULL;
        return 0;
    }
    if (t->vindex == TL_VINDEX_RANGE) {
        if (t->n_range_shards == 0 || t->shard_key < 0 ||
            t->shard_key >= (int32_t)t->n_columns)
            return proto_error(err, "range vindex without ranges", t->name);
        size_t n = t->n_range_shards - 1;
        struct tl_value *vals = malloc((n + 1) * sizeof(*vals));
        if (vals == NULL)
            abort();
        rv = decode_bounds(t, vals, n);
        struct tl_range_map *m = NULL;
        if (rv != 0)
            rv = proto_error(err, "bad range boundaries", t->name);
        else
            rv = tl_range_map_create(t->columns[t->shard_key].type, vals, n,
                                     t->range_shards, &m, err);
        free(vals);
        if (rv != 0)
            return rv;
        *ring = NULL;
        *map = m;
        return 0;
    }
    *ring = NULL;
    *map = NULL;
    return 0;
}

struct tl_table *
tl_table_copy(const struct tl_table *t)
{
    struct tl_table *c = malloc(sizeof(*c));
    if (c == NULL)
        abort();
    *c = *t;
    c->columns =
        malloc((t->n_columns ? t->n_columns : 1) * sizeof(*c->columns));
    if (c->columns == NULL)
        abort();
    memcpy(c->columns, t->columns, t->n_columns * sizeof(*c->columns));
    for (uint32_t i = 0; i < t->n_columns; i++)
        if (t->columns[i].default_expr != NULL) {
            c->columns[i].default_expr = strdup(t->columns[i].default_expr);
            if (c->columns[i].default_expr == NULL)
                abort();
        }
    c->range_bounds = NULL;
    c->range_shards = NULL;
    if (t->n_range_shards > 0) {
        c->range_bounds = malloc(t->range_bounds_len + 1);
        c->range_shards = malloc(t->n_range_shards * sizeof(uint32_t));
        if (c->range_bounds == NULL || c->range_shards == NULL)
            abort();
        if (t->range_bounds_len > 0)
            memcpy(c->range_bounds, t->range_bounds, t->range_bounds_len);
        memcpy(c->range_shards, t->range_shards,
               t->n_range_shards * sizeof(uint32_t));
    }
    c->indexes = NULL;
    if (t->n_indexes > 0) {
        c->indexes = malloc(t->n_indexes * sizeof(*c->indexes));
        if (c->indexes == NULL)
            abort();
        memcpy(c->indexes, t->indexes, t->n_indexes * sizeof(*c->indexes));
    }
    return c;
}

void
tl_table_destroy(struct tl_table *t)
{
    if (t == NULL)
        return;
    for (uint32_t i = 0; t->columns != NULL && i < t->n_columns; i++)
        free(t->columns[i].default_expr);
    free(t->columns);
    free(t->range_bounds);
    free(t->range_shards);
    free(t->indexes);
    free(t);
}

int
tl_table_find_column(const struct tl_table *t, const char *name)
{
    for (uint32_t i = 0; i < t->n_columns; i++)
        if (strcmp(t->columns[i].name, name) == 0)
            return (int)i;
    return -1;
}

void
tl_table_row_key(const struct tl_table *t, const struct tl_value *row,
                 struct tl_buf *out)
{
    tl_key_encode_prefix(out, t->id, TL_INDEX_PRIMARY);
    for (uint32_t i = 0; i < t->n_pk; i++)
        tl_key_encode_value(out, &row[t->pk[i]]);
}

void
tl_table_key_range(const struct tl_table *t, struct tl_buf *start,
                   struct tl_buf *end)
{
    tl_key_encode_prefix(start, t->id, TL_INDEX_PRIMARY);
    tl_key_encode_prefix(end, t->id, TL_INDEX_PRIMARY + 1);
}

void
tl_table_all_keys_range(const struct tl_table *t, struct tl_buf *start,
                        struct tl_buf *end)
{
    tl_key_encode_prefix(start, t->id, TL_INDEX_PRIMARY);
    tl_key_encode_prefix(end, t->id + 1, 0);
}

/* Append "v1, v2, ..." (text output, "null" for NULL) of @cols to @b. */
static void
append_values(struct tl_buf *b, const struct tl_value *row,
              const uint32_t *cols, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0)
            tl_buf_append(b, ", ", 2);
        if (row[cols[i]].is_null)
            tl_buf_append(b, "null", 4);
        else
            tl_value_to_text(&row[cols[i]], b);
    }
}

/* 23505 naming constraint @name, detail Key (cols)=(values) @what. */
static int
dup_error(const struct tl_table *t, const char *name, const uint32_t *cols,
          uint32_t n, const struct tl_value *row, const char *what,
          struct tl_error *e)
{
    struct tl_buf b;

    if (e == NULL)
        return TL_EDUPKEY;
    tl_error_set(e, TL_EDUPKEY, TL_SQLSTATE_UNIQUE_VIOLATION,
                 "duplicate key value violates unique constraint \"%s\"", name);
    tl_buf_init(&b);
    tl_buf_append(&b, "Key (", 5);
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0)
            tl_buf_append(&b, ", ", 2);
        tl_buf_printf(&b, "%s", t->columns[cols[i]].name);
    }
    tl_buf_append(&b, ")=(", 3);
    append_values(&b, row, cols, n);
    tl_buf_printf(&b, ") %s.", what);
    tl_error_detail(e, "%.*s", (int)b.len, (const char *)b.data);
    tl_error_object(e, t->name, name);
    tl_buf_close(&b);
    return TL_EDUPKEY;
}

int
tl_table_dup_key_error(const struct tl_table *t, const struct tl_value *row,
                       struct tl_error *e)
{
    char name[TL_NAME_MAX + 8];
    snprintf(name, sizeof(name), "%s_pkey", t->name);
    return dup_error(t, name, t->pk, t->n_pk, row, "already exists", e);
}

int
tl_index_dup_error(const struct tl_table *t, const struct tl_index *ix,
                   const struct tl_value *row, bool building,
                   struct tl_error *e)
{
    int rv = dup_error(t, ix->name, ix->cols, ix->n_cols, row,
                       building ? "is duplicated" : "already exists", e);
    if (building && e != NULL) {
        char d[sizeof(e->detail)];
        snprintf(d, sizeof(d), "%s", e->detail);
        tl_error_set(e, TL_EDUPKEY, TL_SQLSTATE_UNIQUE_VIOLATION,
                     "could not create unique index \"%s\"", ix->name);
        tl_error_detail(e, "%s", d);
        tl_error_object(e, t->name, ix->name);
    }
    return rv;
}

int
tl_table_check_row(const struct tl_table *t, const struct tl_value *row,
                   struct tl_error *e)
{
    struct tl_buf b;
    bool first = true;
    uint32_t bad;

    for (bad = 0; bad < t->n_columns; bad++)
        if (t->columns[bad].not_null && row[bad].is_null)
            break;
    if (bad == t->n_columns)
        return 0;
    if (e == NULL)
        return TL_ENOTNULL;
    tl_error_set(e, TL_ENOTNULL, TL_SQLSTATE_NOT_NULL_VIOLATION,
                 "null value in column \"%s\" of relation \"%s\" violates "
                 "not-null constraint",
                 t->columns[bad].name, t->name);
    /* PostgreSQL's detail lists the row's visible columns. */
    tl_buf_init(&b);
    tl_buf_append(&b, "Failing row contains (", 22);
    for (uint32_t i = 0; i < t->n_columns; i++) {
        if (t->columns[i].hidden)
            continue;
        if (!first)
            tl_buf_append(&b, ", ", 2);
        first = false;
        append_values(&b, row, &i, 1);
    }
    tl_buf_append(&b, ").", 2);
    tl_error_detail(e, "%.*s", (int)b.len, (const char *)b.data);
    tl_buf_close(&b);
    return TL_ENOTNULL;
}
