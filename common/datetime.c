#include "datetime.h"

#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base/sqlstate.h"

/* PostgreSQL's limits (datatype/timestamp.h), as offsets from 2000-01-01:
 * a timestamp lies in [MIN_TIMESTAMP, END_TIMESTAMP), a date below
 * 5874898-01-01, and a date converts to a timestamp only below
 * 294277-01-01 and from 4714-11-24 BC on (Julian day 0). */
#define MIN_TIMESTAMP INT64_C(-211813488000000000)
#define END_TIMESTAMP INT64_C(9223371331200000000)
#define DATE_END INT64_C(2145031949)
#define DATE_MIN INT64_C(-2451545)
#define TS_DATE_END INT64_C(106751983)
#define MAX_TZDISP_HOUR 15
#define EPOCH_DAYS INT64_C(-10957) /* 1970-01-01 */

/* ------------------------------------------------------ calendar math */

/* Howard Hinnant's days_from_civil, shifted from 1970-01-01 to
 * 2000-01-01: exact for every proleptic Gregorian date in int64. */
int64_t
tl_date_from_ymd(int64_t year, int month, int day)
{
    int64_t y = year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (month + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468 - 10957;
}

void
tl_date_to_ymd(int64_t days, int64_t *year, int *month, int *day)
{
    int64_t z = days + 10957 + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);

    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = m;
    *year = yoe + era * 400 + (m <= 2);
}

