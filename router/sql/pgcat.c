/* pgcat — the virtual catalog tables and their rows. See pgcat.h. */
#include "router/sql/pgcat.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base/sqlstate.h"
#include "json.h"
#include "numeric.h"
#include "router/core/catalog.h"
#include "router/core/roles.h"
#include "router/core/router_int.h"
#include "router/core/sequences.h"
#include "router/sql/sql_int.h"
#include "vindex.h"

/* Column types, one letter each: o oid, x xid, l bigint (as bigint);
 * n name, c "char", t text, r regproc; arrays as text: a of text, v of
 * smallint (int2vector, int2[]), w of oid (oidvector, oid[]); b bool;
 * h smallint; i integer; f real; z timestamptz. An array column's typmod
 * is its element type (query.c reads it for subscripts). */
struct vt_spec {
    const char *schema;
    const char *name;
    uint32_t oid;
    char kind;        /* relkind: 'r' table, 'v' view */
    const char *cols; /* "name:type name:type ..." */
};

/* clang-format off */
static const struct vt_spec specs[] = {
    {"pg_catalog", "pg_class", 1259, 'r',
     "oid:o relname:n relnamespace:o reltype:o reloftype:o relowner:o "
     "relam:o relfilenode:o reltablespace:o relpages:i reltuples:f "
     "relallvisible:i reltoastrelid:o relhasindex:b relisshared:b "
     "relpersistence:c relkind:c relnatts:h relchecks:h relhasrules:b "
     "relhastriggers:b relhassubclass:b relrowsecurity:b "
     "relforcerowsecurity:b relispopulated:b relreplident:c "
     "relispartition:b relrewrite:o relfrozenxid:x relminmxid:x relacl:a "
     "reloptions:a relpartbound:t"},
    {"pg_catalog", "pg_namespace", 2615, 'r',
     "oid:o nspname:n nspowner:o nspacl:a"},
    {"pg_catalog", "pg_attribute", 1249, 'r',
     "attrelid:o attname:n atttypid:o attstattarget:i attlen:h attnum:h "
     "attndims:i attcacheoff:i atttypmod:i attbyval:b attalign:c "
     "attstorage:c attcompression:c attnotnull:b atthasdef:b "
     "atthasmissing:b attidentity:c attgenerated:c attisdropped:b "
     "attislocal:b attinhcount:i attcollation:o attacl:a attoptions:a "
     "attfdwoptions:a attmissingval:a"},
    {"pg_catalog", "pg_type", 1247, 'r',
     "oid:o typname:n typnamespace:o typowner:o typlen:h typbyval:b "
     "typtype:c typcategory:c typispreferred:b typisdefined:b typdelim:c "
     "typrelid:o typsubscript:r typelem:o typarray:o typinput:r "
     "typoutput:r typreceive:r typsend:r typmodin:r typmodout:r "
     "typanalyze:r typalign:c typstorage:c typnotnull:b typbasetype:o "
     "typtypmod:i typndims:i typcollation:o typdefaultbin:t typdefault:t "
     "typacl:a"},
    {"pg_catalog", "pg_index", 2610, 'r',
     "indexrelid:o indrelid:o indnatts:h indnkeyatts:h indisunique:b "
     "indnullsnotdistinct:b indisprimary:b indisexclusion:b indimmediate:b "
     "indisclustered:b indisvalid:b indcheckxmin:b indisready:b "
     "indislive:b indisreplident:b indkey:v indcollation:w indclass:w "
     "indoption:v indexprs:t indpred:t"},
    {"pg_catalog", "pg_constraint", 2606, 'r',
     "oid:o conname:n connamespace:o contype:c condeferrable:b "
     "condeferred:b convalidated:b conrelid:o contypid:o conindid:o "
     "conparentid:o confrelid:o confupdtype:c confdeltype:c "
     "confmatchtype:c conislocal:b coninhcount:i connoinherit:b conkey:v "
     "confkey:v conpfeqop:w conppeqop:w conffeqop:w confdelsetcols:v "
     "conexclop:w conbin:t"},
    {"pg_catalog", "pg_attrdef", 2604, 'r',
     "oid:o adrelid:o adnum:h adbin:t"},
    {"pg_catalog", "pg_database", 1262, 'r',
     "oid:o datname:n datdba:o encoding:i datlocprovider:c "
     "datistemplate:b datallowconn:b datconnlimit:i datfrozenxid:x "
     "datminmxid:x dattablespace:o datcollate:t datctype:t daticulocale:t "
     "datcollversion:t datacl:a"},
    {"pg_catalog", "pg_roles", 12001, 'v',
     "rolname:n rolsuper:b rolinherit:b rolcreaterole:b rolcreatedb:b "
     "rolcanlogin:b rolreplication:b rolconnlimit:i rolpassword:t "
     "rolvaliduntil:z rolbypassrls:b rolconfig:a oid:o"},
    {"pg_catalog", "pg_user", 12002, 'v',
     "usename:n usesysid:o usecreatedb:b usesuper:b userepl:b "
     "usebypassrls:b passwd:t valuntil:z useconfig:a"},
    {"pg_catalog", "pg_auth_members", 1261, 'r',
     "roleid:o member:o grantor:o admin_option:b"},
    {"pg_catalog", "pg_settings", 12003, 'v',
     "name:t setting:t unit:t category:t short_desc:t extra_desc:t "
     "context:t vartype:t source:t min_val:t max_val:t enumvals:a "
     "boot_val:t reset_val:t sourcefile:t sourceline:i pending_restart:b"},
    {"pg_catalog", "pg_am", 2601, 'r',
     "oid:o amname:n amhandler:r amtype:c"},
    {"pg_catalog", "pg_description", 2609, 'r',
     "objoid:o classoid:o objsubid:i description:t"},
    {"pg_catalog", "pg_shdescription", 2396, 'r',
     "objoid:o classoid:o description:t"},
    {"pg_catalog", "pg_inherits", 2611, 'r',
     "inhrelid:o inhparent:o inhseqno:i inhdetachpending:b"},
    {"pg_catalog", "pg_proc", 1255, 'r',
     "oid:o proname:n pronamespace:o proowner:o prolang:o procost:f "
     "prorows:f provariadic:o prosupport:r prokind:c prosecdef:b "
     "proleakproof:b proisstrict:b proretset:b provolatile:c "
     "proparallel:c pronargs:h pronargdefaults:h prorettype:o "
     "proargtypes:w proallargtypes:w proargmodes:a proargnames:a "
     "proargdefaults:t protrftypes:a prosrc:t probin:t prosqlbody:t "
     "proconfig:a proacl:a"},
    {"pg_catalog", "pg_tables", 12004, 'v',
     "schemaname:n tablename:n tableowner:n tablespace:n hasindexes:b "
     "hasrules:b hastriggers:b rowsecurity:b"},
    {"pg_catalog", "pg_indexes", 12005, 'v',
     "schemaname:n tablename:n indexname:n tablespace:n indexdef:t"},
    {"pg_catalog", "pg_views", 12006, 'v',
     "schemaname:n viewname:n viewowner:n definition:t"},
    {"pg_catalog", "pg_range", 3541, 'r',
     "rngtypid:o rngsubtype:o rngmultitypid:o rngcollation:o "
     "rngsubopc:o rngcanonical:r rngsubdiff:r"},
    {"pg_catalog", "pg_enum", 3501, 'r',
     "oid:o enumtypid:o enumsortorder:f enumlabel:n"},
    {"pg_catalog", "pg_collation", 3456, 'r',
     "oid:o collname:n collnamespace:o collowner:o collprovider:c "
     "collisdeterministic:b collencoding:i collcollate:t collctype:t "
     "colliculocale:t collversion:t"},
    {"pg_catalog", "pg_policy", 3256, 'r',
     "oid:o polname:n polrelid:o polcmd:c polpermissive:b polroles:w "
     "polqual:t polwithcheck:t"},
    {"pg_catalog", "pg_statistic_ext", 3381, 'r',
     "oid:o stxrelid:o stxname:n stxnamespace:o stxowner:o "
     "stxstattarget:i stxkeys:v stxkind:a stxexprs:t"},
    {"pg_catalog", "pg_publication", 6104, 'r',
     "oid:o pubname:n pubowner:o puballtables:b pubinsert:b pubupdate:b "
     "pubdelete:b pubtruncate:b pubviaroot:b"},
    {"pg_catalog", "pg_publication_namespace", 6237, 'r',
     "oid:o pnpubid:o pnnspid:o"},
    {"pg_catalog", "pg_publication_rel", 6106, 'r',
     "oid:o prpubid:o prrelid:o prqual:t prattrs:v"},
    {"pg_catalog", "pg_tablespace", 1213, 'r',
     "oid:o spcname:n spcowner:o spcacl:a spcoptions:a"},
    {"pg_catalog", "pg_extension", 3079, 'r',
     "oid:o extname:n extowner:o extnamespace:o extrelocatable:b "
     "extversion:t extconfig:a extcondition:a"},
    {"pg_catalog", "pg_trigger", 2620, 'r',
     "oid:o tgrelid:o tgparentid:o tgname:n tgfoid:o tgtype:h tgenabled:c "
     "tgisinternal:b tgconstrrelid:o tgconstrindid:o tgconstraint:o "
     "tgdeferrable:b tginitdeferred:b tgnargs:h tgattr:v tgargs:t "
     "tgqual:t tgoldtable:n tgnewtable:n"},
    {"pg_catalog", "pg_sequence", 2224, 'r',
     "seqrelid:o seqtypid:o seqstart:l seqincrement:l seqmax:l seqmin:l "
     "seqcache:l seqcycle:b"},
    {"pg_catalog", "pg_depend", 2608, 'r',
     "classid:o objid:o objsubid:i refclassid:o refobjid:o refobjsubid:i "
     "deptype:c"},
    {"pg_catalog", "pg_language", 2612, 'r',
     "oid:o lanname:n lanowner:o lanispl:b lanpltrusted:b "
     "lanplcallfoid:o laninline:o lanvalidator:o lanacl:a"},
    {"pg_catalog", "pg_rewrite", 2618, 'r',
     "oid:o rulename:n ev_class:o ev_type:c ev_enabled:c is_instead:b "
     "ev_qual:t ev_action:t"},
    {"pg_catalog", "pg_foreign_table", 3118, 'r',
     "ftrelid:o ftserver:o ftoptions:a"},
    {"pg_catalog", "pg_stat_activity", 12007, 'v',
     "datid:o datname:n pid:i usesysid:o usename:n application_name:t "
     "client_addr:t client_port:i backend_start:z state:t query:t"},
    {"information_schema", "schemata", 13001, 'v',
     "catalog_name:t schema_name:t schema_owner:t "
     "default_character_set_catalog:t default_character_set_schema:t "
     "default_character_set_name:t sql_path:t"},
    {"information_schema", "tables", 13002, 'v',
     "table_catalog:t table_schema:t table_name:t table_type:t "
     "self_referencing_column_name:t reference_generation:t "
     "user_defined_type_catalog:t user_defined_type_schema:t "
     "user_defined_type_name:t is_insertable_into:t is_typed:t "
     "commit_action:t"},
    {"information_schema", "columns", 13003, 'v',
     "table_catalog:t table_schema:t table_name:t column_name:t "
     "ordinal_position:i column_default:t is_nullable:t data_type:t "
     "character_maximum_length:i character_octet_length:i "
     "numeric_precision:i numeric_precision_radix:i numeric_scale:i "
     "datetime_precision:i udt_catalog:t udt_schema:t udt_name:t "
     "is_identity:t is_generated:t is_updatable:t"},
    {"information_schema", "table_constraints", 13004, 'v',
     "constraint_catalog:t constraint_schema:t constraint_name:t "
     "table_catalog:t table_schema:t table_name:t constraint_type:t "
     "is_deferrable:t initially_deferred:t enforced:t nulls_distinct:t"},
    {"information_schema", "key_column_usage", 13005, 'v',
     "constraint_catalog:t constraint_schema:t constraint_name:t "
     "table_catalog:t table_schema:t table_name:t column_name:t "
     "ordinal_position:i position_in_unique_constraint:i"},
    {"talus", "tables", 13101, 'v',
     "table_name:t distribution:t vindex:t shard_key:t primary_key:t "
     "table_id:l schema_version:l"},
    {"talus", "shards", 13102, 'v',
     "shard:i leader:i leader_address:t replicas:i"},
    {"talus", "nodes", 13103, 'v',
     "node_id:i rpc_address:t raft_address:t reachable:b"},
    {"pg_catalog", "pg_prepared_statements", 12008, 'v',
     "name:t statement:t prepare_time:z parameter_types:a from_sql:b "
     "generic_plans:l custom_plans:l"},
    {"talus", "prepared_statements", 13104, 'v',
     "name:t statement:t plans:l generic_runs:l custom_runs:l "
     "plan_catalog_version:l"},
};
/* clang-format on */

