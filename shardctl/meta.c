/* meta — shardctl's view of the catalog in the meta group: `tables`,
 * `vschema apply|show`, `tso` and `routers`. Keys and rows:
 * common/meta/meta_keys.h. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/meta/meta_keys.h"
#include "common/meta/meta_routers.h"
#include "row.h"
#include "rpc.h"
#include "shardctl_int.h"
#include "table.h"
#include "tl_error.h"
#include "vindex.h"

#define META_TIMEOUT_MS 5000
#define APPLY_RETRIES 8

/* Send @req to the meta group through the cluster client: its known
 * leader first, following hints, then the meta replicas and every other
 * node, the same request id on every attempt (a write is deduplicated by
 * it), each attempt for at most META_TIMEOUT_MS. 0 with *@resp (which may
 * carry the meta group's own error, e.g. a failed condition), else
 * TL_EUNAVAILABLE with a message on stderr. */
static int
meta_call(const struct tl_cluster_config *cfg, Talus__Request *req,
          Talus__Response **resp)
{
    struct tl_client *c = shardctl_client(cfg);
    struct tl_client_retry t;
    if (c == NULL)
        return TL_EUNAVAILABLE;
    req->has_shard = 1;
    req->shard = TL_META_GROUP;
    req->request_id = tl_rpc_next_id();
    if (req->body_case == TALUS__REQUEST__BODY_WRITE) {
        req->write->has_request_id = 1;
        req->write->request_id = req->request_id;
    }
    tl_client_retry_init(c, &t, TL_META_GROUP, tl_client_op_of(req),
                         tl_client_default_deadline(c));
    t.attempt_ms = META_TIMEOUT_MS;
    int rv = tl_client_call(c, &t, req, resp);
    if (rv == 0)
        return 0;
    fprintf(stderr,
            "shardctl: cannot reach the meta group (catalog) of the cluster: "
            "%s; is the cluster running?\n",
            t.why[0] != '\0' ? t.why : "no node answered");
    return TL_EUNAVAILABLE;
}

/* The rows read back (bytes owned by the list). */
struct meta_rows {
    struct tl_buf *raw; /* n encoded rows */
    size_t n;
};

static void
meta_rows_close(struct meta_rows *m)
{
    for (size_t i = 0; i < m->n; i++)
        tl_buf_close(&m->raw[i]);
    free(m->raw);
    m->raw = NULL;
    m->n = 0;
}

/* Every row under prefix(0, @index). 0, or 1 (message on stderr). */
static int
scan_index(const struct tl_cluster_config *cfg, enum tl_meta_index index,
           struct meta_rows *out)
{
    struct tl_buf start, end;
    struct tl_arena a;
    int rv = 0;

    memset(out, 0, sizeof(*out));
    tl_arena_init(&a);
    tl_buf_init(&start);
    tl_buf_init(&end);
    tl_meta_range_index(&start, &end, index);
    Talus__KeyRange range = TALUS__KEY_RANGE__INIT;
    range.start.data = start.data;
    range.start.len = start.len;
    range.end.data = end.data;
    range.end.len = end.len;
    Talus__KeyRange *ranges[1] = {&range};
    Talus__ScanFragment scan = TALUS__SCAN_FRAGMENT__INIT;
    scan.table = tl_meta_catalog_desc(&a);
    scan.n_ranges = 1;
    scan.ranges = ranges;
    struct tl_buf resume;
    tl_buf_init(&resume);
    for (bool more = true; more && rv == 0;) {
        Talus__Request req = TALUS__REQUEST__INIT;
        Talus__Response *resp = NULL;
        req.has_shard = 1;
        req.shard = TL_META_GROUP;
        req.body_case = TALUS__REQUEST__BODY_SCAN;
        req.scan = &scan;
        if (meta_call(cfg, &req, &resp) != 0)
            rv = 1;
        if (rv == 0 && resp->error != NULL) {
            fprintf(stderr, "shardctl: reading the catalog failed: %s\n",
                    resp->error->message);
            rv = 1;
        }
        for (size_t i = 0; rv == 0 && i < resp->n_rows; i++) {
            struct tl_buf *v = realloc(out->raw, (out->n + 1) * sizeof(*v));
            if (v == NULL) {
                rv = 1;
                break;
            }
            out->raw = v;
            tl_buf_init(&v[out->n]);
            tl_buf_append(&v[out->n++], resp->rows[i].data, resp->rows[i].len);
        }
        more = rv == 0 && resp->has_resume_key && resp->resume_key.len > 0;
        if (more) {
            resume.len = 0;
            tl_buf_append(&resume, resp->resume_key.data, resp->resume_key.len);
            scan.has_resume_key = 1;
            scan.resume_key.data = resume.data;
            scan.resume_key.len = resume.len;
        }
        if (resp != NULL)
            talus__response__free_unpacked(resp, NULL);
    }
    tl_buf_close(&resume);
    tl_buf_close(&start);
    tl_buf_close(&end);
    tl_arena_close(&a);
    if (rv != 0)
        meta_rows_close(out);
    return rv;
}

