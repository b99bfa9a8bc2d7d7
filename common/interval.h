/* interval — PostgreSQL's interval type and date/time arithmetic.
 *
 * An interval is PostgreSQL's own three fields (struct tl_interval in
 * value.h): months, days and microseconds, kept apart because a month and a
 * day have no fixed length when added to a timestamp. Two intervals compare
 * (and key, and hash) by their span with 30-day months and 24-hour days, as
 * PostgreSQL's interval_cmp does: '1 mon' = '30 days' = '720 hours'.
 *
 * Text input takes PostgreSQL 15's forms (DecodeInterval and
 * DecodeISO8601Interval): numbers with units ('1 day', '2 hours 30 min',
 * '1.5 months', '1d2h', units abbreviated as PostgreSQL does), 'hh:mm:ss[.f]'
 * times, signed parts ('-1 day +02:00'), 'y-m' year-month parts, '@' and
 * 'ago', and ISO 8601 ('P1Y2M3DT4H5M6S', 'P0001-02-03T04:05:06'). Output is
 * IntervalStyle postgres ('1 year 2 mons 3 days 04:05:06.789').
 *
 * A typmod is PostgreSQL's: (range mask << 16) | precision, range 0x7FFF
 * and precision 0xFFFF meaning "all fields" and "any precision" (-1 is
 * both).
 *
 * Timestamps here are int64 microseconds since 2000-01-01 and dates int32
 * days (datetime.h); the session zone is UTC, so timestamptz arithmetic is
 * timestamp arithmetic. Everything here is pure: no global state. */
#ifndef TL_INTERVAL_H
#define TL_INTERVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "tl_error.h"
#include "value.h"

/* Range bits of an interval typmod (PostgreSQL's INTERVAL_MASK). */
#define TL_INTERVAL_MONTH (1 << 1)
#define TL_INTERVAL_YEAR (1 << 2)
#define TL_INTERVAL_DAY (1 << 3)
#define TL_INTERVAL_HOUR (1 << 10)
#define TL_INTERVAL_MINUTE (1 << 11)
#define TL_INTERVAL_SECOND (1 << 12)
#define TL_INTERVAL_FULL_RANGE 0x7FFF
#define TL_INTERVAL_FULL_PRECISION 0xFFFF

/** Parse @s/@len as an interval under @typmod (-1: none) into *@out, as
 * PostgreSQL 15's interval_in. Errors: TL_ETYPE 22007 invalid input syntax
 * for type interval: "s"; TL_EOVERFLOW 22015 interval field value out of
 * range: "s", 22008 interval out of range. */
int tl_interval_parse(const char *s, size_t len, int32_t typmod,
                      struct tl_interval *out, struct tl_error *err);

/** Append @iv in IntervalStyle postgres ('-1 days +02:00:00', '00:00:00').
 * Cannot fail. */
void tl_interval_format(const struct tl_interval *iv, struct tl_buf *out);

/** Restrict @iv to @typmod's fields and precision (AdjustIntervalForTypmod):
 * 'interval year' keeps whole years, 'interval(0)' rounds to seconds.
 * TL_EOVERFLOW 22008 interval out of range. */
int tl_interval_apply_typmod(struct tl_interval *iv, int32_t typmod,
                             struct tl_error *err);

/** The typmod of range mask @range and @precision (-1: none) as
 * intervaltypmodin checks them: TL_EINVAL 22023 "invalid INTERVAL type
 * modifier", 22023 "INTERVAL(%d) precision must not be negative"; a
 * precision above 6 becomes 6. */
int tl_interval_typmod(int32_t range, int32_t precision, int32_t *typmod,
                       struct tl_error *err);

/** Append what format_type prints after "interval" for @typmod (" year to
 * month", "(3)", " second(2)"); nothing for -1. Cannot fail. */
void tl_interval_typmod_format(int32_t typmod, struct tl_buf *out);

/** Three-way comparison by span (interval_cmp). Cannot fail. */
int tl_interval_cmp(const struct tl_interval *a, const struct tl_interval *b);

/** @iv's span as whole days and a fraction of a day in [0, 86400000000):
 * equal intervals give equal pairs, and the pairs order as the intervals.
 * Cannot fail. */
void tl_interval_span(const struct tl_interval *iv, int64_t *days,
                      int64_t *usecs);

/** An interval equal to the span @days/@usecs (tl_interval_span), months
 * filled first: the inverse for key decoding. Cannot fail. */
struct tl_interval tl_interval_from_span(int64_t days, int64_t usecs);

/** interval + interval, - interval (fieldwise), unary minus, * and / by a
 * float8 (interval_mul / interval_div, fractions cascading down to days and
 * microseconds). TL_EOVERFLOW 22008 interval out of range; TL_EDIVZERO
 * 22012 division by zero. */
int tl_interval_add(const struct tl_interval *a, const struct tl_interval *b,
                    struct tl_interval *out, struct tl_error *err);
int tl_interval_sub(const struct tl_interval *a, const struct tl_interval *b,
                    struct tl_interval *out, struct tl_error *err);
int tl_interval_neg(const struct tl_interval *a, struct tl_interval *out,
                    struct tl_error *err);
int tl_interval_mul(const struct tl_interval *a, double f,
                    struct tl_interval *out, struct tl_error *err);
int tl_interval_div(const struct tl_interval *a, double f,
                    struct tl_interval *out, struct tl_error *err);

/** justify_hours, justify_days, justify_interval. TL_EOVERFLOW 22008
 * interval out of range. */
int tl_interval_justify_hours(const struct tl_interval *a,
                              struct tl_interval *out, struct tl_error *err);
int tl_interval_justify_days(const struct tl_interval *a,
                             struct tl_interval *out, struct tl_error *err);
int tl_interval_justify_interval(const struct tl_interval *a,
                                 struct tl_interval *out, struct tl_error *err);

/** Timestamp @ts plus @iv (timestamp_pl_interval): months first, the day of
 * month clamped to the new month's length, then days, then microseconds;
 * infinities stay. TL_EOVERFLOW 22008 timestamp out of range. */
int tl_timestamp_add_interval(int64_t ts, const struct tl_interval *iv,
                              int64_t *out, struct tl_error *err);

/** @a - @b of two timestamps (timestamp_mi): the difference in
 * microseconds, justified into days and hours. 22008 "cannot subtract
 * infinite timestamps", 22008 interval out of range. */
int tl_timestamp_diff(int64_t a, int64_t b, struct tl_interval *out,
                      struct tl_error *err);

/** age(@a, @b) (timestamp_age): the symbolic difference in years, months,
 * days and time. 22008 timestamp out of range for an infinity. */
int tl_timestamp_age(int64_t a, int64_t b, struct tl_interval *out,
                     struct tl_error *err);

#endif