#define N_SPECS (sizeof(specs) / sizeof(specs[0]))

enum {
    VT_CLASS = 0,
    VT_NAMESPACE,
    VT_ATTRIBUTE,
    VT_TYPE,
    VT_INDEX,
    VT_CONSTRAINT,
    VT_ATTRDEF,
    VT_DATABASE,
    VT_ROLES,
    VT_USER,
    VT_AUTH_MEMBERS,
    VT_SETTINGS,
    VT_AM,
    VT_DESCRIPTION,
    VT_SHDESCRIPTION,
    VT_INHERITS,
    VT_PROC,
    VT_TABLES,
    VT_INDEXES,
    VT_VIEWS,
    VT_RANGE,
    VT_ENUM,
    VT_COLLATION,
    VT_POLICY,
    VT_STATISTIC_EXT,
    VT_PUBLICATION,
    VT_PUBLICATION_NAMESPACE,
    VT_PUBLICATION_REL,
    VT_TABLESPACE,
    VT_EXTENSION,
    VT_TRIGGER,
    VT_SEQUENCE,
    VT_DEPEND,
    VT_LANGUAGE,
    VT_REWRITE,
    VT_FOREIGN_TABLE,
    VT_STAT_ACTIVITY,
    VT_IS_SCHEMATA,
    VT_IS_TABLES,
    VT_IS_COLUMNS,
    VT_IS_TABLE_CONSTRAINTS,
    VT_IS_KEY_COLUMN_USAGE,
    VT_TALUS_TABLES,
    VT_TALUS_SHARDS,
    VT_TALUS_NODES,
    VT_PREPARED_STATEMENTS,
    VT_TALUS_PREPARED_STATEMENTS,
    VT_COUNT,
};

_Static_assert(VT_COUNT == N_SPECS, "one enum entry per virtual table");
_Static_assert(N_SPECS <= PGCAT_MAX_TABLES, "PGCAT_MAX_TABLES holds them");

static struct tl_table descs[N_SPECS];
static char col_kinds[N_SPECS][64];
static pthread_once_t descs_once = PTHREAD_ONCE_INIT;

static uint8_t
letter_type(char c)
{
    switch (c) {
    case 'o':
    case 'x':
    case 'l':
        return TL_TYPE_INT8;
    case 'b':
        return TL_TYPE_BOOL;
    case 'h':
        return TL_TYPE_INT2;
    case 'i':
        return TL_TYPE_INT4;
    case 'f':
        return TL_TYPE_FLOAT4;
    case 'z':
        return TL_TYPE_TIMESTAMPTZ;
    default:
        return TL_TYPE_TEXT;
    }
}

static void
build_descs(void)
{
    for (size_t i = 0; i < N_SPECS; i++) {
        struct tl_table *t = &descs[i];
        size_t n = 1;
        for (const char *p = specs[i].cols; *p; p++)
            n += *p == ' ';
        assert(n <= sizeof(col_kinds[i]));
        t->columns = calloc(n, sizeof(*t->columns));
        snprintf(t->name, sizeof(t->name), "%s", specs[i].name);
        t->id = specs[i].oid;
        t->shard_key = -1;
        const char *p = specs[i].cols;
        for (size_t k = 0; k < n; k++) {
            const char *colon = strchr(p, ':');
            struct tl_column *c = &t->columns[k];
            snprintf(c->name, sizeof(c->name), "%.*s", (int)(colon - p), p);
            c->type = letter_type(colon[1]);
            c->typmod = colon[1] == 'a'   ? TL_TYPE_TEXT
                        : colon[1] == 'v' ? TL_TYPE_INT2
                        : colon[1] == 'w' ? TL_TYPE_INT8
                                          : -1;
            col_kinds[i][k] = colon[1];
            p = colon + 2;
            while (*p == ' ')
                p++;
        }
        t->n_columns = (uint32_t)n;
    }
}

static void
init_descs(void)
{
    pthread_once(&descs_once, build_descs);
}

bool
pgcat_is_schema(const char *schema)
{
    return schema != NULL && (strcmp(schema, "pg_catalog") == 0 ||
                              strcmp(schema, "information_schema") == 0 ||
                              strcmp(schema, "talus") == 0);
}

int
pgcat_find(const char *schema, const char *name)
{
    if (schema == NULL || schema[0] == '\0')
        schema = "pg_catalog";
    for (size_t i = 0; i < N_SPECS; i++)
        if (strcmp(specs[i].schema, schema) == 0 &&
            strcmp(specs[i].name, name) == 0)
            return (int)i;
    return -1;
}

const struct tl_table *
pgcat_desc(int vt)
{
    init_descs();
    assert(vt >= 0 && (size_t)vt < N_SPECS);
    return &descs[vt];
}

uint32_t
pgcat_table_oid(const struct tl_table *t)
{
    return PGCAT_USER_OID_BASE + 4u * t->id;
}

int
pgcat_open(struct sql_stmt *st, struct pgcat *cat)
{
    init_descs();
    memset(cat, 0, sizeof(*cat));
    cat->st = st;
    cat->user = st->s->user[0] ? st->s->user : "talus";
    cat->database = st->s->database[0] ? st->s->database : "talus";
    if (st->r == NULL || st->r->catalog == NULL)
        return 0;
    int rv = catalog_list(st->r->catalog, st->a, &cat->tables, &cat->n_tables,
                          &st->err);
    if (rv == 0)
        rv = sequence_list(st->r, st->a, &cat->seqs, &cat->n_seqs, &st->err);
    return rv;
}

/* ------------------------------------------------------------- arrays */

int
pgcat_array_parse(const char *s, size_t len, struct tl_arena *a,
                  const char ***elems, size_t **lens, size_t *n,
                  struct tl_error *err)
{
    size_t cap = 4, cnt = 0, i = 0;
    const char **ev = tl_arena_alloc(a, cap * sizeof(*ev));
    size_t *lv = tl_arena_alloc(a, cap * sizeof(*lv));
    while (i < len && s[i] == ' ')
        i++;
    if (i < len && s[i] != '{') {
        /* int2vector, oidvector: elements separated by spaces. */
        while (i < len) {
            size_t start = i;
            while (i < len && s[i] != ' ')
                i++;
            if (cnt == cap) {
                const char **ne = tl_arena_alloc(a, 2 * cap * sizeof(*ne));
                size_t *nl = tl_arena_alloc(a, 2 * cap * sizeof(*nl));
                memcpy(ne, ev, cap * sizeof(*ne));
                memcpy(nl, lv, cap * sizeof(*nl));
                ev = ne;
                lv = nl;
                cap *= 2;
            }
            ev[cnt] = tl_arena_strndup(a, s + start, i - start);
            lv[cnt] = i - start;
            cnt++;
            while (i < len && s[i] == ' ')
                i++;
        }
        goto done;
    }
    if (i >= len)
        goto bad;
    i++;
    while (i < len && s[i] == ' ')
        i++;
    if (i < len && s[i] == '}') {
        i++;
        goto done;
    }
    for (;;) {
        char *buf = tl_arena_alloc(a, len + 1);
        size_t bl = 0;
        bool quoted = false;
        while (i < len && s[i] == ' ')
            i++;
        if (i < len && s[i] == '"') {
            quoted = true;
            i++;
            while (i < len && s[i] != '"') {
                if (s[i] == '\\' && i + 1 < len)
                    i++;
                buf[bl++] = s[i++];
            }
            if (i >= len)
                goto bad;
            i++;
        } else {
            while (i < len && s[i] != ',' && s[i] != '}') {
                if (s[i] == '\\' && i + 1 < len)
                    i++;
                buf[bl++] = s[i++];
            }
            while (bl > 0 && buf[bl - 1] == ' ')
                bl--;
        }
        if (cnt == cap) {
            const char **ne = tl_arena_alloc(a, 2 * cap * sizeof(*ne));
            size_t *nl = tl_arena_alloc(a, 2 * cap * sizeof(*nl));
            memcpy(ne, ev, cap * sizeof(*ne));
            memcpy(nl, lv, cap * sizeof(*nl));
            ev = ne;
            lv = nl;
            cap *= 2;
        }
        buf[bl] = '\0';
        bool is_null = !quoted && bl == 4 && strncasecmp(buf, "NULL", 4) == 0;
        ev[cnt] = is_null ? NULL : buf;
        lv[cnt] = is_null ? 0 : bl;
        cnt++;
        while (i < len && s[i] == ' ')
            i++;
        if (i < len && s[i] == ',') {
            i++;
            continue;
        }
        if (i < len && s[i] == '}') {
            i++;
            break;
        }
        goto bad;
    }
done:
    while (i < len && s[i] == ' ')
        i++;
    if (i != len)
        goto bad;
    *elems = ev;
    *lens = lv;
    *n = cnt;
    return 0;
bad:
    return tl_error_set(err, TL_ETYPE, TL_SQLSTATE_INVALID_TEXT_REPRESENTATION,
                        "malformed array literal: \"%.*s\"", (int)len, s);
}