/* Every table of the catalog (caller frees each with tl_table_destroy and
 * the array with free). 0 or 1. */
static int
load_tables(const struct tl_cluster_config *cfg, struct tl_table ***out,
            size_t *n_out)
{
    struct meta_rows rows;
    if (scan_index(cfg, TL_META_INDEX_TABLE, &rows) != 0)
        return 1;
    struct tl_table **t = calloc(rows.n + 1, sizeof(*t));
    size_t n = 0;
    for (size_t i = 0; t != NULL && i < rows.n; i++)
        if (tl_meta_table_decode(rows.raw[i].data, rows.raw[i].len, &t[n]) == 0)
            n++;
    meta_rows_close(&rows);
    /* By name, for stable output. */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(t[j - 1]->name, t[j]->name) > 0;
             j--) {
            struct tl_table *x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    *out = t;
    *n_out = n;
    return t == NULL;
}

static void
free_table_list(struct tl_table **t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tl_table_destroy(t[i]);
    free(t);
}

static const char *
vindex_name(uint32_t kind)
{
    switch (kind) {
    case TL_VINDEX_HASH:
        return "hash";
    case TL_VINDEX_CONSISTENT_HASH:
        return "consistent_hash";
    case TL_VINDEX_RANGE:
        return "range";
    default:
        return "-";
    }
}

static const char *
table_kind(const struct tl_table *t)
{
    if (t->distribution == TL_DIST_REFERENCE)
        return "reference";
    return t->shard_key >= 0 ? "sharded" : "unsharded";
}

/* @t as a JSON object: kind, vindex, column, boundaries (new reference). */
static json_t *
table_json(const struct tl_table *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(t->name));
    json_object_set_new(o, "id", json_integer(t->id));
    json_object_set_new(o, "kind", json_string(table_kind(t)));
    json_object_set_new(o, "columns", json_integer(t->n_columns));
    if (t->shard_key >= 0) {
        json_object_set_new(o, "vindex", json_string(vindex_name(t->vindex)));
        json_object_set_new(o, "column",
                            json_string(t->columns[t->shard_key].name));
    }
    if (t->vindex == TL_VINDEX_RANGE && t->n_range_shards > 0) {
        size_t nb = t->n_range_shards - 1;
        struct tl_value *b = calloc(nb + 1, sizeof(*b));
        json_t *a = json_array();
        if (b != NULL && tl_row_decode(t->range_bounds, t->range_bounds_len, b,
                                       nb, NULL) == 0)
            for (size_t i = 0; i < nb; i++) {
                struct tl_buf s;
                tl_buf_init(&s);
                tl_value_to_text(&b[i], &s);
                json_array_append_new(
                    a, json_stringn((const char *)s.data, s.len));
                tl_buf_close(&s);
            }
        free(b);
        json_object_set_new(o, "boundaries", a);
    }
    return o;
}

