/* meta_keys — the meta keyspace: every system key the meta group stores,
 * and the rows stored under them. The one place that knows this layout;
 * the router's catalog, the node's registry and map-version tracking, and
 * shardctl call it.
 *
 * Every system key belongs to table id TL_META_TABLE_ID (0) and starts with
 * the 8-byte prefix (table id, index id) of common/keycodec.h, then its key
 * columns, memcomparable. Each value is a row (common/row.h, schema
 * version 1):
 *
 *   index id                  key columns      value row
 *   1  TL_META_INDEX_TABLE    text name        1 column: packed
 *                                              talus.TableDesc (text)
 *   2  TL_META_INDEX_NEXT_ID  -                1 column: next table id
 *                                              (int8; absent:
 *                                              TL_META_FIRST_TABLE_ID)
 *   3  TL_META_INDEX_MAP_VERSION  -            1 column: the catalog's map
 *                                              version (int8)
 *   4  TL_META_INDEX_VSCHEMA  text name        1 column: the table's
 *                                              vschema entry, compact JSON
 *                                              with a "table" field (text)
 *   5  TL_META_INDEX_SEQUENCE text name        1 column: packed
 *                                              talus.SequenceDesc (text)
 *   6  TL_META_INDEX_SEQ_VALUE int8 sequence id  2 columns: last_value
 *                                              (int8), is_called (bool);
 *                                              absent: (start, false)
 *   7  TL_META_INDEX_ROLE     text name        6 columns: name (text),
 *                                              oid (int8),
 *                                              SCRAM-SHA-256 verifier
 *                                              (text, NULL: no password),
 *                                              superuser (bool), can login
 *                                              (bool), connection limit
 *                                              (int8, -1: none)
 *   8  TL_META_INDEX_AUTH_SECRET -             1 column: the cluster's
 *                                              mock authentication secret
 *                                              (text, 64 hex digits)
 *   16 TL_META_INDEX_NODE     int8 node id     2 columns: packed
 *                                              talus.NodeRecord (text),
 *                                              index id 16 (int8)
 *   17 TL_META_INDEX_SHARD    int8 shard id    2 columns: packed
 *                                              talus.ShardRecord, 17;
 *                                              shard TL_META_GROUP is the
 *                                              meta group itself
 *   18 TL_META_INDEX_SETTINGS -                2 columns: packed
 *                                              talus.ClusterSettings, 18
 *   20 TL_META_INDEX_ROUTER   int8 router id   4 columns: router id,
 *                                              incarnation (int8), address
 *                                              (text), lease expiry (int8,
 *                                              wall clock ms);
 *                                              meta_routers.h
 *   21 TL_META_INDEX_GC_SAFE_POINT -           1 column: the GC safe point
 *                                              (int8, an oracle timestamp;
 *                                              absent: 0, nothing collected)
 *   22 TL_META_INDEX_GC_HOLD  text holder      1 column: the oldest
 *                                              timestamp the holder still
 *                                              reads (int8): CDC slots and
 *                                              backups, when they exist
 *
 * Indexes 20..22 are GC's: the meta group's leader computes the safe
 * point from the live routers' oldest transactions, the holds and the
 * cluster setting gc_window_ms, and raises it (never lowers it) with a
 * write conditional on the row it read; every node reads it
 * (node/meta/gc.c).
 * Indexes 1..4 are the catalog: every catalog change (a table, a vschema
 * entry) writes map version + 1 in the same conditional batch. Indexes 5
 * and 6 are sequences: no request is planned with them, so creating or
 * dropping one does not move the map version, and nextval() moves only
 * the value row of its sequence (one conditional write reserves a block
 * of values; router/core/sequences.h). A sequence's id comes from the
 * table id counter (index 2), so a dropped and recreated sequence never
 * meets the value row or cached block of the old one. Index 7 holds
 * roles (CREATE ROLE): like sequences, no request is planned with them,
 * so role changes do not move the map version; a role's oid comes from the
 * table id counter too. Routers read roles when a client authenticates
 * (router/core/roles.h). Indexes
 * 16..18 are the node registry: its rows carry their index id as a second
 * column, so one scan of [prefix(0, 16), prefix(0, 19)) plus
 * [prefix(0, 3), prefix(0, 4)) (tl_meta_registry_scan()) says what each
 * row is. Registry writes never move the map version.
 *
 * Index ids and layouts are stored in every data directory: never renumber
 * an index, never change a key or row layout in place; add a new index id
 * instead (tests/unit/test_meta_keys.c pins the bytes).
 *
 * Everything here is pure encoding: no I/O, no locks; any thread. */
#ifndef TL_META_KEYS_H
#define TL_META_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "role.h"
#include "sequence.h"
#include "table.h"
#include "talus.pb-c.h"

/** The table id of every system key. */
#define TL_META_TABLE_ID 0
/** The first id CREATE TABLE hands out (the next-id counter's value when
 * it is absent); ids below it are never user tables. Stored. */
#define TL_META_FIRST_TABLE_ID 1000

/* Index ids of the meta keyspace under TL_META_TABLE_ID.
 * Stored: never renumber, never reuse. */
