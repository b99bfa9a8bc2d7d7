/* row — the compact row encoding stored in RocksDB and sent on the wire.
 *
 * Layout: format byte (1), schema version (varint), column count (varint),
 * then per column a tag byte (the tl_type, or 0x80|type for NULL) and its
 * payload: INT* zigzag varint, FLOAT8 8 bytes big-endian IEEE, FLOAT4 4
 * bytes big-endian IEEE, BOOL one
 * byte, TIMESTAMPTZ/TIMESTAMP/DATE zigzag varint of the stored microseconds
 * or days, TEXT/VARCHAR/BPCHAR/UNKNOWN/BYTEA varint length + bytes (a BPCHAR
 * with its padding), UUID the same with a length of exactly 16. A tag of
 * a type number Talus does not have (tl_type_is_known) is corrupt. The
 * encoding is
 * self-describing: a node can filter rows without the catalog. */
#ifndef TL_ROW_H
#define TL_ROW_H

#include "buf.h"
#include "value.h"

#define TL_ROW_FORMAT 1

/** Append the encoding of @vals[0..n) to @out. Cannot fail. */
void tl_row_encode(const struct tl_value *vals, size_t n,
                   uint32_t schema_version, struct tl_buf *out);

/** Decode the row at @p/@len into @vals[0..n_max): columns present in the
 * row but beyond n_max are ignored, columns missing from the row are NULL
 * of TL_TYPE_UNKNOWN. Text, uuid and bytea values borrow @p. *@n_out (may be
 * NULL) gets the number of columns stored. TL_ECORRUPT on any malformed input
 * (never reads outside [p, p+len)). */
int tl_row_decode(const uint8_t *p, size_t len, struct tl_value *vals,
                  size_t n_max, size_t *n_out);

/** Encode one value as a one-column row (constants in expressions). */
void tl_row_encode_value(const struct tl_value *v, struct tl_buf *out);
/** Decode a one-column row. TL_ECORRUPT unless exactly one column. */
int tl_row_decode_value(const uint8_t *p, size_t len, struct tl_value *v);

#endif