/* "a,b,c" of a JSON string array into @buf. */
static const char *
join_strings(const json_t *a, char *buf, size_t len)
{
    size_t off = 0, i;
    json_t *v;
    snprintf(buf, len, "-");
    json_array_foreach(a, i, v)
    {
        if (off + 2 >= len)
            break;
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "",
                                json_string_value(v));
    }
    return buf;
}

static void
print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    printf("%s\n", s != NULL ? s : "null");
    free(s);
}

int
shardctl_tables(const struct tl_cluster_config *cfg, bool json)
{
    struct tl_table **t;
    size_t n;
    char bbuf[512];
    if (load_tables(cfg, &t, &n) != 0)
        return 1;
    json_t *arr = json_array();
    if (!json)
        printf("%-24s %6s %-10s %-16s %-16s %4s %s\n", "TABLE", "ID", "KIND",
               "VINDEX", "COLUMN", "COLS", "BOUNDARIES");
    for (size_t i = 0; i < n; i++) {
        json_t *o = table_json(t[i]);
        json_t *col = json_object_get(o, "column");
        json_t *b = json_object_get(o, "boundaries");
        if (!json)
            printf("%-24s %6u %-10s %-16s %-16s %4u %s\n", t[i]->name, t[i]->id,
                   table_kind(t[i]),
                   t[i]->shard_key >= 0 ? vindex_name(t[i]->vindex) : "-",
                   col != NULL ? json_string_value(col) : "-", t[i]->n_columns,
                   b != NULL ? join_strings(b, bbuf, sizeof bbuf) : "-");
        json_array_append_new(arr, o);
    }
    if (json) {
        json_t *top = json_pack("{s:o}", "tables", arr);
        print_json(top);
        json_decref(top);
    } else {
        printf("\n%zu table%s\n", n, n == 1 ? "" : "s");
        json_decref(arr);
    }
    free_table_list(t, n);
    return 0;
}

/* ------------------------------------------------------------- vschema */

/* The stored entries: table name -> entry object (without "table"). */
static int
load_vschema(const struct tl_cluster_config *cfg, json_t **out)
{
    struct meta_rows rows;
    if (scan_index(cfg, TL_META_INDEX_VSCHEMA, &rows) != 0)
        return 1;
    json_t *all = json_object();
    for (size_t i = 0; i < rows.n; i++) {
        const char *text;
        size_t len;
        if (tl_meta_vschema_decode(rows.raw[i].data, rows.raw[i].len, &text,
                                   &len) != 0)
            continue;
        json_t *e = json_loadb(text, len, 0, NULL);
        json_t *name = json_object_get(e, "table");
        if (json_is_string(name)) {
            char *copy = strdup(json_string_value(name));
            json_object_del(e, "table");
            json_object_set(all, copy, e);
            free(copy);
        }
        json_decref(e);
    }
    meta_rows_close(&rows);
    *out = all;
    return 0;
}

static int
read_version(const struct tl_cluster_config *cfg, bool *have, int64_t *v)
{
    struct meta_rows rows;
    if (scan_index(cfg, TL_META_INDEX_MAP_VERSION, &rows) != 0)
        return 1;
    *v = 0;
    *have = rows.n > 0 &&
            tl_meta_counter_decode(rows.raw[0].data, rows.raw[0].len, v) == 0;
    meta_rows_close(&rows);
    return 0;
}

static const struct tl_table *
find_table(struct tl_table **t, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i]->name, name) == 0)
            return t[i];
    return NULL;
}

/* Check the boundaries of a range entry for @table: strings or numbers,
 * no commas (DDL joins them with commas), strictly increasing in the key
 * column's order (tl_range_map_create; the column's type when the table
 * exists, else text for strings and int8 for numbers), at most n_shards
 * ranges. Message in @msg; 0 or -1. */
