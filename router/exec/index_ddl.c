/* index_ddl — CREATE INDEX and DROP INDEX. See index_ddl.h. */
#include "router/exec/index_ddl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "keycodec.h"
#include "log.h"
#include "router/core/catalog.h"
#include "router/core/router_int.h"
#include "router/core/tso_client.h"
#include "router/exec/dml_int.h"
#include "router/exec/gather.h"
#include "router/sql/sql_int.h"
#include "secindex.h"

#define MOD "index"

/* PostgreSQL's ChooseIndexNameAddition(): the column names joined by
 * "_", cut at NAMEDATALEN. */
static void
name_addition(const struct tl_table *t, const uint32_t *cols, uint32_t n,
              char *out)
{
    size_t len = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < n && len < TL_NAME_MAX - 1; i++) {
        if (len > 0)
            out[len++] = '_';
        snprintf(out + len, TL_NAME_MAX - len, "%s", t->columns[cols[i]].name);
        len += strlen(out + len);
    }
    out[TL_NAME_MAX - 1] = '\0';
}

/* The id of the index being added (IndexDesc.id), and its description. */
struct add_arg {
    const struct tl_index *ix;
    uint32_t id;
};

static int
add_index(struct tl_table **tp, void *arg, struct tl_error *err)
{
    struct add_arg *x = arg;
    struct tl_table *t = *tp;
    if (tl_table_find_index(t, x->ix->name) != NULL)
        return tl_error_set(err, TL_EEXISTS, TL_SQLSTATE_DUPLICATE_TABLE,
                            "relation \"%s\" already exists", x->ix->name);
    if (t->n_indexes >= TL_MAX_INDEXES)
        return tl_error_set(err, TL_ETOOBIG, TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
                            "table \"%s\" has %d indexes, the most it may have",
                            t->name, TL_MAX_INDEXES);
    struct tl_index *v = realloc(t->indexes, (t->n_indexes + 1) * sizeof(*v));
    if (v == NULL)
        abort();
    t->indexes = v;
    x->id = t->next_index_id > TL_INDEX_PRIMARY ? t->next_index_id
                                                : TL_INDEX_PRIMARY + 1;
    v[t->n_indexes] = *x->ix;
    v[t->n_indexes].id = x->id;
    v[t->n_indexes].state = TL_INDEX_BUILDING;
    v[t->n_indexes].valid_ts = 0;
    t->n_indexes++;
    t->next_index_id = x->id + 1;
    return 0;
}

/* Index @id of the table becomes valid from @ts on (ts 0: it goes). */
struct set_arg {
    uint32_t id;
    uint64_t valid_ts;
};

static int
set_index(struct tl_table **tp, void *arg, struct tl_error *err)
{
    const struct set_arg *x = arg;
    struct tl_table *t = *tp;
    for (uint32_t i = 0; i < t->n_indexes; i++) {
        if (t->indexes[i].id != x->id)
            continue;
        if (x->valid_ts == 0) {
            memmove(&t->indexes[i], &t->indexes[i + 1],
                    (t->n_indexes - i - 1) * sizeof(t->indexes[0]));
            t->n_indexes--;
        } else {
            t->indexes[i].state = TL_INDEX_VALID;
            t->indexes[i].valid_ts = x->valid_ts;
        }
        return 0;
    }
    return tl_error_set(err, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_OBJECT,
                        "index %u of table \"%s\" was dropped meanwhile", x->id,
                        t->name);
}

/* Delete every entry of index @id of @t on every shard (a range delete
 * can be repeated safely). Best effort: entries left behind are under an
 * index id nothing uses again. */
static void
delete_entries(struct sql_stmt *st, const struct tl_table *t, uint32_t id)
{
    struct tl_buf start, end;
    tl_buf_init(&start);
    tl_buf_init(&end);
    tl_key_encode_prefix(&start, t->id, id);
    tl_key_encode_prefix(&end, t->id, id + 1);
    for (uint32_t s = 0; s < st->r->cfg.n_shards; s++) {
        Talus__Mutation **muts = tl_arena_alloc(st->a, sizeof(*muts));
        muts[0] = dml_delete_range(st, &start, &end);
        struct tl_error keep = st->err;
        if (gather_write(st, s, muts, 1, NULL) != 0)
            tl_warn(MOD, "event=index_entries_left table=%u index=%u shard=%u",
                    t->id, id, s);
        st->err = keep;
    }
    tl_buf_close(&start);
    tl_buf_close(&end);
}

/* Fill index @id of @t (as stored at catalog version @version) on every
 * shard, the shards in parallel, a chunk per request each. */
