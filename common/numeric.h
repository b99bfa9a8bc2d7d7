/* numeric — PostgreSQL's exact decimal type, `numeric(p,s)`.
 *
 * A numeric struct tl_value (TL_TYPE_NUMERIC) holds its canonical text in
 * u.s, borrowed like a text value's bytes (from a row buffer, a key, an
 * arena): "NaN", "Infinity", "-Infinity", or an optional '-', the
 * integer digits (no leading zeros,
 * "0" when there are none), and when the display scale is positive a '.'
 * and exactly that many fraction digits. Zero has no sign. The text is what
 * numeric_out() prints, so output is a copy and the row codec stores the
 * bytes; every operation parses its operands, computes exactly on decimal
 * digits and writes the canonical text of the result into an arena.
 *
 * Scales follow PostgreSQL 15: + and - keep the larger display scale, *
 * adds them, / picks select_div_scale() (at least 16 significant digits),
 * % keeps the larger; results round half away from zero. Equality ignores
 * the display scale (1.0 = 1.00); -Infinity sorts below every number,
 * Infinity above, and NaN, equal to itself, above everything.
 *
 * typmod is PostgreSQL's: ((precision << 16) | (scale & 0x7ff)) + 4, -1
 * for an unconstrained numeric. */
#ifndef TL_NUMERIC_H
#define TL_NUMERIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "tl_error.h"
#include "value.h"

#define TL_NUMERIC_MAX_PRECISION 1000
#define TL_NUMERIC_MIN_SCALE (-1000)
#define TL_NUMERIC_MAX_SCALE 1000

/** The typmod of numeric(@precision, @scale) into *@typmod, checked as
 * PostgreSQL's numerictypmodin: 22023 "NUMERIC precision %d must be
 * between 1 and 1000", "NUMERIC scale %d must be between -1000 and 1000"
 * (TL_EINVAL). */
int tl_numeric_typmod(int32_t precision, int32_t scale, int32_t *typmod,
                      struct tl_error *err);

/** Precision and scale of @typmod (not -1). Cannot fail. */
void tl_numeric_typmod_split(int32_t typmod, int32_t *precision,
                             int32_t *scale);

/** Parse @s (@len bytes) as numeric_in() does — surrounding whitespace, a
 * sign, digits with at most one '.', an exponent, or "NaN"
 * or "Infinity", "inf" with an optional sign, in any case — then apply
 * @typmod (tl_numeric_apply_typmod). The result's text is in @a. TL_ETYPE
 * 22P02 `invalid input syntax for type numeric: "s"`; TL_EOVERFLOW 22003 as
 * tl_numeric_apply_typmod, or "value overflows numeric format" past
 * 131072 integer digits or 16383 fraction digits. */
int tl_numeric_from_text(const char *s, size_t len, int32_t typmod,
                         struct tl_arena *a, struct tl_value *out,
                         struct tl_error *err);

/** Round numeric @in (not NULL) to the scale of @typmod (half away from
 * zero) and check its precision, into *@out (text in @a, or @in's when
 * nothing changes). -1 passes @in through. NaN passes any typmod.
 * TL_EOVERFLOW 22003 "numeric field overflow" with DETAIL "A field with
 * precision P, scale S must round to an absolute value less than 10^D."
 * (or "than 1." when D is 0); an infinity with a typmod is the same
 * error with DETAIL "A field with precision P, scale S cannot hold an
 * infinite value." */
int tl_numeric_apply_typmod(const struct tl_value *in, int32_t typmod,
                            struct tl_arena *a, struct tl_value *out,
                            struct tl_error *err);

/** @i as a numeric (scale 0), text in @a. Cannot fail. */
struct tl_value tl_numeric_from_int(int64_t i, struct tl_arena *a);

/** @v (numeric, not NULL) rounded half away from zero to an integer of
 * integer type @type into *@out. 22003 "smallint out of range" (integer,
 * bigint), TL_EOVERFLOW; 0A000 "cannot convert NaN to smallint" (...) or
 * "cannot convert infinity to smallint" (...), TL_EUNSUPPORTED. */
int tl_numeric_to_int(const struct tl_value *v, uint8_t type, int64_t *out,
                      struct tl_error *err);

/** @d as a numeric, as float8_numeric / float4_numeric: the value printed
 * with 15 (@is_float4: 6) significant digits. NaN and the infinities map
 * to themselves. Text in @a. */
int tl_numeric_from_double(double d, bool is_float4, struct tl_arena *a,
                           struct tl_value *out, struct tl_error *err);

/** Arithmetic on non-NULL numerics @x and @y into *@out (text in @a). Any
 * NaN operand gives NaN; infinities follow PostgreSQL 15 (inf - inf,
 * inf * 0, inf / inf, inf % y are NaN, x / inf is 0, x % inf is x).
 * Division and modulo by zero (an infinity's too) are TL_EDIVZERO 22012
 * "division by zero"; results past 131072 integer digits TL_EOVERFLOW 22003
 * "value overflows numeric format". */
int tl_numeric_add(const struct tl_value *x, const struct tl_value *y,
                   struct tl_arena *a, struct tl_value *out,
                   struct tl_error *err);
int tl_numeric_sub(const struct tl_value *x, const struct tl_value *y,
                   struct tl_arena *a, struct tl_value *out,
                   struct tl_error *err);
int tl_numeric_mul(const struct tl_value *x, const struct tl_value *y,
                   struct tl_arena *a, struct tl_value *out,
                   struct tl_error *err);
int tl_numeric_div(const struct tl_value *x, const struct tl_value *y,
                   struct tl_arena *a, struct tl_value *out,
                   struct tl_error *err);
int tl_numeric_mod(const struct tl_value *x, const struct tl_value *y,
                   struct tl_arena *a, struct tl_value *out,
                   struct tl_error *err);