static int
check_boundaries(const struct tl_cluster_config *cfg, const char *table,
                 const json_t *b, const struct tl_table *t, int key_col,
                 char *msg, size_t len)
{
    size_t n = json_array_size(b), i;
    json_t *v;
    bool nums = n > 0 && json_is_integer(json_array_get(b, 0));
    if (!json_is_array(b) || n == 0) {
        snprintf(msg, len,
                 "table \"%s\": \"boundaries\" must be a non-empty array",
                 table);
        return -1;
    }
    if (n + 1 > cfg->n_shards) {
        snprintf(msg, len,
                 "table \"%s\": %zu boundaries make %zu ranges, more than "
                 "the %u shards",
                 table, n, n + 1, cfg->n_shards);
        return -1;
    }
    struct tl_value *vals = calloc(n, sizeof(*vals));
    char(*text)[64] = calloc(n, sizeof(*text));
    uint32_t *shards = calloc(n + 1, sizeof(*shards));
    int rv = vals == NULL || text == NULL || shards == NULL ? -1 : 0;
    json_array_foreach(b, i, v)
    {
        if (rv != 0)
            break;
        if (nums ? !json_is_integer(v) : !json_is_string(v)) {
            snprintf(msg, len,
                     "table \"%s\": boundary %zu must be a %s like the "
                     "first",
                     table, i + 1, nums ? "number" : "string");
            rv = -1;
        } else if (!nums && strchr(json_string_value(v), ',') != NULL) {
            snprintf(msg, len, "table \"%s\": boundary %zu contains a comma",
                     table, i + 1);
            rv = -1;
        } else if (nums) {
            snprintf(text[i], sizeof text[i], "%lld",
                     (long long)json_integer_value(v));
        } else {
            snprintf(text[i], sizeof text[i], "%s", json_string_value(v));
        }
        vals[i] =
            tl_value_text(TL_TYPE_UNKNOWN, text[i], (uint32_t)strlen(text[i]));
        shards[i] = (uint32_t)i;
    }
    shards[n] = (uint32_t)n;
    if (rv == 0) {
        uint8_t type = t != NULL ? t->columns[key_col].type
                       : nums    ? TL_TYPE_INT8
                                 : TL_TYPE_TEXT;
        struct tl_range_map *m;
        struct tl_error err;
        memset(&err, 0, sizeof err);
        if (tl_range_map_create(type, vals, n, shards, &m, &err) != 0) {
            snprintf(msg, len, "table \"%s\": %.300s", table, err.message);
            rv = -1;
        } else {
            tl_range_map_destroy(m);
        }
    }
    free(vals);
    free(text);
    free(shards);
    return rv;
}

/* Validate entry @e of @table; existing tables come from @t. */
static int
check_entry(const struct tl_cluster_config *cfg, const char *table, json_t *e,
            struct tl_table **t, size_t n_t, char *msg, size_t len)
{
    static const char *fields[] = {"vindex", "column", "boundaries",
                                   "distribution"};
    const char *key;
    json_t *v;
    if (!json_is_object(e)) {
        snprintf(msg, len, "table \"%s\": the entry must be an object", table);
        return -1;
    }
    if (strlen(table) == 0 || strlen(table) >= TL_NAME_MAX) {
        snprintf(msg, len, "table name \"%s\" is empty or too long", table);
        return -1;
    }
    json_object_foreach(e, key, v)
    {
        bool known = false;
        for (size_t i = 0; i < 4; i++)
            known = known || strcmp(key, fields[i]) == 0;
        if (!known) {
            snprintf(msg, len, "table \"%s\": unknown field \"%s\"", table,
                     key);
            return -1;
        }
        if (strcmp(key, "boundaries") != 0 && !json_is_string(v)) {
            snprintf(msg, len, "table \"%s\": \"%s\" must be a string", table,
                     key);
            return -1;
        }
    }
    json_t *dist = json_object_get(e, "distribution");
    json_t *vindex = json_object_get(e, "vindex");
    json_t *col = json_object_get(e, "column");
    json_t *b = json_object_get(e, "boundaries");
    const char *d = dist != NULL ? json_string_value(dist) : "sharded";
    if (strcmp(d, "reference") == 0 || strcmp(d, "unsharded") == 0) {
        if (vindex != NULL || col != NULL || b != NULL) {
            snprintf(msg, len,
                     "table \"%s\": a %s table takes no vindex, column or "
                     "boundaries",
                     table, d);
            return -1;
        }
        return 0;
    }
    if (strcmp(d, "sharded") != 0) {
        snprintf(msg, len,
                 "table \"%s\": unknown table kind (distribution) \"%s\"; "
                 "valid: sharded, unsharded, reference",
                 table, d);
        return -1;
    }
    if (vindex == NULL) {
        snprintf(msg, len, "table \"%s\": missing \"vindex\"", table);
        return -1;
    }
    const char *vn = json_string_value(vindex);
    bool range = strcmp(vn, "range") == 0;
    if (strcmp(vn, "hash") != 0 && strcmp(vn, "consistent_hash") != 0 &&
        !range) {
        snprintf(msg, len,
                 "table \"%s\": unknown vindex \"%s\"; valid: hash, "
                 "consistent_hash, range",
                 table, vn);
        return -1;
    }
    if (col == NULL || json_string_length(col) == 0) {
        snprintf(msg, len, "table \"%s\": missing column name (\"column\")",
                 table);
        return -1;
    }
    const struct tl_table *tt = find_table(t, n_t, table);
    int key_col = -1;
    if (tt != NULL) {
        key_col = tl_table_find_column(tt, json_string_value(col));
        if (key_col < 0 || tt->columns[key_col].hidden) {
            snprintf(msg, len, "table \"%s\" has no column \"%s\"", table,
                     json_string_value(col));
            return -1;
        }
    }
    if (!range && b != NULL) {
        snprintf(msg, len, "table \"%s\": \"boundaries\" need vindex \"range\"",
                 table);
        return -1;
    }
    if (range && b == NULL) {
        snprintf(msg, len,
                 "table \"%s\": vindex \"range\" needs "
                 "\"boundaries\"",
                 table);
        return -1;
    }
    if (range)
        return check_boundaries(cfg, table, b, tt, key_col, msg, len);
    return 0;
}