static int
fill(struct sql_stmt *st, const struct tl_table *t, uint32_t id,
     uint64_t version)
{
    uint32_t ns = st->r->cfg.n_shards;
    Talus__TableDesc *td = tl_arena_alloc(st->a, sizeof(*td));
    tl_table_to_proto(t, st->a, td);
    ProtobufCBinaryData *resume = tl_arena_calloc(st->a, ns * sizeof(*resume));
    bool *done = tl_arena_calloc(st->a, ns);
    struct gather_call *calls =
        tl_arena_calloc(st->a, (ns + 1) * sizeof(*calls));
    uint32_t *shard_of = tl_arena_calloc(st->a, (ns + 1) * sizeof(*shard_of));
    uint64_t rows = 0;
    int rv = 0;
    st->catalog_version = version;
    for (;;) {
        size_t n = 0;
        for (uint32_t s = 0; s < ns; s++) {
            if (done[s])
                continue;
            Talus__IndexBuildRequest *q = tl_arena_alloc(st->a, sizeof(*q));
            talus__index_build_request__init(q);
            q->table = td;
            q->index_id = id;
            q->map_version = version;
            q->has_resume_key = resume[s].len > 0;
            q->resume_key = resume[s];
            memset(&calls[n], 0, sizeof(calls[n]));
            talus__request__init(&calls[n].req);
            calls[n].shard = s;
            calls[n].req.body_case = TALUS__REQUEST__BODY_INDEX_BUILD;
            calls[n].req.index_build = q;
            shard_of[n++] = s;
        }
        if (n == 0)
            break;
        gather_run(st, calls, n);
        for (size_t i = 0; i < n && rv == 0; i++) {
            rv = gather_check(st, &calls[i]);
            if (rv != 0)
                break;
            const Talus__Response *r = calls[i].resp;
            uint32_t s = shard_of[i];
            rows += r->count;
            if (r->has_resume_key && r->resume_key.len > 0) {
                resume[s].data = tl_arena_alloc(st->a, r->resume_key.len);
                memcpy(resume[s].data, r->resume_key.data, r->resume_key.len);
                resume[s].len = r->resume_key.len;
            } else {
                done[s] = true;
            }
        }
        gather_release(calls, n);
        if (rv != 0)
            return rv;
    }
    tl_info(MOD,
            "event=index_filled table=\"%s\" index=%u rows=%llu version=%llu",
            t->name, id, (unsigned long long)rows, (unsigned long long)version);
    return 0;
}

/* The column of @t an index element names (its position in *@col). */
static int
elem_column(struct sql_stmt *st, const struct tl_table *t,
            const PgQuery__Node *n, uint32_t *col)
{
    if (n->node_case != PG_QUERY__NODE__NODE_INDEX_ELEM)
        return sql_unsupported(st, "this index column form");
    const PgQuery__IndexElem *e = n->index_elem;
    if (e->expr != NULL || e->name == NULL || e->name[0] == '\0')
        return sql_unsupported(st, "indexes on expressions");
    if (e->ordering == PG_QUERY__SORT_BY_DIR__SORTBY_DESC ||
        e->ordering == PG_QUERY__SORT_BY_DIR__SORTBY_USING ||
        e->nulls_ordering == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST)
        return sql_unsupported(st, "descending index columns");
    if (e->n_opclass > 0 || e->n_collation > 0)
        return sql_unsupported(st, "index operator classes and collations");
    int c = tl_table_find_column(t, e->name);
    if (c < 0 || t->columns[c].dropped)
        return sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_COLUMN,
                         "column \"%s\" does not exist", e->name);
    *col = (uint32_t)c;
    return 0;
}

