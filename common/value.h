/* value — SQL values and their types.
 *
 * A struct tl_value is a tagged scalar. Text values borrow their bytes
 * (from a row buffer, a query string or an arena) and are not NUL
 * terminated. Integers of every width are held as int64_t, range-checked
 * for their type when produced. A NULL has is_null set and its type says
 * which SQL type it is a NULL of (TL_TYPE_UNKNOWN for an untyped NULL
 * literal). Text comparison is bytewise (the C collation).
 *
 * A numeric holds its canonical decimal text in u.s, borrowed the same
 * way (numeric.h says what canonical means and computes on it).
 *
 * Dates and timestamps are held in u.i as PostgreSQL stores them (see
 * datetime.h): timestamps in microseconds, dates in days since
 * 2000-01-01; the session time zone is always UTC.
 *
 * A uuid and a bytea keep their bytes in u.s as text does (borrowed, not
 * NUL terminated): a uuid always its 16 bytes, a bytea any number. Both
 * compare bytewise, then by length.
 *
 * A json and a jsonb keep their text in u.s the same way (json.h says what
 * the text of each is). A json has no comparison; jsonb values are equal
 * as PostgreSQL's jsonb = says (1.0 = 1), and have no order in Talus.
 *
 * An interval is held in u.iv as PostgreSQL stores it (months, days,
 * microseconds: interval.h), inline like a number. */
#ifndef TL_VALUE_H
#define TL_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "tl_error.h"

/* Stored in catalogs and on the wire: never renumber. */
enum tl_type {
    TL_TYPE_UNKNOWN = 0, /* untyped literal (a quoted string, NULL) */
    TL_TYPE_BOOL = 1,
    TL_TYPE_INT2 = 2,
    TL_TYPE_INT4 = 3,
    TL_TYPE_INT8 = 4,
    TL_TYPE_FLOAT8 = 5,
    TL_TYPE_TEXT = 6,
    TL_TYPE_VARCHAR = 7,     /* typmod: maximum length in characters, or -1 */
    TL_TYPE_TIMESTAMPTZ = 8, /* int64 microseconds since 2000-01-01 UTC */
    TL_TYPE_TIMESTAMP = 9,   /* the same, with no zone */
    TL_TYPE_DATE = 10,       /* int32 days since 2000-01-01 */
    TL_TYPE_BPCHAR = 11,     /* character(n): typmod n, or -1 for bpchar */
    TL_TYPE_FLOAT4 = 12,     /* real: a float, held widened in u.f */
    TL_TYPE_NUMERIC = 13,    /* canonical decimal text in u.s (numeric.h) */
    TL_TYPE_UUID = 14,       /* 16 bytes in u.s */
    TL_TYPE_BYTEA = 15,      /* any bytes in u.s */
    TL_TYPE_INTERVAL = 16,   /* months, days, microseconds in u.iv */
    TL_TYPE_JSON = 17,       /* its input text in u.s (json.h) */
    TL_TYPE_JSONB = 18,      /* its normalised text in u.s (json.h) */
};
#define TL_TYPE_MAX TL_TYPE_JSONB

/* An interval's fields, as PostgreSQL's Interval (interval.h). */
struct tl_interval {
    int64_t time; /* microseconds */
    int32_t day;
    int32_t month;
};

struct tl_value {
    uint8_t type; /* enum tl_type */
    bool is_null;
    union {
        bool b;
        int64_t i; /* INT2, INT4, INT8, TIMESTAMPTZ, TIMESTAMP, DATE */
        double f;  /* FLOAT8; FLOAT4 (always exactly a float) */
        struct {
            const char *p;
            uint32_t len;
        } s; /* TEXT, VARCHAR, BPCHAR, UNKNOWN literal text, UUID, BYTEA,
                JSON, JSONB; NUMERIC's canonical text (numeric.h) */
        struct tl_interval iv; /* INTERVAL */
    } u;
};

