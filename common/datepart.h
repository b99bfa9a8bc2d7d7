/* datepart — PostgreSQL 15's EXTRACT(field FROM x), date_part(field, x)
 * and date_trunc(field, x) over date, timestamp, timestamptz and interval
 * (timestamp.c's timestamp_part_common, interval_part_common,
 * timestamp_trunc; date.c's extract_date).
 *
 * Fields are PostgreSQL's unit names and abbreviations, case-insensitive
 * ("microseconds", "ms", "second", "min", "hour", "day", "week", "month",
 * "quarter", "year", "decade", "century", "millennium", "epoch", "dow",
 * "isodow", "doy", "isoyear", "julian", "timezone", ...). The session
 * time zone is UTC (datetime.h), so timestamptz fields are UTC's and its
 * timezone fields are 0. EXTRACT answers numeric (exact: seconds with 6
 * decimals, milliseconds with 3, epoch with 6), date_part double
 * precision. Errors as PostgreSQL's: 22023 'unit "x" not recognized for
 * type T', 0A000 'unit "x" not supported for type T'. Pure functions. */
#ifndef TL_DATEPART_H
#define TL_DATEPART_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "tl_error.h"
#include "value.h"

/** EXTRACT (@numeric) or date_part of field @field/@len from @v (a date,
 * timestamp, timestamptz or interval) into *@out (numeric text in @a, or
 * a float8; NULL for a field an infinite value has none of). */
int tl_date_part(const char *field, size_t len, const struct tl_value *v,
                 bool numeric, struct tl_arena *a, struct tl_value *out,
                 struct tl_error *err);

/** date_trunc(@field, @v): @v (timestamp or timestamptz; a date is taken
 * as its midnight; an interval) truncated to the field, of type @type
 * (@v's, a timestamptz for a date) into *@out. */
int tl_date_trunc(const char *field, size_t len, const struct tl_value *v,
                  uint8_t type, struct tl_value *out, struct tl_error *err);

#endif