void
pgcat_array_append(struct tl_buf *b, const char *s, size_t len, bool first)
{
    if (!first)
        tl_buf_append_u8(b, ',');
    if (s == NULL) {
        tl_buf_append(b, "NULL", 4);
        return;
    }
    bool quote = len == 0 || (len == 4 && strncasecmp(s, "NULL", 4) == 0);
    for (size_t i = 0; i < len && !quote; i++)
        quote = strchr("{},\"\\ \t\n", s[i]) != NULL;
    if (!quote) {
        tl_buf_append(b, s, len);
        return;
    }
    tl_buf_append_u8(b, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\')
            tl_buf_append_u8(b, '\\');
        tl_buf_append_u8(b, (uint8_t)s[i]);
    }
    tl_buf_append_u8(b, '"');
}

/* --------------------------------------------------------------- rows */

/* Rows being built for one virtual table. */
struct rows {
    int vt;
    struct tl_arena *a;
    struct tl_value **v;
    size_t n, cap;
};

/* A new row: bool false, numbers 0, names and "char" empty, text and
 * arrays NULL. */
static struct tl_value *
new_row(struct rows *r)
{
    const struct tl_table *d = &descs[r->vt];
    tl_arena_reserve(r->a, (void **)&r->v, r->n, &r->cap, sizeof(*r->v), 16);
    struct tl_value *row = tl_arena_alloc(r->a, d->n_columns * sizeof(*row));
    for (uint32_t k = 0; k < d->n_columns; k++) {
        switch (col_kinds[r->vt][k]) {
        case 'n':
        case 'c':
            row[k] = tl_value_text(TL_TYPE_TEXT, "", 0);
            break;
        case 't':
        case 'a':
        case 'v':
        case 'w':
        case 'r':
        case 'z':
            row[k] = tl_value_null(d->columns[k].type);
            break;
        case 'b':
            row[k] = tl_value_bool(false);
            break;
        case 'f':
            row[k] = tl_value_float4(0);
            break;
        default:
            row[k] = tl_value_int(d->columns[k].type, 0);
            break;
        }
    }
    r->v[r->n++] = row;
    return row;
}

static int
col(const struct rows *r, const char *name)
{
    int k = tl_table_find_column(&descs[r->vt], name);
    assert(k >= 0);
    return k;
}

static void
set_int(struct rows *r, struct tl_value *row, const char *name, int64_t v)
{
    int k = col(r, name);
    row[k] = tl_value_int(descs[r->vt].columns[k].type, v);
}

static void
set_bool(struct rows *r, struct tl_value *row, const char *name, bool v)
{
    row[col(r, name)] = tl_value_bool(v);
}

static void
set_text(struct rows *r, struct tl_value *row, const char *name, const char *v)
{
    int k = col(r, name);
    if (v == NULL) {
        row[k] = tl_value_null(TL_TYPE_TEXT);
        return;
    }
    row[k] = tl_value_text(TL_TYPE_TEXT, tl_arena_strdup(r->a, v),
                           (uint32_t)strlen(v));
}

static void
set_null(struct rows *r, struct tl_value *row, const char *name)
{
    int k = col(r, name);
    row[k] = tl_value_null(descs[r->vt].columns[k].type);
}

const char *
pgcat_nsp_name(uint32_t nsp)
{
    switch (nsp) {
    case PGCAT_NS_PG_CATALOG:
        return "pg_catalog";
    case PGCAT_NS_INFORMATION_SCHEMA:
        return "information_schema";
    case PGCAT_NS_TALUS:
        return "talus";
    default:
        return "public";
    }
}

uint32_t
pgcat_nsp_of(const char *schema)
{
    if (strcmp(schema, "pg_catalog") == 0)
        return PGCAT_NS_PG_CATALOG;
    if (strcmp(schema, "information_schema") == 0)
        return PGCAT_NS_INFORMATION_SCHEMA;
    if (strcmp(schema, "talus") == 0)
        return PGCAT_NS_TALUS;
    return PGCAT_NS_PUBLIC;
}

static size_t build_relations(struct pgcat *cat, struct pgcat_rel **out);

size_t
pgcat_relations(struct pgcat *cat, struct pgcat_rel **out)
{
    if (cat->rels == NULL)
        cat->n_rels = build_relations(cat, &cat->rels);
    *out = cat->rels;
    return cat->n_rels;
}

/* The relation list of @cat, in the statement arena. */
static size_t
build_relations(struct pgcat *cat, struct pgcat_rel **out)
{
    struct tl_arena *a = cat->st->a;
    size_t n = cat->n_tables + N_SPECS;
    struct pgcat_rel *v = tl_arena_calloc(a, (n + 1) * sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < cat->n_tables; i++) {
        v[k].t = cat->tables[i];
        v[k].oid = pgcat_table_oid(cat->tables[i]);
        v[k].nsp = PGCAT_NS_PUBLIC;
        v[k].schema = "public";
        v[k].kind = 'r';
        v[k].user = true;
        k++;
    }
    for (size_t i = 0; i < N_SPECS; i++) {
        v[k].t = &descs[i];
        v[k].oid = specs[i].oid;
        v[k].schema = specs[i].schema;
        v[k].nsp = pgcat_nsp_of(specs[i].schema);
        v[k].kind = specs[i].kind;
        k++;
    }
    *out = v;
    return k;
}

/* The columns of @t that SQL shows (not generated row ids). */
static uint32_t
visible_columns(const struct tl_table *t)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->n_columns; i++)
        n += !t->columns[i].hidden;
    return n;
}

/* attnum of column @c of @t (1-based over the visible columns). */
int
pgcat_attnum(const struct tl_table *t, uint32_t c)
{
    int n = 0;
    for (uint32_t i = 0; i <= c && i < t->n_columns; i++)
        n += !t->columns[i].hidden;
    return n;
}

/* Whether @t has a primary key the user declared (not a generated row
 * id). */
bool
pgcat_has_pk(const struct tl_table *t)
{
    return t->n_pk > 0 && !t->columns[t->pk[0]].hidden;
}

/* PostgreSQL's atttypmod for a column: n + 4 for varchar(n), char(n);
 * numeric(p,s) keeps PostgreSQL's typmod as Talus stores it. */
int32_t
pgcat_typmod(uint8_t type, int32_t typmod)
{
    if ((type == TL_TYPE_VARCHAR || type == TL_TYPE_BPCHAR) && typmod >= 0)
        return typmod + 4;
    if ((type == TL_TYPE_NUMERIC || type == TL_TYPE_INTERVAL) && typmod >= 0)
        return typmod;
    return -1;
}