static inline struct tl_value
tl_value_null(uint8_t type)
{
    struct tl_value v = {.type = type, .is_null = true};
    return v;
}
static inline struct tl_value
tl_value_int(uint8_t type, int64_t i)
{
    struct tl_value v = {.type = type, .u.i = i};
    return v;
}
static inline struct tl_value
tl_value_float(double f)
{
    struct tl_value v = {.type = TL_TYPE_FLOAT8, .u.f = f};
    return v;
}
/** A real: @f must be exactly representable as a float. */
static inline struct tl_value
tl_value_float4(float f)
{
    struct tl_value v = {.type = TL_TYPE_FLOAT4, .u.f = f};
    return v;
}
static inline struct tl_value
tl_value_bool(bool b)
{
    struct tl_value v = {.type = TL_TYPE_BOOL, .u.b = b};
    return v;
}
/** A text value of @type holding a copy of @p/@len in @a. */
static inline struct tl_value
tl_value_text_dup(struct tl_arena *a, uint8_t type, const void *p, size_t len)
{
    char *c = tl_arena_strndup(a, len ? (const char *)p : "", len);
    struct tl_value v = {.type = type, .u.s = {c, (uint32_t)len}};
    return v;
}

static inline struct tl_value
tl_value_text(uint8_t type, const char *p, uint32_t len)
{
    struct tl_value v = {.type = type, .u.s = {p, len}};
    return v;
}

static inline struct tl_value
tl_value_interval(const struct tl_interval *iv)
{
    struct tl_value v = {.type = TL_TYPE_INTERVAL, .u.iv = *iv};
    return v;
}

static inline bool
tl_type_is_int(uint8_t t)
{
    return t == TL_TYPE_INT2 || t == TL_TYPE_INT4 || t == TL_TYPE_INT8;
}
/** real or double precision: u.f holds the value. */
static inline bool
tl_type_is_float(uint8_t t)
{
    return t == TL_TYPE_FLOAT8 || t == TL_TYPE_FLOAT4;
}
/** A number: an integer, a float or a numeric (every type arithmetic
 * takes). */
static inline bool
tl_type_is_numeric(uint8_t t)
{
    return tl_type_is_int(t) || tl_type_is_float(t) || t == TL_TYPE_NUMERIC;
}
static inline bool
tl_type_is_text(uint8_t t)
{
    return t == TL_TYPE_TEXT || t == TL_TYPE_VARCHAR || t == TL_TYPE_BPCHAR;
}
/** timestamptz, timestamp or date: u.i holds the value. */
static inline bool
tl_type_is_datetime(uint8_t t)
{
    return t == TL_TYPE_TIMESTAMPTZ || t == TL_TYPE_TIMESTAMP ||
           t == TL_TYPE_DATE;
}
/** json or jsonb. */
static inline bool
tl_type_is_json(uint8_t t)
{
    return t == TL_TYPE_JSON || t == TL_TYPE_JSONB;
}
/** Whether a non-NULL value of @t keeps its payload in u.s (text, varchar,
 * bpchar, untyped literals, uuid, bytea, json and jsonb); every other type
 * is held in u.b, u.i or u.f. */
static inline bool
tl_type_has_text(uint8_t t)
{
    return tl_type_is_text(t) || t == TL_TYPE_UNKNOWN || t == TL_TYPE_UUID ||
           t == TL_TYPE_BYTEA || tl_type_is_json(t);
}
/** Whether a non-NULL value of @t borrows bytes through u.s: the types of
 * tl_type_has_text and numeric. Code that copies or frees a value's memory
 * asks this, not tl_type_has_text. */
static inline bool
tl_type_has_bytes(uint8_t t)
{
    return tl_type_has_text(t) || t == TL_TYPE_NUMERIC;
}

/** Whether @t is the number of a type Talus has (TL_TYPE_UNKNOWN
 * included). The numbers up to TL_TYPE_MAX have gaps: check this before
 * trusting a number read from disk or the wire. Cannot fail. */
bool tl_type_is_known(uint8_t t);

/** The length of non-NULL text value @v that counts for comparison,
 * hashing and keys: a bpchar's trailing spaces are not significant
 * (PostgreSQL's bpchar semantics); other types count every byte. */
static inline uint32_t
tl_value_text_len(const struct tl_value *v)
{
    uint32_t n = v->u.s.len;
    if (v->type == TL_TYPE_BPCHAR)
        while (n > 0 && v->u.s.p[n - 1] == ' ')
            n--;
    return n;
}