static bool
is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
tl_days_in_month(int64_t y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

int64_t
tl_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* ------------------------------------------------------------- input */

/* The fields of one parsed input, before range checks. */
struct dt_fields {
    int64_t year;
    int month, day;
    int hour, min, sec;
    int64_t fsec; /* microseconds, 0..1000000 */
    int64_t tz;   /* zone displacement east of UTC, in seconds */
    int tz_hour;  /* as written, for the range check */
    int tz_min;
    int tz_sec;
    bool has_tz;
};

/* A cursor over the trimmed input. */
struct scan {
    const char *s;
    size_t n, i;
};

static bool
at_end(const struct scan *c)
{
    return c->i >= c->n;
}

static char
peek(const struct scan *c)
{
    return at_end(c) ? '\0' : c->s[c->i];
}

static bool
is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static void
skip_spaces(struct scan *c)
{
    while (!at_end(c) && isspace((unsigned char)c->s[c->i]))
        c->i++;
}

/* Read 1 to @max digits; false if there are none or more than @max. */
static bool
read_digits(struct scan *c, int max, int64_t *val, int *n_digits)
{
    int64_t v = 0;
    int n = 0;

    while (!at_end(c) && is_digit(c->s[c->i])) {
        if (n == max)
            return false;
        v = v * 10 + (c->s[c->i] - '0');
        c->i++;
        n++;
    }
    if (n_digits != NULL)
        *n_digits = n;
    *val = v;
    return n > 0;
}

static bool
read_int(struct scan *c, int max, int *val)
{
    int64_t v;
    if (!read_digits(c, max, &v, NULL))
        return false;
    *val = (int)v;
    return true;
}

/* A fraction after the '.' (already consumed) rounded to microseconds as
 * PostgreSQL's ParseFractionalSecond does: rint(strtod(".ddd") * 1e6).
 * No digits at all is a zero fraction, as PostgreSQL 15 accepts "12:00:00.".
 * Digits past the 30th cannot change the rounded result of a double. */
static void
read_fraction(struct scan *c, int64_t *fsec)
{
    char buf[34] = "0.";
    size_t k = 2;

    while (!at_end(c) && is_digit(c->s[c->i])) {
        if (k < sizeof(buf) - 1)
            buf[k++] = c->s[c->i];
        c->i++;
    }
    buf[k] = '\0';
    *fsec = (int64_t)rint(strtod(buf, NULL) * 1000000.0);
}

/* 'HH:MM', 'HH:MM:SS[.f]' or 'MM:SS.f' (PostgreSQL reads two fields with a
 * fraction as minutes and seconds). */
static bool
parse_time(struct scan *c, struct dt_fields *f)
{
    int a, b;

    if (!read_int(c, 2, &a) || peek(c) != ':')
        return false;
    c->i++;
    if (!read_int(c, 2, &b))
        return false;
    if (peek(c) == '.') {
        c->i++;
        f->hour = 0;
        f->min = a;
        f->sec = b;
        read_fraction(c, &f->fsec);
        return true;
    }
    f->hour = a;
    f->min = b;
    if (peek(c) != ':')
        return true;
    c->i++;
    if (!read_int(c, 2, &f->sec))
        return false;
    if (peek(c) == '.') {
        c->i++;
        read_fraction(c, &f->fsec);
    }
    return true;
}

/* A numeric zone after its sign, as PostgreSQL's DecodeTimezone reads it:
 * 'H', 'HH', 'HH:MM', 'HH:MM:SS', or run together 'HMM' / 'HHMM'. */
static bool
parse_tz_number(struct scan *c, int sign, struct dt_fields *f)
{
    int64_t hr;
    int min = 0, sec = 0, n;

    skip_spaces(c);
    if (!read_digits(c, 9, &hr, &n))
        return false;
    if (peek(c) == ':') {
        c->i++;
        if (!read_int(c, 9, &min))
            return false;
        if (peek(c) == ':') {
            c->i++;
            if (!read_int(c, 9, &sec))
                return false;
        }
    } else if (n + 1 > 3) {
        min = (int)(hr % 100);
        hr /= 100;
    }
    f->has_tz = true;
    f->tz_hour = hr > 99 ? 99 : (int)hr;
    f->tz_min = min;
    f->tz_sec = sec;
    f->tz = sign * ((int64_t)f->tz_hour * 3600 + (int64_t)min * 60 + sec);
    return true;
}

/* A zone: a signed displacement or one of the UTC abbreviations. */
static bool
parse_zone(struct scan *c, struct dt_fields *f)
{
    static const char *const utc_names[] = {"z", "zulu", "utc", "gmt", "ut"};
    char ch = peek(c);
    size_t start = c->i;

    if (ch == '+' || ch == '-') {
        c->i++;
        return parse_tz_number(c, ch == '-' ? -1 : 1, f);
    }
    while (!at_end(c) && isalpha((unsigned char)c->s[c->i]))
        c->i++;
    for (size_t k = 0; k < sizeof(utc_names) / sizeof(utc_names[0]); k++) {
        size_t len = strlen(utc_names[k]);
        if (c->i - start == len &&
            strncasecmp(c->s + start, utc_names[k], len) == 0) {
            f->has_tz = true;
            f->tz = 0;
            return true;
        }
    }
    return false;
}

/* Syntax only: fill @f from the trimmed input. */
static bool
parse_fields(struct scan *c, struct dt_fields *f)
{
    int n;

    /* A year of one or two digits would be PostgreSQL's MDY or two-digit
     * year forms, which are not ISO and not supported here. */
    if (!read_digits(c, 9, &f->year, &n) || n < 3 || peek(c) != '-')
        return false;
    c->i++;
    if (!read_int(c, 2, &f->month) || peek(c) != '-')
        return false;
    c->i++;
    if (!read_int(c, 2, &f->day))
        return false;
    if (at_end(c))
        return true;

    char ch = peek(c);
    if (ch == 'T' || ch == 't') {
        c->i++;
        skip_spaces(c);
        if (!parse_time(c, f))
            return false;
    } else if (isspace((unsigned char)ch)) {
        skip_spaces(c);
        if (is_digit(peek(c)) && !parse_time(c, f))
            return false;
    } else if (ch == '-') {
        return false; /* PostgreSQL rejects '2024-01-01-05' too */
    }
    skip_spaces(c);
    if (at_end(c))
        return true;
    if (!parse_zone(c, f))
        return false;
    skip_spaces(c);
    return at_end(c);
}

static int
syntax_error(struct tl_error *err, uint8_t type, const char *s, size_t len)
{
    /* PostgreSQL's timestamp_in names its type "timestamp" here. */
    const char *name =
        type == TL_TYPE_TIMESTAMP ? "timestamp" : tl_type_name(type);
    return tl_error_set(err, TL_ETYPE, TL_SQLSTATE_INVALID_DATETIME_FORMAT,
                        "invalid input syntax for type %s: \"%.*s\"", name,
                        (int)len, s);
}

static int
range_error(struct tl_error *err, const char *sqlstate, const char *what,
            const char *s, size_t len)
{
    return tl_error_set(err, TL_EOVERFLOW, sqlstate, "%s: \"%.*s\"", what,
                        (int)len, s);
}

/* PostgreSQL's time_overflows(): every field in range, and the total not
 * past 24:00:00 (hour 24 and second 60 are allowed otherwise). */
static bool
time_overflows(const struct dt_fields *f)
{
    if (f->hour > 24 || f->min >= 60 || f->sec > 60 || f->fsec < 0 ||
        f->fsec > 1000000)
        return true;
    int64_t total =
        ((int64_t)(f->hour * 60 + f->min) * 60 + f->sec) * 1000000 + f->fsec;
    return total > TL_USECS_PER_DAY;
}

static int64_t
special_value(uint8_t type, int which)
{
    if (type == TL_TYPE_DATE)
        return which < 0   ? TL_DATE_NOBEGIN
               : which > 0 ? TL_DATE_NOEND
                           : EPOCH_DAYS;
    return which < 0   ? TL_TS_NOBEGIN
           : which > 0 ? TL_TS_NOEND
                       : EPOCH_DAYS * TL_USECS_PER_DAY;
}

int
tl_datetime_parse(uint8_t type, const char *s, size_t len, int64_t *out,
                  struct tl_error *err)
{
    static const struct {
        const char *word;
        int which;
    } specials[] = {{"infinity", 1}, {"-infinity", -1}, {"epoch", 0}};
    struct dt_fields f;
    struct scan c = {.s = s, .n = len, .i = 0};

    assert(tl_type_is_datetime(type));
    memset(&f, 0, sizeof(f));
    skip_spaces(&c);
    while (c.n > c.i && isspace((unsigned char)s[c.n - 1]))
        c.n--;
    for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
        size_t wl = strlen(specials[k].word);
        if (c.n - c.i == wl &&
            strncasecmp(s + c.i, specials[k].word, wl) == 0) {
            *out = special_value(type, specials[k].which);
            return 0;
        }
    }
    if (!parse_fields(&c, &f))
        return syntax_error(err, type, s, len);

    /* There is no year zero in AD/BC notation. */
    if (f.year == 0 || f.month < 1 || f.month > 12 || f.day < 1 ||
        f.day > tl_days_in_month(f.year, f.month) || time_overflows(&f))
        return range_error(err, TL_SQLSTATE_DATETIME_FIELD_OVERFLOW,
                           "date/time field value out of range", s, len);
    if (f.has_tz &&
        (f.tz_hour > MAX_TZDISP_HOUR || f.tz_min >= 60 || f.tz_sec >= 60))
        return range_error(err,
                           TL_SQLSTATE_INVALID_TIME_ZONE_DISPLACEMENT_VALUE,
                           "time zone displacement out of range", s, len);

    if (type == TL_TYPE_DATE) {
        int64_t d = f.year > 6000000 ? DATE_END
                                     : tl_date_from_ymd(f.year, f.month, f.day);
        if (d >= DATE_END)
            return range_error(err, TL_SQLSTATE_DATETIME_FIELD_OVERFLOW,
                               "date out of range", s, len);
        *out = d;
        return 0;
    }
    if (f.year > 300000)
        return range_error(err, TL_SQLSTATE_DATETIME_FIELD_OVERFLOW,
                           "timestamp out of range", s, len);
    int64_t t = tl_date_from_ymd(f.year, f.month, f.day) * TL_USECS_PER_DAY +
                ((int64_t)(f.hour * 60 + f.min) * 60 + f.sec) * 1000000 +
                f.fsec;
    /* timestamp without time zone ignores a zone, as PostgreSQL does. */
    if (type == TL_TYPE_TIMESTAMPTZ)
        t -= f.tz * 1000000;
    if (t < MIN_TIMESTAMP || t >= END_TIMESTAMP)
        return range_error(err, TL_SQLSTATE_DATETIME_FIELD_OVERFLOW,
                           "timestamp out of range", s, len);
    *out = t;
    return 0;
}

