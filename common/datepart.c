/* datepart — see datepart.h. */
#include "datepart.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/base/sqlstate.h"
#include "datetime.h"
#include "numeric.h"

enum unit {
    U_NONE,
    U_MICROSEC,
    U_MILLISEC,
    U_SECOND,
    U_MINUTE,
    U_HOUR,
    U_DAY,
    U_WEEK,
    U_MONTH,
    U_QUARTER,
    U_YEAR,
    U_DECADE,
    U_CENTURY,
    U_MILLENNIUM,
    U_EPOCH,
    U_DOW,
    U_ISODOW,
    U_DOY,
    U_ISOYEAR,
    U_JULIAN,
    U_TZ,
    U_TZ_HOUR,
    U_TZ_MINUTE,
};

/* PostgreSQL's deltatktbl and datetktbl spellings of the units. */
static const struct {
    const char *name;
    enum unit u;
} units[] = {
    {"microseconds", U_MICROSEC},
    {"microsecond", U_MICROSEC},
    {"microsecon", U_MICROSEC},
    {"us", U_MICROSEC},
    {"usec", U_MICROSEC},
    {"usecs", U_MICROSEC},
    {"useconds", U_MICROSEC},
    {"milliseconds", U_MILLISEC},
    {"millisecond", U_MILLISEC},
    {"millisecon", U_MILLISEC},
    {"ms", U_MILLISEC},
    {"msec", U_MILLISEC},
    {"msecs", U_MILLISEC},
    {"mseconds", U_MILLISEC},
    {"second", U_SECOND},
    {"seconds", U_SECOND},
    {"sec", U_SECOND},
    {"secs", U_SECOND},
    {"s", U_SECOND},
    {"minute", U_MINUTE},
    {"minutes", U_MINUTE},
    {"min", U_MINUTE},
    {"mins", U_MINUTE},
    {"m", U_MINUTE},
    {"hour", U_HOUR},
    {"hours", U_HOUR},
    {"h", U_HOUR},
    {"hr", U_HOUR},
    {"hrs", U_HOUR},
    {"day", U_DAY},
    {"days", U_DAY},
    {"d", U_DAY},
    {"week", U_WEEK},
    {"weeks", U_WEEK},
    {"w", U_WEEK},
    {"month", U_MONTH},
    {"months", U_MONTH},
    {"mon", U_MONTH},
    {"mons", U_MONTH},
    {"quarter", U_QUARTER},
    {"qtr", U_QUARTER},
    {"year", U_YEAR},
    {"years", U_YEAR},
    {"y", U_YEAR},
    {"yr", U_YEAR},
    {"yrs", U_YEAR},
    {"decade", U_DECADE},
    {"decades", U_DECADE},
    {"dec", U_DECADE},
    {"decs", U_DECADE},
    {"century", U_CENTURY},
    {"centuries", U_CENTURY},
    {"c", U_CENTURY},
    {"cent", U_CENTURY},
    {"millennium", U_MILLENNIUM},
    {"millennia", U_MILLENNIUM},
    {"mil", U_MILLENNIUM},
    {"mils", U_MILLENNIUM},
    {"epoch", U_EPOCH},
    {"dow", U_DOW},
    {"isodow", U_ISODOW},
    {"doy", U_DOY},
    {"isoyear", U_ISOYEAR},
    {"julian", U_JULIAN},
    {"j", U_JULIAN},
    {"timezone", U_TZ},
    {"timezone_h", U_TZ_HOUR},
    {"timezone_hour", U_TZ_HOUR},
    {"timezone_m", U_TZ_MINUTE},
    {"timezone_minute", U_TZ_MINUTE},
};

#define USECS_PER_SEC INT64_C(1000000)
#define USECS_PER_DAY INT64_C(86400000000)
#define J2000 INT64_C(2451545)        /* date2j(2000, 1, 1) */
#define EPOCH_SECS INT64_C(946684800) /* 2000-01-01 - 1970-01-01 */
#define EPOCH_DAYS INT64_C(10957)

/* The unit @field names (lowercased into @low, at most 63 bytes). */
static enum unit
find_unit(const char *field, size_t len, char low[64])
{
    size_t n = len < 63 ? len : 63;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)field[i]);
    low[n] = '\0';
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(units[i].name, low) == 0)
            return units[i].u;
    return U_NONE;
}