static Talus__Mutation *
new_mut(int kind, struct tl_buf *key, struct tl_buf *val, int cond,
        struct tl_buf *expect)
{
    Talus__Mutation *m = calloc(1, sizeof(*m));
    talus__mutation__init(m);
    m->kind = kind;
    m->key.data = key->data;
    m->key.len = key->len;
    if (val != NULL) {
        m->has_value = 1;
        m->value.data = val->data;
        m->value.len = val->len;
    }
    if (cond != TALUS__MUTATION__COND__NONE) {
        m->has_cond = 1;
        m->cond = cond;
    }
    if (expect != NULL) {
        m->has_expect = 1;
        m->expect.data = expect->data;
        m->expect.len = expect->len;
    }
    return m;
}

/* One attempt: replace the stored vschema by @tables (validated) and bump
 * the version. 0, 1 (message printed), or -2 when the version moved. */
static int
write_vschema(const struct tl_cluster_config *cfg, json_t *tables, json_t *old,
              uint64_t *version)
{
    bool have;
    int64_t v;
    if (read_version(cfg, &have, &v) != 0)
        return 1;
    size_t n = 1 + json_object_size(tables) + json_object_size(old);
    Talus__Mutation **m = calloc(n, sizeof(*m));
    struct tl_buf *bufs = calloc(3 * n, sizeof(*bufs));
    size_t nm = 0, nb = 0;
    const char *name;
    json_t *e;
    int rv = 0;

    for (size_t i = 0; i < 3 * n; i++)
        tl_buf_init(&bufs[i]);
    tl_meta_key_map_version(&bufs[0]);
    tl_meta_counter_encode(&bufs[1], v + 1);
    tl_meta_counter_encode(&bufs[2], v);
    nb = 3;
    m[nm++] = new_mut(TALUS__MUTATION__KIND__PUT, &bufs[0], &bufs[1],
                      have ? TALUS__MUTATION__COND__EQUALS
                           : TALUS__MUTATION__COND__ABSENT,
                      have ? &bufs[2] : NULL);
    json_object_foreach(tables, name, e)
    {
        struct tl_buf *key = &bufs[nb++], *val = &bufs[nb++];
        tl_meta_key_vschema(key, name);
        json_t *stored = json_deep_copy(e);
        json_object_set_new(stored, "table", json_string(name));
        char *s = json_dumps(stored, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(stored);
        tl_meta_vschema_encode(val, s, strlen(s));
        free(s);
        m[nm++] = new_mut(TALUS__MUTATION__KIND__PUT, key, val,
                          TALUS__MUTATION__COND__NONE, NULL);
    }
    /* The file is the whole vschema: entries it no longer names go. */
    json_object_foreach(old, name, e)
    {
        if (json_object_get(tables, name) != NULL)
            continue;
        struct tl_buf *key = &bufs[nb++];
        tl_meta_key_vschema(key, name);
        m[nm++] = new_mut(TALUS__MUTATION__KIND__DELETE, key, NULL,
                          TALUS__MUTATION__COND__NONE, NULL);
    }
    Talus__WriteBatch wb = TALUS__WRITE_BATCH__INIT;
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__Response *resp;
    wb.n_mutations = nm;
    wb.mutations = m;
    req.has_shard = 1;
    req.shard = TL_META_GROUP;
    req.body_case = TALUS__REQUEST__BODY_WRITE;
    req.write = &wb;
    if (meta_call(cfg, &req, &resp) != 0) {
        rv = 1;
    } else {
        if (resp->error != NULL && resp->error->has_mutation)
            rv = -2;
        else if (resp->error != NULL) {
            fprintf(stderr, "shardctl: writing the vschema failed: %s\n",
                    resp->error->message);
            rv = 1;
        }
        talus__response__free_unpacked(resp, NULL);
    }
    *version = (uint64_t)v + 1;
    for (size_t i = 0; i < nm; i++)
        free(m[i]);
    free(m);
    for (size_t i = 0; i < 3 * n; i++)
        tl_buf_close(&bufs[i]);
    free(bufs);
    return rv;
}

static int
vschema_apply(const struct tl_cluster_config *cfg, const char *path)
{
    json_error_t jerr;
    char msg[512];
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        fprintf(stderr, "shardctl: %s:%d:%d: malformed JSON: %s\n", path,
                jerr.line, jerr.column, jerr.text);
        return 1;
    }
    json_t *tables = json_object_get(root, "tables");
    const char *key;
    json_t *v;
    int rv = 0;
    if (!json_is_object(root) || !json_is_object(tables)) {
        fprintf(stderr,
                "shardctl: %s: expected an object {\"tables\": {...}}\n", path);
        json_decref(root);
        return 1;
    }
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "tables") != 0) {
            fprintf(stderr, "shardctl: %s: unknown top-level field \"%s\"\n",
                    path, key);
            json_decref(root);
            return 1;
        }
    }
    struct tl_table **t;
    size_t n_t;
    if (load_tables(cfg, &t, &n_t) != 0) {
        json_decref(root);
        return 1;
    }
    json_object_foreach(tables, key, v)
    {
        if (check_entry(cfg, key, v, t, n_t, msg, sizeof msg) != 0) {
            fprintf(stderr, "shardctl: %s: %s; vschema unchanged\n", path, msg);
            rv = 1;
            break;
        }
    }
    uint64_t version = 0;
    for (int attempt = 0; rv == 0 && attempt < APPLY_RETRIES; attempt++) {
        json_t *old;
        if (load_vschema(cfg, &old) != 0) {
            rv = 1;
            break;
        }
        rv = write_vschema(cfg, tables, old, &version);
        json_decref(old);
        if (rv != -2)
            break;
        rv = 1; /* concurrent catalog change: read again and retry */
        if (attempt + 1 == APPLY_RETRIES)
            fprintf(stderr, "shardctl: the catalog kept changing; vschema "
                            "not applied\n");
        else
            rv = 0;
    }
    if (rv == 0) {
        size_t n_existing = 0;
        json_object_foreach(tables, key, v) n_existing +=
            find_table(t, n_t, key) != NULL;
        printf("vschema applied: %zu table%s, map version %llu\n",
               json_object_size(tables),
               json_object_size(tables) == 1 ? "" : "s",
               (unsigned long long)version);
        if (n_existing > 0)
            printf("note: %zu of them already exist%s and keep their "
                   "current distribution (resharding is not automatic)\n",
                   n_existing, n_existing == 1 ? "s" : "");
    }
    free_table_list(t, n_t);
    json_decref(root);
    return rv;
}