enum tl_meta_index {
    TL_META_INDEX_TABLE = 1,          /* catalog: table descriptions */
    TL_META_INDEX_NEXT_ID = 2,        /* catalog: the table id counter */
    TL_META_INDEX_MAP_VERSION = 3,    /* catalog: the map version */
    TL_META_INDEX_VSCHEMA = 4,        /* catalog: vschema entries */
    TL_META_INDEX_SEQUENCE = 5,       /* sequences: descriptions */
    TL_META_INDEX_SEQ_VALUE = 6,      /* sequences: last_value, is_called */
    TL_META_INDEX_ROLE = 7,           /* roles: verifier and attributes */
    TL_META_INDEX_AUTH_SECRET = 8,    /* roles: mock authentication secret */
    TL_META_INDEX_NODE = 16,          /* registry: node records */
    TL_META_INDEX_SHARD = 17,         /* registry: shard records */
    TL_META_INDEX_SETTINGS = 18,      /* registry: cluster settings */
    TL_META_INDEX_ROUTER = 20,        /* routers: incarnation and lease */
    TL_META_INDEX_GC_SAFE_POINT = 21, /* GC: the safe point */
    TL_META_INDEX_GC_HOLD = 22,       /* GC: holds (CDC, backups) */
};
/** One past the last GC index: [prefix(0, TL_META_INDEX_ROUTER),
 * prefix(0, TL_META_GC_END)) holds every row the safe point depends on. */
#define TL_META_GC_END 23
/** The GC window when the settings name none: 10 minutes, TiDB's default
 * tikv_gc_life_time, long enough for a slow report and a long query,
 * short enough that a hot key's history stays small. */
#define TL_META_GC_WINDOW_DEFAULT_MS 600000
/** The shortest GC window honoured: twice a router's renewal period, so
 * a transaction's start is reported before the window passes it. */
#define TL_META_GC_WINDOW_MIN_MS 2000
/** One past the last registry index: registry rows are the keys in
 * [prefix(0, TL_META_INDEX_NODE), prefix(0, TL_META_REGISTRY_END)). */
#define TL_META_REGISTRY_END 19

/* ------------------------------------------------------------ keys */

/** Append prefix(0, @index): the whole key of a singleton (next id, map
 * version, settings) and the first key of every key under @index. Cannot
 * fail. */
void tl_meta_key_index(struct tl_buf *key, enum tl_meta_index index);

/** Append the key of table @name's description (borrowed, NUL-terminated):
 * prefix(0, 1) | text name. Cannot fail. */
void tl_meta_key_table(struct tl_buf *key, const char *name);

/** Append the key of the table id counter: prefix(0, 2). Cannot fail. */
void tl_meta_key_next_id(struct tl_buf *key);

/** Append the key of the map version: prefix(0, 3). Cannot fail. */
void tl_meta_key_map_version(struct tl_buf *key);

/** Append the key of table @name's vschema entry (borrowed):
 * prefix(0, 4) | text name. Cannot fail. */
void tl_meta_key_vschema(struct tl_buf *key, const char *name);

/** Append the key of sequence @name's description (borrowed):
 * prefix(0, 5) | text name. Cannot fail. */
void tl_meta_key_sequence(struct tl_buf *key, const char *name);

/** Append the key of the state of the sequence with id @id:
 * prefix(0, 6) | int8 id. Cannot fail. */
void tl_meta_key_seq_value(struct tl_buf *key, uint32_t id);

/** Append the key of role @name (borrowed, NUL-terminated):
 * prefix(0, 7) | text name. Cannot fail. */
void tl_meta_key_role(struct tl_buf *key, const char *name);

/** Append the key of the mock authentication secret: prefix(0, 8).
 * Cannot fail. */
void tl_meta_key_auth_secret(struct tl_buf *key);

/** Append the key of registry record @id under @index: prefix(0, 16) |
 * int8 node id, prefix(0, 17) | int8 shard id, or prefix(0, 18) for the
 * settings (@id ignored). @index must be a registry index (asserted).
 * Cannot fail. */
void tl_meta_key_registry(struct tl_buf *key, enum tl_meta_index index,
                          uint32_t id);

/** Append the key of the GC safe point: prefix(0, 21). Cannot fail. */
void tl_meta_key_gc_safe_point(struct tl_buf *key);

/** Append the key of GC hold @holder (borrowed, NUL-terminated):
 * prefix(0, 22) | text holder. Cannot fail. */
void tl_meta_key_gc_hold(struct tl_buf *key, const char *holder);

/** Set @start and @end (over their contents) to the range
 * [prefix(0, @index), the first key past every key under @index): every
 * key of one index. Cannot fail. */
void tl_meta_range_index(struct tl_buf *start, struct tl_buf *end,
                         enum tl_meta_index index);

/* ------------------------------------------------------------ records */

/** Append the row of a counter (next table id, map version): one int8
 * column. Cannot fail. */
void tl_meta_counter_encode(struct tl_buf *row, int64_t value);

/** Decode the counter row at @p/@len (borrowed) into *@value. Columns after
 * the first are ignored. TL_ECORRUPT (*@value untouched) unless the row
 * decodes and its first column is a non-NULL integer. */