const char *
pgcat_quote_ident(struct tl_arena *a, const char *name)
{
    bool safe = (name[0] >= 'a' && name[0] <= 'z') || name[0] == '_';
    for (const char *p = name; safe && *p != '\0'; p++)
        safe =
            (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
    if (safe) {
        /* A keyword other than an unreserved one needs quotes too, as
         * PostgreSQL's quote_identifier() gives them. */
        PgQueryScanResult sr = pg_query_scan(name);
        if (sr.error == NULL) {
            PgQuery__ScanResult *scan = pg_query__scan_result__unpack(
                NULL, sr.pbuf.len, (const uint8_t *)sr.pbuf.data);
            if (scan != NULL && scan->n_tokens == 1 &&
                scan->tokens[0]->keyword_kind !=
                    PG_QUERY__KEYWORD_KIND__NO_KEYWORD &&
                scan->tokens[0]->keyword_kind !=
                    PG_QUERY__KEYWORD_KIND__UNRESERVED_KEYWORD)
                safe = false;
            if (scan != NULL)
                pg_query__scan_result__free_unpacked(scan, NULL);
        }
        pg_query_free_scan_result(sr);
    }
    if (safe)
        return name;
    struct tl_buf b;
    tl_buf_init(&b);
    tl_buf_append_u8(&b, '"');
    for (const char *p = name; *p != '\0'; p++) {
        if (*p == '"')
            tl_buf_append_u8(&b, '"');
        tl_buf_append_u8(&b, (uint8_t)*p);
    }
    tl_buf_append_u8(&b, '"');
    char *s = tl_arena_strndup(a, (const char *)b.data, b.len);
    tl_buf_close(&b);
    return s;
}

const char *
pgcat_index_def(struct tl_arena *a, const struct pgcat_index *ix, bool pretty)
{
    struct tl_buf b;
    tl_buf_init(&b);
    tl_buf_printf(&b, "CREATE %sINDEX %s ON %s%s USING btree (",
                  ix->unique ? "UNIQUE " : "", pgcat_quote_ident(a, ix->name),
                  pretty ? "" : "public.", pgcat_quote_ident(a, ix->t->name));
    for (uint32_t i = 0; i < ix->n_cols; i++)
        tl_buf_printf(&b, "%s%s", i ? ", " : "",
                      pgcat_quote_ident(a, ix->t->columns[ix->cols[i]].name));
    tl_buf_printf(&b, ")");
    char *s = tl_arena_strndup(a, (const char *)b.data, b.len);
    tl_buf_close(&b);
    return s;
}

int64_t
pgcat_index_oid(const struct tl_table *t, const struct tl_index *ix)
{
    if (ix == NULL)
        return (int64_t)pgcat_table_oid(t) + 1;
    return PGCAT_INDEX_OID_BASE + PGCAT_INDEX_OID_STRIDE * (int64_t)t->id +
           ix->id;
}

static size_t build_indexes(struct pgcat *cat, struct pgcat_index **out);

size_t
pgcat_indexes(struct pgcat *cat, struct pgcat_index **out)
{
    if (cat->idxs == NULL)
        cat->n_idxs = build_indexes(cat, &cat->idxs);
    *out = cat->idxs;
    return cat->n_idxs;
}

/* The index list of @cat, in the statement arena. */
static size_t
build_indexes(struct pgcat *cat, struct pgcat_index **out)
{
    struct tl_arena *a = cat->st->a;
    size_t n = 0;
    for (size_t i = 0; i < cat->n_tables; i++)
        n += pgcat_has_pk(cat->tables[i]) + cat->tables[i]->n_indexes;
    struct pgcat_index *v = tl_arena_calloc(a, (n + 1) * sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < cat->n_tables; i++) {
        const struct tl_table *t = cat->tables[i];
        if (pgcat_has_pk(t)) {
            v[k].t = t;
            v[k].oid = pgcat_index_oid(t, NULL);
            v[k].name = tl_arena_printf(a, "%s_pkey", t->name);
            v[k].unique = true;
            v[k].primary = true;
            v[k].valid = true;
            v[k].n_cols = t->n_pk;
            v[k].cols = t->pk;
            k++;
        }
        for (uint32_t j = 0; j < t->n_indexes; j++) {
            const struct tl_index *ix = &t->indexes[j];
            v[k].t = t;
            v[k].ix = ix;
            v[k].oid = pgcat_index_oid(t, ix);
            v[k].name = ix->name;
            v[k].unique = ix->unique;
            v[k].valid = ix->state == TL_INDEX_VALID;
            v[k].n_cols = ix->n_cols;
            v[k].cols = ix->cols;
            k++;
        }
    }
    *out = v;
    return k;
}

const struct pgcat_index *
pgcat_index_by_oid(struct pgcat *cat, int64_t oid)
{
    struct pgcat_index *v;
    size_t n = pgcat_indexes(cat, &v);
    for (size_t i = 0; i < n; i++)
        if (v[i].oid == oid)
            return &v[i];
    return NULL;
}

/* The index's key columns as attnums: int2vector text ("1 3") when
 * @vector, else int2[] text ("{1,3}"). */
static const char *
index_key_array(struct tl_arena *a, const struct pgcat_index *ix, bool vector)
{
    struct tl_buf b;
    tl_buf_init(&b);
    if (!vector)
        tl_buf_append_u8(&b, '{');
    for (uint32_t i = 0; i < ix->n_cols; i++)
        tl_buf_printf(&b, "%s%d", i ? (vector ? " " : ",") : "",
                      pgcat_attnum(ix->t, ix->cols[i]));
    if (!vector)
        tl_buf_append_u8(&b, '}');
    char *s = tl_arena_strndup(a, (const char *)b.data, b.len);
    tl_buf_close(&b);
    return s;
}

/* The default btree operator class of type @t (pg_opclass OIDs of
 * PostgreSQL 15; varchar indexes with text_ops), 0 for json, which has
 * none. */
static uint32_t
btree_opclass(uint8_t t)
{
    switch (t) {
    case TL_TYPE_BOOL:
        return 10003; /* bool_ops */
    case TL_TYPE_INT2:
        return 1979; /* int2_ops */
    case TL_TYPE_INT4:
        return 1978; /* int4_ops */
    case TL_TYPE_INT8:
        return 3124; /* int8_ops */
    case TL_TYPE_FLOAT4:
        return 10012; /* float4_ops */
    case TL_TYPE_FLOAT8:
        return 3123; /* float8_ops */
    case TL_TYPE_NUMERIC:
        return 3125; /* numeric_ops */
    case TL_TYPE_TEXT:
    case TL_TYPE_VARCHAR:
        return 3126; /* text_ops */
    case TL_TYPE_BPCHAR:
        return 10004; /* bpchar_ops */
    case TL_TYPE_TIMESTAMPTZ:
        return 3127; /* timestamptz_ops */
    case TL_TYPE_TIMESTAMP:
        return 3128; /* timestamp_ops */
    case TL_TYPE_DATE:
        return 3122; /* date_ops */
    case TL_TYPE_UUID:
        return 10065; /* uuid_ops */
    case TL_TYPE_BYTEA:
        return 10006; /* bytea_ops */
    case TL_TYPE_INTERVAL:
        return 10022; /* interval_ops */
    case TL_TYPE_JSONB:
        return 10088; /* jsonb_ops */
    default:
        return 0;
    }
}

/* pg_index.indclass, indcollation or indoption of @ix as oidvector or
 * int2vector text: per key column its default btree operator class, its
 * collation (100, "default", for the string types) or 0 (ASC NULLS
 * LAST, the only order Talus indexes have). */
static const char *
index_vector(struct tl_arena *a, const struct pgcat_index *ix, char what)
{
    struct tl_buf b;
    tl_buf_init(&b);
    for (uint32_t i = 0; i < ix->n_cols; i++) {
        uint8_t type = ix->t->columns[ix->cols[i]].type;
        uint32_t v = what == 'c'   ? btree_opclass(type)
                     : what == 'l' ? (tl_type_is_text(type) ? 100 : 0)
                                   : 0;
        tl_buf_printf(&b, "%s%u", i ? " " : "", v);
    }
    char *s = tl_arena_strndup(a, (const char *)b.data, b.len);
    tl_buf_close(&b);
    return s;
}

/* Whether @t has any index (pg_class.relhasindex). */
static bool
has_index(const struct tl_table *t)
{
    return pgcat_has_pk(t) || t->n_indexes > 0;
}

/* pg_class row of index @ix, as PostgreSQL 15 shows a fresh one. */
static void
class_index_row(struct rows *r, const struct pgcat_index *ix)
{
    struct tl_value *row = new_row(r);
    set_int(r, row, "oid", ix->oid);
    set_text(r, row, "relname", ix->name);
    set_int(r, row, "relnamespace", PGCAT_NS_PUBLIC);
    set_int(r, row, "relowner", PGCAT_ROLE_BOOTSTRAP);
    set_int(r, row, "relam", PGCAT_AM_BTREE);
    set_int(r, row, "relfilenode", ix->oid);
    set_int(r, row, "relpages", 1);
    row[col(r, "reltuples")] = tl_value_float4(0);
    set_text(r, row, "relpersistence", "p");
    set_text(r, row, "relkind", "i");
    set_int(r, row, "relnatts", ix->n_cols);
    set_bool(r, row, "relispopulated", true);
    set_text(r, row, "relreplident", "n");
}

static void
gen_class(struct pgcat *cat, struct rows *r)
{
    struct pgcat_rel *rels;
    size_t n = pgcat_relations(cat, &rels);
    struct pgcat_index *idx;
    size_t n_idx = pgcat_indexes(cat, &idx), k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct pgcat_rel *rl = &rels[i];
        struct tl_value *row = new_row(r);
        set_int(r, row, "oid", rl->oid);
        set_text(r, row, "relname", rl->t->name);
        set_int(r, row, "relnamespace", rl->nsp);
        set_int(r, row, "reltype", rl->user ? rl->oid + 3 : 0);
        set_int(r, row, "relowner", PGCAT_ROLE_BOOTSTRAP);
        set_int(r, row, "relam", rl->kind == 'r' ? 2 : 0);
        set_int(r, row, "relfilenode", rl->user ? rl->oid : 0);
        row[col(r, "reltuples")] = tl_value_float4(-1);
        set_bool(r, row, "relhasindex", rl->user && has_index(rl->t));
        set_text(r, row, "relpersistence", "p");
        set_text(r, row, "relkind", rl->kind == 'r' ? "r" : "v");
        set_int(r, row, "relnatts", visible_columns(rl->t));
        set_bool(r, row, "relispopulated", true);
        set_text(r, row, "relreplident", rl->kind == 'r' ? "d" : "n");
        /* The index list follows the user tables' order. */
        for (; rl->user && k < n_idx && idx[k].t == rl->t; k++)
            class_index_row(r, &idx[k]);
    }
}

/* A DEFAULT that is not an identity column's (PostgreSQL keeps those
 * apart: attidentity, no pg_attrdef row). */
static bool
has_default(const struct tl_column *c)
{
    return c->default_expr != NULL && c->identity == TL_IDENTITY_NONE;
}

/* The OID of sequence @s (table and sequence ids share one counter). */
static uint32_t
seq_oid(const struct tl_sequence *s)
{
    return PGCAT_USER_OID_BASE + 4u * s->id;
}

static void
gen_class_sequences(struct pgcat *cat, struct rows *r)
{
    for (size_t i = 0; i < cat->n_seqs; i++) {
        struct tl_value *row = new_row(r);
        set_int(r, row, "oid", seq_oid(&cat->seqs[i]));
        set_text(r, row, "relname", cat->seqs[i].name);
        set_int(r, row, "relnamespace", PGCAT_NS_PUBLIC);
        set_int(r, row, "relowner", PGCAT_ROLE_BOOTSTRAP);
        set_int(r, row, "relfilenode", seq_oid(&cat->seqs[i]));
        row[col(r, "reltuples")] = tl_value_float4(1);
        set_text(r, row, "relpersistence", "p");
        set_text(r, row, "relkind", "S");
        set_int(r, row, "relnatts", 3);
        set_bool(r, row, "relispopulated", true);
        set_text(r, row, "relreplident", "n");
    }
}

static void
gen_sequence(struct pgcat *cat, struct rows *r)
{
    for (size_t i = 0; i < cat->n_seqs; i++) {
        const struct tl_sequence *s = &cat->seqs[i];
        struct tl_value *row = new_row(r);
        set_int(r, row, "seqrelid", seq_oid(s));
        set_int(r, row, "seqtypid", tl_type_oid(s->type));
        set_int(r, row, "seqstart", s->start);
        set_int(r, row, "seqincrement", s->increment);
        set_int(r, row, "seqmax", s->max_value);
        set_int(r, row, "seqmin", s->min_value);
        set_int(r, row, "seqcache", s->cache);
        set_bool(r, row, "seqcycle", s->cycle);
    }
}