/* ------------------------------------------------------------ output */

static void
format_date_part(int64_t days, struct tl_buf *out, int64_t *year)
{
    int64_t y;
    int m, d;

    tl_date_to_ymd(days, &y, &m, &d);
    *year = y;
    if (y <= 0)
        y = 1 - y; /* 1 BC is year 0 */
    tl_buf_printf(out, "%04lld-%02d-%02d", (long long)y, m, d);
}

void
tl_datetime_format(uint8_t type, int64_t v, struct tl_buf *out)
{
    int64_t year;

    assert(tl_type_is_datetime(type));
    if (type == TL_TYPE_DATE) {
        if (v <= TL_DATE_NOBEGIN || v >= TL_DATE_NOEND) {
            tl_buf_printf(out, "%s", v < 0 ? "-infinity" : "infinity");
            return;
        }
        format_date_part(v, out, &year);
        if (year <= 0)
            tl_buf_printf(out, " BC");
        return;
    }
    if (v == TL_TS_NOBEGIN || v == TL_TS_NOEND) {
        tl_buf_printf(out, "%s", v < 0 ? "-infinity" : "infinity");
        return;
    }
    /* Not v - days * USECS_PER_DAY: that product leaves int64 for the
     * earliest timestamps. */
    int64_t days = v / TL_USECS_PER_DAY, us = v % TL_USECS_PER_DAY;
    if (us < 0) {
        us += TL_USECS_PER_DAY;
        days--;
    }
    int64_t secs = us / 1000000;
    int frac = (int)(us % 1000000);

    format_date_part(days, out, &year);
    tl_buf_printf(out, " %02d:%02d:%02d", (int)(secs / 3600),
                  (int)(secs / 60 % 60), (int)(secs % 60));
    if (frac != 0) {
        int digits = 6;
        while (frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        tl_buf_printf(out, ".%0*d", digits, frac);
    }
    if (type == TL_TYPE_TIMESTAMPTZ)
        tl_buf_printf(out, "+00");
    if (year <= 0)
        tl_buf_printf(out, " BC");
}

/* ------------------------------------------------ conversion, compare */

int
tl_datetime_convert(uint8_t from, int64_t v, uint8_t to, int64_t *out,
                    struct tl_error *err)
{
    assert(tl_type_is_datetime(from) && tl_type_is_datetime(to));
    if (from == to || (from != TL_TYPE_DATE && to != TL_TYPE_DATE)) {
        *out = v;
        return 0;
    }
    if (from == TL_TYPE_DATE) {
        if (v <= TL_DATE_NOBEGIN || v >= TL_DATE_NOEND) {
            *out = v < 0 ? TL_TS_NOBEGIN : TL_TS_NOEND;
            return 0;
        }
        if (v < DATE_MIN || v >= TS_DATE_END)
            return tl_error_set(err, TL_EOVERFLOW,
                                TL_SQLSTATE_DATETIME_FIELD_OVERFLOW,
                                "date out of range for timestamp");
        *out = v * TL_USECS_PER_DAY;
        return 0;
    }
    if (v == TL_TS_NOBEGIN || v == TL_TS_NOEND) {
        *out = v < 0 ? TL_DATE_NOBEGIN : TL_DATE_NOEND;
        return 0;
    }
    *out = tl_floor_div(v, TL_USECS_PER_DAY);
    return 0;
}

/* @v of @type on one scale for every date/time type: microseconds, with
 * the infinities beyond any finite date or timestamp. */
static __int128
to_usecs(uint8_t type, int64_t v)
{
    const __int128 inf = (__int128)1 << 100;

    if (type == TL_TYPE_DATE) {
        if (v <= TL_DATE_NOBEGIN || v >= TL_DATE_NOEND)
            return v < 0 ? -inf : inf;
        return (__int128)v * TL_USECS_PER_DAY;
    }
    if (v == TL_TS_NOBEGIN || v == TL_TS_NOEND)
        return v < 0 ? -inf : inf;
    return v;
}

int
tl_datetime_cmp(uint8_t ta, int64_t a, uint8_t tb, int64_t b)
{
    if ((ta == TL_TYPE_DATE) == (tb == TL_TYPE_DATE))
        return (a > b) - (a < b);
    __int128 x = to_usecs(ta, a), y = to_usecs(tb, b);
    return (x > y) - (x < y);
}
