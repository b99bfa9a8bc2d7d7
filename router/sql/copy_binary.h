/* copy_binary — the framing of PostgreSQL 15's binary COPY format, without
 * I/O and without knowledge of types.
 *
 * A binary COPY stream is: the 11-byte signature "PGCOPY\n\377\r\n\0", an
 * int32 of flags (bit 16: rows carry OIDs, refused; bits 17-31: critical
 * flags, refused; bits 0-15 ignored), an int32 header extension length
 * and that many bytes (skipped); then tuples, each an int16 field count
 * followed per field by an int32 length (-1: NULL) and that many bytes of
 * the type's binary send format; then the trailer, int16 -1. All integers
 * are big-endian (network order).
 *
 * The reader takes CopyData payloads cut at any byte (copy_binary_feed())
 * and hands back whole tuples as raw fields (copy_binary_next_row());
 * turning the bytes of a field into a value is the caller's business
 * (router/wire/pgwire.h pgw_value_from_binary()). It follows
 * PostgreSQL 15's ReceiveCopyBinaryHeader() and NextCopyFrom(): input
 * that ends inside the signature is "COPY file signature not recognized";
 * input that ends where a tuple's field count would start (even after one
 * byte of it) ends the data as a trailer would; input that ends inside a
 * tuple is "unexpected EOF in COPY data"; bytes after the trailer are
 * "received copy data after EOF marker".
 *
 * Invariants: the reader holds at most the unconsumed input, that is one
 * incomplete tuple plus one CopyData payload; a header extension is
 * skipped as it arrives, never held. Nothing here does I/O, logs, or keeps
 * global state. */
#ifndef TL_COPY_BINARY_H
#define TL_COPY_BINARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "router/sql/copy_format.h"
#include "tl_error.h"

/* The signature that opens every binary COPY stream (11 bytes, the last
 * one NUL). */
#define COPY_BINARY_SIGNATURE "PGCOPY\n\377\r\n"
#define COPY_BINARY_SIGNATURE_LEN 11
/* Signature, flags and extension length: what copy_binary_write_header()
 * writes. */
#define COPY_BINARY_HEADER_LEN 19

struct copy_binary_reader;

/** A reader of tuples of @n_columns fields. *@out owns it; release with
 * copy_binary_reader_destroy(). Cannot fail (allocation failure aborts,
 * as everywhere in Talus). */
void copy_binary_reader_create(size_t n_columns,
                               struct copy_binary_reader **out);

/** Free @r; NULL is a no-op. */
void copy_binary_reader_destroy(struct copy_binary_reader *r);

/** Append @len bytes of one CopyData payload (copied) to the input of @r.
 * Bytes fed after copy_binary_finish() or after an error are dropped.
 * Cannot fail. */
void copy_binary_feed(struct copy_binary_reader *r, const void *p, size_t len);

/** Tell @r that the input is complete (CopyDone). Cannot fail. */
void copy_binary_finish(struct copy_binary_reader *r);

/** The next tuple of @r. Returns 1 and sets *@fields (borrowed from @r,
 * valid until the next call on @r) to @r's n_columns fields (p points at
 * the field's bytes, which are not NUL-terminated; p is NULL when is_null);
 * 0 when no complete tuple is buffered: either more input is needed or,
 * once copy_binary_reader_done() is true, there are no more tuples.
 *
 * Errors (reported in @err, which may be NULL; SQLSTATE 22P04 and
 * TL_ECORRUPT for all; the reader is then failed and every later call
 * returns the same code), with the place PostgreSQL's CONTEXT line names
 * (copy_binary_reader_line(), copy_binary_reader_column()):
 *  - in the header (line 0, no CONTEXT): "COPY file signature not
 *    recognized", "invalid COPY file header (WITH OIDS)", "unrecognized
 *    critical flags in COPY file header", "invalid COPY file header
 *    (missing flags)", "invalid COPY file header (missing length)" (also
 *    for a negative length), "invalid COPY file header (wrong length)";
 *  - of a tuple: "row field count is N, expected M", "received copy data
 *    after EOF marker" (line of the tuple or trailer, no column);
 *  - of a field: "unexpected EOF in COPY data", "invalid field size" (a
 *    length below -1) (line and column). */
int copy_binary_next_row(struct copy_binary_reader *r,
                         const struct copy_format_field **fields,
                         struct tl_error *err);

/** True when @r has returned its last tuple: the trailer came and the
 * input is finished, or the input ended where a tuple would start. */
bool copy_binary_reader_done(const struct copy_binary_reader *r);

/** The line number (PostgreSQL counts a tuple, and the trailer, as a line;
 * 1-based) of the last tuple returned by, or of the error reported by,
 * copy_binary_next_row(); 0 before the first tuple and for errors of the
 * header. */
uint64_t copy_binary_reader_line(const struct copy_binary_reader *r);

/** The index of the field the last error belongs to, or -1 when it belongs
 * to the whole tuple or the header. */
int copy_binary_reader_column(const struct copy_binary_reader *r);

/** After an error of a field (copy_binary_reader_column() > 0), the fields
 * of that tuple before it, complete, into *@fields (borrowed from @r):
 * returns their number (0 for any other error). PostgreSQL decodes each
 * field as it reads it, so a bad value among them is reported instead
 * of the framing error. */
size_t copy_binary_reader_partial(const struct copy_binary_reader *r,
                                  const struct copy_format_field **fields);

/** Append the header: signature, flags 0, extension length 0
 * (COPY_BINARY_HEADER_LEN bytes). Cannot fail. */
void copy_binary_write_header(struct tl_buf *out);

/** Append the start of a tuple of @n fields (n <= INT16_MAX). Cannot
 * fail. */
void copy_binary_write_tuple_start(struct tl_buf *out, size_t n);

/** Append a NULL field. Cannot fail. */
void copy_binary_write_null(struct tl_buf *out);

/** Start a non-NULL field: returns where its length goes; append the
 * value's bytes to @out, then call copy_binary_write_field_end() with
 * that offset. Cannot fail. */
size_t copy_binary_write_field_start(struct tl_buf *out);

/** Fill in the length of the field started at @at. Cannot fail. */
void copy_binary_write_field_end(struct tl_buf *out, size_t at);

/** Append the trailer (int16 -1). Cannot fail. */
void copy_binary_write_trailer(struct tl_buf *out);

#endif