/* A sequence a serial or identity column owns depends on that column
 * (deptype 'a' for serial, 'i' for identity), as \\d of a sequence shows. */
static void
gen_depend(struct pgcat *cat, struct rows *r)
{
    for (size_t i = 0; i < cat->n_seqs; i++) {
        const struct tl_sequence *s = &cat->seqs[i];
        const struct tl_table *t = NULL;
        for (size_t k = 0; k < cat->n_tables && t == NULL; k++)
            if (cat->tables[k]->id == s->owner_table)
                t = cat->tables[k];
        int c = t != NULL ? tl_table_find_column(t, s->owner_column) : -1;
        if (c < 0)
            continue;
        struct tl_value *row = new_row(r);
        set_int(r, row, "classid", 1259);
        set_int(r, row, "objid", seq_oid(s));
        set_int(r, row, "refclassid", 1259);
        set_int(r, row, "refobjid", pgcat_table_oid(t));
        set_int(r, row, "refobjsubid", pgcat_attnum(t, (uint32_t)c));
        set_text(r, row, "deptype",
                 t->columns[c].identity != TL_IDENTITY_NONE ? "i" : "a");
    }
    struct pgcat_index *idx;
    size_t n = pgcat_indexes(cat, &idx);
    for (size_t i = 0; i < n; i++) {
        const struct pgcat_index *ix = &idx[i];
        uint32_t toid = pgcat_table_oid(ix->t);
        /* A primary key index belongs to its constraint, a plain index to
         * each of its columns (auto: dropping one drops the index). */
        for (uint32_t k = 0; k < (ix->primary ? 1 : ix->n_cols); k++) {
            struct tl_value *row = new_row(r);
            set_int(r, row, "classid", 1259);
            set_int(r, row, "objid", ix->oid);
            set_int(r, row, "refclassid", ix->primary ? 2606 : 1259);
            set_int(r, row, "refobjid", ix->primary ? toid + 2 : toid);
            set_int(r, row, "refobjsubid",
                    ix->primary ? 0 : pgcat_attnum(ix->t, ix->cols[k]));
            set_text(r, row, "deptype", ix->primary ? "i" : "a");
        }
    }
}

static void
attribute_row(struct rows *r, int64_t relid, const struct tl_column *c,
              int attnum, bool has_def)
{
    struct tl_value *row = new_row(r);
    int16_t len = tl_type_len(c->type);
    set_int(r, row, "attrelid", relid);
    set_text(r, row, "attname", c->name);
    set_int(r, row, "atttypid", tl_type_oid(c->type));
    set_int(r, row, "attstattarget", -1);
    set_int(r, row, "attlen", len);
    set_int(r, row, "attnum", attnum);
    set_int(r, row, "attcacheoff", -1);
    set_int(r, row, "atttypmod", pgcat_typmod(c->type, c->typmod));
    set_bool(r, row, "attbyval", len > 0 && len <= 8);
    set_text(r, row, "attalign",
             len == 8                ? "d"
             : len == 2              ? "s"
             : len == 1 || len == 16 ? "c" /* uuid is char-aligned */
                                     : "i");
    set_text(r, row, "attstorage", len > 0 ? "p" : "x");
    set_text(r, row, "attcompression", "");
    set_bool(r, row, "attnotnull", c->not_null);
    set_bool(r, row, "atthasdef", has_def);
    set_text(r, row, "attidentity",
             c->identity == TL_IDENTITY_ALWAYS       ? "a"
             : c->identity == TL_IDENTITY_BY_DEFAULT ? "d"
                                                     : "");
    set_bool(r, row, "attislocal", true);
    set_int(r, row, "attcollation", tl_type_is_text(c->type) ? 100 : 0);
}

/* An index's columns are named after the table columns they hold, with
 * attnums 1..n, never NOT NULL (PostgreSQL's index attributes). */
static void
gen_attribute(struct pgcat *cat, struct rows *r)
{
    struct pgcat_rel *rels;
    size_t n = pgcat_relations(cat, &rels);
    struct pgcat_index *idx;
    size_t n_idx = pgcat_indexes(cat, &idx), j = 0;
    for (size_t i = 0; i < n; i++) {
        const struct tl_table *t = rels[i].t;
        for (uint32_t c = 0; c < t->n_columns; c++)
            if (!t->columns[c].hidden)
                attribute_row(r, rels[i].oid, &t->columns[c],
                              pgcat_attnum(t, c), has_default(&t->columns[c]));
        for (; rels[i].user && j < n_idx && idx[j].t == t; j++) {
            for (uint32_t k = 0; k < idx[j].n_cols; k++) {
                struct tl_column ic = t->columns[idx[j].cols[k]];
                ic.not_null = false;
                ic.identity = TL_IDENTITY_NONE;
                attribute_row(r, idx[j].oid, &ic, (int)k + 1, false);
            }
        }
    }
}

/* The types pg_type lists: Talus' own, then what catalog columns use. */
struct type_row {
    uint32_t oid;
    const char *name;
    int16_t len;
    char category;
};

static const struct type_row extra_types[] = {
    {26, "oid", 4, 'N'},          {19, "name", 64, 'S'},
    {18, "char", 1, 'Z'},         {24, "regproc", 4, 'N'},
    {2205, "regclass", 4, 'N'},   {2206, "regtype", 4, 'N'},
    {22, "int2vector", -1, 'A'},  {30, "oidvector", -1, 'A'},
    {705, "unknown", -2, 'X'},    {194, "pg_node_tree", -1, 'Z'},
    {28, "xid", 4, 'U'},          {1009, "_text", -1, 'A'},
    {1003, "_name", -1, 'A'},     {1028, "_oid", -1, 'A'},
    {1005, "_int2", -1, 'A'},     {1007, "_int4", -1, 'A'},
    {1016, "_int8", -1, 'A'},     {1000, "_bool", -1, 'A'},
    {1002, "_char", -1, 'A'},     {1034, "_aclitem", -1, 'A'},
    {1033, "aclitem", 12, 'U'},   {2249, "record", -1, 'P'},
    {2276, "any", 4, 'P'},        {2278, "void", 4, 'P'},
    {199, "_json", -1, 'A'},      {3807, "_jsonb", -1, 'A'},
    {1187, "_interval", -1, 'A'},
};

static char
type_category(uint8_t t)
{
    if (t == TL_TYPE_BOOL)
        return 'B';
    if (tl_type_is_numeric(t))
        return 'N';
    if (tl_type_is_text(t))
        return 'S';
    if (tl_type_is_datetime(t))
        return 'D';
    if (t == TL_TYPE_INTERVAL)
        return 'T';
    return 'U';
}

const char *
pgcat_type_internal_name(uint8_t t)
{
    switch (t) {
    case TL_TYPE_BOOL:
        return "bool";
    case TL_TYPE_INT2:
        return "int2";
    case TL_TYPE_INT4:
        return "int4";
    case TL_TYPE_INT8:
        return "int8";
    case TL_TYPE_FLOAT8:
        return "float8";
    case TL_TYPE_FLOAT4:
        return "float4";
    case TL_TYPE_TEXT:
        return "text";
    case TL_TYPE_VARCHAR:
        return "varchar";
    case TL_TYPE_BPCHAR:
        return "bpchar";
    case TL_TYPE_TIMESTAMPTZ:
        return "timestamptz";
    case TL_TYPE_TIMESTAMP:
        return "timestamp";
    case TL_TYPE_DATE:
        return "date";
    case TL_TYPE_UUID:
        return "uuid";
    case TL_TYPE_BYTEA:
        return "bytea";
    default:
        return tl_type_name(t);
    }
}

static void
type_row(struct rows *r, uint32_t oid, const char *name, int16_t len,
         char category, bool preferred)
{
    struct tl_value *row = new_row(r);
    char cat[2] = {category, '\0'};
    set_int(r, row, "oid", oid);
    set_text(r, row, "typname", name);
    set_int(r, row, "typnamespace", PGCAT_NS_PG_CATALOG);
    set_int(r, row, "typowner", PGCAT_ROLE_BOOTSTRAP);
    set_int(r, row, "typlen", len);
    set_bool(r, row, "typbyval", len > 0 && len <= 8);
    set_text(r, row, "typtype", category == 'P' ? "p" : "b");
    set_text(r, row, "typcategory", cat);
    set_bool(r, row, "typispreferred", preferred);
    set_bool(r, row, "typisdefined", true);
    set_text(r, row, "typdelim", ",");
    set_text(r, row, "typinput", tl_arena_printf(r->a, "%sin", name));
    set_text(r, row, "typoutput", tl_arena_printf(r->a, "%sout", name));
    set_text(r, row, "typalign",
             len == 8 || category == 'T' ? "d" /* interval holds an int8 */
             : len == 2                  ? "s"
             : len == 1 || len == 16     ? "c" /* uuid is char-aligned */
                                         : "i");
    set_text(r, row, "typstorage", len > 0 ? "p" : "x");
    set_int(r, row, "typtypmod", -1);
    set_int(r, row, "typcollation", category == 'S' ? 100 : 0);
}

static void
gen_type(struct rows *r)
{
    /* The type numbers have gaps (tl_type_is_known). */
    for (uint8_t t = 1; t <= TL_TYPE_MAX; t++)
        if (tl_type_is_known(t))
            type_row(r, tl_type_oid(t), pgcat_type_internal_name(t),
                     tl_type_len(t), type_category(t),
                     t == TL_TYPE_FLOAT8 || t == TL_TYPE_TEXT ||
                         t == TL_TYPE_TIMESTAMPTZ || t == TL_TYPE_BOOL);
    for (size_t i = 0; i < sizeof(extra_types) / sizeof(extra_types[0]); i++)
        type_row(r, extra_types[i].oid, extra_types[i].name, extra_types[i].len,
                 extra_types[i].category, false);
}

static void
gen_namespace(struct pgcat *cat, struct rows *r)
{
    (void)cat;
    static const uint32_t oids[] = {PGCAT_NS_PG_CATALOG, PGCAT_NS_PUBLIC,
                                    PGCAT_NS_INFORMATION_SCHEMA,
                                    PGCAT_NS_TALUS};
    for (size_t i = 0; i < 4; i++) {
        struct tl_value *row = new_row(r);
        set_int(r, row, "oid", oids[i]);
        set_text(r, row, "nspname", pgcat_nsp_name(oids[i]));
        set_int(r, row, "nspowner",
                oids[i] == PGCAT_NS_PUBLIC ? PGCAT_ROLE_DATABASE_OWNER
                                           : PGCAT_ROLE_BOOTSTRAP);
    }
}