/* An entry as "kind vindex(column) [b1,b2]" into @buf. */
static const char *
describe(json_t *e, char *buf, size_t len)
{
    json_t *d = json_object_get(e, "distribution");
    json_t *b = json_object_get(e, "boundaries");
    char bb[256];
    if (d != NULL && strcmp(json_string_value(d), "sharded") != 0) {
        snprintf(buf, len, "%s", json_string_value(d));
        return buf;
    }
    bb[0] = '\0';
    if (json_is_array(b)) {
        size_t off = 0, i;
        json_t *x;
        json_array_foreach(b, i, x)
        {
            char one[64];
            if (json_is_integer(x))
                snprintf(one, sizeof one, "%lld",
                         (long long)json_integer_value(x));
            else
                snprintf(one, sizeof one, "%s", json_string_value(x));
            if (off + strlen(one) + 4 < sizeof bb)
                off += (size_t)snprintf(bb + off, sizeof bb - off, "%s%s",
                                        i ? "," : " [", one);
        }
        if (off > 0)
            snprintf(bb + off, sizeof bb - off, "]");
    }
    snprintf(buf, len, "sharded %s(%s)%s",
             json_string_value(json_object_get(e, "vindex")),
             json_string_value(json_object_get(e, "column")), bb);
    return buf;
}