int
index_exec_create(struct sql_stmt *st, const PgQuery__IndexStmt *is)
{
    struct tl_table *t;
    struct tl_index ix;
    int rv;

    memset(&ix, 0, sizeof(ix));
    if (st->txn != NULL)
        return sql_error(st, TL_EUNSUPPORTED,
                         TL_SQLSTATE_ACTIVE_SQL_TRANSACTION,
                         "CREATE INDEX cannot run inside a transaction block");
    if (is->where_clause != NULL)
        return sql_unsupported(st, "partial indexes (CREATE INDEX ... WHERE)");
    if (is->n_index_including_params > 0)
        return sql_unsupported(st, "CREATE INDEX ... INCLUDE");
    if (is->access_method != NULL && is->access_method[0] != '\0' &&
        strcmp(is->access_method, "btree") != 0)
        return sql_unsupported(st, tl_arena_printf(st->a,
                                                   "index access method \"%s\"",
                                                   is->access_method));
    if (is->table_space != NULL && is->table_space[0] != '\0')
        return sql_unsupported(st, "CREATE INDEX ... TABLESPACE");
    if (is->nulls_not_distinct)
        return sql_unsupported(st, "UNIQUE NULLS NOT DISTINCT");
    if (is->n_index_params == 0 || is->n_index_params > TL_MAX_INDEX_COLS)
        return sql_error(st, TL_EPROTO, TL_SQLSTATE_PROGRAM_LIMIT_EXCEEDED,
                         "cannot use more than %d columns in an index",
                         TL_MAX_INDEX_COLS);
    rv = sql_lookup_table(st, is->relation, &t);
    if (rv != 0) {
        st->err.position = 0; /* PostgreSQL points at no word here */
        return rv;
    }
    for (size_t i = 0; i < is->n_index_params; i++) {
        rv = elem_column(st, t, is->index_params[i], &ix.cols[i]);
        if (rv != 0)
            return rv;
    }
    ix.n_cols = (uint32_t)is->n_index_params;
    ix.unique = is->unique;
    if (ix.unique && t->shard_key >= 0 &&
        t->distribution != TL_DIST_REFERENCE) {
        bool has = false;
        for (uint32_t i = 0; i < ix.n_cols; i++)
            has = has || (int32_t)ix.cols[i] == t->shard_key;
        if (!has) {
            sql_error(st, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                      "a unique index on table \"%s\" must contain its shard "
                      "key column \"%s\"",
                      t->name, t->columns[t->shard_key].name);
            tl_error_hint(&st->err,
                          "Talus checks uniqueness within each shard. Add "
                          "\"%s\" to the index, or make the column a lookup "
                          "vindex of the table.",
                          t->columns[t->shard_key].name);
            return TL_EUNSUPPORTED;
        }
    }
    if (is->idxname != NULL && is->idxname[0] != '\0') {
        snprintf(ix.name, sizeof(ix.name), "%s", is->idxname);
        if (ddl_relation_exists(st, ix.name)) {
            if (is->if_not_exists) {
                sql_notice(st, TL_SQLSTATE_DUPLICATE_TABLE,
                           "relation \"%s\" already exists, skipping", ix.name);
                dest_complete(st->dest, "CREATE INDEX");
                return 0;
            }
            return sql_error(st, TL_EEXISTS, TL_SQLSTATE_DUPLICATE_TABLE,
                             "relation \"%s\" already exists", ix.name);
        }
    } else {
        char addition[TL_NAME_MAX];
        name_addition(t, ix.cols, ix.n_cols, addition);
        ddl_choose_name(st, t->name, addition, "idx", ix.name);
    }

    struct add_arg add = {.ix = &ix};
    rv =
        catalog_alter_table(st->r->catalog, t->name, add_index, &add, &st->err);
    if (rv == TL_ENOTFOUND)
        return sql_error(st, rv, TL_SQLSTATE_UNDEFINED_TABLE,
                         "relation \"%s\" does not exist", t->name);
    if (rv != 0)
        return rv;
    /* The description as stored with the building index, and the catalog
     * version that stored it: the shards' fence. */
    uint64_t version = catalog_version(st->r->catalog);
    struct tl_table *bt;
    rv = catalog_lookup(st->r->catalog, t->name, st->a, &bt, NULL, &st->err);
    if (rv == 0 && tl_table_index_by_id(bt, add.id) == NULL)
        rv = sql_error(st, TL_ECONFLICT, TL_SQLSTATE_T_R_SERIALIZATION_FAILURE,
                       "table \"%s\" was changed by another statement at the "
                       "same time",
                       t->name);
    if (rv == 0)
        rv = fill(st, bt, add.id, version);
    struct set_arg set = {.id = add.id};
    if (rv == 0)
        rv = tso_client_get(st->r->tso, &set.valid_ts, &st->err);
    if (rv == 0)
        rv = catalog_alter_table(st->r->catalog, t->name, set_index, &set,
                                 &st->err);
    if (rv != 0) {
        struct tl_error keep = st->err;
        struct set_arg drop = {.id = add.id};
        if (catalog_alter_table(st->r->catalog, t->name, set_index, &drop,
                                &st->err) == 0)
            delete_entries(st, t, add.id);
        st->err = keep;
        return rv;
    }
    tl_info(MOD, "event=index_created table=\"%s\" index=\"%s\" id=%u", t->name,
            ix.name, add.id);
    dest_complete(st->dest, "CREATE INDEX");
    return 0;
}