/* indisready and indislive always: a building index is maintained by
 * every write (PostgreSQL's state between the phases of CREATE INDEX
 * CONCURRENTLY), only not yet valid. */
static void
gen_index(struct pgcat *cat, struct rows *r)
{
    struct pgcat_index *idx;
    size_t n = pgcat_indexes(cat, &idx);
    for (size_t i = 0; i < n; i++) {
        const struct pgcat_index *ix = &idx[i];
        struct tl_value *row = new_row(r);
        set_int(r, row, "indexrelid", ix->oid);
        set_int(r, row, "indrelid", pgcat_table_oid(ix->t));
        set_int(r, row, "indnatts", ix->n_cols);
        set_int(r, row, "indnkeyatts", ix->n_cols);
        set_bool(r, row, "indisunique", ix->unique);
        set_bool(r, row, "indisprimary", ix->primary);
        set_bool(r, row, "indimmediate", true);
        set_bool(r, row, "indisvalid", ix->valid);
        set_bool(r, row, "indisready", true);
        set_bool(r, row, "indislive", true);
        set_text(r, row, "indkey", index_key_array(r->a, ix, true));
        set_text(r, row, "indcollation", index_vector(r->a, ix, 'l'));
        set_text(r, row, "indclass", index_vector(r->a, ix, 'c'));
        set_text(r, row, "indoption", index_vector(r->a, ix, 'o'));
    }
}

static void
gen_constraint(struct pgcat *cat, struct rows *r)
{
    for (size_t i = 0; i < cat->n_tables; i++) {
        const struct tl_table *t = cat->tables[i];
        if (!pgcat_has_pk(t))
            continue;
        uint32_t oid = pgcat_table_oid(t);
        struct tl_value *row = new_row(r);
        set_int(r, row, "oid", oid + 2);
        set_text(r, row, "conname", tl_arena_printf(r->a, "%s_pkey", t->name));
        set_int(r, row, "connamespace", PGCAT_NS_PUBLIC);
        set_text(r, row, "contype", "p");
        set_bool(r, row, "convalidated", true);
        set_int(r, row, "conrelid", oid);
        set_int(r, row, "conindid", oid + 1);
        set_text(r, row, "confupdtype", " ");
        set_text(r, row, "confdeltype", " ");
        set_text(r, row, "confmatchtype", " ");
        set_bool(r, row, "conislocal", true);
        set_bool(r, row, "connoinherit", true);
        struct pgcat_index pk = {.t = t, .n_cols = t->n_pk, .cols = t->pk};
        set_text(r, row, "conkey", index_key_array(r->a, &pk, false));
    }
}

/* A DEFAULT as PostgreSQL's pg_get_expr() shows it: a quoted literal
 * carries its column's type ('x'::text), as the stored expression of a
 * typed constant deparses. */
const char *
pgcat_default_display(struct tl_arena *a, const struct tl_column *c)
{
    const char *d = c->default_expr;
    size_t len = strlen(d);
    /* E'...' (the deparser's form when backslashes are present) shows
     * as the standard string of the same value. */
    if (len >= 3 && d[0] == 'E' && d[1] == '\'' && d[len - 1] == '\'') {
        char *std = tl_arena_alloc(a, len + 1);
        size_t o = 0;
        std[o++] = '\'';
        for (size_t i = 2; i + 1 < len; i++) {
            if (d[i] == '\\' && i + 2 < len &&
                (d[i + 1] == '\\' || d[i + 1] == '\'')) {
                i++;
                if (d[i] == '\'')
                    std[o++] = '\'';
            }
            std[o++] = d[i];
        }
        std[o++] = '\'';
        std[o] = '\0';
        d = std;
        len = o;
    }
    bool literal = len >= 2 && d[0] == '\'' && d[len - 1] == '\'';
    for (size_t i = 1; literal && i + 1 < len; i++)
        if (d[i] == '\'' && d[i + 1] != '\'')
            literal = false; /* two literals, not one */
        else if (d[i] == '\'')
            i++;
    if (!literal || tl_type_is_numeric(c->type) || c->type == TL_TYPE_BOOL)
        return d;
    if (c->type == TL_TYPE_JSONB) {
        /* The stored constant is the normalised jsonb. */
        char *raw = tl_arena_alloc(a, len);
        size_t n = 0;
        for (size_t i = 1; i + 1 < len; i++) {
            raw[n++] = d[i];
            if (d[i] == '\'')
                i++;
        }
        struct tl_value v;
        if (tl_json_in(TL_TYPE_JSONB, raw, n, a, &v, NULL) == 0) {
            char *q = tl_arena_alloc(a, 2 * (size_t)v.u.s.len + 3);
            size_t o = 0;
            q[o++] = '\'';
            for (uint32_t i = 0; i < v.u.s.len; i++) {
                if (v.u.s.p[i] == '\'')
                    q[o++] = '\'';
                q[o++] = v.u.s.p[i];
            }
            q[o++] = '\'';
            q[o] = '\0';
            d = q;
        }
    }
    const char *type = c->type == TL_TYPE_VARCHAR  ? "character varying"
                       : c->type == TL_TYPE_BPCHAR ? "bpchar"
                                                   : tl_type_name(c->type);
    return tl_arena_printf(a, "%s::%s", d, type);
}

/* One row per column DEFAULT: OID 2^30 + 2048 x table id + attnum. */
static void
gen_attrdef(struct pgcat *cat, struct rows *r)
{
    for (size_t i = 0; i < cat->n_tables; i++) {
        const struct tl_table *t = cat->tables[i];
        for (uint32_t c = 0; c < t->n_columns; c++) {
            if (t->columns[c].hidden || !has_default(&t->columns[c]))
                continue;
            int attnum = pgcat_attnum(t, c);
            struct tl_value *row = new_row(r);
            set_int(r, row, "oid",
                    ((int64_t)1 << 30) + 2048 * (int64_t)t->id + attnum);
            set_int(r, row, "adrelid", pgcat_table_oid(t));
            set_int(r, row, "adnum", attnum);
            set_text(r, row, "adbin",
                     pgcat_default_display(r->a, &t->columns[c]));
        }
    }
}

static void
gen_database(struct pgcat *cat, struct rows *r)
{
    struct tl_value *row = new_row(r);
    set_int(r, row, "oid", PGCAT_DATABASE_OID);
    set_text(r, row, "datname", cat->database);
    set_int(r, row, "datdba", PGCAT_ROLE_BOOTSTRAP);
    set_int(r, row, "encoding", 6);
    set_text(r, row, "datlocprovider", "c");
    set_bool(r, row, "datallowconn", true);
    set_int(r, row, "datconnlimit", -1);
    set_int(r, row, "dattablespace", 1663);
    set_text(r, row, "datcollate", "C.UTF-8");
    set_text(r, row, "datctype", "C.UTF-8");
}

/* The roles to show: every role of the catalog (read now), plus the
 * session's own user when it is not one (trust without roles: the
 * development mode), as the bootstrap superuser. Cannot fail: an
 * unreachable meta group shows the session's user only. */
static void
list_roles(struct pgcat *cat, struct tl_role **out, size_t *n)
{
    struct tl_error scratch;
    tl_error_clear(&scratch);
    struct tl_role *v = NULL;
    size_t k = 0;
    if (cat->st->r == NULL || cat->st->r->roles == NULL ||
        roles_list(cat->st->r, cat->st->a, &v, &k, &scratch) != 0) {
        v = NULL;
        k = 0;
    }
    bool have_user = false;
    for (size_t i = 0; i < k; i++)
        have_user |= strcmp(v[i].name, cat->user) == 0;
    struct tl_role *all = tl_arena_calloc(cat->st->a, (k + 1) * sizeof(*all));
    if (k > 0)
        memcpy(all, v, k * sizeof(*all));
    if (!have_user) {
        struct tl_role *b = &all[k++];
        snprintf(b->name, sizeof(b->name), "%s", cat->user);
        b->oid = PGCAT_ROLE_BOOTSTRAP;
        b->superuser = true;
        b->login = true;
        b->conn_limit = -1;
    }
    *out = all;
    *n = k;
}

static void
gen_roles(struct pgcat *cat, struct rows *r)
{
    struct tl_role *v;
    size_t n;
    list_roles(cat, &v, &n);
    for (size_t i = 0; i < n; i++) {
        struct tl_value *row = new_row(r);
        bool boot = v[i].oid == PGCAT_ROLE_BOOTSTRAP;
        set_text(r, row, "rolname", v[i].name);
        set_bool(r, row, "rolsuper", v[i].superuser);
        set_bool(r, row, "rolinherit", true);
        set_bool(r, row, "rolcreaterole", v[i].superuser);
        set_bool(r, row, "rolcreatedb", v[i].superuser);
        set_bool(r, row, "rolcanlogin", v[i].login);
        set_bool(r, row, "rolreplication", boot);
        set_bool(r, row, "rolbypassrls", v[i].superuser);
        set_int(r, row, "rolconnlimit", v[i].conn_limit);
        /* As PostgreSQL's pg_roles: the password is never shown. */
        set_text(r, row, "rolpassword", "********");
        set_int(r, row, "oid", v[i].oid);
    }
}

static void
gen_user(struct pgcat *cat, struct rows *r)
{
    struct tl_role *v;
    size_t n;
    list_roles(cat, &v, &n);
    for (size_t i = 0; i < n; i++) {
        if (!v[i].login)
            continue;
        struct tl_value *row = new_row(r);
        set_text(r, row, "usename", v[i].name);
        set_int(r, row, "usesysid", v[i].oid);
        set_bool(r, row, "usecreatedb", v[i].superuser);
        set_bool(r, row, "usesuper", v[i].superuser);
        set_bool(r, row, "userepl", v[i].oid == PGCAT_ROLE_BOOTSTRAP);
        set_bool(r, row, "usebypassrls", v[i].superuser);
        set_text(r, row, "passwd", "********");
    }
}