static const char *
type_label(uint8_t t)
{
    switch (t) {
    case TL_TYPE_DATE:
        return "date";
    case TL_TYPE_TIMESTAMPTZ:
        return "timestamp with time zone";
    case TL_TYPE_INTERVAL:
        return "interval";
    default:
        return "timestamp without time zone";
    }
}

static int
not_recognized(const char *low, uint8_t t, struct tl_error *err)
{
    return tl_error_set(err, TL_EINVAL, TL_SQLSTATE_INVALID_PARAMETER_VALUE,
                        "unit \"%s\" not recognized for type %s", low,
                        type_label(t));
}

static int
not_supported(const char *low, uint8_t t, struct tl_error *err)
{
    return tl_error_set(err, TL_EUNSUPPORTED, TL_SQLSTATE_FEATURE_NOT_SUPPORTED,
                        "unit \"%s\" not supported for type %s", low,
                        type_label(t));
}

/* ---------------------------------------------------- calendar helpers */

/* Julian day number of days since 2000-01-01. */
static int64_t
julian(int64_t days)
{
    return days + J2000;
}

/* 0 = Sunday (PostgreSQL's j2day). */
static int
j2day(int64_t j)
{
    int64_t d = (j + 1) % 7;
    return (int)(d < 0 ? d + 7 : d);
}

static int64_t
date2j(int64_t y, int m, int d)
{
    return julian(tl_date_from_ymd(y, m, d));
}

/* ISO 8601 week number of @y-@m-@d (date2isoweek). */
static int
isoweek(int64_t y, int m, int d)
{
    int64_t dayn = date2j(y, m, d);
    int64_t day4 = date2j(y, 1, 4);
    int64_t day0 = j2day(day4 - 1);
    if (dayn < day4 - day0) {
        day4 = date2j(y - 1, 1, 4);
        day0 = j2day(day4 - 1);
    }
    int64_t r = (dayn - (day4 - day0)) / 7 + 1;
    if (r >= 52) {
        day4 = date2j(y + 1, 1, 4);
        day0 = j2day(day4 - 1);
        if (dayn >= day4 - day0)
            r = (dayn - (day4 - day0)) / 7 + 1;
    }
    return (int)r;
}

/* ISO 8601 year of @y-@m-@d (date2isoyear). */
static int64_t
isoyear(int64_t y, int m, int d)
{
    int64_t dayn = date2j(y, m, d);
    int64_t day4 = date2j(y, 1, 4);
    int64_t day0 = j2day(day4 - 1);
    if (dayn < day4 - day0) {
        day4 = date2j(y - 1, 1, 4);
        day0 = j2day(day4 - 1);
        y--;
    }
    int64_t r = (dayn - (day4 - day0)) / 7 + 1;
    if (r >= 52) {
        day4 = date2j(y + 1, 1, 4);
        day0 = j2day(day4 - 1);
        if (dayn >= day4 - day0)
            y++;
    }
    return y;
}

/* A broken-down timestamp (PostgreSQL's struct pg_tm and fsec). */
struct tm_parts {
    int64_t year; /* astronomical: 0 is 1 BC */
    int mon, mday, hour, min, sec;
    int64_t fsec; /* microseconds */
    int64_t days; /* since 2000-01-01 */
};

static void
split_ts(int64_t ts, struct tm_parts *p)
{
    int64_t days = tl_floor_div(ts, USECS_PER_DAY);
    int64_t t = ts - days * USECS_PER_DAY;
    p->days = days;
    tl_date_to_ymd(days, &p->year, &p->mon, &p->mday);
    p->hour = (int)(t / (3600 * USECS_PER_SEC));
    t -= p->hour * 3600 * USECS_PER_SEC;
    p->min = (int)(t / (60 * USECS_PER_SEC));
    t -= p->min * 60 * USECS_PER_SEC;
    p->sec = (int)(t / USECS_PER_SEC);
    p->fsec = t - p->sec * USECS_PER_SEC;
}

/* ------------------------------------------------------------ results */

/* @v / 10^@scale as numeric text (int64_div_fast_to_numeric), or as a
 * double. */
static struct tl_value
scaled(int64_t v, int scale, bool numeric, struct tl_arena *a)
{
    if (!numeric) {
        double d = (double)v;
        for (int i = 0; i < scale; i++)
            d /= 10.0;
        return tl_value_float(d);
    }
    char buf[48];
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t p = 1;
    for (int i = 0; i < scale; i++)
        p *= 10;
    int n;
    if (scale == 0)
        n = snprintf(buf, sizeof buf, "%s%llu", v < 0 ? "-" : "",
                     (unsigned long long)m);
    else
        n = snprintf(buf, sizeof buf, "%s%llu.%0*llu", v < 0 ? "-" : "",
                     (unsigned long long)(m / p), scale,
                     (unsigned long long)(m % p));
    return tl_value_text_dup(a, TL_TYPE_NUMERIC, buf, (size_t)n);
}