/** PostgreSQL's name for @type ("bigint", "character varying",
 * "timestamp with time zone", ...). */
const char *tl_type_name(uint8_t type);
/** PostgreSQL type OID of @type (20 for int8, 25 for text, 1184 for
 * timestamptz, 1114 for timestamp, 1082 for date, ...); 25 for
 * TL_TYPE_UNKNOWN. */
uint32_t tl_type_oid(uint8_t type);
/** The type whose PostgreSQL OID is @oid into *@type: 0, or TL_ENOTFOUND
 * for an OID Talus has no type for (*@type untouched). 0 ("unspecified",
 * as a Parse message declares it) gives TL_TYPE_UNKNOWN, 705 (unknown) too. */
int tl_type_from_oid(uint32_t oid, uint8_t *type);
/** pg_type.typlen of @type: 16 (uuid), 8, 4, 2, 1 or -1 for variable
 * length. */
int16_t tl_type_len(uint8_t type);
/** Parse a SQL type name as libpg_query spells it after normalisation
 * ("int8", "int4", "int2", "text", "varchar", "bool", "float8", also
 * "bigint", "integer", "smallint", "boolean", "double precision",
 * "timestamptz", "timestamp with time zone", "timestamp", "timestamp
 * without time zone", "date", "bpchar", "character", "float4",
 * "real", "numeric", "decimal", "uuid", "bytea", "json", "jsonb").
 * TL_EUNSUPPORTED for any other name. */
int tl_type_from_name(const char *name, uint8_t *type);

/** Inclusive range of integer type @type. */
void tl_type_int_range(uint8_t type, int64_t *min, int64_t *max);

/** Append the PostgreSQL text output of @v (not NULL) to @out: integers
 * in decimal, booleans as t/f, float8 (real) as the shortest text that
 * reads back to the same double (float), fixed notation for decimal
 * exponents in [-4, 15) ([-4, 6) for real) as PostgreSQL 15 ("Infinity",
 * "-Infinity", "NaN"), text as is, dates and timestamps in PostgreSQL's ISO
 * style for the UTC zone (tl_datetime_format), a uuid as lowercase
 * 8-4-4-4-12 hex digits, a bytea in the hex format ("\x0a0b", PostgreSQL's
 * default bytea_output). */
void tl_value_to_text(const struct tl_value *v, struct tl_buf *out);

/** Parse text @s of @len bytes as a value of @type (with @typmod for
 * varchar, bpchar and numeric) as PostgreSQL's input functions do: surrounding
 * spaces allowed for numbers and booleans; booleans accept
 * t/f/true/false/yes/no/on/off/ 1/0 (any case, unambiguous prefixes). Text
 * results borrow @s; uuid and bytea results are written into @a (which
 * other types do not use: NULL is fine for them). A uuid
 * takes 32 hex digits in either case, optionally in braces, with a hyphen
 * allowed after any group of four digits (uuid_in); a bytea takes the hex
 * format "\x..." (pairs of digits, spaces allowed between pairs: 22023
 * "invalid hexadecimal digit: "g"", "invalid hexadecimal data: odd number
 * of digits") or the escape format (\\ and \ooo; 22P02 "invalid input
 * syntax for type bytea" for any other backslash). TL_ETYPE (22P02 invalid
 * input syntax for type X: "s"), TL_EOVERFLOW (22003 value "s" is out of range
 * for type X), TL_ETOOLONG (22001 value too long for type character varying(n),
 * or character(n)); excess characters that are all spaces are cut off. A bpchar
 * shorter than n is not padded here (the result borrows @s): tl_value_cast
 * pads. Dates and timestamps parse as tl_datetime_parse() says, with its errors
 * (22007 invalid input syntax, 22008 out of range, 22009). A numeric
 * parses as tl_numeric_from_text(), its text written into @a. A json or
 * jsonb parses as tl_json_in() (json.h): a json borrows @s, a jsonb's
 * normalised text is written into @a. */
int tl_value_from_text(uint8_t type, int32_t typmod, const char *s, size_t len,
                       struct tl_arena *a, struct tl_value *out,
                       struct tl_error *err);