static int
vschema_show(const struct tl_cluster_config *cfg, bool json)
{
    json_t *vs;
    struct tl_table **t;
    size_t n_t;
    bool have;
    int64_t version;
    const char *name;
    json_t *e;
    char d1[512], d2[512];
    if (load_vschema(cfg, &vs) != 0)
        return 1;
    if (load_tables(cfg, &t, &n_t) != 0 ||
        read_version(cfg, &have, &version) != 0) {
        json_decref(vs);
        return 1;
    }
    json_t *out = json_object();
    json_object_set_new(out, "map_version", json_integer(version));
    json_t *tabs = json_object();
    if (!json)
        printf("%-24s %-40s %s\n", "TABLE", "VSCHEMA", "CATALOG");
    json_object_foreach(vs, name, e)
    {
        const struct tl_table *tt = find_table(t, n_t, name);
        json_t *o = json_object();
        json_object_set(o, "vschema", e);
        json_object_set_new(o, "catalog",
                            tt != NULL ? table_json(tt) : json_null());
        if (!json) {
            json_t *c = tt != NULL ? json_object_get(o, "catalog") : NULL;
            if (c != NULL && tt->shard_key >= 0)
                describe(c, d2, sizeof d2);
            else
                snprintf(d2, sizeof d2, "%s",
                         tt != NULL ? table_kind(tt) : "(not created yet)");
            printf("%-24s %-40s %s\n", name, describe(e, d1, sizeof d1), d2);
        }
        json_object_set_new(tabs, name, o);
    }
    json_object_set_new(out, "tables", tabs);
    if (json)
        print_json(out);
    else
        printf("\n%zu entr%s, map version %lld\n", json_object_size(vs),
               json_object_size(vs) == 1 ? "y" : "ies", (long long)version);
    json_decref(out);
    json_decref(vs);
    free_table_list(t, n_t);
    return 0;
}

int
shardctl_vschema(const struct tl_cluster_config *cfg, int argc, char **args,
                 bool json)
{
    if (argc == 2 && strcmp(args[0], "apply") == 0)
        return vschema_apply(cfg, args[1]);
    if (argc == 1 && strcmp(args[0], "show") == 0)
        return vschema_show(cfg, json);
    fprintf(stderr, "usage: shardctl vschema apply FILE.json | vschema show "
                    "[--json]\n");
    return 2;
}

/* ------------------------------------------------------------ tso */