static struct tl_value
int_result(int64_t v, bool numeric, struct tl_arena *a)
{
    return scaled(v, 0, numeric, a);
}

/* An infinite timestamp or date: +-Infinity for the fields that grow
 * without bound, NULL for the others (NonFiniteTimestampTzPart). */
static int
infinite_part(enum unit u, bool negative, bool numeric, uint8_t type,
              struct tl_arena *a, struct tl_value *out)
{
    switch (u) {
    case U_YEAR:
    case U_DECADE:
    case U_CENTURY:
    case U_MILLENNIUM:
    case U_JULIAN:
    case U_ISOYEAR:
    case U_EPOCH:
        if (numeric)
            *out = tl_value_text_dup(a, TL_TYPE_NUMERIC,
                                     negative ? "-Infinity" : "Infinity",
                                     negative ? 9 : 8);
        else
            *out = tl_value_float(negative ? -INFINITY : INFINITY);
        return 0;
    default:
        *out = tl_value_null(numeric ? TL_TYPE_NUMERIC : TL_TYPE_FLOAT8);
        (void)type;
        return 0;
    }
}

static int64_t
year_out(int64_t y)
{
    return y > 0 ? y : y - 1; /* 1 BC is -1 */
}

static int64_t
decade(int64_t y)
{
    return y >= 0 ? y / 10 : -((8 - (y - 1)) / 10);
}

static int64_t
century(int64_t y)
{
    return y > 0 ? (y + 99) / 100 : -((99 - (y - 1)) / 100);
}

static int64_t
millennium(int64_t y)
{
    return y > 0 ? (y + 999) / 1000 : -((999 - (y - 1)) / 1000);
}

/* The fields a date and a timestamp share (calendar ones). 1 when @u is
 * not one of them. */
static int
calendar_part(enum unit u, const struct tm_parts *p, bool numeric,
              struct tl_arena *a, struct tl_value *out)
{
    int64_t j = julian(p->days);
    switch (u) {
    case U_DAY:
        *out = int_result(p->mday, numeric, a);
        return 0;
    case U_MONTH:
        *out = int_result(p->mon, numeric, a);
        return 0;
    case U_QUARTER:
        *out = int_result((p->mon - 1) / 3 + 1, numeric, a);
        return 0;
    case U_WEEK:
        *out = int_result(isoweek(p->year, p->mon, p->mday), numeric, a);
        return 0;
    case U_YEAR:
        *out = int_result(year_out(p->year), numeric, a);
        return 0;
    case U_DECADE:
        *out = int_result(decade(p->year), numeric, a);
        return 0;
    case U_CENTURY:
        *out = int_result(century(p->year), numeric, a);
        return 0;
    case U_MILLENNIUM:
        *out = int_result(millennium(p->year), numeric, a);
        return 0;
    case U_ISOYEAR: {
        int64_t y = isoyear(p->year, p->mon, p->mday);
        *out = int_result(y <= 0 ? y - 1 : y, numeric, a);
        return 0;
    }
    case U_DOW:
        *out = int_result(j2day(j), numeric, a);
        return 0;
    case U_ISODOW: {
        int d = j2day(j);
        *out = int_result(d == 0 ? 7 : d, numeric, a);
        return 0;
    }
    case U_DOY:
        *out = int_result(j - date2j(p->year, 1, 1) + 1, numeric, a);
        return 0;
    default:
        return 1;
    }
}

/* The time-of-day fields a timestamp and an interval share, from @hour,
 * @min and @sec_us (seconds in microseconds). 1 when @u is not one. */
static int
clock_part(enum unit u, int64_t hour, int64_t min, int64_t sec_us, bool numeric,
           struct tl_arena *a, struct tl_value *out)
{
    switch (u) {
    case U_MICROSEC:
        *out = int_result(sec_us, numeric, a);
        return 0;
    case U_MILLISEC:
        *out = scaled(sec_us, 3, numeric, a);
        return 0;
    case U_SECOND:
        *out = scaled(sec_us, 6, numeric, a);
        return 0;
    case U_MINUTE:
        *out = int_result(min, numeric, a);
        return 0;
    case U_HOUR:
        *out = int_result(hour, numeric, a);
        return 0;
    default:
        return 1;
    }
}

