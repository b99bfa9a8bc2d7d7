/* pgcat — pg_catalog, information_schema and the talus schema as virtual
 * tables, generated from a snapshot of the router's catalog, and the
 * catalog functions tools call over them (format_type, pg_get_userbyid,
 * pg_get_indexdef, ...).
 *
 * OIDs follow PostgreSQL where tools know them (namespaces pg_catalog 11
 * and public 2200, type OIDs, access methods heap 2 and btree 403, the
 * bootstrap role 10). User objects:
 *   a table or sequence with id N (one counter)  16384 + 4N
 *   table N's primary key index                  16384 + 4N + 1
 *   its PRIMARY KEY constraint                   16384 + 4N + 2
 *   its row type (pg_class.reltype)              16384 + 4N + 3
 *   table N's secondary index with id I (2, ...) 2^31 + 4096N + I
 * Secondary indexes take their own range so that index ids, which grow
 * with every CREATE INDEX of a table, never reach another table's OIDs:
 * tables and sequences stay below 2^31 while N < 2^29 - 4096, and index
 * OIDs fit in 32 bits while N < 2^19 and are distinct while I < 4096
 * (past that they are still computed in 64 bits, as the catalog columns
 * are: never a table's OID, but index 4096 + i of table N would share
 * index i of table N + 1's).
 * Columns of PostgreSQL's types oid, xid, regproc are bigint here, name
 * and "char" are text, and arrays (int2vector, oidvector, aclitem[],
 * text[], ...) are text in PostgreSQL's array output form ("{a,b}"): the
 * array functions and ANY read that form.
 *
 * A snapshot is taken once per statement (pgcat_open()) and lives in the
 * statement arena; nothing here does I/O after that. */
#ifndef TL_PGCAT_H
#define TL_PGCAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "table.h"
#include "tl_error.h"
#include "value.h"

struct sql_stmt;
struct pgcat_rel;
struct pgcat_index;

/* The virtual tables there are (pgcat_find() numbers them below it). */
#define PGCAT_MAX_TABLES 64

#define PGCAT_NS_PG_CATALOG 11
#define PGCAT_NS_PUBLIC 2200
#define PGCAT_NS_INFORMATION_SCHEMA 13000
#define PGCAT_NS_TALUS 13100
#define PGCAT_ROLE_BOOTSTRAP 10
#define PGCAT_ROLE_DATABASE_OWNER 6171
#define PGCAT_DATABASE_OID 5
#define PGCAT_USER_OID_BASE 16384
#define PGCAT_INDEX_OID_BASE 2147483648LL /* 2^31 */
#define PGCAT_INDEX_OID_STRIDE 4096       /* OIDs per table */
#define PGCAT_AM_BTREE 403

/* The snapshot a statement reads: the user tables and the session's
 * identity. */
struct tl_sequence;

struct pgcat {
    struct tl_table **tables; /* copies in the statement arena */
    size_t n_tables;
    struct tl_sequence *seqs; /* in the statement arena */
    size_t n_seqs;
    struct pgcat_rel *rels; /* every relation (pgcat_relations()) */
    size_t n_rels;
    struct pgcat_index *idxs; /* every index (pgcat_indexes()) */
    size_t n_idxs;
    const char *user;
    const char *database;
    struct sql_stmt *st;
};

/** The virtual table @schema.@name (schema NULL or "": pg_catalog only, as
 * the search path finds it): its number, or -1. Cannot fail. */
int pgcat_find(const char *schema, const char *name);
/** The columns of virtual table @vt (static, never freed). */
const struct tl_table *pgcat_desc(int vt);
/** Whether @schema names a schema only virtual tables live in. */
bool pgcat_is_schema(const char *schema);

/** Take the snapshot for statement @st into *@cat (st->a). Errors as
 * catalog_list(), in st->err. */
int pgcat_open(struct sql_stmt *st, struct pgcat *cat);

/** The rows of virtual table @vt: *@rows holds *@n rows of
 * pgcat_desc(vt)->n_columns values, all in @a. Cannot fail. */
void pgcat_rows(struct pgcat *cat, int vt, struct tl_arena *a,
                struct tl_value ***rows, size_t *n);

/** Whether @name (unqualified) is a function only a router-side query
 * can call. Cannot fail. */
bool pgcat_is_function(const char *name);

/** The OID of relation @t (a user table). */
uint32_t pgcat_table_oid(const struct tl_table *t);

