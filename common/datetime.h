/* datetime — PostgreSQL's date, timestamp and timestamptz.
 *
 * The representations are PostgreSQL's own, so values can be compared with
 * what PostgreSQL stores: a timestamp (with or without time zone) is int64
 * microseconds since 2000-01-01 00:00:00 (UTC for timestamptz), a date is
 * int32 days since 2000-01-01 (held in an int64 by struct tl_value).
 * INT64_MIN / INT64_MAX are -infinity / infinity for timestamps and
 * INT32_MIN / INT32_MAX for dates (PostgreSQL's DT_NOBEGIN / DT_NOEND and
 * DATEVAL_NOBEGIN / DATEVAL_NOEND), so infinities order below and above
 * every finite value with plain integer comparison.
 *
 * The session time zone is always UTC (the router reports TimeZone=UTC):
 * timestamptz input without a zone is UTC, and output always ends in "+00".
 * Years before 1 AD cannot be entered but are printed with " BC" as
 * PostgreSQL does. Everything here is pure: no global state, no clock. */
#ifndef TL_DATETIME_H
#define TL_DATETIME_H

#include <stdint.h>

#include "buf.h"
#include "tl_error.h"
#include "value.h"

#define TL_TS_NOBEGIN INT64_MIN
#define TL_TS_NOEND INT64_MAX
#define TL_DATE_NOBEGIN INT32_MIN
#define TL_DATE_NOEND INT32_MAX
#define TL_USECS_PER_DAY INT64_C(86400000000)

/** Parse text @s of @len bytes as @type (TL_TYPE_TIMESTAMPTZ, _TIMESTAMP or
 * _DATE) into *@out as PostgreSQL 15's input functions do for ISO 8601
 * forms: 'YYYY-MM-DD', then optionally ' ' or 'T' and 'HH:MM[:SS[.f]]'
 * (hour 24:00:00 and second 60 roll over, fractions round to
 * microseconds), then optionally a zone: 'Z', 'UTC', 'GMT', '+H', '+HH',
 * '+HHMM', '+HH:MM[:SS]' or '-...'; also 'infinity', '-infinity' and
 * 'epoch', any case, surrounding spaces allowed. timestamp ignores a given
 * zone and date ignores the time, as PostgreSQL does. Errors (PostgreSQL's
 * messages, X being the type's name as PostgreSQL spells it there):
 * TL_ETYPE 22007 invalid input syntax for type X: "s";
 * TL_EOVERFLOW 22008 date/time field value out of range: "s",
 * 22008 timestamp out of range: "s", 22008 date out of range: "s",
 * 22009 time zone displacement out of range: "s". Named zones other than
 * UTC/GMT/Z and non-ISO orders (MDY, month names) are invalid syntax. */
int tl_datetime_parse(uint8_t type, const char *s, size_t len, int64_t *out,
                      struct tl_error *err);

/** Append PostgreSQL's ISO output of @v of @type: 'YYYY-MM-DD' for dates,
 * 'YYYY-MM-DD HH:MM:SS[.ffffff]' for timestamps (trailing zero fraction
 * digits trimmed) and the same plus '+00' for timestamptz; 'infinity' /
 * '-infinity'. Cannot fail. */
void tl_datetime_format(uint8_t type, int64_t v, struct tl_buf *out);

/** Convert @v of @from to @to (both date/time types): date to timestamp
 * or timestamptz is midnight (UTC), timestamp(tz) to date truncates toward
 * -infinity, timestamp <-> timestamptz keeps the value (the zone is UTC);
 * infinities stay infinities. TL_EOVERFLOW (22008 date out of range for
 * timestamp) when a date lies beyond the timestamp range. */
int tl_datetime_convert(uint8_t from, int64_t v, uint8_t to, int64_t *out,
                        struct tl_error *err);

/** Three-way comparison of @a of type @ta with @b of type @tb (date/time
 * types): a date compares as its midnight timestamp, and a date too large
 * for a timestamp still compares above every finite timestamp and below
 * infinity (as PostgreSQL 15 does). Cannot fail. */
int tl_datetime_cmp(uint8_t ta, int64_t a, uint8_t tb, int64_t b);

/** Days in @month (1..12) of proleptic Gregorian @year. Cannot fail. */
int tl_days_in_month(int64_t year, int month);

/** @a / @b rounded toward negative infinity (@b != 0). Cannot fail. */
int64_t tl_floor_div(int64_t a, int64_t b);

/** Days since 2000-01-01 of proleptic Gregorian @year-@month-@day (year 0
 * is 1 BC). Cannot fail for any month 1..12 and day 1..31. */
int64_t tl_date_from_ymd(int64_t year, int month, int day);

/** Inverse of tl_date_from_ymd, for any @days within +-2^50 (every date
 * and every timestamp's day). Cannot fail. */
void tl_date_to_ymd(int64_t days, int64_t *year, int *month, int *day);

#endif