/** -@x (same scale; -0 is 0), text in @a. Cannot fail. */
struct tl_value tl_numeric_neg(const struct tl_value *x, struct tl_arena *a);

/* How tl_numeric_round() treats the digits it drops. */
enum tl_numeric_rounding {
    TL_NUMERIC_ROUND_HALF_UP, /* half away from zero: round() */
    TL_NUMERIC_TRUNC,         /* toward zero: trunc() */
    TL_NUMERIC_FLOOR,         /* toward -Infinity: floor() */
    TL_NUMERIC_CEIL,          /* toward +Infinity: ceil() */
};

/** Non-NULL numeric @x to @scale fraction digits (negative: to tens,
 * hundreds...) as @mode says, into *@out (text in @a): PostgreSQL's
 * round(numeric, int), trunc(numeric, int), and with @scale 0 floor()
 * and ceil(). The display scale becomes max(@scale, 0), so round(1.5, 3)
 * is 1.500; @scale is clamped to +-2000 first, as PostgreSQL does. NaN and
 * the infinities pass through. TL_EOVERFLOW 22003 "value overflows numeric
 * format" when the result has too many digits. */
int tl_numeric_round(const struct tl_value *x, int32_t scale,
                     enum tl_numeric_rounding mode, struct tl_arena *a,
                     struct tl_value *out, struct tl_error *err);

/** sign(@x) of non-NULL numeric @x: -1, 0 or 1 (an infinity's sign), NaN
 * for NaN. Cannot fail. */
struct tl_value tl_numeric_sign(const struct tl_value *x);

/** div(@x, @y): the quotient truncated to an integer (scale 0), text in
 * @a. NaN in, NaN out; an infinite @x gives a signed infinity (NaN over an
 * infinite @y), a finite @x over an infinity 0. TL_EDIVZERO 22012
 * "division by zero". */
int tl_numeric_div_trunc(const struct tl_value *x, const struct tl_value *y,
                         struct tl_arena *a, struct tl_value *out,
                         struct tl_error *err);

/** gcd(@x, @y) and lcm(@x, @y) of non-NULL numerics, as PostgreSQL 15:
 * never negative, display scale the larger of the two; NaN when either is
 * NaN or an infinity; lcm with a zero is 0. TL_EOVERFLOW 22003 "value
 * overflows numeric format". */
int tl_numeric_gcd(const struct tl_value *x, const struct tl_value *y,
                   struct tl_arena *a, struct tl_value *out,
                   struct tl_error *err);
int tl_numeric_lcm(const struct tl_value *x, const struct tl_value *y,
                   struct tl_arena *a, struct tl_value *out,
                   struct tl_error *err);

/** sqrt(@x) of a non-NULL numeric, rounded half away from zero to
 * PostgreSQL's scale: at least 16 significant digits and at least @x's
 * display scale, at most 1000. NaN and Infinity pass through. TL_EINVAL
 * 2201F "cannot take square root of a negative number". */
int tl_numeric_sqrt(const struct tl_value *x, struct tl_arena *a,
                    struct tl_value *out, struct tl_error *err);

/** Three-way comparison of non-NULL numerics by value: 1.0 equals 1.00,
 * -Infinity < numbers < Infinity < NaN, each special equal to itself.
 * Cannot fail. */
int tl_numeric_cmp(const struct tl_value *x, const struct tl_value *y);

/** Three-way comparison of non-NULL numeric @x with integer @i, as
 * tl_numeric_cmp of @x and @i as a numeric. Cannot fail. */
int tl_numeric_cmp_int(const struct tl_value *x, int64_t i);

/** Append the memcomparable encoding of non-NULL numeric @v (without the
 * keycodec's NULL tag): equal values (whatever their scale) encode alike
 * and memcmp orders encodings as the values: a class byte (0x01
 * -Infinity, 0x02 negative, 0x03 zero, 0x04 positive, 0x05 Infinity, 0x06
 * NaN), then for a nonzero finite value the decimal exponent
 * of its first digit (4 bytes, big-endian, sign bit flipped) and its
 * significant digits as bytes 1..10 ended by 0x00, every byte after the
 * class complemented for negatives. Cannot fail. */
void tl_numeric_key_encode(const struct tl_value *v, struct tl_buf *out);

/** Decode one tl_numeric_key_encode encoding at [*p, end), advancing *p:
 * the value at its smallest display scale (1.50 comes back 1.5), text in
 * @a. TL_ECORRUPT on malformed input. */
int tl_numeric_key_decode(const uint8_t **p, const uint8_t *end,
                          struct tl_arena *a, struct tl_value *out);

/** Whether @p (@len bytes) is canonical numeric text (see above), as a
 * decoded row must hold. Cannot fail. */
bool tl_numeric_is_canonical(const char *p, size_t len);

/** Append @v (not NULL) in PostgreSQL's binary format (numeric_send):
 * int16 ndigits, int16 weight, uint16 sign (0, 0x4000 negative, 0xC000
 * NaN, 0xD000 Infinity, 0xF000 -Infinity), int16 dscale, then ndigits
 * base-10000 int16 digits. Cannot fail. */
void tl_numeric_to_binary(const struct tl_value *v, struct tl_buf *out);

/** Decode numeric_send's format (@len bytes at @p) as numeric_recv does,
 * then apply @typmod, into *@out (text in @a). TL_EPROTO 22P03 "invalid
 * length in external \"numeric\" value", "invalid sign in external
 * \"numeric\" value", "invalid digit in external \"numeric\" value";
 * errors of tl_numeric_apply_typmod. */
int tl_numeric_from_binary(const uint8_t *p, size_t len, int32_t typmod,
                           struct tl_arena *a, struct tl_value *out,
                           struct tl_error *err);

#endif