static int
timestamp_part(enum unit u, const char *low, uint8_t type, int64_t ts,
               bool numeric, struct tl_arena *a, struct tl_value *out,
               struct tl_error *err)
{
    struct tm_parts p;

    if (u == U_NONE)
        return not_recognized(low, type, err);
    if (ts == INT64_MIN || ts == INT64_MAX)
        return infinite_part(u, ts == INT64_MIN, numeric, type, a, out);
    split_ts(ts, &p);
    if (calendar_part(u, &p, numeric, a, out) == 0)
        return 0;
    if (clock_part(u, p.hour, p.min, p.sec * USECS_PER_SEC + p.fsec, numeric, a,
                   out) == 0)
        return 0;
    switch (u) {
    case U_EPOCH:
        if (numeric)
            *out = scaled(ts + EPOCH_SECS * USECS_PER_SEC, 6, true, a);
        else
            *out = tl_value_float((double)ts / 1000000.0 + (double)EPOCH_SECS);
        return 0;
    case U_JULIAN:
        if (numeric) {
            /* date2j + time of day in microseconds / one day's, with
             * numeric division's scale (PostgreSQL's timestamp_part). */
            int64_t us =
                ((p.hour * 60 + p.min) * 60 + p.sec) * USECS_PER_SEC + p.fsec;
            struct tl_value d = tl_numeric_from_int(julian(p.days), a);
            struct tl_value n = tl_numeric_from_int(us, a);
            struct tl_value day = tl_numeric_from_int(USECS_PER_DAY, a);
            struct tl_value frac;
            int rv = tl_numeric_div(&n, &day, a, &frac, err);
            if (rv == 0)
                rv = tl_numeric_add(&d, &frac, a, out, err);
            return rv;
        }
        *out = tl_value_float(
            (double)julian(p.days) +
            ((((p.hour * 60.0) + p.min) * 60.0) + p.sec + p.fsec / 1000000.0) /
                86400.0);
        return 0;
    case U_TZ:
    case U_TZ_HOUR:
    case U_TZ_MINUTE:
        if (type != TL_TYPE_TIMESTAMPTZ)
            return not_supported(low, type, err);
        *out = int_result(0, numeric, a); /* the session's zone is UTC */
        return 0;
    default:
        return not_supported(low, type, err);
    }
}

static int
date_part_of_date(enum unit u, const char *low, int64_t days, bool numeric,
                  struct tl_arena *a, struct tl_value *out,
                  struct tl_error *err)
{
    struct tm_parts p = {0};

    if (u == U_NONE)
        return not_recognized(low, TL_TYPE_DATE, err);
    if (days == INT32_MIN || days == INT32_MAX) {
        if (u == U_MICROSEC || u == U_MILLISEC || u == U_SECOND ||
            u == U_MINUTE || u == U_HOUR || u == U_TZ || u == U_TZ_HOUR ||
            u == U_TZ_MINUTE)
            return not_supported(low, TL_TYPE_DATE, err);
        return infinite_part(u, days == INT32_MIN, numeric, TL_TYPE_DATE, a,
                             out);
    }
    p.days = days;
    tl_date_to_ymd(days, &p.year, &p.mon, &p.mday);
    if (calendar_part(u, &p, numeric, a, out) == 0)
        return 0;
    switch (u) {
    case U_JULIAN:
        *out = int_result(julian(days), numeric, a);
        return 0;
    case U_EPOCH:
        *out = int_result((days + EPOCH_DAYS) * 86400, numeric, a);
        return 0;
    default:
        return not_supported(low, TL_TYPE_DATE, err);
    }
}

static int
interval_part(enum unit u, const char *low, const struct tl_interval *iv,
              bool numeric, struct tl_arena *a, struct tl_value *out,
              struct tl_error *err)
{
    int64_t t = iv->time;
    int64_t hour = t / (3600 * USECS_PER_SEC);
    t -= hour * 3600 * USECS_PER_SEC;
    int64_t min = t / (60 * USECS_PER_SEC);
    t -= min * 60 * USECS_PER_SEC; /* seconds and microseconds */
    int64_t years = iv->month / 12;
    int mon = iv->month % 12;