static void
gen_settings(struct pgcat *cat, struct rows *r)
{
    struct sql_stmt *st = cat->st;
    const struct sql_guc *g;
    for (size_t i = 0; (g = sql_guc_at(i)) != NULL; i++) {
        struct tl_value *row = new_row(r);
        bool own = sql_guc_setting(st->s, g->name) != NULL;
        set_text(r, row, "name", g->name);
        set_text(r, row, "setting", sql_guc_value(st, g->name));
        set_text(r, row, "short_desc", g->description);
        set_text(r, row, "context", sql_guc_readonly(g) ? "internal" : "user");
        set_text(r, row, "vartype", "string");
        set_text(r, row, "source", own ? "session" : "default");
        set_text(r, row, "boot_val", g->value);
        set_text(r, row, "reset_val", g->value);
    }
}

static void
gen_am(struct rows *r)
{
    static const struct {
        uint32_t oid;
        const char *name, *handler, *type;
    } ams[] = {{2, "heap", "heap_tableam_handler", "t"},
               {403, "btree", "bthandler", "i"},
               {405, "hash", "hashhandler", "i"}};
    for (size_t i = 0; i < 3; i++) {
        struct tl_value *row = new_row(r);
        set_int(r, row, "oid", ams[i].oid);
        set_text(r, row, "amname", ams[i].name);
        set_text(r, row, "amhandler", ams[i].handler);
        set_text(r, row, "amtype", ams[i].type);
    }
}

static void
gen_tables(struct pgcat *cat, struct rows *r)
{
    struct pgcat_rel *rels;
    size_t n = pgcat_relations(cat, &rels);
    for (size_t i = 0; i < n; i++) {
        if (rels[i].kind != 'r')
            continue;
        struct tl_value *row = new_row(r);
        set_text(r, row, "schemaname", rels[i].schema);
        set_text(r, row, "tablename", rels[i].t->name);
        set_text(r, row, "tableowner", cat->user);
        set_null(r, row, "tablespace");
        set_bool(r, row, "hasindexes", rels[i].user && has_index(rels[i].t));
    }
}

static void
gen_indexes(struct pgcat *cat, struct rows *r)
{
    struct pgcat_index *idx;
    size_t n = pgcat_indexes(cat, &idx);
    for (size_t i = 0; i < n; i++) {
        struct tl_value *row = new_row(r);
        set_text(r, row, "schemaname", "public");
        set_text(r, row, "tablename", idx[i].t->name);
        set_text(r, row, "indexname", idx[i].name);
        set_null(r, row, "tablespace");
        set_text(r, row, "indexdef", pgcat_index_def(r->a, &idx[i], false));
    }
}

static void
gen_collation(struct rows *r)
{
    static const struct {
        uint32_t oid;
        const char *name, *provider;
    } colls[] = {{100, "default", "d"}, {950, "C", "c"}, {951, "POSIX", "c"}};
    for (size_t i = 0; i < 3; i++) {
        struct tl_value *row = new_row(r);
        set_int(r, row, "oid", colls[i].oid);
        set_text(r, row, "collname", colls[i].name);
        set_int(r, row, "collnamespace", PGCAT_NS_PG_CATALOG);
        set_int(r, row, "collowner", PGCAT_ROLE_BOOTSTRAP);
        set_text(r, row, "collprovider", colls[i].provider);
        set_bool(r, row, "collisdeterministic", true);
        set_int(r, row, "collencoding", i == 0 ? -1 : -1);
        if (i > 0) {
            set_text(r, row, "collcollate", colls[i].name);
            set_text(r, row, "collctype", colls[i].name);
        }
    }
}

static void
gen_tablespace(struct rows *r)
{
    static const struct {
        uint32_t oid;
        const char *name;
    } sp[] = {{1663, "pg_default"}, {1664, "pg_global"}};
    for (size_t i = 0; i < 2; i++) {
        struct tl_value *row = new_row(r);
        set_int(r, row, "oid", sp[i].oid);
        set_text(r, row, "spcname", sp[i].name);
        set_int(r, row, "spcowner", PGCAT_ROLE_BOOTSTRAP);
    }
}

static void
gen_language(struct rows *r)
{
    static const char *const names[] = {"internal", "c", "sql"};
    static const uint32_t oids[] = {12, 13, 14};
    for (size_t i = 0; i < 3; i++) {
        struct tl_value *row = new_row(r);
        set_int(r, row, "oid", oids[i]);
        set_text(r, row, "lanname", names[i]);
        set_int(r, row, "lanowner", PGCAT_ROLE_BOOTSTRAP);
        set_bool(r, row, "lanpltrusted", i == 2);
    }
}

static void
gen_stat_activity(struct pgcat *cat, struct rows *r)
{
    struct sql_session *s = cat->st->s;
    struct tl_value *row = new_row(r);
    set_int(r, row, "datid", PGCAT_DATABASE_OID);
    set_text(r, row, "datname", cat->database);
    set_int(r, row, "pid", s->backend_pid);
    set_int(r, row, "usesysid", PGCAT_ROLE_BOOTSTRAP);
    set_text(r, row, "usename", cat->user);
    set_text(r, row, "application_name", s->application_name);
    set_text(r, row, "state", "active");
    set_text(r, row, "query", cat->st->query);
}

/* pg_prepared_statements (@talus false) or talus.prepared_statements:
 * the session's named prepared statements and how their runs were
 * planned. */
static void
gen_prepared(struct pgcat *cat, struct rows *r, bool talus)
{
    struct sql_session *s = cat->st->s;
    struct sql_prepared_info *ps = NULL;
    size_t n = s != NULL && s->prepared_list != NULL
                   ? s->prepared_list(s->prepared_arg, r->a, &ps)
                   : 0;
    for (size_t i = 0; i < n; i++) {
        struct tl_value *row = new_row(r);
        set_text(r, row, "name", ps[i].name);
        set_text(r, row, "statement", ps[i].statement);
        if (talus) {
            set_int(r, row, "plans", ps[i].plans_built);
            set_int(r, row, "generic_runs", ps[i].generic_plans);
            set_int(r, row, "custom_runs", ps[i].custom_plans);
            if (ps[i].plan_version != 0)
                set_int(r, row, "plan_catalog_version",
                        (int64_t)ps[i].plan_version);
            else
                set_null(r, row, "plan_catalog_version");
            continue;
        }
        row[col(r, "prepare_time")] =
            tl_value_int(TL_TYPE_TIMESTAMPTZ, ps[i].prepare_time_us);
        struct tl_buf b;
        tl_buf_init(&b);
        tl_buf_append_u8(&b, '{');
        for (size_t k = 0; k < ps[i].n_params; k++) {
            const char *name =
                bind_type_display(cat->st, ps[i].param_types[k], -1);
            pgcat_array_append(&b, name, strlen(name), k == 0);
        }
        tl_buf_append_u8(&b, '}');
        tl_buf_append_u8(&b, 0);
        set_text(r, row, "parameter_types", (const char *)b.data);
        tl_buf_close(&b);
        set_bool(r, row, "from_sql", ps[i].from_sql);
        set_int(r, row, "generic_plans", ps[i].generic_plans);
        set_int(r, row, "custom_plans", ps[i].custom_plans);
    }
}

static void
gen_is_schemata(struct pgcat *cat, struct rows *r)
{
    static const uint32_t oids[] = {PGCAT_NS_PG_CATALOG, PGCAT_NS_PUBLIC,
                                    PGCAT_NS_INFORMATION_SCHEMA,
                                    PGCAT_NS_TALUS};
    for (size_t i = 0; i < 4; i++) {
        struct tl_value *row = new_row(r);
        set_text(r, row, "catalog_name", cat->database);
        set_text(r, row, "schema_name", pgcat_nsp_name(oids[i]));
        set_text(r, row, "schema_owner",
                 oids[i] == PGCAT_NS_PUBLIC ? "pg_database_owner" : cat->user);
    }
}

static void
gen_is_tables(struct pgcat *cat, struct rows *r)
{
    struct pgcat_rel *rels;
    size_t n = pgcat_relations(cat, &rels);
    for (size_t i = 0; i < n; i++) {
        struct tl_value *row = new_row(r);
        set_text(r, row, "table_catalog", cat->database);
        set_text(r, row, "table_schema", rels[i].schema);
        set_text(r, row, "table_name", rels[i].t->name);
        set_text(r, row, "table_type",
                 rels[i].kind == 'r' ? "BASE TABLE" : "VIEW");
        set_text(r, row, "is_insertable_into", rels[i].user ? "YES" : "NO");
        set_text(r, row, "is_typed", "NO");
    }
}

/* information_schema's data_type: the SQL standard's spelling. */
static const char *
is_data_type(uint8_t t)
{
    switch (t) {
    case TL_TYPE_VARCHAR:
        return "character varying";
    case TL_TYPE_BPCHAR:
        return "character";
    default:
        return tl_type_name(t);
    }
}

