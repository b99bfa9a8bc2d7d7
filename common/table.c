#include "table.h"

#include <stdlib.h>
#include <string.h>

#include "keycodec.h"
#include "vindex.h"

static int
proto_error(struct tl_error *err, const char *what, const char *name)
{
    return tl_error_set(
        err, TL_EPROTO, "08P01", "invalid table description%s%s%s: %s",
        name ? " \"" : "", name ? name : "", name ? "\"" : "", what);
}

static bool
valid_name(const char *s)
{
    return s != NULL && s[0] != '\0' && strlen(s) < TL_NAME_MAX;
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
        if (c->type == TL_TYPE_UNKNOWN || c->type > TL_TYPE_MAX)
            return proto_error(err, "unknown column type", tname);
        for (size_t j = 0; j < i; j++)
            if (strcmp(t->columns[j].name, c->name) == 0)
                return proto_error(err, "duplicate column name", tname);
        strcpy(col->name, c->name);
        col->type = (uint8_t)c->type;
        col->typmod = -1;
        if (col->type == TL_TYPE_VARCHAR && c->has_typmod && c->typmod >= 0) {
            if (c->typmod == 0)
                return proto_error(err, "bad varchar length", tname);
            col->typmod = c->typmod;
        }
        col->not_null = c->not_null;
        col->hidden = c->hidden;
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
    if (t->vindex > TL_VINDEX_HASH)
        return proto_error(err, "unknown vindex", tname);
    if (t->vindex == TL_VINDEX_HASH && t->shard_key < 0)
        return proto_error(err, "hash vindex without a shard key", tname);
    t->schema_version = pb->schema_version;
    return 0;
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
    return c;
}

void
tl_table_destroy(struct tl_table *t)
{
    if (t == NULL)
        return;
    free(t->columns);
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

int
tl_table_dup_key_error(const struct tl_table *t, const struct tl_value *row,
                       struct tl_error *e)
{
    struct tl_buf b;

    if (e == NULL)
        return TL_EDUPKEY;
    tl_error_set(e, TL_EDUPKEY, "23505",
                 "duplicate key value violates unique constraint "
                 "\"%s_pkey\"",
                 t->name);
    tl_buf_init(&b);
    tl_buf_append(&b, "Key (", 5);
    for (uint32_t i = 0; i < t->n_pk; i++) {
        if (i > 0)
            tl_buf_append(&b, ", ", 2);
        tl_buf_printf(&b, "%s", t->columns[t->pk[i]].name);
    }
    tl_buf_append(&b, ")=(", 3);
    append_values(&b, row, t->pk, t->n_pk);
    tl_buf_append(&b, ") already exists.", 17);
    tl_error_detail(e, "%.*s", (int)b.len, (const char *)b.data);
    tl_buf_close(&b);
    return TL_EDUPKEY;
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
    tl_error_set(e, TL_ENOTNULL, "23502",
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