    if (u == U_NONE)
        return not_recognized(low, TL_TYPE_INTERVAL, err);
    if (clock_part(u, hour, min, t, numeric, a, out) == 0)
        return 0;
    switch (u) {
    case U_DAY:
        *out = int_result(iv->day, numeric, a);
        return 0;
    case U_MONTH:
        *out = int_result(mon, numeric, a);
        return 0;
    case U_QUARTER:
        *out = int_result(mon / 3 + 1, numeric, a);
        return 0;
    case U_YEAR:
        *out = int_result(years, numeric, a);
        return 0;
    case U_DECADE:
        *out = int_result(years / 10, numeric, a);
        return 0;
    case U_CENTURY:
        *out = int_result(years / 100, numeric, a);
        return 0;
    case U_MILLENNIUM:
        *out = int_result(years / 1000, numeric, a);
        return 0;
    case U_EPOCH:
        /* 365.25 days a year, 30 a month, as PostgreSQL counts (in
         * quarter days, to stay in integers). */
        if (numeric) {
            int64_t secs =
                (1461 * years + 120 * (int64_t)mon + 4 * (int64_t)iv->day) *
                (86400 / 4);
            *out = scaled(iv->time + secs * USECS_PER_SEC, 6, true, a);
        } else {
            *out = tl_value_float((double)iv->time / 1000000.0 +
                                  365.25 * 86400.0 * (double)years +
                                  30.0 * 86400.0 * mon + 86400.0 * iv->day);
        }
        return 0;
    default:
        return not_supported(low, TL_TYPE_INTERVAL, err);
    }
}

int
tl_date_part(const char *field, size_t len, const struct tl_value *v,
             bool numeric, struct tl_arena *a, struct tl_value *out,
             struct tl_error *err)
{
    char low[64];
    enum unit u = find_unit(field, len, low);

    switch (v->type) {
    case TL_TYPE_INTERVAL:
        return interval_part(u, low, &v->u.iv, numeric, a, out, err);
    case TL_TYPE_DATE:
        if (numeric)
            return date_part_of_date(u, low, v->u.i, true, a, out, err);
        /* date_part(text, date) is date_part(text, date::timestamp). */
        if (v->u.i == INT32_MIN || v->u.i == INT32_MAX)
            return timestamp_part(u, low, TL_TYPE_TIMESTAMP,
                                  v->u.i == INT32_MIN ? INT64_MIN : INT64_MAX,
                                  false, a, out, err);
        return timestamp_part(u, low, TL_TYPE_TIMESTAMP, v->u.i * USECS_PER_DAY,
                              false, a, out, err);
    default:
        return timestamp_part(u, low, v->type, v->u.i, numeric, a, out, err);
    }
}

/* date_trunc of an interval (PostgreSQL's interval_trunc): its fields
 * below the unit go to zero, years and months as the interval keeps
 * them (a month never becomes days). */
static int
interval_trunc(enum unit u, const char *low, const struct tl_interval *iv,
               struct tl_value *out, struct tl_error *err)
{
    int64_t year = iv->month / 12, mon = iv->month % 12, day = iv->day;
    int64_t t = iv->time;
    int64_t hour = t / (3600 * USECS_PER_SEC);
    t -= hour * 3600 * USECS_PER_SEC;
    int64_t min = t / (60 * USECS_PER_SEC);
    t -= min * 60 * USECS_PER_SEC;
    int64_t sec = t / USECS_PER_SEC, fsec = t % USECS_PER_SEC;

    switch (u) {
    case U_MILLENNIUM:
        year = (year / 1000) * 1000;
        /* fall through */
    case U_CENTURY:
        year = (year / 100) * 100;
        /* fall through */
    case U_DECADE:
        year = (year / 10) * 10;
        /* fall through */
    case U_YEAR:
        mon = 0;
        /* fall through */
    case U_QUARTER:
        mon = 3 * (mon / 3);
        /* fall through */
    case U_MONTH:
        day = 0;
        /* fall through */
    case U_DAY:
        hour = 0;
        /* fall through */
    case U_HOUR:
        min = 0;
        /* fall through */
    case U_MINUTE:
        sec = 0;
        /* fall through */
    case U_SECOND:
        fsec = 0;
        break;
    case U_MILLISEC:
        fsec = (fsec / 1000) * 1000;
        break;
    case U_MICROSEC:
        break;
    case U_WEEK:
        not_supported(low, TL_TYPE_INTERVAL, err);
        tl_error_detail(err, "Months usually have fractional weeks.");
        return TL_EUNSUPPORTED;
    default:
        return not_supported(low, TL_TYPE_INTERVAL, err);
    }
    struct tl_interval r = {
        .month = (int32_t)(year * 12 + mon),
        .day = (int32_t)day,
        .time = ((hour * 60 + min) * 60 + sec) * USECS_PER_SEC + fsec,
    };
    *out = (struct tl_value){.type = TL_TYPE_INTERVAL, .u.iv = r};
    return 0;
}

