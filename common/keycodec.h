/* keycodec — memcomparable key encoding.
 *
 * A key is `table id (4 bytes BE) | index id (4 bytes BE) | columns`, and
 * each column is encoded so that memcmp() of two encodings orders them as
 * the values order (ascending), so primary-key and index range scans are
 * RocksDB range scans:
 *   NULL                 0x03 (after every value, as ORDER BY ASC puts it)
 *   non-NULL             0x02 then the payload:
 *   BOOL                 0x00 / 0x01
 *   INT2/INT4/INT8       8 bytes big-endian with the sign bit flipped (all
 *                        widths encode alike, so equal values share a key
 *                        and a hash whatever their declared width)
 *   TIMESTAMPTZ/TIMESTAMP/DATE  as integers, over the stored microseconds
 *                        or days (the infinities are the extreme integers,
 *                        so they sort first and last)
 *   FLOAT8/FLOAT4        8 bytes (a real widened to double, so equal
 *                        real and double values share a key): sign bit flipped
 * for positives, all bits flipped for negatives; -0 is encoded as +0, every NaN
 * as the one canonical NaN (largest) TEXT/VARCHAR/BPCHAR  bytes with 0x00
 * escaped as 0x00 0xFF, then the terminator 0x00 0x01; a BPCHAR without its
 *                        trailing spaces (they do not count in equality),
 *                        so a decoded BPCHAR key comes back unpadded
 *   NUMERIC              tl_numeric_key_encode(): by value, whatever the
 *                        display scale (1.5 and 1.50 share a key, which
 *                        decodes as 1.5), NaN last
 *   BYTEA                as TEXT (the escape keeps keys prefix-free and
 *                        bytewise ordered)
 *   UUID                 its 16 bytes
 *   INTERVAL             its span (tl_interval_span): whole days as an
 *                        INT8, then the microseconds of the last part day
 *                        as 8 bytes big-endian, so '1 mon' and '30 days'
 *                        (equal, as in PostgreSQL) share a key; it decodes
 *                        as months, days and time (tl_interval_from_span)
 * Index id 1 is the primary key; table id 0 is the meta keyspace, whose
 * index ids and keys common/meta/meta_keys.h owns. */
#ifndef TL_KEYCODEC_H
#define TL_KEYCODEC_H

#include "buf.h"
#include "value.h"

#define TL_INDEX_PRIMARY 1
#define TL_KEY_PREFIX_LEN 8 /* table id and index id */
/* The first byte of a column's encoding: every non-NULL value's sorts
 * before a NULL's. */
#define TL_KEY_NOT_NULL 0x02
#define TL_KEY_NULL 0x03

/** Append the 8-byte table/index prefix. Cannot fail. */
void tl_key_encode_prefix(struct tl_buf *out, uint32_t table_id,
                          uint32_t index_id);

/** Append the memcomparable encoding of @v. Cannot fail. */
void tl_key_encode_value(struct tl_buf *out, const struct tl_value *v);

/** Decode one column of type @type from [*p, end), advancing *p. Text is
 * unescaped into @a. TL_ECORRUPT on malformed input. */
int tl_key_decode_value(const uint8_t **p, const uint8_t *end, uint8_t type,
                        struct tl_arena *a, struct tl_value *out);

/** Turn @key into the smallest key greater than every key that has @key as
 * a prefix (for an exclusive range end): strip trailing 0xFF bytes and
 * increment the last byte. TL_EOVERFLOW if @key is empty or all 0xFF. */
int tl_key_prefix_end(struct tl_buf *key);

#endif
