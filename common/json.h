/* json — PostgreSQL's json and jsonb types: input, output, operators.
 *
 * A json value (TL_TYPE_JSON) is its input text, kept byte for byte once
 * it has been checked to be JSON. A jsonb value (TL_TYPE_JSONB) is its
 * normalised text, which is also what PostgreSQL prints for it: object
 * keys sorted by length, then bytewise; a duplicate key keeps its last
 * value; numbers as numeric_out() prints them (1e2 is 100, 1.0 stays 1.0);
 * strings with their escapes decoded and written back as escape_json()
 * does; ", " between items and ": " after keys. Both are held in u.s like
 * text, so the row codec, COPY and the wire carry that text.
 *
 * Operators and functions parse the text again into a struct tl_json tree
 * in an arena: documents are small next to the cost of a scan, and the
 * text stays the only stored form.
 *
 * Errors follow PostgreSQL 15's json parser: 22P02 "invalid input syntax
 * for type json" with its DETAIL ("Token \"x\" is invalid.", "Expected
 * JSON value, but found \"}\".", ...) and its CONTEXT ("JSON data, line
 * 1: ..."); 22P05 "unsupported Unicode escape sequence" for \u0000 in a
 * jsonb; 54001 past TL_JSON_MAX_DEPTH levels of nesting. */
#ifndef TL_JSON_H
#define TL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "tl_error.h"
#include "value.h"

/* Nesting deeper than this is refused (the parser recurses). */
#define TL_JSON_MAX_DEPTH 1000

enum tl_json_kind {
    TL_JSON_NULL = 0,
    TL_JSON_BOOL = 1,
    TL_JSON_NUMBER = 2,
    TL_JSON_STRING = 3,
    TL_JSON_ARRAY = 4,
    TL_JSON_OBJECT = 5,
};

/* One parsed value; every pointer points into the input text or the
 * arena the parse was given. */
struct tl_json {
    uint8_t kind; /* enum tl_json_kind */
    bool b;       /* TL_JSON_BOOL */
    const char *src;
    uint32_t src_len; /* this value's text in the input, as written */
    const char *str;
    uint32_t len; /* STRING: decoded bytes; NUMBER: its text (numeric_out's
                     for a jsonb parse, as written for json) */
    uint32_t n;   /* ARRAY, OBJECT: number of items */
    struct tl_json **items; /* ARRAY elements, OBJECT values */
    struct tl_json **keys;  /* OBJECT keys (STRING), sorted and unique for
                               a jsonb parse, as written for json */
};

/** Parse @s (@len bytes) as JSON into a tree in @a (*@out). With @jsonb,
 * string escapes must decode to text (surrogate pairs, no \u0000), numbers
 * are made numeric and objects are sorted and deduplicated. Errors as the
 * header says, with detail and context set in @err. */
int tl_json_parse(const char *s, size_t len, bool jsonb, struct tl_arena *a,
                  struct tl_json **out, struct tl_error *err);

/** Append the jsonb text of @j (parsed with jsonb) to @out. Cannot fail. */
void tl_json_write(const struct tl_json *j, struct tl_buf *out);

/** Text input of @type (TL_TYPE_JSON or TL_TYPE_JSONB): the value in *@out
 * borrows @s for json, is normalised into @a for jsonb. Errors as
 * tl_json_parse. */
int tl_json_in(uint8_t type, const char *s, size_t len, struct tl_arena *a,
               struct tl_value *out, struct tl_error *err);

/** @doc -> @key (@as_text: ->>). @doc is a non-NULL json or jsonb, @key a
 * non-NULL integer (array element, negative counts from the end) or text
 * (object field). The result has @doc's type (text for @as_text), NULL
 * where PostgreSQL gives NULL (no such field or element, the wrong kind of
 * container, a JSON null for ->>); a jsonb scalar is an array of one
 * element to an integer key, as in PostgreSQL 15. Text in @a. Errors: a
 * @doc that does not parse (only possible for corrupt data). */
int tl_json_get(const struct tl_value *doc, const struct tl_value *key,
                bool as_text, struct tl_arena *a, struct tl_value *out,
                struct tl_error *err);

/** @doc #> @path (@as_text: #>>), @path a text[] literal ('{a,1}'). An
 * empty path gives @doc itself; a NULL element or a missing step gives
 * NULL. 22P02 "malformed array literal" for a bad @path. */
int tl_json_get_path(const struct tl_value *doc, const struct tl_value *path,
                     bool as_text, struct tl_arena *a, struct tl_value *out,
                     struct tl_error *err);

/** Check that @path (text, not NULL) is a text[] literal tl_json_get_path
 * accepts: 0, or 22P02 "malformed array literal" with its detail. */
int tl_json_check_path(const struct tl_value *path, struct tl_arena *a,
                       struct tl_error *err);

/** jsonb @l @> @r into *@res, as PostgreSQL's JsonbDeepContains. */
int tl_json_contains(const struct tl_value *l, const struct tl_value *r,
                     struct tl_arena *a, bool *res, struct tl_error *err);

/** jsonb @doc ? @key (text) into *@res: a top-level object key, a string
 * element of a top-level array, or the string scalar itself. */
int tl_json_exists(const struct tl_value *doc, const struct tl_value *key,
                   struct tl_arena *a, bool *res, struct tl_error *err);

/** Whether two non-NULL jsonb values are equal (jsonb's = operator:
 * numbers by value, 1.0 = 1). Cannot fail (unparsable text is compared
 * bytewise). */
bool tl_json_equal(const struct tl_value *l, const struct tl_value *r);

/** PostgreSQL's order of two jsonb values (jsonb_cmp): by type, object >
 * array > boolean > number > string > null (a top-level scalar below any
 * array of as many elements); containers first by their number of items,
 * then item by item, an object's pairs in storage order (shorter keys
 * first). -1, 0 or 1. Cannot fail. */
int tl_json_cmp(const struct tl_value *l, const struct tl_value *r);

/** A hash of jsonb @v that every equal value (tl_json_cmp() 0) shares,
 * whatever its text ('1.0', '1.00'). Cannot fail. */
uint64_t tl_json_hash(const struct tl_value *v);

/** to_json (@type TL_TYPE_JSON) or to_jsonb (TL_TYPE_JSONB) of non-NULL
 * scalar @v, as PostgreSQL's datum_to_json: numbers bare when their text is
 * a JSON number ("NaN" and the infinities quoted), booleans true/false,
 * json and jsonb as they are, dates and timestamps in ISO 8601
 * ("2026-03-01T12:00:00+00:00"), anything else its text output as a JSON
 * string. Text in @a. Cannot fail but for what tl_json_in reports. */
int tl_json_from_value(const struct tl_value *v, uint8_t type,
                       struct tl_arena *a, struct tl_value *out,
                       struct tl_error *err);

/** json_typeof/jsonb_typeof of non-NULL @doc ("object", "array",
 * "string", "number", "boolean", "null") into *@out (text). */
int tl_json_typeof(const struct tl_value *doc, struct tl_arena *a,
                   struct tl_value *out, struct tl_error *err);

/** json_array_length/jsonb_array_length of non-NULL @doc into *@out
 * (int4). 22023 "cannot get array length of a non-array" ("of a scalar"
 * for a jsonb scalar). */
int tl_json_array_length(const struct tl_value *doc, struct tl_arena *a,
                         struct tl_value *out, struct tl_error *err);

#endif