int
tl_date_trunc(const char *field, size_t len, const struct tl_value *v,
              uint8_t type, struct tl_value *out, struct tl_error *err)
{
    char low[64];
    enum unit u = find_unit(field, len, low);
    int64_t ts = v->u.i;
    struct tm_parts p;

    if (v->type == TL_TYPE_INTERVAL) {
        if (u == U_NONE || u == U_EPOCH || u == U_DOW || u == U_ISODOW ||
            u == U_DOY || u == U_ISOYEAR || u == U_JULIAN || u == U_TZ ||
            u == U_TZ_HOUR || u == U_TZ_MINUTE)
            return not_recognized(low, TL_TYPE_INTERVAL, err);
        return interval_trunc(u, low, &v->u.iv, out, err);
    }

    if (v->type == TL_TYPE_DATE)
        ts = ts == INT32_MIN   ? INT64_MIN
             : ts == INT32_MAX ? INT64_MAX
                               : ts * USECS_PER_DAY;
    /* date_trunc reads units only (PostgreSQL's DecodeUnits): the
     * special fields are not units to it. */
    if (u == U_NONE || u == U_EPOCH || u == U_DOW || u == U_ISODOW ||
        u == U_DOY || u == U_ISOYEAR || u == U_JULIAN)
        return not_recognized(low, type, err);
    if (ts == INT64_MIN || ts == INT64_MAX) {
        *out = v->type == TL_TYPE_DATE ? tl_value_int(type, ts) : *v;
        out->type = type;
        return 0;
    }
    split_ts(ts, &p);
    switch (u) {
    case U_WEEK: {
        /* The Monday of its ISO week (isoweek2date). */
        int64_t y = isoyear(p.year, p.mon, p.mday);
        int w = isoweek(p.year, p.mon, p.mday);
        int64_t day4 = date2j(y, 1, 4);
        int64_t j = (int64_t)(w - 1) * 7 + (day4 - j2day(day4 - 1));
        p.days = j - J2000;
        p.hour = p.min = p.sec = 0;
        p.fsec = 0;
        *out = tl_value_int(type, p.days * USECS_PER_DAY);
        return 0;
    }
    case U_MILLENNIUM:
        p.year = p.year > 0 ? ((p.year + 999) / 1000) * 1000 - 999
                            : -((999 - (p.year - 1)) / 1000) * 1000 + 1;
        p.mon = 1;
        p.mday = 1;
        p.hour = p.min = p.sec = 0;
        p.fsec = 0;
        break;
    case U_CENTURY:
        p.year = p.year > 0 ? ((p.year + 99) / 100) * 100 - 99
                            : -((99 - (p.year - 1)) / 100) * 100 + 1;
        p.mon = 1;
        p.mday = 1;
        p.hour = p.min = p.sec = 0;
        p.fsec = 0;
        break;
    case U_DECADE:
        p.year =
            p.year > 0 ? (p.year / 10) * 10 : -((8 - (p.year - 1)) / 10) * 10;
        p.mon = 1;
        p.mday = 1;
        p.hour = p.min = p.sec = 0;
        p.fsec = 0;
        break;
    case U_YEAR:
        p.mon = 1;
        /* FALLTHROUGH */
    case U_QUARTER:
        p.mon = (3 * ((p.mon - 1) / 3)) + 1;
        /* FALLTHROUGH */
    case U_MONTH:
        p.mday = 1;
        /* FALLTHROUGH */
    case U_DAY:
        p.hour = 0;
        /* FALLTHROUGH */
    case U_HOUR:
        p.min = 0;
        /* FALLTHROUGH */
    case U_MINUTE:
        p.sec = 0;
        /* FALLTHROUGH */
    case U_SECOND:
        p.fsec = 0;
        break;
    case U_MILLISEC:
        p.fsec = (p.fsec / 1000) * 1000;
        break;
    case U_MICROSEC:
        break;
    default:
        return not_supported(low, type, err);
    }
    int64_t days = tl_date_from_ymd(p.year, p.mon, p.mday);
    *out =
        tl_value_int(type, days * USECS_PER_DAY +
                               ((p.hour * INT64_C(60) + p.min) * 60 + p.sec) *
                                   USECS_PER_SEC +
                               p.fsec);
    return 0;
}