/* The table (in @tables) holding index @name, and the index. */
static const struct tl_index *
find_index(struct tl_table **tables, size_t n, const char *name,
           struct tl_table **owner)
{
    for (size_t i = 0; i < n; i++) {
        const struct tl_index *ix = tl_table_find_index(tables[i], name);
        if (ix != NULL) {
            *owner = tables[i];
            return ix;
        }
    }
    return NULL;
}

/* Whether @name is the primary key's index of a table (its owner in
 * *@owner). */
static bool
is_pkey(struct tl_table **tables, size_t n, const char *name,
        struct tl_table **owner)
{
    for (size_t i = 0; i < n; i++) {
        char pk[TL_NAME_MAX + 8];
        snprintf(pk, sizeof(pk), "%s_pkey", tables[i]->name);
        if (strcmp(pk, name) == 0 && tables[i]->columns != NULL) {
            bool hidden = tables[i]->n_pk == 1 &&
                          tables[i]->columns[tables[i]->pk[0]].hidden;
            if (!hidden) {
                *owner = tables[i];
                return true;
            }
        }
    }
    return false;
}

int
index_exec_drop(struct sql_stmt *st, const PgQuery__DropStmt *ds)
{
    struct tl_table **tables;
    size_t n_tables;
    int rv;

    if (st->txn != NULL)
        return sql_error(st, TL_EUNSUPPORTED,
                         TL_SQLSTATE_ACTIVE_SQL_TRANSACTION,
                         "DROP INDEX cannot run inside a transaction block");
    rv = catalog_list(st->r->catalog, st->a, &tables, &n_tables, &st->err);
    if (rv != 0)
        return rv;
    const char **names =
        tl_arena_calloc(st->a, (ds->n_objects + 1) * sizeof(*names));
    struct tl_table **owners =
        tl_arena_calloc(st->a, (ds->n_objects + 1) * sizeof(*owners));
    uint32_t *ids = tl_arena_calloc(st->a, (ds->n_objects + 1) * sizeof(*ids));
    /* Every name first: PostgreSQL drops all or nothing. */
    for (size_t i = 0; i < ds->n_objects; i++) {
        const PgQuery__Node *obj = ds->objects[i];
        if (obj->node_case != PG_QUERY__NODE__NODE_LIST ||
            obj->list->n_items == 0)
            return sql_unsupported(st, "this DROP INDEX form");
        const PgQuery__List *l = obj->list;
        const char *name = sql_node_str(l->items[l->n_items - 1]);
        const char *schema =
            l->n_items >= 2 ? sql_node_str(l->items[l->n_items - 2]) : NULL;
        if (name == NULL)
            return sql_unsupported(st, "this DROP INDEX form");
        struct tl_table *owner = NULL;
        const struct tl_index *ix =
            schema != NULL && strcmp(schema, "public") != 0
                ? NULL
                : find_index(tables, n_tables, name, &owner);
        if (ix == NULL && is_pkey(tables, n_tables, name, &owner)) {
            sql_error(st, TL_EUNSUPPORTED,
                      TL_SQLSTATE_DEPENDENT_OBJECTS_STILL_EXIST,
                      "cannot drop index %s because constraint %s on table "
                      "%s requires it",
                      name, name, owner->name);
            tl_error_hint(&st->err,
                          "You can drop constraint %s on table %s instead.",
                          name, owner->name);
            return TL_EUNSUPPORTED;
        }
        if (ix == NULL && ds->missing_ok) {
            sql_notice(st, TL_SQLSTATE_SUCCESSFUL_COMPLETION,
                       "index \"%s\" does not exist, skipping", name);
            continue;
        }
        if (ix == NULL)
            return sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_OBJECT,
                             "index \"%s\" does not exist", name);
        names[i] = name;
        owners[i] = owner;
        ids[i] = ix->id;
    }
    for (size_t i = 0; i < ds->n_objects; i++) {
        if (names[i] == NULL)
            continue;
        struct set_arg drop = {.id = ids[i]};
        rv = catalog_alter_table(st->r->catalog, owners[i]->name, set_index,
                                 &drop, &st->err);
        if (rv == TL_ENOTFOUND && ds->missing_ok)
            continue;
        if (rv == TL_ENOTFOUND)
            return sql_error(st, TL_ENOTFOUND, TL_SQLSTATE_UNDEFINED_OBJECT,
                             "index \"%s\" does not exist", names[i]);
        if (rv != 0)
            return rv;
        delete_entries(st, owners[i], ids[i]);
    }
    dest_complete(st->dest, "DROP INDEX");
    return 0;
}