/** Convert @in to @type/@typmod as an assignment or explicit cast would:
 * integer widths with range checks (22003 smallint/integer/bigint out of
 * range); integer <-> float8, where float8 -> integer rounds with rint()
 * (half to even, as PostgreSQL does) and NaN or infinities are out of
 * range; anything from and to text/unknown through text I/O, bool to text
 * giving "true"/"false" as PostgreSQL's cast does. A cast to
 * character(n) pads with spaces to n characters; a cast from bpchar to
 * text or varchar drops trailing spaces (PostgreSQL's rtrim). A NULL stays NULL
 * with the new type. Text results may point into @in's bytes or into @a.
 * TL_ETYPE (42846 cannot cast type X to Y) where no cast exists (bool and
 * numbers). float8 -> real rounds to nearest; beyond real's range is
 * 22003 "value out of range: overflow", a nonzero value that becomes 0
 * "value out of range: underflow". Within the date/time types: date to
 * timestamp(tz) is midnight (22008 date out of range for timestamp beyond
 * 294276 AD), timestamp(tz) to date drops the time, timestamp <-> timestamptz
 * keeps the instant (the session zone is UTC). No cast exists between date/time
 * types and numbers or bool (42846). numeric: from integers exactly, from
 * float8/real through 15/6 significant digits (tl_numeric_from_double),
 * to integers rounding half away from zero (22003 out of range, 0A000 for
 * NaN and the infinities), to float8/real through its text (float8in's errors),
 * to numeric with a typmod rounding to its scale (22003 numeric field
 * overflow). json and jsonb cast to each other through their text.
 * */
int tl_value_cast(const struct tl_value *in, uint8_t type, int32_t typmod,
                  struct tl_arena *a, struct tl_value *out,
                  struct tl_error *err);

/** tl_value_cast for an explicit cast (`x::char(3)`): to varchar(n) or
 * character(n), a longer value is cut to n characters instead of failing,
 * as PostgreSQL's explicit length coercion does. Errors as
 * tl_value_cast. */
int tl_value_cast_explicit(const struct tl_value *in, uint8_t type,
                           int32_t typmod, struct tl_arena *a,
                           struct tl_value *out, struct tl_error *err);

/** Round double @d to a real in *@out, as PostgreSQL's float4 checks do:
 * 22003 "value out of range: overflow" when the result is infinite and
 * @inf_is_overflow, "value out of range: underflow" when it is 0 and not
 * @zero_is_ok (pass whether the exact result was infinite / zero). */
int tl_value_float4_check(double d, bool inf_is_overflow, bool zero_is_ok,
                          struct tl_value *out, struct tl_error *err);

/** Whether values of @a and @b can be compared (same family: numeric,
 * text/unknown, bool, date/time; a uuid only with a uuid, a bytea only with
 * a bytea, a jsonb only with a jsonb; a json with nothing). */
bool tl_type_comparable(uint8_t a, uint8_t b);

/** Three-way comparison of two non-NULL comparable values: <0, 0, >0.
 * Integers compare exactly, int against float8 as doubles, numeric against
 * integers and numerics exactly (tl_numeric_cmp), numeric against a float
 * as doubles (PostgreSQL casts the numeric to float8), NaN sorts above
 * every other float (as in PostgreSQL), text bytewise then by length,
 * dates and timestamps by instant (a date as its midnight, UTC); a bpchar
 * side compares without its trailing spaces; uuid and bytea bytewise then by
 * length, as PostgreSQL's uuid_cmp and byteacmp; jsonb values 0 when equal
 * (tl_json_equal), else bytewise (an order PostgreSQL does not have). */
int tl_value_cmp(const struct tl_value *a, const struct tl_value *b);

/** A hash of @v folded into @h: values equal by tl_value_cmp() within
 * one type class hash alike (numeric by value, bpchar without its
 * padding, jsonb by value, intervals by span, -0 as 0, NULL as its own
 * value). Integers of different widths hash alike; an integer and a
 * numeric or float of the same value do not. Cannot fail. */
uint64_t tl_value_hash(uint64_t h, const struct tl_value *v);

/** Order for ORDER BY: like tl_value_cmp, but NULLs sort after every
 * value (ascending) unless @nulls_first. */
int tl_value_cmp_nulls(const struct tl_value *a, const struct tl_value *b,
                       bool nulls_first);

#endif