int tl_meta_counter_decode(const uint8_t *p, size_t len, int64_t *value);

/** Append the row of table @t's description (borrowed): one text column,
 * the packed talus.TableDesc of tl_table_to_proto(). Cannot fail. */
void tl_meta_table_encode(struct tl_buf *row, const struct tl_table *t);

/** Decode the table description row at @p/@len (borrowed). On success
 * *@out is the caller's: free with tl_table_destroy(). TL_ECORRUPT when
 * the row or the packed description cannot be decoded; tl_table_from_proto()'s
 * error when the description is not a valid table. */
int tl_meta_table_decode(const uint8_t *p, size_t len, struct tl_table **out);

/** Append the row of sequence @s's description (borrowed): one text
 * column, the packed talus.SequenceDesc of tl_sequence_to_proto(). Cannot
 * fail. */
void tl_meta_sequence_encode(struct tl_buf *row, const struct tl_sequence *s);

/** Decode the sequence description row at @p/@len (borrowed) into @s.
 * TL_ECORRUPT when the row or the packed description cannot be decoded;
 * tl_sequence_from_proto()'s error when it is not a valid sequence. */
int tl_meta_sequence_decode(const uint8_t *p, size_t len,
                            struct tl_sequence *s);

/** Append the state row of a sequence: last_value (int8), is_called
 * (bool). Cannot fail. */
void tl_meta_seq_value_encode(struct tl_buf *row, int64_t last_value,
                              bool is_called);

/** Decode the state row at @p/@len. TL_ECORRUPT (outs untouched) unless
 * it holds a non-NULL integer and a non-NULL bool. */
int tl_meta_seq_value_decode(const uint8_t *p, size_t len, int64_t *last_value,
                             bool *is_called);

/** Append the row of role @r (borrowed). Cannot fail. */
void tl_meta_role_encode(struct tl_buf *row, const struct tl_role *r);

/** Decode the role row at @p/@len into @r. TL_ECORRUPT unless it has the
 * six columns of index 7, of their types (the verifier may be NULL). */
int tl_meta_role_decode(const uint8_t *p, size_t len, struct tl_role *r);

/** Append the row of the mock authentication secret @secret (32 bytes):
 * one text column of 64 lowercase hex digits. Cannot fail. */
void tl_meta_auth_secret_encode(struct tl_buf *row, const uint8_t secret[32]);

/** Decode the secret row at @p/@len into @secret. TL_ECORRUPT unless it is
 * one text column of 64 hex digits. */
int tl_meta_auth_secret_decode(const uint8_t *p, size_t len,
                               uint8_t secret[32]);

/** Append the row of a vschema entry: one text column holding @json
 * (@len bytes, copied). Cannot fail. */
void tl_meta_vschema_encode(struct tl_buf *row, const char *json, size_t len);

/** Decode the vschema entry row at @p/@len: *@json and *@len get the JSON
 * text, borrowed from @p (not NUL-terminated). TL_ECORRUPT unless the
 * first column is non-NULL text. */
int tl_meta_vschema_decode(const uint8_t *p, size_t len, const char **json,
                           size_t *json_len);

/** Append the row of registry record @msg under @index: column 0 the packed
 * message, column 1 @index. @msg must be the message of @index (a
 * talus.NodeRecord, ShardRecord or ClusterSettings; asserted). Cannot
 * fail. */
void tl_meta_record_encode(struct tl_buf *row, enum tl_meta_index index,
                           const ProtobufCMessage *msg);

/** Decode the registry row at @p/@len: *@index gets its index id, *@packed
 * and *@packed_len the packed record, borrowed from @p. TL_ECORRUPT unless
 * the row has exactly two columns, a non-NULL text record and a non-NULL
 * integer index id (the index id is not checked against the registry's:
 * callers skip kinds they do not know). */
int tl_meta_record_decode(const uint8_t *p, size_t len, int64_t *index,
                          const uint8_t **packed, size_t *packed_len);

/* ------------------------------------------------------------ scans */

/** The description of table TL_META_TABLE_ID that scans of catalog keys
 * (indexes 1..4) send: "talus_catalog", two text columns, in @a. Cannot
 * fail. */
Talus__TableDesc *tl_meta_catalog_desc(struct tl_arena *a);

/** A scan of the meta group that reads the registry and the map version
 * (allocated in @a). Cannot fail. */
Talus__ScanFragment *tl_meta_registry_scan(struct tl_arena *a);

/** Add the records in the rows of scan reply @resp (of
 * tl_meta_registry_scan()) to @m, allocated in @a (records are copied):
 * node records to nodes, shard records to shards except the meta group's,
 * whose replicas and leader go to meta_voters and meta_leader (the first
 * leader seen wins), the settings to settings, and the map version (a
 * one-column integer row) to map_version. Other rows are skipped; a
 * record that cannot be unpacked is skipped too and counted in the return
 * value. Cannot fail otherwise. */
int tl_meta_registry_collect(const Talus__Response *resp, struct tl_arena *a,
                             Talus__ClusterMap *m);

#endif