int
shardctl_tso(const struct tl_cluster_config *cfg, int argc, char **args,
             bool json)
{
    Talus__Request req = TALUS__REQUEST__INIT;
    Talus__TsoRequest tr = TALUS__TSO_REQUEST__INIT;
    Talus__Response *resp = NULL;
    long n = 1;
    int rv;

    if (argc > 1) {
        fprintf(stderr, "usage: shardctl tso [N]\n");
        return 2;
    }
    if (argc == 1) {
        char *end;
        n = strtol(args[0], &end, 10);
        if (*end != '\0' || n < 1 || n > 65536) {
            fprintf(stderr, "shardctl: tso count must be 1..65536\n");
            return 2;
        }
    }
    tr.count = (uint32_t)n;
    req.body_case = TALUS__REQUEST__BODY_TSO;
    req.tso = &tr;
    if (meta_call(cfg, &req, &resp) != 0)
        return 1;
    rv = 0;
    if (resp->error != NULL || !resp->has_timestamp) {
        fprintf(stderr, "shardctl: no timestamp: %s\n",
                resp->error != NULL ? resp->error->message : "empty answer");
        rv = 1;
    } else if (json) {
        printf("{\"first\":%llu,\"count\":%ld,\"physical_ms\":%llu}\n",
               (unsigned long long)resp->timestamp, n,
               (unsigned long long)(resp->timestamp >> 18));
    } else {
        for (long i = 0; i < n; i++)
            printf("%llu\n",
                   (unsigned long long)(resp->timestamp + (uint64_t)i));
    }
    talus__response__free_unpacked(resp, NULL);
    return rv;
}

/* ------------------------------------------------------------ routers */

static int64_t
wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int
shardctl_routers(const struct tl_cluster_config *cfg, bool json)
{
    struct meta_rows rows;
    size_t n_bad = 0, n_alive = 0;

    if (scan_index(cfg, TL_META_INDEX_ROUTER, &rows) != 0)
        return 1;
    int64_t now = wall_ms();
    json_t *list = json_array();
    if (!json)
        printf("%-10s %-20s %-22s %s\n", "ROUTER", "INCARNATION", "ADDRESS",
               "LEASE");
    for (size_t i = 0; i < rows.n; i++) {
        struct tl_meta_router r;
        if (tl_meta_router_decode(rows.raw[i].data, rows.raw[i].len, &r) != 0) {
            n_bad++;
            continue;
        }
        int64_t left = r.lease_expires_ms - now;
        bool alive = tl_meta_router_liveness(&r, r.incarnation, now) ==
                     TL_META_ROUTER_ALIVE;
        n_alive += alive;
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(r.id));
        json_object_set_new(o, "incarnation",
                            json_integer((json_int_t)r.incarnation));
        json_object_set_new(o, "address", json_string(r.addr));
        json_object_set_new(o, "lease_expires_ms",
                            json_integer(r.lease_expires_ms));
        json_object_set_new(o, "lease_remaining_ms",
                            json_integer(left > 0 ? left : 0));
        json_object_set_new(o, "alive", json_boolean(alive));
        json_array_append_new(list, o);
        if (!json) {
            char lease[32];
            if (alive)
                snprintf(lease, sizeof lease, "%.1f s", (double)left / 1000);
            else
                snprintf(lease, sizeof lease, "expired %.1f s ago",
                         (double)-left / 1000);
            printf("%-10u %-20llu %-22s %s\n", r.id,
                   (unsigned long long)r.incarnation, r.addr, lease);
        }
    }
    if (json) {
        json_t *out = json_object();
        json_object_set_new(out, "routers", list);
        json_object_set_new(out, "alive", json_integer((json_int_t)n_alive));
        print_json(out);
        json_decref(out);
    } else {
        json_decref(list);
        printf("\n%zu router%s, %zu alive\n", rows.n - n_bad,
               rows.n - n_bad == 1 ? "" : "s", n_alive);
    }
    if (n_bad > 0)
        fprintf(stderr, "shardctl: %zu router record%s could not be read\n",
                n_bad, n_bad == 1 ? "" : "s");
    meta_rows_close(&rows);
    return 0;
}