static void
gen_is_columns(struct pgcat *cat, struct rows *r)
{
    struct pgcat_rel *rels;
    size_t n = pgcat_relations(cat, &rels);
    for (size_t i = 0; i < n; i++) {
        const struct tl_table *t = rels[i].t;
        for (uint32_t c = 0; c < t->n_columns; c++) {
            const struct tl_column *col = &t->columns[c];
            if (col->hidden)
                continue;
            struct tl_value *row = new_row(r);
            set_text(r, row, "table_catalog", cat->database);
            set_text(r, row, "table_schema", rels[i].schema);
            set_text(r, row, "table_name", t->name);
            set_text(r, row, "column_name", col->name);
            set_int(r, row, "ordinal_position", pgcat_attnum(t, c));
            set_text(r, row, "is_nullable", col->not_null ? "NO" : "YES");
            set_text(r, row, "data_type", is_data_type(col->type));
            if ((col->type == TL_TYPE_VARCHAR || col->type == TL_TYPE_BPCHAR) &&
                col->typmod >= 0) {
                set_int(r, row, "character_maximum_length", col->typmod);
                set_int(r, row, "character_octet_length", 4 * col->typmod);
            } else if (tl_type_is_text(col->type)) {
                set_null(r, row, "character_maximum_length");
                set_int(r, row, "character_octet_length", 1073741824);
            } else {
                set_null(r, row, "character_maximum_length");
                set_null(r, row, "character_octet_length");
            }
            if (tl_type_is_int(col->type)) {
                int16_t len = tl_type_len(col->type);
                set_int(r, row, "numeric_precision",
                        len == 2   ? 16
                        : len == 4 ? 32
                                   : 64);
                set_int(r, row, "numeric_precision_radix", 2);
                set_int(r, row, "numeric_scale", 0);
            } else if (col->type == TL_TYPE_NUMERIC) {
                /* decimal digits, NULL when unconstrained; the scale as
                 * _pg_numeric_scale computes it, (typmod - 4) & 65535, so
                 * a negative scale reads 2047 and up, as in PostgreSQL */
                int32_t prec = 0, scale = 0;
                if (col->typmod >= 0)
                    tl_numeric_typmod_split(col->typmod, &prec, &scale);
                if (col->typmod >= 0)
                    set_int(r, row, "numeric_precision", prec);
                else
                    set_null(r, row, "numeric_precision");
                set_int(r, row, "numeric_precision_radix", 10);
                if (col->typmod >= 0)
                    set_int(r, row, "numeric_scale", (col->typmod - 4) & 65535);
                else
                    set_null(r, row, "numeric_scale");
            } else if (tl_type_is_float(col->type)) {
                set_int(r, row, "numeric_precision",
                        col->type == TL_TYPE_FLOAT4 ? 24 : 53);
                set_int(r, row, "numeric_precision_radix", 2);
                set_null(r, row, "numeric_scale");
            } else {
                set_null(r, row, "numeric_precision");
                set_null(r, row, "numeric_precision_radix");
                set_null(r, row, "numeric_scale");
            }
            if (tl_type_is_datetime(col->type))
                set_int(r, row, "datetime_precision",
                        col->type == TL_TYPE_DATE ? 0 : 6);
            else
                set_null(r, row, "datetime_precision");
            set_text(r, row, "udt_catalog", cat->database);
            set_text(r, row, "udt_schema", "pg_catalog");
            set_text(r, row, "udt_name", pgcat_type_internal_name(col->type));
            set_text(r, row, "column_default",
                     has_default(col) ? pgcat_default_display(r->a, col)
                                      : NULL);
            set_text(r, row, "is_identity",
                     col->identity != TL_IDENTITY_NONE ? "YES" : "NO");
            set_text(r, row, "is_generated", "NEVER");
            set_text(r, row, "is_updatable", rels[i].user ? "YES" : "NO");
        }
    }
}

static void
gen_is_constraints(struct pgcat *cat, struct rows *r, bool columns)
{
    for (size_t i = 0; i < cat->n_tables; i++) {
        const struct tl_table *t = cat->tables[i];
        if (!pgcat_has_pk(t))
            continue;
        const char *name = tl_arena_printf(r->a, "%s_pkey", t->name);
        for (uint32_t k = 0; k < (columns ? t->n_pk : 1); k++) {
            struct tl_value *row = new_row(r);
            set_text(r, row, "constraint_catalog", cat->database);
            set_text(r, row, "constraint_schema", "public");
            set_text(r, row, "constraint_name", name);
            set_text(r, row, "table_catalog", cat->database);
            set_text(r, row, "table_schema", "public");
            set_text(r, row, "table_name", t->name);
            if (columns) {
                set_text(r, row, "column_name", t->columns[t->pk[k]].name);
                set_int(r, row, "ordinal_position", k + 1);
                set_null(r, row, "position_in_unique_constraint");
            } else {
                set_text(r, row, "constraint_type", "PRIMARY KEY");
                set_text(r, row, "is_deferrable", "NO");
                set_text(r, row, "initially_deferred", "NO");
                set_text(r, row, "enforced", "YES");
                set_null(r, row, "nulls_distinct");
            }
        }
    }
}

static void
gen_talus_tables(struct pgcat *cat, struct rows *r)
{
    static const char *const vindexes[] = {
        [TL_VINDEX_NONE] = NULL,
        [TL_VINDEX_HASH] = "hash",
        [TL_VINDEX_CONSISTENT_HASH] = "consistent_hash",
        [TL_VINDEX_RANGE] = "range",
    };
    for (size_t i = 0; i < cat->n_tables; i++) {
        const struct tl_table *t = cat->tables[i];
        struct tl_value *row = new_row(r);
        bool ref = t->distribution == TL_DIST_REFERENCE;
        set_text(r, row, "table_name", t->name);
        set_text(r, row, "distribution",
                 ref                ? "reference"
                 : t->shard_key < 0 ? "unsharded"
                                    : "sharded");
        set_text(r, row, "vindex",
                 !ref && t->shard_key >= 0 &&
                         t->vindex < sizeof(vindexes) / sizeof(vindexes[0])
                     ? vindexes[t->vindex]
                     : NULL);
        set_text(r, row, "shard_key",
                 !ref && t->shard_key >= 0 ? t->columns[t->shard_key].name
                                           : NULL);
        if (pgcat_has_pk(t)) {
            struct tl_buf b;
            tl_buf_init(&b);
            for (uint32_t k = 0; k < t->n_pk; k++)
                tl_buf_printf(&b, "%s%s", k ? ", " : "",
                              t->columns[t->pk[k]].name);
            set_text(r, row, "primary_key",
                     tl_arena_strndup(r->a, (const char *)b.data, b.len));
            tl_buf_close(&b);
        } else {
            set_null(r, row, "primary_key");
        }
        set_int(r, row, "table_id", t->id);
        set_int(r, row, "schema_version", t->schema_version);
    }
}

/* Each shard and the node this router believes leads it (the last one
 * seen leading, else its preferred leader), as the router's cluster
 * client knows them. */
static void
gen_talus_shards(struct pgcat *cat, struct rows *r)
{
    struct router *rt = cat->st->r;
    if (rt == NULL)
        return;
    for (uint32_t sh = 0; sh < rt->cfg.n_shards; sh++) {
        struct tl_value *row = new_row(r);
        uint32_t leader = tl_client_leader(&rt->client, sh);
        set_int(r, row, "shard", sh);
        set_int(r, row, "leader", leader);
        set_text(r, row, "leader_address",
                 leader >= 1 && leader <= rt->cfg.n_nodes
                     ? rt->cfg.nodes[leader - 1].rpc_addr
                     : NULL);
        set_int(r, row, "replicas", rt->cfg.n_replicas);
    }
}

static void
gen_talus_nodes(struct pgcat *cat, struct rows *r)
{
    struct router *rt = cat->st->r;
    if (rt == NULL)
        return;
    int64_t now = tl_client_now_ms();
    for (uint32_t i = 0; i < rt->cfg.n_nodes; i++) {
        const struct tl_node_config *n = &rt->cfg.nodes[i];
        struct tl_value *row = new_row(r);
        set_int(r, row, "node_id", n->id);
        set_text(r, row, "rpc_address", n->rpc_addr[0] ? n->rpc_addr : NULL);
        set_text(r, row, "raft_address", n->raft_addr[0] ? n->raft_addr : NULL);
        set_bool(r, row, "reachable",
                 !tl_client_node_down(&rt->client, n->id, now));
    }
}

void
pgcat_rows(struct pgcat *cat, int vt, struct tl_arena *a,
           struct tl_value ***rows, size_t *n)
{
    init_descs();
    struct rows r = {.vt = vt, .a = a};
    switch (vt) {
    case VT_CLASS:
        gen_class(cat, &r);
        gen_class_sequences(cat, &r);
        break;
    case VT_SEQUENCE:
        gen_sequence(cat, &r);
        break;
    case VT_DEPEND:
        gen_depend(cat, &r);
        break;
    case VT_NAMESPACE:
        gen_namespace(cat, &r);
        break;
    case VT_ATTRIBUTE:
        gen_attribute(cat, &r);
        break;
    case VT_TYPE:
        gen_type(&r);
        break;
    case VT_INDEX:
        gen_index(cat, &r);
        break;
    case VT_CONSTRAINT:
        gen_constraint(cat, &r);
        break;
    case VT_ATTRDEF:
        gen_attrdef(cat, &r);
        break;
    case VT_DATABASE:
        gen_database(cat, &r);
        break;
    case VT_ROLES:
        gen_roles(cat, &r);
        break;
    case VT_USER:
        gen_user(cat, &r);
        break;
    case VT_SETTINGS:
        gen_settings(cat, &r);
        break;
    case VT_AM:
        gen_am(&r);
        break;
    case VT_TABLES:
        gen_tables(cat, &r);
        break;
    case VT_INDEXES:
        gen_indexes(cat, &r);
        break;
    case VT_COLLATION:
        gen_collation(&r);
        break;
    case VT_TABLESPACE:
        gen_tablespace(&r);
        break;
    case VT_LANGUAGE:
        gen_language(&r);
        break;
    case VT_STAT_ACTIVITY:
        gen_stat_activity(cat, &r);
        break;
    case VT_IS_SCHEMATA:
        gen_is_schemata(cat, &r);
        break;
    case VT_IS_TABLES:
        gen_is_tables(cat, &r);
        break;
    case VT_IS_COLUMNS:
        gen_is_columns(cat, &r);
        break;
    case VT_IS_TABLE_CONSTRAINTS:
        gen_is_constraints(cat, &r, false);
        break;
    case VT_IS_KEY_COLUMN_USAGE:
        gen_is_constraints(cat, &r, true);
        break;
    case VT_TALUS_TABLES:
        gen_talus_tables(cat, &r);
        break;
    case VT_TALUS_SHARDS:
        gen_talus_shards(cat, &r);
        break;
    case VT_TALUS_NODES:
        gen_talus_nodes(cat, &r);
        break;
    case VT_PREPARED_STATEMENTS:
        gen_prepared(cat, &r, false);
        break;
    case VT_TALUS_PREPARED_STATEMENTS:
        gen_prepared(cat, &r, true);
        break;
    default:
        /* The rest are empty in Talus: no user functions, descriptions,
         * inheritance, policies, statistics objects, publications,
         * extensions, triggers, rules or foreign tables. */
        break;
    }
    *rows = r.v;
    *n = r.n;
}

void
pgcat_array_append_value(struct tl_buf *b, const struct tl_value *v,
                         struct tl_buf *scratch, bool first)
{
    tl_buf_reset(scratch);
    if (!v->is_null)
        tl_value_to_text(v, scratch);
    pgcat_array_append(b, v->is_null ? NULL : (const char *)scratch->data,
                       scratch->len, first);
}