/* A relation pg_class shows: a user table or a virtual one. */
struct pgcat_rel {
    const struct tl_table *t;
    uint32_t oid;
    uint32_t nsp;
    const char *schema;
    char kind; /* 'r' table, 'v' view */
    bool user;
};

/** Every relation of @cat (user tables first) into *@out (borrowed from
 * @cat, built once per statement in its arena); returns how many. Cannot
 * fail. */
size_t pgcat_relations(struct pgcat *cat, struct pgcat_rel **out);
/* An index pg_class shows: a table's declared primary key (ix NULL) or
 * one of its secondary indexes (CREATE INDEX). Everything is borrowed
 * from the snapshot (struct pgcat) or its arena. */
struct pgcat_index {
    const struct tl_table *t;
    const struct tl_index *ix; /* NULL: the primary key */
    int64_t oid;               /* pgcat_index_oid() */
    const char *name;          /* "<table>_pkey" or the index's name */
    bool unique;
    bool primary;
    bool valid;           /* pg_index.indisvalid: usable by reads */
    uint32_t n_cols;      /* key columns */
    const uint32_t *cols; /* column indexes of t, in key order */
};

/** The OID of @t's index @ix (NULL: its primary key index), as the
 * header comment lays OIDs out. Cannot fail. */
int64_t pgcat_index_oid(const struct tl_table *t, const struct tl_index *ix);
/** Every index of the user tables of @cat into *@out (borrowed from @cat,
 * built once per statement in its arena): per table, in the order of
 * cat->tables, its primary key (when declared) then its secondary indexes
 * in creation order. Returns how many. Cannot fail. */
size_t pgcat_indexes(struct pgcat *cat, struct pgcat_index **out);
/** The index whose OID is @oid, or NULL. Borrowed from @cat. */
const struct pgcat_index *pgcat_index_by_oid(struct pgcat *cat, int64_t oid);

/** The name of namespace @nsp ("public" for any unknown one). */
const char *pgcat_nsp_name(uint32_t nsp);
/** The namespace OID of @schema (public for any unknown one). */
uint32_t pgcat_nsp_of(const char *schema);
/** pg_type.typname of @t ("int4", "varchar", ...). */
const char *pgcat_type_internal_name(uint8_t t);
/** PostgreSQL's atttypmod for a column (n + 4 for varchar(n), char(n)). */
int32_t pgcat_typmod(uint8_t type, int32_t typmod);
/** Whether @t has a primary key the user declared. */
bool pgcat_has_pk(const struct tl_table *t);
/** attnum of column @c of @t (1-based over the columns SQL shows). */
int pgcat_attnum(const struct tl_table *t, uint32_t c);
/** Column @c's DEFAULT as pg_get_expr() shows it ('x'::text), in @a. */
const char *pgcat_default_display(struct tl_arena *a,
                                  const struct tl_column *c);
/** pg_get_indexdef() of @ix in @a: "CREATE UNIQUE INDEX t_pkey ON
 * public.t USING btree (id)", "CREATE INDEX t_a_b_idx ON public.t USING
 * btree (a, b)"; names quoted as pgcat_quote_ident() does. @pretty leaves
 * the table unqualified (it is always visible). Cannot fail. */
const char *pgcat_index_def(struct tl_arena *a, const struct pgcat_index *ix,
                            bool pretty);
/** @name as an SQL identifier in @a: as it is when it is made of lower
 * case letters, digits and underscores and does not start with a digit,
 * else double-quoted with inner quotes doubled (PostgreSQL's
 * quote_identifier, which also quotes reserved keywords: those are left
 * bare here). Cannot fail. */
const char *pgcat_quote_ident(struct tl_arena *a, const char *name);

/* Arrays in their text form. */

/** Split the array text @s (@len bytes, "{a,"b c",NULL}", or a vector's
 * "1 2 3") into elements
 * in @a: *@elems[i] / *@lens[i], NULL for a NULL element. 22P02
 * "malformed array literal" otherwise. */
int pgcat_array_parse(const char *s, size_t len, struct tl_arena *a,
                      const char ***elems, size_t **lens, size_t *n,
                      struct tl_error *err);
/** Append element @s (@len bytes, NULL for NULL) to array text @b as
 * PostgreSQL's array_out quotes it. Cannot fail. */
void pgcat_array_append(struct tl_buf *b, const char *s, size_t len,
                        bool first);
/** Append value @v (NULL or not) as an element, through its text output
 * (@scratch is a buffer to write it in). Cannot fail. */
void pgcat_array_append_value(struct tl_buf *b, const struct tl_value *v,
                              struct tl_buf *scratch, bool first);

#endif
